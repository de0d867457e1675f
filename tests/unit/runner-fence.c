/* mroute: the runner's 1+1 calls on a real running flow (flow-runner.h):
 * mr_runner_set_leg () sends an output with legs to the slot's leg, and
 * mr_runner_set_fence () stops every datagram of the flow's outputs once
 * its deadline has passed, and lets them through again when moved
 * forward; and mr_runner_set_read_interval () reaches the source's UDP
 * receiver.  A udp flow on loopback: the test sends MPEG-TS datagrams to
 * the source's port and reads its two legs' sockets, every port picked
 * free, every wait bounded. */

#include <gio/gio.h>
#include <gst/gst.h>
#include <string.h>

#include "core/core.h"
#include "flows/flow-runner.h"

#define DGRAM (7 * 188)

static GSocket *
bound_socket (guint16 * port)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (s, any, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (s, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_set_blocking (s, FALSE);
  return s;
}

/* A port nobody holds now (the source binds it next) */
static guint16
free_port (void)
{
  guint16 port;
  g_autoptr (GSocket) s = bound_socket (&port);

  g_socket_close (s, NULL);
  return port;
}

/* @n datagrams of null TS packets to @port */
static void
send_ts (GSocket * out, guint16 port, guint n)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, port);
  guint8 data[DGRAM];

  for (guint p = 0; p < 7; p++) {
    guint8 *pkt = data + p * 188;

    memset (pkt, 0xff, 188);
    pkt[0] = 0x47;
    pkt[1] = 0x1f;
    pkt[2] = 0xff;
    pkt[3] = 0x10;
  }
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_socket_send_to (out, to, (gchar *) data, DGRAM, NULL,
            NULL), ==, DGRAM);
}

/* Datagrams read from @in within @ms, the main context running meanwhile
 * (the runner's bus watch) */
static guint
receive_for (GSocket * in, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  guint n = 0;
  gchar buf[2048];

  while (g_get_monotonic_time () < end) {
    while (g_socket_receive (in, buf, sizeof (buf), NULL, NULL) > 0)
      n++;
    g_main_context_iteration (NULL, FALSE);
    g_usleep (2000);
  }
  return n;
}

/* The monotonic time the first datagram was read from @in, within @ms;
 * 0: none came */
static gint64
first_arrival (GSocket * in, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  gchar buf[2048];

  while (g_get_monotonic_time () < end) {
    if (g_socket_receive (in, buf, sizeof (buf), NULL, NULL) > 0)
      return g_get_monotonic_time ();
    g_main_context_iteration (NULL, FALSE);
    g_usleep (1000);
  }
  return 0;
}

static void
on_event (MrRunner * runner, const gchar * type, const gchar * severity,
    const gchar * message, gpointer user_data)
{
  g_test_message ("event %s (%s): %s", type, severity, message);
}

static void
on_state (MrRunner * runner, MrFlowState state, gpointer user_data)
{
}

static const MrRunnerCallbacks callbacks = { on_event, on_state };

static void
test_leg_and_fence (void)
{
  guint16 ingest = free_port (), leg0, leg1, me;
  g_autoptr (GSocket) rx0 = bound_socket (&leg0);
  g_autoptr (GSocket) rx1 = bound_socket (&leg1);
  g_autoptr (GSocket) tx = bound_socket (&me);
  g_autofree gchar *text = g_strdup_printf ("{\"name\": \"f\", "
      "\"redundancy\": 2, \"sources\": [{\"name\": \"in\", \"protocol\": "
      "\"udp\", \"ingest_port\": %u, \"ingest_address\": \"127.0.0.1\"}], "
      "\"outputs\": [{\"name\": \"o\", \"protocol\": \"udp\", \"legs\": "
      "[{\"address\": \"127.0.0.1\", \"port\": %u}, {\"address\": "
      "\"127.0.0.1\", \"port\": %u}]}]}", ingest, leg0, leg1);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (MrFlowSpec) spec = NULL;
  g_autoptr (GError) error = NULL;
  MrRunner *runner;
  guint got;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  spec = mr_flow_spec_from_json (json_parser_get_root (parser),
      MR_SPEC_PARSE_REQUEST, NULL, &error);
  g_assert_no_error (error);
  spec->id = g_strdup ("flow_00000000f001");

  runner = mr_runner_new (spec, 1000, &callbacks, NULL);
  mr_runner_set_leg (runner, 1);
  g_assert_true (mr_runner_start (runner, FALSE, &error));
  g_assert_no_error (error);

  /* no fence: slot 1 sends to legs[1], nothing to legs[0] */
  send_ts (tx, ingest, 20);
  got = receive_for (rx1, 500);
  g_assert_cmpuint (got, ==, 20);
  g_assert_cmpuint (receive_for (rx0, 50), ==, 0);

  /* the deadline passed: nothing goes out */
  mr_runner_set_fence (runner, g_get_monotonic_time () - 1);
  send_ts (tx, ingest, 20);
  g_assert_cmpuint (receive_for (rx1, 500), ==, 0);
  g_assert_cmpuint (mr_runner_fence_dropped (runner), >=, 20);

  /* renewed: it flows again */
  mr_runner_set_fence (runner, g_get_monotonic_time () + 10 * G_USEC_PER_SEC);
  send_ts (tx, ingest, 20);
  g_assert_cmpuint (receive_for (rx1, 500), ==, 20);

  /* a deadline reached while the flow runs */
  mr_runner_set_fence (runner, g_get_monotonic_time () + 300 * 1000);
  g_usleep (400 * 1000);
  send_ts (tx, ingest, 20);
  g_assert_cmpuint (receive_for (rx1, 500), ==, 0);

  /* none: a standalone controller's */
  mr_runner_set_fence (runner, 0);
  send_ts (tx, ingest, 20);
  g_assert_cmpuint (receive_for (rx1, 500), ==, 20);
  g_assert_cmpuint (receive_for (rx0, 50), ==, 0);

  mr_runner_stop (runner);
  mr_runner_free (runner);
}

