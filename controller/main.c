/* mroute: the controller daemon.  Reads the configuration, opens the
 * database, restores the flows, serves the API, reloads what can change
 * live on SIGHUP, and shuts down cleanly on SIGINT and SIGTERM. */

#define G_LOG_DOMAIN "mroute"
#include <glib-unix.h>
#include <gst/gst.h>
#include <libsoup/soup.h>
#include <libpq-fe.h>
#include <locale.h>
#include <sqlite3.h>

#include "api/api.h"
#include "cluster/cluster.h"
#include "core/core.h"
#include "flows/manager.h"
#include "notify/notify.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

/* The command line: it wins over the file and the environment, at start
 * and at every reload. */
typedef struct
{
  gchar *config_path;
  gchar *host;
  gint port;                    /* 0: not given */
  gint rtsp_port;               /* -1: not given */
  gchar *db_path;
  gchar *log_format;
  gchar *log_level;
  gchar *node_id;
  gboolean version;
} MrOptions;

typedef struct
{
  const MrOptions *options;
  MrConfig *config;             /* the running one: reloads change it */
  gboolean tls;
  MrApi *api;                   /* NULL until serving and once stopping */
  MrNotifier *notifier;
} MrDaemon;

static gboolean
on_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("signal received, shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
print_version (void)
{
  g_autofree gchar *gst = gst_version_string ();

  /* PQlibVersion: major * 10000 + minor since PostgreSQL 10 */
  g_print ("mroute %s\n%s\nGLib %u.%u.%u\nlibsoup %u.%u.%u\nSQLite %s\n"
      "libpq %d.%d\n", MROUTE_VERSION, gst, glib_major_version,
      glib_minor_version, glib_micro_version, soup_get_major_version (),
      soup_get_minor_version (), soup_get_micro_version (),
      sqlite3_libversion (), PQlibVersion () / 10000,
      PQlibVersion () % 10000);
}

/* Defaults, the file, the environment, the command line: at start and at
 * every reload.  Nothing of @out is set on an error. */
static gboolean
read_config (const MrOptions * options, MrConfig ** out, GError ** error)
{
  g_autoptr (MrConfig) config = mr_config_new_default ();

  if (options->config_path
      && !mr_config_load_file (config, options->config_path, error)) {
    g_prefix_error (error, "configuration %s: ", options->config_path);
    return FALSE;
  }
  if (!mr_config_apply_env (config, error))
    return FALSE;
  if (options->host) {
    g_free (config->host);
    config->host = g_strdup (options->host);
  }
  if (options->port)
    config->port = options->port;
  if (options->rtsp_port >= 0)
    config->rtsp_port = options->rtsp_port;
  /* --db PATH (or a PostgreSQL DSN) wins over [storage] dsn */
  if (options->db_path && mr_store_dsn_is_postgres (options->db_path)) {
    g_free (config->db_dsn);
    config->db_dsn = g_strdup (options->db_path);
  } else if (options->db_path) {
    g_free (config->db_path);
    config->db_path = g_strdup (g_str_has_prefix (options->db_path,
            "sqlite:") ? options->db_path + 7 : options->db_path);
    g_clear_pointer (&config->db_dsn, g_free);
  }
  /* checked when the options were read */
  if (options->log_format)
    mr_log_format_from_string (options->log_format, &config->log_format);
  if (options->log_level)
    mr_log_level_from_string (options->log_level, &config->log_level);
  if (options->node_id) {
    g_free (config->cluster_node_id);
    config->cluster_node_id = g_strdup (options->node_id);
  }
  *out = g_steal_pointer (&config);
  return TRUE;
}

/* Who the API answers, said at start and when a reload changes the key */
static void
note_exposure (const MrConfig * config, gboolean tls)
{
  g_autoptr (GInetAddress) listen_addr =
      g_inet_address_new_from_string (config->host);

  if (!listen_addr || g_inet_address_get_is_loopback (listen_addr))
    return;
  if (!config->api_key)
    g_message ("api: no API key: only clients on this host (loopback) are "
        "answered, and /health; set [api] api_key or MROUTE_API_KEY to "
        "serve others");
  else if (!tls)
    g_message ("api: the API key crosses the network in clear: set [api] "
        "tls_certificate and tls_key to serve HTTPS");
}

static gboolean
has_prefix_in (const gchar * const *names, const gchar * prefix)
{
  for (guint i = 0; names[i]; i++)
    if (g_str_has_prefix (names[i], prefix))
      return TRUE;
  return FALSE;
}

/* SIGHUP: the file it was started with, read again.  The API key,
 * metrics_public, Telegram, the webhooks and the log change at once; any
 * other difference waits for a restart, with a warning naming its key.  A
 * file that cannot be read changes nothing.  Only names are logged, never
 * values: a value may be a secret. */
static void
reload (MrDaemon * d)
{
  const gchar *path = d->options->config_path;
  g_autoptr (MrConfig) next = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) restart = NULL;
  g_auto (GStrv) changed = NULL;
  g_autofree gchar *list = NULL;

  if (!path) {
    g_message ("SIGHUP: started without a configuration file: nothing to "
        "reload");
    return;
  }
  if (!read_config (d->options, &next, &error)) {
    g_warning ("SIGHUP: not reloaded, nothing changed: %s", error->message);
    return;
  }

  restart = mr_config_restart_keys (d->config, next);
  mr_config_take_live (d->config, next, builder);
  changed = g_strv_builder_end (builder);

  if (has_prefix_in ((const gchar * const *) changed, "[log] "))
    mr_log_configure (d->config->log_format, d->config->log_level);
  for (guint i = 0; restart[i]; i++)
    g_warning ("%s changed: needs a restart", restart[i]);
  if (g_strv_contains ((const gchar * const *) changed, "[api] api_key")
      || g_strv_contains ((const gchar * const *) changed,
          "[api] metrics_public")) {
    mr_api_set_key (d->api, d->config->api_key, d->config->metrics_public);
    if (g_strv_contains ((const gchar * const *) changed, "[api] api_key"))
      note_exposure (d->config, d->tls);
  }
  if (has_prefix_in ((const gchar * const *) changed, "[telegram] ")
      || has_prefix_in ((const gchar * const *) changed, "[webhooks] "))
    mr_notifier_reconfigure (d->notifier, d->config);

  list = g_strjoinv (", ", changed);
  g_message ("SIGHUP: configuration %s reloaded: %s%s", path,
      *changed ? "applied " : "nothing to apply live",
      *changed ? list : "");
}

