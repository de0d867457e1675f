/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the content statistics, without GStreamer: small planes
 * with counts worked out by hand, random planes against a naive loop,
 * FFmpeg's thresholds and rounding, FFmpeg's reporting rules for black and
 * frozen stretches, and the block-wise silence runs against a
 * sample-by-sample transcription of af_silencedetect's update(). */

#include "content-stats.h"

#include <math.h>
#include <string.h>

#define MS G_GUINT64_CONSTANT (1000000)
#define SECOND (1000 * MS)
#define FRAME (40 * MS)         /* 25 fps */

/* ---- video statistics ------------------------------------------------ */

static void
test_black_threshold (void)
{
  /* FFmpeg: 16 + 0.10 * 219 = 37.9 and 0.10 * 255 = 25.5, truncated */
  g_assert_cmpuint (mr_black_luma_threshold (0.10, FALSE), ==, 37);
  g_assert_cmpuint (mr_black_luma_threshold (0.10, TRUE), ==, 25);
  g_assert_cmpuint (mr_black_luma_threshold (0.0, FALSE), ==, 16);
  g_assert_cmpuint (mr_black_luma_threshold (0.0, TRUE), ==, 0);
  g_assert_cmpuint (mr_black_luma_threshold (1.0, FALSE), ==, 235);
  g_assert_cmpuint (mr_black_luma_threshold (1.0, TRUE), ==, 255);
  g_assert_cmpuint (mr_black_luma_threshold (0.5, FALSE), ==, 125);
}

static void
test_subsampled_length (void)
{
  g_assert_cmpuint (mr_subsampled_length (10, 1), ==, 10);
  g_assert_cmpuint (mr_subsampled_length (10, 0), ==, 10);
  g_assert_cmpuint (mr_subsampled_length (10, 2), ==, 5);
  g_assert_cmpuint (mr_subsampled_length (10, 3), ==, 4);    /* 0 3 6 9 */
  g_assert_cmpuint (mr_subsampled_length (9, 3), ==, 3);     /* 0 3 6 */
  g_assert_cmpuint (mr_subsampled_length (0, 4), ==, 0);
  g_assert_cmpuint (mr_subsampled_length (1, 4), ==, 1);
}

/* A 5x3 plane in rows of 8 bytes; the padding is black and must not be
 * counted */
static const guint8 small_plane[3 * 8] = {
  16, 37, 38, 200, 0, /**/ 0, 0, 0,
  255, 36, 16, 37, 40, /**/ 0, 0, 0,
  17, 235, 90, 10, 37, /**/ 0, 0, 0,
};

static void
test_count_dark_by_hand (void)
{
  /* <= 37: row 0: 16 37 0 (3); row 1: 36 16 37 (3); row 2: 17 10 37 (3) */
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 5, 3, 1, 37), ==, 9);
  /* <= 16: 16 0 / 16 / 10 */
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 5, 3, 1, 16), ==, 4);
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 5, 3, 1, 255), ==, 15);
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 5, 3, 1, 0), ==, 1);
  /* step 2: rows 0 and 2, columns 0 2 4: 16 38 0 / 17 90 37 */
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 5, 3, 2, 37), ==, 4);
  /* step 3: row 0, columns 0 3: 16 200 */
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 5, 3, 3, 37), ==, 1);
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 0, 3, 1, 37), ==, 0);
  g_assert_cmpuint (mr_count_dark (small_plane, 8, 5, 0, 1, 37), ==, 0);
}

static guint64
naive_count_dark (const guint8 * p, gsize stride, guint w, guint h,
    guint step, guint8 t)
{
  guint64 n = 0;

  step = MAX (step, 1);
  for (guint y = 0; y < h; y += step)
    for (guint x = 0; x < w; x += step)
      if (p[y * stride + x] <= t)
        n++;
  return n;
}

static guint64
naive_sad (const guint8 * a, gsize sa, const guint8 * b, gsize sb, guint w,
    guint h, guint step)
{
  guint64 n = 0;

  step = MAX (step, 1);
  for (guint y = 0; y < h; y += step)
    for (guint x = 0; x < w; x += step)
      n += ABS ((gint) a[y * sa + x] - (gint) b[y * sb + x]);
  return n;
}

static void
fill_random (GRand * rand, guint8 * p, gsize size, guint8 lo, guint8 hi)
{
  for (gsize i = 0; i < size; i++)
    p[i] = g_rand_int_range (rand, lo, hi + 1);
}

