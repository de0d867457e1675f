/* mroute: the REST API.  Routes, JSON in and out, status codes; it talks
 * only to the manager and never to GStreamer or SQLite.
 */

#ifndef __MR_API_H__
#define __MR_API_H__

#include <libsoup/soup.h>

#include "cluster/cluster.h"
#include "flows/manager.h"

G_BEGIN_DECLS

typedef struct _MrApi MrApi;

/* Its settings ([api] api_key, metrics_public, max_body_bytes,
 * header_timeout_sec, body_timeout_sec, max_connections, [mediamtx]
 * grace_period_sec) come from the manager's configuration.
 *
 * Without an API key only loopback clients are answered (403 for the
 * others), but for /health. */
MrApi *mr_api_new (MrManager * manager);
/* A new [api] api_key (NULL: none) and metrics_public, from the next
 * request on (SIGHUP).  Only a digest of the key is kept. */
void mr_api_set_key (MrApi * api, const gchar * api_key,
    gboolean metrics_public);
/* The certificate and private key of [api] tls_certificate and tls_key
 * (PEM files); the error names the files, never what they hold. */
GTlsCertificate *mr_api_load_certificate (const gchar * cert_path,
    const gchar * key_path, GError ** error);
/* A cluster node: live calls on flows other nodes run go there, /health
 * tells the cluster (NULL: standalone) */
void mr_api_set_cluster (MrApi * api, MrCluster * cluster);
/* Serves plain HTTP on @host:@port, or only HTTPS with @tls. */
gboolean mr_api_listen (MrApi * api, const gchar * host, gint port,
    GTlsCertificate * tls, GError ** error);
/* API connections open now */
guint mr_api_connections (MrApi * api);
void mr_api_free (MrApi * api);

G_END_DECLS

#endif /* __MR_API_H__ */
