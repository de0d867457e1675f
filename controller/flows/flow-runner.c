/* mroute: one running flow. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner.h"

#include <string.h>
#include "flow-runner-private.h"

#include "pipeline/pipeline.h"

#define SAMPLE_INTERVAL_MS 1000


/* one passphrase event per endpoint per this many µs: a caller retries
 * several times a second */
#define REFUSED_EVENT_INTERVAL_US (10 * G_USEC_PER_SEC)

#define RECONNECT_MAX_S 30
#define RECONNECT_STABLE_US (10 * G_USEC_PER_SEC)

static const gchar *state_names[] = {
  "STANDBY", "STARTING", "ACTIVE", "STOPPING", "ERROR",
};

const gchar *
mr_flow_state_to_string (MrFlowState state)
{
  return state_names[state];
}

static void
set_state (MrRunner * r, MrFlowState state)
{
  if (r->state == state)
    return;
  r->state = state;
  if (r->callbacks.state_changed)
    r->callbacks.state_changed (r, state, r->user_data);
}

/* every event of the flow goes through mr_runner_emit () */
#define emit mr_runner_emit

void
mr_runner_emit (MrRunner * r, const gchar * type, const gchar * severity,
    const gchar * fmt, ...)
{
  va_list args;
  g_autofree gchar *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  if (r->callbacks.event)
    r->callbacks.event (r, type, severity, msg, r->user_data);
}

MrRunner *
mr_runner_new (const MrFlowSpec * spec, guint health_timeout_ms,
    const MrRunnerCallbacks * callbacks, gpointer user_data)
{
  MrRunner *r = g_new0 (MrRunner, 1);

  r->health_timeout_ms = health_timeout_ms;
  r->spec = mr_flow_spec_copy (spec);
  r->callbacks = *callbacks;
  r->user_data = user_data;
  r->state = MR_FLOW_STANDBY;
  return r;
}

static void
teardown (MrRunner * r)
{
  if (r->fail_idle) {
    g_source_remove (r->fail_idle);
    r->fail_idle = 0;
  }
  if (r->sample_timer) {
    g_source_remove (r->sample_timer);
    r->sample_timer = 0;
  }
  if (r->bus_watch) {
    g_source_remove (r->bus_watch);
    r->bus_watch = 0;
  }
  /* their timers first: nothing may try again into a pipeline going */
  mr_runner_forget_all (r);
  if (r->recipe.pipeline)
    gst_element_set_state (r->recipe.pipeline, GST_STATE_NULL);
  g_clear_pointer (&r->monitor, mr_monitor_free);
  mr_recipe_clear (&r->recipe);
  r->started_at = 0;
  r->failover_count = 0;
}

void
mr_runner_free (MrRunner * r)
{
  if (!r)
    return;
  teardown (r);
  mr_flow_spec_free (r->spec);
  g_free (r);
}

MrFlowState
mr_runner_get_state (MrRunner * r)
{
  return r->state;
}

static const gchar *
active_source_name (MrRunner * r)
{
  MrEndpoint *src = r->spec->sources->pdata[r->recipe.active_source];
  return src->name;
}

/* Ends the session after a failure the flow cannot recover from. */
static gboolean
fail_idle (gpointer user_data)
{
  MrRunner *r = user_data;

  r->fail_idle = 0;
  teardown (r);
  set_state (r, MR_FLOW_ERROR);
  return G_SOURCE_REMOVE;
}

/* An output's counters go into its totals before its sink goes */
static GstStructure *output_raw_stats (MrRunner * r,
    const MrEndpoint * out);

static void
output_end_life (MrRunner * r, const MrEndpoint * out)
{
  MrOutputState *st = mr_runner_output_state (r, out->name);
  GstStructure *s = output_raw_stats (r, out);

  mr_total_end_life (&st->bytes_sent, mr_runner_struct_u64 (s, "bytes-sent"));
  mr_total_end_life (&st->packets_sent, mr_runner_struct_u64 (s,
          "packets-sent"));
  g_clear_pointer (&s, gst_structure_free);
}

