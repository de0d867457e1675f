#!/usr/bin/env python3
"""End-to-end fan-out tests: a real controller, a real MPEG-TS sender
(gst-launch-1.0) and real UDP receivers, all on 127.0.0.1.

1. A 4 s H.264/AAC clip made by ffmpeg is sent to a UDP source and comes out
   byte-identical on two UDP outputs and, as RTP payload, on an RTP output;
   the metrics count every datagram.
2. Outputs are added, moved and removed while a live stream runs, without a
   gap on an output that is not touched.
3. Outputs whose destination nobody listens on do not stall a good one.

Standard library only.  Every socket, thread and subprocess is bounded in
time and cleaned up.
"""

import os
import shutil
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import (DGRAM, describe_dgram_mismatch, kill_proc, make_ts_clip,  # noqa: E402
                          ts_cc_errors)
from mroute_testcase import LO, MrouteTestCase, live_encoder  # noqa: E402

CLIP_DIR = None
CLIP_PATH = None
CLIP = b""


# --------------------------------------------------------------------------
# MPEG-TS and RTP parsing
# --------------------------------------------------------------------------

def parse_rtp(pkt):
    """Returns (version, seq, payload) of one RTP packet: fixed header, CSRC
    list, header extension and padding honoured."""
    if len(pkt) < 12:
        raise ValueError("RTP packet of %d bytes" % len(pkt))
    b0 = pkt[0]
    version = b0 >> 6
    padding = bool(b0 & 0x20)
    extension = bool(b0 & 0x10)
    csrc_count = b0 & 0x0F
    seq = struct.unpack("!H", pkt[2:4])[0]
    off = 12 + 4 * csrc_count
    if extension:
        if len(pkt) < off + 4:
            raise ValueError("RTP extension header truncated")
        _profile, words = struct.unpack("!HH", pkt[off:off + 4])
        off += 4 + 4 * words
    end = len(pkt)
    if padding:
        end -= pkt[-1]
    if off > end:
        raise ValueError("RTP header longer than the packet")
    return version, seq, pkt[off:end]


# --------------------------------------------------------------------------
# The clip, made once per run
# --------------------------------------------------------------------------

def setUpModule():
    global CLIP_DIR, CLIP_PATH, CLIP
    CLIP_DIR, CLIP_PATH, CLIP = make_ts_clip("mroute-e2e-clip-", 4, 500 * 1024)


def tearDownModule():
    if CLIP_DIR:
        shutil.rmtree(CLIP_DIR, ignore_errors=True)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

