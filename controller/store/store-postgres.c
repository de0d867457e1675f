/* mroute: the store on PostgreSQL (libpq), shared by the nodes of a
 * cluster.
 *
 * One connection, used from the main thread; every call is one prepared
 * statement, one round trip, atomic by itself (autocommit), except
 * mr_store_claim_flows (): a read of the candidates, then one statement
 * that takes them.  Times of nodes and leases are the server's now().  A
 * connection found broken is opened again at once, its statements
 * prepared again, and a statement that can run twice run again
 * (docs/cluster.md, "Store").
 */

#define G_LOG_DOMAIN "mroute-store"
#include "store-private.h"

#include <libpq-fe.h>
#include <string.h>

/* pg_advisory_xact_lock's key while migrating: "mroute" in ASCII */
#define MIGRATION_LOCK "107519454328180"
#define RESET_INTERVAL_US G_USEC_PER_SEC

typedef enum
{
  PUT_FLOW,
  DELETE_FLOW,
  SET_RUNNING,
  LIST_FLOWS,
  FLOW_VERSIONS,
  GET_FLOW,
  ADD_EVENT,
  LIST_EVENTS,
  LIST_FLOW_EVENTS,
  NODE_HEARTBEAT,
  LIST_NODES,
  RENEW_LEASES,
  CLAIM_CANDIDATES,
  CLAIM_TAKE,
  RELEASE_LEASE,
  LIST_LEASES,
  N_STATEMENTS
} Statement;

#define LEASE_COLUMNS "l.flow_id, l.slot, l.owner, " \
  "(extract(epoch FROM l.expires_at - now()) * 1000)::bigint, l.state"

