/* mroute
 * Copyright (C) 2026 mroute developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A libFuzzer target for the request path of the API, from the raw body to
 * a validated flow: mr_json_read_object() (controller/json-reader.c), then
 * mr_flow_spec_from_json() in both parse modes, mr_flow_spec_validate(),
 * mr_flow_spec_patch() (controller/core/flow-spec.c), mr_endpoint_from_json()
 * and mr_endpoint_patch() (controller/core/endpoint.c) and the JSON written
 * back (controller/flow-spec-json.c).  The input is the
 * body, as a client would send it.  Beyond "no crash, no leak" it aborts,
 * with a line saying which, when:
 *
 *  - the reader accepts a text nested deeper than its limit (json-glib
 *    parses recursively: that is the stack it guards), or refuses one
 *    without a "body: " message of its own domain;
 *  - an error is not MR_SPEC_ERROR_INVALID, has no message, a message that
 *    is not UTF-8 (it goes into the JSON error envelope as it is), or no
 *    field (unless it is about the "body: " as a whole); or the field is
 *    not a path into the body (each step a member of the body or a field
 *    the API knows: "a: b" read as the field "a" is wrong);
 *  - a flow or an endpoint parsed but does not validate, does not survive
 *    storage (the stored JSON through the reader and back in stored mode
 *    is an equal spec), or, without secrets, GET and POST back (the public
 *    JSON, read-only members and all, parses to an equal spec without a
 *    warning);
 *  - a warning is not UTF-8, or there are more than MR_SPEC_MAX_WARNINGS
 *    and the line that says so;
 *  - the public JSON shows a secret: it has a "passphrase" or
 *    "stream_key" member, or it changes when the secrets do;
 *  - a patch changed the endpoint it was given, or gave an endpoint that
 *    does not parse back equal from its stored JSON, or kept a secret of
 *    the old protocol that the patch did not give again;
 *  - a flow patch (mr_flow_spec_patch(), PUT /v1/flows/{id}) changed the
 *    flow it was given, changed its sources, outputs, id or times, or gave
 *    a flow that fails the checks of a parsed one above; or a flow's public
 *    JSON as a PUT of that flow is refused, warned about, or changes it.
 *
 * The reader is called with the API's defaults (1 MiB, MR_JSON_MAX_DEPTH).
 * FLOW_FUZZ_TRACE=1 prints every verdict. */

#include "core/flow-spec.h"
#include "core/json-reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define MAX_BODY (1024 * 1024)
/* the id and times the manager gives a flow it creates */
#define FUZZ_FLOW_ID "flow_0123456789ab"
#define FUZZ_CREATED G_GINT64_CONSTANT (1795255200123456)

#define CHECK(cond, ...) G_STMT_START {                                 \
    if (G_UNLIKELY (!(cond))) {                                          \
      fprintf (stderr, "flow-spec-fuzz: invariant broken: " __VA_ARGS__); \
      fprintf (stderr, "\n  (%s, line %d)\n", #cond, __LINE__);          \
      abort ();                                                          \
    }                                                                    \
  } G_STMT_END

static gboolean trace;

#define TRACE(...) G_STMT_START {                                       \
    if (trace)                                                           \
      fprintf (stderr, __VA_ARGS__);                                     \
  } G_STMT_END

/* Every member name the API reads, for error fields that name a missing
 * member or one the request wrote differently ("source" for "sources[0]") */
static const gchar *known_fields[] = {
  "name", "description", "protocol", "ingest_port", "ingest_address",
  "destination", "port", "max_latency", "max_bitrate", "stream_id",
  "stream_key", "encryption", "decryption", "algorithm", "passphrase",
  "source", "sources", "outputs", "source_failover_config", "state",
  "failover_mode", "recovery_window", "source_priority", "primary_source",
  "source_monitor_config", "thumbnail_enabled", "content_quality_enabled",
  "thumbnail_interval_sec", "maintenance_window", "day_of_week",
  "start_hour", "id", "created_at", "updated_at", "status", "min_latency",
  "sender_ip_address", "sender_control_port", "redundancy", "legs",
  "address",
};

static gboolean
is_known_field (const gchar * name, gsize len)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_fields); i++)
    if (strlen (known_fields[i]) == len
        && strncmp (known_fields[i], name, len) == 0)
      return TRUE;
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* the reader */

static guint
node_depth (JsonNode * node)
{
  guint deepest = 0;

  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    const gchar *m;
    JsonNode *v;

    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, &m, &v)) {
      guint d = node_depth (v);
      deepest = MAX (deepest, d);
    }
    return deepest + 1;
  }
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);

    for (guint i = 0; i < json_array_get_length (a); i++) {
      guint d = node_depth (json_array_get_element (a, i));
      deepest = MAX (deepest, d);
    }
    return deepest + 1;
  }
  return 0;
}

