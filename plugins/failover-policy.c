/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The switching policy of failoverselector.
 *
 * An input is healthy while it has delivered data within `timeout`, has not
 * ended and has not reported an error.  The active input is left at once
 * for the best healthy input when it stops being healthy.  A better input
 * (strictly lower priority value) takes over again once it has been healthy
 * without a break for `recovery_time`, unless auto-recovery is off or the
 * active input was chosen by hand.  Inputs of equal priority are equals: the
 * policy stays on the one it has.
 *
 * The first choice waits up to `timeout` after the first data for the
 * preferred input, so that a backup that happens to start a little earlier
 * does not go out first. */

#include "failover-policy.h"

static MrFailoverInput *
find_input (const MrFailoverPolicy * policy, guint id)
{
  guint i;

  for (i = 0; i < policy->inputs->len; i++) {
    MrFailoverInput *in = &g_array_index (policy->inputs, MrFailoverInput, i);

    if (in->id == id)
      return in;
  }
  return NULL;
}

static guint64
time_since (guint64 now, guint64 then)
{
  if (now == MR_FAILOVER_TIME_NONE || then == MR_FAILOVER_TIME_NONE)
    return MR_FAILOVER_TIME_NONE;
  return now > then ? now - then : 0;
}

static gboolean
input_healthy_at (const MrFailoverPolicy * policy, const MrFailoverInput * in,
    guint64 now)
{
  guint64 silence;

  if (in->eos || in->error || !in->seen)
    return FALSE;
  silence = time_since (now, in->last_data);
  /* data seen while there was no clock counts until time is known */
  return silence == MR_FAILOVER_TIME_NONE || silence < policy->timeout;
}

static void
input_reset (MrFailoverInput * in)
{
  in->seen = FALSE;
  in->last_data = MR_FAILOVER_TIME_NONE;
  in->healthy_since = MR_FAILOVER_TIME_NONE;
  in->eos = FALSE;
  in->error = FALSE;
  in->healthy = FALSE;
  in->time_active = 0;
}

void
mr_failover_policy_init (MrFailoverPolicy * policy, guint64 timeout,
    guint64 recovery_time, gboolean auto_recover)
{
  policy->inputs = g_array_new (FALSE, TRUE, sizeof (MrFailoverInput));
  policy->timeout = timeout;
  policy->recovery_time = recovery_time;
  policy->auto_recover = auto_recover;
  mr_failover_policy_reset (policy);
}

void
mr_failover_policy_clear (MrFailoverPolicy * policy)
{
  g_clear_pointer (&policy->inputs, g_array_unref);
}

/* Forgets what happened, keeps the inputs and their priorities */
void
mr_failover_policy_reset (MrFailoverPolicy * policy)
{
  guint i;

  for (i = 0; i < policy->inputs->len; i++)
    input_reset (&g_array_index (policy->inputs, MrFailoverInput, i));
  policy->first_data = MR_FAILOVER_TIME_NONE;
  policy->active = MR_FAILOVER_NONE;
  policy->active_since = MR_FAILOVER_TIME_NONE;
  policy->manual = FALSE;
  policy->lost_reason = MR_FAILOVER_REASON_NONE;
  policy->switches = 0;
}

gboolean
mr_failover_policy_add_input (MrFailoverPolicy * policy, guint id,
    guint priority)
{
  MrFailoverInput in = { 0, };

  g_return_val_if_fail (id != MR_FAILOVER_NONE, FALSE);

  if (find_input (policy, id))
    return FALSE;
  input_reset (&in);
  in.id = id;
  in.priority = priority;
  g_array_append_val (policy->inputs, in);
  return TRUE;
}

static void
account_active_time (MrFailoverPolicy * policy, guint64 now)
{
  MrFailoverInput *active = find_input (policy, policy->active);
  guint64 stint = time_since (now, policy->active_since);

  if (active && stint != MR_FAILOVER_TIME_NONE)
    active->time_active += stint;
}

/* Returns TRUE if @id was the active input: there is none until the next
 * decision is committed, which then has reason RELEASED */
gboolean
mr_failover_policy_remove_input (MrFailoverPolicy * policy, guint id,
    guint64 now)
{
  gboolean was_active = FALSE;
  guint i;

  for (i = 0; i < policy->inputs->len; i++) {
    if (g_array_index (policy->inputs, MrFailoverInput, i).id != id)
      continue;

    if (policy->active == id) {
      account_active_time (policy, now);
      policy->active = MR_FAILOVER_NONE;
      policy->active_since = MR_FAILOVER_TIME_NONE;
      policy->manual = FALSE;
      policy->lost_reason = MR_FAILOVER_REASON_RELEASED;
      was_active = TRUE;
    }
    g_array_remove_index (policy->inputs, i);
    break;
  }
  return was_active;
}

