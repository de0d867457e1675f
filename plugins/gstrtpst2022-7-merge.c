/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-rtpst2022-7-merge
 * @title: rtpst2022-7-merge
 * @see_also: rtpfunnel, rtpjitterbuffer, rtpst2022-1-fecdec
 *
 * Merges two or more identical RTP streams (the legs of SMPTE ST 2022-7
 * seamless protection: one sender, separate network paths) into one.  Each
 * sequence number goes out once and in order, taken from whichever leg
 * delivers it first, so a packet lost on one path is filled from another
 * without a gap.
 *
 * Legs are request pads `sink_%u`, two in the usual case, up to 32.  A
 * missing packet is waited for at most `recovery-window` milliseconds,
 * counted from when it was due (the arrival of the first packet after it on
 * any leg); then it is declared lost, the stream moves on, and the next
 * buffer out has the DISCONT flag.  The window must cover the difference in
 * delay between the paths, and can be changed while playing.
 *
 * Handled: 16-bit sequence wraparound, reordering within the window, a leg
 * that stops and comes back, a sender restart (a new SSRC or a large jump
 * of the sequence numbers) on every leg, and a leg that carries another
 * stream (another SSRC or sequence numbers far from the merged stream's),
 * whose packets are counted and dropped, not merged.  Buffers that are not
 * RTP are dropped and counted.
 *
 * The element posts element messages named `rtpst2022-7-merge` with
 * `event` (#gchararray): `leg-active` (its first data), `leg-silent`
 * (nothing for `leg-timeout` ms), `leg-returned`, `leg-foreign` (it carried
 * another stream for `leg-timeout` ms), `leg-matched` (the merged stream
 * again) or `stream-restarted` (the merge followed a sender restart), with
 * `pad` (#gchararray) and `active-legs` (#guint, legs delivering the merged
 * stream).
 *
 * `stats` holds `output-packets`, `lost-packets` (missing on every leg),
 * `restarts`, `skew-ms` (between the slowest and the fastest active leg),
 * `active-legs`, `ssrc` and `legs`, an array with one structure per leg:
 * `pad`, `received`, `used` (went out from this leg because it came first
 * here; counted with `output-packets` in one step, so while no pad has
 * been released the `used` of the legs add up to it), `unique` (went out
 * and no other leg had it: the gaps this leg filled; counted once no other
 * copy can come, `recovery-window` + `leg-timeout` after it arrived, or at
 * EOS, so it never decreases), `duplicates`, `late` (came after the window
 * gave up), `foreign`, `invalid`, `silent`, `lag-ms` (behind the fastest
 * leg).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 rtpst2022-7-merge name=m recovery-window=50 ! \
 *     rtpmp2tdepay ! filesink location=merged.ts \
 *   udpsrc port=5000 caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T" ! m.sink_0 \
 *   udpsrc port=5002 caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T" ! m.sink_1
 * ]| merges the MPEG-TS over RTP that one sender sends to ports 5000 and
 * 5002 (see `pipelines/st2022-7-merge.sh`).
 *
 * ## Design
 * The window is plain C in `merge-window.c`: a ring of 32768 slots indexed
 * by extended sequence number, holding the packets waiting for a gap ahead
 * of the output and the recent past behind it, which tells a duplicate or a
 * late packet from a stranger's.  Missing packets become due when a later
 * one arrives, and due times never decrease, so the head of the ring is the
 * only deadline.  A leg's packet goes out from its own streaming thread as
 * soon as it is next in order, so the usual path costs one lookup and no
 * thread switch; a clock task waits on the element's clock for the next
 * deadline (a gap that runs out, a leg that goes silent, a `unique` count
 * that becomes final) and pushes what it releases.  Emitting and pushing
 * happen under one push lock, so the output of two threads never
 * interleaves; the object lock protects the window and is never held while
 * pushing or posting.  Times are running times of
 * the element's clock, so a #GstTestClock drives the window in tests.
 *
 * The element sends its own stream-start, the first leg's caps and
 * segment, and EOS once every leg has ended (after flushing what is held).
 * Flushes of one leg do not flush the output.  It adds `recovery-window` to
 * the latency it reports.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "gstrtpst2022-7-merge.h"
#include "mroute-elements.h"

GST_DEBUG_CATEGORY_STATIC (gst_rtp_st_2022_7_merge_debug);
#define GST_CAT_DEFAULT gst_rtp_st_2022_7_merge_debug

G_STATIC_ASSERT (MR_MERGE_TIME_NONE == GST_CLOCK_TIME_NONE);

#define MESSAGE_NAME "rtpst2022-7-merge"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS ("application/x-rtp"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp"));

enum
{
  PROP_0,
  PROP_RECOVERY_WINDOW,
  PROP_LEG_TIMEOUT,
  PROP_STATS,
  N_PROPS
};

#define DEFAULT_RECOVERY_WINDOW 100     /* ms */
#define DEFAULT_LEG_TIMEOUT 1000        /* ms */
#define MAX_RECOVERY_WINDOW 10000       /* ms */

static GParamSpec *properties[N_PROPS];

G_DEFINE_TYPE (GstRtpSt20227MergePad, gst_rtp_st_2022_7_merge_pad,
    GST_TYPE_PAD);

static void
gst_rtp_st_2022_7_merge_pad_class_init (GstRtpSt20227MergePadClass * klass)
{
}

static void
gst_rtp_st_2022_7_merge_pad_init (GstRtpSt20227MergePad * pad)
{
}

#define gst_rtp_st_2022_7_merge_parent_class parent_class
G_DEFINE_TYPE (GstRtpSt20227Merge, gst_rtp_st_2022_7_merge,
    GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (rtpst2022_7_merge, "rtpst2022-7-merge",
    GST_RANK_NONE, GST_TYPE_RTP_ST_2022_7_MERGE);

static void gst_rtp_st_2022_7_merge_finalize (GObject * object);
static void gst_rtp_st_2022_7_merge_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_rtp_st_2022_7_merge_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_rtp_st_2022_7_merge_change_state (GstElement *
    element, GstStateChange transition);
static GstPad *gst_rtp_st_2022_7_merge_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_rtp_st_2022_7_merge_release_pad (GstElement * element,
    GstPad * pad);
static GstFlowReturn gst_rtp_st_2022_7_merge_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buffer);
static GstFlowReturn gst_rtp_st_2022_7_merge_chain_list (GstPad * pad,
    GstObject * parent, GstBufferList * list);
static gboolean gst_rtp_st_2022_7_merge_sink_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_rtp_st_2022_7_merge_src_query (GstPad * pad,
    GstObject * parent, GstQuery * query);
static gboolean gst_rtp_st_2022_7_merge_src_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static void gst_rtp_st_2022_7_merge_loop (GstRtpSt20227Merge * self);

static void on_emit (gpointer packet, guint64 ext_seq, guint leg, guint flags,
    gpointer user_data);
static void on_event (guint leg, MrMergeLegEvent event, gpointer user_data);

static void
gst_rtp_st_2022_7_merge_class_init (GstRtpSt20227MergeClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_rtp_st_2022_7_merge_debug, "rtpst2022-7-merge",
      0, "SMPTE ST 2022-7 merger");

  gobject_class->finalize = gst_rtp_st_2022_7_merge_finalize;
  gobject_class->set_property = gst_rtp_st_2022_7_merge_set_property;
  gobject_class->get_property = gst_rtp_st_2022_7_merge_get_property;

  properties[PROP_RECOVERY_WINDOW] =
      g_param_spec_uint ("recovery-window", "Recovery window",
      "How long a missing packet is waited for, in milliseconds from when it "
      "was due, before it is declared lost", 0, MAX_RECOVERY_WINDOW,
      DEFAULT_RECOVERY_WINDOW, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_LEG_TIMEOUT] =
      g_param_spec_uint ("leg-timeout", "Leg timeout",
      "Silence in milliseconds after which a leg is reported silent; also how "
      "long a leg must carry another stream before it is reported", 1,
      G_MAXINT, DEFAULT_LEG_TIMEOUT, G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_STATS] =
      g_param_spec_boxed ("stats", "Statistics",
      "Output, losses and per-leg counters", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_RTP_ST_2022_7_MERGE_PAD);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "SMPTE ST 2022-7 RTP merger", "Filter/Network/RTP",
      "Merges redundant RTP streams into one, each packet from whichever "
      "leg delivers it first", "mroute developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_request_new_pad);
  element_class->release_pad =
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_release_pad);

  gst_type_mark_as_plugin_api (GST_TYPE_RTP_ST_2022_7_MERGE_PAD, 0);
}

