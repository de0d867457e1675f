/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* One SRT listening socket per address and port, shared by every
 * srtroutesrc on it: each registers a route (a stream id with its own
 * passphrase and key length) and gets the packets of the caller that asked
 * for it.  libsrt's listen callback chooses the passphrase by the caller's
 * stream id, or refuses the caller before any media flows.
 *
 * The callbacks run on the listener's thread (or libsrt's), without any
 * of the listener's locks held, never after mr_srt_route_remove ()
 * returned. */

#ifndef __MR_SRT_ROUTE_LISTENER_H__
#define __MR_SRT_ROUTE_LISTENER_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MrSrtListener MrSrtListener;
typedef struct _MrSrtRoute MrSrtRoute;

typedef struct
{
  /* one SRT message (a live caller's: 7 TS packets, at most 1456 bytes) */
  void (*data) (gpointer user_data, const guint8 * bytes, gsize size);
  /* a caller came (@connected TRUE) or went */
  void (*caller) (gpointer user_data, gboolean connected);
  /* a caller was refused: the id it sent (never a secret), and why */
  void (*refused) (gpointer user_data, const gchar * stream_id,
      const gchar * reason);
} MrSrtRouteCallbacks;

typedef struct
{
  const gchar *stream_id;       /* the route, as mr_srt_stream_id_route () */
  const gchar *passphrase;      /* NULL: the caller must not encrypt */
  gint pbkeylen;                /* 0, 16, 24 or 32 */
  gint latency_ms;              /* < 0: libsrt's default */
} MrSrtRouteConfig;

/* The listener on @address:@port, made (bound, listening) if none is yet.
 * NULL and @error when the port cannot be had. */
MrSrtListener *mr_srt_listener_acquire (const gchar * address, gint port,
    GError ** error);
void mr_srt_listener_release (MrSrtListener * listener);

/* NULL and @error when the listener already routes this stream id */
MrSrtRoute *mr_srt_route_add (MrSrtListener * listener,
    const MrSrtRouteConfig * config, const MrSrtRouteCallbacks * callbacks,
    gpointer user_data, GError ** error);
/* Closes the route's caller, if any; no callback runs after it returns */
void mr_srt_route_remove (MrSrtListener * listener, MrSrtRoute * route);

/* The route's caller's figures (libsrt's srt_bstats, cumulative), FALSE
 * when no caller is connected */
typedef struct
{
  gint64 packets_received;
  gint64 bytes_received;
  gint64 packets_lost;
  gint64 packets_dropped;
  gint64 nak_sent;
  gdouble rtt_ms;
  gdouble receive_rate_mbps;
  gint negotiated_latency_ms;
} MrSrtRouteStats;

gboolean mr_srt_route_stats (MrSrtListener * listener, MrSrtRoute * route,
    MrSrtRouteStats * stats);

G_END_DECLS

#endif /* __MR_SRT_ROUTE_LISTENER_H__ */
