/* mroute: the monitoring branch of a flow's pipeline: the monitor's life
 * (attached to a tee, or standalone for tests), its bin (behind the
 * isolation of pipeline/isolation.h; it keeps its children's errors and
 * messages to itself) and the stream getters.  Each elementary stream is
 * in monitor-streams.c, thumbnails in thumbnail.c, content quality in
 * content-quality.c, the service names in sdt.c. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include "pipeline/pipeline.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/mpegts/mpegts.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mr_monitor_debug);
#define GST_CAT_DEFAULT mr_monitor_debug

G_DEFINE_TYPE (MrMonitorBin, mr_monitor_bin, GST_TYPE_BIN);

G_DEFINE_QUARK (mroute-monitor-path, mr_monitor_path);

MrMonitor *
mr_monitor_ref (MrMonitor * m)
{
  g_atomic_ref_count_inc (&m->ref);
  return m;
}

void
mr_monitor_unref (MrMonitor * m)
{
  if (!g_atomic_ref_count_dec (&m->ref))
    return;
  g_mutex_clear (&m->lock);
  g_clear_pointer (&m->thumbnail, g_bytes_unref);
  g_free (m->thumbnail_note);
  g_free (m->cq_missing);
  g_free (m->source);
  g_free (m->name);
  g_free (m);
}

gboolean
mr_monitor_have_element (const gchar * factory)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (factory);
  return f != NULL;
}

static void
mr_monitor_bin_finalize (GObject * object)
{
  MrMonitorBin *bin = MR_MONITOR_BIN (object);

  g_ptr_array_unref (bin->streams);
  g_array_unref (bin->program_ids);
  mr_sdt_clear (&bin->sdt);
  g_free (bin->source);
  if (bin->monitor)
    mr_monitor_unref (bin->monitor);
  G_OBJECT_CLASS (mr_monitor_bin_parent_class)->finalize (object);
}

static void
mr_monitor_bin_init (MrMonitorBin * bin)
{
  bin->streams = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_monitor_stream_free_private);
  bin->program_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  mr_sdt_init (&bin->sdt);
}

/* ---------------------------------------------------------------------- */
/* messages of the bin's children, in the thread that posts them */

/* PAT: the programs (their names come from the SDT, see
 * mr_monitor_read_sdt) */
static void
handle_section (MrMonitorBin * bin, GstMpegtsSection * section)
{
  MrMonitor *m = bin->monitor;
  g_autoptr (GPtrArray) pat = NULL;

  if (section->section_type != GST_MPEGTS_SECTION_PAT
      || !(pat = gst_mpegts_section_get_pat (section)))
    return;
  g_mutex_lock (&m->lock);
  g_array_set_size (bin->program_ids, 0);
  for (guint i = 0; i < pat->len; i++) {
    GstMpegtsPatProgram *p = pat->pdata[i];
    guint id = p->program_number;

    if (id != 0)                /* 0 is the network PID */
      g_array_append_val (bin->program_ids, id);
  }
  g_mutex_unlock (&m->lock);
}

/* The failure flag of the decoding path @element belongs to, or NULL */
static gint *
path_of (MrMonitorBin * bin, GstObject * element)
{
  for (GstObject * o = element; o && o != GST_OBJECT (bin);
      o = GST_OBJECT_PARENT (o)) {
    gint *flag = g_object_get_qdata (G_OBJECT (o), mr_monitor_path_quark ());
    if (flag)
      return flag;
  }
  return NULL;
}

/* An error stays in the bin: a decoding path that fails is switched off
 * (its queue drops everything from now on) and the rest goes on; any other
 * failure stops the bin, which is built again after a back-off. */
static void
handle_error (MrMonitorBin * bin, GstMessage * msg)
{
  MrMonitor *m = bin->monitor;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  gint *path = path_of (bin, GST_MESSAGE_SRC (msg));

  gst_message_parse_error (msg, &err, &debug);
  if (path) {
    if (!g_atomic_int_exchange (path, 1))
      g_warning ("flow %s: monitoring: %s failed, switched off until the "
          "monitor restarts: %s (%s)", m->name, GST_MESSAGE_SRC_NAME (msg),
          err->message, debug ? debug : "");
    return;
  }
  if (!mr_isolation_close (bin->isolation))
    return;
  g_warning ("flow %s: monitoring stopped: %s: %s (%s)", m->name,
      GST_MESSAGE_SRC_NAME (msg), err->message, debug ? debug : "");
  mr_monitor_schedule_restart (m, bin);
}

