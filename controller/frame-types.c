/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The type of a coded picture read from its headers, without decoding.
 *
 * Every read goes through a bounded reader: whatever the input, nothing is
 * read past @size, nothing is allocated, and what cannot be read is
 * skipped (a slice whose header is cut short, an OBU whose size runs past
 * the end...).  When nothing readable is left, MR_FRAME_UNKNOWN.
 *
 * A picture of several slices (or a temporal unit of several frames) is
 * the "lowest" of them: B over P over I, which is the largest
 * MrFrameType.
 *
 * H.264 (Annex B byte stream, one access unit): coded slices (NAL 1 and 5)
 * give first_mb_in_slice ue(v) and slice_type ue(v), modulo 5: P, B, I, SP
 * (counted as P), SI (counted as I).  Keyframe: an IDR slice (NAL 5).  NAL
 * 20 (SVC/MVC extension slices) belongs to other layers / views: ignored.
 *
 * HEVC (Annex B byte stream, one access unit): base layer
 * (nuh_layer_id 0) slice segments of the defined VCL types (0-9, 16-21;
 * the reserved ones, 10-15 and 22-31, are ignored as the spec tells
 * decoders to): first_slice_segment_in_pic_flag, no_output_of_prior_pics_flag
 * for IRAP, slice_pic_parameter_set_id, then for the slice segments after
 * the first of a picture dependent_slice_segment_flag and
 * slice_segment_address (whose length comes from the SPS), then
 * num_extra_slice_header_bits bits (from the PPS), slice_type: 0 B, 1 P,
 * 2 I.  Keyframe: an IRAP picture (16-23: BLA, IDR, CRA).  SPS and PPS
 * NALs in the access unit are read as they come.  Without them (they are
 * usually only with the IRAP pictures), unless a MrFrameTypeParser kept
 * them from an earlier access unit:
 *  - the first slice segment of the picture is read assuming
 *    num_extra_slice_header_bits = 0 (what every encoder we know writes);
 *  - the other slice segments are skipped (their address has a length we
 *    do not know), so the picture is the type of its first slice segment.
 * Dependent slice segments have their slice's type: skipped.
 *
 * MPEG-2 (and MPEG-1) video (one picture as mpegvideoparse outputs it,
 * sequence and GOP headers included): picture_start_code 0x00000100, then
 * temporal_reference (10 bits) and picture_coding_type (3 bits): 1 I,
 * 2 P, 3 B, 4 D (MPEG-1 DC pictures, intra: I).  Keyframe: an I picture
 * after a sequence header (0x000001B3) or a GOP header (0x000001B8) in the
 * same data.  Two field pictures in the same data are the lowest of the
 * two (an I field and a P field: P), a keyframe if the I field is.
 *
 * AV1 (low overhead bitstream format, one temporal unit): every OBU_FRAME
 * (6) and OBU_FRAME_HEADER (3) gives, from the uncompressed header,
 * show_existing_frame and frame_type: KEY_FRAME I (and keyframe),
 * INTRA_ONLY I, INTER and SWITCH P.  AV1 has no B frames in the MPEG
 * sense: a frame predicted from both directions (from a hidden
 * "alt-ref" frame ahead in display order) is an INTER frame, P; that is
 * what ffprobe says too.  A frame shown again with show_existing_frame
 * (the hidden alt-ref frame, when its display time comes) is P: its type
 * was in an earlier temporal unit (a key frame shown that way, libaom's
 * forward key frames, is P and not a keyframe here; its temporal unit
 * with the hidden key frame is the keyframe).  Those header bits need
 * reduced_still_picture_header from the sequence header OBU (1): read
 * when in the temporal unit (encoders repeat it with every key frame),
 * else the one a MrFrameTypeParser kept, else assumed 0 (1 is only for
 * still pictures: AVIF).  An OBU without obu_has_size_field runs to the
 * end of the data.  OBU_REDUNDANT_FRAME_HEADER (7) repeats a header
 * already read: ignored. */

#include "frame-types.h"

#include <string.h>

/* A bit reader over a bounded buffer; for H.264 and HEVC NAL units, the
 * emulation prevention bytes (0x03 after two zero bytes) are skipped.
 * Reading past the end sets @error and gives zeros. */
typedef struct
{
  const guint8 *data;
  gsize size;
  gsize pos;                    /* byte */
  guint bit;                    /* bits of data[pos] already read */
  guint zeros;                  /* zero bytes just before pos */
  gboolean epb;
  gboolean error;
} BitReader;

