/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* rtmpserversrc with GstHarness, and an RTMP publisher written here on a
 * real TCP socket on 127.0.0.1 (the chunk writer and AMF0 encoder of
 * plugins/rtmp/, the chunk reader for the server's answers): handshake,
 * connect, createStream, publish, media; what comes out is FLV, byte for
 * byte.  Unknown keys and second publishers are refused, two elements
 * share a port, chunk sizes change, and the element stops while a
 * publisher is there. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gio/gio.h>
#include <string.h>

#include "rtmp/rtmp-amf.h"
#include "rtmp/rtmp-chunk.h"

#define TIMEOUT_S 10

typedef struct
{
  GSocket *socket;
  MrRtmpChunkReader *reader;
  guint32 chunk_size;
} Publisher;

static void
send_bytes (Publisher * p, const guint8 * data, gsize size)
{
  while (size > 0) {
    GError *error = NULL;
    gssize n = g_socket_send (p->socket, (const gchar *) data, size, NULL,
        &error);

    fail_unless (n > 0, "send: %s", error ? error->message : "0");
    data += n;
    size -= n;
  }
}

static void
recv_bytes (Publisher * p, guint8 * data, gsize size)
{
  while (size > 0) {
    GError *error = NULL;
    gssize n = g_socket_receive (p->socket, (gchar *) data, size, NULL,
        &error);

    fail_unless (n > 0, "receive: %s", error ? error->message : "closed");
    data += n;
    size -= n;
  }
}

static Publisher *
publisher_connect (guint port)
{
  Publisher *p = g_new0 (Publisher, 1);
  GError *error = NULL;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, port);
  guint8 c0c1[1 + 1536], s0s1s2[1 + 2 * 1536];

  p->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  fail_unless (p->socket != NULL);
  g_socket_set_timeout (p->socket, TIMEOUT_S);
  fail_unless (g_socket_connect (p->socket, addr, NULL, &error), "connect: %s",
      error ? error->message : "");
  g_object_unref (addr);
  g_object_unref (lo);
  p->reader = mr_rtmp_chunk_reader_new ();
  p->chunk_size = MR_RTMP_DEFAULT_CHUNK_SIZE;

  c0c1[0] = 3;
  for (guint i = 1; i < sizeof c0c1; i++)
    c0c1[i] = i * 13;
  send_bytes (p, c0c1, sizeof c0c1);
  recv_bytes (p, s0s1s2, sizeof s0s1s2);
  fail_unless_equals_int (s0s1s2[0], 3);
  /* S2 echoes C1 */
  fail_unless (memcmp (s0s1s2 + 1 + 1536, c0c1 + 1, 1536) == 0);
  send_bytes (p, s0s1s2 + 1, 1536);     /* C2 echoes S1 */
  return p;
}

static void
publisher_free (Publisher * p)
{
  g_socket_close (p->socket, NULL);
  g_object_unref (p->socket);
  mr_rtmp_chunk_reader_free (p->reader);
  g_free (p);
}

static void
send_message (Publisher * p, guint32 csid, guint8 type, guint32 ts,
    guint32 stream_id, const guint8 * data, gsize size)
{
  GByteArray *out = g_byte_array_new ();

  mr_rtmp_chunk_write (out, p->chunk_size, csid, type, ts, stream_id, data,
      size);
  send_bytes (p, out->data, out->len);
  g_byte_array_unref (out);
}

static void
send_command (Publisher * p, guint32 stream_id, GByteArray * amf)
{
  send_message (p, 3, MR_RTMP_MSG_COMMAND_AMF0, 0, stream_id, amf->data,
      amf->len);
  g_byte_array_unref (amf);
}

/* The next command from the server named @name ("_result", "_error",
 * "onStatus"); its values, or NULL if the server closed first */
static GPtrArray *
wait_command (Publisher * p, const gchar * name)
{
  guint8 buf[4096];

  for (;;) {
    MrRtmpMessage m;

    while (mr_rtmp_chunk_reader_pop (p->reader, &m, NULL) ==
        MR_RTMP_CHUNK_MESSAGE) {
      GPtrArray *v;

      if (m.type != MR_RTMP_MSG_COMMAND_AMF0)
        continue;
      v = mr_amf0_decode_all (m.data, m.size);
      fail_unless (v != NULL && v->len >= 1, "a command that is not AMF0");
      if (g_strcmp0 (mr_amf_value_string (v->pdata[0]), name) == 0)
        return v;
      g_ptr_array_unref (v);
    }
    {
      GError *error = NULL;
      gssize n = g_socket_receive (p->socket, (gchar *) buf, sizeof buf,
          NULL, &error);

      if (n <= 0) {
        g_clear_error (&error);
        return NULL;
      }
      mr_rtmp_chunk_reader_push (p->reader, buf, n);
    }
  }
}

