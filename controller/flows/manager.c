/* mroute: the flow manager. */

#define G_LOG_DOMAIN "mroute-manager"
#include "manager.h"

#include "core/core.h"
#include "manager-private.h"

G_DEFINE_QUARK (mr-manager-error-quark, mr_manager_error);

typedef struct
{
  MrEventListener func;
  gpointer user_data;
} MrListener;

static gboolean maintenance_check (gpointer user_data);

static void
flow_free (MrFlow * flow)
{
  mr_runner_free (flow->runner);
  mr_flow_spec_free (flow->spec);
  g_free (flow);
}

/* The one RTSP server of the rtsp outputs.  One that cannot listen leaves
 * the controller running: its rtsp outputs fail and say why. */
static void
start_rtsp_server (MrManager * mgr)
{
  g_autoptr (GError) err = NULL;
  const gchar *host = mgr->config->host;

  if (host && (g_str_equal (host, "0.0.0.0") || g_str_equal (host, "::")))
    host = NULL;
  if (!(mgr->rtsp = mr_rtsp_server_new (host, mgr->config->rtsp_port, &err))) {
    g_warning ("the RTSP server cannot listen on port %d ([rtsp] port): %s",
        mgr->config->rtsp_port, err->message);
    return;
  }
  mr_rtsp_server_set_default (mgr->rtsp);
  g_message ("RTSP server started on port %d",
      mr_rtsp_server_get_port (mgr->rtsp));
}

/* Another flow serves an rtsp output of @spec under the same path: 409 */
static gboolean
check_rtsp_paths (MrManager * mgr, const MrFlowSpec * spec, GError ** error)
{
  for (guint i = 0; i < spec->outputs->len; i++) {
    const MrEndpoint *out = spec->outputs->pdata[i];

    if (!out->path)
      continue;
    for (guint f = 0; f < mgr->flows->len; f++) {
      const MrFlowSpec *other = ((MrFlow *) mgr->flows->pdata[f])->spec;

      if (g_strcmp0 (other->id, spec->id) == 0)
        continue;
      for (guint o = 0; o < other->outputs->len; o++) {
        const MrEndpoint *theirs = other->outputs->pdata[o];

        if (theirs->path && g_str_equal (theirs->path, out->path)) {
          g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_CONFLICT,
              "outputs[%u].path: '%s' is already served by output '%s' of "
              "flow '%s'", i, out->path, theirs->name, other->id);
          return FALSE;
        }
      }
    }
  }
  return TRUE;
}

MrManager *
mr_manager_new (const MrConfig * config, MrStore * store)
{
  MrManager *mgr = g_new0 (MrManager, 1);

  mgr->config = config;
  mgr->store = store;
  mgr->shared = mr_store_is_shared (store);
  mgr->remote_states = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);
  mgr->max_flows = config->max_flows;
  mgr->health_timeout_ms = config->health_timeout_ms;
  mgr->recordings_root = mr_config_data_path (config, "recordings");
  mgr->flows = g_ptr_array_new_with_free_func ((GDestroyNotify) flow_free);
  mgr->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  mgr->listeners = g_array_new (FALSE, FALSE, sizeof (MrListener));
  mgr->maintenance_timer = g_timeout_add_seconds (config->maintenance_check_sec,
      maintenance_check, mgr);
  start_rtsp_server (mgr);
  mr_manager_start_retention (mgr);
  return mgr;
}

void
mr_manager_free (MrManager * mgr)
{
  if (!mgr)
    return;
  if (mgr->maintenance_timer)
    g_source_remove (mgr->maintenance_timer);
  if (mgr->retention_timer)
    g_source_remove (mgr->retention_timer);
  if (mgr->retention_idle)
    g_source_remove (mgr->retention_idle);
  g_free (mgr->recordings_root);
  g_free (mgr->node_id);
  g_hash_table_unref (mgr->remote_states);
  g_hash_table_unref (mgr->by_id);
  g_ptr_array_unref (mgr->flows);
  mr_rtsp_server_free (mgr->rtsp);
  g_array_unref (mgr->listeners);
  g_free (mgr);
}

/* ---------------------------------------------------------------------- */
/* runner callbacks */

