/* mroute: what the files of the cluster engine share (cluster.c: the
 * object and its view; node.c: the node's identity and heartbeat;
 * leases.c: the lease loop; forward.c: the forwarding of live calls).
 * Private to controller/cluster/. */

#ifndef __MR_CLUSTER_PRIVATE_H__
#define __MR_CLUSTER_PRIVATE_H__

#include "cluster.h"

G_BEGIN_DECLS

typedef struct
{
  gchar *node;                  /* the owner's id */
  guint slot;
} MrClusterOwner;

struct _MrCluster
{
  MrStore *store;
  MrManager *mgr;
  gchar *node_id;
  gchar *api_url;
  gchar *labels_json;           /* {"k": "v"} */
  gchar **labels;               /* "k=v", NULL-terminated */
  gint max_flows;
  guint lease_ms;
  guint tick_ms;
  guint timer;
  guint kick_idle;
  GHashTable *held;             /* flow id -> slot + 1 (GUINT_TO_POINTER) */
  GHashTable *fences;           /* flow id -> gint64* fence of its runner */
  GPtrArray *nodes;             /* MrClusterNode*, from the last look */
  guint live_leases;            /* every node's, at the last look */
  GHashTable *owners;           /* flow id -> MrClusterOwner* (slot 0
                                 * first), other nodes' live leases */
  SoupSession *session;         /* forward.c */
  gint64 last_warning;          /* monotonic µs: store errors said at most
                                 * every few seconds */
};

/* node.c */
void mr_cluster_owner_free (MrClusterOwner * owner);
gchar *mr_cluster_load_node_id (const MrConfig * config, GError ** error);
gchar *mr_cluster_default_api_url (const MrConfig * config);
gboolean mr_cluster_heartbeat (MrCluster * cluster, GError ** error);
/* the nodes and their leases, for the view and the claims */
gboolean mr_cluster_look (MrCluster * cluster, GError ** error);
/* placement: every label of @spec_json's placement is one of ours */
gboolean mr_cluster_accepts (const gchar * flow_id, const gchar * spec_json,
    gpointer cluster);

/* leases.c */
gboolean mr_cluster_tick (gpointer cluster);
void mr_cluster_kick (gpointer cluster);
void mr_cluster_release_all (MrCluster * cluster);

/* a store error, said at most every 5 s */
void mr_cluster_warn (MrCluster * cluster, const gchar * what,
    const GError * error);

G_END_DECLS

#endif /* __MR_CLUSTER_PRIVATE_H__ */
