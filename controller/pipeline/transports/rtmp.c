/* mroute: RTMP in and out.  The one place where a flow re-wraps media:
 * FLV carries H.264 and AAC (or MP3) in its own framing, so an RTMP output
 * demuxes the TS and muxes FLV, and an RTMP source does the reverse.
 * Nothing is decoded.
 *
 *   source that pulls: rtmp2src ! flvdemux ! parsers ! mpegtsmux ! packetstats
 *   source that listens (ingest_port): rtmpserversrc (ours: one listener
 *           per port in the process, publishers routed by stream key)
 *           ! flvdemux ! parsers ! mpegtsmux ! packetstats
 *   output: tsdemux ! h264parse/aacparse ! flvmux ! rtmp2sink, in an
 *           isolated branch; a stream FLV cannot carry posts an error from
 *           the demuxer naming its codec */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

#include <string.h>

/* the application of a listening source: rtmp://host:port/live/KEY, as
 * nginx-rtmp and MediaMTX have it */
#define MR_RTMP_APPLICATION "live"

/* rtmp://host[:port]/app + "/" + key; a host (not a URL) with @port:
 * rtmp://host:port/live/key */
static gchar *
rtmp_location (const gchar * url, gint port, const gchar * key)
{
  gsize len = strlen (url);

  if (!g_str_has_prefix (url, "rtmp://") && !g_str_has_prefix (url,
          "rtmps://")) {
    gboolean v6 = strchr (url, ':') != NULL;

    return g_strdup_printf ("rtmp://%s%s%s:%d/live/%s", v6 ? "[" : "", url,
        v6 ? "]" : "", port, key ? key : "");
  }

  while (len > 0 && url[len - 1] == '/')
    len--;
  if (!key || !*key)
    return g_strndup (url, len);
  return g_strdup_printf ("%.*s/%s", (int) len, url, key);
}

/* What FLV can carry, and the parser that gets it there */
static const gchar *
flv_parser_for (const GstStructure * s, const gchar ** what)
{
  const gchar *name = gst_structure_get_name (s);
  gint version = 0, layer = 0;

  *what = name;
  if (g_str_equal (name, "video/x-h264"))
    return "h264parse";
  if (g_str_equal (name, "audio/mpeg")) {
    gst_structure_get_int (s, "mpegversion", &version);
    gst_structure_get_int (s, "layer", &layer);
    if (version == 4 || version == 2)
      return "aacparse";
    if (version == 1 && layer == 3)
      return "mpegaudioparse";
  }
  if (g_str_equal (name, "video/x-h265"))
    *what = "HEVC video";
  else if (g_str_equal (name, "video/mpeg"))
    *what = "MPEG-2 video";
  else if (g_str_equal (name, "audio/x-ac3"))
    *what = "AC-3 audio";
  else if (g_str_equal (name, "audio/x-eac3"))
    *what = "E-AC-3 audio";
  return NULL;
}

/* @pad (a demuxer's new pad) ! queue ! @parser_name ! a new @mux_pad of
 * @mux, in @bin's state */
static void
link_through_parser (GstBin * bin, GstPad * pad, const gchar * parser_name,
    GstElement * mux, const gchar * mux_pad)
{
  GstElement *queue = gst_element_factory_make ("queue", NULL);
  GstElement *parser = gst_element_factory_make (parser_name, NULL);
  g_autoptr (GstPad) qpad = NULL;
  GstPad *muxpad;

  gst_bin_add_many (bin, queue, parser, NULL);
  gst_element_link (queue, parser);
  if ((muxpad = gst_element_request_pad_simple (mux, mux_pad))) {
    g_autoptr (GstPad) ppad = gst_element_get_static_pad (parser, "src");
    gst_pad_link (ppad, muxpad);
    gst_object_unref (muxpad);
  }
  gst_element_sync_state_with_parent (parser);
  gst_element_sync_state_with_parent (queue);
  qpad = gst_element_get_static_pad (queue, "sink");
  gst_pad_link (pad, qpad);
}

/* tsdemux found a stream: FLV-able ones go to the muxer, the others end
 * the output with an error that says why */
