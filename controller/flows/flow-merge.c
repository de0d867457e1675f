/* mroute: MERGE mode of a running flow: the ST 2022-7 merger's messages
 * become events, its stats the metrics' merge_stats.
 *
 * merge_active is true while the merger has two or more legs delivering
 * the merged stream.  Events: merge_started when that begins (again) or
 * the merge follows a sender restart; merge_error (warning) when it ends,
 * with the reason (a leg went silent, a leg carries another stream) and
 * when the flow runs single-leg; merge_eof when the merged stream ends. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

#include <string.h>

static const gchar *
source_of_pad (MrRunner * r, const gchar * pad)
{
  gint index = pad ? mr_recipe_source_of_pad (&r->recipe, pad) : -1;

  if (index < 0 || (guint) index >= r->spec->sources->len)
    return "?";
  return ((MrEndpoint *) r->spec->sources->pdata[index])->name;
}

void
mr_runner_merge_started (MrRunner * r)
{
  r->merge_legs = 0;
  if (r->spec->sources->len < 2)
    mr_runner_emit (r, "merge_error", "warning", "MERGE with only source "
        "'%s': running single-leg, without protection, until a second "
        "source is added", ((MrEndpoint *) r->spec->sources->pdata[0])->name);
}

void
mr_runner_handle_merge_message (MrRunner * r, const GstStructure * s)
{
  const gchar *event = gst_structure_get_string (s, "event");
  const gchar *source = source_of_pad (r, gst_structure_get_string (s,
          "pad"));
  guint legs = 0, before = r->merge_legs;

  if (!event || !gst_structure_get_uint (s, "active-legs", &legs))
    return;
  r->merge_legs = legs;

  if (g_str_equal (event, "leg-foreign")) {
    mr_runner_emit (r, "merge_error", "error", "source '%s' carries another "
        "stream than the other legs (another SSRC or sequence numbers): "
        "it is not merged", source);
  } else if (g_str_equal (event, "stream-restarted")) {
    mr_runner_emit (r, "merge_started", "info", "the sender restarted (new "
        "SSRC or sequence numbers): merging the new stream");
  } else if (legs >= 2 && before < 2) {
    mr_runner_emit (r, "merge_started", "info", "merging %u sources: "
        "each packet from whichever delivers it first", legs);
  } else if (legs < 2 && before >= 2) {
    mr_runner_emit (r, "merge_error", "warning", "source '%s' %s: merging "
        "stopped, %s", source, g_str_equal (event, "leg-silent") ?
        "delivers nothing" : "left the merge", legs == 1 ?
        "the flow runs on one leg" : "no source delivers");
  }
}

void
mr_runner_merge_eof (MrRunner * r)
{
  mr_runner_emit (r, "merge_eof", "error", "every source of the merge "
      "ended the stream");
}

gboolean
mr_runner_merge_active (MrRunner * r)
{
  return r && r->recipe.merger && r->merge_legs >= 2;
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

  if (!r->recipe.merger || !r->recipe.selector_pads[index])
    return;
  g_object_get (r->recipe.merger, "stats", &s, NULL);
  if (!(l = leg_stats (s, r->recipe.selector_pads[index])))
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

  if (!r || !r->recipe.merger)
    return NULL;
  g_object_get (r->recipe.merger, "stats", &s, NULL);
  m = mr_merge_metrics_new ();
  gst_structure_get_double (s, "skew-ms", &m->skew_ms);
  gst_structure_get_uint (s, "active-legs", &m->active_legs);

  for (guint i = 0; i < MR_MERGE_NAMED_LEGS && i < r->spec->sources->len;
      i++) {
    const GstStructure *l = leg_stats (s, r->recipe.selector_pads[i]);

    m->named_packets[i] = leg_total (r, i, l, "received");
    m->named_gap_fills[i] = leg_total (r, i, l, "unique");
  }
  m->output_packets = mr_runner_struct_u64 (s, "output-packets");
  m->missing_packets = mr_runner_struct_u64 (s, "lost-packets");
  m->recovery_window_ms = r->spec->recovery_window;
  m->restarts = mr_runner_struct_u64 (s, "restarts");

  for (guint i = 0; i < r->spec->sources->len; i++) {
    MrEndpoint *src = r->spec->sources->pdata[i];
    const GstStructure *l = leg_stats (s, r->recipe.selector_pads[i]);
    MrMergeLegMetrics *leg = g_new0 (MrMergeLegMetrics, 1);
    gboolean silent = TRUE;

    leg->name = g_strdup (src->name);
    leg->packets = leg_total (r, i, l, "received");
    leg->used = leg_total (r, i, l, "used");
    leg->gap_fills = leg_total (r, i, l, "unique");
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
