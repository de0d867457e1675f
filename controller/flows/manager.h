/* mroute: the flow manager.  Flow id to spec and runner, the lifecycle
 * rules, persistence of every change before it is acknowledged, and the
 * event log.  The API calls only this; this calls the store and runners.
 *
 * Typed data in and out (flow-metrics.h): it takes specs and endpoints
 * the API parsed from the request, and answers copies of flows, metrics
 * and monitoring structs that the API renders.  No JSON of a client's
 * here.
 *
 * The one header other layers include.
 */

#ifndef __MR_MANAGER_H__
#define __MR_MANAGER_H__

#include <glib.h>

#include "core/core.h"
#include "flows/flow-metrics.h"
#include "store/store.h"

G_BEGIN_DECLS

#define MR_MANAGER_ERROR (mr_manager_error_quark ())
GQuark mr_manager_error_quark (void);
typedef enum
{
  MR_MANAGER_ERROR_NOT_FOUND,   /* 404 */
  MR_MANAGER_ERROR_CONFLICT,    /* 409 */
  MR_MANAGER_ERROR_STORAGE,     /* 500 */
  MR_MANAGER_ERROR_DISABLED,    /* 409: a feature the flow's configuration
                                 * turns off; the message starts with its
                                 * field ("FIELD: ...") */
  MR_MANAGER_ERROR_UNAVAILABLE, /* 503: not there yet, ask again */
  MR_MANAGER_ERROR_NEEDS_STOP,  /* 409: a change the running flow cannot
                                 * take; the message starts with its field
                                 * ("FIELD: ...") */
} MrManagerError;
/* Validation errors come as MR_SPEC_ERROR (400). */

typedef struct _MrManager MrManager;

MrManager *mr_manager_new (const MrConfig * config, MrStore * store);
/* Loads the stored flows and starts those that were running. */
gboolean mr_manager_restore (MrManager * mgr, GError ** error);
/* Stops every pipeline; flows that run stay marked to run again. */
void mr_manager_shutdown (MrManager * mgr);
void mr_manager_free (MrManager * mgr);

void mr_manager_counts (MrManager * mgr, guint * total, guint * active);

/* The configuration it was made with */
const MrConfig *mr_manager_get_config (MrManager * mgr);
/* The name of flow @id as this controller knows it, or NULL; never reads
 * the store (the log's flow namer: logging from a store read must not read
 * the store again) */
gchar *mr_manager_flow_name (MrManager * mgr, const gchar * id);
/* The id of the oldest flow named @name, or NULL; @count: how many are */
const gchar *mr_manager_find_by_name (MrManager * mgr, const gchar * name,
    guint * count);

/* Called on the main thread for every event, after it is stored (alerts,
 * webhooks).  Must not block. */
typedef void (*MrEventListener) (const MrEvent * event,
    const gchar * flow_name, gpointer user_data);
void mr_manager_add_event_listener (MrManager * mgr, MrEventListener func,
    gpointer user_data);
void mr_manager_remove_event_listener (MrManager * mgr,
    MrEventListener func, gpointer user_data);

/* libsrt refused a peer for @reason; the flows it may concern say so. */
void mr_manager_srt_rejected (const gchar * reason, gpointer mgr);

/* Takes @spec, a client's (MR_SPEC_PARSE_REQUEST): it gets a new id and
 * its timestamps. */
MrFlowInfo *mr_manager_create_flow (MrManager * mgr, MrFlowSpec * spec,
    GError ** error);
/* MrFlowInfo*, in creation order */
GPtrArray *mr_manager_list_flows (MrManager * mgr);
/* The path of @name (index.m3u8 or a segment) that the hls output @output
 * of flow @id wrote, or NULL with NOT_FOUND: no such flow, output or file,
 * or a name that is not one of its files */
gchar *mr_manager_hls_file (MrManager * mgr, const gchar * id,
    const gchar * output, const gchar * name, GError ** error);
/* The folder of flow @id's recording segments (core/recordings.h reads
 * them), or NULL with NOT_FOUND */
gchar *mr_manager_recording_dir (MrManager * mgr, const gchar * id,
    GError ** error);
MrFlowInfo *mr_manager_get_flow (MrManager * mgr, const gchar * id,
    GError ** error);
gboolean mr_manager_delete_flow (MrManager * mgr, const gchar * id,
    GError ** error);
MrFlowInfo *mr_manager_start_flow (MrManager * mgr, const gchar * id,
    GError ** error);
MrFlowInfo *mr_manager_stop_flow (MrManager * mgr, const gchar * id,
    GError ** error);
/* POST /v1/flows/{id}/source/{name}/activate: a FAILOVER flow switches to
 * @name now (NOT_FOUND: no flow or no such source; CONFLICT: the flow
 * does not run, is not a FAILOVER flow, or the source has no data) */
MrFlowInfo *mr_manager_activate_source (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error);

/* A copy of the spec of flow @id, to patch (mr_flow_spec_patch ()) */
MrFlowSpec *mr_manager_get_spec (MrManager * mgr, const gchar * id,
    GError ** error);
/* Takes @spec's own fields (name, description, failover, monitoring and
 * maintenance configuration; not its sources, outputs, id or times) for
 * flow @id, stores them and applies them to the running flow.  A change the
 * running flow cannot take live is NEEDS_STOP, and then nothing changes.
 * Takes @spec. */
