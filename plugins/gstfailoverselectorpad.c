/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* failoverselector: the input pads, `sink_%u`, and what arrives on them.
 * See gstfailoverselector.c for the design. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfailoverselector.h"

GST_DEBUG_CATEGORY_EXTERN (gst_failover_selector_debug);
#define GST_CAT_DEFAULT gst_failover_selector_debug

enum
{
  PROP_PAD_0,
  PROP_PAD_PRIORITY,
  PROP_PAD_HEALTHY,
};

#define DEFAULT_PAD_PRIORITY 0

G_DEFINE_TYPE (GstFailoverSelectorPad, gst_failover_selector_pad,
    GST_TYPE_PAD);

static GstFlowReturn gst_failover_selector_pad_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buffer);
static GstFlowReturn gst_failover_selector_pad_chain_list (GstPad * pad,
    GstObject * parent, GstBufferList * list);
static gboolean gst_failover_selector_pad_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static void gst_failover_selector_pad_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_failover_selector_pad_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static void gst_failover_selector_pad_finalize (GObject * object);

static void
gst_failover_selector_pad_class_init (GstFailoverSelectorPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = gst_failover_selector_pad_set_property;
  gobject_class->get_property = gst_failover_selector_pad_get_property;
  gobject_class->finalize = gst_failover_selector_pad_finalize;

  g_object_class_install_property (gobject_class, PROP_PAD_PRIORITY,
      g_param_spec_uint ("priority", "Priority",
          "Preference for this input, lower wins", 0, G_MAXUINT,
          DEFAULT_PAD_PRIORITY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PAD_HEALTHY,
      g_param_spec_boolean ("healthy", "Healthy",
          "Data within the timeout, no EOS and no error", FALSE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
gst_failover_selector_pad_init (GstFailoverSelectorPad * pad)
{
  pad->priority = DEFAULT_PAD_PRIORITY;
  pad->ts_packet_size = 188;
  pad->scanner = g_new (MrTsRapScanner, 1);
  mr_ts_rap_scanner_init (pad->scanner);
}

static void
gst_failover_selector_pad_finalize (GObject * object)
{
  gst_failover_selector_pad_clear_held (GST_FAILOVER_SELECTOR_PAD (object));
  GstFailoverSelectorPad *pad = GST_FAILOVER_SELECTOR_PAD (object);

  g_free (pad->scanner);

  G_OBJECT_CLASS (gst_failover_selector_pad_parent_class)->finalize (object);
}

static void
gst_failover_selector_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFailoverSelectorPad *pad = GST_FAILOVER_SELECTOR_PAD (object);
  GstObject *parent;

  switch (prop_id) {
    case PROP_PAD_PRIORITY:
      parent = gst_object_get_parent (GST_OBJECT (pad));
      if (GST_IS_FAILOVER_SELECTOR (parent)) {
        GstFailoverSelector *self = GST_FAILOVER_SELECTOR (parent);

        GST_OBJECT_LOCK (self);
        pad->priority = g_value_get_uint (value);
        mr_failover_policy_set_priority (&self->policy, pad->index,
            pad->priority);
        GST_OBJECT_UNLOCK (self);
      } else {
        pad->priority = g_value_get_uint (value);
      }
      gst_clear_object (&parent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_failover_selector_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstFailoverSelectorPad *pad = GST_FAILOVER_SELECTOR_PAD (object);
  GstObject *parent = gst_object_get_parent (GST_OBJECT (pad));
  GstFailoverSelector *self = GST_IS_FAILOVER_SELECTOR (parent) ?
      GST_FAILOVER_SELECTOR (parent) : NULL;
  GstClockTime now;

  switch (prop_id) {
    case PROP_PAD_PRIORITY:
      if (self)
        GST_OBJECT_LOCK (self);
      g_value_set_uint (value, pad->priority);
      if (self)
        GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PAD_HEALTHY:
      if (self) {
        now = gst_failover_selector_now (self);
        GST_OBJECT_LOCK (self);
        g_value_set_boolean (value,
            mr_failover_policy_is_healthy (&self->policy, pad->index, now));
        GST_OBJECT_UNLOCK (self);
      } else {
        g_value_set_boolean (value, FALSE);
      }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  gst_clear_object (&parent);
}


GstPad *
gst_failover_selector_pad_new (GstPadTemplate * templ, guint index)
{
  GstFailoverSelectorPad *pad;
  gchar *name = g_strdup_printf ("sink_%u", index);

  pad = g_object_new (GST_TYPE_FAILOVER_SELECTOR_PAD, "name", name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  g_free (name);
  pad->index = index;

  gst_pad_set_chain_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_failover_selector_pad_chain));
  gst_pad_set_chain_list_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_failover_selector_pad_chain_list));
  gst_pad_set_event_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_failover_selector_pad_event));
  GST_PAD_SET_PROXY_CAPS (pad);
  GST_PAD_SET_PROXY_ALLOCATION (pad);
  return GST_PAD (pad);
}

/* Output, for the active pad only */

static gboolean
gst_failover_selector_pad_is_active (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad)
{
  gboolean active;

  GST_OBJECT_LOCK (self);
  active = self->active_pad == pad;
  GST_OBJECT_UNLOCK (self);
  return active;
}

/* With the source pad's stream lock: is @pad (still) active, and what has
 * to go with its next output? */
static gboolean
gst_failover_selector_pad_take_output (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, gboolean * sticky, gboolean * discont)
{
  gboolean active;

  GST_OBJECT_LOCK (self);
  active = self->active_pad == pad;
  if (active) {
    *sticky = self->send_sticky;
    self->send_sticky = FALSE;
    if (discont) {
      *discont = self->send_discont;
      self->send_discont = FALSE;
    }
  }
  GST_OBJECT_UNLOCK (self);
  return active;
}

static gboolean
gst_failover_selector_pad_collect_sticky (GstPad * pad, GstEvent ** event,
    gpointer user_data)
{
  GQueue *events = user_data;

  if (GST_EVENT_TYPE (*event) != GST_EVENT_EOS)
    g_queue_push_tail (events, gst_event_ref (*event));
  return TRUE;
}

/* Downstream gets the stream-start, caps and segment of the new input.
 * The pad's lock is held while iterating, so push after. */
static void
gst_failover_selector_pad_send_sticky (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad)
{
  GQueue events = G_QUEUE_INIT;
  GstEvent *event;

  gst_pad_sticky_events_foreach (GST_PAD (pad),
      gst_failover_selector_pad_collect_sticky, &events);
  while ((event = g_queue_pop_head (&events)))
    gst_pad_push_event (self->srcpad, event);
}

/* Pushes @buffer or @list if @pad is still active */
GstFlowReturn
gst_failover_selector_pad_push (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, GstBuffer * buffer, GstBufferList * list)
{
  gboolean sticky = FALSE, discont = FALSE;
  GstFlowReturn ret;

  GST_PAD_STREAM_LOCK (self->srcpad);
  if (!gst_failover_selector_pad_take_output (self, pad, &sticky, &discont)) {
    /* switched away in the meantime */
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    gst_clear_buffer (&buffer);
    g_clear_pointer (&list, gst_buffer_list_unref);
    return GST_FLOW_OK;
  }

  if (sticky)
    gst_failover_selector_pad_send_sticky (self, pad);

  if (buffer) {
    if (discont) {
      buffer = gst_buffer_make_writable (buffer);
      GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    }
    ret = gst_pad_push (self->srcpad, buffer);
  } else {
    if (discont && gst_buffer_list_length (list) > 0) {
      list = gst_buffer_list_make_writable (list);
      GST_BUFFER_FLAG_SET (gst_buffer_list_get_writable (list, 0),
          GST_BUFFER_FLAG_DISCONT);
    }
    ret = gst_pad_push_list (self->srcpad, list);
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  return ret;
}

/* Events of the active pad go downstream, the others are dropped (the
 * sticky ones stay on the pad for a switch) */
static gboolean
gst_failover_selector_pad_forward_event (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, GstEvent * event)
{
  gboolean sticky = FALSE, ret;

  if (!gst_failover_selector_pad_is_active (self, pad)) {
    gst_event_unref (event);
    return TRUE;
  }
  if (!GST_EVENT_IS_SERIALIZED (event))
    return gst_pad_push_event (self->srcpad, event);

  GST_PAD_STREAM_LOCK (self->srcpad);
  if (!gst_failover_selector_pad_take_output (self, pad, &sticky, NULL)) {
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    gst_event_unref (event);
    return TRUE;
  }
  if (sticky)
    gst_failover_selector_pad_send_sticky (self, pad);
  ret = gst_pad_push_event (self->srcpad, event);
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  return ret;
}

/* Data */

/* Offset of the first random-access point in @buffer, or -1; learns the
 * PSI on the way.  For MPEG-TS only. */
static gssize
gst_failover_selector_pad_find_rap (GstFailoverSelectorPad * pad,
    GstBuffer * buffer)
{
  GstMapInfo map;
  gssize offset;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_WARNING_OBJECT (pad, "could not map buffer");
    return -1;
  }
  offset = mr_ts_rap_scan (pad->scanner, map.data, map.size,
      pad->ts_packet_size, TRUE);
  gst_buffer_unmap (buffer, &map);
  return offset;
}

/* called with the object lock, or when nobody else can see the pad */
void
gst_failover_selector_pad_clear_held (GstFailoverSelectorPad * pad)
{
  gst_clear_buffer (&pad->held);
  g_clear_pointer (&pad->held_list, gst_buffer_list_unref);
  pad->held_at = GST_CLOCK_TIME_NONE;
}

/* The part of @buffer from @offset on, sharing its memory */
static GstBuffer *
gst_failover_selector_pad_cut_buffer (GstBuffer * buffer, gsize offset)
{
  GstBuffer *cut;

  if (offset == 0)
    return buffer;
  cut = gst_buffer_copy_region (buffer, GST_BUFFER_COPY_ALL, offset,
      gst_buffer_get_size (buffer) - offset);
  /* same arrival; copy_region keeps timestamps only from offset 0 */
  GST_BUFFER_PTS (cut) = GST_BUFFER_PTS (buffer);
  GST_BUFFER_DTS (cut) = GST_BUFFER_DTS (buffer);
  gst_buffer_unref (buffer);
  return cut;
}

static GstFlowReturn
gst_failover_selector_pad_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (parent);
  GstFailoverSelectorPad *fpad = GST_FAILOVER_SELECTOR_PAD (pad);
  GstClockTime now = gst_failover_selector_now (self);
  GstFailoverSwitch sw = { 0, };
  gssize rap = -1;
  gboolean forward, cut = FALSE;

  if (fpad->is_mpegts)
    rap = gst_failover_selector_pad_find_rap (fpad, buffer);

  GST_OBJECT_LOCK (self);
  forward = gst_failover_selector_arrival (self, fpad, now, rap >= 0, &cut,
      &sw);
  gst_failover_selector_pad_clear_held (fpad);
  if (!forward) {
    /* kept, not sent: the newest data of an input that may take over */
    fpad->held = buffer;
    fpad->held_at = now;
    buffer = NULL;
  }
  GST_OBJECT_UNLOCK (self);

  gst_failover_selector_announce (self, &sw);

  if (!forward) {
    GST_LOG_OBJECT (pad, "not active, holding the newest buffer");
    return GST_FLOW_OK;
  }
  if (cut) {
    GST_DEBUG_OBJECT (pad, "starting at the random-access point at %"
        G_GSSIZE_FORMAT, rap);
    buffer = gst_failover_selector_pad_cut_buffer (buffer, rap);
  }
  return gst_failover_selector_pad_push (self, fpad, buffer, NULL);
}

