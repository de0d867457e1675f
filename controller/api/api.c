/* mroute: the REST API: the server, keys, bodies, status codes and the
 * one error envelope, and the routes but those of one flow
 * (routes-flows.c).  No GStreamer, no SQLite. */

#define G_LOG_DOMAIN "mroute-api"
#include "api-private.h"

#include <string.h>

#include "core/core.h"
#include "prometheus.h"
#include "render.h"
#include "store/store.h"

#define NO_KEY_MESSAGE "this controller has no API key, so it answers only " \
  "clients on its own host (loopback): set [api] api_key in its " \
  "configuration or MROUTE_API_KEY in its environment, and send the key " \
  "in X-API-Key"

/* ---------------------------------------------------------------------- */
/* responses */

void
mr_api_respond (SoupServerMessage * msg, guint status, gchar * body)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, status, NULL);
  if (body)
    soup_server_message_set_response (msg, "application/json",
        SOUP_MEMORY_TAKE, body, strlen (body));
}

void
mr_api_respond_json (SoupServerMessage * msg, guint status, JsonNode * node)
{
  mr_api_respond (msg, status, json_to_string (node, FALSE));
  json_node_unref (node);
}

/* The one error envelope: {"error": "...", "field": "..."} */
static gchar *
error_envelope (const gchar * field, const gchar * message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  if (field) {
    json_builder_set_member_name (b, "field");
    json_builder_add_string_value (b, field);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

void
mr_api_write_error (SoupServerMessage * msg, guint status,
    const gchar * field, const gchar * message)
{
  mr_api_respond (msg, status, error_envelope (field, message));
}

static void
respond_gerror (SoupServerMessage * msg, const GError * error)
{
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  g_autofree gchar *field = mr_spec_error_field (error);

  if (error->domain == MR_SPEC_ERROR)
    status = SOUP_STATUS_BAD_REQUEST;
  else if (g_error_matches (error, MR_MANAGER_ERROR,
          MR_MANAGER_ERROR_NOT_FOUND))
    status = SOUP_STATUS_NOT_FOUND;
  else if (g_error_matches (error, MR_MANAGER_ERROR,
          MR_MANAGER_ERROR_CONFLICT))
    status = SOUP_STATUS_CONFLICT;
  else if (g_error_matches (error, MR_MANAGER_ERROR,
          MR_MANAGER_ERROR_DISABLED)
      || g_error_matches (error, MR_MANAGER_ERROR,
          MR_MANAGER_ERROR_NEEDS_STOP)) {
    const gchar *sep = strstr (error->message, ": ");

    status = SOUP_STATUS_CONFLICT;
    if (sep && !field)
      field = g_strndup (error->message, sep - error->message);
  } else if (g_error_matches (error, MR_MANAGER_ERROR,
          MR_MANAGER_ERROR_UNAVAILABLE)) {
    status = SOUP_STATUS_SERVICE_UNAVAILABLE;
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Retry-After", "1");
  }

  if (status == SOUP_STATUS_INTERNAL_SERVER_ERROR)
    g_warning ("internal error: %s", error->message);
  mr_api_write_error (msg, status, field, error->message);
}

/* Answers with @node and @ok, or with the error. */
void
mr_api_respond_result (SoupServerMessage * msg, guint ok, JsonNode * node,
    GError ** error)
{
  if (node)
    mr_api_respond_json (msg, ok, node);
  else
    respond_gerror (msg, *error);
  g_clear_error (error);
}

/* Answers with @flow (taken) rendered with the @warnings about the
 * request's body (NULL: none), or with the error. */
void
mr_api_respond_flow_warned (SoupServerMessage * msg, guint ok,
    MrFlowInfo * flow, GPtrArray * warnings, GError ** error)
{
  g_autoptr (MrFlowInfo) f = flow;
  JsonNode *node = f ? mr_render_flow (f) : NULL;

  if (node)
    mr_render_add_warnings (node, warnings);
  mr_api_respond_result (msg, ok, node, error);
}

/* Answers with @flow (taken) rendered, or with the error. */
void
mr_api_respond_flow (SoupServerMessage * msg, guint ok, MrFlowInfo * flow,
    GError ** error)
{
  mr_api_respond_flow_warned (msg, ok, flow, NULL, error);
}

/* ---------------------------------------------------------------------- */
/* requests */

JsonNode *
mr_api_parse_body (MrApi * api, SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (GError) error = NULL;
  gsize len;
  const gchar *data = g_bytes_get_data (bytes, &len);
  JsonNode *root;

  root = mr_json_read_object (data, len, api->max_body, MR_JSON_MAX_DEPTH,
      &error);
  if (!root)
    mr_api_write_error (msg, g_error_matches (error, MR_JSON_READER_ERROR,
            MR_JSON_READER_ERROR_TOO_LARGE) ?
        SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE : SOUP_STATUS_BAD_REQUEST, NULL,
        error->message);
  return root;
}

/* ?limit=N: 1 and up; the seed's "Maximum limit: 10,000" is where a
 * larger one stops (a Go client asking for "all" with a large number gets
 * the newest 10,000), not a refusal */
gboolean
mr_api_parse_limit (SoupServerMessage * msg, GHashTable * query, guint * limit)
{
  const gchar *v = query ? g_hash_table_lookup (query, "limit") : NULL;
  g_autoptr (GError) err = NULL;
  guint64 n;

  *limit = 100;
  if (!v)
    return TRUE;
  /* no sign, no space, no fraction: "-1" and "1.5" are refused here */
  if (!g_ascii_string_to_unsigned (v, 10, 0, G_MAXUINT64, &n, &err)) {
    if (!g_error_matches (err, G_NUMBER_PARSER_ERROR,
            G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
      n = 0;
    else
      n = G_MAXUINT64;          /* digits only, past 2^64: above the most */
  }
  if (n == 0) {
    mr_api_write_error (msg, SOUP_STATUS_BAD_REQUEST, "limit",
        "limit: must be a positive integer (above "
        G_STRINGIFY (MR_EVENTS_MAX_LIMIT) " counts as "
        G_STRINGIFY (MR_EVENTS_MAX_LIMIT) ")");
    return FALSE;
  }
  *limit = MIN (n, MR_EVENTS_MAX_LIMIT);
  return TRUE;
}

void
mr_api_method_not_allowed (SoupServerMessage * msg, const gchar * allow)
{
  g_autofree gchar *m = g_strdup_printf ("method %s is not allowed here "
      "(allowed: %s)", soup_server_message_get_method (msg), allow);

  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Allow", allow);
  mr_api_write_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL, m);
}

void
mr_api_not_found (SoupServerMessage * msg, const gchar * path)
{
  g_autofree gchar *m = g_strdup_printf ("no such path: %s", path);
  mr_api_write_error (msg, SOUP_STATUS_NOT_FOUND, NULL, m);
}

#define IS(m, name) (g_str_equal ((m), (name)))

static void
handle_health (MrApi * api, SoupServerMessage * msg, const gchar * method)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint total, active;

  if (!IS (method, "GET")) {
    mr_api_method_not_allowed (msg, "GET");
    return;
  }
  mr_manager_counts (api->manager, &total, &active);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "ok");
  json_builder_set_member_name (b, "total_flows");
  json_builder_add_int_value (b, total);
  json_builder_set_member_name (b, "active_flows");
  json_builder_add_int_value (b, active);
  if (api->cluster) {
    g_autoptr (GPtrArray) nodes = mr_cluster_nodes (api->cluster);

    json_builder_set_member_name (b, "node");
    json_builder_add_string_value (b, mr_cluster_node_id (api->cluster));
    json_builder_set_member_name (b, "cluster");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "nodes");
    json_builder_begin_array (b);
    for (guint i = 0; i < nodes->len; i++) {
      MrClusterNode *n = nodes->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, n->id);
      json_builder_set_member_name (b, "api_url");
      json_builder_add_string_value (b, n->api_url);
      json_builder_set_member_name (b, "alive");
      json_builder_add_boolean_value (b, n->alive);
      json_builder_set_member_name (b, "flows");
      json_builder_add_int_value (b, n->flows);
      json_builder_set_member_name (b, "max_flows");
      json_builder_add_int_value (b, n->max_flows);
      json_builder_set_member_name (b, "labels");
      json_builder_begin_object (b);
      for (guint l = 0; n->labels[l]; l++) {
        g_auto (GStrv) kv = g_strsplit (n->labels[l], "=", 2);

        json_builder_set_member_name (b, kv[0]);
        json_builder_add_string_value (b, kv[1] ? kv[1] : "");
      }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_set_member_name (b, "store_queries");
    json_builder_add_int_value (b, mr_cluster_store_queries (api->cluster));
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  mr_api_respond_json (msg, SOUP_STATUS_OK, json_builder_get_root (b));
}

/* controller/api/openapi.json, compiled in by glib-compile-resources
 * (controller/meson.build: c_name mr_api); declared here rather than by
 * including the generated header, which is no header of a layer
 * (tests/layers/check-includes.py) */
GResource *mr_api_get_resource (void);

/* GET /openapi.json: the OpenAPI document of this API
 * (controller/api/openapi.json, compiled in as a GResource).  It needs the
 * key like every path but /health: it says nothing secret, but /health
 * stays the one path open to all. */
static void
handle_openapi (SoupServerMessage * msg, const gchar * method)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) doc = NULL;
  gsize len;
  const gchar *data;

  if (!IS (method, "GET")) {
    mr_api_method_not_allowed (msg, "GET");
    return;
  }
  doc = g_resource_lookup_data (mr_api_get_resource (),
      "/org/mroute/api/openapi.json", G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (!doc) {
    g_warning ("internal error: %s", error->message);
    mr_api_write_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL,
        "the OpenAPI document is missing from this build");
    return;
  }
  data = g_bytes_get_data (doc, &len);
  mr_api_respond (msg, SOUP_STATUS_OK, NULL);
  /* the resource's data is the binary's own: static */
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_STATIC, data, len);
}

