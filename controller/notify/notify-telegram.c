/* mroute: Telegram alerts through the Bot API's sendMessage.
 *
 * Which events: those a person on call must see.  The controller starting
 * and stopping; a flow started or stopped; a failover and the return to
 * the primary; an output's connection error; a maintenance restart; and
 * any other event of severity "error" (a source that fails or ends its
 * stream, a MERGE source carrying another stream, every MERGE leg ended),
 * because those leave a flow down or degraded.  Warnings other than these
 * (a source silent for 2 s, a MERGE leg lost) flap with the signal, and the
 * failover alert already says when they matter; they go to the webhooks
 * only.
 *
 * Delivery: in order, one request at a time, the next one a second after
 * the answer to the previous (the Bot API's limit for a chat is one
 * message a second).  At most MR_TELEGRAM_QUEUE_MAX alerts wait;
 * when one more comes the oldest is dropped, because the newest tell the
 * state now (a recovery, the shutdown), and the next alert sent says how
 * many were dropped.  A failed request (no answer, 5xx, 429) is tried
 * again after 1 then 2 s (or the retry_after that a 429 asks for), at most
 * MR_TELEGRAM_TRIES times; another 4xx (a wrong token or chat) is not.
 *
 * The bot token is a secret and it is in the URL path: the URL is never
 * logged, and a transport error that would quote it is redacted.
 */

#define G_LOG_DOMAIN "mroute-notify"
#include <string.h>

#include <json-glib/json-glib.h>

#include "notify-private.h"
#include "core/core.h"

#define MR_TELEGRAM_QUEUE_MAX 100
#define MR_TELEGRAM_INTERVAL_US G_USEC_PER_SEC
#define MR_TELEGRAM_TRIES 3
#define MR_TELEGRAM_RETRY_AFTER_MAX_S 30
/* The Bot API takes 4096 characters; the rest is for the prefix */
#define MR_TELEGRAM_TEXT_MAX 3500

struct _MrTelegram
{
  SoupSession *session;
  gchar *token;                 /* secret */
  gchar *chat_id;
  gchar *api_url;               /* [telegram] api_url, as configured */
  gchar *send_url;              /* secret: holds the token; never logged */

  GQueue queue;                 /* gchar* texts, oldest first */
  MrNotifyRequest *in_flight;   /* for the head of the queue */
  guint timer;                  /* waiting for the rate limit or a retry */
  gint64 not_before;            /* monotonic µs: not before this */
  guint tries;                  /* of the head */

  guint dropped_untold;         /* since the last alert sent: told in the next */
  guint64 dropped_total;
  gboolean dropping;            /* in a burst of drops: logged once */
  guint failures;               /* failed tries since the last success */
  gchar *last_failure;          /* logged once per run of the same failure */
};

static void pump (MrTelegram * tg);

/* ---------------------------------------------------------------------- */
/* which events, and their text */

typedef struct
{
  const gchar *type;
  const gchar *icon;            /* NULL: by severity */
  const gchar *label;           /* NULL: the message says it all */
} MrAlertKind;

/* Escapes rather than literal emoji keep the source ASCII. */
#define ICON_GREEN "\360\237\237\242"   /* U+1F7E2 large green circle */
#define ICON_WHITE "\342\232\252"       /* U+26AA medium white circle */
#define ICON_ORANGE "\360\237\237\240"  /* U+1F7E0 large orange circle */
#define ICON_RED "\360\237\224\264"     /* U+1F534 large red circle */
#define ICON_BLUE "\360\237\224\265"    /* U+1F535 large blue circle */
#define ICON_WRENCH "\360\237\224\247"  /* U+1F527 wrench */

static const MrAlertKind alert_kinds[] = {
  {"startup", ICON_GREEN, NULL},
  {"shutdown", ICON_WHITE, NULL},
  {"flow_started", ICON_GREEN, NULL},
  {"flow_stopped", ICON_WHITE, NULL},
  {"source_failover", ICON_ORANGE, "failover"},
  {"primary_recovered", ICON_GREEN, NULL},
  {"connection_error", NULL, "connection error"},
  {"maintenance_restart", ICON_WRENCH, "maintenance restart"},
  /* a content alarm's start (warning) and end (info): by severity */
  {"content_black", NULL, NULL},
  {"content_frozen", NULL, NULL},
  {"content_silent", NULL, NULL},
  {"recording_error", NULL, "recording error"},
};

