/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The inner loops are plain counts and sums over rows of bytes or blocks
 * of samples, with no branch, accumulating in 32 bits: the vectoriser
 * turns them into compares and psadbw-like sums.  Subsampling steps of 2
 * and 4 have loops of their own, so that their strides are constants the
 * vectoriser can de-interleave.  The file is built with the dynamic
 * vectoriser cost model (see meson.build), since GCC's -O2 default only
 * vectorises loops of a known trip count.
 *
 * The audio runs follow af_silencedetect sample by sample, but a block of
 * samples that are all silent or all sound changes the state in one step,
 * so only the blocks that mix both (around a silence's edges, near zero
 * crossings) take the sample-by-sample path. */

#include "content-stats.h"

#include <math.h>
#include <string.h>

#define AUDIO_BLOCK 256         /* samples per block */

guint8
mr_black_luma_threshold (gdouble pixel_threshold, gboolean full_range)
{
  gdouble t = full_range ? pixel_threshold * 255.0 :
      16.0 + pixel_threshold * (235 - 16);

  /* FFmpeg stores it in an unsigned int: truncated */
  return (guint8) CLAMP (t, 0.0, 255.0);
}

guint
mr_subsampled_length (guint length, guint step)
{
  if (step <= 1)
    return length;
  return length / step + (length % step != 0);
}

/* The row loops, for @n samples @STEP apart.  With a constant STEP the
 * vectoriser turns them into compares and sums over whole vectors (1:
 * contiguous; 2 and 4: de-interleaved loads); any other step takes the
 * generic loop.  A row's sum fits 32 bits: at most 255 per sample. */
#define DEFINE_ROW_LOOPS(STEP)                                               \
static inline guint32                                                        \
dark_row_##STEP (const guint8 * row, guint n, guint8 threshold)              \
{                                                                            \
  guint32 count = 0;                                                         \
  for (guint x = 0; x < n; x++)                                              \
    count += row[(gsize) x * STEP] <= threshold;                             \
  return count;                                                              \
}                                                                            \
                                                                             \
static inline guint32                                                        \
sad_row_##STEP (const guint8 * a, const guint8 * b, guint n)                 \
{                                                                            \
  guint32 sum = 0;                                                           \
  for (guint x = 0; x < n; x++) {                                            \
    gint d = a[(gsize) x * STEP] - b[(gsize) x * STEP];                      \
    sum += d < 0 ? -d : d;                                                   \
  }                                                                          \
  return sum;                                                                \
}

DEFINE_ROW_LOOPS (1);
DEFINE_ROW_LOOPS (2);
DEFINE_ROW_LOOPS (4);

static guint32
dark_row_any (const guint8 * row, guint n, guint step, guint8 threshold)
{
  guint32 count = 0;

  for (guint x = 0; x < n; x++)
    count += row[(gsize) x * step] <= threshold;
  return count;
}

static guint32
sad_row_any (const guint8 * a, const guint8 * b, guint n, guint step)
{
  guint32 sum = 0;

  for (guint x = 0; x < n; x++) {
    gint d = a[(gsize) x * step] - b[(gsize) x * step];
    sum += d < 0 ? -d : d;
  }
  return sum;
}

guint64
mr_count_dark (const guint8 * plane, gsize stride, guint width, guint height,
    guint step, guint8 threshold)
{
  return mr_count_dark_bounded (plane, stride, width, height, step,
      threshold, G_MAXUINT64, NULL);
}

guint64
mr_count_dark_bounded (const guint8 * plane, gsize stride, guint width,
    guint height, guint step, guint8 threshold, guint64 max_bright,
    gboolean * complete)
{
  guint n;
  guint64 total = 0, seen = 0;

  step = MAX (step, 1);
  n = mr_subsampled_length (width, step);
  if (complete)
    *complete = TRUE;
  for (guint y = 0; y < height; y += step) {
    const guint8 *row = plane + (gsize) y * stride;

    /* checked per row: it costs nothing next to the row */
    if (seen - total > max_bright) {
      if (complete)
        *complete = FALSE;
      break;
    }
    seen += n;

    switch (step) {
      case 1:
        total += dark_row_1 (row, n, threshold);
        break;
      case 2:
        total += dark_row_2 (row, n, threshold);
        break;
      case 4:
        total += dark_row_4 (row, n, threshold);
        break;
      default:
        total += dark_row_any (row, n, step, threshold);
        break;
    }
  }
  return total;
}

