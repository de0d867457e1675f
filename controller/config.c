/* mroute: controller configuration (GLib key file + environment). */

#include "config.h"

#include <string.h>

#define MR_CONFIG_ERROR (mr_config_error_quark ())
static G_DEFINE_QUARK (mr-config-error-quark, mr_config_error);

MrConfig *
mr_config_new_default (void)
{
  MrConfig *c = g_new0 (MrConfig, 1);

  c->host = g_strdup ("0.0.0.0");
  c->port = 8080;
  c->db_path = g_strdup ("./mroute.db");
  c->max_flows = 20;
  c->health_timeout_ms = 500;
  c->telegram_api_url = g_strdup ("https://api.telegram.org");
  return c;
}

void
mr_config_free (MrConfig * c)
{
  if (!c)
    return;
  g_free (c->host);
  g_free (c->db_path);
  g_free (c->telegram_bot_token);
  g_free (c->telegram_chat_id);
  g_free (c->telegram_api_url);
  g_free (c);
}

static gboolean
parse_port (const gchar * s, const gchar * what, gint * out, GError ** error)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (s, 10, 1, 65535, &v, NULL)) {
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "%s: '%s' is not a port between 1 and 65535", what, s);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

/* Reads an optional key; a missing group or key keeps the default. */
static gboolean
get_string (GKeyFile * kf, const gchar * group, const gchar * key,
    gchar ** out, GError ** error)
{
  GError *err = NULL;
  gchar *v = g_key_file_get_string (kf, group, key, &err);

  if (err) {
    if (g_error_matches (err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND)
        || g_error_matches (err, G_KEY_FILE_ERROR,
            G_KEY_FILE_ERROR_GROUP_NOT_FOUND)) {
      g_error_free (err);
      return TRUE;
    }
    g_propagate_error (error, err);
    return FALSE;
  }
  g_free (*out);
  *out = g_strstrip (v);
  return TRUE;
}

static gboolean
get_int (GKeyFile * kf, const gchar * group, const gchar * key, gint min,
    gint max, gint * out, GError ** error)
{
  g_autofree gchar *s = NULL;
  gint64 v;

  if (!get_string (kf, group, key, &s, error))
    return FALSE;
  if (!s)
    return TRUE;
  if (!g_ascii_string_to_signed (s, 10, min, max, &v, NULL)) {
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "[%s] %s: '%s' is not an integer between %d and %d", group, key, s,
        min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

gboolean
mr_config_load_file (MrConfig * c, const gchar * path, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *dsn = NULL;
  g_autofree gchar *enabled = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;

  if (!get_string (kf, "api", "host", &c->host, error)
      || !get_int (kf, "api", "port", 1, 65535, &c->port, error)
      || !get_string (kf, "storage", "dsn", &dsn, error)
      || !get_int (kf, "gstreamer", "max_flows", 1, 1000, &c->max_flows,
          error)
      || !get_int (kf, "gstreamer", "health_timeout_ms", 50, 60000,
          &c->health_timeout_ms, error)
      || !get_string (kf, "telegram", "enabled", &enabled, error)
      || !get_string (kf, "telegram", "bot_token", &c->telegram_bot_token,
          error)
      || !get_string (kf, "telegram", "chat_id", &c->telegram_chat_id, error)
      || !get_string (kf, "telegram", "api_url", &c->telegram_api_url, error))
    return FALSE;

  if (dsn) {
    if (!g_str_has_prefix (dsn, "sqlite:") || strlen (dsn) == 7) {
      g_set_error (error, MR_CONFIG_ERROR, 0,
          "[storage] dsn: '%s' must be sqlite:PATH", dsn);
      return FALSE;
    }
    g_free (c->db_path);
    c->db_path = g_strdup (dsn + 7);
  }
  if (enabled) {
    if (g_ascii_strcasecmp (enabled, "true") == 0)
      c->telegram_enabled = TRUE;
    else if (g_ascii_strcasecmp (enabled, "false") == 0)
      c->telegram_enabled = FALSE;
    else {
      g_set_error (error, MR_CONFIG_ERROR, 0,
          "[telegram] enabled: '%s' must be true or false", enabled);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
mr_config_apply_env (MrConfig * c, GError ** error)
{
  const gchar *v;

  if ((v = g_getenv ("MROUTE_PORT")) && *v
      && !parse_port (v, "MROUTE_PORT", &c->port, error))
    return FALSE;
  if ((v = g_getenv ("TELEGRAM_BOT_TOKEN")) && *v) {
    g_free (c->telegram_bot_token);
    c->telegram_bot_token = g_strdup (v);
    c->telegram_enabled = TRUE;
  }
  if ((v = g_getenv ("TELEGRAM_CHAT_ID")) && *v) {
    g_free (c->telegram_chat_id);
    c->telegram_chat_id = g_strdup (v);
  }
  return TRUE;
}