static void
mr_monitor_bin_handle_message (GstBin * gbin, GstMessage * msg)
{
  MrMonitorBin *bin = MR_MONITOR_BIN (gbin);
  const GstStructure *s;
  GstMpegtsSection *section;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      handle_error (bin, msg);
      gst_message_unref (msg);
      return;
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;

      /* a decoder's complaint about a damaged picture is the monitor's
       * business, not the flow's */
      gst_message_parse_warning (msg, &err, NULL);
      g_debug ("flow %s: monitoring: warning from %s: %s", bin->monitor->name,
          GST_MESSAGE_SRC_NAME (msg), err->message);
      gst_message_unref (msg);
      return;
    }
    case GST_MESSAGE_LATENCY:
      /* the monitor's sinks do not sync: nothing for the flow to redo */
      gst_message_unref (msg);
      return;
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (mr_monitor_content_quality_message (bin, s)) {
        /* taken */
      } else if ((section = gst_message_parse_mpegts_section (msg))) {
        handle_section (bin, section);
        gst_mpegts_section_unref (section);
      } else
        break;
      /* ours: the flow's bus does not need them */
      gst_message_unref (msg);
      return;
    default:
      break;
  }
  GST_BIN_CLASS (mr_monitor_bin_parent_class)->handle_message (gbin, msg);
}

static void
mr_monitor_bin_class_init (MrMonitorBinClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_monitor_bin_finalize;
  GST_BIN_CLASS (klass)->handle_message = mr_monitor_bin_handle_message;
}

/* tsdemux changed its program (a new PMT): the streams are built again in
 * a new bin */
static void
on_pad_removed (GstElement * demux, GstPad * pad, gpointer user_data)
{
  MrMonitorBin *bin = user_data;

  if (mr_isolation_close (bin->isolation))
    mr_monitor_schedule_restart (bin->monitor, bin);
}

/* The bin of @m, not attached to anything:
 *   isolation.h's entry ~> exit ! backlog ! tsdemux ! (streams, added by
 *   mr_monitor_stream_added) */
static MrMonitorBin *
build_bin (MrMonitor * m, GError ** error)
{
  /* numbered across monitors: after mr_monitor_detach () the old bin
   * leaves the pipeline on the main loop, after the new monitor's is in,
   * and a bin cannot share its name with a sibling */
  static gint serial;
  g_autofree gchar *name = g_strdup_printf (MR_MONITOR_PREFIX "%u",
      (guint) g_atomic_int_add (&serial, 1) + 1);
  MrMonitorBin *bin;
  GstElement *demux;
  g_autoptr (GstPad) pad = NULL;
  const gchar *needed[] = { "appsink", "appsrc", "queue", "tsdemux" };

  for (guint i = 0; i < G_N_ELEMENTS (needed); i++) {
    if (!mr_monitor_have_element (needed[i])) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "GStreamer element '%s' is missing", needed[i]);
      return NULL;
    }
  }
  bin = g_object_new (MR_TYPE_MONITOR_BIN, "name", name, NULL);
  gst_object_ref_sink (bin);
  bin->monitor = mr_monitor_ref (m);
  g_mutex_lock (&m->lock);
  bin->source = g_strdup (m->source);
  g_mutex_unlock (&m->lock);

  bin->isolation = mr_isolation_add (GST_BIN (bin), ENTRY_MAX_TIME,
      ENTRY_MAX_BYTES);
  /* One buffer at a time: tsdemux takes them one by one anyway, and the
   * bin is stopped at every rebuild, where GStreamer 1.22.0's basesrc
   * logs a critical for a list in hand (see isolation.h).  (The crashes
   * once blamed on lists in the monitor were appsrc reading a list freed
   * under it, which isolation.c now avoids for lists.) */
  mr_isolation_set_split_lists (bin->isolation, TRUE);
  demux = gst_element_factory_make ("tsdemux", "demux");
  gst_bin_add (GST_BIN (bin), demux);
  gst_element_link (mr_isolation_get_tail (bin->isolation), demux);
  /* the SDT is read before the backlog, in the exit's thread */
  pad = gst_element_get_static_pad (mr_isolation_get_tail (bin->isolation),
      "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, mr_monitor_read_sdt, bin, NULL);
  /* disconnected when the bin goes: tsdemux, let go last by a state
   * change's list of children, removes its pads after the bin is freed
   * (tests/unit/monitor-inplace.c under valgrind) */
  g_signal_connect_object (demux, "pad-added",
      G_CALLBACK (mr_monitor_stream_added), bin, 0);
  g_signal_connect_object (demux, "pad-removed", G_CALLBACK (on_pad_removed),
      bin, 0);
  return bin;
}

