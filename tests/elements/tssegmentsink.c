/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* tssegmentsink with GstHarness: files cut at random-access points with
 * the PAT and PMT in front, the oldest deleted beyond max-files, the HLS
 * playlist's contents, and a folder it cannot write to. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>

#include <string.h>

/* the files' pattern is the element's location */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

#define TS 188
#define VIDEO_PID 0x100
#define PMT_PID 0x1000
#define MPEGTS_CAPS "video/mpegts, systemstream=(boolean)true, " \
    "packetsize=(int)188"
/* a frame every 100 ms, a key frame every 5 */
#define FRAME (100 * GST_MSECOND)
#define GOP 5

static void
packet_fill (guint8 * pkt, guint pid, gboolean pusi, gboolean rai,
    const guint8 * payload, gsize len)
{
  gsize offset = 4;

  memset (pkt, 0xff, TS);
  pkt[0] = 0x47;
  pkt[1] = (pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  pkt[2] = pid & 0xff;
  pkt[3] = 0x10;
  if (rai) {
    pkt[3] |= 0x20;
    pkt[4] = 1;
    pkt[5] = 0x40;              /* random_access_indicator */
    offset = 6;
  }
  if (payload)
    memcpy (pkt + offset, payload, MIN (len, TS - offset));
}

static void
pat_fill (guint8 * pkt)
{
  const guint8 section[] = { 0x00,
    0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0x00, 0x00,
    0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff,
    0xde, 0xad, 0xbe, 0xef
  };

  packet_fill (pkt, 0, TRUE, FALSE, section, sizeof (section));
}

static void
pmt_fill (guint8 * pkt)
{
  const guint8 section[] = { 0x00,
    0x02, 0xb0, 13 + 5, 0x00, 0x01, 0xc1, 0x00, 0x00,
    0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    0x1b, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    0xde, 0xad, 0xbe, 0xef
  };

  packet_fill (pkt, PMT_PID, TRUE, FALSE, section, sizeof (section));
}

/* Frame @n: a key frame (PAT, PMT, then a packet with the random access
 * indicator) every GOP frames, else 3 plain video packets; the frame's
 * number in the last byte of each video packet */
static GstBuffer *
frame_new_full (guint n, gboolean tables)
{
  gboolean key = n % GOP == 0;
  guint npkts = key ? (tables ? 5 : 3) : 3, i = 0;
  guint8 *data = g_malloc (npkts * TS);
  GstBuffer *buf;

  if (key && tables) {
    pat_fill (data);
    pmt_fill (data + TS);
    packet_fill (data + 2 * TS, VIDEO_PID, TRUE, TRUE, NULL, 0);
    i = 3;
  } else if (key) {
    packet_fill (data, VIDEO_PID, TRUE, TRUE, NULL, 0);
    i = 1;
  }
  for (; i < npkts; i++)
    packet_fill (data + i * TS, VIDEO_PID, FALSE, FALSE, NULL, 0);
  for (i = 0; i < npkts; i++)
    if ((((data[i * TS + 1] & 0x1f) << 8) | data[i * TS + 2]) == VIDEO_PID)
      data[i * TS + TS - 1] = n & 0xff;
  buf = gst_buffer_new_wrapped (data, npkts * TS);
  GST_BUFFER_PTS (buf) = n * FRAME;
  return buf;
}

static GstBuffer *
frame_new (guint n)
{
  return frame_new_full (n, TRUE);
}

static guint
packet_pid (const guint8 * pkt)
{
  return ((pkt[1] & 0x1f) << 8) | pkt[2];
}

static GstHarness *
harness_new (const gchar * dir, GstBus ** bus)
{
  GstHarness *h = gst_harness_new ("tssegmentsink");

  *bus = gst_bus_new ();
  gst_element_set_bus (h->element, *bus);
  gst_harness_set_src_caps_str (h, MPEGTS_CAPS);
  (void) dir;
  return h;
}

static guint
count_ts_files (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint n = 0;

  fail_unless (d != NULL);
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".ts"))
      n++;
  g_dir_close (d);
  return n;
}

