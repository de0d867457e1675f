/* mroute: the configuration of a flow, its validation and its JSON form.
 *
 * No HTTP, no SQLite, no GStreamer here: a flow spec is parsed from JSON,
 * validated, and written back to JSON either for the API (never with
 * secrets) or for storage (with them).
 */

#ifndef __MR_FLOW_SPEC_H__
#define __MR_FLOW_SPEC_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MR_MAX_SOURCES 2
#define MR_MAX_OUTPUTS 50
/* redundancy 2 (1+1, docs/cluster.md): a flow runs on two nodes at once,
 * slot 0 and slot 1, each sending its leg */
#define MR_MAX_REDUNDANCY 2
#define MR_MAX_LEGS MR_MAX_REDUNDANCY
/* source_monitor_config.*_threshold_sec: FFmpeg's 2 s by default */
#define MR_CONTENT_THRESHOLD_DEFAULT 2.0
#define MR_CONTENT_THRESHOLD_MIN 0.1
#define MR_CONTENT_THRESHOLD_MAX 3600.0

typedef enum
{
  MR_PROTOCOL_INVALID = -1,
  MR_PROTOCOL_UDP = 0,
  MR_PROTOCOL_RTP,
  MR_PROTOCOL_RTP_FEC,
  MR_PROTOCOL_RIST,
  MR_PROTOCOL_SRT_LISTENER,
  MR_PROTOCOL_SRT_CALLER,
  MR_PROTOCOL_RTMP,
  MR_PROTOCOL_HLS,
  MR_PROTOCOL_RTSP,             /* an output only: a mount of the
                                 * controller's RTSP server */
} MrProtocol;

const gchar *mr_protocol_to_string (MrProtocol protocol);
/* 0 = Monday .. 6 = Sunday */
const gchar *mr_day_name (gint day);
MrProtocol mr_protocol_from_string (const gchar * str);

typedef enum
{
  MR_ENDPOINT_SOURCE,
  MR_ENDPOINT_OUTPUT,
} MrEndpointRole;

/* One leg of an output of a 1+1 flow: where the node running slot N
 * sends it */
typedef struct
{
  gchar *address;
  gint port;
} MrLeg;

/* A source or an output: they share most fields. */
typedef struct
{
  MrEndpointRole role;
  gchar *name;
  gchar *description;
  MrProtocol protocol;
  gint ingest_port;             /* 0 = unset */
  gchar *ingest_address;
  gchar *destination;
  gint port;                    /* 0 = unset */
  gint max_latency;             /* ms, -1 = unset */
  /* ms, -1 = unset: the original's field; SRT takes the larger of the two
   * latencies (pipeline/transports/srt.c), the others do not use it */
  gint min_latency;
  gint64 max_bitrate;           /* bytes/s, -1 = unset */
  gchar *stream_id;
  gchar *stream_key;            /* secret */
  gchar *cipher;                /* "aes128"..., NULL = none */
  gchar *passphrase;            /* secret */
  /* multicast (udp, rtp, rtp-fec; core/protocols/multicast.c): a source's
   * source-specific sender; the interface a source joins its group on or
   * an output's multicast leaves by; an output's TTL (hops) and DSCP */
  gchar *source_address;
  gchar *iface;                 /* JSON "interface" */
  gint ttl;                     /* 1..255, -1 = unset (the sink's 1) */
  gint dscp;                    /* 0..63, -1 = unset (the system's) */
  /* hls outputs (core/protocols/hls.c): seconds a segment lasts at least
   * (cut at the next key frame), segments in the playlist; -1 = unset */
  gint segment_duration;
  gint window;
  /* rtsp (core/protocols/rtsp.c): the mount's path on the controller's
   * RTSP server, and the optional Basic credentials of its viewers */
  gchar *path;
  gchar *user;
  gchar *password;              /* secret */
  /* an output (udp, rtp) of a flow with redundancy 2: the destination of
   * each slot's leg instead of destination:port; none: legs[0].address
   * is NULL */
  MrLeg legs[MR_MAX_LEGS];
} MrEndpoint;

static inline gboolean
mr_endpoint_has_legs (const MrEndpoint * ep)
{
  return ep->legs[0].address != NULL;
}

MrEndpoint *mr_endpoint_copy (const MrEndpoint * ep);
/* Whether @a and @b are rtmp sources that listen on one port (one
 * listener in the process, publishers routed by stream key), of one flow
 * or of two: *@clash then says whether they cannot both (the same
 * stream_id, or two ingest_address) */
gboolean mr_endpoint_rtmp_same_port (const MrEndpoint * a,
    const MrEndpoint * b, gboolean * clash);
void mr_endpoint_free (MrEndpoint * ep);
/* Takes @ep's legs away */
void mr_endpoint_clear_legs (MrEndpoint * ep);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrEndpoint, mr_endpoint_free);

typedef enum
{
  MR_FAILOVER_MODE_FAILOVER,
  MR_FAILOVER_MODE_MERGE,
} MrFailoverMode;

