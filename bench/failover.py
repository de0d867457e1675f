#!/usr/bin/env python3
"""Failover benchmark: the output gap of mroute's FAILOVER mode against
restarting an FFmpeg `-c copy` relay on the backup.

Two real-time senders (FFmpeg, -re) push the same 1080p25 H.264/AAC MPEG-TS
clip over UDP to 127.0.0.1, 7 TS packets per datagram: fanout.py's clip,
re-muxed once with one AAC frame per PES (see make_failover_clip).  The
primary keeps the clip's PIDs (PMT 0x1000, video 0x100, audio 0x101), the
backup is re-numbered (PMT 0x1100, video 0x200, audio 0x201), so that a
datagram at mroute's output tells which sender it came from.  Each sender
goes through a small relay in this process, which forwards every datagram
at once to the relay under test and can stop forwarding (the "cut") and
resume: the benchmark knows when it forwarded the primary's last datagram.
A receiver on the output takes the kernel's arrival time of every datagram
(SO_TIMESTAMPNS).

  mroute   - one flow of the controller of this repository, two `udp`
             sources (primary, backup) in FAILOVER mode with primary_source,
             one `udp` output to the receiver;
  restart  - `ffmpeg -i udp://127.0.0.1:PRIMARY -map 0 -c copy -f mpegts
             udp://127.0.0.1:OUT?pkt_size=1316`: at the cut it is killed
             (SIGKILL) and `ffmpeg -i udp://127.0.0.1:BACKUP ...` to the same
             output is started at once, as a restart-based failover would at
             best (no detection delay at all).  Each FFmpeg relay sends from
             a local port of its own, which tells the two apart at the output
             (FFmpeg re-numbers the PIDs).

Each trial, for each approach: the backup sender is restarted after a random
0-40 ms (a new frame phase against the primary), the output carries the
primary for a random 0.3-0.6 s, then the primary's relay stops forwarding
(for restart, the FFmpeg relay is swapped at the same moment).  The gap is
the arrival of the first backup datagram at the output minus that of the
last primary datagram there; also minus the time the last primary datagram
was fed in, and minus the cut.  For mroute the gap is split where the
timeout expired (last primary datagram fed in + timeout): how long the
backup then still had nothing to send, and how long its next datagram took
to go out.  Then the primary is resumed and the output must return to it
(mroute: after `recovery-time` 2 s and the primary's next random-access
point, GOP 2 s in this clip; restart: the FFmpeg relay is swapped back) before
the next trial; that return is measured too.  The approaches run one after
the other on the same senders.

Percentiles are nearest-rank; with 20 trials p99 is the largest value.
Standard library only.  Usage:

    python3 bench/failover.py --build BUILDDIR [--trials 20] [--quick]
                              [--timeout 500] [--seed N]
"""

import argparse
import bisect
import collections
import math
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fanout import (BenchError, Children, free_tcp_port, free_udp_port,  # noqa: E402
                    fmt_row, http, make_clip, tail)

HOST = "127.0.0.1"
RCVBUF = 4 * 1024 * 1024
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)       # Linux values
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TS = 188

PRIMARY_PIDS = {0x1000: "P", 0x100: "P", 0x101: "P"}         # the clip's own PIDs
BACKUP_PIDS = {0x1100: "B", 0x200: "B", 0x201: "B"}          # re-numbered by its sender
LABEL_OF_PID = {**PRIMARY_PIDS, **BACKUP_PIDS}

RECOVERY_TIME = 2.0         # failoverselector `recovery-time` default, s
KEY_INTERVAL = 2.0          # the clip's GOP: -g 50 at 25 fps
TARGET_SLACK_MS = 50
TARGET_RATIO = 10.0
SETTLE = (0.3, 0.6)         # random wait on the primary before each cut, s
AFTER_SWITCH = {"mroute": 0.2, "restart": 0.1}   # watched after a switch's first datagram, s
FAILOVER_CLIP = "clip-1080p25-h264-aac-10M-20s-audio-pes-per-frame.ts"


def log(msg):
    print("[failover] " + msg, file=sys.stderr, flush=True)


def now_ns():
    """CLOCK_REALTIME, the clock of the kernel's SO_TIMESTAMPNS."""
    return time.time_ns()


def clock_offset_ns():
    """CLOCK_REALTIME - CLOCK_MONOTONIC: moves only when the wall clock is
    stepped or slewed, which would bias a gap measured across it."""
    return time.time_ns() - time.monotonic_ns()


# --------------------------------------------------------------------- clip