/* GET /hls/{flow}/{output}/{file}: an hls output's playlist or segment,
 * as the output wrote it (pipeline/transports/hls.c), mapped, not copied */
static void
handle_hls (MrApi * api, SoupServerMessage * msg, const gchar * method,
    const gchar * id, const gchar * output, const gchar * name)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GBytes) bytes = NULL;
  SoupMessageHeaders *h;

  if (!IS (method, "GET")) {
    mr_api_method_not_allowed (msg, "GET");
    return;
  }
  if (mr_api_forwarded (api, msg, id))
    return;
  if (!(path = mr_manager_hls_file (api->manager, id, output, name, &error))) {
    mr_api_respond_result (msg, 0, NULL, &error);
    return;
  }
  /* the output may have deleted it since (its window slid) */
  if (!(file = g_mapped_file_new (path, FALSE, NULL))) {
    mr_api_not_found (msg, soup_server_message_get_uri (msg) ?
        g_uri_get_path (soup_server_message_get_uri (msg)) : name);
    return;
  }
  bytes = g_mapped_file_get_bytes (file);
  mr_api_respond (msg, SOUP_STATUS_OK, NULL);
  h = soup_server_message_get_response_headers (msg);
  /* a live playlist changes every segment; a segment never */
  soup_message_headers_replace (h, "Cache-Control",
      IS (name, "index.m3u8") ? "no-cache" : "max-age=3600");
  soup_server_message_set_response (msg, IS (name, "index.m3u8") ?
      "application/vnd.apple.mpegurl" : "video/mp2t", SOUP_MEMORY_COPY, NULL,
      0);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
      bytes);
}

