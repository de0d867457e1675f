/* mroute: the monitoring branch, one elementary stream at a time: the
 * parser tsdemux's pad gets, the probe that reads caps, bit rate and
 * picture types after it, and the decoding paths for thumbnails and
 * content analysis; and the SDT, which tsdemux does not read. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include <gst/app/gstappsink.h>
#include <gst/mpegts/mpegts.h>
#include <string.h>

void
mr_monitor_stream_free_private (MrStream * st)
{
  g_free (st->info.codec);
  g_free (st->info.profile);
  g_free (st);
}

/* ---------------------------------------------------------------------- */
/* what the parsers say */

static gchar *
codec_name (const GstStructure * s, MrVideoCodec * video)
{
  const gchar *n = gst_structure_get_name (s);
  const gchar *format = gst_structure_get_string (s, "stream-format");
  gint version = 0, layer = 0;

  *video = MR_VIDEO_CODEC_UNKNOWN;
  gst_structure_get_int (s, "mpegversion", &version);
  gst_structure_get_int (s, "layer", &layer);
  if (g_str_equal (n, "video/x-h264")) {
    *video = MR_VIDEO_CODEC_H264;
    return g_strdup ("h264");
  }
  if (g_str_equal (n, "video/x-h265")) {
    *video = MR_VIDEO_CODEC_HEVC;
    return g_strdup ("hevc");
  }
  if (g_str_equal (n, "video/x-av1")) {
    *video = MR_VIDEO_CODEC_AV1;
    return g_strdup ("av1");
  }
  if (g_str_equal (n, "video/mpeg")) {
    if (version == 1 || version == 2)
      *video = MR_VIDEO_CODEC_MPEG2;
    return g_strdup (version == 1 ? "mpeg1video" : version == 4 ? "mpeg4" :
        "mpeg2video");
  }
  if (g_str_equal (n, "audio/mpeg")) {
    if (version == 1)
      return g_strdup_printf ("mp%d", layer ? layer : 2);
    return g_strdup (g_strcmp0 (format, "loas") == 0 ? "aac_latm" : "aac");
  }
  {
    static const gchar *names[][2] = {
      {"audio/x-ac3", "ac3"}, {"audio/x-eac3", "eac3"}, {"audio/x-dts", "dts"},
      {"audio/x-opus", "opus"}, {"audio/x-true-hd", "truehd"},
      {"audio/x-private-ts-lpcm", "pcm_bluray"}, {"video/x-cavs", "cavs"},
      {"video/x-dirac", "dirac"}, {"video/x-wmv", "vc1"},
      {"image/x-jpc", "jpeg2000"}, {"image/x-jxsc", "jpegxs"},
      {"subpicture/x-dvb", "dvb_subtitle"}, {"private/teletext",
          "dvb_teletext"}, {"meta/x-klv", "klv"},
      {"application/x-scte-35", "scte_35"},
    };
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      if (g_str_equal (n, names[i][0]))
        return g_strdup (names[i][1]);
  }
  return g_strdup (n);
}

/* "constrained-baseline" -> "Constrained Baseline", "main-10" -> "Main 10":
 * ffprobe's spelling */
static gchar *
profile_name (const gchar * caps_profile)
{
  gchar *p;
  gboolean word_start = TRUE;

  if (!caps_profile)
    return NULL;
  p = g_strdup (caps_profile);
  for (gchar * c = p; *c; c++) {
    if (*c == '-') {
      *c = ' ';
      word_start = TRUE;
    } else {
      if (word_start)
        *c = g_ascii_toupper (*c);
      word_start = FALSE;
    }
  }
  return p;
}

static MrMonitorStreamType
stream_type_of (const gchar * media_type)
{
  if (g_str_has_prefix (media_type, "video/")
      || g_str_has_prefix (media_type, "image/"))
    return MR_MONITOR_STREAM_VIDEO;
  if (g_str_has_prefix (media_type, "audio/"))
    return MR_MONITOR_STREAM_AUDIO;
  if (g_str_has_prefix (media_type, "subpicture/")
      || g_str_has_prefix (media_type, "private/teletext"))
    return MR_MONITOR_STREAM_SUBTITLE;
  return MR_MONITOR_STREAM_DATA;
}

