#!/usr/bin/env python3
"""Source monitoring (issue 6): a real controller, real live senders
(ffmpeg: H.264 or HEVC + AAC in MPEG-TS over UDP, 25 fps, small pictures)
and a real UDP receiver on the flow's output, all on 127.0.0.1.

1. Errors: an unknown flow is 404, another method than GET 405, a stopped
   flow 409 on all three endpoints, a disabled feature 409 naming its
   field, while metadata of the same running flow answers.
2. A running flow with thumbnails (every 2 s) and content quality, whose
   sender sends 4 s of black picture and silence in the middle:
   - metadata: program 1 "Service01", H.264 High 320x240 25/1, AAC 2 ch
     48 kHz, bit rates, GOP of 25 pictures with I and P pictures only;
   - thumbnail: base64 of a 320x240 JPEG, refreshed about every 2 s;
   - content quality: black, frozen and silent turn true during the black
     stretch and false again after it;
   - the flow's output is the sender's datagrams, byte for byte, in order,
     without continuity errors, while all of it runs.
3. A FAILOVER flow whose primary (HEVC 320x240) is killed: metadata follows
   the backup (H.264 176x144 with B pictures).

Measurements go to stderr as "[monitoring] ..." lines.  Standard library
only; every wait is bounded, every process and socket cleaned up.
"""

import base64
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import kill_proc, tail, ts_cc_errors  # noqa: E402
from mroute_testcase import LO, MrouteTestCase  # noqa: E402

FPS = 25
GOP = 25
INTERVAL = 2                 # thumbnail_interval_sec
BLACK_FROM, BLACK_TO = 9, 13  # seconds of the sender's clock


def note(msg):
    sys.stderr.write("    [monitoring] %s\n" % msg)
    sys.stderr.flush()


# --------------------------------------------------------------------------
# senders
# --------------------------------------------------------------------------

def ffmpeg_sender(port, codec="h264", size="320x240", bframes=0, seconds=40,
                  black=None, log=None, profile="high", pix_fmt=None):
    """A live ffmpeg sending testsrc2 + a sine as MPEG-TS to LO:port, one
    1316-byte datagram per write.  `black`: (from, to) seconds of black
    picture and silence."""
    vf = "null"
    af = "anull"
    if black:
        span = "between(t,%d,%d)" % black
        vf = "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='%s'" % span
        af = "volume=volume=0:enable='%s'" % span
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
           "-f", "lavfi", "-i", "testsrc2=size=%s:rate=%d" % (size, FPS),
           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
           "-t", str(seconds), "-vf", vf, "-af", af]
    if codec == "h264":
        if pix_fmt:
            cmd += ["-pix_fmt", pix_fmt]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", profile,
                "-threads", "1", "-bf", str(bframes), "-g", str(GOP),
                "-keyint_min", str(GOP), "-sc_threshold", "0"]
    else:
        cmd += ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                "log-level=error:pools=1:frame-threads=1:keyint=%d:min-keyint=%d:"
                "scenecut=0:bframes=%d" % (GOP, GOP, bframes)]
    cmd += ["-b:v", "300k", "-maxrate", "300k", "-bufsize", "600k",
            "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-ar", "48000",
            "-f", "mpegts", "udp://%s:%d?pkt_size=1316" % (LO, port)]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=log or subprocess.DEVNULL)