static void
gst_rtp_st_2022_7_merge_init (GstRtpSt20227Merge * self)
{
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_src_query));
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_src_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  g_mutex_init (&self->push_lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->messages);
  self->window_ms = DEFAULT_RECOVERY_WINDOW;
  self->leg_timeout_ms = DEFAULT_LEG_TIMEOUT;
  self->waiting_for = GST_CLOCK_TIME_NONE;
  mr_merge_window_init (&self->window, self->window_ms * GST_MSECOND,
      self->leg_timeout_ms * GST_MSECOND, on_emit, on_event,
      (GDestroyNotify) gst_buffer_unref, self);
  self->need_stream_start = self->need_caps = self->need_segment = TRUE;
}

static void
gst_rtp_st_2022_7_merge_finalize (GObject * object)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (object);

  mr_merge_window_clear (&self->window);
  g_clear_pointer (&self->out, gst_buffer_list_unref);
  g_queue_clear_full (&self->messages, (GDestroyNotify) gst_structure_free);
  gst_clear_event (&self->segment);
  gst_clear_caps (&self->caps);
  g_mutex_clear (&self->push_lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Running time of the element's clock: the window's time.  Never goes back,
 * since several threads read it. */
static guint64
now_locked (GstRtpSt20227Merge * self)
{
  GstClock *clock = GST_ELEMENT_CLOCK (self);
  GstClockTime base = GST_ELEMENT_CAST (self)->base_time;
  GstClockTime now;

  if (clock) {
    now = gst_clock_get_time (clock);
    now = now > base ? now - base : 0;
    self->last_now = MAX (self->last_now, now);
  }
  return self->last_now;
}

/* Wakes the clock task if the window's deadline came closer */
static void
reschedule_locked (GstRtpSt20227Merge * self)
{
  guint64 deadline = mr_merge_window_next_deadline (&self->window);

  if (deadline == GST_CLOCK_TIME_NONE || deadline >= self->waiting_for)
    return;
  if (self->clock_id)
    gst_clock_id_unschedule (self->clock_id);
  g_cond_signal (&self->cond);
}

static void
on_emit (gpointer packet, guint64 ext_seq, guint leg, guint flags,
    gpointer user_data)
{
  GstRtpSt20227Merge *self = user_data;
  GstBuffer *buffer = packet;

  if (flags & MR_MERGE_EMIT_DISCONT) {
    buffer = gst_buffer_make_writable (buffer);
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
  } else if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT)) {
    /* a leg's own discontinuity is not the output's */
    buffer = gst_buffer_make_writable (buffer);
    GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_DISCONT);
  }
  if (!self->out)
    self->out = gst_buffer_list_new ();
  gst_buffer_list_add (self->out, buffer);
}