/* Builds a bin and links it to the tee, running before it is linked: the
 * tee must never push into a bin that is not playing. */
static gboolean
attach_bin (MrMonitor * m, gboolean thumbnails_only)
{
  g_autoptr (GError) error = NULL;
  MrMonitorBin *bin = build_bin (m, &error);
  g_autoptr (GstPad) sinkpad = NULL;

  if (!bin) {
    g_warning ("flow %s: no stream monitoring: %s", m->name, error->message);
    return FALSE;
  }
  bin->hidden = thumbnails_only;
  gst_bin_add (GST_BIN (m->pipeline), GST_ELEMENT (bin));
  gst_element_sync_state_with_parent (GST_ELEMENT (bin));
  g_mutex_lock (&m->lock);
  m->bin = bin;                 /* takes the ref */
  g_mutex_unlock (&m->lock);
  m->teepad = gst_element_request_pad_simple (m->tee, "src_%u");
  if (thumbnails_only)
    gst_pad_add_probe (m->teepad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, mr_monitor_thumbnail_feed,
        mr_monitor_ref (m), (GDestroyNotify) mr_monitor_unref);
  sinkpad = gst_element_get_static_pad (GST_ELEMENT (bin), "sink");
  gst_pad_link (m->teepad, sinkpad);
  GST_DEBUG_OBJECT (bin, "flow %s: monitoring attached (thumbnails %d, "
      "content quality %d)", m->name, m->config.thumbnails,
      m->config.content_quality);
  return TRUE;
}

/* The reader in place, and the bin when decoding paths are configured or
 * the source has a stream the reader does not read.  With both (thumbnails
 * alone), the bin's streams are not shown and it is fed only around the
 * time a thumbnail is due. */
static void
attach (MrMonitor * m)
{
  gboolean inplace = mr_monitor_inplace_wanted (m);

  if (inplace) {
    g_autoptr (GstPad) pad = gst_element_get_static_pad (m->tee, "sink");

    mr_monitor_inplace_attach (m, pad);
    GST_DEBUG_OBJECT (m->pipeline, "flow %s: monitoring in place", m->name);
  }
  if (!inplace || m->config.thumbnails)
    attach_bin (m, inplace);
}

typedef struct
{
  GstElement *pipeline, *tee, *bin;     /* refs */
  GstPad *teepad;               /* ref */
} MrDetach;

