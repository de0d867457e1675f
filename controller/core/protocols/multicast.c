/* mroute core: the multicast fields of a udp, rtp or rtp-fec endpoint
 * (protocol-rules.h; the protocols with `multicast` in their table).
 *
 * A source whose ingest_address is a multicast group joins it: from any
 * sender, or from source_address only (source-specific multicast), on
 * `interface` or on the one the route to the group takes.  An output whose
 * destination is a multicast group sends with `ttl` (hops) out of
 * `interface`; `dscp` marks any output's datagrams.  Their elements:
 * udpbatchsrc and udpfanoutsink (pipeline/transports/). */

#include "core/protocol-rules.h"

#include <gio/gio.h>
#include <string.h>

/* the kernel's IFNAMSIZ, with its terminating zero */
#define MR_IFNAMSIZ 16

/* @str's address, NULL if it is none */
static GInetAddress *
address_of (const gchar * str)
{
  return str ? g_inet_address_new_from_string (str) : NULL;
}

static gboolean
is_multicast (const gchar * str)
{
  g_autoptr (GInetAddress) a = address_of (str);

  return a && g_inet_address_get_is_multicast (a);
}

/* What Linux takes as an interface name (dev_valid_name ()) */
static gboolean
valid_iface (const gchar * name)
{
  if (!name || !*name || strlen (name) > MR_IFNAMSIZ - 1
      || g_str_equal (name, ".") || g_str_equal (name, ".."))
    return FALSE;
  for (const gchar * p = name; *p; p++)
    if (*p == '/' || *p == ':' || g_ascii_isspace (*p) || !g_ascii_isprint (*p))
      return FALSE;
  return TRUE;
}

static gboolean
validate_source (const MrEndpoint * ep, const gchar * path, GError ** error)
{
  g_autoptr (GInetAddress) group = address_of (ep->ingest_address);
  gboolean multicast = group && g_inet_address_get_is_multicast (group);

  if (ep->ttl >= 0)
    return mr_spec_invalid (error, path, "ttl", "is for outputs");
  if (ep->dscp >= 0)
    return mr_spec_invalid (error, path, "dscp", "is for outputs");
  if (ep->source_address) {
    g_autoptr (GInetAddress) sender = address_of (ep->source_address);

    if (!multicast)
      return mr_spec_invalid (error, path, "source_address", "needs a "
          "multicast ingest_address (source-specific multicast)");
    if (!sender)
      return mr_spec_invalid (error, path, "source_address",
          "must be an IP address");
    if (g_inet_address_get_is_multicast (sender)
        || g_inet_address_get_is_any (sender))
      return mr_spec_invalid (error, path, "source_address", "must be the "
          "sender's unicast address");
    if (g_inet_address_get_family (sender) !=
        g_inet_address_get_family (group))
      return mr_spec_invalid (error, path, "source_address", "must be an "
          "%s address, as ingest_address is", g_inet_address_get_family
          (group) == G_SOCKET_FAMILY_IPV6 ? "IPv6" : "IPv4");
  }
  if (ep->iface && !multicast)
    return mr_spec_invalid (error, path, "interface", "is only used with a "
        "multicast ingest_address (the interface to join the group on)");
  return TRUE;
}

static gboolean
validate_output (const MrEndpoint * ep, const gchar * path, GError ** error)
{
  gboolean multicast = is_multicast (ep->destination);

  if (ep->source_address)
    return mr_spec_invalid (error, path, "source_address", "is for sources");
  if (ep->ttl >= 0 && !multicast)
    return mr_spec_invalid (error, path, "ttl", "is only used with a "
        "multicast destination");
  if (ep->iface && !multicast)
    return mr_spec_invalid (error, path, "interface", "is only used with a "
        "multicast destination (the interface it leaves by)");
  return TRUE;
}

gboolean
mr_multicast_validate (const MrEndpoint * ep, const MrProtocolRules * rules,
    const gchar * path, GError ** error)
{
  const gchar *field = ep->source_address ? "source_address" :
      ep->iface ? "interface" : ep->ttl >= 0 ? "ttl" : ep->dscp >= 0 ?
      "dscp" : NULL;

  if (!field)
    return TRUE;
  if (!rules->multicast)
    return mr_spec_invalid (error, path, field, "is only supported by udp, "
        "rtp and rtp-fec");
  if (ep->iface && !valid_iface (ep->iface))
    return mr_spec_invalid (error, path, "interface", "must be a network "
        "interface name: 1 to %d characters, without '/', ':' or spaces",
        MR_IFNAMSIZ - 1);
  return ep->role == MR_ENDPOINT_SOURCE ? validate_source (ep, path, error) :
      validate_output (ep, path, error);
}

gboolean
mr_multicast_can_share_port (const MrEndpoint * a, const MrEndpoint * b)
{
  g_autoptr (GInetAddress) ga = address_of (a->ingest_address);
  g_autoptr (GInetAddress) gb = address_of (b->ingest_address);

  if (!ga || !gb || !g_inet_address_get_is_multicast (ga)
      || !g_inet_address_get_is_multicast (gb))
    return FALSE;
  /* two groups; or one group on two named interfaces (the red and blue
   * networks of ST 2022-7), each socket taking what arrives on its own */
  if (!g_inet_address_equal (ga, gb))
    return TRUE;
  return a->iface && b->iface && !g_str_equal (a->iface, b->iface);
}
