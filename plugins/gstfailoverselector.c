/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-failoverselector
 * @title: failoverselector
 * @see_also: input-selector
 *
 * Forwards one of several redundant live inputs and fails over between
 * them: when the active input goes silent for `timeout` milliseconds, ends
 * (EOS) or reports an error, the element switches at once to the best
 * healthy input; once a better input has been healthy for `recovery-time`
 * milliseconds it switches back (with `auto-recover`).
 *
 * Inputs are request pads `sink_%u` with two properties:
 *
 * - `priority` (#guint): lower wins, 0 by default; inputs of equal priority
 *   are equals and the element stays on the one it has
 * - `healthy` (#gboolean, read-only): data within `timeout`, no EOS, no error
 *
 * Buffers of the inputs that are not active are dropped (each input keeps
 * only its newest one, for `send-held`), and the pad returns %GST_FLOW_OK
 * so that their branches keep running.  An application
 * tells the element that a branch failed (its source posted an error) with
 * a custom event named `failoverselector-error`: downstream (in or out of
 * band) into the input's pad, or upstream to the element with a `pad`
 * (#gchararray) field naming the input, e.g. with gst_element_send_event().
 * A stream-start or flush-stop on the pad clears that, and EOS.  EOS goes
 * downstream only when every input has ended.
 *
 * Every switch puts the DISCONT flag on the first buffer after it, sends
 * downstream the sticky events (stream-start, caps, segment) of the new
 * input first, and posts an element message named
 * `failoverselector-switched` with:
 *
 * - `old-pad` (#gchararray): the input left, %NULL if none
 * - `new-pad` (#gchararray): the input now forwarded
 * - `reason` (#gchararray): `timeout`, `eos`, `error`, `recovered`,
 *   `manual` or `released` (the active pad was released)
 * - `switches` (#guint64): switches so far, this one included; messages
 *   are posted from both the streaming and the clock threads, so a listener
 *   keeps the one with the highest count
 * - `running-time` (#GstClockTime): when the switch was decided
 *
 * The first input chosen is not a switch: no message, not counted.  That
 * choice waits up to `timeout` after the first data for the input of the
 * best priority, so that a backup starting a little earlier does not go out
 * first.
 *
 * Writing `active-pad` is a manual switch, which holds (auto-recover leaves
 * it alone) until that input fails; writing %NULL hands the choice back.
 * The `stats` property counts the switches and tells, per input, its
 * priority, health, time active and the age of its last data.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m failoverselector name=fs timeout=300 recovery-time=1000 \
 *     sink_0::priority=0 sink_1::priority=1 ! fakesink \
 *   videotestsrc is-live=true num-buffers=90 ! x264enc tune=zerolatency \
 *     key-int-max=30 ! mpegtsmux ! fs.sink_0 \
 *   videotestsrc is-live=true num-buffers=180 pattern=ball ! \
 *     x264enc tune=zerolatency key-int-max=30 ! mpegtsmux ! fs.sink_1
 * ]| forwards the first source for three seconds, switches to the second
 * when the first ends, and stops when the second ends too.
 *
 * ## Design
 * The decisions are plain C in `failover-policy.c`.  Silence has to be
 * noticed while the active input delivers nothing, so the element checks
 * from a periodic clock id on its clock (every quarter of `timeout`, at
 * most every 20 ms) and never waits on a dead branch; a #GstTestClock
 * drives it in tests; data on another input also shows that the active one
 * went silent.  Switches away from a failed input, and manual ones, happen
 * at once; with `send-held` a failover found by the clock check pushes the
 * new input's newest buffer (if at most 100 ms old) from the clock's
 * thread right away, so the output's gap is `timeout` and not `timeout`
 * plus the wait for that input's next burst.  Switching back is planned, so for `video/mpegts` it waits for a
 * random-access point of the better input (`mpegts-rap.c`: the
 * random-access indicator, or a video PES starting with an H.264 IDR or
 * SPS, an HEVC IRAP or parameter set, or an MPEG-2 sequence header) and
 * cuts the buffer there, so that downstream sees a clean cut; after 10
 * seconds without one it switches at the next buffer anyway.  Other caps
 * switch back at the next buffer.
 *
 * One lock, the object lock, protects the state; it is never held while
 * pushing or posting.  The active pad pushes under the source pad's stream
 * lock, so that the sticky events of a switch cannot overtake the last
 * buffer of the input left; inputs that are not active never take it and
 * never block.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstfailoverselector.h"
#include "mroute-elements.h"

GST_DEBUG_CATEGORY (gst_failover_selector_debug);
#define GST_CAT_DEFAULT gst_failover_selector_debug

G_STATIC_ASSERT (MR_FAILOVER_TIME_NONE == GST_CLOCK_TIME_NONE);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

enum
{
  PROP_0,
  PROP_TIMEOUT,
  PROP_RECOVERY_TIME,
  PROP_AUTO_RECOVER,
  PROP_SEND_HELD,
  PROP_ACTIVE_PAD,
  PROP_STATS,
  N_PROPS
};

#define DEFAULT_TIMEOUT 500     /* ms */
#define DEFAULT_RECOVERY_TIME 2000      /* ms */
#define DEFAULT_AUTO_RECOVER TRUE
#define DEFAULT_SEND_HELD FALSE

static GParamSpec *properties[N_PROPS];

static void gst_failover_selector_child_proxy_init (gpointer g_iface,
    gpointer iface_data);

#define gst_failover_selector_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstFailoverSelector, gst_failover_selector,
    GST_TYPE_ELEMENT, G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_failover_selector_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (failoverselector, "failoverselector",
    GST_RANK_NONE, GST_TYPE_FAILOVER_SELECTOR);

static void gst_failover_selector_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_failover_selector_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static void gst_failover_selector_dispose (GObject * object);
static void gst_failover_selector_finalize (GObject * object);
static GstStateChangeReturn gst_failover_selector_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_failover_selector_set_clock (GstElement * element,
    GstClock * clock);
static GstPad *gst_failover_selector_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_failover_selector_release_pad (GstElement * element,
    GstPad * pad);
static gboolean gst_failover_selector_src_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_failover_selector_src_query (GstPad * pad,
    GstObject * parent, GstQuery * query);
static GstIterator *gst_failover_selector_iterate_internal_links (GstPad *
    pad, GstObject * parent);

/* The element */

static void
gst_failover_selector_class_init (GstFailoverSelectorClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_failover_selector_set_property;
  gobject_class->get_property = gst_failover_selector_get_property;
  gobject_class->dispose = gst_failover_selector_dispose;
  gobject_class->finalize = gst_failover_selector_finalize;

  properties[PROP_TIMEOUT] = g_param_spec_uint ("timeout", "Timeout",
      "Time without data after which an input is unhealthy, "
      "in milliseconds", 1, G_MAXUINT / 1000, DEFAULT_TIMEOUT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_RECOVERY_TIME] = g_param_spec_uint ("recovery-time",
      "Recovery time",
      "Time a better input must stay healthy before switching back to it, "
      "in milliseconds", 0, G_MAXUINT / 1000, DEFAULT_RECOVERY_TIME,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_AUTO_RECOVER] = g_param_spec_boolean ("auto-recover",
      "Auto recover",
      "Switch back to a better input once it has recovered",
      DEFAULT_AUTO_RECOVER,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  /**
   * GstFailoverSelector:send-held:
   *
   * On a failover (timeout, EOS, error), send at once the newest buffer or
   * list the new input delivered while it waited, if it is at most 100 ms
   * old, rather than wait for its next one: the output's gap is then the
   * `timeout` and no more.  Never for a switch back, which waits for a
   * random-access point.
   */
  properties[PROP_SEND_HELD] = g_param_spec_boolean ("send-held",
      "Send held data",
      "On a failover, send the new input's newest data (at most 100 ms old) "
      "at once instead of waiting for its next buffer",
      DEFAULT_SEND_HELD,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_ACTIVE_PAD] = g_param_spec_object ("active-pad",
      "Active pad",
      "The input forwarded; setting it switches by hand and holds that "
      "choice until the input fails, NULL hands the choice back",
      GST_TYPE_PAD,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  /**
   * GstFailoverSelector:stats:
   *
   * An `application/x-failoverselector-stats` structure with `switches`
   * (#guint64), `active-pad` (#gchararray, %NULL if none) and `pads`, an
   * array of `pad` structures with `name` (#gchararray), `priority`
   * (#guint), `healthy`, `eos`, `active` (#gboolean), `time-active`
   * (#guint64, in milliseconds) and `last-data-age` (#gint64, in
   * milliseconds, -1 before any data).
   */
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Switches, and time active and age of the last data per input",
      GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_FAILOVER_SELECTOR_PAD);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Failover selector",
      "Generic", "Forwards the best of several redundant live inputs and "
      "fails over when it stops", "mroute developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_failover_selector_change_state);
  element_class->set_clock =
      GST_DEBUG_FUNCPTR (gst_failover_selector_set_clock);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_failover_selector_request_new_pad);
  element_class->release_pad =
      GST_DEBUG_FUNCPTR (gst_failover_selector_release_pad);

  gst_type_mark_as_plugin_api (GST_TYPE_FAILOVER_SELECTOR_PAD, 0);

  GST_DEBUG_CATEGORY_INIT (gst_failover_selector_debug, "failoverselector",
      0, "mroute failover selector");
}

static void
gst_failover_selector_init (GstFailoverSelector * self)
{
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_failover_selector_src_event));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_failover_selector_src_query));
  gst_pad_set_iterate_internal_links_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_failover_selector_iterate_internal_links));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  mr_failover_policy_init (&self->policy, DEFAULT_TIMEOUT * GST_MSECOND,
      DEFAULT_RECOVERY_TIME * GST_MSECOND, DEFAULT_AUTO_RECOVER);
  self->pending_since = GST_CLOCK_TIME_NONE;
}

static void
gst_failover_selector_dispose (GObject * object)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (object);

  gst_clear_object (&self->active_pad);
  gst_clear_object (&self->pending_pad);

  G_OBJECT_CLASS (parent_class)->dispose (object);
}