static void
on_ts_pad (GstElement * demux, GstPad * pad, gpointer user_data)
{
  GstElement *bin = user_data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const GstStructure *s;
  const gchar *parser_name, *what;
  g_autoptr (GstElement) mux = NULL;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  s = gst_caps_get_structure (caps, 0);
  if (!g_str_has_prefix (gst_structure_get_name (s), "video/")
      && !g_str_has_prefix (gst_structure_get_name (s), "audio/"))
    return;                     /* data streams (SCTE-35, teletext): left out */

  parser_name = flv_parser_for (s, &what);
  if (!parser_name) {
    GError *err = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
        "RTMP cannot carry %s: FLV takes H.264 video and AAC or MP3 audio",
        what);
    gst_element_post_message (demux, gst_message_new_error (GST_OBJECT
            (demux), err, gst_structure_get_name (s)));
    g_error_free (err);
    return;
  }

  mux = gst_bin_get_by_name (GST_BIN (bin), "flvmux");
  link_through_parser (GST_BIN (bin), pad, parser_name, mux,
      g_str_has_prefix (gst_structure_get_name (s), "video/") ? "video" :
      "audio");
}

static GstElement *
make_output (const MrEndpoint * out, const gchar * dir, GError ** error)
{
  GstElement *bin = gst_bin_new ("sink");
  GstElement *demux = mr_transport_make ("tsdemux", "tsdemux", error);
  GstElement *mux = mr_transport_make ("flvmux", "flvmux", error);
  GstElement *sink = mr_transport_make ("rtmp2sink", "rtmp2sink", error);
  g_autofree gchar *location = NULL;
  g_autoptr (GstPad) pad = NULL;

  if (!demux || !mux || !sink) {
    g_clear_object (&demux);
    g_clear_object (&mux);
    g_clear_object (&sink);
    gst_object_unref (bin);
    return NULL;
  }
  /* the stream key is a secret: in the property, never logged by us */
  location = rtmp_location (out->destination, out->port, out->stream_key);
  g_object_set (sink, "location", location, "async", FALSE, "sync", FALSE,
      NULL);
  g_object_set (mux, "streamable", TRUE, NULL);
  gst_bin_add_many (GST_BIN (bin), demux, mux, sink, NULL);
  gst_element_link (mux, sink);
  g_signal_connect (demux, "pad-added", G_CALLBACK (on_ts_pad), bin);
  pad = gst_element_get_static_pad (demux, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  return bin;
}

/* The parser after flvdemux has its caps: only now does it get its pad on
 * the TS muxer.  mpegtsmux (1.22) makes every stream at its first output,
 * and fails ("Could not create handler for stream") for a pad that has no
 * caps yet: the audio pad when the first video went through before
 * aacparse had parsed a frame.  A pad added later is a new stream of the
 * program.  The caps event is dropped here: the link schedules the sticky
 * events again, and they go to the muxer in order with the next buffer. */
static GstPadProbeReturn
link_on_caps (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstElement *mux = user_data;
  GstPad *muxpad;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_pad_remove_probe (pad, GST_PAD_PROBE_INFO_ID (info));
  if ((muxpad = gst_element_request_pad_simple (mux, "sink_%d"))) {
    gst_pad_link (pad, muxpad);
    gst_object_unref (muxpad);
  }
  return GST_PAD_PROBE_DROP;
}

/* flvdemux found a stream: parse it into the TS muxer */
static void
on_flv_pad (GstElement * demux, GstPad * pad, gpointer user_data)
{
  GstElement *bin = user_data;
  GstElement *mux = gst_bin_get_by_name (GST_BIN (bin), "tsmux");
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps,
          0));
  const gchar *parser_name = g_str_has_prefix (name, "video/") ?
      "h264parse" : "aacparse";
  GstElement *queue = gst_element_factory_make ("queue", NULL);
  GstElement *parser = gst_element_factory_make (parser_name, NULL);
  g_autoptr (GstPad) qpad = NULL;
  g_autoptr (GstPad) ppad = NULL;

  /* SPS and PPS before every IDR frame (FLV has them once, in its
   * sequence header): a receiver that joins the TS mid-stream, or after a
   * publisher came back, decodes from the next keyframe */
  if (g_str_equal (parser_name, "h264parse"))
    g_object_set (parser, "config-interval", -1, NULL);
  gst_bin_add_many (GST_BIN (bin), queue, parser, NULL);
  gst_element_link (queue, parser);
  ppad = gst_element_get_static_pad (parser, "src");
  gst_pad_add_probe (ppad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, link_on_caps,
      mux, gst_object_unref);
  gst_element_sync_state_with_parent (parser);
  gst_element_sync_state_with_parent (queue);
  qpad = gst_element_get_static_pad (queue, "sink");
  gst_pad_link (pad, qpad);
}

