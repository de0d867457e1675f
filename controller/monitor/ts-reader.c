/* mroute: the monitor's in-place reader of a flow's MPEG-TS: PAT, PMT,
 * the heads of the PES packets, the parameter sets and audio frame headers
 * in them; see ts-reader.h.
 *
 * What it costs: per TS packet, its 4-byte header and a look-up of its PID
 * among the program's streams; per video picture, the first bytes of its
 * PES up to its first slice header (a few hundred bytes, copied once into
 * the stream's head buffer); per audio PES, one frame header.  The
 * parameter sets are parsed again only when their bytes change, the PAT
 * and PMT only when a section differs from the last one read.
 *
 * What the parsers did that this does not:
 *  - a picture of several slices whose slices are not all of one type is
 *    typed by its first slice, not by the lowest of all of them (as
 *    frame-types.h does for a whole access unit);
 *  - a PES that carries several pictures counts as one picture (every
 *    muxer we know puts one access unit in a video PES);
 *  - the frame rate of an H.264 stream whose VUI says more than its level
 *    allows is not set aside (h264parse then says 0/1). */

#include "ts-reader.h"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API    /* codecparsers' */
#endif
#include <gst/codecparsers/gsth264parser.h>
#include <gst/codecparsers/gsth265parser.h>

#include <string.h>

#define SECTION_MAX 1024        /* PAT and PMT: section_length <= 1021 */
#define HEAD_MAX 4096           /* of a video PES: up to its first slice */
#define SLICE_HEAD 32           /* bytes of a slice NAL read for its type */
#define SPS_MAX 1024

typedef struct
{
  guint8 data[SECTION_MAX + MR_TS_PACKET_SIZE];
  guint len;
  gboolean open;
} Section;

/* ---------------------------------------------------------------------- */
/* streams */

static void
stream_free (MrTsStream * st)
{
  g_free (st->head);
  g_free (st->sps);
  mr_frame_type_parser_clear (&st->frames);
  if (st->nal_parser && st->codec == MR_VIDEO_CODEC_H264)
    gst_h264_nal_parser_free (st->nal_parser);
  else if (st->nal_parser)
    gst_h265_parser_free (st->nal_parser);
  g_free (st);
}

/* A stream of @stream_type, NULL when this reader does not read it */
static MrTsStream *
stream_new (guint8 stream_type, guint16 pid)
{
  MrTsStream *st = g_new0 (MrTsStream, 1);

  st->pid = pid;
  st->stream_type = stream_type;
  st->vcl_at = -1;
  mr_frame_type_parser_init (&st->frames);
  switch (stream_type) {
    case 0x1B:
      st->video = TRUE;
      st->codec = MR_VIDEO_CODEC_H264;
      st->media_type = "video/x-h264";
      st->codec_name = "h264";
      st->nal_parser = gst_h264_nal_parser_new ();
      break;
    case 0x24:
      st->video = TRUE;
      st->codec = MR_VIDEO_CODEC_HEVC;
      st->media_type = "video/x-h265";
      st->codec_name = "hevc";
      st->nal_parser = gst_h265_parser_new ();
      break;
    case 0x0F:                 /* AAC in ADTS */
      st->media_type = "audio/mpeg";
      st->codec_name = "aac";
      break;
    case 0x03:                 /* MPEG-1 and MPEG-2 audio */
    case 0x04:
      st->media_type = "audio/mpeg";
      st->codec_name = "mp2";   /* tsdemux's caps say no layer */
      break;
    default:
      stream_free (st);
      return NULL;
  }
  if (st->video)
    st->head = g_malloc (HEAD_MAX);
  return st;
}

/* ---------------------------------------------------------------------- */
/* video: parameter sets and the type of each picture */

