/* mroute: generic webhooks.  Every event, and the controller's startup and
 * shutdown, is POSTed as JSON to every configured URL:
 *
 *   {"id": 42, "flow_id": "flow_1f0c9a3e5b7d", "flow_name": "studio",
 *    "type": "flow_started", "severity": "info", "message": "...",
 *    "timestamp": "2026-11-21T10:00:01.250000Z"}
 *
 * (id, flow_id and flow_name are null for startup and shutdown) with the
 * headers X-Mroute-Event: <type> and, when a secret is configured,
 * X-Mroute-Signature: sha256=<hex HMAC-SHA256 of the exact body>.
 *
 * Each URL has its own queue, delivered in order one request at a time, so
 * a slow or dead receiver delays nobody but itself.  No answer, a 5xx, 408
 * or 429 is tried again after 1, 2 and 4 s (MR_WEBHOOK_TRIES tries in
 * all); any other status is final.  At most MR_WEBHOOK_QUEUE_MAX events
 * wait per URL; past that the oldest is dropped.  A URL may hold a secret
 * (a token in its path or query), so logs name a URL by its number and
 * host only.
 */

#define G_LOG_DOMAIN "mroute-notify"
#include <string.h>

#include <json-glib/json-glib.h>

#include "core/core.h"
#include "notify-private.h"

#define MR_WEBHOOK_QUEUE_MAX 1000
#define MR_WEBHOOK_TRIES 4

/* One event's POST, shared by every URL's queue */
typedef struct
{
  GBytes *body;
  gint64 id;                    /* 0 for startup and shutdown */
  gchar *type;
  gchar *signature;             /* NULL without a secret */
} MrDelivery;

typedef struct
{
  SoupSession *session;
  gboolean *draining;           /* MrWebhooks's */
  gchar *url;                   /* may hold a secret: never logged */
  gchar *label;                 /* "webhook 2 (hooks.example.com)" */

  GQueue queue;                 /* MrDelivery*, oldest first */
  MrNotifyRequest *in_flight;   /* for the head of the queue */
  guint retry_timer;
  guint tries;                  /* of the head */

  guint64 dropped;              /* queue full */
  gboolean dropping;            /* in a burst of drops: logged once */
  guint64 given_up;             /* failed, or abandoned at shutdown */
  guint failures;               /* failed tries since the last success */
  gchar *last_failure;          /* logged once per run of the same failure */
} MrTarget;

struct _MrWebhooks
{
  gchar *secret;                /* secret: the HMAC key, or NULL */
  GPtrArray *targets;           /* MrTarget* */
  gboolean draining;
};

static void target_pump (MrTarget * t);
static gboolean on_retry (gpointer data);

/* ---------------------------------------------------------------------- */
/* the body and its signature */

static void
delivery_clear (MrDelivery * d)
{
  g_bytes_unref (d->body);
  g_free (d->type);
  g_free (d->signature);
}

static void
delivery_unref (gpointer d)
{
  g_rc_box_release_full (d, (GDestroyNotify) delivery_clear);
}

static void
add_string_or_null (JsonBuilder * b, const gchar * name, const gchar * value)
{
  json_builder_set_member_name (b, name);
  if (value) {
    g_autofree gchar *valid = mr_notify_valid_utf8 (value);

    json_builder_add_string_value (b, valid);
  } else {
    json_builder_add_null_value (b);
  }
}

static gchar *
webhook_body (const MrEvent * event, const gchar * flow_name)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *timestamp = mr_format_time (event->timestamp);
  gboolean is_flow = event->flow_id != NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  if (is_flow && event->id > 0)
    json_builder_add_int_value (b, event->id);
  else
    json_builder_add_null_value (b);
  add_string_or_null (b, "flow_id", event->flow_id);
  add_string_or_null (b, "flow_name", is_flow ? flow_name : NULL);
  add_string_or_null (b, "type", event->type);
  add_string_or_null (b, "severity", event->severity);
  add_string_or_null (b, "message", event->message ? event->message : "");
  add_string_or_null (b, "timestamp", timestamp);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static gchar *
webhook_signature (const gchar * secret, const gchar * body, gsize length)
{
  g_autofree gchar *hex = NULL;

  if (!secret)
    return NULL;
  hex = g_compute_hmac_for_data (G_CHECKSUM_SHA256, (const guchar *) secret,
      strlen (secret), (const guchar *) body, length);
  return g_strconcat ("sha256=", hex, NULL);
}

/* ---------------------------------------------------------------------- */
/* one URL */

static void
log_failure (MrTarget * t, const gchar * what, const gchar * outcome)
{
  t->failures++;
  if (g_strcmp0 (t->last_failure, what) == 0)
    return;
  g_free (t->last_failure);
  t->last_failure = g_strdup (what);
  g_warning ("%s: POST failed: %s; %s", t->label, what, outcome);
}

