/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* rtpst2022-7-merge with GstHarness: one harness on the source pad, one per
 * leg, all on one GstTestClock.  The recovery window runs on that clock:
 * tests set the time by hand and crank the element's clock wait, so
 * nothing sleeps. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#include "merge-window.h"

#define MS GST_MSECOND
#define SSRC 0x12345678u
#define MAX_LEGS 3
#define RTP_CAPS "application/x-rtp, media=(string)video, " \
    "clock-rate=(int)90000, encoding-name=(string)MP2T"

typedef struct
{
  GstHarness *h;
  GstHarness *leg[MAX_LEGS];
  guint n_legs;
  GstBus *bus;
  GstTestClock *clock;
} Fixture;

static Fixture *
fixture_new (guint n_legs, guint window_ms)
{
  Fixture *f = g_new0 (Fixture, 1);

  f->h = gst_harness_new_with_padnames ("rtpst2022-7-merge", NULL, "src");
  g_object_set (f->h->element, "recovery-window", window_ms, NULL);
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->h->element, f->bus);
  f->clock = gst_harness_get_testclock (f->h);
  f->n_legs = n_legs;
  for (guint i = 0; i < n_legs; i++) {
    gchar *name = g_strdup_printf ("sink_%u", i);
    f->leg[i] = gst_harness_new_with_element (f->h->element, name, NULL);
    gst_harness_set_src_caps_str (f->leg[i], RTP_CAPS);
    g_free (name);
  }
  gst_harness_play (f->h);
  return f;
}

static void
fixture_free (Fixture * f)
{
  gst_element_set_bus (f->h->element, NULL);
  gst_bus_set_flushing (f->bus, TRUE);
  gst_object_unref (f->bus);
  gst_object_unref (f->clock);
  gst_harness_teardown (f->h);
  for (guint i = 0; i < f->n_legs; i++)
    if (f->leg[i])
      gst_harness_teardown (f->leg[i]);
  g_free (f);
}

static GstBuffer *
rtp_new (guint32 ssrc, guint16 seq)
{
  guint8 data[12 + 188] = { 0x80, 33 };

  GST_WRITE_UINT16_BE (data + 2, seq);
  GST_WRITE_UINT32_BE (data + 4, seq * 90u);
  GST_WRITE_UINT32_BE (data + 8, ssrc);
  data[12] = 0x47;
  GST_WRITE_UINT16_BE (data + 13, seq);
  return gst_buffer_new_memdup (data, sizeof (data));
}

static void
set_time (Fixture * f, GstClockTime t)
{
  gst_test_clock_set_time (f->clock, t);
}

static GstFlowReturn
push_ssrc (Fixture * f, guint leg, guint32 ssrc, guint16 seq)
{
  return gst_harness_push (f->leg[leg], rtp_new (ssrc, seq));
}

static GstFlowReturn
push (Fixture * f, guint leg, guint16 seq)
{
  return push_ssrc (f, leg, SSRC, seq);
}

static guint16
seq_of (GstBuffer * buffer)
{
  guint8 header[4];

  fail_unless_equals_int (gst_buffer_extract (buffer, 0, header, 4), 4);
  return GST_READ_UINT16_BE (header + 2);
}

/* Pulls @count buffers, which must be @from, @from + 1, ... */
static void
expect_out (Fixture * f, guint16 from, guint count)
{
  for (guint i = 0; i < count; i++) {
    GstBuffer *b = gst_harness_try_pull (f->h);
    guint16 want = from + i;
    fail_unless (b != NULL, "buffer %u of %u (seq %u) did not come", i + 1,
        count, want);
    fail_unless_equals_int (seq_of (b), want);
    gst_buffer_unref (b);
  }
}

static void
expect_nothing (Fixture * f)
{
  GstBuffer *b = gst_harness_try_pull (f->h);
  if (b)
    fail ("unexpected buffer, seq %u", seq_of (b));
}

static GstStructure *
stats (Fixture * f)
{
  GstStructure *s;
  g_object_get (f->h->element, "stats", &s, NULL);
  return s;
}