/* Prepared once per connection under the name "mr<index>". */
static const gchar *const statements[N_STATEMENTS] = {
  /* version: from a sequence, so higher than any a flow had, even one
   * deleted and made again with its id; lowering the redundancy drops
   * the lease of the slot that goes */
  [PUT_FLOW] = "WITH up AS (INSERT INTO flows (id, spec, redundancy, "
      "created_seq, version) VALUES ($1, $2, $3, "
      "nextval('flows_created_seq'), nextval('flows_version_seq')) "
      "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, "
      "redundancy = excluded.redundancy, version = excluded.version "
      "RETURNING id) "
      "DELETE FROM leases WHERE flow_id = $1 AND slot >= $3",
  /* its leases go with it (ON DELETE CASCADE) */
  [DELETE_FLOW] = "WITH e AS (DELETE FROM events WHERE flow_id = $1) "
      "DELETE FROM flows WHERE id = $1",
  [SET_RUNNING] = "UPDATE flows SET running = $2, "
      "version = nextval('flows_version_seq') WHERE id = $1",
  [LIST_FLOWS] = "SELECT id, spec, running, version FROM flows "
      "ORDER BY created_seq",
  [FLOW_VERSIONS] = "SELECT id, version FROM flows",
  [GET_FLOW] = "SELECT spec, running, version FROM flows WHERE id = $1",
  /* the DELETE sees the events before the INSERT: keeps $7 of them */
  [ADD_EVENT] = "WITH ins AS (INSERT INTO events (flow_id, type, severity, "
      "message, ts, node_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id), "
      "p AS (DELETE FROM events WHERE flow_id = $1 AND id <= "
      "(SELECT id FROM events WHERE flow_id = $1 ORDER BY id DESC "
      "LIMIT 1 OFFSET $7)) SELECT id FROM ins",
  [LIST_EVENTS] = "SELECT id, flow_id, type, severity, message, ts, node_id "
      "FROM events ORDER BY id DESC LIMIT $1",
  [LIST_FLOW_EVENTS] = "SELECT id, flow_id, type, severity, message, ts, "
      "node_id FROM events WHERE flow_id = $1 ORDER BY id DESC LIMIT $2",
  [NODE_HEARTBEAT] = "INSERT INTO nodes (id, api_url, max_flows, labels, "
      "started_at, heartbeat_at) VALUES ($1, $2, $3, $4, now(), now()) "
      "ON CONFLICT (id) DO UPDATE SET api_url = excluded.api_url, "
      "max_flows = excluded.max_flows, labels = excluded.labels, "
      "heartbeat_at = now(), started_at = CASE WHEN $5::boolean "
      "THEN now() ELSE nodes.started_at END",
  [LIST_NODES] = "SELECT n.id, n.api_url, n.labels, n.max_flows, "
      "(extract(epoch FROM now() - n.heartbeat_at) * 1000)::bigint, "
      "(SELECT count(*) FROM leases l WHERE l.owner = n.id "
      "AND l.expires_at > now()) FROM nodes n ORDER BY n.id",
  /* $3: the states as a JSON object, flow id -> state: one lookup a row */
  [RENEW_LEASES] = "UPDATE leases AS l SET "
      "expires_at = now() + $2::integer * interval '1 millisecond', "
      "state = COALESCE($3::jsonb ->> l.flow_id, l.state) "
      "WHERE l.owner = $1 AND l.expires_at > now() "
      "RETURNING " LEASE_COLUMNS,
  /* free (flow, slot) pairs, none of a flow @node holds a slot of */
  [CLAIM_CANDIDATES] = "SELECT f.id, s.slot, f.spec FROM flows f "
      "CROSS JOIN generate_series(0, 1) AS s (slot) "
      "WHERE f.running = 1 AND s.slot < f.redundancy "
      "AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.flow_id = f.id "
      "AND l.slot = s.slot AND l.expires_at > now()) "
      "AND NOT EXISTS (SELECT 1 FROM leases o WHERE o.flow_id = f.id "
      "AND o.owner = $1 AND o.expires_at > now()) "
      "ORDER BY f.created_seq, s.slot LIMIT $2",
  /* the first $5 of the chosen pairs, in their order, that no other
   * claim holds locked right now (skipped, not waited for) and @node
   * holds no other slot of; a lease taken since the candidates were read
   * is not overwritten: the ON CONFLICT's WHERE sees the newest row */
  [CLAIM_TAKE] = "WITH want AS (SELECT w.flow_id, w.slot, w.ord "
      "FROM unnest($3::text[], $4::integer[]) WITH ORDINALITY "
      "AS w (flow_id, slot, ord)), "
      "c AS (SELECT f.id, w.slot, w.ord FROM flows f "
      "JOIN want w ON w.flow_id = f.id "
      "WHERE f.running = 1 AND w.slot < f.redundancy "
      "AND NOT EXISTS (SELECT 1 FROM leases o WHERE o.flow_id = f.id "
      "AND o.owner = $1 AND o.slot <> w.slot AND o.expires_at > now()) "
      "ORDER BY w.ord LIMIT $5 FOR UPDATE OF f SKIP LOCKED) "
      "INSERT INTO leases AS l (flow_id, slot, owner, expires_at) "
      "SELECT c.id, c.slot, $1, now() + $2::integer * interval "
      "'1 millisecond' FROM c ORDER BY c.ord "
      "ON CONFLICT (flow_id, slot) DO UPDATE SET owner = excluded.owner, "
      "expires_at = excluded.expires_at, state = NULL "
      "WHERE l.expires_at <= now() RETURNING " LEASE_COLUMNS,
  [RELEASE_LEASE] = "DELETE FROM leases WHERE owner = $1 AND flow_id = $2 "
      "AND slot = $3",
  [LIST_LEASES] = "SELECT " LEASE_COLUMNS " FROM leases l "
      "WHERE l.expires_at > now() ORDER BY l.flow_id, l.slot",
};

/* Step N brings the schema from version N to N + 1, once, in its own
 * transaction, recorded in schema_migrations; the same steps as
 * store-sqlite.c's in PostgreSQL's types.  Never edit a step that was
 * released: add one. */
