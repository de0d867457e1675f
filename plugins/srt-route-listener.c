/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The SRT listener that srtroutesrc elements share (see the header).
 *
 * Threads: libsrt calls listen_hook () on its own receiving thread, for
 * each caller's handshake; our thread (listener_thread) accepts, reads
 * and closes callers.  listener->lock guards the routes and which caller
 * belongs to which; no libsrt call is made while holding it (libsrt may
 * hold its own locks while it calls the hook, which takes ours), and no
 * callback either (they post messages): a route is held (busy) under the
 * lock, called after it, and mr_srt_route_remove () waits until no call
 * holds it any more. */

#include "srt-route-listener.h"
#include "srt-streamid.h"

#include <gio/gio.h>
#include <srt/srt.h>
#include <srt/access_control.h>
#include <string.h>

/* how long the thread waits on its sockets before it looks whether it is
 * being stopped */
#define LISTENER_POLL_MS 100
/* a handshake the hook let through that libsrt has not handed to
 * srt_accept () after this long failed inside libsrt (a wrong passphrase) */
#define HANDSHAKE_DEADLINE_US (1500 * G_TIME_SPAN_MILLISECOND)
#define LISTEN_BACKLOG 16
#define EVENTS_MAX 16

struct _MrSrtRoute
{
  gchar *stream_id;
  gchar *passphrase;
  gint pbkeylen;
  gint latency_ms;
  MrSrtRouteCallbacks callbacks;
  gpointer user_data;
  SRTSOCKET caller;             /* SRT_INVALID_SOCK when none */
  guint busy;                   /* callbacks under way */
};

typedef struct
{
  SRTSOCKET sock;
  gchar *stream_id;
  gint64 at;
} Pending;

struct _MrSrtListener
{
  gint refcount;                /* protected by listeners_lock */
  gchar *key;
  SRTSOCKET sock;
  gint eid;
  GThread *thread;
  gint stopping;                /* atomic */

  GMutex lock;
  GCond idle;                   /* a route's busy fell to 0 */
  GHashTable *routes;           /* stream id -> MrSrtRoute */
  GHashTable *callers;          /* SRTSOCKET -> MrSrtRoute */
  GArray *pending;              /* of Pending */
};

static GMutex listeners_lock;
static GHashTable *listeners;   /* "address:port" -> MrSrtListener */

static void
pending_clear (gpointer data)
{
  g_free (((Pending *) data)->stream_id);
}

/* Keeps @route from being freed while a callback runs; with the lock */
static MrSrtRoute *
route_hold (MrSrtRoute * route)
{
  if (route)
    route->busy++;
  return route;
}

/* without the lock */
static void
route_release (MrSrtListener * l, MrSrtRoute * route)
{
  g_mutex_lock (&l->lock);
  if (--route->busy == 0)
    g_cond_broadcast (&l->idle);
  g_mutex_unlock (&l->lock);
}

/* Tells every route that a caller asking for none of them was refused;
 * without the lock */
static void
refuse_to_all (MrSrtListener * l, const gchar * stream_id,
    const gchar * reason)
{
  g_autoptr (GPtrArray) held = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&l->lock);
  g_hash_table_iter_init (&iter, l->routes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (held, route_hold (value));
  g_mutex_unlock (&l->lock);

  for (guint i = 0; i < held->len; i++) {
    MrSrtRoute *route = held->pdata[i];

    route->callbacks.refused (route->user_data, stream_id, reason);
    route_release (l, route);
  }
}

/* libsrt, on its receiving thread, for every caller's handshake: the
 * route's passphrase goes on the new socket, or the caller is refused. */
static int
listen_hook (void *opaque, SRTSOCKET ns, int hsversion,
    const struct sockaddr *peer, const char *stream_id)
{
  MrSrtListener *l = opaque;
  g_autofree gchar *id = mr_srt_stream_id_route (stream_id);
  g_autofree gchar *passphrase = NULL;
  gint pbkeylen = 0, latency = -1;
  MrSrtRoute *route;
  Pending p;

  g_mutex_lock (&l->lock);
  route = id ? g_hash_table_lookup (l->routes, id) : NULL;
  if (!route) {
    g_mutex_unlock (&l->lock);
    refuse_to_all (l, stream_id ? stream_id : "", id ?
        "no source has this stream id" : "the stream id names no route");
    srt_setrejectreason (ns, id ? SRT_REJX_NOTFOUND : SRT_REJX_BAD_REQUEST);
    return -1;
  }
  passphrase = g_strdup (route->passphrase);
  pbkeylen = route->pbkeylen;
  latency = route->latency_ms;
  p.sock = ns;
  p.stream_id = g_strdup (id);
  p.at = g_get_monotonic_time ();
  g_array_append_val (l->pending, p);
  g_mutex_unlock (&l->lock);

  /* libsrt takes these on a socket being accepted only here */
  if (passphrase) {
    srt_setsockflag (ns, SRTO_PASSPHRASE, passphrase, strlen (passphrase));
    srt_setsockflag (ns, SRTO_PBKEYLEN, &pbkeylen, sizeof (pbkeylen));
  }
  if (latency >= 0)
    srt_setsockflag (ns, SRTO_LATENCY, &latency, sizeof (latency));
  if (passphrase)
    memset (passphrase, 0, strlen (passphrase));
  return 0;
}