static const gchar *
event_name (MrMergeLegEvent event)
{
  switch (event) {
    case MR_MERGE_LEG_ACTIVE:
      return "leg-active";
    case MR_MERGE_LEG_SILENT:
      return "leg-silent";
    case MR_MERGE_LEG_RETURNED:
      return "leg-returned";
    case MR_MERGE_LEG_FOREIGN:
      return "leg-foreign";
    case MR_MERGE_LEG_MATCHED:
      return "leg-matched";
    case MR_MERGE_STREAM_RESTARTED:
      return "stream-restarted";
  }
  return "unknown";
}

static gchar *
pad_name_of_leg_locked (GstRtpSt20227Merge * self, guint leg)
{
  for (GList * l = GST_ELEMENT_CAST (self)->sinkpads; l; l = l->next) {
    GstRtpSt20227MergePad *pad = l->data;
    if (pad->leg == leg)
      return g_strdup (GST_OBJECT_NAME (pad));
  }
  return NULL;
}

/* Called under the object lock: the message goes out after it */
static void
on_event (guint leg, MrMergeLegEvent event, gpointer user_data)
{
  GstRtpSt20227Merge *self = user_data;
  g_autofree gchar *pad = pad_name_of_leg_locked (self, leg);

  GST_INFO_OBJECT (self, "%s: %s", pad, event_name (event));
  g_queue_push_tail (&self->messages, gst_structure_new (MESSAGE_NAME,
          "event", G_TYPE_STRING, event_name (event),
          "pad", G_TYPE_STRING, pad, NULL));
}

