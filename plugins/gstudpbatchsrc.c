/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-udpbatchsrc
 * @title: udpbatchsrc
 * @see_also: udpsrc, udpfanoutsink
 *
 * Receives UDP datagrams like udpsrc, but reads every datagram that is
 * waiting in one `recvmmsg()` call and pushes them downstream as one
 * #GstBufferList, one buffer per datagram. A relay whose sink handles lists
 * (udpfanoutsink, multiudpsink) then also sends them in one go: the cost
 * per datagram drops because the syscalls, the wake-ups and the pad pushes
 * are shared by the batch.
 *
 * A datagram that arrives alone still leaves alone and at once: by default
 * the element never waits to fill a batch, so it adds no latency. With
 * `read-interval` set, after a read that did not fill a batch the element
 * lets the next datagrams gather in the socket's buffer until that much
 * time has passed since the read, then takes them in one read: at most
 * one wake-up, one receive and one send per output in each interval,
 * whatever the sender's pacing, for at most `read-interval` of added
 * latency (a read that fills a batch is followed by the next at once).
 * This trades latency for CPU where many flows share a machine.
 *
 * When `address` is a multicast group (IPv4 or IPv6) the element joins it,
 * as udpsrc does: any-source, or source-specific (SSM) when
 * `multicast-source` names the sender, on the interface `multicast-iface`
 * (by default the one the route to the group takes). It also handles
 * `udp://` URIs: `udp://239.1.1.1:5000?multicast-source=10.0.0.1&multicast-iface=eth1`,
 * `udp://[ff3e::1234]:5000`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 udpbatchsrc port=5000 caps="video/mpegts,systemstream=true,packetsize=188" ! udpfanoutsink clients=127.0.0.1:6000,127.0.0.1:6002
 * ]|
 * Receives the source-specific group 232.1.1.1 from 127.0.0.1 on lo and
 * sends it on as the group 239.2.2.2 (TTL 16, DSCP AF41) out of lo (which
 * needs the MULTICAST flag: `ip link set lo multicast on`;
 * `pipelines/multicast-relay.sh` runs it in a network namespace of its own,
 * with senders and a member):
 * |[
 * gst-launch-1.0 udpbatchsrc uri="udp://232.1.1.1:5000?multicast-source=127.0.0.1&multicast-iface=lo" ! udpfanoutsink clients=239.2.2.2:5002 ttl-mc=16 qos-dscp=34 multicast-iface=lo
 * ]|
 *
 * ## Design
 * Datagrams are received straight into the buffers they leave in, as
 * udpsrc receives into a buffer of its pool: the element holds `batch-size`
 * buffers of `mtu` bytes, mapped, each the target of one message of the
 * `recvmmsg()` call; a read resizes the buffers it filled to their
 * datagrams and pushes them, the others wait for the next read. The
 * buffers come from a #GstBufferPool of the element (`batch-size` + 1 made
 * at the start, at most 2 x `batch-size` + 1) and go back to it when
 * downstream releases them, so a datagram costs no copy and, in the
 * steady state, no allocation. The memory stays the buffer's however long
 * downstream keeps it (a queue of an output): when all the pool's buffers
 * are out, the element allocates buffers of no pool, freed with them. A
 * buffer held downstream takes `mtu` bytes whatever its datagram's size.
 * A datagram longer than `mtu` is truncated and counted in the `stats`
 * property.
 *
 * A multicast socket is bound to the group and its port (not to the
 * wildcard address), with `SO_REUSEADDR` whatever `reuse` says, and joins
 * with `MCAST_JOIN_GROUP` or `MCAST_JOIN_SOURCE_GROUP` (one call for IPv4
 * and IPv6) with `IP_MULTICAST_ALL` off: two sources can then take the
 * same group and port on two interfaces (ST 2022-7's red and blue
 * networks), each receiving only what arrives on its own. The joining is
 * plain C in `udp-multicast.c`.
 */

