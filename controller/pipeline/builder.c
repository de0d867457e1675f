/* mroute: the pipeline builder.  See builder.h. */

#define G_LOG_DOMAIN "mroute-pipeline"
#include "builder.h"

#include <errno.h>

#include "branch.h"
#include "transports/transport.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mr_builder_debug);
#define GST_CAT_DEFAULT mr_builder_debug

G_DEFINE_QUARK (mr-builder-error-quark, mr_builder_error);

#define SOURCE_PREFIX "source-"

static void
debug_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (mr_builder_debug, "mroute-builder", 0,
        "mroute: a flow's elements, built from its spec");
    g_once_init_leave (&done, 1);
  }
}

GstElement *
mr_builder_make (const gchar * factory, const gchar * name, GError ** error)
{
  GstElement *e;

  debug_init ();
  e = gst_element_factory_make (factory, name);

  if (!e)
    g_set_error (error, MR_BUILDER_ERROR, 0,
        "GStreamer element '%s' is missing: is its plugin installed?",
        factory);
  return e;
}

void
mr_builder_error_add_reason (GError * error, const gchar * debug)
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
mr_builder_pick_source (const MrFlowSpec * spec)
{
  guint index = 0;

  if (spec->primary_source)
    mr_flow_spec_find_source (spec, spec->primary_source, &index);
  return index;
}

gboolean
mr_builder_uses_failover (const MrFlowSpec * spec)
{
  /* with one source too: the second can then come and go live */
  return spec->failover_enabled && spec->failover_mode ==
      MR_FAILOVER_MODE_FAILOVER;
}

gboolean
mr_builder_uses_merge (const MrFlowSpec * spec)
{
  return spec->failover_enabled && spec->failover_mode ==
      MR_FAILOVER_MODE_MERGE;
}

gboolean
mr_builder_passes_rtp (const MrFlowSpec * spec)
{
  gboolean rtp_outputs = FALSE;

  /* a selector switching between two streams of their own is no stream
   * two nodes could send alike */
  if (spec->redundancy < 2 || mr_builder_uses_failover (spec))
    return FALSE;
  for (guint i = 0; i < spec->sources->len; i++) {
    const MrEndpoint *src = spec->sources->pdata[i];
    const MrTransport *t = mr_transport_get (src->protocol);

    if (!t || !t->rtp_passthrough)
      return FALSE;
  }
  for (guint i = 0; i < spec->outputs->len; i++) {
    const MrEndpoint *out = spec->outputs->pdata[i];
    const MrTransport *t = mr_transport_get (out->protocol);

    rtp_outputs |= t && t->rtp_passthrough;
  }
  return rtp_outputs;
}

gboolean
mr_builder_runs_all_sources (const MrFlowSpec * spec)
{
  return mr_builder_uses_failover (spec) || mr_builder_uses_merge (spec);
}

gboolean
mr_builder_element_is_source (GstObject * element)
{
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o)) {
    const gchar *name = GST_OBJECT_NAME (o);
    if (name && g_str_has_prefix (name, SOURCE_PREFIX))
      return TRUE;
  }
  return FALSE;
}

gchar *
mr_builder_element_source (GstObject * element)
{
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o)) {
    const gchar *name = GST_OBJECT_NAME (o);
    if (name && g_str_has_prefix (name, SOURCE_PREFIX))
      return g_strdup (name + strlen (SOURCE_PREFIX));
  }
  return NULL;
}

gchar *
mr_builder_element_output (GstObject * element)
{
  /* by name, so that it still answers for a branch being removed */
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o)) {
    const gchar *name = GST_OBJECT_NAME (o);
    if (name && g_str_has_prefix (name, MR_BRANCH_PREFIX)) {
      const gchar *output = name + strlen (MR_BRANCH_PREFIX);

      return g_strndup (output, strcspn (output, MR_BRANCH_GENERATION));
    }
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
            gst_structure_new_empty (MR_BUILDER_SOURCE_EOS)));
    gst_object_unref (bin);
  }
  return GST_PAD_PROBE_DROP;
}