static const gchar *const migrations[] = {
  /* 1: flows and events */
  "CREATE SEQUENCE flows_created_seq;"
      "CREATE TABLE flows ("
      "  id TEXT PRIMARY KEY,"
      "  spec TEXT NOT NULL,"
      "  running INTEGER NOT NULL DEFAULT 0,"
      "  created_seq BIGINT NOT NULL DEFAULT 0);"
      "CREATE TABLE events ("
      "  id BIGSERIAL PRIMARY KEY,"
      "  flow_id TEXT NOT NULL,"
      "  type TEXT NOT NULL,"
      "  severity TEXT NOT NULL,"
      "  message TEXT NOT NULL,"
      "  ts BIGINT NOT NULL);"
      "CREATE INDEX events_by_flow ON events (flow_id, id);",
  /* 2: the cluster's columns and tables (docs/cluster.md) */
  "CREATE SEQUENCE flows_version_seq;"
      "ALTER TABLE flows ADD COLUMN redundancy INTEGER NOT NULL DEFAULT 1,"
      "  ADD COLUMN version BIGINT NOT NULL DEFAULT 1;"
      "ALTER TABLE events ADD COLUMN node_id TEXT;"
      "CREATE TABLE nodes ("
      "  id TEXT PRIMARY KEY,"
      "  api_url TEXT NOT NULL,"
      "  max_flows INTEGER NOT NULL,"
      "  labels TEXT NOT NULL DEFAULT '{}',"
      "  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
      "  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()) "
      "WITH (fillfactor = 50);"
      "CREATE TABLE leases ("
      "  flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,"
      "  slot INTEGER NOT NULL,"
      "  owner TEXT NOT NULL,"
      "  expires_at TIMESTAMPTZ NOT NULL,"
      "  state TEXT,"
      "  PRIMARY KEY (flow_id, slot)) WITH (fillfactor = 50);"
      "CREATE INDEX leases_by_owner ON leases (owner);",
};

typedef struct
{
  MrStore parent;

  gchar *safe_dsn;              /* the DSN without its password */
  PGconn *conn;
  gboolean prepared;
  gint64 last_reset_us;         /* of the last reset that failed, or 0 */
  gboolean heartbeat_sent;
} MrStorePostgres;

/* libpq's messages end with a newline */
static gchar *
pq_message (const gchar * message)
{
  return g_strchomp (g_strdup (message && *message ? message :
          "unknown error"));
}

static gboolean
conn_fail (MrStorePostgres * self, GError ** error, const gchar * what)
{
  g_autofree gchar *msg = pq_message (PQerrorMessage (self->conn));

  g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
      "database %s: %s: %s", self->safe_dsn, what, msg);
  return FALSE;
}

/* TRUE if @res is @status; else sets @error and clears @res. */
static gboolean
check (MrStorePostgres * self, PGresult * res, ExecStatusType status,
    const gchar * what, GError ** error)
{
  g_autofree gchar *msg = NULL;

  if (res && PQresultStatus (res) == status)
    return TRUE;
  msg = pq_message (res ? PQresultErrorMessage (res) :
      PQerrorMessage (self->conn));
  g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
      "database %s: %s: %s", self->safe_dsn, what, msg);
  PQclear (res);
  return FALSE;
}

static gboolean
exec_simple (MrStorePostgres * self, const gchar * sql, const gchar * what,
    GError ** error)
{
  PGresult *res = PQexec (self->conn, sql);

  self->parent.queries++;
  if (!check (self, res, PGRES_COMMAND_OK, what, error))
    return FALSE;
  PQclear (res);
  return TRUE;
}

static void
rollback (MrStorePostgres * self)
{
  PQclear (PQexec (self->conn, "ROLLBACK"));
}