static const MrAlertKind *
find_kind (const gchar * type)
{
  for (guint i = 0; i < G_N_ELEMENTS (alert_kinds); i++)
    if (g_strcmp0 (alert_kinds[i].type, type) == 0)
      return &alert_kinds[i];
  return NULL;
}

gboolean
mr_telegram_wants (const MrEvent * event)
{
  return find_kind (event->type) != NULL
      || g_strcmp0 (event->severity, "error") == 0;
}

static const gchar *
severity_icon (const gchar * severity)
{
  if (g_strcmp0 (severity, "error") == 0)
    return ICON_RED;
  if (g_strcmp0 (severity, "warning") == 0)
    return ICON_ORANGE;
  return ICON_BLUE;
}

static gchar *
telegram_text (const MrEvent * event, const gchar * flow_name)
{
  const MrAlertKind *kind = find_kind (event->type);
  const gchar *icon = kind && kind->icon ? kind->icon
      : severity_icon (event->severity);
  g_autofree gchar *message = mr_notify_valid_utf8 (event->message);
  g_autofree gchar *name = mr_notify_valid_utf8 (flow_name);
  g_autofree gchar *label = NULL;
  GString *text = g_string_new (icon);

  if (kind)
    label = g_strdup (kind->label);
  else
    label = g_strdelimit (g_strdup (event->type), "_", ' ');

  if (g_utf8_strlen (message, -1) > MR_TELEGRAM_TEXT_MAX) {
    gchar *cut = g_utf8_substring (message, 0, MR_TELEGRAM_TEXT_MAX);

    g_free (message);
    message = g_strconcat (cut, "\342\200\246", NULL);  /* ellipsis */
    g_free (cut);
  }

  if (!event->flow_id) {
    /* the controller's own: "mroute started on ..." */
    g_string_append_printf (text, " %s", message);
  } else {
    g_string_append_printf (text, " mroute: flow '%s' (%s): ", name,
        event->flow_id);
    if (label)
      g_string_append_printf (text, "%s: ", label);
    g_string_append (text, message);
  }
  return g_string_free (text, FALSE);
}

/* ---------------------------------------------------------------------- */
/* delivery */

static void
log_failure (MrTelegram * tg, const gchar * what, const gchar * outcome)
{
  tg->failures++;
  if (g_strcmp0 (tg->last_failure, what) == 0)
    return;
  g_free (tg->last_failure);
  tg->last_failure = g_strdup (what);
  g_warning ("telegram: sendMessage failed: %s; %s", what, outcome);
}

static void
log_success (MrTelegram * tg)
{
  if (tg->failures)
    g_message ("telegram: sendMessage works again after %u failed tries",
        tg->failures);
  tg->failures = 0;
  g_clear_pointer (&tg->last_failure, g_free);
}

/* The Bot API's reason ("Bad Request: chat not found") and, for a 429,
 * how long it wants us to wait. */
static gchar *
parse_answer (GBytes * body, gint64 * retry_after)
{
  g_autoptr (JsonNode) root = NULL;
  JsonNode *params, *member;
  gsize size = 0;
  const gchar *data = body ? g_bytes_get_data (body, &size) : NULL;
  const gchar *description;

  *retry_after = 0;
  /* a Bot API URL may point anywhere: its answer is outside input too */
  root = mr_json_read_object (data, size, 1024 * 1024, MR_JSON_MAX_DEPTH,
      NULL);
  if (!root)
    return NULL;
  params = json_object_get_member (json_node_get_object (root), "parameters");
  if (params && JSON_NODE_HOLDS_OBJECT (params)) {
    member = json_object_get_member (json_node_get_object (params),
        "retry_after");
    if (member && json_node_get_value_type (member) == G_TYPE_INT64)
      *retry_after = json_node_get_int (member);
  }
  member = json_object_get_member (json_node_get_object (root),
      "description");
  if (!member || json_node_get_value_type (member) != G_TYPE_STRING)
    return NULL;
  description = json_node_get_string (member);
  return g_utf8_substring (description, 0,
      MIN (g_utf8_strlen (description, -1), 200));
}