/* When an output was (re)attached: a caller that never connects after it
 * is a failed connection like any other. */
static void
note_attached (MrRunner * r, const MrEndpoint * out)
{
  mr_runner_output_state (r, out->name)->connecting_since =
      g_get_monotonic_time ();
}

static gboolean
reconnect_now (gpointer user_data)
{
  MrOutputState *st = user_data;
  MrRunner *r = st->runner;
  MrEndpoint *out = mr_flow_spec_find_output (r->spec, st->name, NULL);
  g_autoptr (GError) error = NULL;

  st->reconnect_timer = 0;
  if (!out || !r->recipe.pipeline)
    return G_SOURCE_REMOVE;
  g_message ("flow %s: output '%s': connecting again (attempt %u)",
      r->spec->id, out->name, st->reconnect_attempts + 1);
  st->attached_at = g_get_monotonic_time ();
  note_attached (r, out);
  if (!mr_recipe_attach_output (&r->recipe, out, &error))
    emit (r, "connection_error", "error", "output '%s': %s", out->name,
        error->message);
  return G_SOURCE_REMOVE;
}

/* An output failed: the others go on; this one is removed and attached
 * again after a back-off (1, 2, 4 ... 30 s), counted in disconnections. */
static void
handle_output_error (MrRunner * r, const gchar * name, const GError * err)
{
  MrEndpoint *out = mr_flow_spec_find_output (r->spec, name, NULL);
  MrOutputState *st;
  guint delay;

  if (!out)
    return;
  st = mr_runner_output_state (r, name);
  if (st->reconnect_timer)
    return;                     /* already waiting: a follow-up error */
  if (st->attached_at
      && g_get_monotonic_time () - st->attached_at > RECONNECT_STABLE_US)
    st->reconnect_attempts = 0;
  delay = MIN (1u << MIN (st->reconnect_attempts, 5), RECONNECT_MAX_S);
  st->reconnect_attempts++;

  st->disconnections++;
  st->link_up = FALSE;
  st->connecting_since = 0;
  emit (r, "connection_error", "error",
      "output '%s': %s; connecting again in %u s", name, err->message, delay);
  output_end_life (r, out);
  mr_recipe_detach_output (&r->recipe, out);
  st->reconnect_timer = g_timeout_add_seconds (delay, reconnect_now, st);
}

static void
handle_error (MrRunner * r, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *output = mr_recipe_element_output (GST_MESSAGE_SRC (msg));
  gint source = mr_recipe_source_of_element (&r->recipe, GST_MESSAGE_SRC
      (msg));

  gst_message_parse_error (msg, &err, &debug);
  if (source >= 0) {
    /* in every mode: the source is started again, the flow goes on */
    g_message ("flow %s: error from %s: %s (%s)", r->spec->id,
        GST_MESSAGE_SRC_NAME (msg), err->message, debug ? debug : "");
    mr_recipe_error_add_reason (err, debug);
    mr_runner_source_failed (r, source, "source_error", err->message);
    return;
  }
  if (mr_recipe_element_is_source (GST_MESSAGE_SRC (msg))) {
    /* a source bin already taken out: its follow-up errors say nothing */
    g_message ("flow %s: error from a stopped source's %s: %s", r->spec->id,
        GST_MESSAGE_SRC_NAME (msg), err->message);
    return;
  }
  if (output) {
    g_message ("flow %s: output '%s' failed: %s (%s)", r->spec->id, output,
        err->message, debug ? debug : "");
    handle_output_error (r, output, err);
    return;
  }
  g_warning ("flow %s: error from %s: %s (%s)", r->spec->id,
      GST_MESSAGE_SRC_NAME (msg), err->message, debug ? debug : "");
  emit (r, "connection_error", "error", "%s: %s",
      GST_MESSAGE_SRC_NAME (msg), err->message);

  /* the pipeline cannot go on: stop it outside the bus callback */
  if (!r->fail_idle && r->state != MR_FLOW_ERROR)
    r->fail_idle = g_idle_add (fail_idle, r);
}

