/* mroute core: what every other layer of the controller builds on, and
 * nothing GStreamer: the flow specification (the model, its validation and
 * its JSON form), the strict JSON reader for outside text, events, the
 * settings file, logging, clocks, maintenance windows and running totals.
 *
 * The one header other layers include; the headers it lists are the
 * layer's own. */

#ifndef __MR_CORE_H__
#define __MR_CORE_H__

#include "core/clock.h"
#include "core/event.h"
#include "core/flow-spec.h"
#include "core/json-reader.h"
#include "core/log.h"
#include "core/maintenance.h"
#include "core/recordings.h"
#include "core/settings.h"
#include "core/totals.h"

#endif /* __MR_CORE_H__ */
