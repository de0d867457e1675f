/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* failoverselector with GstHarness: choosing, failing over, switching back
 * and by hand, EOS, errors, pads, stats.  The MPEG-TS cut at a
 * random-access point is in failoverselector-mpegts.c. */

#include "failoverselector-fixture.h"

#define TEST_CAPS "application/x-test"

/* Helpers: data that says where it comes from */

static GstBuffer *
data_buffer_new (guint input, guint seq)
{
  guint8 *data = g_malloc (8);

  GST_WRITE_UINT32_BE (data, input);
  GST_WRITE_UINT32_BE (data + 4, seq);
  return gst_buffer_new_wrapped (data, 8);
}

static void
push (Fixture * f, guint input, guint seq)
{
  fail_unless_equals_int (gst_harness_push (f->in[input],
          data_buffer_new (input, seq)), GST_FLOW_OK);
}

/* Sets the clock to @ms and pushes on @input */
static void
push_at (Fixture * f, guint64 ms, guint input, guint seq)
{
  gst_harness_set_time (f->h, ms * MS);
  push (f, input, seq);
}

static void
assert_output (Fixture * f, guint input, guint seq, gboolean discont)
{
  GstBuffer *buf = gst_harness_try_pull (f->h);
  guint8 data[8];

  fail_unless (buf != NULL, "no output, expected %u/%u", input, seq);
  fail_unless_equals_int (gst_buffer_extract (buf, 0, data, 8), 8);
  fail_unless_equals_int (GST_READ_UINT32_BE (data), input);
  fail_unless_equals_int (GST_READ_UINT32_BE (data + 4), seq);
  fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (buf,
          GST_BUFFER_FLAG_DISCONT), discont);
  gst_buffer_unref (buf);
}

/* Both inputs deliver at 0, the primary goes out */
static Fixture *
fixture_on_primary (void)
{
  Fixture *f = fixture_new (2, TEST_CAPS);

  push_at (f, 0, PRIMARY, 0);
  push (f, BACKUP, 0);
  assert_output (f, PRIMARY, 0, FALSE);
  assert_no_output (f);
  return f;
}

/* The primary stops after 0; the backup keeps delivering and goes out from
 * 500 ms on */
static Fixture *
fixture_failed_over (void)
{
  Fixture *f = fixture_on_primary ();
  guint seq;

  for (seq = 1; seq <= 4; seq++)
    push_at (f, seq * 100, BACKUP, seq);
  check_at (f, TIMEOUT_MS);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");
  push_at (f, 510, BACKUP, 5);
  assert_output (f, BACKUP, 5, TRUE);
  assert_no_output (f);
  return f;
}


/* Tests: basics */

GST_START_TEST (test_properties_and_pads)
{
  GstElement *element = gst_element_factory_make ("failoverselector", NULL);
  GstPad *p0, *p1, *p5, *p6, *active = NULL;
  GstStructure *stats = NULL;
  guint timeout, recovery_time, priority;
  gboolean auto_recover, healthy = TRUE;

  g_object_get (element, "timeout", &timeout, "recovery-time",
      &recovery_time, "auto-recover", &auto_recover, "active-pad", &active,
      NULL);
  fail_unless_equals_int (timeout, 500);
  fail_unless_equals_int (recovery_time, 2000);
  fail_unless (auto_recover);
  fail_unless (active == NULL);

  p0 = gst_element_request_pad_simple (element, "sink_%u");
  p1 = gst_element_request_pad_simple (element, "sink_%u");
  p5 = gst_element_request_pad_simple (element, "sink_5");
  p6 = gst_element_request_pad_simple (element, "sink_%u");
  fail_unless_equals_string (GST_PAD_NAME (p0), "sink_0");
  fail_unless_equals_string (GST_PAD_NAME (p1), "sink_1");
  fail_unless_equals_string (GST_PAD_NAME (p5), "sink_5");
  fail_unless_equals_string (GST_PAD_NAME (p6), "sink_6");

  g_object_get (p0, "priority", &priority, "healthy", &healthy, NULL);
  fail_unless_equals_int (priority, 0);
  fail_if (healthy);
  g_object_set (p0, "priority", 7, NULL);
  g_object_get (p0, "priority", &priority, NULL);
  fail_unless_equals_int (priority, 7);

  g_object_get (element, "stats", &stats, NULL);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (stats, "pads")), 4);
  fail_unless_equals_string (gst_structure_get_string (stats, "active-pad"),
      NULL);
  gst_structure_free (stats);

  gst_element_release_request_pad (element, p0);
  gst_element_release_request_pad (element, p1);
  gst_element_release_request_pad (element, p5);
  gst_element_release_request_pad (element, p6);
  gst_object_unref (p0);
  gst_object_unref (p1);
  gst_object_unref (p5);
  gst_object_unref (p6);
  gst_object_unref (element);
}

