/* mroute: the pieces every decoding path of the monitoring bin is made
 * of (monitor-streams.c adds the paths at a stream, thumbnail.c and
 * content-quality.c say what is in them): named elements, the best
 * software decoder, a leaky queue in front, a sink that does not count as
 * the bin's, a chain added and linked in the bin's state, and the gate
 * that switches a failed path off. */

#define G_LOG_DOMAIN "mroute-monitor"
#include "monitor-private.h"

#include <string.h>

GstElement *
mr_monitor_make_named (const gchar * factory, guint index, const gchar * what)
{
  g_autofree gchar *name = g_strdup_printf ("s%u-%s", index, what);
  return gst_element_factory_make (factory, name);
}

/* The best software decoder for @caps, NULL if there is none */
GstElement *
mr_monitor_make_decoder (GstCaps * caps, guint index, const gchar * what)
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

GstElement *
mr_monitor_make_capsfilter (guint index, const gchar * what,
    const gchar * caps_str)
{
  GstElement *f = mr_monitor_make_named ("capsfilter", index, what);
  g_autoptr (GstCaps) caps = gst_caps_from_string (caps_str);

  if (f)
    g_object_set (f, "caps", caps, NULL);
  return f;
}

/* A sink that does not count as one of the bin's: the bin's end of stream
 * is its entry's alone */
GstElement *
mr_monitor_make_quiet_sink (const gchar * factory, guint index,
    const gchar * what)
{
  GstElement *sink = mr_monitor_make_named (factory, index, what);

  if (!sink)
    return NULL;
  g_object_set (sink, "sync", FALSE, "async", FALSE, "enable-last-sample",
      FALSE, NULL);
  GST_OBJECT_FLAG_UNSET (sink, GST_ELEMENT_FLAG_SINK);
  return sink;
}

GstElement *
mr_monitor_make_path_queue (guint index, const gchar * what)
{
  GstElement *q = mr_monitor_make_named ("queue", index, what);

  if (q)
    g_object_set (q, "leaky", 2 /* downstream: drop the oldest */ ,
        "max-size-time", (guint64) PATH_MAX_TIME, "max-size-bytes",
        (guint) PATH_MAX_BYTES, "max-size-buffers", 0, NULL);
  return q;
}

/* Adds @elements (NULL-terminated, none NULL) to the bin and links them in
 * a row; on failure removes them again. */
gboolean
mr_monitor_add_chain (MrMonitorBin * bin, GstElement ** elements,
    gint * path_flag)
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

void
mr_monitor_unref_all (GstElement ** elements, guint n)
{
  for (guint i = 0; i < n; i++)
    if (elements[i])
      gst_object_unref (gst_object_ref_sink (elements[i]));
}

gboolean
mr_monitor_all_made (GstElement ** elements, guint n)
{
  for (guint i = 0; i < n; i++)
    if (!elements[i])
      return FALSE;
  return TRUE;
}

/* In front of a decoding path: a path that failed takes nothing more */
GstPadProbeReturn
mr_monitor_path_gate (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  gint *failed = user_data;

  return g_atomic_int_get (failed) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* Links a decoding path (its first element is its queue) to @tee, with
 * @gate in front of the queue. */
gboolean
mr_monitor_link_path (GstElement * tee, GstElement * queue,
    GstPadProbeCallback gate, gpointer gate_data)
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

const gchar *
mr_monitor_factory_name (GstElement * e)
{
  return GST_OBJECT_NAME (gst_element_get_factory (e));
}
