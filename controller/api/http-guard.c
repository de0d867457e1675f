/* mroute: accepts a SoupServer's connections, with deadlines and a cap. */

#define G_LOG_DOMAIN "mroute-http"
#include "http-guard.h"

#include <errno.h>
#include <gio/gnetworking.h>
#include <string.h>
#include <sys/ioctl.h>

/* Connections the kernel completes before we accept them; a burst past
 * GLib's default of 10 would wait for SYN retransmits (1 s, 3 s ...) */
#define LISTEN_BACKLOG 1024
/* Accepted per wake-up, so that a flood does not starve the main loop */
#define ACCEPT_BATCH 64
/* After an accept error (EMFILE ...), before the next try */
#define ACCEPT_PAUSE_MS 100
/* After its shutdown, how long a connection may stay open before the
 * guard closes it itself (libsoup 3.2's idle kept-alive leak) */
#define REAP_DELAY_MS 1000
/* At most one log line per kind of trouble in this time */
#define LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

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
  GTlsCertificate *tls;         /* NULL: plain HTTP */
  GSocket *listener;
  GSource *accept_source;
  guint accept_pause_id;
  GMainContext *soup_listener_context;  /* never run */
  /* remote address (as given to libsoup, which hands it back with each
   * message) -> MrGuardedConn, owned: the connections whose socket is
   * open */
  GHashTable *conns;
  MrLogBurst timeouts;
  MrLogBurst overflows;
  MrLogBurst accept_errors;
};

typedef struct
{
  MrHttpGuard *guard;
  GSocketAddress *remote;       /* owned; the key in conns */
  GSocketConnection *connection;        /* not owned: a weak reference */
  /* HTTPS, until its ClientHello is here: not yet libsoup's */
  GSource *hello_source;
  GSocketConnection *pending;   /* owned */
  GSocketAddress *local;        /* owned */
  gint hello_lowat;             /* bytes the wait is for, 0: the first */
  MrWait waiting;
  guint deadline_id;
  guint answered;               /* requests answered on it */
} MrGuardedConn;

static void start_accepting (MrHttpGuard * guard);

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
address_name (GSocketAddress * sa)
{
  if (!G_IS_INET_SOCKET_ADDRESS (sa))
    return g_strdup ("?");
  return g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (sa)));
}

/* ---------------------------------------------------------------------- */
/* one connection */

static void
conn_free (gpointer data)
{
  MrGuardedConn *conn = data;

  g_clear_handle_id (&conn->deadline_id, g_source_remove);
  if (conn->hello_source) {
    g_source_destroy (conn->hello_source);
    g_source_unref (conn->hello_source);
  }
  g_clear_object (&conn->local);
  g_clear_object (&conn->pending);
  g_object_unref (conn->remote);
  g_free (conn);
}

/* libsoup let the connection go: its socket is closed */
static void
on_connection_finalized (gpointer data, GObject * where_it_was)
{
  MrGuardedConn *conn = data;

  g_hash_table_remove (conn->guard->conns, conn->remote);
}

/* Closes @conn's socket and forgets it: libsoup is not polling it. */
static void
conn_close (MrGuardedConn * conn)
{
  g_io_stream_close (G_IO_STREAM (conn->connection), NULL, NULL);
  g_object_weak_unref (G_OBJECT (conn->connection), on_connection_finalized,
      conn);
  g_hash_table_remove (conn->guard->conns, conn->remote);
}

static gboolean
on_reap (gpointer data)
{
  MrGuardedConn *conn = data;

  conn->deadline_id = 0;
  /* Still there a second after its shutdown, although libsoup polls a
   * stream it reads: an idle kept-alive connection that libsoup 3.2 gave
   * up on without closing it.  Nothing polls it any more. */
  conn_close (conn);
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
    g_autofree gchar *peer = address_name (conn->remote);
    g_autofree gchar *more = more_since (suppressed, "closed");

    g_message ("api: closing the connection from %s: %s within %u s%s",
        peer, conn->hello_source ? "no TLS ClientHello" : reason, seconds,
        more);
  }
  if (conn->hello_source) {
    conn_close (conn);
    return G_SOURCE_REMOVE;
  }
  conn->waiting = WAIT_REAP;
  g_socket_shutdown (g_socket_connection_get_socket (conn->connection), TRUE,
      TRUE, NULL);
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

/* ---------------------------------------------------------------------- */
/* libsoup's signals */

