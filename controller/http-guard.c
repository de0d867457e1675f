/* mroute: deadlines and a cap for the connections of a SoupServer. */

#include "http-guard.h"

#include <string.h>

/* After its shutdown, how long a connection may stay open before the
 * guard closes its socket itself (libsoup 3.2's idle kept-alive leak) */
#define REAP_DELAY_MS 1000
/* At most one log line per kind of refusal in this time */
#define LOG_INTERVAL_US (10 * G_USEC_PER_SEC)
/* On each message we follow: its connection's socket (not a reference) */
#define MSG_SOCKET_KEY "mr-http-guard-socket"

typedef enum
{
  WAIT_NOTHING,                 /* the handler has the request */
  WAIT_HEADERS,
  WAIT_BODY,
  WAIT_ANSWER_TAKEN,
  WAIT_REAP,                    /* shut down, libsoup should drop it */
} MrWait;

typedef struct
{
  gint64 last_us;
  guint suppressed;
} MrLogBurst;

struct _MrHttpGuard
{
  SoupServer *server;
  MrHttpLimits limits;
  GBytes *overflow_answer;      /* a whole HTTP/1.1 503 answer */
  GHashTable *conns;            /* GSocket -> MrGuardedConn, owned: the
                                 * connections whose socket is open */
  MrLogBurst timeouts;
  MrLogBurst overflows;
};

typedef struct
{
  MrHttpGuard *guard;
  GSocket *socket;              /* not owned (a weak reference) */
  MrWait waiting;
  guint deadline_id;
  guint answered;               /* requests answered on it */
} MrGuardedConn;

/* TRUE when a line may be logged now (the first, then one per interval);
 * @suppressed: how many were not logged since the last line. */
static gboolean
burst_ready (MrLogBurst * b, guint * suppressed)
{
  gint64 now = g_get_monotonic_time ();

  if (b->last_us && now - b->last_us < LOG_INTERVAL_US) {
    b->suppressed++;
    return FALSE;
  }
  *suppressed = b->suppressed;
  b->suppressed = 0;
  b->last_us = now;
  return TRUE;
}

static gchar *
more_since (guint suppressed, const gchar * what)
{
  if (!suppressed)
    return g_strdup ("");
  return g_strdup_printf (" (and %u more %s since the last such line)",
      suppressed, what);
}

static gchar *
peer_name (GSocket * socket)
{
  g_autoptr (GSocketAddress) sa = g_socket_get_remote_address (socket, NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (sa))
    return g_strdup ("?");
  return g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (sa)));
}

static void
conn_free (gpointer data)
{
  MrGuardedConn *conn = data;

  g_clear_handle_id (&conn->deadline_id, g_source_remove);
  g_free (conn);
}

/* A safety net only: libsoup 3.2's listener leaks the GSocket of every
 * connection it accepts (fixed in 3.4, upstream commit b545d5f0), so a
 * connection ends for us when its messages hear it is disconnected. */
static void
on_socket_finalized (gpointer data, GObject * where_the_socket_was)
{
  MrGuardedConn *conn = data;

  g_hash_table_remove (conn->guard->conns, where_the_socket_was);
}

/* Stops following @conn (its socket is closed, or about to be). */
static void
conn_forget (MrGuardedConn * conn)
{
  g_object_weak_unref (G_OBJECT (conn->socket), on_socket_finalized, conn);
  g_hash_table_remove (conn->guard->conns, conn->socket);
}

static gboolean
on_reap (gpointer data)
{
  MrGuardedConn *conn = data;

  conn->deadline_id = 0;
  /* Still open a second after its shutdown, although libsoup polls a
   * stream it reads: it is an idle kept-alive connection that libsoup 3.2
   * gave up on without closing it.  Nothing polls its descriptor. */
  g_socket_close (conn->socket, NULL);
  conn_forget (conn);
  return G_SOURCE_REMOVE;
}

