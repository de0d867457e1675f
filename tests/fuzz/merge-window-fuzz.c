/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A libFuzzer target for the ST 2022-7 merge window (plugins/merge-window.c).
 * The input is a script of pushes on up to four legs, clock steps, window
 * and leg timeout changes, flushes and legs going away; the driver keeps the
 * deadline contract (advance() at every deadline before the clock passes
 * it) and aborts when the output breaks an invariant:
 *
 *  - every emitted packet's extended seqnum is above the one before (so
 *    nothing goes out twice), its low 16 bits are the packet's seqnum, it is
 *    of the merged stream's SSRC, it says which leg it came from, and it
 *    carries DISCONT exactly when seqnums were skipped or the stream
 *    restarted;
 *  - a packet is emitted only if its push was ACCEPTED, and every accepted
 *    packet is emitted exactly once by the final flush; a packet not
 *    accepted is the caller's and free_packet is called only by clear(),
 *    only for packets still held;
 *  - nothing is held past the window: a packet accepted at t goes out by
 *    t + the largest window in effect since (flush excepted);
 *  - and a gap is not given up early: a seqnum skipped in the output was
 *    due (the first packet above it arrived) at least the smallest window
 *    in effect since before the packet after it went out (flush and
 *    restarts excepted; checked at the end, when every ext is known);
 *  - w->pending is what is held, the counters add up (output, used,
 *    received, duplicates, late, foreign, restarts, lost);
 *  - a leg's unique never decreases and stays within its used; it is
 *    decided by window + leg timeout (and a MR_MERGE_SETTLE_STEP) after the
 *    packet arrived; after the final flush the sum of unique is at least the
 *    packets no other leg ever delivered and at most those no other leg had
 *    delivered when they went out (a DUPLICATE verdict tells which);
 *  - a leg is reported active on its first packet, silent when (not
 *    before, and by the deadline after) it sent nothing for leg-timeout,
 *    returned on data after that; active_legs() agrees with the events;
 *  - next_deadline() is never in the past and advance() at a deadline moves
 *    it on.
 *
 * Input: a 4-byte header, then 4-byte records (described above
 * LLVMFuzzerTestOneInput).  MERGE_FUZZ_TRACE=1 prints every call.  Packets
 * are small heap blocks, so ASan or valgrind see a packet used after it was
 * given back, freed twice or leaked. */

#include "merge-window.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define MS G_GUINT64_CONSTANT (1000000)
#define US G_GUINT64_CONSTANT (1000)
#define MAX_LEGS 4
#define HEADER 4
#define RECORD 4

#define CHECK(cond, ...) G_STMT_START {                                 \
    if (G_UNLIKELY (!(cond))) {                                          \
      fprintf (stderr, "merge-window-fuzz: invariant broken: " __VA_ARGS__); \
      fprintf (stderr, "\n  (%s, line %d)\n", #cond, __LINE__);          \
      abort ();                                                          \
    }                                                                    \
  } G_STMT_END

static const guint32 ssrcs[] = { 0x11223344, 0x55667788, 0x99aabbcc };

typedef struct
{
  guint id;
  guint leg;
  guint16 seq;
  guint32 ssrc;
  guint64 accept_time;
} Packet;

typedef enum
{
  P_IN_PUSH,                    /* handed to push(), no verdict yet */
  P_EMITTED_IN_PUSH,            /* emitted before its push() returned */
  P_HELD,                       /* accepted, not out yet */
  P_EMITTED,
  P_REJECTED,                   /* verdict other than ACCEPTED */
  P_FREED,                      /* by free_packet, from clear() */
} PacketState;

static const char *verdict_names[] = { "accepted", "duplicate", "late",
  "foreign"
};

static const char *state_names[] = { "in push", "emitted in push", "held",
  "emitted", "rejected", "freed"
};

typedef struct
{
  guint64 time;                 /* of the push */
  guint window;                 /* index in Ctx.windows when pushed */
  guint8 state;
} Record;

typedef struct
{
  guint64 since;
  guint64 window;
} Window;

typedef struct
{
  guint64 ext;
  guint64 time;                 /* emitted */
  guint64 accepted;
  guint epoch;                  /* restarts before */
  gboolean exempt;              /* in a flush or a restart */
  guint leg;
  guint incarnation;            /* of its leg when it went out */
  gboolean other_before;        /* another leg's copy came while it was held */
  gboolean other_ever;          /* ... or after it went out */
} Emission;

