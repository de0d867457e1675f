/* mroute: the lease fence (pipeline/fence.h) with GstHarness: a tee, as
 * the flow's fan-out, with the fence on its sink pad; buffers and buffer
 * lists pass while the deadline is ahead (or there is none), none once it
 * has passed, and a deadline moved forward or back takes effect with the
 * next buffer.  The deadline is written from another thread while the
 * streaming thread pushes, as the cluster's tick does. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "pipeline/pipeline.h"

typedef struct
{
  GstHarness *h;
  MrFence *fence;
} Fixture;

static Fixture *
fixture_new (void)
{
  Fixture *f = g_new0 (Fixture, 1);
  GstPad *sinkpad;

  f->h = gst_harness_new_with_padnames ("tee", "sink", "src_%u");
  gst_harness_set_src_caps_str (f->h, "application/x-rtp");
  f->fence = mr_fence_new ();
  sinkpad = gst_element_get_static_pad (f->h->element, "sink");
  mr_fence_attach (f->fence, sinkpad);
  gst_object_unref (sinkpad);
  return f;
}

static void
fixture_free (Fixture * f)
{
  gst_harness_teardown (f->h);
  /* the probe holds a reference of its own, gone with the tee */
  mr_fence_unref (f->fence);
  g_free (f);
}

static GstBuffer *
numbered (guint8 n)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, 188, NULL);

  gst_buffer_memset (b, 0, n, 188);
  return b;
}

static GstBufferList *
list_of (guint8 first, guint n)
{
  GstBufferList *list = gst_buffer_list_new ();

  for (guint i = 0; i < n; i++)
    gst_buffer_list_add (list, numbered (first + i));
  return list;
}

/* Pushes buffer @n and a list of 3 after it; how many buffers came out */
static guint
push_some (Fixture * f, guint8 n)
{
  guint before = gst_harness_buffers_received (f->h);

  fail_unless_equals_int (gst_harness_push (f->h, numbered (n)), GST_FLOW_OK);
  fail_unless_equals_int (gst_pad_push_list (f->h->srcpad, list_of (n + 1,
              3)), GST_FLOW_OK);
  return gst_harness_buffers_received (f->h) - before;
}

GST_START_TEST (test_no_deadline_passes)
{
  Fixture *f = fixture_new ();
  GstBuffer *b;
  guint8 n = 0;

  fail_unless_equals_int64 (mr_fence_get_deadline (f->fence), 0);
  fail_unless (mr_fence_is_open (f->fence, G_MAXINT64));
  fail_unless_equals_int (push_some (f, 1), 4);
  b = gst_harness_pull (f->h);
  gst_buffer_extract (b, 0, &n, 1);
  fail_unless_equals_int (n, 1);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (mr_fence_get_dropped (f->fence), 0);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_before_deadline_passes_after_drops)
{
  Fixture *f = fixture_new ();
  gint64 now = g_get_monotonic_time ();

  /* 10 s ahead: open */
  mr_fence_set_deadline (f->fence, now + 10 * G_USEC_PER_SEC);
  fail_unless (mr_fence_is_open (f->fence, now));
  fail_unless_equals_int (push_some (f, 1), 4);
  fail_unless_equals_uint64 (mr_fence_get_dropped (f->fence), 0);

  /* passed: nothing, a list counting its buffers */
  mr_fence_set_deadline (f->fence, g_get_monotonic_time () - 1);
  fail_if (mr_fence_is_open (f->fence, g_get_monotonic_time ()));
  fail_unless_equals_int (push_some (f, 10), 0);
  fail_unless_equals_int (push_some (f, 20), 0);
  fail_unless_equals_uint64 (mr_fence_get_dropped (f->fence), 8);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_deadline_reached_while_flowing)
{
  Fixture *f = fixture_new ();
  guint passed = 0, dropped_after = 0;
  gint64 deadline = g_get_monotonic_time () + 200 * 1000;

  mr_fence_set_deadline (f->fence, deadline);
  /* buffers before the deadline pass, every one after it is dropped */
  while (g_get_monotonic_time () < deadline + 200 * 1000) {
    /* the fence's own rule: open while now <= deadline */
    gboolean before = g_get_monotonic_time () <= deadline;
    guint n = push_some (f, 1);

    if (before && g_get_monotonic_time () <= deadline)
      fail_unless_equals_int (n, 4);
    if (!before)
      fail_unless_equals_int (n, 0);
    if (before)
      passed += n;
    else
      dropped_after++;
    g_usleep (5000);
  }
  fail_unless (passed > 0);
  fail_unless (dropped_after > 0);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_moved_deadline)
{
  Fixture *f = fixture_new ();

  mr_fence_set_deadline (f->fence, g_get_monotonic_time () - 1);
  fail_unless_equals_int (push_some (f, 1), 0);
  /* renewed: forward again */
  mr_fence_set_deadline (f->fence, g_get_monotonic_time () + G_USEC_PER_SEC);
  fail_unless_equals_int (push_some (f, 2), 4);
  /* back, to the past */
  mr_fence_set_deadline (f->fence, g_get_monotonic_time () - G_USEC_PER_SEC);
  fail_unless_equals_int (push_some (f, 3), 0);
  /* none: a standalone controller again */
  mr_fence_set_deadline (f->fence, 0);
  fail_unless_equals_int (push_some (f, 4), 4);
  /* a negative deadline is none too */
  mr_fence_set_deadline (f->fence, -5);
  fail_unless_equals_int64 (mr_fence_get_deadline (f->fence), 0);
  fail_unless_equals_int (push_some (f, 5), 4);
  fail_unless_equals_uint64 (mr_fence_get_dropped (f->fence), 8);
  fixture_free (f);
}

GST_END_TEST;

typedef struct
{
  MrFence *fence;
  volatile gint stop;
} Mover;

static gpointer
move_deadline (gpointer data)
{
  Mover *m = data;
  guint i = 0;

  while (!g_atomic_int_get (&m->stop)) {
    mr_fence_set_deadline (m->fence, (i++ % 2) ?
        g_get_monotonic_time () + G_USEC_PER_SEC : 1);
    g_thread_yield ();
  }
  return NULL;
}

/* the main thread's writes race the streaming thread's reads */
GST_START_TEST (test_moved_from_another_thread)
{
  Fixture *f = fixture_new ();
  Mover m = { f->fence, 0 };
  GThread *thread = g_thread_new ("mover", move_deadline, &m);
  guint out = 0;

  for (guint i = 0; i < 2000; i++)
    out += push_some (f, i);
  g_atomic_int_set (&m.stop, 1);
  g_thread_join (thread);
  fail_unless_equals_uint64 (out + mr_fence_get_dropped (f->fence), 2000 * 4);
  fixture_free (f);
}

GST_END_TEST;

static Suite *
fence_suite (void)
{
  Suite *s = suite_create ("fence");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_no_deadline_passes);
  tcase_add_test (tc, test_before_deadline_passes_after_drops);
  tcase_add_test (tc, test_deadline_reached_while_flowing);
  tcase_add_test (tc, test_moved_deadline);
  tcase_add_test (tc, test_moved_from_another_thread);
  return s;
}

GST_CHECK_MAIN (fence);
