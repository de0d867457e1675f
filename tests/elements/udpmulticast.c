/* Element tests for multicast in udpbatchsrc (joining a group, any-source
 * and source-specific, the udp:// URI handler) and udpfanoutsink (TTL,
 * DSCP and the outgoing interface of multicast datagrams).
 *
 * The test makes its own network namespace (unshare (CLONE_NEWNET), which
 * needs root or CAP_SYS_ADMIN): its `lo` is brought up with the MULTICAST
 * flag the host's may lack, and the groups joined there are nobody else's.
 * Without the permission the tests that send say so and pass without
 * running; the URI and property tests run anyway.  IPv6 multicast is not
 * looped back on `lo` by Linux: it is covered by
 * tests/integration/test_multicast.py on a veth pair. */

#define _GNU_SOURCE
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static gboolean have_netns;

/* A network namespace of our own with lo up and MULTICAST */
static gboolean
enter_private_netns (void)
{
  struct ifreq ifr;
  gint fd;
  gboolean ok;

  if (unshare (CLONE_NEWNET) < 0) {
    g_printerr ("udpmulticast: no network namespace of our own (%s): the "
        "sending tests do not run\n", g_strerror (errno));
    return FALSE;
  }
  fd = socket (AF_INET, SOCK_DGRAM, 0);
  memset (&ifr, 0, sizeof (ifr));
  g_strlcpy (ifr.ifr_name, "lo", IFNAMSIZ);
  ok = fd >= 0 && ioctl (fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_MULTICAST;
  ok = ok && ioctl (fd, SIOCSIFFLAGS, &ifr) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

#define SKIP_WITHOUT_NETNS() G_STMT_START {                             \
  if (!have_netns) {                                                    \
    GST_INFO ("no network namespace: skipped");                         \
    return;                                                             \
  }                                                                     \
} G_STMT_END

/* A UDP socket bound to @from (port 0) that sends multicast out of lo */
static gint
sender (const gchar * from)
{
  gint fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET };
  struct ip_mreqn mreqn = { .imr_ifindex = if_nametoindex ("lo") };

  fail_unless (fd >= 0);
  inet_pton (AF_INET, from, &a.sin_addr);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &mreqn,
          sizeof (mreqn)) == 0);
  return fd;
}

static void
send_datagram (gint fd, const gchar * group, gint port, guint8 fill,
    gsize len)
{
  struct sockaddr_in a = { .sin_family = AF_INET,.sin_port = htons (port) };
  guint8 buf[1500];

  memset (buf, fill, len);
  inet_pton (AF_INET, group, &a.sin_addr);
  fail_unless_equals_int (sendto (fd, buf, len, 0, (struct sockaddr *) &a,
          sizeof (a)), len);
}

/* udpbatchsrc in a harness, joined and bound (PAUSED); its port */
static GstHarness *
joined_source (const gchar * uri, gint * port)
{
  GstHarness *h = gst_harness_new_with_padnames ("udpbatchsrc", NULL, "src");

  g_object_set (h->element, "uri", uri, NULL);
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_PAUSED), GST_STATE_CHANGE_NO_PREROLL);
  g_object_get (h->element, "bound-port", port, NULL);
  fail_unless (*port > 0);
  return h;
}

static guint64
datagrams_of (GstElement * src)
{
  GstStructure *stats = NULL;
  guint64 n = 0;

  g_object_get (src, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "datagrams", &n);
  gst_structure_free (stats);
  return n;
}

/* ---------------------------------------------------------------------- */
/* udpbatchsrc: properties and URI */

