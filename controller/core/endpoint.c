/* mroute: a source or an output of a flow (MrEndpoint): its fields, read
 * from JSON with the field paths of its errors, its validation against
 * its protocol's rules (protocols/<protocol>.c) and its partial update. */

#define G_LOG_DOMAIN "mroute-flow-spec"
#include "flow-spec.h"
#include "protocol-rules.h"
#include "spec-fields.h"

#include <string.h>

/* Members the API returns for a source or an output and a request does not
 * set: its figures in GET .../metrics (api/render.c), which a client may
 * keep in the same struct as its configuration */
static const gchar *const endpoint_read_only[] = {
  "status", "connected", "bitrate_kbps", "bytes_received",
  "packets_received", "packets_lost", "packets_recovered",
  "round_trip_time_ms", "jitter_ms", "source_selected", "bytes_sent",
  "packets_sent", "disconnections", "srt", "rist", "content_alarms", "rtsp",
  "password_set", NULL
};

static gboolean
valid_name (const gchar * s)
{
  if (!s || !*s || strlen (s) > 64)
    return FALSE;
  for (const gchar * p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

gboolean
mr_spec_valid_host (const gchar * s)
{
  if (!s || !*s || strlen (s) > 253)
    return FALSE;
  if (g_hostname_is_ip_address (s))
    return TRUE;
  for (const gchar * p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

void
mr_endpoint_clear_legs (MrEndpoint * ep)
{
  for (guint i = 0; i < MR_MAX_LEGS; i++) {
    g_clear_pointer (&ep->legs[i].address, g_free);
    ep->legs[i].port = 0;
  }
}

MrEndpoint *
mr_endpoint_copy (const MrEndpoint * ep)
{
  MrEndpoint *c = g_new0 (MrEndpoint, 1);

  *c = *ep;
  c->name = g_strdup (ep->name);
  c->description = g_strdup (ep->description);
  c->ingest_address = g_strdup (ep->ingest_address);
  c->destination = g_strdup (ep->destination);
  c->stream_id = g_strdup (ep->stream_id);
  c->stream_key = g_strdup (ep->stream_key);
  c->cipher = g_strdup (ep->cipher);
  c->passphrase = g_strdup (ep->passphrase);
  c->source_address = g_strdup (ep->source_address);
  c->iface = g_strdup (ep->iface);
  c->path = g_strdup (ep->path);
  c->user = g_strdup (ep->user);
  c->password = g_strdup (ep->password);
  for (guint i = 0; i < MR_MAX_LEGS; i++)
    c->legs[i].address = g_strdup (ep->legs[i].address);
  return c;
}

void
mr_endpoint_free (MrEndpoint * ep)
{
  if (!ep)
    return;
  g_free (ep->name);
  g_free (ep->description);
  g_free (ep->ingest_address);
  g_free (ep->destination);
  g_free (ep->stream_id);
  g_free (ep->stream_key);
  g_free (ep->cipher);
  g_free (ep->source_address);
  g_free (ep->iface);
  g_free (ep->path);
  g_free (ep->user);
  mr_endpoint_clear_legs (ep);
  if (ep->password)
    memset (ep->password, 0, strlen (ep->password));
  g_free (ep->password);
  if (ep->passphrase)
    memset (ep->passphrase, 0, strlen (ep->passphrase));
  g_free (ep->passphrase);
  g_free (ep);
}

static gboolean
parse_encryption (MrEndpoint * ep, JsonNode * node, const gchar * path,
    const gchar * field, GPtrArray * warnings, GError ** error)
{
  g_autofree gchar *sub = NULL;
  JsonObject *obj;
  JsonObjectIter iter;
  const gchar *member;
  JsonNode *value;

  if (!(obj = mr_spec_get_object (node, path, field, error)))
    return FALSE;
  sub = *path ? g_strdup_printf ("%s.%s", path, field) : g_strdup (field);

  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &member, &value)) {
    if (JSON_NODE_HOLDS_NULL (value))
      continue;                 /* not given */
    if (g_str_equal (member, "algorithm")) {
      if (!mr_spec_get_string (value, sub, member, 16, &ep->cipher, error))
        return FALSE;
    } else if (g_str_equal (member, "passphrase")) {
      if (!mr_spec_get_string (value, sub, member, 256, &ep->passphrase, error))
        return FALSE;
    } else {
      mr_spec_ignore_member (warnings, NULL, sub, member);
    }
  }
  if (!ep->cipher)
    return mr_spec_invalid (error, sub, "algorithm", "is required");
  if (!ep->passphrase)
    return mr_spec_invalid (error, sub, "passphrase", "is required");
  return TRUE;
}

/* "legs": exactly MR_MAX_LEGS objects {"address", "port"}, or [] (none:
 * how a PUT takes them away) */
static gboolean
parse_legs (MrEndpoint * ep, JsonNode * node, const gchar * path,
    const gchar * field, GPtrArray * warnings, GError ** error)
{
  MrLeg legs[MR_MAX_LEGS] = { {NULL, 0} };
  JsonArray *arr;
  guint len;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return mr_spec_invalid (error, path, field, "must be an array of %d "
        "destinations {\"address\", \"port\"}, one per slot", MR_MAX_LEGS);
  arr = json_node_get_array (node);
  len = json_array_get_length (arr);
  if (len == 0) {
    mr_endpoint_clear_legs (ep);
    return TRUE;
  }
  if (len != MR_MAX_LEGS)
    return mr_spec_invalid (error, path, field, "must hold exactly %d "
        "destinations (one per slot of a flow with redundancy 2), not %u",
        MR_MAX_LEGS, len);
  for (guint i = 0; i < len; i++) {
    g_autofree gchar *sub = g_strdup_printf ("%s%s%s[%u]", path,
        *path ? "." : "", field, i);
    JsonNode *leg = json_array_get_element (arr, i);
    JsonObject *obj;
    JsonObjectIter iter;
    const gchar *m;
    JsonNode *v;
    gint64 n;

    if (!JSON_NODE_HOLDS_OBJECT (leg)) {
      mr_spec_invalid (error, sub, NULL, "must be an object {\"address\", "
          "\"port\"}");
      goto fail;
    }
    obj = json_node_get_object (leg);
    json_object_iter_init_ordered (&iter, obj);
    while (json_object_iter_next_ordered (&iter, &m, &v)) {
      if (JSON_NODE_HOLDS_NULL (v))
        continue;
      if (g_str_equal (m, "address")) {
        if (!mr_spec_get_string (v, sub, m, 253, &legs[i].address, error))
          goto fail;
        if (!mr_spec_valid_host (legs[i].address)) {
          mr_spec_invalid (error, sub, m, "must be a host name or an IP "
              "address");
          goto fail;
        }
      } else if (g_str_equal (m, "port")) {
        if (!mr_spec_get_int (v, sub, m, 1, 65535, &n, error))
          goto fail;
        legs[i].port = n;
      } else {
        mr_spec_ignore_member (warnings, NULL, sub, m);
      }
    }
    if (!legs[i].address) {
      mr_spec_invalid (error, sub, "address", "is required");
      goto fail;
    }
    if (!legs[i].port) {
      mr_spec_invalid (error, sub, "port", "is required");
      goto fail;
    }
  }
  mr_endpoint_clear_legs (ep);
  memcpy (ep->legs, legs, sizeof (legs));
  return TRUE;

fail:
  for (guint i = 0; i < MR_MAX_LEGS; i++)
    g_free (legs[i].address);
  return FALSE;
}

/* Sets the members of @obj on @ep, checking their types; the others are
 * ignored (mr_spec_ignore_member ()). */
static gboolean
endpoint_apply (MrEndpoint * ep, JsonObject * obj, const gchar * path,
    GPtrArray * warnings, GError ** error)
{
  JsonObjectIter iter;
  const gchar *m;
  JsonNode *v;
  const gchar *secret_block =
      ep->role == MR_ENDPOINT_SOURCE ? "decryption" : "encryption";
  gint64 n;

  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &m, &v)) {
    if (JSON_NODE_HOLDS_NULL (v))
      continue;                 /* not given: a patch keeps the value */
    if (g_str_equal (m, "name")) {
      if (!mr_spec_get_string (v, path, m, 64, &ep->name, error))
        return FALSE;
    } else if (g_str_equal (m, "description")) {
      if (!mr_spec_get_string (v, path, m, 1024, &ep->description, error))
        return FALSE;
    } else if (g_str_equal (m, "protocol")) {
      g_autofree gchar *p = NULL;
      if (!mr_spec_get_string (v, path, m, 32, &p, error))
        return FALSE;
      ep->protocol = mr_protocol_from_string (p);
      if (ep->protocol == MR_PROTOCOL_INVALID)
        return mr_spec_invalid (error, path, m, "unknown protocol '%s' "
            "(expected udp, rtp, rtp-fec, rist, srt-listener, srt-caller, "
            "rtmp, hls or rtsp)", p ? p : "null");
    } else if (g_str_equal (m, "ingest_port")) {
      if (!mr_spec_get_int (v, path, m, 1, 65535, &n, error))
        return FALSE;
      ep->ingest_port = n;
    } else if (g_str_equal (m, "port")) {
      if (!mr_spec_get_int (v, path, m, 1, 65535, &n, error))
        return FALSE;
      ep->port = n;
    } else if (g_str_equal (m, "ingest_address")) {
      if (!mr_spec_get_string (v, path, m, 64, &ep->ingest_address, error))
        return FALSE;
    } else if (g_str_equal (m, "destination")) {
      if (!mr_spec_get_string (v, path, m, 1024, &ep->destination, error))
        return FALSE;
    } else if (g_str_equal (m, "max_latency")) {
      if (!mr_spec_get_int (v, path, m, 0, 60000, &n, error))
        return FALSE;
      ep->max_latency = n;
    } else if (g_str_equal (m, "min_latency")) {
      if (!mr_spec_get_int (v, path, m, 0, 60000, &n, error))
        return FALSE;
      ep->min_latency = n;
    } else if (g_str_equal (m, "sender_ip_address")) {
      g_autofree gchar *address = NULL;

      /* the original's, not used yet: checked, then dropped */
      if (!mr_spec_get_string (v, path, m, 64, &address, error))
        return FALSE;
      if (!g_hostname_is_ip_address (address))
        return mr_spec_invalid (error, path, m, "must be an IP address");
    } else if (g_str_equal (m, "sender_control_port")) {
      if (!mr_spec_get_int (v, path, m, 1, 65535, &n, error))
        return FALSE;
    } else if (g_str_equal (m, "max_bitrate")) {
      if (!mr_spec_get_int (v, path, m, 0, G_MAXINT64, &n, error))
        return FALSE;
      ep->max_bitrate = n;
    } else if (g_str_equal (m, "stream_id")) {
      if (!mr_spec_get_string (v, path, m, 512, &ep->stream_id, error))
        return FALSE;
    } else if (g_str_equal (m, "stream_key")
        && ep->role == MR_ENDPOINT_OUTPUT) {
      if (!mr_spec_get_string (v, path, m, 512, &ep->stream_key, error))
        return FALSE;
    } else if (g_str_equal (m, "path") && ep->role == MR_ENDPOINT_OUTPUT) {
      if (!mr_spec_get_string (v, path, m, 128, &ep->path, error))
        return FALSE;
    } else if (g_str_equal (m, "user") && ep->role == MR_ENDPOINT_OUTPUT) {
      if (!mr_spec_get_string (v, path, m, 128, &ep->user, error))
        return FALSE;
      /* empty: none (how a PUT opens a mount again) */
      if (!*ep->user)
        g_clear_pointer (&ep->user, g_free);
    } else if (g_str_equal (m, "password")
        && ep->role == MR_ENDPOINT_OUTPUT) {
      if (!mr_spec_get_string (v, path, m, 256, &ep->password, error))
        return FALSE;
      if (!*ep->password)
        g_clear_pointer (&ep->password, g_free);
    } else if (g_str_equal (m, "source_address")) {
      if (!mr_spec_get_string (v, path, m, 64, &ep->source_address, error))
        return FALSE;
    } else if (g_str_equal (m, "interface")) {
      /* IFNAMSIZ - 1: the kernel's longest interface name */
      if (!mr_spec_get_string (v, path, m, 15, &ep->iface, error))
        return FALSE;
    } else if (g_str_equal (m, "ttl")) {
      if (!mr_spec_get_int (v, path, m, 1, 255, &n, error))
        return FALSE;
      ep->ttl = n;
    } else if (g_str_equal (m, "dscp")) {
      if (!mr_spec_get_int (v, path, m, 0, 63, &n, error))
        return FALSE;
      ep->dscp = n;
    } else if (g_str_equal (m, "segment_duration")
        && ep->role == MR_ENDPOINT_OUTPUT) {
      if (!mr_spec_get_int (v, path, m, 1, 60, &n, error))
        return FALSE;
      ep->segment_duration = n;
    } else if (g_str_equal (m, "window") && ep->role == MR_ENDPOINT_OUTPUT) {
      if (!mr_spec_get_int (v, path, m, 2, 100, &n, error))
        return FALSE;
      ep->window = n;
    } else if (g_str_equal (m, "legs") && ep->role == MR_ENDPOINT_OUTPUT) {
      if (!parse_legs (ep, v, path, m, warnings, error))
        return FALSE;
    } else if (g_str_equal (m, secret_block)) {
      if (!parse_encryption (ep, v, path, m, warnings, error))
        return FALSE;
    } else {
      mr_spec_ignore_member (warnings, endpoint_read_only, path, m);
    }
  }
  return TRUE;
}

