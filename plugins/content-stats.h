/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_CONTENT_STATS_H__
#define __MR_CONTENT_STATS_H__

#include <glib.h>

G_BEGIN_DECLS

/* Content analysis for the blackdetect, freezedetect and silencedetect
 * elements: the per-frame statistics (dark luma samples, sum of absolute
 * differences, silent audio samples) and FFmpeg's rules for reporting a
 * black, frozen or silent stretch, as libavfilter's vf_blackdetect,
 * vf_freezedetect and af_silencedetect apply them.  Plain C, no GStreamer
 * objects, so that unit tests check it against reference values.
 *
 * The pixel and sample loops are branch-free over contiguous data so that
 * the compiler vectorises them; `step` takes every step-th row and column
 * only (1: every sample). */

#define MR_CONTENT_TIME_NONE G_MAXUINT64
#define MR_CONTENT_MAX_CHANNELS 64

/* ---- video statistics ------------------------------------------------ */

/* The luma value at or below which a sample counts as black, as FFmpeg's
 * blackdetect computes it for 8-bit video: pixel_threshold of the range,
 * above 16 in limited range (16 + 0.10 * 219 = 37 by default, truncated),
 * above 0 in full range (25). */
guint8 mr_black_luma_threshold (gdouble pixel_threshold, gboolean full_range);

/* How many of @length rows or columns a step of @step visits */
guint mr_subsampled_length (guint length, guint step);

/* Luma samples <= @threshold in a @width x @height plane */
guint64 mr_count_dark (const guint8 * plane, gsize stride, guint width,
    guint height, guint step, guint8 threshold);

/* The same, stopping (between two rows) once more than @max_bright samples
 * were above @threshold: the frame can no longer be black, whatever the
 * rest holds.  *@complete (may be NULL) says whether every row was read;
 * the count is then of the rows read. */
guint64 mr_count_dark_bounded (const guint8 * plane, gsize stride,
    guint width, guint height, guint step, guint8 threshold,
    guint64 max_bright, gboolean * complete);

/* Sum of absolute differences between two 8-bit planes of the same size */
guint64 mr_sum_abs_diff (const guint8 * a, gsize a_stride, const guint8 * b,
    gsize b_stride, guint width, guint height, guint step);

/* The same, stopping (between two rows) once the sum exceeds @limit: the
 * frames differ more than a freeze allows, whatever the rest holds. */
guint64 mr_sum_abs_diff_bounded (const guint8 * a, gsize a_stride,
    const guint8 * b, gsize b_stride, guint width, guint height, guint step,
    guint64 limit, gboolean * complete);

/* FFmpeg's mean absolute frame difference: @sad over @samples compared,
 * divided by 2^@bit_depth (not by its maximum) */
gdouble mr_mafd (guint64 sad, guint64 samples, guint bit_depth);

/* ---- reporting rules ------------------------------------------------- */

/* A frame's time: running time, which durations are measured in, and
 * stream time, which is reported with it.  MR_CONTENT_TIME_NONE when
 * unknown. */
typedef struct
{
  guint64 running_time;
  guint64 stream_time;
} MrContentStamp;

typedef enum
{
  MR_CONTENT_START,
  MR_CONTENT_END,
} MrContentEventType;

typedef struct
{
  MrContentEventType type;
  MrContentStamp at;
  guint64 duration;             /* END: since the start, in nanoseconds */
} MrContentEvent;

/* vf_blackdetect: a stretch starts at its first black frame and ends at the
 * first frame that is not black; it is reported only if it lasted
 * @min_duration.  FFmpeg logs the pair at the end; the start is reported
 * here as soon as a frame shows that the stretch has lasted that long, so
 * the same stretches are reported, with the same times, but live.  At the
 * end of the stream an open stretch ends at the last frame's time (not its
 * end: FFmpeg's rule). */
typedef struct
{
  guint64 min_duration;         /* nanoseconds */

  gboolean black;               /* in a run of black frames */
  gboolean reported;            /* and its start was reported */
  MrContentStamp start;         /* the run's first frame */
  MrContentStamp last;          /* the last frame pushed */
  guint64 stretches;            /* starts reported */
} MrBlackDetector;

void mr_black_detector_init (MrBlackDetector * d, guint64 min_duration);
void mr_black_detector_reset (MrBlackDetector * d);
/* Fills @events (start, end, or both at once) and returns how many */
guint mr_black_detector_push (MrBlackDetector * d, gboolean black,
    MrContentStamp now, MrContentEvent events[2]);
