/* mroute core: the fields of a rist (RIST simple profile) source or
 * output: as rtp, on an even port.  Its elements:
 * pipeline/transports/rist.c. */

#include "core/protocol-rules.h"

/* RIST's simple profile: RTP on an even port, RTCP on the next */
static gboolean
validate (const MrEndpoint * ep, const gchar * path, GError ** error)
{
  if (ep->role == MR_ENDPOINT_SOURCE && ep->ingest_port % 2)
    return mr_spec_invalid (error, path, "ingest_port", "must be even for "
        "rist (RTCP uses the next port)");
  if (ep->role == MR_ENDPOINT_OUTPUT && ep->port % 2)
    return mr_spec_invalid (error, path, "port", "must be even for rist "
        "(RTCP uses the next port)");
  return TRUE;
}

const MrProtocolRules mr_protocol_rules_rist = {
  .protocol = MR_PROTOCOL_RIST,
  .source_listens = TRUE,
  .mergeable = TRUE,
  .validate = validate,
};
