/* mroute: the pipeline recipe. */

#include "recipe.h"

#define MR_RECIPE_ERROR (mr_recipe_error_quark ())
static G_DEFINE_QUARK (mr-recipe-error-quark, mr_recipe_error);

#define UDP_RECV_BUFFER (4 * 1024 * 1024)
#define SOURCE_PREFIX "source-"

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

guint
mr_recipe_pick_source (const MrFlowSpec * spec)
{
  guint index = 0;

  if (spec->primary_source)
    mr_flow_spec_find_source (spec, spec->primary_source, &index);
  return index;
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

/* Builds the elements of one source as a bin with one src pad. */
static GstElement *
build_source (const MrEndpoint * src, GstElement ** stats, GError ** error)
{
  g_autofree gchar *bin_name = g_strdup_printf (SOURCE_PREFIX "%s", src->name);
  GstElement *bin = gst_bin_new (bin_name);
  GstElement *udpsrc, *last;
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstPad) pad = NULL;

  switch (src->protocol) {
    case MR_PROTOCOL_UDP:
      caps = gst_caps_from_string ("video/mpegts, systemstream=(boolean)true,"
          " packetsize=(int)188");
      break;
    case MR_PROTOCOL_RTP:
    case MR_PROTOCOL_RTP_FEC:
      caps = gst_caps_from_string ("application/x-rtp, media=(string)video,"
          " clock-rate=(int)90000, encoding-name=(string)MP2T");
      break;
    default:
      g_set_error (error, MR_RECIPE_ERROR, 0, "source '%s': protocol %s is "
          "not supported by this version of mroute yet", src->name,
          mr_protocol_to_string (src->protocol));
      gst_object_unref (bin);
      return NULL;
  }

  if (!(udpsrc = make ("udpbatchsrc", "udpsrc", error))
      || !(*stats = make ("packetstats", "stats", error))) {
    g_clear_object (&udpsrc);
    gst_object_unref (bin);
    return NULL;
  }
  g_object_set (udpsrc, "port", src->ingest_port, "address",
      src->ingest_address ? src->ingest_address : "0.0.0.0", "caps", caps,
      "buffer-size", UDP_RECV_BUFFER, NULL);
  gst_bin_add_many (GST_BIN (bin), udpsrc, *stats, NULL);
  gst_element_link (udpsrc, *stats);
  last = *stats;

  if (src->protocol != MR_PROTOCOL_UDP) {
    GstElement *depay = make ("rtpmp2tdepay", "depay", error);
    if (!depay) {
      gst_object_unref (bin);
      return NULL;
    }
    gst_bin_add (GST_BIN (bin), depay);
    gst_element_link (last, depay);
    last = depay;
  }

  pad = gst_element_get_static_pad (last, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
  return bin;
}

gboolean
mr_recipe_build (MrRecipe * recipe, const MrFlowSpec * spec, GError ** error)
{
  GstElement *source;

  memset (recipe, 0, sizeof (*recipe));
  recipe->pipeline = gst_pipeline_new (spec->id);
  recipe->active_source = mr_recipe_pick_source (spec);

  source = build_source (spec->sources->pdata[recipe->active_source],
      &recipe->source_stats, error);
  if (!source)
    goto fail;
  if (!(recipe->fanout = make ("tee", "fanout", error))) {
    gst_object_unref (source);
    goto fail;
  }
  g_object_set (recipe->fanout, "allow-not-linked", TRUE, NULL);
  gst_bin_add_many (GST_BIN (recipe->pipeline), source, recipe->fanout, NULL);
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
    gst_object_unref (recipe->pipeline);
  }
  memset (recipe, 0, sizeof (*recipe));
}

/* Adds "fanout. ! [payloader !] multiudpsink" to the pipeline, in the
 * pipeline's current state. */
static GstElement *
ensure_udp_sink (MrRecipe * recipe, gboolean rtp, GError ** error)
{
  GstElement **slot = rtp ? &recipe->rtp_sink : &recipe->udp_sink;
  GstElement *sink, *pay = NULL, *first;
  GstPad *teepad, *sinkpad;

  if (*slot)
    return *slot;

  if (!(sink = make ("udpfanoutsink", rtp ? "rtp-out" : "udp-out", error)))
    return NULL;
  /* sends happen in the source thread: never wait on the clock, never
   * block a state change for preroll */
  g_object_set (sink, "sync", FALSE, "async", FALSE, "qos", FALSE,
      "enable-last-sample", FALSE, NULL);
  first = sink;
  if (rtp) {
    if (!(pay = make ("rtpmp2tpay", "rtp-pay", error))) {
      gst_object_unref (sink);
      return NULL;
    }
    /* one RTP packet per incoming datagram of 7 TS packets */
    g_object_set (pay, "mtu", 12 + 7 * 188, NULL);
    gst_bin_add_many (GST_BIN (recipe->pipeline), pay, sink, NULL);
    gst_element_link (pay, sink);
    first = pay;
  } else {
    gst_bin_add (GST_BIN (recipe->pipeline), sink);
  }

  teepad = gst_element_request_pad_simple (recipe->fanout, "src_%u");
  sinkpad = gst_element_get_static_pad (first, "sink");
  gst_pad_link (teepad, sinkpad);
  gst_object_unref (sinkpad);
  gst_object_unref (teepad);

  gst_element_sync_state_with_parent (sink);
  if (pay)
    gst_element_sync_state_with_parent (pay);
  *slot = sink;
  return sink;
}

GstElement *
mr_recipe_output_sink (MrRecipe * recipe, const MrEndpoint * out)
{
  switch (out->protocol) {
    case MR_PROTOCOL_UDP:
      return recipe->udp_sink;
    case MR_PROTOCOL_RTP:
    case MR_PROTOCOL_RTP_FEC:
      return recipe->rtp_sink;
    default:
      return NULL;
  }
}

gboolean
mr_recipe_attach_output (MrRecipe * recipe, const MrEndpoint * out,
    GError ** error)
{
  GstElement *sink;

  switch (out->protocol) {
    case MR_PROTOCOL_UDP:
    case MR_PROTOCOL_RTP:
    case MR_PROTOCOL_RTP_FEC:
      sink = ensure_udp_sink (recipe, out->protocol != MR_PROTOCOL_UDP, error);
      if (!sink)
        return FALSE;
      g_signal_emit_by_name (sink, "add", out->destination, out->port);
      return TRUE;
    default:
      g_set_error (error, MR_RECIPE_ERROR, 0, "output '%s': protocol %s is "
          "not supported by this version of mroute yet", out->name,
          mr_protocol_to_string (out->protocol));
      return FALSE;
  }
}

void
mr_recipe_detach_output (MrRecipe * recipe, const MrEndpoint * out)
{
  GstElement *sink = mr_recipe_output_sink (recipe, out);

  if (sink)
    g_signal_emit_by_name (sink, "remove", out->destination, out->port);
}
