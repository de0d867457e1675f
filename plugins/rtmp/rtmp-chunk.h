/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_RTMP_CHUNK_H__
#define __MR_RTMP_CHUNK_H__

#include <glib.h>

G_BEGIN_DECLS

/* The RTMP chunk stream (Adobe's RTMP specification 1.0, section 5.3):
 * messages are cut into chunks of at most the chunk size, chunks of
 * several chunk streams interleave, and each chunk's header (type 0 to 3)
 * says only what changed since the previous chunk of its stream.
 *
 * The reader takes the bytes of a connection in pieces of any size and
 * gives back whole messages.  It follows the peer's Set Chunk Size (type
 * 1) and Abort (type 2) itself, as soon as it returns them.  Plain C, no
 * GStreamer and no I/O: the caller reads the socket.
 *
 * What it refuses (MR_RTMP_CHUNK_ERROR, after which it stays failed): a
 * type 1-3 header on a chunk stream that never had a type 0, a Set Chunk
 * Size of 0 or with the top bit set, a message longer than
 * MR_RTMP_MAX_MESSAGE, more than MR_RTMP_MAX_CHUNK_STREAMS chunk streams
 * at once, a Set Chunk Size or Abort message shorter than 4 bytes. */

#define MR_RTMP_DEFAULT_CHUNK_SIZE 128
/* a message longer than this (the length field allows 16 MiB - 1) is
 * refused: 8 MiB is a keyframe of 4K at far more than 100 Mbit/s */
#define MR_RTMP_MAX_MESSAGE (8 * 1024 * 1024)
#define MR_RTMP_MAX_CHUNK_STREAMS 64
/* chunk sizes above this are taken as this: a message is never longer */
#define MR_RTMP_MAX_CHUNK_SIZE 0xffffff

/* message types */
enum
{
  MR_RTMP_MSG_SET_CHUNK_SIZE = 1,
  MR_RTMP_MSG_ABORT = 2,
  MR_RTMP_MSG_ACK = 3,
  MR_RTMP_MSG_USER_CONTROL = 4,
  MR_RTMP_MSG_WINDOW_ACK_SIZE = 5,
  MR_RTMP_MSG_SET_PEER_BANDWIDTH = 6,
  MR_RTMP_MSG_AUDIO = 8,
  MR_RTMP_MSG_VIDEO = 9,
  MR_RTMP_MSG_DATA_AMF3 = 15,
  MR_RTMP_MSG_COMMAND_AMF3 = 17,
  MR_RTMP_MSG_DATA_AMF0 = 18,
  MR_RTMP_MSG_COMMAND_AMF0 = 20,
  MR_RTMP_MSG_AGGREGATE = 22,
};

typedef struct
{
  guint32 csid;                 /* chunk stream id, 2 to 65599 */
  guint8 type;
  guint32 timestamp;            /* in ms, absolute */
  guint32 stream_id;            /* message stream id */
  const guint8 *data;           /* valid until the next call on the reader */
  gsize size;
} MrRtmpMessage;

typedef enum
{
  MR_RTMP_CHUNK_NEED_MORE,
  MR_RTMP_CHUNK_MESSAGE,
  MR_RTMP_CHUNK_ERROR,
} MrRtmpChunkResult;

typedef struct _MrRtmpChunkReader MrRtmpChunkReader;

MrRtmpChunkReader *mr_rtmp_chunk_reader_new (void);
void mr_rtmp_chunk_reader_free (MrRtmpChunkReader * reader);

/* Appends what the connection delivered */
void mr_rtmp_chunk_reader_push (MrRtmpChunkReader * reader,
    const guint8 * data, gsize size);
/* The next whole message into @msg (MESSAGE); NEED_MORE when the bytes
 * pushed end inside a chunk; ERROR (with a static description in
 * *@error_text if not NULL) for input it refuses */
MrRtmpChunkResult mr_rtmp_chunk_reader_pop (MrRtmpChunkReader * reader,
    MrRtmpMessage * msg, const gchar ** error_text);
/* The peer's chunk size now */
guint32 mr_rtmp_chunk_reader_chunk_size (const MrRtmpChunkReader * reader);
/* Bytes pushed but not yet consumed as whole chunks */
gsize mr_rtmp_chunk_reader_pending (const MrRtmpChunkReader * reader);

/* Appends @size bytes of message @type as chunks of @chunk_size on chunk
 * stream @csid (2 to 65599): a type 0 header, then type 3, with the
 * extended timestamp when @timestamp does not fit 24 bits */
void mr_rtmp_chunk_write (GByteArray * out, guint32 chunk_size, guint32 csid,
    guint8 type, guint32 timestamp, guint32 stream_id, const guint8 * data,
    gsize size);

G_END_DECLS

#endif /* __MR_RTMP_CHUNK_H__ */