/* h264parse's spelling of the profile (gsth264parse.c, get_profile_string) */
static const gchar *
h264_profile (const GstH264SPS * sps)
{
  switch (sps->profile_idc) {
    case 66:
      return sps->constraint_set1_flag ? "constrained-baseline" : "baseline";
    case 77:
      return "main";
    case 88:
      return "extended";
    case 100:
      if (sps->constraint_set4_flag)
        return sps->constraint_set5_flag ? "constrained-high" :
            "progressive-high";
      return "high";
    case 110:
      if (sps->constraint_set3_flag)
        return "high-10-intra";
      return sps->constraint_set4_flag ? "progressive-high-10" : "high-10";
    case 122:
      return sps->constraint_set3_flag ? "high-4:2:2-intra" : "high-4:2:2";
    case 244:
      return sps->constraint_set3_flag ? "high-4:4:4-intra" : "high-4:4:4";
    case 44:
      return "cavlc-4:4:4-intra";
    case 118:
      return "multiview-high";
    case 128:
      return "stereo-high";
    case 83:
      return sps->constraint_set5_flag ? "scalable-constrained-baseline" :
          "scalable-baseline";
    case 86:
      if (sps->constraint_set3_flag)
        return "scalable-high-intra";
      return sps->constraint_set5_flag ? "scalable-constrained-high" :
          "scalable-high";
    default:
      return NULL;
  }
}

/* TRUE when @nal (header included) is not the SPS read last */
static gboolean
sps_changed (MrTsStream * st, const guint8 * nal, guint size)
{
  if (size > SPS_MAX)
    return FALSE;
  if (st->sps && st->sps_len == size && memcmp (st->sps, nal, size) == 0)
    return FALSE;
  g_free (st->sps);
  st->sps = g_memdup2 (nal, size);
  st->sps_len = size;
  return TRUE;
}

/* reduced, as a GstFraction in the parsers' caps is */
static void
set_fps (MrTsStream * st, gint n, gint d)
{
  if (n > 0 && d > 0) {
    gint g = gst_util_greatest_common_divisor (n, d);

    st->fps_n = n / g;
    st->fps_d = d / g;
  } else {
    st->fps_n = st->fps_d = 0;
  }
}

static void
h264_parameters (MrTsStream * st, const guint8 * data, guint size)
{
  GstH264NalParser *parser = st->nal_parser;
  GstH264NalUnit nalu;
  guint offset = 0;

  while (offset < size) {
    GstH264ParserResult res = gst_h264_parser_identify_nalu (parser, data,
        offset, size, &nalu);
    GstH264SPS sps;
    gint n, d;

    if (res != GST_H264_PARSER_OK && res != GST_H264_PARSER_NO_NAL_END)
      return;
    if (nalu.type >= 1 && nalu.type <= 5)
      return;                   /* the slices: the parameter sets are before */
    if (nalu.type == GST_H264_NAL_SPS && res == GST_H264_PARSER_OK
        && sps_changed (st, data + nalu.offset, nalu.size)
        && gst_h264_parser_parse_sps (parser, &nalu, &sps) ==
        GST_H264_PARSER_OK) {
      st->width = sps.frame_cropping_flag ? sps.crop_rect_width : sps.width;
      st->height = sps.frame_cropping_flag ? sps.crop_rect_height :
          sps.height;
      gst_h264_video_calculate_framerate (&sps, 0, 0, &n, &d);
      set_fps (st, n, d);
      st->profile = h264_profile (&sps);
      st->known = TRUE;
      gst_h264_sps_clear (&sps);
    }
    if (res == GST_H264_PARSER_NO_NAL_END)
      return;
    offset = nalu.offset + nalu.size;
  }
}

/* h265parse's frame rate: the SPS's, else the VUI's timing (halved for
 * field pictures; not read here, as in progressive streams) */
static void
hevc_fps (MrTsStream * st, const GstH265SPS * sps)
{
  const GstH265VUIParams *vui = &sps->vui_params;

  st->fps_n = st->fps_d = 0;
  if (!sps->vui_parameters_present_flag || !vui->timing_info_present_flag)
    return;
  if (!(sps->fps_num == 0 && sps->fps_den == 1))
    set_fps (st, sps->fps_num, sps->fps_den);
  else
    set_fps (st, vui->time_scale, vui->num_units_in_tick);
}