const MrFailoverInput *
mr_failover_policy_get_input (const MrFailoverPolicy * policy, guint id)
{
  return find_input (policy, id);
}

void
mr_failover_policy_set_priority (MrFailoverPolicy * policy, guint id,
    guint priority)
{
  MrFailoverInput *in = find_input (policy, id);

  if (in)
    in->priority = priority;
}

void
mr_failover_policy_data (MrFailoverPolicy * policy, guint id, guint64 now)
{
  MrFailoverInput *in = find_input (policy, id);

  if (!in)
    return;

  /* health as it was just before this data: a gap of `timeout` or more
   * started a new healthy stretch */
  if (!input_healthy_at (policy, in, now)
      || in->healthy_since == MR_FAILOVER_TIME_NONE)
    in->healthy_since = now;

  in->seen = TRUE;
  if (policy->first_data == MR_FAILOVER_TIME_NONE)
    policy->first_data = now;
  if (now != MR_FAILOVER_TIME_NONE && (in->last_data == MR_FAILOVER_TIME_NONE
          || now > in->last_data))
    in->last_data = now;
  in->healthy = input_healthy_at (policy, in, now);
}

static void
input_fail (MrFailoverInput * in)
{
  in->healthy = FALSE;
  in->healthy_since = MR_FAILOVER_TIME_NONE;
}

void
mr_failover_policy_eos (MrFailoverPolicy * policy, guint id)
{
  MrFailoverInput *in = find_input (policy, id);

  if (in) {
    in->eos = TRUE;
    input_fail (in);
  }
}

void
mr_failover_policy_error (MrFailoverPolicy * policy, guint id)
{
  MrFailoverInput *in = find_input (policy, id);

  if (in) {
    in->error = TRUE;
    input_fail (in);
  }
}

/* A new stream on the input, or a flush: after EOS or an error, the input
 * is healthy again from its next data on */
void
mr_failover_policy_restart (MrFailoverPolicy * policy, guint id)
{
  MrFailoverInput *in = find_input (policy, id);

  if (in && (in->eos || in->error)) {
    in->eos = FALSE;
    in->error = FALSE;
    in->seen = FALSE;
    in->last_data = MR_FAILOVER_TIME_NONE;
    input_fail (in);
  }
}

gboolean
mr_failover_policy_all_eos (const MrFailoverPolicy * policy)
{
  guint i;

  if (policy->inputs->len == 0)
    return FALSE;
  for (i = 0; i < policy->inputs->len; i++) {
    if (!g_array_index (policy->inputs, MrFailoverInput, i).eos)
      return FALSE;
  }
  return TRUE;
}

/* Health at @now, without updating anything */
gboolean
mr_failover_policy_is_healthy (const MrFailoverPolicy * policy, guint id,
    guint64 now)
{
  const MrFailoverInput *in = find_input (policy, id);

  return in && input_healthy_at (policy, in, now);
}

void
mr_failover_policy_rebase (MrFailoverPolicy * policy, guint64 now)
{
  guint i;

  if (now == MR_FAILOVER_TIME_NONE)
    return;

  for (i = 0; i < policy->inputs->len; i++) {
    MrFailoverInput *in = &g_array_index (policy->inputs, MrFailoverInput, i);

    if (!in->seen || in->eos || in->error)
      continue;
    if (policy->first_data == MR_FAILOVER_TIME_NONE)
      policy->first_data = now;
    in->last_data = now;
    if (in->healthy_since == MR_FAILOVER_TIME_NONE)
      in->healthy_since = now;
    in->healthy = TRUE;
  }
  if (policy->active != MR_FAILOVER_NONE
      && policy->active_since == MR_FAILOVER_TIME_NONE)
    policy->active_since = now;
}

static void
update_health (MrFailoverPolicy * policy, guint64 now)
{
  guint i;

  for (i = 0; i < policy->inputs->len; i++) {
    MrFailoverInput *in = &g_array_index (policy->inputs, MrFailoverInput, i);

    in->healthy = input_healthy_at (policy, in, now);
    if (!in->healthy)
      in->healthy_since = MR_FAILOVER_TIME_NONE;
  }
}

static gboolean
better (const MrFailoverInput * a, const MrFailoverInput * b)
{
  return !b || a->priority < b->priority
      || (a->priority == b->priority && a->id < b->id);
}

/* The best healthy input other than @exclude.  With @below_priority, only
 * inputs of a lower priority value that have been healthy for the recovery
 * time count. */
static MrFailoverInput *
best_healthy (const MrFailoverPolicy * policy, guint exclude, guint64 now,
    const guint * below_priority)
{
  MrFailoverInput *best = NULL;
  guint i;

  for (i = 0; i < policy->inputs->len; i++) {
    MrFailoverInput *in = &g_array_index (policy->inputs, MrFailoverInput, i);

    if (!in->healthy || in->id == exclude)
      continue;
    if (below_priority) {
      guint64 held = time_since (now, in->healthy_since);

      if (in->priority >= *below_priority || held == MR_FAILOVER_TIME_NONE
          || held < policy->recovery_time)
        continue;
    }
    if (better (in, best))
      best = in;
  }
  return best;
}