GST_END_TEST;

GST_START_TEST (test_parse_launch_pad_priority)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch ("failoverselector name=fs "
      "sink_0::priority=3 sink_1::priority=4 ! fakesink "
      "fakesrc ! fs.sink_0 fakesrc ! fs.sink_1", &error);
  GstElement *fs;
  GstPad *pad;
  guint priority = 0;

  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  fs = gst_bin_get_by_name (GST_BIN (pipeline), "fs");
  pad = gst_element_get_static_pad (fs, "sink_0");
  g_object_get (pad, "priority", &priority, NULL);
  fail_unless_equals_int (priority, 3);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (fs, "sink_1");
  g_object_get (pad, "priority", &priority, NULL);
  fail_unless_equals_int (priority, 4);
  gst_object_unref (pad);
  gst_object_unref (fs);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_first_input_with_its_events)
{
  Fixture *f = fixture_new (2, TEST_CAPS);

  /* the health check runs on the harness' clock */
  fail_unless_equals_int (gst_test_clock_peek_id_count (f->clock), 1);

  push_at (f, 0, PRIMARY, 0);
  assert_sticky_events_of (f, PRIMARY);
  /* the first choice is no switch: no DISCONT, no message */
  assert_output (f, PRIMARY, 0, FALSE);
  assert_no_message (f);
  assert_active (f, PRIMARY);
  fail_unless_equals_int (f->notifies, 1);

  /* the backup is dropped without blocking or an error */
  push (f, BACKUP, 0);
  assert_no_output (f);
  push (f, PRIMARY, 1);
  assert_output (f, PRIMARY, 1, FALSE);
  fail_unless_equals_uint64 (get_switches (f), 0);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_startup_waits_for_preferred)
{
  Fixture *f = fixture_new (2, TEST_CAPS);

  /* the backup starts first: dropped while the primary may still come */
  push_at (f, 0, BACKUP, 0);
  push_at (f, 200, BACKUP, 1);
  assert_no_output (f);
  push_at (f, 300, PRIMARY, 0);
  assert_output (f, PRIMARY, 0, FALSE);
  assert_no_message (f);
  fixture_free (f);

  /* the primary never comes: the backup goes out after the timeout */
  f = fixture_new (2, TEST_CAPS);
  push_at (f, 0, BACKUP, 0);
  push_at (f, 499, BACKUP, 1);
  assert_no_output (f);
  push_at (f, 500, BACKUP, 2);
  assert_output (f, BACKUP, 2, FALSE);
  assert_no_message (f);
  assert_active (f, BACKUP);
  fixture_free (f);
}

GST_END_TEST;

/* Tests: failing over */

GST_START_TEST (test_timeout_switch)
{
  Fixture *f = fixture_on_primary ();
  guint seq;

  drain_events (f);
  /* the primary is silent, the backup delivers: not yet */
  for (seq = 1; seq <= 4; seq++) {
    push_at (f, seq * 100, BACKUP, seq);
    check_at (f, seq * 100);
    assert_no_message (f);
  }
  check_at (f, TIMEOUT_MS - 1);
  assert_no_message (f);
  assert_no_output (f);

  /* timeout after the primary's last data: switched by the clock alone */
  check_at (f, TIMEOUT_MS);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");
  assert_active (f, BACKUP);
  fail_unless_equals_int (f->notifies, 2);
  assert_no_output (f);

  /* the backup's next buffer, after its stream-start, caps and segment */
  push_at (f, 520, BACKUP, 5);
  assert_sticky_events_of (f, BACKUP);
  assert_output (f, BACKUP, 5, TRUE);
  push_at (f, 540, BACKUP, 6);
  assert_output (f, BACKUP, 6, FALSE);

  /* the primary's return is only dropped, for now */
  push_at (f, 600, PRIMARY, 1);
  assert_no_output (f);
  assert_no_message (f);
  fail_unless_equals_uint64 (get_switches (f), 1);

  fixture_free (f);
}

