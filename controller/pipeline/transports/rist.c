/* mroute: RIST, simple profile (RTP on an even port, RTCP on the next).
 *
 *   source: ristsrc ! packetstats [! rtpmp2tdepay]
 *   output: rtpmp2tpay ! ristsink, in an isolated branch */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

/* ristsrc (RTP, simple profile) ! capsfilter ! packetstats */
static gboolean
build_source (GstBin * bin, const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GstElement ** last, GError ** error)
{
  GstElement *ristsrc = mr_transport_make ("ristsrc", "ristsrc", error);
  GstElement *filter = mr_transport_make ("capsfilter", "rtpcaps", error);
  g_autoptr (GstCaps) caps = gst_caps_from_string (MR_RTP_MP2T_CAPS);

  if (!ristsrc || !filter || !(*stats = mr_transport_make ("packetstats", "stats", error))) {
    g_clear_object (&ristsrc);
    g_clear_object (&filter);
    return FALSE;
  }
  g_object_set (ristsrc, "port", src->ingest_port, "address",
      src->ingest_address ? src->ingest_address : "0.0.0.0", NULL);
  if (src->max_latency > 0)
    g_object_set (ristsrc, "receiver-buffer", (guint) src->max_latency, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_bin_add_many (bin, ristsrc, filter, *stats, NULL);
  gst_element_link_many (ristsrc, filter, *stats, NULL);
  *last = *stats;
  return mr_transport_add_depay (bin, rtp_out, last, error);
}

/* rtpmp2tpay ! ristsink, as one bin with a sink pad */
static GstElement *
make_output (const MrEndpoint * out, const gchar * dir, GError ** error)
{
  GstElement *bin = gst_bin_new ("sink");
  GstElement *pay = mr_transport_make ("rtpmp2tpay", "pay", error);
  GstElement *rist = mr_transport_make ("ristsink", "ristsink", error);
  g_autoptr (GstPad) pad = NULL;

  if (!pay || !rist) {
    g_clear_object (&pay);
    g_clear_object (&rist);
    gst_object_unref (bin);
    return NULL;
  }
  g_object_set (pay, "mtu", MR_RTP_MTU, NULL);
  g_object_set (rist, "address", out->destination, "port", out->port, NULL);
  if (out->max_latency > 0)
    g_object_set (rist, "sender-buffer", (guint) out->max_latency, NULL);
  gst_bin_add_many (GST_BIN (bin), pay, rist, NULL);
  gst_element_link (pay, rist);
  pad = gst_element_get_static_pad (pay, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  return bin;
}

/* ristsink's own statistics, kept whole; connected while it has a
 * session with the receiver */
static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  g_autoptr (GstElement) rist = gst_bin_get_by_name (GST_BIN
      (reading->sink), "ristsink");
  GstStructure *raw = NULL;
  const GValue *sessions;

  if (rist)
    g_object_get (rist, "stats", &raw, NULL);
  stats->bytes_sent = reading->branch_bytes;
  if (raw && !gst_structure_get_uint64 (raw, "sent-original-packets",
          &stats->packets_sent))
    stats->packets_sent = 0;
  sessions = raw ? gst_structure_get_value (raw, "session-stats") : NULL;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  stats->connected = sessions
      && G_VALUE_TYPE (sessions) == g_type_from_name ("GValueArray")
      && g_value_get_boxed (sessions)
      && ((GValueArray *) g_value_get_boxed (sessions))->n_values > 0;
  G_GNUC_END_IGNORE_DEPRECATIONS;
  stats->rist = raw;
  return TRUE;
}

/* The RFC 3550 jitter of the sender, in ms, as the RTP session inside
 * ristsrc computed it when the packets arrived (before its jitter buffer):
 * the remote sender's entry in the session's source-stats, whose `jitter`
 * is in units of its `clock-rate`.  ristsrc has no property for it, so we
 * ask its rtpbin ("rist_recv_rtpbin", GStreamer 1.22) for session 0.
 * FALSE when there is none yet. */
static gboolean
read_session_jitter (GstElement * ristsrc, gdouble * jitter_ms)
{
  g_autoptr (GstElement) rtpbin = NULL;
  g_autoptr (GObject) session = NULL;
  g_autoptr (GstStructure) s = NULL;
  const GValue *sources;
  gboolean found = FALSE;

  if (!GST_IS_BIN (ristsrc)
      || !(rtpbin = gst_bin_get_by_name (GST_BIN (ristsrc),
              "rist_recv_rtpbin")))
    return FALSE;
  g_signal_emit_by_name (rtpbin, "get-internal-session", 0, &session);
  if (!session)
    return FALSE;
  g_object_get (session, "stats", &s, NULL);
  sources = s ? gst_structure_get_value (s, "source-stats") : NULL;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  if (sources && G_VALUE_TYPE (sources) == g_type_from_name ("GValueArray")) {
    GValueArray *arr = g_value_get_boxed (sources);

    for (guint i = 0; arr && i < arr->n_values && !found; i++) {
      const GstStructure *src =
          gst_value_get_structure (g_value_array_get_nth (arr, i));
      gboolean internal = TRUE, sender = FALSE;
      guint jitter = 0;
      gint rate = 0;

      gst_structure_get_boolean (src, "internal", &internal);
      gst_structure_get_boolean (src, "is-sender", &sender);
      if (internal || !sender || !gst_structure_get_uint (src, "jitter",
              &jitter) || !gst_structure_get_int (src, "clock-rate", &rate)
          || rate <= 0)
        continue;
      *jitter_ms = jitter * 1000.0 / rate;
      found = TRUE;
    }
  }
  G_GNUC_END_IGNORE_DEPRECATIONS;
  return found;
}

/* ristsrc's own statistics, what its retransmissions recovered, the
 * jitter of its RTP session and the round-trip time of its
 * retransmissions (`rtx-roundtrip-time`, ns: 0 until a packet was asked
 * for again; the RTCP that ristsrc receives has no report of our own
 * packets, so there is no other) */
static void
read_source_stats (const MrEndpoint * src, GstBin * bin,
    MrSourceStats * stats)
{
  g_autoptr (GstElement) ristsrc = gst_bin_get_by_name (bin, "ristsrc");
  guint64 rtt_ns = 0;

  if (ristsrc)
    g_object_get (ristsrc, "stats", &stats->rist, NULL);
  if (stats->rist && !gst_structure_get_uint64 (stats->rist, "recovered",
          &stats->recovered))
    stats->recovered = 0;
  if (stats->rist && gst_structure_get_uint64 (stats->rist,
          "rtx-roundtrip-time", &rtt_ns)) {
    stats->has_rtt = TRUE;
    stats->rtt_ms = rtt_ns / 1e6;
  }
  /* without a session jitter yet, 0, not packetstats' figure after the
   * jitter buffer */
  stats->has_jitter = TRUE;
  if (!ristsrc || !read_session_jitter (ristsrc, &stats->jitter_ms))
    stats->jitter_ms = 0;
}

const MrTransport mr_transport_rist = {
  .protocol = MR_PROTOCOL_RIST,
  .build_source = build_source,
  .output_kind = MR_TRANSPORT_OUTPUT_BRANCH,
  .make_output = make_output,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,
  .read_source_stats = read_source_stats,
};
