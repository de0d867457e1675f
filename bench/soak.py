#!/usr/bin/env python3
"""Soak and fault figures of the controller (`make soak`).

Four parts, each selectable with --part (default: all four, in order):

  1  lifecycle soak: CYCLES x (create a flow with a UDP source fed by a live
     real-time sender, start, add two outputs, remove one, stop, delete);
     open fds, threads and VmRSS of the controller at start, after cycle 1,
     100 and the last; targets: fds and threads back to the start value,
     RSS growth under 5 MB.
  2  crash consistency: ROUNDS x (WRITES API writes from CLIENTS threads,
     kill -9 of the controller at a random moment among them, PRAGMA
     integrity_check of the database, restart on it, every acknowledged
     write checked by GET, acknowledged running flows running again).
  3  source faults: for each kind of source (udp, rtp, srt-listener,
     srt-caller, rist, rtmp pull) under a running flow with a UDP output
     read here: KILLS x (kill -9 the sender/peer, wait DOWNTIME, start it
     again); time from the source's return to the first byte out, p50/p99,
     rounds that never resumed.
  4  garbage: REQUESTS requests of random methods, paths, headers and
     bodies (bench/soak_garbage.py) against a controller running one live
     flow whose output is read and checked here (TS continuity counters,
     arrival gaps); answers by status class, 5xx, crashes, longest gap.

Everything runs on 127.0.0.1 on ports picked free at run time; every wait
and loop is bounded in count and time (an overall alarm too); every child
process is ended by its own pid.  Standard library only; the helpers of
tests/integration (free ports, controller start, clip making) are imported.

    python3 bench/soak.py --build BUILDDIR [--part 1,2,3,4] [--cycles 1000]
        [--rounds 100] [--writes 200] [--clients 4] [--kills 100]
        [--kinds udp,rtp,srt-listener,srt-caller,rist,rtmp] [--downtime 2]
        [--requests 10000] [--seed N] [--replay INDEX]
"""

import argparse
import http.client
import json
import os
import random
import select
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)

from mroute_harness import Controller, free_port          # noqa: E402
from mroute_media import DGRAM, TS, make_ts_clip, udp_socket  # noqa: E402
from fanout import Children, proc_status                  # noqa: E402
import soak_garbage                                        # noqa: E402

HOST = "127.0.0.1"
KINDS = ["udp", "rtp", "srt-listener", "srt-caller", "rist", "rtmp"]
RSS_TARGET_MB = 5.0
GAP_TARGET_S = 0.5
MAX_BODY = 1048576


class SoakError(Exception):
    pass


def log(msg):
    print("[soak] " + msg, file=sys.stderr, flush=True)


def out(msg=""):
    print(msg, flush=True)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# ------------------------------------------------------------- controller

class Mroute(Controller):
    """The harness's controller (free API port, own temp dir, log file),
    bound to 127.0.0.1, from BUILDDIR."""

    def __init__(self, cfg, db_path=None):
        os.environ["MROUTE_BIN"] = os.path.join(cfg.build, "controller", "mroute")
        env = {"GST_PLUGIN_PATH": os.path.join(cfg.build, "plugins"),
               "GST_REGISTRY": os.path.join(cfg.cache, "gst-registry.bin")}
        super().__init__(db_path=db_path, extra_args=["--host", HOST], env=env)
        self.env.pop("MROUTE_API_KEY", None)
        self.env.pop("MROUTE_PORT", None)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        try:
            if self.proc is not None:
                if self.proc.poll() is None:
                    self.stop(timeout=15)
                else:
                    self.proc = None
                    self.log.close()
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def log_tail(self, n=2500):
        return self.read_log()[-n:]


def api(port, method, path, body=None, timeout=10):
    """One request on its own connection: (status, parsed JSON or None).
    Raises OSError / http.client.HTTPException when there is no answer."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Connection": "close"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return r.status, parsed
    finally:
        conn.close()


def wait_status(port, fid, statuses, timeout):
    """Polls GET /v1/flows/ID until its status is in `statuses`; returns the
    last status seen (None when the flow could not be read)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            code, f = api(port, "GET", "/v1/flows/%s" % fid, timeout=5)
            last = f.get("status") if code == 200 and isinstance(f, dict) else "HTTP %d" % code
        except (OSError, http.client.HTTPException) as e:
            last = "no answer (%s)" % e.__class__.__name__
        if last in statuses or time.monotonic() >= deadline:
            return last
        time.sleep(0.05)


def thread_names(pid):
    names = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return sorted(names)


def proc_figures(pid):
    st = proc_status(pid)
    return {"fds": len(os.listdir("/proc/%d/fd" % pid)), "threads": st["Threads"],
            "rss_mb": st["VmRSS"], "names": thread_names(pid)}


def settled_figures(pid, ref=None, timeout=5.0):
    """fds/threads/RSS once two readings 0.5 s apart agree on fds and
    threads (or they are back to `ref`), bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    prev = proc_figures(pid)
    while time.monotonic() < deadline:
        if ref and prev["fds"] <= ref["fds"] and prev["threads"] <= ref["threads"]:
            return prev
        time.sleep(0.5)
        cur = proc_figures(pid)
        if cur["fds"] == prev["fds"] and cur["threads"] == prev["threads"] and not ref:
            return cur
        prev = cur
    return prev


# --------------------------------------------------------------- traffic

def ffmpeg_sender(children, clip, url, fmt, log_path):
    """A real-time looping ffmpeg sender of the clip (`-re -stream_loop -1
    -c copy`) to `url` in format `fmt`."""
    return children.spawn(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
         "-re", "-stream_loop", "-1", "-i", clip, "-map", "0", "-c", "copy",
         "-f", fmt, url], log_path)


class OutputWatch(threading.Thread):
    """Reads UDP sockets on 127.0.0.1 and keeps, per port: datagrams, bytes,
    the time of the last arrival, the longest gap between two arrivals
    (with its start), gaps over GAP_TARGET_S, and, when `check_cc`, the TS
    continuity errors across datagrams (null PID excluded, discontinuity
    indicator honoured, as mroute_media.ts_cc_errors does per buffer)."""

    def __init__(self, ports, check_cc=False, rcvbuf=4 * 1024 * 1024):
        super().__init__(daemon=True)
        self.socks = {udp_socket(p, rcvbuf=rcvbuf): p for p in ports}
        self.check_cc = check_cc
        self.stats = {p: {"dgrams": 0, "bytes": 0, "last": None, "first": None,
                          "max_gap": 0.0, "max_gap_at": None, "gaps_over": 0,
                          "cc_errors": 0, "bad_sync": 0, "cc": {}} for p in ports}
        self.lock = threading.Lock()
        self._halt = threading.Event()

    def run(self):
        buf = bytearray(65536)
        socks = list(self.socks)
        while not self._halt.is_set():
            try:
                ready, _, _ = select.select(socks, [], [], 0.1)
            except (OSError, ValueError):
                return
            for s in ready:
                try:
                    n = s.recv_into(buf)
                except OSError:
                    continue
                now = time.monotonic()
                st = self.stats[self.socks[s]]
                with self.lock:
                    if st["last"] is not None:
                        gap = now - st["last"]
                        if gap > st["max_gap"]:
                            st["max_gap"], st["max_gap_at"] = gap, st["last"]
                        if gap > GAP_TARGET_S:
                            st["gaps_over"] += 1
                    else:
                        st["first"] = now
                    st["last"] = now
                    st["dgrams"] += 1
                    st["bytes"] += n
                if self.check_cc:
                    self._cc(st, bytes(buf[:n]))

    @staticmethod
    def _cc(st, data):
        last = st["cc"]
        for off in range(0, len(data) - len(data) % TS, TS):
            if data[off] != 0x47:
                st["bad_sync"] += 1
                continue
            pid = ((data[off + 1] & 0x1F) << 8) | data[off + 2]
            if pid == 0x1FFF:
                continue
            b3 = data[off + 3]
            afc, cc = (b3 >> 4) & 3, b3 & 0x0F
            disc = bool(afc & 2) and data[off + 4] > 0 and bool(data[off + 5] & 0x80)
            if pid not in last or disc:
                last[pid] = cc
                continue
            if not afc & 1:
                continue
            if cc != (last[pid] + 1) & 0x0F:
                st["cc_errors"] += 1
            last[pid] = cc

    def last(self, port):
        with self.lock:
            return self.stats[port]["last"]

    def wait_after(self, port, t, timeout):
        """Waits for a datagram on `port` arriving after monotonic time `t`;
        returns its arrival time or None."""
        deadline = time.monotonic() + timeout
        while True:
            last = self.last(port)
            if last is not None and last > t:
                return last
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.005)

    def wait_quiet(self, port, quiet, timeout):
        """Waits until nothing arrived on `port` for `quiet` seconds; returns
        whether it went quiet within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.last(port)
            if last is None or time.monotonic() - last >= quiet:
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self._halt.set()
        self.join(2)
        for s in self.socks:
            s.close()