static MrGuardedConn *
lookup (MrHttpGuard * guard, SoupServerMessage * msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote ? g_hash_table_lookup (guard->conns, remote) : NULL;
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

/* For the first request of a connection libsoup emits this within
 * soup_server_accept_iostream(); for the next ones, when their first bytes
 * come.  The deadline armed at accept, or at the end of the previous
 * answer, goes on: the whole request line and headers must come within
 * it. */
static void
on_request_started (SoupServer * server, SoupServerMessage * msg,
    gpointer user_data)
{
  MrHttpGuard *guard = user_data;
  MrGuardedConn *conn = lookup (guard, msg);

  if (!conn)
    return;
  if (!conn->deadline_id)
    conn_wait (conn, WAIT_HEADERS);
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

/* ---------------------------------------------------------------------- */
/* accepting */

/* Past the cap: the 503 (it fits any socket buffer, so it is written at
 * once or never), the end of our side, then what the client sent already
 * is read away so that the close is a FIN rather than a reset that could
 * overtake the answer. */
static void
refuse_overflow (MrHttpGuard * guard, GSocket * socket)
{
  GSocketAddress *remote = g_socket_get_remote_address (socket, NULL);
  guint suppressed;
  gchar scratch[4096];

  if (!guard->tls) {
    gsize len;
    const gchar *answer = g_bytes_get_data (guard->overflow_answer, &len);

    g_socket_send_with_blocking (socket, answer, len, FALSE, NULL, NULL);
  }
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  for (guint i = 0; i < 4 && g_socket_receive_with_blocking (socket, scratch,
          sizeof (scratch), FALSE, NULL, NULL) > 0; i++);
  g_socket_close (socket, NULL);
  if (burst_ready (&guard->overflows, &suppressed)) {
    g_autofree gchar *peer = address_name (remote);
    g_autofree gchar *more = more_since (suppressed, "refused");

    g_warning ("api: refused a connection from %s: %u connections open, "
        "[api] max_connections is %u%s", peer,
        g_hash_table_size (guard->conns), guard->limits.max_connections,
        more);
  }
  g_clear_object (&remote);
}

/* Gives @conn to libsoup, over TLS on an HTTPS server */
static void
hand_over (MrGuardedConn * conn)
{
  MrHttpGuard *guard = conn->guard;
  g_autoptr (GSocketConnection) connection = g_steal_pointer (&conn->pending);
  g_autoptr (GSocketAddress) local = g_steal_pointer (&conn->local);
  g_autoptr (GIOStream) stream = NULL;
  g_autoptr (GError) error = NULL;

  if (guard->tls) {
    stream = g_tls_server_connection_new (G_IO_STREAM (connection),
        guard->tls, &error);
    if (!stream) {
      g_warning ("api: no TLS for a new connection: %s", error->message);
      conn->pending = g_steal_pointer (&connection);
      conn_close (conn);
      return;
    }
    /* as libsoup does: an HTTP answer has its own length */
    g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (stream),
        FALSE);
  } else {
    stream = g_object_ref (G_IO_STREAM (connection));
  }
  /* emits request-started for the first request */
  soup_server_accept_iostream (guard->server, stream, local, conn->remote,
      NULL);
}

/* glib-networking runs a TLS handshake in a GIO worker thread that blocks
 * reading: a connection that sent nothing, or half a ClientHello, would
 * hold one of those few threads until its deadline and hold up every
 * other handshake (100 silent connections held a client 10 s).  So an
 * HTTPS connection is handed over only when its whole first TLS record is
 * here; SO_RCVLOWAT keeps the wait from spinning on a partial record. */
static gboolean
on_client_hello (GSocket * socket, GIOCondition condition, gpointer data)
{
  MrGuardedConn *conn = data;
  gint fd = g_socket_get_fd (socket);
  guint8 head[5];
  gssize n = recv (fd, head, sizeof (head), MSG_PEEK | MSG_DONTWAIT);
  gint lowat, avail = 0;

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0 || head[0] != 0x16) {
    /* gone, or not TLS (plain HTTP on the HTTPS port): nothing to say */
    g_clear_pointer (&conn->hello_source, g_source_unref);
    conn_close (conn);
    return G_SOURCE_REMOVE;
  }
  lowat = n < 5 ? 5 : 5 + MIN (head[3] << 8 | head[4], 16384 + 2048);
  if (n < 5 || (ioctl (fd, FIONREAD, &avail) == 0 && avail < lowat)) {
    if (lowat == conn->hello_lowat) {
      /* woken though short of the mark: the peer ended its side */
      g_clear_pointer (&conn->hello_source, g_source_unref);
      conn_close (conn);
      return G_SOURCE_REMOVE;
    }
    conn->hello_lowat = lowat;
    g_socket_set_option (socket, SOL_SOCKET, SO_RCVLOWAT, lowat, NULL);
    return G_SOURCE_CONTINUE;
  }
  g_socket_set_option (socket, SOL_SOCKET, SO_RCVLOWAT, 1, NULL);
  g_clear_pointer (&conn->hello_source, g_source_unref);
  hand_over (conn);
  return G_SOURCE_REMOVE;
}