static const gchar *
source_name (MrRunner * r, gint index)
{
  return ((MrEndpoint *) r->spec->sources->pdata[index])->name;
}

/* packetstats: a source started or stopped receiving */
static void
handle_activity (MrRunner * r, gint index, const GstStructure * s)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);
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
    emit (r, "source_active", "info", "source '%s' is receiving data",
        source_name (r, index));
  else {
    guint idle_ms = 2000;

    if (r->recipe.source_stats[index])
      g_object_get (r->recipe.source_stats[index], "idle-timeout", &idle_ms,
          NULL);
    emit (r, "source_error", "warning", "source '%s' has received no data "
        "for %g s", source_name (r, index), idle_ms / 1000.0);
  }
  /* An SRT listener (srtsrc 1.22) takes one caller at a time and looks for
   * the next only once libsrt has given the silent one up, after its peer
   * idle time (5 s); a caller that connects meanwhile (an encoder that
   * restarted) waits on the old listening socket and is dropped when
   * srtsrc listens anew, and ffmpeg then gives up for good.  A caller
   * silent for 1 s (the listener's idle-timeout, transports/srt.c) is
   * gone: listen anew at once. */
  if (active)
    st->listening_anew = FALSE;
  else if (((MrEndpoint *) r->spec->sources->pdata[index])->protocol
      == MR_PROTOCOL_SRT_LISTENER && !st->listening_anew)
    mr_runner_source_restart (r, index, "its caller has sent nothing for "
        "1 s");
}

/* failoverselector: the output now comes from another source */
static void
handle_switch (MrRunner * r, const GstStructure * s)
{
  const gchar *old_pad = gst_structure_get_string (s, "old-pad");
  const gchar *new_pad = gst_structure_get_string (s, "new-pad");
  const gchar *reason = gst_structure_get_string (s, "reason");
  gint from = old_pad ? mr_recipe_source_of_pad (&r->recipe, old_pad) : -1;
  gint to = new_pad ? mr_recipe_source_of_pad (&r->recipe, new_pad) : -1;

  if (to < 0)
    return;
  r->recipe.active_source = to;
  if (from < 0 || from == to)
    return;                     /* the first choice, not a failover */
  mr_runner_monitor_source_changed (r);
  r->failover_count++;
  if (g_strcmp0 (reason, "recovered") == 0)
    emit (r, "primary_recovered", "info", "back on source '%s' from '%s' "
        "(reason: recovered)", source_name (r, to), source_name (r, from));
  else
    emit (r, "source_failover", "warning", "switched from source '%s' to "
        "'%s' (reason: %s)", source_name (r, from), source_name (r, to),
        reason ? reason : "unknown");
}

static void
handle_element_message (MrRunner * r, GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  gint index;

  if (gst_structure_has_name (s, "packetstats")
      && (index = mr_recipe_source_of_stats (&r->recipe,
              GST_MESSAGE_SRC (msg))) >= 0)
    handle_activity (r, index, s);
  else if (gst_structure_has_name (s, MR_RECIPE_SOURCE_EOS)
      && (index = mr_recipe_source_of_element (&r->recipe,
              GST_MESSAGE_SRC (msg))) >= 0)
    mr_runner_source_failed (r, index, "source_eof",
        "the source ended the stream");
  else if (gst_structure_has_name (s, "connection-removed")
      && (index = mr_recipe_source_of_element (&r->recipe,
              GST_MESSAGE_SRC (msg))) >= 0)
    /* srtsrc (keep-listening) saw its caller close and listens again */
    mr_runner_source_state_at (r, index)->listening_anew = TRUE;
  else if (gst_structure_has_name (s, MR_TRANSPORT_SRT_REFUSED)
      && (index = mr_recipe_source_of_element (&r->recipe,
              GST_MESSAGE_SRC (msg))) >= 0)
    mr_runner_srt_caller_refused (r, index,
        gst_structure_get_string (s, "stream-id"));
  else if (gst_structure_has_name (s, "failoverselector-switched")
      && GST_MESSAGE_SRC (msg) == GST_OBJECT (r->recipe.selector))
    handle_switch (r, s);
  else if (gst_structure_has_name (s, "rtpst2022-7-merge")
      && GST_MESSAGE_SRC (msg) == GST_OBJECT (r->recipe.merger))
    mr_runner_handle_merge_message (r, s);
}