/* h265parse's profile: the SPS's, else a guess from chroma format and bit
 * depth */
static const gchar *
hevc_profile (GstH265SPS * sps)
{
  GstH265Profile p = gst_h265_get_profile_from_sps (sps);
  guint depth = sps->bit_depth_luma_minus8;

  if (p == GST_H265_PROFILE_INVALID) {
    switch (sps->chroma_format_idc) {
      case 0:
        p = depth == 0 ? GST_H265_PROFILE_MONOCHROME : depth <= 2 ?
            GST_H265_PROFILE_MONOCHROME_10 : depth <= 4 ?
            GST_H265_PROFILE_MONOCHROME_12 : GST_H265_PROFILE_MONOCHROME_16;
        break;
      case 1:
        p = depth == 0 ? GST_H265_PROFILE_MAIN : depth <= 2 ?
            GST_H265_PROFILE_MAIN_10 : depth <= 4 ? GST_H265_PROFILE_MAIN_12 :
            GST_H265_PROFILE_MAIN_444_16_INTRA;
        break;
      case 2:
        p = depth <= 2 ? GST_H265_PROFILE_MAIN_422_10 : depth <= 4 ?
            GST_H265_PROFILE_MAIN_422_12 : GST_H265_PROFILE_MAIN_444_16_INTRA;
        break;
      case 3:
        p = depth == 0 ? GST_H265_PROFILE_MAIN_444 : depth <= 2 ?
            GST_H265_PROFILE_MAIN_444_10 : depth <= 4 ?
            GST_H265_PROFILE_MAIN_444_12 : GST_H265_PROFILE_MAIN_444_16_INTRA;
        break;
      default:
        break;
    }
  }
  return gst_h265_profile_to_string (p);
}

static void
hevc_parameters (MrTsStream * st, const guint8 * data, guint size)
{
  GstH265Parser *parser = st->nal_parser;
  GstH265NalUnit nalu;
  guint offset = 0;

  while (offset < size) {
    GstH265ParserResult res = gst_h265_parser_identify_nalu (parser, data,
        offset, size, &nalu);

    if (res != GST_H265_PARSER_OK && res != GST_H265_PARSER_NO_NAL_END)
      return;
    if (nalu.type < 32)
      return;                   /* the slices: the parameter sets are before */
    if (res == GST_H265_PARSER_OK && nalu.layer_id == 0) {
      if (nalu.type == GST_H265_NAL_VPS) {
        GstH265VPS vps;

        gst_h265_parser_parse_vps (parser, &nalu, &vps);
      } else if (nalu.type == GST_H265_NAL_SPS
          && sps_changed (st, data + nalu.offset, nalu.size)) {
        GstH265SPS sps;

        if (gst_h265_parser_parse_sps (parser, &nalu, &sps, TRUE) ==
            GST_H265_PARSER_OK) {
          st->width = sps.conformance_window_flag ? sps.crop_rect_width :
              sps.width;
          st->height = sps.conformance_window_flag ? sps.crop_rect_height :
              sps.height;
          hevc_fps (st, &sps);
          st->profile = hevc_profile (&sps);
          st->known = TRUE;
        }
      }
    }
    if (res == GST_H265_PARSER_NO_NAL_END)
      return;
    offset = nalu.offset + nalu.size;
  }
}

/* The head of a video PES is complete (or the PES ended): its parameter
 * sets when it has an SPS, and the type of its picture for the GOP
 * statistics, from its first slice header (what frame-types.c reads of
 * it: a few bytes) */
