/* mroute: live updates over a WebSocket: see websocket.h and docs/api.md
 * "Live updates over a WebSocket". */

#define G_LOG_DOMAIN "mroute-api"
#include "websocket.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <linux/sockios.h>

#include "api-private.h"
#include "core/core.h"
#include "render.h"

#define MR_WS_PROTOCOL "mroute.v1"
/* tickets waiting at once, at most */
#define MAX_TICKETS 1024
/* flows one client may name, at most */
#define MAX_SUBSCRIBED 1000
#define TICK_MS 1000
/* libsoup pings an idle peer this often (s): a dead one is found */
#define KEEPALIVE_S 30

typedef struct
{
  MrWsHub *hub;
  SoupWebsocketConnection *conn;        /* ref */
  gchar *peer;
  gboolean all;                 /* "*": every flow */
  GHashTable *flows;            /* flow id -> NULL */
  GSocket *socket;              /* ref, for its send queue; NULL: unknown */
  gint last_outq;
  gint64 progress_at;           /* monotonic µs: the queue was empty or
                                 * shrank */
} MrWsClient;

struct _MrWsHub
{
  SoupServer *server;           /* borrowed */
  MrManager *manager;           /* borrowed */
  GPtrArray *clients;           /* MrWsClient* */
  GHashTable *tickets;          /* hex SHA-256 of a ticket -> expiry (µs,
                                 * monotonic, in a gint64*) */
  GHashTable *known;            /* flow ids of the last tick */
  guint timer;
};

/* ---------------------------------------------------------------------- */
/* sending */

