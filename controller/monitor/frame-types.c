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
 * What GStreamer's codecparsers library (gstreamer-codecparsers-1.0, 1.22)
 * does here, and what it cannot:
 *
 *  - H.264: gst_h264_parser_identify_nalu () finds the NAL units of the
 *    access unit and reads their headers (type, IdrPicFlag).  The slice
 *    type is read by us, from the two fields in front of it
 *    (first_mb_in_slice, slice_type): gst_h264_parser_parse_slice_hdr ()
 *    returns BROKEN_LINK for a slice whose PPS and SPS it has not parsed
 *    (slice_type comes before pic_parameter_set_id, but the function stops
 *    there without saying it), which is every picture but the IDR ones when
 *    an access unit is read on its own, and it fails the whole slice when
 *    anything later in its header (reference lists, weights, marking) is
 *    cut short or damaged.  NAL 20 (SVC/MVC extension slices) belongs to
 *    other layers / views: ignored.  Keyframe: IdrPicFlag (NAL 5).
 *
 *  - HEVC: gst_h265_parser_identify_nalu () finds the NAL units and reads
 *    their headers; gst_h265_parser_parse_nal () parses the VPS, SPS and
 *    PPS and keeps them (in a GstH265Parser made when the first of them
 *    comes, kept by a MrFrameTypeParser across access units).  The slice
 *    segment header is read by us up to slice_type, for the same reasons
 *    as H.264 (gst_h265_parser_parse_slice_hdr () needs the PPS, which
 *    encoders send with the IRAP pictures only, and the whole header):
 *    first_slice_segment_in_pic_flag, no_output_of_prior_pics_flag for
 *    IRAP, slice_pic_parameter_set_id, then for the slice segments after
 *    the first dependent_slice_segment_flag and slice_segment_address
 *    (their presence and length from the library's PPS and SPS),
 *    num_extra_slice_header_bits bits (from the PPS), slice_type: 0 B,
 *    1 P, 2 I.  Base layer only (nuh_layer_id 0), defined VCL types only
 *    (0-9, 16-21; the reserved ones are ignored as the spec tells
 *    decoders to).  Keyframe: an IRAP picture (16-23: BLA, IDR, CRA).
 *    Without the PPS of a slice (not in the access unit, not kept from an
 *    earlier one):
 *     - the first slice segment of the picture is read assuming
 *       num_extra_slice_header_bits = 0 (what every encoder we know
 *       writes);
 *     - the other slice segments are skipped (their address has a length
 *       we do not know), so the picture is the type of its first one.
 *    Dependent slice segments have their slice's type: skipped.  A VPS,
 *    SPS or PPS the library refuses (cut short, out of range) is not
 *    kept: an earlier one of the same id stays.
 *
 *  - MPEG-2 (and MPEG-1) video (one picture as mpegvideoparse outputs it,
 *    sequence and GOP headers included): gst_mpeg_video_parse () finds the
 *    start codes, gst_mpeg_video_packet_parse_picture_header () reads
 *    picture_coding_type: 1 I, 2 P, 3 B, 4 D (MPEG-1 DC pictures, intra:
 *    I); a picture header cut short (without its vbv_delay, and its
 *    f_codes for P and B) or of another coding type says nothing.
 *    Keyframe: an I picture after a sequence header (0xB3) or a GOP header
 *    (0xB8) in the same data.  Two field pictures in the same data are the
 *    lowest of the two (an I field and a P field: P), a keyframe if the I
 *    field is.
 *
 *  - AV1 (low overhead bitstream format, one temporal unit): our own code,
 *    on GstBitReader.  In 1.22 gst_av1_parser_identify_one_obu () refuses
 *    an OBU without obu_has_size_field outside Annex B and an OBU cut
 *    short, and gst_av1_parser_parse_frame_header_obu () needs the
 *    sequence header and the reference frame state of every frame before
 *    (a decoder's bookkeeping, gst_av1_parser_reference_frame_update ()):
 *    it cannot type a temporal unit on its own, nor any frame before the
 *    first sequence header and key frame of a stream joined midway.  Every
 *    OBU_FRAME (6) and OBU_FRAME_HEADER (3) gives, from the uncompressed
 *    header, show_existing_frame and frame_type: KEY_FRAME I (and
 *    keyframe), INTRA_ONLY I, INTER and SWITCH P.  AV1 has no B frames in
 *    the MPEG sense: a frame predicted from both directions (from a hidden
 *    "alt-ref" frame ahead in display order) is an INTER frame, P; that is
 *    what ffprobe says too.  A frame shown again with show_existing_frame
 *    (the hidden alt-ref frame, when its display time comes) is P: its
 *    type was in an earlier temporal unit (a key frame shown that way,
 *    libaom's forward key frames, is P and not a keyframe here; its
 *    temporal unit with the hidden key frame is the keyframe).  Those
 *    header bits need reduced_still_picture_header from the sequence
 *    header OBU (1): read when in the temporal unit (encoders repeat it
 *    with every key frame), else the one a MrFrameTypeParser kept, else
 *    assumed 0 (1 is only for still pictures: AVIF).  An OBU without
 *    obu_has_size_field runs to the end of the data; an OBU cut short is
 *    read as far as it goes.  OBU_REDUNDANT_FRAME_HEADER (7) repeats a
 *    header already read: ignored.
 *
 * Whatever the input, nothing is read past @size and what cannot be read
 * is skipped.  When nothing readable is left, MR_FRAME_UNKNOWN.  A picture
 * of several slices (or a temporal unit of several frames) is the
 * "lowest" of them: B over P over I, which is the largest MrFrameType. */

#define G_LOG_DOMAIN "mroute-frame-types"
#include "frame-types.h"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API    /* codecparsers' */
#endif
#include <gst/base/gstbitreader.h>
#include <gst/codecparsers/gsth264parser.h>
#include <gst/codecparsers/gsth265parser.h>
#include <gst/codecparsers/gstmpegvideoparser.h>

#include <string.h>

static MrFrameType
lowest (MrFrameType a, MrFrameType b)
{
  return MAX (a, b);
}

typedef struct
{
  MrFrameType type;
  gboolean keyframe;
} ParseResult;

/* gst_h26x_parser_identify_nalu () reads nothing of its parser: one
 * splitter each, shared and never written, so that a call without
 * parameter sets allocates nothing. */
static GstH264NalParser *
h264_splitter (void)
{
  static GstH264NalParser *splitter;

  if (g_once_init_enter (&splitter))
    g_once_init_leave (&splitter, gst_h264_nal_parser_new ());
  return splitter;
}

static GstH265Parser *
h265_splitter (void)
{
  static GstH265Parser *splitter;

  if (g_once_init_enter (&splitter))
    g_once_init_leave (&splitter, gst_h265_parser_new ());
  return splitter;
}

/* The first bytes of a slice header without their emulation prevention
 * bytes (0x03 after two zero bytes): what is in front of slice_type fits
 * in 21 bytes (H.264: two ue(v); HEVC: two flags, one ue(v), one flag, a
 * 24-bit address, 7 extra bits). */
#define SLICE_PREFIX 32

typedef struct
{
  guint8 rbsp[SLICE_PREFIX];
  GstBitReader br;
} SliceReader;

static void
slice_reader_init (SliceReader * r, const guint8 * payload, gsize size)
{
  guint n = 0, zeros = 0;

  for (gsize i = 0; i < size && n < SLICE_PREFIX; i++) {
    if (zeros >= 2 && payload[i] == 0x03) {
      zeros = 0;
      continue;
    }
    zeros = payload[i] == 0 ? zeros + 1 : 0;
    r->rbsp[n++] = payload[i];
  }
  gst_bit_reader_init (&r->br, r->rbsp, n);
}

static gboolean
read_flag (SliceReader * r, guint * flag)
{
  guint8 v;

  if (!gst_bit_reader_get_bits_uint8 (&r->br, &v, 1))
    return FALSE;
  *flag = v;
  return TRUE;
}

/* ue(v), up to 2^32 - 2 */
static gboolean
read_ue (SliceReader * r, guint32 * value)
{
  guint zeros = 0;
  guint32 rest = 0;
  guint flag;

  do {
    if (!read_flag (r, &flag))
      return FALSE;
  } while (!flag && ++zeros <= 31);
  if (zeros > 31)
    return FALSE;
  if (zeros > 0 && !gst_bit_reader_get_bits_uint32 (&r->br, &rest, zeros))
    return FALSE;
  *value = (guint32) ((G_GUINT64_CONSTANT (1) << zeros) - 1 + rest);
  return TRUE;
}

/* The size of the NAL unit of @size bytes at @offset without trailing zero
 * bytes.  The library leaves them on the last NAL unit of the data, and
 * more: its scan wants a byte after a start code (H.264) or two (HEVC)
 * before it ends a NAL unit there, so data that ends with a start code
 * and less than that has it in its last NAL unit.  No NAL unit has
 * 00 00 01 in it (emulation prevention): it ends at the first. */
static gsize
nal_size (const guint8 * data, guint offset, guint size, gboolean last)
{
  const guint8 *nal = data + offset;

  for (guint i = 0; last && i + 3 <= size; i++) {
    if (nal[i + 2] > 1)
      i += 2;
    else if (nal[i] == 0 && nal[i + 1] == 0 && nal[i + 2] == 1)
      size = i;
  }
  while (size > 0 && nal[size - 1] == 0)
    size--;
  return size;
}

/* H.264 */

static void
h264_nal (const GstH264NalUnit * nalu, gboolean last, ParseResult * res)
{
  static const MrFrameType types[5] = {
    [GST_H264_P_SLICE] = MR_FRAME_P,
    [GST_H264_B_SLICE] = MR_FRAME_B,
    [GST_H264_I_SLICE] = MR_FRAME_I,
    [GST_H264_SP_SLICE] = MR_FRAME_P,
    [GST_H264_SI_SLICE] = MR_FRAME_I,
  };
  const guint8 *nal = nalu->data + nalu->offset;
  gsize size = nal_size (nalu->data, nalu->offset, nalu->size, last);
  SliceReader r;
  guint32 first_mb, slice_type;

  if (size < 1 || (nal[0] & 0x80))     /* forbidden_zero_bit */
    return;
  if (nalu->type != GST_H264_NAL_SLICE && nalu->type != GST_H264_NAL_SLICE_IDR)
    return;

  slice_reader_init (&r, nal + nalu->header_bytes, size - nalu->header_bytes);
  if (!read_ue (&r, &first_mb) || !read_ue (&r, &slice_type)
      || slice_type > 9)
    return;

  res->type = lowest (res->type, types[slice_type % 5]);
  if (nalu->idr_pic_flag)
    res->keyframe = TRUE;
}

static void
h264_parse (const guint8 * data, guint size, ParseResult * res)
{
  GstH264NalParser *splitter = h264_splitter ();
  GstH264NalUnit nalu;
  guint offset = 0;

  while (offset < size) {
    GstH264ParserResult r = gst_h264_parser_identify_nalu (splitter, data,
        offset, size, &nalu);

    if (r == GST_H264_PARSER_OK || r == GST_H264_PARSER_NO_NAL_END)
      h264_nal (&nalu, r == GST_H264_PARSER_NO_NAL_END, res);
    else if (r != GST_H264_PARSER_BROKEN_DATA)
      return;
    if (r == GST_H264_PARSER_NO_NAL_END)
      return;
    offset = nalu.offset + nalu.size;
  }
}

/* HEVC */

/* The parser's PPS @pps_id and its SPS, or NULL */
static const GstH265PPS *
hevc_pps (const MrFrameTypeParser * parser, guint pps_id,
    const GstH265SPS ** sps)
{
  const GstH265PPS *pps;

  *sps = NULL;
  if (!parser->hevc || pps_id >= GST_H265_MAX_PPS_COUNT)
    return NULL;
  pps = &parser->hevc->pps[pps_id];
  if (!pps->valid)
    return NULL;
  if (pps->sps_id < GST_H265_MAX_SPS_COUNT
      && parser->hevc->sps[pps->sps_id].valid)
    *sps = &parser->hevc->sps[pps->sps_id];
  return pps;
}

/* Ceil (Log2 (PicSizeInCtbsY)), the length of slice_segment_address; -1
 * for sizes the spec does not allow */
static gint
hevc_address_bits (const GstH265SPS * sps)
{
  guint ctb_log2 = sps->log2_min_luma_coding_block_size_minus3 + 3 +
      sps->log2_diff_max_min_luma_coding_block_size;
  guint64 ctbs;
  gint bits = 0;

  if (ctb_log2 < 4 || ctb_log2 > 6 || sps->pic_width_in_luma_samples == 0
      || sps->pic_height_in_luma_samples == 0)
    return -1;
  ctbs = (guint64) ((sps->pic_width_in_luma_samples + (1u << ctb_log2) - 1)
      >> ctb_log2) * ((sps->pic_height_in_luma_samples + (1u << ctb_log2) -
          1) >> ctb_log2);
  while ((G_GUINT64_CONSTANT (1) << bits) < ctbs)
    bits++;
  return bits;
}

static void
hevc_slice (MrFrameTypeParser * parser, const GstH265NalUnit * nalu,
    const guint8 * payload, gsize size, ParseResult * res)
{
  static const MrFrameType types[3] = {
    [GST_H265_B_SLICE] = MR_FRAME_B,
    [GST_H265_P_SLICE] = MR_FRAME_P,
    [GST_H265_I_SLICE] = MR_FRAME_I,
  };
  gboolean irap = GST_H265_IS_NAL_TYPE_IRAP (nalu->type);
  const GstH265PPS *pps;
  const GstH265SPS *sps;
  SliceReader r;
  guint first, skip, extra_bits = 0;
  guint32 pps_id, slice_type;

  slice_reader_init (&r, payload, size);
  if (!read_flag (&r, &first)   /* first_slice_segment_in_pic_flag */
      || (irap && !read_flag (&r, &skip))       /* no_output_of_prior_pics */
      || !read_ue (&r, &pps_id) || pps_id >= GST_H265_MAX_PPS_COUNT)
    return;

  pps = hevc_pps (parser, pps_id, &sps);
  if (pps)
    extra_bits = pps->num_extra_slice_header_bits;
  else if (!first)
    return;
  if (!first) {
    guint dependent = 0;
    gint address_bits = sps ? hevc_address_bits (sps) : -1;

    if (address_bits < 0)
      return;
    if (pps->dependent_slice_segments_enabled_flag
        && (!read_flag (&r, &dependent) || dependent))
      return;                   /* dependent: its slice's type */
    if (!gst_bit_reader_skip (&r.br, address_bits))
      return;
  }
  if (!gst_bit_reader_skip (&r.br, extra_bits)  /* slice_reserved_flag[] */
      || !read_ue (&r, &slice_type) || slice_type > GST_H265_I_SLICE)
    return;

  res->type = lowest (res->type, types[slice_type]);
  if (irap)
    res->keyframe = TRUE;
}

static void
hevc_nal (MrFrameTypeParser * parser, GstH265NalUnit * nalu, gboolean last,
    ParseResult * res)
{
  const guint8 *nal = nalu->data + nalu->offset;
  gsize size = nal_size (nalu->data, nalu->offset, nalu->size, last);

  if (size < nalu->header_bytes || (nal[0] & 0x80)
      || nalu->temporal_id_plus1 == 0 || nalu->layer_id != 0)
    return;

  switch (nalu->type) {
    case GST_H265_NAL_VPS:
    case GST_H265_NAL_SPS:
    case GST_H265_NAL_PPS:
      if (!parser->hevc)
        parser->hevc = gst_h265_parser_new ();
      nalu->size = size;
      gst_h265_parser_parse_nal (parser->hevc, nalu);
      return;
    default:
      break;
  }
  if (nalu->type > GST_H265_NAL_SLICE_CRA_NUT
      || (nalu->type > GST_H265_NAL_SLICE_RASL_R
          && nalu->type < GST_H265_NAL_SLICE_BLA_W_LP))
    return;
  hevc_slice (parser, nalu, nal + nalu->header_bytes,
      size - nalu->header_bytes, res);
}

static void
hevc_parse (MrFrameTypeParser * parser, const guint8 * data, guint size,
    ParseResult * res)
{
  GstH265Parser *splitter = h265_splitter ();
  GstH265NalUnit nalu;
  guint offset = 0;

  while (offset < size) {
    GstH265ParserResult r = gst_h265_parser_identify_nalu (splitter, data,
        offset, size, &nalu);

    if (r == GST_H265_PARSER_OK || r == GST_H265_PARSER_NO_NAL_END)
      hevc_nal (parser, &nalu, r == GST_H265_PARSER_NO_NAL_END, res);
    else if (r != GST_H265_PARSER_BROKEN_DATA)
      return;
    if (r == GST_H265_PARSER_NO_NAL_END)
      return;
    offset = nalu.offset + nalu.size;
  }
}

/* MPEG-2 */

static void
mpeg2_parse (const guint8 * data, guint size, ParseResult * res)
{
  GstMpegVideoPacket packet;
  gboolean headers = FALSE;
  guint offset = 0;

  while (gst_mpeg_video_parse (&packet, data, size, offset)) {
    GstMpegVideoPictureHdr hdr;
    MrFrameType type = MR_FRAME_UNKNOWN;

    /* the last one: to the end */
    if (packet.size < 0)
      packet.size = size - packet.offset;

    switch (packet.type) {
      case GST_MPEG_VIDEO_PACKET_SEQUENCE:
      case GST_MPEG_VIDEO_PACKET_GOP:
        headers = TRUE;
        break;
      case GST_MPEG_VIDEO_PACKET_PICTURE:
        if (!gst_mpeg_video_packet_parse_picture_header (&packet, &hdr))
          break;
        switch (hdr.pic_type) {
          case GST_MPEG_VIDEO_PICTURE_TYPE_I:
          case GST_MPEG_VIDEO_PICTURE_TYPE_D:
            type = MR_FRAME_I;
            break;
          case GST_MPEG_VIDEO_PICTURE_TYPE_P:
            type = MR_FRAME_P;
            break;
          case GST_MPEG_VIDEO_PICTURE_TYPE_B:
            type = MR_FRAME_B;
            break;
          default:
            break;
        }
        res->type = lowest (res->type, type);
        if (type == MR_FRAME_I && headers)
          res->keyframe = TRUE;
        break;
      default:
        break;
    }
    offset = packet.offset + packet.size;
  }
}

/* AV1: see the top of the file for why not gstav1parser */

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
    GstBitReader br;
    guint8 bit, frame_type;

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
    gst_bit_reader_init (&br, data + pos, payload_size);

    if (obu_type == OBU_SEQUENCE_HEADER) {
      /* seq_profile (3), still_picture (1), reduced_still_picture_header */
      if (gst_bit_reader_skip (&br, 4)
          && gst_bit_reader_get_bits_uint8 (&br, &bit, 1))
        parser->av1_reduced_still_picture_header = bit;
    } else if ((obu_type == OBU_FRAME_HEADER || obu_type == OBU_FRAME)
        && payload_size > 0) {
      if (parser->av1_reduced_still_picture_header == 1) {
        /* KEY_FRAME, shown */
        res->type = lowest (res->type, MR_FRAME_I);
        res->keyframe = TRUE;
      } else if (gst_bit_reader_get_bits_uint8 (&br, &bit, 1)) {
        if (bit) {              /* show_existing_frame */
          res->type = lowest (res->type, MR_FRAME_P);
        } else if (gst_bit_reader_get_bits_uint8 (&br, &frame_type, 2)) {
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

void
mr_frame_type_parser_clear (MrFrameTypeParser * parser)
{
  g_return_if_fail (parser != NULL);

  g_clear_pointer (&parser->hevc, gst_h265_parser_free);
  mr_frame_type_parser_init (parser);
}

MrFrameType
mr_frame_type_parser_parse (MrFrameTypeParser * parser, MrVideoCodec codec,
    const guint8 * data, gsize size, gboolean * keyframe)
{
  ParseResult res = { MR_FRAME_UNKNOWN, FALSE };

  if (keyframe)
    *keyframe = FALSE;
  g_return_val_if_fail (parser != NULL, MR_FRAME_UNKNOWN);
  if (data == NULL)
    size = 0;
  /* the library's offsets are guint: an access unit is far smaller */
  size = MIN (size, G_MAXUINT32);

  switch (codec) {
    case MR_VIDEO_CODEC_H264:
      h264_parse (data, size, &res);
      break;
    case MR_VIDEO_CODEC_HEVC:
      hevc_parse (parser, data, size, &res);
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
  MrFrameType type;

  mr_frame_type_parser_init (&parser);
  type = mr_frame_type_parser_parse (&parser, codec, data, size, keyframe);
  mr_frame_type_parser_clear (&parser);
  return type;
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