static void
video_head (MrTsReader * r, MrTsStream * st)
{
  MrFrameType type;
  gboolean keyframe = FALSE;
  guint end;

  st->head_done = TRUE;
  if (st->sps_in_head) {
    if (st->codec == MR_VIDEO_CODEC_H264)
      h264_parameters (st, st->head, st->head_len);
    else
      hevc_parameters (st, st->head, st->head_len);
  }
  /* a PES without a slice (or whose first slice is beyond the head) is
   * not a picture we can see */
  if (st->vcl_at < 0)
    return;
  end = MIN (st->head_len, (guint) st->vcl_at + SLICE_HEAD);
  if (st->codec == MR_VIDEO_CODEC_H264) {
    /* from the slice's start code: nothing before it is needed */
    type = mr_frame_type_parser_parse (&st->frames, st->codec,
        st->head + st->vcl_at - 3, end - (st->vcl_at - 3), &keyframe);
  } else {
    /* HEVC: the parameter sets before the slice teach the parser the
     * slice header's layout */
    type = mr_frame_type_parser_parse (&st->frames, st->codec, st->head,
        end, &keyframe);
  }
  mr_gop_stats_add (&st->gop, type, keyframe);
  if (r->picture_func)
    r->picture_func (r, st, type, keyframe, r->picture_data);
}

/* Looks for the first slice NAL in the bytes of the head not yet
 * searched, noting an SPS on the way */
static void
find_slice (MrTsStream * st)
{
  const guint8 *h = st->head;
  guint i = st->scan_from;

  for (; i + 3 < st->head_len; i++) {
    const guint8 *p;

    /* a start code ends with 00 00 01: look for the 01 */
    p = memchr (h + i + 2, 0x01, st->head_len - 1 - (i + 2));
    if (!p)
      break;
    i = p - h - 2;
    if (h[i] != 0 || h[i + 1] != 0)
      continue;
    {
      guint8 b = h[i + 3];
      guint type = st->codec == MR_VIDEO_CODEC_H264 ? b & 0x1F :
          (b >> 1) & 0x3F;
      gboolean vcl = st->codec == MR_VIDEO_CODEC_H264 ?
          (type >= 1 && type <= 5) : type < 32;

      if (vcl) {
        st->vcl_at = i + 3;
        return;
      }
      if (type == (st->codec == MR_VIDEO_CODEC_H264 ? 7u : 33u))
        st->sps_in_head = TRUE;
    }
  }
  /* the last bytes may be the start of a start code */
  st->scan_from = st->head_len > 3 ? st->head_len - 3 : 0;
}

static void
video_payload (MrTsReader * r, MrTsStream * st, const guint8 * d, guint len)
{
  guint take = MIN (len, HEAD_MAX - st->head_len);

  memcpy (st->head + st->head_len, d, take);
  st->head_len += take;
  if (st->vcl_at < 0)
    find_slice (st);
  if ((st->vcl_at >= 0 && st->head_len >= (guint) st->vcl_at + SLICE_HEAD)
      || st->head_len == HEAD_MAX)
    video_head (r, st);
}

/* ---------------------------------------------------------------------- */
/* audio: the frame header at the start of the PES */

static const gint aac_rates[] = { 96000, 88200, 64000, 48000, 44100, 32000,
  24000, 22050, 16000, 12000, 11025, 8000, 7350
};

static const gchar *aac_profiles[] = { "main", "lc", "ssr", "ltp" };

static gboolean
adts_header (MrTsStream * st, const guint8 * d)
{
  guint sfi = (d[2] >> 2) & 0xF;
  guint ch = ((d[2] & 1) << 2) | (d[3] >> 6);

  if (d[0] != 0xFF || (d[1] & 0xF6) != 0xF0 || sfi >= G_N_ELEMENTS (aac_rates))
    return FALSE;
  st->sample_rate = aac_rates[sfi];
  st->channels = ch == 7 ? 8 : ch;
  st->profile = aac_profiles[d[2] >> 6];
  return TRUE;
}

