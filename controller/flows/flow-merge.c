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

static void
add_u64 (JsonBuilder * b, const gchar * name, const GstStructure * s,
    const gchar * field)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, mr_runner_struct_u64 (s, field));
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

static void
add_leg_u64 (JsonBuilder * b, const gchar * name, MrRunner * r, guint index,
    const GstStructure * l, const gchar * field)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, leg_total (r, index, l, field));
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
void
mr_runner_add_merge_metrics (JsonBuilder * b, MrRunner * r)
{
  g_autoptr (GstStructure) s = NULL;
  gdouble skew = 0;
  guint legs = 0;

  if (!r || !r->recipe.merger)
    return;
  g_object_get (r->recipe.merger, "stats", &s, NULL);
  gst_structure_get_double (s, "skew-ms", &skew);
  gst_structure_get_uint (s, "active-legs", &legs);

  json_builder_set_member_name (b, "merge_stats");
  json_builder_begin_object (b);
  for (guint i = 0; i < 2; i++) {
    const GstStructure *l = i < r->spec->sources->len ?
        leg_stats (s, r->recipe.selector_pads[i]) : NULL;
    g_autofree gchar *packets = g_strdup_printf ("source_%c_packets",
        'a' + i);
    g_autofree gchar *fills = g_strdup_printf ("source_%c_gap_fills",
        'a' + i);

    if (i < r->spec->sources->len) {
      add_leg_u64 (b, packets, r, i, l, "received");
      add_leg_u64 (b, fills, r, i, l, "unique");
    } else {
      add_u64 (b, packets, NULL, "received");
      add_u64 (b, fills, NULL, "unique");
    }
  }
  add_u64 (b, "output_packets", s, "output-packets");
  add_u64 (b, "missing_packets", s, "lost-packets");
  json_builder_set_member_name (b, "recovery_window_ms");
  json_builder_add_int_value (b, r->spec->recovery_window);
  json_builder_set_member_name (b, "active_legs");
  json_builder_add_int_value (b, legs);
  json_builder_set_member_name (b, "skew_ms");
  json_builder_add_double_value (b, skew);
  add_u64 (b, "restarts", s, "restarts");

  json_builder_set_member_name (b, "sources");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->spec->sources->len; i++) {
    MrEndpoint *src = r->spec->sources->pdata[i];
    const GstStructure *l = leg_stats (s, r->recipe.selector_pads[i]);
    gboolean silent = TRUE;
    gdouble lag = 0;

    if (l) {
      gst_structure_get_boolean (l, "silent", &silent);
      gst_structure_get_double (l, "lag-ms", &lag);
    }
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, src->name);
    add_leg_u64 (b, "packets", r, i, l, "received");
    add_leg_u64 (b, "used", r, i, l, "used");
    add_leg_u64 (b, "gap_fills", r, i, l, "unique");
    add_leg_u64 (b, "duplicates", r, i, l, "duplicates");
    add_leg_u64 (b, "late", r, i, l, "late");
    add_leg_u64 (b, "foreign", r, i, l, "foreign");
    add_leg_u64 (b, "invalid", r, i, l, "invalid");
    json_builder_set_member_name (b, "delivering");
    json_builder_add_boolean_value (b, l && !silent);
    json_builder_set_member_name (b, "lag_ms");
    json_builder_add_double_value (b, lag);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}
