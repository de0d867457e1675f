/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gstcontentdetect.h"

GstStructure *
gst_content_detect_event_new (const gchar * name, const MrContentEvent * e)
{
  gboolean start = e->type == MR_CONTENT_START;
  GstStructure *s = gst_structure_new (name,
      "event", G_TYPE_STRING, start ? "start" : "end",
      "running-time", G_TYPE_UINT64, e->at.running_time,
      "stream-time", G_TYPE_UINT64, e->at.stream_time, NULL);

  if (!start)
    gst_structure_set (s, "duration", G_TYPE_UINT64, e->duration, NULL);
  return s;
}

void
gst_content_detect_post (GstElement * element, const gchar * name,
    const gchar * what, const MrContentEvent * events, guint n_events)
{
  for (guint i = 0; i < n_events; i++) {
    const MrContentEvent *e = &events[i];

    GST_INFO_OBJECT (element, "%s %s at %" GST_TIME_FORMAT " (stream time %"
        GST_TIME_FORMAT ")", what, e->type == MR_CONTENT_START ? "starts" :
        "ends", GST_TIME_ARGS (e->at.running_time),
        GST_TIME_ARGS (e->at.stream_time));
    gst_element_post_message (element,
        gst_message_new_element (GST_OBJECT (element),
            gst_content_detect_event_new (name, e)));
  }
}

gboolean
gst_content_detect_stamp (GstBaseTransform * trans, GstBuffer * buffer,
    MrContentStamp * stamp)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (!GST_CLOCK_TIME_IS_VALID (pts) || trans->segment.format !=
      GST_FORMAT_TIME)
    return FALSE;
  stamp->running_time = gst_segment_to_running_time (&trans->segment,
      GST_FORMAT_TIME, pts);
  stamp->stream_time = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, pts);
  return GST_CLOCK_TIME_IS_VALID (stamp->running_time);
}

guint64
gst_content_detect_seconds_to_ns (gdouble seconds)
{
  return (guint64) llround (seconds * GST_SECOND);
}