static void
handle_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  MrApi *api = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) raw = g_strsplit (path + (path[0] == '/'), "/", -1);
  g_autoptr (GPtrArray) seg = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;

  /* decoded segments, ignoring one trailing slash */
  for (guint i = 0; raw[i]; i++) {
    if (!raw[i + 1] && !*raw[i] && i > 0)
      break;
    g_ptr_array_add (seg, g_uri_unescape_string (raw[i], NULL));
  }
  g_ptr_array_add (seg, NULL);
#define SEG(i) ((const gchar *) seg->pdata[i])
#define NSEG (seg->len - 1)

  for (guint i = 0; i < NSEG; i++)
    if (!SEG (i)) {
      mr_api_write_error (msg, SOUP_STATUS_BAD_REQUEST, NULL, "malformed path");
      return;
    }

  if (NSEG == 0 || (NSEG == 1 && IS (SEG (0), ""))) {
    mr_api_handle_web (msg, method, NULL, 0, path);
  } else if (NSEG >= 2 && IS (SEG (0), "web")) {
    mr_api_handle_web (msg, method, (gchar **) seg->pdata + 1, NSEG - 1,
        path);
  } else if (NSEG == 1 && IS (SEG (0), "health")) {
    handle_health (api, msg, method);
  } else if (NSEG == 1 && IS (SEG (0), "openapi.json")) {
    handle_openapi (msg, method);
  } else if (NSEG == 4 && IS (SEG (0), "hls")) {
    handle_hls (api, msg, method, SEG (1), SEG (2), SEG (3));
  } else if (NSEG == 1 && IS (SEG (0), "metrics")) {
    if (!IS (method, "GET")) {
      mr_api_method_not_allowed (msg, "GET");
    } else {
      gchar *text = mr_prometheus_render (api->manager);

      mr_api_respond (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, MR_PROMETHEUS_CONTENT_TYPE,
          SOUP_MEMORY_TAKE, text, strlen (text));
    }
  } else if (NSEG == 2 && IS (SEG (0), "v1") && IS (SEG (1), "flows")) {
    g_autoptr (JsonNode) body = NULL;

    if (IS (method, "GET")) {
      g_autoptr (GPtrArray) flows = mr_manager_list_flows (api->manager);

      mr_api_respond_json (msg, SOUP_STATUS_OK, mr_render_flow_list (flows));
    } else if (!IS (method, "POST")) {
      mr_api_method_not_allowed (msg, "GET, POST");
    } else if ((body = mr_api_parse_body (api, msg))) {
      /* the body is read into a spec here, at the edge */
      g_autoptr (GPtrArray) warnings =
          g_ptr_array_new_with_free_func (g_free);
      MrFlowSpec *spec = mr_flow_spec_from_json (body, MR_SPEC_PARSE_REQUEST,
          warnings, &error);

      if (!spec)
        mr_api_respond_result (msg, 0, NULL, &error);
      else
        mr_api_respond_flow_warned (msg, SOUP_STATUS_CREATED,
            mr_manager_create_flow (api->manager, spec, &error), warnings,
            &error);
    }
  } else if (NSEG >= 3 && IS (SEG (0), "v1") && IS (SEG (1), "flows")) {
    mr_api_handle_flow (api, msg, method, SEG (2), (gchar **) seg->pdata + 3,
        NSEG - 3, query, path);
  } else if (NSEG == 4 && IS (SEG (0), "v1") && IS (SEG (1), "mediamtx")
      && IS (SEG (2), "events")
      && (IS (SEG (3), "ready") || IS (SEG (3), "not-ready"))) {
    g_autoptr (JsonNode) body = NULL;
    JsonNode *answer;
    guint status;

    if (!IS (method, "POST"))
      mr_api_method_not_allowed (msg, "POST");
    else if ((body = mr_api_parse_body (api, msg))) {
      answer = mr_mediamtx_hook (api->mediamtx, IS (SEG (3), "ready"), body,
          &status, &error);
      mr_api_respond_result (msg, status, answer, &error);
    }
  } else if (NSEG == 2 && IS (SEG (0), "v1") && IS (SEG (1), "events")) {
    guint limit;

    if (!IS (method, "GET"))
      mr_api_method_not_allowed (msg, "GET");
    else if (mr_api_parse_limit (msg, query, &limit))
      mr_api_handle_flow_reading (api, msg, NULL, "events", limit);
  } else {
    mr_api_not_found (msg, path);
  }
