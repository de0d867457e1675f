#!/usr/bin/env python3
"""RTSP output integration tests: a real controller whose RTSP server
listens on a free loopback port (--rtsp-port), a real live H.264 + AAC
MPEG-TS sender over UDP (gst-launch-1.0), real RTSP clients (ffprobe,
ffmpeg, gst-launch-1.0 rtspsrc), all on 127.0.0.1.

a. rtsp output with a user and a password: ffprobe over TCP reports h264
   and aac; rtspsrc over UDP decodes 50 H.264 frames; a wrong password and
   no password get 401; the password is in no answer and not in the log;
   the output's metrics say one viewer while one watches.
b. Two viewers at once (ffmpeg over TCP, ffmpeg over UDP), both decode;
   the TCP one is killed (SIGKILL): the other goes on decoding, the viewer
   count goes back to 1 at once (its connection closed), the flow stays
   ACTIVE; the UDP one frozen (SIGSTOP, connection open, no keep-alive):
   its session times out (20 s) and the count goes to 0.
c. Removing the output unmounts it (404) and closes its viewer; stopping
   the flow unmounts it too; starting it again serves it again.
d. Validation: a missing path, bad path characters, a '..' segment, a user
   without a password, a destination or a port, rtsp as a source, path on
   a udp output: 400 naming the field; the same path twice in one flow:
   400; the same path in another flow: 409.
e. The port from the configuration: [rtsp] port (key file), rtsp.port
   (YAML).
f. The RTSP port taken: the API serves, a flow with an rtsp output cannot
   start (409 saying why).

Standard library only.  Every process is bounded in time (timeout) and
killed at teardown.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import tail, wait_until  # noqa: E402
from mroute_harness import Controller  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, gst_has, live_encoder  # noqa: E402

FPS = 25
PASSWORD = "n0t-in-the-log-7Qx"


def setUpModule():
    for tool in ("ffmpeg", "ffprobe", "gst-launch-1.0"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest("%s is not installed" % tool)
    if live_encoder() is None:
        raise unittest.SkipTest("neither x264enc nor openh264enc is installed")
    if not (gst_has("avenc_aac") or gst_has("voaacenc")):
        raise unittest.SkipTest("no GStreamer AAC encoder (avenc_aac, voaacenc)")
    for e in ("rtspsrc", "rtpmp2tdepay", "tsdemux", "avdec_h264"):
        if not gst_has(e):
            raise unittest.SkipTest("GStreamer element %s is missing" % e)


class RtspTests(MrouteTestCase):
    LOG_TAIL = 8000

    # helpers -------------------------------------------------------------

    def url(self, c, path, user=None, password=None):
        cred = "%s:%s@" % (user, password) if user else ""
        return "rtsp://%s%s:%d/%s" % (cred, LO, c.rtsp_port, path)

    def live_sender(self, port, seconds=60):
        """A live H.264 (25 fps, GOP 1 s) + AAC MPEG-TS sender, 7 TS packets
        per datagram, for `seconds` at most."""
        enc = live_encoder()
        aac = ["avenc_aac"] if gst_has("avenc_aac") else ["voaacenc"]
        cmd = (["gst-launch-1.0", "-q",
                "videotestsrc", "is-live=true", "num-buffers=%d" % (seconds * FPS), "pattern=ball",
                "!", "video/x-raw,width=320,height=240,framerate=%d/1" % FPS, "!"] + enc +
               ["!", "h264parse", "!", "queue", "!", "mux.",
                "audiotestsrc", "is-live=true", "num-buffers=%d" % (seconds * 48000 // 1024),
                "samplesperbuffer=1024",
                "!", "audio/x-raw,rate=48000,channels=2", "!", "audioconvert", "!"] + aac +
               ["!", "aacparse", "!", "queue", "!", "mux.",
                "mpegtsmux", "name=mux", "alignment=7", "bitrate=2000000",
                "!", "udpsink", "host=%s" % LO, "port=%d" % port, "sync=false"])
        return self.spawn(cmd, "sender")

    def start_flow(self, c, outputs, name="rtsp"):
        ingest = self.port()
        r = c.post("/v1/flows", {"name": name, "source": {"name": "in", "protocol": "udp",
                                                          "ingest_port": ingest},
                                 "outputs": outputs})
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        r = c.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(wait_until(lambda: c.get("/v1/flows/%s" % fid).json()["status"]
                                   in ("ACTIVE", "ERROR"), 20))
        self.assertEqual(c.get("/v1/flows/%s" % fid).json()["status"], "ACTIVE",
                         self.event_summary(c, fid))
        return fid, ingest

    def output_metrics(self, c, fid, name):
        for o in self.metrics(c, fid).get("output_metrics", []):
            if o["name"] == name:
                return o
        self.fail("no output_metrics for %r" % name)

    def viewers(self, c, fid, name):
        return self.output_metrics(c, fid, name).get("rtsp", {}).get("viewers")

    def ffprobe(self, url, timeout=30):
        r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp",
                            "-show_entries", "stream=codec_name,codec_type", "-of", "json", url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")

    def ffmpeg_viewer(self, url, transport, label, seconds=40):
        """ffmpeg decoding the stream to nothing; its progress (frame=N) in
        a file of its own."""
        progress = self.logfile(label + "-progress", suffix=".txt")
        cmd = ["timeout", str(seconds + 10), "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
               "-rtsp_transport", transport, "-i", url, "-t", str(seconds),
               "-map", "0:v", "-f", "null", "-progress", progress, "-"]
        p = self.spawn(cmd, label)
        p.progress = progress
        return p

    @staticmethod
    def frames(p):
        try:
            with open(p.progress) as f:
                got = re.findall(r"^frame=(\d+)", f.read(), re.M)
        except OSError:
            return 0
        return int(got[-1]) if got else 0

    # a -------------------------------------------------------------------

    def test_a_ffprobe_rtspsrc_and_credentials(self):
        c = self.controller()
        fid, ingest = self.start_flow(c, [{"name": "cam", "protocol": "rtsp", "path": "live/cam-a",
                                           "user": "viewer", "password": PASSWORD}])
        flow = c.get("/v1/flows/%s" % fid).json()
        self.assertNotIn(PASSWORD, json.dumps(flow), "the password is returned: %r" % flow)
        self.assertNotIn("password", flow["outputs"][0])
        self.assertTrue(flow["outputs"][0]["password_set"])
        self.assertEqual(flow["outputs"][0]["user"], "viewer")
        sender = self.live_sender(ingest)
        good = self.url(c, "live/cam-a", "viewer", PASSWORD)

        # ffprobe over TCP-interleaved: the TS's own H.264 and AAC
        deadline = time.monotonic() + 30
        codecs = set()
        while time.monotonic() < deadline and codecs != {("video", "h264"), ("audio", "aac")}:
            rc, out, err = self.ffprobe(good)
            if rc == 0:
                codecs = {(s.get("codec_type"), s.get("codec_name"))
                          for s in json.loads(out).get("streams", [])}
            time.sleep(0.5)
        self.assertEqual(codecs, {("video", "h264"), ("audio", "aac")},
                         "ffprobe found %r (last: %s)" % (codecs, err[-600:]))

        # rtspsrc over UDP decodes 50 frames, then fakesink ends the stream
        log = self.logfile("rtspsrc")
        with open(log, "wb") as f:
            r = subprocess.run(["gst-launch-1.0", "rtspsrc", "location=" + self.url(c, "live/cam-a"),
                                "user-id=viewer", "user-pw=" + PASSWORD, "protocols=udp",
                                "!", "rtpmp2tdepay", "!", "tsdemux", "!", "h264parse", "!",
                                "avdec_h264", "!", "fakesink", "num-buffers=50"],
                               stdout=f, stderr=subprocess.STDOUT, timeout=60)
        # the 50 frames decoded (EOS from fakesink) with no error before
        # them; rtspsrc's own PAUSE/TEARDOWN on the way to NULL after the
        # EOS now and then finds its control connection closed ("Could not
        # send message. (Received end-of-file)", about 1 run in 8, cause
        # not found yet): that is not the decode, and is not counted here
        text = open(log, errors="replace").read()
        self.assertIn("Got EOS", text, "rtspsrc did not decode 50 frames: %s" % tail(log))
        before_eos = text[:text.index("Got EOS")]
        self.assertNotIn("ERROR", before_eos, "rtspsrc over UDP: %s" % tail(log))
        self.assertTrue(r.returncode == 0 or "Received end-of-file" in text,
                        "rtspsrc over UDP: %s" % tail(log))

        # no password, a wrong one: 401, nothing decoded
        for bad in (self.url(c, "live/cam-a"), self.url(c, "live/cam-a", "viewer", "wrong"),
                    self.url(c, "live/cam-a", "intruder", PASSWORD)):
            rc, out, err = self.ffprobe(bad)
            self.assertNotEqual(rc, 0, "%s was let in: %s" % (bad, out))
            self.assertIn("401", err, "%s: %s" % (bad, err[-600:]))

        # one viewer while it watches, none once it went
        v = self.ffmpeg_viewer(good, "tcp", "viewer-a", seconds=8)
        self.assertTrue(wait_until(lambda: self.viewers(c, fid, "cam") == 1, 20),
                        self.output_metrics(c, fid, "cam"))
        self.assertTrue(wait_until(lambda: self.frames(v) >= 50, 30),
                        "the ffmpeg viewer decoded %d frames: %s" % (self.frames(v), tail(v.log_path)))
        text = c.get("/metrics").body.decode()
        self.assertRegex(text, r'(?m)^mroute_output_rtsp_viewers\{[^}]*output="cam"[^}]*\} 1$')
        v.wait(30)
        self.assertTrue(wait_until(lambda: self.viewers(c, fid, "cam") == 0, 30),
                        self.output_metrics(c, fid, "cam"))
        o = self.output_metrics(c, fid, "cam")
        self.assertTrue(o["connected"], o)
        self.assertGreater(o["bytes_sent"], 100000, o)
        self.assertIsNone(sender.poll(), "the sender stopped early: %s" % tail(sender.log_path))
        self.assertNotIn(PASSWORD, c.read_log(), "the password is in the controller's log")
        self.assertEqual(c.get("/v1/flows/%s" % fid).json()["status"], "ACTIVE")

        # a new password, live: the old one is refused, the new one let in;
        # the output read back (no password in it) and sent again keeps it
        r = c.put("/v1/flows/%s/outputs/cam" % fid, {"password": "second-" + PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(PASSWORD, r.body.decode())
        self.assertTrue(wait_until(lambda: "401" in self.ffprobe(good, timeout=15)[2], 20))
        newer = self.url(c, "live/cam-a", "viewer", "second-" + PASSWORD)
        self.assertTrue(wait_until(lambda: self.ffprobe(newer, timeout=15)[0] == 0, 30))
        back = c.get("/v1/flows/%s/outputs/cam" % fid).json()
        r = c.put("/v1/flows/%s/outputs/cam" % fid, back)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(wait_until(lambda: self.ffprobe(newer, timeout=15)[0] == 0, 30))
        self.assertNotIn(PASSWORD, c.read_log(), "the password is in the controller's log")
        # both empty: the mount is open again
        r = c.put("/v1/flows/%s/outputs/cam" % fid, {"user": "", "password": ""})
        self.assertEqual(r.status, 200, r.body)
        out = c.get("/v1/flows/%s/outputs/cam" % fid).json()
        self.assertNotIn("user", out)
        self.assertNotIn("password_set", out)
        self.assertTrue(wait_until(lambda: self.ffprobe(self.url(c, "live/cam-a"), timeout=15)[0] == 0,
                                   30))

    # b -------------------------------------------------------------------

    def test_b_two_viewers_one_killed(self):
        c = self.controller()
        fid, ingest = self.start_flow(c, [{"name": "pub", "protocol": "rtsp", "path": "two"}])
        sender = self.live_sender(ingest)
        url = self.url(c, "two")
        self.assertTrue(wait_until(lambda: self.ffprobe(url, timeout=15)[0] == 0, 30),
                        "the mount never answered")
        tcp = self.ffmpeg_viewer(url, "tcp", "viewer-tcp", seconds=40)
        udp = self.ffmpeg_viewer(url, "udp", "viewer-udp", seconds=80)
        self.assertTrue(wait_until(lambda: self.frames(tcp) >= 25 and self.frames(udp) >= 25, 30),
                        "frames: tcp %d (%s), udp %d (%s)" % (self.frames(tcp), tail(tcp.log_path),
                                                              self.frames(udp), tail(udp.log_path)))
        self.assertTrue(wait_until(lambda: self.viewers(c, fid, "pub") == 2, 10),
                        self.output_metrics(c, fid, "pub"))
        # the TCP viewer killed without a TEARDOWN: its closed connection
        # frees its session at once
        t0 = time.monotonic()
        self.kill_viewer(tcp)
        self.assertTrue(wait_until(lambda: self.viewers(c, fid, "pub") == 1, 10),
                        self.output_metrics(c, fid, "pub"))
        print("rtsp: a killed TCP viewer's session went in %.1f s" % (time.monotonic() - t0),
              file=sys.stderr)
        before = self.frames(udp)
        self.assertTrue(wait_until(lambda: self.frames(udp) >= before + 50, 20),
                        "the other viewer stopped at %d frames: %s; sender (%s): %s; %r"
                        % (self.frames(udp), tail(udp.log_path), sender.poll(),
                           tail(sender.log_path), self.metrics(c, fid)))
        self.assertEqual(c.get("/v1/flows/%s" % fid).json()["status"], "ACTIVE")
        # the UDP viewer frozen (SIGSTOP): its connection stays open, it
        # sends no keep-alive nor RTCP; its session times out
        # (MR_RTSP_SESSION_TIMEOUT_S, 20 s, checked every 2 s)
        t0 = time.monotonic()
        self.kill_viewer(udp, signal.SIGSTOP)
        self.assertTrue(wait_until(lambda: self.viewers(c, fid, "pub") == 0, 45),
                        self.output_metrics(c, fid, "pub"))
        gone = time.monotonic() - t0
        print("rtsp: a frozen UDP viewer's session went in %.1f s" % gone, file=sys.stderr)
        self.assertGreater(gone, 10, "its session went before its timeout")
        self.kill_viewer(udp)
        self.assertEqual(c.get("/v1/flows/%s" % fid).json()["status"], "ACTIVE")
        o = self.output_metrics(c, fid, "pub")
        self.assertGreater(o["bitrate_kbps"], 0, o)

    def kill_viewer(self, p, sig=signal.SIGKILL):
        """@sig to the ffmpeg under `timeout` (SIGKILL: no TEARDOWN)."""
        child = subprocess.run(["pgrep", "-P", str(p.pid)], stdout=subprocess.PIPE).stdout.split()
        self.assertTrue(child, "no ffmpeg under timeout")
        os.kill(int(child[0]), sig)

    # c -------------------------------------------------------------------

    def test_c_unmount_on_remove_and_stop(self):
        c = self.controller()
        fid, ingest = self.start_flow(c, [{"name": "m", "protocol": "rtsp", "path": "gone/soon"},
                                          {"name": "keep", "protocol": "rtsp", "path": "stays"}])
        self.live_sender(ingest)
        url = self.url(c, "gone/soon")
        self.assertTrue(wait_until(lambda: self.ffprobe(url, timeout=15)[0] == 0, 30))
        v = self.ffmpeg_viewer(url, "tcp", "viewer-c", seconds=40)
        self.assertTrue(wait_until(lambda: self.frames(v) >= 25, 30), tail(v.log_path))
        r = c.delete("/v1/flows/%s/outputs/m" % fid)
        self.assertEqual(r.status, 200, r.body)
        rc, out, err = self.ffprobe(url)
        self.assertIn("404", err, err[-600:])
        # its viewer's connection is closed: ffmpeg ends by itself
        self.assertTrue(wait_until(lambda: v.poll() is not None, 20), "the viewer still runs")
        self.assertEqual(self.ffprobe(self.url(c, "stays"))[0], 0, "the other mount went too")
        r = c.post("/v1/flows/%s/stop" % fid)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(wait_until(lambda: "404" in self.ffprobe(self.url(c, "stays"))[2], 20))
        r = c.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(wait_until(lambda: self.ffprobe(self.url(c, "stays"), timeout=15)[0] == 0, 30))

    # d -------------------------------------------------------------------

    def test_d_validation(self):
        c = self.controller()
        src = {"name": "in", "protocol": "udp", "ingest_port": self.port()}

        def post(outputs, source=src):
            return c.post("/v1/flows", {"name": "v", "source": source, "outputs": outputs})

        def out(**kw):
            o = {"name": "o", "protocol": "rtsp", "path": "p"}
            o.update(kw)
            return {k: v for k, v in o.items() if v is not None}

        cases = [
            ("missing path", [out(path=None)], "outputs[0].path"),
            ("space in path", [out(path="a b")], "outputs[0].path"),
            ("leading slash", [out(path="/a")], "outputs[0].path"),
            ("dot-dot segment", [out(path="a/../b")], "outputs[0].path"),
            ("query in path", [out(path="a?x=1")], "outputs[0].path"),
            ("path not a string", [out(path=5)], "outputs[0].path"),
            ("user without password", [out(user="u")], "outputs[0].password"),
            ("password without user", [out(password="p")], "outputs[0].user"),
            ("user with ':'", [out(user="a:b", password="p")], "outputs[0].user"),
            ("destination", [out(destination=LO)], "outputs[0].destination"),
            ("port", [out(port=8554)], "outputs[0].port"),
            ("path on udp", [{"name": "o", "protocol": "udp", "destination": LO, "port": 5000,
                              "path": "p"}], "outputs[0].path"),
            ("same path twice", [out(), out(name="o2")], "outputs[1].path"),
        ]
        for desc, outputs, field in cases:
            with self.subTest(desc):
                r = post(outputs)
                self.assertEqual(r.status, 400, "%s: %s" % (desc, r.body))
                self.assertEqual(r.json().get("field"), field, "%s: %s" % (desc, r.body))
        r = post([], source={"name": "in", "protocol": "rtsp", "path": "x"})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json().get("field"), "source.protocol", r.body)

        r = post([out(path="shared")])
        self.assertEqual(r.status, 201, r.body)
        first = r.json()["id"]
        r = post([out(path="shared")])
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("shared", r.json()["error"])
        # an output added later to another flow, too
        r = post([])
        self.assertEqual(r.status, 201, r.body)
        second = r.json()["id"]
        r = c.post("/v1/flows/%s/outputs" % second, out(path="shared"))
        self.assertEqual(r.status, 409, r.body)
        # the path is free again once its flow is gone
        self.assertEqual(c.delete("/v1/flows/%s" % first).status, 204)
        r = c.post("/v1/flows/%s/outputs" % second, out(path="shared"))
        self.assertIn(r.status, (200, 201), r.body)

    # e -------------------------------------------------------------------

    def test_e_port_from_configuration(self):
        """[rtsp] port in a key file, rtsp.port in YAML: the server listens
        there (the command line's --rtsp-port is left out)."""
        for name, text in (("mroute.conf", "[rtsp]\nport = %d\n"), ("config.yaml", "rtsp:\n  port: %d\n")):
            with self.subTest(name):
                port = self.tcp_port()

                class FromFile(Controller):
                    def command(self):
                        cfg = os.path.join(self.tmpdir, name)
                        with open(cfg, "w") as f:
                            f.write(text % port)
                        return [self.bin, "--port", str(self.port), "--db", self.db_path,
                                "--config", cfg]

                c = self.controller(make=FromFile)
                self.assertIn("RTSP server started on port %d" % port, c.read_log())
                c.rtsp_port = port
                fid, ingest = self.start_flow(c, [{"name": "o", "protocol": "rtsp", "path": "cfg"}])
                self.live_sender(ingest, seconds=20)
                self.assertTrue(wait_until(lambda: self.ffprobe(self.url(c, "cfg"), timeout=15)[0] == 0, 30))
                c.stop()

    # f -------------------------------------------------------------------

    def test_f_port_taken(self):
        """The RTSP port taken: the controller serves its API, a flow with
        an rtsp output cannot start and says why."""
        import socket
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(blocker.close)
        blocker.bind(("0.0.0.0", 0))
        blocker.listen(1)
        c = self.controller(start=False)
        c.rtsp_port = blocker.getsockname()[1]
        c.start()
        self.assertIn("the RTSP server cannot listen on port %d" % c.rtsp_port, c.read_log())
        r = c.post("/v1/flows", {"name": "f", "source": {"name": "in", "protocol": "udp",
                                                         "ingest_port": self.port()},
                                 "outputs": [{"name": "o", "protocol": "rtsp", "path": "p"}]})
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        r = c.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("the RTSP server is not running", r.json()["error"])
        self.assertEqual(c.get("/v1/flows/%s" % fid).json()["status"], "ERROR")


if __name__ == "__main__":
    unittest.main(verbosity=2)
