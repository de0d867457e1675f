/* mroute: one running flow: its lifecycle (start, live update, stop, the
 * end after a failure it cannot recover from), the bus watch and the
 * sampling timer.
 *
 * What a bus message means, and the events it becomes, is flow-events.c's;
 * how sources and outputs heal, flow-sources.c's and flow-outputs.c's;
 * what a protocol does, its transport's.  Nothing here tests a protocol. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner.h"

#include <string.h>
#include "flow-runner-private.h"

#include "pipeline/pipeline.h"

GST_DEBUG_CATEGORY_STATIC (mr_flow_debug);
#define GST_CAT_DEFAULT mr_flow_debug

#define SAMPLE_INTERVAL_MS 1000

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
  GST_DEBUG ("flow %s (%s): %s -> %s", r->spec->name, r->spec->id,
      mr_flow_state_to_string (r->state), mr_flow_state_to_string (state));
  r->state = state;
  if (r->callbacks.state_changed)
    r->callbacks.state_changed (r, state, r->user_data);
}

MrRunner *
mr_runner_new (const MrFlowSpec * spec, guint health_timeout_ms,
    const MrRunnerCallbacks * callbacks, gpointer user_data)
{
  static gsize debug_ready;
  MrRunner *r = g_new0 (MrRunner, 1);

  if (g_once_init_enter (&debug_ready)) {
    GST_DEBUG_CATEGORY_INIT (mr_flow_debug, "mroute-flow", 0,
        "mroute: running flows");
    g_once_init_leave (&debug_ready, 1);
  }
  r->health_timeout_ms = health_timeout_ms;
  r->spec = mr_flow_spec_for_leg (spec, 0);
  r->fence = mr_fence_new ();
  r->live.fence = r->fence;
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
  if (r->live.pipeline)
    gst_element_set_state (r->live.pipeline, GST_STATE_NULL);
  g_clear_pointer (&r->monitor, mr_monitor_free);
  memset (r->alarms_seen, 0, sizeof (r->alarms_seen));
  for (guint k = 0; k < MR_CONTENT_N_KINDS; k++)
    g_clear_pointer (&r->alarm_source[k], g_free);
  mr_live_pipeline_clear (&r->live);
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
  mr_fence_unref (r->fence);
  g_free (r->files_dir);
  g_free (r->recordings_root);
  g_free (r);
}

void
mr_runner_set_leg (MrRunner * r, guint slot)
{
  MrFlowSpec *spec;

  g_return_if_fail (slot < MR_MAX_LEGS);
  if (r->live.pipeline && slot != r->leg)
    g_warning ("flow %s: leg %u set while running: it takes effect at the "
        "next start", r->spec->id, slot);
  r->leg = slot;
  spec = mr_flow_spec_for_leg (r->spec, slot);
  mr_flow_spec_free (r->spec);
  r->spec = spec;
}

void
mr_runner_set_fence (MrRunner * r, gint64 deadline_us)
{
  mr_fence_set_deadline (r->fence, deadline_us);
}

guint64
mr_runner_fence_dropped (MrRunner * r)
{
  return mr_fence_get_dropped (r->fence);
}

void
mr_runner_set_read_interval (MrRunner * r, guint ms)
{
  r->live.read_interval = ms * GST_MSECOND;
}

void
mr_runner_set_files_dir (MrRunner * r, const gchar * dir)
{
  g_free (r->files_dir);
  r->live.files_dir = r->files_dir = g_strdup (dir);
}

void
mr_runner_set_recordings_root (MrRunner * r, const gchar * dir)
{
  g_free (r->recordings_root);
  r->recordings_root = g_strdup (dir);
}

/* The recording branch as @spec asks; a folder that cannot be made is an
 * event, never a reason for the flow not to run */