/* srtsink says "... Trying to reconnect" when its peer went away: a
 * disconnection even if it is back before the next sample.  It says so for
 * every buffer while the peer is away, so log and count once per outage. */
static void
handle_warning (MrRunner * r, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *output = mr_recipe_element_output (GST_MESSAGE_SRC (msg));
  MrEndpoint *out = output ?
      mr_flow_spec_find_output (r->spec, output, NULL) : NULL;

  gst_message_parse_warning (msg, &err, NULL);
  if (out && mr_runner_protocol_is_srt (out->protocol)
      && strstr (err->message, "reconnect")) {
    MrOutputState *st = mr_runner_output_state (r, out->name);

    if (st->link_up) {
      st->link_up = FALSE;
      st->disconnections++;
      emit (r, "connection_error", "warning", "output '%s': %s",
          out->name, err->message);
    }
    return;
  }
  g_message ("flow %s: warning from %s: %s", r->spec->id,
      GST_MESSAGE_SRC_NAME (msg), err->message);
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  MrRunner *r = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (msg) == GST_OBJECT (r->recipe.pipeline)) {
        GstState new_state;

        gst_message_parse_state_changed (msg, NULL, &new_state, NULL);
        if (new_state == GST_STATE_PLAYING && r->state == MR_FLOW_STARTING) {
          r->started_at = g_get_monotonic_time ();
          set_state (r, MR_FLOW_ACTIVE);
          emit (r, "flow_started", "info", "flow started on source '%s'",
              active_source_name (r));
          if (r->recipe.merger)
            mr_runner_merge_started (r);
        }
      }
      break;
    case GST_MESSAGE_ERROR:
      handle_error (r, msg);
      break;
    case GST_MESSAGE_WARNING:
      handle_warning (r, msg);
      break;
    case GST_MESSAGE_EOS:
      if (r->recipe.merger)
        mr_runner_merge_eof (r);
      else
        emit (r, "source_eof", "error", "source '%s' ended the stream",
            active_source_name (r));
      if (!r->fail_idle && r->state != MR_FLOW_ERROR)
        r->fail_idle = g_idle_add (fail_idle, r);
      break;
    case GST_MESSAGE_ELEMENT:
      handle_element_message (r, msg);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

gboolean
mr_runner_protocol_is_srt (MrProtocol p)
{
  return p == MR_PROTOCOL_SRT_LISTENER || p == MR_PROTOCOL_SRT_CALLER;
}

/* One output's counters as its sink counts them now (its transport reads
 * them): `bytes-sent`, `packets-sent`, `connected`, and `srt-*` for SRT.
 * NULL when the output has no sink now (waiting to reconnect). */
static GstStructure *
output_raw_stats (MrRunner * r, const MrEndpoint * out)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  MrOutputReading reading = { NULL, };

  reading.sink = mr_recipe_output_sink (&r->recipe, out);
  if (!reading.sink || !transport)
    return NULL;
  reading.in_branch = mr_recipe_output_counters (&r->recipe, out,
      &reading.branch_bytes, &reading.branch_packets, &reading.failed);
  return transport->read_output_stats (out, &reading);
}

