/* mroute: where the monitor makes a thumbnail: the path after a video
 * stream's parser (key frames only, when one is due ! leaky queue !
 * DECODER ! videoscale to 320 wide ! videoconvert ! jpegenc ! appsink),
 * the newest JPEG kept in the monitor across rebuilds of its bin, and
 * the getters that read it.  With thumbnails alone (no content analysis),
 * the bin's demuxer and parser do not run all the time either: the
 * in-place reader answers for the streams and mr_monitor_thumbnail_feed ()
 * lets the TS into the bin only around the time a thumbnail is due. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include <gst/app/gstappsink.h>

/* A thumbnail is due this long before its interval is over: key frames do
 * not arrive on the microsecond */
static gint64
thumbnail_slack (MrMonitor * m)
{
  return MIN (G_USEC_PER_SEC / 2,
      (gint64) m->config.thumbnail_interval_sec * G_USEC_PER_SEC / 4);
}

/* Thumbnails decode key frames only, and only when one is due: the first
 * key frame `thumbnail_interval_sec` after the one of the last thumbnail.
 * Until the decoder has made one, every key frame goes in (a decoder with
 * a reordering delay needs more than one). */
static GstPadProbeReturn
thumbnail_gate (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MrStream *st = user_data;
  MrMonitor *m = st->bin->monitor;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = g_get_monotonic_time ();
  gboolean due;

  if (g_atomic_int_get (&st->thumb_failed)
      || GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_DROP;
  g_mutex_lock (&m->lock);
  due = now >= m->thumbnail_due;
  if (due && !m->thumbnail_opened)
    m->thumbnail_opened = now;
  g_mutex_unlock (&m->lock);
  return due ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

static GstFlowReturn
on_thumbnail (GstAppSink * sink, gpointer user_data)
{
  MrStream *st = user_data;
  MrMonitor *m = st->bin->monitor;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GBytes *jpeg, *old;
  GstMapInfo map;
  gint64 since;

  if (!buf || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  jpeg = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  g_mutex_lock (&m->lock);
  old = m->thumbnail;
  m->thumbnail = jpeg;
  m->thumbnail_time = g_get_real_time ();
  /* counted from the key frame's arrival, not from the decoder's output */
  since = m->thumbnail_opened ? m->thumbnail_opened : g_get_monotonic_time ();
  m->thumbnail_due = since + (gint64) m->config.thumbnail_interval_sec *
      G_USEC_PER_SEC - thumbnail_slack (m);
  m->thumbnail_opened = 0;
  g_mutex_unlock (&m->lock);
  if (old)
    g_bytes_unref (old);
  return GST_FLOW_OK;
}

void
mr_monitor_set_thumbnail_note (MrMonitor * m, const gchar * note)
{
  g_mutex_lock (&m->lock);
  g_free (m->thumbnail_note);
  m->thumbnail_note = g_strdup (note);
  g_mutex_unlock (&m->lock);
}

/* How long before a thumbnail is due the bin gets the TS again: tsdemux
 * and the parser find their feet (the PES in progress, the parameter sets)
 * before the first key frame that may be due */
#define FEED_LEAD_US (G_USEC_PER_SEC / 2)

GstPadProbeReturn
mr_monitor_thumbnail_feed (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  MrMonitor *m = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean open;

  /* open until the first thumbnail, then from shortly before each is due
   * until it is made (on_thumbnail moves thumbnail_due on) */
  g_mutex_lock (&m->lock);
  open = !m->thumbnail_due || now >= m->thumbnail_due - FEED_LEAD_US;
  g_mutex_unlock (&m->lock);
  return open ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* decoder ! videoscale ! 320 wide ! videoconvert ! jpegenc ! appsink;
 * returns the decoder's factory name, or NULL */
const gchar *
mr_monitor_add_thumbnail_path (MrMonitorBin * bin, MrStream * st,
    GstElement * tee, GstCaps * caps)
{
  guint i = st->info.index;
  GstElement *dec = mr_monitor_make_decoder (caps, i, "thumb-decode");
  g_autofree gchar *scaled = g_strdup_printf ("video/x-raw, width=(int)%d, "
      "pixel-aspect-ratio=(fraction)1/1", THUMBNAIL_WIDTH);
  GstElement *e[] = {
    mr_monitor_make_path_queue (i, "thumb-queue"), dec,
    mr_monitor_make_named ("videoscale", i, "thumb-scale"),
    mr_monitor_make_capsfilter (i, "thumb-size", scaled),
    mr_monitor_make_named ("videoconvert", i, "thumb-convert"),
    mr_monitor_make_named ("jpegenc", i, "thumb-jpeg"),
    mr_monitor_make_quiet_sink ("appsink", i, "thumb-sink"), NULL
  };
  GstAppSinkCallbacks callbacks = {.new_sample = on_thumbnail };
  g_autofree gchar *caps_str = gst_caps_to_string (caps);

  if (!dec) {
    g_autofree gchar *note = g_strdup_printf ("no decoder for %s", caps_str);
    mr_monitor_set_thumbnail_note (bin->monitor, note);
    mr_monitor_unref_all (e, G_N_ELEMENTS (e) - 1);
    return NULL;
  }
  if (!mr_monitor_all_made (e, G_N_ELEMENTS (e) - 1)) {
    mr_monitor_set_thumbnail_note (bin->monitor, "a GStreamer element of "
        "the thumbnail path is missing (videoscale, videoconvert, jpegenc, "
        "appsink)");
    mr_monitor_unref_all (e, G_N_ELEMENTS (e) - 1);
    return NULL;
  }
  g_object_set (e[6], "max-buffers", 1, "drop", TRUE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (e[6]), &callbacks, st, NULL);
  if (!mr_monitor_add_chain (bin, e, &st->thumb_failed)
      || !mr_monitor_link_path (tee, e[0], thumbnail_gate, st))
    return NULL;
  mr_monitor_set_thumbnail_note (bin->monitor, NULL);
  return mr_monitor_factory_name (dec);
}

/* ---------------------------------------------------------------------- */
/* the getters */

GBytes *
mr_monitor_get_thumbnail (MrMonitor * m, gint64 * wall_time)
{
  GBytes *jpeg;

  g_mutex_lock (&m->lock);
  jpeg = m->thumbnail ? g_bytes_ref (m->thumbnail) : NULL;
  *wall_time = m->thumbnail_time;
  g_mutex_unlock (&m->lock);
  return jpeg;
}

gchar *
mr_monitor_thumbnail_note (MrMonitor * m)
{
  gchar *note;

  g_mutex_lock (&m->lock);
  note = g_strdup (m->thumbnail_note);
  g_mutex_unlock (&m->lock);
  return note;
}