static JsonNode *
read_body (const gchar * text, gsize len, guint max_depth)
{
  g_autoptr (GError) err = NULL;
  JsonNode *root = mr_json_read_object (text, len, MAX_BODY, max_depth, &err);

  if (!root) {
    CHECK (err != NULL, "the reader refused a body without an error");
    CHECK (err->domain == MR_JSON_READER_ERROR, "reader error of domain %s",
        g_quark_to_string (err->domain));
    CHECK (g_str_has_prefix (err->message, "body: "), "reader message "
        "without \"body: \": %s", err->message);
    CHECK (g_utf8_validate (err->message, -1, NULL), "reader message not "
        "UTF-8");
    TRACE ("reader (depth %u): %s\n", max_depth, err->message);
    return NULL;
  }
  CHECK (err == NULL, "the reader gave a node and an error");
  CHECK (JSON_NODE_HOLDS_OBJECT (root), "the reader gave a non-object");
  CHECK (node_depth (root) <= max_depth, "the reader accepted a body "
      "nested %u deep, its limit is %u", node_depth (root), max_depth);
  return root;
}

/* ---------------------------------------------------------------------- */
/* errors */

/* Does the field path @field lead somewhere in @node?  Each step is a
 * member of the object in hand, a "member[N]" element, or a field the API
 * knows (the member may be missing, or be "source" for "sources[0]"). */
static gboolean
path_resolves (JsonNode * node, const gchar * field)
{
  const gchar *p = field;

  while (*p) {
    JsonObject *obj = node && JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
    gsize len = 0, best = 0;
    JsonNode *next = NULL;

    /* the longest member name that is a step: member names may hold '.'
     * and '[' too */
    if (obj) {
      JsonObjectIter iter;
      const gchar *m;
      JsonNode *v;

      json_object_iter_init (&iter, obj);
      while (json_object_iter_next (&iter, &m, &v)) {
        gsize ml = strlen (m);
        if (ml >= best && strncmp (p, m, ml) == 0
            && (p[ml] == '\0' || p[ml] == '.' || p[ml] == '[')) {
          best = ml;
          next = v;
        }
      }
    }
    if (next) {
      len = best;
    } else {
      len = strcspn (p, ".[");
      if (len == 0 || !is_known_field (p, len))
        return FALSE;
      /* "sources[0]" of a body that said "source" */
      if (obj && strncmp (p, "sources", len) == 0 && len == 7)
        next = json_object_get_member (obj, "source");
    }
    p += len;
    if (*p == '[') {
      gchar *end;
      guint64 index = g_ascii_strtoull (p + 1, &end, 10);

      if (end == p + 1 || *end != ']')
        return FALSE;
      if (next && JSON_NODE_HOLDS_ARRAY (next)) {
        JsonArray *a = json_node_get_array (next);
        next = index < json_array_get_length (a) ?
            json_array_get_element (a, index) : NULL;
      } else if (!(next && JSON_NODE_HOLDS_OBJECT (next) && index == 0)) {
        next = NULL;
      }
      p = end + 1;
    }
    if (*p == '.')
      p++;
    else if (*p)
      return FALSE;
    node = next;
  }
  return TRUE;
}

/* @err from flow-spec about @body (the object the path starts in) */
static void
check_spec_error (const GError * err, JsonNode * body, const gchar * what)
{
  g_autofree gchar *field = NULL;

  CHECK (err != NULL, "%s failed without an error", what);
  CHECK (g_error_matches (err, MR_SPEC_ERROR, MR_SPEC_ERROR_INVALID),
      "%s: error of domain %s code %d: %s", what,
      g_quark_to_string (err->domain), err->code, err->message);
  CHECK (err->message && *err->message, "%s: empty error message", what);
  CHECK (g_utf8_validate (err->message, -1, NULL), "%s: error message not "
      "UTF-8", what);
  field = mr_spec_error_field (err);
  TRACE ("%s: %s [field %s]\n", what, err->message, field ? field : "-");
  /* "body: " is the request as a whole; else "FIELD: reason" */
  if (g_str_has_prefix (err->message, "body: ")) {
    CHECK (field == NULL, "%s: a field in \"%s\"", what, err->message);
    return;
  }
  CHECK (field != NULL && *field, "%s: no field in \"%s\"", what,
      err->message);
  CHECK (path_resolves (body, field), "%s: field \"%s\" of \"%s\" is not a "
      "path of the body", what, field, err->message);
}

static GPtrArray *
warnings_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

/* The warnings of a parse that succeeded */
static void
check_warnings (GPtrArray * warnings, const gchar * what)
{
  CHECK (warnings->len <= MR_SPEC_MAX_WARNINGS + 1, "%s: %u warnings", what,
      warnings->len);
  for (guint i = 0; i < warnings->len; i++) {
    const gchar *w = warnings->pdata[i];

    CHECK (w && *w && g_utf8_validate (w, -1, NULL), "%s: warning %u is "
        "empty or not UTF-8", what, i);
    TRACE ("%s: warning: %s\n", what, w);
  }
}

