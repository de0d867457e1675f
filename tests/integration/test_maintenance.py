#!/usr/bin/env python3
"""Maintenance window integration tests, on the injectable clock.

The controller runs with MROUTE_TEST_CLOCK_FILE (its "now" for schedules is
the epoch seconds written in that file) and `[maintenance]
check_interval_sec = 1`.  A flow with a window Monday 03:00 UTC started on
Monday 2026-11-23 02:00 must not restart at 03:10 the same day (1 h 10 of
running, under the 24 h rule) and must restart exactly once at 03:05 one
week later; flows without a window, stopped flows and flows whose window is
elsewhere are left alone.  The window is stored and survives a restart.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \
      python3 tests/integration/test_maintenance.py -v

Standard library only; loopback only; every wait is bounded.
"""

import calendar
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_harness import free_port  # noqa: E402
from mroute_testcase import MrouteTestCase  # noqa: E402

CHECK = 1                       # [maintenance] check_interval_sec
CONFIG = "[maintenance]\ncheck_interval_sec = %d\n" % CHECK
QUIET = 3 * CHECK + 0.5         # long enough for several checks
DUE_WAIT = 6 * CHECK + 4        # bound on a restart that must happen


def utc(y, mo, d, h, mi=0):
    return calendar.timegm((y, mo, d, h, mi, 0))


MON_0200 = utc(2026, 11, 23, 2)          # Monday
MON_0310 = utc(2026, 11, 23, 3, 10)      # same Monday, 1 h 10 later
NEXT_MON_0305 = utc(2026, 11, 30, 3, 5)  # one week later, inside 03:00-04:00
NEXT_MON_0410 = utc(2026, 11, 30, 4, 10)


def flow_body(name, window=None):
    b = {"name": name,
         "source": {"name": "in", "protocol": "udp", "ingest_port": free_port()},
         "outputs": [{"name": "out", "protocol": "udp", "destination": "127.0.0.1",
                      "port": free_port()}]}
    if window is not None:
        b["maintenance_window"] = window
    return b


