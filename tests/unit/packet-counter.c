/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the sequence checking in packet-counter.c, without
 * GStreamer: RTP sequence numbers and MPEG-TS continuity counters. */

#include "packet-counter.h"

#include <math.h>
#include <string.h>

#define RTP_HEADER_SIZE 12
#define RTP_PAYLOAD_SIZE 20
#define RTP_PACKET_SIZE (RTP_HEADER_SIZE + RTP_PAYLOAD_SIZE)

#define TS_NULL_PID 0x1fff
#define TS_AFC_PAYLOAD 0x1
#define TS_AFC_ADAPTATION 0x2
#define TS_AFC_BOTH 0x3
#define TS_DATAGRAM_PACKETS 7   /* what fits in an Ethernet MTU */

/* The counter holds an 8 KiB continuity table, so keep it off the stack */
static MrPacketCounter *
counter_new (MrPacketKind kind)
{
  MrPacketCounter *counter = g_new (MrPacketCounter, 1);

  mr_packet_counter_init (counter, kind);
  return counter;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrPacketCounter, g_free);

/* RTP helpers */

static void
rtp_packet_fill (guint8 * pkt, guint8 version, guint16 seq)
{
  memset (pkt, 0xab, RTP_PACKET_SIZE);
  pkt[0] = version << 6;
  pkt[1] = 96;                  /* dynamic payload type, no marker */
  pkt[2] = seq >> 8;
  pkt[3] = seq & 0xff;
  memset (pkt + 4, 0, 4);       /* timestamp */
  pkt[8] = 0x12;                /* ssrc */
  pkt[9] = 0x34;
  pkt[10] = 0x56;
  pkt[11] = 0x78;
}

static void
push_rtp (MrPacketCounter * counter, guint16 seq)
{
  guint8 pkt[RTP_PACKET_SIZE];

  rtp_packet_fill (pkt, 2, seq);
  mr_packet_counter_push (counter, pkt, sizeof (pkt));
}

static void
push_rtp_seqs (MrPacketCounter * counter, const guint16 * seqs, gsize n_seqs)
{
  gsize i;

  for (i = 0; i < n_seqs; i++)
    push_rtp (counter, seqs[i]);
}

/* MPEG-TS helpers */

typedef struct
{
  guint pid;
  guint afc;
  guint cc;
  gboolean discontinuity;
} TsHeader;

static void
ts_packet_fill (guint8 * pkt, const TsHeader * hdr)
{
  memset (pkt, 0xff, MR_TS_PACKET_SIZE);
  pkt[0] = 0x47;
  pkt[1] = (hdr->pid >> 8) & 0x1f;
  pkt[2] = hdr->pid & 0xff;
  pkt[3] = (hdr->afc << 4) | (hdr->cc & 0x0f);

  if (hdr->afc & TS_AFC_ADAPTATION) {
    /* adaptation-only packets fill the whole packet with the field */
    pkt[4] = hdr->afc == TS_AFC_ADAPTATION ? MR_TS_PACKET_SIZE - 5 : 1;
    pkt[5] = hdr->discontinuity ? 0x80 : 0x00;
  }
}

static void
push_ts (MrPacketCounter * counter, guint pid, guint afc, guint cc)
{
  guint8 pkt[MR_TS_PACKET_SIZE];
  TsHeader hdr = { pid, afc, cc, FALSE };

  ts_packet_fill (pkt, &hdr);
  mr_packet_counter_push (counter, pkt, sizeof (pkt));
}

static void
push_ts_ccs (MrPacketCounter * counter, guint pid, const guint * ccs,
    gsize n_ccs)
{
  gsize i;

  for (i = 0; i < n_ccs; i++)
    push_ts (counter, pid, TS_AFC_PAYLOAD, ccs[i]);
}

/* Fills a datagram of @n_packets TS packets on @pid with ccs from @first_cc */
static guint8 *
ts_datagram_new (guint pid, guint first_cc, guint n_packets, gsize * size)
{
  guint8 *data;
  guint i;

  *size = n_packets * MR_TS_PACKET_SIZE;
  data = g_malloc (*size);
  for (i = 0; i < n_packets; i++) {
    TsHeader hdr = { pid, TS_AFC_PAYLOAD, (first_cc + i) & 0x0f, FALSE };

    ts_packet_fill (data + i * MR_TS_PACKET_SIZE, &hdr);
  }
  return data;
}

