/* Unit tests for the UDP GSO grouping of udpfanoutsink. */

#include <glib.h>

#include "udp-gso.h"

static void
test_equal_sizes (void)
{
  gsize sizes[10];

  for (guint i = 0; i < 10; i++)
    sizes[i] = 1316;
  g_assert_cmpuint (mr_gso_group_length (sizes, 10, 0, 64, 65000), ==, 10);
  g_assert_cmpuint (mr_gso_group_length (sizes, 10, 7, 64, 65000), ==, 3);
  g_assert_cmpuint (mr_gso_group_length (sizes, 10, 9, 64, 65000), ==, 1);
}

static void
test_shorter_last (void)
{
  gsize sizes[] = { 1316, 1316, 500, 1316 };

  /* the short one ends the group, and is part of it */
  g_assert_cmpuint (mr_gso_group_length (sizes, 4, 0, 64, 65000), ==, 3);
  g_assert_cmpuint (mr_gso_group_length (sizes, 4, 2, 64, 65000), ==, 1);
}

static void
test_longer_breaks (void)
{
  gsize sizes[] = { 500, 500, 1316, 1316 };

  g_assert_cmpuint (mr_gso_group_length (sizes, 4, 0, 64, 65000), ==, 2);
  g_assert_cmpuint (mr_gso_group_length (sizes, 4, 2, 64, 65000), ==, 2);
}

static void
test_limits (void)
{
  gsize sizes[100];

  for (guint i = 0; i < 100; i++)
    sizes[i] = 1316;
  /* 49 * 1316 = 64484 <= 65000 < 50 * 1316 */
  g_assert_cmpuint (mr_gso_group_length (sizes, 100, 0, 64, 65000), ==, 49);
  g_assert_cmpuint (mr_gso_group_length (sizes, 100, 0, 8, 65000), ==, 8);

  for (guint i = 0; i < 100; i++)
    sizes[i] = 188;
  g_assert_cmpuint (mr_gso_group_length (sizes, 100, 0, 64, 65000), ==, 64);
}

static void
test_empty_datagram (void)
{
  gsize sizes[] = { 0, 0, 1316, 0 };

  g_assert_cmpuint (mr_gso_group_length (sizes, 4, 0, 64, 65000), ==, 1);
  g_assert_cmpuint (mr_gso_group_length (sizes, 4, 2, 64, 65000), ==, 1);
}

/* Every datagram is in exactly one group, groups are valid GSO sends */
static void
test_cover_random (void)
{
  GRand *rand = g_rand_new_with_seed (42);

  for (guint round = 0; round < 2000; round++) {
    guint n = g_rand_int_range (rand, 1, 200);
    gsize *sizes = g_new (gsize, n);
    guint start = 0, covered = 0;

    for (guint i = 0; i < n; i++)
      sizes[i] = g_rand_boolean (rand) ? 1316 : g_rand_int_range (rand, 0,
          1500);
    while (start < n) {
      guint len = mr_gso_group_length (sizes, n, start, 64, 65000);
      gsize total = 0;

      g_assert_cmpuint (len, >=, 1);
      g_assert_cmpuint (len, <=, 64);
      g_assert_cmpuint (start + len, <=, n);
      for (guint i = start; i < start + len; i++) {
        total += sizes[i];
        if (i + 1 < start + len)
          g_assert_cmpuint (sizes[i], ==, sizes[start]);
        else
          g_assert_cmpuint (sizes[i], <=, sizes[start]);
      }
      if (len > 1)
        g_assert_cmpuint (total, <=, 65000);
      covered += len;
      start += len;
    }
    g_assert_cmpuint (covered, ==, n);
    g_free (sizes);
  }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gso/equal-sizes", test_equal_sizes);
  g_test_add_func ("/gso/shorter-last", test_shorter_last);
  g_test_add_func ("/gso/longer-breaks", test_longer_breaks);
  g_test_add_func ("/gso/limits", test_limits);
  g_test_add_func ("/gso/empty-datagram", test_empty_datagram);
  g_test_add_func ("/gso/cover-random", test_cover_random);
  return g_test_run ();
}
