/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A libFuzzer target for the packet counter (plugins/packet-counter.c):
 * sequences of RTP packets or of datagrams of MPEG-TS packets, built from
 * the input as a script, with a model of what was sent beside them.  It
 * aborts, with a line saying which, when:
 *
 *  - packets or bytes are not what was pushed, or a counter other than
 *    lost goes down; lost goes down only by one, on a packet behind the
 *    stream; a counter of the other kind moves;
 *  - RTP: one push moves more than one of lost (by 1 to MR_RTP_MAX_GAP - 1),
 *    reordered and resyncs; an invalid packet moves any; while every
 *    packet was sent once (a copy of the newest excepted), none before the
 *    first and no jump was a restart, lost is exactly the seqnums missing
 *    between the first and the newest; with older copies too, lost is at
 *    most that, and at least that less one per older copy; restarts start
 *    the count again;
 *  - RTP jitter (RFC 3550): it is a finite number >= 0, never above the
 *    largest of its value before and the largest transit change it takes
 *    (MR_RTP_MAX_TRANSIT_JUMP s); it moves, by one sample, only on a valid
 *    packet with an arrival time that is the newest or skips ahead (not on
 *    a copy, a late packet, an invalid one, nor a first one); a packet
 *    without arrival time takes none;
 *  - MPEG-TS: ts_packets and sync_errors are not the whole packets in sync
 *    and the datagrams that were not; the continuity table holds something
 *    other than 0-15 or unseen; lost grows by more than 15 per packet; and
 *    while the counters followed the standard (+1 per packet with payload,
 *    the same on one without, a repeat allowed, a discontinuity_indicator
 *    starting again), lost is exactly the packets skipped.
 *
 * Input: a byte of options (kind), then 4-byte records (described above
 * LLVMFuzzerTestOneInput).  COUNTER_FUZZ_TRACE=1 prints every push. */

#include "packet-counter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define RECORD 4
#define TS MR_TS_PACKET_SIZE
#define NULL_PID 0x1fff
#define MAX_DATAGRAM (7 * TS + 8)

#define CHECK(cond, ...) G_STMT_START {                                 \
    if (G_UNLIKELY (!(cond))) {                                          \
      fprintf (stderr, "packet-counter-fuzz: invariant broken: " __VA_ARGS__); \
      fprintf (stderr, "\n  (%s, line %d)\n", #cond, __LINE__);          \
      abort ();                                                          \
    }                                                                    \
  } G_STMT_END

static gboolean trace;

#define TRACE(...) G_STMT_START {                                       \
    if (trace)                                                           \
      fprintf (stderr, __VA_ARGS__);                                     \
  } G_STMT_END

typedef struct
{
  /* RTP: extended seqnums of the current stream (since the last restart) */
  gboolean have_first;
  gint64 first, highest;
  GHashTable *received;         /* ext seqnums */
  gboolean exact;               /* sent once, none before the first */
  gboolean bounded;             /* as exact, but older copies came too */
  guint64 older_copies;
  guint64 lost_base;            /* counter's lost when the stream began */

  /* MPEG-TS */
  guint8 cc[MR_TS_PID_COUNT];   /* 0xff: unseen */
  gboolean ts_exact;
  guint64 ts_lost;
  guint64 ts_packets;
  guint64 sync_errors;

  guint64 pushes;
  guint64 bytes;
  guint64 now;                  /* ns, the arrivals' clock */
} Model;

/* The counter is 8 KiB: kept between runs */
static MrPacketCounter counter, before;
static Model model;

