/* mroute: what the monitor needs to know about a flow's MPEG-TS, read in
 * place on the packets the flow already carries (no copy, no demuxer, no
 * parser element, no thread of its own): the programs of the PAT, the
 * elementary streams of the first program's PMT, and for each stream the
 * parameters and GOP statistics the parsers used to give:
 *
 *  - H.264 and HEVC: size, frame rate and profile from the SPS, parsed
 *    again only when its bytes change; the type of every picture (I, P, B,
 *    key frame) from the head of its PES, up to the first slice header
 *    (frame-types.h), never the rest of the picture;
 *  - AAC (ADTS) and MPEG audio: channels, sample rate and profile from the
 *    frame header at the start of each PES;
 *  - every stream: its bit rate (elementary stream bytes over 2 s).
 *
 * A program with a stream this reader does not read (MPEG-2 video, AC-3,
 * private data ...) is marked unsupported: the monitor then builds the
 * demuxer and parsers instead (monitor.c).  The SDT is not read here
 * (sdt.c).  Plain C on GLib and codecparsers, one thread at a time,
 * unit-tested (tests/unit/ts-reader.c) and fuzzed
 * (tests/fuzz/ts-reader-fuzz.c). */

#ifndef __MR_TS_READER_H__
#define __MR_TS_READER_H__

#include <glib.h>

#include "frame-types.h"

G_BEGIN_DECLS

#define MR_TS_PACKET_SIZE 188
#define MR_TS_BITRATE_WINDOW_US (2 * G_USEC_PER_SEC)

/* one elementary stream of the program */
typedef struct
{
  guint16 pid;
  guint8 stream_type;           /* of the PMT */
  gboolean video;
  MrVideoCodec codec;           /* video only */
  const gchar *media_type;      /* GStreamer's: "video/x-h264" ... */
  const gchar *codec_name;      /* ffprobe's: "h264", "aac", "mp2" ... */
  const gchar *profile;         /* GStreamer's caps spelling, or NULL */
  gint width, height;           /* 0 if unknown */
  gint fps_n, fps_d;            /* 0/0 if unknown */
  gint channels, sample_rate;   /* 0 if unknown */
  gboolean known;               /* the parameters were read once */
  guint64 bit_rate;             /* bits/s, 0 before a window is over (a
                                 * window closes at a PES start) */
  gint64 last_data;             /* monotonic µs of the last PES start */
  MrGopStats gop;               /* video of a codec frame-types.h reads */

  /*< private >*/
  guint64 window_bytes;
  gint64 window_start;
  gboolean in_pes;              /* a PES started and its head is read */
  gboolean head_done;           /* nothing more needed from this PES */
  gint pes_left;                /* payload bytes to come, -1: unbounded */
  guint8 *head;                 /* the start of the PES payload */
  guint head_len;
  guint scan_from;              /* where the start code search goes on */
  gint vcl_at;                  /* offset of the first slice's NAL, -1 */
  gboolean sps_in_head;         /* an SPS NAL is before the slice */
  guint8 *sps;                  /* the last SPS read (NAL with header) */
  guint sps_len;
  guint32 audio_header;         /* the last audio header read */
  MrFrameTypeParser frames;
  gpointer nal_parser;          /* GstH264NalParser / GstH265Parser */
} MrTsStream;

typedef struct _MrTsReader MrTsReader;

/* Called for every picture counted in the GOP statistics, in decode
 * order (for tests and tools) */
typedef void (*MrTsPictureFunc) (MrTsReader * reader, MrTsStream * stream,
    MrFrameType type, gboolean keyframe, gpointer user_data);

/* Called for every packet of @pid (e.g. the SDT's, 0x11, which the
 * reader does not read itself) */
typedef void (*MrTsPacketFunc) (const guint8 * packet, gpointer user_data);

struct _MrTsReader
{
  /* the programs of the PAT (program_number, 0 left out) */
  GArray *programs;             /* guint */
  guint program_number;         /* the one read: the first of the PAT */
  /* MrTsStream*, in the order of the PMT; empty before the PMT */
  GPtrArray *streams;
  /* the PMT has a stream of a type this reader does not read */
  gboolean unsupported;
  /* bumped when the streams change (a new PMT) */
  guint generation;
  /* NULL, or called for every picture */
  MrTsPictureFunc picture_func;
  gpointer picture_data;
  /* NULL, or called for every packet of other_pid */
  MrTsPacketFunc other_func;
  gpointer other_data;
  guint other_pid;

  /*< private >*/
  gint pmt_pid;                 /* -1 before the PAT */
  gint last_pid;                /* the PID of the last ES packet, -1 */
  MrTsStream *last_stream;      /* its stream */
  gpointer pat, pmt;            /* section assemblers */
  GByteArray *pat_last, *pmt_last;      /* the last sections read */
};

void mr_ts_reader_init (MrTsReader * reader);
void mr_ts_reader_clear (MrTsReader * reader);

/* One TS packet (MR_TS_PACKET_SIZE bytes, sync byte first; anything else is
 * skipped) at monotonic time @now (µs) */
void mr_ts_reader_packet (MrTsReader * reader, const guint8 * packet,
    gint64 now);

/* The bytes of a buffer: every whole packet in it */
void mr_ts_reader_data (MrTsReader * reader, const guint8 * data, gsize size,
    gint64 now);

G_END_DECLS

#endif /* __MR_TS_READER_H__ */
