/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the switching policy of failoverselector, without
 * GStreamer: timeouts, priorities, the recovery hold time, manual choice,
 * EOS, errors and released inputs. */

#include "failover-policy.h"

#define MS G_GUINT64_CONSTANT (1000000)
#define TIMEOUT (500 * MS)
#define RECOVERY (2000 * MS)

#define PRIMARY 0
#define BACKUP 1

static MrFailoverPolicy *
policy_new (gboolean auto_recover)
{
  MrFailoverPolicy *policy = g_new0 (MrFailoverPolicy, 1);

  mr_failover_policy_init (policy, TIMEOUT, RECOVERY, auto_recover);
  return policy;
}

static void
policy_free (MrFailoverPolicy * policy)
{
  mr_failover_policy_clear (policy);
  g_free (policy);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrFailoverPolicy, policy_free);

/* A primary (priority 0) and a backup (priority 1) */
static MrFailoverPolicy *
pair_new (gboolean auto_recover)
{
  MrFailoverPolicy *policy = policy_new (auto_recover);

  g_assert_true (mr_failover_policy_add_input (policy, PRIMARY, 0));
  g_assert_true (mr_failover_policy_add_input (policy, BACKUP, 1));
  return policy;
}

static void
assert_decision (MrFailoverPolicy * policy, guint64 now, guint expected_id,
    MrFailoverReason expected_reason)
{
  MrFailoverReason reason = MR_FAILOVER_REASON_NONE;
  guint id = mr_failover_policy_decide (policy, now, &reason);

  g_assert_cmpuint (id, ==, expected_id);
  if (expected_id != MR_FAILOVER_NONE)
    g_assert_cmpstr (mr_failover_reason_to_string (reason), ==,
        mr_failover_reason_to_string (expected_reason));
}

static void
assert_stay (MrFailoverPolicy * policy, guint64 now)
{
  assert_decision (policy, now, MR_FAILOVER_NONE, MR_FAILOVER_REASON_NONE);
}

/* Decides, expects @expected_id for @expected_reason, and commits */
static void
switch_to (MrFailoverPolicy * policy, guint64 now, guint expected_id,
    MrFailoverReason expected_reason)
{
  assert_decision (policy, now, expected_id, expected_reason);
  mr_failover_policy_commit (policy, expected_id, expected_reason, now);
  g_assert_cmpuint (policy->active, ==, expected_id);
}

/* Data on @id every 100 ms from @from to @to, both included */
static void
feed (MrFailoverPolicy * policy, guint id, guint64 from, guint64 to)
{
  guint64 t;

  for (t = from; t <= to; t += 100 * MS)
    mr_failover_policy_data (policy, id, t);
}

/* Both inputs deliver, the primary is active */
static MrFailoverPolicy *
pair_on_primary (gboolean auto_recover)
{
  MrFailoverPolicy *policy = pair_new (auto_recover);

  mr_failover_policy_data (policy, BACKUP, 0);
  mr_failover_policy_data (policy, PRIMARY, 0);
  switch_to (policy, 0, PRIMARY, MR_FAILOVER_REASON_INITIAL);
  return policy;
}

/* The primary stops after 0 and the backup takes over at 500 ms */
static MrFailoverPolicy *
pair_failed_over (gboolean auto_recover)
{
  MrFailoverPolicy *policy = pair_on_primary (auto_recover);

  feed (policy, BACKUP, 100 * MS, 500 * MS);
  switch_to (policy, 500 * MS, BACKUP, MR_FAILOVER_REASON_TIMEOUT);
  return policy;
}

static void
test_initial_choice (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_new (TRUE);

  /* nothing delivers yet */
  assert_stay (policy, 0);
  g_assert_cmpuint (policy->active, ==, MR_FAILOVER_NONE);

  mr_failover_policy_data (policy, BACKUP, 10 * MS);
  mr_failover_policy_data (policy, PRIMARY, 20 * MS);
  switch_to (policy, 20 * MS, PRIMARY, MR_FAILOVER_REASON_INITIAL);

  /* the first choice is not a switch */
  g_assert_cmpuint (policy->switches, ==, 0);
  assert_stay (policy, 30 * MS);
}