/* End of stream: reports an open stretch that lasted min_duration */
guint mr_black_detector_finish (MrBlackDetector * d, MrContentEvent events[2]);

/* vf_freezedetect: each frame is compared with a reference frame, the last
 * one that was not frozen (its MAFD above the noise).  Once a frame is
 * @min_duration after the reference, the freeze starts at the reference's
 * time; the first frame that differs ends it.  A frame that differs after
 * a gap of min_duration reports a start and an end at once.  Nothing is
 * reported at the end of the stream.  When time goes back, the duration is
 * counted in frames of @frame_duration (0: unknown, the duration is 0). */
typedef struct
{
  guint64 min_duration;         /* nanoseconds */
  guint64 frame_duration;       /* nanoseconds, 0 when unknown */

  gboolean have_reference;
  MrContentStamp reference;
  guint64 frames;               /* pushed so far */
  guint64 reference_frame;      /* its index */
  gboolean frozen;              /* a freeze was reported and goes on */
  guint64 stretches;            /* starts reported */
} MrFreezeDetector;

void mr_freeze_detector_init (MrFreezeDetector * d, guint64 min_duration,
    guint64 frame_duration);
void mr_freeze_detector_reset (MrFreezeDetector * d);
/* @same: the frame's MAFD against the reference is within the noise
 * (ignored when there is no reference).  Sets @take_reference when the
 * caller must keep this frame as the new reference. */
guint mr_freeze_detector_push (MrFreezeDetector * d, gboolean same,
    MrContentStamp now, MrContentEvent events[2], gboolean * take_reference);

/* af_silencedetect: a sample is silent when its magnitude is below the
 * noise amplitude.  A run of silent samples reported once it is
 * @min_frames long, starting at its first sample; it ends at the first
 * sample that is not silent, or at the end of the data at the end of the
 * stream.  By default all channels form one run (a sound on any channel
 * breaks it); with @mono each channel is tracked on its own. */
typedef struct
{
  guint channels;               /* interleaved in the data, <= MAX_CHANNELS */
  gboolean mono;                /* each channel on its own */
  guint64 min_frames;           /* the minimum duration, in sample frames */

  guint64 null_samples[MR_CONTENT_MAX_CHANNELS];        /* current runs */
  gboolean silent[MR_CONTENT_MAX_CHANNELS];     /* reported and going on */
} MrSilenceDetector;

/* @frame: START: the first silent frame of the run, relative to the first
 * frame of the data pushed (negative: in data pushed earlier); END: the
 * first frame that is not silent, or, from finish(), 0 for "after the last
 * frame pushed".  @channel: 0 unless mono. */
typedef void (*MrSilenceFunc) (guint channel, MrContentEventType type,
    gint64 frame, gpointer user_data);

void mr_silence_detector_init (MrSilenceDetector * d, guint channels,
    gboolean mono, guint64 min_frames);
/* The sample rate changed: the runs are scaled, as FFmpeg does */
void mr_silence_detector_rescale (MrSilenceDetector * d, guint from_rate,
    guint to_rate);
/* Each returns the largest magnitude in the data: 0..32768, 0..+inf */
guint mr_silence_detector_push_s16 (MrSilenceDetector * d,
    const gint16 * samples, gsize frames, gint16 noise, MrSilenceFunc func,
    gpointer user_data);
gfloat mr_silence_detector_push_f32 (MrSilenceDetector * d,
    const gfloat * samples, gsize frames, gfloat noise, MrSilenceFunc func,
    gpointer user_data);
void mr_silence_detector_finish (MrSilenceDetector * d, MrSilenceFunc func,
    gpointer user_data);
/* Channels in a reported silence (mono), or 0 / all channels */
guint mr_silence_detector_silent_channels (MrSilenceDetector * d);

/* FFmpeg's conversions: the S16 noise level (amplitude * 32767, truncated;
 * a sample is silent when strictly within it), and a duration in seconds
 * to sample frames (microseconds first, then rounded to the nearest) */
gint16 mr_silence_noise_s16 (gdouble amplitude);
guint64 mr_silence_min_frames (gdouble seconds, guint rate);

/* 10^(dB/20) */
gdouble mr_db_to_amplitude (gdouble db);

G_END_DECLS

#endif /* __MR_CONTENT_STATS_H__ */
