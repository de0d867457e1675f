/* Unit tests of the YAML configuration (controller/core/settings-yaml.c):
 * the original mroute's config.yaml into MrConfig, the same values as the
 * key file gives, the refusals and their names, and the choice of the
 * default file. */

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/core.h"

/* The seed README's example, comments included, as an operator has it */
static const gchar seed_example[] =
    "api:\n"
    "  host: 0.0.0.0\n"
    "  port: 8080\n"
    "\n"
    "storage:\n"
    "  dsn: \"sqlite:./mroute.db\"\n"
    "\n"
    "ffmpeg:\n"
    "  path: ffmpeg\n"
    "  probe_path: ffprobe\n"
    "  max_flows: 20\n"
    "  health_timeout_ms: 500    # failover health threshold\n"
    "\n"
    "telegram:\n"
    "  enabled: true\n"
    "  bot_token: \"123456:ABC-DEF...\"\n"
    "  chat_id: \"-1001234567890\"\n";

static gchar *tmpdir;

/* Writes @text to a file named @name in the test's directory; returns its
 * path */
static gchar *
write_file (const gchar * name, const gchar * text)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static MrConfig *
load_ok (const gchar * name, const gchar * text)
{
  g_autofree gchar *path = write_file (name, text);
  g_autoptr (MrConfig) c = mr_config_new_default ();
  g_autoptr (GError) error = NULL;

  if (!mr_config_load_file (c, path, &error))
    g_error ("%s: %s", name, error->message);
  return g_steal_pointer (&c);
}

static gchar *
load_error (const gchar * text)
{
  g_autofree gchar *path = write_file ("bad.yaml", text);
  g_autoptr (MrConfig) c = mr_config_new_default ();
  g_autoptr (GError) error = NULL;

  g_assert_false (mr_config_load_file (c, path, &error));
  g_assert_nonnull (error);
  return g_strdup (error->message);
}

static void
test_seed_example (void)
{
  g_autoptr (MrConfig) c = NULL;

  /* the ignored ffmpeg.path and probe_path are said once, at info */
  g_test_expect_message ("mroute-config", G_LOG_LEVEL_MESSAGE,
      "*ffmpeg.path and ffmpeg.probe_path not used*");
  c = load_ok ("config.yaml", seed_example);
  g_test_assert_expected_messages ();

  g_assert_cmpstr (c->host, ==, "0.0.0.0");
  g_assert_cmpint (c->port, ==, 8080);
  g_assert_cmpstr (c->db_path, ==, "./mroute.db");
  g_assert_cmpint (c->max_flows, ==, 20);
  g_assert_cmpint (c->health_timeout_ms, ==, 500);
  g_assert_true (c->telegram_enabled);
  g_assert_cmpstr (c->telegram_bot_token, ==, "123456:ABC-DEF...");
  g_assert_cmpstr (c->telegram_chat_id, ==, "-1001234567890");
}

/* ffmpeg.max_flows and health_timeout_ms are [gstreamer]'s */
static void
test_ffmpeg_maps_to_gstreamer (void)
{
  g_autoptr (MrConfig) y = load_ok ("m.yml",
      "ffmpeg:\n  max_flows: 2\n  health_timeout_ms: 1500\n");
  g_autoptr (MrConfig) k = load_ok ("m.conf",
      "[gstreamer]\nmax_flows = 2\nhealth_timeout_ms = 1500\n");
  g_autoptr (MrConfig) g = load_ok ("g.yaml",
      "gstreamer:\n  max_flows: 2\n  health_timeout_ms: 1500\n");

  g_assert_cmpint (y->max_flows, ==, 2);
  g_assert_cmpint (y->health_timeout_ms, ==, 1500);
  g_assert_cmpint (k->max_flows, ==, y->max_flows);
  g_assert_cmpint (k->health_timeout_ms, ==, y->health_timeout_ms);
  g_assert_cmpint (g->max_flows, ==, y->max_flows);
  g_assert_cmpint (g->health_timeout_ms, ==, y->health_timeout_ms);
}

