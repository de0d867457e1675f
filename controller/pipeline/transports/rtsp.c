/* mroute: RTSP out.  An rtsp output is a mount of the controller's RTSP
 * server (pipeline/rtsp-server.c) at rtsp://HOST:PORT/PATH; its sink, in
 * an isolated branch, is an appsink that hands the flow's TS to the
 * mount, which serves it to every viewer as MP2T over RTP.  Nothing is
 * demuxed or decoded here.
 *
 *   output: appsink (the mount's feed), in an isolated branch; the mount
 *           goes when its last sink does */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"
#include "pipeline/rtsp-server.h"

#include <gst/app/gstappsink.h>

#define MOUNT_KEY "mr-rtsp-mount"

static GstFlowReturn
on_new_sample (GstAppSink * appsink, gpointer user_data)
{
  MrRtspMount *mount = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (appsink);
  GstBuffer *buffer;

  if (sample && (buffer = gst_sample_get_buffer (sample)))
    mr_rtsp_mount_push (mount, buffer);
  return GST_FLOW_OK;
}

static GstElement *
make_output (const MrEndpoint * out, const gchar * dir, GError ** error)
{
  MrRtspServer *server = mr_rtsp_server_get_default ();
  GstAppSinkCallbacks callbacks = {.new_sample = on_new_sample };
  g_autoptr (GstCaps) caps = gst_caps_from_string (MR_TS_CAPS);
  GstElement *sink;
  MrRtspMount *mount;

  if (!server) {
    g_set_error (error, MR_TRANSPORT_ERROR, 0, "the RTSP server is not "
        "running (it could not listen on [rtsp] port: see the log)");
    return NULL;
  }
  if (!(sink = mr_transport_make ("appsink", "rtspsink", error)))
    return NULL;
  g_object_set (sink, "sync", FALSE, "async", FALSE, "max-buffers", 256,
      "drop", TRUE, "caps", caps, NULL);
  mount = mr_rtsp_server_mount (server, out->path, out->user, out->password);
  /* the mount lives as long as its sink: released with the callbacks */
  g_object_set_data (G_OBJECT (sink), MOUNT_KEY, mount);
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, mount,
      (GDestroyNotify) mr_rtsp_mount_release);
  return sink;
}

/* what the branch was handed, and the viewers watching now */
static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  MrRtspMount *mount = reading->sink ?
      g_object_get_data (G_OBJECT (reading->sink), MOUNT_KEY) : NULL;

  stats->connected = reading->in_branch && !reading->failed;
  stats->bytes_sent = reading->branch_bytes;
  stats->packets_sent = reading->branch_packets;
  if (mount) {
    stats->has_viewers = TRUE;
    stats->viewers = mr_rtsp_mount_viewers (mount);
  }
  return TRUE;
}

const MrTransport mr_transport_rtsp = {
  .protocol = MR_PROTOCOL_RTSP,
  .output_kind = MR_TRANSPORT_OUTPUT_BRANCH,
  .make_output = make_output,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,
};
