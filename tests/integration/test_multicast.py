#!/usr/bin/env python3
"""Multicast sources and outputs, end to end, in network namespaces the
test makes (and removes, also when it fails):

    ns S (senders)            ns M (mroute)                 ns R (receivers)
    s0 10.77.1.2, .3   <-veth-> m0 10.77.1.1      m1 10.77.2.1 <-veth-> r0 10.77.2.2
       fd77:1::2                 fd77:1::1        fd77:2::1              fd77:2::2
    s1 10.77.3.2       <-veth-> m2 10.77.3.1 (the second, "blue", network)

- ASM: a udp source joins 239.77.1.1 on m0; its output to the group
  239.77.2.1 with ttl 4 and dscp 46 out of m1 reaches a member in R byte
  for byte, with TTL 4 and DSCP 46; GET gives the fields back;
- SSM: a source joined to 232.77.1.1 from 10.77.1.2 only does not relay
  what 10.77.1.3 sends to the same group;
- IPv6: ff3e::77:1 in on m0, ff3e::77:2 out of m1 with a hop limit of 3;
- rtp-fec: a source joined to a group, an output's media and FEC streams
  to a group with its TTL;
- two outputs with two TTLs (two fan-out sinks), one changed live;
- an output's interface that is not there sends nothing; the others go on;
- the checks: 400s with field paths;
- MERGE: one RTP stream sent to 239.77.3.1 on both networks (m0 and m2,
  one group and one port, a source per interface), each leg losing every
  tenth packet at another place: each leg reads its own network only, and
  the output is the sent stream byte for byte.

The controller runs in M and is asked over HTTP from inside M
(mcast_ns_helper.py http); senders and receivers are mcast_ns_helper.py
in S and R.  Ports are fixed: the namespaces are the test's own, so nothing
else holds them.  Namespace names carry the pid; every wait is bounded.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \\
      python3 tests/integration/test_multicast.py -v
Needs root (ip netns) and `ip`; skipped without them."""

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_harness import Controller, Response  # noqa: E402
from mroute_testcase import MrouteTestCase  # noqa: E402

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mcast_ns_helper.py")
PREFIX = "mrmc%d" % os.getpid()
NS_S, NS_M, NS_R = PREFIX + "s", PREFIX + "m", PREFIX + "r"
IP_WAIT = 10            # s for one `ip` command
READY_WAIT = 5          # s for a receiver to say it joined
ARRIVE_WAIT = 15        # s for what was sent to arrive


def log(msg):
    sys.stderr.write("[multicast] %s\n" % msg)


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, timeout=IP_WAIT,
                          check=check)


def in_ns(ns, *args):
    return ["ip", "netns", "exec", ns] + list(args)


def ts_datagrams(n, seed=0):
    """n datagrams of 7 TS packets (PID 0x100, continuity counters in
    order), each different"""
    out, cc = [], 0
    for i in range(n):
        d = bytearray()
        for k in range(7):
            d += bytes([0x47, 0x01, 0x00, 0x10 | cc])
            d += bytes(((seed + i * 7 + k + j) & 0xFF) for j in range(184))
            cc = (cc + 1) & 0x0F
        out.append(bytes(d))
    return out


def rtp_packets(payloads, ssrc=0x4D524F55):
    return [struct.pack(">BBHII", 0x80, 33, i & 0xFFFF, (i * 900) & 0xFFFFFFFF, ssrc) + p
            for i, p in enumerate(payloads)]


def write_records(path, datagrams):
    with open(path, "wb") as f:
        for d in datagrams:
            f.write(struct.pack(">I", len(d)) + d)


