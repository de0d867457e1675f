/* mroute: what happens in a running flow, as events.  Every message of the
 * flow's pipeline that says something happened (an element message, an
 * error, a warning, the end of the stream) and every refusal libsrt logs
 * for it becomes its events (core/event.h) here, in FAILOVER, MERGE and
 * single-source flows alike: where a failover, a lost merge leg or a
 * failed output becomes an event is this file.
 *
 *   failover    failoverselector-switched: source_failover, or
 *               primary_recovered when it is back on the primary
 *   merge       rtpst2022-7-merge: merge_started when two or more legs
 *               deliver (again) or the merge follows a sender restart;
 *               merge_error (warning) when that ends, with the reason (a
 *               leg went silent, a leg carries another stream) and when
 *               the flow runs single-leg; merge_eof when the merged stream
 *               ends
 *   sources     packetstats: source_active, source_error (no data); a
 *               source's end, error or refused caller: source_eof,
 *               source_error (the source is retried, flow-sources.c)
 *   outputs     an output's error or lost peer: connection_error (the
 *               output is attached again, flow-outputs.c)
 *   content     the monitor's alarms, sampled once a second: a black or
 *               frozen picture or silence that lasted its threshold:
 *               content_black, content_frozen, content_silent (warning);
 *               their end, with its duration (info)
 *
 * What a protocol's own messages mean (an SRT listener listening anew, a
 * refused caller, a sink that lost its peer) its transport says
 * (pipeline/transports/transport.h); nothing here tests the protocol.
 *
 * It does not know the flow's lifecycle: the runner (flow-runner.c)
 * dispatches the bus to it and stops the flow when it says the pipeline
 * cannot go on.  It keeps no statistics (flow-merge.c, flow-metrics.c). */

#define G_LOG_DOMAIN "mroute-flow"
#include <string.h>

#include "flow-runner-private.h"

/* one refusal event per endpoint per this many µs: a caller retries
 * several times a second */
#define REFUSED_EVENT_INTERVAL_US (10 * G_USEC_PER_SEC)

static const gchar *
source_name (MrRunner * r, gint index)
{
  return ((MrEndpoint *) r->spec->sources->pdata[index])->name;
}

static const gchar *
active_source_name (MrRunner * r)
{
  return source_name (r, r->live.active_source);
}

static const MrTransport *
source_transport (MrRunner * r, gint index)
{
  return mr_transport_get (((MrEndpoint *) r->spec->sources->
          pdata[index])->protocol);
}

/* TRUE if no refusal was reported at *@last in the last 10 s (and then
 * *@last is now) */
