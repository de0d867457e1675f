/* mroute: the REST API.  Routes, JSON in and out, status codes; it talks
 * only to the manager and never to GStreamer or SQLite.
 */

#ifndef __MR_API_H__
#define __MR_API_H__

#include <libsoup/soup.h>

#include "manager.h"

G_BEGIN_DECLS

#define MR_API_MAX_BODY (1024 * 1024)

typedef struct _MrApi MrApi;

MrApi *mr_api_new (MrManager * manager);
gboolean mr_api_listen (MrApi * api, const gchar * host, gint port,
    GError ** error);
void mr_api_free (MrApi * api);

G_END_DECLS

#endif /* __MR_API_H__ */