#undef SEG
#undef NSEG
}

static GBytes *
digest (const gchar * s)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 buf[32];
  gsize len = sizeof (buf);

  g_checksum_update (sum, (const guchar *) s, strlen (s));
  g_checksum_get_digest (sum, buf, &len);
  return g_bytes_new (buf, len);
}

/* Compares digests, so that the time taken says nothing of the key */
static gboolean
key_matches (MrApi * api, const gchar * given)
{
  g_autoptr (GBytes) d = digest (given);
  const guint8 *a, *b;
  gsize len;
  guint8 diff = 0;

  a = g_bytes_get_data (api->key_digest, &len);
  b = g_bytes_get_data (d, NULL);
  for (gsize i = 0; i < len; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

/* @path is @route, with or without one trailing slash */
static gboolean
is_route (const gchar * path, const gchar * route)
{
  gsize n = strlen (route);

  return strncmp (path, route, n) == 0 && (path[n] == '\0'
      || (path[n] == '/' && path[n + 1] == '\0'));
}

/* Everything needs the key but /health, the dashboard's files (web.c: they
 * hold no secret, and the page asks for the key) and, if so configured,
 * /metrics */
static gboolean
needs_key (MrApi * api, const gchar * path)
{
  if (!api->key_digest)
    return FALSE;
  if (is_route (path, "/health") || g_str_equal (path, "/")
      || g_str_has_prefix (path, "/web/"))
    return FALSE;
  if (api->metrics_public && is_route (path, "/metrics"))
    return FALSE;
  return TRUE;
}

/* 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6 (::ffff:127.x.y.z,
 * what an IPv6 socket that also takes IPv4 sees) */
static gboolean
is_loopback (GSocketAddress * sa)
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff
  };
  GInetAddress *a;
  const guint8 *bytes;

  if (!G_IS_INET_SOCKET_ADDRESS (sa))
    return FALSE;
  a = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa));
  if (g_inet_address_get_is_loopback (a))
    return TRUE;
  if (g_inet_address_get_family (a) != G_SOCKET_FAMILY_IPV6)
    return FALSE;
  bytes = g_inet_address_to_bytes (a);
  return memcmp (bytes, v4_mapped, sizeof (v4_mapped)) == 0
      && bytes[12] == 127;
}