GstStructure *
mr_runner_output_stats (MrRunner * r, const MrEndpoint * out)
{
  MrOutputState *st;
  GstStructure *s;

  if (!r->recipe.pipeline)
    return NULL;
  if (!(s = output_raw_stats (r, out)))
    s = gst_structure_new ("mroute-link-stats", "connected", G_TYPE_BOOLEAN,
        FALSE, NULL);
  st = mr_runner_output_state (r, out->name);
  gst_structure_set (s,
      "bytes-sent", G_TYPE_UINT64, mr_total_update (&st->bytes_sent,
          mr_runner_struct_u64 (s, "bytes-sent")),
      "packets-sent", G_TYPE_UINT64, mr_total_update (&st->packets_sent,
          mr_runner_struct_u64 (s, "packets-sent")), NULL);
  return s;
}

/* SRT figures of the running source, or FALSE */
gboolean
mr_runner_source_srt_stats (MrRunner * r, const MrEndpoint * src,
    MrSrtStats * st)
{
  g_autoptr (GstElement) bin = NULL;
  g_autoptr (GstElement) srtsrc = NULL;
  g_autofree gchar *bin_name = NULL;
  GstStructure *s = NULL;

  if (!mr_runner_protocol_is_srt (src->protocol) || !r->recipe.pipeline)
    return FALSE;
  bin_name = g_strdup_printf ("source-%s", src->name);
  bin = gst_bin_get_by_name (GST_BIN (r->recipe.pipeline), bin_name);
  if (bin)
    srtsrc = gst_bin_get_by_name (GST_BIN (bin), "srtsrc");
  if (!srtsrc)
    return FALSE;
  g_object_get (srtsrc, "stats", &s, NULL);
  mr_srt_stats_read (s, FALSE, st);
  g_clear_pointer (&s, gst_structure_free);
  return TRUE;
}

guint64
mr_runner_struct_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;

  if (s)
    gst_structure_get_uint64 (s, field, &v);
  return v;
}

/* A connection-oriented output (SRT) whose sink reconnects by itself: a
 * peer that went away is seen as the link going down between two samples. */
static void
watch_link (MrRunner * r, const MrEndpoint * out, const GstStructure * s)
{
  MrOutputState *st = mr_runner_output_state (r, out->name);
  gboolean up = FALSE, was_up = st->link_up;

  if (s)
    gst_structure_get_boolean (s, "connected", &up);
  if (up == was_up)
    return;
  st->link_up = up;
  if (was_up && !up) {
    st->disconnections++;
    note_attached (r, out);     /* connecting again from now */
    emit (r, "connection_error", "warning",
        "output '%s': the peer went away; connecting again", out->name);
  }
}

/* An SRT caller output that has not connected within this long after it
 * was attached or lost its peer failed to connect: counted, written as a
 * connection_error, and attached again after the back-off, as any output
 * that fails. */
#define SRT_CONNECT_TIMEOUT_US (5 * G_USEC_PER_SEC)

static void
watch_connecting (MrRunner * r, const MrEndpoint * out,
    const GstStructure * s, gint64 now)
{
  MrOutputState *st = mr_runner_output_state (r, out->name);
  gboolean up = FALSE;
  g_autoptr (GError) err = NULL;

  if (s)
    gst_structure_get_boolean (s, "connected", &up);
  if (up || !st->connecting_since
      || now - st->connecting_since < SRT_CONNECT_TIMEOUT_US
      || !mr_recipe_output_sink (&r->recipe, out))
    return;
  st->connecting_since = 0;
  err = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
      "could not connect to %s:%d within %d s", out->destination, out->port,
      (gint) (SRT_CONNECT_TIMEOUT_US / G_USEC_PER_SEC));
  handle_output_error (r, out->name, err);
}

