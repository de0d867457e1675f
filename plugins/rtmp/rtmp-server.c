/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* RTMP publishing points sharing a port: the listeners, the connections,
 * the handshake and the commands of a publisher.  See rtmp-server.h.
 *
 * Locking: one process-wide lock (servers_lock) protects the table of
 * listeners and, in each, its points, its connections and which
 * connection publishes to which point.  A point's callbacks run under its
 * own cb_lock, never under servers_lock; unregistering takes cb_lock
 * after servers_lock is released, so once it returns no callback runs. */

#include "rtmp-server.h"
#include "rtmp-amf.h"
#include "rtmp-chunk.h"

#include <string.h>

#define HANDSHAKE_SIZE 1536
/* what we ask the publisher to acknowledge, and its peer bandwidth */
#define WINDOW_SIZE 2500000
/* our chunk size out: our messages are small, a few a connection */
#define OUT_CHUNK_SIZE 4096
/* the message stream createStream gives */
#define PUBLISH_STREAM_ID 1
/* chunk streams of what we send: protocol control, commands */
#define CSID_CONTROL 2
#define CSID_COMMAND 3

typedef struct _Server Server;
typedef struct _Conn Conn;

struct _MrRtmpPublishPoint
{
  gint refcount;                /* atomic */
  Server *server;               /* protected by servers_lock; NULL once
                                 * unregistered */
  gchar *app;
  gchar *key;
  MrRtmpPublishCallbacks callbacks;
  gpointer user_data;
  Conn *publisher;              /* protected by servers_lock */
  GMutex cb_lock;
  gboolean active;              /* protected by cb_lock */
};

struct _Server
{
  guint port;
  gchar *address;
  GSocket *socket;
  GCancellable *cancel;
  GThread *thread;
  GList *points;                /* protected by servers_lock */
  GList *conns;                 /* protected by servers_lock */
};

struct _Conn
{
  Server *server;
  GSocket *socket;
  GCancellable *cancel;
  GThread *thread;
  gboolean done;                /* protected by servers_lock */
  gchar *peer;

  /* the connection's thread only: */
  MrRtmpChunkReader *reader;
  guint32 out_chunk_size;
  guint64 bytes_in;
  guint64 acked;
  guint32 peer_window;
  gchar *app;                   /* from connect */
  MrRtmpPublishPoint *point;    /* a ref while publishing to it */
  guint32 publish_stream;
};

static GMutex servers_lock;
static GHashTable *servers;     /* port -> Server; protected by servers_lock */

static MrRtmpPublishPoint *
point_ref (MrRtmpPublishPoint * p)
{
  g_atomic_int_inc (&p->refcount);
  return p;
}

static void
point_unref (MrRtmpPublishPoint * p)
{
  if (!g_atomic_int_dec_and_test (&p->refcount))
    return;
  g_mutex_clear (&p->cb_lock);
  g_free (p->app);
  g_free (p->key);
  g_free (p);
}

/* ---------------------------------------------------------------------- */
/* I/O of a connection */

static gboolean
send_all (Conn * c, const guint8 * data, gsize size, GError ** error)
{
  while (size > 0) {
    gssize n = g_socket_send (c->socket, (const gchar *) data, size,
        c->cancel, error);

    if (n <= 0)
      return FALSE;
    data += n;
    size -= n;
  }
  return TRUE;
}

static gboolean
recv_exact (Conn * c, guint8 * data, gsize size, GError ** error)
{
  while (size > 0) {
    gssize n = g_socket_receive (c->socket, (gchar *) data, size, c->cancel,
        error);

    if (n < 0)
      return FALSE;
    if (n == 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
          "the publisher closed the connection");
      return FALSE;
    }
    c->bytes_in += n;
    data += n;
    size -= n;
  }
  return TRUE;
}

/* The simple handshake (no digest): C0 C1 in, S0 S1 S2 out (S2 echoes
 * C1), C2 in.  Encoders that publish (ffmpeg, OBS, rtmp2sink) check no
 * digest of the server's. */
