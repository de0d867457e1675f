/* mroute: one running flow.  Owns the live pipeline (pipeline/live-pipeline.h),
 * watches its bus, samples its statistics and reports state changes and
 * events to whoever started it.  No HTTP, no SQLite.
 */

#ifndef __MR_FLOW_RUNNER_H__
#define __MR_FLOW_RUNNER_H__

#include <gst/gst.h>

#include "core/core.h"
#include "flow-metrics.h"

G_BEGIN_DECLS

/* MrFlowState: flow-metrics.h */

typedef struct _MrRunner MrRunner;

typedef struct
{
  void (*event) (MrRunner * runner, const gchar * type,
      const gchar * severity, const gchar * message, gpointer user_data);
  void (*state_changed) (MrRunner * runner, MrFlowState state,
      gpointer user_data);
} MrRunnerCallbacks;

/* @health_timeout_ms: how long a FAILOVER source may be silent */
MrRunner *mr_runner_new (const MrFlowSpec * spec, guint health_timeout_ms,
    const MrRunnerCallbacks * callbacks, gpointer user_data);
void mr_runner_free (MrRunner * runner);
/* The flow's folder for outputs that write files (hls), each in a folder
 * of its name below it */
void mr_runner_set_files_dir (MrRunner * runner, const gchar * dir);
/* The `read-interval` of the UDP receiver of the `udp` (MPEG-TS) sources
 * started from now on ([gstreamer] read_interval_ms; 0, the runner's
 * default: read at once) */
void mr_runner_set_read_interval (MrRunner * runner, guint ms);
/* Deletes the recording segments of @specs (const MrFlowSpec *) older
 * than their delete_after (flow-retention.c); how many */
guint mr_flows_apply_retention (GPtrArray * specs, const gchar * root);

/* Where the flow's recording goes when its spec names no folder (a folder
 * of the flow's id below it) */
void mr_runner_set_recordings_root (MrRunner * runner, const gchar * dir);

/* 1+1 (docs/cluster.md): the slot @slot (0 or 1) of the flow this node
 * runs; every output with legs sends to legs[@slot].  Set before
 * mr_runner_start (); 0 by default (a standalone controller runs slot 0). */
void mr_runner_set_leg (MrRunner * runner, guint slot);
/* The lease fence: from g_get_monotonic_time () > @deadline_us on, the
 * flow's outputs (and its monitoring and recording) get nothing; 0 (the
 * default): no fence.  Moved forward or back at any time from the main
 * thread, running or not; it takes effect with the next buffer. */
void mr_runner_set_fence (MrRunner * runner, gint64 deadline_us);
/* Buffers the fence dropped since the runner was made */
guint64 mr_runner_fence_dropped (MrRunner * runner);

/* Builds and starts the pipeline.  A source that cannot start (its port
 * is taken, say) is tried again later with @retry_sources (a restart, the
 * daemon coming back); without it the start fails.  On failure the runner
 * is in MR_FLOW_ERROR, an event says why, and @error too, with the
 * element's own reason. */
gboolean mr_runner_start (MrRunner * runner, gboolean retry_sources,
    GError ** error);
/* Stops the pipeline; the runner is in MR_FLOW_STANDBY after. */
void mr_runner_stop (MrRunner * runner);
MrFlowState mr_runner_get_state (MrRunner * runner);

/* Applies a new spec to the running pipeline.  Returns FALSE when the
 * change needs a rebuild (the caller then stops and starts again). */
gboolean mr_runner_update (MrRunner * runner, const MrFlowSpec * spec);

/* The field of @spec (a field path: "source_failover_config.state") whose
 * change the running pipeline cannot take live, or NULL: everything in
 * @spec can be applied by mr_runner_update () without a rebuild (or the
 * flow does not run). */
const gchar *mr_runner_field_needing_stop (MrRunner * runner,
    const MrFlowSpec * spec);

/* libsrt rejected an SRT peer of this process for @reason: writes an
 * event if this flow has an encrypted SRT endpoint that could be it (a
 * listener source with no caller, a caller output not connected). */
void mr_runner_srt_rejected (MrRunner * runner, const gchar * reason);

/* The flow's metrics now (flow-metrics.c) */
MrFlowMetrics *mr_runner_metrics (MrRunner * runner);
/* Metrics of a flow with no runner. */
MrFlowMetrics *mr_runner_idle_metrics (const MrFlowSpec * spec,
    MrFlowState state);

/* Source monitoring (flow-monitor.c): the thumbnail, metadata and content
 * quality from the flow's monitoring branch. */
#define MR_RUNNER_ERROR (mr_runner_error_quark ())
GQuark mr_runner_error_quark (void);
typedef enum
{
  MR_RUNNER_ERROR_NOT_RUNNING,  /* the flow is not running */
  MR_RUNNER_ERROR_DISABLED,     /* source_monitor_config turns it off; the
                                 * message starts with the field */
  MR_RUNNER_ERROR_NOT_READY,    /* nothing seen yet: ask again */
  MR_RUNNER_ERROR_NOT_FOUND,    /* no such source */
} MrRunnerError;

/* FAILOVER: the operator's switch to the source @name (flow-sources.c).
 * The selector holds the choice until that source fails; a switch back
 * to the primary waits for a random-access point as a recovery does.
 * NOT_RUNNING, or NOT_READY with the reason (not a FAILOVER flow, no such
 * source, no data from it). */
gboolean mr_runner_activate_source (MrRunner * runner, const gchar * name,
    GError ** error);

MrThumbnail *mr_runner_thumbnail (MrRunner * runner, GError ** error);
MrStreamMetadata *mr_runner_stream_metadata (MrRunner * runner,
    GError ** error);
/* free with g_free () */
MrContentQuality *mr_runner_content_quality (MrRunner * runner,
    GError ** error);

G_END_DECLS

#endif /* __MR_FLOW_RUNNER_H__ */
