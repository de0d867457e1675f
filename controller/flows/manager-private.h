/* mroute: what the files of the manager share (manager.c: flows and their
 * lifecycle; manager-files.c: the files of a flow, HLS and recordings, and
 * retention).  Private to controller/flows/. */

#ifndef __MR_MANAGER_PRIVATE_H__
#define __MR_MANAGER_PRIVATE_H__

#include "manager.h"
#include "flow-runner.h"
#include "pipeline/pipeline.h"

G_BEGIN_DECLS

typedef struct
{
  MrManager *mgr;
  MrFlowSpec *spec;
  MrRunner *runner;
  gint64 running_since;         /* mr_clock_now_us () at the last start */
  /* shared store (manager-cluster.c) */
  gboolean want_running;        /* the store's running flag */
  gint64 version;               /* the store's version last applied, 0:
                                 * not read back yet */
  gboolean leased;              /* this node holds a lease on it: runs it */
  guint slot;                   /* its lease's slot (leg) */
} MrFlow;

struct _MrManager
{
  const MrConfig *config;       /* outlives the manager */
  gchar *recordings_root;       /* recordings/ beside the database */
  guint retention_timer;
  guint retention_idle;
  MrStore *store;
  gint max_flows;
  guint health_timeout_ms;
  GPtrArray *flows;             /* MrFlow*, in creation order */
  GHashTable *by_id;            /* id -> MrFlow* (borrowed) */
  GArray *listeners;            /* MrListener */
  guint maintenance_timer;
  MrRtspServer *rtsp;           /* serves the rtsp outputs, or NULL */
  /* shared store (manager-cluster.c) */
  gboolean shared;              /* PostgreSQL: runs only leased flows */
  gchar *node_id;               /* this node's, for the events */
  GHashTable *remote_states;    /* id -> state string of the flows leased
                                 * by other nodes, from the cluster's last
                                 * look */
  void (*kick) (gpointer data); /* a change the cluster should act on now */
  gpointer kick_data;
};

/* The flow @id, or NULL with NOT_FOUND */
MrFlow *mr_manager_lookup (MrManager * mgr, const gchar * id,
    GError ** error);

/* The flow's state: its runner's, or in a shared store for a flow
 * another node runs, what that node says (manager-cluster.c) */
MrFlowState mr_manager_flow_state (MrFlow * flow);
/* manager-cluster.c, a shared store: flow @id read again from the store
 * (NULL: not stored), and all of them */
MrFlow *mr_manager_refresh (MrManager * mgr, const gchar * id);
void mr_manager_refresh_all (MrManager * mgr);
/* manager-cluster.c: tells the cluster engine to look now */
void mr_manager_kick (MrManager * mgr);
/* Starts @flow's pipeline (manager.c) */
gboolean mr_manager_run_flow (MrFlow * flow, gboolean retry_sources,
    GError ** error);
/* Applies @flow's new spec to its running pipeline, restarting it when it
 * cannot take it live (manager.c) */
void mr_manager_apply_spec (MrFlow * flow);
/* Adds a flow of @spec (taken) (manager.c) */
MrFlow *mr_manager_add (MrManager * mgr, MrFlowSpec * spec);
/* Forgets @flow, stopped (manager.c) */
void mr_manager_remove (MrManager * mgr, MrFlow * flow);
/* Reads a stored spec, or NULL with a warning naming @id */
MrFlowSpec *mr_manager_parse_stored (const gchar * id,
    const gchar * spec_json);
/* The JSON stored for @spec */
gchar *mr_manager_stored_json (const MrFlowSpec * spec);

/* manager-files.c: retention at the first idle and on a timer */
void mr_manager_start_retention (MrManager * mgr);
/* the files of @spec's hls outputs, and their flow's folder */
void mr_manager_remove_hls_files (MrManager * mgr, const MrFlowSpec * spec);

G_END_DECLS

#endif /* __MR_MANAGER_PRIVATE_H__ */