static gchar *
now_string (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static void
client_send (MrWsClient * c, const gchar * text)
{
  if (soup_websocket_connection_get_state (c->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (c->conn, text);
}

static void
client_send_node (MrWsClient * c, JsonNode * node)
{
  g_autofree gchar *text = json_to_string (node, FALSE);

  client_send (c, text);
  json_node_unref (node);
}

static void
client_send_error (MrWsClient * c, const gchar * message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  client_send_node (c, json_builder_get_root (b));
}

static gboolean
client_wants (MrWsClient * c, const gchar * flow_id)
{
  return flow_id && (c->all || g_hash_table_contains (c->flows, flow_id));
}

/* ---------------------------------------------------------------------- */
/* a client */

/* The socket under libsoup's stream (plain, or under TLS), to read how
 * much waits in its send queue */
static GSocket *
socket_of (GIOStream * stream)
{
  for (guint depth = 0; stream && depth < 4; depth++) {
    GParamSpec *base;

    if (G_IS_SOCKET_CONNECTION (stream))
      return g_object_ref (g_socket_connection_get_socket
          (G_SOCKET_CONNECTION (stream)));
    base = g_object_class_find_property (G_OBJECT_GET_CLASS (stream),
        "base-io-stream");
    if (!base)
      base = g_object_class_find_property (G_OBJECT_GET_CLASS (stream),
          "base-iostream");
    if (!base || base->value_type != G_TYPE_IO_STREAM)
      return NULL;
    {
      g_autoptr (GIOStream) next = NULL;

      g_object_get (stream, base->name, &next, NULL);
      stream = next;            /* the object owns it: borrowed */
    }
  }
  return NULL;
}

static void
client_free (MrWsClient * c)
{
  g_signal_handlers_disconnect_by_data (c->conn, c);
  g_object_unref (c->conn);
  g_clear_object (&c->socket);
  g_hash_table_unref (c->flows);
  g_free (c->peer);
  g_free (c);
}

static int
compare_ids (const void *a, const void *b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

static void
send_subscribed (MrWsClient * c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "subscribed");
  json_builder_set_member_name (b, "flows");
  if (c->all) {
    json_builder_add_string_value (b, "*");
  } else {
    g_autofree const gchar **ids = (const gchar **)
        g_hash_table_get_keys_as_array (c->flows, NULL);
    guint n = g_hash_table_size (c->flows);

    qsort (ids, n, sizeof (gchar *), compare_ids);
    json_builder_begin_array (b);
    for (guint i = 0; i < n; i++)
      json_builder_add_string_value (b, ids[i]);
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
  client_send_node (c, json_builder_get_root (b));
}

/* {"type": "subscribe" | "unsubscribe", "flows": [ids] | "*"} */
static void
handle_subscription (MrWsClient * c, JsonObject * obj, gboolean add)
{
  JsonNode *flows = json_object_get_member (obj, "flows");
  JsonArray *list;
  guint n;

  if (flows && JSON_NODE_HOLDS_VALUE (flows)
      && json_node_get_value_type (flows) == G_TYPE_STRING
      && g_str_equal (json_node_get_string (flows), "*")) {
    c->all = add;
    if (!add)
      g_hash_table_remove_all (c->flows);
    send_subscribed (c);
    return;
  }
  if (!flows || !JSON_NODE_HOLDS_ARRAY (flows)) {
    client_send_error (c, "flows: must be an array of flow ids or \"*\"");
    return;
  }
  list = json_node_get_array (flows);
  n = json_array_get_length (list);
  for (guint i = 0; i < n; i++) {
    JsonNode *id = json_array_get_element (list, i);

    if (!JSON_NODE_HOLDS_VALUE (id)
        || json_node_get_value_type (id) != G_TYPE_STRING
        || !*json_node_get_string (id)
        || strlen (json_node_get_string (id)) > 64) {
      g_autofree gchar *m = g_strdup_printf ("flows[%u]: must be a flow id "
          "(a string of 1 to 64 characters)", i);
      client_send_error (c, m);
      return;
    }
  }
  for (guint i = 0; i < n; i++) {
    const gchar *id = json_array_get_string_element (list, i);

    if (!add) {
      g_hash_table_remove (c->flows, id);
    } else if (g_hash_table_size (c->flows) >= MAX_SUBSCRIBED) {
      client_send_error (c, "flows: at most " G_STRINGIFY (MAX_SUBSCRIBED)
          " flows per connection (or \"*\")");
      break;
    } else {
      g_hash_table_add (c->flows, g_strdup (id));
    }
  }
  send_subscribed (c);
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  MrWsClient *c = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size;
  const gchar *data = g_bytes_get_data (message, &size);
  JsonNode *root;
  JsonObject *obj;
  const gchar *what;

  if (type != SOUP_WEBSOCKET_DATA_TEXT
      || !json_parser_load_from_data (parser, data, size, NULL)
      || !(root = json_parser_get_root (parser))
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    client_send_error (c, "a message is one JSON object in a text frame");
    return;
  }
  obj = json_node_get_object (root);
  what = json_object_has_member (obj, "type")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (obj, "type"))
      && json_node_get_value_type (json_object_get_member (obj, "type")) ==
      G_TYPE_STRING ? json_object_get_string_member (obj, "type") : NULL;
  if (g_strcmp0 (what, "subscribe") == 0)
    handle_subscription (c, obj, TRUE);
  else if (g_strcmp0 (what, "unsubscribe") == 0)
    handle_subscription (c, obj, FALSE);
  else if (g_strcmp0 (what, "ping") == 0)
    client_send (c, "{\"type\":\"pong\"}");
  else
    client_send_error (c, "type: must be \"subscribe\", \"unsubscribe\" or "
        "\"ping\"");
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  MrWsClient *c = user_data;
  MrWsHub *hub = c->hub;

  g_debug ("api: WebSocket from %s closed (%u)", c->peer,
      soup_websocket_connection_get_close_code (conn));
  g_ptr_array_remove_fast (hub->clients, c);
}

static void
on_error (SoupWebsocketConnection * conn, GError * error, gpointer user_data)
{
  MrWsClient *c = user_data;

  g_debug ("api: WebSocket from %s: %s", c->peer, error->message);
}

static void
on_websocket (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  MrWsHub *hub = user_data;
  MrWsClient *c = g_new0 (MrWsClient, 1);
  const gchar *host = soup_server_message_get_remote_host (msg);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *now = now_string ();

  c->hub = hub;
  c->conn = g_object_ref (conn);
  c->peer = g_strdup (host ? host : "?");
  c->flows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->socket = socket_of (soup_websocket_connection_get_io_stream (conn));
  c->progress_at = g_get_monotonic_time ();
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      MR_WS_MAX_INCOMING);
  soup_websocket_connection_set_keepalive_interval (conn, KEEPALIVE_S);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), c);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), c);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), c);
  g_ptr_array_add (hub->clients, c);
  g_debug ("api: WebSocket from %s (%u open)", c->peer, hub->clients->len);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "hello");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_string_value (b, now);
  json_builder_end_object (b);
  client_send_node (c, json_builder_get_root (b));
}

