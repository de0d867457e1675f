/* Unit tests of the per-protocol tables: every protocol has its field
 * rules (controller/core/protocols/) and its transport
 * (controller/pipeline/transports/), and what a running flow asks of a
 * transport (flows/flow-events.c, flow-outputs.c) is what the runner used
 * to decide by testing the protocol: only SRT restarts a silent listener,
 * watches its outputs' link, times a caller's connect out and reads
 * refusals in its library's log. */

#include <gst/gst.h>
#include <string.h>

#include "core/core.h"
#include "core/protocol-rules.h"
#include "pipeline/pipeline.h"

static gboolean
is_srt (MrProtocol p)
{
  return p == MR_PROTOCOL_SRT_LISTENER || p == MR_PROTOCOL_SRT_CALLER;
}

static void
test_every_protocol_has_tables (void)
{
  for (MrProtocol p = MR_PROTOCOL_UDP; p <= MR_PROTOCOL_RTSP; p++) {
    const MrProtocolRules *rules = mr_protocol_rules_get (p);
    const MrTransport *transport = mr_transport_get (p);

    g_assert_nonnull (rules);
    g_assert_cmpint (rules->protocol, ==, p);
    g_assert_nonnull (transport);
    g_assert_cmpint (transport->protocol, ==, p);
  }
  g_assert_null (mr_protocol_rules_get (MR_PROTOCOL_INVALID));
}

static void
test_watch_members (void)
{
  for (MrProtocol p = MR_PROTOCOL_UDP; p <= MR_PROTOCOL_RTSP; p++) {
    const MrTransport *t = mr_transport_get (p);

    g_assert_cmpint (t->read_source_message != NULL, ==, is_srt (p)
        || p == MR_PROTOCOL_RTMP);
    g_assert_cmpint (t->watch_output_link, ==, is_srt (p));
    g_assert_cmpint (t->output_warning_lost_peer != NULL, ==, is_srt (p));
    g_assert_cmpint (t->refusals_logged, ==, is_srt (p));
    g_assert_cmpint (t->restart_silent_source != NULL, ==,
        p == MR_PROTOCOL_SRT_LISTENER);
    g_assert_cmpuint (t->output_connect_timeout_ms, ==,
        p == MR_PROTOCOL_SRT_CALLER ? 5000 : 0);
  }
  g_assert_cmpstr (mr_transport_get (MR_PROTOCOL_SRT_LISTENER)->
      restart_silent_source, ==, "its caller has sent nothing for 1 s");
  /* ... but for a routed listener source (srtroutesrc), which takes its
   * next caller by itself */
  {
    const MrTransport *t = mr_transport_get (MR_PROTOCOL_SRT_LISTENER);
    MrEndpoint routed = { 0, }, plain = { 0, };

    routed.role = plain.role = MR_ENDPOINT_SOURCE;
    routed.protocol = plain.protocol = MR_PROTOCOL_SRT_LISTENER;
    routed.stream_id = (gchar *) "cam1";
    g_assert_nonnull (t->source_takes_next_caller);
    g_assert_true (t->source_takes_next_caller (&routed));
    g_assert_false (t->source_takes_next_caller (&plain));
  }
}

static void
test_srt_source_messages (void)
{
  const MrTransport *t = mr_transport_get (MR_PROTOCOL_SRT_LISTENER);
  g_autoptr (GstStructure) removed = gst_structure_new_empty
      ("connection-removed");
  g_autoptr (GstStructure) refused = gst_structure_new
      (MR_TRANSPORT_SRT_REFUSED, "stream-id", G_TYPE_STRING, "cam2", NULL);
  /* srtroutesrc also says why */
  g_autoptr (GstStructure) bad_secret = gst_structure_new
      (MR_TRANSPORT_SRT_REFUSED, "stream-id", G_TYPE_STRING, "cam1",
      "reason", G_TYPE_STRING, "wrong passphrase", NULL);
  g_autoptr (GstStructure) other = gst_structure_new_empty ("packetstats");
  const gchar *detail = NULL, *reason = NULL;

  g_assert_cmpint (t->read_source_message (removed, &detail, &reason), ==,
      MR_SOURCE_NOTE_LISTENING_ANEW);
  g_assert_cmpint (t->read_source_message (refused, &detail, &reason), ==,
      MR_SOURCE_NOTE_CALLER_REFUSED);
  g_assert_cmpstr (detail, ==, "cam2");
  g_assert_null (reason);
  g_assert_cmpint (t->read_source_message (bad_secret, &detail, &reason), ==,
      MR_SOURCE_NOTE_CALLER_REFUSED);
  g_assert_cmpstr (detail, ==, "cam1");
  g_assert_cmpstr (reason, ==, "wrong passphrase");
  g_assert_cmpint (t->read_source_message (other, &detail, &reason), ==,
      MR_SOURCE_NOTE_NONE);
}

