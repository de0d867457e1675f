/* mroute: the one way a JSON text from outside becomes a JsonNode.
 *
 * json-glib parses recursively: a body of 100,000 '[' runs the stack out
 * and takes the whole process down.  Every text that comes from a peer (an
 * API body, a MediaMTX hook, a Telegram answer) passes this reader, which
 * refuses it by size and by nesting depth in one linear scan before
 * json-glib sees it. */

#ifndef __MR_JSON_READER_H__
#define __MR_JSON_READER_H__

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper than this is refused (a flow needs 4). */
#define MR_JSON_MAX_DEPTH 64

#define MR_JSON_READER_ERROR (mr_json_reader_error_quark ())
GQuark mr_json_reader_error_quark (void);
typedef enum
{
  MR_JSON_READER_ERROR_EMPTY,
  MR_JSON_READER_ERROR_TOO_LARGE,
  MR_JSON_READER_ERROR_TOO_DEEP,
  MR_JSON_READER_ERROR_NOT_UTF8,
  MR_JSON_READER_ERROR_SYNTAX,
  MR_JSON_READER_ERROR_NOT_OBJECT,
} MrJsonReaderError;

/* The deepest nesting of arrays and objects in @data, counting only
 * brackets outside strings; stops counting once past @stop_at. */
guint mr_json_depth (const gchar * data, gsize len, guint stop_at);

/* Parses @data (@len bytes, not NUL-terminated) into a new JsonNode that
 * must be an object: refused when empty, larger than @max_bytes (0: no
 * limit), nested deeper than @max_depth, not UTF-8 or not JSON.  The
 * messages start with "body: " so that the API can show them as they are. */
JsonNode *mr_json_read_object (const gchar * data, gsize len,
    gsize max_bytes, guint max_depth, GError ** error);

G_END_DECLS

#endif /* __MR_JSON_READER_H__ */
