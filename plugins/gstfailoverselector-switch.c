/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* failoverselector: applying the policy's decisions to the pads, and the
 * periodic health check on the element's clock.  See
 * gstfailoverselector.c for the design. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstfailoverselector.h"

GST_DEBUG_CATEGORY_EXTERN (gst_failover_selector_debug);
#define GST_CAT_DEFAULT gst_failover_selector_debug

/* health checks: a quarter of the timeout, often enough for a switch within
 * timeout + 20 ms */
#define MAX_TICK_INTERVAL (20 * GST_MSECOND)
/* a planned switch to MPEG-TS gives up waiting for a RAP after this long */
#define MAX_RAP_WAIT (10 * GST_SECOND)

#define SWITCHED_MESSAGE_NAME "failoverselector-switched"

/* The element clock's time, NONE without one; called without the lock */
GstClockTime
gst_failover_selector_now (GstFailoverSelector * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT_CAST (self));
  GstClockTime now = GST_CLOCK_TIME_NONE;

  if (clock) {
    now = gst_clock_get_time (clock);
    gst_object_unref (clock);
  }
  return now;
}

/* Switching, all with the object lock */

static GstFailoverSelectorPad *
gst_failover_selector_find_pad (GstFailoverSelector * self, guint index)
{
  GList *l;

  for (l = GST_ELEMENT_CAST (self)->sinkpads; l; l = l->next) {
    GstFailoverSelectorPad *pad = l->data;

    if (pad->index == index)
      return pad;
  }
  return NULL;
}

void
gst_failover_selector_commit (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, MrFailoverReason reason, GstClockTime now,
    GstFailoverSwitch * sw)
{
  GstClockTime base_time = GST_ELEMENT_CAST (self)->base_time;

  if (pad == self->active_pad)
    return;

  g_free (sw->old_name);
  g_free (sw->new_name);
  if (self->active_pad)
    sw->old_name = g_strdup (GST_OBJECT_NAME (self->active_pad));
  else
    sw->old_name = g_steal_pointer (&self->lost_pad_name);
  sw->new_name = g_strdup (GST_OBJECT_NAME (pad));
  sw->reason = reason;
  sw->notify = TRUE;
  sw->post = reason != MR_FAILOVER_REASON_INITIAL;

  mr_failover_policy_commit (&self->policy, pad->index, reason, now);
  sw->switches = self->policy.switches;
  sw->running_time = GST_CLOCK_TIME_IS_VALID (now)
      && GST_CLOCK_TIME_IS_VALID (base_time) && now >= base_time ?
      now - base_time : GST_CLOCK_TIME_NONE;

  gst_object_replace ((GstObject **) & self->active_pad, GST_OBJECT (pad));
  gst_clear_object (&self->pending_pad);
  g_clear_pointer (&self->lost_pad_name, g_free);
  self->send_sticky = TRUE;
  self->send_discont = sw->post;

  GST_INFO_OBJECT (self, "switched from %s to %s: %s",
      GST_STR_NULL (sw->old_name), sw->new_name,
      mr_failover_reason_to_string (reason));
}

/* Does what the policy wants at @now: switches at once away from a failed
 * input, or plans a switch back to a better one */
void
gst_failover_selector_evaluate (GstFailoverSelector * self, GstClockTime now,
    GstFailoverSwitch * sw)
{
  MrFailoverReason reason = MR_FAILOVER_REASON_NONE;
  GstFailoverSelectorPad *pad;
  guint index;

  index = mr_failover_policy_decide (&self->policy, now, &reason);
  pad = index != MR_FAILOVER_NONE ?
      gst_failover_selector_find_pad (self, index) : NULL;

  if (!pad) {
    if (self->pending_pad) {
      GST_DEBUG_OBJECT (self, "switch back to %s called off",
          GST_OBJECT_NAME (self->pending_pad));
      gst_clear_object (&self->pending_pad);
    }
    return;
  }

  if (reason == MR_FAILOVER_REASON_RECOVERED) {
    if (self->pending_pad != pad) {
      GST_INFO_OBJECT (self, "%s recovered, switching at its next %s",
          GST_OBJECT_NAME (pad),
          pad->is_mpegts ? "random-access point" : "buffer");
      gst_object_replace ((GstObject **) & self->pending_pad,
          GST_OBJECT (pad));
      self->pending_since = now;
    }
    return;
  }

  gst_failover_selector_commit (self, pad, reason, now, sw);
}

/* Data arrived on @pad; @has_rap if it holds a random-access point.
 * Returns TRUE if the pad is active and the data is to be forwarded, and
 * sets @cut if it starts being active at the random-access point. */
