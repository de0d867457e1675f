/* mroute: RTP (RFC 2250, MP2T), one RTP packet per 7 TS packets.
 *
 *   source: udpbatchsrc ! packetstats [! rtpmp2tdepay]
 *   output: rtpmp2tpay, then a destination of the flow's shared
 *           udpfanoutsink for RTP; in a 1+1 flow of RTP sources the
 *           source's RTP packets as they came (rtp_passthrough) */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

static gboolean
build_source (GstBin * bin, const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GstElement ** last, GError ** error)
{
  *last = mr_transport_add_udp_receiver (bin, src, src->ingest_port,
      MR_RTP_MP2T_CAPS, stats, error);
  return *last && mr_transport_add_depay (bin, rtp_out, last, error);
}

static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  return mr_transport_fanout_stats (reading->sink, out, stats);
}

const MrTransport mr_transport_rtp = {
  .protocol = MR_PROTOCOL_RTP,
  .build_source = build_source,
  .output_kind = MR_TRANSPORT_OUTPUT_FANOUT,
  .fanout_payloader = "rtpmp2tpay",
  .rtp_passthrough = TRUE,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,
};