static guint64
stat (Fixture * f, const gchar * field)
{
  GstStructure *s = stats (f);
  guint64 v = 0;
  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s", field);
  gst_structure_free (s);
  return v;
}

static guint64
leg_stat (Fixture * f, guint leg, const gchar * field)
{
  GstStructure *s = stats (f);
  const GValue *legs = gst_structure_get_value (s, "legs");
  const GstStructure *l;
  guint64 v = 0;

  fail_unless (leg < gst_value_array_get_size (legs));
  l = gst_value_get_structure (gst_value_array_get_value (legs, leg));
  fail_unless (gst_structure_get_uint64 (l, field, &v), "no %s", field);
  gst_structure_free (s);
  return v;
}

/* The events of our element messages so far, "pad:event" joined with ' ' */
static gchar *
take_events (Fixture * f)
{
  GString *events = g_string_new (NULL);
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (f->bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (m);
    if (gst_structure_has_name (s, "rtpst2022-7-merge"))
      g_string_append_printf (events, "%s%s:%s", events->len ? " " : "",
          gst_structure_get_string (s, "pad"),
          gst_structure_get_string (s, "event"));
    gst_message_unref (m);
  }
  return g_string_free (events, FALSE);
}

static gboolean
has_event (const gchar * events, const gchar * wanted)
{
  return strstr (events, wanted) != NULL;
}

/* The clock wait for the next deadline fires: time moves to it */
static void
crank (Fixture * f)
{
  fail_unless (gst_harness_crank_single_clock_wait (f->h));
}

/* Cranks the element's clock waits until its time is past @t */
static void
crank_past (Fixture * f, GstClockTime t)
{
  while (gst_clock_get_time (GST_CLOCK (f->clock)) <= t)
    crank (f);
}

/* The clock task handles a wait after the crank returns: waits for it,
 * bounded, until the leg's @field is @want */
static void
wait_leg_stat (Fixture * f, guint leg, const gchar * field, guint64 want)
{
  for (gint i = 0; i < 5000 && leg_stat (f, leg, field) != want; i++)
    g_usleep (1000);
  fail_unless_equals_uint64 (leg_stat (f, leg, field), want);
}

