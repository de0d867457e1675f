/* mroute: the monitoring branch of a flow's pipeline: stream metadata,
 * GOP statistics, thumbnails and content quality, read from the live
 * stream after the tee, never in the way of the transport.
 *
 *   fanout (tee) ! bin "monitor-N" [ appsink ~> appsrc ! queue (leaky)
 *     ! tsdemux
 *     video: PARSER ! probe (caps, bit rate, I/P/B) ! tee
 *              ! keyframe gate ! queue (leaky) ! DECODER ! videoscale
 *                  ! videoconvert ! jpegenc ! appsink          (thumbnails)
 *              ! queue (leaky) ! DECODER ! videoconvert
 *                  ! blackdetect ! freezedetect ! fakesink  (content quality)
 *     audio: PARSER ! probe (caps, bit rate) ! tee ! queue (leaky) ! DECODER
 *              ! audioconvert ! silencedetect ! fakesink    (content quality)
 *     without decoding paths: ... ! probe ! fakesink ]
 *
 * That bin is built only where something is decoded: with thumbnails and
 * content quality off (the default), the streams and GOP statistics are
 * read in place by a probe on the tee's sink pad (monitor-inplace.c,
 * ts-reader.h: no copy, no demuxer, no parser, no thread), and the bin
 * only comes for a program with a stream the reader does not read.  With
 * thumbnails alone the reader answers for the streams and the bin is fed
 * only around the time a thumbnail is due (thumbnail.c).
 *
 * The bin's entry is the isolation of an output branch
 * (pipeline/isolation.h): the tee's thread hands the data to an appsink
 * and goes on; the appsrc's own thread runs the monitor, whose backlog
 * drops its oldest data when it falls behind.  Nothing in the monitor can
 * return an error to the tee or post one on the pipeline's bus: the bin
 * takes its children's errors, logs them, and builds itself again after a
 * back-off.
 * Thumbnails are made in thumbnail.c, content quality in
 * content-quality.c; mr_monitor_new_standalone() builds the bin alone, for
 * tests (tests/unit/monitor-bin.c).
 *
 * The state read by the getters survives a rebuild of the bin (after a
 * failover, a program change or an error): thumbnails stay, the streams of
 * the old bin are shown until the new one has found its own.
 *
 * Locking: the getters and the streaming threads meet on one mutex per
 * monitor; attach, detach, restart and free run on the main thread. */

#ifndef __MR_RECIPE_MONITOR_H__
#define __MR_RECIPE_MONITOR_H__

#include <gst/gst.h>

#include "core/core.h"
#include "frame-types.h"

G_BEGIN_DECLS

#define MR_MONITOR_PREFIX "monitor-"
/* how long a detector's stretch, or a stream's data, counts as "now" */
#define MR_MONITOR_WINDOW_US (5 * G_USEC_PER_SEC)

typedef struct
{
  gboolean thumbnails;
  gboolean content_quality;
  guint thumbnail_interval_sec;
  /* how long a stretch must last before it counts, in s */
  gdouble black_threshold_sec;
  gdouble frozen_threshold_sec;
  gdouble silent_threshold_sec;
} MrMonitorConfig;

/* the spec's source_monitor_config */
void mr_monitor_config_from_spec (MrMonitorConfig * config,
    const MrFlowSpec * spec);

typedef struct _MrMonitor MrMonitor;

/* Adds the monitoring bin to @pipeline and links it to a new pad of @tee,
 * in the pipeline's current state. */
MrMonitor *mr_monitor_attach (GstElement * pipeline, GstElement * tee,
    const MrMonitorConfig * config);
/* Unlinks the bin when the tee is between two pushes and removes it on the
 * main loop; @monitor is released.  For a new configuration of a running
 * flow (the pipeline keeps running): detach, then attach a new monitor. */
void mr_monitor_detach (MrMonitor * monitor);
/* A monitor of its own, for tests and tools: *@bin (a new reference) is
 * its monitoring bin, attached to nothing, and takes MPEG-TS on its "sink"
 * pad; the getters answer from what it reads.  Nothing builds the bin
 * again (an error or a program change leaves it dropping its input).  NULL,
 * with @error set, when a GStreamer element it needs is missing.  Set the
 * bin to NULL before mr_monitor_free (). */
MrMonitor *mr_monitor_new_standalone (const gchar * name,
    const MrMonitorConfig * config, GstElement ** bin, GError ** error);