static void
on_event (MrRunner * runner, const gchar * type, const gchar * severity,
    const gchar * message, gpointer user_data)
{
  MrFlow *flow = user_data;
  MrEvent event = {
    .flow_id = flow->spec->id,
    .type = (gchar *) type,
    .severity = (gchar *) severity,
    .message = (gchar *) message,
    .timestamp = g_get_real_time (),
    .node_id = flow->mgr->node_id,
  };
  g_autoptr (GError) error = NULL;

  g_message ("flow %s: %s: %s", flow->spec->id, type, message);
  if (!mr_store_add_event (flow->mgr->store, &event, &error))
    g_warning ("flow %s: could not store event: %s", flow->spec->id,
        error->message);
  for (guint i = 0; i < flow->mgr->listeners->len; i++) {
    MrListener *l = &g_array_index (flow->mgr->listeners, MrListener, i);
    l->func (&event, flow->spec->name, l->user_data);
  }
}

const MrConfig *
mr_manager_get_config (MrManager * mgr)
{
  return mgr->config;
}

gchar *
mr_manager_flow_name (MrManager * mgr, const gchar * id)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

  return flow ? g_strdup (flow->spec->name) : NULL;
}

const gchar *
mr_manager_find_by_name (MrManager * mgr, const gchar * name, guint * count)
{
  const gchar *id = NULL;

  *count = 0;
  for (guint i = 0; i < mgr->flows->len; i++) {
    MrFlow *flow = mgr->flows->pdata[i];
    if (g_strcmp0 (flow->spec->name, name) == 0) {
      if (!id)
        id = flow->spec->id;
      (*count)++;
    }
  }
  return id;
}

void
mr_manager_add_event_listener (MrManager * mgr, MrEventListener func,
    gpointer user_data)
{
  MrListener l = { func, user_data };

  g_array_append_val (mgr->listeners, l);
}

void
mr_manager_remove_event_listener (MrManager * mgr, MrEventListener func,
    gpointer user_data)
{
  for (guint i = 0; i < mgr->listeners->len; i++) {
    MrListener *l = &g_array_index (mgr->listeners, MrListener, i);

    if (l->func == func && l->user_data == user_data) {
      g_array_remove_index (mgr->listeners, i);
      return;
    }
  }
}

static void
on_state_changed (MrRunner * runner, MrFlowState state, gpointer user_data)
{
  MrFlow *flow = user_data;

  g_message ("flow %s: %s", flow->spec->id, mr_flow_state_to_string (state));
}

static const MrRunnerCallbacks runner_callbacks = {
  .event = on_event,
  .state_changed = on_state_changed,
};

/* A standalone controller runs slot 0 of a 1+1 flow.  The tests run two
 * standalone controllers as the two nodes of a 1+1 flow (without a
 * cluster): MROUTE_TEST_STANDALONE_LEG=1 makes one of them run slot 1
 * (docs/cluster.md); not for production. */
static guint
standalone_leg (void)
{
  const gchar *leg = g_getenv ("MROUTE_TEST_STANDALONE_LEG");

  return leg && g_str_equal (leg, "1") ? 1 : 0;
}

MrFlow *
mr_manager_add (MrManager * mgr, MrFlowSpec * spec)
{
  MrFlow *flow = g_new0 (MrFlow, 1);

  flow->mgr = mgr;
  flow->spec = spec;
  g_autofree gchar *hls = mr_config_data_path (mgr->config, "hls");
  g_autofree gchar *files_dir = g_build_filename (hls, spec->id, NULL);

  flow->runner = mr_runner_new (spec, mgr->health_timeout_ms,
      &runner_callbacks, flow);
  mr_runner_set_files_dir (flow->runner, files_dir);
  mr_runner_set_read_interval (flow->runner, mgr->config->read_interval_ms);
  mr_runner_set_leg (flow->runner, standalone_leg ());
  mr_runner_set_recordings_root (flow->runner, mgr->recordings_root);
  g_ptr_array_add (mgr->flows, flow);
  g_hash_table_insert (mgr->by_id, spec->id, flow);
  return flow;
}

