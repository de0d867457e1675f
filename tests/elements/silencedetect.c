/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* silencedetect with GstHarness: S16 and F32 at 48 and 44.1 kHz with 1, 2
 * and 6 channels, loud and silent stretches at exact sample positions, in
 * a segment whose running and stream times differ; all channels against
 * mono; the noise edge; EOS; buffers without timestamps; stats;
 * passthrough and caps refusal. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <math.h>
#include <string.h>

#define MS GST_MSECOND
#define SEG_START (10 * GST_SECOND)
#define SEG_TIME (100 * GST_SECOND)
#define LOUD 8000               /* S16; F32 uses LOUD / 32768 */

typedef struct
{
  GstHarness *h;
  GstBus *bus;
  gboolean f32;
  guint rate, channels, frames_per_buffer;
  guint64 pushed;               /* frames */
} Fixture;

#define DETECT_NAME "silencedetect"
#include "content-detect-check.h"

/* The value of a sample: silent (0) or loud (alternating signs), by the
 * caller's schedule */
typedef gint (*SampleFunc) (guint64 frame, guint channel, gpointer data);

static Fixture *
fixture_new_full (const gchar * format, guint rate, guint channels,
    gboolean mono)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autofree gchar *caps = NULL;
  GstSegment segment;

  f->f32 = g_str_equal (format, "F32LE");
  f->rate = rate;
  f->channels = channels;
  f->frames_per_buffer = rate / 100;    /* 10 ms */
  f->h = gst_harness_new ("silencedetect");
  g_object_set (f->h->element, "mono", mono, NULL);
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->h->element, f->bus);
  caps = g_strdup_printf ("audio/x-raw, format=%s, layout=interleaved, "
      "rate=%u, channels=%u%s", format, rate, channels,
      channels > 2 ? ", channel-mask=(bitmask)0x3f" : "");
  gst_harness_set_src_caps_str (f->h, caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = SEG_START;
  segment.time = SEG_TIME;
  fail_unless (gst_harness_push_event (f->h, gst_event_new_segment (&segment)));
  return f;
}

