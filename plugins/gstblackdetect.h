/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BLACK_DETECT_H__
#define __GST_BLACK_DETECT_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "content-stats.h"

G_BEGIN_DECLS

#define GST_TYPE_BLACK_DETECT (gst_black_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstBlackDetect, gst_black_detect, GST, BLACK_DETECT,
    GstVideoFilter);

struct _GstBlackDetect
{
  GstVideoFilter parent;

  /* protected by the object lock */
  gdouble pixel_threshold;      /* of the luma range */
  gdouble picture_threshold;    /* share of black samples */
  gdouble min_duration;         /* seconds */
  guint subsample;
  MrBlackDetector detector;
  guint64 frames;               /* analysed */
  guint64 black_frames;         /* at or above the picture threshold */
  gdouble last_ratio;           /* the last frame's share of black samples */
  guint luma_threshold;         /* the last frame's, in luma levels */
};

G_END_DECLS

#endif /* __GST_BLACK_DETECT_H__ */
