/* mroute: the controller's log (see log.h).
 *
 * The writer runs on whichever thread logs: the main loop, a GStreamer
 * streaming thread, libsrt's.  The format and the level are atomics, the
 * names of the flows a table under its own lock, and a line goes out in
 * one write() under the output lock, so that lines of two threads never
 * mix.  Nothing here logs: a message from inside the writer would come back
 * to it (GLib would hand it to its fallback writer).
 */

#define G_LOG_DOMAIN "mroute-log"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

/* Names remembered at most; past that the table starts again (ids are
 * never reused, so a deleted flow's name is only dead weight). */
#define MR_LOG_NAMES_MAX 4096

static gint log_format = MR_LOG_FORMAT_TEXT;    /* atomic */
static gint log_level = MR_LOG_LEVEL_INFO;      /* atomic */

static GMutex output_lock;      /* one line at a time on stderr */

static GMutex names_lock;
static GHashTable *names;       /* flow id -> name; protected by names_lock */

/* main thread only */
static GThread *main_thread;
static MrLogFlowNamer namer;
static gpointer namer_data;
static gboolean naming;         /* inside the namer: do not ask again */

static const gchar *const format_names[] = { "text", "json" };
static const gchar *const level_names[] = {
  NULL, "error", "warning", "info", "debug"
};

gboolean
mr_log_format_from_string (const gchar * s, MrLogFormat * format)
{
  for (guint i = 0; i < G_N_ELEMENTS (format_names); i++)
    if (g_strcmp0 (s, format_names[i]) == 0) {
      *format = i;
      return TRUE;
    }
  return FALSE;
}

const gchar *
mr_log_format_to_string (MrLogFormat format)
{
  return format < G_N_ELEMENTS (format_names) ? format_names[format] : "?";
}

gboolean
mr_log_level_from_string (const gchar * s, MrLogLevel * level)
{
  for (guint i = MR_LOG_LEVEL_ERROR; i < G_N_ELEMENTS (level_names); i++)
    if (g_strcmp0 (s, level_names[i]) == 0) {
      *level = i;
      return TRUE;
    }
  return FALSE;
}

const gchar *
mr_log_level_to_string (MrLogLevel level)
{
  return level > MR_LOG_LEVEL_UNSET && level < G_N_ELEMENTS (level_names) ?
      level_names[level] : "unset";
}

/* ---------------------------------------------------------------------- */
/* one entry */

static MrLogLevel
level_rank (GLogLevelFlags level)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return MR_LOG_LEVEL_ERROR;
  if (level & G_LOG_LEVEL_WARNING)
    return MR_LOG_LEVEL_WARNING;
  if (level & G_LOG_LEVEL_DEBUG)
    return MR_LOG_LEVEL_DEBUG;
  return MR_LOG_LEVEL_INFO;     /* message, info, and user-defined levels */
}

static const gchar *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "error";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "critical";
  return level_names[level_rank (level)];
}

/* ISO 8601 in UTC with milliseconds: 2026-01-05T04:17:53.703Z */
static void
append_time (GString * s, gint64 time_us)
{
  time_t secs = time_us / G_USEC_PER_SEC;
  struct tm tm;

  if (!gmtime_r (&secs, &tm))
    memset (&tm, 0, sizeof (tm));
  g_string_append_printf (s, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
      tm.tm_sec, (gint) (time_us % G_USEC_PER_SEC / 1000));
}

/* @s (valid UTF-8) with its control characters escaped, so that an entry
 * stays one line; in quotes also '"' and '\' */
static void
append_escaped (GString * out, const gchar * s, gboolean quoted)
{
  for (const guchar * p = (const guchar *) s; *p; p++) {
    if (*p == '\n')
      g_string_append (out, "\\n");
    else if (*p == '\r')
      g_string_append (out, "\\r");
    else if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      g_string_append_printf (out, "\\x%02x", *p);
    else if (quoted && (*p == '"' || *p == '\\'))
      g_string_append_printf (out, "\\%c", *p);
    else
      g_string_append_c (out, *p);
  }
}

static void
set_string_or_null (JsonObject * o, const gchar * member, const gchar * value)
{
  if (value)
    json_object_set_string_member (o, member, value);
  else
    json_object_set_null_member (o, member);
}

gchar *
mr_log_format_entry (MrLogFormat format, gint64 time_us,
    GLogLevelFlags level, const gchar * domain, const gchar * flow_id,
    const gchar * flow_name, const gchar * message)
{
  g_autofree gchar *valid_message = g_utf8_make_valid (message ? message :
      "", -1);
  g_autofree gchar *valid_domain = domain ? g_utf8_make_valid (domain, -1) :
      NULL;
  g_autofree gchar *valid_id = flow_id ? g_utf8_make_valid (flow_id, -1) :
      NULL;
  g_autofree gchar *valid_name = flow_name ? g_utf8_make_valid (flow_name,
      -1) : NULL;
  GString *s = g_string_sized_new (128);

  if (format == MR_LOG_FORMAT_JSON) {
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    JsonObject *o = json_object_new ();

    append_time (s, time_us);
    json_object_set_string_member (o, "time", s->str);
    json_object_set_string_member (o, "level", level_name (level));
    set_string_or_null (o, "domain", valid_domain);
    set_string_or_null (o, "flow_id", valid_id);
    set_string_or_null (o, "flow_name", valid_id ? valid_name : NULL);
    json_object_set_string_member (o, "message", valid_message);
    json_node_take_object (node, o);
    g_string_free (s, TRUE);
    return json_to_string (node, FALSE);
  }

  append_time (s, time_us);
  g_string_append_printf (s, " %-8s ", level_name (level));
  append_escaped (s, valid_domain ? valid_domain : "-", FALSE);
  g_string_append (s, ": ");
  if (valid_id && valid_name) {
    g_string_append (s, "[flow \"");
    append_escaped (s, valid_name, TRUE);
    g_string_append (s, "\" (");
    append_escaped (s, valid_id, FALSE);
    g_string_append (s, ")] ");
  }
  append_escaped (s, valid_message, FALSE);
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------- */
/* the flow a message is about */

static gboolean
is_id_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-';
}

