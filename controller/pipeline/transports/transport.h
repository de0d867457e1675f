/* mroute: a transport, the one place that knows how a protocol's sources
 * and outputs are made of GStreamer elements.
 *
 * One table per protocol, one file each (udp.c, rtp.c, rtp-fec.c, rist.c,
 * srt.c, rtmp.c), found by mr_transport_get (); the recipe asks the table
 * and never switches on the protocol.  Adding a protocol is a file and a
 * line in registry.c.
 *
 * What a running flow watches of a protocol (a listener whose caller
 * left, a sink that lost its peer, a caller that never connects) is asked
 * of the table too, by flows/flow-events.c and flows/flow-outputs.c.  The
 * rules of a protocol's fields live in core/protocols/ (core may not
 * include this layer: see core/protocol-rules.h).
 *
 * A running source's own counters (SRT's link, RIST's statistics, what FEC
 * recovered) are read through the table too (read_source_stats), by
 * flows/flow-metrics.c. */

#ifndef __MR_TRANSPORT_H__
#define __MR_TRANSPORT_H__

#include <gst/gst.h>

#include "core/core.h"
#include "srt-stats.h"

G_BEGIN_DECLS

typedef enum
{
  /* a destination of the flow's one udpfanoutsink (one sendmmsg for all),
   * in the source's thread */
  MR_TRANSPORT_OUTPUT_FANOUT,
  /* its own sink, in an isolated branch (branch.h) */
  MR_TRANSPORT_OUTPUT_BRANCH,
} MrTransportOutputKind;

/* What the runner knows of a running output when it asks its transport
 * for the output's counters */
typedef struct
{
  GstElement *sink;             /* the shared udpfanoutsink or the branch's
                                 * sink */
  gboolean in_branch;           /* the three below are known */
  guint64 branch_bytes;         /* what the isolated branch was handed */
  guint64 branch_packets;
  gboolean failed;              /* the branch failed */
} MrOutputReading;

/* A running source's figures beyond its packetstats' counters, as its
 * transport reads them from the source's bin; all unset (zero) for a
 * protocol that has none. */
typedef struct
{
  /* what stays lost after the protocol's own recovery (RTP-FEC: the
   * jitter buffer after the FEC decoder counts it) */
  gboolean has_lost_after_recovery;
  guint64 lost_after_recovery;
  /* packets the protocol recovered (RIST: retransmissions), 0 if none */
  guint64 recovered;
  /* the link's own figures (SRT) */
  gboolean has_srt;
  MrSrtStats srt;
  /* an SRT listener: callers with another stream id are refused, and the
   * runner counts them */
  gboolean refuses_callers;
  /* an RTMP listener: publishers with an unknown stream key, or one in
   * use, are refused, and the runner counts them */
  gboolean refuses_publishers;
  /* ... and says so itself for every refusal, a wrong passphrase too
   * (srtroutesrc): what the library logs is not about this source */
  gboolean refusals_own;
  /* ristsrc's own `stats`, shown as they are; owned, or NULL */
  GstStructure *rist;
  /* the protocol's own RFC 3550 interarrival jitter, in ms, where the
   * source's packetstats cannot measure it (RIST: packetstats comes after
   * ristsrc's jitter buffer, which paces the packets out) */
  gboolean has_jitter;
  gdouble jitter_ms;
  /* the protocol's own round-trip time, in ms (RIST); SRT's is in srt */
  gboolean has_rtt;
  gdouble rtt_ms;
} MrSourceStats;

void mr_source_stats_clear (MrSourceStats * stats);

/* A running output's counters, as its transport reads them from its sink;
 * counters start from 0 with each new sink */
typedef struct
{
  gboolean connected;           /* its peer is there, or it has sent */
  guint64 bytes_sent;
  guint64 packets_sent;
  /* the link's own figures, sending side (SRT) */
  gboolean has_srt;
  MrSrtStats srt;
  /* ristsink's own `stats`, shown as they are; owned, or NULL */
  GstStructure *rist;
  /* a served output (RTSP): the viewers watching it now */
  gboolean has_viewers;
  guint viewers;
} MrOutputStats;

