/* Unit tests of mr_flow_spec_patch (): the partial update of a flow's own
 * fields behind PUT /v1/flows/{id}.  Members given replace, members absent
 * or null stay, object members are patched member by member; sources and
 * outputs are not changed (a warning unless they are the flow's own), what
 * the controller sets is ignored, an unknown member is a warning; a failed
 * patch leaves the spec as it was, with the create's field path; the
 * flow's own answer as a patch changes nothing and says nothing. */

#include <string.h>

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
      NULL, &error);

  g_assert_no_error (error);
  spec->id = g_strdup ("flow_000000000001");
  return spec;
}

static MrFlowSpec *
patch_warned (const MrFlowSpec * spec, const gchar * text,
    GPtrArray * warnings, GError ** error)
{
  g_autoptr (JsonNode) node = json (text);

  return mr_flow_spec_patch (spec, node, warnings, error);
}

/* A patch that must give no warning */
static MrFlowSpec *
patch (const MrFlowSpec * spec, const gchar * text, GError ** error)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  MrFlowSpec *p = patch_warned (spec, text, warnings, error);

  g_assert_cmpuint (warnings->len, ==, 0);
  return p;
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

  /* null is not given: everything stays */
  q = patch (p, "{\"name\": null, \"description\": null, "
      "\"source_failover_config\": {\"source_priority\": null, \"state\": "
      "null}, \"maintenance_window\": {\"day_of_week\": null}}", &error);
  g_assert_no_error (error);
  g_assert_true (q->has_maintenance);
  g_assert_cmpint (q->maintenance_day, ==, 6);
  g_assert_cmpint (q->maintenance_hour, ==, 5);
  g_assert_cmpstr (q->description, ==, "d");
  g_assert_cmpstr (q->primary_source, ==, "a");
  g_assert_true (q->failover_enabled);
  g_assert_cmpstr (q->name, ==, "f");
  g_clear_pointer (&p, mr_flow_spec_free);
  p = patch (q, "{\"maintenance_window\": null}", &error);
  g_assert_no_error (error);
  g_assert_true (p->has_maintenance);
  /* a flow without a window */
  q->has_maintenance = FALSE;

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
  MrFlowSpec *p = patch_warned (spec, text, NULL, &error);

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

  /* validation as on a create */
  check_refused (spec, "{\"name\": \"\"}", "name");
  check_refused (spec, "{\"name\": 5}", "name");
  check_refused (spec, "{\"source_failover_config\": {\"recovery_window\": "
      "5}}", "source_failover_config.recovery_window");
  check_refused (spec, "{\"source_failover_config\": {\"source_priority\": "
      "{\"primary_source\": \"zz\"}}}",
      "source_failover_config.source_priority.primary_source");
  check_refused (spec, "{\"source_monitor_config\": {\"thumbnail_enabled\": "
      "1}}", "source_monitor_config.thumbnail_enabled");
  check_refused (spec, "{\"maintenance_window\": {\"start_hour\": 24}}",
      "maintenance_window.start_hour");
  g_assert_cmpstr (spec->name, ==, "f");
}

/* What a PUT of a flow does not take: ignored, said when a value is lost */
static void
test_not_taken (void)
{
  g_autoptr (MrFlowSpec) spec = flow ();
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) p = NULL;

  p = patch_warned (spec, "{\"name\": \"g\", \"outputs\": [], \"sources\": "
      "[], \"source\": {\"name\": \"z\"}, \"id\": \"flow_x\", \"status\": "
      "\"ACTIVE\", \"created_at\": \"2026-01-01T00:00:00Z\", \"updated_at\": "
      "\"x\", \"warnings\": [], \"bogus\": 1, \"source_monitor_config\": "
      "{\"x\": 1}}", warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->name, ==, "g");
  g_assert_cmpstr (p->id, ==, spec->id);
  g_assert_cmpint (p->created_at, ==, spec->created_at);
  g_assert_cmpuint (p->sources->len, ==, 2);
  g_assert_cmpuint (p->outputs->len, ==, 1);
  g_assert_cmpuint (warnings->len, ==, 5);
  g_assert_true (g_str_has_prefix (warnings->pdata[0], "'outputs' ignored: "));
  g_assert_nonnull (strstr (warnings->pdata[0], "/v1/flows/{id}/outputs"));
  g_assert_true (g_str_has_prefix (warnings->pdata[1], "'sources' ignored: "));
  g_assert_true (g_str_has_prefix (warnings->pdata[2], "'source' ignored: "));
  g_assert_cmpstr (warnings->pdata[3], ==, "unknown field 'bogus' ignored");
  g_assert_cmpstr (warnings->pdata[4], ==,
      "unknown field 'source_monitor_config.x' ignored");
}

/* GET then PUT, as a Go client does: nothing changes, nothing is said */
static void
test_read_back (void)
{
  g_autoptr (MrFlowSpec) spec = flow ();
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) p = NULL;
  g_autoptr (JsonNode) again = NULL;
  g_autofree gchar *a = NULL, *b = NULL;

  answer = mr_flow_spec_to_json (spec, MR_SPEC_JSON_PUBLIC, "ACTIVE");
  p = mr_flow_spec_patch (spec, answer, warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 0);
  again = mr_flow_spec_to_json (p, MR_SPEC_JSON_STORED, NULL);
  g_clear_pointer (&answer, json_node_unref);
  answer = mr_flow_spec_to_json (spec, MR_SPEC_JSON_STORED, NULL);
  a = json_to_string (answer, FALSE);
  b = json_to_string (again, FALSE);
  g_assert_cmpstr (a, ==, b);
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
  g_test_add_func ("/flow-spec-patch/not-taken", test_not_taken);
  g_test_add_func ("/flow-spec-patch/read-back", test_read_back);
  g_test_add_func ("/flow-spec-patch/not-an-object", test_not_an_object);
  return g_test_run ();
}
