/* Element tests for udpbatchsrc and udpfanoutsink, over real sockets on
 * 127.0.0.1. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

static GSocket *
bound_socket (guint16 * port)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  GSocketAddress *local;

  fail_unless (g_socket_bind (s, addr, FALSE, NULL));
  local = g_socket_get_local_address (s, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_socket_set_option (s, SOL_SOCKET, SO_RCVBUF, 4 << 20, NULL);
  g_socket_set_timeout (s, 2);
  g_object_unref (local);
  g_object_unref (addr);
  g_object_unref (lo);
  return s;
}

static void
send_to (GSocket * s, guint16 port, const guint8 * data, gsize len)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, port);

  fail_unless_equals_int (g_socket_send_to (s, addr, (const gchar *) data,
          len, NULL, NULL), len);
  g_object_unref (addr);
  g_object_unref (lo);
}

/* Reads datagrams until @n arrived or the socket times out. */
static GPtrArray *
receive (GSocket * s, guint n)
{
  GPtrArray *got = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  guint8 buf[2048];

  while (got->len < n) {
    gssize r = g_socket_receive (s, (gchar *) buf, sizeof (buf), NULL, NULL);
    if (r < 0)
      break;
    g_ptr_array_add (got, g_bytes_new (buf, r));
  }
  return got;
}

static GstBuffer *
make_datagram (guint index, gsize size)
{
  guint8 *data;

  if (size == 0)
    return gst_buffer_new ();
  data = g_malloc (size);
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (index * 7 + i);
  return gst_buffer_new_wrapped (data, size);
}

static void
assert_datagram (GBytes * got, guint index, gsize size)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (got, &len);

  fail_unless_equals_int (len, size);
  for (gsize i = 0; i < size; i++)
    fail_unless_equals_int (d[i], (guint8) (index * 7 + i));
}

static guint64
client_stat (GstElement * sink, guint16 port, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", (gint) port, &s);
  fail_unless (s != NULL);
  gst_structure_get_uint64 (s, field, &v);
  gst_structure_free (s);
  return v;
}

/* ---------------------------------------------------------------------- */
/* udpfanoutsink */

static GstBufferList *
make_list (guint n, gsize size, gsize last_size)
{
  GstBufferList *list = gst_buffer_list_new ();

  for (guint i = 0; i < n; i++)
    gst_buffer_list_add (list, make_datagram (i,
            i + 1 == n ? last_size : size));
  return list;
}

static void
check_list_to_two_clients (gboolean gso)
{
  GstHarness *h = gst_harness_new ("udpfanoutsink");
  guint16 p1, p2;
  GSocket *r1 = bound_socket (&p1), *r2 = bound_socket (&p2);
  gchar *clients = g_strdup_printf ("127.0.0.1:%u,127.0.0.1:%u", p1, p2);
  GPtrArray *got;

  g_object_set (h->element, "clients", clients, "gso", gso, NULL);
  gst_harness_set_src_caps_str (h, "video/mpegts");
  fail_unless_equals_int (gst_pad_push_list (h->srcpad, make_list (60, 1316,
              700)), GST_FLOW_OK);

  for (guint c = 0; c < 2; c++) {
    got = receive (c == 0 ? r1 : r2, 60);
    fail_unless_equals_int (got->len, 60);
    for (guint i = 0; i < 60; i++)
      assert_datagram (got->pdata[i], i, i == 59 ? 700 : 1316);
    g_ptr_array_unref (got);
  }
  fail_unless_equals_uint64 (client_stat (h->element, p1, "packets-sent"), 60);
  fail_unless_equals_uint64 (client_stat (h->element, p2, "bytes-sent"),
      59 * 1316 + 700);

  g_free (clients);
  g_object_unref (r1);
  g_object_unref (r2);
  gst_harness_teardown (h);
}