/* ---------------------------------------------------------------------- */
/* equality */

/* 1+1: an output's legs */
static gboolean
legs_equal (const MrEndpoint * a, const MrEndpoint * b)
{
  for (guint i = 0; i < MR_MAX_LEGS; i++)
    if (g_strcmp0 (a->legs[i].address, b->legs[i].address) != 0
        || a->legs[i].port != b->legs[i].port)
      return FALSE;
  return TRUE;
}

static gboolean
endpoint_equal (const MrEndpoint * a, const MrEndpoint * b)
{
  return a->role == b->role && g_strcmp0 (a->name, b->name) == 0
      && g_strcmp0 (a->description, b->description) == 0
      && a->protocol == b->protocol && a->ingest_port == b->ingest_port
      && g_strcmp0 (a->ingest_address, b->ingest_address) == 0
      && g_strcmp0 (a->destination, b->destination) == 0
      && a->port == b->port && a->max_latency == b->max_latency
      && a->min_latency == b->min_latency
      && a->max_bitrate == b->max_bitrate
      && g_strcmp0 (a->stream_id, b->stream_id) == 0
      && g_strcmp0 (a->stream_key, b->stream_key) == 0
      && g_strcmp0 (a->cipher, b->cipher) == 0
      && g_strcmp0 (a->passphrase, b->passphrase) == 0
      && legs_equal (a, b);
}

static gboolean
endpoints_equal (GPtrArray * a, GPtrArray * b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!endpoint_equal (a->pdata[i], b->pdata[i]))
      return FALSE;
  return TRUE;
}

/* An absent flow description is written as "" */
static const gchar *
description_of (const MrFlowSpec * spec)
{
  return spec->description ? spec->description : "";
}

static gboolean
spec_equal (const MrFlowSpec * a, const MrFlowSpec * b, gboolean with_ids)
{
  if (with_ids && (g_strcmp0 (a->id, b->id) != 0
          || a->created_at != b->created_at || a->updated_at != b->updated_at))
    return FALSE;
  return g_strcmp0 (a->name, b->name) == 0
      && g_strcmp0 (description_of (a), description_of (b)) == 0
      && endpoints_equal (a->sources, b->sources)
      && endpoints_equal (a->outputs, b->outputs)
      && a->redundancy == b->redundancy
      && a->failover_enabled == b->failover_enabled
      && a->failover_mode == b->failover_mode
      && a->recovery_window == b->recovery_window
      && g_strcmp0 (a->primary_source, b->primary_source) == 0
      && a->thumbnail_enabled == b->thumbnail_enabled
      && a->content_quality_enabled == b->content_quality_enabled
      && a->thumbnail_interval_sec == b->thumbnail_interval_sec
      && a->has_maintenance == b->has_maintenance
      && (!a->has_maintenance || (a->maintenance_day == b->maintenance_day
              && a->maintenance_hour == b->maintenance_hour));
}

/* ---------------------------------------------------------------------- */
/* secrets */

static gboolean
has_secret_member (JsonNode * node)
{
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    const gchar *m;
    JsonNode *v;

    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, &m, &v))
      if (g_str_equal (m, "passphrase") || g_str_equal (m, "stream_key")
          || has_secret_member (v))
        return TRUE;
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);

    for (guint i = 0; i < json_array_get_length (a); i++)
      if (has_secret_member (json_array_get_element (a, i)))
        return TRUE;
  }
  return FALSE;
}

static void
replace_secrets (GPtrArray * eps)
{
  for (guint i = 0; i < eps->len; i++) {
    MrEndpoint *ep = eps->pdata[i];

    if (ep->passphrase) {
      g_free (ep->passphrase);
      ep->passphrase = g_strdup ("another passphrase");
    }
    if (ep->stream_key) {
      g_free (ep->stream_key);
      ep->stream_key = g_strdup ("another stream key");
    }
  }
}

static gboolean
spec_has_secrets (const MrFlowSpec * spec)
{
  GPtrArray *lists[] = { spec->sources, spec->outputs };

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; i < lists[l]->len; i++) {
      MrEndpoint *ep = lists[l]->pdata[i];
      if (ep->passphrase || ep->stream_key || ep->cipher)
        return TRUE;
    }
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* flows */

