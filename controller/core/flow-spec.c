/* mroute: the configuration of a flow: its model, its reading from JSON
 * (a create, storage, a PUT's partial update) and its validation.  Its
 * sources and outputs are endpoint.c's, its JSON form flow-spec-json.c's. */

#define G_LOG_DOMAIN "mroute-flow-spec"
#include "flow-spec.h"
#include "protocol-rules.h"
#include "spec-fields.h"

#include <string.h>

typedef struct
{
  gchar *field;                 /* NULL: the whole body */
} MrSpecErrorPrivate;

static void
mr_spec_error_private_init (MrSpecErrorPrivate * priv)
{
  priv->field = NULL;
}

static void
mr_spec_error_private_copy (const MrSpecErrorPrivate * src,
    MrSpecErrorPrivate * dest)
{
  dest->field = g_strdup (src->field);
}

static void
mr_spec_error_private_clear (MrSpecErrorPrivate * priv)
{
  g_clear_pointer (&priv->field, g_free);
}

G_DEFINE_EXTENDED_ERROR (MrSpecError, mr_spec_error);

void
mr_spec_error_set (GError ** error, const gchar * field, const gchar * fmt,
    ...)
{
  va_list args;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *message = NULL;
  g_autofree gchar *valid = NULL;
  GError *err;

  if (!error)
    return;
  va_start (args, fmt);
  reason = g_strdup_vprintf (fmt, args);
  va_end (args);
  /* a member name from the request may be anything: the message goes into
   * a JSON answer as it is */
  message = g_strdup_printf ("%s: %s", field ? field : "body", reason);
  err = g_error_new_literal (MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID,
      g_utf8_validate (message, -1, NULL) ? message :
      (valid = g_utf8_make_valid (message, -1)));
  if (field)
    mr_spec_error_get_private (err)->field = g_utf8_make_valid (field, -1);
  g_propagate_error (error, err);
}

static const gchar *protocol_names[] = {
  "udp", "rtp", "rtp-fec", "rist", "srt-listener", "srt-caller", "rtmp",
  "hls",
  "rtsp",
};

static const gchar *day_names[] = {
  "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
  "Sunday",
};

const gchar *
mr_day_name (gint day)
{
  return day >= 0 && day < (gint) G_N_ELEMENTS (day_names) ?
      day_names[day] : "Monday";
}

const gchar *
mr_protocol_to_string (MrProtocol protocol)
{
  if (protocol < 0 || protocol >= (gint) G_N_ELEMENTS (protocol_names))
    return "invalid";
  return protocol_names[protocol];
}

MrProtocol
mr_protocol_from_string (const gchar * str)
{
  for (guint i = 0; i < G_N_ELEMENTS (protocol_names); i++)
    if (g_strcmp0 (str, protocol_names[i]) == 0)
      return i;
  return MR_PROTOCOL_INVALID;
}

gboolean
mr_spec_invalid (GError ** error, const gchar * path, const gchar * field,
    const gchar * fmt, ...)
{
  va_list args;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *full = NULL;

  va_start (args, fmt);
  reason = g_strdup_vprintf (fmt, args);
  va_end (args);

  if (path && *path && field)
    full = g_strdup_printf ("%s.%s", path, field);
  else if (field || (path && *path))
    full = g_strdup (field ? field : path);
  mr_spec_error_set (error, full, "%s", reason);
  return FALSE;
}

void
mr_spec_add_warning (GPtrArray * warnings, gchar * warning)
{
  g_autofree gchar *owned = warning;

  if (!warnings)
    return;
  /* a body of a million unknown members must not make an answer of a
   * million lines */
  if (warnings->len < MR_SPEC_MAX_WARNINGS)
    g_ptr_array_add (warnings, g_utf8_make_valid (owned, -1));
  else if (warnings->len == MR_SPEC_MAX_WARNINGS)
    g_ptr_array_add (warnings, g_strdup_printf ("more unknown fields "
            "ignored (only the first %d are listed)", MR_SPEC_MAX_WARNINGS));
}

/* Members the API returns for a flow and a request does not set
 * (flow-spec-json.c, api/render.c): a body read back and sent again
 * carries them.  "source", which repeats "sources[0]", is
 * mr_flow_spec_from_json ()'s. */
