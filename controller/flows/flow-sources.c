/* mroute: the sources of a running flow heal themselves.
 *
 * A source that errors, reaches EOS, loses its peer for good, cannot
 * connect or finds its port busy is taken out of the pipeline and started
 * again after 1, 2, 4 ... 30 s, each try a `source_retry` event; the flow
 * stays ACTIVE, its outputs and monitoring stay where they are, and video
 * resumes by itself when the source returns.  The same in every mode: with
 * one source it links to the tee again, in FAILOVER and MERGE it gets a new
 * pad of the selector or merger (the other source carries the flow
 * meanwhile).  The back-off starts over once the source delivers again.
 *
 * Counters of a source or an output start from 0 with every new element
 * (a rebuilt source, a reconnected output, a new SRT peer): the totals here
 * add the lives up so that what the API and Prometheus show never goes
 * down. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

#define RETRY_MAX_S 30

/* ---------------------------------------------------------------------- */
/* totals */

void
mr_runner_source_end_life (MrRunner * r, guint index)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);
  GstStructure *s = NULL;

  if (!r->live.source_stats[index])
    return;
  if (r->live.merger)
    mr_runner_merge_leg_end_life (r, index);
  g_object_get (r->live.source_stats[index], "stats", &s, NULL);
  mr_total_end_life (&st->bytes, mr_runner_struct_u64 (s, "bytes"));
  mr_total_end_life (&st->packets, mr_runner_struct_u64 (s, "packets"));
  mr_total_end_life (&st->lost, mr_runner_struct_u64 (s, "lost"));
  g_clear_pointer (&s, gst_structure_free);
}

/* ---------------------------------------------------------------------- */
/* failing and trying again */

static const gchar *
source_name (MrRunner * r, guint index)
{
  return ((MrEndpoint *) r->spec->sources->pdata[index])->name;
}

static gboolean retry_now (gpointer user_data);

/* The source's bin goes; what it counted stays in the totals */
static void
take_out (MrRunner * r, guint index)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);

  mr_runner_source_end_life (r, index);
  mr_live_pipeline_stop_source (&r->live, index);
  st->active = FALSE;
  /* the next bin's packetstats numbers its messages from 1 again */
  st->activity_seq = 0;
  st->listening_anew = FALSE;
}

/* Takes the source out and schedules its next try */
static guint
schedule_retry (MrRunner * r, guint index)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);
  guint delay = MIN (1u << MIN (st->retry_attempts, 5), RETRY_MAX_S);

  st->retry_attempts++;
  take_out (r, index);
  if (st->retry_timer)
    g_source_remove (st->retry_timer);
  st->retry_timer = g_timeout_add_seconds (delay, retry_now, st);
  return delay;
}

gboolean
mr_runner_source_failed (MrRunner * r, guint index, const gchar * type,
    const gchar * reason)
{
  const gchar *name = source_name (r, index);
  guint delay;

  if (!r->live.pipeline || !r->live.source_bins[index])
    return FALSE;
  delay = schedule_retry (r, index);
  g_warning ("flow %s: source '%s' failed: %s; starting it again in %u s",
      r->spec->id, name, reason, delay);
  mr_runner_emit (r, type, g_str_equal (type, "source_eof") ? "warning" :
      "error", "source '%s': %s; trying again in %u s", name, reason, delay);
  return TRUE;
}

void
mr_runner_source_start_failed (MrRunner * r, guint index,
    const gchar * message)
{
  guint delay = schedule_retry (r, index);

  g_message ("flow %s: %s; next try in %u s", r->spec->id, message, delay);
  mr_runner_emit (r, "source_error", "error", "%s; trying again in %u s",
      message, delay);
}

static gboolean
retry_now (gpointer user_data)
{
  MrSourceState *st = user_data;
  MrRunner *r = st->runner;
  g_autoptr (GError) error = NULL;
  guint index;

  st->retry_timer = 0;
  if (!r->live.pipeline || !mr_flow_spec_find_source (r->spec, st->name,
          &index) || r->live.source_bins[index])
    return G_SOURCE_REMOVE;
  mr_runner_emit (r, "source_retry", "warning", "source '%s': starting it "
      "again (attempt %u)", st->name, st->retry_attempts);
  if (!mr_live_pipeline_start_source (&r->live, r->spec, index, &error))
    mr_runner_source_start_failed (r, index, error->message);
  return G_SOURCE_REMOVE;
}

