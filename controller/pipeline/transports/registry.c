/* mroute: the transports, by protocol, and what they share. */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

#include <errno.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (mr-transport-error-quark, mr_transport_error);

extern const MrTransport mr_transport_udp;
extern const MrTransport mr_transport_rtp;
extern const MrTransport mr_transport_rtp_fec;
extern const MrTransport mr_transport_rist;
extern const MrTransport mr_transport_srt_listener;
extern const MrTransport mr_transport_srt_caller;
extern const MrTransport mr_transport_rtmp;
extern const MrTransport mr_transport_hls;
extern const MrTransport mr_transport_rtsp;

static const MrTransport *const transports[] = {
  &mr_transport_udp,
  &mr_transport_rtp,
  &mr_transport_rtp_fec,
  &mr_transport_rist,
  &mr_transport_srt_listener,
  &mr_transport_srt_caller,
  &mr_transport_rtmp,
  &mr_transport_hls,
  &mr_transport_rtsp,
};

const MrTransport *
mr_transport_get (MrProtocol protocol)
{
  for (guint i = 0; i < G_N_ELEMENTS (transports); i++)
    if (transports[i]->protocol == protocol)
      return transports[i];
  return NULL;
}

GstElement *
mr_transport_make (const gchar * factory, const gchar * name,
    GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e)
    g_set_error (error, MR_TRANSPORT_ERROR, 0,
        "GStreamer element '%s' is missing: is its plugin installed?",
        factory);
  return e;
}

GstElement *
mr_transport_add_udp_receiver (GstBin * bin, const MrEndpoint * src,
    gint port, const gchar * caps_str, GstElement ** stats, GError ** error)
{
  g_autoptr (GstCaps) caps = gst_caps_from_string (caps_str);
  GstElement *udpsrc;

  if (!(udpsrc = mr_transport_make ("udpbatchsrc", "udpsrc", error))
      || !(*stats = mr_transport_make ("packetstats", "stats", error))) {
    g_clear_object (&udpsrc);
    return NULL;
  }
  g_object_set (udpsrc, "port", port, "address",
      src->ingest_address ? src->ingest_address : "0.0.0.0", "caps", caps,
      "buffer-size", MR_UDP_RECV_BUFFER, "multicast-source",
      src->source_address, "multicast-iface", src->iface, NULL);
  gst_bin_add_many (bin, udpsrc, *stats, NULL);
  gst_element_link (udpsrc, *stats);
  return *stats;
}

gboolean
mr_transport_add_depay (GstBin * bin, gboolean rtp_out, GstElement ** last,
    GError ** error)
{
  GstElement *depay;

  if (rtp_out)
    return TRUE;
  if (!(depay = mr_transport_make ("rtpmp2tdepay", "depay", error)))
    return FALSE;
  gst_bin_add (bin, depay);
  gst_element_link (*last, depay);
  *last = depay;
  return TRUE;
}

void
mr_transport_set_send_options (GstElement * sink, const MrEndpoint * out)
{
  if (out->ttl >= 0)
    g_object_set (sink, "ttl-mc", out->ttl, NULL);
  if (out->dscp >= 0)
    g_object_set (sink, "qos-dscp", out->dscp, NULL);
  if (out->iface)
    g_object_set (sink, "multicast-iface", out->iface, NULL);
}

gchar *
mr_transport_fanout_key (const MrTransport * transport,
    const MrEndpoint * out)
{
  GString *key = g_string_new (transport->fanout_payloader ?
      transport->fanout_payloader : "ts");

  if (out->ttl >= 0)
    g_string_append_printf (key, "-ttl%d", out->ttl);
  if (out->dscp >= 0)
    g_string_append_printf (key, "-dscp%d", out->dscp);
  if (out->iface)
    g_string_append_printf (key, "-%s", out->iface);
  return g_string_free (key, FALSE);
}

gboolean
mr_transport_fanout_stats (GstElement * sink, const MrEndpoint * out,
    MrOutputStats * stats)
{
  g_autoptr (GstStructure) s = NULL;

  g_signal_emit_by_name (sink, "get-stats", out->destination, out->port, &s);
  if (!s)
    return FALSE;
  stats->connected = gst_structure_has_field (s, "bytes-sent");
  if (!gst_structure_get_uint64 (s, "bytes-sent", &stats->bytes_sent))
    stats->bytes_sent = 0;
  if (!gst_structure_get_uint64 (s, "packets-sent", &stats->packets_sent))
    stats->packets_sent = 0;
  return TRUE;
}

void
mr_source_stats_clear (MrSourceStats * stats)
{
  g_clear_pointer (&stats->rist, gst_structure_free);
}

void
mr_output_stats_clear (MrOutputStats * stats)
{
  g_clear_pointer (&stats->rist, gst_structure_free);
}

void
mr_transport_remove_files (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);

    if (g_unlink (path) != 0)
      g_warning ("could not delete %s: %s", path, g_strerror (errno));
  }
  g_dir_close (d);
  g_rmdir (dir);
}
