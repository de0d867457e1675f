/* mroute: the monitoring bin on its own, with GstHarness: real MPEG-TS made
 * once per run by the test (videotestsrc ! x264enc ! h264parse and
 * audiotestsrc ! avenc_aac into mpegtsmux), pushed into the bin as
 * buffers and as buffer lists, and what the monitor then reports: the
 * program, the streams (codec, size, frame rate, audio format), GOP
 * statistics, a JPEG thumbnail and the content-quality flags.
 *
 * The last test attaches a monitor to a running pipeline (appsrc ! tee,
 * with an isolated output branch beside it), pushes the tee shared buffer
 * lists and rebuilds the monitor again and again, also through program
 * changes: the case that crashed the controller now and then (see
 * isolation.h).
 *
 * The streams are pushed at five times real time, as a live source would
 * push them but faster.  The monitor works in its own threads and says
 * nothing when it has found something: the tests poll its getters every
 * 10 ms until a deadline. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "monitor/monitor.h"
#include "pipeline/pipeline.h"

#define FPS 25
#define SECONDS 5
#define WIDTH 320
#define HEIGHT 240
#define KEY_INTERVAL 25         /* frames */
#define TS_CAPS "video/mpegts, systemstream=(boolean)true, packetsize=(int)188"
#define DEADLINE_S 30

/* ---------------------------------------------------------------------- */
/* the test streams */

/* Buffers of seven TS packets (as a flow gets them over UDP) of SECONDS of
 * H.264 (I, P and B pictures) in 320x240 at 25 fps and AAC stereo at 48
 * kHz, program @program; without timestamps, so that pushing them faster
 * than real time does not fill the monitor's backlog, whose limit is in
 * time (its limit in bytes is far above this stream). */
static GPtrArray *
make_ts (const gchar * pattern, guint program)
{
  guint pid = program * 0x100;   /* video; audio on the next PID */
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc pattern=%s "
      "num-buffers=%d ! video/x-raw, width=%d, height=%d, framerate=%d/1 "
      "! x264enc speed-preset=ultrafast bframes=2 key-int-max=%d "
      "b-adapt=false threads=1 ! h264parse ! mux.sink_%u "
      "mpegtsmux name=mux alignment=7 prog-map=\"program_map, "
      "sink_%u=(int)%u, sink_%u=(int)%u\" ! appsink name=out sync=false "
      "audiotestsrc num-buffers=%d samplesperbuffer=1024 ! audio/x-raw, "
      "rate=48000, channels=2 ! avenc_aac ! aacparse ! mux.sink_%u", pattern,
      SECONDS * FPS, WIDTH, HEIGHT, FPS, KEY_INTERVAL, pid, pid, program,
      pid + 1, program, SECONDS * 48000 / 1024, pid + 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr (GstElement) out = NULL;
  GPtrArray *ts = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstSample *sample;

  fail_unless (pipeline != NULL, "%s: %s", desc, error ? error->message : "");
  out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (out),
              DEADLINE_S * GST_SECOND))) {
    GstBuffer *buf = gst_buffer_copy (gst_sample_get_buffer (sample));

    GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION (buf) = GST_CLOCK_TIME_NONE;
    g_ptr_array_add (ts, buf);
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (out)),
      "the test stream was not made in %d s", DEADLINE_S);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless (ts->len > 100);
  return ts;
}

static GPtrArray *smpte_ts, *black_ts;

static GPtrArray *
smpte (void)
{
  if (!smpte_ts)
    smpte_ts = make_ts ("smpte", 1);
  return smpte_ts;
}

static GPtrArray *
black (void)
{
  if (!black_ts)
    black_ts = make_ts ("black", 2);
  return black_ts;
}

/* ---------------------------------------------------------------------- */
/* a standalone monitor in a harness */

typedef struct
{
  MrMonitor *monitor;
  GstElement *bin;
  GstHarness *h;
} Fixture;

static Fixture *
fixture_new_interval (gboolean thumbnails, gboolean content_quality,
    guint interval)
{
  Fixture *f = g_new0 (Fixture, 1);
  MrMonitorConfig config = {.thumbnails = thumbnails,.content_quality =
        content_quality,.thumbnail_interval_sec = interval,
    .black_threshold_sec = 1,.frozen_threshold_sec = 1,
    .silent_threshold_sec = 1
  };
  g_autoptr (GError) error = NULL;

  f->monitor = mr_monitor_new_standalone ("test", &config, &f->bin, &error);
  fail_unless (f->monitor != NULL, "%s", error ? error->message : "");
  f->h = gst_harness_new_with_element (f->bin, "sink", NULL);
  gst_harness_set_src_caps_str (f->h, TS_CAPS);
  return f;
}

