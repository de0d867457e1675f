/* Element tests for srtroutesrc: two routes on one listener port, each
 * getting its own caller's bytes (a plain id and the "#!::r=" form, two
 * passphrases and key lengths); a caller with an unknown stream id and one
 * with a wrong passphrase refused before any media flows, with a
 * "mroute-srt-refused" message naming the id and never a passphrase; a
 * caller gone and back; the same id twice on a port refused at start.
 * The callers are libsrt sockets of the test's own, on 127.0.0.1. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gio/gio.h>
#include <srt/srt.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#define MSG_SIZE 1316
#define PASS_A "passphrase-of-route-a"
#define PASS_B "passphrase-of-route-b-32"

/* a UDP port free on 127.0.0.1 now */
static gint
free_port (void)
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  fail_unless (g_socket_bind (s, any, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static GstHarness *
route_latency (gint port, const gchar * id, const gchar * pass, gint keylen,
    gint latency, GstBus * bus)
{
  GstHarness *h = gst_harness_new ("srtroutesrc");

  g_object_set (h->element, "address", "127.0.0.1", "port", port,
      "streamid", id, "passphrase", pass, "pbkeylen", keylen, "latency",
      latency, NULL);
  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  return h;
}

static GstHarness *
route (gint port, const gchar * id, const gchar * pass, gint keylen,
    GstBus * bus)
{
  return route_latency (port, id, pass, keylen, 125, bus);
}

/* A caller; SRT_INVALID_SOCK when the listener refused it */
static SRTSOCKET
caller (gint port, const gchar * id, const gchar * pass, gint keylen)
{
  SRTSOCKET s = srt_create_socket ();
  struct sockaddr_in sa;
  gint timeout_ms = 5000;

  srt_setsockflag (s, SRTO_STREAMID, id, strlen (id));
  srt_setsockflag (s, SRTO_CONNTIMEO, &timeout_ms, sizeof (timeout_ms));
  if (pass) {
    srt_setsockflag (s, SRTO_PASSPHRASE, pass, strlen (pass));
    srt_setsockflag (s, SRTO_PBKEYLEN, &keylen, sizeof (keylen));
  }
  memset (&sa, 0, sizeof (sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (srt_connect (s, (struct sockaddr *) &sa, sizeof (sa)) == SRT_ERROR) {
    srt_close (s);
    return SRT_INVALID_SOCK;
  }
  return s;
}

/* message @i of a stream marked @mark: its bytes say who and which */
static void
fill (guint8 * buf, guint8 mark, guint i)
{
  for (guint k = 0; k < MSG_SIZE; k++)
    buf[k] = (guint8) (mark ^ (i * 7 + k));
}

static void
send_messages (SRTSOCKET s, guint8 mark, guint n)
{
  guint8 buf[MSG_SIZE];

  for (guint i = 0; i < n; i++) {
    fill (buf, mark, i);
    fail_unless_equals_int (srt_sendmsg2 (s, (char *) buf, MSG_SIZE, NULL),
        MSG_SIZE);
    g_usleep (1000);
  }
}

static void
expect_messages (GstHarness * h, guint8 mark, guint n)
{
  guint8 want[MSG_SIZE];

  for (guint i = 0; i < n; i++) {
    GstBuffer *b = gst_harness_pull (h);

    fail_unless (b != NULL, "message %u of %u never came", i, n);
    fill (want, mark, i);
    fail_unless_equals_int (gst_buffer_get_size (b), MSG_SIZE);
    fail_unless (gst_buffer_memcmp (b, 0, want, MSG_SIZE) == 0,
        "message %u differs", i);
    gst_buffer_unref (b);
  }
}

/* the next refusal message on @bus within @timeout_s, from @from if set;
 * NULL when none */
static GstStructure *
wait_refused (GstBus * bus, GstElement * from, gint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ELEMENT);
    const GstStructure *s;

    if (!m)
      continue;
    s = gst_message_get_structure (m);
    if (gst_structure_has_name (s, "mroute-srt-refused")
        && (!from || GST_MESSAGE_SRC (m) == GST_OBJECT (from))) {
      GstStructure *copy = gst_structure_copy (s);
      gst_message_unref (m);
      return copy;
    }
    gst_message_unref (m);
  }
  return NULL;
}

/* Drops the messages nobody read (each holds its element, which holds the
 * bus) and the test's reference */
static void
bus_done (GstBus * bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

static void
assert_no_secret (const GstStructure * s)
{
  g_autofree gchar *text = gst_structure_to_string (s);

  fail_if (strstr (text, PASS_A) != NULL, "%s", text);
  fail_if (strstr (text, PASS_B) != NULL, "%s", text);
}

GST_START_TEST (test_two_routes_one_port)
{
  gint port = free_port ();
  GstBus *bus = gst_bus_new ();
  GstHarness *ha = route (port, "cam-a", PASS_A, 16, bus);
  /* each route its own latency too */
  GstHarness *hb = route_latency (port, "cam-b", PASS_B, 32, 400, bus);
  SRTSOCKET a = caller (port, "cam-a", PASS_A, 16);
  SRTSOCKET b = caller (port, "#!::r=cam-b,m=publish", PASS_B, 32);
  g_autoptr (GstStructure) stats = NULL;
  const GValue *callers;

  fail_unless (a != SRT_INVALID_SOCK, "cam-a was refused");
  fail_unless (b != SRT_INVALID_SOCK, "cam-b was refused");
  send_messages (a, 0xa0, 40);
  send_messages (b, 0xb0, 40);
  expect_messages (ha, 0xa0, 40);
  expect_messages (hb, 0xb0, 40);
  /* nothing more: each route got its own caller's only */
  g_usleep (300 * 1000);
  fail_unless_equals_int (gst_harness_buffers_in_queue (ha), 0);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hb), 0);

  /* srtsrc's listener shape: one caller's figures */
  g_object_get (ha->element, "stats", &stats, NULL);
  callers = gst_structure_get_value (stats, "callers");
  fail_unless (callers != NULL);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  fail_unless_equals_int (((GValueArray *) g_value_get_boxed (callers))->
      n_values, 1);
  G_GNUC_END_IGNORE_DEPRECATIONS;
  gst_structure_free (g_steal_pointer (&stats));
  g_object_get (hb->element, "stats", &stats, NULL);
  callers = gst_structure_get_value (stats, "callers");
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  {
    GValueArray *arr = g_value_get_boxed (callers);
    const GstStructure *c;
    gint latency = 0;

    fail_unless_equals_int (arr->n_values, 1);
    c = gst_value_get_structure (g_value_array_get_nth (arr, 0));
    fail_unless (gst_structure_get_int (c, "negotiated-latency-ms",
            &latency));
    fail_unless (latency >= 400, "negotiated %d ms", latency);
    fail_unless (gst_structure_has_field (c, "rtt-ms"));
  }
  G_GNUC_END_IGNORE_DEPRECATIONS;

  srt_close (a);
  srt_close (b);
  bus_done (bus);
  gst_harness_teardown (ha);
  gst_harness_teardown (hb);
}

GST_END_TEST;

GST_START_TEST (test_unknown_id_refused)
{
  gint port = free_port ();
  GstBus *bus = gst_bus_new ();
  GstHarness *ha = route (port, "cam-a", PASS_A, 16, bus);
  GstHarness *hb = route (port, "cam-b", PASS_B, 32, bus);
  GstStructure *s;

  fail_unless (caller (port, "cam-x", PASS_A, 16) == SRT_INVALID_SOCK,
      "a caller with an unknown id was accepted");
  fail_unless (caller (port, "#!::r=cam-a,m=request", PASS_A, 16) ==
      SRT_INVALID_SOCK, "a caller that wants to read was accepted");
  /* every route on the port is told of both, with the id they sent */
  {
    g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash,
        g_str_equal, g_free, NULL);
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (g_hash_table_size (seen) < 4
        && g_get_monotonic_time () < deadline) {
      GstMessage *m = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
          GST_MESSAGE_ELEMENT);

      if (!m)
        continue;
      s = (GstStructure *) gst_message_get_structure (m);
      if (gst_structure_has_name (s, "mroute-srt-refused")) {
        const gchar *id = gst_structure_get_string (s, "stream-id");

        assert_no_secret (s);
        fail_unless (g_str_equal (id, "cam-x")
            || g_str_equal (id, "#!::r=cam-a,m=request"), "%s", id);
        g_hash_table_add (seen, g_strdup_printf ("%s %s",
                GST_MESSAGE_SRC_NAME (m), id));
      }
      gst_message_unref (m);
    }
    fail_unless_equals_int (g_hash_table_size (seen), 4);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (ha), 0);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hb), 0);
  bus_done (bus);
  gst_harness_teardown (ha);
  gst_harness_teardown (hb);
}

