#!/usr/bin/env python3
"""HLS output integration tests: a real controller, a live H.264 + AAC
sender (ffmpeg, MPEG-TS over UDP on 127.0.0.1), ffprobe reading the
playlist over HTTP.

a. A flow with a UDP source, an hls output (segment_duration 1, window 3)
   and a UDP output: ffprobe reads http://.../hls/FLOW/OUT/index.m3u8 and
   finds H.264 and AAC; every segment the playlist names starts with a key
   frame (ffprobe's K flag on its first video packet) and is served as
   video/mp2t, the playlist as application/vnd.apple.mpegurl; the playlist
   slides (EXT-X-MEDIA-SEQUENCE grows), the files beyond the window are
   deleted (a segment it slid past answers 404, the folder holds at most
   window + 2), the UDP output keeps receiving.
b. Names that are not the output's files (traversal, another output, a
   file that is not there) answer 404; removing the output deletes its
   folder.
c. Bad bodies: an hls source, an hls output with a destination or a port,
   a window out of range, segment_duration on a udp output: 400 naming the
   field.
d. A full disk (a 256 KiB tmpfs over the output's folder; skipped where the
   test may not mount one): a connection_error naming the output, the flow
   ACTIVE, its UDP output receiving.

Standard library only; every process and wait is bounded."""

import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_testcase import LO, MrouteTestCase, Receiver, wait_for  # noqa: E402

FPS = 25
GOP = 25          # a key frame a second
SEGMENT = 1       # s
WINDOW = 3


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