GST_END_TEST;

/* send-held: at the failover the backup's newest buffer (held while it
 * waited) goes out at once, with the DISCONT flag, if it is recent */
GST_START_TEST (test_timeout_sends_held_buffer)
{
  Fixture *f = fixture_on_primary ();
  guint seq;

  g_object_set (f->h->element, "send-held", TRUE, NULL);
  drain_events (f);
  for (seq = 1; seq <= 4; seq++)
    push_at (f, seq * 110, BACKUP, seq);
  assert_no_output (f);

  check_at (f, TIMEOUT_MS);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");
  assert_active (f, BACKUP);
  /* the held one (4, at 440 ms: 60 ms old), not waiting for 5 */
  assert_sticky_events_of (f, BACKUP);
  assert_output (f, BACKUP, 4, TRUE);
  assert_no_output (f);
  push_at (f, 550, BACKUP, 5);
  assert_output (f, BACKUP, 5, FALSE);
  fixture_free (f);
}

GST_END_TEST;

/* held data older than 100 ms is not sent */
GST_START_TEST (test_timeout_old_held_buffer_dropped)
{
  Fixture *f = fixture_on_primary ();

  g_object_set (f->h->element, "send-held", TRUE, NULL);
  drain_events (f);
  push_at (f, 100, BACKUP, 1);
  check_at (f, TIMEOUT_MS);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");
  assert_no_output (f);
  push_at (f, 520, BACKUP, 2);
  assert_sticky_events_of (f, BACKUP);
  assert_output (f, BACKUP, 2, TRUE);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_timeout_noticed_by_backup_data)
{
  Fixture *f = fixture_on_primary ();

  push_at (f, 300, BACKUP, 1);
  assert_no_output (f);
  /* no health check ran, the backup's data shows the primary is gone */
  push_at (f, 600, BACKUP, 2);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");
  assert_output (f, BACKUP, 2, TRUE);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_timeout_change_in_playing)
{
  Fixture *f = fixture_on_primary ();
  guint timeout = 0;

  g_object_set (f->h->element, "timeout", 200, NULL);
  g_object_get (f->h->element, "timeout", &timeout, NULL);
  fail_unless_equals_int (timeout, 200);
  /* the check was rescheduled, not doubled */
  fail_unless_equals_int (gst_test_clock_peek_id_count (f->clock), 1);

  push_at (f, 100, BACKUP, 1);
  check_at (f, 199);
  assert_no_message (f);
  check_at (f, 200);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_priority_order)
{
  Fixture *f = fixture_new (3, TEST_CAPS);

  set_priority (f, 0, 2);
  set_priority (f, 1, 0);
  set_priority (f, 2, 1);

  push_at (f, 0, 0, 0);
  push (f, 1, 0);
  push (f, 2, 0);
  assert_output (f, 1, 0, FALSE);
  assert_no_output (f);

  /* sink_1 stops: sink_2 (priority 1) before sink_0 (priority 2) */
  push_at (f, 300, 0, 1);
  push (f, 2, 1);
  check_at (f, 500);
  assert_switch_message (f, "sink_1", "sink_2", "timeout");
  push_at (f, 510, 0, 2);
  push (f, 2, 2);
  assert_output (f, 2, 2, TRUE);
  assert_no_output (f);

  /* and sink_2 stops */
  push_at (f, 1010, 0, 4);
  assert_switch_message (f, "sink_2", "sink_0", "timeout");
  assert_output (f, 0, 4, TRUE);

  fixture_free (f);
}