static gboolean
handshake (Conn * c, GError ** error)
{
  guint8 *in = g_malloc (1 + HANDSHAKE_SIZE);
  guint8 *out = g_malloc (1 + 2 * HANDSHAKE_SIZE);
  gboolean ok = FALSE;
  guint32 now = (guint32) (g_get_monotonic_time () / 1000);

  if (!recv_exact (c, in, 1 + HANDSHAKE_SIZE, error))
    goto done;
  if (in[0] != 3) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "RTMP version %u, not 3", in[0]);
    goto done;
  }
  out[0] = 3;
  out[1] = now >> 24;
  out[2] = (now >> 16) & 0xff;
  out[3] = (now >> 8) & 0xff;
  out[4] = now & 0xff;
  memset (out + 5, 0, 4);
  for (guint i = 9; i < 1 + HANDSHAKE_SIZE; i++)
    out[i] = g_random_int () & 0xff;
  memcpy (out + 1 + HANDSHAKE_SIZE, in + 1, HANDSHAKE_SIZE);
  if (!send_all (c, out, 1 + 2 * HANDSHAKE_SIZE, error))
    goto done;
  ok = recv_exact (c, in, HANDSHAKE_SIZE, error);
done:
  g_free (in);
  g_free (out);
  return ok;
}

static gboolean
send_message (Conn * c, guint32 csid, guint8 type, guint32 stream_id,
    const guint8 * data, gsize size, GError ** error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  mr_rtmp_chunk_write (out, c->out_chunk_size, csid, type, 0, stream_id,
      data, size);
  return send_all (c, out->data, out->len, error);
}

static gboolean
send_control_u32 (Conn * c, guint8 type, guint32 value, gint extra,
    GError ** error)
{
  guint8 b[5] = { value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff,
    value & 0xff, extra
  };

  return send_message (c, CSID_CONTROL, type, 0, b, extra >= 0 ? 5 : 4,
      error);
}

static gboolean
send_user_control (Conn * c, guint16 event, guint32 value, GError ** error)
{
  guint8 b[6] = { event >> 8, event & 0xff, value >> 24, (value >> 16) & 0xff,
    (value >> 8) & 0xff, value & 0xff
  };

  return send_message (c, CSID_CONTROL, MR_RTMP_MSG_USER_CONTROL, 0, b, 6,
      error);
}

static gboolean
send_command (Conn * c, guint32 stream_id, GByteArray * amf, GError ** error)
{
  return send_message (c, CSID_COMMAND, MR_RTMP_MSG_COMMAND_AMF0, stream_id,
      amf->data, amf->len, error);
}

/* _result or _error (@name) of transaction @txn: a null, then @info_code
 * as an info object when given, else @number */
static gboolean
send_result (Conn * c, const gchar * name, gdouble txn, const gchar * level,
    const gchar * code, const gchar * description, gdouble number,
    GError ** error)
{
  g_autoptr (GByteArray) amf = g_byte_array_new ();

  mr_amf0_write_string (amf, name);
  mr_amf0_write_number (amf, txn);
  mr_amf0_write_null (amf);
  if (code) {
    mr_amf0_write_object_begin (amf);
    mr_amf0_write_name (amf, "level");
    mr_amf0_write_string (amf, level);
    mr_amf0_write_name (amf, "code");
    mr_amf0_write_string (amf, code);
    mr_amf0_write_name (amf, "description");
    mr_amf0_write_string (amf, description);
    mr_amf0_write_object_end (amf);
  } else {
    mr_amf0_write_number (amf, number);
  }
  return send_command (c, 0, amf, error);
}

static gboolean
send_on_status (Conn * c, guint32 stream_id, const gchar * level,
    const gchar * code, const gchar * description, GError ** error)
{
  g_autoptr (GByteArray) amf = g_byte_array_new ();

  mr_amf0_write_string (amf, "onStatus");
  mr_amf0_write_number (amf, 0);
  mr_amf0_write_null (amf);
  mr_amf0_write_object_begin (amf);
  mr_amf0_write_name (amf, "level");
  mr_amf0_write_string (amf, level);
  mr_amf0_write_name (amf, "code");
  mr_amf0_write_string (amf, code);
  mr_amf0_write_name (amf, "description");
  mr_amf0_write_string (amf, description);
  mr_amf0_write_object_end (amf);
  return send_command (c, stream_id, amf, error);
}

