/* mroute: SQLite persistence of flows and events. */

#define G_LOG_DOMAIN "mroute-store"
#include "store.h"

#include <sqlite3.h>

#define MR_STORE_ERROR (mr_store_error_quark ())
static G_DEFINE_QUARK (mr-store-error-quark, mr_store_error);

struct _MrStore
{
  sqlite3 *db;
  sqlite3_stmt *put_flow;
  sqlite3_stmt *delete_flow;
  sqlite3_stmt *delete_flow_events;
  sqlite3_stmt *set_running;
  sqlite3_stmt *list_flows;
  sqlite3_stmt *add_event;
  sqlite3_stmt *prune_events;
  sqlite3_stmt *list_events;
  sqlite3_stmt *list_flow_events;
  sqlite3_stmt *begin;
  sqlite3_stmt *commit;
  sqlite3_stmt *rollback;
};

static const gchar schema[] =
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
    "CREATE INDEX IF NOT EXISTS events_by_flow ON events (flow_id, id);";

static gboolean
fail (MrStore * store, GError ** error, const gchar * what)
{
  g_set_error (error, MR_STORE_ERROR, 0, "database: %s: %s", what,
      sqlite3_errmsg (store->db));
  return FALSE;
}

static gboolean
prepare (MrStore * store, sqlite3_stmt ** stmt, const gchar * sql,
    GError ** error)
{
  if (sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
          NULL) != SQLITE_OK)
    return fail (store, error, sql);
  return TRUE;
}

/* Runs a statement that returns no rows, then resets it. */
static gboolean
step_done (MrStore * store, sqlite3_stmt * stmt, GError ** error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    return fail (store, error, sqlite3_sql (stmt));
  return TRUE;
}

static gboolean
begin (MrStore * store, GError ** error)
{
  return step_done (store, store->begin, error);
}

static gboolean
commit (MrStore * store, GError ** error)
{
  return step_done (store, store->commit, error);
}

static void
rollback (MrStore * store)
{
  step_done (store, store->rollback, NULL);
}

MrStore *
mr_store_open (const gchar * path, GError ** error)
{
  MrStore *store = g_new0 (MrStore, 1);
  char *errmsg = NULL;

  if (sqlite3_open_v2 (path, &store->db,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
          NULL) != SQLITE_OK) {
    fail (store, error, path);
    mr_store_close (store);
    return NULL;
  }
  sqlite3_busy_timeout (store->db, 5000);

  if (sqlite3_exec (store->db, "PRAGMA journal_mode=WAL;"
          "PRAGMA synchronous=NORMAL;" "PRAGMA foreign_keys=ON;", NULL, NULL,
          &errmsg) != SQLITE_OK
      || sqlite3_exec (store->db, schema, NULL, NULL, &errmsg) != SQLITE_OK) {
    g_set_error (error, MR_STORE_ERROR, 0, "database %s: %s", path, errmsg);
    sqlite3_free (errmsg);
    mr_store_close (store);
    return NULL;
  }

  if (!prepare (store, &store->begin, "BEGIN IMMEDIATE", error)
      || !prepare (store, &store->commit, "COMMIT", error)
      || !prepare (store, &store->rollback, "ROLLBACK", error)
      || !prepare (store, &store->put_flow,
          "INSERT INTO flows (id, spec, created_seq) VALUES (?1, ?2, "
          "(SELECT IFNULL(MAX(created_seq), 0) + 1 FROM flows)) "
          "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec", error)
      || !prepare (store, &store->delete_flow,
          "DELETE FROM flows WHERE id = ?1", error)
      || !prepare (store, &store->delete_flow_events,
          "DELETE FROM events WHERE flow_id = ?1", error)
      || !prepare (store, &store->set_running,
          "UPDATE flows SET running = ?2 WHERE id = ?1", error)
      || !prepare (store, &store->list_flows,
          "SELECT id, spec, running FROM flows ORDER BY created_seq", error)
      || !prepare (store, &store->add_event,
          "INSERT INTO events (flow_id, type, severity, message, ts) "
          "VALUES (?1, ?2, ?3, ?4, ?5)", error)
      || !prepare (store, &store->prune_events,
          "DELETE FROM events WHERE flow_id = ?1 AND id <= "
          "(SELECT id FROM events WHERE flow_id = ?1 "
          "ORDER BY id DESC LIMIT 1 OFFSET ?2)", error)
      || !prepare (store, &store->list_events,
          "SELECT id, flow_id, type, severity, message, ts FROM events "
          "ORDER BY id DESC LIMIT ?1", error)
      || !prepare (store, &store->list_flow_events,
          "SELECT id, flow_id, type, severity, message, ts FROM events "
          "WHERE flow_id = ?1 ORDER BY id DESC LIMIT ?2", error)) {
    mr_store_close (store);
    return NULL;
  }
  return store;
}