def free_ports(n, used, kind=socket.SOCK_DGRAM, count=1, even=False):
    """n distinct free ports P (P ... P+count-1 free for each; P even when
    asked), none in `used` (updated)."""
    got = []
    for _ in range(n * 100):
        p = free_port(kind, count=count)
        if even and p % 2:
            continue
        span = set(range(p, p + count))
        if span & used:
            continue
        used |= span
        got.append(p)
        if len(got) == n:
            return got
    raise SoakError("could not find %d free ports" % n)


# ------------------------------------------------------------------ part 1

def part1(cfg, children, clip, tmp):
    out("== part 1: %d lifecycle cycles (create, start, add 2 outputs, remove 1, stop, delete)"
        % cfg.cycles)
    used = set()
    sport, pa, pb = free_ports(3, used)
    sender = ffmpeg_sender(children, clip, "udp://%s:%d?pkt_size=1316" % (HOST, sport), "mpegts",
                           os.path.join(tmp, "p1-sender.log"))
    watch = OutputWatch([pa, pb], rcvbuf=256 * 1024)
    watch.start()
    ctl = Mroute(cfg).start(timeout=20)
    errors = {}
    no_data_added = no_data_kept = 0
    marks = {"start": settled_figures(ctl.pid)}
    checkpoints = sorted({1, min(100, cfg.cycles), cfg.cycles})
    t0 = time.monotonic()
    port = ctl.port

    def step(name, method, path, body, want):
        try:
            code, data = api(port, method, path, body, timeout=15)
        except (OSError, http.client.HTTPException) as e:
            code, data = None, str(e)
        if code != want:
            e = errors.setdefault(name, {"count": 0, "first": None})
            e["count"] += 1
            if e["first"] is None:
                e["first"] = "%s %s -> %s %s" % (method, path, code, str(data)[:300])
            return None
        return data

    try:
        for i in range(1, cfg.cycles + 1):
            if sender.poll() is not None:
                raise SoakError("the sender exited with %s" % sender.returncode)
            if not ctl.alive():
                raise SoakError("the controller died in cycle %d (exit %s):\n%s"
                                % (i, ctl.proc.returncode, ctl.log_tail()))
            f = step("create", "POST", "/v1/flows",
                     {"name": "soak-%d" % i,
                      "source": {"name": "in", "protocol": "udp", "ingest_port": sport,
                                 "ingest_address": HOST}}, 201)
            if f is None:
                continue
            fid = f["id"]
            if step("start", "POST", "/v1/flows/%s/start" % fid, None, 200) is not None:
                st = wait_status(port, fid, ("ACTIVE",), 10)
                if st != "ACTIVE":
                    step("reach ACTIVE", "GET", "/v1/flows/%s" % fid, None, -1)
                t_add = time.monotonic()
                step("add output a", "POST", "/v1/flows/%s/outputs" % fid,
                     {"name": "a", "protocol": "udp", "destination": HOST, "port": pa}, 201)
                step("add output b", "POST", "/v1/flows/%s/outputs" % fid,
                     {"name": "b", "protocol": "udp", "destination": HOST, "port": pb}, 201)
                if watch.wait_after(pa, t_add, 5) is None:
                    no_data_added += 1
                t_rm = time.monotonic()
                step("remove output a", "DELETE", "/v1/flows/%s/outputs/a" % fid, None, 200)
                if watch.wait_after(pb, t_rm, 5) is None:
                    no_data_kept += 1
                step("stop", "POST", "/v1/flows/%s/stop" % fid, None, 200)
                if wait_status(port, fid, ("STANDBY",), 10) != "STANDBY":
                    step("reach STANDBY", "GET", "/v1/flows/%s" % fid, None, -1)
            step("delete", "DELETE", "/v1/flows/%s" % fid, None, 204)
            if i in checkpoints:
                marks[i] = settled_figures(ctl.pid, ref=marks.get(1))
                log("cycle %d: %r (%.0f s)" % (i, marks[i], time.monotonic() - t0))
            elif i % 50 == 0:
                log("cycle %d (%.0f s)" % (i, time.monotonic() - t0))
        elapsed = time.monotonic() - t0
        # GLib's thread pools stop a thread after 15 s unused: the last
        # reading after 20 s idle
        time.sleep(20)
        marks["idle"] = proc_figures(ctl.pid)
    finally:
        alive = ctl.alive()
        ctl.close()
        watch.close()
        Children.end(sender, signal.SIGTERM, 5)

    out("controller: %s, %d cycles in %.0f s (%.2f s per cycle); sender: ffmpeg -re, %s"
        % ("alive at the end" if alive else "DEAD", cfg.cycles, elapsed, elapsed / cfg.cycles,
           os.path.basename(clip)))
    out("%-22s %6s %8s %8s" % ("when", "fds", "threads", "RSS MB"))
    labels = {"start": "start", "idle": "20 s after the last"}
    for key in ["start"] + checkpoints + ["idle"]:
        if key in marks:
            m = marks[key]
            label = labels[key] if key in labels else "after cycle %d" % key
            out("%-22s %6d %8d %8.1f  %s" % (label, m["fds"], m["threads"], m["rss_mb"],
                                             " ".join(m["names"])))
    out("(start: the fresh controller before its first flow; the first flow loads GStreamer's "
        "plugins and starts GstSystemClock's thread, once per process; a streaming thread "
        "named after its last task, e.g. backlog:src, is an idle thread of GStreamer's task "
        "pool, which GLib ends after 15 s unused)")
    out("cycles where an added output got no datagram in 5 s: %d; where the kept output "
        "stopped after the other's removal: %d" % (no_data_added, no_data_kept))
    if errors:
        for name, e in errors.items():
            out("unexpected answers at '%s': %d, first: %s" % (name, e["count"], e["first"]))
    else:
        out("unexpected answers: 0")
    last = marks.get(cfg.cycles)
    results = []
    if last:
        s, one = marks["start"], marks.get(1, marks["start"])
        idle = marks.get("idle", last)
        results.append(("fds back to the start value (%d -> %d, %d idle)"
                        % (s["fds"], last["fds"], idle["fds"]), last["fds"] <= s["fds"]))
        results.append(("threads back to the value after cycle 1 (%d -> %d, %d idle)"
                        % (one["threads"], last["threads"], idle["threads"]),
                        last["threads"] <= one["threads"]))
        extra = sorted(set(idle["names"]) - set(s["names"]))
        out("threads, fresh start -> 20 s after the last cycle: %d -> %d (%s)"
            % (s["threads"], idle["threads"],
               "extra: " + " ".join(extra) if extra else "no extra thread"))
        if idle["threads"] > s["threads"]:
            results.append(("threads back to the fresh start value after 20 s idle "
                            "(%d -> %d; GstSystemClock's thread, started by the first flow, "
                            "lives as long as the process)" % (s["threads"], idle["threads"]),
                            idle["threads"] - s["threads"] <= 1 and extra == ["GstSystemClock"]))
        # the first flow loads GStreamer's plugins (about 4 MB, once per
        # process): the target is on what the cycles leave behind, from the
        # first cycle on; the growth from the fresh process is printed too
        g = last["rss_mb"] - s["rss_mb"]
        out("RSS growth fresh process -> cycle %d: %+.1f MB (of which fresh -> cycle 1, "
            "the plugins loaded by the first flow: %+.1f MB)"
            % (cfg.cycles, g, marks[1]["rss_mb"] - s["rss_mb"] if 1 in marks else float("nan")))
        if 1 in marks and cfg.cycles > 1:
            g1 = last["rss_mb"] - marks[1]["rss_mb"]
            results.append(("RSS growth cycle 1 -> cycle %d: %+.1f MB < %.0f MB"
                            % (cfg.cycles, g1, RSS_TARGET_MB), g1 < RSS_TARGET_MB))
        if 100 in marks and cfg.cycles > 100:
            g2 = last["rss_mb"] - marks[100]["rss_mb"]
            out("RSS growth cycle 100 -> cycle %d: %+.1f MB (%.1f kB per cycle)"
                % (cfg.cycles, g2, 1024 * g2 / (cfg.cycles - 100)))
    results.append(("every answer as expected", not errors))
    results.append(("controller alive", alive))
    for what, ok in results:
        out("  %s: %s" % (verdict(ok), what))
    out()
    return all(ok for _, ok in results)


