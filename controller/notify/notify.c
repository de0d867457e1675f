/* mroute: notifications (Telegram alerts and webhooks) and the one HTTP
 * request helper they share.
 *
 * One SoupSession for both; every request is asynchronous on the main
 * loop, fails after MR_NOTIFY_IO_TIMEOUT_S without progress and after
 * MR_NOTIFY_REQUEST_TIMEOUT_S in all.  A request the notifier no longer
 * wants (shutdown) is abandoned: cancelled, and its callback only frees it,
 * so nothing needs to wait for the network to free the notifier.
 */

#define G_LOG_DOMAIN "mroute-notify"
#include "notify.h"

#include "notify-private.h"

struct _MrNotifier
{
  SoupSession *session;         /* NULL when nothing is configured */
  MrTelegram *telegram;         /* NULL when off */
  MrWebhooks *webhooks;         /* NULL without URLs */
};

/* ---------------------------------------------------------------------- */
/* one request */

/* Requests whose callback has not run yet, abandoned ones included */
static guint live_requests;

struct _MrNotifyRequest
{
  SoupMessage *msg;
  GCancellable *cancellable;
  guint deadline;               /* source id */
  gboolean timed_out;
  gboolean abandoned;
  MrNotifyDone done;
  gpointer user_data;
};

static gboolean
on_request_deadline (gpointer data)
{
  MrNotifyRequest *req = data;

  req->deadline = 0;
  req->timed_out = TRUE;
  g_cancellable_cancel (req->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_request_sent (GObject * source, GAsyncResult * result, gpointer data)
{
  MrNotifyRequest *req = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  guint status = 0;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
      &error);
  g_clear_handle_id (&req->deadline, g_source_remove);
  if (!req->abandoned) {
    if (body) {
      status = soup_message_get_status (req->msg);
    } else if (req->timed_out) {
      g_clear_error (&error);
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "no answer within %d s", MR_NOTIFY_REQUEST_TIMEOUT_S);
    }
    req->done (status, body, error, req->user_data);
  }
  g_object_unref (req->msg);
  g_object_unref (req->cancellable);
  g_free (req);
  live_requests--;
}

MrNotifyRequest *
mr_notify_request_send (SoupSession * session, SoupMessage * msg,
    MrNotifyDone done, gpointer user_data)
{
  MrNotifyRequest *req = g_new0 (MrNotifyRequest, 1);

  req->msg = msg;
  req->cancellable = g_cancellable_new ();
  req->done = done;
  req->user_data = user_data;
  req->deadline = g_timeout_add_seconds (MR_NOTIFY_REQUEST_TIMEOUT_S,
      on_request_deadline, req);
  live_requests++;
  /* a redirect is the receiver's configuration error: not followed */
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  /* the API and the flows come first when the main loop is busy */
  soup_session_send_and_read_async (session, msg, G_PRIORITY_LOW,
      req->cancellable, on_request_sent, req);
  return req;
}

void
mr_notify_request_abandon (MrNotifyRequest * req)
{
  if (!req)
    return;
  req->abandoned = TRUE;
  g_clear_handle_id (&req->deadline, g_source_remove);
  g_cancellable_cancel (req->cancellable);
}

gchar *
mr_notify_describe_failure (guint status, const GError * error)
{
  if (status)
    return g_strdup_printf ("HTTP %u", status);
  return g_strdup (error ? error->message : "no response");
}

gboolean
mr_notify_is_retryable (guint status)
{
  return status == 0 || status >= 500 || status == SOUP_STATUS_REQUEST_TIMEOUT
      || status == 429;   /* Too Many Requests */
}