/* Handshakes the hook let through and libsrt never completed: told to
 * their route, with what libsrt says of them if it still knows the
 * socket.  Called without listener->lock: srt_getrejectreason () takes
 * libsrt's locks, which libsrt may hold while the hook waits for ours. */
static void
expire_pending (MrSrtListener * l, gint64 now)
{
  g_autoptr (GArray) expired = g_array_new (FALSE, FALSE, sizeof (Pending));

  g_mutex_lock (&l->lock);
  for (guint i = 0; i < l->pending->len;) {
    Pending *p = &g_array_index (l->pending, Pending, i);

    if (now - p->at < HANDSHAKE_DEADLINE_US) {
      i++;
      continue;
    }
    g_array_append_val (expired, *p);
    /* the stream id now belongs to expired */
    p->stream_id = NULL;
    g_array_remove_index (l->pending, i);
  }
  g_mutex_unlock (&l->lock);

  for (guint i = 0; i < expired->len; i++) {
    Pending *p = &g_array_index (expired, Pending, i);
    const gchar *reason = "the SRT handshake failed after the stream id "
        "was accepted (a wrong passphrase or key length)";
    MrSrtRoute *route;

    switch (srt_getrejectreason (p->sock)) {
      case SRT_REJ_BADSECRET:
        reason = "wrong passphrase";
        break;
      case SRT_REJ_UNSECURE:
        reason = "one side encrypts, the other does not";
        break;
      default:
        break;
    }
    g_mutex_lock (&l->lock);
    route = route_hold (g_hash_table_lookup (l->routes, p->stream_id));
    g_mutex_unlock (&l->lock);
    if (route) {
      route->callbacks.refused (route->user_data, p->stream_id, reason);
      route_release (l, route);
    }
    g_free (p->stream_id);
  }
}

static void
forget_pending (MrSrtListener * l, SRTSOCKET sock)
{
  for (guint i = 0; i < l->pending->len; i++)
    if (g_array_index (l->pending, Pending, i).sock == sock) {
      g_array_remove_index (l->pending, i);
      return;
    }
}

static void
close_socket (MrSrtListener * l, SRTSOCKET sock)
{
  srt_epoll_remove_usock (l->eid, sock);
  srt_close (sock);
}

static void
accept_caller (MrSrtListener * l)
{
  struct sockaddr_storage addr;
  int addrlen = sizeof (addr);
  char sid[513];
  int sidlen = sizeof (sid) - 1;
  g_autofree gchar *id = NULL;
  SRTSOCKET ns, old = SRT_INVALID_SOCK;
  MrSrtRoute *route;
  gboolean no = FALSE;
  int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;

  ns = srt_accept (l->sock, (struct sockaddr *) &addr, &addrlen);
  if (ns == SRT_INVALID_SOCK)
    return;
  if (srt_getsockflag (ns, SRTO_STREAMID, sid, &sidlen) == SRT_ERROR)
    sidlen = 0;
  sid[sidlen] = '\0';
  id = mr_srt_stream_id_route (sid);
  srt_setsockflag (ns, SRTO_RCVSYN, &no, sizeof (no));

  g_mutex_lock (&l->lock);
  forget_pending (l, ns);
  route = id ? g_hash_table_lookup (l->routes, id) : NULL;
  if (route) {
    /* a caller that comes back while libsrt still holds its old link
     * takes the route over */
    old = route->caller;
    if (old != SRT_INVALID_SOCK)
      g_hash_table_remove (l->callers, GINT_TO_POINTER (old));
    route->caller = ns;
    g_hash_table_insert (l->callers, GINT_TO_POINTER (ns), route);
    route_hold (route);
  }
  g_mutex_unlock (&l->lock);

  if (!route) {
    /* its route went between the handshake and now */
    srt_close (ns);
    return;
  }
  route->callbacks.caller (route->user_data, TRUE);
  route_release (l, route);
  srt_epoll_add_usock (l->eid, ns, &events);
  if (old != SRT_INVALID_SOCK)
    close_socket (l, old);
}

