/* mroute: the controller's RTSP server and its mounts (rtsp-server.h).
 *
 * Each mount is a shared GstRTSPMediaFactory whose media is
 *
 *   appsrc "tssrc" (live, time) ! rtpmp2tpay "pay0" (pt 33)
 *
 * made when the first viewer asks (DESCRIBE) and dropped when the last one
 * leaves; while it is prepared its appsrc is the mount's, and the output's
 * sink pushes the flow's TS into it (mr_rtsp_mount_push).  The appsrc
 * drops its oldest data past MAX_QUEUED_BYTES, so a media that falls behind
 * never holds up the flow.
 *
 * Why MP2T over RTP and not one track per elementary stream: the TS goes
 * out as the flow carries it (every stream of it, HEVC, AC-3, SCTE-35 and
 * teletext included, its own PCR and timing, no re-timestamping), the SDP
 * is known before the first buffer (no waiting for the demuxer's pads at
 * DESCRIBE), and ffmpeg, ffprobe, VLC and GStreamer's rtspsrc play it.
 *
 * Credentials: MrRtspAuth checks a mount's Basic credentials when a viewer
 * asks for its factory, and answers 401 with a Basic challenge otherwise;
 * only the base64 of "user:password" is kept, never logged.
 *
 * Locking: the server's lock protects the table of mounts, each mount's
 * users and credentials; a mount's own lock its appsrc.  Requests, mounts
 * and their removal run on the main context; pushes come from the outputs'
 * streaming threads. */

#define G_LOG_DOMAIN "mroute-rtsp"
#include "rtsp-server.h"

#include <string.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtsp-server/rtsp-server.h>

GST_DEBUG_CATEGORY_STATIC (mr_rtsp_debug);
#define GST_CAT_DEFAULT mr_rtsp_debug

#define MAX_QUEUED_BYTES (2 * 1024 * 1024)
#define CLEANUP_INTERVAL_S 2
#define REALM "mroute"

struct _MrRtspServer
{
  GstRTSPServer *server;
  GSource *source;
  guint cleanup_id;
  gint port;

  GMutex lock;
  GHashTable *mounts;           /* "/path" -> MrRtspMount (a reference);
                                 * protected by lock */
};

/* allocated with g_atomic_rc_box: the server's table and each prepared
 * media hold a reference */
struct _MrRtspMount
{
  MrRtspServer *server;
  gchar *path;                  /* "/a/b" */
  GstRTSPMediaFactory *factory;
  guint users;                  /* outputs; protected by the server's lock */
  gchar *basic;                 /* secret: base64 of "user:password", or
                                 * NULL; protected by the server's lock */

  GMutex lock;
  GstElement *appsrc;           /* the prepared media's; protected by lock */
};

static MrRtspServer *default_server;

/* ---------------------------------------------------------------------- */
/* MrRtspAuth: a mount's Basic credentials, checked when its factory is
 * asked for */

typedef struct
{
  GstRTSPAuth parent;
  MrRtspServer *server;
} MrRtspAuth;

typedef struct
{
  GstRTSPAuthClass parent_class;
} MrRtspAuthClass;

GType mr_rtsp_auth_get_type (void);
G_DEFINE_TYPE (MrRtspAuth, mr_rtsp_auth, GST_TYPE_RTSP_AUTH);

/* strcmp in a time that does not tell how much matched */
static gboolean
secret_equal (const gchar * a, const gchar * b)
{
  gsize la = strlen (a), lb = strlen (b);
  guint diff = la != lb;

  for (gsize i = 0; i < la; i++)
    diff |= (guint) (a[i] ^ b[i % MAX (lb, 1)]);
  return diff == 0;
}

static gboolean
viewer_allowed (MrRtspServer * server, GstRTSPMediaFactory * factory,
    GstRTSPMessage * request)
{
  GstRTSPAuthCredential **credentials, **c;
  g_autofree gchar *basic = NULL;
  GHashTableIter iter;
  MrRtspMount *mount;
  gboolean allowed = FALSE;

  g_mutex_lock (&server->lock);
  g_hash_table_iter_init (&iter, server->mounts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & mount))
    if (mount->factory == factory) {
      basic = g_strdup (mount->basic);
      break;
    }
  g_mutex_unlock (&server->lock);
  if (!basic)
    return TRUE;                /* open, or not ours any more (404 later) */

  credentials = gst_rtsp_message_parse_auth_credentials (request,
      GST_RTSP_HDR_AUTHORIZATION);
  for (c = credentials; c && *c && !allowed; c++)
    if ((*c)->scheme == GST_RTSP_AUTH_BASIC && (*c)->authorization)
      allowed = secret_equal ((*c)->authorization, basic);
  gst_rtsp_auth_credentials_free (credentials);
  memset (basic, 0, strlen (basic));
  return allowed;
}