static const gchar *const flow_read_only[] = {
  "id", "status", "created_at", "updated_at", "warnings", NULL
};

/* A member nobody reads: dropped, and said in @warnings unless it is one
 * of @read_only (NULL: none), which the API wrote itself */
void
mr_spec_ignore_member (GPtrArray * warnings, const gchar * const *read_only,
    const gchar * path, const gchar * member)
{
  if (read_only && g_strv_contains (read_only, member))
    return;
  mr_spec_add_warning (warnings, path && *path ?
      g_strdup_printf ("unknown field '%s.%s' ignored", path, member) :
      g_strdup_printf ("unknown field '%s' ignored", member));
}

gchar *
mr_spec_error_field (const GError * error)
{
  MrSpecErrorPrivate *priv;

  if (!error || !g_error_matches (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID))
    return NULL;
  priv = mr_spec_error_get_private (error);
  return priv ? g_strdup (priv->field) : NULL;
}

/* ---------------------------------------------------------------------- */
/* typed getters that say which field is wrong */

gboolean
mr_spec_get_string (JsonNode * node, const gchar * path, const gchar * field,
    gsize max_len, gchar ** out, GError ** error)
{
  const gchar *s;

  /* null never comes here: a member that is null is not given */
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return mr_spec_invalid (error, path, field, "must be a string");
  s = json_node_get_string (node);
  if (!g_utf8_validate (s, -1, NULL))
    return mr_spec_invalid (error, path, field, "must be valid UTF-8");
  if ((gsize) g_utf8_strlen (s, -1) > max_len)
    return mr_spec_invalid (error, path, field, "must be at most %"
        G_GSIZE_FORMAT " characters", max_len);
  g_free (*out);
  *out = g_strdup (s);
  return TRUE;
}

gboolean
mr_spec_get_int (JsonNode * node, const gchar * path, const gchar * field,
    gint64 min, gint64 max, gint64 * out, GError ** error)
{
  gint64 v;

  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return mr_spec_invalid (error, path, field, "must be an integer between %"
        G_GINT64_FORMAT " and %" G_GINT64_FORMAT, min, max);
  v = json_node_get_int (node);
  if (v < min || v > max)
    return mr_spec_invalid (error, path, field, "must be an integer between %"
        G_GINT64_FORMAT " and %" G_GINT64_FORMAT, min, max);
  *out = v;
  return TRUE;
}

gboolean
mr_spec_get_seconds (JsonNode * node, const gchar * path,
    const gchar * field, gdouble min, gdouble max, gdouble * out,
    GError ** error)
{
  GType type;
  gdouble v;

  if (!JSON_NODE_HOLDS_VALUE (node))
    goto invalid;
  type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    goto invalid;
  v = json_node_get_double (node);
  if (!(v >= min && v <= max))
    goto invalid;
  *out = v;
  return TRUE;

invalid:
  return mr_spec_invalid (error, path, field, "must be a number of seconds "
      "between %g and %g", min, max);
}

gboolean
mr_spec_get_bool (JsonNode * node, const gchar * path, const gchar * field,
    gboolean * out, GError ** error)
{
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return mr_spec_invalid (error, path, field, "must be true or false");
  *out = json_node_get_boolean (node);
  return TRUE;
}

JsonObject *
mr_spec_get_object (JsonNode * node, const gchar * path, const gchar * field,
    GError ** error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    mr_spec_invalid (error, path, field, "must be an object");
    return NULL;
  }
  return json_node_get_object (node);
}

/* ---------------------------------------------------------------------- */
/* flows */

static MrFlowSpec *
flow_spec_new (void)
{
  MrFlowSpec *spec = g_new0 (MrFlowSpec, 1);

  spec->sources = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_endpoint_free);
  spec->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_endpoint_free);
  spec->failover_mode = MR_FAILOVER_MODE_FAILOVER;
  spec->redundancy = 1;
  spec->recovery_window = 100;
  spec->thumbnail_interval_sec = 5;
  spec->black_threshold_sec = MR_CONTENT_THRESHOLD_DEFAULT;
  spec->frozen_threshold_sec = MR_CONTENT_THRESHOLD_DEFAULT;
  spec->silent_threshold_sec = MR_CONTENT_THRESHOLD_DEFAULT;
  spec->recording_segment_duration = MR_RECORDING_DEFAULT_SEGMENT_DURATION;
  spec->recording_delete_after = MR_RECORDING_DEFAULT_DELETE_AFTER;
  return spec;
}