MrFlowInfo *mr_manager_update_flow (MrManager * mgr, const gchar * id,
    MrFlowSpec * spec, GError ** error);

/* What is checked before a new source's or output's body is read: the
 * flow exists and has room for one more @role. */
gboolean mr_manager_check_room (MrManager * mgr, const gchar * id,
    MrEndpointRole role, GError ** error);
/* Take @ep (a client's, parsed and validated on its own) */
MrFlowInfo *mr_manager_add_source (MrManager * mgr, const gchar * id,
    MrEndpoint * ep, GError ** error);
MrFlowInfo *mr_manager_remove_source (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error);
MrFlowInfo *mr_manager_add_output (MrManager * mgr, const gchar * id,
    MrEndpoint * ep, GError ** error);
/* A copy of the source @name of flow @id */
MrEndpoint *mr_manager_get_source (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error);
/* A copy of the output @name of flow @id, to patch (mr_endpoint_patch ()) */
MrEndpoint *mr_manager_get_output (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error);
/* Replaces the output @name by @ep (taken), its patched copy */
MrFlowInfo *mr_manager_update_output (MrManager * mgr, const gchar * id,
    const gchar * name, MrEndpoint * ep, GError ** error);
MrFlowInfo *mr_manager_remove_output (MrManager * mgr, const gchar * id,
    const gchar * name, GError ** error);

MrFlowMetrics *mr_manager_flow_metrics (MrManager * mgr, const gchar * id,
    GError ** error);
/* MrEvent*; @id NULL for all flows; newest first */
GPtrArray *mr_manager_events (MrManager * mgr, const gchar * id, guint limit,
    GError ** error);

/* Source monitoring: GET /v1/flows/{id}/thumbnail, /metadata and
 * /content-quality.  Errors: NOT_FOUND, DISABLED (thumbnails or content
 * quality switched off in source_monitor_config), CONFLICT (the flow is not
 * running), UNAVAILABLE (running, but nothing seen yet). */
MrThumbnail *mr_manager_flow_thumbnail (MrManager * mgr, const gchar * id,
    GError ** error);
MrStreamMetadata *mr_manager_flow_metadata (MrManager * mgr,
    const gchar * id, GError ** error);
/* free with g_free () */
MrContentQuality *mr_manager_flow_content_quality (MrManager * mgr,
    const gchar * id, GError ** error);

/* ---------------------------------------------------------------------- */
/* A shared store (PostgreSQL): this controller is a node of a cluster
 * (manager-cluster.c).  Every node knows every flow; a node runs a flow
 * only while it holds a lease on it, and the cluster engine
 * (controller/cluster/) hands those over.  Creates, changes, starts and
 * stops are committed to the store first: a start or a stop is the desired
 * state, acted on by the flow's owner. */

/* TRUE when the store is shared (mr_store_is_shared ()) */
gboolean mr_manager_is_shared (MrManager * mgr);
/* This node's id, for the events; @kick is called (never from inside the
 * call that commits) after a change the cluster engine should act on
 * before its next tick */
void mr_manager_join_cluster (MrManager * mgr, const gchar * node_id,
    void (*kick) (gpointer data), gpointer data);
/* Brings the flows in line with the store.  @versions: id -> gint64*
 * (mr_store_flow_versions ()).  New and changed flows are read again; a
 * flow this node runs takes its new spec (live, or by a restart); deleted
 * ones stop and are forgotten. */
gboolean mr_manager_sync (MrManager * mgr, GHashTable * versions,
    GError ** error);
/* Flow @id exists and the store wants it running */
gboolean mr_manager_wants_running (MrManager * mgr, const gchar * id);
/* Runs flow @id as the leg @slot of its lease, its outputs fenced at
 * @fence_us (g_get_monotonic_time ()); FALSE with NOT_FOUND for a flow this
 * node does not know (yet) */
gboolean mr_manager_run_leased (MrManager * mgr, const gchar * id,
    guint slot, gint64 fence_us, GError ** error);
/* A new fence for flow @id, which this node runs */
void mr_manager_fence_leased (MrManager * mgr, const gchar * id,
    gint64 fence_us);
/* Stops flow @id here (its lease is gone, or released): @why is logged */
void mr_manager_stop_leased (MrManager * mgr, const gchar * id,
    const gchar * why);
/* The state ("active", ...) of flow @id that this node runs */
const gchar *mr_manager_leased_state (MrManager * mgr, const gchar * id);
/* What the other nodes say of the flows they run: id -> state string,
 * taken */
void mr_manager_set_remote_states (MrManager * mgr, GHashTable * states);
/* Standalone: TRUE for every flow it knows; in a shared store, TRUE only
 * for the flows this node runs (holds a lease on) */
gboolean mr_manager_runs_here (MrManager * mgr, const gchar * id);
/* The legs the store wants running: each running flow's redundancy */
guint mr_manager_wanted_legs (MrManager * mgr);
/* The JSON of flow @id as stored, or NULL */
gchar *mr_manager_stored_spec (MrManager * mgr, const gchar * id);

G_END_DECLS

#endif /* __MR_MANAGER_H__ */
