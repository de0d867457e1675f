/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The window is a ring of MR_MERGE_CAPACITY slots indexed by extended
 * sequence number.  Slots from next_out to highest are the future: a packet
 * held (PENDING) or a hole (MISSING, with the time it became due).  Slots
 * below next_out are the recent past (OUT or LOST, with the time), which
 * tells a duplicate or a late packet from another stream's.
 *
 * A hole is due when the first packet after it arrives; it is declared lost
 * a window later.  Due times never decrease along the ring, so the head's
 * due time is the only deadline there is.
 *
 * The stream is identified by its SSRC and where its sequence numbers are.
 * A packet that fits neither is foreign: another stream on a misconfigured
 * leg, or the sender restarted.  The window follows a restart when every
 * leg still delivering has moved to the same new stream (no time lost when
 * both legs restart), or when the merged stream has been silent for a leg
 * timeout while another arrives.
 *
 * A packet that went out from one leg counts as unique (a gap this leg
 * filled) only once no other leg's copy can come any more: the late path
 * recognises a copy up to window + leg timeout after the first one arrived.
 * settled walks behind next_out, deciding each seqnum when that time has
 * passed, or at once when it is already decided: lost, or had two legs.  A
 * later seqnum that takes the slot, a flush and a restart decide what still
 * waits, so nothing is ever taken back and every count is made once. */

#include "merge-window.h"

#include <string.h>

#define MASK (MR_MERGE_CAPACITY - 1)
/* RFC 3550 A.1's MAX_DROPOUT: the largest jump ahead always believed */
#define MIN_AHEAD 3000
#define MAX_AHEAD (MR_MERGE_CAPACITY / 2)
/* the first extended seqnum, so that the past never goes below zero */
#define EXT_BASE (G_GUINT64_CONSTANT (1) << 20)
#define MS (G_GUINT64_CONSTANT (1000000))

/* every leg present, lowest first */
#define FOREACH_LEG(w, i) \
  for (guint32 _m = (w)->present, i; _m && ((i = __builtin_ctz (_m)), 1); \
      _m &= _m - 1)

typedef enum
{
  SLOT_EMPTY = 0,
  SLOT_MISSING,
  SLOT_PENDING,
  SLOT_OUT,
  SLOT_LOST,
} SlotState;

struct _MrMergeSlot
{
  guint64 ext;                  /* which seqnum the slot holds now */
  guint64 time;                 /* MISSING: due; PENDING, OUT: first arrival;
                                 * LOST: when given up */
  gpointer packet;              /* PENDING only */
  guint32 legs;                 /* every leg that delivered it */
  guint8 state;
  guint8 leg;                   /* the leg whose copy was kept */
};

static inline guint64
elapsed (guint64 now, guint64 then)
{
  return now > then ? now - then : 0;
}

/* at most one leg: the late path may still add another */
static inline gboolean
one_leg (guint32 legs)
{
  return (legs & (legs - 1)) == 0;
}

static inline MrMergeSlot *
slot_of (MrMergeWindow * w, guint64 ext)
{
  return &w->slots[ext & MASK];
}

static void
post (MrMergeWindow * w, guint leg, MrMergeLegEvent event)
{
  if (w->event)
    w->event (leg, event, w->user_data);
}

void
mr_merge_window_init (MrMergeWindow * w, guint64 window, guint64 leg_timeout,
    MrMergeEmitFunc emit, MrMergeEventFunc event, GDestroyNotify free_packet,
    gpointer user_data)
{
  memset (w, 0, sizeof (*w));
  w->window = window;
  w->leg_timeout = leg_timeout;
  w->emit = emit;
  w->event = event;
  w->free_packet = free_packet;
  w->user_data = user_data;
  w->slots = g_new0 (MrMergeSlot, MR_MERGE_CAPACITY);
  /* until the rate is known, as far ahead as the ring allows */
  w->max_ahead = MAX_AHEAD;
  w->rate_since = MR_MERGE_TIME_NONE;
  w->leg_check = MR_MERGE_TIME_NONE;
}

static void
drop_held (MrMergeWindow * w)
{
  if (!w->started)
    return;
  for (guint64 e = w->next_out; e <= w->highest; e++) {
    MrMergeSlot *s = slot_of (w, e);
    if (s->state == SLOT_PENDING && s->ext == e) {
      if (w->free_packet)
        w->free_packet (s->packet);
      s->packet = NULL;
      s->state = SLOT_EMPTY;
    }
  }
  w->pending = 0;
}

void
mr_merge_window_clear (MrMergeWindow * w)
{
  if (w->slots)
    drop_held (w);
  g_clear_pointer (&w->slots, g_free);
}