/* The buffers of @list from the one at @index, itself from @offset on */
static GstBufferList *
gst_failover_selector_pad_cut_list (GstBufferList * list, guint index,
    gsize offset)
{
  guint i, len = gst_buffer_list_length (list);
  GstBufferList *cut;

  if (index == 0 && offset == 0)
    return list;

  cut = gst_buffer_list_new_sized (len - index);
  for (i = index; i < len; i++) {
    GstBuffer *buffer = gst_buffer_ref (gst_buffer_list_get (list, i));

    if (i == index)
      buffer = gst_failover_selector_pad_cut_buffer (buffer, offset);
    gst_buffer_list_add (cut, buffer);
  }
  gst_buffer_list_unref (list);
  return cut;
}

static GstFlowReturn
gst_failover_selector_pad_chain_list (GstPad * pad, GstObject * parent,
    GstBufferList * list)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (parent);
  GstFailoverSelectorPad *fpad = GST_FAILOVER_SELECTOR_PAD (pad);
  GstClockTime now = gst_failover_selector_now (self);
  GstFailoverSwitch sw = { 0, };
  guint i, len = gst_buffer_list_length (list), rap_index = 0;
  gssize rap = -1;
  gboolean forward, cut = FALSE;

  for (i = 0; fpad->is_mpegts && i < len && rap < 0; i++) {
    rap = gst_failover_selector_pad_find_rap (fpad,
        gst_buffer_list_get (list, i));
    rap_index = i;
  }

  GST_OBJECT_LOCK (self);
  forward = gst_failover_selector_arrival (self, fpad, now, rap >= 0, &cut,
      &sw);
  gst_failover_selector_pad_clear_held (fpad);
  if (!forward) {
    fpad->held_list = list;
    fpad->held_at = now;
    list = NULL;
  }
  GST_OBJECT_UNLOCK (self);

  gst_failover_selector_announce (self, &sw);

  if (!forward) {
    GST_LOG_OBJECT (pad, "not active, holding the newest list of %u", len);
    return GST_FLOW_OK;
  }
  if (cut)
    list = gst_failover_selector_pad_cut_list (list, rap_index, rap);
  return gst_failover_selector_pad_push (self, fpad, NULL, list);
}