guint64
mr_sum_abs_diff (const guint8 * a, gsize a_stride, const guint8 * b,
    gsize b_stride, guint width, guint height, guint step)
{
  return mr_sum_abs_diff_bounded (a, a_stride, b, b_stride, width, height,
      step, G_MAXUINT64, NULL);
}

guint64
mr_sum_abs_diff_bounded (const guint8 * a, gsize a_stride, const guint8 * b,
    gsize b_stride, guint width, guint height, guint step, guint64 limit,
    gboolean * complete)
{
  guint n;
  guint64 total = 0;

  step = MAX (step, 1);
  n = mr_subsampled_length (width, step);
  if (complete)
    *complete = TRUE;
  for (guint y = 0; y < height; y += step) {
    const guint8 *ra = a + (gsize) y * a_stride;
    const guint8 *rb = b + (gsize) y * b_stride;

    if (total > limit) {
      if (complete)
        *complete = FALSE;
      break;
    }

    switch (step) {
      case 1:
        total += sad_row_1 (ra, rb, n);
        break;
      case 2:
        total += sad_row_2 (ra, rb, n);
        break;
      case 4:
        total += sad_row_4 (ra, rb, n);
        break;
      default:
        total += sad_row_any (ra, rb, n, step);
        break;
    }
  }
  return total;
}

gdouble
mr_mafd (guint64 sad, guint64 samples, guint bit_depth)
{
  if (samples == 0)
    return 0.0;
  return (gdouble) sad / samples / (G_GUINT64_CONSTANT (1) << bit_depth);
}

/* ---- blackdetect ----------------------------------------------------- */

static const MrContentStamp no_stamp = { MR_CONTENT_TIME_NONE,
  MR_CONTENT_TIME_NONE
};

static inline guint64
elapsed (guint64 from, guint64 to)
{
  return to > from ? to - from : 0;
}

static inline MrContentEvent
event (MrContentEventType type, MrContentStamp at, guint64 duration)
{
  MrContentEvent e = { type, at, duration };
  return e;
}

void
mr_black_detector_init (MrBlackDetector * d, guint64 min_duration)
{
  memset (d, 0, sizeof (*d));
  d->min_duration = min_duration;
  mr_black_detector_reset (d);
}

void
mr_black_detector_reset (MrBlackDetector * d)
{
  d->black = FALSE;
  d->reported = FALSE;
  d->start = no_stamp;
  d->last = no_stamp;
}

/* The stretch from start to @end ends; reported if it lasted */
static guint
black_end (MrBlackDetector * d, MrContentStamp end, MrContentEvent events[2])
{
  guint64 duration = elapsed (d->start.running_time, end.running_time);
  guint n = 0;

  if (duration >= d->min_duration) {
    if (!d->reported) {
      events[n++] = event (MR_CONTENT_START, d->start, 0);
      d->stretches++;
    }
    events[n++] = event (MR_CONTENT_END, end, duration);
  }
  d->black = FALSE;
  d->reported = FALSE;
  return n;
}

guint
mr_black_detector_push (MrBlackDetector * d, gboolean black,
    MrContentStamp now, MrContentEvent events[2])
{
  guint n = 0;

  if (black) {
    if (!d->black) {
      d->black = TRUE;
      d->reported = FALSE;
      d->start = now;
    }
    if (!d->reported && elapsed (d->start.running_time,
            now.running_time) >= d->min_duration) {
      events[n++] = event (MR_CONTENT_START, d->start, 0);
      d->reported = TRUE;
      d->stretches++;
    }
  } else if (d->black) {
    n = black_end (d, now, events);
  }
  d->last = now;
  return n;
}

