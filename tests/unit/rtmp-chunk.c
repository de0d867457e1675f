/* Unit tests for the RTMP chunk stream reader and writer
 * (plugins/rtmp/rtmp-chunk.c) and the AMF0 codec (rtmp-amf.c). */

#include <glib.h>
#include <string.h>

#include "rtmp/rtmp-amf.h"
#include "rtmp/rtmp-chunk.h"

/* appends a basic header and a message header of @fmt by hand */
static void
put_header (GByteArray * out, guint fmt, guint32 csid, guint32 ts,
    guint32 len, guint8 type, guint32 sid)
{
  guint8 b[16];
  guint n = 0;
  gboolean ext = fmt < 3 && ts >= 0xffffff;
  guint32 tsf = ext ? 0xffffff : ts;

  if (csid < 64) {
    b[n++] = (fmt << 6) | csid;
  } else if (csid < 320) {
    b[n++] = fmt << 6;
    b[n++] = csid - 64;
  } else {
    b[n++] = (fmt << 6) | 1;
    b[n++] = (csid - 64) & 0xff;
    b[n++] = (csid - 64) >> 8;
  }
  if (fmt < 3) {
    b[n++] = tsf >> 16;
    b[n++] = tsf >> 8;
    b[n++] = tsf;
  }
  if (fmt < 2) {
    b[n++] = len >> 16;
    b[n++] = len >> 8;
    b[n++] = len;
    b[n++] = type;
  }
  if (fmt == 0) {
    b[n++] = sid;
    b[n++] = sid >> 8;
    b[n++] = sid >> 16;
    b[n++] = sid >> 24;
  }
  if (ext) {
    b[n++] = ts >> 24;
    b[n++] = ts >> 16;
    b[n++] = ts >> 8;
    b[n++] = ts;
  }
  g_byte_array_append (out, b, n);
}

static void
put_bytes (GByteArray * out, guint8 value, gsize n)
{
  for (gsize i = 0; i < n; i++)
    g_byte_array_append (out, &value, 1);
}

static MrRtmpChunkResult
pop (MrRtmpChunkReader * r, MrRtmpMessage * m)
{
  return mr_rtmp_chunk_reader_pop (r, m, NULL);
}

/* a 300-byte message in chunks of 128: type 0, then two type 3 */
static void
test_default_chunk_size (void)
{
  g_autoptr (GByteArray) in = g_byte_array_new ();
  MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
  MrRtmpMessage m;

  put_header (in, 0, 4, 1000, 300, MR_RTMP_MSG_VIDEO, 1);
  put_bytes (in, 0xaa, 128);
  put_header (in, 3, 4, 0, 0, 0, 0);
  put_bytes (in, 0xbb, 128);
  put_header (in, 3, 4, 0, 0, 0, 0);
  put_bytes (in, 0xcc, 44);

  /* byte by byte: nothing until the last byte */
  for (guint i = 0; i < in->len - 1; i++) {
    mr_rtmp_chunk_reader_push (r, in->data + i, 1);
    g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_NEED_MORE);
  }
  mr_rtmp_chunk_reader_push (r, in->data + in->len - 1, 1);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.csid, ==, 4);
  g_assert_cmpuint (m.type, ==, MR_RTMP_MSG_VIDEO);
  g_assert_cmpuint (m.timestamp, ==, 1000);
  g_assert_cmpuint (m.stream_id, ==, 1);
  g_assert_cmpuint (m.size, ==, 300);
  g_assert_cmpuint (m.data[0], ==, 0xaa);
  g_assert_cmpuint (m.data[128], ==, 0xbb);
  g_assert_cmpuint (m.data[299], ==, 0xcc);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_NEED_MORE);
  g_assert_cmpuint (mr_rtmp_chunk_reader_pending (r), ==, 0);
  mr_rtmp_chunk_reader_free (r);
}

