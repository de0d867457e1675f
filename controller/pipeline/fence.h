/* mroute: the fence of a flow's outputs.  A node of a cluster may send a
 * flow's data only while it holds the flow's lease (docs/cluster.md); the
 * fence is a monotonic-time deadline, moved forward at each renewal, and
 * a pad probe where the flow's data enters its fan-out that drops every
 * buffer and buffer list once the deadline has passed.  A node frozen past
 * its lease (SIGSTOP, a stalled database link) therefore sends nothing
 * when it wakes, before it even learns that the lease is gone.
 *
 * The deadline is read with one atomic load per buffer or list, in the
 * streaming thread; it is written from any thread (the main one) at any
 * time, forward or back.  0: no fence (a standalone controller). */

#ifndef __MR_FENCE_H__
#define __MR_FENCE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _MrFence MrFence;

/* A fence with no deadline (everything passes); reference counted */
MrFence *mr_fence_new (void);
MrFence *mr_fence_ref (MrFence * fence);
void mr_fence_unref (MrFence * fence);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrFence, mr_fence_unref);

/* g_get_monotonic_time () after which nothing passes; 0: no deadline */
void mr_fence_set_deadline (MrFence * fence, gint64 deadline_us);
gint64 mr_fence_get_deadline (MrFence * fence);
/* Whether data passes at monotonic time @now_us */
gboolean mr_fence_is_open (MrFence * fence, gint64 now_us);

/* Puts the fence on @pad (a src or sink pad the data goes through): a
 * probe on buffers and buffer lists, holding a reference to @fence.  What
 * it dropped is counted (mr_fence_get_dropped ()).  Returns the probe's
 * id. */
gulong mr_fence_attach (MrFence * fence, GstPad * pad);
/* Buffers (a list counts its buffers) dropped so far */
guint64 mr_fence_get_dropped (MrFence * fence);

G_END_DECLS

#endif /* __MR_FENCE_H__ */
