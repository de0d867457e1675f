/* mroute: a flow spec written as JSON, for the API (without secrets) or
 * for storage (with them). */

#define G_LOG_DOMAIN "mroute-flow-spec"
#include "flow-spec.h"
#include "spec-fields.h"


JsonNode *
mr_endpoint_to_json (const MrEndpoint * ep, MrSpecJsonMode mode)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, ep->name);
  json_builder_set_member_name (b, "protocol");
  json_builder_add_string_value (b, mr_protocol_to_string (ep->protocol));
  if (ep->description) {
    json_builder_set_member_name (b, "description");
    json_builder_add_string_value (b, ep->description);
  }
  if (ep->ingest_port) {
    json_builder_set_member_name (b, "ingest_port");
    json_builder_add_int_value (b, ep->ingest_port);
  }
  if (ep->ingest_address) {
    json_builder_set_member_name (b, "ingest_address");
    json_builder_add_string_value (b, ep->ingest_address);
  }
  if (ep->destination) {
    json_builder_set_member_name (b, "destination");
    json_builder_add_string_value (b, ep->destination);
  }
  if (ep->port) {
    json_builder_set_member_name (b, "port");
    json_builder_add_int_value (b, ep->port);
  }
  if (mr_endpoint_has_legs (ep)) {
    json_builder_set_member_name (b, "legs");
    json_builder_begin_array (b);
    for (guint i = 0; i < MR_MAX_LEGS; i++) {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "address");
      json_builder_add_string_value (b, ep->legs[i].address);
      json_builder_set_member_name (b, "port");
      json_builder_add_int_value (b, ep->legs[i].port);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
  }
  if (ep->source_address) {
    json_builder_set_member_name (b, "source_address");
    json_builder_add_string_value (b, ep->source_address);
  }
  if (ep->iface) {
    json_builder_set_member_name (b, "interface");
    json_builder_add_string_value (b, ep->iface);
  }
  if (ep->ttl >= 0) {
    json_builder_set_member_name (b, "ttl");
    json_builder_add_int_value (b, ep->ttl);
  }
  if (ep->dscp >= 0) {
    json_builder_set_member_name (b, "dscp");
    json_builder_add_int_value (b, ep->dscp);
  }
  if (ep->segment_duration >= 0) {
    json_builder_set_member_name (b, "segment_duration");
    json_builder_add_int_value (b, ep->segment_duration);
  }
  if (ep->window >= 0) {
    json_builder_set_member_name (b, "window");
    json_builder_add_int_value (b, ep->window);
  }
  if (ep->max_latency >= 0) {
    json_builder_set_member_name (b, "max_latency");
    json_builder_add_int_value (b, ep->max_latency);
  }
  if (ep->min_latency >= 0) {
    json_builder_set_member_name (b, "min_latency");
    json_builder_add_int_value (b, ep->min_latency);
  }
  if (ep->max_bitrate >= 0) {
    json_builder_set_member_name (b, "max_bitrate");
    json_builder_add_int_value (b, ep->max_bitrate);
  }
  if (ep->stream_id) {
    json_builder_set_member_name (b, "stream_id");
    json_builder_add_string_value (b, ep->stream_id);
  }
  if (ep->stream_key && mode == MR_SPEC_JSON_STORED) {
    json_builder_set_member_name (b, "stream_key");
    json_builder_add_string_value (b, ep->stream_key);
  }
  if (ep->path) {
    json_builder_set_member_name (b, "path");
    json_builder_add_string_value (b, ep->path);
  }
  if (ep->user) {
    json_builder_set_member_name (b, "user");
    json_builder_add_string_value (b, ep->user);
  }
  /* the password is a secret: stored, never answered; the answer says
   * whether there is one */
  if (ep->password && mode == MR_SPEC_JSON_STORED) {
    json_builder_set_member_name (b, "password");
    json_builder_add_string_value (b, ep->password);
  } else if (ep->password) {
    json_builder_set_member_name (b, "password_set");
    json_builder_add_boolean_value (b, TRUE);
  }
  if (ep->cipher) {
    json_builder_set_member_name (b, ep->role == MR_ENDPOINT_SOURCE ?
        "decryption" : "encryption");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "algorithm");
    json_builder_add_string_value (b, ep->cipher);
    if (mode == MR_SPEC_JSON_STORED) {
      json_builder_set_member_name (b, "passphrase");
      json_builder_add_string_value (b, ep->passphrase);
    }
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gchar *
mr_format_time (gint64 usec)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr (GDateTime) full = NULL;

  if (!dt)
    return g_strdup ("1970-01-01T00:00:00Z");
  full = g_date_time_add (dt, usec % G_USEC_PER_SEC);
  if (!full)
    return g_strdup ("1970-01-01T00:00:00Z");
  /* not %Y: it does not pad, and "999-01-01" is not ISO 8601 */
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
      g_date_time_get_year (full), g_date_time_get_month (full),
      g_date_time_get_day_of_month (full), g_date_time_get_hour (full),
      g_date_time_get_minute (full), g_date_time_get_second (full),
      g_date_time_get_microsecond (full));
}

