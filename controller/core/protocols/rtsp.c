/* mroute core: the fields of an rtsp output: the flow is served by the
 * controller's own RTSP server (pipeline/rtsp-server.c) at
 * rtsp://HOST:PORT/PATH, so an output has a path, not a destination, and
 * an optional user and password its viewers must give.  RTSP is not a
 * source here.  Its elements: pipeline/transports/rtsp.c. */

#include "core/protocol-rules.h"

#include <string.h>

/* 1-128 characters of A-Z a-z 0-9 '-' '_' '.' and '/' between
 * segments: no leading or trailing '/', no "//", no "." or ".." segment */
static gboolean
valid_path (const gchar * s)
{
  gsize len = strlen (s);

  if (len == 0 || len > 128 || s[0] == '/' || s[len - 1] == '/')
    return FALSE;
  for (const gchar * p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.'
        && *p != '/')
      return FALSE;
  if (strstr (s, "//"))
    return FALSE;
  {
    g_auto (GStrv) segments = g_strsplit (s, "/", -1);

    for (guint i = 0; segments[i]; i++)
      if (g_str_equal (segments[i], ".") || g_str_equal (segments[i], ".."))
        return FALSE;
  }
  return TRUE;
}

/* A user-info of Basic authentication: printable ASCII, no ':' in the
 * user */
static gboolean
valid_credential (const gchar * s, gboolean is_user)
{
  if (!*s)
    return FALSE;
  for (const gchar * p = s; *p; p++)
    if (!g_ascii_isprint (*p) || (is_user && *p == ':'))
      return FALSE;
  return TRUE;
}

/* asked instead of the destination: an rtsp output goes nowhere, it is
 * served under its path */
static gboolean
validate_destination (const MrEndpoint * ep, const gchar * path,
    GError ** error)
{
  if (ep->role == MR_ENDPOINT_SOURCE)
    return mr_spec_invalid (error, path, "protocol",
        "rtsp is only an output (the controller serves it)");
  if (ep->destination)
    return mr_spec_invalid (error, path, "destination",
        "is not used by protocol rtsp (it is served at rtsp://HOST:PORT/PATH)");
  if (ep->port)
    return mr_spec_invalid (error, path, "port",
        "is not used by protocol rtsp (the server's port is [rtsp] port "
        "in the configuration)");
  if (!ep->path)
    return mr_spec_invalid (error, path, "path",
        "is required for protocol rtsp");
  if (!valid_path (ep->path))
    return mr_spec_invalid (error, path, "path", "must be 1-128 characters "
        "of A-Z, a-z, 0-9, '_', '-', '.' and '/' between segments");
  return TRUE;
}

static gboolean
validate (const MrEndpoint * ep, const gchar * path, GError ** error)
{
  if (ep->user && !valid_credential (ep->user, TRUE))
    return mr_spec_invalid (error, path, "user",
        "must be printable ASCII without ':'");
  if (ep->password && !valid_credential (ep->password, FALSE))
    return mr_spec_invalid (error, path, "password",
        "must be printable ASCII");
  if (ep->user && !ep->password)
    return mr_spec_invalid (error, path, "password",
        "is required with user");
  if (ep->password && !ep->user)
    return mr_spec_invalid (error, path, "user",
        "is required with password");
  return TRUE;
}

const MrProtocolRules mr_protocol_rules_rtsp = {
  .protocol = MR_PROTOCOL_RTSP,
  .serves_path = TRUE,
  .validate_destination = validate_destination,
  .validate = validate,
};
