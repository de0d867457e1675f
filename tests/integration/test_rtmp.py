#!/usr/bin/env python3
"""RTMP integration tests: a real controller, a real RTMP server (Debian's
nginx with libnginx-mod-rtmp, started and stopped by the test, see
rtmp_server.py), real senders and readers (gst-launch-1.0, ffmpeg), all on
127.0.0.1.

a. UDP source (live H.264 + AAC in MPEG-TS) -> RTMP output to nginx: an
   ffmpeg reader of rtmp://127.0.0.1:PORT/live/KEY finds H.264 and AAC and
   decodes about 25 video frames a second.
b. RTMP source: ffmpeg publishes H.264 + AAC into nginx, the flow pulls it and
   sends MPEG-TS over UDP: the PMT has H.264 (0x1b) and AAC (0x0f), no
   continuity errors, ffprobe decodes the frames of the capture.
c. An HEVC source cannot go to RTMP: a connection_error event names the
   codec, the flow stays ACTIVE, a UDP output of the same flow gets the
   whole clip byte for byte.
d. nginx killed mid-stream and started again on the same port: the flow
   stays ACTIVE, connection_error, disconnections >= 1, the RTMP output
   delivers again by itself; the UDP output of the same flow never pauses.
e. Round trip: one flow pushes to nginx, another one pulls the same stream
   back and sends it as MPEG-TS over UDP.
f. An RTMP output whose destination refuses (nobody listens) while the
   source gets ~8 Mbit/s: connection_error events with a growing back-off,
   disconnections counted, and a UDP output of the same flow gets every
   byte.

Standard library only.  Every process, thread and socket is bounded in time
and cleaned up.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import DGRAM, TS, kill_proc, tail, ts_cc_errors, wait_until  # noqa: E402
from mroute_media import describe_dgram_mismatch as describe_mismatch  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, gst_has, live_encoder  # noqa: E402
from rtmp_server import RtmpServer, available as rtmp_server_available  # noqa: E402

FPS = 25
ST_H264, ST_AAC, ST_HEVC = 0x1B, 0x0F, 0x24

WORK_DIR = None


# --------------------------------------------------------------------------
# MPEG-TS: PAT / PMT
# --------------------------------------------------------------------------

def _sections(data, want_pid):
    """First complete PSI section of `want_pid` found in the TS bytes (one
    section spanning packets is reassembled), or None."""
    buf = None
    for off in range(0, len(data) - TS + 1, TS):
        p = data[off:off + TS]
        if p[0] != 0x47:
            continue
        pid = ((p[1] & 0x1F) << 8) | p[2]
        if pid != want_pid:
            continue
        pusi = bool(p[1] & 0x40)
        afc = (p[3] >> 4) & 3
        if not afc & 1:
            continue
        i = 4
        if afc & 2:
            i += 1 + p[4]
        if i >= TS:
            continue
        if pusi:
            pointer = p[i]
            buf = bytearray(p[i + 1 + pointer:])
        elif buf is not None:
            buf += p[i:]
        else:
            continue
        if len(buf) >= 3:
            length = ((buf[1] & 0x0F) << 8) | buf[2]
            if len(buf) >= 3 + length:
                yield bytes(buf[:3 + length])
                buf = None


def pmt_stream_types(data, all_versions=True):
    """{elementary PID: stream_type} of the first program of the TS bytes,
    from its PAT and PMT (every PMT section seen, so a stream added by a
    later PMT version counts; only the first with all_versions=False);
    {} when they are not found."""
    pmt_pid = None
    for sec in _sections(data, 0):
        if sec[0] != 0x00:
            continue
        length = ((sec[1] & 0x0F) << 8) | sec[2]
        body = sec[8:3 + length - 4]
        for k in range(0, len(body) - 3, 4):
            program = (body[k] << 8) | body[k + 1]
            pid = ((body[k + 2] & 0x1F) << 8) | body[k + 3]
            if program != 0:
                pmt_pid = pid
                break
        if pmt_pid is not None:
            break
    if pmt_pid is None:
        return {}
    streams = {}
    for sec in _sections(data, pmt_pid):
        if sec[0] != 0x02:
            continue
        length = ((sec[1] & 0x0F) << 8) | sec[2]
        end = 3 + length - 4
        info_len = ((sec[10] & 0x0F) << 8) | sec[11]
        i = 12 + info_len
        while i + 5 <= end:
            st = sec[i]
            pid = ((sec[i + 1] & 0x1F) << 8) | sec[i + 2]
            es_len = ((sec[i + 3] & 0x0F) << 8) | sec[i + 4]
            streams[pid] = st
            i += 5 + es_len
        if not all_versions:
            break
    return streams


def ffprobe_file(path, timeout=60):
    """{codec_type: (codec_name, nb_read_frames)} of a media file, decoding
    every frame."""
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                        "stream=codec_type,codec_name,nb_read_frames", "-of", "json", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out = {}
    try:
        for s in json.loads(r.stdout.decode() or "{}").get("streams", []):
            n = s.get("nb_read_frames")
            out.setdefault(s.get("codec_type"), (s.get("codec_name"), int(n) if n else 0))
    except ValueError:
        pass
    return out, r.stderr.decode("utf-8", "replace")[-1500:]


# --------------------------------------------------------------------------
# Readers and senders
# --------------------------------------------------------------------------

class RtmpReader:
    """ffmpeg playing an RTMP URL, decoding audio and video into the null
    muxer.  Its -progress output (every 0.25 s) gives the number of video
    frames decoded so far; its log gives the codecs of the input."""

    INPUT_STREAM = re.compile(r"^\s*Stream #0:\d+.*?: (Video|Audio): (\w+)", re.M)

    def __init__(self, test, url, label):
        self.label = label
        self.progress = []           # (monotonic time, frames decoded)
        self.proc = test.spawn(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "info",
             "-rw_timeout", "20000000", "-i", url,
             "-f", "null", "-progress", "pipe:1", "-stats_period", "0.25", "-"],
            "rtmp-reader-" + label, stdout=subprocess.PIPE)
        self.log_path = self.proc.log_path
        self.thread = threading.Thread(target=self._run, name="rtmp-reader-%s" % label, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for line in self.proc.stdout:
                line = line.decode("ascii", "replace").strip()
                if line.startswith("frame="):
                    try:
                        self.progress.append((time.monotonic(), int(line[6:])))
                    except ValueError:
                        pass
        except (OSError, ValueError):
            pass

    def frames(self):
        return self.progress[-1][1] if self.progress else 0

    def first_frame_time(self):
        for t, n in list(self.progress):
            if n > 0:
                return t
        return None

    def frames_at(self, t):
        """Frames decoded by time t (the last progress report before it)."""
        n = 0
        for ts, k in list(self.progress):
            if ts > t:
                break
            n = k
        return n

    def wait_frames(self, n, timeout):
        return wait_until(lambda: self.frames() >= n or self.proc.poll() is not None, timeout) \
            and self.frames() >= n

    def codecs(self):
        """{'Video': codec, 'Audio': codec} of the input, from the log part
        before the output is described."""
        text = tail(self.log_path, 1 << 20)
        text = text.split("Stream mapping:")[0].split("Output #0")[0]
        return {kind: codec for kind, codec in self.INPUT_STREAM.findall(text)}

    def log(self):
        return tail(self.log_path, 2500)

    def stop(self):
        kill_proc(self.proc)
        self.thread.join(5)


# --------------------------------------------------------------------------

def setUpModule():
    global WORK_DIR
    why = rtmp_server_available()
    if why:
        raise unittest.SkipTest(why)
    for tool in ("ffmpeg", "ffprobe", "gst-launch-1.0"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest("%s is not installed" % tool)
    if live_encoder() is None:
        raise unittest.SkipTest("neither x264enc nor openh264enc is installed")
    if not (gst_has("avenc_aac") or gst_has("voaacenc")):
        raise unittest.SkipTest("no GStreamer AAC encoder (avenc_aac, voaacenc)")
    WORK_DIR = tempfile.mkdtemp(prefix="mroute-rtmp-test-")


def tearDownModule():
    if WORK_DIR:
        shutil.rmtree(WORK_DIR, ignore_errors=True)


class RtmpTests(MrouteTestCase):
    LOG_TAIL = 8000

    # helpers -------------------------------------------------------------

    def server(self):
        return self.own_server(RtmpServer()).start()

    def reader(self, url, label):
        return self.own(RtmpReader(self, url, label))

    def popen(self, cmd, label):
        return self.spawn(cmd, "rtmp-" + label)

    def start_flow(self, c, source, outputs, name="rtmp"):
        r = c.post("/v1/flows", {"name": name, "source": source, "outputs": outputs})
        self.assertEqual(r.status, 201, r.body)
        flow = r.json()
        r = c.post("/v1/flows/%s/start" % flow["id"])
        self.assertEqual(r.status, 200, r.body)
        deadline = time.monotonic() + 20
        st = None
        while time.monotonic() < deadline:
            st = c.get("/v1/flows/%s" % flow["id"]).json().get("status")
            if st in ("ACTIVE", "ERROR"):
                break
            time.sleep(0.05)
        self.assertEqual(st, "ACTIVE", "flow %s (%s) is %s; events: %r"
                         % (flow["id"], name, st, self.event_summary(c, flow["id"])))
        return flow["id"]

    def output_metrics(self, c, flow_id, name):
        m = self.metrics(c, flow_id)
        for o in m.get("output_metrics", []):
            if o.get("name") == name:
                return o, m
        self.fail("no output_metrics for %r: %r" % (name, m))

    def live_sender(self, ports, seconds=40, label="sender"):
        """A live H.264 (25 fps, GOP 1 s) + AAC MPEG-TS sender, 7 TS packets
        per datagram to each of `ports`, for `seconds` at most."""
        enc = live_encoder()
        aac = ["avenc_aac"] if gst_has("avenc_aac") else ["voaacenc"]
        vbufs = seconds * FPS
        abufs = seconds * 48000 // 1024
        cmd = (["gst-launch-1.0", "-q",
                "videotestsrc", "is-live=true", "num-buffers=%d" % vbufs, "pattern=ball",
                "!", "video/x-raw,width=320,height=240,framerate=%d/1" % FPS, "!"] + enc +
               ["!", "h264parse", "!", "queue", "!", "mux.",
                "audiotestsrc", "is-live=true", "num-buffers=%d" % abufs, "samplesperbuffer=1024",
                "!", "audio/x-raw,rate=48000,channels=2", "!", "audioconvert", "!"] + aac +
               ["!", "aacparse", "!", "queue", "!", "mux.",
                "mpegtsmux", "name=mux", "alignment=7", "bitrate=2000000",
                "!", "multiudpsink", "clients=%s" % ",".join("%s:%d" % (LO, p) for p in ports)])
        return self.popen(cmd, label)

    def ffmpeg_publisher(self, url, seconds=30, label="publisher"):
        """ffmpeg publishing a live H.264 + AAC test stream to an RTMP URL."""
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
               "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % FPS,
               "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
               "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
               "-g", str(FPS), "-b:v", "1M", "-pix_fmt", "yuv420p",
               "-c:a", "aac", "-b:a", "128k", "-f", "flv", url]
        return self.popen(cmd, label)

    def make_clip(self, name, vcodec, seconds=3):
        """A TS clip (320x240, 25 fps, GOP 1 s, AAC) cut to whole datagrams;
        returns (path, bytes).  vcodec: libx264 or libx265."""
        path = os.path.join(WORK_DIR, name)
        extra = (["-x265-params", "log-level=error:keyint=%d" % FPS] if vcodec == "libx265"
                 else ["-g", str(FPS)])
        r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % FPS,
                            "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
                            "-t", str(seconds), "-c:v", vcodec, "-preset", "ultrafast"] + extra +
                           ["-b:v", "1M", "-c:a", "aac", "-f", "mpegts", "-muxrate", "2M", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if r.returncode != 0:
            if b"Unknown encoder" in r.stderr:
                self.skipTest("ffmpeg has no %s" % vcodec)
            self.fail("ffmpeg (%s clip) failed: %s" % (vcodec, r.stderr.decode("utf-8", "replace")))
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size - size % DGRAM)
        with open(path, "rb") as f:
            return path, f.read()

    def send_clip_udp(self, path, port, label="clip-sender"):
        """Sends a clip file to 127.0.0.1:port, one datagram per millisecond
        (about 10 Mbit/s: faster than real time)."""
        self.send_file_udp(path, port, "rtmp-" + label)

    def assert_reader_decodes(self, rd, label, window=4.0, first_timeout=20):
        """rd finds H.264 + AAC and decodes >= 80 % of 25 fps over `window`
        seconds (after its first second of decoding: ffmpeg starts with a
        burst of what nginx had buffered)."""
        self.assertTrue(rd.wait_frames(1, first_timeout),
                        "%s: the reader decoded no frame in %ss: %s" % (label, first_timeout, rd.log()))
        t_first = rd.first_frame_time()
        time.sleep(max(0.0, t_first + 1.0 + window + 0.3 - time.monotonic()))
        t1 = t_first + 1.0
        t2 = t1 + window
        n = rd.frames_at(t2) - rd.frames_at(t1)
        codecs = rd.codecs()
        sys.stderr.write("\n[%s] reader: codecs %r, %d video frames decoded in %.1f s (%d in all)\n"
                         % (label, codecs, n, window, rd.frames()))
        self.assertEqual(codecs.get("Video"), "h264", "%s: input streams %r: %s" % (label, codecs, rd.log()))
        self.assertEqual(codecs.get("Audio"), "aac", "%s: input streams %r: %s" % (label, codecs, rd.log()))
        self.assertGreaterEqual(n, int(0.8 * FPS * window),
                                "%s: %d frames decoded in %.1f s, want >= %d (25 fps): %s"
                                % (label, n, window, int(0.8 * FPS * window), rd.log()))
        return n

    def assert_ts_capture(self, rx, label, min_seconds=3.0):
        """The UDP capture is MPEG-TS with H.264 + AAC in its PMT, no
        continuity errors, and ffprobe decodes about 25 fps of it."""
        packets = rx.snapshot()
        self.assertTrue(packets, "%s: nothing received on port %d" % (label, rx.port))
        data = b"".join(p for _, p in packets)
        span = packets[-1][0] - packets[0][0]
        path = os.path.join(WORK_DIR, "%s-%d.ts" % (re.sub(r"\W", "_", label), rx.port))
        with open(path, "wb") as f:
            f.write(data)
        if os.environ.get("MROUTE_TEST_KEEP"):
            shutil.copy(path, os.environ["MROUTE_TEST_KEEP"])
        self.assertGreaterEqual(span, min_seconds, "%s: only %.1f s of stream received" % (label, span))
        self.assertEqual(len(data) % TS, 0, "%s: %d bytes, not whole TS packets" % (label, len(data)))
        bad = [len(p) for _, p in packets if len(p) % TS]
        self.assertFalse(bad, "%s: datagrams that are not whole TS packets: %r" % (label, bad[:10]))
        types = pmt_stream_types(data)
        self.assertIn(ST_H264, types.values(), "%s: PMT stream types %r, no H.264 (0x1b)"
                      % (label, {hex(k): hex(v) for k, v in types.items()}))
        self.assertIn(ST_AAC, types.values(), "%s: PMT stream types %r, no AAC ADTS (0x0f)"
                      % (label, {hex(k): hex(v) for k, v in types.items()}))
        errors, notes = ts_cc_errors(data)
        self.assertEqual(errors, 0, "%s: %d continuity errors: %s" % (label, errors, notes))
        probe, err = ffprobe_file(path)
        sys.stderr.write("\n[%s] capture: %d bytes over %.1f s, PMT %r, ffprobe %r\n"
                         % (label, len(data), span, {hex(k): hex(v) for k, v in types.items()}, probe))
        self.assertEqual(probe.get("video", (None,))[0], "h264", "%s: ffprobe %r %s" % (label, probe, err))
        self.assertEqual(probe.get("audio", (None,))[0], "aac", "%s: ffprobe %r %s" % (label, probe, err))
        want = int(0.75 * FPS * span)
        self.assertGreaterEqual(probe["video"][1], want,
                                "%s: ffprobe decoded %d video frames of %.1f s of capture, want >= %d: %s"
                                % (label, probe["video"][1], span, want, err))
        self.assertGreater(probe["audio"][1], 0, "%s: no audio frame decoded: %s" % (label, err))
        return data

    # a -------------------------------------------------------------------

    def test_a_udp_source_to_rtmp_output(self):
        srv = self.server()
        ingest = self.port()
        key = "mroute-a"
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "yt", "protocol": "rtmp", "destination": srv.base_url, "stream_key": key}])
        flow = c.get("/v1/flows/%s" % flow_id).json()
        self.assertNotIn("stream_key", flow["outputs"][0], "the stream key is returned: %r" % flow)
        self.assertNotIn(key, json.dumps(flow), "the stream key appears in the flow: %r" % flow)
        sender = self.live_sender([ingest], seconds=30)
        rd = self.reader(srv.url(key), "a")
        self.assert_reader_decodes(rd, "udp -> rtmp output")
        self.assertIsNone(sender.poll(), "the sender stopped early: %s" % tail(sender.log_path))
        o, m = self.output_metrics(c, flow_id, "yt")
        evs = self.events(c, flow_id)
        self.assertFalse([e for e in evs if e["type"] == "connection_error"],
                         "connection_error events: %r" % self.event_summary(c, flow_id))
        self.assertNotIn(key, c.read_log(), "the stream key appears in the controller's log")
        self.assertEqual(m["status"], "ACTIVE", m)
        self.assertEqual(o["protocol"], "rtmp", o)
        self.assertEqual(o["disconnections"], 0, o)
        # the metrics of an output that delivers
        self.assertTrue(o["connected"], "the rtmp output delivers, yet: %r" % o)
        self.assertEqual(o["status"], "CONNECTED", o)
        self.assertGreater(o["bytes_sent"], 100000, "the rtmp output delivers, yet: %r" % o)
        self.assertGreater(o["packets_sent"], 0, "the rtmp output delivers, yet: %r" % o)

    # b -------------------------------------------------------------------

    def test_b_rtmp_source_to_udp(self):
        srv = self.server()
        out = self.port()
        key = "obs-b"
        pub = self.ffmpeg_publisher(srv.url(key), seconds=30)
        # nginx has the stream once a player could get frames from it
        probe = self.reader(srv.url(key), "b-check")
        self.assertTrue(probe.wait_frames(1, 15), "the ffmpeg publisher's stream is not in nginx: %s; %s"
                        % (tail(pub.log_path), probe.log()))
        probe.stop()
        rx = self.receiver(out, idle=None, hard=40.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "obs", "protocol": "rtmp", "destination": srv.base_url,
                                      "stream_id": key},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        self.assertTrue(wait_until(lambda: len(rx.packets) > 0, 15),
                        "nothing reached the udp output in 15 s; events %r" % self.event_summary(c, flow_id))
        time.sleep(5.0)
        rx.stop()
        self.assertIsNone(pub.poll(), "the publisher stopped early: %s" % tail(pub.log_path))
        m = self.metrics(c, flow_id)
        self.assertEqual(m["status"], "ACTIVE", m)
        s = m["source_metrics"][0]
        self.assertEqual(s["protocol"], "rtmp", s)
        self.assertTrue(s["connected"], s)
        self.assertGreater(s["bytes_received"], 100000, s)
        self.assert_ts_capture(rx, "rtmp source -> udp")

    # c -------------------------------------------------------------------

    def test_c_hevc_cannot_go_to_rtmp(self):
        srv = self.server()
        ingest, out = self.port(), self.port()
        clip, data = self.make_clip("hevc.ts", "libx265")
        self.assertIn(ST_HEVC, pmt_stream_types(data).values(), "the clip is not HEVC")

        rx = self.receiver(out, idle=None, hard=60.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "yt", "protocol": "rtmp", "destination": srv.base_url, "stream_key": "hevc"},
            {"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        codec = re.compile(r"h\.?265|hevc", re.I)

        def named_error():
            return [e for e in self.events(c, flow_id)
                    if e["type"] == "connection_error" and codec.search(e["message"] or "")]

        # one datagram per millisecond: the clip (3 s) goes in ~0.6 s, so it
        # is sent 3 times in a row, each one a whole clip for the UDP output
        t0 = time.monotonic()
        for _ in range(3):
            self.send_clip_udp(clip, ingest, "hevc-sender")
        self.assertTrue(wait_until(named_error, max(1.0, t0 + 10 - time.monotonic())),
                        "no connection_error event naming the codec (H.265/HEVC) within 10 s: %r"
                        % self.event_summary(c, flow_id))
        wait_until(lambda: len(rx.packets) >= 3 * len(data) // DGRAM, 5)
        time.sleep(0.3)
        rx.stop()
        sys.stderr.write("\n[hevc] events: %r\n" % self.event_summary(c, flow_id))
        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", "the flow is %s: %r" % (st["status"], self.event_summary(c, flow_id)))
        self.assertIsNone(c.proc.poll(), "the controller exited")
        got = rx.data()
        if got != data * 3:
            self.fail("the udp output next to the refused rtmp output did not get the clip 3 times: %s"
                      % describe_mismatch(got, data * 3))
        # nothing was published
        rd = self.reader(srv.url("hevc"), "c")
        time.sleep(3.0)
        self.assertEqual(rd.frames(), 0, "a player decoded frames of the refused stream")

    # d -------------------------------------------------------------------

    def test_d_nginx_vanishes_and_returns(self):
        srv = self.server()
        ingest, out, ref_port = self.port(), self.port(), self.port()
        key = "comeback"
        udp_rx = self.receiver(out, idle=None, hard=80.0).start()
        # the sender also sends every datagram here: a silence that the
        # reference shows too is the sender's, not the controller's
        ref = self.receiver(ref_port, idle=None, hard=80.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "yt", "protocol": "rtmp", "destination": srv.base_url, "stream_key": key},
            {"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        sender = self.live_sender([ingest, ref_port], seconds=60)
        rd1 = self.reader(srv.url(key), "d-before")
        self.assertTrue(rd1.wait_frames(2 * FPS, 20), "no RTMP delivery before the outage: %s; events %r"
                        % (rd1.log(), self.event_summary(c, flow_id)))
        o, m = self.output_metrics(c, flow_id, "yt")
        self.assertEqual(o["disconnections"], 0, o)

        t_kill = time.monotonic()
        srv.kill9()
        rd1.stop()
        time.sleep(3.0)
        st = c.get("/v1/flows/%s" % flow_id).json()["status"]
        o_down, _ = self.output_metrics(c, flow_id, "yt")
        srv.start()
        t_back = time.monotonic()
        rd2 = self.reader(srv.url(key), "d-after")
        resumed = rd2.wait_frames(FPS, 20)
        t_resumed = time.monotonic()
        sys.stderr.write("\n[nginx vanishes] status while down %s, output while down %r; reader after "
                         "return: %d frames, first %.1f s after nginx returned\n"
                         % (st, o_down, rd2.frames(),
                            (rd2.first_frame_time() or t_resumed) - t_back))
        self.assertEqual(st, "ACTIVE", "the flow is %s while nginx is away: %r"
                         % (st, self.event_summary(c, flow_id)))
        self.assertTrue(resumed, "the RTMP output did not deliver again within 20 s of nginx's return "
                                 "(%d frames): %s; events %r; output %r"
                        % (rd2.frames(), rd2.log(), self.event_summary(c, flow_id),
                           self.output_metrics(c, flow_id, "yt")[0]))
        self.assertLessEqual(rd2.first_frame_time() - t_back, 15.0, "the output resumed only %.1f s after "
                             "nginx returned" % (rd2.first_frame_time() - t_back))
        # a steady 25 fps again, H.264 + AAC
        time.sleep(0.5)
        sender_alive = sender.poll() is None
        o, m = self.output_metrics(c, flow_id, "yt")
        summary = self.event_summary(c, flow_id)
        evs = self.events(c, flow_id)
        kill_proc(sender)
        time.sleep(0.2)
        udp_rx.stop()
        ref.stop()
        self.assertTrue(sender_alive, "the live sender stopped early: %s" % tail(sender.log_path))
        self.assertEqual(m["status"], "ACTIVE", m)
        self.assertIsNone(c.proc.poll(), "the controller exited")
        self.assertFalse([e for e in evs if e["type"] == "flow_started"][1:],
                         "the flow was restarted: %r" % summary)
        self.assertTrue([e for e in evs if e["type"] == "connection_error"],
                        "no connection_error event: %r" % summary)
        self.assertGreaterEqual(o["disconnections"], 1, "yt: %r; events %r" % (o, summary))
        sys.stderr.write("[nginx vanishes] events: %r\n" % summary)
        self.assertEqual(rd2.codecs().get("Video"), "h264", rd2.log())
        self.assertEqual(rd2.codecs().get("Audio"), "aac", rd2.log())

        # the UDP output never paused while nginx was away and came back
        times = udp_rx.times()
        ref_times = ref.times()
        gaps = []
        for a, b in zip(times, times[1:]):
            if b - a > 0.5 and b > t_kill - 1 and a < t_resumed + 1:
                if [t for t in ref_times if a < t < b - 0.2]:
                    gaps.append((round(a - t_kill, 3), round(b - a, 3)))
        self.assertFalse(gaps, "the udp output was silent > 500 ms while the sender was sending "
                               "(start s after the kill, length s): %r" % gaps)
        self.assertGreater(len([t for t in times if t_kill < t < t_back]), 50,
                           "the udp output received almost nothing while nginx was away")
        data = udp_rx.data()
        errors, notes = ts_cc_errors(data)
        self.assertEqual(errors, 0, "udp output: %d continuity errors %s" % (errors, notes))
        self.assertEqual(len(udp_rx.packets), len(ref.packets),
                         "the udp output got %d datagrams, the reference %d"
                         % (len(udp_rx.packets), len(ref.packets)))
        self.assertTrue(o["connected"], "yt delivers again, yet: %r" % o)

    # e -------------------------------------------------------------------

    def test_e_round_trip_through_nginx(self):
        srv = self.server()
        ingest, out = self.port(), self.port()
        key = "round-trip"
        c = self.controller()
        push = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "to-nginx", "protocol": "rtmp", "destination": srv.base_url, "stream_key": key}],
            name="push")
        sender = self.live_sender([ingest], seconds=30)
        probe = self.reader(srv.url(key), "e-check")
        self.assertTrue(probe.wait_frames(1, 20), "the push flow's stream is not in nginx: %s; events %r"
                        % (probe.log(), self.event_summary(c, push)))
        probe.stop()
        rx = self.receiver(out, idle=None, hard=40.0).start()
        pull = self.start_flow(c, {"name": "from-nginx", "protocol": "rtmp", "destination": srv.base_url,
                                   "stream_id": key},
                               [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}],
                               name="pull")
        self.assertTrue(wait_until(lambda: len(rx.packets) > 0, 15),
                        "nothing came back through nginx in 15 s; events %r" % self.event_summary(c, pull))
        time.sleep(5.0)
        rx.stop()
        self.assertIsNone(sender.poll(), "the sender stopped early: %s" % tail(sender.log_path))
        for fid in (push, pull):
            self.assertEqual(self.metrics(c, fid)["status"], "ACTIVE")
        self.assert_ts_capture(rx, "udp -> rtmp -> nginx -> rtmp -> udp")

    # f -------------------------------------------------------------------

    def test_f_refused_destination_others_never_notice(self):
        ingest, out = self.port(), self.port()
        # a TCP port nobody listens on: every connection is refused
        dead = self.tcp_port()
        clip, data = self.make_clip("h264.ts", "libx264")
        rx = self.receiver(out, idle=None, hard=60.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "yt", "protocol": "rtmp", "destination": "rtmp://127.0.0.1:%d/live" % dead,
             "stream_key": "nobody"},
            {"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        # ~8 s of sending: reconnection attempts 1, 2 and 4 s after the
        # first failure happen while data flows in fast
        n = 10
        progress = []
        t0 = time.monotonic()
        for k in range(n):
            self.send_clip_udp(clip, ingest)
            progress.append((round(time.monotonic() - t0, 1), len(rx.packets)))
        wait_until(lambda: len(rx.packets) >= n * len(data) // DGRAM, 3)
        time.sleep(0.3)
        rx.stop()
        m = self.metrics(c, flow_id)
        evs = self.events(c, flow_id)
        summary = ["%s/%s: %s" % (e["type"], e["severity"], e["message"]) for e in evs]
        sys.stderr.write("\n[refused] events: %r\n" % summary)
        self.assertEqual(m["status"], "ACTIVE", m)
        self.assertIsNone(c.proc.poll(), "the controller exited")
        got = rx.data()
        if got != data * n:
            self.fail("the udp output next to the refused rtmp output did not get the clip %d times: %s; "
                      "(s after the first send, datagrams received) after each clip: %r; source %r; events %r"
                      % (n, describe_mismatch(got, data * n), progress, m["source_metrics"][0], summary))
        errs = sorted((e for e in evs if e["type"] == "connection_error" and "yt" in (e["message"] or "")),
                      key=lambda e: e["timestamp"])
        self.assertGreaterEqual(len(errs), 3, "want a connection_error per failed attempt (1, 2, 4 s "
                                              "apart): %r" % summary)
        o = {x["name"]: x for x in m["output_metrics"]}["yt"]
        self.assertGreaterEqual(o["disconnections"], 1, o)
        self.assertFalse(o["connected"], o)
        # the back-off grows: 1, 2, 4 ... s between attempts
        ts = [datetime.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
              for e in errs]
        gaps = [(b - a).total_seconds() for a, b in zip(ts, ts[1:])]
        self.assertTrue(all(b >= a - 0.3 for a, b in zip(gaps, gaps[1:])) and gaps[-1] >= 1.7,
                        "attempts not backed off (s between connection_error events): %r" % gaps)


if __name__ == "__main__":
    unittest.main(verbosity=2)
