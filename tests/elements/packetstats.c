/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#include <math.h>
#include <string.h>

#define RTP_CAPS "application/x-rtp, media=(string)video, " \
    "clock-rate=(int)90000, encoding-name=(string)MP2T, payload=(int)33"
#define MPEGTS_CAPS "video/mpegts, systemstream=(boolean)true, " \
    "packetsize=(int)188"

#define RTP_HEADER_SIZE 12
#define RTP_PACKET_SIZE (RTP_HEADER_SIZE + 100)
#define TS_PACKET_SIZE 188
#define TS_DATAGRAM_PACKETS 7
#define TS_DATAGRAM_SIZE (TS_DATAGRAM_PACKETS * TS_PACKET_SIZE)

#define IDLE_TIMEOUT_MS 1000
/* the element checks for silence four times per idle timeout */
#define IDLE_CHECK_INTERVAL (IDLE_TIMEOUT_MS * GST_MSECOND / 4)

/* Helpers: building datagrams */

static void
rtp_packet_fill (guint8 * data, guint16 seq)
{
  guint i;

  data[0] = 0x80;               /* version 2 */
  data[1] = 33;                 /* MP2T */
  GST_WRITE_UINT16_BE (data + 2, seq);
  GST_WRITE_UINT32_BE (data + 4, seq * 3000);
  GST_WRITE_UINT32_BE (data + 8, 0xdeadbeef);
  for (i = RTP_HEADER_SIZE; i < RTP_PACKET_SIZE; i++)
    data[i] = (seq + i) & 0xff;
}

static GstBuffer *
rtp_buffer_new (guint16 seq)
{
  guint8 *data = g_malloc (RTP_PACKET_SIZE);

  rtp_packet_fill (data, seq);
  return gst_buffer_new_wrapped (data, RTP_PACKET_SIZE);
}

static guint16
rtp_buffer_get_seq (GstBuffer * buffer)
{
  guint8 header[RTP_HEADER_SIZE];

  fail_unless_equals_int (gst_buffer_extract (buffer, 0, header,
          sizeof (header)), RTP_HEADER_SIZE);
  return GST_READ_UINT16_BE (header + 2);
}

/* A datagram of TS packets on @pid with continuity counters from @first_cc */
static GstBuffer *
ts_datagram_new (guint pid, guint first_cc, guint n_packets)
{
  gsize size = n_packets * TS_PACKET_SIZE;
  guint8 *data = g_malloc (size);
  guint i;

  memset (data, 0xff, size);
  for (i = 0; i < n_packets; i++) {
    guint8 *pkt = data + i * TS_PACKET_SIZE;

    pkt[0] = 0x47;
    pkt[1] = (pid >> 8) & 0x1f;
    pkt[2] = pid & 0xff;
    pkt[3] = 0x10 | ((first_cc + i) & 0x0f);    /* payload only */
  }
  return gst_buffer_new_wrapped (data, size);
}

/* Helpers: the element */

static GstHarness *
packetstats_harness_new (guint idle_timeout_ms, GstBus * bus,
    const gchar * caps)
{
  GstElement *element;
  GstHarness *h;

  element = gst_element_factory_make ("packetstats", NULL);
  fail_unless (element != NULL);
  /* idle-timeout is read when going to PLAYING, which the harness does */
  g_object_set (element, "idle-timeout", idle_timeout_ms, NULL);
  if (bus)
    gst_element_set_bus (element, bus);

  /* attaches the harness' GstTestClock before going to PLAYING */
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);

  if (caps)
    gst_harness_set_src_caps_str (h, caps);
  return h;
}