/* ---------------------------------------------------------------------- */
/* points */

/* "live", "live/", "live?x=y" -> "live"; "KEY?token=..." -> "KEY" */
static gchar *
plain_name (const gchar * s)
{
  gsize len = strcspn (s, "?");

  while (len > 0 && s[len - 1] == '/')
    len--;
  return g_strndup (s, len);
}

/* the point for @app/@key on @server with a ref, or NULL */
static MrRtmpPublishPoint *
find_point (Server * server, const gchar * app, const gchar * key)
{
  for (GList * l = server->points; l; l = l->next) {
    MrRtmpPublishPoint *p = l->data;

    if (g_str_equal (p->app, app) && (!key || g_str_equal (p->key, key)))
      return point_ref (p);
  }
  return NULL;
}

/* @c was refused: @only hears of it (a key in use: without the key, which
 * is its own), or every point on @c's port (an unknown application or
 * key: the one tried) */
static void
notify_refused (Conn * c, MrRtmpPublishPoint * only, const gchar * app,
    const gchar * key, const gchar * reason)
{
  GList *points = NULL;

  g_mutex_lock (&servers_lock);
  if (only)
    points = g_list_prepend (points, point_ref (only));
  else
    for (GList * l = c->server->points; l; l = l->next)
      points = g_list_prepend (points, point_ref (l->data));
  g_mutex_unlock (&servers_lock);
  for (GList * l = points; l; l = l->next) {
    MrRtmpPublishPoint *p = l->data;

    g_mutex_lock (&p->cb_lock);
    if (p->active && p->callbacks.refused)
      p->callbacks.refused (p->user_data, c->peer, app, key, reason);
    g_mutex_unlock (&p->cb_lock);
  }
  g_list_free_full (points, (GDestroyNotify) point_unref);
}

/* @c stops publishing (unpublished, or the connection ended) */
static void
end_publishing (Conn * c, const gchar * reason)
{
  MrRtmpPublishPoint *p = c->point;

  if (!p)
    return;
  c->point = NULL;
  g_mutex_lock (&servers_lock);
  if (p->publisher == c)
    p->publisher = NULL;
  g_mutex_unlock (&servers_lock);
  g_mutex_lock (&p->cb_lock);
  if (p->active && p->callbacks.publish_stop)
    p->callbacks.publish_stop (p->user_data, reason);
  g_mutex_unlock (&p->cb_lock);
  point_unref (p);
}

/* ---------------------------------------------------------------------- */
/* commands */

static gboolean
on_connect (Conn * c, gdouble txn, const MrAmfValue * obj, GError ** error)
{
  const gchar *app = mr_amf_value_string (mr_amf_value_get (obj, "app"));
  MrRtmpPublishPoint *p;

  g_free (c->app);
  c->app = plain_name (app ? app : "");
  g_mutex_lock (&servers_lock);
  p = find_point (c->server, c->app, NULL);
  g_mutex_unlock (&servers_lock);
  if (!p) {
    notify_refused (c, NULL, c->app, NULL, "unknown application");
    send_result (c, "_error", txn, "error", "NetConnection.Connect.Rejected",
        "Unknown application.", 0, NULL);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
        "unknown application");
    return FALSE;
  }
  point_unref (p);

  if (!send_control_u32 (c, MR_RTMP_MSG_WINDOW_ACK_SIZE, WINDOW_SIZE, -1,
          error)
      || !send_control_u32 (c, MR_RTMP_MSG_SET_PEER_BANDWIDTH, WINDOW_SIZE,
          2, error)
      || !send_control_u32 (c, MR_RTMP_MSG_SET_CHUNK_SIZE, OUT_CHUNK_SIZE, -1,
          error))
    return FALSE;
  c->out_chunk_size = OUT_CHUNK_SIZE;

  {
    g_autoptr (GByteArray) amf = g_byte_array_new ();

    mr_amf0_write_string (amf, "_result");
    mr_amf0_write_number (amf, txn);
    mr_amf0_write_object_begin (amf);
    mr_amf0_write_name (amf, "fmsVer");
    mr_amf0_write_string (amf, "FMS/3,0,1,123");
    mr_amf0_write_name (amf, "capabilities");
    mr_amf0_write_number (amf, 31);
    mr_amf0_write_object_end (amf);
    mr_amf0_write_object_begin (amf);
    mr_amf0_write_name (amf, "level");
    mr_amf0_write_string (amf, "status");
    mr_amf0_write_name (amf, "code");
    mr_amf0_write_string (amf, "NetConnection.Connect.Success");
    mr_amf0_write_name (amf, "description");
    mr_amf0_write_string (amf, "Connection succeeded.");
    mr_amf0_write_name (amf, "objectEncoding");
    mr_amf0_write_number (amf, 0);
    mr_amf0_write_object_end (amf);
    return send_command (c, 0, amf, error);
  }
}