static void
check_common (const MrPacketCounter * c, const MrPacketCounter * b,
    const Model * m)
{
  CHECK (c->packets == m->pushes, "packets %" G_GUINT64_FORMAT ", %"
      G_GUINT64_FORMAT " pushes", c->packets, m->pushes);
  CHECK (c->bytes == m->bytes, "bytes %" G_GUINT64_FORMAT ", %"
      G_GUINT64_FORMAT " pushed", c->bytes, m->bytes);
  CHECK (c->reordered >= b->reordered && c->resyncs >= b->resyncs
      && c->ts_packets >= b->ts_packets && c->sync_errors >= b->sync_errors,
      "a counter went down");
  CHECK (c->lost + 1 >= b->lost, "lost went from %" G_GUINT64_FORMAT " to %"
      G_GUINT64_FORMAT, b->lost, c->lost);
  if (c->kind != MR_PACKET_KIND_RTP)
    CHECK (c->reordered == 0 && c->resyncs == 0 && !c->have_seq, "RTP "
        "counters moved for kind %d", c->kind);
  if (c->kind != MR_PACKET_KIND_MPEGTS)
    CHECK (c->ts_packets == 0 && c->sync_errors == 0, "TS counters moved "
        "for kind %d", c->kind);
  if (c->kind == MR_PACKET_KIND_OTHER)
    CHECK (c->lost == 0, "lost moved for kind other");
}

/* ---------------------------------------------------------------------- */
/* RTP */

static void
rtp_restart (Model * m, gint64 ext, guint64 lost)
{
  g_hash_table_remove_all (m->received);
  m->have_first = TRUE;
  m->first = m->highest = ext;
  g_hash_table_add (m->received, g_memdup2 (&ext, sizeof (ext)));
  m->exact = m->bounded = TRUE;
  m->older_copies = 0;
  m->lost_base = lost;
}

static void
check_jitter (const MrPacketCounter * c, const MrPacketCounter * b,
    gboolean may_sample)
{
  gdouble bound = MAX (b->jitter,
      (gdouble) MR_RTP_MAX_TRANSIT_JUMP * c->clock_rate);

  CHECK (c->jitter >= 0 && c->jitter <= bound, "jitter %g (before %g)",
      c->jitter, b->jitter);
  CHECK (c->jitter_samples == b->jitter_samples
      || (may_sample && c->jitter_samples == b->jitter_samples + 1),
      "jitter samples %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
      "%s", b->jitter_samples, c->jitter_samples, may_sample ? "" :
      " on a packet that takes none");
  if (c->jitter_samples == b->jitter_samples)
    CHECK (c->jitter == b->jitter, "jitter moved without a sample");
  CHECK (mr_packet_counter_jitter_ms (c) >= 0, "jitter_ms below 0");
}

