#!/usr/bin/env python3
"""1+1 in a cluster (docs/cluster.md "1+1"): a flow with redundancy 2 and
an RTP source (a multicast group both nodes join) runs on two nodes of
three, on one throwaway PostgreSQL; each sends its leg of the rtp output,
the RTP packets unchanged.  A standalone controller (SQLite) downstream
merges the two legs (MERGE, SMPTE ST 2022-7) into a UDP output this test
reads.

kill -9 of one of the two nodes running the flow: the merged output loses
no packet (every numbered datagram sent from before the kill to the end
arrives, once), and the third node takes the dead node's slot, so that
the flow is 1+1 again (two live leases, two distinct owners).

Needs root (a private network namespace) and PostgreSQL; skipped (77)
saying why without them.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \\
      /usr/bin/python3 tests/integration/test_cluster_1plus1.py -v"""

import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mroute_cluster as mc  # noqa: E402
from mroute_harness import Controller  # noqa: E402

TAG = "cluster-1+1"
RATE = 100.0            # RTP packets a second
LEASE_MS = 3000
TICK_MS = 500

RTP_SENDER = r'''
import socket, struct, sys, time
PACKETS = 7
def datagram(flow, seq):
    out = bytearray()
    for k in range(PACKETS):
        cc = (seq * PACKETS + k) & 0x0F
        out += bytes([0x47, 0x01, 0x00, 0x10 | cc])
        out += struct.pack(">IIB", flow, seq, k)
        out += bytes(184 - 9)
    return bytes(out)
group, port, rate, count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
start = time.monotonic()
for seq in range(count):
    # RTP: version 2, payload type 33 (MP2T), 90 kHz timestamps
    header = struct.pack("!BBHII", 0x80, 33, seq & 0xFFFF, int(seq * 90000 / rate) & 0xFFFFFFFF,
                         0x2022_0007)
    s.sendto(header + datagram(0, seq), (group, port))
    delay = start + (seq + 1) / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
'''


def log(msg):
    mc.log(TAG, msg)