static void
test_count_dark_random (void)
{
  GRand *rand = g_rand_new_with_seed (6);
  static const guint widths[] = { 1, 7, 15, 16, 17, 31, 32, 33, 63, 64,
    65, 320, 333, 1920
  };

  for (guint i = 0; i < G_N_ELEMENTS (widths); i++) {
    guint w = widths[i], h = 1 + g_rand_int_range (rand, 0, 40);
    gsize stride = w + g_rand_int_range (rand, 0, 64);
    guint8 *p = g_malloc (stride * h);

    fill_random (rand, p, stride * h, 0, 80);
    for (guint step = 1; step <= 5; step++)
      for (guint t = 0; t < 80; t += 13)
        g_assert_cmpuint (mr_count_dark (p, stride, w, h, step, t), ==,
            naive_count_dark (p, stride, w, h, step, t));
    g_free (p);
  }
  g_rand_free (rand);
}

static void
test_sad_by_hand (void)
{
  static const guint8 a[2 * 4] = { 0, 255, 10, 20, /**/ 100, 100, 7, 9 };
  static const guint8 b[2 * 6] = { 255, 0, 10, 25, 99, 99,
    /**/ 90, 110, 9, 7, 99, 99
  };

  /* 255 + 255 + 0 + 5 + 10 + 10 + 2 + 2 */
  g_assert_cmpuint (mr_sum_abs_diff (a, 4, b, 6, 4, 2, 1), ==, 539);
  g_assert_cmpuint (mr_sum_abs_diff (b, 6, a, 4, 4, 2, 1), ==, 539);
  g_assert_cmpuint (mr_sum_abs_diff (a, 4, a, 4, 4, 2, 1), ==, 0);
  /* step 2: (0,0) and (0,2): 255 + 0 */
  g_assert_cmpuint (mr_sum_abs_diff (a, 4, b, 6, 4, 2, 2), ==, 255);
}

static void
test_sad_random (void)
{
  GRand *rand = g_rand_new_with_seed (7);
  static const guint widths[] = { 1, 15, 16, 17, 64, 160, 320, 333, 1920 };

  for (guint i = 0; i < G_N_ELEMENTS (widths); i++) {
    guint w = widths[i], h = 1 + g_rand_int_range (rand, 0, 30);
    gsize sa = w + g_rand_int_range (rand, 0, 32);
    gsize sb = w + g_rand_int_range (rand, 0, 32);
    guint8 *a = g_malloc (sa * h), *b = g_malloc (sb * h);

    fill_random (rand, a, sa * h, 0, 255);
    fill_random (rand, b, sb * h, 0, 255);
    for (guint step = 1; step <= 5; step++)
      g_assert_cmpuint (mr_sum_abs_diff (a, sa, b, sb, w, h, step), ==,
          naive_sad (a, sa, b, sb, w, h, step));
    /* the largest sum a row can hold */
    memset (a, 0, sa * h);
    memset (b, 255, sb * h);
    g_assert_cmpuint (mr_sum_abs_diff (a, sa, b, sb, w, h, 1), ==,
        (guint64) 255 * w * h);
    g_free (a);
    g_free (b);
  }
  g_rand_free (rand);
}

static void
test_mafd (void)
{
  /* FFmpeg: sad / count / (1 << depth).  An I420 4x2 frame whose luma
   * moved by one level: 8 / (8 + 2 + 2) / 256 */
  g_assert_cmpfloat_with_epsilon (mr_mafd (8, 12, 8), 8.0 / 12 / 256, 1e-15);
  g_assert_cmpfloat (mr_mafd (255 * 100, 100, 8), ==, 255.0 / 256);
  g_assert_cmpfloat (mr_mafd (0, 100, 8), ==, 0.0);
  g_assert_cmpfloat (mr_mafd (5, 0, 8), ==, 0.0);
  g_assert_cmpfloat (mr_mafd (1024, 1, 10), ==, 1.0);
}

/* ---- blackdetect rules ----------------------------------------------- */

static MrContentStamp
at (guint64 t)
{
  /* a stream time apart from the running time, to tell them apart */
  MrContentStamp s = { t, t + 10 * SECOND };
  return s;
}

typedef struct
{
  GArray *events;               /* MrContentEvent */
} Log;

/* Pushes frames [from, to) of 40 ms, black or not */
static void
black_run (MrBlackDetector * d, GArray * log, guint from, guint to,
    gboolean black)
{
  for (guint i = from; i < to; i++) {
    MrContentEvent ev[2];
    guint n = mr_black_detector_push (d, black, at (i * FRAME), ev);
    g_array_append_vals (log, ev, n);
  }
}

static void
assert_event (GArray * log, guint i, MrContentEventType type, guint64 time,
    guint64 duration)
{
  MrContentEvent *e;

  g_assert_cmpuint (i, <, log->len);
  e = &g_array_index (log, MrContentEvent, i);
  g_assert_cmpint (e->type, ==, type);
  g_assert_cmpuint (e->at.running_time, ==, time);
  g_assert_cmpuint (e->at.stream_time, ==, time + 10 * SECOND);
  if (type == MR_CONTENT_END)
    g_assert_cmpuint (e->duration, ==, duration);
}

