/* mroute: maintenance windows. */

#define G_LOG_DOMAIN "mroute-maintenance"
#include "maintenance.h"

gboolean
mr_maintenance_in_window (gint day, gint hour, gint64 now_us)
{
  g_autoptr (GDateTime) t =
      g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC);

  if (!t)
    return FALSE;
  /* GLib: 1 = Monday .. 7 = Sunday */
  return g_date_time_get_day_of_week (t) - 1 == day
      && g_date_time_get_hour (t) == hour;
}

gboolean
mr_maintenance_due (gint day, gint hour, gint64 running_since_us,
    gint64 now_us)
{
  return running_since_us > 0
      && now_us - running_since_us >= MR_MAINTENANCE_MIN_RUN_US
      && mr_maintenance_in_window (day, hour, now_us);
}
