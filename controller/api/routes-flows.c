/* mroute: the routes of one flow, /v1/flows/{id} and what is under it:
 * read, edit, start and stop it, its sources and outputs, its readings
 * (metrics, monitoring, events).  A body is read into a typed spec or
 * endpoint here; the manager's answers go out through render.c. */

#define G_LOG_DOMAIN "mroute-api"
#include "api-private.h"

#include "core/core.h"
#include "render.h"

#define IS(m, name) (g_str_equal ((m), (name)))

/* The client asks for the picture itself (Accept: image/jpeg, or any
 * image type, before any JSON); the JSON with base64 stays the default,
 * for an Accept of any type too */
static gboolean
wants_jpeg (SoupServerMessage * msg)
{
  const gchar *accept = soup_message_headers_get_list
      (soup_server_message_get_request_headers (msg), "Accept");
  GSList *types;
  gboolean jpeg = FALSE;

  if (!accept)
    return FALSE;
  /* best first, without those of quality 0 */
  types = soup_header_parse_quality_list (accept, NULL);
  for (GSList * t = types; t; t = t->next) {
    const gchar *type = t->data;

    if (!g_ascii_strcasecmp (type, "image/jpeg")
        || !g_ascii_strcasecmp (type, "image/*")) {
      jpeg = TRUE;
      break;
    }
    if (!g_ascii_strcasecmp (type, "application/json")
        || !g_ascii_strcasecmp (type, "application/*")
        || !g_ascii_strcasecmp (type, "*/*"))
      break;
  }
  soup_header_free_list (types);
  return jpeg;
}

static void
respond_jpeg (SoupServerMessage * msg, const MrThumbnail * t)
{
  SoupMessageHeaders *headers =
      soup_server_message_get_response_headers (msg);
  g_autoptr (GDateTime) made =
      g_date_time_new_from_unix_utc (t->timestamp / G_USEC_PER_SEC);
  g_autofree gchar *when = g_date_time_format (made,
      "%a, %d %b %Y %H:%M:%S GMT");
  gsize size;
  gconstpointer data = g_bytes_get_data (t->jpeg, &size);

  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "Last-Modified", when);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "image/jpeg", SOUP_MEMORY_COPY,
      data, size);
}

/* GET /v1/flows/{id}/metrics, thumbnail, metadata, content-quality and
 * events: the manager's typed answer, rendered (the thumbnail as JPEG
 * bytes when the client asks for them) */
void
mr_api_handle_flow_reading (MrApi * api, SoupServerMessage * msg,
    const gchar * id, const gchar * what, guint limit)
{
  MrManager *m = api->manager;
  GError *error = NULL;
  JsonNode *node = NULL;

  if (IS (what, "metrics")) {
    g_autoptr (MrFlowMetrics) metrics = mr_manager_flow_metrics (m, id,
        &error);

    node = metrics ? mr_render_metrics (metrics) : NULL;
  } else if (IS (what, "thumbnail")) {
    g_autoptr (MrThumbnail) t = mr_manager_flow_thumbnail (m, id, &error);

    if (t && wants_jpeg (msg)) {
      respond_jpeg (msg, t);
      return;
    }
    node = t ? mr_render_thumbnail (t) : NULL;
  } else if (IS (what, "metadata")) {
    g_autoptr (MrStreamMetadata) md = mr_manager_flow_metadata (m, id,
        &error);

    node = md ? mr_render_stream_metadata (md) : NULL;
  } else if (IS (what, "content-quality")) {
    g_autofree MrContentQuality *cq = mr_manager_flow_content_quality (m, id,
        &error);

    node = cq ? mr_render_content_quality (cq) : NULL;
  } else {
    g_autoptr (GPtrArray) events = mr_manager_events (m, id, limit, &error);

    node = events ? mr_render_events (events) : NULL;
  }
  mr_api_respond_result (msg, SOUP_STATUS_OK, node, &error);
}

/* POST /v1/flows/{id}/source and /outputs: the flow is looked up and its
 * room checked before the body is read as an endpoint */
