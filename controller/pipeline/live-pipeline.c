/* mroute: one flow's live pipeline.  See live-pipeline.h. */

#define G_LOG_DOMAIN "mroute-pipeline"
#include "live-pipeline.h"

#include "branch.h"
#include "builder.h"
#include "transports/transport.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mr_live_pipeline_debug);
#define GST_CAT_DEFAULT mr_live_pipeline_debug

/* how much a slow queued output may lag before it loses its oldest data */
#define OUTPUT_QUEUE_MS 1000

/* The element every source runs into: failoverselector or the merger */
static GstElement *
combiner (MrLivePipeline * live)
{
  return live->selector ? live->selector : live->merger;
}

gint
mr_live_pipeline_source_of_stats (MrLivePipeline * live, GstObject * element)
{
  for (guint i = 0; i < MR_MAX_SOURCES; i++)
    if (live->source_stats[i]
        && GST_OBJECT (live->source_stats[i]) == element)
      return i;
  return -1;
}

gint
mr_live_pipeline_source_of_pad (MrLivePipeline * live, const gchar * pad_name)
{
  for (guint i = 0; i < MR_MAX_SOURCES; i++)
    if (live->selector_pads[i]
        && g_strcmp0 (live->selector_pads[i], pad_name) == 0)
      return i;
  return -1;
}

static void
set_one_read_interval (const GValue * v, gpointer interval)
{
  g_object_set (g_value_get_object (v), "read-interval",
      *(guint64 *) interval, NULL);
}

/* Sets `read-interval` on every UDP receiver of a source's bin
 * (transports/registry.c) */
static void
set_read_interval (GstBin * bin, guint64 interval)
{
  GstIterator *it =
      gst_bin_iterate_all_by_element_factory_name (bin, "udpbatchsrc");

  gst_iterator_foreach (it, set_one_read_interval, &interval);
  gst_iterator_free (it);
}

/* The element every source runs into, and the pad there for the source
 * at @index: a new pad of the selector or merger (for the selector lower
 * priority wins: the primary 0), or the tee's sink pad. */
static GstPad *
source_peer (MrLivePipeline * live, const MrFlowSpec * spec, guint index)
{
  GstPad *sinkpad;

  if (!combiner (live))
    return gst_element_get_static_pad (live->rtp_fanout ? live->rtp_fanout :
        live->fanout, "sink");
  sinkpad = gst_element_request_pad_simple (combiner (live), "sink_%u");
  if (live->selector)
    g_object_set (sinkpad, "priority",
        index == mr_builder_pick_source (spec) ? 0 : 1, NULL);
  return sinkpad;
}

/* Runs in the thread that posts: outputs mark their branch failed, and the
 * error a source posts while mr_live_pipeline_start_source () brings it up (in
 * that same thread) is kept for it to say why. */
static GstBusSyncReply
bus_sync_handler (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  MrLivePipeline *live = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && live->starting_bin
      && live->starting_thread == g_thread_self ()) {
    gboolean ours = FALSE;

    for (GstObject * o = GST_MESSAGE_SRC (msg); o; o = GST_OBJECT_PARENT (o))
      ours |= o == GST_OBJECT (live->starting_bin);
    if (ours && !live->start_error) {
      g_autofree gchar *debug = NULL;

      gst_message_parse_error (msg, &live->start_error, &debug);
      mr_builder_error_add_reason (live->start_error, debug);
    }
  }
  return mr_branch_bus_sync_handler (bus, msg, NULL);
}