JsonNode *
mr_flow_spec_to_json (const MrFlowSpec * spec, MrSpecJsonMode mode,
    const gchar * status)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *created = mr_format_time (spec->created_at);
  g_autofree gchar *updated = mr_format_time (spec->updated_at);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, spec->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, spec->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, spec->description ? spec->description : "");
  if (status) {
    json_builder_set_member_name (b, "status");
    json_builder_add_string_value (b, status);
  }
  json_builder_set_member_name (b, "redundancy");
  json_builder_add_int_value (b, spec->redundancy);
  if (mode == MR_SPEC_JSON_PUBLIC) {
    json_builder_set_member_name (b, "source");
    json_builder_add_value (b, mr_endpoint_to_json (spec->sources->pdata[0],
            mode));
  }
  json_builder_set_member_name (b, "sources");
  json_builder_begin_array (b);
  for (guint i = 0; i < spec->sources->len; i++)
    json_builder_add_value (b, mr_endpoint_to_json (spec->sources->pdata[i],
            mode));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "outputs");
  json_builder_begin_array (b);
  for (guint i = 0; i < spec->outputs->len; i++)
    json_builder_add_value (b, mr_endpoint_to_json (spec->outputs->pdata[i],
            mode));
  json_builder_end_array (b);

  json_builder_set_member_name (b, "source_failover_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, spec->failover_enabled ? "ENABLED" :
      "DISABLED");
  json_builder_set_member_name (b, "failover_mode");
  json_builder_add_string_value (b,
      spec->failover_mode == MR_FAILOVER_MODE_MERGE ? "MERGE" : "FAILOVER");
  json_builder_set_member_name (b, "recovery_window");
  json_builder_add_int_value (b, spec->recovery_window);
  if (spec->primary_source) {
    json_builder_set_member_name (b, "source_priority");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "primary_source");
    json_builder_add_string_value (b, spec->primary_source);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "source_monitor_config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "thumbnail_enabled");
  json_builder_add_boolean_value (b, spec->thumbnail_enabled);
  json_builder_set_member_name (b, "content_quality_enabled");
  json_builder_add_boolean_value (b, spec->content_quality_enabled);
  json_builder_set_member_name (b, "thumbnail_interval_sec");
  json_builder_add_int_value (b, spec->thumbnail_interval_sec);
  json_builder_set_member_name (b, "black_threshold_sec");
  json_builder_add_double_value (b, spec->black_threshold_sec);
  json_builder_set_member_name (b, "frozen_threshold_sec");
  json_builder_add_double_value (b, spec->frozen_threshold_sec);
  json_builder_set_member_name (b, "silent_threshold_sec");
  json_builder_add_double_value (b, spec->silent_threshold_sec);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "maintenance_window");
  if (spec->has_maintenance) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "day_of_week");
    json_builder_add_string_value (b, mr_day_name (spec->maintenance_day));
    json_builder_set_member_name (b, "start_hour");
    json_builder_add_int_value (b, spec->maintenance_hour);
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }

  mr_flow_spec_write_recording (spec, b);

  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, created);
  json_builder_set_member_name (b, "updated_at");
  json_builder_add_string_value (b, updated);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gchar *
mr_generate_flow_id (void)
{
  return g_strdup_printf ("flow_%08x%04x", g_random_int (),
      g_random_int () & 0xffff);
}