static void
push_rtp (Model * m, guint16 seq, gboolean valid, gsize size,
    const guint8 * fill, gsize fill_len, guint64 arrival)
{
  guint8 pkt[12 + 64];
  const MrPacketCounter *c = &counter;
  guint64 dlost, dreordered, dresyncs;
  gint64 ext = 0;
  gboolean restart = FALSE;

  size = MIN (size, sizeof (pkt));
  memset (pkt, 0, sizeof (pkt));
  memcpy (pkt, fill, MIN (size, fill_len));
  if (size >= 4) {
    pkt[0] = valid ? 0x80 | (pkt[0] & 0x3f) : (pkt[0] & 0x3f);
    pkt[2] = seq >> 8;
    pkt[3] = seq & 0xff;
  }
  valid = valid && size >= 12;

  /* where it falls, from the model's newest */
  if (valid && m->have_first) {
    guint16 next = (guint16) (m->highest + 1);
    guint16 ahead = (guint16) (seq - next), behind = (guint16) (next - seq);

    if (ahead < MR_RTP_MAX_GAP)
      ext = m->highest + 1 + ahead;
    else if (behind <= MR_RTP_MAX_GAP)
      ext = m->highest + 1 - behind;
    else
      restart = TRUE;
  }

  before = counter;
  mr_packet_counter_push_at (&counter, pkt, size, arrival);
  m->pushes++;
  m->bytes += size;
  check_common (c, &before, m);
  /* a sample needs two packets in sequence with their arrivals */
  check_jitter (c, &before, valid && arrival != MR_PACKET_TIME_NONE
      && m->have_first && !restart && ext > m->highest);
  dlost = c->lost - before.lost;
  dreordered = c->reordered - before.reordered;
  dresyncs = c->resyncs - before.resyncs;
  TRACE ("rtp seq %u size %" G_GSIZE_FORMAT "%s: lost %" G_GUINT64_FORMAT
      " reordered %" G_GUINT64_FORMAT " resyncs %" G_GUINT64_FORMAT "\n", seq,
      size, valid ? "" : " (invalid)", c->lost, c->reordered, c->resyncs);

  if (!valid) {
    CHECK (c->lost == before.lost && dreordered == 0 && dresyncs == 0
        && c->have_seq == before.have_seq
        && c->next_seq == before.next_seq, "an invalid packet moved the "
        "counters");
    return;
  }
  CHECK (c->have_seq, "no sequence after a valid packet");
  if (!m->have_first) {
    CHECK (dlost == 0 && dreordered == 0 && dresyncs == 0, "the first "
        "packet moved the counters");
    rtp_restart (m, seq, c->lost);
    return;
  }
  if (restart) {
    CHECK (dresyncs == 1 && dlost == 0 && dreordered == 0, "a jump to %u "
        "after %u is not one restart", seq, (guint16) m->highest);
    rtp_restart (m, seq, c->lost);
    return;
  }
  CHECK (dresyncs == 0, "a restart on seq %u, %" G_GINT64_FORMAT " from "
      "the newest", seq, ext - m->highest);

  if (ext > m->highest) {
    CHECK (dlost == (guint64) (ext - m->highest - 1) && dreordered == 0,
        "seq %u skipped %" G_GINT64_FORMAT ", lost grew by %" G_GINT64_FORMAT,
        seq, ext - m->highest - 1, (gint64) dlost);
    m->highest = ext;
  } else if (ext == m->highest) {
    CHECK (dreordered == 1 && c->lost == before.lost, "a copy of the newest "
        "changed lost or not reordered");
  } else {
    CHECK (dreordered == 1 && (c->lost == before.lost
            || c->lost + 1 == before.lost), "a packet behind: reordered "
        "+%" G_GUINT64_FORMAT ", lost %" G_GUINT64_FORMAT " to %"
        G_GUINT64_FORMAT, dreordered, before.lost, c->lost);
    if (ext < m->first)
      m->exact = m->bounded = FALSE;
    else if (g_hash_table_contains (m->received, &ext)) {
      m->exact = FALSE;
      m->older_copies++;
    }
  }
  if (!g_hash_table_contains (m->received, &ext))
    g_hash_table_add (m->received, g_memdup2 (&ext, sizeof (ext)));
  CHECK (c->next_seq == (guint16) (m->highest + 1), "next_seq %u after "
      "newest %u", c->next_seq, (guint16) m->highest);

  if (m->bounded) {
    /* an older copy may take one off a loss of the stream before */
    gint64 missing = m->highest - m->first + 1 -
        g_hash_table_size (m->received);
    gint64 lost = (gint64) c->lost - (gint64) m->lost_base;

    CHECK (lost <= missing, "lost %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
        " seqnums missing between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
        lost, missing, m->first, m->highest);
    CHECK (lost + (gint64) m->older_copies >= missing, "lost %"
        G_GINT64_FORMAT " with %" G_GUINT64_FORMAT " older copies, %"
        G_GINT64_FORMAT " missing", lost, m->older_copies, missing);
    if (m->exact)
      CHECK (lost == missing, "lost %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
          " missing", lost, missing);
  }
}

/* ---------------------------------------------------------------------- */
/* MPEG-TS */