static void
post_messages (GstRtpSt20227Merge * self, GQueue * messages, guint active)
{
  GstStructure *s;

  while ((s = g_queue_pop_head (messages))) {
    gst_structure_set (s, "active-legs", G_TYPE_UINT, active, NULL);
    gst_element_post_message (GST_ELEMENT_CAST (self),
        gst_message_new_element (GST_OBJECT_CAST (self), s));
  }
}

/* With the push lock: the sticky events before the first data */
static void
send_sticky (GstRtpSt20227Merge * self)
{
  GstEvent *caps = NULL, *segment = NULL;
  gboolean stream_start;

  GST_OBJECT_LOCK (self);
  stream_start = self->need_stream_start;
  self->need_stream_start = FALSE;
  if (self->need_caps && self->caps) {
    caps = gst_event_new_caps (self->caps);
    self->need_caps = FALSE;
  }
  if (self->need_segment) {
    segment = self->segment ? gst_event_ref (self->segment) : NULL;
    self->need_segment = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  if (stream_start) {
    /* a stream of its own: gst_pad_create_stream_id() wants one sink pad */
    g_autofree gchar *id = g_strdup_printf ("%08x%08x%08x%08x",
        g_random_int (), g_random_int (), g_random_int (), g_random_int ());
    gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
  }
  if (caps)
    gst_pad_push_event (self->srcpad, caps);
  if (segment) {
    gst_pad_push_event (self->srcpad, segment);
  } else if (stream_start) {
    GstSegment time;
    gst_segment_init (&time, GST_FORMAT_TIME);
    gst_pad_push_event (self->srcpad, gst_event_new_segment (&time));
  }
}

/* With the push lock and the object lock, which it releases: pushes what
 * the window emitted and posts what it said */
static GstFlowReturn
push_out_unlock (GstRtpSt20227Merge * self)
{
  GstBufferList *out = self->out;
  GQueue messages = self->messages;
  guint active = 0;
  GstFlowReturn ret = GST_FLOW_OK;

  if (messages.length)
    active = mr_merge_window_active_legs (&self->window);
  self->out = NULL;
  g_queue_init (&self->messages);
  reschedule_locked (self);
  GST_OBJECT_UNLOCK (self);

  post_messages (self, &messages, active);
  if (out) {
    send_sticky (self);
    if (gst_buffer_list_length (out) == 1) {
      GstBuffer *one = gst_buffer_ref (gst_buffer_list_get (out, 0));
      gst_buffer_list_unref (out);
      ret = gst_pad_push (self->srcpad, one);
    } else {
      ret = gst_pad_push_list (self->srcpad, out);
    }
  }
  return ret;
}

static gboolean
parse_rtp (GstBuffer * buffer, guint32 * ssrc, guint16 * seq)
{
  guint8 copy[12];
  const guint8 *header = copy;
  GstMapInfo map;
  gboolean mapped = FALSE;

  /* the header is in the first memory, but for odd buffers */
  if (gst_buffer_n_memory (buffer) > 0
      && gst_memory_map (gst_buffer_peek_memory (buffer, 0), &map,
          GST_MAP_READ)) {
    mapped = TRUE;
    if (map.size >= sizeof (copy))
      header = map.data;
    else if (gst_buffer_extract (buffer, 0, copy, sizeof (copy))
        != sizeof (copy))
      header = NULL;
  } else if (gst_buffer_extract (buffer, 0, copy, sizeof (copy))
      != sizeof (copy)) {
    header = NULL;
  }
  if (header && (header[0] & 0xc0) == 0x80) {
    *seq = GST_READ_UINT16_BE (header + 2);
    *ssrc = GST_READ_UINT32_BE (header + 8);
  } else {
    header = NULL;
  }
  if (mapped)
    gst_memory_unmap (gst_buffer_peek_memory (buffer, 0), &map);
  return header != NULL;
}

/* With the object lock */
static void
merge_buffer_locked (GstRtpSt20227Merge * self, GstRtpSt20227MergePad * pad,
    GstBuffer * buffer, guint64 now)
{
  guint32 ssrc;
  guint16 seq;

  if (!parse_rtp (buffer, &ssrc, &seq)) {
    GST_LOG_OBJECT (pad, "not an RTP packet, dropped");
    pad->invalid++;
    gst_buffer_unref (buffer);
    return;
  }
  if (mr_merge_window_push (&self->window, pad->leg, ssrc, seq, now, buffer)
      != MR_MERGE_ACCEPTED)
    gst_buffer_unref (buffer);
}

static GstFlowReturn
gst_rtp_st_2022_7_merge_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  GstRtpSt20227Merge *self = (GstRtpSt20227Merge *) parent;
  GstFlowReturn ret;

  g_mutex_lock (&self->push_lock);
  GST_OBJECT_LOCK (self);
  merge_buffer_locked (self, (GstRtpSt20227MergePad *) pad, buffer,
      now_locked (self));
  ret = push_out_unlock (self);
  g_mutex_unlock (&self->push_lock);
  /* one leg's downstream trouble is the output's: not-linked too */
  return ret;
}

