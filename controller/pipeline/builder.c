/* mroute: the pipeline recipe. */

#define G_LOG_DOMAIN "mroute-recipe"
#include "builder.h"

#include "branch.h"
#include "transports/transport.h"

#include <string.h>

#define MR_RECIPE_ERROR (mr_recipe_error_quark ())
static G_DEFINE_QUARK (mr-recipe-error-quark, mr_recipe_error);

#define SOURCE_PREFIX "source-"
/* how much a slow queued output may lag before it loses its oldest data */
#define OUTPUT_QUEUE_MS 1000

static GstElement *
make (const gchar * factory, const gchar * name, GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e)
    g_set_error (error, MR_RECIPE_ERROR, 0,
        "GStreamer element '%s' is missing: is its plugin installed?",
        factory);
  return e;
}

void
mr_recipe_error_add_reason (GError * error, const gchar * debug)
{
  const gchar *nl;
  g_autofree gchar *detail = NULL;
  g_autofree gchar *message = NULL;
  gsize len;

  if (!error || !debug)
    return;
  /* "file.c(123): function (): /GstPipeline:p/...:\nthe reason" */
  nl = strrchr (debug, '\n');
  detail = g_strstrip (g_strdup (nl ? nl + 1 : debug));
  if (!*detail || strstr (error->message, detail) || strstr (detail, "): "))
    return;
  message = g_strdup (error->message);
  len = strlen (message);
  while (len > 0 && (message[len - 1] == '.' || message[len - 1] == ' '))
    message[--len] = '\0';
  g_free (error->message);
  error->message = g_strdup_printf ("%s: %s", message, detail);
}

guint
mr_recipe_pick_source (const MrFlowSpec * spec)
{
  guint index = 0;

  if (spec->primary_source)
    mr_flow_spec_find_source (spec, spec->primary_source, &index);
  return index;
}

gboolean
mr_recipe_uses_failover (const MrFlowSpec * spec)
{
  /* with one source too: the second can then come and go live */
  return spec->failover_enabled && spec->failover_mode ==
      MR_FAILOVER_MODE_FAILOVER;
}

gboolean
mr_recipe_uses_merge (const MrFlowSpec * spec)
{
  return spec->failover_enabled && spec->failover_mode ==
      MR_FAILOVER_MODE_MERGE;
}

gboolean
mr_recipe_runs_all_sources (const MrFlowSpec * spec)
{
  return mr_recipe_uses_failover (spec) || mr_recipe_uses_merge (spec);
}

/* The element every source runs into: failoverselector or the merger */
static GstElement *
combiner (MrRecipe * recipe)
{
  return recipe->selector ? recipe->selector : recipe->merger;
}

gint
mr_recipe_source_of_stats (MrRecipe * recipe, GstObject * element)
{
  for (guint i = 0; i < MR_MAX_SOURCES; i++)
    if (recipe->source_stats[i]
        && GST_OBJECT (recipe->source_stats[i]) == element)
      return i;
  return -1;
}

gint
mr_recipe_source_of_pad (MrRecipe * recipe, const gchar * pad_name)
{
  for (guint i = 0; i < MR_MAX_SOURCES; i++)
    if (recipe->selector_pads[i]
        && g_strcmp0 (recipe->selector_pads[i], pad_name) == 0)
      return i;
  return -1;
}

gboolean
mr_recipe_element_is_source (GstObject * element)
{
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o)) {
    const gchar *name = GST_OBJECT_NAME (o);
    if (name && g_str_has_prefix (name, SOURCE_PREFIX))
      return TRUE;
  }
  return FALSE;
}

gchar *
mr_recipe_element_source (GstObject * element)
{
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o)) {
    const gchar *name = GST_OBJECT_NAME (o);
    if (name && g_str_has_prefix (name, SOURCE_PREFIX))
      return g_strdup (name + strlen (SOURCE_PREFIX));
  }
  return NULL;
}

gchar *
mr_recipe_element_output (GstObject * element)
{
  /* by name, so that it still answers for a branch being removed */
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o)) {
    const gchar *name = GST_OBJECT_NAME (o);
    if (name && g_str_has_prefix (name, MR_BRANCH_PREFIX))
      return g_strdup (name + strlen (MR_BRANCH_PREFIX));
  }
  return NULL;
}

/* One source ending must not end the flow: its EOS stops at the bin's
 * edge, and the bin says so on the bus, so that the runner can start the
 * source again.  (A tee or selector that saw EOS would refuse the data of
 * the source's next life.) */