static void
check_flow (const MrFlowSpec * parsed, MrSpecParseMode mode)
{
  g_autoptr (MrFlowSpec) spec = mr_flow_spec_copy (parsed);
  g_autoptr (MrFlowSpec) other = NULL;
  g_autoptr (MrFlowSpec) back = NULL;
  g_autoptr (JsonNode) stored = NULL;
  g_autoptr (JsonNode) public = NULL;
  g_autoptr (JsonNode) public_other = NULL;
  g_autoptr (JsonNode) reread = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *stored_text = NULL;
  g_autofree gchar *public_text = NULL;
  g_autofree gchar *public_other_text = NULL;
  g_autoptr (GPtrArray) warnings = warnings_new ();

  CHECK (spec_equal (parsed, spec, TRUE), "a copy differs from its flow");
  CHECK (mr_flow_spec_validate (spec, &err), "a parsed flow does not "
      "validate: %s", err->message);
  CHECK (spec->sources->len >= 1 && spec->sources->len <= MR_MAX_SOURCES
      && spec->outputs->len <= MR_MAX_OUTPUTS, "%u sources, %u outputs",
      spec->sources->len, spec->outputs->len);
  /* what the manager does to a new flow */
  if (mode == MR_SPEC_PARSE_REQUEST) {
    CHECK (spec->id == NULL && spec->created_at == 0, "a request gave an id "
        "or a time");
    spec->id = g_strdup (FUZZ_FLOW_ID);
    spec->created_at = spec->updated_at = FUZZ_CREATED;
  } else if (!spec->id) {
    spec->id = g_strdup (FUZZ_FLOW_ID);
  }

  /* storage: through the reader, back in stored mode, equal */
  stored = mr_flow_spec_to_json (spec, MR_SPEC_JSON_STORED, NULL);
  stored_text = json_to_string (stored, FALSE);
  reread = read_body (stored_text, strlen (stored_text), MR_JSON_MAX_DEPTH);
  CHECK (reread != NULL, "the stored JSON is refused by the reader: %s",
      stored_text);
  back = mr_flow_spec_from_json (reread, MR_SPEC_PARSE_STORED, warnings,
      &err);
  CHECK (back != NULL, "the stored JSON does not parse back: %s\n  %s",
      err->message, stored_text);
  CHECK (warnings->len == 0, "the stored JSON parses back with a warning: "
      "%s\n  %s", (const gchar *) warnings->pdata[0], stored_text);
  CHECK (spec_equal (spec, back, TRUE), "the stored JSON parses back to "
      "another flow: %s", stored_text);
  g_clear_pointer (&back, mr_flow_spec_free);
  g_clear_pointer (&reread, json_node_unref);

  /* the API's answer: no secret, the same whatever the secrets */
  public = mr_flow_spec_to_json (spec, MR_SPEC_JSON_PUBLIC, "STANDBY");
  CHECK (!has_secret_member (public), "a secret member in the public JSON");
  public_text = json_to_string (public, FALSE);
  other = mr_flow_spec_copy (spec);
  replace_secrets (other->sources);
  replace_secrets (other->outputs);
  public_other = mr_flow_spec_to_json (other, MR_SPEC_JSON_PUBLIC, "STANDBY");
  public_other_text = json_to_string (public_other, FALSE);
  CHECK (g_str_equal (public_text, public_other_text), "the public JSON "
      "depends on the secrets:\n  %s\n  %s", public_text, public_other_text);

  /* GET then POST back, as a Go client does, with the members the API
   * writes and does not read: without secrets to lose, the same flow and
   * not a word about them */
  if (!spec_has_secrets (spec)) {
    reread = read_body (public_text, strlen (public_text), MR_JSON_MAX_DEPTH);
    CHECK (reread != NULL, "the public JSON is refused by the reader: %s",
        public_text);
    back = mr_flow_spec_from_json (reread, MR_SPEC_PARSE_REQUEST, warnings,
        &err);
    CHECK (back != NULL, "the public JSON does not parse back as a request: "
        "%s\n  %s", err->message, public_text);
    CHECK (warnings->len == 0, "the public JSON parses back with a warning: "
        "%s\n  %s", (const gchar *) warnings->pdata[0], public_text);
    CHECK (spec_equal (spec, back, FALSE), "the public JSON parses back to "
        "another flow: %s", public_text);
    g_clear_pointer (&back, mr_flow_spec_free);
    g_clear_pointer (&reread, json_node_unref);
  }

  /* GET then PUT of the flow (secrets or not: a PUT keeps them): the same
   * flow, and not a word */
  reread = read_body (public_text, strlen (public_text), MR_JSON_MAX_DEPTH);
  CHECK (reread != NULL, "the public JSON is refused by the reader: %s",
      public_text);
  back = mr_flow_spec_patch (spec, reread, warnings, &err);
  CHECK (back != NULL, "the public JSON is refused as a PUT of its flow: "
      "%s\n  %s", err->message, public_text);
  CHECK (warnings->len == 0, "the public JSON as a PUT of its flow gives a "
      "warning: %s\n  %s", (const gchar *) warnings->pdata[0], public_text);
  CHECK (spec_equal (spec, back, TRUE), "the public JSON as a PUT of its "
      "flow gives another flow: %s", public_text);
}

