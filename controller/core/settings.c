/* mroute: controller configuration: the defaults, the GLib key file, the
 * environment, and the choice between a key file and YAML (the YAML
 * reader is settings-yaml.c). */

#define G_LOG_DOMAIN "mroute-config"
#include "settings.h"
#include "settings-private.h"

#include <string.h>

G_DEFINE_QUARK (mr-config-error-quark, mr_config_error);

MrConfig *
mr_config_new_default (void)
{
  MrConfig *c = g_new0 (MrConfig, 1);

  c->host = g_strdup ("0.0.0.0");
  c->port = 8080;
  c->db_path = g_strdup ("./mroute.db");
  c->max_flows = 20;
  c->health_timeout_ms = 500;
  c->read_interval_ms = 5;
  c->telegram_api_url = g_strdup ("https://api.telegram.org");
  c->metrics_public = TRUE;
  c->max_body_bytes = 1024 * 1024;
  c->header_timeout_sec = 10;
  c->body_timeout_sec = 30;
  c->max_connections = 512;
  c->webhook_urls = g_new0 (gchar *, 1);
  c->mediamtx_grace_sec = 30;
  c->maintenance_check_sec = 60;
  c->rtsp_port = 8554;
  c->cluster_lease_ms = 3000;
  c->cluster_tick_ms = 500;
  return c;
}

void
mr_config_free (MrConfig * c)
{
  if (!c)
    return;
  g_free (c->host);
  g_free (c->db_path);
  g_free (c->db_dsn);
  g_free (c->telegram_bot_token);
  g_free (c->telegram_chat_id);
  g_free (c->telegram_api_url);
  g_free (c->api_key);
  g_free (c->tls_certificate);
  g_free (c->tls_key);
  g_strfreev (c->webhook_urls);
  g_free (c->webhook_secret);
  g_free (c->cluster_node_id);
  g_free (c->cluster_api_url);
  g_free (c->cluster_labels);
  g_free (c);
}

/* Every section and key this version reads, with the kind of its value
 * (for the YAML reader, which has typed scalars).  A typo ("[apii]",
 * "api-key") would otherwise leave a default in force without a word,
 * which for api_key means an open controller. */
typedef struct
{
  const gchar *name;
  MrConfigKind kind;
} MrConfigKey;

typedef struct
{
  const gchar *section;
  const MrConfigKey keys[12];
} MrConfigSection;

static const MrConfigSection known_sections[] = {
  {"api", {{"host", MR_CONFIG_STRING}, {"port", MR_CONFIG_INT},
              {"api_key", MR_CONFIG_STRING}, {"metrics_public", MR_CONFIG_BOOL},
              {"max_body_bytes", MR_CONFIG_INT},
              {"header_timeout_sec", MR_CONFIG_INT},
              {"body_timeout_sec", MR_CONFIG_INT},
              {"max_connections", MR_CONFIG_INT},
              {"tls_certificate", MR_CONFIG_STRING},
          {"tls_key", MR_CONFIG_STRING}, {NULL}}},
  {"storage", {{"dsn", MR_CONFIG_STRING}, {NULL}}},
  {"gstreamer", {{"max_flows", MR_CONFIG_INT},
          {"health_timeout_ms", MR_CONFIG_INT},
          {"read_interval_ms", MR_CONFIG_INT}, {NULL}}},
  {"mediamtx", {{"grace_period_sec", MR_CONFIG_INT}, {NULL}}},
  {"maintenance", {{"check_interval_sec", MR_CONFIG_INT}, {NULL}}},
  {"rtsp", {{"port", MR_CONFIG_INT}, {NULL}}},
  {"telegram", {{"enabled", MR_CONFIG_BOOL},
              {"bot_token", MR_CONFIG_STRING}, {"chat_id", MR_CONFIG_STRING},
          {"api_url", MR_CONFIG_STRING}, {NULL}}},
  {"webhooks", {{"urls", MR_CONFIG_LIST}, {"secret", MR_CONFIG_STRING},
          {NULL}}},
  {"log", {{"format", MR_CONFIG_STRING}, {"level", MR_CONFIG_STRING},
          {NULL}}},
  {"cluster", {{"node_id", MR_CONFIG_STRING}, {"api_url", MR_CONFIG_STRING},
              {"labels", MR_CONFIG_MAP}, {"lease_ms", MR_CONFIG_INT},
          {"tick_ms", MR_CONFIG_INT}, {NULL}}},
};