MrFlowSpec *
mr_flow_spec_copy (const MrFlowSpec * spec)
{
  MrFlowSpec *c = flow_spec_new ();
  GPtrArray *sources = c->sources, *outputs = c->outputs;

  *c = *spec;
  c->sources = sources;
  c->outputs = outputs;
  c->id = g_strdup (spec->id);
  c->name = g_strdup (spec->name);
  c->description = g_strdup (spec->description);
  c->primary_source = g_strdup (spec->primary_source);
  c->recording_folder = g_strdup (spec->recording_folder);
  for (guint i = 0; i < spec->sources->len; i++)
    g_ptr_array_add (c->sources, mr_endpoint_copy (spec->sources->pdata[i]));
  for (guint i = 0; i < spec->outputs->len; i++)
    g_ptr_array_add (c->outputs, mr_endpoint_copy (spec->outputs->pdata[i]));
  return c;
}

MrFlowSpec *
mr_flow_spec_for_leg (const MrFlowSpec * spec, guint slot)
{
  MrFlowSpec *c = mr_flow_spec_copy (spec);

  g_return_val_if_fail (slot < MR_MAX_LEGS, c);
  for (guint i = 0; i < c->outputs->len; i++) {
    MrEndpoint *out = c->outputs->pdata[i];

    if (!mr_endpoint_has_legs (out))
      continue;
    g_free (out->destination);
    out->destination = g_strdup (out->legs[slot].address);
    out->port = out->legs[slot].port;
  }
  return c;
}

void
mr_flow_spec_free (MrFlowSpec * spec)
{
  if (!spec)
    return;
  g_free (spec->id);
  g_free (spec->name);
  g_free (spec->description);
  g_free (spec->primary_source);
  g_free (spec->recording_folder);
  g_ptr_array_unref (spec->sources);
  g_ptr_array_unref (spec->outputs);
  g_free (spec);
}

static gboolean
parse_redundancy (MrFlowSpec * spec, JsonNode * node, GError ** error)
{
  gint64 n;

  if (!mr_spec_get_int (node, NULL, "redundancy", 1, MR_MAX_REDUNDANCY, &n,
          error))
    return FALSE;
  spec->redundancy = n;
  return TRUE;
}

static gboolean
parse_failover (MrFlowSpec * spec, JsonNode * node, GPtrArray * warnings,
    GError ** error)
{
  const gchar *path = "source_failover_config";
  JsonObject *obj;
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v;
  gint64 n;

  if (!(obj = mr_spec_get_object (node, NULL, path, error)))
    return FALSE;
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    g_autofree gchar *s = NULL;

    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given */
    if (g_str_equal (m, "state")) {
      if (!mr_spec_get_string (v, path, m, 16, &s, error))
        return FALSE;
      if (g_strcmp0 (s, "ENABLED") == 0)
        spec->failover_enabled = TRUE;
      else if (g_strcmp0 (s, "DISABLED") == 0)
        spec->failover_enabled = FALSE;
      else
        return mr_spec_invalid (error, path, m, "must be ENABLED or DISABLED");
    } else if (g_str_equal (m, "failover_mode")) {
      if (!mr_spec_get_string (v, path, m, 16, &s, error))
        return FALSE;
      if (g_strcmp0 (s, "FAILOVER") == 0)
        spec->failover_mode = MR_FAILOVER_MODE_FAILOVER;
      else if (g_strcmp0 (s, "MERGE") == 0)
        spec->failover_mode = MR_FAILOVER_MODE_MERGE;
      else
        return mr_spec_invalid (error, path, m, "must be FAILOVER or MERGE");
    } else if (g_str_equal (m, "recovery_window")) {
      if (!mr_spec_get_int (v, path, m, 10, 10000, &n, error))
        return FALSE;
      spec->recovery_window = n;
    } else if (g_str_equal (m, "source_priority")) {
      g_autofree gchar *sub = g_strdup_printf ("%s.%s", path, m);
      JsonObject *po;
      JsonObjectIter pi;
      const gchar *pm;
      JsonNode *pv;

      if (!(po = mr_spec_get_object (v, path, m, error)))
        return FALSE;
      json_object_iter_init_ordered (&pi, po);
      while (json_object_iter_next_ordered (&pi, &pm, &pv)) {
        if (JSON_NODE_HOLDS_NULL (pv))
          continue;             /* not given */
        if (!g_str_equal (pm, "primary_source"))
          mr_spec_ignore_member (warnings, NULL, sub, pm);
        else if (!mr_spec_get_string (pv, sub, pm, 64, &spec->primary_source,
                error))
          return FALSE;
      }
    } else {
      mr_spec_ignore_member (warnings, NULL, path, m);
    }
  }
  return TRUE;
}

