/* mroute: maintenance windows.  A flow that has run for 24 hours or more
 * is restarted when the scheduler finds it inside its weekly window (one
 * hour from `start_hour` on `day_of_week`, UTC). */

#ifndef __MR_MAINTENANCE_H__
#define __MR_MAINTENANCE_H__

#include <glib.h>

G_BEGIN_DECLS

#define MR_MAINTENANCE_MIN_RUN_US (G_GINT64_CONSTANT (24) * 3600 * G_USEC_PER_SEC)

/* @day 0 = Monday .. 6 = Sunday, @hour 0-23 UTC; times in µs since the
 * epoch.  Whether @now is inside the window. */
gboolean mr_maintenance_in_window (gint day, gint hour, gint64 now_us);

/* Whether a flow running since @running_since_us must be restarted now. */
gboolean mr_maintenance_due (gint day, gint hour, gint64 running_since_us,
    gint64 now_us);

G_END_DECLS

#endif /* __MR_MAINTENANCE_H__ */