static void
packetstats_harness_teardown (GstHarness * h, GstBus * bus)
{
  /* the messages left on the bus hold refs to the element, which holds the
   * bus: break the cycle before the harness drops the element */
  if (bus) {
    gst_element_set_bus (h->element, NULL);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
  gst_harness_teardown (h);
}

static GstStructure *
get_stats (GstHarness * h)
{
  GstStructure *stats = NULL;

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  fail_unless (gst_structure_has_name (stats, "application/x-packetstats"));
  return stats;
}

static guint64
stats_get_uint64 (const GstStructure * stats, const gchar * field)
{
  guint64 value = 0;

  fail_unless (gst_structure_get_uint64 (stats, field, &value),
      "stats have no guint64 field '%s'", field);
  return value;
}

static gboolean
stats_get_active (const GstStructure * stats)
{
  gboolean active = FALSE;

  fail_unless (gst_structure_get_boolean (stats, "active", &active));
  return active;
}

typedef struct
{
  guint64 packets;
  guint64 bytes;
  guint64 lost;
  guint64 reordered;
  guint64 resyncs;
  guint64 ts_packets;
  guint64 sync_errors;
} ExpectedStats;

static void
assert_stats (GstHarness * h, const ExpectedStats * expected)
{
  GstStructure *stats = get_stats (h);

  fail_unless_equals_uint64 (stats_get_uint64 (stats, "packets"),
      expected->packets);
  fail_unless_equals_uint64 (stats_get_uint64 (stats, "bytes"),
      expected->bytes);
  fail_unless_equals_uint64 (stats_get_uint64 (stats, "lost"), expected->lost);
  fail_unless_equals_uint64 (stats_get_uint64 (stats, "reordered"),
      expected->reordered);
  fail_unless_equals_uint64 (stats_get_uint64 (stats, "resyncs"),
      expected->resyncs);
  fail_unless_equals_uint64 (stats_get_uint64 (stats, "ts-packets"),
      expected->ts_packets);
  fail_unless_equals_uint64 (stats_get_uint64 (stats, "sync-errors"),
      expected->sync_errors);
  gst_structure_free (stats);
}

static gboolean
element_is_active (GstHarness * h)
{
  GstStructure *stats = get_stats (h);
  gboolean active = stats_get_active (stats);

  gst_structure_free (stats);
  return active;
}

static void
push_rtp (GstHarness * h, guint16 seq)
{
  fail_unless_equals_int (gst_harness_push (h, rtp_buffer_new (seq)),
      GST_FLOW_OK);
}

static void
assert_no_activity_message (GstBus * bus)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);

  fail_unless (msg == NULL, "unexpected message %" GST_PTR_FORMAT, msg);
}

static void
assert_activity_message (GstBus * bus, GstHarness * h, gboolean active,
    GstClockTime running_time, guint64 packets)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  const GstStructure *s;
  gboolean msg_active;
  GstClockTime msg_running_time;
  guint64 msg_packets;
  guint sequence = 0;
  static guint last_sequence;

  fail_unless (msg != NULL, "no packetstats message (active=%d)", active);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT_CAST (h->element));
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_name (s, "packetstats"));
  fail_unless (gst_structure_get_boolean (s, "active", &msg_active));
  fail_unless (gst_structure_get_clock_time (s, "running-time",
          &msg_running_time));
  fail_unless (gst_structure_get_uint64 (s, "packets", &msg_packets));
  /* every change is numbered, from 1 for a new element */
  fail_unless (gst_structure_get_uint (s, "sequence", &sequence));
  fail_unless (sequence == 1 || sequence == last_sequence + 1,
      "sequence %u after %u", sequence, last_sequence);
  last_sequence = sequence;

  fail_unless_equals_int (msg_active, active);
  fail_unless_equals_clocktime (msg_running_time, running_time);
  fail_unless_equals_uint64 (msg_packets, packets);
  gst_message_unref (msg);
}

/* Tests */

GST_START_TEST (test_properties)
{
  GstElement *element = gst_element_factory_make ("packetstats", NULL);
  GstStructure *stats = NULL;
  guint idle_timeout;

  g_object_get (element, "idle-timeout", &idle_timeout, "stats", &stats, NULL);
  fail_unless_equals_int (idle_timeout, 2000);
  fail_unless (stats != NULL);
  fail_unless_equals_uint64 (stats_get_uint64 (stats, "packets"), 0);
  fail_if (stats_get_active (stats));
  gst_structure_free (stats);

  g_object_set (element, "idle-timeout", 250, NULL);
  g_object_get (element, "idle-timeout", &idle_timeout, NULL);
  fail_unless_equals_int (idle_timeout, 250);

  gst_object_unref (element);
}

