/* mroute: notifications.  Telegram alerts for the events a person on call
 * must see, and every event as a JSON POST to the configured webhooks.
 *
 * Everything runs on the main loop with one SoupSession and short
 * timeouts: queueing an event costs a few allocations, and a slow, dead or
 * failing receiver never delays the API, a flow, nor another receiver.
 * The queues are bounded and drop their oldest entries when full.
 */

#ifndef __MR_NOTIFY_H__
#define __MR_NOTIFY_H__

#include <glib.h>

#include "core/core.h"
#include "store/store.h"

G_BEGIN_DECLS

typedef struct _MrNotifier MrNotifier;

/* Never NULL.  With neither Telegram ([telegram] enabled with a bot token
 * and a chat id) nor webhook URLs configured, the notifier does nothing.
 * Every function below also accepts NULL. */
MrNotifier *mr_notifier_new (const MrConfig * config);

/* Applies the [telegram] and [webhooks] settings of @config (a reload).
 * A part whose settings did not change goes on untouched; alerts waiting
 * for Telegram go to the new bot or chat; events waiting for a webhook URL
 * that stays are delivered there, signed with the new secret. */
void mr_notifier_reconfigure (MrNotifier * n, const MrConfig * config);

/* A flow event (after it is stored).  @flow_name may be NULL. */
void mr_notifier_flow_event (MrNotifier * n, const MrEvent * event,
    const gchar * flow_name);
/* The same, as an MrEventListener: pass it to
 * mr_manager_add_event_listener() with the notifier as user data. */
void mr_notifier_event_listener (const MrEvent * event,
    const gchar * flow_name, gpointer notifier);

/* A controller event that belongs to no flow: "startup", "shutdown". */
void mr_notifier_system (MrNotifier * n, const gchar * type,
    const gchar * message);

/* Graceful shutdown: sends what is queued, Telegram at its rate limit,
 * running the default main context until every queue is empty or
 * @timeout_ms has passed.  A webhook receiver that fails during the drain
 * is not retried: the rest of its queue is given up.  When the time is up
 * what is left is dropped, and nothing is sent any more. */
void mr_notifier_drain (MrNotifier * n, guint timeout_ms);

/* Cancels what is still in flight and drops what is queued. */
void mr_notifier_free (MrNotifier * n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrNotifier, mr_notifier_free);

G_END_DECLS

#endif /* __MR_NOTIFY_H__ */
