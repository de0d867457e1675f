/* mroute: one flow's live pipeline.  Owns the GstPipeline and the
 * elements in it (the tee "fanout", the selector or merger, each running
 * source's bin, the shared fan-out sinks, the isolated output branches)
 * and makes every live edit on them: a source started, stopped, added or
 * removed, the primary changed, an output attached or detached, in any
 * state and without disturbing the rest.  The elements come from the
 * builder (builder.h); the flow's state, its bus watch and its events are
 * the runner's (flows/), as gst-rtsp-server's media owns the pipeline its
 * factory built.
 */

#ifndef __MR_LIVE_PIPELINE_H__
#define __MR_LIVE_PIPELINE_H__

#include <gst/gst.h>

#include "core/core.h"
#include "pipeline/fence.h"

G_BEGIN_DECLS

typedef struct
{
  GstElement *pipeline;         /* owned */
  GstElement *fanout;           /* the tee of MPEG-TS */
  /* 1+1 RTP (mr_builder_passes_rtp ()): the tee of RTP before it, whose
   * RTP outputs send the packets as they came, or NULL */
  GstElement *rtp_fanout;
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
  GHashTable *fanout_sinks;     /* the shared udpfanoutsinks, by fan-out
                                 * key (payloader and multicast options,
                                 * mr_transport_fanout_key ()) */
  GHashTable *branches;         /* output name -> MrBranch* (SRT, ...) */
  /* while mr_live_pipeline_start_source () brings a source up: its bin,
   * the thread doing it, and the first error the bin posted there */
  GstElement *starting_bin;
  GThread *starting_thread;
  GError *start_error;
  /* the flow's folder for outputs that write files (hls), each in a
   * folder of its name below; borrowed from the runner, NULL: none */
  const gchar *files_dir;
  /* the lease fence (fence.h) put on the first tee's sink pad by
   * mr_live_pipeline_build (); borrowed from the runner, NULL: none */
  MrFence *fence;
  /* the `read-interval` (ns) of the udpbatchsrc of a `udp` source bin
   * made by mr_live_pipeline_start_source (); set by the runner, 0: none */
  guint64 read_interval;
} MrLivePipeline;

/* Builds the pipeline, in state NULL, with every output of @spec and no
 * source yet (see mr_live_pipeline_start_source); @health_timeout_ms is
 * the failover selector's `timeout`.  Every sink is async=false: the
 * pipeline reaches PLAYING without a source. */
gboolean mr_live_pipeline_build (MrLivePipeline * live,
    const MrFlowSpec * spec, guint health_timeout_ms, GError ** error);
/* The flow's recording (docs/recording.md): an isolated branch, like an
 * output's, named MR_LIVE_RECORDING (no output name has an '@'), with a
 * tssegmentsink into @dir.  On failure (the folder cannot be made) nothing
 * is attached. */
#define MR_LIVE_RECORDING "@recording"
gboolean mr_live_pipeline_attach_recording (MrLivePipeline * live,
    const gchar * dir, guint segment_duration, GError ** error);
void mr_live_pipeline_detach_recording (MrLivePipeline * live);

/* Stops the pipeline (state NULL) and releases everything. */
void mr_live_pipeline_clear (MrLivePipeline * live);

/* Starts the source at @index of @spec->sources: builds its bin, links it
 * to the tee (one source) or to a new pad of the selector or merger, and
 * brings it to the pipeline's state.  On failure nothing of it stays in
 * the pipeline and @error gives the element's own reason ("Cannot bind to
 * 0.0.0.0:5000 ..."). */
gboolean mr_live_pipeline_start_source (MrLivePipeline * live,
    const MrFlowSpec * spec, guint index, GError ** error);
/* Stops the source at @index and takes its bin out; the slot stays, empty,
 * for mr_live_pipeline_start_source to fill again. */
void mr_live_pipeline_stop_source (MrLivePipeline * live, guint index);
/* FAILOVER and MERGE, when the spec changes: a source that now stands at
 * @index of @spec->sources is started and linked to the selector or merger
 * (the slots after it move up); a source is stopped and its slot removed
 * (the slots after it move down); (FAILOVER) the primary (priority 0)
 * changes.  In any state, the others untouched. */
gboolean mr_live_pipeline_add_source (MrLivePipeline * live,
    const MrFlowSpec * spec, guint index, GError ** error);
void mr_live_pipeline_remove_source (MrLivePipeline * live,
    const gchar * name, guint index);
void mr_live_pipeline_set_primary (MrLivePipeline * live, guint index);

/* The index of the source whose current bin holds @element, or -1 (for an
 * element of a bin that was already stopped, too). */
gint mr_live_pipeline_source_of_element (MrLivePipeline * live,
    GstObject * element);
/* The source index of a packetstats element or selector pad name, or -1 */
gint mr_live_pipeline_source_of_stats (MrLivePipeline * live,
    GstObject * element);
gint mr_live_pipeline_source_of_pad (MrLivePipeline * live,
    const gchar * pad_name);

/* Adds or removes one output; works in any state, without disturbing the
 * other outputs. */
gboolean mr_live_pipeline_attach_output (MrLivePipeline * live,
    const MrEndpoint * out, GError ** error);
void mr_live_pipeline_detach_output (MrLivePipeline * live,
    const MrEndpoint * out);
/* What a branch output (SRT, RIST, RTP-FEC, RTMP) was handed so far, and
 * whether it failed; FALSE when @out has no branch now. */
gboolean mr_live_pipeline_output_counters (MrLivePipeline * live,
    const MrEndpoint * out, guint64 * bytes, guint64 * packets,
    gboolean * failed);
/* The sink that carries @out, or NULL. */
GstElement *mr_live_pipeline_output_sink (MrLivePipeline * live,
    const MrEndpoint * out);

G_END_DECLS

#endif /* __MR_LIVE_PIPELINE_H__ */