gboolean
gst_failover_selector_arrival (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, GstClockTime now, gboolean has_rap,
    gboolean * cut, GstFailoverSwitch * sw)
{
  mr_failover_policy_data (&self->policy, pad->index, now);
  gst_failover_selector_evaluate (self, now, sw);

  if (self->pending_pad == pad) {
    if (!pad->is_mpegts || has_rap) {
      *cut = has_rap;
      gst_failover_selector_commit (self, pad, MR_FAILOVER_REASON_RECOVERED,
          now, sw);
    } else if (GST_CLOCK_TIME_IS_VALID (now)
        && GST_CLOCK_TIME_IS_VALID (self->pending_since)
        && now >= self->pending_since + MAX_RAP_WAIT) {
      GST_WARNING_OBJECT (self, "no random-access point on %s, switching "
          "anyway", GST_OBJECT_NAME (pad));
      gst_failover_selector_commit (self, pad, MR_FAILOVER_REASON_RECOVERED,
          now, sw);
    }
  }
  return self->active_pad == pad;
}

/* Posts the message and notifies for what was decided under the lock;
 * called without it */
void
gst_failover_selector_announce (GstFailoverSelector * self,
    GstFailoverSwitch * sw)
{
  if (sw->post) {
    GstStructure *s = gst_structure_new (SWITCHED_MESSAGE_NAME,
        "old-pad", G_TYPE_STRING, sw->old_name,
        "new-pad", G_TYPE_STRING, sw->new_name,
        "reason", G_TYPE_STRING, mr_failover_reason_to_string (sw->reason),
        "switches", G_TYPE_UINT64, sw->switches,
        "running-time", G_TYPE_UINT64, sw->running_time, NULL);

    gst_element_post_message (GST_ELEMENT_CAST (self),
        gst_message_new_element (GST_OBJECT_CAST (self), s));
  }
  if (sw->notify)
    g_object_notify (G_OBJECT (self), "active-pad");

  g_free (sw->old_name);
  g_free (sw->new_name);
  memset (sw, 0, sizeof (*sw));
}

/* The health check on the clock */

/* held data older than this is not worth sending after a failover */
#define HELD_MAX_AGE (100 * GST_MSECOND)

/* called from the clock's thread, periodically */
static gboolean
gst_failover_selector_tick (GstClock * clock, GstClockTime time,
    GstClockID id, gpointer user_data)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (user_data);
  GstClockTime now = gst_clock_get_time (clock);
  GstFailoverSwitch sw = { 0, };
  GstFailoverSelectorPad *pad = NULL;
  GstBuffer *held = NULL;
  GstBufferList *held_list = NULL;

  GST_OBJECT_LOCK (self);
  if (self->tick_id == id)
    gst_failover_selector_evaluate (self, now, &sw);
  /* a failover: what the new input sent last goes out now rather than
   * with its next burst, if it is recent */
  if (self->send_held && sw.post && (sw.reason == MR_FAILOVER_REASON_TIMEOUT
          || sw.reason == MR_FAILOVER_REASON_EOS
          || sw.reason == MR_FAILOVER_REASON_ERROR) && self->active_pad
      && GST_CLOCK_TIME_IS_VALID (self->active_pad->held_at)
      && now <= self->active_pad->held_at + HELD_MAX_AGE) {
    pad = gst_object_ref (self->active_pad);
    held = g_steal_pointer (&pad->held);
    held_list = g_steal_pointer (&pad->held_list);
    pad->held_at = GST_CLOCK_TIME_NONE;
  }
  GST_OBJECT_UNLOCK (self);

  gst_failover_selector_announce (self, &sw);
  if (pad) {
    if (held || held_list)
      gst_failover_selector_pad_push (self, pad, held, held_list);
    gst_object_unref (pad);
  }
  return TRUE;
}

void
gst_failover_selector_start_tick (GstFailoverSelector * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now, interval;

  if (!clock)
    return;

  now = gst_clock_get_time (clock);
  GST_OBJECT_LOCK (self);
  interval = MIN (self->policy.timeout / 4, MAX_TICK_INTERVAL);
  interval = MAX (interval, GST_MSECOND);
  if (!self->tick_id) {
    self->tick_id = gst_clock_new_periodic_id (clock, now + interval,
        interval);
    gst_clock_id_wait_async (self->tick_id, gst_failover_selector_tick,
        gst_object_ref (self), gst_object_unref);
  }
  GST_OBJECT_UNLOCK (self);
  gst_object_unref (clock);
}

/* Returns TRUE if it was running */
gboolean
gst_failover_selector_stop_tick (GstFailoverSelector * self)
{
  GstClockID id;

  GST_OBJECT_LOCK (self);
  id = self->tick_id;
  self->tick_id = NULL;
  GST_OBJECT_UNLOCK (self);

  if (id) {
    gst_clock_id_unschedule (id);
    gst_clock_id_unref (id);
  }
  return id != NULL;
}
