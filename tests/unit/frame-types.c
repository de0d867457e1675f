/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the frame type parser (controller/frame-types.c):
 *  - real streams (frame-types-data.h, from make-frame-types-data.py): the
 *    type and keyframe flag of every access unit are what ffprobe, which
 *    decodes them, says;
 *  - hand-made bitstreams for what the encoders here never write
 *    (emulation prevention in a slice header, HEVC extra slice header bits
 *    and slices of different types, AV1 reduced still picture headers,
 *    OBUs without a size, MPEG-2 pictures without a sequence header);
 *  - robustness: every truncation of every sample unit, random bytes,
 *    random bit flips, each read by every codec's parser from a buffer of
 *    exactly its size (so that valgrind sees a read past it);
 *  - the GOP statistics. */

#include "monitor/frame-types.h"

#include <string.h>

#include "frame-types-data.h"

static const MrVideoCodec codecs[] = {
  MR_VIDEO_CODEC_UNKNOWN, MR_VIDEO_CODEC_H264, MR_VIDEO_CODEC_HEVC,
  MR_VIDEO_CODEC_MPEG2, MR_VIDEO_CODEC_AV1, (MrVideoCodec) 77,
};

static MrFrameType
type_of_char (gchar c)
{
  switch (c) {
    case 'I':
      return MR_FRAME_I;
    case 'P':
      return MR_FRAME_P;
    case 'B':
      return MR_FRAME_B;
    default:
      g_assert_not_reached ();
  }
}

/* Parses a copy of @data of exactly @size bytes on the heap */
static MrFrameType
parse_exact (MrFrameTypeParser * parser, MrVideoCodec codec,
    const guint8 * data, gsize size, gboolean * keyframe)
{
  guint8 *copy = size ? g_memdup2 (data, size) : NULL;
  MrFrameType type;

  if (parser)
    type = mr_frame_type_parser_parse (parser, codec, copy, size, keyframe);
  else
    type = mr_frame_type_parse (codec, copy, size, keyframe);
  g_free (copy);
  g_assert_cmpint (type, >=, MR_FRAME_UNKNOWN);
  g_assert_cmpint (type, <=, MR_FRAME_B);
  return type;
}

/* Real streams against ffprobe */

static void
test_samples (void)
{
  guint s;

  for (s = 0; s < G_N_ELEMENTS (ft_samples); s++) {
    const FtSample *sample = &ft_samples[s];
    MrFrameTypeParser parser;
    MrGopStats stats = { 0 };
    guint expected[4] = { 0 }, got[4] = { 0 }, matching = 0;
    guint expected_keyframes = 0, last_key = 0, expected_gop = 0;
    gsize offset = 0;
    guint i;

    g_assert_cmpuint (strlen (sample->types), ==, sample->n_units);
    g_assert_cmpuint (strlen (sample->keyframes), ==, sample->n_units);
    mr_frame_type_parser_init (&parser);

    for (i = 0; i < sample->n_units; i++) {
      const guint8 *unit = sample->data + offset;
      gsize size = sample->sizes[i];
      MrFrameType want = type_of_char (sample->types[i]);
      gboolean want_key = sample->keyframes[i] == '1';
      gboolean key = !want_key, key_stateful = !want_key;
      MrFrameType type, type_stateful;

      type = parse_exact (NULL, sample->codec, unit, size, &key);
      type_stateful = parse_exact (&parser, sample->codec, unit, size,
          &key_stateful);
      if (type != want || key != want_key)
        g_error ("%s unit %u (%" G_GSIZE_FORMAT " bytes): %s%s, ffprobe %s%s",
            sample->name, i, size, mr_frame_type_to_string (type),
            key ? " key" : "", mr_frame_type_to_string (want),
            want_key ? " key" : "");
      g_assert_cmpint (type_stateful, ==, want);
      g_assert_cmpint (key_stateful, ==, want_key);

      expected[want]++;
      got[type]++;
      matching += type == want && key == want_key;
      if (want_key) {
        if (expected_keyframes > 0)
          expected_gop = i - last_key;
        last_key = i;
        expected_keyframes++;
      }
      mr_gop_stats_add (&stats, type, key);
      offset += size;
    }

    g_test_message ("%s (%s): ffprobe I %u P %u B %u, keyframes %u; "
        "parser I %u P %u B %u unknown %u; %u/%u units match",
        sample->name, sample->encoder, expected[MR_FRAME_I],
        expected[MR_FRAME_P], expected[MR_FRAME_B], expected_keyframes,
        got[MR_FRAME_I], got[MR_FRAME_P], got[MR_FRAME_B],
        got[MR_FRAME_UNKNOWN], matching, sample->n_units);
    g_assert_cmpuint (matching, ==, sample->n_units);

    g_assert_cmpuint (stats.frames[MR_FRAME_UNKNOWN], ==, 0);
    for (i = MR_FRAME_I; i <= MR_FRAME_B; i++)
      g_assert_cmpuint (stats.frames[i], ==, expected[i]);
    g_assert_cmpuint (stats.keyframes, ==, expected_keyframes);
    g_assert_cmpuint (stats.gop_length, ==, expected_gop);
    g_assert_cmpuint (stats.current, ==, sample->n_units - last_key);
    g_assert_true (stats.seen_keyframe);
    mr_frame_type_parser_clear (&parser);
  }
}

