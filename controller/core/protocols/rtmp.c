/* mroute core: the fields of an rtmp source or output.
 *
 * A source either listens for publishers (ingest_port, optional
 * ingest_address, and stream_id: the stream key they publish to, under
 * the application "live") or pulls from a server (destination, an rtmp://
 * or rtmps:// URL, rtmp://host[:port]/app, with stream_id as the stream's
 * name).  An output goes to a URL (destination rtmp://host[:port]/app and
 * stream_key), or to a host, a port and a stream_key, which make
 * rtmp://host:port/live/KEY.  Its elements: pipeline/transports/rtmp.c. */

#include "core/protocol-rules.h"

#include <string.h>

static gboolean
is_url (const gchar * s)
{
  return g_str_has_prefix (s, "rtmp://") || g_str_has_prefix (s, "rtmps://");
}

static gboolean
validate_destination (const MrEndpoint * ep, const gchar * path,
    GError ** error)
{
  if (ep->role == MR_ENDPOINT_SOURCE) {
    if (!ep->destination)
      return mr_spec_invalid (error, path, "destination", "or ingest_port "
          "is required for protocol rtmp: destination "
          "(rtmp://host[:port]/app) to pull, ingest_port to listen for "
          "publishers");
    if (!is_url (ep->destination))
      return mr_spec_invalid (error, path, "destination",
          "must be an rtmp:// URL for an rtmp source that pulls");
    return TRUE;
  }
  if (!ep->destination)
    return mr_spec_invalid (error, path, "destination",
        "is required for protocol rtmp (rtmp://host[:port]/app, or a host "
        "with port and stream_key)");
  if (is_url (ep->destination))
    return TRUE;
  if (!mr_spec_valid_host (ep->destination))
    return mr_spec_invalid (error, path, "destination",
        "must be an rtmp:// URL or a host name or an IP address");
  if (!ep->port)
    return mr_spec_invalid (error, path, "port", "is required for an rtmp "
        "output to a host (rtmp://host:port/live/stream_key)");
  if (!ep->stream_key || !*ep->stream_key)
    return mr_spec_invalid (error, path, "stream_key", "is required for an "
        "rtmp output to a host (rtmp://host:port/live/stream_key)");
  return TRUE;
}

/* a stream key goes into a URL path: one segment, no query */
static gboolean
valid_key (const gchar * key)
{
  if (!key || !*key)
    return FALSE;
  for (const gchar * p = key; *p; p++)
    if (*p == '/' || *p == '?' || *p == '#' || g_ascii_iscntrl (*p)
        || *p == ' ')
      return FALSE;
  return TRUE;
}

static gboolean
validate (const MrEndpoint * ep, const gchar * path, GError ** error)
{
  if (ep->role == MR_ENDPOINT_SOURCE && ep->ingest_port) {
    if (ep->destination)
      return mr_spec_invalid (error, path, "destination", "is for an rtmp "
          "source that pulls; one that listens has ingest_port only");
    if (!ep->stream_id)
      return mr_spec_invalid (error, path, "stream_id", "is required for an "
          "rtmp source that listens: the stream key publishers use "
          "(rtmp://host:ingest_port/live/KEY)");
    if (!valid_key (ep->stream_id))
      return mr_spec_invalid (error, path, "stream_id", "must be one URL "
          "path segment: no '/', '?', '#', space or control character");
  }
  if (ep->role == MR_ENDPOINT_OUTPUT && ep->destination
      && !is_url (ep->destination) && !valid_key (ep->stream_key))
    return mr_spec_invalid (error, path, "stream_key", "must be one URL "
        "path segment: no '/', '?', '#', space or control character");
  return TRUE;
}

gboolean
mr_endpoint_rtmp_same_port (const MrEndpoint * a, const MrEndpoint * b,
    gboolean * clash)
{
  const gchar *addr_a, *addr_b;

  if (a->protocol != MR_PROTOCOL_RTMP || b->protocol != MR_PROTOCOL_RTMP
      || a->role != MR_ENDPOINT_SOURCE || b->role != MR_ENDPOINT_SOURCE
      || !a->ingest_port || a->ingest_port != b->ingest_port)
    return FALSE;
  addr_a = a->ingest_address ? a->ingest_address : "0.0.0.0";
  addr_b = b->ingest_address ? b->ingest_address : "0.0.0.0";
  *clash = g_strcmp0 (a->stream_id, b->stream_id) == 0
      || !g_str_equal (addr_a, addr_b);
  return TRUE;
}

const MrProtocolRules mr_protocol_rules_rtmp = {
  .protocol = MR_PROTOCOL_RTMP,
  .source_listens_with_port = TRUE,
  .uses_stream_key = TRUE,
  .validate_destination = validate_destination,
  .validate = validate,
};