GST_END_TEST;

GST_START_TEST (test_rtp_stats)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL, RTP_CAPS);
  guint16 seq;

  for (seq = 100; seq < 105; seq++)
    push_rtp (h, seq);
  assert_stats (h, &(ExpectedStats) {.packets = 5,
        .bytes = 5 * RTP_PACKET_SIZE});
  fail_unless (element_is_active (h));

  /* 105, 106 and 107 lost */
  push_rtp (h, 108);
  push_rtp (h, 109);
  assert_stats (h, &(ExpectedStats) {.packets = 7, .bytes = 7 * RTP_PACKET_SIZE,
        .lost = 3});

  /* 107 was only late */
  push_rtp (h, 107);
  assert_stats (h, &(ExpectedStats) {.packets = 8, .bytes = 8 * RTP_PACKET_SIZE,
        .lost = 2, .reordered = 1});

  /* the sender restarts far away */
  push_rtp (h, 40000);
  push_rtp (h, 40001);
  assert_stats (h, &(ExpectedStats) {.packets = 10,
        .bytes = 10 * RTP_PACKET_SIZE, .lost = 2, .reordered = 1,
        .resyncs = 1});

  fail_unless_equals_int (gst_harness_buffers_received (h), 10);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* RFC 3550 jitter, from the buffers' capture times: every other packet
 * 2 ms late against its RTP timestamp (seq * 3000 at 90 kHz), so every
 * |D| is 2 ms and jitter-ms = 2 (1 - (15/16)^n) after n samples */
static gdouble
stats_get_double (GstHarness * h, const gchar * field)
{
  GstStructure *stats = get_stats (h);
  gdouble v = -1;

  fail_unless (gst_structure_get_double (stats, field, &v), "no %s", field);
  gst_structure_free (stats);
  return v;
}

static guint64
stats_uint64 (GstHarness * h, const gchar * field)
{
  GstStructure *stats = get_stats (h);
  guint64 v = stats_get_uint64 (stats, field);

  gst_structure_free (stats);
  return v;
}

static void
assert_cmp_double_near (gdouble got, gdouble want)
{
  fail_unless (fabs (got - want) < 1e-6, "%f, want %f", got, want);
}

static GstClockTime
rtp_time (guint16 seq, gint clock_rate)
{
  return gst_util_uint64_scale_int (seq * 3000, GST_SECOND, clock_rate);
}

GST_START_TEST (test_rtp_jitter_from_timestamps)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL, RTP_CAPS);

  for (guint16 seq = 0; seq < 40; seq++) {
    GstBuffer *b = rtp_buffer_new (seq);

    GST_BUFFER_DTS (b) = rtp_time (seq, 90000) + (seq % 2 ? 2 * GST_MSECOND :
        0);
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  }
  fail_unless_equals_uint64 (stats_uint64 (h, "jitter-samples"), 39);
  assert_cmp_double_near (stats_get_double (h, "jitter-ms"),
      2 * (1 - pow (15.0 / 16, 39)));
  gst_harness_teardown (h);
}

GST_END_TEST;

/* a buffer list shares the time the element's clock says when it comes;
 * the caps' clock-rate counts (48 kHz: 3000 ticks are 62.5 ms) */
