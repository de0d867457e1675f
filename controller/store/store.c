/* mroute: the store's one interface; picks the backend from the DSN and
 * hands each call to it (store-private.h). */

#define G_LOG_DOMAIN "mroute-store"
#include "store-private.h"

#include <string.h>

G_DEFINE_QUARK (mr-store-error-quark, mr_store_error);

gboolean
mr_store_dsn_is_postgres (const gchar * dsn)
{
  if (!dsn)
    return FALSE;
  if (g_str_has_prefix (dsn, "postgresql://")
      || g_str_has_prefix (dsn, "postgres://"))
    return TRUE;
  /* a keyword=value conninfo; a file path with '=' and a space in it is
   * unlikely enough, and sqlite:PATH always means SQLite */
  if (g_str_has_prefix (dsn, "sqlite:"))
    return FALSE;
  return g_str_has_prefix (dsn, "host=") || g_str_has_prefix (dsn, "dbname=")
      || strstr (dsn, " host=") || strstr (dsn, " dbname=");
}

/* Replaces the text from @start up to the first character of @stop (or
 * the end) by "***". */
static void
mask_from (GString * s, gsize start, const gchar * stop)
{
  gsize end = start;

  while (end < s->len && !strchr (stop, s->str[end]))
    end++;
  g_string_erase (s, start, end - start);
  g_string_insert (s, start, "***");
}

gchar *
mr_store_dsn_for_log (const gchar * dsn)
{
  GString *s;
  const gchar *p;

  if (!dsn)
    return g_strdup ("(none)");
  s = g_string_new (dsn);
  if (g_str_has_prefix (dsn, "postgresql://")
      || g_str_has_prefix (dsn, "postgres://")) {
    gsize authority = strstr (dsn, "://") - dsn + 3;
    const gchar *at = strchr (s->str + authority, '@');
    const gchar *slash = strchr (s->str + authority, '/');
    const gchar *colon;

    /* user:password@ in the authority */
    if (at && (!slash || at < slash)) {
      colon = memchr (s->str + authority, ':', at - (s->str + authority));
      if (colon)
        mask_from (s, colon - s->str + 1, "@");
    }
    /* ?password=... or &password=... */
    for (gsize i = 0; (p = strstr (s->str + i, "password=")); ) {
      gsize at_key = p - s->str;

      i = at_key + 9;
      if (at_key > 0 && (s->str[at_key - 1] == '?' || s->str[at_key - 1]
              == '&'))
        mask_from (s, i, "&#");
    }
  } else {
    /* keyword=value conninfo: password=value or password='va lue' */
    for (gsize i = 0; (p = strstr (s->str + i, "password")); ) {
      gsize q = p - s->str + 8;

      i = q;
      if (p != s->str && !g_ascii_isspace (p[-1]))
        continue;
      while (q < s->len && g_ascii_isspace (s->str[q]))
        q++;
      if (q >= s->len || s->str[q] != '=')
        continue;
      q++;
      while (q < s->len && g_ascii_isspace (s->str[q]))
        q++;
      if (q < s->len && s->str[q] == '\'') {
        gsize end = q + 1;

        while (end < s->len && s->str[end] != '\'') {
          if (s->str[end] == '\\' && end + 1 < s->len)
            end++;
          end++;
        }
        if (end < s->len)
          end++;
        g_string_erase (s, q, end - q);
        g_string_insert (s, q, "***");
      } else {
        mask_from (s, q, " \t\n");
      }
      i = q + 3;
    }
  }
  return g_string_free (s, FALSE);
}

MrStore *
mr_store_open (const gchar * dsn, GError ** error)
{
  g_return_val_if_fail (dsn != NULL, NULL);

  if (mr_store_dsn_is_postgres (dsn))
    return mr_store_postgres_open (dsn, error);
  if (g_str_has_prefix (dsn, "sqlite:"))
    dsn += 7;
  if (!*dsn) {
    g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
        "database: an empty path");
    return NULL;
  }
  return mr_store_sqlite_open (dsn, error);
}

void
mr_store_close (MrStore * store)
{
  if (store)
    store->klass->close (store);
}

guint64
mr_store_queries (MrStore * store)
{
  return store->queries;
}

gboolean
mr_store_is_shared (MrStore * store)
{
  return store->klass->shared;
}

gboolean
mr_store_put_flow (MrStore * store, const gchar * id, const gchar * spec_json,
    guint redundancy, GError ** error)
{
  if (redundancy < 1 || redundancy > 2) {
    g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
        "database: flow %s: redundancy %u is not 1 or 2", id, redundancy);
    return FALSE;
  }
  return store->klass->put_flow (store, id, spec_json, redundancy, error);
}

gboolean
mr_store_delete_flow (MrStore * store, const gchar * id, GError ** error)
{
  return store->klass->delete_flow (store, id, error);
}