static gboolean
parse_monitor (MrFlowSpec * spec, JsonNode * node, GPtrArray * warnings,
    GError ** error)
{
  const gchar *path = "source_monitor_config";
  JsonObject *obj;
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v;
  gint64 n;

  if (!(obj = mr_spec_get_object (node, NULL, path, error)))
    return FALSE;
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given */
    if (g_str_equal (m, "thumbnail_enabled")) {
      if (!mr_spec_get_bool (v, path, m, &spec->thumbnail_enabled, error))
        return FALSE;
    } else if (g_str_equal (m, "content_quality_enabled")) {
      if (!mr_spec_get_bool (v, path, m, &spec->content_quality_enabled, error))
        return FALSE;
    } else if (g_str_equal (m, "thumbnail_interval_sec")) {
      if (!mr_spec_get_int (v, path, m, 1, 3600, &n, error))
        return FALSE;
      spec->thumbnail_interval_sec = n;
    } else if (g_str_equal (m, "black_threshold_sec")) {
      if (!mr_spec_get_seconds (v, path, m, MR_CONTENT_THRESHOLD_MIN,
              MR_CONTENT_THRESHOLD_MAX, &spec->black_threshold_sec, error))
        return FALSE;
    } else if (g_str_equal (m, "frozen_threshold_sec")) {
      if (!mr_spec_get_seconds (v, path, m, MR_CONTENT_THRESHOLD_MIN,
              MR_CONTENT_THRESHOLD_MAX, &spec->frozen_threshold_sec, error))
        return FALSE;
    } else if (g_str_equal (m, "silent_threshold_sec")) {
      if (!mr_spec_get_seconds (v, path, m, MR_CONTENT_THRESHOLD_MIN,
              MR_CONTENT_THRESHOLD_MAX, &spec->silent_threshold_sec, error))
        return FALSE;
    } else {
      mr_spec_ignore_member (warnings, NULL, path, m);
    }
  }
  return TRUE;
}

static gboolean
parse_maintenance (MrFlowSpec * spec, JsonNode * node, GPtrArray * warnings,
    GError ** error)
{
  const gchar *path = "maintenance_window";
  JsonObject *obj;
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v;
  gint64 n;
  gboolean have_day = FALSE, have_hour = FALSE;

  if (!(obj = mr_spec_get_object (node, NULL, path, error)))
    return FALSE;
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given */
    if (g_str_equal (m, "day_of_week")) {
      g_autofree gchar *s = NULL;
      gint day = -1;

      if (!mr_spec_get_string (v, path, m, 16, &s, error))
        return FALSE;
      for (guint i = 0; s && i < G_N_ELEMENTS (day_names); i++)
        if (g_ascii_strcasecmp (s, day_names[i]) == 0)
          day = i;
      if (day < 0)
        return mr_spec_invalid (error, path, m, "must be a day name, "
            "Monday to Sunday");
      spec->maintenance_day = day;
      have_day = TRUE;
    } else if (g_str_equal (m, "start_hour")) {
      if (!mr_spec_get_int (v, path, m, 0, 23, &n, error))
        return FALSE;
      spec->maintenance_hour = n;
      have_hour = TRUE;
    } else {
      mr_spec_ignore_member (warnings, NULL, path, m);
    }
  }
  if (!have_day)
    return mr_spec_invalid (error, path, "day_of_week", "is required");
  if (!have_hour)
    return mr_spec_invalid (error, path, "start_hour", "is required");
  spec->has_maintenance = TRUE;
  return TRUE;
}

