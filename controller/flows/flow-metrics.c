/* mroute: the metrics of a flow (the seed's GET /v1/flows/{id}/metrics) as
 * typed structs (flow-metrics.h), from the running pipeline's own
 * counters: packetstats, what each source's and output's transport reads
 * (transports/transport.h) and the runner's totals across lives.
 *
 * It knows no protocol: what one adds (SRT's link figures, RIST's own
 * statistics, what FEC recovered) comes from its transport.  No JSON
 * here: the api layer renders the structs. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

/* ---------------------------------------------------------------------- */
/* the structs */

MrFlowInfo *
mr_flow_info_new (const MrFlowSpec * spec, MrFlowState state)
{
  MrFlowInfo *info = g_new0 (MrFlowInfo, 1);

  info->spec = mr_flow_spec_copy (spec);
  info->state = state;
  return info;
}

void
mr_flow_info_free (MrFlowInfo * info)
{
  if (!info)
    return;
  mr_flow_spec_free (info->spec);
  g_free (info);
}

static void
stat_value_clear (gpointer data)
{
  g_free (((MrStatValue *) data)->name);
}

GArray *
mr_stat_values_new (void)
{
  GArray *values = g_array_new (FALSE, TRUE, sizeof (MrStatValue));

  g_array_set_clear_func (values, stat_value_clear);
  return values;
}

void
mr_stat_values_add_int (GArray * values, const gchar * name, gint64 value)
{
  MrStatValue v = { g_strdup (name), FALSE, value, 0 };

  g_array_append_val (values, v);
}

void
mr_stat_values_add_double (GArray * values, const gchar * name,
    gdouble value)
{
  MrStatValue v = { g_strdup (name), TRUE, 0, value };

  g_array_append_val (values, v);
}

static void
source_metrics_free (MrSourceMetrics * m)
{
  g_free (m->name);
  g_clear_pointer (&m->rist, g_array_unref);
  g_free (m);
}

static void
output_metrics_free (MrOutputMetrics * m)
{
  g_free (m->name);
  g_clear_pointer (&m->rist, g_array_unref);
  g_free (m);
}

static void
merge_leg_metrics_free (MrMergeLegMetrics * m)
{
  g_free (m->name);
  g_free (m);
}

MrMergeMetrics *
mr_merge_metrics_new (void)
{
  MrMergeMetrics *merge = g_new0 (MrMergeMetrics, 1);

  merge->legs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      merge_leg_metrics_free);
  return merge;
}

void
mr_merge_metrics_free (MrMergeMetrics * merge)
{
  if (!merge)
    return;
  g_ptr_array_unref (merge->legs);
  g_free (merge);
}

MrFlowMetrics *
mr_flow_metrics_new (void)
{
  MrFlowMetrics *m = g_new0 (MrFlowMetrics, 1);

  m->sources = g_ptr_array_new_with_free_func ((GDestroyNotify)
      source_metrics_free);
  m->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      output_metrics_free);
  return m;
}

void
mr_flow_metrics_free (MrFlowMetrics * m)
{
  if (!m)
    return;
  g_free (m->flow_id);
  g_free (m->active_source);
  mr_merge_metrics_free (m->merge);
  g_ptr_array_unref (m->sources);
  g_ptr_array_unref (m->outputs);
  g_free (m);
}

/* ---------------------------------------------------------------------- */
/* filling them */

/* The numbers of an element's own stats structure, names with '_' for
 * '-' (RIST's statistics are given as they are); other fields are left
 * out. */
static GArray *
stat_values_from_structure (const GstStructure * s)
{
  GArray *values = mr_stat_values_new ();

  for (gint i = 0; s && i < gst_structure_n_fields (s); i++) {
    const gchar *field = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, field);
    g_autofree gchar *name = g_strdup (field);

    g_strdelimit (name, "-", '_');
    if (G_VALUE_HOLDS_UINT64 (v))
      mr_stat_values_add_int (values, name, g_value_get_uint64 (v));
    else if (G_VALUE_HOLDS_INT64 (v))
      mr_stat_values_add_int (values, name, g_value_get_int64 (v));
    else if (G_VALUE_HOLDS_INT (v))
      mr_stat_values_add_int (values, name, g_value_get_int (v));
    else if (G_VALUE_HOLDS_UINT (v))
      mr_stat_values_add_int (values, name, g_value_get_uint (v));
    else if (G_VALUE_HOLDS_DOUBLE (v))
      mr_stat_values_add_double (values, name, g_value_get_double (v));
  }
  return values;
}

static void
srt_metrics_from (MrSrtMetrics * m, const MrSrtStats * st)
{
  m->connected_callers = st->callers;
  m->rtt_ms = st->rtt_ms;
  m->lost = st->lost;
  m->retransmitted = st->retransmitted;
  m->dropped = st->dropped;
  m->rate_mbps = st->rate_mbps;
  m->negotiated_latency_ms = st->negotiated_latency_ms;
}

