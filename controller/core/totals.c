/* mroute: a counter's total over all its lives. */

#define G_LOG_DOMAIN "mroute-totals"
#include "totals.h"

guint64
mr_total_update (MrTotal * t, guint64 current)
{
  if (current < t->last)
    t->ended += t->last;
  t->last = current;
  return t->ended + current;
}

void
mr_total_end_life (MrTotal * t, guint64 final)
{
  t->ended += MAX (final, t->last);
  t->last = 0;
}
