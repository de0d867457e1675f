/* mroute: GET /metrics, the Prometheus text exposition format 0.0.4.
 *
 * The numbers are those of the REST API: the manager's flow list and each
 * flow's metrics (the same typed structs api/render.c writes as JSON,
 * docs/api.md), converted to base units: bytes
 * (rates too, as `promtool check metrics` wants) and seconds.  Families
 * are declared once, below, in the order they are written; each collects
 * its samples while the flows are walked and is then written whole behind
 * its HELP and TYPE lines, so the samples of a family stay together as
 * the format requires.  Every family is written, even without samples, so
 * the set of names does not depend on what runs.
 *
 * A flow that does not run (STANDBY, STOPPING, ERROR) has only its state
 * and an uptime of 0: its sources and outputs have nothing to count (the
 * API's zeros are placeholders, not counts), and a series that goes away
 * says that better than one that drops to 0.  A flow that runs again
 * counts from 0, which Prometheus' rate() takes as a counter reset.
 */

#define G_LOG_DOMAIN "mroute-prometheus"
#include "prometheus.h"

#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* meson can pass the project version; without it the label says so */
#ifndef MROUTE_VERSION
#define MROUTE_VERSION "unknown"
#endif

typedef enum
{
  FAM_BUILD_INFO,
  FAM_FLOWS,
  FAM_FLOW_STATE,
  FAM_FLOW_UPTIME,
  FAM_FLOW_FAILOVERS,
  FAM_FLOW_MERGE_ACTIVE,
  FAM_SOURCE_RECEIVED_BYTES,
  FAM_SOURCE_RECEIVED_PACKETS,
  FAM_SOURCE_LOST_PACKETS,
  FAM_SOURCE_RECOVERED_PACKETS,
  FAM_SOURCE_RATE,
  FAM_SOURCE_RTT,
  FAM_SOURCE_JITTER,
  FAM_SOURCE_SELECTED,
  FAM_SOURCE_CONNECTED,
  FAM_SOURCE_CONTENT_ALARM,
  FAM_SOURCE_CONTENT_STRETCHES,
  FAM_SOURCE_PUBLISHERS_REFUSED,
  FAM_OUTPUT_SENT_BYTES,
  FAM_OUTPUT_SENT_PACKETS,
  FAM_OUTPUT_DISCONNECTIONS,
  FAM_OUTPUT_RATE,
  FAM_OUTPUT_CONNECTED,
  FAM_OUTPUT_RTSP_VIEWERS,
  FAM_MERGE_OUTPUT_PACKETS,
  FAM_MERGE_MISSING_PACKETS,
  FAM_MERGE_RESTARTS,
  FAM_MERGE_ACTIVE_LEGS,
  FAM_MERGE_SKEW,
  FAM_MERGE_RECOVERY_WINDOW,
  FAM_MERGE_RECEIVED_PACKETS,
  FAM_MERGE_USED_PACKETS,
  FAM_MERGE_GAP_FILLS,
  FAM_MERGE_HOLES_FILLED,
  FAM_MERGE_DUPLICATE_PACKETS,
  FAM_MERGE_LATE_PACKETS,
  FAM_MERGE_FOREIGN_PACKETS,
  FAM_MERGE_INVALID_PACKETS,
  FAM_MERGE_DELIVERING,
  FAM_MERGE_LAG,
  FAM_PROCESS_CPU,
  FAM_PROCESS_RESIDENT_MEMORY,
  FAM_PROCESS_VIRTUAL_MEMORY,
  FAM_PROCESS_OPEN_FDS,
  FAM_PROCESS_MAX_FDS,
  FAM_PROCESS_THREADS,
  FAM_PROCESS_START_TIME,
  N_FAMILIES
} Family;

typedef struct
{
  const gchar *name;
  const gchar *type;
  const gchar *help;            /* no backslash, no newline */
} FamilyInfo;

#define COUNTER "counter"
#define GAUGE "gauge"

