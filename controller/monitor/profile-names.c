/* mroute: profiles as ffprobe names them.  GStreamer's parsers spell a
 * profile in lower case with dashes ("high-4:4:4"), ffprobe (libavcodec's
 * profile tables, ffmpeg 5.1 on Debian 12) in its own words ("High 4:4:4
 * Predictive"), and the two are not a case change apart: H.264 profile_idc
 * 244 is "high-4:4:4" to GStreamer and "High 4:4:4 Predictive" to ffprobe,
 * "progressive-high" is plain "High", and every HEVC range-extensions
 * profile is "Rext".  The tables below were checked against ffprobe on
 * streams encoded for each profile (x264, x265, ffmpeg's mpeg2video and
 * aac encoders).  A name not in the tables is title-cased ("main-10" ->
 * "Main 10"), which is ffprobe's spelling for the simple ones. */

#include "profile-names.h"

typedef struct
{
  const gchar *caps;
  const gchar *ffprobe;
} ProfileName;

/* H.264: gst_codec_utils_h264_get_profile() vs. libavcodec's
 * ff_h264_profiles; ffprobe ignores the constraint flags GStreamer names
 * "progressive" and "constrained" high with */
static const ProfileName h264[] = {
  {"baseline", "Baseline"},
  {"constrained-baseline", "Constrained Baseline"},
  {"main", "Main"},
  {"extended", "Extended"},
  {"high", "High"},
  {"progressive-high", "High"},
  {"constrained-high", "High"},
  {"high-10", "High 10"},
  {"progressive-high-10", "High 10"},
  {"high-10-intra", "High 10 Intra"},
  {"high-4:2:2", "High 4:2:2"},
  {"high-4:2:2-intra", "High 4:2:2 Intra"},
  {"high-4:4:4", "High 4:4:4 Predictive"},
  {"high-4:4:4-intra", "High 4:4:4 Intra"},
  {"cavlc-4:4:4-intra", "CAVLC 4:4:4"},
  {"multiview-high", "Multiview High"},
  {"stereo-high", "Stereo High"},
};

/* MPEG-2 video: mpegvideoparse vs. ff_mpeg2_video_profiles */
static const ProfileName mpeg2[] = {
  {"simple", "Simple"},
  {"main", "Main"},
  {"high", "High"},
  {"4:2:2", "4:2:2"},
  {"snr", "SNR Scalable"},
  {"spatial", "Spatially Scalable"},
};

/* AAC: the audio object type aacparse names vs. ff_aac_profiles */
static const ProfileName aac[] = {
  {"main", "Main"},
  {"lc", "LC"},
  {"ssr", "SSR"},
  {"ltp", "LTP"},
};

/* HEVC: libavcodec 5.1 names general_profile_idc 1 to 4 only ("Main",
 * "Main 10", "Main Still Picture", "Rext"), and ffprobe prints the number
 * of the others */
static const gchar *
hevc_name (const gchar * p)
{
  if (g_str_equal (p, "main"))
    return "Main";
  if (g_str_equal (p, "main-10"))
    return "Main 10";
  if (g_str_equal (p, "main-still-picture"))
    return "Main Still Picture";
  if (g_str_has_prefix (p, "high-throughput-"))
    return "5";
  if (g_str_has_prefix (p, "multiview-"))
    return "6";
  if (g_str_has_prefix (p, "scalable-"))
    return "7";
  if (g_str_has_prefix (p, "3d-"))
    return "8";
  if (g_str_has_prefix (p, "screen-extended-"))
    return "9";
  /* the rest of GStreamer's names are the range extensions: monochrome*,
   * main-12*, main-422-*, main-444*, main-*-intra */
  if (g_str_has_prefix (p, "main") || g_str_has_prefix (p, "monochrome"))
    return "Rext";
  return NULL;
}

static const gchar *
lookup (const ProfileName * table, gsize n, const gchar * p)
{
  for (gsize i = 0; i < n; i++)
    if (g_str_equal (table[i].caps, p))
      return table[i].ffprobe;
  return NULL;
}

/* "main-10" -> "Main 10" */
static gchar *
title_case (const gchar * caps_profile)
{
  gchar *p = g_strdup (caps_profile);
  gboolean word_start = TRUE;

  for (gchar * c = p; *c; c++) {
    if (*c == '-') {
      *c = ' ';
      word_start = TRUE;
    } else {
      if (word_start)
        *c = g_ascii_toupper (*c);
      word_start = FALSE;
    }
  }
  return p;
}

gchar *
mr_profile_name (const gchar * media_type, const gchar * caps_profile)
{
  const gchar *name = NULL;

  if (!caps_profile)
    return NULL;
  if (!media_type)
    media_type = "";
  if (g_str_equal (media_type, "video/x-h264"))
    name = lookup (h264, G_N_ELEMENTS (h264), caps_profile);
  else if (g_str_equal (media_type, "video/x-h265"))
    name = hevc_name (caps_profile);
  else if (g_str_equal (media_type, "video/mpeg"))
    name = lookup (mpeg2, G_N_ELEMENTS (mpeg2), caps_profile);
  else if (g_str_equal (media_type, "audio/mpeg"))
    name = lookup (aac, G_N_ELEMENTS (aac), caps_profile);
  return name ? g_strdup (name) : title_case (caps_profile);
}
