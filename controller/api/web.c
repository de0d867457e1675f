/* mroute: the dashboard's files (web/, compiled into the binary as a
 * GResource by controller/meson.build): GET / answers web/index.html,
 * GET /web/NAME the file NAME of web/.  They hold no secret and load
 * without the API key (api.c: needs_key); the page asks for the key when
 * an API call answers 401.  No GStreamer, no SQLite. */

#define G_LOG_DOMAIN "mroute-api"
#include "api-private.h"

#include <string.h>

#define WEB_PREFIX "/org/mroute/web/"

/* web/web.gresource.xml, compiled in by glib-compile-resources (c_name
 * mr_web); declared here rather than by including the generated header,
 * which is no header of a layer (tests/layers/check-includes.py) */
GResource *mr_web_get_resource (void);

static const struct
{
  const gchar *suffix;
  const gchar *type;
} content_types[] = {
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".css", "text/css; charset=utf-8"},
  {".svg", "image/svg+xml"},
  {".png", "image/png"},
};

static const gchar *
content_type_of (const gchar * name)
{
  for (guint i = 0; i < G_N_ELEMENTS (content_types); i++)
    if (g_str_has_suffix (name, content_types[i].suffix))
      return content_types[i].type;
  return NULL;
}

/* One decoded path segment of a file name: letters, digits, '-', '_' and
 * '.', not starting with '.': no "..", no hidden file, no separator that
 * decoding could have brought in ("%2F"). */
static gboolean
is_file_name (const gchar * s)
{
  if (!*s || *s == '.' || strlen (s) > 64)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_' && *s != '.')
      return FALSE;
  return TRUE;
}

/* @names: the decoded segments after "/web" (empty for "/"), @n of them */
void
mr_api_handle_web (SoupServerMessage * msg, const gchar * method,
    gchar ** names, guint n, const gchar * path)
{
  g_autoptr (GBytes) data = NULL;
  g_autofree gchar *resource = NULL;
  const gchar *name = n == 0 ? "index.html" : names[0];
  const gchar *type = content_type_of (name);
  SoupMessageHeaders *headers;
  gconstpointer bytes;
  gsize len;

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    mr_api_method_not_allowed (msg, "GET");
    return;
  }
  if (n > 1 || !is_file_name (name) || !type) {
    mr_api_not_found (msg, path);
    return;
  }
  resource = g_strconcat (WEB_PREFIX, name, NULL);
  data = g_resource_lookup_data (mr_web_get_resource (), resource,
      G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (!data) {
    mr_api_not_found (msg, path);
    return;
  }

  bytes = g_bytes_get_data (data, &len);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  headers = soup_server_message_get_response_headers (msg);
  /* the files change with the binary: always ask again (a 200 of a few
   * KiB from memory), never use an old page against a new API */
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Content-Security-Policy",
      "default-src 'self'; img-src 'self' blob: data:; "
      "connect-src 'self'; style-src 'self'; script-src 'self'; "
      "frame-ancestors 'none'");
  /* the resource's data is the binary's own (uncompressed): static */
  soup_server_message_set_response (msg, type, SOUP_MEMORY_STATIC, bytes,
      len);
}
