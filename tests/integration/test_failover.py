#!/usr/bin/env python3
"""End-to-end test of FAILOVER mode (issue 5): a real controller, two real
live senders of the same programme (gst-launch-1.0, H.264 in MPEG-TS) and a
real UDP receiver on the flow's output, all on 127.0.0.1.

Each sender sends to a small relay in this process, which forwards every
datagram to its source port of the flow and keeps a copy.  Every datagram
that leaves the flow is then matched, byte for byte, to the sender it came
from (or to a 188-byte aligned tail of one, for a buffer the selector cut at
a random-access point), and the output is split into runs of consecutive
datagrams of one sender.

1. Both senders run, the output carries the primary; the primary is killed
   (SIGKILL), the output goes on with the backup within `timeout` (500 ms)
   + 300 ms, a `source_failover` event (reason timeout) is written and the
   metrics show the backup; the primary is restarted, and after
   `recovery-time` (2 s) the output comes from it again, starting at a TS
   packet that is a random-access point, with a `primary_recovered` event.
   The first packets after each switch are checked: the output is the
   sender's datagrams from the switch on, consecutive, without continuity
   errors; the first datagram of the return is the tail of a sender's
   datagram that starts at a random-access point.
2. Removing the backup source of a running failover flow leaves it ACTIVE
   and its output running on the primary; the gap this causes is measured
   and reported (asserted only when it exceeds 5 s).

Measurements go to stderr as "[failover] ..." lines.  Standard library
only.  Every socket, thread and subprocess is bounded in time and cleaned
up; the whole file takes about 20 s (45 s at most per test).
"""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import TS, kill_proc, ts_cc_errors  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, Receiver, gst_has  # noqa: E402

SELECTOR_TIMEOUT = 0.5       # failoverselector `timeout` default, s
RECOVERY_TIME = 2.0          # failoverselector `recovery-time` default, s
SLACK = 0.3                  # two shared cores
KEY_INT = 25                 # frames between key frames (1 s at 25 fps)

VERBOSE = True


def note(msg):
    if VERBOSE:
        sys.stderr.write("    [failover] %s\n" % msg)
        sys.stderr.flush()


# --------------------------------------------------------------------------
# MPEG-TS parsing
# --------------------------------------------------------------------------

def ts_packets(data):
    return [data[o:o + TS] for o in range(0, len(data) - TS + 1, TS)]


def h264_nal_types(es):
    """NAL unit types of the Annex B start codes in an elementary stream
    fragment."""
    types = []
    i = es.find(b"\x00\x00\x01")
    while 0 <= i and i + 3 < len(es):
        types.append(es[i + 3] & 0x1F)
        i = es.find(b"\x00\x00\x01", i + 3)
    return types


def ts_random_access(pkt):
    """Is this TS packet a random-access point?  Returns (bool, why):
    an adaptation field with random_access_indicator set, or
    payload_unit_start_indicator with a video PES whose payload, within this
    packet, holds an H.264 IDR slice (NAL 5) or SPS (NAL 7)."""
    if len(pkt) != TS or pkt[0] != 0x47:
        return False, "not a TS packet (length %d, first byte 0x%02x)" % (len(pkt), pkt[0] if pkt else -1)
    pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
    pusi = bool(pkt[1] & 0x40)
    afc = (pkt[3] >> 4) & 0x3
    payload_off = 4
    if afc & 0x2:
        af_len = pkt[4]
        if af_len > 0 and pkt[5] & 0x40:
            return True, "pid 0x%04x: random_access_indicator" % pid
        payload_off = 5 + af_len
    if not (afc & 0x1) or not pusi:
        return False, "pid 0x%04x: no RAI, pusi=%d afc=%d" % (pid, pusi, afc)
    pl = pkt[payload_off:]
    if len(pl) < 9 or pl[:3] != b"\x00\x00\x01":
        return False, "pid 0x%04x: payload is not a PES start" % pid
    stream_id = pl[3]
    if not 0xE0 <= stream_id <= 0xEF:
        return False, "pid 0x%04x: PES of stream_id 0x%02x, not video" % (pid, stream_id)
    es = pl[9 + pl[8]:]
    nals = h264_nal_types(es)
    if 5 in nals or 7 in nals:
        return True, "pid 0x%04x: video PES starting an H.264 access unit with NALs %r" % (pid, nals)
    return False, "pid 0x%04x: video PES with NALs %r (no IDR/SPS)" % (pid, nals)