/* recvmmsg, sendmmsg */
#define _GNU_SOURCE

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstudpbatchsrc.h"
#include "mroute-elements.h"
#include "udp-multicast.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gio/gio.h>

GST_DEBUG_CATEGORY_STATIC (gst_udp_batch_src_debug);
#define GST_CAT_DEFAULT gst_udp_batch_src_debug

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_CAPS,
  PROP_BUFFER_SIZE,
  PROP_MTU,
  PROP_BATCH_SIZE,
  PROP_READ_INTERVAL,
  PROP_REUSE,
  PROP_BOUND_PORT,
  PROP_STATS,
  PROP_MULTICAST_SOURCE,
  PROP_MULTICAST_IFACE,
  PROP_URI,
};

#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_PORT 5004
#define DEFAULT_BUFFER_SIZE 0
#define DEFAULT_MTU 1500
#define DEFAULT_BATCH_SIZE 64
#define DEFAULT_REUSE FALSE
#define DEFAULT_READ_INTERVAL 0
#define MAX_READ_INTERVAL GST_SECOND
#define MAX_BATCH_SIZE 1024

static void gst_udp_batch_src_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

/* The element's pool: a GstBufferPool whose reset of a returning buffer
 * costs a half of the default's in the usual case, a buffer of one
 * writable memory and no metadata (the default's gst_buffer_resize was
 * more than half of a buffer's way back to the pool) */
typedef struct
{
  GstBufferPool parent;
  guint size;                   /* the buffers' size, the element's mtu */
} MrSlotPool;
typedef GstBufferPoolClass MrSlotPoolClass;
static GType mr_slot_pool_get_type (void);
G_DEFINE_TYPE (MrSlotPool, mr_slot_pool, GST_TYPE_BUFFER_POOL);

static void
mr_slot_pool_reset_buffer (GstBufferPool * pool, GstBuffer * buffer)
{
  GstMemory *mem;
  gpointer state = NULL;

  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_TAG_MEMORY)
      || gst_buffer_n_memory (buffer) != 1
      || gst_buffer_iterate_meta (buffer, &state)
      || !gst_memory_is_writable (mem = gst_buffer_peek_memory (buffer, 0))) {
    GST_BUFFER_POOL_CLASS (mr_slot_pool_parent_class)->reset_buffer (pool,
        buffer);
    return;
  }
  GST_BUFFER_FLAGS (buffer) = 0;
  GST_BUFFER_PTS (buffer) = GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_OFFSET (buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END (buffer) = GST_BUFFER_OFFSET_NONE;
  /* back to the pool's size (the memory's maxsize has the slack of its
   * alignment) */
  gst_memory_resize (mem, -(gssize) mem->offset,
      ((MrSlotPool *) pool)->size);
}

static void
mr_slot_pool_class_init (MrSlotPoolClass * klass)
{
  klass->reset_buffer = mr_slot_pool_reset_buffer;
}

static void
mr_slot_pool_init (MrSlotPool * pool)
{
}

#define gst_udp_batch_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstUdpBatchSrc, gst_udp_batch_src,
    GST_TYPE_PUSH_SRC, G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_udp_batch_src_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE (udpbatchsrc, "udpbatchsrc", GST_RANK_NONE,
    GST_TYPE_UDP_BATCH_SRC);

static void gst_udp_batch_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_udp_batch_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_udp_batch_src_finalize (GObject * object);
static GstCaps *gst_udp_batch_src_get_caps (GstBaseSrc * src,
    GstCaps * filter);
static gboolean gst_udp_batch_src_start (GstBaseSrc * src);
static gboolean gst_udp_batch_src_stop (GstBaseSrc * src);
static gboolean gst_udp_batch_src_unlock (GstBaseSrc * src);
static gboolean gst_udp_batch_src_unlock_stop (GstBaseSrc * src);
static GstFlowReturn gst_udp_batch_src_create (GstPushSrc * src,
    GstBuffer ** buf);