class ClusterOnePlusOne(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mroute-1plus1-")
        self.pg = mc.postgres_or_skip(TAG)
        self.nodes = {}
        self.merger = None
        self.sender = None
        self.rx = None

    def tearDown(self):
        failed = any(e for _, e in (self._outcome.result.errors + self._outcome.result.failures))
        for c in list(self.nodes.values()) + ([self.merger] if self.merger else []):
            try:
                c.stop(timeout=20)
            except Exception as e:
                log("stopping: %s" % e)
            if failed:
                sys.stderr.write("---- log (tail) ----\n%s\n" % c.read_log()[-5000:])
        if self.sender and self.sender.poll() is None:
            self.sender.kill()
            self.sender.wait()
        if self.rx:
            self.rx.stop()
        self.pg.stop()

    def leases(self, fid):
        return [(int(s), o) for s, o in self.pg.psql(
            "SELECT slot, owner FROM leases WHERE flow_id = '%s' AND expires_at > now() "
            "ORDER BY slot" % fid)]

    def test_kill9_one_leg_loses_nothing(self):
        self.rx = mc.Receiver(1).start()
        legs = [mc.free_port(), mc.free_port()]
        while legs[1] == legs[0]:
            legs[1] = mc.free_port()
        # downstream: a standalone controller merging the two legs
        self.merger = Controller().start()
        body = {"name": "merged", "sources": [
            {"name": "leg0", "protocol": "rtp", "ingest_port": legs[0], "ingest_address": "127.0.0.1"},
            {"name": "leg1", "protocol": "rtp", "ingest_port": legs[1], "ingest_address": "127.0.0.1"}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE",
                                       "recovery_window": 200},
            "source_monitor_config": {"thumbnail_enabled": False, "content_quality_enabled": False},
            "outputs": [{"name": "o", "protocol": "udp", "destination": "127.0.0.1",
                         "port": self.rx.ports[0]}]}
        r = self.merger.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        merged = r.json()["id"]
        self.assertEqual(self.merger.post("/v1/flows/%s/start" % merged).status, 200)

        for name in ("n1", "n2", "n3"):
            self.nodes[name] = mc.Node(self.pg.dsn, name, lease_ms=LEASE_MS, tick_ms=TICK_MS)
            self.nodes[name].start(timeout=20)
        group, port = "239.77.200.1", mc.free_port()
        body = {"name": "one-plus-one", "redundancy": 2,
                "source": {"name": "in", "protocol": "rtp", "ingest_address": group,
                           "ingest_port": port, "interface": "lo"},
                "source_monitor_config": {"thumbnail_enabled": False, "content_quality_enabled": False},
                "outputs": [{"name": "2022-7", "protocol": "rtp",
                             "legs": [{"address": "127.0.0.1", "port": legs[0]},
                                      {"address": "127.0.0.1", "port": legs[1]}]}]}
        r = self.nodes["n1"].post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.assertEqual(self.nodes["n2"].post("/v1/flows/%s/start" % fid).status, 200)

        total = int(RATE * 20)
        self.sender = subprocess.Popen([sys.executable, "-c", RTP_SENDER, group, str(port),
                                        str(RATE), str(total)],
                                       stderr=open(os.path.join(self.tmp, "sender.log"), "ab"))
        t_send = time.monotonic()
        two = mc.wait_until(lambda: len(set(o for _, o in self.leases(fid))) == 2, 10)
        self.assertTrue(two, "the 1+1 flow is not on two nodes: %r" % self.leases(fid))
        owners = self.leases(fid)
        log("slots: %r" % owners)
        ok = mc.wait_until(lambda: self.rx.count_since(0, time.monotonic() - 1.0) >= 0.8 * RATE, 10)
        self.assertTrue(ok, "the merged output is silent")
        # both legs reach the merger
        def legs_packets():
            ms = self.merger.get("/v1/flows/%s/metrics" % merged).json().get("merge_stats") or {}
            return ms.get("source_a_packets", 0), ms.get("source_b_packets", 0)
        a0, b0 = legs_packets()
        time.sleep(1.5)
        a1, b1 = legs_packets()
        log("merger before the kill: leg a +%d, leg b +%d packets in 1.5 s" % (a1 - a0, b1 - b0))
        self.assertGreater(a1 - a0, RATE, "leg a does not reach the merger")
        self.assertGreater(b1 - b0, RATE, "leg b does not reach the merger")

        victim = owners[0][1]
        t_kill = time.monotonic()
        seq_at_kill = int((t_kill - t_send) * RATE)
        self.nodes[victim].kill9()
        log("kill -9 %s (slot 0) at about datagram %d" % (victim, seq_at_kill))
        replaced = mc.wait_until(
            lambda: (lambda ls: len(ls) == 2 and victim not in [o for _, o in ls]
                     and len(set(o for _, o in ls)) == 2)(self.leases(fid)), 10)
        self.assertTrue(replaced, "slot 0 not taken by the third node: %r" % self.leases(fid))
        log("slots after the kill: %r (%.1f s after it)" % (self.leases(fid), time.monotonic() - t_kill))

        self.assertEqual(self.sender.wait(40), 0, "the sender failed")
        time.sleep(1.0)
        with self.rx.lock:
            seqs = list(self.rx.flows[0].seqs)
        dups = self.rx.duplicates(0)
        first = seq_at_kill - int(2 * RATE)
        got = set(q for q in seqs if q >= first)
        missing = [q for q in range(first, total) if q not in got]
        log("merged output: %d datagrams from %d to %d, %d missing, %d twice"
            % (len(got), first, total - 1, len(missing), len(dups)))
        self.assertEqual(missing, [], "lost at the merged output: %d datagrams, first %r"
                         % (len(missing), missing[:10]))
        self.assertEqual(dups, [], "datagrams twice at the merged output")


if __name__ == "__main__":
    mc.enter_private_netns(os.path.abspath(__file__), TAG)
    unittest.main(verbosity=2)
