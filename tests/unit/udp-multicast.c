/* Unit tests of plugins/udp-multicast.c without sockets that join: which
 * addresses are groups, interface names, the udp:// URI both ways, and
 * the refusals of mr_mcast_join () before any system call. */

#include <glib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "udp-multicast.h"

static struct sockaddr_storage
address (const gchar * str)
{
  struct sockaddr_storage ss;

  memset (&ss, 0, sizeof (ss));
  if (strchr (str, ':')) {
    ss.ss_family = AF_INET6;
    g_assert_cmpint (inet_pton (AF_INET6, str,
            &((struct sockaddr_in6 *) &ss)->sin6_addr), ==, 1);
  } else {
    ss.ss_family = AF_INET;
    g_assert_cmpint (inet_pton (AF_INET, str,
            &((struct sockaddr_in *) &ss)->sin_addr), ==, 1);
  }
  return ss;
}

static void
test_is_multicast (void)
{
  const gchar *groups[] = { "224.0.0.1", "232.1.1.1", "239.255.255.255",
    "ff02::1", "ff3e::1234"
  };
  const gchar *others[] = { "223.255.255.255", "240.0.0.1", "10.0.0.1",
    "0.0.0.0", "::", "::1", "fd00::1"
  };

  for (guint i = 0; i < G_N_ELEMENTS (groups); i++) {
    struct sockaddr_storage ss = address (groups[i]);
    g_assert_true (mr_mcast_is_multicast (&ss));
  }
  for (guint i = 0; i < G_N_ELEMENTS (others); i++) {
    struct sockaddr_storage ss = address (others[i]);
    g_assert_false (mr_mcast_is_multicast (&ss));
  }
}

static void
test_iface_index (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (mr_mcast_iface_index (NULL, NULL), ==, 0);
  g_assert_cmpint (mr_mcast_iface_index ("", NULL), ==, 0);
  g_assert_cmpint (mr_mcast_iface_index ("lo", NULL), >, 0);
  g_assert_cmpint (mr_mcast_iface_index ("nosuchif0", &error), ==, -1);
  g_assert_nonnull (strstr (error->message, "nosuchif0"));
  g_clear_error (&error);
  g_assert_cmpint (mr_mcast_iface_index ("a-name-far-too-long", &error), ==,
      -1);
}

static void
test_join_refusals (void)
{
  gint fd = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_storage unicast = address ("10.0.0.1");
  struct sockaddr_storage group = address ("232.1.1.1");
  struct sockaddr_storage group6_source = address ("fd00::1");
  struct sockaddr_storage group_source = address ("239.1.1.1");
  g_autoptr (GError) error = NULL;

  g_assert_false (mr_mcast_join (fd, &unicast, NULL, 0, &error));
  g_assert_nonnull (strstr (error->message, "not a multicast address"));
  g_clear_error (&error);
  g_assert_false (mr_mcast_join (fd, &group, &group6_source, 0, &error));
  g_assert_nonnull (strstr (error->message, "unicast address of the group's "
          "family"));
  g_clear_error (&error);
  g_assert_false (mr_mcast_join (fd, &group, &group_source, 0, &error));
  g_clear_error (&error);
  close (fd);
}

static void
check_uri (const gchar * uri, const gchar * host, gint port,
    const gchar * source, const gchar * iface)
{
  g_autofree gchar *h = NULL, *s = NULL, *i = NULL, *back = NULL;
  g_autoptr (GError) error = NULL;
  gint p;

  g_assert_true (mr_udp_uri_parse (uri, &h, &p, &s, &i, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (h, ==, host);
  g_assert_cmpint (p, ==, port);
  g_assert_cmpstr (s, ==, source);
  g_assert_cmpstr (i, ==, iface);
  back = mr_udp_uri_build (h, p, s, i);
  g_assert_cmpstr (back, ==, uri);
}

static void
test_uri (void)
{
  const gchar *bad[] = { "rtp://239.1.1.1:5000", "udp://239.1.1.1",
    "udp://:5000", "udp://239.1.1.1:5000?ttl=3", "not a uri",
    "udp://239.1.1.1:99999"
  };

  check_uri ("udp://239.1.1.1:5000", "239.1.1.1", 5000, NULL, NULL);
  check_uri ("udp://232.1.1.1:5000?multicast-source=10.0.0.1",
      "232.1.1.1", 5000, "10.0.0.1", NULL);
  check_uri ("udp://232.1.1.1:5000?multicast-source=10.0.0.1"
      "&multicast-iface=veth1", "232.1.1.1", 5000, "10.0.0.1", "veth1");
  check_uri ("udp://[ff3e::1]:6000?multicast-source=fd00::2"
      "&multicast-iface=eth0", "ff3e::1", 6000, "fd00::2", "eth0");
  check_uri ("udp://0.0.0.0:0", "0.0.0.0", 0, NULL, NULL);

  for (guint k = 0; k < G_N_ELEMENTS (bad); k++) {
    g_autofree gchar *h = NULL, *s = NULL, *i = NULL;
    g_autoptr (GError) error = NULL;
    gint p;

    g_assert_false (mr_udp_uri_parse (bad[k], &h, &p, &s, &i, &error));
    g_assert_nonnull (error);
    g_assert_null (h);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/udp-multicast/is-multicast", test_is_multicast);
  g_test_add_func ("/udp-multicast/iface-index", test_iface_index);
  g_test_add_func ("/udp-multicast/join-refusals", test_join_refusals);
  g_test_add_func ("/udp-multicast/uri", test_uri);
  return g_test_run ();
}