static gboolean
flow_is_running (MrFlow * flow)
{
  MrFlowState s = mr_runner_get_state (flow->runner);
  return s == MR_FLOW_STARTING || s == MR_FLOW_ACTIVE;
}

/* A start that fails leaves the flow in ERROR with an event saying why.
 * @retry_sources: a source that cannot start now is tried again later
 * (restarts nobody asked for: the daemon coming back, a maintenance
 * window, a configuration change); without, the start fails. */
gboolean
mr_manager_run_flow (MrFlow * flow, gboolean retry_sources, GError ** error)
{
  flow->running_since = mr_clock_now_us ();
  return mr_runner_start (flow->runner, retry_sources, error);
}

/* Every running flow inside its maintenance window after 24 hours or more
 * of running is restarted. */
static gboolean
maintenance_check (gpointer user_data)
{
  MrManager *mgr = user_data;
  gint64 now = mr_clock_now_us ();

  for (guint i = 0; i < mgr->flows->len; i++) {
    MrFlow *flow = mgr->flows->pdata[i];
    MrFlowSpec *spec = flow->spec;
    g_autoptr (GError) err = NULL;
    g_autofree gchar *msg = NULL;

    if (!spec->has_maintenance || !flow_is_running (flow)
        || !mr_maintenance_due (spec->maintenance_day,
            spec->maintenance_hour, flow->running_since, now))
      continue;
    msg = g_strdup_printf ("restarting after %" G_GINT64_FORMAT " hours of "
        "running, inside the maintenance window", (now - flow->running_since)
        / G_USEC_PER_SEC / 3600);
    on_event (flow->runner, "maintenance_restart", "info", msg, flow);
    mr_runner_stop (flow->runner);
    mr_manager_run_flow (flow, TRUE, &err);
  }
  return G_SOURCE_CONTINUE;
}

static MrFlowInfo *
flow_info (MrFlow * flow)
{
  return mr_flow_info_new (flow->spec, mr_manager_flow_state (flow));
}

MrFlow *
mr_manager_lookup (MrManager * mgr, const gchar * id, GError ** error)
{
  /* a shared store: what is committed, whichever node committed it */
  MrFlow *flow = mgr->shared ? mr_manager_refresh (mgr, id) :
      g_hash_table_lookup (mgr->by_id, id);

  if (!flow)
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "flow '%s' not found", id);
  return flow;
}

gchar *
mr_manager_stored_json (const MrFlowSpec * spec)
{
  g_autoptr (JsonNode) node = mr_flow_spec_to_json (spec, MR_SPEC_JSON_STORED,
      NULL);

  return json_to_string (node, FALSE);
}

static gboolean
persist (MrManager * mgr, const MrFlowSpec * spec, GError ** error)
{
  g_autofree gchar *json = mr_manager_stored_json (spec);
  GError *err = NULL;

  if (!mr_store_put_flow (mgr->store, spec->id, json, spec->redundancy,
          &err)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_STORAGE,
        "%s", err->message);
    g_error_free (err);
    return FALSE;
  }
  return TRUE;
}

static gboolean
set_running (MrManager * mgr, MrFlow * flow, gboolean running,
    GError ** error)
{
  GError *err = NULL;

  if (!mr_store_set_running (mgr->store, flow->spec->id, running, &err)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_STORAGE,
        "%s", err->message);
    g_error_free (err);
    return FALSE;
  }
  return TRUE;
}

/* An rtmp source of @spec that listens where one of another flow does,
 * with the same stream key (or at another address): 409 */
static gboolean
check_rtmp_listeners (MrManager * mgr, const MrFlowSpec * spec,
    const gchar * self_id, GError ** error)
{
  GHashTableIter iter;
  MrFlow *other;

  g_hash_table_iter_init (&iter, mgr->by_id);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & other)) {
    if (self_id && g_strcmp0 (other->spec->id, self_id) == 0)
      continue;
    for (guint i = 0; i < spec->sources->len; i++) {
      const MrEndpoint *a = spec->sources->pdata[i];

      for (guint j = 0; j < other->spec->sources->len; j++) {
        const MrEndpoint *b = other->spec->sources->pdata[j];
        gboolean clash = FALSE;

        if (mr_endpoint_rtmp_same_port (a, b, &clash) && clash) {
          /* never the key itself: it is what publishers authenticate with */
          g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_CONFLICT,
              "sources[%u].ingest_port: rtmp port %d is already listened on "
              "by source '%s' of flow '%s' %s", i, a->ingest_port, b->name,
              other->spec->name, g_strcmp0 (a->stream_id, b->stream_id) == 0
              ? "with the same stream_id" : "at another ingest_address");
          return FALSE;
        }
      }
    }
  }
  return TRUE;
}