static gboolean
refusal_is_news (gint64 * last)
{
  gint64 now = g_get_monotonic_time ();

  if (*last && now - *last < REFUSED_EVENT_INTERVAL_US)
    return FALSE;
  *last = now;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the flow */

void
mr_runner_events_flow_started (MrRunner * r)
{
  mr_runner_emit (r, "flow_started", "info", "flow started on source '%s'",
      active_source_name (r));
  if (!r->live.merger)
    return;
  r->merge_legs = 0;
  if (r->spec->sources->len < 2)
    mr_runner_emit (r, "merge_error", "warning", "MERGE with only source "
        "'%s': running single-leg, without protection, until a second "
        "source is added", source_name (r, 0));
}

void
mr_runner_events_eos (MrRunner * r)
{
  if (r->live.merger)
    mr_runner_emit (r, "merge_eof", "error", "every source of the merge "
        "ended the stream");
  else
    mr_runner_emit (r, "source_eof", "error", "source '%s' ended the "
        "stream", active_source_name (r));
}

gboolean
mr_runner_events_error (MrRunner * r, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *output = mr_builder_element_output (GST_MESSAGE_SRC (msg));
  gint source = mr_live_pipeline_source_of_element (&r->live, GST_MESSAGE_SRC
      (msg));

  gst_message_parse_error (msg, &err, &debug);
  if (source >= 0) {
    /* in every mode: the source is started again, the flow goes on */
    g_message ("flow %s: error from %s: %s (%s)", r->spec->id,
        GST_MESSAGE_SRC_NAME (msg), err->message, debug ? debug : "");
    mr_builder_error_add_reason (err, debug);
    mr_runner_source_failed (r, source, "source_error", err->message);
    return FALSE;
  }
  if (mr_builder_element_is_source (GST_MESSAGE_SRC (msg))) {
    /* a source bin already taken out: its follow-up errors say nothing */
    g_message ("flow %s: error from a stopped source's %s: %s", r->spec->id,
        GST_MESSAGE_SRC_NAME (msg), err->message);
    return FALSE;
  }
  if (g_strcmp0 (output, MR_LIVE_RECORDING) == 0) {
    /* the recording's branch drops from now on; the outputs go on */
    mr_runner_emit (r, "recording_error", "error", "recording stopped: %s",
        err->message);
    return FALSE;
  }
  if (output) {
    g_message ("flow %s: output '%s' failed: %s (%s)", r->spec->id, output,
        err->message, debug ? debug : "");
    mr_runner_output_failed (r, output, err);
    return FALSE;
  }
  g_warning ("flow %s: error from %s: %s (%s)", r->spec->id,
      GST_MESSAGE_SRC_NAME (msg), err->message, debug ? debug : "");
  mr_runner_emit (r, "connection_error", "error", "%s: %s",
      GST_MESSAGE_SRC_NAME (msg), err->message);
  return TRUE;
}

/* A shared fan-out sink (UDP, RTP) warns about some of its destinations:
 * one it cannot resolve, or a multicast interface that is not there (the
 * sink then sends nothing to its groups; the flow goes on).  Its warnings
 * name the host or the interface: each output of that sink named in it
 * gets a connection_error.  FALSE when no output is named. */
static gboolean
warning_from_fanout_sink (MrRunner * r, GstMessage * msg, const GError * err)
{
  gboolean named = FALSE;

  for (guint i = 0; i < r->spec->outputs->len; i++) {
    MrEndpoint *out = r->spec->outputs->pdata[i];
    GstElement *sink = mr_live_pipeline_output_sink (&r->live, out);

    if (!sink || GST_OBJECT (sink) != GST_MESSAGE_SRC (msg))
      continue;
    if ((out->destination && strstr (err->message, out->destination))
        || (out->iface && strstr (err->message, out->iface))) {
      mr_runner_emit (r, "connection_error", "warning", "output '%s': %s",
          out->name, err->message);
      named = TRUE;
    }
  }
  return named;
}

/* A sink that reconnects by itself (SRT's) warns when its peer went away:
 * a disconnection even if it is back before the next sample.  It says so
 * for every buffer while the peer is away, so log and count once per
 * outage. */
void
mr_runner_events_warning (MrRunner * r, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *output = mr_builder_element_output (GST_MESSAGE_SRC (msg));
  MrEndpoint *out = output ?
      mr_flow_spec_find_output (r->spec, output, NULL) : NULL;
  const MrTransport *transport = out ? mr_transport_get (out->protocol) :
      NULL;

  gst_message_parse_warning (msg, &err, NULL);
  if (g_strcmp0 (output, MR_LIVE_RECORDING) == 0) {
    /* tssegmentsink could not write (a full disk, a folder it may not
     * write to): it drops from now on, the outputs never wait for it */
    mr_runner_emit (r, "recording_error", "error", "recording stopped: %s",
        err->message);
    return;
  }
  if (transport && transport->output_warning_lost_peer
      && transport->output_warning_lost_peer (err)) {
    MrOutputState *st = mr_runner_output_state (r, out->name);

    if (st->link_up) {
      st->link_up = FALSE;
      st->disconnections++;
      mr_runner_emit (r, "connection_error", "warning", "output '%s': %s",
          out->name, err->message);
    }
    return;
  }
  if (transport && transport->writes_files
      && err->domain == GST_RESOURCE_ERROR) {
    /* tssegmentsink could not write (a full disk): it drops from now on,
     * once; the flow and its other outputs go on */
    mr_runner_emit (r, "connection_error", "error", "output '%s': %s; it "
        "writes nothing until it is attached again", out->name, err->message);
    return;
  }
  if (!out && warning_from_fanout_sink (r, msg, err))
    return;
  g_message ("flow %s: warning from %s: %s", r->spec->id,
      GST_MESSAGE_SRC_NAME (msg), err->message);
}

/* ---------------------------------------------------------------------- */
/* sources */

/* packetstats: a source started or stopped receiving */
static void
handle_activity (MrRunner * r, gint index, const GstStructure * s)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);
  const MrTransport *transport = source_transport (r, index);
  gboolean active;
  guint seq = 0;

  if (!gst_structure_get_boolean (s, "active", &active))
    return;
  /* a change that a later one overtook on the bus is stale */
  gst_structure_get_uint (s, "sequence", &seq);
  if ((gint) (seq - st->activity_seq) <= 0)
    return;
  st->activity_seq = seq;
  st->active = active;
  if (active)
    mr_runner_source_healthy (r, index);
  if (active)
    mr_runner_emit (r, "source_active", "info", "source '%s' is receiving "
        "data", source_name (r, index));
  else {
    guint idle_ms = 2000;

    if (r->live.source_stats[index])
      g_object_get (r->live.source_stats[index], "idle-timeout", &idle_ms,
          NULL);
    mr_runner_emit (r, "source_error", "warning", "source '%s' has received "
        "no data for %g s", source_name (r, index), idle_ms / 1000.0);
  }
  /* a source that listens anew by itself (its caller closed) is not
   * restarted on top */
  if (active)
    st->listening_anew = FALSE;
  else if (transport && transport->restart_silent_source
      && !st->listening_anew && !(transport->source_takes_next_caller
          && transport->source_takes_next_caller (r->spec->sources->pdata
              [index])))
    mr_runner_source_restart (r, index, transport->restart_silent_source);
}

