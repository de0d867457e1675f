#!/usr/bin/env python3
"""The rtmp source that listens (rtmpserversrc): real publishers (ffmpeg
-f flv, gst-launch-1.0 ... rtmp2sink) push to rtmp://127.0.0.1:PORT/live/KEY,
the flow sends MPEG-TS over UDP, a receiver captures it and ffprobe decodes
it.  All on 127.0.0.1.

a. ffmpeg publishes H.264 + AAC: the capture has H.264 (0x1b) and AAC
   (0x0f) in its PMT, no continuity error, ffprobe decodes about 25 video
   frames a second and audio; the source's metrics say connected.  The
   flow stopped and started again takes a publisher on the port again.
b. Two flows share one port with two keys: ffmpeg into one, rtmp2sink into
   the other; each capture decodes as (a).  A third flow with the same
   port and key is refused (409), two sources of one flow with one key
   (400), and a flow with another key on the port is taken.
c. A publisher with a key nobody has is refused (ffmpeg fails): each flow
   on the port gets a source_error event naming the key it tried, never
   its own, and counts it in publishers_refused (and Prometheus'
   mroute_source_publishers_refused_total); a second publisher on a
   key in use is refused too, and the first one goes on.
d. The publisher leaves and comes back: source_error (no data), then
   source_active, and the capture after its return decodes.
e. Bodies: 400 naming the field for a listener without stream_id, with a
   destination too, an output to a host without stream_key or port; an
   rtmp output given as host, port and stream_key delivers into another
   flow's rtmp listener (rtmp://host:port/live/KEY).

Standard library only.  Every process, thread and socket is bounded in
time and cleaned up."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import TS, tail, ts_cc_errors, wait_until  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, gst_has, live_encoder  # noqa: E402
from test_rtmp import ffprobe_file, pmt_stream_types  # noqa: E402

FPS = 25
ST_H264, ST_AAC = 0x1B, 0x0F
WORK_DIR = None


def setUpModule():
    global WORK_DIR
    for tool in ("ffmpeg", "ffprobe", "gst-launch-1.0"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest("%s is not installed" % tool)
    if not gst_has("rtmp2sink"):
        raise unittest.SkipTest("rtmp2sink (gst-plugins-bad) is not installed")
    WORK_DIR = tempfile.mkdtemp(prefix="mroute-rtmp-listener-test-")


def tearDownModule():
    if WORK_DIR:
        shutil.rmtree(WORK_DIR, ignore_errors=True)


class RtmpListenerTests(MrouteTestCase):
    LOG_TAIL = 8000

    # helpers -------------------------------------------------------------

    def url(self, port, key):
        return "rtmp://%s:%d/live/%s" % (LO, port, key)

    def ffmpeg_publisher(self, url, seconds, label="ffmpeg"):
        """ffmpeg encoding a test pattern and a tone in real time (H.264 +
        AAC) and publishing them for `seconds`."""
        return self.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
                           "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % FPS,
                           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
                           "-tune", "zerolatency", "-g", str(FPS), "-pix_fmt", "yuv420p",
                           "-c:a", "aac", "-b:a", "96k", "-f", "flv", url], label)

    def gst_publisher(self, url, label="rtmp2sink"):
        """gst-launch-1.0 with rtmp2sink, live H.264 + AAC, until stopped."""
        enc = live_encoder()
        aac = "avenc_aac" if gst_has("avenc_aac") else "voaacenc"
        return self.spawn(["gst-launch-1.0", "-q", "-e",
                           "videotestsrc", "is-live=true", "pattern=ball", "!",
                           "video/x-raw,width=320,height=240,framerate=%d/1" % FPS, "!"] + enc +
                          ["!", "h264parse", "!", "queue", "!", "flvmux", "name=m", "streamable=true",
                           "!", "rtmp2sink", "location=%s" % url,
                           "audiotestsrc", "is-live=true", "!", "audioconvert", "!",
                           "audioresample", "!", "audio/x-raw,rate=48000", "!", aac, "!",
                           "aacparse", "!", "queue", "!", "m."], label)

    def listener(self, port, key, name="enc"):
        return {"name": name, "protocol": "rtmp", "ingest_port": port, "stream_id": key}

    def udp_out(self, port):
        return [{"name": "udp", "protocol": "udp", "destination": LO, "port": port}]

    # every publisher here sends a keyframe a second: a capture that starts
    # mid-stream decodes from the first one in it
    GOP_SECONDS = 1.0

    def assert_ts_capture(self, packets, label, min_seconds=3.0):
        """MPEG-TS with H.264 + AAC in its PMT, no continuity error, and
        ffprobe decodes about 25 video frames a second (but the first GOP,
        cut by the capture) and some audio."""
        self.assertTrue(packets, "%s: nothing received" % label)
        data = b"".join(p for _, p in packets)
        span = packets[-1][0] - packets[0][0]
        self.assertGreaterEqual(span, min_seconds, "%s: only %.1f s of stream" % (label, span))
        self.assertEqual(len(data) % TS, 0, "%s: %d bytes, not whole TS packets" % (label, len(data)))
        # every version of the PMT: a stream whose caps came after the
        # muxer's first output joins the program in a later one
        types = pmt_stream_types(data, all_versions=True)
        self.assertIn(ST_H264, types.values(), "%s: PMT %r, no H.264" % (label, types))
        self.assertIn(ST_AAC, types.values(), "%s: PMT %r, no AAC" % (label, types))
        errors, notes = ts_cc_errors(data)
        self.assertEqual(errors, 0, "%s: %d continuity errors: %s" % (label, errors, notes))
        path = os.path.join(WORK_DIR, "%s.ts" % re.sub(r"\W", "_", label))
        with open(path, "wb") as f:
            f.write(data)
        probe, err = ffprobe_file(path)
        sys.stderr.write("\n[%s] capture: %d bytes over %.1f s, ffprobe %r\n" % (label, len(data), span, probe))
        self.assertEqual(probe.get("video", (None,))[0], "h264", "%s: %r %s" % (label, probe, err))
        self.assertEqual(probe.get("audio", (None,))[0], "aac", "%s: %r %s" % (label, probe, err))
        want = int(0.75 * FPS * (span - self.GOP_SECONDS))
        self.assertGreaterEqual(probe["video"][1], want, "%s: %d video frames decoded in %.1f s, want >= %d: %s"
                                % (label, probe["video"][1], span, want, err))
        self.assertGreater(probe["audio"][1], 0, "%s: no audio frame decoded: %s" % (label, err))
        return probe

    def capture(self, rx, label, seconds, first_timeout=20, c=None, flow_id=None):
        """Waits for the first datagram, then `seconds` more; the datagrams
        since the first one."""
        ok = wait_until(lambda: len(rx.packets) > 0, first_timeout)
        self.assertTrue(ok, "%s: nothing on the udp output in %d s; events %r"
                        % (label, first_timeout, self.event_summary(c, flow_id) if c else None))
        t0 = time.monotonic()
        time.sleep(seconds)
        return [p for p in rx.snapshot() if p[0] >= t0]

    def wait_event(self, c, flow_id, pred, timeout, what):
        found = []

        def check():
            found[:] = [e for e in self.events(c, flow_id) if pred(e)]
            return bool(found)
        self.assertTrue(wait_until(check, timeout, 0.2), "%s not in %d s: %r"
                        % (what, timeout, self.event_summary(c, flow_id)))
        return found

    # a -------------------------------------------------------------------

    def test_a_ffmpeg_publisher(self):
        port, out = self.tcp_port(), self.port()
        rx = self.receiver(out, idle=None, hard=60.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, self.listener(port, "cam-a"), self.udp_out(out), name="rtmp-a")
        flow = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(flow["sources"][0]["ingest_port"], port, flow)
        pub = self.ffmpeg_publisher(self.url(port, "cam-a"), 30)
        packets = self.capture(rx, "ffmpeg -> listener -> udp", 6.0, c=c, flow_id=flow_id)
        self.assertIsNone(pub.poll(), "the publisher stopped early: %s" % tail(pub.log_path))
        self.assert_ts_capture(packets, "ffmpeg -> listener -> udp", 4.0)
        s = self.metrics(c, flow_id)["source_metrics"][0]
        self.assertEqual(s["protocol"], "rtmp", s)
        self.assertTrue(s["connected"], s)
        self.assertGreater(s["bytes_received"], 100000, s)
        self.assertEqual(s.get("publishers_refused"), 0, s)

        # stopped and started again: the port is let go and taken again
        pub.send_signal(2)
        r = c.post("/v1/flows/%s/stop" % flow_id)
        self.assertEqual(r.status, 200, r.body)
        c.wait_status(flow_id, "STANDBY", timeout=20)
        r = c.post("/v1/flows/%s/start" % flow_id)
        self.assertEqual(r.status, 200, r.body)
        c.wait_status(flow_id, "ACTIVE", timeout=20)
        t = time.monotonic()
        self.ffmpeg_publisher(self.url(port, "cam-a"), 30, "ffmpeg-again")
        self.assertTrue(wait_until(lambda: any(p[0] > t for p in rx.snapshot()), 20),
                        "nothing arrived after the flow was started again: %r" % self.event_summary(c, flow_id))

    # b -------------------------------------------------------------------

    def test_b_two_publishers_one_port(self):
        port, out1, out2 = self.tcp_port(), self.port(), self.port()
        rx1 = self.receiver(out1, idle=None, hard=60.0).start()
        rx2 = self.receiver(out2, idle=None, hard=60.0).start()
        c = self.controller()
        f1 = self.start_flow(c, self.listener(port, "key-one"), self.udp_out(out1), name="one")
        f2 = self.start_flow(c, self.listener(port, "key-two"), self.udp_out(out2), name="two")

        # the same port and key as another flow's source: 409, no flow made
        r = c.post("/v1/flows", {"name": "three", "source": self.listener(port, "key-one"),
                                 "outputs": self.udp_out(self.port())})
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("ingest_port", r.body.decode() if isinstance(r.body, bytes) else r.body)
        self.assertNotIn("key-one", r.body.decode() if isinstance(r.body, bytes) else r.body)
        # two sources of one flow with one key on one port: 400
        r = c.post("/v1/flows", {"name": "four", "sources": [self.listener(port + 0, "k", "a"),
                                                             self.listener(port, "k", "b")],
                                 "outputs": []})
        self.assertEqual(r.status, 400, r.body)
        # two keys on one port in one flow: taken
        r = c.post("/v1/flows", {"name": "five", "sources": [self.listener(port, "k5a", "a"),
                                                             self.listener(port, "k5b", "b")],
                                 "outputs": []})
        self.assertEqual(r.status, 201, r.body)

        p1 = self.ffmpeg_publisher(self.url(port, "key-one"), 30)
        p2 = self.gst_publisher(self.url(port, "key-two"))
        got1 = self.capture(rx1, "ffmpeg on a shared port", 6.0, c=c, flow_id=f1)
        got2 = self.capture(rx2, "rtmp2sink on a shared port", 5.0, c=c, flow_id=f2)
        self.assertIsNone(p1.poll(), "ffmpeg stopped early: %s" % tail(p1.log_path))
        self.assertIsNone(p2.poll(), "rtmp2sink stopped early: %s" % tail(p2.log_path))
        self.assert_ts_capture(got1, "ffmpeg on a shared port", 4.0)
        self.assert_ts_capture(got2, "rtmp2sink on a shared port", 4.0)
        for f in (f1, f2):
            self.assertEqual(self.metrics(c, f)["status"], "ACTIVE")

    # c -------------------------------------------------------------------

    def test_c_wrong_key_and_second_publisher_refused(self):
        port, out1, out2 = self.tcp_port(), self.port(), self.port()
        rx = self.receiver(out1, idle=None, hard=60.0).start()
        c = self.controller()
        f1 = self.start_flow(c, self.listener(port, "right-one"), self.udp_out(out1), name="c1")
        f2 = self.start_flow(c, self.listener(port, "right-two"), self.udp_out(out2), name="c2")

        bad = self.ffmpeg_publisher(self.url(port, "wrong-key-c"), 5, "ffmpeg-wrong")
        try:
            bad.wait(20)
        except subprocess.TimeoutExpired:
            self.fail("a publisher with an unknown key was not refused in 20 s")
        self.assertNotEqual(bad.returncode, 0, "ffmpeg with an unknown key succeeded")
        for f, own in ((f1, "right-one"), (f2, "right-two")):
            evs = self.wait_event(c, f, lambda e: e["type"] == "source_error"
                                  and "wrong-key-c" in (e["message"] or ""), 10,
                                  "a source_error naming the refused key")
            self.assertNotIn(own, json.dumps(self.events(c, f)), "an event names the source's own key")
            self.assertEqual(evs[0]["severity"], "warning", evs)
            s = self.metrics_when(c, f, lambda m: m["source_metrics"][0]["publishers_refused"] >= 1)
            self.assertGreaterEqual(s["source_metrics"][0]["publishers_refused"], 1, s)
            # and in Prometheus
            text = c.get("/metrics").body
            text = text.decode() if isinstance(text, bytes) else text
            series = re.findall(r'^mroute_source_publishers_refused_total\{[^}]*flow_id="%s"[^}]*\} (\d+)$'
                                % f, text, re.M)
            self.assertTrue(series and int(series[0]) >= 1, "Prometheus: %r" % series)
        log = c.read_log()
        self.assertNotIn("right-one", log, "the controller's log names a source's key")
        self.assertIn("wrong-key-c", log, "the controller's log does not name the refused key")

        # a second publisher of a key in use is refused; the first goes on
        first = self.ffmpeg_publisher(self.url(port, "right-one"), 30, "ffmpeg-first")
        self.assertTrue(wait_until(lambda: len(rx.packets) > 0, 20), "the first publisher's stream "
                        "does not arrive: %r" % self.event_summary(c, f1))
        second = self.ffmpeg_publisher(self.url(port, "right-one"), 5, "ffmpeg-second")
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            self.fail("a second publisher of a key in use was not refused in 20 s")
        self.assertNotEqual(second.returncode, 0, "a second publisher of a key in use went through")
        self.wait_event(c, f1, lambda e: e["type"] == "source_error"
                        and "second publisher" in (e["message"] or ""), 10,
                        "a source_error about the second publisher")
        t = time.monotonic()
        time.sleep(2.0)
        self.assertIsNone(first.poll(), "the first publisher stopped: %s" % tail(first.log_path))
        self.assertGreater(len([p for p in rx.snapshot() if p[0] > t]), 100,
                           "the first publisher's stream stopped after the second was refused")

    # d -------------------------------------------------------------------

    def test_d_publisher_gone_and_back(self):
        port, out = self.tcp_port(), self.port()
        rx = self.receiver(out, idle=None, hard=90.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, self.listener(port, "back"), self.udp_out(out), name="rtmp-d")
        pub = self.ffmpeg_publisher(self.url(port, "back"), 5, "ffmpeg-before")
        self.assertTrue(wait_until(lambda: len(rx.packets) > 0, 20), "nothing arrived: %r"
                        % self.event_summary(c, flow_id))
        try:
            pub.wait(30)
        except subprocess.TimeoutExpired:
            self.fail("the first publisher did not end")
        self.wait_event(c, flow_id, lambda e: e["type"] == "source_error", 15,
                        "a source_error once the publisher left")
        self.assertEqual(self.metrics(c, flow_id)["status"], "ACTIVE")
        active_before = len(self.events(c, flow_id, types=["source_active"]))
        t_back = time.monotonic()
        self.ffmpeg_publisher(self.url(port, "back"), 30, "ffmpeg-after")
        self.assertTrue(wait_until(lambda: len(self.events(c, flow_id, types=["source_active"]))
                                   > active_before, 20, 0.2),
                        "no source_active after the publisher came back: %r" % self.event_summary(c, flow_id))
        self.assertTrue(wait_until(lambda: any(p[0] > t_back for p in rx.snapshot()), 20),
                        "nothing arrived after the publisher came back")
        t0 = time.monotonic()
        time.sleep(5.0)
        after = [p for p in rx.snapshot() if p[0] >= t0]
        self.assert_ts_capture(after, "after the publisher came back", 4.0)
        self.assertEqual(self.metrics(c, flow_id)["status"], "ACTIVE")

    # e -------------------------------------------------------------------

    def test_e_bodies_and_output_to_host(self):
        port, ingest, out = self.tcp_port(), self.port(), self.port()
        c = self.controller()
        for source, field in (
                ({"name": "s", "protocol": "rtmp", "ingest_port": port}, "stream_id"),
                ({"name": "s", "protocol": "rtmp", "ingest_port": port, "stream_id": "a/b"}, "stream_id"),
                ({"name": "s", "protocol": "rtmp", "ingest_port": port, "stream_id": "k",
                  "destination": "rtmp://127.0.0.1/live"}, "destination"),
                ({"name": "s", "protocol": "rtmp"}, "ingest_port")):
            r = c.post("/v1/flows", {"name": "bad", "source": source, "outputs": []})
            self.assertEqual(r.status, 400, r.body)
            self.assertIn(field, r.json()["error"] if isinstance(r.json().get("error"), str)
                          else json.dumps(r.json()), r.body)
        for output, field in (
                ({"name": "o", "protocol": "rtmp", "destination": LO, "port": port}, "stream_key"),
                ({"name": "o", "protocol": "rtmp", "destination": LO, "stream_key": "k"}, "port"),
                ({"name": "o", "protocol": "rtmp", "destination": "not a host", "port": port,
                  "stream_key": "k"}, "destination")):
            r = c.post("/v1/flows", {"name": "bad", "source": {"name": "s", "protocol": "udp",
                                                               "ingest_port": ingest},
                                     "outputs": [output]})
            self.assertEqual(r.status, 400, r.body)
            self.assertIn(field, json.dumps(r.json()), r.body)

        # host + port + stream_key into our own listener
        rx = self.receiver(out, idle=None, hard=60.0).start()
        listen = self.start_flow(c, self.listener(port, "relay-key"), self.udp_out(out), name="listen")
        push = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest},
                               [{"name": "cdn", "protocol": "rtmp", "destination": LO, "port": port,
                                 "stream_key": "relay-key"}], name="push")
        body = json.dumps(c.get("/v1/flows/%s" % push).json())
        self.assertNotIn("relay-key", body, "the output's stream key is returned")
        enc = live_encoder()
        aac = "avenc_aac" if gst_has("avenc_aac") else "voaacenc"
        sender = self.spawn(["gst-launch-1.0", "-q", "-e", "videotestsrc", "is-live=true", "!",
                             "video/x-raw,width=320,height=240,framerate=%d/1" % FPS, "!"] + enc +
                            ["!", "h264parse", "!", "queue", "!", "mpegtsmux", "name=m", "alignment=7",
                             "!", "udpsink", "host=%s" % LO, "port=%d" % ingest,
                             "audiotestsrc", "is-live=true", "!", "audioconvert", "!", aac, "!",
                             "aacparse", "!", "queue", "!", "m."], "udp-sender")
        got = self.capture(rx, "udp -> rtmp output to host -> listener -> udp", 6.0, 30, c, listen)
        self.assertIsNone(sender.poll(), "the sender stopped: %s" % tail(sender.log_path))
        self.assert_ts_capture(got, "udp -> rtmp output to host -> listener -> udp", 4.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