/* Replaces the spec of @flow by @spec (taking it) once it is stored, and
 * applies it to the running pipeline. */
static gboolean
commit_spec (MrManager * mgr, MrFlow * flow, MrFlowSpec * spec,
    GError ** error)
{
  MrFlowSpec *old;

  spec->updated_at = g_get_real_time ();
  if (!mr_flow_spec_validate (spec, error)
      || !check_rtmp_listeners (mgr, spec, spec->id, error)
      || !check_rtsp_paths (mgr, spec, error) || !persist (mgr, spec, error)) {
    mr_flow_spec_free (spec);
    return FALSE;
  }
  old = flow->spec;
  flow->spec = spec;
  /* the hash key points into the spec: the table compares the new key
   * with the old one, so the old spec goes only after */
  g_hash_table_replace (mgr->by_id, spec->id, flow);
  mr_flow_spec_free (old);
  mr_manager_apply_spec (flow);
  return TRUE;
}

void
mr_manager_apply_spec (MrFlow * flow)
{
  MrFlowSpec *spec = flow->spec;

  if (!mr_runner_update (flow->runner, spec)) {
    g_autoptr (GError) err = NULL;

    g_message ("flow %s: restarting the pipeline for the new configuration",
        spec->id);
    mr_runner_stop (flow->runner);
    mr_runner_update (flow->runner, spec);
    mr_manager_run_flow (flow, TRUE, &err);
  }
}

/* ---------------------------------------------------------------------- */

MrFlowSpec *
mr_manager_parse_stored (const gchar * id, const gchar * spec_json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  MrFlowSpec *spec;

  if (!json_parser_load_from_data (parser, spec_json, -1, &error)
      || !(spec = mr_flow_spec_from_json (json_parser_get_root (parser),
              MR_SPEC_PARSE_STORED, warnings, &error))) {
    g_warning ("flow %s: stored configuration is unreadable, skipped: %s",
        id, error->message);
    return NULL;
  }
  /* a newer controller's fields, or a hand-edited database */
  for (guint i = 0; i < warnings->len; i++)
    g_warning ("flow %s: stored configuration: %s", id,
        (const gchar *) warnings->pdata[i]);
  if (g_strcmp0 (spec->id, id) != 0) {
    g_free (spec->id);
    spec->id = g_strdup (id);
  }
  return spec;
}

static void
restore_one (const gchar * id, const gchar * spec_json, gboolean running,
    gint64 version, gpointer user_data)
{
  MrManager *mgr = user_data;
  MrFlowSpec *spec = mr_manager_parse_stored (id, spec_json);
  MrFlow *added;

  if (!spec)
    return;
  added = mr_manager_add (mgr, spec);
  added->want_running = running;
  added->version = version;
  /* in a shared store the cluster engine runs what this node leases */
  if (running && !mgr->shared) {
    MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);
    g_autoptr (GError) err = NULL;

    g_message ("flow %s: was running, starting it again", id);
    mr_manager_run_flow (flow, TRUE, &err);
  }
}

gboolean
mr_manager_restore (MrManager * mgr, GError ** error)
{
  return mr_store_foreach_flow (mgr->store, restore_one, mgr, error);
}

void
mr_manager_shutdown (MrManager * mgr)
{
  for (guint i = 0; i < mgr->flows->len; i++) {
    MrFlow *flow = mgr->flows->pdata[i];
    mr_runner_stop (flow->runner);
  }
}

void
mr_manager_srt_rejected (const gchar * reason, gpointer user_data)
{
  MrManager *mgr = user_data;

  for (guint i = 0; i < mgr->flows->len; i++)
    mr_runner_srt_rejected (((MrFlow *) mgr->flows->pdata[i])->runner,
        reason);
}

