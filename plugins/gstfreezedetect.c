/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-freezedetect
 * @title: freezedetect
 * @see_also: blackdetect, silencedetect
 *
 * Detects frozen video, with the semantics and defaults of FFmpeg's
 * `freezedetect` filter, and passes every buffer through untouched.
 *
 * Each frame is compared with a reference: the last frame that was not
 * frozen.  Their difference is FFmpeg's MAFD, the sum of absolute
 * differences over every plane (luma and chroma, as FFmpeg) divided by the
 * number of samples compared and by 2^8.  A frame is frozen when its MAFD
 * is at or below `noise` (in dB: -60 dB is FFmpeg's 0.001).  Once a frame
 * comes `duration` seconds after the reference, a freeze starts at the
 * reference's time; the first frame that differs ends it.  A frame that
 * differs after a gap of `duration` in the timestamps reports a start and
 * an end at once, and nothing is reported at EOS, as in FFmpeg.
 * `subsample` reads every Nth row and column of each plane.
 *
 * The element posts element messages named `freezedetect` with:
 *
 * - `event` (#gchararray): `start` or `end`
 * - `running-time`, `stream-time` (#GstClockTime): of the reference frame
 *   (`start`: the first frame of the freeze) or of the first frame that
 *   differs (`end`)
 * - `duration` (#GstClockTime, `end` only): of the freeze
 *
 * `stats` is an `application/x-freezedetect` structure: `frames`
 * (#guint64: measured), `in-freeze` (#gboolean: a freeze was reported and
 * goes on), `freeze-start` (#GstClockTime: its running time, or
 * #GST_CLOCK_TIME_NONE), `stretches` (#guint64: freezes reported) and
 * `mafd` (#gdouble: the last frame's, against the reference; -1 when there
 * was none; a lower bound above `noise` when the frames were known to
 * differ before their end).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc pattern=colors num-buffers=100 ! video/x-raw,framerate=25/1 ! freezedetect ! fakesink
 * ]| posts `start` at 0 once two seconds of the same picture have passed
 * (nothing at EOS).
 *
 * ## Design
 * The sum of absolute differences (a branch-free loop the compiler
 * vectorises) and FFmpeg's reporting rule are plain C in
 * `content-stats.c`.  The sum stops between two rows once it is past what
 * `noise` allows: the decision is FFmpeg's, but a moving picture costs its
 * first rows only.  The reference is a reference on the buffer, kept
 * mapped read-only, as FFmpeg keeps its frame: the element adds one buffer
 * to the pools' minimum in the allocation query, so that an upstream pool
 * has a buffer to spare for it however long a freeze lasts.  Times are
 * running times, so durations hold across segments.  QoS is off: every
 * frame is analysed and none is dropped.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gstcontentdetect.h"
#include "gstfreezedetect.h"
#include "mroute-elements.h"

GST_DEBUG_CATEGORY_STATIC (gst_freeze_detect_debug);
#define GST_CAT_DEFAULT gst_freeze_detect_debug

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
  PROP_NOISE,
  PROP_DURATION,
  PROP_SUBSAMPLE,
  PROP_STATS,
};

#define DEFAULT_NOISE -60.0     /* dB */
#define DEFAULT_DURATION 2.0    /* s */
#define DEFAULT_SUBSAMPLE 1
#define MIN_NOISE -200.0        /* dB */
#define MAX_DURATION 86400.0    /* s */
#define MAX_SUBSAMPLE 64


#define gst_freeze_detect_parent_class parent_class
G_DEFINE_TYPE (GstFreezeDetect, gst_freeze_detect, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (freezedetect, "freezedetect", GST_RANK_NONE,
    GST_TYPE_FREEZE_DETECT);

static void gst_freeze_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_freeze_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_freeze_detect_start (GstBaseTransform * trans);
static gboolean gst_freeze_detect_stop (GstBaseTransform * trans);
static gboolean gst_freeze_detect_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_freeze_detect_propose_allocation (GstBaseTransform *
    trans, GstQuery * decide_query, GstQuery * query);
static gboolean gst_freeze_detect_set_info (GstVideoFilter * filter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);
static GstFlowReturn gst_freeze_detect_transform_frame_ip (GstVideoFilter *
    filter, GstVideoFrame * frame);

static void
gst_freeze_detect_class_init (GstFreezeDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = gst_freeze_detect_set_property;
  gobject_class->get_property = gst_freeze_detect_get_property;

  g_object_class_install_property (gobject_class, PROP_NOISE,
      g_param_spec_double ("noise", "Noise",
          "Largest difference between frames that still counts as the same "
          "picture, in dB of the full scale (FFmpeg's n: -60 dB = 0.001)",
          MIN_NOISE, 0.0, DEFAULT_NOISE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DURATION,
      g_param_spec_double ("duration", "Duration",
          "Shortest freeze reported, in seconds (FFmpeg's d)", 0.0,
          MAX_DURATION, DEFAULT_DURATION, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SUBSAMPLE,
      g_param_spec_uint ("subsample", "Subsample",
          "Compare every Nth row and column of each plane (1 = every "
          "sample)", 1, MAX_SUBSAMPLE, DEFAULT_SUBSAMPLE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFreezeDetect:stats:
   *
   * An `application/x-freezedetect` structure with `frames`, `stretches`
   * (#guint64), `in-freeze` (#gboolean), `freeze-start` (#GstClockTime) and
   * `mafd` (#gdouble).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "The detector's state and the last frame's difference",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Freeze detector",
      "Filter/Analyzer/Video", "Detects frozen video, as FFmpeg's "
      "freezedetect", "mroute developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_freeze_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_freeze_detect_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_freeze_detect_sink_event);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_freeze_detect_propose_allocation);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_freeze_detect_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_freeze_detect_transform_frame_ip);

  GST_DEBUG_CATEGORY_INIT (gst_freeze_detect_debug, "freezedetect", 0,
      "mroute freeze detector");
}

static void
gst_freeze_detect_init (GstFreezeDetect * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);

  gst_base_transform_set_passthrough (trans, TRUE);
  gst_base_transform_set_qos_enabled (trans, FALSE);

  self->noise_db = DEFAULT_NOISE;
  self->duration = DEFAULT_DURATION;
  self->subsample = DEFAULT_SUBSAMPLE;
  self->last_mafd = -1.0;
  mr_freeze_detector_init (&self->detector,
      gst_content_detect_seconds_to_ns (self->duration),
      0);
}

static GstStructure *
gst_freeze_detect_make_stats (GstFreezeDetect * self)
{
  MrFreezeDetector *d = &self->detector;

  return gst_structure_new ("application/x-freezedetect",
      "frames", G_TYPE_UINT64, self->frames,
      "in-freeze", G_TYPE_BOOLEAN, d->frozen,
      "freeze-start", G_TYPE_UINT64,
      d->frozen ? d->reference.running_time : GST_CLOCK_TIME_NONE,
      "stretches", G_TYPE_UINT64, d->stretches,
      "mafd", G_TYPE_DOUBLE, self->last_mafd, NULL);
}

static void
gst_freeze_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFreezeDetect *self = GST_FREEZE_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NOISE:
      self->noise_db = g_value_get_double (value);
      break;
    case PROP_DURATION:
      self->duration = g_value_get_double (value);
      self->detector.min_duration =
          gst_content_detect_seconds_to_ns (self->duration);
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
gst_freeze_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstFreezeDetect *self = GST_FREEZE_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NOISE:
      g_value_set_double (value, self->noise_db);
      break;
    case PROP_DURATION:
      g_value_set_double (value, self->duration);
      break;
    case PROP_SUBSAMPLE:
      g_value_set_uint (value, self->subsample);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_freeze_detect_make_stats (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_freeze_detect_drop_reference (GstFreezeDetect * self)
{
  if (self->have_reference)
    gst_video_frame_unmap (&self->reference);
  self->have_reference = FALSE;
}

static gboolean
gst_freeze_detect_start (GstBaseTransform * trans)
{
  GstFreezeDetect *self = GST_FREEZE_DETECT (trans);

  gst_freeze_detect_drop_reference (self);
  GST_OBJECT_LOCK (self);
  mr_freeze_detector_init (&self->detector,
      gst_content_detect_seconds_to_ns (self->duration),
      self->detector.frame_duration);
  self->frames = 0;
  self->last_mafd = -1.0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_freeze_detect_stop (GstBaseTransform * trans)
{
  gst_freeze_detect_drop_reference (GST_FREEZE_DETECT (trans));
  return TRUE;
}

static gboolean
gst_freeze_detect_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstFreezeDetect *self = GST_FREEZE_DETECT (filter);
  gint fps_n = GST_VIDEO_INFO_FPS_N (in_info);
  gint fps_d = GST_VIDEO_INFO_FPS_D (in_info);

  /* a new size or format is a new picture: the reference no longer
   * compares, which ends a freeze at the next frame */
  GST_OBJECT_LOCK (self);
  self->detector.frame_duration = fps_n > 0 ?
      gst_util_uint64_scale_int (GST_SECOND, fps_d, fps_n) : 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Adds the buffer the reference holds to what upstream must provide */
static gboolean
gst_freeze_detect_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  guint i, n, size, min, max;
  GstBufferPool *pool;
  GstCaps *caps;
  GstVideoInfo info;

  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->propose_allocation (trans,
          decide_query, query))
    return FALSE;

  n = gst_query_get_n_allocation_pools (query);
  for (i = 0; i < n; i++) {
    gst_query_parse_nth_allocation_pool (query, i, &pool, &size, &min, &max);
    gst_query_set_nth_allocation_pool (query, i, pool, size, min + 1,
        max ? max + 1 : 0);
    if (pool)
      gst_object_unref (pool);
  }
  if (n == 0) {
    gst_query_parse_allocation (query, &caps, NULL);
    if (caps && gst_video_info_from_caps (&info, caps))
      gst_query_add_allocation_pool (query, NULL,
          GST_VIDEO_INFO_SIZE (&info), 1, 0);
  }
  return TRUE;
}


static gboolean
gst_freeze_detect_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstFreezeDetect *self = GST_FREEZE_DETECT (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    gst_freeze_detect_drop_reference (self);
    GST_OBJECT_LOCK (self);
    mr_freeze_detector_reset (&self->detector);
    GST_OBJECT_UNLOCK (self);
  }
  /* FFmpeg reports nothing at the end of the stream */

  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}


/* FFmpeg's MAFD over every plane.  A plane is as wide as its bytes per
 * row (both chroma of NV12 in one), and its chroma rows are the picture's
 * height shifted down (rounded down, as FFmpeg). */
static void
plane_size (const GstVideoFrame * frame, guint plane, guint * width,
    guint * height)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  guint comp;

  for (comp = 0; comp < GST_VIDEO_FRAME_N_COMPONENTS (frame); comp++)
    if (GST_VIDEO_FORMAT_INFO_PLANE (finfo, comp) == plane)
      break;
  *width = GST_VIDEO_FRAME_COMP_WIDTH (frame, comp) *
      GST_VIDEO_FRAME_COMP_PSTRIDE (frame, comp);
  *height = GST_VIDEO_FRAME_HEIGHT (frame) >>
      GST_VIDEO_FORMAT_INFO_H_SUB (finfo, comp);
}

/* The MAFD against the reference; the sum stops as soon as it exceeds what
 * a freeze allows (@noise), so a moving picture costs its first rows only.
 * *@complete: the whole frame was compared (the MAFD is then exact, else a
 * lower bound above @noise). */
static gdouble
gst_freeze_detect_mafd (const GstVideoFrame * ref, const GstVideoFrame * frame,
    guint step, gdouble noise, gboolean * complete)
{
  guint64 sad = 0, samples = 0, limit;
  guint width, height;

  for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES (frame); plane++) {
    plane_size (frame, plane, &width, &height);
    samples += (guint64) mr_subsampled_length (width, step) *
        mr_subsampled_length (height, step);
  }
  /* frozen: sad / samples / 256 <= noise */
  limit = (guint64) floor (noise * samples * 256.0 + 1e-6);
  *complete = TRUE;
  for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES (frame); plane++) {
    if (sad > limit) {
      *complete = FALSE;
      break;
    }
    plane_size (frame, plane, &width, &height);
    sad += mr_sum_abs_diff_bounded (GST_VIDEO_FRAME_PLANE_DATA (frame, plane),
        GST_VIDEO_FRAME_PLANE_STRIDE (frame, plane),
        GST_VIDEO_FRAME_PLANE_DATA (ref, plane),
        GST_VIDEO_FRAME_PLANE_STRIDE (ref, plane), width, height, step,
        limit - sad, complete);
    if (!*complete)
      break;
  }
  return mr_mafd (sad, samples, 8);
}

static gboolean
same_layout (const GstVideoInfo * a, const GstVideoInfo * b)
{
  return GST_VIDEO_INFO_FORMAT (a) == GST_VIDEO_INFO_FORMAT (b)
      && GST_VIDEO_INFO_WIDTH (a) == GST_VIDEO_INFO_WIDTH (b)
      && GST_VIDEO_INFO_HEIGHT (a) == GST_VIDEO_INFO_HEIGHT (b);
}

static GstFlowReturn
gst_freeze_detect_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstFreezeDetect *self = GST_FREEZE_DETECT (filter);
  gdouble noise, mafd = -1.0;
  guint step;
  gboolean same = FALSE, take_reference = FALSE, timed, complete = TRUE;
  MrContentStamp now;
  MrContentEvent events[2];
  guint n_events = 0;

  GST_OBJECT_LOCK (self);
  noise = mr_db_to_amplitude (self->noise_db);
  step = self->subsample;
  GST_OBJECT_UNLOCK (self);

  if (self->have_reference && same_layout (&self->reference.info,
          &frame->info)) {
    mafd = gst_freeze_detect_mafd (&self->reference, frame, step, noise,
        &complete);
    same = complete && mafd <= noise;
  }
  timed = gst_content_detect_stamp (GST_BASE_TRANSFORM (self), frame->buffer,
      &now);

  GST_LOG_OBJECT (self, "%" GST_TIME_FORMAT ": MAFD %.6f",
      GST_TIME_ARGS (GST_BUFFER_PTS (frame->buffer)), mafd);

  GST_OBJECT_LOCK (self);
  self->frames++;
  self->last_mafd = mafd;
  if (timed)
    n_events = mr_freeze_detector_push (&self->detector, same, now, events,
        &take_reference);
  GST_OBJECT_UNLOCK (self);

  if (take_reference) {
    gst_freeze_detect_drop_reference (self);
    /* without NO_REF: the mapping holds a ref on the buffer */
    self->have_reference = gst_video_frame_map (&self->reference,
        &frame->info, frame->buffer, GST_MAP_READ);
  }

  gst_content_detect_post (GST_ELEMENT (self), "freezedetect", "freeze",
      events, n_events);
  return GST_FLOW_OK;
}
