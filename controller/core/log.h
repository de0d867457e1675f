/* mroute: the controller's log.  One GLib structured log writer for the
 * whole process (g_log_set_writer_func): every GLib message, ours and the
 * libraries', becomes one line on stderr, either text for people
 *
 *   2026-01-05T04:17:53.703Z info     mroute-manager: [flow "studio-a" (flow_1f0c9a3e5b7d)] flow flow_1f0c9a3e5b7d: ACTIVE
 *
 * or one JSON object for machines
 *
 *   {"time":"2026-01-05T04:17:53.703Z","level":"info","domain":"mroute-manager","flow_id":"flow_1f0c9a3e5b7d","flow_name":"studio-a","message":"flow flow_1f0c9a3e5b7d: ACTIVE"}
 *
 * The message is written as it was logged (only made valid UTF-8, and in
 * text its control characters escaped, so that an entry is always one
 * line).  A message that names a flow ("flow flow_1f0c9a3e5b7d: ...") gets
 * the flow's id and name beside it; the name comes from the flow namer,
 * asked on the main thread only and remembered for the other threads.
 *
 * GStreamer's own debug log (GST_DEBUG) does not go through GLib and is
 * left alone.
 */

#ifndef __MR_LOG_H__
#define __MR_LOG_H__

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MR_LOG_FORMAT_TEXT,
  MR_LOG_FORMAT_JSON,
} MrLogFormat;

/* The least severe level written.  UNSET: nothing chose one. */
typedef enum
{
  MR_LOG_LEVEL_UNSET,
  MR_LOG_LEVEL_ERROR,           /* errors and criticals */
  MR_LOG_LEVEL_WARNING,
  MR_LOG_LEVEL_INFO,            /* g_message and g_info too */
  MR_LOG_LEVEL_DEBUG,
} MrLogLevel;

/* "text", "json" */
gboolean mr_log_format_from_string (const gchar * s, MrLogFormat * format);
const gchar *mr_log_format_to_string (MrLogFormat format);
/* "error", "warning", "info", "debug" */
gboolean mr_log_level_from_string (const gchar * s, MrLogLevel * level);
const gchar *mr_log_level_to_string (MrLogLevel level);

/* Installs the writer: once, first thing in main(), on the main thread.
 * Until mr_log_configure() it writes text at level info. */
void mr_log_init (void);

/* Any thread, any time (SIGHUP).  @level UNSET means info, or debug when
 * GLib's G_MESSAGES_DEBUG is set. */
void mr_log_configure (MrLogFormat format, MrLogLevel level);
/* What mr_log_configure() made of @level */
MrLogLevel mr_log_get_level (void);

/* The name of the flow @flow_id (newly allocated), or NULL if there is no
 * such flow.  Called on the main thread only, from inside a log call: it
 * must not block nor hold locks that code which logs may hold. */
typedef gchar *(*MrLogFlowNamer) (const gchar * flow_id, gpointer user_data);

/* Main thread only.  @namer NULL: names are no longer asked for (before the
 * object @user_data points to goes away); those already known stay. */
void mr_log_set_flow_namer (MrLogFlowNamer namer, gpointer user_data);

/* The entry the writer makes of one message, without the newline (for
 * tests).  @time_us: microseconds since the epoch; @domain, @flow_id,
 * @flow_name may be NULL. */
gchar *mr_log_format_entry (MrLogFormat format, gint64 time_us,
    GLogLevelFlags level, const gchar * domain, const gchar * flow_id,
    const gchar * flow_name, const gchar * message);

G_END_DECLS

#endif /* __MR_LOG_H__ */