/* ---------------------------------------------------------------------- */
/* the HTTP side of /v1/ws and /v1/ws/tickets */

static gboolean
is_upgrade (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_equals (h, "Upgrade", "websocket")
      && soup_message_headers_header_contains (h, "Connection", "Upgrade");
}

/* Runs before libsoup's handshake: what is not a WebSocket upgrade gets
 * its answer here (and the handshake is then not tried) */
static void
on_http (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MrWsHub *hub = user_data;
  const gchar *method = soup_server_message_get_method (msg);

  if (g_str_equal (path, MR_WS_TICKETS_PATH)) {
    if (g_str_equal (method, "POST"))
      mr_ws_hub_handle_ticket (hub, msg);
    else
      mr_api_method_not_allowed (msg, "POST");
  } else if (!g_str_equal (path, MR_WS_PATH)) {
    mr_api_not_found (msg, path);
  } else if (!g_str_equal (method, "GET")) {
    mr_api_method_not_allowed (msg, "GET");
  } else if (!is_upgrade (msg)) {
    mr_api_write_error (msg, SOUP_STATUS_BAD_REQUEST, NULL,
        "GET " MR_WS_PATH " is a WebSocket: send Upgrade: websocket "
        "(see docs/api.md, Live updates over a WebSocket)");
  }
  /* else: libsoup's handshake, then on_websocket () */
}

static gchar *
ticket_digest (const gchar * ticket)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, ticket, -1);
}

static void
forget_expired_tickets (MrWsHub * hub)
{
  GHashTableIter iter;
  gpointer expiry;
  gint64 now = g_get_monotonic_time ();

  g_hash_table_iter_init (&iter, hub->tickets);
  while (g_hash_table_iter_next (&iter, NULL, &expiry))
    if (*(gint64 *) expiry <= now)
      g_hash_table_iter_remove (&iter);
}

void
mr_ws_hub_handle_ticket (MrWsHub * hub, SoupServerMessage * msg)
{
  guint8 random[16];
  g_autofree gchar *ticket = NULL;
  gint64 *expiry;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  forget_expired_tickets (hub);
  if (g_hash_table_size (hub->tickets) >= MAX_TICKETS) {
    mr_api_write_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL,
        "too many WebSocket tickets waiting: use one, or wait "
        G_STRINGIFY (MR_WS_TICKET_TTL_S) " s");
    return;
  }
  if (getrandom (random, sizeof random, 0) != sizeof random) {
    mr_api_write_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL,
        "no random bytes for a ticket");
    return;
  }
  ticket = g_malloc (sizeof random * 2 + 1);
  for (guint i = 0; i < sizeof random; i++)
    g_snprintf (ticket + 2 * i, 3, "%02x", random[i]);
  expiry = g_new (gint64, 1);
  *expiry = g_get_monotonic_time () + MR_WS_TICKET_TTL_S * G_USEC_PER_SEC;
  g_hash_table_insert (hub->tickets, ticket_digest (ticket), expiry);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ticket");
  json_builder_add_string_value (b, ticket);
  json_builder_set_member_name (b, "expires_in_sec");
  json_builder_add_int_value (b, MR_WS_TICKET_TTL_S);
  json_builder_end_object (b);
  mr_api_respond_json (msg, SOUP_STATUS_CREATED, json_builder_get_root (b));
  memset (random, 0, sizeof random);
}