/* [gstreamer] read_interval_ms: 5 by default, 0 (read at once) to 100 */
static void
test_read_interval (void)
{
  g_autoptr (MrConfig) d = load_ok ("d.conf", "[gstreamer]\nmax_flows = 2\n");
  g_autoptr (MrConfig) k = load_ok ("k.conf",
      "[gstreamer]\nread_interval_ms = 0\n");
  g_autoptr (MrConfig) g = load_ok ("g.yaml",
      "gstreamer:\n  read_interval_ms: 10\n");
  g_autofree gchar *msg = load_error ("gstreamer:\n  read_interval_ms: 101\n");

  g_assert_cmpint (d->read_interval_ms, ==, 5);
  g_assert_cmpint (k->read_interval_ms, ==, 0);
  g_assert_cmpint (g->read_interval_ms, ==, 10);
  g_assert_nonnull (strstr (msg, "gstreamer.read_interval_ms (line 2): "
          "'101' is not an integer between 0 and 100"));
}

/* Every section of the key file can be written in YAML too */
static void
test_key_file_sections (void)
{
  g_autoptr (MrConfig) c = load_ok ("all.yaml",
      "api:\n"
      "  api_key: \"  s3cret \"\n"
      "  metrics_public: false\n"
      "  max_body_bytes: 4096\n"
      "webhooks:\n"
      "  urls:\n"
      "    - https://a.example/x\n"
      "    - http://10.0.0.5:9000/e\n"
      "  secret: k\n"
      "mediamtx:\n  grace_period_sec: 0\n"
      "maintenance:\n  check_interval_sec: 5\n"
      "log:\n  format: json\n  level: debug\n"
      "telegram:\n  api_url: http://127.0.0.1:1\n");

  /* trimmed as the key file's values are */
  g_assert_cmpstr (c->api_key, ==, "s3cret");
  g_assert_false (c->metrics_public);
  g_assert_cmpint (c->max_body_bytes, ==, 4096);
  g_assert_cmpuint (g_strv_length (c->webhook_urls), ==, 2);
  g_assert_cmpstr (c->webhook_urls[1], ==, "http://10.0.0.5:9000/e");
  g_assert_cmpstr (c->webhook_secret, ==, "k");
  g_assert_cmpint (c->mediamtx_grace_sec, ==, 0);
  g_assert_cmpint (c->maintenance_check_sec, ==, 5);
  g_assert_cmpint (c->log_format, ==, MR_LOG_FORMAT_JSON);
  g_assert_cmpint (c->log_level, ==, MR_LOG_LEVEL_DEBUG);
  g_assert_cmpstr (c->telegram_api_url, ==, "http://127.0.0.1:1");
}

/* An empty value, ~ or null keeps the default; so do an empty file and
 * empty sections */
static void
test_null_keeps_default (void)
{
  g_autoptr (MrConfig) c = load_ok ("n.yaml",
      "# nothing but\napi:\n  port:\n  host: ~\nstorage:\ntelegram: null\n");
  g_autoptr (MrConfig) e = load_ok ("e.yaml", "");

  g_assert_cmpint (c->port, ==, 8080);
  g_assert_cmpstr (c->host, ==, "0.0.0.0");
  g_assert_cmpstr (e->db_path, ==, "./mroute.db");
}