GST_END_TEST;

/* Tests: switching back */

GST_START_TEST (test_recovery_hold_time)
{
  Fixture *f = fixture_failed_over ();
  guint t;

  drain_events (f);
  /* the primary is back from 1000 ms on: healthy, but not for long enough */
  for (t = 600; t < 1000 + RECOVERY_MS; t += 100) {
    push_at (f, t, BACKUP, t / 100);
    if (t >= 1000)
      push (f, PRIMARY, t / 100);
    check_at (f, t);
    assert_output (f, BACKUP, t / 100, FALSE);
    assert_no_output (f);
    assert_no_message (f);
  }
  check_at (f, 1000 + RECOVERY_MS - 1);
  assert_no_message (f);

  /* recovery-time after its return: its next buffer goes out */
  push_at (f, 1000 + RECOVERY_MS, PRIMARY, 30);
  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_sticky_events_of (f, PRIMARY);
  assert_output (f, PRIMARY, 30, TRUE);
  push (f, BACKUP, 30);
  assert_no_output (f);
  fail_unless_equals_uint64 (get_switches (f), 2);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_auto_recover_off)
{
  Fixture *f = fixture_failed_over ();
  guint t;

  g_object_set (f->h->element, "auto-recover", FALSE, NULL);
  for (t = 600; t <= 6000; t += 100) {
    push_at (f, t, PRIMARY, t / 100);
    push (f, BACKUP, t / 100);
    assert_output (f, BACKUP, t / 100, FALSE);
  }
  assert_no_message (f);

  /* failing over still works */
  push_at (f, 6500, PRIMARY, 65);
  assert_switch_message (f, "sink_1", "sink_0", "timeout");
  assert_output (f, PRIMARY, 65, TRUE);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_manual_switch)
{
  Fixture *f = fixture_on_primary ();
  GstPad *foreign = gst_pad_new ("sink_9", GST_PAD_SINK);
  guint t;

  drain_events (f);
  g_object_set (f->h->element, "active-pad", input_pad (f, BACKUP), NULL);
  assert_switch_message (f, "sink_0", "sink_1", "manual");
  assert_active (f, BACKUP);
  fail_unless_equals_int (f->notifies, 2);

  push_at (f, 100, BACKUP, 1);
  assert_sticky_events_of (f, BACKUP);
  assert_output (f, BACKUP, 1, TRUE);

  /* the choice holds though the primary is better and healthy */
  for (t = 100; t <= 5000; t += 100) {
    push_at (f, t, PRIMARY, t / 100);
    push (f, BACKUP, t / 100 + 1);
    assert_output (f, BACKUP, t / 100 + 1, FALSE);
  }
  assert_no_message (f);

  /* not one of ours: ignored */
  g_object_set (f->h->element, "active-pad", foreign, NULL);
  assert_active (f, BACKUP);
  assert_no_message (f);

  /* handed back: the primary has been healthy for long */
  g_object_set (f->h->element, "active-pad", NULL, NULL);
  assert_no_message (f);
  push_at (f, 5100, PRIMARY, 51);
  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_output (f, PRIMARY, 51, TRUE);

  gst_object_unref (foreign);
  fixture_free (f);
}

GST_END_TEST;

/* Tests: EOS, errors, pads */

static gboolean
pull_until_eos (Fixture * f)
{
  GstEvent *event;
  gboolean eos = FALSE;

  while ((event = gst_harness_try_pull_event (f->h))) {
    eos |= GST_EVENT_TYPE (event) == GST_EVENT_EOS;
    gst_event_unref (event);
  }
  return eos;
}