/* Tests: common counting */

static void
test_init_and_reset (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seqs[] = { 10, 20 };

  g_assert_cmpint (c->kind, ==, MR_PACKET_KIND_RTP);
  g_assert_cmpuint (c->packets, ==, 0);
  g_assert_cmpuint (c->bytes, ==, 0);
  g_assert_false (c->have_seq);
  g_assert_cmpuint (c->cc[0], ==, 0xff);
  g_assert_cmpuint (c->cc[MR_TS_PID_COUNT - 1], ==, 0xff);

  push_rtp_seqs (c, seqs, G_N_ELEMENTS (seqs));
  g_assert_cmpuint (c->lost, ==, 9);

  mr_packet_counter_reset (c);
  g_assert_cmpint (c->kind, ==, MR_PACKET_KIND_RTP);
  g_assert_cmpuint (c->packets, ==, 0);
  g_assert_cmpuint (c->bytes, ==, 0);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_false (c->have_seq);

  /* after a reset the next packet starts a new sequence */
  push_rtp (c, 500);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->resyncs, ==, 0);
}

static void
test_bytes_and_packets (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_OTHER);
  guint8 data[1500] = { 0, };

  mr_packet_counter_push (c, data, 100);
  mr_packet_counter_push (c, data, 1500);
  mr_packet_counter_push (c, data, 1);
  mr_packet_counter_push (c, data, 0);

  g_assert_cmpuint (c->packets, ==, 4);
  g_assert_cmpuint (c->bytes, ==, 1601);
  /* nothing is parsed for other kinds of data */
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->ts_packets, ==, 0);
  g_assert_cmpuint (c->sync_errors, ==, 0);
  g_assert_false (c->have_seq);
}

/* Tests: RTP */

static void
test_rtp_consecutive (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seq;

  for (seq = 1000; seq < 1100; seq++)
    push_rtp (c, seq);

  g_assert_cmpuint (c->packets, ==, 100);
  g_assert_cmpuint (c->bytes, ==, 100 * RTP_PACKET_SIZE);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 0);
  g_assert_cmpuint (c->resyncs, ==, 0);
  g_assert_cmpuint (c->ts_packets, ==, 0);
}

static void
test_rtp_gap (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seqs[] = { 1, 2, 6, 7 };   /* 3, 4 and 5 missing */

  push_rtp_seqs (c, seqs, G_N_ELEMENTS (seqs));

  g_assert_cmpuint (c->packets, ==, 4);
  g_assert_cmpuint (c->lost, ==, 3);
  g_assert_cmpuint (c->reordered, ==, 0);
  g_assert_cmpuint (c->resyncs, ==, 0);
}

static void
test_rtp_wraparound (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seqs[] = { 65534, 65535, 0, 1 };

  push_rtp_seqs (c, seqs, G_N_ELEMENTS (seqs));

  g_assert_cmpuint (c->packets, ==, 4);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 0);
  g_assert_cmpuint (c->resyncs, ==, 0);
}

static void
test_rtp_gap_across_wraparound (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seqs[] = { 65533, 65534, 1, 2 };   /* 65535 and 0 missing */

  push_rtp_seqs (c, seqs, G_N_ELEMENTS (seqs));

  g_assert_cmpuint (c->lost, ==, 2);
  g_assert_cmpuint (c->resyncs, ==, 0);
}

static void
test_rtp_reorder (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seqs[] = { 1, 3, 2 };

  push_rtp (c, seqs[0]);
  push_rtp (c, seqs[1]);
  /* until 2 shows up it counts as lost */
  g_assert_cmpuint (c->lost, ==, 1);
  push_rtp (c, seqs[2]);

  g_assert_cmpuint (c->packets, ==, 3);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 1);
  g_assert_cmpuint (c->resyncs, ==, 0);

  /* the stream goes on from 3, not from the late 2 */
  push_rtp (c, 4);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 1);
}

