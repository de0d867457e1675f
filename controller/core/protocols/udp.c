/* mroute core: the fields of a udp (plain MPEG-TS over UDP) source or
 * output: a source listens on ingest_port, an output sends to
 * destination:port.  Its elements: pipeline/transports/udp.c. */

#include "core/protocol-rules.h"

const MrProtocolRules mr_protocol_rules_udp = {
  .protocol = MR_PROTOCOL_UDP,
  .source_listens = TRUE,
  .multicast = TRUE,
  .output_legs = TRUE,
};