static void
test_srt_lost_peer_warning (void)
{
  const MrTransport *t = mr_transport_get (MR_PROTOCOL_SRT_CALLER);
  g_autoptr (GError) reconnect = g_error_new_literal (GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_WRITE, "Connection lost. Trying to reconnect");
  g_autoptr (GError) other = g_error_new_literal (GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_WRITE, "something else");

  g_assert_true (t->output_warning_lost_peer (reconnect));
  g_assert_false (t->output_warning_lost_peer (other));
}

/* An SRT endpoint's max_bitrate is libsrt's SRTO_MAXBW (bytes/s, the
 * original's `maxbw`), set through the element's URI query, on sources and
 * outputs; the passphrase never goes in the URI */
static gchar *
srt_uri_of (const gchar * json, MrEndpointRole role)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MrEndpoint) ep = mr_endpoint_from_json (node, role,
      role == MR_ENDPOINT_SOURCE ? "source" : "outputs[0]", NULL, &error);
  const MrTransport *t;
  g_autoptr (GstElement) e = NULL;
  gchar *uri = NULL;

  g_assert_no_error (error);
  t = mr_transport_get (ep->protocol);
  if (role == MR_ENDPOINT_SOURCE) {
    g_autoptr (GstElement) bin = gst_object_ref_sink (gst_bin_new ("s"));
    GstElement *stats = NULL, *last = NULL;

    g_assert_true (t->build_source (GST_BIN (bin), ep, FALSE, &stats, &last,
            &error));
    g_assert_no_error (error);
    e = gst_bin_get_by_name (GST_BIN (bin), "srtsrc");
  } else {
    e = gst_object_ref_sink (t->make_output (ep, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_nonnull (e);
  g_object_get (e, "uri", &uri, NULL);
  return uri;
}

static void
test_srt_max_bitrate (void)
{
  g_autofree gchar *src = NULL, *src_unset = NULL, *out = NULL;
  g_autofree gchar *out_zero = NULL;
  g_autoptr (GstElementFactory) f = gst_element_factory_find ("srtsrc");

  if (!f) {
    g_test_skip ("the GStreamer srt plugin is not installed");
    return;
  }
  src = srt_uri_of ("{\"name\":\"a\",\"protocol\":\"srt-listener\","
      "\"ingest_port\":9000,\"max_bitrate\":125000,\"decryption\":"
      "{\"algorithm\":\"aes128\",\"passphrase\":\"0123456789\"}}",
      MR_ENDPOINT_SOURCE);
  g_assert_nonnull (strstr (src, "maxbw=125000"));
  g_assert_null (strstr (src, "0123456789"));
  src_unset = srt_uri_of ("{\"name\":\"a\",\"protocol\":\"srt-listener\","
      "\"ingest_port\":9000}", MR_ENDPOINT_SOURCE);
  g_assert_null (strstr (src_unset, "maxbw"));
  out = srt_uri_of ("{\"name\":\"o\",\"protocol\":\"srt-caller\","
      "\"destination\":\"127.0.0.1\",\"port\":9000,"
      "\"max_bitrate\":2500000}", MR_ENDPOINT_OUTPUT);
  g_assert_nonnull (strstr (out, "mode=caller"));
  g_assert_nonnull (strstr (out, "maxbw=2500000"));
  /* 0: no cap, libsrt's default (SRT's own 0 means relative to input) */
  out_zero = srt_uri_of ("{\"name\":\"o\",\"protocol\":\"srt-caller\","
      "\"destination\":\"127.0.0.1\",\"port\":9000,"
      "\"max_bitrate\":0}", MR_ENDPOINT_OUTPUT);
  g_assert_null (strstr (out_zero, "maxbw"));
}

/* A few of the rules now in the tables, with their exact messages and
 * field paths (the spec fuzzer compares the rest) */
static void
check_source (const gchar * json, const gchar * message, const gchar * field)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MrEndpoint) ep = mr_endpoint_from_json (node,
      MR_ENDPOINT_SOURCE, "source", NULL, &error);
  g_autofree gchar *error_field = NULL;

  g_assert_null (ep);
  g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, message);
  error_field = mr_spec_error_field (error);
  g_assert_cmpstr (error_field, ==, field);
}