static void
test_rtp_reorder_across_wraparound (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seqs[] = { 65534, 0, 65535, 1 };

  push_rtp_seqs (c, seqs, G_N_ELEMENTS (seqs));

  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 1);
  g_assert_cmpuint (c->resyncs, ==, 0);
}

static void
test_rtp_duplicate_of_newest (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 lossless[] = { 1, 2, 2, 3 };
  guint16 lossy[] = { 1, 3, 3, 3 };     /* 2 really lost */

  push_rtp_seqs (c, lossless, G_N_ELEMENTS (lossless));
  g_assert_cmpuint (c->lost, ==, 0);

  /* a copy of the newest packet does not make up for a missing one */
  mr_packet_counter_reset (c);
  push_rtp_seqs (c, lossy, G_N_ELEMENTS (lossy));
  g_assert_cmpuint (c->lost, ==, 1);
  g_assert_cmpuint (c->resyncs, ==, 0);

  push_rtp (c, 4);
  g_assert_cmpuint (c->lost, ==, 1);
}

static void
test_rtp_huge_jump_resyncs (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 restart = 101 + MR_RTP_MAX_GAP + 500;
  guint16 seqs[] = { 100, 101, restart, restart + 1 };

  push_rtp_seqs (c, seqs, G_N_ELEMENTS (seqs));

  g_assert_cmpuint (c->packets, ==, 4);
  g_assert_cmpuint (c->resyncs, ==, 1);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 0);
}

static void
test_rtp_huge_jump_backwards_resyncs (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint16 seqs[] = { 30000, 30001, 100, 101 };

  push_rtp_seqs (c, seqs, G_N_ELEMENTS (seqs));

  g_assert_cmpuint (c->resyncs, ==, 1);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 0);
}

static void
test_rtp_max_gap_boundary (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);

  /* a jump of exactly MR_RTP_MAX_GAP is still loss ... */
  push_rtp (c, 1000);
  push_rtp (c, 1000 + MR_RTP_MAX_GAP);
  g_assert_cmpuint (c->lost, ==, MR_RTP_MAX_GAP - 1);
  g_assert_cmpuint (c->resyncs, ==, 0);

  /* ... one more is a new sender */
  mr_packet_counter_reset (c);
  push_rtp (c, 1000);
  push_rtp (c, 1000 + MR_RTP_MAX_GAP + 1);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->resyncs, ==, 1);
}

static void
test_rtp_invalid_not_parsed (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint8 pkt[RTP_PACKET_SIZE];
  guint8 version;

  push_rtp (c, 10);

  /* too short for an RTP header, even if it starts like one */
  rtp_packet_fill (pkt, 2, 5000);
  mr_packet_counter_push (c, pkt, RTP_HEADER_SIZE - 1);
  mr_packet_counter_push (c, pkt, 0);

  /* RTP is version 2 only */
  for (version = 0; version < 4; version++) {
    if (version == 2)
      continue;
    rtp_packet_fill (pkt, version, 5000);
    mr_packet_counter_push (c, pkt, sizeof (pkt));
  }

  push_rtp (c, 11);

  g_assert_cmpuint (c->packets, ==, 7);
  g_assert_cmpuint (c->bytes, ==, 2 * RTP_PACKET_SIZE +
      (RTP_HEADER_SIZE - 1) + 3 * RTP_PACKET_SIZE);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 0);
  g_assert_cmpuint (c->resyncs, ==, 0);
  g_assert_cmpuint (c->next_seq, ==, 12);
}

static void
test_rtp_invalid_before_first (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint8 pkt[RTP_PACKET_SIZE];

  rtp_packet_fill (pkt, 1, 5000);
  mr_packet_counter_push (c, pkt, sizeof (pkt));
  g_assert_cmpuint (c->packets, ==, 1);
  g_assert_false (c->have_seq);

  push_rtp (c, 7);
  push_rtp (c, 8);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->resyncs, ==, 0);
}

/* Tests: MPEG-TS */

