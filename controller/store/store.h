/* mroute: persistence of flows and events, and the cluster's shared state.
 *
 * One interface, two backends chosen by mr_store_open ()'s DSN:
 * SQLite (a file path or sqlite:PATH; the embedded default, one machine)
 * in store-sqlite.c and PostgreSQL (postgresql://..., postgres://... or a
 * libpq "host=... dbname=..." conninfo; shared by the nodes of a cluster)
 * in store-postgres.c.  No HTTP, no GStreamer.  Both keep the same schema,
 * brought up to date by numbered migrations when the store opens
 * (docs/cluster.md, "Store").  A write that returns TRUE has committed.
 *
 * The store is used from the main thread only; PostgreSQL calls block
 * for one round trip each (two for mr_store_claim_flows ()).
 */

#ifndef __MR_STORE_H__
#define __MR_STORE_H__

#include <glib.h>

#include "core/core.h"

G_BEGIN_DECLS

#define MR_EVENTS_PER_FLOW 1000
#define MR_EVENTS_MAX_LIMIT 10000

#define MR_STORE_ERROR (mr_store_error_quark ())
GQuark mr_store_error_quark (void);

typedef enum
{
  MR_STORE_ERROR_FAILED,
  /* a cluster call on a store that is not shared (SQLite) */
  MR_STORE_ERROR_NOT_SHARED,
  /* mr_store_get_flow () of an id that is not stored */
  MR_STORE_ERROR_NOT_FOUND,
  /* the database was migrated by a newer mroute */
  MR_STORE_ERROR_TOO_NEW,
} MrStoreError;

typedef struct _MrStore MrStore;

/* @dsn: "postgresql://...", "postgres://..." or a conninfo with host= or
 * dbname= for PostgreSQL; "sqlite:PATH" or a plain PATH for SQLite. */
MrStore *mr_store_open (const gchar * dsn, GError ** error);
void mr_store_close (MrStore * store);

/* TRUE if @dsn names a PostgreSQL database. */
gboolean mr_store_dsn_is_postgres (const gchar * dsn);
/* @dsn with any password replaced by "***", for logs and messages. */
gchar *mr_store_dsn_for_log (const gchar * dsn);

/* TRUE on PostgreSQL: other nodes see the same flows, nodes and leases. */
gboolean mr_store_is_shared (MrStore * store);
/* Statements sent to the server since the store was opened (PostgreSQL:
 * each a round trip; SQLite: 0) */
guint64 mr_store_queries (MrStore * store);

/* @redundancy: how many nodes run the flow at once, 1 or 2.  Every put
 * and set_running gives the flow a new, higher version. */
gboolean mr_store_put_flow (MrStore * store, const gchar * id,
    const gchar * spec_json, guint redundancy, GError ** error);
/* Deletes the flow, all its events and its leases in one transaction. */
gboolean mr_store_delete_flow (MrStore * store, const gchar * id,
    GError ** error);
gboolean mr_store_set_running (MrStore * store, const gchar * id,
    gboolean running, GError ** error);

/* Oldest created first. */
typedef void (*MrStoreFlowFunc) (const gchar * id, const gchar * spec_json,
    gboolean running, gint64 version, gpointer user_data);
gboolean mr_store_foreach_flow (MrStore * store, MrStoreFlowFunc func,
    gpointer user_data, GError ** error);

/* Every stored flow's id -> its version (gint64 *), for a node to see
 * what changed on others; *@id_to_version is the caller's. */
gboolean mr_store_flow_versions (MrStore * store,
    GHashTable ** id_to_version, GError ** error);
/* One flow; MR_STORE_ERROR_NOT_FOUND if @id is not stored.  Each out
 * argument may be NULL. */
gboolean mr_store_get_flow (MrStore * store, const gchar * id,
    gchar ** spec_json, gboolean * running, gint64 * version,
    GError ** error);

/* Appends an event and prunes the flow's events to MR_EVENTS_PER_FLOW.
 * Sets @event's id. */
gboolean mr_store_add_event (MrStore * store, MrEvent * event,
    GError ** error);
/* Newest first; @flow_id NULL for all flows. */
GPtrArray *mr_store_list_events (MrStore * store, const gchar * flow_id,
    guint limit, GError ** error);

/* The cluster calls below need a shared store: on SQLite they fail with
 * MR_STORE_ERROR_NOT_SHARED.  Times are the database's clock. */

typedef struct
{
  gchar *id;
  gchar *api_url;
  gchar *labels_json;           /* a JSON object, "{}" without labels */
  gint max_flows;
  gint64 heartbeat_age_ms;      /* since its last heartbeat */
  guint flows;                  /* unexpired leases it holds */
} MrStoreNode;

void mr_store_node_free (MrStoreNode * node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrStoreNode, mr_store_node_free);

/* Inserts or updates @node_id's row with heartbeat_at = now(); the first
 * heartbeat of this store also sets started_at.  @labels_json NULL: "{}". */
gboolean mr_store_node_heartbeat (MrStore * store, const gchar * node_id,
    const gchar * api_url, gint max_flows, const gchar * labels_json,
    GError ** error);
/* MrStoreNode *, every node that ever sent a heartbeat, by id. */
GPtrArray *mr_store_list_nodes (MrStore * store, GError ** error);

typedef struct
{
  gchar *flow_id;
  guint slot;                   /* 0, or 1 for a flow's second node */
  gchar *owner;
  gint64 expires_in_ms;
  gchar *state;                 /* as the owner last renewed it, or NULL */
} MrStoreLease;

void mr_store_lease_free (MrStoreLease * lease);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrStoreLease, mr_store_lease_free);

/* Renews, in one statement, every unexpired lease of @node to
 * now() + @lease_ms and answers them (MrStoreLease *); @states: optional
 * flow_id -> state string (gchar *) written into the renewed rows.
 * Expired leases are neither renewed nor answered. */
GPtrArray *mr_store_renew_leases (MrStore * store, const gchar * node,
    guint lease_ms, GHashTable * states, GError ** error);

/* TRUE to take the flow (placement labels). */
typedef gboolean (*MrStoreAcceptFunc) (const gchar * flow_id,
    const gchar * spec_json, gpointer user_data);
/* Claims (flow, slot) pairs of flows with running = 1 and slot <
 * redundancy that have no lease or an expired one, oldest created first,
 * at most @max, never both slots of one flow for @node, each accepted by
 * @accept (NULL: all); writes owner = @node, expires_at = now() +
 * @lease_ms in one statement that locks the flows FOR UPDATE SKIP LOCKED
 * and takes a lease only if it is still free then.  Answers the leases
 * claimed (MrStoreLease *), maybe none. */
GPtrArray *mr_store_claim_flows (MrStore * store, const gchar * node,
    guint max, guint lease_ms, MrStoreAcceptFunc accept, gpointer user_data,
    GError ** error);
/* Deletes @node's lease of (@flow_id, @slot), if it holds it. */
gboolean mr_store_release_lease (MrStore * store, const gchar * node,
    const gchar * flow_id, guint slot, GError ** error);
/* MrStoreLease *, every unexpired lease, by flow id and slot. */
GPtrArray *mr_store_list_leases (MrStore * store, GError ** error);

G_END_DECLS

#endif /* __MR_STORE_H__ */
