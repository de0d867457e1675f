/* mroute: the parts of the notifier (notify.c): one HTTP request with a
 * deadline, the Telegram alerts (notify-telegram.c) and the webhooks
 * (notify-webhook.c).  Main thread only. */

#ifndef __MR_NOTIFY_PRIVATE_H__
#define __MR_NOTIFY_PRIVATE_H__

#include <libsoup/soup.h>

#include "core/core.h"
#include "store/store.h"

G_BEGIN_DECLS

/* Seconds without progress on a connection before a request fails
 * (SoupSession:timeout), and for a whole request. */
#define MR_NOTIFY_IO_TIMEOUT_S 5
#define MR_NOTIFY_REQUEST_TIMEOUT_S 10

/* ---------------------------------------------------------------------- */
/* one request */

typedef struct _MrNotifyRequest MrNotifyRequest;

/* @status is the HTTP status, or 0 when no response came (then @error
 * says why); @body the response body, maybe NULL. */
typedef void (*MrNotifyDone) (guint status, GBytes * body,
    const GError * error, gpointer user_data);

/* Sends @msg (taking it); @done is called once on the main thread, unless
 * mr_notify_request_abandon() was called before. */
MrNotifyRequest *mr_notify_request_send (SoupSession * session,
    SoupMessage * msg, MrNotifyDone done, gpointer user_data);
/* Cancels the request; its callback will not be called. */
void mr_notify_request_abandon (MrNotifyRequest * req);

/* "HTTP 502", or the transport error */
gchar *mr_notify_describe_failure (guint status, const GError * error);
/* 5xx, 408, 429 and no response at all are worth another try */
gboolean mr_notify_is_retryable (guint status);

/* FALSE, with a warning naming @what, for an https URL when GIO has no TLS
 * backend (the glib-networking package) */
gboolean mr_notify_check_tls (const gchar * url, const gchar * what);

/* A flow event's text made safe for JSON (valid UTF-8) */
gchar *mr_notify_valid_utf8 (const gchar * s);

/* ---------------------------------------------------------------------- */
/* backends: an event with flow_id NULL is a controller event (startup,
 * shutdown); new() returns NULL when the backend is not configured. */

typedef struct _MrTelegram MrTelegram;

MrTelegram *mr_telegram_new (const MrConfig * config, SoupSession * session);
gboolean mr_telegram_wants (const MrEvent * event);
void mr_telegram_post (MrTelegram * tg, const MrEvent * event,
    const gchar * flow_name);
guint mr_telegram_pending (MrTelegram * tg);
/* Whether @tg (maybe NULL: off) is what @config asks for */
gboolean mr_telegram_matches (MrTelegram * tg, const MrConfig * config);
/* Moves the alerts waiting in @from to the end of @tg's queue (a reload);
 * the one in flight is abandoned, and sent again by @tg. */
void mr_telegram_take_queue (MrTelegram * tg, MrTelegram * from);
void mr_telegram_free (MrTelegram * tg);

typedef struct _MrWebhooks MrWebhooks;

MrWebhooks *mr_webhooks_new (const MrConfig * config, SoupSession * session);
void mr_webhooks_post (MrWebhooks * hooks, const MrEvent * event,
    const gchar * flow_name);
/* From now on a failing receiver is given up instead of retried */
void mr_webhooks_set_draining (MrWebhooks * hooks);
guint mr_webhooks_pending (MrWebhooks * hooks);
/* The webhooks of @config (a reload), taking over from @hooks (may be NULL;
 * freed) the queue and state of every URL configured in both; the events
 * waiting for a URL no longer configured are dropped. */
MrWebhooks *mr_webhooks_reconfigure (MrWebhooks * hooks,
    const MrConfig * config, SoupSession * session);
void mr_webhooks_free (MrWebhooks * hooks);

G_END_DECLS

#endif /* __MR_NOTIFY_PRIVATE_H__ */