gboolean
mr_live_pipeline_start_source (MrLivePipeline * live, const MrFlowSpec * spec,
    guint index, GError ** error)
{
  MrEndpoint *src = spec->sources->pdata[index];
  GstElement *stats = NULL;
  GstElement *bin;
  GstPad *sinkpad;
  g_autoptr (GstPad) srcpad = NULL;
  GError *err = NULL;

  g_return_val_if_fail (index < MR_MAX_SOURCES, FALSE);
  g_return_val_if_fail (live->source_bins[index] == NULL, FALSE);

  if (!(bin = mr_builder_source_bin (src, live->merger != NULL
              || live->rtp_fanout != NULL, &stats, error)))
    return FALSE;
  /* udp (MPEG-TS) only: an RTP source's jitter_ms comes from the arrival
   * times, which a gathered read would blur (and 2022-7 legs are read at
   * once) */
  if (live->read_interval > 0 && src->protocol == MR_PROTOCOL_UDP)
    set_read_interval (GST_BIN (bin), live->read_interval);
  gst_bin_add (GST_BIN (live->pipeline), bin);
  sinkpad = source_peer (live, spec, index);
  srcpad = gst_element_get_static_pad (bin, "src");
  gst_pad_link (srcpad, sinkpad);

  live->starting_bin = bin;
  live->starting_thread = g_thread_self ();
  if (!gst_element_sync_state_with_parent (bin)) {
    err = g_steal_pointer (&live->start_error);
    live->starting_bin = NULL;
    gst_element_set_state (bin, GST_STATE_NULL);
    gst_pad_unlink (srcpad, sinkpad);
    if (combiner (live))
      gst_element_release_request_pad (combiner (live), sinkpad);
    gst_object_unref (sinkpad);
    gst_bin_remove (GST_BIN (live->pipeline), bin);
    if (err) {
      g_set_error (error, MR_BUILDER_ERROR, 0, "source '%s': %s", src->name,
          err->message);
      g_error_free (err);
    } else {
      g_set_error (error, MR_BUILDER_ERROR, 0, "source '%s': could not start",
          src->name);
    }
    return FALSE;
  }
  live->starting_bin = NULL;
  g_clear_error (&live->start_error);

  GST_DEBUG_OBJECT (bin, "source '%s' started", src->name);
  live->source_bins[index] = bin;
  live->source_stats[index] = stats;
  if (combiner (live))
    live->selector_pads[index] = gst_pad_get_name (sinkpad);
  gst_object_unref (sinkpad);
  return TRUE;
}

void
mr_live_pipeline_stop_source (MrLivePipeline * live, guint index)
{
  GstElement *bin;
  g_autoptr (GstPad) srcpad = NULL;
  GstPad *peer;

  g_return_if_fail (index < MR_MAX_SOURCES);
  if (!(bin = live->source_bins[index]))
    return;

  /* stops its streaming thread; the selector switches away if needed */
  gst_element_set_locked_state (bin, TRUE);
  gst_element_set_state (bin, GST_STATE_NULL);
  srcpad = gst_element_get_static_pad (bin, "src");
  if ((peer = gst_pad_get_peer (srcpad))) {
    gst_pad_unlink (srcpad, peer);
    if (combiner (live))
      gst_element_release_request_pad (combiner (live), peer);
    gst_object_unref (peer);
  }
  GST_DEBUG_OBJECT (bin, "source stopped");
  gst_bin_remove (GST_BIN (live->pipeline), bin);
  live->source_bins[index] = NULL;
  live->source_stats[index] = NULL;
  g_clear_pointer (&live->selector_pads[index], g_free);
}

gint
mr_live_pipeline_source_of_element (MrLivePipeline * live, GstObject * element)
{
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o))
    for (guint i = 0; i < MR_MAX_SOURCES; i++)
      if (live->source_bins[i] && o == GST_OBJECT (live->source_bins[i]))
        return i;
  return -1;
}

gboolean
mr_live_pipeline_add_source (MrLivePipeline * live, const MrFlowSpec * spec,
    guint index, GError ** error)
{
  g_return_val_if_fail (combiner (live) != NULL, FALSE);
  g_return_val_if_fail (index < MR_MAX_SOURCES, FALSE);

  /* make room: the sources after @index move up by one */
  for (guint i = MR_MAX_SOURCES - 1; i > index; i--) {
    live->source_bins[i] = live->source_bins[i - 1];
    live->source_stats[i] = live->source_stats[i - 1];
    live->selector_pads[i] = live->selector_pads[i - 1];
  }
  live->source_bins[index] = NULL;
  live->source_stats[index] = NULL;
  live->selector_pads[index] = NULL;
  if (live->active_source >= index && spec->sources->len > 1)
    live->active_source++;
  return mr_live_pipeline_start_source (live, spec, index, error);
}