static gboolean
sample (gpointer user_data)
{
  MrRunner *r = user_data;
  gint64 now = g_get_monotonic_time ();
  GstStructure *s = NULL;

  for (guint i = 0; i < r->spec->sources->len; i++) {
    MrSourceState *st;

    if (!r->recipe.source_stats[i])
      continue;
    st = mr_runner_source_state_at (r, i);
    g_object_get (r->recipe.source_stats[i], "stats", &s, NULL);
    mr_rate_update (&st->rate, mr_total_update (&st->bytes,
            mr_runner_struct_u64 (s, "bytes")), now);
    g_clear_pointer (&s, gst_structure_free);
  }
  for (guint i = 0; i < r->spec->outputs->len; i++) {
    MrEndpoint *out = r->spec->outputs->pdata[i];

    s = mr_runner_output_stats (r, out);
    mr_rate_update (&mr_runner_output_state (r, out->name)->rate,
        mr_runner_struct_u64 (s, "bytes-sent"), now);
    if (mr_runner_protocol_is_srt (out->protocol))
      watch_link (r, out, s);
    if (out->protocol == MR_PROTOCOL_SRT_CALLER)
      watch_connecting (r, out, s, now);
    g_clear_pointer (&s, gst_structure_free);
  }
  return G_SOURCE_CONTINUE;
}

gboolean
mr_runner_start (MrRunner * r, gboolean retry_sources, GError ** error)
{
  g_autoptr (GstBus) bus = NULL;
  GstStateChangeReturn ret;
  MrMonitorConfig monitor_config;
  GError *err = NULL;

  g_return_val_if_fail (r->state == MR_FLOW_STANDBY
      || r->state == MR_FLOW_ERROR, FALSE);

  set_state (r, MR_FLOW_STARTING);
  if (!mr_recipe_build (&r->recipe, r->spec, r->health_timeout_ms, &err))
    goto failed;
  /* metadata, thumbnails, content quality: never a reason not to run */
  mr_monitor_config_from_spec (&monitor_config, r->spec);
  r->monitor = mr_monitor_attach (r->recipe.pipeline, r->recipe.fanout,
      &monitor_config);

  bus = gst_pipeline_get_bus (GST_PIPELINE (r->recipe.pipeline));
  r->bus_watch = gst_bus_add_watch (bus, on_bus_message, r);

  /* the outputs and the monitoring first: every sink is async=false, so
   * the pipeline plays without a source; then each source on its own, so
   * that one that cannot start is retried (or named) alone */
  ret = gst_element_set_state (r->recipe.pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    g_autoptr (GstMessage) msg =
        gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_autofree gchar *debug = NULL;

    if (msg) {
      gst_message_parse_error (msg, &err, &debug);
      mr_recipe_error_add_reason (err, debug);
      g_prefix_error (&err, "%s: ", GST_MESSAGE_SRC_NAME (msg));
    } else {
      g_set_error_literal (&err, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
          "the pipeline could not start");
    }
    goto failed;
  }
  if (!mr_runner_start_sources (r, retry_sources, &err))
    goto failed;
  for (guint i = 0; i < r->spec->outputs->len; i++)
    note_attached (r, r->spec->outputs->pdata[i]);

  r->sample_timer = g_timeout_add (SAMPLE_INTERVAL_MS, sample, r);
  return TRUE;

failed:
  g_warning ("flow %s: cannot start: %s", r->spec->id, err->message);
  emit (r, "source_error", "error", "the flow could not start: %s",
      err->message);
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
      "the flow could not start: %s", err->message);
  g_error_free (err);
  teardown (r);
  set_state (r, MR_FLOW_ERROR);
  return FALSE;
}

void
mr_runner_stop (MrRunner * r)
{
  if (r->state == MR_FLOW_STANDBY)
    return;
  if (r->recipe.pipeline) {
    set_state (r, MR_FLOW_STOPPING);
    teardown (r);
    emit (r, "flow_stopped", "info", "flow stopped");
  }
  set_state (r, MR_FLOW_STANDBY);
}

static gboolean
endpoint_same_transport (const MrEndpoint * a, const MrEndpoint * b)
{
  return a->protocol == b->protocol && a->port == b->port
      && a->ingest_port == b->ingest_port
      && g_strcmp0 (a->destination, b->destination) == 0
      && g_strcmp0 (a->ingest_address, b->ingest_address) == 0
      && a->max_latency == b->max_latency && a->max_bitrate == b->max_bitrate
      && g_strcmp0 (a->stream_id, b->stream_id) == 0
      && g_strcmp0 (a->stream_key, b->stream_key) == 0
      && g_strcmp0 (a->cipher, b->cipher) == 0
      && g_strcmp0 (a->passphrase, b->passphrase) == 0;
}