void
mr_runner_source_restart (MrRunner * r, guint index, const gchar * reason)
{
  g_autoptr (GError) error = NULL;

  if (!r->live.pipeline || !r->live.source_bins[index])
    return;
  mr_runner_emit (r, "source_retry", "warning", "source '%s': %s; starting "
      "it again now", source_name (r, index), reason);
  take_out (r, index);
  if (!mr_live_pipeline_start_source (&r->live, r->spec, index, &error))
    mr_runner_source_start_failed (r, index, error->message);
}

void
mr_runner_source_healthy (MrRunner * r, guint index)
{
  MrSourceState *st = mr_runner_source_state_at (r, index);

  if (!st->retry_timer)
    st->retry_attempts = 0;
}

gboolean
mr_runner_start_sources (MrRunner * r, gboolean retry_failed,
    GError ** error)
{
  for (guint i = 0; i < r->spec->sources->len; i++) {
    GError *err = NULL;

    if (!mr_builder_runs_all_sources (r->spec)
        && i != mr_builder_pick_source (r->spec))
      continue;
    if (mr_live_pipeline_start_source (&r->live, r->spec, i, &err))
      continue;
    if (!retry_failed) {
      g_propagate_error (error, err);
      return FALSE;
    }
    mr_runner_source_start_failed (r, i, err->message);
    g_error_free (err);
  }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* a source's own figures (for flow-metrics.c and the refusals in libsrt's
 * log, flow-events.c), read through its transport */

gboolean
mr_runner_source_own_stats (MrRunner * r, const MrEndpoint * src,
    MrSourceStats * stats)
{
  const MrTransport *transport = mr_transport_get (src->protocol);
  g_autofree gchar *bin_name = NULL;
  g_autoptr (GstElement) bin = NULL;

  *stats = (MrSourceStats) { 0 };
  if (!r->live.pipeline || !transport || !transport->read_source_stats)
    return FALSE;
  bin_name = g_strdup_printf ("source-%s", src->name);
  if (!(bin = gst_bin_get_by_name (GST_BIN (r->live.pipeline), bin_name)))
    return FALSE;
  transport->read_source_stats (src, GST_BIN (bin), stats);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the operator's switch */

gboolean
mr_runner_activate_source (MrRunner * r, const gchar * name, GError ** error)
{
  g_autoptr (GstPad) pad = NULL;
  MrSourceState *st;
  gint index = -1;

  if (r->state != MR_FLOW_ACTIVE && r->state != MR_FLOW_STARTING) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_RUNNING,
        "flow '%s' is not running", r->spec->id);
    return FALSE;
  }
  for (guint i = 0; i < r->spec->sources->len; i++)
    if (g_str_equal (((MrEndpoint *) r->spec->sources->pdata[i])->name, name))
      index = i;
  if (index < 0) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_FOUND,
        "flow '%s' has no source '%s'", r->spec->id, name);
    return FALSE;
  }
  if (!r->live.selector) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_READY,
        "flow '%s' does not switch between sources: only a FAILOVER flow "
        "with two sources does (source_failover_config)", r->spec->id);
    return FALSE;
  }
  st = mr_runner_source_state (r, name);
  if (!r->live.selector_pads[index] || !st->active
      || !(pad = gst_element_get_static_pad (r->live.selector,
              r->live.selector_pads[index]))) {
    g_set_error (error, MR_RUNNER_ERROR, MR_RUNNER_ERROR_NOT_READY,
        "source '%s' of flow '%s' receives nothing: the flow stays on "
        "'%s'", name, r->spec->id,
        ((MrEndpoint *) r->spec->sources->pdata[r->live.active_source])->name);
    return FALSE;
  }
  g_message ("flow %s: switching to source '%s' by hand", r->spec->id, name);
  /* the selector posts its switch: handle_switch makes it the event */
  g_object_set (r->live.selector, "active-pad", pad, NULL);
  return TRUE;
}
