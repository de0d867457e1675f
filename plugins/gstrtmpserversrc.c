/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-rtmpserversrc
 * @title: rtmpserversrc
 * @see_also: rtmp2src, flvdemux
 *
 * An RTMP server for one stream: encoders (OBS, ffmpeg, rtmp2sink) publish
 * to `rtmp://HOST:PORT/APPLICATION/STREAM-KEY`, and the element pushes
 * what they send as an FLV stream (header, then one tag per audio, video
 * or onMetaData message), so that flvdemux follows.  It is a live source
 * and waits for a publisher as long as it runs: when one leaves, the next
 * one goes on in the same FLV stream.
 *
 * Several rtmpserversrc of the process (of one pipeline or of several)
 * may share a port: each takes the publishers of its application and
 * stream key.  A publisher for a key nobody takes, or for a key that
 * already has a publisher, is refused, and every rtmpserversrc on the
 * port posts an `rtmpserversrc-refused` message with the key it tried
 * (a second publisher of a key: only the rtmpserversrc of that key, and
 * without it).
 *
 * Enhanced RTMP (video tags with an ExHeader: HEVC `hvc1`, AV1 `av01`,
 * VP9 `vp09`) is dropped with a warning: flvdemux of GStreamer 1.22 reads
 * only the legacy codec ids (H.264, not HEVC or AV1).
 *
 * ## Messages
 * - `rtmpserversrc-publisher`: `event` (string, "start" or "stop"),
 *   `peer` (string, its address, at start), `reason` (string, at stop)
 * - `rtmpserversrc-refused`: `peer` (string), `application` (string),
 *   `reason` (string: "unknown application", "unknown stream key", "stream
 *   key in use"), `stream-key` (string, the key the publisher tried, with
 *   an unknown stream key only).  Every rtmpserversrc on the port posts
 *   it for an unknown application or key; only the one that has a
 *   publisher posts it for a second publisher of its key.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 rtmpserversrc port=1935 stream-key=cam1 ! flvdemux name=d \
 *   d.video ! queue ! h264parse ! mpegtsmux name=m alignment=7 ! udpsink host=127.0.0.1 port=5000 \
 *   d.audio ! queue ! aacparse ! m.
 * ]| and publish with
 * `ffmpeg -re -f lavfi -i testsrc2 -c:v libx264 -f flv rtmp://127.0.0.1:1935/live/cam1`.
 *
 * ## Design
 * The protocol is plain C beside the element: the chunk stream
 * (`rtmp/rtmp-chunk.c`), AMF0 (`rtmp/rtmp-amf.c`) and the listeners with
 * their connections (`rtmp/rtmp-server.c`: one listening thread per port,
 * one thread per connection).  A publisher's thread turns each message
 * into an FLV tag and queues it under the element's lock; `create()` takes
 * them off in the streaming thread, and posts the messages queued with
 * them there, so nothing is posted under a lock.  Tag timestamps are
 * rewritten: a publisher's first tag is stamped with the running time at
 * its arrival (or just after the previous publisher's last tag), and the
 * others keep their distance from it, so the FLV stream never goes back
 * in time when a publisher comes back.  At most `max-queue-bytes` wait;
 * what comes beyond is dropped and counted in `stats`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrtmpserversrc.h"
#include "mroute-elements.h"
#include "rtmp/rtmp-chunk.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_rtmp_server_src_debug);
#define GST_CAT_DEFAULT gst_rtmp_server_src_debug

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-flv"));

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_APPLICATION,
  PROP_STREAM_KEY,
  PROP_MAX_QUEUE_BYTES,
  PROP_BOUND_PORT,
  PROP_STATS,
};

#define DEFAULT_ADDRESS NULL
#define DEFAULT_PORT 1935
#define DEFAULT_APPLICATION "live"
#define DEFAULT_STREAM_KEY ""
#define DEFAULT_MAX_QUEUE_BYTES (16 * 1024 * 1024)

#define FLV_HEADER_SIZE 13      /* with the first PreviousTagSize */
#define FLV_TAG_HEADER_SIZE 11

typedef struct
{
  GstBuffer *buffer;            /* FLV bytes, or */
  GstStructure *message;        /* an element message to post, or */
  gchar *warning;               /* a warning to post */
} QueueItem;

