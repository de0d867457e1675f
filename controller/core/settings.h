/* mroute: controller configuration (a GLib key file or the original
 * mroute's YAML file, then the environment). */

#ifndef __MR_SETTINGS_H__
#define __MR_SETTINGS_H__

#include <glib.h>

#include "log.h"

G_BEGIN_DECLS

typedef struct
{
  /* [api] */
  gchar *host;
  gint port;
  gchar *api_key;               /* secret; NULL: no key needed */
  gboolean metrics_public;      /* GET /metrics without the key */
  gint max_body_bytes;
  gint header_timeout_sec;      /* headers (and the next request on a
                                 * kept-alive connection) must come within */
  gint body_timeout_sec;        /* a request body, or the taking of an
                                 * answer, must finish within */
  gint max_connections;         /* open API connections at once */
  gchar *tls_certificate;       /* PEM path; with tls_key: HTTPS only */
  gchar *tls_key;               /* PEM path of the private key */
  /* [storage] */
  gchar *db_path;               /* from dsn = sqlite:PATH; with a
                                 * PostgreSQL dsn still the data folder's */
  gchar *db_dsn;                /* dsn = postgresql://..., or NULL: SQLite
                                 * at db_path.  Secret: its password */
  /* [gstreamer] */
  gint max_flows;
  gint health_timeout_ms;
  gint read_interval_ms;        /* udpbatchsrc read-interval of sources */
  /* [telegram] */
  gboolean telegram_enabled;
  gchar *telegram_bot_token;    /* secret */
  gchar *telegram_chat_id;
  gchar *telegram_api_url;
  /* [webhooks] */
  gchar **webhook_urls;         /* NULL-terminated, maybe empty */
  gchar *webhook_secret;        /* secret: HMAC-SHA256 key, or NULL */
  /* [mediamtx] */
  gint mediamtx_grace_sec;      /* not-ready -> stop delay */
  /* [maintenance] */
  gint maintenance_check_sec;   /* scheduler period */
  /* [rtsp] */
  gint rtsp_port;               /* the RTSP server's TCP port; 0: any free
                                 * one (the controller logs it) */
  /* [cluster]: read with a shared store (PostgreSQL) only */
  gchar *cluster_node_id;       /* NULL: generated once, kept in node-id
                                 * beside the data */
  gchar *cluster_api_url;       /* NULL: http://HOST:PORT of [api] */
  gchar *cluster_labels;        /* "k=v,k2=v2", sorted, or NULL */
  gint cluster_lease_ms;
  gint cluster_tick_ms;
  /* [log] */
  MrLogFormat log_format;
  MrLogLevel log_level;         /* UNSET when the file has none */
} MrConfig;

MrConfig *mr_config_new_default (void);
/* @name in the folder of the database: where the controller keeps its
 * files (hls/ for HLS outputs) */
gchar *mr_config_data_path (const MrConfig * config, const gchar * name);
/* Reads @path over the defaults: YAML (the original mroute's config.yaml)
 * when its name ends in .yaml or .yml, else a GLib key file.  A section or
 * a key this version does not know is an error that names it. */
gboolean mr_config_load_file (MrConfig * config, const gchar * path,
    GError ** error);

#define MR_CONFIG_DEFAULT_YAML "config.yaml"
#define MR_CONFIG_DEFAULT_KEY_FILE "mroute.conf"
/* The file read when none is given: ./config.yaml (as the original
 * does) or ./mroute.conf, whichever exists; NULL for none.  Both existing
 * is an error (NULL with @error set). */
const gchar *mr_config_default_path (GError ** error);
/* MROUTE_PORT, MROUTE_API_KEY, TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID,
 * TELEGRAM_API_URL, MROUTE_WEBHOOK_URLS, MROUTE_WEBHOOK_SECRET */
gboolean mr_config_apply_env (MrConfig * config, GError ** error);
void mr_config_free (MrConfig * config);
/* 1 to 64 letters, digits, '-', '_' or '.': a [cluster] node_id or
 * --node-id */
gboolean mr_config_node_id_valid (const gchar * id);

/* Reloading (SIGHUP).  The keys a running controller cannot change, whose
 * values differ between @running and @next: "[api] port", ... (names only,
 * never values). */
GStrv mr_config_restart_keys (const MrConfig * running, const MrConfig * next);
/* Moves into @running the keys it can change live ([api] api_key and
 * metrics_public, [telegram], [webhooks], [log]) from @next, and adds to
 * @changed the names of those whose values differ ("[api] api_key"). */
void mr_config_take_live (MrConfig * running, MrConfig * next,
    GStrvBuilder * changed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrConfig, mr_config_free);

G_END_DECLS

#endif /* __MR_SETTINGS_H__ */