static gboolean
migrate (MrStorePostgres * self, GError ** error)
{
  for (guint step = 0; step < G_N_ELEMENTS (migrations); step++) {
    g_autofree gchar *what = g_strdup_printf ("migration %u", step + 1);
    g_autofree gchar *record = NULL;
    PGresult *res;
    gint version;

    /* the lock first: nodes starting at once run each step once */
    if (!exec_simple (self, "BEGIN", what, error))
      return FALSE;
    res = PQexec (self->conn, "SELECT pg_advisory_xact_lock ("
        MIGRATION_LOCK ")");
    if (!check (self, res, PGRES_TUPLES_OK, what, error))
      goto failed;
    PQclear (res);
    if (!exec_simple (self, "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "  version INTEGER PRIMARY KEY,"
            "  applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", what, error))
      goto failed;
    res = PQexec (self->conn, "SELECT COALESCE(MAX(version), 0) "
        "FROM schema_migrations");
    if (!check (self, res, PGRES_TUPLES_OK, what, error))
      goto failed;
    version = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    if (version > (gint) G_N_ELEMENTS (migrations)) {
      g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_TOO_NEW,
          "database %s: schema version %d is newer than this mroute's (%u)",
          self->safe_dsn, version, (guint) G_N_ELEMENTS (migrations));
      goto failed;
    }
    if (version >= (gint) G_N_ELEMENTS (migrations)) {
      rollback (self);
      return TRUE;
    }
    if (version > (gint) step) {
      rollback (self);
      continue;
    }
    record = g_strdup_printf ("INSERT INTO schema_migrations (version) "
        "VALUES (%u)", step + 1);
    if (!exec_simple (self, migrations[step], what, error)
        || !exec_simple (self, record, what, error))
      goto failed;
    if (!exec_simple (self, "COMMIT", what, error))
      return FALSE;
    g_info ("database %s: migrated to schema version %u", self->safe_dsn,
        step + 1);
    continue;

  failed:
    rollback (self);
    return FALSE;
  }
  return TRUE;
}

static gboolean
prepare_all (MrStorePostgres * self, GError ** error)
{
  for (guint i = 0; i < N_STATEMENTS; i++) {
    gchar name[8];
    PGresult *res;

    g_snprintf (name, sizeof name, "mr%u", i);
    res = PQprepare (self->conn, name, statements[i], 0, NULL);
    if (!check (self, res, PGRES_COMMAND_OK, "preparing statements", error))
      return FALSE;
    PQclear (res);
  }
  self->prepared = TRUE;
  return TRUE;
}

/* A connection that broke is reset here; after a reset that failed, not
 * again within a second (a database that is down does not block every
 * call for connect_timeout);
 * statements the server lost (a reset, a pooler's DISCARD ALL) are
 * prepared again. */
static gboolean
ensure_connected (MrStorePostgres * self, GError ** error)
{
  gint64 now;

  if (PQstatus (self->conn) == CONNECTION_OK && self->prepared)
    return TRUE;
  if (PQstatus (self->conn) != CONNECTION_OK) {
    now = g_get_monotonic_time ();
    if (self->last_reset_us && now - self->last_reset_us <
        RESET_INTERVAL_US) {
      g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
          "database %s: not connected (connecting again failed less "
          "than a second ago)", self->safe_dsn);
      return FALSE;
    }
    self->prepared = FALSE;
    PQreset (self->conn);
    if (PQstatus (self->conn) != CONNECTION_OK) {
      self->last_reset_us = g_get_monotonic_time ();
      return conn_fail (self, error, "reconnecting");
    }
    self->last_reset_us = 0;
    g_message ("database %s: connected again", self->safe_dsn);
  }
  return prepare_all (self, error);
}

/* Statements that can run again when the connection broke during them
 * (whether they ran or not, the outcome is the same); not an event
 * (it would be stored twice) nor a claim's take (its answer would be
 * lost). */
static gboolean
can_retry (Statement st)
{
  return st != ADD_EVENT && st != CLAIM_TAKE;
}

/* Runs prepared statement @st with text @params; NULL on error.  A
 * connection found broken is reset and the statement run again once, if
 * that is safe: a database that restarted costs no failed call. */