GstElement *
mr_builder_source_bin (const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GError ** error)
{
  const MrTransport *transport = mr_transport_get (src->protocol);
  g_autofree gchar *bin_name = g_strdup_printf (SOURCE_PREFIX "%s", src->name);
  GstElement *bin, *last = NULL;
  g_autoptr (GstPad) pad = NULL;
  GstPad *ghost;

  if (!transport || !transport->build_source) {
    g_set_error (error, MR_BUILDER_ERROR, 0, "source '%s': protocol %s is "
        "not supported by this version of mroute yet", src->name,
        mr_protocol_to_string (src->protocol));
    return NULL;
  }
  debug_init ();
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
  GST_DEBUG_OBJECT (bin, "source '%s' (%s) built, %s out", src->name,
      mr_protocol_to_string (src->protocol), rtp_out ? "RTP" : "MPEG-TS");
  return bin;
}

GstElement *
mr_builder_failover_selector (guint health_timeout_ms, GError ** error)
{
  GstElement *selector = mr_builder_make ("failoverselector", "failover",
      error);

  if (!selector)
    return NULL;
  /* on a failover the backup's newest data goes out at once */
  g_object_set (selector, "timeout", health_timeout_ms, "send-held", TRUE,
      NULL);
  return selector;
}

gboolean
mr_builder_merge (const MrFlowSpec * spec, GstElement ** merger,
    GstElement ** depay, GError ** error)
{
  *merger = mr_builder_make ("rtpst2022-7-merge", "merge", error);
  *depay = NULL;
  if (!*merger)
    return FALSE;
  if (!(*depay = mr_builder_make ("rtpmp2tdepay", "merge-depay", error))) {
    gst_clear_object (merger);
    return FALSE;
  }
  g_object_set (*merger, "recovery-window", (guint) spec->recovery_window,
      NULL);
  return TRUE;
}

GstElement *
mr_builder_fanout_sink (const MrEndpoint * out, const gchar * key,
    gboolean rtp_in, GstElement ** pay, GError ** error)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  const gchar *payloader = rtp_in ? NULL : transport->fanout_payloader;
  g_autofree gchar *sink_name = g_strdup_printf ("fanout-%s", key);
  GstElement *sink;

  *pay = NULL;
  if (!(sink = mr_builder_make ("udpfanoutsink", sink_name, error)))
    return NULL;
  mr_transport_set_send_options (sink, out);
  /* sends happen in the source thread: never wait on the clock, never
   * block a state change for preroll */
  g_object_set (sink, "sync", FALSE, "async", FALSE, "qos", FALSE,
      "enable-last-sample", FALSE, NULL);
  if (payloader) {
    if (!(*pay = mr_builder_make (payloader, NULL, error))) {
      gst_object_unref (sink);
      return NULL;
    }
    /* one RTP packet per incoming datagram of 7 TS packets */
    g_object_set (*pay, "mtu", MR_RTP_MTU, NULL);
  }
  GST_DEBUG_OBJECT (sink, "shared sink for %s outputs built",
      rtp_in ? "RTP as it came" : payloader ? payloader : "MPEG-TS");
  return sink;
}

GstElement *
mr_builder_output_sink (const MrEndpoint * out, const gchar * dir,
    GError ** error)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  GstElement *sink;

  debug_init ();
  if (!transport) {
    g_set_error (error, MR_BUILDER_ERROR, 0, "output '%s': protocol %s is "
        "not supported by this version of mroute yet", out->name,
        mr_protocol_to_string (out->protocol));
    return NULL;
  }
  if (transport->output_kind == MR_TRANSPORT_OUTPUT_FANOUT) {
    g_set_error (error, MR_BUILDER_ERROR, 0, "output '%s': protocol %s "
        "is served by the shared fan-out sink", out->name,
        mr_protocol_to_string (out->protocol));
    return NULL;
  }
  if ((sink = transport->make_output (out, dir, error)))
    GST_DEBUG_OBJECT (sink, "output '%s' (%s) built", out->name,
        mr_protocol_to_string (out->protocol));
  return sink;
}

GstElement *
mr_builder_recording_sink (const gchar * dir, guint segment_duration,
    GError ** error)
{
  GstElement *sink;

  debug_init ();
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, MR_BUILDER_ERROR, 0, "cannot make the recording "
        "folder %s: %s", dir, g_strerror (errno));
    return NULL;
  }
  if (!(sink = mr_builder_make ("tssegmentsink", "recorder", error)))
    return NULL;
  g_object_set (sink, "directory", dir, "target-duration", segment_duration,
      "enable-last-sample", FALSE, NULL);
  return sink;
}