/* reads all a caller has; FALSE when its link is gone */
static void
read_caller (MrSrtListener * l, SRTSOCKET sock)
{
  guint8 buf[1500];

  for (;;) {
    int n = srt_recvmsg (sock, (char *) buf, sizeof (buf));
    MrSrtRoute *route;

    if (n > 0) {
      g_mutex_lock (&l->lock);
      route = route_hold (g_hash_table_lookup (l->callers,
              GINT_TO_POINTER (sock)));
      g_mutex_unlock (&l->lock);
      if (route) {
        route->callbacks.data (route->user_data, buf, n);
        route_release (l, route);
      }
      continue;
    }
    if (n == SRT_ERROR && srt_getlasterror (NULL) == SRT_EASYNCRCV)
      return;
    /* closed or broken */
    g_mutex_lock (&l->lock);
    route = g_hash_table_lookup (l->callers, GINT_TO_POINTER (sock));
    if (route) {
      g_hash_table_remove (l->callers, GINT_TO_POINTER (sock));
      route->caller = SRT_INVALID_SOCK;
      route_hold (route);
    }
    g_mutex_unlock (&l->lock);
    if (route) {
      route->callbacks.caller (route->user_data, FALSE);
      route_release (l, route);
    }
    close_socket (l, sock);
    return;
  }
}

static gpointer
listener_thread (gpointer data)
{
  MrSrtListener *l = data;
  SRT_EPOLL_EVENT events[EVENTS_MAX];

  while (!g_atomic_int_get (&l->stopping)) {
    int n = srt_epoll_uwait (l->eid, events, EVENTS_MAX, LISTENER_POLL_MS);

    for (int i = 0; i < n; i++) {
      if (events[i].fd == l->sock)
        accept_caller (l);
      else
        read_caller (l, events[i].fd);
    }
    expire_pending (l, g_get_monotonic_time ());
  }
  return NULL;
}

static gboolean
listener_open (MrSrtListener * l, const gchar * address, gint port,
    GError ** error)
{
  g_autoptr (GSocketAddress) saddr = NULL;
  struct sockaddr_storage native;
  gsize native_len;
  gboolean no = FALSE;
  int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;

  saddr = g_inet_socket_address_new_from_string (address, port);
  if (!saddr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IP address", address);
    return FALSE;
  }
  native_len = g_socket_address_get_native_size (saddr);
  if (!g_socket_address_to_native (saddr, &native, sizeof (native), error))
    return FALSE;

  l->sock = srt_create_socket ();
  if (l->sock == SRT_INVALID_SOCK)
    goto failed;
  /* srt_accept () must not block the thread: the epoll says when */
  srt_setsockflag (l->sock, SRTO_RCVSYN, &no, sizeof (no));
  if (srt_bind (l->sock, (struct sockaddr *) &native, native_len) ==
      SRT_ERROR)
    goto failed;
  if (srt_listen_callback (l->sock, listen_hook, l) == SRT_ERROR)
    goto failed;
  if (srt_listen (l->sock, LISTEN_BACKLOG) == SRT_ERROR)
    goto failed;
  l->eid = srt_epoll_create ();
  if (l->eid < 0 || srt_epoll_add_usock (l->eid, l->sock, &events) ==
      SRT_ERROR)
    goto failed;
  return TRUE;

failed:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
      "cannot listen for SRT on %s:%d: %s", address, port,
      srt_getlasterror_str ());
  if (l->eid >= 0)
    srt_epoll_release (l->eid);
  l->eid = -1;
  if (l->sock != SRT_INVALID_SOCK)
    srt_close (l->sock);
  l->sock = SRT_INVALID_SOCK;
  return FALSE;
}

static void
listener_free (MrSrtListener * l)
{
  g_atomic_int_set (&l->stopping, TRUE);
  if (l->thread)
    g_thread_join (l->thread);
  if (l->eid >= 0)
    srt_epoll_release (l->eid);
  if (l->sock != SRT_INVALID_SOCK)
    srt_close (l->sock);
  srt_cleanup ();
  g_hash_table_unref (l->routes);
  g_hash_table_unref (l->callers);
  g_array_unref (l->pending);
  g_cond_clear (&l->idle);
  g_mutex_clear (&l->lock);
  g_free (l->key);
  g_free (l);
}

