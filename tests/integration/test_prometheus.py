#!/usr/bin/env python3
"""GET /metrics: the Prometheus text exposition format 0.0.4.

A real controller runs three flows: "live", a UDP source fed with MPEG-TS
datagrams by this test and a UDP output to a socket of this test; "merge",
MERGE of two RTP sources fed with the same RTP packets (leg b missing every
50th) into a UDP output; and "idle", which ran once and was stopped.
Every scrape is parsed whole by a strict parser of the format (below),
then its numbers are checked against GET /v1/flows/{id}/metrics and
against what the test sent and received.  promtool, when installed, lints
the exposition too.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \
      python3 tests/integration/test_prometheus.py -v

Standard library only.  All traffic stays on 127.0.0.1 and every wait is
bounded.
"""

import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_testcase import MrouteTestCase, Receiver, wait_for  # noqa: E402

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TS_PER_DATAGRAM = 7
DATAGRAM_BYTES = TS_PER_DATAGRAM * 188          # 1316
SEND_COUNT = 750
SEND_RATE = 250                                 # datagrams per second: 3 s
STATES = ("STANDBY", "STARTING", "ACTIVE", "STOPPING", "ERROR")

# flow names that need every escape of a label value
LIVE_NAME = 'studio "A" \\ feed\nline 2 \u00e9'
IDLE_NAME = 'standby \\'
MERGE_NAME = "merge"
B_DROPS_EVERY = 50


# --------------------------------------------------------------------------
# a strict parser of the text exposition format 0.0.4

class ExpositionError(AssertionError):
    pass


METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
BLANKS = re.compile(r"[ \t]+")
FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
LABEL_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
HELP_ESCAPES = {"\\": "\\", "n": "\n"}


def parse_float(s, where):
    if s == "NaN":
        return math.nan
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if not FLOAT.match(s):
        raise ExpositionError("%s: %r is not a float" % (where, s))
    return float(s)