static void
drop_head (MrTarget * t)
{
  delivery_unref (g_queue_pop_head (&t->queue));
  t->tries = 0;
}

static void
give_up_queue (MrTarget * t)
{
  guint n = g_queue_get_length (&t->queue);

  if (n == 0)
    return;
  g_warning ("%s: shutting down: %u events not delivered", t->label, n);
  t->given_up += n;
  g_queue_clear_full (&t->queue, delivery_unref);
  t->tries = 0;
}

static void
on_sent (guint status, GBytes * body, const GError * error, gpointer data)
{
  MrTarget *t = data;
  g_autofree gchar *what = NULL;

  t->in_flight = NULL;
  if (SOUP_STATUS_IS_SUCCESSFUL (status)) {
    if (t->failures)
      g_message ("%s: delivering again after %u failed tries", t->label,
          t->failures);
    t->failures = 0;
    g_clear_pointer (&t->last_failure, g_free);
    drop_head (t);
    target_pump (t);
    return;
  }

  what = mr_notify_describe_failure (status, error);
  if (!mr_notify_is_retryable (status)) {
    log_failure (t, what, "event dropped (not retried)");
    t->given_up++;
    drop_head (t);
  } else if (*t->draining) {
    /* the shutdown waits for nobody's retries */
    log_failure (t, what, "not retried while shutting down");
    give_up_queue (t);
  } else if (t->tries >= MR_WEBHOOK_TRIES) {
    MrDelivery *d = g_queue_peek_head (&t->queue);

    log_failure (t, what, "event dropped");
    if (d->id)
      g_warning ("%s: event %" G_GINT64_FORMAT " (%s) dropped after %u tries",
          t->label, d->id, d->type, MR_WEBHOOK_TRIES);
    else
      g_warning ("%s: the %s event dropped after %u tries", t->label,
          d->type, MR_WEBHOOK_TRIES);
    t->given_up++;
    drop_head (t);
  } else {
    log_failure (t, what, "retrying");
    t->retry_timer = g_timeout_add_seconds (1 << (t->tries - 1), on_retry,
        t);
    return;
  }
  target_pump (t);
}

static gboolean
on_retry (gpointer data)
{
  MrTarget *t = data;

  t->retry_timer = 0;
  target_pump (t);
  return G_SOURCE_REMOVE;
}

static void
send_head (MrTarget * t)
{
  MrDelivery *d = g_queue_peek_head (&t->queue);
  SoupMessage *msg = soup_message_new (SOUP_METHOD_POST, t->url);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);

  soup_message_headers_replace (headers, "X-Mroute-Event", d->type);
  if (d->signature)
    soup_message_headers_replace (headers, "X-Mroute-Signature",
        d->signature);
  soup_message_set_request_body_from_bytes (msg, "application/json",
      d->body);
  t->tries++;
  t->in_flight = mr_notify_request_send (t->session, msg, on_sent, t);
}

static void
target_pump (MrTarget * t)
{
  if (t->in_flight || t->retry_timer || g_queue_is_empty (&t->queue))
    return;
  send_head (t);
}

static void
target_post (MrTarget * t, MrDelivery * d)
{
  while (g_queue_get_length (&t->queue) >= MR_WEBHOOK_QUEUE_MAX) {
    /* the head may be in flight or waiting for its retry */
    if (t->tries)
      delivery_unref (g_queue_pop_nth (&t->queue, 1));
    else
      drop_head (t);
    t->dropped++;
    if (!t->dropping)
      g_warning ("%s: more than %u events waiting; dropping the oldest "
          "(%" G_GUINT64_FORMAT " dropped so far)", t->label,
          MR_WEBHOOK_QUEUE_MAX, t->dropped);
    t->dropping = TRUE;
  }
  if (t->dropping && g_queue_get_length (&t->queue) < MR_WEBHOOK_QUEUE_MAX / 2)
    t->dropping = FALSE;
  g_queue_push_tail (&t->queue, g_rc_box_acquire (d));
  target_pump (t);
}

static void
target_free (MrTarget * t)
{
  mr_notify_request_abandon (t->in_flight);
  g_clear_handle_id (&t->retry_timer, g_source_remove);
  g_queue_clear_full (&t->queue, delivery_unref);
  if (t->dropped)
    g_message ("%s: %" G_GUINT64_FORMAT " events were dropped in all "
        "(queue full)", t->label, t->dropped);
  g_object_unref (t->session);
  g_free (t->url);
  g_free (t->label);
  g_free (t->last_failure);
  g_free (t);
}

/* ---------------------------------------------------------------------- */
/* all of them */

