/* mroute: deadlines and a cap for the connections of a SoupServer.
 *
 * libsoup 3.2 holds a connection for as long as its peer likes: one that
 * connects and sends nothing, or half a request line, or a body one byte a
 * minute, keeps its descriptor forever, and a few thousand of them use up
 * the descriptors the flows need for their sockets.  The guard follows
 * every connection of the server through the server's and the messages'
 * signals and closes the ones that make no progress:
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
 * end of the stream and drops the connection itself.  libsoup 3.2 does not
 * drop an idle kept-alive connection whose stream ended (fixed in 3.3,
 * upstream commit d20c6601): nothing polls it any more, so the guard closes
 * its socket a second later.
 *
 * Past max_connections a new connection is answered at once with the
 * caller's 503 and closed (on an HTTPS server it is closed without an
 * answer: there is no TLS session to answer in).
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

/* Follows @server's connections from now on.  @overflow_body: the JSON
 * body of the 503 a connection past the cap gets. */
MrHttpGuard *mr_http_guard_new (SoupServer * server,
    const MrHttpLimits * limits, const gchar * overflow_body);
/* Connections open now (their sockets not yet closed). */
guint mr_http_guard_count (MrHttpGuard * guard);
/* Call after soup_server_disconnect() and before the server's last unref. */
void mr_http_guard_free (MrHttpGuard * guard);

G_END_DECLS

#endif /* __MR_HTTP_GUARD_H__ */
