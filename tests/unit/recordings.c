/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests of a flow's recordings on disk (core/recordings.h): names,
 * durations from the PCRs, ranges with their gaps, the reader that cuts a
 * time range at key frames, retention.  Synthetic TS files: a frame every
 * 100 ms of two packets, the first with the PCR, a key frame (random
 * access indicator) every 10 frames, PAT and PMT in front of each file. */

#include "core/core.h"

#include <string.h>
#include <glib/gstdio.h>

#define TS 188
#define VIDEO_PID 0x100
#define PMT_PID 0x1000
#define FRAME_US 100000
#define GOP 10

static void
packet_plain (guint8 * p, guint pid, gboolean pusi)
{
  memset (p, 0xff, TS);
  p[0] = 0x47;
  p[1] = (pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  p[3] = 0x10;
}

static void
pat_fill (guint8 * p)
{
  const guint8 s[] = { 0x00, 0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0x00, 0x00,
    0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff, 0xde, 0xad, 0xbe, 0xef
  };

  packet_plain (p, 0, TRUE);
  memcpy (p + 4, s, sizeof (s));
}

static void
pmt_fill (guint8 * p)
{
  const guint8 s[] = { 0x00, 0x02, 0xb0, 13 + 5, 0x00, 0x01, 0xc1, 0x00,
    0x00, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    0x1b, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    0xde, 0xad, 0xbe, 0xef
  };

  packet_plain (p, PMT_PID, TRUE);
  memcpy (p + 4, s, sizeof (s));
}

/* Frame @n (stream time n * 100 ms): a packet with the PCR (and the
 * random access indicator every GOP frames), then a plain one; the frame's
 * number in the last byte of both */
static void
frame_fill (guint8 * p, guint n)
{
  guint64 pcr = (guint64) n * FRAME_US * 27;
  guint64 base = pcr / 300;
  guint ext = pcr % 300;

  packet_plain (p, VIDEO_PID, TRUE);
  p[3] = 0x30;
  p[4] = 7;
  p[5] = 0x10 | (n % GOP == 0 ? 0x40 : 0);
  p[6] = base >> 25;
  p[7] = base >> 17;
  p[8] = base >> 9;
  p[9] = base >> 1;
  p[10] = ((base & 1) << 7) | 0x7e | (ext >> 8);
  p[11] = ext & 0xff;
  p[TS - 1] = n;
  packet_plain (p + TS, VIDEO_PID, FALSE);
  p[2 * TS - 1] = n;
}

/* A segment of frames [first, last] named by @start */
static void
write_segment (const gchar * dir, gint64 start, guint first, guint last)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (start /
      G_USEC_PER_SEC);
  g_autofree gchar *stamp = g_date_time_format (t, "%Y%m%dT%H%M%S");
  g_autofree gchar *name = g_strdup_printf ("%s.%03dZ.ts", stamp,
      (int) (start / 1000 % 1000));
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gsize len = (2 + 2 * (last - first + 1)) * TS;
  g_autofree guint8 *data = g_malloc (len);

  pat_fill (data);
  pmt_fill (data + TS);
  for (guint n = first; n <= last; n++)
    frame_fill (data + (2 + 2 * (n - first)) * TS, n);
  g_assert_true (g_file_set_contents (path, (gchar *) data, len, NULL));
}

/* 2026-12-02T13:05:00.000Z */
#define T0 (G_GINT64_CONSTANT (1796216700) * G_USEC_PER_SEC)

/* A: frames 0-49 at T0, B: 50-99 at T0 + 5 s, a gap, C: 200-229 at
 * T0 + 20 s */
static gchar *
make_recording (void)
{
  gchar *dir = g_dir_make_tmp ("recordings-XXXXXX", NULL);

  write_segment (dir, T0, 0, 49);
  write_segment (dir, T0 + 50 * FRAME_US, 50, 99);
  write_segment (dir, T0 + 200 * FRAME_US, 200, 229);
  return dir;
}

