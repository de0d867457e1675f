/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* failoverselector with MPEG-TS: failing over goes at once, switching back
 * waits for a random-access point of the better input and cuts the buffer
 * there, so that the first packet downstream sees after it is the RAP. */

#include "failoverselector-fixture.h"

#define TS_CAPS "video/mpegts, systemstream=(boolean)true, packetsize=(int)188"
#define TS_PACKET_SIZE 188
#define TS_DATAGRAM_PACKETS 7
#define TS_VIDEO_PID 0x100

/* where a packet says it comes from */
#define MARK_INPUT 185
#define MARK_SEQ 186
#define MARK_INDEX 187

/* Helpers: TS packets made by hand */

/* A video packet; the RAP one has the random-access indicator in its
 * adaptation field and starts a PES with an H.264 IDR access unit */
static void
ts_packet_fill (guint8 * pkt, guint cc, gboolean rap)
{
  static const guint8 idr_pes[] = {
    0x00, 0x00, 0x01, 0xe0, 0x00, 0x00,        /* PES, video stream 0 */
    0x80, 0x80, 0x05, 0x21, 0x00, 0x01, 0x00, 0x01,     /* with a PTS */
    0x00, 0x00, 0x00, 0x01, 0x09, 0xf0, /* access unit delimiter */
    0x00, 0x00, 0x00, 0x01, 0x65, 0x88, 0x84, 0x00     /* IDR slice */
  };

  memset (pkt, 0xff, TS_PACKET_SIZE);
  pkt[0] = 0x47;
  pkt[1] = (rap ? 0x40 : 0x00) | (TS_VIDEO_PID >> 8);
  pkt[2] = TS_VIDEO_PID & 0xff;
  pkt[3] = 0x10 | (cc & 0x0f);
  if (rap) {
    pkt[3] |= 0x20;             /* adaptation field and payload */
    pkt[4] = 1;                 /* adaptation_field_length */
    pkt[5] = 0x40;              /* random_access_indicator */
    memcpy (pkt + 6, idr_pes, sizeof (idr_pes));
  }
}

/* A datagram of 7 packets from @input; packet @rap_packet (-1: none) is a
 * random-access point */
static GstBuffer *
ts_buffer_new (guint input, guint seq, gint rap_packet)
{
  gsize size = TS_DATAGRAM_PACKETS * TS_PACKET_SIZE;
  guint8 *data = g_malloc (size);
  guint i;

  for (i = 0; i < TS_DATAGRAM_PACKETS; i++) {
    guint8 *pkt = data + i * TS_PACKET_SIZE;

    ts_packet_fill (pkt, seq * TS_DATAGRAM_PACKETS + i, (gint) i == rap_packet);
    pkt[MARK_INPUT] = 0xa0 + input;
    pkt[MARK_SEQ] = seq;
    pkt[MARK_INDEX] = i;
  }
  return gst_buffer_new_wrapped (data, size);
}

static void
push_ts_at (Fixture * f, guint64 ms, guint input, guint seq, gint rap_packet)
{
  gst_harness_set_time (f->h, ms * MS);
  fail_unless_equals_int (gst_harness_push (f->in[input],
          ts_buffer_new (input, seq, rap_packet)), GST_FLOW_OK);
}

/* The next output holds the packets from @first_packet on of datagram @seq
 * of @input */
static void
assert_ts_output (Fixture * f, guint input, guint seq, guint first_packet,
    gboolean discont)
{
  GstBuffer *buf = gst_harness_try_pull (f->h);
  guint n_packets = TS_DATAGRAM_PACKETS - first_packet;
  GstMapInfo map;
  guint i;

  fail_unless (buf != NULL, "no output, expected %u/%u", input, seq);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, n_packets * TS_PACKET_SIZE);
  for (i = 0; i < n_packets; i++) {
    const guint8 *pkt = map.data + i * TS_PACKET_SIZE;

    fail_unless_equals_int (pkt[0], 0x47);
    fail_unless_equals_int (pkt[MARK_INPUT], 0xa0 + input);
    fail_unless_equals_int (pkt[MARK_SEQ], seq);
    fail_unless_equals_int (pkt[MARK_INDEX], first_packet + i);
  }
  gst_buffer_unmap (buf, &map);
  fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (buf,
          GST_BUFFER_FLAG_DISCONT), discont);
  gst_buffer_unref (buf);
}

