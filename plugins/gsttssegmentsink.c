/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-tssegmentsink
 * @title: tssegmentsink
 *
 * Writes an MPEG-TS stream to a series of files, each starting at a random
 * access point (a key frame), untouched: the packets are written as they
 * came in, with the last PAT and PMT put in front of each file so that
 * every file decodes on its own.  Optionally writes a live HLS playlist of
 * the files.
 *
 * A new file is started at the first random-access point once
 * #GstTsSegmentSink:target-duration (less 100 ms, for timestamp jitter)
 * has passed since the current file started.  Nothing is written before the first random-access point.
 * Files are named by #GstTsSegmentSink:location (a printf pattern with one
 * unsigned integer, the file's index) or, without it, by the UTC time of
 * their start inside #GstTsSegmentSink:directory
 * (`20261202T130501.123Z.ts`).  With #GstTsSegmentSink:max-files, the
 * oldest files beyond that many closed files are deleted.
 *
 * ## Messages
 *
 * `tssegmentsink-segment`, posted when a file is closed:
 * `location` (string), `start` (gint64, µs since the epoch, wall clock at
 * the first packet), `duration` (guint64, nanoseconds of running time),
 * `running-time` (guint64, of its start).
 *
 * A file that cannot be opened or written (a full disk, an unwritable
 * folder) posts a GST_ELEMENT_WARNING (resource, open-write or write) and
 * from then on the element drops what it gets, without ever blocking or
 * failing upstream: a recording that fails never stalls the flow.
 *
 * ## Stats
 *
 * `stats` (GstStructure `tssegmentsink-stats`): `segments`, `bytes`,
 * `dropped-bytes` (guint64), `failed` (boolean).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=300 ! x264enc key-int-max=30 !
 *   mpegtsmux ! tssegmentsink directory=/tmp/seg target-duration=2
 *   max-files=4 playlist-location=/tmp/seg/index.m3u8
 * ]|
 *
 * ## Design
 *
 * hlssink2 and splitmuxsink re-mux elementary streams; a transport engine
 * must hand on the TS it received, so this element cuts the byte stream
 * itself, at the packets mr_ts_rap_scan () (mpegts-rap.h) finds.
 * Durations are running time of the buffers' timestamps (a live source
 * timestamps on arrival); buffers without timestamps use the monotonic
 * clock.  The playlist is written to a temporary file and renamed, so a
 * reader never sees half of it.  The playlist's EXT-X-TARGETDURATION is
 * the longest EXTINF rounded up, as RFC 8216 asks.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttssegmentsink.h"
#include "mroute-elements.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (ts_segment_sink_debug);
#define GST_CAT_DEFAULT ts_segment_sink_debug

#define TS_PACKET_SIZE 188
#define TS_SYNC_BYTE 0x47
/* a key frame this much before the target still cuts: timestamps from
 * arrival or from the PCR jitter by some milliseconds, and a strict test
 * made one segment in three a whole GOP too long */
#define CUT_TOLERANCE (100 * GST_MSECOND)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/mpegts, systemstream=(boolean)true"));

enum
{
  PROP_0,
  PROP_DIRECTORY,
  PROP_LOCATION,
  PROP_PLAYLIST_LOCATION,
  PROP_TARGET_DURATION,
  PROP_MAX_FILES,
  PROP_PLAYLIST_LENGTH,
  PROP_STATS,
};

#define DEFAULT_DIRECTORY "."
#define DEFAULT_LOCATION NULL
#define DEFAULT_PLAYLIST_LOCATION NULL
#define DEFAULT_TARGET_DURATION 2
#define DEFAULT_MAX_FILES 0
#define DEFAULT_PLAYLIST_LENGTH 0