GST_START_TEST (test_eos_on_active)
{
  Fixture *f = fixture_on_primary ();
  gboolean healthy = TRUE;

  drain_events (f);
  push_at (f, 100, BACKUP, 1);
  fail_unless (gst_harness_push_event (f->in[PRIMARY], gst_event_new_eos ()));
  /* at once, no timeout to wait for */
  assert_switch_message (f, "sink_0", "sink_1", "eos");
  g_object_get (input_pad (f, PRIMARY), "healthy", &healthy, NULL);
  fail_if (healthy);
  /* one input ended, the output goes on */
  fail_if (pull_until_eos (f));

  push_at (f, 200, BACKUP, 2);
  assert_output (f, BACKUP, 2, TRUE);

  /* every input ended */
  fail_unless (gst_harness_push_event (f->in[BACKUP], gst_event_new_eos ()));
  assert_no_message (f);
  fail_unless (pull_until_eos (f));

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_eos_on_inactive)
{
  Fixture *f = fixture_on_primary ();

  drain_events (f);
  fail_unless (gst_harness_push_event (f->in[BACKUP], gst_event_new_eos ()));
  assert_no_message (f);
  fail_if (pull_until_eos (f));
  push_at (f, 100, PRIMARY, 1);
  assert_output (f, PRIMARY, 1, FALSE);

  /* nowhere to go: stays, and ends */
  fail_unless (gst_harness_push_event (f->in[PRIMARY], gst_event_new_eos ()));
  assert_no_message (f);
  fail_unless (pull_until_eos (f));
  assert_active (f, PRIMARY);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_branch_error)
{
  Fixture *f = fixture_on_primary ();
  GstSegment segment;
  gboolean healthy = FALSE;
  guint t;

  push_at (f, 100, BACKUP, 1);
  fail_unless (gst_harness_push_event (f->in[PRIMARY],
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_OOB,
              gst_structure_new_empty ("failoverselector-error"))));
  assert_switch_message (f, "sink_0", "sink_1", "error");
  g_object_get (input_pad (f, BACKUP), "healthy", &healthy, NULL);
  fail_unless (healthy);

  /* data alone does not clear the error... */
  for (t = 200; t <= 3000; t += 100) {
    push_at (f, t, PRIMARY, t / 100);
    push (f, BACKUP, t / 100);
    assert_output (f, BACKUP, t / 100, t == 200);
  }
  g_object_get (input_pad (f, PRIMARY), "healthy", &healthy, NULL);
  fail_if (healthy);

  /* ...a new stream from the restarted branch does */
  fail_unless (gst_harness_push_event (f->in[PRIMARY],
          gst_event_new_stream_start ("restarted")));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (f->in[PRIMARY],
          gst_event_new_segment (&segment)));
  for (t = 3100; t < 3100 + RECOVERY_MS; t += 100) {
    push_at (f, t, PRIMARY, t / 100);
    push (f, BACKUP, t / 100);
    assert_output (f, BACKUP, t / 100, FALSE);
  }
  assert_no_message (f);
  push_at (f, 3100 + RECOVERY_MS, PRIMARY, 51);
  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_output (f, PRIMARY, 51, TRUE);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_branch_error_upstream_event)
{
  Fixture *f = fixture_on_primary ();

  push_at (f, 100, BACKUP, 1);
  /* an unknown input: refused */
  fail_if (gst_element_send_event (f->h->element,
          gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
              gst_structure_new ("failoverselector-error", "pad",
                  G_TYPE_STRING, "sink_7", NULL))));
  assert_no_message (f);

  fail_unless (gst_element_send_event (f->h->element,
          gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
              gst_structure_new ("failoverselector-error", "pad",
                  G_TYPE_STRING, "sink_0", NULL))));
  assert_switch_message (f, "sink_0", "sink_1", "error");
  push_at (f, 200, BACKUP, 2);
  assert_output (f, BACKUP, 2, TRUE);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_release_active)
{
  Fixture *f = fixture_on_primary ();
  GstStructure *stats;

  drain_events (f);
  push_at (f, 100, BACKUP, 1);
  gst_harness_teardown (f->in[PRIMARY]);
  f->in[PRIMARY] = NULL;
  assert_switch_message (f, "sink_0", "sink_1", "released");
  assert_active (f, BACKUP);

  push_at (f, 200, BACKUP, 2);
  assert_sticky_events_of (f, BACKUP);
  assert_output (f, BACKUP, 2, TRUE);
  stats = get_stats (f);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (stats, "pads")), 1);
  gst_structure_free (stats);

  /* the last one: nothing left to forward */
  gst_harness_teardown (f->in[BACKUP]);
  f->in[BACKUP] = NULL;
  assert_no_message (f);
  assert_active (f, -1);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_upstream_events_reach_every_input)
{
  Fixture *f = fixture_on_primary ();
  guint before0 = gst_harness_upstream_events_received (f->in[PRIMARY]);
  guint before1 = gst_harness_upstream_events_received (f->in[BACKUP]);

  fail_unless (gst_harness_push_upstream_event (f->h,
          gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
              gst_structure_new_empty ("GstForceKeyUnit"))));
  fail_unless_equals_int (gst_harness_upstream_events_received (f->in
          [PRIMARY]), before0 + 1);
  fail_unless_equals_int (gst_harness_upstream_events_received (f->in
          [BACKUP]), before1 + 1);

  fixture_free (f);
}

