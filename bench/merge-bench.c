/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* merge-bench: the cost per packet of `rtpst2022-7-merge` against
 * `rtpfunnel` on the same two-leg input, in one process.  Driven by
 * bench/merge.py, which prints the table and the ratio; see bench/README.md.
 *
 * The input: @packets RTP packets (12-byte header + 1316 bytes of MPEG-TS,
 * one SSRC, sequence numbers wrapping), on two legs with complementary loss:
 * leg A misses a @loss fraction of them, leg B a disjoint fraction of the
 * same size, every packet is on at least one leg.  Which leg has which
 * packet is drawn once (seeded); B's copy of packet n arrives right after
 * A's copy of n + @lag (B a little behind A).
 *
 * The element under test gets two request pads sink_0 and sink_1, linked to
 * two source pads of this program, and its src pad is linked to a counting
 * sink pad of this program (or to a fakesink sync=false async=false with
 * --sink fakesink); the element (and the fakesink) are in a pipeline in
 * PLAYING, so that the merger's recovery window runs on the system clock.
 * One thread, this one, pushes both legs in arrival order, as single
 * buffers (--mode buffer) or as buffer lists of up to @batch packets per
 * leg (--mode list: A's list for [kB, kB+B), then B's list for
 * [kB-lag, kB+B-lag)), as fast as it can.  Timed: the whole push; CPU
 * time of the process (every thread: the merger's clock task too) and of
 * this thread, and the wall clock.  EOS, the counts and the merger's stats
 * come after the timing.
 *
 * The element `none` is the harness alone: both legs straight into the
 * counting sink (with --sink fakesink too).
 *
 * Packets come from a pool of @pool prebuilt buffers per leg, one memory of
 * 1328 bytes each (each leg its own bytes); packet n uses slot n % pool,
 * whose header (sequence number, timestamp) is written just before the
 * push.  A slot is reused only when nothing holds its buffer any more
 * (checked: the reference count is one, the pool's own).  The pool is small
 * (512) on purpose: a receiver pushes buffers it has just filled, whose
 * header and GstBuffer are in the cache; with thousands of buffers per leg
 * every push would start with cache misses that no real source has.
 *
 * One line per run on stdout, `run key=value ...`, for merge.py. */

#include <gst/gst.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define HEADER_SIZE 12
#define PAYLOAD_SIZE 1316               /* 7 TS packets */
#define PACKET_SIZE (HEADER_SIZE + PAYLOAD_SIZE)
#define SSRC 0x4d524f55u                /* "MROU" */
#define PT_MP2T 33
#define FIRST_SEQ 65500                 /* wraps after 36 packets */
#define TS_STEP 90                      /* 90 kHz ticks per packet: 1 ms */

#define HAS_A 1
#define HAS_B 2

typedef struct
{
  guint64 buffers;
  guint64 lists;
  guint64 segments;
  guint64 caps;
  guint64 eos;
  guint64 other_events;
} Counter;

typedef struct
{
  guint64 packets;
  guint lag;
  guint batch;
  guint pool;
  gdouble loss;
  guint64 seed;
  gboolean list_mode;
  gboolean fakesink;
  guint repeat;
  guint64 warmup;
  gchar **elements;
} Config;

typedef struct
{
  guint8 *data;                 /* pool x PACKET_SIZE */
  GstBuffer **buffers;          /* pool */
} Pool;

static Config cfg = {
  .packets = 1000000, .lag = 4, .batch = 64, .pool = 512, .loss = 0.10,
  .seed = 20227, .list_mode = FALSE, .fakesink = FALSE, .repeat = 1,
  .warmup = 100000,
};

static guint8 *present;         /* HAS_A | HAS_B per packet */
static guint64 n_a, n_b, n_both;
static Pool pools[2];

static void
die (const gchar * fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fputs ("merge-bench: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static gdouble
clock_s (clockid_t id)
{
  struct timespec ts;

  clock_gettime (id, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64: the loss pattern, the same for every element of a seed */
static guint64
next_random (guint64 * state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static void
make_input (void)
{
  guint64 state = cfg.seed;
  guint64 threshold = (guint64) (cfg.loss * 1e6 + 0.5);

  present = g_malloc (cfg.packets);
  n_a = n_b = n_both = 0;
  for (guint64 n = 0; n < cfg.packets; n++) {
    guint64 r = next_random (&state) % 1000000;
    guint8 p = HAS_A | HAS_B;
    if (r < threshold)
      p = HAS_B;                /* lost on A */
    else if (r < 2 * threshold)
      p = HAS_A;                /* lost on B */
    present[n] = p;
    n_a += (p & HAS_A) != 0;
    n_b += (p & HAS_B) != 0;
    n_both += p == (HAS_A | HAS_B);
  }
}

static void
make_pool (Pool * pool)
{
  pool->data = g_malloc (cfg.pool * (gsize) PACKET_SIZE);
  pool->buffers = g_new (GstBuffer *, cfg.pool);
  for (guint i = 0; i < cfg.pool; i++) {
    guint8 *p = pool->data + i * (gsize) PACKET_SIZE;

    memset (p, 0, HEADER_SIZE);
    p[0] = 0x80;
    p[1] = PT_MP2T;
    GST_WRITE_UINT32_BE (p + 8, SSRC);
    /* 7 TS null packets */
    for (guint t = 0; t < 7; t++) {
      guint8 *ts = p + HEADER_SIZE + t * 188;
      memset (ts, 0xff, 188);
      ts[0] = 0x47;
      ts[1] = 0x1f;
      ts[2] = 0xff;
      ts[3] = 0x10;
    }
    pool->buffers[i] = gst_buffer_new_wrapped_full (0, p, PACKET_SIZE, 0,
        PACKET_SIZE, NULL, NULL);
  }
}

/* The buffer of packet @n on a leg, with its header written */
static inline GstBuffer *
packet (Pool * pool, guint64 n)
{
  guint slot = n % cfg.pool;
  GstBuffer *buf = pool->buffers[slot];
  guint8 *p = pool->data + slot * (gsize) PACKET_SIZE;

  if (G_UNLIKELY (GST_MINI_OBJECT_REFCOUNT_VALUE (buf) != 1))
    die ("packet %" G_GUINT64_FORMAT ": pool slot %u still held downstream "
        "(refcount %d): use a larger --pool", n, slot,
        GST_MINI_OBJECT_REFCOUNT_VALUE (buf));
  GST_WRITE_UINT16_BE (p + 2, (guint16) (FIRST_SEQ + n));
  GST_WRITE_UINT32_BE (p + 4, (guint32) (n * TS_STEP));
  return gst_buffer_ref (buf);
}

/* The counting sink */

static GstFlowReturn
count_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  Counter *c = gst_pad_get_element_private (pad);

  c->buffers++;
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;
}

static GstFlowReturn
count_chain_list (GstPad * pad, GstObject * parent, GstBufferList * list)
{
  Counter *c = gst_pad_get_element_private (pad);

  c->buffers += gst_buffer_list_length (list);
  c->lists++;
  gst_buffer_list_unref (list);
  return GST_FLOW_OK;
}

static gboolean
count_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  Counter *c = gst_pad_get_element_private (pad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:
      c->segments++;
      break;
    case GST_EVENT_CAPS:
      c->caps++;
      break;
    case GST_EVENT_EOS:
      c->eos++;
      break;
    default:
      c->other_events++;
      break;
  }
  gst_event_unref (event);
  return TRUE;
}

static GstPad *
count_pad_new (const gchar * name, Counter * c)
{
  GstPad *pad = gst_pad_new (name, GST_PAD_SINK);

  gst_pad_set_chain_function (pad, count_chain);
  gst_pad_set_chain_list_function (pad, count_chain_list);
  gst_pad_set_event_function (pad, count_event);
  gst_pad_set_element_private (pad, c);
  gst_pad_set_active (pad, TRUE);
  return pad;
}

static gboolean
fakesink_count (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Counter *c = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    c->buffers++;
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    c->buffers += gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    c->lists++;
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (e) == GST_EVENT_SEGMENT)
      c->segments++;
    else if (GST_EVENT_TYPE (e) == GST_EVENT_CAPS)
      c->caps++;
    else if (GST_EVENT_TYPE (e) == GST_EVENT_EOS)
      c->eos++;
    else
      c->other_events++;
  }
  return GST_PAD_PROBE_OK;
}

/* One run */

typedef struct
{
  gdouble wall, cpu, thread_cpu;
  glong vcsw, ivcsw;
  guint64 in;
  Counter out;
  GstStructure *stats;
} Result;

static void
push_or_die (GstFlowReturn ret, const gchar * what)
{
  if (ret != GST_FLOW_OK)
    die ("pushing %s: %s", what, gst_flow_get_name (ret));
}

static void
push_events (GstPad * src, const gchar * leg)
{
  GstSegment segment;
  GstCaps *caps = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "video",
      "clock-rate", G_TYPE_INT, 90000,
      "encoding-name", G_TYPE_STRING, "MP2T",
      "payload", G_TYPE_INT, PT_MP2T,
      "ssrc", G_TYPE_UINT, SSRC, NULL);

  if (!gst_pad_push_event (src, gst_event_new_stream_start (leg)))
    die ("%s: stream-start refused", leg);
  if (!gst_pad_push_event (src, gst_event_new_caps (caps)))
    die ("%s: caps refused", leg);
  gst_caps_unref (caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  if (!gst_pad_push_event (src, gst_event_new_segment (&segment)))
    die ("%s: segment refused", leg);
}

/* not inlined: callgrind --toggle-collect=push_buffers measures the push alone */
static G_GNUC_NO_INLINE guint64
push_buffers (GstPad * src_a, GstPad * src_b, guint64 packets)
{
  guint64 in = 0;

  for (guint64 i = 0; i < packets + cfg.lag; i++) {
    if (i < packets && (present[i] & HAS_A)) {
      push_or_die (gst_pad_push (src_a, packet (&pools[0], i)), "leg A");
      in++;
    }
    if (i >= cfg.lag && (present[i - cfg.lag] & HAS_B)) {
      push_or_die (gst_pad_push (src_b, packet (&pools[1], i - cfg.lag)),
          "leg B");
      in++;
    }
  }
  return in;
}

static guint64
push_leg_list (GstPad * src, Pool * pool, guint8 has, gint64 from,
    gint64 to, guint64 packets)
{
  GstBufferList *list;
  guint64 in = 0;

  from = MAX (from, 0);
  to = MIN (to, (gint64) packets);
  if (from >= to)
    return 0;
  list = gst_buffer_list_new_sized (to - from);
  for (gint64 n = from; n < to; n++)
    if (present[n] & has) {
      gst_buffer_list_add (list, packet (pool, n));
      in++;
    }
  if (in)
    push_or_die (gst_pad_push_list (src, list), has == HAS_A ? "leg A" :
        "leg B");
  else
    gst_buffer_list_unref (list);
  return in;
}

static G_GNUC_NO_INLINE guint64
push_lists (GstPad * src_a, GstPad * src_b, guint64 packets)
{
  guint64 in = 0;
  gint64 b = cfg.batch;

  for (gint64 k = 0; k * b < (gint64) (packets + cfg.lag); k++) {
    in += push_leg_list (src_a, &pools[0], HAS_A, k * b, (k + 1) * b, packets);
    in += push_leg_list (src_b, &pools[1], HAS_B, k * b - cfg.lag,
        (k + 1) * b - cfg.lag, packets);
  }
  return in;
}

static void
run (const gchar * factory, guint64 packets, Result * r)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *element = NULL, *sink = NULL;
  GstPad *src_a = gst_pad_new ("leg_a", GST_PAD_SRC);
  GstPad *src_b = gst_pad_new ("leg_b", GST_PAD_SRC);
  GstPad *sink_a = NULL, *sink_b = NULL, *count_a = NULL, *count_b = NULL;
  GstPad *element_src = NULL;
  struct rusage ru0, ru1;
  gdouble w0, c0, t0;

  memset (r, 0, sizeof (*r));
  gst_pad_set_active (src_a, TRUE);
  gst_pad_set_active (src_b, TRUE);

  if (g_strcmp0 (factory, "none") == 0) {
    count_a = count_pad_new ("count_a", &r->out);
    count_b = count_pad_new ("count_b", &r->out);
    if (gst_pad_link (src_a, count_a) != GST_PAD_LINK_OK
        || gst_pad_link (src_b, count_b) != GST_PAD_LINK_OK)
      die ("none: cannot link");
  } else {
    element = gst_element_factory_make (factory, NULL);
    if (!element)
      die ("no element %s (GST_PLUGIN_PATH?)", factory);
    gst_bin_add (GST_BIN (pipeline), element);
    sink_a = gst_element_request_pad_simple (element, "sink_%u");
    sink_b = gst_element_request_pad_simple (element, "sink_%u");
    if (!sink_a || !sink_b)
      die ("%s: no request pads", factory);
    if (gst_pad_link (src_a, sink_a) != GST_PAD_LINK_OK
        || gst_pad_link (src_b, sink_b) != GST_PAD_LINK_OK)
      die ("%s: cannot link the legs", factory);
    element_src = gst_element_get_static_pad (element, "src");
    if (cfg.fakesink) {
      GstPad *fpad;
      sink = gst_element_factory_make ("fakesink", NULL);
      g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
      gst_bin_add (GST_BIN (pipeline), sink);
      if (!gst_element_link (element, sink))
        die ("%s: cannot link fakesink", factory);
      fpad = gst_element_get_static_pad (sink, "sink");
      gst_pad_add_probe (fpad, GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
          (GstPadProbeCallback) fakesink_count, &r->out, NULL);
      gst_object_unref (fpad);
    } else {
      count_a = count_pad_new ("count", &r->out);
      if (gst_pad_link (element_src, count_a) != GST_PAD_LINK_OK)
        die ("%s: cannot link the counting sink", factory);
    }
  }
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE
      || gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND)
      != GST_STATE_CHANGE_SUCCESS)
    die ("%s: pipeline did not reach PLAYING", factory);

  push_events (src_a, "leg-a");
  push_events (src_b, "leg-b");

  getrusage (RUSAGE_SELF, &ru0);
  w0 = clock_s (CLOCK_MONOTONIC);
  c0 = clock_s (CLOCK_PROCESS_CPUTIME_ID);
  t0 = clock_s (CLOCK_THREAD_CPUTIME_ID);
  r->in = cfg.list_mode ? push_lists (src_a, src_b, packets)
      : push_buffers (src_a, src_b, packets);
  r->thread_cpu = clock_s (CLOCK_THREAD_CPUTIME_ID) - t0;
  r->cpu = clock_s (CLOCK_PROCESS_CPUTIME_ID) - c0;
  r->wall = clock_s (CLOCK_MONOTONIC) - w0;
  getrusage (RUSAGE_SELF, &ru1);
  r->vcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
  r->ivcsw = ru1.ru_nivcsw - ru0.ru_nivcsw;

  gst_pad_push_event (src_a, gst_event_new_eos ());
  gst_pad_push_event (src_b, gst_event_new_eos ());
  if (element && g_object_class_find_property (G_OBJECT_GET_CLASS (element),
          "stats"))
    g_object_get (element, "stats", &r->stats, NULL);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_pad_set_active (src_a, FALSE);
  gst_pad_set_active (src_b, FALSE);
  if (count_a)
    gst_pad_set_active (count_a, FALSE);
  if (count_b)
    gst_pad_set_active (count_b, FALSE);
  if (sink_a) {
    gst_element_release_request_pad (element, sink_a);
    gst_element_release_request_pad (element, sink_b);
    gst_object_unref (sink_a);
    gst_object_unref (sink_b);
  }
  gst_clear_object (&element_src);
  gst_object_unref (src_a);
  gst_object_unref (src_b);
  gst_clear_object (&count_a);
  gst_clear_object (&count_b);
  gst_object_unref (pipeline);
}

