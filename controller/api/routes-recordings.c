/* mroute: a flow's recordings (docs/recording.md), as MediaMTX's playback
 * server answers /list and /get:
 *
 *   GET /v1/flows/{id}/recordings      the time ranges on disk
 *   GET /v1/flows/{id}/recordings/get?start=RFC3339&duration=SECONDS
 *                                      that range as one TS, cut at key
 *                                      frames, streamed in chunks
 *
 * The segments are read by core/recordings.h; the answer is written as
 * the files are read, a chunk at a time, never whole in memory. */

#define G_LOG_DOMAIN "mroute-api"
#include "api-private.h"

#include "core/core.h"

#define IS(m, name) (g_str_equal ((m), (name)))
#define CHUNK_BYTES (188 * 348)         /* ~64 KiB of whole packets */
#define MAX_GET_DURATION_SEC 3600

static void
handle_list (MrApi * api, SoupServerMessage * msg, const gchar * id)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = mr_manager_recording_dir (api->manager, id,
      &error);
  g_autoptr (GPtrArray) segments = NULL;
  g_autoptr (GArray) ranges = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!dir) {
    mr_api_respond_result (msg, 0, NULL, &error);
    return;
  }
  segments = mr_recordings_scan (dir);
  ranges = mr_recordings_ranges (segments);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ranges");
  json_builder_begin_array (b);
  for (guint i = 0; i < ranges->len; i++) {
    MrRecordingRange *r = &g_array_index (ranges, MrRecordingRange, i);
    g_autofree gchar *start = mr_format_time (r->start);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "start");
    json_builder_add_string_value (b, start);
    json_builder_set_member_name (b, "duration");
    json_builder_add_double_value (b, (gdouble) r->duration / G_USEC_PER_SEC);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "segments");
  json_builder_add_int_value (b, segments->len);
  json_builder_end_object (b);
  mr_api_respond_json (msg, SOUP_STATUS_OK, json_builder_get_root (b));
}

typedef struct
{
  MrRecordingReader *reader;
  gchar *flow_id;
} Stream;

static void
stream_free (Stream * s)
{
  mr_recording_reader_free (s->reader);
  g_free (s->flow_id);
  g_free (s);
}

/* the next chunk, or the end of the body */
static void
write_next_chunk (SoupServerMessage * msg, gpointer user_data)
{
  Stream *s = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GError) error = NULL;
  guint8 *buf;
  gssize n;

  if (!s->reader)
    return;
  buf = g_malloc (CHUNK_BYTES);
  n = mr_recording_reader_read (s->reader, buf, CHUNK_BYTES, &error);
  if (n > 0) {
    soup_message_body_append (body, SOUP_MEMORY_TAKE, buf, n);
  } else {
    g_free (buf);
    if (n < 0)
      g_message ("flow %s: a recording could not be read to its end: %s",
          s->flow_id, error->message);
    g_clear_pointer (&s->reader, mr_recording_reader_free);
    soup_message_body_complete (body);
  }
  soup_server_message_unpause (msg);
}

static gboolean
parse_get_query (SoupServerMessage * msg, GHashTable * query, gint64 * start,
    gint64 * duration)
{
  const gchar *s = query ? g_hash_table_lookup (query, "start") : NULL;
  const gchar *d = query ? g_hash_table_lookup (query, "duration") : NULL;
  g_autoptr (GDateTime) t = NULL;
  gchar *end = NULL;
  gdouble seconds;

  if (!s || !*s) {
    mr_api_write_error (msg, SOUP_STATUS_BAD_REQUEST, "start",
        "start: is required (RFC 3339, e.g. 2026-12-02T13:05:00Z)");
    return FALSE;
  }
  if (!(t = g_date_time_new_from_iso8601 (s, NULL))) {
    mr_api_write_error (msg, SOUP_STATUS_BAD_REQUEST, "start",
        "start: must be an RFC 3339 time with its zone, "
        "e.g. 2026-12-02T13:05:00Z");
    return FALSE;
  }
  if (!d || !*d) {
    mr_api_write_error (msg, SOUP_STATUS_BAD_REQUEST, "duration",
        "duration: is required (seconds)");
    return FALSE;
  }
  seconds = g_ascii_strtod (d, &end);
  if (end == d || *end || !(seconds > 0)
      || seconds > MAX_GET_DURATION_SEC) {
    mr_api_write_error (msg, SOUP_STATUS_BAD_REQUEST, "duration",
        "duration: must be a number of seconds above 0, at most 3600");
    return FALSE;
  }
  *start = g_date_time_to_unix (t) * G_USEC_PER_SEC +
      g_date_time_get_microsecond (t);
  *duration = (gint64) (seconds * G_USEC_PER_SEC);
  return TRUE;
}

static void
handle_get (MrApi * api, SoupServerMessage * msg, const gchar * id,
    GHashTable * query)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = mr_manager_recording_dir (api->manager, id,
      &error);
  g_autoptr (GPtrArray) segments = NULL;
  MrRecordingReader *reader;
  SoupMessageHeaders *h;
  gint64 start, duration;
  Stream *s;

  if (!dir) {
    mr_api_respond_result (msg, 0, NULL, &error);
    return;
  }
  if (!parse_get_query (msg, query, &start, &duration))
    return;
  segments = mr_recordings_scan (dir);
  if (!(reader = mr_recording_reader_new (segments, start, duration,
              &error))) {
    g_autofree gchar *m = g_strdup_printf ("start: %s (GET "
        "/v1/flows/%s/recordings lists what there is)", error->message, id);

    mr_api_write_error (msg, SOUP_STATUS_NOT_FOUND, "start", m);
    return;
  }
  s = g_new0 (Stream, 1);
  s->reader = reader;
  s->flow_id = g_strdup (id);
  mr_api_respond (msg, SOUP_STATUS_OK, NULL);
  h = soup_server_message_get_response_headers (msg);
  soup_message_headers_set_content_type (h, "video/mp2t", NULL);
  soup_message_headers_set_encoding (h, SOUP_ENCODING_CHUNKED);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (write_next_chunk), s);
  g_object_set_data_full (G_OBJECT (msg), "mroute-recording-stream", s,
      (GDestroyNotify) stream_free);
  write_next_chunk (msg, s);
}

void
mr_api_handle_recordings (MrApi * api, SoupServerMessage * msg,
    const gchar * method, const gchar * id, gchar ** rest, guint n_rest,
    GHashTable * query)
{
  if (!IS (method, "GET")) {
    mr_api_method_not_allowed (msg, "GET");
    return;
  }
  if (n_rest == 1)
    handle_list (api, msg, id);
  else
    handle_get (api, msg, id, query);
}
