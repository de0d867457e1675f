/* The store (controller/store/) on a real database: `unit-store` on
 * SQLite files in a temporary folder, `unit-store --postgres` on a
 * throwaway PostgreSQL server that tests/integration/mroute_pg.py starts
 * (or the one MROUTE_TEST_PG_HOST/PORT/USER name).  Every test of the
 * store's behaviour runs on both; the cluster calls (nodes, leases) on
 * PostgreSQL, and on SQLite that they refuse; the migration of a SQLite
 * file made before migrations on SQLite.  Without PostgreSQL the
 * --postgres run exits 77 (skipped), saying why. */

#include <glib.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

static gboolean postgres;
static gchar *tmpdir;
typedef struct
{
  GPid pid;
  gint stdin_fd;
  gchar *host, *port, *user;
} PgFixture;
static PgFixture pg_fixture;
static guint n_databases;

/* ---------------------------------------------------------------------- */
/* databases */

static void
pg_admin (const gchar * sql)
{
  g_autofree gchar *conninfo = g_strdup_printf ("host=%s port=%s user=%s "
      "dbname=postgres", pg_fixture.host, pg_fixture.port, pg_fixture.user);
  PGconn *conn = PQconnectdb (conninfo);
  PGresult *res;

  if (PQstatus (conn) != CONNECTION_OK)
    g_error ("admin connection: %s", PQerrorMessage (conn));
  res = PQexec (conn, sql);
  if (PQresultStatus (res) != PGRES_COMMAND_OK
      && PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQresultErrorMessage (res));
  PQclear (res);
  PQfinish (conn);
}

/* A DSN of an empty database: a new SQLite file, or a new PostgreSQL
 * database, by URI and by keyword conninfo in turn (both are DSNs). */
static gchar *
new_dsn (void)
{
  g_autofree gchar *name = g_strdup_printf ("t%u", ++n_databases);

  if (!postgres)
    return g_strdup_printf ("sqlite:%s/%s.db", tmpdir, name);
  {
    g_autofree gchar *sql = g_strdup_printf ("CREATE DATABASE %s", name);
    g_autofree gchar *host = g_uri_escape_string (pg_fixture.host, NULL, FALSE);

    pg_admin (sql);
    if (n_databases % 2)
      return g_strdup_printf ("postgresql://%s@/%s?host=%s&port=%s", pg_fixture.user,
          name, host, pg_fixture.port);
    return g_strdup_printf ("host=%s port=%s user=%s dbname=%s", pg_fixture.host,
        pg_fixture.port, pg_fixture.user, name);
  }
}