gboolean
mr_notify_check_tls (const gchar * url, const gchar * what)
{
  if (!g_str_has_prefix (url, "https:")
      || g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    return TRUE;
  g_warning ("%s: https needs TLS support in GIO (install glib-networking)",
      what);
  return FALSE;
}

gchar *
mr_notify_valid_utf8 (const gchar * s)
{
  return g_utf8_make_valid (s ? s : "", -1);
}

/* ---------------------------------------------------------------------- */
/* the notifier */

static gboolean
wants_any (const MrConfig * config)
{
  return config->telegram_enabled || (config->webhook_urls
      && config->webhook_urls[0]);
}

static SoupSession *
new_session (void)
{
  return soup_session_new_with_options ("timeout", MR_NOTIFY_IO_TIMEOUT_S,
      "idle-timeout", 60, "max-conns", 64, "user-agent", "mroute", NULL);
}

MrNotifier *
mr_notifier_new (const MrConfig * config)
{
  MrNotifier *n = g_new0 (MrNotifier, 1);

  if (!wants_any (config))
    return n;

  n->session = new_session ();
  n->telegram = mr_telegram_new (config, n->session);
  n->webhooks = mr_webhooks_new (config, n->session);
  if (!n->telegram && !n->webhooks)
    g_clear_object (&n->session);
  return n;
}

void
mr_notifier_reconfigure (MrNotifier * n, const MrConfig * config)
{
  if (!n)
    return;
  if (!n->session && wants_any (config))
    n->session = new_session ();
  if (!mr_telegram_matches (n->telegram, config)) {
    MrTelegram *tg = n->session ? mr_telegram_new (config, n->session) : NULL;

    if (n->telegram && tg)
      mr_telegram_take_queue (tg, n->telegram);
    else if (n->telegram && mr_telegram_pending (n->telegram))
      g_message ("telegram: switched off: %u waiting alerts dropped",
          mr_telegram_pending (n->telegram));
    else if (n->telegram)
      g_message ("telegram: switched off");
    g_clear_pointer (&n->telegram, mr_telegram_free);
    n->telegram = tg;
  }
  if (n->session)
    n->webhooks = mr_webhooks_reconfigure (n->webhooks, config, n->session);
  /* requests still in flight hold their own reference */
  if (!n->telegram && !n->webhooks)
    g_clear_object (&n->session);
}

void
mr_notifier_flow_event (MrNotifier * n, const MrEvent * event,
    const gchar * flow_name)
{
  if (!n || !event || !event->type)
    return;
  if (n->telegram && mr_telegram_wants (event))
    mr_telegram_post (n->telegram, event, flow_name);
  if (n->webhooks)
    mr_webhooks_post (n->webhooks, event, flow_name);
}

void
mr_notifier_event_listener (const MrEvent * event, const gchar * flow_name,
    gpointer notifier)
{
  mr_notifier_flow_event (notifier, event, flow_name);
}

void
mr_notifier_system (MrNotifier * n, const gchar * type, const gchar * message)
{
  MrEvent event = {
    .id = 0,
    .flow_id = NULL,
    .type = (gchar *) type,
    .severity = (gchar *) "info",
    .message = (gchar *) message,
    .timestamp = g_get_real_time (),
  };

  mr_notifier_flow_event (n, &event, NULL);
}

static guint
pending (MrNotifier * n)
{
  return (n->telegram ? mr_telegram_pending (n->telegram) : 0)
      + (n->webhooks ? mr_webhooks_pending (n->webhooks) : 0);
}

static gboolean
on_drain_timeout (gpointer data)
{
  gboolean *expired = data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

void
mr_notifier_drain (MrNotifier * n, guint timeout_ms)
{
  gboolean expired = FALSE;
  guint timer;

  if (!n || !n->session)
    return;
  if (n->webhooks)
    mr_webhooks_set_draining (n->webhooks);
  if (pending (n) == 0)
    return;

  g_message ("notifications: sending %u queued before exit (at most %u ms)",
      pending (n), timeout_ms);
  timer = g_timeout_add (timeout_ms, on_drain_timeout, &expired);
  while (!expired && pending (n) > 0)
    g_main_context_iteration (NULL, TRUE);
  if (!expired) {
    g_source_remove (timer);
    return;
  }

  g_warning ("notifications: %u Telegram alerts and %u webhook deliveries "
      "not sent within %u ms; giving them up",
      n->telegram ? mr_telegram_pending (n->telegram) : 0,
      n->webhooks ? mr_webhooks_pending (n->webhooks) : 0, timeout_ms);
  g_clear_pointer (&n->telegram, mr_telegram_free);
  g_clear_pointer (&n->webhooks, mr_webhooks_free);
  /* the requests just cancelled finish in an iteration or two: let them,
   * so that nothing is left in flight at exit */
  expired = FALSE;
  timer = g_timeout_add (1000, on_drain_timeout, &expired);
  while (!expired && live_requests > 0)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timer);
}

void
mr_notifier_free (MrNotifier * n)
{
  if (!n)
    return;
  g_clear_pointer (&n->telegram, mr_telegram_free);
  g_clear_pointer (&n->webhooks, mr_webhooks_free);
  g_clear_object (&n->session);
  g_free (n);
}
