/* Unit tests of mr_flow_spec_patch (): the partial update of a flow's own
 * fields behind PUT /v1/flows/{id}.  Members given replace, members absent
 * stay, object members are patched member by member, sources, outputs and
 * what the controller sets are refused naming them, and a failed patch
 * leaves the spec as it was, with the create's field path. */

#include "core/core.h"

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
flow (void)
{
  g_autoptr (JsonNode) node = json ("{\"name\": \"f\", \"description\": "
      "\"d\", \"sources\": [{\"name\": \"a\", \"protocol\": \"rtp\", "
      "\"ingest_port\": 5000}, {\"name\": \"b\", \"protocol\": \"rtp\", "
      "\"ingest_port\": 5002}], \"outputs\": [{\"name\": \"o\", \"protocol\": "
      "\"udp\", \"destination\": \"127.0.0.1\", \"port\": 6000}], "
      "\"source_failover_config\": {\"state\": \"ENABLED\", "
      "\"failover_mode\": \"FAILOVER\", \"source_priority\": "
      "{\"primary_source\": \"a\"}}, \"maintenance_window\": "
      "{\"day_of_week\": \"Sunday\", \"start_hour\": 3}}");
  g_autoptr (GError) error = NULL;
  MrFlowSpec *spec = mr_flow_spec_from_json (node, MR_SPEC_PARSE_REQUEST,
      &error);

  g_assert_no_error (error);
  spec->id = g_strdup ("flow_000000000001");
  return spec;
}

static MrFlowSpec *
patch (const MrFlowSpec * spec, const gchar * text, GError ** error)
{
  g_autoptr (JsonNode) node = json (text);

  return mr_flow_spec_patch (spec, node, error);
}

static void
test_given_replace_absent_stay (void)
{
  g_autoptr (MrFlowSpec) spec = flow ();
  g_autoptr (MrFlowSpec) p = NULL;
  g_autoptr (GError) error = NULL;

  p = patch (spec, "{\"name\": \"g\"}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->name, ==, "g");
  g_assert_cmpstr (p->description, ==, "d");
  g_assert_cmpstr (p->id, ==, spec->id);
  g_assert_cmpuint (p->sources->len, ==, 2);
  g_assert_cmpuint (p->outputs->len, ==, 1);
  g_assert_true (p->failover_enabled);
  g_assert_cmpstr (p->primary_source, ==, "a");
  g_assert_true (p->has_maintenance);
  /* the original is a copy's source, untouched */
  g_assert_cmpstr (spec->name, ==, "f");
}

static void
test_objects_member_by_member (void)
{
  g_autoptr (MrFlowSpec) spec = flow ();
  g_autoptr (MrFlowSpec) p = NULL;
  g_autoptr (MrFlowSpec) q = NULL;
  g_autoptr (MrFlowSpec) r = NULL;
  g_autoptr (GError) error = NULL;

  p = patch (spec, "{\"source_failover_config\": {\"recovery_window\": 250},"
      " \"source_monitor_config\": {\"thumbnail_enabled\": true},"
      " \"maintenance_window\": {\"start_hour\": 5}}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->recovery_window, ==, 250);
  g_assert_true (p->failover_enabled);
  g_assert_cmpint (p->failover_mode, ==, MR_FAILOVER_MODE_FAILOVER);
  g_assert_cmpstr (p->primary_source, ==, "a");
  g_assert_true (p->thumbnail_enabled);
  g_assert_false (p->content_quality_enabled);
  g_assert_cmpint (p->thumbnail_interval_sec, ==, 5);
  g_assert_cmpint (p->maintenance_day, ==, 6);
  g_assert_cmpint (p->maintenance_hour, ==, 5);

  /* null clears what it clears on a create */
  q = patch (p, "{\"maintenance_window\": null, \"description\": null, "
      "\"source_failover_config\": {\"source_priority\": null}}", &error);
  g_assert_no_error (error);
  g_assert_false (q->has_maintenance);
  g_assert_null (q->description);
  g_assert_null (q->primary_source);

  /* without a window, a patch gives a whole one */
  r = patch (q, "{\"maintenance_window\": {\"start_hour\": 5}}", &error);
  g_assert_null (r);
  g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
      "maintenance_window.day_of_week: is required");
}

static void
check_refused (const MrFlowSpec * spec, const gchar * text,
    const gchar * field)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;
  MrFlowSpec *p = patch (spec, text, &error);

  g_assert_null (p);
  g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
  path = mr_spec_error_field (error);
  g_assert_cmpstr (path, ==, field);
  g_assert_true (g_str_has_prefix (error->message, field));
}

static void
test_refused (void)
{
  g_autoptr (MrFlowSpec) spec = flow ();

  check_refused (spec, "{\"outputs\": []}", "outputs");
  check_refused (spec, "{\"sources\": []}", "sources");
  check_refused (spec, "{\"source\": {}}", "source");
  check_refused (spec, "{\"name\": \"x\", \"id\": \"flow_x\"}", "id");
  check_refused (spec, "{\"status\": \"ACTIVE\"}", "status");
  check_refused (spec, "{\"created_at\": \"2026-01-01T00:00:00Z\"}",
      "created_at");
  check_refused (spec, "{\"updated_at\": \"2026-01-01T00:00:00Z\"}",
      "updated_at");
  check_refused (spec, "{\"bogus\": 1}", "bogus");
  /* validation as on a create */
  check_refused (spec, "{\"name\": \"\"}", "name");
  check_refused (spec, "{\"name\": null}", "name");
  check_refused (spec, "{\"source_failover_config\": {\"recovery_window\": "
      "5}}", "source_failover_config.recovery_window");
  check_refused (spec, "{\"source_failover_config\": {\"source_priority\": "
      "{\"primary_source\": \"zz\"}}}",
      "source_failover_config.source_priority.primary_source");
  check_refused (spec, "{\"source_monitor_config\": {\"x\": 1}}",
      "source_monitor_config.x");
  g_assert_cmpstr (spec->name, ==, "f");
}

static void
test_not_an_object (void)
{
  g_autoptr (MrFlowSpec) spec = flow ();
  g_autoptr (GError) error = NULL;

  g_assert_null (patch (spec, "[]", &error));
  g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
  g_assert_null (mr_spec_error_field (error));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flow-spec-patch/given-replace-absent-stay",
      test_given_replace_absent_stay);
  g_test_add_func ("/flow-spec-patch/objects-member-by-member",
      test_objects_member_by_member);
  g_test_add_func ("/flow-spec-patch/refused", test_refused);
  g_test_add_func ("/flow-spec-patch/not-an-object", test_not_an_object);
  return g_test_run ();
}