/* under the lock */
static void
stream_set_caps (MrStream * st, GstCaps * caps)
{
  const GstStructure *s;
  MrMonitorStream *info = &st->info;

  if (!caps || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return;
  s = gst_caps_get_structure (caps, 0);
  info->type = stream_type_of (gst_structure_get_name (s));
  g_free (info->codec);
  info->codec = codec_name (s, &st->codec);
  info->has_gop = st->codec != MR_VIDEO_CODEC_UNKNOWN;
  g_free (info->profile);
  info->profile = profile_name (gst_structure_get_string (s, "profile"));
  gst_structure_get_int (s, "width", &info->width);
  gst_structure_get_int (s, "height", &info->height);
  if (!gst_structure_get_fraction (s, "framerate", &info->fps_n,
          &info->fps_d) || info->fps_n == 0)
    info->fps_n = info->fps_d = 0;
  gst_structure_get_int (s, "channels", &info->channels);
  gst_structure_get_int (s, "rate", &info->sample_rate);
}

static void
stream_count (MrStream * st, GstBuffer * buf)
{
  MrVideoCodec codec = st->codec;
  MrFrameType type = MR_FRAME_UNKNOWN;
  gboolean keyframe = FALSE;
  gint64 now = g_get_monotonic_time ();
  gsize size = gst_buffer_get_size (buf);

  /* frame-types.h reads the headers of the picture, no decoding */
  if (codec != MR_VIDEO_CODEC_UNKNOWN) {
    GstMapInfo map;

    if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
      type = mr_frame_type_parse (codec, map.data, map.size, &keyframe);
      gst_buffer_unmap (buf, &map);
    }
  }

  g_mutex_lock (&st->bin->monitor->lock);
  st->last_data = now;
  if (codec != MR_VIDEO_CODEC_UNKNOWN)
    mr_gop_stats_add (&st->info.gop, type, keyframe);
  if (!st->window_start) {
    st->window_start = now;
  } else if (now - st->window_start >= BITRATE_WINDOW_US) {
    st->info.bit_rate = st->window_bytes * 8 * G_USEC_PER_SEC /
        (now - st->window_start);
    st->window_bytes = 0;
    st->window_start = now;
  }
  st->window_bytes += size;
  g_mutex_unlock (&st->bin->monitor->lock);
}

static gboolean
count_list_item (GstBuffer ** buf, guint idx, gpointer user_data)
{
  stream_count (user_data, *buf);
  return TRUE;
}

/* A new bin's streams replace the old one's once the first of them is
 * known (parsed caps): until then, the answers are the old bin's */
static void
show_bin (MrMonitorBin * bin)
{
  MrMonitor *m = bin->monitor;
  MrMonitorBin *old = NULL;

  g_mutex_lock (&m->lock);
  if (m->shown != bin && m->bin == bin) {
    old = m->shown;
    m->shown = gst_object_ref (bin);
  }
  g_mutex_unlock (&m->lock);
  if (old)
    gst_object_unref (old);
}

/* After the parser: caps, bit rate tags and every picture */
static GstPadProbeReturn
on_parsed (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MrStream *st = user_data;
  MrMonitor *m = st->bin->monitor;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    stream_count (st, GST_PAD_PROBE_INFO_BUFFER (info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        count_list_item, st);
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    GstCaps *caps;
    GstTagList *tags;
    guint rate = 0;

    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
      gst_event_parse_caps (event, &caps);
      g_mutex_lock (&m->lock);
      stream_set_caps (st, caps);
      g_mutex_unlock (&m->lock);
      show_bin (st->bin);
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_TAG) {
      gst_event_parse_tag (event, &tags);
      if (gst_tag_list_get_uint (tags, GST_TAG_NOMINAL_BITRATE, &rate)
          || gst_tag_list_get_uint (tags, GST_TAG_BITRATE, &rate)) {
        g_mutex_lock (&m->lock);
        st->tag_bitrate = rate;
        g_mutex_unlock (&m->lock);
      }
    }
  }
  return GST_PAD_PROBE_OK;
}

/* ---------------------------------------------------------------------- */
/* the decoding paths */

