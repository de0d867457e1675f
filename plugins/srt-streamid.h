/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_SRT_STREAMID_H__
#define __MR_SRT_STREAMID_H__

#include <glib.h>

G_BEGIN_DECLS

/* The route a caller's SRT stream id names, for srtroutesrc:
 *
 *  - a plain id ("cam1") is its own route;
 *  - SRT's access control form ("#!::r=cam1,m=publish", as MediaMTX and
 *    ffmpeg callers send it) names its route in `r`; a mode `m`, when
 *    given, must be `publish` (a caller that wants to read is refused).
 *
 * Returns the route (free it), or NULL when the id names none: empty, the
 * `#!::` form without `r` or with an empty one, a key without `=`, or
 * another mode than publish. */
gchar *mr_srt_stream_id_route (const gchar * stream_id);

G_END_DECLS

#endif /* __MR_SRT_STREAMID_H__ */