static void
gst_failover_selector_finalize (GObject * object)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (object);

  if (self->tick_id)
    gst_clock_id_unref (self->tick_id);
  mr_failover_policy_clear (&self->policy);
  g_free (self->lost_pad_name);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Properties */

static void
gst_failover_selector_set_active_pad (GstFailoverSelector * self,
    GstPad * pad)
{
  GstClockTime now = gst_failover_selector_now (self);
  GstFailoverSwitch sw = { 0, };

  if (pad && (!GST_IS_FAILOVER_SELECTOR_PAD (pad)
          || GST_OBJECT_PARENT (pad) != GST_OBJECT_CAST (self))) {
    GST_WARNING_OBJECT (self, "%" GST_PTR_FORMAT " is not one of my inputs",
        pad);
    return;
  }

  GST_OBJECT_LOCK (self);
  if (!pad) {
    GST_INFO_OBJECT (self, "choice handed back to the policy");
    mr_failover_policy_unpin (&self->policy);
  } else if (!mr_failover_policy_get_input (&self->policy,
          GST_FAILOVER_SELECTOR_PAD (pad)->index)) {
    GST_WARNING_OBJECT (self, "%s is being released", GST_OBJECT_NAME (pad));
  } else if (GST_FAILOVER_SELECTOR_PAD (pad) == self->active_pad) {
    mr_failover_policy_select (&self->policy,
        GST_FAILOVER_SELECTOR_PAD (pad)->index, now);
  } else {
    gst_failover_selector_commit (self, GST_FAILOVER_SELECTOR_PAD (pad),
        MR_FAILOVER_REASON_MANUAL, now, &sw);
  }
  GST_OBJECT_UNLOCK (self);

  gst_failover_selector_announce (self, &sw);
}