/* A whole stream in one call (not what the API is for): the lowest type of
 * all, and a keyframe since there is one */
static void
test_whole_stream (void)
{
  guint s;

  for (s = 0; s < G_N_ELEMENTS (ft_samples); s++) {
    const FtSample *sample = &ft_samples[s];
    gsize size = 0;
    gboolean key = FALSE;
    guint i;

    for (i = 0; i < sample->n_units; i++)
      size += sample->sizes[i];
    g_assert_cmpint (parse_exact (NULL, sample->codec, sample->data, size,
            &key), ==, strchr (sample->types, 'B') ? MR_FRAME_B : MR_FRAME_P);
    g_assert_true (key);
  }
}

/* Writing bitstreams */

typedef struct
{
  guint8 buf[256];
  gsize len;
  guint bits;                   /* in buf[len] */
} BitWriter;

static void
bw_init (BitWriter * bw)
{
  memset (bw, 0, sizeof (*bw));
}

static void
bw_bits (BitWriter * bw, guint64 value, guint n)
{
  while (n-- > 0) {
    g_assert_cmpuint (bw->len, <, sizeof (bw->buf));
    if ((value >> n) & 1)
      bw->buf[bw->len] |= 0x80 >> bw->bits;
    if (++bw->bits == 8) {
      bw->bits = 0;
      bw->len++;
    }
  }
}

static void
bw_ue (BitWriter * bw, guint64 value)
{
  guint len = 0;

  while ((value + 1) >> (len + 1))
    len++;
  bw_bits (bw, 0, len);
  bw_bits (bw, value + 1, len + 1);
}

/* rbsp_trailing_bits (), and the bytes */
static gsize
bw_finish (BitWriter * bw)
{
  bw_bits (bw, 1, 1);
  while (bw->bits)
    bw_bits (bw, 0, 1);
  return bw->len;
}

/* Appends a NAL unit: start code, header, the RBSP with emulation
 * prevention bytes */
static void
append_nal (GByteArray * au, const guint8 * header, gsize header_size,
    BitWriter * rbsp)
{
  static const guint8 start_code[] = { 0, 0, 0, 1 };
  static const guint8 epb = 0x03;
  gsize size = bw_finish (rbsp), i;
  guint zeros = 0;

  g_byte_array_append (au, start_code, sizeof (start_code));
  g_byte_array_append (au, header, header_size);
  for (i = 0; i < size; i++) {
    if (zeros >= 2 && rbsp->buf[i] <= 3) {
      g_byte_array_append (au, &epb, 1);
      zeros = 0;
    }
    g_byte_array_append (au, &rbsp->buf[i], 1);
    zeros = rbsp->buf[i] == 0 ? zeros + 1 : 0;
  }
}

static gboolean
contains (GByteArray * au, const guint8 * needle, gsize size)
{
  gsize i;

  for (i = 0; i + size <= au->len; i++)
    if (memcmp (au->data + i, needle, size) == 0)
      return TRUE;
  return FALSE;
}

static MrFrameType
parse_au (MrFrameTypeParser * parser, MrVideoCodec codec, GByteArray * au,
    gboolean * keyframe)
{
  return parse_exact (parser, codec, au->data, au->len, keyframe);
}

/* H.264 */

static void
h264_slice (GByteArray * au, guint nal_type, guint64 first_mb,
    guint slice_type)
{
  guint8 header = (3 << 5) | nal_type;
  BitWriter bw;

  bw_init (&bw);
  bw_ue (&bw, first_mb);
  bw_ue (&bw, slice_type);
  bw_ue (&bw, 0);               /* pic_parameter_set_id */
  bw_bits (&bw, 0x5a, 8);       /* something of the rest */
  append_nal (au, &header, 1, &bw);
}