static gboolean
on_publish (Conn * c, guint32 stream_id, const gchar * name, GError ** error)
{
  g_autofree gchar *key = plain_name (name ? name : "");
  MrRtmpPublishPoint *p;
  const gchar *refusal = NULL;

  if (c->point || !c->app) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "publish before connect, or twice");
    return FALSE;
  }
  g_mutex_lock (&servers_lock);
  p = find_point (c->server, c->app, key);
  if (!p)
    refusal = "unknown stream key";
  else if (p->publisher)
    refusal = "stream key in use";
  else
    p->publisher = c;
  g_mutex_unlock (&servers_lock);

  if (refusal) {
    notify_refused (c, p, c->app, p ? NULL : key, refusal);
    g_clear_pointer (&p, point_unref);
    send_on_status (c, stream_id, "error", "NetStream.Publish.BadName",
        refusal, NULL);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s",
        refusal);
    return FALSE;
  }
  c->point = p;
  c->publish_stream = stream_id;
  g_mutex_lock (&p->cb_lock);
  if (p->active && p->callbacks.publish_start)
    p->callbacks.publish_start (p->user_data, c->peer);
  g_mutex_unlock (&p->cb_lock);
  return send_user_control (c, 0, stream_id, error)     /* Stream Begin */
      && send_on_status (c, stream_id, "status", "NetStream.Publish.Start",
      "Publishing.", error);
}

static gboolean
on_command (Conn * c, const MrRtmpMessage * msg, const guint8 * data,
    gsize size, GError ** error)
{
  g_autoptr (GPtrArray) values = mr_amf0_decode_all (data, size);
  const gchar *name;
  gdouble txn;

  if (!values || values->len < 2
      || !(name = mr_amf_value_string (values->pdata[0]))
      || ((MrAmfValue *) values->pdata[1])->type != MR_AMF0_NUMBER) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "a command that is not AMF0 (name, transaction id, ...)");
    return FALSE;
  }
  txn = ((MrAmfValue *) values->pdata[1])->number;

  if (g_str_equal (name, "connect"))
    return on_connect (c, txn, values->len > 2 ? values->pdata[2] : NULL,
        error);
  if (!c->app) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "command %s before connect", name);
    return FALSE;
  }
  if (g_str_equal (name, "createStream"))
    return send_result (c, "_result", txn, NULL, NULL, NULL,
        PUBLISH_STREAM_ID, error);
  if (g_str_equal (name, "publish"))
    return on_publish (c, msg->stream_id, values->len > 3 ?
        mr_amf_value_string (values->pdata[3]) : NULL, error);
  if (g_str_equal (name, "FCUnpublish") || g_str_equal (name, "deleteStream")
      || g_str_equal (name, "closeStream")) {
    end_publishing (c, "the publisher stopped publishing");
    return TRUE;
  }
  /* releaseStream, FCPublish and what else a client asks that has a
   * transaction: a plain answer keeps clients that wait for one going */
  if (txn != 0 && (g_str_equal (name, "releaseStream")
          || g_str_equal (name, "FCPublish")))
    return send_result (c, "_result", txn, NULL, NULL, NULL, 0, error);
  return TRUE;
}

/* "@setDataFrame" "onMetaData" {...} -> "onMetaData" {...} as FLV has it;
 * other data messages are not handed on */