def playlist_segments(text):
    """(media sequence, [(duration, name)]) of a live playlist"""
    seq = int(re.search(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)$", text, re.M).group(1))
    entries = re.findall(r"^#EXTINF:([0-9.]+),\n(\S+)$", text, re.M)
    return seq, [(float(d), n) for d, n in entries]


def ffprobe_json(args, timeout=30):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json"] + args,
                         capture_output=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError("ffprobe failed: %s" % out.stderr.decode(errors="replace")[-2000:])
    return json.loads(out.stdout)


class HlsTest(MrouteTestCase):

    def flow(self, c, outputs):
        src = self.port()
        body = {"name": "hls", "source": {"name": "in", "protocol": "udp", "ingest_port": src},
                "outputs": outputs}
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        flow_id = r.json()["id"]
        r = c.post("/v1/flows/%s/start" % flow_id)
        self.assertEqual(r.status, 200, r.body)
        return flow_id, src

    def test_a_playlist_segments_slide(self):
        c = self.controller()
        udp_port = self.port()
        rx = self.own(Receiver(udp_port, hard=90.0))
        rx.start()
        flow_id, src = self.flow(c, [
            {"name": "web", "protocol": "hls", "segment_duration": SEGMENT, "window": WINDOW},
            {"name": "udp", "protocol": "udp", "destination": LO, "port": udp_port}])
        self.spawn(sender_cmd(src, 40), "sender")
        base = "/hls/%s/web/" % flow_id
        folder = os.path.join(c.tmpdir, "hls", flow_id, "web")

        # the window fills
        def full():
            r = c.get(base + "index.m3u8")
            return r.status == 200 and len(playlist_segments(r.body.decode())[1]) >= WINDOW
        wait_for(full, 30, what="a playlist of %d segments" % WINDOW)
        r = c.get(base + "index.m3u8")
        self.assertEqual(r.headers.get("Content-Type").split(";")[0], "application/vnd.apple.mpegurl")
        text = r.body.decode()
        self.assertIn("#EXT-X-TARGETDURATION:", text)
        seq0, entries = playlist_segments(text)
        self.assertEqual(len(entries), WINDOW, text)
        for duration, name in entries:
            # cut at the first key frame after SEGMENT s: one GOP a segment
            self.assertGreaterEqual(duration, SEGMENT - 0.1, text)
            self.assertLessEqual(duration, SEGMENT + GOP / FPS + 0.2, text)

        # ffprobe reads the playlist over HTTP
        probe = ffprobe_json(["-show_streams", c.base + base + "index.m3u8"])
        codecs = sorted(s["codec_name"] for s in probe["streams"])
        self.assertEqual(codecs, ["aac", "h264"], probe)

        # every segment: video/mp2t, its first video packet a key frame
        for _, name in entries:
            r = c.get(base + name)
            if r.status == 404:
                continue            # the window slid meanwhile
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers.get("Content-Type"), "video/mp2t")
            self.assertEqual(r.body[0], 0x47)
            self.assertEqual(len(r.body) % 188, 0)
            path = os.path.join(self.tmpdir(), name)
            with open(path, "wb") as f:
                f.write(r.body)
            pk = ffprobe_json(["-select_streams", "v", "-show_packets",
                               "-show_entries", "packet=flags", "-read_intervals", "%+#1", path])
            self.assertTrue(pk["packets"] and pk["packets"][0]["flags"].startswith("K"),
                            "%s: first video packet %s" % (name, pk["packets"][:1]))
            # and it decodes alone: the PAT and PMT are in it
            st = ffprobe_json(["-show_streams", path])
            self.assertEqual(sorted(s["codec_name"] for s in st["streams"]), ["aac", "h264"])

        # the playlist slides, the old files go
        oldest = entries[0][1]
        wait_for(lambda: playlist_segments(c.get(base + "index.m3u8").body.decode())[0]
                 >= seq0 + WINDOW + 2 + 1, 20, what="the playlist to slide")
        self.assertEqual(c.get(base + oldest).status, 404)
        self.assertFalse(os.path.exists(os.path.join(folder, oldest)))
        ts_files = [n for n in os.listdir(folder) if n.endswith(".ts")]
        # the window, the two kept past it, the one being written
        self.assertLessEqual(len(ts_files), WINDOW + 3, ts_files)

        # the UDP output of the same flow never stopped
        n = rx.count()
        time.sleep(1.0)
        self.assertGreater(rx.count(), n)
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")

    def test_b_not_its_files_and_cleanup(self):
        c = self.controller()
        udp_port = self.port()
        flow_id, src = self.flow(c, [
            {"name": "web", "protocol": "hls", "segment_duration": SEGMENT},
            {"name": "udp", "protocol": "udp", "destination": LO, "port": udp_port}])
        self.spawn(sender_cmd(src, 40), "sender")
        base = "/hls/%s/" % flow_id
        wait_for(lambda: c.get(base + "web/index.m3u8").status == 200, 30,
                 what="the playlist")
        secret = os.path.join(c.tmpdir, "hls", flow_id, "x.ts")
        with open(secret, "wb") as f:
            f.write(b"\x47" * 188)
        # an encoded slash: libsoup itself refuses the path (400, no body,
        # not our answer: unchecked); either way nothing is served
        for path in [base + "web/..%2Fx.ts", base + "web/%2E%2E%2Fx.ts",
                     base + "..%2Fweb/index.m3u8"]:
            r = c.send("GET", path)
            self.assertIn(r.status, (400, 404), "%s: %s" % (path, r.body))
        for path in [base + "web/..", base + "udp/index.m3u8", base + "web/missing.ts",
                     base + "web/index.m3u8.tmp", base + "web/.hidden.ts",
                     "/hls/flow_000000000000/web/index.m3u8", base + "nobody/index.m3u8"]:
            r = c.get(path)
            self.assertEqual(r.status, 404, "%s: %s" % (path, r.body))
        folder = os.path.join(c.tmpdir, "hls", flow_id, "web")
        self.assertTrue(os.path.isdir(folder))
        # a PUT of the window is applied live (the output is attached anew)
        r = c.put("/v1/flows/%s/outputs/web" % flow_id, {"window": 2})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["outputs"][0]["window"], 2)

        def window_of_two():
            r = c.get(base + "web/index.m3u8")
            return r.status == 200 and len(playlist_segments(r.body.decode())[1]) == 2 \
                and playlist_segments(r.body.decode())[0] >= 1
        try:
            wait_for(window_of_two, 20, what="a playlist of 2 that slid")
        except AssertionError:
            r = c.get(base + "web/index.m3u8")
            raise AssertionError("playlist %d: %s; folder: %s" % (
                r.status, r.body.decode(errors="replace"),
                os.listdir(folder) if os.path.isdir(folder) else "none"))
        r = c.delete("/v1/flows/%s/outputs/web" % flow_id)
        self.assertIn(r.status, (200, 204), r.body)
        wait_for(lambda: not os.path.exists(folder), 10, what="the output's folder to go")
        self.assertEqual(c.get(base + "web/index.m3u8").status, 404)
        os.unlink(secret)

        # a stopped flow keeps its last files; deleting the flow takes them
        r = c.post("/v1/flows/%s/outputs" % flow_id, {"name": "web2", "protocol": "hls"})
        self.assertEqual(r.status, 201, r.body)
        wait_for(lambda: c.get(base + "web2/index.m3u8").status == 200, 30,
                 what="the second output's playlist")
        self.assertEqual(c.post("/v1/flows/%s/stop" % flow_id).status, 200)
        flow_dir = os.path.join(c.tmpdir, "hls", flow_id)
        self.assertTrue(os.path.isdir(os.path.join(flow_dir, "web2")))
        self.assertEqual(c.delete("/v1/flows/%s" % flow_id).status, 204)
        self.assertFalse(os.path.exists(flow_dir), os.listdir(flow_dir) if os.path.exists(flow_dir) else "")

    def test_c_bad_bodies(self):
        c = self.controller()
        p = self.port()
        cases = [
            ({"name": "x", "source": {"name": "in", "protocol": "hls"},
              "outputs": []}, "source.protocol"),
            ({"name": "x", "source": {"name": "in", "protocol": "udp", "ingest_port": p},
              "outputs": [{"name": "o", "protocol": "hls", "destination": LO}]},
             "outputs[0].destination"),
            ({"name": "x", "source": {"name": "in", "protocol": "udp", "ingest_port": p},
              "outputs": [{"name": "o", "protocol": "hls", "port": 5000}]}, "outputs[0].port"),
            ({"name": "x", "source": {"name": "in", "protocol": "udp", "ingest_port": p},
              "outputs": [{"name": "o", "protocol": "hls", "window": 1}]}, "outputs[0].window"),
            ({"name": "x", "source": {"name": "in", "protocol": "udp", "ingest_port": p},
              "outputs": [{"name": "o", "protocol": "hls", "segment_duration": 0}]},
             "outputs[0].segment_duration"),
            ({"name": "x", "source": {"name": "in", "protocol": "udp", "ingest_port": p},
              "outputs": [{"name": "o", "protocol": "udp", "destination": LO, "port": 5000,
                           "segment_duration": 2}]}, "outputs[0].segment_duration"),
        ]
        for body, field in cases:
            r = c.post("/v1/flows", body)
            self.assertEqual(r.status, 400, "%s: %s" % (field, r.body))
            self.assertEqual(r.json().get("field"), field, r.body)

    def test_d_full_disk(self):
        """An hls output on a full disk (a 256 KiB tmpfs over its folder,
        when this machine lets the test mount one): a connection_error
        naming it, the flow ACTIVE, its UDP output receiving."""
        c = self.controller()
        udp_port = self.port()
        rx = self.own(Receiver(udp_port, hard=90.0))
        rx.start()
        src = self.port()
        r = c.post("/v1/flows", {"name": "hls", "source": {"name": "in", "protocol": "udp",
                                                            "ingest_port": src},
                                 "outputs": [{"name": "web", "protocol": "hls"},
                                             {"name": "udp", "protocol": "udp",
                                              "destination": LO, "port": udp_port}]})
        self.assertEqual(r.status, 201, r.body)
        flow_id = r.json()["id"]
        folder = os.path.join(c.tmpdir, "hls", flow_id, "web")
        os.makedirs(folder)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", folder],
                          capture_output=True, timeout=10).returncode != 0:
            self.skipTest("this machine does not let the test mount a tmpfs")
        self.addCleanup(subprocess.run, ["umount", "-l", folder], capture_output=True, timeout=10)
        self.assertEqual(c.post("/v1/flows/%s/start" % flow_id).status, 200)
        self.spawn(sender_cmd(src, 40), "sender")

        def full():
            ev = c.get("/v1/flows/%s/events" % flow_id).json()["events"]
            return [e for e in ev if e["type"] == "connection_error" and "'web'" in e["message"]]
        wait_for(full, 30, what="a connection_error for the full disk")
        self.assertIn("No space left", full()[0]["message"])
        n = rx.count()
        time.sleep(1.5)
        self.assertGreater(rx.count(), n + 10, "the UDP output stopped")
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")


if __name__ == "__main__":
    unittest.main(verbosity=2)
