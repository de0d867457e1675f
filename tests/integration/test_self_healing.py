"""Sources that heal themselves, starts that say why they failed, SRT
stream ids that are enforced, SRT caller outputs that report a peer that
never answers, and counters that never go down.

Each case reproduces something seen on a fresh machine (the hardening
issue's "What was seen"), with a real controller, real senders
(gst-launch-1.0, ffmpeg, nginx-rtmp) and a real UDP receiver on loopback.
"""

import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_testcase import LO, MrouteTestCase  # noqa: E402
from mroute_media import wait_until  # noqa: E402
import rtmp_server  # noqa: E402

FPS = 25

def gst_ts_pipeline(seconds):
    """A live H.264 TS (7 packets per buffer), `seconds` long."""
    return ["videotestsrc", "is-live=true", "pattern=ball", "num-buffers=%d" % (seconds * FPS),
            "!", "video/x-raw,width=320,height=240,framerate=%d/1" % FPS,
            "!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=%d" % FPS,
            "bitrate=800", "!", "h264parse", "!", "mpegtsmux", "alignment=7"]


class SelfHealing(MrouteTestCase):

    CHILD_LOG_TAIL = 1500

    # helpers ---------------------------------------------------------------

    def counter(self, port):
        """Counts what arrives on a UDP port, with arrival times; stops by
        itself after 90 s."""
        return self.receiver(port, hard=90.0).start()

    def popen(self, cmd, label):
        """A sender or peer, killed (SIGKILL) at teardown."""
        return self.spawn(cmd, label, stop_signal=signal.SIGKILL)

    def udp_sender(self, port, seconds, label="udp-sender"):
        return self.popen(["gst-launch-1.0", "-q"] + gst_ts_pipeline(seconds) +
                          ["!", "udpsink", "host=%s" % LO, "port=%d" % port, "sync=false"], label)

    def srt_caller_sender(self, port, seconds, label, streamid=None):
        sink = ["srtsink", "uri=srt://%s:%d?mode=caller" % (LO, port), "sync=false",
                "wait-for-connection=false"]
        if streamid:
            sink.append("streamid=%s" % streamid)
        return self.popen(["gst-launch-1.0", "-q"] + gst_ts_pipeline(seconds) + ["!"] + sink, label)

    def rtmp_publisher(self, url, seconds, label):
        return self.popen(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
                           "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % FPS,
                           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
                           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
                           "-tune", "zerolatency", "-g", str(FPS), "-b:v", "500k", "-pix_fmt", "yuv420p",
                           "-c:a", "aac", "-b:a", "64k", "-f", "flv", url], label)

    def start_sources(self, c, sources, outputs, failover=None, expect=200):
        """Creates a flow of `sources` and starts it, expecting the start's
        status `expect`; returns (its id, the start's answer)."""
        body = {"name": "heal", "sources": sources, "outputs": outputs}
        if failover:
            body["source_failover_config"] = failover
        flow_id = self.create_flow(c, body)["id"]
        r = c.post("/v1/flows/%s/start" % flow_id)
        self.assertEqual(r.status, expect, r.body)
        return flow_id, r

    def events(self, c, flow_id):
        """The flow's events, oldest first."""
        return super().events(c, flow_id, oldest_first=True)

    def event_types(self, c, flow_id):
        return [e["type"] for e in self.events(c, flow_id)]

    def busy_udp(self, port):
        """Another process's socket on the port (closed at teardown)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        self.addCleanup(s.close)
        return s

    # a start that fails says why ---------------------------------------------

    def test_a_start_with_udp_port_in_use_answers_the_reason(self):
        ingest, out = self.port(), self.port()
        self.busy_udp(ingest)
        c = self.controller()
        flow_id, r = self.start_sources(c, [{"name": "in", "protocol": "udp", "ingest_port": ingest}],
                                     [{"name": "o", "protocol": "udp", "destination": LO, "port": out}],
                                     expect=409)
        err = r.json()["error"]
        self.assertIn("in", err)
        self.assertRegex(err, r"(?i)address already in use|bind", err)
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ERROR")
        ev = [e for e in self.events(c, flow_id) if e["type"] == "source_error"]
        self.assertTrue(ev and "bind" in ev[-1]["message"].lower(), ev)

    def test_b_start_with_srt_port_in_use_answers_cannot_bind(self):
        ingest, out = self.port(), self.port()
        self.busy_udp(ingest)
        c = self.controller()
        _, r = self.start_sources(c, [{"name": "in", "protocol": "srt-listener", "ingest_port": ingest}],
                               [{"name": "o", "protocol": "udp", "destination": LO, "port": out}],
                               expect=409)
        err = r.json()["error"]
        # GStreamer's own message is only "Could not open resource for
        # reading."; the reason is in the element's debug text
        self.assertIn("Cannot bind", err, err)

    # a source that fails is retried --------------------------------------------

    def test_c_udp_source_port_busy_after_restart_is_retried(self):
        ingest, out = self.port(), self.port()
        c = self.controller()
        flow_id, _ = self.start_sources(c, [{"name": "in", "protocol": "udp", "ingest_port": ingest}],
                                     [{"name": "o", "protocol": "udp", "destination": LO, "port": out}])
        c.wait_status(flow_id, "ACTIVE")
        self.assertEqual(c.stop(), 0)
        # another process holds the port when the daemon comes back
        holder = self.busy_udp(ingest)
        c2 = self.controller(db_path=c.db_path)
        c2.wait_status(flow_id, "ACTIVE", timeout=10)
        self.assertTrue(wait_until(lambda: self.event_types(c2, flow_id).count("source_retry") >= 1, 8),
                        self.event_types(c2, flow_id))
        m = self.metrics(c2, flow_id)
        self.assertFalse(m["source_metrics"][0]["connected"], m)
        self.assertEqual(m["status"], "ACTIVE", m)
        self.assertEqual(len(m["output_metrics"]), 1)
        # the port comes free: the next try takes it and video flows again
        holder.close()
        rx = self.counter(out)
        self.udp_sender(ingest, 40)
        self.assertTrue(wait_until(lambda: rx.count() > 50, 25),
                        "nothing reached the output after the port came free: %r"
                        % self.event_types(c2, flow_id))
        self.assertEqual(c2.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")

    def test_d_rtmp_pull_source_server_down_then_publisher_leaves_and_returns(self):
        why = rtmp_server.available()
        if why:
            self.skipTest(why)
        srv = self.own_server(rtmp_server.RtmpServer())
        out = self.port()
        rx = self.counter(out)
        c = self.controller()
        key = "late"
        # the RTMP server is not there yet: the source cannot connect and is
        # tried again (the seed's source_retry), the flow stays ACTIVE
        flow_id, _ = self.start_sources(c, [{"name": "obs", "protocol": "rtmp", "destination": srv.base_url,
                                          "stream_id": key}],
                                     [{"name": "o", "protocol": "udp", "destination": LO, "port": out}])
        self.assertTrue(wait_until(lambda: self.event_types(c, flow_id).count("source_retry") >= 2, 12),
                        self.event_types(c, flow_id))
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")
        self.assertFalse(self.metrics(c, flow_id)["source_metrics"][0]["connected"])
        srv.start()
        pub = self.rtmp_publisher(srv.url(key), 25, "pub-1")
        t_pub = time.monotonic()
        self.assertTrue(wait_until(lambda: rx.count() > 100, 40),
                        "nothing reached the output within 40 s of the publish: %r" % self.event_types(c, flow_id))
        sys.stderr.write("\n[rtmp] first output %.1f s after the publisher started\n"
                         % (rx.first_after(t_pub) - t_pub))
        bytes_before = self.metrics(c, flow_id)["source_metrics"][0]["bytes_received"]
        self.assertGreater(bytes_before, 0)
        # the publisher leaves and comes back: the flow resumes by itself
        pub.kill()
        pub.wait()
        time.sleep(2.0)
        self.assertGreaterEqual(self.metrics(c, flow_id)["source_metrics"][0]["bytes_received"], bytes_before)
        self.rtmp_publisher(srv.url(key), 25, "pub-2")
        t_back = time.monotonic()
        self.assertTrue(wait_until(lambda: rx.count_since(t_back) > 100, 40),
                        "the output did not resume within 40 s of the publisher's return: %r"
                        % self.event_types(c, flow_id))
        sys.stderr.write("[rtmp] output back %.1f s after the publisher returned\n"
                         % (rx.first_after(t_back) - t_back))
        m = self.metrics(c, flow_id)
        self.assertEqual(m["status"], "ACTIVE")
        # the source's counters went on from where they were
        self.assertGreater(m["source_metrics"][0]["bytes_received"], bytes_before, m)
        types = self.event_types(c, flow_id)
        self.assertEqual(types.count("flow_started"), 1, types)

    def ffmpeg_srt_caller(self, port, seconds, label):
        """ffmpeg as an SRT caller encoder, as plants run it: it does not
        retry a broken connection by itself."""
        return self.popen(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
                           "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % FPS,
                           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
                           "-tune", "zerolatency", "-g", str(FPS), "-b:v", "500k", "-pix_fmt", "yuv420p",
                           "-f", "mpegts", "srt://%s:%d?mode=caller&pkt_size=1316" % (LO, port)], label)

    def test_e_failover_primary_encoder_reconnects(self):
        self._failover_primary_returns(self.srt_caller_sender)

    def test_e2_failover_primary_ffmpeg_encoder_reconnects(self):
        self._failover_primary_returns(lambda port, seconds, label: self.ffmpeg_srt_caller(port, seconds, label))

    def _failover_primary_returns(self, encoder):
        a, b, out = self.port(), self.port(), self.port()
        rx = self.counter(out)
        c = self.controller()
        flow_id, _ = self.start_sources(
            c, [{"name": "main", "protocol": "srt-listener", "ingest_port": a},
                {"name": "backup", "protocol": "srt-listener", "ingest_port": b}],
            [{"name": "o", "protocol": "udp", "destination": LO, "port": out}],
            failover={"state": "ENABLED", "failover_mode": "FAILOVER",
                      "source_priority": {"primary_source": "main"}})
        c.wait_status(flow_id, "ACTIVE")
        primary = encoder(a, 60, "enc-main-1")
        encoder(b, 60, "enc-backup")

        def active():
            return self.metrics(c, flow_id)["active_source"]

        self.assertTrue(wait_until(lambda: rx.count() > 50 and active() == "main", 15),
                        "not on the primary: %r" % self.metrics(c, flow_id))
        primary.kill()
        primary.wait()
        t_kill = time.monotonic()
        self.assertTrue(wait_until(lambda: active() == "backup", 5),
                        "no failover: %r" % self.event_types(c, flow_id))
        # an encoder restarted by hand or by its supervisor: 3 s later
        time.sleep(max(0.0, t_kill + 3.0 - time.monotonic()))
        # the primary's encoder connects again
        encoder(a, 60, "enc-main-2")
        t_back = time.monotonic()
        self.assertTrue(wait_until(lambda: active() == "main", 20),
                        "still on the backup 20 s after the primary returned: %r" % self.events(c, flow_id))
        sys.stderr.write("\n[failover] back on the primary %.1f s after its encoder returned\n"
                         % (time.monotonic() - t_back))
        types = self.event_types(c, flow_id)
        self.assertIn("primary_recovered", types)
        n = rx.count()
        self.assertTrue(wait_until(lambda: rx.count() > n + 50, 5), "the output stopped")

    def test_i_merge_leg_retried_and_merged_again(self):
        a, b, out = self.port(), self.port(), self.port()
        c = self.controller()
        flow_id, _ = self.start_sources(
            c, [{"name": "red", "protocol": "rtp", "ingest_port": a},
                {"name": "blue", "protocol": "rtp", "ingest_port": b}],
            [{"name": "o", "protocol": "udp", "destination": LO, "port": out}],
            failover={"state": "ENABLED", "failover_mode": "MERGE", "recovery_window": 100})
        c.wait_status(flow_id, "ACTIVE")
        self.assertEqual(c.stop(), 0)
        holder = self.busy_udp(b)
        c2 = self.controller(db_path=c.db_path)
        c2.wait_status(flow_id, "ACTIVE")
        rx = self.counter(out)
        # one RTP stream to both legs, as a 2022-7 sender does
        self.popen(["gst-launch-1.0", "-q"] + gst_ts_pipeline(40) +
                   ["!", "rtpmp2tpay", "mtu=1328", "!", "tee", "name=t",
                    "t.", "!", "queue", "!", "udpsink", "host=%s" % LO, "port=%d" % a, "sync=false",
                    "t.", "!", "queue", "!", "udpsink", "host=%s" % LO, "port=%d" % b, "sync=false"],
                   "rtp-sender")
        # the red leg carries the flow alone while blue is retried
        self.assertTrue(wait_until(lambda: rx.count() > 50, 15), self.event_types(c2, flow_id))
        self.assertTrue(wait_until(lambda: "source_retry" in self.event_types(c2, flow_id), 5),
                        self.event_types(c2, flow_id))
        m = self.metrics(c2, flow_id)
        self.assertFalse(m["merge_active"], m)
        holder.close()
        self.assertTrue(wait_until(lambda: self.metrics(c2, flow_id)["merge_active"], 20),
                        "the blue leg never joined again: %r" % self.event_types(c2, flow_id))
        n = rx.count()
        self.assertTrue(wait_until(lambda: rx.count() > n + 50, 5), "the output stalled")
        types = self.event_types(c2, flow_id)
        # one start before the daemon's restart, one after: none for the leg
        self.assertEqual(types.count("flow_started"), 2, types)

    # SRT ----------------------------------------------------------------------

    def test_f_srt_listener_refuses_another_stream_id(self):
        ingest, out = self.port(), self.port()
        rx = self.counter(out)
        c = self.controller()
        flow_id, _ = self.start_sources(c, [{"name": "in", "protocol": "srt-listener", "ingest_port": ingest,
                                          "stream_id": "cam1"}],
                                     [{"name": "o", "protocol": "udp", "destination": LO, "port": out}])
        c.wait_status(flow_id, "ACTIVE")
        wrong = self.srt_caller_sender(ingest, 20, "wrong-id", streamid="cam2")

        def refused_event():
            return [e for e in self.events(c, flow_id)
                    if e["type"] == "source_error" and "'cam2'" in e["message"]]

        self.assertTrue(wait_until(refused_event, 10), "no source_error naming cam2: %r" % self.events(c, flow_id))
        time.sleep(2.0)
        self.assertEqual(rx.count(), 0, "media from a caller with another stream id reached the output")
        m = self.metrics(c, flow_id)["source_metrics"][0]
        self.assertEqual(m["packets_received"], 0, m)
        self.assertGreaterEqual(m["srt"]["callers_refused"], 1, m)
        self.assertNotIn("cam1", refused_event()[0]["message"])
        wrong.kill()
        wrong.wait()
        self.srt_caller_sender(ingest, 20, "right-id", streamid="cam1")
        self.assertTrue(wait_until(lambda: rx.count() > 50, 15),
                        "the caller with the right stream id was not received: %r" % self.events(c, flow_id))

    def test_g_srt_caller_output_that_never_connects(self):
        ingest, out_srt, out_udp = self.port(), self.port(), self.port()
        rx = self.counter(out_udp)
        c = self.controller()
        flow_id, _ = self.start_sources(c, [{"name": "in", "protocol": "udp", "ingest_port": ingest}],
                                     [{"name": "nowhere", "protocol": "srt-caller", "destination": LO,
                                       "port": out_srt},
                                      {"name": "udp", "protocol": "udp", "destination": LO, "port": out_udp}])
        self.udp_sender(ingest, 40)

        def out_metrics():
            return [o for o in self.metrics(c, flow_id)["output_metrics"] if o["name"] == "nowhere"][0]

        self.assertTrue(wait_until(lambda: out_metrics()["disconnections"] >= 1, 15),
                        "no disconnection counted: %r" % out_metrics())
        ev = [e for e in self.events(c, flow_id) if e["type"] == "connection_error"
              and "nowhere" in e["message"]]
        self.assertTrue(ev, self.events(c, flow_id))
        self.assertIn("connect", ev[0]["message"])
        self.assertFalse(out_metrics()["connected"])
        # the other output never noticed
        n = rx.count()
        self.assertTrue(wait_until(lambda: rx.count() > n + 50, 5), "the udp output stalled")
        # a listener appears: the output connects on a later try
        listener_rx = self.port()
        self.popen(["srt-live-transmit", "-q", "srt://:%d?mode=listener" % out_srt,
                    "udp://%s:%d" % (LO, listener_rx)], "srt-listener")
        self.assertTrue(wait_until(lambda: out_metrics()["connected"], 40),
                        "the srt-caller output never connected: %r" % out_metrics())
        sent = [out_metrics()["bytes_sent"] for _ in range(3) if time.sleep(1.0) is None]
        self.assertEqual(sent, sorted(sent), sent)
        self.assertGreater(sent[-1], 0)

    def test_h_srt_output_counters_never_go_down(self):
        ingest, out_srt = self.port(), self.port()
        c = self.controller()
        sink_rx = self.port()
        listener_cmd = ["srt-live-transmit", "-q", "srt://:%d?mode=listener" % out_srt,
                        "udp://%s:%d" % (LO, sink_rx)]
        peer = self.popen(listener_cmd, "peer-1")
        flow_id, _ = self.start_sources(c, [{"name": "in", "protocol": "udp", "ingest_port": ingest}],
                                     [{"name": "srt", "protocol": "srt-caller", "destination": LO,
                                       "port": out_srt}])
        self.udp_sender(ingest, 50)
        seen = []

        def sample():
            o = self.metrics(c, flow_id)["output_metrics"][0]
            seen.append((o["bytes_sent"], o["packets_sent"]))
            return o

        self.assertTrue(wait_until(lambda: sample()["bytes_sent"] > 200000, 20), seen[-3:])
        peer.kill()
        peer.wait()
        for _ in range(30):
            sample()
            time.sleep(0.1)
        self.popen(listener_cmd, "peer-2")
        before = sample()["bytes_sent"]
        self.assertTrue(wait_until(lambda: sample()["bytes_sent"] > before + 200000, 30),
                        "no data after the peer came back: %r" % self.events(c, flow_id))
        self.assertEqual(seen, sorted(seen), "a counter went down: %r" % seen)
        self.assertGreaterEqual(sample()["disconnections"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
