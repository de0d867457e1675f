/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-blackdetect
 * @title: blackdetect
 * @see_also: freezedetect, silencedetect
 *
 * Detects stretches of black (or almost black) video, with the semantics
 * and defaults of FFmpeg's `blackdetect` filter, and passes every buffer
 * through untouched.
 *
 * A frame is black when at least `picture-threshold` of its luma samples
 * are at or below the black level: `pixel-threshold` of the luma range
 * above its bottom, truncated to a whole level (16 + 0.10 x 219 = 37 in
 * limited range, 0.10 x 255 = 25 in full range, as the caps' colorimetry
 * says; GStreamer takes GRAY8 without colorimetry as full range).  A stretch starts at its first black frame and ends at the first
 * frame that is not black; it is reported only if it lasted `min-duration`
 * seconds.  Only the luma plane is read; `subsample` reads every Nth row
 * and column of it.
 *
 * The element posts element messages named `blackdetect` with:
 *
 * - `event` (#gchararray): `start` or `end`
 * - `running-time`, `stream-time` (#GstClockTime): of the stretch's first
 *   black frame (`start`) or of the first frame that is not black (`end`)
 * - `duration` (#GstClockTime, `end` only): of the stretch
 *
 * FFmpeg logs a stretch once it is over; `start` is posted as soon as a
 * frame shows that the stretch has lasted `min-duration`, with the time of
 * its first frame, so the stretches reported and their times are FFmpeg's
 * but a listener learns of a black screen while it lasts.  At EOS an open
 * stretch that lasted long enough ends at the time of the last frame (its
 * timestamp, not its end: FFmpeg's rule).  Frames without a timestamp, or
 * outside the segment, are measured but do not move the detector.
 *
 * `stats` is an `application/x-blackdetect` structure: `frames` and
 * `black-frames` (#guint64: measured, and black among them), `in-black`
 * (#gboolean: a stretch was reported and goes on), `black-start`
 * (#GstClockTime: its running time, or #GST_CLOCK_TIME_NONE), `stretches`
 * (#guint64: stretches reported), `picture-black-ratio` (#gdouble: the last
 * frame's share of black samples; of the rows read when the frame was
 * known not to be black before its end) and `luma-threshold` (#guint: the
 * black level used, in luma levels).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc pattern=black num-buffers=75 ! video/x-raw,framerate=25/1 ! blackdetect ! fakesink
 * ]| posts `start` at 0 after two seconds of black, and `end` at EOS with
 * the time of the last frame, 2.96 s.
 *
 * ## Design
 * The count of dark samples (a branch-free loop that the compiler
 * vectorises) and FFmpeg's reporting rule are plain C in
 * `content-stats.c`.  The count stops between two rows once more bright
 * samples were seen than `picture-threshold` allows: the decision is
 * FFmpeg's, but a picture that is not black costs its first rows only.  Times are running times, so durations hold across
 * segments; the stream time of each frame travels with it, for reports.
 * The frame is mapped read-only: the element is a #GstVideoFilter in
 * passthrough, with QoS off so that no frame escapes the analysis.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gstcontentdetect.h"
#include "gstblackdetect.h"
#include "mroute-elements.h"

GST_DEBUG_CATEGORY_STATIC (gst_black_detect_debug);
#define GST_CAT_DEFAULT gst_black_detect_debug

G_STATIC_ASSERT (MR_CONTENT_TIME_NONE == GST_CLOCK_TIME_NONE);

#define VIDEO_CAPS \
    GST_VIDEO_CAPS_MAKE ("{ I420, YV12, NV12, NV21, Y42B, Y444, Y41B, GRAY8 }")

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));

enum
{
  PROP_0,
  PROP_PIXEL_THRESHOLD,
  PROP_PICTURE_THRESHOLD,
  PROP_MIN_DURATION,
  PROP_SUBSAMPLE,
  PROP_STATS,
};

#define DEFAULT_PIXEL_THRESHOLD 0.10
#define DEFAULT_PICTURE_THRESHOLD 0.98
#define DEFAULT_MIN_DURATION 2.0        /* s */
#define DEFAULT_SUBSAMPLE 1
#define MAX_DURATION 86400.0    /* s */
#define MAX_SUBSAMPLE 64


#define gst_black_detect_parent_class parent_class
G_DEFINE_TYPE (GstBlackDetect, gst_black_detect, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (blackdetect, "blackdetect", GST_RANK_NONE,
    GST_TYPE_BLACK_DETECT);

static void gst_black_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_black_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_black_detect_start (GstBaseTransform * trans);
static gboolean gst_black_detect_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static GstFlowReturn gst_black_detect_transform_frame_ip (GstVideoFilter *
    filter, GstVideoFrame * frame);

static void
gst_black_detect_class_init (GstBlackDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = gst_black_detect_set_property;
  gobject_class->get_property = gst_black_detect_get_property;

  g_object_class_install_property (gobject_class, PROP_PIXEL_THRESHOLD,
      g_param_spec_double ("pixel-threshold", "Pixel threshold",
          "Luma at or below which a sample is black, as a fraction of the "
          "luma range above black (FFmpeg's pix_th)", 0.0, 1.0,
          DEFAULT_PIXEL_THRESHOLD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PICTURE_THRESHOLD,
      g_param_spec_double ("picture-threshold", "Picture threshold",
          "Fraction of black samples from which a frame is black (FFmpeg's "
          "pic_th)", 0.0, 1.0, DEFAULT_PICTURE_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MIN_DURATION,
      g_param_spec_double ("min-duration", "Minimum duration",
          "Shortest black stretch reported, in seconds (FFmpeg's d)", 0.0,
          MAX_DURATION, DEFAULT_MIN_DURATION, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SUBSAMPLE,
      g_param_spec_uint ("subsample", "Subsample",
          "Read every Nth row and column of luma (1 = every sample)", 1,
          MAX_SUBSAMPLE, DEFAULT_SUBSAMPLE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstBlackDetect:stats:
   *
   * An `application/x-blackdetect` structure with `frames`, `black-frames`,
   * `stretches` (#guint64), `in-black` (#gboolean), `black-start`
   * (#GstClockTime), `picture-black-ratio` (#gdouble) and `luma-threshold`
   * (#guint).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "The detector's state and the last frame's measure",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Black detector",
      "Filter/Analyzer/Video", "Detects stretches of black video, as "
      "FFmpeg's blackdetect", "mroute developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_black_detect_start);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_black_detect_sink_event);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_black_detect_transform_frame_ip);

  GST_DEBUG_CATEGORY_INIT (gst_black_detect_debug, "blackdetect", 0,
      "mroute black detector");
}

static void
gst_black_detect_init (GstBlackDetect * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);

  gst_base_transform_set_passthrough (trans, TRUE);
  /* a late frame is still analysed, and never dropped */
  gst_base_transform_set_qos_enabled (trans, FALSE);

  self->pixel_threshold = DEFAULT_PIXEL_THRESHOLD;
  self->picture_threshold = DEFAULT_PICTURE_THRESHOLD;
  self->min_duration = DEFAULT_MIN_DURATION;
  self->subsample = DEFAULT_SUBSAMPLE;
  mr_black_detector_init (&self->detector,
      gst_content_detect_seconds_to_ns (self->min_duration));
}

static GstStructure *
gst_black_detect_make_stats (GstBlackDetect * self)
{
  MrBlackDetector *d = &self->detector;

  return gst_structure_new ("application/x-blackdetect",
      "frames", G_TYPE_UINT64, self->frames,
      "black-frames", G_TYPE_UINT64, self->black_frames,
      "in-black", G_TYPE_BOOLEAN, d->reported,
      "black-start", G_TYPE_UINT64,
      d->reported ? d->start.running_time : GST_CLOCK_TIME_NONE,
      "stretches", G_TYPE_UINT64, d->stretches,
      "picture-black-ratio", G_TYPE_DOUBLE, self->last_ratio,
      "luma-threshold", G_TYPE_UINT, self->luma_threshold, NULL);
}

static void
gst_black_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstBlackDetect *self = GST_BLACK_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PIXEL_THRESHOLD:
      self->pixel_threshold = g_value_get_double (value);
      break;
    case PROP_PICTURE_THRESHOLD:
      self->picture_threshold = g_value_get_double (value);
      break;
    case PROP_MIN_DURATION:
      self->min_duration = g_value_get_double (value);
      self->detector.min_duration =
          gst_content_detect_seconds_to_ns (self->min_duration);
      break;
    case PROP_SUBSAMPLE:
      self->subsample = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_black_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstBlackDetect *self = GST_BLACK_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PIXEL_THRESHOLD:
      g_value_set_double (value, self->pixel_threshold);
      break;
    case PROP_PICTURE_THRESHOLD:
      g_value_set_double (value, self->picture_threshold);
      break;
    case PROP_MIN_DURATION:
      g_value_set_double (value, self->min_duration);
      break;
    case PROP_SUBSAMPLE:
      g_value_set_uint (value, self->subsample);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_black_detect_make_stats (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_black_detect_start (GstBaseTransform * trans)
{
  GstBlackDetect *self = GST_BLACK_DETECT (trans);

  GST_OBJECT_LOCK (self);
  mr_black_detector_init (&self->detector,
      gst_content_detect_seconds_to_ns (self->min_duration));
  self->frames = 0;
  self->black_frames = 0;
  self->last_ratio = 0.0;
  self->luma_threshold = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}


static gboolean
gst_black_detect_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstBlackDetect *self = GST_BLACK_DETECT (trans);
  MrContentEvent events[2];
  guint n_events;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      GST_OBJECT_LOCK (self);
      n_events = mr_black_detector_finish (&self->detector, events);
      GST_OBJECT_UNLOCK (self);
      gst_content_detect_post (GST_ELEMENT (self), "blackdetect", "black",
          events, n_events);
      break;
    case GST_EVENT_FLUSH_STOP:
      GST_OBJECT_LOCK (self);
      mr_black_detector_reset (&self->detector);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }

  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}


static GstFlowReturn
gst_black_detect_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstBlackDetect *self = GST_BLACK_DETECT (filter);
  const GstVideoColorimetry *colorimetry =
      &GST_VIDEO_INFO_COLORIMETRY (&frame->info);
  guint width = GST_VIDEO_FRAME_COMP_WIDTH (frame, GST_VIDEO_COMP_Y);
  guint height = GST_VIDEO_FRAME_COMP_HEIGHT (frame, GST_VIDEO_COMP_Y);
  gdouble pixel_threshold, picture_threshold, ratio;
  guint step;
  guint8 luma;
  guint64 dark, measured, max_bright;
  gboolean black, timed, complete;
  MrContentStamp now;
  MrContentEvent events[2];
  guint n_events = 0;

  GST_OBJECT_LOCK (self);
  pixel_threshold = self->pixel_threshold;
  picture_threshold = self->picture_threshold;
  step = self->subsample;
  GST_OBJECT_UNLOCK (self);

  luma = mr_black_luma_threshold (pixel_threshold,
      colorimetry->range == GST_VIDEO_COLOR_RANGE_0_255);
  measured = (guint64) mr_subsampled_length (width, step) *
      mr_subsampled_length (height, step);
  /* the count stops as soon as too many bright samples make a black
   * picture impossible: most frames are decided in their first rows */
  max_bright = (guint64) floor ((1.0 - picture_threshold) * measured + 1e-6);
  dark = mr_count_dark_bounded (GST_VIDEO_FRAME_COMP_DATA (frame,
          GST_VIDEO_COMP_Y), GST_VIDEO_FRAME_COMP_STRIDE (frame,
          GST_VIDEO_COMP_Y), width, height, step, luma, max_bright,
      &complete);
  ratio = measured ? (gdouble) dark / measured : 0.0;
  black = complete && ratio >= picture_threshold;
  timed = gst_content_detect_stamp (GST_BASE_TRANSFORM (self), frame->buffer,
      &now);

  GST_LOG_OBJECT (self, "%" GST_TIME_FORMAT ": %.4f black (<= %u)",
      GST_TIME_ARGS (GST_BUFFER_PTS (frame->buffer)), ratio, luma);

  GST_OBJECT_LOCK (self);
  self->frames++;
  self->black_frames += black;
  self->last_ratio = ratio;
  self->luma_threshold = luma;
  if (timed)
    n_events = mr_black_detector_push (&self->detector, black, now, events);
  GST_OBJECT_UNLOCK (self);

  gst_content_detect_post (GST_ELEMENT (self), "blackdetect", "black",
      events, n_events);
  return GST_FLOW_OK;
}
