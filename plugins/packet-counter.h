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

  /* TS state: last continuity counter per PID, 0xff when unseen */
  guint8 cc[MR_TS_PID_COUNT];
} MrPacketCounter;

void mr_packet_counter_init (MrPacketCounter * counter, MrPacketKind kind);
void mr_packet_counter_reset (MrPacketCounter * counter);
void mr_packet_counter_push (MrPacketCounter * counter, const guint8 * data,
    gsize size);

/* Jumps of more than this many sequence numbers are a new sender, not loss */
#define MR_RTP_MAX_GAP 3000

G_END_DECLS

#endif /* __MR_PACKET_COUNTER_H__ */