static gboolean
on_sighup (gpointer user_data)
{
  MrDaemon *d = user_data;

  if (!d->api)
    g_message ("SIGHUP ignored: not serving (starting or stopping)");
  else
    reload (d);
  return G_SOURCE_CONTINUE;
}

/* The original mroute (Go's flag package) takes "-config FILE" and
 * "-config=FILE"; GOption reads a single dash as short options ("-c
 * onfig"), so those become "--config" before it parses.  Nothing after
 * "--" is touched. */
static void
rewrite_go_style_config (int argc, char **argv)
{
  /* the new strings live as long as argv, which GOption reorders */
  static GPtrArray *kept;

  for (int i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--"))
      return;
    if (g_str_equal (argv[i], "-config"))
      argv[i] = (char *) "--config";
    else if (g_str_has_prefix (argv[i], "-config=")) {
      if (!kept)
        kept = g_ptr_array_new_with_free_func (g_free);
      argv[i] = g_strconcat ("-", argv[i], NULL);
      g_ptr_array_add (kept, argv[i]);
    }
  }
}

/* The log's flow namer */
static gchar *
flow_name_of (const gchar * flow_id, gpointer manager)
{
  return mr_manager_flow_name (manager, flow_id);
}

/* Our own elements: found through GST_PLUGIN_PATH, or else next to the
 * binary in the build tree, or in the install directory. */
static gboolean
ensure_plugin (GError ** error)
{
  const gchar *dirs[] = { MROUTE_BUILD_PLUGIN_DIR, MROUTE_INSTALL_PLUGIN_DIR };
  GstRegistry *registry = gst_registry_get ();
  g_autoptr (GstPluginFeature) feature = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    feature = gst_registry_lookup_feature (registry, "packetstats");
    if (feature)
      return TRUE;
    if (g_file_test (dirs[i], G_FILE_TEST_IS_DIR))
      gst_registry_scan_path (registry, dirs[i]);
  }
  feature = gst_registry_lookup_feature (registry, "packetstats");
  if (feature)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
      "the mroute GStreamer plugin was not found: set GST_PLUGIN_PATH to "
      "the folder that holds libgstmroute.so");
  return FALSE;
}

