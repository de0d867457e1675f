/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* blackdetect with GstHarness: frames of known luma with exact PTS in a
 * segment whose running and stream times differ, and the element messages
 * that come out; every format of the template; the black level in limited
 * and full range; the picture threshold; subsampling; EOS; passthrough
 * and caps refusal. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <string.h>

#define MS GST_MSECOND
#define FRAME (40 * MS)         /* 25 fps */
#define W 64
#define H 48
/* the segment: running time = PTS - SEG_START, stream time = PTS -
 * SEG_START + SEG_TIME */
#define SEG_START (10 * GST_SECOND)
#define SEG_TIME (100 * GST_SECOND)

#define GRAY 128
#define BLACK 16

/* The planes of a W x H frame in GStreamer's default layout (W and H are
 * multiples of 16: rows are not padded) */
typedef struct
{
  const gchar *format;
  guint n_planes;
  guint width[3], height[3];
} Layout;

static const Layout layouts[] = {
  {"I420", 3, {W, W / 2, W / 2}, {H, H / 2, H / 2}},
  {"YV12", 3, {W, W / 2, W / 2}, {H, H / 2, H / 2}},
  {"NV12", 2, {W, W}, {H, H / 2}},
  {"NV21", 2, {W, W}, {H, H / 2}},
  {"Y42B", 3, {W, W / 2, W / 2}, {H, H, H}},
  {"Y444", 3, {W, W, W}, {H, H, H}},
  {"Y41B", 3, {W, W / 4, W / 4}, {H, H, H}},
  {"GRAY8", 1, {W}, {H}},
};

typedef struct
{
  GstHarness *h;
  GstBus *bus;
  const Layout *layout;
} Fixture;

#define DETECT_NAME "blackdetect"
#include "content-detect-check.h"

static const Layout *
layout_of (const gchar * format)
{
  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++)
    if (g_str_equal (layouts[i].format, format))
      return &layouts[i];
  g_assert_not_reached ();
}

static Fixture *
fixture_new_full (const gchar * format, const gchar * extra_caps)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autofree gchar *caps = NULL;
  GstSegment segment;

  f->layout = layout_of (format);
  f->h = gst_harness_new ("blackdetect");
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->h->element, f->bus);
  caps = g_strdup_printf
      ("video/x-raw, format=%s, width=%d, height=%d, framerate=25/1%s",
      format, W, H, extra_caps ? extra_caps : "");
  gst_harness_set_src_caps_str (f->h, caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = SEG_START;
  segment.time = SEG_TIME;
  fail_unless (gst_harness_push_event (f->h, gst_event_new_segment (&segment)));
  return f;
}

static Fixture *
fixture_new (const gchar * format)
{
  return fixture_new_full (format, NULL);
}

static void
fixture_free (Fixture * f)
{
  gst_element_set_bus (f->h->element, NULL);
  gst_bus_set_flushing (f->bus, TRUE);
  gst_object_unref (f->bus);
  gst_harness_teardown (f->h);
  g_free (f);
}

/* A frame whose luma is @luma (W x H values, or all @value) and chroma 128 */
static GstBuffer *
frame_new (const Layout * l, const guint8 * luma, guint8 value, guint index)
{
  gsize size = 0, offset;
  GstBuffer *buffer;
  GstMapInfo map;

  for (guint p = 0; p < l->n_planes; p++)
    size += l->width[p] * l->height[p];
  buffer = gst_buffer_new_allocate (NULL, size, NULL);
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  if (luma)
    memcpy (map.data, luma, W * H);
  else
    memset (map.data, value, W * H);
  offset = W * H;
  memset (map.data + offset, 128, size - offset);
  gst_buffer_unmap (buffer, &map);
  GST_BUFFER_PTS (buffer) = SEG_START + index * FRAME;
  GST_BUFFER_DURATION (buffer) = FRAME;
  return buffer;
}

