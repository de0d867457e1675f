/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_MERGE_WINDOW_H__
#define __MR_MERGE_WINDOW_H__

#include <glib.h>

G_BEGIN_DECLS

/* The SMPTE ST 2022-7 merge window: two or more legs carry the same RTP
 * packets; every sequence number goes out once, in order, from whichever
 * leg delivered it first.  A missing packet is waited for at most the
 * recovery window, counted from when it was due: the arrival of the first
 * packet with a higher sequence number.  Plain C, no GStreamer objects, so
 * that unit tests and the fuzzer drive it directly.
 *
 * Times are in nanoseconds on one monotonic clock of the caller's choosing.
 * Packets are opaque pointers: the window hands them to @emit in output
 * order and gives back, through mr_merge_window_push()'s verdict, those it
 * does not keep.  Nothing is ever emitted outside a call to push, advance,
 * flush or set_window, so the caller decides the thread and the lock. */

#define MR_MERGE_MAX_LEGS 32
/* sequence numbers remembered: pending ahead of the output and history
 * behind it (a power of two, half the 16-bit space) */
#define MR_MERGE_CAPACITY 32768
#define MR_MERGE_TIME_NONE G_MAXUINT64
/* granularity of the deadline for deciding unique counts, in ns */
#define MR_MERGE_SETTLE_STEP (G_GUINT64_CONSTANT (64) * 1000000)

typedef enum
{
  MR_MERGE_ACCEPTED,            /* kept: emitted now or held for a gap */
  MR_MERGE_DUPLICATE,           /* already emitted from another leg */
  MR_MERGE_LATE,                /* came after it was declared lost */
  MR_MERGE_FOREIGN,             /* another stream: other SSRC or far seqnum */
} MrMergeVerdict;

typedef enum
{
  MR_MERGE_LEG_ACTIVE,          /* its first data */
  MR_MERGE_LEG_SILENT,          /* nothing for leg-timeout */
  MR_MERGE_LEG_RETURNED,        /* data again after being silent */
  MR_MERGE_LEG_FOREIGN,         /* carries another stream for a window */
  MR_MERGE_LEG_MATCHED,         /* carries the merged stream again */
  MR_MERGE_STREAM_RESTARTED,    /* the sender restarted: new SSRC or seqnums */
} MrMergeLegEvent;

/* @flags: MR_MERGE_EMIT_DISCONT when packets were lost just before this one
 * or the stream restarted */
#define MR_MERGE_EMIT_DISCONT (1 << 0)
typedef void (*MrMergeEmitFunc) (gpointer packet, guint64 ext_seq,
    guint leg, guint flags, gpointer user_data);
typedef void (*MrMergeEventFunc) (guint leg, MrMergeLegEvent event,
    gpointer user_data);

typedef struct
{
  gboolean present;             /* a pad is attached */
  guint64 received;             /* every packet pushed on this leg */
  guint64 used;                 /* went out from this leg (it came first) */
  /* used, and no other leg had it.  Counted only once that is final, so it
   * never decreases: when no other copy can come any more (window +
   * leg_timeout after it arrived, the bound of a late duplicate), when a
   * later seqnum takes its slot, or at flush() and at a restart */
  guint64 unique;
  guint64 duplicates;           /* another leg's copy went out before */
  guint64 late;                 /* came after the window gave up on it */
  guint64 foreign;              /* another stream's packets, not merged */
  gdouble lag_ms;               /* smoothed delay behind the fastest leg */

  /* state */
  gboolean seen;
  gboolean silent;
  guint64 last_arrival;
  guint64 foreign_since;        /* MR_MERGE_TIME_NONE when matching */
  gboolean foreign_reported;
  guint32 last_ssrc;
  guint16 last_seq;
  gboolean last_was_foreign;
  guint64 counts_from;          /* first ext whose unique counts here: a
                                 * leg added again has no earlier ones */
} MrMergeLeg;

typedef struct _MrMergeSlot MrMergeSlot;

typedef struct
{
  /* settings */
  guint64 window;               /* the recovery window */
  guint64 leg_timeout;          /* silence after which a leg is reported */

  MrMergeLeg legs[MR_MERGE_MAX_LEGS];
  guint32 present;              /* bit per leg present */
  guint64 leg_check;            /* no leg can go silent before this */

  /* the merged stream */
  gboolean started;
  guint32 ssrc;
  guint64 next_out;             /* extended seqnum the output waits for */
  guint64 highest;              /* highest extended seqnum seen */
  guint64 last_current;         /* arrival of the newest matching packet */
  gboolean discont;             /* next emitted packet follows a loss */
  MrMergeSlot *slots;           /* MR_MERGE_CAPACITY of them */
  guint pending;                /* packets held for a gap */
  guint64 settled;              /* every ext below it has its unique decided;
                                 * from it to next_out, those gone out from
                                 * one leg wait for a late copy */

  /* rate, for the largest plausible jump ahead */
  guint64 rate_since;
  guint64 rate_count;
  guint64 max_ahead;

  /* totals */
  guint64 output;
  guint64 lost;                 /* missing on every leg */
  guint64 restarts;

  MrMergeEmitFunc emit;
  MrMergeEventFunc event;
  GDestroyNotify free_packet;
  gpointer user_data;
} MrMergeWindow;

void mr_merge_window_init (MrMergeWindow * w, guint64 window,
    guint64 leg_timeout, MrMergeEmitFunc emit, MrMergeEventFunc event,
    GDestroyNotify free_packet, gpointer user_data);
/* frees what is still held, without emitting it */
void mr_merge_window_clear (MrMergeWindow * w);

void mr_merge_window_add_leg (MrMergeWindow * w, guint leg);
void mr_merge_window_remove_leg (MrMergeWindow * w, guint leg);

void mr_merge_window_set_leg_timeout (MrMergeWindow * w, guint64 leg_timeout);

/* A new window applies at once, to the packets already held too. */
void mr_merge_window_set_window (MrMergeWindow * w, guint64 window,
    guint64 now);

/* Takes @packet unless the verdict is other than MR_MERGE_ACCEPTED, in which
 * case the caller still owns it.  Runs advance() first. */
MrMergeVerdict mr_merge_window_push (MrMergeWindow * w, guint leg,
    guint32 ssrc, guint16 seq, guint64 now, gpointer packet);

/* Releases what is due at @now: gaps whose window ran out, silent legs. */
void mr_merge_window_advance (MrMergeWindow * w, guint64 now);

/* When advance() next has something to do, or MR_MERGE_TIME_NONE.  For the
 * unique counts, a time rounded up to MR_MERGE_SETTLE_STEP: in a steady
 * stream push() decides them, and the caller's timer fires once a step, not
 * once a packet. */
guint64 mr_merge_window_next_deadline (MrMergeWindow * w);

/* Emits everything held, in order, declaring the gaps lost, and decides
 * every unique count still waiting for a late copy (end of stream) */
void mr_merge_window_flush (MrMergeWindow * w);

/* Legs that are present, have delivered and are not silent */
guint mr_merge_window_active_legs (MrMergeWindow * w);

/* The spread between the slowest and the fastest active leg, in ms */
gdouble mr_merge_window_skew_ms (MrMergeWindow * w);

G_END_DECLS

#endif /* __MR_MERGE_WINDOW_H__ */
