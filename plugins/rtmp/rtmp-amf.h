/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MR_RTMP_AMF_H__
#define __MR_RTMP_AMF_H__

#include <glib.h>

G_BEGIN_DECLS

/* AMF0, the encoding of RTMP's commands (connect, createStream, publish,
 * onStatus) and of its data messages (@setDataFrame onMetaData): a
 * decoder into a small value tree and an encoder onto a GByteArray.
 * Plain C, no GStreamer, so that unit tests and the fuzzer drive it.
 *
 * The decoder refuses what it cannot read whole: a truncated value, an
 * unknown type marker, nesting deeper than MR_AMF0_MAX_DEPTH, more than
 * MR_AMF0_MAX_ITEMS members in one object or array.  References, AMF3
 * switches and the other Flash-only types are refused too: no encoder a
 * publisher uses sends them in commands. */

#define MR_AMF0_MAX_DEPTH 16
#define MR_AMF0_MAX_ITEMS 1024

typedef enum
{
  MR_AMF0_NUMBER = 0x00,
  MR_AMF0_BOOLEAN = 0x01,
  MR_AMF0_STRING = 0x02,
  MR_AMF0_OBJECT = 0x03,
  MR_AMF0_NULL = 0x05,
  MR_AMF0_UNDEFINED = 0x06,
  MR_AMF0_ECMA_ARRAY = 0x08,
  MR_AMF0_OBJECT_END = 0x09,
  MR_AMF0_STRICT_ARRAY = 0x0a,
  MR_AMF0_DATE = 0x0b,
  MR_AMF0_LONG_STRING = 0x0c,
} MrAmf0Type;

typedef struct _MrAmfValue MrAmfValue;

struct _MrAmfValue
{
  MrAmf0Type type;
  gdouble number;               /* NUMBER, DATE (ms since the epoch) */
  gboolean boolean;
  gchar *string;                /* STRING, LONG_STRING: NUL-terminated */
  gsize string_len;             /* its length, which may hold NULs */
  /* OBJECT, ECMA_ARRAY: names[i] is the name of items[i]; STRICT_ARRAY:
   * items only, names NULL */
  GPtrArray *names;
  GPtrArray *items;
};

void mr_amf_value_free (MrAmfValue * value);

/* Decodes one value at @data; *@consumed: its length.  NULL if malformed
 * or truncated. */
MrAmfValue *mr_amf0_decode (const guint8 * data, gsize size,
    gsize * consumed);
/* Decodes every value of @data (a command: name, transaction id, ...);
 * NULL if any is malformed.  Free with g_ptr_array_unref (). */
GPtrArray *mr_amf0_decode_all (const guint8 * data, gsize size);

/* @value's member @name (OBJECT, ECMA_ARRAY), or NULL */
const MrAmfValue *mr_amf_value_get (const MrAmfValue * value,
    const gchar * name);
/* @value's string, NULL unless STRING or LONG_STRING */
const gchar *mr_amf_value_string (const MrAmfValue * value);

/* The encoder.  An object is begin, then (name, value) pairs, then end. */
void mr_amf0_write_number (GByteArray * out, gdouble number);
void mr_amf0_write_boolean (GByteArray * out, gboolean value);
void mr_amf0_write_string (GByteArray * out, const gchar * string);
void mr_amf0_write_null (GByteArray * out);
void mr_amf0_write_undefined (GByteArray * out);
void mr_amf0_write_object_begin (GByteArray * out);
void mr_amf0_write_name (GByteArray * out, const gchar * name);
void mr_amf0_write_object_end (GByteArray * out);

G_END_DECLS

#endif /* __MR_RTMP_AMF_H__ */
