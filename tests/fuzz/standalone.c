/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* main() for a fuzz target when there is no libFuzzer (gcc builds, make
 * check).  With file or directory arguments, runs each file once (a crash
 * input, a corpus); without, or with --random as well, runs the target's
 * pseudo-random inputs (standalone.h: how many, and $runs_env to change
 * it) from a fixed seed, so that every run is the same;
 * MR_FUZZ_LAST_INPUT=FILE keeps the input being run in FILE. */

#include "standalone.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static guint64 rng = 0x9e3779b97f4a7c15u;

/* xorshift64* */
guint32
mr_fuzz_random (void)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (guint32) ((rng * G_GUINT64_CONSTANT (0x2545f4914f6cdd1d)) >> 32);
}

static gboolean
run_file (const char *path)
{
  gchar *contents;
  gsize len;
  GError *error = NULL;

  if (!g_file_get_contents (path, &contents, &len, &error)) {
    fprintf (stderr, "%s\n", error->message);
    g_error_free (error);
    return FALSE;
  }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  g_free (contents);
  return TRUE;
}

/* a file, or every file of a directory (sorted, so the order is fixed) */
static gint
run_path (const char *path)
{
  GDir *dir;
  GPtrArray *names;
  const gchar *name;
  gint n = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path) ? 1 : -1;
  if (!(dir = g_dir_open (path, 0, NULL)))
    return -1;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_dir_close (dir);
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len && n >= 0; i++)
    n = run_file (names->pdata[i]) ? n + 1 : -1;
  g_ptr_array_unref (names);
  return n;
}

int
main (int argc, char **argv)
{
  const MrFuzzStandalone *t = &mr_fuzz_standalone;
  gboolean random = argc == 1;
  gint files = 0;

  for (int i = 1; i < argc; i++) {
    gint n;

    if (strcmp (argv[i], "--random") == 0) {
      random = TRUE;
      continue;
    }
    if ((n = run_path (argv[i])) < 0) {
      fprintf (stderr, "%s: cannot read %s\n", t->name, argv[i]);
      return 1;
    }
    files += n;
  }
  if (argc > 1)
    printf ("%s: ran %d inputs\n", t->name, files);

  if (random) {
    const char *env = g_getenv (t->runs_env);
    guint64 runs = env ? g_ascii_strtoull (env, NULL, 10)
        : RUNNING_ON_VALGRIND ? t->runs_valgrind : t->runs;
    /* each input is written there before it runs: after an abort, it is
     * the one to replay */
    const char *last = g_getenv ("MR_FUZZ_LAST_INPUT");
    guint8 *buf = g_malloc (t->max_len);

    for (guint64 i = 0; i < runs; i++) {
      gsize len = t->random_input (buf, t->max_len);
      if (last)
        g_file_set_contents (last, (const gchar *) buf, len, NULL);
      LLVMFuzzerTestOneInput (buf, len);
    }
    g_free (buf);
    printf ("%s: ran %" G_GUINT64_FORMAT " random inputs\n", t->name, runs);
  }
  return 0;
}
