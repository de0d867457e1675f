/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Unit tests for the MPEG-TS random-access point scanner that
 * failoverselector cuts at, without GStreamer. */

#include "mpegts-rap.h"

#include <string.h>

#define TS 188
#define DATAGRAM_PACKETS 7

#define VIDEO_PID 0x100
#define AUDIO_PID 0x101
#define PMT_PID 0x1000

/* Building packets */

typedef struct
{
  guint pid;
  gboolean pusi;
  gboolean rai;                 /* an adaptation field with the indicator */
  gboolean tei;
  const guint8 *payload;        /* the rest is 0xff */
  gsize payload_len;
} Packet;

static void
packet_fill (guint8 * pkt, const Packet * p)
{
  gsize offset = 4;

  memset (pkt, 0xff, TS);
  pkt[0] = 0x47;
  pkt[1] = (p->tei ? 0x80 : 0) | (p->pusi ? 0x40 : 0) | ((p->pid >> 8) & 0x1f);
  pkt[2] = p->pid & 0xff;
  pkt[3] = 0x10;                /* payload */
  if (p->rai) {
    pkt[3] |= 0x20;
    pkt[4] = 1;                 /* adaptation_field_length */
    pkt[5] = 0x40;              /* random_access_indicator */
    offset = 6;
  }
  if (p->payload)
    memcpy (pkt + offset, p->payload, MIN (p->payload_len, TS - offset));
}

/* A PES header (with a PTS) for @stream_id followed by @es */
static gsize
pes_build (guint8 * out, guint8 stream_id, const guint8 * es, gsize es_len)
{
  static const guint8 header[] = { 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x80, 0x80, 0x05, 0x21, 0x00, 0x01, 0x00, 0x01
  };

  memcpy (out, header, sizeof (header));
  out[3] = stream_id;
  memcpy (out + sizeof (header), es, es_len);
  return sizeof (header) + es_len;
}

/* An access unit delimiter, then a NAL unit with header @nal (and @nal2) */
static gsize
pes_with_nal (guint8 * out, guint8 stream_id, guint8 nal, guint8 nal2)
{
  const guint8 es[] = { 0x00, 0x00, 0x00, 0x01, 0x09, 0xf0,
    0x00, 0x00, 0x00, 0x01, nal, nal2, 0x88, 0x84
  };

  return pes_build (out, stream_id, es, sizeof (es));
}

static void
pat_fill (guint8 * pkt)
{
  const guint8 section[] = { 0x00,     /* pointer_field */
    0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0x00, 0x00,
    0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff,
    0xde, 0xad, 0xbe, 0xef      /* CRC, not checked */
  };

  packet_fill (pkt, &(Packet) {.pid = 0,.pusi = TRUE,.payload = section,
        .payload_len = sizeof (section)});
}

/* A PMT with the video stream type @video_type on VIDEO_PID and AAC on
 * AUDIO_PID */
static void
pmt_fill (guint8 * pkt, guint8 video_type)
{
  const guint8 section[] = { 0x00,
    0x02, 0xb0, 13 + 2 * 5, 0x00, 0x01, 0xc1, 0x00, 0x00,
    0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    video_type, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    0x0f, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0x00,
    0xde, 0xad, 0xbe, 0xef
  };

  packet_fill (pkt, &(Packet) {.pid = PMT_PID,.pusi = TRUE,.payload = section,
        .payload_len = sizeof (section)});
}

/* A datagram of plain video packets */
static guint8 *
datagram_new (void)
{
  guint8 *data = g_malloc (DATAGRAM_PACKETS * TS);
  guint i;

  for (i = 0; i < DATAGRAM_PACKETS; i++)
    packet_fill (data + i * TS, &(Packet) {.pid = VIDEO_PID});
  return data;
}

static MrTsRapScanner *
scanner_new (void)
{
  MrTsRapScanner *scanner = g_new (MrTsRapScanner, 1);

  mr_ts_rap_scanner_init (scanner);
  return scanner;
}

static gssize
scan (MrTsRapScanner * scanner, const guint8 * data, gsize size)
{
  return mr_ts_rap_scan (scanner, data, size, TS, TRUE);
}

/* Feeds a PAT and a PMT declaring @video_type */
static void
learn_pmt (MrTsRapScanner * scanner, guint8 video_type)
{
  guint8 psi[2 * TS];

  pat_fill (psi);
  pmt_fill (psi + TS, video_type);
  g_assert_cmpint (scan (scanner, psi, sizeof (psi)), ==, -1);
}

/* Tests */

static void
test_nothing (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();

  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, -1);
  g_assert_cmpint (scan (scanner, data, 0), ==, -1);
}

