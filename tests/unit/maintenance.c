/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the maintenance window decision: the weekly hour in UTC,
 * and the 24 hours of running before a restart. */

#include "core/core.h"

#define S G_USEC_PER_SEC
#define H (G_GINT64_CONSTANT (3600) * S)
#define MONDAY 0
#define TUESDAY 1
#define SUNDAY 6

/* 2026-11-23 is a Monday */
static gint64
at (gint day_of_month, gint hour, gint minute)
{
  g_autoptr (GDateTime) t = g_date_time_new_utc (2026, 11, day_of_month,
      hour, minute, 0);
  return g_date_time_to_unix (t) * S;
}

static void
test_window (void)
{
  g_assert_true (mr_maintenance_in_window (MONDAY, 3, at (23, 3, 0)));
  g_assert_true (mr_maintenance_in_window (MONDAY, 3, at (23, 3, 59)));
  g_assert_false (mr_maintenance_in_window (MONDAY, 3, at (23, 2, 59)));
  g_assert_false (mr_maintenance_in_window (MONDAY, 3, at (23, 4, 0)));
  g_assert_false (mr_maintenance_in_window (TUESDAY, 3, at (23, 3, 0)));
  g_assert_true (mr_maintenance_in_window (TUESDAY, 0, at (24, 0, 30)));
  /* 2026-11-29 is a Sunday; hour 23 is the last of the week */
  g_assert_true (mr_maintenance_in_window (SUNDAY, 23, at (29, 23, 10)));
  g_assert_false (mr_maintenance_in_window (SUNDAY, 23, at (30, 23, 10)));
}

static void
test_due_after_a_day (void)
{
  gint64 now = at (23, 3, 5);

  /* 24 h exactly, and more */
  g_assert_true (mr_maintenance_due (MONDAY, 3, now - 24 * H, now));
  g_assert_true (mr_maintenance_due (MONDAY, 3, now - 200 * H, now));
  /* less than a day */
  g_assert_false (mr_maintenance_due (MONDAY, 3, now - 24 * H + S, now));
  g_assert_false (mr_maintenance_due (MONDAY, 3, now - H, now));
  /* not running */
  g_assert_false (mr_maintenance_due (MONDAY, 3, 0, now));
  /* long enough but outside the window */
  g_assert_false (mr_maintenance_due (MONDAY, 4, now - 48 * H, now));
  /* restarted inside the window: not again the same hour */
  g_assert_false (mr_maintenance_due (MONDAY, 3, now, now + 10 * 60 * S));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/maintenance/window", test_window);
  g_test_add_func ("/maintenance/due-after-a-day", test_due_after_a_day);
  return g_test_run ();
}