static void
on_data (Conn * c, const MrRtmpMessage * msg, const guint8 * data, gsize size)
{
  MrAmfValue *first;
  gsize used = 0;
  const gchar *s;

  if (!(first = mr_amf0_decode (data, size, &used)))
    return;
  s = mr_amf_value_string (first);
  if (g_strcmp0 (s, "@setDataFrame") == 0) {
    data += used;
    size -= used;
    mr_amf_value_free (first);
    if (!(first = mr_amf0_decode (data, size, &used)))
      return;
    s = mr_amf_value_string (first);
  }
  if (g_strcmp0 (s, "onMetaData") == 0) {
    MrRtmpPublishPoint *p = c->point;

    g_mutex_lock (&p->cb_lock);
    if (p->active && p->callbacks.media)
      p->callbacks.media (p->user_data, MR_RTMP_MSG_DATA_AMF0, msg->timestamp,
          data, size);
    g_mutex_unlock (&p->cb_lock);
  }
  mr_amf_value_free (first);
}

static gboolean
on_message (Conn * c, const MrRtmpMessage * msg, GError ** error)
{
  switch (msg->type) {
    case MR_RTMP_MSG_WINDOW_ACK_SIZE:
      if (msg->size >= 4)
        c->peer_window = ((guint32) msg->data[0] << 24) |
            ((guint32) msg->data[1] << 16) | ((guint32) msg->data[2] << 8) |
            msg->data[3];
      return TRUE;
    case MR_RTMP_MSG_USER_CONTROL:
      /* a Ping Request (6) is answered with its timestamp */
      if (msg->size >= 6 && msg->data[0] == 0 && msg->data[1] == 6)
        return send_user_control (c, 7, ((guint32) msg->data[2] << 24) |
            ((guint32) msg->data[3] << 16) | ((guint32) msg->data[4] << 8) |
            msg->data[5], error);
      return TRUE;
    case MR_RTMP_MSG_COMMAND_AMF0:
      return on_command (c, msg, msg->data, msg->size, error);
    case MR_RTMP_MSG_COMMAND_AMF3:
      /* AMF3 commands open with a 0 byte, then are AMF0 */
      if (msg->size < 1)
        return TRUE;
      return on_command (c, msg, msg->data + 1, msg->size - 1, error);
    case MR_RTMP_MSG_DATA_AMF0:
    case MR_RTMP_MSG_DATA_AMF3:
      if (c->point && msg->stream_id == c->publish_stream)
        on_data (c, msg, msg->data + (msg->type == MR_RTMP_MSG_DATA_AMF3),
            msg->size - (msg->type == MR_RTMP_MSG_DATA_AMF3 && msg->size));
      return TRUE;
    case MR_RTMP_MSG_AUDIO:
    case MR_RTMP_MSG_VIDEO:
      if (c->point && msg->stream_id == c->publish_stream) {
        MrRtmpPublishPoint *p = c->point;

        g_mutex_lock (&p->cb_lock);
        if (p->active && p->callbacks.media)
          p->callbacks.media (p->user_data, msg->type, msg->timestamp,
              msg->data, msg->size);
        g_mutex_unlock (&p->cb_lock);
      }
      return TRUE;
    default:
      /* Set Chunk Size and Abort: the reader did them; acknowledgements,
       * peer bandwidth, aggregates: nothing to do */
      return TRUE;
  }
}

