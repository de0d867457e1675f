/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* What blackdetect, freezedetect and silencedetect share on the GStreamer
 * side: their element message and the times of a buffer. */

#ifndef __GST_CONTENT_DETECT_H__
#define __GST_CONTENT_DETECT_H__

#include <gst/base/gstbasetransform.h>

#include "content-stats.h"

G_BEGIN_DECLS

/* The element message @name (the element's factory name) for @e:
 * `event` start/end, `running-time`, `stream-time`, and `duration` for an
 * end.  The caller may add fields before posting it. */
GstStructure *gst_content_detect_event_new (const gchar * name,
    const MrContentEvent * e);

/* Posts gst_content_detect_event_new() for each of @events, logging them
 * as "@what starts/ends at ..." */
void gst_content_detect_post (GstElement * element, const gchar * name,
    const gchar * what, const MrContentEvent * events, guint n_events);

/* The running and stream time of @buffer's PTS in @trans's TIME segment;
 * FALSE when it has none */
gboolean gst_content_detect_stamp (GstBaseTransform * trans,
    GstBuffer * buffer, MrContentStamp * stamp);

/* A duration property in seconds, in nanoseconds */
guint64 gst_content_detect_seconds_to_ns (gdouble seconds);

G_END_DECLS

#endif /* __GST_CONTENT_DETECT_H__ */
