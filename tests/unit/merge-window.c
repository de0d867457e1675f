/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the ST 2022-7 merge window, without GStreamer: gaps filled
 * from the other leg, the recovery window, wraparound, skew, reordering,
 * silent and returning legs, sender restarts and a leg with another
 * stream. */

#include "merge-window.h"

#define MS G_GUINT64_CONSTANT (1000000)
#define WINDOW (100 * MS)
#define LEG_TIMEOUT (1000 * MS)
#define SSRC 0x11223344u

typedef struct
{
  guint seq;                    /* packet: seq | leg << 16 | ssrc tag << 20 */
  guint64 ext;
  guint leg;
  guint flags;
} Out;

typedef struct
{
  MrMergeWindow w;
  GArray *out;                  /* Out */
  GArray *events;               /* leg << 8 | event */
  guint freed;
} Fixture;

static void
on_emit (gpointer packet, guint64 ext, guint leg, guint flags, gpointer data)
{
  Fixture *f = data;
  Out o = { GPOINTER_TO_UINT (packet) & 0xffff, ext, leg, flags };

  g_assert_cmpuint ((GPOINTER_TO_UINT (packet) >> 16) & 0xf, ==, leg);
  g_array_append_val (f->out, o);
}

static void
on_event (guint leg, MrMergeLegEvent event, gpointer data)
{
  Fixture *f = data;
  guint e = leg << 8 | event;

  g_array_append_val (f->events, e);
}

static void
on_free (gpointer packet)
{
  (void) packet;
}

static void
setup (Fixture * f, gconstpointer unused)
{
  mr_merge_window_init (&f->w, WINDOW, LEG_TIMEOUT, on_emit, on_event,
      on_free, f);
  mr_merge_window_add_leg (&f->w, 0);
  mr_merge_window_add_leg (&f->w, 1);
  f->out = g_array_new (FALSE, FALSE, sizeof (Out));
  f->events = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
teardown (Fixture * f, gconstpointer unused)
{
  mr_merge_window_clear (&f->w);
  g_array_unref (f->out);
  g_array_unref (f->events);
}

/* packets carry their seqnum and leg, never NULL */
static MrMergeVerdict
push_ssrc (Fixture * f, guint leg, guint32 ssrc, guint seq, guint64 now)
{
  gpointer packet = GUINT_TO_POINTER ((seq & 0xffff) | leg << 16 | 1u << 24);
  return mr_merge_window_push (&f->w, leg, ssrc, seq & 0xffff, now, packet);
}

static MrMergeVerdict
push (Fixture * f, guint leg, guint seq, guint64 now)
{
  return push_ssrc (f, leg, SSRC, seq, now);
}

static gboolean
has_event (Fixture * f, guint leg, MrMergeLegEvent event)
{
  for (guint i = 0; i < f->events->len; i++)
    if (g_array_index (f->events, guint, i) == (leg << 8 | event))
      return TRUE;
  return FALSE;
}

/* Lets the time pass after which no late copy of what arrived by @last can
 * come: the unique counts are final */
static void
settle_counts (Fixture * f, guint64 last)
{
  mr_merge_window_advance (&f->w, last + WINDOW + LEG_TIMEOUT + 1);
}

/* The output is @count consecutive seqnums from @first, ext increasing */
static void
assert_output (Fixture * f, guint first, guint count)
{
  g_assert_cmpuint (f->out->len, ==, count);
  for (guint i = 0; i < count; i++) {
    Out *o = &g_array_index (f->out, Out, i);
    g_assert_cmpuint (o->seq, ==, (first + i) & 0xffff);
    if (i > 0)
      g_assert_cmpuint (o->ext, ==, g_array_index (f->out, Out, i - 1).ext
          + 1);
  }
}

static void
test_single_leg_in_order (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 50; i++)
    g_assert_cmpint (push (f, 0, 1000 + i, i * MS), ==, MR_MERGE_ACCEPTED);
  assert_output (f, 1000, 50);
  g_assert_cmpuint (f->w.legs[0].used, ==, 50);
  /* leg 1 might still send its copies */
  g_assert_cmpuint (f->w.legs[0].unique, ==, 0);
  settle_counts (f, 49 * MS);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 50);
  g_assert_cmpuint (f->w.pending, ==, 0);
  g_assert_cmpuint (f->w.lost, ==, 0);
  g_assert_cmpuint (g_array_index (f->out, Out, 0).flags, ==, 0);
}

