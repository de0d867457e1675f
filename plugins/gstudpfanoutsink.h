/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_UDP_FANOUT_SINK_H__
#define __GST_UDP_FANOUT_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_UDP_FANOUT_SINK (gst_udp_fanout_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstUdpFanoutSink, gst_udp_fanout_sink, GST,
    UDP_FANOUT_SINK, GstBaseSink);

typedef struct _GstUdpFanoutClient GstUdpFanoutClient;

struct _GstUdpFanoutSink
{
  GstBaseSink parent;

  /* protected by clients_lock; the streaming thread sends with it held so
   * that add/remove never race a send */
  GMutex clients_lock;
  GPtrArray *clients;           /* GstUdpFanoutClient* */
  gboolean gso;                 /* property */
  gboolean gso_works;           /* cleared when the kernel refuses GSO */
  gint buffer_size;
  /* the sockets' options (properties); set on the sockets with the lock
   * held, so between two sends */
  gint ttl_mc;
  gint qos_dscp;                /* -1: the system's */
  gchar *multicast_iface;
  gboolean loop;
  gboolean iface_missing;       /* multicast_iface is not there */

  /* streaming state */
  gint fd4;
  gint fd6;
};

G_END_DECLS

#endif /* __GST_UDP_FANOUT_SINK_H__ */
