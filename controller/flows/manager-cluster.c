/* mroute: the manager in a shared store (PostgreSQL): every flow known,
 * only the leased ones run.  The cluster engine (controller/cluster/)
 * decides which; this file keeps the flows in line with the store and
 * starts, fences and stops their runners.  Standalone (SQLite) never gets
 * here. */

#define G_LOG_DOMAIN "mroute-manager"
#include "manager.h"

#include "core/core.h"
#include "manager-private.h"

gboolean
mr_manager_is_shared (MrManager * mgr)
{
  return mgr->shared;
}

void
mr_manager_join_cluster (MrManager * mgr, const gchar * node_id,
    void (*kick) (gpointer data), gpointer data)
{
  g_free (mgr->node_id);
  mgr->node_id = g_strdup (node_id);
  mgr->kick = kick;
  mgr->kick_data = data;
}

void
mr_manager_kick (MrManager * mgr)
{
  if (mgr->kick)
    mgr->kick (mgr->kick_data);
}

static MrFlowState
state_from_string (const gchar * s)
{
  for (MrFlowState st = MR_FLOW_STANDBY; st <= MR_FLOW_ERROR; st++)
    if (g_strcmp0 (s, mr_flow_state_to_string (st)) == 0)
      return st;
  return MR_FLOW_STARTING;
}

MrFlowState
mr_manager_flow_state (MrFlow * flow)
{
  MrManager *mgr = flow->mgr;
  const gchar *remote;

  if (!mgr->shared || flow->leased)
    return mr_runner_get_state (flow->runner);
  remote = g_hash_table_lookup (mgr->remote_states, flow->spec->id);
  if (remote)
    /* its owner stops it at its next look */
    return flow->want_running ? state_from_string (remote) : MR_FLOW_STOPPING;
  /* wanted, not placed yet: a node claims it at its next look */
  return flow->want_running ? MR_FLOW_STARTING : MR_FLOW_STANDBY;
}

void
mr_manager_set_remote_states (MrManager * mgr, GHashTable * states)
{
  g_hash_table_unref (mgr->remote_states);
  mgr->remote_states = states;
}

gboolean
mr_manager_wants_running (MrManager * mgr, const gchar * id)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

  return flow && flow->want_running;
}

gboolean
mr_manager_runs_here (MrManager * mgr, const gchar * id)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

  return flow && (!mgr->shared || flow->leased);
}

guint
mr_manager_wanted_legs (MrManager * mgr)
{
  guint n = 0;

  for (guint i = 0; i < mgr->flows->len; i++) {
    MrFlow *flow = mgr->flows->pdata[i];

    if (flow->want_running)
      n += MAX (flow->spec->redundancy, 1);
  }
  return n;
}

gchar *
mr_manager_stored_spec (MrManager * mgr, const gchar * id)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

  return flow ? mr_manager_stored_json (flow->spec) : NULL;
}

/* Flow @id as the store has it now: NULL when it is not stored (any more),
 * the copy this node has when the store cannot be read */
static MrFlow *
sync_one (MrManager * mgr, const gchar * id)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);
  g_autofree gchar *json = NULL;
  g_autofree gchar *ours = NULL;
  g_autoptr (GError) error = NULL;
  gboolean running = FALSE;
  gint64 version = 0;
  MrFlowSpec *spec, *old;

  if (!mr_store_get_flow (mgr->store, id, &json, &running, &version,
          &error)) {
    if (!g_error_matches (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_FOUND)) {
      g_warning ("flow %s: not read from the store, answering this node's "
          "copy: %s", id, error->message);
      return flow;
    }
    if (flow) {
      g_message ("flow %s: deleted on another node%s", id,
          flow->leased ? ", stopping it" : "");
      mr_manager_remove (mgr, flow);
    }
    return NULL;
  }
  if (flow && flow->version == version)
    return flow;
  if (!flow) {
    if (!(spec = mr_manager_parse_stored (id, json)))
      return NULL;
    flow = mr_manager_add (mgr, spec);
    g_message ("flow %s: created on another node", id);
  } else if (g_strcmp0 (json, (ours = mr_manager_stored_json (flow->spec)))) {
    if (!(spec = mr_manager_parse_stored (id, json)))
      return flow;
    old = flow->spec;
    flow->spec = spec;
    g_hash_table_replace (mgr->by_id, spec->id, flow);
    mr_flow_spec_free (old);
    g_message ("flow %s: configuration changed on another node", id);
    if (flow->leased)
      mr_manager_apply_spec (flow);
  }
  flow->want_running = running;
  flow->version = version;
  return flow;
}