static void
test_h264 (void)
{
  static const MrFrameType types[10] = {
    MR_FRAME_P, MR_FRAME_B, MR_FRAME_I, MR_FRAME_P, MR_FRAME_I,
    MR_FRAME_P, MR_FRAME_B, MR_FRAME_I, MR_FRAME_P, MR_FRAME_I,
  };
  GByteArray *au;
  gboolean key;
  guint t;

  for (t = 0; t < 10; t++) {
    au = g_byte_array_new ();
    h264_slice (au, 1, 0, t);
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_H264, au, &key), ==,
        types[t]);
    g_assert_false (key);
    g_byte_array_unref (au);
  }

  /* slice_type out of range; a slice that is not there */
  au = g_byte_array_new ();
  h264_slice (au, 1, 0, 10);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_H264, au, &key), ==,
      MR_FRAME_UNKNOWN);
  g_byte_array_unref (au);

  /* IDR */
  au = g_byte_array_new ();
  h264_slice (au, 5, 0, 7);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_H264, au, &key), ==,
      MR_FRAME_I);
  g_assert_true (key);
  g_byte_array_unref (au);

  /* first_mb_in_slice 2^23 - 1: 23 zero bits then a one, which needs
   * emulation prevention bytes (00 00 03 01 00 00 03 ...) */
  au = g_byte_array_new ();
  h264_slice (au, 1, (1 << 23) - 1, 1);
  g_assert_true (contains (au, (const guint8 *) "\x00\x00\x03\x01", 4));
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_H264, au, &key), ==,
      MR_FRAME_B);
  g_byte_array_unref (au);

  /* several slices: the lowest; 3-byte start codes too */
  au = g_byte_array_new ();
  h264_slice (au, 1, 0, 2);
  h264_slice (au, 1, 10, 0);
  h264_slice (au, 1, 20, 2);
  g_byte_array_remove_index (au, 0);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_H264, au, &key), ==,
      MR_FRAME_P);
  h264_slice (au, 1, 30, 6);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_H264, au, &key), ==,
      MR_FRAME_B);
  g_byte_array_unref (au);

  /* no start code, forbidden_zero_bit, other NAL types only */
  {
    static const guint8 no_start_code[] = { 0x41, 0x9a, 0x00, 0x10 };
    static const guint8 forbidden[] = { 0, 0, 1, 0x81 | 0x60, 0x88, 0x80 };
    static const guint8 sps_pps[] = { 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68,
      0xce
    };
    static const guint8 empty_nals[] = { 0, 0, 1, 0, 0, 1, 0, 0, 1 };

    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_H264, no_start_code,
            sizeof (no_start_code), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_H264, forbidden,
            sizeof (forbidden), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_H264, sps_pps,
            sizeof (sps_pps), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_H264, empty_nals,
            sizeof (empty_nals), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_false (key);
  }
}

/* HEVC */

static void
hevc_nal (GByteArray * au, guint nal_type, guint layer_id, BitWriter * bw)
{
  guint8 header[2] = { (nal_type << 1) | (layer_id >> 5),
    ((layer_id & 0x1f) << 3) | 1
  };

  append_nal (au, header, 2, bw);
}

/* An SPS of @width x @height, CTBs of 16 */
static void
hevc_sps (GByteArray * au, guint sps_id, guint width, guint height,
    guint max_sub_layers_minus1)
{
  BitWriter bw;
  guint i;

  bw_init (&bw);
  bw_bits (&bw, 0, 4);          /* sps_video_parameter_set_id */
  bw_bits (&bw, max_sub_layers_minus1, 3);
  bw_bits (&bw, 1, 1);          /* sps_temporal_id_nesting_flag */
  /* profile_tier_level: Main, then level 3 */
  bw_bits (&bw, 1, 8);          /* space, tier, profile_idc 1 */
  bw_bits (&bw, 0x60000000, 32);
  bw_bits (&bw, 0x9, 4);
  bw_bits (&bw, 0, 43);
  bw_bits (&bw, 0, 1);
  bw_bits (&bw, 90, 8);
  for (i = 0; i < max_sub_layers_minus1; i++)
    bw_bits (&bw, i == 0 ? 3 : 0, 2);   /* profile and level for the first */
  if (max_sub_layers_minus1 > 0)
    bw_bits (&bw, 0, 2 * (8 - max_sub_layers_minus1));
  if (max_sub_layers_minus1 > 0) {
    bw_bits (&bw, 0xffffffff, 32);      /* 88 bits of sub-layer profile */
    bw_bits (&bw, 0xffffffff, 32);
    bw_bits (&bw, 0xffffff, 24);
    bw_bits (&bw, 0xff, 8);     /* sub_layer_level_idc */
  }
  bw_ue (&bw, sps_id);
  bw_ue (&bw, 1);               /* chroma_format_idc */
  bw_ue (&bw, width);
  bw_ue (&bw, height);
  bw_bits (&bw, 1, 1);          /* conformance_window_flag */
  bw_ue (&bw, 0);
  bw_ue (&bw, 3);
  bw_ue (&bw, 0);
  bw_ue (&bw, 5);
  bw_ue (&bw, 0);               /* bit_depth_luma_minus8 */
  bw_ue (&bw, 0);               /* bit_depth_chroma_minus8 */
  bw_ue (&bw, 4);               /* log2_max_pic_order_cnt_lsb_minus4 */
  bw_bits (&bw, 1, 1);          /* sps_sub_layer_ordering_info_present_flag */
  for (i = 0; i <= max_sub_layers_minus1; i++) {
    bw_ue (&bw, 4);
    bw_ue (&bw, 2);
    bw_ue (&bw, 0);
  }
  bw_ue (&bw, 0);               /* log2_min_luma_coding_block_size_minus3 */
  bw_ue (&bw, 1);               /* log2_diff_max_min: CTB 16 */
  /* the rest, complete: codecparsers keeps only an SPS it read through */
  bw_ue (&bw, 0);               /* log2_min_luma_transform_block_size_minus2 */
  bw_ue (&bw, 2);               /* log2_diff_max_min_luma_transform_block_size */
  bw_ue (&bw, 0);               /* max_transform_hierarchy_depth_inter */
  bw_ue (&bw, 0);               /* max_transform_hierarchy_depth_intra */
  bw_bits (&bw, 0x2, 4);        /* scaling_list, amp, sao, pcm */
  bw_ue (&bw, 0);               /* num_short_term_ref_pic_sets */
  bw_bits (&bw, 0xc, 5);        /* long_term_ref_pics_present_flag ..
                                 * sps_extension_present_flag */
  hevc_nal (au, 33, 0, &bw);
}