void
mr_live_pipeline_remove_source (MrLivePipeline * live, const gchar * name, guint index)
{
  g_return_if_fail (combiner (live) != NULL);
  g_return_if_fail (index < MR_MAX_SOURCES);

  mr_live_pipeline_stop_source (live, index);
  for (guint i = index; i + 1 < MR_MAX_SOURCES; i++) {
    live->source_bins[i] = live->source_bins[i + 1];
    live->source_stats[i] = live->source_stats[i + 1];
    live->selector_pads[i] = live->selector_pads[i + 1];
  }
  live->source_bins[MR_MAX_SOURCES - 1] = NULL;
  live->source_stats[MR_MAX_SOURCES - 1] = NULL;
  live->selector_pads[MR_MAX_SOURCES - 1] = NULL;
  if (live->active_source > index)
    live->active_source--;
  else if (live->active_source == index)
    live->active_source = 0;  /* until the selector says where it went */
}

void
mr_live_pipeline_set_primary (MrLivePipeline * live, guint index)
{
  for (guint i = 0; i < MR_MAX_SOURCES; i++) {
    GstPad *pad;

    if (!live->selector || !live->selector_pads[i])
      continue;
    pad = gst_element_get_static_pad (live->selector,
        live->selector_pads[i]);
    if (pad) {
      g_object_set (pad, "priority", i == index ? 0 : 1, NULL);
      gst_object_unref (pad);
    }
  }
}

/* Zeroes @live but for what the runner set (live-pipeline.h) */
static void
reset (MrLivePipeline * live)
{
  const gchar *files_dir = live->files_dir;
  MrFence *fence = live->fence;
  guint64 read_interval = live->read_interval;

  memset (live, 0, sizeof (*live));
  live->files_dir = files_dir;
  live->fence = fence;
  live->read_interval = read_interval;
}

gboolean
mr_live_pipeline_build (MrLivePipeline * live, const MrFlowSpec * spec,
    guint health_timeout_ms, GError ** error)
{
  GstElement *source;
  gboolean passes_rtp = mr_builder_passes_rtp (spec);
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstPad) fenced = NULL;

  static gsize debug_ready;

  if (g_once_init_enter (&debug_ready)) {
    GST_DEBUG_CATEGORY_INIT (mr_live_pipeline_debug, "mroute-pipeline", 0,
        "mroute: a flow's running pipeline and its live edits");
    g_once_init_leave (&debug_ready, 1);
  }
  reset (live);
  live->pipeline = gst_pipeline_new (spec->id);
  live->active_source = mr_builder_pick_source (spec);
  live->branches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) mr_branch_forget);
  /* fan-out key (mr_transport_fanout_key ()) -> udpfanoutsink, owned by
   * the pipeline */
  live->fanout_sinks = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  bus = gst_pipeline_get_bus (GST_PIPELINE (live->pipeline));
  gst_bus_set_sync_handler (bus, bus_sync_handler, live, NULL);

  source = NULL;
  if (mr_builder_uses_failover (spec)) {
    if (!(live->selector = mr_builder_failover_selector (health_timeout_ms,
                error)))
      goto fail;
    gst_bin_add (GST_BIN (live->pipeline), live->selector);
    source = live->selector;
  } else if (mr_builder_uses_merge (spec)) {
    GstElement *depay;

    /* source-a ! merge.sink_0  source-b ! merge.sink_1  merge ! depay */
    if (!mr_builder_merge (spec, &live->merger, &depay, error))
      goto fail;
    if (passes_rtp) {
      /* the merged RTP goes to the RTP tee, whose own depay feeds the TS
       * tee */
      gst_object_unref (gst_object_ref_sink (depay));
      gst_bin_add (GST_BIN (live->pipeline), live->merger);
      source = live->merger;
    } else {
      gst_bin_add_many (GST_BIN (live->pipeline), live->merger, depay, NULL);
      gst_element_link (live->merger, depay);
      source = depay;
    }
  }
  /* one source links straight to the (first) tee when it starts */
  if (!(live->fanout = mr_builder_make ("tee", "fanout", error)))
    goto fail;
  g_object_set (live->fanout, "allow-not-linked", TRUE, NULL);
  gst_bin_add (GST_BIN (live->pipeline), live->fanout);
  if (passes_rtp) {
    GstElement *depay;

    /* rtp-fanout ! rtpmp2tdepay ! fanout: the RTP outputs take the packets
     * as they came, everything else (monitoring, recording, TS outputs,
     * branches) MPEG-TS as in any flow */
    if (!(live->rtp_fanout = mr_builder_make ("tee", "rtp-fanout", error)))
      goto fail;
    g_object_set (live->rtp_fanout, "allow-not-linked", TRUE, NULL);
    gst_bin_add (GST_BIN (live->pipeline), live->rtp_fanout);
    if (!(depay = mr_builder_make ("rtpmp2tdepay", "fanout-depay", error)))
      goto fail;
    gst_bin_add (GST_BIN (live->pipeline), depay);
    gst_element_link_many (live->rtp_fanout, depay, live->fanout, NULL);
    if (source)
      gst_element_link (source, live->rtp_fanout);
  } else if (source) {
    gst_element_link (source, live->fanout);
  }
  /* the fence: before every output, the first tee's way in */
  fenced = gst_element_get_static_pad (live->rtp_fanout ? live->rtp_fanout :
      live->fanout, "sink");
  if (live->fence)
    mr_fence_attach (live->fence, fenced);

  for (guint i = 0; i < spec->outputs->len; i++)
    if (!mr_live_pipeline_attach_output (live, spec->outputs->pdata[i], error))
      goto fail;
  return TRUE;

