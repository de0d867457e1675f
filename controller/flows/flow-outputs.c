/* mroute: the outputs of a running flow: their counters, and how they heal.
 *
 * An output that fails is taken out and attached again after 1, 2, 4 ...
 * 30 s (the others go on), counted in its disconnections; one whose sink
 * reconnects by itself is watched instead, and one that never connects
 * within its transport's connect timeout failed like any other.  What a
 * protocol does here its transport says (pipeline/transports/transport.h).
 *
 * Counters of an output start from 0 with each new sink: the totals here
 * add the sinks' lives up so that what the API and Prometheus show never
 * goes down.  It does not know the bus (flow-events.c turns an output's
 * error into mr_runner_output_failed ()). */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

#define RECONNECT_MAX_S 30
#define RECONNECT_STABLE_US (10 * G_USEC_PER_SEC)

/* One output's counters as its sink counts them now (its transport reads
 * them); FALSE, with @stats zeroed, when the output has no sink now
 * (waiting to reconnect). */
static gboolean
output_raw_stats (MrRunner * r, const MrEndpoint * out,
    MrOutputStats * stats)
{
  const MrTransport *transport = mr_transport_get (out->protocol);
  MrOutputReading reading = { NULL, };

  *stats = (MrOutputStats) { 0 };
  reading.sink = mr_live_pipeline_output_sink (&r->live, out);
  if (!reading.sink || !transport)
    return FALSE;
  reading.in_branch = mr_live_pipeline_output_counters (&r->live, out,
      &reading.branch_bytes, &reading.branch_packets, &reading.failed);
  if (transport->read_output_stats (out, &reading, stats))
    return TRUE;
  mr_output_stats_clear (stats);
  *stats = (MrOutputStats) { 0 };
  return FALSE;
}

gboolean
mr_runner_output_stats (MrRunner * r, const MrEndpoint * out,
    MrOutputStats * stats)
{
  MrOutputState *st;

  if (!r->live.pipeline) {
    *stats = (MrOutputStats) { 0 };
    return FALSE;
  }
  output_raw_stats (r, out, stats);
  st = mr_runner_output_state (r, out->name);
  stats->bytes_sent = mr_total_update (&st->bytes_sent, stats->bytes_sent);
  stats->packets_sent = mr_total_update (&st->packets_sent,
      stats->packets_sent);
  return TRUE;
}

void
mr_runner_output_end_life (MrRunner * r, const MrEndpoint * out)
{
  MrOutputState *st = mr_runner_output_state (r, out->name);
  MrOutputStats stats;

  output_raw_stats (r, out, &stats);
  mr_total_end_life (&st->bytes_sent, stats.bytes_sent);
  mr_total_end_life (&st->packets_sent, stats.packets_sent);
  mr_output_stats_clear (&stats);
}

/* A caller that never connects after this is a failed connection like
 * any other. */
void
mr_runner_output_attached (MrRunner * r, const MrEndpoint * out)
{
  mr_runner_output_state (r, out->name)->connecting_since =
      g_get_monotonic_time ();
}

static gboolean
reconnect_now (gpointer user_data)
{
  MrOutputState *st = user_data;
  MrRunner *r = st->runner;
  MrEndpoint *out = mr_flow_spec_find_output (r->spec, st->name, NULL);
  g_autoptr (GError) error = NULL;

  st->reconnect_timer = 0;
  if (!out || !r->live.pipeline)
    return G_SOURCE_REMOVE;
  g_message ("flow %s: output '%s': connecting again (attempt %u)",
      r->spec->id, out->name, st->reconnect_attempts + 1);
  st->attached_at = g_get_monotonic_time ();
  mr_runner_output_attached (r, out);
  if (!mr_live_pipeline_attach_output (&r->live, out, &error))
    mr_runner_emit (r, "connection_error", "error", "output '%s': %s",
        out->name, error->message);
  return G_SOURCE_REMOVE;
}

void
mr_runner_output_failed (MrRunner * r, const gchar * name,
    const GError * err)
{
  MrEndpoint *out = mr_flow_spec_find_output (r->spec, name, NULL);
  MrOutputState *st;
  guint delay;

  if (!out)
    return;
  st = mr_runner_output_state (r, name);
  if (st->reconnect_timer)
    return;                     /* already waiting: a follow-up error */
  if (st->attached_at
      && g_get_monotonic_time () - st->attached_at > RECONNECT_STABLE_US)
    st->reconnect_attempts = 0;
  delay = MIN (1u << MIN (st->reconnect_attempts, 5), RECONNECT_MAX_S);
  st->reconnect_attempts++;

  st->disconnections++;
  st->link_up = FALSE;
  st->connecting_since = 0;
  mr_runner_emit (r, "connection_error", "error",
      "output '%s': %s; connecting again in %u s", name, err->message, delay);
  mr_runner_output_end_life (r, out);
  mr_live_pipeline_detach_output (&r->live, out);
  st->reconnect_timer = g_timeout_add_seconds (delay, reconnect_now, st);
}

/* A sink that reconnects by itself: a peer that went away is seen as the
 * link going down between two samples. */
static void
watch_link (MrRunner * r, const MrEndpoint * out, gboolean up)
{
  MrOutputState *st = mr_runner_output_state (r, out->name);
  gboolean was_up = st->link_up;

  if (up == was_up)
    return;
  st->link_up = up;
  if (was_up && !up) {
    st->disconnections++;
    mr_runner_output_attached (r, out); /* connecting again from now */
    mr_runner_emit (r, "connection_error", "warning",
        "output '%s': the peer went away; connecting again", out->name);
  }
}

/* An output that has not connected within @timeout_ms after it was
 * attached or lost its peer failed to connect: counted, written as a
 * connection_error, and attached again after the back-off, as any output
 * that fails. */
static void
watch_connecting (MrRunner * r, const MrEndpoint * out, gboolean up,
    gint64 now, guint timeout_ms)
{
  MrOutputState *st = mr_runner_output_state (r, out->name);
  g_autoptr (GError) err = NULL;

  if (up || !st->connecting_since
      || now - st->connecting_since < (gint64) timeout_ms * 1000
      || !mr_live_pipeline_output_sink (&r->live, out))
    return;
  st->connecting_since = 0;
  err = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
      "could not connect to %s:%d within %d s", out->destination, out->port,
      (gint) (timeout_ms / 1000));
  mr_runner_output_failed (r, out->name, err);
}

void
mr_runner_output_sampled (MrRunner * r, const MrEndpoint * out,
    const MrOutputStats * stats, gint64 now)
{
  const MrTransport *transport = mr_transport_get (out->protocol);

  mr_rate_update (&mr_runner_output_state (r, out->name)->rate,
      stats->bytes_sent, now);
  if (!transport)
    return;
  if (transport->watch_output_link)
    watch_link (r, out, stats->connected);
  if (transport->output_connect_timeout_ms)
    watch_connecting (r, out, stats->connected, now,
        transport->output_connect_timeout_ms);
}