/* The best software decoder for @caps, NULL if there is none */
static GstElement *
make_decoder (GstCaps * caps, guint index, const gchar * what)
{
  g_autofree gchar *name = g_strdup_printf ("s%u-%s", index, what);
  GList *all = gst_element_factory_list_get_elements
      (GST_ELEMENT_FACTORY_TYPE_DECODER, GST_RANK_MARGINAL);
  GList *fit = gst_element_factory_list_filter (all, caps, GST_PAD_SINK,
      FALSE);
  GstElement *dec = NULL;

  fit = g_list_sort (fit, gst_plugin_feature_rank_compare_func);
  for (GList * l = fit; l && !dec; l = l->next) {
    GstElementFactory *f = l->data;
    const gchar *klass = gst_element_factory_get_metadata (f,
        GST_ELEMENT_METADATA_KLASS);

    if (klass && strstr (klass, "Hardware"))
      continue;
    dec = gst_element_factory_create (f, name);
  }
  gst_plugin_feature_list_free (fit);
  gst_plugin_feature_list_free (all);
  if (!dec)
    return NULL;
  /* one thread per decoder, and corrupt input is not a reason to stop */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (dec), "max-threads"))
    g_object_set (dec, "max-threads", 1, NULL);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (dec), "max-errors"))
    g_object_set (dec, "max-errors", -1, NULL);
  return dec;
}

static GstElement *
make_named (const gchar * factory, guint index, const gchar * what)
{
  g_autofree gchar *name = g_strdup_printf ("s%u-%s", index, what);
  return gst_element_factory_make (factory, name);
}

static GstElement *
make_capsfilter (guint index, const gchar * what, const gchar * caps_str)
{
  GstElement *f = make_named ("capsfilter", index, what);
  g_autoptr (GstCaps) caps = gst_caps_from_string (caps_str);

  if (f)
    g_object_set (f, "caps", caps, NULL);
  return f;
}

/* A sink that does not count as one of the bin's: the bin's end of stream
 * is its entry's alone */
static GstElement *
make_quiet_sink (const gchar * factory, guint index, const gchar * what)
{
  GstElement *sink = make_named (factory, index, what);

  if (!sink)
    return NULL;
  g_object_set (sink, "sync", FALSE, "async", FALSE, "enable-last-sample",
      FALSE, NULL);
  GST_OBJECT_FLAG_UNSET (sink, GST_ELEMENT_FLAG_SINK);
  return sink;
}

/* Adds @elements (NULL-terminated, none NULL) to the bin and links them in
 * a row; on failure removes them again. */
static gboolean
add_chain (MrMonitorBin * bin, GstElement ** elements, gint * path_flag)
{
  guint n = 0;

  while (elements[n])
    n++;
  for (guint i = 0; i < n; i++) {
    if (path_flag)
      g_object_set_qdata (G_OBJECT (elements[i]), mr_monitor_path_quark (),
          path_flag);
    gst_bin_add (GST_BIN (bin), elements[i]);
  }
  for (guint i = 0; i + 1 < n; i++) {
    if (!gst_element_link (elements[i], elements[i + 1])) {
      g_warning ("flow %s: monitoring: cannot link %s to %s",
          bin->monitor->name, GST_ELEMENT_NAME (elements[i]),
          GST_ELEMENT_NAME (elements[i + 1]));
      for (guint j = 0; j < n; j++)
        gst_bin_remove (GST_BIN (bin), elements[j]);
      return FALSE;
    }
  }
  /* downstream first: nothing may push into an element not running */
  for (guint i = n; i > 0; i--)
    gst_element_sync_state_with_parent (elements[i - 1]);
  return TRUE;
}

static void
unref_all (GstElement ** elements, guint n)
{
  for (guint i = 0; i < n; i++)
    if (elements[i])
      gst_object_unref (gst_object_ref_sink (elements[i]));
}

static gboolean
all_made (GstElement ** elements, guint n)
{
  for (guint i = 0; i < n; i++)
    if (!elements[i])
      return FALSE;
  return TRUE;
}