static GstPadProbeReturn
hold_back_eos (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstObject *bin;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  if ((bin = gst_pad_get_parent (pad))) {
    gst_element_post_message (GST_ELEMENT (bin), gst_message_new_element (bin,
            gst_structure_new_empty (MR_RECIPE_SOURCE_EOS)));
    gst_object_unref (bin);
  }
  return GST_PAD_PROBE_DROP;
}

/* Builds the elements of one source as a bin with one src pad: MPEG-TS,
 * or with @rtp_out the RTP packets of an RTP source, for the merger. */
static GstElement *
build_source (const MrEndpoint * src, GstElement ** stats, gboolean rtp_out,
    GError ** error)
{
  const MrTransport *transport = mr_transport_get (src->protocol);
  g_autofree gchar *bin_name = g_strdup_printf (SOURCE_PREFIX "%s", src->name);
  GstElement *bin, *last = NULL;
  g_autoptr (GstPad) pad = NULL;
  GstPad *ghost;

  if (!transport) {
    g_set_error (error, MR_RECIPE_ERROR, 0, "source '%s': protocol %s is "
        "not supported by this version of mroute yet", src->name,
        mr_protocol_to_string (src->protocol));
    return NULL;
  }
  bin = gst_bin_new (bin_name);
  if (!transport->build_source (GST_BIN (bin), src, rtp_out, stats, &last,
          error)) {
    gst_object_unref (bin);
    return NULL;
  }
  pad = gst_element_get_static_pad (last, "src");
  ghost = gst_ghost_pad_new ("src", pad);
  gst_pad_add_probe (ghost, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      hold_back_eos, NULL, NULL);
  gst_element_add_pad (bin, ghost);
  return bin;
}

/* The element every source runs into, and the pad there for the source
 * at @index: a new pad of the selector or merger (for the selector lower
 * priority wins: the primary 0), or the tee's sink pad. */
static GstPad *
source_peer (MrRecipe * recipe, const MrFlowSpec * spec, guint index)
{
  GstPad *sinkpad;

  if (!combiner (recipe))
    return gst_element_get_static_pad (recipe->fanout, "sink");
  sinkpad = gst_element_request_pad_simple (combiner (recipe), "sink_%u");
  if (recipe->selector)
    g_object_set (sinkpad, "priority",
        index == mr_recipe_pick_source (spec) ? 0 : 1, NULL);
  return sinkpad;
}

/* Runs in the thread that posts: outputs mark their branch failed, and the
 * error a source posts while mr_recipe_start_source () brings it up (in
 * that same thread) is kept for it to say why. */
static GstBusSyncReply
bus_sync_handler (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  MrRecipe *recipe = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && recipe->starting_bin
      && recipe->starting_thread == g_thread_self ()) {
    gboolean ours = FALSE;

    for (GstObject * o = GST_MESSAGE_SRC (msg); o; o = GST_OBJECT_PARENT (o))
      ours |= o == GST_OBJECT (recipe->starting_bin);
    if (ours && !recipe->start_error) {
      g_autofree gchar *debug = NULL;

      gst_message_parse_error (msg, &recipe->start_error, &debug);
      mr_recipe_error_add_reason (recipe->start_error, debug);
    }
  }
  return mr_branch_bus_sync_handler (bus, msg, NULL);
}

gboolean
mr_recipe_start_source (MrRecipe * recipe, const MrFlowSpec * spec,
    guint index, GError ** error)
{
  MrEndpoint *src = spec->sources->pdata[index];
  GstElement *stats = NULL;
  GstElement *bin;
  GstPad *sinkpad;
  g_autoptr (GstPad) srcpad = NULL;
  GError *err = NULL;

  g_return_val_if_fail (index < MR_MAX_SOURCES, FALSE);
  g_return_val_if_fail (recipe->source_bins[index] == NULL, FALSE);

  if (!(bin = build_source (src, &stats, recipe->merger != NULL, error)))
    return FALSE;
  gst_bin_add (GST_BIN (recipe->pipeline), bin);
  sinkpad = source_peer (recipe, spec, index);
  srcpad = gst_element_get_static_pad (bin, "src");
  gst_pad_link (srcpad, sinkpad);

  recipe->starting_bin = bin;
  recipe->starting_thread = g_thread_self ();
  if (!gst_element_sync_state_with_parent (bin)) {
    err = g_steal_pointer (&recipe->start_error);
    recipe->starting_bin = NULL;
    gst_element_set_state (bin, GST_STATE_NULL);
    gst_pad_unlink (srcpad, sinkpad);
    if (combiner (recipe))
      gst_element_release_request_pad (combiner (recipe), sinkpad);
    gst_object_unref (sinkpad);
    gst_bin_remove (GST_BIN (recipe->pipeline), bin);
    if (err) {
      g_set_error (error, MR_RECIPE_ERROR, 0, "source '%s': %s", src->name,
          err->message);
      g_error_free (err);
    } else {
      g_set_error (error, MR_RECIPE_ERROR, 0, "source '%s': could not start",
          src->name);
    }
    return FALSE;
  }
  recipe->starting_bin = NULL;
  g_clear_error (&recipe->start_error);

  recipe->source_bins[index] = bin;
  recipe->source_stats[index] = stats;
  if (combiner (recipe))
    recipe->selector_pads[index] = gst_pad_get_name (sinkpad);
  gst_object_unref (sinkpad);
  return TRUE;
}

