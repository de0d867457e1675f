/* Unit tests of controller/totals.c: counters that never go down. */

#include <glib.h>

#include "core/core.h"

static void
test_one_life (void)
{
  MrTotal t = { 0 };

  g_assert_cmpuint (mr_total_update (&t, 0), ==, 0);
  g_assert_cmpuint (mr_total_update (&t, 100), ==, 100);
  g_assert_cmpuint (mr_total_update (&t, 100), ==, 100);
  g_assert_cmpuint (mr_total_update (&t, 250), ==, 250);
}

static void
test_reset_seen (void)
{
  MrTotal t = { 0 };

  mr_total_update (&t, 1000);
  /* the element started again: 40 of a new life */
  g_assert_cmpuint (mr_total_update (&t, 40), ==, 1040);
  g_assert_cmpuint (mr_total_update (&t, 60), ==, 1060);
  /* a second reset to exactly 0 */
  g_assert_cmpuint (mr_total_update (&t, 0), ==, 1060);
  g_assert_cmpuint (mr_total_update (&t, 5), ==, 1065);
}

static void
test_end_life (void)
{
  MrTotal t = { 0 };

  mr_total_update (&t, 500);
  /* counted 700 before it went, more than the last sample saw */
  mr_total_end_life (&t, 700);
  g_assert_cmpuint (mr_total_update (&t, 0), ==, 700);
  /* the new life grows past the old one before it is sampled: no loss */
  g_assert_cmpuint (mr_total_update (&t, 900), ==, 1600);
  /* an end with a final below the last seen keeps the last seen */
  mr_total_end_life (&t, 10);
  g_assert_cmpuint (mr_total_update (&t, 1), ==, 1601);
}

static void
test_never_down (void)
{
  MrTotal t = { 0 };
  guint64 prev = 0;
  GRand *rand = g_rand_new_with_seed (7);

  for (guint i = 0; i < 100000; i++) {
    guint64 v = g_rand_int_range (rand, 0, 1000000);
    guint64 total;

    if (g_rand_int_range (rand, 0, 50) == 0)
      mr_total_end_life (&t, v);
    total = mr_total_update (&t, v);
    g_assert_cmpuint (total, >=, prev);
    prev = total;
  }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/totals/one-life", test_one_life);
  g_test_add_func ("/totals/reset-seen", test_reset_seen);
  g_test_add_func ("/totals/end-life", test_end_life);
  g_test_add_func ("/totals/never-down", test_never_down);
  return g_test_run ();
}
