/* mroute: the running flow's state, shared by the files of a running
 * flow.  Private to the runner: nothing else includes it.  Who calls whom,
 * one way (no file calls one above it):
 *
 *   flow-runner.c    lifecycle, bus dispatch, sampling
 *   flow-events.c    bus messages (and libsrt's refusals) become events
 *   flow-outputs.c   outputs' counters, reconnection, link watch
 *   flow-sources.c   sources' retries and totals
 *   flow-merge.c     MERGE's statistics
 *   flow-state.c     per-source and per-output state, emit, rates
 *
 * flow-metrics.c and flow-monitor.c read the state for the API. */

#ifndef __MR_FLOW_RUNNER_PRIVATE_H__
#define __MR_FLOW_RUNNER_PRIVATE_H__

#include "flow-runner.h"
#include "core/core.h"
#include "monitor/monitor.h"
#include "pipeline/pipeline.h"

G_BEGIN_DECLS

/* A bit rate from a byte counter sampled once a second */
typedef struct
{
  guint64 bytes;
  gint64 time;                  /* monotonic µs of the sample, 0: none */
  guint64 kbps;
} MrRate;

void mr_rate_update (MrRate * rate, guint64 bytes, gint64 now);

/* What the runner keeps of one source while the flow runs (flow-state.c),
 * found by the source's name: it follows the source wherever the source
 * stands in the spec. */
typedef struct
{
  MrRunner *runner;
  gchar *name;
  MrRate rate;
  gboolean active;              /* packetstats says data arrives */
  guint activity_seq;           /* of the last packetstats message */
  gboolean listening_anew;      /* an SRT listener said its caller left
                                 * and listens again by itself */
  guint retry_timer;            /* waiting to be started again */
  guint retry_attempts;         /* failures since it last delivered */
  /* counters across the source's lives (rebuilt, new peers) */
  MrTotal bytes, packets, lost, srt_dropped, srt_lost;
  guint64 callers_refused;      /* SRT callers with another stream id,
                                 * RTMP publishers refused */
  MrTotal merge[7];             /* its leg's counters in the merger
                                 * (flow-merge.c), across its pads */
  gint64 refused_at;            /* µs of the last refusal event */
  gint64 caller_refused_at;
  gint64 second_peer_refused_at;
  /* content alarms while it was the source monitored (flow-events.c) */
  gboolean content_on[MR_CONTENT_N_KINDS];
  guint64 content_stretches[MR_CONTENT_N_KINDS];
} MrSourceState;

/* What the runner keeps of one output while the flow runs */
typedef struct
{
  MrRunner *runner;
  gchar *name;
  MrRate rate;
  guint disconnections;
  gboolean link_up;             /* a connected SRT output is connected */
  gint64 connecting_since;      /* monotonic µs of its attach or of its
                                 * peer's leaving, 0: not connecting */
  guint reconnect_timer;        /* waiting to be attached again */
  guint reconnect_attempts;     /* failures in a row */
  gint64 attached_at;           /* monotonic µs of the last re-attach */
  MrTotal bytes_sent, packets_sent;     /* across its sinks' lives */
  gint64 refused_at;            /* µs of the last refusal event */
} MrOutputState;

struct _MrRunner
{
  /* the spec as this node sends it: an output's legs[leg] is its
   * destination (mr_flow_spec_for_leg ()) */
  MrFlowSpec *spec;
  guint leg;                    /* the slot this node runs, 0 or 1 */
  MrFence *fence;               /* before the outputs (live.fence) */
  MrRunnerCallbacks callbacks;
  gpointer user_data;

  MrFlowState state;
  MrLivePipeline live;           /* the pipeline and its elements */
  gchar *files_dir;             /* live.files_dir, or NULL */
  gchar *recordings_root;       /* where recordings go by default */
  MrMonitor *monitor;           /* the monitoring branch, on live.fanout */
  guint health_timeout_ms;
  guint bus_watch;
  guint sample_timer;
  guint fail_idle;
  gint64 started_at;            /* monotonic µs when ACTIVE, 0 before */
  guint failover_count;
  guint merge_legs;             /* the merger's active legs, last said
                                 * (flow-events.c) */
  /* the monitor's content alarms as already reported (flow-events.c) */
  MrContentAlarm alarms_seen[MR_CONTENT_N_KINDS];
  gchar *alarm_source[MR_CONTENT_N_KINDS];      /* of the stretch on */

  GHashTable *sources;          /* name -> MrSourceState*, while running */
  GHashTable *outputs;          /* name -> MrOutputState*, while running */
};

/* The state of a source or output, made when first asked for */
MrSourceState *mr_runner_source_state (MrRunner * r, const gchar * name);
MrOutputState *mr_runner_output_state (MrRunner * r, const gchar * name);
/* ... by the source's index in the spec */
MrSourceState *mr_runner_source_state_at (MrRunner * r, guint index);
/* Forgets the state of a source or output (it left the spec, or it changed
 * so much that it is another one) */