static Fixture *
fixture_new (gboolean thumbnails, gboolean content_quality)
{
  return fixture_new_interval (thumbnails, content_quality, 1);
}

static void
fixture_free (Fixture * f)
{
  gst_harness_teardown (f->h);
  mr_monitor_free (f->monitor);
  gst_object_unref (f->bin);
  g_free (f);
}

/* A live source, SPEEDUP times faster: pushed all at once, the stream
 * would overflow the monitor's leaky queues (one second each) while its
 * decoders start, and the analysers would see a second of it or less */
#define SPEEDUP 5

static void
pace (gint64 start, guint i, guint n)
{
  gint64 due = start + (gint64) i * SECONDS * G_USEC_PER_SEC / n / SPEEDUP;
  gint64 now = g_get_monotonic_time ();

  if (due > now)
    g_usleep (due - now);
}

static void
push_all (Fixture * f, GPtrArray * ts)
{
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < ts->len; i++) {
    pace (start, i, ts->len);
    fail_unless_equals_int (gst_harness_push (f->h,
            gst_buffer_ref (ts->pdata[i])), GST_FLOW_OK);
  }
}

/* As the tee hands them: lists of @per_list buffers, one of whose
 * references another branch holds while this one runs */
static void
push_all_as_lists (Fixture * f, GPtrArray * ts, guint per_list)
{
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < ts->len; i += per_list) {
    GstBufferList *list = gst_buffer_list_new ();
    GstBufferList *other_branch;

    pace (start, i, ts->len);
    for (guint k = i; k < MIN (i + per_list, ts->len); k++)
      gst_buffer_list_add (list, gst_buffer_ref (ts->pdata[k]));
    other_branch = gst_buffer_list_ref (list);
    fail_unless_equals_int (gst_pad_push_list (f->h->srcpad, list),
        GST_FLOW_OK);
    gst_buffer_list_unref (other_branch);
  }
}

typedef gboolean (*Condition) (MrMonitor * monitor);

static gboolean
wait_for (MrMonitor * m, Condition condition)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;

  while (!condition (m)) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

static MrMonitorStream *
find_stream (GPtrArray * streams, MrMonitorStreamType type)
{
  for (guint i = 0; i < streams->len; i++) {
    MrMonitorStream *s = streams->pdata[i];
    if (s->type == type)
      return s;
  }
  return NULL;
}

/* Both streams known, and four GOPs of the video counted (of five) */
static gboolean
streams_complete (MrMonitor * m)
{
  g_autoptr (GPtrArray) programs = NULL;
  g_autoptr (GPtrArray) streams = NULL;
  MrMonitorStream *v, *a;

  mr_monitor_get_streams (m, &programs, &streams);
  v = find_stream (streams, MR_MONITOR_STREAM_VIDEO);
  a = find_stream (streams, MR_MONITOR_STREAM_AUDIO);
  return programs->len == 1 && v && a && v->width && v->fps_n
      && a->sample_rate && v->gop.keyframes >= SECONDS - 1
      && v->gop.gop_length;
}

static gboolean
have_thumbnail (MrMonitor * m)
{
  gint64 wall;
  g_autoptr (GBytes) jpeg = mr_monitor_get_thumbnail (m, &wall);
  return jpeg != NULL;
}

static gboolean
black_detected (MrMonitor * m)
{
  MrContentQuality cq;
  g_autofree gchar *why = NULL;

  fail_unless (mr_monitor_get_content_quality (m, &cq, &why), "%s", why);
  return cq.black_frame_detected;
}

static gboolean
analysed (MrMonitor * m)
{
  MrContentQuality cq;
  g_autofree gchar *why = NULL;

  fail_unless (mr_monitor_get_content_quality (m, &cq, &why), "%s", why);
  return cq.last_check_time && cq.video_stream_present
      && cq.audio_stream_present;
}

