#!/usr/bin/env python3
"""Recording integration tests: a real controller, a live H.264 + AAC
sender (ffmpeg, MPEG-TS over UDP on 127.0.0.1), ffprobe on what comes back.

a. A flow records (segment_duration 2) while it runs, is stopped, and runs
   again: GET /recordings lists two ranges (the gap where it was down),
   the segment files are named by their UTC start; GET /recordings/get of
   3 s from inside the first range is one TS (video/mp2t, chunked) whose
   first video frame is a key frame and whose video lasts 3 s to 3 s plus
   one GOP; the UDP output of the flow got data all along.
b. Bad queries and bodies: 400 naming start, duration, recording.folder,
   recording.segment_duration; 404 (field start) outside the recording.
c. Retention by the injectable clock (MROUTE_TEST_CLOCK_FILE, with
   MROUTE_TEST_RETENTION_INTERVAL_SEC=1): segments older than delete_after
   go, younger ones stay, until the clock moves on.
d. A recording that cannot write: its folder a file (fails for root too)
   gives a recording_error event at start, and a full disk (a 256 KiB
   tmpfs, when this machine lets the test mount one) gives one while
   recording; either way the flow stays ACTIVE and its UDP output keeps
   receiving.

Standard library only; every process and wait is bounded."""

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_testcase import LO, MrouteTestCase, Receiver, wait_for  # noqa: E402

FPS = 25
GOP = 25          # a key frame a second
NAME = re.compile(r"^\d{8}T\d{6}\.\d{3}Z\.ts$")


def sender_cmd(port, seconds):
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % FPS,
            "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
            "-t", str(seconds),
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-threads", "1", "-g", str(GOP), "-keyint_min", str(GOP),
            "-sc_threshold", "0", "-b:v", "300k",
            "-c:a", "aac", "-b:a", "64k",
            "-f", "mpegts", "udp://%s:%d?pkt_size=1316" % (LO, port)]


def ffprobe_json(args, timeout=30):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json"] + args,
                         capture_output=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError("ffprobe failed: %s" % out.stderr.decode(errors="replace")[-2000:])
    return json.loads(out.stdout)


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def segment_name(t):
    """tssegmentsink's name of a segment that starts at t (epoch seconds)"""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y%m%dT%H%M%S") + ".%03dZ.ts" % (d.microsecond // 1000)


