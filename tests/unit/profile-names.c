/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the metadata's profile names
 * (controller/monitor/profile-names.c): what GStreamer's parsers put in
 * their caps, and what ffprobe 5.1 said of the same streams.  The pairs
 * marked "measured" were read on streams encoded for that profile (x264,
 * x265, ffmpeg's mpeg2video and aac) with
 *   gst-launch-1.0 -v filesrc location=X.ts ! tsdemux ! h264parse ! fakesink
 *   ffprobe -v error -show_entries stream=profile X.ts
 * the others come from the two projects' tables. */

#include "monitor/profile-names.h"

typedef struct
{
  const gchar *media_type;
  const gchar *caps;
  const gchar *ffprobe;
} Case;

static const Case cases[] = {
  /* measured */
  {"video/x-h264", "constrained-baseline", "Constrained Baseline"},
  {"video/x-h264", "main", "Main"},
  {"video/x-h264", "high", "High"},
  {"video/x-h264", "high-10", "High 10"},
  {"video/x-h264", "high-10-intra", "High 10 Intra"},
  {"video/x-h264", "high-4:2:2", "High 4:2:2"},
  {"video/x-h264", "high-4:2:2-intra", "High 4:2:2 Intra"},
  {"video/x-h264", "high-4:4:4", "High 4:4:4 Predictive"},
  {"video/x-h264", "high-4:4:4-intra", "High 4:4:4 Intra"},
  {"video/x-h265", "main", "Main"},
  {"video/x-h265", "main-10", "Main 10"},
  {"video/x-h265", "main-444", "Rext"},
  {"video/x-h265", "main-422-10", "Rext"},
  {"video/mpeg", "simple", "Simple"},
  {"video/mpeg", "main", "Main"},
  {"video/mpeg", "high", "High"},
  {"video/mpeg", "4:2:2", "4:2:2"},
  {"audio/mpeg", "lc", "LC"},
  /* from the tables */
  {"video/x-h264", "baseline", "Baseline"},
  {"video/x-h264", "extended", "Extended"},
  {"video/x-h264", "progressive-high", "High"},
  {"video/x-h264", "constrained-high", "High"},
  {"video/x-h264", "progressive-high-10", "High 10"},
  {"video/x-h264", "cavlc-4:4:4-intra", "CAVLC 4:4:4"},
  {"video/x-h264", "multiview-high", "Multiview High"},
  {"video/x-h264", "stereo-high", "Stereo High"},
  {"video/x-h265", "main-still-picture", "Main Still Picture"},
  {"video/x-h265", "monochrome-12", "Rext"},
  {"video/x-h265", "main-12", "Rext"},
  {"video/x-h265", "main-444-16-intra", "Rext"},
  {"video/x-h265", "screen-extended-main-10", "9"},
  {"video/mpeg", "snr", "SNR Scalable"},
  {"video/mpeg", "spatial", "Spatially Scalable"},
  {"audio/mpeg", "main", "Main"},
  {"audio/mpeg", "ltp", "LTP"},
  /* not in a table: title case, ffprobe's spelling of the simple ones */
  {"video/x-av1", "main", "Main"},
  {"video/x-av1", "professional", "Professional"},
  {"video/x-h264", "some-new-profile", "Some New Profile"},
  {NULL, "main", "Main"},
};

static void
test_names (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *name = mr_profile_name (cases[i].media_type,
        cases[i].caps);

    g_test_message ("%s %s -> %s", cases[i].media_type, cases[i].caps, name);
    g_assert_cmpstr (name, ==, cases[i].ffprobe);
  }
}

/* the bug this file was written for: "High 4:4:4" is profile_idc 144, a
 * profile removed from H.264 in 2007; ffprobe says "High 4:4:4
 * Predictive" for the 244 that GStreamer calls "high-4:4:4" */
static void
test_high_444_is_predictive (void)
{
  g_autofree gchar *name = mr_profile_name ("video/x-h264", "high-4:4:4");

  g_assert_cmpstr (name, !=, "High 4:4:4");
  g_assert_cmpstr (name, ==, "High 4:4:4 Predictive");
}

static void
test_no_profile (void)
{
  g_assert_null (mr_profile_name ("video/x-h264", NULL));
  g_assert_null (mr_profile_name (NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/profile-names/names", test_names);
  g_test_add_func ("/profile-names/high-444-is-predictive",
      test_high_444_is_predictive);
  g_test_add_func ("/profile-names/no-profile", test_no_profile);
  return g_test_run ();
}
