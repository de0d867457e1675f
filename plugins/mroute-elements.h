/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MROUTE_ELEMENTS_H__
#define __MROUTE_ELEMENTS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (blackdetect);
GST_ELEMENT_REGISTER_DECLARE (failoverselector);
GST_ELEMENT_REGISTER_DECLARE (freezedetect);
GST_ELEMENT_REGISTER_DECLARE (packetstats);
GST_ELEMENT_REGISTER_DECLARE (rtmpserversrc);
GST_ELEMENT_REGISTER_DECLARE (rtpst2022_7_merge);
GST_ELEMENT_REGISTER_DECLARE (silencedetect);
GST_ELEMENT_REGISTER_DECLARE (srtroutesrc);
GST_ELEMENT_REGISTER_DECLARE (tssegmentsink);
GST_ELEMENT_REGISTER_DECLARE (udpbatchsrc);
GST_ELEMENT_REGISTER_DECLARE (udpfanoutsink);

G_END_DECLS

#endif /* __MROUTE_ELEMENTS_H__ */
