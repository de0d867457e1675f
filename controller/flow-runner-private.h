/* mroute: the running flow's state, shared by flow-runner.c (lifecycle,
 * bus, sampling), flow-metrics.c (the metrics object) and flow-merge.c
 * (MERGE mode's events and stats).  Private to the
 * runner: nothing else includes it. */

#ifndef __MR_FLOW_RUNNER_PRIVATE_H__
#define __MR_FLOW_RUNNER_PRIVATE_H__

#include "flow-runner.h"
#include "recipe.h"
#include "srt-stats.h"
#include "totals.h"

G_BEGIN_DECLS

struct _MrRunner
{
  MrFlowSpec *spec;
  MrRunnerCallbacks callbacks;
  gpointer user_data;

  MrFlowState state;
  MrRecipe recipe;
  guint health_timeout_ms;
  guint bus_watch;
  guint sample_timer;
  guint fail_idle;
  gint64 started_at;            /* monotonic µs when ACTIVE, 0 before */
  gboolean source_active[MR_MAX_SOURCES];
  guint activity_seq[MR_MAX_SOURCES];   /* of the last packetstats message */
  gboolean listening_anew[MR_MAX_SOURCES];      /* an SRT listener said its
                                                 * caller left and listens
                                                 * again by itself */
  guint failover_count;
  guint merge_legs;             /* the merger's active legs, last said */

  GHashTable *rates;            /* "source:NAME" / "output:NAME" -> MrRate */
  GHashTable *disconnections;   /* output name -> GUINT_TO_POINTER (count) */
  GHashTable *reconnects;       /* output name -> MrReconnect* */
  GHashTable *link_up;          /* output name -> GINT_TO_POINTER (was up) */
  GHashTable *refused_at;       /* "source:N"/"output:N" -> gint64* (µs) */
  GHashTable *source_retries;   /* source name -> MrSourceRetry* */
  GHashTable *totals;           /* "source:N:field" / "output:N:field" ->
                                 * MrTotal*: counters across lives */
  GHashTable *attached_at;      /* output name -> gint64* (monotonic µs) */
};

void mr_runner_emit (MrRunner * r, const gchar * type,
    const gchar * severity, const gchar * fmt, ...) G_GNUC_PRINTF (4, 5);
gboolean mr_runner_protocol_is_srt (MrProtocol p);
guint64 mr_runner_struct_u64 (const GstStructure * s, const gchar * field);
/* kbps over the last sample for "source:NAME" / "output:NAME" */
guint64 mr_runner_get_rate (MrRunner * r, const gchar * key);
/* One output's counters: `bytes-sent`, `packets-sent`, `connected`, and
 * `srt-*` for SRT; NULL when the output has no sink now. */
GstStructure *mr_runner_output_stats (MrRunner * r, const MrEndpoint * out);
/* SRT figures of a running source, or FALSE */
gboolean mr_runner_source_srt_stats (MrRunner * r, const MrEndpoint * src,
    MrSrtStats * st);

/* Sources (flow-sources.c): started, failed, retried after 1, 2, 4 ... 30
 * s, each try a source_retry event, in every mode. */
/* Starts every source the spec runs.  With @retry_failed a source that
 * cannot start is retried later; without, the first failure stops there
 * and says why in @error. */
gboolean mr_runner_start_sources (MrRunner * r, gboolean retry_failed,
    GError ** error);
/* The source at @index failed (@type: source_error or source_eof): its
 * bin goes, an event says why, and it is started again after a back-off. */
void mr_runner_source_failed (MrRunner * r, guint index, const gchar * type,
    const gchar * reason);
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
/* Whether the source named @name waits to be started again */
gboolean mr_runner_source_retrying (MrRunner * r, const gchar * name);
/* Forgets the retry of a source that left the spec */
void mr_runner_source_forget (MrRunner * r, const gchar * name);
/* An srtsrc refused a caller with another stream id (any thread posted
 * it; this runs on the main thread) */
void mr_runner_srt_caller_refused (MrRunner * r, guint index,
    const gchar * stream_id);

/* TRUE if no refusal of @kind was reported for @name in the last 10 s */
gboolean mr_runner_refusal_is_news (MrRunner * r, const gchar * kind,
    const gchar * name);

/* Totals that never go down, whatever restarts beneath them */
guint64 mr_runner_total (MrRunner * r, const gchar * kind, const gchar * name,
    const gchar * field, guint64 current);
void mr_runner_total_end_life (MrRunner * r, const gchar * kind,
    const gchar * name, const gchar * field, guint64 final);
/* The source's packetstats counters go into its totals before its bin
 * goes */
void mr_runner_source_end_life (MrRunner * r, guint index);

/* MERGE mode (flow-merge.c) */
void mr_runner_merge_started (MrRunner * r);
void mr_runner_handle_merge_message (MrRunner * r, const GstStructure * s);
void mr_runner_merge_eof (MrRunner * r);
gboolean mr_runner_merge_active (MrRunner * r);
void mr_runner_add_merge_metrics (JsonBuilder * b, MrRunner * r);

/* Source monitoring (flow-monitor.c): the selector switched source */
void mr_runner_monitor_source_changed (MrRunner * r);

G_END_DECLS

#endif /* __MR_FLOW_RUNNER_PRIVATE_H__ */
