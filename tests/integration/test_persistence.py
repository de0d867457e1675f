#!/usr/bin/env python3
"""Persistence tests: flows, events and the running state survive a restart
of the controller on the same SQLite file, after SIGTERM, SIGINT and
kill -9.  A flow that was running runs again and forwards data; a stopped
one stays STANDBY.

With --postgres the same tests run on PostgreSQL ([storage] dsn =
postgresql://..., a database per test on a throwaway server that
mroute_pg.py starts; exit 77, skipped, saying why, where it cannot), with
a password in the DSN that the controller's log must never show.

Standard library only; all traffic on 127.0.0.1.
"""

import os
import signal
import socket
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_harness import Controller  # noqa: E402
from mroute_testcase import LO, MrouteTestCase  # noqa: E402
from mroute_pg import PgServer, PgUnavailable  # noqa: E402

# the PostgreSQL server of a --postgres run, else None
PG = None
PG_PASSWORD = "pw-never-logged"

TS = 188
TS_PER_DGRAM = 7
TS_PID = 0x100


class TsSender:
    """Makes datagrams of 7 valid 188-byte MPEG-TS packets on one PID with
    running continuity counters, each datagram distinguishable."""

    def __init__(self):
        self.cc = 0
        self.serial = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def datagram(self):
        out = bytearray()
        for i in range(TS_PER_DGRAM):
            pusi = 0x40 if i == 0 else 0x00
            header = bytes([0x47, pusi | (TS_PID >> 8), TS_PID & 0xFF, 0x10 | self.cc])
            self.cc = (self.cc + 1) & 0x0F
            body = ("mroute persistence %08d/%d " % (self.serial, i)).encode()
            body = (body * (184 // len(body) + 1))[:184]
            out += header + body
        self.serial += 1
        return bytes(out)

    def send(self, port, count, spacing=0.002):
        sent = []
        for _ in range(count):
            d = self.datagram()
            self.sock.sendto(d, (LO, port))
            sent.append(d)
            time.sleep(spacing)
        return sent

    def stop(self):
        self.sock.close()


def db_integrity(path):
    if PG is not None:
        # the server's own consistency; what mroute wrote is readable
        dbname = path.split("?")[0].rsplit("/", 1)[1]
        n = PG.psql("SELECT count(*) FROM flows; SELECT max(version) FROM "
                    "schema_migrations", dbname=dbname).split()
        return "ok" if len(n) == 2 and n[1] == "2" else "unreadable: %r" % n
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


VOLATILE = ("status", "updated_at")


class ConfigDsnController(Controller):
    """A controller whose database comes from [storage] dsn in its
    configuration file (no --db, which would win over it)."""

    def __init__(self, dsn, **kw):
        super().__init__(**kw)
        self.dsn = dsn
        self.config = "[storage]\ndsn = %s\n" % dsn

    def command(self):
        args = super().command()
        i = args.index("--db")
        return args[:i] + args[i + 2:]


class Persistence(MrouteTestCase):

    def setUp(self):
        super().setUp()
        self.sender = self.own(TsSender())

    # helpers -------------------------------------------------------------

    def controller(self, db_path=None):
        if db_path is None and PG is not None:
            db_path = PG.new_database().replace(
                "postgresql://mroute@", "postgresql://mroute:%s@" % PG_PASSWORD)
        if db_path is None:
            db_path = os.path.join(self.tmpdir(), "mroute.db")
        c = super().controller(db_path=db_path, timeout=20)
        if PG is not None:
            log = c.read_log()
            self.assertNotIn(PG_PASSWORD, log)
            self.assertIn("mroute:***@", log, "the log does not name the database")
        return c

    def receiver(self, port):
        return super().receiver(port, hard=120.0).start()

    def create(self, c, body):
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"]

    def start_flow(self, c, flow_id):
        r = c.post("/v1/flows/%s/start" % flow_id)
        self.assertEqual(r.status, 200, r.body)
        return c.wait_status(flow_id, "ACTIVE", timeout=20)

    def stop_flow(self, c, flow_id):
        r = c.post("/v1/flows/%s/stop" % flow_id)
        self.assertEqual(r.status, 200, r.body)
        return c.wait_status(flow_id, "STANDBY", timeout=20)

    @staticmethod
    def receive(rx, mark, count, timeout):
        """Up to `count` datagrams that arrived after the first `mark`,
        waiting `timeout` s at most for them."""
        rx.wait_count(mark + count, timeout)
        return rx.datagrams()[mark:mark + count]

    def assert_forwards(self, ingest, out_sock, label):
        """Sends batches of 20 TS datagrams to the ingest port until one
        batch comes out complete, in order and byte-identical (at most 5
        batches, so a source still binding its socket is tolerated)."""
        history = []
        for _attempt in range(5):
            mark = out_sock.count()
            sent = self.sender.send(ingest, 20)
            got = self.receive(out_sock, mark, len(sent), timeout=3.0)
            if got == sent:
                return
            history.append("sent %d, got %d%s" % (len(sent), len(got),
                                                  "" if not got or got == sent[:len(got)] else " (different)"))
            time.sleep(0.5)
        self.fail("%s: the flow does not forward: %s" % (label, "; ".join(history)))

    def flows_by_id(self, c):
        r = c.get("/v1/flows")
        self.assertEqual(r.status, 200, r.body)
        flows = r.json()["flows"]
        return [f["id"] for f in flows], {f["id"]: f for f in flows}

    def events(self, c, flow_id=None):
        return super().events(c, flow_id, limit=10000)

    def assert_same_flow(self, before, after, running):
        if running:
            b = {k: v for k, v in before.items() if k not in VOLATILE}
            a = {k: v for k, v in after.items() if k not in VOLATILE}
        else:
            b, a = before, after
        self.assertEqual(a, b, "flow %s changed across the restart" % before.get("id"))

    def assert_events_survive(self, before, after):
        after_by_id = {e["id"]: e for e in after}
        missing = [e for e in before if e["id"] not in after_by_id]
        self.assertFalse(missing, "events lost across the restart: %r" % missing[:5])
        changed = [(e, after_by_id[e["id"]]) for e in before if after_by_id[e["id"]] != e]
        self.assertFalse(changed, "events changed across the restart: %r" % changed[:5])
        ids = [e["id"] for e in after]
        self.assertEqual(len(ids), len(set(ids)), "duplicate event ids: %r" % ids)

    def snapshot(self, c, flow_ids):
        order, flows = self.flows_by_id(c)
        singles = {}
        for fid in flow_ids:
            r = c.get("/v1/flows/%s" % fid)
            self.assertEqual(r.status, 200, r.body)
            singles[fid] = r.json()
            self.assertEqual(singles[fid], flows[fid], "GET one flow differs from the list")
        events = {fid: self.events(c, fid) for fid in flow_ids}
        return order, singles, events, self.events(c)

    # tests ---------------------------------------------------------------

    def test_sigterm_restart_keeps_flows_events_and_running_state(self):
        ingest, out_port, p1, p2, p3, p4, p5 = self.ports(7)
        out_sock = self.receiver(out_port)
        c1 = self.controller()

        running = self.create(c1, {
            "name": "running feed",
            "source": {"name": "primary", "protocol": "udp", "ingest_port": ingest},
            "outputs": [{"name": "out1", "protocol": "udp", "destination": LO, "port": out_port}],
        })
        rich = self.create(c1, {
            "name": "standby with everything",
            "description": "two sources, two outputs, failover, monitor, maintenance",
            "sources": [
                {"name": "main", "protocol": "rtp", "ingest_port": p1, "description": "studio A"},
                {"name": "backup", "protocol": "udp", "ingest_port": p2, "ingest_address": LO},
            ],
            "outputs": [
                {"name": "cdn", "protocol": "rtp", "destination": LO, "port": p3, "description": "to the CDN"},
                {"name": "monitor", "protocol": "udp", "destination": LO, "port": p4},
            ],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                       "recovery_window": 250,
                                       "source_priority": {"primary_source": "backup"}},
            "source_monitor_config": {"thumbnail_enabled": False, "content_quality_enabled": True,
                                      "thumbnail_interval_sec": 10},
            "maintenance_window": {"day_of_week": "tuesday", "start_hour": 3},
        })
        bare = self.create(c1, {
            "name": "bare",
            "source": {"name": "in", "protocol": "udp", "ingest_port": p5},
        })
        ids = [running, rich, bare]

        self.start_flow(c1, running)
        self.assert_forwards(ingest, out_sock, "before restart")
        order1, flows1, events1, all_events1 = self.snapshot(c1, ids)
        self.assertEqual(order1, ids, "flows not listed oldest first")
        self.assertIn("flow_started", [e["type"] for e in events1[running]], events1[running])

        code = c1.stop(signal.SIGTERM, timeout=20)
        self.assertEqual(code, 0, "mroute exited with %r on SIGTERM" % code)
        self.assertEqual(db_integrity(c1.db_path), "ok")

        c2 = self.controller(c1.db_path)
        c2.wait_status(running, "ACTIVE", timeout=20)
        order2, flows2, events2, all_events2 = self.snapshot(c2, ids)
        self.assertEqual(order2, order1, "flow list differs after restart")
        self.assert_same_flow(flows1[running], flows2[running], running=True)
        self.assert_same_flow(flows1[rich], flows2[rich], running=False)
        self.assert_same_flow(flows1[bare], flows2[bare], running=False)
        self.assertEqual(flows2[rich]["status"], "STANDBY")
        self.assertEqual(flows2[bare]["status"], "STANDBY")
        self.assertIn("flow_started", [e["type"] for e in events2[running]], events2[running])
        for fid in ids:
            self.assert_events_survive(events1[fid], events2[fid])
        self.assert_events_survive(all_events1, all_events2)

        h = c2.get("/health").json()
        self.assertEqual((h["total_flows"], h["active_flows"]), (3, 1), h)
        self.assert_forwards(ingest, out_sock, "after restart")

        code = c2.stop(signal.SIGTERM, timeout=20)
        self.assertEqual(code, 0, "mroute exited with %r on SIGTERM" % code)
        for c in (c1, c2):
            self.assertNotIn(PG_PASSWORD, c.read_log())

    def test_kill9_restart_resumes_running_flow_and_keeps_stopped_one(self):
        ingest, out_port, ingest_s, out_s = self.ports(4)
        out_sock = self.receiver(out_port)
        out_sock_s = self.receiver(out_s)
        c1 = self.controller()

        running = self.create(c1, {
            "name": "survives kill -9",
            "source": {"name": "primary", "protocol": "udp", "ingest_port": ingest},
            "outputs": [{"name": "out1", "protocol": "udp", "destination": LO, "port": out_port}],
        })
        stopped = self.create(c1, {
            "name": "was started, then stopped",
            "source": {"name": "primary", "protocol": "udp", "ingest_port": ingest_s},
            "outputs": [{"name": "out1", "protocol": "udp", "destination": LO, "port": out_s}],
        })
        self.start_flow(c1, stopped)
        self.stop_flow(c1, stopped)
        self.start_flow(c1, running)
        self.assert_forwards(ingest, out_sock, "before kill -9")
        _, flows1, events1, _ = self.snapshot(c1, [running, stopped])

        c1.kill9()

        c2 = self.controller(c1.db_path)
        c2.wait_status(running, "ACTIVE", timeout=20)
        self.assert_forwards(ingest, out_sock, "after kill -9")
        _, flows2, events2, _ = self.snapshot(c2, [running, stopped])
        self.assert_same_flow(flows1[running], flows2[running], running=True)
        self.assert_same_flow(flows1[stopped], flows2[stopped], running=False)
        for fid in (running, stopped):
            self.assert_events_survive(events1[fid], events2[fid])

        # The stopped flow stays stopped, and really does not forward.
        time.sleep(1.0)
        st = c2.get("/v1/flows/%s" % stopped).json()
        self.assertEqual(st["status"], "STANDBY", st)
        mark = out_sock_s.count()
        self.sender.send(ingest_s, 10)
        leaked = self.receive(out_sock_s, mark, 1, timeout=1.0)
        self.assertEqual(leaked, [], "the stopped flow forwards data after restart")
        m = c2.get("/v1/flows/%s/metrics" % stopped)
        self.assertEqual(m.status, 200, m.body)
        self.assertEqual(m.json()["status"], "STANDBY", m.body)

        code = c2.stop(signal.SIGTERM, timeout=20)
        self.assertEqual(code, 0, "mroute exited with %r on SIGTERM" % code)
        self.assertEqual(db_integrity(c1.db_path), "ok")

    def test_sigint_graceful_shutdown_keeps_db_consistent(self):
        ingest, out_port, ingest_t, out_rtp = self.ports(4)
        out_sock = self.receiver(out_port)
        c1 = self.controller()

        running = self.create(c1, {
            "name": "sigint running",
            "source": {"name": "primary", "protocol": "udp", "ingest_port": ingest},
            "outputs": [{"name": "out1", "protocol": "udp", "destination": LO, "port": out_port},
                        {"name": "out2", "protocol": "rtp", "destination": LO, "port": out_rtp}],
        })
        idle = self.create(c1, {
            "name": "sigint idle",
            "source": {"name": "primary", "protocol": "udp", "ingest_port": ingest_t},
        })
        self.start_flow(c1, running)
        self.assert_forwards(ingest, out_sock, "before SIGINT")
        order1, flows1, events1, all_events1 = self.snapshot(c1, [running, idle])

        code = c1.stop(signal.SIGINT, timeout=20)
        self.assertEqual(code, 0, "mroute exited with %r on SIGINT" % code)
        self.assertEqual(db_integrity(c1.db_path), "ok")

        c2 = self.controller(c1.db_path)
        c2.wait_status(running, "ACTIVE", timeout=20)
        order2, flows2, events2, all_events2 = self.snapshot(c2, [running, idle])
        self.assertEqual(order2, order1)
        self.assert_same_flow(flows1[running], flows2[running], running=True)
        self.assert_same_flow(flows1[idle], flows2[idle], running=False)
        self.assertEqual(flows2[idle]["status"], "STANDBY")
        for fid in (running, idle):
            self.assert_events_survive(events1[fid], events2[fid])
        self.assert_events_survive(all_events1, all_events2)
        h = c2.get("/health").json()
        self.assertEqual((h["total_flows"], h["active_flows"]), (2, 1), h)
        self.assert_forwards(ingest, out_sock, "after SIGINT restart")

        code = c2.stop(signal.SIGINT, timeout=20)
        self.assertEqual(code, 0, "mroute exited with %r on SIGINT" % code)
        self.assertEqual(db_integrity(c1.db_path), "ok")


class PostgresConfig(MrouteTestCase):
    """[storage] dsn = postgresql://... in the configuration file: the
    controller stores there and its log does not show the password."""

    def test_dsn_from_configuration_file(self):
        if PG is None:
            self.skipTest("a --postgres run only")
        db = PG.new_database().replace("postgresql://mroute@",
                                       "postgresql://mroute:%s@" % PG_PASSWORD)
        c = self.controller(make=ConfigDsnController, dsn=db, timeout=20)
        r = c.post("/v1/flows", {"name": "in pg", "source": {
            "name": "in", "protocol": "udp", "ingest_port": self.port()}})
        self.assertEqual(r.status, 201, r.body)
        dbname = db.split("?")[0].rsplit("/", 1)[1]
        self.assertEqual(PG.psql("SELECT count(*) FROM flows", dbname=dbname).strip(), "1")
        self.assertEqual(c.stop(signal.SIGTERM, timeout=20), 0)
        log = c.read_log()
        self.assertNotIn(PG_PASSWORD, log)
        self.assertIn("mroute:***@", log)
        # no SQLite file beside it
        self.assertFalse(os.path.exists(c.db_path))


def main():
    global PG
    if "--postgres" not in sys.argv:
        unittest.main(verbosity=2)
    sys.argv.remove("--postgres")
    # meson stops a test that runs too long with SIGTERM: clean up then too
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    try:
        PG = PgServer().start()
    except PgUnavailable as e:
        print("SKIP: PostgreSQL unavailable, the persistence tests did not run "
              "on it: %s" % e, flush=True)
        sys.exit(77)
    try:
        unittest.main(verbosity=2)
    finally:
        PG.stop()


if __name__ == "__main__":
    main()
