/* mroute: the monitor without decoding paths (no thumbnails, no content
 * quality: the default), which is what most flows run: the programs,
 * streams and GOP statistics read in place (ts-reader.h, and the SDT by
 * sdt.c) by a probe on the sink pad of the flow's tee, in the thread that
 * already carries the packets.  No copy, no demuxer, no parser element,
 * no thread or queue of its own: a flow's monitoring then costs a look at
 * each TS packet's header and at the head of each picture.
 *
 * A source with a stream the reader does not read (MPEG-2 video, AC-3,
 * private data ...) gets the demuxer and parsers of monitor.c instead,
 * built on the main loop as soon as its PMT says so, for as long as the
 * flow runs on that source (a failover reads in place again first).
 *
 * Locking: the probe reads under the monitor's lock, once per buffer or
 * buffer list; attach and detach run on the main thread. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include "profile-names.h"

static void
sdt_packet (const guint8 * packet, gpointer user_data)
{
  mr_sdt_packet (user_data, packet);
}

static MrInplace *
inplace_new (const gchar * source)
{
  MrInplace *in = g_new0 (MrInplace, 1);

  mr_ts_reader_init (&in->reader);
  mr_sdt_init (&in->sdt);
  /* the SDT's PID */
  in->reader.other_pid = 0x11;
  in->reader.other_func = sdt_packet;
  in->reader.other_data = &in->sdt;
  in->source = g_strdup (source);
  return in;
}

static void
inplace_free (MrInplace * in)
{
  mr_ts_reader_clear (&in->reader);
  mr_sdt_clear (&in->sdt);
  g_free (in->source);
  g_free (in);
}

/* @in goes when it is neither running nor shown.  With the lock. */
static void
inplace_drop_locked (MrMonitor * m, MrInplace * in)
{
  if (in && in != m->inplace && in != m->inplace_shown)
    inplace_free (in);
}

gboolean
mr_monitor_inplace_wanted (MrMonitor * m)
{
  return !m->config.content_quality && !m->needs_bin;
}

/* ---------------------------------------------------------------------- */
/* the probe */

/* With thumbnails (and so a bin beside the reader), the streams log says
 * so */
static const gchar *
thumbnail_state (MrMonitor * m, MrTsStream * st)
{
  return m->config.thumbnails && st->video ? "on due key frames" : "off";
}

/* A datagram's buffer is one memory (udpbatchsrc, udpsrc): mapped alone,
 * which costs a third of mapping the buffer */
static void
read_buffer (MrInplace * in, GstBuffer * buf, gint64 now)
{
  GstMapInfo map;

  if (gst_buffer_n_memory (buf) == 1) {
    GstMemory *mem = gst_buffer_peek_memory (buf, 0);

    if (gst_memory_map (mem, &map, GST_MAP_READ)) {
      mr_ts_reader_data (&in->reader, map.data, map.size, now);
      gst_memory_unmap (mem, &map);
    }
  } else if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    mr_ts_reader_data (&in->reader, map.data, map.size, now);
    gst_buffer_unmap (buf, &map);
  }
}

static gboolean
switch_to_bin (gpointer user_data)
{
  MrMonitor *m = user_data;

  g_mutex_lock (&m->lock);
  m->fallback_source = 0;
  g_mutex_unlock (&m->lock);
  g_message ("flow %s: monitoring: a stream the in-place reader does not "
      "read: demuxer and parsers instead", m->name);
  mr_monitor_rebuild (m);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
on_ts (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MrMonitor *m = user_data;
  MrInplace *in;
  MrMonitorBin *hidden = NULL;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&m->lock);
  if (!(in = m->inplace)) {
    g_mutex_unlock (&m->lock);
    return GST_PAD_PROBE_OK;
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    read_buffer (in, GST_PAD_PROBE_INFO_BUFFER (info), now);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    /* not gst_buffer_list_foreach (): it costs more than the reading */
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    guint n = gst_buffer_list_length (list);

    for (guint i = 0; i < n; i++)
      read_buffer (in, gst_buffer_list_get (list, i), now);
  }

  /* a new PMT: its streams in the log, as monitor-streams.c logs the
   * parsers' (once per PMT) */
  if (G_UNLIKELY (in->logged != in->reader.generation)) {
    in->logged = in->reader.generation;
    for (guint i = 0; i < in->reader.streams->len; i++) {
      MrTsStream *st = in->reader.streams->pdata[i];

      g_message ("flow %s: monitoring stream %u: %s %s: read in place, "
          "thumbnails: %s, analysis: off", m->name, i, st->video ? "video" :
          "audio", st->codec_name, thumbnail_state (m, st));
    }
  }

  /* the reader's streams are shown once one of them is known, until then
   * those of the reader or bin before it */
  if (G_UNLIKELY (m->inplace_shown != in)) {
    for (guint i = 0; i < in->reader.streams->len; i++) {
      MrTsStream *st = in->reader.streams->pdata[i];

      if (st->known) {
        MrInplace *old = m->inplace_shown;

        m->inplace_shown = in;
        inplace_drop_locked (m, old);
        hidden = m->shown;
        m->shown = NULL;
        break;
      }
    }
  }

  if (G_UNLIKELY (in->reader.unsupported) && !m->needs_bin && m->pipeline) {
    m->needs_bin = TRUE;
    m->fallback_source = g_idle_add_full (G_PRIORITY_DEFAULT, switch_to_bin,
        mr_monitor_ref (m), (GDestroyNotify) mr_monitor_unref);
  }
  g_mutex_unlock (&m->lock);
  if (hidden)
    gst_object_unref (hidden);
  return GST_PAD_PROBE_OK;
}