/* Set Chunk Size applies to the chunks after it, whatever the size */
static void
test_set_chunk_size (void)
{
  const guint32 sizes[] = { 1, 7, 128, 4096, 65536, 0x7fffffff };

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++) {
    g_autoptr (GByteArray) in = g_byte_array_new ();
    g_autofree guint8 *payload = g_malloc (5000);
    MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
    MrRtmpMessage m;
    guint8 size_be[4] = { sizes[k] >> 24, sizes[k] >> 16, sizes[k] >> 8,
      sizes[k]
    };

    for (guint i = 0; i < 5000; i++)
      payload[i] = i * 7;
    mr_rtmp_chunk_write (in, 128, 2, MR_RTMP_MSG_SET_CHUNK_SIZE, 0, 0, size_be,
        4);
    mr_rtmp_chunk_write (in, MIN (sizes[k], MR_RTMP_MAX_CHUNK_SIZE), 6,
        MR_RTMP_MSG_VIDEO, 40, 1, payload, 5000);
    mr_rtmp_chunk_reader_push (r, in->data, in->len);
    g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
    g_assert_cmpuint (m.type, ==, MR_RTMP_MSG_SET_CHUNK_SIZE);
    g_assert_cmpuint (mr_rtmp_chunk_reader_chunk_size (r), ==,
        MIN (sizes[k], MR_RTMP_MAX_CHUNK_SIZE));
    g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
    g_assert_cmpuint (m.size, ==, 5000);
    g_assert_cmpmem (m.data, m.size, payload, 5000);
    g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_NEED_MORE);
    mr_rtmp_chunk_reader_free (r);
  }
}

/* type 1 (new length and type, delta), type 2 (delta), type 3 (the same
 * delta again), as encoders send audio */
static void
test_header_types (void)
{
  g_autoptr (GByteArray) in = g_byte_array_new ();
  MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
  MrRtmpMessage m;

  put_header (in, 0, 4, 100, 10, MR_RTMP_MSG_AUDIO, 1);
  put_bytes (in, 1, 10);
  put_header (in, 1, 4, 23, 20, MR_RTMP_MSG_VIDEO, 0);
  put_bytes (in, 2, 20);
  put_header (in, 2, 4, 21, 0, 0, 0);
  put_bytes (in, 3, 20);
  put_header (in, 3, 4, 0, 0, 0, 0);
  put_bytes (in, 4, 20);
  mr_rtmp_chunk_reader_push (r, in->data, in->len);

  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.timestamp, ==, 100);
  g_assert_cmpuint (m.size, ==, 10);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.timestamp, ==, 123);
  g_assert_cmpuint (m.type, ==, MR_RTMP_MSG_VIDEO);
  g_assert_cmpuint (m.size, ==, 20);
  g_assert_cmpuint (m.stream_id, ==, 1);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.timestamp, ==, 144);
  g_assert_cmpuint (m.data[0], ==, 3);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.timestamp, ==, 165);
  g_assert_cmpuint (m.data[19], ==, 4);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_NEED_MORE);
  mr_rtmp_chunk_reader_free (r);
}

/* timestamps of 24 bits and more: the extended field, on the type 3
 * chunks of the message too */
static void
test_extended_timestamp (void)
{
  g_autoptr (GByteArray) in = g_byte_array_new ();
  g_autoptr (GByteArray) written = g_byte_array_new ();
  MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
  MrRtmpMessage m;
  guint8 payload[200];

  put_header (in, 0, 5, 0x1234567, 200, MR_RTMP_MSG_VIDEO, 1);
  put_bytes (in, 9, 128);
  put_header (in, 3, 5, 0, 0, 0, 0);
  g_byte_array_append (in, (const guint8 *) "\x01\x23\x45\x67", 4);
  put_bytes (in, 9, 72);
  mr_rtmp_chunk_reader_push (r, in->data, in->len);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.timestamp, ==, 0x1234567);
  g_assert_cmpuint (m.size, ==, 200);
  g_assert_cmpuint (m.data[199], ==, 9);

  /* the writer's, exactly 0xffffff and above */
  memset (payload, 5, sizeof payload);
  mr_rtmp_chunk_write (written, 128, 5, MR_RTMP_MSG_AUDIO, 0xffffff, 1,
      payload, 200);
  mr_rtmp_chunk_write (written, 128, 5, MR_RTMP_MSG_AUDIO, 0xfffffff0, 1,
      payload, 200);
  mr_rtmp_chunk_reader_push (r, written->data, written->len);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.timestamp, ==, 0xffffff);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.timestamp, ==, 0xfffffff0);
  g_assert_cmpmem (m.data, m.size, payload, 200);
  mr_rtmp_chunk_reader_free (r);
}

