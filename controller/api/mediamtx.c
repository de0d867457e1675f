/* mroute: the MediaMTX hook receiver. */

#define G_LOG_DOMAIN "mroute-mediamtx"
#include "mediamtx.h"

#include <libsoup/soup.h>
#include <string.h>

#include "core/core.h"

#define FIELD_MAX 4096

struct _MrMediamtx
{
  MrManager *manager;
  guint grace_sec;
  GHashTable *stops;            /* flow id -> MrPendingStop* */
  guint requests;               /* for the request ids of the logs */
};

typedef struct
{
  MrMediamtx *m;
  gchar *flow_id;
  guint timer;
} MrPendingStop;

typedef struct
{
  gchar *path;
  gchar *query;
  gchar *source_type;
  gchar *source_id;
} MrHook;

static void
hook_clear (MrHook * h)
{
  g_free (h->path);
  g_free (h->query);
  g_free (h->source_type);
  g_free (h->source_id);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MrHook, hook_clear);

static void
pending_stop_free (MrPendingStop * p)
{
  if (p->timer)
    g_source_remove (p->timer);
  g_free (p->flow_id);
  g_free (p);
}

MrMediamtx *
mr_mediamtx_new (MrManager * manager, guint grace_sec)
{
  MrMediamtx *m = g_new0 (MrMediamtx, 1);

  m->manager = manager;
  m->grace_sec = grace_sec;
  m->stops = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) pending_stop_free);
  return m;
}

void
mr_mediamtx_free (MrMediamtx * m)
{
  if (!m)
    return;
  g_hash_table_unref (m->stops);
  g_free (m);
}

void
mr_mediamtx_forget (MrMediamtx * m, const gchar * flow_id)
{
  if (g_hash_table_remove (m->stops, flow_id))
    g_message ("mediamtx: flow %s: scheduled stop cancelled (the flow was "
        "started, stopped or deleted by hand)", flow_id);
}

static gboolean
invalid (GError ** error, const gchar * field, const gchar * reason)
{
  mr_spec_error_set (error, field, "%s", reason);
  return FALSE;
}

/* The seed's four string fields; path required, nothing else accepted */
static gboolean
parse_hook (JsonNode * body, MrHook * h, GError ** error)
{
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *v;

  json_object_iter_init (&iter, json_node_get_object (body));
  while (json_object_iter_next (&iter, &name, &v)) {
    gchar **slot;
    const gchar *s;

    if (g_str_equal (name, "path"))
      slot = &h->path;
    else if (g_str_equal (name, "query"))
      slot = &h->query;
    else if (g_str_equal (name, "sourceType"))
      slot = &h->source_type;
    else if (g_str_equal (name, "sourceId"))
      slot = &h->source_id;
    else
      return invalid (error, name, "unknown field");
    if (JSON_NODE_HOLDS_NULL (v))
      continue;
    if (!JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_STRING)
      return invalid (error, name, "must be a string");
    s = json_node_get_string (v);
    if (strlen (s) > FIELD_MAX)
      return invalid (error, name, "longer than 4096 characters");
    *slot = g_strdup (s);
  }
  if (!h->path || !*h->path)
    return invalid (error, "path", "required");
  return TRUE;
}

/* live/<streamId>/in -> streamId, or NULL */
static gchar *
ingest_stream_id (const gchar * path)
{
  g_auto (GStrv) parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/",
      -1);

  if (g_strv_length (parts) != 3 || !g_str_equal (parts[0], "live")
      || !*parts[1] || !g_str_equal (parts[2], "in"))
    return NULL;
  return g_strdup (parts[1]);
}

static gboolean
stop_now (gpointer user_data)
{
  MrPendingStop *p = user_data;
  MrMediamtx *m = p->m;
  g_autoptr (MrFlowInfo) flow = NULL;
  g_autoptr (GError) error = NULL;

  p->timer = 0;
  g_message ("mediamtx: flow %s: stream still not ready after %u s, "
      "stopping it", p->flow_id, m->grace_sec);
  flow = mr_manager_stop_flow (m->manager, p->flow_id, &error);
  if (!flow)
    g_message ("mediamtx: flow %s: %s", p->flow_id, error->message);
  g_hash_table_remove (m->stops, p->flow_id);
  return G_SOURCE_REMOVE;
}

static gboolean
is_running (const MrFlowInfo * flow)
{
  return flow->state == MR_FLOW_STARTING || flow->state == MR_FLOW_ACTIVE;
}