fail:
  mr_live_pipeline_clear (live);
  return FALSE;
}

void
mr_live_pipeline_clear (MrLivePipeline * live)
{
  if (live->pipeline) {
    gst_element_set_state (live->pipeline, GST_STATE_NULL);
    /* the branches still in the pipeline go with it */
    g_clear_pointer (&live->branches, g_hash_table_unref);
    gst_object_unref (live->pipeline);
  }
  g_clear_pointer (&live->branches, g_hash_table_unref);
  g_clear_pointer (&live->fanout_sinks, g_hash_table_unref);
  for (guint i = 0; i < MR_MAX_SOURCES; i++)
    g_free (live->selector_pads[i]);
  g_clear_error (&live->start_error);
  reset (live);
}

/* Whether @out, of @transport, takes the RTP tee's packets as they came */
static gboolean
takes_rtp (MrLivePipeline * live, const MrTransport * transport)
{
  return live->rtp_fanout && transport->rtp_passthrough;
}

/* mr_transport_fanout_key (), but "rtp..." for the outputs that send the
 * RTP tee's packets as they came */
static gchar *
fanout_key (MrLivePipeline * live, const MrTransport * transport,
    const MrEndpoint * out)
{
  g_autofree gchar *key = mr_transport_fanout_key (transport, out);

  if (!takes_rtp (live, transport))
    return g_steal_pointer (&key);
  return g_strdup_printf ("rtp%s", key + strlen (transport->fanout_payloader ?
          transport->fanout_payloader : "ts"));
}

/* The shared udpfanoutsink of the outputs with @out's fan-out key
 * (payloader, multicast options: mr_transport_fanout_key ()), added as
 * "fanout. ! [payloader !] udpfanoutsink" in the pipeline's current state
 * when the first such output comes.  It stays when its last output goes,
 * without destinations, until the flow stops. */
static GstElement *
ensure_fanout_sink (MrLivePipeline * live, const MrTransport * transport,
    const MrEndpoint * out, GError ** error)
{
  g_autofree gchar *key = fanout_key (live, transport, out);
  gboolean rtp_in = takes_rtp (live, transport);
  GstElement *sink, *pay = NULL, *first;
  GstPad *teepad, *sinkpad;

  if ((sink = g_hash_table_lookup (live->fanout_sinks, key)))
    return sink;

  if (!(sink = mr_builder_fanout_sink (out, key, rtp_in, &pay, error)))
    return NULL;
  first = sink;
  if (pay) {
    gst_bin_add_many (GST_BIN (live->pipeline), pay, sink, NULL);
    gst_element_link (pay, sink);
    first = pay;
  } else {
    gst_bin_add (GST_BIN (live->pipeline), sink);
  }

  /* playing before linked: the tee must not push into a stopped sink */
  gst_element_sync_state_with_parent (sink);
  if (pay)
    gst_element_sync_state_with_parent (pay);
  teepad = gst_element_request_pad_simple (rtp_in ? live->rtp_fanout :
      live->fanout, "src_%u");
  sinkpad = gst_element_get_static_pad (first, "sink");
  gst_pad_link (teepad, sinkpad);
  gst_object_unref (sinkpad);
  gst_object_unref (teepad);
  g_hash_table_insert (live->fanout_sinks, g_steal_pointer (&key), sink);
  return sink;
}