static gboolean
mr_rtsp_auth_check (GstRTSPAuth * auth, GstRTSPContext * ctx,
    const gchar * check)
{
  MrRtspAuth *self = (MrRtspAuth *) auth;

  /* what a server without an auth object answers */
  if (g_str_equal (check, GST_RTSP_AUTH_CHECK_TRANSPORT_CLIENT_SETTINGS))
    return FALSE;
  if (!g_str_has_prefix (check, "auth.check.media.factory.") || !ctx->factory)
    return TRUE;
  if (viewer_allowed (self->server, ctx->factory, ctx->request))
    return TRUE;

  GST_INFO ("viewer %s refused: no or wrong credentials",
      ctx->conn ? gst_rtsp_connection_get_ip (ctx->conn) : "?");
  gst_rtsp_message_init_response (ctx->response, GST_RTSP_STS_UNAUTHORIZED,
      gst_rtsp_status_as_text (GST_RTSP_STS_UNAUTHORIZED), ctx->request);
  gst_rtsp_message_add_header (ctx->response, GST_RTSP_HDR_WWW_AUTHENTICATE,
      "Basic realm=\"" REALM "\"");
  gst_rtsp_client_send_message (ctx->client, ctx->session, ctx->response);
  return FALSE;
}

static void
mr_rtsp_auth_class_init (MrRtspAuthClass * klass)
{
  GST_RTSP_AUTH_CLASS (klass)->check = mr_rtsp_auth_check;
}

static void
mr_rtsp_auth_init (MrRtspAuth * self)
{
}

/* ---------------------------------------------------------------------- */
/* mounts */

static void
mount_clear (gpointer data)
{
  MrRtspMount *mount = data;

  gst_clear_object (&mount->appsrc);
  g_clear_object (&mount->factory);
  g_free (mount->path);
  if (mount->basic)
    memset (mount->basic, 0, strlen (mount->basic));
  g_free (mount->basic);
  g_mutex_clear (&mount->lock);
}

static void
mount_unref (gpointer mount)
{
  g_atomic_rc_box_release_full (mount, mount_clear);
}

static void
on_media_unprepared (GstRTSPMedia * media, MrRtspMount * mount)
{
  g_autoptr (GstElement) bin = gst_rtsp_media_get_element (media);
  g_autoptr (GstElement) appsrc = gst_bin_get_by_name (GST_BIN (bin),
      "tssrc");

  g_mutex_lock (&mount->lock);
  if (mount->appsrc == appsrc)
    gst_clear_object (&mount->appsrc);
  g_mutex_unlock (&mount->lock);
  GST_DEBUG ("media of %s unprepared", mount->path);
}

/* a new (shared) media for the mount: its appsrc is where the TS goes */
static void
on_media_configure (GstRTSPMediaFactory * factory, GstRTSPMedia * media,
    MrRtspMount * mount)
{
  g_autoptr (GstElement) bin = gst_rtsp_media_get_element (media);
  GstElement *appsrc = gst_bin_get_by_name (GST_BIN (bin), "tssrc");

  g_object_set_data_full (G_OBJECT (media), "mr-rtsp-mount",
      g_atomic_rc_box_acquire (mount), mount_unref);
  g_signal_connect (media, "unprepared", G_CALLBACK (on_media_unprepared),
      mount);
  g_mutex_lock (&mount->lock);
  gst_object_replace ((GstObject **) & mount->appsrc, GST_OBJECT (appsrc));
  g_mutex_unlock (&mount->lock);
  gst_object_unref (appsrc);
  GST_DEBUG ("media of %s configured", mount->path);
}

static gchar *
make_basic (const gchar * user, const gchar * password)
{
  return user && password ? gst_rtsp_auth_make_basic (user, password) : NULL;
}

