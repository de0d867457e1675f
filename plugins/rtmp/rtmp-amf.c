/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* AMF0 (Adobe's Action Message Format 0) as RTMP commands use it */

#include "rtmp-amf.h"

#include <string.h>

void
mr_amf_value_free (MrAmfValue * value)
{
  if (!value)
    return;
  g_free (value->string);
  if (value->names)
    g_ptr_array_unref (value->names);
  if (value->items)
    g_ptr_array_unref (value->items);
  g_free (value);
}

static guint16
read_u16 (const guint8 * p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
read_u32 (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
      ((guint32) p[2] << 8) | p[3];
}

static gdouble
read_double (const guint8 * p)
{
  guint64 bits = ((guint64) read_u32 (p) << 32) | read_u32 (p + 4);
  gdouble d;

  memcpy (&d, &bits, sizeof d);
  return d;
}

/* a string of @len bytes at @p, NUL-terminated */
static gchar *
copy_string (const guint8 * p, gsize len)
{
  gchar *s = g_malloc (len + 1);

  memcpy (s, p, len);
  s[len] = '\0';
  return s;
}

static MrAmfValue *decode_value (const guint8 * data, gsize size,
    gsize * pos, guint depth);

/* the (name, value) pairs of an object or ECMA array, up to the end
 * marker (an empty name and 0x09) */
static gboolean
decode_members (MrAmfValue * v, const guint8 * data, gsize size, gsize * pos,
    guint depth)
{
  v->names = g_ptr_array_new_with_free_func (g_free);
  v->items = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_amf_value_free);
  for (;;) {
    guint16 len;
    MrAmfValue *item;

    if (size - *pos < 2)
      return FALSE;
    len = read_u16 (data + *pos);
    if (len == 0 && size - *pos >= 3 && data[*pos + 2] == MR_AMF0_OBJECT_END) {
      *pos += 3;
      return TRUE;
    }
    if (v->items->len >= MR_AMF0_MAX_ITEMS || size - *pos - 2 < len)
      return FALSE;
    g_ptr_array_add (v->names, copy_string (data + *pos + 2, len));
    *pos += 2 + len;
    if (!(item = decode_value (data, size, pos, depth + 1)))
      return FALSE;
    g_ptr_array_add (v->items, item);
  }
}

static MrAmfValue *
decode_value (const guint8 * data, gsize size, gsize * pos, guint depth)
{
  MrAmfValue *v;
  gsize len;
  guint8 marker;

  if (depth > MR_AMF0_MAX_DEPTH || *pos >= size)
    return NULL;
  marker = data[(*pos)++];
  v = g_new0 (MrAmfValue, 1);
  v->type = marker;
  switch (marker) {
    case MR_AMF0_NUMBER:
      if (size - *pos < 8)
        goto fail;
      v->number = read_double (data + *pos);
      *pos += 8;
      break;
    case MR_AMF0_BOOLEAN:
      if (size - *pos < 1)
        goto fail;
      v->boolean = data[(*pos)++] != 0;
      break;
    case MR_AMF0_STRING:
    case MR_AMF0_LONG_STRING:
      if (size - *pos < (marker == MR_AMF0_STRING ? 2 : 4))
        goto fail;
      len = marker == MR_AMF0_STRING ? read_u16 (data + *pos) :
          read_u32 (data + *pos);
      *pos += marker == MR_AMF0_STRING ? 2 : 4;
      if (size - *pos < len)
        goto fail;
      v->string = copy_string (data + *pos, len);
      v->string_len = len;
      *pos += len;
      break;
    case MR_AMF0_NULL:
    case MR_AMF0_UNDEFINED:
      break;
    case MR_AMF0_ECMA_ARRAY:
      /* its count is a hint that encoders get wrong: the end marker
       * ends it, as in every reader */
      if (size - *pos < 4)
        goto fail;
      *pos += 4;
      /* fall through */
    case MR_AMF0_OBJECT:
      if (!decode_members (v, data, size, pos, depth))
        goto fail;
      break;
    case MR_AMF0_STRICT_ARRAY:{
      guint32 count;

      if (size - *pos < 4)
        goto fail;
      count = read_u32 (data + *pos);
      *pos += 4;
      if (count > MR_AMF0_MAX_ITEMS)
        goto fail;
      v->items = g_ptr_array_new_with_free_func ((GDestroyNotify)
          mr_amf_value_free);
      for (guint32 i = 0; i < count; i++) {
        MrAmfValue *item = decode_value (data, size, pos, depth + 1);

        if (!item)
          goto fail;
        g_ptr_array_add (v->items, item);
      }
      break;
    }
    case MR_AMF0_DATE:
      /* milliseconds, then a time zone nobody fills in */
      if (size - *pos < 10)
        goto fail;
      v->number = read_double (data + *pos);
      *pos += 10;
      break;
    default:
      goto fail;
  }
  return v;

fail:
  mr_amf_value_free (v);
  return NULL;
}

MrAmfValue *
mr_amf0_decode (const guint8 * data, gsize size, gsize * consumed)
{
  gsize pos = 0;
  MrAmfValue *v;

  g_return_val_if_fail (data != NULL || size == 0, NULL);
  v = decode_value (data, size, &pos, 0);
  if (v && consumed)
    *consumed = pos;
  return v;
}

GPtrArray *
mr_amf0_decode_all (const guint8 * data, gsize size)
{
  GPtrArray *values = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mr_amf_value_free);
  gsize pos = 0;

  while (pos < size) {
    MrAmfValue *v;

    if (values->len >= MR_AMF0_MAX_ITEMS
        || !(v = decode_value (data, size, &pos, 0))) {
      g_ptr_array_unref (values);
      return NULL;
    }
    g_ptr_array_add (values, v);
  }
  return values;
}