static void
test_initial_waits_for_preferred (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_new (TRUE);

  /* the backup starts first: the primary gets `timeout` to start too */
  mr_failover_policy_data (policy, BACKUP, 100 * MS);
  assert_stay (policy, 100 * MS);
  mr_failover_policy_data (policy, BACKUP, 500 * MS);
  assert_stay (policy, 500 * MS);

  mr_failover_policy_data (policy, PRIMARY, 550 * MS);
  switch_to (policy, 550 * MS, PRIMARY, MR_FAILOVER_REASON_INITIAL);
}

static void
test_initial_preferred_never_starts (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_new (TRUE);

  feed (policy, BACKUP, 100 * MS, 500 * MS);
  assert_stay (policy, 599 * MS);
  switch_to (policy, 600 * MS, BACKUP, MR_FAILOVER_REASON_INITIAL);
  g_assert_cmpuint (policy->switches, ==, 0);
}

static void
test_initial_without_clock (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_new (TRUE);

  /* no time yet (no clock): data counts, nothing waits or times out */
  mr_failover_policy_data (policy, BACKUP, MR_FAILOVER_TIME_NONE);
  g_assert_true (mr_failover_policy_is_healthy (policy, BACKUP,
          MR_FAILOVER_TIME_NONE));
  switch_to (policy, MR_FAILOVER_TIME_NONE, BACKUP,
      MR_FAILOVER_REASON_INITIAL);

  /* time starts: the backup is given a full timeout from then */
  mr_failover_policy_rebase (policy, 10000 * MS);
  assert_stay (policy, 10000 * MS + TIMEOUT - 1);
  g_assert_false (mr_failover_policy_is_healthy (policy, BACKUP,
          10000 * MS + TIMEOUT));
}

static void
test_timeout (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  feed (policy, BACKUP, 100 * MS, 500 * MS);
  /* the primary's last data was at 0 */
  g_assert_true (mr_failover_policy_is_healthy (policy, PRIMARY,
          TIMEOUT - 1));
  assert_stay (policy, TIMEOUT - 1);
  g_assert_false (mr_failover_policy_is_healthy (policy, PRIMARY, TIMEOUT));
  switch_to (policy, TIMEOUT, BACKUP, MR_FAILOVER_REASON_TIMEOUT);
  g_assert_cmpuint (policy->switches, ==, 1);
}

static void
test_timeout_measured_from_last_data (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  feed (policy, BACKUP, 100 * MS, 1000 * MS);
  mr_failover_policy_data (policy, PRIMARY, 400 * MS);
  assert_stay (policy, 899 * MS);
  switch_to (policy, 900 * MS, BACKUP, MR_FAILOVER_REASON_TIMEOUT);
}

static void
test_timeout_nowhere_to_go (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  /* both stop: stay on the primary, it may come back */
  assert_stay (policy, 800 * MS);
  g_assert_false (mr_failover_policy_get_input (policy, PRIMARY)->healthy);
  g_assert_cmpuint (policy->active, ==, PRIMARY);

  /* the backup comes back first: leave the dead primary at once */
  mr_failover_policy_data (policy, BACKUP, 900 * MS);
  switch_to (policy, 900 * MS, BACKUP, MR_FAILOVER_REASON_TIMEOUT);
}

static void
test_timeout_active_comes_back (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  assert_stay (policy, 800 * MS);
  mr_failover_policy_data (policy, PRIMARY, 900 * MS);
  assert_stay (policy, 900 * MS);
  g_assert_true (mr_failover_policy_get_input (policy, PRIMARY)->healthy);
  g_assert_cmpuint (policy->switches, ==, 0);
}

static void
test_timeout_change (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  feed (policy, BACKUP, 100 * MS, 300 * MS);
  policy->timeout = 200 * MS;
  switch_to (policy, 200 * MS, BACKUP, MR_FAILOVER_REASON_TIMEOUT);
}