/* chunks of a video and an audio message alternate, and chunk stream ids
 * of two and three bytes */
static void
test_interleaved (void)
{
  g_autoptr (GByteArray) in = g_byte_array_new ();
  MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
  MrRtmpMessage m;

  put_header (in, 0, 6, 40, 256, MR_RTMP_MSG_VIDEO, 1);
  put_bytes (in, 0x66, 128);
  put_header (in, 0, 300, 41, 150, MR_RTMP_MSG_AUDIO, 1);
  put_bytes (in, 0x44, 128);
  put_header (in, 0, 1000, 7, 3,
      MR_RTMP_MSG_COMMAND_AMF0, 0);
  put_bytes (in, 0x22, 3);
  put_header (in, 3, 6, 0, 0, 0, 0);
  put_bytes (in, 0x67, 128);
  put_header (in, 3, 300, 0, 0, 0, 0);
  put_bytes (in, 0x45, 22);
  mr_rtmp_chunk_reader_push (r, in->data, in->len);

  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.csid, ==, 1000);
  g_assert_cmpuint (m.size, ==, 3);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.csid, ==, 6);
  g_assert_cmpuint (m.size, ==, 256);
  g_assert_cmpuint (m.data[0], ==, 0x66);
  g_assert_cmpuint (m.data[255], ==, 0x67);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.csid, ==, 300);
  g_assert_cmpuint (m.timestamp, ==, 41);
  g_assert_cmpuint (m.size, ==, 150);
  g_assert_cmpuint (m.data[149], ==, 0x45);
  mr_rtmp_chunk_reader_free (r);
}

/* Abort drops the message in pieces on its chunk stream */
static void
test_abort (void)
{
  g_autoptr (GByteArray) in = g_byte_array_new ();
  MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
  MrRtmpMessage m;
  const guint8 abort_csid[4] = { 0, 0, 0, 6 };

  put_header (in, 0, 6, 0, 200, MR_RTMP_MSG_VIDEO, 1);
  put_bytes (in, 1, 128);
  mr_rtmp_chunk_write (in, 128, 2, MR_RTMP_MSG_ABORT, 0, 0, abort_csid, 4);
  put_header (in, 0, 6, 40, 3, MR_RTMP_MSG_VIDEO, 1);
  put_bytes (in, 2, 3);
  mr_rtmp_chunk_reader_push (r, in->data, in->len);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.type, ==, MR_RTMP_MSG_ABORT);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpuint (m.size, ==, 3);
  g_assert_cmpuint (m.timestamp, ==, 40);
  mr_rtmp_chunk_reader_free (r);
}

static void
expect_error (GByteArray * in)
{
  MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
  MrRtmpMessage m;
  MrRtmpChunkResult res;
  const gchar *why = NULL;

  mr_rtmp_chunk_reader_push (r, in->data, in->len);
  while ((res = mr_rtmp_chunk_reader_pop (r, &m, &why)) ==
      MR_RTMP_CHUNK_MESSAGE);
  g_assert_cmpint (res, ==, MR_RTMP_CHUNK_ERROR);
  g_assert_nonnull (why);
  /* and it stays failed */
  mr_rtmp_chunk_reader_push (r, in->data, in->len);
  g_assert_cmpint (pop (r, &m), ==, MR_RTMP_CHUNK_ERROR);
  mr_rtmp_chunk_reader_free (r);
}