static void
test_rules_messages (void)
{
  check_source ("{\"name\":\"a\",\"protocol\":\"srt-listener\","
      "\"ingest_port\":9000,\"decryption\":{\"algorithm\":\"aes128\","
      "\"passphrase\":\"short\"}}",
      "source.decryption.passphrase: must be 10 to 79 characters",
      "source.decryption.passphrase");
  check_source ("{\"name\":\"a\",\"protocol\":\"srt-caller\","
      "\"destination\":\"h\",\"port\":9000,\"decryption\":{\"algorithm\":"
      "\"des\",\"passphrase\":\"0123456789\"}}",
      "source.decryption.algorithm: must be aes128, aes192 or aes256",
      "source.decryption.algorithm");
  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":9000,"
      "\"decryption\":{\"algorithm\":\"aes128\",\"passphrase\":"
      "\"0123456789\"}}",
      "source.decryption: is only supported by srt-listener and srt-caller",
      "source.decryption");
  check_source ("{\"name\":\"a\",\"protocol\":\"rist\",\"ingest_port\":9001}",
      "source.ingest_port: must be even for rist (RTCP uses the next port)",
      "source.ingest_port");
  check_source ("{\"name\":\"a\",\"protocol\":\"rtmp\","
      "\"destination\":\"http://x/app\"}",
      "source.destination: must be an rtmp:// URL for an rtmp source that "
      "pulls", "source.destination");
  check_source ("{\"name\":\"a\",\"protocol\":\"rtmp\","
      "\"ingest_port\":1935}", "source.stream_id: is required for an rtmp "
      "source that listens: the stream key publishers use "
      "(rtmp://host:ingest_port/live/KEY)", "source.stream_id");
  check_source ("{\"name\":\"a\",\"protocol\":\"rtmp\","
      "\"ingest_port\":1935,\"stream_id\":\"a?b\"}", "source.stream_id: "
      "must be one URL path segment: no '/', '?', '#', space or control "
      "character", "source.stream_id");
  check_source ("{\"name\":\"a\",\"protocol\":\"rtmp\"}",
      "source.destination: or ingest_port is required for protocol rtmp: "
      "destination (rtmp://host[:port]/app) to pull, ingest_port to listen "
      "for publishers", "source.destination");
  check_source ("{\"name\":\"a\",\"protocol\":\"srt-caller\","
      "\"ingest_port\":9000}",
      "source.ingest_port: is not used by protocol srt-caller",
      "source.ingest_port");
}

static void
check_output (const gchar * json, const gchar * message, const gchar * field)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MrEndpoint) ep = mr_endpoint_from_json (node,
      MR_ENDPOINT_OUTPUT, "outputs[0]", NULL, &error);
  g_autofree gchar *error_field = NULL;

  g_assert_null (ep);
  g_assert_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, message);
  error_field = mr_spec_error_field (error);
  g_assert_cmpstr (error_field, ==, field);
}

static MrEndpoint *
parse_ok (const gchar * json, MrEndpointRole role)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_autoptr (GError) error = NULL;
  MrEndpoint *ep = mr_endpoint_from_json (node, role, "x", NULL, &error);

  g_assert_no_error (error);
  return ep;
}