def pes_nal_types(pkt):
    """H.264 NAL types in the payload of a TS packet that starts a PES
    (None if it does not)."""
    if len(pkt) != TS or not pkt[1] & 0x40:
        return None
    afc = (pkt[3] >> 4) & 0x3
    off = 4 + (1 + pkt[4] if afc & 0x2 else 0)
    pl = pkt[off:]
    if not afc & 0x1 or len(pl) < 9 or pl[:3] != b"\x00\x00\x01":
        return None
    return h264_nal_types(pl[9 + pl[8]:])


# --------------------------------------------------------------------------
# Sockets: a receiver and a recording relay
# --------------------------------------------------------------------------

class Relay(Receiver):
    """A Receiver that also forwards every datagram to 127.0.0.1:target at
    once, and remembers the set of datagrams it saw (for live checks)."""

    def __init__(self, label, port, target, hard=50.0):
        super().__init__(port, hard=hard, forward=target)
        self.label = label
        self.target = target
        self.seen = set()

    def on_datagram(self, now, data):
        super().on_datagram(now, data)
        self.seen.add(data)


# --------------------------------------------------------------------------
# Matching the output to the senders
# --------------------------------------------------------------------------

class Run:
    """Consecutive output datagrams that are consecutive datagrams (or the
    tail of the first one) of one sender."""

    def __init__(self, label, out_index, relay_index, offset, t):
        self.label = label
        self.start = out_index          # index in the output capture
        self.end = out_index
        self.relay_start = relay_index  # index in the relay's capture
        self.relay_index = relay_index
        self.offset = offset            # bytes cut from the first datagram
        self.t_start = t
        self.t_end = t
        self.skips = []                 # (output index, datagrams missing)

    def __repr__(self):
        return ("Run(%s, out %d-%d, %d datagrams, relay from %d, cut %d bytes, skips %d)"
                % (self.label, self.start, self.end, self.end - self.start + 1,
                   self.relay_start, self.offset, sum(n for _, n in self.skips)))


def segment(output, relays, lookahead=64):
    """Splits the output capture [(t, datagram)] into Runs of the relays'
    captures.  Returns (runs, unknown output indices)."""
    recs = {r.label: r.snapshot() for r in relays}
    index = {}
    for label, rec in recs.items():
        for j, (_, d) in enumerate(rec):
            for off in range(0, len(d), TS):
                index.setdefault(d[off:], []).append((label, j, off))

    def continues(label, j, i, n=5):
        rec = recs[label]
        k = 0
        while k < n and i + 1 + k < len(output) and j + 1 + k < len(rec) \
                and output[i + 1 + k][1] == rec[j + 1 + k][1]:
            k += 1
        return k

    runs = []
    unknown = []
    cur = None
    for i, (t, d) in enumerate(output):
        if cur is not None:
            rec = recs[cur.label]
            found = None
            for j in range(cur.relay_index + 1, min(cur.relay_index + 1 + lookahead, len(rec))):
                if rec[j][1] == d:
                    found = j
                    break
            if found is not None:
                if found > cur.relay_index + 1:
                    cur.skips.append((i, found - cur.relay_index - 1))
                cur.relay_index = found
                cur.end = i
                cur.t_end = t
                continue
        cands = index.get(d)
        if not cands:
            unknown.append(i)
            continue
        label, j, off = max(cands, key=lambda c: (continues(c[0], c[1], i), c[2] == 0))
        cur = Run(label, i, j, off, t)
        runs.append(cur)
    return runs, unknown


