/* mroute: the monitor's content quality: the analysis path after the
 * first video and the first audio stream's parser (leaky queue ! DECODER
 * ! blackdetect ! freezedetect, or ! silencedetect), the analysers'
 * element messages, which the bin keeps to itself, and the answer of the
 * getter: black, frozen, silent and which streams carry data now; the
 * alarms (MrContentAlarm) the flow turns into events and metrics. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include <string.h>

static GstPadProbeReturn
on_analysed (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MrMonitorBin *bin = user_data;

  g_mutex_lock (&bin->monitor->lock);
  bin->monitor->last_check = g_get_real_time ();
  g_mutex_unlock (&bin->monitor->lock);
  return GST_PAD_PROBE_OK;
}

/* decoder ! videoconvert ! blackdetect ! freezedetect ! fakesink, at the
 * decoded size with every 4th row and column (cheaper than scaling the
 * frame down first, and the analysers see what FFmpeg's would), or for
 * audio decoder ! audioconvert ! F32LE
 *   ! silencedetect ! fakesink; returns the decoder's factory name, or
 *   NULL */
const gchar *
mr_monitor_add_analysis_path (MrMonitorBin * bin, MrStream * st,
    GstElement * tee, GstCaps * caps, gboolean video)
{
  guint i = st->info.index;
  GstElement *e[10] = { NULL };
  guint n = 0;
  g_autoptr (GstPad) sinkpad = NULL;

  e[n++] = mr_monitor_make_path_queue (i, "cq-queue");
  e[n++] = mr_monitor_make_decoder (caps, i, "cq-decode");
  if (video) {
    e[n++] = mr_monitor_make_named ("videoconvert", i, "cq-convert");
    /* a missing analyzer is reported by the content-quality answer */
    if (mr_monitor_have_element ("blackdetect")) {
      e[n] = mr_monitor_make_named ("blackdetect", i, "cq-black");
      if (e[n] && bin->monitor->config.black_threshold_sec > 0)
        g_object_set (e[n], "min-duration",
            bin->monitor->config.black_threshold_sec, NULL);
      n++;
    }
    if (mr_monitor_have_element ("freezedetect")) {
      e[n] = mr_monitor_make_named ("freezedetect", i, "cq-freeze");
      if (e[n] && bin->monitor->config.frozen_threshold_sec > 0)
        g_object_set (e[n], "duration",
            bin->monitor->config.frozen_threshold_sec, NULL);
      n++;
    }
    for (guint k = 0; k < n; k++)
      if (e[k] && g_object_class_find_property (G_OBJECT_GET_CLASS (e[k]),
              "subsample"))
        g_object_set (e[k], "subsample", ANALYSIS_SUBSAMPLE, NULL);
  } else {
    e[n++] = mr_monitor_make_named ("audioconvert", i, "cq-convert");
    e[n++] = mr_monitor_make_capsfilter (i, "cq-format", "audio/x-raw, "
        "format=(string)F32LE, layout=(string)interleaved");
    if (mr_monitor_have_element ("silencedetect")) {
      e[n] = mr_monitor_make_named ("silencedetect", i, "cq-silence");
      if (e[n] && bin->monitor->config.silent_threshold_sec > 0)
        g_object_set (e[n], "duration",
            bin->monitor->config.silent_threshold_sec, NULL);
      n++;
    }
  }
  e[n++] = mr_monitor_make_quiet_sink ("fakesink", i, "cq-sink");
  if (!mr_monitor_all_made (e, n)) {
    g_warning ("flow %s: monitoring: no content analysis of stream %u: no "
        "decoder or a missing element", bin->monitor->name, i);
    mr_monitor_unref_all (e, n);
    return NULL;
  }
  sinkpad = gst_element_get_static_pad (e[n - 1], "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, on_analysed, bin,
      NULL);
  if (!mr_monitor_add_chain (bin, e, &st->cq_failed)
      || !mr_monitor_link_path (tee, e[0], mr_monitor_path_gate,
          &st->cq_failed))
    return NULL;
  return mr_monitor_factory_name (e[1]);
}

/* ---------------------------------------------------------------------- */
/* the analysers' messages */

static gboolean
detector_says (const MrDetector * d, gint64 now)
{
  return d->inside || (d->ended && now - d->ended < MR_MONITOR_WINDOW_US);
}

static gdouble
threshold_sec (const MrMonitorConfig * config, MrContentKind kind)
{
  switch (kind) {
    case MR_CONTENT_BLACK:
      return config->black_threshold_sec;
    case MR_CONTENT_FROZEN:
      return config->frozen_threshold_sec;
    default:
      return config->silent_threshold_sec;
  }
}