GST_START_TEST (test_sink_list_gso)
{
  check_list_to_two_clients (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_sink_list_no_gso)
{
  check_list_to_two_clients (FALSE);
}

GST_END_TEST;

/* Mixed sizes in one list: order and bytes are kept */
GST_START_TEST (test_sink_mixed_sizes)
{
  GstHarness *h = gst_harness_new ("udpfanoutsink");
  guint16 p;
  GSocket *r = bound_socket (&p);
  gchar *clients = g_strdup_printf ("127.0.0.1:%u", p);
  gsize sizes[] = { 188, 1316, 1316, 1316, 376, 1316, 0, 1316, 1500, 1500 };
  GstBufferList *list = gst_buffer_list_new ();
  GPtrArray *got;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    gst_buffer_list_add (list, make_datagram (i, sizes[i]));
  g_object_set (h->element, "clients", clients, NULL);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  fail_unless_equals_int (gst_pad_push_list (h->srcpad, list), GST_FLOW_OK);

  got = receive (r, G_N_ELEMENTS (sizes));
  fail_unless_equals_int (got->len, G_N_ELEMENTS (sizes));
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    assert_datagram (got->pdata[i], i, sizes[i]);
  g_ptr_array_unref (got);

  g_free (clients);
  g_object_unref (r);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_sink_add_remove_duplicates)
{
  GstHarness *h = gst_harness_new ("udpfanoutsink");
  guint16 p1, p2;
  GSocket *r1 = bound_socket (&p1), *r2 = bound_socket (&p2);
  GPtrArray *got;
  gchar *clients;

  gst_harness_set_src_caps_str (h, "application/octet-stream");
  g_signal_emit_by_name (h->element, "add", "127.0.0.1", (gint) p1);
  g_signal_emit_by_name (h->element, "add", "127.0.0.1", (gint) p1);
  g_signal_emit_by_name (h->element, "add", "127.0.0.1", (gint) p2);
  g_object_get (h->element, "clients", &clients, NULL);
  fail_unless_equals_int (strlen (clients) > 0, TRUE);
  g_free (clients);

  fail_unless_equals_int (gst_harness_push (h, make_datagram (1, 100)),
      GST_FLOW_OK);
  got = receive (r1, 2);
  fail_unless_equals_int (got->len, 2);   /* added twice: sent twice */
  g_ptr_array_unref (got);
  got = receive (r2, 1);
  fail_unless_equals_int (got->len, 1);
  g_ptr_array_unref (got);

  /* removing p2 stops it, p1 stays (once) */
  g_signal_emit_by_name (h->element, "remove", "127.0.0.1", (gint) p2);
  g_signal_emit_by_name (h->element, "remove", "127.0.0.1", (gint) p1);
  fail_unless_equals_int (gst_harness_push (h, make_datagram (2, 100)),
      GST_FLOW_OK);
  got = receive (r1, 2);
  fail_unless_equals_int (got->len, 1);
  g_ptr_array_unref (got);
  g_socket_set_timeout (r2, 1);
  got = receive (r2, 1);
  fail_unless_equals_int (got->len, 0);
  g_ptr_array_unref (got);

  /* the stats of an unknown client are empty, not NULL */
  fail_unless_equals_uint64 (client_stat (h->element, 1, "packets-sent"), 0);

  g_object_unref (r1);
  g_object_unref (r2);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A destination the kernel refuses is counted and skipped; the others get
 * everything. */
GST_START_TEST (test_sink_failing_client)
{
  GstHarness *h = gst_harness_new ("udpfanoutsink");
  guint16 p;
  GSocket *r = bound_socket (&p);
  gchar *clients;
  GPtrArray *got;
  GstStructure *s = NULL;
  guint64 errors = 0;

  /* broadcast without SO_BROADCAST: sendmsg fails with EACCES */
  clients = g_strdup_printf ("255.255.255.255:9,127.0.0.1:%u", p);
  g_object_set (h->element, "clients", clients, NULL);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  fail_unless_equals_int (gst_pad_push_list (h->srcpad, make_list (20, 1316,
              1316)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, make_datagram (20, 1316)),
      GST_FLOW_OK);

  got = receive (r, 21);
  fail_unless_equals_int (got->len, 21);
  g_ptr_array_unref (got);

  g_signal_emit_by_name (h->element, "get-stats", "255.255.255.255", 9, &s);
  fail_unless (gst_structure_get_uint64 (s, "send-errors", &errors));
  fail_unless (errors >= 2);
  gst_structure_free (s);

  g_free (clients);
  g_object_unref (r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */
/* udpbatchsrc */

GST_START_TEST (test_src_batches)
{
  GstHarness *h = gst_harness_new_with_padnames ("udpbatchsrc", NULL, "src");
  GSocket *tx;
  guint16 dummy;
  gint port = 0;
  GstStructure *stats = NULL;
  guint64 datagrams = 0, reads = 0;
  GstCaps *caps = gst_caps_from_string ("video/mpegts");

  g_object_set (h->element, "port", 0, "address", "127.0.0.1", "caps", caps,
      NULL);
  gst_caps_unref (caps);
  /* bound in PAUSED; a live source produces nothing before PLAYING */
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  g_object_get (h->element, "bound-port", &port, NULL);
  fail_unless (port > 0);

  tx = bound_socket (&dummy);
  for (guint i = 0; i < 40; i++) {
    GstBuffer *b = make_datagram (i, i == 39 ? 188 : 1316);
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_READ);
    send_to (tx, port, map.data, map.size);
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }

  gst_harness_play (h);
  for (guint i = 0; i < 40; i++) {
    GstBuffer *b = gst_harness_pull (h);
    GstMapInfo map;
    GBytes *bytes;

    fail_unless (b != NULL);
    gst_buffer_map (b, &map, GST_MAP_READ);
    bytes = g_bytes_new (map.data, map.size);
    assert_datagram (bytes, i, i == 39 ? 188 : 1316);
    fail_unless (GST_BUFFER_PTS_IS_VALID (b));
    g_bytes_unref (bytes);
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }

  g_object_get (h->element, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "datagrams", &datagrams);
  gst_structure_get_uint64 (stats, "reads", &reads);
  gst_structure_free (stats);
  fail_unless_equals_uint64 (datagrams, 40);
  /* the 40 waiting datagrams came in one read (batch-size 64) */
  fail_unless_equals_uint64 (reads, 1);

  g_object_unref (tx);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_src_truncates_long_datagrams)
{
  GstHarness *h = gst_harness_new_with_padnames ("udpbatchsrc", NULL, "src");
  GSocket *tx;
  guint16 dummy;
  gint port = 0;
  GstBuffer *b;
  GstStructure *stats = NULL;
  guint64 truncated = 0;
  guint8 big[1400];

  memset (big, 0x47, sizeof (big));
  g_object_set (h->element, "port", 0, "address", "127.0.0.1", "mtu", 1000,
      NULL);
  gst_harness_play (h);
  g_object_get (h->element, "bound-port", &port, NULL);
  tx = bound_socket (&dummy);
  send_to (tx, port, big, sizeof (big));

  b = gst_harness_pull (h);
  fail_unless_equals_int (gst_buffer_get_size (b), 1000);
  gst_buffer_unref (b);
  g_object_get (h->element, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "truncated", &truncated);
  gst_structure_free (stats);
  fail_unless_equals_uint64 (truncated, 1);

  g_object_unref (tx);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The source receives into buffers of a pool and reuses them once
 * downstream releases them; a buffer downstream keeps keeps its bytes.
 * Rounds of 6 datagrams (batch-size 4: two reads at least): the first 10
 * release theirs, the next 5 hold theirs, past the pool's maximum (2 x
 * batch-size + 1), the last 5 release theirs again; sizes stay exact (an
 * empty datagram, a truncated one) */
#define POOL_MTU 1316
static const gsize pool_sizes[] = { 1316, 188, 0, 1400, 1, 700 };

static GQuark
released_quark (void)
{
  return g_quark_from_static_string ("udpfanout-test-released");
}

static void
send_pattern (GSocket * tx, guint16 port, guint index, gsize size)
{
  guint8 data[1400];

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (index * 7 + i);
  send_to (tx, port, data, size);
}

static void
assert_pattern (GstBuffer * b, guint index)
{
  GstMapInfo map;
  gsize size = MIN (pool_sizes[index % G_N_ELEMENTS (pool_sizes)], POOL_MTU);

  fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, size);
  for (gsize i = 0; i < size; i++)
    fail_unless_equals_int (map.data[i], (guint8) (index * 7 + i));
  gst_buffer_unmap (b, &map);
}

GST_START_TEST (test_src_pool_buffers_keep_their_bytes)
{
  GstHarness *h = gst_harness_new_with_padnames ("udpbatchsrc", NULL, "src");
  GPtrArray *held = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GSocket *tx;
  guint16 dummy;
  gint port = 0;
  guint index = 0, pooled = 0, reused = 0;
  GstStructure *stats = NULL;
  guint64 truncated = 0, datagrams = 0;

  g_object_set (h->element, "port", 0, "address", "127.0.0.1", "mtu",
      POOL_MTU, "batch-size", 4, NULL);
  gst_harness_play (h);
  g_object_get (h->element, "bound-port", &port, NULL);
  tx = bound_socket (&dummy);

  for (guint round = 0; round < 20; round++) {
    guint first = index;

    for (guint k = 0; k < G_N_ELEMENTS (pool_sizes); k++, index++)
      send_pattern (tx, port, index, pool_sizes[k]);
    for (guint i = first; i < index; i++) {
      GstBuffer *b = gst_harness_pull (h);

      fail_unless (b != NULL);
      fail_unless (GST_BUFFER_PTS_IS_VALID (b));
      assert_pattern (b, i);
      if (b->pool)
        pooled++;
      /* a mark survives only a buffer that the pool took back */
      if (gst_mini_object_get_qdata (GST_MINI_OBJECT (b), released_quark ()))
        reused++;
      if (round >= 10 && round < 15) {
        g_ptr_array_add (held, b);
      } else {
        gst_mini_object_set_qdata (GST_MINI_OBJECT (b), released_quark (),
            GINT_TO_POINTER (1), NULL);
        gst_buffer_unref (b);
      }
    }
  }
  /* 30 held, more than the pool has: the later rounds still came */
  fail_unless_equals_int (held->len, 30);
  for (guint i = 0; i < held->len; i++)
    assert_pattern (g_ptr_array_index (held, i), 60 + i);
  /* in every round, the slots refilled after its first read take buffers
   * the pool got back from the rounds before: one recycled buffer a round
   * at least, bar the pool's one spare the first time */
  fail_unless (pooled > 0);
  fail_unless (reused >= 8, "%u buffers recycled", reused);

  g_object_get (h->element, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "truncated", &truncated);
  gst_structure_get_uint64 (stats, "datagrams", &datagrams);
  gst_structure_free (stats);
  fail_unless_equals_uint64 (truncated, 20);
  fail_unless_equals_uint64 (datagrams, index);

  g_object_unref (tx);
  gst_harness_teardown (h);
  /* the held buffers outlive the element and its pool */
  for (guint i = 0; i < held->len; i++)
    assert_pattern (g_ptr_array_index (held, i), 60 + i);
  g_ptr_array_unref (held);
}

GST_END_TEST;

GST_START_TEST (test_src_port_in_use)
{
  guint16 port;
  GSocket *taken = bound_socket (&port);
  GstElement *src = gst_element_factory_make ("udpbatchsrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;

  gst_element_set_bus (src, bus);
  g_object_set (src, "port", (gint) port, "address", "127.0.0.1", NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_unref (msg);

  gst_element_set_state (src, GST_STATE_NULL);
  gst_element_set_bus (src, NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  g_object_unref (taken);
}

GST_END_TEST;

/* Pulls the next buffer and checks it is send_pattern()'s @index of @size */
static void
pull_pattern (GstHarness * h, guint index, gsize size)
{
  GstBuffer *b = gst_harness_pull (h);
  GstMapInfo map;

  fail_unless (b != NULL);
  fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, size);
  for (gsize i = 0; i < size; i++)
    fail_unless_equals_int (map.data[i], (guint8) (index * 7 + i));
  gst_buffer_unmap (b, &map);
  gst_buffer_unref (b);
}

/* Waits (5 s at most) for the source's wait on the clock and checks when
 * it ends */
static void
assert_waits_until (GstTestClock * tc, GstClockTime time)
{
  GstClockID id;

  fail_unless (gst_test_clock_timed_wait_for_multiple_pending_ids (tc, 1,
          5000, NULL), "the source does not wait for its read interval");
  gst_test_clock_wait_for_next_pending_id (tc, &id);
  fail_unless_equals_uint64 (gst_clock_id_get_time (id), time);
  gst_clock_id_unref (id);
}

static void
assert_stats (GstElement * src, guint64 datagrams, guint64 reads)
{
  GstStructure *stats = NULL;
  guint64 d = 0, r = 0;

  g_object_get (src, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "datagrams", &d);
  gst_structure_get_uint64 (stats, "reads", &r);
  gst_structure_free (stats);
  fail_unless_equals_uint64 (d, datagrams);
  fail_unless_equals_uint64 (r, reads);
}

/* read-interval: after a read that did not fill a batch the source waits
 * on its clock for the interval, so what arrives meanwhile leaves in one
 * read; a read that fills the batch is followed by the next at once;
 * going to NULL ends a wait that the clock would never end */
GST_START_TEST (test_src_read_interval)
{
  GstHarness *h = gst_harness_new_with_padnames ("udpbatchsrc", NULL, "src");
  GstTestClock *tc;
  GSocket *tx;
  guint16 dummy;
  gint port = 0;

  g_object_set (h->element, "port", 0, "address", "127.0.0.1",
      "batch-size", 3, "read-interval", 100 * GST_MSECOND, NULL);
  gst_harness_play (h);
  g_object_get (h->element, "bound-port", &port, NULL);
  tc = gst_harness_get_testclock (h);
  tx = bound_socket (&dummy);

  /* a read of 1 of 3 at clock time 0: the next read waits until 100 ms */
  send_pattern (tx, port, 0, 188);
  pull_pattern (h, 0, 188);
  assert_waits_until (tc, 100 * GST_MSECOND);
  send_pattern (tx, port, 1, 188);
  send_pattern (tx, port, 2, 100);
  /* nothing leaves before the clock gets there */
  g_usleep (50 * 1000);
  fail_unless (gst_harness_try_pull (h) == NULL);
  gst_test_clock_crank (tc);
  pull_pattern (h, 1, 188);
  pull_pattern (h, 2, 100);
  assert_stats (h->element, 3, 2);

  /* 2 of 3 at 100 ms, short again: the next waits until 200 ms; it reads
   * a whole batch, so the one after does not wait */
  assert_waits_until (tc, 200 * GST_MSECOND);
  for (guint i = 3; i < 6; i++)
    send_pattern (tx, port, i, 188);
  gst_test_clock_crank (tc);
  for (guint i = 3; i < 6; i++)
    pull_pattern (h, i, 188);
  send_pattern (tx, port, 6, 188);
  pull_pattern (h, 6, 188);
  assert_stats (h->element, 7, 4);

  /* that read was short: a wait until 300 ms, which stopping ends */
  assert_waits_until (tc, 300 * GST_MSECOND);
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);

  gst_object_unref (tc);
  g_object_unref (tx);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Flushing on the way to NULL unblocks a source that waits for data */
GST_START_TEST (test_src_stops_while_waiting)
{
  GstHarness *h = gst_harness_new_with_padnames ("udpbatchsrc", NULL, "src");

  g_object_set (h->element, "port", 0, "address", "127.0.0.1", NULL);
  gst_harness_play (h);
  g_usleep (50 * 1000);
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
udpfanout_suite (void)
{
  Suite *s = suite_create ("udpfanout");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sink_list_gso);
  tcase_add_test (tc, test_sink_list_no_gso);
  tcase_add_test (tc, test_sink_mixed_sizes);
  tcase_add_test (tc, test_sink_add_remove_duplicates);
  tcase_add_test (tc, test_sink_failing_client);
  tcase_add_test (tc, test_src_batches);
  tcase_add_test (tc, test_src_truncates_long_datagrams);
  tcase_add_test (tc, test_src_pool_buffers_keep_their_bytes);
  tcase_add_test (tc, test_src_port_in_use);
  tcase_add_test (tc, test_src_stops_while_waiting);
  tcase_add_test (tc, test_src_read_interval);
  return s;
}

GST_CHECK_MAIN (udpfanout);