# ------------------------------------------------------------------ part 2

class Writer(threading.Thread):
    """One client thread of part 2: `n` writes on flows of its own, each
    recorded with its answer (2xx: acknowledged; other: refused; None: no
    answer, the controller was killed)."""

    def __init__(self, idx, n, port_fn, rng, sent, kill_at, killed, out_port):
        super().__init__(daemon=True)
        self.idx, self.n, self.port_fn, self.rng = idx, n, port_fn, rng
        self.sent, self.kill_at, self.killed = sent, kill_at, killed
        self.out_port = out_port
        self.flows = []       # dicts: id, ops [(op, arg, code)], known state
        self.unanswered_creates = 0
        self.acked = 0
        self.refused = 0
        self.unanswered = 0
        self.error = None

    def call(self, method, path, body=None):
        with self.sent["lock"]:
            self.sent["n"] += 1
            if self.sent["n"] >= self.kill_at:
                self.sent["go"].set()
        try:
            code, data = api(self.port_fn(), method, path, body, timeout=10)
        except (OSError, http.client.HTTPException):
            self.unanswered += 1
            return None, None
        if 200 <= code < 300:
            self.acked += 1
        else:
            self.refused += 1
        return code, data

    def live(self):
        return [f for f in self.flows if f["exists"] is True]

    def run(self):
        rng = self.rng
        serial = 0
        try:
            for _ in range(self.n):
                if self.killed.is_set():
                    return
                flows = self.live()
                if not flows or (len(flows) < 3 and rng.random() < 0.15):
                    sport = self.port_fn("source")
                    body = {"name": "w%d-%d" % (self.idx, serial),
                            "source": {"name": "in", "protocol": "udp", "ingest_port": sport,
                                       "ingest_address": HOST},
                            "outputs": [{"name": "o0", "protocol": "udp", "destination": HOST,
                                         "port": self.out_port}]}
                    serial += 1
                    code, data = self.call("POST", "/v1/flows", body)
                    if code == 201:
                        self.flows.append({"id": data["id"], "exists": True,
                                           "ops": [("create", None, code)],
                                           "outputs": {"o0": True}, "running": False, "n": 1})
                    elif code is None:
                        self.unanswered_creates += 1
                    continue
                f = rng.choice(flows)
                fid = f["id"]
                r = rng.random()
                present = [k for k, v in f["outputs"].items() if v is True]
                if r < 0.06:
                    code, _ = self.call("DELETE", "/v1/flows/%s" % fid)
                    f["ops"].append(("delete", None, code))
                    f["exists"] = False if code == 204 else (None if code is None else True)
                elif r < 0.40:
                    name = "o%d" % f["n"]
                    f["n"] += 1
                    code, _ = self.call("POST", "/v1/flows/%s/outputs" % fid,
                                        {"name": name, "protocol": "udp", "destination": HOST,
                                         "port": self.out_port})
                    f["ops"].append(("add", name, code))
                    f["outputs"][name] = True if code == 201 else (None if code is None else False)
                elif r < 0.65 and present:
                    name = rng.choice(present)
                    code, _ = self.call("DELETE", "/v1/flows/%s/outputs/%s" % (fid, name))
                    f["ops"].append(("remove", name, code))
                    f["outputs"][name] = False if code == 200 else (None if code is None else True)
                elif not f["running"]:
                    code, _ = self.call("POST", "/v1/flows/%s/start" % fid)
                    f["ops"].append(("start", None, code))
                    f["running"] = True if code == 200 else (None if code is None else f["running"])
                else:
                    code, _ = self.call("POST", "/v1/flows/%s/stop" % fid)
                    f["ops"].append(("stop", None, code))
                    f["running"] = False if code == 200 else (None if code is None else f["running"])
                if code is None and not self.killed.is_set():
                    # no answer before the kill: a real failure, keep it
                    self.error = "no answer before the kill"
        except Exception as e:  # reported with the round
            self.error = "%s: %s" % (e.__class__.__name__, e)


def integrity(db_path):
    con = sqlite3.connect(db_path, timeout=10)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
        return ", ".join(str(r[0]) for r in rows)
    finally:
        con.close()