gboolean
mr_ws_hub_take_ticket (MrWsHub * hub, GHashTable * query)
{
  const gchar *ticket = query ? g_hash_table_lookup (query, "ticket") : NULL;
  g_autofree gchar *digest = NULL;
  gint64 *expiry;
  gboolean good;

  if (!ticket || !*ticket)
    return FALSE;
  digest = ticket_digest (ticket);
  if (!(expiry = g_hash_table_lookup (hub->tickets, digest)))
    return FALSE;
  good = *expiry > g_get_monotonic_time ();
  g_hash_table_remove (hub->tickets, digest);   /* once */
  return good;
}

/* ---------------------------------------------------------------------- */
/* pushes */

static void
on_event (const MrEvent * event, const gchar * flow_name, gpointer user_data)
{
  MrWsHub *hub = user_data;
  g_autofree gchar *text = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) root = NULL;

  for (guint i = 0; i < hub->clients->len; i++) {
    MrWsClient *c = hub->clients->pdata[i];

    if (!client_wants (c, event->flow_id))
      continue;
    if (!text) {
      b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "event");
      json_builder_set_member_name (b, "event");
      json_builder_add_value (b, mr_render_event (event));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      text = json_to_string (root, FALSE);
    }
    client_send (c, text);
  }
}

/* A client whose send queue has not shrunk (or emptied) for
 * MR_WS_STALL_S takes nothing: closed */
static gboolean
client_stalled (MrWsClient * c, gint64 now)
{
  gint outq = 0;

  if (!c->socket || ioctl (g_socket_get_fd (c->socket), SIOCOUTQ, &outq) < 0)
    return FALSE;
  if (outq == 0 || outq < c->last_outq)
    c->progress_at = now;
  c->last_outq = outq;
  return now - c->progress_at > MR_WS_STALL_S * G_USEC_PER_SEC;
}