GST_START_TEST (test_rtp_jitter_from_clock)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL,
      "application/x-rtp, media=(string)audio, clock-rate=(int)48000, "
      "encoding-name=(string)L16, payload=(int)96");

  for (guint16 seq = 0; seq < 60; seq += 2) {
    GstBufferList *list = gst_buffer_list_new ();

    /* two packets stamped 62.5 ms apart arrive together (|D| = 62.5 ms on
     * the second), the next pair 125 ms later (|D| = 125 - 62.5 ms) */
    gst_buffer_list_add (list, rtp_buffer_new (seq));
    gst_buffer_list_add (list, rtp_buffer_new (seq + 1));
    gst_harness_set_time (h, rtp_time (seq, 48000) + GST_SECOND);
    fail_unless_equals_int (gst_pad_push_list (h->srcpad, list), GST_FLOW_OK);
  }
  fail_unless_equals_uint64 (stats_uint64 (h, "jitter-samples"), 59);
  /* every |D| is 62.5 ms, in 48 kHz ticks: 3000 */
  assert_cmp_double_near (stats_get_double (h, "jitter-ms"),
      62.5 * (1 - pow (15.0 / 16, 59)));
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_jitter_zero_for_mpegts)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL,
      MPEGTS_CAPS);

  for (guint i = 0; i < 10; i++) {
    GstBuffer *b = ts_datagram_new (0x100, i * TS_DATAGRAM_PACKETS,
        TS_DATAGRAM_PACKETS);

    GST_BUFFER_DTS (b) = i * 7 * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  }
  fail_unless_equals_uint64 (stats_uint64 (h, "jitter-samples"), 0);
  fail_unless (stats_get_double (h, "jitter-ms") == 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_rtp_wraparound)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL, RTP_CAPS);

  push_rtp (h, 65534);
  push_rtp (h, 65535);
  push_rtp (h, 0);
  push_rtp (h, 1);
  assert_stats (h, &(ExpectedStats) {.packets = 4,
        .bytes = 4 * RTP_PACKET_SIZE});

  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_mpegts_stats)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL, MPEGTS_CAPS);
  GstBuffer *bad_sync;
  GstMapInfo map;

  /* ccs 0..6, then 7..13 */
  gst_harness_push (h, ts_datagram_new (0x100, 0, TS_DATAGRAM_PACKETS));
  gst_harness_push (h, ts_datagram_new (0x100, 7, TS_DATAGRAM_PACKETS));
  assert_stats (h, &(ExpectedStats) {.packets = 2,
        .bytes = 2 * TS_DATAGRAM_SIZE, .ts_packets = 2 * TS_DATAGRAM_PACKETS});

  /* ccs 14 and 15 skipped: the next datagram starts at 0 */
  gst_harness_push (h, ts_datagram_new (0x100, 16, TS_DATAGRAM_PACKETS));
  /* another PID has its own counter */
  gst_harness_push (h, ts_datagram_new (0x200, 3, TS_DATAGRAM_PACKETS));
  assert_stats (h, &(ExpectedStats) {.packets = 4,
        .bytes = 4 * TS_DATAGRAM_SIZE, .lost = 2,
        .ts_packets = 4 * TS_DATAGRAM_PACKETS});

  /* a datagram that does not start on a sync byte is not parsed */
  bad_sync = ts_datagram_new (0x100, 7, TS_DATAGRAM_PACKETS);
  fail_unless (gst_buffer_map (bad_sync, &map, GST_MAP_WRITE));
  map.data[0] = 0x00;
  gst_buffer_unmap (bad_sync, &map);
  gst_harness_push (h, bad_sync);
  /* one not a whole number of packets long */
  gst_harness_push (h, gst_buffer_new_wrapped (g_malloc0 (100), 100));
  assert_stats (h, &(ExpectedStats) {.packets = 6,
        .bytes = 5 * TS_DATAGRAM_SIZE + 100, .lost = 2,
        .ts_packets = 4 * TS_DATAGRAM_PACKETS, .sync_errors = 2});

  fail_unless_equals_int (gst_harness_buffers_received (h), 6);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_other_caps_only_counted)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL,
      "application/octet-stream");

  /* looks like RTP with a gap, but the caps do not say so */
  push_rtp (h, 1);
  push_rtp (h, 5);
  assert_stats (h, &(ExpectedStats) {.packets = 2,
        .bytes = 2 * RTP_PACKET_SIZE});

  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_buffers_pass_unchanged)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL, RTP_CAPS);
  GstBuffer *pushed[8];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (pushed); i++) {
    /* a gap in the middle must not make the element touch the data */
    guint16 seq = i < 4 ? i : i + 10;

    pushed[i] = rtp_buffer_new (seq);
    GST_BUFFER_PTS (pushed[i]) = i * 10 * GST_MSECOND;
    GST_BUFFER_FLAG_SET (pushed[i], GST_BUFFER_FLAG_MARKER);
    /* still alive in the harness queue when compared below */
    fail_unless_equals_int (gst_harness_push (h, pushed[i]), GST_FLOW_OK);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h),
      G_N_ELEMENTS (pushed));

  for (i = 0; i < G_N_ELEMENTS (pushed); i++) {
    guint16 seq = i < 4 ? i : i + 10;
    guint8 expected[RTP_PACKET_SIZE];
    GstBuffer *out = gst_harness_pull (h);

    rtp_packet_fill (expected, seq);
    fail_unless (out == pushed[i], "buffer %u was replaced", i);
    fail_unless_equals_int (gst_buffer_get_size (out), RTP_PACKET_SIZE);
    fail_unless_equals_int (gst_buffer_memcmp (out, 0, expected,
            RTP_PACKET_SIZE), 0);
    fail_unless_equals_clocktime (GST_BUFFER_PTS (out), i * 10 * GST_MSECOND);
    fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_MARKER));
    gst_buffer_unref (out);
  }
  fail_unless (gst_harness_try_pull (h) == NULL);

  gst_harness_teardown (h);
}