void
mr_merge_window_add_leg (MrMergeWindow * w, guint leg)
{
  g_return_if_fail (leg < MR_MERGE_MAX_LEGS);
  memset (&w->legs[leg], 0, sizeof (MrMergeLeg));
  w->legs[leg].present = TRUE;
  w->legs[leg].foreign_since = MR_MERGE_TIME_NONE;
  /* what its previous self sent out is not counted to it */
  w->legs[leg].counts_from = w->next_out;
  w->present |= 1u << leg;
}

void
mr_merge_window_remove_leg (MrMergeWindow * w, guint leg)
{
  g_return_if_fail (leg < MR_MERGE_MAX_LEGS);
  w->legs[leg].present = FALSE;
  w->present &= ~(1u << leg);
}

void
mr_merge_window_set_leg_timeout (MrMergeWindow * w, guint64 leg_timeout)
{
  w->leg_timeout = leg_timeout;
  w->leg_check = MR_MERGE_TIME_NONE;
  FOREACH_LEG (w, i) {
    MrMergeLeg *l = &w->legs[i];
    if (l->seen && !l->silent)
      w->leg_check = MIN (w->leg_check, l->last_arrival + leg_timeout);
  }
}

static void
emit_slot (MrMergeWindow * w, MrMergeSlot * s)
{
  MrMergeLeg *l = &w->legs[s->leg];
  gpointer packet = s->packet;
  guint flags = w->discont ? MR_MERGE_EMIT_DISCONT : 0;

  s->packet = NULL;
  s->state = SLOT_OUT;
  w->pending--;
  w->discont = FALSE;
  w->output++;
  w->rate_count++;
  l->used++;
  /* unique or not is decided by settle(): another leg's copy may still come */
  w->emit (packet, s->ext, s->leg, flags, w->user_data);
}

static void
lose_slot (MrMergeWindow * w, MrMergeSlot * s, guint64 now)
{
  s->state = SLOT_LOST;
  s->time = now;
  s->legs = 0;
  w->lost++;
  w->rate_count++;
  w->discont = TRUE;
}

/* Decides the unique counts from settled up: a seqnum that went out from
 * one leg waits until no other copy can come (the late path's bound), but
 * those below @force are decided as they are (their slots are taken next,
 * or the stream ends). */
static void
settle (MrMergeWindow * w, guint64 now, guint64 force)
{
  while (w->settled < w->next_out) {
    MrMergeSlot *s = slot_of (w, w->settled);
    gboolean out = s->ext == w->settled && s->state == SLOT_OUT;

    if (out && one_leg (s->legs)) {
      MrMergeLeg *l = &w->legs[s->leg];

      if (w->settled >= force
          && elapsed (now, s->time) <= w->window + w->leg_timeout)
        break;
      if (w->settled >= l->counts_from)
        l->unique++;
    }
    w->settled++;
  }
}

/* Emits the head while it is there, gives up holes whose window ran out */
static void
release (MrMergeWindow * w, guint64 now)
{
  while (w->started && w->next_out <= w->highest) {
    MrMergeSlot *s = slot_of (w, w->next_out);

    if (s->ext == w->next_out && s->state == SLOT_PENDING)
      emit_slot (w, s);
    else if (s->ext == w->next_out && s->state == SLOT_MISSING
        && elapsed (now, s->time) < w->window)
      break;
    else
      lose_slot (w, s, now);
    w->next_out++;
  }
  settle (w, now, 0);
}

/* Everything held goes out in order, the holes are lost */
void
mr_merge_window_flush (MrMergeWindow * w)
{
  while (w->started && w->next_out <= w->highest) {
    MrMergeSlot *s = slot_of (w, w->next_out);

    if (s->ext == w->next_out && s->state == SLOT_PENDING)
      emit_slot (w, s);
    else
      lose_slot (w, s, s->time);
    w->next_out++;
  }
  settle (w, 0, MR_MERGE_TIME_NONE);
}

static void
update_rate (MrMergeWindow * w, guint64 now)
{
  guint64 span;

  if (w->rate_since == MR_MERGE_TIME_NONE) {
    w->rate_since = now;
    w->rate_count = 0;
    return;
  }
  span = elapsed (now, w->rate_since);
  if (span < 1000 * MS)
    return;
  /* four windows' worth of packets at the measured rate may be held */
  w->max_ahead = CLAMP (4 * w->rate_count * MAX (w->window, 10 * MS) / span,
      MIN_AHEAD, MAX_AHEAD);
  w->rate_since = now;
  w->rate_count = 0;
}

