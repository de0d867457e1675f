/* mroute: HLS output.  The TS as it came in, cut at key frames into
 * segments by our tssegmentsink (plugins/gsttssegmentsink.c), with a live
 * playlist, in the output's own folder (<data>/hls/<flow>/<output>/) that
 * the API serves at /hls/{flow}/{output}/index.m3u8.  hlssink2 would
 * demux and re-mux: not the TS that came in.
 *
 *   output: tssegmentsink, in an isolated branch */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

#include <errno.h>
#include <glib/gstdio.h>

#define HLS_DEFAULT_SEGMENT_DURATION 2  /* s */
#define HLS_DEFAULT_WINDOW 6    /* segments in the playlist */
/* segments kept on disk beyond the playlist's window, for a player that
 * read the playlist just before it slid (RFC 8216, 6.2.2) */
#define HLS_EXTRA_FILES 2

static GstElement *
make_output (const MrEndpoint * out, const gchar * dir, GError ** error)
{
  GstElement *sink;
  g_autofree gchar *playlist = NULL;
  guint window = out->window > 0 ? out->window : HLS_DEFAULT_WINDOW;

  /* what an earlier run of the output left is not this stream's */
  mr_transport_remove_files (dir);
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, MR_TRANSPORT_ERROR, 0, "output '%s': cannot make "
        "its folder %s: %s", out->name, dir, g_strerror (errno));
    return NULL;
  }
  if (!(sink = mr_transport_make ("tssegmentsink", "sink", error)))
    return NULL;
  playlist = g_build_filename (dir, "index.m3u8", NULL);
  g_object_set (sink, "directory", dir, "playlist-location", playlist,
      "target-duration", out->segment_duration > 0 ?
      (guint) out->segment_duration : HLS_DEFAULT_SEGMENT_DURATION,
      "playlist-length", window, "max-files", window + HLS_EXTRA_FILES,
      "enable-last-sample", FALSE, NULL);
  return sink;
}

/* what the branch was handed, written or not */
static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  g_autoptr (GstStructure) s = NULL;
  gboolean failed = FALSE;

  g_object_get (reading->sink, "stats", &s, NULL);
  gst_structure_get_boolean (s, "failed", &failed);
  stats->connected = reading->in_branch && !reading->failed && !failed;
  stats->bytes_sent = reading->branch_bytes;
  stats->packets_sent = reading->branch_packets;
  return TRUE;
}

const MrTransport mr_transport_hls = {
  .protocol = MR_PROTOCOL_HLS,
  .output_kind = MR_TRANSPORT_OUTPUT_BRANCH,
  .make_output = make_output,
  .writes_files = TRUE,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,
};