static void
test_ts_consecutive (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint i;

  for (i = 0; i < 40; i++)
    push_ts (c, 0x100, TS_AFC_PAYLOAD, i & 0x0f);

  g_assert_cmpuint (c->packets, ==, 40);
  g_assert_cmpuint (c->bytes, ==, 40 * MR_TS_PACKET_SIZE);
  g_assert_cmpuint (c->ts_packets, ==, 40);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->sync_errors, ==, 0);
  g_assert_cmpuint (c->reordered, ==, 0);
}

static void
test_ts_skipped_cc (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint ccs[] = { 0, 1, 4, 5 };  /* 2 and 3 missing */

  push_ts_ccs (c, 0x100, ccs, G_N_ELEMENTS (ccs));
  g_assert_cmpuint (c->lost, ==, 2);
  g_assert_cmpuint (c->ts_packets, ==, 4);
}

static void
test_ts_skipped_cc_across_wrap (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint ccs[] = { 13, 14, 2, 3 };        /* 15, 0 and 1 missing */

  push_ts_ccs (c, 0x100, ccs, G_N_ELEMENTS (ccs));
  g_assert_cmpuint (c->lost, ==, 3);
}

static void
test_ts_skipped_cc_modulo_16 (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint ccs[] = { 5, 4 };        /* 6..15 and 0..3 missing */

  push_ts_ccs (c, 0x100, ccs, G_N_ELEMENTS (ccs));
  g_assert_cmpuint (c->lost, ==, 14);
}

static void
test_ts_cc_wrap (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint ccs[] = { 13, 14, 15, 0, 1, 2 };

  push_ts_ccs (c, 0x100, ccs, G_N_ELEMENTS (ccs));
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->ts_packets, ==, 6);
}

static void
test_ts_duplicate (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint ccs[] = { 7, 8, 8, 9, 10 };

  push_ts_ccs (c, 0x100, ccs, G_N_ELEMENTS (ccs));
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->ts_packets, ==, 5);
}

static void
test_ts_adaptation_only_does_not_advance (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);

  /* a PCR-only packet repeats the cc of the packet before it */
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 3);
  push_ts (c, 0x100, TS_AFC_ADAPTATION, 3);
  push_ts (c, 0x100, TS_AFC_ADAPTATION, 3);
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 4);
  /* adaptation field with payload does advance */
  push_ts (c, 0x100, TS_AFC_BOTH, 5);
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 6);

  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->ts_packets, ==, 6);
}

static void
test_ts_adaptation_only_first (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);

  push_ts (c, 0x100, TS_AFC_ADAPTATION, 9);
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 10);
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 11);

  g_assert_cmpuint (c->lost, ==, 0);
}

static void
test_ts_discontinuity_resets (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint8 pkt[MR_TS_PACKET_SIZE];
  TsHeader restart = { 0x100, TS_AFC_BOTH, 9, TRUE };

  push_ts (c, 0x100, TS_AFC_PAYLOAD, 0);
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 1);
  ts_packet_fill (pkt, &restart);
  mr_packet_counter_push (c, pkt, sizeof (pkt));
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 10);
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 11);

  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->ts_packets, ==, 5);

  /* the same jump without the indicator is loss */
  restart.discontinuity = FALSE;
  restart.cc = 4;
  ts_packet_fill (pkt, &restart);
  mr_packet_counter_push (c, pkt, sizeof (pkt));
  g_assert_cmpuint (c->lost, ==, 8);
}

static void
test_ts_discontinuity_adaptation_only (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint8 pkt[MR_TS_PACKET_SIZE];
  TsHeader restart = { 0x100, TS_AFC_ADAPTATION, 12, TRUE };

  push_ts (c, 0x100, TS_AFC_PAYLOAD, 2);
  ts_packet_fill (pkt, &restart);
  mr_packet_counter_push (c, pkt, sizeof (pkt));
  push_ts (c, 0x100, TS_AFC_PAYLOAD, 13);

  g_assert_cmpuint (c->lost, ==, 0);
}

static void
test_ts_null_pid_ignored (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint ccs[] = { 0, 7, 3, 3, 12, 1 };

  push_ts_ccs (c, TS_NULL_PID, ccs, G_N_ELEMENTS (ccs));

  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->ts_packets, ==, 6);
  g_assert_cmpuint (c->cc[TS_NULL_PID], ==, 0xff);
}