static void
check_streams (MrMonitor * m, guint program)
{
  g_autoptr (GPtrArray) programs = NULL;
  g_autoptr (GPtrArray) streams = NULL;
  MrMonitorStream *v, *a;
  MrMonitorProgram *p;

  fail_unless (mr_monitor_get_streams (m, &programs, &streams));
  fail_unless_equals_int (programs->len, 1);
  p = programs->pdata[0];
  fail_unless_equals_int (p->program_id, program);
  fail_unless_equals_int (streams->len, 2);

  v = find_stream (streams, MR_MONITOR_STREAM_VIDEO);
  fail_unless (v != NULL);
  fail_unless_equals_string (v->codec, "h264");
  fail_unless_equals_int (v->width, WIDTH);
  fail_unless_equals_int (v->height, HEIGHT);
  fail_unless_equals_int (v->fps_n, FPS);
  fail_unless_equals_int (v->fps_d, 1);
  fail_unless (v->has_gop);
  /* x264enc: an IDR every KEY_INTERVAL pictures, two B between P */
  fail_unless_equals_int (v->gop.gop_length, KEY_INTERVAL);
  fail_unless (v->gop.frames[MR_FRAME_I] >= v->gop.keyframes);
  fail_unless (v->gop.frames[MR_FRAME_P] > 0);
  fail_unless (v->gop.frames[MR_FRAME_B] > 0);

  a = find_stream (streams, MR_MONITOR_STREAM_AUDIO);
  fail_unless (a != NULL);
  fail_unless_equals_string (a->codec, "aac");
  fail_unless_equals_int (a->channels, 2);
  fail_unless_equals_int (a->sample_rate, 48000);
}

/* ---------------------------------------------------------------------- */

GST_START_TEST (test_streams_and_gop)
{
  Fixture *f = fixture_new (FALSE, FALSE);
  g_autofree gchar *source = NULL;

  push_all (f, smpte ());
  fail_unless (wait_for (f->monitor, streams_complete),
      "streams not found in %d s", DEADLINE_S);
  check_streams (f->monitor, 1);
  /* a standalone bin was never restarted for a source */
  source = mr_monitor_get_source (f->monitor);
  fail_unless (source == NULL);
  /* without decoding paths: no thumbnail, nothing analysed */
  fail_if (have_thumbnail (f->monitor));
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_buffer_lists)
{
  Fixture *f = fixture_new (TRUE, TRUE);

  push_all_as_lists (f, smpte (), 16);
  fail_unless (wait_for (f->monitor, streams_complete),
      "streams not found in %d s", DEADLINE_S);
  check_streams (f->monitor, 1);
  fail_unless (wait_for (f->monitor, have_thumbnail));
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_thumbnail)
{
  Fixture *f = fixture_new (TRUE, FALSE);
  g_autoptr (GBytes) jpeg = NULL;
  g_autofree gchar *note = NULL;
  const guint8 *data;
  gsize size;
  gint64 wall = 0;

  push_all (f, smpte ());
  fail_unless (wait_for (f->monitor, have_thumbnail),
      "no thumbnail in %d s", DEADLINE_S);
  jpeg = mr_monitor_get_thumbnail (f->monitor, &wall);
  data = g_bytes_get_data (jpeg, &size);
  fail_unless (size > 100);
  /* SOI ... EOI */
  fail_unless (data[0] == 0xFF && data[1] == 0xD8);
  fail_unless (data[size - 2] == 0xFF && data[size - 1] == 0xD9);
  fail_unless (wall > 0 && ABS (g_get_real_time () - wall) <
      DEADLINE_S * G_USEC_PER_SEC);
  note = mr_monitor_thumbnail_note (f->monitor);
  fail_unless (note == NULL, "%s", note);
  fixture_free (f);
}

GST_END_TEST;

