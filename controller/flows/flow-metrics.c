/* mroute: the metrics object of a flow (the seed's GET /v1/flows/{id}/metrics),
 * from the running pipeline's own counters. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

/* The numbers of an element's own stats structure as a JSON object, names
 * with '_' for '-' (RIST's statistics are given as they are). */
static void
add_raw_stats (JsonBuilder * b, const gchar * member, const GstStructure * s)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  for (gint i = 0; s && i < gst_structure_n_fields (s); i++) {
    const gchar *field = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, field);
    g_autofree gchar *name = g_strdup (field);

    g_strdelimit (name, "-", '_');
    if (G_VALUE_HOLDS_UINT64 (v)) {
      json_builder_set_member_name (b, name);
      json_builder_add_int_value (b, g_value_get_uint64 (v));
    } else if (G_VALUE_HOLDS_INT64 (v)) {
      json_builder_set_member_name (b, name);
      json_builder_add_int_value (b, g_value_get_int64 (v));
    } else if (G_VALUE_HOLDS_INT (v)) {
      json_builder_set_member_name (b, name);
      json_builder_add_int_value (b, g_value_get_int (v));
    } else if (G_VALUE_HOLDS_UINT (v)) {
      json_builder_set_member_name (b, name);
      json_builder_add_int_value (b, g_value_get_uint (v));
    } else if (G_VALUE_HOLDS_DOUBLE (v)) {
      json_builder_set_member_name (b, name);
      json_builder_add_double_value (b, g_value_get_double (v));
    }
  }
  json_builder_end_object (b);
}

static void
add_srt_object (JsonBuilder * b, const MrSrtStats * st, gboolean sending,
    gint64 refused)
{
  json_builder_set_member_name (b, "srt");
  json_builder_begin_object (b);
  if (refused >= 0) {
    json_builder_set_member_name (b, "callers_refused");
    json_builder_add_int_value (b, refused);
  }
  json_builder_set_member_name (b, "connected_callers");
  json_builder_add_int_value (b, st->callers);
  json_builder_set_member_name (b, "rtt_ms");
  json_builder_add_double_value (b, st->rtt_ms);
  json_builder_set_member_name (b, sending ? "packets_sent_lost" :
      "packets_received_lost");
  json_builder_add_int_value (b, st->lost);
  json_builder_set_member_name (b, sending ? "packets_retransmitted" :
      "nak_sent");
  json_builder_add_int_value (b, st->retransmitted);
  json_builder_set_member_name (b, "packets_dropped");
  json_builder_add_int_value (b, st->dropped);
  json_builder_set_member_name (b, sending ? "send_rate_mbps" :
      "receive_rate_mbps");
  json_builder_add_double_value (b, st->rate_mbps);
  json_builder_set_member_name (b, "negotiated_latency_ms");
  json_builder_add_int_value (b, st->negotiated_latency_ms);
  json_builder_end_object (b);
}


static void
add_source_metrics (JsonBuilder * b, const MrEndpoint * src, gboolean selected,
    const GstStructure * s, guint64 kbps, gboolean connected,
    const MrSrtStats * srt, const GstStructure * rist, gint64 refused)
{
  /* SRT recovers what it detects as lost; what stays lost is dropped */
  guint64 lost = srt ? (guint64) srt->dropped :
      mr_runner_struct_u64 (s, "lost");
  guint64 recovered = srt && srt->lost > srt->dropped ?
      (guint64) (srt->lost - srt->dropped) :
      mr_runner_struct_u64 (rist, "recovered");

  /* RTP-FEC: packetstats counts the losses before the FEC decoder, the
   * jitter buffer those after it: the difference was recovered */
  if (src->protocol == MR_PROTOCOL_RTP_FEC && s
      && gst_structure_has_field (s, "fec-lost")) {
    guint64 after = mr_runner_struct_u64 (s, "fec-lost");
    lost = MIN (after, mr_runner_struct_u64 (s, "lost"));
    recovered = mr_runner_struct_u64 (s, "lost") - lost;
  }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, src->name);
  json_builder_set_member_name (b, "protocol");
  json_builder_add_string_value (b, mr_protocol_to_string (src->protocol));
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, connected ? "CONNECTED" : "DISCONNECTED");
  json_builder_set_member_name (b, "connected");
  json_builder_add_boolean_value (b, connected);
  json_builder_set_member_name (b, "bitrate_kbps");
  json_builder_add_int_value (b, kbps);
  json_builder_set_member_name (b, "bytes_received");
  json_builder_add_int_value (b, mr_runner_struct_u64 (s, "bytes"));
  json_builder_set_member_name (b, "packets_received");
  json_builder_add_int_value (b, mr_runner_struct_u64 (s, "packets"));
  json_builder_set_member_name (b, "packets_lost");
  json_builder_add_int_value (b, lost);
  json_builder_set_member_name (b, "packets_recovered");
  json_builder_add_int_value (b, recovered);
  json_builder_set_member_name (b, "round_trip_time_ms");
  json_builder_add_int_value (b, srt ? (gint64) (srt->rtt_ms + 0.5) : 0);
  json_builder_set_member_name (b, "jitter_ms");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "source_selected");
  json_builder_add_boolean_value (b, selected);
  if (srt)
    add_srt_object (b, srt, FALSE, refused);
  if (rist)
    add_raw_stats (b, "rist", rist);
  json_builder_end_object (b);
}

