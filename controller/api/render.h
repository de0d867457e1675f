/* mroute: the JSON answers of the REST API, rendered from the typed data
 * the manager returns (flows/flow-metrics.h): flows, metrics, events and
 * source monitoring, in the seed's shapes (docs/api.md).
 *
 * The one place that knows the member names and their order; it does not
 * know where the figures come from, nor HTTP. */

#ifndef __MR_RENDER_H__
#define __MR_RENDER_H__

#include <json-glib/json-glib.h>

#include "flows/manager.h"

G_BEGIN_DECLS

/* A flow's public form (no secrets) with its status */
JsonNode *mr_render_flow (const MrFlowInfo * flow);
/* A source's or an output's public form, as in its flow's */
JsonNode *mr_render_endpoint (const MrEndpoint * ep);
/* Adds "warnings": [...] (gchar*) to the object @answer, unless there are
 * none (mr_flow_spec_from_json ()) */
void mr_render_add_warnings (JsonNode * answer, GPtrArray * warnings);
/* {"flows": [...]} of MrFlowInfo* */
JsonNode *mr_render_flow_list (GPtrArray * flows);
JsonNode *mr_render_metrics (const MrFlowMetrics * metrics);
/* {"events": [...]} of MrEvent* */
JsonNode *mr_render_events (GPtrArray * events);
/* one event, as in the list above */
JsonNode *mr_render_event (const MrEvent * event);
JsonNode *mr_render_thumbnail (const MrThumbnail * thumbnail);
JsonNode *mr_render_stream_metadata (const MrStreamMetadata * metadata);
JsonNode *mr_render_content_quality (const MrContentQuality * quality);

G_END_DECLS

#endif /* __MR_RENDER_H__ */
