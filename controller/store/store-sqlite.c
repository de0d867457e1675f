/* mroute: the store on SQLite, the embedded default of one machine.
 *
 * WAL journal, prepared statements, writes in BEGIN IMMEDIATE
 * transactions.  Not shared: the nodes and leases tables exist (the
 * schema is the same as PostgreSQL's) but the cluster calls are not
 * offered.
 */

#define G_LOG_DOMAIN "mroute-store"
#include "store-private.h"

#include <sqlite3.h>

typedef struct
{
  MrStore parent;

  sqlite3 *db;
  sqlite3_stmt *put_flow;
  sqlite3_stmt *delete_flow;
  sqlite3_stmt *delete_flow_events;
  sqlite3_stmt *delete_flow_leases;
  sqlite3_stmt *set_running;
  sqlite3_stmt *list_flows;
  sqlite3_stmt *flow_versions;
  sqlite3_stmt *get_flow;
  sqlite3_stmt *add_event;
  sqlite3_stmt *prune_events;
  sqlite3_stmt *list_events;
  sqlite3_stmt *list_flow_events;
  sqlite3_stmt *begin;
  sqlite3_stmt *commit;
  sqlite3_stmt *rollback;
} MrStoreSqlite;

/* Step N brings the schema from version N to N + 1; each runs once, in
 * its own transaction, recorded in schema_migrations.  Step 0 is the
 * schema of before migrations, so that a database made then (the same
 * tables, no schema_migrations) goes through the later steps keeping its
 * rows.  Never edit a step that was released: add one. */
static const gchar *const migrations[] = {
  /* 1: flows and events */
  "CREATE TABLE IF NOT EXISTS flows ("
      "  id TEXT PRIMARY KEY,"
      "  spec TEXT NOT NULL,"
      "  running INTEGER NOT NULL DEFAULT 0,"
      "  created_seq INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE IF NOT EXISTS events ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  flow_id TEXT NOT NULL,"
      "  type TEXT NOT NULL,"
      "  severity TEXT NOT NULL,"
      "  message TEXT NOT NULL,"
      "  ts INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS events_by_flow ON events (flow_id, id);",
  /* 2: the cluster's columns and tables (docs/cluster.md) */
  "ALTER TABLE flows ADD COLUMN redundancy INTEGER NOT NULL DEFAULT 1;"
      "ALTER TABLE flows ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
      "ALTER TABLE events ADD COLUMN node_id TEXT;"
      "CREATE TABLE nodes ("
      "  id TEXT PRIMARY KEY,"
      "  api_url TEXT NOT NULL,"
      "  max_flows INTEGER NOT NULL,"
      "  labels TEXT NOT NULL DEFAULT '{}',"
      "  started_at INTEGER NOT NULL,"
      "  heartbeat_at INTEGER NOT NULL);"
      "CREATE TABLE leases ("
      "  flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,"
      "  slot INTEGER NOT NULL,"
      "  owner TEXT NOT NULL,"
      "  expires_at INTEGER NOT NULL,"
      "  state TEXT,"
      "  PRIMARY KEY (flow_id, slot));"
      "CREATE INDEX leases_by_owner ON leases (owner);",
};

static gboolean
fail (MrStoreSqlite * self, GError ** error, const gchar * what)
{
  g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
      "database: %s: %s", what, sqlite3_errmsg (self->db));
  return FALSE;
}

static gboolean
exec (MrStoreSqlite * self, const gchar * sql, const gchar * what,
    GError ** error)
{
  char *errmsg = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
    g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED,
        "database: %s: %s", what, errmsg);
    sqlite3_free (errmsg);
    return FALSE;
  }
  return TRUE;
}

static gboolean
prepare (MrStoreSqlite * self, sqlite3_stmt ** stmt, const gchar * sql,
    GError ** error)
{
  if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
          NULL) != SQLITE_OK)
    return fail (self, error, sql);
  return TRUE;
}

/* Runs a statement that returns no rows, then resets it. */
static gboolean
step_done (MrStoreSqlite * self, sqlite3_stmt * stmt, GError ** error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    return fail (self, error, sqlite3_sql (stmt));
  return TRUE;
}

static gboolean
begin (MrStoreSqlite * self, GError ** error)
{
  return step_done (self, self->begin, error);
}