typedef struct
{
  guint id;                     /* the window's leg number */
  guint32 ssrc;
  guint16 seq;                  /* of the last push */
} DriverLeg;

typedef struct
{
  MrMergeWindow w;
  guint n_legs;
  DriverLeg legs[MAX_LEGS];
  guint64 leg_timeout;
  /* every leg number, as the window should see it */
  gboolean present[MR_MERGE_MAX_LEGS];
  gboolean seen[MR_MERGE_MAX_LEGS];
  gboolean silent[MR_MERGE_MAX_LEGS];
  gboolean foreign[MR_MERGE_MAX_LEGS];  /* reported foreign */
  guint64 last_push[MR_MERGE_MAX_LEGS];

  GArray *records;              /* Record, by packet id */
  GArray *windows;              /* Window: every window set, in order */
  GArray *emissions;            /* Emission */

  /* the call in progress */
  guint64 now;
  gboolean in_flush;
  gboolean in_clear;
  guint call_start;             /* first emission of the call */

  /* the output so far */
  gboolean have_prev;
  guint64 prev_ext;
  guint32 prev_ssrc;
  gboolean restarted;           /* STREAM_RESTARTED since the last emission */
  guint epoch;
  guint64 lost;                 /* seqnums skipped in the output */

  guint64 held;
  guint64 emitted;
  guint64 freed;
  guint64 pushes;
  guint64 verdicts[MR_MERGE_FOREIGN + 1];
  guint64 restart_events;

  /* a leg's counters from before add_leg() zeroed them */
  guint64 base_received, base_used, base_duplicates, base_late, base_foreign;
  guint64 base_unique;
  guint64 last_unique[MR_MERGE_MAX_LEGS];
  guint incarnation[MR_MERGE_MAX_LEGS]; /* add_leg() after remove_leg() */
  GHashTable *held_copies;      /* ext of a held packet: legs with a copy */
} Ctx;

/* free_packet has no user data */
static Ctx *current;
/* MERGE_FUZZ_TRACE set: every call and emission on stderr */
static gboolean trace;

#define TRACE(...) G_STMT_START {                                       \
    if (trace)                                                           \
      fprintf (stderr, __VA_ARGS__);                                     \
  } G_STMT_END

static Record *
record_of (Ctx * c, guint id)
{
  CHECK (id < c->records->len, "unknown packet id %u", id);
  return &g_array_index (c->records, Record, id);
}

static guint64
largest_window_since (Ctx * c, guint index)
{
  guint64 max = 0;

  for (guint i = index; i < c->windows->len; i++)
    max = MAX (max, g_array_index (c->windows, Window, i).window);
  return max;
}

/* of the windows in effect at some time from @from to @to */
static guint64
smallest_window (Ctx * c, guint64 from, guint64 to)
{
  guint64 min = G_MAXUINT64;

  for (guint i = 0; i < c->windows->len; i++) {
    Window *win = &g_array_index (c->windows, Window, i);
    gboolean next_later = i + 1 == c->windows->len
        || g_array_index (c->windows, Window, i + 1).since >= from;
    if (win->since <= to && next_later)
      min = MIN (min, win->window);
  }
  return min;
}

/* Before a call into the window */
static void
begin_call (Ctx * c)
{
  c->call_start = c->emissions->len;
}

