/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The harness set-up shared by the failoverselector tests: one harness on
 * the source pad, one per requested input, all on one GstTestClock.  Time
 * is set by hand and the element's periodic health check is cranked, so
 * nothing sleeps. */

#ifndef __FAILOVERSELECTOR_FIXTURE_H__
#define __FAILOVERSELECTOR_FIXTURE_H__

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#include <string.h>

#define TIMEOUT_MS 500
#define RECOVERY_MS 2000
#define MS GST_MSECOND

#define MAX_INPUTS 3
#define PRIMARY 0
#define BACKUP 1

typedef struct
{
  GstHarness *h;                /* on the source pad */
  GstHarness *in[MAX_INPUTS];   /* sink_0, sink_1, ... */
  guint n_inputs;
  GstBus *bus;
  GstTestClock *clock;
  guint notifies;               /* of active-pad */
} Fixture;

/* Helpers: the element */

static void
count_notify (GObject * object, GParamSpec * pspec, gpointer user_data)
{
  Fixture *f = user_data;

  g_atomic_int_inc (&f->notifies);
}

static GstPad *
input_pad (Fixture * f, guint input)
{
  gchar name[16];
  GstPad *pad;

  g_snprintf (name, sizeof (name), "sink_%u", input);
  pad = gst_element_get_static_pad (f->h->element, name);
  fail_unless (pad != NULL, "no pad %s", name);
  gst_object_unref (pad);       /* the element keeps it */
  return pad;
}

static void
set_priority (Fixture * f, guint input, guint priority)
{
  g_object_set (input_pad (f, input), "priority", priority, NULL);
}

/* @n_inputs inputs of priority 0, 1, ...; each with the caps @media_type
 * and a field naming the input */
static Fixture *
fixture_new (guint n_inputs, const gchar * media_type)
{
  Fixture *f = g_new0 (Fixture, 1);
  guint i;

  f->h = gst_harness_new_with_padnames ("failoverselector", NULL, "src");
  g_object_set (f->h->element, "timeout", TIMEOUT_MS, "recovery-time",
      RECOVERY_MS, NULL);
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->h->element, f->bus);
  g_signal_connect (f->h->element, "notify::active-pad",
      G_CALLBACK (count_notify), f);
  f->clock = gst_harness_get_testclock (f->h);

  f->n_inputs = n_inputs;
  for (i = 0; i < n_inputs; i++) {
    gchar *name = g_strdup_printf ("sink_%u", i);
    gchar *caps = g_strdup_printf ("%s, input=(int)%u", media_type, i);

    f->in[i] = gst_harness_new_with_element (f->h->element, name, NULL);
    gst_harness_set_src_caps_str (f->in[i], caps);
    set_priority (f, i, i);
    g_free (name);
    g_free (caps);
  }
  return f;
}

static void
fixture_free (Fixture * f)
{
  guint i;

  /* messages on the bus hold the element, the element holds the bus */
  gst_element_set_bus (f->h->element, NULL);
  gst_bus_set_flushing (f->bus, TRUE);
  gst_object_unref (f->bus);
  gst_object_unref (f->clock);

  gst_harness_teardown (f->h);
  for (i = 0; i < f->n_inputs; i++) {
    if (f->in[i])
      gst_harness_teardown (f->in[i]);
  }
  g_free (f);
}

/* Sets the clock to @ms and runs the health check once */
static void
check_at (Fixture * f, guint64 ms)
{
  gst_harness_set_time (f->h, ms * MS);
  fail_unless (gst_harness_crank_single_clock_wait (f->h));
}

static GstStructure *
get_stats (Fixture * f)
{
  GstStructure *stats = NULL;

  g_object_get (f->h->element, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  fail_unless (gst_structure_has_name (stats,
          "application/x-failoverselector-stats"));
  return stats;
}

static guint64
get_switches (Fixture * f)
{
  GstStructure *stats = get_stats (f);
  guint64 switches = 0;

  fail_unless (gst_structure_get_uint64 (stats, "switches", &switches));
  gst_structure_free (stats);
  return switches;
}

static void
assert_active (Fixture * f, gint input)
{
  GstPad *active = NULL;

  g_object_get (f->h->element, "active-pad", &active, NULL);
  if (input < 0) {
    fail_unless (active == NULL, "active pad %" GST_PTR_FORMAT, active);
    return;
  }
  fail_unless (active == input_pad (f, input), "active pad %"
      GST_PTR_FORMAT ", expected sink_%d", active, input);
  gst_object_unref (active);
}

/* Helpers: messages */

static void
assert_switch_message (Fixture * f, const gchar * old_pad,
    const gchar * new_pad, const gchar * reason)
{
  GstMessage *msg = gst_bus_pop_filtered (f->bus, GST_MESSAGE_ELEMENT);
  const GstStructure *s;
  guint64 switches = 0;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;

  fail_unless (msg != NULL, "no switch message (%s -> %s)", old_pad, new_pad);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT_CAST (f->h->element));
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_name (s, "failoverselector-switched"));
  fail_unless_equals_string (gst_structure_get_string (s, "old-pad"),
      old_pad);
  fail_unless_equals_string (gst_structure_get_string (s, "new-pad"),
      new_pad);
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), reason);
  fail_unless (gst_structure_get_uint64 (s, "switches", &switches));
  fail_unless_equals_uint64 (switches, get_switches (f));
  fail_unless (gst_structure_get_clock_time (s, "running-time",
          &running_time));
  fail_unless_equals_clocktime (running_time,
      gst_clock_get_time (GST_CLOCK (f->clock)));
  gst_message_unref (msg);
}

static void
assert_no_message (Fixture * f)
{
  GstMessage *msg = gst_bus_pop_filtered (f->bus, GST_MESSAGE_ELEMENT);

  fail_unless (msg == NULL, "unexpected %" GST_PTR_FORMAT, msg);
}

static void
assert_no_output (Fixture * f)
{
  GstBuffer *buf = gst_harness_try_pull (f->h);

  fail_unless (buf == NULL, "unexpected output %" GST_PTR_FORMAT, buf);
}

static void
drain_events (Fixture * f)
{
  GstEvent *event;

  while ((event = gst_harness_try_pull_event (f->h)))
    gst_event_unref (event);
}

/* Downstream got @input's stream-start, caps and segment, in that order */
static void
assert_sticky_events_of (Fixture * f, guint input)
{
  GstEvent *expected_start = gst_pad_get_sticky_event (input_pad (f, input),
      GST_EVENT_STREAM_START, 0);
  const gchar *expected_id, *id;
  GstEvent *event;
  GstCaps *caps;
  gint caps_input = -1;

  gst_event_parse_stream_start (expected_start, &expected_id);

  event = gst_harness_pull_event (f->h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_STREAM_START);
  gst_event_parse_stream_start (event, &id);
  fail_unless_equals_string (id, expected_id);
  gst_event_unref (event);

  event = gst_harness_pull_event (f->h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_CAPS);
  gst_event_parse_caps (event, &caps);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "input", &caps_input));
  fail_unless_equals_int (caps_input, input);
  gst_event_unref (event);

  event = gst_harness_pull_event (f->h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_SEGMENT);
  gst_event_unref (event);
  gst_event_unref (expected_start);
}

#endif /* __FAILOVERSELECTOR_FIXTURE_H__ */