def make_failover_clip(cache_dir):
    """fanout.py's clip (made once, cached), re-muxed without re-encoding so
    that every AAC frame is its own PES (`-pes_payload_size 0`).  In the
    original clip an audio PES holds about 0.3 s of audio (14 AAC frames at
    72 kbit/s), and FFmpeg's interleaving then makes a `-re` sender send in
    bursts with 100-200 ms of silence between them; with one audio frame per
    PES the sender is paced by the video frames (a burst every 40 ms), as a
    live encoder is.  Those silences would otherwise add up to 200 ms to a
    failover gap: the backup has nothing to send when the switch comes."""
    base = make_clip(cache_dir)
    clip = os.path.join(cache_dir, FAILOVER_CLIP)
    if os.path.isfile(clip) and os.path.getsize(clip) > 1000000:
        log("clip: cached %s" % clip)
        return clip
    tmp = clip + ".part-%d" % os.getpid()
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", base,
            "-map", "0", "-c", "copy", "-f", "mpegts", "-muxrate", "10M",
            "-pes_payload_size", "0", tmp]
    log("clip: re-muxing %s (once; cached)" % clip)
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise BenchError("re-muxing the clip took more than 120 s")
    if r.returncode != 0 or not os.path.isfile(tmp):
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise BenchError("ffmpeg could not re-mux the clip:\n" +
                         r.stderr.decode("utf-8", "replace")[-2000:])
    os.replace(tmp, clip)
    return clip


# ------------------------------------------------------------------ sockets

def _udp_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.bind((HOST, port))
    s.settimeout(0.2)
    return s


class Relay:
    """Receives a sender on 127.0.0.1:port and forwards every datagram at
    once to 127.0.0.1:target, unless muted.  Remembers the time (realtime
    ns, taken just before the send) of the last datagram forwarded and of
    the first one after an unmute."""

    def __init__(self, label, port, target):
        self.label = label
        self.port = port
        self.target = target
        self.sock = _udp_socket(port)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.muted = False
        self.received = 0
        self.forwarded = 0
        self.dropped = 0
        self.send_errors = 0
        self.last_fwd_ns = None
        self.first_fwd_ns = None     # first forward since the last unmute()
        self.history = collections.deque(maxlen=30000)   # forward times, ns (about 35 s)
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay-" + label, daemon=True)
        self._thread.start()

    def _run(self):
        sock, out, dest = self.sock, self.out, (HOST, self.target)
        try:
            while not self._stop.is_set():
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                self.received += 1
                if self.muted:
                    self.dropped += 1
                    continue
                t = time.time_ns()
                try:
                    out.sendto(data, dest)
                except OSError:        # nobody on the port yet (restart): keep going
                    self.send_errors += 1
                    continue
                if self.first_fwd_ns is None:
                    self.first_fwd_ns = t
                self.last_fwd_ns = t
                self.forwarded += 1
                self.history.append(t)
        except Exception as e:  # reported by the benchmark
            self.error = e

    def mute(self):
        self.muted = True

    def unmute(self):
        self.first_fwd_ns = None
        self.muted = False

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        self.out.close()


def label_of(data):
    """'P' or 'B' from the first TS packet of the datagram on a known PID;
    None for a datagram of PAT/SDT/null packets only."""
    for off in range(0, len(data) - TS + 1, TS):
        lab = LABEL_OF_PID.get(((data[off + 1] & 0x1F) << 8) | data[off + 2])
        if lab:
            return lab
    return None