void mr_runner_forget_source (MrRunner * r, const gchar * name);
void mr_runner_forget_output (MrRunner * r, const gchar * name);
/* Forgets every state (the flow stops) */
void mr_runner_forget_all (MrRunner * r);

/* Every event of the flow goes out through this (flow-state.c) */
void mr_runner_emit (MrRunner * r, const gchar * type,
    const gchar * severity, const gchar * fmt, ...) G_GNUC_PRINTF (4, 5);
guint64 mr_runner_struct_u64 (const GstStructure * s, const gchar * field);

/* Events (flow-events.c): the runner hands it each bus message */
/* The pipeline plays: flow_started, and MERGE's single-leg warning */
void mr_runner_events_flow_started (MrRunner * r);
/* An error message: TRUE if the pipeline cannot go on (the runner then
 * ends the flow); a source's or an output's error is healed instead */
gboolean mr_runner_events_error (MrRunner * r, GstMessage * msg);
void mr_runner_events_warning (MrRunner * r, GstMessage * msg);
/* The pipeline's end of stream (the runner then ends the flow) */
void mr_runner_events_eos (MrRunner * r);
void mr_runner_events_element (MrRunner * r, GstMessage * msg);
/* Once a second: the monitor's content alarms that began or ended since,
 * as content_black, content_frozen, content_silent events */
void mr_runner_events_content (MrRunner * r);
/* The monitor goes (a new configuration, the flow stops): a stretch still
 * on ends now */
void mr_runner_events_content_closed (MrRunner * r);

/* Outputs (flow-outputs.c) */
/* One output's counters into @stats, its byte and packet counts totals
 * across its sinks' lives; FALSE, with @stats zeroed, when the flow does
 * not run.  Clear @stats with mr_output_stats_clear (). */
gboolean mr_runner_output_stats (MrRunner * r, const MrEndpoint * out,
    MrOutputStats * stats);
/* The output's counters go into its totals before its sink goes */
void mr_runner_output_end_life (MrRunner * r, const MrEndpoint * out);
/* The output was (re)attached: it is connecting from now */
void mr_runner_output_attached (MrRunner * r, const MrEndpoint * out);
/* The output @name failed: the others go on; this one is removed and
 * attached again after a back-off (1, 2, 4 ... 30 s), counted in
 * disconnections. */
void mr_runner_output_failed (MrRunner * r, const gchar * name,
    const GError * err);
/* Once a second, with the output's counters @stats: its rate, and what
 * its transport watches (a lost peer, a caller that never connects) */
void mr_runner_output_sampled (MrRunner * r, const MrEndpoint * out,
    const MrOutputStats * stats, gint64 now);

/* Sources (flow-sources.c): started, failed, retried after 1, 2, 4 ... 30
 * s, each try a source_retry event, in every mode. */
/* Starts every source the spec runs.  With @retry_failed a source that
 * cannot start is retried later; without, the first failure stops there
 * and says why in @error. */
gboolean mr_runner_start_sources (MrRunner * r, gboolean retry_failed,
    GError ** error);
/* The source at @index failed (@type: source_error or source_eof): its
 * bin goes, an event says why, and it is started again after a back-off.
 * FALSE if it was not running (nothing done). */
gboolean mr_runner_source_failed (MrRunner * r, guint index,
    const gchar * type, const gchar * reason);
/* The source at @index could not start (@message says why): it is tried
 * again after a back-off. */
void mr_runner_source_start_failed (MrRunner * r, guint index,
    const gchar * message);
/* The source at @index is started anew at once (a listener whose caller
 * went silent: only a fresh listener takes the next caller). */
void mr_runner_source_restart (MrRunner * r, guint index,
    const gchar * reason);
/* The source at @index delivers data again: its back-off starts over. */
void mr_runner_source_healthy (MrRunner * r, guint index);
/* The source's packetstats counters go into its totals before its bin
 * goes */
void mr_runner_source_end_life (MrRunner * r, guint index);
/* A running source's own figures, as its transport reads them (zero for
 * a protocol with none); FALSE, with @stats zeroed, if it has no bin now.
 * Clear @stats with mr_source_stats_clear (). */
gboolean mr_runner_source_own_stats (MrRunner * r, const MrEndpoint * src,
    MrSourceStats * stats);

/* MERGE mode's statistics (flow-merge.c) */
gboolean mr_runner_merge_active (MrRunner * r);
/* "merge_stats" of the metrics, NULL unless the merger runs */
MrMergeMetrics *mr_runner_merge_metrics (MrRunner * r);
/* The merger's counters of the source at @index go into its totals before
 * its pad goes */
void mr_runner_merge_leg_end_life (MrRunner * r, guint index);

/* Source monitoring (flow-monitor.c): the selector switched source */
void mr_runner_monitor_source_changed (MrRunner * r);

G_END_DECLS

#endif /* __MR_FLOW_RUNNER_PRIVATE_H__ */