/* One packet of a datagram: record byte @op decides it */
static void
ts_packet (Model * m, guint8 * pkt, guint8 op, guint8 arg, const guint8 * fill)
{
  static const guint pids[] = { 0x100, 0x101, 0x0, NULL_PID };
  guint pid = (op & 0x80) ? (guint) (arg << 5 | (op & 0x1f)) % MR_TS_PID_COUNT :
      pids[op & 3];
  guint afc, cc, last;
  gboolean disc = FALSE, std = TRUE;

  memcpy (pkt, fill, TS);
  pkt[0] = 0x47;
  last = m->cc[pid];
  switch ((op >> 2) & 7) {
    case 0:
    case 1:
    case 2:                    /* payload, the next counter */
      afc = 1;
      cc = last == 0xff ? arg & 15 : (last + 1) & 15;
      break;
    case 3:                    /* payload, packets skipped */
      afc = (arg & 0x40) ? 3 : 1;
      cc = last == 0xff ? arg & 15 : (last + 1 + arg % 15) & 15;
      break;
    case 4:                    /* a repeat */
      afc = 1;
      cc = last == 0xff ? 0 : last;
      break;
    case 5:                    /* adaptation only, same counter */
      afc = 2;
      cc = last == 0xff ? arg & 15 : last;
      break;
    case 6:                    /* discontinuity */
      afc = (arg & 0x40) ? 2 : 3;
      cc = arg & 15;
      disc = TRUE;
      break;
    default:                   /* anything */
      afc = (arg >> 4) & 3;
      cc = arg & 15;
      std = FALSE;
      break;
  }
  pkt[1] = (pkt[1] & 0xe0) | (pid >> 8);
  pkt[2] = pid & 0xff;
  pkt[3] = (pkt[3] & 0xc0) | afc << 4 | cc;
  if (afc & 2) {
    pkt[4] = afc == 2 ? TS - 5 : 1 + (arg & 7);
    pkt[5] = disc ? 0x80 | (pkt[5] & 0x7f) : pkt[5] & 0x7f;
  }

  if (pid == NULL_PID)
    return;
  /* what the standard says the counter sees */
  if (disc) {
    m->cc[pid] = cc;
    return;
  }
  if (!std)
    m->ts_exact = FALSE;
  if (last != 0xff && (afc & 1) && cc != last)
    m->ts_lost += (cc - last - 1) & 15;
  m->cc[pid] = cc;
}

/* A datagram of 1 to 7 packets; maybe out of sync at one, maybe with a
 * few bytes too many */
static void
push_ts (Model * m, const guint8 * rec, const guint8 * fill, gsize fill_len)
{
  guint8 dgram[MAX_DATAGRAM];
  guint n = 1 + rec[1] % 7;
  gint broken = (rec[2] & 0x80) ? (gint) (rec[2] % n) : -1;
  gsize extra = (rec[2] & 0x40) ? 1 + rec[3] % 7 : 0;
  gsize size = n * TS + extra;
  const MrPacketCounter *c = &counter;
  guint64 whole = 0;

  for (guint i = 0; i < n; i++) {
    guint8 src[TS];

    for (guint j = 0; j < TS; j++)
      src[j] = fill_len ? fill[(i * 31 + j) % fill_len] : 0xff;
    if ((gint) i == broken) {
      memcpy (dgram + i * TS, src, TS);
      dgram[i * TS] = 0x47 ^ (1 + rec[3] % 255);
      continue;
    }
    /* the model sees only what the counter reads: up to the broken one */
    if (broken < 0 || (gint) i < broken) {
      ts_packet (m, dgram + i * TS, rec[3] + i * 0x29, rec[2] ^ (i * 7), src);
      whole++;
    } else {
      memcpy (dgram + i * TS, src, TS);
      dgram[i * TS] = 0x47;
    }
  }
  memset (dgram + n * TS, 0x47, extra);
  m->ts_packets += whole;
  if (broken >= 0 || extra)
    m->sync_errors++;

  before = counter;
  mr_packet_counter_push (&counter, dgram, size);
  m->pushes++;
  m->bytes += size;
  check_common (c, &before, m);
  TRACE ("ts %u packets%s%s: ts_packets %" G_GUINT64_FORMAT " lost %"
      G_GUINT64_FORMAT " (model %" G_GUINT64_FORMAT ")\n", n,
      broken >= 0 ? " out of sync" : "", extra ? " with extra bytes" : "",
      c->ts_packets, c->lost, m->ts_lost);
  if (c->kind != MR_PACKET_KIND_MPEGTS)
    return;
  CHECK (c->ts_packets == m->ts_packets, "ts_packets %" G_GUINT64_FORMAT
      ", %" G_GUINT64_FORMAT " in sync", c->ts_packets, m->ts_packets);
  CHECK (c->sync_errors == m->sync_errors, "sync_errors %" G_GUINT64_FORMAT
      ", %" G_GUINT64_FORMAT " datagrams out of sync", c->sync_errors,
      m->sync_errors);
  CHECK (c->lost <= before.lost + 15 * whole, "lost grew by %"
      G_GUINT64_FORMAT " in %" G_GUINT64_FORMAT " packets",
      c->lost - before.lost, whole);
  if (m->ts_exact)
    CHECK (c->lost == m->ts_lost, "lost %" G_GUINT64_FORMAT ", %"
        G_GUINT64_FORMAT " packets skipped", c->lost, m->ts_lost);
}

