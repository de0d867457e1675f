#!/usr/bin/env python3
"""SRT integration tests: a real controller, real SRT peers
(srt-live-transmit from srt-tools, gst-launch-1.0) and real UDP receivers,
all on 127.0.0.1.

1. srt-listener source, with each key length (aes128, aes192, aes256), to a
   UDP output: the UDP capture is the clip the SRT caller sent, byte for
   byte, without continuity errors.
2. UDP source to an srt-caller output (an srt-live-transmit listener) and to
   an srt-listener output (an srt-live-transmit caller), both encrypted: each
   SRT peer receives the clip sent over UDP, byte for byte.
3. srt-caller source that calls an SRT listener sending the clip.
4. A wrong passphrase on a listener source and on a caller output: nothing
   is delivered, the flow stays ACTIVE, the process alive, and there is a
   source_error / connection_error event with a clear message.
5. The peer of an srt-caller output disappears mid-stream and comes back,
   (a) killed without a word, (b) closing its connection: the output resumes
   by itself, disconnections >= 1, a connection_error event, and a UDP
   output of the same flow never pauses.
6. The metrics of a running SRT source: round-trip time, negotiated latency,
   packets received.
7. An srt-listener source takes a new caller after the first one left,
   without a restart.
8. max_bitrate on an srt-caller output is SRT's maxbw (bytes/s): that
   output's peer gets at most about the cap, another output of the flow
   the whole clip.

Standard library only.  Every process, thread and socket is bounded in time
and cleaned up.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import (DGRAM, TS, contiguous_offset, kill_proc, make_ts_clip, tail,  # noqa: E402
                          ts_cc_errors)
from mroute_media import describe_dgram_mismatch as describe_mismatch  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, live_encoder  # noqa: E402

# DGRAM: 7 TS packets, one datagram / SRT packet
SLT = "srt-live-transmit"
KEYLEN = {"aes128": 16, "aes192": 24, "aes256": 32}

CLIP_DIR = None
CLIP_PATH = None
CLIP = b""


def srt_uri(port, mode, host="", passphrase=None, algorithm=None):
    uri = "srt://%s:%d?mode=%s" % (host, port, mode)
    if passphrase:
        uri += "&passphrase=%s&pbkeylen=%d" % (passphrase, KEYLEN[algorithm or "aes128"])
    return uri


class Peer:
    """One srt-live-transmit process.  Its stderr goes to a log file that
    tells when the SRT link is up; as a receiver (dst file://con) its stdout
    goes to a file, written in 4 KiB blocks and completed at exit."""

    # srt-live-transmit says "SRT target connected" and "Accepted SRT ...
    # connection", but nothing when an SRT *source* in caller mode
    # connects: the library's own note (-ll note) does
    CONNECTED = re.compile(r"^(Accepted SRT \w+ connection|SRT \w+ connected)|Connection established to", re.M)

    def __init__(self, test, src, dst, label, stdin=False, chunk=None):
        self.label = label
        self.log_path = test.logfile("srt-" + label)
        self.out_path = None
        args = [SLT]
        if chunk:
            args += ["-c", str(chunk)]
        if "mode=caller" in src:
            args += ["-ll", "note"]
        args += [src, dst]
        log = open(self.log_path, "wb")
        out = subprocess.DEVNULL
        if dst == "file://con":
            self.out_path = test.logfile("srt-" + label, suffix=".ts")
            out = open(self.out_path, "wb")
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                         stdout=out, stderr=log)
        finally:
            log.close()
            if out is not subprocess.DEVNULL:
                out.close()
        test.own_proc(self.proc)

    def log(self):
        return tail(self.log_path, 1 << 20)

    def connections(self):
        return len(self.CONNECTED.findall(self.log()))

    def wait_connected(self, timeout, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connections() >= count:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return self.connections() >= count

    def size(self):
        try:
            return os.path.getsize(self.out_path)
        except (OSError, TypeError):
            return 0

    def data(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stop(self):
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        kill_proc(self.proc)

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class Pacer:
    """Writes the clip into a Peer's stdin, one SRT packet (1316 bytes) every
    `gap` s, once `ready()` is true (or at once), then closes stdin:
    srt-live-transmit reads its stdin through a buffer and sends the last
    few kilobytes only at end of file.  It stays connected after that."""

    def __init__(self, peer, data, gap=0.001, ready=None, ready_timeout=10.0):
        self.peer = peer
        self.data = data
        self.gap = gap
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.done = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, name="pacer-%s" % peer.label, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        try:
            if self.ready:
                deadline = time.monotonic() + self.ready_timeout
                while not self.ready():
                    if time.monotonic() > deadline:
                        self.error = "the SRT sender never connected"
                        return
                    time.sleep(0.02)
            out = self.peer.proc.stdin
            t0 = time.monotonic()
            for k, off in enumerate(range(0, len(self.data), DGRAM)):
                out.write(self.data[off:off + DGRAM])
                out.flush()
                dt = t0 + (k + 1) * self.gap - time.monotonic()
                if dt > 0:
                    time.sleep(dt)
            out.close()
        except (BrokenPipeError, ValueError, OSError) as e:
            self.error = "writing to %s: %r (exit %r)" % (SLT, e, self.peer.proc.poll())
        finally:
            self.done.set()

    def wait(self, timeout):
        return self.done.wait(timeout)


# --------------------------------------------------------------------------
# The clip, made once per run
# --------------------------------------------------------------------------

def setUpModule():
    global CLIP_DIR, CLIP_PATH, CLIP
    for tool in (SLT, "ffmpeg", "gst-launch-1.0"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest("%s is not installed" % tool)
    r = subprocess.run(["gst-inspect-1.0", "--exists", "srtsink"], timeout=30)
    if r.returncode != 0:
        raise unittest.SkipTest("the GStreamer srt plugin is not installed")
    CLIP_DIR, CLIP_PATH, CLIP = make_ts_clip("mroute-srt-clip-", 2, 300 * 1024)


def tearDownModule():
    if CLIP_DIR:
        shutil.rmtree(CLIP_DIR, ignore_errors=True)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

class SrtTests(MrouteTestCase):
    METRICS_POLL = 0.1

    # helpers -------------------------------------------------------------

    def peer(self, src, dst, label, **kw):
        return Peer(self, src, dst, label, **kw)

    def start_flow(self, c, source, outputs, name="srt"):
        return super().start_flow(c, source, outputs, name=name)

    def send_clip_udp(self, port, timeout=30):
        """Sends the clip to 127.0.0.1:port, one datagram per millisecond."""
        self.send_file_udp(CLIP_PATH, port, "srt-udp-sender", timeout=timeout)

    def assert_clip(self, data, label):
        """data is the clip byte for byte, without continuity errors."""
        self.assertTrue(data, "%s: nothing received" % label)
        errors, notes = ts_cc_errors(data)
        if data != CLIP:
            off = contiguous_offset(data, CLIP)
            where = ("a contiguous part of it from offset %d" % off if off >= 0
                     else "not a contiguous part of it")
            self.fail("%s: not byte-identical to the clip (%s): %s; %d continuity errors %s"
                      % (label, where, describe_mismatch(data, CLIP), errors, notes))
        self.assertEqual(errors, 0, "%s: %d continuity errors: %s" % (label, errors, notes))

    def send_clip_srt_caller(self, port, algorithm, passphrase, label):
        """An SRT caller (srt-live-transmit reading stdin) sends the clip to
        127.0.0.1:port once connected; returns (peer, pacer)."""
        sender = self.peer("file://con", srt_uri(port, "caller", LO, passphrase, algorithm),
                           label, stdin=True, chunk=DGRAM)
        pacer = Pacer(sender, CLIP, ready=lambda: sender.connections() >= 1).start()
        return sender, pacer

    def check_no_delivery_and_alive(self, c, flow_id, got, label):
        st = c.get("/v1/flows/%s" % flow_id).json()
        self.assertEqual(st["status"], "ACTIVE", "%s: the flow is %s" % (label, st.get("status")))
        self.assertIsNone(c.proc.poll(), "%s: the controller exited" % label)
        self.assertEqual(c.get("/health").status, 200)
        self.assertEqual(got, 0, "%s: %d bytes were delivered despite the wrong passphrase" % (label, got))

    def assert_clear_error_event(self, c, flow_id, types, label):
        evs = self.events(c, flow_id)
        summary = ["%s/%s: %s" % (e["type"], e["severity"], e["message"]) for e in evs]
        sys.stderr.write("\n[%s] events: %r\n" % (label, summary))
        clear = re.compile(r"pass ?phrase|password|secret|decrypt|encrypt", re.I)
        hits = [e for e in evs if e["type"] in types and clear.search(e["message"] or "")]
        self.assertTrue(hits, "%s: no %s event whose message tells about the passphrase; events: %r"
                        % (label, " or ".join(types), summary))
        return hits

    # 1 -------------------------------------------------------------------

    def _listener_source_to_udp(self, algorithm):
        ingest, out = self.port(), self.port()
        passphrase = "listener-%s-secret" % algorithm
        rx = self.receiver(out, idle=1.5, hard=30.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "srt-listener", "ingest_port": ingest,
                                      "decryption": {"algorithm": algorithm, "passphrase": passphrase}},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        sender, pacer = self.send_clip_srt_caller(ingest, algorithm, passphrase, "tx-" + algorithm)
        self.assertTrue(pacer.wait(20), "%s: the clip was not sent in time" % algorithm)
        self.assertIsNone(pacer.error, pacer.error)
        rx.wait(10)
        sender_alive = sender.proc.poll() is None
        sender.stop()
        self.assertIsNone(rx.error, repr(rx.error))
        self.assertTrue(sender_alive, "%s: the sender exited: %s" % (algorithm, tail(sender.log_path)))
        # the sender was connected before the first byte and stayed up: all
        # of it must have arrived
        self.assert_clip(rx.data(), "%s listener source -> udp" % algorithm)
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")

    def test_1a_listener_source_aes128(self):
        self._listener_source_to_udp("aes128")

    def test_1b_listener_source_aes192(self):
        self._listener_source_to_udp("aes192")

    def test_1c_listener_source_aes256(self):
        self._listener_source_to_udp("aes256")

    # 2 -------------------------------------------------------------------

    def test_2_udp_source_to_srt_caller_and_listener_outputs(self):
        ingest, p_caller, p_listener = self.port(), self.port(), self.port()
        pw_caller, pw_listener = "caller-output-pw-128", "listener-output-pw-256"
        # the peer of the srt-caller output listens; the peer of the
        # srt-listener output calls
        rx_c = self.peer(srt_uri(p_caller, "listener", "", pw_caller, "aes128"), "file://con", "rx-caller-out")
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "to-listener", "protocol": "srt-caller", "destination": LO, "port": p_caller,
             "encryption": {"algorithm": "aes128", "passphrase": pw_caller}},
            {"name": "listening", "protocol": "srt-listener", "port": p_listener,
             "encryption": {"algorithm": "aes256", "passphrase": pw_listener}},
        ])
        rx_l = self.peer(srt_uri(p_listener, "caller", LO, pw_listener, "aes256"), "file://con", "rx-listener-out")
        self.assertTrue(rx_c.wait_connected(10), "srt-caller output never connected to its listener peer")
        self.assertTrue(rx_l.wait_connected(10), "the caller peer never connected to the srt-listener output")

        m = self.metrics_when(c, flow_id, lambda m: all(o["connected"] for o in m["output_metrics"]), 5)
        outs = {o["name"]: o for o in m["output_metrics"]}
        self.assertTrue(outs["to-listener"]["connected"], m)
        self.assertTrue(outs["listening"]["connected"], m)
        self.assertEqual(outs["listening"]["srt"]["connected_callers"], 1, m)

        self.send_clip_udp(ingest)
        n = len(CLIP) // DGRAM
        m = self.metrics_when(c, flow_id, lambda m: all(o["packets_sent"] >= n for o in m["output_metrics"]), 5)
        # the SRT latency (125 ms) and a margin; srt-live-transmit writes its
        # last block at exit
        time.sleep(0.6)
        rx_c.stop()
        rx_l.stop()
        self.assert_clip(rx_c.data(), "udp -> srt-caller output (aes128)")
        self.assert_clip(rx_l.data(), "udp -> srt-listener output (aes256)")

        self.assertEqual(m["status"], "ACTIVE", m)
        outs = {o["name"]: o for o in m["output_metrics"]}
        for name in ("to-listener", "listening"):
            o = outs[name]
            self.assertEqual(o["packets_sent"], n, "%s: %r" % (name, o))
            self.assertGreaterEqual(o["bytes_sent"], len(CLIP), "%s: %r" % (name, o))
            self.assertTrue(o["connected"], o)
            self.assertEqual(o["disconnections"], 0, o)
            self.assertIn("srt", o, o)
            self.assertGreater(o["srt"]["negotiated_latency_ms"], 0, o)
            self.assertEqual(o["srt"]["packets_sent_lost"], 0, o)

    # 3 -------------------------------------------------------------------

    def test_3_caller_source_from_listener_sender(self):
        p_sender, out = self.port(), self.port()
        passphrase = "caller-source-aes192"
        sender = self.peer("file://con", srt_uri(p_sender, "listener", "", passphrase, "aes192"),
                           "tx-listener", stdin=True, chunk=DGRAM)
        pacer = Pacer(sender, CLIP, ready=lambda: sender.connections() >= 1, ready_timeout=15).start()
        rx = self.receiver(out, idle=1.5, hard=30.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "srt-caller", "destination": LO,
                                      "port": p_sender,
                                      "decryption": {"algorithm": "aes192", "passphrase": passphrase}},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        self.assertTrue(pacer.wait(25), "the clip was not sent in time")
        self.assertIsNone(pacer.error, "%s; sender log: %s" % (pacer.error, tail(sender.log_path)))
        rx.wait(10)
        sender_alive = sender.proc.poll() is None
        m = self.metrics(c, flow_id)
        sender.stop()
        self.assertTrue(sender_alive, "the sender exited: %s" % tail(sender.log_path))
        self.assert_clip(rx.data(), "srt-caller source (aes192) -> udp")
        self.assertEqual(m["status"], "ACTIVE", m)
        s = m["source_metrics"][0]
        self.assertEqual(s["packets_received"], len(CLIP) // DGRAM, s)
        self.assertEqual(s["bytes_received"], len(CLIP), s)
        self.assertIn("srt", s, s)
        self.assertEqual(s["srt"]["connected_callers"], 0, s)   # a caller has no callers
        self.assertGreater(s["srt"]["negotiated_latency_ms"], 0, s)

    # 4 -------------------------------------------------------------------

    def test_4a_wrong_passphrase_listener_source(self):
        ingest, out = self.port(), self.port()
        rx = self.receiver(out, idle=None, hard=30.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "srt-listener", "ingest_port": ingest,
                                      "decryption": {"algorithm": "aes128", "passphrase": "the-right-passphrase"}},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        sender = self.peer("file://con", srt_uri(ingest, "caller", LO, "a-wrong-passphrase", "aes128"),
                           "tx-wrong", stdin=True, chunk=DGRAM)
        pacer = Pacer(sender, CLIP[:300 * DGRAM], gap=0.005).start()
        pacer.wait(5)
        time.sleep(1.0)
        rejected = "passphrase" in sender.log().lower()
        connected = sender.connections()
        sender.stop()
        rx.stop()
        self.assertTrue(rejected, "the sender's log does not show a passphrase rejection: %s"
                        % tail(sender.log_path, 800))
        self.assertEqual(connected, 0, "the sender connected despite the wrong passphrase")
        self.check_no_delivery_and_alive(c, flow_id, len(rx.data()), "wrong passphrase at a listener source")
        m = self.metrics(c, flow_id)
        self.assertEqual(m["source_metrics"][0]["packets_received"], 0, m)
        self.assert_clear_error_event(c, flow_id, ("source_error", "connection_error"),
                                      "wrong passphrase at a listener source")

        # not a hung flow: the right passphrase is accepted afterwards
        rx2 = self.receiver(out, idle=1.5, hard=20.0).start()
        sender2, pacer2 = self.send_clip_srt_caller(ingest, "aes128", "the-right-passphrase", "tx-right")
        self.assertTrue(pacer2.wait(15), "the right sender was not accepted after the wrong one: %s"
                        % tail(sender2.log_path, 600))
        self.assertIsNone(pacer2.error, pacer2.error)
        rx2.wait(10)
        sender2.stop()
        self.assert_clip(rx2.data(), "listener source, right passphrase after a wrong one")

    def test_4b_wrong_passphrase_caller_output(self):
        ingest, p_peer, ok_port = self.port(), self.port(), self.port()
        rx_peer = self.peer(srt_uri(p_peer, "listener", "", "the-peers-passphrase", "aes128"),
                            "file://con", "rx-wrong")
        ok = self.receiver(ok_port, idle=None, hard=30.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "srt-out", "protocol": "srt-caller", "destination": LO, "port": p_peer,
             "encryption": {"algorithm": "aes128", "passphrase": "not-the-peers-passphrase"}},
            {"name": "udp-ok", "protocol": "udp", "destination": LO, "port": ok_port},
        ])
        self.send_clip_udp(ingest)
        time.sleep(1.5)
        ok.stop()
        peer_alive = rx_peer.proc.poll() is None
        rejected = "passphrase" in rx_peer.log().lower()
        rx_peer.stop()
        self.assertTrue(peer_alive, "the listener peer exited: %s" % tail(rx_peer.log_path, 800))
        self.assertTrue(rejected, "the listener peer's log shows no passphrase rejection: %s"
                        % tail(rx_peer.log_path, 800))
        self.assertEqual(rx_peer.connections(), 0, "the output connected despite the wrong passphrase")
        self.check_no_delivery_and_alive(c, flow_id, rx_peer.size(), "wrong passphrase at a caller output")
        # the other output of the flow is not affected
        self.assert_clip(ok.data(), "udp output next to the failing srt output")
        m = self.metrics(c, flow_id)
        outs = {o["name"]: o for o in m["output_metrics"]}
        self.assertFalse(outs["srt-out"]["connected"], m)
        self.assertEqual(outs["srt-out"]["packets_sent"], 0, m)
        self.assert_clear_error_event(c, flow_id, ("connection_error",),
                                      "wrong passphrase at a caller output")

        # not a hung output: a peer with the right passphrase in the same
        # place gets the stream (srtsink calls again when it has data to
        # send, so the stream goes on meanwhile)
        t0 = time.monotonic()
        rx_ok = self.peer(srt_uri(p_peer, "listener", "", "not-the-peers-passphrase", "aes128"),
                          "file://con", "rx-right")
        for _ in range(10):
            self.send_clip_udp(ingest)
            if rx_ok.connections() or time.monotonic() - t0 > 15:
                break
        self.assertTrue(rx_ok.connections(), "the output never connected to a peer with the right "
                                             "passphrase: %r" % self.metrics(c, flow_id)["output_metrics"])
        sys.stderr.write("[wrong passphrase at a caller output] connected %.1f s after the right peer "
                         "appeared\n" % (time.monotonic() - t0))
        before = self.metrics(c, flow_id)["output_metrics"][0]["packets_sent"]
        self.send_clip_udp(ingest)
        n = len(CLIP) // DGRAM
        self.metrics_when(c, flow_id, lambda m: m["output_metrics"][0]["packets_sent"] >= before + n, 5)
        time.sleep(0.6)
        rx_ok.stop()
        got = rx_ok.data()
        self.assertTrue(got.endswith(CLIP), "caller output, right passphrase after a wrong one: the last "
                                            "clip did not arrive whole (%d bytes in all)" % len(got))
        self.assertEqual(self.metrics(c, flow_id)["status"], "ACTIVE")

    # 5 -------------------------------------------------------------------

    def test_5a_caller_output_peer_killed_and_returns(self):
        # SIGKILL: no SRT shutdown message; the caller sees the peer gone
        # when the link times out (5 s), the new listener is there by then
        self._peer_disappears_and_returns(graceful=False)

    def test_5b_caller_output_peer_quits_and_returns(self):
        # SIGINT: srt-live-transmit closes its socket and the caller knows
        # at once; nobody listens for 3 s
        self._peer_disappears_and_returns(graceful=True)

    def _peer_disappears_and_returns(self, graceful):
        enc = live_encoder()
        if enc is None:
            self.skipTest("neither x264enc nor openh264enc is installed")
        ingest, p_peer, p_udp, p_ref = self.port(), self.port(), self.port(), self.port()
        udp_rx = self.receiver(p_udp, idle=None, hard=60.0).start()
        # the sender also sends every datagram straight here: a silence that
        # the reference shows too is the sender's, not the controller's
        ref = self.receiver(p_ref, idle=None, hard=60.0).start()
        peer1 = self.peer(srt_uri(p_peer, "listener"), "file://con", "rx-first")
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "srt-out", "protocol": "srt-caller", "destination": LO, "port": p_peer},
            {"name": "udp-out", "protocol": "udp", "destination": LO, "port": p_udp},
        ])
        # 30 s of live video at most; killed as soon as the test is done
        cmd = (["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=750", "pattern=ball",
                "!", "video/x-raw,width=320,height=240,framerate=25/1", "!"] + enc +
               ["!", "h264parse", "!", "mpegtsmux", "alignment=7", "bitrate=2000000",
                "!", "multiudpsink", "clients=%s:%d,%s:%d" % (LO, ingest, LO, p_ref)])
        sender = self.spawn(cmd, "srt-live-sender", stdin=None)
        log = sender.log_path

        self.assertTrue(self.wait_until(lambda: peer1.size() > 50 * DGRAM, 15),
                        "the first listener peer received %d bytes (udp output %d datagrams, reference %d)"
                        % (peer1.size(), len(udp_rx.packets), len(ref.packets)))
        m = self.metrics(c, flow_id)
        outs = {o["name"]: o for o in m["output_metrics"]}
        self.assertTrue(outs["srt-out"]["connected"], m)
        self.assertEqual(outs["srt-out"]["disconnections"], 0, m)
        time.sleep(1.0)

        t_kill = time.monotonic()
        if graceful:
            peer1.stop()
        else:
            peer1.kill9()
        time.sleep(3.0)
        t_back = time.monotonic()
        peer2 = self.peer(srt_uri(p_peer, "listener"), "file://con", "rx-second")
        resumed = self.wait_until(lambda: peer2.size() > 50 * DGRAM, 20)
        t_resumed = time.monotonic()
        time.sleep(0.5)
        sender_alive = sender.poll() is None
        m = self.metrics(c, flow_id)
        evs = self.events(c, flow_id)
        kill_proc(sender)
        peer2.stop()
        udp_rx.stop()
        ref.stop()

        self.assertTrue(sender_alive, "the live sender stopped early: %s" % tail(log))
        self.assertTrue(resumed, "the output did not resume at the new listener within 20 s "
                                 "(%d bytes; peer log: %s); metrics %r"
                        % (peer2.size(), tail(peer2.log_path, 600), m))
        summary = ["%s/%s: %s" % (e["type"], e["severity"], e["message"]) for e in evs]
        sys.stderr.write("\n[peer %s and returns] output resumed %.1f s after the peer came back "
                         "(%.1f s after it vanished); events: %r\n"
                         % ("quits" if graceful else "killed", t_resumed - t_back, t_resumed - t_kill, summary))
        self.assertEqual(m["status"], "ACTIVE", m)
        self.assertIsNone(c.proc.poll(), "the controller exited")
        self.assertFalse([e for e in evs if e["type"] == "flow_started"][1:],
                         "the flow was restarted: %r" % summary)

        # what each listener got is the stream's TS, without CC errors (the
        # first one may have been killed: its last block may be cut anywhere)
        first = peer1.data()
        first = first[:len(first) - len(first) % TS]
        second = peer2.data()
        for data, label in ((first, "first listener"), (second, "second listener")):
            self.assertEqual(len(data) % TS, 0, "%s: %d bytes" % (label, len(data)))
            errors, notes = ts_cc_errors(data)
            self.assertEqual(errors, 0, "%s: %d continuity errors %s" % (label, errors, notes))
        ref_data = ref.data()
        self.assertGreaterEqual(contiguous_offset(first[:200 * DGRAM], ref_data), 0,
                                "the first listener's data is not a contiguous part of the stream")
        self.assertGreaterEqual(contiguous_offset(second[:200 * DGRAM], ref_data), 0,
                                "the second listener's data is not a contiguous part of the stream")

        # the UDP output never paused while the SRT peer was away
        times = udp_rx.times()
        ref_times = ref.times()
        gaps = []
        for a, b in zip(times, times[1:]):
            if b - a > 0.5 and b > t_kill - 1 and a < t_resumed + 1:
                inside = [t for t in ref_times if a < t < b - 0.2]
                if inside:
                    gaps.append((round(a - t_kill, 3), round(b - a, 3), len(inside)))
        self.assertFalse(gaps, "udp-out silent > 500 ms while the sender was sending (start s after the "
                               "kill, length s, reference datagrams meanwhile): %r" % gaps)
        self.assertGreater(len([t for t in times if t_kill < t < t_back]), 50,
                           "udp-out received almost nothing while the SRT peer was away")
        errors, notes = ts_cc_errors(udp_rx.data())
        self.assertEqual(errors, 0, "udp-out: %d continuity errors %s" % (errors, notes))

        # the disconnection is counted and told
        outs = {o["name"]: o for o in m["output_metrics"]}
        self.assertTrue(outs["srt-out"]["connected"], m)
        self.assertGreaterEqual(outs["srt-out"]["disconnections"], 1,
                                "srt-out: %r; events %r" % (outs["srt-out"], summary))
        self.assertTrue([e for e in evs if e["type"] == "connection_error" and "srt-out" in e["message"]],
                        "no connection_error event for srt-out: %r" % summary)

    # 7 -------------------------------------------------------------------

    def test_7_listener_source_accepts_a_caller_again(self):
        ingest, out = self.port(), self.port()
        passphrase = "again-and-again"
        rx = self.receiver(out, idle=None, hard=30.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "srt-listener", "ingest_port": ingest,
                                      "decryption": {"algorithm": "aes256", "passphrase": passphrase}},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        n = len(CLIP) // DGRAM
        for k in (1, 2):
            sender, pacer = self.send_clip_srt_caller(ingest, "aes256", passphrase, "tx-%d" % k)
            self.assertTrue(pacer.wait(15), "caller %d: not accepted: %s" % (k, tail(sender.log_path, 600)))
            self.assertIsNone(pacer.error, pacer.error)
            deadline = time.monotonic() + 5
            while len(rx.packets) < k * n and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            sender.stop()          # a clean close: the flow's srtsrc sees it go
            time.sleep(0.5)
        rx.stop()
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["status"], "ACTIVE")
        data = rx.data()
        if data != CLIP + CLIP:
            self.fail("the capture is not the clip twice: %s" % describe_mismatch(data, CLIP + CLIP))
        evs = self.events(c, flow_id)
        self.assertFalse([e for e in evs if e["type"] == "flow_started"][1:], "the flow was restarted")

    # 6 -------------------------------------------------------------------

    def test_6_source_metrics_from_srt_stats(self):
        ingest, out = self.port(), self.port()
        passphrase = "metrics-passphrase"
        rx = self.receiver(out, idle=None, hard=30.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "srt-listener", "ingest_port": ingest,
                                      "max_latency": 300,
                                      "decryption": {"algorithm": "aes128", "passphrase": passphrase}},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        sender, pacer = self.send_clip_srt_caller(ingest, "aes128", passphrase, "tx-metrics")
        self.assertTrue(pacer.wait(20), "the clip was not sent in time")
        self.assertIsNone(pacer.error, pacer.error)
        n = len(CLIP) // DGRAM

        def ready(m):
            s = m["source_metrics"][0]
            return s["packets_received"] >= n and s["srt"]["negotiated_latency_ms"] > 0

        # the sender is still connected (it stays after its end of file)
        m = self.metrics_when(c, flow_id, ready, timeout=5)
        sender.stop()
        rx.stop()
        self.assertEqual(m["status"], "ACTIVE", m)
        s = m["source_metrics"][0]
        self.assertEqual(s["protocol"], "srt-listener", s)
        self.assertTrue(s["connected"], s)
        self.assertEqual(s["packets_received"], n, s)
        self.assertEqual(s["bytes_received"], len(CLIP), s)
        self.assertIsInstance(s.get("round_trip_time_ms"), int, s)
        self.assertGreaterEqual(s["round_trip_time_ms"], 0, s)
        # libsrt's statistics have no jitter figure and SRT carries no RTP
        # timestamps: 0 (docs/api.md)
        self.assertEqual(s["jitter_ms"], 0, s)
        self.assertEqual(s["packets_lost"], 0, s)
        self.assertIn("packets_recovered", s)
        srt = s.get("srt")
        self.assertIsInstance(srt, dict, s)
        self.assertEqual(srt["connected_callers"], 1, s)
        # max_latency 300 against the sender's 120 ms default
        self.assertGreaterEqual(srt["negotiated_latency_ms"], 300, s)
        self.assertGreater(srt["rtt_ms"], 0, s)
        self.assertLess(srt["rtt_ms"], 100, s)
        self.assertGreater(srt["receive_rate_mbps"], 0, s)
        for key in ("packets_received_lost", "nak_sent", "packets_dropped"):
            self.assertIn(key, srt, s)
        self.assertGreater(len(rx.data()), 0, "nothing reached the udp output")

    # 8 -------------------------------------------------------------------

    def test_8_min_latency_is_the_larger_latency(self):
        """The original's min_latency (docs/api.md, Bodies): SRT's latency is
        the larger of it and max_latency, which the peers then agree on"""
        ingest, out = self.port(), self.port()
        passphrase = "min-latency-passphrase"
        rx = self.receiver(out, idle=None, hard=30.0).start()
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "srt-listener", "ingest_port": ingest,
                                      "max_latency": 150, "min_latency": 450,
                                      "decryption": {"algorithm": "aes128", "passphrase": passphrase}},
                                  [{"name": "udp", "protocol": "udp", "destination": LO, "port": out}])
        sender, pacer = self.send_clip_srt_caller(ingest, "aes128", passphrase, "tx-min-latency")
        self.assertTrue(pacer.wait(20), "the clip was not sent in time")
        self.assertIsNone(pacer.error, pacer.error)
        m = self.metrics_when(c, flow_id,
                              lambda m: m["source_metrics"][0]["srt"]["negotiated_latency_ms"] > 0,
                              timeout=5)
        sender.stop()
        rx.stop()
        s = m["source_metrics"][0]
        # 450 against max_latency's 150 and the sender's 120 ms default
        self.assertGreaterEqual(s["srt"]["negotiated_latency_ms"], 450, s)


    # 8 -------------------------------------------------------------------

    def test_8_output_max_bitrate_is_maxbw(self):
        """max_bitrate is SRT's maxbw in bytes/s (the original's meaning):
        two srt-caller outputs of one flow, one capped at 20000 bytes/s;
        the clip (about 1.3 MB/s while it is sent) reaches the uncapped
        peer whole and the capped one only in part (libsrt drops what it
        could not send within the latency)."""
        ingest, p_free, p_capped = self.port(), self.port(), self.port()
        cap = 20000
        rx_free = self.peer(srt_uri(p_free, "listener"), "file://con", "rx-free")
        rx_capped = self.peer(srt_uri(p_capped, "listener"), "file://con", "rx-capped")
        c = self.controller()
        flow_id = self.start_flow(c, {"name": "in", "protocol": "udp", "ingest_port": ingest}, [
            {"name": "free", "protocol": "srt-caller", "destination": LO, "port": p_free},
            {"name": "capped", "protocol": "srt-caller", "destination": LO, "port": p_capped,
             "max_bitrate": cap},
        ])
        self.assertTrue(rx_free.wait_connected(10), "the uncapped output never connected")
        self.assertTrue(rx_capped.wait_connected(10), "the capped output never connected")
        t0 = time.monotonic()
        self.send_clip_udp(ingest)
        n = len(CLIP) // DGRAM
        self.metrics_when(c, flow_id, lambda m: all(o["packets_sent"] >= 1
                                                    for o in m["output_metrics"]), 5)
        time.sleep(1.5)
        elapsed = time.monotonic() - t0
        rx_free.stop()
        rx_capped.stop()
        free, capped = len(rx_free.data()), len(rx_capped.data())
        sys.stderr.write("\n[srt] max_bitrate %d B/s: the capped peer got %d bytes in %.1f s "
                         "(%.0f B/s), the uncapped one %d of %d\n"
                         % (cap, capped, elapsed, capped / elapsed, free, len(CLIP)))
        self.assert_clip(rx_free.data(), "uncapped srt-caller output")
        self.assertGreater(capped, 0, "the capped output delivered nothing")
        # at most the cap over the whole run, with room for SRT's headers
        # and its first burst
        self.assertLess(capped, cap * elapsed * 1.5 + 20 * DGRAM,
                        "the capped output was not capped: %d bytes in %.1f s" % (capped, elapsed))
        self.assertLess(capped, len(CLIP) // 2)
        self.assertGreater(n, 100)


if __name__ == "__main__":
    unittest.main(verbosity=2)