static JsonNode *
answer (const gchar * action, const gchar * flow_id, const gchar * stream,
    const gchar * request_id, const gchar * detail, gint stop_in)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "action");
  json_builder_add_string_value (b, action);
  if (flow_id) {
    json_builder_set_member_name (b, "flow_id");
    json_builder_add_string_value (b, flow_id);
  }
  if (stream) {
    json_builder_set_member_name (b, "stream_id");
    json_builder_add_string_value (b, stream);
  }
  json_builder_set_member_name (b, "request_id");
  json_builder_add_string_value (b, request_id);
  if (detail) {
    json_builder_set_member_name (b, "detail");
    json_builder_add_string_value (b, detail);
  }
  if (stop_in >= 0) {
    json_builder_set_member_name (b, "stop_in_sec");
    json_builder_add_int_value (b, stop_in);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
mr_mediamtx_hook (MrMediamtx * m, gboolean ready, JsonNode * body,
    guint * status, GError ** error)
{
  const gchar *event = ready ? "ready" : "not-ready";
  g_auto (MrHook) h = { 0 };
  g_autofree gchar *stream = NULL;
  g_autofree gchar *request_id = g_strdup_printf ("mtx-%u", ++m->requests);
  g_autoptr (MrFlowInfo) flow = NULL;
  g_autofree gchar *log_path = NULL;
  g_autofree gchar *log_source = NULL;
  g_autofree gchar *log_type = NULL;
  g_autofree gchar *log_stream = NULL;
  MrPendingStop *pending;
  const gchar *id;
  guint count;

  *status = SOUP_STATUS_OK;
  if (!parse_hook (body, &h, error))
    return NULL;
  /* what goes to the log cannot forge lines */
  log_path = g_strescape (h.path, NULL);
  log_source = g_strescape (h.source_id ? h.source_id : "", NULL);
  log_type = g_strescape (h.source_type ? h.source_type : "", NULL);

  if (!(stream = ingest_stream_id (h.path))) {
    g_message ("mediamtx %s: %s path=%s sourceId=%s: not an ingest path "
        "(live/<streamId>/in), ignored", request_id, event, log_path,
        log_source);
    return answer ("ignored", NULL, NULL, request_id,
        "not an ingest path: only live/<streamId>/in starts or stops a flow",
        -1);
  }
  log_stream = g_strescape (stream, NULL);
  g_message ("mediamtx %s: %s path=%s streamId=%s sourceType=%s "
      "sourceId=%s", request_id, event, log_path, log_stream, log_type,
      log_source);

  if (!(id = mr_manager_find_by_name (m->manager, stream, &count))) {
    g_message ("mediamtx %s: no flow is named '%s': nothing started",
        request_id, log_stream);
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_NOT_FOUND,
        "no flow is named '%s' (stream of path %s): create it first, "
        "nothing is created from a hook", stream, h.path);
    return NULL;
  }
  if (count > 1) {
    g_set_error (error, MR_MANAGER_ERROR, MR_MANAGER_ERROR_CONFLICT,
        "%u flows are named '%s': rename all but one", count, stream);
    return NULL;
  }
  if (!(flow = mr_manager_get_flow (m->manager, id, error)))
    return NULL;
  pending = g_hash_table_lookup (m->stops, id);

  if (ready) {
    gboolean cancelled = pending != NULL;

    if (pending) {
      g_message ("mediamtx %s: flow %s: ready again within the grace "
          "period, not stopping it", request_id, id);
      g_hash_table_remove (m->stops, id);
    }
    if (is_running (flow))
      return answer (cancelled ? "stop_cancelled" : "already_running", id,
          stream, request_id, NULL, -1);
    g_clear_pointer (&flow, mr_flow_info_free);
    if (!(flow = mr_manager_start_flow (m->manager, id, error)))
      return NULL;
    g_message ("mediamtx %s: flow %s started for stream '%s'", request_id,
        id, stream);
    return answer ("started", id, stream, request_id, NULL, -1);
  }

  if (!is_running (flow) && !pending)
    return answer ("not_running", id, stream, request_id, NULL, -1);
  if (!pending) {
    if (m->grace_sec == 0) {
      g_clear_pointer (&flow, mr_flow_info_free);
      if (!(flow = mr_manager_stop_flow (m->manager, id, error)))
        return NULL;
      return answer ("stopped", id, stream, request_id, NULL, -1);
    }
    pending = g_new0 (MrPendingStop, 1);
    pending->m = m;
    pending->flow_id = g_strdup (id);
    pending->timer = g_timeout_add_seconds (m->grace_sec, stop_now, pending);
    g_hash_table_insert (m->stops, pending->flow_id, pending);
    g_message ("mediamtx %s: flow %s: stopping in %u s unless the stream is "
        "ready again", request_id, id, m->grace_sec);
  }
  *status = SOUP_STATUS_ACCEPTED;
  return answer ("stop_scheduled", id, stream, request_id, NULL,
      m->grace_sec);
}
