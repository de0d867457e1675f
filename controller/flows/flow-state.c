/* mroute: what a running flow keeps of each source and each output, and
 * the helpers every part of it uses: the one way to say an event, a rate,
 * a counter read.  It calls no other part of the flow. */

#define G_LOG_DOMAIN "mroute-flow"
#include "flow-runner-private.h"

/* every event of the flow goes through here */
void
mr_runner_emit (MrRunner * r, const gchar * type, const gchar * severity,
    const gchar * fmt, ...)
{
  va_list args;
  g_autofree gchar *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  if (r->callbacks.event)
    r->callbacks.event (r, type, severity, msg, r->user_data);
}

guint64
mr_runner_struct_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;

  if (s)
    gst_structure_get_uint64 (s, field, &v);
  return v;
}

void
mr_rate_update (MrRate * rate, guint64 bytes, gint64 now)
{
  if (rate->time && now > rate->time && bytes >= rate->bytes)
    rate->kbps = (bytes - rate->bytes) * 8 * 1000 / (guint64) (now -
        rate->time);
  rate->bytes = bytes;
  rate->time = now;
}

static void
source_state_free (MrSourceState * st)
{
  if (st->retry_timer)
    g_source_remove (st->retry_timer);
  g_free (st->name);
  g_free (st);
}

static void
output_state_free (MrOutputState * st)
{
  if (st->reconnect_timer)
    g_source_remove (st->reconnect_timer);
  g_free (st->name);
  g_free (st);
}

MrSourceState *
mr_runner_source_state (MrRunner * r, const gchar * name)
{
  MrSourceState *st;

  if (!r->sources)
    r->sources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) source_state_free);
  if (!(st = g_hash_table_lookup (r->sources, name))) {
    st = g_new0 (MrSourceState, 1);
    st->runner = r;
    st->name = g_strdup (name);
    g_hash_table_insert (r->sources, st->name, st);
  }
  return st;
}

MrSourceState *
mr_runner_source_state_at (MrRunner * r, guint index)
{
  return mr_runner_source_state (r,
      ((MrEndpoint *) r->spec->sources->pdata[index])->name);
}

MrOutputState *
mr_runner_output_state (MrRunner * r, const gchar * name)
{
  MrOutputState *st;

  if (!r->outputs)
    r->outputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) output_state_free);
  if (!(st = g_hash_table_lookup (r->outputs, name))) {
    st = g_new0 (MrOutputState, 1);
    st->runner = r;
    st->name = g_strdup (name);
    g_hash_table_insert (r->outputs, st->name, st);
  }
  return st;
}

void
mr_runner_forget_source (MrRunner * r, const gchar * name)
{
  if (r->sources)
    g_hash_table_remove (r->sources, name);
}

void
mr_runner_forget_output (MrRunner * r, const gchar * name)
{
  if (r->outputs)
    g_hash_table_remove (r->outputs, name);
}

void
mr_runner_forget_all (MrRunner * r)
{
  g_clear_pointer (&r->sources, g_hash_table_unref);
  g_clear_pointer (&r->outputs, g_hash_table_unref);
}
