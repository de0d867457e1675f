/* mroute: live updates over a WebSocket (GET /v1/ws, docs/api.md "Live
 * updates over a WebSocket"): the clients, their subscriptions, the
 * tickets a browser connects with, and what is pushed to them: every new
 * event of a subscribed flow as it is stored, and once a second the
 * metrics of the flows subscribed to.
 *
 * Each flow's metrics are rendered once a second for all the clients that
 * want them, only while someone does.  A client that takes nothing of
 * what waits for it (its socket's send queue never shrinks) for
 * MR_WS_STALL_S seconds is closed with 1008.  Main thread only. */

#ifndef __MR_WEBSOCKET_H__
#define __MR_WEBSOCKET_H__

#include <libsoup/soup.h>

#include "flows/manager.h"

G_BEGIN_DECLS

#define MR_WS_PATH "/v1/ws"
#define MR_WS_TICKETS_PATH "/v1/ws/tickets"
/* how long a ticket is good for */
#define MR_WS_TICKET_TTL_S 30
/* the largest message a client may send */
#define MR_WS_MAX_INCOMING 65536
/* a client whose send queue does not shrink for this long is closed */
#define MR_WS_STALL_S 10

typedef struct _MrWsHub MrWsHub;

/* Serves MR_WS_PATH on @server */
MrWsHub *mr_ws_hub_new (SoupServer * server, MrManager * manager);
/* Closes every client with 1001 (going away) */
void mr_ws_hub_free (MrWsHub * hub);

/* POST /v1/ws/tickets (the API key was checked): 201 {"ticket", ...} */
void mr_ws_hub_handle_ticket (MrWsHub * hub, SoupServerMessage * msg);
/* The ticket of a GET /v1/ws (in @query), good and not used: it is used
 * now.  FALSE for none, a wrong, a used or an expired one. */
gboolean mr_ws_hub_take_ticket (MrWsHub * hub, GHashTable * query);

/* Clients connected now */
guint mr_ws_hub_count (MrWsHub * hub);

G_END_DECLS

#endif /* __MR_WEBSOCKET_H__ */
