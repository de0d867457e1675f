#!/usr/bin/env python3
"""Fan-out benchmark: mroute against an FFmpeg `tee` relay.

One real-time sender (FFmpeg, -re) pushes a 1080p25 H.264/AAC MPEG-TS clip
over UDP to 127.0.0.1, 7 TS packets per datagram.  A relay copies every
datagram to N UDP receivers on 127.0.0.1.  The relay is either

  mroute  - the controller of this repository, one flow with one `udp`
            source and N `udp` outputs, created over its REST API;
  ffmpeg  - `ffmpeg -i udp://... -map 0 -c copy -f tee "[f=mpegts]udp://...|..."`.

Both relays run one after the other (never together) on the same running
sender.  After the relay forwards and a warm-up, the benchmark measures the
relay process from outside over a fixed window: CPU seconds (utime+stime from
/proc/PID/stat), VmRSS/VmHWM/Threads from /proc/PID/status, and the datagrams
per second arriving at the first receiver (plus mroute's own packets_sent
counter of that output).  The receivers are sockets of this Python process;
all but the first are never read (a small SO_RCVBUF, fine for send-side
figures); the first is read by a thread that only counts.

The machine is shared and noisy: read the ratios, not the absolute figures.

Standard library only.  Usage:

    python3 bench/fanout.py --build BUILDDIR [--outputs 10,50] [--seconds 30]
                            [--warmup 5] [--repeat 1] [--quick]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CLIP_NAME = "clip-1080p25-h264-aac-10M-20s.ts"
SMALL_RCVBUF = 8 * 1024          # never-read receivers: the kernel doubles it
COUNT_RCVBUF = 1024 * 1024       # the one receiver that is read
TARGET_CPU_RATIO = 0.60
TARGET_OUTPUTS = 10


class BenchError(Exception):
    pass


def log(msg):
    print("[fanout] " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------- processes

class Children:
    """Every child process this benchmark starts; `kill_all` ends them by
    their own pid (never by name)."""

    def __init__(self):
        self.procs = []

    def spawn(self, args, log_path, env=None, cwd=None):
        logf = open(log_path, "ab")
        try:
            p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, env=env, cwd=cwd)
        finally:
            logf.close()
        p.log_path = log_path
        self.procs.append(p)
        return p

    @staticmethod
    def end(p, sig=signal.SIGTERM, timeout=10):
        """Ends one child: `sig`, then SIGKILL after `timeout`.  Returns its
        exit code and whether it had to be killed."""
        killed = False
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                killed = True
                p.kill()
                p.wait(5)
        return p.returncode, killed

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    self.end(p, timeout=5)
                except Exception as e:  # keep going: end the others
                    log("could not end pid %d: %s" % (p.pid, e))
        self.procs = []


def tail(path, lines=25):
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(data[-lines:])
    except OSError:
        return "(no log)"


# ------------------------------------------------------------- /proc reads

def proc_cpu_seconds(pid):
    """CPU time of every thread of `pid`, in seconds, from the scheduler's
    own nanosecond accounting (/proc/PID/task/*/schedstat, first field).

    utime+stime in /proc/PID/stat are sampled at the tick (10 ms here): a
    relay that wakes for short bursts is then measured to +-30 % or worse
    over a 30 s window, enough to move a ratio across a target.  schedstat
    is exact."""
    total = 0
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, "schedstat")) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass    # a thread that ended between listdir and open
    return total / 1e9


def proc_tick_cpu_seconds(pid):
    """utime+stime from /proc/PID/stat (tick-sampled), printed for
    comparison with tools that use it."""
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    # the command name may hold spaces and parentheses: split after the last ')'
    fields = data[data.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])   # fields 14 and 15 of stat
    return (utime + stime) / CLK_TCK


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0     # kB -> MB
            elif key == "Threads":
                out[key] = int(value)
    return out


# --------------------------------------------------------------- receivers

class Receivers:
    """N UDP sockets bound on 127.0.0.1.  Socket 0 is read by a thread that
    counts datagrams; the others are never read during a run."""

    def __init__(self, n):
        self.socks = []
        self.count = 0
        self.bytes = 0
        self._stop = threading.Event()
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                         COUNT_RCVBUF if i == 0 else SMALL_RCVBUF)
            s.bind((HOST, 0))
            self.socks.append(s)
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.socks[0].settimeout(0.2)
        self._thread = threading.Thread(target=self._count, daemon=True)
        self._thread.start()

    def _count(self):
        buf = bytearray(65536)
        s = self.socks[0]
        while not self._stop.is_set():
            try:
                n = s.recv_into(buf)
            except socket.timeout:
                continue
            except OSError:
                return
            self.count += 1
            self.bytes += n

    def drain(self):
        """Empties the never-read sockets (call while no relay runs)."""
        for s in self.socks[1:]:
            s.setblocking(False)
            try:
                while True:
                    s.recv(65536)
            except (BlockingIOError, InterruptedError):
                pass

    def reached(self):
        """How many receivers got at least one datagram since `drain`
        (socket 0 counts when its counter moved)."""
        n = 0
        for s in self.socks[1:]:
            s.setblocking(False)
            try:
                s.recv(65536, socket.MSG_PEEK)
                n += 1
            except (BlockingIOError, InterruptedError):
                pass
        return n

    def wait_data(self, timeout):
        start = self.count
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count > start:
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self._stop.set()
        self._thread.join(2)
        for s in self.socks:
            s.close()


def free_udp_port():
    """A UDP port that is free on 127.0.0.1 and on 0.0.0.0 right now."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((HOST, 0))
        port = s.getsockname()[1]
        s.close()
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise BenchError("no free UDP port")


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------- HTTP

def http(port, method, path, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://%s:%d%s" % (HOST, port, path),
                                 data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode("utf-8", "replace")


# ------------------------------------------------------------------- clip

def make_clip(cache_dir):
    os.makedirs(cache_dir, exist_ok=True)
    clip = os.path.join(cache_dir, CLIP_NAME)
    if os.path.isfile(clip) and os.path.getsize(clip) > 1000000:
        log("clip: cached %s" % clip)
        return clip
    tmp = clip + ".part-%d" % os.getpid()
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
            "-t", "20", "-c:v", "libx264", "-preset", "ultrafast",
            "-b:v", "8M", "-g", "50", "-c:a", "aac",
            "-f", "mpegts", "-muxrate", "10M", tmp]
    log("clip: making %s (once; cached for the next runs)" % clip)
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=600)
    except subprocess.TimeoutExpired:
        raise BenchError("making the clip took more than 600 s")
    if r.returncode != 0 or not os.path.isfile(tmp):
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise BenchError("ffmpeg could not make the clip:\n" +
                         r.stderr.decode("utf-8", "replace")[-2000:])
    os.replace(tmp, clip)
    return clip


# ------------------------------------------------------------ measurement

def measure(pid, seconds, receivers, metrics=None):
    """CPU, memory and threads of `pid` over `seconds`; datagrams counted at
    receiver 0; `metrics()` (optional) returns the relay's own packets_sent
    counter of output 0."""
    m0 = metrics() if metrics else None
    c0 = receivers.count
    cpu0 = proc_cpu_seconds(pid)
    tick0 = proc_tick_cpu_seconds(pid)
    t0 = time.monotonic()
    threads = []
    rss = []
    end = t0 + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        time.sleep(min(1.0, end - now))
        st = proc_status(pid)
        threads.append(st["Threads"])
        rss.append(st["VmRSS"])
    cpu1 = proc_cpu_seconds(pid)
    tick1 = proc_tick_cpu_seconds(pid)
    t1 = time.monotonic()
    c1 = receivers.count
    st = proc_status(pid)
    m1 = metrics() if metrics else None
    wall = t1 - t0
    res = {
        "cpu_s": cpu1 - cpu0,
        "tick_cpu_s": tick1 - tick0,
        "wall_s": wall,
        "cpu_pct": 100.0 * (cpu1 - cpu0) / wall,
        "rss_mb": st["VmRSS"],
        "rss_max_mb": max(rss + [st["VmRSS"]]),
        "hwm_mb": st["VmHWM"],
        "threads": max(threads + [st["Threads"]]),
        "threads_min": min(threads + [st["Threads"]]),
        "rx_dps": (c1 - c0) / wall,
        "metrics_dps": None,
    }
    if m0 is not None and m1 is not None:
        res["metrics_dps"] = (m1 - m0) / wall
    return res


def run_mroute(cfg, children, receivers, sender_port, n, tmp):
    binary = os.path.join(cfg.build, "controller", "mroute")
    plugins = os.path.join(cfg.build, "plugins")
    if not os.access(binary, os.X_OK):
        raise BenchError("%s is missing: build first (ninja -C %s)" % (binary, cfg.build))
    run_dir = tempfile.mkdtemp(prefix="mroute-%d-" % n, dir=tmp)
    api = free_tcp_port()
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = plugins
    env["GST_REGISTRY"] = os.path.join(cfg.cache, "gst-registry.bin")
    env.pop("MROUTE_PORT", None)
    logp = os.path.join(run_dir, "mroute.log")
    p = children.spawn([binary, "--port", str(api), "--host", HOST,
                        "--db", os.path.join(run_dir, "mroute.db")],
                       logp, env=env, cwd=run_dir)
    try:
        deadline = time.monotonic() + 15
        while True:
            if p.poll() is not None:
                raise BenchError("mroute exited with %s at start:\n%s" % (p.returncode, tail(logp)))
            try:
                if http(api, "GET", "/health", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("mroute did not answer /health in 15 s:\n" + tail(logp))
            time.sleep(0.05)

        body = {
            "name": "bench-fanout-%d" % n,
            "source": {"name": "in", "protocol": "udp", "ingest_port": sender_port,
                       "ingest_address": HOST},
            "outputs": [{"name": "out%02d" % i, "protocol": "udp",
                         "destination": HOST, "port": port}
                        for i, port in enumerate(receivers.ports)],
        }
        code, flow = http(api, "POST", "/v1/flows", body)
        if code != 201:
            raise BenchError("POST /v1/flows answered %s: %r" % (code, flow))
        fid = flow["id"]
        code, answer = http(api, "POST", "/v1/flows/%s/start" % fid)
        if code != 200:
            raise BenchError("POST /v1/flows/%s/start answered %s: %r" % (fid, code, answer))

        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            status = http(api, "GET", "/v1/flows/%s" % fid)[1].get("status")
            if status == "ACTIVE":
                break
            time.sleep(0.05)
        if status != "ACTIVE":
            _, ev = http(api, "GET", "/v1/flows/%s/events?limit=20" % fid)
            _, met = http(api, "GET", "/v1/flows/%s/metrics" % fid)
            raise BenchError("flow %s with %d outputs is %s, not ACTIVE, 15 s after start\n"
                             "events: %s\nmetrics: %s\nlog:\n%s"
                             % (fid, n, status, json.dumps(ev), json.dumps(met), tail(logp)))
        if not receivers.wait_data(10):
            _, met = http(api, "GET", "/v1/flows/%s/metrics" % fid)
            raise BenchError("flow %s is ACTIVE but output out00 (127.0.0.1:%d) received "
                             "nothing in 10 s\nmetrics: %s\nlog:\n%s"
                             % (fid, receivers.ports[0], json.dumps(met), tail(logp)))
        time.sleep(cfg.warmup)

        def out0_sent():
            _, met = http(api, "GET", "/v1/flows/%s/metrics" % fid)
            for o in met.get("output_metrics", []):
                if o.get("name") == "out00":
                    return o.get("packets_sent", 0)
            return None

        _, met0 = http(api, "GET", "/v1/flows/%s/metrics" % fid)
        res = measure(p.pid, cfg.seconds, receivers, metrics=out0_sent)
        _, met1 = http(api, "GET", "/v1/flows/%s/metrics" % fid)
        src0 = (met0.get("source_metrics") or [{}])[0]
        src1 = (met1.get("source_metrics") or [{}])[0]
        res["source_dps"] = ((src1.get("packets_received", 0) - src0.get("packets_received", 0))
                             / res["wall_s"])
        res["source_lost"] = src1.get("packets_lost", 0) - src0.get("packets_lost", 0)
        res["source_kbps"] = src1.get("bitrate_kbps")
        res["status_after"] = met1.get("status")
        res["out_connected"] = sum(1 for o in met1.get("output_metrics", [])
                                   if o.get("packets_sent", 0) > 0)

        code, _ = http(api, "POST", "/v1/flows/%s/stop" % fid, timeout=15)
        if code != 200:
            log("warning: POST stop answered %s" % code)
        return res
    finally:
        code, killed = Children.end(p, timeout=15)
        if killed:
            log("warning: mroute did not exit within 15 s of SIGTERM; killed")
        elif code not in (0, None):
            log("warning: mroute exited with %s:\n%s" % (code, tail(logp, 10)))


def run_ffmpeg(cfg, children, receivers, sender_port, n, tmp):
    logp = os.path.join(tmp, "ffmpeg-relay-%d.log" % n)
    tee = "|".join("[f=mpegts]udp://%s:%d?pkt_size=1316" % (HOST, port)
                   for port in receivers.ports)
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
            "-i", "udp://%s:%d?fifo_size=1000000&overrun_nonfatal=1" % (HOST, sender_port),
            "-map", "0", "-c", "copy", "-f", "tee", tee]
    p = children.spawn(args, logp)
    try:
        # FFmpeg probes the input for a few seconds before it sends anything
        if not receivers.wait_data(30):
            raise BenchError("the FFmpeg relay with %d outputs sent nothing to 127.0.0.1:%d in 30 s "
                             "(exit %s):\n%s" % (n, receivers.ports[0], p.poll(), tail(logp)))
        time.sleep(cfg.warmup)
        if p.poll() is not None:
            raise BenchError("the FFmpeg relay exited with %s:\n%s" % (p.returncode, tail(logp)))
        res = measure(p.pid, cfg.seconds, receivers)
        return res
    finally:
        Children.end(p, sig=signal.SIGINT, timeout=10)


# ------------------------------------------------------------------ report

def fmt_row(cols, widths):
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                     for i, (c, w) in enumerate(zip(cols, widths)))


def report(cfg, results):
    """results: list of (relay, n, run, res)."""
    heads = ["relay", "outputs", "run", "CPU s", "tick CPU s", "CPU %1core", "RSS MB", "HWM MB",
             "threads", "dgram/s fwd", "metrics dgram/s", "us CPU/send", "reached"]
    widths = [len(h) for h in heads]
    rows = []
    for relay, n, run, r in results:
        sends = r["rx_dps"] * r["wall_s"] * n
        rows.append([relay, n, run, "%.3f" % r["cpu_s"], "%.2f" % r["tick_cpu_s"],
                     "%.1f" % r["cpu_pct"],
                     "%.1f" % r["rss_mb"], "%.1f" % r["hwm_mb"],
                     str(r["threads"]) if r["threads"] == r["threads_min"]
                     else "%d-%d" % (r["threads_min"], r["threads"]),
                     "%.0f" % r["rx_dps"],
                     "-" if r["metrics_dps"] is None else "%.0f" % r["metrics_dps"],
                     "%.2f" % (1e6 * r["cpu_s"] / sends) if sends else "-",
                     "%d/%d" % (r.get("reached", 0), n)])
    widths = [max(w, max(len(str(row[i])) for row in rows)) for i, w in enumerate(widths)]
    print()
    print("fan-out: %s, %d s window after %d s warm-up, %d run(s), %d CPU(s), %s"
          % ("1080p25 H.264/AAC MPEG-TS, 7 TS packets per datagram, real-time sender",
             cfg.seconds, cfg.warmup, cfg.repeat, os.cpu_count(),
             time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    src = [r for relay, _, _, r in results if relay == "mroute" and r.get("source_dps")]
    if src:
        print("sender rate (mroute source metrics): %.0f datagrams/s, %.2f Mbit/s on the wire"
              % (statistics.median(r["source_dps"] for r in src),
                 statistics.median(r["source_dps"] for r in src) * 1316 * 8 / 1e6))
    print("CPU s: scheduler run time of all the relay's threads (schedstat, ns); "
          "tick CPU s: utime+stime (10 ms ticks), for comparison only")
    print()
    print(fmt_row(heads, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for row in rows:
        print(fmt_row(row, widths))
    print()

    ratios = {}
    for n in cfg.outputs:
        cpu, rss = [], []
        for run in range(1, cfg.repeat + 1):
            ours = [r for relay, k, rr, r in results if relay == "mroute" and k == n and rr == run]
            ref = [r for relay, k, rr, r in results if relay == "ffmpeg" and k == n and rr == run]
            if ours and ref and ref[0]["cpu_s"] > 0 and ref[0]["rss_mb"] > 0:
                cpu.append(ours[0]["cpu_s"] / ref[0]["cpu_s"])
                rss.append(ours[0]["rss_mb"] / ref[0]["rss_mb"])
        if not cpu:
            continue
        ratios[n] = statistics.median(cpu)
        if len(cpu) == 1:
            print("ratio ours/FFmpeg at %2d outputs: CPU %.2f  RSS %.2f" % (n, cpu[0], rss[0]))
        else:
            print("ratio ours/FFmpeg at %2d outputs: CPU min %.2f median %.2f max %.2f  "
                  "RSS min %.2f median %.2f max %.2f"
                  % (n, min(cpu), statistics.median(cpu), max(cpu),
                     min(rss), statistics.median(rss), max(rss)))
    print()
    print("target: CPU ratio <= %.2f at %d outputs; threads must not grow with outputs"
          % (TARGET_CPU_RATIO, TARGET_OUTPUTS))
    if TARGET_OUTPUTS in ratios:
        r = ratios[TARGET_OUTPUTS]
        print("  CPU ratio at %d outputs: %.2f -> %s"
              % (TARGET_OUTPUTS, r, "met" if r <= TARGET_CPU_RATIO else "NOT met"))
    else:
        print("  CPU ratio at %d outputs: not measured in this run" % TARGET_OUTPUTS)
    th = {}
    for relay, n, _, r in results:
        if relay == "mroute":
            th[n] = max(th.get(n, 0), r["threads"])
    if len(th) >= 2:
        ns = sorted(th)
        grows = any(th[b] > th[a] for a, b in zip(ns, ns[1:]))
        print("  mroute threads: %s -> %s"
              % (", ".join("%d at %d outputs" % (th[k], k) for k in ns),
                 "NOT met (grow with outputs)" if grows else "met"))
    else:
        print("  mroute threads: only one output count measured; cannot tell")
    sys.stdout.flush()


# -------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--outputs", default="10,50", help="comma-separated output counts (<= 50)")
    ap.add_argument("--seconds", type=float, default=None, help="measurement window (default 30)")
    ap.add_argument("--warmup", type=float, default=None, help="warm-up before the window (default 5)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per output count; relay order alternates (default 1)")
    ap.add_argument("--quick", action="store_true", help="10 s window, 3 s warm-up")
    cfg = ap.parse_args(argv)
    cfg.outputs = [int(x) for x in cfg.outputs.split(",") if x.strip()]
    if not cfg.outputs or any(n < 1 or n > 50 for n in cfg.outputs):
        ap.error("--outputs: counts between 1 and 50 (the API's limit)")
    if cfg.seconds is None:
        cfg.seconds = 10 if cfg.quick else 30
    if cfg.warmup is None:
        cfg.warmup = 3 if cfg.quick else 5
    if cfg.repeat < 1:
        ap.error("--repeat: at least 1")
    cfg.seconds = int(cfg.seconds) if cfg.seconds == int(cfg.seconds) else cfg.seconds
    cfg.warmup = int(cfg.warmup) if cfg.warmup == int(cfg.warmup) else cfg.warmup
    cfg.build = os.path.abspath(cfg.build)
    cfg.cache = os.path.join(cfg.build, "bench-cache")
    return cfg


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def on_alarm(_signum, _frame):
    raise BenchError("the whole benchmark ran past its time limit")


def main(argv):
    cfg = parse_args(argv)
    for tool in ("ffmpeg",):
        if not shutil.which(tool):
            print("fanout: %s is not installed" % tool, file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    # generous bound for everything, clip making included
    per_run = cfg.seconds + cfg.warmup + 90
    signal.alarm(int(700 + 2 * len(cfg.outputs) * cfg.repeat * per_run))

    children = Children()
    tmp = tempfile.mkdtemp(prefix="mroute-bench-")
    results = []
    failed = False
    try:
        clip = make_clip(cfg.cache)
        sender_port = free_udp_port()
        sender_log = os.path.join(tmp, "sender.log")
        sender = children.spawn(
            ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
             "-re", "-stream_loop", "-1", "-i", clip, "-map", "0", "-c", "copy",
             "-f", "mpegts", "udp://%s:%d?pkt_size=1316" % (HOST, sender_port)],
            sender_log)
        log("sender: pid %d -> udp://%s:%d" % (sender.pid, HOST, sender_port))
        time.sleep(1)

        for n in cfg.outputs:
            receivers = Receivers(n)
            try:
                for run in range(1, cfg.repeat + 1):
                    order = ["mroute", "ffmpeg"] if run % 2 else ["ffmpeg", "mroute"]
                    for relay in order:
                        if sender.poll() is not None:
                            raise BenchError("the sender exited with %s:\n%s"
                                             % (sender.returncode, tail(sender_log)))
                        receivers.drain()
                        log("%s, %d outputs, run %d: warm-up %s s, window %s s"
                            % (relay, n, run, cfg.warmup, cfg.seconds))
                        fn = run_mroute if relay == "mroute" else run_ffmpeg
                        try:
                            res = fn(cfg, children, receivers, sender_port, n, tmp)
                        except BenchError as e:
                            failed = True
                            print("\n%s, %d outputs, run %d FAILED: %s\n" % (relay, n, run, e),
                                  flush=True)
                            continue
                        # the relay has stopped: which receivers got data during the run
                        res["reached"] = receivers.reached() + (1 if res["rx_dps"] > 0 else 0)
                        results.append((relay, n, run, res))
                        log("  CPU %.2f s (%.1f %%), RSS %.1f MB, threads %d, %.0f dgram/s"
                            % (res["cpu_s"], res["cpu_pct"], res["rss_mb"], res["threads"],
                               res["rx_dps"]))
            finally:
                receivers.close()
        if results:
            report(cfg, results)
    except BenchError as e:
        failed = True
        print("fanout: %s" % e, file=sys.stderr, flush=True)
        if results:
            report(cfg, results)
    finally:
        signal.alarm(0)
        children.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
