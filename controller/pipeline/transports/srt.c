/* mroute: SRT, listener and caller, with AES-128/192/256.  Secrets go in
 * properties, never in the URI, which ends up in debug logs.
 *
 *   source: srtsrc ! capsfilter (TS) ! packetstats
 *           (a listener with a stream id: srtroutesrc, whose port other
 *           such sources, of this flow or others, may share)
 *   output: srtsink, in an isolated branch */

#define G_LOG_DOMAIN "mroute-transport"
#include "transport.h"

#include <string.h>

#include "srt-stats.h"

/* how long an SRT element waits on its socket before it looks whether it
 * is being stopped */
#define SRT_POLL_TIMEOUT_MS 100
/* an SRT caller sends all the time (TS with its PCRs, SRT's own
 * keep-alives): silent this long, it is gone */
#define SRT_LISTENER_SILENCE_MS 1000

static gint
srt_key_length (const gchar * cipher)
{
  if (g_strcmp0 (cipher, "aes192") == 0)
    return 24;
  if (g_strcmp0 (cipher, "aes256") == 0)
    return 32;
  return 16;
}

/* Configures an srtsrc or srtsink; secrets go in properties, never in the
 * URI, which ends up in debug logs. */
static void
configure_srt (GstElement * e, const MrEndpoint * ep, gboolean listener)
{
  g_autoptr (GString) uri = g_string_new (NULL);
  g_autofree gchar *keylen = NULL;

  /* the mode must come with the URI: it decides whether the URI's address
   * is the local or the remote one */
  if (listener) {
    gint port = ep->role == MR_ENDPOINT_SOURCE ? ep->ingest_port : ep->port;
    g_string_printf (uri, "srt://%s:%d?mode=listener", ep->ingest_address ?
        ep->ingest_address : "0.0.0.0", port);
  } else {
    g_string_printf (uri, "srt://%s:%d?mode=caller", ep->destination,
        ep->port);
  }
  /* max_bitrate is libsrt's SRTO_MAXBW, in bytes/s as the original's
   * `maxbw`: srtsrc and srtsink have no property for it, but set any
   * socket option their URI's query names (gstsrtobject.c, srt_options).
   * It caps what the socket sends, retransmissions included: an output's
   * stream; on a source only SRT's control packets, the sender's maxbw
   * being the one that caps the stream (docs/protocols.md).  0 leaves
   * libsrt's default, no cap (SRT's own maxbw=0 would mean "relative to
   * the input rate"). */
  if (ep->max_bitrate > 0)
    g_string_append_printf (uri, "&maxbw=%" G_GINT64_FORMAT, ep->max_bitrate);
  g_object_set (e, "uri", uri->str, NULL);
  /* srtsrc and srtsink wait for their socket without a timeout by default,
   * and stopping them only wakes the listening socket's wait: a source
   * whose caller vanished held the main thread in its state change until
   * libsrt gave the peer up (5 s), with the old socket still accepting
   * the next caller.  A bounded wait makes every stop prompt. */
  g_object_set (e, "poll-timeout", SRT_POLL_TIMEOUT_MS, NULL);
  /* SRT's latency is the least a peer may agree to (libsrt takes the
   * larger of the two peers'): the original's min_latency and our
   * max_latency both ask for at least that much, so the larger wins */
  if (MAX (ep->max_latency, ep->min_latency) >= 0)
    g_object_set (e, "latency", MAX (ep->max_latency, ep->min_latency),
        NULL);
  if (ep->stream_id)
    g_object_set (e, "streamid", ep->stream_id, NULL);
  if (ep->cipher && ep->passphrase) {
    keylen = g_strdup_printf ("%d", srt_key_length (ep->cipher));
    g_object_set (e, "passphrase", ep->passphrase, NULL);
    gst_util_set_object_arg (G_OBJECT (e), "pbkeylen", keylen);
  }
}

/* A listener source with a stream id is our srtroutesrc
 * (plugins/gstsrtroutesrc.c): one SRT socket per port shared by every
 * such source, the caller routed by its stream id and refused, unknown
 * or with a wrong passphrase, before any media flows.  srtsrc (1.22)
 * binds a socket of its own and has one passphrase, so two of them
 * cannot share a port. */
static gboolean
is_routed (const MrEndpoint * src)
{
  return src->role == MR_ENDPOINT_SOURCE
      && src->protocol == MR_PROTOCOL_SRT_LISTENER && src->stream_id;
}

