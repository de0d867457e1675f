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

static void
add_u64 (JsonBuilder * b, const gchar * name, const GstStructure * s,
    const gchar * field)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, mr_runner_struct_u64 (s, field));
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

    add_u64 (b, packets, l, "received");
    add_u64 (b, fills, l, "unique");
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
    add_u64 (b, "packets", l, "received");
    add_u64 (b, "used", l, "used");
    add_u64 (b, "gap_fills", l, "unique");
    add_u64 (b, "duplicates", l, "duplicates");
    add_u64 (b, "late", l, "late");
    add_u64 (b, "foreign", l, "foreign");
    add_u64 (b, "invalid", l, "invalid");
    json_builder_set_member_name (b, "delivering");
    json_builder_add_boolean_value (b, l && !silent);
    json_builder_set_member_name (b, "lag_ms");
    json_builder_add_double_value (b, lag);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}