static void
gst_failover_selector_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (object);

  switch (prop_id) {
    case PROP_TIMEOUT:
      GST_OBJECT_LOCK (self);
      self->policy.timeout = g_value_get_uint (value) * GST_MSECOND;
      GST_OBJECT_UNLOCK (self);
      /* the check interval follows the timeout */
      if (gst_failover_selector_stop_tick (self))
        gst_failover_selector_start_tick (self);
      break;
    case PROP_RECOVERY_TIME:
      GST_OBJECT_LOCK (self);
      self->policy.recovery_time = g_value_get_uint (value) * GST_MSECOND;
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_AUTO_RECOVER:
      GST_OBJECT_LOCK (self);
      self->policy.auto_recover = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SEND_HELD:
      GST_OBJECT_LOCK (self);
      self->send_held = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ACTIVE_PAD:
      gst_failover_selector_set_active_pad (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* Called with the object lock */
static GstStructure *
gst_failover_selector_make_stats (GstFailoverSelector * self, GstClockTime now)
{
  GValue pads = G_VALUE_INIT;
  GstStructure *stats;
  GList *l;

  g_value_init (&pads, GST_TYPE_ARRAY);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l; l = l->next) {
    GstFailoverSelectorPad *pad = l->data;
    const MrFailoverInput *in =
        mr_failover_policy_get_input (&self->policy, pad->index);
    guint64 age = mr_failover_policy_data_age (&self->policy, pad->index, now);
    GValue v = G_VALUE_INIT;

    if (!in)
      continue;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("pad",
            "name", G_TYPE_STRING, GST_OBJECT_NAME (pad),
            "priority", G_TYPE_UINT, in->priority,
            "healthy", G_TYPE_BOOLEAN,
            mr_failover_policy_is_healthy (&self->policy, pad->index, now),
            "eos", G_TYPE_BOOLEAN, in->eos,
            "active", G_TYPE_BOOLEAN, pad == self->active_pad,
            "time-active", G_TYPE_UINT64,
            mr_failover_policy_time_active (&self->policy, pad->index,
                now) / GST_MSECOND,
            "last-data-age", G_TYPE_INT64,
            age == MR_FAILOVER_TIME_NONE ? (gint64) - 1 :
            (gint64) (age / GST_MSECOND), NULL));
    gst_value_array_append_and_take_value (&pads, &v);
  }

  stats = gst_structure_new ("application/x-failoverselector-stats",
      "switches", G_TYPE_UINT64, self->policy.switches,
      "active-pad", G_TYPE_STRING,
      self->active_pad ? GST_OBJECT_NAME (self->active_pad) : NULL, NULL);
  gst_structure_take_value (stats, "pads", &pads);
  return stats;
}

