/* mroute: an isolated output branch of a flow's pipeline. */

#include "branch.h"

static GQuark branch_quark;

struct _MrBranch
{
  gchar *output_name;
  GstElement *pipeline;         /* ref */
  GstElement *tee;              /* ref */
  GstElement *bin;              /* ref */
  GstElement *sink;             /* borrowed from the bin */
  GstPad *teepad;               /* ref, request pad of the tee */
  gint failed;                  /* atomic */
  gulong entry_probe;
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

/* drops data at the entry once the branch failed: the tee sees OK */
static GstPadProbeReturn
entry_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MrBranch *b = user_data;

  return g_atomic_int_get (&b->failed) ? GST_PAD_PROBE_DROP :
      GST_PAD_PROBE_OK;
}

MrBranch *
mr_branch_attach (GstElement * pipeline, GstElement * tee,
    const gchar * output_name, GstElement * sink, guint max_queue_ms)
{
  MrBranch *b = g_new0 (MrBranch, 1);
  g_autofree gchar *name = g_strdup_printf (MR_BRANCH_PREFIX "%s",
      output_name);
  GstElement *queue = gst_element_factory_make ("queue", NULL);
  g_autoptr (GstPad) qpad = NULL;
  GstPad *ghost;

  if (!branch_quark)
    branch_quark = g_quark_from_static_string ("mroute-branch");

  b->output_name = g_strdup (output_name);
  b->pipeline = gst_object_ref (pipeline);
  b->tee = gst_object_ref (tee);
  b->bin = gst_object_ref_sink (gst_bin_new (name));
  b->sink = sink;

  /* a slow destination loses its oldest data, never blocks the tee */
  g_object_set (queue, "leaky", 2, "max-size-buffers", 0, "max-size-bytes",
      0, "max-size-time", (guint64) max_queue_ms * GST_MSECOND, NULL);
  gst_bin_add_many (GST_BIN (b->bin), queue, sink, NULL);
  gst_element_link (queue, sink);
  qpad = gst_element_get_static_pad (queue, "sink");
  ghost = gst_ghost_pad_new ("sink", qpad);
  gst_element_add_pad (b->bin, ghost);
  b->entry_probe = gst_pad_add_probe (ghost, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, entry_probe, b, NULL);
  g_object_set_qdata (G_OBJECT (b->bin), branch_quark, b);

  gst_bin_add (GST_BIN (pipeline), b->bin);
  b->teepad = gst_element_request_pad_simple (tee, "src_%u");
  gst_pad_link (b->teepad, ghost);
  gst_element_sync_state_with_parent (b->bin);
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
  g_object_set_qdata (G_OBJECT (b->bin), branch_quark, NULL);
  g_atomic_int_set (&b->failed, 1);
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
  g_atomic_int_set (&b->failed, 1);
}

gboolean
mr_branch_is_failed (MrBranch * b)
{
  return g_atomic_int_get (&b->failed);
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
