/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-srtroutesrc
 * @title: srtroutesrc
 *
 * An SRT listener that shares its port: every srtroutesrc on one address
 * and port uses the same SRT listening socket (srt-route-listener.c), and
 * receives the caller whose stream id is its #GstSrtRouteSrc:streamid,
 * plain (`cam1`) or in SRT's access control form (`#!::r=cam1,m=publish`).
 * Each route has its own passphrase and key length; a caller with an
 * unknown stream id or a wrong passphrase is refused before any media
 * flows.  srtsrc (1.22) binds its own socket per element and has one
 * passphrase per socket, so it cannot do this.
 *
 * Messages (element messages on the bus):
 *
 *  - `connection-added`, `connection-removed`: a caller came, went;
 *  - `mroute-srt-refused` (`stream-id`: what the caller sent, `reason`): a
 *    caller was refused.  A passphrase is never in a message nor a log.
 *
 * ## Design
 *
 * libsrt's listen callback runs for every caller's handshake before the
 * caller is accepted: it reads the stream id, sets the route's passphrase,
 * key length and latency on the socket being accepted, or refuses it
 * (`SRT_REJX_NOTFOUND`).  A wrong passphrase fails inside libsrt after
 * that, and libsrt tells the listener nothing: a handshake let through
 * that srt_accept() never returns within 1.5 s is reported as refused.
 * The listener's thread accepts and reads the callers (epoll), and hands
 * each SRT message to its route's element as a buffer in a queue that
 * create() pops with a 100 ms timeout (so unlock() takes effect within
 * that).  A caller that comes back while libsrt still holds its old link
 * takes the route over.  Callbacks run without the listener's locks; the
 * element's listener and route are guarded by a lock of their own
 * (route_lock), never the object lock, which posting a message takes.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 srtroutesrc port=7001 streamid=cam1 passphrase=0123456789 \
 *     pbkeylen=16 ! video/mpegts,systemstream=true,packetsize=188 ! \
 *     udpsink host=127.0.0.1 port=5000
 * ]|
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsrtroutesrc.h"
#include "mroute-elements.h"
#include "srt-streamid.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_srt_route_src_debug);
#define GST_CAT_DEFAULT gst_srt_route_src_debug

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_STREAMID,
  PROP_PASSPHRASE,
  PROP_PBKEYLEN,
  PROP_LATENCY,
  PROP_STATS,
};

#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_PORT 7001
#define DEFAULT_PBKEYLEN 0
#define DEFAULT_LATENCY 125
/* how long create() waits for a packet before it looks whether it is
 * being stopped */
#define POP_TIMEOUT_US (100 * G_TIME_SPAN_MILLISECOND)
/* packets waiting for create(): beyond, the newest are dropped */
#define QUEUE_MAX 8192