static void
handle_add_endpoint (MrApi * api, SoupServerMessage * msg, const gchar * id,
    MrEndpointRole role)
{
  MrManager *m = api->manager;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  MrEndpoint *ep;

  if (!(body = mr_api_parse_body (api, msg)))
    return;
  if (!mr_manager_check_room (m, id, role, &error)
      || !(ep = mr_endpoint_from_json (body, role, "", warnings, &error))) {
    mr_api_respond_result (msg, 0, NULL, &error);
    return;
  }
  mr_api_respond_flow_warned (msg, SOUP_STATUS_CREATED,
      role == MR_ENDPOINT_SOURCE ? mr_manager_add_source (m, id, ep, &error) :
      mr_manager_add_output (m, id, ep, &error), warnings, &error);
}

/* GET /v1/flows/{id}/sources/{name} (and /source/{name}) and
 * /outputs/{name}: the object as it is in the flow's answer */
static void
handle_get_endpoint (MrApi * api, SoupServerMessage * msg, const gchar * id,
    const gchar * name, MrEndpointRole role)
{
  GError *error = NULL;
  g_autoptr (MrEndpoint) ep = role == MR_ENDPOINT_SOURCE ?
      mr_manager_get_source (api->manager, id, name, &error) :
      mr_manager_get_output (api->manager, id, name, &error);

  mr_api_respond_result (msg, SOUP_STATUS_OK,
      ep ? mr_render_endpoint (ep) : NULL, &error);
}

/* PUT /v1/flows/{id}/outputs/{name}: the body patches a copy of the
 * output */
static void
handle_update_output (MrApi * api, SoupServerMessage * msg, const gchar * id,
    const gchar * name)
{
  MrManager *m = api->manager;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (MrEndpoint) old = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  MrEndpoint *ep;

  if (!(body = mr_api_parse_body (api, msg)))
    return;
  if (!(old = mr_manager_get_output (m, id, name, &error))
      || !(ep = mr_endpoint_patch (old, body, "", warnings, &error))) {
    mr_api_respond_result (msg, 0, NULL, &error);
    return;
  }
  mr_api_respond_flow_warned (msg, SOUP_STATUS_OK,
      mr_manager_update_output (m, id, name, ep, &error), warnings, &error);
}

/* PUT /v1/flows/{id}: the body patches a copy of the flow's own fields,
 * as PUT of an output patches the output */
static void
handle_update_flow (MrApi * api, SoupServerMessage * msg, const gchar * id)
{
  MrManager *m = api->manager;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (MrFlowSpec) old = NULL;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  MrFlowSpec *spec;

  if (!(body = mr_api_parse_body (api, msg)))
    return;
  if (!(old = mr_manager_get_spec (m, id, &error))
      || !(spec = mr_flow_spec_patch (old, body, warnings, &error))) {
    mr_api_respond_result (msg, 0, NULL, &error);
    return;
  }
  mr_api_respond_flow_warned (msg, SOUP_STATUS_OK,
      mr_manager_update_flow (m, id, spec, &error), warnings, &error);
}