static void
hevc_pps (GByteArray * au, guint pps_id, guint sps_id, gboolean dependent,
    guint extra_bits)
{
  BitWriter bw;

  bw_init (&bw);
  bw_ue (&bw, pps_id);
  bw_ue (&bw, sps_id);
  bw_bits (&bw, dependent, 1);
  bw_bits (&bw, 0, 1);          /* output_flag_present_flag */
  bw_bits (&bw, extra_bits, 3);
  /* the rest, complete: codecparsers keeps only a PPS it read through */
  bw_bits (&bw, 0, 2);          /* sign_data_hiding, cabac_init_present */
  bw_ue (&bw, 0);               /* num_ref_idx_l0_default_active_minus1 */
  bw_ue (&bw, 0);               /* num_ref_idx_l1_default_active_minus1 */
  bw_ue (&bw, 0);               /* init_qp_minus26: se(v) 0 */
  bw_bits (&bw, 0, 3);          /* constrained_intra, transform_skip, cu_qp_delta */
  bw_ue (&bw, 0);               /* pps_cb_qp_offset: se(v) 0 */
  bw_ue (&bw, 0);               /* pps_cr_qp_offset: se(v) 0 */
  bw_bits (&bw, 0x1, 7);        /* slice_chroma_qp_offsets_present .. tiles,
                                 * entropy_coding_sync: 0, then
                                 * loop_filter_across_slices 1 */
  bw_bits (&bw, 0, 3);          /* deblocking_control, scaling_list,
                                 * lists_modification */
  bw_ue (&bw, 0);               /* log2_parallel_merge_level_minus2 */
  bw_bits (&bw, 0, 2);          /* slice_segment_header_extension, extension */
  hevc_nal (au, 34, 0, &bw);
}

/* A slice segment; @address < 0: the first of the picture */
static void
hevc_slice (GByteArray * au, guint nal_type, guint pps_id, gint address,
    guint address_bits, gint dependent, guint extra_bits, guint slice_type)
{
  BitWriter bw;

  bw_init (&bw);
  bw_bits (&bw, address < 0, 1);
  if (nal_type >= 16 && nal_type <= 23)
    bw_bits (&bw, 0, 1);        /* no_output_of_prior_pics_flag */
  bw_ue (&bw, pps_id);
  if (address >= 0) {
    if (dependent >= 0)
      bw_bits (&bw, dependent, 1);
    bw_bits (&bw, address, address_bits);
  }
  /* slice_reserved_flag[]: ones, so that not skipping them reads
   * slice_type 0 (B) */
  bw_bits (&bw, 0xff, extra_bits);
  bw_ue (&bw, slice_type);
  bw_bits (&bw, 0x33, 8);
  hevc_nal (au, nal_type, 0, &bw);
}