void
mr_manager_counts (MrManager * mgr, guint * total, guint * active)
{
  *total = mgr->flows->len;
  *active = 0;
  for (guint i = 0; i < mgr->flows->len; i++)
    if (mr_manager_flow_state (mgr->flows->pdata[i]) == MR_FLOW_ACTIVE)
      (*active)++;
}

MrFlowInfo *
mr_manager_create_flow (MrManager * mgr, MrFlowSpec * spec, GError ** error)
{
  if (!check_rtmp_listeners (mgr, spec, NULL, error)) {
    mr_flow_spec_free (spec);
    return NULL;
  }
  do {
    g_free (spec->id);
    spec->id = mr_generate_flow_id ();
  } while (g_hash_table_contains (mgr->by_id, spec->id));
  spec->created_at = spec->updated_at = g_get_real_time ();

  if (!check_rtsp_paths (mgr, spec, error) || !persist (mgr, spec, error)) {
    mr_flow_spec_free (spec);
    return NULL;
  }
  return flow_info (mr_manager_add (mgr, spec));
}

static gint
compare_created (gconstpointer a, gconstpointer b)
{
  const MrFlowSpec *x = (*(MrFlowInfo * const *) a)->spec;
  const MrFlowSpec *y = (*(MrFlowInfo * const *) b)->spec;

  if (x->created_at != y->created_at)
    return x->created_at < y->created_at ? -1 : 1;
  return g_strcmp0 (x->id, y->id);
}

GPtrArray *
mr_manager_list_flows (MrManager * mgr)
{
  GPtrArray *flows;

  if (mgr->shared)
    mr_manager_refresh_all (mgr);
  flows = g_ptr_array_new_full (mgr->flows->len,
      (GDestroyNotify) mr_flow_info_free);

  for (guint i = 0; i < mgr->flows->len; i++)
    g_ptr_array_add (flows, flow_info (mgr->flows->pdata[i]));
  /* a node learns of flows made elsewhere in no order: every node answers
   * them in creation order */
  if (mgr->shared)
    g_ptr_array_sort (flows, compare_created);
  return flows;
}

MrFlowInfo *
mr_manager_get_flow (MrManager * mgr, const gchar * id, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);

  return flow ? flow_info (flow) : NULL;
}

gboolean
mr_manager_delete_flow (MrManager * mgr, const gchar * id, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  GError *err = NULL;

  if (!flow)
    return FALSE;
  mr_runner_stop (flow->runner);
  if (!mr_store_delete_flow (mgr->store, id, &err)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_STORAGE, "%s",
        err->message);
    g_error_free (err);
    return FALSE;
  }
  mr_manager_remove (mgr, flow);
  return TRUE;
}

void
mr_manager_remove (MrManager * mgr, MrFlow * flow)
{
  mr_runner_stop (flow->runner);
  mr_manager_remove_hls_files (mgr, flow->spec);
  g_hash_table_remove (mgr->remote_states, flow->spec->id);
  g_hash_table_remove (mgr->by_id, flow->spec->id);
  g_ptr_array_remove (mgr->flows, flow);
}

MrFlowInfo *
mr_manager_start_flow (MrManager * mgr, const gchar * id, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  g_autoptr (GError) err = NULL;
  guint total, active = 0;

  if (!flow)
    return NULL;
  if (mgr->shared) {
    /* the desired state, committed: the node that claims the flow starts
     * it (the cluster engine, at once when it is this one) */
    if (flow->want_running) {
      g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_CONFLICT,
          "flow '%s' is already running", id);
      return NULL;
    }
    if (!set_running (mgr, flow, TRUE, error))
      return NULL;
    flow->want_running = TRUE;
    mr_manager_kick (mgr);
    return flow_info (flow);
  }
  if (flow_is_running (flow)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_CONFLICT,
        "flow '%s' is already running", id);
    return NULL;
  }
  for (guint i = 0; i < mgr->flows->len; i++)
    active += flow_is_running (mgr->flows->pdata[i]);
  total = mgr->flows->len;
  if ((gint) active >= mgr->max_flows) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_CONFLICT,
        "%u of %u flows already run, the most this controller is "
        "configured for ([gstreamer] max_flows, ffmpeg.max_flows in YAML)",
        active, total);
    return NULL;
  }
  if (!set_running (mgr, flow, TRUE, error))
    return NULL;
  /* a start that fails leaves the flow in ERROR with an event saying why,
   * and answers why */
  if (!mr_manager_run_flow (flow, FALSE, &err)) {
    set_running (mgr, flow, FALSE, NULL);
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_CONFLICT,
        "flow '%s': %s", id, err->message);
    return NULL;
  }
  return flow_info (flow);
}