class NsController(Controller):
    """mroute in namespace M, spoken to from inside it"""

    def __init__(self, ns, **kw):
        super().__init__(**kw)
        self.ns = ns
        self.http = None

    def command(self):
        return in_ns(self.ns, *super().command())

    def start(self, timeout=10):
        self.http = subprocess.Popen(in_ns(self.ns, sys.executable, HELPER, "http",
                                           str(self.port)),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return super().start(timeout)

    def stop(self, *a, **kw):
        try:
            return super().stop(*a, **kw)
        finally:
            if self.http is not None:
                self.http.stdin.close()
                try:
                    self.http.wait(5)
                except subprocess.TimeoutExpired:
                    self.http.kill()
                    self.http.wait()
                self.http.stdout.close()
                self.http = None

    def send(self, method, path, body=None, raw=None, headers=None, timeout=10):
        """Through the namespace's helper; Controller.request checks the
        answer against the OpenAPI document as for every controller."""
        self.http.stdin.write((json.dumps([method, path, body]) + "\n").encode())
        self.http.stdin.flush()
        r, _, _ = select.select([self.http.stdout], [], [], timeout + 2)
        if not r:
            raise OSError("no answer from the namespace's HTTP helper")
        line = self.http.stdout.readline()
        if not line:
            raise OSError("the namespace's HTTP helper exited")
        ans = json.loads(line)
        if ans["status"] == 0:
            raise OSError(ans["body"])
        hdrs = {"Content-Type": ans["content_type"]} if ans.get("content_type") else {}
        return Response(ans["status"], hdrs, ans["body"].encode())


class MulticastTest(MrouteTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not shutil.which("ip"):
            raise unittest.SkipTest("no `ip` command")
        p = subprocess.run(["ip", "netns", "add", NS_S], capture_output=True, timeout=IP_WAIT)
        if p.returncode != 0:
            raise unittest.SkipTest("ip netns add is not permitted here: %s"
                                    % p.stderr.decode().strip())
        try:
            cls.make_network()
            cls.c = cls.class_controller(make=NsController, ns=NS_M)
        except BaseException:
            cls.remove_network()
            raise

    @classmethod
    def make_network(cls):
        ip("netns", "add", NS_M)
        ip("netns", "add", NS_R)
        for ns in (NS_S, NS_M, NS_R):
            # no duplicate address detection: the IPv6 addresses work at once
            subprocess.run(in_ns(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0",
                                 "net.ipv6.conf.default.accept_dad=0"),
                           capture_output=True, timeout=IP_WAIT)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", NS_S, "link", "add", "s0", "type", "veth", "peer", "name", "m0", "netns", NS_M)
        ip("-n", NS_S, "link", "add", "s1", "type", "veth", "peer", "name", "m2", "netns", NS_M)
        ip("-n", NS_M, "link", "add", "m1", "type", "veth", "peer", "name", "r0", "netns", NS_R)
        for ns, dev, addrs in ((NS_S, "s0", ["10.77.1.2/24", "10.77.1.3/24", "fd77:1::2/64"]),
                               (NS_M, "m0", ["10.77.1.1/24", "fd77:1::1/64"]),
                               (NS_S, "s1", ["10.77.3.2/24"]),
                               (NS_M, "m2", ["10.77.3.1/24"]),
                               (NS_M, "m1", ["10.77.2.1/24", "fd77:2::1/64"]),
                               (NS_R, "r0", ["10.77.2.2/24", "fd77:2::2/64"])):
            for a in addrs:
                ip("-n", ns, "addr", "add", a, "dev", dev, *(["nodad"] if ":" in a else []))
            ip("-n", ns, "link", "set", dev, "up")
        # IPv6 multicast passes a veth once both ends have their link-local
        # address (without duplicate address detection, a moment after
        # the link is up)
        links = [(NS_S, "s0"), (NS_M, "m0"), (NS_M, "m1"), (NS_R, "r0")]
        deadline = time.monotonic() + 10
        while links and time.monotonic() < deadline:
            links = [(ns, dev) for ns, dev in links
                     if b"inet6 fe80" not in ip("-n", ns, "-6", "addr", "show", "dev", dev,
                                                "scope", "link").stdout]
            time.sleep(0.1)
        if links:
            raise RuntimeError("no IPv6 link-local address on %r after 10 s" % links)

    @classmethod
    def remove_network(cls):
        for ns in (NS_S, NS_M, NS_R):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=IP_WAIT)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.remove_network()

    # -- helpers ----------------------------------------------------------------

    def receive(self, addr, port, iface, seconds=30):
        """A member of addr:port on iface in R (iface "-": unicast);
        returns (process, path of what it receives)"""
        self.receivers = getattr(self, "receivers", 0) + 1
        out = os.path.join(self.tmpdir(), "recv-%s-%d-%d" % (addr.replace(":", "_"), port,
                                                             self.receivers))
        p = subprocess.Popen(in_ns(NS_R, sys.executable, HELPER, "recv", addr, str(port),
                                   iface, out, str(seconds)), stdout=subprocess.PIPE)
        self.own_proc(p, stop_signal=signal.SIGTERM)
        r, _, _ = select.select([p.stdout], [], [], READY_WAIT)
        self.assertTrue(r and p.stdout.readline().strip() == b"ready",
                        "the receiver on %s:%d did not start" % (addr, port))
        return p, out

    def finish(self, p, out):
        """Stops a receiver; returns (bytes, its summary)"""
        p.send_signal(signal.SIGTERM)
        p.wait(5)
        p.stdout.close()
        with open(out + ".json") as f:
            summary = json.load(f)
        with open(out, "rb") as f:
            return f.read(), summary

    def send(self, dest, port, iface, bind, datagrams, skip=(0, 0), gap_ms=1, wait=True):
        rec = os.path.join(self.tmpdir(), "send-%s-%s-%d" % (iface, bind.replace(":", "_"),
                                                              len(datagrams)))
        write_records(rec, datagrams)
        p = subprocess.Popen(in_ns(NS_S, sys.executable, HELPER, "send", dest, str(port), iface,
                                   bind, rec, str(skip[0]), str(skip[1]), str(gap_ms)))
        self.own_proc(p)
        if wait:
            self.assertEqual(p.wait(30), 0, "sender to %s:%d failed" % (dest, port))
        return p

    def wait_size(self, path, size, timeout=ARRIVE_WAIT):
        self.wait_until(lambda: os.path.exists(path) and os.path.getsize(path) >= size, timeout)
        return os.path.getsize(path) if os.path.exists(path) else 0

    def run_flow(self, body):
        flow = self.create_flow(self.c, body)
        self.addCleanup(self.c.delete, "/v1/flows/%s" % flow["id"])
        r = self.c.post("/v1/flows/%s/start" % flow["id"])
        self.assertEqual(r.status, 200, r.body)
        self.c.wait_status(flow["id"], "ACTIVE", timeout=20)
        return flow["id"]

    # -- the tests -------------------------------------------------------------

    def test_any_source_in_multicast_out(self):
        fid = self.run_flow({
            "name": "asm",
            "source": {"name": "in", "protocol": "udp", "ingest_port": 5000,
                       "ingest_address": "239.77.1.1", "interface": "m0"},
            "outputs": [{"name": "mc", "protocol": "udp", "destination": "239.77.2.1",
                         "port": 6000, "ttl": 4, "dscp": 46, "interface": "m1"}]})
        flow = self.c.get("/v1/flows/%s" % fid).json()
        self.assertEqual(flow["source"]["interface"], "m0", flow)
        out = flow["outputs"][0]
        self.assertEqual((out["ttl"], out["dscp"], out["interface"]), (4, 46, "m1"), flow)

        p, path = self.receive("239.77.2.1", 6000, "r0")
        sent = ts_datagrams(300)
        self.send("239.77.1.1", 5000, "s0", "10.77.1.2", sent)
        self.wait_size(path, sum(map(len, sent)))
        got, summary = self.finish(p, path)
        self.assertEqual(got, b"".join(sent), "%d of %d bytes" % (len(got), len(b"".join(sent))))
        self.assertEqual(summary["hops"], [4], summary)
        self.assertEqual(summary["dscp"], [46], summary)

    def test_source_specific(self):
        self.run_flow({
            "name": "ssm",
            "source": {"name": "in", "protocol": "udp", "ingest_port": 5010,
                       "ingest_address": "232.77.1.1", "source_address": "10.77.1.2",
                       "interface": "m0"},
            "outputs": [{"name": "uni", "protocol": "udp", "destination": "10.77.2.2",
                         "port": 6010}]})
        p, path = self.receive("10.77.2.2", 6010, "-")
        stranger = ts_datagrams(100, seed=99)
        self.send("232.77.1.1", 5010, "s0", "10.77.1.3", stranger)
        good = ts_datagrams(100)
        self.send("232.77.1.1", 5010, "s0", "10.77.1.2", good)
        self.wait_size(path, sum(map(len, good)))
        time.sleep(0.3)
        got, summary = self.finish(p, path)
        self.assertEqual(summary["count"], len(good), summary)
        self.assertEqual(got, b"".join(good))

    def test_ipv6(self):
        self.run_flow({
            "name": "v6",
            "source": {"name": "in", "protocol": "udp", "ingest_port": 5020,
                       "ingest_address": "ff3e::77:1", "interface": "m0"},
            "outputs": [{"name": "mc6", "protocol": "udp", "destination": "ff3e::77:2",
                         "port": 6020, "ttl": 3, "dscp": 10, "interface": "m1"}]})
        p, path = self.receive("ff3e::77:2", 6020, "r0")
        sent = ts_datagrams(100)
        self.send("ff3e::77:1", 5020, "s0", "fd77:1::2", sent)
        self.wait_size(path, sum(map(len, sent)))
        got, summary = self.finish(p, path)
        self.assertEqual(got, b"".join(sent), "%d of %d bytes" % (len(got), len(b"".join(sent))))
        self.assertEqual(summary["hops"], [3], summary)
        self.assertEqual(summary["dscp"], [10], summary)

    def test_rtp_fec(self):
        """an rtp-fec source joined to a group (media only: it works as RTP
        with a jitter buffer), an rtp-fec output to a group: media and both
        FEC streams reach members of the group with the output's TTL"""
        self.run_flow({
            "name": "fec",
            "source": {"name": "in", "protocol": "rtp-fec", "ingest_port": 5050,
                       "ingest_address": "239.77.4.1", "interface": "m0"},
            "outputs": [{"name": "mcfec", "protocol": "rtp-fec", "destination": "239.77.5.1",
                         "port": 6050, "ttl": 5, "dscp": 34, "interface": "m1"}]})
        media, media_path = self.receive("239.77.5.1", 6050, "r0")
        col, col_path = self.receive("239.77.5.1", 6052, "r0")
        row, row_path = self.receive("239.77.5.1", 6054, "r0")
        payloads = ts_datagrams(300)
        self.send("239.77.4.1", 5050, "s0", "10.77.1.2", rtp_packets(payloads, ssrc=0))
        want = b"".join(payloads)
        self.wait_size(media_path, len(want) + 12 * len(payloads))
        self.wait_size(row_path, 1)
        got, summary = self.finish(media, media_path)
        _, col_summary = self.finish(col, col_path)
        _, row_summary = self.finish(row, row_path)
        self.assertEqual(summary["count"], len(payloads), summary)
        # RTP packets of 7 TS packets each: the payloads are what was sent
        size = 12 + 7 * 188
        self.assertEqual(b"".join(got[i + 12:i + size] for i in range(0, len(got), size)), want)
        self.assertEqual(summary["hops"], [5], summary)
        self.assertGreater(col_summary["count"], 0, col_summary)
        self.assertGreater(row_summary["count"], 0, row_summary)
        self.assertEqual(col_summary["hops"], [5], col_summary)
        self.assertEqual(summary["dscp"], [34], summary)
        self.assertEqual(row_summary["dscp"], [34], row_summary)

    def test_outputs_with_two_ttls(self):
        """two outputs with different TTLs and DSCPs run on two fan-out
        sinks, each with its own; a TTL changed while the flow runs moves
        its output to the sink of the new one"""
        fid = self.run_flow({
            "name": "two-ttls",
            "source": {"name": "in", "protocol": "udp", "ingest_port": 5060,
                       "ingest_address": "239.77.6.9", "interface": "m0"},
            "outputs": [{"name": "near", "protocol": "udp", "destination": "239.77.6.1",
                         "port": 6060, "ttl": 2, "interface": "m1"},
                        {"name": "far", "protocol": "udp", "destination": "239.77.6.2",
                         "port": 6061, "ttl": 9, "dscp": 46, "interface": "m1"}]})
        near, near_path = self.receive("239.77.6.1", 6060, "r0")
        far, far_path = self.receive("239.77.6.2", 6061, "r0")
        sent = ts_datagrams(100)
        self.send("239.77.6.9", 5060, "s0", "10.77.1.2", sent)
        self.wait_size(near_path, len(b"".join(sent)))
        self.wait_size(far_path, len(b"".join(sent)))
        got_near, near_summary = self.finish(near, near_path)
        got_far, far_summary = self.finish(far, far_path)
        self.assertEqual(got_near, b"".join(sent))
        self.assertEqual(got_far, b"".join(sent))
        self.assertEqual(near_summary["hops"], [2], near_summary)
        self.assertEqual(near_summary["dscp"], [0], near_summary)
        self.assertEqual(far_summary["hops"], [9], far_summary)
        self.assertEqual(far_summary["dscp"], [46], far_summary)

        r = self.c.put("/v1/flows/%s/outputs/near" % fid, {"ttl": 12})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.c.get("/v1/flows/%s/outputs/near" % fid).json()["ttl"], 12)
        near, near_path = self.receive("239.77.6.1", 6060, "r0")
        more = ts_datagrams(50, seed=7)
        self.send("239.77.6.9", 5060, "s0", "10.77.1.2", more)
        self.wait_size(near_path, len(b"".join(more)))
        got_near, near_summary = self.finish(near, near_path)
        self.assertEqual(got_near, b"".join(more))
        self.assertEqual(near_summary["hops"], [12], near_summary)
        self.assertEqual(self.c.get("/v1/flows/%s" % fid).json()["status"], "ACTIVE")

    def test_missing_interface(self):
        """an output's interface that is not there: that output sends
        nothing (not by another interface); the flow and its other outputs
        go on"""
        fid = self.run_flow({
            "name": "missing-if",
            "source": {"name": "in", "protocol": "udp", "ingest_port": 5070,
                       "ingest_address": "239.77.7.9", "interface": "m0"},
            "outputs": [{"name": "lost", "protocol": "udp", "destination": "239.77.7.1",
                         "port": 6070, "interface": "nosuch0"},
                        {"name": "good", "protocol": "udp", "destination": "239.77.7.2",
                         "port": 6071, "interface": "m1"}]})
        lost, lost_path = self.receive("239.77.7.1", 6070, "r0")
        good, good_path = self.receive("239.77.7.2", 6071, "r0")
        sent = ts_datagrams(100)
        self.send("239.77.7.9", 5070, "s0", "10.77.1.2", sent)
        self.wait_size(good_path, len(b"".join(sent)))
        got_good, _ = self.finish(good, good_path)
        got_lost, _ = self.finish(lost, lost_path)
        self.assertEqual(got_good, b"".join(sent))
        self.assertEqual(got_lost, b"")
        m = self.metrics_when(self.c, fid, lambda m: all(
            o["bytes_sent"] > 0 for o in m["output_metrics"] if o["name"] == "good"))
        sent_by = {o["name"]: o["bytes_sent"] for o in m["output_metrics"]}
        self.assertEqual(sent_by["lost"], 0, m)
        self.assertEqual(sent_by["good"], len(b"".join(sent)), m)
        self.assertEqual(self.c.get("/v1/flows/%s" % fid).json()["status"], "ACTIVE")
        # the operator is told which output sends nothing, and why
        errors = [e["message"] for e in self.events(self.c, fid, types=["connection_error"])]
        self.assertTrue(any("output 'lost'" in e and "nosuch0" in e for e in errors),
                        self.event_summary(self.c, fid))
        self.assertFalse(any("output 'good'" in e for e in errors), errors)

    def test_checks(self):
        src = {"name": "in", "protocol": "udp", "ingest_port": 5030}
        out = {"name": "o", "protocol": "udp", "destination": "239.1.1.1", "port": 6030}
        for source, output, field, words in (
                (dict(src, ingest_address="239.1.1.1", source_address="239.1.1.2"), out,
                 "source.source_address", "unicast"),
                (dict(src, source_address="10.0.0.1"), out,
                 "source.source_address", "multicast ingest_address"),
                (dict(src, ingest_address="232.1.1.1", source_address="fd00::1"), out,
                 "source.source_address", "IPv4"),
                (src, dict(out, ttl=0), "outputs[0].ttl", "between 1 and 255"),
                (src, dict(out, ttl=256), "outputs[0].ttl", "between 1 and 255"),
                (src, dict(out, dscp=64), "outputs[0].dscp", "between 0 and 63"),
                (src, dict(out, interface="an-iface-too-long"), "outputs[0].interface",
                 "at most 15"),
                (src, dict(out, destination="10.1.1.1", ttl=5), "outputs[0].ttl",
                 "multicast destination")):
            with self.subTest(field=field, words=words):
                r = self.c.post("/v1/flows", {"name": "bad", "source": source,
                                              "outputs": [output]})
                self.assertEqual(r.status, 400, r.body)
                err = r.json()["error"]
                self.assertTrue(err.startswith(field + ":"), err)
                self.assertIn(words, err)

    def test_merge_on_two_networks(self):
        fid = self.run_flow({
            "name": "merge",
            "sources": [{"name": "red", "protocol": "rtp", "ingest_port": 5040,
                         "ingest_address": "239.77.3.1", "interface": "m0"},
                        {"name": "blue", "protocol": "rtp", "ingest_port": 5040,
                         "ingest_address": "239.77.3.1", "interface": "m2"}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE",
                                       "recovery_window": 200},
            "outputs": [{"name": "uni", "protocol": "udp", "destination": "10.77.2.2",
                         "port": 6040}]})
        p, path = self.receive("10.77.2.2", 6040, "-")
        payloads = ts_datagrams(500)
        packets = rtp_packets(payloads)
        # each network loses every tenth packet, at another place
        red = self.send("239.77.3.1", 5040, "s0", "10.77.1.2", packets, skip=(10, 3),
                        wait=False)
        blue = self.send("239.77.3.1", 5040, "s1", "10.77.3.2", packets, skip=(10, 7),
                         wait=False)
        self.assertEqual(red.wait(30), 0)
        self.assertEqual(blue.wait(30), 0)
        want = b"".join(payloads)
        self.wait_size(path, len(want))
        time.sleep(0.3)
        got, summary = self.finish(p, path)
        self.assertEqual(len(got), len(want), summary)
        self.assertEqual(got, want)
        # each leg read its own network only: 450 packets, not 900
        m = self.metrics_when(self.c, fid, lambda m: all(
            s["packets_received"] == 450 for s in m["source_metrics"]))
        self.assertEqual(sorted((s["name"], s["packets_received"]) for s in m["source_metrics"]),
                         [("blue", 450), ("red", 450)], m)


if __name__ == "__main__":
    unittest.main()