static gboolean
parse_time (JsonNode * node, const gchar * field, gint64 * out,
    GError ** error)
{
  g_autoptr (GDateTime) dt = NULL;
  g_autoptr (GDateTime) utc = NULL;

  /* in UTC too, as mr_format_time() writes it: "0001-01-01T00:00:00+05:00"
   * is a year 0 that would come back as 1970 */
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING
      || !(dt = g_date_time_new_from_iso8601 (json_node_get_string (node),
              NULL))
      || !(utc = g_date_time_to_utc (dt)))
    return mr_spec_invalid (error, NULL, field, "must be an ISO 8601 time");
  *out = g_date_time_to_unix (dt) * G_USEC_PER_SEC +
      g_date_time_get_microsecond (dt);
  return TRUE;
}

/* The endpoints of the array @node (the member @field) from its element
 * @first on, appended to @into */
static gboolean
parse_endpoints (GPtrArray * into, JsonNode * node, const gchar * field,
    MrEndpointRole role, guint first, GPtrArray * warnings, GError ** error)
{
  guint max = role == MR_ENDPOINT_SOURCE ? MR_MAX_SOURCES : MR_MAX_OUTPUTS;
  JsonArray *arr;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return mr_spec_invalid (error, NULL, field, "must be an array");
  arr = json_node_get_array (node);
  if (json_array_get_length (arr) > max)
    return mr_spec_invalid (error, NULL, field, "a flow has at most %u %s",
        max, field);
  for (guint i = first; i < json_array_get_length (arr); i++) {
    g_autofree gchar *path = g_strdup_printf ("%s[%u]", field, i);
    MrEndpoint *ep = mr_endpoint_from_json (json_array_get_element (arr, i),
        role, path, warnings, error);

    if (!ep)
      return FALSE;
    g_ptr_array_add (into, ep);
  }
  return TRUE;
}

MrFlowSpec *
mr_flow_spec_from_json (JsonNode * node, MrSpecParseMode mode,
    GPtrArray * warnings, GError ** error)
{
  g_autoptr (MrFlowSpec) spec = flow_spec_new ();
  JsonObject *obj;
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v;
  JsonNode *source = NULL, *sources = NULL;
  g_autoptr (MrEndpoint) first = NULL;
  g_autoptr (GPtrArray) others = g_ptr_array_new_with_free_func
      ((GDestroyNotify) mr_endpoint_free);

  if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID,
        "body: must be a JSON object");
    return NULL;
  }
  obj = json_node_get_object (node);
  /* A request names its first source in "source" (the seed) or gives them
   * all in "sources"; a flow's answer has both, "source" repeating
   * "sources[0]".  Given both, "source" is the first source and "sources"
   * after its first element the others: a body read back is sent again
   * whole, and a client that knows only the seed's "source" and changed it
   * is taken at its word (a "sources[0]" that then differs is a warning).
   * Stored flows keep "sources" only. */
  if (mode == MR_SPEC_PARSE_REQUEST && json_object_has_member (obj, "source")
      && !JSON_NODE_HOLDS_NULL (json_object_get_member (obj, "source")))
    source = json_object_get_member (obj, "source");

  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given */
    if (g_str_equal (m, "name")) {
      if (!mr_spec_get_string (v, NULL, m, 256, &spec->name, error))
        return NULL;
    } else if (g_str_equal (m, "description")) {
      if (!mr_spec_get_string (v, NULL, m, 4096, &spec->description, error))
        return NULL;
    } else if (g_str_equal (m, "redundancy")) {
      if (!parse_redundancy (spec, v, error))
        return NULL;
    } else if (g_str_equal (m, "source")) {
      if (source && !(first = mr_endpoint_from_json (v, MR_ENDPOINT_SOURCE,
                  m, warnings, error)))
        return NULL;
    } else if (g_str_equal (m, "sources")) {
      if (!parse_endpoints (others, v, m, MR_ENDPOINT_SOURCE, source ? 1 : 0,
              warnings, error))
        return NULL;
      sources = v;
    } else if (g_str_equal (m, "outputs")) {
      if (!parse_endpoints (spec->outputs, v, m, MR_ENDPOINT_OUTPUT, 0,
              warnings, error))
        return NULL;
    } else if (g_str_equal (m, "source_failover_config")) {
      if (!parse_failover (spec, v, warnings, error))
        return NULL;
    } else if (g_str_equal (m, "source_monitor_config")) {
      if (!parse_monitor (spec, v, warnings, error))
        return NULL;
    } else if (g_str_equal (m, "maintenance_window")) {
      if (!parse_maintenance (spec, v, warnings, error))
        return NULL;
    } else if (g_str_equal (m, "recording")) {
      if (!mr_flow_spec_parse_recording (spec, v, warnings, error))
        return NULL;
    } else if (mode == MR_SPEC_PARSE_STORED && g_str_equal (m, "id")) {
      if (!mr_spec_get_string (v, NULL, m, 64, &spec->id, error))
        return NULL;
    } else if (mode == MR_SPEC_PARSE_STORED && g_str_equal (m, "created_at")) {
      if (!parse_time (v, m, &spec->created_at, error))
        return NULL;
    } else if (mode == MR_SPEC_PARSE_STORED && g_str_equal (m, "updated_at")) {
      if (!parse_time (v, m, &spec->updated_at, error))
        return NULL;
    } else {
      /* "status" is derived, not stored state */
      mr_spec_ignore_member (warnings, flow_read_only, NULL, m);
    }
  }
  if (first)
    g_ptr_array_add (spec->sources, g_steal_pointer (&first));
  g_ptr_array_extend_and_steal (spec->sources, g_steal_pointer (&others));
  if (source && sources && json_array_get_length (json_node_get_array
          (sources)) > 0 && !json_node_equal (source,
          json_array_get_element (json_node_get_array (sources), 0)))
    mr_spec_add_warning (warnings, g_strdup ("'sources[0]' ignored: "
            "'source' gives the first source"));

  if (!spec->name || !*spec->name) {
    mr_spec_invalid (error, NULL, "name", "is required");
    return NULL;
  }
  if (spec->sources->len == 0) {
    mr_spec_invalid (error, NULL, "source", "is required");
    return NULL;
  }
  if (!mr_flow_spec_validate (spec, error))
    return NULL;
  return g_steal_pointer (&spec);
}