static MrStore *
open_store (const gchar * dsn)
{
  g_autoptr (GError) error = NULL;
  MrStore *store = mr_store_open (dsn, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

/* One answer of @sql on the database of @dsn, as text */
static gchar *
query_one (const gchar * dsn, const gchar * sql)
{
  gchar *out = NULL;

  if (postgres) {
    PGconn *conn = PQconnectdb (dsn);
    PGresult *res;

    g_assert_cmpint (PQstatus (conn), ==, CONNECTION_OK);
    res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
      g_error ("%s: %s", sql, PQresultErrorMessage (res));
    out = g_strdup (PQgetvalue (res, 0, 0));
    PQclear (res);
    PQfinish (conn);
  } else {
    sqlite3 *db;
    sqlite3_stmt *st;

    g_assert_cmpint (sqlite3_open (dsn + 7, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==,
        SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    out = g_strdup ((const gchar *) sqlite3_column_text (st, 0));
    sqlite3_finalize (st);
    sqlite3_close (db);
  }
  return out;
}

/* ---------------------------------------------------------------------- */
/* flows and events: both backends */

typedef struct
{
  GPtrArray *ids;
  GPtrArray *specs;
  GArray *running;
  GArray *versions;
} Listed;

static void
collect_flow (const gchar * id, const gchar * spec_json, gboolean running,
    gint64 version, gpointer user_data)
{
  Listed *l = user_data;

  g_ptr_array_add (l->ids, g_strdup (id));
  g_ptr_array_add (l->specs, g_strdup (spec_json));
  g_array_append_val (l->running, running);
  g_array_append_val (l->versions, version);
}

static void
list_flows (MrStore * store, Listed * l)
{
  g_autoptr (GError) error = NULL;

  l->ids = g_ptr_array_new_with_free_func (g_free);
  l->specs = g_ptr_array_new_with_free_func (g_free);
  l->running = g_array_new (FALSE, FALSE, sizeof (gboolean));
  l->versions = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_assert_true (mr_store_foreach_flow (store, collect_flow, l, &error));
  g_assert_no_error (error);
}

static void
listed_clear (Listed * l)
{
  g_ptr_array_unref (l->ids);
  g_ptr_array_unref (l->specs);
  g_array_unref (l->running);
  g_array_unref (l->versions);
}

static gint64
version_of (MrStore * store, const gchar * id)
{
  g_autoptr (GError) error = NULL;
  gint64 version = -1;

  g_assert_true (mr_store_get_flow (store, id, NULL, NULL, &version,
          &error));
  g_assert_no_error (error);
  return version;
}

/* put keeps the order of creation, updates in place; running; versions
 * rise on every put and set_running; get_flow and flow_versions agree */
static void
test_flows (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) versions = NULL;
  g_autofree gchar *spec = NULL;
  gboolean running = TRUE;
  gint64 v_a, v_b, v;
  Listed l;

  g_assert_cmpint (mr_store_is_shared (store), ==, postgres);
  g_assert_true (mr_store_put_flow (store, "a", "{\"n\":1}", 1, &error));
  g_assert_true (mr_store_put_flow (store, "b", "{\"n\":2}", 2, &error));
  g_assert_true (mr_store_put_flow (store, "c", "{\"n\":3}", 1, &error));
  g_assert_no_error (error);
  v_a = version_of (store, "a");
  v_b = version_of (store, "b");
  g_assert_cmpint (v_b, >, v_a);
  /* an update keeps its place, gets a new version */
  g_assert_true (mr_store_put_flow (store, "a", "{\"n\":10}", 1, &error));
  g_assert_cmpint (version_of (store, "a"), >, version_of (store, "c"));
  g_assert_true (mr_store_set_running (store, "b", TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (version_of (store, "b"), >, version_of (store, "a"));

  list_flows (store, &l);
  g_assert_cmpuint (l.ids->len, ==, 3);
  g_assert_cmpstr (l.ids->pdata[0], ==, "a");
  g_assert_cmpstr (l.ids->pdata[1], ==, "b");
  g_assert_cmpstr (l.ids->pdata[2], ==, "c");
  g_assert_cmpstr (l.specs->pdata[0], ==, "{\"n\":10}");
  g_assert_false (g_array_index (l.running, gboolean, 0));
  g_assert_true (g_array_index (l.running, gboolean, 1));
  g_assert_cmpint (g_array_index (l.versions, gint64, 1), ==,
      version_of (store, "b"));

  g_assert_true (mr_store_get_flow (store, "b", &spec, &running, &v,
          &error));
  g_assert_cmpstr (spec, ==, "{\"n\":2}");
  g_assert_true (running);
  g_assert_true (mr_store_flow_versions (store, &versions, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (versions), ==, 3);
  g_assert_cmpint (*(gint64 *) g_hash_table_lookup (versions, "b"), ==, v);

  /* a missing flow, a bad redundancy: errors, nothing stored */
  g_assert_false (mr_store_get_flow (store, "zz", &spec, NULL, NULL,
          &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mr_store_put_flow (store, "d", "{}", 3, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED);
  g_clear_error (&error);
  listed_clear (&l);

  /* the same after a reopen */
  mr_store_close (store);
  store = open_store (dsn);
  list_flows (store, &l);
  g_assert_cmpuint (l.ids->len, ==, 3);
  g_assert_cmpstr (l.ids->pdata[0], ==, "a");
  g_assert_true (g_array_index (l.running, gboolean, 1));
  listed_clear (&l);
  /* a flow made again after its delete gets a higher version than it had */
  g_assert_true (mr_store_delete_flow (store, "b", &error));
  g_assert_true (mr_store_put_flow (store, "b", "{}", 1, &error));
  g_assert_no_error (error);
  if (postgres)
    g_assert_cmpint (version_of (store, "b"), >, v);
  mr_store_close (store);
}

static void
add_event (MrStore * store, const gchar * flow, const gchar * message,
    const gchar * node)
{
  g_autoptr (GError) error = NULL;
  MrEvent e = {
    .flow_id = (gchar *) flow,.type = (gchar *) "flow_started",
    .severity = (gchar *) "info",.message = (gchar *) message,
    .timestamp = g_get_real_time (),.node_id = (gchar *) node,
  };

  g_assert_true (mr_store_add_event (store, &e, &error));
  g_assert_no_error (error);
  g_assert_cmpint (e.id, >, 0);
}

/* newest first, per flow or all, limited; node_id kept; pruned to
 * MR_EVENTS_PER_FLOW per flow; deleting a flow deletes its events */
static void
test_events (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GError) error = NULL;
  GPtrArray *events;
  MrEvent *e;

  g_assert_true (mr_store_put_flow (store, "a", "{}", 1, &error));
  g_assert_true (mr_store_put_flow (store, "b", "{}", 1, &error));
  add_event (store, "a", "a1", NULL);
  add_event (store, "b", "b1", "node-1");
  add_event (store, "a", "a2", "node-2");

  events = mr_store_list_events (store, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 3);
  e = events->pdata[0];
  g_assert_cmpstr (e->message, ==, "a2");
  g_assert_cmpstr (e->node_id, ==, "node-2");
  g_assert_cmpstr (e->type, ==, "flow_started");
  g_assert_cmpstr (e->severity, ==, "info");
  g_assert_cmpint (e->timestamp, >, 0);
  g_assert_cmpint (e->id, >, ((MrEvent *) events->pdata[1])->id);
  g_assert_null (((MrEvent *) events->pdata[2])->node_id);
  g_ptr_array_unref (events);

  events = mr_store_list_events (store, "a", 1, &error);
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpstr (((MrEvent *) events->pdata[0])->message, ==, "a2");
  g_ptr_array_unref (events);

  for (guint i = 0; i < MR_EVENTS_PER_FLOW + 5; i++) {
    g_autofree gchar *m = g_strdup_printf ("many %u", i);
    add_event (store, "a", m, NULL);
  }
  events = mr_store_list_events (store, "a", MR_EVENTS_MAX_LIMIT, &error);
  g_assert_cmpuint (events->len, ==, MR_EVENTS_PER_FLOW);
  g_assert_cmpstr (((MrEvent *) events->pdata[0])->message, ==,
      "many 1004");
  g_assert_cmpstr (((MrEvent *) events->pdata[MR_EVENTS_PER_FLOW -
              1])->message, ==, "many 5");
  g_ptr_array_unref (events);
  /* b's are not pruned by a's */
  events = mr_store_list_events (store, "b", 10, &error);
  g_assert_cmpuint (events->len, ==, 1);
  g_ptr_array_unref (events);

  g_assert_true (mr_store_delete_flow (store, "a", &error));
  g_assert_no_error (error);
  events = mr_store_list_events (store, NULL, 10, &error);
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpstr (((MrEvent *) events->pdata[0])->flow_id, ==, "b");
  g_ptr_array_unref (events);
  mr_store_close (store);
}

/* migrations run once: a reopen adds none, the versions are 1 and 2 */
static void
test_migrations_once (void)
{
  g_autofree gchar *dsn = new_dsn ();
  g_autofree gchar *n = NULL, *max = NULL;

  mr_store_close (open_store (dsn));
  mr_store_close (open_store (dsn));
  n = query_one (dsn, "SELECT count(*) FROM schema_migrations");
  max = query_one (dsn, "SELECT max(version) FROM schema_migrations");
  g_assert_cmpstr (n, ==, "2");
  g_assert_cmpstr (max, ==, "2");
}

/* a database a newer mroute migrated further is refused, not damaged */
static void
test_schema_too_new (void)
{
  g_autofree gchar *dsn = new_dsn ();
  g_autoptr (GError) error = NULL;
  MrStore *store = open_store (dsn);
  g_autofree gchar *count = NULL;

  g_assert_true (mr_store_put_flow (store, "a", "{}", 1, &error));
  mr_store_close (store);
  if (postgres) {
    PGconn *conn = PQconnectdb (dsn);
    PQclear (PQexec (conn, "INSERT INTO schema_migrations (version) "
            "VALUES (99)"));
    PQfinish (conn);
  } else {
    sqlite3 *db;
    g_assert_cmpint (sqlite3_open (dsn + 7, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "INSERT INTO schema_migrations "
            "VALUES (99, 0)", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  g_assert_null (mr_store_open (dsn, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "schema version 99"));
  count = query_one (dsn, "SELECT count(*) FROM flows");
  g_assert_cmpstr (count, ==, "1");
}

/* ---------------------------------------------------------------------- */
/* SQLite only */

/* A database file exactly as the store of before migrations made it
 * (store.c of 2026-12-02), with flows and events: opened now, it is
 * upgraded in place and keeps them all */
static void
test_sqlite_upgrade_old_file (void)
{
  static const gchar old_schema[] =
      "PRAGMA journal_mode=WAL;"
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
      "CREATE INDEX IF NOT EXISTS events_by_flow ON events (flow_id, id);"
      "INSERT INTO flows VALUES ('old-2', '{\"name\":\"two\"}', 1, 2);"
      "INSERT INTO flows VALUES ('old-1', '{\"name\":\"one\"}', 0, 1);"
      "INSERT INTO events (flow_id, type, severity, message, ts) VALUES "
      "  ('old-1', 'flow_started', 'info', 'first', 1000),"
      "  ('old-2', 'source_failover', 'warning', 'second', 2000);";
  g_autofree gchar *path = g_build_filename (tmpdir, "old.db", NULL);
  g_autofree gchar *dsn = g_strconcat ("sqlite:", path, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *redundancy = NULL, *migrations = NULL;
  g_autoptr (GPtrArray) events = NULL;
  MrStore *store;
  MrEvent *e;
  sqlite3 *db;
  Listed l;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, old_schema, NULL, NULL, NULL), ==,
      SQLITE_OK);
  sqlite3_close (db);

  store = open_store (path);
  list_flows (store, &l);
  g_assert_cmpuint (l.ids->len, ==, 2);
  g_assert_cmpstr (l.ids->pdata[0], ==, "old-1");
  g_assert_cmpstr (l.specs->pdata[0], ==, "{\"name\":\"one\"}");
  g_assert_false (g_array_index (l.running, gboolean, 0));
  g_assert_cmpstr (l.ids->pdata[1], ==, "old-2");
  g_assert_true (g_array_index (l.running, gboolean, 1));
  g_assert_cmpint (g_array_index (l.versions, gint64, 0), ==, 1);
  listed_clear (&l);

  events = mr_store_list_events (store, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 2);
  e = events->pdata[0];
  g_assert_cmpstr (e->message, ==, "second");
  g_assert_cmpint (e->timestamp, ==, 2000);
  g_assert_null (e->node_id);
  g_assert_cmpstr (((MrEvent *) events->pdata[1])->severity, ==, "info");
  /* still working: a new flow after the old ones, a new event after them */
  g_assert_true (mr_store_put_flow (store, "new", "{}", 2, &error));
  g_assert_no_error (error);
  add_event (store, "new", "third", "n1");
  g_assert_cmpint (version_of (store, "new"), >, 1);
  mr_store_close (store);

  redundancy = query_one (dsn, "SELECT group_concat(redundancy) FROM "
      "(SELECT redundancy FROM flows ORDER BY created_seq)");
  g_assert_cmpstr (redundancy, ==, "1,1,2");
  migrations = query_one (dsn, "SELECT group_concat(version) FROM "
      "(SELECT version FROM schema_migrations ORDER BY version)");
  g_assert_cmpstr (migrations, ==, "1,2");
}

/* the cluster calls refuse, saying they need PostgreSQL */
static void
test_sqlite_not_shared (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GError) error = NULL;

  g_assert_false (mr_store_is_shared (store));
  g_assert_false (mr_store_node_heartbeat (store, "n", "http://x", 1, NULL,
          &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_SHARED);
  g_assert_nonnull (strstr (error->message, "PostgreSQL"));
  g_clear_error (&error);
  g_assert_null (mr_store_list_nodes (store, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_SHARED);
  g_clear_error (&error);
  g_assert_null (mr_store_claim_flows (store, "n", 1, 1000, NULL, NULL,
          &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_SHARED);
  g_clear_error (&error);
  g_assert_null (mr_store_renew_leases (store, "n", 1000, NULL, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_SHARED);
  g_clear_error (&error);
  g_assert_false (mr_store_release_lease (store, "n", "f", 0, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_SHARED);
  g_clear_error (&error);
  g_assert_null (mr_store_list_leases (store, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_NOT_SHARED);
  mr_store_close (store);
}

static void
test_sqlite_bad_path (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = g_build_filename (tmpdir, "no", "such", "x.db",
      NULL);

  g_assert_null (mr_store_open (path, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (mr_store_open ("sqlite:", &error));
  g_assert_nonnull (error);
}

/* ---------------------------------------------------------------------- */
/* DSNs */

static void
test_dsn (void)
{
  struct
  {
    const gchar *dsn, *logged;
    gboolean postgres;
  } cases[] = {
    {"./mroute.db", "./mroute.db", FALSE},
    {"sqlite:/var/lib/mroute/m.db", "sqlite:/var/lib/mroute/m.db", FALSE},
    {"postgresql://u:s3cret@db.example:5432/mroute",
        "postgresql://u:***@db.example:5432/mroute", TRUE},
    {"postgres://u@db/mroute", "postgres://u@db/mroute", TRUE},
    {"postgresql://db/mroute?user=u&password=s3cret&sslmode=require",
        "postgresql://db/mroute?user=u&password=***&sslmode=require", TRUE},
    {"postgresql:///mroute?host=/run/pg", "postgresql:///mroute?host=/run/pg",
        TRUE},
    {"host=db dbname=mroute password=s3cret user=u",
        "host=db dbname=mroute password=*** user=u", TRUE},
    {"dbname=mroute password = 's3 cret\\'x' host=db",
        "dbname=mroute password = *** host=db", TRUE},
    {"user=u dbname=m", "user=u dbname=m", TRUE},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *logged = mr_store_dsn_for_log (cases[i].dsn);

    g_assert_cmpstr (logged, ==, cases[i].logged);
    g_assert_null (strstr (logged, "s3"));
    g_assert_cmpint (mr_store_dsn_is_postgres (cases[i].dsn), ==,
        cases[i].postgres);
  }
}

/* a server that does not answer: an error soon, without the password */
static void
test_postgres_unreachable (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dsn = g_strdup_printf ("postgresql://u:s3cret@/x?"
      "host=%s/none&port=1&connect_timeout=2", tmpdir);

  g_assert_null (mr_store_open (dsn, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED);
  g_assert_null (strstr (error->message, "s3cret"));
  g_assert_nonnull (strstr (error->message, "u:***@"));
}

/* ---------------------------------------------------------------------- */
/* the cluster calls, PostgreSQL */

static MrStoreLease *
find_lease (GPtrArray * leases, const gchar * flow, guint slot)
{
  for (guint i = 0; i < leases->len; i++) {
    MrStoreLease *l = leases->pdata[i];
    if (g_str_equal (l->flow_id, flow) && l->slot == slot)
      return l;
  }
  return NULL;
}

static void
put_running (MrStore * store, const gchar * id, const gchar * spec,
    guint redundancy)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mr_store_put_flow (store, id, spec, redundancy, &error));
  g_assert_true (mr_store_set_running (store, id, TRUE, &error));
  g_assert_no_error (error);
}

static GPtrArray *
claim (MrStore * store, const gchar * node, guint max, guint lease_ms)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *leases = mr_store_claim_flows (store, node, max, lease_ms, NULL,
      NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (leases);
  return leases;
}

static GPtrArray *
renew (MrStore * store, const gchar * node, guint lease_ms,
    GHashTable * states)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *leases = mr_store_renew_leases (store, node, lease_ms, states,
      &error);

  g_assert_no_error (error);
  g_assert_nonnull (leases);
  return leases;
}

static GPtrArray *
list_leases (MrStore * store)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *leases = mr_store_list_leases (store, &error);

  g_assert_no_error (error);
  g_assert_nonnull (leases);
  return leases;
}

static void
test_pg_nodes (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  MrStore *other = open_store (dsn);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) nodes = NULL;
  g_autoptr (GPtrArray) leases = NULL;
  MrStoreNode *n;

  g_assert_true (mr_store_node_heartbeat (store, "n1", "http://127.0.0.1:1",
          10, "{\"site\":\"a\"}", &error));
  g_assert_true (mr_store_node_heartbeat (other, "n2", "http://127.0.0.1:2",
          5, NULL, &error));
  g_assert_no_error (error);
  put_running (store, "f", "{}", 1);
  leases = claim (store, "n1", 5, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_usleep (300 * 1000);
  /* a later heartbeat: new values, a fresh age */
  g_assert_true (mr_store_node_heartbeat (store, "n1", "http://127.0.0.1:3",
          12, "{\"site\":\"b\"}", &error));

  /* one statement a call; a claim that takes: two */
  {
    guint64 q = mr_store_queries (other);
    GPtrArray *got;

    g_assert_true (mr_store_node_heartbeat (other, "n2", "http://127.0.0.1:2",
            5, NULL, &error));
    g_assert_cmpuint (mr_store_queries (other), ==, q + 1);
    got = renew (other, "n2", 5000, NULL);
    g_ptr_array_unref (got);
    g_assert_cmpuint (mr_store_queries (other), ==, q + 2);
    got = claim (other, "n2", 5, 5000);
    g_assert_cmpuint (got->len, ==, 0);
    g_ptr_array_unref (got);
    g_assert_cmpuint (mr_store_queries (other), ==, q + 3);
    put_running (store, "g", "{}", 1);
    got = claim (other, "n2", 5, 5000);
    g_assert_cmpuint (got->len, ==, 1);
    g_ptr_array_unref (got);
    g_assert_cmpuint (mr_store_queries (other), ==, q + 5);
  }
  nodes = mr_store_list_nodes (other, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nodes->len, ==, 2);
  n = nodes->pdata[0];
  g_assert_cmpstr (n->id, ==, "n1");
  g_assert_cmpstr (n->api_url, ==, "http://127.0.0.1:3");
  g_assert_cmpstr (n->labels_json, ==, "{\"site\":\"b\"}");
  g_assert_cmpint (n->max_flows, ==, 12);
  g_assert_cmpuint (n->flows, ==, 1);
  g_assert_cmpint (n->heartbeat_age_ms, >=, 0);
  g_assert_cmpint (n->heartbeat_age_ms, <, 250);
  n = nodes->pdata[1];
  g_assert_cmpstr (n->id, ==, "n2");
  g_assert_cmpstr (n->labels_json, ==, "{}");
  g_assert_cmpuint (n->flows, ==, 1);
  /* the age grows by the server's clock */
  {
    gint64 age = ((MrStoreNode *) nodes->pdata[0])->heartbeat_age_ms;
    g_autoptr (GPtrArray) later = NULL;

    g_usleep (200 * 1000);
    later = mr_store_list_nodes (store, &error);
    g_assert_no_error (error);
    g_assert_cmpint (((MrStoreNode *) later->pdata[0])->heartbeat_age_ms, >=,
        age + 190);
  }
  mr_store_close (other);
  mr_store_close (store);
}

/* oldest created first, within @max; stopped flows never; a claimed
 * flow is not claimed again; renew answers the owner's; release frees */
static void
test_pg_claim_renew_release (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) states = g_hash_table_new (g_str_hash,
      g_str_equal);
  GPtrArray *leases;
  MrStoreLease *l;

  put_running (store, "f1", "{}", 1);
  put_running (store, "f2", "{}", 1);
  g_assert_true (mr_store_put_flow (store, "stopped", "{}", 1, &error));
  put_running (store, "f3", "{}", 1);

  leases = claim (store, "A", 2, 5000);
  g_assert_cmpuint (leases->len, ==, 2);
  l = leases->pdata[0];
  g_assert_cmpstr (l->flow_id, ==, "f1");
  g_assert_cmpuint (l->slot, ==, 0);
  g_assert_cmpstr (l->owner, ==, "A");
  g_assert_cmpint (l->expires_in_ms, >, 4000);
  g_assert_cmpint (l->expires_in_ms, <=, 5000);
  g_assert_null (l->state);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[1])->flow_id, ==, "f2");
  g_ptr_array_unref (leases);

  leases = claim (store, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[0])->flow_id, ==, "f3");
  g_ptr_array_unref (leases);
  leases = claim (store, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);

  /* renew: only A's, with the states given, others kept */
  g_hash_table_insert (states, (gpointer) "f1", (gpointer) "ACTIVE");
  g_hash_table_insert (states, (gpointer) "f3", (gpointer) "NOT-A's");
  leases = renew (store, "A", 8000, states);
  g_assert_cmpuint (leases->len, ==, 2);
  g_assert_cmpstr (find_lease (leases, "f1", 0)->state, ==, "ACTIVE");
  g_assert_null (find_lease (leases, "f2", 0)->state);
  g_assert_cmpint (find_lease (leases, "f1", 0)->expires_in_ms, >, 7000);
  g_ptr_array_unref (leases);
  /* any text, as given */
  g_hash_table_insert (states, (gpointer) "f2",
      (gpointer) "q\"u\\o\tte\n \xc3\xa9 {\"x\":1}");
  leases = renew (store, "A", 8000, states);
  g_assert_cmpstr (find_lease (leases, "f2", 0)->state, ==,
      "q\"u\\o\tte\n \xc3\xa9 {\"x\":1}");
  g_ptr_array_unref (leases);
  g_hash_table_remove (states, "f2");
  /* without states the last ones stay */
  leases = renew (store, "A", 8000, NULL);
  g_assert_cmpstr (find_lease (leases, "f1", 0)->state, ==, "ACTIVE");
  g_ptr_array_unref (leases);
  leases = list_leases (store);
  g_assert_cmpuint (leases->len, ==, 3);
  g_assert_null (find_lease (leases, "f3", 0)->state);
  g_assert_cmpstr (find_lease (leases, "f3", 0)->owner, ==, "B");
  g_ptr_array_unref (leases);

  /* a release by another node does nothing; by the owner, frees it */
  g_assert_true (mr_store_release_lease (store, "B", "f1", 0, &error));
  leases = claim (store, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  g_assert_true (mr_store_release_lease (store, "A", "f1", 0, &error));
  g_assert_no_error (error);
  leases = renew (store, "A", 5000, NULL);
  g_assert_cmpuint (leases->len, ==, 1);
  g_ptr_array_unref (leases);
  leases = claim (store, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[0])->flow_id, ==, "f1");
  g_ptr_array_unref (leases);

  /* stopping a flow does not end its lease; its owner releases it */
  g_assert_true (mr_store_set_running (store, "f2", FALSE, &error));
  g_assert_true (mr_store_release_lease (store, "A", "f2", 0, &error));
  leases = claim (store, "C", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  /* max 0: nothing, no error, no statement */
  {
    guint64 q = mr_store_queries (store);

    leases = claim (store, "C", 0, 5000);
    g_assert_cmpuint (leases->len, ==, 0);
    g_ptr_array_unref (leases);
    g_assert_cmpuint (mr_store_queries (store), ==, q);
  }
  mr_store_close (store);
}

/* a lease that expires is neither renewed nor answered, and another node
 * claims it */
static void
test_pg_expiry (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *a = open_store (dsn);
  MrStore *b = open_store (dsn);
  GPtrArray *leases;

  put_running (a, "f", "{}", 1);
  leases = claim (a, "A", 10, 300);
  g_assert_cmpuint (leases->len, ==, 1);
  g_ptr_array_unref (leases);
  /* unexpired: renewed (to 300 ms again) */
  leases = renew (a, "A", 300, NULL);
  g_assert_cmpuint (leases->len, ==, 1);
  g_ptr_array_unref (leases);
  leases = claim (b, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);

  g_usleep (450 * 1000);
  leases = list_leases (b);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  leases = claim (b, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[0])->owner, ==, "B");
  g_ptr_array_unref (leases);
  /* A, back, finds it lost */
  leases = renew (a, "A", 300, NULL);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  leases = list_leases (a);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[0])->owner, ==, "B");
  g_ptr_array_unref (leases);

  /* an expired lease of one's own, not renewed, is claimed again */
  g_assert_true (mr_store_release_lease (b, "B", "f", 0, NULL));
  leases = claim (a, "A", 10, 200);
  g_assert_cmpuint (leases->len, ==, 1);
  g_ptr_array_unref (leases);
  g_usleep (300 * 1000);
  leases = claim (a, "A", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpint (((MrStoreLease *) leases->pdata[0])->expires_in_ms, >,
      4000);
  g_ptr_array_unref (leases);
  mr_store_close (b);
  mr_store_close (a);
}

/* redundancy 2: two slots, never both to one node; lowering it to 1
 * drops the second slot's lease */
static void
test_pg_two_slots (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GError) error = NULL;
  GPtrArray *leases;

  put_running (store, "f", "{}", 2);
  leases = claim (store, "A", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpuint (((MrStoreLease *) leases->pdata[0])->slot, ==, 0);
  g_ptr_array_unref (leases);
  leases = claim (store, "A", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  leases = claim (store, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpuint (((MrStoreLease *) leases->pdata[0])->slot, ==, 1);
  g_ptr_array_unref (leases);
  leases = claim (store, "C", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);

  /* A's slot freed: B, holding slot 1, does not get slot 0 too */
  g_assert_true (mr_store_release_lease (store, "A", "f", 0, &error));
  leases = claim (store, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);

  g_assert_true (mr_store_put_flow (store, "f", "{}", 1, &error));
  g_assert_no_error (error);
  leases = list_leases (store);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  leases = renew (store, "B", 5000, NULL);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  mr_store_close (store);
}

static gboolean
accept_site_a (const gchar * flow_id, const gchar * spec_json,
    gpointer user_data)
{
  guint *calls = user_data;

  (*calls)++;
  g_assert_nonnull (spec_json);
  return strstr (spec_json, "\"site\":\"a\"") != NULL;
}

/* @accept sees each candidate's spec and decides; rejected ones stay
 * free for another node; deleting a flow deletes its leases */
static void
test_pg_accept_and_delete (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GError) error = NULL;
  GPtrArray *leases;
  guint calls = 0;

  put_running (store, "b1", "{\"labels\":{\"site\":\"b\"}}", 1);
  put_running (store, "a1", "{\"labels\":{\"site\":\"a\"}}", 1);
  put_running (store, "b2", "{\"labels\":{\"site\":\"b\"}}", 2);
  put_running (store, "a2", "{\"labels\":{\"site\":\"a\"}}", 1);
  leases = mr_store_claim_flows (store, "A", 10, 5000, accept_site_a, &calls,
      &error);
  g_assert_no_error (error);
  /* one call per flow, not per slot */
  g_assert_cmpuint (calls, ==, 4);
  g_assert_cmpuint (leases->len, ==, 2);
  g_assert_nonnull (find_lease (leases, "a1", 0));
  g_assert_nonnull (find_lease (leases, "a2", 0));
  g_ptr_array_unref (leases);
  leases = claim (store, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 2);
  g_assert_nonnull (find_lease (leases, "b1", 0));
  g_assert_nonnull (find_lease (leases, "b2", 0));
  g_ptr_array_unref (leases);

  g_assert_true (mr_store_delete_flow (store, "a1", &error));
  g_assert_true (mr_store_delete_flow (store, "b2", &error));
  g_assert_no_error (error);
  leases = list_leases (store);
  g_assert_cmpuint (leases->len, ==, 2);
  g_assert_nonnull (find_lease (leases, "a2", 0));
  g_assert_nonnull (find_lease (leases, "b1", 0));
  g_ptr_array_unref (leases);
  leases = renew (store, "A", 5000, NULL);
  g_assert_cmpuint (leases->len, ==, 1);
  g_ptr_array_unref (leases);
  mr_store_close (store);
}

typedef struct
{
  MrStore *rival;
  guint calls;
} Rival;

/* runs between the claim's read of candidates and its take: another node
 * claims the same flow then */
static gboolean
accept_after_rival (const gchar * flow_id, const gchar * spec_json,
    gpointer user_data)
{
  Rival *r = user_data;
  GPtrArray *leases;

  r->calls++;
  leases = claim (r->rival, "A", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_ptr_array_unref (leases);
  return TRUE;
}

/* what changed between a claim's read and its take wins: a flow another
 * node claimed meanwhile is not taken over, a flow another claim holds
 * locked is skipped, not waited for */
static void
test_pg_claim_races (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *a = open_store (dsn);
  MrStore *b = open_store (dsn);
  g_autoptr (GError) error = NULL;
  Rival rival = {.rival = a };
  GPtrArray *leases;
  PGconn *locker;
  PGresult *res;
  gint64 t0;

  put_running (a, "f", "{}", 1);
  leases = mr_store_claim_flows (b, "B", 10, 5000, accept_after_rival,
      &rival, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rival.calls, ==, 1);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  leases = list_leases (b);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[0])->owner, ==, "A");
  g_ptr_array_unref (leases);

  /* another transaction holds g's row: B's claim skips it at once, and
   * takes the next one instead within its max */
  put_running (a, "g", "{}", 1);
  put_running (a, "h", "{}", 1);
  locker = PQconnectdb (dsn);
  g_assert_cmpint (PQstatus (locker), ==, CONNECTION_OK);
  PQclear (PQexec (locker, "BEGIN"));
  res = PQexec (locker, "SELECT id FROM flows WHERE id = 'g' FOR UPDATE");
  g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
  PQclear (res);
  t0 = g_get_monotonic_time ();
  leases = claim (b, "B", 1, 5000);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[0])->flow_id, ==, "h");
  g_ptr_array_unref (leases);
  leases = claim (b, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 0);
  g_ptr_array_unref (leases);
  PQclear (PQexec (locker, "COMMIT"));
  PQfinish (locker);
  leases = claim (b, "B", 10, 5000);
  g_assert_cmpuint (leases->len, ==, 1);
  g_assert_cmpstr (((MrStoreLease *) leases->pdata[0])->flow_id, ==, "g");
  g_ptr_array_unref (leases);
  mr_store_close (b);
  mr_store_close (a);
}

static gpointer
open_and_close (gpointer data)
{
  g_autoptr (GError) error = NULL;
  MrStore *store = mr_store_open (data, &error);

  g_assert_no_error (error);
  mr_store_close (store);
  return NULL;
}

/* nodes starting at once on an empty database: each migration runs once */
static void
test_pg_concurrent_migrations (void)
{
  g_autofree gchar *dsn = new_dsn ();
  g_autofree gchar *n = NULL;
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("opener", open_and_close, dsn);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  n = query_one (dsn, "SELECT count(*) FROM schema_migrations");
  g_assert_cmpstr (n, ==, "2");
}

#define RACE_FLOWS 150
#define RACE_NODES 3

typedef struct
{
  gchar *dsn;
  gchar *node;
  GPtrArray *got;               /* "flow/slot" */
  gint *start;
} Racer;

static gpointer
race (gpointer data)
{
  Racer *r = data;
  MrStore *store = open_store (r->dsn);
  guint empty = 0;

  while (!g_atomic_int_get (r->start))
    g_thread_yield ();
  /* a few at a time, until three claims in a row find nothing */
  while (empty < 3) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) leases = mr_store_claim_flows (store, r->node, 2,
        60000, NULL, NULL, &error);

    g_assert_no_error (error);
    empty = leases->len ? 0 : empty + 1;
    for (guint i = 0; i < leases->len; i++) {
      MrStoreLease *l = leases->pdata[i];
      g_assert_cmpstr (l->owner, ==, r->node);
      g_ptr_array_add (r->got, g_strdup_printf ("%s/%u", l->flow_id,
              l->slot));
    }
  }
  mr_store_close (store);
  return NULL;
}

/* three nodes (three connections) claim at once: every (flow, slot) is
 * taken exactly once, no node holds both slots of a flow */
static void
test_pg_concurrent_claims (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GHashTable) owner_of = g_hash_table_new (g_str_hash,
      g_str_equal);
  g_autoptr (GPtrArray) leases = NULL;
  Racer racers[RACE_NODES];
  GThread *threads[RACE_NODES];
  gint start = 0;
  guint pairs = 0;

  for (guint i = 0; i < RACE_FLOWS; i++) {
    g_autofree gchar *id = g_strdup_printf ("flow%02u", i);
    guint redundancy = i % 3 == 0 ? 2 : 1;

    put_running (store, id, "{}", redundancy);
    pairs += redundancy;
  }
  for (guint i = 0; i < RACE_NODES; i++) {
    racers[i].dsn = dsn;
    racers[i].node = g_strdup_printf ("node%u", i);
    racers[i].got = g_ptr_array_new_with_free_func (g_free);
    racers[i].start = &start;
    threads[i] = g_thread_new ("racer", race, &racers[i]);
  }
  g_atomic_int_set (&start, 1);
  for (guint i = 0; i < RACE_NODES; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < RACE_NODES; i++) {
    g_autoptr (GHashTable) flows = g_hash_table_new_full (g_str_hash,
        g_str_equal, g_free, NULL);

    g_test_message ("%s claimed %u", racers[i].node, racers[i].got->len);
    for (guint j = 0; j < racers[i].got->len; j++) {
      const gchar *pair = racers[i].got->pdata[j];
      const gchar *was = g_hash_table_lookup (owner_of, pair);

      if (was)
        g_error ("%s claimed by %s and %s", pair, was, racers[i].node);
      g_hash_table_insert (owner_of, (gpointer) pair, racers[i].node);
      /* never both slots of a flow */
      if (!g_hash_table_add (flows, g_strndup (pair, strchr (pair, '/') -
                  pair)))
        g_error ("%s holds both slots of %s", racers[i].node, pair);
    }
  }
  g_assert_cmpuint (g_hash_table_size (owner_of), ==, pairs);
  leases = list_leases (store);
  g_assert_cmpuint (leases->len, ==, pairs);
  for (guint i = 0; i < leases->len; i++) {
    MrStoreLease *l = leases->pdata[i];
    g_autofree gchar *pair = g_strdup_printf ("%s/%u", l->flow_id, l->slot);

    g_assert_cmpstr (g_hash_table_lookup (owner_of, pair), ==, l->owner);
  }
  for (guint i = 0; i < RACE_NODES; i++) {
    g_free (racers[i].node);
    g_ptr_array_unref (racers[i].got);
  }
  mr_store_close (store);
}

static void
terminate_others (const gchar * dsn)
{
  g_autofree gchar *db = query_one (dsn, "SELECT current_database()");
  g_autofree gchar *kill = g_strdup_printf ("SELECT pg_terminate_backend "
      "(pid) FROM pg_stat_activity WHERE datname = '%s' AND pid <> "
      "pg_backend_pid ()", db);

  pg_admin (kill);
  /* the backend ends a moment after the call */
  g_usleep (100 * 1000);
}

/* the connection lost (the server ends it): a read or an idempotent write
 * runs again on a new connection, the caller sees no error; an event is
 * not stored twice */
static void
test_pg_reconnect (void)
{
  g_autofree gchar *dsn = new_dsn ();
  MrStore *store = open_store (dsn);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *spec = NULL;
  g_autoptr (GPtrArray) leases = NULL;
  g_autoptr (GPtrArray) events = NULL;

  put_running (store, "f", "{}", 1);
  terminate_others (dsn);
  g_assert_true (mr_store_get_flow (store, "f", &spec, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (spec, ==, "{}");

  terminate_others (dsn);
  g_assert_true (mr_store_node_heartbeat (store, "A", "http://x", 1, NULL,
          &error));
  g_assert_no_error (error);
  leases = claim (store, "A", 1, 5000);
  g_assert_cmpuint (leases->len, ==, 1);

  /* an event is not stored twice: that call fails, the next works */
  terminate_others (dsn);
  {
    MrEvent e = {.flow_id = (gchar *) "f",.type = (gchar *) "t",
      .severity = (gchar *) "info",.message = (gchar *) "m",.timestamp = 1
    };
    g_assert_false (mr_store_add_event (store, &e, &error));
    g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED);
    g_clear_error (&error);
  }
  add_event (store, "f", "after", NULL);
  events = mr_store_list_events (store, "f", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 1);

  mr_store_close (store);
}

/* ---------------------------------------------------------------------- */

/* Starts tests/integration/mroute_pg.py --serve; FALSE (and why) if
 * PostgreSQL cannot run here.  The server lives until pg_fixture_stop (),
 * or this process's end however it ends (its standard input closes). */
static gboolean
pg_fixture_start (PgFixture * fx, gchar ** why)
{
  const gchar *script = g_getenv ("MROUTE_PG_FIXTURE");
  const gchar *python = g_getenv ("MROUTE_PYTHON");
  g_autoptr (GError) error = NULL;
  g_autoptr (GIOChannel) out = NULL;
  gint out_fd;
  gchar *argv[] = { (gchar *) (python ? python : "python3"),
    (gchar *) script, (gchar *) "--serve", NULL
  };
  gchar *line = NULL;

  fx->stdin_fd = -1;
  if (!script) {
    *why = g_strdup ("MROUTE_PG_FIXTURE (tests/integration/mroute_pg.py) "
        "is not set");
    return FALSE;
  }
  if (!g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &fx->pid, &fx->stdin_fd,
          &out_fd, NULL, &error)) {
    *why = g_strdup_printf ("cannot run %s: %s", script, error->message);
    return FALSE;
  }
  out = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (out, TRUE);
  while (g_io_channel_read_line (out, &line, NULL, NULL, NULL) ==
      G_IO_STATUS_NORMAL) {
    g_strchomp (line);
    if (g_str_has_prefix (line, "MROUTE_TEST_PG_HOST="))
      fx->host = g_strdup (line + 20);
    else if (g_str_has_prefix (line, "MROUTE_TEST_PG_PORT="))
      fx->port = g_strdup (line + 20);
    else if (g_str_has_prefix (line, "MROUTE_TEST_PG_USER="))
      fx->user = g_strdup (line + 20);
    else if (g_str_has_prefix (line, "UNAVAILABLE: "))
      *why = g_strdup (line + 13);
    if (g_str_equal (line, "READY")) {
      g_free (line);
      return fx->host && fx->port && fx->user;
    }
    g_clear_pointer (&line, g_free);
  }
  if (!*why)
    *why = g_strdup ("the PostgreSQL fixture ended without a server");
  return FALSE;
}

/* Stops the server and waits until its folder is gone. */
static void
pg_fixture_stop (PgFixture * fx)
{
  if (fx->stdin_fd >= 0)
    close (fx->stdin_fd);
  fx->stdin_fd = -1;
  if (fx->pid) {
    gint status;
    waitpid (fx->pid, &status, 0);
    g_spawn_close_pid (fx->pid);
    fx->pid = 0;
  }
  g_clear_pointer (&fx->host, g_free);
  g_clear_pointer (&fx->port, g_free);
  g_clear_pointer (&fx->user, g_free);
}

/* The server stops under an open store: every call fails soon with a
 * clear error (no password in it), none hangs; after a failed attempt to
 * connect again the next calls within a second fail at once */
static void
test_pg_server_gone (void)
{
  PgFixture fx = { 0 };
  g_autofree gchar *why = NULL;
  g_autofree gchar *dsn = NULL;
  g_autoptr (GError) error = NULL;
  MrStore *store;
  gint64 t0;

  if (!pg_fixture_start (&fx, &why))
    g_error ("a second PostgreSQL: %s", why);
  {
    g_autofree gchar *host = g_uri_escape_string (fx.host, NULL, FALSE);
    dsn = g_strdup_printf ("postgresql://%s:s3cret@/postgres?host=%s&port=%s",
        fx.user, host, fx.port);
  }
  store = open_store (dsn);
  put_running (store, "f", "{}", 1);
  pg_fixture_stop (&fx);

  t0 = g_get_monotonic_time ();
  g_assert_false (mr_store_get_flow (store, "f", NULL, NULL, NULL, &error));
  g_assert_error (error, MR_STORE_ERROR, MR_STORE_ERROR_FAILED);
  g_test_message ("server gone: %s", error->message);
  g_assert_null (strstr (error->message, "s3cret"));
  g_clear_error (&error);
  g_assert_null (mr_store_renew_leases (store, "A", 1000, NULL, &error));
  g_assert_nonnull (strstr (error->message, "not connected"));
  g_clear_error (&error);
  g_assert_false (mr_store_set_running (store, "f", FALSE, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 3 * G_USEC_PER_SEC);
  g_clear_error (&error);
  /* a second on: it tries again, and fails again */
  g_usleep (1100 * 1000);
  g_assert_false (mr_store_get_flow (store, "f", NULL, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "reconnecting"));
  mr_store_close (store);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *why = NULL;
  int status;

  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--postgres"))
      postgres = TRUE;
  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("mroute-store-XXXXXX", &error);
  g_assert_no_error (error);
  if (postgres && g_getenv ("MROUTE_TEST_PG_HOST")) {
    /* a server of the caller's */
    pg_fixture.stdin_fd = -1;
    pg_fixture.host = g_strdup (g_getenv ("MROUTE_TEST_PG_HOST"));
    pg_fixture.port = g_strdup (g_getenv ("MROUTE_TEST_PG_PORT"));
    pg_fixture.user = g_strdup (g_getenv ("MROUTE_TEST_PG_USER"));
  } else if (postgres && !pg_fixture_start (&pg_fixture, &why)) {
    g_print ("SKIP: PostgreSQL unavailable, the store's PostgreSQL tests "
        "did not run: %s\n", why);
    pg_fixture_stop (&pg_fixture);
    g_rmdir (tmpdir);
    return 77;
  }

  g_test_add_func ("/store/flows", test_flows);
  g_test_add_func ("/store/events", test_events);
  g_test_add_func ("/store/migrations-once", test_migrations_once);
  g_test_add_func ("/store/schema-too-new", test_schema_too_new);
  if (postgres) {
    g_test_add_func ("/store/postgres/unreachable",
        test_postgres_unreachable);
    g_test_add_func ("/store/postgres/nodes", test_pg_nodes);
    g_test_add_func ("/store/postgres/claim-renew-release",
        test_pg_claim_renew_release);
    g_test_add_func ("/store/postgres/expiry", test_pg_expiry);
    g_test_add_func ("/store/postgres/two-slots", test_pg_two_slots);
    g_test_add_func ("/store/postgres/accept-and-delete",
        test_pg_accept_and_delete);
    g_test_add_func ("/store/postgres/claim-races", test_pg_claim_races);
    g_test_add_func ("/store/postgres/concurrent-migrations",
        test_pg_concurrent_migrations);
    g_test_add_func ("/store/postgres/concurrent-claims",
        test_pg_concurrent_claims);
    g_test_add_func ("/store/postgres/reconnect", test_pg_reconnect);
    /* it needs a server of its own */
    if (!g_getenv ("MROUTE_TEST_PG_HOST"))
      g_test_add_func ("/store/postgres/server-gone", test_pg_server_gone);
  } else {
    g_test_add_func ("/store/sqlite/upgrade-old-file",
        test_sqlite_upgrade_old_file);
    g_test_add_func ("/store/sqlite/not-shared", test_sqlite_not_shared);
    g_test_add_func ("/store/sqlite/bad-path", test_sqlite_bad_path);
    g_test_add_func ("/store/dsn", test_dsn);
  }
  status = g_test_run ();

  pg_fixture_stop (&pg_fixture);
  /* SQLite's files and their -wal, -shm */
  {
    g_autoptr (GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      g_autofree gchar *path = g_build_filename (tmpdir, name, NULL);
      g_unlink (path);
    }
  }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return status;
}