static void
test_priority_order (void)
{
  g_autoptr (MrFailoverPolicy) policy = policy_new (TRUE);

  /* ids and priorities in a different order */
  mr_failover_policy_add_input (policy, 0, 2);
  mr_failover_policy_add_input (policy, 1, 0);
  mr_failover_policy_add_input (policy, 2, 1);
  g_assert_false (mr_failover_policy_add_input (policy, 2, 5));

  feed (policy, 0, 0, 0);
  feed (policy, 1, 0, 0);
  feed (policy, 2, 0, 0);
  switch_to (policy, 0, 1, MR_FAILOVER_REASON_INITIAL);

  /* input 1 stops: 2 (priority 1) before 0 (priority 2) */
  feed (policy, 0, 100 * MS, 500 * MS);
  feed (policy, 2, 100 * MS, 500 * MS);
  switch_to (policy, 500 * MS, 2, MR_FAILOVER_REASON_TIMEOUT);

  /* and 2 stops */
  feed (policy, 0, 600 * MS, 1000 * MS);
  switch_to (policy, 1000 * MS, 0, MR_FAILOVER_REASON_TIMEOUT);
}

static void
test_priority_change (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_failed_over (TRUE);

  /* the backup becomes the preferred input: the primary's return is
   * nothing to switch for */
  mr_failover_policy_set_priority (policy, BACKUP, 0);
  mr_failover_policy_set_priority (policy, PRIMARY, 1);
  feed (policy, PRIMARY, 600 * MS, 5000 * MS);
  feed (policy, BACKUP, 600 * MS, 5000 * MS);
  assert_stay (policy, 5000 * MS);
}

static void
test_equal_priority_stays (void)
{
  g_autoptr (MrFailoverPolicy) policy = policy_new (TRUE);

  mr_failover_policy_add_input (policy, 0, 0);
  mr_failover_policy_add_input (policy, 1, 0);
  feed (policy, 0, 0, 0);
  feed (policy, 1, 0, 0);
  /* ties go to the lower id */
  switch_to (policy, 0, 0, MR_FAILOVER_REASON_INITIAL);

  feed (policy, 1, 100 * MS, 500 * MS);
  switch_to (policy, 500 * MS, 1, MR_FAILOVER_REASON_TIMEOUT);

  /* 0 is back for long, but is no better */
  feed (policy, 0, 600 * MS, 10000 * MS);
  feed (policy, 1, 600 * MS, 10000 * MS);
  assert_stay (policy, 10000 * MS);
}

static void
test_recovery_hold (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_failed_over (TRUE);

  /* the primary is back from 1000 ms on */
  feed (policy, PRIMARY, 1000 * MS, 2900 * MS);
  feed (policy, BACKUP, 600 * MS, 3000 * MS);
  g_assert_cmpuint (mr_failover_policy_get_input (policy,
          PRIMARY)->healthy_since, ==, 1000 * MS);
  assert_stay (policy, 1000 * MS + RECOVERY - 1);

  mr_failover_policy_data (policy, PRIMARY, 3000 * MS);
  switch_to (policy, 1000 * MS + RECOVERY, PRIMARY,
      MR_FAILOVER_REASON_RECOVERED);
  g_assert_cmpuint (policy->switches, ==, 2);
}

static void
test_recovery_hold_restarts_after_gap (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_failed_over (TRUE);

  feed (policy, BACKUP, 600 * MS, 6000 * MS);
  /* back at 1000, silent from 1800 to 2400: healthy again from 2400 */
  feed (policy, PRIMARY, 1000 * MS, 1800 * MS);
  assert_stay (policy, 2300 * MS);
  feed (policy, PRIMARY, 2400 * MS, 4500 * MS);
  assert_stay (policy, 3000 * MS);
  assert_stay (policy, 2400 * MS + RECOVERY - 1);
  switch_to (policy, 2400 * MS + RECOVERY, PRIMARY,
      MR_FAILOVER_REASON_RECOVERED);
}

static void
test_recovery_hold_restarts_unnoticed_gap (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_failed_over (TRUE);

  feed (policy, BACKUP, 600 * MS, 6000 * MS);
  /* a gap with no decision in between is noticed by the data after it */
  feed (policy, PRIMARY, 1000 * MS, 1800 * MS);
  feed (policy, PRIMARY, 2400 * MS, 4500 * MS);
  g_assert_cmpuint (mr_failover_policy_get_input (policy,
          PRIMARY)->healthy_since, ==, 2400 * MS);
  assert_stay (policy, 4300 * MS);
  switch_to (policy, 4400 * MS, PRIMARY, MR_FAILOVER_REASON_RECOVERED);
}