static gboolean
build_source (GstBin * bin, const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GstElement ** last, GError ** error)
{
  gboolean listens = src->ingest_port != 0;
  GstElement *rtmpsrc = mr_transport_make (listens ? "rtmpserversrc" :
      "rtmp2src", listens ? "rtmpserversrc" : "rtmp2src", error);
  GstElement *demux = mr_transport_make ("flvdemux", "flvdemux", error);
  GstElement *mux = mr_transport_make ("mpegtsmux", "tsmux", error);
  g_autofree gchar *location = NULL;

  if (!rtmpsrc || !demux || !mux
      || !(*stats = mr_transport_make ("packetstats", "stats", error))) {
    g_clear_object (&rtmpsrc);
    g_clear_object (&demux);
    g_clear_object (&mux);
    return FALSE;
  }
  if (listens) {
    /* the stream key is in the property, never logged by us */
    g_object_set (rtmpsrc, "port", (guint) src->ingest_port, "application",
        MR_RTMP_APPLICATION, "stream-key", src->stream_id, NULL);
    if (src->ingest_address)
      g_object_set (rtmpsrc, "address", src->ingest_address, NULL);
    /* a publisher that left is waited for by the element itself: the
     * flow sees its silence (source_error) and its return
     * (source_active) through packetstats */
  } else {
    location = rtmp_location (src->destination, 0, src->stream_id);
    g_object_set (rtmpsrc, "location", location, NULL);
  }
  /* 7 TS packets per buffer, the datagram size of every other output */
  g_object_set (mux, "alignment", 7, NULL);
  gst_bin_add_many (bin, rtmpsrc, demux, mux, *stats, NULL);
  gst_element_link (rtmpsrc, demux);
  gst_element_link (mux, *stats);
  g_signal_connect (demux, "pad-added", G_CALLBACK (on_flv_pad), bin);
  *last = *stats;
  return TRUE;
}

/* what the branch was handed: rtmp2sink counts nothing we can read */
static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  stats->connected = reading->in_branch && !reading->failed;
  stats->bytes_sent = reading->branch_bytes;
  stats->packets_sent = reading->branch_packets;
  return TRUE;
}

/* a listener's publishers: refused ones are counted (flow-events.c) */
static void
read_source_stats (const MrEndpoint * src, GstBin * bin,
    MrSourceStats * stats)
{
  stats->refuses_publishers = src->ingest_port != 0;
}

static MrSourceNote
read_source_message (const GstStructure * s, const gchar ** detail,
    const gchar ** reason)
{
  /* rtmpserversrc: its publisher left, it waits for the next one */
  if (gst_structure_has_name (s, "rtmpserversrc-publisher")
      && g_strcmp0 (gst_structure_get_string (s, "event"), "stop") == 0)
    return MR_SOURCE_NOTE_LISTENING_ANEW;
  /* a publisher on its port was refused: the key it tried (never the
   * source's own, which it would have taken) */
  if (gst_structure_has_name (s, "rtmpserversrc-refused")) {
    *detail = gst_structure_get_string (s, "stream-key");
    if (!*detail && g_strcmp0 (gst_structure_get_string (s, "reason"),
            "stream key in use") == 0)
      return MR_SOURCE_NOTE_SECOND_PEER_REFUSED;
    return MR_SOURCE_NOTE_CALLER_REFUSED;
  }
  return MR_SOURCE_NOTE_NONE;
}

const MrTransport mr_transport_rtmp = {
  .protocol = MR_PROTOCOL_RTMP,
  .build_source = build_source,
  .output_kind = MR_TRANSPORT_OUTPUT_BRANCH,
  .make_output = make_output,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,
  .read_source_message = read_source_message,
  .refused_caller = "RTMP publisher with stream key",
  .read_source_stats = read_source_stats,
};
