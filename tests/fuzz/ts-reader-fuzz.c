/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A libFuzzer target for the monitor's in-place MPEG-TS reader
 * (controller/monitor/ts-reader.c: PAT and PMT sections, PES heads,
 * codecparsers' H.264 and HEVC NAL units and parameter sets, the frame
 * types of frame-types.c, ADTS and MPEG audio headers).
 *
 * Input: MPEG-TS bytes; every whole 188-byte packet is read, at a time
 * that grows 1 ms a packet.  Beyond memory errors and undefined behaviour
 * it aborts, with a line saying which, when:
 *
 *  - the same bytes read by a second reader in one call
 *    (mr_ts_reader_data) give other programs, streams, parameters or GOP
 *    statistics than packet by packet (mr_ts_reader_packet);
 *  - a stream's parameters are out of range: a negative size, a frame
 *    rate with a zero term, a sample rate that is none of the ADTS or MPEG
 *    audio rates;
 *  - the pictures the reader reports (its picture callback) are not the
 *    sum of its GOP counters, or keyframes outnumber them;
 *  - a stream appears that the PMT could not hold (more than 1021 / 5).
 *
 * The standalone driver (no libFuzzer) mutates the real samples of
 * tests/unit/ts-reader-data.h: bytes changed, packets dropped or
 * repeated, the stream cut anywhere. */

#include "monitor/ts-reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define TS MR_TS_PACKET_SIZE

#define CHECK(cond, ...) G_STMT_START {                                 \
    if (G_UNLIKELY (!(cond))) {                                          \
      fprintf (stderr, "ts-reader-fuzz: invariant broken: " __VA_ARGS__); \
      fprintf (stderr, "\n  (%s, line %d)\n", #cond, __LINE__);          \
      abort ();                                                          \
    }                                                                    \
  } G_STMT_END

static void
count_picture (MrTsReader * r, MrTsStream * st, MrFrameType type,
    gboolean keyframe, gpointer user_data)
{
  CHECK (type <= MR_FRAME_B, "picture type %d", type);
  (*(guint64 *) user_data)++;
}

static gboolean
known_rate (gint rate)
{
  static const gint rates[] = { 96000, 88200, 64000, 48000, 44100, 32000,
    24000, 22050, 16000, 12000, 11025, 8000, 7350
  };

  if (rate == 0)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    if (rates[i] == rate)
      return TRUE;
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  MrTsReader a, b;
  guint64 pictures = 0, counted = 0;
  gsize n = size / TS;

  mr_ts_reader_init (&a);
  mr_ts_reader_init (&b);
  a.picture_func = count_picture;
  a.picture_data = &pictures;
  for (gsize i = 0; i < n; i++)
    mr_ts_reader_packet (&a, data + i * TS, 1000 * (gint64) (i + 1));
  /* one call, one time: the same streams and counts (not the bit rates) */
  mr_ts_reader_data (&b, data, size, 1000);

  CHECK (a.programs->len == b.programs->len, "programs %u vs %u",
      a.programs->len, b.programs->len);
  CHECK (a.streams->len == b.streams->len, "streams %u vs %u",
      a.streams->len, b.streams->len);
  CHECK (a.streams->len <= 1021 / 5, "%u streams", a.streams->len);
  CHECK (a.unsupported == b.unsupported, "unsupported");
  for (guint i = 0; i < a.streams->len; i++) {
    MrTsStream *s = a.streams->pdata[i], *t = b.streams->pdata[i];

    CHECK (s->pid == t->pid && s->stream_type == t->stream_type,
        "stream %u", i);
    CHECK (s->width == t->width && s->height == t->height
        && s->fps_n == t->fps_n && s->fps_d == t->fps_d
        && s->channels == t->channels && s->sample_rate == t->sample_rate
        && s->known == t->known, "parameters of stream %u", i);
    CHECK (g_strcmp0 (s->profile, t->profile) == 0
        && g_strcmp0 (s->codec_name, t->codec_name) == 0, "names %u", i);
    CHECK (memcmp (&s->gop, &t->gop, sizeof (s->gop)) == 0, "GOP of %u", i);
    CHECK (s->width >= 0 && s->height >= 0 && s->channels >= 0,
        "negative size or channels");
    CHECK ((s->fps_n == 0) == (s->fps_d == 0) && s->fps_n >= 0
        && s->fps_d >= 0, "frame rate %d/%d", s->fps_n, s->fps_d);
    CHECK (known_rate (s->sample_rate), "sample rate %d", s->sample_rate);
    for (guint k = 0; k < 4; k++)
      counted += s->gop.frames[k];
    CHECK (s->gop.keyframes <= s->gop.frames[MR_FRAME_I] +
        s->gop.frames[MR_FRAME_P] + s->gop.frames[MR_FRAME_B],
        "keyframes %" G_GUINT64_FORMAT, s->gop.keyframes);
  }
  /* a new PMT drops streams and their counts: at most what was reported */
  CHECK (counted <= pictures, "GOP counters %" G_GUINT64_FORMAT
      " > pictures %" G_GUINT64_FORMAT, counted, pictures);
  if (a.generation <= 1)
    CHECK (counted == pictures, "GOP counters %" G_GUINT64_FORMAT
        " != pictures %" G_GUINT64_FORMAT, counted, pictures);
  mr_ts_reader_clear (&a);
  mr_ts_reader_clear (&b);
  return 0;
}

#ifdef MR_FUZZ_STANDALONE
#include "standalone.h"

#include "../unit/ts-reader-data.h"

#define MAX_PACKETS 400

static gsize
random_stream (guint8 * buf, gsize max_len)
{
  const TsSample *s = &samples[mr_fuzz_random () % G_N_ELEMENTS (samples)];
  gsize n = s->size / TS, start = mr_fuzz_random () % n, len = 0;
  guint damage = mr_fuzz_random () % 4;

  while (len + TS <= max_len && start < n) {
    guint r = mr_fuzz_random () % 64;

    if (r == 0) {               /* a packet lost */
      start++;
      continue;
    }
    memcpy (buf + len, s->data + start * TS, TS);
    if (r != 1)                 /* else the same packet again */
      start++;
    len += TS;
  }
  /* bytes changed: a few, or many */
  for (guint k = 0; k < (damage == 3 ? 2000 : damage * 8); k++)
    if (len)
      buf[mr_fuzz_random () % len] = mr_fuzz_random ();
  /* cut anywhere */
  if (mr_fuzz_random () % 4 == 0 && len)
    len -= mr_fuzz_random () % MIN (len, 3 * TS);
  return len;
}

const MrFuzzStandalone mr_fuzz_standalone = {
  .name = "ts-reader",
  .runs_env = "TS_READER_FUZZ_RUNS",
  .runs = 300,
  .runs_valgrind = 40,
  .max_len = MAX_PACKETS * TS,
  .random_input = random_stream,
};
#endif /* MR_FUZZ_STANDALONE */
