/* mroute: the type of a coded video frame (I, P or B) read from its
 * bitstream, without decoding: for the GOP statistics of a source's
 * metadata.  Plain C, unit-tested. */

#ifndef __MR_FRAME_TYPES_H__
#define __MR_FRAME_TYPES_H__

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MR_VIDEO_CODEC_UNKNOWN = 0,
  MR_VIDEO_CODEC_H264,          /* byte-stream, access units */
  MR_VIDEO_CODEC_HEVC,          /* byte-stream, access units */
  MR_VIDEO_CODEC_MPEG2,         /* elementary stream, one picture */
  MR_VIDEO_CODEC_AV1,           /* OBUs (low overhead format), one TU */
} MrVideoCodec;

typedef enum
{
  MR_FRAME_UNKNOWN = 0,
  MR_FRAME_I,
  MR_FRAME_P,
  MR_FRAME_B,
} MrFrameType;

/* The type of the picture in @data (one access unit / temporal unit as the
 * GStreamer parsers output them with alignment=au); for a picture of
 * several slices, the "lowest" of them (a picture with an I and a P slice
 * is P; with a B slice, B).  @keyframe, if not NULL, is set for an IDR /
 * IRAP picture, an MPEG-2 I picture after a sequence header, an AV1 key
 * frame.  MR_FRAME_UNKNOWN when the bitstream says nothing readable. */
MrFrameType mr_frame_type_parse (MrVideoCodec codec, const guint8 * data,
    gsize size, gboolean * keyframe);

/* GOP statistics of one stream: feed every picture in decode order. */
typedef struct
{
  guint64 frames[4];            /* by MrFrameType */
  guint64 keyframes;
  guint gop_length;             /* pictures from a keyframe to the next,
                                 * the last complete GOP; 0 before one */
  guint current;                /* pictures since the last keyframe */
  gboolean seen_keyframe;
} MrGopStats;

void mr_gop_stats_add (MrGopStats * stats, MrFrameType type,
    gboolean keyframe);

const gchar *mr_frame_type_to_string (MrFrameType type);

/* A parser that remembers, across the access units of one stream, what the
 * pictures depend on but do not repeat: the HEVC VPS, SPS and PPS (parsed
 * and kept by codecparsers' GstH265Parser, made when the first of them
 * comes: the slice segment address length, num_extra_slice_header_bits and
 * dependent_slice_segments_enabled_flag, so that every slice, not only the
 * first of a picture, is read and so that a PPS with extra slice header
 * bits seen once still applies to the pictures after it) and the AV1
 * sequence header's reduced_still_picture_header.  One per stream, set up
 * with mr_frame_type_parser_init () and released with
 * mr_frame_type_parser_clear (); used by one thread at a time.
 * mr_frame_type_parse () is mr_frame_type_parser_parse () with a fresh
 * parser: it uses only what is in @data. */
struct _GstH265Parser;

typedef struct
{
  /*< private >*/
  struct _GstH265Parser *hevc;  /* NULL until a parameter set comes */
  gint av1_reduced_still_picture_header;        /* -1: no sequence header yet */
} MrFrameTypeParser;

void mr_frame_type_parser_init (MrFrameTypeParser * parser);
/* Frees what the parser holds and sets it up again, for another stream */
void mr_frame_type_parser_clear (MrFrameTypeParser * parser);

MrFrameType mr_frame_type_parser_parse (MrFrameTypeParser * parser,
    MrVideoCodec codec, const guint8 * data, gsize size,
    gboolean * keyframe);

G_END_DECLS

#endif /* __MR_FRAME_TYPES_H__ */