static gboolean
finish_detach (gpointer user_data)
{
  MrDetach *d = user_data;

  gst_element_set_state (d->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (d->pipeline), d->bin);
  gst_element_release_request_pad (d->tee, d->teepad);
  gst_object_unref (d->teepad);
  gst_object_unref (d->bin);
  gst_object_unref (d->tee);
  gst_object_unref (d->pipeline);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
unlink_when_idle (GstPad * teepad, GstPadProbeInfo * info, gpointer user_data)
{
  GstPad *peer = gst_pad_get_peer (teepad);

  if (peer) {
    gst_pad_unlink (teepad, peer);
    gst_object_unref (peer);
  }
  g_idle_add (finish_detach, user_data);
  return GST_PAD_PROBE_REMOVE;
}

/* Takes the running bin off the tee (between two pushes) and removes it on
 * the main loop. */
static void
detach_bin (MrMonitor * m)
{
  MrDetach *d;
  MrMonitorBin *bin;

  g_mutex_lock (&m->lock);
  bin = m->bin;
  m->bin = NULL;
  mr_monitor_end_alarms_locked (m);
  g_mutex_unlock (&m->lock);
  if (!bin)
    return;
  mr_isolation_close (bin->isolation);
  d = g_new0 (MrDetach, 1);
  d->pipeline = gst_object_ref (m->pipeline);
  d->tee = gst_object_ref (m->tee);
  d->bin = GST_ELEMENT (bin);   /* takes the ref */
  d->teepad = m->teepad;
  m->teepad = NULL;
  gst_pad_add_probe (d->teepad, GST_PAD_PROBE_TYPE_IDLE, unlink_when_idle, d,
      NULL);
}

void
mr_monitor_rebuild (MrMonitor * m)
{
  if (!m->pipeline)
    return;
  GST_DEBUG_OBJECT (m->pipeline, "flow %s: monitoring built again", m->name);
  detach_bin (m);
  mr_monitor_inplace_detach (m);
  attach (m);
}

static gboolean
restart_now (gpointer user_data)
{
  MrMonitor *m = user_data;

  g_mutex_lock (&m->lock);
  m->restart_source = 0;
  g_mutex_unlock (&m->lock);
  /* errors in a row wait longer; a minute of quiet starts over */
  if (g_get_monotonic_time () - m->restarted_at > 60 * G_USEC_PER_SEC)
    m->restarts = 0;
  m->restarts++;
  m->restarted_at = g_get_monotonic_time ();
  g_message ("flow %s: monitoring: building the monitor again", m->name);
  mr_monitor_rebuild (m);
  return G_SOURCE_REMOVE;
}

/* On the default main context, the controller's.  An error waits 1, 2, 4
 * ... 30 s when it comes back in a row. */
void
mr_monitor_schedule_restart (MrMonitor * m, MrMonitorBin * bin)
{
  guint delay_ms;

  g_mutex_lock (&m->lock);
  if (m->bin != bin || m->restart_source) {
    g_mutex_unlock (&m->lock);
    return;
  }
  delay_ms = m->restarts ? 1000 * MIN (1u << MIN (m->restarts - 1, 5),
      RESTART_MAX_S) : 0;
  m->restart_source = g_timeout_add_full (G_PRIORITY_DEFAULT, delay_ms,
      restart_now, mr_monitor_ref (m), (GDestroyNotify) mr_monitor_unref);
  g_mutex_unlock (&m->lock);
}

/* ---------------------------------------------------------------------- */
/* the recipe's side */

void
mr_monitor_config_from_spec (MrMonitorConfig * config,
    const MrFlowSpec * spec)
{
  config->thumbnails = spec->thumbnail_enabled;
  config->content_quality = spec->content_quality_enabled;
  config->thumbnail_interval_sec = MAX (spec->thumbnail_interval_sec, 1);
  config->black_threshold_sec = spec->black_threshold_sec;
  config->frozen_threshold_sec = spec->frozen_threshold_sec;
  config->silent_threshold_sec = spec->silent_threshold_sec;
}

static gsize mpegts_ready;

static MrMonitor *
monitor_new (const gchar * name, const MrMonitorConfig * config)
{
  static gsize debug_ready;
  MrMonitor *m = g_new0 (MrMonitor, 1);
  const gchar *analyzers[] = { "blackdetect", "freezedetect",
    "silencedetect"
  };

  if (g_once_init_enter (&debug_ready)) {
    GST_DEBUG_CATEGORY_INIT (mr_monitor_debug, "mroute-monitor", 0,
        "mroute: the monitoring branch");
    g_once_init_leave (&debug_ready, 1);
  }

  /* once: every call forgets libgstmpegts' cached iconv converters (one
   * opened per SDT read, never closed) */
  if (g_once_init_enter (&mpegts_ready)) {
    gst_mpegts_initialize ();
    g_once_init_leave (&mpegts_ready, 1);
  }
  g_atomic_ref_count_init (&m->ref);
  g_mutex_init (&m->lock);
  m->config = *config;
  m->name = g_strdup (name);
  for (guint i = 0; config->content_quality && i < G_N_ELEMENTS (analyzers);
      i++) {
    if (!mr_monitor_have_element (analyzers[i]) && !m->cq_missing) {
      m->cq_missing = g_strdup (analyzers[i]);
      g_warning ("flow %s: GStreamer element '%s' is missing: no content "
          "quality analysis", m->name, analyzers[i]);
    }
  }
  return m;
}

MrMonitor *
mr_monitor_attach (GstElement * pipeline, GstElement * tee,
    const MrMonitorConfig * config)
{
  g_autofree gchar *name = gst_object_get_name (GST_OBJECT (pipeline));
  MrMonitor *m = monitor_new (name, config);

  m->pipeline = gst_object_ref (pipeline);
  m->tee = gst_object_ref (tee);
  attach (m);
  return m;
}

MrMonitor *
mr_monitor_new_standalone (const gchar * name,
    const MrMonitorConfig * config, GstElement ** bin, GError ** error)
{
  MrMonitor *m = monitor_new (name, config);
  MrMonitorBin *b;

  *bin = NULL;
  if (mr_monitor_inplace_wanted (m) && !m->config.thumbnails) {
    *bin = mr_monitor_inplace_standalone_bin (m, name);
    return m;
  }
  b = build_bin (m, error);
  if (!b) {
    mr_monitor_unref (m);
    return NULL;
  }
  if (mr_monitor_inplace_wanted (m)) {
    /* thumbnails alone: the reader and the feed's gate on the bin's own
     * sink pad, the reader first */
    g_autoptr (GstPad) pad = gst_element_get_static_pad (GST_ELEMENT (b),
        "sink");

    b->hidden = TRUE;
    mr_monitor_inplace_attach (m, pad);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, mr_monitor_thumbnail_feed,
        mr_monitor_ref (m), (GDestroyNotify) mr_monitor_unref);
  }
  /* the running bin, as attach_bin makes it, so that its streams are
   * shown; without a pipeline, schedule_restart's rebuild does nothing */
  m->bin = gst_object_ref (b);
  *bin = GST_ELEMENT (b);
  return m;
}

