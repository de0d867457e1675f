/* mroute: the store's backends, behind a class structure like
 * GStreamer's: store.c dispatches, store-sqlite.c and store-postgres.c
 * implement.  Not for use outside controller/store/. */

#ifndef __MR_STORE_PRIVATE_H__
#define __MR_STORE_PRIVATE_H__

#include "store.h"

G_BEGIN_DECLS

typedef struct
{
  const gchar *name;
  gboolean shared;

  void (*close) (MrStore * store);
  gboolean (*put_flow) (MrStore * store, const gchar * id,
      const gchar * spec_json, guint redundancy, GError ** error);
  gboolean (*delete_flow) (MrStore * store, const gchar * id,
      GError ** error);
  gboolean (*set_running) (MrStore * store, const gchar * id,
      gboolean running, GError ** error);
  gboolean (*foreach_flow) (MrStore * store, MrStoreFlowFunc func,
      gpointer user_data, GError ** error);
  gboolean (*flow_versions) (MrStore * store, GHashTable * id_to_version,
      GError ** error);
  gboolean (*get_flow) (MrStore * store, const gchar * id,
      gchar ** spec_json, gboolean * running, gint64 * version,
      GError ** error);
  gboolean (*add_event) (MrStore * store, MrEvent * event, GError ** error);
  gboolean (*list_events) (MrStore * store, const gchar * flow_id,
      guint limit, GPtrArray * events, GError ** error);

  /* cluster calls: NULL on a store that is not shared */
  gboolean (*node_heartbeat) (MrStore * store, const gchar * node_id,
      const gchar * api_url, gint max_flows, const gchar * labels_json,
      GError ** error);
  gboolean (*list_nodes) (MrStore * store, GPtrArray * nodes,
      GError ** error);
  gboolean (*renew_leases) (MrStore * store, const gchar * node,
      guint lease_ms, GHashTable * states, GPtrArray * leases,
      GError ** error);
  gboolean (*claim_flows) (MrStore * store, const gchar * node, guint max,
      guint lease_ms, MrStoreAcceptFunc accept, gpointer user_data,
      GPtrArray * leases, GError ** error);
  gboolean (*release_lease) (MrStore * store, const gchar * node,
      const gchar * flow_id, guint slot, GError ** error);
  gboolean (*list_leases) (MrStore * store, GPtrArray * leases,
      GError ** error);
} MrStoreClass;

/* The first member of each backend's own structure. */
struct _MrStore
{
  const MrStoreClass *klass;
  guint64 queries;              /* round trips to the server (PostgreSQL) */
};

MrStore *mr_store_sqlite_open (const gchar * path, GError ** error);
MrStore *mr_store_postgres_open (const gchar * conninfo, GError ** error);

G_END_DECLS

#endif /* __MR_STORE_PRIVATE_H__ */
