/* mroute: this node: its id (configured, or made once and kept), its API
 * URL, its labels, its heartbeat, and its look at the other nodes and
 * their leases. */

#define G_LOG_DOMAIN "mroute-cluster"
#include "cluster-private.h"

#include <string.h>

#define NODE_ID_FILE "node-id"

/* [cluster] node_id, else the id in node-id beside the data (made and
 * written there the first time) */
gchar *
mr_cluster_load_node_id (const MrConfig * config, GError ** error)
{
  g_autofree gchar *path = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *host = NULL;
  gchar *id;

  if (config->cluster_node_id)
    return g_strdup (config->cluster_node_id);
  path = mr_config_data_path (config, NODE_ID_FILE);
  if (g_file_get_contents (path, &text, NULL, NULL)) {
    g_strstrip (text);
    if (!mr_config_node_id_valid (text)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a "
          "node id (1 to 64 letters, digits, '-', '_' or '.'): remove it "
          "or set [cluster] node_id", path);
      return NULL;
    }
    return g_steal_pointer (&text);
  }
  /* the host name makes it readable; the random part keeps two
   * controllers of one host apart */
  host = g_strdup (g_get_host_name ());
  for (gchar * p = host; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      *p = '-';
  host[MIN (strlen (host), 40)] = '\0';
  id = g_strdup_printf ("%s-%08x", host, g_random_int ());
  if (!g_file_set_contents (path, id, -1, error)) {
    g_prefix_error (error, "keeping the new node id (set [cluster] node_id "
        "instead): ");
    g_free (id);
    return NULL;
  }
  g_message ("cluster: this node's new id %s, kept in %s", id, path);
  return id;
}

gchar *
mr_cluster_default_api_url (const MrConfig * config)
{
  const gchar *host = config->host;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);

  if (config->cluster_api_url)
    return g_strdup (config->cluster_api_url);
  if (addr && g_inet_address_get_is_any (addr))
    host = g_get_host_name ();
  else if (addr && g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("%s://[%s]:%d", config->tls_certificate ?
        "https" : "http", host, config->port);
  return g_strdup_printf ("%s://%s:%d", config->tls_certificate ? "https" :
      "http", host, config->port);
}

void
mr_cluster_warn (MrCluster * c, const gchar * what, const GError * error)
{
  gint64 now = g_get_monotonic_time ();

  if (c->last_warning && now - c->last_warning < 5 * G_USEC_PER_SEC)
    return;
  c->last_warning = now;
  g_warning ("cluster: %s: %s (said at most every 5 s)", what,
      error->message);
}

gboolean
mr_cluster_heartbeat (MrCluster * c, GError ** error)
{
  return mr_store_node_heartbeat (c->store, c->node_id, c->api_url,
      c->max_flows, c->labels_json, error);
}

void
mr_cluster_node_free (MrClusterNode * node)
{
  if (!node)
    return;
  g_free (node->id);
  g_free (node->api_url);
  g_strfreev (node->labels);
  g_free (node);
}

/* {"k": "v", ...} of a node's row into "k=v" strings */
static gchar **
labels_from_json (const gchar * json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  JsonNode *root;

  if (json && json_parser_load_from_data (parser, json, -1, NULL)
      && (root = json_parser_get_root (parser))
      && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonObjectIter iter;
    const gchar *k;
    JsonNode *v;

    json_object_iter_init_ordered (&iter, json_node_get_object (root));
    while (json_object_iter_next_ordered (&iter, &k, &v))
      if (JSON_NODE_HOLDS_VALUE (v)
          && json_node_get_value_type (v) == G_TYPE_STRING) {
        g_autofree gchar *pair = g_strdup_printf ("%s=%s", k,
            json_node_get_string (v));

        g_strv_builder_add (b, pair);
      }
  }
  return g_strv_builder_end (b);
}

void
mr_cluster_owner_free (MrClusterOwner * o)
{
  g_free (o->node);
  g_free (o);
}

/* The nodes and every live lease: the view (/health), the owners (for
 * forwarding), the states of flows run elsewhere (for the manager's
 * answers) */
gboolean
mr_cluster_look (MrCluster * c, GError ** error)
{
  g_autoptr (GPtrArray) rows = mr_store_list_nodes (c->store, error);
  g_autoptr (GPtrArray) leases = NULL;
  GHashTable *states;

  if (!rows || !(leases = mr_store_list_leases (c->store, error)))
    return FALSE;
  g_ptr_array_set_size (c->nodes, 0);
  for (guint i = 0; i < rows->len; i++) {
    MrStoreNode *row = rows->pdata[i];
    MrClusterNode *node = g_new0 (MrClusterNode, 1);

    node->id = g_strdup (row->id);
    node->api_url = g_strdup (row->api_url);
    node->alive = row->heartbeat_age_ms >= 0
        && row->heartbeat_age_ms <= (gint64) c->lease_ms;
    node->flows = row->flows;
    node->max_flows = row->max_flows;
    node->labels = labels_from_json (row->labels_json);
    g_ptr_array_add (c->nodes, node);
  }

  c->live_leases = leases->len;
  g_hash_table_remove_all (c->owners);
  states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < leases->len; i++) {
    MrStoreLease *l = leases->pdata[i];
    MrClusterOwner *o;

    if (g_strcmp0 (l->owner, c->node_id) == 0)
      continue;
    o = g_hash_table_lookup (c->owners, l->flow_id);
    if (!o || l->slot < o->slot) {
      o = g_new0 (MrClusterOwner, 1);
      o->node = g_strdup (l->owner);
      o->slot = l->slot;
      g_hash_table_replace (c->owners, g_strdup (l->flow_id), o);
      g_hash_table_replace (states, g_strdup (l->flow_id),
          g_strdup (l->state ? l->state : "starting"));
    }
  }
  mr_manager_set_remote_states (c->mgr, states);
  return TRUE;
}

GPtrArray *
mr_cluster_nodes (MrCluster * c)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_cluster_node_free);

  for (guint i = 0; i < c->nodes->len; i++) {
    MrClusterNode *n = c->nodes->pdata[i];
    MrClusterNode *copy = g_new0 (MrClusterNode, 1);

    *copy = *n;
    copy->id = g_strdup (n->id);
    copy->api_url = g_strdup (n->api_url);
    copy->labels = g_strdupv (n->labels);
    g_ptr_array_add (out, copy);
  }
  return out;
}

/* "placement": {"labels": {"k": "v"}}: every one must be ours */
gboolean
mr_cluster_accepts (const gchar * flow_id, const gchar * spec_json,
    gpointer user_data)
{
  MrCluster *c = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *obj, *placement, *labels;
  JsonObjectIter iter;
  const gchar *k;
  JsonNode *v;

  if (!json_parser_load_from_data (parser, spec_json, -1, NULL)
      || !(root = json_parser_get_root (parser))
      || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;               /* unreadable: no node runs it */
  obj = json_node_get_object (root);
  if (!json_object_has_member (obj, "placement")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, "placement")))
    return TRUE;
  placement = json_object_get_object_member (obj, "placement");
  if (!json_object_has_member (placement, "labels")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (placement,
              "labels")))
    return TRUE;
  labels = json_object_get_object_member (placement, "labels");
  json_object_iter_init_ordered (&iter, labels);
  while (json_object_iter_next_ordered (&iter, &k, &v)) {
    g_autofree gchar *pair = NULL;

    if (!JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_STRING)
      return FALSE;
    pair = g_strdup_printf ("%s=%s", k, json_node_get_string (v));
    if (!g_strv_contains ((const gchar * const *) c->labels, pair))
      return FALSE;
  }
  return TRUE;
}