static void
fuzz_flow (JsonNode * root, MrSpecParseMode mode)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (MrFlowSpec) spec = mr_flow_spec_from_json (root, mode, warnings,
      &err);

  if (!spec) {
    check_spec_error (err, root, mode == MR_SPEC_PARSE_REQUEST ?
        "flow request" : "stored flow");
    return;
  }
  CHECK (err == NULL, "a flow and an error");
  check_warnings (warnings, "flow");
  TRACE ("flow (%s mode): parsed\n", mode == MR_SPEC_PARSE_REQUEST ?
      "request" : "stored");
  check_flow (spec, mode);
}

/* ---------------------------------------------------------------------- */
/* endpoints */

static void
check_endpoint (const MrEndpoint * ep)
{
  g_autoptr (JsonNode) stored = mr_endpoint_to_json (ep, MR_SPEC_JSON_STORED);
  g_autoptr (JsonNode) public = mr_endpoint_to_json (ep, MR_SPEC_JSON_PUBLIC);
  g_autoptr (MrEndpoint) back = NULL;
  g_autoptr (MrEndpoint) copy = mr_endpoint_copy (ep);
  g_autoptr (GError) err = NULL;

  CHECK (endpoint_equal (ep, copy), "a copy differs from its endpoint");
  CHECK (!has_secret_member (public), "a secret member in an endpoint's "
      "public JSON");
  back = mr_endpoint_from_json (stored, ep->role, "", NULL, &err);
  CHECK (back != NULL, "an endpoint's stored JSON does not parse back: %s",
      err->message);
  CHECK (endpoint_equal (ep, back), "an endpoint's stored JSON parses back "
      "to another endpoint");
}

static void
fuzz_endpoint (JsonNode * root, MrEndpointRole role, const gchar * path)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (MrEndpoint) ep = mr_endpoint_from_json (root, role, path,
      warnings, &err);
  g_autoptr (JsonNode) wrapper = NULL;

  if (!ep) {
    /* the field is relative to the body that holds the endpoint at @path */
    g_autoptr (JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, path);
    json_builder_add_value (b, json_node_ref (root));
    json_builder_end_object (b);
    wrapper = json_builder_get_root (b);
    check_spec_error (err, wrapper, path);
    return;
  }
  CHECK (ep->role == role, "endpoint of role %d parsed as %d", role,
      ep->role);
  check_warnings (warnings, path);
  check_endpoint (ep);
}

