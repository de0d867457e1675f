#!/usr/bin/env python3
"""HTTP API integration tests for the mroute controller.

Checks the contract of docs/api.md against a real `mroute` process: every
endpoint, every validation rule, the error envelope (`error` and `field`),
`Cache-Control: no-store`, secrets never returned nor logged, the flow
lifecycle (start/stop/409/ERROR), metrics and events.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \
      python3 tests/integration/test_api.py -v

Standard library only.  All network traffic goes to 127.0.0.1 and every wait
is bounded.
"""

import copy
import datetime
import json
import os
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_harness import free_port  # noqa: E402
from mroute_testcase import MrouteTestCase, Receiver  # noqa: E402

# Sentinels for the expected `field` member of an error envelope.
ABSENT = object()     # `field` must not be present
ANY = object()        # `field` may be absent or any string

PASS_SRC = "SrcSecret-4f9a7c21"          # 18 chars
PASS_OUT = "OutSecret-b83e55d0"          # 18 chars
PASS_PUT = "PutSecret-0c7d19aa"          # 18 chars
STREAM_KEY = "StreamKey-e1d2c3b4a5"

HTTP_TIMEOUT = 15


# --------------------------------------------------------------------------
# body builders

def udp_source(name="primary", port=5000, **extra):
    s = {"name": name, "protocol": "udp", "ingest_port": port}
    s.update(extra)
    return s


def udp_output(name, port, dest="127.0.0.1", protocol="udp", **extra):
    o = {"name": name, "protocol": protocol, "destination": dest, "port": port}
    o.update(extra)
    return o


def flow_body(name="flow", source=None, outputs=None, **extra):
    b = {"name": name,
         "source": source if source is not None else udp_source(),
         "outputs": outputs if outputs is not None else [udp_output("out1", 6000)]}
    b.update(extra)
    return b


def parse_ts(s):
    """Parses the ISO-8601 UTC timestamps of the API ('...Z', optional
    fraction).  Returns an aware datetime."""
    assert isinstance(s, str), s
    t = s
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    # Python 3.11 fromisoformat accepts fractions of any length up to 6.
    return datetime.datetime.fromisoformat(t)


def ts_packets(cc_start, count=7, pid=0x100):
    """`count` MPEG-TS packets on `pid`, payload only, continuity counters
    following on from cc_start.  Returns (bytes, next_cc)."""
    out = bytearray()
    cc = cc_start
    for _ in range(count):
        hdr = struct.pack(">BHB", 0x47, pid & 0x1FFF, 0x10 | (cc & 0x0F))
        out += hdr + bytes([cc & 0xFF]) * 184
        cc = (cc + 1) & 0x0F
    return bytes(out), cc


class UdpSender(threading.Thread):
    """Sends MPEG-TS datagrams (7 TS packets each) to 127.0.0.1:port every
    `interval` seconds until stop() (or `max_seconds`, a safety bound)."""

    def __init__(self, port, interval=0.005, max_seconds=30):
        super().__init__(daemon=True)
        self.port = port
        self.interval = interval
        self.max_seconds = max_seconds
        self._halt = threading.Event()
        self.sent = 0

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cc = 0
        deadline = time.monotonic() + self.max_seconds
        try:
            while not self._halt.is_set() and time.monotonic() < deadline:
                data, cc = ts_packets(cc)
                try:
                    s.sendto(data, ("127.0.0.1", self.port))
                    self.sent += 1
                except OSError:
                    pass
                self._halt.wait(self.interval)
        finally:
            s.close()

    def stop(self):
        self._halt.set()
        self.join(5)


# --------------------------------------------------------------------------
# base class

class ApiTestCase(MrouteTestCase):
    """One controller process per TestCase class."""

    ctl = None
    maxDiff = 4000
    controller_env = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ctl = cls.class_controller(env=cls.controller_env, timeout=15)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.ctl = None

    # -- requests ----------------------------------------------------------

    def call(self, method, path, body=None, raw=None, expect=None, headers=None):
        """Sends a request; checks Cache-Control: no-store and that the body
        is JSON (empty for 204).  Returns (response, parsed body)."""
        r = self.ctl.request(method, path, body=body, raw=raw, headers=headers,
                             timeout=HTTP_TIMEOUT)
        what = "%s %s -> %d %r" % (method, path, r.status, r.body[:600])
        cc = r.headers.get("Cache-Control") or ""
        self.assertIn("no-store", [d.strip().lower() for d in cc.split(",")],
                      "missing Cache-Control: no-store on " + what)
        data = None
        if r.status == 204:
            self.assertEqual(r.body, b"", "204 with a body: " + what)
        else:
            try:
                data = json.loads(r.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.fail("body is not JSON: " + what)
        if expect is not None:
            self.assertEqual(r.status, expect, what)
        return r, data

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    # -- assertions --------------------------------------------------------

    def assertError(self, r, data, status, field=ABSENT, ctx=""):
        """Checks an error answer: status, envelope, `field`.  `field` is a
        string (must equal), a tuple of accepted strings (None in it means
        absent is accepted too), ABSENT or ANY."""
        what = "%s (got %d %r)" % (ctx, r.status, r.body[:600])
        self.assertEqual(r.status, status, what)
        self.assertIsInstance(data, dict, "error body is not an object: " + what)
        self.assertIn("error", data, "no `error` member: " + what)
        self.assertIsInstance(data["error"], str, what)
        self.assertTrue(data["error"], "empty `error`: " + what)
        extra = set(data) - {"error", "field"}
        self.assertFalse(extra, "unexpected members %s in the error envelope: %s" % (extra, what))
        got = data.get("field")
        if field is ABSENT:
            self.assertNotIn("field", data, "`field` should be absent: " + what)
        elif field is ANY:
            if "field" in data:
                self.assertIsInstance(got, str, what)
        elif isinstance(field, tuple):
            if got is None:
                self.assertIn(None, field, "`field` missing, expected one of %r: %s" % (field, what))
            else:
                self.assertIn(got, field, "wrong `field`: " + what)
        else:
            self.assertEqual(got, field, "wrong `field`: " + what)
        if got is not None:
            self.assertIsInstance(got, str, what)
            self.assertTrue(data["error"].startswith(got),
                            "`error` does not start with the field %r: %s" % (got, what))

    def create(self, body):
        r, data = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, "create failed: %r -> %r" % (body, r.body[:600]))
        self.assertIsInstance(data, dict)
        return data

    def get_flow(self, fid):
        r, data = self.get("/v1/flows/%s" % fid, expect=200)
        return data

    def output(self, flow, name):
        for o in flow["outputs"]:
            if o["name"] == name:
                return o
        self.fail("no output %r in %r" % (name, flow["outputs"]))

    def assertFlowShape(self, flow):
        for k in ("id", "name", "description", "status", "source", "sources", "outputs",
                  "source_failover_config", "source_monitor_config", "maintenance_window",
                  "created_at", "updated_at"):
            self.assertIn(k, flow, "flow lacks %r: %r" % (k, flow))
        self.assertIsInstance(flow["id"], str)
        self.assertTrue(flow["id"])
        self.assertIn(flow["status"], ("STANDBY", "STARTING", "ACTIVE", "STOPPING", "ERROR"))
        self.assertIsInstance(flow["sources"], list)
        self.assertTrue(flow["sources"])
        self.assertEqual(flow["source"], flow["sources"][0], "`source` is not the first of `sources`")
        self.assertIsInstance(flow["outputs"], list)
        parse_ts(flow["created_at"])
        parse_ts(flow["updated_at"])
        self.assertTrue(flow["created_at"].endswith("Z"), flow["created_at"])
        self.assertTrue(flow["updated_at"].endswith("Z"), flow["updated_at"])

    def wait_status(self, fid, statuses, timeout=10):
        if isinstance(statuses, str):
            statuses = (statuses,)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            _, last = self.get("/v1/flows/%s" % fid, expect=200)
            if last.get("status") in statuses:
                return last
            time.sleep(0.05)
        self.fail("flow %s not in %r after %ss: %r" % (fid, statuses, timeout, last))

    def start_flow(self, fid):
        r, data = self.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(data["id"], fid)
        self.assertIn(data["status"], ("STARTING", "ACTIVE"), data)
        return self.wait_status(fid, "ACTIVE")

    def stop_flow(self, fid):
        r, data = self.post("/v1/flows/%s/stop" % fid)
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(data["id"], fid)
        self.assertIn(data["status"], ("STOPPING", "STANDBY"), data)
        return self.wait_status(fid, "STANDBY")

    def events(self, path):
        r, data = self.get(path, expect=200)
        self.assertIsInstance(data, dict)
        self.assertIn("events", data)
        self.assertIsInstance(data["events"], list)
        return data["events"]

    def assertEventShape(self, ev):
        for k in ("id", "flow_id", "type", "severity", "message", "timestamp"):
            self.assertIn(k, ev, "event lacks %r: %r" % (k, ev))
        self.assertIsInstance(ev["id"], int)
        self.assertIn(ev["severity"], ("info", "warning", "error"), ev)
        self.assertIsInstance(ev["message"], str)
        parse_ts(ev["timestamp"])

    def assertNewestFirst(self, events):
        stamps = [parse_ts(e["timestamp"]) for e in events]
        for a, b in zip(stamps, stamps[1:]):
            self.assertGreaterEqual(a, b, "events not newest first: %r" % events)


# --------------------------------------------------------------------------

class HealthTest(ApiTestCase):

    def health(self):
        r, data = self.get("/health", expect=200)
        self.assertEqual(data.get("status"), "ok", data)
        self.assertIsInstance(data.get("total_flows"), int, data)
        self.assertIsInstance(data.get("active_flows"), int, data)
        return data

    def test_health_counts(self):
        h = self.health()
        self.assertEqual((h["total_flows"], h["active_flows"]), (0, 0), h)

        sport = free_port()
        oport = free_port()
        a = self.create(flow_body("a", source=udp_source(port=sport),
                                  outputs=[udp_output("o", oport)]))
        b = self.create(flow_body("b"))
        h = self.health()
        self.assertEqual((h["total_flows"], h["active_flows"]), (2, 0), h)

        self.start_flow(a["id"])
        try:
            h = self.health()
            self.assertEqual((h["total_flows"], h["active_flows"]), (2, 1), h)
        finally:
            self.stop_flow(a["id"])
        h = self.health()
        self.assertEqual((h["total_flows"], h["active_flows"]), (2, 0), h)

        self.delete("/v1/flows/%s" % b["id"], expect=204)
        h = self.health()
        self.assertEqual((h["total_flows"], h["active_flows"]), (1, 0), h)
        self.delete("/v1/flows/%s" % a["id"], expect=204)
        h = self.health()
        self.assertEqual((h["total_flows"], h["active_flows"]), (0, 0), h)


# --------------------------------------------------------------------------

