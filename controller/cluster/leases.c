/* mroute: the lease loop.  Every tick: the heartbeat; the renewal of this
 * node's leases in one statement (a flow whose lease is no longer
 * answered stops now); the flows changed on other nodes; a look at the
 * nodes and leases; the claim of flows nobody runs, within the capacity
 * and the balance; the start of what was claimed.
 *
 * ## Fencing
 * A lease is renewed to now()+lease_ms by the database's clock; the node
 * fences each runner's outputs at the time it sent that renewal plus
 * lease_ms less a margin (by its own monotonic clock, which cannot run
 * ahead of the time the database saw).  A node that cannot renew (cut
 * from the database, or frozen by SIGSTOP) therefore drops every buffer
 * before another node can claim the flow, and stops the flow at its next
 * tick: never two owners sending at once.
 *
 * ## Balance
 * A node claims while it holds fewer than max (the even share of the
 * wanted legs over the live nodes, the least loaded live node's count +
 * 1), never more than its capacity.  The even share lets the survivors of
 * a node take its flows in one tick; nothing running ever moves, so a
 * node that comes back only gets new placements. */

#define G_LOG_DOMAIN "mroute-cluster"
#include "cluster-private.h"

/* the fence's margin before the lease's end: the time a buffer takes from
 * the fence to the wire, and the renewal's own trip */
static gint64
fence_margin_us (MrCluster * c)
{
  return MAX (c->lease_ms / 6, 100) * (gint64) 1000;
}

static void
set_fence (MrCluster * c, const gchar * id, gint64 fence)
{
  gint64 *f = g_hash_table_lookup (c->fences, id);

  if (!f) {
    f = g_new (gint64, 1);
    g_hash_table_insert (c->fences, g_strdup (id), f);
  }
  *f = fence;
  mr_manager_fence_leased (c->mgr, id, fence);
}

/* Stops flow @id here and forgets its lease (given back when @release) */
static void
drop (MrCluster * c, const gchar * id, gboolean release, const gchar * why)
{
  guint slot = GPOINTER_TO_UINT (g_hash_table_lookup (c->held, id)) - 1;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *key = g_strdup (id);

  mr_manager_stop_leased (c->mgr, key, why);
  g_hash_table_remove (c->held, key);
  g_hash_table_remove (c->fences, key);
  if (release && !mr_store_release_lease (c->store, c->node_id, key, slot,
          &error))
    mr_cluster_warn (c, "giving a lease back", error);
}

/* The database is out of reach: the runners' fences already drop what
 * they would send; those past their fence stop too, their leases may be
 * another node's by now */
static void
stop_fenced (MrCluster * c)
{
  g_autoptr (GPtrArray) lost = g_ptr_array_new_with_free_func (g_free);
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  const gchar *id;
  gint64 *fence;

  g_hash_table_iter_init (&iter, c->fences);
  while (g_hash_table_iter_next (&iter, (gpointer *) & id,
          (gpointer *) & fence))
    if (now > *fence)
      g_ptr_array_add (lost, g_strdup (id));
  for (guint i = 0; i < lost->len; i++)
    drop (c, lost->pdata[i], FALSE, "its lease could not be renewed in "
        "time (the database is out of reach)");
}

/* The renewal: answered leases get a new fence; the others are lost.
 * FALSE: the database did not answer */
static gboolean
renew (MrCluster * c)
{
  g_autoptr (GHashTable) states = g_hash_table_new_full (g_str_hash,
      g_str_equal, NULL, g_free);
  g_autoptr (GHashTable) answered = g_hash_table_new (g_str_hash,
      g_str_equal);
  g_autoptr (GPtrArray) renewed = NULL;
  g_autoptr (GPtrArray) lost = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  const gchar *id;
  gint64 sent = g_get_monotonic_time (), fence;

  g_hash_table_iter_init (&iter, c->held);
  while (g_hash_table_iter_next (&iter, (gpointer *) & id, NULL)) {
    const gchar *state = mr_manager_leased_state (c->mgr, id);

    if (state)
      g_hash_table_insert (states, (gpointer) id, g_strdup (state));
  }
  if (!(renewed = mr_store_renew_leases (c->store, c->node_id, c->lease_ms,
              states, &error))) {
    mr_cluster_warn (c, "renewing this node's leases", error);
    stop_fenced (c);
    return FALSE;
  }
  fence = sent + c->lease_ms * (gint64) 1000 - fence_margin_us (c);
  for (guint i = 0; i < renewed->len; i++) {
    MrStoreLease *l = renewed->pdata[i];
    g_autoptr (GError) err = NULL;

    g_hash_table_add (answered, l->flow_id);
    if (g_hash_table_contains (c->held, l->flow_id)) {
      set_fence (c, l->flow_id, fence);
      continue;
    }
    /* this node's lease from before it restarted, still live: it runs the
     * flow again rather than leave it to expire */
    g_hash_table_replace (c->held, g_strdup (l->flow_id),
        GUINT_TO_POINTER (l->slot + 1));
    set_fence (c, l->flow_id, fence);
    if (!mr_manager_run_leased (c->mgr, l->flow_id, l->slot, fence, &err))
      drop (c, l->flow_id, TRUE, err->message);
  }
  g_hash_table_iter_init (&iter, c->held);
  while (g_hash_table_iter_next (&iter, (gpointer *) & id, NULL))
    if (!g_hash_table_contains (answered, id))
      g_ptr_array_add (lost, g_strdup (id));
  for (guint i = 0; i < lost->len; i++)
    drop (c, lost->pdata[i], FALSE, "this node lost its lease (it expired "
        "and may be another node's now)");
  return TRUE;
}