/* A misses 3 and 7, B misses 5: every packet once, from who had it */
static void
test_complementary_loss (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 10; i++) {
    guint64 t = i * MS;
    if (i != 3 && i != 7)
      push (f, 0, i, t);
    if (i != 5)
      g_assert_cmpint (push (f, 1, i, t + 10000), ==,
          i == 3 || i == 7 ? MR_MERGE_ACCEPTED : MR_MERGE_DUPLICATE);
  }
  assert_output (f, 0, 10);
  g_assert_cmpuint (g_array_index (f->out, Out, 3).leg, ==, 1);
  g_assert_cmpuint (g_array_index (f->out, Out, 5).leg, ==, 0);
  g_assert_cmpuint (f->w.legs[0].used, ==, 8);
  g_assert_cmpuint (f->w.legs[1].used, ==, 2);
  settle_counts (f, 9 * MS + 10000);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 1);
  g_assert_cmpuint (f->w.legs[1].unique, ==, 2);
  g_assert_cmpuint (f->w.legs[1].duplicates, ==, 7);
  g_assert_cmpuint (f->w.legs[0].received, ==, 8);
  g_assert_cmpuint (f->w.output, ==, 10);
  g_assert_cmpuint (f->w.lost, ==, 0);
  /* nothing was lost: no DISCONT */
  for (guint i = 0; i < f->out->len; i++)
    g_assert_cmpuint (g_array_index (f->out, Out, i).flags, ==, 0);
}

static void
test_wraparound (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 100; i++) {
    guint seq = 65500 + i;
    if (i % 7 != 3)
      push (f, 0, seq, i * MS);
    if (i % 11 != 5 || i % 7 == 3)
      push (f, 1, seq, i * MS + 500000);
  }
  assert_output (f, 65500, 100);
  g_assert_cmpuint (g_array_index (f->out, Out, 99).seq, ==, 63);
  g_assert_cmpuint (f->w.lost, ==, 0);
}

/* A hole is waited for one window after the packet behind it came */
static void
test_window_expires (Fixture * f, gconstpointer unused)
{
  push (f, 0, 0, 0);
  push (f, 0, 1, 1 * MS);
  push (f, 0, 3, 3 * MS);
  assert_output (f, 0, 2);
  g_assert_cmpuint (f->w.pending, ==, 1);
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), ==, 103 * MS);

  mr_merge_window_advance (&f->w, 103 * MS - 1);
  g_assert_cmpuint (f->out->len, ==, 2);
  mr_merge_window_advance (&f->w, 103 * MS);
  g_assert_cmpuint (f->out->len, ==, 3);
  g_assert_cmpuint (g_array_index (f->out, Out, 2).seq, ==, 3);
  g_assert_cmpuint (g_array_index (f->out, Out, 2).flags, ==,
      MR_MERGE_EMIT_DISCONT);
  g_assert_cmpuint (f->w.lost, ==, 1);

  /* 2 after all, too late; then the stream goes on */
  g_assert_cmpint (push (f, 1, 2, 110 * MS), ==, MR_MERGE_LATE);
  g_assert_cmpuint (f->w.legs[1].late, ==, 1);
  g_assert_cmpint (push (f, 0, 4, 111 * MS), ==, MR_MERGE_ACCEPTED);
  g_assert_cmpuint (f->out->len, ==, 4);
  g_assert_cmpuint (g_array_index (f->out, Out, 3).flags, ==, 0);
}

/* B runs 60 ms behind A: A's holes are filled from B within the window */
static void
test_skew_within_window (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 200; i++) {
    guint64 t = i * 2 * MS;
    /* interleave in time order: B's copy of i-30 comes at about t */
    if (i % 10 != 4)
      push (f, 0, i, t);
    if (i >= 30)
      push (f, 1, i - 30, t + 1);
  }
  for (guint i = 170; i < 200; i++)
    push (f, 1, i, (200 + i - 170) * 2 * MS);
  assert_output (f, 0, 200);
  g_assert_cmpuint (f->w.lost, ==, 0);
  g_assert_cmpfloat (mr_merge_window_skew_ms (&f->w), >, 50);
  g_assert_cmpfloat (mr_merge_window_skew_ms (&f->w), <, 61);
  g_assert_cmpfloat (f->w.legs[0].lag_ms, <, 1);
  settle_counts (f, 229 * 2 * MS);
  g_assert_cmpuint (f->w.legs[1].unique, ==, 20);
}