static void
br_init (BitReader * br, const guint8 * data, gsize size, gboolean epb)
{
  br->data = data;
  br->size = size;
  br->pos = 0;
  br->bit = 0;
  br->zeros = 0;
  br->epb = epb;
  br->error = FALSE;
}

static guint
br_bit (BitReader * br)
{
  guint8 byte;
  guint v;

  if (br->error)
    return 0;
  if (br->bit == 0) {
    if (br->epb && br->zeros >= 2 && br->pos < br->size
        && br->data[br->pos] == 0x03) {
      br->pos++;
      br->zeros = 0;
    }
    if (br->pos >= br->size) {
      br->error = TRUE;
      return 0;
    }
  }
  byte = br->data[br->pos];
  v = (byte >> (7 - br->bit)) & 1;
  if (++br->bit == 8) {
    br->bit = 0;
    br->zeros = byte == 0 ? br->zeros + 1 : 0;
    br->pos++;
  }
  return v;
}

/* u(n), n <= 32 */
static guint32
br_bits (BitReader * br, guint n)
{
  guint32 v = 0;

  while (n-- > 0 && !br->error)
    v = (v << 1) | br_bit (br);
  return v;
}

static void
br_skip (BitReader * br, guint n)
{
  while (n-- > 0 && !br->error)
    br_bit (br);
}

/* ue(v), up to 2^32 - 2 */
static guint32
br_ue (BitReader * br)
{
  guint zeros = 0;

  while (!br->error && br_bit (br) == 0) {
    if (++zeros > 31) {
      br->error = TRUE;
      return 0;
    }
  }
  if (br->error)
    return 0;
  if (zeros == 0)
    return 0;
  return ((1u << zeros) - 1) + br_bits (br, zeros);
}

/* Annex B: the offset of the next 00 00 01 at or after @from, or @size */
static gsize
next_start_code (const guint8 * d, gsize size, gsize from)
{
  gsize i = from;

  while (i + 3 <= size) {
    if (d[i + 2] > 1)
      i += 3;
    else if (d[i + 2] == 1 && d[i + 1] == 0 && d[i] == 0)
      return i;
    else
      i++;
  }
  return size;
}

/* Calls @func on each NAL unit (header included, start codes not) of an
 * Annex B byte stream; stops when it returns FALSE. */
typedef gboolean (*NalFunc) (const guint8 * nal, gsize size, gpointer user);

static void
foreach_nal (const guint8 * data, gsize size, NalFunc func, gpointer user)
{
  gsize sc = next_start_code (data, size, 0);

  while (sc < size) {
    gsize start = sc + 3;
    gsize end;

    sc = next_start_code (data, size, start);
    end = sc;
    /* the zero byte of a 4-byte start code, trailing_zero_8bits */
    while (end > start && data[end - 1] == 0)
      end--;
    if (end > start && !func (data + start, end - start, user))
      return;
  }
}

static MrFrameType
lowest (MrFrameType a, MrFrameType b)
{
  return MAX (a, b);
}

typedef struct
{
  MrFrameTypeParser *parser;
  MrFrameType type;
  gboolean keyframe;
} ParseResult;

/* H.264 */

static gboolean
h264_nal (const guint8 * nal, gsize size, gpointer user)
{
  ParseResult *res = user;
  static const MrFrameType types[5] = {
    MR_FRAME_P, MR_FRAME_B, MR_FRAME_I, MR_FRAME_P /* SP */ ,
    MR_FRAME_I /* SI */ ,
  };
  BitReader br;
  guint nal_type;
  guint32 slice_type;

  if (nal[0] & 0x80)            /* forbidden_zero_bit */
    return TRUE;
  nal_type = nal[0] & 0x1f;
  if (nal_type != 1 && nal_type != 5)
    return TRUE;

  br_init (&br, nal + 1, size - 1, TRUE);
  br_ue (&br);                  /* first_mb_in_slice */
  slice_type = br_ue (&br);
  if (br.error || slice_type > 9)
    return TRUE;

  res->type = lowest (res->type, types[slice_type % 5]);
  if (nal_type == 5)
    res->keyframe = TRUE;
  return TRUE;
}

/* HEVC */