class OutputReceiver:
    """The flow's output: records (arrival ns, label) of every datagram.
    The arrival time is the kernel's (SO_TIMESTAMPNS, CLOCK_REALTIME), so
    this thread's scheduling does not move it.  The label comes from the
    sender's local port when it is in `port_labels` (the FFmpeg relays),
    otherwise from the TS PIDs (mroute forwards the datagrams as received)."""

    def __init__(self, port):
        self.port = port
        self.sock = _udp_socket(port)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.port_labels = {}
        self.records = []          # (ns, label); appended by the thread only
        self.unlabelled = 0
        self.no_kernel_ts = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="output", daemon=True)
        self._thread.start()

    def _run(self):
        sock = self.sock
        cmsg_len = socket.CMSG_SPACE(16)
        try:
            while not self._stop.is_set():
                try:
                    data, anc, _flags, addr = sock.recvmsg(65536, cmsg_len)
                except socket.timeout:
                    continue
                t = None
                for level, ctype, cdata in anc:
                    if level == socket.SOL_SOCKET and ctype == SO_TIMESTAMPNS and len(cdata) >= 16:
                        sec, nsec = struct.unpack("qq", cdata[:16])
                        t = sec * 1000000000 + nsec
                if t is None:
                    t = time.time_ns()
                    self.no_kernel_ts += 1
                lab = self.port_labels.get(addr[1]) or label_of(data)
                if lab is None:
                    self.unlabelled += 1
                self.records.append((t, lab))
        except Exception as e:
            self.error = e

    def n(self):
        return len(self.records)

    def first(self, label, start, timeout):
        """Index of the first datagram of `label` at or after index `start`,
        waiting up to `timeout` s; None if none came."""
        i = start
        deadline = time.monotonic() + timeout
        while True:
            recs = self.records
            end = len(recs)
            while i < end:
                if recs[i][1] == label:
                    return i
                i += 1
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.005)

    def count(self, label, start, end=None):
        recs = self.records[start:end]
        return sum(1 for _, lab in recs if lab == label)

    def last_before(self, label, index):
        """Index of the last datagram of `label` before `index` (None)."""
        recs = self.records
        for j in range(index - 1, -1, -1):
            if recs[j][1] == label:
                return j
        return None

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


# ------------------------------------------------------------------ senders

class Senders:
    """The two real-time FFmpeg senders, each to its relay.  The backup's
    PIDs are re-numbered so that the output tells the two apart."""

    EXTRA = {"P": [],
             "B": ["-streamid", "0:0x200", "-streamid", "1:0x201",
                   "-mpegts_pmt_start_pid", "0x1100"]}

    def __init__(self, cfg, children, clip, ports, relays, tmp):
        self.cfg = cfg
        self.children = children
        self.clip = clip
        self.ports = ports
        self.relays = relays
        self.tmp = tmp
        self.procs = {}
        self.restarts = 0

    def start(self, lab):
        port = self.ports["relay_p" if lab == "P" else "relay_b"]
        self.procs[lab] = self.children.spawn(
            ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
             "-re", "-stream_loop", "-1", "-i", self.clip, "-map", "0", "-c", "copy"]
            + self.EXTRA[lab] +
            ["-f", "mpegts", "udp://%s:%d?pkt_size=1316" % (HOST, port)],
            os.path.join(self.tmp, "sender-%s.log" % lab))
        if not self.restarts:
            log("sender %s: pid %d -> relay 127.0.0.1:%d -> 127.0.0.1:%d"
                % (lab, self.procs[lab].pid, port, self.relays[lab].target))

    def check(self, fresh=False):
        for lab, p in self.procs.items():
            if p.poll() is not None or (fresh and self.relays[lab].received == 0):
                raise BenchError("sender %s is not sending (exit %s):\n%s"
                                 % (lab, p.poll(), tail(p.log_path)))

    def rephase_backup(self):
        """Restarts the backup sender after a random 0-40 ms, so that the
        phase of its frames against the primary's (both send a burst per
        40 ms frame) is new in every trial.  Two senders started together
        would keep one phase for the whole run, and the part of a failover
        gap spent waiting for the backup's next frame with it: a constant
        instead of the spread that independent encoders give.  The backup
        is silent some 0.1 s meanwhile, well under `timeout`; the primary is
        on air.  Waits until the new sender's datagrams reach the relay."""
        old = self.procs["B"]
        old.kill()
        old.wait(5)
        time.sleep(self.cfg.rng.uniform(0, 0.04))
        self.restarts += 1
        n0 = self.relays["B"].received
        self.start("B")
        deadline = time.monotonic() + 10
        while self.relays["B"].received == n0:
            if time.monotonic() > deadline or self.procs["B"].poll() is not None:
                raise BenchError("the backup sender, restarted, sends nothing (exit %s):\n%s"
                                 % (self.procs["B"].poll(), tail(self.procs["B"].log_path)))
            time.sleep(0.01)


# ------------------------------------------------------------------- trials

class Trial:
    def __init__(self, k):
        self.k = k
        self.gap_out = None        # last primary out -> first backup out, ms
        self.gap_in = None         # last primary forwarded in -> first backup out, ms
        self.cut_out = None        # cut -> first backup out, ms
        self.ret_gap = None        # last backup out -> first primary out, ms
        self.ret_hold = None       # primary forwarded again -> first primary out, ms
        self.ret_lost = 0          # mroute: backup datagrams fed in during ret_gap (not out)
        self.b_silent = None       # mroute: timeout expiry -> next backup datagram fed in, ms
        self.react = None          # mroute: that datagram fed in -> first backup out, ms
        self.early = False         # mroute: the backup went out before the timeout expired
        self.stray = 0             # datagrams of the other sender in the switch windows
        self.clock_moved_ms = 0.0


