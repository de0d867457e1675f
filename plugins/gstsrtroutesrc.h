/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_SRT_ROUTE_SRC_H__
#define __GST_SRT_ROUTE_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

#include "srt-route-listener.h"

G_BEGIN_DECLS

#define GST_TYPE_SRT_ROUTE_SRC (gst_srt_route_src_get_type ())
G_DECLARE_FINAL_TYPE (GstSrtRouteSrc, gst_srt_route_src, GST, SRT_ROUTE_SRC,
    GstPushSrc);

struct _GstSrtRouteSrc
{
  GstPushSrc parent;

  /* properties, protected by object lock */
  gchar *address;
  gint port;
  gchar *streamid;
  gchar *passphrase;            /* never logged nor readable */
  gint pbkeylen;
  gint latency;

  /* set up in start(), gone in stop(); protected by route_lock, not the
   * object lock: the listener posts our messages (which takes the object
   * lock) while it holds its own, which reading the stats takes */
  GMutex route_lock;
  MrSrtListener *listener;
  MrSrtRoute *route;
  GAsyncQueue *queue;           /* of GstBuffer, filled by the listener */
  gint flushing;                /* atomic */
  gint queue_dropped;           /* atomic */
};

G_END_DECLS

#endif /* __GST_SRT_ROUTE_SRC_H__ */
