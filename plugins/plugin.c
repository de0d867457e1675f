/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "mroute-elements.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (blackdetect, plugin);
  ret |= GST_ELEMENT_REGISTER (failoverselector, plugin);
  ret |= GST_ELEMENT_REGISTER (freezedetect, plugin);
  ret |= GST_ELEMENT_REGISTER (packetstats, plugin);
  ret |= GST_ELEMENT_REGISTER (rtmpserversrc, plugin);
  ret |= GST_ELEMENT_REGISTER (rtpst2022_7_merge, plugin);
  ret |= GST_ELEMENT_REGISTER (silencedetect, plugin);
  ret |= GST_ELEMENT_REGISTER (srtroutesrc, plugin);
  ret |= GST_ELEMENT_REGISTER (tssegmentsink, plugin);
  ret |= GST_ELEMENT_REGISTER (udpbatchsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (udpfanoutsink, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, mroute,
    "mroute live video transport elements", plugin_init, PACKAGE_VERSION,
    "LGPL", PACKAGE_NAME, PACKAGE_ORIGIN)