static PGresult *
run (MrStorePostgres * self, Statement st, gint n_params,
    const gchar * const *params, ExecStatusType status, const gchar * what,
    GError ** error)
{
  gchar name[8];
  PGresult *res;

  g_snprintf (name, sizeof name, "mr%u", st);
  for (guint attempt = 0;; attempt++) {
    const gchar *sqlstate;

    if (!ensure_connected (self, error))
      return NULL;
    res = PQexecPrepared (self->conn, name, n_params, params, NULL, NULL, 0);
    self->parent.queries++;
    if (res && PQresultStatus (res) == status)
      return res;
    sqlstate = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    if (attempt == 0 && PQstatus (self->conn) != CONNECTION_OK
        && can_retry (st)) {
      g_debug ("database %s: connection lost, once more", self->safe_dsn);
    } else if (attempt == 0 && g_strcmp0 (sqlstate, "26000") == 0) {
      /* invalid_sql_statement_name: it did not run */
      self->prepared = FALSE;
    } else {
      break;
    }
    PQclear (res);
  }
  check (self, res, status, what, error);
  return NULL;
}

static gboolean
run_command (MrStorePostgres * self, Statement st, gint n_params,
    const gchar * const *params, const gchar * what, GError ** error)
{
  PGresult *res = run (self, st, n_params, params, PGRES_COMMAND_OK, what,
      error);

  PQclear (res);
  return res != NULL;
}

/* A PostgreSQL array literal of @n strings. */
static gchar *
text_array (const gchar * const *items, guint n)
{
  GString *s = g_string_new ("{");

  for (guint i = 0; i < n; i++) {
    if (i)
      g_string_append_c (s, ',');
    g_string_append_c (s, '"');
    for (const gchar * p = items[i]; *p; p++) {
      if (*p == '"' || *p == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *p);
    }
    g_string_append_c (s, '"');
  }
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

static gint64
int64_at (PGresult * res, gint row, gint col)
{
  return g_ascii_strtoll (PQgetvalue (res, row, col), NULL, 10);
}

static gchar *
text_or_null_at (PGresult * res, gint row, gint col)
{
  return PQgetisnull (res, row, col) ? NULL :
      g_strdup (PQgetvalue (res, row, col));
}

static void
postgres_close (MrStore * store)
{
  MrStorePostgres *self = (MrStorePostgres *) store;

  if (self->conn)
    PQfinish (self->conn);
  g_free (self->safe_dsn);
  g_free (self);
}

static gboolean
postgres_put_flow (MrStore * store, const gchar * id, const gchar * spec_json,
    guint redundancy, GError ** error)
{
  gchar r[16];
  const gchar *params[] = { id, spec_json, r };

  g_snprintf (r, sizeof r, "%u", redundancy);
  return run_command ((MrStorePostgres *) store, PUT_FLOW, 3, params,
      "storing a flow", error);
}

static gboolean
postgres_delete_flow (MrStore * store, const gchar * id, GError ** error)
{
  const gchar *params[] = { id };

  return run_command ((MrStorePostgres *) store, DELETE_FLOW, 1, params,
      "deleting a flow", error);
}

static gboolean
postgres_set_running (MrStore * store, const gchar * id, gboolean running,
    GError ** error)
{
  const gchar *params[] = { id, running ? "1" : "0" };

  return run_command ((MrStorePostgres *) store, SET_RUNNING, 2, params,
      "storing a flow's running state", error);
}

static gboolean
postgres_foreach_flow (MrStore * store, MrStoreFlowFunc func,
    gpointer user_data, GError ** error)
{
  PGresult *res = run ((MrStorePostgres *) store, LIST_FLOWS, 0, NULL,
      PGRES_TUPLES_OK, "listing flows", error);

  if (!res)
    return FALSE;
  for (gint i = 0; i < PQntuples (res); i++)
    func (PQgetvalue (res, i, 0), PQgetvalue (res, i, 1),
        int64_at (res, i, 2) != 0, int64_at (res, i, 3), user_data);
  PQclear (res);
  return TRUE;
}

static gboolean
postgres_flow_versions (MrStore * store, GHashTable * versions,
    GError ** error)
{
  PGresult *res = run ((MrStorePostgres *) store, FLOW_VERSIONS, 0, NULL,
      PGRES_TUPLES_OK, "listing flow versions", error);

  if (!res)
    return FALSE;
  for (gint i = 0; i < PQntuples (res); i++)
    g_hash_table_insert (versions, g_strdup (PQgetvalue (res, i, 0)),
        g_memdup2 (&(gint64) {
            int64_at (res, i, 1)}, sizeof (gint64)));
  PQclear (res);
  return TRUE;
}

static gboolean
postgres_get_flow (MrStore * store, const gchar * id, gchar ** spec_json,
    gboolean * running, gint64 * version, GError ** error)
{
  const gchar *params[] = { id };
  PGresult *res = run ((MrStorePostgres *) store, GET_FLOW, 1, params,
      PGRES_TUPLES_OK, "reading a flow", error);

  if (!res)
    return FALSE;
  if (PQntuples (res) == 0) {
    PQclear (res);
    g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_FOUND,
        "database: no flow %s", id);
    return FALSE;
  }
  if (spec_json)
    *spec_json = g_strdup (PQgetvalue (res, 0, 0));
  if (running)
    *running = int64_at (res, 0, 1) != 0;
  if (version)
    *version = int64_at (res, 0, 2);
  PQclear (res);
  return TRUE;
}