/* ---------------------------------------------------------------------- */

void
mr_monitor_inplace_attach (MrMonitor * m, GstPad * pad)
{
  MrInplace *old;

  g_mutex_lock (&m->lock);
  old = m->inplace;
  m->inplace = inplace_new (m->source);
  inplace_drop_locked (m, old);
  g_mutex_unlock (&m->lock);
  m->inplace_pad = gst_object_ref (pad);
  m->inplace_probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, on_ts, mr_monitor_ref (m),
      (GDestroyNotify) mr_monitor_unref);
}

void
mr_monitor_inplace_detach (MrMonitor * m)
{
  MrInplace *old;

  if (m->inplace_pad) {
    gst_pad_remove_probe (m->inplace_pad, m->inplace_probe);
    g_clear_object (&m->inplace_pad);
    m->inplace_probe = 0;
  }
  g_mutex_lock (&m->lock);
  if (m->fallback_source)
    g_source_remove (m->fallback_source);
  m->fallback_source = 0;
  old = m->inplace;
  m->inplace = NULL;
  inplace_drop_locked (m, old);
  g_mutex_unlock (&m->lock);
}

void
mr_monitor_inplace_hide_locked (MrMonitor * m)
{
  MrInplace *old = m->inplace_shown;

  m->inplace_shown = NULL;
  inplace_drop_locked (m, old);
}

/* the shown reader's streams, as monitor-streams.c describes a stream from
 * its parser's caps */
gboolean
mr_monitor_inplace_streams_locked (MrMonitor * m, GPtrArray * programs,
    GPtrArray * streams)
{
  MrInplace *in = m->inplace_shown;

  if (!in)
    return FALSE;
  for (guint i = 0; i < in->reader.programs->len; i++) {
    MrMonitorProgram *p = g_new0 (MrMonitorProgram, 1);

    p->program_id = g_array_index (in->reader.programs, guint, i);
    p->program_name = g_strdup (g_hash_table_lookup (in->sdt.names,
            GUINT_TO_POINTER (p->program_id)));
    g_ptr_array_add (programs, p);
  }
  for (guint i = 0; i < in->reader.streams->len; i++) {
    MrTsStream *st = in->reader.streams->pdata[i];
    MrMonitorStream *s = g_new0 (MrMonitorStream, 1);

    s->index = i;
    s->type = st->video ? MR_MONITOR_STREAM_VIDEO : MR_MONITOR_STREAM_AUDIO;
    s->codec = g_strdup (st->codec_name);
    s->profile = mr_profile_name (st->media_type, st->profile);
    s->width = st->width;
    s->height = st->height;
    s->fps_n = st->fps_n;
    s->fps_d = st->fps_d;
    s->channels = st->channels;
    s->sample_rate = st->sample_rate;
    s->bit_rate = st->bit_rate;
    s->has_gop = st->video;
    s->gop = st->gop;
    g_ptr_array_add (streams, s);
  }
  return TRUE;
}

gchar *
mr_monitor_inplace_source_locked (MrMonitor * m)
{
  return m->inplace_shown ? g_strdup (m->inplace_shown->source) : NULL;
}

/* sink ! fakesink, the reader's probe on the fakesink (without
 * thumbnails) */
GstElement *
mr_monitor_inplace_standalone_bin (MrMonitor * m, const gchar * name)
{
  GstElement *bin = gst_bin_new (name);
  GstElement *sink = mr_monitor_make_quiet_sink ("fakesink", 0, "sink");
  g_autoptr (GstPad) pad = gst_element_get_static_pad (sink, "sink");

  gst_bin_add (GST_BIN (bin), sink);
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  mr_monitor_inplace_attach (m, pad);
  return gst_object_ref_sink (bin);
}