void
mr_webhooks_post (MrWebhooks * hooks, const MrEvent * event,
    const gchar * flow_name)
{
  MrDelivery *d = g_rc_box_new0 (MrDelivery);
  gchar *body = webhook_body (event, flow_name);
  gsize length = strlen (body);

  d->signature = webhook_signature (hooks->secret, body, length);
  d->body = g_bytes_new_take (body, length);
  d->id = event->flow_id ? event->id : 0;
  d->type = g_strdup (event->type);
  for (guint i = 0; i < hooks->targets->len; i++)
    target_post (hooks->targets->pdata[i], d);
  delivery_unref (d);
}

void
mr_webhooks_set_draining (MrWebhooks * hooks)
{
  hooks->draining = TRUE;
  /* a URL waiting for its retry has failed already */
  for (guint i = 0; i < hooks->targets->len; i++) {
    MrTarget *t = hooks->targets->pdata[i];

    if (t->retry_timer) {
      g_clear_handle_id (&t->retry_timer, g_source_remove);
      give_up_queue (t);
    }
  }
}

guint
mr_webhooks_pending (MrWebhooks * hooks)
{
  guint n = 0;

  for (guint i = 0; i < hooks->targets->len; i++)
    n += g_queue_get_length (&((MrTarget *) hooks->targets->pdata[i])->queue);
  return n;
}

MrWebhooks *
mr_webhooks_new (const MrConfig * config, SoupSession * session)
{
  MrWebhooks *hooks;

  if (!config->webhook_urls || !config->webhook_urls[0])
    return NULL;

  hooks = g_new0 (MrWebhooks, 1);
  hooks->secret = g_strdup (config->webhook_secret);
  hooks->targets = g_ptr_array_new_with_free_func ((GDestroyNotify)
      target_free);
  for (guint i = 0; config->webhook_urls[i]; i++) {
    g_autoptr (GUri) uri = g_uri_parse (config->webhook_urls[i],
        SOUP_HTTP_URI_FLAGS, NULL);
    MrTarget *t;

    if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
      g_warning ("webhook %u: not a valid URL; skipped", i + 1);
      continue;
    }
    t = g_new0 (MrTarget, 1);
    t->session = g_object_ref (session);
    t->draining = &hooks->draining;
    t->url = g_strdup (config->webhook_urls[i]);
    if (g_uri_get_port (uri) > 0)
      t->label = g_strdup_printf ("webhook %u (%s:%d)", i + 1,
          g_uri_get_host (uri), g_uri_get_port (uri));
    else
      t->label = g_strdup_printf ("webhook %u (%s)", i + 1,
          g_uri_get_host (uri));
    g_queue_init (&t->queue);
    mr_notify_check_tls (t->url, t->label);
    g_ptr_array_add (hooks->targets, t);
  }
  if (hooks->targets->len == 0) {
    mr_webhooks_free (hooks);
    return NULL;
  }
  g_message ("webhooks: every event to %u URL%s%s", hooks->targets->len,
      hooks->targets->len == 1 ? "" : "s",
      hooks->secret ? ", signed with HMAC-SHA256" : "");
  return hooks;
}

/* The signatures of what waits in @t, made again with @secret */
static void
target_sign_again (MrTarget * t, const gchar * secret)
{
  for (GList * l = t->queue.head; l; l = l->next) {
    MrDelivery *d = l->data;
    gsize length;
    const gchar *body = g_bytes_get_data (d->body, &length);

    g_free (d->signature);
    d->signature = webhook_signature (secret, body, length);
  }
}

MrWebhooks *
mr_webhooks_reconfigure (MrWebhooks * hooks, const MrConfig * config,
    SoupSession * session)
{
  MrWebhooks *next = mr_webhooks_new (config, session);
  gboolean new_secret;

  if (!hooks)
    return next;
  new_secret = next && g_strcmp0 (hooks->secret, next->secret) != 0;
  for (guint i = 0; next && i < next->targets->len; i++) {
    MrTarget *fresh = next->targets->pdata[i];

    for (guint j = 0; j < hooks->targets->len; j++) {
      MrTarget *t = hooks->targets->pdata[j];

      if (!g_str_equal (t->url, fresh->url))
        continue;
      g_ptr_array_steal_index (hooks->targets, j);
      /* the new number, and the new shutdown flag */
      g_free (t->label);
      t->label = g_steal_pointer (&fresh->label);
      t->draining = &next->draining;
      if (new_secret)
        target_sign_again (t, next->secret);
      next->targets->pdata[i] = t;
      target_free (fresh);
      break;
    }
  }
  for (guint j = 0; j < hooks->targets->len; j++) {
    MrTarget *t = hooks->targets->pdata[j];
    guint n = g_queue_get_length (&t->queue);

    if (n)
      g_warning ("%s: no longer configured: %u events not delivered",
          t->label, n);
  }
  mr_webhooks_free (hooks);
  return next;
}

void
mr_webhooks_free (MrWebhooks * hooks)
{
  if (!hooks)
    return;
  g_ptr_array_unref (hooks->targets);
  g_free (hooks->secret);
  g_free (hooks);
}
