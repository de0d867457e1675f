/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A libFuzzer target for the frame type reader (controller/frame-types.c:
 * codecparsers' NAL unit, parameter set and MPEG-2 picture header parsers,
 * our slice header prefixes and AV1 OBUs) and the GOP statistics.
 *
 * Input: one byte that picks the codec, one byte that picks where units
 * are split, then access units, each a 2-byte big-endian length (cut to
 * what is left) and its bytes, in decode order, read as one stream.
 * Beyond memory errors and undefined behaviour it aborts, with a line
 * saying which, when:
 *
 *  - a type is out of range, or a keyframe is MR_FRAME_UNKNOWN;
 *  - mr_frame_type_parse () (only what is in the unit) does not give what
 *    a fresh MrFrameTypeParser gives, or gives something else the second
 *    time;
 *  - the type of a picture depends on how it is split across calls where
 *    the API says it is the lowest of its slices / frames: a unit cut at
 *    a start code where codecparsers' walk of the whole unit stands
 *    (H.264, HEVC) or at an OBU boundary (AV1) and
 *    read in two calls on one parser gives the lowest of the two types
 *    and a keyframe if either is, the same as the whole unit read by a
 *    second parser; both parsers then read every later unit alike (what
 *    the first part taught the parser is not lost).  MPEG-2 says a
 *    keyframe only after a sequence or GOP header in the same data: there
 *    the two parts give the same lowest type, and a keyframe in a part is
 *    one in the whole;
 *  - a GOP counter goes down, or the counters stop adding up: the frames
 *    by type sum to the pictures added, keyframes are the keyframes
 *    added, @current is 1 at a keyframe, one more after, 0 before the
 *    first, and @gop_length is the @current a keyframe ended. */

#include "monitor/frame-types.h"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API    /* codecparsers' */
#endif
#include <gst/codecparsers/gsth264parser.h>
#include <gst/codecparsers/gsth265parser.h>
#include <gst/codecparsers/gstmpegvideoparser.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define HEADER 2
#define MAX_UNITS 64

#define CHECK(cond, ...) G_STMT_START {                                 \
    if (G_UNLIKELY (!(cond))) {                                          \
      fprintf (stderr, "frame-types-fuzz: invariant broken: " __VA_ARGS__); \
      fprintf (stderr, "\n  (%s, line %d)\n", #cond, __LINE__);          \
      abort ();                                                          \
    }                                                                    \
  } G_STMT_END

static const MrVideoCodec codecs[8] = {
  MR_VIDEO_CODEC_H264, MR_VIDEO_CODEC_HEVC, MR_VIDEO_CODEC_MPEG2,
  MR_VIDEO_CODEC_AV1, MR_VIDEO_CODEC_H264, MR_VIDEO_CODEC_HEVC,
  MR_VIDEO_CODEC_AV1, MR_VIDEO_CODEC_UNKNOWN,
};

static gboolean trace;

/* A copy of exactly @size bytes, so that ASan sees a read past them */
static MrFrameType
parse_copy (MrFrameTypeParser * parser, MrVideoCodec codec,
    const guint8 * data, gsize size, gboolean * keyframe)
{
  g_autofree guint8 *copy = size ? g_memdup2 (data, size) : NULL;
  MrFrameType type;

  *keyframe = 2;                /* neither: it must be set */
  if (parser)
    type = mr_frame_type_parser_parse (parser, codec, copy, size, keyframe);
  else
    type = mr_frame_type_parse (codec, copy, size, keyframe);
  CHECK (type >= MR_FRAME_UNKNOWN && type <= MR_FRAME_B, "type %d", type);
  CHECK (*keyframe == TRUE || *keyframe == FALSE, "keyframe not set");
  CHECK (!*keyframe || type != MR_FRAME_UNKNOWN, "an unknown keyframe");
  return type;
}

/* Where @unit can be cut so that both parts are units of their own: the
 * start of a start code with a NAL header after it (H.264, HEVC; a picture
 * header or other packet for MPEG-2), or an OBU boundary (AV1). */
