/* mroute: the monitor's in-place MPEG-TS reader (controller/monitor/
 * ts-reader.c) on real streams: tiny MPEG-TS files written by ffmpeg
 * (tests/unit/ts-reader-data.h, made by make-ts-reader-data.py), checked
 * against what ffprobe says of them: codecs, profiles as the API spells
 * them, sizes, frame rates, audio formats, and the type and key frame flag
 * of every picture in decode order.  Then the same streams joined midway,
 * one program after another, cut short, damaged, and the bit rate. */

#include <glib.h>
#include <string.h>

#include "monitor/profile-names.h"
#include "monitor/ts-reader.h"

#include "ts-reader-data.h"

#define TS MR_TS_PACKET_SIZE

static MrTsStream *
find (MrTsReader * r, gboolean video)
{
  for (guint i = 0; i < r->streams->len; i++) {
    MrTsStream *st = r->streams->pdata[i];
    if (st->video == video)
      return st;
  }
  return NULL;
}

static gchar
type_letter (MrFrameType t)
{
  return t == MR_FRAME_I ? 'I' : t == MR_FRAME_P ? 'P' : t == MR_FRAME_B ?
      'B' : '?';
}

typedef struct
{
  GString *types, *keys;
} Pictures;

static void
on_picture (MrTsReader * r, MrTsStream * st, MrFrameType type,
    gboolean keyframe, gpointer user_data)
{
  Pictures *p = user_data;

  g_string_append_c (p->types, type_letter (type));
  g_string_append_c (p->keys, keyframe ? '1' : '0');
}

/* Feeds @s packet by packet, twice (ffmpeg's video PES have no length:
 * the last picture is complete when the next PES starts); the pictures
 * counted, in order, as letters and key frame flags; the GOP statistics
 * add up to them */
static void
read_sample (MrTsReader * r, const TsSample * s, GString * types,
    GString * keys)
{
  Pictures p = { types, keys };
  MrTsStream *v;
  guint64 sum = 0;

  r->picture_func = on_picture;
  r->picture_data = &p;
  for (guint round = 0; round < 2; round++)
    for (gsize off = 0; off + TS <= s->size; off += TS)
      mr_ts_reader_packet (r, s->data + off, 1000 + off);
  v = find (r, TRUE);
  for (guint t = 0; t < 4; t++)
    sum += v->gop.frames[t];
  g_assert_cmpuint (sum, ==, types->len);
  for (guint t = MR_FRAME_I; t <= MR_FRAME_B; t++) {
    guint n = 0;

    for (const gchar * c = types->str; *c; c++)
      n += *c == type_letter (t);
    g_assert_cmpuint (v->gop.frames[t], ==, n);
  }
  r->picture_func = NULL;
}

static void
check_parameters (MrTsReader * r, const TsSample * s)
{
  MrTsStream *v = find (r, TRUE), *a = find (r, FALSE);
  g_autofree gchar *vp = NULL, *ap = NULL;

  g_assert_cmpuint (r->programs->len, ==, 1);
  g_assert_cmpuint (g_array_index (r->programs, guint, 0), ==, 1);
  g_assert_cmpint (r->unsupported, ==, !s->supported);
  g_assert_nonnull (v);
  g_assert_cmpstr (v->codec_name, ==, s->video_codec);
  vp = mr_profile_name (v->media_type, v->profile);
  g_assert_cmpstr (vp, ==, s->video_profile);
  g_assert_cmpint (v->width, ==, s->width);
  g_assert_cmpint (v->height, ==, s->height);
  g_assert_cmpint (v->fps_n, ==, s->fps_n);
  g_assert_cmpint (v->fps_d, ==, s->fps_d);
  g_assert_true (v->known);
  if (!s->supported) {
    /* the AC-3 stream is not one of the reader's */
    g_assert_null (a);
    return;
  }
  g_assert_nonnull (a);
  g_assert_cmpstr (a->codec_name, ==, s->audio_codec);
  ap = mr_profile_name (a->media_type, a->profile);
  g_assert_cmpstr (ap, ==, s->audio_profile);
  g_assert_cmpint (a->channels, ==, s->channels);
  g_assert_cmpint (a->sample_rate, ==, s->sample_rate);
  g_assert_cmpint (a->known, ==, s->sample_rate != 0);
}

static void
test_samples (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (samples); i++) {
    const TsSample *s = &samples[i];
    MrTsReader r;
    g_autoptr (GString) types = g_string_new (NULL);
    g_autoptr (GString) keys = g_string_new (NULL);
    MrTsStream *v;

    g_test_message ("%s", s->name);
    mr_ts_reader_init (&r);
    read_sample (&r, s, types, keys);
    check_parameters (&r, s);
    /* every picture, in decode order, as ffprobe types it */
    g_assert_cmpuint (types->len, >=, strlen (s->types) * 2 - 1);
    g_string_truncate (types, strlen (s->types));
    g_string_truncate (keys, strlen (s->keyframes));
    g_assert_cmpstr (types->str, ==, s->types);
    g_assert_cmpstr (keys->str, ==, s->keyframes);
    v = find (&r, TRUE);
    g_assert_cmpuint (v->gop.gop_length, ==, 10);
    g_assert_cmpuint (v->gop.keyframes, ==, 6);
    mr_ts_reader_clear (&r);
  }
}