typedef struct
{
  GstRtpSt20227Merge *self;
  GstRtpSt20227MergePad *pad;
  guint64 now;
} MergeList;

static gboolean
merge_list_item (GstBuffer ** buffer, guint idx, gpointer user_data)
{
  MergeList *ctx = user_data;

  merge_buffer_locked (ctx->self, ctx->pad, *buffer, ctx->now);
  *buffer = NULL;               /* ours now: out of the list */
  return TRUE;
}

static GstFlowReturn
gst_rtp_st_2022_7_merge_chain_list (GstPad * pad, GstObject * parent,
    GstBufferList * list)
{
  GstRtpSt20227Merge *self = (GstRtpSt20227Merge *) parent;
  GstRtpSt20227MergePad *mpad = (GstRtpSt20227MergePad *) pad;
  guint n = gst_buffer_list_length (list);
  gboolean own = gst_buffer_list_is_writable (list);
  GstFlowReturn ret;
  guint64 now;

  g_mutex_lock (&self->push_lock);
  GST_OBJECT_LOCK (self);
  now = now_locked (self);
  if (!self->out)
    self->out = gst_buffer_list_new_sized (n);
  if (own) {
    /* take the buffers over: no ref and unref each */
    MergeList ctx = { self, mpad, now };
    gst_buffer_list_foreach (list, merge_list_item, &ctx);
  } else {
    for (guint i = 0; i < n; i++)
      merge_buffer_locked (self, mpad,
          gst_buffer_ref (gst_buffer_list_get (list, i)), now);
  }
  if (gst_buffer_list_length (self->out) == 0)
    g_clear_pointer (&self->out, gst_buffer_list_unref);
  ret = push_out_unlock (self);
  g_mutex_unlock (&self->push_lock);
  gst_buffer_list_unref (list);
  return ret;
}

/* With the object lock: every leg has ended */
static gboolean
all_eos_locked (GstRtpSt20227Merge * self)
{
  GList *l = GST_ELEMENT_CAST (self)->sinkpads;

  if (!l)
    return FALSE;
  for (; l; l = l->next)
    if (!GST_RTP_ST_2022_7_MERGE_PAD (l->data)->eos)
      return FALSE;
  return TRUE;
}