GST_START_TEST (test_complementary_loss)
{
  Fixture *f = fixture_new (2, 100);

  /* leg 0 misses 3 and 6, leg 1 misses 4 */
  for (guint16 i = 0; i < 10; i++) {
    set_time (f, i * MS);
    if (i != 3 && i != 6)
      fail_unless_equals_int (push (f, 0, 1000 + i), GST_FLOW_OK);
    if (i != 4)
      fail_unless_equals_int (push (f, 1, 1000 + i), GST_FLOW_OK);
  }
  expect_out (f, 1000, 10);
  expect_nothing (f);
  fail_unless_equals_int (stat (f, "output-packets"), 10);
  fail_unless_equals_int (stat (f, "lost-packets"), 0);
  fail_unless_equals_int (leg_stat (f, 0, "received"), 8);
  fail_unless_equals_int (leg_stat (f, 1, "received"), 9);
  /* `used`: the packets the output took from each leg (leg 0 comes first
   * except where it missed 3 and 6): the original's gap_fills, which add
   * up to output-packets, as 85,000 + 5,000 = 90,000 in its example */
  fail_unless_equals_int (leg_stat (f, 0, "used"), 8);
  fail_unless_equals_int (leg_stat (f, 1, "used"), 2);
  fail_unless_equals_int (leg_stat (f, 0, "used") + leg_stat (f, 1, "used"),
      stat (f, "output-packets"));
  /* final once no late copy can come: window + leg-timeout after 6 */
  crank_past (f, (6 + 100 + 1000) * MS);
  wait_leg_stat (f, 1, "unique", 2);
  fail_unless_equals_int (leg_stat (f, 0, "unique"), 1);
  fail_unless_equals_int (leg_stat (f, 1, "duplicates"), 7);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_window_on_clock)
{
  Fixture *f = fixture_new (2, 100);
  GstBuffer *b;

  set_time (f, 0);
  push (f, 0, 0);
  set_time (f, 1 * MS);
  push (f, 0, 1);
  set_time (f, 3 * MS);
  push (f, 0, 3);
  expect_out (f, 0, 2);
  expect_nothing (f);

  /* the element waits for 3 ms + window */
  gst_test_clock_wait_for_next_pending_id (f->clock, NULL);
  set_time (f, 102 * MS);
  expect_nothing (f);
  crank (f);
  b = gst_harness_pull (f->h);
  fail_unless_equals_int (seq_of (b), 3);
  fail_unless (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (gst_clock_get_time (GST_CLOCK (f->clock)),
      103 * MS);
  gst_buffer_unref (b);
  fail_unless_equals_int (stat (f, "lost-packets"), 1);

  /* 2 comes too late and is counted so */
  set_time (f, 110 * MS);
  push (f, 1, 2);
  push (f, 0, 4);
  b = gst_harness_pull (f->h);
  fail_unless_equals_int (seq_of (b), 4);
  fail_if (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (b);
  fail_unless_equals_int (leg_stat (f, 1, "late"), 1);
  fixture_free (f);
}

GST_END_TEST;

/* The other leg fills the hole 60 ms later, inside a 100 ms window */
GST_START_TEST (test_offset_leg_fills_hole)
{
  Fixture *f = fixture_new (2, 100);

  set_time (f, 0);
  push (f, 0, 10);
  set_time (f, 2 * MS);
  push (f, 0, 12);
  expect_out (f, 10, 1);
  set_time (f, 62 * MS);
  push (f, 1, 10);
  push (f, 1, 11);
  expect_out (f, 11, 2);
  push (f, 1, 12);
  expect_nothing (f);
  fail_unless_equals_int (stat (f, "lost-packets"), 0);
  fail_unless_equals_int (leg_stat (f, 1, "used"), 1);
  fail_unless_equals_int (leg_stat (f, 1, "duplicates"), 2);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_wraparound)
{
  Fixture *f = fixture_new (2, 100);

  for (guint i = 0; i < 100; i++) {
    guint16 seq = 65500 + i;
    set_time (f, i * MS);
    if (i % 5 != 1)
      push (f, 0, seq);
    if (i % 5 != 3)
      push (f, 1, seq);
  }
  expect_out (f, 65500, 100);
  expect_nothing (f);
  fail_unless_equals_int (stat (f, "lost-packets"), 0);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_reorder_within_window)
{
  Fixture *f = fixture_new (1, 100);
  guint16 order[] = { 0, 1, 3, 2, 5, 6, 4, 7 };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++) {
    set_time (f, i * MS);
    push (f, 0, order[i]);
  }
  expect_out (f, 0, 8);
  fail_unless_equals_int (stat (f, "lost-packets"), 0);
  fixture_free (f);
}

GST_END_TEST;

/* A smaller window applies at once to what waits */
GST_START_TEST (test_window_changed_while_playing)
{
  Fixture *f = fixture_new (1, 1000);

  set_time (f, 0);
  push (f, 0, 0);
  push (f, 0, 2);
  expect_out (f, 0, 1);
  set_time (f, 50 * MS);
  g_object_set (f->h->element, "recovery-window", 20, NULL);
  expect_out (f, 2, 1);
  fail_unless_equals_int (stat (f, "lost-packets"), 1);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_leg_silent_and_back)
{
  Fixture *f = fixture_new (2, 100);
  gchar *events;
  guint16 seq = 0;

  g_object_set (f->h->element, "leg-timeout", 300, NULL);
  set_time (f, 0);
  push (f, 0, seq);
  push (f, 1, seq++);
  events = take_events (f);
  fail_unless (has_event (events, "sink_0:leg-active"), "%s", events);
  fail_unless (has_event (events, "sink_1:leg-active"), "%s", events);
  g_free (events);

  /* leg 1 stops; leg 0 goes on every 10 ms */
  for (guint i = 1; i <= 40; i++) {
    set_time (f, i * 10 * MS);
    push (f, 0, seq++);
  }
  events = take_events (f);
  fail_unless_equals_string (events, "sink_1:leg-silent");
  g_free (events);
  fail_unless_equals_int (stat (f, "output-packets"), 41);

  /* back */
  set_time (f, 410 * MS);
  push (f, 1, seq - 1);
  push (f, 0, seq);
  push (f, 1, seq++);
  events = take_events (f);
  fail_unless_equals_string (events, "sink_1:leg-returned");
  g_free (events);
  expect_out (f, 0, seq);
  fixture_free (f);
}

GST_END_TEST;

/* Silence is noticed on the clock, with no data at all */
GST_START_TEST (test_silence_on_clock)
{
  Fixture *f = fixture_new (1, 100);
  gchar *events;

  g_object_set (f->h->element, "leg-timeout", 500, NULL);
  set_time (f, 0);
  push (f, 0, 7);
  expect_out (f, 7, 1);
  crank (f);
  fail_unless_equals_uint64 (gst_clock_get_time (GST_CLOCK (f->clock)),
      500 * MS);
  /* the message is posted right after the wait returns */
  for (gint i = 0; i < 500; i++) {
    GstStructure *s = stats (f);
    guint active = 1;
    gst_structure_get_uint (s, "active-legs", &active);
    gst_structure_free (s);
    if (active == 0)
      break;
    g_usleep (1000);
  }
  fail_unless_equals_int (stat (f, "output-packets"), 1);
  events = take_events (f);
  fail_unless (has_event (events, "sink_0:leg-silent"), "%s", events);
  g_free (events);
  fixture_free (f);
}

GST_END_TEST;

/* A packet from one leg only is counted unique when the clock passes
 * window + leg-timeout after it, with no other packet to trigger it */
GST_START_TEST (test_unique_on_clock)
{
  Fixture *f = fixture_new (2, 100);
  GstClockID id;

  set_time (f, 0);
  push (f, 0, 7);
  push (f, 1, 7);
  set_time (f, 1 * MS);
  push (f, 0, 8);
  expect_out (f, 7, 2);
  fail_unless_equals_int (leg_stat (f, 0, "unique"), 0);

  /* the legs go silent at 1 s and 1.001 s: the count still waits */
  crank_past (f, 1000 * MS);
  fail_unless_equals_uint64 (gst_clock_get_time (GST_CLOCK (f->clock)),
      1001 * MS);
  gst_test_clock_wait_for_next_pending_id (f->clock, &id);
  fail_unless (gst_clock_id_get_time (id) > 1101 * MS);
  fail_unless (gst_clock_id_get_time (id) <= 1101 * MS + MR_MERGE_SETTLE_STEP);
  gst_clock_id_unref (id);
  fail_unless_equals_int (leg_stat (f, 0, "unique"), 0);

  crank (f);
  wait_leg_stat (f, 0, "unique", 1);
  fail_unless_equals_int (leg_stat (f, 1, "unique"), 0);
  fail_unless_equals_int (leg_stat (f, 0, "used"), 2);
  fixture_free (f);
}

GST_END_TEST;

/* The sender restarts with a new SSRC and seqnums; leg 0 sees it 20 ms
 * before leg 1.  Nothing of either stream is lost. */
GST_START_TEST (test_sender_restart)
{
  Fixture *f = fixture_new (2, 100);
  gchar *events;
  GstBuffer *b;

  for (guint i = 0; i < 20; i++) {
    set_time (f, i * MS);
    push (f, 0, 100 + i);
    push (f, 1, 100 + i);
  }
  /* leg 0 has the new stream, leg 1 still the old one for a while */
  for (guint i = 0; i < 40; i++) {
    set_time (f, (20 + i) * MS);
    push_ssrc (f, 0, 0xbeef, 500 + i);
    if (i >= 20)
      push_ssrc (f, 1, 0xbeef, 500 + i - 20);
  }
  for (guint i = 20; i < 40; i++)
    push_ssrc (f, 1, 0xbeef, 500 + i);

  expect_out (f, 100, 20);
  b = gst_harness_pull (f->h);
  fail_unless_equals_int (seq_of (b), 500);
  fail_unless (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (b);
  expect_out (f, 501, 39);
  expect_nothing (f);
  fail_unless_equals_int (stat (f, "restarts"), 1);
  events = take_events (f);
  fail_unless (has_event (events, "stream-restarted"), "%s", events);
  fail_if (has_event (events, "leg-foreign"), "%s", events);
  g_free (events);
  fixture_free (f);
}

GST_END_TEST;

/* A jump of the seqnums with the same SSRC is a restart too */
GST_START_TEST (test_sequence_jump)
{
  Fixture *f = fixture_new (2, 100);

  for (guint i = 0; i < 10; i++) {
    set_time (f, i * MS);
    push (f, 0, 40000 + i);
    push (f, 1, 40000 + i);
  }
  for (guint i = 0; i < 10; i++) {
    set_time (f, (10 + i) * MS);
    push (f, 0, 3 + i);
    push (f, 1, 3 + i);
  }
  expect_out (f, 40000, 10);
  expect_out (f, 3, 10);
  expect_nothing (f);
  fail_unless_equals_int (stat (f, "restarts"), 1);
  fail_unless_equals_int (stat (f, "lost-packets"), 0);
  fixture_free (f);
}

GST_END_TEST;

/* Leg 1 carries another stream: reported, never merged */
GST_START_TEST (test_foreign_leg)
{
  Fixture *f = fixture_new (2, 100);
  gchar *events;
  guint active = 9;
  GstStructure *s;

  g_object_set (f->h->element, "leg-timeout", 200, NULL);
  for (guint i = 0; i < 50; i++) {
    set_time (f, i * 10 * MS);
    push (f, 0, i);
    push_ssrc (f, 1, 0xfeed, 20000 + i);
  }
  expect_out (f, 0, 50);
  expect_nothing (f);
  fail_unless_equals_int (leg_stat (f, 1, "foreign"), 50);
  fail_unless_equals_int (leg_stat (f, 1, "used"), 0);
  s = stats (f);
  gst_structure_get_uint (s, "active-legs", &active);
  gst_structure_free (s);
  fail_unless_equals_int (active, 1);
  events = take_events (f);
  fail_unless (has_event (events, "sink_1:leg-foreign"), "%s", events);
  g_free (events);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_invalid_packets)
{
  Fixture *f = fixture_new (1, 100);
  guint8 v1[12] = { 0x40 };

  set_time (f, 0);
  push (f, 0, 1);
  fail_unless_equals_int (gst_harness_push (f->leg[0],
          gst_buffer_new_memdup (v1, sizeof (v1))), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (f->leg[0],
          gst_buffer_new_memdup (v1, 5)), GST_FLOW_OK);
  push (f, 0, 2);
  expect_out (f, 1, 2);
  expect_nothing (f);
  fail_unless_equals_int (leg_stat (f, 0, "invalid"), 2);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_three_legs)
{
  Fixture *f = fixture_new (3, 100);

  for (guint i = 0; i < 60; i++) {
    set_time (f, i * MS);
    for (guint leg = 0; leg < 3; leg++)
      if (i % 3 != leg)
        push (f, leg, i);
  }
  expect_out (f, 0, 60);
  expect_nothing (f);
  fail_unless_equals_int (leg_stat (f, 0, "used") + leg_stat (f, 1, "used")
      + leg_stat (f, 2, "used"), 60);
  fixture_free (f);
}

GST_END_TEST;

/* EOS on every leg: what waits for a hole goes out, then EOS */
GST_START_TEST (test_eos_flushes)
{
  Fixture *f = fixture_new (2, 1000);
  GstEvent *e;

  set_time (f, 0);
  push (f, 0, 0);
  push (f, 0, 5);
  expect_out (f, 0, 1);
  gst_harness_push_event (f->leg[0], gst_event_new_eos ());
  expect_nothing (f);
  gst_harness_push_event (f->leg[1], gst_event_new_eos ());
  expect_out (f, 5, 1);
  /* the end decides what waited for a late copy */
  fail_unless_equals_int (leg_stat (f, 0, "unique"), 2);
  while ((e = gst_harness_try_pull_event (f->h))) {
    gboolean eos = GST_EVENT_TYPE (e) == GST_EVENT_EOS;
    gst_event_unref (e);
    if (eos)
      break;
  }
  fail_unless (e != NULL, "no EOS");
  fixture_free (f);
}

GST_END_TEST;

/* Buffer lists, as udpsrc-like sources push them */
GST_START_TEST (test_buffer_lists)
{
  Fixture *f = fixture_new (2, 100);
  GstBufferList *a = gst_buffer_list_new (), *b = gst_buffer_list_new ();

  for (guint i = 0; i < 20; i++) {
    if (i % 4 != 0)
      gst_buffer_list_add (a, rtp_new (SSRC, i));
    if (i % 4 == 0 || i % 3 == 0)
      gst_buffer_list_add (b, rtp_new (SSRC, i));
  }
  set_time (f, 0);
  fail_unless_equals_int (gst_pad_push_list (f->leg[1]->srcpad, b),
      GST_FLOW_OK);
  set_time (f, 5 * MS);
  fail_unless_equals_int (gst_pad_push_list (f->leg[0]->srcpad, a),
      GST_FLOW_OK);
  expect_out (f, 0, 20);
  expect_nothing (f);
  fixture_free (f);
}

GST_END_TEST;

/* Caps, then the latency: upstream's plus the window */
GST_START_TEST (test_caps_and_latency)
{
  Fixture *f = fixture_new (2, 150);
  GstQuery *q = gst_query_new_latency ();
  GstClockTime min, max;
  gboolean live;
  GstCaps *caps;

  set_time (f, 0);
  push (f, 0, 1);
  expect_out (f, 1, 1);
  caps = gst_pad_get_current_caps (f->h->sinkpad);
  fail_unless (caps != NULL);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "application/x-rtp"));
  gst_caps_unref (caps);

  gst_harness_set_upstream_latency (f->leg[0], 20 * MS);
  gst_harness_set_upstream_latency (f->leg[1], 30 * MS);
  fail_unless (gst_pad_peer_query (f->h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 180 * MS);
  gst_query_unref (q);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_release_leg)
{
  Fixture *f = fixture_new (2, 100);
  GstStructure *s;

  set_time (f, 0);
  push (f, 0, 0);
  push (f, 1, 0);
  /* the harness releases the pad it requested */
  gst_harness_teardown (f->leg[1]);
  f->leg[1] = NULL;
  fail_if (gst_element_get_static_pad (f->h->element, "sink_1"));
  push (f, 0, 1);
  expect_out (f, 0, 2);
  s = stats (f);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (s, "legs")), 1);
  gst_structure_free (s);
  fixture_free (f);
}

GST_END_TEST;

static Suite *
rtpst2022_7_merge_suite (void)
{
  Suite *s = suite_create ("rtpst2022-7-merge");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_complementary_loss);
  tcase_add_test (tc, test_window_on_clock);
  tcase_add_test (tc, test_offset_leg_fills_hole);
  tcase_add_test (tc, test_wraparound);
  tcase_add_test (tc, test_reorder_within_window);
  tcase_add_test (tc, test_window_changed_while_playing);
  tcase_add_test (tc, test_leg_silent_and_back);
  tcase_add_test (tc, test_silence_on_clock);
  tcase_add_test (tc, test_unique_on_clock);
  tcase_add_test (tc, test_sender_restart);
  tcase_add_test (tc, test_sequence_jump);
  tcase_add_test (tc, test_foreign_leg);
  tcase_add_test (tc, test_invalid_packets);
  tcase_add_test (tc, test_three_legs);
  tcase_add_test (tc, test_eos_flushes);
  tcase_add_test (tc, test_buffer_lists);
  tcase_add_test (tc, test_caps_and_latency);
  tcase_add_test (tc, test_release_leg);
  return s;
}

GST_CHECK_MAIN (rtpst2022_7_merge);