def merged_labels(runs, min_len=1):
    out = []
    for r in runs:
        if r.end - r.start + 1 < min_len:
            continue
        if not out or out[-1] != r.label:
            out.append(r.label)
    return out


def max_gap(times, t_from=None, t_to=None):
    """(largest gap between consecutive times inside [t_from, t_to], its
    start)."""
    sel = [t for t in times if (t_from is None or t >= t_from) and (t_to is None or t <= t_to)]
    best, at = 0.0, None
    for a, b in zip(sel, sel[1:]):
        if b - a > best:
            best, at = b - a, a
    return best, at


# --------------------------------------------------------------------------
# Senders
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

class FailoverE2E(MrouteTestCase):
    LOG_TAIL = 4000
    METRICS_POLL = 0.1
    METRICS_TIMEOUT = 5

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for e in ("videotestsrc", "x264enc", "mpegtsmux", "udpsink"):
            if not gst_has(e):
                raise unittest.SkipTest("GStreamer element %s is not installed" % e)

    # helpers --------------------------------------------------------------

    def sender(self, name, pattern, port):
        """A live H.264/MPEG-TS sender of 60 s at most (1500 frames)."""
        cmd = ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=1500",
               "pattern=%s" % pattern,
               "!", "video/x-raw,width=320,height=240,framerate=25/1",
               "!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "bitrate=1000",
               "key-int-max=%d" % KEY_INT,
               "!", "mpegtsmux", "alignment=7",
               "!", "udpsink", "host=%s" % LO, "port=%d" % port, "sync=false"]
        return self.spawn(cmd, "sender-%s" % name, stdin=None, stop_signal=signal.SIGKILL)

    def events(self, c, flow_id, types=None):
        return super().events(c, flow_id, types, oldest_first=True)

    def failover_flow(self, c, ingest_p, ingest_b, out_port):
        body = {
            "name": "failover-e2e",
            "sources": [
                {"name": "primary", "protocol": "udp", "ingest_port": ingest_p, "ingest_address": LO},
                {"name": "backup", "protocol": "udp", "ingest_port": ingest_b, "ingest_address": LO},
            ],
            "outputs": [{"name": "out", "protocol": "udp", "destination": LO, "port": out_port}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                       "source_priority": {"primary_source": "primary"}},
        }
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        flow = r.json()
        self.assertEqual([s["name"] for s in flow["sources"]], ["primary", "backup"], flow)
        self.assertEqual(flow["source_failover_config"]["state"], "ENABLED", flow)
        self.assertEqual(flow["source_failover_config"]["failover_mode"], "FAILOVER", flow)
        r = c.post("/v1/flows/%s/start" % flow["id"])
        self.assertEqual(r.status, 200, r.body)
        c.wait_status(flow["id"], "ACTIVE", timeout=15)
        return flow["id"]

    def setup_plumbing(self):
        """Controller, failover flow, receiver, relays; both senders on."""
        ingest_p, ingest_b, relay_p, relay_b, out_port = (self.port() for _ in range(5))
        rx = self.own(Receiver(out_port, hard=50.0))
        relays = {"P": self.own(Relay("P", relay_p, ingest_p)),
                  "B": self.own(Relay("B", relay_b, ingest_b))}
        c = self.controller()
        flow_id = self.failover_flow(c, ingest_p, ingest_b, out_port)
        rx.start()
        relays["P"].start()
        relays["B"].start()
        senders = {"P": self.sender("primary", "smpte", relay_p),
                   "B": self.sender("backup", "ball", relay_b)}
        return c, flow_id, rx, relays, senders, relay_p

    def count_from(self, rx, relay, t):
        seen = relay.seen
        return sum(1 for ts, d in rx.snapshot() if ts >= t and d in seen)

    @staticmethod
    def by_name(m):
        return {s["name"]: s for s in m.get("source_metrics", [])}

    # 1 -------------------------------------------------------------------

    def test_failover_to_backup_and_back_to_primary_at_rap(self):
        c, flow_id, rx, relays, senders, relay_p = self.setup_plumbing()
        P, B = relays["P"], relays["B"]
        t_begin = time.monotonic()

        # -- phase 1: the output carries the primary --------------------
        ok = self.wait_until(lambda: self.count_from(rx, P, t_begin) >= 100 and len(B.packets) >= 100, 20)
        self.assertTrue(ok, "the output does not carry the primary: output %d datagrams, of which "
                            "%d primary, %d backup; relays got P %d, B %d; senders alive P %s B %s"
                        % (len(rx.packets), self.count_from(rx, P, 0), self.count_from(rx, B, 0),
                           len(P.packets), len(B.packets),
                           senders["P"].poll() is None, senders["B"].poll() is None))
        time.sleep(1.0)
        m = self.metrics_when(c, flow_id, lambda m: m["active_source"] == "primary")
        self.assertEqual(m.get("active_source"), "primary", m)
        self.assertEqual(m.get("failover_count"), 0, m)
        srcs = self.by_name(m)
        self.assertEqual(set(srcs), {"primary", "backup"}, m)
        self.assertTrue(srcs["primary"]["source_selected"], m)
        self.assertFalse(srcs["backup"]["source_selected"], m)
        self.assertTrue(srcs["backup"]["packets_received"] > 0, "the backup branch receives nothing: %r" % m)

        # -- phase 2: kill the primary --------------------------------------
        t_kill = time.monotonic()
        senders["P"].kill()
        senders["P"].wait(5)
        ok = self.wait_until(lambda: self.count_from(rx, B, t_kill) >= 50, 8)
        self.assertTrue(ok, "the output does not go on with the backup after the primary was killed: "
                            "%d datagrams since, %d of the backup"
                        % (sum(1 for t, _ in rx.snapshot() if t >= t_kill), self.count_from(rx, B, t_kill)))
        m = self.metrics_when(c, flow_id, lambda m: m["active_source"] == "backup"
                              and m["failover_count"] >= 1 and self.by_name(m)["backup"]["source_selected"])
        self.assertEqual(m.get("active_source"), "backup", "metrics after the failover: %r" % m)
        self.assertGreaterEqual(m.get("failover_count", 0), 1, m)
        srcs = self.by_name(m)
        self.assertTrue(srcs["backup"]["source_selected"], m)
        self.assertFalse(srcs["primary"]["source_selected"], m)
        failover_count_1 = m["failover_count"]
        evs = self.events(c, flow_id, {"source_failover"})
        self.assertTrue(evs, "no source_failover event: %r" % self.events(c, flow_id))
        ev = evs[0]
        for word in ("primary", "backup", "timeout"):
            self.assertIn(word, ev.get("message", ""), "source_failover event: %r" % ev)
        self.assertLess(ev["message"].find("primary"), ev["message"].find("backup"),
                        "source_failover should name the source left first: %r" % ev)
        n_failover_events = len(evs)
        # the dead primary is reported disconnected (no data for 2 s)
        m = self.metrics_when(c, flow_id, lambda m: not self.by_name(m)["primary"]["connected"],
                              timeout=max(0.5, t_kill + 4.0 - time.monotonic()))
        self.assertFalse(self.by_name(m)["primary"]["connected"],
                         "the killed primary is still 'connected' %.1f s after the kill: %r"
                         % (time.monotonic() - t_kill, m))
        self.assertTrue(self.by_name(m)["backup"]["connected"], m)
        self.assertEqual(m["active_source"], "backup", m)
        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", "the flow after the primary died: %r" % st)

        # -- phase 3: restart the primary -----------------------------------
        t_restart = time.monotonic()
        senders["P"] = self.sender("primary", "smpte", relay_p)
        limit = RECOVERY_TIME + 3 * KEY_INT / 25.0 + 4.0
        ok = self.wait_until(lambda: self.count_from(rx, P, t_restart) >= 50, limit + 3)
        self.assertTrue(ok, "the output did not return to the restarted primary within %.1f s: "
                            "relay P got %d datagrams since the restart; output %d since, of which "
                            "%d backup, %d primary"
                        % (limit + 3, sum(1 for t, _ in P.snapshot() if t >= t_restart),
                           sum(1 for t, _ in rx.snapshot() if t >= t_restart),
                           self.count_from(rx, B, t_restart), self.count_from(rx, P, t_restart)))
        m = self.metrics_when(c, flow_id, lambda m: m["active_source"] == "primary"
                              and self.by_name(m)["primary"]["source_selected"])
        self.assertEqual(m.get("active_source"), "primary", "metrics after the recovery: %r" % m)
        self.assertGreaterEqual(m.get("failover_count", 0), failover_count_1 + 1, m)
        srcs = self.by_name(m)
        self.assertTrue(srcs["primary"]["source_selected"], m)
        self.assertFalse(srcs["backup"]["source_selected"], m)
        failover_count_2 = m["failover_count"]
        evs = self.events(c, flow_id, {"primary_recovered"})
        self.assertTrue(evs, "no primary_recovered event: %r" % self.events(c, flow_id))
        self.assertIn("primary", evs[0].get("message", ""), evs[0])
        time.sleep(1.5)
        t_end = time.monotonic()

        for s in (rx, P, B):
            s.stop()
            self.assertIsNone(s.error, "socket %d: %r" % (s.port, s.error))
        all_events = self.events(c, flow_id)
        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", st)

        # -- analysis ---------------------------------------------------------
        out = rx.snapshot()
        out_times = [t for t, _ in out]
        runs, unknown = segment(out, [P, B])
        labels = merged_labels(runs)
        note("output: %d datagrams; runs: %r" % (len(out), runs))
        note("events: %r" % [(e["type"], e["message"]) for e in all_events])
        self.assertFalse(unknown, "%d output datagrams match no sender's datagram (nor a TS-aligned tail "
                                  "of one), first at output index %r: %r"
                         % (len(unknown), unknown[:10], [out[i][1][:8].hex() for i in unknown[:3]]))
        self.assertEqual(labels, ["P", "B", "P"],
                         "the output should be primary, backup, primary; it is %r: %r" % (labels, runs))
        r1 = [r for r in runs if r.label == "P" and r.t_start < t_kill][-1]
        r2 = [r for r in runs if r.label == "B"][0]
        r2_last = [r for r in runs if r.label == "B"][-1]
        r3 = [r for r in runs if r.label == "P" and r.t_start > t_restart][0]

        # the failover
        p_rec = P.snapshot()
        last_p_in = max(t for t, _ in p_rec if t < t_restart)
        gap_failover = r2.t_start - r1.t_end
        note("failover: kill -> first backup datagram out %.3f s; last primary datagram in -> first backup "
             "out %.3f s; last primary out -> first backup out %.3f s (limit %.3f)"
             % (r2.t_start - t_kill, r2.t_start - last_p_in, gap_failover, SELECTOR_TIMEOUT + SLACK))
        self.assertLessEqual(gap_failover, SELECTOR_TIMEOUT + SLACK,
                             "the output was silent %.3f s at the failover (limit %.3f s)"
                             % (gap_failover, SELECTOR_TIMEOUT + SLACK))
        self.assertGreaterEqual(r2.t_start - last_p_in, SELECTOR_TIMEOUT - 0.1,
                                "the backup went out %.3f s after the primary's last datagram, "
                                "before the selector's timeout" % (r2.t_start - last_p_in))
        first_b = out[r2.start][1]
        self.assertEqual(len(first_b) % TS, 0, "first backup datagram of %d bytes" % len(first_b))
        self.assertTrue(all(p[0] == 0x47 for p in ts_packets(first_b)), "first backup datagram not TS")
        rap_b, why_b = ts_random_access(first_b[:TS])
        note("first backup datagram: %d bytes (cut %d); first packet random access: %s (%s)"
             % (len(first_b), r2.offset, rap_b, why_b))
        # the backup stream then runs on unbroken
        first_skips = [(i, n) for i, n in r2.skips if i < r2.start + 50]
        self.assertFalse(first_skips, "backup datagrams missing right after the failover: %r" % first_skips)
        b_data = b"".join(d for _, d in out[r2.start:r2_last.end + 1])[r2.offset:]
        errors, notes = ts_cc_errors(b_data)
        self.assertEqual(errors, 0, "the backup part of the output has CC errors: %s" % notes)

        # the return to the primary
        first_p_in_again = min(t for t, _ in p_rec if t > t_restart)
        hold = r3.t_start - first_p_in_again
        gap_back = r3.t_start - r2_last.t_end
        note("recovery: restart -> first primary datagram in %.3f s; -> primary out again %.3f s "
             "(held %.3f s, recovery-time %.1f s); last backup out -> first primary out %.3f s"
             % (first_p_in_again - t_restart, r3.t_start - t_restart, hold, RECOVERY_TIME, gap_back))
        self.assertGreaterEqual(hold, RECOVERY_TIME - 0.2,
                                "switched back to the primary %.3f s after its data resumed, before "
                                "recovery-time %.1f s" % (hold, RECOVERY_TIME))
        self.assertLessEqual(hold, limit, "switched back only %.3f s after the primary resumed" % hold)
        self.assertLessEqual(gap_back, SELECTOR_TIMEOUT + SLACK,
                             "the output was silent %.3f s at the return to the primary" % gap_back)
        first_p = out[r3.start][1]
        rec_dgram = p_rec[r3.relay_start][1]
        note("first primary datagram after the return: %d bytes, cut %d bytes into a %d-byte datagram "
             "of the sender; packets: %r" % (len(first_p), r3.offset, len(rec_dgram),
                                             [ts_random_access(p)[1] for p in ts_packets(first_p)[:2]]))
        self.assertEqual(len(first_p) % TS, 0, "first primary datagram of %d bytes" % len(first_p))
        self.assertEqual(first_p, rec_dgram[r3.offset:])
        rap, why = ts_random_access(first_p[:TS])
        self.assertTrue(rap, "the output returned to the primary at a TS packet that is not a "
                             "random-access point: %s; first bytes %s" % (why, first_p[:24].hex()))
        note("first primary packet after the return: %s; H.264 NALs starting in it: %r"
             % (why, pes_nal_types(first_p[:TS])))
        first_skips = [(i, n) for i, n in r3.skips if i < r3.start + 50]
        self.assertFalse(first_skips, "primary datagrams missing right after the return: %r" % first_skips)
        p_data = b"".join(d for _, d in out[r3.start:r3.end + 1])[r3.offset:]
        # the first packets after the switch: an H.264 access unit starts at
        # once, and the stream is continuous from there
        errors, notes = ts_cc_errors(p_data)
        self.assertEqual(errors, 0, "the primary part after the return has CC errors: %s" % notes)
        self.assertEqual(r3.end, len(out) - 1, "the output left the primary again: %r" % runs)

        # events and counters
        fo = [e for e in all_events if e["type"] == "source_failover"]
        rec = [e for e in all_events if e["type"] == "primary_recovered"]
        note("failover_count %d after the failover, %d after the recovery; %d source_failover, "
             "%d primary_recovered events" % (failover_count_1, failover_count_2, len(fo), len(rec)))
        self.assertEqual(len(fo), n_failover_events, "more source_failover events after the restart: %r" % fo)
        self.assertEqual(len(rec), 1, "primary_recovered events: %r" % rec)
        self.assertEqual(failover_count_2, 2, "one failover and one recovery should count 2: %d"
                         % failover_count_2)
        g, at = max_gap(out_times)
        note("largest output gap of the whole run: %.3f s at %.3f s after the start (kill at %.3f, "
             "restart at %.3f)" % (g, at - out_times[0], t_kill - out_times[0], t_restart - out_times[0]))
        self.assertLessEqual(g, SELECTOR_TIMEOUT + SLACK, "the output was silent %.3f s" % g)
        self.assertLess(t_end - t_begin, 45)

    # 2 -------------------------------------------------------------------

    def test_remove_backup_while_running(self):
        c, flow_id, rx, relays, senders, _ = self.setup_plumbing()
        P, B = relays["P"], relays["B"]
        t_begin = time.monotonic()
        ok = self.wait_until(lambda: self.count_from(rx, P, t_begin) >= 100, 20)
        self.assertTrue(ok, "the output does not carry the primary (%d datagrams out)" % len(rx.packets))
        time.sleep(1.0)
        m_before = c.get("/v1/flows/%s/metrics" % flow_id).json()

        t_del = time.monotonic()
        r = c.delete("/v1/flows/%s/source/backup" % flow_id)
        t_del_done = time.monotonic()
        self.assertEqual(r.status, 200, r.body)
        flow = r.json()
        self.assertEqual([s["name"] for s in flow["sources"]], ["primary"], flow)
        self.assertEqual(flow["source"]["name"], "primary", flow)
        note("DELETE answered with status %s" % flow.get("status"))

        ok = self.wait_until(lambda: self.count_from(rx, P, t_del_done) >= 50, 10)
        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", "the flow after removing the backup: %r" % st)
        self.assertTrue(ok, "the output stopped after removing the backup: %d datagrams since"
                        % sum(1 for t, _ in rx.snapshot() if t >= t_del_done))
        time.sleep(2.0)
        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", "the flow 2 s after removing the backup: %r" % st)
        m = self.metrics_when(c, flow_id, lambda m: m["active_source"] == "primary")
        self.assertEqual(m.get("active_source"), "primary", m)
        self.assertEqual([s["name"] for s in m["source_metrics"]], ["primary"], m)
        self.assertTrue(m["source_metrics"][0]["source_selected"], m)
        note("metrics before the DELETE: uptime %s s, failover_count %s; after: uptime %s s, "
             "failover_count %s" % (m_before.get("uptime_seconds"), m_before.get("failover_count"),
                                    m.get("uptime_seconds"), m.get("failover_count")))
        t_end = time.monotonic()
        for s in (rx, P, B):
            s.stop()
            self.assertIsNone(s.error, "socket %d: %r" % (s.port, s.error))

        out = rx.snapshot()
        times = [t for t, _ in out]
        g, at = max_gap(times, t_del - 1.0, t_end)
        before = [t for t in times if t < t_del]
        after = [t for t in times if t > t_del]
        first_after_gap = at + g if at is not None else None
        note("DELETE backup took %.3f s; largest output gap around it %.3f s (from %.3f s after the "
             "DELETE); last datagram before the DELETE %.3f s before it; %d datagrams after"
             % (t_del_done - t_del, g, (at - t_del) if at is not None else float("nan"),
                t_del - before[-1] if before else float("nan"), len(after)))
        out_set = set(d for _, d in out)
        lost = [t for t, d in P.snapshot() if t_del - 0.5 <= t <= t_del_done + 1.0 and d not in out_set]
        note("primary datagrams that reached the flow around the DELETE but not the output: %d%s"
             % (len(lost), (" (%.3f..%.3f s after it)" % (lost[0] - t_del, lost[-1] - t_del)) if lost else ""))
        runs, unknown = segment(out, [P, B])
        after_runs = [r for r in runs if r.t_end > t_del_done + 0.5]
        note("runs: %r" % runs)
        self.assertFalse(unknown, "%d output datagrams match no sender" % len(unknown))
        self.assertTrue(after_runs and all(r.label == "P" for r in after_runs),
                        "after removing the backup the output should carry the primary: %r" % runs)
        # the backup leaves the selector live: no restart, no gap
        self.assertEqual(flow.get("status"), "ACTIVE", flow)
        self.assertLessEqual(g, 0.3, "removing the backup silenced the output for %.3f s" % g)
        self.assertFalse(lost, "%d primary datagrams lost around the DELETE" % len(lost))
        self.assertIsNotNone(first_after_gap)
        evs = self.events(c, flow_id)
        note("events: %r" % [(e["type"], e["message"]) for e in evs])
        self.assertFalse([e for e in evs if e["type"] == "source_failover"],
                         "removing the backup caused a source_failover event: %r" % evs)
        self.assertFalse([e for e in evs if e["type"] == "flow_stopped"],
                         "removing the backup restarted the flow: %r" % evs)

    # 3 -------------------------------------------------------------------

    def test_add_backup_live_then_fail_over_with_health_timeout(self):
        """A FAILOVER flow started with its primary alone gets its backup
        while running (no restart), and [gstreamer] health_timeout_ms sets
        how long the primary may be silent."""
        timeout_ms = 200
        ingest_p, ingest_b, relay_p, relay_b, out_port = (self.port() for _ in range(5))
        rx = self.own(Receiver(out_port, hard=50.0))
        P, B = self.own(Relay("P", relay_p, ingest_p)), self.own(Relay("B", relay_b, ingest_b))
        c = self.controller(config="[gstreamer]\nhealth_timeout_ms = %d\n" % timeout_ms)
        r = c.post("/v1/flows", {
            "name": "failover-live-add",
            "source": {"name": "primary", "protocol": "udp", "ingest_port": ingest_p,
                       "ingest_address": LO},
            "outputs": [{"name": "out", "protocol": "udp", "destination": LO, "port": out_port}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                       "source_priority": {"primary_source": "primary"}}})
        self.assertEqual(r.status, 201, r.body)
        flow_id = r.json()["id"]
        self.assertEqual(c.post("/v1/flows/%s/start" % flow_id).status, 200)
        c.wait_status(flow_id, "ACTIVE", timeout=15)
        for s in (rx, P, B):
            s.start()
        senders = {"P": self.sender("primary", "smpte", relay_p),
                   "B": self.sender("backup", "ball", relay_b)}
        t0 = time.monotonic()
        self.assertTrue(self.wait_until(lambda: self.count_from(rx, P, t0) >= 50, 20),
                        "the output does not carry the primary")

        t_add = time.monotonic()
        r = c.post("/v1/flows/%s/source" % flow_id,
                   {"name": "backup", "protocol": "udp", "ingest_port": ingest_b,
                    "ingest_address": LO})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["status"], "ACTIVE", r.body)
        time.sleep(1.5)
        m = self.metrics_when(c, flow_id, lambda m: self.by_name(m)["backup"]["connected"])
        self.assertTrue(self.by_name(m)["backup"]["connected"], m)
        self.assertEqual(m["active_source"], "primary", m)
        g, _ = max_gap([t for t, _ in rx.snapshot()], t_add - 0.5, time.monotonic())
        note("adding the backup live: largest output gap %.3f s" % g)
        self.assertLessEqual(g, 0.3, "adding the backup silenced the output for %.3f s" % g)

        kill_proc(senders["P"], signal.SIGKILL)
        time.sleep(0.1)
        P.stop()
        t_kill = time.monotonic()
        self.assertTrue(self.wait_until(lambda: self.count_from(rx, B, t_kill) >= 25, 10),
                        "the output did not go on with the backup")
        out = rx.snapshot()
        p_seen = P.seen
        last_p = max((t for t, d in out if d in p_seen), default=None)
        first_b = min((t for t, d in out if t > (last_p or 0) and d in B.seen), default=None)
        self.assertIsNotNone(last_p)
        self.assertIsNotNone(first_b)
        gap = first_b - last_p
        note("health_timeout_ms=%d: failover gap %.3f s" % (timeout_ms, gap))
        self.assertGreaterEqual(gap, (timeout_ms - 50) / 1000.0,
                                "switched before the configured timeout: %.3f s" % gap)
        self.assertLessEqual(gap, (timeout_ms + 300) / 1000.0,
                             "the configured timeout was not used: gap %.3f s" % gap)
        evs = self.events(c, flow_id)
        self.assertFalse([e for e in evs if e["type"] == "flow_stopped"],
                         "adding the backup restarted the flow: %r" % evs)
        self.assertTrue([e for e in evs if e["type"] == "source_failover"], evs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