GST_END_TEST;

GST_START_TEST (test_wrong_passphrase_refused)
{
  gint port = free_port ();
  GstBus *bus = gst_bus_new ();
  GstHarness *ha = route (port, "cam-a", PASS_A, 16, bus);
  GstHarness *hb = route (port, "cam-b", PASS_B, 32, bus);
  GstStructure *s;
  SRTSOCKET a;

  /* route b's passphrase on route a */
  fail_unless (caller (port, "cam-a", PASS_B, 16) == SRT_INVALID_SOCK,
      "a caller with a wrong passphrase was accepted");
  s = wait_refused (bus, NULL, 10);
  fail_unless (s != NULL, "no refusal for the wrong passphrase");
  fail_unless_equals_string (gst_structure_get_string (s, "stream-id"),
      "cam-a");
  fail_unless (strstr (gst_structure_get_string (s, "reason"), "passphrase")
      != NULL);
  assert_no_secret (s);
  gst_structure_free (s);
  /* from now on, nothing more for either route */
  bus_done (bus);
  bus = gst_bus_new ();
  gst_element_set_bus (hb->element, bus);
  gst_element_set_bus (ha->element, bus);

  /* the right one is taken afterwards */
  a = caller (port, "cam-a", PASS_A, 16);
  fail_unless (a != SRT_INVALID_SOCK);
  send_messages (a, 0x11, 10);
  expect_messages (ha, 0x11, 10);
  srt_close (a);
  fail_unless (wait_refused (bus, NULL, 1) == NULL);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hb), 0);
  bus_done (bus);
  gst_harness_teardown (ha);
  gst_harness_teardown (hb);
}