static void
test_black_rules (void)
{
  MrBlackDetector d;
  GArray *log = g_array_new (FALSE, FALSE, sizeof (MrContentEvent));

  mr_black_detector_init (&d, 2 * SECOND);
  black_run (&d, log, 0, 25, FALSE);
  /* 1.0 s to 3.6 s: the start is known at 3.0 s, with the time of 1.0 s */
  black_run (&d, log, 25, 75, TRUE);
  g_assert_cmpuint (log->len, ==, 0);
  black_run (&d, log, 75, 76, TRUE);
  g_assert_cmpuint (log->len, ==, 1);
  assert_event (log, 0, MR_CONTENT_START, 1 * SECOND, 0);
  g_assert_true (d.reported);
  black_run (&d, log, 76, 90, TRUE);
  black_run (&d, log, 90, 100, FALSE);
  g_assert_cmpuint (log->len, ==, 2);
  assert_event (log, 1, MR_CONTENT_END, 3600 * MS, 2600 * MS);
  g_assert_false (d.reported);

  /* 1.2 s: too short */
  black_run (&d, log, 100, 130, TRUE);
  black_run (&d, log, 130, 140, FALSE);
  g_assert_cmpuint (log->len, ==, 2);

  /* exactly 2 s, 50 frames: reported at its end, start and end at once */
  black_run (&d, log, 140, 190, TRUE);
  g_assert_cmpuint (log->len, ==, 2);
  black_run (&d, log, 190, 191, FALSE);
  g_assert_cmpuint (log->len, ==, 4);
  assert_event (log, 2, MR_CONTENT_START, 140 * FRAME, 0);
  assert_event (log, 3, MR_CONTENT_END, 190 * FRAME, 2 * SECOND);
  g_assert_cmpuint (d.stretches, ==, 2);

  /* open at the end: ends at the last frame's time, 2.96 s later */
  black_run (&d, log, 200, 275, TRUE);
  g_assert_cmpuint (log->len, ==, 5);
  {
    MrContentEvent ev[2];
    guint n = mr_black_detector_finish (&d, ev);
    g_array_append_vals (log, ev, n);
    g_assert_cmpuint (n, ==, 1);
  }
  assert_event (log, 5, MR_CONTENT_END, 274 * FRAME, 74 * FRAME);
  g_array_unref (log);
}

static void
test_black_finish (void)
{
  MrBlackDetector d;
  MrContentEvent ev[2];
  GArray *log = g_array_new (FALSE, FALSE, sizeof (MrContentEvent));

  mr_black_detector_init (&d, 2 * SECOND);
  g_assert_cmpuint (mr_black_detector_finish (&d, ev), ==, 0);

  /* open and short at the end: nothing */
  black_run (&d, log, 0, 10, FALSE);
  black_run (&d, log, 10, 40, TRUE);
  g_assert_cmpuint (mr_black_detector_finish (&d, ev), ==, 0);
  g_assert_cmpuint (log->len, ==, 0);

  /* FFmpeg ends an open stretch at the last frame's timestamp: 50 frames
   * from 0 end at 1.96 s, too short; with a 51st at 2.0 s the start is
   * reported as it comes, and the end at the finish */
  mr_black_detector_reset (&d);
  black_run (&d, log, 0, 50, TRUE);
  g_assert_cmpuint (mr_black_detector_finish (&d, ev), ==, 0);
  mr_black_detector_reset (&d);
  black_run (&d, log, 0, 51, TRUE);
  g_assert_cmpuint (log->len, ==, 1);
  assert_event (log, 0, MR_CONTENT_START, 0, 0);
  g_assert_cmpuint (mr_black_detector_finish (&d, ev), ==, 1);
  g_assert_cmpint (ev[0].type, ==, MR_CONTENT_END);
  g_assert_cmpuint (ev[0].at.running_time, ==, 2 * SECOND);
  g_assert_cmpuint (ev[0].duration, ==, 2 * SECOND);
  g_assert_cmpuint (mr_black_detector_finish (&d, ev), ==, 0);

  /* min-duration 0: every black frame is a stretch */
  mr_black_detector_init (&d, 0);
  g_array_set_size (log, 0);
  black_run (&d, log, 0, 1, TRUE);
  black_run (&d, log, 1, 2, FALSE);
  g_assert_cmpuint (log->len, ==, 2);
  assert_event (log, 0, MR_CONTENT_START, 0, 0);
  assert_event (log, 1, MR_CONTENT_END, FRAME, FRAME);
  g_array_unref (log);
}