/* The string member @name of an object member @block of @patch, if any */
static const gchar *
patch_string (JsonObject * patch, const gchar * block, const gchar * name)
{
  JsonNode *n;

  if (block) {
    n = json_object_get_member (patch, block);
    if (!n || !JSON_NODE_HOLDS_OBJECT (n))
      return NULL;
    patch = json_node_get_object (n);
  }
  n = json_object_get_member (patch, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static void
fuzz_patch (const MrEndpoint * base, JsonNode * patch)
{
  g_autoptr (MrEndpoint) before = mr_endpoint_copy (base);
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (MrEndpoint) ep = mr_endpoint_patch (base, patch, "", warnings,
      &err);
  JsonObject *obj = json_node_get_object (patch);

  CHECK (endpoint_equal (base, before), "mr_endpoint_patch changed the "
      "endpoint it was given");
  if (!ep) {
    check_spec_error (err, patch, "patch");
    return;
  }
  TRACE ("patch of %s: accepted\n", base->name);
  check_warnings (warnings, "patch");
  CHECK (ep->role == base->role, "a patch changed the role");
  check_endpoint (ep);
  if (ep->protocol != base->protocol) {
    const gchar *block = base->role == MR_ENDPOINT_SOURCE ? "decryption" :
        "encryption";

    CHECK (!ep->passphrase || g_strcmp0 (ep->passphrase,
            patch_string (obj, block, "passphrase")) == 0,
        "a protocol change kept the old passphrase");
    CHECK (!ep->stream_key || g_strcmp0 (ep->stream_key,
            patch_string (obj, NULL, "stream_key")) == 0,
        "a protocol change kept the old stream key");
  }
}

/* The body as a PUT of a flow's own fields onto @base */
static void
fuzz_flow_patch (const MrFlowSpec * base, JsonNode * patch)
{
  g_autoptr (MrFlowSpec) before = mr_flow_spec_copy (base);
  g_autoptr (GError) err = NULL;
  g_autoptr (GPtrArray) warnings = warnings_new ();
  g_autoptr (MrFlowSpec) spec = mr_flow_spec_patch (base, patch, warnings,
      &err);

  CHECK (spec_equal (base, before, TRUE), "mr_flow_spec_patch changed the "
      "flow it was given");
  if (!spec) {
    check_spec_error (err, patch, "flow patch");
    return;
  }
  TRACE ("flow patch: accepted\n");
  check_warnings (warnings, "flow patch");
  CHECK (g_strcmp0 (spec->id, base->id) == 0
      && spec->created_at == base->created_at
      && spec->updated_at == base->updated_at, "a flow patch changed the "
      "id or the times");
  CHECK (endpoints_equal (spec->sources, base->sources)
      && endpoints_equal (spec->outputs, base->outputs), "a flow patch "
      "changed the sources or the outputs");
  check_flow (spec, MR_SPEC_PARSE_STORED);
}

/* Flows to patch: one plain, one with failover, monitoring and a
 * maintenance window */
static const gchar *flow_bases[] = {
  "{\"name\":\"plain\",\"source\":{\"name\":\"a\",\"protocol\":\"udp\","
      "\"ingest_port\":5000}}",
  "{\"name\":\"full\",\"description\":\"d\",\"sources\":[{\"name\":\"a\","
      "\"protocol\":\"rtp\",\"ingest_port\":5000},{\"name\":\"b\","
      "\"protocol\":\"rist\",\"ingest_port\":5002}],\"outputs\":[{\"name\":"
      "\"o\",\"protocol\":\"udp\",\"destination\":\"127.0.0.1\",\"port\":"
      "6000}],\"source_failover_config\":{\"state\":\"ENABLED\","
      "\"failover_mode\":\"MERGE\",\"recovery_window\":50,"
      "\"source_priority\":{\"primary_source\":\"b\"}},"
      "\"source_monitor_config\":{\"thumbnail_enabled\":true},"
      "\"maintenance_window\":{\"day_of_week\":\"Sunday\",\"start_hour\":3}}",
};

static GPtrArray *flows;

/* Endpoints to patch: one of each protocol with most of its fields, and
 * what the body itself parsed to */
static const gchar *patch_bases[] = {
  "{\"name\":\"udp-in\",\"protocol\":\"udp\",\"ingest_port\":5000,"
      "\"ingest_address\":\"127.0.0.1\",\"description\":\"d\"}",
  "{\"name\":\"srt-in\",\"protocol\":\"srt-listener\",\"ingest_port\":5002,"
      "\"max_latency\":200,\"max_bitrate\":1000000,\"stream_id\":\"abc\","
      "\"decryption\":{\"algorithm\":\"aes128\",\"passphrase\":"
      "\"source secret 0123\"}}",
  "{\"name\":\"rtmp-in\",\"protocol\":\"rtmp\",\"destination\":"
      "\"rtmp://127.0.0.1/live\",\"stream_id\":\"x\"}",
  "{\"name\":\"rist-in\",\"protocol\":\"rist\",\"ingest_port\":5004}",
};

static const gchar *patch_bases_out[] = {
  "{\"name\":\"udp-out\",\"protocol\":\"udp\",\"destination\":\"127.0.0.1\","
      "\"port\":6000}",
  "{\"name\":\"srt-out\",\"protocol\":\"srt-caller\",\"destination\":"
      "\"example.com\",\"port\":9000,\"encryption\":{\"algorithm\":\"aes256\","
      "\"passphrase\":\"output secret 0123\"}}",
  "{\"name\":\"srtl-out\",\"protocol\":\"srt-listener\",\"port\":9001}",
  "{\"name\":\"rtmp-out\",\"protocol\":\"rtmp\",\"destination\":"
      "\"rtmp://a.example/app\",\"stream_key\":\"the stream key\"}",
  "{\"name\":\"rist-out\",\"protocol\":\"rist\",\"destination\":\"10.0.0.1\","
      "\"port\":7000}",
};

static GPtrArray *bases;

static void
init_bases (void)
{
  bases = g_ptr_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (patch_bases)
      + G_N_ELEMENTS (patch_bases_out); i++) {
    gboolean source = i < G_N_ELEMENTS (patch_bases);
    const gchar *text = source ? patch_bases[i] :
        patch_bases_out[i - G_N_ELEMENTS (patch_bases)];
    g_autoptr (JsonNode) node = json_from_string (text, NULL);
    g_autoptr (GError) err = NULL;
    MrEndpoint *ep = mr_endpoint_from_json (node, source ?
        MR_ENDPOINT_SOURCE : MR_ENDPOINT_OUTPUT, "", NULL, &err);

    if (!ep) {
      fprintf (stderr, "flow-spec-fuzz: base endpoint refused: %s\n",
          err->message);
      abort ();
    }
    g_ptr_array_add (bases, ep);
  }
  flows = g_ptr_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (flow_bases); i++) {
    g_autoptr (JsonNode) node = json_from_string (flow_bases[i], NULL);
    g_autoptr (GError) err = NULL;
    MrFlowSpec *spec = mr_flow_spec_from_json (node, MR_SPEC_PARSE_REQUEST,
        NULL, &err);

    if (!spec) {
      fprintf (stderr, "flow-spec-fuzz: base flow refused: %s\n",
          err->message);
      abort ();
    }
    spec->id = g_strdup (FUZZ_FLOW_ID);
    spec->created_at = spec->updated_at = FUZZ_CREATED;
    g_ptr_array_add (flows, spec);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autoptr (JsonNode) root = NULL;
  JsonNode *shallow, *outputs;
  JsonObject *obj;

  if (!bases) {
    init_bases ();
    trace = g_getenv ("FLOW_FUZZ_TRACE") != NULL;
  }

  /* the reader at a smaller depth too, where short inputs reach it */
  if ((shallow = read_body ((const gchar *) data, size, 3)))
    json_node_unref (shallow);
  root = read_body ((const gchar *) data, size, MR_JSON_MAX_DEPTH);
  if (!root)
    return 0;
  obj = json_node_get_object (root);

  fuzz_flow (root, MR_SPEC_PARSE_REQUEST);
  fuzz_flow (root, MR_SPEC_PARSE_STORED);
  fuzz_endpoint (root, MR_ENDPOINT_SOURCE, "source");
  fuzz_endpoint (root, MR_ENDPOINT_OUTPUT, "outputs[0]");

  /* the body as a PATCH of an output or a source of each protocol; and
   * each element of its "outputs", so that a flow body brings patches */
  for (guint i = 0; i < bases->len; i++)
    fuzz_patch (bases->pdata[i], root);
  /* the body as a PUT of a flow */
  for (guint i = 0; i < flows->len; i++)
    fuzz_flow_patch (flows->pdata[i], root);
  outputs = json_object_get_member (obj, "outputs");
  if (outputs && JSON_NODE_HOLDS_ARRAY (outputs)) {
    JsonArray *a = json_node_get_array (outputs);

    for (guint i = 0; i < json_array_get_length (a) && i < 4; i++) {
      JsonNode *patch = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_OBJECT (patch))
        fuzz_patch (bases->pdata[(i * 3) % bases->len], patch);
    }
  }
  return 0;
}

