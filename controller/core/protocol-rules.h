/* mroute core: what each protocol allows in a source's or an output's
 * fields, one table per protocol (protocols/udp.c ... protocols/rtmp.c),
 * found by mr_protocol_rules_get ().  endpoint.c validates an endpoint by
 * asking its protocol's table and never tests the protocol itself.
 *
 * Why here and not in the transports (pipeline/transports/): a protocol's
 * rules belong with its transport, but the flow spec is validated in core,
 * which knows no GStreamer and may not include pipeline/ (the layer rule),
 * and the spec fuzzer (tests/fuzz/flow-spec-fuzz.c) builds these rules
 * without GStreamer.  So each protocol is two files with the same name: its
 * rules here (data, plus a hook where a rule is the protocol's own), its
 * elements in pipeline/transports/.  Adding a protocol is a file and a line
 * in each registry.
 *
 * Core-internal: other layers see only the flow spec (flow-spec.h). */

#ifndef __MR_PROTOCOL_RULES_H__
#define __MR_PROTOCOL_RULES_H__

#include "flow-spec.h"

G_BEGIN_DECLS

/* A hook sets an MR_SPEC_ERROR about @path's @field with
 * mr_spec_invalid () and returns FALSE, or returns TRUE */
typedef gboolean (*MrProtocolCheck) (const MrEndpoint * ep,
    const gchar * path, GError ** error);

typedef struct
{
  MrProtocol protocol;

  /* As a source it listens on ingest_port (on ingest_address if given);
   * otherwise it goes out to its destination. */
  gboolean source_listens;
  /* As a source it listens when it has an ingest_port, and goes out to
   * its destination when it has none (rtmp: a listener, or a pull) */
  gboolean source_listens_with_port;
  /* As an output it listens on port; otherwise it goes out to its
   * destination. */
  gboolean output_listens;
  /* An output of a flow with redundancy 2 may send each slot's leg to its
   * own destination ("legs") */
  gboolean output_legs;
  /* Its packets are RTP that MERGE's ST 2022-7 merger can merge */
  gboolean mergeable;
  /* An output takes a stream_key */
  gboolean uses_stream_key;
  /* An output is served by the controller itself under a path, with an
   * optional user and password (rtsp) */
  gboolean serves_path;
  /* A source may join a multicast group (source_address, interface), an
   * output send to one (ttl, dscp, interface): protocols/multicast.c */
  gboolean multicast;
  /* Only an output, that writes files the API serves (hls): no
   * destination, no port; its segment_duration and window */
  gboolean output_files;

  /* Where an endpoint that does not listen goes, when that is not a host
   * name or IP address and a port (the rule when NULL) */
  MrProtocolCheck validate_destination;
  /* The source's "decryption" or the output's "encryption" block, @block
   * its name; NULL: the protocol cannot encrypt */
  gboolean (*validate_encryption) (const MrEndpoint * ep, const gchar * path,
      const gchar * block, GError ** error);
  /* The protocol's own rules, after the common ones; NULL: none */
  MrProtocolCheck validate;
} MrProtocolRules;

/* The rules of @protocol, NULL for MR_PROTOCOL_INVALID */
const MrProtocolRules *mr_protocol_rules_get (MrProtocol protocol);

/* The multicast fields of @ep (source_address, interface, ttl, dscp) fit
 * its role, its protocol (@rules) and its addresses (protocols/multicast.c) */
gboolean mr_multicast_validate (const MrEndpoint * ep,
    const MrProtocolRules * rules, const gchar * path, GError ** error);
/* Whether two sources of one flow may both listen on the same ingest_port:
 * two multicast groups, or one group on two interfaces */
gboolean mr_multicast_can_share_port (const MrEndpoint * a,
    const MrEndpoint * b);
/* Whether two sources (of one flow or two) may both listen on the same
 * ingest_port: two srt-listener sources on one address, each with a
 * stream_id, the ids different (protocols/srt.c) */
gboolean mr_srt_can_share_port (const MrEndpoint * a, const MrEndpoint * b);

/* @s is a host name or an IP address (endpoint.c) */
gboolean mr_spec_valid_host (const gchar * s);

/* Sets an MR_SPEC_ERROR about "@path.@field" (either may be NULL or "")
 * and returns FALSE (flow-spec.c) */
gboolean mr_spec_invalid (GError ** error, const gchar * path,
    const gchar * field, const gchar * fmt, ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS

#endif /* __MR_PROTOCOL_RULES_H__ */