gboolean
mr_store_set_running (MrStore * store, const gchar * id, gboolean running,
    GError ** error)
{
  return store->klass->set_running (store, id, running, error);
}

gboolean
mr_store_foreach_flow (MrStore * store, MrStoreFlowFunc func,
    gpointer user_data, GError ** error)
{
  return store->klass->foreach_flow (store, func, user_data, error);
}

gboolean
mr_store_flow_versions (MrStore * store, GHashTable ** id_to_version,
    GError ** error)
{
  GHashTable *versions = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);

  if (!store->klass->flow_versions (store, versions, error)) {
    g_hash_table_unref (versions);
    return FALSE;
  }
  *id_to_version = versions;
  return TRUE;
}

gboolean
mr_store_get_flow (MrStore * store, const gchar * id, gchar ** spec_json,
    gboolean * running, gint64 * version, GError ** error)
{
  return store->klass->get_flow (store, id, spec_json, running, version,
      error);
}

gboolean
mr_store_add_event (MrStore * store, MrEvent * event, GError ** error)
{
  return store->klass->add_event (store, event, error);
}

GPtrArray *
mr_store_list_events (MrStore * store, const gchar * flow_id, guint limit,
    GError ** error)
{
  g_autoptr (GPtrArray) events =
      g_ptr_array_new_with_free_func ((GDestroyNotify) mr_event_free);

  if (!store->klass->list_events (store, flow_id, limit, events, error))
    return NULL;
  return g_steal_pointer (&events);
}

void
mr_store_node_free (MrStoreNode * node)
{
  if (!node)
    return;
  g_free (node->id);
  g_free (node->api_url);
  g_free (node->labels_json);
  g_free (node);
}

void
mr_store_lease_free (MrStoreLease * lease)
{
  if (!lease)
    return;
  g_free (lease->flow_id);
  g_free (lease->owner);
  g_free (lease->state);
  g_free (lease);
}

static gboolean
not_shared (MrStore * store, GError ** error)
{
  g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_SHARED,
      "database: nodes and leases need PostgreSQL ([storage] dsn = "
      "postgresql://...), this store is %s", store->klass->name);
  return FALSE;
}

gboolean
mr_store_node_heartbeat (MrStore * store, const gchar * node_id,
    const gchar * api_url, gint max_flows, const gchar * labels_json,
    GError ** error)
{
  g_return_val_if_fail (node_id != NULL && api_url != NULL, FALSE);

  if (!store->klass->node_heartbeat)
    return not_shared (store, error);
  return store->klass->node_heartbeat (store, node_id, api_url, max_flows,
      labels_json ? labels_json : "{}", error);
}

GPtrArray *
mr_store_list_nodes (MrStore * store, GError ** error)
{
  g_autoptr (GPtrArray) nodes =
      g_ptr_array_new_with_free_func ((GDestroyNotify) mr_store_node_free);

  if (!store->klass->list_nodes) {
    not_shared (store, error);
    return NULL;
  }
  if (!store->klass->list_nodes (store, nodes, error))
    return NULL;
  return g_steal_pointer (&nodes);
}

static GPtrArray *
new_leases (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_store_lease_free);
}

GPtrArray *
mr_store_renew_leases (MrStore * store, const gchar * node, guint lease_ms,
    GHashTable * states, GError ** error)
{
  g_autoptr (GPtrArray) leases = new_leases ();

  g_return_val_if_fail (node != NULL, NULL);

  if (!store->klass->renew_leases) {
    not_shared (store, error);
    return NULL;
  }
  if (!store->klass->renew_leases (store, node, lease_ms, states, leases,
          error))
    return NULL;
  return g_steal_pointer (&leases);
}

GPtrArray *
mr_store_claim_flows (MrStore * store, const gchar * node, guint max,
    guint lease_ms, MrStoreAcceptFunc accept, gpointer user_data,
    GError ** error)
{
  g_autoptr (GPtrArray) leases = new_leases ();

  g_return_val_if_fail (node != NULL, NULL);

  if (!store->klass->claim_flows) {
    not_shared (store, error);
    return NULL;
  }
  if (max > 0 && !store->klass->claim_flows (store, node, max, lease_ms,
          accept, user_data, leases, error))
    return NULL;
  return g_steal_pointer (&leases);
}

gboolean
mr_store_release_lease (MrStore * store, const gchar * node,
    const gchar * flow_id, guint slot, GError ** error)
{
  g_return_val_if_fail (node != NULL && flow_id != NULL, FALSE);

  if (!store->klass->release_lease)
    return not_shared (store, error);
  return store->klass->release_lease (store, node, flow_id, slot, error);
}

GPtrArray *
mr_store_list_leases (MrStore * store, GError ** error)
{
  g_autoptr (GPtrArray) leases = new_leases ();

  if (!store->klass->list_leases) {
    not_shared (store, error);
    return NULL;
  }
  if (!store->klass->list_leases (store, leases, error))
    return NULL;
  return g_steal_pointer (&leases);
}