static guint64
stats_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;

  if (s)
    gst_structure_get_uint64 (s, field, &v);
  return v;
}

static void
print_result (const gchar * factory, guint round, const Result * r)
{
  printf ("run element=%s mode=%s batch=%u sink=%s round=%u packets=%"
      G_GUINT64_FORMAT " in=%" G_GUINT64_FORMAT " out=%" G_GUINT64_FORMAT
      " out_lists=%" G_GUINT64_FORMAT " segments=%" G_GUINT64_FORMAT
      " eos=%" G_GUINT64_FORMAT " wall_s=%.6f cpu_s=%.6f thread_cpu_s=%.6f"
      " vcsw=%ld ivcsw=%ld", factory, cfg.list_mode ? "list" : "buffer",
      cfg.list_mode ? cfg.batch : 1,
      cfg.fakesink && g_strcmp0 (factory, "none") ? "fakesink" : "count",
      round, cfg.packets, r->in, r->out.buffers, r->out.lists,
      r->out.segments, r->out.eos, r->wall, r->cpu, r->thread_cpu, r->vcsw,
      r->ivcsw);
  if (r->stats) {
    const GValue *legs = gst_structure_get_value (r->stats, "legs");
    guint64 dup = 0, late = 0, foreign = 0, invalid = 0;

    for (guint i = 0; legs && i < gst_value_array_get_size (legs); i++) {
      const GstStructure *l =
          gst_value_get_structure (gst_value_array_get_value (legs, i));
      dup += stats_u64 (l, "duplicates");
      late += stats_u64 (l, "late");
      foreign += stats_u64 (l, "foreign");
      invalid += stats_u64 (l, "invalid");
    }
    printf (" merge_output=%" G_GUINT64_FORMAT " merge_lost=%" G_GUINT64_FORMAT
        " merge_restarts=%" G_GUINT64_FORMAT " merge_duplicates=%"
        G_GUINT64_FORMAT " merge_late=%" G_GUINT64_FORMAT " merge_foreign=%"
        G_GUINT64_FORMAT " merge_invalid=%" G_GUINT64_FORMAT,
        stats_u64 (r->stats, "output-packets"),
        stats_u64 (r->stats, "lost-packets"),
        stats_u64 (r->stats, "restarts"), dup, late, foreign, invalid);
  }
  printf ("\n");
  fflush (stdout);
}