/* /v1/flows/{id}/... with @rest the segments after the id */
void
mr_api_handle_flow (MrApi * api, SoupServerMessage * msg, const gchar * method,
    const gchar * id, gchar ** rest, guint n_rest, GHashTable * query,
    const gchar * path)
{
  MrManager *m = api->manager;
  GError *error = NULL;

  if (n_rest == 0) {
    if (IS (method, "GET")) {
      mr_api_respond_flow (msg, SOUP_STATUS_OK, mr_manager_get_flow (m, id,
              &error), &error);
    } else if (IS (method, "PUT")) {
      handle_update_flow (api, msg, id);
    } else if (IS (method, "DELETE")) {
      mr_mediamtx_forget (api->mediamtx, id);
      if (mr_manager_delete_flow (m, id, &error))
        mr_api_respond (msg, SOUP_STATUS_NO_CONTENT, NULL);
      else
        mr_api_respond_result (msg, 0, NULL, &error);
    } else {
      mr_api_method_not_allowed (msg, "GET, PUT, DELETE");
    }
    return;
  }

  if (n_rest == 1 && (IS (rest[0], "start") || IS (rest[0], "stop"))) {
    if (!IS (method, "POST")) {
      mr_api_method_not_allowed (msg, "POST");
      return;
    }
    /* a start or stop by hand overrides a stop a hook scheduled */
    mr_mediamtx_forget (api->mediamtx, id);
    if (IS (rest[0], "start")) {
      mr_api_respond_flow (msg, SOUP_STATUS_OK, mr_manager_start_flow (m, id,
              &error), &error);
    } else {
      mr_api_respond_flow (msg, SOUP_STATUS_OK, mr_manager_stop_flow (m, id,
              &error), &error);
    }
    return;
  }

  if (n_rest == 1 && (IS (rest[0], "metrics") || IS (rest[0], "thumbnail")
          || IS (rest[0], "metadata") || IS (rest[0], "content-quality"))) {
    if (!IS (method, "GET"))
      mr_api_method_not_allowed (msg, "GET");
    else if (!mr_api_forwarded (api, msg, id))
      mr_api_handle_flow_reading (api, msg, id, rest[0], 0);
    return;
  }

  if (n_rest == 1 && IS (rest[0], "events")) {
    guint limit;

    if (!IS (method, "GET"))
      mr_api_method_not_allowed (msg, "GET");
    else if (mr_api_parse_limit (msg, query, &limit))
      mr_api_handle_flow_reading (api, msg, id, "events", limit);
    return;
  }

  if ((n_rest == 1 && IS (rest[0], "recordings"))
      || (n_rest == 2 && IS (rest[0], "recordings") && IS (rest[1], "get"))) {
    if (IS (method, "GET") && mr_api_forwarded (api, msg, id))
      return;
    mr_api_handle_recordings (api, msg, method, id, rest, n_rest, query);
    return;
  }

  if (n_rest == 1 && IS (rest[0], "source")) {
    if (!IS (method, "POST"))
      mr_api_method_not_allowed (msg, "POST");
    else
      handle_add_endpoint (api, msg, id, MR_ENDPOINT_SOURCE);
    return;
  }

  if (n_rest == 3 && IS (rest[0], "source") && IS (rest[2], "activate")) {
    if (!IS (method, "POST"))
      mr_api_method_not_allowed (msg, "POST");
    else if (!mr_api_forwarded (api, msg, id))
      mr_api_respond_flow (msg, SOUP_STATUS_OK,
          mr_manager_activate_source (m, id, rest[1], &error), &error);
    return;
  }

  if (n_rest == 2 && IS (rest[0], "source")) {
    if (IS (method, "GET"))
      handle_get_endpoint (api, msg, id, rest[1], MR_ENDPOINT_SOURCE);
    else if (IS (method, "DELETE"))
      mr_api_respond_flow (msg, SOUP_STATUS_OK, mr_manager_remove_source (m, id,
              rest[1], &error), &error);
    else
      mr_api_method_not_allowed (msg, "GET, DELETE");
    return;
  }

  /* the plural, as "outputs" is: where a client that read "sources" looks */
  if (n_rest == 2 && IS (rest[0], "sources")) {
    if (IS (method, "GET"))
      handle_get_endpoint (api, msg, id, rest[1], MR_ENDPOINT_SOURCE);
    else
      mr_api_method_not_allowed (msg, "GET");
    return;
  }

  if (n_rest == 1 && IS (rest[0], "outputs")) {
    if (!IS (method, "POST"))
      mr_api_method_not_allowed (msg, "POST");
    else
      handle_add_endpoint (api, msg, id, MR_ENDPOINT_OUTPUT);
    return;
  }

  if (n_rest == 2 && IS (rest[0], "outputs")) {
    if (IS (method, "GET")) {
      handle_get_endpoint (api, msg, id, rest[1], MR_ENDPOINT_OUTPUT);
    } else if (IS (method, "PUT")) {
      handle_update_output (api, msg, id, rest[1]);
    } else if (IS (method, "DELETE")) {
      mr_api_respond_flow (msg, SOUP_STATUS_OK, mr_manager_remove_output (m, id,
              rest[1], &error), &error);
    } else {
      mr_api_method_not_allowed (msg, "GET, PUT, DELETE");
    }
    return;
  }

  mr_api_not_found (msg, path);
}

