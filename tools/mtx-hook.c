/* mtx-hook: MediaMTX's runOnReady / runOnNotReady hook for mroute.
 *
 *   runOnReady: mtx-hook ready
 *   runOnNotReady: mtx-hook not-ready
 *
 * Reads MTX_PATH, MTX_QUERY, MTX_SOURCE_TYPE and MTX_SOURCE_ID, builds the
 * JSON with a JSON library (whatever the query holds), posts it to
 * $MROUTE_URL/v1/mediamtx/events/<event> (default http://127.0.0.1:8080)
 * with $MROUTE_API_KEY as X-API-Key if set, and exits 0 on a 2xx answer,
 * 1 on any failure (printed to stderr, so that it shows in MediaMTX's log),
 * 2 on a usage error. */

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#define TIMEOUT_S 10

static const gchar *
env (const gchar * name)
{
  const gchar *v = g_getenv (name);
  return v ? v : "";
}

int
main (int argc, char **argv)
{
  const gchar *event = argc == 2 ? argv[1] : NULL;
  const gchar *base = g_getenv ("MROUTE_URL");
  const gchar *key = g_getenv ("MROUTE_API_KEY");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autofree gchar *json = NULL;
  guint status;
  gsize len;

  if (!event || (strcmp (event, "ready") != 0
          && strcmp (event, "not-ready") != 0)) {
    g_printerr ("usage: mtx-hook ready|not-ready\n"
        "  reads MTX_PATH, MTX_QUERY, MTX_SOURCE_TYPE, MTX_SOURCE_ID;\n"
        "  posts to $MROUTE_URL (default http://127.0.0.1:8080), with\n"
        "  $MROUTE_API_KEY as X-API-Key when set\n");
    return 2;
  }
  if (!*env ("MTX_PATH")) {
    g_printerr ("mtx-hook: MTX_PATH is not set: run me from MediaMTX's "
        "runOnReady / runOnNotReady\n");
    return 2;
  }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, env ("MTX_PATH"));
  json_builder_set_member_name (b, "query");
  json_builder_add_string_value (b, env ("MTX_QUERY"));
  json_builder_set_member_name (b, "sourceType");
  json_builder_add_string_value (b, env ("MTX_SOURCE_TYPE"));
  json_builder_set_member_name (b, "sourceId");
  json_builder_add_string_value (b, env ("MTX_SOURCE_ID"));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = json_to_string (root, FALSE);

  url = g_strdup_printf ("%s/v1/mediamtx/events/%s",
      base && *base ? base : "http://127.0.0.1:8080", event);
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
      || !(msg = soup_message_new_from_uri ("POST", uri))) {
    g_printerr ("mtx-hook: MROUTE_URL gives an invalid URL: %s\n", url);
    return 2;
  }
  len = strlen (json);
  body = g_bytes_new_take (g_steal_pointer (&json), len);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  if (key && *key)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "X-API-Key", key);
  session = soup_session_new_with_options ("timeout", TIMEOUT_S, NULL);
  reply = soup_session_send_and_read (session, msg, NULL, &error);
  if (!reply) {
    g_printerr ("mtx-hook: %s %s: %s\n", event, env ("MTX_PATH"),
        error->message);
    return 1;
  }
  status = soup_message_get_status (msg);
  if (status < 200 || status > 299) {
    g_printerr ("mtx-hook: %s %s: HTTP %u: %.*s\n", event, env ("MTX_PATH"),
        status, (int) g_bytes_get_size (reply),
        (const gchar *) g_bytes_get_data (reply, NULL));
    return 1;
  }
  return 0;
}