static gboolean
mpeg_audio_header (MrTsStream * st, const guint8 * d)
{
  static const gint rates[] = { 44100, 48000, 32000 };
  static const gchar *names[] = { NULL, "mp3", "mp2", "mp1" };
  guint version = (d[1] >> 3) & 3;      /* 0 MPEG-2.5, 2 MPEG-2, 3 MPEG-1 */
  guint layer = (d[1] >> 1) & 3;        /* 1 layer III ... 3 layer I */
  guint sfi = (d[2] >> 2) & 3;

  if (d[0] != 0xFF || (d[1] & 0xE0) != 0xE0 || version == 1 || layer == 0
      || sfi == 3 || (d[2] >> 4) == 0xF)
    return FALSE;
  st->sample_rate = rates[sfi] >> (version == 3 ? 0 : version == 2 ? 1 : 2);
  st->channels = (d[3] >> 6) == 3 ? 1 : 2;
  st->codec_name = names[layer];
  return TRUE;
}

/* The first frame header in the first bytes of the PES payload; parsed
 * again only when it differs from the last one (its first 4 bytes: sync,
 * version, profile, rate, channels) */
static void
audio_payload (MrTsStream * st, const guint8 * d, guint len)
{
  st->head_done = TRUE;
  for (guint i = 0; i + 7 <= len; i++) {
    guint32 header;

    if (d[i] != 0xFF || (d[i + 1] & 0xE0) != 0xE0)
      continue;
    header = GST_READ_UINT32_BE (d + i);
    if (st->stream_type == 0x0F)
      header &= 0xFFFFFFC0;     /* without the frame length's first bits */
    else
      header &= 0xFFFE0CC0;     /* without bit rate, padding, private */
    if (st->known && header == st->audio_header)
      return;
    if (st->stream_type == 0x0F ? adts_header (st, d + i) :
        mpeg_audio_header (st, d + i)) {
      st->audio_header = header;
      st->known = TRUE;
      return;
    }
  }
}

/* ---------------------------------------------------------------------- */
/* PES */

/* The bit rate's window closes at a PES start, not at every packet */
static void
es_window (MrTsStream * st, gint64 now)
{
  st->last_data = now;
  if (!st->window_start) {
    st->window_start = now;
  } else if (now - st->window_start >= MR_TS_BITRATE_WINDOW_US) {
    st->bit_rate = st->window_bytes * 8 * G_USEC_PER_SEC /
        (now - st->window_start);
    st->window_bytes = 0;
    st->window_start = now;
  }
}

static void
es_packet (MrTsReader * r, MrTsStream * st, const guint8 * d, guint len,
    gboolean start, gint64 now)
{
  if (start) {
    guint hl;

    if (st->in_pes && !st->head_done && st->video)
      video_head (r, st);
    st->in_pes = FALSE;
    if (len < 9 || d[0] != 0 || d[1] != 0 || d[2] != 1)
      return;
    hl = 9 + d[8];
    if (hl > len)
      return;
    /* PES_packet_length counts from after itself; 0: unbounded (video) */
    st->pes_left = GST_READ_UINT16_BE (d + 4) ?
        (gint) GST_READ_UINT16_BE (d + 4) - (gint) (hl - 6) : -1;
    d += hl;
    len -= hl;
    st->in_pes = TRUE;
    st->head_done = FALSE;
    st->head_len = 0;
    st->scan_from = 0;
    st->vcl_at = -1;
    st->sps_in_head = FALSE;
    es_window (st, now);
  } else if (!st->in_pes) {
    return;
  }
  st->window_bytes += len;

  /* most packets: the middle of a picture, nothing more to read */
  if (G_LIKELY (st->head_done) || len == 0)
    return;
  if (st->video) {
    video_payload (r, st, d, len);
    /* a PES of known length ends here: its picture is complete */
    if (st->pes_left >= 0 && (st->pes_left -= len) <= 0 && !st->head_done)
      video_head (r, st);
  } else {
    audio_payload (st, d, len);
  }
}

/* ---------------------------------------------------------------------- */
/* PSI */