/* @member (source, sources or outputs) of a PUT of a flow is what the
 * flow's answer says: a body read back and sent again */
static gboolean
same_as_flow (const MrFlowSpec * spec, const gchar * member, JsonNode * given)
{
  g_autoptr (JsonNode) flow = mr_flow_spec_to_json (spec, MR_SPEC_JSON_PUBLIC,
      NULL);
  JsonNode *current = json_object_get_member (json_node_get_object (flow),
      member);

  return current && json_node_equal (current, given);
}

/* A window patched member by member: the members of @patch over the
 * window @spec has (none: @patch as it is, which then needs both) */
static JsonNode *
maintenance_over (const MrFlowSpec * spec, JsonNode * patch)
{
  g_autoptr (JsonBuilder) b = NULL;
  JsonObject *obj;
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v, *day, *hour;

  if (!spec->has_maintenance || !JSON_NODE_HOLDS_OBJECT (patch))
    return json_node_ref (patch);
  obj = json_node_get_object (patch);
  day = json_object_get_member (obj, "day_of_week");
  hour = json_object_get_member (obj, "start_hour");
  b = json_builder_new ();
  json_builder_begin_object (b);
  if (!day || JSON_NODE_HOLDS_NULL (day)) {
    json_builder_set_member_name (b, "day_of_week");
    json_builder_add_string_value (b, mr_day_name (spec->maintenance_day));
  }
  if (!hour || JSON_NODE_HOLDS_NULL (hour)) {
    json_builder_set_member_name (b, "start_hour");
    json_builder_add_int_value (b, spec->maintenance_hour);
  }
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given: the window's stays */
    json_builder_set_member_name (b, m);
    json_builder_add_value (b, json_node_copy (v));
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

MrFlowSpec *
mr_flow_spec_patch (const MrFlowSpec * spec, JsonNode * patch,
    GPtrArray * warnings, GError ** error)
{
  g_autoptr (MrFlowSpec) c = NULL;
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v;

  if (!patch || !JSON_NODE_HOLDS_OBJECT (patch)) {
    g_set_error (error, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID,
        "body: must be a JSON object");
    return NULL;
  }
  c = mr_flow_spec_copy (spec);
  /* the members a create takes for the flow's own fields, read by the same
   * code, so that a value gets the same answer; an object member is
   * applied onto what the flow has */
  json_object_iter_init_ordered (&iter, json_node_get_object (patch));
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given */
    if (g_str_equal (m, "name")) {
      if (!mr_spec_get_string (v, NULL, m, 256, &c->name, error))
        return NULL;
    } else if (g_str_equal (m, "description")) {
      if (!mr_spec_get_string (v, NULL, m, 4096, &c->description, error))
        return NULL;
    } else if (g_str_equal (m, "redundancy")) {
      if (!parse_redundancy (c, v, error))
        return NULL;
    } else if (g_str_equal (m, "source_failover_config")) {
      if (!parse_failover (c, v, warnings, error))
        return NULL;
    } else if (g_str_equal (m, "source_monitor_config")) {
      if (!parse_monitor (c, v, warnings, error))
        return NULL;
    } else if (g_str_equal (m, "maintenance_window")) {
      g_autoptr (JsonNode) window = maintenance_over (c, v);

      if (!parse_maintenance (c, window, warnings, error))
        return NULL;
    } else if (g_str_equal (m, "recording")) {
      /* member by member onto the flow's */
      if (!mr_flow_spec_parse_recording (c, v, warnings, error))
        return NULL;
    } else if (g_str_equal (m, "source") || g_str_equal (m, "sources")) {
      /* routes of their own: the flow's as read back pass without a word,
       * others are said not to be taken */
      if (!same_as_flow (spec, m, v))
        mr_spec_add_warning (warnings, g_strdup_printf ("'%s' ignored: a "
                "flow's sources change through POST /v1/flows/{id}/source "
                "and DELETE /v1/flows/{id}/source/{name}", m));
    } else if (g_str_equal (m, "outputs")) {
      if (!same_as_flow (spec, m, v))
        mr_spec_add_warning (warnings, g_strdup ("'outputs' ignored: a "
                "flow's outputs change through POST /v1/flows/{id}/outputs "
                "and PUT or DELETE /v1/flows/{id}/outputs/{name}"));
    } else {
      /* id, status, times: the flow keeps its own */
      mr_spec_ignore_member (warnings, flow_read_only, NULL, m);
    }
  }
  /* the rules of a create: a name, and the whole flow valid */
  if (!c->name || !*c->name) {
    mr_spec_invalid (error, NULL, "name", "is required");
    return NULL;
  }
  if (!mr_flow_spec_validate (c, error))
    return NULL;
  return g_steal_pointer (&c);
}