/* @n RTP packets (MP2T, payload type 33) of 7 null TS packets to @port,
 * sequence numbers from @seq */
static void
send_rtp (GSocket * out, guint16 port, guint16 seq, guint n)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, port);
  guint8 data[12 + DGRAM];

  memset (data + 12, 0xff, DGRAM);
  for (guint p = 0; p < 7; p++) {
    guint8 *pkt = data + 12 + p * 188;

    pkt[0] = 0x47;
    pkt[1] = 0x1f;
    pkt[2] = 0xff;
    pkt[3] = 0x10;
  }
  for (guint i = 0; i < n; i++, seq++) {
    guint32 ts = seq * 3600;

    memset (data, 0, 12);
    data[0] = 0x80;
    data[1] = 33;
    data[2] = seq >> 8;
    data[3] = seq & 0xff;
    data[4] = ts >> 24;
    data[5] = (ts >> 16) & 0xff;
    data[6] = (ts >> 8) & 0xff;
    data[7] = ts & 0xff;
    data[11] = 1;               /* SSRC 1 */
    g_assert_cmpint (g_socket_send_to (out, to, (gchar *) data,
            sizeof (data), NULL, NULL), ==, sizeof (data));
  }
}

/* A flow of one @protocol source (udp or rtp) and one udp output, run
 * with a read interval of 1 s: one datagram is sent, and once it came out
 * a second one; returns how long the second took to come out */
static gint64
second_datagram_delay (const gchar * protocol)
{
  gboolean rtp = g_str_equal (protocol, "rtp");
  guint16 ingest = free_port (), out, me;
  g_autoptr (GSocket) rx = bound_socket (&out);
  g_autoptr (GSocket) tx = bound_socket (&me);
  g_autofree gchar *text = g_strdup_printf ("{\"name\": \"f\", "
      "\"sources\": [{\"name\": \"in\", \"protocol\": \"%s\", "
      "\"ingest_port\": %u, \"ingest_address\": \"127.0.0.1\"}], "
      "\"outputs\": [{\"name\": \"o\", \"protocol\": \"udp\", "
      "\"destination\": \"127.0.0.1\", \"port\": %u}]}", protocol,
      ingest, out);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (MrFlowSpec) spec = NULL;
  g_autoptr (GError) error = NULL;
  MrRunner *runner;
  gint64 sent, second;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  spec = mr_flow_spec_from_json (json_parser_get_root (parser),
      MR_SPEC_PARSE_REQUEST, NULL, &error);
  g_assert_no_error (error);
  spec->id = g_strdup ("flow_00000000f002");

  runner = mr_runner_new (spec, 1000, &callbacks, NULL);
  mr_runner_set_read_interval (runner, 1000);
  g_assert_true (mr_runner_start (runner, FALSE, &error));
  g_assert_no_error (error);

  /* the first read takes what is there at once */
  if (rtp)
    send_rtp (tx, ingest, 100, 1);
  else
    send_ts (tx, ingest, 1);
  g_assert_cmpint (first_arrival (rx, 5000), >, 0);
  sent = g_get_monotonic_time ();
  if (rtp)
    send_rtp (tx, ingest, 101, 1);
  else
    send_ts (tx, ingest, 1);
  second = first_arrival (rx, 5000);
  g_assert_cmpint (second, >, 0);

  mr_runner_stop (runner);
  mr_runner_free (runner);
  return second - sent;
}

/* After a read of one datagram a udp source's next read waits for the
 * runner's read interval (1 s): the second datagram comes out no sooner
 * than half a second after it was sent (a lower bound: a busy machine only
 * makes it later; without the interval it comes out at once) */
static void
test_read_interval (void)
{
  g_assert_cmpint (second_datagram_delay ("udp"), >=, 500 * 1000);
}

/* An rtp source is read at once whatever the read interval (its jitter_ms
 * comes from arrival times): the second packet comes out well within the
 * interval */
static void
test_read_interval_not_rtp (void)
{
  g_assert_cmpint (second_datagram_delay ("rtp"), <, 900 * 1000);
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/runner-fence/leg-and-fence", test_leg_and_fence);
  g_test_add_func ("/runner-fence/read-interval", test_read_interval);
  g_test_add_func ("/runner-fence/read-interval-not-rtp",
      test_read_interval_not_rtp);
  return g_test_run ();
}
