/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The RTMP chunk stream: reader and writer */

#include "rtmp-chunk.h"

#include <string.h>

/* the messages being reassembled on all chunk streams together: above
 * this a peer is only filling our memory */
#define MAX_PARTIAL_TOTAL (16 * 1024 * 1024)

typedef struct
{
  guint32 csid;
  gboolean ext_ts;              /* its last header had an extended
                                 * timestamp: so has a type 3 after it */
  guint32 timestamp;
  guint32 delta;
  guint32 length;
  guint8 type;
  guint32 stream_id;
  GByteArray *partial;          /* the message being reassembled, or NULL */
} ChunkStream;

struct _MrRtmpChunkReader
{
  GByteArray *in;
  gsize pos;                    /* consumed bytes of in */
  guint32 chunk_size;
  ChunkStream streams[MR_RTMP_MAX_CHUNK_STREAMS];
  guint n_streams;
  gsize partial_total;
  GByteArray *last;             /* the message popped last */
  gboolean failed;
};

MrRtmpChunkReader *
mr_rtmp_chunk_reader_new (void)
{
  MrRtmpChunkReader *r = g_new0 (MrRtmpChunkReader, 1);

  r->in = g_byte_array_new ();
  r->chunk_size = MR_RTMP_DEFAULT_CHUNK_SIZE;
  return r;
}

void
mr_rtmp_chunk_reader_free (MrRtmpChunkReader * r)
{
  if (!r)
    return;
  for (guint i = 0; i < r->n_streams; i++)
    if (r->streams[i].partial)
      g_byte_array_unref (r->streams[i].partial);
  if (r->last)
    g_byte_array_unref (r->last);
  g_byte_array_unref (r->in);
  g_free (r);
}

void
mr_rtmp_chunk_reader_push (MrRtmpChunkReader * r, const guint8 * data,
    gsize size)
{
  /* drop what was consumed before growing */
  if (r->pos > 0 && (r->pos == r->in->len || r->pos > 65536)) {
    g_byte_array_remove_range (r->in, 0, r->pos);
    r->pos = 0;
  }
  g_byte_array_append (r->in, data, size);
}

guint32
mr_rtmp_chunk_reader_chunk_size (const MrRtmpChunkReader * r)
{
  return r->chunk_size;
}

gsize
mr_rtmp_chunk_reader_pending (const MrRtmpChunkReader * r)
{
  return r->in->len - r->pos;
}

static guint32
read_u24 (const guint8 * p)
{
  return ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
}

static guint32
read_u32 (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
      ((guint32) p[2] << 8) | p[3];
}

static ChunkStream *
find_stream (MrRtmpChunkReader * r, guint32 csid)
{
  for (guint i = 0; i < r->n_streams; i++)
    if (r->streams[i].csid == csid)
      return &r->streams[i];
  return NULL;
}

static MrRtmpChunkResult
fail (MrRtmpChunkReader * r, const gchar ** error_text, const gchar * why)
{
  r->failed = TRUE;
  if (error_text)
    *error_text = why;
  return MR_RTMP_CHUNK_ERROR;
}

static void
drop_partial (MrRtmpChunkReader * r, ChunkStream * cs)
{
  if (!cs->partial)
    return;
  r->partial_total -= cs->partial->len;
  g_byte_array_unref (cs->partial);
  cs->partial = NULL;
}

/* what the reader itself does with a control message it returns */
static gboolean
apply_control (MrRtmpChunkReader * r, const MrRtmpMessage * msg,
    const gchar ** error_text)
{
  if (msg->stream_id != 0 && msg->csid != 2)
    return TRUE;
  if (msg->type == MR_RTMP_MSG_SET_CHUNK_SIZE) {
    guint32 size;

    if (msg->size < 4) {
      fail (r, error_text, "a Set Chunk Size message shorter than 4 bytes");
      return FALSE;
    }
    size = read_u32 (msg->data);
    if (size == 0 || size & 0x80000000) {
      fail (r, error_text, "a Set Chunk Size of 0 or above 2^31 - 1");
      return FALSE;
    }
    r->chunk_size = MIN (size, MR_RTMP_MAX_CHUNK_SIZE);
  } else if (msg->type == MR_RTMP_MSG_ABORT) {
    ChunkStream *cs;

    if (msg->size < 4) {
      fail (r, error_text, "an Abort message shorter than 4 bytes");
      return FALSE;
    }
    if ((cs = find_stream (r, read_u32 (msg->data))))
      drop_partial (r, cs);
  }
  return TRUE;
}

static const guint header_sizes[4] = { 11, 7, 3, 0 };