/* The id in the first "flow flow_..." of @message, or NULL.  Every flow
 * message of the controller says "flow <id>", and every id is flow_ and
 * hex digits (mr_generate_flow_id). */
static gchar *
find_flow_id (const gchar * message)
{
  for (const gchar * p = message; (p = strstr (p, "flow flow_")); p++) {
    const gchar *id = p + 5, *end = id + 5;

    if (p > message && is_id_char (p[-1]))
      continue;
    while (is_id_char (*end))
      end++;
    if (end > id + 5)
      return g_strndup (id, end - id);
  }
  return NULL;
}

static gchar *
remembered_name (const gchar * flow_id)
{
  gchar *name;

  g_mutex_lock (&names_lock);
  name = names ? g_strdup (g_hash_table_lookup (names, flow_id)) : NULL;
  g_mutex_unlock (&names_lock);
  return name;
}

static void
remember_name (const gchar * flow_id, const gchar * name)
{
  g_mutex_lock (&names_lock);
  if (!names || g_hash_table_size (names) >= MR_LOG_NAMES_MAX) {
    g_clear_pointer (&names, g_hash_table_unref);
    names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  }
  g_hash_table_replace (names, g_strdup (flow_id), g_strdup (name));
  g_mutex_unlock (&names_lock);
}

/* Flow names never change, so a name once known is kept. */
static gchar *
flow_name (const gchar * flow_id)
{
  gchar *name = remembered_name (flow_id);

  /* the namer and its guard belong to the main thread */
  if (name || g_thread_self () != main_thread || naming || !namer)
    return name;
  naming = TRUE;
  name = namer (flow_id, namer_data);
  naming = FALSE;
  if (name)
    remember_name (flow_id, name);
  return name;
}

void
mr_log_set_flow_namer (MrLogFlowNamer func, gpointer user_data)
{
  g_return_if_fail (g_thread_self () == main_thread);
  namer = func;
  namer_data = user_data;
}

/* ---------------------------------------------------------------------- */
/* the writer */

static void
write_all (const gchar * data, gsize length)
{
  g_mutex_lock (&output_lock);
  while (length > 0) {
    gssize n = write (STDERR_FILENO, data, length);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;                    /* nowhere to say so */
    data += n;
    length -= n;
  }
  g_mutex_unlock (&output_lock);
}

static gchar *
field_string (const GLogField * field)
{
  if (!field->value)
    return NULL;
  if (field->length < 0)
    return g_strdup (field->value);
  return g_strndup (field->value, field->length);
}

static GLogWriterOutput
write_entry (GLogLevelFlags level, const GLogField * fields, gsize n_fields,
    gpointer user_data)
{
  g_autofree gchar *message = NULL;
  g_autofree gchar *domain = NULL;
  g_autofree gchar *flow_id = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *entry = NULL;
  gchar *line;
  gsize length;

  if (level_rank (level) > (MrLogLevel) g_atomic_int_get (&log_level))
    return G_LOG_WRITER_HANDLED;

  for (gsize i = 0; i < n_fields; i++) {
    if (!message && g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      message = field_string (&fields[i]);
    else if (!domain && g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = field_string (&fields[i]);
  }
  if (message && (flow_id = find_flow_id (message)))
    name = flow_name (flow_id);

  entry = mr_log_format_entry (g_atomic_int_get (&log_format),
      g_get_real_time (), level, domain, flow_id, name, message);
  length = strlen (entry);
  line = g_realloc (g_steal_pointer (&entry), length + 2);
  line[length] = '\n';
  line[length + 1] = '\0';
  write_all (line, length + 1);
  g_free (line);
  return G_LOG_WRITER_HANDLED;
}

void
mr_log_init (void)
{
  g_return_if_fail (main_thread == NULL);
  main_thread = g_thread_self ();
  g_log_set_writer_func (write_entry, NULL, NULL);
}

void
mr_log_configure (MrLogFormat format, MrLogLevel level)
{
  if (level == MR_LOG_LEVEL_UNSET) {
    const gchar *debug = g_getenv ("G_MESSAGES_DEBUG");

    level = debug && *debug ? MR_LOG_LEVEL_DEBUG : MR_LOG_LEVEL_INFO;
  }
  g_atomic_int_set (&log_format, format);
  g_atomic_int_set (&log_level, level);
}

MrLogLevel
mr_log_get_level (void)
{
  return g_atomic_int_get (&log_level);
}
