/* mroute: the controller daemon.  Reads the configuration, opens the
 * database, restores the flows, serves the API, and shuts down cleanly on
 * SIGINT and SIGTERM. */

#include <glib-unix.h>
#include <gst/gst.h>
#include <locale.h>

#include "api.h"
#include "config.h"
#include "manager.h"
#include "notify.h"
#include "srt-log.h"
#include "store.h"

static gboolean
on_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("signal received, shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
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
  g_autofree gchar *config_path = NULL;
  g_autofree gchar *host = NULL;
  g_autofree gchar *db_path = NULL;
  gint port = 0;
  GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
        "Configuration file (GLib key file; default ./mroute.conf if it "
          "exists)", "PATH"},
    {"host", 0, 0, G_OPTION_ARG_STRING, &host, "Address to serve the API on",
        "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to serve the API on",
        "PORT"},
    {"db", 0, 0, G_OPTION_ARG_FILENAME, &db_path, "SQLite database file",
        "PATH"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MrConfig) config = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (MrNotifier) notifier = NULL;
  g_autofree gchar *note = NULL;
  g_autofree gchar *url = NULL;
  g_autoptr (GTlsCertificate) tls = NULL;
  g_autoptr (GInetAddress) listen_addr = NULL;
  MrStore *store;
  MrManager *manager;
  MrApi *api;
  guint total, active;

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- live video transport controller");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("mroute: %s\n", error->message);
    return 2;
  }

  config = mr_config_new_default ();
  if (!config_path && g_file_test ("mroute.conf", G_FILE_TEST_EXISTS))
    config_path = g_strdup ("mroute.conf");
  if (config_path && !mr_config_load_file (config, config_path, &error)) {
    g_printerr ("mroute: configuration %s: %s\n", config_path,
        error->message);
    return 2;
  }
  if (!mr_config_apply_env (config, &error)) {
    g_printerr ("mroute: %s\n", error->message);
    return 2;
  }
  if (host) {
    g_free (config->host);
    config->host = g_strdup (host);
  }
  if (port) {
    if (port < 1 || port > 65535) {
      g_printerr ("mroute: --port: %d is not between 1 and 65535\n", port);
      return 2;
    }
    config->port = port;
  }
  if (db_path) {
    g_free (config->db_path);
    config->db_path = g_strdup (db_path);
  }
  /* before anything opens: a wrong path is a configuration error */
  if (config->tls_certificate && !(tls = mr_api_load_certificate
          (config->tls_certificate, config->tls_key, &error))) {
    g_printerr ("mroute: configuration %s: %s\n", config_path,
        error->message);
    return 2;
  }

  gst_init (NULL, NULL);
  if (!ensure_plugin (&error)) {
    g_printerr ("mroute: %s\n", error->message);
    return 1;
  }

  if (!(store = mr_store_open (config->db_path, &error))) {
    g_printerr ("mroute: %s\n", error->message);
    return 1;
  }
  notifier = mr_notifier_new (config);
  manager = mr_manager_new (config, store);
  mr_manager_add_event_listener (manager, mr_notifier_event_listener,
      notifier);
  api = mr_api_new (manager);
  if (!mr_api_listen (api, config->host, config->port, tls, &error)) {
    g_printerr ("mroute: cannot listen on %s:%d: %s\n", config->host,
        config->port, error->message);
    mr_api_free (api);
    mr_manager_free (manager);
    mr_store_close (store);
    return 1;
  }

  mr_srt_log_watch (mr_manager_srt_rejected, manager);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);

  if (!mr_manager_restore (manager, &error)) {
    g_printerr ("mroute: %s\n", error->message);
    g_clear_error (&error);
  }
  mr_manager_counts (manager, &total, &active);
  listen_addr = g_inet_address_new_from_string (config->host);
  url = g_strdup_printf (g_inet_address_get_family (listen_addr) ==
      G_SOCKET_FAMILY_IPV6 ? "%s://[%s]:%d" : "%s://%s:%d",
      tls ? "https" : "http", config->host, config->port);
  g_message ("mroute listening on %s (database %s, %u flows)", url,
      config->db_path, total);
  if (!config->api_key && !g_inet_address_get_is_loopback (listen_addr))
    g_message ("api: no API key: only clients on this host (loopback) are "
        "answered, and /health; set [api] api_key or MROUTE_API_KEY to "
        "serve others");
  else if (config->api_key && !tls
      && !g_inet_address_get_is_loopback (listen_addr))
    g_message ("api: the API key crosses the network in clear: set [api] "
        "tls_certificate and tls_key to serve HTTPS");
  note = g_strdup_printf ("mroute started on %s:%d, %u flow%s", config->host,
      config->port, total, total == 1 ? "" : "s");
  mr_notifier_system (notifier, "startup", note);

  g_main_loop_run (loop);

  mr_manager_counts (manager, &total, &active);
  g_free (note);
  note = g_strdup_printf ("mroute on %s:%d is shutting down, stopping %u "
      "running flow%s", config->host, config->port, active,
      active == 1 ? "" : "s");
  mr_notifier_system (notifier, "shutdown", note);
  mr_api_free (api);
  mr_srt_log_unwatch ();
  mr_manager_shutdown (manager);
  /* after the flows stopped, so that their flow_stopped go out too */
  mr_notifier_drain (notifier, 10000);
  mr_manager_free (manager);
  g_clear_pointer (&notifier, mr_notifier_free);
  mr_store_close (store);
  g_message ("mroute stopped");
  gst_deinit ();
  return 0;
}