static void
on_emit (gpointer packet, guint64 ext, guint leg, guint flags, gpointer data)
{
  Ctx *c = data;
  Packet *p = packet;
  Record *r;
  gboolean discont, expect_discont;

  CHECK (p != NULL, "NULL packet emitted");
  CHECK (!c->in_clear, "clear() emitted a packet");
  r = record_of (c, p->id);
  CHECK (r->state == P_IN_PUSH || r->state == P_HELD,
      "packet %u (seq %u) emitted while %s", p->id, p->seq,
      state_names[r->state]);

  /* order, and the extended seqnum of the packet */
  if (c->have_prev)
    CHECK (ext > c->prev_ext, "output not strictly increasing: ext %"
        G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT " (packet %u, seq %u)",
        ext, c->prev_ext, p->id, p->seq);
  CHECK ((ext & 0xffff) == p->seq, "ext %" G_GUINT64_FORMAT " (%u mod 2^16) "
      "emitted for seq %u", ext, (guint) (ext & 0xffff), p->seq);
  CHECK (p->ssrc == c->w.ssrc, "packet of SSRC %08x emitted while the merged "
      "stream is %08x", p->ssrc, c->w.ssrc);
  CHECK (leg == p->leg, "packet pushed on leg %u emitted as from leg %u",
      p->leg, leg);
  CHECK (!c->have_prev || p->ssrc == c->prev_ssrc || c->restarted,
      "SSRC %08x follows %08x without a restart", p->ssrc, c->prev_ssrc);

  /* DISCONT exactly after a loss or a restart */
  CHECK ((flags & ~MR_MERGE_EMIT_DISCONT) == 0, "unknown flags %x", flags);
  discont = (flags & MR_MERGE_EMIT_DISCONT) != 0;
  expect_discont = c->have_prev && (c->restarted || ext != c->prev_ext + 1);
  CHECK (discont == expect_discont, "DISCONT is %d on ext %" G_GUINT64_FORMAT
      " after ext %" G_GUINT64_FORMAT " (restart %d)", discont, ext,
      c->prev_ext, c->restarted);
  if (c->have_prev && !c->restarted)
    c->lost += ext - c->prev_ext - 1;

  /* nothing held past the window; flush is the end of the stream */
  if (!c->in_flush) {
    guint64 window = largest_window_since (c, r->window);
    CHECK (c->now <= r->time + window, "packet %u (seq %u) accepted at %"
        G_GUINT64_FORMAT " ns emitted at %" G_GUINT64_FORMAT " ns, %"
        G_GUINT64_FORMAT " ns after, window %" G_GUINT64_FORMAT " ns",
        p->id, p->seq, r->time, c->now, c->now - r->time, window);
  }

  TRACE ("  emit packet %u leg %u seq %u ssrc %08x ext %" G_GUINT64_FORMAT
      "%s at %" G_GUINT64_FORMAT "\n", p->id, leg, p->seq, p->ssrc, ext,
      discont ? " DISCONT" : "", c->now);
  {
    guint64 key = ext;
    guint32 copies = GPOINTER_TO_UINT (g_hash_table_lookup (c->held_copies,
            &key));
    Emission e = { ext, c->now, r->time, c->epoch, c->in_flush, leg,
      c->incarnation[leg], (copies & ~(1u << leg)) != 0, FALSE
    };
    e.other_ever = e.other_before;
    g_hash_table_remove (c->held_copies, &key);
    g_array_append_val (c->emissions, e);
  }
  c->have_prev = TRUE;
  c->prev_ext = ext;
  c->prev_ssrc = p->ssrc;
  c->restarted = FALSE;
  c->emitted++;
  if (r->state == P_IN_PUSH) {
    /* its push has not returned: freed there once the verdict is known */
    r->state = P_EMITTED_IN_PUSH;
  } else {
    r->state = P_EMITTED;
    c->held--;
    g_free (p);
  }
}

static void
on_event (guint leg, MrMergeLegEvent event, gpointer data)
{
  Ctx *c = data;

  CHECK (leg < MR_MERGE_MAX_LEGS, "event %d for leg %u", event, leg);
  TRACE ("  event %d leg %u\n", event, leg);
  switch (event) {
    case MR_MERGE_LEG_ACTIVE:
      CHECK (!c->seen[leg], "leg %u reported active twice", leg);
      break;
    case MR_MERGE_LEG_SILENT:
      CHECK (c->seen[leg] && !c->silent[leg], "leg %u reported silent "
          "(seen %d, silent %d)", leg, c->seen[leg], c->silent[leg]);
      CHECK (c->now >= c->last_push[leg] + c->leg_timeout, "leg %u reported "
          "silent at %" G_GUINT64_FORMAT ", its last packet at %"
          G_GUINT64_FORMAT ", leg timeout %" G_GUINT64_FORMAT, leg, c->now,
          c->last_push[leg], c->leg_timeout);
      c->silent[leg] = TRUE;
      break;
    case MR_MERGE_LEG_RETURNED:
      CHECK (c->silent[leg], "leg %u returned without being silent", leg);
      c->silent[leg] = FALSE;
      break;
    case MR_MERGE_LEG_FOREIGN:
      CHECK (!c->foreign[leg], "leg %u reported foreign twice", leg);
      c->foreign[leg] = TRUE;
      break;
    case MR_MERGE_LEG_MATCHED:
      CHECK (c->foreign[leg], "leg %u matched without being foreign", leg);
      c->foreign[leg] = FALSE;
      break;
    case MR_MERGE_STREAM_RESTARTED:
      c->restart_events++;
      c->restarted = TRUE;
      c->epoch++;
      /* the old stream was flushed in this call */
      for (guint i = c->call_start; i < c->emissions->len; i++)
        g_array_index (c->emissions, Emission, i).exempt = TRUE;
      break;
    default:
      break;
  }
}