static Fixture *
fixture_new (const gchar * format, guint rate, guint channels)
{
  return fixture_new_full (format, rate, channels, FALSE);
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

static GstClockTime
frame_time (Fixture * f, guint64 frame)
{
  return gst_util_uint64_scale_int (frame, GST_SECOND, f->rate);
}

/* Pushes buffers up to frame @to; each comes out as it went in */
static void
push_until (Fixture * f, guint64 to, SampleFunc func, gpointer data,
    gboolean timestamps)
{
  while (f->pushed < to) {
    guint n = MIN (f->frames_per_buffer, to - f->pushed);
    gsize size = n * f->channels * (f->f32 ? 4 : 2);
    GstBuffer *in = gst_buffer_new_allocate (NULL, size, NULL), *out;
    GstMapInfo map;

    gst_buffer_map (in, &map, GST_MAP_WRITE);
    for (guint i = 0; i < n; i++)
      for (guint c = 0; c < f->channels; c++) {
        gint v = func (f->pushed + i, c, data);
        guint k = i * f->channels + c;
        if (f->f32)
          ((gfloat *) map.data)[k] = v / 32768.0f;
        else
          ((gint16 *) map.data)[k] = v;
      }
    gst_buffer_unmap (in, &map);
    if (timestamps || f->pushed == 0)
      GST_BUFFER_PTS (in) = SEG_START + frame_time (f, f->pushed);
    f->pushed += n;

    fail_unless_equals_int (gst_harness_push (f->h, in), GST_FLOW_OK);
    out = gst_harness_pull (f->h);
    fail_unless (out == in, "not the buffer pushed");
    gst_buffer_unref (out);
  }
}

/* Silent on every channel in [from, to) frames, loud elsewhere */
typedef struct
{
  guint64 from, to;
  guint channels_silent;        /* the first N channels follow the schedule */
  gint inside;                  /* the value within the silence */
} Schedule;

static gint
scheduled (guint64 frame, guint channel, gpointer data)
{
  Schedule *s = data;

  if (channel < s->channels_silent && frame >= s->from && frame < s->to)
    return s->inside;
  return frame % 2 ? LOUD : -LOUD;
}

static gboolean
near (GstClockTime a, GstClockTime b)
{
  return a + 1 >= b && a <= b + 1;
}

static void
expect_message_on (Fixture * f, const gchar * event, gint channel,
    GstClockTime t, GstClockTime duration)
{
  Message m;

  fail_unless (next_message (f, &m), "no %s message", event);
  fail_unless_equals_string (m.event, event);
  /* to the nanosecond: buffer timestamps are rounded, sample times are
   * counted from them */
  fail_unless (near (m.running_time, t), "running-time %" G_GUINT64_FORMAT
      ", expected %" G_GUINT64_FORMAT, m.running_time, t);
  fail_unless (near (m.stream_time, t + SEG_TIME));
  if (duration != GST_CLOCK_TIME_NONE)
    fail_unless (near (m.duration, duration), "duration %" G_GUINT64_FORMAT
        ", expected %" G_GUINT64_FORMAT, m.duration, duration);
  fail_unless_equals_int (m.channel, channel);
  g_free (m.event);
}

static void
expect_message (Fixture * f, const gchar * event, GstClockTime t,
    GstClockTime duration)
{
  expect_message_on (f, event, -1, t, duration);
}

/* 2.5 s of silence from 1.0 s, in every format, rate and layout */
static void
check_silence (const gchar * format, guint rate, guint channels)
{
  Fixture *f = fixture_new (format, rate, channels);
  Schedule s = { rate, rate * 7 / 2, channels, 0 };

  /* the run reaches two seconds at 3.0 s */
  push_until (f, 3 * rate - 1, scheduled, &s, TRUE);
  expect_no_message (f);
  fail_if (stat_bool (f, "in-silence"));
  push_until (f, 3 * rate + f->frames_per_buffer, scheduled, &s, TRUE);
  expect_message (f, "start", GST_SECOND, GST_CLOCK_TIME_NONE);
  fail_unless (stat_bool (f, "in-silence"));
  fail_unless (near (stat (f, "silence-start"), GST_SECOND));
  fail_unless_equals_int (stat_uint (f, "silent-channels"), channels);
  fail_unless_equals_float (stat_double (f, "peak-db"), -200.0);
  /* it ends at the first loud sample */
  push_until (f, 5 * rate, scheduled, &s, TRUE);
  expect_message (f, "end", 3500 * MS, 2500 * MS);
  expect_no_message (f);
  fail_if (stat_bool (f, "in-silence"));
  fail_unless_equals_uint64 (stat (f, "silence-start"), GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (stat (f, "stretches"), 1);
  fail_unless_equals_uint64 (stat (f, "samples"), 5 * rate);
  fail_unless_equals_float (stat_double (f, "peak-db"),
      20 * log10 (LOUD / 32768.0));
  fixture_free (f);
}

GST_START_TEST (test_silence_s16)
{
  check_silence ("S16LE", 48000, 1);
  check_silence ("S16LE", 44100, 2);
  check_silence ("S16LE", 48000, 6);
}

GST_END_TEST;

GST_START_TEST (test_silence_f32)
{
  check_silence ("F32LE", 44100, 1);
  check_silence ("F32LE", 48000, 2);
  check_silence ("F32LE", 44100, 6);
}

GST_END_TEST;

/* Quiet within the noise from 7 s to 9.5 s, but at 8 s one sample of the
 * right channel is just above it (33 / 32768 > -60 dB > 31 / 32768) */
static gint
broken (guint64 frame, guint channel, gpointer data)
{
  guint rate = GPOINTER_TO_UINT (data);

  if (frame >= 7 * rate && frame < 19 * rate / 2) {
    if (frame == 8 * rate && channel == 1)
      return 33;
    return channel ? -31 : 31;
  }
  return frame % 2 ? LOUD : -LOUD;
}

/* 1.5 s, and 2.5 s broken in two by one sample: nothing; 3 s of samples
 * just below the noise: a silence */
GST_START_TEST (test_short)
{
  static const gchar *formats[] = { "S16LE", "F32LE" };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    Fixture *f = fixture_new (formats[i], 48000, 2);
    Schedule a = { 48000, 48000 * 5 / 2, 2, 0 };
    Schedule b = { 11 * 48000, 14 * 48000, 2, -31 };

    push_until (f, 3 * 48000, scheduled, &a, TRUE);
    push_until (f, 10 * 48000, broken, GUINT_TO_POINTER (48000), TRUE);
    expect_no_message (f);
    fail_unless_equals_uint64 (stat (f, "stretches"), 0);

    push_until (f, 15 * 48000, scheduled, &b, TRUE);
    expect_message (f, "start", 11 * GST_SECOND, GST_CLOCK_TIME_NONE);
    expect_message (f, "end", 14 * GST_SECOND, 3 * GST_SECOND);
    fixture_free (f);
  }
}

GST_END_TEST;

/* The left channel silent, the right loud: only mono reports, on channel 0 */
GST_START_TEST (test_mono)
{
  Schedule s = { 24000, 7 * 24000, 1, 0 };
  Fixture *f = fixture_new ("S16LE", 48000, 2);

  push_until (f, 5 * 48000, scheduled, &s, TRUE);
  expect_no_message (f);
  fixture_free (f);

  f = fixture_new_full ("S16LE", 48000, 2, TRUE);
  push_until (f, 5 * 48000, scheduled, &s, TRUE);
  expect_message_on (f, "start", 0, 500 * MS, GST_CLOCK_TIME_NONE);
  expect_message_on (f, "end", 0, 3500 * MS, 3 * GST_SECOND);
  expect_no_message (f);
  fail_unless_equals_int (stat_uint (f, "silent-channels"), 0);
  fixture_free (f);

  /* six channels, five silent: mono reports five */
  {
    Schedule five = { 0, 3 * 48000, 5, 0 };
    f = fixture_new_full ("F32LE", 48000, 6, TRUE);
    push_until (f, 3 * 48000 - 480, scheduled, &five, TRUE);
    for (guint c = 0; c < 5; c++)
      expect_message_on (f, "start", c, 0, GST_CLOCK_TIME_NONE);
    expect_no_message (f);
    fail_unless_equals_int (stat_uint (f, "silent-channels"), 5);
    fail_unless (stat_bool (f, "in-silence"));
    push_until (f, 3 * 48000 + 480, scheduled, &five, TRUE);
    for (guint c = 0; c < 5; c++)
      expect_message_on (f, "end", c, 3 * GST_SECOND, 3 * GST_SECOND);
    fixture_free (f);

    f = fixture_new ("F32LE", 48000, 6);
    push_until (f, 3 * 48000 + 480, scheduled, &five, TRUE);
    expect_no_message (f);
    fixture_free (f);
  }
}

GST_END_TEST;

/* An open silence ends at EOS, at the end of the last buffer */
GST_START_TEST (test_eos)
{
  Schedule s = { 48000, 10 * 48000, 2, 0 };
  Fixture *f = fixture_new ("S16LE", 48000, 2);

  push_until (f, 4 * 48000 + 123, scheduled, &s, TRUE);
  expect_message (f, "start", GST_SECOND, GST_CLOCK_TIME_NONE);
  fail_unless (gst_harness_push_event (f->h, gst_event_new_eos ()));
  expect_message (f, "end", frame_time (f, 4 * 48000 + 123),
      frame_time (f, 3 * 48000 + 123));
  expect_no_message (f);
  fixture_free (f);

  /* too short at EOS: nothing */
  f = fixture_new ("F32LE", 44100, 1);
  s.from = 44100;
  push_until (f, 2 * 44100, scheduled, &s, TRUE);
  fail_unless (gst_harness_push_event (f->h, gst_event_new_eos ()));
  expect_no_message (f);
  fixture_free (f);
}

GST_END_TEST;

/* Buffers without a timestamp continue the one before */
GST_START_TEST (test_no_timestamps)
{
  Schedule s = { 44100 / 2, 3 * 44100, 2, 0 };
  Fixture *f = fixture_new ("F32LE", 44100, 2);

  push_until (f, 4 * 44100, scheduled, &s, FALSE);
  expect_message (f, "start", 500 * MS, GST_CLOCK_TIME_NONE);
  expect_message (f, "end", 3 * GST_SECOND, 2500 * MS);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_caps)
{
  GstHarness *h = gst_harness_new ("silencedetect");
  GstPad *sink = gst_element_get_static_pad (h->element, "sink");
  static const gchar *accepted[] = {
    "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=1",
    "audio/x-raw, format=F32LE, layout=interleaved, rate=44100, channels=2",
    "audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=64, "
        "channel-mask=(bitmask)0",
  };
  static const gchar *refused[] = {
    "audio/x-raw, format=S32LE, layout=interleaved, rate=48000, channels=2",
    "audio/x-raw, format=F32LE, layout=non-interleaved, rate=48000, "
        "channels=2",
    "audio/x-raw, format=S16BE, layout=interleaved, rate=48000, channels=2",
    "audio/x-raw, format=F64LE, layout=interleaved, rate=48000, channels=2",
    "audio/x-raw, format=U8, layout=interleaved, rate=48000, channels=2",
    "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=65",
    "video/x-raw, format=I420, width=64, height=48",
  };

  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++) {
    GstCaps *caps = gst_caps_from_string (accepted[i]);
    fail_unless (gst_pad_query_accept_caps (sink, caps), "%s refused",
        accepted[i]);
    gst_caps_unref (caps);
  }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    GstCaps *caps = gst_caps_from_string (refused[i]);
    fail_if (gst_pad_query_accept_caps (sink, caps), "%s accepted",
        refused[i]);
    gst_caps_unref (caps);
  }
  gst_object_unref (sink);

  gst_harness_set_src_caps_str (h, refused[1]);
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_allocate (NULL, 480 * 8, NULL)),
      GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
silencedetect_suite (void)
{
  Suite *s = suite_create ("silencedetect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_silence_s16);
  tcase_add_test (tc, test_silence_f32);
  tcase_add_test (tc, test_short);
  tcase_add_test (tc, test_mono);
  tcase_add_test (tc, test_eos);
  tcase_add_test (tc, test_no_timestamps);
  tcase_add_test (tc, test_caps);
  return s;
}

GST_CHECK_MAIN (silencedetect);