const MrAmfValue *
mr_amf_value_get (const MrAmfValue * value, const gchar * name)
{
  if (!value || !value->names)
    return NULL;
  for (guint i = 0; i < value->names->len; i++)
    if (g_str_equal (value->names->pdata[i], name))
      return value->items->pdata[i];
  return NULL;
}

const gchar *
mr_amf_value_string (const MrAmfValue * value)
{
  if (!value || (value->type != MR_AMF0_STRING
          && value->type != MR_AMF0_LONG_STRING))
    return NULL;
  return value->string;
}

/* ---------------------------------------------------------------------- */

static void
write_u16 (GByteArray * out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };

  g_byte_array_append (out, b, 2);
}

static void
write_u32 (GByteArray * out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

  g_byte_array_append (out, b, 4);
}

static void
write_marker (GByteArray * out, MrAmf0Type type)
{
  guint8 b = type;

  g_byte_array_append (out, &b, 1);
}

void
mr_amf0_write_number (GByteArray * out, gdouble number)
{
  guint64 bits;

  memcpy (&bits, &number, sizeof bits);
  write_marker (out, MR_AMF0_NUMBER);
  write_u32 (out, bits >> 32);
  write_u32 (out, bits & 0xffffffff);
}

void
mr_amf0_write_boolean (GByteArray * out, gboolean value)
{
  guint8 b = value ? 1 : 0;

  write_marker (out, MR_AMF0_BOOLEAN);
  g_byte_array_append (out, &b, 1);
}

void
mr_amf0_write_string (GByteArray * out, const gchar * string)
{
  gsize len = strlen (string);

  if (len > G_MAXUINT16) {
    write_marker (out, MR_AMF0_LONG_STRING);
    write_u32 (out, len);
  } else {
    write_marker (out, MR_AMF0_STRING);
    write_u16 (out, len);
  }
  g_byte_array_append (out, (const guint8 *) string, len);
}

void
mr_amf0_write_null (GByteArray * out)
{
  write_marker (out, MR_AMF0_NULL);
}

void
mr_amf0_write_undefined (GByteArray * out)
{
  write_marker (out, MR_AMF0_UNDEFINED);
}

void
mr_amf0_write_object_begin (GByteArray * out)
{
  write_marker (out, MR_AMF0_OBJECT);
}

void
mr_amf0_write_name (GByteArray * out, const gchar * name)
{
  gsize len = MIN (strlen (name), G_MAXUINT16);

  write_u16 (out, len);
  g_byte_array_append (out, (const guint8 *) name, len);
}

void
mr_amf0_write_object_end (GByteArray * out)
{
  write_u16 (out, 0);
  write_marker (out, MR_AMF0_OBJECT_END);
}
