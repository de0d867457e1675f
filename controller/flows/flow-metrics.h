/* mroute: what the flows layer answers, as plain typed data: a flow (a
 * copy of its spec and its state), its metrics (per source, per output,
 * the ST 2022-7 merge, filled by flow-metrics.c and flow-merge.c) and its
 * source monitoring (thumbnail, stream metadata, content quality,
 * flow-monitor.c).
 *
 * No JSON and no Prometheus here: the api layer renders these structs
 * (api/render.c, api/prometheus.c), so both always show the same figures.
 * No GStreamer either: the numbers are copied out of the elements' stats
 * before they get here. */

#ifndef __MR_FLOW_METRICS_H__
#define __MR_FLOW_METRICS_H__

#include <glib.h>

#include "core/core.h"
#include "monitor/monitor.h"

G_BEGIN_DECLS

typedef enum
{
  MR_FLOW_STANDBY,
  MR_FLOW_STARTING,
  MR_FLOW_ACTIVE,
  MR_FLOW_STOPPING,
  MR_FLOW_ERROR,
} MrFlowState;

const gchar *mr_flow_state_to_string (MrFlowState state);

/* ---------------------------------------------------------------------- */
/* a flow */

typedef struct
{
  MrFlowSpec *spec;             /* a copy, owned */
  MrFlowState state;
} MrFlowInfo;

MrFlowInfo *mr_flow_info_new (const MrFlowSpec * spec, MrFlowState state);
void mr_flow_info_free (MrFlowInfo * info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrFlowInfo, mr_flow_info_free);

/* ---------------------------------------------------------------------- */
/* metrics */

/* One number of an element's own statistics, as the element gives it
 * (RIST's): an integer or a double, under its field name with '_' for
 * '-'. */
typedef struct
{
  gchar *name;
  gboolean is_double;
  gint64 int_value;
  gdouble double_value;
} MrStatValue;

/* A GArray of MrStatValue that frees the names with itself */
GArray *mr_stat_values_new (void);
void mr_stat_values_add_int (GArray * values, const gchar * name,
    gint64 value);
void mr_stat_values_add_double (GArray * values, const gchar * name,
    gdouble value);

/* An SRT link, as the source (receiving) or the output (sending) sees it */
typedef struct
{
  gboolean has_callers_refused; /* a listener source */
  guint64 callers_refused;      /* callers with another stream id */
  guint connected_callers;
  gdouble rtt_ms;
  gint64 lost;                  /* received-lost or sent-lost */
  gint64 retransmitted;         /* NAKs sent, or packets retransmitted */
  gint64 dropped;
  gdouble rate_mbps;            /* receive or send rate */
  gint negotiated_latency_ms;
} MrSrtMetrics;

typedef struct
{
  gchar *name;
  MrProtocol protocol;
  gboolean connected;           /* data arrived lately */
  guint64 bitrate_kbps;
  guint64 bytes_received;
  guint64 packets_received;
  guint64 packets_lost;         /* and not recovered */
  guint64 packets_recovered;
  gint64 round_trip_time_ms;    /* whole ms, 0 when the protocol has none */
  gdouble rtt_ms;               /* the same, not rounded */
  /* RFC 3550 interarrival jitter of an RTP-based source (rtp, rtp-fec:
   * packetstats; rist: its RTP session), ms; 0 for the others (SRT's
   * statistics have no jitter, UDP and RTMP carry no RTP timestamps) */
  gdouble jitter_ms;
  gboolean selected;            /* feeds the outputs */
  gboolean has_srt;
  MrSrtMetrics srt;
  GArray *rist;                 /* MrStatValue: ristsrc's own, or NULL */
  /* an RTMP listener source: publishers refused (unknown stream key, or
   * one already publishing) */
  gboolean has_publishers_refused;
  guint64 publishers_refused;
  /* content alarms (MrContentKind) while the source was monitored: one on
   * now, and stretches since the flow started */
  gboolean content_alarm[MR_CONTENT_N_KINDS];
  guint64 content_stretches[MR_CONTENT_N_KINDS];
} MrSourceMetrics;

typedef struct
{
  gchar *name;
  MrProtocol protocol;
  gboolean connected;
  guint64 bitrate_kbps;
  guint64 bytes_sent;
  guint64 packets_sent;
  guint disconnections;
  gboolean has_srt;
  MrSrtMetrics srt;
  GArray *rist;                 /* MrStatValue: ristsink's own, or NULL */
  gboolean has_viewers;         /* rtsp: viewers watching it now */
  guint viewers;
} MrOutputMetrics;

/* A source's leg in the merger: totals over the source's pads */
typedef struct
{
  gchar *name;
  guint64 packets;              /* received */
  guint64 used;                 /* went out from this source: the seed's
                                 * gap_fills */
  guint64 holes_filled;         /* unique: went out and no other source
                                 * had it */
  guint64 duplicates;
  guint64 late;
  guint64 foreign;
  guint64 invalid;
  gboolean delivering;
  gdouble lag_ms;
} MrMergeLegMetrics;

#define MR_MERGE_NAMED_LEGS 2   /* the seed's source_a_..., source_b_... */

typedef struct
{
  guint64 named_packets[MR_MERGE_NAMED_LEGS];
  /* the seed's source_X_gap_fills: packets out of the merger that came
   * from this source (its `used`); they add up to output_packets */
  guint64 named_used[MR_MERGE_NAMED_LEGS];
  guint64 named_holes_filled[MR_MERGE_NAMED_LEGS];      /* unique */
  guint64 output_packets;
  guint64 missing_packets;
  gint recovery_window_ms;
  guint active_legs;
  gdouble skew_ms;
  guint64 restarts;
  GPtrArray *legs;              /* MrMergeLegMetrics*, one per source */
} MrMergeMetrics;

typedef struct
{
  gchar *flow_id;
  gchar *active_source;         /* "" when the flow does not run */
  MrFlowState state;
  gint64 uptime_seconds;
  guint failover_count;
  gboolean merge_active;
  MrMergeMetrics *merge;        /* NULL unless the merger runs */
  GPtrArray *sources;           /* MrSourceMetrics*, in the spec's order */
  GPtrArray *outputs;           /* MrOutputMetrics*, in the spec's order */
  gint64 timestamp;             /* wall µs when read */
} MrFlowMetrics;

MrFlowMetrics *mr_flow_metrics_new (void);
void mr_flow_metrics_free (MrFlowMetrics * metrics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrFlowMetrics, mr_flow_metrics_free);

MrMergeMetrics *mr_merge_metrics_new (void);
void mr_merge_metrics_free (MrMergeMetrics * merge);

/* ---------------------------------------------------------------------- */
/* source monitoring */

typedef struct
{
  gchar *flow_id;
  GBytes *jpeg;
  gint64 timestamp;             /* wall µs it was made at */
} MrThumbnail;

void mr_thumbnail_free (MrThumbnail * thumbnail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrThumbnail, mr_thumbnail_free);

typedef struct
{
  gchar *flow_id;
  gchar *source;                /* the source the streams come from */
  GPtrArray *programs;          /* MrMonitorProgram* */
  GPtrArray *streams;           /* MrMonitorStream* */
} MrStreamMetadata;

void mr_stream_metadata_free (MrStreamMetadata * metadata);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrStreamMetadata, mr_stream_metadata_free);

/* MrContentQuality (monitor.h) is answered as it is, in a g_new copy */

G_END_DECLS

#endif /* __MR_FLOW_METRICS_H__ */