static void
accept_one (MrHttpGuard * guard, GSocket * socket)
{
  MrGuardedConn *conn;
  GSocketAddress *local, *remote;

  if (g_hash_table_size (guard->conns) >= guard->limits.max_connections) {
    refuse_overflow (guard, socket);
    return;
  }
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  local = g_socket_get_local_address (socket, NULL);
  remote = g_socket_get_remote_address (socket, NULL);
  if (!local || !remote) {
    /* gone before we got to it */
    g_clear_object (&local);
    g_clear_object (&remote);
    g_socket_close (socket, NULL);
    return;
  }
  conn = g_new0 (MrGuardedConn, 1);
  conn->guard = guard;
  conn->remote = remote;
  conn->local = local;
  conn->pending = g_socket_connection_factory_create_connection (socket);
  conn->connection = conn->pending;
  g_object_weak_ref (G_OBJECT (conn->connection), on_connection_finalized,
      conn);
  g_hash_table_insert (guard->conns, remote, conn);
  conn_wait (conn, WAIT_HEADERS);
  if (!guard->tls) {
    hand_over (conn);
    return;
  }
  conn->hello_source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (conn->hello_source, G_SOURCE_FUNC (on_client_hello),
      conn, NULL);
  g_source_attach (conn->hello_source, NULL);
}

static gboolean
on_accept_pause_over (gpointer user_data)
{
  MrHttpGuard *guard = user_data;

  guard->accept_pause_id = 0;
  start_accepting (guard);
  return G_SOURCE_REMOVE;
}

static gboolean
on_incoming (GSocket * listener, GIOCondition condition, gpointer user_data)
{
  MrHttpGuard *guard = user_data;

  for (guint i = 0; i < ACCEPT_BATCH; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GSocket) socket = g_socket_accept (listener, NULL, &error);
    guint suppressed;

    if (socket) {
      accept_one (guard, socket);
      continue;
    }
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      break;
    /* out of descriptors, or memory: the pending connections wait in the
     * kernel's queue while we stop trying for a moment */
    if (burst_ready (&guard->accept_errors, &suppressed)) {
      g_autofree gchar *more = more_since (suppressed, "");

      g_warning ("api: cannot accept a connection: %s; trying again in "
          "%d ms%s", error->message, ACCEPT_PAUSE_MS, more);
    }
    g_clear_pointer (&guard->accept_source, g_source_unref);
    guard->accept_pause_id = g_timeout_add (ACCEPT_PAUSE_MS,
        on_accept_pause_over, guard);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void
start_accepting (MrHttpGuard * guard)
{
  guard->accept_source = g_socket_create_source (guard->listener, G_IO_IN,
      NULL);
  g_source_set_callback (guard->accept_source, G_SOURCE_FUNC (on_incoming),
      guard, NULL);
  g_source_attach (guard->accept_source, NULL);
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

gboolean
mr_http_guard_listen (MrHttpGuard * guard, GSocketAddress * address,
    GTlsCertificate * tls, GError ** error)
{
  GSocketFamily family = g_socket_address_get_family (address);
  g_autoptr (GSocket) socket = NULL;
  gboolean registered;

  g_return_val_if_fail (guard->listener == NULL, FALSE);

  socket = g_socket_new (family, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_DEFAULT, error);
  if (!socket)
    return FALSE;
  if (family == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE,
          error))
    return FALSE;
  g_socket_set_blocking (socket, FALSE);
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, address, TRUE, error)
      || !g_socket_listen (socket, error))
    return FALSE;

  if (tls) {
    guard->tls = g_object_ref (tls);
    soup_server_set_tls_certificate (guard->server, tls);
  }
  /* libsoup's listener for the same socket waits in a context nobody
   * runs: it never accepts, but libsoup keeps connections alive */
  guard->soup_listener_context = g_main_context_new ();
  g_main_context_push_thread_default (guard->soup_listener_context);
  registered = soup_server_listen_socket (guard->server, socket,
      tls ? SOUP_SERVER_LISTEN_HTTPS : 0, error);
  g_main_context_pop_thread_default (guard->soup_listener_context);
  if (!registered)
    return FALSE;

  guard->listener = g_steal_pointer (&socket);
  start_accepting (guard);
  return TRUE;
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
  gpointer remote, data;

  if (!guard)
    return;
  if (guard->accept_source) {
    g_source_destroy (guard->accept_source);
    g_source_unref (guard->accept_source);
  }
  g_clear_handle_id (&guard->accept_pause_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (guard->server, guard);
  g_hash_table_iter_init (&iter, guard->conns);
  while (g_hash_table_iter_next (&iter, &remote, &data)) {
    MrGuardedConn *conn = data;

    g_object_weak_unref (G_OBJECT (conn->connection),
        on_connection_finalized, conn);
  }
  g_hash_table_unref (guard->conns);
  g_clear_object (&guard->listener);
  g_clear_object (&guard->tls);
  g_clear_pointer (&guard->soup_listener_context, g_main_context_unref);
  g_bytes_unref (guard->overflow_answer);
  g_free (guard);
}