/* Pushes frames [from, to) of uniform luma; each comes out as it went in */
static void
push_frames (Fixture * f, guint from, guint to, guint8 value)
{
  for (guint i = from; i < to; i++) {
    GstBuffer *in = frame_new (f->layout, NULL, value, i), *out;

    fail_unless_equals_int (gst_harness_push (f->h, in), GST_FLOW_OK);
    out = gst_harness_pull (f->h);
    fail_unless (out == in, "frame %u: not the buffer pushed", i);
    gst_buffer_unref (out);
  }
}

/* The next message must be @event at running time @t (stream time follows
 * from the segment) */
static void
expect_message (Fixture * f, const gchar * event, GstClockTime t,
    GstClockTime duration)
{
  Message m;

  fail_unless (next_message (f, &m), "no %s message", event);
  fail_unless_equals_string (m.event, event);
  fail_unless_equals_uint64 (m.running_time, t);
  fail_unless_equals_uint64 (m.stream_time, t + SEG_TIME);
  if (duration != GST_CLOCK_TIME_NONE)
    fail_unless_equals_uint64 (m.duration, duration);
  g_free (m.event);
}

GST_START_TEST (test_black_stretch)
{
  Fixture *f = fixture_new ("I420");

  /* gray to 1.0 s, black to 3.6 s, gray after */
  push_frames (f, 0, 25, GRAY);
  push_frames (f, 25, 75, BLACK);
  /* 2.96 s: not yet two seconds of black */
  expect_no_message (f);
  fail_if (stat_bool (f, "in-black"));
  /* 3.0 s: the start is known, dated from the first black frame */
  push_frames (f, 75, 76, BLACK);
  expect_message (f, "start", 1000 * MS, GST_CLOCK_TIME_NONE);
  fail_unless (stat_bool (f, "in-black"));
  fail_unless_equals_uint64 (stat (f, "black-start"), 1000 * MS);
  push_frames (f, 76, 90, BLACK);
  expect_no_message (f);
  push_frames (f, 90, 100, GRAY);
  expect_message (f, "end", 3600 * MS, 2600 * MS);
  expect_no_message (f);

  fail_if (stat_bool (f, "in-black"));
  fail_unless_equals_uint64 (stat (f, "black-start"), GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (stat (f, "frames"), 100);
  fail_unless_equals_uint64 (stat (f, "black-frames"), 65);
  fail_unless_equals_uint64 (stat (f, "stretches"), 1);
  fail_unless_equals_int (stat_uint (f, "luma-threshold"), 37);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_short_black)
{
  Fixture *f = fixture_new ("I420");

  push_frames (f, 0, 10, GRAY);
  push_frames (f, 10, 40, BLACK);       /* 1.2 s */
  push_frames (f, 40, 50, GRAY);
  /* and 1.96 s, one frame short of min-duration */
  push_frames (f, 50, 99, BLACK);
  push_frames (f, 99, 110, GRAY);
  expect_no_message (f);
  fail_unless_equals_uint64 (stat (f, "black-frames"), 79);
  fail_unless_equals_uint64 (stat (f, "stretches"), 0);

  /* a shorter min-duration, set while running: 1.2 s is enough */
  g_object_set (f->h->element, "min-duration", 1.2, NULL);
  push_frames (f, 110, 140, BLACK);
  push_frames (f, 140, 141, GRAY);
  expect_message (f, "start", 110 * FRAME, GST_CLOCK_TIME_NONE);
  expect_message (f, "end", 140 * FRAME, 30 * FRAME);
  fixture_free (f);
}

GST_END_TEST;

/* Every format: only the luma plane decides */
GST_START_TEST (test_formats)
{
  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++) {
    Fixture *f = fixture_new (layouts[i].format);

    push_frames (f, 0, 2, GRAY);
    push_frames (f, 2, 60, BLACK);
    push_frames (f, 60, 61, GRAY);
    expect_message (f, "start", 2 * FRAME, GST_CLOCK_TIME_NONE);
    expect_message (f, "end", 60 * FRAME, 58 * FRAME);
    expect_no_message (f);
    fixture_free (f);
  }
}

