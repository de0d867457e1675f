/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_UDP_BATCH_SRC_H__
#define __GST_UDP_BATCH_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_UDP_BATCH_SRC (gst_udp_batch_src_get_type ())
G_DECLARE_FINAL_TYPE (GstUdpBatchSrc, gst_udp_batch_src, GST, UDP_BATCH_SRC,
    GstPushSrc);

struct _GstUdpBatchSrc
{
  GstPushSrc parent;

  /* properties, protected by object lock */
  gchar *address;
  gint port;
  GstCaps *caps;
  gint buffer_size;
  guint mtu;
  guint batch_size;
  guint64 read_interval;        /* ns; 0: read at once */
  gboolean reuse;
  gchar *multicast_source;      /* SSM sender, or NULL */
  gchar *multicast_iface;       /* interface to join on, or NULL */

  /* streaming state, set up in start() */
  gint fd;
  GstPoll *poll;
  GstPollFD pollfd;
  GstBufferPool *pool;          /* of mtu-sized buffers */
  GstBuffer **slots;            /* batch buffers the next read fills */
  GstMapInfo *maps;             /* their memory, mapped while in a slot */
  struct mmsghdr *msgs;
  struct iovec *iov;            /* point into the slots' maps */
  guint n_slots;                /* batch-size when started */
  guint slot_size;              /* mtu when started */
  GstClockTime next_read;       /* clock time before which not to read
                                 * again, or NONE */
  GstClockID wait_id;           /* the wait for it; protected by object lock */
  gboolean flushing;            /* protected by object lock */
  gint bound_port;              /* protected by object lock */

  /* counters, protected by object lock */
  guint64 datagrams;
  guint64 reads;
  guint64 truncated;
};

G_END_DECLS

#endif /* __GST_UDP_BATCH_SRC_H__ */