#define gst_srt_route_src_parent_class parent_class
G_DEFINE_TYPE (GstSrtRouteSrc, gst_srt_route_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (srtroutesrc, "srtroutesrc", GST_RANK_NONE,
    GST_TYPE_SRT_ROUTE_SRC);

static void gst_srt_route_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_srt_route_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_srt_route_src_finalize (GObject * object);
static gboolean gst_srt_route_src_start (GstBaseSrc * src);
static gboolean gst_srt_route_src_stop (GstBaseSrc * src);
static gboolean gst_srt_route_src_unlock (GstBaseSrc * src);
static gboolean gst_srt_route_src_unlock_stop (GstBaseSrc * src);
static GstFlowReturn gst_srt_route_src_create (GstPushSrc * src,
    GstBuffer ** buf);

static void
gst_srt_route_src_class_init (GstSrtRouteSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_srt_route_src_set_property;
  gobject_class->get_property = gst_srt_route_src_get_property;
  gobject_class->finalize = gst_srt_route_src_finalize;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "IP address to listen on (0.0.0.0 or :: for all)", DEFAULT_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "UDP port to listen on, shared with every srtroutesrc on it", 1,
          65535, DEFAULT_PORT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STREAMID,
      g_param_spec_string ("streamid", "Stream ID",
          "The stream id of the caller to receive (plain, or the r= of "
          "\"#!::r=NAME,m=publish\")", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PASSPHRASE,
      g_param_spec_string ("passphrase", "Passphrase",
          "The caller's passphrase (NULL: no encryption)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PBKEYLEN,
      g_param_spec_int ("pbkeylen", "Key length",
          "AES key length in bytes: 16, 24 or 32 (0: the caller's)", 0, 32,
          DEFAULT_PBKEYLEN, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_int ("latency", "Latency",
          "SRT latency in milliseconds (-1: libsrt's default)", -1, G_MAXINT,
          DEFAULT_LATENCY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstSrtRouteSrc:stats:
   *
   * As srtsrc's as a listener: `callers`, a GValueArray of one structure
   * per connected caller (none or one) with srtsrc's names
   * (`packets-received`, `bytes-received`, `packets-received-lost`,
   * `packets-received-dropped`, `packet-nack-sent`, `rtt-ms`,
   * `receive-rate-mbps`, `negotiated-latency-ms`).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "The caller's SRT link",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "SRT stream-id routed source", "Source/Network",
      "Receives the SRT caller with its stream id on a listener port shared "
      "with other routes", "mroute developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_srt_route_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_srt_route_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_srt_route_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_srt_route_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_srt_route_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_srt_route_src_debug, "srtroutesrc", 0,
      "SRT stream-id routed source");
}

static void
gst_srt_route_src_init (GstSrtRouteSrc * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->pbkeylen = DEFAULT_PBKEYLEN;
  self->latency = DEFAULT_LATENCY;
  g_mutex_init (&self->route_lock);
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
clear_passphrase (GstSrtRouteSrc * self)
{
  if (self->passphrase)
    memset (self->passphrase, 0, strlen (self->passphrase));
  g_clear_pointer (&self->passphrase, g_free);
}

static void
gst_srt_route_src_finalize (GObject * object)
{
  GstSrtRouteSrc *self = GST_SRT_ROUTE_SRC (object);

  g_free (self->address);
  g_free (self->streamid);
  clear_passphrase (self);
  g_mutex_clear (&self->route_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_srt_route_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSrtRouteSrc *self = GST_SRT_ROUTE_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_STREAMID:
      g_free (self->streamid);
      self->streamid = g_value_dup_string (value);
      break;
    case PROP_PASSPHRASE:
      clear_passphrase (self);
      self->passphrase = g_value_dup_string (value);
      break;
    case PROP_PBKEYLEN:
      self->pbkeylen = g_value_get_int (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* srtsrc's shape for a listener: its callers' figures, each a structure
 * in a (deprecated, but that is what srtsrc gives) GValueArray */
static GstStructure *
make_stats (GstSrtRouteSrc * self)
{
  GstStructure *s = gst_structure_new_empty ("application/x-srt-statistics");
  GstStructure *caller;
  MrSrtRouteStats st;
  gboolean connected = FALSE;
  GValue v = G_VALUE_INIT;
  GValue callers = G_VALUE_INIT;
  GValueArray *arr;

  g_mutex_lock (&self->route_lock);
  if (self->route)
    connected = mr_srt_route_stats (self->listener, self->route, &st);
  g_mutex_unlock (&self->route_lock);

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  arr = g_value_array_new (1);
  if (connected) {
    caller = gst_structure_new ("application/x-srt-statistics",
        "packets-received", G_TYPE_INT64, st.packets_received,
        "bytes-received", G_TYPE_UINT64, (guint64) st.bytes_received,
        "packets-received-lost", G_TYPE_INT, (gint) st.packets_lost,
        "packets-received-dropped", G_TYPE_INT, (gint) st.packets_dropped,
        "packet-nack-sent", G_TYPE_INT, (gint) st.nak_sent,
        "rtt-ms", G_TYPE_DOUBLE, st.rtt_ms,
        "receive-rate-mbps", G_TYPE_DOUBLE, st.receive_rate_mbps,
        "negotiated-latency-ms", G_TYPE_INT, st.negotiated_latency_ms, NULL);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, caller);
    g_value_array_append (arr, &v);
    g_value_unset (&v);
  }
  g_value_init (&callers, g_value_array_get_type ());
  g_value_take_boxed (&callers, arr);
  G_GNUC_END_IGNORE_DEPRECATIONS;
  gst_structure_take_value (s, "callers", &callers);
  return s;
}

static void
gst_srt_route_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSrtRouteSrc *self = GST_SRT_ROUTE_SRC (object);

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
      g_value_set_int (value, self->port);
      break;
    case PROP_STREAMID:
      g_value_set_string (value, self->streamid);
      break;
    case PROP_PBKEYLEN:
      g_value_set_int (value, self->pbkeylen);
      break;
    case PROP_LATENCY:
      g_value_set_int (value, self->latency);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---------------------------------------------------------------------- */
/* the listener's callbacks, on its thread */

static void
on_data (gpointer user_data, const guint8 * bytes, gsize size)
{
  GstSrtRouteSrc *self = user_data;

  if (g_async_queue_length (self->queue) >= QUEUE_MAX) {
    if (g_atomic_int_add (&self->queue_dropped, 1) % 1000 == 0)
      GST_WARNING_OBJECT (self, "downstream is too slow: packets dropped");
    return;
  }
  g_async_queue_push (self->queue, gst_buffer_new_memdup (bytes, size));
}

static void
on_caller (gpointer user_data, gboolean connected)
{
  GstSrtRouteSrc *self = user_data;

  GST_INFO_OBJECT (self, "caller %s", connected ? "connected" :
      "disconnected");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new_empty (connected ? "connection-added" :
              "connection-removed")));
}

static void
on_refused (gpointer user_data, const gchar * stream_id, const gchar * reason)
{
  GstSrtRouteSrc *self = user_data;

  GST_INFO_OBJECT (self, "refused a caller with stream id '%s': %s",
      stream_id, reason);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mroute-srt-refused", "stream-id", G_TYPE_STRING,
              stream_id, "reason", G_TYPE_STRING, reason, NULL)));
}

static const MrSrtRouteCallbacks callbacks = {
  .data = on_data,
  .caller = on_caller,
  .refused = on_refused,
};

/* ---------------------------------------------------------------------- */

static gboolean
gst_srt_route_src_start (GstBaseSrc * src)
{
  GstSrtRouteSrc *self = GST_SRT_ROUTE_SRC (src);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *address = NULL;
  g_autofree gchar *streamid = NULL;
  g_autofree gchar *passphrase = NULL;
  MrSrtRouteConfig config = { 0, };
  MrSrtListener *listener;
  MrSrtRoute *route;
  gint port;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  /* "#!::r=cam1,m=publish" routes the callers that ask for cam1 */
  streamid = mr_srt_stream_id_route (self->streamid);
  passphrase = g_strdup (self->passphrase);
  port = self->port;
  config.pbkeylen = self->pbkeylen;
  config.latency_ms = self->latency;
  GST_OBJECT_UNLOCK (self);

  if (!streamid || !*streamid) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("no stream id"),
        ("srtroutesrc needs a streamid that names a route"));
    return FALSE;
  }
  if (passphrase && (strlen (passphrase) < 10 || strlen (passphrase) > 79)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("bad passphrase"),
        ("an SRT passphrase has 10 to 79 characters"));
    return FALSE;
  }
  config.stream_id = streamid;
  config.passphrase = passphrase;

  self->queue = g_async_queue_new_full ((GDestroyNotify) gst_buffer_unref);
  g_atomic_int_set (&self->flushing, FALSE);

  listener = mr_srt_listener_acquire (address, port, &error);
  if (!listener) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", error->message),
        (NULL));
    g_clear_pointer (&self->queue, g_async_queue_unref);
    return FALSE;
  }
  route = mr_srt_route_add (listener, &config, &callbacks, self, &error);
  if (passphrase)
    memset (passphrase, 0, strlen (passphrase));
  if (!route) {
    GST_ELEMENT_ERROR (self, RESOURCE, BUSY, ("%s", error->message), (NULL));
    mr_srt_listener_release (listener);
    g_clear_pointer (&self->queue, g_async_queue_unref);
    return FALSE;
  }
  g_mutex_lock (&self->route_lock);
  self->listener = listener;
  self->route = route;
  g_mutex_unlock (&self->route_lock);
  GST_INFO_OBJECT (self, "routing stream id '%s' on %s:%d", streamid,
      address, port);
  return TRUE;
}