static void
on_free (gpointer packet)
{
  Ctx *c = current;
  Packet *p = packet;
  Record *r;

  CHECK (p != NULL, "free_packet (NULL)");
  CHECK (c->in_clear, "free_packet outside clear() for packet %u (seq %u)",
      p->id, p->seq);
  r = record_of (c, p->id);
  CHECK (r->state == P_HELD, "free_packet for packet %u (seq %u) while %s",
      p->id, p->seq, state_names[r->state]);
  TRACE ("  free_packet packet %u\n", p->id);
  r->state = P_FREED;
  c->held--;
  c->freed++;
  g_free (p);
}

/* add_leg() zeroes a leg's counters: keep them */
static void
bank_leg (Ctx * c, guint id)
{
  MrMergeLeg *l = &c->w.legs[id];

  c->base_received += l->received;
  c->base_used += l->used;
  c->base_duplicates += l->duplicates;
  c->base_late += l->late;
  c->base_foreign += l->foreign;
  c->base_unique += l->unique;
  c->last_unique[id] = 0;
  c->incarnation[id]++;
  c->present[id] = TRUE;
  c->seen[id] = FALSE;
  c->silent[id] = FALSE;
  c->foreign[id] = FALSE;
}

static Emission *
find_emission (Ctx * c, guint64 ext)
{
  guint lo = 0, hi = c->emissions->len;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    Emission *e = &g_array_index (c->emissions, Emission, mid);
    if (e->ext == ext)
      return e;
    if (e->ext < ext)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static void
check_state (Ctx * c)
{
  MrMergeWindow *w = &c->w;
  guint64 received = c->base_received, used = c->base_used;
  guint64 duplicates = c->base_duplicates, late = c->base_late;
  guint64 foreign = c->base_foreign;
  guint active = 0;
  gdouble skew;

  CHECK (w->pending == c->held, "pending is %u, %" G_GUINT64_FORMAT
      " packets are held", w->pending, c->held);
  CHECK (w->output == c->emitted, "output is %" G_GUINT64_FORMAT ", %"
      G_GUINT64_FORMAT " packets were emitted", w->output, c->emitted);
  for (guint i = 0; i < MR_MERGE_MAX_LEGS; i++) {
    received += w->legs[i].received;
    used += w->legs[i].used;
    duplicates += w->legs[i].duplicates;
    late += w->legs[i].late;
    foreign += w->legs[i].foreign;
  }
  CHECK (used == c->emitted, "legs' used add up to %" G_GUINT64_FORMAT
      ", %" G_GUINT64_FORMAT " packets were emitted", used, c->emitted);
  CHECK (received == c->pushes, "legs' received add up to %"
      G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " pushes", received, c->pushes);
  CHECK (duplicates == c->verdicts[MR_MERGE_DUPLICATE], "legs' duplicates "
      "add up to %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " verdicts",
      duplicates, c->verdicts[MR_MERGE_DUPLICATE]);
  CHECK (late == c->verdicts[MR_MERGE_LATE], "legs' late add up to %"
      G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " verdicts", late,
      c->verdicts[MR_MERGE_LATE]);
  CHECK (foreign == c->verdicts[MR_MERGE_FOREIGN], "legs' foreign add up "
      "to %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " verdicts", foreign,
      c->verdicts[MR_MERGE_FOREIGN]);
  CHECK (w->restarts == c->restart_events, "restarts is %" G_GUINT64_FORMAT
      ", %" G_GUINT64_FORMAT " events", w->restarts, c->restart_events);
  /* a seqnum is counted lost before the packet after it goes out */
  CHECK (w->lost >= c->lost, "lost is %" G_GUINT64_FORMAT ", the output "
      "skipped %" G_GUINT64_FORMAT, w->lost, c->lost);

  /* the deadline contract was kept, so every silence is reported */
  for (guint i = 0; i < MR_MERGE_MAX_LEGS; i++) {
    CHECK (!c->present[i] || !c->seen[i] || c->silent[i]
        || c->now < c->last_push[i] + c->leg_timeout, "leg %u silent since %"
        G_GUINT64_FORMAT " not reported at %" G_GUINT64_FORMAT ", leg "
        "timeout %" G_GUINT64_FORMAT, i, c->last_push[i], c->now,
        c->leg_timeout);
    if (c->present[i] && c->seen[i] && !c->silent[i] && !c->foreign[i])
      active++;
  }
  CHECK (mr_merge_window_active_legs (w) == active, "%u active legs, the "
      "events say %u", mr_merge_window_active_legs (w), active);

  /* unique: a counter, decided in time */
  for (guint i = 0; i < MR_MERGE_MAX_LEGS; i++) {
    MrMergeLeg *l = &w->legs[i];
    CHECK (l->unique >= c->last_unique[i], "leg %u: unique went down from %"
        G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, i, c->last_unique[i],
        l->unique);
    CHECK (l->unique <= l->used, "leg %u: unique %" G_GUINT64_FORMAT " > "
        "used %" G_GUINT64_FORMAT, i, l->unique, l->used);
    c->last_unique[i] = l->unique;
  }
  if (w->started && w->settled < w->next_out) {
    Emission *e = find_emission (c, w->settled);
    CHECK (w->settled >= w->next_out - MR_MERGE_CAPACITY, "ext %"
        G_GUINT64_FORMAT " undecided, its slot taken by %" G_GUINT64_FORMAT,
        w->settled, w->next_out);
    CHECK (!e || c->now < e->accepted + w->window + w->leg_timeout
        + MR_MERGE_SETTLE_STEP, "ext %" G_GUINT64_FORMAT " (arrived at %"
        G_GUINT64_FORMAT ") undecided at %" G_GUINT64_FORMAT, e->ext,
        e->accepted, c->now);
  }
  skew = mr_merge_window_skew_ms (w);
  CHECK (skew >= 0 && skew <= G_MAXDOUBLE, "skew %f ms", skew);
}

/* The deadline contract: advance() at every deadline up to @t */
static void
advance_to (Ctx * c, guint64 t)
{
  for (;;) {
    guint64 d = mr_merge_window_next_deadline (&c->w), next;

    if (d == MR_MERGE_TIME_NONE || d > t)
      break;
    CHECK (d >= c->now, "next deadline %" G_GUINT64_FORMAT " ns is before "
        "now, %" G_GUINT64_FORMAT " ns", d, c->now);
    c->now = d;
    TRACE ("advance %" G_GUINT64_FORMAT "\n", d);
    begin_call (c);
    mr_merge_window_advance (&c->w, d);
    check_state (c);
    next = mr_merge_window_next_deadline (&c->w);
    CHECK (next == MR_MERGE_TIME_NONE || next > d, "advance (%"
        G_GUINT64_FORMAT ") leaves the deadline at %" G_GUINT64_FORMAT, d,
        next);
  }
  c->now = MAX (c->now, t);
}

static guint64
time_step (guint8 b)
{
  if (b < 120)
    return b * 50 * US;         /* 0 .. 5.95 ms */
  if (b < 128)
    return (b - 119) * MS - 1;  /* just short of 1 .. 8 ms: the boundaries */
  if (b < 240)
    return (b - 128) * MS;      /* 0 .. 111 ms */
  return (b - 240) * 250 * MS;  /* 0 .. 3.75 s */
}

/* The seqnum (and SSRC) of a push on @dl */
static void
next_seq (Ctx * c, DriverLeg * dl, guint8 b, guint8 arg)
{
  if (b < 128) {
    dl->seq++;
  } else if (b < 192) {
    /* -4 .. +11: reordering, repeats, small gaps */
    dl->seq += (gint) (b & 15) - 4;
  } else if (b < 224) {
    /* a recent seqnum of another leg, with its SSRC: the slower leg's copy */
    DriverLeg *other = &c->legs[arg % c->n_legs];
    dl->ssrc = other->ssrc;
    dl->seq = other->seq - (b & 7);
  } else if (b < 236) {
    dl->seq += arg * 16;        /* forward up to 4080 */
  } else if (b < 248) {
    dl->seq += (guint16) (arg << 8 | b);        /* anywhere */
  } else if (arg & 0x80) {
    dl->ssrc = ssrcs[arg % G_N_ELEMENTS (ssrcs)];
    dl->seq = (guint16) (arg * 257 + b);
  } else {
    dl->ssrc = ssrcs[arg % G_N_ELEMENTS (ssrcs)];
    dl->seq++;
  }
}

static void
do_push (Ctx * c, DriverLeg * dl)
{
  Packet *p = g_new (Packet, 1);
  Record rec = { c->now, c->windows->len - 1, P_IN_PUSH };
  Record *r;
  MrMergeVerdict v;

  p->id = c->records->len;
  p->leg = dl->id;
  p->seq = dl->seq;
  p->ssrc = dl->ssrc;
  p->accept_time = c->now;
  g_array_append_val (c->records, rec);

  /* push() adds a leg it does not know, zeroing its counters */
  CHECK (c->w.legs[dl->id].present == c->present[dl->id], "leg %u present "
      "is %d", dl->id, c->w.legs[dl->id].present);
  if (!c->present[dl->id])
    bank_leg (c, dl->id);
  c->pushes++;
  TRACE ("push packet %u leg %u seq %u ssrc %08x at %" G_GUINT64_FORMAT
      "\n", p->id, dl->id, dl->seq, dl->ssrc, c->now);
  begin_call (c);
  v = mr_merge_window_push (&c->w, dl->id, dl->ssrc, dl->seq, c->now, p);
  CHECK (v >= MR_MERGE_ACCEPTED && v <= MR_MERGE_FOREIGN, "verdict %d", v);
  TRACE ("  verdict %s\n", verdict_names[v]);
  c->verdicts[v]++;

  c->seen[dl->id] = TRUE;
  c->silent[dl->id] = FALSE;
  c->last_push[dl->id] = c->now;

  r = record_of (c, p->id);
  if (v == MR_MERGE_ACCEPTED) {
    if (r->state == P_EMITTED_IN_PUSH) {
      r->state = P_EMITTED;
      g_free (p);
    } else {
      CHECK (r->state == P_IN_PUSH, "accepted packet %u is %s", p->id,
          state_names[r->state]);
      r->state = P_HELD;
      c->held++;
    }
  } else {
    CHECK (r->state == P_IN_PUSH, "packet %u (seq %u) has verdict %d but "
        "was %s", p->id, p->seq, v, state_names[r->state]);
    r->state = P_REJECTED;
    g_free (p);
  }

  if (v == MR_MERGE_DUPLICATE) {
    /* a copy of the merged stream's ext nearest the output */
    guint64 next = c->w.next_out;
    guint64 ext = next + (gint16) (guint16) (dl->seq - (guint16) next);
    Emission *e = find_emission (c, ext);

    if (e) {
      if (e->leg != dl->id)
        e->other_ever = TRUE;
    } else {
      guint64 *key = g_new (guint64, 1);
      guint32 copies;

      *key = ext;
      copies = GPOINTER_TO_UINT (g_hash_table_lookup (c->held_copies, key));
      g_hash_table_replace (c->held_copies, key,
          GUINT_TO_POINTER (copies | 1u << dl->id));
    }
  }
}

/* After the final flush every unique is decided: at least the packets no
 * other leg delivered (from a leg not added again since, whose earlier
 * packets are no longer counted), at most those no other leg had delivered
 * when they went out */
static void
check_unique_sums (Ctx * c)
{
  guint64 unique = c->base_unique, least = 0, most = 0;

  CHECK (c->w.settled == c->w.next_out, "ext %" G_GUINT64_FORMAT " to %"
      G_GUINT64_FORMAT " undecided after flush", c->w.settled, c->w.next_out);
  for (guint i = 0; i < MR_MERGE_MAX_LEGS; i++)
    unique += c->w.legs[i].unique;
  for (guint i = 0; i < c->emissions->len; i++) {
    Emission *e = &g_array_index (c->emissions, Emission, i);
    if (!e->other_before)
      most++;
    if (!e->other_ever && e->incarnation == c->incarnation[e->leg])
      least++;
  }
  CHECK (least <= unique && unique <= most, "unique adds up to %"
      G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " packets had no other copy, %"
      G_GUINT64_FORMAT " none before they went out", unique, least, most);
}

/* Every accepted packet is out: when each skipped seqnum was due is known,
 * the arrival of the first packet above it in its stream. */
static void
check_gaps (Ctx * c)
{
  guint64 due = G_MAXUINT64;

  for (guint i = c->emissions->len; i-- > 0;) {
    Emission *e = &g_array_index (c->emissions, Emission, i);
    Emission *prev = i > 0 ? e - 1 : NULL;
    guint64 window;

    if (i + 1 < c->emissions->len && e[1].epoch != e->epoch)
      due = G_MAXUINT64;
    due = MIN (due, e->accepted);
    if (!prev || prev->epoch != e->epoch || e->ext == prev->ext + 1
        || e->exempt)
      continue;
    /* the seqnum just before this packet was the last to become due */
    window = smallest_window (c, due, e->time);
    CHECK (e->time - due >= window, "ext %" G_GUINT64_FORMAT " given up "
        "at %" G_GUINT64_FORMAT " ns, %" G_GUINT64_FORMAT " ns after it was "
        "due, window %" G_GUINT64_FORMAT " ns", e->ext - 1, e->time,
        e->time - due, window);
  }
}

/* Header: window (ms, byte % 200), leg timeout (50 .. 2000 ms), legs
 * (1 + bits 0-1; bit 2: leg numbers from 31 down; bits 3-5 all set: clear()
 * without the final flush), first seqnum (byte * 257).
 *
 * Record: op | leg << 4, seqnum code, clock step (time_step), argument.
 * op 0-10 push, 11 clock to the next deadline, 12 set_window (argument:
 * < 200 ms, else (argument - 200) * 50 ms), 13 flush, 14 remove and add the
 * leg again, 15 with a seqnum code < 128: remove the leg (its next push
 * adds it back), else set_leg_timeout (argument: 50 .. 2000 ms).  The clock
 * moves by the step before every op but 11. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Ctx ctx = { 0 };
  Ctx *c = &ctx;
  guint64 window, leg_timeout;
  gboolean final_flush;

  if (size < HEADER)
    return 0;

  window = (data[0] % 200) * MS;
  leg_timeout = (50 + data[1] * 1950 / 255) * MS;
  c->leg_timeout = leg_timeout;
  c->n_legs = 1 + (data[2] & 3);
  final_flush = (data[2] & 0x38) != 0x38;
  for (guint i = 0; i < c->n_legs; i++) {
    c->legs[i].id = (data[2] & 4) ? MR_MERGE_MAX_LEGS - 1 - i : i;
    c->legs[i].ssrc = ssrcs[0];
    c->legs[i].seq = (guint16) (data[3] * 257);
  }

  current = c;
  trace = g_getenv ("MERGE_FUZZ_TRACE") != NULL;
  TRACE ("window %" G_GUINT64_FORMAT " leg timeout %" G_GUINT64_FORMAT
      " legs %u%s\n", window, leg_timeout, c->n_legs,
      final_flush ? "" : ", no final flush");
  c->records = g_array_new (FALSE, FALSE, sizeof (Record));
  c->windows = g_array_new (FALSE, FALSE, sizeof (Window));
  c->emissions = g_array_new (FALSE, FALSE, sizeof (Emission));
  c->held_copies = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      NULL);
  {
    Window win = { 0, window };
    g_array_append_val (c->windows, win);
  }
  mr_merge_window_init (&c->w, window, leg_timeout, on_emit, on_event,
      on_free, c);
  for (guint i = 0; i < c->n_legs; i++) {
    mr_merge_window_add_leg (&c->w, c->legs[i].id);
    c->present[c->legs[i].id] = TRUE;
  }

  for (size_t pos = HEADER; pos + RECORD <= size; pos += RECORD) {
    const uint8_t *rec = data + pos;
    guint op = rec[0] & 15;
    DriverLeg *dl = &c->legs[(rec[0] >> 4) % c->n_legs];

    if (op == 11) {
      guint64 d = mr_merge_window_next_deadline (&c->w);
      if (d == MR_MERGE_TIME_NONE)
        d = c->now + time_step (rec[2]);
      advance_to (c, d);
      continue;
    }
    advance_to (c, c->now + time_step (rec[2]));

    switch (op) {
      case 12:{
        guint64 win = rec[3] < 200 ? rec[3] * MS : (rec[3] - 200) * 50 * MS;
        Window entry = { c->now, win };
        g_array_append_val (c->windows, entry);
        TRACE ("set_window %" G_GUINT64_FORMAT " at %" G_GUINT64_FORMAT "\n",
            win, c->now);
        begin_call (c);
        mr_merge_window_set_window (&c->w, win, c->now);
        break;
      }
      case 13:
        TRACE ("flush at %" G_GUINT64_FORMAT "\n", c->now);
        c->in_flush = TRUE;
        mr_merge_window_flush (&c->w);
        c->in_flush = FALSE;
        CHECK (c->held == 0, "%" G_GUINT64_FORMAT " packets held after "
            "flush", c->held);
        break;
      case 14:
        TRACE ("remove and add leg %u\n", dl->id);
        mr_merge_window_remove_leg (&c->w, dl->id);
        bank_leg (c, dl->id);
        mr_merge_window_add_leg (&c->w, dl->id);
        break;
      case 15:
        if (rec[1] < 128) {
          TRACE ("remove leg %u\n", dl->id);
          mr_merge_window_remove_leg (&c->w, dl->id);
          c->present[dl->id] = FALSE;
        } else {
          guint64 d;

          c->leg_timeout = (50 + rec[3] * 1950 / 255) * MS;
          TRACE ("set_leg_timeout %" G_GUINT64_FORMAT "\n", c->leg_timeout);
          mr_merge_window_set_leg_timeout (&c->w, c->leg_timeout);
          /* it has no now: a shorter timeout may be due already, and the
           * caller's timer fires at once */
          d = mr_merge_window_next_deadline (&c->w);
          if (d != MR_MERGE_TIME_NONE && d <= c->now) {
            TRACE ("advance %" G_GUINT64_FORMAT " (deadline %"
                G_GUINT64_FORMAT ")\n", c->now, d);
            begin_call (c);
            mr_merge_window_advance (&c->w, c->now);
          }
        }
        break;
      default:
        next_seq (c, dl, rec[1], rec[3]);
        do_push (c, dl);
        break;
    }
    check_state (c);
  }

  if (final_flush) {
    TRACE ("final flush\n");
    c->in_flush = TRUE;
    mr_merge_window_flush (&c->w);
    c->in_flush = FALSE;
    check_state (c);
    CHECK (c->held == 0, "%" G_GUINT64_FORMAT " packets held after the "
        "final flush", c->held);
    CHECK (c->w.lost == c->lost, "lost is %" G_GUINT64_FORMAT ", the output "
        "skipped %" G_GUINT64_FORMAT " seqnums", c->w.lost, c->lost);
    check_gaps (c);
    check_unique_sums (c);
  }

  {
    guint64 held = c->held;

    TRACE ("clear\n");
    c->in_clear = TRUE;
    mr_merge_window_clear (&c->w);
    c->in_clear = FALSE;
    CHECK (c->freed == held, "clear() freed %" G_GUINT64_FORMAT " of %"
        G_GUINT64_FORMAT " held packets", c->freed, held);
  }

  for (guint id = 0; id < c->records->len; id++) {
    Record *r = record_of (c, id);
    CHECK (r->state == P_EMITTED || r->state == P_REJECTED
        || (r->state == P_FREED && !final_flush),
        "packet %u is %s at the end", id, state_names[r->state]);
  }

  g_array_unref (c->records);
  g_array_unref (c->windows);
  g_array_unref (c->emissions);
  g_hash_table_unref (c->held_copies);
  current = NULL;
  return 0;
}

