/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "mpegts-rap.h"

#include <string.h>

#define TS_PACKET_SIZE 188
#define TS_SYNC_BYTE 0x47
#define TS_PID_PAT 0x0000
#define TS_PID_FIRST_ES 0x0020  /* below are tables, 0x1fff is padding */
#define TS_PID_NULL 0x1fff

#define TABLE_ID_PAT 0x00
#define TABLE_ID_PMT 0x02

void
mr_ts_rap_scanner_init (MrTsRapScanner * scanner)
{
  memset (scanner->pid_kind, MR_TS_PID_UNKNOWN, sizeof (scanner->pid_kind));
  scanner->pid_kind[TS_PID_PAT] = MR_TS_PID_PSI;
}

static MrTsPidKind
kind_for_stream_type (guint8 stream_type)
{
  switch (stream_type) {
    case 0x1b:
      return MR_TS_PID_H264;
    case 0x24:
      return MR_TS_PID_HEVC;
    case 0x01:                 /* MPEG-1 video */
    case 0x02:                 /* MPEG-2 video */
      return MR_TS_PID_MPEG2_VIDEO;
    case 0x10:                 /* MPEG-4 part 2 */
    case 0x1f:                 /* H.264 SVC */
    case 0x20:                 /* H.264 MVC */
    case 0x33:                 /* VVC */
    case 0x42:                 /* AVS */
    case 0xd1:                 /* Dirac */
    case 0xea:                 /* VC-1 */
      return MR_TS_PID_OTHER_VIDEO;
    default:
      return MR_TS_PID_NOT_VIDEO;
  }
}

static gboolean
kind_is_video (MrTsPidKind kind)
{
  return kind == MR_TS_PID_H264 || kind == MR_TS_PID_HEVC
      || kind == MR_TS_PID_MPEG2_VIDEO || kind == MR_TS_PID_OTHER_VIDEO;
}

/* A PAT or PMT section that starts, and ends, in this payload */
static void
parse_psi (MrTsRapScanner * scanner, guint pid, const guint8 * payload,
    gsize len)
{
  const guint8 *section, *end, *p;
  gsize avail;
  guint pointer, section_length;

  if (len < 1)
    return;
  pointer = payload[0];
  if (1 + pointer >= len)
    return;
  section = payload + 1 + pointer;
  avail = len - 1 - pointer;
  if (avail < 3)
    return;

  section_length = ((section[1] & 0x0f) << 8) | section[2];
  /* 5 bytes of header after the length, 4 of CRC; longer ones span
   * packets and are not read */
  if (section_length < 9 || 3 + (gsize) section_length > avail)
    return;
  end = section + 3 + section_length - 4;

  if (pid == TS_PID_PAT && section[0] == TABLE_ID_PAT) {
    for (p = section + 8; p + 4 <= end; p += 4) {
      guint program = (p[0] << 8) | p[1];
      guint pmt_pid = ((p[2] & 0x1f) << 8) | p[3];

      if (program != 0)         /* 0 points at the NIT */
        scanner->pid_kind[pmt_pid] = MR_TS_PID_PSI;
    }
  } else if (section[0] == TABLE_ID_PMT) {
    guint program_info_length;

    if (section_length < 13)
      return;
    program_info_length = ((section[10] & 0x0f) << 8) | section[11];
    for (p = section + 12 + program_info_length; p + 5 <= end;) {
      guint es_pid = ((p[1] & 0x1f) << 8) | p[2];
      guint es_info_length = ((p[3] & 0x0f) << 8) | p[4];

      if (scanner->pid_kind[es_pid] != MR_TS_PID_PSI)
        scanner->pid_kind[es_pid] = kind_for_stream_type (p[0]);
      p += 5 + es_info_length;
    }
  }
}

