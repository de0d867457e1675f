/* mroute: a flow's recordings on disk (recordings.h). */

#define G_LOG_DOMAIN "mroute-recordings"
#include "recordings.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

/* the random-access point scanner of our elements' plain-C library
 * (plugins/, mroute-logic): a library to the controller, as GLib is */
#include <mpegts-rap.h>

#define TS 188
#define PCR_HZ 27000000
#define PCR_WRAP ((G_GUINT64_CONSTANT (1) << 33) * 300)
/* how much of a file's head and tail is read for its first and last PCR */
#define PCR_PROBE_BYTES (TS * 512)
#define READ_CHUNK (TS * 128)
#define MAX_HEAD 8              /* PSI packets at a file's start */
/* a key frame this much before the end still ends the range: the PCR of
 * a key frame's first packet jitters by some milliseconds against the
 * frame rate, and a strict test gave a range one GOP too many (as
 * tssegmentsink's cut) */
#define END_TOLERANCE_US 100000

gboolean
mr_recording_name_parse (const gchar * name, gint64 * start)
{
  gint y, mo, d, h, mi, s, ms;
  gchar z[3] = { 0 };
  g_autoptr (GDateTime) t = NULL;

  /* 20261202T130501.123Z.ts */
  if (strlen (name) != 23 || !g_str_has_suffix (name, "Z.ts"))
    return FALSE;
  for (guint i = 0; i < 19; i++)
    if (i != 8 && i != 15 && !g_ascii_isdigit (name[i]))
      return FALSE;
  if (name[8] != 'T' || name[15] != '.')
    return FALSE;
  if (sscanf (name, "%4d%2d%2dT%2d%2d%2d.%3d%1[Z]", &y, &mo, &d, &h, &mi, &s,
          &ms, z) != 8)
    return FALSE;
  if (!(t = g_date_time_new_utc (y, mo, d, h, mi, s)))
    return FALSE;
  *start = g_date_time_to_unix (t) * G_USEC_PER_SEC + ms * 1000;
  return TRUE;
}

/* The PCR of a packet, in 27 MHz ticks, or FALSE */
static gboolean
packet_pcr (const guint8 * p, guint * pid, guint64 * pcr)
{
  guint64 base;

  if (p[0] != 0x47 || !(p[3] & 0x20) || p[4] < 7 || !(p[5] & 0x10))
    return FALSE;
  base = ((guint64) p[6] << 25) | ((guint64) p[7] << 17) |
      ((guint64) p[8] << 9) | ((guint64) p[9] << 1) | (p[10] >> 7);
  *pcr = base * 300 + (((p[10] & 1) << 8) | p[11]);
  *pid = ((p[1] & 0x1f) << 8) | p[2];
  return TRUE;
}

static gint64
pcr_span_us (guint64 from, guint64 to)
{
  return (gint64) (((to + PCR_WRAP - from) % PCR_WRAP) / (PCR_HZ /
          G_USEC_PER_SEC));
}

/* The first (@last: the last) PCR of the PCR PID in @data */
static gboolean
find_pcr (const guint8 * data, gsize len, gboolean last, gint * pcr_pid,
    guint64 * out)
{
  gboolean found = FALSE;

  for (gsize off = 0; off + TS <= len; off += TS) {
    guint pid;
    guint64 pcr;

    if (!packet_pcr (data + off, &pid, &pcr))
      continue;
    if (*pcr_pid >= 0 && (gint) pid != *pcr_pid)
      continue;
    *pcr_pid = pid;
    *out = pcr;
    found = TRUE;
    if (!last)
      break;
  }
  return found;
}

/* From the span of the file's PCRs */
static gint64
file_duration (const gchar * path)
{
  FILE *f = g_fopen (path, "rb");
  g_autofree guint8 *buf = g_malloc (PCR_PROBE_BYTES);
  gint pcr_pid = -1;
  guint64 first, last;
  gint64 size, tail;
  gsize n;
  gint64 duration = 0;

  if (!f)
    return 0;
  n = fread (buf, 1, PCR_PROBE_BYTES, f);
  if (find_pcr (buf, n, FALSE, &pcr_pid, &first)
      && fseek (f, 0, SEEK_END) == 0 && (size = ftell (f)) > 0) {
    tail = MAX (0, (size / TS) * TS - PCR_PROBE_BYTES);
    if (fseek (f, tail, SEEK_SET) == 0) {
      n = fread (buf, 1, PCR_PROBE_BYTES, f);
      if (find_pcr (buf, n, TRUE, &pcr_pid, &last))
        duration = pcr_span_us (first, last);
    }
  }
  fclose (f);
  return duration;
}

