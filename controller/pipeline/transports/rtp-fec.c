/* mroute: RTP with SMPTE 2022-1 FEC (column and row, on the media port + 2
 * and + 4), received with and without the FEC streams; the three streams
 * join the same multicast group (ports + 2, + 4) or go to the same one.
 *
 *   source: udpbatchsrc ! packetstats ! rtpst2022-1-fecdec
 *             ! rtpjitterbuffer [! rtpmp2tdepay]
 *   output: rtpmp2tpay ! rtpst2022-1-fecenc (10 x 10), three
 *           udpfanoutsinks, in an isolated branch */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

/* SMPTE 2022-1: the media on ingest_port, column and row FEC on +2 and +4
 * when a sender sends them.  Recovered packets come late, so a jitter
 * buffer puts them back in order before the depayloader.
 *
 *   udpbatchsrc ! packetstats ! fecdec ! rtpjitterbuffer
 *   udpbatchsrc(+2) ! fecdec.fec_0     udpbatchsrc(+4) ! fecdec.fec_1 */
static gboolean
build_source (GstBin * bin, const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GstElement ** last, GError ** error)
{
  const gchar *address = src->ingest_address ? src->ingest_address :
      "0.0.0.0";
  g_autoptr (GstCaps) media_caps = gst_caps_from_string (MR_RTP_MP2T_CAPS);
  g_autoptr (GstCaps) fec_caps = gst_caps_from_string ("application/x-rtp,"
      " clock-rate=(int)90000");
  GstElement *media = mr_transport_make ("udpbatchsrc", "udpsrc", error);
  GstElement *dec = mr_transport_make ("rtpst2022-1-fecdec", "fecdec", error);
  GstElement *jb = mr_transport_make ("rtpjitterbuffer", "jitterbuffer", error);

  if (!media || !dec || !jb
      || !(*stats = mr_transport_make ("packetstats", "stats", error))) {
    g_clear_object (&media);
    g_clear_object (&dec);
    g_clear_object (&jb);
    return FALSE;
  }
  g_object_set (media, "port", src->ingest_port, "address", address, "caps",
      media_caps, "buffer-size", MR_UDP_RECV_BUFFER, "multicast-source",
      src->source_address, "multicast-iface", src->iface, NULL);
  g_object_set (jb, "latency", src->max_latency > 0 ?
      (guint) src->max_latency : 200, "mode", 0 /* none: sender's clock */ ,
      NULL);
  gst_bin_add_many (bin, media, *stats, dec, jb, NULL);
  gst_element_link_many (media, *stats, dec, jb, NULL);

  for (guint i = 0; i < 2; i++) {
    g_autofree gchar *name = g_strdup_printf ("fec%u", i);
    GstElement *fec = mr_transport_make ("udpbatchsrc", name, error);
    GstPad *decpad;
    g_autoptr (GstPad) fecpad = NULL;

    if (!fec)
      return FALSE;
    g_object_set (fec, "port", src->ingest_port + 2 + 2 * i, "address",
        address, "caps", fec_caps, "buffer-size", MR_UDP_RECV_BUFFER,
        "multicast-source", src->source_address, "multicast-iface",
        src->iface, NULL);
    gst_bin_add (bin, fec);
    decpad = gst_element_request_pad_simple (dec, "fec_%u");
    fecpad = gst_element_get_static_pad (fec, "src");
    gst_pad_link (fecpad, decpad);
    gst_object_unref (decpad);
  }
  *last = jb;
  return mr_transport_add_depay (bin, rtp_out, last, error);
}

/* fecenc adds its FEC pads (fec_0 column, fec_1 row) when it starts */
static void
on_fec_pad (GstElement * enc, GstPad * pad, gpointer user_data)
{
  GstElement *bin = user_data;
  g_autofree gchar *pad_name = gst_pad_get_name (pad);
  g_autofree gchar *sink_name = NULL;
  g_autoptr (GstElement) udp = NULL;
  g_autoptr (GstPad) sinkpad = NULL;

  if (!g_str_has_prefix (pad_name, "fec_"))
    return;
  sink_name = g_strdup_printf ("fec%s", pad_name + 4);
  udp = gst_bin_get_by_name (GST_BIN (bin), sink_name);
  if (!udp)
    return;
  sinkpad = gst_element_get_static_pad (udp, "sink");
  if (!gst_pad_is_linked (sinkpad))
    gst_pad_link (pad, sinkpad);
}

