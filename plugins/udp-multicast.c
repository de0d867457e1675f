/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "udp-multicast.h"

#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

/* older libc headers */
#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

G_DEFINE_QUARK (mr-mcast-error-quark, mr_mcast_error);

gboolean
mr_mcast_is_multicast (const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET)
    return IN_MULTICAST (ntohl (((const struct sockaddr_in *) ss)->
            sin_addr.s_addr));
  if (ss->ss_family == AF_INET6)
    return IN6_IS_ADDR_MULTICAST (&((const struct sockaddr_in6 *) ss)->
        sin6_addr);
  return FALSE;
}

gint
mr_mcast_iface_index (const gchar * name, GError ** error)
{
  guint index;

  if (!name || !*name)
    return 0;
  if (strlen (name) >= IF_NAMESIZE || !(index = if_nametoindex (name))) {
    g_set_error (error, MR_MCAST_ERROR, 0, "no network interface '%s'",
        name);
    return -1;
  }
  return index;
}

static gboolean
set_int (gint fd, gint level, gint option, gint value, const gchar * what,
    GError ** error)
{
  if (setsockopt (fd, level, option, &value, sizeof (value)) == 0)
    return TRUE;
  g_set_error (error, MR_MCAST_ERROR, errno, "could not set the %s to %d: "
      "%s", what, value, g_strerror (errno));
  return FALSE;
}

static gchar *
address_string (const struct sockaddr_storage *ss)
{
  gchar buf[INET6_ADDRSTRLEN] = "?";

  if (ss->ss_family == AF_INET)
    inet_ntop (AF_INET, &((const struct sockaddr_in *) ss)->sin_addr, buf,
        sizeof (buf));
  else if (ss->ss_family == AF_INET6)
    inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) ss)->sin6_addr, buf,
        sizeof (buf));
  return g_strdup (buf);
}

/* what of @ss its family uses: the rest may never have been written */
static gsize
native_size (const struct sockaddr_storage *ss)
{
  return ss->ss_family == AF_INET6 ? sizeof (struct sockaddr_in6) :
      sizeof (struct sockaddr_in);
}

gboolean
mr_mcast_join (gint fd, const struct sockaddr_storage *group,
    const struct sockaddr_storage *source, gint ifindex, GError ** error)
{
  gint level = group->ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
  gint off = 0;
  gint r;

  if (!mr_mcast_is_multicast (group)) {
    g_set_error (error, MR_MCAST_ERROR, 0, "not a multicast address");
    return FALSE;
  }
  if (source && (source->ss_family != group->ss_family
          || mr_mcast_is_multicast (source))) {
    g_set_error (error, MR_MCAST_ERROR, 0, "the source of a source-specific "
        "group must be a unicast address of the group's family");
    return FALSE;
  }

  /* without this Linux hands a socket bound to the group's port every
   * group any socket of the host joined, and every source of ours */
  setsockopt (fd, level, group->ss_family == AF_INET6 ? IPV6_MULTICAST_ALL :
      IP_MULTICAST_ALL, &off, sizeof (off));

  if (source) {
    struct group_source_req req;

    memset (&req, 0, sizeof (req));
    req.gsr_interface = ifindex;
    memcpy (&req.gsr_group, group, native_size (group));
    memcpy (&req.gsr_source, source, native_size (source));
    r = setsockopt (fd, level, MCAST_JOIN_SOURCE_GROUP, &req, sizeof (req));
  } else {
    struct group_req req;

    memset (&req, 0, sizeof (req));
    req.gr_interface = ifindex;
    memcpy (&req.gr_group, group, native_size (group));
    r = setsockopt (fd, level, MCAST_JOIN_GROUP, &req, sizeof (req));
  }
  if (r < 0) {
    gint err = errno;
    g_autofree gchar *g = address_string (group);
    g_autofree gchar *s = source ? address_string (source) : NULL;
    gchar ifname[IF_NAMESIZE] = "";

    if (ifindex > 0)
      if_indextoname (ifindex, ifname);
    g_set_error (error, MR_MCAST_ERROR, err, "could not join %s%s%s%s%s: %s%s",
        g, s ? " from " : "", s ? s : "", *ifname ? " on " : "", ifname,
        g_strerror (err), err == ENODEV && ifindex == 0 ? " (no route to the "
        "group: name the interface)" : "");
    return FALSE;
  }
  return TRUE;
}

