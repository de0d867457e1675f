/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "udp-gso.h"

guint
mr_gso_group_length (const gsize * sizes, guint n, guint start,
    guint max_segments, gsize max_bytes)
{
  gsize seg, total;
  guint len = 1;

  g_return_val_if_fail (start < n, 0);

  seg = sizes[start];
  total = seg;
  if (seg == 0)
    return 1;                   /* an empty datagram cannot be a segment */

  while (start + len < n && len < max_segments) {
    gsize next = sizes[start + len];

    if (next == 0 || next > seg || total + next > max_bytes)
      break;
    total += next;
    len++;
    if (next < seg)
      break;                    /* a shorter one can only be the last */
  }
  return len;
}