/* B runs 150 ms behind: more than the window, so A's holes are lost */
static void
test_skew_beyond_window (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 100; i++) {
    if (i != 20)
      push (f, 0, i, i * 10 * MS);
    if (i >= 15)
      push (f, 1, i - 15, i * 10 * MS + 1);
  }
  g_assert_cmpuint (f->w.lost, ==, 1);
  g_assert_cmpuint (f->w.legs[1].late, ==, 1);
  g_assert_cmpuint (f->out->len, ==, 99);
}

static void
test_reorder (Fixture * f, gconstpointer unused)
{
  guint order[] = { 0, 2, 1, 3, 6, 5, 4, 7 };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    push (f, 0, order[i], i * MS);
  assert_output (f, 0, 8);
  g_assert_cmpuint (f->w.lost, ==, 0);
}

static void
test_leg_silent_and_back (Fixture * f, gconstpointer unused)
{
  guint64 t = 0;
  guint seq = 0;

  for (; seq < 100; seq++, t += 10 * MS) {
    push (f, 0, seq, t);
    push (f, 1, seq, t + 1);
  }
  g_assert_cmpuint (mr_merge_window_active_legs (&f->w), ==, 2);
  /* B stops for 2 s */
  for (; seq < 300; seq++, t += 10 * MS)
    push (f, 0, seq, t);
  g_assert_true (has_event (f, 1, MR_MERGE_LEG_SILENT));
  g_assert_false (has_event (f, 0, MR_MERGE_LEG_SILENT));
  g_assert_cmpuint (mr_merge_window_active_legs (&f->w), ==, 1);
  for (; seq < 310; seq++, t += 10 * MS) {
    push (f, 0, seq, t);
    push (f, 1, seq, t + 1);
  }
  g_assert_true (has_event (f, 1, MR_MERGE_LEG_RETURNED));
  g_assert_cmpuint (mr_merge_window_active_legs (&f->w), ==, 2);
  assert_output (f, 0, 310);
  g_assert_cmpuint (f->w.legs[1].duplicates, ==, 110);
}

/* The sender restarts with a new SSRC and seqnums: A sees it 30 ms before
 * B.  Nothing of the new stream is lost. */
static void
test_restart_new_ssrc (Fixture * f, gconstpointer unused)
{
  guint64 t = 0;

  for (guint i = 0; i < 50; i++, t += MS) {
    push (f, 0, 100 + i, t);
    if (i >= 30)
      push (f, 1, 100 + i - 30, t + 1);
  }
  /* new stream from seq 40000 on A; B still has 30 of the old */
  for (guint i = 0; i < 60; i++, t += MS) {
    push_ssrc (f, 0, 0xabcdef, 40000 + i, t);
    if (i < 30)
      push (f, 1, 100 + 20 + i, t + 1);
    else
      push_ssrc (f, 1, 0xabcdef, 40000 + i - 30, t + 1);
  }
  for (guint i = 30; i < 60; i++, t += MS)
    push_ssrc (f, 1, 0xabcdef, 40000 + i, t + 1);

  g_assert_true (has_event (f, 1, MR_MERGE_STREAM_RESTARTED));
  g_assert_cmpuint (f->w.restarts, ==, 1);
  g_assert_cmpuint (f->w.ssrc, ==, 0xabcdef);
  g_assert_cmpuint (f->out->len, ==, 110);
  for (guint i = 0; i < 50; i++)
    g_assert_cmpuint (g_array_index (f->out, Out, i).seq, ==, 100 + i);
  for (guint i = 0; i < 60; i++)
    g_assert_cmpuint (g_array_index (f->out, Out, 50 + i).seq, ==, 40000 + i);
  g_assert_cmpuint (g_array_index (f->out, Out, 50).flags, ==,
      MR_MERGE_EMIT_DISCONT);
  g_assert_cmpuint (g_array_index (f->out, Out, 50).ext, >,
      g_array_index (f->out, Out, 49).ext);
  g_assert_false (has_event (f, 0, MR_MERGE_LEG_FOREIGN));
  g_assert_false (has_event (f, 1, MR_MERGE_LEG_FOREIGN));
}