def jpeg_size(data):
    """(width, height) from the first SOF marker of a JPEG, or None."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = (data[i + 2] << 8) | data[i + 3]
        if marker in (0xC0, 0xC1, 0xC2):
            h = (data[i + 5] << 8) | data[i + 6]
            w = (data[i + 7] << 8) | data[i + 8]
            return w, h
        i += 2 + length
    return None


def parse_time(ts):
    """Seconds since the epoch of "2026-11-21T10:00:01.250000Z"."""
    import datetime
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


# --------------------------------------------------------------------------

@unittest.skipUnless(shutil.which("ffmpeg"), "ffmpeg is needed")
class MonitoringTest(MrouteTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ctl = cls.class_controller()

    def setUp(self):
        super().setUp()
        self.flows = []
        self.sender_log = open(self.logfile("senders"), "ab")

    def tearDown(self):
        self.sender_log.close()
        super().tearDown()
        for fid in self.flows:
            self.ctl.delete("/v1/flows/%s" % fid)

    # helpers

    def create(self, sources, outputs=(), thumbnails=True, quality=True,
               failover=False):
        body = {"name": "monitoring", "sources": list(sources), "outputs": list(outputs),
                "source_monitor_config": {"thumbnail_enabled": thumbnails,
                                          "content_quality_enabled": quality,
                                          "thumbnail_interval_sec": INTERVAL}}
        if failover:
            body["source_failover_config"] = {"state": "ENABLED", "failover_mode": "FAILOVER"}
        r = self.ctl.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.flows.append(fid)
        return fid

    def start(self, fid):
        r = self.ctl.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, r.body)
        self.ctl.wait_status(fid, "ACTIVE", timeout=10)

    def sender(self, port, **kw):
        return self.own_proc(ffmpeg_sender(port, log=self.sender_log, **kw), signal.SIGKILL)

    def capture(self, port, forward=None):
        """Records every datagram arriving on LO:port (and forwards it to
        LO:forward if given) until the test ends or 90 s."""
        return self.receiver(port, forward=forward, hard=90.0).start()

    def poll(self, fid, what, cond, timeout, status=200):
        """GETs /v1/flows/fid/what until cond(json) holds (status 200);
        returns the last answer."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            r = self.ctl.get("/v1/flows/%s/%s" % (fid, what))
            last = r
            if r.status == status and cond(r.json()):
                return r.json()
            if time.monotonic() > deadline:
                self.fail("%s of %s: condition not met in %ss; last answer %d %s\nlog:\n%s"
                          % (what, fid, timeout, r.status, r.body[:600], tail(self.ctl.log_path)))
            time.sleep(0.2)
        return last

    def assertError(self, r, status, field=None, contains=None):
        self.assertEqual(r.status, status, r.body)
        body = r.json()
        self.assertIn("error", body)
        if field:
            self.assertEqual(body.get("field"), field, body)
        if contains:
            self.assertIn(contains, body["error"])

    # ---------------------------------------------------------------------

    def test_errors(self):
        p1, p2 = self.consecutive_ports(2)
        for what in ("thumbnail", "metadata", "content-quality"):
            r = self.ctl.get("/v1/flows/flow_nope/%s" % what)
            self.assertError(r, 404, contains="not found")

        on = self.create([{"name": "a", "protocol": "udp", "ingest_port": p1}])
        for what in ("thumbnail", "metadata", "content-quality"):
            r = self.ctl.post("/v1/flows/%s/%s" % (on, what))
            self.assertError(r, 405)
            self.assertEqual(r.headers.get("Allow"), "GET")
            # stopped: 409 for all three
            r = self.ctl.get("/v1/flows/%s/%s" % (on, what))
            self.assertError(r, 409, contains="is not running")

        off = self.create([{"name": "a", "protocol": "udp", "ingest_port": p2}],
                          thumbnails=False, quality=False)
        self.start(off)
        self.sender(p2, seconds=15)
        r = self.ctl.get("/v1/flows/%s/thumbnail" % off)
        self.assertError(r, 409, field="source_monitor_config.thumbnail_enabled")
        r = self.ctl.get("/v1/flows/%s/content-quality" % off)
        self.assertError(r, 409, field="source_monitor_config.content_quality_enabled")
        # metadata needs no switch: parsers only
        md = self.poll(off, "metadata", lambda j: len(j["streams"]) >= 2
                       and j["streams"][0].get("width"), 10)
        self.assertEqual(md["streams"][0]["codec"], "h264")
        # ... and no decoder runs for it ("costs nothing when disabled"):
        # the headers are read in place, no demuxer, parser or decoder
        log = self.ctl.read_log()
        self.assertIn("flow %s: monitoring stream 0: video h264: read in place, "
                      "thumbnails: off, analysis: off" % off, log)
        self.assertIn("flow %s: monitoring stream 1: audio aac: read in place, "
                      "thumbnails: off, analysis: off" % off, log)
        self.assertNotIn("flow %s: monitoring stream 0: video h264: h264parse" % off, log)
        # stopping makes it 409 again, with the field still winning
        self.assertEqual(self.ctl.post("/v1/flows/%s/stop" % off).status, 200)
        self.assertError(self.ctl.get("/v1/flows/%s/metadata" % off), 409,
                         contains="is not running")
        self.assertError(self.ctl.get("/v1/flows/%s/thumbnail" % off), 409,
                         field="source_monitor_config.thumbnail_enabled")

    def test_live_monitoring(self):
        relay_port, ingest, out_port = self.consecutive_ports(3)
        rx = self.capture(out_port)
        fid = self.create([{"name": "cam", "protocol": "udp", "ingest_port": ingest}],
                          [{"name": "out", "protocol": "udp", "destination": LO,
                            "port": out_port}])
        self.start(fid)
        # before any data: metadata and the others say "not yet"
        r = self.ctl.get("/v1/flows/%s/metadata" % fid)
        self.assertError(r, 503)
        self.assertEqual(r.headers.get("Retry-After"), "1")

        relay = self.capture(relay_port, forward=ingest)
        t0 = time.monotonic()
        self.sender(relay_port, seconds=30, black=(BLACK_FROM, BLACK_TO))

        # metadata
        md = self.poll(fid, "metadata", lambda j: len(j["streams"]) == 2
                       and j["streams"][0].get("width") and j["streams"][1].get("channels")
                       and j["streams"][0]["bit_rate"] > 0
                       and j["programs"] and j["programs"][0]["program_name"], 10)
        note("metadata after %.1f s: %s" % (time.monotonic() - t0, md))
        self.assertEqual(md["flow_id"], fid)
        self.assertEqual(md["source"], "cam")
        self.assertEqual(md["programs"], [{"program_id": 1, "program_name": "Service01"}])
        v, a = md["streams"]
        self.assertEqual((v["index"], v["stream_type"], v["codec"], v["profile"]),
                         (0, "video", "h264", "High"))
        self.assertEqual((v["width"], v["height"], v["frame_rate"]), (320, 240, "25/1"))
        self.assertGreater(v["bit_rate"], 50000)
        self.assertLess(v["bit_rate"], 2000000)
        self.assertEqual((a["index"], a["stream_type"], a["codec"]), (1, "audio", "aac"))
        self.assertEqual((a["channels"], a["sample_rate"]), (2, 48000))
        self.assertNotIn("gop", a)

        # GOP: -g 25 -bf 0: 25 pictures, I and P only
        md = self.poll(fid, "metadata", lambda j: j["streams"][0]["gop"]["keyframes"] >= 3, 10)
        gop = md["streams"][0]["gop"]
        note("gop: %s" % gop)
        self.assertEqual(gop["length"], GOP)
        self.assertEqual(gop["frames"]["B"], 0)
        self.assertGreater(gop["frames"]["P"], gop["frames"]["I"])
        self.assertGreaterEqual(gop["frames"]["I"], gop["keyframes"])

        # thumbnail: a 320x240 JPEG, refreshed every INTERVAL s
        th = self.poll(fid, "thumbnail", lambda j: True, 10)
        self.assertEqual(th["flow_id"], fid)
        jpeg = base64.b64decode(th["data"], validate=True)
        self.assertEqual(jpeg[:2], b"\xff\xd8")
        self.assertEqual(jpeg[-2:], b"\xff\xd9")
        self.assertGreater(len(jpeg), 1000)
        self.assertLess(len(jpeg), 200000)
        self.assertEqual(jpeg_size(jpeg), (320, 240))
        stamps = [parse_time(th["timestamp"])]
        self.assertLess(abs(time.time() - stamps[0]), INTERVAL + 2)
        for _ in range(2):
            th = self.poll(fid, "thumbnail",
                           lambda j: parse_time(j["timestamp"]) > stamps[-1], INTERVAL + 3)
            stamps.append(parse_time(th["timestamp"]))
        gaps = [round(b - a, 2) for a, b in zip(stamps, stamps[1:])]
        note("thumbnail refresh gaps: %s s (interval %d s, GOP 1 s)" % (gaps, INTERVAL))
        for g in gaps:
            self.assertGreaterEqual(g, INTERVAL - 0.6)
            self.assertLessEqual(g, INTERVAL + 1.2)
        log = self.ctl.read_log()
        self.assertIn("flow %s: monitoring stream 0: video h264: h264parse, "
                      "thumbnails: avdec_h264, analysis: avdec_h264" % fid, log)
        self.assertIn("flow %s: monitoring stream 1: audio aac: aacparse, "
                      "thumbnails: off, analysis: avdec_aac" % fid, log)

        # content quality: clean before the black stretch
        cq = self.poll(fid, "content-quality", lambda j: True, 10)
        note("content quality before: %s (t=%.1f)" % (cq, time.monotonic() - t0))
        self.assertEqual(set(cq), {"black_frame_detected", "frozen_frame_detected",
                                   "silent_audio_detected", "video_stream_present",
                                   "audio_stream_present", "last_check_time"})
        self.assertTrue(cq["video_stream_present"])
        self.assertTrue(cq["audio_stream_present"])
        self.assertLess(abs(time.time() - parse_time(cq["last_check_time"])), 3)
        if time.monotonic() - t0 < BLACK_FROM - 1:
            self.assertFalse(cq["black_frame_detected"])
            self.assertFalse(cq["silent_audio_detected"])
            self.assertFalse(cq["frozen_frame_detected"])

        cq = self.poll(fid, "content-quality", lambda j: j["black_frame_detected"]
                       and j["silent_audio_detected"],
                       max(1, BLACK_TO + 3 - (time.monotonic() - t0)))
        note("black and silent at t=%.1f: %s" % (time.monotonic() - t0, cq))
        self.poll(fid, "content-quality", lambda j: j["frozen_frame_detected"], 3)
        cq = self.poll(fid, "content-quality", lambda j: not j["black_frame_detected"]
                       and not j["silent_audio_detected"] and not j["frozen_frame_detected"],
                       max(1, BLACK_TO + 9 - (time.monotonic() - t0)))
        note("clean again at t=%.1f" % (time.monotonic() - t0))

        # the transport: every datagram, byte for byte, in order
        time.sleep(0.5)
        sent = relay.datagrams()
        got = rx.datagrams()
        index = {d: i for i, d in enumerate(sent)}
        missing = [d for d in got if d not in index]
        self.assertFalse(missing, "%d output datagrams the sender never sent" % len(missing))
        order = [index[d] for d in got]
        self.assertEqual(order, sorted(order), "output datagrams out of order")
        first, last = order[0], order[-1]
        lost = (last - first + 1) - len(got)
        errors, notes = ts_cc_errors(b"".join(got))
        note("transport: %d datagrams sent, %d out (%d..%d), %d missing in between, "
             "%d continuity errors" % (len(sent), len(got), first, last, lost, errors))
        self.assertEqual(lost, 0)
        self.assertEqual(errors, 0, notes)
        self.assertGreater(len(got), 0.9 * len(sent))

    def test_profile_spelled_as_ffprobe(self):
        """H.264 High 4:4:4 Predictive (profile_idc 244): GStreamer's caps say
        "high-4:4:4", the metadata says what ffprobe says of the same
        encoder's output."""
        ingest = self.port()
        sample = os.path.join(self.tmpdir(), "high444.ts")
        enc = ["-pix_fmt", "yuv444p", "-c:v", "libx264", "-profile:v", "high444"]
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", "testsrc2=size=320x240:rate=25", "-t", "1"] + enc
                       + ["-f", "mpegts", sample], check=True, timeout=60)
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v",
                                "-show_entries", "stream=profile", "-of", "csv=p=0", sample],
                               check=True, timeout=30, stdout=subprocess.PIPE)
        # the stream is listed under the program and again on its own
        want = [line.strip() for line in probe.stdout.decode().splitlines() if line.strip()][0]
        self.assertEqual(want, "High 4:4:4 Predictive")
        fid = self.create([{"name": "cam", "protocol": "udp", "ingest_port": ingest}],
                          thumbnails=False, quality=False)
        self.start(fid)
        self.sender(ingest, seconds=20, profile="high444", pix_fmt="yuv444p")
        md = self.poll(fid, "metadata", lambda j: j["streams"]
                       and j["streams"][0].get("profile"), 15)
        note("high444: ffprobe says %r, the metadata %r" % (want, md["streams"][0]["profile"]))
        self.assertEqual(md["streams"][0]["profile"], want)

    def test_failover_metadata_follows_backup(self):
        p_main, p_back = self.consecutive_ports(2)
        fid = self.create([{"name": "main", "protocol": "udp", "ingest_port": p_main},
                           {"name": "backup", "protocol": "udp", "ingest_port": p_back}],
                          thumbnails=True, quality=False, failover=True)
        self.start(fid)
        main = self.sender(p_main, codec="hevc", size="320x240", seconds=40)
        self.sender(p_back, codec="h264", size="176x144", bframes=2, seconds=40)
        md = self.poll(fid, "metadata", lambda j: j["streams"]
                       and j["streams"][0].get("width")
                       and j["streams"][0]["gop"]["keyframes"] >= 2, 15)
        v = md["streams"][0]
        note("before: %s %s %dx%d gop %s" % (md["source"], v["codec"], v["width"],
                                             v["height"], v["gop"]))
        self.assertEqual(md["source"], "main")
        self.assertEqual((v["codec"], v["profile"], v["width"], v["height"]),
                         ("hevc", "Main", 320, 240))
        self.assertEqual(v["gop"]["length"], GOP)
        self.assertEqual(v["gop"]["frames"]["B"], 0)
        th = self.poll(fid, "thumbnail", lambda j: True, 10)
        self.assertEqual(jpeg_size(base64.b64decode(th["data"])), (320, 240))

        kill_proc(main, signal.SIGKILL)
        t_kill = time.monotonic()
        md = self.poll(fid, "metadata", lambda j: j["streams"]
                       and j["streams"][0]["codec"] == "h264"
                       and j["streams"][0].get("width"), 10)
        v = md["streams"][0]
        note("after the primary died: %s %s %dx%d in %.1f s" % (
            md["source"], v["codec"], v["width"], v["height"], time.monotonic() - t_kill))
        self.assertEqual(md["source"], "backup")
        self.assertEqual((v["width"], v["height"]), (176, 144))
        self.assertEqual(md["streams"][1]["codec"], "aac")
        # the GOP statistics are the backup's: B pictures, from the switch on
        md = self.poll(fid, "metadata", lambda j: j["streams"][0]["gop"]["keyframes"] >= 2
                       and j["streams"][0]["gop"]["length"] > 0, 10)
        gop = md["streams"][0]["gop"]
        note("backup gop: %s" % gop)
        self.assertEqual(gop["length"], GOP)
        self.assertGreater(gop["frames"]["B"], 0)
        # and the thumbnail follows, at the backup's size (176x144 -> 320 wide)
        th = self.poll(fid, "thumbnail", lambda j: jpeg_size(
            base64.b64decode(j["data"])) == (320, 262), 10)
        self.assertTrue(th)


if __name__ == "__main__":
    unittest.main(verbosity=2)