static const MrConfigSection *
find_section (const gchar * section)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_sections); i++)
    if (g_str_equal (section, known_sections[i].section))
      return &known_sections[i];
  return NULL;
}

gboolean
mr_config_section_known (const gchar * section)
{
  return find_section (section) != NULL;
}

gboolean
mr_config_key_kind (const gchar * section, const gchar * key,
    MrConfigKind * kind)
{
  const MrConfigSection *s = find_section (section);

  for (guint k = 0; s && s->keys[k].name; k++)
    if (g_str_equal (key, s->keys[k].name)) {
      *kind = s->keys[k].kind;
      return TRUE;
    }
  return FALSE;
}

gchar *
mr_config_known_sections (void)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (known_sections); i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "",
        known_sections[i].section);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gchar *
mr_config_known_keys (const gchar * section)
{
  const MrConfigSection *s = find_section (section);
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint k = 0; s && s->keys[k].name; k++)
    g_string_append_printf (names, "%s%s", k ? ", " : "", s->keys[k].name);
  return g_string_free (g_steal_pointer (&names), FALSE);
}

/* What the values are read from, and how an error names a key: "[api]
 * port" for a key file, or what the YAML reader put in @names
 * ("api.port (line 3)") */
typedef struct
{
  GKeyFile *kf;
  GHashTable *names;            /* "section\x1fkey" -> name, or NULL */
} MrConfigReader;

static const gchar *
key_name (const MrConfigReader * r, const gchar * group, const gchar * key,
    gchar ** scratch)
{
  g_autofree gchar *id = mr_config_name_id (group, key);
  const gchar *name = r->names ? g_hash_table_lookup (r->names, id) : NULL;

  g_free (*scratch);
  *scratch = name ? g_strdup (name) : g_strdup_printf ("[%s] %s", group, key);
  return *scratch;
}

gchar *
mr_config_name_id (const gchar * section, const gchar * key)
{
  return g_strconcat (section, "\x1f", key, NULL);
}

/* Names the first section or key of @kf that is not in known_sections
 * (only names: a value may be a secret). */
static gboolean
check_known (GKeyFile * kf, GError ** error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint g = 0; groups[g]; g++) {
    g_auto (GStrv) keys = NULL;
    MrConfigKind kind;

    if (!mr_config_section_known (groups[g])) {
      g_autofree gchar *names = mr_config_known_sections ();

      g_set_error (error, MR_CONFIG_ERROR, 0,
          "[%s]: unknown section (known: %s)", groups[g], names);
      return FALSE;
    }
    keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
    for (guint k = 0; keys && keys[k]; k++) {
      if (!mr_config_key_kind (groups[g], keys[k], &kind)) {
        g_autofree gchar *names = mr_config_known_keys (groups[g]);

        g_set_error (error, MR_CONFIG_ERROR, 0,
            "[%s] %s: unknown key (known in [%s]: %s)", groups[g], keys[k],
            groups[g], names);
        return FALSE;
      }
    }
  }
  return TRUE;
}