static void
attach_recording (MrRunner * r, const MrFlowSpec * spec)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = NULL;

  if (!spec->recording_enabled || !r->recordings_root)
    return;
  dir = mr_flow_spec_recording_dir (spec, r->recordings_root);
  if (!mr_live_pipeline_attach_recording (&r->live, dir,
          spec->recording_segment_duration, &error))
    mr_runner_emit (r, "recording_error", "error", "recording not started: "
        "%s", error->message);
}

static gboolean
recording_changed (const MrFlowSpec * a, const MrFlowSpec * b)
{
  return a->recording_enabled != b->recording_enabled
      || a->recording_segment_duration != b->recording_segment_duration
      || g_strcmp0 (a->recording_folder, b->recording_folder) != 0;
}

MrFlowState
mr_runner_get_state (MrRunner * r)
{
  return r->state;
}

/* Ends the session after a failure the flow cannot recover from. */
static gboolean
fail_idle (gpointer user_data)
{
  MrRunner *r = user_data;

  r->fail_idle = 0;
  mr_runner_events_content_closed (r);
  teardown (r);
  set_state (r, MR_FLOW_ERROR);
  return G_SOURCE_REMOVE;
}

/* The pipeline cannot go on: stop it outside the bus callback */
static void
fail_later (MrRunner * r)
{
  if (!r->fail_idle && r->state != MR_FLOW_ERROR)
    r->fail_idle = g_idle_add (fail_idle, r);
}

/* The runner keeps the lifecycle; what a message says happened, and what
 * the flow does about it, is flow-events.c's. */
static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  MrRunner *r = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (msg) == GST_OBJECT (r->live.pipeline)) {
        GstState new_state;

        gst_message_parse_state_changed (msg, NULL, &new_state, NULL);
        if (new_state == GST_STATE_PLAYING && r->state == MR_FLOW_STARTING) {
          r->started_at = g_get_monotonic_time ();
          set_state (r, MR_FLOW_ACTIVE);
          mr_runner_events_flow_started (r);
        }
      }
      break;
    case GST_MESSAGE_ERROR:
      if (mr_runner_events_error (r, msg))
        fail_later (r);
      break;
    case GST_MESSAGE_WARNING:
      mr_runner_events_warning (r, msg);
      break;
    case GST_MESSAGE_EOS:
      mr_runner_events_eos (r);
      fail_later (r);
      break;
    case GST_MESSAGE_ELEMENT:
      mr_runner_events_element (r, msg);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