MrRtspMount *
mr_rtsp_server_mount (MrRtspServer * server, const gchar * path,
    const gchar * user, const gchar * password)
{
  g_autofree gchar *abspath = g_strdup_printf ("/%s", path);
  g_autoptr (GstRTSPMountPoints) points = NULL;
  g_autofree gchar *launch = NULL;
  MrRtspMount *mount;
  gchar *old;

  g_mutex_lock (&server->lock);
  if ((mount = g_hash_table_lookup (server->mounts, abspath))) {
    mount->users++;
    old = mount->basic;
    mount->basic = make_basic (user, password);
    if (old)
      memset (old, 0, strlen (old));
    g_free (old);
    g_mutex_unlock (&server->lock);
    return mount;
  }

  mount = g_atomic_rc_box_new0 (MrRtspMount);
  mount->server = server;
  mount->path = g_strdup (abspath);
  mount->users = 1;
  mount->basic = make_basic (user, password);
  g_mutex_init (&mount->lock);
  mount->factory = gst_rtsp_media_factory_new ();
  /* past MAX_QUEUED_BYTES the appsrc drops its oldest data
   * (leaky-type=downstream): a media that falls behind costs no memory */
  launch = g_strdup_printf ("( appsrc name=tssrc is-live=true format=time "
      "do-timestamp=true max-bytes=%u leaky-type=downstream "
      "caps=\"video/mpegts,systemstream=(boolean)true,packetsize=(int)188\" "
      "! rtpmp2tpay name=pay0 pt=33 )", MAX_QUEUED_BYTES);
  gst_rtsp_media_factory_set_launch (mount->factory, launch);
  gst_rtsp_media_factory_set_shared (mount->factory, TRUE);
  gst_rtsp_media_factory_set_protocols (mount->factory,
      GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_TCP);
  g_signal_connect (mount->factory, "media-configure",
      G_CALLBACK (on_media_configure), mount);
  g_hash_table_insert (server->mounts, g_strdup (abspath), mount);
  g_mutex_unlock (&server->lock);

  points = gst_rtsp_server_get_mount_points (server->server);
  gst_rtsp_mount_points_add_factory (points, abspath,
      g_object_ref (mount->factory));
  GST_INFO ("mounted %s%s", abspath, mount->basic ? " (with credentials)" :
      "");
  return mount;
}

static gboolean
session_on_path (GstRTSPSession * session, const gchar * path)
{
  gint matched = 0;

  /* transfer none */
  return gst_rtsp_session_get_media (session, path, &matched) != NULL
      && matched == (gint) strlen (path);
}