GST_END_TEST;

/* Tests: stats and state */

static const GstStructure *
stats_get_pad (const GstStructure * stats, const gchar * name)
{
  const GValue *pads = gst_structure_get_value (stats, "pads");
  guint i;

  for (i = 0; i < gst_value_array_get_size (pads); i++) {
    const GstStructure *pad =
        gst_value_get_structure (gst_value_array_get_value (pads, i));

    if (g_str_equal (gst_structure_get_string (pad, "name"), name))
      return pad;
  }
  fail ("no pad %s in stats", name);
  return NULL;
}

static void
assert_pad_stats (const GstStructure * stats, const gchar * name,
    guint priority, gboolean healthy, gboolean active, guint64 time_active,
    gint64 last_data_age)
{
  const GstStructure *pad = stats_get_pad (stats, name);
  guint64 pad_time_active = 0;
  gint64 pad_last_data_age = 0;
  guint pad_priority = 0;
  gboolean pad_healthy = FALSE, pad_active = FALSE, pad_eos = TRUE;

  fail_unless (gst_structure_get (pad, "priority", G_TYPE_UINT, &pad_priority,
          "healthy", G_TYPE_BOOLEAN, &pad_healthy, "active", G_TYPE_BOOLEAN,
          &pad_active, "eos", G_TYPE_BOOLEAN, &pad_eos, "time-active",
          G_TYPE_UINT64, &pad_time_active, "last-data-age", G_TYPE_INT64,
          &pad_last_data_age, NULL));
  fail_unless_equals_int (pad_priority, priority);
  fail_unless_equals_int (pad_healthy, healthy);
  fail_unless_equals_int (pad_active, active);
  fail_if (pad_eos);
  fail_unless_equals_uint64 (pad_time_active, time_active);
  fail_unless_equals_int64 (pad_last_data_age, last_data_age);
}