void
mr_store_close (MrStore * store)
{
  sqlite3_stmt **stmts[] = {
    &store->put_flow, &store->delete_flow, &store->delete_flow_events,
    &store->set_running, &store->list_flows, &store->add_event,
    &store->prune_events, &store->list_events, &store->list_flow_events,
    &store->begin, &store->commit, &store->rollback,
  };

  if (!store)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (stmts); i++)
    g_clear_pointer (stmts[i], sqlite3_finalize);
  if (store->db)
    sqlite3_close (store->db);
  g_free (store);
}

gboolean
mr_store_put_flow (MrStore * store, const gchar * id, const gchar * spec_json,
    GError ** error)
{
  if (!begin (store, error))
    return FALSE;
  sqlite3_bind_text (store->put_flow, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (store->put_flow, 2, spec_json, -1, SQLITE_STATIC);
  if (!step_done (store, store->put_flow, error)) {
    rollback (store);
    return FALSE;
  }
  return commit (store, error);
}

gboolean
mr_store_delete_flow (MrStore * store, const gchar * id, GError ** error)
{
  if (!begin (store, error))
    return FALSE;
  sqlite3_bind_text (store->delete_flow_events, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (store->delete_flow, 1, id, -1, SQLITE_STATIC);
  if (!step_done (store, store->delete_flow_events, error)
      || !step_done (store, store->delete_flow, error)) {
    rollback (store);
    return FALSE;
  }
  return commit (store, error);
}

gboolean
mr_store_set_running (MrStore * store, const gchar * id, gboolean running,
    GError ** error)
{
  if (!begin (store, error))
    return FALSE;
  sqlite3_bind_text (store->set_running, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int (store->set_running, 2, running ? 1 : 0);
  if (!step_done (store, store->set_running, error)) {
    rollback (store);
    return FALSE;
  }
  return commit (store, error);
}

gboolean
mr_store_foreach_flow (MrStore * store, MrStoreFlowFunc func,
    gpointer user_data, GError ** error)
{
  sqlite3_stmt *st = store->list_flows;
  int rc;

  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    func ((const gchar *) sqlite3_column_text (st, 0),
        (const gchar *) sqlite3_column_text (st, 1),
        sqlite3_column_int (st, 2) != 0, user_data);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return fail (store, error, "listing flows");
  return TRUE;
}

gboolean
mr_store_add_event (MrStore * store, MrEvent * event, GError ** error)
{
  if (!begin (store, error))
    return FALSE;
  sqlite3_bind_text (store->add_event, 1, event->flow_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (store->add_event, 2, event->type, -1, SQLITE_STATIC);
  sqlite3_bind_text (store->add_event, 3, event->severity, -1, SQLITE_STATIC);
  sqlite3_bind_text (store->add_event, 4, event->message, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (store->add_event, 5, event->timestamp);
  if (!step_done (store, store->add_event, error)) {
    rollback (store);
    return FALSE;
  }
  event->id = sqlite3_last_insert_rowid (store->db);
  sqlite3_bind_text (store->prune_events, 1, event->flow_id, -1,
      SQLITE_STATIC);
  sqlite3_bind_int (store->prune_events, 2, MR_EVENTS_PER_FLOW);
  if (!step_done (store, store->prune_events, error)) {
    rollback (store);
    return FALSE;
  }
  return commit (store, error);
}

GPtrArray *
mr_store_list_events (MrStore * store, const gchar * flow_id, guint limit,
    GError ** error)
{
  g_autoptr (GPtrArray) events =
      g_ptr_array_new_with_free_func ((GDestroyNotify) mr_event_free);
  sqlite3_stmt *st;
  int rc;

  if (flow_id) {
    st = store->list_flow_events;
    sqlite3_bind_text (st, 1, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int (st, 2, limit);
  } else {
    st = store->list_events;
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
    g_ptr_array_add (events, e);
  }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  if (rc != SQLITE_DONE) {
    fail (store, error, "listing events");
    return NULL;
  }
  return g_steal_pointer (&events);
}
