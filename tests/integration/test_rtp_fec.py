#!/usr/bin/env python3
"""RTP-FEC (SMPTE 2022-1) end to end.

Flow A takes a real H.264/AAC clip over UDP and sends it out as `rtp-fec`
(media on P, column FEC on P+2, row FEC on P+4).  A relay in this test sits
between flow A and flow B (an `rtp-fec` source on Q, Q+2, Q+4) and drops
some of the media packets.  Flow B's UDP output must then be the clip, byte
for byte, because every dropped packet was one the FEC can rebuild; and with
the FEC streams cut off, the same losses must show as TS continuity gaps and
in the source's packets_lost (the source still works without FEC).
"""

import os
import shutil
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_media import (DGRAM, describe_dgram_mismatch, make_ts_clip, ts_cc_errors,  # noqa: E402
                          udp_socket)
from mroute_testcase import LO, MrouteTestCase  # noqa: E402

CLIP_DIR = None
CLIP = b""


class LossyRelay:
    """Forwards UDP from in_port+k to out_port+k (k = 0, 2, 4).  Media
    packets (k = 0) whose index is in `drop` are not forwarded; `fec` False
    drops the FEC streams altogether.  Bounded: stops after `hard` s."""

    def __init__(self, in_port, out_port, drop, fec=True, hard=40.0):
        self.drop = drop
        self.fec = fec
        self.hard = hard
        self.count = {0: 0, 2: 0, 4: 0}
        self.dropped = []
        self._stop = threading.Event()
        self.socks = {}
        for k in (0, 2, 4):
            s = udp_socket(in_port + k)
            s.settimeout(0.05)
            self.socks[k] = (s, (LO, out_port + k))
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                        for k in (0, 2, 4)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _run(self, k):
        s, dest = self.socks[k]
        t0 = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - t0 < self.hard:
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            i = self.count[k]
            self.count[k] += 1
            if k == 0 and i in self.drop:
                self.dropped.append(i)
                continue
            if k != 0 and not self.fec:
                continue
            self.tx.sendto(data, dest)

    def stop(self):
        self._stop.set()
        for t in self.threads:
            if t.ident is not None:
                t.join(5)
        for s, _ in self.socks.values():
            s.close()
        self.tx.close()


def send_clip(port, clip, rate_bps=3_000_000):
    """A paced UDP sender of the clip in 1316-byte datagrams."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    interval = DGRAM * 8 / rate_bps
    t = time.monotonic()
    for off in range(0, len(clip), DGRAM):
        s.sendto(clip[off:off + DGRAM], (LO, port))
        t += interval
        delay = t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    s.close()


def setUpModule():
    global CLIP_DIR, CLIP
    # the clip of test_fanout_e2e
    CLIP_DIR, _, CLIP = make_ts_clip("mroute-e2e-clip-", 4, 500 * 1024)


def tearDownModule():
    if CLIP_DIR:
        shutil.rmtree(CLIP_DIR, ignore_errors=True)


class RtpFecE2E(MrouteTestCase):
    LOG_TAIL = 4000

    def setUp(self):
        super().setUp()
        self.c = self.controller()

    def _flows(self, with_fec_streams):
        ingest_a = self.port()
        # media, column FEC and row FEC on P, P + 2, P + 4 (the picker
        # never hands out overlapping ranges)
        relay_in = self.even_port(6)
        b_in = self.even_port(6)
        out_port = self.port()
        self.rx = self.receiver(out_port, idle=3.0, hard=40.0).start()

        r = self.c.post("/v1/flows", {
            "name": "fec-b",
            "source": {"name": "fec-in", "protocol": "rtp-fec", "ingest_port": b_in,
                       "ingest_address": LO, "max_latency": 400},
            "outputs": [{"name": "out", "protocol": "udp", "destination": LO,
                         "port": out_port}]})
        self.assertEqual(r.status, 201, r.body)
        b = r.json()["id"]
        r = self.c.post("/v1/flows", {
            "name": "fec-a",
            "source": {"name": "in", "protocol": "udp", "ingest_port": ingest_a,
                       "ingest_address": LO},
            "outputs": [{"name": "fec-out", "protocol": "rtp-fec", "destination": LO,
                         "port": relay_in}]})
        self.assertEqual(r.status, 201, r.body)
        a = r.json()["id"]

        # 10 x 10 matrix: one loss per row and per column is recoverable;
        # drop one packet in each block of 100, at a different place each time
        n_media = len(CLIP) // DGRAM
        drop = set()
        for block in range(0, n_media, 100):
            k = block // 100
            drop.add(block + (k * 11) % 100)
        drop = {i for i in drop if 20 <= i < n_media - 120}
        self.relay = self.own(LossyRelay(relay_in, b_in, drop, fec=with_fec_streams)).start()

        for fid in (b, a):
            self.assertEqual(self.c.post("/v1/flows/%s/start" % fid).status, 200)
            self.c.wait_status(fid, "ACTIVE", timeout=15)
        return a, b, ingest_a, drop

    def test_fec_recovers_dropped_packets(self):
        a, b, ingest_a, drop = self._flows(with_fec_streams=True)
        send_clip(ingest_a, CLIP)
        self.assertTrue(self.rx.wait(30), "the receiver did not finish")
        got = self.rx.data()
        self.assertTrue(self.relay.dropped, "the relay dropped nothing")
        self.assertGreater(self.relay.count[2] + self.relay.count[4], 0,
                           "flow A sent no FEC packets")
        # the jitter buffer may hold back the last packets of the stream
        self.assertGreater(len(got), len(CLIP) * 0.9,
                           "got %d of %d bytes" % (len(got), len(CLIP)))
        self.assertEqual(got, CLIP[:len(got)],
                         "not the clip: %s" % describe_dgram_mismatch(got, CLIP))
        errors, notes = ts_cc_errors(got)
        self.assertEqual(errors, 0, notes)
        m = self.c.get("/v1/flows/%s/metrics" % b).json()
        src = m["source_metrics"][0]
        sys.stderr.write("[fec] dropped %d media packets of %d; FEC packets %d+%d; "
                         "metrics %r\n" % (len(self.relay.dropped), self.relay.count[0],
                                           self.relay.count[2], self.relay.count[4], src))
        self.assertEqual(src["packets_lost"], 0, src)
        self.assertEqual(src["packets_recovered"], len(self.relay.dropped), src)

    def test_without_fec_streams_losses_show(self):
        a, b, ingest_a, drop = self._flows(with_fec_streams=False)
        send_clip(ingest_a, CLIP)
        self.assertTrue(self.rx.wait(30), "the receiver did not finish")
        got = self.rx.data()
        self.assertTrue(self.relay.dropped)
        self.assertGreater(len(got), len(CLIP) * 0.8,
                           "the source does not work without FEC streams: %d bytes"
                           % len(got))
        errors, _ = ts_cc_errors(got)
        self.assertGreater(errors, 0, "dropped packets left no trace in the TS")
        m = self.c.get("/v1/flows/%s/metrics" % b).json()
        src = m["source_metrics"][0]
        sys.stderr.write("[fec] without FEC: dropped %d; metrics %r\n"
                         % (len(self.relay.dropped), src))
        self.assertEqual(src["packets_lost"], len(self.relay.dropped), src)
        self.assertEqual(src["packets_recovered"], 0, src)


if __name__ == "__main__":
    unittest.main(verbosity=2)