#ifdef MR_FUZZ_STANDALONE
#include "standalone.h"

/* Random bodies for the standalone run: flows and endpoints from the
 * fields the API knows, with values of the right type most of the time,
 * then a few bytes changed now and then. */

static const gchar *protocols[] = { "udp", "rtp", "rtp-fec", "rist",
  "srt-listener", "srt-caller", "rtmp", "UDP", "srt"
};

static const gchar *strings[] = { "a", "primary", "backup", "out1", "x.y-z_1",
  "127.0.0.1", "::1", "example.com", "rtmp://127.0.0.1/live",
  "rtmps://h:1935/app/key", "aes128", "aes192", "aes256", "ENABLED",
  "DISABLED", "FAILOVER", "MERGE", "Monday", "sunday", "0123456789",
  "a passphrase of some length", "", "bad name!", "\\u00e9t\\u00e9",
  "a: b", "2026-11-21T10:00:00Z", "0999-01-01T00:00:00Z",
  "9999-12-31T23:59:59-05:00", "\\u0000", "\\377",
};

static void
random_value (GString * s, guint depth)
{
  switch (mr_fuzz_random () % 12) {
    case 0:
      g_string_append (s, mr_fuzz_random () % 2 ? "true" : "false");
      break;
    case 1:
      g_string_append (s, "null");
      break;
    case 2:
    case 3:{
      static const gint64 ints[] = { 0, 1, 2, 9, 10, 23, 24, 100, 5000, 5001,
        6000, 60000, 60001, 65535, 65536, -1, G_MAXINT64
      };
      g_string_append_printf (s, "%" G_GINT64_FORMAT,
          ints[mr_fuzz_random () % G_N_ELEMENTS (ints)]);
      break;
    }
    case 4:
      g_string_append (s, "1.5");
      break;
    case 5:
      if (depth < 3) {
        g_string_append (s, "[");
        random_value (s, depth + 1);
        g_string_append (s, "]");
        break;
      }
      /* fall through */
    default:
      g_string_append_printf (s, "\"%s\"",
          mr_fuzz_random () % 3 ? strings[mr_fuzz_random () %
              G_N_ELEMENTS (strings)] :
          protocols[mr_fuzz_random () % G_N_ELEMENTS (protocols)]);
      break;
  }
}

static void
random_member (GString * s, const gchar * name, guint depth)
{
  if (s->str[s->len - 1] != '{')
    g_string_append_c (s, ',');
  g_string_append_printf (s, "\"%s\":", name);
  random_value (s, depth);
}