guint
mr_black_detector_finish (MrBlackDetector * d, MrContentEvent events[2])
{
  if (!d->black)
    return 0;
  return black_end (d, d->last, events);
}

/* ---- freezedetect ---------------------------------------------------- */

void
mr_freeze_detector_init (MrFreezeDetector * d, guint64 min_duration,
    guint64 frame_duration)
{
  memset (d, 0, sizeof (*d));
  d->min_duration = min_duration;
  d->frame_duration = frame_duration;
  mr_freeze_detector_reset (d);
}

void
mr_freeze_detector_reset (MrFreezeDetector * d)
{
  d->have_reference = FALSE;
  d->reference = no_stamp;
  d->frames = 0;
  d->reference_frame = 0;
  d->frozen = FALSE;
}

guint
mr_freeze_detector_push (MrFreezeDetector * d, gboolean same,
    MrContentStamp now, MrContentEvent events[2], gboolean * take_reference)
{
  gboolean frozen = FALSE;
  guint n = 0;

  d->frames++;
  if (d->have_reference) {
    guint64 duration;

    if (d->reference.running_time == MR_CONTENT_TIME_NONE
        || now.running_time == MR_CONTENT_TIME_NONE
        || now.running_time < d->reference.running_time)
      /* a discontinuity: count frames */
      duration = (d->frames - d->reference_frame) * d->frame_duration;
    else
      duration = now.running_time - d->reference.running_time;

    frozen = same;
    if (duration >= d->min_duration) {
      if (!d->frozen) {
        events[n++] = event (MR_CONTENT_START, d->reference, 0);
        d->stretches++;
      }
      if (!frozen)
        events[n++] = event (MR_CONTENT_END, now, duration);
      d->frozen = frozen;
    }
  }

  *take_reference = !frozen;
  if (!frozen) {
    d->have_reference = TRUE;
    d->reference = now;
    d->reference_frame = d->frames;
  }
  return n;
}

/* ---- silencedetect --------------------------------------------------- */

void
mr_silence_detector_init (MrSilenceDetector * d, guint channels,
    gboolean mono, guint64 min_frames)
{
  memset (d, 0, sizeof (*d));
  d->channels = CLAMP (channels, 1, MR_CONTENT_MAX_CHANNELS);
  d->mono = mono;
  d->min_frames = min_frames;
}

void
mr_silence_detector_rescale (MrSilenceDetector * d, guint from_rate,
    guint to_rate)
{
  if (from_rate == 0 || from_rate == to_rate)
    return;
  for (guint c = 0; c < MR_CONTENT_MAX_CHANNELS; c++)
    d->null_samples[c] = d->null_samples[c] * to_rate / from_rate;
}

guint
mr_silence_detector_silent_channels (MrSilenceDetector * d)
{
  guint n = 0;

  if (!d->mono)
    return d->silent[0] ? d->channels : 0;
  for (guint c = 0; c < d->channels; c++)
    n += d->silent[c];
  return n;
}

/* An event found while a mono block is walked channel by channel */
typedef struct
{
  gsize index;                  /* interleaved sample */
  guint run;
  MrContentEventType type;
  gint64 frame;
} Pending;

typedef struct
{
  MrSilenceDetector *d;
  guint64 notify;               /* silent samples a run needs */
  MrSilenceFunc func;
  gpointer user_data;
  /* mono: a block's events, put back in sample order before they go out
   * (each sample makes one at most, and a block is AUDIO_BLOCK samples or
   * one frame of at most MAX_CHANNELS) */
  gboolean defer;
  guint n_pending;
  Pending pending[MAX (AUDIO_BLOCK, MR_CONTENT_MAX_CHANNELS)];
} Pass;

