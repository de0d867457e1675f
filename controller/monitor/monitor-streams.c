/* mroute: the monitoring branch, one elementary stream at a time: the
 * parser tsdemux's pad gets, the probe that reads caps, bit rate and
 * picture types after it, and which decoding paths the stream gets (the
 * paths themselves are in thumbnail.c and content-quality.c). */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"
#include "profile-names.h"

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
  info->profile = mr_profile_name (gst_structure_get_name (s),
      gst_structure_get_string (s, "profile"));
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

  if (bin->hidden)
    return;
  g_mutex_lock (&m->lock);
  if (m->shown != bin && m->bin == bin) {
    old = m->shown;
    m->shown = gst_object_ref (bin);
    mr_monitor_inplace_hide_locked (m);
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
    return mr_monitor_make_named ("h264parse", index, "parse");
  }
  if (g_str_equal (n, "video/x-h265")) {
    *out_caps = "video/x-h265, stream-format=(string)byte-stream, "
        "alignment=(string)au";
    return mr_monitor_make_named ("h265parse", index, "parse");
  }
  if (g_str_equal (n, "video/x-av1")) {
    *out_caps = "video/x-av1, stream-format=(string)obu-stream, "
        "alignment=(string)tu";
    return mr_monitor_make_named ("av1parse", index, "parse");
  }
  if (g_str_equal (n, "video/mpeg"))
    return mr_monitor_make_named (version == 4 ? "mpeg4videoparse" :
        "mpegvideoparse", index, "parse");
  if (g_str_equal (n, "audio/mpeg"))
    return mr_monitor_make_named (version == 1 ? "mpegaudioparse" :
        "aacparse", index, "parse");
  if (g_str_equal (n, "audio/x-ac3") || g_str_equal (n, "audio/x-eac3"))
    return mr_monitor_make_named ("ac3parse", index, "parse");
  if (g_str_equal (n, "audio/x-dts"))
    return mr_monitor_make_named ("dcaparse", index, "parse");
  if (g_str_equal (n, "audio/x-opus"))
    return mr_monitor_make_named ("opusparse", index, "parse");
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
      filter = mr_monitor_make_capsfilter (index, "parsed", parsed_caps);
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
    mr_monitor_set_thumbnail_note (m, "no parser for this video codec");
  if (video && parser)
    bin->video_taken = TRUE;
  if (audio && parser)
    bin->audio_taken = TRUE;

  if (thumbs || cq) {
    tee = mr_monitor_make_named ("tee", index, "split");
    g_object_set (tee, "allow-not-linked", TRUE, NULL);
    sink = NULL;
  } else {
    sink = mr_monitor_make_quiet_sink ("fakesink", index, "sink");
  }

  {
    GstElement *chain[] = { parser, filter, tee ? tee : sink, NULL };
    GstElement *row[4] = { NULL };
    guint n = 0;

    for (guint i = 0; i < G_N_ELEMENTS (chain) - 1; i++)
      if (chain[i])
        row[n++] = chain[i];
    if (!row[0] || !mr_monitor_add_chain (bin, row, NULL))
      return;
    sinkpad = gst_element_get_static_pad (row[0], "sink");
    src = last ? gst_element_get_static_pad (last, "src") :
        gst_object_ref (pad);
  }
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      on_parsed, st, NULL);
  if (thumbs)
    thumb_decoder = mr_monitor_add_thumbnail_path (bin, st, tee, caps);
  if (cq)
    cq_decoder = mr_monitor_add_analysis_path (bin, st, tee, caps, video);
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_warning ("flow %s: monitoring: cannot link stream %u (%s)", m->name,
        index, st->info.codec);
  if (!parser)
    show_bin (bin);
  g_message ("flow %s: monitoring stream %u: %s %s: %s, thumbnails: %s, "
      "analysis: %s", m->name, index, mr_monitor_stream_type_to_string
      (st->info.type), st->info.codec ? st->info.codec : "?", parser ?
      mr_monitor_factory_name (parser) : "no parser", thumb_decoder ?
      thumb_decoder : "off", cq_decoder ? cq_decoder : "off");
}