GST_END_TEST;

typedef struct
{
  guint lists;
  guint buffers;
  GstBufferList *last_list;
} ProbeCounts;

static GstPadProbeReturn
count_data_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  ProbeCounts *counts = user_data;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    counts->lists++;
    counts->last_list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
  } else {
    counts->buffers++;
  }
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_buffer_list)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, bus, RTP_CAPS);
  guint16 seqs[] = { 10, 11, 13, 14 };  /* 12 lost */
  ProbeCounts counts = { 0, };
  GstBufferList *list;
  GstPad *element_src;
  guint i;

  element_src = gst_element_get_static_pad (h->element, "src");
  gst_pad_add_probe (element_src,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
      count_data_probe, &counts, NULL);

  list = gst_buffer_list_new ();
  for (i = 0; i < G_N_ELEMENTS (seqs); i++)
    gst_buffer_list_add (list, rtp_buffer_new (seqs[i]));

  /* GstHarness has no list push in 1.22 */
  fail_unless_equals_int (gst_pad_push_list (h->srcpad, list), GST_FLOW_OK);

  /* it went out as the same list, not as single buffers */
  fail_unless_equals_int (counts.lists, 1);
  fail_unless_equals_int (counts.buffers, 0);
  fail_unless (counts.last_list == list);

  /* but was counted per buffer */
  assert_stats (h, &(ExpectedStats) {.packets = 4, .bytes = 4 * RTP_PACKET_SIZE,
        .lost = 1});
  /* one start of activity for the whole list */
  assert_activity_message (bus, h, TRUE, 0, 4);
  assert_no_activity_message (bus);

  /* the list is split into buffers by the harness' sink pad, in order */
  fail_unless_equals_int (gst_harness_buffers_in_queue (h),
      G_N_ELEMENTS (seqs));
  for (i = 0; i < G_N_ELEMENTS (seqs); i++) {
    GstBuffer *out = gst_harness_pull (h);

    fail_unless_equals_int (rtp_buffer_get_seq (out), seqs[i]);
    gst_buffer_unref (out);
  }

  /* single buffers after a list carry on the same sequence */
  push_rtp (h, 15);
  assert_stats (h, &(ExpectedStats) {.packets = 5, .bytes = 5 * RTP_PACKET_SIZE,
        .lost = 1});
  fail_unless_equals_int (counts.buffers, 1);

  gst_object_unref (element_src);
  packetstats_harness_teardown (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_activity_messages)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, bus, RTP_CAPS);
  GstTestClock *testclock = gst_harness_get_testclock (h);
  guint i;

  /* the silence check is a periodic clock id, registered in PLAYING */
  fail_unless_equals_int (gst_test_clock_peek_id_count (testclock), 1);
  fail_if (element_is_active (h));
  assert_no_activity_message (bus);

  /* the first buffer starts activity */
  push_rtp (h, 0);
  assert_activity_message (bus, h, TRUE, 0, 1);
  fail_unless (element_is_active (h));
  push_rtp (h, 1);
  assert_no_activity_message (bus);

  /* less than idle-timeout of silence is nothing */
  for (i = 1; i < 4; i++) {
    fail_unless (gst_harness_crank_single_clock_wait (h));
    fail_unless_equals_clocktime (gst_clock_get_time (GST_CLOCK (testclock)),
        i * IDLE_CHECK_INTERVAL);
    assert_no_activity_message (bus);
    fail_unless (element_is_active (h));
  }

  /* idle-timeout after the last buffer, data counts as stopped */
  fail_unless (gst_harness_crank_single_clock_wait (h));
  fail_unless_equals_clocktime (gst_clock_get_time (GST_CLOCK (testclock)),
      IDLE_TIMEOUT_MS * GST_MSECOND);
  assert_activity_message (bus, h, FALSE, IDLE_TIMEOUT_MS * GST_MSECOND, 2);
  fail_if (element_is_active (h));

  /* and is reported once */
  fail_unless (gst_harness_crank_single_clock_wait (h));
  assert_no_activity_message (bus);

  /* new data restarts it */
  gst_harness_set_time (h, 1600 * GST_MSECOND);
  push_rtp (h, 2);
  assert_activity_message (bus, h, TRUE, 1600 * GST_MSECOND, 3);
  fail_unless (element_is_active (h));
  assert_stats (h, &(ExpectedStats) {.packets = 3,
        .bytes = 3 * RTP_PACKET_SIZE});

  /* jumping the clock far ahead: the next check sees the silence */
  gst_test_clock_set_time (testclock, 5 * GST_SECOND);
  assert_no_activity_message (bus);
  fail_unless (gst_harness_crank_single_clock_wait (h));
  assert_activity_message (bus, h, FALSE, 5 * GST_SECOND, 3);
  fail_if (element_is_active (h));

  gst_object_unref (testclock);
  packetstats_harness_teardown (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_activity_measured_from_last_buffer)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, bus, RTP_CAPS);

  push_rtp (h, 0);
  assert_activity_message (bus, h, TRUE, 0, 1);

  /* a buffer shortly before the timeout keeps the stream active */
  gst_harness_set_time (h, 900 * GST_MSECOND);
  push_rtp (h, 1);
  while (gst_clock_get_time (GST_ELEMENT_CLOCK (h->element)) <
      1750 * GST_MSECOND) {
    fail_unless (gst_harness_crank_single_clock_wait (h));
    assert_no_activity_message (bus);
  }

  /* the first check at least idle-timeout after it: 1900 ms rounded up */
  fail_unless (gst_harness_crank_single_clock_wait (h));
  assert_activity_message (bus, h, FALSE, 2000 * GST_MSECOND, 2);

  packetstats_harness_teardown (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_idle_timeout_zero)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = packetstats_harness_new (0, bus, RTP_CAPS);
  GstTestClock *testclock = gst_harness_get_testclock (h);

  /* no silence detection, so no clock id */
  fail_unless_equals_int (gst_test_clock_peek_id_count (testclock), 0);

  push_rtp (h, 0);
  assert_activity_message (bus, h, TRUE, 0, 1);
  gst_harness_set_time (h, 3600 * GST_SECOND);
  push_rtp (h, 1);
  assert_no_activity_message (bus);
  fail_unless (element_is_active (h));

  gst_object_unref (testclock);
  packetstats_harness_teardown (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_stats_reset_on_restart)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, bus, RTP_CAPS);
  GstTestClock *testclock = gst_harness_get_testclock (h);

  push_rtp (h, 1);
  assert_activity_message (bus, h, TRUE, 0, 1);
  push_rtp (h, 3);

  /* stopped, the last counters can still be read */
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_test_clock_peek_id_count (testclock), 0);
  assert_stats (h, &(ExpectedStats) {.packets = 2, .bytes = 2 * RTP_PACKET_SIZE,
        .lost = 1});

  /* restarted, they begin from zero */
  gst_harness_play (h);
  fail_unless_equals_int (gst_test_clock_peek_id_count (testclock), 1);
  assert_stats (h, &(ExpectedStats) {0});
  fail_if (element_is_active (h));

  gst_object_unref (testclock);
  packetstats_harness_teardown (h, bus);
}