/* Flushes what is held and sends EOS, once */
static void
finish (GstRtpSt20227Merge * self)
{
  gboolean send;

  g_mutex_lock (&self->push_lock);
  GST_OBJECT_LOCK (self);
  send = !self->eos_sent;
  self->eos_sent = TRUE;
  if (send)
    mr_merge_window_flush (&self->window);
  push_out_unlock (self);
  if (send) {
    GST_DEBUG_OBJECT (self, "every leg ended");
    send_sticky (self);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
  g_mutex_unlock (&self->push_lock);
}

static gboolean
gst_rtp_st_2022_7_merge_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (parent);
  GstRtpSt20227MergePad *mpad = GST_RTP_ST_2022_7_MERGE_PAD (pad);
  gboolean ended;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      GST_OBJECT_LOCK (self);
      /* the first leg's caps go downstream; the legs carry the same */
      if (!self->caps) {
        self->caps = gst_caps_ref (caps);
        self->need_caps = TRUE;
      }
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case GST_EVENT_SEGMENT:
      GST_OBJECT_LOCK (self);
      if (!self->segment)
        self->segment = gst_event_ref (event);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_EVENT_STREAM_START:
    case GST_EVENT_FLUSH_STOP:
      GST_OBJECT_LOCK (self);
      mpad->eos = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_EVENT_EOS:
      GST_OBJECT_LOCK (self);
      mpad->eos = TRUE;
      ended = all_eos_locked (self);
      GST_OBJECT_UNLOCK (self);
      if (ended)
        finish (self);
      break;
    default:
      break;
  }
  /* the output has its own stream: nothing of one leg goes through as is */
  gst_event_unref (event);
  return TRUE;
}

static gboolean
gst_rtp_st_2022_7_merge_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live = FALSE, any = FALSE;
    GstClockTime min = 0, max = GST_CLOCK_TIME_NONE, window;
    GList *pads;

    GST_OBJECT_LOCK (self);
    pads = g_list_copy (GST_ELEMENT_CAST (self)->sinkpads);
    for (GList * l = pads; l; l = l->next)
      gst_object_ref (l->data);
    window = self->window_ms * GST_MSECOND;
    GST_OBJECT_UNLOCK (self);

    for (GList * l = pads; l; l = l->next) {
      GstQuery *peer = gst_query_new_latency ();
      gboolean peer_live;
      GstClockTime peer_min, peer_max;

      if (gst_pad_peer_query (l->data, peer)) {
        gst_query_parse_latency (peer, &peer_live, &peer_min, &peer_max);
        any = TRUE;
        if (peer_live) {
          live = TRUE;
          min = MAX (min, peer_min);
          if (GST_CLOCK_TIME_IS_VALID (peer_max))
            max = GST_CLOCK_TIME_IS_VALID (max) ? MIN (max, peer_max) :
                peer_max;
        }
      }
      gst_query_unref (peer);
    }
    g_list_free_full (pads, gst_object_unref);
    if (!any)
      return FALSE;
    /* a packet may wait for the window */
    min += window;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += window;
    gst_query_set_latency (query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

/* The clock task */

static void
gst_rtp_st_2022_7_merge_loop (GstRtpSt20227Merge * self)
{
  GstClock *clock;
  GstClockID id;
  GstClockTime deadline, base;
  GstClockReturn cret;

  GST_OBJECT_LOCK (self);
  while (self->running) {
    deadline = mr_merge_window_next_deadline (&self->window);
    if (deadline != GST_CLOCK_TIME_NONE && GST_ELEMENT_CLOCK (self))
      break;
    g_cond_wait (&self->cond, GST_OBJECT_GET_LOCK (self));
  }
  if (!self->running) {
    GST_OBJECT_UNLOCK (self);
    gst_pad_pause_task (self->srcpad);
    return;
  }
  clock = gst_object_ref (GST_ELEMENT_CLOCK (self));
  base = GST_ELEMENT_CAST (self)->base_time;
  id = self->clock_id = gst_clock_new_single_shot_id (clock, deadline + base);
  self->waiting_for = deadline;
  GST_OBJECT_UNLOCK (self);

  cret = gst_clock_id_wait (id, NULL);

  GST_OBJECT_LOCK (self);
  self->clock_id = NULL;
  self->waiting_for = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
  gst_clock_id_unref (id);
  gst_object_unref (clock);
  if (cret == GST_CLOCK_UNSCHEDULED)
    return;                     /* a new deadline, or stopping */

  g_mutex_lock (&self->push_lock);
  GST_OBJECT_LOCK (self);
  /* at least the deadline: the clock may say a little less */
  self->last_now = MAX (self->last_now, deadline);
  mr_merge_window_advance (&self->window, now_locked (self));
  push_out_unlock (self);
  g_mutex_unlock (&self->push_lock);
}

static gboolean
gst_rtp_st_2022_7_merge_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  GST_OBJECT_LOCK (self);
  self->running = active;
  if (!active) {
    if (self->clock_id)
      gst_clock_id_unschedule (self->clock_id);
    g_cond_signal (&self->cond);
  }
  GST_OBJECT_UNLOCK (self);
  if (active)
    return gst_pad_start_task (pad,
        (GstTaskFunction) gst_rtp_st_2022_7_merge_loop, self, NULL);
  return gst_pad_stop_task (pad);
}