/* Legs silent for leg_timeout are reported; leg_check becomes the next
 * time one can be.  Data only moves deadlines later, so between two checks
 * leg_check stays a safe lower bound and the loop runs rarely. */
static void
check_legs (MrMergeWindow * w, guint64 now)
{
  guint64 next = MR_MERGE_TIME_NONE;

  FOREACH_LEG (w, i) {
    MrMergeLeg *l = &w->legs[i];

    if (!l->seen || l->silent)
      continue;
    if (elapsed (now, l->last_arrival) >= w->leg_timeout) {
      l->silent = TRUE;
      post (w, i, MR_MERGE_LEG_SILENT);
    } else {
      next = MIN (next, l->last_arrival + w->leg_timeout);
    }
  }
  w->leg_check = next;
}

void
mr_merge_window_advance (MrMergeWindow * w, guint64 now)
{
  release (w, now);
  if (now >= w->leg_check)
    check_legs (w, now);
  update_rate (w, now);
}

guint64
mr_merge_window_next_deadline (MrMergeWindow * w)
{
  guint64 deadline = MR_MERGE_TIME_NONE;

  if (w->started && w->next_out <= w->highest) {
    MrMergeSlot *s = slot_of (w, w->next_out);
    if (s->state == SLOT_MISSING)
      deadline = s->time + w->window;
  }
  if (w->started && w->settled < w->next_out) {
    /* settle() stopped at a packet waiting for a late copy, or one a late
     * copy has since decided: either way, done by then */
    guint64 ready = slot_of (w, w->settled)->time + w->window
        + w->leg_timeout + 1;
    ready = (ready + MR_MERGE_SETTLE_STEP - 1) / MR_MERGE_SETTLE_STEP
        * MR_MERGE_SETTLE_STEP;
    deadline = MIN (deadline, ready);
  }
  return MIN (deadline, w->leg_check);
}

void
mr_merge_window_set_window (MrMergeWindow * w, guint64 window, guint64 now)
{
  w->window = window;
  release (w, now);
}

/* Starts the merged stream at @seq, after what was emitted before */
static void
restart (MrMergeWindow * w, guint32 ssrc, guint16 seq, guint64 now)
{
  guint64 ext = EXT_BASE + seq;

  if (w->started) {
    mr_merge_window_flush (w);
    ext = (w->highest & ~G_GUINT64_CONSTANT (0xffff)) + 0x10000 + seq;
    memset (w->slots, 0, sizeof (MrMergeSlot) * MR_MERGE_CAPACITY);
    w->restarts++;
    w->discont = TRUE;
  }
  w->started = TRUE;
  w->ssrc = ssrc;
  w->next_out = ext;
  w->settled = ext;
  w->highest = ext - 1;
  w->last_current = now;
  w->pending = 0;
}

static void
sample_lag (MrMergeLeg * l, guint64 lag)
{
  l->lag_ms += ((gdouble) lag / MS - l->lag_ms) / 16.0;
}

/* Everything that still delivers has moved to the stream of @ssrc, @seq */
static gboolean
all_moved (MrMergeWindow * w, guint32 ssrc, guint16 seq)
{
  FOREACH_LEG (w, i) {
    MrMergeLeg *l = &w->legs[i];
    gint distance;

    if (!l->seen || l->silent)
      continue;
    distance = ABS ((gint16) (guint16) (l->last_seq - seq));
    if (!l->last_was_foreign || l->last_ssrc != ssrc || distance > MIN_AHEAD)
      return FALSE;
  }
  return TRUE;
}

static void
matched (MrMergeWindow * w, guint leg, guint64 now)
{
  MrMergeLeg *l = &w->legs[leg];

  w->last_current = now;
  l->last_was_foreign = FALSE;
  l->foreign_since = MR_MERGE_TIME_NONE;
  if (l->foreign_reported) {
    l->foreign_reported = FALSE;
    post (w, leg, MR_MERGE_LEG_MATCHED);
  }
}

static MrMergeVerdict
accept (MrMergeWindow * w, guint leg, guint64 ext, guint64 now,
    gpointer packet)
{
  MrMergeSlot *s = slot_of (w, ext);

  if (ext > w->highest) {
    /* the seqnums whose slots are taken now cannot get a late copy */
    settle (w, now, ext - MR_MERGE_CAPACITY + 1);
    /* the seqnums skipped over are due from now on */
    for (guint64 e = w->highest + 1; e < ext; e++) {
      MrMergeSlot *m = slot_of (w, e);
      m->ext = e;
      m->state = SLOT_MISSING;
      m->time = now;
      m->legs = 0;
      m->packet = NULL;
    }
    w->highest = ext;
  }
  s->ext = ext;
  s->state = SLOT_PENDING;
  s->time = now;
  s->packet = packet;
  s->legs = 1u << leg;
  s->leg = leg;
  w->pending++;
  sample_lag (&w->legs[leg], 0);
  matched (w, leg, now);
  release (w, now);
  return MR_MERGE_ACCEPTED;
}