/* Any bytes as a datagram */
static void
push_raw (Model * m, const guint8 * bytes, gsize size)
{
  const MrPacketCounter *c = &counter;
  gsize off = 0;

  while (off + TS <= size && bytes[off] == 0x47) {
    guint pid = ((bytes[off + 1] & 0x1f) << 8) | bytes[off + 2];
    if (pid != NULL_PID)
      m->cc[pid] = 0xfe;        /* unknown from here */
    m->ts_packets++;
    off += TS;
  }
  if (off != size)
    m->sync_errors++;
  m->ts_exact = FALSE;

  before = counter;
  mr_packet_counter_push (&counter, bytes, size);
  m->pushes++;
  m->bytes += size;
  check_common (c, &before, m);
  if (c->kind == MR_PACKET_KIND_MPEGTS) {
    CHECK (c->ts_packets == m->ts_packets, "raw: ts_packets %"
        G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " in sync", c->ts_packets,
        m->ts_packets);
    CHECK (c->sync_errors == m->sync_errors, "raw: sync_errors %"
        G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT, c->sync_errors,
        m->sync_errors);
  }
}

/* Options: kind (byte % 3; RTP: bit 2 starts at seq 65535 - (byte >> 3)).
 * Records: op, a, b, c.  RTP, by op % 8: 0-2 the next seqnum, a % 4 == 0
 * skipping b % 8; 3 forward (a b) % 3500; 4 behind by (a b) % 3200; 5 a
 * copy of the newest; 6 seq (a b); 7 an invalid packet (version 0, or c %
 * 12 bytes).  Payload size: op >> 3.  MPEG-TS, by op % 8: 0-6 a datagram
 * (a: packets, b: out of sync and extra bytes, c: packet ops); 7 the next
 * a % 64 * 8 input bytes as a datagram.  Kind other: the same as MPEG-TS. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Model *m = &model;
  MrPacketKind kind;
  gint64 seq0;

  if (size < 1)
    return 0;
  trace = g_getenv ("COUNTER_FUZZ_TRACE") != NULL;
  kind = data[0] % 3;
  mr_packet_counter_init (&counter, kind);
  if (data[0] & 0x80)
    mr_packet_counter_set_clock_rate (&counter, 48000);
  memset (m, 0, sizeof (*m));
  memset (m->cc, 0xff, sizeof (m->cc));
  m->received = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      NULL);
  m->ts_exact = TRUE;
  seq0 = (data[0] & 4) ? 65535 - (data[0] >> 3) : data[0] >> 3;

  for (size_t pos = 1; pos + RECORD <= size; pos += RECORD) {
    const guint8 *r = data + pos;
    const guint8 *rest = data + pos + RECORD;
    gsize rest_len = size - pos - RECORD;

    if (kind == MR_PACKET_KIND_RTP) {
      guint ab = r[1] << 8 | r[2];
      gint64 newest = m->have_first ? m->highest : seq0 - 1;
      gsize payload = 12 + (r[0] >> 3) * 2;
      gint64 seq;
      guint64 arrival;

      /* arrivals 0 to 9.7 ms apart, now and then none, rarely a jump */
      m->now += (guint64) (r[3] & 0x3f) * 153 * 1000;
      if ((r[3] & 0xc0) == 0xc0 && (r[1] & 1))
        m->now += (guint64) r[2] * G_GUINT64_CONSTANT (1000000000);
      arrival = (r[3] & 0xc0) == 0x80 && (r[2] & 1) ? MR_PACKET_TIME_NONE :
          m->now;

      switch (r[0] & 7) {
        case 3:
          seq = newest + 1 + ab % 3500;
          break;
        case 4:
          seq = newest - ab % 3200;
          break;
        case 5:
          seq = newest;
          break;
        case 6:
          seq = ab;
          break;
        case 7:
          push_rtp (m, newest + 1, r[3] & 1 ? FALSE : TRUE, r[3] % 12, rest,
              rest_len, arrival);
          continue;
        default:
          seq = newest + 1 + (r[1] % 4 == 0 ? r[2] % 8 : 0);
          break;
      }
      push_rtp (m, (guint16) seq, TRUE, payload, rest, rest_len, arrival);
    } else if ((r[0] & 7) == 7) {
      gsize len = MIN ((gsize) (r[1] % 64) * 8, rest_len);
      push_raw (m, rest, len);
      pos += len;
    } else {
      push_ts (m, r, rest, rest_len);
    }
  }

  for (guint pid = 0; pid < MR_TS_PID_COUNT; pid++)
    CHECK (counter.cc[pid] < 16 || counter.cc[pid] == 0xff, "cc[%u] = %u",
        pid, counter.cc[pid]);
  /* reset starts again */
  mr_packet_counter_reset (&counter);
  CHECK (counter.kind == kind && counter.packets == 0 && counter.lost == 0
      && !counter.have_seq && counter.cc[0x100] == 0xff
      && counter.jitter == 0 && !counter.have_transit
      && counter.clock_rate == ((data[0] & 0x80) ? 48000 :
          MR_RTP_DEFAULT_CLOCK_RATE), "reset kept state");
  g_hash_table_unref (m->received);
  return 0;
}