static void
pass_init (Pass * p, MrSilenceDetector * d, MrSilenceFunc func,
    gpointer user_data)
{
  p->d = d;
  p->notify = d->min_frames * (d->mono ? 1 : d->channels);
  p->func = func;
  p->user_data = user_data;
  p->defer = d->mono && d->channels > 1;
  p->n_pending = 0;
}

static inline void
emit (Pass * p, gsize index, guint run, MrContentEventType type, gint64 frame)
{
  if (p->defer) {
    g_assert (p->n_pending < G_N_ELEMENTS (p->pending));
    Pending e = { index, run, type, frame };
    p->pending[p->n_pending++] = e;
  } else {
    p->func (run, type, frame, p->user_data);
  }
}

/* Sends a block's events in the order of their samples */
static void
flush_pending (Pass * p)
{
  for (guint i = 1; i < p->n_pending; i++) {
    Pending e = p->pending[i];
    guint j = i;

    for (; j > 0 && p->pending[j - 1].index > e.index; j--)
      p->pending[j] = p->pending[j - 1];
    p->pending[j] = e;
  }
  for (guint i = 0; i < p->n_pending; i++)
    p->func (p->pending[i].run, p->pending[i].type, p->pending[i].frame,
        p->user_data);
  p->n_pending = 0;
}

/* af_silencedetect's update() for the sample at interleaved index @i of
 * run @run */
static inline void
update (Pass * p, guint run, gsize i, gboolean silent)
{
  MrSilenceDetector *d = p->d;

  if (silent) {
    if (!d->silent[run] && ++d->null_samples[run] >= p->notify) {
      d->silent[run] = TRUE;
      emit (p, i, run, MR_CONTENT_START,
          (gint64) (i / d->channels) + 1 - (gint64) d->min_frames);
    }
  } else {
    if (d->silent[run])
      emit (p, i, run, MR_CONTENT_END, i / d->channels);
    d->null_samples[run] = 0;
    d->silent[run] = FALSE;
  }
}

/* @count silent samples of run @run, the first at interleaved index
 * @first, @stride apart: update() for each in one step */
static void
silent_block (Pass * p, guint run, gsize first, gsize count, gsize stride)
{
  MrSilenceDetector *d = p->d;
  guint64 have = d->null_samples[run], k;

  if (d->silent[run] || count == 0)
    return;
  /* the run reaches notify at the k-th sample (from 0): have + k + 1 */
  k = p->notify > have ? p->notify - have - 1 : 0;
  if (k < count) {
    d->null_samples[run] = have + k;
    update (p, run, first + k * stride, TRUE);
  } else {
    d->null_samples[run] = have + count;
  }
}

/* All samples of the block sound: the first ends a silence */
static void
sound_block (Pass * p, guint run, gsize first)
{
  update (p, run, first, FALSE);
}

/* The magnitudes the loops compare: |x| for S16, the bits of |x| for F32
 * (for non-negative floats the order of the bits is the order of the
 * values, and a NaN is above any threshold: sound, as in FFmpeg) */
static inline guint32
magnitude_s16 (gint16 x)
{
  gint32 v = x;
  return (guint32) (v < 0 ? -v : v);
}

static inline guint32
magnitude_f32 (gfloat x)
{
  guint32 bits;

  memcpy (&bits, &x, sizeof (bits));
  return bits & 0x7fffffffu;
}

/* One pass over interleaved samples; @threshold is the magnitude at or
 * above which a sample is sound.  Returns the largest magnitude. */
