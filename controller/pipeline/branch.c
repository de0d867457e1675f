/* mroute: an isolated output branch of a flow's pipeline: a sink behind
 * the isolation of isolation.h, attached to and detached from the tee of a
 * running pipeline. */

#define G_LOG_DOMAIN "mroute-branch"
#include "branch.h"
#include "isolation.h"

#include <gst/base/gstbasesink.h>

GST_DEBUG_CATEGORY_STATIC (mr_branch_debug);
#define GST_CAT_DEFAULT mr_branch_debug
static gsize debug_ready;

static GQuark branch_quark;

struct _MrBranch
{
  gchar *output_name;
  GstElement *pipeline;         /* ref */
  GstElement *tee;              /* ref */
  GstElement *bin;              /* ref */
  GstElement *sink;             /* borrowed from the bin */
  GstPad *teepad;               /* ref, request pad of the tee */
  MrIsolation *isolation;       /* borrowed from the bin; closed = failed */
};

static void
branch_free (MrBranch * b)
{
  g_free (b->output_name);
  gst_object_unref (b->teepad);
  gst_object_unref (b->bin);
  gst_object_unref (b->tee);
  gst_object_unref (b->pipeline);
  g_free (b);
}

void
mr_branch_make_sinks_async_false (GstElement * bin)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    if (GST_IS_BASE_SINK (e))
      gst_base_sink_set_async_enabled (GST_BASE_SINK (e), FALSE);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

void
mr_branch_get_counters (MrBranch * b, guint64 * bytes, guint64 * packets)
{
  mr_isolation_get_counters (b->isolation, bytes, packets);
}

MrBranch *
mr_branch_attach (GstElement * pipeline, GstElement * tee,
    const gchar * output_name, GstElement * sink, guint max_queue_ms)
{
  MrBranch *b = g_new0 (MrBranch, 1);
  g_autofree gchar *name = g_strdup_printf (MR_BRANCH_PREFIX "%s",
      output_name);
  g_autoptr (GstPad) ghost = NULL;
  g_autoptr (GstElement) old = gst_bin_get_by_name (GST_BIN (pipeline), name);
  static gint generation;

  if (g_once_init_enter (&debug_ready)) {
    GST_DEBUG_CATEGORY_INIT (mr_branch_debug, "mroute-branch", 0,
        "mroute: isolated output branches");
    branch_quark = g_quark_from_static_string ("mroute-branch");
    g_once_init_leave (&debug_ready, 1);
  }

  /* the output's previous branch leaves at the next idle (finish_detach):
   * a branch attached anew before that (a PUT of the output) takes
   * another name, or the pipeline would refuse it */
  if (old) {
    g_free (name);
    name = g_strdup_printf (MR_BRANCH_PREFIX "%s" MR_BRANCH_GENERATION "%d",
        output_name, g_atomic_int_add (&generation, 1));
  }
  b->output_name = g_strdup (output_name);
  b->pipeline = gst_object_ref (pipeline);
  b->tee = gst_object_ref (tee);
  b->bin = gst_object_ref_sink (gst_bin_new (name));
  b->sink = sink;
  b->isolation = mr_isolation_add (GST_BIN (b->bin),
      (guint64) max_queue_ms * GST_MSECOND, 0);
  gst_bin_add (GST_BIN (b->bin), sink);
  gst_element_link (mr_isolation_get_tail (b->isolation), sink);
  ghost = gst_element_get_static_pad (b->bin, "sink");
  g_object_set_qdata (G_OBJECT (b->bin), branch_quark, b);
  /* no sink of an output may hold the flow in PAUSED until it gets data */
  mr_branch_make_sinks_async_false (b->bin);

  /* running before it is linked: the tee must never push into a branch
   * that is not playing yet (it would answer FLUSHING and stop the source) */
  gst_bin_add (GST_BIN (pipeline), b->bin);
  gst_element_sync_state_with_parent (b->bin);
  b->teepad = gst_element_request_pad_simple (tee, "src_%u");
  gst_pad_link (b->teepad, ghost);
  GST_DEBUG_OBJECT (b->bin, "output '%s' attached to %" GST_PTR_FORMAT,
      output_name, b->teepad);
  return b;
}

static gboolean
finish_detach (gpointer user_data)
{
  MrBranch *b = user_data;

  gst_element_set_state (b->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (b->pipeline), b->bin);
  gst_element_release_request_pad (b->tee, b->teepad);
  branch_free (b);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
unlink_when_idle (GstPad * teepad, GstPadProbeInfo * info, gpointer user_data)
{
  MrBranch *b = user_data;
  GstPad *peer = gst_pad_get_peer (teepad);

  if (peer) {
    gst_pad_unlink (teepad, peer);
    gst_object_unref (peer);
  }
  g_idle_add (finish_detach, b);
  return GST_PAD_PROBE_REMOVE;
}

void
mr_branch_detach (MrBranch * b)
{
  GST_DEBUG_OBJECT (b->bin, "output '%s' detaching", b->output_name);
  g_object_set_qdata (G_OBJECT (b->bin), branch_quark, NULL);
  mr_isolation_close (b->isolation);
  /* unlinking while the tee pushes into the pad would race: wait until it
   * is idle (at once if the pipeline is not playing) */
  gst_pad_add_probe (b->teepad, GST_PAD_PROBE_TYPE_IDLE, unlink_when_idle, b,
      NULL);
}

void
mr_branch_forget (MrBranch * b)
{
  g_object_set_qdata (G_OBJECT (b->bin), branch_quark, NULL);
  branch_free (b);
}

GstElement *
mr_branch_get_sink (MrBranch * b)
{
  return b->sink;
}

const gchar *
mr_branch_get_output_name (MrBranch * b)
{
  return b->output_name;
}

MrBranch *
mr_branch_from_element (GstObject * element)
{
  if (!branch_quark)
    return NULL;
  for (GstObject * o = element; o; o = GST_OBJECT_PARENT (o)) {
    MrBranch *b = g_object_get_qdata (G_OBJECT (o), branch_quark);
    if (b)
      return b;
  }
  return NULL;
}

void
mr_branch_set_failed (MrBranch * b)
{
  mr_isolation_close (b->isolation);
}

gboolean
mr_branch_is_failed (MrBranch * b)
{
  return mr_isolation_is_closed (b->isolation);
}

GstBusSyncReply
mr_branch_bus_sync_handler (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    MrBranch *b = mr_branch_from_element (GST_MESSAGE_SRC (msg));
    if (b)
      mr_branch_set_failed (b);
  }
  return GST_BUS_PASS;
}
