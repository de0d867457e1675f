/* mroute pipeline: GStreamer parts of a flow, built from its
 * specification and owned by no one here: the builder (spec -> bins,
 * builder.h), the isolation of a branch behind the tee (isolation.h, used
 * by the output branches and by the monitor), the isolated output branch
 * (branch.h) and one module per transport (transports/transport.h, with
 * SRT's statistics and log).
 *
 * The one header other layers include. */

#ifndef __MR_PIPELINE_H__
#define __MR_PIPELINE_H__

#include "pipeline/branch.h"
#include "pipeline/builder.h"
#include "pipeline/isolation.h"
#include "pipeline/transports/srt-log.h"
#include "pipeline/transports/srt-stats.h"
#include "pipeline/transports/transport.h"

#endif /* __MR_PIPELINE_H__ */