static void
gst_udp_batch_src_class_init (GstUdpBatchSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_udp_batch_src_set_property;
  gobject_class->get_property = gst_udp_batch_src_get_property;
  gobject_class->finalize = gst_udp_batch_src_finalize;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "IP address to bind to (0.0.0.0 or :: for all)", DEFAULT_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "UDP port to listen on (0 = any free port, see bound-port)", 0,
          65535, DEFAULT_PORT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps", "Caps of the received data",
          GST_TYPE_CAPS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BUFFER_SIZE,
      g_param_spec_int ("buffer-size", "Buffer size",
          "Kernel receive buffer size, in bytes (0 = system default)", 0,
          G_MAXINT, DEFAULT_BUFFER_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MTU,
      g_param_spec_uint ("mtu", "MTU",
          "Largest datagram expected, in bytes; longer ones are truncated",
          64, 65535, DEFAULT_MTU, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Most datagrams read in one call and pushed as one list", 1,
          MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstUdpBatchSrc:read-interval:
   *
   * The least time between two reads when the first did not fill a
   * batch, in nanoseconds, waited on the element's clock; 0 (the
   * default): read as soon as a datagram is there. Adds up to this much
   * latency, for fewer wake-ups and larger batches.
   */
  g_object_class_install_property (gobject_class, PROP_READ_INTERVAL,
      g_param_spec_uint64 ("read-interval", "Read interval",
          "Least time between two reads after a read that did not fill a "
          "batch, in nanoseconds (0 = read at once; adds up to this much "
          "latency)", 0, MAX_READ_INTERVAL, DEFAULT_READ_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_REUSE,
      g_param_spec_boolean ("reuse", "Reuse", "Allow the port to be shared "
          "(SO_REUSEADDR; always on for a multicast address)", DEFAULT_REUSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BOUND_PORT,
      g_param_spec_int ("bound-port", "Bound port",
          "Port the socket is bound to, once started", 0, 65535, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstUdpBatchSrc:multicast-source:
   *
   * With a multicast `address`: the IP address of the only sender to
   * receive from (source-specific multicast); unset: any sender.
   */
  g_object_class_install_property (gobject_class, PROP_MULTICAST_SOURCE,
      g_param_spec_string ("multicast-source", "Multicast source",
          "IP address of the sender of a source-specific multicast group "
          "(NULL = any sender)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_IFACE,
      g_param_spec_string ("multicast-iface", "Multicast interface",
          "Name of the network interface to join the multicast group on "
          "(NULL = the one the route to the group takes)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_URI,
      g_param_spec_string ("uri", "URI",
          "udp://ADDRESS:PORT[?multicast-source=IP&multicast-iface=NAME]",
          "udp://0.0.0.0:5004", G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstUdpBatchSrc:stats:
   *
   * `datagrams` received, `reads` (recvmmsg calls that returned data) and
   * `truncated` datagrams, all #guint64.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Datagrams and reads so far", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "UDP batch source", "Source/Network",
      "Receives UDP datagrams in batches (recvmmsg) as buffer lists",
      "mroute developers");

  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_udp_batch_src_get_caps);
  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_udp_batch_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_udp_batch_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_udp_batch_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_udp_batch_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_udp_batch_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_udp_batch_src_debug, "udpbatchsrc", 0,
      "UDP batch source");
}

static void
gst_udp_batch_src_init (GstUdpBatchSrc * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->buffer_size = DEFAULT_BUFFER_SIZE;
  self->mtu = DEFAULT_MTU;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->read_interval = DEFAULT_READ_INTERVAL;
  self->reuse = DEFAULT_REUSE;
  self->fd = -1;

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_udp_batch_src_finalize (GObject * object)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (object);

  g_free (self->address);
  g_free (self->multicast_source);
  g_free (self->multicast_iface);
  gst_caps_replace (&self->caps, NULL);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* called with the object lock */
static gchar *
get_uri (GstUdpBatchSrc * self)
{
  return mr_udp_uri_build (self->address, self->port, self->multicast_source,
      self->multicast_iface);
}

/* called with the object lock */
static gboolean
set_uri (GstUdpBatchSrc * self, const gchar * uri, GError ** error)
{
  gchar *host, *source, *iface;
  gint port;
  GError *err = NULL;

  if (!mr_udp_uri_parse (uri, &host, &port, &source, &iface, &err)) {
    g_set_error_literal (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        err->message);
    g_error_free (err);
    return FALSE;
  }
  g_free (self->address);
  g_free (self->multicast_source);
  g_free (self->multicast_iface);
  self->address = host;
  self->port = port;
  self->multicast_source = source;
  self->multicast_iface = iface;
  return TRUE;
}

static void
gst_udp_batch_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MULTICAST_SOURCE:
      g_free (self->multicast_source);
      self->multicast_source = g_value_dup_string (value);
      break;
    case PROP_MULTICAST_IFACE:
      g_free (self->multicast_iface);
      self->multicast_iface = g_value_dup_string (value);
      break;
    case PROP_URI:{
      GError *err = NULL;

      if (!set_uri (self, g_value_get_string (value), &err)) {
        GST_WARNING_OBJECT (self, "%s", err->message);
        g_error_free (err);
      }
      break;
    }
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      if (!self->address)
        self->address = g_strdup (DEFAULT_ADDRESS);
      break;
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_CAPS:{
      const GstCaps *caps = gst_value_get_caps (value);
      GstCaps *new_caps = caps ? gst_caps_copy (caps) : gst_caps_new_any ();

      gst_caps_replace (&self->caps, new_caps);
      gst_caps_unref (new_caps);
      GST_OBJECT_UNLOCK (self);
      gst_pad_mark_reconfigure (GST_BASE_SRC_PAD (self));
      return;
    }
    case PROP_BUFFER_SIZE:
      self->buffer_size = g_value_get_int (value);
      break;
    case PROP_MTU:
      self->mtu = g_value_get_uint (value);
      break;
    case PROP_BATCH_SIZE:
      self->batch_size = g_value_get_uint (value);
      break;
    case PROP_READ_INTERVAL:
      self->read_interval = g_value_get_uint64 (value);
      break;
    case PROP_REUSE:
      self->reuse = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_udp_batch_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MULTICAST_SOURCE:
      g_value_set_string (value, self->multicast_source);
      break;
    case PROP_MULTICAST_IFACE:
      g_value_set_string (value, self->multicast_iface);
      break;
    case PROP_URI:
      g_value_take_string (value, get_uri (self));
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_CAPS:
      gst_value_set_caps (value, self->caps);
      break;
    case PROP_BUFFER_SIZE:
      g_value_set_int (value, self->buffer_size);
      break;
    case PROP_MTU:
      g_value_set_uint (value, self->mtu);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    case PROP_READ_INTERVAL:
      g_value_set_uint64 (value, self->read_interval);
      break;
    case PROP_REUSE:
      g_value_set_boolean (value, self->reuse);
      break;
    case PROP_BOUND_PORT:
      g_value_set_int (value, self->bound_port);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_structure_new ("application/x-udpbatchsrc-stats",
              "datagrams", G_TYPE_UINT64, self->datagrams,
              "reads", G_TYPE_UINT64, self->reads,
              "truncated", G_TYPE_UINT64, self->truncated, NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static GstCaps *
gst_udp_batch_src_get_caps (GstBaseSrc * src, GstCaps * filter)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (src);
  GstCaps *caps, *result;

  GST_OBJECT_LOCK (self);
  caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();
  GST_OBJECT_UNLOCK (self);

  if (filter) {
    result = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
  } else {
    result = caps;
  }
  return result;
}

/* The native form of the IP address @str and @port, or FALSE */
static gboolean
native_address (const gchar * str, gint port, struct sockaddr_storage *ss,
    socklen_t * len)
{
  g_autoptr (GInetAddress) iaddr = str ? g_inet_address_new_from_string (str)
      : NULL;
  g_autoptr (GSocketAddress) saddr = NULL;

  if (!iaddr)
    return FALSE;
  saddr = g_inet_socket_address_new (iaddr, port);
  *len = g_socket_address_get_native_size (saddr);
  memset (ss, 0, sizeof (*ss));
  return g_socket_address_to_native (saddr, ss, sizeof (*ss), NULL);
}

static gboolean
gst_udp_batch_src_start (GstBaseSrc * src)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (src);
  struct sockaddr_storage ss, source_ss;
  socklen_t sslen = sizeof (ss), bind_len, source_len;
  g_autofree gchar *address = NULL;
  g_autofree gchar *mc_source = NULL;
  g_autofree gchar *mc_iface = NULL;
  gint port, buffer_size, one = 1, ifindex = 0;
  gboolean reuse, multicast;
  GstStructure *config;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  mc_source = g_strdup (self->multicast_source);
  mc_iface = g_strdup (self->multicast_iface);
  port = self->port;
  buffer_size = self->buffer_size;
  reuse = self->reuse;
  self->datagrams = self->reads = self->truncated = 0;
  GST_OBJECT_UNLOCK (self);

  if (!native_address (address, port, &ss, &bind_len)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, (NULL),
        ("'%s' is not an IP address", address));
    return FALSE;
  }
  multicast = mr_mcast_is_multicast (&ss);
  if (multicast && mc_source && *mc_source
      && (!native_address (mc_source, 0, &source_ss, &source_len)
          || source_ss.ss_family != ss.ss_family
          || mr_mcast_is_multicast (&source_ss))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, (NULL),
        ("multicast-source '%s' is not a unicast IP address of the group's "
            "family", mc_source));
    return FALSE;
  }
  if (multicast && (ifindex = mr_mcast_iface_index (mc_iface, &err)) < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not join multicast group %s: %s", address, err->message),
        (NULL));
    g_error_free (err);
    return FALSE;
  }

  self->fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (self->fd < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, (NULL),
        ("could not create a socket: %s", g_strerror (errno)));
    return FALSE;
  }
  /* a group's port is shared, as udpsrc shares it: another source may
   * join the same group on another interface */
  if (reuse || multicast)
    setsockopt (self->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  if (bind (self->fd, (struct sockaddr *) &ss, bind_len) < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not listen on UDP port %d: %s", port, g_strerror (errno)),
        ("bind to %s:%d failed", address, port));
    close (self->fd);
    self->fd = -1;
    return FALSE;
  }
  if (multicast && !mr_mcast_join (self->fd, &ss, mc_source
          && *mc_source ? &source_ss : NULL, ifindex, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not join multicast group: %s", err->message),
        ("group %s port %d, source %s, interface %s", address, port,
            mc_source ? mc_source : "any", mc_iface ? mc_iface : "any"));
    g_error_free (err);
    close (self->fd);
    self->fd = -1;
    return FALSE;
  }
  if (multicast)
    GST_INFO_OBJECT (self, "joined %s%s%s on %s", address,
        mc_source ? " from " : "", mc_source ? mc_source : "",
        mc_iface ? mc_iface : "the route's interface");

  if (buffer_size > 0) {
    gint got = 0;
    socklen_t len = sizeof (got);

    /* SO_RCVBUFFORCE goes past rmem_max when we may; else the capped one */
    if (setsockopt (self->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size,
            sizeof (buffer_size)) < 0)
      setsockopt (self->fd, SOL_SOCKET, SO_RCVBUF, &buffer_size,
          sizeof (buffer_size));
    getsockopt (self->fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
    if (got / 2 < buffer_size)
      GST_WARNING_OBJECT (self, "receive buffer is %d bytes, not %d", got / 2,
          buffer_size);
  }

  if (getsockname (self->fd, (struct sockaddr *) &ss, &sslen) == 0) {
    GST_OBJECT_LOCK (self);
    self->bound_port = ntohs (ss.ss_family == AF_INET6 ?
        ((struct sockaddr_in6 *) &ss)->sin6_port :
        ((struct sockaddr_in *) &ss)->sin_port);
    GST_OBJECT_UNLOCK (self);
  }

  GST_OBJECT_LOCK (self);
  self->n_slots = self->batch_size;
  self->next_read = GST_CLOCK_TIME_NONE;
  self->flushing = FALSE;
  self->slot_size = self->mtu;
  GST_OBJECT_UNLOCK (self);
  /* the slots take batch-size buffers; one more stays in the pool so that
   * refilling them does not empty it (an empty pool costs a syscall on its
   * control fd at every acquire and release); past the maximum, buffers
   * that downstream keeps are replaced by ones of no pool */
  self->pool = g_object_new (mr_slot_pool_get_type (), NULL);
  gst_object_ref_sink (self->pool);
  ((MrSlotPool *) self->pool)->size = self->slot_size;
  config = gst_buffer_pool_get_config (self->pool);
  gst_buffer_pool_config_set_params (config, NULL, self->slot_size,
      self->n_slots + 1, 2 * self->n_slots + 1);
  if (!gst_buffer_pool_set_config (self->pool, config)
      || !gst_buffer_pool_set_active (self->pool, TRUE)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, (NULL),
        ("could not start a pool of %u buffers of %u bytes",
            self->n_slots + 1, self->slot_size));
    gst_clear_object (&self->pool);
    close (self->fd);
    self->fd = -1;
    return FALSE;
  }
  self->slots = g_new0 (GstBuffer *, self->n_slots);
  self->maps = g_new0 (GstMapInfo, self->n_slots);
  self->msgs = g_new0 (struct mmsghdr, self->n_slots);
  self->iov = g_new0 (struct iovec, self->n_slots);
  for (guint i = 0; i < self->n_slots; i++) {
    self->msgs[i].msg_hdr.msg_iov = &self->iov[i];
    self->msgs[i].msg_hdr.msg_iovlen = 1;
  }

  self->poll = gst_poll_new (TRUE);
  gst_poll_fd_init (&self->pollfd);
  self->pollfd.fd = self->fd;
  gst_poll_add_fd (self->poll, &self->pollfd);
  gst_poll_fd_ctl_read (self->poll, &self->pollfd, TRUE);
  GST_DEBUG_OBJECT (self, "listening on port %d", self->bound_port);
  return TRUE;
}

static gboolean
gst_udp_batch_src_stop (GstBaseSrc * src)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (src);

  if (self->poll) {
    gst_poll_free (self->poll);
    self->poll = NULL;
  }
  if (self->fd >= 0) {
    close (self->fd);
    self->fd = -1;
  }
  for (guint i = 0; self->slots && i < self->n_slots; i++) {
    if (self->slots[i]) {
      gst_memory_unmap (self->maps[i].memory, &self->maps[i]);
      gst_buffer_unref (self->slots[i]);
    }
  }
  g_clear_pointer (&self->slots, g_free);
  g_clear_pointer (&self->maps, g_free);
  if (self->pool) {
    gst_buffer_pool_set_active (self->pool, FALSE);
    gst_clear_object (&self->pool);
  }
  g_clear_pointer (&self->msgs, g_free);
  g_clear_pointer (&self->iov, g_free);
  GST_OBJECT_LOCK (self);
  self->bound_port = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_udp_batch_src_unlock (GstBaseSrc * src)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (src);

  GST_OBJECT_LOCK (self);
  self->flushing = TRUE;
  if (self->wait_id)
    gst_clock_id_unschedule (self->wait_id);
  GST_OBJECT_UNLOCK (self);
  if (self->poll)
    gst_poll_set_flushing (self->poll, TRUE);
  return TRUE;
}

static gboolean
gst_udp_batch_src_unlock_stop (GstBaseSrc * src)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (src);

  GST_OBJECT_LOCK (self);
  self->flushing = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (self->poll)
    gst_poll_set_flushing (self->poll, FALSE);
  return TRUE;
}

