/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A libFuzzer target for the MPEG-TS random-access scanner
 * (plugins/mpegts-rap.c) that failoverselector cuts at.  Input: one byte of
 * options, one byte that picks where to split, then the stream.  Beyond
 * memory errors it aborts, with a line saying which, when:
 *
 *  - a reported offset is outside the buffer, not where the scan stood
 *    (on a sync byte it reached by whole packets or byte by byte after
 *    lost sync), or the packet there cannot be a random-access point:
 *    transport error, a table or null PID, a PID its PSI names as not
 *    video, neither a random_access_indicator nor a PES start;
 *  - it is not the first: the buffer cut just before it scans to -1;
 *  - the scan depends on how the buffer is split: scanning two parts one
 *    after the other, cut where the scan stands, finds the same packet and
 *    learns the same PSI;
 *  - learning without find_rap returns something, or learns other PSI than
 *    the scan did up to its random-access point;
 *  - with every packet in sync, 192-byte packets (4 bytes in front) and
 *    204-byte ones (16 behind) do not give the same packet as 188, whatever
 *    the extra bytes hold. */

#include "mpegts-rap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define TS 188
#define HEADER 2
#define MAX_STREAM (64 * 204)

#define CHECK(cond, ...) G_STMT_START {                                 \
    if (G_UNLIKELY (!(cond))) {                                          \
      fprintf (stderr, "mpegts-rap-fuzz: invariant broken: " __VA_ARGS__); \
      fprintf (stderr, "\n  (%s, line %d)\n", #cond, __LINE__);          \
      abort ();                                                          \
    }                                                                    \
  } G_STMT_END

/* The scanners are 8 KiB each: kept between runs, initialised in each */
static MrTsRapScanner whole, split, learner;

static guint
header_offset (guint packet_size)
{
  return packet_size == 192 ? 4 : 0;
}

/* The offsets the scan stands at, in order, until @stop (or the end) */
static GArray *
scan_positions (const guint8 * buf, gsize size, guint packet_size,
    gssize stop)
{
  GArray *pos = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize offset = 0;

  while (offset + packet_size <= size
      && (stop < 0 || offset <= (gsize) stop)) {
    g_array_append_val (pos, offset);
    if (buf[offset + header_offset (packet_size)] != 0x47)
      offset++;
    else
      offset += packet_size;
  }
  return pos;
}

static gboolean
positions_contain (GArray * pos, gsize offset)
{
  for (guint i = 0; i < pos->len; i++)
    if (g_array_index (pos, gsize, i) == offset)
      return TRUE;
  return FALSE;
}

static void
check_rap_packet (const MrTsRapScanner * s, const guint8 * pkt)
{
  guint pid = ((pkt[1] & 0x1f) << 8) | pkt[2];
  gboolean pusi = (pkt[1] & 0x40) != 0;
  guint afc = (pkt[3] >> 4) & 3;
  gboolean rai = (afc & 2) && pkt[4] > 0 && pkt[4] <= TS - 5
      && (pkt[5] & 0x40);

  CHECK (pkt[0] == 0x47, "random-access point without a sync byte");
  CHECK (!(pkt[1] & 0x80), "random-access point with transport_error");
  CHECK (pid >= 0x20 && pid != 0x1fff, "random-access point on PID %u",
      pid);
  CHECK (s->pid_kind[pid] != MR_TS_PID_PSI
      && s->pid_kind[pid] != MR_TS_PID_NOT_VIDEO, "random-access point on "
      "PID %u, of kind %u", pid, s->pid_kind[pid]);
  CHECK (rai || (pusi && (afc & 1)), "random-access point without RAI nor "
      "a PES start");
}

static void
check_same_psi (const MrTsRapScanner * a, const MrTsRapScanner * b,
    const char *what)
{
  for (guint pid = 0; pid < MR_TS_RAP_PID_COUNT; pid++)
    CHECK (a->pid_kind[pid] == b->pid_kind[pid], "%s: PID %u is of kind %u "
        "and %u", what, pid, a->pid_kind[pid], b->pid_kind[pid]);
}