static void
hevc_skip_profile_tier_level (BitReader * br, guint max_sub_layers_minus1)
{
  gboolean profile_present[8], level_present[8];
  guint i;

  /* general_profile_space .. general_inbld_flag / reserved: 88 bits */
  br_skip (br, 88);
  br_skip (br, 8);              /* general_level_idc */
  for (i = 0; i < max_sub_layers_minus1; i++) {
    profile_present[i] = br_bit (br);
    level_present[i] = br_bit (br);
  }
  if (max_sub_layers_minus1 > 0)
    br_skip (br, 2 * (8 - max_sub_layers_minus1));
  for (i = 0; i < max_sub_layers_minus1; i++) {
    if (profile_present[i])
      br_skip (br, 88);
    if (level_present[i])
      br_skip (br, 8);
  }
}

static void
hevc_sps (MrFrameTypeParser * parser, const guint8 * rbsp, gsize size)
{
  BitReader br;
  guint max_sub_layers_minus1, sps_id, chroma_format_idc, ordering_info;
  guint32 width, height, min_cb_log2, ctb_log2, ctbs, bits;
  guint i;

  br_init (&br, rbsp, size, TRUE);
  br_skip (&br, 4);             /* sps_video_parameter_set_id */
  max_sub_layers_minus1 = br_bits (&br, 3);
  br_skip (&br, 1);             /* sps_temporal_id_nesting_flag */
  if (max_sub_layers_minus1 > 6)
    return;
  hevc_skip_profile_tier_level (&br, max_sub_layers_minus1);
  sps_id = br_ue (&br);
  if (br.error || sps_id > 15)
    return;
  chroma_format_idc = br_ue (&br);
  if (chroma_format_idc > 3)
    return;
  if (chroma_format_idc == 3)
    br_skip (&br, 1);           /* separate_colour_plane_flag */
  width = br_ue (&br);
  height = br_ue (&br);
  if (br_bit (&br)) {           /* conformance_window_flag */
    for (i = 0; i < 4; i++)
      br_ue (&br);
  }
  br_ue (&br);                  /* bit_depth_luma_minus8 */
  br_ue (&br);                  /* bit_depth_chroma_minus8 */
  br_ue (&br);                  /* log2_max_pic_order_cnt_lsb_minus4 */
  ordering_info = br_bit (&br);
  for (i = ordering_info ? 0 : max_sub_layers_minus1;
      i <= max_sub_layers_minus1; i++) {
    br_ue (&br);                /* sps_max_dec_pic_buffering_minus1 */
    br_ue (&br);                /* sps_max_num_reorder_pics */
    br_ue (&br);                /* sps_max_latency_increase_plus1 */
  }
  min_cb_log2 = br_ue (&br);
  ctb_log2 = br_ue (&br);
  if (br.error || min_cb_log2 > 3 || ctb_log2 > 3)
    return;
  ctb_log2 += min_cb_log2 + 3;
  if (ctb_log2 < 4 || ctb_log2 > 6 || width == 0 || height == 0
      || width > 65535 || height > 65535)
    return;

  ctbs = ((width + (1u << ctb_log2) - 1) >> ctb_log2) *
      ((height + (1u << ctb_log2) - 1) >> ctb_log2);
  bits = 0;
  while ((1u << bits) < ctbs)
    bits++;

  parser->hevc_sps_valid[sps_id] = TRUE;
  parser->hevc_sps_address_bits[sps_id] = bits;
}

static void
hevc_pps (MrFrameTypeParser * parser, const guint8 * rbsp, gsize size)
{
  BitReader br;
  guint32 pps_id, sps_id;
  guint dependent, extra_bits;

  br_init (&br, rbsp, size, TRUE);
  pps_id = br_ue (&br);
  sps_id = br_ue (&br);
  dependent = br_bit (&br);     /* dependent_slice_segments_enabled_flag */
  br_skip (&br, 1);             /* output_flag_present_flag */
  extra_bits = br_bits (&br, 3);
  if (br.error || pps_id > 63 || sps_id > 15)
    return;

  parser->hevc_pps_valid[pps_id] = TRUE;
  parser->hevc_pps_sps_id[pps_id] = sps_id;
  parser->hevc_pps_dependent_slices[pps_id] = dependent;
  parser->hevc_pps_extra_bits[pps_id] = extra_bits;
}

