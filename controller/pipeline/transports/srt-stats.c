/* mroute: srtsrc/srtsink statistics into one shape. */

#define G_LOG_DOMAIN "mroute-srt"
#include "srt-stats.h"

#include <string.h>

static gint64
get_int (const GstStructure * s, const gchar * field)
{
  const GValue *v = gst_structure_get_value (s, field);

  if (!v)
    return 0;
  if (G_VALUE_HOLDS_INT (v))
    return g_value_get_int (v);
  if (G_VALUE_HOLDS_INT64 (v))
    return g_value_get_int64 (v);
  if (G_VALUE_HOLDS_UINT64 (v))
    return (gint64) g_value_get_uint64 (v);
  if (G_VALUE_HOLDS_DOUBLE (v))
    return (gint64) g_value_get_double (v);
  return 0;
}

static gdouble
get_double (const GstStructure * s, const gchar * field)
{
  gdouble d = 0;

  gst_structure_get_double (s, field, &d);
  return d;
}

/* adds one peer's figures */
static void
add_peer (const GstStructure * s, gboolean sending, MrSrtStats * out)
{
  gdouble rtt = get_double (s, "rtt-ms");

  out->connected = TRUE;
  out->rtt_ms = MAX (out->rtt_ms, rtt);
  out->negotiated_latency_ms = MAX (out->negotiated_latency_ms,
      (gint) get_int (s, "negotiated-latency-ms"));
  if (sending) {
    out->packets += get_int (s, "packets-sent");
    out->bytes += get_int (s, "bytes-sent");
    out->lost += get_int (s, "packets-sent-lost");
    out->retransmitted += get_int (s, "packets-retransmitted");
    out->dropped += get_int (s, "packets-sent-dropped");
    out->rate_mbps += get_double (s, "send-rate-mbps");
  } else {
    out->packets += get_int (s, "packets-received");
    out->bytes += get_int (s, "bytes-received");
    out->lost += get_int (s, "packets-received-lost");
    out->retransmitted += get_int (s, "packet-nack-sent");
    out->dropped += get_int (s, "packets-received-dropped");
    out->rate_mbps += get_double (s, "receive-rate-mbps");
  }
}

void
mr_srt_stats_read (const GstStructure * s, gboolean sending, MrSrtStats * out)
{
  const GValue *callers;

  memset (out, 0, sizeof (*out));
  if (!s)
    return;

  callers = gst_structure_get_value (s, "callers");
  /* srtsrc and srtsink give their callers as a (deprecated) GValueArray */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  if (callers && G_VALUE_TYPE (callers) == g_type_from_name ("GValueArray")) {
    GValueArray *arr = g_value_get_boxed (callers);
    for (guint i = 0; arr && i < arr->n_values; i++) {
      const GValue *v = g_value_array_get_nth (arr, i);
      if (GST_VALUE_HOLDS_STRUCTURE (v)) {
        add_peer (gst_value_get_structure (v), sending, out);
        out->callers++;
      }
    }
    return;
  }
  G_GNUC_END_IGNORE_DEPRECATIONS;
  /* a caller: connected once the handshake gave an RTT or data moved */
  if (gst_structure_has_field (s, "rtt-ms")) {
    add_peer (s, sending, out);
    out->connected = out->rtt_ms > 0 || out->packets > 0;
  }
}