/* Flows created, changed, started, stopped or deleted on other nodes */
static void
sync_flows (MrCluster * c)
{
  g_autoptr (GHashTable) versions = NULL;
  g_autoptr (GPtrArray) unwanted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  const gchar *id;

  if (!mr_store_flow_versions (c->store, &versions, &error)
      || !mr_manager_sync (c->mgr, versions, &error)) {
    mr_cluster_warn (c, "reading the flows' versions", error);
    return;
  }
  g_hash_table_iter_init (&iter, c->held);
  while (g_hash_table_iter_next (&iter, (gpointer *) & id, NULL))
    if (!mr_manager_wants_running (c->mgr, id))
      g_ptr_array_add (unwanted, g_strdup (id));
  for (guint i = 0; i < unwanted->len; i++)
    drop (c, unwanted->pdata[i], TRUE, "stopped or deleted");
}

/* How many more legs this node may claim now */
static gint
room (MrCluster * c)
{
  guint live = 0, wanted = mr_manager_wanted_legs (c->mgr);
  gint mine = g_hash_table_size (c->held), least = mine, share, most;

  for (guint i = 0; i < c->nodes->len; i++) {
    MrClusterNode *n = c->nodes->pdata[i];

    /* a node leaving says so with a capacity of 0 */
    if (g_strcmp0 (n->id, c->node_id) == 0 || !n->alive || n->max_flows <= 0)
      continue;
    live++;
    least = MIN (least, (gint) n->flows);
  }
  live++;                       /* this one */
  share = (wanted + live - 1) / live;
  most = MAX (share, least + 1);
  return MIN (c->max_flows, most) - mine;
}

static void
claim (MrCluster * c)
{
  g_autoptr (GPtrArray) claimed = NULL;
  g_autoptr (GError) error = NULL;
  gint n = room (c);
  gint64 sent, fence;

  /* every wanted leg has a live lease: nothing to claim, no statement */
  if (n <= 0 || mr_manager_wanted_legs (c->mgr) <= c->live_leases)
    return;
  sent = g_get_monotonic_time ();
  if (!(claimed = mr_store_claim_flows (c->store, c->node_id, n, c->lease_ms,
              mr_cluster_accepts, c, &error))) {
    mr_cluster_warn (c, "claiming flows", error);
    return;
  }
  fence = sent + c->lease_ms * (gint64) 1000 - fence_margin_us (c);
  for (guint i = 0; i < claimed->len; i++) {
    MrStoreLease *l = claimed->pdata[i];
    g_autoptr (GError) err = NULL;

    g_hash_table_replace (c->held, g_strdup (l->flow_id),
        GUINT_TO_POINTER (l->slot + 1));
    set_fence (c, l->flow_id, fence);
    if (!mr_manager_run_leased (c->mgr, l->flow_id, l->slot, fence, &err))
      drop (c, l->flow_id, TRUE, err->message);
  }
}

gboolean
mr_cluster_tick (gpointer user_data)
{
  MrCluster *c = user_data;
  g_autoptr (GError) error = NULL;

  /* a database out of reach costs each call its timeout on the main
   * loop: after the first failure this tick only stops what is fenced */
  if (!mr_cluster_heartbeat (c, &error)) {
    mr_cluster_warn (c, "heartbeat", error);
    stop_fenced (c);
    return G_SOURCE_CONTINUE;
  }
  if (!renew (c))
    return G_SOURCE_CONTINUE;
  sync_flows (c);
  if (!mr_cluster_look (c, &error)) {
    mr_cluster_warn (c, "reading the nodes and leases", error);
    return G_SOURCE_CONTINUE;
  }
  claim (c);
  return G_SOURCE_CONTINUE;
}

static gboolean
kick_idle (gpointer user_data)
{
  MrCluster *c = user_data;

  c->kick_idle = 0;
  mr_cluster_tick (c);
  return G_SOURCE_REMOVE;
}

void
mr_cluster_kick (gpointer user_data)
{
  MrCluster *c = user_data;

  if (!c->kick_idle)
    c->kick_idle = g_idle_add (kick_idle, c);
}

void
mr_cluster_release_all (MrCluster * c)
{
  GList *ids = g_hash_table_get_keys (c->held);

  for (GList * l = ids; l; l = l->next)
    l->data = g_strdup (l->data);
  for (GList * l = ids; l; l = l->next)
    drop (c, l->data, TRUE, "this node is shutting down, its lease given "
        "back");
  g_list_free_full (ids, g_free);
}