static gpointer
conn_thread (gpointer data)
{
  Conn *c = data;
  g_autoptr (GError) error = NULL;
  gsize buf_size = 64 * 1024;
  guint8 *buf = g_malloc (buf_size);
  const gchar *chunk_error = NULL;

  g_socket_set_timeout (c->socket, MR_RTMP_SERVER_TIMEOUT_S);
  c->reader = mr_rtmp_chunk_reader_new ();
  c->out_chunk_size = MR_RTMP_DEFAULT_CHUNK_SIZE;
  if (!handshake (c, &error))
    goto done;
  for (;;) {
    gssize n = g_socket_receive (c->socket, (gchar *) buf, buf_size,
        c->cancel, &error);
    MrRtmpMessage msg;
    MrRtmpChunkResult res;
    guint32 window = c->peer_window ? c->peer_window : WINDOW_SIZE;

    if (n < 0)
      break;
    if (n == 0) {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
          "the publisher closed the connection");
      break;
    }
    c->bytes_in += n;
    mr_rtmp_chunk_reader_push (c->reader, buf, n);
    while ((res = mr_rtmp_chunk_reader_pop (c->reader, &msg, &chunk_error))
        == MR_RTMP_CHUNK_MESSAGE) {
      if (!on_message (c, &msg, &error))
        goto done;
    }
    if (res == MR_RTMP_CHUNK_ERROR) {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
          chunk_error);
      break;
    }
    if (c->bytes_in - c->acked >= window) {
      c->acked = c->bytes_in;
      if (!send_control_u32 (c, MR_RTMP_MSG_ACK, (guint32) c->bytes_in, -1,
              &error))
        break;
    }
  }
done:
  end_publishing (c, error ? error->message : "the connection ended");
  g_socket_close (c->socket, NULL);
  g_free (buf);
  g_mutex_lock (&servers_lock);
  c->done = TRUE;
  g_mutex_unlock (&servers_lock);
  return NULL;
}

static void
conn_free (Conn * c)
{
  g_thread_join (c->thread);
  mr_rtmp_chunk_reader_free (c->reader);
  g_object_unref (c->socket);
  g_object_unref (c->cancel);
  g_free (c->peer);
  g_free (c->app);
  g_free (c);
}

static gchar *
peer_of (GSocket * socket)
{
  g_autoptr (GSocketAddress) addr = g_socket_get_remote_address (socket,
      NULL);
  g_autofree gchar *ip = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (addr))
    return g_strdup ("unknown");
  ip = g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (addr)));
  return g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port
      (G_INET_SOCKET_ADDRESS (addr)));
}

/* ---------------------------------------------------------------------- */
/* listeners */

static gpointer
accept_thread (gpointer data)
{
  Server *s = data;

  for (;;) {
    g_autoptr (GError) error = NULL;
    GSocket *sock = g_socket_accept (s->socket, s->cancel, &error);
    GList *finished = NULL;
    Conn *c;
    guint n_conns;

    if (!sock) {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        break;
      g_usleep (100 * 1000);    /* out of descriptors: not a busy loop */
      continue;
    }
    g_socket_set_blocking (sock, TRUE);

    c = g_new0 (Conn, 1);
    c->server = s;
    c->socket = sock;
    c->cancel = g_cancellable_new ();
    c->peer = peer_of (sock);

    g_mutex_lock (&servers_lock);
    for (GList * l = s->conns; l;) {
      GList *next = l->next;

      if (((Conn *) l->data)->done) {
        s->conns = g_list_remove_link (s->conns, l);
        finished = g_list_concat (l, finished);
      }
      l = next;
    }
    n_conns = g_list_length (s->conns);
    if (g_cancellable_is_cancelled (s->cancel)
        || n_conns >= MR_RTMP_SERVER_MAX_CONNECTIONS) {
      g_mutex_unlock (&servers_lock);
      g_socket_close (sock, NULL);
      g_object_unref (sock);
      g_object_unref (c->cancel);
      g_free (c->peer);
      g_free (c);
    } else {
      s->conns = g_list_prepend (s->conns, c);
      c->thread = g_thread_new ("rtmp-conn", conn_thread, c);
      g_mutex_unlock (&servers_lock);
    }
    g_list_free_full (finished, (GDestroyNotify) conn_free);
  }
  return NULL;
}

static Server *
server_new (const gchar * address, guint port, GError ** error)
{
  g_autoptr (GInetAddress) inet = address ?
      g_inet_address_new_from_string (address) :
      g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) bind_addr = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  Server *s;

  if (!inet) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IP address", address);
    return NULL;
  }
  s = g_new0 (Server, 1);
  s->address = g_inet_address_to_string (inet);
  s->socket = g_socket_new (g_inet_address_get_family (inet),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!s->socket)
    goto fail;
  bind_addr = g_inet_socket_address_new (inet, port);
  if (!g_socket_bind (s->socket, bind_addr, TRUE, error))
    goto fail;
  g_socket_set_listen_backlog (s->socket, 16);
  if (!g_socket_listen (s->socket, error))
    goto fail;
  bound = g_socket_get_local_address (s->socket, error);
  if (!bound)
    goto fail;
  s->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  s->cancel = g_cancellable_new ();
  s->thread = g_thread_new ("rtmp-listen", accept_thread, s);
  return s;