MrFlowInfo *
mr_manager_stop_flow (MrManager * mgr, const gchar * id, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);

  if (!flow)
    return NULL;
  if (!set_running (mgr, flow, FALSE, error))
    return NULL;
  flow->want_running = FALSE;
  /* a shared store's flow this node does not run stops on its owner, at
   * its next look (the cluster engine releases this node's lease) */
  mr_runner_stop (flow->runner);
  if (mgr->shared)
    mr_manager_kick (mgr);
  return flow_info (flow);
}

MrFlowSpec *
mr_manager_get_spec (MrManager * mgr, const gchar * id, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);

  return flow ? mr_flow_spec_copy (flow->spec) : NULL;
}

MrFlowInfo *
mr_manager_update_flow (MrManager * mgr, const gchar * id, MrFlowSpec * spec,
    GError ** error)
{
  g_autoptr (MrFlowSpec) given = spec;
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  MrFlowSpec *next;
  const gchar *field;

  if (!flow)
    return NULL;
  /* the flow's own fields from @spec; its sources, outputs, id and times
   * stay the flow's, whatever @spec says */
  next = mr_flow_spec_copy (flow->spec);
  g_free (next->name);
  next->name = g_strdup (given->name);
  g_free (next->description);
  next->description = g_strdup (given->description);
  next->failover_enabled = given->failover_enabled;
  next->failover_mode = given->failover_mode;
  next->recovery_window = given->recovery_window;
  g_free (next->primary_source);
  next->primary_source = g_strdup (given->primary_source);
  next->thumbnail_enabled = given->thumbnail_enabled;
  next->content_quality_enabled = given->content_quality_enabled;
  next->thumbnail_interval_sec = given->thumbnail_interval_sec;
  next->black_threshold_sec = given->black_threshold_sec;
  next->frozen_threshold_sec = given->frozen_threshold_sec;
  next->silent_threshold_sec = given->silent_threshold_sec;
  next->has_maintenance = given->has_maintenance;
  next->maintenance_day = given->maintenance_day;
  next->maintenance_hour = given->maintenance_hour;
  next->recording_enabled = given->recording_enabled;
  next->recording_segment_duration = given->recording_segment_duration;
  g_free (next->recording_folder);
  next->recording_folder = g_strdup (given->recording_folder);
  next->recording_delete_after = given->recording_delete_after;
  next->redundancy = given->redundancy;
  g_strfreev (next->placement_labels);
  next->placement_labels = g_strdupv (given->placement_labels);
  /* the flow's outputs with the new redundancy (legs need 2) */
  if (!mr_flow_spec_validate (next, error)) {
    mr_flow_spec_free (next);
    return NULL;
  }

  /* nothing changes, stored or running, unless all of it can change now */
  if ((field = mr_runner_field_needing_stop (flow->runner, next))) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NEEDS_STOP,
        "%s: cannot change while the flow is running: stop it first", field);
    mr_flow_spec_free (next);
    return NULL;
  }
  if (!commit_spec (mgr, flow, next, error))
    return NULL;
  return flow_info (flow);
}

/* The flow @id if it has room for one more @role */
static MrFlow *
lookup_with_room (MrManager * mgr, const gchar * id, MrEndpointRole role,
    GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);

  if (!flow)
    return NULL;
  if (role == MR_ENDPOINT_SOURCE
      && flow->spec->sources->len >= MR_MAX_SOURCES) {
    mr_spec_error_set (error, "sources", "a flow has at most %d sources",
        MR_MAX_SOURCES);
    return NULL;
  }
  if (role == MR_ENDPOINT_OUTPUT
      && flow->spec->outputs->len >= MR_MAX_OUTPUTS) {
    mr_spec_error_set (error, "outputs", "a flow has at most %d outputs",
        MR_MAX_OUTPUTS);
    return NULL;
  }
  return flow;
}