/* The primary stops after 0, the backup goes out from 500 ms on.  Neither
 * the first choice nor the failover waits for a random-access point. */
static Fixture *
fixture_ts_failed_over (void)
{
  Fixture *f = fixture_new (2, TS_CAPS);
  guint seq;

  push_ts_at (f, 0, PRIMARY, 0, -1);
  push_ts_at (f, 0, BACKUP, 0, -1);
  assert_ts_output (f, PRIMARY, 0, 0, FALSE);
  assert_no_output (f);

  for (seq = 1; seq <= 4; seq++)
    push_ts_at (f, seq * 100, BACKUP, seq, -1);
  check_at (f, TIMEOUT_MS);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");
  push_ts_at (f, 510, BACKUP, 5, -1);
  assert_ts_output (f, BACKUP, 5, 0, TRUE);
  assert_no_output (f);
  assert_active (f, BACKUP);
  drain_events (f);
  return f;
}

/* Both inputs deliver every 100 ms in [@from, @to), the primary without a
 * random-access point; the backup stays on the output */
static void
both_deliver (Fixture * f, guint from, guint to)
{
  guint t;

  for (t = from; t < to; t += 100) {
    guint seq = (t / 100) & 0xff;

    push_ts_at (f, t, BACKUP, seq, -1);
    push_ts_at (f, t, PRIMARY, seq, -1);
    check_at (f, t);
    assert_ts_output (f, BACKUP, seq, 0, FALSE);
    assert_no_output (f);
    assert_no_message (f);
  }
}

/* Tests */

