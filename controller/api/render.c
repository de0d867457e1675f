/* mroute: the typed answers of the manager as the REST API's JSON.
 *
 * Members are written in the order the seed wrote them; integers stay
 * integers and doubles doubles (a client that compares types sees no
 * change).  api/prometheus.c renders the same structs as text. */

#define G_LOG_DOMAIN "mroute-api"
#include "render.h"

static void
add_int (JsonBuilder * b, const gchar * name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_double (JsonBuilder * b, const gchar * name, gdouble value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

static void
add_bool (JsonBuilder * b, const gchar * name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

static void
add_string (JsonBuilder * b, const gchar * name, const gchar * value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_time (JsonBuilder * b, const gchar * name, gint64 usec)
{
  g_autofree gchar *ts = mr_format_time (usec);

  add_string (b, name, ts);
}

/* ---------------------------------------------------------------------- */
/* flows and events */

JsonNode *
mr_render_flow (const MrFlowInfo * flow)
{
  return mr_flow_spec_to_json (flow->spec, MR_SPEC_JSON_PUBLIC,
      mr_flow_state_to_string (flow->state));
}

JsonNode *
mr_render_flow_list (GPtrArray * flows)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "flows");
  json_builder_begin_array (b);
  for (guint i = 0; i < flows->len; i++)
    json_builder_add_value (b, mr_render_flow (flows->pdata[i]));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
mr_render_endpoint (const MrEndpoint * ep)
{
  return mr_endpoint_to_json (ep, MR_SPEC_JSON_PUBLIC);
}

void
mr_render_add_warnings (JsonNode * answer, GPtrArray * warnings)
{
  JsonArray *list;

  /* without warnings the answer stays what it was, byte for byte */
  if (!warnings || warnings->len == 0)
    return;
  list = json_array_sized_new (warnings->len);
  for (guint i = 0; i < warnings->len; i++)
    json_array_add_string_element (list, warnings->pdata[i]);
  json_object_set_array_member (json_node_get_object (answer), "warnings",
      list);
}

JsonNode *
mr_render_event (const MrEvent * e)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_int (b, "id", e->id);
  add_string (b, "flow_id", e->flow_id);
  add_string (b, "type", e->type);
  add_string (b, "severity", e->severity);
  add_string (b, "message", e->message);
  add_time (b, "timestamp", e->timestamp);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
mr_render_events (GPtrArray * events)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "events");
  json_builder_begin_array (b);
  for (guint i = 0; i < events->len; i++)
    json_builder_add_value (b, mr_render_event (events->pdata[i]));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---------------------------------------------------------------------- */
/* metrics */

static void
add_stat_values (JsonBuilder * b, const gchar * member, const GArray * values)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  for (guint i = 0; i < values->len; i++) {
    const MrStatValue *v = &g_array_index (values, MrStatValue, i);

    if (v->is_double)
      add_double (b, v->name, v->double_value);
    else
      add_int (b, v->name, v->int_value);
  }
  json_builder_end_object (b);
}

/* @sending: an output's link, else a source's */
static void
add_srt (JsonBuilder * b, const MrSrtMetrics * st, gboolean sending)
{
  json_builder_set_member_name (b, "srt");
  json_builder_begin_object (b);
  if (st->has_callers_refused)
    add_int (b, "callers_refused", st->callers_refused);
  add_int (b, "connected_callers", st->connected_callers);
  add_double (b, "rtt_ms", st->rtt_ms);
  add_int (b, sending ? "packets_sent_lost" : "packets_received_lost",
      st->lost);
  add_int (b, sending ? "packets_retransmitted" : "nak_sent",
      st->retransmitted);
  add_int (b, "packets_dropped", st->dropped);
  add_double (b, sending ? "send_rate_mbps" : "receive_rate_mbps",
      st->rate_mbps);
  add_int (b, "negotiated_latency_ms", st->negotiated_latency_ms);
  json_builder_end_object (b);
}

static void
add_link_head (JsonBuilder * b, const gchar * name, MrProtocol protocol,
    gboolean connected, guint64 kbps)
{
  add_string (b, "name", name);
  add_string (b, "protocol", mr_protocol_to_string (protocol));
  add_string (b, "status", connected ? "CONNECTED" : "DISCONNECTED");
  add_bool (b, "connected", connected);
  add_int (b, "bitrate_kbps", kbps);
}

static void
add_source (JsonBuilder * b, const MrSourceMetrics * m)
{
  json_builder_begin_object (b);
  add_link_head (b, m->name, m->protocol, m->connected, m->bitrate_kbps);
  add_int (b, "bytes_received", m->bytes_received);
  add_int (b, "packets_received", m->packets_received);
  add_int (b, "packets_lost", m->packets_lost);
  if (m->has_publishers_refused)
    add_int (b, "publishers_refused", m->publishers_refused);
  add_int (b, "packets_recovered", m->packets_recovered);
  add_int (b, "round_trip_time_ms", m->round_trip_time_ms);
  /* whole ms, as round_trip_time_ms and the seed's example;
   * mroute_source_jitter_seconds has it unrounded */
  add_int (b, "jitter_ms", (gint64) (m->jitter_ms + 0.5));
  add_bool (b, "source_selected", m->selected);
  /* {"black": {"active": false, "stretches": 0}, "frozen": ..., ...} */
  json_builder_set_member_name (b, "content_alarms");
  json_builder_begin_object (b);
  for (guint k = 0; k < MR_CONTENT_N_KINDS; k++) {
    json_builder_set_member_name (b, mr_content_kind_to_string (k));
    json_builder_begin_object (b);
    add_bool (b, "active", m->content_alarm[k]);
    add_int (b, "stretches", m->content_stretches[k]);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  if (m->has_srt)
    add_srt (b, &m->srt, FALSE);
  if (m->rist)
    add_stat_values (b, "rist", m->rist);
  json_builder_end_object (b);
}

static void
add_output (JsonBuilder * b, const MrOutputMetrics * m)
{
  json_builder_begin_object (b);
  add_link_head (b, m->name, m->protocol, m->connected, m->bitrate_kbps);
  add_int (b, "bytes_sent", m->bytes_sent);
  add_int (b, "packets_sent", m->packets_sent);
  add_int (b, "disconnections", m->disconnections);
  if (m->rist)
    add_stat_values (b, "rist", m->rist);
  if (m->has_srt)
    add_srt (b, &m->srt, TRUE);
  if (m->has_viewers) {
    json_builder_set_member_name (b, "rtsp");
    json_builder_begin_object (b);
    add_int (b, "viewers", m->viewers);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
}

/* "merge_stats": the seed's fields for the first two sources ("a", "b"),
 * then every leg by name with all its counters.  The seed's gap_fills are
 * the packets the output took from the source (85,000 + 5,000 = 90,000
 * output_packets in its example), i.e. `used`; holes_filled are those that
 * no other source delivered. */
static void
add_merge (JsonBuilder * b, const MrMergeMetrics * m)
{
  json_builder_set_member_name (b, "merge_stats");
  json_builder_begin_object (b);
  for (guint i = 0; i < MR_MERGE_NAMED_LEGS; i++) {
    g_autofree gchar *packets = g_strdup_printf ("source_%c_packets",
        'a' + i);
    g_autofree gchar *fills = g_strdup_printf ("source_%c_gap_fills",
        'a' + i);
    g_autofree gchar *holes = g_strdup_printf ("source_%c_holes_filled",
        'a' + i);

    add_int (b, packets, m->named_packets[i]);
    add_int (b, fills, m->named_used[i]);
    add_int (b, holes, m->named_holes_filled[i]);
  }
  add_int (b, "output_packets", m->output_packets);
  add_int (b, "missing_packets", m->missing_packets);
  add_int (b, "recovery_window_ms", m->recovery_window_ms);
  add_int (b, "active_legs", m->active_legs);
  add_double (b, "skew_ms", m->skew_ms);
  add_int (b, "restarts", m->restarts);

  json_builder_set_member_name (b, "sources");
  json_builder_begin_array (b);
  for (guint i = 0; i < m->legs->len; i++) {
    const MrMergeLegMetrics *leg = m->legs->pdata[i];

    json_builder_begin_object (b);
    add_string (b, "name", leg->name);
    add_int (b, "packets", leg->packets);
    add_int (b, "used", leg->used);
    add_int (b, "gap_fills", leg->used);
    add_int (b, "holes_filled", leg->holes_filled);
    add_int (b, "duplicates", leg->duplicates);
    add_int (b, "late", leg->late);
    add_int (b, "foreign", leg->foreign);
    add_int (b, "invalid", leg->invalid);
    add_bool (b, "delivering", leg->delivering);
    add_double (b, "lag_ms", leg->lag_ms);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

JsonNode *
mr_render_metrics (const MrFlowMetrics * m)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "flow_id", m->flow_id);
  add_string (b, "active_source", m->active_source);
  add_string (b, "status", mr_flow_state_to_string (m->state));
  add_int (b, "uptime_seconds", m->uptime_seconds);
  add_int (b, "failover_count", m->failover_count);
  add_bool (b, "merge_active", m->merge_active);
  if (m->merge)
    add_merge (b, m->merge);

  json_builder_set_member_name (b, "source_metrics");
  json_builder_begin_array (b);
  for (guint i = 0; i < m->sources->len; i++)
    add_source (b, m->sources->pdata[i]);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "output_metrics");
  json_builder_begin_array (b);
  for (guint i = 0; i < m->outputs->len; i++)
    add_output (b, m->outputs->pdata[i]);
  json_builder_end_array (b);

  add_time (b, "timestamp", m->timestamp);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---------------------------------------------------------------------- */
/* source monitoring */

JsonNode *
mr_render_thumbnail (const MrThumbnail * t)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *data = NULL;
  const guint8 *bytes;
  gsize size;

  bytes = g_bytes_get_data (t->jpeg, &size);
  data = g_base64_encode (bytes, size);

  json_builder_begin_object (b);
  add_string (b, "flow_id", t->flow_id);
  add_string (b, "data", data);
  add_time (b, "timestamp", t->timestamp);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
add_gop (JsonBuilder * b, const MrGopStats * gop)
{
  json_builder_set_member_name (b, "gop");
  json_builder_begin_object (b);
  add_int (b, "length", gop->gop_length);
  json_builder_set_member_name (b, "frames");
  json_builder_begin_object (b);
  add_int (b, "I", gop->frames[MR_FRAME_I]);
  add_int (b, "P", gop->frames[MR_FRAME_P]);
  add_int (b, "B", gop->frames[MR_FRAME_B]);
  json_builder_end_object (b);
  add_int (b, "keyframes", gop->keyframes);
  json_builder_end_object (b);
}

static void
add_stream (JsonBuilder * b, const MrMonitorStream * st)
{
  json_builder_begin_object (b);
  add_int (b, "index", st->index);
  add_string (b, "stream_type", mr_monitor_stream_type_to_string (st->type));
  add_string (b, "codec", st->codec ? st->codec : "unknown");
  if (st->type == MR_MONITOR_STREAM_VIDEO) {
    g_autofree gchar *rate = g_strdup_printf ("%d/%d", st->fps_n, st->fps_d);

    if (st->profile)
      add_string (b, "profile", st->profile);
    add_int (b, "width", st->width);
    add_int (b, "height", st->height);
    add_string (b, "frame_rate", rate);
  } else if (st->type == MR_MONITOR_STREAM_AUDIO) {
    add_int (b, "channels", st->channels);
    add_int (b, "sample_rate", st->sample_rate);
  }
  add_int (b, "bit_rate", st->bit_rate);
  if (st->has_gop)
    add_gop (b, &st->gop);
  json_builder_end_object (b);
}

JsonNode *
mr_render_stream_metadata (const MrStreamMetadata * md)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "flow_id", md->flow_id);
  add_string (b, "source", md->source);
  json_builder_set_member_name (b, "programs");
  json_builder_begin_array (b);
  for (guint i = 0; i < md->programs->len; i++) {
    const MrMonitorProgram *p = md->programs->pdata[i];

    json_builder_begin_object (b);
    add_int (b, "program_id", p->program_id);
    add_string (b, "program_name", p->program_name ? p->program_name : "");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  for (guint i = 0; i < md->streams->len; i++)
    add_stream (b, md->streams->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
mr_render_content_quality (const MrContentQuality * cq)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_bool (b, "black_frame_detected", cq->black_frame_detected);
  add_bool (b, "frozen_frame_detected", cq->frozen_frame_detected);
  add_bool (b, "silent_audio_detected", cq->silent_audio_detected);
  add_bool (b, "video_stream_present", cq->video_stream_present);
  add_bool (b, "audio_stream_present", cq->audio_stream_present);
  add_time (b, "last_check_time", cq->last_check_time);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