static GByteArray *
command (const gchar * name, gdouble txn)
{
  GByteArray *amf = g_byte_array_new ();

  mr_amf0_write_string (amf, name);
  mr_amf0_write_number (amf, txn);
  return amf;
}

/* connect (app), createStream, publish (key): the onStatus code */
static gchar *
publisher_publish (Publisher * p, const gchar * app, const gchar * key)
{
  GByteArray *amf = command ("connect", 1);
  GPtrArray *v;
  const MrAmfValue *info;
  gchar *code;

  mr_amf0_write_object_begin (amf);
  mr_amf0_write_name (amf, "app");
  mr_amf0_write_string (amf, app);
  mr_amf0_write_name (amf, "tcUrl");
  mr_amf0_write_string (amf, "rtmp://127.0.0.1/live");
  mr_amf0_write_object_end (amf);
  send_command (p, 0, amf);
  if (!(v = wait_command (p, "_result")))
    return g_strdup ("connect refused");
  info = v->len > 3 ? v->pdata[3] : NULL;
  fail_unless_equals_string (mr_amf_value_string (mr_amf_value_get (info,
              "code")), "NetConnection.Connect.Success");
  g_ptr_array_unref (v);

  amf = command ("releaseStream", 2);
  mr_amf0_write_null (amf);
  mr_amf0_write_string (amf, key);
  send_command (p, 0, amf);
  amf = command ("createStream", 4);
  mr_amf0_write_null (amf);
  send_command (p, 0, amf);
  while ((v = wait_command (p, "_result"))) {
    gboolean mine = ((MrAmfValue *) v->pdata[1])->number == 4;

    if (mine)
      fail_unless_equals_int (((MrAmfValue *) v->pdata[3])->number, 1);
    g_ptr_array_unref (v);
    if (mine)
      break;
  }

  amf = command ("publish", 5);
  mr_amf0_write_null (amf);
  mr_amf0_write_string (amf, key);
  mr_amf0_write_string (amf, "live");
  send_command (p, 1, amf);
  v = wait_command (p, "onStatus");
  fail_unless (v != NULL && v->len >= 4);
  code = g_strdup (mr_amf_value_string (mr_amf_value_get (v->pdata[3],
              "code")));
  g_ptr_array_unref (v);
  return code;
}

static GstHarness *
server_harness (guint port, const gchar * key)
{
  GstHarness *h = gst_harness_new ("rtmpserversrc");

  g_object_set (h->element, "port", port, "address", "127.0.0.1",
      "stream-key", key, NULL);
  gst_harness_play (h);
  return h;
}

static guint
bound_port (GstHarness * h)
{
  guint port = 0;

  g_object_get (h->element, "bound-port", &port, NULL);
  fail_unless (port > 0);
  return port;
}

static guint64
stat_u64 (GstHarness * h, const gchar * field)
{
  GstStructure *s;
  guint64 v = 0;

  g_object_get (h->element, "stats", &s, NULL);
  fail_unless (gst_structure_get_uint64 (s, field, &v));
  gst_structure_free (s);
  return v;
}

/* the FLV tag of @type at the start of @buf's bytes at @offset: its
 * payload must be @data */
static gsize
check_tag (const guint8 * b, gsize size, gsize offset, guint8 type,
    const guint8 * data, gsize data_size)
{
  fail_unless (size >= offset + 11 + data_size + 4);
  fail_unless_equals_int (b[offset], type);
  fail_unless_equals_int (GST_READ_UINT24_BE (b + offset + 1), data_size);
  fail_unless_equals_int (GST_READ_UINT24_BE (b + offset + 8), 0);
  fail_unless (memcmp (b + offset + 11, data, data_size) == 0);
  fail_unless_equals_int (GST_READ_UINT32_BE (b + offset + 11 + data_size),
      11 + data_size);
  return offset + 11 + data_size + 4;
}

static guint32
tag_timestamp (const guint8 * b)
{
  return GST_READ_UINT24_BE (b + 4) | ((guint32) b[7] << 24);
}