static void
drop_head (MrTelegram * tg)
{
  g_free (g_queue_pop_head (&tg->queue));
  tg->tries = 0;
}

static void
on_sent (guint status, GBytes * body, const GError * error, gpointer data)
{
  MrTelegram *tg = data;
  g_autofree gchar *what = NULL;
  g_autofree gchar *reason = NULL;
  gint64 retry_after = 0;
  gint64 delay_s;

  tg->in_flight = NULL;
  /* from the answer, not from the request: however long the request took
   * to reach it, the Bot API never sees two within a second */
  tg->not_before = g_get_monotonic_time () + MR_TELEGRAM_INTERVAL_US;
  if (SOUP_STATUS_IS_SUCCESSFUL (status)) {
    log_success (tg);
    tg->dropped_untold = 0;
    drop_head (tg);
    pump (tg);
    return;
  }

  what = mr_notify_describe_failure (status, error);
  reason = parse_answer (body, &retry_after);
  if (reason) {
    gchar *full = g_strdup_printf ("%s (%s)", what, reason);

    g_free (what);
    what = full;
  }
  /* an error could quote the URL, that holds the token */
  if (strstr (what, tg->token)) {
    g_free (what);
    what = g_strdup ("the request failed (the error quotes the secret URL)");
  }

  if (!mr_notify_is_retryable (status)) {
    log_failure (tg, what, "alert dropped (not retried)");
    drop_head (tg);
  } else if (tg->tries >= MR_TELEGRAM_TRIES) {
    log_failure (tg, what, "alert dropped");
    g_warning ("telegram: an alert was dropped after %u tries",
        MR_TELEGRAM_TRIES);
    drop_head (tg);
  } else {
    delay_s = 1 << (tg->tries - 1);
    if (retry_after > 0)
      delay_s = MAX (delay_s, MIN (retry_after,
              MR_TELEGRAM_RETRY_AFTER_MAX_S));
    log_failure (tg, what, "retrying");
    tg->not_before = MAX (tg->not_before,
        g_get_monotonic_time () + delay_s * G_USEC_PER_SEC);
  }
  pump (tg);
}

static void
send_head (MrTelegram * tg)
{
  const gchar *text = g_queue_peek_head (&tg->queue);
  g_autofree gchar *told = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GBytes) bytes = NULL;
  SoupMessage *msg;
  gchar *body;

  if (tg->dropped_untold)
    text = told = g_strdup_printf ("(%u earlier alerts were dropped: more "
        "than %u waited)\n%s", tg->dropped_untold, MR_TELEGRAM_QUEUE_MAX,
        text);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "chat_id");
  json_builder_add_string_value (b, tg->chat_id);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  body = json_to_string (root, FALSE);
  bytes = g_bytes_new_take (body, strlen (body));

  msg = soup_message_new (SOUP_METHOD_POST, tg->send_url);
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  tg->tries++;
  tg->in_flight = mr_notify_request_send (tg->session, msg, on_sent, tg);
}

static gboolean
on_timer (gpointer data)
{
  MrTelegram *tg = data;

  tg->timer = 0;
  pump (tg);
  return G_SOURCE_REMOVE;
}

static void
pump (MrTelegram * tg)
{
  gint64 wait;

  if (tg->in_flight || tg->timer || g_queue_is_empty (&tg->queue))
    return;
  wait = tg->not_before - g_get_monotonic_time ();
  if (wait > 0) {
    /* rounded up: a timeout never fires early */
    tg->timer = g_timeout_add ((wait + 999) / 1000, on_timer, tg);
    return;
  }
  send_head (tg);
}

void
mr_telegram_post (MrTelegram * tg, const MrEvent * event,
    const gchar * flow_name)
{
  /* the head may be in flight: drop the next oldest instead */
  while (g_queue_get_length (&tg->queue) >= MR_TELEGRAM_QUEUE_MAX) {
    if (tg->in_flight || tg->tries)
      g_free (g_queue_pop_nth (&tg->queue, 1));
    else
      drop_head (tg);
    tg->dropped_untold++;
    tg->dropped_total++;
    if (!tg->dropping)
      g_warning ("telegram: more than %u alerts waiting; dropping the "
          "oldest (%" G_GUINT64_FORMAT " dropped so far)",
          MR_TELEGRAM_QUEUE_MAX, tg->dropped_total);
    tg->dropping = TRUE;
  }
  if (tg->dropping && g_queue_get_length (&tg->queue) < MR_TELEGRAM_QUEUE_MAX
      / 2)
    tg->dropping = FALSE;
  g_queue_push_tail (&tg->queue, telegram_text (event, flow_name));
  pump (tg);
}