static GstPadProbeReturn
count_entering (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

/* Thumbnails alone: the streams and GOP statistics are read in place, the
 * bin's demuxer gets the TS only until a thumbnail is made and again
 * shortly before the next is due (30 s later here): the stream pushed a
 * second time does not enter it at all, and is still counted */
GST_START_TEST (test_thumbnail_fed_when_due)
{
  Fixture *f = fixture_new_interval (TRUE, FALSE, 30);
  g_autoptr (GstElement) entry = gst_bin_get_by_name (GST_BIN (f->bin),
      "entry");
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GPtrArray) programs = NULL;
  g_autoptr (GPtrArray) streams = NULL;
  MrMonitorStream *v;
  gint entered = 0, before;

  fail_unless (entry != NULL);
  pad = gst_element_get_static_pad (entry, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, count_entering, &entered, NULL);
  push_all (f, smpte ());
  fail_unless (wait_for (f->monitor, have_thumbnail),
      "no thumbnail in %d s", DEADLINE_S);
  fail_unless (wait_for (f->monitor, streams_complete));
  check_streams (f->monitor, 1);
  fail_unless (g_atomic_int_get (&entered) > 0);

  before = g_atomic_int_get (&entered);
  push_all (f, smpte ());
  fail_unless_equals_int (g_atomic_int_get (&entered), before);
  /* the reader went on: the second push's GOPs are counted */
  mr_monitor_get_streams (f->monitor, &programs, &streams);
  v = find_stream (streams, MR_MONITOR_STREAM_VIDEO);
  fail_unless (v != NULL);
  fail_unless (v->gop.keyframes >= 2 * SECONDS - 1,
      "%" G_GUINT64_FORMAT " key frames", v->gop.keyframes);
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_content_quality_black)
{
  Fixture *f = fixture_new (FALSE, TRUE);
  MrContentQuality cq;
  g_autofree gchar *why = NULL;

  push_all (f, black ());
  fail_unless (wait_for (f->monitor, black_detected),
      "black not detected in %d s", DEADLINE_S);
  fail_unless (mr_monitor_get_content_quality (f->monitor, &cq, &why));
  fail_unless (cq.video_stream_present);
  fail_unless (cq.audio_stream_present);
  fail_unless (cq.last_check_time > 0);
  /* audiotestsrc's sine is not silence */
  fail_if (cq.silent_audio_detected);
  check_streams (f->monitor, 2);
  /* the alarm: one black stretch began (threshold 1 s), no silence */
  {
    MrContentAlarm alarms[MR_CONTENT_N_KINDS];

    mr_monitor_get_alarms (f->monitor, alarms);
    fail_unless_equals_uint64 (alarms[MR_CONTENT_BLACK].started, 1);
    fail_unless (alarms[MR_CONTENT_BLACK].since > 0);
    fail_unless (alarms[MR_CONTENT_BLACK].since <= g_get_real_time ()
        - G_USEC_PER_SEC + 1000);
    fail_unless_equals_uint64 (alarms[MR_CONTENT_SILENT].started, 0);
    fail_unless_equals_string (mr_content_kind_to_string (MR_CONTENT_FROZEN),
        "frozen");
  }
  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_content_quality_picture)
{
  Fixture *f = fixture_new (FALSE, TRUE);
  MrContentQuality cq;
  g_autofree gchar *why = NULL;

  push_all (f, smpte ());
  /* every frame analysed: the streams are complete once the video is */
  fail_unless (wait_for (f->monitor, analysed));
  fail_unless (wait_for (f->monitor, streams_complete));
  fail_unless (mr_monitor_get_content_quality (f->monitor, &cq, &why));
  fail_if (cq.black_frame_detected);
  fail_if (cq.silent_audio_detected);
  fixture_free (f);
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */
/* rebuilt while the tee pushes shared buffer lists */

#define REBUILD_RUN_S 4
#define REBUILD_EVERY_MS 40

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline, *src;
  MrMonitor *monitor;
  gint stop;                    /* atomic */
  guint rebuilds;
} Rebuild;

/* Lists of eight buffers, the two programs one after the other (a program
 * change each time: tsdemux removes its pads, the monitor rebuilds itself
 * too), as fast as the appsrc takes them */
static gpointer
feed (gpointer user_data)
{
  Rebuild *r = user_data;
  GPtrArray *streams[] = { smpte_ts, black_ts };

  for (guint round = 0; !g_atomic_int_get (&r->stop); round++) {
    GPtrArray *ts = streams[round % 2];

    for (guint i = 0; i < ts->len && !g_atomic_int_get (&r->stop); i += 8) {
      GstBufferList *list = gst_buffer_list_new ();

      for (guint k = i; k < MIN (i + 8, ts->len); k++)
        gst_buffer_list_add (list, gst_buffer_ref (ts->pdata[k]));
      if (gst_app_src_push_buffer_list (GST_APP_SRC (r->src), list) !=
          GST_FLOW_OK)
        return NULL;
      /* up to 20 times real time: the monitor's backlog keeps up */
      g_usleep (2000);
    }
  }
  return NULL;
}