static GstElement *
make_path_queue (guint index, const gchar * what)
{
  GstElement *q = make_named ("queue", index, what);

  if (q)
    g_object_set (q, "leaky", 2 /* downstream: drop the oldest */ ,
        "max-size-time", (guint64) PATH_MAX_TIME, "max-size-bytes",
        (guint) PATH_MAX_BYTES, "max-size-buffers", 0, NULL);
  return q;
}

/* In front of a decoding path: a path that failed takes nothing more */
static GstPadProbeReturn
path_gate (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  gint *failed = user_data;

  return g_atomic_int_get (failed) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

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

static GstPadProbeReturn
on_analysed (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MrMonitorBin *bin = user_data;

  g_mutex_lock (&bin->monitor->lock);
  bin->monitor->last_check = g_get_real_time ();
  g_mutex_unlock (&bin->monitor->lock);
  return GST_PAD_PROBE_OK;
}

static void
set_thumbnail_note (MrMonitor * m, const gchar * note)
{
  g_mutex_lock (&m->lock);
  g_free (m->thumbnail_note);
  m->thumbnail_note = g_strdup (note);
  g_mutex_unlock (&m->lock);
}

/* Links a decoding path (its first element is its queue) to @tee, with
 * @gate in front of the queue. */
static gboolean
link_path (GstElement * tee, GstElement * queue, GstPadProbeCallback gate,
    gpointer gate_data)
{
  GstPad *teepad = gst_element_request_pad_simple (tee, "src_%u");
  g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (queue, "sink");
  gboolean ok;

  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, gate, gate_data,
      NULL);
  ok = gst_pad_link (teepad, sinkpad) == GST_PAD_LINK_OK;
  gst_object_unref (teepad);
  return ok;
}

static const gchar *
factory_name (GstElement * e)
{
  return GST_OBJECT_NAME (gst_element_get_factory (e));
}

/* decoder ! videoscale ! 320 wide ! videoconvert ! jpegenc ! appsink;
 * returns the decoder's factory name, or NULL */
static const gchar *
add_thumbnail_path (MrMonitorBin * bin, MrStream * st, GstElement * tee,
    GstCaps * caps)
{
  guint i = st->info.index;
  GstElement *dec = make_decoder (caps, i, "thumb-decode");
  g_autofree gchar *scaled = g_strdup_printf ("video/x-raw, width=(int)%d, "
      "pixel-aspect-ratio=(fraction)1/1", THUMBNAIL_WIDTH);
  GstElement *e[] = {
    make_path_queue (i, "thumb-queue"), dec,
    make_named ("videoscale", i, "thumb-scale"),
    make_capsfilter (i, "thumb-size", scaled),
    make_named ("videoconvert", i, "thumb-convert"),
    make_named ("jpegenc", i, "thumb-jpeg"),
    make_quiet_sink ("appsink", i, "thumb-sink"), NULL
  };
  GstAppSinkCallbacks callbacks = {.new_sample = on_thumbnail };
  g_autofree gchar *caps_str = gst_caps_to_string (caps);

  if (!dec) {
    g_autofree gchar *note = g_strdup_printf ("no decoder for %s", caps_str);
    set_thumbnail_note (bin->monitor, note);
    unref_all (e, G_N_ELEMENTS (e) - 1);
    return NULL;
  }
  if (!all_made (e, G_N_ELEMENTS (e) - 1)) {
    set_thumbnail_note (bin->monitor, "a GStreamer element of the thumbnail "
        "path is missing (videoscale, videoconvert, jpegenc, appsink)");
    unref_all (e, G_N_ELEMENTS (e) - 1);
    return NULL;
  }
  g_object_set (e[6], "max-buffers", 1, "drop", TRUE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (e[6]), &callbacks, st, NULL);
  if (!add_chain (bin, e, &st->thumb_failed)
      || !link_path (tee, e[0], thumbnail_gate, st))
    return NULL;
  set_thumbnail_note (bin->monitor, NULL);
  return factory_name (dec);
}

/* decoder ! videoconvert ! blackdetect ! freezedetect ! fakesink, at the
 * decoded size with every 4th row and column (cheaper than scaling the
 * frame down first, and the analysers see what FFmpeg's would), or for
 * audio decoder ! audioconvert ! F32LE
 *   ! silencedetect ! fakesink; returns the decoder's factory name, or
 *   NULL */