static void
remove_dir (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (dir, name, NULL);
    g_unlink (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
}

GST_START_TEST (test_cut_at_rap_with_tables)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tssegmentsink-XXXXXX", NULL);
  g_autofree gchar *pattern = g_build_filename (dir, "seg%05u.ts", NULL);
  g_autofree gchar *playlist = g_build_filename (dir, "index.m3u8", NULL);
  g_autofree gchar *text = NULL;
  GstBus *bus;
  GstHarness *h = harness_new (dir, &bus);
  GstMessage *msg;
  GstStructure *stats;
  guint64 segments, dropped;
  guint n, i, closed = 0;

  g_object_set (h->element, "location", pattern, "target-duration", 1,
      "max-files", 3, "playlist-location", playlist, NULL);

  /* two frames before the first key frame are not written */
  for (n = GOP - 2; n < 40; n++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (n)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  /* key frames at 0.5 s, 1.0 s, ...: the first file from 0.5 s, then a
   * file a second, at 1.5, 2.5, 3.5; the EOS closes the last (3.5 - 3.9) */
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (gst_structure_has_name (s, "tssegmentsink-segment")) {
      guint64 duration;
      g_autofree gchar *expected = g_strdup_printf (pattern, closed);

      fail_unless_equals_string (gst_structure_get_string (s, "location"),
          expected);
      fail_unless (gst_structure_get_uint64 (s, "duration", &duration));
      fail_unless_equals_uint64 (duration, closed < 3 ? GST_SECOND :
          4 * FRAME);
      closed++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (closed, 4);


  /* every file: PAT, PMT, a random-access packet */
  for (i = 1; i < 4; i++) {
    g_autofree gchar *path = g_strdup_printf (pattern, i);
    g_autofree guint8 *data = NULL;
    gsize len;

    fail_unless (g_file_get_contents (path, (gchar **) & data, &len, NULL));
    fail_unless (len >= 3 * TS && len % TS == 0);
    fail_unless_equals_int (packet_pid (data), 0);
    fail_unless_equals_int (packet_pid (data + TS), PMT_PID);
    fail_unless_equals_int (packet_pid (data + 2 * TS), VIDEO_PID);
    fail_unless ((data[2 * TS + 3] & 0x20) && (data[2 * TS + 5] & 0x40));
    /* the frame the file starts with: 5 + 10 i */
    fail_unless_equals_int (data[2 * TS + TS - 1], 5 + 10 * i);
    /* untouched: every packet of frames 5 + 10 i .. 14 + 10 i (two key
     * frames of 5 packets with their tables, 8 frames of 3), nothing
     * twice; the last file frames 35 .. 39 */
    fail_unless_equals_int (len / TS, i < 3 ? 2 * 5 + 8 * 3 : 5 + 4 * 3);
  }

  /* max-files: the first file is gone */
  {
    g_autofree gchar *oldest = g_strdup_printf (pattern, 0);

    fail_if (g_file_test (oldest, G_FILE_TEST_EXISTS));
    fail_unless_equals_int (count_ts_files (dir), 3);
  }

  /* the playlist: the three newest, sliding, ended by the EOS */
  fail_unless (g_file_get_contents (playlist, &text, NULL, NULL));
  fail_unless_equals_string (text,
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n"
      "#EXT-X-MEDIA-SEQUENCE:1\n"
      "#EXTINF:1.000,\nseg00001.ts\n"
      "#EXTINF:1.000,\nseg00002.ts\n"
      "#EXTINF:0.400,\nseg00003.ts\n" "#EXT-X-ENDLIST\n");

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "segments", &segments));
  fail_unless (gst_structure_get_uint64 (stats, "dropped-bytes", &dropped));
  fail_unless_equals_uint64 (segments, 4);
  fail_unless_equals_uint64 (dropped, 2 * 3 * TS);
  gst_structure_free (stats);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  remove_dir (dir);
}

GST_END_TEST;

/* Tables only once, at the start: every later file gets copies of the
 * last PAT and PMT in front of its key frame, so that it decodes alone */