def ms(a_ns, b_ns):
    return (a_ns - b_ns) / 1e6


def nearest_rank(values, q):
    """The q-th percentile by nearest rank: the ceil(q/100 * n)-th smallest."""
    v = sorted(values)
    return v[max(0, math.ceil(q / 100.0 * len(v)) - 1)]


def settle_on_primary(cfg, rx, what):
    """The output carries the primary: wait a random 0.3-0.6 s and check that
    nothing but the primary went out meanwhile.  Returns the number of
    backup datagrams seen in that window (0 when all is well)."""
    i0 = rx.n()
    time.sleep(cfg.rng.uniform(*SETTLE))
    n_p = rx.count("P", i0)
    n_b = rx.count("B", i0)
    if n_p == 0:
        raise BenchError("%s: the output carries nothing of the primary before the cut" % what)
    return n_b


def measure_switch(rx, i0, old, new, timeout, what, after):
    """After a switch started with the output at index i0: the first `new`
    datagram and the last `old` datagram before it.  Also waits AFTER_SWITCH
    and counts `old` datagrams after the first `new` one (a flap)."""
    fb = rx.first(new, i0, timeout)
    if fb is None:
        raise BenchError("%s: no datagram of the %s at the output %.1f s after the switch "
                         "(%d datagrams since, %d of the %s)"
                         % (what, "backup" if new == "B" else "primary", timeout,
                            rx.n() - i0, rx.count(old, i0), "primary" if old == "P" else "backup"))
    lp = rx.last_before(old, fb)
    if lp is None:
        raise BenchError("%s: no datagram of the old sender before the switch" % what)
    time.sleep(after)
    stray = rx.count(old, fb)
    return rx.records[fb][0], rx.records[lp][0], stray


def run_trials(cfg, name, rx, relays, cut, resume, ret_timeout, expire_ms=None):
    """The trial loop shared by both approaches.  `cut()` stops the primary
    (and swaps the relay for restart), `resume()` brings it back.  With
    `expire_ms` (mroute's timeout) the failover gap is also split at the
    moment the timeout expired: how long the backup itself then had no data,
    and how long its next datagram took to go out."""
    P, B = relays["P"], relays["B"]
    after = AFTER_SWITCH[name]
    trials = []
    failures = []
    for k in range(1, cfg.trials + 1):
        tr = Trial(k)
        off0 = clock_offset_ns()
        try:
            cfg.rephase()
            tr.stray += settle_on_primary(cfg, rx, "%s trial %d" % (name, k))
            i0 = rx.n()
            t_cut = now_ns()
            cut()
            t_b, t_p, stray = measure_switch(rx, i0, "P", "B", cfg.switch_timeout,
                                             "%s trial %d, failover" % (name, k), after)
            tr.stray += stray
            tr.gap_out = ms(t_b, t_p)
            tr.gap_in = ms(t_b, P.last_fwd_ns)
            tr.cut_out = ms(t_b, t_cut)
            if expire_ms is not None:
                t_exp = P.last_fwd_ns + expire_ms * 1000000
                hist = list(B.history)
                j = bisect.bisect_left(hist, t_exp)
                if t_b < t_exp:
                    tr.early = True
                elif j < len(hist) and hist[j] <= t_b:
                    tr.b_silent = ms(hist[j], t_exp)
                    tr.react = ms(t_b, hist[j])
                else:       # the datagram out was fed a hair before the expiry
                    tr.b_silent = 0.0
                    tr.react = ms(t_b, t_exp)

            i1 = rx.n()
            resume()
            t_p2, t_b2, stray = measure_switch(rx, i1, "B", "P", ret_timeout,
                                               "%s trial %d, return" % (name, k), after)
            tr.stray += stray
            tr.ret_gap = ms(t_p2, t_b2)
            if expire_ms is not None:
                # backup datagrams fed in between the last backup datagram out
                # and the first primary one (1 ms margins for the transit):
                # were any dropped before the return, or had the backup
                # simply nothing to send meanwhile?
                hist = list(B.history)
                tr.ret_lost = max(0, bisect.bisect_left(hist, t_p2 - 1000000)
                                  - bisect.bisect_right(hist, t_b2 + 1000000))
            if P.first_fwd_ns is not None:
                tr.ret_hold = ms(t_p2, P.first_fwd_ns)
        except BenchError as e:
            failures.append("trial %d: %s" % (k, e))
            log("%s trial %d FAILED: %s" % (name, k, e))
            if len(failures) >= 3:
                raise BenchError("%s: 3 trials failed, giving up" % name)
            try:
                resume(recover=True)
            except BenchError as e2:
                raise BenchError("%s: cannot return to the primary after a failed trial: %s"
                                 % (name, e2))
            continue
        tr.clock_moved_ms = abs(clock_offset_ns() - off0) / 1e6
        trials.append(tr)
        split = ""
        if tr.b_silent is not None:
            split = " (backup silent %.1f ms after the timeout, then out in %.1f ms)" % (
                tr.b_silent, tr.react)
        elif tr.early:
            split = " (before the timeout expired)"
        log("%s trial %2d: gap out %.1f ms, in->out %.1f ms%s, cut->out %.1f ms; return gap %.1f ms%s, "
            "held %.0f ms%s%s"
            % (name, k, tr.gap_out, tr.gap_in, split, tr.cut_out, tr.ret_gap,
               (" (%d backup datagrams fed in meanwhile)" % tr.ret_lost) if tr.ret_lost else "",
               tr.ret_hold if tr.ret_hold is not None else float("nan"),
               (", %d stray datagrams" % tr.stray) if tr.stray else "",
               (", wall clock moved %.1f ms" % tr.clock_moved_ms) if tr.clock_moved_ms > 1 else ""))
    return trials, failures


