/* mroute: a counter's total over all its lives.
 *
 * The figures an element counts start again from 0 whenever the element
 * does: a source rebuilt after a failure, an output connected again, an
 * SRT peer that came back.  Clients and Prometheus read them as totals that
 * never go down; an MrTotal keeps the sum of the lives that ended. */

#ifndef __MR_TOTALS_H__
#define __MR_TOTALS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 ended;                /* the sum of the lives that ended */
  guint64 last;                 /* the current life's last value seen */
} MrTotal;

/* The total for the current life's value @current.  A value below the
 * last one seen means a new life began: the old one is added to the
 * total. */
guint64 mr_total_update (MrTotal * total, guint64 current);

/* The current life ended at @final (the element is about to go): the next
 * value seen belongs to a new life starting from 0. */
void mr_total_end_life (MrTotal * total, guint64 final);

G_END_DECLS

#endif /* __MR_TOTALS_H__ */