sample (gpointer user_data)
{
  MrRunner *r = user_data;
  gint64 now = g_get_monotonic_time ();
  GstStructure *s = NULL;

  for (guint i = 0; i < r->spec->sources->len; i++) {
    MrSourceState *st;

    if (!r->live.source_stats[i])
      continue;
    st = mr_runner_source_state_at (r, i);
    g_object_get (r->live.source_stats[i], "stats", &s, NULL);
    mr_rate_update (&st->rate, mr_total_update (&st->bytes,
            mr_runner_struct_u64 (s, "bytes")), now);
    g_clear_pointer (&s, gst_structure_free);
  }
  for (guint i = 0; i < r->spec->outputs->len; i++) {
    MrEndpoint *out = r->spec->outputs->pdata[i];
    MrOutputStats stats;

    mr_runner_output_stats (r, out, &stats);
    mr_runner_output_sampled (r, out, &stats, now);
    mr_output_stats_clear (&stats);
  }
  mr_runner_events_content (r);
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
  if (!mr_live_pipeline_build (&r->live, r->spec, r->health_timeout_ms, &err))
    goto failed;
  /* metadata, thumbnails, content quality: never a reason not to run */
  mr_monitor_config_from_spec (&monitor_config, r->spec);
  r->monitor = mr_monitor_attach (r->live.pipeline, r->live.fanout,
      &monitor_config);

  bus = gst_pipeline_get_bus (GST_PIPELINE (r->live.pipeline));
  r->bus_watch = gst_bus_add_watch (bus, on_bus_message, r);
  attach_recording (r, r->spec);

  /* the outputs and the monitoring first: every sink is async=false, so
   * the pipeline plays without a source; then each source on its own, so
   * that one that cannot start is retried (or named) alone */
  ret = gst_element_set_state (r->live.pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    g_autoptr (GstMessage) msg =
        gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_autofree gchar *debug = NULL;

    if (msg) {
      gst_message_parse_error (msg, &err, &debug);
      mr_builder_error_add_reason (err, debug);
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
    mr_runner_output_attached (r, r->spec->outputs->pdata[i]);

  r->sample_timer = g_timeout_add (SAMPLE_INTERVAL_MS, sample, r);
  return TRUE;

failed:
  g_warning ("flow %s: cannot start: %s", r->spec->id, err->message);
  mr_runner_emit (r, "source_error", "error", "the flow could not start: %s",
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
  if (r->live.pipeline) {
    set_state (r, MR_FLOW_STOPPING);
    mr_runner_events_content_closed (r);
    teardown (r);
    mr_runner_emit (r, "flow_stopped", "info", "flow stopped");
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
      && a->max_latency == b->max_latency && a->min_latency == b->min_latency
      && a->max_bitrate == b->max_bitrate
      && g_strcmp0 (a->stream_id, b->stream_id) == 0
      && g_strcmp0 (a->stream_key, b->stream_key) == 0
      && g_strcmp0 (a->cipher, b->cipher) == 0
      && g_strcmp0 (a->passphrase, b->passphrase) == 0
      && g_strcmp0 (a->source_address, b->source_address) == 0
      && g_strcmp0 (a->iface, b->iface) == 0
      && a->ttl == b->ttl && a->dscp == b->dscp
      && a->segment_duration == b->segment_duration && a->window == b->window
      && g_strcmp0 (a->path, b->path) == 0
      && g_strcmp0 (a->user, b->user) == 0
      && g_strcmp0 (a->password, b->password) == 0;
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
  g_autoptr (GPtrArray) running = g_ptr_array_new ();    /* names, pipeline order */
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
    mr_live_pipeline_remove_source (&r->live, o->name, index);
    g_ptr_array_remove_index (running, index);
  }
  /* start the new ones, at their place in the new spec */
  for (guint i = 0; i < spec->sources->len; i++) {
    MrEndpoint *n = spec->sources->pdata[i];

    if (g_ptr_array_find_with_equal_func (running, n->name, g_str_equal,
            NULL))
      continue;
    g_message ("flow %s: starting source '%s'", r->spec->id, n->name);
    if (!mr_live_pipeline_add_source (&r->live, spec, i, &error)) {
      /* tried again once the spec is in place */
      g_ptr_array_add (failed, g_strdup (n->name));
      g_ptr_array_add (failed, g_strdup (error->message));
      g_clear_error (&error);
    }
    g_ptr_array_insert (running, i, n->name);
  }
  mr_live_pipeline_set_primary (&r->live, mr_builder_pick_source (spec));
  return TRUE;
}

/* The field of @spec whose change from r->spec the running pipeline cannot
 * take (it is built another way), or NULL.  The sources and outputs
 * themselves are mr_runner_update ()'s. */
static const gchar *
flow_field_needing_rebuild (MrRunner * r, const MrFlowSpec * spec)
{
  const MrEndpoint *running, *picked;

  /* a selector, a merger or neither: three pipelines */
  if (mr_builder_uses_failover (r->spec) != mr_builder_uses_failover (spec)
      || mr_builder_uses_merge (r->spec) != mr_builder_uses_merge (spec))
    return r->spec->failover_enabled != spec->failover_enabled ?
        "source_failover_config.state" : "source_failover_config.failover_mode";
  /* 1+1's RTP as it came: a tee of RTP before the tee of MPEG-TS */
  if (mr_builder_passes_rtp (r->spec) != mr_builder_passes_rtp (spec))
    return "redundancy";
  /* without them only the primary runs: another one is another pipeline */
  running = r->spec->sources->pdata[r->live.active_source];
  picked = spec->sources->pdata[mr_builder_pick_source (spec)];
  if (!mr_builder_runs_all_sources (spec)
      && g_strcmp0 (running->name, picked->name) != 0)
    return "source_failover_config.source_priority.primary_source";
  return NULL;
}

const gchar *
mr_runner_field_needing_stop (MrRunner * r, const MrFlowSpec * spec)
{
  g_autoptr (MrFlowSpec) sent = NULL;

  if (!r->live.pipeline)
    return NULL;
  sent = mr_flow_spec_for_leg (spec, r->leg);
  return flow_field_needing_rebuild (r, sent);
}

/* A new source_monitor_config: the monitoring branch is built again with
 * it, beside the outputs, which do not see it. */
static void
update_monitor (MrRunner * r, const MrFlowSpec * spec)
{
  MrMonitorConfig old_config, new_config;

  mr_monitor_config_from_spec (&old_config, r->spec);
  mr_monitor_config_from_spec (&new_config, spec);
  if (!r->monitor || (old_config.thumbnails == new_config.thumbnails
          && old_config.content_quality == new_config.content_quality
          && old_config.thumbnail_interval_sec ==
          new_config.thumbnail_interval_sec
          && old_config.black_threshold_sec == new_config.black_threshold_sec
          && old_config.frozen_threshold_sec ==
          new_config.frozen_threshold_sec
          && old_config.silent_threshold_sec ==
          new_config.silent_threshold_sec))
    return;
  g_message ("flow %s: monitoring again with thumbnails %s, content quality "
      "%s", spec->id, new_config.thumbnails ? "on" : "off",
      new_config.content_quality ? "on" : "off");
  mr_runner_events_content_closed (r);
  mr_monitor_detach (r->monitor);
  r->monitor = mr_monitor_attach (r->live.pipeline, r->live.fanout,
      &new_config);
}

gboolean
mr_runner_update (MrRunner * r, const MrFlowSpec * given)
{
  /* as this node sends it: its leg's destinations */
  g_autoptr (MrFlowSpec) sent = mr_flow_spec_for_leg (given, r->leg);
  const MrFlowSpec *spec = sent;
  MrEndpoint *old_src = r->spec->sources->pdata[r->live.active_source];
  MrEndpoint *new_src;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) failed = g_ptr_array_new_with_free_func (g_free);

  if (!r->live.pipeline) {
    mr_flow_spec_free (r->spec);
    r->spec = mr_flow_spec_copy (spec);
    return TRUE;
  }

  /* FAILOVER and MERGE run every source: they come and go on the selector
   * or merger live */
  if (flow_field_needing_rebuild (r, spec))
    return FALSE;
  if (mr_builder_runs_all_sources (spec)
      && !update_failover_sources (r, spec, failed))
    return FALSE;
  if (r->live.merger && spec->recovery_window != r->spec->recovery_window)
    g_object_set (r->live.merger, "recovery-window",
        (guint) spec->recovery_window, NULL);

  /* otherwise, the one source that runs must stay the same */
  new_src = spec->sources->pdata[mr_builder_pick_source (spec)];
  if (!mr_builder_runs_all_sources (spec)
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
      mr_runner_output_end_life (r, o);
      mr_live_pipeline_detach_output (&r->live, o);
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
      mr_runner_output_attached (r, n);
      if (!mr_live_pipeline_attach_output (&r->live, n, &error)) {
        mr_runner_emit (r, "connection_error", "error", "%s",
            error->message);
        g_clear_error (&error);
      }
    }
  }

  update_monitor (r, spec);
  if (recording_changed (r->spec, spec)) {
    mr_live_pipeline_detach_recording (&r->live);
    attach_recording (r, spec);
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