static guint32
crc32_mpeg (const guint8 * data, guint size)
{
  guint32 crc = 0xFFFFFFFF;

  for (guint i = 0; i < size; i++) {
    crc ^= (guint32) data[i] << 24;
    for (guint b = 0; b < 8; b++)
      crc = crc & 0x80000000 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
  }
  return crc;
}

/* TRUE when @s is a whole section that differs from @last (now a copy of
 * it) and its CRC is right */
static gboolean
section_new (const guint8 * s, guint size, GByteArray * last)
{
  if (last->len == size && memcmp (last->data, s, size) == 0)
    return FALSE;
  if (size < 12 || !(s[1] & 0x80) || crc32_mpeg (s, size) != 0)
    return FALSE;
  g_byte_array_set_size (last, 0);
  g_byte_array_append (last, s, size);
  return TRUE;
}

static void
clear_streams (MrTsReader * r)
{
  r->last_pid = -1;
  r->last_stream = NULL;
  if (r->streams->len)
    r->generation++;
  g_ptr_array_set_size (r->streams, 0);
  r->unsupported = FALSE;
}

static void
read_pat (MrTsReader * r, const guint8 * s, guint size)
{
  gint pmt_pid = -1;

  if (s[0] != 0x00 || !section_new (s, size, r->pat_last))
    return;
  g_array_set_size (r->programs, 0);
  r->program_number = 0;
  for (guint i = 8; i + 4 <= size - 4; i += 4) {
    guint program = GST_READ_UINT16_BE (s + i);
    guint pid = GST_READ_UINT16_BE (s + i + 2) & 0x1FFF;

    if (program == 0)           /* the network PID */
      continue;
    g_array_append_val (r->programs, program);
    if (pmt_pid < 0) {
      pmt_pid = pid;
      r->program_number = program;
    }
  }
  if (pmt_pid != r->pmt_pid) {
    r->pmt_pid = pmt_pid;
    g_byte_array_set_size (r->pmt_last, 0);
    clear_streams (r);
  }
}

/* The same streams as now, in the same order */
static gboolean
same_streams (MrTsReader * r, const guint8 * s, guint size, guint first)
{
  guint n = 0;

  for (guint i = first; i + 5 <= size - 4;) {
    guint8 type = s[i];
    guint pid = GST_READ_UINT16_BE (s + i + 1) & 0x1FFF;
    guint info = GST_READ_UINT16_BE (s + i + 3) & 0x0FFF;
    MrTsStream *st;

    if (n >= r->streams->len)
      return FALSE;
    st = r->streams->pdata[n++];
    if (st->stream_type != type || st->pid != pid)
      return FALSE;
    i += 5 + info;
  }
  return n == r->streams->len;
}

static void
read_pmt (MrTsReader * r, const guint8 * s, guint size)
{
  guint first;

  if (s[0] != 0x02 || size < 16
      || GST_READ_UINT16_BE (s + 3) != r->program_number
      || !section_new (s, size, r->pmt_last))
    return;
  first = 12 + (GST_READ_UINT16_BE (s + 10) & 0x0FFF);
  if (first > size - 4)
    return;
  /* a new version of the same streams: they go on */
  if (r->streams->len && !r->unsupported && same_streams (r, s, size, first))
    return;
  clear_streams (r);
  for (guint i = first; i + 5 <= size - 4;) {
    guint8 type = s[i];
    guint pid = GST_READ_UINT16_BE (s + i + 1) & 0x1FFF;
    guint info = GST_READ_UINT16_BE (s + i + 3) & 0x0FFF;
    MrTsStream *st = stream_new (type, pid);

    if (st)
      g_ptr_array_add (r->streams, st);
    else
      r->unsupported = TRUE;
    i += 5 + info;
  }
  r->generation++;
}