static gboolean
postgres_add_event (MrStore * store, MrEvent * event, GError ** error)
{
  gchar ts[24], keep[16];
  const gchar *params[] = { event->flow_id, event->type, event->severity,
    event->message, ts, event->node_id, keep
  };
  PGresult *res;

  g_snprintf (ts, sizeof ts, "%" G_GINT64_FORMAT, event->timestamp);
  g_snprintf (keep, sizeof keep, "%d", MR_EVENTS_PER_FLOW - 1);
  res = run ((MrStorePostgres *) store, ADD_EVENT, 7, params,
      PGRES_TUPLES_OK, "storing an event", error);
  if (!res)
    return FALSE;
  event->id = int64_at (res, 0, 0);
  PQclear (res);
  return TRUE;
}

static gboolean
postgres_list_events (MrStore * store, const gchar * flow_id, guint limit,
    GPtrArray * events, GError ** error)
{
  gchar n[16];
  const gchar *params[2];
  PGresult *res;

  g_snprintf (n, sizeof n, "%u", limit);
  if (flow_id) {
    params[0] = flow_id;
    params[1] = n;
    res = run ((MrStorePostgres *) store, LIST_FLOW_EVENTS, 2, params,
        PGRES_TUPLES_OK, "listing events", error);
  } else {
    params[0] = n;
    res = run ((MrStorePostgres *) store, LIST_EVENTS, 1, params,
        PGRES_TUPLES_OK, "listing events", error);
  }
  if (!res)
    return FALSE;
  for (gint i = 0; i < PQntuples (res); i++) {
    MrEvent *e = g_new0 (MrEvent, 1);
    e->id = int64_at (res, i, 0);
    e->flow_id = g_strdup (PQgetvalue (res, i, 1));
    e->type = g_strdup (PQgetvalue (res, i, 2));
    e->severity = g_strdup (PQgetvalue (res, i, 3));
    e->message = g_strdup (PQgetvalue (res, i, 4));
    e->timestamp = int64_at (res, i, 5);
    e->node_id = text_or_null_at (res, i, 6);
    g_ptr_array_add (events, e);
  }
  PQclear (res);
  return TRUE;
}

static gboolean
postgres_node_heartbeat (MrStore * store, const gchar * node_id,
    const gchar * api_url, gint max_flows, const gchar * labels_json,
    GError ** error)
{
  MrStorePostgres *self = (MrStorePostgres *) store;
  gchar max[16];
  const gchar *params[] = { node_id, api_url, max, labels_json,
    self->heartbeat_sent ? "false" : "true"
  };

  g_snprintf (max, sizeof max, "%d", max_flows);
  if (!run_command (self, NODE_HEARTBEAT, 5, params, "node heartbeat",
          error))
    return FALSE;
  self->heartbeat_sent = TRUE;
  return TRUE;
}