static void
segment_free (MrRecordingSegment * s)
{
  g_free (s->path);
  g_free (s);
}

static gint
segment_cmp (gconstpointer a, gconstpointer b)
{
  const MrRecordingSegment *sa = *(MrRecordingSegment * const *) a;
  const MrRecordingSegment *sb = *(MrRecordingSegment * const *) b;

  return sa->start < sb->start ? -1 : sa->start > sb->start;
}

GPtrArray *
mr_recordings_scan (const gchar * dir)
{
  GPtrArray *segments =
      g_ptr_array_new_with_free_func ((GDestroyNotify) segment_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return segments;
  while ((name = g_dir_read_name (d))) {
    MrRecordingSegment *s;
    gint64 start;

    if (!mr_recording_name_parse (name, &start))
      continue;
    s = g_new0 (MrRecordingSegment, 1);
    s->path = g_build_filename (dir, name, NULL);
    s->start = start;
    s->duration = file_duration (s->path);
    g_ptr_array_add (segments, s);
  }
  g_dir_close (d);
  g_ptr_array_sort (segments, segment_cmp);
  return segments;
}

GArray *
mr_recordings_ranges (GPtrArray * segments)
{
  GArray *ranges = g_array_new (FALSE, FALSE, sizeof (MrRecordingRange));

  for (guint i = 0; i < segments->len; i++) {
    MrRecordingSegment *s = segments->pdata[i];
    MrRecordingRange *last = ranges->len ?
        &g_array_index (ranges, MrRecordingRange, ranges->len - 1) : NULL;

    if (last && s->start <= last->start + last->duration +
        MR_RECORDING_GAP_TOLERANCE_US) {
      last->duration = MAX (last->duration,
          s->start + s->duration - last->start);
    } else {
      MrRecordingRange r = { s->start, s->duration };
      g_array_append_val (ranges, r);
    }
  }
  return ranges;
}

guint
mr_recordings_delete_before (const gchar * dir, gint64 before)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint n = 0;

  if (!d)
    return 0;
  while ((name = g_dir_read_name (d))) {
    gint64 start;
    g_autofree gchar *path = NULL;

    if (!mr_recording_name_parse (name, &start) || start >= before)
      continue;
    path = g_build_filename (dir, name, NULL);
    if (g_unlink (path) == 0)
      n++;
    else
      g_warning ("could not delete %s: %s", path, g_strerror (errno));
  }
  g_dir_close (d);
  return n;
}

/* ---------------------------------------------------------------------- */
/* the reader */

struct _MrRecordingReader
{
  GPtrArray *segments;          /* ref */
  guint index;                  /* the segment being read */
  FILE *file;
  MrTsRapScanner scanner;
  /* PCR of this file */
  gint pcr_pid;
  gboolean have_pcr;
  guint64 first_pcr, pcr;
  /* the first segment's tables, given before its key frame */
  guint8 head[MAX_HEAD * TS];
  guint n_head, head_given;
  gboolean started;
  gint64 begin;                 /* time of the first key frame given */
  gint64 end;                   /* stop at a key frame from then on */
  gboolean done;
  guint8 chunk[READ_CHUNK];
  gsize chunk_len, chunk_off;
};

/* The time of @pkt in segment @s, after the PCRs up to it */
static gint64
packet_time (MrRecordingReader * r, const MrRecordingSegment * s,
    const guint8 * pkt)
{
  guint pid;
  guint64 pcr;

  if (packet_pcr (pkt, &pid, &pcr) && (r->pcr_pid < 0
          || (gint) pid == r->pcr_pid)) {
    r->pcr_pid = pid;
    if (!r->have_pcr)
      r->first_pcr = pcr;
    r->have_pcr = TRUE;
    r->pcr = pcr;
  }
  return s->start + (r->have_pcr ? pcr_span_us (r->first_pcr, r->pcr) : 0);
}

static gboolean
is_rap (MrRecordingReader * r, const guint8 * pkt)
{
  return mr_ts_rap_scan (&r->scanner, pkt, TS, TS, TRUE) == 0;
}

static void
reset_file_state (MrRecordingReader * r)
{
  r->pcr_pid = -1;
  r->have_pcr = FALSE;
  r->chunk_len = r->chunk_off = 0;
}

