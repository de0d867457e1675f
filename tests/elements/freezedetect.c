/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* freezedetect with GstHarness: moving and frozen frames with exact PTS in
 * a segment whose running and stream times differ; FFmpeg's MAFD (every
 * plane, divided by 2^8) at the edge of the noise for each format;
 * subsampling; a gap in the timestamps; EOS; passthrough, the allocation
 * query and caps refusal. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <string.h>

#define MS GST_MSECOND
#define FRAME (40 * MS)         /* 25 fps */
#define W 64
#define H 48
#define SEG_START (10 * GST_SECOND)
#define SEG_TIME (100 * GST_SECOND)

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

#define DETECT_NAME "freezedetect"
#include "content-detect-check.h"

static guint
layout_size (const Layout * l)
{
  guint size = 0;

  for (guint p = 0; p < l->n_planes; p++)
    size += l->width[p] * l->height[p];
  return size;
}

static void
push_segment (Fixture * f)
{
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = SEG_START;
  segment.time = SEG_TIME;
  fail_unless (gst_harness_push_event (f->h, gst_event_new_segment (&segment)));
}

static Fixture *
fixture_new (const Layout * layout)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autofree gchar *caps = NULL;

  f->layout = layout;
  f->h = gst_harness_new ("freezedetect");
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->h->element, f->bus);
  caps = g_strdup_printf
      ("video/x-raw, format=%s, width=%d, height=%d, framerate=25/1",
      layout->format, W, H);
  gst_harness_set_src_caps_str (f->h, caps);
  push_segment (f);
  return f;
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

/* Picture @picture (every sample of every plane set from it), with
 * @changed samples one level up from byte @from */
static GstBuffer *
frame_new_changed (const Layout * l, guint picture, guint from, guint changed,
    GstClockTime pts)
{
  guint size = layout_size (l);
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;

  fail_unless (from + changed <= size);
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  for (guint i = 0; i < size; i++)
    map.data[i] = (picture * 37 + i * 7) % 200;
  for (guint i = from; i < from + changed; i++)
    map.data[i]++;
  gst_buffer_unmap (buffer, &map);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = FRAME;
  return buffer;
}

/* ... the changes in luma, from its first sample */
static GstBuffer *
frame_new (const Layout * l, guint picture, guint changed, GstClockTime pts)
{
  return frame_new_changed (l, picture, 0, changed, pts);
}

static void
push (Fixture * f, GstBuffer * in)
{
  GstBuffer *out;

  fail_unless_equals_int (gst_harness_push (f->h, in), GST_FLOW_OK);
  out = gst_harness_pull (f->h);
  fail_unless (out == in, "not the buffer pushed");
  gst_buffer_unref (out);
}

/* Frames [from, to): moving (a new picture each) or frozen on @picture */
static void
push_moving (Fixture * f, guint from, guint to)
{
  for (guint i = from; i < to; i++)
    push (f, frame_new (f->layout, i, 0, SEG_START + i * FRAME));
}

static void
push_frozen (Fixture * f, guint picture, guint from, guint to, guint changed)
{
  for (guint i = from; i < to; i++)
    push (f, frame_new (f->layout, picture, changed, SEG_START + i * FRAME));
}

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

static gdouble
stat_mafd (Fixture * f)
{
  GstStructure *s = stats (f);
  gdouble v = -2;

  fail_unless (gst_structure_get_double (s, "mafd", &v));
  gst_structure_free (s);
  return v;
}