static GstStateChangeReturn
gst_rtp_st_2022_7_merge_change_state (GstElement * element,
    GstStateChange transition)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING) {
    /* a clock now: the task can wait on it */
    GST_OBJECT_LOCK (self);
    g_cond_signal (&self->cond);
    GST_OBJECT_UNLOCK (self);
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    g_mutex_lock (&self->push_lock);
    GST_OBJECT_LOCK (self);
    mr_merge_window_clear (&self->window);
    mr_merge_window_init (&self->window, self->window_ms * GST_MSECOND,
        self->leg_timeout_ms * GST_MSECOND, on_emit, on_event,
        (GDestroyNotify) gst_buffer_unref, self);
    for (GList * l = element->sinkpads; l; l = l->next) {
      GstRtpSt20227MergePad *pad = l->data;
      mr_merge_window_add_leg (&self->window, pad->leg);
      pad->eos = FALSE;
      pad->invalid = 0;
    }
    g_clear_pointer (&self->out, gst_buffer_list_unref);
    g_queue_clear_full (&self->messages, (GDestroyNotify) gst_structure_free);
    gst_clear_event (&self->segment);
    gst_clear_caps (&self->caps);
    self->need_stream_start = self->need_caps = self->need_segment = TRUE;
    self->eos_sent = FALSE;
    self->last_now = 0;
    GST_OBJECT_UNLOCK (self);
    g_mutex_unlock (&self->push_lock);
  }
  return ret;
}

/* Request pads */

static GstPad *
gst_rtp_st_2022_7_merge_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (element);
  GstRtpSt20227MergePad *pad;
  g_autofree gchar *pad_name = NULL;
  guint index, leg;

  GST_OBJECT_LOCK (self);
  if (name && sscanf (name, "sink_%u", &index) == 1) {
    for (GList * l = element->sinkpads; l; l = l->next)
      if (g_strcmp0 (GST_OBJECT_NAME (l->data), name) == 0) {
        GST_OBJECT_UNLOCK (self);
        GST_WARNING_OBJECT (self, "pad %s exists already", name);
        return NULL;
      }
  } else {
    index = self->next_pad_index;
  }
  for (leg = 0; leg < MR_MERGE_MAX_LEGS; leg++)
    if (!(self->legs_used & (1u << leg)))
      break;
  if (leg == MR_MERGE_MAX_LEGS) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "no more than %d legs", MR_MERGE_MAX_LEGS);
    return NULL;
  }
  self->legs_used |= 1u << leg;
  self->next_pad_index = MAX (self->next_pad_index, index + 1);
  mr_merge_window_add_leg (&self->window, leg);
  GST_OBJECT_UNLOCK (self);

  pad_name = g_strdup_printf ("sink_%u", index);
  pad = g_object_new (GST_TYPE_RTP_ST_2022_7_MERGE_PAD, "name", pad_name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  pad->leg = leg;
  gst_pad_set_chain_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_chain));
  gst_pad_set_chain_list_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_chain_list));
  gst_pad_set_event_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_rtp_st_2022_7_merge_sink_event));
  GST_PAD_SET_PROXY_CAPS (pad);
  GST_PAD_SET_PROXY_ALLOCATION (pad);

  gst_pad_set_active (GST_PAD (pad), TRUE);
  gst_element_add_pad (element, GST_PAD (pad));
  return GST_PAD (pad);
}