static const FamilyInfo families[N_FAMILIES] = {
  [FAM_BUILD_INFO] = {"mroute_build_info", GAUGE,
      "Always 1; the controller's version is in the label."},
  [FAM_FLOWS] = {"mroute_flows", GAUGE, "Flows configured, by state."},
  [FAM_FLOW_STATE] = {"mroute_flow_state", GAUGE,
      "1 for the state the flow is in, 0 for the others."},
  [FAM_FLOW_UPTIME] = {"mroute_flow_uptime_seconds", GAUGE,
      "Time since the flow became ACTIVE; 0 when it does not run."},
  [FAM_FLOW_FAILOVERS] = {"mroute_flow_failovers_total", COUNTER,
      "Switches from one source to another since the flow started."},
  [FAM_FLOW_MERGE_ACTIVE] = {"mroute_flow_merge_active", GAUGE,
      "1 while two or more sources deliver the merged stream (MERGE)."},
  [FAM_SOURCE_RECEIVED_BYTES] = {"mroute_source_received_bytes_total",
      COUNTER, "Bytes received by the source."},
  [FAM_SOURCE_RECEIVED_PACKETS] = {"mroute_source_received_packets_total",
      COUNTER, "Datagrams (UDP) or RTP packets received by the source."},
  [FAM_SOURCE_LOST_PACKETS] = {"mroute_source_lost_packets_total", COUNTER,
      "Packets lost and not recovered (RTP sequence numbers, MPEG-TS "
      "continuity counters, or SRT's own count)."},
  [FAM_SOURCE_RECOVERED_PACKETS] = {"mroute_source_recovered_packets_total",
      COUNTER, "Packets lost then recovered (FEC, RIST or SRT "
      "retransmission)."},
  [FAM_SOURCE_RATE] = {"mroute_source_receive_rate_bytes_per_second",
      GAUGE, "Bytes received per second, over the last second."},
  [FAM_SOURCE_RTT] = {"mroute_source_rtt_seconds", GAUGE,
      "Round-trip time to the peer (SRT; RIST: of its retransmissions); 0 "
      "when the protocol has none."},
  [FAM_SOURCE_JITTER] = {"mroute_source_jitter_seconds", GAUGE,
      "RFC 3550 interarrival jitter of an RTP-based source (rtp, rtp-fec, "
      "rist); 0 for the others."},
  [FAM_SOURCE_SELECTED] = {"mroute_source_selected", GAUGE,
      "1 when the source feeds the outputs (every running source in "
      "MERGE)."},
  [FAM_SOURCE_CONNECTED] = {"mroute_source_connected", GAUGE,
      "1 when data arrived within the last 2 seconds."},
  [FAM_SOURCE_CONTENT_ALARM] = {"mroute_source_content_alarm", GAUGE,
      "1 while the source's picture is black or frozen or its audio "
      "silent for longer than the flow's threshold (label kind)."},
  [FAM_SOURCE_CONTENT_STRETCHES] = {"mroute_source_content_stretches_total",
      COUNTER, "Black, frozen or silent stretches of the source since the "
      "flow started (label kind)."},
  [FAM_SOURCE_PUBLISHERS_REFUSED] = {"mroute_source_publishers_refused_total",
      COUNTER, "Publishers an rtmp source that listens refused: a stream key "
      "no source on its port has, or a second publisher of its own."},
  [FAM_OUTPUT_SENT_BYTES] = {"mroute_output_sent_bytes_total", COUNTER,
      "Bytes sent by the output."},
  [FAM_OUTPUT_SENT_PACKETS] = {"mroute_output_sent_packets_total", COUNTER,
      "Packets sent by the output."},
  [FAM_OUTPUT_DISCONNECTIONS] = {"mroute_output_disconnections_total",
      COUNTER, "Times the output's peer went away or its sink failed."},
  [FAM_OUTPUT_RATE] = {"mroute_output_send_rate_bytes_per_second", GAUGE,
      "Bytes sent per second, over the last second."},
  [FAM_OUTPUT_CONNECTED] = {"mroute_output_connected", GAUGE,
      "1 when the output is connected to its peer."},
  [FAM_OUTPUT_RTSP_VIEWERS] = {"mroute_output_rtsp_viewers", GAUGE,
      "RTSP sessions watching the output's mount now (rtsp outputs of "
      "running flows)."},
  [FAM_MERGE_OUTPUT_PACKETS] = {"mroute_merge_output_packets_total",
      COUNTER, "RTP packets out of the merger, each sequence number once."},
  [FAM_MERGE_MISSING_PACKETS] = {"mroute_merge_missing_packets_total",
      COUNTER, "Sequence numbers no source delivered within the recovery "
      "window."},
  [FAM_MERGE_RESTARTS] = {"mroute_merge_restarts_total", COUNTER,
      "Sender restarts (new SSRC or sequence numbers) the merge followed."},
  [FAM_MERGE_ACTIVE_LEGS] = {"mroute_merge_active_legs", GAUGE,
      "Sources delivering the merged stream."},
  [FAM_MERGE_SKEW] = {"mroute_merge_skew_seconds", GAUGE,
      "How far the slowest delivering source runs behind the fastest."},
  [FAM_MERGE_RECOVERY_WINDOW] = {"mroute_merge_recovery_window_seconds",
      GAUGE, "How long the merger waits for a missing packet."},
  [FAM_MERGE_RECEIVED_PACKETS] = {"mroute_merge_received_packets_total",
      COUNTER, "RTP packets the source delivered to the merger."},
  [FAM_MERGE_USED_PACKETS] = {"mroute_merge_used_packets_total", COUNTER,
      "Packets that went out from this source because it delivered them "
      "first."},
  [FAM_MERGE_GAP_FILLS] = {"mroute_merge_gap_fills_total", COUNTER,
      "Packets out of the merger that came from this source (the original's "
      "gap_fills; equal to mroute_merge_used_packets_total)."},
  [FAM_MERGE_HOLES_FILLED] = {"mroute_merge_holes_filled_total", COUNTER,
      "Packets that went out from this source and that no other source "
      "delivered: the holes it filled."},
  [FAM_MERGE_DUPLICATE_PACKETS] = {"mroute_merge_duplicate_packets_total",
      COUNTER, "Copies dropped because another source's copy went out."},
  [FAM_MERGE_LATE_PACKETS] = {"mroute_merge_late_packets_total", COUNTER,
      "Copies that came after the recovery window gave up on them."},
  [FAM_MERGE_FOREIGN_PACKETS] = {"mroute_merge_foreign_packets_total",
      COUNTER, "Packets of another stream, not merged."},
  [FAM_MERGE_INVALID_PACKETS] = {"mroute_merge_invalid_packets_total",
      COUNTER, "Packets that are not RTP."},
  [FAM_MERGE_DELIVERING] = {"mroute_merge_source_delivering", GAUGE,
      "1 while the source delivers to the merger."},
  [FAM_MERGE_LAG] = {"mroute_merge_source_lag_seconds", GAUGE,
      "How far the source runs behind the fastest one."},
  [FAM_PROCESS_CPU] = {"process_cpu_seconds_total", COUNTER,
      "User and system CPU time spent."},
  [FAM_PROCESS_RESIDENT_MEMORY] = {"process_resident_memory_bytes", GAUGE,
      "Resident memory size."},
  [FAM_PROCESS_VIRTUAL_MEMORY] = {"process_virtual_memory_bytes", GAUGE,
      "Virtual memory size."},
  [FAM_PROCESS_OPEN_FDS] = {"process_open_fds", GAUGE,
      "Open file descriptors."},
  [FAM_PROCESS_MAX_FDS] = {"process_max_fds", GAUGE,
      "Most open file descriptors allowed."},
  [FAM_PROCESS_THREADS] = {"process_threads", GAUGE, "OS threads."},
  [FAM_PROCESS_START_TIME] = {"process_start_time_seconds", GAUGE,
      "Start time of the process since the Unix epoch."},
};