GST_END_TEST;

GST_START_TEST (test_caller_gone_and_back)
{
  gint port = free_port ();
  GstBus *bus = gst_bus_new ();
  GstHarness *h = route (port, "cam-a", NULL, 0, bus);
  SRTSOCKET a = caller (port, "cam-a", NULL, 0);

  fail_unless (a != SRT_INVALID_SOCK);
  send_messages (a, 0x21, 10);
  expect_messages (h, 0x21, 10);
  srt_close (a);
  /* back at once: the route takes it */
  a = caller (port, "cam-a", NULL, 0);
  fail_unless (a != SRT_INVALID_SOCK, "the caller that came back was refused");
  send_messages (a, 0x22, 10);
  expect_messages (h, 0x22, 10);
  srt_close (a);
  bus_done (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_same_id_twice_refused)
{
  gint port = free_port ();
  GstBus *bus = gst_bus_new ();
  GstHarness *h = route (port, "cam-a", PASS_A, 16, bus);
  GstElement *dup = gst_element_factory_make ("srtroutesrc", NULL);
  GstMessage *m;
  GError *err = NULL;

  g_object_set (dup, "address", "127.0.0.1", "port", port, "streamid",
      "cam-a", NULL);
  gst_element_set_bus (dup, bus);
  fail_unless_equals_int (gst_element_set_state (dup, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  gst_message_parse_error (m, &err, NULL);
  fail_unless (strstr (err->message, "cam-a") != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (m);
  gst_element_set_state (dup, GST_STATE_NULL);
  gst_object_unref (dup);
  /* the first route is not disturbed */
  {
    SRTSOCKET a = caller (port, "cam-a", PASS_A, 16);
    fail_unless (a != SRT_INVALID_SOCK);
    send_messages (a, 0x31, 5);
    expect_messages (h, 0x31, 5);
    srt_close (a);
  }
  bus_done (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static void
libsrt_setup (void)
{
  srt_startup ();
}

static void
libsrt_teardown (void)
{
  srt_cleanup ();
}

static Suite *
srtroutesrc_suite (void)
{
  Suite *s = suite_create ("srtroutesrc");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, libsrt_setup, libsrt_teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_two_routes_one_port);
  tcase_add_test (tc, test_unknown_id_refused);
  tcase_add_test (tc, test_wrong_passphrase_refused);
  tcase_add_test (tc, test_caller_gone_and_back);
  tcase_add_test (tc, test_same_id_twice_refused);
  return s;
}

int
main (int argc, char **argv)
{
  int ret;

  gst_check_init (&argc, &argv);
  /* libsrt is started in each test (libsrt_setup): its threads do not
   * survive check's fork */
  ret = gst_check_run_suite (srtroutesrc_suite (), "srtroutesrc",
      __FILE__);
  return ret;
}
