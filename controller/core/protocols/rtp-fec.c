/* mroute core: the fields of an rtp-fec (RTP with SMPTE 2022-1 FEC) source
 * or output: as rtp; the FEC streams' ports follow from the media port.
 * Its elements: pipeline/transports/rtp-fec.c. */

#include "core/protocol-rules.h"

const MrProtocolRules mr_protocol_rules_rtp_fec = {
  .protocol = MR_PROTOCOL_RTP_FEC,
  .source_listens = TRUE,
  .multicast = TRUE,
  .mergeable = TRUE,
};