gboolean
mr_manager_check_room (MrManager * mgr, const gchar * id,
    MrEndpointRole role, GError ** error)
{
  return lookup_with_room (mgr, id, role, error) != NULL;
}

/* Adds @ep (taken) to the sources or the outputs of flow @id */
static MrFlowInfo *
add_endpoint (MrManager * mgr, const gchar * id, MrEndpointRole role,
    MrEndpoint * ep, GError ** error)
{
  gboolean source = role == MR_ENDPOINT_SOURCE;
  MrFlow *flow = lookup_with_room (mgr, id, role, error);
  MrFlowSpec *spec;

  if (!flow) {
    mr_endpoint_free (ep);
    return NULL;
  }
  if (source ? mr_flow_spec_find_source (flow->spec, ep->name, NULL) :
      mr_flow_spec_find_output (flow->spec, ep->name, NULL)) {
    mr_spec_error_set (error, "name", "%s named '%s' already exists",
        source ? "a source" : "an output", ep->name);
    mr_endpoint_free (ep);
    return NULL;
  }
  spec = mr_flow_spec_copy (flow->spec);
  g_ptr_array_add (source ? spec->sources : spec->outputs, ep);
  if (!commit_spec (mgr, flow, spec, error))
    return NULL;
  return flow_info (flow);
}

MrFlowInfo *
mr_manager_add_source (MrManager * mgr, const gchar * id, MrEndpoint * ep,
    GError ** error)
{
  return add_endpoint (mgr, id, MR_ENDPOINT_SOURCE, ep, error);
}

MrFlowInfo *
mr_manager_remove_source (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  MrFlowSpec *spec;
  guint index;

  if (!flow)
    return NULL;
  if (!mr_flow_spec_find_source (flow->spec, name, &index)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "flow '%s' has no source '%s'", id, name);
    return NULL;
  }
  if (flow->spec->sources->len == 1) {
    mr_spec_error_set (error, "source", "'%s' is the last source of the "
        "flow and cannot be removed", name);
    return NULL;
  }
  spec = mr_flow_spec_copy (flow->spec);
  g_ptr_array_remove_index (spec->sources, index);
  if (g_strcmp0 (spec->primary_source, name) == 0)
    g_clear_pointer (&spec->primary_source, g_free);
  if (!commit_spec (mgr, flow, spec, error))
    return NULL;
  return flow_info (flow);
}

MrFlowInfo *
mr_manager_add_output (MrManager * mgr, const gchar * id, MrEndpoint * ep,
    GError ** error)
{
  return add_endpoint (mgr, id, MR_ENDPOINT_OUTPUT, ep, error);
}

/* The flow @id and its output @name, at *@index */
static MrFlow *
lookup_output (MrManager * mgr, const gchar * id, const gchar * name,
    guint * index, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);

  if (!flow)
    return NULL;
  if (!mr_flow_spec_find_output (flow->spec, name, index)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "flow '%s' has no output '%s'", id, name);
    return NULL;
  }
  return flow;
}

MrEndpoint *
mr_manager_get_source (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  MrEndpoint *ep;

  if (!flow)
    return NULL;
  if (!(ep = mr_flow_spec_find_source (flow->spec, name, NULL))) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "flow '%s' has no source '%s'", id, name);
    return NULL;
  }
  return mr_endpoint_copy (ep);
}

MrEndpoint *
mr_manager_get_output (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error)
{
  MrFlow *flow;
  guint index;

  if (!(flow = lookup_output (mgr, id, name, &index, error)))
    return NULL;
  return mr_endpoint_copy (flow->spec->outputs->pdata[index]);
}