void
mr_recipe_stop_source (MrRecipe * recipe, guint index)
{
  GstElement *bin;
  g_autoptr (GstPad) srcpad = NULL;
  GstPad *peer;

  g_return_if_fail (index < MR_MAX_SOURCES);
  if (!(bin = recipe->source_bins[index]))
    return;

  /* stops its streaming thread; the selector switches away if needed */
  gst_element_set_locked_state (bin, TRUE);
  gst_element_set_state (bin, GST_STATE_NULL);
  srcpad = gst_element_get_static_pad (bin, "src");
  if ((peer = gst_pad_get_peer (srcpad))) {
    gst_pad_unlink (srcpad, peer);
    if (combiner (recipe))
      gst_element_release_request_pad (combiner (recipe), peer);
    gst_object_unref (peer);
  }
  gst_bin_remove (GST_BIN (recipe->pipeline), bin);
  recipe->source_bins[index] = NULL;
  recipe->source_stats[index] = NULL;
  g_clear_pointer (&recipe->selector_pads[index], g_free);
}

gint
mr_recipe_source_of_element (MrRecipe * recipe, GstObject * element)
{
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o))
    for (guint i = 0; i < MR_MAX_SOURCES; i++)
      if (recipe->source_bins[i] && o == GST_OBJECT (recipe->source_bins[i]))
        return i;
  return -1;
}

static GstElement *
build_failover (MrRecipe * recipe, const MrFlowSpec * spec,
    guint health_timeout_ms, GError ** error)
{
  GstElement *selector = make ("failoverselector", "failover", error);

  if (!selector)
    return NULL;
  /* on a failover the backup's newest data goes out at once */
  g_object_set (selector, "timeout", health_timeout_ms, "send-held", TRUE,
      NULL);
  gst_bin_add (GST_BIN (recipe->pipeline), selector);
  recipe->selector = selector;
  return selector;
}

/* MERGE: every source's RTP into the ST 2022-7 merger, depayloaded once
 * after it:  source-a ! merge.sink_0  source-b ! merge.sink_1
 *            merge ! rtpmp2tdepay  */
static GstElement *
build_merge (MrRecipe * recipe, const MrFlowSpec * spec, GError ** error)
{
  GstElement *merger = make ("rtpst2022-7-merge", "merge", error);
  GstElement *depay;

  if (!merger)
    return NULL;
  if (!(depay = make ("rtpmp2tdepay", "merge-depay", error))) {
    gst_object_unref (merger);
    return NULL;
  }
  g_object_set (merger, "recovery-window", (guint) spec->recovery_window,
      NULL);
  gst_bin_add_many (GST_BIN (recipe->pipeline), merger, depay, NULL);
  gst_element_link (merger, depay);
  recipe->merger = merger;
  return depay;
}

gboolean
mr_recipe_add_source (MrRecipe * recipe, const MrFlowSpec * spec,
    guint index, GError ** error)
{
  g_return_val_if_fail (combiner (recipe) != NULL, FALSE);
  g_return_val_if_fail (index < MR_MAX_SOURCES, FALSE);

  /* make room: the sources after @index move up by one */
  for (guint i = MR_MAX_SOURCES - 1; i > index; i--) {
    recipe->source_bins[i] = recipe->source_bins[i - 1];
    recipe->source_stats[i] = recipe->source_stats[i - 1];
    recipe->selector_pads[i] = recipe->selector_pads[i - 1];
  }
  recipe->source_bins[index] = NULL;
  recipe->source_stats[index] = NULL;
  recipe->selector_pads[index] = NULL;
  if (recipe->active_source >= index && spec->sources->len > 1)
    recipe->active_source++;
  return mr_recipe_start_source (recipe, spec, index, error);
}