/* ---- freezedetect rules ---------------------------------------------- */

/* Pushes frames [from, to), the same picture or not; checks that the
 * detector asks for a new reference exactly when the frame differs */
static void
freeze_run (MrFreezeDetector * d, GArray * log, guint from, guint to,
    gboolean same)
{
  for (guint i = from; i < to; i++) {
    MrContentEvent ev[2];
    gboolean take;
    gboolean first = !d->have_reference;
    guint n = mr_freeze_detector_push (d, same, at (i * FRAME), ev, &take);

    g_assert_true (take == (first || !same));
    g_array_append_vals (log, ev, n);
  }
}

static void
test_freeze_rules (void)
{
  MrFreezeDetector d;
  GArray *log = g_array_new (FALSE, FALSE, sizeof (MrContentEvent));

  mr_freeze_detector_init (&d, 2 * SECOND, FRAME);
  /* frames 0..174 move, 175 is the picture that stays until 239 */
  freeze_run (&d, log, 0, 176, FALSE);
  freeze_run (&d, log, 176, 225, TRUE);
  g_assert_cmpuint (log->len, ==, 0);
  /* frame 225 is 2 s after the reference, frame 175 */
  freeze_run (&d, log, 225, 226, TRUE);
  g_assert_cmpuint (log->len, ==, 1);
  assert_event (log, 0, MR_CONTENT_START, 175 * FRAME, 0);
  g_assert_true (d.frozen);
  freeze_run (&d, log, 226, 240, TRUE);
  freeze_run (&d, log, 240, 250, FALSE);
  g_assert_cmpuint (log->len, ==, 2);
  assert_event (log, 1, MR_CONTENT_END, 240 * FRAME, 65 * FRAME);
  g_assert_false (d.frozen);

  /* 1.96 s after the reference (frame 249), a frame that differs:
   * nothing */
  freeze_run (&d, log, 250, 298, TRUE);
  freeze_run (&d, log, 298, 310, FALSE);
  g_assert_cmpuint (log->len, ==, 2);
  g_assert_cmpuint (d.stretches, ==, 1);
  g_array_unref (log);
}

static void
test_freeze_gap (void)
{
  MrFreezeDetector d;
  MrContentEvent ev[2];
  gboolean take;

  /* a frame that differs 2 s after the previous one: start and end at
   * once, as FFmpeg */
  mr_freeze_detector_init (&d, 2 * SECOND, FRAME);
  g_assert_cmpuint (mr_freeze_detector_push (&d, FALSE, at (0), ev, &take),
      ==, 0);
  g_assert_cmpuint (mr_freeze_detector_push (&d, FALSE, at (2 * SECOND), ev,
          &take), ==, 2);
  g_assert_cmpint (ev[0].type, ==, MR_CONTENT_START);
  g_assert_cmpuint (ev[0].at.running_time, ==, 0);
  g_assert_cmpint (ev[1].type, ==, MR_CONTENT_END);
  g_assert_cmpuint (ev[1].at.running_time, ==, 2 * SECOND);
  g_assert_cmpuint (ev[1].duration, ==, 2 * SECOND);
  g_assert_true (take);

  /* time going back: the duration is counted in frames */
  mr_freeze_detector_init (&d, 2 * SECOND, FRAME);
  mr_freeze_detector_push (&d, FALSE, at (100 * SECOND), ev, &take);
  for (guint i = 1; i < 50; i++)
    g_assert_cmpuint (mr_freeze_detector_push (&d, TRUE, at (i * FRAME), ev,
            &take), ==, 0);
  g_assert_cmpuint (mr_freeze_detector_push (&d, TRUE, at (50 * FRAME), ev,
          &take), ==, 1);
  g_assert_cmpuint (ev[0].at.running_time, ==, 100 * SECOND);

  /* no frame rate either: the duration is 0, nothing is reported */
  mr_freeze_detector_init (&d, 2 * SECOND, 0);
  mr_freeze_detector_push (&d, FALSE, at (100 * SECOND), ev, &take);
  for (guint i = 1; i < 200; i++)
    g_assert_cmpuint (mr_freeze_detector_push (&d, TRUE, at (i * FRAME), ev,
            &take), ==, 0);
}

/* ---- silencedetect --------------------------------------------------- */

typedef struct
{
  guint channel;
  MrContentEventType type;
  gint64 frame;                 /* absolute: from the first frame pushed */
} SilenceEv;

typedef struct
{
  GArray *events;               /* SilenceEv */
  gint64 base;                  /* absolute index of the data's frame 0 */
} SilenceLog;

static void
on_silence (guint channel, MrContentEventType type, gint64 frame,
    gpointer user_data)
{
  SilenceLog *log = user_data;
  SilenceEv e = { channel, type, log->base + frame };

  g_array_append_val (log->events, e);
}