/* Without a key only the controller's own host is answered, as MediaMTX
 * does: a controller left on 0.0.0.0 without a key must not hand its flows
 * to the whole network.  /health stays open to all, for monitoring probes
 * (it tells only the flow counts). */
static gboolean
refused_without_key (MrApi * api, SoupServerMessage * msg,
    const gchar * path)
{
  GSocketAddress *peer = soup_server_message_get_remote_address (msg);
  gint64 now;

  if (api->key_digest || is_route (path, "/health") || is_loopback (peer))
    return FALSE;
  now = g_get_monotonic_time ();
  if (!api->last_remote_refusal_log
      || now - api->last_remote_refusal_log > 10 * G_USEC_PER_SEC) {
    const gchar *host = soup_server_message_get_remote_host (msg);

    api->last_remote_refusal_log = now;
    g_message ("api: %s %s from %s refused: no API key is configured, so "
        "only loopback clients are answered (this line at most every 10 s)",
        soup_server_message_get_method (msg), path, host ? host : "?");
  }
  return TRUE;
}

/* Refuses a request from its headers.  libsoup still reads the body before
 * it answers (at once only for "Expect: 100-continue"), so the body is not
 * kept: what is read is dropped, whatever its size, and the connection
 * closes after the answer. */
static void
refuse_early (SoupServerMessage * msg, guint status, const gchar * message)
{
  soup_message_body_set_accumulate (soup_server_message_get_request_body
      (msg), FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  mr_api_write_error (msg, status, NULL, message);
}

/* "http://host:port" of an Origin header is the Host the request went to */
static gboolean
same_origin (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *origin = soup_message_headers_get_one (h, "Origin");
  const gchar *host = soup_message_headers_get_one (h, "Host");
  g_autoptr (GUri) uri = NULL;
  g_autofree gchar *origin_host = NULL;
  const gchar *name;

  if (!origin)
    return TRUE;                /* not a browser */
  if (!host || !(uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL))
      || !(name = g_uri_get_host (uri)))
    return FALSE;
  origin_host = g_strdup_printf (strchr (name, ':') ? "[%s]" : "%s", name);
  if (g_uri_get_port (uri) > 0) {
    gchar *with_port = g_strdup_printf ("%s:%d", origin_host,
        g_uri_get_port (uri));

    g_free (origin_host);
    origin_host = with_port;
  }
  return g_ascii_strcasecmp (origin_host, host) == 0;
}