void
mr_recipe_remove_source (MrRecipe * recipe, const gchar * name, guint index)
{
  g_return_if_fail (combiner (recipe) != NULL);
  g_return_if_fail (index < MR_MAX_SOURCES);

  mr_recipe_stop_source (recipe, index);
  for (guint i = index; i + 1 < MR_MAX_SOURCES; i++) {
    recipe->source_bins[i] = recipe->source_bins[i + 1];
    recipe->source_stats[i] = recipe->source_stats[i + 1];
    recipe->selector_pads[i] = recipe->selector_pads[i + 1];
  }
  recipe->source_bins[MR_MAX_SOURCES - 1] = NULL;
  recipe->source_stats[MR_MAX_SOURCES - 1] = NULL;
  recipe->selector_pads[MR_MAX_SOURCES - 1] = NULL;
  if (recipe->active_source > index)
    recipe->active_source--;
  else if (recipe->active_source == index)
    recipe->active_source = 0;  /* until the selector says where it went */
}

void
mr_recipe_set_primary (MrRecipe * recipe, guint index)
{
  for (guint i = 0; i < MR_MAX_SOURCES; i++) {
    GstPad *pad;

    if (!recipe->selector || !recipe->selector_pads[i])
      continue;
    pad = gst_element_get_static_pad (recipe->selector,
        recipe->selector_pads[i]);
    if (pad) {
      g_object_set (pad, "priority", i == index ? 0 : 1, NULL);
      gst_object_unref (pad);
    }
  }
}

gboolean
mr_recipe_build (MrRecipe * recipe, const MrFlowSpec * spec,
    guint health_timeout_ms, GError ** error)
{
  GstElement *source;
  g_autoptr (GstBus) bus = NULL;

  memset (recipe, 0, sizeof (*recipe));
  recipe->pipeline = gst_pipeline_new (spec->id);
  recipe->active_source = mr_recipe_pick_source (spec);
  recipe->branches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) mr_branch_forget);
  /* payloader name ("" for none) -> udpfanoutsink, owned by the pipeline */
  recipe->fanout_sinks = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  bus = gst_pipeline_get_bus (GST_PIPELINE (recipe->pipeline));
  gst_bus_set_sync_handler (bus, bus_sync_handler, recipe, NULL);

  source = NULL;
  if (mr_recipe_uses_failover (spec)) {
    if (!(source = build_failover (recipe, spec, health_timeout_ms, error)))
      goto fail;
  } else if (mr_recipe_uses_merge (spec)) {
    if (!(source = build_merge (recipe, spec, error)))
      goto fail;
  }
  /* one source links straight to the tee when it starts */
  if (!(recipe->fanout = make ("tee", "fanout", error)))
    goto fail;
  g_object_set (recipe->fanout, "allow-not-linked", TRUE, NULL);
  gst_bin_add (GST_BIN (recipe->pipeline), recipe->fanout);
  if (source)
    gst_element_link (source, recipe->fanout);

  for (guint i = 0; i < spec->outputs->len; i++)
    if (!mr_recipe_attach_output (recipe, spec->outputs->pdata[i], error))
      goto fail;
  return TRUE;

fail:
  mr_recipe_clear (recipe);
  return FALSE;
}

void
mr_recipe_clear (MrRecipe * recipe)
{
  if (recipe->pipeline) {
    gst_element_set_state (recipe->pipeline, GST_STATE_NULL);
    /* the branches still in the pipeline go with it */
    g_clear_pointer (&recipe->branches, g_hash_table_unref);
    gst_object_unref (recipe->pipeline);
  }
  g_clear_pointer (&recipe->branches, g_hash_table_unref);
  g_clear_pointer (&recipe->fanout_sinks, g_hash_table_unref);
  for (guint i = 0; i < MR_MAX_SOURCES; i++)
    g_free (recipe->selector_pads[i]);
  g_clear_error (&recipe->start_error);
  memset (recipe, 0, sizeof (*recipe));
}

/* The shared udpfanoutsink of the outputs that go through @payloader
 * (NULL: plain TS), added as "fanout. ! [payloader !] udpfanoutsink" in
 * the pipeline's current state when the first such output comes. */