static gboolean
commit (MrStoreSqlite * self, GError ** error)
{
  return step_done (self, self->commit, error);
}

static void
rollback (MrStoreSqlite * self)
{
  step_done (self, self->rollback, NULL);
}

/* The version the schema is at, 0 before migrations. */
static gboolean
schema_version (MrStoreSqlite * self, gint * version, GError ** error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok;

  if (!prepare (self, &st, "SELECT IFNULL(MAX(version), 0) FROM "
          "schema_migrations", error))
    return FALSE;
  ok = sqlite3_step (st) == SQLITE_ROW;
  if (ok)
    *version = sqlite3_column_int (st, 0);
  else
    fail (self, error, "reading schema_migrations");
  sqlite3_finalize (st);
  return ok;
}

static gboolean
migrate (MrStoreSqlite * self, const gchar * path, GError ** error)
{
  gint version = 0;

  if (!exec (self, "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "  version INTEGER PRIMARY KEY,"
          "  applied_at INTEGER NOT NULL)", "schema_migrations", error))
    return FALSE;
  for (guint step = 0; step < G_N_ELEMENTS (migrations); step++) {
    g_autofree gchar *record = NULL;
    g_autofree gchar *what = NULL;

    /* under the write lock, so that two processes opening the file at
     * once run each step once */
    if (!exec (self, "BEGIN IMMEDIATE", "migration", error))
      return FALSE;
    if (!schema_version (self, &version, error)) {
      exec (self, "ROLLBACK", "migration", NULL);
      return FALSE;
    }
    if (version > (gint) G_N_ELEMENTS (migrations)) {
      exec (self, "ROLLBACK", "migration", NULL);
      g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_TOO_NEW,
          "database %s: schema version %d is newer than this mroute's (%u)",
          path, version, (guint) G_N_ELEMENTS (migrations));
      return FALSE;
    }
    if (version >= (gint) G_N_ELEMENTS (migrations)) {
      exec (self, "ROLLBACK", "migration", NULL);
      return TRUE;
    }
    if (version > (gint) step) {
      exec (self, "ROLLBACK", "migration", NULL);
      continue;
    }
    what = g_strdup_printf ("migration %u", step + 1);
    record = g_strdup_printf ("INSERT INTO schema_migrations (version, "
        "applied_at) VALUES (%u, CAST(strftime('%%s', 'now') AS INTEGER))",
        step + 1);
    if (!exec (self, migrations[step], what, error)
        || !exec (self, record, what, error)) {
      exec (self, "ROLLBACK", "migration", NULL);
      return FALSE;
    }
    if (!exec (self, "COMMIT", what, error))
      return FALSE;
    g_info ("database %s: migrated to schema version %u", path, step + 1);
  }
  return TRUE;
}

static void
sqlite_close (MrStore * store)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;
  sqlite3_stmt **stmts[] = {
    &self->put_flow, &self->delete_flow, &self->delete_flow_events,
    &self->delete_flow_leases, &self->set_running, &self->list_flows,
    &self->flow_versions, &self->get_flow, &self->add_event,
    &self->prune_events, &self->list_events, &self->list_flow_events,
    &self->begin, &self->commit, &self->rollback,
  };

  for (guint i = 0; i < G_N_ELEMENTS (stmts); i++)
    g_clear_pointer (stmts[i], sqlite3_finalize);
  if (self->db)
    sqlite3_close (self->db);
  g_free (self);
}

