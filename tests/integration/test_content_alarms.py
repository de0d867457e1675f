#!/usr/bin/env python3
"""Content alarms, the JPEG thumbnail and the operator's source switch
(issue 16), on a real controller with real live ffmpeg senders (H.264 +
AAC in MPEG-TS over UDP) and a real UDP receiver, all on 127.0.0.1.

1. Alarms: a flow whose sender sends two stretches of black picture and
   silence (5 s each).  The first raises content_black and content_silent
   (warning) when it has lasted its threshold and ends them (info, with
   the duration); Prometheus shows mroute_source_content_alarm 1 during
   it, 0 after, and a stretch counted in
   mroute_source_content_stretches_total; the metrics' content_alarms say
   the same.  Between the two, black_threshold_sec is raised to 8 s
   live: the flow keeps running and its output keeps flowing, and the
   second stretch (5 s) raises silence again but no black.
   The thumbnail is JPEG bytes for Accept: image/jpeg, JSON otherwise.
2. Thresholds are checked: a string, 0 and 3601 are refused naming the
   field; 0.5 is taken and read back.
3. The switch: a FAILOVER flow with two senders; activating the backup
   makes the output the backup's datagrams and writes a source_failover
   event (info, reason manual); activating the primary switches back.  An
   unknown source is 404; a single-source flow, a stopped flow and a
   source that receives nothing are 409.

Every wait is bounded; senders are killed at the end of each test.
"""

import json
import os
import re
import shutil
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import kill_proc, tail  # noqa: E402
from mroute_testcase import LO, MrouteTestCase  # noqa: E402
from mroute_testcase import HttpRecorder  # noqa: E402
from test_monitoring import ffmpeg_sender, jpeg_size  # noqa: E402
from test_notifications import TelegramRecorder  # noqa: E402

BOT_TOKEN = "123456:alarm-test-token"

FPS = 25


def note(msg):
    sys.stderr.write("    [alarms] %s\n" % msg)
    sys.stderr.flush()


def black_sender(port, stretches, seconds, log):
    """ffmpeg_sender with several stretches of black picture and silence"""
    span = "+".join("between(t,%d,%d)" % s for s in stretches)
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
           "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % FPS,
           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
           "-t", str(seconds),
           "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='%s'" % span,
           "-af", "volume=volume=0:enable='%s'" % span,
           "-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-bf", "0",
           "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
           "-b:v", "300k", "-maxrate", "300k", "-bufsize", "600k",
           "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-ar", "48000",
           "-f", "mpegts", "udp://%s:%d?pkt_size=1316" % (LO, port)]
    import subprocess
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=log)