static gssize
scan_all (const guint8 * buf, gsize size, guint packet_size, guint8 choice)
{
  g_autoptr (GArray) pos = NULL;
  gssize r, r1;
  gsize cut;

  mr_ts_rap_scanner_init (&whole);
  r = mr_ts_rap_scan (&whole, buf, size, packet_size, TRUE);
  CHECK (r >= -1, "scan returned %" G_GSSIZE_FORMAT, r);
  pos = scan_positions (buf, size, packet_size, r);

  if (r >= 0) {
    CHECK ((gsize) r + packet_size <= size, "offset %" G_GSSIZE_FORMAT " of "
        "a %u-byte packet in %" G_GSIZE_FORMAT " bytes", r, packet_size,
        size);
    CHECK (positions_contain (pos, r), "offset %" G_GSSIZE_FORMAT " is not "
        "where the scan stood", r);
    check_rap_packet (&whole, buf + r + header_offset (packet_size));

    /* the first one: nothing before it */
    mr_ts_rap_scanner_init (&split);
    CHECK (mr_ts_rap_scan (&split, buf, r, packet_size, TRUE) == -1,
        "a random-access point before %" G_GSSIZE_FORMAT, r);
    check_same_psi (&whole, &split, "up to the point");
  }

  /* learning only: nothing found, the same PSI up to the point */
  mr_ts_rap_scanner_init (&learner);
  CHECK (mr_ts_rap_scan (&learner, buf, r >= 0 ? (gsize) r : size,
          packet_size, FALSE) == -1, "learning returned an offset");
  check_same_psi (&whole, &learner, "learning");

  /* cut where the scan stood: the same point, the same PSI */
  cut = pos->len ? g_array_index (pos, gsize, choice % pos->len) : 0;
  mr_ts_rap_scanner_init (&split);
  r1 = mr_ts_rap_scan (&split, buf, cut, packet_size, TRUE);
  if (r1 < 0) {
    gssize r2 = mr_ts_rap_scan (&split, buf + cut, size - cut, packet_size,
        TRUE);
    r1 = r2 < 0 ? -1 : (gssize) cut + r2;
  }
  CHECK (r1 == r, "cut at %" G_GSIZE_FORMAT ": %" G_GSSIZE_FORMAT " instead "
      "of %" G_GSSIZE_FORMAT, cut, r1, r);
  check_same_psi (&whole, &split, "cut");
  return r;
}

/* Options: bits 0-1 packet size (188, 192, 204, or 188 given as 0), bit 2
 * every 188-byte packet in sync and the same stream in 192 and 204 too,
 * bits 3-7 the extra bytes of those (0x47 or the input's own). */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static const guint sizes[] = { 188, 192, 204, 0 };
  guint8 options, choice;
  gsize len;
  guint packet_size;

  if (size < HEADER)
    return 0;
  options = data[0];
  choice = data[1];
  data += HEADER;
  len = MIN (size - HEADER, MAX_STREAM);
  packet_size = sizes[options & 3];

  if (!(options & 4)) {
    scan_all (data, len, packet_size ? packet_size : TS, choice);
    return 0;
  }

  /* in sync: one stream in the three packet sizes */
  {
    gsize n = len / TS;
    g_autofree guint8 *ts = g_memdup2 (data, n * TS);
    g_autofree guint8 *ts192 = g_malloc (n * 192 + 1);
    g_autofree guint8 *ts204 = g_malloc (n * 204 + 1);
    gboolean sync_extra = (options & 8) != 0;
    gssize r188, r192, r204;

    if (n == 0)
      return 0;
    for (gsize i = 0; i < n; i++) {
      ts[i * TS] = 0x47;
      memcpy (ts192 + i * 192 + 4, ts + i * TS, TS);
      memcpy (ts204 + i * 204, ts + i * TS, TS);
      for (guint j = 0; j < 4; j++)
        ts192[i * 192 + j] = sync_extra ? 0x47 : data[(i * 7 + j) % len];
      for (guint j = 0; j < 16; j++)
        ts204[i * 204 + TS + j] = sync_extra ? 0x47 : data[(i * 5 + j) % len];
    }
    r188 = scan_all (ts, n * TS, TS, choice);
    r192 = scan_all (ts192, n * 192, 192, choice);
    r204 = scan_all (ts204, n * 204, 204, choice);
    CHECK (r188 % TS == 0 || r188 == -1, "in sync, offset %" G_GSSIZE_FORMAT
        " is not on a packet", r188);
    CHECK ((r192 < 0 ? -1 : r192 / 192) == (r188 < 0 ? -1 : r188 / TS),
        "192-byte packets: %" G_GSSIZE_FORMAT ", 188: %" G_GSSIZE_FORMAT,
        r192, r188);
    CHECK ((r204 < 0 ? -1 : r204 / 204) == (r188 < 0 ? -1 : r188 / TS),
        "204-byte packets: %" G_GSSIZE_FORMAT ", 188: %" G_GSSIZE_FORMAT,
        r204, r188);
  }
  return 0;
}

