/* mroute: what libsrt says only in its log. */

#define G_LOG_DOMAIN "mroute-srt"
#include "srt-log.h"

#include <gst/gst.h>
#include <string.h>

static MrSrtRejectFunc reject_func;
static gpointer reject_data;
static GstDebugLevel user_level;
static gint pending;            /* atomic: a callback is queued */

static gboolean
dispatch (gpointer data)
{
  gchar *reason = data;

  g_atomic_int_set (&pending, 0);
  if (reject_func)
    reject_func (reason, reject_data);
  g_free (reason);
  return G_SOURCE_REMOVE;
}

static void
log_function (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (g_str_equal (gst_debug_category_get_name (category), "srtlib")) {
    const gchar *text = gst_debug_message_get (message);

    if (text && (strstr (text, "Incorrect passphrase")
            || strstr (text, "BADSECRET"))
        && g_atomic_int_compare_and_exchange (&pending, 0, 1))
      g_idle_add (dispatch, g_strdup ("the SRT peer's passphrase does not "
              "match (libsrt: incorrect passphrase)"));
    /* we raised the level to see these: print only what was asked for */
    if (level > user_level)
      return;
  }
  gst_debug_log_default (category, level, file, function, line, object,
      message, NULL);
}

void
mr_srt_log_watch (MrSrtRejectFunc func, gpointer user_data)
{
  reject_func = func;
  reject_data = user_data;
  user_level = gst_debug_get_default_threshold ();
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (log_function, NULL, NULL);
  if (user_level < GST_LEVEL_INFO)
    gst_debug_set_threshold_for_name ("srtlib", GST_LEVEL_INFO);
}

void
mr_srt_log_unwatch (void)
{
  gst_debug_remove_log_function (log_function);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  reject_func = NULL;
}