/* source_address, interface, ttl, dscp (core/protocols/multicast.c) */
static void
test_multicast_rules (void)
{
  g_autoptr (MrEndpoint) src = NULL;
  g_autoptr (MrEndpoint) out = NULL;
  g_autoptr (JsonNode) back = NULL;
  g_autofree gchar *json = NULL;

  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"10.0.0.1\",\"source_address\":\"10.0.0.2\"}",
      "source.source_address: needs a multicast ingest_address "
      "(source-specific multicast)", "source.source_address");
  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"232.1.1.1\",\"source_address\":\"239.1.1.1\"}",
      "source.source_address: must be the sender's unicast address",
      "source.source_address");
  check_source ("{\"name\":\"a\",\"protocol\":\"rtp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"232.1.1.1\",\"source_address\":\"fd00::1\"}",
      "source.source_address: must be an IPv4 address, as ingest_address is",
      "source.source_address");
  check_source ("{\"name\":\"a\",\"protocol\":\"rtp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"ff3e::1\",\"source_address\":\"10.0.0.1\"}",
      "source.source_address: must be an IPv6 address, as ingest_address is",
      "source.source_address");
  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"232.1.1.1\",\"source_address\":\"host\"}",
      "source.source_address: must be an IP address", "source.source_address");
  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"interface\":\"eth0\"}",
      "source.interface: is only used with a multicast ingest_address (the "
      "interface to join the group on)", "source.interface");
  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"239.1.1.1\",\"interface\":\"a/b\"}",
      "source.interface: must be a network interface name: 1 to 15 "
      "characters, without '/', ':' or spaces", "source.interface");
  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"239.1.1.1\",\"interface\":"
      "\"sixteen-chars-xx\"}",
      "source.interface: must be at most 15 characters", "source.interface");
  check_source ("{\"name\":\"a\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"239.1.1.1\",\"ttl\":4}",
      "source.ttl: is for outputs", "source.ttl");
  check_source ("{\"name\":\"a\",\"protocol\":\"rist\",\"ingest_port\":5000,"
      "\"ingest_address\":\"239.1.1.1\",\"interface\":\"eth0\"}",
      "source.interface: is only supported by udp, rtp and rtp-fec",
      "source.interface");
  check_output ("{\"name\":\"o\",\"protocol\":\"udp\",\"destination\":"
      "\"10.0.0.1\",\"port\":5000,\"ttl\":8}",
      "outputs[0].ttl: is only used with a multicast destination",
      "outputs[0].ttl");
  check_output ("{\"name\":\"o\",\"protocol\":\"udp\",\"destination\":"
      "\"239.1.1.1\",\"port\":5000,\"ttl\":0}",
      "outputs[0].ttl: must be an integer between 1 and 255",
      "outputs[0].ttl");
  check_output ("{\"name\":\"o\",\"protocol\":\"udp\",\"destination\":"
      "\"239.1.1.1\",\"port\":5000,\"dscp\":64}",
      "outputs[0].dscp: must be an integer between 0 and 63",
      "outputs[0].dscp");
  check_output ("{\"name\":\"o\",\"protocol\":\"rtp\",\"destination\":"
      "\"h.example\",\"port\":5000,\"interface\":\"eth1\"}",
      "outputs[0].interface: is only used with a multicast destination (the "
      "interface it leaves by)", "outputs[0].interface");
  check_output ("{\"name\":\"o\",\"protocol\":\"udp\",\"destination\":"
      "\"239.1.1.1\",\"port\":5000,\"source_address\":\"10.0.0.1\"}",
      "outputs[0].source_address: is for sources",
      "outputs[0].source_address");
  check_output ("{\"name\":\"o\",\"protocol\":\"srt-caller\","
      "\"destination\":\"h\",\"port\":5000,\"dscp\":46}",
      "outputs[0].dscp: is only supported by udp, rtp and rtp-fec",
      "outputs[0].dscp");

  /* accepted, and written back as they came */
  src = parse_ok ("{\"name\":\"a\",\"protocol\":\"rtp-fec\","
      "\"ingest_port\":5000,\"ingest_address\":\"ff3e::10\","
      "\"source_address\":\"fd00::2\",\"interface\":\"veth1\"}",
      MR_ENDPOINT_SOURCE);
  g_assert_cmpstr (src->source_address, ==, "fd00::2");
  g_assert_cmpstr (src->iface, ==, "veth1");
  out = parse_ok ("{\"name\":\"o\",\"protocol\":\"udp\",\"destination\":"
      "\"239.1.1.1\",\"port\":5000,\"ttl\":16,\"dscp\":46,"
      "\"interface\":\"veth2\"}", MR_ENDPOINT_OUTPUT);
  back = mr_endpoint_to_json (out, MR_SPEC_JSON_PUBLIC);
  json = json_to_string (back, FALSE);
  g_assert_nonnull (strstr (json, "\"interface\":\"veth2\",\"ttl\":16,"
          "\"dscp\":46"));
  g_clear_pointer (&out, mr_endpoint_free);
  /* dscp alone marks a unicast output */
  out = parse_ok ("{\"name\":\"o\",\"protocol\":\"rtp\",\"destination\":"
      "\"10.0.0.1\",\"port\":5000,\"dscp\":34}", MR_ENDPOINT_OUTPUT);
  g_assert_cmpint (out->dscp, ==, 34);
  g_assert_cmpint (out->ttl, ==, -1);
}

