/* Unit tests of controller/api/render.c: the typed metrics, events and
 * content quality come out as the API's JSON with the seed's member
 * names, order and types (integers stay integers, doubles doubles,
 * optional objects only when there is something to say). */

#include <glib.h>

#include "api/render.h"

static gchar *
to_string (JsonNode * node)
{
  gchar *s = json_to_string (node, FALSE);

  json_node_unref (node);
  return s;
}

/* 2026-01-02T03:04:05.000000Z */
#define SOME_TIME (G_GINT64_CONSTANT (1767323045) * G_USEC_PER_SEC)

static MrFlowMetrics *
some_metrics (void)
{
  MrFlowMetrics *m = mr_flow_metrics_new ();
  MrSourceMetrics *src = g_new0 (MrSourceMetrics, 1);
  MrSourceMetrics *plain = g_new0 (MrSourceMetrics, 1);
  MrOutputMetrics *out = g_new0 (MrOutputMetrics, 1);
  MrOutputMetrics *rist = g_new0 (MrOutputMetrics, 1);
  MrOutputMetrics *rtsp = g_new0 (MrOutputMetrics, 1);

  m->flow_id = g_strdup ("flow_1");
  m->active_source = g_strdup ("main");
  m->state = MR_FLOW_ACTIVE;
  m->uptime_seconds = 12;
  m->failover_count = 1;
  m->timestamp = SOME_TIME;

  src->name = g_strdup ("main");
  src->protocol = MR_PROTOCOL_SRT_LISTENER;
  src->connected = TRUE;
  src->bitrate_kbps = 5000;
  src->bytes_received = 1316000;
  src->packets_received = 1000;
  src->packets_lost = 2;
  src->packets_recovered = 3;
  src->round_trip_time_ms = 1;
  src->selected = TRUE;
  src->has_srt = TRUE;
  src->srt.has_callers_refused = TRUE;
  src->srt.callers_refused = 4;
  src->srt.connected_callers = 1;
  src->srt.rtt_ms = 0.5;
  src->srt.lost = 5;
  src->srt.retransmitted = 6;
  src->srt.dropped = 2;
  src->srt.rate_mbps = 5.25;
  src->srt.negotiated_latency_ms = 120;
  src->content_alarm[MR_CONTENT_BLACK] = TRUE;
  src->content_stretches[MR_CONTENT_BLACK] = 2;
  src->content_stretches[MR_CONTENT_SILENT] = 1;
  g_ptr_array_add (m->sources, src);

  plain->name = g_strdup ("backup");
  plain->protocol = MR_PROTOCOL_RIST;
  plain->rist = mr_stat_values_new ();
  mr_stat_values_add_int (plain->rist, "received", 7);
  mr_stat_values_add_double (plain->rist, "rtt", 1.5);
  g_ptr_array_add (m->sources, plain);

  out->name = g_strdup ("out");
  out->protocol = MR_PROTOCOL_SRT_CALLER;
  out->bytes_sent = 10;
  out->packets_sent = 1;
  out->disconnections = 2;
  out->has_srt = TRUE;
  out->srt.rtt_ms = 2;
  g_ptr_array_add (m->outputs, out);

  rist->name = g_strdup ("r");
  rist->protocol = MR_PROTOCOL_RIST;
  rist->connected = TRUE;
  rist->rist = mr_stat_values_new ();
  mr_stat_values_add_int (rist->rist, "sent_original_packets", 9);
  g_ptr_array_add (m->outputs, rist);

  rtsp->name = g_strdup ("v");
  rtsp->protocol = MR_PROTOCOL_RTSP;
  rtsp->connected = TRUE;
  rtsp->has_viewers = TRUE;
  rtsp->viewers = 3;
  g_ptr_array_add (m->outputs, rtsp);
  return m;
}