static void
test_ts_datagram_of_seven (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  g_autofree guint8 *first = NULL, *second = NULL;
  gsize size;

  first = ts_datagram_new (0x100, 0, TS_DATAGRAM_PACKETS, &size);
  g_assert_cmpuint (size, ==, 1316);
  mr_packet_counter_push (c, first, size);

  g_assert_cmpuint (c->packets, ==, 1);
  g_assert_cmpuint (c->bytes, ==, 1316);
  g_assert_cmpuint (c->ts_packets, ==, TS_DATAGRAM_PACKETS);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->sync_errors, ==, 0);

  /* continuity carries over from one datagram to the next (7..13) */
  second = ts_datagram_new (0x100, TS_DATAGRAM_PACKETS, TS_DATAGRAM_PACKETS,
      &size);
  mr_packet_counter_push (c, second, size);
  g_assert_cmpuint (c->packets, ==, 2);
  g_assert_cmpuint (c->ts_packets, ==, 2 * TS_DATAGRAM_PACKETS);
  g_assert_cmpuint (c->lost, ==, 0);

  /* a whole datagram lost: the next one starts 7 ccs later */
  g_free (second);
  second = ts_datagram_new (0x100, 3 * TS_DATAGRAM_PACKETS,
      TS_DATAGRAM_PACKETS, &size);
  mr_packet_counter_push (c, second, size);
  g_assert_cmpuint (c->lost, ==, TS_DATAGRAM_PACKETS);
}

static void
test_ts_datagram_mixed_pids (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint8 datagram[TS_DATAGRAM_PACKETS * MR_TS_PACKET_SIZE];
  TsHeader hdrs[TS_DATAGRAM_PACKETS] = {
    {0x000, TS_AFC_PAYLOAD, 0, FALSE},  /* PAT */
    {0x100, TS_AFC_BOTH, 0, FALSE},     /* video with PCR */
    {0x100, TS_AFC_PAYLOAD, 1, FALSE},
    {0x101, TS_AFC_PAYLOAD, 5, FALSE},  /* audio */
    {TS_NULL_PID, TS_AFC_PAYLOAD, 0, FALSE},
    {0x100, TS_AFC_PAYLOAD, 2, FALSE},
    {0x101, TS_AFC_PAYLOAD, 6, FALSE},
  };
  guint i;

  for (i = 0; i < TS_DATAGRAM_PACKETS; i++)
    ts_packet_fill (datagram + i * MR_TS_PACKET_SIZE, &hdrs[i]);
  mr_packet_counter_push (c, datagram, sizeof (datagram));

  g_assert_cmpuint (c->ts_packets, ==, TS_DATAGRAM_PACKETS);
  g_assert_cmpuint (c->lost, ==, 0);
  g_assert_cmpuint (c->sync_errors, ==, 0);
  g_assert_cmpuint (c->cc[0x100], ==, 2);
  g_assert_cmpuint (c->cc[0x101], ==, 6);
}

static void
test_ts_sync_error_first_byte (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  g_autofree guint8 *data = NULL;
  gsize size;

  data = ts_datagram_new (0x100, 0, TS_DATAGRAM_PACKETS, &size);
  data[0] = 0x48;
  mr_packet_counter_push (c, data, size);

  g_assert_cmpuint (c->packets, ==, 1);
  g_assert_cmpuint (c->bytes, ==, size);
  g_assert_cmpuint (c->sync_errors, ==, 1);
  g_assert_cmpuint (c->ts_packets, ==, 0);
  g_assert_cmpuint (c->lost, ==, 0);
}

static void
test_ts_sync_error_mid_datagram (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  g_autofree guint8 *data = NULL;
  gsize size;

  data = ts_datagram_new (0x100, 0, TS_DATAGRAM_PACKETS, &size);
  data[2 * MR_TS_PACKET_SIZE] = 0x00;
  mr_packet_counter_push (c, data, size);

  /* the packets before the lost sync are still checked */
  g_assert_cmpuint (c->sync_errors, ==, 1);
  g_assert_cmpuint (c->ts_packets, ==, 2);
}

