#!/usr/bin/env python3
"""End-to-end test of MERGE mode (SMPTE ST 2022-7 hitless merge): a real
controller, one real sender (gst-launch-1.0 sending a real H.264/AAC
MPEG-TS clip as RTP, 7 TS packets per RTP packet, paced live) and a real
UDP receiver on the flow's output, all on 127.0.0.1.

The sender sends to a relay in this process, which keeps every payload by
sequence number (that is "the sent TS") and forwards each packet to the
flow's two RTP sources, "a" and "b", dropping the packets a seeded plan
says, per leg, and recording exactly which it dropped.

1. Complementary losses: each leg drops a different 5% of the packets
   (none on both).  The flow's UDP output is the sent TS byte for byte,
   without continuity errors; merge_stats agree exactly with the relay:
   each leg's packets are what the relay sent on it, its holes_filled the
   packets the other leg lost, its gap_fills (the original's meaning: the
   packets the output took from it) add up with the other leg's to
   output_packets, output_packets is every sequence number,
   missing_packets 0.  merge_active is true while the sender runs, and a
   merge_started event was written; once the sender has ended, the legs go
   silent, merge_active turns false with a merge_error event.
2. The same with leg b delayed by half the recovery window (50 ms of 100):
   still byte-identical, nothing missing, and skew_ms / b's lag_ms show the
   delay.
3. Both legs drop the same packets: those are the output's gaps.
   missing_packets counts them, the output is the sent TS without their
   payloads, and the TS has continuity errors.
4. A MERGE flow with a source that is not RTP (udp, srt-listener, also
   added live) is a 400 naming the source's protocol field.
5. A MERGE flow with one source runs single-leg (output, merge_error about
   it, merge_active false); adding the second source live makes
   merge_active true with a merge_started event, without a restart, and
   the output stays the sent TS.

Measurements go to stderr as "[merge] ..." lines.  Standard library only.
Every socket, thread and subprocess is bounded in time and cleaned up; the
whole file takes about 40 s.
"""

import collections
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import (DGRAM, describe_mismatch, make_ts_clip, ts_cc_errors,  # noqa: E402
                          udp_socket, wait_until)
from mroute_testcase import LO, MrouteTestCase, Receiver  # noqa: E402

CLIP_SECONDS = 8
WINDOW_MS = 100               # recovery_window of the flows
HEAD = 300                    # no drops in the first ~1 s (~290 packets/s)
TAIL = 50                     # ...nor near the end
SEQ_OFFSET = 65000            # the sequence numbers wrap during the clip

CLIP_DIR = None
CLIP_PATH = None
CLIP = b""


def note(msg):
    sys.stderr.write("    [merge] %s\n" % msg)
    sys.stderr.flush()


# --------------------------------------------------------------------------
# Drop plans: which packet indices (0 = the sender's first) each leg drops
# --------------------------------------------------------------------------

def complementary_plan(seed, n, rate=0.05):
    """Each leg drops `rate` of the packets, never the same one."""
    rng = random.Random(seed)
    a, b = set(), set()
    for i in range(HEAD, n - TAIL):
        r = rng.random()
        if r < rate:
            a.add(i)
        elif r < 2 * rate:
            b.add(i)
    return a, b


def common_plan(seed, n):
    """Both legs drop the same packets: 1% single ones and three bursts of
    four."""
    rng = random.Random(seed)
    d = {i for i in range(HEAD, n - TAIL) if rng.random() < 0.01}
    span = (n - TAIL - HEAD) // 4
    for k in (1, 2, 3):
        start = HEAD + k * span
        d.update(range(start, start + 4))
    return d, set(d)


# --------------------------------------------------------------------------
# The relay
# --------------------------------------------------------------------------