static void
random_endpoint (GString * s, gboolean source)
{
  guint proto = mr_fuzz_random () % 7;
  guint port = 5000 + 2 * (mr_fuzz_random () % 4);

  g_string_append_printf (s, "{\"name\":\"%s\",\"protocol\":\"%s\"",
      strings[mr_fuzz_random () % 5], protocols[proto]);
  if (source && proto != 5 && proto != 6)
    g_string_append_printf (s, ",\"ingest_port\":%u", port);
  else if (proto != 6)
    g_string_append_printf (s, ",\"destination\":\"%s\",\"port\":%u",
        strings[5 + mr_fuzz_random () % 3], port + 1000);
  else
    g_string_append (s, ",\"destination\":\"rtmp://127.0.0.1/live\"");
  if (mr_fuzz_random () % 3 == 0)
    g_string_append_printf (s, ",\"%s\":{\"algorithm\":\"aes%u\","
        "\"passphrase\":\"%s\"}", source ? "decryption" : "encryption",
        128 + 64 * (mr_fuzz_random () % 3), mr_fuzz_random () % 4 ?
        "a passphrase of some length" : "short");
  if (!source && mr_fuzz_random () % 4 == 0)
    g_string_append (s, ",\"stream_key\":\"the key\"");
  for (guint n = mr_fuzz_random () % 3; n > 0; n--)
    random_member (s, known_fields[mr_fuzz_random () % 15], 1);
  g_string_append_c (s, '}');
}

static gsize
random_body (guint8 * buf, gsize max_len)
{
  g_autoptr (GString) s = g_string_new ("{");
  guint kind = mr_fuzz_random () % 8;
  gsize len;

  if (kind == 0) {
    /* an endpoint or a patch */
    g_string_truncate (s, 0);
    random_endpoint (s, mr_fuzz_random () % 2);
  } else {
    g_string_append_printf (s, "\"name\":\"%s\"", strings[mr_fuzz_random () %
            5]);
    if (mr_fuzz_random () % 2) {
      g_string_append (s, ",\"source\":");
      random_endpoint (s, TRUE);
    } else {
      g_string_append (s, ",\"sources\":[");
      random_endpoint (s, TRUE);
      if (mr_fuzz_random () % 2) {
        g_string_append_c (s, ',');
        random_endpoint (s, TRUE);
      }
      g_string_append_c (s, ']');
    }
    g_string_append (s, ",\"outputs\":[");
    for (guint n = mr_fuzz_random () % 4; n > 0; n--) {
      random_endpoint (s, FALSE);
      if (n > 1)
        g_string_append_c (s, ',');
    }
    g_string_append_c (s, ']');
    if (mr_fuzz_random () % 2)
      g_string_append_printf (s, ",\"source_failover_config\":{\"state\":"
          "\"%s\",\"failover_mode\":\"%s\",\"recovery_window\":%u%s}",
          mr_fuzz_random () % 2 ? "ENABLED" : "DISABLED",
          mr_fuzz_random () % 3 ? "FAILOVER" : "MERGE",
          10 + mr_fuzz_random () % 1000, mr_fuzz_random () % 2 ?
          ",\"source_priority\":{\"primary_source\":\"primary\"}" : "");
    if (mr_fuzz_random () % 2)
      g_string_append_printf (s, ",\"maintenance_window\":{\"day_of_week\":"
          "\"%s\",\"start_hour\":%u}", mr_fuzz_random () % 2 ? "friday" :
          "Sunday", mr_fuzz_random () % 25);
    if (mr_fuzz_random () % 2)
      g_string_append (s, ",\"source_monitor_config\":{\"thumbnail_enabled\":"
          "true,\"thumbnail_interval_sec\":10}");
    if (mr_fuzz_random () % 3 == 0)
      g_string_append_printf (s, ",\"created_at\":\"%s\",\"id\":\"f\"",
          strings[25 + mr_fuzz_random () % 3]);
    for (guint n = mr_fuzz_random () % 3; n > 0; n--)
      random_member (s, known_fields[mr_fuzz_random () %
              G_N_ELEMENTS (known_fields)], 0);
    g_string_append_c (s, '}');
  }

  len = MIN (s->len, max_len);
  memcpy (buf, s->str, len);
  /* now and then a few bytes changed */
  if (mr_fuzz_random () % 4 == 0) {
    static const gchar tokens[] = "{}[]\"':,/*\\ 0a";
    for (guint n = 1 + mr_fuzz_random () % 3; n > 0 && len > 0; n--)
      buf[mr_fuzz_random () % len] = tokens[mr_fuzz_random () %
          (sizeof (tokens) - 1)];
  }
  return len;
}

const MrFuzzStandalone mr_fuzz_standalone = {
  .name = "flow-spec",
  .runs_env = "FLOW_FUZZ_RUNS",
  .runs = 3000,
  .runs_valgrind = 1000,
  .max_len = 4096,
  .random_input = random_body,
};
#endif /* MR_FUZZ_STANDALONE */