/* GET /v1/ws: with an API key, the key or a ticket (a browser cannot set
 * the header on a WebSocket); without one (loopback clients only), a
 * browser's page of the same origin only, so that no other site the
 * operator has open can read the flows. */
static gboolean
websocket_allowed (MrApi * api, SoupServerMessage * msg, GHashTable * query)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *key = soup_message_headers_get_one (h, "X-API-Key");

  if (!api->key_digest) {
    if (same_origin (msg))
      return TRUE;
    g_message ("api: GET " MR_WS_PATH " refused: Origin is another site");
    refuse_early (msg, SOUP_STATUS_FORBIDDEN, "a WebSocket from a page of "
        "another origin: without an API key only the controller's own "
        "pages may connect");
    return FALSE;
  }
  if ((key && *key && key_matches (api, key))
      || mr_ws_hub_take_ticket (api->ws, query))
    return TRUE;
  g_message ("api: GET " MR_WS_PATH " refused: no valid ticket");
  refuse_early (msg, SOUP_STATUS_UNAUTHORIZED, "GET " MR_WS_PATH " needs a "
      "ticket: POST " MR_WS_TICKETS_PATH " with X-API-Key, then connect to "
      MR_WS_PATH "?ticket=... within " G_STRINGIFY (MR_WS_TICKET_TTL_S)
      " s (once)");
  return FALSE;
}

/* From the headers, before any body is kept: the API key, then the body's
 * size (a body of unknown size is refused: 411). */
static void
handle_early (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  MrApi *api = user_data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (h);

  if (refused_without_key (api, msg, path)) {
    refuse_early (msg, SOUP_STATUS_FORBIDDEN, NO_KEY_MESSAGE);
    return;
  }
  if (g_str_equal (path, MR_WS_PATH)) {
    if (!websocket_allowed (api, msg, query))
      return;
  } else if (needs_key (api, path)) {
    const gchar *key = soup_message_headers_get_one (h, "X-API-Key");

    if (!key || !*key) {
      refuse_early (msg, SOUP_STATUS_UNAUTHORIZED,
          "missing X-API-Key header: this controller needs an API key");
      return;
    }
    if (!key_matches (api, key)) {
      g_message ("api: %s %s refused: wrong API key",
          soup_server_message_get_method (msg), path);
      refuse_early (msg, SOUP_STATUS_UNAUTHORIZED,
          "wrong API key (X-API-Key)");
      return;
    }
  }

  if (encoding == SOUP_ENCODING_CONTENT_LENGTH
      && (guint64) soup_message_headers_get_content_length (h)
      > api->max_body) {
    g_autofree gchar *m = g_strdup_printf ("body: larger than %" G_GSIZE_FORMAT
        " bytes", api->max_body);
    refuse_early (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, m);
  } else if (encoding == SOUP_ENCODING_CHUNKED) {
    refuse_early (msg, SOUP_STATUS_LENGTH_REQUIRED,
        "body: send a Content-Length (chunked bodies are not accepted)");
  }
}