GST_START_TEST (test_src_uri_handler)
{
  GstElement *src = gst_element_factory_make ("udpbatchsrc", NULL);
  GError *error = NULL;
  gchar *address = NULL, *source = NULL, *iface = NULL, *uri = NULL;
  gint port = 0;
  const gchar *const *protocols;

  fail_unless (GST_IS_URI_HANDLER (src));
  fail_unless_equals_int (gst_uri_handler_get_uri_type (GST_URI_HANDLER
          (src)), GST_URI_SRC);
  protocols = gst_uri_handler_get_protocols (GST_URI_HANDLER (src));
  fail_unless (g_strv_contains (protocols, "udp"));

  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "udp://232.1.2.3:5000?multicast-source=10.1.1.1&multicast-iface=veth1",
          &error));
  g_object_get (src, "address", &address, "port", &port, "multicast-source",
      &source, "multicast-iface", &iface, NULL);
  fail_unless_equals_string (address, "232.1.2.3");
  fail_unless_equals_int (port, 5000);
  fail_unless_equals_string (source, "10.1.1.1");
  fail_unless_equals_string (iface, "veth1");
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
  fail_unless_equals_string (uri,
      "udp://232.1.2.3:5000?multicast-source=10.1.1.1&multicast-iface=veth1");
  g_free (address);
  g_free (source);
  g_free (iface);
  g_free (uri);

  /* IPv6 in brackets; what is not given is unset again */
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "udp://[ff3e::1234]:6000", &error));
  g_object_get (src, "address", &address, "port", &port, "multicast-source",
      &source, "multicast-iface", &iface, "uri", &uri, NULL);
  fail_unless_equals_string (address, "ff3e::1234");
  fail_unless_equals_int (port, 6000);
  fail_unless (source == NULL);
  fail_unless (iface == NULL);
  fail_unless_equals_string (uri, "udp://[ff3e::1234]:6000");
  g_free (address);
  g_free (uri);

  /* refused: another scheme, no port, an unknown member; nothing changes */
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "rtp://239.1.1.1:5000", &error));
  fail_unless (g_error_matches (error, GST_URI_ERROR,
          GST_URI_ERROR_UNSUPPORTED_PROTOCOL));
  g_clear_error (&error);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "udp://239.1.1.1", &error));
  fail_unless (g_error_matches (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI));
  g_clear_error (&error);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "udp://239.1.1.1:5000?ttl=4", &error));
  fail_unless (strstr (error->message, "ttl") != NULL);
  g_clear_error (&error);
  g_object_get (src, "port", &port, NULL);
  fail_unless_equals_int (port, 6000);

  /* the `uri` property is the same */
  g_object_set (src, "uri", "udp://239.9.9.9:7000?multicast-iface=lo", NULL);
  g_object_get (src, "address", &address, "port", &port, "multicast-iface",
      &iface, NULL);
  fail_unless_equals_string (address, "239.9.9.9");
  fail_unless_equals_int (port, 7000);
  fail_unless_equals_string (iface, "lo");
  g_free (address);
  g_free (iface);

  gst_object_unref (src);
}

GST_END_TEST;

/* made from a URI by the registry, as udpsrc is (our rank is none, so
 * asked by name) */
GST_START_TEST (test_src_from_uri)
{
  GstElement *src = gst_element_factory_make ("udpbatchsrc", NULL);
  gchar *address = NULL;

  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "udp://127.0.0.1:0", NULL));
  g_object_get (src, "address", &address, NULL);
  fail_unless_equals_string (address, "127.0.0.1");
  g_free (address);
  gst_object_unref (src);
}

GST_END_TEST;

