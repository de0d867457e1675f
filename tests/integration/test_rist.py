#!/usr/bin/env python3
"""RIST (simple profile) integration tests: a real controller, real RIST
peers (gst-launch-1.0 with ristsink / ristsrc) and real UDP receivers, all on
127.0.0.1.

1. RIST source, fed by a ristsink sender of a 2 s H.264/AAC clip, to a UDP
   output: the UDP capture is the clip byte for byte; the source's metrics
   carry a "rist" object.
2. UDP source to a RIST output, received by a ristsrc: the receiver's file
   is the clip byte for byte; the output's metrics carry a "rist" object;
   a UDP output of the same flow gets the clip too.
3. The sender of a RIST source goes away and a new one comes (new SSRC,
   new sequence numbers): the flow keeps running and delivers its clip.
4. The receiver of a RIST output goes away and comes back: the flow keeps
   running and the new receiver gets the next clip whole.
5. Odd ports (RTP must be on the even port, RTCP on port + 1) are a 400
   naming the field, on create, add and update.

Standard library only.  Every process, thread and socket is bounded in time
and cleaned up.
"""

import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import (DGRAM, TS, contiguous_offset, kill_proc, make_ts_clip, tail,  # noqa: E402
                          ts_cc_errors, wait_until)
from mroute_media import describe_dgram_mismatch as describe_mismatch  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, gst_has  # noqa: E402

# DGRAM: 7 TS packets, one datagram / RTP payload
# RIST ports: RTP on an even port, RTCP on the next one (self.even_port())

CLIP_DIR = None
CLIP_PATH = None
CLIP = b""


# --------------------------------------------------------------------------
# The clip, made once per run
# --------------------------------------------------------------------------