static GArray *
split_points (MrVideoCodec codec, const guint8 * unit, gsize size)
{
  GArray *points = g_array_new (FALSE, FALSE, sizeof (gsize));

  if (codec == MR_VIDEO_CODEC_AV1) {
    gsize pos = 0;

    /* the reader's own walk: header, extension, leb128 size */
    while (pos < size) {
      guint8 header = unit[pos++];
      guint64 obu_size = 0;
      guint i;

      if (header & 0x80)
        break;
      if (header & 0x04)
        pos++;
      if (!(header & 0x02) || pos >= size)
        break;
      for (i = 0; i < 8 && pos < size; i++) {
        obu_size |= (guint64) (unit[pos] & 0x7f) << (i * 7);
        if (!(unit[pos++] & 0x80))
          break;
      }
      if (i == 8 || obu_size > G_MAXUINT32 || obu_size >= size - pos)
        break;
      pos += obu_size;
      g_array_append_val (points, pos);
    }
  } else if (codec == MR_VIDEO_CODEC_H264 || codec == MR_VIDEO_CODEC_HEVC) {
    /* the start codes codecparsers' walk stands on, as the reader walks
     * (its scan goes on from a NAL header, or after the whole end of
     * sequence / stream NAL unit, so 00 00 01 overlapping one is not
     * always a start code), with 3 start code bytes and 2 more (what
     * h265parser wants to see of the next NAL unit before it ends one) */
    static GstH264NalParser h264;
    static GstH265Parser h265;
    guint offset = 0;

    while (offset < size) {
      guint nal_offset, nal_size;
      gint r;

      if (codec == MR_VIDEO_CODEC_H264) {
        GstH264NalUnit nalu;

        r = gst_h264_parser_identify_nalu (&h264, unit, offset, size, &nalu);
        if (r != GST_H264_PARSER_OK && r != GST_H264_PARSER_BROKEN_DATA)
          break;
        nal_offset = nalu.offset;
        nal_size = nalu.size;
      } else {
        GstH265NalUnit nalu;

        r = gst_h265_parser_identify_nalu (&h265, unit, offset, size, &nalu);
        if (r != GST_H265_PARSER_OK && r != GST_H265_PARSER_BROKEN_DATA)
          break;
        nal_offset = nalu.offset;
        nal_size = nalu.size;
      }
      if (nal_offset > 3 && nal_offset + 2 <= size) {
        gsize point = nal_offset - 3;
        g_array_append_val (points, point);
      }
      offset = nal_offset + nal_size;
    }
  } else if (codec == MR_VIDEO_CODEC_MPEG2) {
    /* likewise: its scan goes on after a start code's type byte */
    GstMpegVideoPacket packet;
    guint offset = 0;

    while (gst_mpeg_video_parse (&packet, unit, size, offset)) {
      if (packet.offset > 4) {
        gsize point = packet.offset - 4;
        g_array_append_val (points, point);
      }
      if (packet.size < 0)
        break;
      offset = packet.offset + packet.size;
    }
  }
  return points;
}

static void
check_gop (const MrGopStats * before, const MrGopStats * after,
    MrFrameType type, gboolean keyframe, guint64 added)
{
  guint64 sum = 0;

  for (guint i = 0; i < 4; i++) {
    CHECK (after->frames[i] >= before->frames[i], "frames[%u] went down", i);
    CHECK (after->frames[i] == before->frames[i] + (i == (guint) type),
        "frames[%u]: %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT, i,
        after->frames[i], before->frames[i]);
    sum += after->frames[i];
  }
  CHECK (sum == added, "%" G_GUINT64_FORMAT " frames counted, %"
      G_GUINT64_FORMAT " added", sum, added);
  CHECK (after->keyframes == before->keyframes + (keyframe ? 1 : 0),
      "keyframes %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT,
      after->keyframes, before->keyframes);
  CHECK (after->seen_keyframe == (before->seen_keyframe || keyframe),
      "seen_keyframe");
  if (keyframe) {
    CHECK (after->current == 1, "current %u at a keyframe", after->current);
    CHECK (after->gop_length == (before->seen_keyframe ? before->current :
            before->gop_length), "gop_length %u, the GOP was %u",
        after->gop_length, before->current);
  } else {
    CHECK (after->current == (before->seen_keyframe ? before->current + 1 :
            0), "current %u after %u", after->current, before->current);
    CHECK (after->gop_length == before->gop_length, "gop_length moved");
  }
  CHECK (after->gop_length <= added && after->current <= added,
      "a GOP longer than the stream");
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  MrFrameTypeParser whole, split;
  MrGopStats stats = { 0 };
  MrVideoCodec codec;
  guint8 choice;
  gsize pos = HEADER;
  guint64 added = 0;

  if (size < HEADER)
    return 0;
  codec = codecs[data[0] & 7];
  if (data[0] & 0x80)
    codec = (MrVideoCodec) (77 + (data[0] & 7));
  choice = data[1];

  mr_frame_type_parser_init (&whole);
  mr_frame_type_parser_init (&split);

  for (guint n = 0; n < MAX_UNITS && pos + 2 <= size; n++) {
    gsize len = MIN ((gsize) ((data[pos] << 8) | data[pos + 1]),
        size - pos - 2);
    const guint8 *unit = data + pos + 2;
    g_autoptr (GArray) points = split_points (codec, unit, len);
    MrFrameType type, alone, alone_again, fresh, a, b;
    gboolean key, key_alone, key_again, key_fresh, key_a, key_b;
    MrFrameTypeParser parser;
    MrGopStats before = stats;
    gsize cut;

    pos += 2 + len;

    /* on its own: stateless, a fresh parser, again */
    alone = parse_copy (NULL, codec, unit, len, &key_alone);
    mr_frame_type_parser_init (&parser);
    fresh = parse_copy (&parser, codec, unit, len, &key_fresh);
    mr_frame_type_parser_clear (&parser);
    alone_again = parse_copy (NULL, codec, unit, len, &key_again);
    CHECK (alone == fresh && key_alone == key_fresh, "unit %u: stateless "
        "%d/%d, a fresh parser %d/%d", n, alone, key_alone, fresh,
        key_fresh);
    CHECK (alone == alone_again && key_alone == key_again, "unit %u: "
        "stateless %d/%d, then %d/%d", n, alone, key_alone, alone_again,
        key_again);

    /* in the stream, whole and cut in two */
    type = parse_copy (&whole, codec, unit, len, &key);
    cut = points->len ? g_array_index (points, gsize,
        (choice + n) % points->len) : len;
    a = parse_copy (&split, codec, unit, cut, &key_a);
    b = parse_copy (&split, codec, unit + cut, len - cut, &key_b);
    if (trace)
      fprintf (stderr, "unit %u, %" G_GSIZE_FORMAT " bytes: %s%s; cut at %"
          G_GSIZE_FORMAT ": %s%s + %s%s\n", n, len,
          mr_frame_type_to_string (type), key ? " key" : "", cut,
          mr_frame_type_to_string (a), key_a ? " key" : "",
          mr_frame_type_to_string (b), key_b ? " key" : "");
    CHECK (MAX (a, b) == type, "unit %u cut at %" G_GSIZE_FORMAT ": %d and "
        "%d, whole %d", n, cut, a, b, type);
    if (codec == MR_VIDEO_CODEC_MPEG2)
      CHECK (!(key_a || key_b) || key, "unit %u cut at %" G_GSIZE_FORMAT
          ": a keyframe in a part, not in the whole", n, cut);
    else
      CHECK ((key_a || key_b) == key, "unit %u cut at %" G_GSIZE_FORMAT
          ": keyframe %d + %d, whole %d", n, cut, key_a, key_b, key);

    added++;
    mr_gop_stats_add (&stats, type, key);
    check_gop (&before, &stats, type, key, added);
  }

  mr_frame_type_parser_clear (&whole);
  mr_frame_type_parser_clear (&split);
  return 0;
}