/* rtsp: path, user and password (core/protocols/rtsp.c); the password is
 * stored, never answered */
static void
test_rtsp_rules (void)
{
  g_autoptr (MrEndpoint) out = NULL;
  g_autoptr (JsonNode) pub = NULL, stored = NULL;
  g_autofree gchar *pub_json = NULL, *stored_json = NULL;

  check_output ("{\"name\":\"o\",\"protocol\":\"rtsp\"}",
      "outputs[0].path: is required for protocol rtsp", "outputs[0].path");
  check_output ("{\"name\":\"o\",\"protocol\":\"rtsp\",\"path\":"
      "\"a/../b\"}", "outputs[0].path: must be 1-128 characters of A-Z, "
      "a-z, 0-9, '_', '-', '.' and '/' between segments", "outputs[0].path");
  check_output ("{\"name\":\"o\",\"protocol\":\"rtsp\",\"path\":"
      "\"a//b\"}", "outputs[0].path: must be 1-128 characters of A-Z, "
      "a-z, 0-9, '_', '-', '.' and '/' between segments", "outputs[0].path");
  check_output ("{\"name\":\"o\",\"protocol\":\"rtsp\",\"path\":"
      "\"a\",\"user\":\"u\"}", "outputs[0].password: is required with user",
      "outputs[0].password");
  check_output ("{\"name\":\"o\",\"protocol\":\"rtsp\",\"path\":"
      "\"a\",\"destination\":\"h\"}", "outputs[0].destination: is not "
      "used by protocol rtsp (it is served at rtsp://HOST:PORT/PATH)",
      "outputs[0].destination");
  check_output ("{\"name\":\"o\",\"protocol\":\"udp\",\"destination\":"
      "\"h\",\"port\":5000,\"password\":\"p\"}",
      "outputs[0].password: is only used by rtsp", "outputs[0].password");
  check_source ("{\"name\":\"a\",\"protocol\":\"rtsp\",\"path\":\"a\"}",
      "source.protocol: rtsp is only an output (the controller serves it)",
      "source.protocol");

  out = parse_ok ("{\"name\":\"o\",\"protocol\":\"rtsp\",\"path\":"
      "\"live/cam-1\",\"user\":\"u\",\"password\":\"pw-secret\"}",
      MR_ENDPOINT_OUTPUT);
  pub = mr_endpoint_to_json (out, MR_SPEC_JSON_PUBLIC);
  pub_json = json_to_string (pub, FALSE);
  g_assert_null (strstr (pub_json, "pw-secret"));
  g_assert_nonnull (strstr (pub_json, "\"path\":\"live/cam-1\",\"user\":"
          "\"u\",\"password_set\":true"));
  stored = mr_endpoint_to_json (out, MR_SPEC_JSON_STORED);
  stored_json = json_to_string (stored, FALSE);
  g_assert_nonnull (strstr (stored_json, "\"password\":\"pw-secret\""));
  g_assert_null (strstr (stored_json, "password_set"));
}

/* one udpfanoutsink per payloader and (ttl, dscp, interface) */
static void
test_fanout_key (void)
{
  MrEndpoint out = { .role = MR_ENDPOINT_OUTPUT,.protocol = MR_PROTOCOL_UDP,
    .ttl = -1,.dscp = -1
  };
  g_autofree gchar *plain = NULL, *rtp = NULL, *marked = NULL;

  plain = mr_transport_fanout_key (mr_transport_get (MR_PROTOCOL_UDP), &out);
  rtp = mr_transport_fanout_key (mr_transport_get (MR_PROTOCOL_RTP), &out);
  out.ttl = 16;
  out.dscp = 46;
  out.iface = (gchar *) "veth1";
  marked = mr_transport_fanout_key (mr_transport_get (MR_PROTOCOL_UDP), &out);
  g_assert_cmpstr (plain, ==, "ts");
  g_assert_cmpstr (rtp, ==, "rtpmp2tpay");
  g_assert_cmpstr (marked, ==, "ts-ttl16-dscp46-veth1");
}