#define gst_rtmp_server_src_parent_class parent_class
G_DEFINE_TYPE (GstRtmpServerSrc, gst_rtmp_server_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (rtmpserversrc, "rtmpserversrc", GST_RANK_NONE,
    GST_TYPE_RTMP_SERVER_SRC);

static void gst_rtmp_server_src_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_rtmp_server_src_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static void gst_rtmp_server_src_finalize (GObject * object);
static gboolean gst_rtmp_server_src_start (GstBaseSrc * src);
static gboolean gst_rtmp_server_src_stop (GstBaseSrc * src);
static gboolean gst_rtmp_server_src_unlock (GstBaseSrc * src);
static gboolean gst_rtmp_server_src_unlock_stop (GstBaseSrc * src);
static GstFlowReturn gst_rtmp_server_src_create (GstPushSrc * src,
    GstBuffer ** buf);

static void
gst_rtmp_server_src_class_init (GstRtmpServerSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_rtmp_server_src_set_property;
  gobject_class->get_property = gst_rtmp_server_src_get_property;
  gobject_class->finalize = gst_rtmp_server_src_finalize;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "IP address to listen on (NULL = every IPv4 address); one per port "
          "in the process", DEFAULT_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "TCP port to listen on, shared with the other rtmpserversrc of the "
          "process (0 = any free port of its own, see bound-port)", 0, 65535,
          DEFAULT_PORT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_APPLICATION,
      g_param_spec_string ("application", "Application",
          "RTMP application publishers connect to (the URL's first path "
          "segment)", DEFAULT_APPLICATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STREAM_KEY,
      g_param_spec_string ("stream-key", "Stream key",
          "Stream key publishers publish to (the URL's last path segment, "
          "without its query)", DEFAULT_STREAM_KEY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint ("max-queue-bytes", "Max queue bytes",
          "Most FLV bytes waiting for the streaming thread, in bytes; more "
          "are dropped", 65536, G_MAXUINT, DEFAULT_MAX_QUEUE_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BOUND_PORT,
      g_param_spec_uint ("bound-port", "Bound port",
          "TCP port listened on, once started", 0, 65535, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstRtmpServerSrc:stats:
   *
   * `publishers` (guint64, publishers accepted), `refused` (guint64,
   * publishers refused on the port), `publishing` (boolean), `bytes`
   * (guint64, FLV tag payload bytes), `tags` (guint64), `dropped`
   * (guint64, tags dropped: queue full, or enhanced RTMP).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "Counters of the element",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "RTMP server source",
      "Source/Network", "Receives an RTMP publisher's stream as FLV",
      "mroute developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_rtmp_server_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_rtmp_server_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_rtmp_server_src_debug, "rtmpserversrc", 0,
      "RTMP server source");
}

static void
gst_rtmp_server_src_init (GstRtmpServerSrc * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->application = g_strdup (DEFAULT_APPLICATION);
  self->stream_key = g_strdup (DEFAULT_STREAM_KEY);
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
queue_item_free (QueueItem * item)
{
  gst_clear_buffer (&item->buffer);
  if (item->message)
    gst_structure_free (item->message);
  g_free (item->warning);
  g_free (item);
}

static void
clear_queue (GstRtmpServerSrc * self)
{
  QueueItem *item;

  while ((item = g_queue_pop_head (&self->queue)))
    queue_item_free (item);
  self->queued_bytes = 0;
}

static void
gst_rtmp_server_src_finalize (GObject * object)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (object);

  clear_queue (self);
  g_free (self->address);
  g_free (self->application);
  g_free (self->stream_key);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_rtmp_server_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_APPLICATION:
      g_free (self->application);
      self->application = g_value_dup_string (value);
      break;
    case PROP_STREAM_KEY:
      g_free (self->stream_key);
      self->stream_key = g_value_dup_string (value);
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static GstStructure *
make_stats (GstRtmpServerSrc * self)
{
  GstStructure *s;

  g_mutex_lock (&self->lock);
  s = gst_structure_new ("application/x-rtmpserversrc-stats",
      "publishers", G_TYPE_UINT64, self->publishers,
      "refused", G_TYPE_UINT64, self->refused,
      "publishing", G_TYPE_BOOLEAN, self->publishing,
      "bytes", G_TYPE_UINT64, self->bytes,
      "tags", G_TYPE_UINT64, self->tags,
      "dropped", G_TYPE_UINT64, self->dropped, NULL);
  g_mutex_unlock (&self->lock);
  return s;
}

static void
gst_rtmp_server_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_APPLICATION:
      g_value_set_string (value, self->application);
      break;
    case PROP_STREAM_KEY:
      g_value_set_string (value, self->stream_key);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint (value, self->max_queue_bytes);
      break;
    case PROP_BOUND_PORT:
      g_value_set_uint (value, self->bound_port);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---------------------------------------------------------------------- */
/* the publisher's thread */

/* with lock */
static void
enqueue (GstRtmpServerSrc * self, GstBuffer * buffer, GstStructure * message,
    gchar * warning)
{
  QueueItem *item = g_new0 (QueueItem, 1);

  item->buffer = buffer;
  item->message = message;
  item->warning = warning;
  if (buffer)
    self->queued_bytes += gst_buffer_get_size (buffer);
  g_queue_push_tail (&self->queue, item);
  g_cond_signal (&self->cond);
}

static void
on_publish_start (gpointer user_data, const gchar * peer)
{
  GstRtmpServerSrc *self = user_data;

  GST_INFO_OBJECT (self, "publisher %s started", peer);
  g_mutex_lock (&self->lock);
  self->publishing = TRUE;
  self->publishers++;
  self->first_of_publisher = TRUE;
  self->warned_enhanced = FALSE;
  enqueue (self, NULL, gst_structure_new ("rtmpserversrc-publisher",
          "event", G_TYPE_STRING, "start", "peer", G_TYPE_STRING, peer, NULL),
      NULL);
  g_mutex_unlock (&self->lock);
}

static void
on_publish_stop (gpointer user_data, const gchar * reason)
{
  GstRtmpServerSrc *self = user_data;

  GST_INFO_OBJECT (self, "publisher stopped: %s", reason);
  g_mutex_lock (&self->lock);
  self->publishing = FALSE;
  enqueue (self, NULL, gst_structure_new ("rtmpserversrc-publisher",
          "event", G_TYPE_STRING, "stop", "reason", G_TYPE_STRING, reason,
          NULL), NULL);
  g_mutex_unlock (&self->lock);
}

static void
on_refused (gpointer user_data, const gchar * peer, const gchar * app,
    const gchar * key, const gchar * reason)
{
  GstRtmpServerSrc *self = user_data;
  GstStructure *s = gst_structure_new ("rtmpserversrc-refused",
      "peer", G_TYPE_STRING, peer, "application", G_TYPE_STRING, app,
      "reason", G_TYPE_STRING, reason, NULL);

  if (key)
    gst_structure_set (s, "stream-key", G_TYPE_STRING, key, NULL);
  g_mutex_lock (&self->lock);
  self->refused++;
  enqueue (self, NULL, s, NULL);
  g_mutex_unlock (&self->lock);
}

/* the element's running time now, in ms; 0 without a clock */
static guint64
running_time_ms (GstRtmpServerSrc * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now, base;

  if (!clock)
    return 0;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (GST_ELEMENT (self));
  gst_object_unref (clock);
  return now > base ? (now - base) / GST_MSECOND : 0;
}

static void
write_u24 (guint8 * p, guint32 v)
{
  p[0] = (v >> 16) & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = v & 0xff;
}

static void
on_media (gpointer user_data, guint8 type, guint32 timestamp,
    const guint8 * data, gsize size)
{
  GstRtmpServerSrc *self = user_data;
  guint64 now_ms = running_time_ms (self), out_ms;
  gsize header = 0, total;
  GstBuffer *buf;
  GstMapInfo map;
  guint8 *p;
  gint64 distance;

  g_mutex_lock (&self->lock);
  /* enhanced RTMP: IsExHeader, then a FourCC flvdemux 1.22 cannot read */
  if (type == MR_RTMP_MSG_VIDEO && size >= 5 && (data[0] & 0x80)) {
    self->dropped++;
    if (!self->warned_enhanced) {
      self->warned_enhanced = TRUE;
      enqueue (self, NULL, NULL, g_strdup_printf ("enhanced RTMP video "
              "(FourCC %c%c%c%c) is not carried: flvdemux of GStreamer 1.22 "
              "reads H.264 only", g_ascii_isprint (data[1]) ? data[1] : '?',
              g_ascii_isprint (data[2]) ? data[2] : '?',
              g_ascii_isprint (data[3]) ? data[3] : '?',
              g_ascii_isprint (data[4]) ? data[4] : '?'));
    }
    g_mutex_unlock (&self->lock);
    return;
  }
  if (self->queued_bytes + size > self->max_queue_bytes) {
    self->dropped++;
    g_mutex_unlock (&self->lock);
    return;
  }
  if (self->first_of_publisher) {
    self->first_of_publisher = FALSE;
    self->first_ts = timestamp;
    self->base_ms = self->header_sent ? MAX (now_ms, self->last_out_ms + 1) :
        now_ms;
  }
  distance = (gint32) (timestamp - self->first_ts);
  out_ms = (gint64) self->base_ms + distance > 0 ?
      (guint64) ((gint64) self->base_ms + distance) : 0;
  self->last_out_ms = MAX (self->last_out_ms, out_ms);

  if (!self->header_sent)
    header = FLV_HEADER_SIZE;
  total = header + FLV_TAG_HEADER_SIZE + size + 4;
  buf = gst_buffer_new_allocate (NULL, total, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  p = map.data;
  if (header) {
    static const guint8 flv_header[FLV_HEADER_SIZE] = {
      'F', 'L', 'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0
    };
    memcpy (p, flv_header, FLV_HEADER_SIZE);
    p += FLV_HEADER_SIZE;
    self->header_sent = TRUE;
  }
  p[0] = type;
  write_u24 (p + 1, size);
  write_u24 (p + 4, out_ms & 0xffffff);
  p[7] = (out_ms >> 24) & 0xff;
  write_u24 (p + 8, 0);
  memcpy (p + FLV_TAG_HEADER_SIZE, data, size);
  GST_WRITE_UINT32_BE (p + FLV_TAG_HEADER_SIZE + size,
      FLV_TAG_HEADER_SIZE + size);
  gst_buffer_unmap (buf, &map);
  self->bytes += size;
  self->tags++;
  enqueue (self, buf, NULL, NULL);
  g_mutex_unlock (&self->lock);
}

static const MrRtmpPublishCallbacks callbacks = {
  .publish_start = on_publish_start,
  .media = on_media,
  .publish_stop = on_publish_stop,
  .refused = on_refused,
};

/* ---------------------------------------------------------------------- */
/* the streaming thread */

static gboolean
gst_rtmp_server_src_start (GstBaseSrc * src)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (src);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *address = NULL, *app = NULL, *key = NULL;
  guint port;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  app = g_strdup (self->application ? self->application : "");
  key = g_strdup (self->stream_key ? self->stream_key : "");
  port = self->port;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  clear_queue (self);
  self->header_sent = FALSE;
  self->publishing = FALSE;
  self->last_out_ms = 0;
  g_mutex_unlock (&self->lock);

  self->point = mr_rtmp_publish_point_register (address, port, app, key,
      &callbacks, self, &error);
  if (!self->point) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not listen for RTMP publishers on port %u", port),
        ("%s", error->message));
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  self->bound_port = mr_rtmp_publish_point_port (self->point);
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "listening for application '%s' on port %u", app,
      self->bound_port);
  return TRUE;
}

static gboolean
gst_rtmp_server_src_stop (GstBaseSrc * src)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (src);

  if (self->point) {
    mr_rtmp_publish_point_unregister (self->point);
    self->point = NULL;
  }
  g_mutex_lock (&self->lock);
  clear_queue (self);
  self->publishing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_rtmp_server_src_unlock (GstBaseSrc * src)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_rtmp_server_src_unlock_stop (GstBaseSrc * src)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static GstFlowReturn
gst_rtmp_server_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC (src);

  for (;;) {
    QueueItem *item;

    g_mutex_lock (&self->lock);
    while (!self->flushing && g_queue_is_empty (&self->queue))
      g_cond_wait (&self->cond, &self->lock);
    if (self->flushing) {
      g_mutex_unlock (&self->lock);
      return GST_FLOW_FLUSHING;
    }
    item = g_queue_pop_head (&self->queue);
    if (item->buffer)
      self->queued_bytes -= gst_buffer_get_size (item->buffer);
    g_mutex_unlock (&self->lock);

    if (item->buffer) {
      *buf = g_steal_pointer (&item->buffer);
      queue_item_free (item);
      return GST_FLOW_OK;
    }
    if (item->message)
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_element (GST_OBJECT (self),
              g_steal_pointer (&item->message)));
    if (item->warning)
      GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND, ("%s",
              item->warning), (NULL));
    queue_item_free (item);
  }
}
