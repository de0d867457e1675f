/* mroute: the `stats` structures of srtsrc and srtsink, read into one
 * shape for the metrics.  A listener's structure holds one sub-structure
 * per connected caller (`callers`); a caller's is flat. */

#ifndef __MR_SRT_STATS_H__
#define __MR_SRT_STATS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean connected;           /* a peer is there */
  guint callers;                /* listener: connected callers */
  gdouble rtt_ms;               /* worst of the peers */
  gint64 packets;               /* sent (sink) or received (source) */
  guint64 bytes;
  gint64 lost;                  /* sent-lost or received-lost */
  gint64 retransmitted;
  gint64 dropped;               /* too late to be played */
  gdouble rate_mbps;            /* send or receive rate */
  gint negotiated_latency_ms;
} MrSrtStats;

/* @sending: TRUE for srtsink's structure, FALSE for srtsrc's */
void mr_srt_stats_read (const GstStructure * s, gboolean sending,
    MrSrtStats * out);

G_END_DECLS

#endif /* __MR_SRT_STATS_H__ */