/* pulls a buffer and copies its bytes */
static GBytes *
pull_bytes (GstHarness * h)
{
  GstBuffer *buf = gst_harness_pull (h);
  GstMapInfo map;
  GBytes *bytes;

  fail_unless (buf != NULL);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  bytes = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  return bytes;
}

GST_START_TEST (test_publish_flv_out)
{
  GstHarness *h = server_harness (0, "cam1");
  Publisher *p = publisher_connect (bound_port (h));
  gchar *code = publisher_publish (p, "live", "cam1?token=x");
  guint8 video[700], audio[20];
  GByteArray *meta = g_byte_array_new ();
  GByteArray *meta_out = g_byte_array_new ();
  GBytes *b;
  gsize size, off;
  const guint8 *d;
  guint32 ts0;

  fail_unless_equals_string (code, "NetStream.Publish.Start");
  g_free (code);
  for (guint i = 0; i < sizeof video; i++)
    video[i] = i;
  video[0] = 0x17;              /* keyframe, AVC */
  memset (audio, 0xaf, sizeof audio);

  mr_amf0_write_string (meta, "@setDataFrame");
  mr_amf0_write_string (meta_out, "onMetaData");
  mr_amf0_write_object_begin (meta_out);
  mr_amf0_write_name (meta_out, "width");
  mr_amf0_write_number (meta_out, 320);
  mr_amf0_write_object_end (meta_out);
  g_byte_array_append (meta, meta_out->data, meta_out->len);
  send_message (p, 4, MR_RTMP_MSG_DATA_AMF0, 0, 1, meta->data, meta->len);
  send_message (p, 6, MR_RTMP_MSG_VIDEO, 1000, 1, video, sizeof video);
  /* a bigger chunk size from the publisher, then audio 40 ms later */
  {
    guint8 cs[4] = { 0, 0, 0x10, 0 };
    send_message (p, 2, MR_RTMP_MSG_SET_CHUNK_SIZE, 0, 0, cs, 4);
    p->chunk_size = 4096;
  }
  send_message (p, 4, MR_RTMP_MSG_AUDIO, 1040, 1, audio, sizeof audio);
  send_message (p, 6, MR_RTMP_MSG_VIDEO, 0x1000000, 1, video, sizeof video);

  /* header + onMetaData (without @setDataFrame) */
  b = pull_bytes (h);
  d = g_bytes_get_data (b, &size);
  fail_unless (size >= 13 && memcmp (d, "FLV\x01\x05\0\0\0\x09\0\0\0\0", 13)
      == 0);
  off = check_tag (d, size, 13, 18, meta_out->data, meta_out->len);
  fail_unless_equals_int (off, size);
  g_bytes_unref (b);

  b = pull_bytes (h);
  d = g_bytes_get_data (b, &size);
  check_tag (d, size, 0, 9, video, sizeof video);
  ts0 = tag_timestamp (d);
  g_bytes_unref (b);
  b = pull_bytes (h);
  d = g_bytes_get_data (b, &size);
  check_tag (d, size, 0, 8, audio, sizeof audio);
  /* distances kept: +40 ms, and an extended timestamp */
  fail_unless_equals_int (tag_timestamp (d) - ts0, 40);
  g_bytes_unref (b);
  b = pull_bytes (h);
  d = g_bytes_get_data (b, &size);
  check_tag (d, size, 0, 9, video, sizeof video);
  fail_unless_equals_int (tag_timestamp (d) - ts0, 0x1000000 - 1000);
  g_bytes_unref (b);

  fail_unless_equals_int (stat_u64 (h, "publishers"), 1);
  fail_unless_equals_int (stat_u64 (h, "tags"), 4);
  fail_unless_equals_int (stat_u64 (h, "refused"), 0);
  g_byte_array_unref (meta);
  g_byte_array_unref (meta_out);
  publisher_free (p);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* wait for an element message @name on @bus */
static GstStructure *
wait_message (GstBus * bus, const gchar * name)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ELEMENT);

    if (msg && gst_structure_has_name (gst_message_get_structure (msg),
            name)) {
      GstStructure *s = gst_structure_copy (gst_message_get_structure (msg));

      gst_message_unref (msg);
      return s;
    }
    if (msg)
      gst_message_unref (msg);
  }
  return NULL;
}

