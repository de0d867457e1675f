/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-packetstats
 * @title: packetstats
 *
 * Passes buffers and buffer lists through untouched while counting them and
 * checking their sequence: RTP sequence numbers for `application/x-rtp`,
 * MPEG-TS continuity counters for `video/mpegts`. One buffer is taken to be
 * one datagram.
 *
 * For RTP it also estimates the interarrival jitter of RFC 3550 (section
 * 6.4.1): the smoothed mean change, between two packets in sequence, of
 * the difference between a packet's arrival and its RTP timestamp, in the
 * `clock-rate` of the caps (90000 when they have none).  A buffer's
 * arrival is its DTS, else its PTS (the capture time a live source such
 * as udpsrc or udpbatchsrc stamps), else the element's clock when it
 * comes; a buffer list from a batched read shares one capture time, so
 * the figure includes how late the reader wakes.
 *
 * The `stats` property holds the counters. When data starts, or resumes after
 * more than `idle-timeout` milliseconds without any, and when it stops for
 * that long, the element posts an element message named `packetstats` with:
 *
 * - `active` (#gboolean): %TRUE when data (re)started, %FALSE when it stopped
 * - `running-time` (#GstClockTime): when it happened
 * - `packets` (#guint64): datagrams counted so far
 * - `sequence` (#guint): counts the changes; the message is posted after the
 *   element's lock is released, so two changes in a row can reach the bus in
 *   either order: a listener keeps the message with the highest `sequence`
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=100 ! x264enc ! mpegtsmux ! packetstats ! fakesink
 * ]|
 *
 * ## Design
 * The counting and the jitter are plain C in `packet-counter.c`. Silence is detected with a
 * periodic clock id on the pipeline clock, so no thread of its own is needed
 * and the element can be driven by a #GstTestClock.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstpacketstats.h"
#include "mroute-elements.h"

GST_DEBUG_CATEGORY_STATIC (gst_packet_stats_debug);
#define GST_CAT_DEFAULT gst_packet_stats_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

enum
{
  PROP_0,
  PROP_IDLE_TIMEOUT,
  PROP_STATS,
};

#define DEFAULT_IDLE_TIMEOUT 2000       /* ms */

#define gst_packet_stats_parent_class parent_class
G_DEFINE_TYPE (GstPacketStats, gst_packet_stats, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (packetstats, "packetstats", GST_RANK_NONE,
    GST_TYPE_PACKET_STATS);

static void gst_packet_stats_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_packet_stats_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_packet_stats_finalize (GObject * object);
static GstStateChangeReturn gst_packet_stats_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_packet_stats_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static GstFlowReturn gst_packet_stats_chain_list (GstPad * pad,
    GstObject * parent, GstBufferList * list);
static gboolean gst_packet_stats_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);

static void
gst_packet_stats_class_init (GstPacketStatsClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_packet_stats_set_property;
  gobject_class->get_property = gst_packet_stats_get_property;
  gobject_class->finalize = gst_packet_stats_finalize;

  g_object_class_install_property (gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint ("idle-timeout", "Idle timeout",
          "Time without data after which the stream counts as stopped, "
          "in milliseconds (0 = never)", 0, G_MAXUINT / 1000,
          DEFAULT_IDLE_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstPacketStats:stats:
   *
   * A `application/x-packetstats` structure with `packets`, `bytes`, `lost`,
   * `reordered`, `resyncs`, `ts-packets`, `sync-errors` (all #guint64),
   * `active` (#gboolean), and `jitter-ms` (#gdouble, the RFC 3550
   * interarrival jitter of RTP packets in milliseconds, 0 for other data)
   * with `jitter-samples` (#guint64, the packets it was estimated from).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Packets, bytes and sequence errors counted so far",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Packet statistics",
      "Filter/Network", "Counts datagrams and checks RTP sequence numbers "
      "or MPEG-TS continuity counters", "mroute developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_packet_stats_change_state);

  GST_DEBUG_CATEGORY_INIT (gst_packet_stats_debug, "packetstats", 0,
      "mroute packet statistics");
}

static void
gst_packet_stats_init (GstPacketStats * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_packet_stats_chain));
  gst_pad_set_chain_list_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_packet_stats_chain_list));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_packet_stats_sink_event));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  GST_PAD_SET_PROXY_SCHEDULING (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  mr_packet_counter_init (&self->counter, MR_PACKET_KIND_OTHER);
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT * GST_MSECOND;
  self->last_arrival = GST_CLOCK_TIME_NONE;
}

static void
gst_packet_stats_finalize (GObject * object)
{
  GstPacketStats *self = GST_PACKET_STATS (object);

  if (self->idle_id)
    gst_clock_id_unref (self->idle_id);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_packet_stats_make_stats (GstPacketStats * self)
{
  MrPacketCounter *c = &self->counter;

  return gst_structure_new ("application/x-packetstats",
      "packets", G_TYPE_UINT64, c->packets,
      "bytes", G_TYPE_UINT64, c->bytes,
      "lost", G_TYPE_UINT64, c->lost,
      "reordered", G_TYPE_UINT64, c->reordered,
      "resyncs", G_TYPE_UINT64, c->resyncs,
      "ts-packets", G_TYPE_UINT64, c->ts_packets,
      "sync-errors", G_TYPE_UINT64, c->sync_errors,
      "active", G_TYPE_BOOLEAN, self->active,
      "jitter-ms", G_TYPE_DOUBLE, mr_packet_counter_jitter_ms (c),
      "jitter-samples", G_TYPE_UINT64, c->jitter_samples, NULL);
}

static void
gst_packet_stats_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstPacketStats *self = GST_PACKET_STATS (object);

  switch (prop_id) {
    case PROP_IDLE_TIMEOUT:
      GST_OBJECT_LOCK (self);
      self->idle_timeout = g_value_get_uint (value) * GST_MSECOND;
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_packet_stats_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstPacketStats *self = GST_PACKET_STATS (object);

  switch (prop_id) {
    case PROP_IDLE_TIMEOUT:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->idle_timeout / GST_MSECOND);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:
      GST_OBJECT_LOCK (self);
      g_value_take_boxed (value, gst_packet_stats_make_stats (self));
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_packet_stats_post_activity (GstPacketStats * self, gboolean active,
    GstClockTime running_time, guint64 packets, guint sequence)
{
  GstStructure *s;

  GST_DEBUG_OBJECT (self, "data %s at %" GST_TIME_FORMAT,
      active ? "started" : "stopped", GST_TIME_ARGS (running_time));
  s = gst_structure_new ("packetstats", "active", G_TYPE_BOOLEAN, active,
      "running-time", G_TYPE_UINT64, running_time,
      "packets", G_TYPE_UINT64, packets, "sequence", G_TYPE_UINT, sequence,
      NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* called from the clock's thread, periodically */
static gboolean
gst_packet_stats_idle_check (GstClock * clock, GstClockTime time,
    GstClockID id, gpointer user_data)
{
  GstPacketStats *self = GST_PACKET_STATS (user_data);
  GstClockTime now = gst_clock_get_time (clock), base_time;
  gboolean went_idle = FALSE;
  guint64 packets = 0;
  guint sequence = 0;

  GST_OBJECT_LOCK (self);
  if (self->active && GST_CLOCK_TIME_IS_VALID (self->last_arrival)
      && now > self->last_arrival
      && now - self->last_arrival >= self->idle_timeout) {
    self->active = FALSE;
    went_idle = TRUE;
    packets = self->counter.packets;
    sequence = ++self->activity_seq;
  }
  base_time = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);

  if (went_idle)
    gst_packet_stats_post_activity (self, FALSE, now - base_time, packets,
        sequence);

  return TRUE;
}

static void
gst_packet_stats_start_idle_check (GstPacketStats * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime interval;

  if (!clock)
    return;

  GST_OBJECT_LOCK (self);
  interval = self->idle_timeout / 4;
  if (interval > 0 && !self->idle_id) {
    self->idle_id = gst_clock_new_periodic_id (clock,
        gst_clock_get_time (clock) + interval, interval);
    gst_clock_id_wait_async (self->idle_id, gst_packet_stats_idle_check,
        gst_object_ref (self), gst_object_unref);
  }
  GST_OBJECT_UNLOCK (self);
  gst_object_unref (clock);
}

static void
gst_packet_stats_stop_idle_check (GstPacketStats * self)
{
  GstClockID id;

  GST_OBJECT_LOCK (self);
  id = self->idle_id;
  self->idle_id = NULL;
  GST_OBJECT_UNLOCK (self);

  if (id) {
    gst_clock_id_unschedule (id);
    gst_clock_id_unref (id);
  }
}

static GstStateChangeReturn
gst_packet_stats_change_state (GstElement * element, GstStateChange transition)
{
  GstPacketStats *self = GST_PACKET_STATS (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      GST_OBJECT_LOCK (self);
      mr_packet_counter_reset (&self->counter);
      self->active = FALSE;
      self->last_arrival = GST_CLOCK_TIME_NONE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      gst_packet_stats_stop_idle_check (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING)
    gst_packet_stats_start_idle_check (self);

  return ret;
}

static gboolean
gst_packet_stats_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstPacketStats *self = GST_PACKET_STATS (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    const GstStructure *st;
    const gchar *name;
    MrPacketKind kind = MR_PACKET_KIND_OTHER;
    gint clock_rate = 0;

    gst_event_parse_caps (event, &caps);
    st = gst_caps_get_structure (caps, 0);
    name = gst_structure_get_name (st);
    if (g_str_equal (name, "application/x-rtp")) {
      kind = MR_PACKET_KIND_RTP;
      if (!gst_structure_get_int (st, "clock-rate", &clock_rate)
          || clock_rate <= 0)
        clock_rate = MR_RTP_DEFAULT_CLOCK_RATE;
    } else if (g_str_equal (name, "video/mpegts")) {
      kind = MR_PACKET_KIND_MPEGTS;
    }

    GST_OBJECT_LOCK (self);
    if (kind != self->counter.kind) {
      GST_INFO_OBJECT (self, "checking sequence as %s", name);
      self->counter.kind = kind;
    }
    mr_packet_counter_set_clock_rate (&self->counter, clock_rate);
    GST_OBJECT_UNLOCK (self);
  }

  return gst_pad_event_default (pad, parent, event);
}

/* The running time the element's clock says now, or NONE; called with
 * the object lock held */
static GstClockTime
gst_packet_stats_now (GstPacketStats * self)
{
  GstClock *clock = GST_ELEMENT_CLOCK (self);
  GstClockTime now, base = GST_ELEMENT_CAST (self)->base_time;

  if (!clock)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  return now > base ? now - base : 0;
}

/* Counts one buffer that arrived at @now (a running time, or NONE) unless
 * it carries its capture time; called with the object lock held */
static void
gst_packet_stats_count (GstPacketStats * self, GstBuffer * buffer,
    GstClockTime now)
{
  GstClockTime arrival = GST_BUFFER_DTS_OR_PTS (buffer);
  GstMapInfo map;

  G_STATIC_ASSERT (MR_PACKET_TIME_NONE == GST_CLOCK_TIME_NONE);
  if (!GST_CLOCK_TIME_IS_VALID (arrival))
    arrival = now;
  /* a datagram is one memory (udpbatchsrc, udpsrc): mapping it alone costs
   * a third of mapping the buffer */
  if (gst_buffer_n_memory (buffer) == 1) {
    GstMemory *mem = gst_buffer_peek_memory (buffer, 0);

    if (!gst_memory_map (mem, &map, GST_MAP_READ)) {
      GST_WARNING_OBJECT (self, "could not map buffer");
      return;
    }
    mr_packet_counter_push_at (&self->counter, map.data, map.size, arrival);
    gst_memory_unmap (mem, &map);
    return;
  }
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_WARNING_OBJECT (self, "could not map buffer");
    return;
  }
  mr_packet_counter_push_at (&self->counter, map.data, map.size, arrival);
  gst_buffer_unmap (buffer, &map);
}

/* Records the arrival of data; returns TRUE if it starts a period of
 * activity.  Called with the object lock. */
static gboolean
gst_packet_stats_arrival (GstPacketStats * self, GstClockTime * running_time)
{
  GstClock *clock = GST_ELEMENT_CLOCK (self);
  gboolean started = !self->active;

  if (started)
    self->activity_seq++;
  if (clock) {
    self->last_arrival = gst_clock_get_time (clock);
    *running_time = self->last_arrival - GST_ELEMENT_CAST (self)->base_time;
  } else {
    *running_time = GST_CLOCK_TIME_NONE;
  }
  self->active = TRUE;
  return started;
}

static GstFlowReturn
gst_packet_stats_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstPacketStats *self = GST_PACKET_STATS (parent);
  GstClockTime running_time;
  gboolean started;
  guint64 packets;
  guint sequence;

  GST_OBJECT_LOCK (self);
  gst_packet_stats_count (self, buffer, gst_packet_stats_now (self));
  started = gst_packet_stats_arrival (self, &running_time);
  packets = self->counter.packets;
  sequence = self->activity_seq;
  GST_OBJECT_UNLOCK (self);

  if (started)
    gst_packet_stats_post_activity (self, TRUE, running_time, packets,
        sequence);

  return gst_pad_push (self->srcpad, buffer);
}

static GstFlowReturn
gst_packet_stats_chain_list (GstPad * pad, GstObject * parent,
    GstBufferList * list)
{
  GstPacketStats *self = GST_PACKET_STATS (parent);
  GstClockTime running_time;
  gboolean started;
  guint64 packets;
  guint sequence;
  guint i, len = gst_buffer_list_length (list);
  GstClockTime now;

  GST_OBJECT_LOCK (self);
  now = gst_packet_stats_now (self);
  for (i = 0; i < len; i++)
    gst_packet_stats_count (self, gst_buffer_list_get (list, i), now);
  started = gst_packet_stats_arrival (self, &running_time);
  packets = self->counter.packets;
  sequence = self->activity_seq;
  GST_OBJECT_UNLOCK (self);

  if (started)
    gst_packet_stats_post_activity (self, TRUE, running_time, packets,
        sequence);

  return gst_pad_push_list (self->srcpad, list);
}