MrFlow *
mr_manager_refresh (MrManager * mgr, const gchar * id)
{
  return sync_one (mgr, id);
}

void
mr_manager_refresh_all (MrManager * mgr)
{
  g_autoptr (GHashTable) versions = NULL;
  g_autoptr (GError) error = NULL;

  if (!mr_store_flow_versions (mgr->store, &versions, &error)) {
    g_warning ("the flows' versions not read from the store, answering "
        "this node's copies: %s", error->message);
    return;
  }
  mr_manager_sync (mgr, versions, NULL);
}

gboolean
mr_manager_sync (MrManager * mgr, GHashTable * versions, GError ** error)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();
  GHashTableIter iter;
  const gchar *id;
  gint64 *version;

  for (guint i = 0; i < mgr->flows->len; i++) {
    MrFlow *flow = mgr->flows->pdata[i];

    if (!g_hash_table_contains (versions, flow->spec->id))
      g_ptr_array_add (gone, flow);
  }
  for (guint i = 0; i < gone->len; i++) {
    MrFlow *flow = gone->pdata[i];

    g_message ("flow %s: deleted on another node%s", flow->spec->id,
        flow->leased ? ", stopping it" : "");
    mr_manager_remove (mgr, flow);
  }
  g_hash_table_iter_init (&iter, versions);
  while (g_hash_table_iter_next (&iter, (gpointer *) & id,
          (gpointer *) & version)) {
    MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

    if (!flow || flow->version != *version)
      sync_one (mgr, id);
  }
  return TRUE;
}

gboolean
mr_manager_run_leased (MrManager * mgr, const gchar * id, guint slot,
    gint64 fence_us, GError ** error)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);
  g_autoptr (GError) err = NULL;

  if (!flow)
    /* created after this node's last look */
    flow = sync_one (mgr, id);
  if (!flow) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "flow '%s' not found", id);
    return FALSE;
  }
  flow->leased = TRUE;
  flow->slot = slot;
  g_hash_table_remove (mgr->remote_states, id);
  mr_runner_stop (flow->runner);
  mr_runner_set_leg (flow->runner, slot);
  mr_runner_set_fence (flow->runner, fence_us);
  g_message ("flow %s: leased by this node (leg %u), starting it", id, slot);
  /* a start that fails leaves the flow in ERROR with an event saying why;
   * the lease stays here, so that the flow does not go round the nodes */
  mr_manager_run_flow (flow, TRUE, &err);
  return TRUE;
}

void
mr_manager_fence_leased (MrManager * mgr, const gchar * id, gint64 fence_us)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

  if (flow && flow->leased)
    mr_runner_set_fence (flow->runner, fence_us);
}

void
mr_manager_stop_leased (MrManager * mgr, const gchar * id, const gchar * why)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

  if (!flow || !flow->leased)
    return;
  g_message ("flow %s: stopping here: %s", id, why);
  flow->leased = FALSE;
  mr_runner_stop (flow->runner);
}

const gchar *
mr_manager_leased_state (MrManager * mgr, const gchar * id)
{
  MrFlow *flow = g_hash_table_lookup (mgr->by_id, id);

  if (!flow || !flow->leased)
    return NULL;
  return mr_flow_state_to_string (mr_runner_get_state (flow->runner));
}