static GstElement *
ensure_fanout_sink (MrRecipe * recipe, const gchar * payloader,
    GError ** error)
{
  const gchar *key = payloader ? payloader : "";
  g_autofree gchar *sink_name = g_strdup_printf ("fanout-%s",
      payloader ? payloader : "ts");
  GstElement *sink, *pay = NULL, *first;
  GstPad *teepad, *sinkpad;

  if ((sink = g_hash_table_lookup (recipe->fanout_sinks, key)))
    return sink;

  if (!(sink = make ("udpfanoutsink", sink_name, error)))
    return NULL;
  /* sends happen in the source thread: never wait on the clock, never
   * block a state change for preroll */
  g_object_set (sink, "sync", FALSE, "async", FALSE, "qos", FALSE,
      "enable-last-sample", FALSE, NULL);
  first = sink;
  if (payloader) {
    if (!(pay = make (payloader, NULL, error))) {
      gst_object_unref (sink);
      return NULL;
    }
    /* one RTP packet per incoming datagram of 7 TS packets */
    g_object_set (pay, "mtu", MR_RTP_MTU, NULL);
    gst_bin_add_many (GST_BIN (recipe->pipeline), pay, sink, NULL);
    gst_element_link (pay, sink);
    first = pay;
  } else {
    gst_bin_add (GST_BIN (recipe->pipeline), sink);
  }

  /* playing before linked: the tee must not push into a stopped sink */
  gst_element_sync_state_with_parent (sink);
  if (pay)
    gst_element_sync_state_with_parent (pay);
  teepad = gst_element_request_pad_simple (recipe->fanout, "src_%u");
  sinkpad = gst_element_get_static_pad (first, "sink");
  gst_pad_link (teepad, sinkpad);
  gst_object_unref (sinkpad);
  gst_object_unref (teepad);
  g_hash_table_insert (recipe->fanout_sinks, g_strdup (key), sink);
  return sink;
}

GstElement *
mr_recipe_output_sink (MrRecipe * recipe, const MrEndpoint * out)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  MrBranch *b;

  if (!transport)
    return NULL;
  if (transport->output_kind == MR_TRANSPORT_OUTPUT_FANOUT)
    return recipe->fanout_sinks ? g_hash_table_lookup (recipe->fanout_sinks,
        transport->fanout_payloader ? transport->fanout_payloader : "") :
        NULL;
  b = recipe->branches ? g_hash_table_lookup (recipe->branches, out->name) :
      NULL;
  return b ? mr_branch_get_sink (b) : NULL;
}

gboolean
mr_recipe_output_counters (MrRecipe * recipe, const MrEndpoint * out,
    guint64 * bytes, guint64 * packets, gboolean * failed)
{
  MrBranch *b = recipe->branches ?
      g_hash_table_lookup (recipe->branches, out->name) : NULL;

  if (!b)
    return FALSE;
  mr_branch_get_counters (b, bytes, packets);
  *failed = mr_branch_is_failed (b);
  return TRUE;
}

gboolean
mr_recipe_attach_output (MrRecipe * recipe, const MrEndpoint * out,
    GError ** error)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  GstElement *sink;

  if (!transport) {
    g_set_error (error, MR_RECIPE_ERROR, 0, "output '%s': protocol %s is "
        "not supported by this version of mroute yet", out->name,
        mr_protocol_to_string (out->protocol));
    return FALSE;
  }
  if (transport->output_kind == MR_TRANSPORT_OUTPUT_FANOUT) {
    if (!(sink = ensure_fanout_sink (recipe, transport->fanout_payloader,
                error)))
      return FALSE;
    g_signal_emit_by_name (sink, "add", out->destination, out->port);
    return TRUE;
  }
  if (!(sink = transport->make_output (out, error)))
    return FALSE;
  g_hash_table_replace (recipe->branches, g_strdup (out->name),
      mr_branch_attach (recipe->pipeline, recipe->fanout, out->name, sink,
          OUTPUT_QUEUE_MS));
  return TRUE;
}

void
mr_recipe_detach_output (MrRecipe * recipe, const MrEndpoint * out)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  MrBranch *b = NULL;
  gchar *key;

  if (transport && transport->output_kind == MR_TRANSPORT_OUTPUT_FANOUT) {
    GstElement *sink = mr_recipe_output_sink (recipe, out);

    if (sink)
      g_signal_emit_by_name (sink, "remove", out->destination, out->port);
    return;
  }
  if (recipe->branches
      && g_hash_table_steal_extended (recipe->branches, out->name,
          (gpointer *) & key, (gpointer *) & b)) {
    g_free (key);
    mr_branch_detach (b);
  }
}
