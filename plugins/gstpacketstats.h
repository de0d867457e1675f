/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_PACKET_STATS_H__
#define __GST_PACKET_STATS_H__

#include <gst/gst.h>

#include "packet-counter.h"

G_BEGIN_DECLS

#define GST_TYPE_PACKET_STATS (gst_packet_stats_get_type ())
G_DECLARE_FINAL_TYPE (GstPacketStats, gst_packet_stats, GST, PACKET_STATS,
    GstElement);

struct _GstPacketStats
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* protected by object lock */
  MrPacketCounter counter;
  GstClockTime idle_timeout;
  gboolean active;
  guint activity_seq;           /* bumped at every change of active */
  GstClockTime last_arrival;    /* clock time of the last data */
  GstClockID idle_id;
};

G_END_DECLS

#endif /* __GST_PACKET_STATS_H__ */