static void
gst_failover_selector_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (object);

  switch (prop_id) {
    case PROP_TIMEOUT:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->policy.timeout / GST_MSECOND);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RECOVERY_TIME:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->policy.recovery_time / GST_MSECOND);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_AUTO_RECOVER:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->policy.auto_recover);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SEND_HELD:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->send_held);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ACTIVE_PAD:
      GST_OBJECT_LOCK (self);
      g_value_set_object (value, self->active_pad);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:{
      GstClockTime now = gst_failover_selector_now (self);

      GST_OBJECT_LOCK (self);
      g_value_take_boxed (value, gst_failover_selector_make_stats (self, now));
      GST_OBJECT_UNLOCK (self);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* Clock and states */

static gboolean
gst_failover_selector_set_clock (GstElement * element, GstClock * clock)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (element);
  gboolean ret;

  ret = GST_ELEMENT_CLASS (parent_class)->set_clock (element, clock);
  /* the check follows the clock */
  if (gst_failover_selector_stop_tick (self))
    gst_failover_selector_start_tick (self);
  return ret;
}

static void
gst_failover_selector_reset (GstFailoverSelector * self)
{
  GST_OBJECT_LOCK (self);
  mr_failover_policy_reset (&self->policy);
  gst_clear_object (&self->active_pad);
  gst_clear_object (&self->pending_pad);
  g_clear_pointer (&self->lost_pad_name, g_free);
  self->send_sticky = FALSE;
  self->send_discont = FALSE;
  self->eos_sent = FALSE;
  GST_OBJECT_UNLOCK (self);
}

static GstStateChangeReturn
gst_failover_selector_change_state (GstElement * element,
    GstStateChange transition)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_failover_selector_reset (self);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      gst_failover_selector_stop_tick (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:{
      GstClockTime now = gst_failover_selector_now (self);

      /* being paused is not being silent */
      GST_OBJECT_LOCK (self);
      mr_failover_policy_rebase (&self->policy, now);
      GST_OBJECT_UNLOCK (self);
      gst_failover_selector_start_tick (self);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_failover_selector_reset (self);
      break;
    default:
      break;
  }

  return ret;
}

/* GstChildProxy, so that gst-launch can set sink_0::priority */

