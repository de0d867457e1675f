/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_SILENCE_DETECT_H__
#define __GST_SILENCE_DETECT_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/audio/gstaudiofilter.h>

#include "content-stats.h"

G_BEGIN_DECLS

#define GST_TYPE_SILENCE_DETECT (gst_silence_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstSilenceDetect, gst_silence_detect, GST,
    SILENCE_DETECT, GstAudioFilter);

struct _GstSilenceDetect
{
  GstAudioFilter parent;

  /* streaming thread only: events found under the lock, posted after */
  GArray *events;

  /* protected by the object lock */
  gdouble noise_db;
  gdouble duration;             /* seconds */
  gboolean mono;
  MrSilenceDetector detector;
  guint rate;                   /* the detector's, 0 before caps */
  /* per run (one, or one per channel with mono) */
  MrContentStamp start[MR_CONTENT_MAX_CHANNELS];
  GstClockTime next_pts;        /* the end of the last buffer */
  guint64 samples;              /* frames analysed */
  guint64 stretches;            /* silences reported */
  gdouble peak_db;              /* the last buffer's peak, in dBFS */
};

G_END_DECLS

#endif /* __GST_SILENCE_DETECT_H__ */