static gboolean
nal_starts_rap (MrTsPidKind kind, guint8 header)
{
  guint type;

  switch (kind) {
    case MR_TS_PID_UNKNOWN:
    case MR_TS_PID_H264:
      /* forbidden_zero_bit clear; an IDR slice, or the SPS in front of it */
      type = header & 0x1f;
      return !(header & 0x80) && (type == 5 || type == 7);
    case MR_TS_PID_HEVC:
      /* IRAP slices (BLA, IDR, CRA), or the VPS / SPS in front of them */
      type = (header >> 1) & 0x3f;
      return !(header & 0x80) && ((type >= 16 && type <= 21) || type == 32
          || type == 33);
    case MR_TS_PID_MPEG2_VIDEO:
      return header == 0xb3;    /* sequence header */
    default:
      return FALSE;
  }
}

/* @payload starts a PES: does the access unit in it start with a
 * random-access picture (as far as this packet shows)? */
static gboolean
pes_starts_rap (MrTsPidKind kind, const guint8 * payload, gsize len)
{
  const guint8 *es;
  gsize es_len, i;
  guint stream_id, header_length;

  if (len < 9 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1)
    return FALSE;
  stream_id = payload[3];
  /* without a PMT only the video stream_ids are video */
  if (kind == MR_TS_PID_UNKNOWN && (stream_id < 0xe0 || stream_id > 0xef))
    return FALSE;
  header_length = payload[8];
  if (9 + (gsize) header_length >= len)
    return FALSE;
  es = payload + 9 + header_length;
  es_len = len - 9 - header_length;

  for (i = 0; i + 3 < es_len; i++) {
    if (es[i] != 0 || es[i + 1] != 0 || es[i + 2] != 1)
      continue;
    if (nal_starts_rap (kind, es[i + 3]))
      return TRUE;
    i += 2;
  }
  return FALSE;
}

/* Looks at one 188-byte packet: learns PSI, and tells whether it is a
 * random-access point */
static gboolean
packet_is_rap (MrTsRapScanner * scanner, const guint8 * pkt,
    gboolean find_rap)
{
  guint pid = ((pkt[1] & 0x1f) << 8) | pkt[2];
  gboolean pusi = (pkt[1] & 0x40) != 0;
  guint afc = (pkt[3] >> 4) & 0x3;
  gboolean rai = FALSE;
  const guint8 *payload = NULL;
  gsize offset = 4, len = 0;
  MrTsPidKind kind;

  if (pkt[1] & 0x80)            /* transport_error_indicator */
    return FALSE;

  if (afc & 0x2) {
    guint af_length = pkt[4];

    if (af_length > TS_PACKET_SIZE - 5)
      return FALSE;
    if (af_length > 0)
      rai = (pkt[5] & 0x40) != 0;
    offset = 5 + af_length;
  }
  if ((afc & 0x1) && offset < TS_PACKET_SIZE) {
    payload = pkt + offset;
    len = TS_PACKET_SIZE - offset;
  }

  kind = scanner->pid_kind[pid];
  if (kind == MR_TS_PID_PSI) {
    if (pusi && payload)
      parse_psi (scanner, pid, payload, len);
    return FALSE;
  }
  if (!find_rap || pid < TS_PID_FIRST_ES || pid == TS_PID_NULL
      || kind == MR_TS_PID_NOT_VIDEO)
    return FALSE;

  if (rai) {
    if (kind_is_video (kind))
      return TRUE;
    /* unknown PID: unless it visibly starts a PES that is not video */
    if (!(pusi && payload && len >= 4 && payload[0] == 0 && payload[1] == 0
            && payload[2] == 1 && (payload[3] < 0xe0 || payload[3] > 0xef)))
      return TRUE;
  }

  return pusi && payload && pes_starts_rap (kind, payload, len);
}

gssize
mr_ts_rap_scan (MrTsRapScanner * scanner, const guint8 * data, gsize size,
    guint packet_size, gboolean find_rap)
{
  gsize header_offset = 0, offset = 0;

  switch (packet_size) {
    case 192:
      header_offset = 4;
      break;
    case 204:
      break;
    default:
      packet_size = TS_PACKET_SIZE;
      break;
  }

  while (offset + packet_size <= size) {
    const guint8 *pkt = data + offset + header_offset;

    if (pkt[0] != TS_SYNC_BYTE) {
      offset++;                 /* lost sync: look for it byte by byte */
      continue;
    }
    if (packet_is_rap (scanner, pkt, find_rap))
      return offset;
    offset += packet_size;
  }
  return -1;
}