/* A source refused a caller (for its stream id, or @reason) */
static void
handle_caller_refused (MrRunner * r, guint index, const gchar * stream_id,
    const gchar * reason)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);
  const MrTransport *transport = source_transport (r, index);
  const gchar *who = transport && transport->refused_caller ?
      transport->refused_caller : "SRT caller with stream id";
  const gchar *name = st->name;
  g_autofree gchar *shown = NULL;
  guint64 refused = ++st->callers_refused;

  /* what a caller sent is outside input: printable and short in events */
  if (stream_id && *stream_id) {
    g_autofree gchar *cut = g_utf8_make_valid (stream_id, MIN (strlen
            (stream_id), 64));
    g_autofree gchar *escaped = g_strescape (cut, NULL);
    shown = g_strdup_printf ("'%s'", escaped);
  } else {
    shown = g_strdup ("none");
  }
  g_message ("flow %s: source '%s': refused an %s %s%s%s (%" G_GUINT64_FORMAT
      " so far)", r->spec->id, name, who, shown, reason ? ": " : "",
      reason ? reason : "", refused);
  /* a caller tries again several times a second: one event per 10 s */
  if (refusal_is_news (&st->caller_refused_at))
    mr_runner_emit (r, "source_error", "warning", "source '%s': refused an "
        "%s %s%s%s (%" G_GUINT64_FORMAT " refused so far)", name, who, shown,
        reason ? ": " : "", reason ? reason : "", refused);
}

/* A source that has a peer refused another one (an RTMP publisher of the
 * same stream key) */
static void
handle_second_peer_refused (MrRunner * r, guint index)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);
  guint64 refused = ++st->callers_refused;

  g_message ("flow %s: source '%s': refused a second publisher "
      "(%" G_GUINT64_FORMAT " refused so far)", r->spec->id, st->name,
      refused);
  if (refusal_is_news (&st->second_peer_refused_at))
    mr_runner_emit (r, "source_error", "warning", "source '%s': refused a "
        "second publisher, one is publishing already (%" G_GUINT64_FORMAT
        " refused so far)", st->name, refused);
}

/* An element message from inside a source's bin that its transport knows */
static void
handle_source_message (MrRunner * r, gint index, const GstStructure * s)
{
  const MrTransport *transport = source_transport (r, index);
  const gchar *detail = NULL, *reason = NULL;

  if (!transport || !transport->read_source_message)
    return;
  switch (transport->read_source_message (s, &detail, &reason)) {
    case MR_SOURCE_NOTE_LISTENING_ANEW:
      mr_runner_source_state_at (r, index)->listening_anew = TRUE;
      break;
    case MR_SOURCE_NOTE_CALLER_REFUSED:
      handle_caller_refused (r, index, detail, reason);
      break;
    case MR_SOURCE_NOTE_SECOND_PEER_REFUSED:
      handle_second_peer_refused (r, index);
      break;
    case MR_SOURCE_NOTE_NONE:
      break;
  }
}

/* The source ended its stream: it is started again; in MERGE, when no
 * source is left, the merge said so */
static void
handle_source_eos (MrRunner * r, gint index)
{
  gboolean any = FALSE;

  if (!mr_runner_source_failed (r, index, "source_eof",
          "the source ended the stream") || !r->live.merger)
    return;
  for (guint i = 0; i < MR_MAX_SOURCES; i++)
    any |= r->live.source_bins[i] != NULL;
  if (!any)
    mr_runner_emit (r, "merge_eof", "error", "every source of the merge "
        "ended the stream; trying them again");
}