static GstRTSPFilterResult
remove_session_on_path (GstRTSPSessionPool * pool, GstRTSPSession * session,
    gpointer path)
{
  return session_on_path (session, path) ? GST_RTSP_FILTER_REMOVE :
      GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
count_session_on_path (GstRTSPSessionPool * pool, GstRTSPSession * session,
    gpointer data)
{
  gpointer *args = data;

  if (session_on_path (session, args[0]))
    (*(guint *) args[1])++;
  return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult
client_has_session_on_path (GstRTSPClient * client, GstRTSPSession * session,
    gpointer data)
{
  gpointer *args = data;

  if (session_on_path (session, args[0]))
    *(gboolean *) args[1] = TRUE;
  return GST_RTSP_FILTER_KEEP;
}

/* a viewer of the mount that goes away: its connection is closed */
static GstRTSPFilterResult
close_client_on_path (GstRTSPServer * server, GstRTSPClient * client,
    gpointer path)
{
  gboolean found = FALSE;
  gpointer args[2] = { path, &found };

  gst_rtsp_client_session_filter (client, client_has_session_on_path, args);
  return found ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

/* on the main context: the mount at @path (owned) goes if no output uses
 * it any more */
static gboolean
remove_mount (gpointer data)
{
  g_autofree gchar *path = data;
  MrRtspServer *server = default_server;
  g_autoptr (GstRTSPMountPoints) points = NULL;
  g_autoptr (GstRTSPSessionPool) pool = NULL;
  MrRtspMount *mount;

  if (!server)
    return G_SOURCE_REMOVE;
  g_mutex_lock (&server->lock);
  mount = g_hash_table_lookup (server->mounts, path);
  if (!mount || mount->users > 0) {
    g_mutex_unlock (&server->lock);
    return G_SOURCE_REMOVE;
  }
  g_hash_table_remove (server->mounts, path);
  g_mutex_unlock (&server->lock);

  /* a media the factory still makes would find the mount gone */
  g_signal_handlers_disconnect_by_data (mount->factory, mount);
  points = gst_rtsp_server_get_mount_points (server->server);
  gst_rtsp_mount_points_remove_factory (points, path);
  gst_rtsp_server_client_filter (server->server, close_client_on_path, path);
  pool = gst_rtsp_server_get_session_pool (server->server);
  gst_rtsp_session_pool_filter (pool, remove_session_on_path, path);
  GST_INFO ("unmounted %s", path);
  mount_unref (mount);
  return G_SOURCE_REMOVE;
}

void
mr_rtsp_mount_release (MrRtspMount * mount)
{
  MrRtspServer *server;
  gboolean last;

  if (!mount)
    return;
  server = mount->server;
  g_mutex_lock (&server->lock);
  last = --mount->users == 0;
  g_mutex_unlock (&server->lock);
  if (last)
    g_main_context_invoke (NULL, remove_mount, g_strdup (mount->path));
}

void
mr_rtsp_mount_push (MrRtspMount * mount, GstBuffer * buffer)
{
  GstElement *appsrc;
  GstBuffer *copy;

  g_mutex_lock (&mount->lock);
  appsrc = mount->appsrc ? gst_object_ref (mount->appsrc) : NULL;
  g_mutex_unlock (&mount->lock);
  if (!appsrc)
    return;                     /* nobody watches */
  /* the media's own clock times it (do-timestamp): the flow's running
   * time means nothing to it */
  copy = gst_buffer_copy (buffer);
  GST_BUFFER_PTS (copy) = GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (copy) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer (GST_APP_SRC (appsrc), copy);
  gst_object_unref (appsrc);
}

guint
mr_rtsp_mount_viewers (MrRtspMount * mount)
{
  g_autoptr (GstRTSPSessionPool) pool =
      gst_rtsp_server_get_session_pool (mount->server->server);
  guint count = 0;
  gpointer args[2] = { mount->path, &count };
  GList *none;

  none = gst_rtsp_session_pool_filter (pool, count_session_on_path, args);
  g_list_free_full (none, g_object_unref);
  return count;
}

/* ---------------------------------------------------------------------- */
/* the server */

static void
on_new_session (GstRTSPClient * client, GstRTSPSession * session,
    gpointer user_data)
{
  gst_rtsp_session_set_timeout (session, MR_RTSP_SESSION_TIMEOUT_S);
}

static void
on_client_connected (GstRTSPServer * server, GstRTSPClient * client,
    gpointer user_data)
{
  g_signal_connect (client, "new-session", G_CALLBACK (on_new_session),
      NULL);
}

/* sessions whose viewer vanished (no keep-alive within their timeout) */
static gboolean
cleanup_sessions (gpointer data)
{
  MrRtspServer *server = data;
  g_autoptr (GstRTSPSessionPool) pool =
      gst_rtsp_server_get_session_pool (server->server);
  guint removed = gst_rtsp_session_pool_cleanup (pool);

  if (removed)
    GST_INFO ("%u expired RTSP session(s) removed", removed);
  return G_SOURCE_CONTINUE;
}

MrRtspServer *
mr_rtsp_server_new (const gchar * address, gint port, GError ** error)
{
  MrRtspServer *server;
  g_autofree gchar *service = g_strdup_printf ("%d", port);
  MrRtspAuth *auth;

  if (!mr_rtsp_debug)
    GST_DEBUG_CATEGORY_INIT (mr_rtsp_debug, "mroute-rtsp", 0,
        "mroute RTSP server");
  server = g_new0 (MrRtspServer, 1);
  g_mutex_init (&server->lock);
  server->mounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  server->server = gst_rtsp_server_new ();
  if (address)
    gst_rtsp_server_set_address (server->server, address);
  gst_rtsp_server_set_service (server->server, service);
  auth = g_object_new (mr_rtsp_auth_get_type (), NULL);
  auth->server = server;
  gst_rtsp_server_set_auth (server->server, GST_RTSP_AUTH (auth));
  g_object_unref (auth);
  g_signal_connect (server->server, "client-connected",
      G_CALLBACK (on_client_connected), server);

  if (!(server->source = gst_rtsp_server_create_source (server->server,
              NULL, error))) {
    mr_rtsp_server_free (server);
    return NULL;
  }
  g_source_attach (server->source, NULL);
  server->port = gst_rtsp_server_get_bound_port (server->server);
  server->cleanup_id = g_timeout_add_seconds (CLEANUP_INTERVAL_S,
      cleanup_sessions, server);
  return server;
}

gint
mr_rtsp_server_get_port (MrRtspServer * server)
{
  return server->port;
}

static GstRTSPFilterResult
close_client (GstRTSPServer * server, GstRTSPClient * client, gpointer data)
{
  return GST_RTSP_FILTER_REMOVE;
}

void
mr_rtsp_server_free (MrRtspServer * server)
{
  if (!server)
    return;
  if (default_server == server)
    default_server = NULL;
  if (server->cleanup_id)
    g_source_remove (server->cleanup_id);
  if (server->source) {
    g_source_destroy (server->source);
    g_source_unref (server->source);
  }
  gst_rtsp_server_client_filter (server->server, close_client, NULL);
  {
    GHashTableIter iter;
    gpointer mount;

    g_hash_table_iter_init (&iter, server->mounts);
    while (g_hash_table_iter_next (&iter, NULL, &mount)) {
      g_signal_handlers_disconnect_by_data (((MrRtspMount *) mount)->factory,
          mount);
      mount_unref (mount);
    }
  }
  g_hash_table_unref (server->mounts);
  g_object_unref (server->server);
  g_mutex_clear (&server->lock);
  g_free (server);
}

void
mr_rtsp_server_set_default (MrRtspServer * server)
{
  default_server = server;
}

MrRtspServer *
mr_rtsp_server_get_default (void)
{
  return default_server;
}
