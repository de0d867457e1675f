/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* main() for a fuzz target when there is no libFuzzer (gcc builds, make
 * check): with file arguments, runs each file once (a crash input or a
 * corpus); without, runs MERGE_FUZZ_RUNS (default 20000, 2000 under
 * valgrind) pseudo-random inputs from a fixed seed, so that every run is
 * the same. */

#include <glib.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define DEFAULT_RUNS 20000
/* memcheck is some 15 times slower: make check runs the unit suite there too */
#define DEFAULT_RUNS_VALGRIND 2000
#define MAX_LEN 1024

static guint64 rng = 0x9e3779b97f4a7c15u;

/* xorshift64* */
static guint32
next_random (void)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (guint32) ((rng * G_GUINT64_CONSTANT (0x2545f4914f6cdd1d)) >> 32);
}

/* Half the records are uniform bytes, half a plain push on a leg: the next
 * seqnum or another leg's copy, a small clock step.  The uniform ones bring
 * the jumps, SSRC changes, window changes and removed legs. */
static gsize
random_input (guint8 * buf)
{
  gsize len = 4 + next_random () % (MAX_LEN - 4);
  guint uniform = next_random () % 40;

  for (gsize i = 0; i < 4; i++)
    buf[i] = next_random ();
  for (gsize i = 4; i + 4 <= len; i += 4) {
    if (next_random () % 100 < uniform) {
      for (gsize j = 0; j < 4; j++)
        buf[i + j] = next_random ();
    } else {
      guint32 r = next_random ();
      buf[i] = (r % 11) | ((r >> 4) & 0x30);
      buf[i + 1] = (r >> 8) & 1 ? 0 : 192 + ((r >> 9) & 3);
      buf[i + 2] = (r >> 12) % 40;
      buf[i + 3] = r >> 24;
    }
  }
  return len;
}

int
main (int argc, char **argv)
{
  if (argc > 1) {
    for (int i = 1; i < argc; i++) {
      gchar *contents;
      gsize len;
      GError *error = NULL;

      if (!g_file_get_contents (argv[i], &contents, &len, &error)) {
        fprintf (stderr, "%s\n", error->message);
        g_error_free (error);
        return 1;
      }
      LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
      g_free (contents);
    }
    printf ("ran %d inputs\n", argc - 1);
  } else {
    const char *env = g_getenv ("MERGE_FUZZ_RUNS");
    guint64 runs = env ? g_ascii_strtoull (env, NULL, 10)
        : RUNNING_ON_VALGRIND ? DEFAULT_RUNS_VALGRIND : DEFAULT_RUNS;
    guint8 *buf = g_malloc (MAX_LEN);

    for (guint64 i = 0; i < runs; i++) {
      gsize len = random_input (buf);
      LLVMFuzzerTestOneInput (buf, len);
    }
    g_free (buf);
    printf ("ran %" G_GUINT64_FORMAT " random inputs\n", runs);
  }
  return 0;
}
