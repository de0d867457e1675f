/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_TS_SEGMENT_SINK_H__
#define __GST_TS_SEGMENT_SINK_H__

#include <stdio.h>

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>
#include <gst/base/gstadapter.h>

#include "mpegts-rap.h"

G_BEGIN_DECLS

#define GST_TYPE_TS_SEGMENT_SINK (gst_ts_segment_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTsSegmentSink, gst_ts_segment_sink, GST,
    TS_SEGMENT_SINK, GstBaseSink);

typedef struct
{
  gchar *path;
  gdouble duration;             /* seconds */
} GstTsSegmentEntry;

struct _GstTsSegmentSink
{
  GstBaseSink parent;

  /* properties, protected by object lock */
  gchar *directory;
  gchar *location;
  gchar *playlist_location;
  guint target_duration;        /* seconds */
  guint max_files;
  guint playlist_length;

  /* streaming thread only */
  GstAdapter *adapter;
  MrTsRapScanner scanner;
  guint8 pat[188];
  gboolean have_pat;
  guint8 pmt[188];
  gboolean have_pmt;
  /* the tables since the last other packet: they go with what follows */
  guint8 pending[8 * 188];
  guint n_pending;
  gboolean pending_pat, pending_pmt;
  FILE *file;
  gchar *file_path;
  gint64 file_wall_start;       /* µs since the epoch */
  GstClockTime file_start;      /* running time */
  GstClockTime last_time;       /* running time of the last data */
  guint index;                  /* of the next segment */
  guint64 media_sequence;       /* of the first entry in @entries */
  GQueue entries;               /* GstTsSegmentEntry, oldest first */
  GQueue on_disk;               /* gchar * paths, oldest first */

  /* protected by object lock */
  gboolean failed;              /* a write failed: drop everything */
  guint64 segments;
  guint64 bytes;
  guint64 dropped_bytes;
};

G_END_DECLS

#endif /* __GST_TS_SEGMENT_SINK_H__ */
