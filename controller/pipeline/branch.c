/* mroute: an isolated output branch of a flow's pipeline. */

#define G_LOG_DOMAIN "mroute-branch"
#include "branch.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/base/gstbasesink.h>

static GQuark branch_quark;

struct _MrBranch
{
  gchar *output_name;
  GstElement *pipeline;         /* ref */
  GstElement *tee;              /* ref */
  GstElement *bin;              /* ref */
  GstElement *sink;             /* borrowed from the bin */
  GstPad *teepad;               /* ref, request pad of the tee */
  GstElement *exit;             /* appsrc, borrowed from the bin */
  gint failed;                  /* atomic */
  /* handed to the branch, updated in the tee's thread */
  gsize bytes;                  /* atomic */
  gsize packets;                /* atomic */
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

/* Runs in the tee's thread: hands the data to the branch's own thread.
 * appsink never returns an error, so nothing the branch does can reach the
 * tee; the appsrc drops its oldest data when the branch is slow. */
static GstFlowReturn
on_new_sample (GstAppSink * entry, gpointer user_data)
{
  MrBranch *b = user_data;
  GstSample *sample = gst_app_sink_pull_sample (entry);
  GstCaps *caps;
  GstBufferList *list;
  GstBuffer *buffer;

  if (!sample)
    return GST_FLOW_OK;
  if (g_atomic_int_get (&b->failed)) {
    gst_sample_unref (sample);
    return GST_FLOW_OK;
  }
  caps = gst_sample_get_caps (sample);
  if (caps) {
    GstCaps *current = gst_app_src_get_caps (GST_APP_SRC (b->exit));
    if (!current || !gst_caps_is_equal (current, caps))
      gst_app_src_set_caps (GST_APP_SRC (b->exit), caps);
    if (current)
      gst_caps_unref (current);
  }
  if ((list = gst_sample_get_buffer_list (sample))) {
    g_atomic_pointer_add (&b->bytes, gst_buffer_list_calculate_size (list));
    g_atomic_pointer_add (&b->packets, gst_buffer_list_length (list));
    gst_app_src_push_buffer_list (GST_APP_SRC (b->exit),
        gst_buffer_list_ref (list));
  } else if ((buffer = gst_sample_get_buffer (sample))) {
    g_atomic_pointer_add (&b->bytes, gst_buffer_get_size (buffer));
    g_atomic_pointer_add (&b->packets, 1);
    gst_app_src_push_buffer (GST_APP_SRC (b->exit), gst_buffer_ref (buffer));
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
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
  *bytes = (guint64) g_atomic_pointer_get (&b->bytes);
  *packets = (guint64) g_atomic_pointer_get (&b->packets);
}

GstElement *
mr_branch_backlog_new (guint64 max_time, guint64 max_bytes)
{
  GstElement *q = gst_element_factory_make ("queue", "backlog");

  g_object_set (q, "max-size-time", max_time, "max-size-bytes",
      (guint) MIN (max_bytes, G_MAXUINT), "max-size-buffers", 0,
      "leaky", 2 /* downstream: drop the oldest */ , "silent", TRUE, NULL);
  return q;
}

MrBranch *
mr_branch_attach (GstElement * pipeline, GstElement * tee,
    const gchar * output_name, GstElement * sink, guint max_queue_ms)
{
  MrBranch *b = g_new0 (MrBranch, 1);
  g_autofree gchar *name = g_strdup_printf (MR_BRANCH_PREFIX "%s",
      output_name);
  GstElement *entry = gst_element_factory_make ("appsink", "entry");
  GstAppSinkCallbacks callbacks = {.new_sample = on_new_sample };
  g_autoptr (GstPad) epad = NULL;
  GstElement *backlog;
  GstPad *ghost;

  if (!branch_quark)
    branch_quark = g_quark_from_static_string ("mroute-branch");

  b->output_name = g_strdup (output_name);
  b->pipeline = gst_object_ref (pipeline);
  b->tee = gst_object_ref (tee);
  b->bin = gst_object_ref_sink (gst_bin_new (name));
  b->sink = sink;
  b->exit = gst_element_factory_make ("appsrc", "exit");

  /* the tee's thread stops at the appsink; the branch runs in the
   * appsrc's thread */
  g_object_set (entry, "sync", FALSE, "async", FALSE, "buffer-list", TRUE,
      "enable-last-sample", FALSE, "max-buffers", 1, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (entry), &callbacks, b, NULL);
  /* The backlog is a leaky queue after the appsrc, not the appsrc's own
   * leaky-type: GStreamer 1.22's appsrc crashed now and then when it
   * dropped old buffer lists.  The appsrc only hands over to the queue, in
   * its own thread, so it holds next to nothing. */
  backlog = mr_branch_backlog_new ((guint64) max_queue_ms * GST_MSECOND, 0);
  g_object_set (b->exit, "is-live", TRUE, "format", GST_FORMAT_TIME,
      "max-time", (guint64) 0, "max-bytes", (guint64) 0, "max-buffers",
      (guint64) 0, "block", FALSE, NULL);

  gst_bin_add_many (GST_BIN (b->bin), entry, b->exit, backlog, sink, NULL);
  gst_element_link_many (b->exit, backlog, sink, NULL);
  epad = gst_element_get_static_pad (entry, "sink");
  ghost = gst_ghost_pad_new ("sink", epad);
  gst_element_add_pad (b->bin, ghost);
  g_object_set_qdata (G_OBJECT (b->bin), branch_quark, b);
  /* no sink of an output may hold the flow in PAUSED until it gets data */
  mr_branch_make_sinks_async_false (b->bin);

  /* running before it is linked: the tee must never push into a branch
   * that is not playing yet (it would answer FLUSHING and stop the source) */
  gst_bin_add (GST_BIN (pipeline), b->bin);
  gst_element_sync_state_with_parent (b->bin);
  b->teepad = gst_element_request_pad_simple (tee, "src_%u");
  gst_pad_link (b->teepad, ghost);
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