/* two elements share a port; an unknown key is refused and both hear of
 * it; a second publisher of a key in use is refused, only its element
 * hears, without the key */
GST_START_TEST (test_shared_port_and_refusals)
{
  GstHarness *h1 = server_harness (0, "one");
  GstHarness *h2 = server_harness (bound_port (h1), "two");
  GstBus *bus1 = gst_bus_new (), *bus2 = gst_bus_new ();
  Publisher *p1, *p2, *bad, *again;
  gchar *code;
  GstStructure *s;
  guint8 v1[10] = { 0x17, 1 }, v2[12] = { 0x17, 2 };
  GBytes *b;
  gsize size;
  const guint8 *d;

  gst_element_set_bus (h1->element, bus1);
  gst_element_set_bus (h2->element, bus2);
  fail_unless_equals_int (bound_port (h1), bound_port (h2));

  bad = publisher_connect (bound_port (h1));
  code = publisher_publish (bad, "live", "three");
  fail_unless_equals_string (code, "NetStream.Publish.BadName");
  g_free (code);
  publisher_free (bad);
  for (guint i = 0; i < 2; i++) {
    s = wait_message (i ? bus2 : bus1, "rtmpserversrc-refused");
    fail_unless (s != NULL);
    fail_unless_equals_string (gst_structure_get_string (s, "stream-key"),
        "three");
    fail_unless_equals_string (gst_structure_get_string (s, "reason"),
        "unknown stream key");
    gst_structure_free (s);
  }
  /* an application nobody listens for */
  bad = publisher_connect (bound_port (h1));
  code = publisher_publish (bad, "other", "one");
  fail_unless_equals_string (code, "connect refused");
  g_free (code);
  publisher_free (bad);
  for (guint i = 0; i < 2; i++) {
    s = wait_message (i ? bus2 : bus1, "rtmpserversrc-refused");
    fail_unless (s != NULL);
    fail_unless (!gst_structure_has_field (s, "stream-key"));
    fail_unless_equals_string (gst_structure_get_string (s, "application"),
        "other");
    fail_unless_equals_string (gst_structure_get_string (s, "reason"),
        "unknown application");
    gst_structure_free (s);
  }

  p1 = publisher_connect (bound_port (h1));
  code = publisher_publish (p1, "live", "one");
  fail_unless_equals_string (code, "NetStream.Publish.Start");
  g_free (code);
  p2 = publisher_connect (bound_port (h1));
  code = publisher_publish (p2, "live", "two");
  fail_unless_equals_string (code, "NetStream.Publish.Start");
  g_free (code);
  again = publisher_connect (bound_port (h1));
  code = publisher_publish (again, "live", "one");
  fail_unless_equals_string (code, "NetStream.Publish.BadName");
  g_free (code);
  publisher_free (again);
  s = wait_message (bus1, "rtmpserversrc-refused");
  fail_unless (s != NULL);
  fail_unless (!gst_structure_has_field (s, "stream-key"));
  fail_unless_equals_string (gst_structure_get_string (s, "reason"),
      "stream key in use");
  gst_structure_free (s);

  /* each element gets its own publisher's media */
  send_message (p2, 6, MR_RTMP_MSG_VIDEO, 0, 1, v2, sizeof v2);
  send_message (p1, 6, MR_RTMP_MSG_VIDEO, 0, 1, v1, sizeof v1);
  b = pull_bytes (h1);
  d = g_bytes_get_data (b, &size);
  check_tag (d, size, 13, 9, v1, sizeof v1);
  g_bytes_unref (b);
  b = pull_bytes (h2);
  d = g_bytes_get_data (b, &size);
  check_tag (d, size, 13, 9, v2, sizeof v2);
  g_bytes_unref (b);
  fail_unless_equals_int (stat_u64 (h1, "refused"), 3);
  fail_unless_equals_int (stat_u64 (h2, "refused"), 2);

  /* the first element stops while its publisher is there: the port stays
   * with the second, which still takes media (the messages left on the
   * bus hold the element: dropped first) */
  gst_bus_set_flushing (bus1, TRUE);
  gst_harness_teardown (h1);
  send_message (p2, 6, MR_RTMP_MSG_VIDEO, 40, 1, v2, sizeof v2);
  b = pull_bytes (h2);
  d = g_bytes_get_data (b, &size);
  check_tag (d, size, 0, 9, v2, sizeof v2);
  g_bytes_unref (b);
  publisher_free (p1);
  publisher_free (p2);
  gst_bus_set_flushing (bus2, TRUE);
  gst_harness_teardown (h2);
  gst_object_unref (bus1);
  gst_object_unref (bus2);
}

