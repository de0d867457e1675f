/* mroute: the cluster engine's object: made from the configuration, its
 * timer, its clean leave. */

#define G_LOG_DOMAIN "mroute-cluster"
#include "cluster-private.h"

/* "k=v,k2=v2" into "k=v" strings and {"k": "v"} */
static void
set_labels (MrCluster * c, const gchar * labels)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  c->labels = labels ? g_strsplit (labels, ",", -1) : g_new0 (gchar *, 1);
  json_builder_begin_object (b);
  for (guint i = 0; c->labels[i]; i++) {
    g_auto (GStrv) kv = g_strsplit (c->labels[i], "=", 2);

    json_builder_set_member_name (b, kv[0]);
    json_builder_add_string_value (b, kv[1] ? kv[1] : "");
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  c->labels_json = json_to_string (root, FALSE);
}

MrCluster *
mr_cluster_new (const MrConfig * config, MrStore * store, MrManager * mgr,
    GError ** error)
{
  g_autofree gchar *id = mr_cluster_load_node_id (config, error);
  MrCluster *c;

  if (!id)
    return NULL;
  c = g_new0 (MrCluster, 1);
  c->store = store;
  c->mgr = mgr;
  c->node_id = g_steal_pointer (&id);
  c->api_url = mr_cluster_default_api_url (config);
  set_labels (c, config->cluster_labels);
  c->max_flows = config->max_flows;
  c->lease_ms = config->cluster_lease_ms;
  c->tick_ms = config->cluster_tick_ms;
  c->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->fences = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  c->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_cluster_node_free);
  c->owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) mr_cluster_owner_free);
  c->session = soup_session_new_with_options ("timeout", 10,
      "idle-timeout", 30, "user-agent", "mroute-cluster ", NULL);
  mr_manager_join_cluster (mgr, c->node_id, mr_cluster_kick, c);
  g_message ("cluster: node %s (API %s, capacity %d flows, labels %s; "
      "leases of %u ms renewed every %u ms)", c->node_id, c->api_url,
      c->max_flows, config->cluster_labels ? config->cluster_labels :
      "none", c->lease_ms, c->tick_ms);
  return c;
}

void
mr_cluster_start (MrCluster * c)
{
  mr_cluster_tick (c);
  c->timer = g_timeout_add (c->tick_ms, mr_cluster_tick, c);
}

void
mr_cluster_leave (MrCluster * c)
{
  g_autoptr (GError) error = NULL;

  if (c->timer) {
    g_source_remove (c->timer);
    c->timer = 0;
  }
  if (c->kick_idle) {
    g_source_remove (c->kick_idle);
    c->kick_idle = 0;
  }
  if (c->max_flows > 0) {
    /* a capacity of 0 first: the others no longer count this node in
     * their share, and take all of its flows at their next tick */
    c->max_flows = 0;
    if (!mr_cluster_heartbeat (c, &error))
      mr_cluster_warn (c, "saying this node leaves", error);
  }
  mr_cluster_release_all (c);
}

void
mr_cluster_free (MrCluster * c)
{
  if (!c)
    return;
  mr_cluster_leave (c);
  mr_manager_join_cluster (c->mgr, c->node_id, NULL, NULL);
  soup_session_abort (c->session);
  g_object_unref (c->session);
  g_hash_table_unref (c->held);
  g_hash_table_unref (c->fences);
  g_hash_table_unref (c->owners);
  g_ptr_array_unref (c->nodes);
  g_strfreev (c->labels);
  g_free (c->labels_json);
  g_free (c->api_url);
  g_free (c->node_id);
  g_free (c);
}

guint64
mr_cluster_store_queries (MrCluster * c)
{
  return mr_store_queries (c->store);
}

const gchar *
mr_cluster_node_id (MrCluster * c)
{
  return c->node_id;
}