/* The first third skipped (a flow joins a live stream): the PAT and PMT
 * come again, then the next SPS and key frame */
static void
test_joined_midway (void)
{
  const TsSample *s = &samples[0];
  gsize start = s->size / 3 / TS * TS;
  MrTsReader r;
  MrTsStream *v;

  mr_ts_reader_init (&r);
  mr_ts_reader_data (&r, s->data + start, s->size - start, 0);
  check_parameters (&r, s);
  v = find (&r, TRUE);
  g_assert_cmpuint (v->gop.keyframes, >=, 1);
  mr_ts_reader_clear (&r);
}

/* One stream after another on the same PIDs, a new PMT: new streams */
static void
test_program_change (void)
{
  MrTsReader r;
  guint generation;
  MrTsStream *v;

  mr_ts_reader_init (&r);
  mr_ts_reader_data (&r, samples[0].data, samples[0].size, 0);
  generation = r.generation;
  v = find (&r, TRUE);
  g_assert_cmpstr (v->codec_name, ==, "h264");
  mr_ts_reader_data (&r, samples[1].data, samples[1].size, 0);
  g_assert_cmpuint (r.generation, >, generation);
  check_parameters (&r, &samples[1]);
  v = find (&r, TRUE);
  /* counted from the new PMT on */
  g_assert_cmpuint (v->gop.keyframes, ==, 3);
  /* the same stream again keeps its streams (the same PMT) */
  generation = r.generation;
  mr_ts_reader_data (&r, samples[1].data, samples[1].size, 0);
  g_assert_cmpuint (r.generation, ==, generation);
  g_assert_cmpuint (find (&r, TRUE)->gop.keyframes, ==, 6);
  mr_ts_reader_clear (&r);
}

/* Bits per second of the elementary streams, over 2 s windows: the
 * sample fed twice in 2.5 s of "time" */
static void
test_bit_rate (void)
{
  const TsSample *s = &samples[0];
  MrTsReader r;
  MrTsStream *v;
  gsize n = s->size / TS;

  mr_ts_reader_init (&r);
  for (guint round = 0; round < 3; round++)
    for (gsize i = 0; i < n; i++)
      mr_ts_reader_packet (&r, s->data + i * TS, 1 + (round * n + i) *
          G_USEC_PER_SEC / n);
  v = find (&r, TRUE);
  /* the video is ffmpeg's 30 kbit/s, the whole TS a little more */
  g_assert_cmpuint (v->bit_rate, >, 5000);
  g_assert_cmpuint (v->bit_rate, <, s->size * 8);
  g_assert_cmpuint (find (&r, FALSE)->bit_rate, >, 20000);
  g_assert_cmpint (v->last_data, >, G_USEC_PER_SEC);
  mr_ts_reader_clear (&r);
}

/* Cut at every length, damaged bytes, packets without sync: nothing
 * breaks (and valgrind sees no bad read), nothing is made up */
static void
test_bad_input (void)
{
  const TsSample *s = &samples[0];
  GRand *rand = g_rand_new_with_seed (14);
  guint8 *copy = g_memdup2 (s->data, s->size);
  MrTsReader r;

  /* cut short: whole packets only are read */
  mr_ts_reader_init (&r);
  for (gsize cut = 0; cut < 3 * TS; cut += 37)
    mr_ts_reader_data (&r, s->data, cut, 0);
  mr_ts_reader_clear (&r);

  for (guint round = 0; round < 20; round++) {
    memcpy (copy, s->data, s->size);
    for (guint k = 0; k < 200 + round * 50; k++)
      copy[g_rand_int_range (rand, 0, s->size)] = g_rand_int (rand);
    mr_ts_reader_init (&r);
    mr_ts_reader_data (&r, copy, s->size, 0);
    for (guint i = 0; i < r.streams->len; i++) {
      MrTsStream *st = r.streams->pdata[i];
      guint64 sum = 0;

      g_assert_cmpint (st->width, >=, 0);
      g_assert_cmpint (st->fps_n, >=, 0);
      for (guint t = 0; t < 4; t++)
        sum += st->gop.frames[t];
      g_assert_cmpuint (st->gop.keyframes, <=, sum);
    }
    mr_ts_reader_clear (&r);
  }
  /* no sync byte anywhere: nothing at all */
  memset (copy, 0x11, s->size);
  mr_ts_reader_init (&r);
  mr_ts_reader_data (&r, copy, s->size, 0);
  g_assert_cmpuint (r.programs->len, ==, 0);
  g_assert_cmpuint (r.streams->len, ==, 0);
  mr_ts_reader_clear (&r);
  g_free (copy);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts-reader/samples", test_samples);
  g_test_add_func ("/ts-reader/joined-midway", test_joined_midway);
  g_test_add_func ("/ts-reader/program-change", test_program_change);
  g_test_add_func ("/ts-reader/bit-rate", test_bit_rate);
  g_test_add_func ("/ts-reader/bad-input", test_bad_input);
  return g_test_run ();
}
