/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_UDP_GSO_H__
#define __MR_UDP_GSO_H__

#include <glib.h>

G_BEGIN_DECLS

/* Kernel limits for one UDP GSO send (UDP_SEGMENT) */
#define MR_GSO_MAX_SEGMENTS 64
#define MR_GSO_MAX_BYTES 65000

/* How many datagrams, starting at @start, one UDP GSO send can carry: all
 * of the size of the first except the last, which may be shorter, at most
 * @max_segments of them and @max_bytes in all.  Always at least 1. */
guint mr_gso_group_length (const gsize * sizes, guint n, guint start,
    guint max_segments, gsize max_bytes);

G_END_DECLS

#endif /* __MR_UDP_GSO_H__ */