static gboolean
output_is_live_changeable (const MrEndpoint * out)
{
  const MrTransport *transport = mr_transport_get (out->protocol);

  return transport && transport->output_live;
}

/* Brings the selector's sources from r->spec to @spec without touching
 * the ones that stay. */
static gboolean
update_failover_sources (MrRunner * r, const MrFlowSpec * spec,
    GPtrArray * failed)
{
  g_autoptr (GPtrArray) running = g_ptr_array_new ();    /* names, recipe order */
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < r->spec->sources->len; i++)
    g_ptr_array_add (running, ((MrEndpoint *) r->spec->sources->pdata[i])->name);

  /* stop the sources that went away or changed */
  for (guint i = 0; i < r->spec->sources->len; i++) {
    MrEndpoint *o = r->spec->sources->pdata[i];
    MrEndpoint *n = mr_flow_spec_find_source (spec, o->name, NULL);
    guint index;

    if (n && endpoint_same_transport (o, n))
      continue;
    if (!g_ptr_array_find_with_equal_func (running, o->name, g_str_equal,
            &index))
      continue;
    g_message ("flow %s: stopping source '%s'", r->spec->id, o->name);
    /* gone or another source under the same name: what we knew of it
     * (its state follows its name otherwise) goes */
    mr_runner_forget_source (r, o->name);
    mr_recipe_remove_source (&r->recipe, o->name, index);
    g_ptr_array_remove_index (running, index);
  }
  /* start the new ones, at their place in the new spec */
  for (guint i = 0; i < spec->sources->len; i++) {
    MrEndpoint *n = spec->sources->pdata[i];

    if (g_ptr_array_find_with_equal_func (running, n->name, g_str_equal,
            NULL))
      continue;
    g_message ("flow %s: starting source '%s'", r->spec->id, n->name);
    if (!mr_recipe_add_source (&r->recipe, spec, i, &error)) {
      /* tried again once the spec is in place */
      g_ptr_array_add (failed, g_strdup (n->name));
      g_ptr_array_add (failed, g_strdup (error->message));
      g_clear_error (&error);
    }
    g_ptr_array_insert (running, i, n->name);
  }
  mr_recipe_set_primary (&r->recipe, mr_recipe_pick_source (spec));
  return TRUE;
}