# ------------------------------------------------------------------- mroute

def start_controller(cfg, children, tmp):
    binary = os.path.join(cfg.build, "controller", "mroute")
    plugins = os.path.join(cfg.build, "plugins")
    if not os.access(binary, os.X_OK):
        raise BenchError("%s is missing: build first (ninja -C %s)" % (binary, cfg.build))
    run_dir = tempfile.mkdtemp(prefix="mroute-", dir=tmp)
    conf = os.path.join(run_dir, "mroute.conf")
    with open(conf, "w") as f:
        f.write("[gstreamer]\nhealth_timeout_ms = %d\n" % cfg.timeout)
    api = free_tcp_port()
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = plugins
    env["GST_REGISTRY"] = os.path.join(cfg.cache, "gst-registry.bin")
    env.pop("MROUTE_PORT", None)
    logp = os.path.join(run_dir, "mroute.log")
    p = children.spawn([binary, "--config", conf, "--port", str(api), "--host", HOST,
                        "--db", os.path.join(run_dir, "mroute.db")],
                       logp, env=env, cwd=run_dir)
    deadline = time.monotonic() + 15
    while True:
        if p.poll() is not None:
            raise BenchError("mroute exited with %s at start:\n%s" % (p.returncode, tail(logp)))
        try:
            if http(api, "GET", "/health", timeout=1)[0] == 200:
                return p, api, logp
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchError("mroute did not answer /health in 15 s:\n" + tail(logp))
        time.sleep(0.05)