/* Gives every empty slot a buffer of the pool (or, when downstream keeps
 * all the pool's buffers, one of its own) and points its iovec at the
 * buffer's mapped memory */
static GstFlowReturn
fill_slots (GstUdpBatchSrc * self)
{
  GstBufferPoolAcquireParams params = {.flags =
        GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
  };

  for (guint i = 0; i < self->n_slots; i++) {
    GstBuffer *b;
    GstFlowReturn ret;

    if (self->slots[i])
      continue;
    ret = gst_buffer_pool_acquire_buffer (self->pool, &b, &params);
    if (ret == GST_FLOW_EOS)
      b = gst_buffer_new_allocate (NULL, self->slot_size, NULL);
    else if (ret != GST_FLOW_OK)
      return ret;
    if (!gst_memory_map (gst_buffer_peek_memory (b, 0), &self->maps[i],
            GST_MAP_WRITE)) {
      gst_buffer_unref (b);
      GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
          ("could not map a buffer"));
      return GST_FLOW_ERROR;
    }
    self->slots[i] = b;
    self->iov[i].iov_base = self->maps[i].data;
    self->iov[i].iov_len = self->maps[i].size;
  }
  return GST_FLOW_OK;
}

/* Takes slot @i's buffer, filled with @len bytes */
static GstBuffer *
take_slot (GstUdpBatchSrc * self, guint i, guint len, GstClockTime ts)
{
  GstBuffer *b = self->slots[i];
  GstMemory *mem = self->maps[i].memory;

  gst_memory_unmap (mem, &self->maps[i]);
  gst_memory_resize (mem, 0, len);
  GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = ts;
  self->slots[i] = NULL;
  return b;
}