def verify_round(port, writers, run_wait):
    """Checks every acknowledged write against the restarted controller.
    Returns (checked, lost list, not running again list)."""
    lost, not_running, checked = [], [], 0
    must_run = []
    for w in writers:
        for f in w.flows:
            fid = f["id"]
            try:
                code, g = api(port, "GET", "/v1/flows/%s" % fid, timeout=10)
            except (OSError, http.client.HTTPException) as e:
                lost.append("%s: GET failed (%s)" % (fid, e))
                continue
            if f["exists"] is True:
                checked += 1
                if code != 200:
                    lost.append("%s: created (201) but GET answers %d" % (fid, code))
                    continue
            elif f["exists"] is False:
                checked += 1
                if code != 404:
                    lost.append("%s: deleted (204) but GET answers %d" % (fid, code))
                continue
            elif code != 200:
                continue         # a delete without answer took effect
            names = {o["name"] for o in g.get("outputs", [])}
            for name, want in f["outputs"].items():
                if want is None:
                    continue
                checked += 1
                if want and name not in names:
                    lost.append("%s: output %s added (201) but missing" % (fid, name))
                if not want and name in names:
                    lost.append("%s: output %s removed (200) but still there" % (fid, name))
            if f["running"] is True:
                checked += 1
                must_run.append(fid)
            elif f["running"] is False and any(op[0] == "stop" and op[2] == 200 for op in f["ops"]):
                checked += 1
                if g.get("status") not in ("STANDBY", "STOPPING"):
                    lost.append("%s: stopped (200) but %s after the restart" % (fid, g.get("status")))
    deadline = time.monotonic() + run_wait
    for fid in must_run:
        st = wait_status(port, fid, ("ACTIVE", "STARTING"), max(0.2, deadline - time.monotonic()))
        if st not in ("ACTIVE", "STARTING"):
            not_running.append("%s: started (200) but %s %.0f s after the restart" % (fid, st, run_wait))
    return checked, lost, not_running, len(must_run)


def part2(cfg, tmp):
    out("== part 2: %d rounds of %d writes from %d clients, kill -9 at a random moment, "
        "restart on the same database" % (cfg.rounds, cfg.writes, cfg.clients))
    rng = random.Random("%s-part2" % cfg.seed)
    totals = {"sent": 0, "acked": 0, "refused": 0, "unanswered": 0, "checked": 0, "lost": 0,
              "restarts": 0, "integrity_bad": 0, "not_running": 0, "must_run": 0,
              "thread_errors": 0, "restart_s": []}
    examples = []
    sink = udp_socket(free_port(), rcvbuf=65536)          # every output sends here
    out_port = sink.getsockname()[1]
    t0 = time.monotonic()
    try:
        for rnd in range(1, cfg.rounds + 1):
            rdir = tempfile.mkdtemp(prefix="round-%d-" % rnd, dir=tmp)
            db = os.path.join(rdir, "mroute.db")
            ctl = Mroute(cfg, db_path=db).start(timeout=20)
            used = {out_port}
            used_lock = threading.Lock()
            api_port = ctl.port

            def port_fn(what=None):
                if what == "source":
                    with used_lock:
                        return free_ports(1, used)[0]
                return api_port

            sent = {"n": 0, "lock": threading.Lock(), "go": threading.Event()}
            kill_at = rng.randint(1, cfg.writes - 1)
            killed = threading.Event()
            per = [cfg.writes // cfg.clients + (1 if i < cfg.writes % cfg.clients else 0)
                   for i in range(cfg.clients)]
            writers = [Writer(i, per[i], port_fn, random.Random("%s-%d-%d" % (cfg.seed, rnd, i)),
                              sent, kill_at, killed, out_port) for i in range(cfg.clients)]
            for w in writers:
                w.start()
            sent["go"].wait(60)
            time.sleep(rng.uniform(0, 0.03))
            killed.set()
            ctl.kill9()
            for w in writers:
                w.join(30)
            check = integrity(db)
            t_restart = time.monotonic()
            ctl2 = Mroute(cfg, db_path=db)
            try:
                ctl2.start(timeout=30)
                totals["restart_s"].append(time.monotonic() - t_restart)
                totals["restarts"] += 1
                checked, lost, not_running, must_run = verify_round(ctl2.port, writers,
                                                                    cfg.run_wait)
            except RuntimeError as e:
                checked, lost, not_running, must_run = 0, ["restart failed: %s" % e], [], 0
            finally:
                ctl2.close()
                ctl.close()
            for w in writers:
                totals["acked"] += w.acked
                totals["refused"] += w.refused
                totals["unanswered"] += w.unanswered
                if w.error:
                    totals["thread_errors"] += 1
                    examples.append("round %d client %d: %s" % (rnd, w.idx, w.error))
            totals["sent"] += sent["n"]
            totals["checked"] += checked
            totals["lost"] += len(lost)
            totals["not_running"] += len(not_running)
            totals["must_run"] += must_run
            if check != "ok":
                totals["integrity_bad"] += 1
                examples.append("round %d: integrity_check: %s" % (rnd, check[:300]))
            for x in (lost + not_running)[:5]:
                examples.append("round %d: %s" % (rnd, x))
            bad = lost or not_running or check != "ok"
            if bad:
                keep = os.path.join(cfg.keep, "part2-round-%d" % rnd)
                shutil.copytree(rdir, keep, dirs_exist_ok=True)
                examples.append("round %d: database kept in %s" % (rnd, keep))
            shutil.rmtree(rdir, ignore_errors=True)
            log("round %d: killed after %d of %d writes, integrity %s, %d checked, %d lost, "
                "%d/%d running again" % (rnd, sent["n"], cfg.writes, check, checked, len(lost),
                                         must_run - len(not_running), must_run))
    finally:
        sink.close()
    elapsed = time.monotonic() - t0
    rs = totals["restart_s"]
    out("rounds: %d in %.0f s; restarts: %d (time to /health: median %.2f s, max %.2f s)"
        % (cfg.rounds, elapsed, totals["restarts"],
           statistics.median(rs) if rs else 0, max(rs) if rs else 0))
    out("writes sent: %d (the rest of each round's %d after the kill were not sent); "
        "acknowledged (2xx): %d; refused (4xx, e.g. 409 start of a running flow): %d; "
        "no answer (in flight at the kill, or sent just after it): %d"
        % (totals["sent"], cfg.writes, totals["acked"], totals["refused"], totals["unanswered"]))
    out("effects of acknowledged writes checked after the restart: %d" % totals["checked"])
    out("lost: %d" % totals["lost"])
    out("acknowledged running flows: %d, not ACTIVE/STARTING within %.0f s of the restart: %d"
        % (totals["must_run"], cfg.run_wait, totals["not_running"]))
    out("PRAGMA integrity_check not ok: %d of %d" % (totals["integrity_bad"], cfg.rounds))
    for x in examples[:20]:
        out("  " + x)
    results = [("lost acknowledged writes = 0 (%d)" % totals["lost"], totals["lost"] == 0),
               ("integrity_check ok after every kill", totals["integrity_bad"] == 0),
               ("running flows run again (%d of %d)" % (totals["must_run"] - totals["not_running"],
                                                       totals["must_run"]),
                totals["not_running"] == 0),
               ("every restart answered /health", totals["restarts"] == cfg.rounds),
               ("no client saw a failure before the kill", totals["thread_errors"] == 0)]
    for what, ok in results:
        out("  %s: %s" % (verdict(ok), what))
    out()
    return all(ok for _, ok in results)