/* rtpmp2tpay ! fecenc: media to port, column FEC to port + 2, row FEC to
 * port + 4 (10 x 10 matrix), as one bin with a sink pad */
static GstElement *
make_output (const MrEndpoint * out, const gchar * dir, GError ** error)
{
  GstElement *bin = gst_bin_new ("sink");
  GstElement *pay = mr_transport_make ("rtpmp2tpay", "pay", error);
  GstElement *enc = mr_transport_make ("rtpst2022-1-fecenc", "fecenc", error);
  const gchar *names[] = { "media", "fec0", "fec1" };
  g_autoptr (GstPad) pad = NULL;

  if (!pay || !enc) {
    g_clear_object (&pay);
    g_clear_object (&enc);
    gst_object_unref (bin);
    return NULL;
  }
  /* SMPTE 2022-1 protects a stream whose SSRC is 0 */
  g_object_set (pay, "mtu", MR_RTP_MTU, "ssrc", 0, NULL);
  g_object_set (enc, "columns", 10, "rows", 10, NULL);
  gst_bin_add_many (GST_BIN (bin), pay, enc, NULL);
  gst_element_link (pay, enc);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    GstElement *udp = mr_transport_make ("udpfanoutsink", names[i], error);
    g_autofree gchar *client = g_strdup_printf ("%s:%d", out->destination,
        out->port + 2 * i);
    g_autoptr (GstPad) sinkpad = NULL;
    GstPad *srcpad;

    if (!udp) {
      gst_object_unref (bin);
      return NULL;
    }
    g_object_set (udp, "clients", client, "sync", FALSE, "async", FALSE,
        NULL);
    mr_transport_set_send_options (udp, out);
    gst_bin_add (GST_BIN (bin), udp);
    if (i > 0)
      continue;                 /* the FEC pads come later, see on_fec_pad */
    srcpad = gst_element_get_static_pad (enc, "src");
    sinkpad = gst_element_get_static_pad (udp, "sink");
    gst_pad_link (srcpad, sinkpad);
    gst_object_unref (srcpad);
  }
  g_signal_connect (enc, "pad-added", G_CALLBACK (on_fec_pad), bin);
  /* in case it made them when its properties were set */
  {
    GstIterator *it = gst_element_iterate_src_pads (enc);
    GValue v = G_VALUE_INIT;

    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      on_fec_pad (enc, g_value_get_object (&v), bin);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  pad = gst_element_get_static_pad (pay, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  return bin;
}

/* the media stream's sink inside the FEC branch */
static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  g_autoptr (GstElement) media = gst_bin_get_by_name (GST_BIN
      (reading->sink), "media");

  return media && mr_transport_fanout_stats (media, out, stats);
}

/* packetstats counts the losses before the FEC decoder, the jitter buffer
 * those after it: the difference was recovered */
static void
read_source_stats (const MrEndpoint * src, GstBin * bin,
    MrSourceStats * stats)
{
  g_autoptr (GstElement) jb = gst_bin_get_by_name (bin, "jitterbuffer");
  g_autoptr (GstStructure) s = NULL;

  if (jb)
    g_object_get (jb, "stats", &s, NULL);
  if (s && gst_structure_get_uint64 (s, "num-lost",
          &stats->lost_after_recovery))
    stats->has_lost_after_recovery = TRUE;
}

const MrTransport mr_transport_rtp_fec = {
  .protocol = MR_PROTOCOL_RTP_FEC,
  .build_source = build_source,
  .output_kind = MR_TRANSPORT_OUTPUT_BRANCH,
  .make_output = make_output,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,
  .read_source_stats = read_source_stats,
};