def setUpModule():
    global CLIP_DIR, CLIP_PATH, CLIP
    for tool in ("ffmpeg", "gst-launch-1.0"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest("%s is not installed" % tool)
    for element in ("ristsrc", "ristsink", "rtpmp2tpay", "rtpmp2tdepay", "tsparse"):
        if not gst_has(element):
            raise unittest.SkipTest("the GStreamer element %s is not installed" % element)
    CLIP_DIR, CLIP_PATH, CLIP = make_ts_clip("mroute-rist-clip-", 2, 300 * 1024)


def tearDownModule():
    if CLIP_DIR:
        shutil.rmtree(CLIP_DIR, ignore_errors=True)


# --------------------------------------------------------------------------
# RIST peers
# --------------------------------------------------------------------------

class RistSender:
    """gst-launch-1.0 sending the clip to a RIST receiver at 127.0.0.1:port
    (RTP on port, RTCP on port + 1), one RTP packet of 7 TS packets per
    millisecond.  tsparse only timestamps the packets (from the PCR) and
    groups them by 7: the bytes are the clip's.  ristsink does not end the
    pipeline at end of stream: stop() kills it once the receiver has all."""

    def __init__(self, test, port, label):
        cmd = ["gst-launch-1.0", "-q", "filesrc", "location=%s" % CLIP_PATH, "blocksize=%d" % DGRAM,
               "!", "tsparse", "set-timestamps=true", "alignment=7",
               "!", "identity", "sleep-time=1000",
               "!", "rtpmp2tpay", "!", "ristsink", "address=%s" % LO, "port=%d" % port]
        self.proc = test.spawn(cmd, "rist-" + label)
        self.log_path = self.proc.log_path

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        kill_proc(self.proc)


class RistReceiver:
    """gst-launch-1.0: ristsrc on 127.0.0.1:port ! rtpmp2tdepay ! filesink
    (unbuffered): the file holds the TS received so far."""

    def __init__(self, test, port, label):
        self.out_path = test.logfile("rist-" + label, suffix=".ts")
        cmd = ["gst-launch-1.0", "-e", "ristsrc", "address=%s" % LO, "port=%d" % port,
               "!", "rtpmp2tdepay", "!", "filesink", "location=%s" % self.out_path, "buffer-mode=2"]
        self.proc = test.spawn(cmd, "rist-" + label)
        self.log_path = self.proc.log_path

    def wait_ready(self, timeout=10):
        return wait_until(lambda: "PLAYING" in tail(self.log_path) or self.proc.poll() is not None,
                          timeout) and self.proc.poll() is None

    def size(self):
        try:
            return os.path.getsize(self.out_path)
        except OSError:
            return 0

    def data(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stop(self):
        kill_proc(self.proc)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

class RistTests(MrouteTestCase):
    LOG_TAIL = 8000

    # helpers -------------------------------------------------------------

    def start_flow(self, c, source, outputs, name="rist", strict=True):
        """Creates and starts a flow; waits until it is ACTIVE (20 s).  With
        strict=False, returns (flow id, status) after at most 5 s unless
        the flow is in ERROR: a flow that is still STARTING before its
        source got any data is then checked by the caller, after the rest
        of the test."""
        r = c.post("/v1/flows", {"name": name, "source": source, "outputs": outputs})
        self.assertEqual(r.status, 201, r.body)
        flow = r.json()
        r = c.post("/v1/flows/%s/start" % flow["id"])
        self.assertEqual(r.status, 200, r.body)
        deadline = time.monotonic() + (20 if strict else 5)
        st = None
        while time.monotonic() < deadline:
            st = c.get("/v1/flows/%s" % flow["id"]).json().get("status")
            if st in ("ACTIVE", "ERROR"):
                break
            time.sleep(0.05)
        if not strict and st != "ERROR":
            return flow["id"], st
        self.assertEqual(st, "ACTIVE", "flow %s (%s) is %s; events: %r"
                         % (flow["id"], name, st, self.event_summary(c, flow["id"])))
        return flow["id"]

    def assert_was_active(self, st, c, flow_id):
        self.assertEqual(st, "ACTIVE", "the flow was still %s 5 s after its start, before its source "
                         "received anything (a flow with only UDP outputs is ACTIVE at once); events %r"
                         % (st, self.event_summary(c, flow_id)))

    def send_clip_udp(self, port, timeout=30):
        """Sends the clip to 127.0.0.1:port, one datagram per millisecond."""
        self.send_file_udp(CLIP_PATH, port, "rist-udp-sender", timeout=timeout)

    def send_clip_rist(self, port, rx_count, label, timeout=10):
        """A RIST sender sends the clip to port; returns once rx_count()
        (bytes received downstream) grew by the clip's size, or after
        `timeout`.  The sender is stopped either way."""
        before = rx_count()
        sender = RistSender(self, port, label)
        ok = wait_until(lambda: rx_count() >= before + len(CLIP) or not sender.alive(), timeout)
        alive = sender.alive()
        time.sleep(0.3)          # anything that would come after the clip
        sender.stop()
        self.assertTrue(alive, "the RIST sender exited: %s" % tail(sender.log_path))
        return ok

    def assert_clip(self, data, want, label):
        self.assertTrue(data, "%s: nothing received" % label)
        if data != want:
            off = contiguous_offset(data, want)
            where = ("a contiguous part of it from offset %d" % off if off >= 0
                     else "not a contiguous part of it")
            errors, notes = ts_cc_errors(data[:len(data) - len(data) % TS])
            self.fail("%s: not byte-identical to what was sent (%s): %s; %d continuity errors %s"
                      % (label, where, describe_mismatch(data, want), errors, notes))
        errors, notes = ts_cc_errors(data)
        self.assertEqual(errors, 0, "%s: %d continuity errors: %s" % (label, errors, notes))

    # 1 -------------------------------------------------------------------

    def test_1_rist_source_to_udp(self):
        ingest, out = self.even_port(), self.port()
        rx = self.receiver(out, idle=None, hard=40.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "r", "protocol": "rist", "ingest_port": ingest},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        got_all = self.send_clip_rist(ingest, lambda: sum(len(p) for _, p in rx.snapshot()), "tx-1")
        m = self.metrics(c, flow_id)
        rx.stop()
        self.assertTrue(got_all, "the udp output got %d of %d bytes; metrics %r; events %r"
                        % (len(rx.data()), len(CLIP), m, self.event_summary(c, flow_id)))
        self.assert_clip(rx.data(), CLIP, "rist source -> udp output")
        sizes = [len(p) for _, p in rx.snapshot()]
        self.assertFalse([s for s in sizes if s % TS], "datagrams that are not whole TS packets: %r" % sizes[:10])

        self.assertEqual(m["status"], "ACTIVE", m)
        s = m["source_metrics"][0]
        sys.stderr.write("\n[rist source] metrics: %r\n" % s)
        self.assertEqual(s["protocol"], "rist", s)
        self.assertTrue(s["connected"], s)
        self.assertGreaterEqual(s["bytes_received"], len(CLIP), s)
        self.assertGreaterEqual(s["packets_received"], len(CLIP) // DGRAM, s)
        self.assertEqual(s["packets_lost"], 0, s)
        self.assertIsInstance(s.get("rist"), dict, "no rist object in the source metrics: %r" % s)
        self.assertTrue(s["rist"], "an empty rist object: %r" % s)
        o = m["output_metrics"][0]
        self.assertEqual(o["packets_sent"], len(CLIP) // DGRAM, o)

    # 2 -------------------------------------------------------------------

    def test_2_udp_source_to_rist_output(self):
        ingest, p_rist, p_udp = self.port(), self.even_port(), self.port()
        rist_rx = RistReceiver(self, p_rist, "rx-out")
        self.assertTrue(rist_rx.wait_ready(), "the ristsrc receiver did not start: %s" % tail(rist_rx.log_path))
        udp_rx = self.receiver(p_udp, idle=None, hard=40.0).start()
        c = self.controller()
        flow_id, st_before = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "ro", "protocol": "rist", "destination": LO, "port": p_rist},
            {"name": "udp", "protocol": "udp", "destination": LO, "port": p_udp}], strict=False)
        self.send_clip_udp(ingest)
        # ristsrc's receiver buffer (1 s by default) holds every packet
        # back for its retransmission window
        got_all = wait_until(lambda: rist_rx.size() >= len(CLIP), 8)
        time.sleep(0.3)
        m = self.metrics(c, flow_id)
        rist_rx.stop()
        udp_rx.stop()
        self.assertTrue(got_all, "the RIST receiver got %d of %d bytes; metrics %r; events %r; receiver: %s"
                        % (rist_rx.size(), len(CLIP), m, self.event_summary(c, flow_id),
                           tail(rist_rx.log_path, 800)))
        self.assert_clip(rist_rx.data(), CLIP, "udp source -> rist output")
        self.assert_clip(udp_rx.data(), CLIP, "udp output next to the rist output")

        self.assertEqual(m["status"], "ACTIVE", m)
        outs = {o["name"]: o for o in m["output_metrics"]}
        o = outs["ro"]
        sys.stderr.write("\n[rist output] metrics: %r\n" % o)
        self.assertEqual(o["protocol"], "rist", o)
        self.assertGreaterEqual(o["packets_sent"], len(CLIP) // DGRAM, o)
        self.assertGreaterEqual(o["bytes_sent"], len(CLIP), o)
        self.assertEqual(o["disconnections"], 0, o)
        self.assertIsInstance(o.get("rist"), dict, "no rist object in the output metrics: %r" % o)
        self.assertTrue(o["rist"], "an empty rist object: %r" % o)
        self.assertFalse([e for e in self.events(c, flow_id) if e["type"] == "connection_error"],
                         "connection_error events: %r" % self.event_summary(c, flow_id))
        self.assert_was_active(st_before, c, flow_id)

    # 3 -------------------------------------------------------------------

    def test_3_source_sender_goes_and_another_comes(self):
        ingest, out = self.even_port(), self.port()
        rx = self.receiver(out, idle=None, hard=40.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "r", "protocol": "rist", "ingest_port": ingest},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        count = lambda: sum(len(p) for _, p in rx.snapshot())  # noqa: E731
        first = self.send_clip_rist(ingest, count, "tx-first")
        n1 = count()
        time.sleep(2.0)          # nobody sends
        st = c.get("/v1/flows/%s" % flow_id).json()["status"]
        second = self.send_clip_rist(ingest, count, "tx-second")
        rx.stop()
        summary = self.event_summary(c, flow_id)
        self.assertTrue(first, "the first sender's clip did not arrive whole (%d bytes)" % n1)
        self.assertEqual(st, "ACTIVE", "the flow is %s after its sender left: %r" % (st, summary))
        self.assertTrue(second, "the second sender's clip did not arrive whole (%d bytes after the first "
                                "%d); events %r" % (count() - n1, n1, summary))
        data = rx.data()
        self.assert_clip(data[:n1], CLIP, "first sender")
        self.assert_clip(data[n1:], CLIP, "second sender")
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")
        self.assertFalse([e for e in self.events(c, flow_id) if e["type"] == "flow_started"][1:],
                         "the flow was restarted: %r" % summary)

    # 4 -------------------------------------------------------------------

    def test_4_output_receiver_goes_and_comes_back(self):
        ingest, p_rist = self.port(), self.even_port()
        c = self.controller()
        flow_id, st_before = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "ro", "protocol": "rist", "destination": LO, "port": p_rist}], strict=False)
        rx1 = RistReceiver(self, p_rist, "rx-first")
        self.assertTrue(rx1.wait_ready(), tail(rx1.log_path))
        self.send_clip_udp(ingest)
        self.assertTrue(wait_until(lambda: rx1.size() >= len(CLIP), 8),
                        "the first receiver got %d of %d bytes" % (rx1.size(), len(CLIP)))
        rx1.proc.kill()                      # gone without a word
        rx1.proc.wait(5)
        self.send_clip_udp(ingest)           # nobody receives this one
        time.sleep(1.0)
        st = c.get("/v1/flows/%s" % flow_id).json()["status"]
        rx2 = RistReceiver(self, p_rist, "rx-second")
        self.assertTrue(rx2.wait_ready(), tail(rx2.log_path))
        time.sleep(0.5)
        self.send_clip_udp(ingest)
        got = wait_until(lambda: rx2.size() >= len(CLIP), 10)
        time.sleep(0.3)
        rx2.stop()
        summary = self.event_summary(c, flow_id)
        sys.stderr.write("\n[rist receiver back] events: %r\n" % summary)
        self.assertEqual(st, "ACTIVE", "the flow is %s while its receiver is away: %r" % (st, summary))
        self.assertTrue(got, "the new receiver got %d of %d bytes; metrics %r; events %r"
                        % (rx2.size(), len(CLIP), self.metrics(c, flow_id), summary))
        self.assert_clip(rx2.data(), CLIP, "rist output, second receiver")
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")
        self.assertFalse([e for e in self.events(c, flow_id) if e["type"] == "flow_started"][1:],
                         "the flow was restarted: %r" % summary)
        self.assert_was_active(st_before, c, flow_id)

    # 5 -------------------------------------------------------------------

    def test_5_odd_ports_are_refused(self):
        c = self.controller()
        odd = self.even_port() + 1
        even = self.even_port()
        udp_out = {"name": "u", "protocol": "udp", "destination": LO, "port": self.port()}

        def check(r, field_suffixes, label):
            self.assertEqual(r.status, 400, "%s: %d %r" % (label, r.status, r.body))
            body = r.json()
            field = body.get("field") or ""
            self.assertTrue(any(field == f or field.endswith("." + f) or field.endswith(f)
                                for f in field_suffixes),
                            "%s: field %r, want one of %r: %r" % (label, field, field_suffixes, body))
            self.assertTrue(body.get("error", "").startswith(field), "%s: %r" % (label, body))

        r = c.post("/v1/flows", {"name": "odd-src", "source": {"name": "r", "protocol": "rist",
                                                               "ingest_port": odd}, "outputs": [udp_out]})
        check(r, ("source.ingest_port",), "rist source on an odd port")
        r = c.post("/v1/flows", {"name": "odd-out", "source": {"name": "in", "protocol": "udp",
                                                               "ingest_port": self.port()},
                                 "outputs": [udp_out, {"name": "ro", "protocol": "rist",
                                                       "destination": LO, "port": odd}]})
        check(r, ("outputs[1].port",), "rist output to an odd port")

        # even ports are fine
        r = c.post("/v1/flows", {"name": "even", "source": {"name": "r", "protocol": "rist",
                                                            "ingest_port": even},
                                 "outputs": [udp_out]})
        self.assertEqual(r.status, 201, r.body)
        flow_id = r.json()["id"]
        r = c.post("/v1/flows/%s/outputs" % flow_id, {"name": "ro", "protocol": "rist",
                                                      "destination": LO, "port": odd})
        check(r, ("port",), "added rist output to an odd port")
        r = c.post("/v1/flows/%s/outputs" % flow_id, {"name": "ro", "protocol": "rist",
                                                      "destination": LO, "port": odd + 1})
        self.assertEqual(r.status, 201, r.body)
        r = c.put("/v1/flows/%s/outputs/ro" % flow_id, {"port": odd + 2})
        check(r, ("port",), "rist output moved to an odd port")
        # a udp output becoming rist on an odd port
        r = c.put("/v1/flows/%s/outputs/u" % flow_id, {"protocol": "rist", "port": odd})
        check(r, ("port",), "udp output turned rist on an odd port")
        r = c.post("/v1/flows/%s/source" % flow_id, {"name": "r2", "protocol": "rist", "ingest_port": odd + 2})
        check(r, ("ingest_port",), "added rist source on an odd port")
        # nothing of the refused changes was stored
        flow = c.get("/v1/flows/%s" % flow_id).json()
        outs = {o["name"]: o for o in flow["outputs"]}
        self.assertEqual(outs["ro"]["port"], odd + 1, flow)
        self.assertEqual(outs["u"]["protocol"], "udp", flow)
        self.assertEqual([s["name"] for s in flow["sources"]], ["r"], flow)


if __name__ == "__main__":
    unittest.main(verbosity=2)