static void
test_recovery_time_zero (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_failed_over (TRUE);

  policy->recovery_time = 0;
  mr_failover_policy_data (policy, BACKUP, 600 * MS);
  mr_failover_policy_data (policy, PRIMARY, 600 * MS);
  switch_to (policy, 600 * MS, PRIMARY, MR_FAILOVER_REASON_RECOVERED);
}

static void
test_auto_recover_off (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_failed_over (FALSE);

  feed (policy, PRIMARY, 600 * MS, 10000 * MS);
  feed (policy, BACKUP, 600 * MS, 10000 * MS);
  assert_stay (policy, 10000 * MS);

  /* still fails over */
  feed (policy, PRIMARY, 10100 * MS, 10500 * MS);
  switch_to (policy, 10500 * MS, PRIMARY, MR_FAILOVER_REASON_TIMEOUT);
}

static void
test_manual_holds (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  g_assert_true (mr_failover_policy_select (policy, BACKUP, 100 * MS));
  g_assert_cmpuint (policy->active, ==, BACKUP);
  g_assert_true (policy->manual);
  g_assert_cmpuint (policy->switches, ==, 1);

  /* the primary is healthy and better, but the choice holds */
  feed (policy, PRIMARY, 100 * MS, 5000 * MS);
  feed (policy, BACKUP, 100 * MS, 5000 * MS);
  assert_stay (policy, 5000 * MS);

  /* until the chosen input fails */
  feed (policy, PRIMARY, 5100 * MS, 5500 * MS);
  switch_to (policy, 5500 * MS, PRIMARY, MR_FAILOVER_REASON_TIMEOUT);
  g_assert_false (policy->manual);
}

static void
test_manual_unpin (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  mr_failover_policy_select (policy, BACKUP, 100 * MS);
  feed (policy, PRIMARY, 100 * MS, 5000 * MS);
  feed (policy, BACKUP, 100 * MS, 5000 * MS);
  assert_stay (policy, 5000 * MS);

  /* handed back: the primary has been healthy for long enough */
  mr_failover_policy_unpin (policy);
  switch_to (policy, 5000 * MS, PRIMARY, MR_FAILOVER_REASON_RECOVERED);
}

static void
test_manual_select_active_pins (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_failed_over (TRUE);

  g_assert_true (mr_failover_policy_select (policy, BACKUP, 600 * MS));
  g_assert_cmpuint (policy->switches, ==, 1);
  feed (policy, PRIMARY, 600 * MS, 5000 * MS);
  feed (policy, BACKUP, 600 * MS, 5000 * MS);
  assert_stay (policy, 5000 * MS);

  g_assert_false (mr_failover_policy_select (policy, 7, 5000 * MS));
}

static void
test_eos (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  mr_failover_policy_data (policy, BACKUP, 100 * MS);
  mr_failover_policy_data (policy, PRIMARY, 100 * MS);
  mr_failover_policy_eos (policy, PRIMARY);
  g_assert_false (mr_failover_policy_all_eos (policy));
  /* at once, no timeout to wait */
  switch_to (policy, 100 * MS, BACKUP, MR_FAILOVER_REASON_EOS);

  /* an ended input does not come back with data... */
  feed (policy, PRIMARY, 200 * MS, 5000 * MS);
  feed (policy, BACKUP, 200 * MS, 5000 * MS);
  assert_stay (policy, 5000 * MS);

  mr_failover_policy_eos (policy, BACKUP);
  g_assert_true (mr_failover_policy_all_eos (policy));
  assert_stay (policy, 5000 * MS);

  /* ...but with a new stream; the backup has ended, so at once */
  mr_failover_policy_restart (policy, PRIMARY);
  g_assert_false (mr_failover_policy_all_eos (policy));
  g_assert_false (mr_failover_policy_is_healthy (policy, PRIMARY, 5000 * MS));
  feed (policy, PRIMARY, 5100 * MS, 5100 * MS);
  switch_to (policy, 5100 * MS, PRIMARY, MR_FAILOVER_REASON_EOS);
}