gboolean
mr_config_node_id_valid (const gchar * id)
{
  gsize n = strlen (id);

  if (n == 0 || n > 64)
    return FALSE;
  for (const gchar * p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* "k=v, k2=v2" (',' or ';' between pairs): each key once, keys and values
 * of letters, digits, '-', '_', '.', '/' and ':'.  The pairs come back
 * sorted by key, joined by ',' ("" for none). */
gchar *
mr_config_parse_labels (const gchar * s, GError ** error)
{
  g_auto (GStrv) parts = g_strsplit_set (s, ",;", -1);
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);

  for (guint i = 0; parts[i]; i++) {
    gchar *pair = g_strstrip (parts[i]);
    gchar *eq = strchr (pair, '=');
    g_autofree gchar *key = NULL;
    g_autofree gchar *value = NULL;

    if (!*pair)
      continue;
    if (!eq || eq == pair) {
      g_set_error (error, MR_CONFIG_ERROR, 0, "label %u: 'key=value' "
          "pairs are wanted", i + 1);
      return NULL;
    }
    key = g_strstrip (g_strndup (pair, eq - pair));
    value = g_strstrip (g_strdup (eq + 1));
    for (const gchar * p = key; *p; p++)
      if (!g_ascii_isalnum (*p) && !strchr ("-_./:", *p)) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "label %u: a key of "
            "letters, digits, '-', '_', '.', '/' or ':' is wanted", i + 1);
        return NULL;
      }
    for (const gchar * p = value; *p; p++)
      if (!g_ascii_isalnum (*p) && !strchr ("-_./:", *p)) {
        g_set_error (error, MR_CONFIG_ERROR, 0, "label '%s': a value of "
            "letters, digits, '-', '_', '.', '/' or ':' is wanted", key);
        return NULL;
      }
    if (g_hash_table_contains (keys, key)) {
      g_set_error (error, MR_CONFIG_ERROR, 0, "label '%s' given twice", key);
      return NULL;
    }
    g_ptr_array_add (pairs, g_strdup_printf ("%s=%s", key, value));
    g_hash_table_add (keys, g_steal_pointer (&key));
  }
  g_ptr_array_sort (pairs, compare_strings);
  g_ptr_array_add (pairs, NULL);
  return g_strjoinv (",", (gchar **) pairs->pdata);
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
get_string (const MrConfigReader * r, const gchar * group, const gchar * key,
    gchar ** out, GError ** error)
{
  GError *err = NULL;
  gchar *v = g_key_file_get_string (r->kf, group, key, &err);

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
get_int (const MrConfigReader * r, const gchar * group, const gchar * key,
    gint min, gint max, gint * out, GError ** error)
{
  g_autofree gchar *s = NULL;
  g_autofree gchar *name = NULL;
  gint64 v;

  if (!get_string (r, group, key, &s, error))
    return FALSE;
  if (!s)
    return TRUE;
  if (!g_ascii_string_to_signed (s, 10, min, max, &v, NULL)) {
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "%s: '%s' is not an integer between %d and %d",
        key_name (r, group, key, &name), s, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_bool (const MrConfigReader * r, const gchar * group, const gchar * key,
    const gchar * s, gboolean * out, GError ** error)
{
  g_autofree gchar *name = NULL;

  if (g_ascii_strcasecmp (s, "true") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (s, "false") == 0)
    *out = FALSE;
  else {
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "%s: '%s' must be true or false", key_name (r, group, key, &name), s);
    return FALSE;
  }
  return TRUE;
}

/* Only http(s) URLs, separated by ',' ';' or spaces.  A wrong one is named
 * by its place only: a URL may hold a secret. */
static gboolean
parse_urls (const gchar * what, const gchar * s, gchar *** out,
    GError ** error)
{
  g_auto (GStrv) parts = g_strsplit_set (s, ",; \t", -1);
  g_autoptr (GStrvBuilder) urls = g_strv_builder_new ();

  guint n = 0;

  for (guint i = 0; parts[i]; i++) {
    if (!*parts[i])
      continue;
    n++;
    if (!g_str_has_prefix (parts[i], "http://")
        && !g_str_has_prefix (parts[i], "https://")) {
      g_set_error (error, MR_CONFIG_ERROR, 0,
          "%s: URL %u is not an http:// or https:// URL", what, n);
      return FALSE;
    }
    g_strv_builder_add (urls, parts[i]);
  }
  g_strfreev (*out);
  *out = g_strv_builder_end (urls);
  return TRUE;
}

gboolean
mr_config_load_key_file (MrConfig * c, GKeyFile * kf, GHashTable * names,
    GError ** error)
{
  const MrConfigReader reader = { kf, names }, *r = &reader;
  g_autofree gchar *metrics_public = NULL;
  g_autofree gchar *webhook_urls = NULL;
  g_autofree gchar *dsn = NULL;
  g_autofree gchar *enabled = NULL;
  g_autofree gchar *log_format = NULL;
  g_autofree gchar *log_level = NULL;
  g_autofree gchar *labels = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *other = NULL;

  if (!check_known (kf, error))
    return FALSE;

  if (!get_string (r, "api", "host", &c->host, error)
      || !get_int (r, "api", "port", 1, 65535, &c->port, error)
      || !get_string (r, "storage", "dsn", &dsn, error)
      || !get_int (r, "gstreamer", "max_flows", 1, 1000, &c->max_flows,
          error)
      || !get_int (r, "gstreamer", "health_timeout_ms", 50, 60000,
          &c->health_timeout_ms, error)
      || !get_int (r, "gstreamer", "read_interval_ms", 0, 100,
          &c->read_interval_ms, error)
      || !get_string (r, "telegram", "enabled", &enabled, error)
      || !get_string (r, "telegram", "bot_token", &c->telegram_bot_token,
          error)
      || !get_string (r, "telegram", "chat_id", &c->telegram_chat_id, error)
      || !get_string (r, "telegram", "api_url", &c->telegram_api_url, error)
      || !get_string (r, "api", "api_key", &c->api_key, error)
      || !get_string (r, "api", "metrics_public", &metrics_public, error)
      || !get_int (r, "api", "max_body_bytes", 1024, 64 * 1024 * 1024,
          &c->max_body_bytes, error)
      || !get_int (r, "api", "header_timeout_sec", 1, 3600,
          &c->header_timeout_sec, error)
      || !get_int (r, "api", "body_timeout_sec", 1, 3600,
          &c->body_timeout_sec, error)
      || !get_int (r, "api", "max_connections", 1, 100000,
          &c->max_connections, error)
      || !get_string (r, "api", "tls_certificate", &c->tls_certificate,
          error)
      || !get_string (r, "api", "tls_key", &c->tls_key, error)
      || !get_string (r, "webhooks", "urls", &webhook_urls, error)
      || !get_string (r, "webhooks", "secret", &c->webhook_secret, error)
      || !get_int (r, "mediamtx", "grace_period_sec", 0, 86400,
          &c->mediamtx_grace_sec, error)
      || !get_int (r, "maintenance", "check_interval_sec", 1, 3600,
          &c->maintenance_check_sec, error)
      || !get_int (r, "rtsp", "port", 0, 65535, &c->rtsp_port, error)
      || !get_string (r, "log", "format", &log_format, error)
      || !get_string (r, "log", "level", &log_level, error)
      || !get_string (r, "cluster", "node_id", &c->cluster_node_id, error)
      || !get_string (r, "cluster", "api_url", &c->cluster_api_url, error)
      || !get_string (r, "cluster", "labels", &labels, error)
      || !get_int (r, "cluster", "lease_ms", 500, 600000,
          &c->cluster_lease_ms, error)
      || !get_int (r, "cluster", "tick_ms", 50, 60000, &c->cluster_tick_ms,
          error))
    return FALSE;
  if (c->cluster_node_id && !mr_config_node_id_valid (c->cluster_node_id)) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "%s: '%s' must be 1 to 64 "
        "letters, digits, '-', '_' or '.'", key_name (r, "cluster",
            "node_id", &name), c->cluster_node_id);
    return FALSE;
  }
  if (c->cluster_api_url && !g_str_has_prefix (c->cluster_api_url, "http://")
      && !g_str_has_prefix (c->cluster_api_url, "https://")) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "%s: must be an http:// or "
        "https:// URL (where the other nodes reach this one's API)",
        key_name (r, "cluster", "api_url", &name));
    return FALSE;
  }
  if (c->cluster_tick_ms * 2 > c->cluster_lease_ms) {
    g_set_error (error, MR_CONFIG_ERROR, 0, "%s: %d ms is more than half "
        "of lease_ms (%d ms): a lease would expire between two renewals",
        key_name (r, "cluster", "tick_ms", &name), c->cluster_tick_ms,
        c->cluster_lease_ms);
    return FALSE;
  }
  if (labels) {
    g_autofree gchar *normal = NULL;

    if (!(normal = mr_config_parse_labels (labels, error))) {
      g_prefix_error (error, "%s: ", key_name (r, "cluster", "labels",
              &name));
      return FALSE;
    }
    g_free (c->cluster_labels);
    c->cluster_labels = *normal ? g_steal_pointer (&normal) : NULL;
  }
  if (log_format && !mr_log_format_from_string (log_format, &c->log_format)) {
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "%s: '%s' must be text or json", key_name (r, "log", "format", &name),
        log_format);
    return FALSE;
  }
  if (log_level && !mr_log_level_from_string (log_level, &c->log_level)) {
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "%s: '%s' must be error, warning, info or debug",
        key_name (r, "log", "level", &name), log_level);
    return FALSE;
  }
  if (metrics_public && !parse_bool (r, "api", "metrics_public",
          metrics_public, &c->metrics_public, error))
    return FALSE;
  if (webhook_urls && !parse_urls (key_name (r, "webhooks", "urls", &name),
          webhook_urls, &c->webhook_urls, error))
    return FALSE;
  if (c->api_key && !*c->api_key)
    g_clear_pointer (&c->api_key, g_free);
  if (c->webhook_secret && !*c->webhook_secret)
    g_clear_pointer (&c->webhook_secret, g_free);
  if (c->tls_certificate && !*c->tls_certificate)
    g_clear_pointer (&c->tls_certificate, g_free);
  if (c->tls_key && !*c->tls_key)
    g_clear_pointer (&c->tls_key, g_free);
  if (!c->tls_certificate != !c->tls_key) {
    const gchar *set = c->tls_certificate ? "tls_certificate" : "tls_key";
    const gchar *unset = c->tls_certificate ? "tls_key" : "tls_certificate";

    key_name (r, "api", set, &name);
    key_name (r, "api", unset, &other);
    /* the unset one has no line: name it as the file would */
    if (names) {
      g_free (other);
      other = g_strdup_printf ("api.%s", unset);
    }
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "%s: set without %s (HTTPS needs both the certificate and its "
        "private key)", name, other);
    return FALSE;
  }

  if (dsn) {
    /* the value is not repeated: it may hold a password */
    if (g_str_has_prefix (dsn, "postgresql://")
        || g_str_has_prefix (dsn, "postgres://")
        || g_str_has_prefix (dsn, "host=") || g_str_has_prefix (dsn,
            "dbname=")) {
      g_free (c->db_dsn);
      c->db_dsn = g_strdup (dsn);
    } else if (!g_str_has_prefix (dsn, "sqlite:") || strlen (dsn) == 7) {
      g_set_error (error, MR_CONFIG_ERROR, 0,
          "%s: must be sqlite:PATH or postgresql://... (a PostgreSQL "
          "URI or host=... dbname=... conninfo)", key_name (r, "storage",
              "dsn", &name));
      return FALSE;
    } else {
      g_free (c->db_path);
      c->db_path = g_strdup (dsn + 7);
      g_clear_pointer (&c->db_dsn, g_free);
    }
  }
  if (enabled && !parse_bool (r, "telegram", "enabled", enabled,
          &c->telegram_enabled, error))
    return FALSE;
  return TRUE;
}