/* A start that cannot join fails with an error saying why */
static void
assert_start_fails (const gchar * uri, const gchar * words)
{
  GstElement *src = gst_element_factory_make ("udpbatchsrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  gst_element_set_bus (src, bus);
  g_object_set (src, "uri", uri, NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &debug);
  if (!strstr (error->message, words) && !(debug && strstr (debug, words)))
    fail ("'%s' or '%s' does not say '%s'", error->message, debug, words);
  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_element_set_bus (src, NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
}

GST_START_TEST (test_src_join_errors)
{
  assert_start_fails ("udp://239.1.1.1:0?multicast-iface=nosuchif0",
      "no network interface 'nosuchif0'");
  assert_start_fails ("udp://232.1.1.1:0?multicast-source=239.1.1.2",
      "not a unicast IP address");
  assert_start_fails ("udp://232.1.1.1:0?multicast-source=::1",
      "not a unicast IP address");
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */
/* udpbatchsrc: joining */

GST_START_TEST (test_src_any_source)
{
  GstHarness *h;
  gint port, tx;
  GstBuffer *b;

  SKIP_WITHOUT_NETNS ();
  h = joined_source ("udp://239.10.0.1:0?multicast-iface=lo", &port);
  tx = sender ("127.0.0.1");
  gst_harness_play (h);
  send_datagram (tx, "239.10.0.1", port, 0x47, 1316);
  b = gst_harness_pull (h);
  fail_unless (b != NULL);
  fail_unless_equals_int (gst_buffer_get_size (b), 1316);
  gst_buffer_unref (b);
  close (tx);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Only the source named is received: a datagram from 127.0.0.2 to the
 * group is dropped by the kernel, the one from 127.0.0.1 comes through */
GST_START_TEST (test_src_source_specific)
{
  GstHarness *h;
  gint port, good, other;
  GstBuffer *b;
  guint8 lead;

  SKIP_WITHOUT_NETNS ();
  h = joined_source ("udp://232.10.0.1:0?multicast-source=127.0.0.1"
      "&multicast-iface=lo", &port);
  good = sender ("127.0.0.1");
  other = sender ("127.0.0.2");
  gst_harness_play (h);
  send_datagram (other, "232.10.0.1", port, 0x02, 188);
  send_datagram (good, "232.10.0.1", port, 0x01, 188);
  b = gst_harness_pull (h);
  fail_unless (b != NULL);
  gst_buffer_extract (b, 0, &lead, 1);
  fail_unless_equals_int (lead, 0x01);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (datagrams_of (h->element), 1);
  close (good);
  close (other);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Bound to the group: a datagram to another group on the same port, which
 * another socket of the host joined, does not come in */
GST_START_TEST (test_src_only_its_group)
{
  GstHarness *h, *h2;
  gint port, port2, tx;
  GstBuffer *b;
  guint8 lead;
  gchar *uri;

  SKIP_WITHOUT_NETNS ();
  h = joined_source ("udp://239.10.0.2:0?multicast-iface=lo", &port);
  uri = g_strdup_printf ("udp://239.10.0.3:%d?multicast-iface=lo", port);
  h2 = joined_source (uri, &port2);
  g_free (uri);
  fail_unless_equals_int (port, port2);
  tx = sender ("127.0.0.1");
  gst_harness_play (h);
  gst_harness_play (h2);
  send_datagram (tx, "239.10.0.3", port, 0x03, 100);
  send_datagram (tx, "239.10.0.2", port, 0x02, 100);
  b = gst_harness_pull (h);
  gst_buffer_extract (b, 0, &lead, 1);
  fail_unless_equals_int (lead, 0x02);
  gst_buffer_unref (b);
  b = gst_harness_pull (h2);
  gst_buffer_extract (b, 0, &lead, 1);
  fail_unless_equals_int (lead, 0x03);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (datagrams_of (h->element), 1);
  fail_unless_equals_uint64 (datagrams_of (h2->element), 1);
  close (tx);
  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */
/* udpfanoutsink: TTL, DSCP, interface */

/* A socket that joined @group on lo, with the TTL and TOS of what it
 * receives */
static gint
member (const gchar * group, gint * port)
{
  gint fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof (a);
  struct ip_mreqn mreqn = { .imr_ifindex = if_nametoindex ("lo") };
  struct timeval tv = { 2, 0 };

  inet_pton (AF_INET, group, &a.sin_addr);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  getsockname (fd, (struct sockaddr *) &a, &len);
  *port = ntohs (a.sin_port);
  mreqn.imr_multiaddr = a.sin_addr;
  fail_unless (setsockopt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreqn,
          sizeof (mreqn)) == 0);
  setsockopt (fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof (one));
  setsockopt (fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof (one));
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  return fd;
}

/* Receives one datagram: its size, TTL and TOS (-1 when not received) */
static gssize
receive_marked (gint fd, gint * ttl, gint * tos)
{
  guint8 buf[2048], control[256];
  struct iovec iov = { buf, sizeof (buf) };
  struct msghdr msg = { 0 };
  struct cmsghdr *cm;
  gssize r;

  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof (control);
  *ttl = *tos = -1;
  r = recvmsg (fd, &msg, 0);
  for (cm = CMSG_FIRSTHDR (&msg); r >= 0 && cm; cm = CMSG_NXTHDR (&msg, cm)) {
    if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL)
      *ttl = *(gint *) CMSG_DATA (cm);
    else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
      *tos = *(guint8 *) CMSG_DATA (cm);
  }
  return r;
}

static GstBuffer *
datagram (gsize size)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (b, 0, 0x47, size);
  return b;
}

GST_START_TEST (test_sink_ttl_dscp_iface)
{
  GstHarness *h;
  gint rx, port, ttl, tos;
  gchar *client;
  GstBufferList *list;

  SKIP_WITHOUT_NETNS ();
  rx = member ("239.20.0.1", &port);
  h = gst_harness_new ("udpfanoutsink");
  client = g_strdup_printf ("239.20.0.1:%d", port);
  g_object_set (h->element, "clients", client, "ttl-mc", 7, "qos-dscp", 46,
      "multicast-iface", "lo", NULL);
  g_free (client);
  gst_harness_set_src_caps_str (h, "application/octet-stream");

  fail_unless_equals_int (gst_harness_push (h, datagram (188)), GST_FLOW_OK);
  fail_unless_equals_int (receive_marked (rx, &ttl, &tos), 188);
  fail_unless_equals_int (ttl, 7);
  fail_unless_equals_int (tos, 46 << 2);

  /* changed while playing, between two sends; a list goes out with GSO */
  g_object_set (h->element, "ttl-mc", 64, "qos-dscp", 10, NULL);
  list = gst_buffer_list_new ();
  for (guint i = 0; i < 4; i++)
    gst_buffer_list_add (list, datagram (1316));
  fail_unless_equals_int (gst_pad_push_list (h->srcpad, list), GST_FLOW_OK);
  for (guint i = 0; i < 4; i++) {
    fail_unless_equals_int (receive_marked (rx, &ttl, &tos), 1316);
    fail_unless_equals_int (ttl, 64);
    fail_unless_equals_int (tos, 10 << 2);
  }

  close (rx);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The defaults are multiudpsink's: TTL 1, DSCP the system's (0) */
GST_START_TEST (test_sink_defaults)
{
  GstElement *sink = gst_element_factory_make ("udpfanoutsink", NULL);
  gint ttl = 0, dscp = 0;
  gchar *iface = (gchar *) "x";
  gboolean loop = FALSE;

  g_object_get (sink, "ttl-mc", &ttl, "qos-dscp", &dscp, "multicast-iface",
      &iface, "loop", &loop, NULL);
  fail_unless_equals_int (ttl, 1);
  fail_unless_equals_int (dscp, -1);
  fail_unless (iface == NULL);
  fail_unless (loop);
  gst_object_unref (sink);
}

GST_END_TEST;

/* An interface that is not there: a warning, and nothing is sent to the
 * groups (not by another interface) while the unicast destinations go on */
GST_START_TEST (test_sink_unknown_iface)
{
  GstHarness *h = gst_harness_new ("udpfanoutsink");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  gint rx = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ttl, tos;
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof (a);
  struct timeval tv = { 2, 0 };
  gchar *clients;
  GstStructure *stats = NULL;
  guint64 errors = 0, sent = 0;
  gint last_errno = 0;

  inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
  fail_unless (bind (rx, (struct sockaddr *) &a, sizeof (a)) == 0);
  getsockname (rx, (struct sockaddr *) &a, &len);
  setsockopt (rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));

  gst_element_set_bus (h->element, bus);
  clients = g_strdup_printf ("239.40.0.1:5000,127.0.0.1:%d",
      ntohs (a.sin_port));
  g_object_set (h->element, "clients", clients, "multicast-iface",
      "nosuchif0", NULL);
  g_free (clients);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);

  fail_unless_equals_int (gst_harness_push (h, datagram (188)), GST_FLOW_OK);
  fail_unless_equals_int (receive_marked (rx, &ttl, &tos), 188);
  g_signal_emit_by_name (h->element, "get-stats", "239.40.0.1", 5000, &stats);
  gst_structure_get_uint64 (stats, "send-errors", &errors);
  gst_structure_get_uint64 (stats, "packets-sent", &sent);
  gst_structure_get_int (stats, "last-errno", &last_errno);
  gst_structure_free (stats);
  fail_unless_equals_uint64 (errors, 1);
  fail_unless_equals_uint64 (sent, 0);
  fail_unless_equals_int (last_errno, ENODEV);

  close (rx);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* udpbatchsrc ! udpfanoutsink, group to group, as a flow runs them */
GST_START_TEST (test_relay_group_to_group)
{
  GstElement *pipeline, *src, *sink;
  gint rx, out_port, in_port = 0, tx, ttl, tos;
  gchar *client;

  SKIP_WITHOUT_NETNS ();
  rx = member ("239.30.0.2", &out_port);
  pipeline = gst_parse_launch ("udpbatchsrc name=src "
      "uri=\"udp://239.30.0.1:0?multicast-iface=lo\" ! udpfanoutsink "
      "name=sink ttl-mc=5 multicast-iface=lo async=false", NULL);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  client = g_strdup_printf ("239.30.0.2:%d", out_port);
  g_object_set (sink, "clients", client, NULL);
  g_free (client);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          5 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  g_object_get (src, "bound-port", &in_port, NULL);
  tx = sender ("127.0.0.1");
  send_datagram (tx, "239.30.0.1", in_port, 0x47, 1316);
  fail_unless_equals_int (receive_marked (rx, &ttl, &tos), 1316);
  fail_unless_equals_int (ttl, 5);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  close (tx);
  close (rx);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
udpmulticast_suite (void)
{
  Suite *s = suite_create ("udpmulticast");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_src_uri_handler);
  tcase_add_test (tc, test_src_from_uri);
  tcase_add_test (tc, test_src_join_errors);
  tcase_add_test (tc, test_src_any_source);
  tcase_add_test (tc, test_src_source_specific);
  tcase_add_test (tc, test_src_only_its_group);
  tcase_add_test (tc, test_sink_ttl_dscp_iface);
  tcase_add_test (tc, test_sink_defaults);
  tcase_add_test (tc, test_sink_unknown_iface);
  tcase_add_test (tc, test_relay_group_to_group);
  return s;
}

int
main (int argc, char **argv)
{
  /* before any thread: a namespace is per thread, the test's children
   * (check forks one per test) inherit it */
  have_netns = enter_private_netns ();
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (udpmulticast_suite (), "udpmulticast",
      __FILE__);
}
