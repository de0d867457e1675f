/* mroute: what the files of the API share (api.c: the server, keys,
 * bodies and the one error envelope; routes-flows.c: the routes of one
 * flow).  Private to controller/api/. */

#ifndef __MR_API_PRIVATE_H__
#define __MR_API_PRIVATE_H__

#include "api.h"
#include "cluster/cluster.h"
#include "http-guard.h"
#include "mediamtx.h"
#include "websocket.h"

G_BEGIN_DECLS

struct _MrApi
{
  SoupServer *server;
  MrManager *manager;
  MrCluster *cluster;           /* NULL: standalone */
  MrMediamtx *mediamtx;
  MrWsHub *ws;                  /* GET /v1/ws */
  /* from the configuration */
  GBytes *key_digest;           /* SHA-256 of the API key, or NULL */
  gboolean metrics_public;
  gsize max_body;
  MrHttpGuard *guard;
  gint64 last_remote_refusal_log;       /* monotonic, microseconds */
};

/* Answers: @body (taken) as JSON, or none */
void mr_api_respond (SoupServerMessage * msg, guint status, gchar * body);
void mr_api_respond_json (SoupServerMessage * msg, guint status,
    JsonNode * node);
/* The one error envelope: {"error": "...", "field": "..."} */
void mr_api_write_error (SoupServerMessage * msg, guint status,
    const gchar * field, const gchar * message);
/* Answers with @node (taken) and @ok, or with *@error (cleared) */
void mr_api_respond_result (SoupServerMessage * msg, guint ok,
    JsonNode * node, GError ** error);
/* Answers with @flow (taken) rendered with the @warnings about the
 * request's body (NULL: none), or with the error. */
void mr_api_respond_flow_warned (SoupServerMessage * msg, guint ok,
    MrFlowInfo * flow, GPtrArray * warnings, GError ** error);
void mr_api_respond_flow (SoupServerMessage * msg, guint ok,
    MrFlowInfo * flow, GError ** error);
void mr_api_method_not_allowed (SoupServerMessage * msg,
    const gchar * allow);
void mr_api_not_found (SoupServerMessage * msg, const gchar * path);

/* The body, a JSON object, or NULL when it was answered (400, 413) */
JsonNode *mr_api_parse_body (MrApi * api, SoupServerMessage * msg);
/* ?limit=N into @limit, or FALSE when it was answered (400) */
gboolean mr_api_parse_limit (SoupServerMessage * msg, GHashTable * query,
    guint * limit);

/* A live call on flow @id that another node runs: sent there (the answer
 * comes later) and TRUE; FALSE: answer it here */
gboolean mr_api_forwarded (MrApi * api, SoupServerMessage * msg,
    const gchar * id);

/* routes-recordings.c: GET /v1/flows/{id}/recordings (@n_rest 1) and
 * /v1/flows/{id}/recordings/get (@n_rest 2) */
void mr_api_handle_recordings (MrApi * api, SoupServerMessage * msg,
    const gchar * method, const gchar * id, gchar ** rest, guint n_rest,
    GHashTable * query);

/* routes-flows.c: /v1/flows/{id}/... with @rest the segments after the
 * id */
void mr_api_handle_flow (MrApi * api, SoupServerMessage * msg,
    const gchar * method, const gchar * id, gchar ** rest, guint n_rest,
    GHashTable * query, const gchar * path);
/* GET of a flow's metrics, thumbnail, metadata, content-quality or events
 * (@id NULL: every flow's events) */
void mr_api_handle_web (SoupServerMessage * msg, const gchar * method,
    gchar ** names, guint n, const gchar * path);
void mr_api_handle_flow_reading (MrApi * api, SoupServerMessage * msg,
    const gchar * id, const gchar * what, guint limit);

G_END_DECLS

#endif /* __MR_API_PRIVATE_H__ */
