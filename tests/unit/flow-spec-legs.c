/* Unit tests of a 1+1 flow's spec (core/flow-spec.h): "redundancy" (1 by
 * default, or 2) and an output's "legs" (two destinations, one per slot,
 * only in a flow with redundancy 2, only for udp and rtp): parsed, every
 * wrong value an error naming its field, written back the same for the
 * API and for storage, patched; mr_flow_spec_for_leg () gives each slot
 * its leg as the output's destination.  Run under valgrind: the error
 * paths free what they parsed. */

#include <string.h>

#include "core/core.h"

#define SOURCES "\"sources\": [{\"name\": \"in\", \"protocol\": \"rtp\", " \
  "\"ingest_port\": 5000}]"
#define LEGS "[{\"address\": \"10.0.0.1\", \"port\": 6000}, " \
  "{\"address\": \"leg-b.example\", \"port\": 6002}]"

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
parse (const gchar * text, GError ** error)
{
  g_autoptr (JsonNode) node = json (text);

  return mr_flow_spec_from_json (node, MR_SPEC_PARSE_REQUEST, NULL, error);
}

/* @text must be refused, naming @field */
static void
assert_refused (const gchar * text, const gchar * field)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) spec = parse (text, &error);
  g_autofree gchar *got = NULL;

  g_assert_null (spec);
  g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
  got = mr_spec_error_field (error);
  if (g_strcmp0 (got, field) != 0)
    g_error ("%s: refused about '%s' (%s), not '%s'", text, got,
        error->message, field);
}

static void
test_redundancy (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) one = parse ("{\"name\": \"f\", " SOURCES "}",
      &error);
  g_autoptr (MrFlowSpec) two = NULL;
  const gchar *bad[] = { "0", "3", "-1", "\"2\"", "1.5", "true", "[2]",
    "{}", "9223372036854775807"
  };

  g_assert_no_error (error);
  g_assert_cmpint (one->redundancy, ==, 1);
  two = parse ("{\"name\": \"f\", \"redundancy\": 2, " SOURCES "}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (two->redundancy, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *text = g_strdup_printf ("{\"name\": \"f\", "
        "\"redundancy\": %s, " SOURCES "}", bad[i]);

    assert_refused (text, "redundancy");
  }
}

static void
test_legs_refused (void)
{
  static const struct
  {
    const gchar *redundancy, *output, *field;
  } cases[] = {
    /* legs need redundancy 2 */
    {"1", "\"protocol\": \"rtp\", \"legs\": " LEGS, "outputs[0].legs"},
    /* exactly two */
    {"2", "\"protocol\": \"rtp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": 1}]", "outputs[0].legs"},
    {"2", "\"protocol\": \"rtp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": 1}, {\"address\": \"h\", \"port\": 2}, {\"address\": "
          "\"h\", \"port\": 3}]", "outputs[0].legs"},
    {"2", "\"protocol\": \"rtp\", \"legs\": {}", "outputs[0].legs"},
    {"2", "\"protocol\": \"rtp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": 1}, 5]", "outputs[0].legs[1]"},
    /* each a valid address and port */
    {"2", "\"protocol\": \"rtp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": 1}, {\"address\": \"h\", \"port\": 65536}]",
        "outputs[0].legs[1].port"},
    {"2", "\"protocol\": \"udp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": 0}, {\"address\": \"h\", \"port\": 1}]",
        "outputs[0].legs[0].port"},
    {"2", "\"protocol\": \"udp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": \"1\"}, {\"address\": \"h\", \"port\": 1}]",
        "outputs[0].legs[0].port"},
    {"2", "\"protocol\": \"udp\", \"legs\": [{\"address\": \"h\"}, "
          "{\"address\": \"h\", \"port\": 1}]", "outputs[0].legs[0].port"},
    {"2", "\"protocol\": \"udp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": 1}, {\"port\": 1}]", "outputs[0].legs[1].address"},
    {"2", "\"protocol\": \"udp\", \"legs\": [{\"address\": \"h\", "
          "\"port\": 1}, {\"address\": \"a b\", \"port\": 1}]",
        "outputs[0].legs[1].address"},
    {"2", "\"protocol\": \"udp\", \"legs\": [{\"address\": 7, "
          "\"port\": 1}, {\"address\": \"h\", \"port\": 1}]",
        "outputs[0].legs[0].address"},
    /* only udp and rtp */
    {"2", "\"protocol\": \"srt-caller\", \"legs\": " LEGS, "outputs[0].legs"},
    {"2", "\"protocol\": \"hls\", \"legs\": " LEGS, "outputs[0].legs"},
    /* without legs, an rtp output still needs its destination */
    {"2", "\"protocol\": \"rtp\", \"legs\": []", "outputs[0].destination"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text = g_strdup_printf ("{\"name\": \"f\", "
        "\"redundancy\": %s, " SOURCES ", \"outputs\": [{\"name\": \"o\", "
        "%s}]}", cases[i].redundancy, cases[i].output);

    assert_refused (text, cases[i].field);
  }
}