#ifdef MR_FUZZ_STANDALONE
#include "standalone.h"

/* Streams of packets that mean something to the scanner (a PAT, a PMT
 * with a video and an audio PID, PES starts with NAL units, RAI), with a
 * byte lost or a packet of noise now and then. */

#define PMT_PID 0x1000
#define VIDEO_PID 0x100
#define AUDIO_PID 0x101

static void
random_packet (guint8 * pkt)
{
  static const guint pids[] = { VIDEO_PID, AUDIO_PID, 0x11, 0x1fff, 0x42 };
  static const guint8 video_types[] = { 0x1b, 0x24, 0x02, 0x10, 0x0f };
  static const guint8 nals[] = { 0x65, 0x67, 0x41, 0x09, 19 << 1, 21 << 1,
    32 << 1, 1 << 1, 0xb3, 0x00
  };
  guint kind = mr_fuzz_random () % 10;
  gsize off = 4;

  for (guint i = 0; i < TS; i++)
    pkt[i] = mr_fuzz_random () % 4 ? 0xff : mr_fuzz_random ();
  pkt[0] = 0x47;
  if (kind == 0) {              /* PAT: program 1 on PMT_PID */
    const guint8 pat[] = { 0x40, 0x00, 0x10, 0x00, 0x00, 0xb0, 13, 0, 1,
      0xc1, 0, 0, 0, 1, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff, 1, 2, 3, 4
    };
    memcpy (pkt + 1, pat, sizeof (pat));
    return;
  }
  if (kind == 1) {              /* PMT: video, audio */
    const guint8 pmt[] = { 0x40 | (PMT_PID >> 8), PMT_PID & 0xff, 0x10, 0x00,
      0x02, 0xb0, 23, 0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0,
      video_types[mr_fuzz_random () % 5], 0xe1, 0x00, 0xf0, 0,
      0x0f, 0xe1, 0x01, 0xf0, 0, 1, 2, 3, 4
    };
    memcpy (pkt + 1, pmt, sizeof (pmt));
    return;
  }
  {
    guint pid = pids[mr_fuzz_random () % G_N_ELEMENTS (pids)];
    gboolean pusi = mr_fuzz_random () % 2;
    gboolean rai = mr_fuzz_random () % 4 == 0;

    pkt[1] = (mr_fuzz_random () % 16 == 0 ? 0x80 : 0) | (pusi ? 0x40 : 0)
        | (pid >> 8);
    pkt[2] = pid & 0xff;
    pkt[3] = 0x10 | (mr_fuzz_random () % 16);
    if (rai || mr_fuzz_random () % 4 == 0) {
      guint af = rai ? 1 + mr_fuzz_random () % 8 : mr_fuzz_random () % 190;
      pkt[3] |= 0x20;
      pkt[4] = af;
      if (af > 0 && af < TS - 5)
        pkt[5] = rai ? 0x40 : 0;
      off = MIN (5 + af, TS);
    }
    if (pusi && off + 20 <= TS) {
      const guint8 pes[] = { 0, 0, 1, mr_fuzz_random () % 3 ? 0xe0 : 0xc0,
        0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0, 0, 1,
        nals[mr_fuzz_random () % G_N_ELEMENTS (nals)], 0x88, 0x84
      };
      memcpy (pkt + off, pes, sizeof (pes));
    }
  }
}

static gsize
random_stream (guint8 * buf, gsize max_len)
{
  gsize n = 1 + mr_fuzz_random () % 12, len = HEADER;

  buf[0] = mr_fuzz_random ();
  buf[1] = mr_fuzz_random ();
  for (gsize i = 0; i < n && len + TS <= max_len; i++) {
    random_packet (buf + len);
    len += TS;
    /* a byte lost, or a few more */
    if (mr_fuzz_random () % 16 == 0)
      len -= mr_fuzz_random () % 3;
  }
  return len;
}

const MrFuzzStandalone mr_fuzz_standalone = {
  .name = "mpegts-rap",
  .runs_env = "RAP_FUZZ_RUNS",
  .runs = 5000,
  .runs_valgrind = 1000,
  .max_len = HEADER + 12 * TS,
  .random_input = random_stream,
};
#endif /* MR_FUZZ_STANDALONE */
