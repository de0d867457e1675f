/* mroute: the pipeline builder.  A flow spec in, GStreamer elements out,
 * and nothing kept: it makes a source's bin (asking the source's transport),
 * the failover selector, the ST 2022-7 merger, a shared fan-out sink and an
 * output's sink, configured and not yet in any pipeline.  Where they go and
 * how they change while the flow runs is live-pipeline.h's; the shape:
 *
 *   source:  udpbatchsrc ! packetstats [! rtpmp2tdepay] ! tee name=fanout
 *   FAILOVER: every source ! failoverselector ! tee
 *   MERGE:    every source's RTP ! rtpst2022-7-merge ! rtpmp2tdepay ! tee
 *   1+1 RTP (mr_builder_passes_rtp): the source's (or the merger's) RTP
 *             ! [fence] tee name=rtp-fanout ! rtpmp2tdepay ! tee name=fanout;
 *             RTP outputs: rtp-fanout. ! udpfanoutsink name=fanout-rtp
 *   the fence (fence.h) sits on the sink pad of the first tee
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
 *
 * Knows nothing of HTTP, SQLite, a flow's state or any one protocol (the
 * transports do); keeps no state (the one GStreamer debug category,
 * "mroute-builder", is made once).
 */

#ifndef __MR_BUILDER_H__
#define __MR_BUILDER_H__

#include <gst/gst.h>

#include "core/core.h"

G_BEGIN_DECLS

#define MR_BUILDER_ERROR (mr_builder_error_quark ())
GQuark mr_builder_error_quark (void);

/* The element message a source bin posts instead of letting EOS out */
#define MR_BUILDER_SOURCE_EOS "mroute-source-eos"

/* A new element of @factory, or NULL with @error naming the missing
 * plugin. */
GstElement *mr_builder_make (const gchar * factory, const gchar * name,
    GError ** error);

/* Adds to @error's message the detail an element gave only in its debug
 * string ("Could not open resource for reading." then "Cannot bind to
 * 0.0.0.0:5000 - ..."): the reason an operator needs. */
void mr_builder_error_add_reason (GError * error, const gchar * debug);

/* Which source index the spec runs on (first). */
guint mr_builder_pick_source (const MrFlowSpec * spec);
/* Whether the spec runs both sources into a failoverselector (FAILOVER),
 * into the ST 2022-7 merger (MERGE), or either. */
gboolean mr_builder_uses_failover (const MrFlowSpec * spec);
gboolean mr_builder_uses_merge (const MrFlowSpec * spec);
gboolean mr_builder_runs_all_sources (const MrFlowSpec * spec);
/* 1+1: whether the spec's RTP goes out as it came: redundancy 2, every
 * source of a protocol that can (the transport's rtp_passthrough), no
 * FAILOVER selector, and an output that sends it.  The sources then hand
 * RTP, the merger (MERGE) passes it on, and the pipeline has a tee of RTP
 * before the tee of MPEG-TS (live-pipeline.h). */
gboolean mr_builder_passes_rtp (const MrFlowSpec * spec);

/* One source's elements as a bin "source-NAME" with one src pad: MPEG-TS,
 * or with @rtp_out the RTP packets of an RTP source, for the merger.
 * @stats: its packetstats element.  The bin never lets EOS through: it
 * posts an element message MR_BUILDER_SOURCE_EOS instead, so that one
 * source ending never ends the flow. */
GstElement *mr_builder_source_bin (const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GError ** error);
/* FAILOVER: the selector every source runs into; @health_timeout_ms is
 * how long the active source may be silent. */
GstElement *mr_builder_failover_selector (guint health_timeout_ms,
    GError ** error);
/* MERGE: the merger every source's RTP runs into and the depayloader
 * after it (link merger ! depay once both are in a bin). */
gboolean mr_builder_merge (const MrFlowSpec * spec, GstElement ** merger,
    GstElement ** depay, GError ** error);
/* The udpfanoutsink "fanout-@key" shared by the outputs of one fan-out
 * key: its payloader (NULL: plain TS, or @rtp_in: RTP sent as it comes;
 * @pay stays NULL) and its multicast options (@out's ttl, dscp,
 * interface). */
GstElement *mr_builder_fanout_sink (const MrEndpoint * out,
    const gchar * key, gboolean rtp_in, GstElement ** pay, GError ** error);
/* The sink of an output that runs in its own isolated branch (SRT, RIST,
 * RTP-FEC, RTMP), made by its transport. */
/* A flow's recording: tssegmentsink writing the TS as it comes into
 * @dir (made if need be), a segment per @segment_duration seconds at
 * least, cut at key frames, named by their start time */
GstElement *mr_builder_recording_sink (const gchar * dir,
    guint segment_duration, GError ** error);
GstElement *mr_builder_output_sink (const MrEndpoint * out,
    const gchar * dir, GError ** error);

/* Whether an element belongs to the source side (a "source-" bin). */
gboolean mr_builder_element_is_source (GstObject * element);
/* The name of the source whose bin @element belongs to, or NULL. */
gchar *mr_builder_element_source (GstObject * element);
/* The name of the output whose branch @element belongs to, or NULL. */
gchar *mr_builder_element_output (GstObject * element);

G_END_DECLS

#endif /* __MR_BUILDER_H__ */