static MrSourceMetrics *
source_metrics (MrRunner * r, const MrFlowSpec * spec, guint i,
    gboolean running, guint active)
{
  MrEndpoint *src = spec->sources->pdata[i];
  MrSourceMetrics *m = g_new0 (MrSourceMetrics, 1);
  g_autoptr (GstStructure) s = NULL;
  MrSourceStats own = { 0, };
  /* in MERGE every running source feeds the output */
  gboolean runs = running && r->live.source_stats[i];
  MrSourceState *st = running ? mr_runner_source_state (r, src->name) : NULL;
  guint64 lost, recovered;

  m->name = g_strdup (src->name);
  m->protocol = src->protocol;
  m->selected = running && (i == active || (r->live.merger
          && r->live.source_stats[i]));
  m->connected = runs && st->active;
  if (running) {
    for (guint k = 0; k < MR_CONTENT_N_KINDS; k++) {
      m->content_alarm[k] = st->content_on[k];
      m->content_stretches[k] = st->content_stretches[k];
    }
  }

  if (runs) {
    g_object_get (r->live.source_stats[i], "stats", &s, NULL);
    m->bitrate_kbps = st->rate.kbps;
    mr_runner_source_own_stats (r, src, &own);
  }
  /* totals across the source's lives (rebuilt, new peers) */
  if (running) {
    m->bytes_received = mr_total_update (&st->bytes,
        mr_runner_struct_u64 (s, "bytes"));
    m->packets_received = mr_total_update (&st->packets,
        mr_runner_struct_u64 (s, "packets"));
    m->packets_lost = mr_total_update (&st->lost,
        mr_runner_struct_u64 (s, "lost"));
    if (own.has_srt) {
      own.srt.dropped = mr_total_update (&st->srt_dropped,
          MAX (own.srt.dropped, 0));
      own.srt.lost = mr_total_update (&st->srt_lost,
          MAX (own.srt.lost, 0));
    }
  }

  /* SRT recovers what it detects as lost; what stays lost is dropped */
  lost = own.has_srt ? (guint64) own.srt.dropped : m->packets_lost;
  recovered = own.has_srt && own.srt.lost > own.srt.dropped ?
      (guint64) (own.srt.lost - own.srt.dropped) : own.recovered;
  /* a recovery counted after packetstats (FEC): the rest was recovered */
  if (s && own.has_lost_after_recovery) {
    lost = MIN (own.lost_after_recovery, m->packets_lost);
    recovered = m->packets_lost - lost;
  }
  m->packets_lost = lost;
  m->packets_recovered = recovered;

  /* packetstats measures the jitter of RTP (0 for other data), unless the
   * transport has the figure from before its own buffering */
  if (own.has_jitter)
    m->jitter_ms = own.jitter_ms;
  else if (s)
    gst_structure_get_double (s, "jitter-ms", &m->jitter_ms);
  if (own.has_rtt) {
    m->rtt_ms = own.rtt_ms;
    m->round_trip_time_ms = (gint64) (own.rtt_ms + 0.5);
  }
  if (own.has_srt) {
    m->has_srt = TRUE;
    srt_metrics_from (&m->srt, &own.srt);
    m->rtt_ms = own.srt.rtt_ms;
    m->round_trip_time_ms = (gint64) (own.srt.rtt_ms + 0.5);
    if (running && own.refuses_callers) {
      m->srt.has_callers_refused = TRUE;
      m->srt.callers_refused = st->callers_refused;
    }
  }
  if (own.rist)
    m->rist = stat_values_from_structure (own.rist);
  if (running && own.refuses_publishers) {
    m->has_publishers_refused = TRUE;
    m->publishers_refused = st->callers_refused;
  }
  mr_source_stats_clear (&own);
  return m;
}

/* @stats: the output's counters (mr_runner_output_stats), zero when the
 * flow does not run */
static MrOutputMetrics *
output_metrics (const MrEndpoint * out, const MrOutputStats * stats,
    MrOutputState * st)
{
  MrOutputMetrics *m = g_new0 (MrOutputMetrics, 1);

  m->name = g_strdup (out->name);
  m->protocol = out->protocol;
  m->connected = stats->connected;
  m->bitrate_kbps = st ? st->rate.kbps : 0;
  m->bytes_sent = stats->bytes_sent;
  m->packets_sent = stats->packets_sent;
  m->disconnections = st ? st->disconnections : 0;
  /* what only some transports add (transport.h) */
  if (stats->rist)
    m->rist = stat_values_from_structure (stats->rist);
  m->has_viewers = stats->has_viewers;
  m->viewers = stats->viewers;
  if (stats->has_srt) {
    m->has_srt = TRUE;
    srt_metrics_from (&m->srt, &stats->srt);
  }
  return m;
}

static MrFlowMetrics *
build_metrics (const MrFlowSpec * spec, MrFlowState state, MrRunner * r)
{
  MrFlowMetrics *m = mr_flow_metrics_new ();
  gboolean running = r && r->live.pipeline;
  guint active = running ? r->live.active_source :
      mr_builder_pick_source (spec);

  m->flow_id = g_strdup (spec->id);
  m->active_source = g_strdup (running ?
      ((MrEndpoint *) spec->sources->pdata[active])->name : "");
  m->state = state;
  m->uptime_seconds = r && r->started_at ?
      (g_get_monotonic_time () - r->started_at) / G_USEC_PER_SEC : 0;
  m->failover_count = r ? r->failover_count : 0;
  m->merge_active = mr_runner_merge_active (r);
  m->merge = mr_runner_merge_metrics (r);

  for (guint i = 0; i < spec->sources->len; i++)
    g_ptr_array_add (m->sources, source_metrics (r, spec, i, running,
            active));

  for (guint i = 0; i < spec->outputs->len; i++) {
    MrEndpoint *out = spec->outputs->pdata[i];
    MrOutputStats stats = { 0, };
    MrOutputState *st = NULL;

    if (running) {
      mr_runner_output_stats (r, out, &stats);
      st = mr_runner_output_state (r, out->name);
    }
    g_ptr_array_add (m->outputs, output_metrics (out, &stats, st));
    mr_output_stats_clear (&stats);
  }

  m->timestamp = g_get_real_time ();
  return m;
}

MrFlowMetrics *
mr_runner_metrics (MrRunner * r)
{
  return build_metrics (r->spec, r->state, r);
}

MrFlowMetrics *
mr_runner_idle_metrics (const MrFlowSpec * spec, MrFlowState state)
{
  return build_metrics (spec, state, NULL);
}