/* af_silencedetect's update(), transcribed, over a whole signal */
static void
reference_silencedetect (const gint32 * magnitude, gsize frames,
    guint channels, gboolean mono, guint64 min_frames, guint32 threshold,
    GArray * events)
{
  guint runs = mono ? channels : 1;
  guint64 notify = min_frames * (mono ? 1 : channels);
  guint64 nb_null[MR_CONTENT_MAX_CHANNELS] = { 0 };
  gint64 start[MR_CONTENT_MAX_CHANNELS];

  for (guint c = 0; c < runs; c++)
    start[c] = G_MININT64;
  for (gsize i = 0; i < frames * channels; i++) {
    guint c = i % runs;
    if ((guint32) magnitude[i] < threshold) {
      if (start[c] == G_MININT64) {
        nb_null[c]++;
        if (nb_null[c] >= notify) {
          SilenceEv e = { c, MR_CONTENT_START, (gint64) (i / channels) + 1
                - (gint64) min_frames
          };
          start[c] = e.frame;
          g_array_append_val (events, e);
        }
      }
    } else {
      if (start[c] > G_MININT64) {
        SilenceEv e = { c, MR_CONTENT_END, (gint64) (i / channels) };
        g_array_append_val (events, e);
      }
      nb_null[c] = 0;
      start[c] = G_MININT64;
    }
  }
  /* uninit(): what is open ends after the last frame */
  for (guint c = 0; c < runs; c++)
    if (start[c] > G_MININT64) {
      SilenceEv e = { c, MR_CONTENT_END, (gint64) frames };
      g_array_append_val (events, e);
    }
}

static void
assert_same_events (GArray * got, GArray * want)
{
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < got->len; i++) {
    SilenceEv *a = &g_array_index (got, SilenceEv, i);
    SilenceEv *b = &g_array_index (want, SilenceEv, i);
    g_assert_cmpuint (a->channel, ==, b->channel);
    g_assert_cmpint (a->type, ==, b->type);
    g_assert_cmpint (a->frame, ==, b->frame);
  }
}

/* Pushes S16 @samples in buffers of random sizes, then finish */
static void
push_s16_split (MrSilenceDetector * d, const gint16 * samples, gsize frames,
    gint16 noise, GRand * rand, GArray * events, guint * peak)
{
  SilenceLog log = { events, 0 };
  gsize done = 0;

  *peak = 0;
  while (done < frames) {
    gsize n = g_rand_int_range (rand, 1, 3000);

    n = MIN (n, frames - done);
    guint p = mr_silence_detector_push_s16 (d, samples + done * d->channels,
        n, noise, on_silence, &log);
    *peak = MAX (*peak, p);
    done += n;
    log.base = done;
  }
  mr_silence_detector_finish (d, on_silence, &log);
}

static void
push_f32_split (MrSilenceDetector * d, const gfloat * samples, gsize frames,
    gfloat noise, GRand * rand, GArray * events)
{
  SilenceLog log = { events, 0 };
  gsize done = 0;

  while (done < frames) {
    gsize n = g_rand_int_range (rand, 1, 3000);

    n = MIN (n, frames - done);
    mr_silence_detector_push_f32 (d, samples + done * d->channels, n, noise,
        on_silence, &log);
    done += n;
    log.base = done;
  }
  mr_silence_detector_finish (d, on_silence, &log);
}

/* A signal of loud and quiet stretches; in a quiet stretch each channel
 * stays loud with a chance of one in five, and a stray sample at the
 * noise's edge (32, not silent) breaks a silence now and then */
static gint16 *
make_signal (GRand * rand, gsize frames, guint channels)
{
  gint16 *s = g_new (gint16, frames * channels);
  gboolean quiet = g_rand_boolean (rand), loud_channel[64];
  gsize left = 0;

  for (gsize f = 0; f < frames; f++) {
    if (left == 0) {
      quiet = !quiet;
      left = g_rand_int_range (rand, 1, quiet ? 6000 : 900);
      for (guint c = 0; c < channels; c++)
        loud_channel[c] = g_rand_int_range (rand, 0, 5) == 0;
    }
    left--;
    for (guint c = 0; c < channels; c++) {
      gint16 v;
      if (!quiet || loud_channel[c])
        v = g_rand_int_range (rand, -32768, 32768);
      else if (g_rand_int_range (rand, 0, 20000) == 0)
        v = 32;
      else
        v = g_rand_int_range (rand, -31, 32);
      s[f * channels + c] = v;
    }
  }
  return s;
}