static void
add_output_metrics (JsonBuilder * b, const MrEndpoint * out,
    const GstStructure * s, guint64 kbps, gboolean running,
    guint disconnections)
{
  gboolean connected = FALSE;

  if (running && s)
    gst_structure_get_boolean (s, "connected", &connected);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, out->name);
  json_builder_set_member_name (b, "protocol");
  json_builder_add_string_value (b, mr_protocol_to_string (out->protocol));
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, connected ? "CONNECTED" : "DISCONNECTED");
  json_builder_set_member_name (b, "connected");
  json_builder_add_boolean_value (b, connected);
  json_builder_set_member_name (b, "bitrate_kbps");
  json_builder_add_int_value (b, kbps);
  json_builder_set_member_name (b, "bytes_sent");
  json_builder_add_int_value (b, mr_runner_struct_u64 (s, "bytes-sent"));
  json_builder_set_member_name (b, "packets_sent");
  json_builder_add_int_value (b, mr_runner_struct_u64 (s, "packets-sent"));
  json_builder_set_member_name (b, "disconnections");
  json_builder_add_int_value (b, disconnections);
  if (out->protocol == MR_PROTOCOL_RIST && s
      && gst_structure_has_field (s, "rist"))
    add_raw_stats (b, "rist", gst_value_get_structure
        (gst_structure_get_value (s, "rist")));
  if (mr_runner_protocol_is_srt (out->protocol) && s
      && gst_structure_has_field (s, "srt-rtt-ms")) {
    MrSrtStats st = { 0 };
    gst_structure_get_uint (s, "srt-callers", &st.callers);
    gst_structure_get_double (s, "srt-rtt-ms", &st.rtt_ms);
    gst_structure_get_int64 (s, "srt-lost", &st.lost);
    gst_structure_get_int64 (s, "srt-retransmitted", &st.retransmitted);
    gst_structure_get_int64 (s, "srt-dropped", &st.dropped);
    gst_structure_get_double (s, "srt-rate-mbps", &st.rate_mbps);
    gst_structure_get_int (s, "srt-latency-ms", &st.negotiated_latency_ms);
    add_srt_object (b, &st, TRUE, -1);
  }
  json_builder_end_object (b);
}

