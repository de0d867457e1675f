/* mroute: the MediaMTX hook receiver.  MediaMTX's runOnReady and
 * runOnNotReady hooks (through tools/mtx-hook) post
 * {"path", "query", "sourceType", "sourceId"} to
 * /v1/mediamtx/events/ready and /not-ready.  A path live/<streamId>/in
 * starts the flow named <streamId>; not-ready stops it after a grace
 * period unless ready comes back first.  Nothing is ever created. */

#ifndef __MR_MEDIAMTX_H__
#define __MR_MEDIAMTX_H__

#include <json-glib/json-glib.h>

#include "flows/manager.h"

G_BEGIN_DECLS

typedef struct _MrMediamtx MrMediamtx;

MrMediamtx *mr_mediamtx_new (MrManager * manager, guint grace_sec);
void mr_mediamtx_free (MrMediamtx * m);

/* @ready: ready or not-ready.  Returns the answer and sets @status (200 or
 * 202), or NULL with @error: MR_SPEC_ERROR (400) for a malformed body,
 * MR_MANAGER_ERROR NOT_FOUND (404) for a stream without a flow, CONFLICT
 * (409) for a name that several flows have. */
JsonNode *mr_mediamtx_hook (MrMediamtx * m, gboolean ready, JsonNode * body,
    guint * status, GError ** error);

/* Cancels the stop a not-ready scheduled for @flow_id, if any: a start or
 * stop by hand, or the flow's deletion, takes over. */
void mr_mediamtx_forget (MrMediamtx * m, const gchar * flow_id);

G_END_DECLS

#endif /* __MR_MEDIAMTX_H__ */