def prom_value(text, name, **labels):
    """The value of the sample of `name` whose labels include `labels`"""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        lab = dict(re.findall(r'(\w+)="([^"]*)"', line[len(name):line.index("}") + 1]))
        if all(lab.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@unittest.skipUnless(shutil.which("ffmpeg"), "ffmpeg is needed")
class ContentAlarmsTest(MrouteTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the alerts' boundaries, as real HTTP servers on loopback
        cls.telegram = cls.class_own_server(TelegramRecorder())
        cls.hook = cls.class_own_server(HttpRecorder())
        cls.ctl = cls.class_controller(env={
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_CHAT_ID": "42",
            "TELEGRAM_API_URL": cls.telegram.base,
            "MROUTE_WEBHOOK_URLS": "http://127.0.0.1:%d/hook" % cls.hook.port})

    def setUp(self):
        super().setUp()
        self.flows = []
        self.sender_log = open(self.logfile("senders"), "ab")

    def tearDown(self):
        self.sender_log.close()
        super().tearDown()
        for fid in self.flows:
            self.ctl.delete("/v1/flows/%s" % fid)

    def create(self, body):
        r = self.ctl.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.flows.append(fid)
        return fid, r.json()

    def start(self, fid):
        r = self.ctl.post("/v1/flows/%s/start" % fid)
        self.assertEqual(r.status, 200, r.body)
        self.ctl.wait_status(fid, "ACTIVE", timeout=10)

    def events(self, fid, kind=None):
        r = self.ctl.get("/v1/flows/%s/events?limit=200" % fid)
        self.assertEqual(r.status, 200, r.body)
        evs = r.json()
        evs = evs if isinstance(evs, list) else evs.get("events", [])
        evs = sorted(evs, key=lambda e: e["id"])
        return [e for e in evs if kind is None or e["type"] == kind]

    def wait_events(self, fid, kind, n, timeout):
        deadline = time.monotonic() + timeout
        while True:
            evs = self.events(fid, kind)
            if len(evs) >= n:
                return evs
            if time.monotonic() > deadline:
                self.fail("%d %s events of %s not there in %ss: %s\nlog:\n%s" % (
                    n, kind, fid, timeout, [e["message"] for e in self.events(fid)],
                    tail(self.ctl.log_path)))
            time.sleep(0.2)

    def prometheus(self):
        r = self.ctl.get("/metrics")
        self.assertEqual(r.status, 200)
        return r.body.decode()

    # ---------------------------------------------------------------------

    def test_alarms_threshold_live_and_jpeg(self):
        ingest, out_port = self.consecutive_ports(2)
        rx = self.receiver(out_port, hard=90.0).start()
        fid, _ = self.create({
            "name": "alarms",
            "sources": [{"name": "cam", "protocol": "udp", "ingest_port": ingest}],
            "outputs": [{"name": "out", "protocol": "udp", "destination": LO, "port": out_port}],
            "source_monitor_config": {"thumbnail_enabled": True, "content_quality_enabled": True,
                                      "thumbnail_interval_sec": 1, "black_threshold_sec": 1,
                                      "silent_threshold_sec": 1.5}})
        self.start(fid)
        t0 = time.monotonic()
        self.own_proc(black_sender(ingest, [(6, 11), (20, 25)], 32, self.sender_log),
                      signal.SIGKILL)

        # the thumbnail, as JPEG bytes or as JSON
        deadline = time.monotonic() + 15
        while True:
            r = self.ctl.get("/v1/flows/%s/thumbnail" % fid, headers={"Accept": "image/jpeg"})
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.headers.get("Content-Type"), "image/jpeg")
        self.assertEqual(r.body[:2], b"\xff\xd8")
        self.assertEqual(jpeg_size(r.body), (320, 240))
        self.assertTrue(r.headers.get("Last-Modified"))
        for accept in (None, "application/json", "*/*", "image/jpeg;q=0, application/json",
                       "application/json, image/jpeg;q=0.5"):
            r = self.ctl.get("/v1/flows/%s/thumbnail" % fid,
                             headers={"Accept": accept} if accept else None)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers.get("Content-Type").startswith("application/json"), accept)
            self.assertEqual(r.json()["flow_id"], fid)
        r = self.ctl.get("/v1/flows/%s/thumbnail" % fid,
                         headers={"Accept": "text/html, image/*;q=0.9, */*;q=0.8"})
        self.assertEqual(r.headers.get("Content-Type"), "image/jpeg")

        # nothing before the first stretch
        if time.monotonic() - t0 < 5:
            self.assertEqual(self.events(fid, "content_black"), [])
            prom = self.prometheus()
            self.assertEqual(prom_value(prom, "mroute_source_content_alarm", flow_id=fid,
                                        source="cam", kind="black"), 0.0)

        # the first stretch: black from 6 s, reported after 1 s of it
        black = self.wait_events(fid, "content_black", 1, 16)
        t_black = time.monotonic() - t0
        note("content_black at t=%.1f: %s" % (t_black, black[0]["message"]))
        self.assertEqual(black[0]["severity"], "warning")
        self.assertIn("black picture on source 'cam'", black[0]["message"])
        prom = self.prometheus()
        self.assertEqual(prom_value(prom, "mroute_source_content_alarm", flow_id=fid,
                                    source="cam", kind="black"), 1.0, prom[-3000:])
        self.assertEqual(prom_value(prom, "mroute_source_content_stretches_total",
                                    flow_id=fid, source="cam", kind="black"), 1.0)
        m = self.ctl.get("/v1/flows/%s/metrics" % fid).json()
        src = m["source_metrics"][0]
        self.assertEqual(src["content_alarms"]["black"], {"active": True, "stretches": 1}, src)

        silent = self.wait_events(fid, "content_silent", 1, 5)
        self.assertEqual(silent[0]["severity"], "warning")
        # out through Telegram and the webhooks, as other events
        self.telegram.wait_for(lambda reqs: any(
            "black picture on source 'cam'" in json.loads(r["body"])["text"] for r in reqs),
            10, "the content_black alert")
        hooks = self.hook.wait_for(lambda reqs: any(
            json.loads(r["body"]).get("type") == "content_black" for r in reqs),
            10, "the content_black webhook")
        ev = [json.loads(r["body"]) for r in hooks
              if json.loads(r["body"]).get("type") == "content_black"][0]
        self.assertEqual((ev["flow_id"], ev["severity"]), (fid, "warning"))
        # the end of both, with their durations (5 s planted)
        black = self.wait_events(fid, "content_black", 2, 12)
        silent = self.wait_events(fid, "content_silent", 2, 5)
        note("ends at t=%.1f: %s / %s" % (time.monotonic() - t0, black[1]["message"],
                                         silent[1]["message"]))
        for ev in (black[1], silent[1]):
            self.assertEqual(ev["severity"], "info")
            d = float(re.search(r"ended after ([0-9.]+) s", ev["message"]).group(1))
            self.assertGreater(d, 4.0, ev["message"])
            self.assertLess(d, 6.5, ev["message"])
        prom = self.prometheus()
        self.assertEqual(prom_value(prom, "mroute_source_content_alarm", flow_id=fid,
                                    source="cam", kind="black"), 0.0)
        self.assertEqual(prom_value(prom, "mroute_source_content_stretches_total",
                                    flow_id=fid, source="cam", kind="silent"), 1.0)
        m = self.ctl.get("/v1/flows/%s/metrics" % fid).json()
        src = m["source_metrics"][0]
        self.assertEqual(src["content_alarms"]["black"], {"active": False, "stretches": 1})

        # a higher black threshold, live: the second stretch (5 s) is not black enough
        self.assertLess(time.monotonic() - t0, 19, "too slow to change the threshold in time")
        before = rx.count()
        r = self.ctl.put("/v1/flows/%s" % fid, {"source_monitor_config": {"black_threshold_sec": 8}})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["source_monitor_config"]["black_threshold_sec"], 8)
        self.assertEqual(r.json()["status"], "ACTIVE")
        silent = self.wait_events(fid, "content_silent", 4, max(1, 30 - (time.monotonic() - t0)))
        note("second silence at t=%.1f: %s" % (time.monotonic() - t0, silent[2]["message"]))
        time.sleep(0.5)
        self.assertEqual(len(self.events(fid, "content_black")), 2,
                         [e["message"] for e in self.events(fid, "content_black")])
        self.assertGreater(rx.count(), before + 100, "the output stopped while the threshold changed")
        self.assertEqual(self.events(fid, "flow_stopped"), [])

    def test_threshold_checks(self):
        base = {"name": "t", "sources": [{"name": "in", "protocol": "udp",
                                          "ingest_port": self.port()}]}
        for value in ("2", 0, 3601, True):
            body = dict(base, source_monitor_config={"silent_threshold_sec": value})
            r = self.ctl.post("/v1/flows", body)
            self.assertEqual(r.status, 400, r.body)
            self.assertEqual(r.json()["field"], "source_monitor_config.silent_threshold_sec")
        fid, flow = self.create(dict(base, source_monitor_config={"frozen_threshold_sec": 0.5}))
        mc = flow["source_monitor_config"]
        self.assertEqual((mc["black_threshold_sec"], mc["frozen_threshold_sec"],
                          mc["silent_threshold_sec"]), (2, 0.5, 2))
        r = self.ctl.get("/v1/flows/%s" % fid)
        self.assertEqual(r.json()["source_monitor_config"]["frozen_threshold_sec"], 0.5)

    def test_manual_switch(self):
        p_main, p_back, out_port, lone_port = self.consecutive_ports(4)
        fid, _ = self.create({
            "name": "switch",
            "sources": [{"name": "main", "protocol": "udp", "ingest_port": p_main},
                        {"name": "backup", "protocol": "udp", "ingest_port": p_back}],
            "outputs": [{"name": "out", "protocol": "udp", "destination": LO, "port": out_port}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER"}})
        lone, _ = self.create({"name": "lone", "sources": [
            {"name": "in", "protocol": "udp", "ingest_port": lone_port}]})

        r = self.ctl.post("/v1/flows/%s/source/backup/activate" % fid)
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("not running", r.json()["error"])
        self.start(fid)
        self.start(lone)
        r = self.ctl.post("/v1/flows/%s/source/in/activate" % lone)
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("FAILOVER", r.json()["error"])
        r = self.ctl.post("/v1/flows/%s/source/nobody/activate" % fid)
        self.assertEqual(r.status, 404, r.body)
        r = self.ctl.get("/v1/flows/%s/source/backup/activate" % fid)
        self.assertEqual(r.status, 405, r.body)

        # main runs; backup has no sender yet: refused
        main_relay = self.receiver(self.port(), forward=p_main, hard=90.0).start()
        self.own_proc(ffmpeg_sender(main_relay.port, seconds=40, log=self.sender_log),
                      signal.SIGKILL)
        rx = self.receiver(out_port, hard=90.0).start()
        self.assertTrue(rx.wait_count(50, 10))
        r = self.ctl.post("/v1/flows/%s/source/backup/activate" % fid)
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("receives nothing", r.json()["error"])

        back_relay = self.receiver(self.port(), forward=p_back, hard=90.0).start()
        self.own_proc(ffmpeg_sender(back_relay.port, seconds=40, size="176x144",
                                    log=self.sender_log), signal.SIGKILL)
        self.assertTrue(back_relay.wait_count(50, 10))
        time.sleep(1.0)
        r = self.ctl.post("/v1/flows/%s/source/backup/activate" % fid)
        self.assertEqual(r.status, 200, r.body)
        t_switch = time.monotonic()
        ev = self.wait_events(fid, "source_failover", 1, 5)[0]
        note("switch: %s" % ev["message"])
        self.assertEqual(ev["severity"], "info")
        self.assertIn("from source 'main' to 'backup' (reason: manual)", ev["message"])
        m = self.ctl.get("/v1/flows/%s/metrics" % fid).json()
        selected = {s["name"]: s["source_selected"] for s in m["source_metrics"]}
        self.assertEqual(selected, {"main": False, "backup": True})

        # the output is the backup's datagrams from then on (after its key frame)
        time.sleep(3.0)
        back = set(back_relay.datagrams())
        main = set(main_relay.datagrams())
        recent = [d for t, d in rx.snapshot() if t > t_switch + 1.5]
        self.assertGreater(len(recent), 50)
        self.assertTrue(all(d in back for d in recent), "output after the switch is not the backup's")
        # (a datagram of tables only can be the same in both senders' streams)
        self.assertFalse(any(d in main - back for d in recent))
        # and it stays there (held) while main still runs
        self.assertEqual(len(self.events(fid, "primary_recovered")), 0)

        r = self.ctl.post("/v1/flows/%s/source/main/activate" % fid)
        self.assertEqual(r.status, 200, r.body)
        evs = self.wait_events(fid, "source_failover", 2, 5)
        self.assertIn("from source 'backup' to 'main' (reason: manual)", evs[1]["message"])
        t_back = time.monotonic()
        time.sleep(3.0)
        main = set(main_relay.datagrams())
        back = set(back_relay.datagrams())
        recent = [d for t, d in rx.snapshot() if t > t_back + 1.5]
        self.assertGreater(len(recent), 50)
        self.assertTrue(all(d in main for d in recent), "output after the switch back is not main's")
        self.assertFalse(any(d in back - main for d in recent))


if __name__ == "__main__":
    unittest.main(verbosity=2)