/* The flow states of docs/api.md, in lifecycle order. */
static const gchar *const flow_states[] = {
  "STANDBY", "STARTING", "ACTIVE", "STOPPING", "ERROR",
};

typedef struct
{
  GString *samples[N_FAMILIES];
} Exposition;

/* ---------------------------------------------------------------------- */
/* writing samples */

/* Appends name="value" to a label set, the value escaped as the format
 * wants: backslash, double quote and line feed. */
static void
add_label (GString * labels, const gchar * name, const gchar * value)
{
  if (labels->len)
    g_string_append_c (labels, ',');
  g_string_append_printf (labels, "%s=\"", name);
  for (const gchar * p = value; *p; p++) {
    if (*p == '\\')
      g_string_append (labels, "\\\\");
    else if (*p == '"')
      g_string_append (labels, "\\\"");
    else if (*p == '\n')
      g_string_append (labels, "\\n");
    else
      g_string_append_c (labels, *p);
  }
  g_string_append_c (labels, '"');
}

static GString *
labels_with (const GString * base, const gchar * name, const gchar * value)
{
  GString *labels = g_string_new_len (base->str, base->len);

  add_label (labels, name, value);
  return labels;
}

/* Writes "name{labels} " and returns where the value goes. */
static GString *
sample_start (Exposition * e, Family family, const GString * labels)
{
  GString *out = e->samples[family];

  g_string_append (out, families[family].name);
  if (labels && labels->len)
    g_string_append_printf (out, "{%s}", labels->str);
  g_string_append_c (out, ' ');
  return out;
}

