#!/usr/bin/env python3
"""The database's share of a cluster node's tick: starts a throwaway
PostgreSQL (tests/integration/mroute_pg.py, with pg_stat_statements) and
runs BUILDDIR/bench/store-tick on it, which prints the time of each call
of a tick (heartbeat, renew, flow versions, a claim that finds nothing,
a claim that takes one) and the statements the server ran per tick.

    bench/store_tick.py [BUILDDIR] [FLOWS] [TICKS]

Loopback Unix socket, fsync off: the figures are the client's and the
server's CPU and the round trips, not a disk's."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from mroute_pg import PgServer, PgUnavailable  # noqa: E402


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build")
    flows = sys.argv[2] if len(sys.argv) > 2 else "30"
    ticks = sys.argv[3] if len(sys.argv) > 3 else "500"
    exe = os.path.join(build, "bench", "store-tick")
    try:
        pg = PgServer(settings={"shared_preload_libraries": "pg_stat_statements"}).start()
    except PgUnavailable as e:
        print("store_tick: PostgreSQL unavailable: %s" % e)
        return 77
    try:
        dsn = pg.new_database("bench")
        try:
            pg.psql("CREATE EXTENSION pg_stat_statements", dbname="bench")
        except RuntimeError as e:
            print("(pg_stat_statements unavailable: %s)" % e)
        return subprocess.run([exe, dsn, flows, ticks]).returncode
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
