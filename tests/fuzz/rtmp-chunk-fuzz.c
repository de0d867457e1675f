/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A libFuzzer target for the RTMP chunk reader and writer
 * (plugins/rtmp/rtmp-chunk.c) and the AMF0 decoder (rtmp-amf.c): the
 * input is what a publisher sends after the handshake.  It aborts, with a
 * line saying which, when:
 *
 *  - a message is longer than MR_RTMP_MAX_MESSAGE, or on chunk stream 0
 *    or 1, or above 65599; the reader keeps more bytes pending than were
 *    pushed; it returns anything but ERROR once it failed;
 *  - the same bytes pushed whole or in pieces (the split byte) do not give
 *    the same messages, or do not end the same way;
 *  - the messages, written again by mr_rtmp_chunk_write () (following the
 *    Set Chunk Size messages among them) and read by a new reader, are not
 *    the same messages (type, stream id, timestamp, bytes);
 *  - an AMF0 value decoded from a command or data message nests deeper
 *    than MR_AMF0_MAX_DEPTH, has more than MR_AMF0_MAX_ITEMS members,
 *    claims more bytes than the message has, or a string whose length
 *    is not its bytes'.
 *
 * Input: a split byte (0: whole; n: pieces of n bytes), then the chunk
 * stream bytes. */

#include "rtmp/rtmp-amf.h"
#include "rtmp/rtmp-chunk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define CHECK(cond, ...) G_STMT_START {                                 \
    if (G_UNLIKELY (!(cond))) {                                          \
      fprintf (stderr, "rtmp-chunk-fuzz: invariant broken: " __VA_ARGS__); \
      fprintf (stderr, "\n  (%s, line %d)\n", #cond, __LINE__);          \
      abort ();                                                          \
    }                                                                    \
  } G_STMT_END

typedef struct
{
  guint32 csid;
  guint8 type;
  guint32 timestamp;
  guint32 stream_id;
  GBytes *bytes;
} Msg;

static void
msg_free (Msg * m)
{
  g_bytes_unref (m->bytes);
  g_free (m);
}

static void
check_amf (const MrAmfValue * v, guint depth)
{
  CHECK (depth <= MR_AMF0_MAX_DEPTH, "AMF0 nested %u deep", depth);
  if (v->type == MR_AMF0_STRING || v->type == MR_AMF0_LONG_STRING) {
    CHECK (v->string != NULL, "a string without bytes");
    CHECK (strlen (v->string) <= v->string_len, "a string longer than said");
    CHECK (v->type == MR_AMF0_LONG_STRING || v->string_len <= G_MAXUINT16,
        "a short string of %zu bytes", v->string_len);
  }
  if (v->items) {
    CHECK (v->items->len <= MR_AMF0_MAX_ITEMS, "%u items", v->items->len);
    if (v->names)
      CHECK (v->names->len == v->items->len, "names and items differ");
    for (guint i = 0; i < v->items->len; i++)
      check_amf (v->items->pdata[i], depth + 1);
  }
}

static void
check_amf_payload (const guint8 * data, gsize size)
{
  g_autoptr (GPtrArray) all = mr_amf0_decode_all (data, size);
  gsize used = 0;
  MrAmfValue *one = mr_amf0_decode (data, size, &used);

  if (all)
    for (guint i = 0; i < all->len; i++)
      check_amf (all->pdata[i], 0);
  if (one) {
    CHECK (used >= 1 && used <= size, "a value of %zu bytes in %zu", used,
        size);
    check_amf (one, 0);
    CHECK (!all || all->len >= 1, "decode_all lost the first value");
    mr_amf_value_free (one);
  } else {
    CHECK (!all || size == 0, "decode_all took what decode refused");
  }
}

/* Reads @data in pieces of @split (0: whole) into a list of Msg; *@failed:
 * whether the reader refused the input */
static GPtrArray *
read_all (const guint8 * data, gsize size, gsize split, gboolean * failed)
{
  MrRtmpChunkReader *r = mr_rtmp_chunk_reader_new ();
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) msg_free);
  gsize pushed = 0;

  *failed = FALSE;
  while (pushed < size && !*failed) {
    gsize n = split ? MIN (split, size - pushed) : size;
    MrRtmpMessage m;
    MrRtmpChunkResult res;
    const gchar *why = NULL;

    mr_rtmp_chunk_reader_push (r, data + pushed, n);
    pushed += n;
    while ((res = mr_rtmp_chunk_reader_pop (r, &m, &why)) ==
        MR_RTMP_CHUNK_MESSAGE) {
      Msg *copy = g_new0 (Msg, 1);

      CHECK (m.size <= MR_RTMP_MAX_MESSAGE, "a message of %zu bytes", m.size);
      CHECK (m.csid >= 2 && m.csid <= 65599, "chunk stream %u", m.csid);
      copy->csid = m.csid;
      copy->type = m.type;
      copy->timestamp = m.timestamp;
      copy->stream_id = m.stream_id;
      copy->bytes = g_bytes_new (m.data, m.size);
      g_ptr_array_add (msgs, copy);
    }
    CHECK (mr_rtmp_chunk_reader_pending (r) <= pushed, "pending > pushed");
    if (res == MR_RTMP_CHUNK_ERROR) {
      CHECK (why != NULL, "an error without a reason");
      *failed = TRUE;
      CHECK (mr_rtmp_chunk_reader_pop (r, &m, NULL) == MR_RTMP_CHUNK_ERROR,
          "the reader recovered from an error");
    }
  }
  mr_rtmp_chunk_reader_free (r);
  return msgs;
}