# ------------------------------------------------------------------ part 3

class SourceKind:
    """How to feed, kill and restore one kind of source.  `start()` starts
    the sender (or the peer the controller calls), `kill()` kills it with
    SIGKILL; `spec` is the flow's source."""

    def __init__(self, kind, cfg, children, clip, tmp, used):
        self.kind, self.cfg, self.children, self.clip, self.tmp = kind, cfg, children, clip, tmp
        self.procs = []
        self.rtmp = None
        self.n = 0
        if kind == "rist":
            self.port = free_ports(1, used, count=2, even=True)[0]
            self.feed = free_ports(1, used)[0]
        elif kind == "rtmp":
            self.port = None
        else:
            self.port = free_ports(1, used, count=2)[0]
        if kind == "udp":
            self.spec = {"protocol": "udp", "ingest_port": self.port, "ingest_address": HOST}
        elif kind == "rtp":
            self.spec = {"protocol": "rtp", "ingest_port": self.port, "ingest_address": HOST}
        elif kind == "srt-listener":
            self.spec = {"protocol": "srt-listener", "ingest_port": self.port,
                         "ingest_address": HOST, "max_latency": 200}
        elif kind == "srt-caller":
            self.spec = {"protocol": "srt-caller", "destination": HOST, "port": self.port,
                         "max_latency": 200}
        elif kind == "rist":
            self.spec = {"protocol": "rist", "ingest_port": self.port, "ingest_address": HOST,
                         "max_latency": 200}
        elif kind == "rtmp":
            import rtmp_server
            self.rtmp = rtmp_server.RtmpServer(free_ports(1, used, kind=socket.SOCK_STREAM)[0])
            self.spec = {"protocol": "rtmp", "destination": self.rtmp.base_url,
                         "stream_id": "soak"}
        self.spec["name"] = "in"

    def _sender(self, url, fmt):
        self.n += 1
        p = ffmpeg_sender(self.children, self.clip, url, fmt,
                          os.path.join(self.tmp, "p3-%s-%d.log" % (self.kind, self.n)))
        self.procs.append(p)
        return p

    def start(self, server=True):
        k, port = self.kind, self.port
        if k == "udp":
            self._sender("udp://%s:%d?pkt_size=1316" % (HOST, port), "mpegts")
        elif k == "rtp":
            self._sender("rtp://%s:%d?pkt_size=1328" % (HOST, port), "rtp_mpegts")
        elif k == "srt-listener":
            self._sender("srt://%s:%d?mode=caller&pkt_size=1316&latency=200000" % (HOST, port),
                         "mpegts")
        elif k == "srt-caller":
            self._sender("srt://%s:%d?mode=listener&pkt_size=1316&latency=200000" % (HOST, port),
                         "mpegts")
        elif k == "rist":
            # ffmpeg's librist speaks the main profile: gst's ristsink (the
            # simple profile, as the pipelines/ script) sends, fed by ffmpeg
            self.n += 1
            gst = self.children.spawn(
                ["gst-launch-1.0", "-q", "udpsrc", "port=%d" % self.feed, "address=%s" % HOST,
                 "caps=video/mpegts,systemstream=true,packetsize=188", "!", "rtpmp2tpay", "!",
                 "ristsink", "address=%s" % HOST, "port=%d" % port],
                os.path.join(self.tmp, "p3-rist-gst-%d.log" % self.n))
            self.procs.append(gst)
            self._sender("udp://%s:%d?pkt_size=1316" % (HOST, self.feed), "mpegts")
        elif k == "rtmp":
            if server:
                self.rtmp.start(timeout=15)
            self._sender(self.rtmp.url("soak"), "flv")

    def exited(self):
        """The sender processes that have exited (a caller that could not
        connect, a publisher whose server was not there yet)."""
        return [p for p in self.procs if p.poll() is not None]

    def restart_exited(self):
        """Starts again what exited, as an encoder that retries does; the
        RTMP server stays.  Returns how many processes had exited."""
        gone = self.exited()
        if gone:
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(5)
            self.procs = []
            if self.rtmp is not None and not self.rtmp.running():
                self.rtmp.start(timeout=15)
            self.start(server=False)
        return len(gone)

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        self.procs = []
        if self.rtmp is not None:
            self.rtmp.kill9()
            self.rtmp.stop()      # waits until the port no longer accepts

    def close(self):
        self.kill()
        if self.rtmp is not None:
            self.rtmp.close()

    def describe(self):
        return {"udp": "ffmpeg -f mpegts udp://",
                "rtp": "ffmpeg -f rtp_mpegts rtp://",
                "srt-listener": "ffmpeg -f mpegts srt://...?mode=caller",
                "srt-caller": "ffmpeg -f mpegts srt://...?mode=listener (the peer it calls)",
                "rist": "ffmpeg -f mpegts udp:// into gst-launch udpsrc ! rtpmp2tpay ! ristsink "
                        "(both killed and started again)",
                "rtmp": "nginx-rtmp killed and restarted, ffmpeg -f flv publisher with it",
                }[self.kind]


def part3_kind(cfg, children, clip, tmp, kind):
    used = set()
    src = SourceKind(kind, cfg, children, clip, tmp, used)
    oport = free_ports(1, used)[0]
    watch = OutputWatch([oport])
    watch.start()
    ctl = Mroute(cfg).start(timeout=20)
    res = {"kind": kind, "rounds": 0, "times": [], "never": 0, "setup": None, "not_run": 0,
           "sender_retries": 0,
           "quiet_fail": 0, "events": {}, "status": None, "alive": True, "how": src.describe()}
    try:
        src.start()
        code, f = api(ctl.port, "POST", "/v1/flows",
                      {"name": "soak-%s" % kind, "source": src.spec,
                       "outputs": [{"name": "out", "protocol": "udp", "destination": HOST,
                                    "port": oport}]})
        if code != 201:
            res["setup"] = "POST /v1/flows answered %s: %s" % (code, f)
            return res
        fid = f["id"]
        res["flow"] = fid
        t_start = time.monotonic()
        code, _ = api(ctl.port, "POST", "/v1/flows/%s/start" % fid)
        if code != 200 or watch.wait_after(oport, t_start, 30) is None:
            res["setup"] = ("no output 30 s after the start (start answered %s, status %s)"
                            % (code, wait_status(ctl.port, fid, (), 0)))
            return res
        time.sleep(1.0)
        consecutive = 0
        for rnd in range(1, cfg.kills + 1):
            if not ctl.alive():
                res["alive"] = False
                res["setup"] = "the controller died (exit %s) in round %d:\n%s" % (
                    ctl.proc.returncode, rnd, ctl.log_tail())
                break
            res["rounds"] = rnd
            t_kill = time.monotonic()
            src.kill()
            if not watch.wait_quiet(oport, 0.3, 10):
                res["quiet_fail"] += 1
            time.sleep(max(0.0, t_kill + cfg.downtime - time.monotonic()))
            t_back = time.monotonic()
            src.start()
            got = None
            deadline = t_back + cfg.resume_timeout
            while got is None and time.monotonic() < deadline:
                got = watch.wait_after(oport, t_back, min(1.0, deadline - time.monotonic()))
                if got is None and src.exited():
                    time.sleep(1.0)       # an encoder would retry, after a second
                    res["sender_retries"] += src.restart_exited()
            if got is None:
                res["never"] += 1
                consecutive += 1
                log("%s round %d: no output %.0f s after the source came back (status %s)"
                    % (kind, rnd, cfg.resume_timeout, wait_status(ctl.port, fid, (), 0)))
                if consecutive >= cfg.give_up:
                    res["not_run"] = cfg.kills - rnd
                    log("%s: %d rounds in a row never resumed: the remaining %d not run"
                        % (kind, consecutive, res["not_run"]))
                    break
            else:
                consecutive = 0
                res["times"].append(got - t_back)
                log("%s round %d: first byte out %.3f s after the source's return"
                    % (kind, rnd, got - t_back))
                time.sleep(1.0)      # let it run before the next kill
        try:
            _, ev = api(ctl.port, "GET", "/v1/flows/%s/events?limit=10000" % fid)
            for e in ev.get("events", []):
                res["events"][e["type"]] = res["events"].get(e["type"], 0) + 1
            res["status"] = wait_status(ctl.port, fid, (), 0)
        except (OSError, http.client.HTTPException, AttributeError):
            pass
    finally:
        res["alive"] = res["alive"] and ctl.alive()
        if not res["alive"] and ctl.proc is not None:
            res["log"] = ctl.log_tail()
        ctl.close()
        src.close()
        watch.close()
    return res