static void
test_silence_against_reference (void)
{
  GRand *rand = g_rand_new_with_seed (44100);
  static const guint channel_counts[] = { 1, 2, 6 };
  static const guint64 min_frames[] = { 0, 1, 200, 700, 2000 };

  for (guint ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++) {
    guint channels = channel_counts[ci];
    gsize frames = 40000;
    gint16 *s16 = make_signal (rand, frames, channels);
    gint32 *mag = g_new (gint32, frames * channels);
    gfloat *f32 = g_new (gfloat, frames * channels);
    guint32 want_peak = 0;

    for (gsize i = 0; i < frames * channels; i++) {
      mag[i] = ABS ((gint32) s16[i]);
      want_peak = MAX (want_peak, (guint32) mag[i]);
      f32[i] = s16[i] / 32768.0f;
    }

    for (guint mi = 0; mi < G_N_ELEMENTS (min_frames); mi++) {
      for (gint mono = 0; mono <= 1; mono++) {
        GArray *want = g_array_new (FALSE, FALSE, sizeof (SilenceEv));
        GArray *got = g_array_new (FALSE, FALSE, sizeof (SilenceEv));
        MrSilenceDetector d;
        guint peak;

        reference_silencedetect (mag, frames, channels, mono,
            min_frames[mi], 32, want);
        mr_silence_detector_init (&d, channels, mono, min_frames[mi]);
        push_s16_split (&d, s16, frames, 32, rand, got, &peak);
        assert_same_events (got, want);
        g_assert_cmpuint (peak, ==, want_peak);

        /* F32: s / 32768 against 32 / 32768 is the same partition */
        g_array_set_size (got, 0);
        mr_silence_detector_init (&d, channels, mono, min_frames[mi]);
        push_f32_split (&d, f32, frames, 32 / 32768.0f, rand, got);
        assert_same_events (got, want);

        g_test_message ("%u channels, %" G_GUINT64_FORMAT " frames, mono %d: %u events",
            channels, min_frames[mi], mono, want->len);
        g_assert_cmpuint (want->len, >, 0);
        g_array_unref (want);
        g_array_unref (got);
      }
    }
    g_free (s16);
    g_free (mag);
    g_free (f32);
  }
  g_rand_free (rand);
}

static void
test_silence_by_hand (void)
{
  MrSilenceDetector d;
  GArray *ev = g_array_new (FALSE, FALSE, sizeof (SilenceEv));
  SilenceLog log = { ev, 0 };
  /* stereo, 4 frames (8 samples) make the minimum.  The run of silent
   * samples begins with the right one of frame 1 (index 3) and reaches 8
   * at index 10, in frame 5; FFmpeg dates the start from the frame of the
   * sample that completes the run: 5 + 1 - 4 = frame 2.  -32 in frame 8
   * ends it; 31 and -31 do not. */
  static const gint16 a[] = { 500, 500, 500, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 31, -31, 0, 0, -32, 0
  };
  SilenceEv *e;

  mr_silence_detector_init (&d, 2, FALSE, 4);
  mr_silence_detector_push_s16 (&d, a, 9, 32, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 2);
  e = &g_array_index (ev, SilenceEv, 0);
  g_assert_cmpint (e->type, ==, MR_CONTENT_START);
  g_assert_cmpint (e->frame, ==, 2);
  e = &g_array_index (ev, SilenceEv, 1);
  g_assert_cmpint (e->type, ==, MR_CONTENT_END);
  g_assert_cmpint (e->frame, ==, 8);
  g_assert_cmpuint (mr_silence_detector_silent_channels (&d), ==, 0);

  /* a run reported in a later buffer starts in an earlier one: negative */
  g_array_set_size (ev, 0);
  mr_silence_detector_init (&d, 1, FALSE, 1000);
  {
    gint16 quiet[600] = { 0 };
    mr_silence_detector_push_s16 (&d, quiet, 600, 32, on_silence, &log);
    g_assert_cmpuint (ev->len, ==, 0);
    mr_silence_detector_push_s16 (&d, quiet, 600, 32, on_silence, &log);
  }
  g_assert_cmpuint (ev->len, ==, 1);
  e = &g_array_index (ev, SilenceEv, 0);
  /* the 1000th sample is frame 399 of the second buffer: 399 + 1 - 1000 */
  g_assert_cmpint (e->frame, ==, -600);
  g_assert_cmpuint (mr_silence_detector_silent_channels (&d), ==, 1);
  mr_silence_detector_finish (&d, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 2);
  e = &g_array_index (ev, SilenceEv, 1);
  g_assert_cmpint (e->type, ==, MR_CONTENT_END);
  g_assert_cmpint (e->frame, ==, 0);
  g_array_unref (ev);
}