void mr_output_stats_clear (MrOutputStats * stats);

/* What an element message from inside a source means to the flow */
typedef enum
{
  MR_SOURCE_NOTE_NONE,          /* nothing the flow acts on */
  /* the source's peer left, and the source waits for the next one by
   * itself */
  MR_SOURCE_NOTE_LISTENING_ANEW,
  /* the source refused a caller; the detail: the stream id it sent, the
   * reason: why, if the source says */
  MR_SOURCE_NOTE_CALLER_REFUSED,
  /* the source refused a second peer, as it has one already */
  MR_SOURCE_NOTE_SECOND_PEER_REFUSED,
} MrSourceNote;

typedef struct
{
  MrProtocol protocol;

  /* Adds the elements of a source to @bin, linked; *@last is the element
   * whose src pad carries the source's MPEG-TS, or with @rtp_out its RTP
   * packets (for the ST 2022-7 merger: only protocols that carry RTP are
   * asked), and *@stats its packetstats. */
  gboolean (*build_source) (GstBin * bin, const MrEndpoint * src,
      gboolean rtp_out, GstElement ** stats, GstElement ** last,
      GError ** error);

  MrTransportOutputKind output_kind;
  /* FANOUT: the element between the tee and the shared sink, or NULL
   * (plain TS); one shared sink per payloader */
  const gchar *fanout_payloader;
  /* 1+1 (docs/cluster.md): its sources can hand their RTP packets as
   * they came (build_source's @rtp_out) and its FANOUT outputs can send
   * such packets as they are, without the payloader: a flow with
   * redundancy 2 whose sources are all of such a protocol sends the
   * same packets from both nodes */
  gboolean rtp_passthrough;
  /* BRANCH: the output's sink, an element or a bin with a sink pad; @dir
   * is the output's own folder for the files it writes (writes_files), or
   * NULL when the flow has none */
  GstElement *(*make_output) (const MrEndpoint * out, const gchar * dir,
      GError ** error);
  /* Its output writes files into its folder (hls), which the live
   * pipeline deletes when the output is detached */
  gboolean writes_files;
  /* The output's counters now, into @stats (zeroed by the caller); FALSE
   * if there are none */
  gboolean (*read_output_stats) (const MrEndpoint * out,
      const MrOutputReading * reading, MrOutputStats * stats);
  /* whether a running flow can add, change or remove such an output
   * without a restart */
  gboolean output_live;

  /* -- Watching a running flow (flows/flow-events.c, flow-outputs.c) --
   * What the runner asks instead of testing the protocol.  NULL, FALSE or
   * 0: the protocol has no such behaviour. */

  /* What the element message @s, from inside a source's bin, means;
   * *@detail and *@reason (owned by @s, or left NULL) are what it
   * carries */
  MrSourceNote (*read_source_message) (const GstStructure * s,
      const gchar ** detail, const gchar ** reason);
  /* Who a CALLER_REFUSED note is about, and what its detail is, in
   * events; NULL: "SRT caller with stream id" */
  const gchar *refused_caller;
  /* A source that goes silent (its packetstats' idle-timeout) is started
   * again at once, for this reason: a listener that takes one caller at a
   * time, whose caller left.  NULL: it waits for data to come back. */
  const gchar *restart_silent_source;
  /* ... but not a source this says TRUE of: it takes its next caller by
   * itself, even while the silent one's link lingers (srtroutesrc: a
   * caller that comes back takes its route over), and a restart would
   * only drop a caller that came back meanwhile */
  gboolean (*source_takes_next_caller) (const MrEndpoint * src);
  /* The output's sink reconnects by itself: its `connected` falling
   * between two samples, or a warning for which this says TRUE, is a peer
   * that went away */
  gboolean watch_output_link;
  gboolean (*output_warning_lost_peer) (const GError * warning);
  /* An output not connected this long after it was attached or lost its
   * peer failed to connect, and is attached again; 0: it may wait */
  guint output_connect_timeout_ms;
  /* The protocol's library says when it refused a peer
   * (srt-log.h): an encrypted endpoint without a peer may be the one,
   * and hears of it */
  gboolean refusals_logged;

  /* -- Reading a running flow's figures (flows/flow-metrics.c) -- */

  /* A running source's own figures, read from its bin (@bin, the
   * "source-NAME" bin build_source filled) into @stats, which starts
   * zeroed; NULL: the protocol has none beyond packetstats */
  void (*read_source_stats) (const MrEndpoint * src, GstBin * bin,
      MrSourceStats * stats);
} MrTransport;