def unescape(text, escapes, where):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in escapes:
                raise ExpositionError("%s: bad escape in %r" % (where, text))
            out.append(escapes[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Exposition:
    """The parsed scrape.  `series` maps (name, frozenset of label pairs) to
    the value; `families` maps a family name to its type, help and samples,
    in the order they came."""

    def __init__(self, text):
        self.text = text
        self.families = {}
        self.series = {}
        self._parse()

    def _family(self, name):
        return self.families.setdefault(name, {"type": None, "help": None, "samples": []})

    def _parse(self):
        if not self.text.endswith("\n"):
            raise ExpositionError("the exposition does not end with a line feed")
        current = None
        for n, line in enumerate(self.text[:-1].split("\n"), 1):
            where = "line %d %r" % (n, line[:200])
            if not line.strip():
                raise ExpositionError("%s: empty line" % where)
            if line.startswith("#"):
                declared = self._comment(line, where)
                if declared is not None:
                    current = declared
                continue
            name, labels, value = self._sample(line, where)
            fam = self._family_of(name, where)
            if fam is not current:
                if fam["samples"]:
                    raise ExpositionError("%s: the samples of %s are not grouped together"
                                          % (where, name))
                current = fam
            key = (name, frozenset(labels.items()))
            if key in self.series:
                raise ExpositionError("%s: duplicate series" % where)
            self.series[key] = value
            fam["samples"].append((name, labels, value))

    def _comment(self, line, where):
        """HELP and TYPE; returns the family they declare, None for other
        comments (which the format allows and ignores)."""
        m = re.match(r"#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?\Z", line)
        if not m:
            return None
        kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
        if not METRIC_NAME.fullmatch(name):
            raise ExpositionError("%s: bad metric name %r" % (where, name))
        fam = self._family(name)
        if fam["samples"]:
            raise ExpositionError("%s: %s after the samples of %s" % (where, kind, name))
        if kind == "HELP":
            if fam["help"] is not None:
                raise ExpositionError("%s: second HELP for %s" % (where, name))
            fam["help"] = unescape(rest, HELP_ESCAPES, where)
        else:
            if fam["type"] is not None:
                raise ExpositionError("%s: second TYPE for %s" % (where, name))
            if rest not in TYPES:
                raise ExpositionError("%s: unknown type %r" % (where, rest))
            fam["type"] = rest
        return fam

    def _sample(self, line, where):
        m = METRIC_NAME.match(line)
        if not m:
            raise ExpositionError("%s: no metric name" % where)
        name, pos = m.group(0), m.end()
        labels = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = self._labels(line, pos + 1, where)
        m = BLANKS.match(line, pos)
        if not m:
            raise ExpositionError("%s: no blank before the value" % where)
        fields = BLANKS.split(line[m.end():].rstrip(" \t"))
        if len(fields) not in (1, 2):
            raise ExpositionError("%s: expected a value and an optional timestamp" % where)
        value = parse_float(fields[0], where)
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise ExpositionError("%s: bad timestamp" % where)
        return name, labels, value

    def _labels(self, line, pos, where):
        labels = {}
        while True:
            if pos >= len(line):
                raise ExpositionError("%s: unterminated label set" % where)
            if line[pos] == "}":
                return labels, pos + 1
            m = LABEL_NAME.match(line, pos)
            if not m:
                raise ExpositionError("%s: bad label name at %d" % (where, pos))
            lname, pos = m.group(0), m.end()
            if lname.startswith("__"):
                raise ExpositionError("%s: reserved label name %s" % (where, lname))
            if lname in labels:
                raise ExpositionError("%s: label %s twice" % (where, lname))
            if not line.startswith('="', pos):
                raise ExpositionError('%s: expected =" after %s' % (where, lname))
            pos += 2
            start = pos
            while pos < len(line) and line[pos] != '"':
                pos += 2 if line[pos] == "\\" else 1
            if pos >= len(line):
                raise ExpositionError("%s: unterminated value of %s" % (where, lname))
            labels[lname] = unescape(line[start:pos], LABEL_ESCAPES, where)
            pos += 1
            if pos < len(line) and line[pos] == ",":
                pos += 1
            elif pos >= len(line) or line[pos] != "}":
                raise ExpositionError("%s: expected , or } after %s" % (where, lname))

    def _family_of(self, name, where):
        fam = self.families.get(name)
        if fam is None or fam["type"] is None:
            for base in self.families:
                t = self.families[base]["type"]
                if t in SUFFIXES and any(name == base + s for s in SUFFIXES[t]):
                    return self.families[base]
            raise ExpositionError("%s: sample of %s before (or without) its TYPE"
                                  % (where, name))
        return fam

    # -- look-ups ----------------------------------------------------------

    def get(self, name, **labels):
        key = (name, frozenset(labels.items()))
        if key not in self.series:
            raise AssertionError("no series %s%r; %s has: %r" % (
                name, labels, name, [dict(k[1]) for k in self.series if k[0] == name]))
        return self.series[key]

    def matching(self, name=None, **labels):
        """{(name, labels frozenset): value} of the series with these labels."""
        want = set(labels.items())
        return {k: v for k, v in self.series.items()
                if (name is None or k[0] == name) and want <= k[1]}

    def type_of(self, name):
        return self.families[name]["type"]


# --------------------------------------------------------------------------
# traffic

def ts_datagram(cc):
    """7 MPEG-TS packets on PID 0x100 with continuity counters from cc."""
    out = bytearray()
    for i in range(TS_PER_DATAGRAM):
        c = (cc + i) & 0x0F
        out += struct.pack(">BHB", 0x47, 0x100, 0x10 | c) + bytes([c]) * 184
    return bytes(out), (cc + TS_PER_DATAGRAM) & 0x0F


class Sender(threading.Thread):
    """Sends `count` datagrams to 127.0.0.1:port at `rate` per second, on a
    schedule so that the average rate holds on a busy machine.  With
    `port_b`, sends RTP packets (MPEG-TS payload) to both ports, leaving
    every B_DROPS_EVERY-th out on port_b."""

    def __init__(self, port, count, rate, port_b=None):
        super().__init__(daemon=True)
        self.port, self.count, self.rate, self.port_b = port, count, rate, port_b
        self.sent = 0
        self.dropped_b = 0
        self.halt = threading.Event()

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cc = 0
        t0 = time.monotonic()
        try:
            while self.sent < self.count and not self.halt.is_set():
                data, cc = ts_datagram(cc)
                if self.port_b is None:
                    s.sendto(data, ("127.0.0.1", self.port))
                else:
                    seq = (1000 + self.sent) & 0xFFFF
                    rtp = struct.pack(">BBHII", 0x80, 33, seq, (self.sent * 360) & 0xFFFFFFFF,
                                      0x6D726F75) + data
                    s.sendto(rtp, ("127.0.0.1", self.port))
                    if self.sent % B_DROPS_EVERY == B_DROPS_EVERY - 1:
                        self.dropped_b += 1
                    else:
                        s.sendto(rtp, ("127.0.0.1", self.port_b))
                self.sent += 1
                delay = t0 + self.sent / self.rate - time.monotonic()
                if delay > 0:
                    self.halt.wait(delay)
        finally:
            s.close()


# --------------------------------------------------------------------------
# what the JSON API says, as the series /metrics should have

# jitter_ms is rounded to whole ms in the JSON, the series is not
JITTER_TOLERANCE = 0.0005 + 1e-9

def expected_series(flow, metrics):
    """{(name, labels frozenset): value} for one flow, from its JSON."""
    base = {"flow_id": flow["id"], "flow_name": flow["name"]}
    out = {}

    def put(name, value, **extra):
        labels = dict(base, **extra)
        out[(name, frozenset(labels.items()))] = float(value)

    status = metrics["status"]
    for st in STATES:
        put("mroute_flow_state", st == status, state=st)
    if status not in ("ACTIVE", "STARTING"):
        put("mroute_flow_uptime_seconds", 0)
        return out
    put("mroute_flow_uptime_seconds", metrics["uptime_seconds"])
    put("mroute_flow_failovers_total", metrics["failover_count"])
    put("mroute_flow_merge_active", metrics["merge_active"])
    for s in metrics["source_metrics"]:
        n = s["name"]
        put("mroute_source_received_bytes_total", s["bytes_received"], source=n)
        put("mroute_source_received_packets_total", s["packets_received"], source=n)
        put("mroute_source_lost_packets_total", s["packets_lost"], source=n)
        put("mroute_source_recovered_packets_total", s["packets_recovered"], source=n)
        put("mroute_source_receive_rate_bytes_per_second", s["bitrate_kbps"] * 125, source=n)
        rtt_ms = s["srt"]["rtt_ms"] if "srt" in s else s["round_trip_time_ms"]
        put("mroute_source_rtt_seconds", rtt_ms / 1000, source=n)
        # the JSON's jitter_ms is whole ms (JITTER_TOLERANCE)
        put("mroute_source_jitter_seconds", s["jitter_ms"] / 1000, source=n)
        put("mroute_source_selected", s["source_selected"], source=n)
        put("mroute_source_connected", s["connected"], source=n)
        for kind, alarm in s["content_alarms"].items():
            put("mroute_source_content_alarm", alarm["active"], source=n, kind=kind)
            put("mroute_source_content_stretches_total", alarm["stretches"], source=n,
                kind=kind)
    for o in metrics["output_metrics"]:
        n = o["name"]
        put("mroute_output_sent_bytes_total", o["bytes_sent"], output=n)
        put("mroute_output_sent_packets_total", o["packets_sent"], output=n)
        put("mroute_output_disconnections_total", o["disconnections"], output=n)
        put("mroute_output_send_rate_bytes_per_second", o["bitrate_kbps"] * 125, output=n)
        put("mroute_output_connected", o["connected"], output=n)
        if "rtsp" in o:
            put("mroute_output_rtsp_viewers", o["rtsp"]["viewers"], output=n)
    m = metrics.get("merge_stats")
    if m:
        put("mroute_merge_output_packets_total", m["output_packets"])
        put("mroute_merge_missing_packets_total", m["missing_packets"])
        put("mroute_merge_restarts_total", m["restarts"])
        put("mroute_merge_active_legs", m["active_legs"])
        put("mroute_merge_skew_seconds", m["skew_ms"] / 1000)
        put("mroute_merge_recovery_window_seconds", m["recovery_window_ms"] / 1000)
        for s in m["sources"]:
            n = s["name"]
            put("mroute_merge_received_packets_total", s["packets"], source=n)
            put("mroute_merge_used_packets_total", s["used"], source=n)
            put("mroute_merge_gap_fills_total", s["gap_fills"], source=n)
            put("mroute_merge_holes_filled_total", s["holes_filled"], source=n)
            put("mroute_merge_duplicate_packets_total", s["duplicates"], source=n)
            put("mroute_merge_late_packets_total", s["late"], source=n)
            put("mroute_merge_foreign_packets_total", s["foreign"], source=n)
            put("mroute_merge_invalid_packets_total", s["invalid"], source=n)
            put("mroute_merge_source_delivering", s["delivering"], source=n)
            put("mroute_merge_source_lag_seconds", s["lag_ms"] / 1000, source=n)
    return out


def without_moving_parts(metrics):
    m = dict(metrics)
    m.pop("timestamp", None)
    m.pop("uptime_seconds", None)
    return m


# --------------------------------------------------------------------------

class PrometheusTest(MrouteTestCase):
    """One controller and one traffic run for the class; the tests look at
    the scrapes taken on the way."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.started_at = time.time()
        cls.ctl = cls.class_controller(timeout=15)
        cls.live_receiver = cls.merge_receiver = None
        cls.sender = cls.merge_sender = None
        try:
            cls.run_traffic()
        except BaseException:
            cls._class_failed = True
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for sender in (cls.sender, cls.merge_sender):
            if sender:
                sender.halt.set()
                sender.join(5)
        super().tearDownClass()

    # -- helpers -----------------------------------------------------------

    @classmethod
    def check_status(cls, r, status, what, as_json=True):
        if r.status != status:
            raise AssertionError("%s: %d %r" % (what, r.status, r.body[:600]))
        return r.json() if as_json and r.body else None

    @classmethod
    def create_flow(cls, name, sport, oport):
        body = {"name": name,
                "source": {"name": "primary", "protocol": "udp", "ingest_port": sport},
                "outputs": [{"name": "out-1", "protocol": "udp",
                             "destination": "127.0.0.1", "port": oport}]}
        return cls.check_status(cls.ctl.post("/v1/flows", body), 201, "create " + name)

    @classmethod
    def scrape(cls):
        r = cls.ctl.get("/metrics")
        cls.check_status(r, 200, "GET /metrics", as_json=False)
        cls.content_type = r.headers.get("Content-Type")
        cls.cache_control = r.headers.get("Cache-Control")
        text = r.body.decode("utf-8")
        return Exposition(text)

    @classmethod
    def json_metrics(cls, fid):
        return cls.check_status(cls.ctl.get("/v1/flows/%s/metrics" % fid), 200, "metrics")

    @classmethod
    def sandwich(cls, fid, timeout=10):
        """A scrape between two JSON reads that agree (but for uptime):
        returns (before, scrape, after)."""
        def attempt():
            before = cls.json_metrics(fid)
            scrape = cls.scrape()
            after = cls.json_metrics(fid)
            if without_moving_parts(before) == without_moving_parts(after):
                return before, scrape, after
            return None
        result = wait_for(attempt, timeout, interval=0.1)
        if not result:
            raise AssertionError("the metrics of %s never held still for a scrape" % fid)
        return result

    # -- the run -----------------------------------------------------------

    @classmethod
    def run_traffic(cls):
        ctl = cls.ctl
        sport, oport = cls.class_port(), cls.class_port()
        cls.live = cls.create_flow(LIVE_NAME, sport, oport)
        cls.idle = cls.create_flow(IDLE_NAME, cls.class_port(), cls.class_port())
        lid, iid = cls.live["id"], cls.idle["id"]

        pa, pb, mport = cls.class_port(), cls.class_port(), cls.class_port()
        body = {"name": MERGE_NAME,
                "sources": [{"name": leg, "protocol": "rtp", "ingest_port": port,
                             "ingest_address": "127.0.0.1"}
                            for leg, port in (("a", pa), ("b", pb))],
                "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE",
                                           "recovery_window": 100},
                "outputs": [{"name": "out-m", "protocol": "udp",
                             "destination": "127.0.0.1", "port": mport}]}
        cls.merge = cls.check_status(ctl.post("/v1/flows", body), 201, "create merge")
        mid = cls.merge["id"]

        # the idle flow runs once, then stops: it must leave no counters
        cls.check_status(ctl.post("/v1/flows/%s/start" % iid), 200, "start idle")
        ctl.wait_status(iid, "ACTIVE")
        cls.check_status(ctl.post("/v1/flows/%s/stop" % iid), 200, "stop idle")
        ctl.wait_status(iid, "STANDBY")

        # counts the datagrams and bytes that arrive (bounded: the whole
        # run takes well under a minute)
        cls.live_receiver = cls.class_own(Receiver(oport, hard=120.0)).start()
        cls.merge_receiver = cls.class_own(Receiver(mport, hard=120.0)).start()
        cls.check_status(ctl.post("/v1/flows/%s/start" % lid), 200, "start live")
        cls.check_status(ctl.post("/v1/flows/%s/start" % mid), 200, "start merge")
        ctl.wait_status(lid, "ACTIVE")
        ctl.wait_status(mid, "ACTIVE", timeout=15)
        cls.sender = Sender(sport, SEND_COUNT, SEND_RATE)
        cls.merge_sender = Sender(pa, SEND_COUNT, SEND_RATE, port_b=pb)
        cls.sender.start()
        cls.merge_sender.start()

        # while it flows: both rates show (the sampler runs every second)
        def flowing():
            e = cls.scrape()
            s = e.get("mroute_source_receive_rate_bytes_per_second", flow_id=lid,
                      flow_name=LIVE_NAME, source="primary")
            o = e.get("mroute_output_send_rate_bytes_per_second", flow_id=lid,
                      flow_name=LIVE_NAME, output="out-1")
            legs = e.get("mroute_merge_active_legs", flow_id=mid, flow_name=MERGE_NAME)
            return e if s > 0 and o > 0 and legs == 2 else None
        cls.scrape_flowing = wait_for(flowing, 10)
        cls.scrape_flowing_2 = None
        if cls.scrape_flowing and cls.sender.is_alive():
            time.sleep(0.5)
            cls.scrape_flowing_2 = cls.scrape()

        cls.sender.join(SEND_COUNT / SEND_RATE + 15)
        cls.merge_sender.join(5)

        # everything sent has been counted in and out
        def all_counted():
            e = cls.scrape()
            got = e.get("mroute_source_received_packets_total", flow_id=lid,
                        flow_name=LIVE_NAME, source="primary")
            out = e.get("mroute_output_sent_bytes_total", flow_id=lid,
                        flow_name=LIVE_NAME, output="out-1")
            merged = e.get("mroute_merge_output_packets_total", flow_id=mid,
                           flow_name=MERGE_NAME)
            merged_out = e.get("mroute_output_sent_bytes_total", flow_id=mid,
                               flow_name=MERGE_NAME, output="out-m")
            # a filled hole is counted once no late copy can come any more
            # (recovery window + leg timeout after the packet): every
            # packet out is then a hole one leg filled or has a duplicate
            settled = sum(e.get(name, flow_id=mid, flow_name=MERGE_NAME, source=leg)
                          for name in ("mroute_merge_holes_filled_total",
                                       "mroute_merge_duplicate_packets_total")
                          for leg in ("a", "b"))
            cls.scrape_done = e
            return (got == cls.sender.sent and out == cls.live_receiver.byte_count()
                    and settled == merged
                    and cls.live_receiver.count() == cls.sender.sent
                    and merged == cls.merge_sender.sent
                    and merged_out == cls.merge_receiver.byte_count()
                    and cls.merge_receiver.byte_count() == cls.merge_sender.sent * DATAGRAM_BYTES)
        wait_for(all_counted, 10)

        cls.merge_before, cls.merge_final, cls.merge_after = cls.sandwich(mid)
        cls.before, cls.final, cls.after = cls.sandwich(lid)
        cls.idle_metrics = cls.json_metrics(iid)
        cls.flows = cls.check_status(ctl.get("/v1/flows"), 200, "list")["flows"]
        cls.health = cls.check_status(ctl.get("/health"), 200, "health")

    # -- the tests ---------------------------------------------------------

    def test_endpoint(self):
        self.assertEqual(self.content_type, CONTENT_TYPE)
        self.assertIn("no-store", self.cache_control or "")
        r = self.ctl.get("/metrics/")
        self.assertEqual(r.status, 200)
        Exposition(r.body.decode("utf-8"))
        for method in ("POST", "PUT", "DELETE"):
            with self.subTest(method=method):
                r = self.ctl.request(method, "/metrics")
                self.assertEqual(r.status, 405, r.body)
                self.assertEqual(r.headers.get("Allow"), "GET")
                self.assertIn("error", r.json())
        self.assertEqual(self.ctl.get("/metrics/x").status, 404)

    def test_conventions(self):
        """Every family: HELP and TYPE, the prefix, _total for counters and
        for them only, base units."""
        for e in (self.scrape_flowing, self.scrape_done, self.final):
            self.assertIsNotNone(e)
            for name, fam in e.families.items():
                with self.subTest(family=name):
                    self.assertIsNotNone(fam["type"], "no TYPE")
                    self.assertTrue(fam["help"], "no HELP")
                    self.assertIn(fam["type"], ("counter", "gauge"))
                    self.assertTrue(name.startswith(("mroute_", "process_")), name)
                    self.assertEqual(fam["type"] == "counter", name.endswith("_total"))
                    self.assertNotRegex(
                        name, r"_(ms|milliseconds|kbps|kilobytes|megabytes|bits|percent)(_|$)")
                    for _, _, value in fam["samples"]:
                        self.assertFalse(math.isnan(value))
                        if fam["type"] == "counter":
                            self.assertGreaterEqual(value, 0)

    PER_SOURCE_MERGE = ("received_packets", "used_packets", "gap_fills", "holes_filled",
                        "duplicate_packets",
                        "late_packets", "foreign_packets", "invalid_packets")

    def test_labels(self):
        """flow_id and flow_name on every series of a flow, and source,
        output or state on those that are per source, output or state."""
        e = self.merge_final
        names = {f["id"]: f["name"] for f in self.flows}
        flows_seen = set()
        for (name, labels), _ in e.matching().items():
            labels = dict(labels)
            if "flow_id" not in labels:
                continue
            flows_seen.add(labels["flow_id"])
            with self.subTest(series=name, labels=labels):
                self.assertEqual(labels["flow_name"], names[labels["flow_id"]])
                per = {"flow_id", "flow_name"}
                if (name.startswith(("mroute_source_", "mroute_merge_source_"))
                        or name in ["mroute_merge_%s_total" % n for n in self.PER_SOURCE_MERGE]):
                    per.add("source")
                    if name.startswith("mroute_source_content_"):
                        per.add("kind")
                elif name.startswith("mroute_output_"):
                    per.add("output")
                elif name == "mroute_flow_state":
                    per.add("state")
                self.assertEqual(set(labels), per)
        self.assertEqual(flows_seen, set(names))
        for fid, fname in names.items():
            states = e.matching("mroute_flow_state", flow_id=fid, flow_name=fname)
            self.assertEqual(sorted(dict(k[1])["state"] for k in states), sorted(STATES))
            self.assertEqual(sum(states.values()), 1)
        # the escapes themselves, as written: quote, backslash, line feed
        self.assertIn('flow_name="studio \\"A\\" \\\\ feed\\nline 2 \u00e9"', e.text)
        self.assertIn('flow_name="standby \\\\"', e.text)
        self.assertEqual(len(e.matching("mroute_flow_state", flow_name=LIVE_NAME)), len(STATES))

    def test_traffic(self):
        """What the test sent and received, as the counters say."""
        lid = self.live["id"]
        e = self.scrape_done
        labels = {"flow_id": lid, "flow_name": LIVE_NAME}
        self.assertEqual(self.sender.sent, SEND_COUNT)
        self.assertEqual(self.live_receiver.count(), SEND_COUNT, "loopback lost datagrams")
        self.assertEqual(e.get("mroute_source_received_packets_total", source="primary",
                               **labels), SEND_COUNT)
        self.assertEqual(e.get("mroute_source_received_bytes_total", source="primary",
                               **labels), SEND_COUNT * DATAGRAM_BYTES)
        self.assertEqual(e.get("mroute_source_lost_packets_total", source="primary",
                               **labels), 0)
        self.assertEqual(e.get("mroute_output_sent_bytes_total", output="out-1", **labels),
                         self.live_receiver.byte_count())
        self.assertEqual(e.get("mroute_output_sent_packets_total", output="out-1", **labels),
                         self.live_receiver.count())
        self.assertEqual(e.get("mroute_output_disconnections_total", output="out-1",
                               **labels), 0)
        self.assertEqual(e.get("mroute_source_selected", source="primary", **labels), 1)
        self.assertEqual(e.get("mroute_flow_failovers_total", **labels), 0)
        self.assertEqual(e.get("mroute_flow_state", state="ACTIVE", **labels), 1)

    def test_rates_while_flowing(self):
        lid = self.live["id"]
        e = self.scrape_flowing
        self.assertIsNotNone(e, "the rates never showed while the sender sent")
        labels = {"flow_id": lid, "flow_name": LIVE_NAME}
        sent = SEND_RATE * DATAGRAM_BYTES
        for name, extra in (("mroute_source_receive_rate_bytes_per_second",
                             {"source": "primary"}),
                            ("mroute_output_send_rate_bytes_per_second",
                             {"output": "out-1"})):
            with self.subTest(name=name):
                # the sampler averages one second of a sender that may lag
                rate = e.get(name, **extra, **labels)
                self.assertGreater(rate, sent / 4)
                self.assertLess(rate, sent * 4)
        self.assertEqual(e.get("mroute_source_connected", source="primary", **labels), 1)
        self.assertEqual(e.get("mroute_output_connected", output="out-1", **labels), 1)

    def check_matches_json(self, flow, before, scrape, after):
        fid = flow["id"]
        want = expected_series(flow, before)
        got = scrape.matching(flow_id=fid)
        uptime_key = ("mroute_flow_uptime_seconds",
                      frozenset({"flow_id": fid, "flow_name": flow["name"]}.items()))
        uptime = got.pop(uptime_key)
        self.assertLessEqual(before["uptime_seconds"], uptime)
        self.assertLessEqual(uptime, after["uptime_seconds"])
        want.pop(uptime_key)
        self.assertEqual(sorted(got), sorted(want))
        for key, value in want.items():
            tol = JITTER_TOLERANCE if key[0] == "mroute_source_jitter_seconds" else 1e-12
            with self.subTest(series=key[0], labels=dict(key[1])):
                self.assertTrue(math.isclose(got[key], value, rel_tol=1e-12, abs_tol=tol),
                                "%r != %r" % (got[key], value))

    def test_matches_json(self):
        """Every series of a running flow is its JSON metrics, in base
        units; no other series carries its id."""
        self.check_matches_json(self.live, self.before, self.final, self.after)

    def test_merge_matches_json(self):
        self.assertIn("merge_stats", self.merge_before)
        self.check_matches_json(self.merge, self.merge_before, self.merge_final,
                                self.merge_after)

    def test_merge(self):
        """The MERGE counters against what the test sent: a delivered every
        packet, b all but every 50th, which a filled."""
        e = self.scrape_done
        labels = {"flow_id": self.merge["id"], "flow_name": MERGE_NAME}
        sent, dropped = self.merge_sender.sent, self.merge_sender.dropped_b
        self.assertEqual(sent, SEND_COUNT)
        self.assertGreater(dropped, 0)
        self.assertEqual(e.get("mroute_merge_output_packets_total", **labels), sent)
        self.assertEqual(e.get("mroute_merge_missing_packets_total", **labels), 0)
        self.assertEqual(e.get("mroute_merge_received_packets_total", source="a", **labels),
                         sent)
        self.assertEqual(e.get("mroute_merge_received_packets_total", source="b", **labels),
                         sent - dropped)
        self.assertEqual(e.get("mroute_merge_holes_filled_total", source="a", **labels),
                         dropped)
        self.assertEqual(e.get("mroute_merge_holes_filled_total", source="b", **labels), 0)
        # gap_fills as the original meant them: the packets the output took
        # from each source, adding up to the output
        self.assertEqual(e.get("mroute_merge_gap_fills_total", source="a", **labels)
                         + e.get("mroute_merge_gap_fills_total", source="b", **labels), sent)
        self.assertGreaterEqual(e.get("mroute_merge_gap_fills_total", source="a", **labels),
                                dropped)
        self.assertEqual(e.get("mroute_merge_used_packets_total", source="a", **labels)
                         + e.get("mroute_merge_used_packets_total", source="b", **labels), sent)
        self.assertEqual(e.get("mroute_merge_recovery_window_seconds", **labels), 0.1)
        self.assertEqual(e.get("mroute_output_sent_bytes_total", output="out-m", **labels),
                         self.merge_receiver.byte_count())
        flowing = self.scrape_flowing
        self.assertEqual(flowing.get("mroute_merge_active_legs", **labels), 2)
        self.assertEqual(flowing.get("mroute_flow_merge_active", **labels), 1)
        for leg in ("a", "b"):
            self.assertEqual(flowing.get("mroute_source_selected", source=leg, **labels), 1)
            self.assertEqual(flowing.get("mroute_merge_source_delivering", source=leg,
                                         **labels), 1)

    def test_stopped_flow(self):
        """A flow that ran and stopped: its state and a zero uptime, no
        counters left behind."""
        iid = self.idle["id"]
        self.assertEqual(self.idle_metrics["status"], "STANDBY")
        got = self.final.matching(flow_id=iid)
        want = expected_series(self.idle, self.idle_metrics)
        self.assertEqual(got, want)
        self.assertEqual(self.final.get("mroute_flow_state", flow_id=iid, flow_name=IDLE_NAME,
                                        state="STANDBY"), 1)

    def test_flow_counts(self):
        e = self.final
        by_state = {st: sum(1 for f in self.flows if f["status"] == st) for st in STATES}
        for st in STATES:
            with self.subTest(state=st):
                self.assertEqual(e.get("mroute_flows", state=st), by_state[st])
        self.assertEqual(sum(by_state.values()), self.health["total_flows"])
        self.assertEqual(by_state["ACTIVE"], self.health["active_flows"])

    def test_counters_never_decrease(self):
        scrapes = [s for s in (self.scrape_flowing, self.scrape_flowing_2,
                               self.scrape_done, self.final) if s is not None]
        self.assertGreaterEqual(len(scrapes), 3)
        for a, b in zip(scrapes, scrapes[1:]):
            for key, value in a.series.items():
                if a.type_of(key[0]) != "counter":
                    continue
                with self.subTest(series=key[0], labels=dict(key[1])):
                    self.assertIn(key, b.series, "a counter went away")
                    self.assertGreaterEqual(b.series[key], value)

    def test_process(self):
        e = self.final
        pid = self.ctl.proc.pid
        rss = e.get("process_resident_memory_bytes")
        self.assertGreater(rss, 0)
        self.assertGreaterEqual(e.get("process_virtual_memory_bytes"), rss)
        self.assertGreater(e.get("process_cpu_seconds_total"), 0)
        fds = e.get("process_open_fds")
        self.assertGreater(fds, 2)
        self.assertLessEqual(fds, e.get("process_max_fds"))
        self.assertGreaterEqual(e.get("process_threads"), 1)
        start = e.get("process_start_time_seconds")
        self.assertGreater(start, self.started_at - 5)
        self.assertLess(start, time.time() + 1)
        # what /proc says of the controller, from outside, to the same order
        with open("/proc/%d/status" % pid) as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        vm_rss = int(status["VmRSS"].split()[0]) * 1024
        self.assertLess(abs(rss - vm_rss), vm_rss / 2, (rss, vm_rss))
        self.assertLess(abs(fds - len(os.listdir("/proc/%d/fd" % pid))), 8)
        self.assertGreaterEqual(int(status["Threads"]), 1)
        info = e.matching("mroute_build_info")
        self.assertEqual(len(info), 1, info)
        (_, labels), value = next(iter(info.items()))
        self.assertEqual(value, 1)
        self.assertTrue(dict(labels).get("version"), labels)

    def test_promtool(self):
        """Prometheus' own linter, when it is installed."""
        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool is not installed")
        r = subprocess.run([promtool, "check", "metrics"], input=self.final.text.encode(),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, (r.stdout + r.stderr).decode())
        self.assertEqual((r.stdout + r.stderr).strip(), b"")


class ParserSelfTest(unittest.TestCase):
    """The parser refuses what the format does not allow."""

    GOOD = ('# HELP a_total A \\\\ help\\n.\n# TYPE a_total counter\n'
            'a_total{x="q\\"\\\\\\n",y="2",} 1.5e3\n# TYPE b gauge\nb -Inf 123\n')

    def test_good(self):
        e = Exposition(self.GOOD)
        self.assertEqual(e.get("a_total", x='q"\\\n', y="2"), 1500)
        self.assertEqual(e.families["a_total"]["help"], "A \\ help\n.")
        self.assertEqual(e.get("b"), -math.inf)

    def test_bad(self):
        for text in ("a 1\n",                                        # no TYPE
                     "# TYPE a gauge\na 1",                          # no final LF
                     "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n",  # duplicate
                     "# TYPE a gauge\n# TYPE a gauge\na 1\n",         # TYPE twice
                     "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"2\"} 1\n",  # not grouped
                     "# TYPE a gauge\na{x=\"\\t\"} 1\n",              # bad escape
                     "# TYPE a gauge\na{x=\"1\" 1\n",                 # unterminated
                     "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",        # label twice
                     "# TYPE a gauge\na one\n",                       # not a float
                     "# TYPE a gauge\na 1\n# HELP a late\n",          # HELP after samples
                     "# TYPE a meter\na 1\n"):                        # unknown type
            with self.subTest(text=text):
                with self.assertRaises(ExpositionError):
                    Exposition(text)


if __name__ == "__main__":
    unittest.main()