static GObject *
gst_failover_selector_child_proxy_get_child_by_index (GstChildProxy * proxy,
    guint index)
{
  GstElement *element = GST_ELEMENT_CAST (proxy);
  GObject *child;

  GST_OBJECT_LOCK (element);
  child = g_list_nth_data (element->sinkpads, index);
  if (child)
    gst_object_ref (child);
  GST_OBJECT_UNLOCK (element);
  return child;
}

static guint
gst_failover_selector_child_proxy_get_children_count (GstChildProxy * proxy)
{
  GstElement *element = GST_ELEMENT_CAST (proxy);
  guint count;

  GST_OBJECT_LOCK (element);
  count = element->numsinkpads;
  GST_OBJECT_UNLOCK (element);
  return count;
}

static void
gst_failover_selector_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index =
      gst_failover_selector_child_proxy_get_child_by_index;
  iface->get_children_count =
      gst_failover_selector_child_proxy_get_children_count;
}

/* Request pads */

/* The N of "sink_N" */
static gboolean
gst_failover_selector_parse_pad_name (const gchar * name, guint * index)
{
  const gchar *digits;
  gchar *end;
  guint64 value;

  if (!name || !g_str_has_prefix (name, "sink_"))
    return FALSE;
  digits = name + strlen ("sink_");
  if (!g_ascii_isdigit (*digits))
    return FALSE;
  value = g_ascii_strtoull (digits, &end, 10);
  if (*end != '\0' || value >= MR_FAILOVER_NONE)
    return FALSE;
  *index = value;
  return TRUE;
}

static GstPad *
gst_failover_selector_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (element);
  GstFailoverSelectorPad *pad;
  guint index;

  GST_OBJECT_LOCK (self);
  if (gst_failover_selector_parse_pad_name (name, &index)) {
    if (mr_failover_policy_get_input (&self->policy, index)) {
      GST_OBJECT_UNLOCK (self);
      GST_WARNING_OBJECT (self, "pad %s exists already", name);
      return NULL;
    }
  } else {
    index = self->next_pad_index;
    while (mr_failover_policy_get_input (&self->policy, index))
      index++;
  }
  self->next_pad_index = MAX (self->next_pad_index, index + 1);
  /* reserves the index; 0 is the pad's default priority */
  mr_failover_policy_add_input (&self->policy, index, 0);
  GST_OBJECT_UNLOCK (self);

  pad = GST_FAILOVER_SELECTOR_PAD (gst_failover_selector_pad_new (templ,
          index));
  gst_pad_set_iterate_internal_links_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_failover_selector_iterate_internal_links));

  if (!gst_element_add_pad (element, GST_PAD (pad))) {
    GST_OBJECT_LOCK (self);
    mr_failover_policy_remove_input (&self->policy, index,
        GST_CLOCK_TIME_NONE);
    GST_OBJECT_UNLOCK (self);
    gst_object_unref (gst_object_ref_sink (pad));
    return NULL;
  }
  gst_child_proxy_child_added (GST_CHILD_PROXY (self), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  GST_DEBUG_OBJECT (self, "new input %s", GST_OBJECT_NAME (pad));
  return GST_PAD (pad);
}

