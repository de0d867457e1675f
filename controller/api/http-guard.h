/* mroute: accepts a SoupServer's connections, with deadlines and a cap.
 *
 * libsoup 3.2 holds a connection for as long as its peer likes: one that
 * connects and sends nothing, or half a request line, or a body one byte a
 * minute, keeps its descriptor forever, and a few thousand of them use up
 * the descriptors the flows need for their sockets.  The guard accepts the
 * connections itself, hands each to soup_server_accept_iostream() and
 * follows it through the server's and the messages' signals:
 *
 *   accept, or end of the previous answer   -> request headers within
 *                                              header_timeout
 *   headers complete                         -> body within body_timeout
 *   body complete (the handler runs; it may
 *   pause the message for slow work)         -> no deadline
 *   answer headers written                   -> answer taken within
 *                                              body_timeout
 *
 * A connection past its deadline is shut down (both ways): libsoup sees the
 * end of the stream and drops the connection.  libsoup 3.2 does not drop
 * an idle kept-alive connection whose stream ended (fixed in 3.3, upstream
 * commit d20c6601): nothing polls it any more, so the guard closes it a
 * second later.
 *
 * Past max_connections a new connection is answered at once with the
 * caller's 503 and closed, before libsoup sees it (on an HTTPS server it is
 * closed without an answer: there is no TLS session to answer in).
 *
 * Why not soup_server_listen(): its listener leaks the GSocket of every
 * connection (about 340 bytes each, fixed in libsoup 3.4, upstream commit
 * b545d5f0) and stops accepting for good at the first accept() error
 * (EMFILE).  Here an accept error pauses accepting for 100 ms.  The socket
 * is still given to libsoup (soup_server_listen_socket()) from a main
 * context that never runs: libsoup keeps a connection alive between
 * requests only when it has a listener, and that one never accepts.
 *
 * It knows nothing of routes, keys or JSON.  Main thread only.
 */

#ifndef __MR_HTTP_GUARD_H__
#define __MR_HTTP_GUARD_H__

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _MrHttpGuard MrHttpGuard;

typedef struct
{
  guint header_timeout_ms;
  guint body_timeout_ms;
  guint max_connections;
} MrHttpLimits;

/* @overflow_body: the JSON body of the 503 a connection past the cap
 * gets. */
MrHttpGuard *mr_http_guard_new (SoupServer * server,
    const MrHttpLimits * limits, const gchar * overflow_body);
/* Accepts connections on @address (SO_REUSEADDR; an IPv6 address takes
 * IPv6 only, as soup_server_listen() does), with @tls HTTPS only. */
gboolean mr_http_guard_listen (MrHttpGuard * guard, GSocketAddress * address,
    GTlsCertificate * tls, GError ** error);
/* Connections open now */
guint mr_http_guard_count (MrHttpGuard * guard);
/* Stops accepting and following; call before soup_server_disconnect(). */
void mr_http_guard_free (MrHttpGuard * guard);

G_END_DECLS

#endif /* __MR_HTTP_GUARD_H__ */
