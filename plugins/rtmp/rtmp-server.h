/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_RTMP_SERVER_H__
#define __MR_RTMP_SERVER_H__

#include <gio/gio.h>

G_BEGIN_DECLS

/* RTMP publishing points that share a TCP port.
 *
 * One listener per port in the process, made by the first point
 * registered on it and closed with the last: its thread accepts, and one
 * thread per connection does the handshake, the chunk stream
 * (rtmp-chunk.h), the commands (connect, releaseStream, FCPublish,
 * createStream, publish, FCUnpublish, deleteStream; rtmp-amf.h), the
 * acknowledgements, and hands what the publisher sends to the point
 * registered for its application and stream key.  A publisher for an
 * application or key nobody registered, or for a key that already has a
 * publisher, is refused (an onStatus or _error answer, then the
 * connection is closed) and every point on the port hears of it.
 *
 * GIO only, no GStreamer: rtmpserversrc registers a point when it starts
 * and unregisters it when it stops.  The callbacks are called on a
 * connection's thread, one at a time per point, never after
 * mr_rtmp_publish_point_unregister () returned. */

/* a connection silent this long (handshake, commands or media) is closed */
#define MR_RTMP_SERVER_TIMEOUT_S 10
/* connections at once on one port; more are closed at once */
#define MR_RTMP_SERVER_MAX_CONNECTIONS 64

typedef struct _MrRtmpPublishPoint MrRtmpPublishPoint;

typedef struct
{
  /* a publisher began publishing to the point; @peer: its address */
  void (*publish_start) (gpointer user_data, const gchar * peer);
  /* an audio (8) or video (9) message, or a data message (18) that is
   * onMetaData (without its "@setDataFrame"); @timestamp in ms, as the
   * publisher stamped it */
  void (*media) (gpointer user_data, guint8 type, guint32 timestamp,
      const guint8 * data, gsize size);
  /* the publisher stopped publishing or left */
  void (*publish_stop) (gpointer user_data, const gchar * reason);
  /* a publisher was refused: on the point's port, for an unknown
   * application or stream key (@key: the one it tried, NULL when it was
   * refused at connect), or on the point itself, which has a publisher
   * already (@key NULL) */
  void (*refused) (gpointer user_data, const gchar * peer,
      const gchar * app, const gchar * key, const gchar * reason);
} MrRtmpPublishCallbacks;

/* Registers @app/@key on @port (0: a port of the kernel's choice, not
 * shared), listening on @address (NULL: every address) when the port has
 * no listener yet.  Fails when the port is listened on at another
 * address, cannot be bound, or has @app/@key already. */
MrRtmpPublishPoint *mr_rtmp_publish_point_register (const gchar * address,
    guint port, const gchar * app, const gchar * key,
    const MrRtmpPublishCallbacks * callbacks, gpointer user_data,
    GError ** error);
/* The port the point's listener is bound to */
guint mr_rtmp_publish_point_port (MrRtmpPublishPoint * point);
/* Closes the point's publisher if any, and the listener with its last
 * point */
void mr_rtmp_publish_point_unregister (MrRtmpPublishPoint * point);

G_END_DECLS

#endif /* __MR_RTMP_SERVER_H__ */