static void
append_double (GString * out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (v))
    g_string_append (out, "NaN");
  else if (isinf (v))
    g_string_append (out, v > 0 ? "+Inf" : "-Inf");
  else                          /* what a double holds, not 0.1000...01 */
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.15g", v));
}

static void
add_double (Exposition * e, Family family, const GString * labels,
    gdouble v)
{
  GString *out = sample_start (e, family, labels);

  append_double (out, v);
  g_string_append_c (out, '\n');
}

/* An integer sample, exact past 2^53 */
static void
add_int (Exposition * e, Family family, const GString * labels, gint64 v)
{
  GString *out = sample_start (e, family, labels);

  g_string_append_printf (out, "%" G_GINT64_FORMAT "\n", v);
}

static void
add_bool (Exposition * e, Family family, const GString * labels, gboolean v)
{
  GString *out = sample_start (e, family, labels);

  g_string_append (out, v ? "1\n" : "0\n");
}

/* ---------------------------------------------------------------------- */
/* flows */

/* kilobits per second (the API's unit) to bytes per second */
#define KBPS_TO_BYTES (1000.0 / 8)

/* The sources, and their round-trip time: SRT's own when there is one,
 * with more precision than the API's whole milliseconds (loopback is well
 * under one). */
static void
add_sources (Exposition * e, GPtrArray * sources, const GString * flow_labels)
{
  for (guint i = 0; i < sources->len; i++) {
    const MrSourceMetrics *m = sources->pdata[i];
    g_autoptr (GString) l = labels_with (flow_labels, "source", m->name);

    add_int (e, FAM_SOURCE_RECEIVED_BYTES, l, m->bytes_received);
    add_int (e, FAM_SOURCE_RECEIVED_PACKETS, l, m->packets_received);
    add_int (e, FAM_SOURCE_LOST_PACKETS, l, m->packets_lost);
    add_int (e, FAM_SOURCE_RECOVERED_PACKETS, l, m->packets_recovered);
    add_double (e, FAM_SOURCE_RATE, l, (gdouble) (gint64) m->bitrate_kbps *
        KBPS_TO_BYTES);
    add_bool (e, FAM_SOURCE_SELECTED, l, m->selected);
    add_bool (e, FAM_SOURCE_CONNECTED, l, m->connected);
    if (m->has_publishers_refused)
      add_int (e, FAM_SOURCE_PUBLISHERS_REFUSED, l, m->publishers_refused);
  }
  for (guint i = 0; i < sources->len; i++) {
    const MrSourceMetrics *m = sources->pdata[i];
    g_autoptr (GString) l = labels_with (flow_labels, "source", m->name);

    add_double (e, FAM_SOURCE_RTT, l, m->rtt_ms * 1e-3);
    add_double (e, FAM_SOURCE_JITTER, l, m->jitter_ms * 1e-3);
  }
  for (guint i = 0; i < sources->len; i++) {
    const MrSourceMetrics *m = sources->pdata[i];
    g_autoptr (GString) l = labels_with (flow_labels, "source", m->name);

    for (guint k = 0; k < MR_CONTENT_N_KINDS; k++) {
      g_autoptr (GString) lk = labels_with (l, "kind",
          mr_content_kind_to_string (k));

      add_bool (e, FAM_SOURCE_CONTENT_ALARM, lk, m->content_alarm[k]);
      add_int (e, FAM_SOURCE_CONTENT_STRETCHES, lk, m->content_stretches[k]);
    }
  }
}