static void
release (MrMonitor * m)
{
  MrMonitorBin *shown, *bin;

  mr_monitor_inplace_detach (m);
  g_mutex_lock (&m->lock);
  mr_monitor_inplace_hide_locked (m);
  if (m->restart_source)
    g_source_remove (m->restart_source);
  m->restart_source = 0;
  shown = m->shown;
  m->shown = NULL;
  bin = m->bin;
  m->bin = NULL;
  g_mutex_unlock (&m->lock);
  g_clear_object (&shown);
  g_clear_object (&bin);
  g_clear_object (&m->teepad);
  g_clear_object (&m->tee);
  g_clear_object (&m->pipeline);
  mr_monitor_unref (m);
}

void
mr_monitor_detach (MrMonitor * m)
{
  detach_bin (m);
  release (m);
}

void
mr_monitor_free (MrMonitor * m)
{
  release (m);
}

void
mr_monitor_restart (MrMonitor * m, const gchar * source)
{
  g_mutex_lock (&m->lock);
  if (m->restart_source)
    g_source_remove (m->restart_source);
  m->restart_source = 0;
  g_free (m->source);
  m->source = g_strdup (source);
  /* a new source: read in place again if the configuration allows */
  m->needs_bin = FALSE;
  g_mutex_unlock (&m->lock);
  m->restarts = 0;
  mr_monitor_rebuild (m);
}

/* ---------------------------------------------------------------------- */
/* getters */

const gchar *
mr_monitor_stream_type_to_string (MrMonitorStreamType type)
{
  static const gchar *names[] = { "video", "audio", "subtitle", "data" };
  return names[type];
}

void
mr_monitor_stream_free (MrMonitorStream * stream)
{
  g_free (stream->codec);
  g_free (stream->profile);
  g_free (stream);
}

void
mr_monitor_program_free (MrMonitorProgram * program)
{
  g_free (program->program_name);
  g_free (program);
}

gboolean
mr_monitor_get_streams (MrMonitor * m, GPtrArray ** programs,
    GPtrArray ** streams)
{
  MrMonitorBin *bin;

  *programs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_monitor_program_free);
  *streams = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_monitor_stream_free);
  g_mutex_lock (&m->lock);
  if (mr_monitor_inplace_streams_locked (m, *programs, *streams)) {
    g_mutex_unlock (&m->lock);
    return (*streams)->len > 0;
  }
  bin = m->shown;
  for (guint i = 0; bin && i < bin->program_ids->len; i++) {
    MrMonitorProgram *p = g_new0 (MrMonitorProgram, 1);

    p->program_id = g_array_index (bin->program_ids, guint, i);
    p->program_name = g_strdup (g_hash_table_lookup (bin->sdt.names,
            GUINT_TO_POINTER (p->program_id)));
    g_ptr_array_add (*programs, p);
  }
  for (guint i = 0; bin && i < bin->streams->len; i++) {
    MrStream *st = bin->streams->pdata[i];
    MrMonitorStream *copy = g_memdup2 (&st->info, sizeof (st->info));

    copy->codec = g_strdup (st->info.codec);
    copy->profile = g_strdup (st->info.profile);
    if (!copy->bit_rate)
      copy->bit_rate = st->tag_bitrate;
    g_ptr_array_add (*streams, copy);
  }
  g_mutex_unlock (&m->lock);
  return (*streams)->len > 0;
}

gchar *
mr_monitor_get_source (MrMonitor * m)
{
  gchar *source;

  g_mutex_lock (&m->lock);
  if (m->inplace_shown)
    source = mr_monitor_inplace_source_locked (m);
  else
    source = m->shown ? g_strdup (m->shown->source) : NULL;
  g_mutex_unlock (&m->lock);
  return source;
}