static void
test_silence_mono (void)
{
  MrSilenceDetector d;
  GArray *ev = g_array_new (FALSE, FALSE, sizeof (SilenceEv));
  SilenceLog log = { ev, 0 };
  gint16 s[2 * 100];
  SilenceEv *e;

  /* left silent throughout, right loud: only mono reports, channel 0 */
  for (guint f = 0; f < 100; f++) {
    s[2 * f] = 0;
    s[2 * f + 1] = 1000;
  }
  mr_silence_detector_init (&d, 2, FALSE, 10);
  mr_silence_detector_push_s16 (&d, s, 100, 32, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 0);

  mr_silence_detector_init (&d, 2, TRUE, 10);
  mr_silence_detector_push_s16 (&d, s, 100, 32, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 1);
  e = &g_array_index (ev, SilenceEv, 0);
  g_assert_cmpuint (e->channel, ==, 0);
  g_assert_cmpint (e->type, ==, MR_CONTENT_START);
  g_assert_cmpint (e->frame, ==, 0);
  g_assert_cmpuint (mr_silence_detector_silent_channels (&d), ==, 1);
  g_array_unref (ev);
}

static void
test_silence_thresholds (void)
{
  MrSilenceDetector d;
  GArray *ev = g_array_new (FALSE, FALSE, sizeof (SilenceEv));
  SilenceLog log = { ev, 0 };
  gfloat edge = 0.001f, below = nextafterf (0.001f, 0.0f);
  gfloat f[4];
  gint16 s[2];

  /* FFmpeg's noise for S16: 0.001 * 32767 = 32.767, truncated */
  g_assert_cmpint (mr_silence_noise_s16 (0.001), ==, 32);
  g_assert_cmpint (mr_silence_noise_s16 (1.0), ==, 32767);
  g_assert_cmpint (mr_silence_noise_s16 (0.0), ==, 0);
  g_assert_cmpfloat_with_epsilon (mr_db_to_amplitude (-60.0), 0.001, 1e-18);
  g_assert_cmpfloat ((gfloat) mr_db_to_amplitude (-60.0), ==, 0.001f);
  g_assert_cmpfloat_with_epsilon (mr_db_to_amplitude (0.0), 1.0, 1e-15);

  /* S16: 31 is silent, 32 and -32768 are not */
  mr_silence_detector_init (&d, 1, FALSE, 1);
  s[0] = -31;
  s[1] = 31;
  mr_silence_detector_push_s16 (&d, s, 2, 32, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 1);
  s[0] = 32;
  g_assert_cmpuint (mr_silence_detector_push_s16 (&d, s, 1, 32, on_silence,
          &log), ==, 32);
  g_assert_cmpuint (ev->len, ==, 2);
  s[0] = -32768;
  g_assert_cmpuint (mr_silence_detector_push_s16 (&d, s, 1, 32, on_silence,
          &log), ==, 32768);
  /* a noise of 0: nothing is ever silent */
  mr_silence_detector_init (&d, 1, FALSE, 0);
  s[0] = 0;
  mr_silence_detector_push_s16 (&d, s, 1, 0, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 2);

  /* F32, strictly below: just under 0.001 and -0.0 are silent; 0.001, a
   * NaN and infinity are not */
  g_array_set_size (ev, 0);
  mr_silence_detector_init (&d, 1, FALSE, 1);
  f[0] = below;
  f[1] = -below;
  f[2] = -0.0f;
  mr_silence_detector_push_f32 (&d, f, 3, edge, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 1);
  f[0] = edge;
  mr_silence_detector_push_f32 (&d, f, 1, edge, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 2);
  f[0] = below;
  mr_silence_detector_push_f32 (&d, f, 1, edge, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 3);
  f[0] = NAN;
  mr_silence_detector_push_f32 (&d, f, 1, edge, on_silence, &log);
  g_assert_cmpuint (ev->len, ==, 4);
  f[0] = below;
  f[1] = -INFINITY;
  f[2] = 0.5f;
  f[3] = -0.75f;
  g_assert_cmpfloat (mr_silence_detector_push_f32 (&d, f, 4, edge,
          on_silence, &log), ==, INFINITY);
  g_assert_cmpuint (ev->len, ==, 6);
  g_assert_cmpfloat (mr_silence_detector_push_f32 (&d, f + 2, 2, edge,
          on_silence, &log), ==, 0.75f);
  g_array_unref (ev);
}