static void
gst_rtp_st_2022_7_merge_release_pad (GstElement * element, GstPad * pad)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (element);
  GstRtpSt20227MergePad *mpad = GST_RTP_ST_2022_7_MERGE_PAD (pad);
  gboolean ended;

  gst_pad_set_active (pad, FALSE);

  GST_OBJECT_LOCK (self);
  mr_merge_window_remove_leg (&self->window, mpad->leg);
  self->legs_used &= ~(1u << mpad->leg);
  GST_OBJECT_UNLOCK (self);

  gst_element_remove_pad (element, pad);

  GST_OBJECT_LOCK (self);
  ended = all_eos_locked (self);
  GST_OBJECT_UNLOCK (self);
  if (ended)
    finish (self);
}

/* Properties */

static GstStructure *
stats_locked (GstRtpSt20227Merge * self)
{
  MrMergeWindow *w = &self->window;
  GValue legs = G_VALUE_INIT;
  GstStructure *s;

  g_value_init (&legs, GST_TYPE_ARRAY);
  for (GList * l = GST_ELEMENT_CAST (self)->sinkpads; l; l = l->next) {
    GstRtpSt20227MergePad *pad = l->data;
    MrMergeLeg *leg = &w->legs[pad->leg];
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("leg",
            "pad", G_TYPE_STRING, GST_OBJECT_NAME (pad),
            "received", G_TYPE_UINT64, leg->received,
            "used", G_TYPE_UINT64, leg->used,
            "unique", G_TYPE_UINT64, leg->unique,
            "duplicates", G_TYPE_UINT64, leg->duplicates,
            "late", G_TYPE_UINT64, leg->late,
            "foreign", G_TYPE_UINT64, leg->foreign,
            "invalid", G_TYPE_UINT64, pad->invalid,
            "silent", G_TYPE_BOOLEAN, leg->silent || !leg->seen,
            "lag-ms", G_TYPE_DOUBLE, leg->lag_ms, NULL));
    gst_value_array_append_and_take_value (&legs, &v);
  }
  s = gst_structure_new ("application/x-rtp-st2022-7-merge-stats",
      "output-packets", G_TYPE_UINT64, w->output,
      "lost-packets", G_TYPE_UINT64, w->lost,
      "restarts", G_TYPE_UINT64, w->restarts,
      "skew-ms", G_TYPE_DOUBLE, mr_merge_window_skew_ms (w),
      "active-legs", G_TYPE_UINT, mr_merge_window_active_legs (w),
      "ssrc", G_TYPE_UINT, w->ssrc, NULL);
  gst_structure_take_value (s, "legs", &legs);
  return s;
}

static void
gst_rtp_st_2022_7_merge_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (object);

  switch (prop_id) {
    case PROP_RECOVERY_WINDOW:
      g_mutex_lock (&self->push_lock);
      GST_OBJECT_LOCK (self);
      self->window_ms = g_value_get_uint (value);
      mr_merge_window_set_window (&self->window,
          self->window_ms * GST_MSECOND, now_locked (self));
      push_out_unlock (self);
      g_mutex_unlock (&self->push_lock);
      gst_element_post_message (GST_ELEMENT_CAST (self),
          gst_message_new_latency (GST_OBJECT_CAST (self)));
      break;
    case PROP_LEG_TIMEOUT:
      GST_OBJECT_LOCK (self);
      self->leg_timeout_ms = g_value_get_uint (value);
      mr_merge_window_set_leg_timeout (&self->window,
          self->leg_timeout_ms * GST_MSECOND);
      reschedule_locked (self);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_rtp_st_2022_7_merge_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRtpSt20227Merge *self = GST_RTP_ST_2022_7_MERGE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_RECOVERY_WINDOW:
      g_value_set_uint (value, self->window_ms);
      break;
    case PROP_LEG_TIMEOUT:
      g_value_set_uint (value, self->leg_timeout_ms);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, stats_locked (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