/* rtmpserversrc's messages: its publisher left (it listens anew), a
 * publisher refused for its key (the key it tried), a second publisher */
static void
test_rtmp_source_messages (void)
{
  const MrTransport *t = mr_transport_get (MR_PROTOCOL_RTMP);
  g_autoptr (GstStructure) stop = gst_structure_new ("rtmpserversrc-publisher",
      "event", G_TYPE_STRING, "stop", NULL);
  g_autoptr (GstStructure) start = gst_structure_new
      ("rtmpserversrc-publisher", "event", G_TYPE_STRING, "start", NULL);
  g_autoptr (GstStructure) refused = gst_structure_new
      ("rtmpserversrc-refused", "stream-key", G_TYPE_STRING, "tried",
      "reason", G_TYPE_STRING, "unknown stream key", NULL);
  g_autoptr (GstStructure) second = gst_structure_new
      ("rtmpserversrc-refused", "reason", G_TYPE_STRING, "stream key in use",
      NULL);
  const gchar *detail = NULL, *reason = NULL;

  g_assert_cmpint (t->read_source_message (stop, &detail, &reason), ==,
      MR_SOURCE_NOTE_LISTENING_ANEW);
  g_assert_cmpint (t->read_source_message (start, &detail, &reason), ==,
      MR_SOURCE_NOTE_NONE);
  g_assert_cmpint (t->read_source_message (refused, &detail, &reason), ==,
      MR_SOURCE_NOTE_CALLER_REFUSED);
  g_assert_cmpstr (detail, ==, "tried");
  g_assert_cmpint (t->read_source_message (second, &detail, &reason), ==,
      MR_SOURCE_NOTE_SECOND_PEER_REFUSED);
  g_assert_cmpstr (t->refused_caller, ==, "RTMP publisher with stream key");
}

static MrEndpoint *
endpoint_of (const gchar * json, MrEndpointRole role)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_autoptr (GError) error = NULL;
  MrEndpoint *ep = mr_endpoint_from_json (node, role,
      role == MR_ENDPOINT_SOURCE ? "source" : "outputs[0]", NULL, &error);

  g_assert_no_error (error);
  return ep;
}

/* an rtmp source with ingest_port listens with rtmpserversrc; an output to
 * a host with port and stream_key goes to rtmp://host:port/live/KEY */
static void
test_rtmp_listener_and_host_output (void)
{
  const MrTransport *t = mr_transport_get (MR_PROTOCOL_RTMP);
  g_autoptr (MrEndpoint) src = endpoint_of ("{\"name\": \"s\", "
      "\"protocol\": \"rtmp\", \"ingest_port\": 1935, \"stream_id\": "
      "\"cam1\", \"ingest_address\": \"127.0.0.1\"}", MR_ENDPOINT_SOURCE);
  g_autoptr (MrEndpoint) out = endpoint_of ("{\"name\": \"o\", "
      "\"protocol\": \"rtmp\", \"destination\": \"live.example.com\", "
      "\"port\": 1936, \"stream_key\": \"k3y\"}", MR_ENDPOINT_OUTPUT);
  g_autoptr (MrEndpoint) out6 = endpoint_of ("{\"name\": \"o\", "
      "\"protocol\": \"rtmp\", \"destination\": \"::1\", "
      "\"port\": 1940, \"stream_key\": \"k\"}", MR_ENDPOINT_OUTPUT);
  g_autoptr (GstElement) bin = gst_object_ref_sink (gst_bin_new ("s"));
  g_autoptr (GstElement) e = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GError) error = NULL;
  GstElement *stats = NULL, *last = NULL, *rtmp2sink;
  g_autofree gchar *key = NULL, *app = NULL, *addr = NULL, *loc = NULL;
  guint port = 0;

  g_assert_true (t->build_source (GST_BIN (bin), src, FALSE, &stats, &last,
          &error));
  g_assert_no_error (error);
  e = gst_bin_get_by_name (GST_BIN (bin), "rtmpserversrc");
  g_assert_nonnull (e);
  g_object_get (e, "port", &port, "stream-key", &key, "application", &app,
      "address", &addr, NULL);
  g_assert_cmpuint (port, ==, 1935);
  g_assert_cmpstr (key, ==, "cam1");
  g_assert_cmpstr (app, ==, "live");
  g_assert_cmpstr (addr, ==, "127.0.0.1");

  sink = gst_object_ref_sink (t->make_output (out, NULL, &error));
  g_assert_no_error (error);
  rtmp2sink = gst_bin_get_by_name (GST_BIN (sink), "rtmp2sink");
  g_object_get (rtmp2sink, "location", &loc, NULL);
  g_assert_cmpstr (loc, ==, "rtmp://live.example.com:1936/live/k3y");
  gst_object_unref (rtmp2sink);
  g_clear_pointer (&loc, g_free);
  gst_clear_object (&sink);

  sink = gst_object_ref_sink (t->make_output (out6, NULL, &error));
  rtmp2sink = gst_bin_get_by_name (GST_BIN (sink), "rtmp2sink");
  g_object_get (rtmp2sink, "location", &loc, NULL);
  g_assert_cmpstr (loc, ==, "rtmp://[::1]:1940/live/k");
  gst_object_unref (rtmp2sink);
}