static void
test_silence_durations (void)
{
  MrSilenceDetector d;

  /* FFmpeg: seconds to microseconds, then av_rescale to the rate */
  g_assert_cmpuint (mr_silence_min_frames (2.0, 48000), ==, 96000);
  g_assert_cmpuint (mr_silence_min_frames (2.0, 44100), ==, 88200);
  g_assert_cmpuint (mr_silence_min_frames (0.5, 44100), ==, 22050);
  g_assert_cmpuint (mr_silence_min_frames (0.00001, 44100), ==, 0);
  g_assert_cmpuint (mr_silence_min_frames (0.00002, 44100), ==, 1);
  g_assert_cmpuint (mr_silence_min_frames (1.00001, 48000), ==, 48000);
  g_assert_cmpuint (mr_silence_min_frames (0.0, 48000), ==, 0);

  /* a new rate scales the runs, as FFmpeg */
  mr_silence_detector_init (&d, 2, TRUE, 10);
  d.null_samples[0] = 48000;
  d.null_samples[1] = 480;
  mr_silence_detector_rescale (&d, 48000, 44100);
  g_assert_cmpuint (d.null_samples[0], ==, 44100);
  g_assert_cmpuint (d.null_samples[1], ==, 441);
  mr_silence_detector_rescale (&d, 0, 44100);
  g_assert_cmpuint (d.null_samples[0], ==, 44100);
}

/* The bounded counts stop between rows once the decision is certain, and
 * are the full counts when the bound is not passed */
static void
test_bounded (void)
{
  enum { W = 64, H = 32 };
  guint8 *a = g_malloc (W * H), *b = g_malloc (W * H);
  gboolean complete;
  guint64 full, part;

  /* a dark picture with one bright row at the end, then at the start */
  memset (a, 10, W * H);
  memset (a + (H - 1) * W, 200, W);
  full = mr_count_dark (a, W, W, H, 1, 37);
  g_assert_cmpuint (full, ==, (H - 1) * W);
  part = mr_count_dark_bounded (a, W, W, H, 1, 37, W, &complete);
  g_assert_true (complete);
  g_assert_cmpuint (part, ==, full);
  part = mr_count_dark_bounded (a, W, W, H, 1, 37, W - 1, &complete);
  g_assert_true (complete);     /* the last row passed it: nothing left */
  memset (a + (H - 1) * W, 10, W);
  memset (a, 200, 2 * W);
  part = mr_count_dark_bounded (a, W, W, H, 1, 37, W, &complete);
  g_assert_false (complete);
  g_assert_cmpuint (part, ==, 0);       /* stopped after two rows */
  part = mr_count_dark_bounded (a, W, W, H, 1, 37, 2 * W, &complete);
  g_assert_true (complete);
  g_assert_cmpuint (part, ==, (H - 2) * W);

  /* differences: 3 per sample in the first rows only */
  memset (a, 100, W * H);
  memset (b, 100, W * H);
  memset (b, 103, 4 * W);
  full = mr_sum_abs_diff (a, W, b, W, W, H, 1);
  g_assert_cmpuint (full, ==, 3 * 4 * W);
  part = mr_sum_abs_diff_bounded (a, W, b, W, W, H, 1, full, &complete);
  g_assert_true (complete);
  g_assert_cmpuint (part, ==, full);
  part = mr_sum_abs_diff_bounded (a, W, b, W, W, H, 1, 3 * W, &complete);
  g_assert_false (complete);
  g_assert_cmpuint (part, ==, 3 * 2 * W);
  part = mr_sum_abs_diff_bounded (a, W, b, W, W, H, 2, G_MAXUINT64,
      &complete);
  g_assert_true (complete);
  g_assert_cmpuint (part, ==, mr_sum_abs_diff (a, W, b, W, W, H, 2));
  g_free (a);
  g_free (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/content-stats/black-threshold", test_black_threshold);
  g_test_add_func ("/content-stats/subsampled-length",
      test_subsampled_length);
  g_test_add_func ("/content-stats/count-dark-by-hand",
      test_count_dark_by_hand);
  g_test_add_func ("/content-stats/count-dark-random",
      test_count_dark_random);
  g_test_add_func ("/content-stats/sad-by-hand", test_sad_by_hand);
  g_test_add_func ("/content-stats/sad-random", test_sad_random);
  g_test_add_func ("/content-stats/mafd", test_mafd);
  g_test_add_func ("/content-stats/bounded", test_bounded);
  g_test_add_func ("/content-stats/black-rules", test_black_rules);
  g_test_add_func ("/content-stats/black-finish", test_black_finish);
  g_test_add_func ("/content-stats/freeze-rules", test_freeze_rules);
  g_test_add_func ("/content-stats/freeze-gap", test_freeze_gap);
  g_test_add_func ("/content-stats/silence-by-hand", test_silence_by_hand);
  g_test_add_func ("/content-stats/silence-mono", test_silence_mono);
  g_test_add_func ("/content-stats/silence-thresholds",
      test_silence_thresholds);
  g_test_add_func ("/content-stats/silence-durations",
      test_silence_durations);
  g_test_add_func ("/content-stats/silence-against-reference",
      test_silence_against_reference);
  return g_test_run ();
}