static JsonNode *
build_metrics (const MrFlowSpec * spec, MrFlowState state, MrRunner * r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *now = mr_format_time (g_get_real_time ());
  gboolean running = r && r->recipe.pipeline;
  guint active = running ? r->recipe.active_source : mr_recipe_pick_source (spec);
  gint64 uptime = r && r->started_at ?
      (g_get_monotonic_time () - r->started_at) / G_USEC_PER_SEC : 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "flow_id");
  json_builder_add_string_value (b, spec->id);
  json_builder_set_member_name (b, "active_source");
  json_builder_add_string_value (b, running ?
      ((MrEndpoint *) spec->sources->pdata[active])->name : "");
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, mr_flow_state_to_string (state));
  json_builder_set_member_name (b, "uptime_seconds");
  json_builder_add_int_value (b, uptime);
  json_builder_set_member_name (b, "failover_count");
  json_builder_add_int_value (b, r ? r->failover_count : 0);
  json_builder_set_member_name (b, "merge_active");
  json_builder_add_boolean_value (b, mr_runner_merge_active (r));
  mr_runner_add_merge_metrics (b, r);

  json_builder_set_member_name (b, "source_metrics");
  json_builder_begin_array (b);
  for (guint i = 0; i < spec->sources->len; i++) {
    MrEndpoint *src = spec->sources->pdata[i];
    GstStructure *s = NULL;
    guint64 kbps = 0;
    /* in MERGE every running source feeds the output */
    gboolean selected = running && (i == active || (r->recipe.merger
            && r->recipe.source_stats[i]));
    gboolean runs = running && r->recipe.source_stats[i];
    MrSrtStats srt;
    gboolean have_srt = FALSE;
    GstStructure *rist = NULL;

    MrSourceState *st = running ? mr_runner_source_state (r, src->name) :
        NULL;

    if (runs) {
      g_object_get (r->recipe.source_stats[i], "stats", &s, NULL);
      kbps = st->rate.kbps;
      have_srt = mr_runner_source_srt_stats (r, src, &srt);
      if (src->protocol == MR_PROTOCOL_RTP_FEC && s) {
        g_autofree gchar *bin_name = g_strdup_printf ("source-%s", src->name);
        g_autoptr (GstElement) bin = gst_bin_get_by_name (GST_BIN
            (r->recipe.pipeline), bin_name);
        g_autoptr (GstElement) jb = bin ?
            gst_bin_get_by_name (GST_BIN (bin), "jitterbuffer") : NULL;
        GstStructure *jbs = NULL;
        guint64 num_lost = 0;

        if (jb)
          g_object_get (jb, "stats", &jbs, NULL);
        if (jbs && gst_structure_get_uint64 (jbs, "num-lost", &num_lost))
          gst_structure_set (s, "fec-lost", G_TYPE_UINT64, num_lost, NULL);
        g_clear_pointer (&jbs, gst_structure_free);
      }
      if (src->protocol == MR_PROTOCOL_RIST) {
        g_autofree gchar *bin_name = g_strdup_printf ("source-%s", src->name);
        g_autoptr (GstElement) bin = gst_bin_get_by_name (GST_BIN
            (r->recipe.pipeline), bin_name);
        g_autoptr (GstElement) ristsrc = bin ?
            gst_bin_get_by_name (GST_BIN (bin), "ristsrc") : NULL;
        if (ristsrc)
          g_object_get (ristsrc, "stats", &rist, NULL);
      }
    }
    /* totals across the source's lives (rebuilt, new peers) */
    if (running) {
      if (!s)
        s = gst_structure_new_empty ("packetstats");
      gst_structure_set (s,
          "bytes", G_TYPE_UINT64, mr_total_update (&st->bytes,
              mr_runner_struct_u64 (s, "bytes")),
          "packets", G_TYPE_UINT64, mr_total_update (&st->packets,
              mr_runner_struct_u64 (s, "packets")),
          "lost", G_TYPE_UINT64, mr_total_update (&st->lost,
              mr_runner_struct_u64 (s, "lost")), NULL);
      if (have_srt) {
        srt.dropped = mr_total_update (&st->srt_dropped, MAX (srt.dropped,
                0));
        srt.lost = mr_total_update (&st->srt_lost, MAX (srt.lost, 0));
      }
    }
    add_source_metrics (b, src, selected, s, kbps, runs && st->active,
        have_srt ? &srt : NULL, rist,
        running && src->protocol == MR_PROTOCOL_SRT_LISTENER ?
        (gint64) st->callers_refused : -1);
    g_clear_pointer (&s, gst_structure_free);
    g_clear_pointer (&rist, gst_structure_free);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "output_metrics");
  json_builder_begin_array (b);
  for (guint i = 0; i < spec->outputs->len; i++) {
    MrEndpoint *out = spec->outputs->pdata[i];
    GstStructure *s = running ? mr_runner_output_stats (r, out) : NULL;
    MrOutputState *st = running ? mr_runner_output_state (r, out->name) :
        NULL;

    add_output_metrics (b, out, s, st ? st->rate.kbps : 0, running,
        st ? st->disconnections : 0);
    g_clear_pointer (&s, gst_structure_free);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "timestamp");
  json_builder_add_string_value (b, now);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
mr_runner_metrics (MrRunner * r)
{
  return build_metrics (r->spec, r->state, r);
}

JsonNode *
mr_runner_idle_metrics (const MrFlowSpec * spec, MrFlowState state)
{
  return build_metrics (spec, state, NULL);
}