static gboolean
sqlite_put_flow (MrStore * store, const gchar * id, const gchar * spec_json,
    guint redundancy, GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;

  if (!begin (self, error))
    return FALSE;
  sqlite3_bind_text (self->put_flow, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (self->put_flow, 2, spec_json, -1, SQLITE_STATIC);
  sqlite3_bind_int (self->put_flow, 3, redundancy);
  if (!step_done (self, self->put_flow, error)) {
    rollback (self);
    return FALSE;
  }
  return commit (self, error);
}

static gboolean
sqlite_delete_flow (MrStore * store, const gchar * id, GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;

  if (!begin (self, error))
    return FALSE;
  sqlite3_bind_text (self->delete_flow_events, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (self->delete_flow_leases, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (self->delete_flow, 1, id, -1, SQLITE_STATIC);
  if (!step_done (self, self->delete_flow_events, error)
      || !step_done (self, self->delete_flow_leases, error)
      || !step_done (self, self->delete_flow, error)) {
    rollback (self);
    return FALSE;
  }
  return commit (self, error);
}

static gboolean
sqlite_set_running (MrStore * store, const gchar * id, gboolean running,
    GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;

  if (!begin (self, error))
    return FALSE;
  sqlite3_bind_text (self->set_running, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int (self->set_running, 2, running ? 1 : 0);
  if (!step_done (self, self->set_running, error)) {
    rollback (self);
    return FALSE;
  }
  return commit (self, error);
}

static gboolean
sqlite_foreach_flow (MrStore * store, MrStoreFlowFunc func,
    gpointer user_data, GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;
  sqlite3_stmt *st = self->list_flows;
  int rc;

  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    func ((const gchar *) sqlite3_column_text (st, 0),
        (const gchar *) sqlite3_column_text (st, 1),
        sqlite3_column_int (st, 2) != 0, sqlite3_column_int64 (st, 3),
        user_data);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return fail (self, error, "listing flows");
  return TRUE;
}

static gboolean
sqlite_flow_versions (MrStore * store, GHashTable * versions,
    GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;
  sqlite3_stmt *st = self->flow_versions;
  int rc;

  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_hash_table_insert (versions,
        g_strdup ((const gchar *) sqlite3_column_text (st, 0)),
        g_memdup2 (&(gint64) {
            sqlite3_column_int64 (st, 1)}, sizeof (gint64)));
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return fail (self, error, "listing flow versions");
  return TRUE;
}

static gboolean
sqlite_get_flow (MrStore * store, const gchar * id, gchar ** spec_json,
    gboolean * running, gint64 * version, GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;
  sqlite3_stmt *st = self->get_flow;
  int rc;

  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW) {
    if (spec_json)
      *spec_json = g_strdup ((const gchar *) sqlite3_column_text (st, 0));
    if (running)
      *running = sqlite3_column_int (st, 1) != 0;
    if (version)
      *version = sqlite3_column_int64 (st, 2);
  } else if (rc == SQLITE_DONE) {
    g_set_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_FOUND,
        "database: no flow %s", id);
  } else {
    fail (self, error, "reading a flow");
  }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  return rc == SQLITE_ROW;
}

static gboolean
sqlite_add_event (MrStore * store, MrEvent * event, GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;

  if (!begin (self, error))
    return FALSE;
  sqlite3_bind_text (self->add_event, 1, event->flow_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (self->add_event, 2, event->type, -1, SQLITE_STATIC);
  sqlite3_bind_text (self->add_event, 3, event->severity, -1, SQLITE_STATIC);
  sqlite3_bind_text (self->add_event, 4, event->message, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (self->add_event, 5, event->timestamp);
  sqlite3_bind_text (self->add_event, 6, event->node_id, -1, SQLITE_STATIC);
  if (!step_done (self, self->add_event, error)) {
    rollback (self);
    return FALSE;
  }
  event->id = sqlite3_last_insert_rowid (self->db);
  sqlite3_bind_text (self->prune_events, 1, event->flow_id, -1,
      SQLITE_STATIC);
  sqlite3_bind_int (self->prune_events, 2, MR_EVENTS_PER_FLOW);
  if (!step_done (self, self->prune_events, error)) {
    rollback (self);
    return FALSE;
  }
  return commit (self, error);
}

static gboolean
sqlite_list_events (MrStore * store, const gchar * flow_id, guint limit,
    GPtrArray * events, GError ** error)
{
  MrStoreSqlite *self = (MrStoreSqlite *) store;
  sqlite3_stmt *st;
  int rc;

  if (flow_id) {
    st = self->list_flow_events;
    sqlite3_bind_text (st, 1, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int (st, 2, limit);
  } else {
    st = self->list_events;
    sqlite3_bind_int (st, 1, limit);
  }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    MrEvent *e = g_new0 (MrEvent, 1);
    e->id = sqlite3_column_int64 (st, 0);
    e->flow_id = g_strdup ((const gchar *) sqlite3_column_text (st, 1));
    e->type = g_strdup ((const gchar *) sqlite3_column_text (st, 2));
    e->severity = g_strdup ((const gchar *) sqlite3_column_text (st, 3));
    e->message = g_strdup ((const gchar *) sqlite3_column_text (st, 4));
    e->timestamp = sqlite3_column_int64 (st, 5);
    e->node_id = g_strdup ((const gchar *) sqlite3_column_text (st, 6));
    g_ptr_array_add (events, e);
  }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  if (rc != SQLITE_DONE)
    return fail (self, error, "listing events");
  return TRUE;
}

static const MrStoreClass sqlite_class = {
  .name = "SQLite",
  .shared = FALSE,
  .close = sqlite_close,
  .put_flow = sqlite_put_flow,
  .delete_flow = sqlite_delete_flow,
  .set_running = sqlite_set_running,
  .foreach_flow = sqlite_foreach_flow,
  .flow_versions = sqlite_flow_versions,
  .get_flow = sqlite_get_flow,
  .add_event = sqlite_add_event,
  .list_events = sqlite_list_events,
};

MrStore *
mr_store_sqlite_open (const gchar * path, GError ** error)
{
  MrStoreSqlite *self = g_new0 (MrStoreSqlite, 1);
  MrStore *store = (MrStore *) self;

  store->klass = &sqlite_class;
  if (sqlite3_open_v2 (path, &self->db,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
          NULL) != SQLITE_OK) {
    fail (self, error, path);
    sqlite_close (store);
    return NULL;
  }
  sqlite3_busy_timeout (self->db, 5000);

  if (!exec (self, "PRAGMA journal_mode=WAL;"
          "PRAGMA synchronous=NORMAL;" "PRAGMA foreign_keys=ON;", path, error)
      || !migrate (self, path, error)) {
    sqlite_close (store);
    return NULL;
  }

  /* version: higher than every flow's, on every put and set_running */
  if (!prepare (self, &self->begin, "BEGIN IMMEDIATE", error)
      || !prepare (self, &self->commit, "COMMIT", error)
      || !prepare (self, &self->rollback, "ROLLBACK", error)
      || !prepare (self, &self->put_flow,
          "INSERT INTO flows (id, spec, redundancy, created_seq, version) "
          "VALUES (?1, ?2, ?3, "
          "(SELECT IFNULL(MAX(created_seq), 0) + 1 FROM flows), "
          "(SELECT IFNULL(MAX(version), 0) + 1 FROM flows)) "
          "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, "
          "redundancy = excluded.redundancy, version = excluded.version",
          error)
      || !prepare (self, &self->delete_flow,
          "DELETE FROM flows WHERE id = ?1", error)
      || !prepare (self, &self->delete_flow_events,
          "DELETE FROM events WHERE flow_id = ?1", error)
      || !prepare (self, &self->delete_flow_leases,
          "DELETE FROM leases WHERE flow_id = ?1", error)
      || !prepare (self, &self->set_running,
          "UPDATE flows SET running = ?2, "
          "version = (SELECT MAX(version) + 1 FROM flows) WHERE id = ?1",
          error)
      || !prepare (self, &self->list_flows,
          "SELECT id, spec, running, version FROM flows "
          "ORDER BY created_seq", error)
      || !prepare (self, &self->flow_versions,
          "SELECT id, version FROM flows", error)
      || !prepare (self, &self->get_flow,
          "SELECT spec, running, version FROM flows WHERE id = ?1", error)
      || !prepare (self, &self->add_event,
          "INSERT INTO events (flow_id, type, severity, message, ts, "
          "node_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error)
      || !prepare (self, &self->prune_events,
          "DELETE FROM events WHERE flow_id = ?1 AND id <= "
          "(SELECT id FROM events WHERE flow_id = ?1 "
          "ORDER BY id DESC LIMIT 1 OFFSET ?2)", error)
      || !prepare (self, &self->list_events,
          "SELECT id, flow_id, type, severity, message, ts, node_id "
          "FROM events ORDER BY id DESC LIMIT ?1", error)
      || !prepare (self, &self->list_flow_events,
          "SELECT id, flow_id, type, severity, message, ts, node_id "
          "FROM events WHERE flow_id = ?1 ORDER BY id DESC LIMIT ?2",
          error)) {
    sqlite_close (store);
    return NULL;
  }
  return store;
}
