/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Multicast on a UDP socket, IPv4 and IPv6 alike, without GStreamer:
 * joining a group (any-source or source-specific) on a receiving socket,
 * and the TTL, DSCP and outgoing interface of a sending one.  Used by
 * udpbatchsrc and udpfanoutsink; the udp:// URI they share is parsed here
 * too. */

#ifndef __MR_UDP_MULTICAST_H__
#define __MR_UDP_MULTICAST_H__

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

#define MR_MCAST_ERROR (mr_mcast_error_quark ())
GQuark mr_mcast_error_quark (void);

/* Whether @ss is an IPv4 or IPv6 multicast address */
gboolean mr_mcast_is_multicast (const struct sockaddr_storage *ss);

/* The index of the interface @name; 0 (any: the kernel's route decides)
 * for NULL or ""; -1 with @error when there is no such interface */
gint mr_mcast_iface_index (const gchar * name, GError ** error);

/* Joins the group @group on @fd (of @group's family) on the interface
 * @ifindex (0: the one the route to the group takes): source-specific
 * (MCAST_JOIN_SOURCE_GROUP) when @source is not NULL, any-source
 * (MCAST_JOIN_GROUP) otherwise.  The socket then receives only the groups
 * it joined (IP_MULTICAST_ALL / IPV6_MULTICAST_ALL off, where the kernel
 * has it). */
gboolean mr_mcast_join (gint fd, const struct sockaddr_storage *group,
    const struct sockaddr_storage *source, gint ifindex, GError ** error);

/* The sending options of @fd, a socket of @family: the multicast TTL or
 * hop limit (@ttl, 0..255), the DSCP (@dscp 0..63, -1: leave it), the
 * outgoing interface of multicast (@ifindex, 0: the route's) and whether
 * multicast is looped back to this host (@loop). */
gboolean mr_mcast_set_send_options (gint fd, gint family, gint ttl,
    gint dscp, gint ifindex, gboolean loop, GError ** error);

/* udp://HOST:PORT[?multicast-source=ADDR&multicast-iface=NAME], HOST an
 * IPv4 address, a [bracketed] IPv6 address or a name; the query's other
 * members are refused.  Outputs are newly allocated (NULL when absent). */
gboolean mr_udp_uri_parse (const gchar * uri, gchar ** host, gint * port,
    gchar ** source, gchar ** iface, GError ** error);
/* The URI of those, which mr_udp_uri_parse () reads back */
gchar *mr_udp_uri_build (const gchar * host, gint port, const gchar * source,
    const gchar * iface);

G_END_DECLS

#endif /* __MR_UDP_MULTICAST_H__ */
