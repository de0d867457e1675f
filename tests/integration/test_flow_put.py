#!/usr/bin/env python3
"""PUT /v1/flows/{id}: editing a flow's own fields (issue 13).

Against a real controller: a partial update (members given replace,
members absent stay, objects patched member by member) on a stopped flow
and on a running one; the running one keeps sending to its UDP output
(a real receiver measures the gaps) while it is renamed, turns thumbnails
on (the thumbnail endpoint answers after), changes a MERGE flow's
recovery_window on the running merger; what needs a stop is a 409 naming
the field, and nothing changes; an invalid value is the 400 of a create
with the same field path; an unknown flow is 404; the change survives a
restart of the controller on the same database."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_testcase import LO, MrouteTestCase, live_encoder, udp_flow_body  # noqa: E402
from mroute_pg import start_or_skip  # noqa: E402

MAX_GAP = 0.2                # s: the longest silence a live edit may cause


def note(msg):
    sys.stderr.write("    [flow-put] %s\n" % msg)
    sys.stderr.flush()


def max_gap(times, start, end):
    """The longest interval between two arrivals in [start, end]."""
    ts = [t for t in times if start <= t <= end]
    return max((b - a for a, b in zip(ts, ts[1:])), default=float("inf"))


class FlowPutTest(MrouteTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = cls.class_controller()

    def setUp(self):
        super().setUp()
        self.flows = []

    def tearDown(self):
        for fid in self.flows:
            self.c.delete("/v1/flows/%s" % fid)
        super().tearDown()

    # helpers

    def create(self, body, c=None):
        flow = self.create_flow(c or self.c, body)
        if c is None:
            self.flows.append(flow["id"])
        return flow

    def get(self, fid, c=None):
        r = (c or self.c).get("/v1/flows/%s" % fid)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def put(self, fid, body, status=200, c=None):
        r = (c or self.c).put("/v1/flows/%s" % fid, body)
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def assertError(self, answer, field, contains=None):
        self.assertIn("error", answer)
        self.assertEqual(answer.get("field"), field, answer)
        if contains:
            self.assertIn(contains, answer["error"])

    def start(self, fid):
        r = self.c.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, r.body)
        self.c.wait_status(fid, "ACTIVE", timeout=15)

    def stopped_events(self, fid):
        return len(self.events(self.c, fid, types=("flow_stopped",)))

    def video_sender(self, port):
        """A live H.264 TS to LO:port, 25 frames a second, a key frame a
        second."""
        enc = live_encoder()
        if enc is None:
            self.skipTest("no H.264 encoder (x264enc or openh264enc)")
        cmd = (["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "pattern=ball",
                "!", "video/x-raw,width=320,height=240,framerate=25/1", "!"] + enc
               + ["!", "h264parse", "!", "mpegtsmux", "alignment=7",
                  "!", "udpsink", "host=%s" % LO, "port=%d" % port])
        return self.spawn(cmd, "sender")

    def running_udp_flow(self, name, monitor=None):
        """A started flow of one UDP source fed by a live sender and one
        UDP output to a receiver, data flowing; (flow id, receiver)."""
        ingest, out = self.port(), self.port()
        body = udp_flow_body(name, ingest, out)
        if monitor is not None:
            body["source_monitor_config"] = monitor
        fid = self.create(body)["id"]
        rx = self.receiver(out, hard=90.0).start()
        self.start(fid)
        self.video_sender(ingest)
        self.assertTrue(rx.wait_count(50, 15), "no data at the output")
        return fid, rx

    # ---------------------------------------------------------------------

    def test_stopped_partial_update(self):
        flow = self.create(dict(udp_flow_body("before", self.port(), self.port()),
                                description="first"))
        fid = flow["id"]
        got = self.put(fid, {"name": "after", "description": "second"})
        self.assertEqual((got["name"], got["description"], got["status"]),
                         ("after", "second", "STANDBY"))
        # the rest stays, and the answer is what GET says
        for key in ("id", "sources", "outputs", "source_failover_config",
                    "source_monitor_config", "maintenance_window", "created_at"):
            self.assertEqual(got[key], flow[key], key)
        self.assertEqual(self.get(fid), got)

        # an object member is patched member by member
        got = self.put(fid, {"source_failover_config": {"recovery_window": 250}})
        self.assertEqual(got["source_failover_config"],
                         dict(flow["source_failover_config"], recovery_window=250))
        got = self.put(fid, {"source_monitor_config": {"thumbnail_interval_sec": 9}})
        self.assertEqual(got["source_monitor_config"],
                         dict(flow["source_monitor_config"], thumbnail_interval_sec=9))
        got = self.put(fid, {"maintenance_window": {"day_of_week": "sunday", "start_hour": 3}})
        self.assertEqual(got["maintenance_window"], {"day_of_week": "Sunday", "start_hour": 3})
        got = self.put(fid, {"maintenance_window": {"start_hour": 4}})
        self.assertEqual(got["maintenance_window"], {"day_of_week": "Sunday", "start_hour": 4})
        # null is not given: everything stays
        kept = self.put(fid, {"maintenance_window": None, "description": None, "name": None,
                              "source_failover_config": {"state": None}})
        self.assertEqual(dict(kept, updated_at=None), dict(got, updated_at=None))
        self.assertGreaterEqual(got["updated_at"], flow["updated_at"])

        # GET then PUT back whole, as a Go client does: nothing changes,
        # nothing is said (read-only members, sources and outputs as read)
        back = self.put(fid, self.get(fid))
        self.assertNotIn("warnings", back)
        self.assertEqual(dict(back, updated_at=None), dict(got, updated_at=None))

        # a name another flow has is taken, as a create takes it
        other = self.create(udp_flow_body("other", self.port(), self.port()))
        got = self.put(other["id"], {"name": "after"})
        self.assertEqual(got["name"], "after")

    def test_running_rename_without_gap(self):
        fid, rx = self.running_udp_flow("live")
        stopped = self.stopped_events(fid)
        t0 = time.monotonic()
        got = self.put(fid, {"name": "live-renamed", "description": "on air",
                             "maintenance_window": {"day_of_week": "Monday", "start_hour": 2}})
        t1 = time.monotonic()
        self.assertEqual((got["name"], got["description"], got["status"]),
                         ("live-renamed", "on air", "ACTIVE"))
        time.sleep(2.0)
        gap = max_gap(rx.times(), t0 - 1.0, t1 + 2.0)
        note("longest gap at the output around the rename: %.0f ms" % (gap * 1000))
        self.assertLess(gap, MAX_GAP)
        self.assertEqual(self.get(fid)["name"], "live-renamed")
        self.assertEqual(self.stopped_events(fid), stopped, "the flow was restarted")

    def test_running_monitoring_turned_on(self):
        fid, rx = self.running_udp_flow("thumbs", monitor={"thumbnail_enabled": False})
        r = self.c.get("/v1/flows/%s/thumbnail" % fid)
        self.assertEqual(r.status, 409, r.body)
        stopped = self.stopped_events(fid)
        t0 = time.monotonic()
        got = self.put(fid, {"source_monitor_config": {"thumbnail_enabled": True,
                                                       "thumbnail_interval_sec": 1}})
        t1 = time.monotonic()
        self.assertEqual(got["source_monitor_config"]["thumbnail_enabled"], True)
        self.assertEqual(got["status"], "ACTIVE")
        deadline = time.monotonic() + 15
        while True:
            r = self.c.get("/v1/flows/%s/thumbnail" % fid)
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json().get("data"), r.body[:200])
        # the outputs did not see the monitoring branch rebuilt
        gap = max_gap(rx.times(), t0 - 1.0, t1 + 1.0)
        note("longest gap at the output around the monitoring change: %.0f ms" % (gap * 1000))
        self.assertLess(gap, MAX_GAP)
        self.assertEqual(self.stopped_events(fid), stopped, "the flow was restarted")

    def test_running_merge_recovery_window(self):
        body = {"name": "merge", "sources": [{"name": "a", "protocol": "rtp",
                                              "ingest_port": self.even_port()}],
                "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE",
                                           "recovery_window": 100},
                "outputs": [{"name": "o", "protocol": "udp", "destination": LO,
                             "port": self.port()}]}
        fid = self.create(body)["id"]
        self.start(fid)
        stopped = self.stopped_events(fid)
        got = self.put(fid, {"source_failover_config": {"recovery_window": 400}})
        cfg = got["source_failover_config"]
        self.assertEqual((cfg["recovery_window"], cfg["state"], cfg["failover_mode"]),
                         (400, "ENABLED", "MERGE"))
        self.assertEqual(got["status"], "ACTIVE")
        self.assertEqual(self.get(fid)["source_failover_config"]["recovery_window"], 400)
        m = self.metrics_when(self.c, fid,
                              lambda m: m["merge_stats"]["recovery_window_ms"] == 400)
        self.assertEqual(m["merge_stats"]["recovery_window_ms"], 400, m)
        self.assertEqual(self.stopped_events(fid), stopped, "the flow was restarted")

    def test_running_failover_primary_live(self):
        a, b = self.port(), self.port()
        body = {"name": "fo-live",
                "sources": [{"name": "a", "protocol": "udp", "ingest_port": a},
                            {"name": "b", "protocol": "udp", "ingest_port": b}],
                "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                           "source_priority": {"primary_source": "a"}},
                "outputs": []}
        fid = self.create(body)["id"]
        self.start(fid)
        stopped = self.stopped_events(fid)
        got = self.put(fid, {"source_failover_config": {
            "source_priority": {"primary_source": "b"}}})
        self.assertEqual(got["source_failover_config"]["source_priority"],
                         {"primary_source": "b"})
        self.assertEqual(got["status"], "ACTIVE")
        self.assertEqual(self.stopped_events(fid), stopped, "the flow was restarted")

    def test_running_change_needing_stop_is_409(self):
        flow = self.create(udp_flow_body("steady", self.port(), self.port()))
        fid = flow["id"]
        self.start(fid)
        before = self.get(fid)
        err = self.put(fid, {"name": "changed",
                             "source_failover_config": {"state": "ENABLED"}}, status=409)
        self.assertError(err, "source_failover_config.state", "stop it first")
        self.assertEqual(self.get(fid), before)

        # a primary source other than the one running
        r = self.c.post("/v1/flows/%s/source" % fid,
                        {"name": "backup", "protocol": "udp", "ingest_port": self.port()})
        self.assertEqual(r.status, 201, r.body)
        self.c.wait_status(fid, "ACTIVE", timeout=15)
        before = self.get(fid)
        err = self.put(fid, {"source_failover_config": {
            "source_priority": {"primary_source": "backup"}}}, status=409)
        self.assertError(err, "source_failover_config.source_priority.primary_source",
                         "stop it first")
        self.assertEqual(self.get(fid), before)

        # FAILOVER to MERGE
        body = {"name": "fo", "sources": [{"name": "a", "protocol": "rtp",
                                           "ingest_port": self.even_port()}],
                "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER"},
                "outputs": []}
        fo = self.create(body)["id"]
        self.start(fo)
        before = self.get(fo)
        err = self.put(fo, {"source_failover_config": {"failover_mode": "MERGE"}}, status=409)
        self.assertError(err, "source_failover_config.failover_mode",
                         "cannot change while the flow is running: stop it first")
        self.assertEqual(self.get(fo), before)
        # stopped, it changes
        self.assertEqual(self.c.post("/v1/flows/%s/stop" % fo).status, 200)
        got = self.put(fo, {"source_failover_config": {"failover_mode": "MERGE"}})
        self.assertEqual(got["source_failover_config"]["failover_mode"], "MERGE")

    def test_invalid_is_400_as_on_create(self):
        body = udp_flow_body("valid", self.port(), self.port())
        fid = self.create(body)["id"]
        before = self.get(fid)
        cases = [
            ({"source_failover_config": {"recovery_window": 5}},
             "source_failover_config.recovery_window"),
            ({"source_failover_config": {"state": "ON"}}, "source_failover_config.state"),
            ({"source_failover_config": {"source_priority": {"primary_source": "nope"}}},
             "source_failover_config.source_priority.primary_source"),
            ({"source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE"}},
             "sources[0].protocol"),
            ({"source_monitor_config": {"thumbnail_enabled": "yes"}},
             "source_monitor_config.thumbnail_enabled"),
            ({"maintenance_window": {"start_hour": 24}}, "maintenance_window.start_hour"),
            ({"name": ""}, "name"),
            ({"name": 7}, "name"),
            ({"source_failover_config": []}, "source_failover_config"),
        ]
        for patch, field in cases:
            with self.subTest(patch=patch):
                err = self.put(fid, patch, status=400)
                self.assertError(err, field)
                # the message a create with the same value gets
                r = self.c.post("/v1/flows", dict(body, **patch))
                self.assertEqual(r.status, 400, r.body)
                self.assertEqual(r.json(), err)
        # a window the flow does not have needs both members
        err = self.put(fid, {"maintenance_window": {"start_hour": 3}}, status=400)
        self.assertError(err, "maintenance_window.day_of_week", "is required")
        # not JSON, not an object
        for raw in (b"{", b"[]", b"null"):
            r = self.c.request("PUT", "/v1/flows/%s" % fid, raw=raw)
            self.assertEqual(r.status, 400, r.body)
        self.assertEqual(self.get(fid), before)

    def test_not_taken_is_a_warning(self):
        body = udp_flow_body("taken", self.port(), self.port())
        flow = self.create(body)
        fid = flow["id"]
        got = self.put(fid, {"name": "taken-2", "outputs": [], "sources": [],
                             "source": {"name": "other", "protocol": "udp",
                                        "ingest_port": self.port()},
                             "id": "flow_000000000000", "status": "ACTIVE",
                             "created_at": "2020-01-01T00:00:00Z", "bogus": 1})
        self.assertEqual(got["name"], "taken-2")
        for key in ("id", "status", "created_at", "sources", "outputs"):
            self.assertEqual(got[key], flow[key], key)
        w = got.get("warnings", [])
        self.assertEqual(len(w), 4, w)
        self.assertTrue(w[0].startswith("'outputs' ignored: "), w)
        self.assertIn("/v1/flows/{id}/outputs", w[0])
        self.assertTrue(w[1].startswith("'sources' ignored: "), w)
        self.assertTrue(w[2].startswith("'source' ignored: "), w)
        self.assertEqual(w[3], "unknown field 'bogus' ignored")
        # the answer is GET's, and GET has no warnings
        self.assertEqual(self.get(fid), {k: v for k, v in got.items() if k != "warnings"})

    def test_unknown_flow_is_404(self):
        r = self.c.put("/v1/flows/flow_000000000000", {"name": "x"})
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("not found", r.json()["error"])

    def test_survives_restart(self):
        db = os.path.join(self.tmpdir(), "mroute.db")
        c1 = self.controller(db_path=db)
        fid = self.create(udp_flow_body("stored", self.port(), self.port()), c=c1)["id"]
        got = self.put(fid, {"name": "stored-renamed", "description": "kept",
                             "source_failover_config": {"recovery_window": 321},
                             "source_monitor_config": {"thumbnail_enabled": True},
                             "maintenance_window": {"day_of_week": "Friday",
                                                    "start_hour": 22}}, c=c1)
        self.assertEqual(c1.stop(), 0)
        c2 = self.controller(db_path=db)
        again = self.get(fid, c=c2)
        self.assertEqual(again, got, json.dumps([again, got]))

    def test_survives_restart_postgres(self):
        """The same on a PostgreSQL store ([storage] dsn = postgresql://...,
        a throwaway server), skipped saying why without PostgreSQL."""
        pg = start_or_skip(self)
        db = pg.new_database()
        c1 = self.controller(db_path=db)
        fid = self.create(udp_flow_body("stored", self.port(), self.port()), c=c1)["id"]
        got = self.put(fid, {"name": "stored-renamed", "description": "kept",
                             "source_failover_config": {"recovery_window": 321},
                             "maintenance_window": {"day_of_week": "Friday",
                                                    "start_hour": 22}}, c=c1)
        self.assertEqual(c1.stop(), 0)
        c2 = self.controller(db_path=db)
        again = self.get(fid, c=c2)
        self.assertEqual(again, got, json.dumps([again, got]))
        # PUT gave the flow a new version, as the cluster's nodes see it
        versions = pg.psql("SELECT version FROM flows", dbname=db.split("?")[0].rsplit("/", 1)[1])
        self.assertGreater(int(versions.split()[0]), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