/* Same SSRC, seqnums jump by 20000 on both legs at once */
static void
test_restart_seq_jump (Fixture * f, gconstpointer unused)
{
  guint64 t = 0;

  for (guint i = 0; i < 20; i++, t += MS) {
    push (f, 0, 5000 + i, t);
    push (f, 1, 5000 + i, t + 1);
  }
  for (guint i = 0; i < 20; i++, t += MS) {
    push (f, 0, 25000 + i, t);
    push (f, 1, 25000 + i, t + 1);
  }
  g_assert_cmpuint (f->w.restarts, ==, 1);
  g_assert_cmpuint (f->out->len, ==, 40);
  g_assert_cmpuint (g_array_index (f->out, Out, 20).seq, ==, 25000);
  g_assert_cmpuint (f->w.lost, ==, 0);
}

/* One leg only: a restart is followed at once */
static void
test_restart_single_leg (Fixture * f, gconstpointer unused)
{
  mr_merge_window_remove_leg (&f->w, 1);
  for (guint i = 0; i < 10; i++)
    push (f, 0, 100 + i, i * MS);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpint (push_ssrc (f, 0, 7, 9 + i, (10 + i) * MS), ==,
        MR_MERGE_ACCEPTED);
  g_assert_cmpuint (f->out->len, ==, 20);
  g_assert_cmpuint (f->w.restarts, ==, 1);
}

/* B carries another stream: reported, never merged */
static void
test_foreign_leg (Fixture * f, gconstpointer unused)
{
  guint64 t = 0;

  for (guint i = 0; i < 200; i++, t += 10 * MS) {
    g_assert_cmpint (push (f, 0, i, t), ==, MR_MERGE_ACCEPTED);
    g_assert_cmpint (push_ssrc (f, 1, 0x5555, 30000 + i, t + 1), ==,
        MR_MERGE_FOREIGN);
  }
  assert_output (f, 0, 200);
  for (guint i = 0; i < f->out->len; i++)
    g_assert_cmpuint (g_array_index (f->out, Out, i).leg, ==, 0);
  g_assert_true (has_event (f, 1, MR_MERGE_LEG_FOREIGN));
  g_assert_cmpuint (f->w.legs[1].foreign, ==, 200);
  g_assert_cmpuint (f->w.restarts, ==, 0);
  g_assert_cmpuint (mr_merge_window_active_legs (&f->w), ==, 1);
}

/* Shrinking the window releases what has waited longer than the new one */
static void
test_set_window (Fixture * f, gconstpointer unused)
{
  push (f, 0, 0, 0);
  push (f, 0, 2, 10 * MS);
  g_assert_cmpuint (f->out->len, ==, 1);
  mr_merge_window_set_window (&f->w, 20 * MS, 25 * MS);
  g_assert_cmpuint (f->out->len, ==, 1);
  mr_merge_window_set_window (&f->w, 10 * MS, 25 * MS);
  g_assert_cmpuint (f->out->len, ==, 2);
  g_assert_cmpuint (f->w.lost, ==, 1);
}

static void
test_flush (Fixture * f, gconstpointer unused)
{
  guint64 deadline;

  push (f, 0, 0, 0);
  push (f, 0, 3, MS);
  push (f, 1, 5, MS);
  mr_merge_window_flush (&f->w);
  g_assert_cmpuint (f->out->len, ==, 3);
  g_assert_cmpuint (f->w.lost, ==, 3);
  g_assert_cmpuint (f->w.pending, ==, 0);
  /* the legs' silence: a deadline at most the earliest one, never later */
  deadline = mr_merge_window_next_deadline (&f->w);
  g_assert_cmpuint (deadline, <=, 1000 * MS + MS);
  mr_merge_window_advance (&f->w, deadline);
  g_assert_false (has_event (f, 0, MR_MERGE_LEG_SILENT));
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), ==,
      1000 * MS + MS);
  mr_merge_window_advance (&f->w, 1000 * MS + MS);
  g_assert_true (has_event (f, 0, MR_MERGE_LEG_SILENT));
  g_assert_true (has_event (f, 1, MR_MERGE_LEG_SILENT));
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), ==,
      MR_MERGE_TIME_NONE);
}