/* Waits on the element's clock until @time (a clock time), or until
 * unlock() unschedules the wait: GST_CLOCK_UNSCHEDULED */
static GstClockReturn
wait_until (GstUdpBatchSrc * self, GstClockTime time)
{
  GstClockID id;
  GstClockReturn ret;

  GST_OBJECT_LOCK (self);
  if (self->flushing) {
    GST_OBJECT_UNLOCK (self);
    return GST_CLOCK_UNSCHEDULED;
  }
  if (!GST_ELEMENT_CLOCK (self)) {
    GST_OBJECT_UNLOCK (self);
    return GST_CLOCK_OK;
  }
  id = self->wait_id =
      gst_clock_new_single_shot_id (GST_ELEMENT_CLOCK (self), time);
  GST_OBJECT_UNLOCK (self);

  ret = gst_clock_id_wait (id, NULL);

  GST_OBJECT_LOCK (self);
  self->wait_id = NULL;
  GST_OBJECT_UNLOCK (self);
  gst_clock_id_unref (id);
  return ret;
}

static GstFlowReturn
gst_udp_batch_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (src);
  struct mmsghdr *msgs = self->msgs;
  guint total = 0;
  gint n;
  GstClock *clock;
  GstClockTime base, ts = GST_CLOCK_TIME_NONE;
  guint64 interval;
  guint64 truncated = 0;
  GstFlowReturn ret;

  /* the slots the last read filled; what downstream has released of them
   * is back in the pool by now */
  if ((ret = fill_slots (self)) != GST_FLOW_OK)
    return ret;

  /* read-interval: the datagrams gather in the socket until the next read
   * is due */
  if (GST_CLOCK_TIME_IS_VALID (self->next_read)) {
    GstClockReturn cret = wait_until (self, self->next_read);

    self->next_read = GST_CLOCK_TIME_NONE;
    if (cret == GST_CLOCK_UNSCHEDULED)
      return GST_FLOW_FLUSHING;
  }

  for (;;) {
    gint r = gst_poll_wait (self->poll, GST_CLOCK_TIME_NONE);

    if (r < 0) {
      if (errno == EBUSY)
        return GST_FLOW_FLUSHING;
      if (errno == EINTR || errno == EAGAIN)
        continue;
      GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
          ("poll failed: %s", g_strerror (errno)));
      return GST_FLOW_ERROR;
    }

    /* the kernel sets msg_len and msg_flags of every message it fills */
    n = recvmmsg (self->fd, msgs, self->n_slots, MSG_DONTWAIT, NULL);
    if (n > 0)
      break;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
        && errno != ECONNREFUSED) {
      GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
          ("receive failed: %s", g_strerror (errno)));
      return GST_FLOW_ERROR;
    }
  }

  for (gint i = 0; i < n; i++) {
    total += msgs[i].msg_len;
    if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
      truncated++;
  }

  GST_OBJECT_LOCK (self);
  self->datagrams += n;
  self->reads++;
  self->truncated += truncated;
  interval = (guint) n < self->n_slots ? self->read_interval : 0;
  clock = GST_ELEMENT_CLOCK (self) ? gst_object_ref (GST_ELEMENT_CLOCK (self))
      : NULL;
  base = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);
  GST_LOG_OBJECT (self, "read %d datagrams (%u bytes)", n, total);

  if (clock) {
    GstClockTime now = gst_clock_get_time (clock);

    ts = now > base ? now - base : 0;
    if (interval > 0)
      self->next_read = now + interval;
    gst_object_unref (clock);
  }

  if (n == 1) {
    *buf = take_slot (self, 0, msgs[0].msg_len, ts);
  } else {
    GstBufferList *list = gst_buffer_list_new_sized (n);

    for (gint i = 0; i < n; i++)
      gst_buffer_list_add (list, take_slot (self, i, msgs[i].msg_len, ts));
    gst_base_src_submit_buffer_list (GST_BASE_SRC (self), list);
    *buf = NULL;
  }
  return GST_FLOW_OK;
}