__attribute__((constructor))
     static void frame_types_fuzz_init (void)
{
  trace = g_getenv ("FRAME_TYPES_FUZZ_TRACE") != NULL;
}

#ifdef MR_FUZZ_STANDALONE
#include "standalone.h"

#include "../unit/frame-types-data.h"

/* Streams cut from the real samples of tests/unit/frame-types.c, read as
 * their own codec most of the time, with bits flipped, bytes changed, a
 * start code or OBU header put in, units cut short or joined now and
 * then. */

static guint
codec_byte (MrVideoCodec codec)
{
  switch (codec) {
    case MR_VIDEO_CODEC_H264:
      return 0;
    case MR_VIDEO_CODEC_HEVC:
      return 1;
    case MR_VIDEO_CODEC_MPEG2:
      return 2;
    case MR_VIDEO_CODEC_AV1:
      return 3;
    default:
      return 7;
  }
}

static void
mutate (guint8 * unit, gsize len)
{
  guint changes = mr_fuzz_random () % 4;

  for (guint i = 0; i < changes && len > 0; i++) {
    /* mostly in the headers, at the front */
    gsize at = mr_fuzz_random () % MIN (len, mr_fuzz_random () % 2 ? 48 :
        len);

    switch (mr_fuzz_random () % 4) {
      case 0:
        unit[at] ^= 1 << (mr_fuzz_random () % 8);
        break;
      case 1:
        unit[at] = mr_fuzz_random ();
        break;
      case 2:                  /* a start code */
        if (at + 4 <= len) {
          unit[at] = unit[at + 1] = 0;
          unit[at + 2] = 1;
          unit[at + 3] = mr_fuzz_random ();
        }
        break;
      default:                 /* an OBU header with a size */
        unit[at] = ((mr_fuzz_random () % 16) << 3) | 0x02;
        break;
    }
  }
}

static gsize
random_stream (guint8 * buf, gsize max_len)
{
  const FtSample *sample =
      &ft_samples[mr_fuzz_random () % G_N_ELEMENTS (ft_samples)];
  guint first = mr_fuzz_random () % sample->n_units;
  guint count = 1 + mr_fuzz_random () % 8;
  gsize offset = 0, len = HEADER;

  buf[0] = mr_fuzz_random () % 8 ? codec_byte (sample->codec) :
      mr_fuzz_random ();
  buf[1] = mr_fuzz_random ();
  for (guint i = 0; i < first; i++)
    offset += sample->sizes[i];
  for (guint i = first; i < MIN (first + count, sample->n_units); i++) {
    gsize unit = sample->sizes[i];
    gsize take = mr_fuzz_random () % 8 ? unit : mr_fuzz_random () % (unit + 1);

    if (len + 2 + take > max_len)
      break;
    buf[len] = take >> 8;
    buf[len + 1] = take & 0xff;
    memcpy (buf + len + 2, sample->data + offset, take);
    if (mr_fuzz_random () % 2)
      mutate (buf + len + 2, take);
    len += 2 + take;
    offset += unit;
  }
  return len;
}

const MrFuzzStandalone mr_fuzz_standalone = {
  .name = "frame-types",
  .runs_env = "FRAME_TYPES_FUZZ_RUNS",
  .runs = 20000,
  .runs_valgrind = 4000,
  .max_len = 16384,
  .random_input = random_stream,
};
#endif /* MR_FUZZ_STANDALONE */