gboolean
mr_runner_update (MrRunner * r, const MrFlowSpec * spec)
{
  MrEndpoint *old_src = r->spec->sources->pdata[r->recipe.active_source];
  MrEndpoint *new_src;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) failed = g_ptr_array_new_with_free_func (g_free);

  if (!r->recipe.pipeline) {
    mr_flow_spec_free (r->spec);
    r->spec = mr_flow_spec_copy (spec);
    return TRUE;
  }

  /* FAILOVER and MERGE run every source: they come and go on the selector
   * or merger live */
  if (mr_recipe_uses_failover (r->spec) != mr_recipe_uses_failover (spec)
      || mr_recipe_uses_merge (r->spec) != mr_recipe_uses_merge (spec))
    return FALSE;
  if (mr_recipe_runs_all_sources (spec)
      && !update_failover_sources (r, spec, failed))
    return FALSE;
  if (r->recipe.merger && spec->recovery_window != r->spec->recovery_window)
    g_object_set (r->recipe.merger, "recovery-window",
        (guint) spec->recovery_window, NULL);

  /* otherwise, the one source that runs must stay the same */
  new_src = spec->sources->pdata[mr_recipe_pick_source (spec)];
  if (!mr_recipe_runs_all_sources (spec)
      && (!endpoint_same_transport (old_src, new_src)
          || g_strcmp0 (old_src->name, new_src->name) != 0))
    return FALSE;

  /* every output change must be one we can make live */
  for (guint i = 0; i < r->spec->outputs->len; i++) {
    MrEndpoint *o = r->spec->outputs->pdata[i];
    MrEndpoint *n = mr_flow_spec_find_output (spec, o->name, NULL);
    if ((!n || !endpoint_same_transport (o, n))
        && !output_is_live_changeable (o))
      return FALSE;
  }
  for (guint i = 0; i < spec->outputs->len; i++) {
    MrEndpoint *n = spec->outputs->pdata[i];
    MrEndpoint *o = mr_flow_spec_find_output (r->spec, n->name, NULL);
    if ((!o || !endpoint_same_transport (o, n))
        && !output_is_live_changeable (n))
      return FALSE;
  }

  /* first remove what went away or changed, then add the new */
  for (guint i = 0; i < r->spec->outputs->len; i++) {
    MrEndpoint *o = r->spec->outputs->pdata[i];
    MrEndpoint *n = mr_flow_spec_find_output (spec, o->name, NULL);
    if (!n || !endpoint_same_transport (o, n)) {
      output_end_life (r, o);
      mr_recipe_detach_output (&r->recipe, o);
      if (n) {
        /* changed: its counters go on, its rate and back-off start over */
        MrOutputState *st = mr_runner_output_state (r, o->name);

        g_clear_handle_id (&st->reconnect_timer, g_source_remove);
        st->reconnect_attempts = 0;
        memset (&st->rate, 0, sizeof (st->rate));
      } else {
        mr_runner_forget_output (r, o->name);
      }
    }
  }
  for (guint i = 0; i < spec->outputs->len; i++) {
    MrEndpoint *n = spec->outputs->pdata[i];
    MrEndpoint *o = mr_flow_spec_find_output (r->spec, n->name, NULL);
    if (!o || !endpoint_same_transport (o, n)) {
      note_attached (r, n);
      if (!mr_recipe_attach_output (&r->recipe, n, &error)) {
        emit (r, "connection_error", "error", "%s", error->message);
        g_clear_error (&error);
      }
    }
  }

  mr_flow_spec_free (r->spec);
  r->spec = mr_flow_spec_copy (spec);
  for (guint i = 0; i + 1 < failed->len; i += 2) {
    guint index;

    if (mr_flow_spec_find_source (r->spec, failed->pdata[i], &index))
      mr_runner_source_start_failed (r, index, failed->pdata[i + 1]);
  }
  return TRUE;
}

gboolean
mr_runner_refusal_is_news (gint64 * last)
{
  gint64 now = g_get_monotonic_time ();

  if (*last && now - *last < REFUSED_EVENT_INTERVAL_US)
    return FALSE;
  *last = now;
  return TRUE;
}

void
mr_runner_srt_rejected (MrRunner * r, const gchar * reason)
{
  MrEndpoint *src;
  MrSrtStats st;

  if (r->state != MR_FLOW_ACTIVE)
    return;
  src = r->spec->sources->pdata[r->recipe.active_source];
  if (src->passphrase && mr_runner_source_srt_stats (r, src, &st) && !st.connected
      && mr_runner_refusal_is_news (&mr_runner_source_state (r,
              src->name)->refused_at))
    emit (r, "source_error", "error", "source '%s': an SRT caller was "
        "refused: %s", src->name, reason);

  for (guint i = 0; i < r->spec->outputs->len; i++) {
    MrEndpoint *out = r->spec->outputs->pdata[i];
    GstStructure *s;
    gboolean up = FALSE;

    if (!mr_runner_protocol_is_srt (out->protocol) || !out->passphrase)
      continue;
    s = mr_runner_output_stats (r, out);
    if (s)
      gst_structure_get_boolean (s, "connected", &up);
    g_clear_pointer (&s, gst_structure_free);
    if (!up && mr_runner_refusal_is_news (&mr_runner_output_state (r,
                out->name)->refused_at))
      emit (r, "connection_error", "error", "output '%s': the SRT "
          "connection was refused: %s", out->name, reason);
  }
}

