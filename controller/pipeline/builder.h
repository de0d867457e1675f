/* mroute: the pipeline recipe.  A flow spec in, a GStreamer element graph
 * out; no HTTP, no SQLite, no state machine.
 *
 *   source:  udpbatchsrc ! packetstats [! rtpmp2tdepay] ! tee name=fanout
 *   FAILOVER: every source ! failoverselector ! tee
 *   MERGE:    every source's RTP ! rtpst2022-7-merge ! rtpmp2tdepay ! tee
 *   UDP outputs:  fanout. ! udpfanoutsink name=fanout-ts      (one for all)
 *   RTP outputs:  fanout. ! rtpmp2tpay ! udpfanoutsink name=fanout-rtpmp2tpay
 *   other outputs: fanout. ! isolated branch (branch.h) ! the transport's sink
 *   a source's elements: its transport (transports/transport.h)
 *   monitoring:   fanout. ! bin monitor-N (monitor/monitor.h, attached
 *                 by the runner), always
 *
 * Datagrams travel in buffer lists (one recvmmsg), all UDP outputs share one
 * udpfanoutsink (UDP GSO, one sendmmsg for all destinations) and run in the
 * source's streaming thread: the thread count of a flow does not grow with
 * its UDP/RTP outputs.
 */

#ifndef __MR_RECIPE_H__
#define __MR_RECIPE_H__

#include <gst/gst.h>

#include "core/core.h"
#include "transports/transport.h"

G_BEGIN_DECLS

typedef struct
{
  GstElement *pipeline;         /* owned */
  GstElement *fanout;           /* the tee */
  guint active_source;          /* index in spec->sources; the runner
                                 * follows the selector's switches */
  GstElement *source_bins[MR_MAX_SOURCES];      /* the bin of each running
                                                 * source, or NULL */
  GstElement *source_stats[MR_MAX_SOURCES];     /* packetstats of each
                                                 * running source, or NULL */
  GstElement *selector;         /* failoverselector, FAILOVER mode only */
  GstElement *merger;           /* rtpst2022-7-merge, MERGE mode only */
  gchar *selector_pads[MR_MAX_SOURCES];         /* the selector's or the
                                                 * merger's pad of each
                                                 * source */
  GHashTable *fanout_sinks;     /* the shared udpfanoutsinks, by payloader
                                 * ("" for plain TS) */
  GHashTable *branches;         /* output name -> MrBranch* (SRT, ...) */
  /* while mr_recipe_start_source () brings a source up: its bin, the
   * thread doing it, and the first error the bin posted there */
  GstElement *starting_bin;
  GThread *starting_thread;
  GError *start_error;
} MrRecipe;

/* The element message a source bin posts instead of letting EOS out */
#define MR_RECIPE_SOURCE_EOS "mroute-source-eos"


/* Adds to @error's message the detail an element gave only in its debug
 * string ("Could not open resource for reading." then "Cannot bind to
 * 0.0.0.0:5000 - ..."): the reason an operator needs. */
void mr_recipe_error_add_reason (GError * error, const gchar * debug);

/* Builds the pipeline, in state NULL, with every output of @spec and no
 * source yet (see mr_recipe_start_source); @health_timeout_ms is the
 * failover selector's `timeout`.  Every sink is async=false: the pipeline
 * reaches PLAYING without a source. */
gboolean mr_recipe_build (MrRecipe * recipe, const MrFlowSpec * spec,
    guint health_timeout_ms, GError ** error);

/* Starts the source at @index of @spec->sources: builds its bin, links it
 * to the tee (one source) or to a new pad of the selector or merger, and
 * brings it to the pipeline's state.  On failure nothing of it stays in
 * the pipeline and @error gives the element's own reason ("Cannot bind to
 * 0.0.0.0:5000 ...").  A source bin never lets EOS through: it posts an
 * element message "mroute-source-eos" from the bin instead, so that one
 * source ending never ends the flow. */
gboolean mr_recipe_start_source (MrRecipe * recipe, const MrFlowSpec * spec,
    guint index, GError ** error);
/* Stops the source at @index and takes its bin out; the slot stays, empty,
 * for mr_recipe_start_source to fill again. */
void mr_recipe_stop_source (MrRecipe * recipe, guint index);
/* The index of the source whose current bin holds @element, or -1 (for an
 * element of a bin that was already stopped, too). */
gint mr_recipe_source_of_element (MrRecipe * recipe, GstObject * element);
void mr_recipe_clear (MrRecipe * recipe);

/* Adds or removes one output; works in any state, without disturbing the
 * other outputs. */
gboolean mr_recipe_attach_output (MrRecipe * recipe, const MrEndpoint * out,
    GError ** error);
void mr_recipe_detach_output (MrRecipe * recipe, const MrEndpoint * out);

/* What a branch output (SRT, RIST, RTP-FEC, RTMP) was handed so far, and
 * whether it failed; FALSE when @out has no branch now. */
gboolean mr_recipe_output_counters (MrRecipe * recipe, const MrEndpoint * out,
    guint64 * bytes, guint64 * packets, gboolean * failed);

/* The sink that carries @out, or NULL. */
GstElement *mr_recipe_output_sink (MrRecipe * recipe, const MrEndpoint * out);

/* Which source index the spec runs on (first). */
guint mr_recipe_pick_source (const MrFlowSpec * spec);
/* Whether the spec runs both sources into a failoverselector (FAILOVER),
 * into the ST 2022-7 merger (MERGE), or either. */
gboolean mr_recipe_uses_failover (const MrFlowSpec * spec);
gboolean mr_recipe_uses_merge (const MrFlowSpec * spec);
gboolean mr_recipe_runs_all_sources (const MrFlowSpec * spec);
/* The source index of a packetstats element or selector pad name, or -1 */
gint mr_recipe_source_of_stats (MrRecipe * recipe, GstObject * element);
gint mr_recipe_source_of_pad (MrRecipe * recipe, const gchar * pad_name);

/* Whether an element belongs to the source side or the output side. */
gboolean mr_recipe_element_is_source (GstObject * element);
/* FAILOVER and MERGE, when the spec changes: a source that now stands at
 * @index of @spec->sources is started and linked to the selector or merger
 * (the slots after it move up); a source is stopped and its slot removed
 * (the slots after it move down); (FAILOVER) the primary (priority 0)
 * changes.  In any state, the others untouched. */
gboolean mr_recipe_add_source (MrRecipe * recipe, const MrFlowSpec * spec,
    guint index, GError ** error);
void mr_recipe_remove_source (MrRecipe * recipe, const gchar * name,
    guint index);
void mr_recipe_set_primary (MrRecipe * recipe, guint index);

/* The name of the source whose bin @element belongs to, or NULL. */
gchar *mr_recipe_element_source (GstObject * element);
/* The name of the output whose branch @element belongs to, or NULL. */
gchar *mr_recipe_element_output (GstObject * element);

G_END_DECLS

#endif /* __MR_RECIPE_H__ */
