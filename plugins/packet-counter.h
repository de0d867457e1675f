/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_PACKET_COUNTER_H__
#define __MR_PACKET_COUNTER_H__

#include <glib.h>

G_BEGIN_DECLS

#define MR_TS_PACKET_SIZE 188
#define MR_TS_PID_COUNT 8192

typedef enum
{
  MR_PACKET_KIND_OTHER = 0,     /* count only */
  MR_PACKET_KIND_MPEGTS,        /* check TS continuity counters */
  MR_PACKET_KIND_RTP,           /* check RTP sequence numbers */
} MrPacketKind;

/* Counts datagrams and checks their sequence.  Plain C so that it can be
 * unit-tested and fuzzed without GStreamer. */
typedef struct
{
  MrPacketKind kind;

  guint64 packets;              /* datagrams (or RTP packets) seen */
  guint64 bytes;
  guint64 lost;                 /* RTP seqnums or TS packets missing */
  guint64 reordered;            /* RTP packets that arrived behind the stream */
  guint64 resyncs;              /* RTP jumps taken as a sender restart */
  guint64 ts_packets;
  guint64 sync_errors;          /* TS data not aligned on 0x47 */

  /* RTP state */
  gboolean have_seq;
  guint16 next_seq;

  /* RFC 3550 interarrival jitter (section 6.4.1, appendix A.8): the
   * smoothed mean deviation of the transit time, J += (|D| - J) / 16, with
   * D the change in (arrival - RTP timestamp) between two packets in
   * sequence.  Needs the arrival times push_at() is given. */
  guint clock_rate;             /* Hz of the RTP timestamps: 90000 (MP2T)
                                 * unless the caller sets another */
  gdouble jitter;               /* in RTP timestamp units */
  guint64 jitter_samples;       /* packets that updated it */
  gboolean have_transit;
  guint64 last_arrival;         /* ns */
  guint32 last_rtp_ts;

  /* TS state: last continuity counter per PID, 0xff when unseen */
  guint8 cc[MR_TS_PID_COUNT];
} MrPacketCounter;

#define MR_PACKET_TIME_NONE G_MAXUINT64
#define MR_RTP_DEFAULT_CLOCK_RATE 90000

void mr_packet_counter_init (MrPacketCounter * counter, MrPacketKind kind);
/* Zeroes the counters and the state; keeps the kind and the clock rate */
void mr_packet_counter_reset (MrPacketCounter * counter);
/* A packet of unknown arrival time: counted, no jitter sample */
void mr_packet_counter_push (MrPacketCounter * counter, const guint8 * data,
    gsize size);
/* A packet that arrived at @arrival (ns on any monotonic clock, or
 * MR_PACKET_TIME_NONE) */
void mr_packet_counter_push_at (MrPacketCounter * counter,
    const guint8 * data, gsize size, guint64 arrival);
/* 0 (ignored) or the RTP clock rate in Hz; a change restarts the jitter */
void mr_packet_counter_set_clock_rate (MrPacketCounter * counter,
    guint clock_rate);
/* The interarrival jitter in milliseconds, 0 before two packets in
 * sequence */
gdouble mr_packet_counter_jitter_ms (const MrPacketCounter * counter);

/* Jumps of more than this many sequence numbers are a new sender, not loss */
#define MR_RTP_MAX_GAP 3000
/* A change of transit time larger than this (in s) is a sender that
 * restarted its timestamps, not jitter: the estimate goes on from there */
#define MR_RTP_MAX_TRANSIT_JUMP 10

G_END_DECLS

#endif /* __MR_PACKET_COUNTER_H__ */