#define DEFINE_PUSH(name, type, magnitude)                                   \
static guint32                                                               \
push_##name (Pass * p, const type * s, gsize frames, guint32 threshold)      \
{                                                                            \
  MrSilenceDetector *d = p->d;                                               \
  const guint channels = d->channels;                                        \
  guint32 peak = 0;                                                          \
                                                                             \
  if (!d->mono) {                                                            \
    const gsize total = frames * channels;                                   \
    for (gsize a = 0; a < total; a += AUDIO_BLOCK) {                         \
      const gsize len = MIN (AUDIO_BLOCK, total - a);                        \
      const type *b = s + a;                                                 \
      guint32 sound = 0, top = 0;                                            \
      for (gsize i = 0; i < len; i++) {                                      \
        guint32 m = magnitude (b[i]);                                        \
        sound += m >= threshold;                                             \
        top = m > top ? m : top;                                             \
      }                                                                      \
      peak = MAX (peak, top);                                                \
      if (sound == 0)                                                        \
        silent_block (p, 0, a, len, 1);                                      \
      else if (sound == len)                                                 \
        sound_block (p, 0, a);                                               \
      else                                                                   \
        for (gsize i = 0; i < len; i++)                                      \
          update (p, 0, a + i, magnitude (b[i]) < threshold);                \
    }                                                                        \
    return peak;                                                             \
  }                                                                          \
                                                                             \
  /* mono: each channel is a run of its own, @channels samples apart */      \
  const gsize block = MAX (AUDIO_BLOCK / channels, 1);                       \
  for (gsize f = 0; f < frames; f += block) {                                \
    const gsize len = MIN (block, frames - f);                               \
    for (guint c = 0; c < channels; c++) {                                   \
      const type *b = s + f * channels + c;                                  \
      guint32 sound = 0, top = 0;                                            \
      for (gsize i = 0; i < len; i++) {                                      \
        guint32 m = magnitude (b[i * channels]);                             \
        sound += m >= threshold;                                             \
        top = m > top ? m : top;                                             \
      }                                                                      \
      peak = MAX (peak, top);                                                \
      if (sound == 0)                                                        \
        silent_block (p, c, f * channels + c, len, channels);                \
      else if (sound == len)                                                 \
        sound_block (p, c, f * channels + c);                                \
      else                                                                   \
        for (gsize i = 0; i < len; i++)                                      \
          update (p, c, (f + i) * channels + c,                              \
              magnitude (b[i * channels]) < threshold);                      \
    }                                                                        \
    flush_pending (p);                                                       \
  }                                                                          \
  return peak;                                                               \
}

DEFINE_PUSH (s16, gint16, magnitude_s16);
DEFINE_PUSH (f32, gfloat, magnitude_f32);

guint
mr_silence_detector_push_s16 (MrSilenceDetector * d, const gint16 * samples,
    gsize frames, gint16 noise, MrSilenceFunc func, gpointer user_data)
{
  Pass p;

  pass_init (&p, d, func, user_data);
  /* silent when -noise < x < noise: |x| < noise; never when noise <= 0 */
  return push_s16 (&p, samples, frames, noise > 0 ? (guint32) noise : 0);
}

gfloat
mr_silence_detector_push_f32 (MrSilenceDetector * d, const gfloat * samples,
    gsize frames, gfloat noise, MrSilenceFunc func, gpointer user_data)
{
  Pass p;
  guint32 peak;
  gfloat top;

  pass_init (&p, d, func, user_data);
  peak = push_f32 (&p, samples, frames,
      noise > 0.0f ? magnitude_f32 (noise) : 0);
  memcpy (&top, &peak, sizeof (top));
  return top;
}

void
mr_silence_detector_finish (MrSilenceDetector * d, MrSilenceFunc func,
    gpointer user_data)
{
  guint runs = d->mono ? d->channels : 1;

  for (guint c = 0; c < runs; c++) {
    if (d->silent[c])
      func (c, MR_CONTENT_END, 0, user_data);
    d->silent[c] = FALSE;
    d->null_samples[c] = 0;
  }
}

gint16
mr_silence_noise_s16 (gdouble amplitude)
{
  gdouble n = amplitude * G_MAXINT16;

  return (gint16) CLAMP (n, 0.0, (gdouble) G_MAXINT16);
}

guint64
mr_silence_min_frames (gdouble seconds, guint rate)
{
  guint64 us = (guint64) llround (MAX (seconds, 0.0) * G_USEC_PER_SEC);

  return (us * rate + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;
}

gdouble
mr_db_to_amplitude (gdouble db)
{
  return pow (10.0, db / 20.0);
}