static guint64
parse_u64 (const gchar * opt, const gchar * v, guint64 min, guint64 max)
{
  gchar *end;
  guint64 x;

  errno = 0;
  x = g_ascii_strtoull (v, &end, 10);
  if (errno || *end || end == v || x < min || x > max)
    die ("%s: a whole number between %" G_GUINT64_FORMAT " and %"
        G_GUINT64_FORMAT " expected, not '%s'", opt, min, max, v);
  return x;
}

static void
usage (void)
{
  fputs ("usage: merge-bench [--packets N] [--mode buffer|list] [--batch B]\n"
      "                   [--lag L] [--loss F] [--seed S] [--pool P]\n"
      "                   [--sink count|fakesink] [--repeat R] [--warmup N]\n"
      "                   [--elements rtpst2022-7-merge,rtpfunnel,none]\n"
      "Each round runs the elements in the given order, the next round in\n"
      "the reverse order.  Needs GST_PLUGIN_PATH to hold libgstmroute.so.\n",
      stderr);
  exit (2);
}

int
main (int argc, char **argv)
{
  const gchar *elements = "rtpst2022-7-merge,rtpfunnel,none";
  guint n_elements, major, minor, micro, nano;

  gst_init (&argc, &argv);
  for (int i = 1; i < argc; i++) {
    const gchar *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

    if (!v || !strcmp (o, "--help"))
      usage ();
    i++;
    if (!strcmp (o, "--packets"))
      cfg.packets = parse_u64 (o, v, 1, G_GUINT64_CONSTANT (100000000));
    else if (!strcmp (o, "--mode")) {
      if (strcmp (v, "buffer") && strcmp (v, "list"))
        usage ();
      cfg.list_mode = !strcmp (v, "list");
    } else if (!strcmp (o, "--batch"))
      cfg.batch = parse_u64 (o, v, 1, 1024);
    else if (!strcmp (o, "--lag"))
      cfg.lag = parse_u64 (o, v, 0, 4096);
    else if (!strcmp (o, "--loss")) {
      cfg.loss = g_ascii_strtod (v, NULL);
      if (cfg.loss < 0 || cfg.loss > 0.5)
        die ("--loss: a fraction between 0 and 0.5");
    } else if (!strcmp (o, "--seed"))
      cfg.seed = parse_u64 (o, v, 0, G_MAXUINT64);
    else if (!strcmp (o, "--pool"))
      cfg.pool = parse_u64 (o, v, 16, 1 << 20);
    else if (!strcmp (o, "--sink")) {
      if (strcmp (v, "count") && strcmp (v, "fakesink"))
        usage ();
      cfg.fakesink = !strcmp (v, "fakesink");
    } else if (!strcmp (o, "--repeat"))
      cfg.repeat = parse_u64 (o, v, 1, 1000);
    else if (!strcmp (o, "--warmup"))
      cfg.warmup = parse_u64 (o, v, 0, G_GUINT64_CONSTANT (100000000));
    else if (!strcmp (o, "--elements"))
      elements = v;
    else
      usage ();
  }
  /* a pool slot comes back after pool packets; B is lag behind, a list
   * holds batch more */
  if (cfg.pool <= cfg.lag + 2 * cfg.batch)
    die ("--pool must be larger than lag + 2 x batch");
  cfg.elements = g_strsplit (elements, ",", -1);
  n_elements = g_strv_length (cfg.elements);
  if (!n_elements)
    usage ();

  gst_version (&major, &minor, &micro, &nano);
  make_input ();
  make_pool (&pools[0]);
  make_pool (&pools[1]);
  printf ("input packets=%" G_GUINT64_FORMAT " leg_a=%" G_GUINT64_FORMAT
      " leg_b=%" G_GUINT64_FORMAT " both=%" G_GUINT64_FORMAT " lag=%u loss=%g"
      " seed=%" G_GUINT64_FORMAT " packet_bytes=%d first_seq=%d gstreamer=%u.%u.%u\n",
      cfg.packets, n_a, n_b, n_both, cfg.lag, cfg.loss, cfg.seed, PACKET_SIZE,
      FIRST_SEQ, major, minor, micro);
  fflush (stdout);

  /* each element once on the first packets: code paged in, allocator warm */
  if (cfg.warmup) {
    guint64 packets = MIN (cfg.warmup, cfg.packets);
    for (guint e = 0; e < n_elements; e++) {
      Result r;
      run (cfg.elements[e], packets, &r);
      if (r.stats)
        gst_structure_free (r.stats);
    }
  }

  for (guint round = 1; round <= cfg.repeat; round++) {
    for (guint k = 0; k < n_elements; k++) {
      guint e = round % 2 ? k : n_elements - 1 - k;
      Result r;

      run (cfg.elements[e], cfg.packets, &r);
      print_result (cfg.elements[e], round, &r);
      if (r.stats)
        gst_structure_free (r.stats);
    }
  }

  for (guint l = 0; l < 2; l++) {
    for (guint i = 0; i < cfg.pool; i++)
      gst_buffer_unref (pools[l].buffers[i]);
    g_free (pools[l].buffers);
    g_free (pools[l].data);
  }
  g_free (present);
  g_strfreev (cfg.elements);
  return 0;
}