/* Events */

static void
gst_failover_selector_pad_set_caps (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, GstEvent * event)
{
  GstCaps *caps;
  const GstStructure *s = NULL;
  gint packet_size = 188;

  gst_event_parse_caps (event, &caps);
  if (gst_caps_get_size (caps) > 0)
    s = gst_caps_get_structure (caps, 0);
  if (s)
    gst_structure_get_int (s, "packetsize", &packet_size);

  GST_OBJECT_LOCK (self);
  pad->is_mpegts = s && gst_structure_has_name (s, "video/mpegts");
  pad->ts_packet_size = packet_size;
  GST_OBJECT_UNLOCK (self);
}

/* EOS on an input: leave it if it is active; EOS downstream once every
 * input has ended */
static gboolean
gst_failover_selector_pad_eos (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad, GstEvent * event)
{
  GstClockTime now = gst_failover_selector_now (self);
  GstFailoverSwitch sw = { 0, };
  gboolean last;

  GST_OBJECT_LOCK (self);
  mr_failover_policy_eos (&self->policy, pad->index);
  gst_failover_selector_evaluate (self, now, &sw);
  last = mr_failover_policy_all_eos (&self->policy) && !self->eos_sent;
  if (last)
    self->eos_sent = TRUE;
  GST_OBJECT_UNLOCK (self);

  gst_failover_selector_announce (self, &sw);

  if (!last) {
    GST_DEBUG_OBJECT (pad, "EOS, not forwarded while other inputs run");
    gst_event_unref (event);
    return TRUE;
  }

  GST_DEBUG_OBJECT (pad, "EOS on every input");
  GST_PAD_STREAM_LOCK (self->srcpad);
  gst_pad_push_event (self->srcpad, event);
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  return TRUE;
}

