/* mroute core: the fields of an rtmp source or output: an rtmp:// or
 * rtmps:// URL as destination (rtmp://host[:port]/app), and an output's
 * stream_key.  Its elements: pipeline/transports/rtmp.c. */

#include "core/protocol-rules.h"

static gboolean
validate_destination (const MrEndpoint * ep, const gchar * path,
    GError ** error)
{
  if (!ep->destination)
    return mr_spec_invalid (error, path, "destination",
        "is required for protocol rtmp (rtmp://host[:port]/app)");
  if (!g_str_has_prefix (ep->destination, "rtmp://")
      && !g_str_has_prefix (ep->destination, "rtmps://"))
    return mr_spec_invalid (error, path, "destination",
        "must be an rtmp:// URL for protocol rtmp");
  return TRUE;
}

const MrProtocolRules mr_protocol_rules_rtmp = {
  .protocol = MR_PROTOCOL_RTMP,
  .uses_stream_key = TRUE,
  .validate_destination = validate_destination,
};