static void
test_malformed (void)
{
  const guint8 zero[4] = { 0, 0, 0, 0 }, top[4] = { 0x80, 0, 0, 1 };

  {                             /* a type 3 on a chunk stream never begun */
    g_autoptr (GByteArray) in = g_byte_array_new ();
    put_header (in, 3, 5, 0, 0, 0, 0);
    put_bytes (in, 0, 200);
    expect_error (in);
  }
  {                             /* a type 1 likewise */
    g_autoptr (GByteArray) in = g_byte_array_new ();
    put_header (in, 1, 5, 0, 4, 8, 0);
    put_bytes (in, 0, 4);
    expect_error (in);
  }
  {                             /* Set Chunk Size 0, and top bit set */
    g_autoptr (GByteArray) in = g_byte_array_new ();
    mr_rtmp_chunk_write (in, 128, 2, MR_RTMP_MSG_SET_CHUNK_SIZE, 0, 0, zero,
        4);
    expect_error (in);
    g_byte_array_set_size (in, 0);
    mr_rtmp_chunk_write (in, 128, 2, MR_RTMP_MSG_SET_CHUNK_SIZE, 0, 0, top,
        4);
    expect_error (in);
    g_byte_array_set_size (in, 0);
    mr_rtmp_chunk_write (in, 128, 2, MR_RTMP_MSG_SET_CHUNK_SIZE, 0, 0, top,
        2);
    expect_error (in);
  }
  {                             /* a message longer than 8 MiB */
    g_autoptr (GByteArray) in = g_byte_array_new ();
    put_header (in, 0, 5, 0, 0xffffff, MR_RTMP_MSG_VIDEO, 1);
    expect_error (in);
  }
  {                             /* more than 64 chunk streams */
    g_autoptr (GByteArray) in = g_byte_array_new ();
    for (guint csid = 2; csid < 2 + MR_RTMP_MAX_CHUNK_STREAMS + 1; csid++) {
      put_header (in, 0, csid, 0, 1, MR_RTMP_MSG_AUDIO, 1);
      put_bytes (in, 0, 1);
    }
    expect_error (in);
  }
}

/* ---------------------------------------------------------------------- */
/* AMF0 */

static void
test_amf_command (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GPtrArray) values = NULL;
  const MrAmfValue *obj;

  mr_amf0_write_string (out, "connect");
  mr_amf0_write_number (out, 1);
  mr_amf0_write_object_begin (out);
  mr_amf0_write_name (out, "app");
  mr_amf0_write_string (out, "live");
  mr_amf0_write_name (out, "fpad");
  mr_amf0_write_boolean (out, TRUE);
  mr_amf0_write_name (out, "nested");
  mr_amf0_write_object_begin (out);
  mr_amf0_write_name (out, "n");
  mr_amf0_write_number (out, -2.5);
  mr_amf0_write_object_end (out);
  mr_amf0_write_object_end (out);
  mr_amf0_write_null (out);
  mr_amf0_write_undefined (out);

  values = mr_amf0_decode_all (out->data, out->len);
  g_assert_nonnull (values);
  g_assert_cmpuint (values->len, ==, 5);
  g_assert_cmpstr (mr_amf_value_string (values->pdata[0]), ==, "connect");
  g_assert_cmpfloat (((MrAmfValue *) values->pdata[1])->number, ==, 1);
  obj = values->pdata[2];
  g_assert_cmpint (obj->type, ==, MR_AMF0_OBJECT);
  g_assert_cmpstr (mr_amf_value_string (mr_amf_value_get (obj, "app")), ==,
      "live");
  g_assert_true (mr_amf_value_get (obj, "fpad")->boolean);
  g_assert_cmpfloat (mr_amf_value_get (mr_amf_value_get (obj, "nested"),
          "n")->number, ==, -2.5);
  g_assert_null (mr_amf_value_get (obj, "missing"));
  g_assert_cmpint (((MrAmfValue *) values->pdata[3])->type, ==, MR_AMF0_NULL);
  g_assert_cmpint (((MrAmfValue *) values->pdata[4])->type, ==,
      MR_AMF0_UNDEFINED);
}

/* what ffmpeg sends as @setDataFrame: an ECMA array, a strict array, a
 * date, a long string */
