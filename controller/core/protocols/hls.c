/* mroute core: the fields of an hls output: no destination, no port (the
 * API serves its playlist at /hls/{flow}/{output}/index.m3u8); its
 * segment_duration (s) and window (segments in the playlist).  Never a
 * source.  Its elements: pipeline/transports/hls.c. */

#include "core/protocol-rules.h"

const MrProtocolRules mr_protocol_rules_hls = {
  .protocol = MR_PROTOCOL_HLS,
  .output_files = TRUE,
};
