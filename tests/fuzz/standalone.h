/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* What a fuzz target gives standalone.c, its main() where there is no
 * libFuzzer: a generator of random inputs shaped for it (uniform bytes
 * would seldom get past its first check) and how many to run.  Built with
 * -DMR_FUZZ_STANDALONE only. */

#ifndef __MR_FUZZ_STANDALONE_H__
#define __MR_FUZZ_STANDALONE_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  const char *runs_env;         /* the variable that changes runs */
  guint64 runs;
  guint64 runs_valgrind;        /* memcheck is some 15 to 50 times slower */
  gsize max_len;
  /* fills @buf with at most @max_len bytes, returns how many */
  gsize (*random_input) (guint8 * buf, gsize max_len);
} MrFuzzStandalone;

extern const MrFuzzStandalone mr_fuzz_standalone;

/* The driver's pseudo-random numbers: the same series on every run */
guint32 mr_fuzz_random (void);

G_END_DECLS

#endif /* __MR_FUZZ_STANDALONE_H__ */