static void
test_metrics (void)
{
  g_autoptr (MrFlowMetrics) m = some_metrics ();
  g_autofree gchar *json = to_string (mr_render_metrics (m));

  g_assert_cmpstr (json, ==,
      "{\"flow_id\":\"flow_1\",\"active_source\":\"main\","
      "\"status\":\"ACTIVE\",\"uptime_seconds\":12,\"failover_count\":1,"
      "\"merge_active\":false,"
      "\"source_metrics\":["
      "{\"name\":\"main\",\"protocol\":\"srt-listener\","
      "\"status\":\"CONNECTED\",\"connected\":true,\"bitrate_kbps\":5000,"
      "\"bytes_received\":1316000,\"packets_received\":1000,"
      "\"packets_lost\":2,\"packets_recovered\":3,"
      "\"round_trip_time_ms\":1,\"jitter_ms\":0,\"source_selected\":true,"
      "\"content_alarms\":{\"black\":{\"active\":true,\"stretches\":2},"
      "\"frozen\":{\"active\":false,\"stretches\":0},"
      "\"silent\":{\"active\":false,\"stretches\":1}},"
      "\"srt\":{\"callers_refused\":4,\"connected_callers\":1,"
      "\"rtt_ms\":0.5,\"packets_received_lost\":5,\"nak_sent\":6,"
      "\"packets_dropped\":2,\"receive_rate_mbps\":5.25,"
      "\"negotiated_latency_ms\":120}},"
      "{\"name\":\"backup\",\"protocol\":\"rist\","
      "\"status\":\"DISCONNECTED\",\"connected\":false,\"bitrate_kbps\":0,"
      "\"bytes_received\":0,\"packets_received\":0,\"packets_lost\":0,"
      "\"packets_recovered\":0,\"round_trip_time_ms\":0,\"jitter_ms\":0,"
      "\"source_selected\":false,"
      "\"content_alarms\":{\"black\":{\"active\":false,\"stretches\":0},"
      "\"frozen\":{\"active\":false,\"stretches\":0},"
      "\"silent\":{\"active\":false,\"stretches\":0}},"
      "\"rist\":{\"received\":7,\"rtt\":1.5}}],"
      "\"output_metrics\":["
      "{\"name\":\"out\",\"protocol\":\"srt-caller\","
      "\"status\":\"DISCONNECTED\",\"connected\":false,\"bitrate_kbps\":0,"
      "\"bytes_sent\":10,\"packets_sent\":1,\"disconnections\":2,"
      "\"srt\":{\"connected_callers\":0,\"rtt_ms\":2.0,"
      "\"packets_sent_lost\":0,\"packets_retransmitted\":0,"
      "\"packets_dropped\":0,\"send_rate_mbps\":0.0,"
      "\"negotiated_latency_ms\":0}},"
      "{\"name\":\"r\",\"protocol\":\"rist\",\"status\":\"CONNECTED\","
      "\"connected\":true,\"bitrate_kbps\":0,\"bytes_sent\":0,"
      "\"packets_sent\":0,\"disconnections\":0,"
      "\"rist\":{\"sent_original_packets\":9}},"
      "{\"name\":\"v\",\"protocol\":\"rtsp\",\"status\":\"CONNECTED\","
      "\"connected\":true,\"bitrate_kbps\":0,\"bytes_sent\":0,"
      "\"packets_sent\":0,\"disconnections\":0,"
      "\"rtsp\":{\"viewers\":3}}],"
      "\"timestamp\":\"2026-01-02T03:04:05.000000Z\"}");
}

/* merge_stats comes after merge_active, with the seed's two named legs
 * even when the flow has one source.  The seed's gap_fills are the packets
 * the output took from the leg (its `used`), holes_filled those no other
 * leg had. */
static void
test_merge (void)
{
  g_autoptr (MrFlowMetrics) m = mr_flow_metrics_new ();
  MrMergeLegMetrics *leg = g_new0 (MrMergeLegMetrics, 1);
  g_autofree gchar *json = NULL;

  m->flow_id = g_strdup ("f");
  m->active_source = g_strdup ("");
  m->state = MR_FLOW_STARTING;
  m->timestamp = SOME_TIME;
  m->merge = mr_merge_metrics_new ();
  m->merge->named_packets[0] = 100;
  m->merge->named_used[0] = 98;
  m->merge->named_holes_filled[0] = 1;
  m->merge->output_packets = 99;
  m->merge->missing_packets = 1;
  m->merge->recovery_window_ms = 50;
  m->merge->active_legs = 1;
  m->merge->skew_ms = 0;
  m->merge->restarts = 0;
  leg->name = g_strdup ("a");
  leg->packets = 100;
  leg->used = 98;
  leg->holes_filled = 1;
  leg->delivering = TRUE;
  leg->lag_ms = 0.25;
  g_ptr_array_add (m->merge->legs, leg);

  json = to_string (mr_render_metrics (m));
  g_assert_cmpstr (json, ==,
      "{\"flow_id\":\"f\",\"active_source\":\"\",\"status\":\"STARTING\","
      "\"uptime_seconds\":0,\"failover_count\":0,\"merge_active\":false,"
      "\"merge_stats\":{\"source_a_packets\":100,\"source_a_gap_fills\":98,"
      "\"source_a_holes_filled\":1,"
      "\"source_b_packets\":0,\"source_b_gap_fills\":0,"
      "\"source_b_holes_filled\":0,"
      "\"output_packets\":99,\"missing_packets\":1,"
      "\"recovery_window_ms\":50,\"active_legs\":1,\"skew_ms\":0.0,"
      "\"restarts\":0,\"sources\":[{\"name\":\"a\",\"packets\":100,"
      "\"used\":98,\"gap_fills\":98,\"holes_filled\":1,\"duplicates\":0,\"late\":0,"
      "\"foreign\":0,\"invalid\":0,\"delivering\":true,\"lag_ms\":0.25}]},"
      "\"source_metrics\":[],\"output_metrics\":[],"
      "\"timestamp\":\"2026-01-02T03:04:05.000000Z\"}");
}

