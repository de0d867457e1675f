/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_FREEZE_DETECT_H__
#define __GST_FREEZE_DETECT_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "content-stats.h"

G_BEGIN_DECLS

#define GST_TYPE_FREEZE_DETECT (gst_freeze_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstFreezeDetect, gst_freeze_detect, GST, FREEZE_DETECT,
    GstVideoFilter);

struct _GstFreezeDetect
{
  GstVideoFilter parent;

  /* streaming thread only (and start/stop, when it is not running) */
  GstVideoFrame reference;      /* mapped, holding a ref on its buffer */
  gboolean have_reference;

  /* protected by the object lock */
  gdouble noise_db;
  gdouble duration;             /* seconds */
  guint subsample;
  MrFreezeDetector detector;
  guint64 frames;               /* analysed */
  gdouble last_mafd;            /* the last frame's, against the reference */
};

G_END_DECLS

#endif /* __GST_FREEZE_DETECT_H__ */