static gboolean
postgres_list_nodes (MrStore * store, GPtrArray * nodes, GError ** error)
{
  PGresult *res = run ((MrStorePostgres *) store, LIST_NODES, 0, NULL,
      PGRES_TUPLES_OK, "listing nodes", error);

  if (!res)
    return FALSE;
  for (gint i = 0; i < PQntuples (res); i++) {
    MrStoreNode *n = g_new0 (MrStoreNode, 1);
    n->id = g_strdup (PQgetvalue (res, i, 0));
    n->api_url = g_strdup (PQgetvalue (res, i, 1));
    n->labels_json = g_strdup (PQgetvalue (res, i, 2));
    n->max_flows = int64_at (res, i, 3);
    n->heartbeat_age_ms = int64_at (res, i, 4);
    n->flows = int64_at (res, i, 5);
    g_ptr_array_add (nodes, n);
  }
  PQclear (res);
  return TRUE;
}

/* Takes @res, rows of LEASE_COLUMNS. */
static void
add_leases (GPtrArray * leases, PGresult * res)
{
  for (gint i = 0; i < PQntuples (res); i++) {
    MrStoreLease *l = g_new0 (MrStoreLease, 1);
    l->flow_id = g_strdup (PQgetvalue (res, i, 0));
    l->slot = int64_at (res, i, 1);
    l->owner = g_strdup (PQgetvalue (res, i, 2));
    l->expires_in_ms = int64_at (res, i, 3);
    l->state = text_or_null_at (res, i, 4);
    g_ptr_array_add (leases, l);
  }
  PQclear (res);
}

static void
append_json_string (GString * s, const gchar * text)
{
  g_string_append_c (s, '"');
  for (const guchar * p = (const guchar *) text; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf (s, "\\%c", *p);
    else if (*p < 0x20)
      g_string_append_printf (s, "\\u%04x", *p);
    else
      g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
}

static gboolean
postgres_renew_leases (MrStore * store, const gchar * node, guint lease_ms,
    GHashTable * states, GPtrArray * leases, GError ** error)
{
  g_autoptr (GString) json = g_string_new ("{");
  gchar ms[16];
  const gchar *params[3];
  PGresult *res;

  if (states) {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, states);
    while (g_hash_table_iter_next (&iter, &key, &value)) {
      if (!value)
        continue;
      if (json->len > 1)
        g_string_append_c (json, ',');
      append_json_string (json, key);
      g_string_append_c (json, ':');
      append_json_string (json, value);
    }
  }
  g_string_append_c (json, '}');
  g_snprintf (ms, sizeof ms, "%u", lease_ms);
  params[0] = node;
  params[1] = ms;
  params[2] = json->str;
  res = run ((MrStorePostgres *) store, RENEW_LEASES, 3, params,
      PGRES_TUPLES_OK, "renewing leases", error);
  if (!res)
    return FALSE;
  add_leases (leases, res);
  return TRUE;
}

/* More candidates than @max go to the take, so that flows another node
 * is claiming at the same moment (locked, skipped) leave room for the
 * next ones. */
static guint
claim_spare (guint max)
{
  return max + MIN (max, 16) + 4;
}

static gboolean
postgres_claim_flows (MrStore * store, const gchar * node, guint max,
    guint lease_ms, MrStoreAcceptFunc accept, gpointer user_data,
    GPtrArray * leases, GError ** error)
{
  MrStorePostgres *self = (MrStorePostgres *) store;
  guint wanted = claim_spare (max);
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  g_autoptr (GString) slots = g_string_new ("{");
  g_autofree gchar *ids_array = NULL;
  gchar limit[16], ms[16], n[16];
  /* with a filter, every candidate may be needed: no LIMIT (NULL) */
  const gchar *params[] = { node, accept ? NULL : limit };
  const gchar *last = NULL;
  PGresult *res;

  /* two rows a flow at most (its two slots) */
  g_snprintf (limit, sizeof limit, "%u", wanted * 2);
  res = run (self, CLAIM_CANDIDATES, 2, params, PGRES_TUPLES_OK,
      "claiming flows", error);
  if (!res)
    return FALSE;
  /* one slot of a flow: its rows come together, slot 0 first */
  for (gint i = 0; i < PQntuples (res) && ids->len < wanted; i++) {
    const gchar *id = PQgetvalue (res, i, 0);

    if (last && strcmp (last, id) == 0)
      continue;
    last = id;
    if (accept && !accept (id, PQgetvalue (res, i, 2), user_data))
      continue;
    g_string_append_printf (slots, "%s%s", ids->len ? "," : "",
        PQgetvalue (res, i, 1));
    g_ptr_array_add (ids, (gpointer) id);
  }
  if (ids->len == 0) {
    PQclear (res);
    return TRUE;
  }
  g_string_append_c (slots, '}');
  ids_array = text_array ((const gchar * const *) ids->pdata, ids->len);
  PQclear (res);

  g_snprintf (ms, sizeof ms, "%u", lease_ms);
  g_snprintf (n, sizeof n, "%u", max);
  {
    const gchar *take[] = { node, ms, ids_array, slots->str, n };

    res = run (self, CLAIM_TAKE, 5, take, PGRES_TUPLES_OK,
        "claiming flows", error);
  }
  if (!res)
    return FALSE;
  add_leases (leases, res);
  return TRUE;
}