static GstElement *
make_routed_source (const MrEndpoint * src, GError ** error)
{
  GstElement *e = mr_transport_make ("srtroutesrc", "srtroutesrc", error);

  if (!e)
    return NULL;
  g_object_set (e, "port", src->ingest_port, "streamid", src->stream_id,
      NULL);
  if (src->ingest_address)
    g_object_set (e, "address", src->ingest_address, NULL);
  if (MAX (src->max_latency, src->min_latency) >= 0)
    g_object_set (e, "latency", MAX (src->max_latency, src->min_latency),
        NULL);
  if (src->cipher && src->passphrase)
    g_object_set (e, "passphrase", src->passphrase, "pbkeylen",
        srt_key_length (src->cipher), NULL);
  g_object_set (e, "do-timestamp", TRUE, NULL);
  return e;
}

/* srtsrc (or srtroutesrc) ! capsfilter(TS) ! packetstats */
static gboolean
build_source (GstBin * bin, const MrEndpoint * src, gboolean rtp_out,
    GstElement ** stats, GstElement ** last, GError ** error)
{
  gboolean listener = src->protocol == MR_PROTOCOL_SRT_LISTENER;

  if (is_routed (src)) {
    GstElement *routed = make_routed_source (src, error);
    GstElement *filter = routed ? mr_transport_make ("capsfilter", "tscaps",
        error) : NULL;
    g_autoptr (GstCaps) caps = gst_caps_from_string (MR_TS_CAPS);

    if (!filter || !(*stats = mr_transport_make ("packetstats", "stats",
                error))) {
      g_clear_object (&routed);
      g_clear_object (&filter);
      return FALSE;
    }
    /* its caller silent this long is taken for gone (a source_error
     * event); the route takes the next caller by itself, no restart:
     * source_takes_next_caller below */
    g_object_set (*stats, "idle-timeout", SRT_LISTENER_SILENCE_MS, NULL);
    g_object_set (filter, "caps", caps, NULL);
    gst_bin_add_many (bin, routed, filter, *stats, NULL);
    gst_element_link_many (routed, filter, *stats, NULL);
    *last = *stats;
    return TRUE;
  }
  GstElement *srtsrc = mr_transport_make ("srtsrc", "srtsrc", error);
  GstElement *filter = mr_transport_make ("capsfilter", "tscaps", error);
  g_autoptr (GstCaps) caps = gst_caps_from_string (MR_TS_CAPS);

  if (!srtsrc || !filter || !(*stats = mr_transport_make ("packetstats", "stats", error))) {
    g_clear_object (&srtsrc);
    g_clear_object (&filter);
    return FALSE;
  }
  configure_srt (srtsrc, src, listener);
  /* a listener's caller silent this long is taken for gone (the flow
   * then listens anew: restart_silent_source below) */
  if (listener)
    g_object_set (*stats, "idle-timeout", SRT_LISTENER_SILENCE_MS, NULL);
  /* a caller that drops is waited for again, a listener we call is called
   * again: the flow goes on */
  if (listener)
    g_object_set (srtsrc, "keep-listening", TRUE, NULL);
  else
    g_object_set (srtsrc, "auto-reconnect", TRUE, NULL);
  g_object_set (srtsrc, "do-timestamp", TRUE, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_bin_add_many (bin, srtsrc, filter, *stats, NULL);
  gst_element_link_many (srtsrc, filter, *stats, NULL);
  *last = *stats;
  return TRUE;
}

static GstElement *
make_output (const MrEndpoint * out, const gchar * dir, GError ** error)
{
  gboolean listener = out->protocol == MR_PROTOCOL_SRT_LISTENER;
  GstElement *sink = mr_transport_make ("srtsink", "sink", error);

  if (!sink)
    return NULL;
  configure_srt (sink, out, listener);
  g_object_set (sink, "sync", FALSE, "async", FALSE, "wait-for-connection",
      FALSE, "enable-last-sample", FALSE, NULL);
  return sink;
}

/* srtsink's own statistics (srt-stats.h) */
static gboolean
read_output_stats (const MrEndpoint * out, const MrOutputReading * reading,
    MrOutputStats * stats)
{
  g_autoptr (GstStructure) s = NULL;

  g_object_get (reading->sink, "stats", &s, NULL);
  mr_srt_stats_read (s, TRUE, &stats->srt);
  stats->has_srt = TRUE;
  stats->connected = stats->srt.connected;
  stats->bytes_sent = stats->srt.bytes;
  stats->packets_sent = (guint64) stats->srt.packets;
  return TRUE;
}

/* srtsrc's own statistics (srt-stats.h); srtroutesrc gives its caller's
 * in the same shape */
static void
read_source_stats (const MrEndpoint * src, GstBin * bin,
    MrSourceStats * stats)
{
  g_autoptr (GstElement) srtsrc = gst_bin_get_by_name (bin,
      is_routed (src) ? "srtroutesrc" : "srtsrc");
  g_autoptr (GstStructure) s = NULL;

  if (!srtsrc)
    return;
  g_object_get (srtsrc, "stats", &s, NULL);
  mr_srt_stats_read (s, FALSE, &stats->srt);
  stats->has_srt = TRUE;
}

/* a listener also refuses callers that ask for another stream id: the
 * runner counts them (flow-events.c) */
static void
read_listener_source_stats (const MrEndpoint * src, GstBin * bin,
    MrSourceStats * stats)
{
  read_source_stats (src, bin, stats);
  stats->refuses_callers = TRUE;
  stats->refusals_own = is_routed (src);
}

/* ---------------------------------------------------------------------- */
/* watching a running SRT flow */

static MrSourceNote
read_source_message (const GstStructure * s, const gchar ** detail,
    const gchar ** reason)
{
  /* srtsrc (keep-listening) saw its caller close and listens again;
   * srtroutesrc's route waits for the next caller */
  if (gst_structure_has_name (s, "connection-removed"))
    return MR_SOURCE_NOTE_LISTENING_ANEW;
  /* on_srt_caller_connecting () or srtroutesrc refused a caller */
  if (gst_structure_has_name (s, MR_TRANSPORT_SRT_REFUSED)) {
    *detail = gst_structure_get_string (s, "stream-id");
    *reason = gst_structure_get_string (s, "reason");
    return MR_SOURCE_NOTE_CALLER_REFUSED;
  }
  return MR_SOURCE_NOTE_NONE;
}

/* srtsink says "... Trying to reconnect" when its peer went away */
static gboolean
output_warning_lost_peer (const GError * warning)
{
  return strstr (warning->message, "reconnect") != NULL;
}

/* An SRT listener (srtsrc 1.22) takes one caller at a time and looks for
 * the next only once libsrt has given the silent one up, after its peer
 * idle time (5 s); a caller that connects meanwhile (an encoder that
 * restarted) waits on the old listening socket and is dropped when srtsrc
 * listens anew, and ffmpeg then gives up for good.  A caller silent for
 * SRT_LISTENER_SILENCE_MS is gone: listen anew at once. */
G_STATIC_ASSERT (SRT_LISTENER_SILENCE_MS == 1000);
#define SRT_LISTENER_RESTART_REASON "its caller has sent nothing for 1 s"

/* A caller output that has not connected within this long after it was
 * attached or lost its peer failed to connect (srtsink keeps trying by
 * itself, and would say nothing) */
#define SRT_CALLER_CONNECT_TIMEOUT_MS 5000

const MrTransport mr_transport_srt_listener = {
  .protocol = MR_PROTOCOL_SRT_LISTENER,
  .build_source = build_source,
  .output_kind = MR_TRANSPORT_OUTPUT_BRANCH,
  .make_output = make_output,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,

  .read_source_message = read_source_message,
  .restart_silent_source = SRT_LISTENER_RESTART_REASON,
  .source_takes_next_caller = is_routed,
  .watch_output_link = TRUE,
  .output_warning_lost_peer = output_warning_lost_peer,
  .refusals_logged = TRUE,

  .read_source_stats = read_listener_source_stats,
};

const MrTransport mr_transport_srt_caller = {
  .protocol = MR_PROTOCOL_SRT_CALLER,
  .build_source = build_source,
  .output_kind = MR_TRANSPORT_OUTPUT_BRANCH,
  .make_output = make_output,
  .read_output_stats = read_output_stats,
  .output_live = TRUE,

  .read_source_message = read_source_message,
  .watch_output_link = TRUE,
  .output_warning_lost_peer = output_warning_lost_peer,
  .output_connect_timeout_ms = SRT_CALLER_CONNECT_TIMEOUT_MS,
  .refusals_logged = TRUE,

  .read_source_stats = read_source_stats,
};