/* ---------------------------------------------------------------------- */
/* FAILOVER and MERGE */

/* failoverselector: the output now comes from another source */
static void
handle_switch (MrRunner * r, const GstStructure * s)
{
  const gchar *old_pad = gst_structure_get_string (s, "old-pad");
  const gchar *new_pad = gst_structure_get_string (s, "new-pad");
  const gchar *reason = gst_structure_get_string (s, "reason");
  gint from = old_pad ? mr_live_pipeline_source_of_pad (&r->live, old_pad) : -1;
  gint to = new_pad ? mr_live_pipeline_source_of_pad (&r->live, new_pad) : -1;

  if (to < 0)
    return;
  r->live.active_source = to;
  if (from < 0 || from == to)
    return;                     /* the first choice, not a failover */
  mr_runner_monitor_source_changed (r);
  r->failover_count++;
  if (g_strcmp0 (reason, "recovered") == 0)
    mr_runner_emit (r, "primary_recovered", "info", "back on source '%s' "
        "from '%s' (reason: recovered)", source_name (r, to),
        source_name (r, from));
  else if (g_strcmp0 (reason, "manual") == 0)
    /* the operator's switch (mr_runner_activate_source): nothing failed */
    mr_runner_emit (r, "source_failover", "info", "switched from source "
        "'%s' to '%s' (reason: manual)", source_name (r, from),
        source_name (r, to));
  else
    mr_runner_emit (r, "source_failover", "warning", "switched from source "
        "'%s' to '%s' (reason: %s)", source_name (r, from),
        source_name (r, to), reason ? reason : "unknown");
}

static const gchar *
source_of_pad (MrRunner * r, const gchar * pad)
{
  gint index = pad ? mr_live_pipeline_source_of_pad (&r->live, pad) : -1;

  if (index < 0 || (guint) index >= r->spec->sources->len)
    return "?";
  return source_name (r, index);
}

/* rtpst2022-7-merge: a leg came, went or carries another stream; the
 * merger's active legs are kept for merge_active (flow-merge.c) */
static void
handle_merge (MrRunner * r, const GstStructure * s)
{
  const gchar *event = gst_structure_get_string (s, "event");
  const gchar *source = source_of_pad (r, gst_structure_get_string (s,
          "pad"));
  guint legs = 0, before = r->merge_legs;

  if (!event || !gst_structure_get_uint (s, "active-legs", &legs))
    return;
  r->merge_legs = legs;

  if (g_str_equal (event, "leg-foreign")) {
    mr_runner_emit (r, "merge_error", "error", "source '%s' carries another "
        "stream than the other legs (another SSRC or sequence numbers): "
        "it is not merged", source);
  } else if (g_str_equal (event, "stream-restarted")) {
    mr_runner_emit (r, "merge_started", "info", "the sender restarted (new "
        "SSRC or sequence numbers): merging the new stream");
  } else if (legs >= 2 && before < 2) {
    mr_runner_emit (r, "merge_started", "info", "merging %u sources: "
        "each packet from whichever delivers it first", legs);
  } else if (legs < 2 && before >= 2) {
    mr_runner_emit (r, "merge_error", "warning", "source '%s' %s: merging "
        "stopped, %s", source, g_str_equal (event, "leg-silent") ?
        "delivers nothing" : "left the merge", legs == 1 ?
        "the flow runs on one leg" : "no source delivers");
  }
}

void
mr_runner_events_element (MrRunner * r, GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  GstObject *src = GST_MESSAGE_SRC (msg);
  gint index;

  if (gst_structure_has_name (s, "packetstats")
      && (index = mr_live_pipeline_source_of_stats (&r->live, src)) >= 0)
    handle_activity (r, index, s);
  else if (gst_structure_has_name (s, "failoverselector-switched")
      && src == GST_OBJECT (r->live.selector))
    handle_switch (r, s);
  else if (gst_structure_has_name (s, "rtpst2022-7-merge")
      && src == GST_OBJECT (r->live.merger))
    handle_merge (r, s);
  else if ((index = mr_live_pipeline_source_of_element (&r->live, src)) < 0)
    return;
  else if (gst_structure_has_name (s, MR_BUILDER_SOURCE_EOS))
    handle_source_eos (r, index);
  else
    handle_source_message (r, index, s);
}

/* ---------------------------------------------------------------------- */
/* refusals in a protocol library's log */