GST_START_TEST (test_stats)
{
  Fixture *f = fixture_failed_over ();
  GstStructure *stats;

  /* switched at 500; the backup's last data at 510 */
  gst_harness_set_time (f->h, 800 * MS);
  stats = get_stats (f);
  fail_unless_equals_uint64 (get_switches (f), 1);
  fail_unless_equals_string (gst_structure_get_string (stats, "active-pad"),
      "sink_1");
  assert_pad_stats (stats, "sink_0", 0, FALSE, FALSE, 500, 800);
  assert_pad_stats (stats, "sink_1", 1, TRUE, TRUE, 300, 290);
  gst_structure_free (stats);

  /* an input without data yet */
  f->in[2] = gst_harness_new_with_element (f->h->element, "sink_2", NULL);
  f->n_inputs = 3;
  stats = get_stats (f);
  assert_pad_stats (stats, "sink_2", 0, FALSE, FALSE, 0, -1);
  gst_structure_free (stats);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_restart_resets)
{
  Fixture *f = fixture_failed_over ();

  fail_unless_equals_int (gst_element_set_state (f->h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_test_clock_peek_id_count (f->clock), 0);
  fail_unless_equals_uint64 (get_switches (f), 0);
  assert_active (f, -1);

  gst_harness_play (f->h);
  fail_unless_equals_int (gst_test_clock_peek_id_count (f->clock), 1);

  fixture_free (f);
}

GST_END_TEST;

static void
read_stats_and_switch (gpointer thread, gpointer user_data)
{
  GstElement *element = user_data;
  GstStructure *stats = NULL;
  GstPad *pad = gst_element_get_static_pad (element, "sink_1");

  g_object_get (element, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  gst_structure_free (stats);
  if (pad) {
    g_object_set (element, "active-pad", pad, NULL);
    g_object_set (element, "active-pad", NULL, NULL);
    gst_object_unref (pad);
  }
}

GST_START_TEST (test_stress_request_release)
{
  GstHarness *h = gst_harness_new_with_padnames ("failoverselector",
      "sink_0", "src");
  GstHarness *h1 = gst_harness_new_with_element (h->element, "sink_1", NULL);
  GstPadTemplate *templ =
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (h->element),
      "sink_%u");
  GstCaps *caps = gst_caps_from_string ("application/x-test");
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL);
  GstHarnessThread *state, *push0, *push1, *req, *custom;
  GstSegment segment;

  gst_check_add_log_filter ("GStreamer", G_LOG_LEVEL_WARNING,
      g_regex_new ("Got data flow before (stream-start|segment) event", 0, 0,
          NULL), NULL, NULL, NULL);
  gst_check_add_log_filter ("GStreamer", G_LOG_LEVEL_WARNING,
      g_regex_new ("Sticky event misordering", 0, 0, NULL), NULL, NULL,
      NULL);
  gst_segment_init (&segment, GST_FORMAT_TIME);

  state = gst_harness_stress_statechange_start (h);
  push0 = gst_harness_stress_push_buffer_start (h, caps, &segment, buf);
  push1 = gst_harness_stress_push_buffer_start (h1, caps, &segment, buf);
  req = gst_harness_stress_requestpad_start (h, templ, NULL, NULL, TRUE);
  custom = gst_harness_stress_custom_start (h, NULL, read_stats_and_switch,
      h->element, 100);

  g_usleep (G_USEC_PER_SEC / 2);

  fail_unless (gst_harness_stress_thread_stop (custom) > 0);
  fail_unless (gst_harness_stress_thread_stop (req) > 0);
  fail_unless (gst_harness_stress_thread_stop (push1) > 0);
  fail_unless (gst_harness_stress_thread_stop (push0) > 0);
  fail_unless (gst_harness_stress_thread_stop (state) > 0);

  gst_caps_unref (caps);
  gst_buffer_unref (buf);
  gst_harness_teardown (h1);
  gst_harness_teardown (h);
  gst_check_clear_log_filter ();
}

GST_END_TEST;

static Suite *
failoverselector_suite (void)
{
  Suite *s = suite_create ("failoverselector");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties_and_pads);
  tcase_add_test (tc, test_parse_launch_pad_priority);
  tcase_add_test (tc, test_first_input_with_its_events);
  tcase_add_test (tc, test_startup_waits_for_preferred);
  tcase_add_test (tc, test_timeout_switch);
  tcase_add_test (tc, test_timeout_sends_held_buffer);
  tcase_add_test (tc, test_timeout_old_held_buffer_dropped);
  tcase_add_test (tc, test_timeout_noticed_by_backup_data);
  tcase_add_test (tc, test_timeout_change_in_playing);
  tcase_add_test (tc, test_priority_order);
  tcase_add_test (tc, test_recovery_hold_time);
  tcase_add_test (tc, test_auto_recover_off);
  tcase_add_test (tc, test_manual_switch);
  tcase_add_test (tc, test_eos_on_active);
  tcase_add_test (tc, test_eos_on_inactive);
  tcase_add_test (tc, test_branch_error);
  tcase_add_test (tc, test_branch_error_upstream_event);
  tcase_add_test (tc, test_release_active);
  tcase_add_test (tc, test_upstream_events_reach_every_input);
  tcase_add_test (tc, test_stats);
  tcase_add_test (tc, test_restart_resets);
  tcase_add_test (tc, test_stress_request_release);

  return s;
}

GST_CHECK_MAIN (failoverselector);