static void
test_legs_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) spec = parse ("{\"name\": \"f\", \"redundancy\": 2, "
      SOURCES ", \"outputs\": [{\"name\": \"o\", \"protocol\": \"rtp\", "
      "\"legs\": " LEGS "}, {\"name\": \"p\", \"protocol\": \"udp\", "
      "\"destination\": \"127.0.0.1\", \"port\": 7000}]}", &error);
  g_autoptr (JsonNode) stored = NULL;
  g_autoptr (JsonNode) shown = NULL;
  g_autoptr (MrFlowSpec) back = NULL;
  g_autoptr (JsonNode) again = NULL;
  MrEndpoint *o;

  g_assert_no_error (error);
  o = spec->outputs->pdata[0];
  g_assert_true (mr_endpoint_has_legs (o));
  g_assert_null (o->destination);
  g_assert_cmpstr (o->legs[0].address, ==, "10.0.0.1");
  g_assert_cmpint (o->legs[0].port, ==, 6000);
  g_assert_cmpstr (o->legs[1].address, ==, "leg-b.example");
  g_assert_cmpint (o->legs[1].port, ==, 6002);
  g_assert_false (mr_endpoint_has_legs (spec->outputs->pdata[1]));

  spec->id = g_strdup ("flow_000000000001");
  stored = mr_flow_spec_to_json (spec, MR_SPEC_JSON_STORED, NULL);
  back = mr_flow_spec_from_json (stored, MR_SPEC_PARSE_STORED, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->redundancy, ==, 2);
  again = mr_flow_spec_to_json (back, MR_SPEC_JSON_STORED, NULL);
  g_assert_true (json_node_equal (stored, again));
  shown = mr_flow_spec_to_json (spec, MR_SPEC_JSON_PUBLIC, NULL);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (shown),
          "redundancy"), ==, 2);
  g_assert_cmpint (json_array_get_length (json_object_get_array_member
          (json_array_get_object_element (json_object_get_array_member
                  (json_node_get_object (shown), "outputs"), 0), "legs")), ==,
      2);
}

static void
test_for_leg (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) spec = parse ("{\"name\": \"f\", \"redundancy\": 2, "
      SOURCES ", \"outputs\": [{\"name\": \"o\", \"protocol\": \"rtp\", "
      "\"destination\": \"192.0.2.1\", \"port\": 5555, \"legs\": " LEGS "}, "
      "{\"name\": \"p\", \"protocol\": \"udp\", \"destination\": "
      "\"127.0.0.1\", \"port\": 7000}]}", &error);
  g_autoptr (MrFlowSpec) slot0 = NULL;
  g_autoptr (MrFlowSpec) slot1 = NULL;
  g_autoptr (MrFlowSpec) slot1_again = NULL;
  MrEndpoint *o, *p;

  g_assert_no_error (error);
  slot0 = mr_flow_spec_for_leg (spec, 0);
  slot1 = mr_flow_spec_for_leg (spec, 1);
  o = slot0->outputs->pdata[0];
  g_assert_cmpstr (o->destination, ==, "10.0.0.1");
  g_assert_cmpint (o->port, ==, 6000);
  o = slot1->outputs->pdata[0];
  g_assert_cmpstr (o->destination, ==, "leg-b.example");
  g_assert_cmpint (o->port, ==, 6002);
  /* the legs stay: the runner's copy can take the other slot */
  slot1_again = mr_flow_spec_for_leg (slot0, 1);
  o = slot1_again->outputs->pdata[0];
  g_assert_cmpstr (o->destination, ==, "leg-b.example");
  /* an output without legs keeps its own */
  p = slot1->outputs->pdata[1];
  g_assert_cmpstr (p->destination, ==, "127.0.0.1");
  g_assert_cmpint (p->port, ==, 7000);
  /* the spec itself is untouched */
  o = spec->outputs->pdata[0];
  g_assert_cmpstr (o->destination, ==, "192.0.2.1");
}

static void
test_patch (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MrFlowSpec) spec = parse ("{\"name\": \"f\", \"redundancy\": 2, "
      SOURCES ", \"outputs\": [{\"name\": \"o\", \"protocol\": \"rtp\", "
      "\"legs\": " LEGS "}]}", &error);
  g_autoptr (JsonNode) down = json ("{\"redundancy\": 1}");
  g_autoptr (JsonNode) bad = json ("{\"redundancy\": 5}");
  g_autoptr (JsonNode) to_srt = json ("{\"protocol\": \"srt-caller\", "
      "\"destination\": \"h\", \"port\": 9000}");
  g_autoptr (JsonNode) none = json ("{\"legs\": [], \"destination\": \"h\", "
      "\"port\": 9000}");
  g_autoptr (MrFlowSpec) p = NULL;
  g_autoptr (MrEndpoint) e = NULL;
  g_autoptr (MrEndpoint) f = NULL;
  g_autofree gchar *field = NULL;

  g_assert_no_error (error);
  /* legs hold the flow at 2 */
  p = mr_flow_spec_patch (spec, down, NULL, &error);
  g_assert_null (p);
  field = mr_spec_error_field (error);
  g_assert_cmpstr (field, ==, "outputs[0].legs");
  g_clear_error (&error);
  p = mr_flow_spec_patch (spec, bad, NULL, &error);
  g_assert_null (p);
  g_clear_error (&error);
  g_assert_cmpint (spec->redundancy, ==, 2);

  /* another protocol without legs loses them, as other fields it does not
   * use */
  e = mr_endpoint_patch (spec->outputs->pdata[0], to_srt, "outputs[0]", NULL,
      &error);
  g_assert_no_error (error);
  g_assert_false (mr_endpoint_has_legs (e));
  f = mr_endpoint_patch (spec->outputs->pdata[0], none, "outputs[0]", NULL,
      &error);
  g_assert_no_error (error);
  g_assert_false (mr_endpoint_has_legs (f));
  g_assert_true (mr_endpoint_has_legs (spec->outputs->pdata[0]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flow-spec-legs/redundancy", test_redundancy);
  g_test_add_func ("/flow-spec-legs/refused", test_legs_refused);
  g_test_add_func ("/flow-spec-legs/round-trip", test_legs_round_trip);
  g_test_add_func ("/flow-spec-legs/for-leg", test_for_leg);
  g_test_add_func ("/flow-spec-legs/patch", test_patch);
  return g_test_run ();
}