static void
test_hevc (void)
{
  MrFrameTypeParser parser;
  GByteArray *au, *headers;
  gboolean key;
  guint t;

  /* IRAP types: keyframes; the others not; reserved types ignored */
  for (t = 0; t < 32; t++) {
    gboolean defined = t <= 9 || (t >= 16 && t <= 21);
    MrFrameType type;

    au = g_byte_array_new ();
    hevc_slice (au, t, 0, -1, 0, -1, 0, 1);
    type = parse_au (NULL, MR_VIDEO_CODEC_HEVC, au, &key);
    g_assert_cmpint (type, ==, defined ? MR_FRAME_P : MR_FRAME_UNKNOWN);
    g_assert_cmpint (key, ==, defined && t >= 16);
    g_byte_array_unref (au);
  }
  for (t = 0; t < 4; t++) {
    au = g_byte_array_new ();
    hevc_slice (au, 1, 0, -1, 0, -1, 0, t);
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_HEVC, au, &key), ==,
        t == 0 ? MR_FRAME_B : t == 1 ? MR_FRAME_P : t == 2 ? MR_FRAME_I :
        MR_FRAME_UNKNOWN);
    g_byte_array_unref (au);
  }

  /* 64x64 in CTBs of 16: 16 CTBs, 4-bit slice segment addresses; PPS 5
   * with dependent slice segments and 2 extra slice header bits */
  headers = g_byte_array_new ();
  hevc_sps (headers, 2, 64, 64, 0);
  hevc_pps (headers, 5, 2, TRUE, 2);

  /* an IDR of an I slice, a P slice, a dependent slice segment */
  au = g_byte_array_new ();
  g_byte_array_append (au, headers->data, headers->len);
  hevc_slice (au, 19, 5, -1, 4, 0, 2, 2);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_I);
  g_assert_true (key);
  hevc_slice (au, 19, 5, 8, 4, 0, 2, 1);
  hevc_slice (au, 19, 5, 12, 4, 1, 0, 0);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_P);
  g_assert_true (key);
  g_byte_array_unref (au);

  /* without the parameter sets, alone: the first slice segment assuming no
   * extra bits, so here wrong (the documented assumption); the others
   * skipped */
  au = g_byte_array_new ();
  hevc_slice (au, 1, 5, -1, 4, 0, 2, 1);
  hevc_slice (au, 1, 5, 8, 4, 0, 2, 2);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_B);
  /* with a parser that saw them before: right, every slice */
  mr_frame_type_parser_init (&parser);
  g_assert_cmpint (parse_au (&parser, MR_VIDEO_CODEC_HEVC, headers, &key), ==,
      MR_FRAME_UNKNOWN);
  g_assert_false (key);
  g_assert_cmpint (parse_au (&parser, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_P);
  g_assert_false (key);
  hevc_slice (au, 1, 5, 4, 4, 0, 2, 0);
  g_assert_cmpint (parse_au (&parser, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_B);
  g_byte_array_unref (au);

  /* a slice of a PPS the parser does not know, not the first: skipped */
  au = g_byte_array_new ();
  hevc_slice (au, 1, 6, -1, 0, -1, 0, 2);
  hevc_slice (au, 1, 7, 3, 4, -1, 0, 0);
  g_assert_cmpint (parse_au (&parser, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_I);
  g_byte_array_unref (au);

  /* an SPS with sub-layers (profile_tier_level with sub-layer parts), a
   * PPS without dependent slices: 128x64, 32 CTBs, 5-bit addresses */
  au = g_byte_array_new ();
  hevc_sps (au, 0, 128, 64, 2);
  hevc_pps (au, 0, 0, FALSE, 0);
  hevc_slice (au, 21, 0, -1, 5, -1, 0, 2);
  hevc_slice (au, 21, 0, 17, 5, -1, 0, 1);
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_P);
  g_assert_true (key);
  g_byte_array_unref (au);

  /* a slice of another layer */
  au = g_byte_array_new ();
  {
    BitWriter bw;

    bw_init (&bw);
    bw_bits (&bw, 1, 1);
    bw_ue (&bw, 0);
    bw_ue (&bw, 0);
    hevc_nal (au, 1, 1, &bw);
  }
  g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_HEVC, au, &key), ==,
      MR_FRAME_UNKNOWN);
  g_byte_array_unref (au);

  g_byte_array_unref (headers);
  mr_frame_type_parser_clear (&parser);
}

/* MPEG-2 */

static void
test_mpeg2 (void)
{
  static const guint8 seq[] = { 0, 0, 1, 0xb3, 0x04, 0x00, 0x40, 0x13 };
  static const guint8 gop[] = { 0, 0, 1, 0xb8, 0x00, 0x08, 0x00, 0x40 };
  static const guint8 slice[] = { 0, 0, 1, 0x01, 0x12, 0x34, 0x00 };
  gboolean key;
  guint t;

  for (t = 0; t < 8; t++) {
    static const MrFrameType types[8] = {
      MR_FRAME_UNKNOWN, MR_FRAME_I, MR_FRAME_P, MR_FRAME_B, MR_FRAME_I,
      MR_FRAME_UNKNOWN, MR_FRAME_UNKNOWN, MR_FRAME_UNKNOWN,
    };
    /* temporal_reference 0x3ff: the coding type's bits next to ones;
     * vbv_delay, and the f_codes a P or B picture has: codecparsers reads
     * only a picture header that is all there */
    guint8 pic[] = { 0, 0, 1, 0, 0xff, 0xc7 | (t << 3), 0xff, 0xf8, 0xff };
    g_autoptr (GByteArray) alone = g_byte_array_new ();
    g_autoptr (GByteArray) after_seq = g_byte_array_new ();
    g_autoptr (GByteArray) after_gop = g_byte_array_new ();

    g_byte_array_append (alone, pic, sizeof (pic));
    g_byte_array_append (alone, slice, sizeof (slice));
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_MPEG2, alone, &key), ==,
        types[t]);
    g_assert_false (key);

    g_byte_array_append (after_seq, seq, sizeof (seq));
    g_byte_array_append (after_seq, alone->data, alone->len);
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_MPEG2, after_seq, &key),
        ==, types[t]);
    g_assert_cmpint (key, ==, types[t] == MR_FRAME_I);

    g_byte_array_append (after_gop, gop, sizeof (gop));
    g_byte_array_append (after_gop, alone->data, alone->len);
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_MPEG2, after_gop, &key),
        ==, types[t]);
    g_assert_cmpint (key, ==, types[t] == MR_FRAME_I);
  }

  {
    /* a header after the picture does not make it a keyframe; an I and a
     * P field: P, a keyframe */
    static const guint8 late_seq[] = { 0, 0, 1, 0, 0, 0x08, 0xff, 0xf8, 0, 0,
      1, 0xb3
    };
    static const guint8 fields[] = { 0, 0, 1, 0xb8, 0, 0, 1, 0, 0, 0x08,
      0xff, 0xf8, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0x10, 0xff, 0xf8, 0x00
    };
    static const guint8 cut[] = { 0, 0, 1, 0xb3, 0, 0, 1, 0, 0x12 };

    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_MPEG2, late_seq,
            sizeof (late_seq), &key), ==, MR_FRAME_I);
    g_assert_false (key);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_MPEG2, fields,
            sizeof (fields), &key), ==, MR_FRAME_P);
    g_assert_true (key);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_MPEG2, cut,
            sizeof (cut), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_false (key);
  }
}

