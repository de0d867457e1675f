/* mroute core: the protocols' field rules, by protocol (protocol-rules.h).
 * What a rule says lives in each protocol's file. */

#include "core/protocol-rules.h"

extern const MrProtocolRules mr_protocol_rules_udp;
extern const MrProtocolRules mr_protocol_rules_rtp;
extern const MrProtocolRules mr_protocol_rules_rtp_fec;
extern const MrProtocolRules mr_protocol_rules_rist;
extern const MrProtocolRules mr_protocol_rules_srt_listener;
extern const MrProtocolRules mr_protocol_rules_srt_caller;
extern const MrProtocolRules mr_protocol_rules_rtmp;
extern const MrProtocolRules mr_protocol_rules_hls;
extern const MrProtocolRules mr_protocol_rules_rtsp;

static const MrProtocolRules *const rules[] = {
  &mr_protocol_rules_udp,
  &mr_protocol_rules_rtp,
  &mr_protocol_rules_rtp_fec,
  &mr_protocol_rules_rist,
  &mr_protocol_rules_srt_listener,
  &mr_protocol_rules_srt_caller,
  &mr_protocol_rules_rtmp,
  &mr_protocol_rules_hls,
  &mr_protocol_rules_rtsp,
};

const MrProtocolRules *
mr_protocol_rules_get (MrProtocol protocol)
{
  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    if (rules[i]->protocol == protocol)
      return rules[i];
  return NULL;
}
