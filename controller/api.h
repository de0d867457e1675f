/* mroute: the REST API.  Routes, JSON in and out, status codes; it talks
 * only to the manager and never to GStreamer or SQLite.
 */

#ifndef __MR_API_H__
#define __MR_API_H__

#include <libsoup/soup.h>

#include "manager.h"

G_BEGIN_DECLS

typedef struct _MrApi MrApi;

/* Its settings ([api] api_key, metrics_public, max_body_bytes, [mediamtx]
 * grace_period_sec) come from the manager's configuration. */
MrApi *mr_api_new (MrManager * manager);
gboolean mr_api_listen (MrApi * api, const gchar * host, gint port,
    GError ** error);
void mr_api_free (MrApi * api);

G_END_DECLS

#endif /* __MR_API_H__ */