static gboolean
protocol_listens (const MrEndpoint * ep, const MrProtocolRules * rules)
{
  if (ep->role == MR_ENDPOINT_SOURCE)
    return rules->source_listens || (rules->source_listens_with_port
        && ep->ingest_port);
  return rules->output_listens;
}

/* Checks that the fields present fit the protocol and role: the rules all
 * protocols share here, each protocol's own in its table
 * (protocol-rules.h), in one order, so that the first error a request
 * meets is always the same. */
static gboolean
endpoint_validate (const MrEndpoint * ep, const gchar * path, GError ** error)
{
  const gchar *secret_block =
      ep->role == MR_ENDPOINT_SOURCE ? "decryption" : "encryption";
  const MrProtocolRules *rules;

  if (!ep->name)
    return mr_spec_invalid (error, path, "name", "is required");
  if (!valid_name (ep->name))
    return mr_spec_invalid (error, path, "name", "must be 1-64 characters "
        "of A-Z, a-z, 0-9, '_', '-' and '.'");
  if (ep->protocol == MR_PROTOCOL_INVALID
      || !(rules = mr_protocol_rules_get (ep->protocol)))
    return mr_spec_invalid (error, path, "protocol", "is required");

  if (ep->role == MR_ENDPOINT_SOURCE && protocol_listens (ep, rules)) {
    if (!ep->ingest_port)
      return mr_spec_invalid (error, path, "ingest_port",
          "is required for protocol %s", mr_protocol_to_string (ep->protocol));
    if (ep->ingest_address && !g_hostname_is_ip_address (ep->ingest_address))
      return mr_spec_invalid (error, path, "ingest_address",
          "must be an IP address");
  } else if (ep->role == MR_ENDPOINT_SOURCE) {
    if (ep->ingest_port)
      return mr_spec_invalid (error, path, "ingest_port",
          "is not used by protocol %s", mr_protocol_to_string (ep->protocol));
  }

  if (ep->role == MR_ENDPOINT_OUTPUT && ep->ingest_port)
    return mr_spec_invalid (error, path, "ingest_port",
        "is for sources; outputs use port");
  if (ep->role == MR_ENDPOINT_OUTPUT && ep->ingest_address)
    return mr_spec_invalid (error, path, "ingest_address", "is for sources");

  if (mr_endpoint_has_legs (ep) && !rules->output_legs)
    return mr_spec_invalid (error, path, "legs", "are only used by udp and "
        "rtp outputs");
  if (rules->output_files) {
    /* it writes files the API serves: nothing to send to */
    if (ep->role == MR_ENDPOINT_SOURCE)
      return mr_spec_invalid (error, path, "protocol", "%s is only an output",
          mr_protocol_to_string (ep->protocol));
    if (ep->destination)
      return mr_spec_invalid (error, path, "destination",
          "is not used by protocol %s", mr_protocol_to_string (ep->protocol));
    if (ep->port)
      return mr_spec_invalid (error, path, "port",
          "is not used by protocol %s", mr_protocol_to_string (ep->protocol));
  } else if (ep->segment_duration >= 0 || ep->window >= 0) {
    return mr_spec_invalid (error, path, ep->segment_duration >= 0 ?
        "segment_duration" : "window", "is only used by hls");
  } else if (!protocol_listens (ep, rules) && rules->validate_destination) {
    if (!rules->validate_destination (ep, path, error))
      return FALSE;
  } else if (mr_endpoint_has_legs (ep)) {
    /* each slot sends to its leg; a destination is not needed, but if
     * given, valid (it is shown and kept) */
    if (ep->destination && !mr_spec_valid_host (ep->destination))
      return mr_spec_invalid (error, path, "destination",
          "must be a host name or an IP address");
  } else if (!protocol_listens (ep, rules)) {
    if (!ep->destination)
      return mr_spec_invalid (error, path, "destination",
          "is required for protocol %s", mr_protocol_to_string (ep->protocol));
    if (!mr_spec_valid_host (ep->destination))
      return mr_spec_invalid (error, path, "destination",
          "must be a host name or an IP address");
    if (!ep->port)
      return mr_spec_invalid (error, path, "port",
          "is required for protocol %s", mr_protocol_to_string (ep->protocol));
  } else if (ep->role == MR_ENDPOINT_OUTPUT) {
    /* a listening output (srt-listener) listens on port */
    if (!ep->port)
      return mr_spec_invalid (error, path, "port",
          "is required for protocol %s", mr_protocol_to_string (ep->protocol));
  }

  if (ep->cipher) {
    if (!rules->validate_encryption)
      return mr_spec_invalid (error, path, secret_block,
          "is only supported by srt-listener and srt-caller");
    if (!rules->validate_encryption (ep, path, secret_block, error))
      return FALSE;
  }
  if (!mr_multicast_validate (ep, rules, path, error))
    return FALSE;
  if (rules->validate && !rules->validate (ep, path, error))
    return FALSE;
  if (ep->stream_key && !rules->uses_stream_key)
    return mr_spec_invalid (error, path, "stream_key", "is only used by rtmp");
  if (!rules->serves_path) {
    if (ep->path)
      return mr_spec_invalid (error, path, "path", "is only used by rtsp");
    if (ep->user)
      return mr_spec_invalid (error, path, "user", "is only used by rtsp");
    if (ep->password)
      return mr_spec_invalid (error, path, "password",
          "is only used by rtsp");
  }

  return TRUE;
}