MrFlowInfo *
mr_manager_update_output (MrManager * mgr, const gchar * id,
    const gchar * name, MrEndpoint * ep, GError ** error)
{
  MrFlow *flow;
  MrFlowSpec *spec;
  guint index;

  if (!(flow = lookup_output (mgr, id, name, &index, error))) {
    mr_endpoint_free (ep);
    return NULL;
  }
  if (g_strcmp0 (ep->name, name) != 0
      && mr_flow_spec_find_output (flow->spec, ep->name, NULL)) {
    mr_spec_error_set (error, "name", "an output named '%s' already exists",
        ep->name);
    mr_endpoint_free (ep);
    return NULL;
  }
  spec = mr_flow_spec_copy (flow->spec);
  mr_endpoint_free (spec->outputs->pdata[index]);
  spec->outputs->pdata[index] = ep;
  if (!commit_spec (mgr, flow, spec, error))
    return NULL;
  return flow_info (flow);
}

MrFlowInfo *
mr_manager_remove_output (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  MrFlowSpec *spec;
  guint index;

  if (!flow)
    return NULL;
  if (!mr_flow_spec_find_output (flow->spec, name, &index)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "flow '%s' has no output '%s'", id, name);
    return NULL;
  }
  spec = mr_flow_spec_copy (flow->spec);
  g_ptr_array_remove_index (spec->outputs, index);
  if (!commit_spec (mgr, flow, spec, error))
    return NULL;
  return flow_info (flow);
}

MrFlowMetrics *
mr_manager_flow_metrics (MrManager * mgr, const gchar * id, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);

  if (!flow)
    return NULL;
  if (flow_is_running (flow))
    return mr_runner_metrics (flow->runner);
  return mr_runner_idle_metrics (flow->spec, mr_manager_flow_state (flow));
}

GPtrArray *
mr_manager_events (MrManager * mgr, const gchar * id, guint limit,
    GError ** error)
{
  GPtrArray *events;
  GError *err = NULL;

  if (id && !mr_manager_lookup (mgr, id, error))
    return NULL;
  if (!(events = mr_store_list_events (mgr->store, id, limit, &err))) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_STORAGE, "%s",
        err->message);
    g_error_free (err);
    return NULL;
  }
  return events;
}

/* ---------------------------------------------------------------------- */
/* source monitoring */

typedef gpointer (*MrMonitorGetter) (MrRunner * runner, GError ** error);

/* The runner's answer, its errors in the manager's terms */
static gpointer
monitoring (MrManager * mgr, const gchar * id, MrMonitorGetter get,
    GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  GError *err = NULL;
  gpointer answer;
  gint code;

  if (!flow)
    return NULL;
  if ((answer = get (flow->runner, &err)))
    return answer;
  switch (err->code) {
    case MR_RUNNER_ERROR_DISABLED:
      code = MR_MANAGER_ERROR_DISABLED;
      break;
    case MR_RUNNER_ERROR_NOT_RUNNING:
      code = MR_MANAGER_ERROR_CONFLICT;
      break;
    default:
      code = MR_MANAGER_ERROR_UNAVAILABLE;
      break;
  }
  g_set_error_literal (error, MR_MANAGER_ERROR, code, err->message);
  g_error_free (err);
  return NULL;
}

MrFlowInfo *
mr_manager_activate_source (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  GError *err = NULL;

  if (!flow)
    return NULL;
  if (mr_runner_activate_source (flow->runner, name, &err))
    return flow_info (flow);
  g_set_error_literal (error, MR_MANAGER_ERROR,
      err->code == MR_RUNNER_ERROR_NOT_FOUND ? MR_MANAGER_ERROR_NOT_FOUND :
      MR_MANAGER_ERROR_CONFLICT, err->message);
  g_error_free (err);
  return NULL;
}

MrThumbnail *
mr_manager_flow_thumbnail (MrManager * mgr, const gchar * id,
    GError ** error)
{
  return monitoring (mgr, id, (MrMonitorGetter) mr_runner_thumbnail, error);
}

MrStreamMetadata *
mr_manager_flow_metadata (MrManager * mgr, const gchar * id, GError ** error)
{
  return monitoring (mgr, id, (MrMonitorGetter) mr_runner_stream_metadata,
      error);
}

MrContentQuality *
mr_manager_flow_content_quality (MrManager * mgr, const gchar * id,
    GError ** error)
{
  return monitoring (mgr, id, (MrMonitorGetter) mr_runner_content_quality,
      error);
}