/* AV1 */

enum
{ TD = 2, SEQ = 1, FRAME_HEADER = 3, FRAME = 6, REDUNDANT = 7, PADDING = 15 };

static void
obu (GByteArray * tu, guint type, gboolean has_size, gboolean extension,
    const guint8 * payload, gsize size)
{
  guint8 header = (type << 3) | (extension ? 0x04 : 0) | (has_size ? 0x02 : 0);
  guint8 ext = 0x08;
  gsize n = size;

  g_byte_array_append (tu, &header, 1);
  if (extension)
    g_byte_array_append (tu, &ext, 1);
  if (has_size) {
    do {
      guint8 b = (n & 0x7f) | (n > 0x7f ? 0x80 : 0);

      g_byte_array_append (tu, &b, 1);
      n >>= 7;
    } while (n);
  }
  g_byte_array_append (tu, payload, size);
}

static void
test_av1 (void)
{
  static const guint8 seq_reduced[] = { 0x18, 0x00, 0x00 };     /* profile 0, still, reduced */
  static const guint8 seq_full[] = { 0x00, 0x00, 0x00, 0x12 };
  guint8 big[300];
  MrFrameTypeParser parser;
  gboolean key;
  guint t;

  memset (big, 0x55, sizeof (big));

  /* show_existing_frame 0, frame_type, show_frame 1 */
  for (t = 0; t < 5; t++) {
    static const MrFrameType types[5] = {
      MR_FRAME_I, MR_FRAME_P, MR_FRAME_I, MR_FRAME_P, MR_FRAME_P,
    };
    guint8 header[] = { t == 4 ? 0x80 : (t << 5) | 0x10, 0x00, 0xaa };
    g_autoptr (GByteArray) tu = g_byte_array_new ();

    obu (tu, TD, TRUE, FALSE, NULL, 0);
    obu (tu, t % 2 ? FRAME : FRAME_HEADER, TRUE, FALSE, header,
        sizeof (header));
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_AV1, tu, &key), ==,
        types[t]);
    g_assert_cmpint (key, ==, t == 0);
  }

  /* hidden INTER frame, then a KEY_FRAME shown (in another layer, with an
   * extension header and the last OBU without a size): the lowest, P,
   * and a keyframe; a large size field (2 bytes of leb128) before them */
  {
    static const guint8 inter_hidden[] = { 0x20, 0x12 };
    static const guint8 key_frame[] = { 0x10, 0x34, 0x56 };
    g_autoptr (GByteArray) tu = g_byte_array_new ();

    obu (tu, TD, TRUE, FALSE, NULL, 0);
    obu (tu, SEQ, TRUE, FALSE, seq_full, sizeof (seq_full));
    obu (tu, PADDING, TRUE, FALSE, big, sizeof (big));
    obu (tu, FRAME, TRUE, FALSE, inter_hidden, sizeof (inter_hidden));
    obu (tu, REDUNDANT, TRUE, FALSE, key_frame, sizeof (key_frame));
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_AV1, tu, &key), ==,
        MR_FRAME_P);
    g_assert_false (key);
    obu (tu, FRAME, FALSE, TRUE, key_frame, sizeof (key_frame));
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_AV1, tu, &key), ==,
        MR_FRAME_P);
    g_assert_true (key);
  }

  /* reduced_still_picture_header: no show_existing_frame, frame_type
   * bits, a KEY_FRAME; remembered by a parser */
  {
    static const guint8 frame[] = { 0xe0, 0x00 };       /* 0x80: would be show_existing */
    g_autoptr (GByteArray) tu = g_byte_array_new ();
    g_autoptr (GByteArray) next = g_byte_array_new ();

    obu (tu, SEQ, TRUE, FALSE, seq_reduced, sizeof (seq_reduced));
    obu (tu, FRAME, TRUE, FALSE, frame, sizeof (frame));
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_AV1, tu, &key), ==,
        MR_FRAME_I);
    g_assert_true (key);

    obu (next, FRAME, TRUE, FALSE, frame, sizeof (frame));
    /* alone: assumed 0, so show_existing_frame */
    g_assert_cmpint (parse_au (NULL, MR_VIDEO_CODEC_AV1, next, &key), ==,
        MR_FRAME_P);
    g_assert_false (key);
    mr_frame_type_parser_init (&parser);
    g_assert_cmpint (parse_au (&parser, MR_VIDEO_CODEC_AV1, tu, &key), ==,
        MR_FRAME_I);
    g_assert_cmpint (parse_au (&parser, MR_VIDEO_CODEC_AV1, next, &key), ==,
        MR_FRAME_I);
    g_assert_true (key);
    mr_frame_type_parser_clear (&parser);
  }

  /* garbage: the forbidden bit; an empty frame; a size past the end
   * (what there is is read); a leb128 too long */
  {
    static const guint8 forbidden[] = { 0x80 | (FRAME << 3) | 2, 1, 0x00 };
    static const guint8 empty[] = { (FRAME << 3) | 2, 0 };
    static const guint8 too_big[] = { (FRAME << 3) | 2, 0x7f, 0x20 };
    static const guint8 long_leb[] = { (FRAME << 3) | 2, 0x80, 0x80, 0x80,
      0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x20
    };
    static const guint8 leb_over_32[] = { (FRAME << 3) | 2, 0x80, 0x80, 0x80,
      0x80, 0x10, 0x20
    };

    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_AV1, forbidden,
            sizeof (forbidden), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_AV1, empty,
            sizeof (empty), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_AV1, too_big,
            sizeof (too_big), &key), ==, MR_FRAME_P);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_AV1, long_leb,
            sizeof (long_leb), &key), ==, MR_FRAME_UNKNOWN);
    g_assert_cmpint (parse_exact (NULL, MR_VIDEO_CODEC_AV1, leb_over_32,
            sizeof (leb_over_32), &key), ==, MR_FRAME_UNKNOWN);
  }
}

