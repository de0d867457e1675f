/* mroute: the isolation of a branch behind a tee (pipeline/isolation.h)
 * with GstHarness: a bin [isolation ! appsink "out"] gets buffers and
 * buffer lists on its ghost pad as from a tee; what comes out of the
 * backlog, split or not, what a closed isolation does, the counters.
 *
 * test_list_freed_during_create replays, every time, the moment that made
 * GStreamer 1.22's appsrc crash now and then: the other holder of a shared
 * list lets go of it while the exit's thread is inside gst_app_src_create,
 * between gst_base_src_submit_buffer_list (which copied the list and
 * dropped the appsrc's reference) and gst_app_src_update_queued_pop (which
 * reads the original again).  The moment is caught with basesrc's LOG line
 * in submit_buffer_list.  Handing the appsrc a shared reference, valgrind
 * reports reads of the freed list in libgstapp there; the isolation hands
 * it a list of its own, and the test is clean under valgrind. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <string.h>

#include "pipeline/pipeline.h"

#define WAIT (10 * GST_SECOND)

typedef struct
{
  GstElement *bin;
  MrIsolation *isolation;
  GstElement *out;              /* appsink, borrowed from the bin */
  GstHarness *h;
} Fixture;

static Fixture *
fixture_new (gboolean split)
{
  Fixture *f = g_new0 (Fixture, 1);

  f->bin = gst_object_ref_sink (gst_bin_new ("branch"));
  f->isolation = mr_isolation_add (GST_BIN (f->bin), GST_SECOND, 0);
  mr_isolation_set_split_lists (f->isolation, split);
  f->out = gst_element_factory_make ("appsink", "out");
  g_object_set (f->out, "sync", FALSE, "async", FALSE, "buffer-list", TRUE,
      NULL);
  gst_bin_add (GST_BIN (f->bin), f->out);
  fail_unless (gst_element_link (mr_isolation_get_tail (f->isolation),
          f->out));
  f->h = gst_harness_new_with_element (f->bin, "sink", NULL);
  gst_harness_set_src_caps_str (f->h, "application/x-test");
  return f;
}

static void
fixture_free (Fixture * f)
{
  gst_harness_teardown (f->h);
  gst_object_unref (f->bin);
  g_free (f);
}

static GstBuffer *
numbered (guint8 n)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, 188, NULL);

  gst_buffer_memset (b, 0, n, 188);
  return b;
}

static guint8
number_of (GstBuffer * b)
{
  guint8 n = 0;

  gst_buffer_extract (b, 0, &n, 1);
  return n;
}

static GstBufferList *
list_of (guint8 first, guint n)
{
  GstBufferList *list = gst_buffer_list_new ();

  for (guint i = 0; i < n; i++)
    gst_buffer_list_add (list, numbered (first + i));
  return list;
}

static GstSample *
pull (Fixture * f)
{
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (f->out), WAIT);

  fail_unless (s != NULL, "nothing came out in 10 s");
  return s;
}