static void
test_ts_sync_error_length (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  g_autofree guint8 *data = NULL;
  gsize size;

  data = ts_datagram_new (0x100, 0, TS_DATAGRAM_PACKETS, &size);

  /* a trailing partial packet */
  mr_packet_counter_push (c, data, size - 1);
  g_assert_cmpuint (c->sync_errors, ==, 1);
  g_assert_cmpuint (c->ts_packets, ==, TS_DATAGRAM_PACKETS - 1);

  /* shorter than one packet */
  mr_packet_counter_push (c, data, 100);
  g_assert_cmpuint (c->sync_errors, ==, 2);
  g_assert_cmpuint (c->ts_packets, ==, TS_DATAGRAM_PACKETS - 1);

  /* one byte over a whole number of packets */
  mr_packet_counter_reset (c);
  data = g_realloc (data, size + 1);
  data[size] = 0x47;
  mr_packet_counter_push (c, data, size + 1);
  g_assert_cmpuint (c->sync_errors, ==, 1);
  g_assert_cmpuint (c->ts_packets, ==, TS_DATAGRAM_PACKETS);
  g_assert_cmpuint (c->lost, ==, 0);

  g_assert_cmpuint (c->packets, ==, 1);
  g_assert_cmpuint (c->bytes, ==, size + 1);
}

static void
test_ts_independent_pids (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_MPEGTS);
  guint i;

  /* interleaved PIDs, each with its own counter */
  for (i = 0; i < 20; i++) {
    push_ts (c, 0x100, TS_AFC_PAYLOAD, i & 0x0f);
    push_ts (c, 0x101, TS_AFC_PAYLOAD, (i + 9) & 0x0f);
    push_ts (c, 0x1ffe, TS_AFC_PAYLOAD, (15 - i) & 0x0f); /* backwards */
  }
  /* only the PID counting backwards loses: each step back skips 14 values */
  g_assert_cmpuint (c->lost, ==, 19 * 14);

  mr_packet_counter_reset (c);
  for (i = 0; i < 20; i++) {
    push_ts (c, 0x100, TS_AFC_PAYLOAD, i & 0x0f);
    /* PID 0x101 loses every other packet */
    push_ts (c, 0x101, TS_AFC_PAYLOAD, (2 * i) & 0x0f);
  }
  g_assert_cmpuint (c->lost, ==, 19);
  g_assert_cmpuint (c->ts_packets, ==, 40);
}

/* RFC 3550 interarrival jitter */

#define MS (G_GUINT64_CONSTANT (1000000))

static void
push_rtp_at (MrPacketCounter * counter, guint16 seq, guint32 ts,
    guint64 arrival)
{
  guint8 pkt[RTP_PACKET_SIZE];

  rtp_packet_fill (pkt, 2, seq);
  pkt[4] = ts >> 24;
  pkt[5] = ts >> 16;
  pkt[6] = ts >> 8;
  pkt[7] = ts;
  mr_packet_counter_push_at (counter, pkt, sizeof (pkt), arrival);
}

/* packets 1 ms apart stamped 90 ticks apart (90 kHz): no jitter */
static void
test_jitter_steady (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);

  g_assert_cmpuint (c->clock_rate, ==, 90000);
  for (guint i = 0; i < 100; i++)
    push_rtp_at (c, 100 + i, 5000 + 90 * i, 7 * MS + i * MS);
  g_assert_cmpfloat (c->jitter, ==, 0);
  g_assert_cmpuint (c->jitter_samples, ==, 99);
  g_assert_cmpfloat (mr_packet_counter_jitter_ms (c), ==, 0);
}

/* every other packet 2 ms late: |D| is 2 ms (180 ticks) each time, and J
 * follows J += (|D| - J) / 16 from 0: J_n = 180 (1 - (15/16)^n) */
static void
test_jitter_converges_to_transit_change (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint n = 0;

  for (guint i = 0; i < 200; i++)
    push_rtp_at (c, i, 90 * 10 * i, i * 10 * MS + (i % 2 ? 2 * MS : 0));
  n = 199;
  g_assert_cmpuint (c->jitter_samples, ==, n);
  g_assert_cmpfloat_with_epsilon (c->jitter, 180 * (1 - pow (15.0 / 16, n)),
      1e-6);
  g_assert_cmpfloat_with_epsilon (mr_packet_counter_jitter_ms (c), 2.0, 1e-3);
}