static gboolean
postgres_release_lease (MrStore * store, const gchar * node,
    const gchar * flow_id, guint slot, GError ** error)
{
  gchar s[16];
  const gchar *params[] = { node, flow_id, s };

  g_snprintf (s, sizeof s, "%u", slot);
  return run_command ((MrStorePostgres *) store, RELEASE_LEASE, 3, params,
      "releasing a lease", error);
}

static gboolean
postgres_list_leases (MrStore * store, GPtrArray * leases, GError ** error)
{
  PGresult *res = run ((MrStorePostgres *) store, LIST_LEASES, 0, NULL,
      PGRES_TUPLES_OK, "listing leases", error);

  if (!res)
    return FALSE;
  add_leases (leases, res);
  return TRUE;
}

static const MrStoreClass postgres_class = {
  .name = "PostgreSQL",
  .shared = TRUE,
  .close = postgres_close,
  .put_flow = postgres_put_flow,
  .delete_flow = postgres_delete_flow,
  .set_running = postgres_set_running,
  .foreach_flow = postgres_foreach_flow,
  .flow_versions = postgres_flow_versions,
  .get_flow = postgres_get_flow,
  .add_event = postgres_add_event,
  .list_events = postgres_list_events,
  .node_heartbeat = postgres_node_heartbeat,
  .list_nodes = postgres_list_nodes,
  .renew_leases = postgres_renew_leases,
  .claim_flows = postgres_claim_flows,
  .release_lease = postgres_release_lease,
  .list_leases = postgres_list_leases,
};

/* libpq prints a server's NOTICEs on stderr by default */
static void
on_notice (void *user_data, const char *message)
{
  g_autofree gchar *msg = pq_message (message);

  g_debug ("database: %s", msg);
}

MrStore *
mr_store_postgres_open (const gchar * conninfo, GError ** error)
{
  MrStorePostgres *self = g_new0 (MrStorePostgres, 1);
  MrStore *store = (MrStore *) self;
  /* defaults first: what @conninfo sets wins.  A database that does not
   * answer fails a call within seconds, not TCP's minutes. */
  const gchar *const keys[] = { "connect_timeout", "tcp_user_timeout",
    "application_name", "options", "dbname", NULL
  };
  const gchar *const values[] = { "5", "5000", "mroute",
    "-c statement_timeout=10000", conninfo, NULL
  };

  store->klass = &postgres_class;
  self->safe_dsn = mr_store_dsn_for_log (conninfo);
  self->conn = PQconnectdbParams (keys, values, 1);
  if (!self->conn) {
    g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
        "database %s: out of memory", self->safe_dsn);
    postgres_close (store);
    return NULL;
  }
  if (PQstatus (self->conn) != CONNECTION_OK) {
    conn_fail (self, error, "connecting");
    postgres_close (store);
    return NULL;
  }
  PQsetNoticeProcessor (self->conn, on_notice, NULL);
  if (!migrate (self, error) || !prepare_all (self, error)) {
    postgres_close (store);
    return NULL;
  }
  return store;
}