static MrMergeVerdict
foreign (MrMergeWindow * w, guint leg, guint32 ssrc, guint16 seq,
    guint64 now, gpointer packet)
{
  MrMergeLeg *l = &w->legs[leg];

  l->last_was_foreign = TRUE;
  if (all_moved (w, ssrc, seq)
      || elapsed (now, w->last_current) >= w->leg_timeout) {
    restart (w, ssrc, seq, now);
    post (w, leg, MR_MERGE_STREAM_RESTARTED);
    return accept (w, leg, w->next_out, now, packet);
  }
  l->foreign++;
  if (l->foreign_since == MR_MERGE_TIME_NONE)
    l->foreign_since = now;
  if (!l->foreign_reported
      && elapsed (now, l->foreign_since) >= w->leg_timeout) {
    l->foreign_reported = TRUE;
    post (w, leg, MR_MERGE_LEG_FOREIGN);
  }
  return MR_MERGE_FOREIGN;
}

MrMergeVerdict
mr_merge_window_push (MrMergeWindow * w, guint leg, guint32 ssrc,
    guint16 seq, guint64 now, gpointer packet)
{
  MrMergeLeg *l;
  MrMergeSlot *s;
  gint delta;
  guint64 ext;

  g_return_val_if_fail (leg < MR_MERGE_MAX_LEGS, MR_MERGE_FOREIGN);

  mr_merge_window_advance (w, now);
  l = &w->legs[leg];
  if (!l->present)
    mr_merge_window_add_leg (w, leg);
  l->received++;
  if (l->silent || !l->seen) {
    post (w, leg, l->silent ? MR_MERGE_LEG_RETURNED : MR_MERGE_LEG_ACTIVE);
    l->silent = FALSE;
    w->leg_check = MIN (w->leg_check, now + w->leg_timeout);
  }
  l->seen = TRUE;
  l->last_arrival = now;
  l->last_ssrc = ssrc;
  l->last_seq = seq;

  if (!w->started) {
    restart (w, ssrc, seq, now);
    return accept (w, leg, w->next_out, now, packet);
  }
  if (ssrc != w->ssrc)
    return foreign (w, leg, ssrc, seq, now, packet);

  delta = (gint16) (guint16) (seq - (guint16) w->next_out);
  ext = w->next_out + delta;
  s = slot_of (w, ext);

  if (delta >= 0 && (guint64) delta < w->max_ahead) {
    if (s->ext != ext || s->state != SLOT_PENDING)
      return accept (w, leg, ext, now, packet);
    /* another copy of a packet held for a gap */
    if (!(s->legs & (1u << leg)))
      sample_lag (l, elapsed (now, s->time));
    s->legs |= 1u << leg;
    l->duplicates++;
    matched (w, leg, now);
    return MR_MERGE_DUPLICATE;
  }

  if (delta < 0 && s->ext == ext
      && elapsed (now, s->time) <= w->window + w->leg_timeout) {
    if (s->state == SLOT_OUT) {
      guint32 bit = 1u << leg;
      if (!(s->legs & bit)) {
        /* not unique: settle() has not counted it, unless it had to */
        s->legs |= bit;
        sample_lag (l, elapsed (now, s->time));
      }
      l->duplicates++;
      matched (w, leg, now);
      return MR_MERGE_DUPLICATE;
    }
    if (s->state == SLOT_LOST) {
      l->late++;
      matched (w, leg, now);
      return MR_MERGE_LATE;
    }
  }
  return foreign (w, leg, ssrc, seq, now, packet);
}

guint
mr_merge_window_active_legs (MrMergeWindow * w)
{
  guint n = 0;

  FOREACH_LEG (w, i) {
    MrMergeLeg *l = &w->legs[i];
    if (l->seen && !l->silent && !l->foreign_reported)
      n++;
  }
  return n;
}

gdouble
mr_merge_window_skew_ms (MrMergeWindow * w)
{
  gdouble lo = G_MAXDOUBLE, hi = 0;
  guint n = 0;

  FOREACH_LEG (w, i) {
    MrMergeLeg *l = &w->legs[i];
    if (!l->seen || l->silent || l->foreign_reported)
      continue;
    lo = MIN (lo, l->lag_ms);
    hi = MAX (hi, l->lag_ms);
    n++;
  }
  return n > 1 ? hi - lo : 0;
}