/* The element message an SRT listener source posts for a caller it
 * refused because of its stream id (field "stream-id", the id it sent)
 * or, srtroutesrc, its passphrase (field "reason", why; never a secret) */
#define MR_TRANSPORT_SRT_REFUSED "mroute-srt-refused"

/* The transport of @protocol, or NULL for one this build does not have */
const MrTransport *mr_transport_get (MrProtocol protocol);

/* ---------------------------------------------------------------------- */
/* for the transports */

#define MR_TRANSPORT_ERROR (mr_transport_error_quark ())
GQuark mr_transport_error_quark (void);

#define MR_TS_CAPS \
  "video/mpegts, systemstream=(boolean)true, packetsize=(int)188"
#define MR_RTP_MP2T_CAPS "application/x-rtp, media=(string)video, " \
  "clock-rate=(int)90000, encoding-name=(string)MP2T"
/* the kernel's receive buffer of every UDP socket of a source */
#define MR_UDP_RECV_BUFFER (4 * 1024 * 1024)
/* one RTP packet per datagram of 7 TS packets */
#define MR_RTP_MTU (12 + 7 * 188)

/* Deletes the files in @dir, then @dir (not below: an output's folder
 * holds only files) */
void mr_transport_remove_files (const gchar * dir);

/* gst_element_factory_make () that says which plugin is missing */
GstElement *mr_transport_make (const gchar * factory, const gchar * name,
    GError ** error);
/* udpbatchsrc on @src's ingest address and @port with @caps, then
 * packetstats, added to @bin; *@stats (and the return value) is the
 * packetstats */
GstElement *mr_transport_add_udp_receiver (GstBin * bin,
    const MrEndpoint * src, gint port, const gchar * caps,
    GstElement ** stats, GError ** error);
/* The multicast options of @out (ttl, dscp, interface) on a udpfanoutsink;
 * those @out does not set are the sink's defaults */
void mr_transport_set_send_options (GstElement * udpfanoutsink,
    const MrEndpoint * out);
/* Which shared udpfanoutsink of the flow carries @out, a FANOUT output of
 * @transport: one sink per payloader and per distinct (ttl, dscp,
 * interface), since those are options of the sink's sockets and not of a
 * destination.  The key is also the sink's name after "fanout-": "ts",
 * "rtpmp2tpay", "ts-ttl16-dscp46-eth1" ... */
gchar *mr_transport_fanout_key (const MrTransport * transport,
    const MrEndpoint * out);
/* A destination's counters in a udpfanoutsink (its `get-stats`), with
 * `connected` once it has sent */
gboolean mr_transport_fanout_stats (GstElement * udpfanoutsink,
    const MrEndpoint * out, MrOutputStats * stats);
/* Appends rtpmp2tdepay after *@last unless @rtp_out */
gboolean mr_transport_add_depay (GstBin * bin, gboolean rtp_out,
    GstElement ** last, GError ** error);

G_END_DECLS

#endif /* __MR_TRANSPORT_H__ */
