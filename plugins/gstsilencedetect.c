/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-silencedetect
 * @title: silencedetect
 * @see_also: blackdetect, freezedetect, level
 *
 * Detects silence, with the semantics and defaults of FFmpeg's
 * `silencedetect` filter, and passes every buffer through untouched.
 * Interleaved S16LE and F32LE audio, any rate, up to 64 channels.
 *
 * A sample is silent when its magnitude is strictly below `noise` (in dB of
 * the full scale; -60 dB is FFmpeg's 0.001, which for S16 is 32767 x 0.001
 * truncated: |x| < 32).  Silence starts at the first sample of a run of
 * silent samples, and is reported once the run has lasted `duration`
 * seconds; it ends at the first sample that is not silent.  By default the
 * channels form one run, so a sound on any channel ends it (FFmpeg's
 * default); with `mono` each channel is detected on its own.  At EOS an
 * open silence ends at the end of the last buffer, as in FFmpeg.
 *
 * The element posts element messages named `silencedetect` with:
 *
 * - `event` (#gchararray): `start` or `end`
 * - `running-time`, `stream-time` (#GstClockTime): of the silence's first
 *   sample (`start`) or of the first sample after it (`end`)
 * - `duration` (#GstClockTime, `end` only): of the silence
 * - `channel` (#guint, with `mono` only): the channel, from 0
 *
 * `stats` is an `application/x-silencedetect` structure: `samples`
 * (#guint64: sample frames measured), `in-silence` (#gboolean: a silence
 * was reported and goes on, on any channel with `mono`), `silence-start`
 * (#GstClockTime: the running time of the earliest such silence, or
 * #GST_CLOCK_TIME_NONE), `silent-channels` (#guint), `stretches` (#guint64:
 * silences reported) and `peak-db` (#gdouble: the level of the last
 * buffer, its largest sample in dBFS, -200 for digital silence).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m audiotestsrc wave=silence num-buffers=200 ! audio/x-raw,format=S16LE,rate=48000 ! silencedetect ! fakesink
 * ]| posts `start` at 0 once two seconds have passed, and `end` at EOS,
 * 4.27 s.
 *
 * ## Design
 * The runs are plain C in `content-stats.c`, sample by sample as FFmpeg
 * counts them, but in blocks: a block that is all silence or all sound is
 * one branch-free, vectorised loop and one step of the state; only blocks
 * that mix both are walked sample by sample.  A buffer without a timestamp
 * continues the previous one.  Start times fall where the run began, in
 * an earlier buffer if need be.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gstcontentdetect.h"
#include "gstsilencedetect.h"
#include "mroute-elements.h"

GST_DEBUG_CATEGORY_STATIC (gst_silence_detect_debug);
#define GST_CAT_DEFAULT gst_silence_detect_debug

G_STATIC_ASSERT (MR_CONTENT_TIME_NONE == GST_CLOCK_TIME_NONE);

#define AUDIO_CAPS \
    "audio/x-raw, format = (string) { " GST_AUDIO_NE (S16) ", " \
    GST_AUDIO_NE (F32) " }, rate = (int) [ 1, MAX ], " \
    "channels = (int) [ 1, 64 ], layout = (string) interleaved"

enum
{
  PROP_0,
  PROP_NOISE,
  PROP_DURATION,
  PROP_MONO,
  PROP_STATS,
};

#define DEFAULT_NOISE -60.0     /* dB */
#define DEFAULT_DURATION 2.0    /* s */
#define DEFAULT_MONO FALSE
#define MIN_DB -200.0
#define MAX_DURATION 86400.0    /* s */

typedef struct
{
  guint channel;
  MrContentEventType type;
  MrContentStamp at;
  guint64 duration;
} SilenceEvent;

#define gst_silence_detect_parent_class parent_class
G_DEFINE_TYPE (GstSilenceDetect, gst_silence_detect, GST_TYPE_AUDIO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (silencedetect, "silencedetect", GST_RANK_NONE,
    GST_TYPE_SILENCE_DETECT);

static void gst_silence_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_silence_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_silence_detect_finalize (GObject * object);
static gboolean gst_silence_detect_start (GstBaseTransform * trans);
static gboolean gst_silence_detect_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static GstFlowReturn gst_silence_detect_transform_ip (GstBaseTransform * trans,
    GstBuffer * buffer);
static gboolean gst_silence_detect_setup (GstAudioFilter * filter,
    const GstAudioInfo * info);

static void
gst_silence_detect_class_init (GstSilenceDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstAudioFilterClass *filter_class = GST_AUDIO_FILTER_CLASS (klass);
  GstCaps *caps;

  gobject_class->set_property = gst_silence_detect_set_property;
  gobject_class->get_property = gst_silence_detect_get_property;
  gobject_class->finalize = gst_silence_detect_finalize;

  g_object_class_install_property (gobject_class, PROP_NOISE,
      g_param_spec_double ("noise", "Noise",
          "Level below which a sample is silent, in dB of the full scale "
          "(FFmpeg's n: -60 dB = 0.001)", MIN_DB, 0.0, DEFAULT_NOISE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DURATION,
      g_param_spec_double ("duration", "Duration",
          "Shortest silence reported, in seconds (FFmpeg's d)", 0.0,
          MAX_DURATION, DEFAULT_DURATION, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MONO,
      g_param_spec_boolean ("mono", "Mono",
          "Detect silence on each channel on its own, instead of on all "
          "channels at once (FFmpeg's m)", DEFAULT_MONO,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstSilenceDetect:stats:
   *
   * An `application/x-silencedetect` structure with `samples`, `stretches`
   * (#guint64), `in-silence` (#gboolean), `silence-start` (#GstClockTime),
   * `silent-channels` (#guint) and `peak-db` (#gdouble).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "The detector's state and the last buffer's level",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  caps = gst_caps_from_string (AUDIO_CAPS);
  gst_audio_filter_class_add_pad_templates (filter_class, caps);
  gst_caps_unref (caps);
  gst_element_class_set_static_metadata (element_class, "Silence detector",
      "Filter/Analyzer/Audio", "Detects silence, as FFmpeg's silencedetect",
      "mroute developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_silence_detect_start);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_silence_detect_sink_event);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_silence_detect_transform_ip);
  filter_class->setup = GST_DEBUG_FUNCPTR (gst_silence_detect_setup);

  GST_DEBUG_CATEGORY_INIT (gst_silence_detect_debug, "silencedetect", 0,
      "mroute silence detector");
}

static void
gst_silence_detect_reset (GstSilenceDetect * self)
{
  mr_silence_detector_init (&self->detector, self->detector.channels,
      self->mono, mr_silence_min_frames (self->duration, self->rate));
  for (guint c = 0; c < MR_CONTENT_MAX_CHANNELS; c++)
    self->start[c].running_time = self->start[c].stream_time =
        GST_CLOCK_TIME_NONE;
  self->next_pts = GST_CLOCK_TIME_NONE;
}

static void
gst_silence_detect_init (GstSilenceDetect * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);

  gst_base_transform_set_passthrough (trans, TRUE);
  gst_base_transform_set_qos_enabled (trans, FALSE);

  self->noise_db = DEFAULT_NOISE;
  self->duration = DEFAULT_DURATION;
  self->mono = DEFAULT_MONO;
  self->peak_db = MIN_DB;
  self->events = g_array_new (FALSE, FALSE, sizeof (SilenceEvent));
  mr_silence_detector_init (&self->detector, 1, self->mono, 0);
  gst_silence_detect_reset (self);
}

static void
gst_silence_detect_finalize (GObject * object)
{
  GstSilenceDetect *self = GST_SILENCE_DETECT (object);

  g_array_unref (self->events);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_silence_detect_make_stats (GstSilenceDetect * self)
{
  MrSilenceDetector *d = &self->detector;
  GstClockTime since = GST_CLOCK_TIME_NONE;
  guint runs = d->mono ? d->channels : 1;

  for (guint c = 0; c < runs; c++)
    if (d->silent[c])
      since = MIN (since, self->start[c].running_time);

  return gst_structure_new ("application/x-silencedetect",
      "samples", G_TYPE_UINT64, self->samples,
      "in-silence", G_TYPE_BOOLEAN, GST_CLOCK_TIME_IS_VALID (since),
      "silence-start", G_TYPE_UINT64, since,
      "silent-channels", G_TYPE_UINT, mr_silence_detector_silent_channels (d),
      "stretches", G_TYPE_UINT64, self->stretches,
      "peak-db", G_TYPE_DOUBLE, self->peak_db, NULL);
}

static void
gst_silence_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSilenceDetect *self = GST_SILENCE_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NOISE:
      self->noise_db = g_value_get_double (value);
      break;
    case PROP_DURATION:
      self->duration = g_value_get_double (value);
      self->detector.min_frames =
          mr_silence_min_frames (self->duration, self->rate);
      break;
    case PROP_MONO:
      self->mono = g_value_get_boolean (value);
      gst_silence_detect_reset (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_silence_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSilenceDetect *self = GST_SILENCE_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NOISE:
      g_value_set_double (value, self->noise_db);
      break;
    case PROP_DURATION:
      g_value_set_double (value, self->duration);
      break;
    case PROP_MONO:
      g_value_set_boolean (value, self->mono);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_silence_detect_make_stats (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_silence_detect_start (GstBaseTransform * trans)
{
  GstSilenceDetect *self = GST_SILENCE_DETECT (trans);

  GST_OBJECT_LOCK (self);
  gst_silence_detect_reset (self);
  self->samples = 0;
  self->stretches = 0;
  self->peak_db = MIN_DB;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* A time @frames sample frames after (or before, negative) @pts */
static GstClockTime
offset_time (GstClockTime pts, gint64 frames, guint rate)
{
  guint64 shift = gst_util_uint64_scale_int_round (ABS (frames), GST_SECOND,
      rate);

  if (frames >= 0)
    return pts + shift;
  return pts > shift ? pts - shift : 0;
}

static MrContentStamp
gst_silence_detect_stamp (GstSilenceDetect * self, GstClockTime pts)
{
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  MrContentStamp stamp = { GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE };
  guint64 t;

  /* a start can fall before the segment: clamp it to its beginning */
  if (gst_segment_to_running_time_full (segment, GST_FORMAT_TIME, pts,
          &t) > 0)
    stamp.running_time = t;
  else if (GST_CLOCK_TIME_IS_VALID (segment->start))
    stamp.running_time = 0;
  if (gst_segment_to_stream_time_full (segment, GST_FORMAT_TIME, pts, &t) > 0)
    stamp.stream_time = t;
  return stamp;
}

typedef struct
{
  GstSilenceDetect *self;
  GstClockTime pts;             /* of the data's first frame */
} PushContext;

/* Called by the detector under the object lock */
static void
on_silence (guint channel, MrContentEventType type, gint64 frame,
    gpointer user_data)
{
  PushContext *ctx = user_data;
  GstSilenceDetect *self = ctx->self;
  SilenceEvent e = { channel, type, };

  e.at = gst_silence_detect_stamp (self, offset_time (ctx->pts, frame,
          self->rate));
  if (type == MR_CONTENT_START) {
    self->start[channel] = e.at;
    self->stretches++;
  } else {
    e.duration = e.at.running_time > self->start[channel].running_time ?
        e.at.running_time - self->start[channel].running_time : 0;
    self->start[channel].running_time = GST_CLOCK_TIME_NONE;
    self->start[channel].stream_time = GST_CLOCK_TIME_NONE;
  }
  g_array_append_val (self->events, e);
}

/* Posts and clears the events collected; called without the lock */
static void
gst_silence_detect_post (GstSilenceDetect * self, GArray * events,
    gboolean mono)
{
  for (guint i = 0; i < events->len; i++) {
    const SilenceEvent *e = &g_array_index (events, SilenceEvent, i);
    gboolean start = e->type == MR_CONTENT_START;
    GstStructure *s;

    MrContentEvent ce = { e->type, e->at, e->duration };

    GST_INFO_OBJECT (self, "silence %s at %" GST_TIME_FORMAT " (stream time %"
        GST_TIME_FORMAT ", channel %u)", start ? "starts" : "ends",
        GST_TIME_ARGS (e->at.running_time), GST_TIME_ARGS (e->at.stream_time),
        e->channel);
    s = gst_content_detect_event_new ("silencedetect", &ce);
    if (mono)
      gst_structure_set (s, "channel", G_TYPE_UINT, e->channel, NULL);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
  g_array_set_size (events, 0);
}

/* Ends what is open at the end of the last buffer, as FFmpeg does at the
 * end of the stream; called with the object lock */
static void
gst_silence_detect_finish_locked (GstSilenceDetect * self)
{
  PushContext ctx = { self, self->next_pts };

  if (GST_CLOCK_TIME_IS_VALID (self->next_pts) && self->rate > 0)
    mr_silence_detector_finish (&self->detector, on_silence, &ctx);
  gst_silence_detect_reset (self);
}

static gboolean
gst_silence_detect_setup (GstAudioFilter * filter, const GstAudioInfo * info)
{
  GstSilenceDetect *self = GST_SILENCE_DETECT (filter);
  guint rate = GST_AUDIO_INFO_RATE (info);
  guint channels = GST_AUDIO_INFO_CHANNELS (info);
  gboolean mono;

  GST_OBJECT_LOCK (self);
  if (channels != self->detector.channels) {
    /* another layout: what was silent has ended */
    gst_silence_detect_finish_locked (self);
    self->detector.channels = channels;
    self->rate = rate;
    gst_silence_detect_reset (self);
  } else if (rate != self->rate) {
    mr_silence_detector_rescale (&self->detector, self->rate, rate);
    self->rate = rate;
  }
  self->detector.min_frames = mr_silence_min_frames (self->duration, rate);
  mono = self->mono;
  GST_OBJECT_UNLOCK (self);

  gst_silence_detect_post (self, self->events, mono);
  return TRUE;
}

static gboolean
gst_silence_detect_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstSilenceDetect *self = GST_SILENCE_DETECT (trans);
  gboolean mono;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      GST_OBJECT_LOCK (self);
      gst_silence_detect_finish_locked (self);
      mono = self->mono;
      GST_OBJECT_UNLOCK (self);
      gst_silence_detect_post (self, self->events, mono);
      break;
    case GST_EVENT_FLUSH_STOP:
      GST_OBJECT_LOCK (self);
      gst_silence_detect_reset (self);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }

  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gdouble
to_db (gdouble amplitude)
{
  return amplitude > 0.0 ? MAX (20.0 * log10 (amplitude), MIN_DB) : MIN_DB;
}

static GstFlowReturn
gst_silence_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstSilenceDetect *self = GST_SILENCE_DETECT (trans);
  GstAudioFilter *filter = GST_AUDIO_FILTER (trans);
  GstAudioFormat format = GST_AUDIO_INFO_FORMAT (&filter->info);
  gint bpf = GST_AUDIO_INFO_BPF (&filter->info);
  PushContext ctx = { self, GST_BUFFER_PTS (buffer) };
  GstMapInfo map;
  gsize frames;
  gdouble amplitude;
  gboolean mono;

  if (bpf <= 0 || self->rate == 0)
    return GST_FLOW_NOT_NEGOTIATED;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL), ("could not map buffer"));
    return GST_FLOW_ERROR;
  }
  frames = map.size / bpf;

  GST_OBJECT_LOCK (self);
  amplitude = mr_db_to_amplitude (self->noise_db);
  if (!GST_CLOCK_TIME_IS_VALID (ctx.pts))
    ctx.pts = self->next_pts;
  if (GST_CLOCK_TIME_IS_VALID (ctx.pts) && trans->segment.format ==
      GST_FORMAT_TIME) {
    if (format == GST_AUDIO_FORMAT_S16) {
      guint peak = mr_silence_detector_push_s16 (&self->detector,
          (const gint16 *) map.data, frames, mr_silence_noise_s16 (amplitude),
          on_silence, &ctx);
      self->peak_db = to_db (peak / 32768.0);
    } else {
      gfloat peak = mr_silence_detector_push_f32 (&self->detector,
          (const gfloat *) map.data, frames, (gfloat) amplitude, on_silence,
          &ctx);
      self->peak_db = to_db (peak);
    }
    self->next_pts = offset_time (ctx.pts, frames, self->rate);
  }
  self->samples += frames;
  mono = self->mono;
  GST_OBJECT_UNLOCK (self);

  gst_buffer_unmap (buffer, &map);
  gst_silence_detect_post (self, self->events, mono);
  return GST_FLOW_OK;
}