class Relay:
    """Receives the sender's RTP on in_port and sends each packet to leg
    a (port_a) and leg b (port_b) unless its index is in drop_a / drop_b;
    b's copies go out `delay_b` s later.  One thread; stops after `hard`
    s or on stop()."""

    def __init__(self, in_port, port_a, port_b, drop_a=(), drop_b=(), delay_b=0.0, hard=40.0):
        self.sock = udp_socket(in_port)
        self.dest = {"a": (LO, port_a), "b": (LO, port_b)}
        self.out = {"a": socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
                    "b": socket.socket(socket.AF_INET, socket.SOCK_DGRAM)}
        self.drop = {"a": set(drop_a), "b": set(drop_b)}
        self.delay_b = delay_b
        self.hard = hard
        self.payload = {}           # index -> RTP payload (the sent TS)
        self.indices = []           # indices in arrival order
        self.sent = {"a": 0, "b": 0}
        self.dropped = {"a": [], "b": []}
        self.send_errors = 0
        self.bad = 0                # not a plain RTP packet
        self.first_seq = None
        self.last_ext = None
        self.last_rx = None
        self.ssrc = set()
        self.pending = collections.deque()   # (due, data) for leg b
        self.max_b_late = 0.0       # how far past its due time a b copy went
        self.error = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="relay", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _send(self, leg, data):
        try:
            self.out[leg].sendto(data, self.dest[leg])
            self.sent[leg] += 1
        except OSError:     # nobody on that port yet (ICMP): not sent
            self.send_errors += 1

    def _packet(self, data, now):
        if len(data) < 12 or data[0] != 0x80:
            self.bad += 1
            return
        seq, ssrc = struct.unpack("!H4xI", data[2:12])
        self.ssrc.add(ssrc)
        if self.last_ext is None:
            ext = self.first_seq = seq
        else:
            ext = self.last_ext + ((seq - (self.last_ext & 0xFFFF) + 0x8000) & 0xFFFF) - 0x8000
        self.last_ext = ext if self.last_ext is None else max(self.last_ext, ext)
        i = ext - self.first_seq
        self.payload[i] = data[12:]
        self.indices.append(i)
        if i in self.drop["a"]:
            self.dropped["a"].append(i)
        else:
            self._send("a", data)
        if i in self.drop["b"]:
            self.dropped["b"].append(i)
        elif self.delay_b > 0:
            self.pending.append((now + self.delay_b, data))
        else:
            self._send("b", data)

    def _run(self):
        t0 = time.monotonic()
        try:
            while not self._stop.is_set() and time.monotonic() - t0 < self.hard:
                now = time.monotonic()
                while self.pending and self.pending[0][0] <= now:
                    due, data = self.pending.popleft()
                    self.max_b_late = max(self.max_b_late, now - due)
                    self._send("b", data)
                timeout = 0.05
                if self.pending:
                    timeout = min(timeout, max(0.0, self.pending[0][0] - now))
                r, _, _ = select.select([self.sock], [], [], timeout)
                if r:
                    data = self.sock.recv(65536)
                    now = time.monotonic()
                    self.last_rx = now
                    self._packet(data, now)
        except Exception as e:  # reported by the test
            self.error = e

    def idle(self, quiet=0.5):
        """Nothing came for `quiet` s and every delayed copy went out."""
        return (self.last_rx is not None and not self.pending
                and time.monotonic() - self.last_rx >= quiet)

    def stop(self):
        self._stop.set()
        if self.thread.ident is not None:
            self.thread.join(5)
        for s in [self.sock] + list(self.out.values()):
            try:
                s.close()
            except OSError:
                pass

    # what was sent ---------------------------------------------------------
    def count(self):
        return len(self.payload)

    def sent_ts(self, without=()):
        return b"".join(self.payload[i] for i in sorted(self.payload) if i not in without)


def setUpModule():
    global CLIP_DIR, CLIP_PATH, CLIP
    CLIP_DIR, CLIP_PATH, CLIP = make_ts_clip("mroute-merge-clip-", CLIP_SECONDS, 1024 * 1024)


def tearDownModule():
    if CLIP_DIR:
        shutil.rmtree(CLIP_DIR, ignore_errors=True)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