def run_mroute(cfg, children, rx, relays, ports, tmp):
    P, B = relays["P"], relays["B"]
    P.unmute()
    p, api, logp = start_controller(cfg, children, tmp)
    try:
        body = {
            "name": "bench-failover",
            "sources": [
                {"name": "primary", "protocol": "udp", "ingest_port": ports["in_p"],
                 "ingest_address": HOST},
                {"name": "backup", "protocol": "udp", "ingest_port": ports["in_b"],
                 "ingest_address": HOST},
            ],
            "outputs": [{"name": "out", "protocol": "udp", "destination": HOST,
                         "port": ports["out"]}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                       "source_priority": {"primary_source": "primary"}},
        }
        code, flow = http(api, "POST", "/v1/flows", body)
        if code != 201:
            raise BenchError("POST /v1/flows answered %s: %r" % (code, flow))
        fid = flow["id"]
        code, answer = http(api, "POST", "/v1/flows/%s/start" % fid)
        if code != 200:
            raise BenchError("POST /v1/flows/%s/start answered %s: %r" % (fid, code, answer))

        def diagnose(what):
            _, ev = http(api, "GET", "/v1/flows/%s/events?limit=20" % fid)
            _, met = http(api, "GET", "/v1/flows/%s/metrics" % fid)
            return "%s\nevents: %r\nmetrics: %r\nlog:\n%s" % (what, ev, met, tail(logp))

        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            status = http(api, "GET", "/v1/flows/%s" % fid)[1].get("status")
            if status == "ACTIVE":
                break
            time.sleep(0.05)
        if status != "ACTIVE":
            raise BenchError(diagnose("flow %s is %s, not ACTIVE, 15 s after start" % (fid, status)))
        i0 = rx.n()
        if rx.first("P", i0, 15) is None:
            raise BenchError(diagnose("flow %s is ACTIVE but its output carries nothing of the "
                                      "primary in 15 s" % fid))
        time.sleep(cfg.warmup)
        _, met = http(api, "GET", "/v1/flows/%s/metrics" % fid)
        if met.get("active_source") != "primary" or met.get("failover_count") != 0:
            raise BenchError(diagnose("after the warm-up the flow is not on the primary"))
        log("mroute: flow %s ACTIVE on the primary; %d trials" % (fid, cfg.trials))

        def cut():
            P.mute()

        def resume(recover=False):
            P.unmute()
            if recover and rx.first("P", rx.n(), RECOVERY_TIME + 2 * KEY_INTERVAL + 5) is None:
                raise BenchError(diagnose("the output did not return to the primary"))

        trials, failures = run_trials(cfg, "mroute", rx, relays, cut, resume,
                                      RECOVERY_TIME + KEY_INTERVAL + 5, expire_ms=cfg.timeout)
        _, met = http(api, "GET", "/v1/flows/%s/metrics" % fid)
        _, ev = http(api, "GET", "/v1/flows/%s/events?limit=1000" % fid)
        evs = ev.get("events", []) if isinstance(ev, dict) else []
        fo = [e for e in evs if e.get("type") == "source_failover"]
        extra = {
            "failover_count": met.get("failover_count"),
            "status": met.get("status"),
            "source_failover": len(fo),
            "source_failover_timeout": sum(1 for e in fo if "timeout" in e.get("message", "")),
            "primary_recovered": sum(1 for e in evs if e.get("type") == "primary_recovered"),
            "rss_mb": None,
        }
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        extra["rss_mb"] = int(line.split()[1]) / 1024.0
        except OSError:
            pass
        http(api, "POST", "/v1/flows/%s/stop" % fid, timeout=15)
        return trials, failures, extra
    finally:
        code, killed = Children.end(p, timeout=15)
        if killed:
            log("warning: mroute did not exit within 15 s of SIGTERM; killed")
        elif code not in (0, None):
            log("warning: mroute exited with %s:\n%s" % (code, tail(logp, 10)))


# ------------------------------------------------------------------ restart

def run_restart(cfg, children, rx, relays, ports, tmp):
    P = relays["P"]
    logs = {lab: os.path.join(tmp, "ffmpeg-relay-%s.log" % lab) for lab in "PB"}
    rx.port_labels[ports["local_p"]] = "P"
    rx.port_labels[ports["local_b"]] = "B"
    current = {"proc": None}

    def start(lab):
        src = ports["in_p"] if lab == "P" else ports["in_b"]
        local = ports["local_p"] if lab == "P" else ports["local_b"]
        args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
                "-i", "udp://%s:%d?fifo_size=1000000&overrun_nonfatal=1" % (HOST, src),
                "-map", "0", "-c", "copy", "-f", "mpegts",
                "udp://%s:%d?pkt_size=1316&localport=%d" % (HOST, ports["out"], local)]
        current["proc"] = children.spawn(args, logs[lab])

    def swap(lab):
        """SIGKILL the running relay and start one on `lab` at once."""
        old = current["proc"]
        if old is not None and old.poll() is None:
            old.kill()
        start(lab)
        if old is not None:
            try:
                old.wait(5)
            except Exception:
                pass

    try:
        P.unmute()
        start("P")
        i0 = rx.n()
        if rx.first("P", i0, 30) is None:
            raise BenchError("the FFmpeg relay sent nothing to 127.0.0.1:%d in 30 s (exit %s):\n%s"
                             % (ports["out"], current["proc"].poll(), tail(logs["P"])))
        time.sleep(cfg.warmup)
        log("restart: FFmpeg relay on the primary; %d trials" % cfg.trials)

        def cut():
            P.mute()
            swap("B")

        def resume(recover=False):
            P.unmute()
            swap("P")
            if recover and rx.first("P", rx.n(), 30) is None:
                raise BenchError("the FFmpeg relay on the primary sent nothing in 30 s:\n%s"
                                 % tail(logs["P"]))

        cfg_to = cfg.switch_timeout
        cfg.switch_timeout = 30.0        # FFmpeg probes its input before it sends
        try:
            trials, failures = run_trials(cfg, "restart", rx, relays, cut, resume, 30.0)
        finally:
            cfg.switch_timeout = cfg_to
        return trials, failures, {}
    finally:
        p = current["proc"]
        if p is not None:
            Children.end(p, sig=signal.SIGKILL, timeout=5)
        rx.port_labels.clear()