GST_START_TEST (test_return_at_random_access_point)
{
  Fixture *f = fixture_ts_failed_over ();

  /* back at 1000, healthy for recovery-time at 3000: without a RAP the
   * backup stays */
  both_deliver (f, 1000, 3500);

  /* a RAP in the fourth packet: the cut is there */
  push_ts_at (f, 3500, PRIMARY, 35, 3);
  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_sticky_events_of (f, PRIMARY);
  assert_ts_output (f, PRIMARY, 35, 3, TRUE);
  assert_no_output (f);
  assert_active (f, PRIMARY);

  /* the backup is dropped from then on, the primary goes out whole */
  push_ts_at (f, 3500, BACKUP, 35, -1);
  assert_no_output (f);
  push_ts_at (f, 3600, PRIMARY, 36, -1);
  assert_ts_output (f, PRIMARY, 36, 0, FALSE);
  fail_unless_equals_uint64 (get_switches (f), 2);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_rap_before_recovery_time_ignored)
{
  Fixture *f = fixture_ts_failed_over ();

  /* key frames of the returning primary before its hold time is up */
  push_ts_at (f, 1000, BACKUP, 10, -1);
  push_ts_at (f, 1000, PRIMARY, 10, 0);
  assert_ts_output (f, BACKUP, 10, 0, FALSE);
  both_deliver (f, 1100, 2900);
  push_ts_at (f, 2900, BACKUP, 29, -1);
  push_ts_at (f, 2900, PRIMARY, 29, 2);
  assert_ts_output (f, BACKUP, 29, 0, FALSE);
  assert_no_message (f);

  /* the first one after it, at the first packet: the whole buffer */
  push_ts_at (f, 3000, BACKUP, 30, -1);
  assert_ts_output (f, BACKUP, 30, 0, FALSE);
  push_ts_at (f, 3000, PRIMARY, 30, 0);
  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_ts_output (f, PRIMARY, 30, 0, TRUE);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_return_in_buffer_list)
{
  Fixture *f = fixture_ts_failed_over ();
  GstBufferList *list;

  both_deliver (f, 1000, 3100);

  /* one list of three datagrams, the RAP in the second */
  gst_harness_set_time (f->h, 3100 * MS);
  list = gst_buffer_list_new ();
  gst_buffer_list_add (list, ts_buffer_new (PRIMARY, 31, -1));
  gst_buffer_list_add (list, ts_buffer_new (PRIMARY, 32, 5));
  gst_buffer_list_add (list, ts_buffer_new (PRIMARY, 33, -1));
  /* GstHarness has no list push in 1.22 */
  fail_unless_equals_int (gst_pad_push_list (f->in[PRIMARY]->srcpad, list),
      GST_FLOW_OK);

  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_ts_output (f, PRIMARY, 32, 5, TRUE);
  assert_ts_output (f, PRIMARY, 33, 0, FALSE);
  assert_no_output (f);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_list_while_active)
{
  Fixture *f = fixture_new (2, TS_CAPS);
  GstBufferList *list = gst_buffer_list_new ();
  guint i;

  for (i = 0; i < 3; i++)
    gst_buffer_list_add (list, ts_buffer_new (PRIMARY, i, i == 1 ? 2 : -1));
  /* the first choice: the list goes out whole, RAP or not */
  fail_unless_equals_int (gst_pad_push_list (f->in[PRIMARY]->srcpad, list),
      GST_FLOW_OK);
  for (i = 0; i < 3; i++)
    assert_ts_output (f, PRIMARY, i, 0, FALSE);
  assert_no_output (f);

  /* a list of the other input is dropped */
  list = gst_buffer_list_new ();
  gst_buffer_list_add (list, ts_buffer_new (BACKUP, 0, 0));
  fail_unless_equals_int (gst_pad_push_list (f->in[BACKUP]->srcpad, list),
      GST_FLOW_OK);
  assert_no_output (f);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_no_rap_gives_up_waiting)
{
  Fixture *f = fixture_ts_failed_over ();

  /* the switch back was decided at 3000; with no RAP for 10 s it is made
   * at a datagram boundary */
  both_deliver (f, 1000, 13000);
  push_ts_at (f, 13000, BACKUP, 130 & 0xff, -1);
  assert_ts_output (f, BACKUP, 130 & 0xff, 0, FALSE);
  push_ts_at (f, 13000, PRIMARY, 130 & 0xff, -1);
  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_ts_output (f, PRIMARY, 130 & 0xff, 0, TRUE);

  fixture_free (f);
}

GST_END_TEST;

GST_START_TEST (test_other_caps_return_at_next_buffer)
{
  Fixture *f = fixture_new (2, "application/x-rtp");

  /* the same packets, but not said to be MPEG-TS: no waiting */
  push_ts_at (f, 0, PRIMARY, 0, -1);
  assert_ts_output (f, PRIMARY, 0, 0, FALSE);
  push_ts_at (f, 100, BACKUP, 1, -1);
  push_ts_at (f, 500, BACKUP, 5, -1);
  assert_switch_message (f, "sink_0", "sink_1", "timeout");
  assert_ts_output (f, BACKUP, 5, 0, TRUE);

  both_deliver (f, 600, 600 + RECOVERY_MS);
  push_ts_at (f, 600 + RECOVERY_MS, PRIMARY, 26, -1);
  assert_switch_message (f, "sink_1", "sink_0", "recovered");
  assert_ts_output (f, PRIMARY, 26, 0, TRUE);

  fixture_free (f);
}

GST_END_TEST;

static Suite *
failoverselector_mpegts_suite (void)
{
  Suite *s = suite_create ("failoverselector-mpegts");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_return_at_random_access_point);
  tcase_add_test (tc, test_rap_before_recovery_time_ignored);
  tcase_add_test (tc, test_return_in_buffer_list);
  tcase_add_test (tc, test_list_while_active);
  tcase_add_test (tc, test_no_rap_gives_up_waiting);
  tcase_add_test (tc, test_other_caps_return_at_next_buffer);

  return s;
}

GST_CHECK_MAIN (failoverselector_mpegts);