class MergeE2E(MrouteTestCase):

    def setUp(self):
        super().setUp()
        self.c = self.controller()

    # helpers --------------------------------------------------------------

    def sender(self, port):
        """gst-launch-1.0 sending the clip as RTP (rtpmp2tpay: up to 7 TS
        packets per RTP packet), paced by the clip's PCR."""
        cmd = ["gst-launch-1.0", "-q", "filesrc", "location=%s" % CLIP_PATH,
               "!", "tsparse", "set-timestamps=true",
               "!", "rtpmp2tpay", "seqnum-offset=%d" % SEQ_OFFSET,
               "!", "udpsink", "host=%s" % LO, "port=%d" % port, "sync=true"]
        return self.spawn(cmd, "sender", stdin=None)

    @staticmethod
    def legs(m):
        return {s["name"]: s for s in m.get("merge_stats", {}).get("sources", [])}

    def merge_flow(self, sources, out_port, window=WINDOW_MS):
        body = {"name": "merge-e2e", "sources": sources,
                "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE",
                                           "recovery_window": window},
                "outputs": [{"name": "o", "protocol": "udp", "destination": LO, "port": out_port}]}
        r = self.c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        flow = r.json()
        self.assertEqual(flow["source_failover_config"]["failover_mode"], "MERGE", flow)
        self.assertEqual(flow["source_failover_config"]["recovery_window"], window, flow)
        r = self.c.post("/v1/flows/%s/start" % flow["id"])
        self.assertEqual(r.status, 200, r.body)
        self.c.wait_status(flow["id"], "ACTIVE", timeout=15)
        return flow["id"]

    def rtp_source(self, name, port):
        return {"name": name, "protocol": "rtp", "ingest_port": port, "ingest_address": LO}

    def finish(self, proc, relay, rx, flow_id):
        """Waits for the sender to end, the relay and the output to go quiet
        and the merger to have accounted for every packet the relay got
        (sent or lost); returns the last metrics."""
        try:
            rc = proc.wait(CLIP_SECONDS + 20)
        except subprocess.TimeoutExpired:
            self.fail("the sender did not end within %d s" % (CLIP_SECONDS + 20))
        self.assertEqual(rc, 0, "the sender failed (exit %d)" % rc)
        self.assertTrue(wait_until(relay.idle, 5), "the relay did not go quiet")
        m = None

        def accounted():
            nonlocal m
            m = self.metrics(self.c, flow_id)
            st = m.get("merge_stats", {})
            return st.get("output_packets", 0) + st.get("missing_packets", 0) >= relay.count()

        wait_until(accounted, 5, step=0.2)

        # a filled hole is counted once no late copy can come any more (the
        # recovery window + leg timeout after the packet): every packet out
        # is then a hole one leg filled or has a duplicate
        def settled():
            st = self.metrics(self.c, flow_id).get("merge_stats", {})
            legs = st.get("sources", [])
            return (sum(leg.get("holes_filled", 0) + leg.get("duplicates", 0) for leg in legs)
                    == st.get("output_packets", -1))

        wait_until(settled, 5, step=0.2)
        wait_until(rx.quiet, 3)
        time.sleep(0.3)
        return self.metrics(self.c, flow_id)

    # 1-3: two legs through the lossy relay ----------------------------------

    def run_two_legs(self, label, plan, delay_b=0.0, window=WINDOW_MS):
        """Runs the clip through a two-leg MERGE flow; returns
        (relay, received bytes, metrics mid-run, events mid-run, final
        metrics, flow id)."""
        n_est = len(CLIP) // DGRAM      # fewer than the sender's packets
        drop_a, drop_b = plan(n_est)
        pa, pb, pin, pout = self.port(), self.port(), self.port(), self.port()
        rx = self.own(Receiver(pout, hard=40.0))
        relay = self.own(Relay(pin, pa, pb, drop_a, drop_b, delay_b=delay_b))
        flow_id = self.merge_flow([self.rtp_source("a", pa), self.rtp_source("b", pb)],
                                  pout, window)
        rx.start()
        relay.start()
        t0 = time.monotonic()
        proc = self.sender(pin)

        # mid-run: both legs deliver, the merge is on
        self.assertTrue(wait_until(lambda: len(rx.packets) >= 100, 10),
                        "%s: no output (%d datagrams; relay got %d packets)"
                        % (label, len(rx.packets), relay.count()))
        wait_until(lambda: time.monotonic() - t0 >= CLIP_SECONDS / 2, CLIP_SECONDS)
        mid = self.metrics(self.c, flow_id)
        mid_events = self.events(self.c, flow_id, oldest_first=True)
        self.assertIsNone(proc.poll(), "%s: the sender ended too early" % label)

        final = self.finish(proc, relay, rx, flow_id)
        for s in (relay, rx):
            s.stop()
            self.assertIsNone(s.error, "%s: %r" % (label, s.error))
        n_sent = relay.count()
        note("%s: %d packets sent (seq %d..%d, wrapping), %d TS bytes; relay dropped a %d, "
             "b %d, both %d; b delayed %.0f ms (late by up to %.1f ms); recovery_window %d"
             % (label, n_sent, relay.first_seq, (relay.first_seq + n_sent - 1) & 0xFFFF,
                len(relay.sent_ts()), len(relay.dropped["a"]), len(relay.dropped["b"]),
                len(set(relay.dropped["a"]) & set(relay.dropped["b"])), delay_b * 1000,
                relay.max_b_late * 1000, window))
        # the relay saw the whole clip, in order, from one sender
        self.assertEqual(relay.bad, 0, "%s: the sender sent non-RTP packets" % label)
        self.assertEqual(relay.send_errors, 0, "%s: the relay could not send %d packets"
                         % (label, relay.send_errors))
        self.assertEqual(len(relay.ssrc), 1, relay.ssrc)
        self.assertEqual(relay.indices, list(range(n_sent)),
                         "%s: the relay did not get the sender's packets in order" % label)
        self.assertEqual(relay.sent_ts(), CLIP, "%s: the sent TS is not the clip" % label)
        self.assertGreater(n_sent, n_est)
        got = rx.data()
        note("%s: output %d datagrams, %d bytes; mid-run merge_active %s, merge_stats %r"
             % (label, len(rx.packets), len(got), mid.get("merge_active"), mid.get("merge_stats")))
        note("%s: final merge_stats %r; output metrics %r"
             % (label, final.get("merge_stats"), final.get("output_metrics")))
        return relay, got, mid, mid_events, final, flow_id

    def check_mid_run(self, label, mid, mid_events):
        self.assertEqual(mid.get("status"), "ACTIVE", mid)
        self.assertIs(mid.get("merge_active"), True, "%s: merge_active mid-run: %r" % (label, mid))
        st = mid["merge_stats"]
        self.assertEqual(st["active_legs"], 2, st)
        self.assertEqual(st["recovery_window_ms"], WINDOW_MS, st)
        legs = self.legs(mid)
        self.assertEqual(set(legs), {"a", "b"}, st)
        self.assertTrue(legs["a"]["delivering"] and legs["b"]["delivering"], st)
        sel = {s["name"]: s["source_selected"] for s in mid["source_metrics"]}
        self.assertEqual(sel, {"a": True, "b": True}, "%s: in MERGE every source feeds the output: %r"
                         % (label, mid["source_metrics"]))
        types = [e["type"] for e in mid_events]
        self.assertIn("merge_started", types, "%s: events %r" % (label, mid_events))
        self.assertNotIn("merge_error", types, "%s: events %r" % (label, mid_events))
        self.assertNotIn("flow_stopped", types, "%s: events %r" % (label, mid_events))
        self.assertEqual(types.count("merge_started"), 1, "%s: events %r" % (label, mid_events))

    def check_gap_fills_sum(self, label, st, tolerance=0):
        """The original README's example: "source_a_gap_fills": 85000 +
        "source_b_gap_fills": 5000 = "output_packets": 90000, the packets the
        output took from each leg.  Ours are counted in the same step as
        output_packets, so one reading adds up exactly; @tolerance allows for
        packets in flight when a reading is not from one instant."""
        a, b, out = st["source_a_gap_fills"], st["source_b_gap_fills"], st["output_packets"]
        note("%s: source_a_gap_fills %d + source_b_gap_fills %d = %d, output_packets %d; "
             "holes_filled a %d b %d" % (label, a, b, a + b, out, st["source_a_holes_filled"],
                                        st["source_b_holes_filled"]))
        self.assertGreater(out, 0, "%s: nothing went out: %r" % (label, st))
        self.assertLessEqual(abs(a + b - out), tolerance,
                             "%s: gap_fills a + b should be output_packets: %r" % (label, st))
        legs = {leg["name"]: leg for leg in st["sources"]}
        for name in ("a", "b"):
            self.assertEqual(legs[name]["gap_fills"], legs[name]["used"], st)

    def check_hitless(self, label, relay, got, final):
        """Cases 1 and 2: each leg lost other packets; the output is whole."""
        n = relay.count()
        da, db = set(relay.dropped["a"]), set(relay.dropped["b"])
        self.assertFalse(da & db, "%s: the plan dropped a packet on both legs" % label)
        self.assertGreater(len(da), n * 0.03, "%s: leg a dropped only %d" % (label, len(da)))
        self.assertGreater(len(db), n * 0.03, "%s: leg b dropped only %d" % (label, len(db)))
        sent = relay.sent_ts()
        if got != sent:
            self.fail("%s: the output is not the sent TS: %s" % (label, describe_mismatch(got, sent)))
        errors, notes = ts_cc_errors(got)
        self.assertEqual(errors, 0, "%s: continuity errors in the output: %s" % (label, notes))
        st = final["merge_stats"]
        want = {"source_a_packets": relay.sent["a"], "source_b_packets": relay.sent["b"],
                "source_a_holes_filled": len(db), "source_b_holes_filled": len(da),
                "output_packets": n, "missing_packets": 0, "restarts": 0}
        have = {k: st.get(k) for k in want}
        self.assertEqual(have, want, "%s: merge_stats vs. the relay's record: %r" % (label, st))
        legs = self.legs(final)
        self.assertEqual(legs["a"]["packets"], relay.sent["a"], st)
        self.assertEqual(legs["b"]["packets"], relay.sent["b"], st)
        self.assertEqual(legs["a"]["holes_filled"], len(db), st)
        self.assertEqual(legs["b"]["holes_filled"], len(da), st)
        self.assertEqual(legs["a"]["used"] + legs["b"]["used"], n, st)
        self.check_gap_fills_sum(label, st)
        # each leg went out at least for the holes of the other
        self.assertGreaterEqual(st["source_a_gap_fills"], len(db), st)
        self.assertGreaterEqual(st["source_b_gap_fills"], len(da), st)
        # every packet both legs had: one copy went out, the other is a duplicate
        self.assertEqual(legs["a"]["duplicates"] + legs["b"]["duplicates"], n - len(da) - len(db), st)
        for leg in ("a", "b"):
            for k in ("late", "foreign", "invalid"):
                self.assertEqual(legs[leg][k], 0, "%s: %s.%s: %r" % (label, leg, k, st))
        out = {o["name"]: o for o in final["output_metrics"]}["o"]
        self.assertEqual(out["bytes_sent"], len(got), "%s: output metrics %r" % (label, out))

    def test_1_complementary_losses_hitless(self):
        relay, got, mid, mid_events, final, flow_id = self.run_two_legs(
            "complementary", lambda n: complementary_plan(1, n))
        self.check_mid_run("complementary", mid, mid_events)
        st = mid["merge_stats"]
        self.check_gap_fills_sum("complementary mid-run", st, tolerance=2)
        note("complementary: mid-run skew_ms %.1f, lag_ms a %.1f b %.1f"
             % (st["skew_ms"], self.legs(mid)["a"]["lag_ms"], self.legs(mid)["b"]["lag_ms"]))
        self.assertLess(st["skew_ms"], 20, st)
        self.check_hitless("complementary", relay, got, final)
        # the sender has ended: the legs go silent (leg-timeout 1 s)
        ok = wait_until(lambda: self.metrics(self.c, flow_id).get("merge_active") is False, 4, step=0.2)
        m = self.metrics(self.c, flow_id)
        errs = [e for e in self.events(self.c, flow_id, oldest_first=True) if e["type"] == "merge_error"]
        note("complementary: after the end merge_active %s, active_legs %s, merge_error events %r"
             % (m.get("merge_active"), m["merge_stats"]["active_legs"], [e["message"] for e in errs]))
        self.assertTrue(ok, "merge_active still true after the sender ended: %r" % m)
        self.assertEqual(m["status"], "ACTIVE", m)
        self.assertTrue(errs and "delivers nothing" in errs[0]["message"], errs)

    def test_2_complementary_losses_leg_b_half_a_window_late(self):
        delay = WINDOW_MS / 2000.0
        relay, got, mid, mid_events, final, _ = self.run_two_legs(
            "delayed", lambda n: complementary_plan(2, n), delay_b=delay)
        self.check_mid_run("delayed", mid, mid_events)
        st = mid["merge_stats"]
        legs = self.legs(mid)
        note("delayed: b sent %.0f ms after a (up to %.1f ms later still); mid-run skew_ms %.1f, "
             "lag_ms a %.1f b %.1f" % (delay * 1000, relay.max_b_late * 1000, st["skew_ms"],
                                       legs["a"]["lag_ms"], legs["b"]["lag_ms"]))
        self.assertTrue(35 <= st["skew_ms"] <= 80, "skew_ms should be about 50: %r" % st)
        self.assertTrue(35 <= legs["b"]["lag_ms"] <= 80, "b's lag_ms should be about 50: %r" % st)
        self.assertLess(legs["a"]["lag_ms"], 10, st)
        self.check_hitless("delayed", relay, got, final)
        # a, always first, sends what it has; b only the holes of a
        self.assertEqual(self.legs(final)["b"]["used"], len(relay.dropped["a"]), final["merge_stats"])

    def test_3_same_losses_on_both_legs_are_missing(self):
        relay, got, mid, mid_events, final, _ = self.run_two_legs(
            "same-losses", lambda n: common_plan(3, n))
        self.check_mid_run("same-losses", mid, mid_events)
        n = relay.count()
        d = set(relay.dropped["a"])
        self.assertEqual(d, set(relay.dropped["b"]))
        self.assertGreater(len(d), 12)
        want = relay.sent_ts(without=d)
        if got != want:
            self.fail("same-losses: the output is not the sent TS without the %d lost packets: %s"
                      % (len(d), describe_mismatch(got, want)))
        errors, notes = ts_cc_errors(got)
        note("same-losses: %d packets lost on both legs (%d TS packets); output has %d continuity "
             "errors, e.g. %s" % (len(d), sum(len(relay.payload[i]) for i in d) // 188, errors,
                                  notes[:3]))
        self.assertGreater(errors, 0, "the lost packets left no trace in the TS")
        st = final["merge_stats"]
        want_st = {"missing_packets": len(d), "output_packets": n - len(d),
                   "source_a_packets": n - len(d), "source_b_packets": n - len(d),
                   "source_a_holes_filled": 0, "source_b_holes_filled": 0, "restarts": 0}
        self.assertEqual({k: st.get(k) for k in want_st}, want_st,
                         "same-losses: merge_stats vs. the relay's record: %r" % st)
        self.check_gap_fills_sum("same-losses", st)
        legs = self.legs(final)
        self.assertEqual(legs["a"]["late"] + legs["b"]["late"], 0, st)

    # 4: MERGE needs RTP sources ------------------------------------------------

    def test_4_merge_with_non_rtp_source_is_400(self):
        pa, pb, pout = self.port(), self.port(), self.port()
        cfg = {"state": "ENABLED", "failover_mode": "MERGE", "recovery_window": WINDOW_MS}
        outputs = [{"name": "o", "protocol": "udp", "destination": LO, "port": pout}]
        cases = [
            ("sources[1].protocol", "udp",
             [self.rtp_source("a", pa), {"name": "b", "protocol": "udp", "ingest_port": pb}]),
            ("sources[0].protocol", "srt-listener",
             [{"name": "a", "protocol": "srt-listener", "ingest_port": pa}, self.rtp_source("b", pb)]),
        ]
        for field, proto, sources in cases:
            r = self.c.post("/v1/flows", {"name": "bad", "sources": sources,
                                          "source_failover_config": cfg, "outputs": outputs})
            self.assertEqual(r.status, 400, r.body)
            body = r.json()
            note("MERGE with a %s source: %d %r" % (proto, r.status, body))
            self.assertEqual(body.get("field"), field, body)
            self.assertTrue(body.get("error", "").startswith(field + ":"), body)
            self.assertIn("MERGE", body["error"], body)
            self.assertIn(proto, body["error"], body)
        r = self.c.post("/v1/flows", {"name": "bad", "sources": [self.rtp_source("a", pa)],
                                      "source_failover_config": dict(cfg, recovery_window=5),
                                      "outputs": outputs})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json().get("field"), "source_failover_config.recovery_window", r.body)
        self.assertEqual(self.c.get("/v1/flows").json()["flows"], [], "a rejected flow was stored")

        # a udp source added to a MERGE flow: the same answer, nothing changes
        r = self.c.post("/v1/flows", {"name": "one", "sources": [self.rtp_source("a", pa)],
                                      "source_failover_config": cfg, "outputs": outputs})
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        r = self.c.post("/v1/flows/%s/source" % fid, {"name": "b", "protocol": "udp", "ingest_port": pb})
        note("adding a udp source to a MERGE flow: %d %r" % (r.status, r.json()))
        self.assertEqual(r.status, 400, r.body)
        body = r.json()
        self.assertTrue(body.get("field", "").endswith("protocol"), body)
        self.assertIn("MERGE", body.get("error", ""), body)
        flow = self.c.get("/v1/flows/%s" % fid).json()
        self.assertEqual([s["name"] for s in flow["sources"]], ["a"], flow)

    # 5: single leg, then the second leg added live ------------------------------

    def test_5_single_leg_then_second_source_added_live(self):
        pa, pb, pin, pout = self.port(), self.port(), self.port(), self.port()
        rx = self.own(Receiver(pout, hard=40.0))
        relay = self.own(Relay(pin, pa, pb))
        flow_id = self.merge_flow([self.rtp_source("a", pa)], pout)
        rx.start()
        relay.start()
        proc = self.sender(pin)

        self.assertTrue(wait_until(lambda: len(rx.packets) >= 100, 10),
                        "single-leg MERGE flow: no output (%d datagrams)" % len(rx.packets))
        m1 = self.metrics(self.c, flow_id)
        evs = self.events(self.c, flow_id, oldest_first=True)
        note("single leg: merge_active %s, merge_stats %r" % (m1.get("merge_active"), m1.get("merge_stats")))
        note("single leg: events %r" % [(e["type"], e["message"]) for e in evs])
        self.assertEqual(m1["status"], "ACTIVE", m1)
        self.assertIs(m1.get("merge_active"), False, m1)
        self.assertEqual(m1["merge_stats"]["active_legs"], 1, m1)
        errs = [e for e in evs if e["type"] == "merge_error"]
        self.assertTrue(errs and "single-leg" in errs[0]["message"],
                        "no merge_error about running single-leg: %r" % evs)
        self.assertFalse([e for e in evs if e["type"] == "merge_started"], evs)

        time.sleep(1.0)
        up_before = self.metrics(self.c, flow_id)["uptime_seconds"]
        t_add = time.monotonic()
        r = self.c.post("/v1/flows/%s/source" % flow_id, self.rtp_source("b", pb))
        self.assertEqual(r.status, 201, r.body)
        flow = r.json()
        self.assertEqual([s["name"] for s in flow["sources"]], ["a", "b"], flow)
        self.assertEqual(flow["status"], "ACTIVE", flow)
        m2 = None

        def merging():
            nonlocal m2
            m2 = self.metrics(self.c, flow_id)
            return m2.get("merge_active") is True

        ok = wait_until(merging, 5, step=0.1)
        t_merge = time.monotonic() - t_add
        self.assertTrue(ok, "merge_active not true 5 s after adding b: %r" % m2)
        self.assertIsNone(proc.poll(), "the sender ended before the merge started")
        time.sleep(1.5)
        m3 = self.metrics(self.c, flow_id)
        evs = self.events(self.c, flow_id, oldest_first=True)
        note("second source added live: merge_active after %.2f s; uptime %s s before, %s s 1.5 s "
             "later; merge_stats %r" % (t_merge, up_before, m3["uptime_seconds"], m3["merge_stats"]))
        self.assertIs(m3.get("merge_active"), True, m3)
        self.assertEqual(m3["merge_stats"]["active_legs"], 2, m3)
        self.assertGreaterEqual(m3["uptime_seconds"], up_before + 1, "the flow restarted: %r" % m3)
        types = [e["type"] for e in evs]
        self.assertIn("merge_started", types, evs)
        self.assertEqual(types.count("flow_started"), 1, "the flow restarted: %r" % evs)
        self.assertNotIn("flow_stopped", types, "the flow restarted: %r" % evs)
        self.assertEqual(self.c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")
        legs = self.legs(m3)
        self.assertGreater(legs["b"]["packets"], 0, m3)
        self.assertGreater(legs["b"]["duplicates"], 0, m3)

        final = self.finish(proc, relay, rx, flow_id)
        for s in (relay, rx):
            s.stop()
            self.assertIsNone(s.error, repr(s.error))
        got = rx.data()
        st = final["merge_stats"]
        note("second source added live: %d packets sent, output %d bytes; final merge_stats %r"
             % (relay.count(), len(got), st))
        sent = relay.sent_ts()
        self.assertEqual(sent, CLIP)
        if got != sent:
            self.fail("the output is not the sent TS across the live add: %s"
                      % describe_mismatch(got, sent))
        self.assertEqual(st["output_packets"], relay.count(), st)
        self.assertEqual(st["missing_packets"], 0, st)
        self.assertEqual(st["source_a_packets"], relay.count(), st)
        # before b joined a alone had the packets; after, b had every one too
        self.assertEqual(st["source_a_holes_filled"], relay.count() - st["source_b_packets"], st)
        self.assertEqual(st["source_b_holes_filled"], 0, st)
        self.check_gap_fills_sum("live add", st)


if __name__ == "__main__":
    unittest.main(verbosity=2)
