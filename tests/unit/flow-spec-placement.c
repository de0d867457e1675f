/* Unit tests of a flow's "placement" (core/flow-spec.h, docs/cluster.md):
 * {"labels": {"k": "v"}} parsed into sorted "k=v" strings, every wrong
 * value an error naming its field, written back the same for the API and
 * for storage (only when set), replaced by a PUT, taken away by {} or
 * empty labels, kept by a copy.  Run under valgrind: the error paths free
 * what they parsed. */

#include <string.h>

#include "core/core.h"

#define BODY(extra) "{\"name\": \"f\", \"sources\": [{\"name\": \"in\", " \
  "\"protocol\": \"udp\", \"ingest_port\": 5000}]" extra "}"

static JsonNode *
json (const gchar * text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static MrFlowSpec *
parse (const gchar * text, MrSpecParseMode mode, GError ** error)
{
  g_autoptr (JsonNode) node = json (text);

  return mr_flow_spec_from_json (node, mode, NULL, error);
}

static gchar *
labels_of (const MrFlowSpec * spec)
{
  return spec->placement_labels ?
      g_strjoinv (",", spec->placement_labels) : g_strdup ("(none)");
}

/* The "placement" member of @spec's JSON, as text, or "(none)" */
static gchar *
placement_json (const MrFlowSpec * spec, MrSpecJsonMode mode)
{
  g_autoptr (JsonNode) node = mr_flow_spec_to_json (spec, mode, NULL);
  JsonObject *obj = json_node_get_object (node);

  if (!json_object_has_member (obj, "placement"))
    return g_strdup ("(none)");
  return json_to_string (json_object_get_member (obj, "placement"), FALSE);
}

static void
test_parsed_sorted_written (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) none = parse (BODY (""), MR_SPEC_PARSE_REQUEST,
      &error);
  g_autoptr (MrFlowSpec) spec = parse (BODY (", \"placement\": {\"labels\": "
          "{\"vip\": \"a\", \"site\": \"paris\"}}"), MR_SPEC_PARSE_REQUEST,
      &error);
  g_autoptr (MrFlowSpec) copy = NULL;
  g_autoptr (MrFlowSpec) stored = NULL;
  g_autofree gchar *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *text = NULL;

  g_assert_no_error (error);
  g_assert_null (none->placement_labels);
  a = placement_json (none, MR_SPEC_JSON_PUBLIC);
  g_assert_cmpstr (a, ==, "(none)");
  b = labels_of (spec);
  g_assert_cmpstr (b, ==, "site=paris,vip=a");
  c = placement_json (spec, MR_SPEC_JSON_PUBLIC);
  g_assert_cmpstr (c, ==, "{\"labels\":{\"site\":\"paris\",\"vip\":\"a\"}}");
  copy = mr_flow_spec_copy (spec);
  d = labels_of (copy);
  g_assert_cmpstr (d, ==, b);
  /* the store's JSON read back */
  node = mr_flow_spec_to_json (spec, MR_SPEC_JSON_STORED, NULL);
  text = json_to_string (node, FALSE);
  stored = parse (text, MR_SPEC_PARSE_STORED, &error);
  g_assert_no_error (error);
  e = labels_of (stored);
  g_assert_cmpstr (e, ==, b);
}

static void
test_refusals (void)
{
  const struct
  {
    const gchar *extra;
    const gchar *field;
  } cases[] = {
    {", \"placement\": 3", "placement"},
    {", \"placement\": {\"labels\": [\"a\"]}", "placement.labels"},
    {", \"placement\": {\"labels\": {\"site\": 1}}", "placement.labels.site"},
    {", \"placement\": {\"labels\": {\"a=b\": \"c\"}}", "placement.labels"},
    {", \"placement\": {\"labels\": {\"\": \"c\"}}", "placement.labels"},
    {", \"placement\": {\"labels\": {\"k\": \"x,y\"}}", "placement.labels.k"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text = g_strdup_printf ("{\"name\": \"f\", \"sources\": "
        "[{\"name\": \"in\", \"protocol\": \"udp\", \"ingest_port\": 5000}]%s}",
        cases[i].extra);
    g_autoptr (GError) error = NULL;
    g_autoptr (MrFlowSpec) spec = parse (text, MR_SPEC_PARSE_REQUEST, &error);
    g_autofree gchar *field = NULL;

    g_assert_null (spec);
    g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
    field = mr_spec_error_field (error);
    if (g_strcmp0 (field, cases[i].field) != 0)
      g_error ("case %u: refused about '%s' (%s), not '%s'", i, field,
          error->message, cases[i].field);
  }
}

static void
test_patched (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) spec = parse (BODY (", \"placement\": {\"labels\": "
          "{\"site\": \"paris\"}}"), MR_SPEC_PARSE_REQUEST, &error);
  g_autoptr (JsonNode) other = json ("{\"placement\": {\"labels\": "
      "{\"site\": \"lyon\"}}}");
  g_autoptr (JsonNode) off = json ("{\"placement\": {}}");
  g_autoptr (JsonNode) name = json ("{\"name\": \"g\"}");
  g_autoptr (MrFlowSpec) moved = NULL;
  g_autoptr (MrFlowSpec) freed = NULL;
  g_autoptr (MrFlowSpec) kept = NULL;
  g_autofree gchar *a = NULL, *b = NULL, *c = NULL;

  g_assert_no_error (error);
  moved = mr_flow_spec_patch (spec, other, NULL, &error);
  g_assert_no_error (error);
  a = labels_of (moved);
  g_assert_cmpstr (a, ==, "site=lyon");
  freed = mr_flow_spec_patch (spec, off, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (freed->placement_labels);
  kept = mr_flow_spec_patch (spec, name, NULL, &error);
  g_assert_no_error (error);
  b = labels_of (kept);
  g_assert_cmpstr (b, ==, "site=paris");
  c = labels_of (spec);
  g_assert_cmpstr (c, ==, "site=paris");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flow-spec-placement/parsed-sorted-written",
      test_parsed_sorted_written);
  g_test_add_func ("/flow-spec-placement/refusals", test_refusals);
  g_test_add_func ("/flow-spec-placement/patched", test_patched);
  return g_test_run ();
}
