/* mroute: GET /metrics, the Prometheus text exposition format 0.0.4.
 * Rendered from the same typed structs the REST API renders as JSON (the
 * manager's flow list and each flow's MrFlowMetrics), so a scrape and
 * GET /v1/flows/{id}/metrics never disagree; no JSON, no GStreamer, no
 * HTTP here.
 */

#ifndef __MR_PROMETHEUS_H__
#define __MR_PROMETHEUS_H__

#include <glib.h>

#include "flows/manager.h"

G_BEGIN_DECLS

#define MR_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The whole exposition: every flow, every source and output, the MERGE
 * and failover counters and the process figures.  Free with g_free(). */
gchar *mr_prometheus_render (MrManager * mgr);

G_END_DECLS

#endif /* __MR_PROMETHEUS_H__ */
