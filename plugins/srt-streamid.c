/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "srt-streamid.h"

#include <string.h>

/* SRT's access control syntax (libsrt docs/features/access-control.md):
 * "#!::" then comma-separated key=value pairs */
#define ACCESS_CONTROL_PREFIX "#!::"

gchar *
mr_srt_stream_id_route (const gchar * stream_id)
{
  g_auto (GStrv) pairs = NULL;
  const gchar *route = NULL;

  if (!stream_id || !*stream_id)
    return NULL;
  if (!g_str_has_prefix (stream_id, ACCESS_CONTROL_PREFIX))
    return g_strdup (stream_id);

  pairs = g_strsplit (stream_id + strlen (ACCESS_CONTROL_PREFIX), ",", -1);
  for (guint i = 0; pairs[i]; i++) {
    const gchar *eq = strchr (pairs[i], '=');
    const gchar *value;

    if (!eq)
      return NULL;
    value = eq + 1;
    if (eq - pairs[i] == 1 && pairs[i][0] == 'r')
      route = value;
    else if (eq - pairs[i] == 1 && pairs[i][0] == 'm'
        && !g_str_equal (value, "publish"))
      return NULL;
  }
  if (!route || !*route)
    return NULL;
  return g_strdup (route);
}
