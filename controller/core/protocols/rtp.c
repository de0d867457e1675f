/* mroute core: the fields of an rtp (MPEG-TS in RTP over UDP) source or
 * output: a source listens on ingest_port, an output sends to
 * destination:port; MERGE can merge it.  Its elements:
 * pipeline/transports/rtp.c. */

#include "core/protocol-rules.h"

const MrProtocolRules mr_protocol_rules_rtp = {
  .protocol = MR_PROTOCOL_RTP,
  .source_listens = TRUE,
  .multicast = TRUE,
  .mergeable = TRUE,
  .output_legs = TRUE,
};
