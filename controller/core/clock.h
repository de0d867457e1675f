/* mroute: the wall clock of schedules (maintenance windows).
 *
 * Real time, unless the environment variable MROUTE_TEST_CLOCK_FILE names
 * a file: then "now" is the number of seconds since the epoch written in
 * it, read at every call.  Tests move time forward by rewriting the file
 * instead of waiting a day. */

#ifndef __MR_CLOCK_H__
#define __MR_CLOCK_H__

#include <glib.h>

G_BEGIN_DECLS

/* µs since the epoch */
gint64 mr_clock_now_us (void);

G_END_DECLS

#endif /* __MR_CLOCK_H__ */