GST_END_TEST;

/* the publisher leaves and another comes: one FLV stream, its timestamps
 * never going back */
GST_START_TEST (test_publisher_comes_back)
{
  GstHarness *h = server_harness (0, "back");
  guint8 v[10] = { 0x17, 1 };
  guint32 last = 0;

  for (guint round = 0; round < 2; round++) {
    Publisher *p = publisher_connect (bound_port (h));
    gchar *code = publisher_publish (p, "live", "back");

    fail_unless_equals_string (code, "NetStream.Publish.Start");
    g_free (code);
    for (guint i = 0; i < 3; i++) {
      GBytes *b;
      gsize size, off;
      const guint8 *d;

      send_message (p, 6, MR_RTMP_MSG_VIDEO, i * 40, 1, v, sizeof v);
      b = pull_bytes (h);
      d = g_bytes_get_data (b, &size);
      off = (round == 0 && i == 0) ? 13 : 0;
      check_tag (d, size, off, 9, v, sizeof v);
      if (round > 0 || i > 0)
        fail_unless (tag_timestamp (d + off) > last);
      last = tag_timestamp (d + off);
      g_bytes_unref (b);
    }
    publisher_free (p);
  }
  fail_unless_equals_int (stat_u64 (h, "publishers"), 2);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* enhanced RTMP video (an ExHeader and a FourCC) is dropped with one
 * warning naming the FourCC; legacy H.264 after it goes on */
GST_START_TEST (test_enhanced_rtmp_dropped)
{
  GstHarness *h = server_harness (0, "ex");
  GstBus *bus = gst_bus_new ();
  Publisher *p;
  gchar *code;
  guint8 hevc[9] = { 0x90, 'h', 'v', 'c', '1', 0, 0, 0, 0 };
  guint8 avc[6] = { 0x17, 1, 0, 0, 0, 9 };
  gint64 deadline;
  gboolean warned = FALSE;
  GBytes *b;
  gsize size;
  const guint8 *d;

  gst_element_set_bus (h->element, bus);
  p = publisher_connect (bound_port (h));
  code = publisher_publish (p, "live", "ex");
  fail_unless_equals_string (code, "NetStream.Publish.Start");
  g_free (code);
  send_message (p, 6, MR_RTMP_MSG_VIDEO, 0, 1, hevc, sizeof hevc);
  send_message (p, 6, MR_RTMP_MSG_VIDEO, 40, 1, hevc, sizeof hevc);
  send_message (p, 6, MR_RTMP_MSG_VIDEO, 80, 1, avc, sizeof avc);
  b = pull_bytes (h);
  d = g_bytes_get_data (b, &size);
  check_tag (d, size, 13, 9, avc, sizeof avc);
  g_bytes_unref (b);
  fail_unless_equals_int (stat_u64 (h, "dropped"), 2);

  deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  while (!warned && g_get_monotonic_time () < deadline) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_WARNING);

    if (msg) {
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      warned = strstr (err->message, "hvc1") != NULL;
      g_error_free (err);
      gst_message_unref (msg);
    }
  }
  fail_unless (warned, "no warning naming hvc1");
  publisher_free (p);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

/* a port taken by something else: the element fails to start */
GST_START_TEST (test_port_in_use)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  GstElement *e = gst_element_factory_make ("rtmpserversrc", NULL);

  fail_unless (g_socket_bind (s, addr, FALSE, NULL));
  fail_unless (g_socket_listen (s, NULL));
  bound = g_socket_get_local_address (s, NULL);
  g_object_set (e, "address", "127.0.0.1", "port",
      (guint) g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)),
      NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_socket_close (s, NULL);
  g_object_unref (s);
}

GST_END_TEST;

static Suite *
rtmpserversrc_suite (void)
{
  Suite *s = suite_create ("rtmpserversrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_publish_flv_out);
  tcase_add_test (tc, test_shared_port_and_refusals);
  tcase_add_test (tc, test_publisher_comes_back);
  tcase_add_test (tc, test_enhanced_rtmp_dropped);
  tcase_add_test (tc, test_port_in_use);
  return s;
}

GST_CHECK_MAIN (rtmpserversrc);