MrSrtListener *
mr_srt_listener_acquire (const gchar * address, gint port, GError ** error)
{
  g_autofree gchar *key = NULL;
  MrSrtListener *l;

  if (!address || !*address)
    address = "0.0.0.0";
  key = g_strdup_printf ("%s:%d", address, port);

  g_mutex_lock (&listeners_lock);
  if (!listeners)
    listeners = g_hash_table_new (g_str_hash, g_str_equal);
  l = g_hash_table_lookup (listeners, key);
  if (l) {
    l->refcount++;
    g_mutex_unlock (&listeners_lock);
    return l;
  }

  srt_startup ();
  l = g_new0 (MrSrtListener, 1);
  l->refcount = 1;
  l->sock = SRT_INVALID_SOCK;
  l->eid = -1;
  g_mutex_init (&l->lock);
  g_cond_init (&l->idle);
  l->routes = g_hash_table_new (g_str_hash, g_str_equal);
  l->callers = g_hash_table_new (NULL, NULL);
  l->pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  g_array_set_clear_func (l->pending, pending_clear);
  l->key = g_steal_pointer (&key);
  if (!listener_open (l, address, port, error)) {
    g_mutex_unlock (&listeners_lock);
    listener_free (l);
    return NULL;
  }
  l->thread = g_thread_new ("srtroute", listener_thread, l);
  g_hash_table_insert (listeners, l->key, l);
  g_mutex_unlock (&listeners_lock);
  return l;
}

void
mr_srt_listener_release (MrSrtListener * l)
{
  g_mutex_lock (&listeners_lock);
  if (--l->refcount > 0) {
    g_mutex_unlock (&listeners_lock);
    return;
  }
  g_hash_table_remove (listeners, l->key);
  g_mutex_unlock (&listeners_lock);
  listener_free (l);
}

MrSrtRoute *
mr_srt_route_add (MrSrtListener * l, const MrSrtRouteConfig * config,
    const MrSrtRouteCallbacks * callbacks, gpointer user_data,
    GError ** error)
{
  MrSrtRoute *route;

  g_mutex_lock (&l->lock);
  if (g_hash_table_contains (l->routes, config->stream_id)) {
    g_mutex_unlock (&l->lock);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "stream id '%s' is already routed on %s", config->stream_id, l->key);
    return NULL;
  }
  route = g_new0 (MrSrtRoute, 1);
  route->stream_id = g_strdup (config->stream_id);
  route->passphrase = g_strdup (config->passphrase);
  route->pbkeylen = config->pbkeylen;
  route->latency_ms = config->latency_ms;
  route->callbacks = *callbacks;
  route->user_data = user_data;
  route->caller = SRT_INVALID_SOCK;
  g_hash_table_insert (l->routes, route->stream_id, route);
  g_mutex_unlock (&l->lock);
  return route;
}

void
mr_srt_route_remove (MrSrtListener * l, MrSrtRoute * route)
{
  SRTSOCKET caller;

  g_mutex_lock (&l->lock);
  g_hash_table_remove (l->routes, route->stream_id);
  caller = route->caller;
  if (caller != SRT_INVALID_SOCK)
    g_hash_table_remove (l->callers, GINT_TO_POINTER (caller));
  /* no new call can find it now; wait for those under way */
  while (route->busy > 0)
    g_cond_wait (&l->idle, &l->lock);
  g_mutex_unlock (&l->lock);

  if (caller != SRT_INVALID_SOCK)
    close_socket (l, caller);
  if (route->passphrase)
    memset (route->passphrase, 0, strlen (route->passphrase));
  g_free (route->passphrase);
  g_free (route->stream_id);
  g_free (route);
}

gboolean
mr_srt_route_stats (MrSrtListener * l, MrSrtRoute * route,
    MrSrtRouteStats * stats)
{
  SRT_TRACEBSTATS perf;
  SRTSOCKET caller;

  memset (stats, 0, sizeof (*stats));
  g_mutex_lock (&l->lock);
  caller = route->caller;
  g_mutex_unlock (&l->lock);
  if (caller == SRT_INVALID_SOCK || srt_bstats (caller, &perf, 0) ==
      SRT_ERROR)
    return FALSE;
  stats->packets_received = perf.pktRecvTotal;
  stats->bytes_received = (gint64) perf.byteRecvTotal;
  stats->packets_lost = perf.pktRcvLossTotal;
  stats->packets_dropped = perf.pktRcvDropTotal;
  stats->nak_sent = perf.pktSentNAKTotal;
  stats->rtt_ms = perf.msRTT;
  stats->receive_rate_mbps = perf.mbpsRecvRate;
  stats->negotiated_latency_ms = perf.msRcvTsbPdDelay;
  return TRUE;
}