void
mr_runner_srt_rejected (MrRunner * r, const gchar * reason)
{
  MrEndpoint *src;
  const MrTransport *transport;
  MrSourceStats own = { 0, };
  gboolean peerless;

  if (r->state != MR_FLOW_ACTIVE)
    return;
  src = r->spec->sources->pdata[r->live.active_source];
  transport = mr_transport_get (src->protocol);
  if (src->passphrase && transport && transport->refusals_logged)
    mr_runner_source_own_stats (r, src, &own);
  /* its link's figures say no peer is there; a source that tells its
   * refusals itself (srtroutesrc) already said it, and a refusal logged
   * may be another route's on its port */
  peerless = own.has_srt && !own.srt.connected && !own.refusals_own;
  mr_source_stats_clear (&own);
  if (peerless && refusal_is_news (&mr_runner_source_state (r,
              src->name)->refused_at))
    mr_runner_emit (r, "source_error", "error", "source '%s': an SRT caller "
        "was refused: %s", src->name, reason);

  for (guint i = 0; i < r->spec->outputs->len; i++) {
    MrEndpoint *out = r->spec->outputs->pdata[i];
    MrOutputStats stats;
    gboolean up;

    transport = mr_transport_get (out->protocol);
    if (!transport || !transport->refusals_logged || !out->passphrase)
      continue;
    mr_runner_output_stats (r, out, &stats);
    up = stats.connected;
    mr_output_stats_clear (&stats);
    if (!up && refusal_is_news (&mr_runner_output_state (r,
                out->name)->refused_at))
      mr_runner_emit (r, "connection_error", "error", "output '%s': the SRT "
          "connection was refused: %s", out->name, reason);
  }
}

/* ---------------------------------------------------------------------- */
/* content alarms */

static const gchar *const content_type[MR_CONTENT_N_KINDS] = {
  "content_black", "content_frozen", "content_silent",
};

static const gchar *const content_what[MR_CONTENT_N_KINDS] = {
  "black picture", "frozen picture", "silence",
};

static void
content_began (MrRunner * r, MrContentKind kind, gdouble threshold)
{
  const gchar *source = active_source_name (r);
  MrSourceState *st = mr_runner_source_state (r, source);

  st->content_on[kind] = TRUE;
  st->content_stretches[kind]++;
  g_free (r->alarm_source[kind]);
  r->alarm_source[kind] = g_strdup (source);
  mr_runner_emit (r, content_type[kind], "warning", "%s on source '%s' "
      "(for %.1f s now)", content_what[kind], source, threshold);
}

static void
content_ended (MrRunner * r, MrContentKind kind, gint64 duration_us,
    const gchar * why)
{
  const gchar *source = r->alarm_source[kind] ? r->alarm_source[kind] :
      active_source_name (r);
  MrSourceState *st = mr_runner_source_state (r, source);

  st->content_on[kind] = FALSE;
  mr_runner_emit (r, content_type[kind], "info", "%s on source '%s' "
      "ended after %.1f s%s", content_what[kind], source,
      (gdouble) MAX (duration_us, 0) / G_USEC_PER_SEC, why ? why : "");
  g_clear_pointer (&r->alarm_source[kind], g_free);
}

void
mr_runner_events_content (MrRunner * r)
{
  MrContentAlarm now[MR_CONTENT_N_KINDS];
  const gdouble threshold[MR_CONTENT_N_KINDS] = {
    r->spec->black_threshold_sec, r->spec->frozen_threshold_sec,
    r->spec->silent_threshold_sec,
  };

  if (!r->monitor)
    return;
  mr_monitor_get_alarms (r->monitor, now);
  for (guint k = 0; k < MR_CONTENT_N_KINDS; k++) {
    MrContentAlarm *seen = &r->alarms_seen[k];

    /* a stretch that began and ended within the second has both events */
    for (;;) {
      if (seen->started == seen->ended && seen->started < now[k].started) {
        content_began (r, k, threshold[k]);
        seen->started++;
      } else if (seen->started > seen->ended && seen->ended < now[k].ended) {
        content_ended (r, k, now[k].last_duration, NULL);
        seen->ended++;
      } else {
        break;
      }
    }
    *seen = now[k];
  }
}

void
mr_runner_events_content_closed (MrRunner * r)
{
  gint64 wall = g_get_real_time ();

  mr_runner_events_content (r);
  for (guint k = 0; k < MR_CONTENT_N_KINDS; k++) {
    if (r->alarms_seen[k].started > r->alarms_seen[k].ended)
      content_ended (r, k, wall - r->alarms_seen[k].since,
          " (monitoring stopped)");
  }
  memset (r->alarms_seen, 0, sizeof (r->alarms_seen));
}