def sender_startup(children, clip, tmp, runs=5):
    """Seconds from the start of an ffmpeg sender to its first datagram on
    a socket of ours: what every part 3 figure includes."""
    times = []
    for i in range(runs):
        port = free_port()
        watch = OutputWatch([port])
        watch.start()
        try:
            t = time.monotonic()
            p = ffmpeg_sender(children, clip, "udp://%s:%d?pkt_size=1316" % (HOST, port), "mpegts",
                              os.path.join(tmp, "p3-startup-%d.log" % i))
            got = watch.wait_after(port, t, 10)
            if got is not None:
                times.append(got - t)
            Children.end(p, signal.SIGKILL, 5)
        finally:
            watch.close()
    return times


def part3(cfg, children, clip, tmp):
    out("== part 3: %d kills per kind of source (kill -9 the sender or peer, %.1f s down, "
        "start it again), UDP output read here" % (cfg.kills, cfg.downtime))
    startup = sender_startup(children, clip, tmp)
    rows = []
    for kind in cfg.kinds:
        log("part 3: %s" % kind)
        try:
            rows.append(part3_kind(cfg, children, clip, tmp, kind))
        except (SoakError, RuntimeError, OSError) as e:
            rows.append({"kind": kind, "setup": "%s: %s" % (e.__class__.__name__, e), "rounds": 0,
                         "sender_retries": 0,
                         "times": [], "never": 0, "not_run": cfg.kills, "events": {},
                         "status": None, "alive": True, "quiet_fail": 0, "how": ""})
    out("%-13s %6s %7s %5s %8s %8s %8s %8s %8s  %s" % (
        "source", "rounds", "resumed", "never", "p50 s", "p99 s", "max s", "not run",
        "retries", "flow status, events"))
    ok = True
    for r in rows:
        t = r["times"]
        evs = ", ".join("%s %d" % kv for kv in sorted(r["events"].items())
                        if kv[0] not in ("flow_started",))
        out("%-13s %6d %7d %5d %8s %8s %8s %8d %8d  %s; %s" % (
            r["kind"], r["rounds"], len(t), r["never"],
            "%.3f" % percentile(t, 50) if t else "-", "%.3f" % percentile(t, 99) if t else "-",
            "%.3f" % max(t) if t else "-", r["not_run"], r["sender_retries"], r["status"],
            evs or "no events"))
        if r["setup"]:
            out("    %s: %s" % (r["kind"], r["setup"][:1500]))
        if r["quiet_fail"]:
            out("    %s: the output did not go quiet within 10 s of %d kill(s)"
                % (r["kind"], r["quiet_fail"]))
        if r.get("log"):
            out("    controller log:\n" + r["log"])
        ok = ok and not r["setup"] and r["never"] == 0 and r["alive"] and r["rounds"] == cfg.kills
    out("senders: " + "; ".join("%s: %s" % (r["kind"], r["how"]) for r in rows if r["how"]))
    out("time: from the start of the new sender process (or nginx) to the first datagram at "
        "the flow's UDP output; a round 'never' resumed got nothing in %.0f s; retries: sender "
        "processes that exited before the output resumed (an SRT caller refused, a publisher "
        "too early), started again after 1 s" % cfg.resume_timeout)
    if startup:
        out("for scale: ffmpeg's own start-up, process start to its first datagram on a bare UDP "
            "socket (no controller), %d runs: p50 %.3f s, max %.3f s"
            % (len(startup), percentile(startup, 50), max(startup)))
    out("  %s: every kind resumed after every kill" % verdict(ok))
    out()
    return ok


# ------------------------------------------------------------------ part 4