static void
test_amf_types (void)
{
  const guint8 ecma[] = {
    0x08, 0, 0, 0, 9,           /* a wrong count: the end marker ends it */
    0, 5, 'w', 'i', 'd', 't', 'h', 0x00, 0x40, 0x74, 0, 0, 0, 0, 0, 0,
    0, 0, 0x09,
    0x0a, 0, 0, 0, 2, 0x05, 0x01, 0x01,
    0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x0c, 0, 0, 0, 3, 'a', 'b', 'c'
  };
  g_autoptr (GPtrArray) values = mr_amf0_decode_all (ecma, sizeof ecma);
  MrAmfValue *arr;

  g_assert_nonnull (values);
  g_assert_cmpuint (values->len, ==, 4);
  g_assert_cmpfloat (mr_amf_value_get (values->pdata[0], "width")->number, ==,
      320);
  arr = values->pdata[1];
  g_assert_cmpuint (arr->items->len, ==, 2);
  g_assert_true (((MrAmfValue *) arr->items->pdata[1])->boolean);
  g_assert_cmpint (((MrAmfValue *) values->pdata[2])->type, ==, MR_AMF0_DATE);
  g_assert_cmpstr (mr_amf_value_string (values->pdata[3]), ==, "abc");
}

static void
test_amf_malformed (void)
{
  const guint8 truncated_number[] = { 0x00, 1, 2, 3 };
  const guint8 truncated_string[] = { 0x02, 0, 10, 'a' };
  const guint8 unknown_marker[] = { 0x11 };
  const guint8 reference[] = { 0x07, 0, 1 };
  const guint8 unterminated[] = { 0x03, 0, 1, 'a', 0x05 };
  const guint8 huge_array[] = { 0x0a, 0xff, 0xff, 0xff, 0xff };
  guint8 deep[20 * 5 + 1];
  gsize used = 0;

  g_assert_null (mr_amf0_decode_all (truncated_number,
          sizeof truncated_number));
  g_assert_null (mr_amf0_decode_all (truncated_string,
          sizeof truncated_string));
  g_assert_null (mr_amf0_decode_all (unknown_marker, sizeof unknown_marker));
  g_assert_null (mr_amf0_decode_all (reference, sizeof reference));
  g_assert_null (mr_amf0_decode_all (unterminated, sizeof unterminated));
  g_assert_null (mr_amf0_decode_all (huge_array, sizeof huge_array));
  g_assert_null (mr_amf0_decode (NULL, 0, &used));

  /* strict arrays of one item nested 20 deep: refused beyond
   * MR_AMF0_MAX_DEPTH; 10 deep: read */
  for (guint i = 0; i < 20; i++) {
    deep[i * 5] = 0x0a;
    deep[i * 5 + 1] = deep[i * 5 + 2] = deep[i * 5 + 3] = 0;
    deep[i * 5 + 4] = 1;
  }
  deep[100] = 0x05;
  g_assert_null (mr_amf0_decode_all (deep, sizeof deep));
  {
    g_autoptr (GPtrArray) ok = mr_amf0_decode_all (deep + 50, 51);
    g_assert_nonnull (ok);
    g_assert_cmpuint (ok->len, ==, 1);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtmp-chunk/default-chunk-size", test_default_chunk_size);
  g_test_add_func ("/rtmp-chunk/set-chunk-size", test_set_chunk_size);
  g_test_add_func ("/rtmp-chunk/header-types", test_header_types);
  g_test_add_func ("/rtmp-chunk/extended-timestamp", test_extended_timestamp);
  g_test_add_func ("/rtmp-chunk/interleaved", test_interleaved);
  g_test_add_func ("/rtmp-chunk/abort", test_abort);
  g_test_add_func ("/rtmp-chunk/malformed", test_malformed);
  g_test_add_func ("/rtmp-amf/command", test_amf_command);
  g_test_add_func ("/rtmp-amf/types", test_amf_types);
  g_test_add_func ("/rtmp-amf/malformed", test_amf_malformed);
  return g_test_run ();
}
