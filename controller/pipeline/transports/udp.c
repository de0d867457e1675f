/* mroute: UDP, MPEG-TS in datagrams (7 TS packets each).
 *
 *   source: udpbatchsrc ! packetstats
 *   output: a destination of the flow's shared udpfanoutsink */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

static gboolean
build_source (GstBin * bin, const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GstElement ** last, GError ** error)
{
  *last = mr_transport_add_udp_receiver (bin, src, src->ingest_port,
      MR_TS_CAPS, stats, error);
  return *last != NULL;
}

static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  return mr_transport_fanout_stats (reading->sink, out, stats);
}

const MrTransport mr_transport_udp = {
  .protocol = MR_PROTOCOL_UDP,
  .build_source = build_source,
  .output_kind = MR_TRANSPORT_OUTPUT_FANOUT,
  .fanout_payloader = NULL,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,
};