/* Both legs lose 10..14: lost once, not twice */
static void
test_lost_on_both (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 40; i++) {
    if (i >= 10 && i < 15)
      continue;
    push (f, 0, i, i * MS);
    push (f, 1, i, i * MS + 1);
  }
  mr_merge_window_advance (&f->w, 200 * MS);
  g_assert_cmpuint (f->w.lost, ==, 5);
  g_assert_cmpuint (f->out->len, ==, 35);
  g_assert_cmpuint (g_array_index (f->out, Out, 10).seq, ==, 15);
  g_assert_cmpuint (g_array_index (f->out, Out, 10).flags, ==,
      MR_MERGE_EMIT_DISCONT);
}

/* Three legs, each missing every third packet */
static void
test_three_legs (Fixture * f, gconstpointer unused)
{
  mr_merge_window_add_leg (&f->w, 2);
  for (guint i = 0; i < 300; i++)
    for (guint leg = 0; leg < 3; leg++)
      if (i % 3 != leg)
        push (f, leg, i, i * MS + leg);
  assert_output (f, 0, 300);
  g_assert_cmpuint (f->w.legs[0].used + f->w.legs[1].used
      + f->w.legs[2].used, ==, 300);
  g_assert_cmpuint (f->w.lost, ==, 0);
}

/* unique never goes down: checked after every call */
static void
check_unique_grows (Fixture * f, guint64 * last)
{
  for (guint leg = 0; leg < 2; leg++) {
    g_assert_cmpuint (f->w.legs[leg].unique, >=, last[leg]);
    last[leg] = f->w.legs[leg].unique;
  }
}

/* B runs 500 ms behind A, beyond the window but within window + leg
 * timeout, and has only the even seqnums: its late copies make A's packets
 * not unique, and the count waits for them instead of taking any back */
static void
test_late_copy_not_unique (Fixture * f, gconstpointer unused)
{
  guint64 last[2] = { 0, 0 };

  for (guint i = 0; i < 20; i++) {
    g_assert_cmpint (push (f, 0, i, i * MS), ==, MR_MERGE_ACCEPTED);
    check_unique_grows (f, last);
  }
  for (guint i = 0; i < 20; i += 2) {
    g_assert_cmpint (push (f, 1, i, (500 + i) * MS), ==, MR_MERGE_DUPLICATE);
    check_unique_grows (f, last);
  }
  assert_output (f, 0, 20);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 0);

  /* the bound is the late path's: window + leg timeout after the arrival */
  mr_merge_window_advance (&f->w, 1100 * MS);
  check_unique_grows (f, last);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 0);
  mr_merge_window_advance (&f->w, 1101 * MS);
  check_unique_grows (f, last);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 0);
  mr_merge_window_advance (&f->w, 1101 * MS + 1);
  check_unique_grows (f, last);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 1);
  settle_counts (f, 19 * MS);
  check_unique_grows (f, last);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 10);
  g_assert_cmpuint (f->w.legs[1].unique, ==, 0);
  g_assert_cmpuint (f->w.legs[1].duplicates, ==, 10);
  g_assert_cmpuint (f->w.legs[0].late + f->w.legs[1].late, ==, 0);
}

/* With no packet after it, the deadline says when a count is final */
static void
test_unique_on_deadline (Fixture * f, gconstpointer unused)
{
  guint64 d;

  push (f, 0, 0, 0);
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), ==, LEG_TIMEOUT);
  mr_merge_window_advance (&f->w, LEG_TIMEOUT);
  g_assert_true (has_event (f, 0, MR_MERGE_LEG_SILENT));
  g_assert_cmpuint (f->w.legs[0].unique, ==, 0);
  /* window + leg timeout, rounded up to a step */
  d = mr_merge_window_next_deadline (&f->w);
  g_assert_cmpuint (d, >, WINDOW + LEG_TIMEOUT);
  g_assert_cmpuint (d, <=, WINDOW + LEG_TIMEOUT + MR_MERGE_SETTLE_STEP);
  g_assert_cmpuint (d % MR_MERGE_SETTLE_STEP, ==, 0);
  /* advance() decides at the exact bound; the deadline may be later */
  mr_merge_window_advance (&f->w, WINDOW + LEG_TIMEOUT);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 0);
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), ==, d);
  mr_merge_window_advance (&f->w, d);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 1);
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), ==,
      MR_MERGE_TIME_NONE);
}