class RecordingTest(MrouteTestCase):

    def make_flow(self, c, recording, udp_port):
        src = self.port()
        body = {"name": "rec", "source": {"name": "in", "protocol": "udp", "ingest_port": src},
                "outputs": [{"name": "udp", "protocol": "udp", "destination": LO, "port": udp_port}],
                "recording": recording}
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"], src

    def start(self, c, flow_id):
        r = c.post("/v1/flows/%s/start" % flow_id)
        self.assertEqual(r.status, 200, r.body)

    def events(self, c, flow_id, type_):
        return [e for e in c.get("/v1/flows/%s/events" % flow_id).json()["events"]
                if e["type"] == type_]

    def test_a_record_list_get(self):
        c = self.controller()
        udp_port = self.port()
        rx = self.own(Receiver(udp_port, hard=120.0))
        rx.start()
        flow_id, src = self.make_flow(c, {"enabled": True, "segment_duration": 2}, udp_port)
        r = c.get("/v1/flows/%s" % flow_id)
        self.assertEqual(r.json()["recording"],
                         {"enabled": True, "segment_duration": 2, "delete_after": 604800})
        self.start(c, flow_id)
        sender = self.spawn(sender_cmd(src, 10), "sender1")
        folder = os.path.join(c.tmpdir, "recordings", flow_id)

        def first_range(min_seconds):
            ranges = c.get("/v1/flows/%s/recordings" % flow_id).json()["ranges"]
            return ranges and ranges[0]["duration"] >= min_seconds
        wait_for(lambda: first_range(7), 30, what="7 s recorded")
        sender.wait(timeout=30)
        # down for a while: the gap
        self.assertEqual(c.post("/v1/flows/%s/stop" % flow_id).status, 200)
        time.sleep(3)
        self.start(c, flow_id)
        self.spawn(sender_cmd(src, 8), "sender2")

        def two_ranges():
            ranges = c.get("/v1/flows/%s/recordings" % flow_id).json()["ranges"]
            return len(ranges) == 2 and ranges[1]["duration"] >= 3
        wait_for(two_ranges, 30, what="a second range")
        listing = c.get("/v1/flows/%s/recordings" % flow_id).json()
        first, second = listing["ranges"]
        gap = (parse_time(second["start"]) - parse_time(first["start"])).total_seconds() \
            - first["duration"]
        self.assertGreater(gap, 2, listing)
        names = sorted(os.listdir(folder))
        self.assertTrue(names and all(NAME.match(n) for n in names), names)
        self.assertEqual(listing["segments"], len(names))

        # 3 s from 2.5 s into the first range
        start = parse_time(first["start"]) + datetime.timedelta(seconds=2.5)
        q = urllib.parse.urlencode({"start": start.isoformat().replace("+00:00", "Z"),
                                    "duration": "3"})
        r = c.get("/v1/flows/%s/recordings/get?%s" % (flow_id, q), timeout=30)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.headers.get("Content-Type"), "video/mp2t")
        self.assertEqual(r.headers.get("Transfer-Encoding"), "chunked")
        self.assertEqual(len(r.body) % 188, 0)
        path = os.path.join(self.tmpdir(), "range.ts")
        with open(path, "wb") as f:
            f.write(r.body)
        st = ffprobe_json(["-show_streams", path])
        self.assertEqual(sorted(s["codec_name"] for s in st["streams"]), ["aac", "h264"])
        frames = ffprobe_json(["-select_streams", "v", "-show_frames",
                               "-show_entries", "frame=key_frame,pts_time", path])["frames"]
        self.assertTrue(frames, "no video frame decoded")
        self.assertEqual(frames[0]["key_frame"], 1, frames[:2])
        seconds = len(frames) / FPS
        self.assertGreaterEqual(seconds, 3 - 1 / FPS, "%d frames" % len(frames))
        self.assertLessEqual(seconds, 3 + GOP / FPS + 1 / FPS, "%d frames" % len(frames))

        # the UDP output got data all along, and the flow runs
        self.assertGreater(rx.count(), 100)
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")

    def test_b_bad_queries_and_bodies(self):
        c = self.controller()
        flow_id, _ = self.make_flow(c, {"enabled": False}, self.port())
        base = "/v1/flows/%s/recordings/get" % flow_id
        for query, field in [("", "start"), ("start=yesterday&duration=3", "start"),
                             ("start=2026-12-02T13:05:00&duration=3", "start"),
                             ("start=2026-12-02T13:05:00Z", "duration"),
                             ("start=2026-12-02T13:05:00Z&duration=0", "duration"),
                             ("start=2026-12-02T13:05:00Z&duration=abc", "duration"),
                             ("start=2026-12-02T13:05:00Z&duration=99999", "duration")]:
            r = c.get(base + ("?" + query if query else ""))
            self.assertEqual(r.status, 400, "%s: %s" % (query, r.body))
            self.assertEqual(r.json()["field"], field, r.body)
        r = c.get(base + "?start=2026-12-02T13:05:00Z&duration=3")
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(r.json()["field"], "start")
        self.assertEqual(c.get("/v1/flows/%s/recordings" % flow_id).json(),
                         {"ranges": [], "segments": 0})
        self.assertEqual(c.get("/v1/flows/flow_000000000000/recordings").status, 404)
        for rec, field in [({"folder": "relative/dir"}, "recording.folder"),
                           ({"folder": "/srv/../etc"}, "recording.folder"),
                           ({"segment_duration": 0}, "recording.segment_duration"),
                           ({"delete_after": -1}, "recording.delete_after"),
                           ({"enabled": "yes"}, "recording.enabled")]:
            r = c.put("/v1/flows/%s" % flow_id, {"recording": rec})
            self.assertEqual(r.status, 400, "%s: %s" % (rec, r.body))
            self.assertEqual(r.json()["field"], field, r.body)
        # a PUT changes what it gives
        r = c.put("/v1/flows/%s" % flow_id, {"recording": {"delete_after": 3600}})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["recording"],
                         {"enabled": False, "segment_duration": 60, "delete_after": 3600})

    def test_c_retention_by_the_injected_clock(self):
        clock = os.path.join(self.tmpdir(), "clock")
        now = time.time()
        with open(clock, "w") as f:
            f.write("%f" % now)
        c = self.controller(env={"MROUTE_TEST_CLOCK_FILE": clock,
                                 "MROUTE_TEST_RETENTION_INTERVAL_SEC": "1"})
        root = os.path.join(self.tmpdir(), "rec")
        flow_id, _ = self.make_flow(c, {"enabled": False, "folder": root,
                                        "delete_after": 7 * 86400}, self.port())
        folder = os.path.join(root, flow_id)
        os.makedirs(folder)
        old = segment_name(now - 8 * 86400)
        young = segment_name(now - 86400)
        other = "notes.txt"
        for n in (old, young, other):
            with open(os.path.join(folder, n), "wb") as f:
                f.write(b"\x47" + b"\xff" * 187)
        wait_for(lambda: not os.path.exists(os.path.join(folder, old)), 10,
                 what="the 8-day-old segment to go")
        time.sleep(2)
        self.assertTrue(os.path.exists(os.path.join(folder, young)))
        # a week later
        with open(clock, "w") as f:
            f.write("%f" % (now + 7 * 86400))
        wait_for(lambda: not os.path.exists(os.path.join(folder, young)), 10,
                 what="the 1-day-old segment to go a week later")
        self.assertTrue(os.path.exists(os.path.join(folder, other)), "not a segment: kept")

    def check_error_and_outputs_go_on(self, c, flow_id, rx, what):
        wait_for(lambda: self.events(c, flow_id, "recording_error"), 30,
                 what="a recording_error event (%s)" % what)
        n = rx.count()
        time.sleep(1.5)
        self.assertGreater(rx.count(), n + 10, "the UDP output stopped (%s)" % what)
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")

    def test_d_unwritable_folder(self):
        c = self.controller()
        udp_port = self.port()
        rx = self.own(Receiver(udp_port, hard=90.0))
        rx.start()
        # a file where the folder should be: mkdir fails, for root too
        not_a_dir = os.path.join(self.tmpdir(), "file")
        with open(not_a_dir, "w") as f:
            f.write("x")
        flow_id, src = self.make_flow(c, {"enabled": True, "segment_duration": 1,
                                          "folder": not_a_dir}, udp_port)
        self.start(c, flow_id)
        self.spawn(sender_cmd(src, 30), "sender")
        wait_for(lambda: rx.count() > 50, 20, what="the UDP output")
        self.check_error_and_outputs_go_on(c, flow_id, rx, "folder is a file")
        ev = self.events(c, flow_id, "recording_error")[0]
        self.assertIn("Not a directory", ev["message"])

    def test_e_full_disk(self):
        mnt = os.path.join(self.tmpdir(), "small")
        os.makedirs(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                          capture_output=True, timeout=10).returncode != 0:
            self.skipTest("this machine does not let the test mount a tmpfs")
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], capture_output=True, timeout=10)
        c = self.controller()
        udp_port = self.port()
        rx = self.own(Receiver(udp_port, hard=90.0))
        rx.start()
        flow_id, src = self.make_flow(c, {"enabled": True, "segment_duration": 60,
                                          "folder": mnt}, udp_port)
        self.start(c, flow_id)
        self.spawn(sender_cmd(src, 40), "sender")
        wait_for(lambda: rx.count() > 50, 20, what="the UDP output")
        # 300 kbit/s fills 256 KiB in about 7 s
        self.check_error_and_outputs_go_on(c, flow_id, rx, "full disk")
        ev = self.events(c, flow_id, "recording_error")[0]
        self.assertIn("No space left", ev["message"])

    def test_f_put_turns_it_on_and_off_live(self):
        c = self.controller()
        udp_port = self.port()
        rx = self.own(Receiver(udp_port, hard=90.0))
        rx.start()
        flow_id, src = self.make_flow(c, {"enabled": False, "segment_duration": 1}, udp_port)
        self.start(c, flow_id)
        self.spawn(sender_cmd(src, 30), "sender")
        wait_for(lambda: rx.count() > 50, 20, what="the UDP output")
        folder = os.path.join(c.tmpdir, "recordings", flow_id)
        self.assertFalse(os.path.exists(folder))
        r = c.put("/v1/flows/%s" % flow_id, {"recording": {"enabled": True}})
        self.assertEqual(r.status, 200, r.body)
        wait_for(lambda: os.path.isdir(folder) and len(os.listdir(folder)) >= 3, 20,
                 what="segments once recording is on")
        r = c.put("/v1/flows/%s" % flow_id, {"recording": {"enabled": False}})
        self.assertEqual(r.status, 200, r.body)
        time.sleep(0.5)
        n = len(os.listdir(folder))
        time.sleep(2.5)
        self.assertEqual(len(os.listdir(folder)), n, "recording went on after it was turned off")
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")
        n = rx.count()
        time.sleep(1)
        self.assertGreater(rx.count(), n)

    def test_g_kept_across_a_restart(self):
        c = self.controller()
        root = os.path.join(self.tmpdir(), "rec")
        rec = {"enabled": True, "segment_duration": 5, "folder": root, "delete_after": 0}
        flow_id, _ = self.make_flow(c, rec, self.port())
        c.stop()
        c2 = self.controller(db_path=c.db_path)
        self.assertEqual(c2.get("/v1/flows/%s" % flow_id).json()["recording"], rec)


if __name__ == "__main__":
    unittest.main(verbosity=2)