static void
test_rai_unknown_pid (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();

  packet_fill (data + 2 * TS, &(Packet) {.pid = VIDEO_PID,.rai = TRUE});
  packet_fill (data + 5 * TS, &(Packet) {.pid = VIDEO_PID,.rai = TRUE});
  /* the first one */
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 2 * TS);
}

static void
test_rai_and_idr (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();
  guint8 pes[64];
  gsize len = pes_with_nal (pes, 0xe0, 0x65, 0x88);

  packet_fill (data + 3 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .rai = TRUE,.payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 3 * TS);
}

static void
test_h264_idr_without_rai (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();
  guint8 pes[64];
  gsize len = pes_with_nal (pes, 0xe0, 0x65, 0x88);

  packet_fill (data + 1 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, TS);
}

static void
test_h264_sps (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();
  guint8 pes[64];
  gsize len = pes_with_nal (pes, 0xe0, 0x67, 0x64);

  packet_fill (data + 4 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 4 * TS);
}

static void
test_h264_non_idr (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();
  guint8 pes[64];
  gsize len;

  /* non-IDR slices; 0x21 would be an HEVC BLA read as HEVC */
  len = pes_with_nal (pes, 0xe0, 0x41, 0x9a);
  packet_fill (data + 1 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  len = pes_with_nal (pes, 0xe0, 0x21, 0x9a);
  packet_fill (data + 2 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  /* an IDR NAL header, but not after a PES start */
  packet_fill (data + 3 * TS, &(Packet) {.pid = VIDEO_PID,.payload = pes,
        .payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, -1);
}

static void
test_unknown_pid_non_video_pes (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();
  guint8 pes[64];
  gsize len = pes_with_nal (pes, 0xc0, 0x65, 0x88);

  /* an audio PES: neither its RAI nor its bytes count */
  packet_fill (data + 1 * TS, &(Packet) {.pid = AUDIO_PID,.pusi = TRUE,
        .rai = TRUE,.payload = pes,.payload_len = len});
  /* nor do tables and padding */
  packet_fill (data + 2 * TS, &(Packet) {.pid = 0x11,.rai = TRUE});
  packet_fill (data + 3 * TS, &(Packet) {.pid = 0x1fff,.rai = TRUE});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, -1);
}

static void
test_pmt_audio_rai_ignored (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();

  learn_pmt (scanner, 0x1b);
  g_assert_cmpint (scanner->pid_kind[PMT_PID], ==, MR_TS_PID_PSI);
  g_assert_cmpint (scanner->pid_kind[VIDEO_PID], ==, MR_TS_PID_H264);
  g_assert_cmpint (scanner->pid_kind[AUDIO_PID], ==, MR_TS_PID_NOT_VIDEO);

  /* audio frames with the indicator, then the video key frame */
  packet_fill (data + 1 * TS, &(Packet) {.pid = AUDIO_PID,.rai = TRUE});
  packet_fill (data + 2 * TS, &(Packet) {.pid = AUDIO_PID,.rai = TRUE});
  packet_fill (data + 5 * TS, &(Packet) {.pid = VIDEO_PID,.rai = TRUE});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 5 * TS);
}

static void
test_pmt_hevc (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();
  guint8 pes[64];
  gsize len;

  learn_pmt (scanner, 0x24);
  g_assert_cmpint (scanner->pid_kind[VIDEO_PID], ==, MR_TS_PID_HEVC);

  /* TRAIL_R, and an H.264 IDR header (HEVC type 50) */
  len = pes_with_nal (pes, 0xe0, 0x02, 0x01);
  packet_fill (data + 1 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  len = pes_with_nal (pes, 0xe0, 0x65, 0x01);
  packet_fill (data + 2 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, -1);

  /* IDR_W_RADL (19) */
  len = pes_with_nal (pes, 0xe0, 19 << 1, 0x01);
  packet_fill (data + 4 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 4 * TS);

  /* a CRA (21), or the VPS (32) in front of an IRAP */
  len = pes_with_nal (pes, 0xe0, 21 << 1, 0x01);
  packet_fill (data + 4 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 4 * TS);
  len = pes_with_nal (pes, 0xe0, 32 << 1, 0x01);
  packet_fill (data + 3 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 3 * TS);
}

static void
test_pmt_mpeg2_video (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();
  const guint8 picture[] = { 0x00, 0x00, 0x01, 0x00, 0x01, 0x8f };
  const guint8 sequence[] = { 0x00, 0x00, 0x01, 0xb3, 0x2d, 0x01 };
  guint8 pes[64];
  gsize len;

  learn_pmt (scanner, 0x02);
  len = pes_build (pes, 0xe0, picture, sizeof (picture));
  packet_fill (data + 1 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, -1);

  len = pes_build (pes, 0xe0, sequence, sizeof (sequence));
  packet_fill (data + 6 * TS, &(Packet) {.pid = VIDEO_PID,.pusi = TRUE,
        .payload = pes,.payload_len = len});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, 6 * TS);
}

static void
test_learn_only (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  guint8 data[3 * TS];

  pat_fill (data);
  pmt_fill (data + TS, 0x1b);
  packet_fill (data + 2 * TS, &(Packet) {.pid = VIDEO_PID,.rai = TRUE});
  g_assert_cmpint (mr_ts_rap_scan (scanner, data, sizeof (data), TS, FALSE),
      ==, -1);
  g_assert_cmpint (scanner->pid_kind[VIDEO_PID], ==, MR_TS_PID_H264);
  g_assert_cmpint (scan (scanner, data, sizeof (data)), ==, 2 * TS);
}

static void
test_packet_size_192 (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  guint8 data[4 * 192];
  guint i;

  for (i = 0; i < 4; i++) {
    memset (data + i * 192, 0x47, 4);   /* timecodes that look like sync */
    packet_fill (data + i * 192 + 4, &(Packet) {.pid = VIDEO_PID,
          .rai = i == 3});
  }
  g_assert_cmpint (mr_ts_rap_scan (scanner, data, sizeof (data), 192, TRUE),
      ==, 3 * 192);
}

static void
test_lost_sync (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  guint8 data[1 + 3 * TS];

  data[0] = 0x00;
  packet_fill (data + 1, &(Packet) {.pid = VIDEO_PID});
  packet_fill (data + 1 + TS, &(Packet) {.pid = VIDEO_PID,.rai = TRUE});
  packet_fill (data + 1 + 2 * TS, &(Packet) {.pid = VIDEO_PID});
  g_assert_cmpint (scan (scanner, data, sizeof (data)), ==, 1 + TS);
  /* a partial packet at the end is not read */
  g_assert_cmpint (scan (scanner, data, 1 + 2 * TS - 1), ==, -1);
}

static void
test_transport_error (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  g_autofree guint8 *data = datagram_new ();

  packet_fill (data + 1 * TS, &(Packet) {.pid = VIDEO_PID,.rai = TRUE,
        .tei = TRUE});
  g_assert_cmpint (scan (scanner, data, DATAGRAM_PACKETS * TS), ==, -1);
}

static void
test_garbage_does_not_crash (void)
{
  g_autofree MrTsRapScanner *scanner = scanner_new ();
  guint8 data[DATAGRAM_PACKETS * TS];
  guint round, i;

  for (round = 0; round < 2000; round++) {
    gsize size = g_test_rand_int_range (0, sizeof (data) + 1);

    for (i = 0; i < sizeof (data); i++)
      data[i] = g_test_rand_int_range (0, 256);
    /* sync bytes where packets start, so that parsing goes deep */
    for (i = 0; i < DATAGRAM_PACKETS; i++)
      data[i * TS] = 0x47;
    if (round % 3 == 0)
      data[1] &= 0xe0;          /* PID 0: random PATs */
    mr_ts_rap_scan (scanner, data, size, TS, round % 2);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpegts-rap/nothing", test_nothing);
  g_test_add_func ("/mpegts-rap/rai-unknown-pid", test_rai_unknown_pid);
  g_test_add_func ("/mpegts-rap/rai-and-idr", test_rai_and_idr);
  g_test_add_func ("/mpegts-rap/h264/idr-without-rai",
      test_h264_idr_without_rai);
  g_test_add_func ("/mpegts-rap/h264/sps", test_h264_sps);
  g_test_add_func ("/mpegts-rap/h264/non-idr", test_h264_non_idr);
  g_test_add_func ("/mpegts-rap/unknown-pid-non-video-pes",
      test_unknown_pid_non_video_pes);
  g_test_add_func ("/mpegts-rap/pmt/audio-rai-ignored",
      test_pmt_audio_rai_ignored);
  g_test_add_func ("/mpegts-rap/pmt/hevc", test_pmt_hevc);
  g_test_add_func ("/mpegts-rap/pmt/mpeg2-video", test_pmt_mpeg2_video);
  g_test_add_func ("/mpegts-rap/learn-only", test_learn_only);
  g_test_add_func ("/mpegts-rap/packet-size-192", test_packet_size_192);
  g_test_add_func ("/mpegts-rap/lost-sync", test_lost_sync);
  g_test_add_func ("/mpegts-rap/transport-error", test_transport_error);
  g_test_add_func ("/mpegts-rap/garbage-does-not-crash",
      test_garbage_does_not_crash);

  return g_test_run ();
}
