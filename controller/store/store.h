/* mroute: SQLite persistence of flows and events.
 *
 * SQLite only: no HTTP, no GStreamer.  WAL journal, prepared statements,
 * writes in BEGIN IMMEDIATE transactions; a function that returns TRUE has
 * committed.
 */

#ifndef __MR_STORE_H__
#define __MR_STORE_H__

#include <glib.h>

#include "core/core.h"

G_BEGIN_DECLS

#define MR_EVENTS_PER_FLOW 1000
#define MR_EVENTS_MAX_LIMIT 10000

typedef struct _MrStore MrStore;


MrStore *mr_store_open (const gchar * path, GError ** error);
void mr_store_close (MrStore * store);

gboolean mr_store_put_flow (MrStore * store, const gchar * id,
    const gchar * spec_json, GError ** error);
/* Deletes the flow and all its events in one transaction. */
gboolean mr_store_delete_flow (MrStore * store, const gchar * id,
    GError ** error);
gboolean mr_store_set_running (MrStore * store, const gchar * id,
    gboolean running, GError ** error);

typedef void (*MrStoreFlowFunc) (const gchar * id, const gchar * spec_json,
    gboolean running, gpointer user_data);
gboolean mr_store_foreach_flow (MrStore * store, MrStoreFlowFunc func,
    gpointer user_data, GError ** error);

/* Appends an event and prunes the flow's events to MR_EVENTS_PER_FLOW. */
gboolean mr_store_add_event (MrStore * store, MrEvent * event,
    GError ** error);
/* Newest first; @flow_id NULL for all flows. */
GPtrArray *mr_store_list_events (MrStore * store, const gchar * flow_id,
    guint limit, GError ** error);

G_END_DECLS

#endif /* __MR_STORE_H__ */
