#!/usr/bin/env python3
"""SRT stream-id routing (issue 15): several srt-listener sources share one
ingest_port, each caller routed by its stream id (plain, or MediaMTX's
"#!::r=NAME,m=publish") with its own passphrase and key length.  A real
controller, real SRT callers (srt-live-transmit from srt-tools) and real
UDP receivers, all on 127.0.0.1.

1. Two flows, one port: two callers with different ids, passphrases and
   key lengths (aes128 plain id, aes256 keyed id); each flow's UDP output
   is the clip its caller sent, byte for byte; each source's SRT figures.
2. An unknown stream id is refused before any media flows: no byte out,
   a source_error event naming the id, callers_refused counted, on every
   flow of the port.
3. A wrong passphrase for one route is refused: no byte out, an event
   about the passphrase and a count on that flow only (the other route
   says nothing); the right passphrase is taken afterwards.
4. A caller gone (killed, then quitting) and back: the new caller's clip
   arrives whole, the other flow's stream never stops.
5. An ffmpeg caller in MediaMTX's form next to an srt-live-transmit one:
   its H.264 reaches its flow's output, every frame.
6. The rules: two sources of one flow on one port with the same stream_id,
   or one without, are refused (400 naming the field); two sources with
   different ids in one flow both deliver; the same id on the same port in
   a second running flow cannot start (409 naming the id).

Standard library only.  Every process, thread and socket is bounded in time
and cleaned up.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import DGRAM, contiguous_offset, make_ts_clip, tail, ts_cc_errors  # noqa: E402
from mroute_media import describe_dgram_mismatch as describe_mismatch  # noqa: E402
from mroute_testcase import LO, MrouteTestCase  # noqa: E402
from test_srt import SLT, Pacer, Peer  # noqa: E402

KEYLEN = {"aes128": 16, "aes192": 24, "aes256": 32}
PW_A, PW_B = "route-a-passphrase", "route-b-passphrase-256"

CLIP_DIR = None
CLIP = b""


def caller_uri(port, stream_id, passphrase=None, algorithm="aes128"):
    uri = "srt://%s:%d?mode=caller&streamid=%s" % (LO, port, stream_id)
    if passphrase:
        uri += "&passphrase=%s&pbkeylen=%d" % (passphrase, KEYLEN[algorithm])
    return uri


def setUpModule():
    global CLIP_DIR, CLIP
    for tool in (SLT, "ffmpeg", "gst-launch-1.0"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest("%s is not installed" % tool)
    CLIP_DIR, _, CLIP = make_ts_clip("mroute-srtroute-clip-", 2, 300 * 1024)


def tearDownModule():
    if CLIP_DIR:
        shutil.rmtree(CLIP_DIR, ignore_errors=True)


class SrtRoutingTests(MrouteTestCase):
    METRICS_POLL = 0.1

    # helpers -------------------------------------------------------------

    def routed_source(self, name, port, stream_id, algorithm=None, passphrase=None):
        src = {"name": name, "protocol": "srt-listener", "ingest_port": port, "stream_id": stream_id}
        if passphrase:
            src["decryption"] = {"algorithm": algorithm, "passphrase": passphrase}
        return src

    def two_flows(self, c, ingest, out_a, out_b):
        """Flow A (stream id cam-a, aes128) and flow B (cam-b, aes256), both
        on `ingest`, each to its UDP port."""
        fa = self.start_flow(c, self.routed_source("in-a", ingest, "cam-a", "aes128", PW_A),
                             [{"name": "udp", "protocol": "udp", "destination": LO, "port": out_a}], name="a")
        fb = self.start_flow(c, self.routed_source("in-b", ingest, "cam-b", "aes256", PW_B),
                             [{"name": "udp", "protocol": "udp", "destination": LO, "port": out_b}], name="b")
        return fa, fb

    def send_clip(self, port, stream_id, passphrase, algorithm, label, data=None):
        """An SRT caller sends the clip once connected; returns (peer, pacer)."""
        sender = Peer(self, "file://con", caller_uri(port, stream_id, passphrase, algorithm), label,
                      stdin=True, chunk=DGRAM)
        pacer = Pacer(sender, CLIP if data is None else data,
                      ready=lambda: sender.connections() >= 1, ready_timeout=15).start()
        return sender, pacer

    def assert_clip(self, data, label):
        self.assertTrue(data, "%s: nothing received" % label)
        errors, notes = ts_cc_errors(data)
        if data != CLIP:
            off = contiguous_offset(data, CLIP)
            where = ("a contiguous part of it from offset %d" % off if off >= 0
                     else "not a contiguous part of it")
            self.fail("%s: not byte-identical to the clip (%s): %s; %d continuity errors %s"
                      % (label, where, describe_mismatch(data, CLIP), errors, notes))
        self.assertEqual(errors, 0, "%s: %d continuity errors: %s" % (label, errors, notes))

    def refusals(self, c, flow_id, needle):
        return [e for e in self.events(c, flow_id)
                if e["type"] == "source_error" and needle in (e["message"] or "")]

    def source_metrics(self, c, flow_id):
        return self.metrics(c, flow_id)["source_metrics"][0]

    # 1 -------------------------------------------------------------------

    def test_1_two_callers_two_flows_one_port(self):
        ingest, out_a, out_b = self.port(), self.port(), self.port()
        rx_a = self.receiver(out_a, idle=1.5, hard=40.0).start()
        rx_b = self.receiver(out_b, idle=1.5, hard=40.0).start()
        c = self.controller()
        fa, fb = self.two_flows(c, ingest, out_a, out_b)
        # both at once: a plain id and MediaMTX's keyed form
        tx_a, pace_a = self.send_clip(ingest, "cam-a", PW_A, "aes128", "tx-a")
        tx_b, pace_b = self.send_clip(ingest, "#!::r=cam-b,m=publish", PW_B, "aes256", "tx-b")
        self.assertTrue(pace_a.wait(30) and pace_b.wait(30), "the clips were not sent in time")
        self.assertIsNone(pace_a.error, "%s: %s" % (pace_a.error, tail(tx_a.log_path)))
        self.assertIsNone(pace_b.error, "%s: %s" % (pace_b.error, tail(tx_b.log_path)))
        rx_a.wait(10)
        rx_b.wait(10)
        ma, mb = self.source_metrics(c, fa), self.source_metrics(c, fb)
        tx_a.stop()
        tx_b.stop()
        self.assert_clip(rx_a.data(), "caller cam-a (aes128) -> flow a")
        self.assert_clip(rx_b.data(), "caller #!::r=cam-b,m=publish (aes256) -> flow b")
        n = len(CLIP) // DGRAM
        for name, m in (("a", ma), ("b", mb)):
            self.assertEqual(m["packets_received"], n, "%s: %r" % (name, m))
            self.assertEqual(m["bytes_received"], len(CLIP), "%s: %r" % (name, m))
            self.assertIn("srt", m, m)
            self.assertGreater(m["srt"]["negotiated_latency_ms"], 0, "%s: %r" % (name, m))
            self.assertGreater(m["srt"]["rtt_ms"], 0, "%s: %r" % (name, m))
            self.assertEqual(m["srt"]["connected_callers"], 1, "%s: %r" % (name, m))
            self.assertEqual(m["srt"]["callers_refused"], 0, "%s: %r" % (name, m))
        for f in (fa, fb):
            self.assertEqual(c.get("/v1/flows/%s" % f).json()["status"], "ACTIVE")

    # 2 -------------------------------------------------------------------

    def test_2_unknown_stream_id_refused(self):
        ingest, out_a, out_b = self.port(), self.port(), self.port()
        rx_a = self.receiver(out_a, idle=None, hard=30.0).start()
        rx_b = self.receiver(out_b, idle=None, hard=30.0).start()
        c = self.controller()
        fa, fb = self.two_flows(c, ingest, out_a, out_b)
        # the passphrase of a route, but an id no source has
        tx = Peer(self, "file://con", caller_uri(ingest, "cam-x", PW_A, "aes128"), "tx-unknown",
                  stdin=True, chunk=DGRAM)
        pacer = Pacer(tx, CLIP[:300 * DGRAM], gap=0.005).start()
        for f in (fa, fb):
            self.assertTrue(self.wait_until(lambda: self.refusals(c, f, "'cam-x'"), 10),
                            "no source_error naming cam-x: %r" % self.event_summary(c, f))
        pacer.wait(5)
        time.sleep(1.0)
        connected = tx.connections()
        tx.stop()
        rx_a.stop()
        rx_b.stop()
        self.assertEqual(connected, 0, "the caller with an unknown id connected: %s" % tail(tx.log_path))
        self.assertEqual(len(rx_a.data()) + len(rx_b.data()), 0, "media of an unknown id reached an output")
        for f in (fa, fb):
            m = self.source_metrics(c, f)
            self.assertEqual(m["packets_received"], 0, m)
            self.assertGreaterEqual(m["srt"]["callers_refused"], 1, m)
            ev = self.refusals(c, f, "'cam-x'")[0]
            self.assertIn("no source has this stream id", ev["message"])
            self.assertNotIn(PW_A, ev["message"])
            self.assertEqual(c.get("/v1/flows/%s" % f).json()["status"], "ACTIVE")
        self.assertNotIn(PW_A, c.read_log())

    # 3 -------------------------------------------------------------------

    def test_3_wrong_passphrase_refused_on_its_route_only(self):
        ingest, out_a, out_b = self.port(), self.port(), self.port()
        rx_a = self.receiver(out_a, idle=None, hard=40.0).start()
        rx_b = self.receiver(out_b, idle=None, hard=40.0).start()
        c = self.controller()
        fa, fb = self.two_flows(c, ingest, out_a, out_b)
        # route b's passphrase on route a
        tx = Peer(self, "file://con", caller_uri(ingest, "cam-a", PW_B, "aes128"), "tx-wrong",
                  stdin=True, chunk=DGRAM)
        pacer = Pacer(tx, CLIP[:300 * DGRAM], gap=0.005).start()
        self.assertTrue(self.wait_until(lambda: self.refusals(c, fa, "passphrase"), 10),
                        "no source_error about the passphrase: %r" % self.event_summary(c, fa))
        pacer.wait(5)
        time.sleep(1.0)
        connected = tx.connections()
        rejected = "passphrase" in tx.log().lower()
        tx.stop()
        rx_a.stop()
        self.assertEqual(connected, 0, "the caller connected despite the wrong passphrase")
        self.assertTrue(rejected, "the caller's log shows no passphrase rejection: %s" % tail(tx.log_path, 800))
        self.assertEqual(len(rx_a.data()), 0, "media reached the output despite the wrong passphrase")
        m = self.source_metrics(c, fa)
        self.assertEqual(m["packets_received"], 0, m)
        self.assertGreaterEqual(m["srt"]["callers_refused"], 1, m)
        ev = self.refusals(c, fa, "passphrase")[0]
        self.assertIn("'cam-a'", ev["message"])
        for pw in (PW_A, PW_B):
            self.assertNotIn(pw, ev["message"])
            self.assertNotIn(pw, c.read_log())
        # the other route heard nothing of it
        self.assertEqual(self.refusals(c, fb, "passphrase"), [], self.event_summary(c, fb))
        self.assertEqual(self.source_metrics(c, fb)["srt"]["callers_refused"], 0)

        # not a hung route: the right passphrase is taken afterwards
        rx_a2 = self.receiver(out_a, idle=1.5, hard=30.0).start()
        tx2, pacer2 = self.send_clip(ingest, "cam-a", PW_A, "aes128", "tx-right")
        self.assertTrue(pacer2.wait(25), "the right caller was not accepted after the wrong one: %s"
                        % tail(tx2.log_path, 600))
        self.assertIsNone(pacer2.error, pacer2.error)
        rx_a2.wait(10)
        tx2.stop()
        rx_b.stop()
        self.assert_clip(rx_a2.data(), "right passphrase after a wrong one")
        self.assertEqual(len(rx_b.data()), 0)

    # 4 -------------------------------------------------------------------

    def test_4_caller_gone_and_back(self):
        ingest, out_a, out_b = self.port(), self.port(), self.port()
        rx_b = self.receiver(out_b, idle=None, hard=60.0).start()
        c = self.controller()
        fa, fb = self.two_flows(c, ingest, out_a, out_b)
        # flow b's caller sends all along, slowly: 3x the clip at 1 packet / 4 ms
        tx_b, pace_b = self.send_clip(ingest, "cam-b", PW_B, "aes256", "tx-b-long", data=CLIP * 3)
        pace_b.gap = 0.004
        for graceful in (False, True):
            label = "quits" if graceful else "killed"
            # the first caller: half the clip, then gone
            tx1 = Peer(self, "file://con", caller_uri(ingest, "cam-a", PW_A, "aes128"), "tx-a1-" + label,
                       stdin=True, chunk=DGRAM)
            pace1 = Pacer(tx1, CLIP[:len(CLIP) // DGRAM // 2 * DGRAM],
                          ready=lambda: tx1.connections() >= 1, ready_timeout=15).start()
            self.assertTrue(pace1.wait(20) and pace1.error is None, "%s: %s" % (label, pace1.error))
            self.assertTrue(self.wait_until(lambda: self.source_metrics(c, fa)["packets_received"] > 0, 5),
                            "%s: the first caller's media never arrived" % label)
            if graceful:
                tx1.stop()
            else:
                tx1.kill9()
            time.sleep(1.0)
            # the same encoder back: its whole clip arrives
            rx_a = self.receiver(out_a, idle=1.5, hard=30.0).start()
            tx2, pace2 = self.send_clip(ingest, "cam-a", PW_A, "aes128", "tx-a2-" + label)
            self.assertTrue(pace2.wait(25), "%s: the caller that came back was not accepted: %s"
                            % (label, tail(tx2.log_path, 600)))
            self.assertIsNone(pace2.error, pace2.error)
            rx_a.wait(10)
            rx_a.stop()
            tx2.stop()
            self.assert_clip(rx_a.data(), "flow a, caller back after it was %s" % label)
            self.assertEqual(c.get("/v1/flows/%s" % fa).json()["status"], "ACTIVE")
        # flow b never stopped: its caller's stream went on throughout
        self.assertTrue(pace_b.wait(30), "flow b's clip was not sent in time")
        rx_b.wait(3)
        tx_b.stop()
        got = rx_b.data()
        self.assertEqual(got, CLIP * 3, "flow b's stream was disturbed: %d bytes of %d"
                         % (len(got), len(CLIP) * 3))
        self.assertEqual(c.get("/v1/flows/%s" % fb).json()["status"], "ACTIVE")

    # 5 -------------------------------------------------------------------

    def test_5_ffmpeg_caller(self):
        ingest, out_a, out_f = self.port(), self.port(), self.port()
        rx_f = self.receiver(out_f, idle=2.0, hard=40.0).start()
        c = self.controller()
        self.start_flow(c, self.routed_source("in-a", ingest, "cam-a", "aes128", PW_A),
                        [{"name": "udp", "protocol": "udp", "destination": LO, "port": out_a}], name="a")
        ff = self.start_flow(c, self.routed_source("in-f", ingest, "cam-f", "aes192", PW_B),
                             [{"name": "udp", "protocol": "udp", "destination": LO, "port": out_f}], name="f")
        # ffmpeg 5.1 sends the stream id as the URL has it: '#' itself, not %23
        uri = ("srt://%s:%d?mode=caller&streamid=#!::r=cam-f,m=publish&passphrase=%s&pbkeylen=24"
               "&pkt_size=1316" % (LO, ingest, PW_B))
        log = self.logfile("ffmpeg-caller")
        with open(log, "wb") as f:
            r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
                                "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3",
                                "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "mpegts", uri],
                               stdout=subprocess.DEVNULL, stderr=f, timeout=30)
        self.assertEqual(r.returncode, 0, "ffmpeg failed: %s" % tail(log))
        rx_f.wait(10)
        rx_f.stop()
        data = rx_f.data()
        self.assertTrue(data, "nothing from the ffmpeg caller reached flow f's output")
        path = os.path.join(self.tmpdir(), "ffmpeg-out.ts")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                            "-show_entries", "stream=codec_name,nb_read_frames", "-of", "json", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        streams = json.loads(p.stdout.decode() or "{}").get("streams", [])
        self.assertEqual([s_["codec_name"] for s_ in streams], ["h264"], p.stdout)
        # 75 frames sent; ffmpeg closes its SRT socket as soon as it wrote
        # the last and libsrt drops what was still in flight: the same 68
        # arrive through a plain srtsrc listener
        self.assertGreaterEqual(int(streams[0]["nb_read_frames"]), 60, p.stdout)
        self.assertEqual(ts_cc_errors(data)[0], 0)
        m = self.source_metrics(c, ff)
        self.assertEqual(m["bytes_received"], len(data), m)
        self.assertEqual(m["srt"]["callers_refused"], 0, m)

    # 6 -------------------------------------------------------------------

    def test_6_rules(self):
        ingest, out, out2 = self.port(), self.port(), self.port()
        c = self.controller()
        udp = [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}]
        same = {"name": "f", "sources": [self.routed_source("s1", ingest, "cam-a"),
                                         self.routed_source("s2", ingest, "cam-a")], "outputs": udp}
        r = c.post("/v1/flows", same)
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json()["field"], "sources[1].stream_id", r.body)
        no_id = {"name": "f", "sources": [self.routed_source("s1", ingest, "cam-a"),
                                          {"name": "s2", "protocol": "srt-listener", "ingest_port": ingest}],
                 "outputs": udp}
        r = c.post("/v1/flows", no_id)
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json()["field"], "sources[1].ingest_port", r.body)

        # two sources of one flow on one port, different ids: both deliver
        # (the second is the failover's backup: it is received all along)
        rx = self.receiver(out, idle=1.5, hard=40.0).start()
        flow = self.create_flow(c, {"name": "two", "sources": [
            self.routed_source("s1", ingest, "cam-a", "aes128", PW_A),
            self.routed_source("s2", ingest, "cam-b", "aes256", PW_B)], "outputs": udp,
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                       "source_priority": {"primary_source": "s1"}}})
        self.assertEqual(c.post("/v1/flows/%s/start" % flow["id"]).status, 200)
        c.wait_status(flow["id"], "ACTIVE", timeout=20)
        tx, pacer = self.send_clip(ingest, "cam-a", PW_A, "aes128", "tx-one-flow")
        tx2, pacer2 = self.send_clip(ingest, "cam-b", PW_B, "aes256", "tx-one-flow-b")
        self.assertTrue(pacer.wait(30) and pacer2.wait(30), "the clips were not sent in time")
        rx.wait(10)
        m = self.metrics(c, flow["id"])
        tx.stop()
        tx2.stop()
        self.assert_clip(rx.data(), "one flow, primary s1 (cam-a)")
        got = {s["name"]: s["packets_received"] for s in m["source_metrics"]}
        self.assertEqual(got, {"s1": len(CLIP) // DGRAM, "s2": len(CLIP) // DGRAM}, m)

        # the same id on the same port in a second flow: it cannot start
        other = self.create_flow(c, {"name": "dup", "source": self.routed_source("s", ingest, "cam-a"),
                                     "outputs": [{"name": "udp", "protocol": "udp", "destination": LO,
                                                  "port": out2}]})
        r = c.post("/v1/flows/%s/start" % other["id"])
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("cam-a", r.json()["error"], r.body)
        self.assertEqual(c.get("/v1/flows/%s" % flow["id"]).json()["status"], "ACTIVE")


if __name__ == "__main__":
    unittest.main(verbosity=2)