GST_END_TEST;

static void
read_stats (gpointer thread, gpointer user_data)
{
  GstHarness *h = user_data;
  GstStructure *stats = NULL;

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  gst_structure_free (stats);
}

GST_START_TEST (test_stress_statechange)
{
  GstHarness *h = packetstats_harness_new (IDLE_TIMEOUT_MS, NULL, RTP_CAPS);
  GstCaps *caps = gst_caps_from_string (RTP_CAPS);
  GstBuffer *buf = rtp_buffer_new (7);
  GstHarnessThread *state, *push, *stats;
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);

  /* Going to NULL drops the sticky events of the element's sink pad; a push
   * that already passed its sticky-event check then reaches the pad once it
   * is active again.  That is a race between the harness threads in core,
   * not in the element, so only this warning is let through. */
  gst_check_add_log_filter ("GStreamer", G_LOG_LEVEL_WARNING,
      g_regex_new ("Got data flow before (stream-start|segment) event", 0, 0,
          NULL), NULL, NULL, NULL);

  state = gst_harness_stress_statechange_start (h);
  push = gst_harness_stress_push_buffer_start (h, caps, &segment, buf);
  stats = gst_harness_stress_custom_start (h, NULL, read_stats, h, 100);

  g_usleep (G_USEC_PER_SEC / 4);

  fail_unless (gst_harness_stress_thread_stop (state) > 0);
  fail_unless (gst_harness_stress_thread_stop (push) > 0);
  fail_unless (gst_harness_stress_thread_stop (stats) > 0);

  gst_buffer_unref (buf);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
  gst_check_clear_log_filter ();
}

