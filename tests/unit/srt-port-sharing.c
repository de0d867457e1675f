/* Unit tests of the rule that lets srt-listener sources share an
 * ingest_port: each with its own stream_id (srtroutesrc routes the caller
 * by it); the same id twice, or a source without one, is refused with
 * the field that is wrong. */

#include "core/core.h"

static MrFlowSpec *
parse (const gchar * id_a, const gchar * id_b, const gchar * addr_b,
    GError ** error)
{
  g_autoptr (GString) text = g_string_new ("{\"name\": \"f\", \"sources\": [");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  const gchar *ids[2] = { id_a, id_b };

  for (guint i = 0; i < 2; i++) {
    g_string_append_printf (text, "%s{\"name\": \"s%u\", \"protocol\": "
        "\"srt-listener\", \"ingest_port\": 7001", i ? ", " : "", i);
    if (ids[i])
      g_string_append_printf (text, ", \"stream_id\": \"%s\"", ids[i]);
    if (i == 1 && addr_b)
      g_string_append_printf (text, ", \"ingest_address\": \"%s\"", addr_b);
    g_string_append (text, "}");
  }
  g_string_append (text, "], \"outputs\": [{\"name\": \"o\", \"protocol\": "
      "\"udp\", \"destination\": \"127.0.0.1\", \"port\": 6000}]}");
  g_assert_true (json_parser_load_from_data (parser, text->str, -1,
          &json_error));
  return mr_flow_spec_from_json (json_parser_get_root (parser),
      MR_SPEC_PARSE_REQUEST, NULL, error);
}

static void
refused (const gchar * id_a, const gchar * id_b, const gchar * addr_b,
    const gchar * field)
{
  g_autoptr (GError) error = NULL;
  MrFlowSpec *spec = parse (id_a, id_b, addr_b, &error);
  g_autofree gchar *got = NULL;

  g_assert_null (spec);
  g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
  got = mr_spec_error_field (error);
  g_assert_cmpstr (got, ==, field);
}

static void
test_different_ids_share (void)
{
  g_autoptr (GError) error = NULL;
  MrFlowSpec *spec = parse ("cam1", "cam2", NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (spec);
  mr_flow_spec_free (spec);
}

static void
test_same_id_refused (void)
{
  refused ("cam1", "cam1", NULL, "sources[1].stream_id");
}

static void
test_without_id_refused (void)
{
  refused ("cam1", NULL, NULL, "sources[1].ingest_port");
  refused (NULL, "cam2", NULL, "sources[1].ingest_port");
  refused (NULL, NULL, NULL, "sources[1].ingest_port");
}

static void
test_other_address_refused (void)
{
  /* one SRT socket per port: 0.0.0.0 and 127.0.0.1 would be two */
  refused ("cam1", "cam2", "127.0.0.1", "sources[1].ingest_port");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/srt-port-sharing/different-ids", test_different_ids_share);
  g_test_add_func ("/srt-port-sharing/same-id", test_same_id_refused);
  g_test_add_func ("/srt-port-sharing/without-id", test_without_id_refused);
  g_test_add_func ("/srt-port-sharing/other-address",
      test_other_address_refused);
  return g_test_run ();
}