static gboolean
rebuild_monitor (gpointer user_data)
{
  Rebuild *r = user_data;

  mr_monitor_restart (r->monitor, r->rebuilds++ % 2 ? "a" : "b");
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus_error (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    fail ("an error reached the pipeline's bus: %s: %s",
        GST_MESSAGE_SRC_NAME (msg), err->message);
  }
  return G_SOURCE_CONTINUE;
}

GST_START_TEST (test_rebuild_with_shared_lists)
{
  Rebuild r = { 0 };
  MrMonitorConfig config = {.thumbnails = TRUE,.content_quality = TRUE,
    .thumbnail_interval_sec = 1
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) tee = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstCaps) caps = gst_caps_from_string (TS_CAPS);
  GstElement *out = gst_element_factory_make ("fakesink", "out");
  MrBranch *branch;
  GThread *feeder;
  guint rebuild_source, bus_watch;

  smpte ();
  black ();
  r.loop = g_main_loop_new (NULL, FALSE);
  r.pipeline = gst_parse_launch ("appsrc name=src is-live=true format=time "
      "max-bytes=2000000 ! tee name=fanout allow-not-linked=true", &error);
  fail_unless (r.pipeline != NULL);
  r.src = gst_bin_get_by_name (GST_BIN (r.pipeline), "src");
  g_object_set (r.src, "caps", caps, NULL);
  tee = gst_bin_get_by_name (GST_BIN (r.pipeline), "fanout");
  bus = gst_element_get_bus (r.pipeline);
  bus_watch = gst_bus_add_watch (bus, on_bus_error, NULL);
  fail_unless (gst_element_set_state (r.pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  /* an output branch holds the tee's lists too */
  branch = mr_branch_attach (r.pipeline, tee, "out", out, 1000);
  r.monitor = mr_monitor_attach (r.pipeline, tee, &config);

  feeder = g_thread_new ("feed", feed, &r);
  rebuild_source = g_timeout_add (REBUILD_EVERY_MS, rebuild_monitor, &r);
  g_timeout_add_seconds (REBUILD_RUN_S, stop_loop, r.loop);
  g_main_loop_run (r.loop);
  g_source_remove (rebuild_source);
  fail_unless (r.rebuilds > 10);

  /* the last bin, left alone, finds the streams again */
  {
    g_autoptr (GPtrArray) programs = NULL;
    g_autoptr (GPtrArray) streams = NULL;
    gint64 end = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;

    while (!mr_monitor_get_streams (r.monitor, &programs, &streams)
        && g_get_monotonic_time () < end) {
      g_clear_pointer (&programs, g_ptr_array_unref);
      g_clear_pointer (&streams, g_ptr_array_unref);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
    fail_unless (streams->len > 0);
  }

  g_atomic_int_set (&r.stop, 1);
  gst_app_src_end_of_stream (GST_APP_SRC (r.src));
  g_thread_join (feeder);
  /* as the runner stops a flow: detach, let the main loop finish it */
  mr_monitor_detach (r.monitor);
  mr_branch_detach (branch);
  while (g_main_context_iteration (NULL, FALSE));
  gst_element_set_state (r.pipeline, GST_STATE_NULL);
  while (g_main_context_iteration (NULL, FALSE));
  g_source_remove (bus_watch);
  gst_object_unref (r.src);
  gst_object_unref (r.pipeline);
  g_main_loop_unref (r.loop);
}

GST_END_TEST;

static void
free_streams (void)
{
  g_clear_pointer (&smpte_ts, g_ptr_array_unref);
  g_clear_pointer (&black_ts, g_ptr_array_unref);
}

static Suite *
monitor_bin_suite (void)
{
  Suite *s = suite_create ("monitor-bin");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, NULL, free_streams);
  tcase_add_test (tc, test_streams_and_gop);
  tcase_add_test (tc, test_buffer_lists);
  tcase_add_test (tc, test_thumbnail);
  tcase_add_test (tc, test_thumbnail_fed_when_due);
  tcase_add_test (tc, test_content_quality_black);
  tcase_add_test (tc, test_content_quality_picture);
  tcase_add_test (tc, test_rebuild_with_shared_lists);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (monitor_bin);