static gboolean
check_unique (GPtrArray * eps, const gchar * what, GError ** error)
{
  for (guint i = 0; i < eps->len; i++) {
    MrEndpoint *a = eps->pdata[i];
    for (guint j = 0; j < i; j++) {
      MrEndpoint *b = eps->pdata[j];
      if (g_str_equal (a->name, b->name)) {
        g_autofree gchar *path = g_strdup_printf ("%s[%u]", what, i);
        return mr_spec_invalid (error, path, "name",
            "'%s' is used twice in %s", a->name, what);
      }
    }
  }
  return TRUE;
}

gboolean
mr_flow_spec_validate (const MrFlowSpec * spec, GError ** error)
{
  if (spec->sources->len == 0)
    return mr_spec_invalid (error, NULL, "source", "is required");
  if (spec->sources->len > MR_MAX_SOURCES)
    return mr_spec_invalid (error, NULL, "sources",
        "a flow has at most %d sources", MR_MAX_SOURCES);
  if (spec->outputs->len > MR_MAX_OUTPUTS)
    return mr_spec_invalid (error, NULL, "outputs",
        "a flow has at most %d outputs", MR_MAX_OUTPUTS);
  if (!check_unique (spec->sources, "sources", error)
      || !check_unique (spec->outputs, "outputs", error))
    return FALSE;
  /* one rtsp mount per path */
  for (guint i = 0; i < spec->outputs->len; i++) {
    MrEndpoint *a = spec->outputs->pdata[i];
    for (guint j = 0; a->path && j < i; j++) {
      MrEndpoint *b = spec->outputs->pdata[j];
      if (b->path && g_str_equal (a->path, b->path)) {
        g_autofree gchar *where = g_strdup_printf ("outputs[%u]", i);
        return mr_spec_invalid (error, where, "path",
            "'%s' is already served by output '%s'", a->path, b->name);
      }
    }
  }

  /* two sources of one flow cannot listen on the same port, but for two
   * multicast groups and two SRT routes (stream ids) */
  if (spec->sources->len == 2) {
    MrEndpoint *a = spec->sources->pdata[0], *b = spec->sources->pdata[1];
    gboolean clash = TRUE;

    /* rtmp listeners share a port, by stream key */
    if (mr_endpoint_rtmp_same_port (a, b, &clash) && !clash)
      ;
    else if (a->ingest_port && a->ingest_port == b->ingest_port
        && !mr_multicast_can_share_port (a, b)
        && !mr_srt_can_share_port (a, b)) {
      if (a->protocol == MR_PROTOCOL_SRT_LISTENER
          && b->protocol == MR_PROTOCOL_SRT_LISTENER && a->stream_id
          && g_strcmp0 (a->stream_id, b->stream_id) == 0)
        return mr_spec_invalid (error, "sources[1]", "stream_id",
            "'%s' is already the stream_id of source '%s' on ingest_port %d",
            b->stream_id, a->name, b->ingest_port);
      return mr_spec_invalid (error, "sources[1]", "ingest_port",
          "%d is already used by source '%s'%s", b->ingest_port, a->name,
          a->protocol == MR_PROTOCOL_SRT_LISTENER
          && b->protocol == MR_PROTOCOL_SRT_LISTENER ? " (srt-listener "
          "sources share a port only when each has its own stream_id)" : "");
    }
  }

  if (spec->primary_source
      && !mr_flow_spec_find_source (spec, spec->primary_source, NULL))
    return mr_spec_invalid (error, "source_failover_config.source_priority",
        "primary_source", "'%s' is not a source of this flow",
        spec->primary_source);

  /* legs are the two slots' destinations: a flow that runs once has one */
  for (guint i = 0; i < spec->outputs->len; i++) {
    MrEndpoint *out = spec->outputs->pdata[i];

    if (mr_endpoint_has_legs (out) && spec->redundancy < MR_MAX_LEGS) {
      g_autofree gchar *path = g_strdup_printf ("outputs[%u]", i);
      return mr_spec_invalid (error, path, "legs", "are only used by a flow "
          "with redundancy %d (this one has %d): give the flow "
          "\"redundancy\": %d, or the output a destination and port",
          MR_MAX_LEGS, spec->redundancy, MR_MAX_LEGS);
    }
  }

  if (spec->failover_mode == MR_FAILOVER_MODE_MERGE) {
    for (guint i = 0; i < spec->sources->len; i++) {
      MrEndpoint *ep = spec->sources->pdata[i];
      const MrProtocolRules *rules = mr_protocol_rules_get (ep->protocol);

      if (!rules || !rules->mergeable) {
        g_autofree gchar *path = g_strdup_printf ("sources[%u]", i);
        return mr_spec_invalid (error, path, "protocol", "MERGE mode needs "
            "rtp, rtp-fec or rist sources, not %s",
            mr_protocol_to_string (ep->protocol));
      }
    }
  }
  return TRUE;
}

MrEndpoint *
mr_flow_spec_find_source (const MrFlowSpec * spec, const gchar * name,
    guint * index)
{
  for (guint i = 0; i < spec->sources->len; i++) {
    MrEndpoint *ep = spec->sources->pdata[i];
    if (g_strcmp0 (ep->name, name) == 0) {
      if (index)
        *index = i;
      return ep;
    }
  }
  return NULL;
}

MrEndpoint *
mr_flow_spec_find_output (const MrFlowSpec * spec, const gchar * name,
    guint * index)
{
  for (guint i = 0; i < spec->outputs->len; i++) {
    MrEndpoint *ep = spec->outputs->pdata[i];
    if (g_strcmp0 (ep->name, name) == 0) {
      if (index)
        *index = i;
      return ep;
    }
  }
  return NULL;
}

