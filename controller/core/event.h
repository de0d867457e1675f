/* mroute: an event of a flow (the seed's GET /v1/flows/{id}/events), as
 * the runner reports it, the store keeps it and the notifiers send it.
 * Plain data: no HTTP, no database, no GStreamer. */

#ifndef __MR_EVENT_H__
#define __MR_EVENT_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gint64 id;                    /* the store's, 0 before it is stored */
  gchar *flow_id;
  gchar *type;                  /* "source_failover", ... (docs/api.md) */
  gchar *severity;              /* "info", "warning" or "error" */
  gchar *message;
  gint64 timestamp;             /* µs since the epoch */
  gchar *node_id;               /* the cluster node it happened on, or NULL */
} MrEvent;

void mr_event_free (MrEvent * event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrEvent, mr_event_free);

G_END_DECLS

#endif /* __MR_EVENT_H__ */