static void
test_restart_of_healthy_input_keeps_it (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  /* a new stream-start on a running input is not a failure */
  mr_failover_policy_data (policy, BACKUP, 100 * MS);
  mr_failover_policy_restart (policy, PRIMARY);
  g_assert_true (mr_failover_policy_is_healthy (policy, PRIMARY, 100 * MS));
  assert_stay (policy, 100 * MS);
}

static void
test_error (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  mr_failover_policy_data (policy, BACKUP, 100 * MS);
  mr_failover_policy_error (policy, PRIMARY);
  switch_to (policy, 100 * MS, BACKUP, MR_FAILOVER_REASON_ERROR);

  /* data alone does not clear an error */
  feed (policy, PRIMARY, 200 * MS, 5000 * MS);
  feed (policy, BACKUP, 200 * MS, 10000 * MS);
  assert_stay (policy, 5000 * MS);

  /* a restart of the branch does, and the hold time starts after it */
  mr_failover_policy_restart (policy, PRIMARY);
  feed (policy, PRIMARY, 5100 * MS, 10000 * MS);
  assert_stay (policy, 5100 * MS + RECOVERY - 1);
  switch_to (policy, 5100 * MS + RECOVERY, PRIMARY,
      MR_FAILOVER_REASON_RECOVERED);
}

static void
test_remove_active (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  mr_failover_policy_data (policy, BACKUP, 100 * MS);
  g_assert_true (mr_failover_policy_remove_input (policy, PRIMARY, 100 * MS));
  g_assert_null (mr_failover_policy_get_input (policy, PRIMARY));
  g_assert_cmpuint (policy->active, ==, MR_FAILOVER_NONE);
  switch_to (policy, 100 * MS, BACKUP, MR_FAILOVER_REASON_RELEASED);
  g_assert_cmpuint (policy->switches, ==, 1);

  /* removing the others is nothing */
  mr_failover_policy_add_input (policy, 5, 0);
  g_assert_false (mr_failover_policy_remove_input (policy, 5, 200 * MS));
  g_assert_false (mr_failover_policy_remove_input (policy, 9, 200 * MS));
  g_assert_cmpuint (policy->active, ==, BACKUP);
}

static void
test_remove_active_nowhere_to_go (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  g_assert_true (mr_failover_policy_remove_input (policy, PRIMARY, 800 * MS));
  assert_stay (policy, 800 * MS);
  /* the next healthy input replaces it, still as a release */
  mr_failover_policy_data (policy, BACKUP, 900 * MS);
  switch_to (policy, 900 * MS, BACKUP, MR_FAILOVER_REASON_RELEASED);
}

static void
test_time_active_and_age (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  feed (policy, BACKUP, 100 * MS, 500 * MS);
  g_assert_cmpuint (mr_failover_policy_time_active (policy, PRIMARY,
          300 * MS), ==, 300 * MS);
  g_assert_cmpuint (mr_failover_policy_data_age (policy, PRIMARY, 300 * MS),
      ==, 300 * MS);
  switch_to (policy, 500 * MS, BACKUP, MR_FAILOVER_REASON_TIMEOUT);

  g_assert_cmpuint (mr_failover_policy_time_active (policy, PRIMARY,
          900 * MS), ==, 500 * MS);
  g_assert_cmpuint (mr_failover_policy_time_active (policy, BACKUP,
          900 * MS), ==, 400 * MS);
  g_assert_cmpuint (mr_failover_policy_data_age (policy, BACKUP, 900 * MS),
      ==, 400 * MS);
  /* a clock behind the data is no negative age */
  g_assert_cmpuint (mr_failover_policy_data_age (policy, BACKUP, 0), ==, 0);
  g_assert_cmpuint (mr_failover_policy_data_age (policy, 9, 0), ==,
      MR_FAILOVER_TIME_NONE);

  /* reset keeps the inputs, forgets the rest */
  mr_failover_policy_reset (policy);
  g_assert_cmpuint (policy->active, ==, MR_FAILOVER_NONE);
  g_assert_cmpuint (policy->switches, ==, 0);
  g_assert_nonnull (mr_failover_policy_get_input (policy, PRIMARY));
  g_assert_cmpuint (mr_failover_policy_time_active (policy, PRIMARY,
          900 * MS), ==, 0);
  g_assert_cmpuint (mr_failover_policy_data_age (policy, BACKUP, 900 * MS),
      ==, MR_FAILOVER_TIME_NONE);
}

