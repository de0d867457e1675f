/* mroute: MERGE mode's statistics in a running flow: the ST 2022-7
 * merger's counters as the metrics' merge_stats, summed over each
 * source's pads, and whether the merge is active (two or more legs
 * deliver).  The merger's messages become events in flow-events.c, which
 * keeps r->merge_legs; nothing here emits. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

gboolean
mr_runner_merge_active (MrRunner * r)
{
  return r && r->live.merger && r->merge_legs >= 2;
}

static const GstStructure *
leg_stats (const GstStructure * s, const gchar * pad)
{
  const GValue *legs = gst_structure_get_value (s, "legs");

  for (guint i = 0; legs && pad && i < gst_value_array_get_size (legs); i++) {
    const GstStructure *l =
        gst_value_get_structure (gst_value_array_get_value (legs, i));
    if (g_strcmp0 (gst_structure_get_string (l, "pad"), pad) == 0)
      return l;
  }
  return NULL;
}

/* A leg's counters in the merger start from 0 with each new pad (its
 * source started again): what the API and Prometheus show are totals over
 * the source's pads.  (`unique` alone can still be taken back by one within
 * a pad's life, when a copy arrives late on another leg: see the notes in
 * docs/st2022-7.md.) */
static const gchar *leg_counters[] = {
  "received", "used", "unique", "duplicates", "late", "foreign", "invalid",
};

G_STATIC_ASSERT (G_N_ELEMENTS (leg_counters) ==
    G_N_ELEMENTS (((MrSourceState *) NULL)->merge));

static guint64
leg_total (MrRunner * r, guint index, const GstStructure * l,
    const gchar * field)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);

  for (guint k = 0; k < G_N_ELEMENTS (leg_counters); k++)
    if (g_str_equal (leg_counters[k], field))
      return st->merge[k].ended + mr_runner_struct_u64 (l, field);
  g_return_val_if_reached (0);
}

void
mr_runner_merge_leg_end_life (MrRunner * r, guint index)
{
  g_autoptr (GstStructure) s = NULL;
  MrSourceState *st = mr_runner_source_state_at (r, index);
  const GstStructure *l;

  if (!r->live.merger || !r->live.selector_pads[index])
    return;
  g_object_get (r->live.merger, "stats", &s, NULL);
  if (!(l = leg_stats (s, r->live.selector_pads[index])))
    return;
  for (guint k = 0; k < G_N_ELEMENTS (leg_counters); k++)
    mr_total_end_life (&st->merge[k], mr_runner_struct_u64 (l,
            leg_counters[k]));
}

/* "merge_stats": the seed's fields for the first two sources ("a", "b"),
 * then every leg by name with all its counters */
MrMergeMetrics *
mr_runner_merge_metrics (MrRunner * r)
{
  g_autoptr (GstStructure) s = NULL;
  MrMergeMetrics *m;

  if (!r || !r->live.merger)
    return NULL;
  g_object_get (r->live.merger, "stats", &s, NULL);
  m = mr_merge_metrics_new ();
  gst_structure_get_double (s, "skew-ms", &m->skew_ms);
  gst_structure_get_uint (s, "active-legs", &m->active_legs);

  for (guint i = 0; i < MR_MERGE_NAMED_LEGS && i < r->spec->sources->len;
      i++) {
    const GstStructure *l = leg_stats (s, r->live.selector_pads[i]);

    m->named_packets[i] = leg_total (r, i, l, "received");
    m->named_used[i] = leg_total (r, i, l, "used");
    m->named_holes_filled[i] = leg_total (r, i, l, "unique");
  }
  m->output_packets = mr_runner_struct_u64 (s, "output-packets");
  m->missing_packets = mr_runner_struct_u64 (s, "lost-packets");
  m->recovery_window_ms = r->spec->recovery_window;
  m->restarts = mr_runner_struct_u64 (s, "restarts");

  for (guint i = 0; i < r->spec->sources->len; i++) {
    MrEndpoint *src = r->spec->sources->pdata[i];
    const GstStructure *l = leg_stats (s, r->live.selector_pads[i]);
    MrMergeLegMetrics *leg = g_new0 (MrMergeLegMetrics, 1);
    gboolean silent = TRUE;

    leg->name = g_strdup (src->name);
    leg->packets = leg_total (r, i, l, "received");
    leg->used = leg_total (r, i, l, "used");
    leg->holes_filled = leg_total (r, i, l, "unique");
    leg->duplicates = leg_total (r, i, l, "duplicates");
    leg->late = leg_total (r, i, l, "late");
    leg->foreign = leg_total (r, i, l, "foreign");
    leg->invalid = leg_total (r, i, l, "invalid");
    if (l) {
      gst_structure_get_boolean (l, "silent", &silent);
      gst_structure_get_double (l, "lag-ms", &leg->lag_ms);
    }
    leg->delivering = l && !silent;
    g_ptr_array_add (m->legs, leg);
  }
  return m;
}
