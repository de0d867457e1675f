/* mroute: the live calls on a flow another node runs (metrics, thumbnail,
 * metadata, content quality, a source's activation, HLS and recording
 * files) go to that node: the same method, path, query, body and key,
 * marked with X-Mroute-Forwarded so that they never go round twice.  The
 * client's message waits, paused, for the owner's answer; the main loop
 * never does. */

#define G_LOG_DOMAIN "mroute-cluster"
#include "cluster-private.h"

#include <string.h>

/* the request headers that go along: the key, what the client takes */
static const gchar *const copied_headers[] = {
  "X-API-Key", "Authorization", "Accept", "Content-Type", "Range", NULL
};

/* the answer headers that come back */
static const gchar *const returned_headers[] = {
  "Content-Type", "Cache-Control", "Last-Modified", "Retry-After",
  "Content-Range", "Accept-Ranges", "Allow", NULL
};

typedef struct
{
  SoupServerMessage *msg;       /* paused */
  gchar *owner;
  gchar *url;
} MrForward;

static void
forward_free (MrForward * f)
{
  g_object_unref (f->msg);
  g_free (f->owner);
  g_free (f->url);
  g_free (f);
}

static void
answer_error (SoupServerMessage * msg, guint status, const gchar * message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  gchar *body;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  body = json_to_string (root, FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-store");
  if (status == SOUP_STATUS_SERVICE_UNAVAILABLE)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Retry-After", "1");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
on_answer (GObject * source, GAsyncResult * result, gpointer user_data)
{
  MrForward *f = user_data;
  SoupSession *session = SOUP_SESSION (source);
  SoupMessage *out = soup_session_get_async_result_message (session, result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (session,
      result, &error);

  if (!body) {
    g_autofree gchar *m = g_strdup_printf ("flow runs on node %s, which "
        "cannot be reached now (%s): try again", f->owner, error->message);

    g_message ("cluster: forwarding to %s: %s", f->url, error->message);
    answer_error (f->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, m);
  } else {
    SoupMessageHeaders *from = soup_message_get_response_headers (out);
    SoupMessageHeaders *to =
        soup_server_message_get_response_headers (f->msg);

    for (guint i = 0; returned_headers[i]; i++) {
      const gchar *v = soup_message_headers_get_one (from,
          returned_headers[i]);

      if (v)
        soup_message_headers_replace (to, returned_headers[i], v);
    }
    soup_message_headers_replace (to, MR_CLUSTER_FORWARDED_HEADER, f->owner);
    soup_server_message_set_status (f->msg, soup_message_get_status (out),
        NULL);
    soup_message_body_append_bytes (soup_server_message_get_response_body
        (f->msg), body);
  }
  soup_server_message_unpause (f->msg);
  forward_free (f);
}

static gboolean
accept_any (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

/* The api_url of @node, or NULL */
static const gchar *
node_url (MrCluster * c, const gchar * node)
{
  for (guint i = 0; i < c->nodes->len; i++) {
    MrClusterNode *n = c->nodes->pdata[i];

    if (g_str_equal (n->id, node))
      return n->alive ? n->api_url : NULL;
  }
  return NULL;
}

gboolean
mr_cluster_forward (MrCluster * c, SoupServerMessage * msg,
    const gchar * flow_id)
{
  SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
  MrClusterOwner *owner;
  const gchar *base;
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr (SoupMessage) out = NULL;
  g_autoptr (GBytes) body = NULL;
  SoupMessageBody *req_body;
  MrForward *f;

  if (!c || soup_message_headers_get_one (in, MR_CLUSTER_FORWARDED_HEADER))
    return FALSE;
  /* this node runs it: it answers */
  if (g_hash_table_contains (c->held, flow_id))
    return FALSE;
  if (!(owner = g_hash_table_lookup (c->owners, flow_id)))
    return FALSE;
  if (!(base = node_url (c, owner->node))) {
    g_autofree gchar *m = g_strdup_printf ("flow '%s' runs on node %s, "
        "whose heartbeat is late: try again", flow_id, owner->node);

    answer_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, m);
    return TRUE;
  }

  f = g_new0 (MrForward, 1);
  f->msg = g_object_ref (msg);
  f->owner = g_strdup (owner->node);
  f->url = g_strdup_printf ("%.*s%s%s%s", (int) (strlen (base) -
          g_str_has_suffix (base, "/")), base, g_uri_get_path (uri),
      g_uri_get_query (uri) ? "?" : "", g_uri_get_query (uri) ?
      g_uri_get_query (uri) : "");
  out = soup_message_new (soup_server_message_get_method (msg), f->url);
  if (!out) {
    answer_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "the owner's "
        "api_url is not a URL");
    forward_free (f);
    return TRUE;
  }
  for (guint i = 0; copied_headers[i]; i++) {
    const gchar *v = soup_message_headers_get_one (in, copied_headers[i]);

    if (v && g_ascii_strcasecmp (copied_headers[i], "Content-Type"))
      soup_message_headers_replace (soup_message_get_request_headers (out),
          copied_headers[i], v);
  }
  soup_message_headers_replace (soup_message_get_request_headers (out),
      MR_CLUSTER_FORWARDED_HEADER, c->node_id);
  req_body = soup_server_message_get_request_body (msg);
  body = soup_message_body_flatten (req_body);
  if (g_bytes_get_size (body) > 0) {
    const gchar *type = soup_message_headers_get_content_type (in, NULL);

    soup_message_set_request_body_from_bytes (out, type ? type :
        "application/json", body);
  }
  /* the owner's certificate is not checked: the nodes trust their own
   * store's api_url (docs/cluster.md) */
  g_signal_connect (out, "accept-certificate", G_CALLBACK (accept_any),
      NULL);
  soup_server_message_pause (msg);
  soup_session_send_and_read_async (c->session, out, G_PRIORITY_DEFAULT,
      NULL, on_answer, f);
  return TRUE;
}
