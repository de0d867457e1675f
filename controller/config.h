/* mroute: controller configuration (GLib key file + environment). */

#ifndef __MR_CONFIG_H__
#define __MR_CONFIG_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  /* [api] */
  gchar *host;
  gint port;
  /* [storage] */
  gchar *db_path;               /* from dsn = sqlite:PATH */
  /* [gstreamer] */
  gint max_flows;
  gint health_timeout_ms;
  /* [telegram] */
  gboolean telegram_enabled;
  gchar *telegram_bot_token;    /* secret */
  gchar *telegram_chat_id;
  gchar *telegram_api_url;
} MrConfig;

MrConfig *mr_config_new_default (void);
/* Reads @path (a GLib key file) over the defaults. */
gboolean mr_config_load_file (MrConfig * config, const gchar * path,
    GError ** error);
/* MROUTE_PORT, TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID */
gboolean mr_config_apply_env (MrConfig * config, GError ** error);
void mr_config_free (MrConfig * config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrConfig, mr_config_free);

G_END_DECLS

#endif /* __MR_CONFIG_H__ */