/* Robustness */

static void
parse_every_codec (const guint8 * data, gsize size)
{
  MrFrameTypeParser parser;
  guint c;

  mr_frame_type_parser_init (&parser);
  for (c = 0; c < G_N_ELEMENTS (codecs); c++) {
    gboolean key = TRUE;
    MrFrameType type;

    type = parse_exact (NULL, codecs[c], data, size, &key);
    if (type == MR_FRAME_UNKNOWN)
      g_assert_false (key);
    parse_exact (&parser, codecs[c], data, size, NULL);
  }
  mr_frame_type_parser_clear (&parser);
}

static void
test_truncations (void)
{
  guint s;

  for (s = 0; s < G_N_ELEMENTS (ft_samples); s++) {
    const FtSample *sample = &ft_samples[s];
    gsize offset = 0;
    guint i;

    for (i = 0; i < sample->n_units; i++) {
      const guint8 *unit = sample->data + offset;
      gsize size = sample->sizes[i], n;

      /* every prefix, every suffix */
      for (n = 0; n < size; n++) {
        parse_every_codec (unit, n);
        parse_every_codec (unit + n, size - n);
      }
      offset += size;
    }
  }
}

static void
test_random (void)
{
  GRand *rand = g_rand_new_with_seed (20261121);
  guint8 buf[2048];
  guint round, s;

  /* random bytes; random bytes with start codes and OBU-like headers */
  for (round = 0; round < 4000; round++) {
    gsize size = g_rand_int_range (rand, 0, round < 2000 ? 64 : sizeof (buf));
    gsize i;

    for (i = 0; i < size; i++)
      buf[i] = g_rand_int (rand);
    if (round % 2) {
      for (i = 0; i + 4 < size; i += g_rand_int_range (rand, 4, 40)) {
        buf[i] = 0;
        buf[i + 1] = 0;
        buf[i + 2] = 1;
      }
    }
    parse_every_codec (buf, size);
  }

  /* bit flips and byte changes in the sample units */
  for (s = 0; s < G_N_ELEMENTS (ft_samples); s++) {
    const FtSample *sample = &ft_samples[s];
    gsize offset = 0;
    guint i;

    for (i = 0; i < sample->n_units; i++) {
      gsize size = MIN (sample->sizes[i], sizeof (buf));

      for (round = 0; round < 40; round++) {
        guint flips = g_rand_int_range (rand, 1, 8), f;

        memcpy (buf, sample->data + offset, size);
        for (f = 0; f < flips && size > 0; f++) {
          gsize at = g_rand_int_range (rand, 0, MIN (size, 64));

          if (round % 2)
            buf[at] ^= 1 << g_rand_int_range (rand, 0, 8);
          else
            buf[at] = g_rand_int (rand);
        }
        parse_every_codec (buf, size);
      }
      offset += sample->sizes[i];
    }
  }
  g_rand_free (rand);
}

