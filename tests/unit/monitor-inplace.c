/* mroute: the monitor without decoding paths (controller/monitor/
 * monitor-inplace.c): the streams, GOP statistics and service names read
 * in place on the flow's packets, by a probe, on the ffmpeg-written TS
 * samples of ts-reader-data.h (no encoder or decoder needed, so that it
 * runs under valgrind: `meson test --setup valgrind unit-monitor-inplace`).
 *
 *  - standalone, pushed as datagrams of seven packets and as the tee's
 *    buffer lists: what the metadata getter answers (the SDT's service
 *    name, codecs, profiles as ffprobe spells them, sizes, audio format,
 *    GOP statistics);
 *  - attached to a running pipeline's tee: no element and no thread is
 *    added for it; a source with a stream the reader does not read (AC-3)
 *    gets the demuxer and parsers instead, whose answers then include it;
 *    a restart (a failover) reads in place again. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsrc.h>

#include "monitor/monitor.h"

#include "ts-reader-data.h"

#define TS_CAPS "video/mpegts, systemstream=(boolean)true, packetsize=(int)188"
#define DATAGRAM (7 * 188)
#define DEADLINE_S 20

static GstBuffer *
datagram (const TsSample * s, gsize off)
{
  gsize size = MIN (DATAGRAM, s->size - off);

  return gst_buffer_new_memdup (s->data + off, size);
}

static MrMonitorStream *
find_stream (GPtrArray * streams, MrMonitorStreamType type)
{
  for (guint i = 0; i < streams->len; i++) {
    MrMonitorStream *st = streams->pdata[i];
    if (st->type == type)
      return st;
  }
  return NULL;
}

/* What samples[0] (H.264 High 160x120 25 fps, GOPs of 10, AAC LC stereo
 * 48 kHz, ffmpeg's SDT) read twice says */
static void
check_h264_aac (MrMonitor * m)
{
  g_autoptr (GPtrArray) programs = NULL;
  g_autoptr (GPtrArray) streams = NULL;
  MrMonitorProgram *p;
  MrMonitorStream *v, *a;

  fail_unless (mr_monitor_get_streams (m, &programs, &streams));
  fail_unless_equals_int (programs->len, 1);
  p = programs->pdata[0];
  fail_unless_equals_int (p->program_id, 1);
  fail_unless_equals_string (p->program_name, "Service01");
  fail_unless_equals_int (streams->len, 2);
  v = find_stream (streams, MR_MONITOR_STREAM_VIDEO);
  fail_unless (v != NULL);
  fail_unless_equals_int (v->index, 0);
  fail_unless_equals_string (v->codec, "h264");
  fail_unless_equals_string (v->profile, "High");
  fail_unless_equals_int (v->width, 160);
  fail_unless_equals_int (v->height, 120);
  fail_unless_equals_int (v->fps_n, 25);
  fail_unless_equals_int (v->fps_d, 1);
  fail_unless (v->has_gop);
  fail_unless_equals_int (v->gop.gop_length, 10);
  fail_unless_equals_uint64 (v->gop.keyframes, 6);
  fail_unless (v->gop.frames[MR_FRAME_B] > 0);
  a = find_stream (streams, MR_MONITOR_STREAM_AUDIO);
  fail_unless (a != NULL);
  fail_unless_equals_string (a->codec, "aac");
  fail_unless_equals_string (a->profile, "LC");
  fail_unless_equals_int (a->channels, 2);
  fail_unless_equals_int (a->sample_rate, 48000);
  fail_if (a->has_gop);
}

GST_START_TEST (test_standalone)
{
  MrMonitorConfig config = {.thumbnail_interval_sec = 1 };
  g_autoptr (GError) error = NULL;
  GstElement *bin = NULL;
  MrMonitor *m = mr_monitor_new_standalone ("test", &config, &bin, &error);
  GstHarness *h;
  const TsSample *s = &samples[0];
  g_autoptr (GPtrArray) programs = NULL;
  g_autoptr (GPtrArray) streams = NULL;

  fail_unless (m != NULL, "%s", error ? error->message : "");
  h = gst_harness_new_with_element (bin, "sink", NULL);
  gst_harness_set_src_caps_str (h, TS_CAPS);
  /* nothing read yet */
  fail_if (mr_monitor_get_streams (m, &programs, &streams));
  /* as datagrams, then as the tee's lists of them: the reader is the
   * same either way */
  for (gsize off = 0; off < s->size; off += DATAGRAM)
    fail_unless_equals_int (gst_harness_push (h, datagram (s, off)),
        GST_FLOW_OK);
  for (gsize off = 0; off < s->size; off += 8 * DATAGRAM) {
    GstBufferList *list = gst_buffer_list_new ();

    for (gsize k = off; k < MIN (off + 8 * DATAGRAM, s->size); k += DATAGRAM)
      gst_buffer_list_add (list, datagram (s, k));
    fail_unless_equals_int (gst_pad_push_list (h->srcpad, list),
        GST_FLOW_OK);
  }
  /* read in the pushing thread: known as soon as the push returns */
  check_h264_aac (m);
  gst_harness_teardown (h);
  mr_monitor_free (m);
  gst_object_unref (bin);
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */
/* attached to a pipeline */

typedef struct
{
  GstElement *pipeline, *src, *tee;
} Pipe;

static void
pipe_start (Pipe * p)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstCaps) caps = gst_caps_from_string (TS_CAPS);

  p->pipeline = gst_parse_launch ("appsrc name=src is-live=true format=time "
      "! tee name=fanout allow-not-linked=true", &error);
  fail_unless (p->pipeline != NULL, "%s", error ? error->message : "");
  p->src = gst_bin_get_by_name (GST_BIN (p->pipeline), "src");
  p->tee = gst_bin_get_by_name (GST_BIN (p->pipeline), "fanout");
  g_object_set (p->src, "caps", caps, NULL);
  fail_unless (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
}