static gboolean
on_tick (gpointer user_data)
{
  MrWsHub *hub = user_data;
  g_autoptr (GPtrArray) flows = NULL;
  g_autoptr (GHashTable) now_known = NULL;
  g_autoptr (GHashTable) rendered = NULL;     /* id -> JSON text */
  g_autofree gchar *stamp = NULL;
  gint64 now = g_get_monotonic_time ();
  gboolean any_all = FALSE;

  forget_expired_tickets (hub);
  if (hub->clients->len == 0) {
    g_hash_table_remove_all (hub->known);
    return G_SOURCE_CONTINUE;
  }
  for (guint i = hub->clients->len; i-- > 0;) {
    MrWsClient *c = hub->clients->pdata[i];

    if (soup_websocket_connection_get_state (c->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN && client_stalled (c, now)) {
      g_message ("api: closing the WebSocket from %s: it took nothing of "
          "what waited for it for %d s", c->peer, MR_WS_STALL_S);
      /* "closed" comes once the close handshake ends or times out */
      soup_websocket_connection_close (c->conn,
          SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "not reading");
    }
    any_all |= c->all;
  }

  flows = mr_manager_list_flows (hub->manager);
  now_known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  rendered = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  for (guint i = 0; i < flows->len; i++) {
    MrFlowInfo *info = flows->pdata[i];
    const gchar *id = info->spec->id;
    gboolean wanted = any_all;
    g_autoptr (MrFlowMetrics) metrics = NULL;
    JsonNode *node;

    g_hash_table_add (now_known, g_strdup (id));
    for (guint k = 0; !wanted && k < hub->clients->len; k++)
      wanted = client_wants (hub->clients->pdata[k], id);
    if (!wanted || !(metrics = mr_manager_flow_metrics (hub->manager, id,
                NULL)))
      continue;
    node = mr_render_metrics (metrics);
    json_object_set_string_member (json_node_get_object (node), "name",
        info->spec->name);
    g_hash_table_insert (rendered, (gpointer) id, json_to_string (node,
            FALSE));
    json_node_unref (node);
  }

  stamp = now_string ();
  for (guint i = 0; i < hub->clients->len; i++) {
    MrWsClient *c = hub->clients->pdata[i];
    g_autoptr (GString) text = g_string_new (NULL);
    GHashTableIter iter;
    gpointer key;
    gboolean first = TRUE;

    /* flows gone since the last tick */
    g_hash_table_iter_init (&iter, hub->known);
    while (g_hash_table_iter_next (&iter, &key, NULL)) {
      if (!g_hash_table_contains (now_known, key) && client_wants (c, key)) {
        g_autofree gchar *gone = g_strdup_printf ("{\"type\":"
            "\"flow_deleted\",\"flow_id\":\"%s\"}", (const gchar *) key);

        client_send (c, gone);
      }
    }
    g_string_append_printf (text, "{\"type\":\"metrics\",\"timestamp\":\"%s\","
        "\"flows\":[", stamp);
    for (guint k = 0; k < flows->len; k++) {
      MrFlowInfo *info = flows->pdata[k];
      const gchar *json;

      if (!client_wants (c, info->spec->id)
          || !(json = g_hash_table_lookup (rendered, info->spec->id)))
        continue;
      if (!first)
        g_string_append_c (text, ',');
      g_string_append (text, json);
      first = FALSE;
    }
    g_string_append (text, "]}");
    client_send (c, text->str);
  }
  g_hash_table_remove_all (hub->known);
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, now_known);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_hash_table_add (hub->known, g_strdup (key));
  }
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------- */
/* the hub */

MrWsHub *
mr_ws_hub_new (SoupServer * server, MrManager * manager)
{
  MrWsHub *hub = g_new0 (MrWsHub, 1);
  const gchar *protocols[] = { MR_WS_PROTOCOL, NULL };

  hub->server = server;
  hub->manager = manager;
  hub->clients = g_ptr_array_new_with_free_func ((GDestroyNotify)
      client_free);
  hub->tickets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  hub->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* the same path's HTTP handler runs first (on_http): a request it
   * answers is not upgraded */
  soup_server_add_handler (server, MR_WS_PATH, on_http, hub, NULL);
  soup_server_add_websocket_handler (server, MR_WS_PATH, NULL,
      (gchar **) protocols, on_websocket, hub, NULL);
  mr_manager_add_event_listener (manager, on_event, hub);
  hub->timer = g_timeout_add (TICK_MS, on_tick, hub);
  return hub;
}

guint
mr_ws_hub_count (MrWsHub * hub)
{
  return hub->clients->len;
}

static void
release_when_closed (SoupWebsocketConnection * conn, gpointer unused)
{
  g_object_unref (conn);
}

void
mr_ws_hub_free (MrWsHub * hub)
{
  if (!hub)
    return;
  g_source_remove (hub->timer);
  mr_manager_remove_event_listener (hub->manager, on_event, hub);
  soup_server_remove_handler (hub->server, MR_WS_PATH);
  for (guint i = 0; i < hub->clients->len; i++) {
    MrWsClient *c = hub->clients->pdata[i];

    g_signal_handlers_disconnect_by_data (c->conn, c);
    if (soup_websocket_connection_get_state (c->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN) {
      /* the connection lives on until its close handshake ends (the
       * main loop still runs while the controller shuts down) */
      g_signal_connect (g_object_ref (c->conn), "closed",
          G_CALLBACK (release_when_closed), NULL);
      soup_websocket_connection_close (c->conn,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "shutting down");
    }
  }
  g_ptr_array_unref (hub->clients);
  g_hash_table_unref (hub->tickets);
  g_hash_table_unref (hub->known);
  g_free (hub);
}