/* the RTP timestamp wraps at 2^32: a step like any other */
static void
test_jitter_timestamp_wrap (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);

  for (guint i = 0; i < 50; i++)
    push_rtp_at (c, 65530 + i, G_MAXUINT32 - 900 + 90 * i, i * MS);
  g_assert_cmpuint (c->resyncs, ==, 0);
  g_assert_cmpuint (c->jitter_samples, ==, 49);
  g_assert_cmpfloat (c->jitter, ==, 0);
}

/* a reordered packet, a copy, a packet without arrival time and the one
 * after it take no sample; a loss does not stop the estimate */
static void
test_jitter_only_in_sequence (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);
  guint8 pkt[RTP_PACKET_SIZE];
  gdouble j;

  push_rtp_at (c, 1, 90, 1 * MS);
  push_rtp_at (c, 2, 180, 2 * MS + MS / 2);     /* |D| = 45 */
  g_assert_cmpuint (c->jitter_samples, ==, 1);
  g_assert_cmpfloat_with_epsilon (c->jitter, 45.0 / 16, 1e-9);
  j = c->jitter;
  push_rtp_at (c, 2, 180, 9 * MS);      /* a copy of the newest */
  push_rtp_at (c, 1, 90, 9 * MS);       /* behind */
  g_assert_cmpuint (c->jitter_samples, ==, 1);
  g_assert_cmpfloat (c->jitter, ==, j);
  rtp_packet_fill (pkt, 2, 3);
  mr_packet_counter_push (c, pkt, sizeof (pkt));        /* no time */
  push_rtp_at (c, 4, 360, 4 * MS);
  g_assert_cmpuint (c->jitter_samples, ==, 1);
  push_rtp_at (c, 6, 540, 6 * MS + MS / 2);     /* 5 lost; 6 in step */
  g_assert_cmpuint (c->lost, ==, 1);
  g_assert_cmpuint (c->jitter_samples, ==, 2);
}

/* a sender that restarts (a jump of the seqnums, new timestamps) or jumps
 * its timestamps by more than MR_RTP_MAX_TRANSIT_JUMP s adds no sample of
 * that size */
static void
test_jitter_restart (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);

  for (guint i = 0; i < 10; i++)
    push_rtp_at (c, i, 90 * i, i * MS);
  push_rtp_at (c, 30000, 123456789, 10 * MS);
  push_rtp_at (c, 30001, 123456789 + 90, 11 * MS);
  g_assert_cmpuint (c->resyncs, ==, 1);
  g_assert_cmpfloat (c->jitter, ==, 0);
  push_rtp_at (c, 30002, 3000000000u, 12 * MS);
  g_assert_cmpfloat (c->jitter, ==, 0);
  push_rtp_at (c, 30003, 3000000000u + 90, 13 * MS);
  g_assert_cmpfloat (c->jitter, ==, 0);
  /* 9 before the restart, 30001 and 30003; not 30000 nor the jump */
  g_assert_cmpuint (c->jitter_samples, ==, 11);
}