static void
pipe_push (Pipe * p, const TsSample * s)
{
  for (gsize off = 0; off < s->size; off += DATAGRAM)
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (p->src),
            datagram (s, off)), GST_FLOW_OK);
}

static void
pipe_stop (Pipe * p)
{
  gst_app_src_end_of_stream (GST_APP_SRC (p->src));
  while (g_main_context_iteration (NULL, FALSE));
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  while (g_main_context_iteration (NULL, FALSE));
  gst_object_unref (p->src);
  gst_object_unref (p->tee);
  gst_object_unref (p->pipeline);
}

static guint
n_children (GstElement * bin)
{
  guint n;

  GST_OBJECT_LOCK (bin);
  n = GST_BIN_NUMCHILDREN (bin);
  GST_OBJECT_UNLOCK (bin);
  return n;
}

/* The pipeline has @n elements, once the main loop has run what is
 * pending (the switch to the bin, the bin's removal), within the
 * deadline */
static gboolean
wait_children (GstElement * pipeline, guint n)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;

  for (;;) {
    while (g_main_context_iteration (NULL, FALSE));
    if (n_children (pipeline) == n)
      return TRUE;
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (10 * 1000);
  }
}

/* The video's key frames counted reach @n (the appsrc's thread reads
 * what was pushed after the push returns), within the deadline */
static gboolean
wait_keyframes (MrMonitor * m, guint64 n)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;

  for (;;) {
    g_autoptr (GPtrArray) programs = NULL;
    g_autoptr (GPtrArray) streams = NULL;
    MrMonitorStream *v;

    mr_monitor_get_streams (m, &programs, &streams);
    v = find_stream (streams, MR_MONITOR_STREAM_VIDEO);
    if (v && v->gop.keyframes >= n)
      return TRUE;
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (10 * 1000);
  }
}

/* The streams, once the main loop has run what is pending, within the
 * deadline: TRUE when @n_streams are known and the first has a size */
static gboolean
wait_streams (MrMonitor * m, guint n_streams, const gchar * codec)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;

  for (;;) {
    g_autoptr (GPtrArray) programs = NULL;
    g_autoptr (GPtrArray) streams = NULL;

    while (g_main_context_iteration (NULL, FALSE));
    if (mr_monitor_get_streams (m, &programs, &streams)
        && streams->len == n_streams) {
      MrMonitorStream *last = streams->pdata[n_streams - 1];
      MrMonitorStream *v = find_stream (streams, MR_MONITOR_STREAM_VIDEO);

      if (g_strcmp0 (last->codec, codec) == 0 && v && v->width)
        return TRUE;
    }
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (10 * 1000);
  }
}

GST_START_TEST (test_attached)
{
  MrMonitorConfig config = {.thumbnail_interval_sec = 1 };
  Pipe p = { 0 };
  MrMonitor *m;
  guint elements;

  pipe_start (&p);
  elements = n_children (p.pipeline);
  m = mr_monitor_attach (p.pipeline, p.tee, &config);
  /* in place: not one element more in the pipeline (so no thread) */
  fail_unless_equals_int (n_children (p.pipeline), elements);
  pipe_push (&p, &samples[0]);
  pipe_push (&p, &samples[0]);
  fail_unless (wait_streams (m, 2, "aac"));
  fail_unless (wait_keyframes (m, 6));
  check_h264_aac (m);
  fail_unless_equals_int (n_children (p.pipeline), elements);

  /* a source with AC-3: the demuxer and parsers, which read it */
  mr_monitor_restart (m, "b");
  pipe_push (&p, &samples[3]);
  fail_unless (wait_children (p.pipeline, elements + 1),
      "no bin for the AC-3 source");
  for (guint i = 0; i < 3; i++)
    pipe_push (&p, &samples[3]);
  fail_unless (wait_streams (m, 2, "ac3"), "AC-3 not found by the parsers");
  {
    g_autofree gchar *source = mr_monitor_get_source (m);
    fail_unless_equals_string (source, "b");
  }

  /* back to the first source (a failover): in place again, the bin goes
   * on the main loop */
  mr_monitor_restart (m, "a");
  fail_unless (wait_children (p.pipeline, elements), "the bin stayed");
  pipe_push (&p, &samples[0]);
  pipe_push (&p, &samples[0]);
  fail_unless (wait_streams (m, 2, "aac"));
  fail_unless (wait_keyframes (m, 6));
  check_h264_aac (m);

  mr_monitor_detach (m);
  pipe_stop (&p);
}

GST_END_TEST;

static Suite *
monitor_inplace_suite (void)
{
  Suite *s = suite_create ("monitor-inplace");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_standalone);
  tcase_add_test (tc, test_attached);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (monitor_inplace);