/* flush() is the end: what waits for a late copy is decided */
static void
test_flush_decides_unique (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 5; i++)
    push (f, 0, i, i * MS);
  push (f, 1, 2, 5 * MS);
  push (f, 1, 7, 6 * MS);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 0);
  g_assert_cmpuint (f->w.pending, ==, 1);
  mr_merge_window_flush (&f->w);
  g_assert_cmpuint (f->out->len, ==, 6);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 4);
  g_assert_cmpuint (f->w.legs[1].unique, ==, 1);
  /* nothing is left to decide: the deadline is the legs' silence */
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), <=,
      LEG_TIMEOUT + 6 * MS);
  mr_merge_window_advance (&f->w, LEG_TIMEOUT + 6 * MS);
  g_assert_cmpuint (mr_merge_window_next_deadline (&f->w), ==,
      MR_MERGE_TIME_NONE);
}

/* More packets within window + leg timeout than the ring holds: a later
 * seqnum that takes a slot decides its packet early, none is lost or
 * counted twice, and the rest still wait for a late copy */
static void
test_unique_beyond_capacity (Fixture * f, gconstpointer unused)
{
  const guint n = MR_MERGE_CAPACITY + 1000;
  guint64 last[2] = { 0, 0 };

  for (guint i = 0; i < n; i++) {
    push (f, 0, i, i * 1000);
    check_unique_grows (f, last);
  }
  g_assert_cmpuint (f->out->len, ==, n);
  g_assert_cmpuint (f->w.legs[0].unique, ==, n - MR_MERGE_CAPACITY);
  /* a late copy of one still waiting */
  g_assert_cmpint (push (f, 1, n - 10, n * 1000), ==, MR_MERGE_DUPLICATE);
  check_unique_grows (f, last);
  settle_counts (f, n * 1000);
  check_unique_grows (f, last);
  g_assert_cmpuint (f->w.legs[0].unique, ==, n - 1);
  g_assert_cmpuint (f->w.legs[0].used, ==, n);
}

/* A leg removed and added again: its counters start over, and what its
 * previous self sent is not counted to the new one */
static void
test_unique_leg_added_again (Fixture * f, gconstpointer unused)
{
  for (guint i = 0; i < 10; i++)
    push (f, 0, i, i * MS);
  mr_merge_window_remove_leg (&f->w, 0);
  mr_merge_window_add_leg (&f->w, 0);
  for (guint i = 10; i < 15; i++)
    push (f, 0, i, i * MS);
  settle_counts (f, 14 * MS);
  g_assert_cmpuint (f->w.legs[0].used, ==, 5);
  g_assert_cmpuint (f->w.legs[0].unique, ==, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add ("/merge-window/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("single-leg-in-order", test_single_leg_in_order);
  ADD ("complementary-loss", test_complementary_loss);
  ADD ("wraparound", test_wraparound);
  ADD ("window-expires", test_window_expires);
  ADD ("skew-within-window", test_skew_within_window);
  ADD ("skew-beyond-window", test_skew_beyond_window);
  ADD ("reorder", test_reorder);
  ADD ("leg-silent-and-back", test_leg_silent_and_back);
  ADD ("restart-new-ssrc", test_restart_new_ssrc);
  ADD ("restart-seq-jump", test_restart_seq_jump);
  ADD ("restart-single-leg", test_restart_single_leg);
  ADD ("foreign-leg", test_foreign_leg);
  ADD ("set-window", test_set_window);
  ADD ("flush", test_flush);
  ADD ("lost-on-both", test_lost_on_both);
  ADD ("three-legs", test_three_legs);
  ADD ("late-copy-not-unique", test_late_copy_not_unique);
  ADD ("unique-on-deadline", test_unique_on_deadline);
  ADD ("flush-decides-unique", test_flush_decides_unique);
  ADD ("unique-beyond-capacity", test_unique_beyond_capacity);
  ADD ("unique-leg-added-again", test_unique_leg_added_again);
  return g_test_run ();
}