GST_END_TEST;

/* The black level is 16 + 0.10 x 219 = 37 in limited range, 25 in full */
GST_START_TEST (test_black_level)
{
  Fixture *f = fixture_new ("I420");

  push_frames (f, 0, 51, 37);
  push_frames (f, 51, 52, 38);
  expect_message (f, "start", 0, GST_CLOCK_TIME_NONE);
  expect_message (f, "end", 51 * FRAME, 51 * FRAME);
  push_frames (f, 52, 120, 38);
  expect_no_message (f);
  fail_unless_equals_int (stat_uint (f, "luma-threshold"), 37);
  fixture_free (f);

  f = fixture_new_full ("I420", ", colorimetry=(string)1:4:0:0");
  push_frames (f, 0, 60, 26);
  expect_no_message (f);
  push_frames (f, 60, 111, 25);
  push_frames (f, 111, 112, 26);
  expect_message (f, "start", 60 * FRAME, GST_CLOCK_TIME_NONE);
  expect_message (f, "end", 111 * FRAME, 51 * FRAME);
  fail_unless_equals_int (stat_uint (f, "luma-threshold"), 25);
  fixture_free (f);

  /* pixel-threshold 0.5 in limited range: 16 + 109.5 = 125 */
  f = fixture_new ("Y42B");
  g_object_set (f->h->element, "pixel-threshold", 0.5, NULL);
  push_frames (f, 0, 1, 125);
  fail_unless_equals_float (stat_double (f, "picture-black-ratio"), 1.0);
  push_frames (f, 1, 2, 126);
  fail_unless_equals_float (stat_double (f, "picture-black-ratio"), 0.0);
  fail_unless_equals_int (stat_uint (f, "luma-threshold"), 125);
  fixture_free (f);

  /* GRAY8 without colorimetry is full range in GStreamer: 127.5 -> 127 */
  f = fixture_new ("GRAY8");
  g_object_set (f->h->element, "pixel-threshold", 0.5, NULL);
  push_frames (f, 0, 1, 127);
  fail_unless_equals_float (stat_double (f, "picture-black-ratio"), 1.0);
  push_frames (f, 1, 2, 128);
  fail_unless_equals_float (stat_double (f, "picture-black-ratio"), 0.0);
  fail_unless_equals_int (stat_uint (f, "luma-threshold"), 127);
  fixture_free (f);
}

GST_END_TEST;

/* Half the rows black: black for picture-threshold 0.5, not above */
GST_START_TEST (test_picture_threshold)
{
  Fixture *f = fixture_new ("NV12");
  guint8 luma[W * H];
  GstBuffer *b;

  memset (luma, BLACK, W * H / 2);
  memset (luma + W * H / 2, GRAY, W * H / 2);
  g_object_set (f->h->element, "picture-threshold", 0.5, NULL);
  for (guint i = 0; i < 60; i++) {
    b = frame_new (f->layout, luma, 0, i);
    fail_unless_equals_int (gst_harness_push (f->h, b), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (f->h));
  }
  fail_unless_equals_float (stat_double (f, "picture-black-ratio"), 0.5);
  fail_unless_equals_uint64 (stat (f, "black-frames"), 60);
  expect_message (f, "start", 0, GST_CLOCK_TIME_NONE);

  g_object_set (f->h->element, "picture-threshold", 0.51, NULL);
  b = frame_new (f->layout, luma, 0, 60);
  fail_unless_equals_int (gst_harness_push (f->h, b), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (f->h));
  expect_message (f, "end", 60 * FRAME, 60 * FRAME);
  fixture_free (f);
}

GST_END_TEST;

/* Black on even rows and columns, white elsewhere: a quarter of the
 * samples, but every sample that subsample=2 reads */
