/* mroute: an isolated output branch of a flow's pipeline.
 *
 *   fanout (tee) --teepad--> bin "output-NAME" [ appsink ~> appsrc ! SINK ]
 *
 * For outputs whose sink can block or fail (SRT, RIST, RTMP, RTP-FEC): the
 * sink sits behind the isolation of isolation.h (the appsink takes the
 * data in the tee's thread and hands it to the appsrc, whose own thread
 * runs the sink), so a failing output can never stop the tee, the source
 * or the other outputs; the backlog drops its oldest data when the sink
 * falls behind (a leaky queue of max_queue_ms).  The runner then removes
 * the failed branch and attaches a new one after a back-off.
 */

#ifndef __MR_BRANCH_H__
#define __MR_BRANCH_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define MR_BRANCH_PREFIX "output-"
/* "output-NAME#N": a branch attached while the output's previous one is
 * still leaving (no output name has a '#') */
#define MR_BRANCH_GENERATION "#"

typedef struct _MrBranch MrBranch;

/* Wraps @sink (floating or not, taken) in a queued bin named after
 * @output_name, adds it to @pipeline and links it to a new pad of @tee, in
 * the pipeline's current state. */
MrBranch *mr_branch_attach (GstElement * pipeline, GstElement * tee,
    const gchar * output_name, GstElement * sink, guint max_queue_ms);
/* Unlinks the branch when the tee is between two pushes, then stops and
 * removes it; returns at once, the removal finishes on the main loop.
 * @branch is freed. */
void mr_branch_detach (MrBranch * branch);

/* Frees @branch without touching the pipeline, which is going away. */
void mr_branch_forget (MrBranch * branch);

GstElement *mr_branch_get_sink (MrBranch * branch);
/* Bytes and packets handed to the branch so far; any thread. */
void mr_branch_get_counters (MrBranch * branch, guint64 * bytes,
    guint64 * packets);
/* Every base sink inside @bin, at any depth: async off. */
void mr_branch_make_sinks_async_false (GstElement * bin);
const gchar *mr_branch_get_output_name (MrBranch * branch);

/* The branch an element belongs to, or NULL; any thread. */
MrBranch *mr_branch_from_element (GstObject * element);
/* Marks the branch failed so that its entry drops data; any thread. */
void mr_branch_set_failed (MrBranch * branch);
gboolean mr_branch_is_failed (MrBranch * branch);

/* A bus sync handler that marks branches failed from their own thread, as
 * soon as their sink posts an error (before the error can flow back up). */
GstBusSyncReply mr_branch_bus_sync_handler (GstBus * bus, GstMessage * msg,
    gpointer user_data);

G_END_DECLS

#endif /* __MR_BRANCH_H__ */