class FlowCrudTest(ApiTestCase):

    def test_create_get_list_delete(self):
        body = flow_body("My Live Feed", description="Primary ingest from studio",
                         outputs=[udp_output("out1", 6000),
                                  udp_output("rtp-out", 6002, protocol="rtp")])
        f = self.create(body)
        self.assertFlowShape(f)
        self.assertEqual(f["name"], "My Live Feed")
        self.assertEqual(f["description"], "Primary ingest from studio")
        self.assertEqual(f["status"], "STANDBY")
        self.assertEqual(f["source"]["name"], "primary")
        self.assertEqual(f["source"]["protocol"], "udp")
        self.assertEqual(f["source"]["ingest_port"], 5000)
        self.assertEqual(len(f["sources"]), 1)
        self.assertEqual([o["name"] for o in f["outputs"]], ["out1", "rtp-out"])
        self.assertEqual(self.output(f, "out1")["destination"], "127.0.0.1")
        self.assertEqual(self.output(f, "out1")["port"], 6000)
        self.assertEqual(self.output(f, "out1")["protocol"], "udp")
        self.assertEqual(self.output(f, "rtp-out")["protocol"], "rtp")
        self.assertEqual(self.output(f, "rtp-out")["port"], 6002)

        g = self.get_flow(f["id"])
        self.assertFlowShape(g)
        self.assertEqual(g, f)

        _, lst = self.get("/v1/flows", expect=200)
        self.assertIsInstance(lst, dict)
        self.assertIsInstance(lst.get("flows"), list, lst)
        self.assertIn(f["id"], [x["id"] for x in lst["flows"]])
        for x in lst["flows"]:
            self.assertFlowShape(x)

        r, _ = self.delete("/v1/flows/%s" % f["id"])
        self.assertEqual(r.status, 204)
        r, data = self.get("/v1/flows/%s" % f["id"])
        self.assertError(r, data, 404, ABSENT, "GET deleted flow")
        r, data = self.delete("/v1/flows/%s" % f["id"])
        self.assertError(r, data, 404, ABSENT, "DELETE deleted flow")
        _, lst = self.get("/v1/flows", expect=200)
        self.assertNotIn(f["id"], [x["id"] for x in lst["flows"]])

    def test_list_oldest_first(self):
        ids = [self.create(flow_body("order-%d" % i))["id"] for i in range(3)]
        _, lst = self.get("/v1/flows", expect=200)
        listed = [x["id"] for x in lst["flows"] if x["id"] in ids]
        self.assertEqual(listed, ids)
        for fid in ids:
            self.delete("/v1/flows/%s" % fid, expect=204)

    def test_unicode_name_round_trip(self):
        name = "Caf\u00e9 \u6d41 \U0001F3A5 feed"
        f = self.create(flow_body(name, description="d\u00e9sc"))
        self.assertEqual(f["name"], name)
        g = self.get_flow(f["id"])
        self.assertEqual((g["name"], g["description"]), (name, "d\u00e9sc"))

    def test_delete_stopped_flow_removes_everything(self):
        f = self.create(flow_body("del-stopped"))
        r, _ = self.delete("/v1/flows/%s" % f["id"])
        self.assertEqual(r.status, 204)
        for p in ("", "/metrics", "/events"):
            r, data = self.get("/v1/flows/%s%s" % (f["id"], p))
            self.assertError(r, data, 404, ABSENT, "GET%s after delete" % p)
        self.assertNotIn(f["id"], [e["flow_id"] for e in self.events("/v1/events?limit=10000")])

    def test_ids_unique(self):
        a = self.create(flow_body("same"))
        b = self.create(flow_body("same"))
        self.assertNotEqual(a["id"], b["id"])

    def test_outputs_absent_or_empty(self):
        b = flow_body("no-outputs")
        del b["outputs"]
        f = self.create(b)
        self.assertEqual(f["outputs"], [])
        f = self.create(flow_body("empty-outputs", outputs=[]))
        self.assertEqual(f["outputs"], [])
        self.assertEqual(self.get_flow(f["id"])["outputs"], [])

    def test_create_with_sources(self):
        body = {"name": "two-sources",
                "sources": [udp_source("main", 5100),
                            {"name": "backup", "protocol": "rtp", "ingest_port": 5102}],
                "outputs": [udp_output("o", 6100)]}
        f = self.create(body)
        self.assertFlowShape(f)
        self.assertEqual([s["name"] for s in f["sources"]], ["main", "backup"])
        self.assertEqual(f["sources"][1]["protocol"], "rtp")
        self.assertEqual(f["sources"][1]["ingest_port"], 5102)
        self.assertEqual(f["source"]["name"], "main")
        self.assertEqual(self.get_flow(f["id"]), f)

    def test_create_with_single_entry_sources(self):
        f = self.create({"name": "one-in-sources", "sources": [udp_source("only", 5200)]})
        self.assertEqual(f["source"]["name"], "only")
        self.assertEqual(len(f["sources"]), 1)

    def test_defaults(self):
        f = self.create(flow_body("defaults"))
        self.assertEqual(f["description"], "")
        self.assertIsNone(f["maintenance_window"])
        sfc = f["source_failover_config"]
        self.assertIsInstance(sfc, dict)
        self.assertEqual(sfc.get("state"), "DISABLED", sfc)
        self.assertEqual(sfc.get("failover_mode"), "FAILOVER", sfc)
        self.assertEqual(sfc.get("recovery_window"), 100, sfc)
        smc = f["source_monitor_config"]
        self.assertEqual(smc, {"thumbnail_enabled": False, "content_quality_enabled": False,
                               "thumbnail_interval_sec": 5, "black_threshold_sec": 2,
                               "frozen_threshold_sec": 2, "silent_threshold_sec": 2})

    def test_configs_persisted(self):
        body = {"name": "configured",
                "sources": [udp_source("primary", 5300), udp_source("backup", 5302)],
                "outputs": [],
                "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                           "recovery_window": 250,
                                           "source_priority": {"primary_source": "backup"}},
                "source_monitor_config": {"thumbnail_enabled": True,
                                          "content_quality_enabled": True,
                                          "thumbnail_interval_sec": 30},
                "maintenance_window": {"day_of_week": "sunday", "start_hour": 3}}
        f = self.create(body)
        for g in (f, self.get_flow(f["id"])):
            sfc = g["source_failover_config"]
            self.assertEqual(sfc["state"], "ENABLED")
            self.assertEqual(sfc["failover_mode"], "FAILOVER")
            self.assertEqual(sfc["recovery_window"], 250)
            self.assertEqual(sfc["source_priority"], {"primary_source": "backup"})
            self.assertEqual(g["source_monitor_config"],
                             {"thumbnail_enabled": True, "content_quality_enabled": True,
                              "thumbnail_interval_sec": 30, "black_threshold_sec": 2,
                              "frozen_threshold_sec": 2, "silent_threshold_sec": 2})
            self.assertEqual(g["maintenance_window"], {"day_of_week": "Sunday", "start_hour": 3})
        _, lst = self.get("/v1/flows", expect=200)
        listed = [x for x in lst["flows"] if x["id"] == f["id"]]
        self.assertEqual(listed, [self.get_flow(f["id"])])

    def test_merge_mode_and_day_case(self):
        f = self.create({"name": "merge",
                         "sources": [{"name": "a", "protocol": "rtp", "ingest_port": 5400},
                                     {"name": "b", "protocol": "rtp", "ingest_port": 5402}],
                         "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE"},
                         "maintenance_window": {"day_of_week": "WEDNESDAY", "start_hour": 0}})
        self.assertEqual(f["source_failover_config"]["failover_mode"], "MERGE")
        self.assertEqual(f["maintenance_window"], {"day_of_week": "Wednesday", "start_hour": 0})

    def test_boundaries_accepted(self):
        """Values on the edges of every range are accepted."""
        cases = {
            "port 1": flow_body("p1", outputs=[udp_output("o", 1)]),
            "port 65535": flow_body("p65535", outputs=[udp_output("o", 65535)],
                                    source=udp_source(port=65535)),
            "ingest_port 1": flow_body("i1", source=udp_source(port=1)),
            "name 256": flow_body("n" * 256),
            "name 1": flow_body("n"),
            "name 256 non-ASCII characters": flow_body("\u00e9" * 256),
            "source name 64": flow_body("s64", source=udp_source("A-z_0.9-" * 8)),
            "max_latency 0/60000": flow_body("lat", source={
                "name": "s", "protocol": "srt-listener", "ingest_port": 5500,
                "max_latency": 0}, outputs=[{"name": "o", "protocol": "srt-caller",
                                              "destination": "127.0.0.1", "port": 9000,
                                              "max_latency": 60000}]),
            "max_bitrate 0": flow_body("mbw", source={
                "name": "s", "protocol": "srt-listener", "ingest_port": 5502, "max_bitrate": 0}),
            "stream_id 512": flow_body("sid", source={
                "name": "s", "protocol": "srt-listener", "ingest_port": 5504,
                "stream_id": "x" * 512}),
            "recovery_window 10": flow_body("rw10", source_failover_config={"recovery_window": 10}),
            "recovery_window 10000": flow_body("rw10000",
                                               source_failover_config={"recovery_window": 10000}),
            "thumbnail_interval_sec 1": flow_body("ti1", source_monitor_config={
                "thumbnail_interval_sec": 1}),
            "thumbnail_interval_sec 3600": flow_body("ti3600", source_monitor_config={
                "thumbnail_interval_sec": 3600}),
            "start_hour 23": flow_body("sh23", maintenance_window={
                "day_of_week": "Monday", "start_hour": 23}),
            "passphrase 10": flow_body("pp10", outputs=[{
                "name": "o", "protocol": "srt-caller", "destination": "127.0.0.1", "port": 9000,
                "encryption": {"algorithm": "aes128", "passphrase": "p" * 10}}]),
            "passphrase 79": flow_body("pp79", source={
                "name": "s", "protocol": "srt-listener", "ingest_port": 5506,
                "decryption": {"algorithm": "aes192", "passphrase": "p" * 79}}),
            "ingest_address": flow_body("ia", source=udp_source(ingest_address="127.0.0.1")),
        }
        for what, body in cases.items():
            with self.subTest(what):
                r, data = self.post("/v1/flows", body)
                self.assertEqual(r.status, 201, "%s: %r" % (what, r.body[:600]))
                self.assertFlowShape(data)

    def test_all_protocols_accepted(self):
        src = {
            "udp": {"ingest_port": 5600},
            "rtp": {"ingest_port": 5602},
            "rtp-fec": {"ingest_port": 5604},
            "rist": {"ingest_port": 5606, "max_latency": 500},
            "srt-listener": {"ingest_port": 5608, "max_latency": 200, "stream_id": "abc",
                             "max_bitrate": 1000000},
            "srt-caller": {"destination": "127.0.0.1", "port": 5610},
            "rtmp": {"destination": "rtmp://127.0.0.1/live/key"},
        }
        out = {
            "udp": {"destination": "127.0.0.1", "port": 7000},
            "rtp": {"destination": "127.0.0.1", "port": 7002},
            "rtp-fec": {"destination": "127.0.0.1", "port": 7004},
            "rist": {"destination": "127.0.0.1", "port": 7006},
            "srt-listener": {"port": 7008},
            "srt-caller": {"destination": "127.0.0.1", "port": 7010, "stream_id": "sid"},
            "rtmp": {"destination": "rtmp://127.0.0.1:1935/live"},
        }
        outputs = []
        for proto, extra in out.items():
            o = {"name": "o-" + proto, "protocol": proto, "description": "d " + proto}
            o.update(extra)
            outputs.append(o)
        for proto, extra in src.items():
            with self.subTest(source=proto):
                s = {"name": "s", "protocol": proto, "description": "src"}
                s.update(extra)
                f = self.create({"name": "proto-" + proto, "source": s, "outputs": outputs})
                self.assertEqual(f["source"]["protocol"], proto)
                for k, v in extra.items():
                    self.assertEqual(f["source"].get(k), v, f["source"])
                self.assertEqual(f["source"].get("description"), "src")
                self.assertEqual([o["protocol"] for o in f["outputs"]], list(out))
                for o in f["outputs"]:
                    for k, v in out[o["protocol"]].items():
                        self.assertEqual(o.get(k), v, o)


