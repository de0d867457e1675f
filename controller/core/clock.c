/* mroute: the wall clock of schedules. */

#define G_LOG_DOMAIN "mroute-clock"
#include "clock.h"

#include <stdlib.h>

gint64
mr_clock_now_us (void)
{
  const gchar *path = g_getenv ("MROUTE_TEST_CLOCK_FILE");
  g_autofree gchar *text = NULL;
  gchar *end = NULL;
  gdouble seconds;

  if (!path || !*path)
    return g_get_real_time ();
  if (!g_file_get_contents (path, &text, NULL, NULL)) {
    g_warning ("MROUTE_TEST_CLOCK_FILE %s is unreadable: using real time",
        path);
    return g_get_real_time ();
  }
  seconds = g_ascii_strtod (text, &end);
  if (end == text || seconds < 0) {
    g_warning ("MROUTE_TEST_CLOCK_FILE %s holds no time: using real time",
        path);
    return g_get_real_time ();
  }
  return (gint64) (seconds * G_USEC_PER_SEC);
}
