/* mroute: source monitoring of a running flow: the thumbnail, the stream
 * metadata and the content quality the monitoring branch
 * (monitor.c) reads from the live stream, as the seed's JSON.
 *
 * The branch taps the tee after the selector, so it describes the source
 * the flow runs on; a failover builds it again for the new source. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

#include "monitor/monitor.h"

G_DEFINE_QUARK (mr-runner-error-quark, mr_runner_error);

/* The feature is configured and the flow runs (and so has a monitor) */
static MrMonitor *
monitor_for (MrRunner * r, const gchar * field, gboolean enabled,
    const gchar * what, GError ** error)
{
  if (field && !enabled) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_DISABLED,
        "source_monitor_config.%s: %s disabled for flow '%s'", field, what,
        r->spec->id);
    return NULL;
  }
  if (r->state != MR_FLOW_ACTIVE && r->state != MR_FLOW_STARTING) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_RUNNING,
        "flow '%s' is not running", r->spec->id);
    return NULL;
  }
  return r->monitor;
}

JsonNode *
mr_runner_thumbnail (MrRunner * r, GError ** error)
{
  MrMonitor *m = monitor_for (r, "thumbnail_enabled",
      r->spec->thumbnail_enabled, "thumbnails are", error);
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (GBytes) jpeg = NULL;
  g_autofree gchar *data = NULL;
  g_autofree gchar *ts = NULL;
  gint64 wall = 0;
  gsize size;
  const guint8 *bytes;

  if (!m)
    return NULL;
  if (!(jpeg = mr_monitor_get_thumbnail (m, &wall))) {
    g_autofree gchar *note = mr_monitor_thumbnail_note (m);

    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_READY,
        "flow '%s': no thumbnail yet%s%s", r->spec->id, note ? ": " :
        " (the next key frame makes one)", note ? note : "");
    return NULL;
  }
  bytes = g_bytes_get_data (jpeg, &size);
  data = g_base64_encode (bytes, size);
  ts = mr_format_time (wall);

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "flow_id");
  json_builder_add_string_value (b, r->spec->id);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, data);
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_string_value (b, ts);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
add_int (JsonBuilder * b, const gchar * name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
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
  json_builder_set_member_name (b, "stream_type");
  json_builder_add_string_value (b, mr_monitor_stream_type_to_string
      (st->type));
  json_builder_set_member_name (b, "codec");
  json_builder_add_string_value (b, st->codec ? st->codec : "unknown");
  if (st->type == MR_MONITOR_STREAM_VIDEO) {
    g_autofree gchar *rate = g_strdup_printf ("%d/%d", st->fps_n, st->fps_d);

    if (st->profile) {
      json_builder_set_member_name (b, "profile");
      json_builder_add_string_value (b, st->profile);
    }
    add_int (b, "width", st->width);
    add_int (b, "height", st->height);
    json_builder_set_member_name (b, "frame_rate");
    json_builder_add_string_value (b, rate);
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
mr_runner_stream_metadata (MrRunner * r, GError ** error)
{
  MrMonitor *m = monitor_for (r, NULL, TRUE, NULL, error);
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (GPtrArray) programs = NULL;
  g_autoptr (GPtrArray) streams = NULL;
  g_autofree gchar *source = NULL;

  if (!m)
    return NULL;
  if (!mr_monitor_get_streams (m, &programs, &streams)) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_READY,
        "flow '%s': no stream found yet (waiting for the PAT and PMT of "
        "the source)", r->spec->id);
    return NULL;
  }
  /* the source of the streams shown: after a failover, the new one as
   * soon as its streams are known */
  if (!(source = mr_monitor_get_source (m))) {
    MrEndpoint *src = r->spec->sources->pdata[r->recipe.active_source];
    source = g_strdup (src->name);
  }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "flow_id");
  json_builder_add_string_value (b, r->spec->id);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, source);
  json_builder_set_member_name (b, "programs");
  json_builder_begin_array (b);
  for (guint i = 0; i < programs->len; i++) {
    MrMonitorProgram *p = programs->pdata[i];

    json_builder_begin_object (b);
    add_int (b, "program_id", p->program_id);
    json_builder_set_member_name (b, "program_name");
    json_builder_add_string_value (b, p->program_name ? p->program_name : "");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  for (guint i = 0; i < streams->len; i++)
    add_stream (b, streams->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
mr_runner_content_quality (MrRunner * r, GError ** error)
{
  MrMonitor *m = monitor_for (r, "content_quality_enabled",
      r->spec->content_quality_enabled, "content quality analysis is",
      error);
  g_autoptr (JsonBuilder) b = NULL;
  g_autofree gchar *why = NULL;
  g_autofree gchar *ts = NULL;
  MrContentQuality cq;

  if (!m)
    return NULL;
  if (!mr_monitor_get_content_quality (m, &cq, &why)) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_READY,
        "flow '%s': %s", r->spec->id, why);
    return NULL;
  }
  if (!cq.last_check_time) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_READY,
        "flow '%s': no frame analysed yet", r->spec->id);
    return NULL;
  }
  ts = mr_format_time (cq.last_check_time);

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "black_frame_detected");
  json_builder_add_boolean_value (b, cq.black_frame_detected);
  json_builder_set_member_name (b, "frozen_frame_detected");
  json_builder_add_boolean_value (b, cq.frozen_frame_detected);
  json_builder_set_member_name (b, "silent_audio_detected");
  json_builder_add_boolean_value (b, cq.silent_audio_detected);
  json_builder_set_member_name (b, "video_stream_present");
  json_builder_add_boolean_value (b, cq.video_stream_present);
  json_builder_set_member_name (b, "audio_stream_present");
  json_builder_add_boolean_value (b, cq.audio_stream_present);
  json_builder_set_member_name (b, "last_check_time");
  json_builder_add_string_value (b, ts);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
mr_runner_monitor_source_changed (MrRunner * r)
{
  MrEndpoint *src = r->spec->sources->pdata[r->recipe.active_source];

  if (r->monitor)
    mr_monitor_restart (r->monitor, src->name);
}