static void
test_refusals (void)
{
  const struct
  {
    const gchar *yaml;
    const gchar *want;
  } cases[] = {
    {"api:\n  port: 8080\n  hots: x\n",
        "api.hots (line 3): unknown key (known in api: host, port"},
    {"apii:\n  port: 1\n", "apii (line 1): unknown section (known: api,"},
    {"ffmpeg:\n  threads: 4\n", "ffmpeg.threads (line 2): unknown key "
          "(known in ffmpeg: path, probe_path, max_flows, health_timeout_ms)"},
    {"api:\n  port: abc\n", "api.port (line 2): 'abc' is not an integer"},
    {"api:\n  port: \"8080\"\n", "api.port (line 2): a quoted string where "
          "an integer is wanted"},
    {"api:\n  port: 70000\n", "api.port (line 2): '70000' is not an integer "
          "between 1 and 65535"},
    {"ffmpeg:\n  max_flows: -1\n", "ffmpeg.max_flows (line 2): '-1' is not "
          "an integer between 1 and 1000"},
    {"ffmpeg:\n  health_timeout_ms: 1.5\n", "ffmpeg.health_timeout_ms "
          "(line 2): '1.5' is not an integer"},
    {"telegram:\n  enabled: yes\n", "telegram.enabled (line 2): 'yes' must "
          "be true or false"},
    {"storage:\n  dsn: mysql://u:secret@x\n", "storage.dsn (line 2): "
          "must be sqlite:PATH or postgresql://"},
    {"api:\n  port: [1, 2]\n", "api.port (line 2): a list where an integer "
          "is wanted"},
    {"api: 8080\n", "api (line 1): a value where a mapping of keys is "
          "wanted"},
    {"- api\n", "line 1: a list where a mapping of sections"},
    {"api:\n  port: 1\n  port: 2\n", "api.port (line 3): already set by "
          "api.port (line 2)"},
    {"gstreamer:\n  max_flows: 3\nffmpeg:\n  max_flows: 4\n",
        "ffmpeg.max_flows (line 4): already set by gstreamer.max_flows "
          "(line 2)"},
    {"api:\n  port: 1\napi:\n  host: x\n", "api (line 3): section already "
          "given at line 1"},
    {"api:\n  port: 1\n---\napi:\n  port: 2\n", "line 4: a second YAML "
          "document"},
    /* syntax errors say where */
    {"api:\n  host: [x\n  port: 3\n", "YAML syntax error at line 3"},
    {"api:\n  port: 3\n   host: x\n", "YAML syntax error at line 3, column "
          "8: mapping values are not allowed"},
    {"api:\n\tport: 3\n", "YAML syntax error at line 2"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *message = load_error (cases[i].yaml);

    if (!strstr (message, cases[i].want))
      g_error ("case %u: '%s' does not contain '%s'", i, message,
          cases[i].want);
  }
}

/* [cluster]: the same values from YAML (labels a mapping) and from the key
 * file (labels "k=v" pairs), sorted by key; the refusals name the key */
static void
test_cluster_section (void)
{
  g_autoptr (MrConfig) y = load_ok ("cluster.yaml",
      "cluster:\n"
      "  node_id: edge-1\n"
      "  api_url: http://10.0.0.11:8080\n"
      "  labels:\n"
      "    site: paris\n"
      "    vip: a\n"
      "  lease_ms: 4000\n"
      "  tick_ms: 250\n");
  g_autoptr (MrConfig) k = load_ok ("cluster.conf",
      "[cluster]\nnode_id = edge-1\napi_url = http://10.0.0.11:8080\n"
      "labels = vip=a; site = paris\nlease_ms = 4000\ntick_ms = 250\n");
  g_autoptr (MrConfig) d = mr_config_new_default ();
  const struct
  {
    const gchar *yaml;
    const gchar *want;
  } cases[] = {
    {"cluster:\n  node_id: a b\n", "cluster.node_id (line 2): 'a b' must "
          "be 1 to 64 letters"},
    {"cluster:\n  api_url: ftp://x\n", "cluster.api_url (line 2): must be "
          "an http:// or https:// URL"},
    {"cluster:\n  lease_ms: 1000\n  tick_ms: 600\n", "cluster.tick_ms "
          "(line 3): 600 ms is more than half of lease_ms"},
    {"cluster:\n  lease_ms: 100\n", "cluster.lease_ms (line 2): '100' is "
          "not an integer between 500 and 600000"},
    {"cluster:\n  labels:\n    a: [1]\n", "cluster.labels (line 2): "
          "label 1 is not 'key: value'"},
    {"cluster:\n  labels: site\n", "cluster.labels (line 2): label 1: "
          "'key=value' pairs are wanted"},
    {"cluster:\n  labels: a=1,a=2\n", "label 'a' given twice"},
    {"cluster:\n  labels: a=b c\n", "label 'a': a value of letters"},
    {"cluster:\n  nodeid: x\n", "cluster.nodeid (line 2): unknown key "
          "(known in cluster: node_id, api_url, labels, lease_ms, tick_ms)"},
  };

  g_assert_null (d->cluster_node_id);
  g_assert_null (d->cluster_labels);
  g_assert_cmpint (d->cluster_lease_ms, ==, 3000);
  g_assert_cmpint (d->cluster_tick_ms, ==, 500);
  for (MrConfig * c = y;; c = k) {
    g_assert_cmpstr (c->cluster_node_id, ==, "edge-1");
    g_assert_cmpstr (c->cluster_api_url, ==, "http://10.0.0.11:8080");
    g_assert_cmpstr (c->cluster_labels, ==, "site=paris,vip=a");
    g_assert_cmpint (c->cluster_lease_ms, ==, 4000);
    g_assert_cmpint (c->cluster_tick_ms, ==, 250);
    if (c == k)
      break;
  }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *message = load_error (cases[i].yaml);

    if (!strstr (message, cases[i].want))
      g_error ("case %u: '%s' does not contain '%s'", i, message,
          cases[i].want);
  }
  g_assert_true (mr_config_node_id_valid ("n1.edge_2-b"));
  g_assert_false (mr_config_node_id_valid (""));
  g_assert_false (mr_config_node_id_valid ("a/b"));
}