guint
mr_telegram_pending (MrTelegram * tg)
{
  return g_queue_get_length (&tg->queue);
}

MrTelegram *
mr_telegram_new (const MrConfig * config, SoupSession * session)
{
  MrTelegram *tg;
  g_autofree gchar *base = NULL;
  g_autofree gchar *url = NULL;

  if (!config->telegram_enabled)
    return NULL;
  if (!config->telegram_bot_token || !*config->telegram_bot_token
      || !config->telegram_chat_id || !*config->telegram_chat_id) {
    g_warning ("telegram: enabled, but the bot token or the chat id is "
        "missing: no alerts");
    return NULL;
  }
  base = g_strdup (config->telegram_api_url ? config->telegram_api_url
      : "https://api.telegram.org");
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  if ((!g_str_has_prefix (base, "http://")
          && !g_str_has_prefix (base, "https://"))
      || !g_uri_is_valid (base, SOUP_HTTP_URI_FLAGS, NULL)) {
    g_warning ("telegram: api_url '%s' is not an http(s) URL: no alerts",
        base);
    return NULL;
  }
  mr_notify_check_tls (base, "telegram");
  url = g_strdup_printf ("%s/bot%s/sendMessage", base,
      config->telegram_bot_token);
  if (!g_uri_is_valid (url, SOUP_HTTP_URI_FLAGS, NULL)) {
    g_warning ("telegram: the bot token cannot be part of a URL: no alerts");
    return NULL;
  }

  tg = g_new0 (MrTelegram, 1);
  tg->session = g_object_ref (session);
  tg->token = g_strdup (config->telegram_bot_token);
  tg->chat_id = g_strdup (config->telegram_chat_id);
  tg->api_url = g_strdup (config->telegram_api_url);
  tg->send_url = g_steal_pointer (&url);
  g_queue_init (&tg->queue);
  g_message ("telegram: alerts to chat %s through %s", tg->chat_id, base);
  return tg;
}

gboolean
mr_telegram_matches (MrTelegram * tg, const MrConfig * config)
{
  if (!tg)
    return !config->telegram_enabled;
  return config->telegram_enabled
      && g_strcmp0 (tg->token, config->telegram_bot_token) == 0
      && g_strcmp0 (tg->chat_id, config->telegram_chat_id) == 0
      && g_strcmp0 (tg->api_url, config->telegram_api_url) == 0;
}

void
mr_telegram_take_queue (MrTelegram * tg, MrTelegram * from)
{
  gchar *text;
  guint n = 0;

  mr_notify_request_abandon (from->in_flight);
  from->in_flight = NULL;
  g_clear_handle_id (&from->timer, g_source_remove);
  from->tries = 0;
  while ((text = g_queue_pop_head (&from->queue))) {
    g_queue_push_tail (&tg->queue, text);
    n++;
  }
  tg->dropped_untold += from->dropped_untold;
  from->dropped_untold = 0;
  if (n)
    g_message ("telegram: %u waiting alerts go to the new settings", n);
  pump (tg);
}

void
mr_telegram_free (MrTelegram * tg)
{
  if (!tg)
    return;
  mr_notify_request_abandon (tg->in_flight);
  g_clear_handle_id (&tg->timer, g_source_remove);
  g_queue_clear_full (&tg->queue, g_free);
  if (tg->dropped_total)
    g_message ("telegram: %" G_GUINT64_FORMAT " alerts were dropped in all "
        "(queue full)", tg->dropped_total);
  g_object_unref (tg->session);
  g_free (tg->token);
  g_free (tg->chat_id);
  g_free (tg->api_url);
  g_free (tg->send_url);
  g_free (tg->last_failure);
  g_free (tg);
}