static const gchar *
add_analysis_path (MrMonitorBin * bin, MrStream * st, GstElement * tee,
    GstCaps * caps, gboolean video)
{
  guint i = st->info.index;
  GstElement *e[10] = { NULL };
  guint n = 0;
  g_autoptr (GstPad) sinkpad = NULL;

  e[n++] = make_path_queue (i, "cq-queue");
  e[n++] = make_decoder (caps, i, "cq-decode");
  if (video) {
    e[n++] = make_named ("videoconvert", i, "cq-convert");
    /* a missing analyzer is reported by the content-quality answer */
    if (mr_monitor_have_element ("blackdetect"))
      e[n++] = make_named ("blackdetect", i, "cq-black");
    if (mr_monitor_have_element ("freezedetect"))
      e[n++] = make_named ("freezedetect", i, "cq-freeze");
    for (guint k = 0; k < n; k++)
      if (e[k] && g_object_class_find_property (G_OBJECT_GET_CLASS (e[k]),
              "subsample"))
        g_object_set (e[k], "subsample", ANALYSIS_SUBSAMPLE, NULL);
  } else {
    e[n++] = make_named ("audioconvert", i, "cq-convert");
    e[n++] = make_capsfilter (i, "cq-format", "audio/x-raw, "
        "format=(string)F32LE, layout=(string)interleaved");
    if (mr_monitor_have_element ("silencedetect"))
      e[n++] = make_named ("silencedetect", i, "cq-silence");
  }
  e[n++] = make_quiet_sink ("fakesink", i, "cq-sink");
  if (!all_made (e, n)) {
    g_warning ("flow %s: monitoring: no content analysis of stream %u: no "
        "decoder or a missing element", bin->monitor->name, i);
    unref_all (e, n);
    return NULL;
  }
  sinkpad = gst_element_get_static_pad (e[n - 1], "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, on_analysed, bin,
      NULL);
  if (!add_chain (bin, e, &st->cq_failed)
      || !link_path (tee, e[0], path_gate, &st->cq_failed))
    return NULL;
  return factory_name (e[1]);
}

/* ---------------------------------------------------------------------- */
/* a new elementary stream */

static GstElement *
make_parser (const GstStructure * s, guint index, const gchar ** out_caps)
{
  const gchar *n = gst_structure_get_name (s);
  gint version = 0;

  *out_caps = NULL;
  gst_structure_get_int (s, "mpegversion", &version);
  if (g_str_equal (n, "video/x-h264")) {
    *out_caps = "video/x-h264, stream-format=(string)byte-stream, "
        "alignment=(string)au";
    return make_named ("h264parse", index, "parse");
  }
  if (g_str_equal (n, "video/x-h265")) {
    *out_caps = "video/x-h265, stream-format=(string)byte-stream, "
        "alignment=(string)au";
    return make_named ("h265parse", index, "parse");
  }
  if (g_str_equal (n, "video/x-av1")) {
    *out_caps = "video/x-av1, stream-format=(string)obu-stream, "
        "alignment=(string)tu";
    return make_named ("av1parse", index, "parse");
  }
  if (g_str_equal (n, "video/mpeg"))
    return make_named (version == 4 ? "mpeg4videoparse" : "mpegvideoparse",
        index, "parse");
  if (g_str_equal (n, "audio/mpeg"))
    return make_named (version == 1 ? "mpegaudioparse" : "aacparse", index,
        "parse");
  if (g_str_equal (n, "audio/x-ac3") || g_str_equal (n, "audio/x-eac3"))
    return make_named ("ac3parse", index, "parse");
  if (g_str_equal (n, "audio/x-dts"))
    return make_named ("dcaparse", index, "parse");
  if (g_str_equal (n, "audio/x-opus"))
    return make_named ("opusparse", index, "parse");
  return NULL;
}

/* tsdemux found a stream of its program: its parser, the probe that reads
 * it, and the decoding paths the configuration asks for (on the first
 * video and the first audio stream). */
