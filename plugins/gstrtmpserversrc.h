/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_RTMP_SERVER_SRC_H__
#define __GST_RTMP_SERVER_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

#include "rtmp/rtmp-server.h"

G_BEGIN_DECLS

#define GST_TYPE_RTMP_SERVER_SRC (gst_rtmp_server_src_get_type ())
G_DECLARE_FINAL_TYPE (GstRtmpServerSrc, gst_rtmp_server_src, GST,
    RTMP_SERVER_SRC, GstPushSrc);

struct _GstRtmpServerSrc
{
  GstPushSrc parent;

  /* properties, protected by object lock */
  gchar *address;
  guint port;
  gchar *application;
  gchar *stream_key;
  guint max_queue_bytes;
  guint bound_port;

  MrRtmpPublishPoint *point;    /* between start and stop */

  /* what the publisher's thread hands the streaming thread, protected by
   * lock */
  GMutex lock;
  GCond cond;
  GQueue queue;                 /* of QueueItem */
  gsize queued_bytes;
  gboolean flushing;
  gboolean header_sent;
  gboolean publishing;
  gboolean first_of_publisher;  /* the next tag is its first */
  guint32 first_ts;             /* the publisher's timestamp of it */
  guint64 base_ms;              /* our timestamp of it */
  guint64 last_out_ms;
  gboolean warned_enhanced;
  /* counters, protected by lock */
  guint64 publishers;
  guint64 refused;
  guint64 bytes;
  guint64 tags;
  guint64 dropped;
};

G_END_DECLS

#endif /* __GST_RTMP_SERVER_SRC_H__ */