MrApi *
mr_api_new (MrManager * manager)
{
  MrApi *api = g_new0 (MrApi, 1);
  const MrConfig *config = mr_manager_get_config (manager);
  MrHttpLimits limits = {
    .header_timeout_ms = config->header_timeout_sec * 1000,
    .body_timeout_ms = config->body_timeout_sec * 1000,
    .max_connections = config->max_connections,
  };
  g_autofree gchar *too_many = g_strdup_printf ("too many connections: "
      "this controller serves at most %d at once ([api] max_connections); "
      "try again later", config->max_connections);
  g_autofree gchar *overflow_body = error_envelope (NULL, too_many);

  api->manager = manager;
  api->mediamtx = mr_mediamtx_new (manager, config->mediamtx_grace_sec);
  if (config->api_key)
    api->key_digest = digest (config->api_key);
  api->metrics_public = config->metrics_public;
  api->max_body = config->max_body_bytes;
  api->server = soup_server_new ("server-header", "mroute ", NULL);
  soup_server_add_early_handler (api->server, NULL, handle_early, api, NULL);
  soup_server_add_handler (api->server, NULL, handle_request, api, NULL);
  api->ws = mr_ws_hub_new (api->server, manager);
  /* a path with handlers of its own needs the early one too */
  soup_server_add_early_handler (api->server, MR_WS_PATH, handle_early, api,
      NULL);
  api->guard = mr_http_guard_new (api->server, &limits, overflow_body);
  return api;
}

void
mr_api_set_cluster (MrApi * api, MrCluster * cluster)
{
  api->cluster = cluster;
}

gboolean
mr_api_forwarded (MrApi * api, SoupServerMessage * msg, const gchar * id)
{
  return api->cluster && mr_cluster_forward (api->cluster, msg, id);
}

void
mr_api_set_key (MrApi * api, const gchar * api_key, gboolean metrics_public)
{
  g_clear_pointer (&api->key_digest, g_bytes_unref);
  if (api_key)
    api->key_digest = digest (api_key);
  api->metrics_public = metrics_public;
}

GTlsCertificate *
mr_api_load_certificate (const gchar * cert_path, const gchar * key_path,
    GError ** error)
{
  g_autoptr (GError) err = NULL;
  GTlsCertificate *cert;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "[api] tls_certificate: GIO has no TLS backend here: install "
        "glib-networking");
    return NULL;
  }
  /* the error names the files, never their contents */
  cert = g_tls_certificate_new_from_files (cert_path, key_path, &err);
  if (!cert) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "[api] tls_certificate '%s', tls_key '%s': %s", cert_path, key_path,
        err->message);
    return NULL;
  }
  return cert;
}

guint
mr_api_connections (MrApi * api)
{
  return mr_http_guard_count (api->guard);
}

/* The guard accepts the connections (see http-guard.h) */
gboolean
mr_api_listen (MrApi * api, const gchar * host, gint port,
    GTlsCertificate * tls, GError ** error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) sa = NULL;

  if (!addr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "[api] host: '%s' is not an IP address", host);
    return FALSE;
  }
  sa = g_inet_socket_address_new (addr, port);
  return mr_http_guard_listen (api->guard, sa, tls, error);
}

void
mr_api_free (MrApi * api)
{
  if (!api)
    return;
  mr_ws_hub_free (api->ws);
  mr_http_guard_free (api->guard);
  soup_server_disconnect (api->server);
  g_object_unref (api->server);
  mr_mediamtx_free (api->mediamtx);
  g_clear_pointer (&api->key_digest, g_bytes_unref);
  g_free (api);
}
