/* mroute: the files of a flow (docs/protocols.md, HLS;
 * docs/recording.md): where an hls output's files and a recording are,
 * which names of them may be served, what goes when a flow is deleted, and
 * the retention timer. */

#define G_LOG_DOMAIN "mroute-manager"
#include "manager-private.h"

#include "core/core.h"
#include "pipeline/pipeline.h"

#include <glib/gstdio.h>

#define RETENTION_INTERVAL_SEC 60

static guint
retention_interval (void)
{
  /* for tests only (docs/recording.md) */
  const gchar *s = g_getenv ("MROUTE_TEST_RETENTION_INTERVAL_SEC");
  guint64 n;

  if (s && g_ascii_string_to_unsigned (s, 10, 1, 3600, &n, NULL))
    return n;
  return RETENTION_INTERVAL_SEC;
}

static gboolean
retention_check (gpointer user_data)
{
  MrManager *mgr = user_data;
  g_autoptr (GPtrArray) specs = g_ptr_array_new ();

  for (guint i = 0; i < mgr->flows->len; i++)
    g_ptr_array_add (specs, ((MrFlow *) mgr->flows->pdata[i])->spec);
  mr_flows_apply_retention (specs, mgr->recordings_root);
  return G_SOURCE_CONTINUE;
}

static void
retention_once (gpointer user_data)
{
  MrManager *mgr = user_data;

  mgr->retention_idle = 0;
  retention_check (mgr);
}

void
mr_manager_start_retention (MrManager * mgr)
{
  /* at start (once the flows are back: the first idle) and then on a
   * timer; tests shorten it (docs/recording.md) */
  mgr->retention_idle = g_idle_add_once (retention_once, mgr);
  mgr->retention_timer = g_timeout_add_seconds (retention_interval (),
      retention_check, mgr);
}

/* A name the HLS output wrote: its playlist or a segment, never a path */
static gboolean
hls_file_name_ok (const gchar * name)
{
  if (g_strcmp0 (name, "index.m3u8") == 0)
    return TRUE;
  if (!g_str_has_suffix (name, ".ts") || name[0] == '.')
    return FALSE;
  for (const gchar * p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

gchar *
mr_manager_hls_file (MrManager * mgr, const gchar * id, const gchar * output,
    const gchar * name, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);
  MrEndpoint *out;
  g_autofree gchar *hls = NULL;
  gchar *path;

  if (!flow)
    return NULL;
  out = mr_flow_spec_find_output (flow->spec, output, NULL);
  if (!out || out->protocol != MR_PROTOCOL_HLS) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "flow %s has no hls output '%s'", id, output);
    return NULL;
  }
  /* the output's name passed the spec's rules (A-Z a-z 0-9 _ - .) and is
   * the flow's own; the file's must be one the output writes */
  if (!hls_file_name_ok (name) || g_str_equal (output, "..")
      || g_str_equal (output, ".")) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "no such file '%s'", name);
    return NULL;
  }
  hls = mr_config_data_path (mgr->config, "hls");
  path = g_build_filename (hls, flow->spec->id, output, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "no such file '%s' (yet): is the flow running?", name);
    g_free (path);
    return NULL;
  }
  return path;
}

gchar *
mr_manager_recording_dir (MrManager * mgr, const gchar * id, GError ** error)
{
  MrFlow *flow = mr_manager_lookup (mgr, id, error);

  return flow ? mr_flow_spec_recording_dir (flow->spec, mgr->recordings_root)
      : NULL;
}

/* A stopped flow's hls outputs leave their last files (a start empties
 * them); a deleted flow's go.  Its recordings stay (docs/recording.md). */
void
mr_manager_remove_hls_files (MrManager * mgr, const MrFlowSpec * spec)
{
  g_autofree gchar *hls = mr_config_data_path (mgr->config, "hls");
  g_autofree gchar *flow_dir = g_build_filename (hls, spec->id, NULL);

  for (guint i = 0; i < spec->outputs->len; i++) {
    const MrEndpoint *out = spec->outputs->pdata[i];
    const MrTransport *t = mr_transport_get (out->protocol);

    if (t && t->writes_files) {
      g_autofree gchar *dir = g_build_filename (flow_dir, out->name, NULL);

      mr_transport_remove_files (dir);
    }
  }
  g_rmdir (flow_dir);
}