void
mr_monitor_stream_added (GstElement * demux, GstPad * pad, gpointer user_data)
{
  MrMonitorBin *bin = user_data;
  MrMonitor *m = bin->monitor;
  MrStream *st = g_new0 (MrStream, 1);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstElement *parser, *filter = NULL, *tee = NULL, *last, *sink;
  const gchar *parsed_caps;
  const GstStructure *s;
  g_autoptr (GstPad) src = NULL;
  g_autoptr (GstPad) sinkpad = NULL;
  const gchar *thumb_decoder = NULL, *cq_decoder = NULL;
  gboolean video, audio, thumbs, cq;
  guint index;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  st->bin = bin;
  g_mutex_lock (&m->lock);
  index = st->info.index = bin->streams->len;
  stream_set_caps (st, caps);
  g_ptr_array_add (bin->streams, st);
  g_mutex_unlock (&m->lock);

  s = gst_caps_is_empty (caps) || gst_caps_is_any (caps) ? NULL :
      gst_caps_get_structure (caps, 0);
  video = s && st->info.type == MR_MONITOR_STREAM_VIDEO;
  audio = s && st->info.type == MR_MONITOR_STREAM_AUDIO;
  parsed_caps = NULL;
  parser = s ? make_parser (s, index, &parsed_caps) : NULL;
  if (parser) {
    last = parser;
    if (parsed_caps) {
      filter = make_capsfilter (index, "parsed", parsed_caps);
      last = filter;
    }
    /* parameter sets in front of every key frame: a decoder that only
     * sees key frames can start on any of them */
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (parser),
            "config-interval"))
      g_object_set (parser, "config-interval", -1, NULL);
  } else {
    last = NULL;
  }

  /* the first video and the first audio stream get the decoding paths */
  thumbs = parser && video && !bin->video_taken && m->config.thumbnails;
  cq = parser && m->config.content_quality
      && ((video && !bin->video_taken) || (audio && !bin->audio_taken));
  if (video && m->config.thumbnails && !parser && !bin->video_taken)
    set_thumbnail_note (m, "no parser for this video codec");
  if (video && parser)
    bin->video_taken = TRUE;
  if (audio && parser)
    bin->audio_taken = TRUE;

  if (thumbs || cq) {
    tee = make_named ("tee", index, "split");
    g_object_set (tee, "allow-not-linked", TRUE, NULL);
    sink = NULL;
  } else {
    sink = make_quiet_sink ("fakesink", index, "sink");
  }

  {
    GstElement *chain[] = { parser, filter, tee ? tee : sink, NULL };
    GstElement *row[4] = { NULL };
    guint n = 0;

    for (guint i = 0; i < G_N_ELEMENTS (chain) - 1; i++)
      if (chain[i])
        row[n++] = chain[i];
    if (!row[0] || !add_chain (bin, row, NULL))
      return;
    sinkpad = gst_element_get_static_pad (row[0], "sink");
    src = last ? gst_element_get_static_pad (last, "src") :
        gst_object_ref (pad);
  }
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      on_parsed, st, NULL);
  if (thumbs)
    thumb_decoder = add_thumbnail_path (bin, st, tee, caps);
  if (cq)
    cq_decoder = add_analysis_path (bin, st, tee, caps, video);
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_warning ("flow %s: monitoring: cannot link stream %u (%s)", m->name,
        index, st->info.codec);
  if (!parser)
    show_bin (bin);
  g_message ("flow %s: monitoring stream %u: %s %s: %s, thumbnails: %s, "
      "analysis: %s", m->name, index, mr_monitor_stream_type_to_string
      (st->info.type), st->info.codec ? st->info.codec : "?", parser ?
      factory_name (parser) : "no parser", thumb_decoder ? thumb_decoder :
      "off", cq_decoder ? cq_decoder : "off");
}

/* ---------------------------------------------------------------------- */
/* the SDT: service names of the programs */

#define TS_PACKET 188
#define SDT_PID 0x11
#define SECTION_MAX 4096