/* A stretch begins ("start" comes once it has lasted its threshold) or
 * ends ("end", with its `duration`); only the running bin's count */
static void
handle_detector (MrMonitorBin * bin, MrDetector * d, MrContentKind kind,
    const GstStructure * s)
{
  MrMonitor *m = bin->monitor;
  MrContentAlarm *alarm = &m->alarms[kind];
  const gchar *event = gst_structure_get_string (s, "event");
  gint64 now = g_get_real_time ();
  GstClockTime duration;

  if (!event)
    return;
  g_mutex_lock (&m->lock);
  if (g_str_equal (event, "start")) {
    d->inside = TRUE;
    if (m->bin == bin && !alarm->inside) {
      alarm->inside = TRUE;
      alarm->started++;
      alarm->since = now - (gint64) (threshold_sec (&m->config, kind) *
          G_USEC_PER_SEC);
    }
  } else if (g_str_equal (event, "end")) {
    d->inside = FALSE;
    d->ended = g_get_monotonic_time ();
    if (m->bin == bin && alarm->inside) {
      alarm->inside = FALSE;
      alarm->ended++;
      if (gst_structure_get_uint64 (s, "duration", &duration)
          && GST_CLOCK_TIME_IS_VALID (duration))
        alarm->last_duration = GST_TIME_AS_USECONDS (duration);
      else
        alarm->last_duration = now - alarm->since;
    }
  }
  g_mutex_unlock (&m->lock);
}

void
mr_monitor_end_alarms_locked (MrMonitor * m)
{
  gint64 now = g_get_real_time ();

  for (guint k = 0; k < MR_CONTENT_N_KINDS; k++) {
    MrContentAlarm *alarm = &m->alarms[k];

    if (!alarm->inside)
      continue;
    alarm->inside = FALSE;
    alarm->ended++;
    alarm->last_duration = now - alarm->since;
  }
}

/* An analyser's element message, in the thread that posts it */
gboolean
mr_monitor_content_quality_message (MrMonitorBin * bin,
    const GstStructure * s)
{
  if (gst_structure_has_name (s, "blackdetect"))
    handle_detector (bin, &bin->black, MR_CONTENT_BLACK, s);
  else if (gst_structure_has_name (s, "freezedetect"))
    handle_detector (bin, &bin->frozen, MR_CONTENT_FROZEN, s);
  else if (gst_structure_has_name (s, "silencedetect"))
    handle_detector (bin, &bin->silent, MR_CONTENT_SILENT, s);
  else
    return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the getter */

gboolean
mr_monitor_get_content_quality (MrMonitor * m, MrContentQuality * cq,
    gchar ** why)
{
  gint64 now = g_get_monotonic_time ();
  MrMonitorBin *bin;

  memset (cq, 0, sizeof (*cq));
  if (m->cq_missing) {
    *why = g_strdup_printf ("content analysis is not available: the "
        "GStreamer element '%s' is missing", m->cq_missing);
    return FALSE;
  }
  g_mutex_lock (&m->lock);
  cq->last_check_time = m->last_check;
  bin = m->shown;
  if (bin) {
    cq->black_frame_detected = detector_says (&bin->black, now);
    cq->frozen_frame_detected = detector_says (&bin->frozen, now);
    cq->silent_audio_detected = detector_says (&bin->silent, now);
    for (guint i = 0; i < bin->streams->len; i++) {
      MrStream *st = bin->streams->pdata[i];
      gboolean fresh = st->last_data
          && now - st->last_data < MR_MONITOR_WINDOW_US;

      if (st->info.type == MR_MONITOR_STREAM_VIDEO)
        cq->video_stream_present |= fresh;
      else if (st->info.type == MR_MONITOR_STREAM_AUDIO)
        cq->audio_stream_present |= fresh;
    }
  }
  g_mutex_unlock (&m->lock);
  return TRUE;
}

const gchar *
mr_content_kind_to_string (MrContentKind kind)
{
  static const gchar *names[] = { "black", "frozen", "silent" };

  g_return_val_if_fail (kind < MR_CONTENT_N_KINDS, "unknown");
  return names[kind];
}

void
mr_monitor_get_alarms (MrMonitor * m,
    MrContentAlarm alarms[MR_CONTENT_N_KINDS])
{
  g_mutex_lock (&m->lock);
  memcpy (alarms, m->alarms, sizeof (m->alarms));
  g_mutex_unlock (&m->lock);
}