static void
test_null_and_empty (void)
{
  gboolean key = TRUE;
  guint c;

  for (c = 0; c < G_N_ELEMENTS (codecs); c++) {
    key = TRUE;
    g_assert_cmpint (mr_frame_type_parse (codecs[c], NULL, 0, &key), ==,
        MR_FRAME_UNKNOWN);
    g_assert_false (key);
    g_assert_cmpint (mr_frame_type_parse (codecs[c], NULL, 100, NULL), ==,
        MR_FRAME_UNKNOWN);
  }
  /* an H.264 IDR, read as another codec or none */
  g_assert_cmpint (mr_frame_type_parse (MR_VIDEO_CODEC_UNKNOWN,
          ft_samples[0].data, ft_samples[0].sizes[0], &key), ==,
      MR_FRAME_UNKNOWN);
  g_assert_false (key);
}

/* GOP statistics */

static void
test_gop_stats (void)
{
  MrGopStats stats = { 0 };

  /* before any keyframe */
  mr_gop_stats_add (&stats, MR_FRAME_P, FALSE);
  mr_gop_stats_add (&stats, MR_FRAME_B, FALSE);
  g_assert_cmpuint (stats.current, ==, 0);
  g_assert_cmpuint (stats.gop_length, ==, 0);
  g_assert_false (stats.seen_keyframe);

  /* K P B B P, K: a GOP of 5 */
  mr_gop_stats_add (&stats, MR_FRAME_I, TRUE);
  g_assert_true (stats.seen_keyframe);
  g_assert_cmpuint (stats.current, ==, 1);
  mr_gop_stats_add (&stats, MR_FRAME_P, FALSE);
  mr_gop_stats_add (&stats, MR_FRAME_B, FALSE);
  mr_gop_stats_add (&stats, MR_FRAME_B, FALSE);
  mr_gop_stats_add (&stats, MR_FRAME_P, FALSE);
  g_assert_cmpuint (stats.current, ==, 5);
  g_assert_cmpuint (stats.gop_length, ==, 0);
  mr_gop_stats_add (&stats, MR_FRAME_I, TRUE);
  g_assert_cmpuint (stats.gop_length, ==, 5);
  g_assert_cmpuint (stats.current, ==, 1);

  /* an I that is not a keyframe, an unknown, an out of range type */
  mr_gop_stats_add (&stats, MR_FRAME_I, FALSE);
  mr_gop_stats_add (&stats, MR_FRAME_UNKNOWN, FALSE);
  mr_gop_stats_add (&stats, (MrFrameType) 42, FALSE);
  g_assert_cmpuint (stats.current, ==, 4);
  mr_gop_stats_add (&stats, MR_FRAME_I, TRUE);
  g_assert_cmpuint (stats.gop_length, ==, 4);
  /* two keyframes in a row */
  mr_gop_stats_add (&stats, MR_FRAME_I, TRUE);
  g_assert_cmpuint (stats.gop_length, ==, 1);

  g_assert_cmpuint (stats.frames[MR_FRAME_UNKNOWN], ==, 2);
  g_assert_cmpuint (stats.frames[MR_FRAME_I], ==, 5);
  g_assert_cmpuint (stats.frames[MR_FRAME_P], ==, 3);
  g_assert_cmpuint (stats.frames[MR_FRAME_B], ==, 3);
  g_assert_cmpuint (stats.keyframes, ==, 4);

  g_assert_cmpstr (mr_frame_type_to_string (MR_FRAME_I), ==, "I");
  g_assert_cmpstr (mr_frame_type_to_string (MR_FRAME_P), ==, "P");
  g_assert_cmpstr (mr_frame_type_to_string (MR_FRAME_B), ==, "B");
  g_assert_cmpstr (mr_frame_type_to_string (MR_FRAME_UNKNOWN), ==,
      "unknown");
  g_assert_cmpstr (mr_frame_type_to_string ((MrFrameType) 9), ==, "unknown");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/frame-types/samples", test_samples);
  g_test_add_func ("/frame-types/whole-stream", test_whole_stream);
  g_test_add_func ("/frame-types/h264", test_h264);
  g_test_add_func ("/frame-types/hevc", test_hevc);
  g_test_add_func ("/frame-types/mpeg2", test_mpeg2);
  g_test_add_func ("/frame-types/av1", test_av1);
  g_test_add_func ("/frame-types/truncations", test_truncations);
  g_test_add_func ("/frame-types/random", test_random);
  g_test_add_func ("/frame-types/null-and-empty", test_null_and_empty);
  g_test_add_func ("/frame-types/gop-stats", test_gop_stats);

  return g_test_run ();
}