typedef struct
{
  gchar *id;
  gchar *name;
  gchar *description;
  GPtrArray *sources;           /* MrEndpoint*, 1..MR_MAX_SOURCES */
  GPtrArray *outputs;           /* MrEndpoint*, 0..MR_MAX_OUTPUTS */

  gboolean failover_enabled;
  MrFailoverMode failover_mode;
  gint recovery_window;         /* ms */
  gchar *primary_source;        /* NULL = first source */

  gboolean thumbnail_enabled;
  gboolean content_quality_enabled;
  gint thumbnail_interval_sec;
  /* how long a black picture, a frozen picture or silence must last to be
   * a stretch (content_black, ... events), in s */
  gdouble black_threshold_sec;
  gdouble frozen_threshold_sec;
  gdouble silent_threshold_sec;

  gboolean has_maintenance;
  gint maintenance_day;         /* 0 = Monday .. 6 = Sunday */
  gint maintenance_hour;        /* UTC */

  /* recording (core/flow-spec-recording.c, docs/recording.md) */
  gboolean recording_enabled;
  gint recording_segment_duration;      /* s */
  gchar *recording_folder;      /* NULL: recordings/ beside the database */
  gint64 recording_delete_after;        /* s, 0 = never */

  /* 1, or 2: two nodes of a cluster run it at once (1+1), each sending
   * its outputs' legs (docs/cluster.md) */
  gint redundancy;

  gint64 created_at;            /* µs since the epoch */
  gint64 updated_at;
} MrFlowSpec;

#define MR_RECORDING_DEFAULT_SEGMENT_DURATION 60      /* s */
#define MR_RECORDING_DEFAULT_DELETE_AFTER (7 * 24 * 3600)  /* s */

/* The folder of @spec's recordings: its id below its recording folder, or
 * below @default_root when it has none */
gchar *mr_flow_spec_recording_dir (const MrFlowSpec * spec,
    const gchar * default_root);

MrFlowSpec *mr_flow_spec_copy (const MrFlowSpec * spec);
/* A copy of @spec as the node running its slot @slot sends it: every
 * output with legs has legs[@slot] as its destination and port */
MrFlowSpec *mr_flow_spec_for_leg (const MrFlowSpec * spec, guint slot);
void mr_flow_spec_free (MrFlowSpec * spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrFlowSpec, mr_flow_spec_free);

/* Validation errors (400): the message is "FIELD: reason" for people; the
 * field path ("outputs[2].port") travels with the error as data (a GLib
 * extended error domain): mr_spec_error_field (). */
#define MR_SPEC_ERROR (mr_spec_error_quark ())
GQuark mr_spec_error_quark (void);
typedef enum
{
  MR_SPEC_ERROR_INVALID,
} MrSpecError;
/* Sets an MR_SPEC_ERROR_INVALID about @field (NULL: the whole body); the
 * message becomes "FIELD: reason" ("body: reason" without a field) and is
 * made valid UTF-8 (a field path may quote what a client sent). */
void mr_spec_error_set (GError ** error, const gchar * field,
    const gchar * fmt, ...) G_GNUC_PRINTF (3, 4);
/* The field path of a validation error, or NULL (not one, or about the
 * whole body) */
gchar *mr_spec_error_field (const GError * error);

typedef enum
{
  MR_SPEC_PARSE_REQUEST = 0,    /* from a client: no id, no timestamps */
  MR_SPEC_PARSE_STORED = 1,     /* from our own storage */
} MrSpecParseMode;

/* What a body may hold besides the fields the spec reads (the parsers
 * below, all modes):
 *  - a member whose value is null is not given (a PATCH leaves it as it
 *    was), as Go's encoding/json reads it;
 *  - the members the API itself returns and does not take (a flow's "id",
 *    "status", "created_at", "updated_at", "warnings"; an endpoint's
 *    metrics, "status", "connected", ...), so that a body a client read
 *    back can be sent again, are ignored without a word;
 *  - any other unknown member is ignored too, and said in @warnings
 *    ("unknown field 'outputs[1].foo' ignored", at most
 *    MR_SPEC_MAX_WARNINGS of them, then one line for the rest).
 * @warnings: a GPtrArray of gchar* (with g_free) to append to, or NULL.
 * On error, what it holds is meaningless. */
#define MR_SPEC_MAX_WARNINGS 50

MrFlowSpec *mr_flow_spec_from_json (JsonNode * node, MrSpecParseMode mode,
    GPtrArray * warnings, GError ** error);
MrEndpoint *mr_endpoint_from_json (JsonNode * node, MrEndpointRole role,
    const gchar * path, GPtrArray * warnings, GError ** error);
/* Applies the members of @patch onto a copy of @ep and validates the
 * result; @ep is untouched on error. */
MrEndpoint *mr_endpoint_patch (const MrEndpoint * ep, JsonNode * patch,
    const gchar * path, GPtrArray * warnings, GError ** error);

/* Applies the members of @patch (a PUT of the flow) onto a copy of @spec
 * and validates the result as a create does; @spec is untouched on error.
 * Only the flow's own fields change (name, description, the failover,
 * monitoring and maintenance objects, each member by member); "source",
 * "sources" and "outputs" are ignored, with a warning unless they are the
 * flow's own as its answer gives them; the rest as above. */
MrFlowSpec *mr_flow_spec_patch (const MrFlowSpec * spec, JsonNode * patch,
    GPtrArray * warnings, GError ** error);

/* Whole-flow checks: names unique, counts, primary source exists. */
gboolean mr_flow_spec_validate (const MrFlowSpec * spec, GError ** error);

MrEndpoint *mr_flow_spec_find_source (const MrFlowSpec * spec,
    const gchar * name, guint * index);
MrEndpoint *mr_flow_spec_find_output (const MrFlowSpec * spec,
    const gchar * name, guint * index);

typedef enum
{
  MR_SPEC_JSON_PUBLIC = 0,      /* for the API: secrets left out */
  MR_SPEC_JSON_STORED = 1,      /* for the database: everything */
} MrSpecJsonMode;

JsonNode *mr_flow_spec_to_json (const MrFlowSpec * spec, MrSpecJsonMode mode,
    const gchar * status);
JsonNode *mr_endpoint_to_json (const MrEndpoint * ep, MrSpecJsonMode mode);

gchar *mr_format_time (gint64 usec);
gchar *mr_generate_flow_id (void);

G_END_DECLS

#endif /* __MR_FLOW_SPEC_H__ */
