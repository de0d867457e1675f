/* store-tick: the database's share of a cluster node's tick, measured on
 * a real PostgreSQL (bench/store_tick.py starts one and runs this).
 *
 *   store-tick DSN [FLOWS] [TICKS]
 *
 * Makes FLOWS running flows, lets one node claim them all, then times
 * TICKS ticks of what the node does every tick with the store: heartbeat,
 * renew its leases (with a state per flow), the versions of the flows
 * (to see changes made on other nodes), and a claim that finds nothing;
 * then a claim that does take a flow (FLOWS more flows, one per claim).
 * With pg_stat_statements in the database it also counts the statements
 * the server ran per tick.  Prints figures; never passes or fails. */

#include <glib.h>
#include <libpq-fe.h>
#include <stdlib.h>

#include "store/store.h"

#define LEASE_MS 3000

typedef struct
{
  const gchar *name;
  GArray *us;
} Timing;

static gint
cmp_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static void
timing_print (Timing * t)
{
  GArray *us = t->us;
  gint64 sum = 0;

  g_array_sort (us, cmp_gint64);
  for (guint i = 0; i < us->len; i++)
    sum += g_array_index (us, gint64, i);
  g_print ("  %-26s n=%-5u mean %6.0f us  p50 %6" G_GINT64_FORMAT
      " us  p99 %6" G_GINT64_FORMAT " us\n", t->name, us->len,
      (gdouble) sum / us->len, g_array_index (us, gint64, us->len / 2),
      g_array_index (us, gint64, (us->len * 99) / 100));
}

#define TIMED(timing, expr) G_STMT_START { \
    gint64 t0_ = g_get_monotonic_time (); \
    expr; \
    gint64 d_ = g_get_monotonic_time () - t0_; \
    g_array_append_val ((timing)->us, d_); \
  } G_STMT_END

static void
check (gboolean ok, GError * error)
{
  if (!ok)
    g_error ("%s", error ? error->message : "failed");
}

/* pg_stat_statements, when the database has it: NULL otherwise */
static PGconn *
stats_open (const gchar * dsn)
{
  PGconn *conn = PQconnectdb (dsn);
  PGresult *res;

  if (PQstatus (conn) != CONNECTION_OK) {
    PQfinish (conn);
    return NULL;
  }
  res = PQexec (conn, "SELECT pg_stat_statements_reset ()");
  if (PQresultStatus (res) != PGRES_TUPLES_OK) {
    g_print ("(no pg_stat_statements: statements per tick not counted)\n");
    PQclear (res);
    PQfinish (conn);
    return NULL;
  }
  PQclear (res);
  return conn;
}

static void
stats_reset (PGconn * conn)
{
  if (conn)
    PQclear (PQexec (conn, "SELECT pg_stat_statements_reset ()"));
}

static void
stats_print (PGconn * conn, guint ticks, const gchar * per)
{
  PGresult *res;
  gint64 total = 0;

  if (!conn)
    return;
  res = PQexec (conn, "SELECT calls, regexp_replace (left (query, 60), "
      "'\\s+', ' ', 'g') FROM pg_stat_statements WHERE dbid = (SELECT oid "
      "FROM pg_database WHERE datname = current_database ()) AND query "
      "NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC");
  if (PQresultStatus (res) != PGRES_TUPLES_OK) {
    g_print ("pg_stat_statements: %s", PQresultErrorMessage (res));
    PQclear (res);
    return;
  }
  for (gint i = 0; i < PQntuples (res); i++) {
    gint64 calls = g_ascii_strtoll (PQgetvalue (res, i, 0), NULL, 10);
    total += calls;
    g_print ("    %6.2f per %s  %s...\n", (gdouble) calls / ticks, per,
        PQgetvalue (res, i, 1));
  }
  g_print ("  statements the server ran: %" G_GINT64_FORMAT " in %u, "
      "%.2f per %s\n", total, ticks, (gdouble) total / ticks, per);
  PQclear (res);
}

int
main (int argc, char **argv)
{
  const gchar *dsn;
  guint flows, ticks;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) states = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  Timing heartbeat = { "heartbeat" }, renew = { "renew_leases" },
      versions = { "flow_versions" }, claim_none = { "claim (none free)" },
      claim_one = { "claim (one taken)" };
  Timing *all[] = { &heartbeat, &renew, &versions, &claim_none, &claim_one };
  MrStore *store;
  PGconn *stats;
  GPtrArray *got;

  if (argc < 2) {
    g_printerr ("usage: store-tick DSN [FLOWS] [TICKS]\n");
    return 2;
  }
  dsn = argv[1];
  flows = argc > 2 ? atoi (argv[2]) : 30;
  ticks = argc > 3 ? atoi (argv[3]) : 500;
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    all[i]->us = g_array_new (FALSE, FALSE, sizeof (gint64));

  store = mr_store_open (dsn, &error);
  check (store != NULL, error);
  for (guint i = 0; i < flows; i++) {
    g_autofree gchar *id = g_strdup_printf ("flow%04u", i);
    check (mr_store_put_flow (store, id, "{\"name\":\"bench\"}", 1, &error),
        error);
    check (mr_store_set_running (store, id, TRUE, &error), error);
    g_hash_table_insert (states, g_steal_pointer (&id), (gpointer) "ACTIVE");
  }
  got = mr_store_claim_flows (store, "node-a", flows, LEASE_MS, NULL, NULL,
      &error);
  check (got != NULL, error);
  g_print ("store-tick: %u flows held by one node, %u ticks\n", got->len,
      ticks);
  g_ptr_array_unref (got);

  stats = stats_open (dsn);
  for (guint t = 0; t < ticks; t++) {
    GHashTable *v = NULL;

    TIMED (&heartbeat, check (mr_store_node_heartbeat (store, "node-a",
                "http://127.0.0.1:8080", 100, "{\"site\":\"a\"}", &error),
            error));
    TIMED (&renew, got = mr_store_renew_leases (store, "node-a", LEASE_MS,
            states, &error));
    check (got && got->len == flows, error);
    g_ptr_array_unref (got);
    TIMED (&versions, check (mr_store_flow_versions (store, &v, &error),
            error));
    g_hash_table_unref (v);
    TIMED (&claim_none, got = mr_store_claim_flows (store, "node-a", 10,
            LEASE_MS, NULL, NULL, &error));
    check (got && got->len == 0, error);
    g_ptr_array_unref (got);
  }
  g_print ("one tick, per call:\n");
  for (guint i = 0; i < 4; i++)
    timing_print (all[i]);
  stats_print (stats, ticks, "tick");

  for (guint i = 0; i < flows; i++) {
    g_autofree gchar *id = g_strdup_printf ("new%04u", i);
    check (mr_store_put_flow (store, id, "{}", 1, &error), error);
    check (mr_store_set_running (store, id, TRUE, &error), error);
  }
  stats_reset (stats);
  for (guint i = 0; i < flows; i++) {
    TIMED (&claim_one, got = mr_store_claim_flows (store, "node-a", 1,
            LEASE_MS, NULL, NULL, &error));
    check (got && got->len == 1, error);
    g_ptr_array_unref (got);
  }
  g_print ("a claim that takes a flow:\n");
  timing_print (&claim_one);
  stats_print (stats, flows, "claim");

  if (stats)
    PQfinish (stats);
  mr_store_close (store);
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_array_unref (all[i]->us);
  return 0;
}