static const gchar *
wait_reason (MrGuardedConn * conn, guint * seconds)
{
  const MrHttpLimits *l = &conn->guard->limits;

  switch (conn->waiting) {
    case WAIT_HEADERS:
      *seconds = l->header_timeout_ms / 1000;
      return conn->answered ? "no new request" :
          "no complete request headers";
    case WAIT_BODY:
      *seconds = l->body_timeout_ms / 1000;
      return "request body not complete";
    case WAIT_ANSWER_TAKEN:
      *seconds = l->body_timeout_ms / 1000;
      return "answer not taken";
    default:
      *seconds = 0;
      return "?";
  }
}

static gboolean
on_deadline (gpointer data)
{
  MrGuardedConn *conn = data;
  MrHttpGuard *guard = conn->guard;
  guint suppressed, seconds;
  const gchar *reason = wait_reason (conn, &seconds);

  conn->deadline_id = 0;
  if (burst_ready (&guard->timeouts, &suppressed)) {
    g_autofree gchar *peer = peer_name (conn->socket);
    g_autofree gchar *more = more_since (suppressed, "closed");

    g_message ("api: closing the connection from %s: %s within %u s%s",
        peer, reason, seconds, more);
  }
  conn->waiting = WAIT_REAP;
  g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  conn->deadline_id = g_timeout_add (REAP_DELAY_MS, on_reap, conn);
  return G_SOURCE_REMOVE;
}

static void
conn_wait (MrGuardedConn * conn, MrWait waiting)
{
  const MrHttpLimits *l = &conn->guard->limits;
  guint ms = 0;

  if (conn->waiting == WAIT_REAP)
    return;
  g_clear_handle_id (&conn->deadline_id, g_source_remove);
  conn->waiting = waiting;
  if (waiting == WAIT_HEADERS)
    ms = l->header_timeout_ms;
  else if (waiting == WAIT_BODY || waiting == WAIT_ANSWER_TAKEN)
    ms = l->body_timeout_ms;
  if (ms)
    conn->deadline_id = g_timeout_add (ms, on_deadline, conn);
}

static MrGuardedConn *
lookup (MrHttpGuard * guard, SoupServerMessage * msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);

  return socket ? g_hash_table_lookup (guard->conns, socket) : NULL;
}

/* Past the cap: the 503 (it fits any socket buffer, so it is written at
 * once or never), then a shutdown both ways, so that libsoup reads the end
 * of the stream and drops the connection now. */
static void
refuse_overflow (MrHttpGuard * guard, GSocket * socket)
{
  guint suppressed;

  if (!soup_server_is_https (guard->server)) {
    gsize len;
    const gchar *answer = g_bytes_get_data (guard->overflow_answer, &len);

    g_socket_send_with_blocking (socket, answer, len, FALSE, NULL, NULL);
  }
  g_socket_shutdown (socket, TRUE, TRUE, NULL);
  if (burst_ready (&guard->overflows, &suppressed)) {
    g_autofree gchar *peer = peer_name (socket);
    g_autofree gchar *more = more_since (suppressed, "refused");

    g_warning ("api: refused a connection from %s: %u connections open, "
        "[api] max_connections is %u%s", peer,
        g_hash_table_size (guard->conns), guard->limits.max_connections,
        more);
  }
}

/* libsoup closed the connection's socket (the message's own socket is
 * already unset). */
static void
on_disconnected (SoupServerMessage * msg, gpointer user_data)
{
  MrHttpGuard *guard = user_data;
  GSocket *socket = g_object_get_data (G_OBJECT (msg), MSG_SOCKET_KEY);
  MrGuardedConn *conn = g_hash_table_lookup (guard->conns, socket);

  if (conn)
    conn_forget (conn);
}

static void
on_got_headers (SoupServerMessage * msg, gpointer user_data)
{
  MrGuardedConn *conn = lookup (user_data, msg);

  if (conn)
    conn_wait (conn, WAIT_BODY);
}

static void
on_wrote_headers (SoupServerMessage * msg, gpointer user_data)
{
  MrGuardedConn *conn = lookup (user_data, msg);

  if (conn)
    conn_wait (conn, WAIT_ANSWER_TAKEN);
}

