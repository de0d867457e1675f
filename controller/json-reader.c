/* mroute: the one way a JSON text from outside becomes a JsonNode. */

#include "json-reader.h"

G_DEFINE_QUARK (mr-json-reader-error-quark, mr_json_reader_error);

guint
mr_json_depth (const gchar * data, gsize len, guint stop_at)
{
  guint depth = 0, deepest = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++) {
    gchar c = data[i];

    if (in_string) {
      if (c == '\\')
        i++;                    /* whatever is escaped is not a quote */
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    switch (c) {
      case '"':
        in_string = TRUE;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > stop_at)
            return deepest;
        }
        break;
      case ']':
      case '}':
        /* more closing than opening is json-glib's syntax error to find */
        if (depth > 0)
          depth--;
        break;
      default:
        break;
    }
  }
  return deepest;
}

JsonNode *
mr_json_read_object (const gchar * data, gsize len, gsize max_bytes,
    guint max_depth, GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) err = NULL;
  JsonNode *root;

  if (!data || len == 0) {
    g_set_error_literal (error, MR_JSON_READER_ERROR,
        MR_JSON_READER_ERROR_EMPTY, "body: a JSON object is required");
    return NULL;
  }
  if (max_bytes && len > max_bytes) {
    g_set_error (error, MR_JSON_READER_ERROR, MR_JSON_READER_ERROR_TOO_LARGE,
        "body: larger than %" G_GSIZE_FORMAT " bytes", max_bytes);
    return NULL;
  }
  if (!g_utf8_validate_len (data, len, NULL)) {
    g_set_error_literal (error, MR_JSON_READER_ERROR,
        MR_JSON_READER_ERROR_NOT_UTF8, "body: invalid JSON: not UTF-8");
    return NULL;
  }
  if (mr_json_depth (data, len, max_depth) > max_depth) {
    g_set_error (error, MR_JSON_READER_ERROR, MR_JSON_READER_ERROR_TOO_DEEP,
        "body: nested deeper than %u levels of arrays and objects",
        max_depth);
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, &err)) {
    g_set_error (error, MR_JSON_READER_ERROR, MR_JSON_READER_ERROR_SYNTAX,
        "body: invalid JSON: %s", err->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error_literal (error, MR_JSON_READER_ERROR,
        MR_JSON_READER_ERROR_NOT_OBJECT, "body: must be a JSON object");
    return NULL;
  }
  return json_node_ref (root);
}
