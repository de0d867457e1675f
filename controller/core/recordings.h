/* mroute: a flow's recordings on disk, read without GStreamer.
 *
 * A recording is a folder of MPEG-TS segments as tssegmentsink wrote them
 * (plugins/gsttssegmentsink.c): each starts at a key frame with its PAT
 * and PMT, and is named by the UTC time of its start,
 * 20261202T130501.123Z.ts.  Here: the segments and their durations (from
 * the file's first and last PCR), the time ranges they cover (adjacent
 * segments merged, a gap where the flow was down), a reader that streams
 * a time range as one TS cut at key frames, and retention.  Plain C with
 * files; no HTTP, no GStreamer. */

#ifndef __MR_RECORDINGS_H__
#define __MR_RECORDINGS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *path;
  gint64 start;                 /* µs since the epoch, from the name */
  gint64 duration;              /* µs, from the PCRs; 0 if none */
} MrRecordingSegment;

typedef struct
{
  gint64 start;                 /* µs since the epoch */
  gint64 duration;              /* µs */
} MrRecordingRange;

/* Two segments closer than this are one range */
#define MR_RECORDING_GAP_TOLERANCE_US (1 * G_USEC_PER_SEC)

/* The start of a segment named @name, or FALSE for another file */
gboolean mr_recording_name_parse (const gchar * name, gint64 * start);

/* The segments in @dir, oldest first (MrRecordingSegment *, freed with
 * the array); empty when @dir does not exist */
GPtrArray *mr_recordings_scan (const gchar * dir);

/* The time ranges @segments cover (MrRecordingRange), oldest first */
GArray *mr_recordings_ranges (GPtrArray * segments);

/* Deletes the segments of @dir that started before @before (µs since the
 * epoch); returns how many */
guint mr_recordings_delete_before (const gchar * dir, gint64 before);

/* Streams [@start, @start + @duration) of @segments as one TS: from the
 * key frame at or before @start (its segment's PAT and PMT first) up to
 * the first key frame at least @duration after that one, or the end of
 * the range it began in.  NULL with @error (G_FILE_ERROR_NOENT) when no
 * segment holds @start. */
typedef struct _MrRecordingReader MrRecordingReader;

MrRecordingReader *mr_recording_reader_new (GPtrArray * segments,
    gint64 start, gint64 duration, GError ** error);
/* Up to @size bytes (whole packets) into @buf; 0 at the end, -1 with
 * @error when a file cannot be read */
gssize mr_recording_reader_read (MrRecordingReader * reader, guint8 * buf,
    gsize size, GError ** error);
/* µs since the epoch of the first packet it gives */
gint64 mr_recording_reader_start (MrRecordingReader * reader);
void mr_recording_reader_free (MrRecordingReader * reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrRecordingReader, mr_recording_reader_free);

G_END_DECLS

#endif /* __MR_RECORDINGS_H__ */
