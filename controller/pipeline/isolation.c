/* mroute: the isolation of a branch behind a tee (appsink ~> appsrc ! leaky
 * queue), used by the output branches and by the monitoring branch; see
 * isolation.h. */

#define G_LOG_DOMAIN "mroute-isolation"
#include "isolation.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

G_DEFINE_QUARK (mroute-isolation, mr_isolation);

struct _MrIsolation
{
  gatomicrefcount ref;          /* the bin's and the entry's callbacks' */
  GstElement *exit;             /* appsrc, borrowed from the bin */
  GstElement *backlog;          /* borrowed from the bin */
  gint closed;                  /* atomic */
  gboolean split_lists;         /* set before the data flows */
  /* handed to the branch, updated in the tee's thread */
  gsize bytes;                  /* atomic */
  gsize packets;                /* atomic */
};

static void
isolation_unref (MrIsolation * iso)
{
  if (g_atomic_ref_count_dec (&iso->ref))
    g_free (iso);
}

/* Runs in the tee's thread: hands the data to the branch's own thread and
 * returns at once.  The exit's queue has no limit and never blocks; the
 * backlog after it is where old data is dropped. */
static GstFlowReturn
on_entry_sample (GstAppSink * entry, gpointer user_data)
{
  MrIsolation *iso = user_data;
  GstAppSrc *exit = GST_APP_SRC (iso->exit);
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (entry);
  GstBufferList *list;
  GstBuffer *buffer;
  GstCaps *caps;

  if (!sample || g_atomic_int_get (&iso->closed))
    return GST_FLOW_OK;
  caps = gst_sample_get_caps (sample);
  if (caps) {
    g_autoptr (GstCaps) current = gst_app_src_get_caps (exit);

    if (!current || !gst_caps_is_equal (current, caps))
      gst_app_src_set_caps (exit, caps);
  }
  /* gst_app_src_push_buffer(_list) takes the reference given to it; the
   * sample keeps its own.  A list goes over as a copy of its own (the
   * buffers are shared, not copied): the appsrc must be the only holder of
   * the list it gets.  The tee hands the same list to every branch and the
   * entry's last sample keeps it until the next one, so a reference would
   * be shared, and GStreamer's appsrc then reads a list that may already be
   * freed: gst_app_src_create() (gst-plugins-base, gst-libs/gst/app/
   * gstappsrc.c; 1.22.0, and still so in GStreamer's main of 2026-08) hands
   * the list to gst_base_src_submit_buffer_list(), which makes it writable,
   * that is copies it and drops the appsrc's reference, and afterwards
   * reads the original again in gst_app_src_update_queued_pop() (its
   * length, its buffers' sizes and times).  When this thread pulls the
   * next sample in between, the entry's sample lets go of the original
   * and it is freed:
   * "gst_buffer_list_get: assertion 'GST_IS_BUFFER_LIST (list)' failed" and
   * a crash in the exit's thread, now and then (tests/unit/isolation.c
   * makes it happen every time; valgrind shows the read). */
  if ((list = gst_sample_get_buffer_list (sample)) && iso->split_lists) {
    guint n = gst_buffer_list_length (list);

    g_atomic_pointer_add (&iso->bytes, gst_buffer_list_calculate_size (list));
    g_atomic_pointer_add (&iso->packets, n);
    for (guint i = 0; i < n; i++)
      gst_app_src_push_buffer (exit,
          gst_buffer_ref (gst_buffer_list_get (list, i)));
  } else if (list) {
    g_atomic_pointer_add (&iso->bytes, gst_buffer_list_calculate_size (list));
    g_atomic_pointer_add (&iso->packets, gst_buffer_list_length (list));
    gst_app_src_push_buffer_list (exit, gst_buffer_list_copy (list));
  } else if ((buffer = gst_sample_get_buffer (sample))) {
    g_atomic_pointer_add (&iso->bytes, gst_buffer_get_size (buffer));
    g_atomic_pointer_add (&iso->packets, 1);
    gst_app_src_push_buffer (exit, gst_buffer_ref (buffer));
  }
  return GST_FLOW_OK;
}

GstElement *
mr_isolation_backlog_new (const gchar * name, guint64 max_time,
    guint64 max_bytes)
{
  GstElement *q = gst_element_factory_make ("queue", name);

  g_object_set (q, "max-size-time", max_time, "max-size-bytes",
      (guint) MIN (max_bytes, G_MAXUINT), "max-size-buffers", 0,
      "leaky", 2 /* downstream: drop the oldest */ , "silent", TRUE, NULL);
  return q;
}

MrIsolation *
mr_isolation_add (GstBin * bin, guint64 max_time, guint64 max_bytes)
{
  MrIsolation *iso = g_new0 (MrIsolation, 1);
  GstElement *entry = gst_element_factory_make ("appsink", "entry");
  GstAppSinkCallbacks callbacks = {.new_sample = on_entry_sample };
  g_autoptr (GstPad) epad = NULL;

  g_atomic_ref_count_init (&iso->ref);
  iso->exit = gst_element_factory_make ("appsrc", "exit");
  /* The backlog is a leaky queue after the appsrc, not the appsrc's own
   * leaky-type: after a drop, GStreamer 1.22's gst_app_src_create marks
   * the next list DISCONT, making it writable, and has the same read of
   * the list it let go of as in on_entry_sample (fixed for that case in
   * 1.24.10); it crashed now and then.  The appsrc only hands over to the
   * queue, in its own thread, so it holds next to nothing. */
  iso->backlog = mr_isolation_backlog_new ("backlog", max_time, max_bytes);

  /* the tee's thread stops at the appsink; the branch runs in the
   * appsrc's thread */
  g_object_set (entry, "sync", FALSE, "async", FALSE, "buffer-list", TRUE,
      "enable-last-sample", FALSE, "max-buffers", 1, NULL);
  g_atomic_ref_count_inc (&iso->ref);
  gst_app_sink_set_callbacks (GST_APP_SINK (entry), &callbacks, iso,
      (GDestroyNotify) isolation_unref);
  g_object_set (iso->exit, "is-live", TRUE, "format", GST_FORMAT_TIME,
      "max-time", (guint64) 0, "max-bytes", (guint64) 0, "max-buffers",
      (guint64) 0, "block", FALSE, NULL);

  gst_bin_add_many (bin, entry, iso->exit, iso->backlog, NULL);
  gst_element_link (iso->exit, iso->backlog);
  epad = gst_element_get_static_pad (entry, "sink");
  gst_element_add_pad (GST_ELEMENT (bin), gst_ghost_pad_new ("sink", epad));
  g_object_set_qdata_full (G_OBJECT (bin), mr_isolation_quark (), iso,
      (GDestroyNotify) isolation_unref);
  return iso;
}

GstElement *
mr_isolation_get_tail (MrIsolation * iso)
{
  return iso->backlog;
}

void
mr_isolation_set_split_lists (MrIsolation * iso, gboolean split)
{
  iso->split_lists = split;
}

gboolean
mr_isolation_close (MrIsolation * iso)
{
  return !g_atomic_int_exchange (&iso->closed, 1);
}

gboolean
mr_isolation_is_closed (MrIsolation * iso)
{
  return g_atomic_int_get (&iso->closed);
}

void
mr_isolation_get_counters (MrIsolation * iso, guint64 * bytes,
    guint64 * packets)
{
  *bytes = (guint64) g_atomic_pointer_get (&iso->bytes);
  *packets = (guint64) g_atomic_pointer_get (&iso->packets);
}