GST_START_TEST (test_buffers_and_lists_pass)
{
  Fixture *f = fixture_new (FALSE);
  GstBufferList *list = list_of (10, 4);
  GstBufferList *got;
  g_autoptr (GstSample) s1 = NULL;
  g_autoptr (GstSample) s2 = NULL;
  guint64 bytes, packets;

  fail_unless_equals_int (gst_harness_push (f->h, numbered (1)), GST_FLOW_OK);
  /* as the tee does: another branch holds the list too */
  fail_unless_equals_int (gst_pad_push_list (f->h->srcpad,
          gst_buffer_list_ref (list)), GST_FLOW_OK);

  s1 = pull (f);
  fail_unless (gst_sample_get_buffer (s1) != NULL);
  fail_unless_equals_int (number_of (gst_sample_get_buffer (s1)), 1);
  s2 = pull (f);
  got = gst_sample_get_buffer_list (s2);
  fail_unless (got != NULL);
  /* a list of the branch's own, with the same buffers */
  fail_unless (got != list);
  fail_unless_equals_int (gst_buffer_list_length (got), 4);
  for (guint i = 0; i < 4; i++)
    fail_unless_equals_int (number_of (gst_buffer_list_get (got, i)), 10 + i);
  fail_unless (gst_buffer_list_get (got, 3) == gst_buffer_list_get (list, 3));
  gst_buffer_list_unref (list);

  mr_isolation_get_counters (f->isolation, &bytes, &packets);
  fail_unless_equals_uint64 (packets, 5);
  fail_unless_equals_uint64 (bytes, 5 * 188);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_split_lists)
{
  Fixture *f = fixture_new (TRUE);

  fail_unless_equals_int (gst_pad_push_list (f->h->srcpad, list_of (20, 3)),
      GST_FLOW_OK);
  for (guint i = 0; i < 3; i++) {
    g_autoptr (GstSample) s = pull (f);

    fail_unless (gst_sample_get_buffer_list (s) == NULL);
    fail_unless_equals_int (number_of (gst_sample_get_buffer (s)), 20 + i);
  }
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_closed_drops)
{
  Fixture *f = fixture_new (FALSE);
  g_autoptr (GstSample) s = NULL;
  guint64 bytes, packets;

  fail_if (mr_isolation_is_closed (f->isolation));
  fail_unless (mr_isolation_close (f->isolation));
  /* only the first caller learns that it closed it */
  fail_if (mr_isolation_close (f->isolation));
  fail_unless (mr_isolation_is_closed (f->isolation));
  /* the tee never hears of it */
  fail_unless_equals_int (gst_harness_push (f->h, numbered (1)), GST_FLOW_OK);
  fail_unless_equals_int (gst_pad_push_list (f->h->srcpad, list_of (2, 2)),
      GST_FLOW_OK);
  mr_isolation_get_counters (f->isolation, &bytes, &packets);
  fail_unless_equals_uint64 (packets, 0);
  /* the entry runs in the pushing thread: had anything passed it, it would
   * be in the exit's queue or beyond by now */
  s = gst_app_sink_try_pull_sample (GST_APP_SINK (f->out), 200 * GST_MSECOND);
  fail_unless (s == NULL);
  fixture_free (f);
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */

static GMutex lock;
static GCond cond;
static gint stage;              /* 0, 1: the exit submitted the first list,
                                 * 2: the tee's list is freed */

/* basesrc's LOG line in gst_base_src_submit_buffer_list, in the exit's
 * thread inside gst_app_src_create: hold it there until the list the tee
 * pushed is gone */
static void
on_log (GstDebugCategory * cat, GstDebugLevel level, const gchar * file,
    const gchar * function, gint line, GObject * object, GstDebugMessage * msg,
    gpointer user_data)
{
  const gchar *text = gst_debug_message_get (msg);

  if (!text || !strstr (text, "submitted in buffer list"))
    return;
  g_mutex_lock (&lock);
  if (stage == 0) {
    stage = 1;
    g_cond_broadcast (&cond);
    while (stage != 2)
      g_cond_wait (&cond, &lock);
  }
  g_mutex_unlock (&lock);
}

static void
on_list_freed (gpointer user_data, GstMiniObject * where_the_list_was)
{
  g_mutex_lock (&lock);
  stage = 2;
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);
}

GST_START_TEST (test_list_freed_during_create)
{
  Fixture *f;
  GstBufferList *list = list_of (30, 4);
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_autoptr (GstSample) s1 = NULL;
  g_autoptr (GstSample) s2 = NULL;

  /* basesrc's LOG lines go to on_log only */
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (on_log, NULL, NULL);
  gst_debug_set_threshold_for_name ("basesrc", GST_LEVEL_LOG);
  stage = 0;
  f = fixture_new (FALSE);
  gst_mini_object_weak_ref (GST_MINI_OBJECT (list), on_list_freed, NULL);

  /* the tee's list, with a reference for another branch */
  fail_unless_equals_int (gst_pad_push_list (f->h->srcpad,
          gst_buffer_list_ref (list)), GST_FLOW_OK);
  g_mutex_lock (&lock);
  while (stage != 1)
    fail_unless (g_cond_wait_until (&cond, &lock, end),
        "the exit did not submit the list in 10 s");
  g_mutex_unlock (&lock);
  /* the other branch lets go; the next list makes the entry pull a new
   * sample, which lets go of the last one: the list is freed now, in this
   * thread, while the exit's thread is in gst_app_src_create (this push
   * waits for it there, on the appsrc's lock) */
  gst_buffer_list_unref (list);
  fail_unless_equals_int (gst_pad_push_list (f->h->srcpad, list_of (40, 2)),
      GST_FLOW_OK);
  fail_unless_equals_int (stage, 2);

  s1 = pull (f);
  fail_unless_equals_int (gst_buffer_list_length (gst_sample_get_buffer_list
          (s1)), 4);
  s2 = pull (f);
  fail_unless_equals_int (gst_buffer_list_length (gst_sample_get_buffer_list
          (s2)), 2);
  fixture_free (f);
  gst_debug_unset_threshold_for_name ("basesrc");
  gst_debug_remove_log_function (on_log);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
}

GST_END_TEST;

static Suite *
isolation_suite (void)
{
  Suite *s = suite_create ("isolation");
  TCase *tc = tcase_create ("general");

  tcase_add_test (tc, test_buffers_and_lists_pass);
  tcase_add_test (tc, test_split_lists);
  tcase_add_test (tc, test_closed_drops);
  tcase_add_test (tc, test_list_freed_during_create);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (isolation);