GstElement *
mr_live_pipeline_output_sink (MrLivePipeline * live, const MrEndpoint * out)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  MrBranch *b;

  if (!transport)
    return NULL;
  if (transport->output_kind == MR_TRANSPORT_OUTPUT_FANOUT) {
    g_autofree gchar *key = fanout_key (live, transport, out);

    return live->fanout_sinks ? g_hash_table_lookup (live->fanout_sinks,
        key) : NULL;
  }
  b = live->branches ? g_hash_table_lookup (live->branches, out->name) :
      NULL;
  return b ? mr_branch_get_sink (b) : NULL;
}

gboolean
mr_live_pipeline_output_counters (MrLivePipeline * live, const MrEndpoint * out,
    guint64 * bytes, guint64 * packets, gboolean * failed)
{
  MrBranch *b = live->branches ?
      g_hash_table_lookup (live->branches, out->name) : NULL;

  if (!b)
    return FALSE;
  mr_branch_get_counters (b, bytes, packets);
  *failed = mr_branch_is_failed (b);
  return TRUE;
}

gboolean
mr_live_pipeline_attach_output (MrLivePipeline * live, const MrEndpoint * out,
    GError ** error)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  g_autofree gchar *dir = NULL;
  GstElement *sink;

  if (!transport) {
    g_set_error (error, MR_BUILDER_ERROR, 0, "output '%s': protocol %s is "
        "not supported by this version of mroute yet", out->name,
        mr_protocol_to_string (out->protocol));
    return FALSE;
  }
  if (transport->output_kind == MR_TRANSPORT_OUTPUT_FANOUT) {
    if (!(sink = ensure_fanout_sink (live, transport, out, error)))
      return FALSE;
    g_signal_emit_by_name (sink, "add", out->destination, out->port);
    GST_DEBUG_OBJECT (sink, "output '%s': client %s:%u added", out->name,
        out->destination, out->port);
    return TRUE;
  }
  if (transport->writes_files && !live->files_dir) {
    g_set_error (error, MR_BUILDER_ERROR, 0, "output '%s': protocol %s "
        "needs a folder for its files", out->name,
        mr_protocol_to_string (out->protocol));
    return FALSE;
  }
  dir = transport->writes_files ? g_build_filename (live->files_dir,
      out->name, NULL) : NULL;
  if (!(sink = mr_builder_output_sink (out, dir, error)))
    return FALSE;
  g_hash_table_replace (live->branches, g_strdup (out->name),
      mr_branch_attach (live->pipeline, live->fanout, out->name, sink,
          OUTPUT_QUEUE_MS));
  return TRUE;
}

void
mr_live_pipeline_detach_output (MrLivePipeline * live, const MrEndpoint * out)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  MrBranch *b = NULL;
  gchar *key;

  if (transport && transport->output_kind == MR_TRANSPORT_OUTPUT_FANOUT) {
    GstElement *sink = mr_live_pipeline_output_sink (live, out);

    if (sink)
      g_signal_emit_by_name (sink, "remove", out->destination, out->port);
    return;
  }
  if (live->branches
      && g_hash_table_steal_extended (live->branches, out->name,
          (gpointer *) & key, (gpointer *) & b)) {
    g_free (key);
    mr_branch_detach (b);
  }
  if (transport && transport->writes_files && live->files_dir) {
    g_autofree gchar *dir = g_build_filename (live->files_dir, out->name,
        NULL);

    mr_transport_remove_files (dir);
  }
}

gboolean
mr_live_pipeline_attach_recording (MrLivePipeline * live, const gchar * dir,
    guint segment_duration, GError ** error)
{
  GstElement *sink = mr_builder_recording_sink (dir, segment_duration, error);

  if (!sink)
    return FALSE;
  g_hash_table_replace (live->branches, g_strdup (MR_LIVE_RECORDING),
      mr_branch_attach (live->pipeline, live->fanout, MR_LIVE_RECORDING, sink,
          OUTPUT_QUEUE_MS));
  return TRUE;
}

void
mr_live_pipeline_detach_recording (MrLivePipeline * live)
{
  MrBranch *b = NULL;
  gchar *key;

  if (live->branches
      && g_hash_table_steal_extended (live->branches, MR_LIVE_RECORDING,
          (gpointer *) & key, (gpointer *) & b)) {
    g_free (key);
    mr_branch_detach (b);
  }
}
