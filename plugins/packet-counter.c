/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "packet-counter.h"

#include <string.h>

#define CC_UNSEEN 0xff
#define TS_NULL_PID 0x1fff

void
mr_packet_counter_init (MrPacketCounter * counter, MrPacketKind kind)
{
  counter->kind = kind;
  counter->clock_rate = MR_RTP_DEFAULT_CLOCK_RATE;
  mr_packet_counter_reset (counter);
}

void
mr_packet_counter_reset (MrPacketCounter * counter)
{
  MrPacketKind kind = counter->kind;
  guint clock_rate = counter->clock_rate;

  memset (counter, 0, sizeof (*counter));
  counter->kind = kind;
  counter->clock_rate = clock_rate ? clock_rate : MR_RTP_DEFAULT_CLOCK_RATE;
  memset (counter->cc, CC_UNSEEN, sizeof (counter->cc));
}

void
mr_packet_counter_set_clock_rate (MrPacketCounter * counter, guint clock_rate)
{
  if (clock_rate == 0 || clock_rate == counter->clock_rate)
    return;
  counter->clock_rate = clock_rate;
  counter->jitter = 0;
  counter->have_transit = FALSE;
}

gdouble
mr_packet_counter_jitter_ms (const MrPacketCounter * counter)
{
  return counter->jitter * 1000.0 / counter->clock_rate;
}

/* RFC 3550 A.8, with the arrival kept in ns: D is the difference of the
 * two arrivals in timestamp units minus the difference of the two RTP
 * timestamps (modulo 2^32, so a wrap is a small step) */
static void
update_jitter (MrPacketCounter * c, guint32 rtp_ts, guint64 arrival)
{
  gdouble d;

  if (arrival == MR_PACKET_TIME_NONE) {
    c->have_transit = FALSE;
    return;
  }
  if (c->have_transit) {
    d = (gdouble) (gint64) (arrival - c->last_arrival) * c->clock_rate / 1e9
        - (gdouble) (gint32) (rtp_ts - c->last_rtp_ts);
    if (d < 0)
      d = -d;
    if (d <= (gdouble) MR_RTP_MAX_TRANSIT_JUMP * c->clock_rate) {
      c->jitter += (d - c->jitter) / 16.0;
      c->jitter_samples++;
    }
  }
  c->have_transit = TRUE;
  c->last_arrival = arrival;
  c->last_rtp_ts = rtp_ts;
}

static void
push_rtp (MrPacketCounter * c, const guint8 * data, gsize size,
    guint64 arrival)
{
  guint16 seq, gap;
  guint32 rtp_ts;

  if (size < 12 || (data[0] >> 6) != 2)
    return;

  seq = (data[2] << 8) | data[3];
  rtp_ts = ((guint32) data[4] << 24) | (data[5] << 16) | (data[6] << 8)
      | data[7];
  if (!c->have_seq) {
    c->have_seq = TRUE;
    c->next_seq = seq + 1;
    update_jitter (c, rtp_ts, arrival);
    return;
  }

  /* the jitter follows the packets in sequence (after a loss too); a
   * reordered packet or a duplicate is left out */
  gap = (guint16) (seq - c->next_seq);
  if (gap == 0) {
    c->next_seq = seq + 1;
    update_jitter (c, rtp_ts, arrival);
  } else if (gap < MR_RTP_MAX_GAP) {
    c->lost += gap;
    c->next_seq = seq + 1;
    update_jitter (c, rtp_ts, arrival);
  } else if ((guint16) (c->next_seq - seq) <= MR_RTP_MAX_GAP) {
    /* behind the stream: a reordered packet that we counted as lost, or a
     * duplicate.  A copy of the newest packet is certainly a duplicate and
     * must not cancel a loss; older duplicates cannot be told from late
     * packets without a history of what arrived. */
    c->reordered++;
    if (seq != (guint16) (c->next_seq - 1) && c->lost > 0)
      c->lost--;
  } else {
    c->resyncs++;
    c->next_seq = seq + 1;
    /* a new sender: a new clock; the estimate so far stays */
    c->have_transit = FALSE;
    update_jitter (c, rtp_ts, arrival);
  }
}

static void
push_ts_packet (MrPacketCounter * c, const guint8 * p)
{
  guint pid = ((p[1] & 0x1f) << 8) | p[2];
  guint afc = (p[3] >> 4) & 0x3;
  guint cc = p[3] & 0x0f;
  guint last;

  c->ts_packets++;
  if (pid == TS_NULL_PID)
    return;

  /* a discontinuity_indicator in the adaptation field resets the counter */
  if ((afc & 0x2) && p[4] > 0 && (p[5] & 0x80)) {
    c->cc[pid] = cc;
    return;
  }

  last = c->cc[pid];
  c->cc[pid] = cc;
  if (last == CC_UNSEEN || !(afc & 0x1))
    return;                     /* no payload: counter does not advance */

  if (cc == last)
    return;                     /* a duplicate packet is allowed once */

  c->lost += (cc - last - 1) & 0x0f;
}

static void
push_ts (MrPacketCounter * c, const guint8 * data, gsize size)
{
  gsize off = 0;

  while (off + MR_TS_PACKET_SIZE <= size) {
    if (data[off] != 0x47) {
      c->sync_errors++;
      return;
    }
    push_ts_packet (c, data + off);
    off += MR_TS_PACKET_SIZE;
  }
  if (off != size)
    c->sync_errors++;
}

void
mr_packet_counter_push (MrPacketCounter * counter, const guint8 * data,
    gsize size)
{
  mr_packet_counter_push_at (counter, data, size, MR_PACKET_TIME_NONE);
}

void
mr_packet_counter_push_at (MrPacketCounter * counter, const guint8 * data,
    gsize size, guint64 arrival)
{
  counter->packets++;
  counter->bytes += size;

  switch (counter->kind) {
    case MR_PACKET_KIND_RTP:
      push_rtp (counter, data, size, arrival);
      break;
    case MR_PACKET_KIND_MPEGTS:
      push_ts (counter, data, size);
      break;
    default:
      break;
  }
}