static gboolean
hevc_nal (const guint8 * nal, gsize size, gpointer user)
{
  ParseResult *res = user;
  MrFrameTypeParser *parser = res->parser;
  static const MrFrameType types[3] = { MR_FRAME_B, MR_FRAME_P, MR_FRAME_I };
  BitReader br;
  guint nal_type, layer_id, first, extra_bits = 0;
  guint32 pps_id, slice_type;
  gboolean irap;

  if (size < 2 || (nal[0] & 0x80) || (nal[1] & 0x07) == 0)
    return TRUE;                /* forbidden_zero_bit, nuh_temporal_id_plus1 */
  nal_type = (nal[0] >> 1) & 0x3f;
  layer_id = ((nal[0] & 0x01) << 5) | (nal[1] >> 3);
  if (layer_id != 0)
    return TRUE;

  if (nal_type == 33) {
    hevc_sps (parser, nal + 2, size - 2);
    return TRUE;
  }
  if (nal_type == 34) {
    hevc_pps (parser, nal + 2, size - 2);
    return TRUE;
  }
  if (nal_type > 21 || (nal_type >= 10 && nal_type <= 15))
    return TRUE;
  irap = nal_type >= 16;

  br_init (&br, nal + 2, size - 2, TRUE);
  first = br_bit (&br);         /* first_slice_segment_in_pic_flag */
  if (irap)
    br_skip (&br, 1);           /* no_output_of_prior_pics_flag */
  pps_id = br_ue (&br);
  if (br.error || pps_id > 63)
    return TRUE;

  if (parser->hevc_pps_valid[pps_id]) {
    extra_bits = parser->hevc_pps_extra_bits[pps_id];
  } else if (!first) {
    return TRUE;
  }
  if (!first) {
    guint sps_id = parser->hevc_pps_sps_id[pps_id];

    if (!parser->hevc_sps_valid[sps_id])
      return TRUE;
    if (parser->hevc_pps_dependent_slices[pps_id] && br_bit (&br))
      return TRUE;              /* dependent: its slice's type */
    br_skip (&br, parser->hevc_sps_address_bits[sps_id]);
  }
  br_skip (&br, extra_bits);    /* slice_reserved_flag[] */
  slice_type = br_ue (&br);
  if (br.error || slice_type > 2)
    return TRUE;

  res->type = lowest (res->type, types[slice_type]);
  if (irap)
    res->keyframe = TRUE;
  return TRUE;
}

/* MPEG-2 */

static void
mpeg2_parse (const guint8 * data, gsize size, ParseResult * res)
{
  gboolean headers = FALSE;
  gsize sc = next_start_code (data, size, 0);

  while (sc + 3 < size) {
    guint8 code = data[sc + 3];

    if (code == 0xb3 || code == 0xb8) {
      headers = TRUE;
    } else if (code == 0x00 && sc + 5 < size) {
      MrFrameType type;

      /* temporal_reference: 10 bits, then picture_coding_type: 3 */
      switch ((data[sc + 5] >> 3) & 0x07) {
        case 1:
        case 4:                /* D picture */
          type = MR_FRAME_I;
          break;
        case 2:
          type = MR_FRAME_P;
          break;
        case 3:
          type = MR_FRAME_B;
          break;
        default:
          type = MR_FRAME_UNKNOWN;
          break;
      }
      res->type = lowest (res->type, type);
      if (type == MR_FRAME_I && headers)
        res->keyframe = TRUE;
    }
    sc = next_start_code (data, size, sc + 3);
  }
}

/* AV1 */

#define OBU_SEQUENCE_HEADER 1
#define OBU_FRAME_HEADER 3
#define OBU_FRAME 6

/* leb128 (); FALSE if cut short or over 2^32 - 1 */
static gboolean
read_leb128 (const guint8 * data, gsize size, gsize * pos, guint64 * value)
{
  guint64 v = 0;
  guint i;

  for (i = 0; i < 8; i++) {
    guint8 byte;

    if (*pos >= size)
      return FALSE;
    byte = data[(*pos)++];
    v |= (guint64) (byte & 0x7f) << (i * 7);
    if (!(byte & 0x80)) {
      *value = v;
      return v <= G_MAXUINT32;
    }
  }
  return FALSE;
}