def exchange(raw, info, port, timeout):
    """Sends one raw request and reads the answer's status line: returns
    (status or None, what happened)."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        head_end = raw.find(b"\r\n\r\n")
        split = head_end + 4 if head_end >= 0 else len(raw)
        if head_end < 0 and raw.find(b"\n\n") >= 0:
            split = raw.find(b"\n\n") + 2
        try:
            s.sendall(raw[:split])
            body = raw[split:]
            if body:
                # an answer decided from the headers (413, 411, 401) may come
                # before the body: then the body is not sent, unless that
                # answer is 100 Continue
                r, _, _ = select.select([s], [], [], 0.05 if len(body) > 65536 else 0)
                if not r or s.recv(16, socket.MSG_PEEK).split(b" ")[1:2] == [b"100"]:
                    s.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if info["truncated"]:
            return None, "truncated"
        data = b""
        deadline = time.monotonic() + timeout
        while True:
            while b"\r\n" not in data:
                rem = deadline - time.monotonic()
                if rem <= 0:
                    return None, "no answer in %.0f s" % timeout
                s.settimeout(rem)
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    return None, "no answer in %.0f s" % timeout
                except ConnectionResetError:
                    return None, "reset without answer"
                if not chunk:
                    return None, "closed without answer"
                data += chunk
            line = data.split(b"\r\n", 1)[0].split()
            if not (len(line) >= 2 and line[0].startswith(b"HTTP/") and line[1].isdigit()):
                return None, "not HTTP: %r" % data[:60]
            status = int(line[1])
            if status != 100:
                return status, "answer"
            # the interim answer to Expect: 100-continue: read on
            end = data.find(b"\r\n\r\n")
            if end < 0:
                data += s.recv(65536)
                end = data.find(b"\r\n\r\n")
                if end < 0:
                    return None, "incomplete 100 Continue"
            data = data[end + 4:]
    finally:
        s.close()


def part4(cfg, children, clip, tmp):
    used = set()
    sport, oport, rport, dport = free_ports(4, used)
    ctx = {"max_body": MAX_BODY}
    db = os.path.join(tmp, "p4.db")
    if cfg.replay is not None:
        ctl = Mroute(cfg, db_path=db).start(timeout=20)
        try:
            ctx.update(live_id="flow_live0000000", decoy_id="flow_decoy000000")
            raw, info = soak_garbage.request(cfg.seed, cfg.replay, ctx)
            out("request %d of seed %s (%d bytes): %r" % (cfg.replay, cfg.seed, len(raw),
                                                         raw[:600]))
            out("answer: %r; controller %s" % (exchange(raw, info, ctl.port, 5),
                                              "alive" if ctl.alive() else "DEAD"))
            if not ctl.alive():
                out(ctl.log_tail())
        finally:
            ctl.close()
        return True
    out("== part 4: %d garbage requests against a controller with one live flow (seed %s)"
        % (cfg.requests, cfg.seed))
    # one sender, two copies: the flow's input and a reference read here
    sender = ffmpeg_sender(children, clip,
                           "[f=mpegts]udp://%s:%d?pkt_size=1316|[f=mpegts]udp://%s:%d?pkt_size=1316"
                           % (HOST, sport, HOST, rport), "tee", os.path.join(tmp, "p4-sender.log"))
    watch = OutputWatch([oport, rport], check_cc=True)
    watch.start()
    ctl = Mroute(cfg, db_path=db).start(timeout=20)
    counts = {}
    firsts = {}
    fivexx = []
    crashes = []
    slow = []
    t0 = time.monotonic()
    try:
        code, f = api(ctl.port, "POST", "/v1/flows",
                      {"name": "live-%s" % os.urandom(6).hex(),
                       "source": {"name": "in", "protocol": "udp", "ingest_port": sport,
                                  "ingest_address": HOST},
                       "outputs": [{"name": "out", "protocol": "udp", "destination": HOST,
                                    "port": oport}]})
        if code != 201:
            raise SoakError("creating the live flow answered %s: %s" % (code, f))
        live = f["id"]
        code, f = api(ctl.port, "POST", "/v1/flows",
                      {"name": "decoy-%s" % os.urandom(6).hex(),
                       "source": {"name": "primary", "protocol": "udp", "ingest_port": dport,
                                  "ingest_address": HOST},
                       "outputs": [{"name": "out", "protocol": "udp", "destination": HOST,
                                    "port": dport}]})
        decoy = f["id"]
        ctx.update(live_id=live, decoy_id=decoy)
        t_start = time.monotonic()
        api(ctl.port, "POST", "/v1/flows/%s/start" % live)
        if watch.wait_after(oport, t_start, 20) is None:
            raise SoakError("the live flow delivered nothing in 20 s")
        time.sleep(2)
        with watch.lock:
            base = {p: dict(watch.stats[p], cc={}) for p in (oport, rport)}
            for p in (oport, rport):
                watch.stats[p].update(max_gap=0.0, gaps_over=0, cc_errors=0, bad_sync=0)
        t_garbage = time.monotonic()
        recent = []
        for i in range(cfg.requests):
            raw, info = soak_garbage.request(cfg.seed, i, ctx)
            recent = (recent + [(i, info)])[-5:]
            t_req = time.monotonic()
            try:
                status, what = exchange(raw, info, ctl.port, cfg.answer_timeout)
            except ConnectionRefusedError:
                status, what = None, "connection refused"
            except OSError as e:
                status, what = None, "%s" % e.__class__.__name__
            dt = time.monotonic() - t_req
            if dt > 1.0:
                slow.append((dt, i, info["method"], info["path"]))
            key = "%dxx" % (status // 100) if status else what.split(":")[0]
            if key.startswith("no answer"):
                key = "no answer"
            counts[key] = counts.get(key, 0) + 1
            if not status:
                firsts.setdefault(key, [])
                if len(firsts[key]) < 3:
                    firsts[key].append(i)
            if status == 505 and info["version"] not in ("HTTP/1.0", "HTTP/1.1"):
                key = "505 to a version not 1.x"
                counts["5xx"] -= 1
                counts[key] = counts.get(key, 0) + 1
            elif status and status >= 500:
                fivexx.append((i, status, info["method"], info["path"]))
            if not ctl.alive():
                code = ctl.proc.returncode
                crashes.append({"index": i, "exit": code, "recent": list(recent),
                                "log": ctl.log_tail()})
                log("the controller died at request %d (exit %s): restarting it" % (i, code))
                ctl.proc = None
                ctl.log.close()
                ctl.close()
                ctl = Mroute(cfg, db_path=db).start(timeout=30)
            if (i + 1) % 1000 == 0:
                log("%d requests (%.0f s)" % (i + 1, time.monotonic() - t_garbage))
        t_end = time.monotonic()
        time.sleep(1.0)
        try:
            health = api(ctl.port, "GET", "/health", timeout=5)
        except (OSError, http.client.HTTPException) as e:
            health = (None, str(e))
        alive = ctl.alive()
        live_status = wait_status(ctl.port, live, (), 0)
        with watch.lock:
            st = {p: dict(watch.stats[p]) for p in (oport, rport)}
    finally:
        ctl.close()
        watch.close()
        Children.end(sender, signal.SIGTERM, 5)
    elapsed = t_end - t_garbage
    o, r = st[oport], st[rport]
    out("requests: %d in %.0f s (%.0f/s); answers by class:" % (cfg.requests, elapsed,
                                                                cfg.requests / elapsed))
    for key in sorted(counts):
        out("  %-28s %6d%s" % (key, counts[key], "" if key not in firsts else
                                "   (e.g. requests %s)" % ", ".join(map(str, firsts[key]))))
    out("(truncated: a Content-Length larger than the body sent, the socket closed at once; "
        "no answer: none within %.0f s)" % cfg.answer_timeout)
    out("(505 HTTP Version Not Supported to a request line with HTTP/2.0, HTTP/1.x or no "
        "version is the right answer and not counted as a 5xx below)")
    out("5xx: %d%s" % (len(fivexx), "" if not fivexx else "; first: %s" % fivexx[:5]))
    out("answers slower than 1 s: %d%s" % (len(slow), "" if not slow else
                                            "; slowest: %.1f s, request %d %s %s" % max(slow)))
    out("crashes: %d; at the end: process %s, /health %s, live flow %s"
        % (len(crashes), "alive" if alive else "DEAD", health[0], live_status))
    for c in crashes[:3]:
        out("  crash at request %d (exit %s); the requests before it: %s"
            % (c["index"], c["exit"], ", ".join("%d %s %s" % (j, x["method"], x["path"][:40])
                                                for j, x in c["recent"])))
        out("  replay: python3 bench/soak.py --build %s --part 4 --seed %s --replay %d"
            % (cfg.build_arg, cfg.seed, c["index"]))
        out("  log tail:\n" + c["log"][-1500:])
    window = "over the %.0f s of garbage (after %d s of flow)" % (elapsed, 2)
    out("live flow output %s: %d datagrams, longest gap %.3f s, gaps over %.1f s: %d, "
        "TS continuity errors %d, bad sync bytes %d"
        % (window, o["dgrams"] - base[oport]["dgrams"], o["max_gap"], GAP_TARGET_S,
           o["gaps_over"], o["cc_errors"], o["bad_sync"]))
    out("sender's reference copy (the same ffmpeg, read here): longest gap %.3f s, gaps over "
        "%.1f s: %d, continuity errors %d" % (r["max_gap"], GAP_TARGET_S, r["gaps_over"],
                                               r["cc_errors"]))
    in_rate = (r["bytes"] - base[rport]["bytes"]) * 8 / max(1e-9, time.monotonic() - t_garbage) / 1e6
    out("input: about %.1f Mbit/s (%s)" % (in_rate, os.path.basename(clip)))
    results = [("5xx = 0 (%d)" % len(fivexx), not fivexx),
               ("crashes = 0 (%d), process alive and /health 200 at the end" % len(crashes),
                not crashes and alive and health[0] == 200),
               ("live flow output never stopped: longest gap %.3f s <= %.1f s"
                % (o["max_gap"], GAP_TARGET_S), o["max_gap"] <= GAP_TARGET_S),
               ("live flow output without TS continuity errors (%d)" % o["cc_errors"],
                o["cc_errors"] == 0)]
    for what, ok in results:
        out("  %s: %s" % (verdict(ok), what))
    out()
    return all(ok for _, ok in results)


# -------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--part", default="1,2,3,4", help="parts to run, e.g. 1,4 (default: all)")
    ap.add_argument("--cycles", type=int, default=1000, help="part 1: cycles (default 1000)")
    ap.add_argument("--rounds", type=int, default=100, help="part 2: rounds (default 100)")
    ap.add_argument("--writes", type=int, default=200, help="part 2: writes per round (200)")
    ap.add_argument("--clients", type=int, default=4, help="part 2: client threads (4)")
    ap.add_argument("--run-wait", type=float, default=5.0,
                    help="part 2: seconds a running flow has to be ACTIVE/STARTING again (5)")
    ap.add_argument("--kills", type=int, default=100, help="part 3: kills per kind (100)")
    ap.add_argument("--kinds", default=",".join(KINDS), help="part 3: kinds of source (all)")
    ap.add_argument("--downtime", type=float, default=2.0,
                    help="part 3: seconds between a kill and the restart (2)")
    ap.add_argument("--resume-timeout", type=float, default=40.0,
                    help="part 3: seconds to wait for output after the return (40: past the "
                         "30 s back-off)")
    ap.add_argument("--give-up", type=int, default=3,
                    help="part 3: stop a kind after this many rounds in a row never resumed (3)")
    ap.add_argument("--requests", type=int, default=10000, help="part 4: requests (10000)")
    ap.add_argument("--answer-timeout", type=float, default=5.0,
                    help="part 4: seconds to wait for each answer (5)")
    ap.add_argument("--seed", default=str(int(time.time())),
                    help="seed of parts 2 and 4 (default: the time); printed")
    ap.add_argument("--replay", type=int, default=None,
                    help="part 4: send only request REPLAY of --seed to a fresh controller")
    cfg = ap.parse_args(argv)
    try:
        cfg.parts = sorted({int(x) for x in cfg.part.split(",") if x.strip()})
    except ValueError:
        ap.error("--part: numbers 1 to 4")
    if not cfg.parts or any(p not in (1, 2, 3, 4) for p in cfg.parts):
        ap.error("--part: numbers 1 to 4")
    cfg.kinds = [k.strip() for k in cfg.kinds.split(",") if k.strip()]
    if any(k not in KINDS for k in cfg.kinds):
        ap.error("--kinds: among %s" % ",".join(KINDS))
    for name in ("cycles", "rounds", "clients", "kills", "requests", "give_up"):
        if getattr(cfg, name) < 1:
            ap.error("--%s: at least 1" % name.replace("_", "-"))
    if cfg.writes < 2 or cfg.writes < cfg.clients:
        ap.error("--writes: at least 2 and at least --clients")
    if cfg.downtime < 0:
        ap.error("--downtime: not negative")
    cfg.build_arg = cfg.build
    cfg.build = os.path.abspath(cfg.build)
    cfg.cache = os.path.join(cfg.build, "bench-cache")
    cfg.keep = os.path.join(cfg.build, "soak-failures")
    return cfg


def time_limit(cfg):
    """Seconds the whole run may take: generous per unit of work."""
    t = 300
    if 1 in cfg.parts:
        t += 60 + 20 * cfg.cycles
    if 2 in cfg.parts:
        t += 120 * cfg.rounds
    if 3 in cfg.parts:
        t += len(cfg.kinds) * (90 + cfg.kills * (cfg.downtime + cfg.resume_timeout + 25))
    if 4 in cfg.parts:
        t += 120 + 3 * cfg.requests
    return int(t)


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def on_alarm(_signum, _frame):
    raise SoakError("the soak ran past its time limit")


def main(argv):
    cfg = parse_args(argv)
    binary = os.path.join(cfg.build, "controller", "mroute")
    if not os.access(binary, os.X_OK):
        print("soak: %s is missing: build first (ninja -C %s)" % (binary, cfg.build_arg),
              file=sys.stderr)
        return 2
    if not shutil.which("ffmpeg"):
        print("soak: ffmpeg is not installed", file=sys.stderr)
        return 2
    os.makedirs(cfg.cache, exist_ok=True)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(time_limit(cfg))
    children = Children()
    tmp = tempfile.mkdtemp(prefix="mroute-soak-")
    results = {}
    try:
        out("soak: %s, %d CPU(s), seed %s, parts %s, time limit %d s"
            % (time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.cpu_count(), cfg.seed,
               ",".join(map(str, cfg.parts)), time_limit(cfg)))
        clip = None
        if any(p in cfg.parts for p in (1, 3, 4)) and cfg.replay is None:
            clip_dir, clip, _ = make_ts_clip("mroute-soak-clip-", 10, 500 * 1024)
            shutil.move(clip, os.path.join(tmp, "clip-640x360-h264-aac-3M.ts"))
            shutil.rmtree(clip_dir, ignore_errors=True)
            clip = os.path.join(tmp, "clip-640x360-h264-aac-3M.ts")
            out("clip: 10 s of 640x360 25 fps H.264 + AAC, MPEG-TS muxed at 3 Mbit/s, looped "
                "by a real-time ffmpeg sender")
        out()
        parts = {1: part1, 2: lambda c, ch, cl, t: part2(c, t), 3: part3, 4: part4}
        for p in cfg.parts:
            if cfg.replay is not None and p != 4:
                continue
            try:
                results[p] = parts[p](cfg, children, clip, tmp)
            except (SoakError, RuntimeError) as e:
                results[p] = False
                out("part %d FAILED to run: %s\n" % (p, e))
                if isinstance(e, SoakError) and "time limit" in str(e):
                    break
    finally:
        signal.alarm(0)
        children.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    out("summary: " + ", ".join("part %d %s" % (p, verdict(ok)) for p, ok in sorted(results.items())))
    return 0 if results and all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