static void
gst_failover_selector_release_pad (GstElement * element, GstPad * pad)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (element);
  GstFailoverSelectorPad *fpad = GST_FAILOVER_SELECTOR_PAD (pad);
  GstClockTime now = gst_failover_selector_now (self);
  GstFailoverSwitch sw = { 0, };

  GST_DEBUG_OBJECT (self, "releasing %s", GST_OBJECT_NAME (pad));

  GST_OBJECT_LOCK (self);
  if (self->pending_pad == fpad)
    gst_clear_object (&self->pending_pad);
  if (mr_failover_policy_remove_input (&self->policy, fpad->index, now)) {
    g_free (self->lost_pad_name);
    self->lost_pad_name = g_strdup (GST_OBJECT_NAME (pad));
    gst_clear_object (&self->active_pad);
    sw.notify = TRUE;
    gst_failover_selector_evaluate (self, now, &sw);
  }
  GST_OBJECT_UNLOCK (self);

  gst_failover_selector_announce (self, &sw);

  gst_child_proxy_child_removed (GST_CHILD_PROXY (self), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

static GstIterator *
gst_failover_selector_iterate_internal_links (GstPad * pad, GstObject * parent)
{
  GstFailoverSelector *self = GST_FAILOVER_SELECTOR (parent);
  GstPad *other = NULL;
  GstIterator *it;
  GValue value = G_VALUE_INIT;

  GST_OBJECT_LOCK (self);
  if (pad == self->srcpad) {
    if (self->active_pad)
      other = gst_object_ref (GST_PAD (self->active_pad));
  } else {
    other = gst_object_ref (self->srcpad);
  }
  GST_OBJECT_UNLOCK (self);

  if (!other)
    return NULL;

  g_value_init (&value, GST_TYPE_PAD);
  g_value_take_object (&value, other);
  it = gst_iterator_new_single (GST_TYPE_PAD, &value);
  g_value_unset (&value);
  return it;
}

/* The source pad */

static gboolean
gst_failover_selector_push_upstream (GstElement * element, GstPad * pad,
    gpointer user_data)
{
  GstEvent *event = user_data;

  gst_pad_push_event (pad, gst_event_ref (event));
  return TRUE;
}

/* The application says that the branch of the input named in the event
 * failed */
static gboolean
gst_failover_selector_input_failed (GstFailoverSelector * self,
    GstEvent * event)
{
  const gchar *name = gst_structure_get_string (gst_event_get_structure
      (event), "pad");
  GstPad *pad = name ? gst_element_get_static_pad (GST_ELEMENT_CAST (self),
      name) : NULL;
  gboolean ret = FALSE;

  if (GST_IS_FAILOVER_SELECTOR_PAD (pad)) {
    gst_failover_selector_pad_failed (self, GST_FAILOVER_SELECTOR_PAD (pad));
    ret = TRUE;
  } else {
    GST_WARNING_OBJECT (self, "error event for unknown input %s",
        GST_STR_NULL (name));
  }
  gst_clear_object (&pad);
  gst_event_unref (event);
  return ret;
}

/* Upstream events (force-key-unit, QoS, reconfigure...) go to every input,
 * so that the backups are ready too */
static gboolean
gst_failover_selector_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  gboolean ret;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_UPSTREAM
      && gst_event_has_name (event, GST_FAILOVER_SELECTOR_ERROR_EVENT))
    return gst_failover_selector_input_failed (GST_FAILOVER_SELECTOR (parent),
        event);

  ret = gst_element_foreach_sink_pad (GST_ELEMENT_CAST (parent),
      gst_failover_selector_push_upstream, event);
  gst_event_unref (event);
  return ret;
}

typedef struct
{
  GstQuery *query;
  gboolean answered;
  gboolean live;
  GstClockTime min;
  GstClockTime max;
} LatencyFold;

static gboolean
gst_failover_selector_query_latency (GstElement * element, GstPad * pad,
    gpointer user_data)
{
  LatencyFold *fold = user_data;
  GstClockTime min, max;
  gboolean live;

  if (!gst_pad_peer_query (pad, fold->query))
    return TRUE;

  gst_query_parse_latency (fold->query, &live, &min, &max);
  GST_DEBUG_OBJECT (pad, "latency min %" GST_TIME_FORMAT ", max %"
      GST_TIME_FORMAT ", live %d", GST_TIME_ARGS (min), GST_TIME_ARGS (max),
      live);
  fold->answered = TRUE;
  if (live) {
    fold->live = TRUE;
    fold->min = MAX (fold->min, min);
    if (GST_CLOCK_TIME_IS_VALID (max))
      fold->max = GST_CLOCK_TIME_IS_VALID (fold->max) ?
          MIN (fold->max, max) : max;
  }
  return TRUE;
}

/* Any input may become the active one: the latency is the worst of them */
static gboolean
gst_failover_selector_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    LatencyFold fold = { query, FALSE, FALSE, 0, GST_CLOCK_TIME_NONE };

    gst_element_foreach_sink_pad (GST_ELEMENT_CAST (parent),
        gst_failover_selector_query_latency, &fold);
    if (fold.answered)
      gst_query_set_latency (query, fold.live, fold.min, fold.max);
    return fold.answered;
  }
  return gst_pad_query_default (pad, parent, query);
}