/* The best input that has not failed, healthy or not */
static MrFailoverInput *
best_alive (const MrFailoverPolicy * policy)
{
  MrFailoverInput *best = NULL;
  guint i;

  for (i = 0; i < policy->inputs->len; i++) {
    MrFailoverInput *in = &g_array_index (policy->inputs, MrFailoverInput, i);

    if (!in->eos && !in->error && better (in, best))
      best = in;
  }
  return best;
}

guint
mr_failover_policy_decide (MrFailoverPolicy * policy, guint64 now,
    MrFailoverReason * reason)
{
  MrFailoverInput *active, *best;

  update_health (policy, now);
  active = find_input (policy, policy->active);

  if (!active) {
    best = best_healthy (policy, MR_FAILOVER_NONE, now, NULL);
    if (!best)
      return MR_FAILOVER_NONE;
    if (policy->lost_reason != MR_FAILOVER_REASON_NONE) {
      *reason = policy->lost_reason;
      return best->id;
    }
    /* a first choice: give the preferred input its chance to start */
    if (best != best_alive (policy)) {
      guint64 waited = time_since (now, policy->first_data);

      if (waited != MR_FAILOVER_TIME_NONE && waited < policy->timeout)
        return MR_FAILOVER_NONE;
    }
    *reason = MR_FAILOVER_REASON_INITIAL;
    return best->id;
  }

  if (!active->healthy) {
    /* with nowhere to go, stay: the active input may come back */
    best = best_healthy (policy, active->id, now, NULL);
    if (!best)
      return MR_FAILOVER_NONE;
    if (active->eos)
      *reason = MR_FAILOVER_REASON_EOS;
    else if (active->error)
      *reason = MR_FAILOVER_REASON_ERROR;
    else
      *reason = MR_FAILOVER_REASON_TIMEOUT;
    return best->id;
  }

  if (policy->auto_recover && !policy->manual) {
    best = best_healthy (policy, active->id, now, &active->priority);
    if (best) {
      *reason = MR_FAILOVER_REASON_RECOVERED;
      return best->id;
    }
  }
  return MR_FAILOVER_NONE;
}

void
mr_failover_policy_commit (MrFailoverPolicy * policy, guint id,
    MrFailoverReason reason, guint64 now)
{
  g_return_if_fail (find_input (policy, id) != NULL);

  if (id == policy->active)
    return;

  account_active_time (policy, now);
  policy->active = id;
  policy->active_since = now;
  policy->manual = reason == MR_FAILOVER_REASON_MANUAL;
  policy->lost_reason = MR_FAILOVER_REASON_NONE;
  if (reason != MR_FAILOVER_REASON_INITIAL)
    policy->switches++;
}

gboolean
mr_failover_policy_select (MrFailoverPolicy * policy, guint id, guint64 now)
{
  if (!find_input (policy, id))
    return FALSE;

  if (id == policy->active)
    policy->manual = TRUE;
  else
    mr_failover_policy_commit (policy, id, MR_FAILOVER_REASON_MANUAL, now);
  return TRUE;
}

void
mr_failover_policy_unpin (MrFailoverPolicy * policy)
{
  policy->manual = FALSE;
}

guint64
mr_failover_policy_time_active (const MrFailoverPolicy * policy, guint id,
    guint64 now)
{
  const MrFailoverInput *in = find_input (policy, id);
  guint64 total;

  if (!in)
    return 0;
  total = in->time_active;
  if (id == policy->active) {
    guint64 stint = time_since (now, policy->active_since);

    if (stint != MR_FAILOVER_TIME_NONE)
      total += stint;
  }
  return total;
}

guint64
mr_failover_policy_data_age (const MrFailoverPolicy * policy, guint id,
    guint64 now)
{
  const MrFailoverInput *in = find_input (policy, id);

  return in ? time_since (now, in->last_data) : MR_FAILOVER_TIME_NONE;
}

const gchar *
mr_failover_reason_to_string (MrFailoverReason reason)
{
  switch (reason) {
    case MR_FAILOVER_REASON_INITIAL:
      return "initial";
    case MR_FAILOVER_REASON_TIMEOUT:
      return "timeout";
    case MR_FAILOVER_REASON_EOS:
      return "eos";
    case MR_FAILOVER_REASON_ERROR:
      return "error";
    case MR_FAILOVER_REASON_RECOVERED:
      return "recovered";
    case MR_FAILOVER_REASON_MANUAL:
      return "manual";
    case MR_FAILOVER_REASON_RELEASED:
      return "released";
    case MR_FAILOVER_REASON_NONE:
    default:
      return "none";
  }
}