class MaintenanceTest(MrouteTestCase):

    def setUp(self):
        super().setUp()
        self.clock = os.path.join(self.tmpdir(), "now")
        self.set_clock(MON_0200)
        self.c = self.controller(config=CONFIG, env={"MROUTE_TEST_CLOCK_FILE": self.clock,
                                                     "MROUTE_API_KEY": ""})

    def set_clock(self, t):
        """Atomically: the controller never reads a half-written file."""
        tmp = self.clock + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % t)
        os.replace(tmp, self.clock)

    def call(self, method, path, body=None, expect=None):
        r = self.c.request(method, path, body=body)
        data = json.loads(r.body) if r.body else None
        if expect is not None:
            self.assertEqual(r.status, expect, "%s %s -> %d %r" % (method, path, r.status, r.body))
        return r, data

    def create(self, name, window=None, start=False):
        _, f = self.call("POST", "/v1/flows", body=flow_body(name, window), expect=201)
        if start:
            self.call("POST", "/v1/flows/%s/start" % f["id"], expect=200)
            self.c.wait_status(f["id"], "ACTIVE")
        return f

    def events(self, fid):
        return super().events(self.c, fid, oldest_first=True)

    def count(self, fid, type_):
        return sum(1 for e in self.events(fid) if e["type"] == type_)

    def wait_event(self, fid, type_, n=1, timeout=DUE_WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(fid, type_) >= n:
                return
            time.sleep(0.1)
        self.fail("no %d %s event(s) on %s within %ss: %r" % (n, type_, fid, timeout,
                                                             [e["type"] for e in self.events(fid)]))

    def status(self, fid):
        return self.call("GET", "/v1/flows/" + fid, expect=200)[1]["status"]

    # ------------------------------------------------------------------

    def test_restart_in_window_after_24h_only(self):
        window = {"day_of_week": "Monday", "start_hour": 3}
        a = self.create("windowed", window, start=True)
        self.assertEqual(a["maintenance_window"], window)
        b = self.create("no-window", None, start=True)
        c = self.create("stopped-windowed", window, start=False)
        d = self.create("tuesday", {"day_of_week": "Tuesday", "start_hour": 3}, start=True)
        e = self.create("monday-4", {"day_of_week": "monday", "start_hour": 4}, start=True)
        ids = [f["id"] for f in (a, b, c, d, e)]

        # inside the window but only 1 h 10 of running: nothing
        self.set_clock(MON_0310)
        time.sleep(QUIET)
        for fid in ids:
            self.assertEqual(self.count(fid, "maintenance_restart"), 0, fid)
        self.assertEqual(self.status(a["id"]), "ACTIVE")

        # one week later, inside the window: one restart of `windowed`
        self.set_clock(NEXT_MON_0305)
        self.wait_event(a["id"], "maintenance_restart")
        self.c.wait_status(a["id"], "ACTIVE", timeout=10)
        ev = self.events(a["id"])
        mr = [x for x in ev if x["type"] == "maintenance_restart"]
        self.assertEqual(mr[0]["severity"], "info")
        self.assertIn("169 hours", mr[0]["message"])     # 7 d 1 h 5 min
        after = [x["type"] for x in ev if x["id"] > mr[0]["id"]]
        self.assertIn("flow_stopped", after)
        self.assertIn("flow_started", after)
        self.assertLess(after.index("flow_stopped"), after.index("flow_started"))
        self.assertEqual(self.count(a["id"], "flow_started"), 2)

        # several more checks inside the window: still one restart
        time.sleep(QUIET)
        self.assertEqual(self.count(a["id"], "maintenance_restart"), 1)
        self.assertEqual(self.count(a["id"], "flow_started"), 2)
        self.assertEqual(self.status(a["id"]), "ACTIVE")
        # the others were not touched
        self.assertEqual(self.status(b["id"]), "ACTIVE")
        self.assertEqual(self.status(c["id"]), "STANDBY")
        self.assertEqual(self.status(d["id"]), "ACTIVE")
        self.assertEqual(self.status(e["id"]), "ACTIVE")
        for f in (b, c, d, e):
            self.assertEqual(self.count(f["id"], "maintenance_restart"), 0, f["name"])
            self.assertEqual(self.count(f["id"], "flow_stopped"), 0, f["name"])
        self.assertEqual(self.count(c["id"], "flow_started"), 0)

        # 04:10: the 04:00 window of `monday-4` (running for a week), and
        # `windowed` was restarted 65 min ago: only `monday-4` restarts
        self.set_clock(NEXT_MON_0410)
        self.wait_event(e["id"], "maintenance_restart")
        self.c.wait_status(e["id"], "ACTIVE", timeout=10)
        time.sleep(QUIET)
        self.assertEqual(self.count(e["id"], "maintenance_restart"), 1)
        self.assertEqual(self.count(a["id"], "maintenance_restart"), 1)
        self.assertEqual(self.count(b["id"], "maintenance_restart"), 0)
        # the restarts are in the global event list too
        _, all_ev = self.call("GET", "/v1/events?limit=1000", expect=200)
        self.assertEqual(sorted(x["flow_id"] for x in all_ev["events"]
                                if x["type"] == "maintenance_restart"),
                         sorted([a["id"], e["id"]]))

    def test_window_stored_and_persisted(self):
        a = self.create("w1", {"day_of_week": "sUnDaY", "start_hour": 0})
        b = self.create("w2", {"day_of_week": "Friday", "start_hour": 23}, start=True)
        n = self.create("w3", None)
        z = self.create("w4", {"day_of_week": "Monday", "start_hour": 3})
        want = {a["id"]: {"day_of_week": "Sunday", "start_hour": 0},
                b["id"]: {"day_of_week": "Friday", "start_hour": 23},
                n["id"]: None,
                z["id"]: {"day_of_week": "Monday", "start_hour": 3}}
        # an explicit null is no window
        _, f = self.call("POST", "/v1/flows",
                         body=dict(flow_body("w5"), maintenance_window=None), expect=201)
        want[f["id"]] = None
        for fid, w in want.items():
            self.assertEqual(self.call("GET", "/v1/flows/" + fid, expect=200)[1]
                             ["maintenance_window"], w, fid)
        _, lst = self.call("GET", "/v1/flows", expect=200)
        self.assertEqual({x["id"]: x["maintenance_window"] for x in lst["flows"]}, want)

        # the same after a restart of the controller on the same database
        self.c.stop()
        self.c = self.controller(db_path=self.c.db_path, config=CONFIG,
                                 env={"MROUTE_TEST_CLOCK_FILE": self.clock, "MROUTE_API_KEY": ""})
        _, lst = self.call("GET", "/v1/flows", expect=200)
        self.assertEqual({x["id"]: x["maintenance_window"] for x in lst["flows"]}, want)
        self.c.wait_status(b["id"], "ACTIVE")

    def test_invalid_windows_400(self):
        cases = [
            {"day_of_week": "Funday", "start_hour": 3},
            {"day_of_week": "Monday", "start_hour": 24},
            {"day_of_week": "Monday", "start_hour": -1},
            {"day_of_week": "Monday", "start_hour": "3"},
            {"day_of_week": 1, "start_hour": 3},
            {"day_of_week": "Monday"},
            {"start_hour": 3},
            "Monday 03:00",
        ]
        for w in cases:
            with self.subTest(window=w):
                r, d = self.call("POST", "/v1/flows", body=flow_body("bad", w))
                self.assertEqual(r.status, 400, r.body)
                self.assertTrue((d.get("field") or "").startswith("maintenance_window"), d)
        _, lst = self.call("GET", "/v1/flows", expect=200)
        self.assertEqual(lst["flows"], [])

    def test_unknown_window_member_is_a_warning(self):
        """An unknown member is taken with a warning (docs/api.md, Bodies a
        client sends), not refused: the window is the day and hour"""
        r, d = self.call("POST", "/v1/flows", body=flow_body(
            "minute", {"day_of_week": "Monday", "start_hour": 3, "minute": 0}))
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(d["warnings"], ["unknown field 'maintenance_window.minute' ignored"])
        self.assertEqual(d["maintenance_window"], {"day_of_week": "Monday", "start_hour": 3})
        self.call("DELETE", "/v1/flows/%s" % d["id"], expect=204)


if __name__ == "__main__":
    unittest.main()