static MrEndpoint *
endpoint_new (MrEndpointRole role)
{
  MrEndpoint *ep = g_new0 (MrEndpoint, 1);

  ep->role = role;
  ep->protocol = MR_PROTOCOL_INVALID;
  ep->max_latency = -1;
  ep->min_latency = -1;
  ep->max_bitrate = -1;
  ep->ttl = -1;
  ep->dscp = -1;
  ep->segment_duration = -1;
  ep->window = -1;
  return ep;
}

MrEndpoint *
mr_endpoint_from_json (JsonNode * node, MrEndpointRole role,
    const gchar * path, GPtrArray * warnings, GError ** error)
{
  g_autoptr (MrEndpoint) ep = endpoint_new (role);
  JsonObject *obj;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
    mr_spec_invalid (error, path, NULL, "must be an object");
    return NULL;
  }
  obj = json_node_get_object (node);
  if (!endpoint_apply (ep, obj, path, warnings, error)
      || !endpoint_validate (ep, path, error))
    return NULL;
  return g_steal_pointer (&ep);
}

MrEndpoint *
mr_endpoint_patch (const MrEndpoint * ep, JsonNode * patch,
    const gchar * path, GPtrArray * warnings, GError ** error)
{
  g_autoptr (MrEndpoint) c = NULL;
  JsonObject *obj;
  JsonNode *pn;

  if (!patch || !JSON_NODE_HOLDS_OBJECT (patch)) {
    mr_spec_invalid (error, path, NULL, "must be an object");
    return NULL;
  }
  obj = json_node_get_object (patch);
  c = mr_endpoint_copy (ep);
  /* a protocol change resets what only made sense for the old one ("null"
   * is no change) */
  pn = json_object_get_member (obj, "protocol");
  if (pn && !JSON_NODE_HOLDS_NULL (pn)) {
    g_autofree gchar *p = NULL;

    if (!mr_spec_get_string (pn, path, "protocol", 32, &p, error))
      return NULL;
    if (mr_protocol_from_string (p) != ep->protocol) {
      g_clear_pointer (&c->cipher, g_free);
      g_clear_pointer (&c->passphrase, g_free);
      g_clear_pointer (&c->stream_key, g_free);
      g_clear_pointer (&c->path, g_free);
      g_clear_pointer (&c->user, g_free);
      g_clear_pointer (&c->password, g_free);
    }
    if (!mr_protocol_rules_get (mr_protocol_from_string (p))
        || !mr_protocol_rules_get (mr_protocol_from_string (p))->multicast) {
      g_clear_pointer (&c->source_address, g_free);
      g_clear_pointer (&c->iface, g_free);
      c->ttl = c->dscp = -1;
    }
    if (!mr_protocol_rules_get (mr_protocol_from_string (p))
        || !mr_protocol_rules_get (mr_protocol_from_string (p))->output_legs)
      mr_endpoint_clear_legs (c);
    /* to hls, from hls: what one has the other does not use */
    if (mr_protocol_from_string (p) != ep->protocol) {
      if (mr_protocol_from_string (p) == MR_PROTOCOL_HLS) {
        g_clear_pointer (&c->destination, g_free);
        c->port = 0;
      } else {
        c->segment_duration = c->window = -1;
      }
    }
  }
  if (!endpoint_apply (c, obj, path, warnings, error)
      || !endpoint_validate (c, path, error))
    return NULL;
  return g_steal_pointer (&c);
}