GST_END_TEST;

static Suite *
packetstats_suite (void)
{
  Suite *s = suite_create ("packetstats");
  TCase *tc_chain = tcase_create ("general");

  suite_add_tcase (s, tc_chain);
  tcase_add_test (tc_chain, test_properties);
  tcase_add_test (tc_chain, test_rtp_stats);
  tcase_add_test (tc_chain, test_rtp_wraparound);
  tcase_add_test (tc_chain, test_rtp_jitter_from_timestamps);
  tcase_add_test (tc_chain, test_rtp_jitter_from_clock);
  tcase_add_test (tc_chain, test_jitter_zero_for_mpegts);
  tcase_add_test (tc_chain, test_mpegts_stats);
  tcase_add_test (tc_chain, test_other_caps_only_counted);
  tcase_add_test (tc_chain, test_buffers_pass_unchanged);
  tcase_add_test (tc_chain, test_buffer_list);
  tcase_add_test (tc_chain, test_activity_messages);
  tcase_add_test (tc_chain, test_activity_measured_from_last_buffer);
  tcase_add_test (tc_chain, test_idle_timeout_zero);
  tcase_add_test (tc_chain, test_stats_reset_on_restart);
  tcase_add_test (tc_chain, test_stress_statechange);

  return s;
}

GST_CHECK_MAIN (packetstats);