/* another clock rate (audio at 48 kHz): the same ms */
static void
test_jitter_clock_rate (void)
{
  g_autoptr (MrPacketCounter) c = counter_new (MR_PACKET_KIND_RTP);

  mr_packet_counter_set_clock_rate (c, 48000);
  for (guint i = 0; i < 400; i++)
    push_rtp_at (c, i, 480 * i, i * 10 * MS + (i % 2 ? 3 * MS : 0));
  g_assert_cmpfloat_with_epsilon (mr_packet_counter_jitter_ms (c), 3.0,
      1e-3);
  mr_packet_counter_reset (c);
  g_assert_cmpuint (c->clock_rate, ==, 48000);
  g_assert_cmpfloat (c->jitter, ==, 0);
  mr_packet_counter_set_clock_rate (c, 0);
  g_assert_cmpuint (c->clock_rate, ==, 48000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/packet-counter/init-and-reset", test_init_and_reset);
  g_test_add_func ("/packet-counter/bytes-and-packets", test_bytes_and_packets);

  g_test_add_func ("/packet-counter/rtp/consecutive", test_rtp_consecutive);
  g_test_add_func ("/packet-counter/rtp/gap", test_rtp_gap);
  g_test_add_func ("/packet-counter/rtp/wraparound", test_rtp_wraparound);
  g_test_add_func ("/packet-counter/rtp/gap-across-wraparound",
      test_rtp_gap_across_wraparound);
  g_test_add_func ("/packet-counter/rtp/reorder", test_rtp_reorder);
  g_test_add_func ("/packet-counter/rtp/reorder-across-wraparound",
      test_rtp_reorder_across_wraparound);
  g_test_add_func ("/packet-counter/rtp/duplicate-of-newest",
      test_rtp_duplicate_of_newest);
  g_test_add_func ("/packet-counter/rtp/huge-jump-resyncs",
      test_rtp_huge_jump_resyncs);
  g_test_add_func ("/packet-counter/rtp/huge-jump-backwards-resyncs",
      test_rtp_huge_jump_backwards_resyncs);
  g_test_add_func ("/packet-counter/rtp/max-gap-boundary",
      test_rtp_max_gap_boundary);
  g_test_add_func ("/packet-counter/rtp/invalid-not-parsed",
      test_rtp_invalid_not_parsed);
  g_test_add_func ("/packet-counter/rtp/invalid-before-first",
      test_rtp_invalid_before_first);

  g_test_add_func ("/packet-counter/ts/consecutive", test_ts_consecutive);
  g_test_add_func ("/packet-counter/ts/skipped-cc", test_ts_skipped_cc);
  g_test_add_func ("/packet-counter/ts/skipped-cc-across-wrap",
      test_ts_skipped_cc_across_wrap);
  g_test_add_func ("/packet-counter/ts/skipped-cc-modulo-16",
      test_ts_skipped_cc_modulo_16);
  g_test_add_func ("/packet-counter/ts/cc-wrap", test_ts_cc_wrap);
  g_test_add_func ("/packet-counter/ts/duplicate", test_ts_duplicate);
  g_test_add_func ("/packet-counter/ts/adaptation-only-does-not-advance",
      test_ts_adaptation_only_does_not_advance);
  g_test_add_func ("/packet-counter/ts/adaptation-only-first",
      test_ts_adaptation_only_first);
  g_test_add_func ("/packet-counter/ts/discontinuity-resets",
      test_ts_discontinuity_resets);
  g_test_add_func ("/packet-counter/ts/discontinuity-adaptation-only",
      test_ts_discontinuity_adaptation_only);
  g_test_add_func ("/packet-counter/ts/null-pid-ignored",
      test_ts_null_pid_ignored);
  g_test_add_func ("/packet-counter/ts/datagram-of-seven",
      test_ts_datagram_of_seven);
  g_test_add_func ("/packet-counter/ts/datagram-mixed-pids",
      test_ts_datagram_mixed_pids);
  g_test_add_func ("/packet-counter/ts/sync-error-first-byte",
      test_ts_sync_error_first_byte);
  g_test_add_func ("/packet-counter/ts/sync-error-mid-datagram",
      test_ts_sync_error_mid_datagram);
  g_test_add_func ("/packet-counter/ts/sync-error-length",
      test_ts_sync_error_length);
  g_test_add_func ("/packet-counter/ts/independent-pids",
      test_ts_independent_pids);

  g_test_add_func ("/packet-counter/rtp/jitter-steady", test_jitter_steady);
  g_test_add_func ("/packet-counter/rtp/jitter-converges",
      test_jitter_converges_to_transit_change);
  g_test_add_func ("/packet-counter/rtp/jitter-timestamp-wrap",
      test_jitter_timestamp_wrap);
  g_test_add_func ("/packet-counter/rtp/jitter-only-in-sequence",
      test_jitter_only_in_sequence);
  g_test_add_func ("/packet-counter/rtp/jitter-restart", test_jitter_restart);
  g_test_add_func ("/packet-counter/rtp/jitter-clock-rate",
      test_jitter_clock_rate);
  return g_test_run ();
}
