#!/usr/bin/env python3
"""Cluster benchmark (docs/cluster.md): three controllers on one throwaway
PostgreSQL, in a private network namespace whose loopback carries
multicast (tests/integration/mroute_cluster.py), flows whose sources are
multicast groups fed with numbered TS datagrams (50 a second each) and
whose UDP outputs this program reads.

1. Database load: 30 flows placed and running; for --load-seconds (20)
   the statements each node sends to PostgreSQL (/health's
   cluster.store_queries, counted in the controller) and, as a cross-check,
   the database's committed transactions (pg_stat_database.xact_commit)
   divided by the nodes.
2. Time from kill -9 to output back: --flows (10) flows; one is watched.
   --kills (20) times: the node that runs the watched flow is killed with
   SIGKILL; the time from the kill to the first datagram at the watched
   flow's output from another sender is taken; the node is started again
   and the next round waits for the cluster to settle.

Percentiles are nearest-rank (with 20 kills p99 is the largest).  Needs
root (a network namespace) and Debian's postgresql.  Usage:

    python3 bench/cluster.py --build BUILDDIR [--kills 20] [--flows 10]
                             [--lease-ms 3000] [--tick-ms 500] [--quick]
"""

import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

TAG = "bench-cluster"
RATE = 50.0


def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--flows", type=int, default=10, help="flows during the kills (default 10)")
    ap.add_argument("--load-flows", type=int, default=30)
    ap.add_argument("--load-seconds", type=float, default=20.0)
    ap.add_argument("--lease-ms", type=int, default=3000)
    ap.add_argument("--tick-ms", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="5 kills, 5 s of load")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    if args.quick:
        args.kills, args.load_seconds = 5, 5.0

    build = os.path.abspath(args.build)
    os.environ.setdefault("MROUTE_BIN", os.path.join(build, "controller", "mroute"))
    os.environ.setdefault("GST_PLUGIN_PATH", os.path.join(build, "plugins"))
    os.environ.setdefault("GST_REGISTRY", os.path.join(build, "bench-cluster-registry.bin"))
    if not os.access(os.environ["MROUTE_BIN"], os.X_OK):
        sys.exit("no mroute binary at %s: build first (make build)" % os.environ["MROUTE_BIN"])

    import mroute_cluster as mc
    mc.enter_private_netns(os.path.abspath(__file__), TAG)

    def log(msg):
        mc.log(TAG, msg)

    pg = mc.postgres_or_skip(TAG)
    nodes = {}
    sender = None
    rx = None
    figures = {"lease_ms": args.lease_ms, "tick_ms": args.tick_ms}
    try:
        for name in ("n1", "n2", "n3"):
            nodes[name] = mc.Node(pg.dsn, name, lease_ms=args.lease_ms, tick_ms=args.tick_ms)
            nodes[name].check_openapi = False
            nodes[name].start(timeout=20)
        n = max(args.load_flows, args.flows)
        rx = mc.Receiver(n).start()
        groups = [(mc.group_of(i), mc.free_port()) for i in range(n)]
        sender = mc.start_sender(groups, RATE, 3600, os.devnull)
        names = list(nodes)
        flows = []
        for i in range(n):
            c = nodes[names[i % 3]]
            r = c.post("/v1/flows", mc.flow_body("b%02d" % i, groups[i][0], groups[i][1], rx.ports[i]))
            fid = r.json()["id"]
            c.post("/v1/flows/%s/start" % fid)
            flows.append(fid)

        def owners():
            return {f: o for f, _, o in (row for row in pg.psql(
                "SELECT flow_id, slot, owner FROM leases WHERE expires_at > now() AND slot = 0"))}

        def flowing(idx, within=1.0):
            t = time.monotonic() - within
            return all(rx.count_since(i, t) >= 0.6 * RATE * within for i in idx)

        if not mc.wait_until(lambda: len(owners()) >= n and flowing(range(n)), 30, step=0.25):
            sys.exit("the %d flows are not all placed and flowing" % n)
        log("%d flows placed: %r" % (n, {k: list(owners().values()).count(k) for k in nodes}))

        # -- 1. database load ------------------------------------------------
        def queries():
            return {k: c.get("/health").json()["cluster"]["store_queries"] for k, c in nodes.items()}

        def commits():
            return int(pg.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = '%s'"
                               % pg.dbname)[0][0])
        time.sleep(2.0)
        q0, x0, t0 = queries(), commits(), time.monotonic()
        time.sleep(args.load_seconds)
        q1, x1, t1 = queries(), commits(), time.monotonic()
        per_node = {k: (q1[k] - q0[k]) / (t1 - t0) for k in nodes}
        figures["load_flows"] = n
        figures["queries_per_s_per_node"] = per_node
        figures["xact_commit_per_s_per_node"] = (x1 - x0) / (t1 - t0) / len(nodes)
        log("at %d flows: statements/s per node %s (mean %.1f); committed transactions/s "
            "per node %.1f (pg_stat_database's, divided by the nodes)"
            % (n, {k: round(v, 1) for k, v in per_node.items()},
               sum(per_node.values()) / len(per_node), figures["xact_commit_per_s_per_node"]))

        # -- 2. kill -9 to output back -----------------------------------------
        for fid in flows[args.flows:]:
            nodes["n1"].delete("/v1/flows/%s" % fid)
        watched = 0
        delays = []
        for k in range(args.kills):
            if not mc.wait_until(lambda: len(owners()) >= args.flows and flowing(range(args.flows)),
                                 20, step=0.25):
                sys.exit("round %d: the flows did not settle" % k)
            victim = owners()[flows[watched]]
            old = rx.last_sender(watched)
            t_kill = time.monotonic()
            nodes[victim].kill9()
            back = mc.wait_until(lambda: rx.back_after(watched, t_kill, old), 15, step=0.02)
            if back is None:
                sys.exit("round %d: output not back in 15 s" % k)
            delays.append(back)
            log("kill %2d: %s killed, output back after %.3f s" % (k + 1, victim, back))
            nodes[victim].restart(timeout=20)
        figures["kills"] = len(delays)
        figures["kill_to_output_s"] = {"p50": pct(delays, 50), "p99": pct(delays, 99),
                                       "min": min(delays), "max": max(delays)}
        log("kill -9 to output back over %d kills: p50 %.2f s, p99 %.2f s (min %.2f, max %.2f); "
            "lease %d ms, tick %d ms" % (len(delays), pct(delays, 50), pct(delays, 99),
                                        min(delays), max(delays), args.lease_ms, args.tick_ms))
        print(json.dumps(figures, indent=2))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=2)
    finally:
        for c in nodes.values():
            try:
                c.stop(timeout=20)
            except Exception:
                pass
        if sender:
            sender.kill()
            sender.wait()
        if rx:
            rx.stop()
        pg.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