GST_START_TEST (test_tables_copied_when_missing)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tssegmentsink-XXXXXX", NULL);
  g_autofree gchar *pattern = g_build_filename (dir, "seg%05u.ts", NULL);
  GstBus *bus;
  GstHarness *h = harness_new (dir, &bus);
  guint n, i;

  g_object_set (h->element, "location", pattern, "target-duration", 1, NULL);
  for (n = 0; n < 30; n++)
    fail_unless_equals_int (gst_harness_push (h, frame_new_full (n, n == 0)),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  /* files at frames 0, 10, 20 */
  for (i = 0; i < 3; i++) {
    g_autofree gchar *path = g_strdup_printf (pattern, i);
    g_autofree guint8 *data = NULL;
    gsize len;

    fail_unless (g_file_get_contents (path, (gchar **) & data, &len, NULL));
    fail_unless_equals_int (packet_pid (data), 0);
    fail_unless_equals_int (packet_pid (data + TS), PMT_PID);
    fail_unless_equals_int (packet_pid (data + 2 * TS), VIDEO_PID);
    fail_unless (data[2 * TS + 3] & 0x20);
    fail_unless_equals_int (data[2 * TS + TS - 1], 10 * i);
    /* the copies are the stream's own tables, byte for byte */
    if (i > 0) {
      guint8 pat[TS], pmt[TS];

      pat_fill (pat);
      pmt_fill (pmt);
      fail_unless (memcmp (data, pat, TS) == 0);
      fail_unless (memcmp (data + TS, pmt, TS) == 0);
    }
    /* two tables, then 10 frames of 3 packets (key frames too, without
     * their own tables) */
    fail_unless_equals_int (len / TS, 2 + 10 * 3);
  }

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  remove_dir (dir);
}

GST_END_TEST;

/* Named by their UTC start time in the directory */
GST_START_TEST (test_named_by_start_time)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tssegmentsink-XXXXXX", NULL);
  GstBus *bus;
  GstHarness *h = harness_new (dir, &bus);
  GDir *d;
  const gchar *name;
  guint n, files = 0;

  g_object_set (h->element, "directory", dir, "target-duration", 1, NULL);
  for (n = 0; n < 12; n++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (n)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d))) {
    /* 20261202T130501.123Z.ts */
    fail_unless_equals_int (strlen (name), 23);
    fail_unless (g_regex_match_simple ("^[0-9]{8}T[0-9]{6}\\.[0-9]{3}Z\\.ts$",
            name, 0, 0));
    files++;
  }
  g_dir_close (d);
  /* the second may share the first's millisecond: then it overwrote it */
  fail_unless (files >= 1 && files <= 2);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  remove_dir (dir);
}

GST_END_TEST;

/* A folder it cannot write to: a warning, then everything dropped, and
 * upstream never sees an error */
GST_START_TEST (test_unwritable_folder)
{
  g_autofree gchar *dir = g_dir_make_tmp ("tssegmentsink-XXXXXX", NULL);
  /* a file where the folder should be: fails for root too */
  g_autofree gchar *not_dir = g_build_filename (dir, "file", NULL);
  GstBus *bus;
  GstHarness *h = harness_new (dir, &bus);
  GstMessage *msg;
  GstStructure *stats;
  gboolean failed;
  guint64 dropped;
  guint n;

  fail_unless (g_file_set_contents (not_dir, "x", 1, NULL));
  g_object_set (h->element, "directory", not_dir, NULL);
  for (n = 0; n < 20; n++)
    fail_unless_equals_int (gst_harness_push (h, frame_new (n)), GST_FLOW_OK);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  {
    g_autoptr (GError) err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_OPEN_WRITE));
  }
  gst_message_unref (msg);
  /* said once */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_boolean (stats, "failed", &failed));
  fail_unless (failed);
  fail_unless (gst_structure_get_uint64 (stats, "dropped-bytes", &dropped));
  fail_unless (dropped > 0);
  gst_structure_free (stats);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  remove_dir (dir);
}

GST_END_TEST;

static Suite *
tssegmentsink_suite (void)
{
  Suite *s = suite_create ("tssegmentsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_cut_at_rap_with_tables);
  tcase_add_test (tc, test_tables_copied_when_missing);
  tcase_add_test (tc, test_named_by_start_time);
  tcase_add_test (tc, test_unwritable_folder);
  return s;
}

GST_CHECK_MAIN (tssegmentsink);
