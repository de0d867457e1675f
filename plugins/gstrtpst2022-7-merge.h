/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_RTP_ST_2022_7_MERGE_H__
#define __GST_RTP_ST_2022_7_MERGE_H__

#include <gst/gst.h>

#include "merge-window.h"

G_BEGIN_DECLS

#define GST_TYPE_RTP_ST_2022_7_MERGE_PAD (gst_rtp_st_2022_7_merge_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstRtpSt20227MergePad, gst_rtp_st_2022_7_merge_pad, GST,
    RTP_ST_2022_7_MERGE_PAD, GstPad);

#define GST_TYPE_RTP_ST_2022_7_MERGE (gst_rtp_st_2022_7_merge_get_type ())
G_DECLARE_FINAL_TYPE (GstRtpSt20227Merge, gst_rtp_st_2022_7_merge, GST,
    RTP_ST_2022_7_MERGE, GstElement);

struct _GstRtpSt20227MergePad
{
  GstPad parent;

  guint leg;                    /* its index in the window */
  /* protected by the element's object lock */
  gboolean eos;
  guint64 invalid;              /* not RTP: dropped */
};

struct _GstRtpSt20227Merge
{
  GstElement parent;

  GstPad *srcpad;

  /* held while emitting and pushing, so that the output of two threads
   * never interleaves; taken before the object lock */
  GMutex push_lock;

  /* protected by the object lock */
  MrMergeWindow window;
  guint window_ms;
  guint leg_timeout_ms;
  guint32 legs_used;            /* bit per leg index taken by a pad */
  guint next_pad_index;
  GstBufferList *out;           /* what the window emitted, to push */
  GQueue messages;              /* GstStructure, to post after unlocking */
  GstEvent *segment;            /* the first leg's, sent before any data */
  GstCaps *caps;
  gboolean need_stream_start, need_caps, need_segment;
  gboolean eos_sent;
  guint64 last_now;

  /* the clock task: waits for the window's next deadline */
  GCond cond;
  gboolean running;
  GstClockID clock_id;
  GstClockTime waiting_for;     /* the deadline clock_id is for */
};

G_END_DECLS

#endif /* __GST_RTP_ST_2022_7_MERGE_H__ */
