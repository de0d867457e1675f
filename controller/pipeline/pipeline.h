/* mroute pipeline: a flow's GStreamer pipeline: the stateless builder
 * (spec -> elements, builder.h), the live pipeline that owns them and makes
 * the live edits (live-pipeline.h), the isolation of a branch behind the
 * tee (isolation.h, used by the output branches and by the monitor), the
 * isolated output branch (branch.h) and one module per transport
 * (transports/transport.h, with SRT's statistics and log).
 *
 * The one header other layers include. */

#ifndef __MR_PIPELINE_H__
#define __MR_PIPELINE_H__

#include "pipeline/branch.h"
#include "pipeline/builder.h"
#include "pipeline/fence.h"
#include "pipeline/live-pipeline.h"
#include "pipeline/isolation.h"
#include "pipeline/rtsp-server.h"
#include "pipeline/transports/srt-log.h"
#include "pipeline/transports/srt-stats.h"
#include "pipeline/transports/transport.h"

#endif /* __MR_PIPELINE_H__ */
