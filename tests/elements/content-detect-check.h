/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* What the blackdetect, freezedetect and silencedetect tests share: their
 * messages and their `stats`.  Include it after the test's Fixture, which
 * has `GstHarness *h` and `GstBus *bus`, with DETECT_NAME defined as the
 * element's name ("blackdetect"). */

#ifndef __CONTENT_DETECT_CHECK_H__
#define __CONTENT_DETECT_CHECK_H__

typedef struct
{
  gchar *event;
  GstClockTime running_time, stream_time, duration;
  gint channel;                 /* silencedetect with mono; else -1 */
} Message;

/* The next message of the element, FALSE when there is none */
static G_GNUC_UNUSED gboolean
next_message (Fixture * f, Message * m)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (f->bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    guint channel;

    if (!gst_structure_has_name (s, DETECT_NAME)) {
      gst_message_unref (msg);
      continue;
    }
    m->event = g_strdup (gst_structure_get_string (s, "event"));
    fail_unless (gst_structure_get_uint64 (s, "running-time",
            &m->running_time));
    fail_unless (gst_structure_get_uint64 (s, "stream-time",
            &m->stream_time));
    m->duration = GST_CLOCK_TIME_NONE;
    if (g_str_equal (m->event, "end"))
      fail_unless (gst_structure_get_uint64 (s, "duration", &m->duration));
    else
      fail_if (gst_structure_has_field (s, "duration"));
    m->channel = gst_structure_get_uint (s, "channel", &channel) ?
        (gint) channel : -1;
    gst_message_unref (msg);
    return TRUE;
  }
  return FALSE;
}

static G_GNUC_UNUSED void
expect_no_message (Fixture * f)
{
  Message m;

  if (next_message (f, &m))
    fail ("unexpected %s at %" GST_TIME_FORMAT, m.event,
        GST_TIME_ARGS (m.running_time));
}

static G_GNUC_UNUSED GstStructure *
stats (Fixture * f)
{
  GstStructure *s;

  g_object_get (f->h->element, "stats", &s, NULL);
  fail_unless (gst_structure_has_name (s, "application/x-" DETECT_NAME));
  return s;
}

#define DEFINE_STAT(fn, type, getter, init) \
static G_GNUC_UNUSED type \
fn (Fixture * f, const gchar * field) \
{ \
  GstStructure *s = stats (f); \
  type v = init; \
  \
  fail_unless (getter (s, field, &v), "no %s", field); \
  gst_structure_free (s); \
  return v; \
}

DEFINE_STAT (stat, guint64, gst_structure_get_uint64, 0);
DEFINE_STAT (stat_bool, gboolean, gst_structure_get_boolean, FALSE);
DEFINE_STAT (stat_uint, guint, gst_structure_get_uint, 0);
DEFINE_STAT (stat_double, gdouble, gst_structure_get_double, -1);

#endif /* __CONTENT_DETECT_CHECK_H__ */
