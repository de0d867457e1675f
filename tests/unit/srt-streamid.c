/* Unit tests for srtroutesrc's reading of a caller's stream id. */

#include <glib.h>

#include "srt-streamid.h"

static void
check (const gchar * stream_id, const gchar * expected)
{
  g_autofree gchar *route = mr_srt_stream_id_route (stream_id);

  g_assert_cmpstr (route, ==, expected);
}

static void
test_plain (void)
{
  check ("cam1", "cam1");
  check ("studio/a b", "studio/a b");
  /* an id that only looks like the keyed form is plain */
  check ("#!:r=cam1", "#!:r=cam1");
  check ("r=cam1", "r=cam1");
}

static void
test_access_control (void)
{
  check ("#!::r=cam1,m=publish", "cam1");
  check ("#!::m=publish,r=cam1", "cam1");
  check ("#!::r=cam1", "cam1");
  check ("#!::u=alice,r=live/cam1,s=abc,m=publish", "live/cam1");
  /* a value may hold '=' */
  check ("#!::r=a=b", "a=b");
  /* the last r wins, as in libsrt's own parser */
  check ("#!::r=a,r=b", "b");
}

static void
test_refused (void)
{
  check (NULL, NULL);
  check ("", NULL);
  check ("#!::", NULL);
  check ("#!::m=publish", NULL);
  check ("#!::r=", NULL);
  check ("#!::r=cam1,m=request", NULL);
  check ("#!::r=cam1,m=", NULL);
  check ("#!::r=cam1,junk", NULL);
  check ("#!::rr=cam1", NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/srt-streamid/plain", test_plain);
  g_test_add_func ("/srt-streamid/access-control", test_access_control);
  g_test_add_func ("/srt-streamid/refused", test_refused);
  return g_test_run ();
}