MrRtmpChunkResult
mr_rtmp_chunk_reader_pop (MrRtmpChunkReader * r, MrRtmpMessage * msg,
    const gchar ** error_text)
{
  if (r->last) {
    g_byte_array_unref (r->last);
    r->last = NULL;
  }
  if (r->failed)
    return fail (r, error_text, "the chunk stream failed before");

  for (;;) {
    const guint8 *p = r->in->data + r->pos;
    gsize avail = r->in->len - r->pos, hlen = 1, payload, received;
    guint fmt, csid;
    guint32 ts_field = 0, ext_value = 0, timestamp, delta, length, stream_id;
    guint8 type;
    gboolean ext, new_message;
    ChunkStream *cs;

    if (avail < 1)
      return MR_RTMP_CHUNK_NEED_MORE;
    fmt = p[0] >> 6;
    csid = p[0] & 0x3f;
    if (csid == 0) {
      if (avail < 2)
        return MR_RTMP_CHUNK_NEED_MORE;
      csid = 64 + p[1];
      hlen = 2;
    } else if (csid == 1) {
      if (avail < 3)
        return MR_RTMP_CHUNK_NEED_MORE;
      csid = 64 + p[1] + p[2] * 256;
      hlen = 3;
    }
    if (avail < hlen + header_sizes[fmt])
      return MR_RTMP_CHUNK_NEED_MORE;
    cs = find_stream (r, csid);
    if (fmt != 0 && !cs)
      return fail (r, error_text, "a chunk stream began without a type 0 "
          "header");

    /* the header as this chunk says it, not yet committed: the chunk may
     * not be there whole */
    timestamp = cs ? cs->timestamp : 0;
    delta = cs ? cs->delta : 0;
    length = cs ? cs->length : 0;
    type = cs ? cs->type : 0;
    stream_id = cs ? cs->stream_id : 0;
    if (fmt < 3)
      ts_field = read_u24 (p + hlen);
    if (fmt < 2) {
      length = read_u24 (p + hlen + 3);
      type = p[hlen + 6];
    }
    if (fmt == 0)
      stream_id = p[hlen + 7] | ((guint32) p[hlen + 8] << 8) |
          ((guint32) p[hlen + 9] << 16) | ((guint32) p[hlen + 10] << 24);
    ext = fmt < 3 ? ts_field == 0xffffff : cs->ext_ts;
    hlen += header_sizes[fmt];
    if (ext) {
      if (avail < hlen + 4)
        return MR_RTMP_CHUNK_NEED_MORE;
      ext_value = read_u32 (p + hlen);
      hlen += 4;
    }
    if (length > MR_RTMP_MAX_MESSAGE)
      return fail (r, error_text, "a message longer than 8 MiB");

    /* a type 0-2 header always starts a message (one in progress on the
     * stream is abandoned); a type 3 continues one, or starts one like
     * the previous */
    new_message = fmt < 3 || !cs->partial;
    if (fmt == 0) {
      timestamp = ext ? ext_value : ts_field;
      /* a type 3 after a type 0 repeats its timestamp as its delta */
      delta = timestamp;
    } else if (fmt < 3) {
      delta = ext ? ext_value : ts_field;
      timestamp += delta;
    } else if (new_message) {
      timestamp += delta;
    }

    received = (!new_message && cs->partial) ? cs->partial->len : 0;
    payload = MIN (r->chunk_size, length - received);
    if (avail < hlen + payload)
      return MR_RTMP_CHUNK_NEED_MORE;

    /* the whole chunk is here: commit */
    if (!cs) {
      if (r->n_streams >= MR_RTMP_MAX_CHUNK_STREAMS)
        return fail (r, error_text, "more than 64 chunk streams");
      cs = &r->streams[r->n_streams++];
      memset (cs, 0, sizeof *cs);
      cs->csid = csid;
    }
    if (new_message)
      drop_partial (r, cs);
    cs->ext_ts = ext;
    cs->timestamp = timestamp;
    cs->delta = delta;
    cs->length = length;
    cs->type = type;
    cs->stream_id = stream_id;
    if (!cs->partial)
      cs->partial = g_byte_array_new ();
    if (r->partial_total + payload > MAX_PARTIAL_TOTAL)
      return fail (r, error_text, "more than 16 MiB of messages in pieces");
    g_byte_array_append (cs->partial, p + hlen, payload);
    r->partial_total += payload;
    r->pos += hlen + payload;

    if (cs->partial->len == length) {
      r->last = cs->partial;
      r->partial_total -= length;
      cs->partial = NULL;
      msg->csid = csid;
      msg->type = type;
      msg->timestamp = timestamp;
      msg->stream_id = stream_id;
      msg->data = r->last->data;
      msg->size = r->last->len;
      if (!apply_control (r, msg, error_text))
        return MR_RTMP_CHUNK_ERROR;
      return MR_RTMP_CHUNK_MESSAGE;
    }
  }
}

/* ---------------------------------------------------------------------- */

static void
write_basic_header (GByteArray * out, guint fmt, guint32 csid)
{
  guint8 b[3];

  if (csid < 64) {
    b[0] = (fmt << 6) | csid;
    g_byte_array_append (out, b, 1);
  } else if (csid < 64 + 256) {
    b[0] = fmt << 6;
    b[1] = csid - 64;
    g_byte_array_append (out, b, 2);
  } else {
    b[0] = (fmt << 6) | 1;
    b[1] = (csid - 64) & 0xff;
    b[2] = (csid - 64) >> 8;
    g_byte_array_append (out, b, 3);
  }
}

static void
write_u32_be (GByteArray * out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

  g_byte_array_append (out, b, 4);
}

void
mr_rtmp_chunk_write (GByteArray * out, guint32 chunk_size, guint32 csid,
    guint8 type, guint32 timestamp, guint32 stream_id, const guint8 * data,
    gsize size)
{
  gboolean ext = timestamp >= 0xffffff;
  guint32 ts_field = ext ? 0xffffff : timestamp;
  guint8 h[11] = {
    ts_field >> 16, (ts_field >> 8) & 0xff, ts_field & 0xff,
    (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff, type,
    stream_id & 0xff, (stream_id >> 8) & 0xff, (stream_id >> 16) & 0xff,
    stream_id >> 24
  };
  gsize done = 0;

  g_return_if_fail (csid >= 2 && csid <= 65599);
  g_return_if_fail (chunk_size > 0);
  write_basic_header (out, 0, csid);
  g_byte_array_append (out, h, sizeof h);
  if (ext)
    write_u32_be (out, timestamp);
  do {
    gsize n = MIN (chunk_size, size - done);

    if (done > 0) {
      write_basic_header (out, 3, csid);
      if (ext)
        write_u32_be (out, timestamp);
    }
    if (n > 0)
      g_byte_array_append (out, data + done, n);
    done += n;
  } while (done < size);
}