static void
add_outputs (Exposition * e, GPtrArray * outputs, const GString * flow_labels)
{
  for (guint i = 0; i < outputs->len; i++) {
    const MrOutputMetrics *m = outputs->pdata[i];
    g_autoptr (GString) l = labels_with (flow_labels, "output", m->name);

    add_int (e, FAM_OUTPUT_SENT_BYTES, l, m->bytes_sent);
    add_int (e, FAM_OUTPUT_SENT_PACKETS, l, m->packets_sent);
    add_int (e, FAM_OUTPUT_DISCONNECTIONS, l, m->disconnections);
    add_double (e, FAM_OUTPUT_RATE, l, (gdouble) (gint64) m->bitrate_kbps *
        KBPS_TO_BYTES);
    add_bool (e, FAM_OUTPUT_CONNECTED, l, m->connected);
    if (m->has_viewers)
      add_int (e, FAM_OUTPUT_RTSP_VIEWERS, l, m->viewers);
  }
}

static void
add_merge (Exposition * e, const MrMergeMetrics * m, const GString * labels)
{
  add_int (e, FAM_MERGE_OUTPUT_PACKETS, labels, m->output_packets);
  add_int (e, FAM_MERGE_MISSING_PACKETS, labels, m->missing_packets);
  add_int (e, FAM_MERGE_RESTARTS, labels, m->restarts);
  add_int (e, FAM_MERGE_ACTIVE_LEGS, labels, m->active_legs);
  add_double (e, FAM_MERGE_SKEW, labels, m->skew_ms * 1e-3);
  add_double (e, FAM_MERGE_RECOVERY_WINDOW, labels,
      (gdouble) m->recovery_window_ms * 1e-3);

  for (guint i = 0; i < m->legs->len; i++) {
    const MrMergeLegMetrics *leg = m->legs->pdata[i];
    g_autoptr (GString) l = labels_with (labels, "source", leg->name);

    add_int (e, FAM_MERGE_RECEIVED_PACKETS, l, leg->packets);
    add_int (e, FAM_MERGE_USED_PACKETS, l, leg->used);
    add_int (e, FAM_MERGE_GAP_FILLS, l, leg->used);
    add_int (e, FAM_MERGE_HOLES_FILLED, l, leg->holes_filled);
    add_int (e, FAM_MERGE_DUPLICATE_PACKETS, l, leg->duplicates);
    add_int (e, FAM_MERGE_LATE_PACKETS, l, leg->late);
    add_int (e, FAM_MERGE_FOREIGN_PACKETS, l, leg->foreign);
    add_int (e, FAM_MERGE_INVALID_PACKETS, l, leg->invalid);
    add_bool (e, FAM_MERGE_DELIVERING, l, leg->delivering);
    add_double (e, FAM_MERGE_LAG, l, leg->lag_ms * 1e-3);
  }
}

static void
add_flow (Exposition * e, MrManager * mgr, const MrFlowInfo * flow,
    guint state_counts[G_N_ELEMENTS (flow_states)])
{
  const gchar *id = flow->spec->id;
  const gchar *name = flow->spec->name;
  const gchar *status;
  g_autoptr (GString) labels = g_string_new (NULL);
  g_autoptr (MrFlowMetrics) metrics = NULL;
  g_autoptr (GError) error = NULL;
  gboolean known = FALSE;

  /* in a cluster each node exports the flows it runs: scraping every node
   * gives every flow once */
  if (!id || !mr_manager_runs_here (mgr, id)
      || !(metrics = mr_manager_flow_metrics (mgr, id, &error)))
    return;
  status = mr_flow_state_to_string (metrics->state);

  add_label (labels, "flow_id", id);
  add_label (labels, "flow_name", name ? name : "");

  for (guint i = 0; i < G_N_ELEMENTS (flow_states); i++) {
    g_autoptr (GString) l = labels_with (labels, "state", flow_states[i]);
    gboolean is = g_str_equal (status, flow_states[i]);

    add_double (e, FAM_FLOW_STATE, l, is);
    state_counts[i] += is;
    known |= is;
  }
  if (!known) {
    /* a state this file does not know yet: still say it */
    g_autoptr (GString) l = labels_with (labels, "state", status);
    add_double (e, FAM_FLOW_STATE, l, 1);
  }

  if (metrics->state != MR_FLOW_ACTIVE && metrics->state != MR_FLOW_STARTING) {
    add_double (e, FAM_FLOW_UPTIME, labels, 0);
    return;
  }

  add_int (e, FAM_FLOW_UPTIME, labels, metrics->uptime_seconds);
  add_int (e, FAM_FLOW_FAILOVERS, labels, metrics->failover_count);
  add_bool (e, FAM_FLOW_MERGE_ACTIVE, labels, metrics->merge_active);

  add_sources (e, metrics->sources, labels);
  add_outputs (e, metrics->outputs, labels);
  if (metrics->merge)
    add_merge (e, metrics->merge, labels);
}