static gboolean
gst_srt_route_src_stop (GstBaseSrc * src)
{
  GstSrtRouteSrc *self = GST_SRT_ROUTE_SRC (src);
  MrSrtListener *listener;
  MrSrtRoute *route;

  g_mutex_lock (&self->route_lock);
  listener = self->listener;
  route = self->route;
  self->listener = NULL;
  self->route = NULL;
  g_mutex_unlock (&self->route_lock);

  if (route)
    mr_srt_route_remove (listener, route);
  if (listener)
    mr_srt_listener_release (listener);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  return TRUE;
}

static gboolean
gst_srt_route_src_unlock (GstBaseSrc * src)
{
  g_atomic_int_set (&GST_SRT_ROUTE_SRC (src)->flushing, TRUE);
  return TRUE;
}

static gboolean
gst_srt_route_src_unlock_stop (GstBaseSrc * src)
{
  g_atomic_int_set (&GST_SRT_ROUTE_SRC (src)->flushing, FALSE);
  return TRUE;
}

static GstFlowReturn
gst_srt_route_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstSrtRouteSrc *self = GST_SRT_ROUTE_SRC (src);

  while (!g_atomic_int_get (&self->flushing)) {
    GstBuffer *b = g_async_queue_timeout_pop (self->queue, POP_TIMEOUT_US);

    if (b) {
      *buf = b;
      return GST_FLOW_OK;
    }
  }
  return GST_FLOW_FLUSHING;
}