/* The application says that the branch of @pad failed */
void
gst_failover_selector_pad_failed (GstFailoverSelector * self,
    GstFailoverSelectorPad * pad)
{
  GstClockTime now = gst_failover_selector_now (self);
  GstFailoverSwitch sw = { 0, };

  GST_WARNING_OBJECT (pad, "its branch reported an error");

  GST_OBJECT_LOCK (self);
  mr_failover_policy_error (&self->policy, pad->index);
  gst_failover_selector_evaluate (self, now, &sw);
  GST_OBJECT_UNLOCK (self);

  gst_failover_selector_announce (self, &sw);
}

static gboolean
gst_failover_selector_pad_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (parent);
  GstFailoverSelectorPad *fpad = GST_FAILOVER_SELECTOR_PAD (pad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:
      gst_failover_selector_pad_set_caps (self, fpad, event);
      break;
    case GST_EVENT_STREAM_START:
      /* a new stream may have other PIDs */
      mr_ts_rap_scanner_init (fpad->scanner);
      /* fall through */
    case GST_EVENT_FLUSH_STOP:
      GST_OBJECT_LOCK (self);
      mr_failover_policy_restart (&self->policy, fpad->index);
      self->eos_sent = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_EVENT_EOS:
      return gst_failover_selector_pad_eos (self, fpad, event);
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_OOB:
      if (gst_event_has_name (event, GST_FAILOVER_SELECTOR_ERROR_EVENT)) {
        gst_failover_selector_pad_failed (self, fpad);
        gst_event_unref (event);
        return TRUE;
      }
      break;
    default:
      break;
  }

  return gst_failover_selector_pad_forward_event (self, fpad, event);
}
