/* mroute core: a flow's "recording" object (docs/recording.md):
 *
 *   "recording": {"enabled": true, "segment_duration": 60,
 *                 "folder": "/srv/rec", "delete_after": 604800}
 *
 * enabled (default false); segment_duration in seconds (1-3600, default
 * 60: a segment is cut at the first key frame after it); folder, an
 * absolute path (default: recordings/ beside the database; the flow's
 * segments go in a folder of its id below it); delete_after in seconds
 * (0: never; default 7 days).  Read member by member onto the flow's (a
 * PUT changes only what it gives). */

#include "spec-fields.h"
#include "protocol-rules.h"

#include <string.h>

#define PATH "recording"

gboolean
mr_flow_spec_parse_recording (MrFlowSpec * spec, JsonNode * node,
    GPtrArray * warnings, GError ** error)
{
  JsonObject *obj;
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v;
  gint64 n;

  if (!(obj = mr_spec_get_object (node, NULL, PATH, error)))
    return FALSE;
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given */
    if (g_str_equal (m, "enabled")) {
      if (!mr_spec_get_bool (v, PATH, m, &spec->recording_enabled, error))
        return FALSE;
    } else if (g_str_equal (m, "segment_duration")) {
      if (!mr_spec_get_int (v, PATH, m, 1, 3600, &n, error))
        return FALSE;
      spec->recording_segment_duration = n;
    } else if (g_str_equal (m, "delete_after")) {
      /* up to ten years */
      if (!mr_spec_get_int (v, PATH, m, 0, 10 * 366 * 24 * 3600, &n, error))
        return FALSE;
      spec->recording_delete_after = n;
    } else if (g_str_equal (m, "folder")) {
      g_autofree gchar *folder = NULL;

      if (!mr_spec_get_string (v, PATH, m, 1024, &folder, error))
        return FALSE;
      if (!g_path_is_absolute (folder))
        return mr_spec_invalid (error, PATH, m, "must be an absolute path");
      if (strstr (folder, "/../") || g_str_has_suffix (folder, "/.."))
        return mr_spec_invalid (error, PATH, m, "must not go up with '..'");
      g_free (spec->recording_folder);
      spec->recording_folder = g_steal_pointer (&folder);
    } else {
      mr_spec_ignore_member (warnings, NULL, PATH, m);
    }
  }
  return TRUE;
}

void
mr_flow_spec_write_recording (const MrFlowSpec * spec, JsonBuilder * b)
{
  json_builder_set_member_name (b, PATH);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, spec->recording_enabled);
  json_builder_set_member_name (b, "segment_duration");
  json_builder_add_int_value (b, spec->recording_segment_duration);
  if (spec->recording_folder) {
    json_builder_set_member_name (b, "folder");
    json_builder_add_string_value (b, spec->recording_folder);
  }
  json_builder_set_member_name (b, "delete_after");
  json_builder_add_int_value (b, spec->recording_delete_after);
  json_builder_end_object (b);
}

gchar *
mr_flow_spec_recording_dir (const MrFlowSpec * spec,
    const gchar * default_root)
{
  return g_build_filename (spec->recording_folder ? spec->recording_folder :
      default_root, spec->id, NULL);
}