# --------------------------------------------------------------------------

def _set(path, value):
    """Returns a mutator that sets a (dotted / indexed) path in a body."""
    def mut(b):
        obj, key = _walk(b, path)
        obj[key] = value
    return mut


def _del(path):
    def mut(b):
        obj, key = _walk(b, path)
        del obj[key]
    return mut


def _walk(b, path):
    parts = []
    for p in path.split("."):
        if "[" in p:
            name, idx = p[:-1].split("[")
            parts.append(name)
            parts.append(int(idx))
        else:
            parts.append(p)
    obj = b
    for p in parts[:-1]:
        obj = obj[p]
    return obj, parts[-1]


def _srt_listener_source(**extra):
    s = {"name": "primary", "protocol": "srt-listener", "ingest_port": 5000}
    s.update(extra)
    return s


def _srt_output(**extra):
    o = {"name": "srt", "protocol": "srt-caller", "destination": "127.0.0.1", "port": 9000}
    o.update(extra)
    return o


class CreateValidationTest(ApiTestCase):
    """Every validation error of POST /v1/flows: 400 with the right field."""

    def base(self):
        return flow_body("valid", outputs=[udp_output("out0", 6000), udp_output("out1", 6001)])

    def cases(self, warned=False):
        """The refused bodies; with `warned`, the accepted ones whose answer
        has one warning (desc, warning, muts, base)."""
        c = []
        w = []

        def add(desc, field, *muts, base=None):
            c.append((desc, field, muts, base))

        def warn(desc, field, *muts, base=None):
            """An unknown member at `field`: taken and said, no longer
            refused (docs/api.md, Bodies)"""
            w.append((desc, "unknown field '%s' ignored" % field, muts, base))

        # top level
        add("name missing", "name", _del("name"))
        add("name empty", "name", _set("name", ""))
        add("name too long", "name", _set("name", "n" * 257))
        add("name too long (non-ASCII)", "name", _set("name", "\u00e9" * 257))
        add("name bool", "name", _set("name", True))
        add("name number", "name", _set("name", 5))
        add("name null", "name", _set("name", None))
        add("name object", "name", _set("name", {"a": 1}))
        add("description number", "description", _set("description", 5))
        warn("unknown top-level field", "bogus", _set("bogus", 1))
        add("outputs object", "outputs", _set("outputs", {}))
        add("outputs string", "outputs", _set("outputs", "x"))
        add("output not an object", "outputs[1]", _set("outputs[1]", "x"))
        add("source string", "source", _set("source", "x"))
        add("source array", "source", _set("source", []))
        add("no source at all", ("source", "sources"), _del("source"))
        # "source" is the first source, "sources[0]" the answer's copy of it
        w.append(("both source and sources", "'sources[0]' ignored: 'source' gives the first source",
                  (_set("sources", [udp_source("other", 5002)]),), None))
        add("sources empty", ("sources", "source"), _del("source"), _set("sources", []))
        add("sources not array", "sources", _del("source"), _set("sources", {"a": 1}))
        add("three sources", ("sources", None), _del("source"),
            _set("sources", [udp_source("a", 5000), udp_source("b", 5002), udp_source("c", 5004)]))
        add("51 outputs", ("outputs", None),
            _set("outputs", [udp_output("o%d" % i, 6000 + i) for i in range(51)]))

        # source fields
        add("source.name missing", "source.name", _del("source.name"))
        add("source.name empty", "source.name", _set("source.name", ""))
        add("source.name bad chars", "source.name", _set("source.name", "bad name!"))
        add("source.name slash", "source.name", _set("source.name", "a/b"))
        add("source.name too long", "source.name", _set("source.name", "s" * 65))
        add("source.name number", "source.name", _set("source.name", 1))
        add("source.protocol missing", "source.protocol", _del("source.protocol"))
        add("source.protocol unknown", "source.protocol", _set("source.protocol", "http"))
        add("source.protocol number", "source.protocol", _set("source.protocol", 1))
        add("source.description number", "source.description", _set("source.description", 1))
        warn("source unknown field", "source.bogus", _set("source.bogus", "x"))
        for proto in ("udp", "rtp", "rtp-fec", "rist", "srt-listener"):
            add("source.ingest_port missing (%s)" % proto, "source.ingest_port",
                _set("source.protocol", proto), _del("source.ingest_port"))
        for v in (0, 65536, -1, 100000, 2 ** 32 + 5000, 10 ** 20, "5000", 5000.5, True, None,
                  [5000], {"port": 5000}):
            add("source.ingest_port %r" % (v,), "source.ingest_port",
                _set("source.ingest_port", v))
        # RIST's RTP port must be even: RTCP takes the next one
        add("source.ingest_port odd for rist", "source.ingest_port",
            _set("source.protocol", "rist"), _set("source.ingest_port", 5001))
        add("source.ingest_address not an IP", "source.ingest_address",
            _set("source.ingest_address", "999.1.2.3"))
        add("source.ingest_address number", "source.ingest_address",
            _set("source.ingest_address", 127))
        add("srt-caller source without destination", "source.destination",
            _set("source", {"name": "c", "protocol": "srt-caller", "port": 9000}))
        add("srt-caller source without port", "source.port",
            _set("source", {"name": "c", "protocol": "srt-caller", "destination": "127.0.0.1"}))
        for v in (0, 65536, -1, "9000"):
            add("srt-caller source port %r" % (v,), "source.port",
                _set("source", {"name": "c", "protocol": "srt-caller",
                                "destination": "127.0.0.1", "port": v}))
        add("rtmp source without destination", "source.destination",
            _set("source", {"name": "r", "protocol": "rtmp"}))
        add("rtmp source destination not rtmp URL", "source.destination",
            _set("source", {"name": "r", "protocol": "rtmp", "destination": "http://127.0.0.1/app"}))
        for v in (-1, 60001, "200"):
            add("source.max_latency %r" % (v,), "source.max_latency",
                _set("source", _srt_listener_source(max_latency=v)))
        for v in (-1, "1000"):
            add("source.max_bitrate %r" % (v,), "source.max_bitrate",
                _set("source", _srt_listener_source(max_bitrate=v)))
        add("source.stream_id too long", "source.stream_id",
            _set("source", _srt_listener_source(stream_id="x" * 513)))
        add("source.stream_id number", "source.stream_id",
            _set("source", _srt_listener_source(stream_id=5)))
        for algo in ("aes512", "AES-128", "", 128):
            add("source.decryption.algorithm %r" % (algo,), "source.decryption.algorithm",
                _set("source", _srt_listener_source(
                    decryption={"algorithm": algo, "passphrase": "0123456789ab"})))
        add("source.decryption.passphrase 9 chars", "source.decryption.passphrase",
            _set("source", _srt_listener_source(
                decryption={"algorithm": "aes128", "passphrase": "p" * 9})))
        add("source.decryption.passphrase 80 chars", "source.decryption.passphrase",
            _set("source", _srt_listener_source(
                decryption={"algorithm": "aes128", "passphrase": "p" * 80})))
        add("source.decryption.passphrase missing", "source.decryption.passphrase",
            _set("source", _srt_listener_source(decryption={"algorithm": "aes128"})))
        add("source.decryption.passphrase number", "source.decryption.passphrase",
            _set("source", _srt_listener_source(
                decryption={"algorithm": "aes128", "passphrase": 1234567890123})))
        warn("source.decryption unknown field", "source.decryption.bogus",
            _set("source", _srt_listener_source(
                decryption={"algorithm": "aes128", "passphrase": "0123456789ab", "bogus": 1})))
        add("source.decryption not object", "source.decryption",
            _set("source", _srt_listener_source(decryption="aes128")))

        # sources[] paths
        two = lambda: [udp_source("a", 5000), udp_source("b", 5002)]  # noqa: E731
        add("sources[1] duplicate name", "sources[1].name", _del("source"),
            _set("sources", [udp_source("dup", 5000), udp_source("dup", 5002)]))
        add("sources[1].ingest_port missing", "sources[1].ingest_port", _del("source"),
            _set("sources", two()), _del("sources[1].ingest_port"))
        warn("sources[0] unknown field", "sources[0].bogus", _del("source"),
            _set("sources", two()), _set("sources[0].bogus", True))
        add("sources[1].protocol unknown", "sources[1].protocol", _del("source"),
            _set("sources", two()), _set("sources[1].protocol", "ftp"))
        add("sources[1] not object", "sources[1]", _del("source"),
            _set("sources", [udp_source("a", 5000), 7]))

        # outputs
        add("outputs[1].port string", "outputs[1].port", _set("outputs[1].port", "6000"))
        for v in (0, 65536, -1, 6000.5, True, None):
            add("outputs[0].port %r" % (v,), "outputs[0].port", _set("outputs[0].port", v))
        add("outputs[1].port missing", "outputs[1].port", _del("outputs[1].port"))
        add("outputs[0].destination missing", "outputs[0].destination",
            _del("outputs[0].destination"))
        add("outputs[0].destination number", "outputs[0].destination",
            _set("outputs[0].destination", 127001))
        add("outputs[0].protocol unknown", "outputs[0].protocol",
            _set("outputs[0].protocol", "ftp"))
        add("outputs[0].protocol missing", "outputs[0].protocol", _del("outputs[0].protocol"))
        add("outputs[0].name missing", "outputs[0].name", _del("outputs[0].name"))
        add("outputs[0].name empty", "outputs[0].name", _set("outputs[0].name", ""))
        add("outputs[0].name number", "outputs[0].name", _set("outputs[0].name", 3))
        add("outputs[1] duplicate name", "outputs[1].name", _set("outputs[1].name", "out0"))
        warn("outputs[1] unknown field", "outputs[1].bogus", _set("outputs[1].bogus", 1))
        add("outputs[0].description number", "outputs[0].description",
            _set("outputs[0].description", 1))
        add("rtmp output destination neither rtmp URL nor host", "outputs[1].destination",
            _set("outputs[1]", {"name": "r", "protocol": "rtmp", "destination": "http://127.0.0.1/app"}))
        add("rtmp output to a host without port", "outputs[1].port",
            _set("outputs[1]", {"name": "r", "protocol": "rtmp", "destination": "127.0.0.1",
                                "stream_key": "k"}))
        add("rtmp output to a host without stream_key", "outputs[1].stream_key",
            _set("outputs[1]", {"name": "r", "protocol": "rtmp", "destination": "127.0.0.1",
                                "port": 1935}))
        add("rtmp listener source without stream_id", "source.stream_id",
            _set("source", {"name": "r", "protocol": "rtmp", "ingest_port": 1935}))
        add("rtmp output without destination", "outputs[1].destination",
            _set("outputs[1]", {"name": "r", "protocol": "rtmp"}))
        add("rtmp output stream_key number", "outputs[1].stream_key",
            _set("outputs[1]", {"name": "r", "protocol": "rtmp",
                                "destination": "rtmp://127.0.0.1/live", "stream_key": 5}))
        add("srt-listener output without port", "outputs[1].port",
            _set("outputs[1]", {"name": "l", "protocol": "srt-listener"}))
        for v in (-1, 60001):
            add("outputs[1].max_latency %r" % v, "outputs[1].max_latency",
                _set("outputs[1]", _srt_output(max_latency=v)))
        add("outputs[1].max_bitrate -1", "outputs[1].max_bitrate",
            _set("outputs[1]", _srt_output(max_bitrate=-1)))
        add("outputs[1].stream_id too long", "outputs[1].stream_id",
            _set("outputs[1]", _srt_output(stream_id="s" * 513)))
        for algo in ("aes512", "none", 256):
            add("outputs[1].encryption.algorithm %r" % (algo,), "outputs[1].encryption.algorithm",
                _set("outputs[1]", _srt_output(
                    encryption={"algorithm": algo, "passphrase": "0123456789ab"})))
        add("outputs[1].encryption.passphrase 9", "outputs[1].encryption.passphrase",
            _set("outputs[1]", _srt_output(encryption={"algorithm": "aes256",
                                                       "passphrase": "q" * 9})))
        add("outputs[1].encryption.passphrase 80", "outputs[1].encryption.passphrase",
            _set("outputs[1]", _srt_output(encryption={"algorithm": "aes256",
                                                       "passphrase": "q" * 80})))
        add("outputs[1].encryption.passphrase missing", "outputs[1].encryption.passphrase",
            _set("outputs[1]", _srt_output(encryption={"algorithm": "aes256"})))
        warn("outputs[1].encryption unknown field", "outputs[1].encryption.bogus",
            _set("outputs[1]", _srt_output(encryption={"algorithm": "aes256",
                                                       "passphrase": "0123456789ab",
                                                       "bogus": "x"})))
        add("outputs[1].encryption not object", "outputs[1].encryption",
            _set("outputs[1]", _srt_output(encryption=["aes256"])))

        # source_failover_config
        sfc = "source_failover_config"
        add("sfc not object", sfc, _set(sfc, "FAILOVER"))
        add("sfc.state", sfc + ".state", _set(sfc, {"state": "ON"}))
        add("sfc.state bool", sfc + ".state", _set(sfc, {"state": True}))
        add("sfc.failover_mode", sfc + ".failover_mode", _set(sfc, {"failover_mode": "BOGUS"}))
        add("sfc.recovery_window 9", sfc + ".recovery_window", _set(sfc, {"recovery_window": 9}))
        add("sfc.recovery_window 10001", sfc + ".recovery_window",
            _set(sfc, {"recovery_window": 10001}))
        add("sfc.recovery_window string", sfc + ".recovery_window",
            _set(sfc, {"recovery_window": "100"}))
        add("sfc.primary_source unknown", sfc + ".source_priority.primary_source",
            _set(sfc, {"state": "ENABLED", "source_priority": {"primary_source": "ghost"}}))
        add("sfc.primary_source number", sfc + ".source_priority.primary_source",
            _set(sfc, {"source_priority": {"primary_source": 1}}))
        warn("sfc unknown field", sfc + ".bogus", _set(sfc, {"bogus": 1}))
        warn("sfc.source_priority unknown field", sfc + ".source_priority.bogus",
            _set(sfc, {"source_priority": {"primary_source": "primary", "bogus": 1}}))
        add("sfc.source_priority not object", sfc + ".source_priority",
            _set(sfc, {"source_priority": "primary"}))

        # source_monitor_config
        smc = "source_monitor_config"
        add("smc not object", smc, _set(smc, True))
        add("smc.thumbnail_enabled string", smc + ".thumbnail_enabled",
            _set(smc, {"thumbnail_enabled": "yes"}))
        add("smc.content_quality_enabled number", smc + ".content_quality_enabled",
            _set(smc, {"content_quality_enabled": 1}))
        add("smc.thumbnail_interval_sec 0", smc + ".thumbnail_interval_sec",
            _set(smc, {"thumbnail_interval_sec": 0}))
        add("smc.thumbnail_interval_sec 3601", smc + ".thumbnail_interval_sec",
            _set(smc, {"thumbnail_interval_sec": 3601}))
        add("smc.black_threshold_sec string", smc + ".black_threshold_sec",
            _set(smc, {"black_threshold_sec": "2"}))
        add("smc.frozen_threshold_sec 0.05", smc + ".frozen_threshold_sec",
            _set(smc, {"frozen_threshold_sec": 0.05}))
        warn("smc unknown field", smc + ".bogus", _set(smc, {"bogus": False}))

        # maintenance_window
        mw = "maintenance_window"
        add("mw not object", mw, _set(mw, "Sunday"))
        add("mw.day_of_week invalid", mw + ".day_of_week",
            _set(mw, {"day_of_week": "Funday", "start_hour": 3}))
        add("mw.day_of_week number", mw + ".day_of_week",
            _set(mw, {"day_of_week": 0, "start_hour": 3}))
        add("mw.start_hour 24", mw + ".start_hour",
            _set(mw, {"day_of_week": "Sunday", "start_hour": 24}))
        add("mw.start_hour -1", mw + ".start_hour",
            _set(mw, {"day_of_week": "Sunday", "start_hour": -1}))
        add("mw.start_hour string", mw + ".start_hour",
            _set(mw, {"day_of_week": "Sunday", "start_hour": "3"}))
        warn("mw unknown field", mw + ".bogus",
            _set(mw, {"day_of_week": "Sunday", "start_hour": 3, "bogus": 1}))
        return w if warned else c

    def flow_count(self):
        _, lst = self.get("/v1/flows", expect=200)
        return len(lst["flows"])

    def test_base_body_is_valid(self):
        f = self.create(self.base())
        self.delete("/v1/flows/%s" % f["id"], expect=204)

    def test_invalid_bodies(self):
        before = self.flow_count()
        for desc, field, muts, base in self.cases():
            with self.subTest(desc):
                body = copy.deepcopy(base) if base is not None else self.base()
                for m in muts:
                    m(body)
                r, data = self.post("/v1/flows", body)
                self.assertError(r, data, 400, field, "%s: %s" % (desc, json.dumps(body)[:300]))
        self.assertEqual(self.flow_count(), before, "a rejected request created a flow")

    def test_unknown_fields_warned(self):
        """What was refused as unknown is created, with a warning that names
        the field by its path"""
        for desc, warning, muts, base in self.cases(warned=True):
            with self.subTest(desc):
                body = copy.deepcopy(base) if base is not None else self.base()
                for m in muts:
                    m(body)
                r, data = self.post("/v1/flows", body)
                self.assertEqual(r.status, 201, "%s: %r" % (desc, r.body[:600]))
                self.assertEqual(data.get("warnings"), [warning], desc)
                self.assertNotIn("warnings", self.get_flow(data["id"]))
                self.delete("/v1/flows/%s" % data["id"], expect=204)

    def test_not_json(self):
        for raw in (b'{"name": ', b"not json", b"", b'{"name": "x",}', b"\xff\xfe",
                    b'{"name": "a"} trailing', b'{"name": "\xff\xfe"}'):
            with self.subTest(raw=raw):
                r, data = self.post("/v1/flows", raw=raw,
                                    headers={"Content-Type": "application/json"})
                self.assertError(r, data, 400, ABSENT, "body %r" % raw)

    def test_not_object(self):
        for raw in ("[1, 2]", '"str"', "42", "null", "true", "[]"):
            with self.subTest(raw=raw):
                r, data = self.post("/v1/flows", raw=raw,
                                    headers={"Content-Type": "application/json"})
                self.assertError(r, data, 400, ABSENT, "body %r" % raw)

    def test_body_too_large(self):
        """413 for a body over 1 MiB (a valid JSON object otherwise)."""
        body = json.dumps(flow_body("big", description="d" * (1024 * 1024 + 1024))).encode()
        status, payload, headers = raw_http(self.ctl.port, "POST", "/v1/flows", body)
        self.assertEqual(status, 413, payload[:300])
        data = json.loads(payload.decode())
        self.assertIn("error", data)
        self.assertNotIn("field", data)
        self.assertIn("no-store", headers.get("cache-control", ""))