gboolean
mr_mcast_set_send_options (gint fd, gint family, gint ttl, gint dscp,
    gint ifindex, gboolean loop, GError ** error)
{
  if (family == AF_INET6) {
    if (!set_int (fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl,
            "multicast hop limit", error)
        || !set_int (fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop ? 1 : 0,
            "multicast loop", error)
        || (dscp >= 0 && !set_int (fd, IPPROTO_IPV6, IPV6_TCLASS, dscp << 2,
                "traffic class", error))
        || !set_int (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex,
            "multicast interface", error))
      return FALSE;
    return TRUE;
  } else {
    struct ip_mreqn mreqn;

    if (!set_int (fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl, "multicast TTL",
            error)
        || !set_int (fd, IPPROTO_IP, IP_MULTICAST_LOOP, loop ? 1 : 0,
            "multicast loop", error)
        || (dscp >= 0 && !set_int (fd, IPPROTO_IP, IP_TOS, dscp << 2,
                "type of service", error)))
      return FALSE;
    memset (&mreqn, 0, sizeof (mreqn));
    mreqn.imr_ifindex = ifindex;
    if (setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &mreqn,
            sizeof (mreqn)) < 0) {
      g_set_error (error, MR_MCAST_ERROR, errno, "could not set the "
          "multicast interface: %s", g_strerror (errno));
      return FALSE;
    }
    return TRUE;
  }
}

gboolean
mr_udp_uri_parse (const gchar * uri, gchar ** host, gint * port,
    gchar ** source, gchar ** iface, GError ** error)
{
  g_autoptr (GUri) u = NULL;
  g_autoptr (GHashTable) params = NULL;
  g_autofree gchar *src = NULL, *ifc = NULL;
  const gchar *query;

  *host = *source = *iface = NULL;
  *port = 0;
  if (!(u = g_uri_parse (uri, G_URI_FLAGS_NONE, error)))
    return FALSE;
  if (g_ascii_strcasecmp (g_uri_get_scheme (u), "udp") != 0) {
    g_set_error (error, MR_MCAST_ERROR, 0, "'%s' is not a udp:// URI", uri);
    return FALSE;
  }
  /* port 0 is any free port, as for the `port` property */
  if (!g_uri_get_host (u) || !*g_uri_get_host (u)
      || g_uri_get_port (u) < 0) {
    g_set_error (error, MR_MCAST_ERROR, 0, "'%s' has no host and port "
        "(udp://HOST:PORT)", uri);
    return FALSE;
  }
  if ((query = g_uri_get_query (u))) {
    GHashTableIter it;
    gpointer k, v;

    if (!(params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE,
                error)))
      return FALSE;
    g_hash_table_iter_init (&it, params);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      if (g_str_equal (k, "multicast-source")) {
        g_free (src);
        src = g_strdup (v);
      } else if (g_str_equal (k, "multicast-iface")) {
        g_free (ifc);
        ifc = g_strdup (v);
      } else {
        g_set_error (error, MR_MCAST_ERROR, 0, "unknown member '%s' in '%s' "
            "(multicast-source and multicast-iface are known)",
            (const gchar *) k, uri);
        return FALSE;
      }
    }
  }
  *host = g_strdup (g_uri_get_host (u));
  *port = g_uri_get_port (u);
  *source = (src && *src) ? g_steal_pointer (&src) : NULL;
  *iface = (ifc && *ifc) ? g_steal_pointer (&ifc) : NULL;
  return TRUE;
}

gchar *
mr_udp_uri_build (const gchar * host, gint port, const gchar * source,
    const gchar * iface)
{
  GString *s = g_string_new ("udp://");
  gboolean v6 = host && strchr (host, ':');

  g_string_append_printf (s, "%s%s%s:%d", v6 ? "[" : "", host ? host : "",
      v6 ? "]" : "", port);
  if (source && *source)
    g_string_append_printf (s, "?multicast-source=%s", source);
  if (iface && *iface) {
    g_autofree gchar *esc = g_uri_escape_string (iface, NULL, FALSE);

    g_string_append_printf (s, "%smulticast-iface=%s",
        source && *source ? "&" : "?", esc);
  }
  return g_string_free (s, FALSE);
}