int
main (int argc, char **argv)
{
  MrOptions options = {.rtsp_port = -1 };
  GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &options.config_path,
        "Configuration file: YAML if named *.yaml or *.yml, else a GLib key "
          "file (default: ./config.yaml or ./mroute.conf, whichever "
          "exists); also -config PATH; SIGHUP reads it again", "PATH"},
    {"host", 0, 0, G_OPTION_ARG_STRING, &options.host,
        "Address to serve the API on", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &options.port,
        "Port to serve the API on", "PORT"},
    {"rtsp-port", 0, 0, G_OPTION_ARG_INT, &options.rtsp_port,
        "TCP port of the RTSP server of the rtsp outputs (default 8554, "
          "0: any free one)", "PORT"},
    {"db", 0, 0, G_OPTION_ARG_FILENAME, &options.db_path,
        "SQLite database file, or a PostgreSQL DSN (postgresql://...; "
          "its password is better in the configuration file or ~/.pgpass)",
        "PATH|DSN"},
    {"log-format", 0, 0, G_OPTION_ARG_STRING, &options.log_format,
        "Log lines as text (default) or json", "text|json"},
    {"log-level", 0, 0, G_OPTION_ARG_STRING, &options.log_level,
        "Least severe level logged (default info)",
        "error|warning|info|debug"},
    {"node-id", 0, 0, G_OPTION_ARG_STRING, &options.node_id,
        "This node's id in a cluster (a shared PostgreSQL store; default: "
          "[cluster] node_id, else one made once and kept in node-id "
          "beside the data)", "ID"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &options.version,
        "Print the versions of mroute and its libraries, and exit", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MrConfig) config = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (MrNotifier) notifier = NULL;
  g_autofree gchar *note = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *db_name = NULL;
  g_autoptr (GTlsCertificate) tls = NULL;
  g_autoptr (GInetAddress) listen_addr = NULL;
  MrDaemon daemon = { &options };
  MrStore *store;
  MrManager *manager;
  MrCluster *cluster = NULL;
  MrApi *api;
  MrLogFormat format;
  MrLogLevel level;
  guint total, active;
  guint sighup = 0;
  int status = 0;

  setlocale (LC_ALL, "");
  mr_log_init ();
  ctx = g_option_context_new ("- live video transport controller");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  rewrite_go_style_config (argc, argv);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("mroute: %s\n", error->message);
    status = 2;
    goto out;
  }
  if (options.version) {
    print_version ();
    goto out;
  }
  /* from now on a SIGHUP no longer ends the process */
  sighup = g_unix_signal_add (SIGHUP, on_sighup, &daemon);
  if (options.log_format && !mr_log_format_from_string (options.log_format,
          &format)) {
    g_printerr ("mroute: --log-format: '%s' must be text or json\n",
        options.log_format);
    status = 2;
    goto out;
  }
  if (options.log_level && !mr_log_level_from_string (options.log_level,
          &level)) {
    g_printerr ("mroute: --log-level: '%s' must be error, warning, info or "
        "debug\n", options.log_level);
    status = 2;
    goto out;
  }
  if (options.port && (options.port < 1 || options.port > 65535)) {
    g_printerr ("mroute: --port: %d is not between 1 and 65535\n",
        options.port);
    status = 2;
    goto out;
  }
  if (options.node_id && !mr_config_node_id_valid (options.node_id)) {
    g_printerr ("mroute: --node-id: '%s' must be 1 to 64 letters, digits, "
        "'-', '_' or '.'\n", options.node_id);
    status = 2;
    goto out;
  }
  if (options.rtsp_port < -1 || options.rtsp_port > 65535) {
    g_printerr ("mroute: --rtsp-port: %d is not between 0 and 65535\n",
        options.rtsp_port);
    status = 2;
    goto out;
  }

  if (!options.config_path) {
    const gchar *found = mr_config_default_path (&error);

    if (error) {
      g_printerr ("mroute: %s\n", error->message);
      status = 2;
      goto out;
    }
    options.config_path = g_strdup (found);
  }
  if (!read_config (&options, &config, &error)) {
    g_printerr ("mroute: %s\n", error->message);
    status = 2;
    goto out;
  }
  mr_log_configure (config->log_format, config->log_level);
  /* before anything opens: a wrong path is a configuration error */
  if (config->tls_certificate && !(tls = mr_api_load_certificate
          (config->tls_certificate, config->tls_key, &error))) {
    g_printerr ("mroute: configuration %s: %s\n", options.config_path,
        error->message);
    status = 2;
    goto out;
  }

  gst_init (NULL, NULL);
  if (!ensure_plugin (&error)) {
    g_printerr ("mroute: %s\n", error->message);
    status = 1;
    goto out;
  }

  if (!(store = mr_store_open (config->db_dsn ? config->db_dsn :
              config->db_path, &error))) {
    g_printerr ("mroute: %s\n", error->message);
    status = 1;
    goto out;
  }
  notifier = mr_notifier_new (config);
  manager = mr_manager_new (config, store);
  mr_log_set_flow_namer (flow_name_of, manager);
  mr_manager_add_event_listener (manager, mr_notifier_event_listener,
      notifier);
  if (mr_manager_is_shared (manager)
      && !(cluster = mr_cluster_new (config, store, manager, &error))) {
    g_printerr ("mroute: cluster: %s\n", error->message);
    mr_log_set_flow_namer (NULL, NULL);
    mr_manager_free (manager);
    mr_store_close (store);
    status = 1;
    goto out;
  }
  api = mr_api_new (manager);
  mr_api_set_cluster (api, cluster);
  if (!mr_api_listen (api, config->host, config->port, tls, &error)) {
    g_printerr ("mroute: cannot listen on %s:%d: %s\n", config->host,
        config->port, error->message);
    mr_api_free (api);
    mr_cluster_free (cluster);
    mr_log_set_flow_namer (NULL, NULL);
    mr_manager_free (manager);
    mr_store_close (store);
    status = 1;
    goto out;
  }

  mr_srt_log_watch (mr_manager_srt_rejected, manager);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  daemon.config = config;
  daemon.tls = tls != NULL;
  daemon.notifier = notifier;

  if (!mr_manager_restore (manager, &error)) {
    g_warning ("restoring the stored flows: %s", error->message);
    g_clear_error (&error);
  }
  /* a node runs what it leases, from its first look on */
  if (cluster)
    mr_cluster_start (cluster);
  mr_manager_counts (manager, &total, &active);
  listen_addr = g_inet_address_new_from_string (config->host);
  url = g_strdup_printf (g_inet_address_get_family (listen_addr) ==
      G_SOCKET_FAMILY_IPV6 ? "%s://[%s]:%d" : "%s://%s:%d",
      tls ? "https" : "http", config->host, config->port);
  /* never the DSN's password */
  db_name = mr_store_dsn_for_log (config->db_dsn ? config->db_dsn :
      config->db_path);
  g_message ("mroute listening on %s (database %s, %u flows; version %s)",
      url, db_name, total, MROUTE_VERSION);
  note_exposure (config, tls != NULL);
  note = g_strdup_printf ("mroute started on %s:%d, %u flow%s", config->host,
      config->port, total, total == 1 ? "" : "s");
  mr_notifier_system (notifier, "startup", note);

  daemon.api = api;
  g_main_loop_run (loop);
  /* the shutdown below runs the main context too (the notifier's drain) */
  daemon.api = NULL;

  mr_manager_counts (manager, &total, &active);
  g_free (note);
  note = g_strdup_printf ("mroute on %s:%d is shutting down, stopping %u "
      "running flow%s", config->host, config->port, active,
      active == 1 ? "" : "s");
  mr_notifier_system (notifier, "shutdown", note);
  mr_api_free (api);
  mr_srt_log_unwatch ();
  /* the other nodes take this one's flows at once */
  if (cluster)
    mr_cluster_leave (cluster);
  mr_manager_shutdown (manager);
  /* after the flows stopped, so that their flow_stopped go out too */
  mr_notifier_drain (notifier, 10000);
  mr_log_set_flow_namer (NULL, NULL);
  mr_cluster_free (cluster);
  mr_manager_free (manager);
  g_clear_pointer (&notifier, mr_notifier_free);
  mr_store_close (store);
  g_message ("mroute stopped");
  gst_deinit ();

out:
  if (sighup)
    g_source_remove (sighup);
  g_free (options.config_path);
  g_free (options.host);
  g_free (options.db_path);
  g_free (options.log_format);
  g_free (options.log_level);
  g_free (options.node_id);
  return status;
}