/* A packet of the PAT's or PMT's PID: the section it starts or goes on */
static void
section_packet (MrTsReader * r, Section * sec, const guint8 * d, guint len,
    gboolean start)
{
  guint total;

  if (start) {
    guint pointer = d[0];

    if (1 + pointer >= len) {
      sec->open = FALSE;
      return;
    }
    d += 1 + pointer;
    len -= 1 + pointer;
    sec->len = 0;
    sec->open = TRUE;
  } else if (!sec->open) {
    return;
  }
  if (sec->len + len > sizeof (sec->data)) {
    sec->open = FALSE;
    return;
  }
  memcpy (sec->data + sec->len, d, len);
  sec->len += len;
  if (sec->len < 3)
    return;
  total = 3 + (GST_READ_UINT16_BE (sec->data + 1) & 0x0FFF);
  if (total > SECTION_MAX) {
    sec->open = FALSE;
    return;
  }
  if (sec->len < total)
    return;
  sec->open = FALSE;
  if (sec == r->pat)
    read_pat (r, sec->data, total);
  else
    read_pmt (r, sec->data, total);
}

/* ---------------------------------------------------------------------- */
/* API */

void
mr_ts_reader_init (MrTsReader * r)
{
  memset (r, 0, sizeof (*r));
  r->programs = g_array_new (FALSE, FALSE, sizeof (guint));
  r->streams = g_ptr_array_new_with_free_func ((GDestroyNotify) stream_free);
  r->pmt_pid = -1;
  r->last_pid = -1;
  r->pat = g_new0 (Section, 1);
  r->pmt = g_new0 (Section, 1);
  r->pat_last = g_byte_array_new ();
  r->pmt_last = g_byte_array_new ();
}

void
mr_ts_reader_clear (MrTsReader * r)
{
  g_array_unref (r->programs);
  g_ptr_array_unref (r->streams);
  g_free (r->pat);
  g_free (r->pmt);
  g_byte_array_unref (r->pat_last);
  g_byte_array_unref (r->pmt_last);
  memset (r, 0, sizeof (*r));
}

static inline void
read_packet (MrTsReader * r, const guint8 * p, gint64 now)
{
  guint pid, afc, off = 4;
  gboolean start;

  if (p[0] != 0x47 || (p[1] & 0x80))   /* no sync, or an error flagged */
    return;
  pid = GST_READ_UINT16_BE (p + 1) & 0x1FFF;
  start = p[1] & 0x40;
  afc = (p[3] >> 4) & 0x3;
  if (!(afc & 0x1))
    return;
  if (afc & 0x2)
    off += 1 + p[4];
  if (off >= MR_TS_PACKET_SIZE)
    return;
  if (pid == 0) {
    section_packet (r, r->pat, p + off, MR_TS_PACKET_SIZE - off, start);
  } else if ((gint) pid == r->pmt_pid) {
    section_packet (r, r->pmt, p + off, MR_TS_PACKET_SIZE - off, start);
  } else if ((gint) pid == r->last_pid) {
    MrTsStream *st = r->last_stream;

    /* most packets: the middle of a PES whose head is read, counted only */
    if (G_LIKELY (!start && st->in_pes && st->head_done))
      st->window_bytes += MR_TS_PACKET_SIZE - off;
    else
      es_packet (r, st, p + off, MR_TS_PACKET_SIZE - off, start, now);
  } else if (pid == r->other_pid && r->other_func) {
    r->other_func (p, r->other_data);
  } else {
    for (guint i = 0; i < r->streams->len; i++) {
      MrTsStream *st = r->streams->pdata[i];

      if (st->pid == pid) {
        r->last_pid = pid;
        r->last_stream = st;
        es_packet (r, st, p + off, MR_TS_PACKET_SIZE - off, start, now);
        return;
      }
    }
  }
}

void
mr_ts_reader_packet (MrTsReader * r, const guint8 * p, gint64 now)
{
  read_packet (r, p, now);
}

void
mr_ts_reader_data (MrTsReader * r, const guint8 * data, gsize size,
    gint64 now)
{
  for (gsize off = 0; off + MR_TS_PACKET_SIZE <= size;
      off += MR_TS_PACKET_SIZE)
    read_packet (r, data + off, now);
}