# ------------------------------------------------------------------- report

MEASURES = [
    ("gap_out", "failover", "last primary out -> first backup out"),
    ("gap_in", "failover", "last primary fed in -> first backup out"),
    ("cut_out", "failover", "cut -> first backup out"),
    ("b_silent", "failover", "timeout expiry -> next backup dgram fed in"),
    ("react", "failover", "that backup dgram fed in -> out"),
    ("ret_gap", "return", "last backup out -> first primary out"),
    ("ret_hold", "return", "primary fed again -> first primary out"),
]


def report(cfg, results, senders_info):
    print()
    print("failover: %s, %d trial(s) per approach, timeout %d ms, %d CPU(s), %s"
          % ("1080p25 H.264/AAC MPEG-TS at 10 Mbit/s, two real-time senders through relays",
             cfg.trials, cfg.timeout, os.cpu_count(), time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    print("times in ms, arrival at the output by the kernel's SO_TIMESTAMPNS; "
          "percentiles by nearest rank (with <= 100 trials p99 is the max)")
    if senders_info:
        print(senders_info)
    print()
    heads = ["approach", "switch", "measure", "trials", "min", "p50", "p99", "max"]
    rows = []
    stats = {}
    for name in ("mroute", "restart"):
        if name not in results:
            continue
        trials, failures, _ = results[name]
        for key, kind, text in MEASURES:
            vals = [getattr(t, key) for t in trials if getattr(t, key) is not None]
            if not vals:
                continue
            st = (min(vals), nearest_rank(vals, 50), nearest_rank(vals, 99), max(vals))
            stats[(name, key)] = st
            ntr = "%d" % len(vals) if not failures else "%d (+%d failed)" % (len(vals), len(failures))
            rows.append([name, kind, text, ntr] + ["%.1f" % v for v in st])
    widths = [max(len(h), max([len(r[i]) for r in rows] or [0])) for i, h in enumerate(heads)]
    print(fmt_row(heads, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for r in rows:
        print(fmt_row(r, widths))
    print()

    for name in ("mroute", "restart"):
        if name not in results:
            continue
        trials, failures, extra = results[name]
        stray = sum(t.stray for t in trials)
        moved = max([t.clock_moved_ms for t in trials] or [0])
        line = "%s: %d stray datagrams (other sender around a switch)" % (name, stray)
        if extra:
            line += ("; %d backup datagrams fed in during the return gaps (not forwarded)"
                     % sum(t.ret_lost for t in trials))
        early = sum(1 for t in trials if t.early)
        if early:
            line += "; %d failover(s) before the timeout expired" % early
        if moved > 1:
            line += "; wall clock moved up to %.1f ms during a trial" % moved
        if extra:
            line += ("; controller: failover_count %s (2 per trial expected), source_failover "
                     "events %s (%s by timeout), primary_recovered %s, status %s, RSS %s MB"
                     % (extra["failover_count"], extra["source_failover"],
                        extra["source_failover_timeout"], extra["primary_recovered"],
                        extra["status"],
                        "%.1f" % extra["rss_mb"] if extra["rss_mb"] is not None else "?"))
        print(line)
        for f in failures:
            print("  FAILED %s" % f.splitlines()[0])
    print()

    limit = cfg.timeout + TARGET_SLACK_MS
    ours = stats.get(("mroute", "gap_out"))
    ref = stats.get(("restart", "gap_out"))
    ratio = ref[2] / ours[2] if ours and ref and ours[2] > 0 else None
    if ratio is not None:
        print("ratio restart p99 / mroute p99 (last primary out -> first backup out): %.2f" % ratio)
    print("target: p99 <= timeout + %d ms (%d ms) and >= %.0fx shorter than restart"
          % (TARGET_SLACK_MS, limit, TARGET_RATIO))
    m_failed = "mroute" not in results or bool(results["mroute"][1])
    if ours:
        print("  mroute p99 %.1f ms <= %d ms -> %s%s"
              % (ours[2], limit, "met" if ours[2] <= limit and not m_failed else "NOT met",
                 " (failed trials)" if m_failed else ""))
    else:
        print("  mroute p99: not measured -> NOT met")
    if ratio is not None:
        print("  restart p99 / mroute p99 = %.2f >= %.0f -> %s"
              % (ratio, TARGET_RATIO, "met" if ratio >= TARGET_RATIO else "NOT met"))
    else:
        print("  ratio: not measured in this run")
    sys.stdout.flush()


# --------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--trials", type=int, default=None, help="trials per approach (default 20)")
    ap.add_argument("--quick", action="store_true", help="5 trials, 1 s warm-up")
    ap.add_argument("--timeout", type=int, default=500,
                    help="mroute's [gstreamer] health_timeout_ms, the selector's timeout "
                         "(default 500)")
    ap.add_argument("--warmup", type=float, default=None, help="warm-up per approach (default 2 s)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the random waits before cuts")
    cfg = ap.parse_args(argv)
    if cfg.trials is None:
        cfg.trials = 5 if cfg.quick else 20
    if cfg.trials < 1:
        ap.error("--trials: at least 1")
    if not 50 <= cfg.timeout <= 60000:
        ap.error("--timeout: 50 to 60000 ms (the controller's range)")
    if cfg.warmup is None:
        cfg.warmup = 1.0 if cfg.quick else 2.0
    if cfg.seed is None:
        cfg.seed = int.from_bytes(os.urandom(4), "big")
    cfg.rng = random.Random(cfg.seed)
    cfg.switch_timeout = cfg.timeout / 1000.0 + 5.0
    cfg.build = os.path.abspath(cfg.build)
    cfg.cache = os.path.join(cfg.build, "bench-cache")
    return cfg


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def on_alarm(_signum, _frame):
    raise BenchError("the whole benchmark ran past its time limit")


def main(argv):
    cfg = parse_args(argv)
    if not shutil.which("ffmpeg"):
        print("failover: ffmpeg is not installed", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    # clip making (once) + per trial a generous 2 x 30 s + start-up and warm-ups
    signal.alarm(int(700 + cfg.trials * 60 + 120))

    children = Children()
    tmp = tempfile.mkdtemp(prefix="mroute-bench-failover-")
    relays = {}
    rx = None
    results = {}
    failed = False
    t_start = time.monotonic()
    try:
        clip = make_failover_clip(cfg.cache)
        ports = {}
        for key in ("in_p", "in_b", "relay_p", "relay_b", "out", "local_p", "local_b"):
            while True:
                p = free_udp_port()
                if p not in ports.values():
                    ports[key] = p
                    break
        rx = OutputReceiver(ports["out"])
        relays["P"] = Relay("P", ports["relay_p"], ports["in_p"])
        relays["B"] = Relay("B", ports["relay_b"], ports["in_b"])
        senders = Senders(cfg, children, clip, ports, relays, tmp)
        senders.start("P")
        senders.start("B")
        log("output: 127.0.0.1:%d; seed %d" % (ports["out"], cfg.seed))
        time.sleep(1.5)
        senders.check(fresh=True)
        cfg.rephase = senders.rephase_backup

        for name, fn in (("mroute", run_mroute), ("restart", run_restart)):
            senders.check()
            t0 = time.monotonic()
            c0 = {lab: r.received for lab, r in relays.items()}
            try:
                results[name] = fn(cfg, children, rx, relays, ports, tmp)
            except BenchError as e:
                failed = True
                print("\n%s FAILED: %s\n" % (name, e), flush=True)
                continue
            finally:
                relays["P"].unmute()
            if results[name][1]:
                failed = True
            log("%s: done in %.0f s; senders %s datagrams/s"
                % (name, time.monotonic() - t0,
                   ", ".join("%s %.0f" % (lab, (r.received - c0[lab]) / (time.monotonic() - t0))
                             for lab, r in relays.items())))
        for r in list(relays.values()) + [rx]:
            if r.error is not None:
                raise BenchError("socket thread failed: %r" % r.error)
        info = ("output datagrams %d (%d of PAT/SDT only, %d without a kernel timestamp); "
                "relays forwarded P %d, B %d; backup sender re-phased %d times; run %.0f s"
                % (rx.n(), rx.unlabelled, rx.no_kernel_ts, relays["P"].forwarded,
                   relays["B"].forwarded, senders.restarts, time.monotonic() - t_start))
        if results:
            report(cfg, results, info)
    except BenchError as e:
        failed = True
        print("failover: %s" % e, file=sys.stderr, flush=True)
        if results:
            report(cfg, results, None)
    finally:
        signal.alarm(0)
        children.kill_all()
        for r in relays.values():
            r.close()
        if rx is not None:
            rx.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