/* A secret in the wrong shape is named, never shown */
static void
test_secret_not_shown (void)
{
  g_autofree gchar *m1 = load_error ("telegram:\n  bot_token: [\"tok-1\"]\n");
  g_autofree gchar *m2 = load_error ("api:\n  api_key: {k: key-2}\n");

  g_assert_nonnull (strstr (m1, "telegram.bot_token (line 2)"));
  g_assert_null (strstr (m1, "tok-1"));
  g_assert_nonnull (strstr (m2, "api.api_key (line 2)"));
  g_assert_null (strstr (m2, "key-2"));

  {
    g_autofree gchar *m3 = load_error ("storage:\n  dsn: mysql://u:pw-3@x\n");

    g_assert_nonnull (strstr (m3, "storage.dsn (line 2)"));
    g_assert_null (strstr (m3, "pw-3"));
  }
}

/* Only *.yaml and *.yml are YAML: a YAML text under another name is a key
 * file that fails, with a hint */
static void
test_choice_by_name (void)
{
  g_autofree gchar *path = write_file ("config.conf", "api:\n  port: 1\n");
  g_autoptr (MrConfig) c = mr_config_new_default ();
  g_autoptr (GError) error = NULL;

  g_assert_false (mr_config_load_file (c, path, &error));
  g_assert_nonnull (strstr (error->message, "only files named *.yaml or "
          "*.yml are read as YAML"));
}

static void
test_default_path (void)
{
  g_autofree gchar *cwd = g_get_current_dir ();
  g_autofree gchar *dir = g_build_filename (tmpdir, "cwd", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (g_chdir (dir), ==, 0);

  g_assert_null (mr_config_default_path (&error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents ("mroute.conf", "", -1, NULL));
  g_assert_cmpstr (mr_config_default_path (&error), ==, "mroute.conf");
  g_assert_true (g_file_set_contents ("config.yaml", "", -1, NULL));
  g_assert_null (mr_config_default_path (&error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "choose one with --config"));
  g_clear_error (&error);
  g_assert_cmpint (g_unlink ("mroute.conf"), ==, 0);
  g_assert_cmpstr (mr_config_default_path (&error), ==, "config.yaml");
  g_assert_no_error (error);

  g_unlink ("config.yaml");
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("mroute-settings-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/settings-yaml/seed-example", test_seed_example);
  g_test_add_func ("/settings-yaml/ffmpeg-maps-to-gstreamer",
      test_ffmpeg_maps_to_gstreamer);
  g_test_add_func ("/settings-yaml/read-interval", test_read_interval);
  g_test_add_func ("/settings-yaml/key-file-sections", test_key_file_sections);
  g_test_add_func ("/settings-yaml/null-keeps-default",
      test_null_keeps_default);
  g_test_add_func ("/settings-yaml/refusals", test_refusals);
  g_test_add_func ("/settings-yaml/secret-not-shown", test_secret_not_shown);
  g_test_add_func ("/settings-yaml/cluster-section", test_cluster_section);
  g_test_add_func ("/settings-yaml/choice-by-name", test_choice_by_name);
  g_test_add_func ("/settings-yaml/default-path", test_default_path);
  status = g_test_run ();

  {
    g_autoptr (GDir) d = g_dir_open (tmpdir, 0, NULL);
    const gchar *name;

    while (d && (name = g_dir_read_name (d))) {
      g_autofree gchar *p = g_build_filename (tmpdir, name, NULL);

      g_unlink (p);
    }
  }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return status;
}