#define gst_ts_segment_sink_parent_class parent_class
G_DEFINE_TYPE (GstTsSegmentSink, gst_ts_segment_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (tssegmentsink, "tssegmentsink",
    GST_RANK_NONE, GST_TYPE_TS_SEGMENT_SINK,
    GST_DEBUG_CATEGORY_INIT (ts_segment_sink_debug, "tssegmentsink", 0,
        "MPEG-TS segment sink"));

static void gst_ts_segment_sink_finalize (GObject * object);
static void gst_ts_segment_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ts_segment_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_ts_segment_sink_start (GstBaseSink * sink);
static gboolean gst_ts_segment_sink_stop (GstBaseSink * sink);
static gboolean gst_ts_segment_sink_event (GstBaseSink * sink,
    GstEvent * event);
static GstFlowReturn gst_ts_segment_sink_render (GstBaseSink * sink,
    GstBuffer * buffer);

static void
gst_ts_segment_sink_class_init (GstTsSegmentSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_ts_segment_sink_finalize;
  gobject_class->set_property = gst_ts_segment_sink_set_property;
  gobject_class->get_property = gst_ts_segment_sink_get_property;

  g_object_class_install_property (gobject_class, PROP_DIRECTORY,
      g_param_spec_string ("directory", "Directory",
          "Folder of the files named by their start time (without location)",
          DEFAULT_DIRECTORY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "printf pattern of the files' paths with their index (%05u), "
          "or NULL to name them by their UTC start time in directory",
          DEFAULT_LOCATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_LOCATION,
      g_param_spec_string ("playlist-location", "Playlist location",
          "Path of the HLS playlist to write, or NULL for none",
          DEFAULT_PLAYLIST_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TARGET_DURATION,
      g_param_spec_uint ("target-duration", "Target duration",
          "Start a new file at the first random-access point after this "
          "long, in seconds", 1, G_MAXUINT / 1000, DEFAULT_TARGET_DURATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_FILES,
      g_param_spec_uint ("max-files", "Max files",
          "Closed files kept on disk, the oldest deleted (0 = all)",
          0, G_MAXUINT, DEFAULT_MAX_FILES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_LENGTH,
      g_param_spec_uint ("playlist-length", "Playlist length",
          "Files listed in the playlist, the newest (0 = max-files, or all)",
          0, G_MAXUINT, DEFAULT_PLAYLIST_LENGTH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "segments, bytes, dropped-bytes, failed", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "MPEG-TS segment sink", "Sink/File",
      "Writes MPEG-TS untouched into files cut at key frames, "
      "with an optional HLS playlist", "mroute developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_ts_segment_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_ts_segment_sink_stop);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_ts_segment_sink_event);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_ts_segment_sink_render);
}

static void
gst_ts_segment_sink_init (GstTsSegmentSink * self)
{
  self->directory = g_strdup (DEFAULT_DIRECTORY);
  self->target_duration = DEFAULT_TARGET_DURATION;
  self->adapter = gst_adapter_new ();
  g_queue_init (&self->entries);
  g_queue_init (&self->on_disk);
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);
}

static void
entry_free (GstTsSegmentEntry * entry)
{
  g_free (entry->path);
  g_free (entry);
}

static void
gst_ts_segment_sink_finalize (GObject * object)
{
  GstTsSegmentSink *self = GST_TS_SEGMENT_SINK (object);

  g_free (self->directory);
  g_free (self->location);
  g_free (self->playlist_location);
  g_object_unref (self->adapter);
  g_queue_clear_full (&self->entries, (GDestroyNotify) entry_free);
  g_queue_clear_full (&self->on_disk, g_free);
  g_free (self->file_path);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_ts_segment_sink_stats (GstTsSegmentSink * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("tssegmentsink-stats",
      "segments", G_TYPE_UINT64, self->segments,
      "bytes", G_TYPE_UINT64, self->bytes,
      "dropped-bytes", G_TYPE_UINT64, self->dropped_bytes,
      "failed", G_TYPE_BOOLEAN, self->failed, NULL);
  GST_OBJECT_UNLOCK (self);
  return s;
}

static void
gst_ts_segment_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTsSegmentSink *self = GST_TS_SEGMENT_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DIRECTORY:
      g_free (self->directory);
      self->directory = g_value_dup_string (value);
      break;
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_PLAYLIST_LOCATION:
      g_free (self->playlist_location);
      self->playlist_location = g_value_dup_string (value);
      break;
    case PROP_TARGET_DURATION:
      self->target_duration = g_value_get_uint (value);
      break;
    case PROP_MAX_FILES:
      self->max_files = g_value_get_uint (value);
      break;
    case PROP_PLAYLIST_LENGTH:
      self->playlist_length = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ts_segment_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTsSegmentSink *self = GST_TS_SEGMENT_SINK (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_ts_segment_sink_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DIRECTORY:
      g_value_set_string (value, self->directory);
      break;
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_PLAYLIST_LOCATION:
      g_value_set_string (value, self->playlist_location);
      break;
    case PROP_TARGET_DURATION:
      g_value_set_uint (value, self->target_duration);
      break;
    case PROP_MAX_FILES:
      g_value_set_uint (value, self->max_files);
      break;
    case PROP_PLAYLIST_LENGTH:
      g_value_set_uint (value, self->playlist_length);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_ts_segment_sink_start (GstBaseSink * sink)
{
  GstTsSegmentSink *self = GST_TS_SEGMENT_SINK (sink);

  gst_adapter_clear (self->adapter);
  mr_ts_rap_scanner_init (&self->scanner);
  self->have_pat = self->have_pmt = FALSE;
  self->n_pending = 0;
  self->pending_pat = self->pending_pmt = FALSE;
  self->file_start = self->last_time = GST_CLOCK_TIME_NONE;
  self->index = 0;
  self->media_sequence = 0;
  GST_OBJECT_LOCK (self);
  self->failed = FALSE;
  self->segments = self->bytes = self->dropped_bytes = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the data path (streaming thread) */

/* Drops everything from now on; said once on the bus */
static void
fail (GstTsSegmentSink * self, gboolean opening, const gchar * path, int err)
{
  if (self->file) {
    fclose (self->file);
    self->file = NULL;
  }
  GST_OBJECT_LOCK (self);
  self->failed = TRUE;
  GST_OBJECT_UNLOCK (self);
  if (opening)
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_WRITE,
        ("Could not open \"%s\" for writing: %s", path, g_strerror (err)),
        ("errno %d; dropping the stream from now on", err));
  else
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("Could not write to \"%s\": %s", path, g_strerror (err)),
        ("errno %d; dropping the stream from now on", err));
}

static void count_dropped (GstTsSegmentSink * self, gsize size);

static gboolean
write_all (GstTsSegmentSink * self, const guint8 * data, gsize size)
{
  if (size == 0 || !self->file)
    return TRUE;
  if (fwrite (data, 1, size, self->file) != size) {
    fail (self, FALSE, self->file_path, errno);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  self->bytes += size;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
write_playlist (GstTsSegmentSink * self, const gchar * playlist,
    guint length, gboolean ended)
{
  g_autoptr (GString) text = g_string_new ("#EXTM3U\n#EXT-X-VERSION:3\n");
  g_autofree gchar *tmp = g_strconcat (playlist, ".tmp", NULL);
  g_autofree gchar *dir = g_path_get_dirname (playlist);
  g_autoptr (GError) error = NULL;
  gdouble longest = 0;
  guint64 sequence = self->media_sequence;
  GList *l;

  while (length > 0 && g_queue_get_length (&self->entries) > length) {
    entry_free (g_queue_pop_head (&self->entries));
    self->media_sequence++;
    sequence++;
  }
  for (l = self->entries.head; l; l = l->next) {
    GstTsSegmentEntry *e = l->data;
    longest = MAX (longest, e->duration);
  }
  g_string_append_printf (text, "#EXT-X-TARGETDURATION:%u\n"
      "#EXT-X-MEDIA-SEQUENCE:%" G_GUINT64_FORMAT "\n",
      (guint) MAX (1, ceil (longest)), sequence);
  for (l = self->entries.head; l; l = l->next) {
    GstTsSegmentEntry *e = l->data;
    g_autofree gchar *name = NULL;
    g_autofree gchar *e_dir = g_path_get_dirname (e->path);

    /* a file beside the playlist by its name, others by their path */
    name = g_strcmp0 (e_dir, dir) == 0 ? g_path_get_basename (e->path) :
        g_strdup (e->path);
    g_string_append_printf (text, "#EXTINF:%.3f,\n%s\n", e->duration, name);
  }
  if (ended)
    g_string_append (text, "#EXT-X-ENDLIST\n");
  if (!g_file_set_contents (tmp, text->str, text->len, &error)
      || g_rename (tmp, playlist) != 0) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("Could not write the playlist \"%s\"", playlist),
        ("%s", error ? error->message : g_strerror (errno)));
    return FALSE;
  }
  return TRUE;
}

/* Closes the current file, which ends at running time @end: posts its message, lists it, deletes the files
 * beyond max-files, rewrites the playlist */
static void
close_file (GstTsSegmentSink * self, GstClockTime end, gboolean ended)
{
  GstClockTime duration = 0;
  gchar *playlist;
  guint max_files, length;
  GstTsSegmentEntry *entry;
  GstMessage *msg;

  if (!self->file)
    return;
  if (fclose (self->file) != 0) {
    self->file = NULL;
    fail (self, FALSE, self->file_path, errno);
    return;
  }
  self->file = NULL;
  if (GST_CLOCK_TIME_IS_VALID (end)
      && GST_CLOCK_TIME_IS_VALID (self->file_start) && end > self->file_start)
    duration = end - self->file_start;

  GST_OBJECT_LOCK (self);
  self->segments++;
  playlist = g_strdup (self->playlist_location);
  max_files = self->max_files;
  length = self->playlist_length ? self->playlist_length : max_files;
  GST_OBJECT_UNLOCK (self);

  msg = gst_message_new_element (GST_OBJECT (self),
      gst_structure_new ("tssegmentsink-segment",
          "location", G_TYPE_STRING, self->file_path,
          "start", G_TYPE_INT64, self->file_wall_start,
          "duration", G_TYPE_UINT64, (guint64) duration,
          "running-time", G_TYPE_UINT64, (guint64) self->file_start, NULL));

  entry = g_new0 (GstTsSegmentEntry, 1);
  entry->path = g_strdup (self->file_path);
  entry->duration = (gdouble) duration / GST_SECOND;
  g_queue_push_tail (&self->entries, entry);
  g_queue_push_tail (&self->on_disk, g_steal_pointer (&self->file_path));

  if (playlist)
    write_playlist (self, playlist, length, ended);
  else
    while (length > 0 && g_queue_get_length (&self->entries) > length)
      entry_free (g_queue_pop_head (&self->entries));
  /* after the playlist stopped naming them */
  while (max_files > 0 && g_queue_get_length (&self->on_disk) > max_files) {
    g_autofree gchar *old = g_queue_pop_head (&self->on_disk);

    if (g_unlink (old) != 0 && errno != ENOENT)
      GST_WARNING_OBJECT (self, "could not delete %s: %s", old,
          g_strerror (errno));
  }
  g_free (playlist);
  gst_element_post_message (GST_ELEMENT (self), msg);
}

static gchar *
next_path (GstTsSegmentSink * self, gint64 wall)
{
  gchar *path;

  GST_OBJECT_LOCK (self);
  if (self->location) {
    /* the user's pattern, as multifilesink's location */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    path = g_strdup_printf (self->location, self->index);
#pragma GCC diagnostic pop
  } else {
    g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (wall / 1000000);
    g_autofree gchar *stamp = g_date_time_format (t, "%Y%m%dT%H%M%S");
    g_autofree gchar *name = g_strdup_printf ("%s.%03dZ.ts", stamp,
        (int) (wall / 1000 % 1000));

    path = g_build_filename (self->directory, name, NULL);
  }
  GST_OBJECT_UNLOCK (self);
  self->index++;
  return path;
}

static gboolean
open_file (GstTsSegmentSink * self, GstClockTime time)
{
  self->file_wall_start = g_get_real_time ();
  self->file_path = next_path (self, self->file_wall_start);
  self->file = g_fopen (self->file_path, "wb");
  if (!self->file) {
    fail (self, TRUE, self->file_path, errno);
    return FALSE;
  }
  self->file_start = time;
  GST_DEBUG_OBJECT (self, "new file %s at %" GST_TIME_FORMAT,
      self->file_path, GST_TIME_ARGS (time));
  /* decodable alone: the tables in front, those that came just before
   * the random-access point, else copies of the last ones */
  if (!self->pending_pat && self->have_pat
      && !write_all (self, self->pat, TS_PACKET_SIZE))
    return FALSE;
  if (!self->pending_pmt && self->have_pmt
      && !write_all (self, self->pmt, TS_PACKET_SIZE))
    return FALSE;
  return TRUE;
}

/* The tables held back go into the current file (or nowhere) */
static void
flush_pending (GstTsSegmentSink * self)
{
  if (self->file)
    write_all (self, self->pending, self->n_pending * TS_PACKET_SIZE);
  else
    count_dropped (self, self->n_pending * TS_PACKET_SIZE);
  self->n_pending = 0;
  self->pending_pat = self->pending_pmt = FALSE;
}

static GstClockTime
buffer_running_time (GstTsSegmentSink * self, GstBuffer * buffer)
{
  GstSegment *segment = &GST_BASE_SINK (self)->segment;
  GstClockTime ts = GST_BUFFER_DTS_OR_PTS (buffer);

  if (GST_CLOCK_TIME_IS_VALID (ts) && segment->format == GST_FORMAT_TIME) {
    GstClockTime rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        ts);
    if (GST_CLOCK_TIME_IS_VALID (rt))
      return rt;
  }
  return g_get_monotonic_time () * GST_USECOND;
}

static gboolean
is_failed (GstTsSegmentSink * self)
{
  gboolean failed;

  GST_OBJECT_LOCK (self);
  failed = self->failed;
  GST_OBJECT_UNLOCK (self);
  return failed;
}

static void
count_dropped (GstTsSegmentSink * self, gsize size)
{
  GST_OBJECT_LOCK (self);
  self->dropped_bytes += size;
  GST_OBJECT_UNLOCK (self);
}

/* One packet: keep the tables, cut at a random-access point.  PSI packets
 * are held back until the next other packet: when that one starts a new
 * file, the tables in front of it start the new file with it, so that
 * nothing is written twice and the TS stays as it came. */
static void
handle_packet (GstTsSegmentSink * self, const guint8 * pkt, GstClockTime time)
{
  guint pid = ((pkt[1] & 0x1f) << 8) | pkt[2];
  gboolean pusi = (pkt[1] & 0x40) != 0;
  gboolean rap;
  GstClockTime target;

  rap = mr_ts_rap_scan (&self->scanner, pkt, TS_PACKET_SIZE, TS_PACKET_SIZE,
      TRUE) == 0;
  if (self->scanner.pid_kind[pid] == MR_TS_PID_PSI) {
    if (pusi && pid == 0) {
      memcpy (self->pat, pkt, TS_PACKET_SIZE);
      self->have_pat = self->pending_pat = TRUE;
    } else if (pusi) {
      memcpy (self->pmt, pkt, TS_PACKET_SIZE);
      self->have_pmt = self->pending_pmt = TRUE;
    }
    if (self->n_pending == G_N_ELEMENTS (self->pending) / TS_PACKET_SIZE)
      flush_pending (self);
    memcpy (self->pending + self->n_pending * TS_PACKET_SIZE, pkt,
        TS_PACKET_SIZE);
    self->n_pending++;
    return;
  }

  GST_OBJECT_LOCK (self);
  target = self->target_duration * GST_SECOND;
  GST_OBJECT_UNLOCK (self);

  if (rap && (!self->file || (GST_CLOCK_TIME_IS_VALID (self->file_start)
              && time + CUT_TOLERANCE >= self->file_start + target))) {
    close_file (self, time, FALSE);
    if (is_failed (self) || !open_file (self, time))
      return;
  }
  flush_pending (self);
  if (!self->file) {
    count_dropped (self, TS_PACKET_SIZE);
    return;
  }
  write_all (self, pkt, TS_PACKET_SIZE);
}

static GstFlowReturn
gst_ts_segment_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstTsSegmentSink *self = GST_TS_SEGMENT_SINK (sink);
  GstClockTime time = buffer_running_time (self, buffer);
  gsize avail;

  if (is_failed (self)) {
    count_dropped (self, gst_buffer_get_size (buffer));
    return GST_FLOW_OK;
  }

  gst_adapter_push (self->adapter, gst_buffer_ref (buffer));
  avail = gst_adapter_available (self->adapter);
  while (avail >= TS_PACKET_SIZE && !is_failed (self)) {
    const guint8 *data = gst_adapter_map (self->adapter, avail);
    gsize off = 0;

    /* resynchronise on a sync byte */
    while (off < avail && data[off] != TS_SYNC_BYTE)
      off++;
    if (off > 0) {
      gst_adapter_unmap (self->adapter);
      gst_adapter_flush (self->adapter, off);
      count_dropped (self, off);
      avail -= off;
      continue;
    }
    for (off = 0; off + TS_PACKET_SIZE <= avail && data[off] == TS_SYNC_BYTE
        && !is_failed (self); off += TS_PACKET_SIZE)
      handle_packet (self, data + off, time);
    gst_adapter_unmap (self->adapter);
    gst_adapter_flush (self->adapter, off);
    avail -= off;
    if (off == 0)
      break;
  }
  self->last_time = time;
  if (is_failed (self))
    gst_adapter_clear (self->adapter);
  return GST_FLOW_OK;
}

static gboolean
gst_ts_segment_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstTsSegmentSink *self = GST_TS_SEGMENT_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    flush_pending (self);
    close_file (self, self->last_time, TRUE);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static gboolean
gst_ts_segment_sink_stop (GstBaseSink * sink)
{
  GstTsSegmentSink *self = GST_TS_SEGMENT_SINK (sink);

  /* the last file stays on disk, but is not listed: it ended early */
  if (self->file) {
    fclose (self->file);
    self->file = NULL;
    g_queue_push_tail (&self->on_disk, g_steal_pointer (&self->file_path));
  }
  g_clear_pointer (&self->file_path, g_free);
  gst_adapter_clear (self->adapter);
  g_queue_clear_full (&self->entries, (GDestroyNotify) entry_free);
  g_queue_clear_full (&self->on_disk, g_free);
  return TRUE;
}
