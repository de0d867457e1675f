/* mroute: what the readers of a flow spec share (flow-spec.c, the flow;
 * endpoint.c, its sources and outputs): typed getters that say which field
 * is wrong, and the warnings about members nobody reads.  Private to
 * controller/core/. */

#ifndef __MR_SPEC_FIELDS_H__
#define __MR_SPEC_FIELDS_H__

#include <glib.h>
#include <json-glib/json-glib.h>

#include "flow-spec.h"

G_BEGIN_DECLS

/* Each reads @node (never null: a null member is not given) into *@out,
 * or sets an MR_SPEC_ERROR about "@path.@field" and returns FALSE/NULL */
gboolean mr_spec_get_string (JsonNode * node, const gchar * path,
    const gchar * field, gsize max_len, gchar ** out, GError ** error);
gboolean mr_spec_get_int (JsonNode * node, const gchar * path,
    const gchar * field, gint64 min, gint64 max, gint64 * out,
    GError ** error);
/* an integer or a fraction */
gboolean mr_spec_get_seconds (JsonNode * node, const gchar * path,
    const gchar * field, gdouble min, gdouble max, gdouble * out,
    GError ** error);
gboolean mr_spec_get_bool (JsonNode * node, const gchar * path,
    const gchar * field, gboolean * out, GError ** error);
JsonObject *mr_spec_get_object (JsonNode * node, const gchar * path,
    const gchar * field, GError ** error);

/* The flow's "recording" object (flow-spec-recording.c): read member by
 * member onto @spec, written whole */
gboolean mr_flow_spec_parse_recording (MrFlowSpec * spec, JsonNode * node,
    GPtrArray * warnings, GError ** error);
void mr_flow_spec_write_recording (const MrFlowSpec * spec, JsonBuilder * b);

/* Appends @warning (taken) to @warnings (NULL: none), up to
 * MR_SPEC_MAX_WARNINGS */
void mr_spec_add_warning (GPtrArray * warnings, gchar * warning);
/* A member nobody reads: dropped, and said in @warnings unless it is one
 * of @read_only (NULL: none), which the API wrote itself */
void mr_spec_ignore_member (GPtrArray * warnings,
    const gchar * const *read_only, const gchar * path, const gchar * member);

G_END_DECLS

#endif /* __MR_SPEC_FIELDS_H__ */
