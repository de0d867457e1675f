/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-udpfanoutsink
 * @title: udpfanoutsink
 * @see_also: multiudpsink, udpbatchsrc
 *
 * Sends every datagram it receives to a list of UDP destinations, like
 * multiudpsink, with the same `add`, `remove`, `clear` and `get-stats`
 * action signals, so it can replace it in an application. It differs in how
 * it sends a #GstBufferList: the datagrams of the list that have the same
 * size are sent to each destination with UDP generic segmentation offload
 * (`UDP_SEGMENT`), one kernel send for up to 64 datagrams, and all the
 * destinations in one `sendmmsg()` call. On a relay this removes most of the
 * kernel's per-datagram cost, which is what a fan-out to many destinations
 * spends its time on. The datagrams that leave are byte for byte the
 * buffers that came in.
 *
 * Multicast destinations take the socket options of multiudpsink's
 * properties of the same names: `ttl-mc` (the TTL or IPv6 hop limit of
 * multicast datagrams), `multicast-iface` (the interface they leave by)
 * and `loop`; `qos-dscp` marks every datagram, unicast too. They are
 * options of the element's sockets, so they are the same for all its
 * destinations: a relay that needs two TTLs, DSCPs or interfaces uses one
 * udpfanoutsink for each (the controller does, see docs/protocols.md).
 * When `multicast-iface` names an interface that is not there, the element
 * posts a warning and sends nothing to its multicast destinations (each
 * send counted as failed with `ENODEV` in `get-stats`) rather than let the
 * route pick another network; its unicast destinations go on.
 *
 * When the kernel or the route cannot do GSO, the element says so once in
 * the debug log and sends each datagram on its own (still one `sendmmsg()`
 * for all destinations). A destination that fails (unreachable network, a
 * refused address) is counted in its `get-stats` and skipped; the others
 * are not delayed.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 udpbatchsrc port=5000 ! udpfanoutsink clients=127.0.0.1:6000,127.0.0.1:6002 sync=false
 * ]|
 * To a multicast group, TTL 16, DSCP 46 (EF), out of lo (with the MULTICAST
 * flag; `pipelines/multicast-relay.sh` runs this in a namespace of its own):
 * |[
 * gst-launch-1.0 udpbatchsrc port=5000 ! udpfanoutsink clients=239.1.1.1:5002 ttl-mc=16 qos-dscp=46 multicast-iface=lo
 * ]|
 *
 * ## Design
 * The client list is protected by a mutex that the streaming thread holds
 * while it sends one buffer or list, so `add` and `remove` from the
 * application take effect between two sends, never in the middle of one.
 * Grouping datagrams into GSO sends is plain C in `udp-gso.c`.
 */

/* recvmmsg, sendmmsg */
#define _GNU_SOURCE

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstudpfanoutsink.h"
#include "mroute-elements.h"
#include "udp-gso.h"
#include "udp-multicast.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <gio/gio.h>

GST_DEBUG_CATEGORY_STATIC (gst_udp_fanout_sink_debug);
#define GST_CAT_DEFAULT gst_udp_fanout_sink_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

enum
{
  PROP_0,
  PROP_CLIENTS,
  PROP_GSO,
  PROP_BUFFER_SIZE,
  PROP_TTL_MC,
  PROP_QOS_DSCP,
  PROP_MULTICAST_IFACE,
  PROP_LOOP,
};

enum
{
  SIGNAL_ADD,
  SIGNAL_REMOVE,
  SIGNAL_CLEAR,
  SIGNAL_GET_STATS,
  LAST_SIGNAL
};

#define DEFAULT_GSO TRUE
#define DEFAULT_BUFFER_SIZE 0
#define DEFAULT_TTL_MC 1
#define DEFAULT_QOS_DSCP -1
#define DEFAULT_LOOP TRUE
#define MAX_MMSG 1024           /* UIO_MAXIOV: most messages per sendmmsg */