/* under no lock: the names table takes the lock */
static void
sdt_names (MrMonitorBin * bin, const guint8 * data, gsize size)
{
  MrMonitor *m = bin->monitor;
  GstMpegtsSection *section;
  const GstMpegtsSDT *sdt;

  if (size < 3 || data[0] != GST_MTS_TABLE_ID_SERVICE_DESCRIPTION_ACTUAL_TS)
    return;
  /* the same section again (it repeats every few hundred ms) */
  if (bin->sdt_last && g_bytes_get_size (bin->sdt_last) == size
      && memcmp (g_bytes_get_data (bin->sdt_last, NULL), data, size) == 0)
    return;
  g_clear_pointer (&bin->sdt_last, g_bytes_unref);
  bin->sdt_last = g_bytes_new (data, size);
  section = gst_mpegts_section_new (SDT_PID, g_memdup2 (data, size), size);
  if (!section)
    return;
  if ((sdt = gst_mpegts_section_get_sdt (section))) {
    g_mutex_lock (&m->lock);
    for (guint i = 0; i < sdt->services->len; i++) {
      GstMpegtsSDTService *svc = sdt->services->pdata[i];
      const GstMpegtsDescriptor *desc =
          gst_mpegts_find_descriptor (svc->descriptors,
          GST_MTS_DESC_DVB_SERVICE);
      gchar *name = NULL;

      if (desc && gst_mpegts_descriptor_parse_dvb_service (desc, NULL, &name,
              NULL) && name)
        g_hash_table_replace (bin->program_names,
            GUINT_TO_POINTER (svc->service_id), name);
      else
        g_free (name);
    }
    g_mutex_unlock (&m->lock);
  }
  gst_mpegts_section_unref (section);
}

/* Sections that are complete in bin->sdt are read and dropped */
static void
sdt_take_sections (MrMonitorBin * bin)
{
  while (bin->sdt_open && bin->sdt->len >= 3) {
    const guint8 *d = bin->sdt->data;
    guint total;

    if (d[0] == 0xFF) {         /* stuffing: nothing more in this packet */
      bin->sdt_open = FALSE;
      break;
    }
    total = 3 + (((d[1] & 0x0F) << 8) | d[2]);
    if (total > SECTION_MAX) {
      bin->sdt_open = FALSE;
      break;
    }
    if (bin->sdt->len < total)
      break;
    sdt_names (bin, d, total);
    g_byte_array_remove_range (bin->sdt, 0, total);
  }
  if (!bin->sdt_open || bin->sdt->len > SECTION_MAX)
    g_byte_array_set_size (bin->sdt, 0);
}

/* One TS packet: the payload of PID 0x11 goes into sections */
static void
sdt_packet (MrMonitorBin * bin, const guint8 * p)
{
  guint off = 4, pid = ((p[1] & 0x1F) << 8) | p[2];
  gboolean start = p[1] & 0x40;
  guint afc = (p[3] >> 4) & 0x3;

  if (p[0] != 0x47 || pid != SDT_PID || !(afc & 0x1))
    return;
  if (afc & 0x2)
    off += 1 + p[4];
  if (off >= TS_PACKET)
    return;
  if (start) {
    guint pointer = p[off++];

    /* the end of the previous section, then a new one */
    if (bin->sdt_open && off + pointer <= TS_PACKET) {
      g_byte_array_append (bin->sdt, p + off, pointer);
      sdt_take_sections (bin);
    }
    off += pointer;
    if (off >= TS_PACKET)
      return;
    g_byte_array_set_size (bin->sdt, 0);
    bin->sdt_open = TRUE;
  } else if (!bin->sdt_open) {
    return;
  }
  g_byte_array_append (bin->sdt, p + off, TS_PACKET - off);
  sdt_take_sections (bin);
}

/* The flow's buffers hold whole TS packets (datagrams of seven); a packet
 * that does not start with its sync byte is skipped */
static void
sdt_buffer (MrMonitorBin * bin, GstBuffer * buf)
{
  GstMapInfo map;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  for (gsize off = 0; off + TS_PACKET <= map.size; off += TS_PACKET)
    sdt_packet (bin, map.data + off);
  gst_buffer_unmap (buf, &map);
}

static gboolean
sdt_list_item (GstBuffer ** buf, guint idx, gpointer user_data)
{
  sdt_buffer (user_data, *buf);
  return TRUE;
}

GstPadProbeReturn
mr_monitor_read_sdt (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  MrMonitorBin *bin = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    sdt_buffer (bin, GST_PAD_PROBE_INFO_BUFFER (info));
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        sdt_list_item, bin);
  return GST_PAD_PROBE_OK;
}