/* rtmp listeners of one flow or two share a port by stream key */
static void
test_rtmp_same_port (void)
{
  g_autoptr (MrEndpoint) a = endpoint_of ("{\"name\": \"a\", "
      "\"protocol\": \"rtmp\", \"ingest_port\": 1935, \"stream_id\": "
      "\"one\"}", MR_ENDPOINT_SOURCE);
  g_autoptr (MrEndpoint) b = endpoint_of ("{\"name\": \"b\", "
      "\"protocol\": \"rtmp\", \"ingest_port\": 1935, \"stream_id\": "
      "\"two\"}", MR_ENDPOINT_SOURCE);
  g_autoptr (MrEndpoint) c = endpoint_of ("{\"name\": \"c\", "
      "\"protocol\": \"rtmp\", \"ingest_port\": 1935, \"stream_id\": "
      "\"one\"}", MR_ENDPOINT_SOURCE);
  g_autoptr (MrEndpoint) d = endpoint_of ("{\"name\": \"d\", "
      "\"protocol\": \"rtmp\", \"ingest_port\": 1935, \"stream_id\": "
      "\"three\", \"ingest_address\": \"127.0.0.1\"}",
      MR_ENDPOINT_SOURCE);
  g_autoptr (MrEndpoint) u = endpoint_of ("{\"name\": \"u\", "
      "\"protocol\": \"udp\", \"ingest_port\": 1935}",
      MR_ENDPOINT_SOURCE);
  gboolean clash = TRUE;

  g_assert_true (mr_endpoint_rtmp_same_port (a, b, &clash));
  g_assert_false (clash);
  g_assert_true (mr_endpoint_rtmp_same_port (a, c, &clash));
  g_assert_true (clash);
  g_assert_true (mr_endpoint_rtmp_same_port (a, d, &clash));
  g_assert_true (clash);
  g_assert_false (mr_endpoint_rtmp_same_port (a, u, &clash));
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol-tables/every-protocol",
      test_every_protocol_has_tables);
  g_test_add_func ("/protocol-tables/watch-members", test_watch_members);
  g_test_add_func ("/protocol-tables/srt-source-messages",
      test_srt_source_messages);
  g_test_add_func ("/protocol-tables/srt-lost-peer-warning",
      test_srt_lost_peer_warning);
  g_test_add_func ("/protocol-tables/rules-messages", test_rules_messages);
  g_test_add_func ("/protocol-tables/multicast-rules", test_multicast_rules);
  g_test_add_func ("/protocol-tables/fanout-key", test_fanout_key);
  g_test_add_func ("/protocol-tables/rtsp-rules", test_rtsp_rules);
  g_test_add_func ("/protocol-tables/srt-max-bitrate", test_srt_max_bitrate);
  g_test_add_func ("/protocol-tables/rtmp-source-messages",
      test_rtmp_source_messages);
  g_test_add_func ("/protocol-tables/rtmp-listener-and-host-output",
      test_rtmp_listener_and_host_output);
  g_test_add_func ("/protocol-tables/rtmp-same-port", test_rtmp_same_port);
  return g_test_run ();
}