/* ---------------------------------------------------------------------- */
/* the process, as the Prometheus client libraries give it on Linux */

static gboolean
read_u64 (const gchar * s, guint64 * out)
{
  return s && g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT64, out, NULL);
}

static gboolean
boot_time (guint64 * btime)
{
  g_autofree gchar *stat = NULL;
  const gchar *line;

  if (!g_file_get_contents ("/proc/stat", &stat, NULL, NULL))
    return FALSE;
  line = strstr (stat, "\nbtime ");
  return line && (*btime = g_ascii_strtoull (line + 7, NULL, 10)) > 0;
}

static void
add_process (Exposition * e)
{
  g_autofree gchar *stat = NULL;
  struct rusage ru;
  struct rlimit rl;
  GDir *dir;

  if (getrusage (RUSAGE_SELF, &ru) == 0)
    add_double (e, FAM_PROCESS_CPU, NULL,
        ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
        (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);

  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)) {
    /* after the command name, which may hold spaces and parentheses;
     * field n of proc(5) is f[n - 3] */
    const gchar *rest = strrchr (stat, ')');
    g_auto (GStrv) f = rest ? g_strsplit (rest + 1, " ", 0) : NULL;
    guint64 threads, start, vsize, rss, btime;
    glong ticks = sysconf (_SC_CLK_TCK);

    if (f && g_strv_length (f) > 22) {
      /* f[0] is the empty string before the space after ')' */
      gchar **field = f + 1;

      if (read_u64 (field[20 - 3], &threads))
        add_double (e, FAM_PROCESS_THREADS, NULL, threads);
      if (read_u64 (field[22 - 3], &start) && ticks > 0 && boot_time (&btime))
        add_double (e, FAM_PROCESS_START_TIME, NULL,
            btime + (gdouble) start / ticks);
      if (read_u64 (field[23 - 3], &vsize))
        add_double (e, FAM_PROCESS_VIRTUAL_MEMORY, NULL, vsize);
      if (read_u64 (field[24 - 3], &rss))
        add_double (e, FAM_PROCESS_RESIDENT_MEMORY, NULL,
            (gdouble) rss * sysconf (_SC_PAGESIZE));
    }
  }

  if ((dir = g_dir_open ("/proc/self/fd", 0, NULL))) {
    guint n = 0;

    while (g_dir_read_name (dir))
      n++;
    g_dir_close (dir);
    /* less the descriptor that listed them */
    add_double (e, FAM_PROCESS_OPEN_FDS, NULL, n > 0 ? n - 1 : 0);
  }

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    add_double (e, FAM_PROCESS_MAX_FDS, NULL, rl.rlim_cur == RLIM_INFINITY ?
        INFINITY : (gdouble) rl.rlim_cur);
}

/* ---------------------------------------------------------------------- */

gchar *
mr_prometheus_render (MrManager * mgr)
{
  g_autoptr (GPtrArray) flows = mr_manager_list_flows (mgr);
  guint state_counts[G_N_ELEMENTS (flow_states)] = { 0 };
  g_autoptr (GString) labels = g_string_new (NULL);
  GString *out = g_string_sized_new (16384);
  Exposition e;

  for (guint i = 0; i < N_FAMILIES; i++)
    e.samples[i] = g_string_new (NULL);

  add_label (labels, "version", MROUTE_VERSION);
  add_double (&e, FAM_BUILD_INFO, labels, 1);

  for (guint i = 0; i < flows->len; i++)
    add_flow (&e, mgr, flows->pdata[i], state_counts);
  for (guint i = 0; i < G_N_ELEMENTS (flow_states); i++) {
    g_string_truncate (labels, 0);
    add_label (labels, "state", flow_states[i]);
    add_double (&e, FAM_FLOWS, labels, state_counts[i]);
  }
  add_process (&e);

  for (guint i = 0; i < N_FAMILIES; i++) {
    g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n",
        families[i].name, families[i].help, families[i].name,
        families[i].type);
    g_string_append_len (out, e.samples[i]->str, e.samples[i]->len);
    g_string_free (e.samples[i], TRUE);
  }
  return g_string_free (out, FALSE);
}
