/* mroute: the isolation of a branch behind a tee, written once, for the
 * output branches (branch.h) and the monitoring branch (monitor/).
 *
 *   (ghost "sink") appsink "entry"  ~>  appsrc "exit" ! queue "backlog" ! ...
 *
 * The entry takes the data in the tee's thread and hands it to the exit,
 * whose own thread runs the rest of the branch.  The entry never waits and
 * never returns an error, so nothing the branch does can stop the tee, the
 * source or the other branches; the backlog, a leaky queue, drops its
 * oldest data past its limits when the branch falls behind.  A closed
 * isolation drops everything at the entry.
 *
 * Buffer lists: the tee hands every branch the same GstBufferList; the
 * entry hands the exit a list of its own with the same buffers (a shared
 * list crashed GStreamer's appsrc now and then: see on_entry_sample in
 * isolation.c), or, if asked, the buffers one by one. */

#ifndef __MR_ISOLATION_H__
#define __MR_ISOLATION_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _MrIsolation MrIsolation;

/* Adds the entry, the exit and a backlog of at most @max_time and
 * @max_bytes (0: no limit) to @bin, and a ghost pad "sink" to @bin for the
 * entry.  The caller links mr_isolation_get_tail() to the rest of the
 * branch.  The isolation lives as long as @bin; the return value is
 * borrowed from it. */
MrIsolation *mr_isolation_add (GstBin * bin, guint64 max_time,
    guint64 max_bytes);

/* The last element of the isolation (the backlog): link it downstream */
GstElement *mr_isolation_get_tail (MrIsolation * isolation);

/* The exit gets the buffers of a list one by one instead of a list (call
 * before the data flows): for a branch whose elements take one buffer at a
 * time anyway, and whose exit is stopped often (GStreamer 1.22.0's basesrc
 * logs a critical, unreffing NULL, when an appsrc is stopped with a
 * submitted list in hand: gst_base_src_get_range, fixed in 1.22.12). */
void mr_isolation_set_split_lists (MrIsolation * isolation, gboolean split);

/* From now on the entry drops everything; TRUE if it was open until this
 * call (exactly one caller gets TRUE).  Any thread. */
gboolean mr_isolation_close (MrIsolation * isolation);
gboolean mr_isolation_is_closed (MrIsolation * isolation);

/* Bytes and buffers handed to the branch so far; any thread. */
void mr_isolation_get_counters (MrIsolation * isolation, guint64 * bytes,
    guint64 * packets);

/* A queue that keeps at most @max_time (and @max_bytes, 0: no limit) and
 * drops its oldest data past that. */
GstElement *mr_isolation_backlog_new (const gchar * name, guint64 max_time,
    guint64 max_bytes);

G_END_DECLS

#endif /* __MR_ISOLATION_H__ */