static void
test_rebase_after_pause (void)
{
  g_autoptr (MrFailoverPolicy) policy = pair_on_primary (TRUE);

  /* paused for 10 s: not silence */
  mr_failover_policy_rebase (policy, 10000 * MS);
  assert_stay (policy, 10000 * MS + TIMEOUT - 1);
  g_assert_true (mr_failover_policy_is_healthy (policy, BACKUP,
          10000 * MS + TIMEOUT - 1));
}

static void
test_reason_strings (void)
{
  g_assert_cmpstr (mr_failover_reason_to_string (MR_FAILOVER_REASON_TIMEOUT),
      ==, "timeout");
  g_assert_cmpstr (mr_failover_reason_to_string (MR_FAILOVER_REASON_EOS), ==,
      "eos");
  g_assert_cmpstr (mr_failover_reason_to_string (MR_FAILOVER_REASON_ERROR),
      ==, "error");
  g_assert_cmpstr (mr_failover_reason_to_string
      (MR_FAILOVER_REASON_RECOVERED), ==, "recovered");
  g_assert_cmpstr (mr_failover_reason_to_string (MR_FAILOVER_REASON_MANUAL),
      ==, "manual");
  g_assert_cmpstr (mr_failover_reason_to_string (MR_FAILOVER_REASON_RELEASED),
      ==, "released");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/failover-policy/initial/choice", test_initial_choice);
  g_test_add_func ("/failover-policy/initial/waits-for-preferred",
      test_initial_waits_for_preferred);
  g_test_add_func ("/failover-policy/initial/preferred-never-starts",
      test_initial_preferred_never_starts);
  g_test_add_func ("/failover-policy/initial/without-clock",
      test_initial_without_clock);
  g_test_add_func ("/failover-policy/timeout/switch", test_timeout);
  g_test_add_func ("/failover-policy/timeout/from-last-data",
      test_timeout_measured_from_last_data);
  g_test_add_func ("/failover-policy/timeout/nowhere-to-go",
      test_timeout_nowhere_to_go);
  g_test_add_func ("/failover-policy/timeout/active-comes-back",
      test_timeout_active_comes_back);
  g_test_add_func ("/failover-policy/timeout/change", test_timeout_change);
  g_test_add_func ("/failover-policy/priority/order", test_priority_order);
  g_test_add_func ("/failover-policy/priority/change", test_priority_change);
  g_test_add_func ("/failover-policy/priority/equal-stays",
      test_equal_priority_stays);
  g_test_add_func ("/failover-policy/recovery/hold", test_recovery_hold);
  g_test_add_func ("/failover-policy/recovery/restarts-after-gap",
      test_recovery_hold_restarts_after_gap);
  g_test_add_func ("/failover-policy/recovery/restarts-unnoticed-gap",
      test_recovery_hold_restarts_unnoticed_gap);
  g_test_add_func ("/failover-policy/recovery/time-zero",
      test_recovery_time_zero);
  g_test_add_func ("/failover-policy/recovery/auto-recover-off",
      test_auto_recover_off);
  g_test_add_func ("/failover-policy/manual/holds", test_manual_holds);
  g_test_add_func ("/failover-policy/manual/unpin", test_manual_unpin);
  g_test_add_func ("/failover-policy/manual/select-active-pins",
      test_manual_select_active_pins);
  g_test_add_func ("/failover-policy/eos", test_eos);
  g_test_add_func ("/failover-policy/restart-of-healthy-input",
      test_restart_of_healthy_input_keeps_it);
  g_test_add_func ("/failover-policy/error", test_error);
  g_test_add_func ("/failover-policy/remove/active", test_remove_active);
  g_test_add_func ("/failover-policy/remove/active-nowhere-to-go",
      test_remove_active_nowhere_to_go);
  g_test_add_func ("/failover-policy/time-active-and-age",
      test_time_active_and_age);
  g_test_add_func ("/failover-policy/rebase-after-pause",
      test_rebase_after_pause);
  g_test_add_func ("/failover-policy/reason-strings", test_reason_strings);

  return g_test_run ();
}