/* The next packet of the current file, or NULL at its end */
static const guint8 *
next_packet (MrRecordingReader * r, GError ** error)
{
  const guint8 *p;

  if (r->chunk_off + TS > r->chunk_len) {
    r->chunk_len = fread (r->chunk, 1, READ_CHUNK, r->file);
    r->chunk_off = 0;
    if (r->chunk_len < TS) {
      if (ferror (r->file))
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
            "cannot read a recording: %s", g_strerror (errno));
      return NULL;
    }
  }
  p = r->chunk + r->chunk_off;
  r->chunk_off += TS;
  return p;
}

static gboolean
open_segment (MrRecordingReader * r, guint index, GError ** error)
{
  const MrRecordingSegment *s = r->segments->pdata[index];

  if (r->file)
    fclose (r->file);
  r->index = index;
  reset_file_state (r);
  if (!(r->file = g_fopen (s->path, "rb"))) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot open a recording: %s", g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

MrRecordingReader *
mr_recording_reader_new (GPtrArray * segments, gint64 start,
    gint64 duration, GError ** error)
{
  g_autoptr (MrRecordingReader) r = g_new0 (MrRecordingReader, 1);
  const MrRecordingSegment *s = NULL;
  gint found = -1;
  glong rap_packet = -1, n = 0;
  gint64 rap_time = 0;
  const guint8 *pkt;
  gboolean in_head = TRUE;

  r->segments = g_ptr_array_ref (segments);
  mr_ts_rap_scanner_init (&r->scanner);
  for (guint i = 0; i < segments->len; i++) {
    s = segments->pdata[i];
    if (s->start <= start
        && start < s->start + s->duration + MR_RECORDING_GAP_TOLERANCE_US)
      found = i;
  }
  if (found < 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "no recording holds that start");
    return NULL;
  }
  s = segments->pdata[found];
  /* the last key frame at or before start, and the tables in front */
  if (!open_segment (r, found, error))
    return NULL;
  while ((pkt = next_packet (r, error))) {
    gint64 t = packet_time (r, s, pkt);
    guint pid = ((pkt[1] & 0x1f) << 8) | pkt[2];
    gboolean rap = is_rap (r, pkt);

    if (in_head && r->scanner.pid_kind[pid] == MR_TS_PID_PSI
        && r->n_head < MAX_HEAD)
      memcpy (r->head + TS * r->n_head++, pkt, TS);
    else
      in_head = FALSE;
    if (rap && (t <= start || rap_packet < 0)) {
      rap_packet = n;
      rap_time = t;
    }
    if (t > start && rap_packet >= 0)
      break;
    n++;
  }
  if (error && *error)
    return NULL;
  if (rap_packet < 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "no key frame in the recording at that start");
    return NULL;
  }
  /* again, from the key frame, with the PCR state it had there */
  if (!open_segment (r, found, error))
    return NULL;
  for (glong i = 0; i < rap_packet; i++) {
    if (!(pkt = next_packet (r, error)))
      return NULL;
    packet_time (r, s, pkt);
  }
  if (rap_packet < (glong) r->n_head)
    r->n_head = 0;              /* the key frame is right behind them */
  r->begin = rap_time;
  r->end = rap_time + duration;
  return g_steal_pointer (&r);
}

gint64
mr_recording_reader_start (MrRecordingReader * r)
{
  return r->begin;
}

gssize
mr_recording_reader_read (MrRecordingReader * r, guint8 * buf, gsize size,
    GError ** error)
{
  gsize len = 0;

  while (!r->done && len + TS <= size) {
    const MrRecordingSegment *s = r->segments->pdata[r->index];
    const guint8 *pkt;
    gint64 t;

    if (r->head_given < r->n_head) {
      memcpy (buf + len, r->head + TS * r->head_given++, TS);
      len += TS;
      continue;
    }
    if (!(pkt = next_packet (r, error))) {
      const MrRecordingSegment *next;

      if (error && *error)
        return -1;
      /* the next segment, if it goes on from this one */
      next = r->index + 1 < r->segments->len ?
          r->segments->pdata[r->index + 1] : NULL;
      if (!next || next->start > s->start + s->duration +
          MR_RECORDING_GAP_TOLERANCE_US) {
        r->done = TRUE;
        break;
      }
      if (!open_segment (r, r->index + 1, error))
        return -1;
      continue;
    }
    t = packet_time (r, s, pkt);
    if (is_rap (r, pkt) && r->started && t + END_TOLERANCE_US >= r->end) {
      r->done = TRUE;
      break;
    }
    r->started = TRUE;
    memcpy (buf + len, pkt, TS);
    len += TS;
  }
  return len;
}

void
mr_recording_reader_free (MrRecordingReader * r)
{
  if (!r)
    return;
  if (r->file)
    fclose (r->file);
  if (r->segments)
    g_ptr_array_unref (r->segments);
  g_free (r);
}