#ifdef MR_FUZZ_STANDALONE
#include "standalone.h"

/* Half the records are uniform bytes, half a plain push on a leg: the next
 * seqnum or another leg's copy, a small clock step.  The uniform ones bring
 * the jumps, SSRC changes, window changes and removed legs. */
static gsize
random_input (guint8 * buf, gsize max_len)
{
  gsize len = 4 + mr_fuzz_random () % (max_len - 4);
  guint uniform = mr_fuzz_random () % 40;

  for (gsize i = 0; i < 4; i++)
    buf[i] = mr_fuzz_random ();
  for (gsize i = 4; i + 4 <= len; i += 4) {
    if (mr_fuzz_random () % 100 < uniform) {
      for (gsize j = 0; j < 4; j++)
        buf[i + j] = mr_fuzz_random ();
    } else {
      guint32 r = mr_fuzz_random ();
      buf[i] = (r % 11) | ((r >> 4) & 0x30);
      buf[i + 1] = (r >> 8) & 1 ? 0 : 192 + ((r >> 9) & 3);
      buf[i + 2] = (r >> 12) % 40;
      buf[i + 3] = r >> 24;
    }
  }
  return len;
}

const MrFuzzStandalone mr_fuzz_standalone = {
  .name = "merge-window",
  .runs_env = "MERGE_FUZZ_RUNS",
  .runs = 20000,
  .runs_valgrind = 2000,
  .max_len = 1024,
  .random_input = random_input,
};
#endif /* MR_FUZZ_STANDALONE */
