/* mroute: source monitoring of a running flow: the thumbnail, the stream
 * metadata and the content quality the monitoring branch
 * (monitor.c) reads from the live stream, as typed structs
 * (flow-metrics.h) for the api layer to render.
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

MrThumbnail *
mr_runner_thumbnail (MrRunner * r, GError ** error)
{
  MrMonitor *m = monitor_for (r, "thumbnail_enabled",
      r->spec->thumbnail_enabled, "thumbnails are", error);
  MrThumbnail *t;
  g_autoptr (GBytes) jpeg = NULL;
  gint64 wall = 0;

  if (!m)
    return NULL;
  if (!(jpeg = mr_monitor_get_thumbnail (m, &wall))) {
    g_autofree gchar *note = mr_monitor_thumbnail_note (m);

    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_READY,
        "flow '%s': no thumbnail yet%s%s", r->spec->id, note ? ": " :
        " (the next key frame makes one)", note ? note : "");
    return NULL;
  }
  t = g_new0 (MrThumbnail, 1);
  t->flow_id = g_strdup (r->spec->id);
  t->jpeg = g_steal_pointer (&jpeg);
  t->timestamp = wall;
  return t;
}

void
mr_thumbnail_free (MrThumbnail * t)
{
  if (!t)
    return;
  g_free (t->flow_id);
  g_clear_pointer (&t->jpeg, g_bytes_unref);
  g_free (t);
}

MrStreamMetadata *
mr_runner_stream_metadata (MrRunner * r, GError ** error)
{
  MrMonitor *m = monitor_for (r, NULL, TRUE, NULL, error);
  MrStreamMetadata *md;
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
    MrEndpoint *src = r->spec->sources->pdata[r->live.active_source];
    source = g_strdup (src->name);
  }

  md = g_new0 (MrStreamMetadata, 1);
  md->flow_id = g_strdup (r->spec->id);
  md->source = g_steal_pointer (&source);
  md->programs = g_steal_pointer (&programs);
  md->streams = g_steal_pointer (&streams);
  return md;
}

void
mr_stream_metadata_free (MrStreamMetadata * md)
{
  if (!md)
    return;
  g_free (md->flow_id);
  g_free (md->source);
  g_clear_pointer (&md->programs, g_ptr_array_unref);
  g_clear_pointer (&md->streams, g_ptr_array_unref);
  g_free (md);
}

MrContentQuality *
mr_runner_content_quality (MrRunner * r, GError ** error)
{
  MrMonitor *m = monitor_for (r, "content_quality_enabled",
      r->spec->content_quality_enabled, "content quality analysis is",
      error);
  g_autofree gchar *why = NULL;
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
  return g_memdup2 (&cq, sizeof cq);
}

void
mr_runner_monitor_source_changed (MrRunner * r)
{
  MrEndpoint *src = r->spec->sources->pdata[r->live.active_source];

  if (r->monitor)
    mr_monitor_restart (r->monitor, src->name);
}