/* For the first request of a connection libsoup emits this when it
 * accepts the connection; for the next ones, when their first bytes come. */
static void
on_request_started (SoupServer * server, SoupServerMessage * msg,
    gpointer user_data)
{
  MrHttpGuard *guard = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);
  MrGuardedConn *conn;

  if (!socket)
    return;
  conn = g_hash_table_lookup (guard->conns, socket);
  if (!conn) {
    if (g_hash_table_size (guard->conns) >= guard->limits.max_connections) {
      refuse_overflow (guard, socket);
      return;
    }
    conn = g_new0 (MrGuardedConn, 1);
    conn->guard = guard;
    conn->socket = socket;
    g_object_weak_ref (G_OBJECT (socket), on_socket_finalized, conn);
    g_hash_table_insert (guard->conns, socket, conn);
    conn_wait (conn, WAIT_HEADERS);
  } else if (!conn->deadline_id) {
    conn_wait (conn, WAIT_HEADERS);
  }
  /* the idle deadline armed at the end of the previous answer goes on:
   * the whole next request line and headers must come within it */
  g_object_set_data (G_OBJECT (msg), MSG_SOCKET_KEY, socket);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_disconnected), guard);
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), guard);
  g_signal_connect (msg, "wrote-headers", G_CALLBACK (on_wrote_headers),
      guard);
}

static void
on_request_read (SoupServer * server, SoupServerMessage * msg,
    gpointer user_data)
{
  MrGuardedConn *conn = lookup (user_data, msg);

  if (conn)
    conn_wait (conn, WAIT_NOTHING);
}

/* finished or aborted: a kept-alive connection now waits for its next
 * request; any other is about to be closed by libsoup */
static void
on_request_done (SoupServer * server, SoupServerMessage * msg,
    gpointer user_data)
{
  MrGuardedConn *conn = lookup (user_data, msg);

  if (conn) {
    conn->answered++;
    conn_wait (conn, WAIT_HEADERS);
  }
}

MrHttpGuard *
mr_http_guard_new (SoupServer * server, const MrHttpLimits * limits,
    const gchar * overflow_body)
{
  MrHttpGuard *guard = g_new0 (MrHttpGuard, 1);
  gchar *answer;

  guard->server = server;
  guard->limits = *limits;
  guard->conns = g_hash_table_new_full (NULL, NULL, NULL, conn_free);
  answer = g_strdup_printf ("HTTP/1.1 503 Service Unavailable\r\n"
      "Server: mroute\r\n"
      "Content-Type: application/json\r\n"
      "Cache-Control: no-store\r\n"
      "Retry-After: 1\r\n"
      "Connection: close\r\n"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s",
      strlen (overflow_body), overflow_body);
  guard->overflow_answer = g_bytes_new_take (answer, strlen (answer));

  g_signal_connect (server, "request-started",
      G_CALLBACK (on_request_started), guard);
  g_signal_connect (server, "request-read", G_CALLBACK (on_request_read),
      guard);
  g_signal_connect (server, "request-finished",
      G_CALLBACK (on_request_done), guard);
  g_signal_connect (server, "request-aborted", G_CALLBACK (on_request_done),
      guard);
  return guard;
}

guint
mr_http_guard_count (MrHttpGuard * guard)
{
  return g_hash_table_size (guard->conns);
}

void
mr_http_guard_free (MrHttpGuard * guard)
{
  GHashTableIter iter;
  gpointer socket, conn;

  if (!guard)
    return;
  g_signal_handlers_disconnect_by_data (guard->server, guard);
  g_hash_table_iter_init (&iter, guard->conns);
  while (g_hash_table_iter_next (&iter, &socket, &conn))
    g_object_weak_unref (socket, on_socket_finalized, conn);
  g_hash_table_unref (guard->conns);
  g_bytes_unref (guard->overflow_answer);
  g_free (guard);
}
