/* mroute: RTMP in and out.  The one place where a flow re-wraps media:
 * FLV carries H.264 and AAC (or MP3) in its own framing, so an RTMP output
 * demuxes the TS and muxes FLV, and an RTMP source does the reverse.
 * Nothing is decoded. */

#ifndef __MR_RECIPE_RTMP_H__
#define __MR_RECIPE_RTMP_H__

#include <gst/gst.h>

#include "flow-spec.h"

G_BEGIN_DECLS

/* tsdemux ! h264parse/aacparse ! flvmux ! rtmp2sink, as one bin named
 * "sink" with a sink pad.  A stream FLV cannot carry posts an error from
 * the demuxer naming its codec. */
GstElement *mr_rtmp_make_sink (const MrEndpoint * out, GError ** error);

/* rtmp2src ! flvdemux ! parsers ! mpegtsmux ! packetstats, added to @bin;
 * *@last is the element whose src pad carries the TS. */
gboolean mr_rtmp_build_source (GstElement * bin, const MrEndpoint * src,
    GstElement ** stats, GstElement ** last, GError ** error);

/* rtmp://host[:port]/app + "/" + key */
gchar *mr_rtmp_location (const gchar * url, const gchar * key);

G_END_DECLS

#endif /* __MR_RECIPE_RTMP_H__ */