static void
test_events (void)
{
  g_autoptr (GPtrArray) events =
      g_ptr_array_new_with_free_func ((GDestroyNotify) mr_event_free);
  MrEvent *e = g_new0 (MrEvent, 1);
  g_autofree gchar *json = NULL;

  e->id = 7;
  e->flow_id = g_strdup ("f");
  e->type = g_strdup ("flow_started");
  e->severity = g_strdup ("info");
  e->message = g_strdup ("started");
  e->timestamp = SOME_TIME;
  g_ptr_array_add (events, e);

  json = to_string (mr_render_events (events));
  g_assert_cmpstr (json, ==,
      "{\"events\":[{\"id\":7,\"flow_id\":\"f\",\"type\":\"flow_started\","
      "\"severity\":\"info\",\"message\":\"started\","
      "\"timestamp\":\"2026-01-02T03:04:05.000000Z\"}]}");
}

static void
test_content_quality (void)
{
  MrContentQuality cq = {
    .black_frame_detected = TRUE,
    .video_stream_present = TRUE,
    .last_check_time = SOME_TIME,
  };
  g_autofree gchar *json = to_string (mr_render_content_quality (&cq));

  g_assert_cmpstr (json, ==,
      "{\"black_frame_detected\":true,\"frozen_frame_detected\":false,"
      "\"silent_audio_detected\":false,\"video_stream_present\":true,"
      "\"audio_stream_present\":false,"
      "\"last_check_time\":\"2026-01-02T03:04:05.000000Z\"}");
}

/* A client that keeps a source's or an output's figures in the struct it
 * sends back: every member render.c writes in a metrics item is one the
 * parser ignores without a warning (core/endpoint.c, endpoint_read_only) */
static void
check_item_sent_back (JsonNode * item, MrEndpointRole role)
{
  g_autoptr (JsonNode) body = json_node_copy (item);
  JsonObject *obj = json_node_get_object (body);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MrEndpoint) ep = NULL;

  json_object_set_string_member (obj, "protocol", "udp");
  if (role == MR_ENDPOINT_SOURCE) {
    json_object_set_int_member (obj, "ingest_port", 5000);
  } else {
    json_object_set_string_member (obj, "destination", "127.0.0.1");
    json_object_set_int_member (obj, "port", 6000);
  }
  ep = mr_endpoint_from_json (body, role, "", warnings, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ep);
  for (guint i = 0; i < warnings->len; i++)
    g_test_message ("%s", (const gchar *) warnings->pdata[i]);
  g_assert_cmpuint (warnings->len, ==, 0);
}

static void
test_metrics_members_read_only (void)
{
  g_autoptr (MrFlowMetrics) m = some_metrics ();
  g_autoptr (JsonNode) node = mr_render_metrics (m);
  JsonObject *obj = json_node_get_object (node);
  JsonArray *sources = json_object_get_array_member (obj, "source_metrics");
  JsonArray *outputs = json_object_get_array_member (obj, "output_metrics");

  for (guint i = 0; i < json_array_get_length (sources); i++)
    check_item_sent_back (json_array_get_element (sources, i),
        MR_ENDPOINT_SOURCE);
  for (guint i = 0; i < json_array_get_length (outputs); i++)
    check_item_sent_back (json_array_get_element (outputs, i),
        MR_ENDPOINT_OUTPUT);
}

/* No warnings: the answer as it was, byte for byte; else one member at
 * the end */
static void
test_warnings (void)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonNode) node = json_from_string ("{\"id\":\"f\",\"a\":1}",
      NULL);
  g_autofree gchar *none = NULL;
  g_autofree gchar *two = NULL;

  mr_render_add_warnings (node, NULL);
  mr_render_add_warnings (node, warnings);
  none = json_to_string (node, FALSE);
  g_assert_cmpstr (none, ==, "{\"id\":\"f\",\"a\":1}");
  g_ptr_array_add (warnings, g_strdup ("unknown field 'foo' ignored"));
  g_ptr_array_add (warnings, g_strdup ("unknown field 'outputs[1].foo' "
          "ignored"));
  mr_render_add_warnings (node, warnings);
  two = json_to_string (node, FALSE);
  g_assert_cmpstr (two, ==, "{\"id\":\"f\",\"a\":1,\"warnings\":["
      "\"unknown field 'foo' ignored\","
      "\"unknown field 'outputs[1].foo' ignored\"]}");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/render/metrics", test_metrics);
  g_test_add_func ("/render/merge", test_merge);
  g_test_add_func ("/render/events", test_events);
  g_test_add_func ("/render/content-quality", test_content_quality);
  g_test_add_func ("/render/metrics-members-read-only",
      test_metrics_members_read_only);
  g_test_add_func ("/render/warnings", test_warnings);
  return g_test_run ();
}
