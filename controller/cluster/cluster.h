/* mroute: the cluster engine.  With a shared store (PostgreSQL) this
 * controller is a node: it says it is alive (a heartbeat row), holds
 * leases on the flows it runs and renews them, claims flows nobody runs
 * within its capacity and their placement labels, stops at once the flows
 * whose lease it lost, and forwards the live API calls on a flow another
 * node runs to that node.  docs/cluster.md tells the model.
 *
 * Main thread only; every store call is one round trip on the main loop,
 * every forwarded call is asynchronous. */

#ifndef __MR_CLUSTER_H__
#define __MR_CLUSTER_H__

#include <libsoup/soup.h>

#include "core/core.h"
#include "flows/manager.h"
#include "store/store.h"

G_BEGIN_DECLS

typedef struct _MrCluster MrCluster;

/* A node of @store (shared), running @mgr's flows.  Its id: [cluster]
 * node_id, else the one kept in node-id beside the data, else a new one
 * written there.  Its API URL: [cluster] api_url, else http://HOST:PORT of
 * [api] (the host name for 0.0.0.0 or ::). */
MrCluster *mr_cluster_new (const MrConfig * config, MrStore * store,
    MrManager * mgr, GError ** error);
/* First look now, then every [cluster] tick_ms */
void mr_cluster_start (MrCluster * cluster);
/* Stops this node's flows and gives their leases back, so that the other
 * nodes take them at once (a clean shutdown) */
void mr_cluster_leave (MrCluster * cluster);
void mr_cluster_free (MrCluster * cluster);

const gchar *mr_cluster_node_id (MrCluster * cluster);
/* Statements this node sent to the store since it started */
guint64 mr_cluster_store_queries (MrCluster * cluster);

/* ---------------------------------------------------------------------- */
/* the view of the cluster (GET /health), from the last look */

typedef struct
{
  gchar *id;
  gchar *api_url;
  gboolean alive;               /* its heartbeat is younger than a lease */
  guint flows;                  /* live leases it holds */
  gint max_flows;
  gchar **labels;               /* "k=v", NULL-terminated */
} MrClusterNode;

void mr_cluster_node_free (MrClusterNode * node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrClusterNode, mr_cluster_node_free);
/* MrClusterNode*, every node the store knows, by id */
GPtrArray *mr_cluster_nodes (MrCluster * cluster);

/* ---------------------------------------------------------------------- */
/* forwarding (forward.c) */

#define MR_CLUSTER_FORWARDED_HEADER "X-Mroute-Forwarded"

/* Answers @msg with what the node that runs flow @flow_id answers to the
 * same request, and returns TRUE, when another live node runs it and
 * @msg was not forwarded already; FALSE: answer it here.  The message is
 * paused until the owner answers (or 503 when it cannot be reached). */
gboolean mr_cluster_forward (MrCluster * cluster, SoupServerMessage * msg,
    const gchar * flow_id);

G_END_DECLS

#endif /* __MR_CLUSTER_H__ */