class FanoutE2E(MrouteTestCase):

    # helpers -------------------------------------------------------------

    def create_started_flow(self, c, ingest, outputs):
        return self.start_flow(c, {"name": "primary", "protocol": "udp", "ingest_port": ingest},
                               outputs, name="e2e-%d" % ingest)

    def send_clip(self, ingest):
        self.send_file_udp(CLIP_PATH, ingest, "sender", timeout=90)

    def wait_receivers(self, receivers, timeout=40):
        deadline = time.monotonic() + timeout
        for r in receivers:
            r.wait(max(0.1, deadline - time.monotonic()))
        for r in receivers:
            self.assertIsNone(r.error, "receiver %d: %r" % (r.port, r.error))

    def assert_udp_capture(self, r, label):
        packets = [p for _, p in r.snapshot()]
        self.assertTrue(packets, "%s: nothing received on port %d" % (label, r.port))
        data = b"".join(packets)
        if data != CLIP:
            self.fail("%s: capture is not byte-identical to clip.ts: %s" % (label, describe_dgram_mismatch(data, CLIP)))
        sizes = [len(p) for p in packets]
        bad = [(i, s) for i, s in enumerate(sizes[:-1]) if s != DGRAM]
        self.assertFalse(bad, "%s: datagrams not of %d bytes (index, size): %r" % (label, DGRAM, bad[:10]))
        self.assertLessEqual(sizes[-1], DGRAM)
        errors, notes = ts_cc_errors(data)
        self.assertEqual(errors, 0, "%s: %d continuity errors: %s" % (label, errors, notes))
        return len(packets)

    def assert_rtp_capture(self, r, label):
        packets = [p for _, p in r.snapshot()]
        self.assertTrue(packets, "%s: nothing received on port %d" % (label, r.port))
        payload = []
        seqs = []
        for i, p in enumerate(packets):
            try:
                version, seq, pl = parse_rtp(p)
            except ValueError as e:
                self.fail("%s: packet %d is not RTP: %s" % (label, i, e))
            self.assertEqual(version, 2, "%s: packet %d has RTP version %d" % (label, i, version))
            seqs.append(seq)
            payload.append(pl)
        data = b"".join(payload)
        if data != CLIP:
            self.fail("%s: RTP payload is not byte-identical to clip.ts: %s" % (label, describe_dgram_mismatch(data, CLIP)))
        jumps = [(i, seqs[i - 1], seqs[i]) for i in range(1, len(seqs))
                 if seqs[i] != (seqs[i - 1] + 1) & 0xFFFF]
        self.assertFalse(jumps, "%s: RTP sequence numbers not consecutive (index, prev, seq): %r" % (label, jumps[:10]))
        errors, notes = ts_cc_errors(data)
        self.assertEqual(errors, 0, "%s: %d continuity errors: %s" % (label, errors, notes))
        return len(packets)

    # 1 -------------------------------------------------------------------

    def test_clip_fanout_udp_and_rtp_byte_identical(self):
        n = (len(CLIP) + DGRAM - 1) // DGRAM
        ingest = self.port()
        ports = self.ports(3)
        rx = [self.receiver(p, idle=2.0, hard=30.0) for p in ports]

        c = self.controller()
        flow_id = self.create_started_flow(c, ingest, [
            {"name": "udp-a", "protocol": "udp", "destination": LO, "port": ports[0]},
            {"name": "udp-b", "protocol": "udp", "destination": LO, "port": ports[1]},
            {"name": "rtp-c", "protocol": "rtp", "destination": LO, "port": ports[2]},
        ])
        for r in rx:
            r.start()
        self.send_clip(ingest)
        self.wait_receivers(rx)

        self.assert_udp_capture(rx[0], "udp-a")
        self.assert_udp_capture(rx[1], "udp-b")
        rtp_count = self.assert_rtp_capture(rx[2], "rtp-c")

        def complete(m):
            src = m["source_metrics"][0]
            outs = {o["name"]: o for o in m["output_metrics"]}
            return (src["packets_received"] >= n and outs["udp-a"]["packets_sent"] >= n
                    and outs["udp-b"]["packets_sent"] >= n and outs["rtp-c"]["packets_sent"] >= rtp_count)

        m = self.metrics_when(c, flow_id, complete)
        self.assertEqual(m.get("flow_id"), flow_id, m)
        self.assertEqual(m.get("status"), "ACTIVE", m)
        srcs = {s["name"]: s for s in m["source_metrics"]}
        self.assertIn("primary", srcs, m)
        self.assertEqual(srcs["primary"]["packets_received"], n, "source packets_received: %r" % m)
        self.assertEqual(srcs["primary"]["packets_lost"], 0, "source packets_lost: %r" % m)
        outs = {o["name"]: o for o in m["output_metrics"]}
        self.assertEqual(set(outs), {"udp-a", "udp-b", "rtp-c"}, m)
        self.assertEqual(outs["udp-a"]["packets_sent"], n, "udp-a packets_sent: %r" % m)
        self.assertEqual(outs["udp-b"]["packets_sent"], n, "udp-b packets_sent: %r" % m)
        # RTP: packets_sent counts the RTP packets, i.e. those received here.
        self.assertEqual(outs["rtp-c"]["packets_sent"], rtp_count, "rtp-c packets_sent: %r" % m)

    # 2 -------------------------------------------------------------------

    def test_live_output_changes_do_not_disturb_other_outputs(self):
        enc = live_encoder()
        if enc is None:
            self.skipTest("neither x264enc nor openh264enc is installed")
        ingest, p1, p2, p2_new, p3, p_ref = self.ports(6)
        r1 = self.receiver(p1, idle=None, hard=45.0)
        r2_old = self.receiver(p2, idle=None, hard=45.0)
        r2_new = self.receiver(p2_new, idle=None, hard=45.0)
        r3 = self.receiver(p3, idle=None, hard=45.0)
        # The sender also sends every datagram straight to this reference
        # receiver: a silence that the reference shows too is the sender's
        # (a busy machine), not the controller's.
        ref = self.receiver(p_ref, idle=None, hard=45.0)
        for r in (r1, r2_old, r2_new, r3, ref):
            r.start()

        c = self.controller()
        flow_id = self.create_started_flow(c, ingest, [
            {"name": "out1", "protocol": "udp", "destination": LO, "port": p1},
            {"name": "out2", "protocol": "udp", "destination": LO, "port": p2},
        ])

        # 20 s of live video at most (500 frames); stopped as soon as the
        # changes are checked, killed by tearDown in any case.
        cmd = (["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=500", "pattern=ball",
                "!", "video/x-raw,width=320,height=240,framerate=25/1", "!"] + enc +
               ["!", "h264parse", "!", "mpegtsmux", "alignment=7", "bitrate=2000000",
                "!", "multiudpsink", "clients=%s:%d,%s:%d" % (LO, ingest, LO, p_ref)])
        sender = self.spawn(cmd, "live-sender")

        def wait_until(cond, timeout):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if cond():
                    return True
                if sender.poll() is not None:
                    return cond()
                time.sleep(0.05)
            return cond()

        self.assertTrue(wait_until(lambda: len(r1.packets) > 50, 20),
                        "out1 receives nothing (sender alive: %s, reference got %d datagrams)"
                        % (sender.poll() is None, len(ref.packets)))
        time.sleep(1.0)

        # add a third output
        t_post = time.monotonic()
        r = c.post("/v1/flows/%s/outputs" % flow_id,
                   {"name": "out3", "protocol": "udp", "destination": LO, "port": p3})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(sorted(o["name"] for o in r.json()["outputs"]), ["out1", "out2", "out3"], r.body)
        wait_until(lambda: r3.count_since(t_post) > 20, 10)
        time.sleep(1.0)

        # move the second
        t_put = time.monotonic()
        r = c.put("/v1/flows/%s/outputs/out2" % flow_id, {"port": p2_new})
        t_put_done = time.monotonic()
        self.assertEqual(r.status, 200, r.body)
        outs = {o["name"]: o for o in r.json()["outputs"]}
        self.assertEqual(outs["out2"]["port"], p2_new, r.body)
        self.assertEqual(outs["out2"]["destination"], LO, r.body)
        wait_until(lambda: r2_new.count_since(t_put) > 20, 10)
        time.sleep(1.0)

        # remove the third
        t_del = time.monotonic()
        r = c.delete("/v1/flows/%s/outputs/out3" % flow_id)
        t_del_done = time.monotonic()
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(sorted(o["name"] for o in r.json()["outputs"]), ["out1", "out2"], r.body)

        # Let the stream run on for a while after the last change.
        time.sleep(3.0)
        sender_alive = sender.poll() is None
        kill_proc(sender)
        time.sleep(1.0)
        for rx in (r1, r2_old, r2_new, r3, ref):
            rx.stop()
            self.assertIsNone(rx.error, "receiver %d: %r" % (rx.port, rx.error))

        self.assertTrue(sender_alive or ref.last_time() is not None and ref.last_time() > t_del_done + 1.0,
                        "the sender stopped before the changes were done: the test proves nothing "
                        "(reference got %d datagrams)" % len(ref.packets))

        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", st)

        # Sanity of the sender itself.
        ref_data = ref.data()
        self.assertGreater(len(ref.packets), 200, "the live sender sent too little")
        ref_errors, ref_notes = ts_cc_errors(ref_data)
        self.assertEqual(ref_errors, 0, "the sender's own stream has CC errors: %s" % ref_notes)

        # out1: untouched by all the changes.
        d1 = r1.data()
        errors, notes = ts_cc_errors(d1)
        self.assertEqual(errors, 0, "out1 has %d continuity errors across the changes: %s" % (errors, notes))
        times1 = r1.times()
        ref_times = ref.times()
        gaps = []
        for a, b in zip(times1, times1[1:]):
            if b - a > 0.3:
                # The sender sent something while out1 was silent?
                inside = [t for t in ref_times if a < t < b - 0.15]
                if inside:
                    gaps.append((round(a - times1[0], 3), round(b - a, 3), len(inside)))
        self.assertFalse(gaps, "out1 silent > 300 ms while the sender was sending "
                               "(start s, length s, reference datagrams meanwhile): %r; "
                               "POST at %.3f, PUT at %.3f, DELETE at %.3f"
                         % (gaps, t_post - times1[0], t_put - times1[0], t_del - times1[0]))
        # Every datagram of the sender reached out1, in order (the sender was
        # killed at some point, so the last datagram or two may be missing on
        # one side).
        n = min(len(d1), len(ref_data))
        if d1[:n] != ref_data[:n] or max(len(d1), len(ref_data)) - n > 2 * DGRAM:
            self.fail("out1 is not the sender's stream: %s" % describe_dgram_mismatch(d1, ref_data))

        # out3: data after its POST, none some time after its DELETE.
        self.assertGreater(r3.count_since(t_post), 0, "out3 received nothing after POST")
        late3 = r3.count_since(t_del_done + 2.0)
        self.assertEqual(late3, 0, "out3 still received %d datagrams more than 2 s after DELETE" % late3)

        # out2: on the old port before the PUT, on the new one after it, and
        # no longer on the old one.
        self.assertGreater(len([t for t in r2_old.times() if t < t_put]), 0, "out2 received nothing before PUT")
        self.assertGreater(r2_new.count_since(t_put), 0, "out2 received nothing on its new port after PUT")
        late2 = r2_old.count_since(t_put_done + 2.0)
        self.assertEqual(late2, 0, "out2 still sent %d datagrams to its old port more than 2 s after PUT" % late2)
        self.assertTrue(r2_new.last_time() is not None and r2_new.last_time() > t_put_done + 2.0,
                        "out2 stopped on its new port")
        errors, notes = ts_cc_errors(r2_new.data())
        self.assertEqual(errors, 0, "out2 on its new port has continuity errors: %s" % notes)

    # 3 -------------------------------------------------------------------

    def test_failing_outputs_do_not_stall_good_one(self):
        # free ports are ephemeral ones: never the discard port 9
        ingest, good, dead, closed = self.ports(4)
        rx = self.receiver(good, idle=2.0, hard=30.0)
        c = self.controller()
        flow_id = self.create_started_flow(c, ingest, [
            # nobody listens there: ICMP port unreachable for each datagram
            {"name": "dead", "protocol": "udp", "destination": LO, "port": dead},
            # a second closed port (not the fixed discard port 9: nothing
            # here is sent to a port that was not picked free)
            {"name": "discard", "protocol": "udp", "destination": LO, "port": closed},
            {"name": "good", "protocol": "udp", "destination": LO, "port": good},
            {"name": "dead-rtp", "protocol": "rtp", "destination": LO, "port": dead},
        ])
        rx.start()
        self.send_clip(ingest)
        self.wait_receivers([rx])
        self.assert_udp_capture(rx, "good")
        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", "unreachable outputs put the flow in %s" % st.get("status"))

        # And it goes on working after the ICMP errors: a second run.
        rx.stop()
        rx2 = self.receiver(good, idle=2.0, hard=30.0).start()
        self.send_clip(ingest)
        self.wait_receivers([rx2])
        self.assert_udp_capture(rx2, "good (second run)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