GST_START_TEST (test_freeze)
{
  Fixture *f = fixture_new (&layouts[0]);

  /* moving to frame 174, frozen on frame 175's picture to 239 */
  push_moving (f, 0, 176);
  fail_unless (stat_mafd (f) > 0.001);
  push_frozen (f, 175, 176, 225, 0);
  fail_unless_equals_float (stat_mafd (f), 0.0);
  expect_no_message (f);
  /* 2 s after the reference: the freeze started at frame 175 */
  push_frozen (f, 175, 225, 226, 0);
  expect_message (f, "start", 175 * FRAME, GST_CLOCK_TIME_NONE);
  fail_unless (stat_bool (f, "in-freeze"));
  fail_unless_equals_uint64 (stat (f, "freeze-start"), 175 * FRAME);
  push_frozen (f, 175, 226, 240, 0);
  push_moving (f, 240, 250);
  expect_message (f, "end", 240 * FRAME, 65 * FRAME);
  expect_no_message (f);
  fail_if (stat_bool (f, "in-freeze"));
  fail_unless_equals_uint64 (stat (f, "freeze-start"), GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (stat (f, "stretches"), 1);
  fail_unless_equals_uint64 (stat (f, "frames"), 250);

  /* 1.96 s: nothing */
  push_frozen (f, 249, 250, 298, 0);
  push_moving (f, 298, 300);
  expect_no_message (f);
  fixture_free (f);
}

GST_END_TEST;

/* FFmpeg's MAFD: the sum of absolute differences over every plane, over
 * the samples of every plane, over 256.  With n samples changed by one
 * level MAFD = n / samples / 256, against -60 dB = 0.001: frozen up to
 * n = floor(0.256 * samples), whether the changes are in luma or chroma. */
GST_START_TEST (test_noise_edge)
{
  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++) {
    const Layout *l = &layouts[i];
    guint samples = layout_size (l), edge = samples * 256 / 1000;
    Fixture *f = fixture_new (l);

    push_moving (f, 0, 1);
    push_frozen (f, 0, 1, 60, edge);
    fail_unless_equals_float (stat_mafd (f), (gdouble) edge / samples / 256);
    expect_message (f, "start", 0, GST_CLOCK_TIME_NONE);
    push_frozen (f, 0, 60, 61, edge + 1);
    fail_unless_equals_float (stat_mafd (f),
        (gdouble) (edge + 1) / samples / 256);
    expect_message (f, "end", 60 * FRAME, 60 * FRAME);

    /* a new reference, then the same changes in chroma only */
    push (f, frame_new (l, 60, 0, SEG_START + 61 * FRAME));
    if (l->n_planes > 1) {
      push (f, frame_new_changed (l, 60, W * H, edge, SEG_START + 62 * FRAME));
      fail_unless_equals_float (stat_mafd (f), (gdouble) edge / samples / 256);
      push (f, frame_new_changed (l, 60, W * H, edge + 1,
              SEG_START + 63 * FRAME));
      fail_unless_equals_float (stat_mafd (f),
          (gdouble) (edge + 1) / samples / 256);
    }
    expect_no_message (f);

    /* the noise rises, set while running: -50 dB = 0.00316 */
    g_object_set (f->h->element, "noise", -50.0, NULL);
    push (f, frame_new (l, 63, 0, SEG_START + 64 * FRAME));
    push_frozen (f, 63, 65, 120, edge + 1);
    expect_message (f, "start", 64 * FRAME, GST_CLOCK_TIME_NONE);
    expect_no_message (f);
    fixture_free (f);
  }
}

GST_END_TEST;

/* Differences on odd rows and columns only: subsample=2 does not see them */
GST_START_TEST (test_subsample)
{
  Fixture *f = fixture_new (&layouts[7]);       /* GRAY8 */
  GstBuffer *b;
  GstMapInfo map;

  g_object_set (f->h->element, "subsample", 2, NULL);
  push_frozen (f, 0, 0, 1, 0);
  for (guint i = 1; i < 60; i++) {
    b = frame_new (f->layout, 0, 0, SEG_START + i * FRAME);
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    for (guint y = 1; y < H; y += 2)
      for (guint x = 1; x < W; x += 2)
        map.data[y * W + x] += 50;
    gst_buffer_unmap (b, &map);
    push (f, b);
  }
  fail_unless_equals_float (stat_mafd (f), 0.0);
  expect_message (f, "start", 0, GST_CLOCK_TIME_NONE);

  /* every sample: at most 12 x 32 x 24 / 3072 / 256 */
  g_object_set (f->h->element, "subsample", 1, NULL);
  b = frame_new (f->layout, 0, 0, SEG_START + 60 * FRAME);
  gst_buffer_map (b, &map, GST_MAP_WRITE);
  for (guint y = 1; y < H; y += 2)
    for (guint x = 1; x < W; x += 2)
      map.data[y * W + x] += 50;
  gst_buffer_unmap (b, &map);
  push (f, b);
  /* the sum stops once it is past the noise: a lower bound above it */
  fail_unless (stat_mafd (f) > 0.001);
  fail_unless (stat_mafd (f) <= 50.0 * 32 * 24 / (W * H) / 256);
  expect_message (f, "end", 60 * FRAME, 60 * FRAME);
  fixture_free (f);
}

GST_END_TEST;

/* A frame that differs two seconds after the last one: FFmpeg reports a
 * start and an end at once */