static void
av1_parse (MrFrameTypeParser * parser, const guint8 * data, gsize size,
    ParseResult * res)
{
  static const MrFrameType types[4] = {
    MR_FRAME_I /* KEY_FRAME */ , MR_FRAME_P /* INTER_FRAME */ ,
    MR_FRAME_I /* INTRA_ONLY_FRAME */ , MR_FRAME_P /* SWITCH_FRAME */ ,
  };
  gsize pos = 0;

  while (pos < size) {
    guint8 header = data[pos++];
    guint obu_type = (header >> 3) & 0x0f;
    guint64 obu_size;
    gsize payload_size;
    BitReader br;

    if (header & 0x80)          /* obu_forbidden_bit: not AV1 */
      return;
    if (header & 0x04) {        /* obu_extension_flag */
      if (pos >= size)
        return;
      pos++;
    }
    if (header & 0x02) {        /* obu_has_size_field */
      if (!read_leb128 (data, size, &pos, &obu_size))
        return;
    } else {
      obu_size = size - pos;
    }
    /* an OBU cut short: what there is of it */
    payload_size = MIN (obu_size, size - pos);
    br_init (&br, data + pos, payload_size, FALSE);

    if (obu_type == OBU_SEQUENCE_HEADER) {
      guint reduced;

      br_skip (&br, 3);         /* seq_profile */
      br_skip (&br, 1);         /* still_picture */
      reduced = br_bit (&br);
      if (!br.error)
        parser->av1_reduced_still_picture_header = reduced;
    } else if ((obu_type == OBU_FRAME_HEADER || obu_type == OBU_FRAME)
        && payload_size > 0) {
      if (parser->av1_reduced_still_picture_header == 1) {
        /* KEY_FRAME, shown */
        res->type = lowest (res->type, MR_FRAME_I);
        res->keyframe = TRUE;
      } else if (br_bit (&br)) {        /* show_existing_frame */
        if (!br.error)
          res->type = lowest (res->type, MR_FRAME_P);
      } else {
        guint frame_type = br_bits (&br, 2);

        if (!br.error) {
          res->type = lowest (res->type, types[frame_type]);
          if (frame_type == 0)
            res->keyframe = TRUE;
        }
      }
    }

    if (obu_size > size - pos)
      return;
    pos += obu_size;
  }
}

/* API */

void
mr_frame_type_parser_init (MrFrameTypeParser * parser)
{
  g_return_if_fail (parser != NULL);

  memset (parser, 0, sizeof (*parser));
  parser->av1_reduced_still_picture_header = -1;
}

MrFrameType
mr_frame_type_parser_parse (MrFrameTypeParser * parser, MrVideoCodec codec,
    const guint8 * data, gsize size, gboolean * keyframe)
{
  ParseResult res = { parser, MR_FRAME_UNKNOWN, FALSE };

  if (keyframe)
    *keyframe = FALSE;
  g_return_val_if_fail (parser != NULL, MR_FRAME_UNKNOWN);
  if (data == NULL)
    size = 0;

  switch (codec) {
    case MR_VIDEO_CODEC_H264:
      foreach_nal (data, size, h264_nal, &res);
      break;
    case MR_VIDEO_CODEC_HEVC:
      foreach_nal (data, size, hevc_nal, &res);
      break;
    case MR_VIDEO_CODEC_MPEG2:
      mpeg2_parse (data, size, &res);
      break;
    case MR_VIDEO_CODEC_AV1:
      av1_parse (parser, data, size, &res);
      break;
    default:
      break;
  }

  if (res.type == MR_FRAME_UNKNOWN)
    res.keyframe = FALSE;
  if (keyframe)
    *keyframe = res.keyframe;
  return res.type;
}

MrFrameType
mr_frame_type_parse (MrVideoCodec codec, const guint8 * data, gsize size,
    gboolean * keyframe)
{
  MrFrameTypeParser parser;

  mr_frame_type_parser_init (&parser);
  return mr_frame_type_parser_parse (&parser, codec, data, size, keyframe);
}

/* GOP statistics.  @current counts the pictures of the GOP in progress,
 * its keyframe included (0 before the first keyframe: pictures before it
 * are in @frames but in no GOP); at the next keyframe it is the length of
 * the GOP just complete, @gop_length.  K P B B P K: gop_length 5. */
void
mr_gop_stats_add (MrGopStats * stats, MrFrameType type, gboolean keyframe)
{
  g_return_if_fail (stats != NULL);

  if ((guint) type > MR_FRAME_B)
    type = MR_FRAME_UNKNOWN;
  stats->frames[type]++;
  if (keyframe) {
    stats->keyframes++;
    if (stats->seen_keyframe)
      stats->gop_length = stats->current;
    stats->seen_keyframe = TRUE;
    stats->current = 1;
  } else if (stats->seen_keyframe) {
    stats->current++;
  }
}

const gchar *
mr_frame_type_to_string (MrFrameType type)
{
  switch (type) {
    case MR_FRAME_I:
      return "I";
    case MR_FRAME_P:
      return "P";
    case MR_FRAME_B:
      return "B";
    default:
      return "unknown";
  }
}