static void
remove_dir (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while ((name = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (dir, name, NULL);
    g_unlink (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
}

static void
test_names (void)
{
  gint64 start;

  g_assert_true (mr_recording_name_parse ("20261202T130501.123Z.ts", &start));
  g_assert_cmpint (start, ==, T0 + 1123000);
  g_assert_false (mr_recording_name_parse ("20261202T130501.123Z.ts.tmp",
          &start));
  g_assert_false (mr_recording_name_parse ("20261302T130501.123Z.ts",
          &start));
  g_assert_false (mr_recording_name_parse ("2026120xT130501.123Z.ts",
          &start));
  g_assert_false (mr_recording_name_parse ("index.m3u8", &start));
  g_assert_false (mr_recording_name_parse ("../../../../../etc/passwd",
          &start));
}

static void
test_scan_and_ranges (void)
{
  g_autofree gchar *dir = make_recording ();
  g_autoptr (GPtrArray) segs = mr_recordings_scan (dir);
  g_autoptr (GArray) ranges = NULL;
  MrRecordingRange *r;

  /* a file that is not a segment is not one */
  g_autofree gchar *other = g_build_filename (dir, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (other, "x", 1, NULL));
  g_ptr_array_unref (segs);
  segs = mr_recordings_scan (dir);

  g_assert_cmpuint (segs->len, ==, 3);
  g_assert_cmpint (((MrRecordingSegment *) segs->pdata[0])->start, ==, T0);
  /* from the first PCR to the last */
  g_assert_cmpint (((MrRecordingSegment *) segs->pdata[0])->duration, ==,
      49 * FRAME_US);
  g_assert_cmpint (((MrRecordingSegment *) segs->pdata[2])->duration, ==,
      29 * FRAME_US);

  ranges = mr_recordings_ranges (segs);
  g_assert_cmpuint (ranges->len, ==, 2);
  r = &g_array_index (ranges, MrRecordingRange, 0);
  g_assert_cmpint (r->start, ==, T0);
  g_assert_cmpint (r->duration, ==, 99 * FRAME_US);
  r = &g_array_index (ranges, MrRecordingRange, 1);
  g_assert_cmpint (r->start, ==, T0 + 200 * FRAME_US);
  g_assert_cmpint (r->duration, ==, 29 * FRAME_US);

  g_unlink (other);
  remove_dir (dir);
}

/* Reads all of @r; the frame numbers of its video packets with the PCR in
 * *@frames, the PIDs of its first three packets in @pids */
static GArray *
read_all (MrRecordingReader * r, guint * pids)
{
  GArray *frames = g_array_new (FALSE, FALSE, sizeof (guint));
  guint8 buf[TS * 5];           /* small: many calls */
  gssize n;
  guint packets = 0;
  g_autoptr (GError) error = NULL;

  while ((n = mr_recording_reader_read (r, buf, sizeof (buf), &error)) > 0) {
    g_assert_cmpint (n % TS, ==, 0);
    for (gssize off = 0; off < n; off += TS, packets++) {
      const guint8 *p = buf + off;
      guint pid = ((p[1] & 0x1f) << 8) | p[2];

      if (packets < 3)
        pids[packets] = pid;
      if (pid == VIDEO_PID && (p[3] & 0x20)) {
        guint f = p[TS - 1];
        g_array_append_val (frames, f);
      }
    }
  }
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  return frames;
}

static void
test_reader_cuts_at_key_frames (void)
{
  g_autofree gchar *dir = make_recording ();
  g_autoptr (GPtrArray) segs = mr_recordings_scan (dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (MrRecordingReader) r = NULL;
  g_autoptr (GArray) frames = NULL;
  guint pids[3];

  /* from 2.5 s for 3 s: the key frame at 2.0 s, up to the key frame at
   * 5.0 s (not given): frames 20 .. 49, the tables first */
  r = mr_recording_reader_new (segs, T0 + 2500000, 3 * G_USEC_PER_SEC,
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (mr_recording_reader_start (r), ==, T0 + 20 * FRAME_US);
  frames = read_all (r, pids);
  g_assert_cmpuint (pids[0], ==, 0);
  g_assert_cmpuint (pids[1], ==, PMT_PID);
  g_assert_cmpuint (pids[2], ==, VIDEO_PID);
  g_assert_cmpuint (frames->len, ==, 30);
  g_assert_cmpuint (g_array_index (frames, guint, 0), ==, 20);
  g_assert_cmpuint (g_array_index (frames, guint, 29), ==, 49);
  g_clear_pointer (&frames, g_array_unref);
  g_clear_pointer (&r, mr_recording_reader_free);

  /* across the two adjacent segments: 2.0 s .. 6.0 s */
  r = mr_recording_reader_new (segs, T0 + 2000000, 4 * G_USEC_PER_SEC,
      &error);
  g_assert_no_error (error);
  frames = read_all (r, pids);
  g_assert_cmpuint (frames->len, ==, 40);
  g_assert_cmpuint (g_array_index (frames, guint, 39), ==, 59);
  g_clear_pointer (&frames, g_array_unref);
  g_clear_pointer (&r, mr_recording_reader_free);

  /* a range never goes over a gap: from 9 s for 60 s ends at 9.9 s */
  r = mr_recording_reader_new (segs, T0 + 9000000, 60 * G_USEC_PER_SEC,
      &error);
  g_assert_no_error (error);
  frames = read_all (r, pids);
  g_assert_cmpuint (frames->len, ==, 10);
  g_assert_cmpuint (g_array_index (frames, guint, 0), ==, 90);
  g_clear_pointer (&frames, g_array_unref);
  g_clear_pointer (&r, mr_recording_reader_free);

  /* in the gap, before everything, after everything: nothing */
  g_assert_null (mr_recording_reader_new (segs, T0 + 15 * G_USEC_PER_SEC,
          G_USEC_PER_SEC, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_null (mr_recording_reader_new (segs, T0 - 1, G_USEC_PER_SEC,
          &error));
  g_clear_error (&error);
  g_assert_null (mr_recording_reader_new (segs, T0 + 60 * G_USEC_PER_SEC,
          G_USEC_PER_SEC, &error));
  g_clear_error (&error);

  remove_dir (dir);
}

static void
test_retention (void)
{
  g_autofree gchar *dir = make_recording ();
  g_autoptr (GPtrArray) segs = NULL;

  g_assert_cmpuint (mr_recordings_delete_before (dir, T0), ==, 0);
  g_assert_cmpuint (mr_recordings_delete_before (dir, T0 + 6 *
          G_USEC_PER_SEC), ==, 2);
  segs = mr_recordings_scan (dir);
  g_assert_cmpuint (segs->len, ==, 1);
  g_assert_cmpint (((MrRecordingSegment *) segs->pdata[0])->start, ==,
      T0 + 200 * FRAME_US);
  /* a missing folder is no error */
  g_assert_cmpuint (mr_recordings_delete_before ("/nonexistent/mroute", T0),
      ==, 0);
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recordings/names", test_names);
  g_test_add_func ("/recordings/scan-and-ranges", test_scan_and_ranges);
  g_test_add_func ("/recordings/reader-cuts-at-key-frames",
      test_reader_cuts_at_key_frames);
  g_test_add_func ("/recordings/retention", test_retention);
  return g_test_run ();
}