GST_START_TEST (test_gap)
{
  Fixture *f = fixture_new (&layouts[2]);

  push (f, frame_new (f->layout, 1, 0, SEG_START));
  push (f, frame_new (f->layout, 2, 0, SEG_START + 2 * GST_SECOND));
  expect_message (f, "start", 0, GST_CLOCK_TIME_NONE);
  expect_message (f, "end", 2 * GST_SECOND, 2 * GST_SECOND);
  expect_no_message (f);
  fixture_free (f);
}

GST_END_TEST;

/* Nothing at EOS, as FFmpeg: an open freeze stays open */
GST_START_TEST (test_eos)
{
  Fixture *f = fixture_new (&layouts[0]);

  push_moving (f, 0, 10);
  push_frozen (f, 9, 10, 70, 0);
  expect_message (f, "start", 9 * FRAME, GST_CLOCK_TIME_NONE);
  fail_unless (gst_harness_push_event (f->h, gst_event_new_eos ()));
  expect_no_message (f);
  fail_unless (stat_bool (f, "in-freeze"));
  fixture_free (f);
}

GST_END_TEST;

/* A new size is a new picture: the freeze ends */
GST_START_TEST (test_caps_change)
{
  Fixture *f = fixture_new (&layouts[0]);

  push_frozen (f, 3, 0, 60, 0);
  expect_message (f, "start", 0, GST_CLOCK_TIME_NONE);
  f->layout = &layouts[7];
  gst_harness_set_src_caps_str (f->h, "video/x-raw, format=GRAY8, "
      "width=64, height=48, framerate=25/1");
  push_segment (f);
  push_frozen (f, 3, 60, 61, 0);
  expect_message (f, "end", 60 * FRAME, 60 * FRAME);
  fixture_free (f);
}

GST_END_TEST;

/* The reference holds a buffer: the element asks upstream for one more */
GST_START_TEST (test_allocation)
{
  Fixture *f = fixture_new (&layouts[0]);
  GstPad *sink = gst_element_get_static_pad (f->h->element, "sink");
  GstCaps *caps = gst_caps_from_string ("video/x-raw, format=I420, "
      "width=64, height=48, framerate=25/1");
  GstQuery *query = gst_query_new_allocation (caps, TRUE);
  guint size, min, max;

  fail_unless (gst_pad_query (sink, query));
  fail_unless (gst_query_get_n_allocation_pools (query) >= 1);
  gst_query_parse_nth_allocation_pool (query, 0, NULL, &size, &min, &max);
  fail_unless (min >= 1);
  fail_unless (max == 0 || max >= min);
  gst_query_unref (query);
  gst_caps_unref (caps);
  gst_object_unref (sink);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_caps)
{
  GstHarness *h = gst_harness_new ("freezedetect");
  GstPad *sink = gst_element_get_static_pad (h->element, "sink");
  static const gchar *refused[] = {
    "video/x-raw, format=RGBA, width=64, height=48, framerate=25/1",
    "video/x-raw, format=P010_10LE, width=64, height=48, framerate=25/1",
    "video/x-raw, format=UYVY, width=64, height=48, framerate=25/1",
    "video/x-raw(memory:GLMemory), format=I420, width=64, height=48",
  };

  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++) {
    g_autofree gchar *str = g_strdup_printf
        ("video/x-raw, format=%s, width=%d, height=%d, framerate=25/1",
        layouts[i].format, W, H);
    GstCaps *caps = gst_caps_from_string (str);
    fail_unless (gst_pad_query_accept_caps (sink, caps), "%s refused", str);
    gst_caps_unref (caps);
  }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    GstCaps *caps = gst_caps_from_string (refused[i]);
    fail_if (gst_pad_query_accept_caps (sink, caps), "%s accepted",
        refused[i]);
    gst_caps_unref (caps);
  }
  gst_object_unref (sink);

  gst_harness_set_src_caps_str (h, refused[0]);
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_allocate (NULL, W * H * 4, NULL)),
      GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
freezedetect_suite (void)
{
  Suite *s = suite_create ("freezedetect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_freeze);
  tcase_add_test (tc, test_noise_edge);
  tcase_add_test (tc, test_subsample);
  tcase_add_test (tc, test_gap);
  tcase_add_test (tc, test_eos);
  tcase_add_test (tc, test_caps_change);
  tcase_add_test (tc, test_allocation);
  tcase_add_test (tc, test_caps);
  return s;
}

GST_CHECK_MAIN (freezedetect);
