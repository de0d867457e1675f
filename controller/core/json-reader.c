/* mroute: the one way a JSON text from outside becomes a JsonNode. */

#define G_LOG_DOMAIN "mroute-json"
#include "json-reader.h"

#include <string.h>

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

/* \uXXXX at @p (after the backslash) with @end the end of the text: its
 * code unit, or -1 */
static gint
unicode_escape (const gchar * p, const gchar * end)
{
  gint unit = 0;

  if (end - p < 5 || p[0] != 'u')
    return -1;
  for (guint i = 1; i < 5; i++) {
    gint digit = g_ascii_xdigit_value (p[i]);
    if (digit < 0)
      return -1;
    unit = unit << 4 | digit;
  }
  return unit;
}

/* json-glib reads more than JSON, and the depth count has to know where
 * its strings end: it takes 'single-quoted' strings and comments (a '"'
 * inside either would hide every bracket after it from the count; and 1.6
 * ends a comment at the first '/'), and reads four characters after \u,
 * and six more after a high surrogate, whatever they are (a quote among
 * them does not end the string).  None of that is JSON: the first byte of
 * it is refused.  Returns its offset, or -1, and why in @what. */
static gssize
find_non_json (const gchar * data, gsize len, const gchar ** what)
{
  const gchar *end = data + len;
  gboolean in_string = FALSE;

  for (const gchar * p = data; p < end; p++) {
    gint unit;

    if (!in_string) {
      if (*p == '"') {
        in_string = TRUE;
      } else if (*p == '\'' || *p == '/') {
        *what = "single quotes and comments are not JSON";
        return p - data;
      }
      continue;
    }
    if (*p == '"') {
      in_string = FALSE;
    } else if (*p == '\\') {
      if (p + 1 < end && strchr ("\"\\/bfnrt", p[1]) && p[1]) {
        p++;
        continue;
      }
      *what = "not a JSON escape";
      unit = unicode_escape (p + 1, end);
      if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff))
        return p - data;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        gint low = end - p >= 12 && p[6] == '\\' ?
            unicode_escape (p + 7, end) : -1;
        if (low < 0xdc00 || low > 0xdfff)
          return p - data;
        p += 6;
      }
      p += 5;
    }
  }
  return -1;
}

JsonNode *
mr_json_read_object (const gchar * data, gsize len, gsize max_bytes,
    guint max_depth, GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) err = NULL;
  JsonNode *root;
  const gchar *what = NULL;
  gssize at;

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
  if ((at = find_non_json (data, len, &what)) >= 0) {
    g_set_error (error, MR_JSON_READER_ERROR, MR_JSON_READER_ERROR_SYNTAX,
        "body: invalid JSON: byte %" G_GSSIZE_FORMAT ": %s", at, what);
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
    /* json-glib quotes the token it stopped at, decoded: "\377" or half a
     * surrogate pair is not UTF-8, and this message goes into a JSON answer */
    g_autofree gchar *valid = g_utf8_make_valid (err->message, -1);

    g_set_error (error, MR_JSON_READER_ERROR, MR_JSON_READER_ERROR_SYNTAX,
        "body: invalid JSON: %s", valid);
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