/* ---------------------------------------------------------------------- */
/* GstURIHandler */

static GstURIType
gst_udp_batch_src_uri_get_type (GType type)
{
  return GST_URI_SRC;
}

static const gchar *const *
gst_udp_batch_src_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { "udp", NULL };

  return protocols;
}

static gchar *
gst_udp_batch_src_uri_get_uri (GstURIHandler * handler)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (handler);
  gchar *uri;

  GST_OBJECT_LOCK (self);
  uri = get_uri (self);
  GST_OBJECT_UNLOCK (self);
  return uri;
}

static gboolean
gst_udp_batch_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  GstUdpBatchSrc *self = GST_UDP_BATCH_SRC (handler);
  gboolean ok;

  if (GST_STATE (self) != GST_STATE_NULL
      && GST_STATE (self) != GST_STATE_READY) {
    g_set_error_literal (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "the URI can only be set in the NULL or READY state");
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  ok = set_uri (self, uri, error);
  GST_OBJECT_UNLOCK (self);
  if (ok) {
    g_object_notify (G_OBJECT (self), "address");
    g_object_notify (G_OBJECT (self), "port");
  }
  return ok;
}

static void
gst_udp_batch_src_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = (GstURIHandlerInterface *) g_iface;

  iface->get_type = gst_udp_batch_src_uri_get_type;
  iface->get_protocols = gst_udp_batch_src_uri_get_protocols;
  iface->get_uri = gst_udp_batch_src_uri_get_uri;
  iface->set_uri = gst_udp_batch_src_uri_set_uri;
}
