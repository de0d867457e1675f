/* mroute: an event of a flow. */

#define G_LOG_DOMAIN "mroute-store"
#include "event.h"

void
mr_event_free (MrEvent * event)
{
  if (!event)
    return;
  g_free (event->flow_id);
  g_free (event->type);
  g_free (event->severity);
  g_free (event->message);
  g_free (event->node_id);
  g_free (event);
}