/* Releases @monitor; its bin goes away with the pipeline, which is in
 * state NULL already. */
void mr_monitor_free (MrMonitor * monitor);
/* The stream after the tee changed (a failover to @source): builds the
 * bin again, so that the streams, GOP statistics and content analysis are
 * the new source's.  The last thumbnail stays until the next one. */
void mr_monitor_restart (MrMonitor * monitor, const gchar * source);

typedef enum
{
  MR_MONITOR_STREAM_VIDEO,
  MR_MONITOR_STREAM_AUDIO,
  MR_MONITOR_STREAM_SUBTITLE,
  MR_MONITOR_STREAM_DATA,
} MrMonitorStreamType;

const gchar *mr_monitor_stream_type_to_string (MrMonitorStreamType type);

/* One elementary stream of the program, as its parser sees it. */
typedef struct
{
  guint index;                  /* in the order of the PMT */
  MrMonitorStreamType type;
  gchar *codec;                 /* ffprobe's names: h264, hevc, aac, ... */
  gchar *profile;               /* "High", "Main 10", NULL if unknown */
  gint width, height;           /* 0 if unknown */
  gint fps_n, fps_d;            /* 0/0 if unknown */
  gint channels, sample_rate;   /* 0 if unknown */
  guint64 bit_rate;             /* bits/s, 0 if unknown yet */
  gboolean has_gop;             /* video of a codec frame-types.h reads */
  MrGopStats gop;
} MrMonitorStream;

typedef struct
{
  guint program_id;             /* program_number of the PAT */
  gchar *program_name;          /* service name of the SDT, or NULL */
} MrMonitorProgram;

void mr_monitor_stream_free (MrMonitorStream * stream);
void mr_monitor_program_free (MrMonitorProgram * program);

/* Copies of what is known now (MrMonitorProgram* and MrMonitorStream*);
 * FALSE, with empty arrays, while no stream was found yet. */
gboolean mr_monitor_get_streams (MrMonitor * monitor, GPtrArray ** programs,
    GPtrArray ** streams);

/* The source the shown streams come from, as the last restart named it;
 * NULL for the streams of the bin built at start. */
gchar *mr_monitor_get_source (MrMonitor * monitor);

/* The newest thumbnail (JPEG) and the wall time it was made at, in µs; NULL
 * while there is none. */
GBytes *mr_monitor_get_thumbnail (MrMonitor * monitor, gint64 * wall_time);
/* Why no thumbnail can come (no decoder for the codec ...), or NULL */
gchar *mr_monitor_thumbnail_note (MrMonitor * monitor);

typedef struct
{
  gboolean black_frame_detected;
  gboolean frozen_frame_detected;
  gboolean silent_audio_detected;
  gboolean video_stream_present;
  gboolean audio_stream_present;
  gint64 last_check_time;       /* wall µs of the last analysed frame, 0 =
                                 * none yet */
} MrContentQuality;

/* The content alarms: stretches of black or frozen picture or of silence
 * that lasted their threshold, as the analysers report them (FFmpeg's
 * blackdetect, freezedetect, silencedetect). */
typedef enum
{
  MR_CONTENT_BLACK,
  MR_CONTENT_FROZEN,
  MR_CONTENT_SILENT,
  MR_CONTENT_N_KINDS,
} MrContentKind;

/* "black", "frozen", "silent" */
const gchar *mr_content_kind_to_string (MrContentKind kind);

/* One kind's alarm since the monitor was made.  A stretch that is still
 * on when the monitor is built again (a failover, a new configuration of
 * the same monitor) or detached ends there: its counters never lose an
 * end. */
typedef struct
{
  guint64 started;              /* stretches that began */
  guint64 ended;                /* stretches that ended */
  gboolean inside;              /* one is on now */
  gint64 since;                 /* wall µs when the current one began */
  gint64 last_duration;         /* µs of the last that ended */
} MrContentAlarm;

/* Copies of the alarms of each kind, indexed by MrContentKind */
void mr_monitor_get_alarms (MrMonitor * monitor,
    MrContentAlarm alarms[MR_CONTENT_N_KINDS]);

/* FALSE, with @why set, when content analysis cannot run (an analyzer
 * element is missing). */
gboolean mr_monitor_get_content_quality (MrMonitor * monitor,
    MrContentQuality * cq, gchar ** why);

G_END_DECLS

#endif /* __MR_RECIPE_MONITOR_H__ */