static gboolean
is_yaml_path (const gchar * path)
{
  return g_str_has_suffix (path, ".yaml") || g_str_has_suffix (path, ".yml");
}

gboolean
mr_config_load_file (MrConfig * c, const gchar * path, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  if (is_yaml_path (path))
    return mr_config_load_yaml (c, path, error);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    /* a YAML file under another name fails on its first "section:" line */
    if (error && *error && (*error)->domain == G_KEY_FILE_ERROR)
      g_prefix_error (error, "read as a GLib key file (only files named "
          "*.yaml or *.yml are read as YAML): ");
    return FALSE;
  }
  return mr_config_load_key_file (c, kf, NULL, error);
}

const gchar *
mr_config_default_path (GError ** error)
{
  gboolean yaml = g_file_test (MR_CONFIG_DEFAULT_YAML, G_FILE_TEST_EXISTS);
  gboolean key_file = g_file_test (MR_CONFIG_DEFAULT_KEY_FILE,
      G_FILE_TEST_EXISTS);

  if (yaml && key_file) {
    /* reading one would leave the other's edits silently unused */
    g_set_error (error, MR_CONFIG_ERROR, 0,
        "both ./%s and ./%s exist: choose one with --config",
        MR_CONFIG_DEFAULT_YAML, MR_CONFIG_DEFAULT_KEY_FILE);
    return NULL;
  }
  if (yaml)
    return MR_CONFIG_DEFAULT_YAML;
  if (key_file)
    return MR_CONFIG_DEFAULT_KEY_FILE;
  return NULL;
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
  if ((v = g_getenv ("TELEGRAM_API_URL")) && *v) {
    g_free (c->telegram_api_url);
    c->telegram_api_url = g_strdup (v);
  }
  if ((v = g_getenv ("MROUTE_API_KEY")) && *v) {
    g_free (c->api_key);
    c->api_key = g_strdup (v);
  }
  if ((v = g_getenv ("MROUTE_WEBHOOK_URLS")) && *v
      && !parse_urls ("MROUTE_WEBHOOK_URLS", v, &c->webhook_urls, error))
    return FALSE;
  if ((v = g_getenv ("MROUTE_WEBHOOK_SECRET")) && *v) {
    g_free (c->webhook_secret);
    c->webhook_secret = g_strdup (v);
  }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* reloading */

GStrv
mr_config_restart_keys (const MrConfig * a, const MrConfig * b)
{
  g_autoptr (GStrvBuilder) keys = g_strv_builder_new ();

#define DIFFERS_STR(field, name) \
  if (g_strcmp0 (a->field, b->field) != 0) \
    g_strv_builder_add (keys, name)
#define DIFFERS(field, name) \
  if (a->field != b->field) \
    g_strv_builder_add (keys, name)
  DIFFERS_STR (host, "[api] host");
  DIFFERS (port, "[api] port");
  DIFFERS (max_body_bytes, "[api] max_body_bytes");
  DIFFERS (header_timeout_sec, "[api] header_timeout_sec");
  DIFFERS (body_timeout_sec, "[api] body_timeout_sec");
  DIFFERS (max_connections, "[api] max_connections");
  DIFFERS_STR (tls_certificate, "[api] tls_certificate");
  DIFFERS_STR (tls_key, "[api] tls_key");
  DIFFERS_STR (db_path, "[storage] dsn");
  DIFFERS_STR (db_dsn, "[storage] dsn");
  DIFFERS (max_flows, "[gstreamer] max_flows");
  DIFFERS (health_timeout_ms, "[gstreamer] health_timeout_ms");
  DIFFERS (read_interval_ms, "[gstreamer] read_interval_ms");
  DIFFERS (mediamtx_grace_sec, "[mediamtx] grace_period_sec");
  DIFFERS (maintenance_check_sec, "[maintenance] check_interval_sec");
  DIFFERS (rtsp_port, "[rtsp] port");
  DIFFERS_STR (cluster_node_id, "[cluster] node_id");
  DIFFERS_STR (cluster_api_url, "[cluster] api_url");
  DIFFERS_STR (cluster_labels, "[cluster] labels");
  DIFFERS (cluster_lease_ms, "[cluster] lease_ms");
  DIFFERS (cluster_tick_ms, "[cluster] tick_ms");
#undef DIFFERS_STR
#undef DIFFERS
  return g_strv_builder_end (keys);
}

static void
take_string (gchar ** running, gchar ** next, const gchar * name,
    GStrvBuilder * changed)
{
  gchar *old = *running;

  if (g_strcmp0 (*running, *next) == 0)
    return;
  g_strv_builder_add (changed, name);
  /* @next keeps the old value, for its owner to free */
  *running = *next;
  *next = old;
}

static void
take_value (gint * running, gint next, const gchar * name,
    GStrvBuilder * changed)
{
  if (*running == next)
    return;
  g_strv_builder_add (changed, name);
  *running = next;
}

void
mr_config_take_live (MrConfig * running, MrConfig * next,
    GStrvBuilder * changed)
{
  take_string (&running->api_key, &next->api_key, "[api] api_key", changed);
  take_value (&running->metrics_public, next->metrics_public,
      "[api] metrics_public", changed);
  take_value (&running->telegram_enabled, next->telegram_enabled,
      "[telegram] enabled", changed);
  take_string (&running->telegram_bot_token, &next->telegram_bot_token,
      "[telegram] bot_token", changed);
  take_string (&running->telegram_chat_id, &next->telegram_chat_id,
      "[telegram] chat_id", changed);
  take_string (&running->telegram_api_url, &next->telegram_api_url,
      "[telegram] api_url", changed);
  if (!g_strv_equal ((const gchar * const *) running->webhook_urls,
          (const gchar * const *) next->webhook_urls)) {
    GStrv old = running->webhook_urls;

    g_strv_builder_add (changed, "[webhooks] urls");
    running->webhook_urls = next->webhook_urls;
    next->webhook_urls = old;
  }
  take_string (&running->webhook_secret, &next->webhook_secret,
      "[webhooks] secret", changed);
  if (running->log_format != next->log_format) {
    g_strv_builder_add (changed, "[log] format");
    running->log_format = next->log_format;
  }
  if (running->log_level != next->log_level) {
    g_strv_builder_add (changed, "[log] level");
    running->log_level = next->log_level;
  }
}

gchar *
mr_config_data_path (const MrConfig * config, const gchar * name)
{
  g_autofree gchar *dir = g_path_get_dirname (config->db_path);

  return g_build_filename (dir, name, NULL);
}