struct _GstUdpFanoutClient
{
  gchar *host;
  gint port;
  struct sockaddr_storage addr;
  socklen_t addrlen;
  guint add_count;
  gboolean multicast;           /* a group: sent by multicast-iface */
  guint64 bytes_sent;
  guint64 packets_sent;
  guint64 send_errors;
  gint last_errno;
};

static guint gst_udp_fanout_sink_signals[LAST_SIGNAL];

#define gst_udp_fanout_sink_parent_class parent_class
G_DEFINE_TYPE (GstUdpFanoutSink, gst_udp_fanout_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (udpfanoutsink, "udpfanoutsink", GST_RANK_NONE,
    GST_TYPE_UDP_FANOUT_SINK);

static void gst_udp_fanout_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_udp_fanout_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_udp_fanout_sink_finalize (GObject * object);
static gboolean gst_udp_fanout_sink_start (GstBaseSink * sink);
static gboolean gst_udp_fanout_sink_stop (GstBaseSink * sink);
static GstFlowReturn gst_udp_fanout_sink_render (GstBaseSink * sink,
    GstBuffer * buffer);
static GstFlowReturn gst_udp_fanout_sink_render_list (GstBaseSink * sink,
    GstBufferList * list);
static void gst_udp_fanout_sink_add (GstUdpFanoutSink * self,
    const gchar * host, gint port);
static void gst_udp_fanout_sink_remove (GstUdpFanoutSink * self,
    const gchar * host, gint port);
static void gst_udp_fanout_sink_clear (GstUdpFanoutSink * self);
static GstStructure *gst_udp_fanout_sink_get_stats (GstUdpFanoutSink * self,
    const gchar * host, gint port);

static void
gst_udp_fanout_sink_class_init (GstUdpFanoutSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_udp_fanout_sink_set_property;
  gobject_class->get_property = gst_udp_fanout_sink_get_property;
  gobject_class->finalize = gst_udp_fanout_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_CLIENTS,
      g_param_spec_string ("clients", "Clients",
          "Comma-separated list of host:port destinations", "",
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_GSO,
      g_param_spec_boolean ("gso", "GSO",
          "Send runs of equal-size datagrams with UDP segmentation offload",
          DEFAULT_GSO, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BUFFER_SIZE,
      g_param_spec_int ("buffer-size", "Buffer size",
          "Kernel send buffer size, in bytes (0 = system default)", 0,
          G_MAXINT, DEFAULT_BUFFER_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TTL_MC,
      g_param_spec_int ("ttl-mc", "Multicast TTL",
          "TTL (IPv6: hop limit) of multicast datagrams, in router hops", 0,
          255, DEFAULT_TTL_MC, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_QOS_DSCP,
      g_param_spec_int ("qos-dscp", "QoS DSCP",
          "Differentiated services code point of every datagram, 0 to 63 "
          "(-1 = leave the system's)", -1, 63, DEFAULT_QOS_DSCP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_IFACE,
      g_param_spec_string ("multicast-iface", "Multicast interface",
          "Name of the network interface multicast datagrams leave by "
          "(NULL = the one the route to the group takes)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LOOP,
      g_param_spec_boolean ("loop", "Multicast loopback",
          "Deliver multicast datagrams to this host's own members too",
          DEFAULT_LOOP, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstUdpFanoutSink::add:
   * @host: host name or IP address
   * @port: UDP port
   *
   * Adds a destination; adding one twice sends to it twice.
   */
  gst_udp_fanout_sink_signals[SIGNAL_ADD] = g_signal_new_class_handler ("add",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_udp_fanout_sink_add), NULL, NULL, NULL, G_TYPE_NONE, 2,
      G_TYPE_STRING, G_TYPE_INT);
  /**
   * GstUdpFanoutSink::remove:
   * @host: host name or IP address
   * @port: UDP port
   *
   * Removes a destination added with the same @host and @port.
   */
  gst_udp_fanout_sink_signals[SIGNAL_REMOVE] =
      g_signal_new_class_handler ("remove", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_udp_fanout_sink_remove), NULL, NULL, NULL, G_TYPE_NONE,
      2, G_TYPE_STRING, G_TYPE_INT);
  /**
   * GstUdpFanoutSink::clear:
   *
   * Removes every destination.
   */
  gst_udp_fanout_sink_signals[SIGNAL_CLEAR] =
      g_signal_new_class_handler ("clear", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_udp_fanout_sink_clear), NULL, NULL, NULL, G_TYPE_NONE,
      0);
  /**
   * GstUdpFanoutSink::get-stats:
   * @host: host name or IP address
   * @port: UDP port
   *
   * Returns: a structure with `bytes-sent`, `packets-sent` and
   * `send-errors` (#guint64) for that destination, and `last-errno`
   * (#gint); an empty structure if there is no such destination.
   */
  gst_udp_fanout_sink_signals[SIGNAL_GET_STATS] =
      g_signal_new_class_handler ("get-stats", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_udp_fanout_sink_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 2, G_TYPE_STRING, G_TYPE_INT);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "UDP fan-out sink", "Sink/Network",
      "Sends each datagram to many UDP destinations, in batches with UDP GSO",
      "mroute developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_udp_fanout_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_udp_fanout_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_udp_fanout_sink_render);
  basesink_class->render_list =
      GST_DEBUG_FUNCPTR (gst_udp_fanout_sink_render_list);

  GST_DEBUG_CATEGORY_INIT (gst_udp_fanout_sink_debug, "udpfanoutsink", 0,
      "UDP fan-out sink");
}

static void
client_free (GstUdpFanoutClient * c)
{
  g_free (c->host);
  g_free (c);
}

static void
gst_udp_fanout_sink_init (GstUdpFanoutSink * self)
{
  g_mutex_init (&self->clients_lock);
  self->clients = g_ptr_array_new_with_free_func ((GDestroyNotify)
      client_free);
  self->gso = DEFAULT_GSO;
  self->gso_works = TRUE;
  self->buffer_size = DEFAULT_BUFFER_SIZE;
  self->ttl_mc = DEFAULT_TTL_MC;
  self->qos_dscp = DEFAULT_QOS_DSCP;
  self->loop = DEFAULT_LOOP;
  self->fd4 = self->fd6 = -1;
  /* a relay sends as soon as data arrives */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_udp_fanout_sink_finalize (GObject * object)
{
  GstUdpFanoutSink *self = GST_UDP_FANOUT_SINK (object);

  g_ptr_array_unref (self->clients);
  g_free (self->multicast_iface);
  g_mutex_clear (&self->clients_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ---------------------------------------------------------------------- */
/* clients */

static gboolean
resolve (const gchar * host, gint port, struct sockaddr_storage *ss,
    socklen_t * len)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) saddr = NULL;

  if (!addr) {
    g_autoptr (GResolver) resolver = g_resolver_get_default ();
    GList *results = g_resolver_lookup_by_name (resolver, host, NULL, NULL);

    if (!results)
      return FALSE;
    addr = g_object_ref (results->data);
    g_resolver_free_addresses (results);
  }
  saddr = g_inet_socket_address_new (addr, port);
  *len = g_socket_address_get_native_size (saddr);
  return g_socket_address_to_native (saddr, ss, sizeof (*ss), NULL);
}

/* called with clients_lock */
static GstUdpFanoutClient *
find_client (GstUdpFanoutSink * self, const gchar * host, gint port,
    guint * index)
{
  for (guint i = 0; i < self->clients->len; i++) {
    GstUdpFanoutClient *c = self->clients->pdata[i];
    if (c->port == port && g_strcmp0 (c->host, host) == 0) {
      if (index)
        *index = i;
      return c;
    }
  }
  return NULL;
}

static void
gst_udp_fanout_sink_add (GstUdpFanoutSink * self, const gchar * host,
    gint port)
{
  GstUdpFanoutClient *c;
  struct sockaddr_storage ss;
  socklen_t len;

  if (!host || port <= 0 || port > 65535) {
    GST_WARNING_OBJECT (self, "invalid destination %s:%d", host, port);
    return;
  }

  g_mutex_lock (&self->clients_lock);
  c = find_client (self, host, port, NULL);
  if (c) {
    c->add_count++;
    g_mutex_unlock (&self->clients_lock);
    return;
  }
  g_mutex_unlock (&self->clients_lock);

  /* resolving may block: not under the lock the streaming thread needs */
  if (!resolve (host, port, &ss, &len)) {
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
        ("Could not resolve destination %s", host), (NULL));
    return;
  }

  c = g_new0 (GstUdpFanoutClient, 1);
  c->host = g_strdup (host);
  c->port = port;
  c->addr = ss;
  c->addrlen = len;
  c->add_count = 1;
  c->multicast = mr_mcast_is_multicast (&ss);

  g_mutex_lock (&self->clients_lock);
  g_ptr_array_add (self->clients, c);
  g_mutex_unlock (&self->clients_lock);
  GST_DEBUG_OBJECT (self, "added %s:%d", host, port);
}

static void
gst_udp_fanout_sink_remove (GstUdpFanoutSink * self, const gchar * host,
    gint port)
{
  GstUdpFanoutClient *c;
  guint index;

  g_mutex_lock (&self->clients_lock);
  c = find_client (self, host, port, &index);
  if (c && --c->add_count == 0)
    g_ptr_array_remove_index (self->clients, index);
  g_mutex_unlock (&self->clients_lock);

  if (!c)
    GST_WARNING_OBJECT (self, "no destination %s:%d to remove", host, port);
}

static void
gst_udp_fanout_sink_clear (GstUdpFanoutSink * self)
{
  g_mutex_lock (&self->clients_lock);
  g_ptr_array_set_size (self->clients, 0);
  g_mutex_unlock (&self->clients_lock);
}

static GstStructure *
gst_udp_fanout_sink_get_stats (GstUdpFanoutSink * self, const gchar * host,
    gint port)
{
  GstUdpFanoutClient *c;
  GstStructure *s;

  g_mutex_lock (&self->clients_lock);
  c = find_client (self, host, port, NULL);
  if (c)
    s = gst_structure_new ("udpfanoutsink-stats",
        "bytes-sent", G_TYPE_UINT64, c->bytes_sent,
        "packets-sent", G_TYPE_UINT64, c->packets_sent,
        "send-errors", G_TYPE_UINT64, c->send_errors,
        "last-errno", G_TYPE_INT, c->last_errno, NULL);
  else
    s = gst_structure_new_empty ("udpfanoutsink-stats");
  g_mutex_unlock (&self->clients_lock);
  return s;
}

static void
set_clients_string (GstUdpFanoutSink * self, const gchar * str)
{
  g_auto (GStrv) items = g_strsplit (str ? str : "", ",", -1);

  gst_udp_fanout_sink_clear (self);
  for (guint i = 0; items[i]; i++) {
    gchar *item = g_strstrip (items[i]);
    gchar *colon = strrchr (item, ':');
    gint64 port;

    if (!*item)
      continue;
    if (!colon || !g_ascii_string_to_signed (colon + 1, 10, 1, 65535, &port,
            NULL)) {
      GST_WARNING_OBJECT (self, "ignoring malformed client '%s'", item);
      continue;
    }
    *colon = '\0';
    /* [v6]:port */
    if (item[0] == '[' && colon > item && colon[-1] == ']') {
      colon[-1] = '\0';
      item++;
    }
    gst_udp_fanout_sink_add (self, item, port);
  }
}

static gchar *
get_clients_string (GstUdpFanoutSink * self)
{
  GString *str = g_string_new (NULL);

  g_mutex_lock (&self->clients_lock);
  for (guint i = 0; i < self->clients->len; i++) {
    GstUdpFanoutClient *c = self->clients->pdata[i];
    for (guint k = 0; k < c->add_count; k++)
      g_string_append_printf (str, "%s%s:%d", str->len ? "," : "", c->host,
          c->port);
  }
  g_mutex_unlock (&self->clients_lock);
  return g_string_free (str, FALSE);
}

static gboolean apply_send_options (GstUdpFanoutSink * self,
    GError ** error);
static void post_options_error (GstUdpFanoutSink * self, GError * error);
static void post_iface_warning (GstUdpFanoutSink * self);

static void
gst_udp_fanout_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstUdpFanoutSink *self = GST_UDP_FANOUT_SINK (object);

  switch (prop_id) {
    case PROP_CLIENTS:
      set_clients_string (self, g_value_get_string (value));
      break;
    case PROP_GSO:
      g_mutex_lock (&self->clients_lock);
      self->gso = g_value_get_boolean (value);
      g_mutex_unlock (&self->clients_lock);
      break;
    case PROP_BUFFER_SIZE:
      g_mutex_lock (&self->clients_lock);
      self->buffer_size = g_value_get_int (value);
      g_mutex_unlock (&self->clients_lock);
      break;
    case PROP_TTL_MC:
    case PROP_QOS_DSCP:
    case PROP_MULTICAST_IFACE:
    case PROP_LOOP:{
      GError *err = NULL;
      gboolean missing;

      g_mutex_lock (&self->clients_lock);
      if (prop_id == PROP_TTL_MC)
        self->ttl_mc = g_value_get_int (value);
      else if (prop_id == PROP_QOS_DSCP)
        self->qos_dscp = g_value_get_int (value);
      else if (prop_id == PROP_LOOP)
        self->loop = g_value_get_boolean (value);
      else {
        g_free (self->multicast_iface);
        self->multicast_iface = g_value_dup_string (value);
      }
      /* between two sends, like a new destination */
      apply_send_options (self, &err);
      missing = self->iface_missing;
      g_mutex_unlock (&self->clients_lock);
      if (err)
        post_options_error (self, err);
      else if (missing)
        post_iface_warning (self);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_udp_fanout_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstUdpFanoutSink *self = GST_UDP_FANOUT_SINK (object);

  switch (prop_id) {
    case PROP_CLIENTS:
      g_value_take_string (value, get_clients_string (self));
      break;
    case PROP_GSO:
      g_mutex_lock (&self->clients_lock);
      g_value_set_boolean (value, self->gso);
      g_mutex_unlock (&self->clients_lock);
      break;
    case PROP_BUFFER_SIZE:
      g_mutex_lock (&self->clients_lock);
      g_value_set_int (value, self->buffer_size);
      g_mutex_unlock (&self->clients_lock);
      break;
    case PROP_TTL_MC:
      g_mutex_lock (&self->clients_lock);
      g_value_set_int (value, self->ttl_mc);
      g_mutex_unlock (&self->clients_lock);
      break;
    case PROP_QOS_DSCP:
      g_mutex_lock (&self->clients_lock);
      g_value_set_int (value, self->qos_dscp);
      g_mutex_unlock (&self->clients_lock);
      break;
    case PROP_MULTICAST_IFACE:
      g_mutex_lock (&self->clients_lock);
      g_value_set_string (value, self->multicast_iface);
      g_mutex_unlock (&self->clients_lock);
      break;
    case PROP_LOOP:
      g_mutex_lock (&self->clients_lock);
      g_value_set_boolean (value, self->loop);
      g_mutex_unlock (&self->clients_lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* ---------------------------------------------------------------------- */
/* sockets */

static gint
open_socket (GstUdpFanoutSink * self, gint family, gint buffer_size)
{
  gint fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd >= 0 && buffer_size > 0
      && setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer_size,
          sizeof (buffer_size)) < 0)
    setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &buffer_size,
        sizeof (buffer_size));
  return fd;
}

/* The multicast and QoS options of the open sockets, from the properties;
 * called with clients_lock.  An interface that does not exist is an error
 * (the options stay as they were), so is a refused option. */
static gboolean
apply_send_options (GstUdpFanoutSink * self, GError ** error)
{
  gint ifindex;

  if (self->fd4 < 0 && self->fd6 < 0)
    return TRUE;                /* not started: start () applies them */
  /* a missing interface spares the unicast destinations (skip_client ()) */
  self->iface_missing = FALSE;
  if ((ifindex = mr_mcast_iface_index (self->multicast_iface, NULL)) < 0) {
    self->iface_missing = TRUE;
    ifindex = 0;
  }
  if (self->fd4 >= 0 && !mr_mcast_set_send_options (self->fd4, AF_INET,
          self->ttl_mc, self->qos_dscp, ifindex, self->loop, error))
    return FALSE;
  /* an IPv6 socket cannot leave by an interface without IPv6 */
  if (self->fd6 >= 0 && !mr_mcast_set_send_options (self->fd6, AF_INET6,
          self->ttl_mc, self->qos_dscp, ifindex, self->loop, NULL))
    GST_INFO_OBJECT (self, "IPv6 multicast options refused");
  GST_DEBUG_OBJECT (self, "multicast TTL %d, DSCP %d, interface %s, loop %d",
      self->ttl_mc, self->qos_dscp, self->multicast_iface ?
      self->multicast_iface : "(route)", self->loop);
  return TRUE;
}

/* not with clients_lock held */
static void
post_iface_warning (GstUdpFanoutSink * self)
{
  gchar *iface;

  g_mutex_lock (&self->clients_lock);
  iface = g_strdup (self->multicast_iface);
  g_mutex_unlock (&self->clients_lock);
  GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
      ("No network interface '%s': nothing is sent to multicast "
          "destinations", iface), (NULL));
  g_free (iface);
}

/* not with clients_lock held: a sync bus handler may ask for stats */
static void
post_options_error (GstUdpFanoutSink * self, GError * error)
{
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Could not set the sending options: %s", error->message), (NULL));
  g_error_free (error);
}

static gboolean
gst_udp_fanout_sink_start (GstBaseSink * sink)
{
  GstUdpFanoutSink *self = GST_UDP_FANOUT_SINK (sink);
  gint buffer_size;
  gboolean ok, missing;
  GError *err = NULL;

  g_mutex_lock (&self->clients_lock);
  buffer_size = self->buffer_size;
  self->gso_works = TRUE;
  g_mutex_unlock (&self->clients_lock);

  self->fd4 = open_socket (self, AF_INET, buffer_size);
  if (self->fd4 < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, (NULL),
        ("could not create a UDP socket: %s", g_strerror (errno)));
    return FALSE;
  }
  /* IPv6 may be missing: then only IPv4 destinations work */
  self->fd6 = open_socket (self, AF_INET6, buffer_size);

  g_mutex_lock (&self->clients_lock);
  ok = apply_send_options (self, &err);
  missing = self->iface_missing;
  g_mutex_unlock (&self->clients_lock);
  if (!ok) {
    post_options_error (self, err);
    gst_udp_fanout_sink_stop (sink);
    return FALSE;
  }
  if (missing)
    post_iface_warning (self);
  return TRUE;
}

static gboolean
gst_udp_fanout_sink_stop (GstBaseSink * sink)
{
  GstUdpFanoutSink *self = GST_UDP_FANOUT_SINK (sink);

  if (self->fd4 >= 0)
    close (self->fd4);
  if (self->fd6 >= 0)
    close (self->fd6);
  self->fd4 = self->fd6 = -1;
  return TRUE;
}

static gint
client_fd (GstUdpFanoutSink * self, GstUdpFanoutClient * c)
{
  return c->addr.ss_family == AF_INET6 ? self->fd6 : self->fd4;
}

static void
count_error (GstUdpFanoutSink * self, GstUdpFanoutClient * c, gint err)
{
  if (c->send_errors++ == 0 || c->last_errno != err)
    GST_WARNING_OBJECT (self, "sending to %s:%d failed: %s", c->host, c->port,
        g_strerror (err));
  c->last_errno = err;
}

/* A group while multicast-iface names an interface that is not there:
 * not sent at all (rather than by the route's interface, maybe another
 * network), counted as failed.  Called with clients_lock. */
static gboolean
skip_client (GstUdpFanoutSink * self, GstUdpFanoutClient * c)
{
  if (!c->multicast || !self->iface_missing)
    return FALSE;
  count_error (self, c, ENODEV);
  return TRUE;
}

/* Sends @n prepared messages, all on @fd; @owners[i] is the client of
 * message i.  A failing message is counted on its client and skipped. */
static void
send_messages (GstUdpFanoutSink * self, gint fd, struct mmsghdr *msgs,
    GstUdpFanoutClient ** owners, guint * datagrams, guint n)
{
  guint done = 0;

  while (done < n) {
    gint r = sendmmsg (fd, msgs + done, MIN (n - done, MAX_MMSG), 0);

    if (r < 0) {
      if (errno == EINTR)
        continue;
      count_error (self, owners[done], errno);
      done++;
      continue;
    }
    for (guint i = done; i < done + r; i++) {
      owners[i]->bytes_sent += msgs[i].msg_len;
      owners[i]->packets_sent += datagrams[i];
    }
    done += r;
  }
}

/* Sends @n datagrams (@iov, one entry each) to every client, as GSO runs
 * when @gso.  Called with clients_lock. */
static void
send_all (GstUdpFanoutSink * self, struct iovec *iov, gsize * sizes, guint n)
{
  guint n_clients = self->clients->len, n_adds = 0;
  gboolean gso = self->gso && self->gso_works && n > 1;
  union
  {
    struct cmsghdr align;
    gchar buf[CMSG_SPACE (sizeof (guint16))];
  } *cmsgs;
  struct mmsghdr *msgs;
  GstUdpFanoutClient **owners;
  guint *datagrams;
  guint max_msgs;

  if (n_clients == 0 || n == 0)
    return;

  for (guint c = 0; c < n_clients; c++)
    n_adds += ((GstUdpFanoutClient *) self->clients->pdata[c])->add_count;
  max_msgs = n_adds * (gso ? 1 : n);
  msgs = g_new0 (struct mmsghdr, max_msgs);
  owners = g_new (GstUdpFanoutClient *, max_msgs);
  datagrams = g_new (guint, max_msgs);
  cmsgs = gso ? g_malloc0 (sizeof (*cmsgs)) : NULL;

  for (gint family_pass = 0; family_pass < 2; family_pass++) {
    gint fd = family_pass == 0 ? self->fd4 : self->fd6;

    if (fd < 0)
      continue;

    if (gso) {
      guint start = 0;

      while (start < n) {
        guint len = mr_gso_group_length (sizes, n, start, MR_GSO_MAX_SEGMENTS,
            MR_GSO_MAX_BYTES);
        guint m = 0;
        struct cmsghdr *cm = NULL;

        if (len > 1) {
          memset (cmsgs, 0, sizeof (*cmsgs));
          cm = (struct cmsghdr *) cmsgs->buf;
          cm->cmsg_level = SOL_UDP;
          cm->cmsg_type = UDP_SEGMENT;
          cm->cmsg_len = CMSG_LEN (sizeof (guint16));
          *(guint16 *) CMSG_DATA (cm) = sizes[start];
        }
        for (guint c = 0; c < n_clients; c++) {
          GstUdpFanoutClient *client = self->clients->pdata[c];

          if (client_fd (self, client) != fd || skip_client (self, client))
            continue;
          for (guint k = 0; k < client->add_count; k++) {
            struct msghdr *h = &msgs[m].msg_hdr;

            memset (&msgs[m], 0, sizeof (msgs[m]));
            h->msg_name = &client->addr;
            h->msg_namelen = client->addrlen;
            h->msg_iov = iov + start;
            h->msg_iovlen = len;
            if (cm) {
              h->msg_control = cmsgs->buf;
              h->msg_controllen = sizeof (cmsgs->buf);
            }
            owners[m] = client;
            datagrams[m] = len;
            m++;
          }
        }
        if (len > 1) {
          /* try the first message alone: if the kernel refuses GSO, fall
           * back to one datagram per message for good */
          gint r = sendmmsg (fd, msgs, MIN (m, 1), 0);

          if (r < 0 && (errno == EIO || errno == EINVAL
                  || errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
            GST_INFO_OBJECT (self, "UDP GSO refused (%s), sending datagrams "
                "one by one", g_strerror (errno));
            self->gso_works = FALSE;
            g_free (msgs);
            g_free (owners);
            g_free (datagrams);
            g_free (cmsgs);
            send_all (self, iov, sizes, n);
            return;
          }
          if (r == 1) {
            owners[0]->bytes_sent += msgs[0].msg_len;
            owners[0]->packets_sent += len;
          } else if (m > 0) {
            count_error (self, owners[0], errno);
          }
          send_messages (self, fd, msgs + 1, owners + 1, datagrams + 1,
              m > 0 ? m - 1 : 0);
        } else {
          send_messages (self, fd, msgs, owners, datagrams, m);
        }
        start += len;
      }
    } else {
      guint m = 0;

      for (guint c = 0; c < n_clients; c++) {
        GstUdpFanoutClient *client = self->clients->pdata[c];

        if (client_fd (self, client) != fd || skip_client (self, client))
          continue;
        for (guint k = 0; k < client->add_count; k++) {
          for (guint i = 0; i < n; i++) {
            if (m == max_msgs) {
              send_messages (self, fd, msgs, owners, datagrams, m);
              m = 0;
            }
            memset (&msgs[m], 0, sizeof (msgs[m]));
            msgs[m].msg_hdr.msg_name = &client->addr;
            msgs[m].msg_hdr.msg_namelen = client->addrlen;
            msgs[m].msg_hdr.msg_iov = &iov[i];
            msgs[m].msg_hdr.msg_iovlen = 1;
            owners[m] = client;
            datagrams[m] = 1;
            m++;
          }
        }
      }
      send_messages (self, fd, msgs, owners, datagrams, m);
    }
  }

  g_free (msgs);
  g_free (owners);
  g_free (datagrams);
  g_free (cmsgs);
}

static GstFlowReturn
render_buffers (GstUdpFanoutSink * self, GstBuffer ** buffers, guint n)
{
  GstMapInfo *maps = g_newa (GstMapInfo, n);
  GstBuffer **mapped_buffers = g_newa (GstBuffer *, n);
  struct iovec *iov = g_newa (struct iovec, n);
  gsize *sizes = g_newa (gsize, n);
  gboolean *one_memory = g_newa (gboolean, n);
  guint mapped = 0;

  for (guint i = 0; i < n; i++) {
    gboolean ok;

    /* a datagram is one memory (udpbatchsrc, udpsrc): mapping it alone
     * costs a third of mapping the buffer (which may merge its memories:
     * how it was mapped is kept for the unmapping) */
    one_memory[mapped] = gst_buffer_n_memory (buffers[i]) == 1;
    if (one_memory[mapped])
      ok = gst_memory_map (gst_buffer_peek_memory (buffers[i], 0),
          &maps[mapped], GST_MAP_READ);
    else
      ok = gst_buffer_map (buffers[i], &maps[mapped], GST_MAP_READ);
    if (!ok) {
      GST_WARNING_OBJECT (self, "could not map buffer %u, skipped", i);
      continue;
    }
    mapped_buffers[mapped] = buffers[i];
    iov[mapped].iov_base = maps[mapped].data;
    iov[mapped].iov_len = maps[mapped].size;
    sizes[mapped] = maps[mapped].size;
    mapped++;
  }

  g_mutex_lock (&self->clients_lock);
  send_all (self, iov, sizes, mapped);
  g_mutex_unlock (&self->clients_lock);

  for (guint i = 0; i < mapped; i++) {
    if (one_memory[i])
      gst_memory_unmap (maps[i].memory, &maps[i]);
    else
      gst_buffer_unmap (mapped_buffers[i], &maps[i]);
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_udp_fanout_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  return render_buffers (GST_UDP_FANOUT_SINK (sink), &buffer, 1);
}

static GstFlowReturn
gst_udp_fanout_sink_render_list (GstBaseSink * sink, GstBufferList * list)
{
  guint n = gst_buffer_list_length (list);
  GstBuffer **buffers;

  if (n == 0)
    return GST_FLOW_OK;
  buffers = g_newa (GstBuffer *, n);
  for (guint i = 0; i < n; i++)
    buffers[i] = gst_buffer_list_get (list, i);
  return render_buffers (GST_UDP_FANOUT_SINK (sink), buffers, n);
}