def raw_http(port, method, path, body, timeout=15):
    """A minimal HTTP/1.1 client that tolerates the server answering (and
    closing) before the whole body is sent.  Returns (status, body, headers
    lower-cased)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        head = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % (method, path, port, len(body))).encode()
        try:
            s.sendall(head)
            s.sendall(body)
        except OSError:
            pass  # the server may have answered and closed already
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not c:
                break
            chunks.append(c)
            data = b"".join(chunks)
            if b"\r\n\r\n" in data:
                h, _, rest = data.partition(b"\r\n\r\n")
                hdrs = _parse_headers(h)
                cl = hdrs.get("content-length")
                if cl is not None and len(rest) >= int(cl):
                    break
        data = b"".join(chunks)
    finally:
        s.close()
    if not data:
        raise AssertionError("no HTTP answer to %s %s" % (method, path))
    h, _, rest = data.partition(b"\r\n\r\n")
    hdrs = _parse_headers(h)
    status = int(h.split(b"\r\n", 1)[0].split()[1])
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        rest = _dechunk(rest)
    elif "content-length" in hdrs:
        rest = rest[:int(hdrs["content-length"])]
    return status, rest, hdrs


def _parse_headers(h):
    hdrs = {}
    for line in h.split(b"\r\n")[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return hdrs


def _dechunk(b):
    out = bytearray()
    while b:
        line, _, b = b.partition(b"\r\n")
        n = int(line.split(b";")[0], 16)
        if n == 0:
            break
        out += b[:n]
        b = b[n + 2:]
    return bytes(out)


# --------------------------------------------------------------------------

class SourcesOutputsTest(ApiTestCase):

    def new_flow(self, name="so", outputs=None):
        return self.create(flow_body(name, outputs=outputs if outputs is not None else
                                     [udp_output("out1", 6000), udp_output("out2", 6002)]))

    # -- sources -----------------------------------------------------------

    def test_add_and_remove_source(self):
        f = self.new_flow()
        fid = f["id"]
        r, g = self.post("/v1/flows/%s/source" % fid,
                         {"name": "backup", "protocol": "rtp", "ingest_port": 5002})
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertFlowShape(g)
        self.assertEqual([s["name"] for s in g["sources"]], ["primary", "backup"])
        self.assertEqual(g["sources"][1]["ingest_port"], 5002)
        self.assertEqual(g["source"]["name"], "primary")
        self.assertEqual(self.get_flow(fid)["sources"], g["sources"])

        # a third one
        r, data = self.post("/v1/flows/%s/source" % fid,
                            {"name": "third", "protocol": "udp", "ingest_port": 5004})
        self.assertError(r, data, 400, ANY, "third source")
        self.assertEqual(len(self.get_flow(fid)["sources"]), 2)

        # unknown name
        r, data = self.delete("/v1/flows/%s/source/nosuch" % fid)
        self.assertError(r, data, 404, ABSENT, "remove unknown source")

        r, g = self.delete("/v1/flows/%s/source/backup" % fid, expect=200)
        self.assertEqual([s["name"] for s in g["sources"]], ["primary"])
        self.assertEqual(self.get_flow(fid)["sources"], g["sources"])

        # the last one
        r, data = self.delete("/v1/flows/%s/source/primary" % fid)
        self.assertError(r, data, 400, ANY, "remove last source")
        self.assertEqual([s["name"] for s in self.get_flow(fid)["sources"]], ["primary"])

    def test_remove_first_source_promotes_second(self):
        f = self.create({"name": "promote",
                         "sources": [udp_source("a", 5000), udp_source("b", 5002)]})
        r, g = self.delete("/v1/flows/%s/source/a" % f["id"], expect=200)
        self.assertEqual([s["name"] for s in g["sources"]], ["b"])
        self.assertEqual(g["source"]["name"], "b")
        self.assertEqual(self.get_flow(f["id"])["source"]["name"], "b")

    def test_add_source_validation(self):
        fid = self.new_flow("src-val")["id"]
        path = "/v1/flows/%s/source" % fid

        def accepted(f):
            return (f, "source." + f)

        cases = [
            ("duplicate name", {"name": "primary", "protocol": "udp", "ingest_port": 5002},
             accepted("name")),
            ("missing ingest_port", {"name": "b", "protocol": "udp"}, accepted("ingest_port")),
            ("ingest_port 0", {"name": "b", "protocol": "udp", "ingest_port": 0},
             accepted("ingest_port")),
            ("ingest_port 65536", {"name": "b", "protocol": "rtp", "ingest_port": 65536},
             accepted("ingest_port")),
            ("ingest_port string", {"name": "b", "protocol": "udp", "ingest_port": "5002"},
             accepted("ingest_port")),
            ("unknown protocol", {"name": "b", "protocol": "smtp", "ingest_port": 5002},
             accepted("protocol")),
            ("missing name", {"protocol": "udp", "ingest_port": 5002}, accepted("name")),
            ("bad name", {"name": "b b", "protocol": "udp", "ingest_port": 5002},
             accepted("name")),
            ("decryption short passphrase",
             {"name": "b", "protocol": "srt-listener", "ingest_port": 5002,
              "decryption": {"algorithm": "aes128", "passphrase": "short"}},
             accepted("decryption.passphrase")),
            ("decryption bad algorithm",
             {"name": "b", "protocol": "srt-listener", "ingest_port": 5002,
              "decryption": {"algorithm": "des", "passphrase": "0123456789ab"}},
             accepted("decryption.algorithm")),
        ]
        for desc, body, field in cases:
            with self.subTest(desc):
                r, data = self.post(path, body)
                self.assertError(r, data, 400, field, desc)
        for raw in ("{", "[]", '"x"', ""):
            with self.subTest(raw=raw):
                r, data = self.post(path, raw=raw, headers={"Content-Type": "application/json"})
                self.assertError(r, data, 400, ABSENT, "add source body %r" % raw)
        self.assertEqual(len(self.get_flow(fid)["sources"]), 1)

    # -- outputs -----------------------------------------------------------

    def test_add_and_remove_output(self):
        f = self.new_flow("outs")
        fid = f["id"]
        r, g = self.post("/v1/flows/%s/outputs" % fid,
                         udp_output("extra", 6004, description="added"))
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertFlowShape(g)
        self.assertEqual([o["name"] for o in g["outputs"]], ["out1", "out2", "extra"])
        self.assertEqual(self.output(g, "extra")["port"], 6004)
        self.assertEqual(self.output(g, "extra")["description"], "added")
        self.assertEqual(self.get_flow(fid)["outputs"], g["outputs"])

        r, data = self.post("/v1/flows/%s/outputs" % fid, udp_output("extra", 6006))
        self.assertError(r, data, 400, ("name", "output.name"), "duplicate output name")

        r, g = self.delete("/v1/flows/%s/outputs/extra" % fid, expect=200)
        self.assertEqual([o["name"] for o in g["outputs"]], ["out1", "out2"])
        self.assertEqual(self.get_flow(fid)["outputs"], g["outputs"])

        r, data = self.delete("/v1/flows/%s/outputs/extra" % fid)
        self.assertError(r, data, 404, ABSENT, "remove removed output")
        r, data = self.delete("/v1/flows/%s/outputs/nosuch" % fid)
        self.assertError(r, data, 404, ABSENT, "remove unknown output")

        # removing every output is fine
        self.delete("/v1/flows/%s/outputs/out1" % fid, expect=200)
        r, g = self.delete("/v1/flows/%s/outputs/out2" % fid, expect=200)
        self.assertEqual(g["outputs"], [])

    def test_add_output_validation(self):
        fid = self.new_flow("out-val")["id"]
        path = "/v1/flows/%s/outputs" % fid

        def accepted(f):
            return (f, "output." + f)

        cases = [
            ("port string", udp_output("x", "6000"), accepted("port")),
            ("port 0", udp_output("x", 0), accepted("port")),
            ("port 65536", udp_output("x", 65536), accepted("port")),
            ("port -1", udp_output("x", -1), accepted("port")),
            ("port missing", {"name": "x", "protocol": "udp", "destination": "127.0.0.1"},
             accepted("port")),
            ("destination missing", {"name": "x", "protocol": "udp", "port": 6000},
             accepted("destination")),
            ("unknown protocol", udp_output("x", 6000, protocol="webrtc"), accepted("protocol")),
            ("name bool", udp_output(True, 6000), accepted("name")),
            ("name missing", {"protocol": "udp", "destination": "127.0.0.1", "port": 6000},
             accepted("name")),
            ("encryption short", _srt_output(name="x", encryption={
                "algorithm": "aes128", "passphrase": "123456789"}),
             accepted("encryption.passphrase")),
            ("encryption long", _srt_output(name="x", encryption={
                "algorithm": "aes128", "passphrase": "1" * 80}),
             accepted("encryption.passphrase")),
            ("encryption algorithm", _srt_output(name="x", encryption={
                "algorithm": "rot13", "passphrase": "0123456789ab"}),
             accepted("encryption.algorithm")),
        ]
        for desc, body, field in cases:
            with self.subTest(desc):
                r, data = self.post(path, body)
                self.assertError(r, data, 400, field, desc)
        for raw in ("{", "[1]", "3", ""):
            with self.subTest(raw=raw):
                r, data = self.post(path, raw=raw, headers={"Content-Type": "application/json"})
                self.assertError(r, data, 400, ABSENT, "add output body %r" % raw)
        self.assertEqual([o["name"] for o in self.get_flow(fid)["outputs"]], ["out1", "out2"])

    def test_output_names_in_paths(self):
        f = self.new_flow("names", outputs=[udp_output("cdn.feed-1_B", 6000)])
        fid = f["id"]
        r, g = self.put("/v1/flows/%s/outputs/cdn.feed-1_B" % fid, {"port": 6001})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(self.output(g, "cdn.feed-1_B")["port"], 6001)
        r, data = self.put("/v1/flows/%s/outputs/cdn.feed-1_b" % fid, {"port": 6002})
        self.assertError(r, data, 404, ABSENT, "names are case-sensitive")
        r, g = self.delete("/v1/flows/%s/outputs/cdn.feed-1_B" % fid, expect=200)
        self.assertEqual(g["outputs"], [])
        r, g = self.post("/v1/flows/%s/source" % fid, udp_source("back.up-2_X", 5002))
        self.assertEqual(r.status, 201, r.body[:600])
        r, g = self.delete("/v1/flows/%s/source/back.up-2_X" % fid, expect=200)
        self.assertEqual([s["name"] for s in g["sources"]], ["primary"])

    def test_fifty_outputs_limit(self):
        outs = [udp_output("o%02d" % i, 20000 + 2 * i) for i in range(50)]
        f = self.create(flow_body("fifty", outputs=outs))
        self.assertEqual(len(f["outputs"]), 50)
        r, data = self.post("/v1/flows/%s/outputs" % f["id"], udp_output("o50", 21000))
        self.assertError(r, data, 400, ANY, "51st output")
        self.assertEqual(len(self.get_flow(f["id"])["outputs"]), 50)
        # after removing one, adding works again
        self.delete("/v1/flows/%s/outputs/o00" % f["id"], expect=200)
        r, g = self.post("/v1/flows/%s/outputs" % f["id"], udp_output("o50", 21000))
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertEqual(len(g["outputs"]), 50)

    def test_put_partial_update(self):
        f = self.new_flow("put")
        fid = f["id"]
        before = self.output(f, "out1")
        r, g = self.put("/v1/flows/%s/outputs/out1" % fid, {"port": 6100})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertFlowShape(g)
        after = self.output(g, "out1")
        self.assertEqual(after["port"], 6100)
        expected = dict(before)
        expected["port"] = 6100
        self.assertEqual(after, expected, "PUT changed more than the port")
        self.assertEqual(self.output(g, "out2"), self.output(f, "out2"))
        self.assertEqual(g["sources"], f["sources"])
        self.assertEqual(g["status"], "STANDBY")
        self.assertEqual(self.get_flow(fid)["outputs"], g["outputs"])

        # description and destination
        r, g = self.put("/v1/flows/%s/outputs/out1" % fid,
                        {"description": "new desc", "destination": "127.0.0.2"})
        self.assertEqual(r.status, 200, r.body[:600])
        o = self.output(g, "out1")
        self.assertEqual((o["description"], o["destination"], o["port"], o["protocol"]),
                         ("new desc", "127.0.0.2", 6100, "udp"))

        # protocol change keeps destination/port
        r, g = self.put("/v1/flows/%s/outputs/out1" % fid, {"protocol": "rtp"})
        self.assertEqual(r.status, 200, r.body[:600])
        o = self.output(g, "out1")
        self.assertEqual((o["protocol"], o["destination"], o["port"]), ("rtp", "127.0.0.2", 6100))

        # empty object: nothing changes
        r, g = self.put("/v1/flows/%s/outputs/out1" % fid, {})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(self.output(g, "out1"), o)

    def test_put_rename(self):
        f = self.new_flow("rename")
        fid = f["id"]
        r, data = self.put("/v1/flows/%s/outputs/out1" % fid, {"name": "out2"})
        self.assertError(r, data, 400, ("name", "output.name"), "rename onto existing name")
        self.assertEqual(self.get_flow(fid)["outputs"], f["outputs"])

        r, g = self.put("/v1/flows/%s/outputs/out1" % fid, {"name": "renamed"})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual([o["name"] for o in g["outputs"]], ["renamed", "out2"])
        self.assertEqual(self.output(g, "renamed")["port"], 6000)
        r, data = self.put("/v1/flows/%s/outputs/out1" % fid, {"port": 7000})
        self.assertError(r, data, 404, ABSENT, "PUT old name after rename")
        # renaming to its own name is not a conflict
        r, g = self.put("/v1/flows/%s/outputs/renamed" % fid, {"name": "renamed", "port": 6001})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(self.output(g, "renamed")["port"], 6001)

    def test_put_validation(self):
        f = self.new_flow("put-val")
        fid = f["id"]
        path = "/v1/flows/%s/outputs/out1" % fid

        def accepted(f):
            return (f, "output." + f)

        cases = [
            ("port string", {"port": "6000"}, accepted("port")),
            ("port 0", {"port": 0}, accepted("port")),
            ("port 65536", {"port": 65536}, accepted("port")),
            ("port -1", {"port": -1}, accepted("port")),
            ("unknown protocol", {"protocol": "ftp"}, accepted("protocol")),
            ("name empty", {"name": ""}, accepted("name")),
            ("name bool", {"name": False}, accepted("name")),
            ("destination number", {"destination": 1}, accepted("destination")),
            ("encryption short", {"protocol": "srt-caller",
                                  "encryption": {"algorithm": "aes128", "passphrase": "x"}},
             accepted("encryption.passphrase")),
            ("encryption bad algorithm", {"protocol": "srt-caller",
                                          "encryption": {"algorithm": "aes1",
                                                         "passphrase": "0123456789ab"}},
             accepted("encryption.algorithm")),
        ]
        for desc, body, field in cases:
            with self.subTest(desc):
                r, data = self.put(path, body)
                self.assertError(r, data, 400, field, desc)
        for raw in ("{", "[]", "null", ""):
            with self.subTest(raw=raw):
                r, data = self.put(path, raw=raw, headers={"Content-Type": "application/json"})
                self.assertError(r, data, 400, ABSENT, "PUT body %r" % raw)
        r, data = self.put("/v1/flows/%s/outputs/nosuch" % fid, {"port": 6000})
        self.assertError(r, data, 404, ABSENT, "PUT unknown output")
        self.assertEqual(self.get_flow(fid)["outputs"], f["outputs"])


# --------------------------------------------------------------------------

class SecretsTest(ApiTestCase):
    """Passphrases and stream keys are accepted but never returned or
    logged."""

    SECRETS = (PASS_SRC, PASS_OUT, PASS_PUT, STREAM_KEY)
    # the controller's debug messages too
    controller_env = {"G_MESSAGES_DEBUG": "all"}

    @classmethod
    def tearDownClass(cls):
        ctl = cls.ctl
        log = None
        if ctl is not None:
            ctl.stop()                  # its whole log, before the base removes it
            log = ctl.read_log()
        super().tearDownClass()
        if log is not None:
            for s in cls.SECRETS:
                if s in log:
                    raise AssertionError("secret %r appears in the controller log" % s)

    def call(self, *a, **kw):
        r, data = super().call(*a, **kw)
        self.assertNoSecret(r.body, "%s %s" % (a[0], a[1]))
        return r, data

    def assertNoSecret(self, text, what):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        for s in self.SECRETS:
            self.assertNotIn(s, text, "secret leaked in %s" % what)
        # also the JSON-escaped forms and fragments of 10+ chars
        for s in self.SECRETS:
            self.assertNotIn(s[:12], text, "secret fragment leaked in %s" % what)

    def assertLogClean(self):
        log = self.ctl.read_log()
        for s in self.SECRETS:
            self.assertNotIn(s, log, "secret %r in the controller log" % s)

    def secret_body(self, sport=5000, oport=9000, mport=6000, rtmp="rtmp://127.0.0.1/live"):
        return {"name": "secret",
                "source": {"name": "primary", "protocol": "srt-listener", "ingest_port": sport,
                           "max_latency": 200,
                           "decryption": {"algorithm": "aes128", "passphrase": PASS_SRC}},
                "outputs": [{"name": "cdn_feed", "protocol": "srt-caller",
                             "destination": "127.0.0.1", "port": oport, "max_latency": 300,
                             "encryption": {"algorithm": "aes256", "passphrase": PASS_OUT}},
                            {"name": "rtmp_out", "protocol": "rtmp",
                             "destination": rtmp, "stream_key": STREAM_KEY},
                            {"name": "monitoring", "protocol": "udp",
                             "destination": "127.0.0.1", "port": mport}]}

    def check_redacted(self, flow, out_algo="aes256"):
        self.assertEqual(flow["source"].get("decryption"), {"algorithm": "aes128"}, flow["source"])
        self.assertEqual(flow["sources"][0].get("decryption"), {"algorithm": "aes128"})
        self.assertEqual(self.output(flow, "cdn_feed").get("encryption"), {"algorithm": out_algo})
        self.assertNotIn("stream_key", self.output(flow, "rtmp_out"))
        self.assertNoSecret(json.dumps(flow), "flow")

    def test_secrets_not_returned(self):
        f = self.create(self.secret_body())
        self.check_redacted(f)
        fid = f["id"]
        self.check_redacted(self.get_flow(fid))
        _, lst = self.get("/v1/flows", expect=200)
        self.assertNoSecret(json.dumps(lst), "list")

        # add an encrypted output
        r, g = self.post("/v1/flows/%s/outputs" % fid,
                         {"name": "enc2", "protocol": "srt-caller", "destination": "127.0.0.1",
                          "port": 9002,
                          "encryption": {"algorithm": "aes192", "passphrase": PASS_PUT}})
        self.assertEqual(r.status, 201, r.body[:300])
        self.assertEqual(self.output(g, "enc2").get("encryption"), {"algorithm": "aes192"})

        # PUT a new passphrase / stream key
        r, g = self.put("/v1/flows/%s/outputs/cdn_feed" % fid,
                        {"encryption": {"algorithm": "aes192", "passphrase": PASS_PUT}})
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(self.output(g, "cdn_feed").get("encryption"), {"algorithm": "aes192"})
        r, g = self.put("/v1/flows/%s/outputs/rtmp_out" % fid,
                        {"stream_key": STREAM_KEY[::-1] + STREAM_KEY})
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertNotIn("stream_key", self.output(g, "rtmp_out"))
        # a PUT not touching the secret keeps it redacted
        r, g = self.put("/v1/flows/%s/outputs/cdn_feed" % fid, {"port": 9004})
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(self.output(g, "cdn_feed").get("encryption"), {"algorithm": "aes192"})

        # add an encrypted source
        r, g = self.post("/v1/flows/%s/source" % fid,
                         {"name": "backup", "protocol": "srt-listener", "ingest_port": 5002,
                          "decryption": {"algorithm": "aes256", "passphrase": PASS_SRC}})
        self.assertEqual(r.status, 201, r.body[:300])
        self.assertEqual(g["sources"][1].get("decryption"), {"algorithm": "aes256"})
        self.check_redacted(self.get_flow(fid), out_algo="aes192")
        self.get("/v1/flows/%s/metrics" % fid, expect=200)
        self.get("/v1/flows/%s/events" % fid, expect=200)
        self.get("/v1/events", expect=200)
        self.delete("/v1/flows/%s/outputs/enc2" % fid, expect=200)
        self.delete("/v1/flows/%s/source/backup" % fid, expect=200)
        self.assertLogClean()

    def test_secrets_not_echoed_in_errors(self):
        """A rejected request does not echo the secret either."""
        body = self.secret_body()
        body["outputs"][0]["encryption"]["passphrase"] = PASS_OUT * 5   # > 79
        r, data = self.post("/v1/flows", body)
        self.assertError(r, data, 400, "outputs[0].encryption.passphrase")
        body = self.secret_body()
        body["source"]["decryption"]["algorithm"] = "aes1024"
        r, data = self.post("/v1/flows", body)
        self.assertError(r, data, 400, "source.decryption.algorithm")
        body = self.secret_body()
        body["outputs"][1]["port"] = "1935"
        r, data = self.post("/v1/flows", body)
        self.assertError(r, data, 400, "outputs[1].port")
        # an unknown field is taken with a warning: nor do its answer and
        # warnings echo the secrets
        body = self.secret_body()
        body["outputs"][1]["bogus"] = 1
        r, data = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:300])
        self.assertEqual(data["warnings"], ["unknown field 'outputs[1].bogus' ignored"])
        self.check_redacted(data)
        self.delete("/v1/flows/%s" % data["id"], expect=204)
        self.assertLogClean()

    def test_secrets_survive_start_stop(self):
        """Starting and stopping an encrypted flow (pipeline construction,
        errors, events) does not log or return the secrets."""
        sport = free_port(socket.SOCK_DGRAM)
        oport = free_port(socket.SOCK_DGRAM)
        f = self.create(self.secret_body(sport, oport, free_port(socket.SOCK_DGRAM),
                                         "rtmp://127.0.0.1:%d/live" % free_port(socket.SOCK_STREAM)))
        fid = f["id"]
        r, g = self.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, r.body[:300])
        self.check_redacted(g)
        self.wait_status(fid, ("ACTIVE", "ERROR"), timeout=10)
        time.sleep(0.5)
        self.get("/v1/flows/%s/metrics" % fid, expect=200)
        r, g = self.post("/v1/flows/%s/stop" % fid)
        self.assertEqual(r.status, 200, r.body[:300])
        self.wait_status(fid, ("STANDBY",), timeout=10)
        self.check_redacted(self.get_flow(fid))
        self.get("/v1/flows/%s/events?limit=10000" % fid, expect=200)
        self.get("/v1/events?limit=10000", expect=200)
        self.delete("/v1/flows/%s" % fid, expect=204)
        self.assertLogClean()


# --------------------------------------------------------------------------

class LifecycleTest(ApiTestCase):

    def udp_flow(self, name="live", outputs=1):
        sport = free_port()
        oports = [free_port() for _ in range(outputs)]
        f = self.create(flow_body(name, source=udp_source(port=sport),
                                  outputs=[udp_output("out%d" % i, p)
                                           for i, p in enumerate(oports)]))
        return f, sport, oports

    def test_start_stop_cycle(self):
        f, sport, _ = self.udp_flow()
        fid = f["id"]
        g = self.start_flow(fid)
        self.assertEqual(g["status"], "ACTIVE")
        self.assertEqual(self.get_flow(fid)["status"], "ACTIVE")

        r, data = self.post("/v1/flows/%s/start" % fid)
        self.assertError(r, data, 409, ABSENT, "start a running flow")
        self.assertEqual(self.get_flow(fid)["status"], "ACTIVE")

        g = self.stop_flow(fid)
        self.assertEqual(g["status"], "STANDBY")
        r, g = self.post("/v1/flows/%s/stop" % fid, expect=200)
        self.assertEqual(g["status"], "STANDBY", "second stop")
        self.assertEqual(g["id"], fid)
        self.assertEqual(self.get_flow(fid)["status"], "STANDBY")

        # stop on a flow that never ran
        f2 = self.create(flow_body("never"))
        r, g = self.post("/v1/flows/%s/stop" % f2["id"], expect=200)
        self.assertEqual(g["status"], "STANDBY")

        # can be started again after a stop
        self.start_flow(fid)
        self.stop_flow(fid)

    def test_events_after_start_stop(self):
        f, _, _ = self.udp_flow("ev")
        fid = f["id"]
        self.start_flow(fid)
        time.sleep(0.05)
        self.stop_flow(fid)

        evs = self.events("/v1/flows/%s/events" % fid)
        for e in evs:
            self.assertEventShape(e)
            self.assertEqual(e["flow_id"], fid)
        self.assertNewestFirst(evs)
        types = [e["type"] for e in evs]
        self.assertIn("flow_started", types)
        self.assertIn("flow_stopped", types)
        self.assertLess(types.index("flow_stopped"), types.index("flow_started"),
                        "flow_stopped (newest) should come before flow_started: %r" % types)
        started = [e for e in evs if e["type"] == "flow_started"][0]
        self.assertEqual(started["severity"], "info")
        ids = [e["id"] for e in evs]
        self.assertEqual(len(set(ids)), len(ids), "duplicate event ids")

        one = self.events("/v1/flows/%s/events?limit=1" % fid)
        self.assertEqual(len(one), 1)
        self.assertEqual(one[0], evs[0])
        two = self.events("/v1/flows/%s/events?limit=2" % fid)
        self.assertEqual(two, evs[:2])
        self.assertEqual(self.events("/v1/flows/%s/events?limit=10000" % fid), evs)

        # a second cycle: newest first still
        self.start_flow(fid)
        time.sleep(0.05)
        self.stop_flow(fid)
        evs2 = self.events("/v1/flows/%s/events" % fid)
        t2 = [e["type"] for e in evs2 if e["type"] in ("flow_started", "flow_stopped")]
        self.assertEqual(t2, ["flow_stopped", "flow_started", "flow_stopped", "flow_started"])
        self.assertNewestFirst(evs2)

        # the default limit is 100
        self.assertLessEqual(len(evs2), 100)

    def test_events_of_other_flows_not_mixed(self):
        a, _, _ = self.udp_flow("mix-a")
        b = self.create(flow_body("mix-b"))
        self.start_flow(a["id"])
        self.stop_flow(a["id"])
        self.assertEqual(self.events("/v1/flows/%s/events" % b["id"]), [])
        for e in self.events("/v1/flows/%s/events" % a["id"]):
            self.assertEqual(e["flow_id"], a["id"])

    def test_global_events_ordering(self):
        a, _, _ = self.udp_flow("glob-a")
        b, _, _ = self.udp_flow("glob-b")
        self.start_flow(a["id"])
        time.sleep(0.02)
        self.start_flow(b["id"])
        time.sleep(0.02)
        self.stop_flow(b["id"])
        time.sleep(0.02)
        self.stop_flow(a["id"])

        evs = self.events("/v1/events?limit=10000")
        for e in evs:
            self.assertEventShape(e)
        self.assertNewestFirst(evs)
        mine = [(e["flow_id"], e["type"]) for e in evs
                if e["flow_id"] in (a["id"], b["id"])
                and e["type"] in ("flow_started", "flow_stopped")]
        self.assertEqual(mine, [(a["id"], "flow_stopped"), (b["id"], "flow_stopped"),
                                (b["id"], "flow_started"), (a["id"], "flow_started")])
        one = self.events("/v1/events?limit=1")
        self.assertEqual(one, evs[:1])
        self.assertLessEqual(len(self.events("/v1/events")), 100)

    def test_event_limit_validation(self):
        f = self.create(flow_body("limits"))
        for path in ("/v1/flows/%s/events" % f["id"], "/v1/events"):
            for bad in ("0", "00", "abc", "-1", "%2B5", "5x", "1.5", "1e3", ""):
                with self.subTest(path=path, limit=bad):
                    r, data = self.get("%s?limit=%s" % (path, bad))
                    self.assertError(r, data, 400, ("limit", None), "limit=%r" % bad)
            # above the seed's "Maximum limit: 10,000" counts as 10,000
            for good in ("1", "100", "10000", "10001", "99999999999999999999"):
                with self.subTest(path=path, limit=good):
                    self.events("%s?limit=%s" % (path, good))

    def test_metrics_stopped(self):
        f = self.create({"name": "m-stopped",
                         "sources": [udp_source("a", 5000), udp_source("b", 5002)],
                         "outputs": [udp_output("o1", 6000), udp_output("o2", 6002)]})
        r, m = self.get("/v1/flows/%s/metrics" % f["id"], expect=200)
        self.assertMetricsShape(m)
        self.assertEqual(m["flow_id"], f["id"])
        self.assertEqual(m["status"], "STANDBY")
        self.assertEqual(m["uptime_seconds"], 0)
        self.assertEqual([s["name"] for s in m["source_metrics"]], ["a", "b"])
        for s in m["source_metrics"]:
            self.assertIs(s["connected"], False, s)
            self.assertEqual(s["packets_received"], 0, s)
            self.assertEqual(s["bitrate_kbps"], 0, s)
        self.assertEqual([o["name"] for o in m["output_metrics"]], ["o1", "o2"])
        for o in m["output_metrics"]:
            self.assertEqual(o["packets_sent"], 0, o)
            self.assertEqual(o["bitrate_kbps"], 0, o)

    BRIEF_TOP = ("flow_id", "status", "uptime_seconds", "source_metrics", "output_metrics",
                 "timestamp")
    BRIEF_SRC = ("name", "connected", "packets_received", "packets_lost", "bitrate_kbps")
    BRIEF_OUT = ("name", "packets_sent", "bitrate_kbps", "disconnections")

    def assertMetricsShape(self, m):
        self.assertIsInstance(m, dict)
        for k in self.BRIEF_TOP:
            self.assertIn(k, m, "metrics lack %r: %r" % (k, m))
        self.assertIsInstance(m["uptime_seconds"], int)
        self.assertGreaterEqual(m["uptime_seconds"], 0)
        parse_ts(m["timestamp"])
        self.assertIsInstance(m["source_metrics"], list)
        self.assertIsInstance(m["output_metrics"], list)
        for s in m["source_metrics"]:
            for k in self.BRIEF_SRC:
                self.assertIn(k, s, "source metrics lack %r: %r" % (k, s))
            self.assertIsInstance(s["connected"], bool)
            for k in ("packets_received", "packets_lost"):
                self.assertIsInstance(s[k], int, s)
                self.assertGreaterEqual(s[k], 0, s)
            self.assertIsInstance(s["bitrate_kbps"], (int, float), s)
        for o in m["output_metrics"]:
            for k in self.BRIEF_OUT:
                self.assertIn(k, o, "output metrics lack %r: %r" % (k, o))
            for k in ("packets_sent", "disconnections"):
                self.assertIsInstance(o[k], int, o)
                self.assertGreaterEqual(o[k], 0, o)
            self.assertIsInstance(o["bitrate_kbps"], (int, float), o)

    def test_metrics_full_field_set(self):
        """All the members shown in the Metrics section of docs/api.md."""
        f = self.create(flow_body("m-fields"))
        _, m = self.get("/v1/flows/%s/metrics" % f["id"], expect=200)
        for k in ("flow_id", "active_source", "status", "uptime_seconds", "failover_count",
                  "merge_active", "source_metrics", "output_metrics", "timestamp"):
            self.assertIn(k, m, "metrics lack %r" % k)
        for k in ("name", "protocol", "status", "connected", "bitrate_kbps", "bytes_received",
                  "packets_received", "packets_lost", "packets_recovered",
                  "round_trip_time_ms", "jitter_ms", "source_selected"):
            self.assertIn(k, m["source_metrics"][0], "source metrics lack %r" % k)
        for k in ("name", "protocol", "status", "connected", "bitrate_kbps", "bytes_sent",
                  "packets_sent", "disconnections"):
            self.assertIn(k, m["output_metrics"][0], "output metrics lack %r" % k)

    def test_metrics_running(self):
        f, sport, oports = self.udp_flow("m-running")
        fid = f["id"]
        drain = Receiver(oports[0], hard=30.0).start()
        self.start_flow(fid)
        sender = UdpSender(sport)
        sender.start()
        last = None
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                _, m = self.get("/v1/flows/%s/metrics" % fid, expect=200)
                last = m
                self.assertMetricsShape(m)
                s = m["source_metrics"][0]
                o = m["output_metrics"][0]
                if (s["packets_received"] > 0 and s["connected"] and s["bitrate_kbps"] > 0
                        and o["packets_sent"] > 0 and o["bitrate_kbps"] > 0
                        and m["uptime_seconds"] >= 1):
                    break
                time.sleep(0.2)
            else:
                self.fail("metrics never showed traffic (sent %d datagrams, output got %d): %r"
                          % (sender.sent, drain.count(), last))
            m = last
            self.assertEqual(m["flow_id"], fid)
            self.assertEqual(m["status"], "ACTIVE")
            self.assertEqual(m["source_metrics"][0]["name"], "primary")
            self.assertEqual(m["output_metrics"][0]["name"], "out0")
            self.assertEqual(m["source_metrics"][0]["packets_lost"], 0,
                             "continuity counters were all in order: %r" % m)
            self.assertEqual(m["output_metrics"][0]["disconnections"], 0)
            self.assertGreater(drain.count(), 0, "the output receiver got nothing")
        finally:
            sender.stop()
            drain.stop()
        self.stop_flow(fid)
        _, m = self.get("/v1/flows/%s/metrics" % fid, expect=200)
        self.assertMetricsShape(m)
        self.assertEqual(m["status"], "STANDBY")
        self.assertEqual(m["uptime_seconds"], 0)
        self.assertIs(m["source_metrics"][0]["connected"], False)

    def test_delete_running_flow(self):
        f, sport, _ = self.udp_flow("del-running")
        fid = f["id"]
        self.start_flow(fid)
        self.stop_flow(fid)
        self.start_flow(fid)
        self.assertTrue(self.events("/v1/flows/%s/events" % fid))
        self.assertIn(fid, [e["flow_id"] for e in self.events("/v1/events?limit=10000")])

        _, h0 = self.get("/health", expect=200)
        r, _ = self.delete("/v1/flows/%s" % fid)
        self.assertEqual(r.status, 204)
        _, h1 = self.get("/health", expect=200)
        self.assertEqual((h1["total_flows"], h1["active_flows"]),
                         (h0["total_flows"] - 1, h0["active_flows"] - 1), (h0, h1))
        r, data = self.get("/v1/flows/%s" % fid)
        self.assertError(r, data, 404, ABSENT, "GET after delete")
        r, data = self.get("/v1/flows/%s/events" % fid)
        self.assertError(r, data, 404, ABSENT, "events after delete")
        time.sleep(0.2)
        self.assertNotIn(fid, [e["flow_id"] for e in self.events("/v1/events?limit=10000")],
                         "events of the deleted flow are still listed")
        _, lst = self.get("/v1/flows", expect=200)
        self.assertNotIn(fid, [x["id"] for x in lst["flows"]])

        # the pipeline was stopped: the ingest port is free again
        deadline = time.monotonic() + 5
        while True:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("0.0.0.0", sport))
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.fail("ingest port %d still bound after DELETE" % sport)
                time.sleep(0.1)
            finally:
                s.close()

    def test_error_state_and_restart(self):
        """A source port already in use: the start answers 409 with the
        reason and the flow is in ERROR; an ERROR flow can be stopped and
        started again."""
        f, sport, _ = self.udp_flow("err")
        fid = f["id"]
        blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        blocker.bind(("0.0.0.0", sport))
        try:
            r, g = self.post("/v1/flows/%s/start" % fid)
            self.assertEqual(r.status, 409, r.body[:600])
            self.assertIn("Address already in use", g["error"])
            self.wait_status(fid, "ERROR", timeout=10)
            r, g = self.post("/v1/flows/%s/stop" % fid, expect=200)
            self.assertIn(g["status"], ("STOPPING", "STANDBY"))
            self.wait_status(fid, "STANDBY")
            r, g = self.post("/v1/flows/%s/start" % fid)
            self.assertEqual(r.status, 409, r.body[:600])
            self.wait_status(fid, "ERROR", timeout=10)
        finally:
            blocker.close()
        # from ERROR, start directly
        r, g = self.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, "start from ERROR: %r" % r.body[:600])
        self.wait_status(fid, "ACTIVE")
        self.stop_flow(fid)

    def test_change_sources_while_running(self):
        f, sport, oports = self.udp_flow("live-src")
        fid = f["id"]
        self.start_flow(fid)
        try:
            bport = free_port()
            r, g = self.post("/v1/flows/%s/source" % fid, udp_source("backup", bport))
            self.assertEqual(r.status, 201, r.body[:600])
            self.assertEqual([s["name"] for s in g["sources"]], ["primary", "backup"])
            g = self.wait_status(fid, "ACTIVE")
            _, m = self.get("/v1/flows/%s/metrics" % fid, expect=200)
            self.assertEqual([s["name"] for s in m["source_metrics"]], ["primary", "backup"])
            r, g = self.delete("/v1/flows/%s/source/backup" % fid, expect=200)
            self.assertEqual([s["name"] for s in g["sources"]], ["primary"])
            self.wait_status(fid, "ACTIVE")
            _, m = self.get("/v1/flows/%s/metrics" % fid, expect=200)
            self.assertEqual([s["name"] for s in m["source_metrics"]], ["primary"])
        finally:
            self.stop_flow(fid)

    def test_change_outputs_while_running(self):
        f, sport, oports = self.udp_flow("live-edit", outputs=1)
        fid = f["id"]
        self.start_flow(fid)
        try:
            p = free_port()
            r, g = self.post("/v1/flows/%s/outputs" % fid, udp_output("added", p))
            self.assertEqual(r.status, 201, r.body[:600])
            self.assertEqual(g["status"], "ACTIVE")
            r, g = self.put("/v1/flows/%s/outputs/added" % fid, {"port": free_port()})
            self.assertEqual(r.status, 200, r.body[:600])
            r, g = self.delete("/v1/flows/%s/outputs/added" % fid, expect=200)
            self.assertEqual(self.get_flow(fid)["status"], "ACTIVE")
            _, m = self.get("/v1/flows/%s/metrics" % fid, expect=200)
            self.assertEqual([o["name"] for o in m["output_metrics"]], ["out0"])
        finally:
            self.stop_flow(fid)


# --------------------------------------------------------------------------

class RoutingTest(ApiTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.ctl.post("/v1/flows", flow_body("routing"))
        if r.status != 201:
            cls.tearDownClass()
            raise AssertionError("cannot create the routing flow: %d %r" % (r.status, r.body))
        cls.fid = r.json()["id"]

    def test_unknown_paths(self):
        fid = self.fid
        # ("GET", "/" is the dashboard: tests/browser/test_dashboard.py)
        for method, path in [("GET", "/web/nope.js"), ("GET", "/v1"), ("GET", "/v1/"), ("GET", "/v1/nope"),
                             ("GET", "/v2/flows"), ("GET", "/healthz"), ("GET", "/health/x"),
                             ("GET", "/v1/flows/%s/nope" % fid),
                             ("POST", "/v1/flows/%s/nope" % fid),
                             ("GET", "/v1/flows/%s/outputs/out1/extra" % fid),
                             ("GET", "/v1/flows/%s/metrics/x" % fid),
                             ("DELETE", "/v1/flows/%s/source/primary/x" % fid),
                             ("GET", "/v1/events/x"), ("GET", "/flows")]:
            with self.subTest(method=method, path=path):
                r, data = self.call(method, path)
                self.assertError(r, data, 404, ABSENT, "%s %s" % (method, path))

    def test_wrong_methods(self):
        fid = self.fid
        for method, path in [("POST", "/health"), ("DELETE", "/health"),
                             ("PUT", "/v1/flows"), ("DELETE", "/v1/flows"),
                             ("PATCH", "/v1/flows"),
                             ("POST", "/v1/flows/%s" % fid),
                             ("PATCH", "/v1/flows/%s" % fid),
                             ("GET", "/v1/flows/%s/start" % fid),
                             ("DELETE", "/v1/flows/%s/start" % fid),
                             ("GET", "/v1/flows/%s/stop" % fid),
                             ("GET", "/v1/flows/%s/source" % fid),
                             ("PUT", "/v1/flows/%s/source/primary" % fid),
                             ("POST", "/v1/flows/%s/sources/primary" % fid),
                             ("DELETE", "/v1/flows/%s/sources/primary" % fid),
                             ("GET", "/v1/flows/%s/outputs" % fid),
                             ("DELETE", "/v1/flows/%s/outputs" % fid),
                             ("POST", "/v1/flows/%s/outputs/out1" % fid),
                             ("POST", "/v1/flows/%s/metrics" % fid),
                             ("DELETE", "/v1/flows/%s/events" % fid),
                             ("POST", "/v1/events"), ("DELETE", "/v1/events")]:
            with self.subTest(method=method, path=path):
                r, data = self.call(method, path)
                self.assertError(r, data, 405, ABSENT, "%s %s" % (method, path))
        # the flow is untouched
        g = self.get_flow(fid)
        self.assertEqual(g["status"], "STANDBY")
        self.assertEqual([o["name"] for o in g["outputs"]], ["out1"])

    def test_unknown_flow_everywhere(self):
        for fid in ("flow_000000000000", "nope"):
            for method, path, body in [
                    ("GET", "/v1/flows/%s", None),
                    ("DELETE", "/v1/flows/%s", None),
                    ("PUT", "/v1/flows/%s", {"name": "renamed"}),
                    ("POST", "/v1/flows/%s/start", None),
                    ("POST", "/v1/flows/%s/stop", None),
                    ("POST", "/v1/flows/%s/source", udp_source("b", 5002)),
                    ("DELETE", "/v1/flows/%s/source/primary", None),
                    ("GET", "/v1/flows/%s/source/primary", None),
                    ("GET", "/v1/flows/%s/sources/primary", None),
                    ("POST", "/v1/flows/%s/outputs", udp_output("x", 6000)),
                    ("GET", "/v1/flows/%s/outputs/out1", None),
                    ("PUT", "/v1/flows/%s/outputs/out1", {"port": 6001}),
                    ("DELETE", "/v1/flows/%s/outputs/out1", None),
                    ("GET", "/v1/flows/%s/metrics", None),
                    ("GET", "/v1/flows/%s/events", None),
                    ("GET", "/v1/flows/%s/events?limit=5", None)]:
                p = path % fid
                with self.subTest(method=method, path=p):
                    r, data = self.call(method, p, body=body)
                    self.assertError(r, data, 404, ABSENT, "%s %s" % (method, p))

    def test_unknown_names_404(self):
        fid = self.fid
        for method, path, body in [
                ("DELETE", "/v1/flows/%s/source/ghost", None),
                ("GET", "/v1/flows/%s/source/ghost", None),
                ("GET", "/v1/flows/%s/sources/ghost", None),
                ("GET", "/v1/flows/%s/outputs/ghost", None),
                ("PUT", "/v1/flows/%s/outputs/ghost", {"port": 6001}),
                ("DELETE", "/v1/flows/%s/outputs/ghost", None)]:
            p = path % fid
            with self.subTest(method=method, path=p):
                r, data = self.call(method, p, body=body)
                self.assertError(r, data, 404, ABSENT, "%s %s" % (method, p))

    def test_content_type_json(self):
        fid = self.fid
        for method, path, body in [("GET", "/health", None), ("GET", "/v1/flows", None),
                                   ("GET", "/v1/flows/%s" % fid, None),
                                   ("POST", "/v1/flows", {"name": 1}),
                                   ("GET", "/v1/nope", None), ("PUT", "/v1/flows", None),
                                   ("GET", "/v1/flows/%s/metrics" % fid, None),
                                   ("GET", "/v1/events", None)]:
            with self.subTest(method=method, path=path):
                r, _ = self.call(method, path, body=body)
                ct = (r.headers.get("Content-Type") or "").lower()
                self.assertTrue(ct.startswith("application/json"),
                                "%s %s: Content-Type %r" % (method, path, ct))

    def test_cache_control_on_204(self):
        f = self.create(flow_body("to-delete"))
        r, _ = self.delete("/v1/flows/%s" % f["id"])   # call() checks no-store
        self.assertEqual(r.status, 204)

    def test_many_requests_keep_working(self):
        """A burst of mixed good and bad requests; the server keeps serving."""
        for i in range(40):
            self.post("/v1/flows", raw="{bad", headers={"Content-Type": "application/json"})
            self.get("/v1/flows/%s" % self.fid, expect=200)
        self.get("/health", expect=200)


if __name__ == "__main__":
    unittest.main()