#ifdef MR_FUZZ_STANDALONE
#include "standalone.h"

/* Mostly in-order records, a loss, a copy or a late one now and then */
static gsize
random_script (guint8 * buf, gsize max_len)
{
  gsize len = 1 + 4 * (mr_fuzz_random () % ((max_len - 1) / 4));
  guint disorder = mr_fuzz_random () % 30;

  buf[0] = mr_fuzz_random ();
  for (gsize i = 1; i + 4 <= len; i += 4) {
    guint32 r = mr_fuzz_random ();

    buf[i] = r;
    buf[i + 1] = r >> 8;
    buf[i + 2] = r >> 16;
    buf[i + 3] = r >> 24;
    if (mr_fuzz_random () % 100 >= disorder) {
      buf[i] &= 0xf8;           /* the next one (RTP), a plain datagram */
      buf[i + 2] &= 0x3f;
      buf[i + 3] &= 0x63;
    }
  }
  return len;
}

const MrFuzzStandalone mr_fuzz_standalone = {
  .name = "packet-counter",
  .runs_env = "COUNTER_FUZZ_RUNS",
  .runs = 5000,
  .runs_valgrind = 1500,
  .max_len = 1024,
  .random_input = random_script,
};
#endif /* MR_FUZZ_STANDALONE */