static void
check_same (GPtrArray * a, GPtrArray * b, const gchar * what)
{
  CHECK (a->len == b->len, "%s: %u messages, then %u", what, a->len, b->len);
  for (guint i = 0; i < a->len; i++) {
    Msg *x = a->pdata[i], *y = b->pdata[i];

    CHECK (x->type == y->type && x->stream_id == y->stream_id
        && x->timestamp == y->timestamp && g_bytes_equal (x->bytes, y->bytes),
        "%s: message %u differs (type %u/%u, ts %u/%u, %zu/%zu bytes)", what,
        i, x->type, y->type, x->timestamp, y->timestamp,
        g_bytes_get_size (x->bytes), g_bytes_get_size (y->bytes));
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (GPtrArray) whole = NULL;
  g_autoptr (GPtrArray) pieces = NULL;
  g_autoptr (GPtrArray) again = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gboolean failed_whole, failed_pieces, failed_again;
  guint32 chunk_size = MR_RTMP_DEFAULT_CHUNK_SIZE;
  gsize split;

  if (size < 1)
    return 0;
  split = data[0];
  data++;
  size--;

  whole = read_all (data, size, 0, &failed_whole);
  pieces = read_all (data, size, split ? split : 1, &failed_pieces);
  check_same (whole, pieces, "whole and in pieces");
  CHECK (failed_whole == failed_pieces, "whole %s, in pieces %s",
      failed_whole ? "failed" : "did not fail",
      failed_pieces ? "failed" : "did not");

  for (guint i = 0; i < whole->len; i++) {
    Msg *m = whole->pdata[i];
    gsize n;
    const guint8 *p = g_bytes_get_data (m->bytes, &n);

    if (m->type == MR_RTMP_MSG_COMMAND_AMF0
        || m->type == MR_RTMP_MSG_DATA_AMF0)
      check_amf_payload (p, n);
    mr_rtmp_chunk_write (out, chunk_size, m->csid, m->type, m->timestamp,
        m->stream_id, p, n);
    /* the reader applies a Set Chunk Size it returned: the writer too */
    if (m->type == MR_RTMP_MSG_SET_CHUNK_SIZE && n >= 4
        && (m->stream_id == 0 || m->csid == 2))
      chunk_size = MIN (((guint32) p[0] << 24 | (guint32) p[1] << 16 |
              (guint32) p[2] << 8 | p[3]) & 0x7fffffff,
          MR_RTMP_MAX_CHUNK_SIZE);
  }
  again = read_all (out->data, out->len, 0, &failed_again);
  CHECK (!failed_again, "the reader refused what the writer wrote");
  check_same (whole, again, "read, written and read again");
  return 0;
}

#ifdef MR_FUZZ_STANDALONE
#include "standalone.h"

/* a command message in chunks now and then, else random bytes after a
 * plausible first header */
static gsize
random_stream (guint8 * buf, gsize max_len)
{
  gsize len = 1 + mr_fuzz_random () % (max_len - 1);

  for (gsize i = 0; i < len; i++)
    buf[i] = mr_fuzz_random ();
  if (len > 13 && mr_fuzz_random () % 2) {
    guint32 msg_len = mr_fuzz_random () % 300;

    buf[1] = 0x03;              /* type 0 header, chunk stream 3 */
    buf[5] = msg_len >> 16;
    buf[6] = msg_len >> 8;
    buf[7] = msg_len;
    buf[8] = mr_fuzz_random () % 2 ? 20 : 18;
    buf[9] = buf[10] = buf[11] = buf[12] = 0;
    if (mr_fuzz_random () % 2)
      buf[13] = 0x02;           /* an AMF0 string */
  }
  return len;
}

const MrFuzzStandalone mr_fuzz_standalone = {
  .name = "rtmp-chunk",
  .runs_env = "RTMP_CHUNK_FUZZ_RUNS",
  .runs = 5000,
  .runs_valgrind = 1000,
  .max_len = 2048,
  .random_input = random_stream,
};
#endif /* MR_FUZZ_STANDALONE */