GST_START_TEST (test_subsample)
{
  Fixture *f = fixture_new ("Y444");
  guint8 luma[W * H];

  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      luma[y * W + x] = (x % 2 == 0 && y % 2 == 0) ? BLACK : 235;

  for (guint step = 1; step <= 2; step++) {
    GstBuffer *b = frame_new (f->layout, luma, 0, step);

    g_object_set (f->h->element, "subsample", step, NULL);
    fail_unless_equals_int (gst_harness_push (f->h, b), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (f->h));
    /* every sample: a quarter, not black, which the count knows before
     * the end (the ratio is then of the rows read, at most the frame's);
     * every other: all black, counted to the end */
    if (step == 1)
      fail_unless (stat_double (f, "picture-black-ratio") <= 0.25);
    else
      fail_unless_equals_float (stat_double (f, "picture-black-ratio"), 1.0);
  }
  fail_unless_equals_uint64 (stat (f, "black-frames"), 1);
  fixture_free (f);
}

GST_END_TEST;

/* An open stretch ends at EOS with the last frame's time, if long enough */
GST_START_TEST (test_eos)
{
  Fixture *f = fixture_new ("I420");

  push_frames (f, 0, 5, GRAY);
  push_frames (f, 5, 70, BLACK);
  expect_message (f, "start", 5 * FRAME, GST_CLOCK_TIME_NONE);
  fail_unless (gst_harness_push_event (f->h, gst_event_new_eos ()));
  expect_message (f, "end", 69 * FRAME, 64 * FRAME);
  expect_no_message (f);
  fixture_free (f);

  /* 1.96 s at EOS: nothing */
  f = fixture_new ("I420");
  push_frames (f, 0, 49, BLACK);
  fail_unless (gst_harness_push_event (f->h, gst_event_new_eos ()));
  expect_no_message (f);
  fixture_free (f);
}

GST_END_TEST;

/* A flush forgets the stretch */
GST_START_TEST (test_flush)
{
  Fixture *f = fixture_new ("I420");
  GstSegment segment;

  push_frames (f, 0, 40, BLACK);
  fail_unless (gst_harness_push_event (f->h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (f->h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = SEG_START;
  segment.time = SEG_TIME;
  fail_unless (gst_harness_push_event (f->h, gst_event_new_segment (&segment)));
  push_frames (f, 40, 60, BLACK);
  push_frames (f, 60, 61, GRAY);
  expect_no_message (f);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_caps)
{
  GstHarness *h = gst_harness_new ("blackdetect");
  GstPad *sink = gst_element_get_static_pad (h->element, "sink");
  GstCaps *caps;

  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++) {
    g_autofree gchar *str = g_strdup_printf
        ("video/x-raw, format=%s, width=%d, height=%d, framerate=25/1",
        layouts[i].format, W, H);
    caps = gst_caps_from_string (str);
    fail_unless (gst_pad_query_accept_caps (sink, caps), "%s refused",
        layouts[i].format);
    gst_caps_unref (caps);
  }
  static const gchar *refused[] = {
    "video/x-raw, format=RGB, width=64, height=48, framerate=25/1",
    "video/x-raw, format=I420_10LE, width=64, height=48, framerate=25/1",
    "video/x-raw, format=YUY2, width=64, height=48, framerate=25/1",
    "audio/x-raw, format=S16LE, rate=48000, channels=2",
  };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    caps = gst_caps_from_string (refused[i]);
    fail_if (gst_pad_query_accept_caps (sink, caps), "%s accepted",
        refused[i]);
    gst_caps_unref (caps);
  }
  gst_object_unref (sink);

  gst_harness_set_src_caps_str (h, refused[0]);
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_allocate (NULL, W * H * 3, NULL)),
      GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
blackdetect_suite (void)
{
  Suite *s = suite_create ("blackdetect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_black_stretch);
  tcase_add_test (tc, test_short_black);
  tcase_add_test (tc, test_formats);
  tcase_add_test (tc, test_black_level);
  tcase_add_test (tc, test_picture_threshold);
  tcase_add_test (tc, test_subsample);
  tcase_add_test (tc, test_eos);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_caps);
  return s;
}

GST_CHECK_MAIN (blackdetect);