fail:
  g_clear_object (&s->socket);
  g_free (s->address);
  g_free (s);
  return NULL;
}

/* @s no longer in the table: stop its threads and free it, without
 * servers_lock */
static void
server_free (Server * s, GList * conns)
{
  g_thread_join (s->thread);
  g_list_free_full (conns, (GDestroyNotify) conn_free);
  g_socket_close (s->socket, NULL);
  g_object_unref (s->socket);
  g_object_unref (s->cancel);
  g_free (s->address);
  g_free (s);
}

MrRtmpPublishPoint *
mr_rtmp_publish_point_register (const gchar * address, guint port,
    const gchar * app, const gchar * key,
    const MrRtmpPublishCallbacks * callbacks, gpointer user_data,
    GError ** error)
{
  MrRtmpPublishPoint *p, *other;
  Server *s = NULL;
  g_autofree gchar *any = NULL;

  g_return_val_if_fail (app != NULL && key != NULL, NULL);
  g_return_val_if_fail (port <= 65535, NULL);

  g_mutex_lock (&servers_lock);
  if (!servers)
    servers = g_hash_table_new (NULL, NULL);
  if (port)
    s = g_hash_table_lookup (servers, GUINT_TO_POINTER (port));
  if (s) {
    any = g_strdup (address ? address : "0.0.0.0");
    if (!g_str_equal (any, s->address)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
          "RTMP port %u is already listened on at %s", port, s->address);
      g_mutex_unlock (&servers_lock);
      return NULL;
    }
    if ((other = find_point (s, app, key))) {
      point_unref (other);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
          "RTMP port %u already has a source for this application and "
          "stream key", port);
      g_mutex_unlock (&servers_lock);
      return NULL;
    }
  } else {
    if (!(s = server_new (address, port, error))) {
      g_mutex_unlock (&servers_lock);
      return NULL;
    }
    g_hash_table_insert (servers, GUINT_TO_POINTER (s->port), s);
  }
  p = g_new0 (MrRtmpPublishPoint, 1);
  p->refcount = 1;
  p->server = s;
  p->app = g_strdup (app);
  p->key = g_strdup (key);
  p->callbacks = *callbacks;
  p->user_data = user_data;
  p->active = TRUE;
  g_mutex_init (&p->cb_lock);
  s->points = g_list_prepend (s->points, p);
  g_mutex_unlock (&servers_lock);
  return p;
}

guint
mr_rtmp_publish_point_port (MrRtmpPublishPoint * point)
{
  guint port = 0;

  g_mutex_lock (&servers_lock);
  if (point->server)
    port = point->server->port;
  g_mutex_unlock (&servers_lock);
  return port;
}

void
mr_rtmp_publish_point_unregister (MrRtmpPublishPoint * p)
{
  Server *s, *last = NULL;
  GList *conns = NULL;

  g_mutex_lock (&servers_lock);
  s = p->server;
  p->server = NULL;
  if (p->publisher)
    g_cancellable_cancel (p->publisher->cancel);
  if (s) {
    s->points = g_list_remove (s->points, p);
    if (!s->points) {
      g_hash_table_remove (servers, GUINT_TO_POINTER (s->port));
      g_cancellable_cancel (s->cancel);
      for (GList * l = s->conns; l; l = l->next)
        g_cancellable_cancel (((Conn *) l->data)->cancel);
      conns = s->conns;
      s->conns = NULL;
      last = s;
    }
  }
  g_mutex_unlock (&servers_lock);

  g_mutex_lock (&p->cb_lock);
  p->active = FALSE;
  g_mutex_unlock (&p->cb_lock);

  if (last)
    server_free (last, conns);
  point_unref (p);
}
