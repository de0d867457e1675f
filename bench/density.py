#!/usr/bin/env python3
"""Density benchmark (issue 14): N small flows in one controller against N
FFmpeg relays, then 100 flows in mroute alone.

Every flow is a `udp` source fed a real-time 10 Mbit/s 1080p25 H.264/AAC
MPEG-TS and 2 `udp` outputs to sockets of this process on 127.0.0.1 that
read nothing (8 KiB SO_RCVBUF), with the default monitoring (metadata and
GOP statistics).  One sender,

  ffmpeg -re -stream_loop -1 -i clip.ts -map 0 -c copy -f tee
         "[f=mpegts]udp://127.0.0.1:P1?pkt_size=1316|..."

feeds all N ingest ports (its CPU is not measured).  Two sides, one after
the other (never both at once), on the same running sender:

  mroute  - a fresh controller (its own configuration: [gstreamer]
            max_flows raised to N), N flows created and started over the
            REST API (creation, starts, the wait until every flow is ACTIVE
            and the stops are timed apart);
  ffmpeg  - N processes `ffmpeg -i "udp://127.0.0.1:PORT?fifo_size=1000000&
            overrun_nonfatal=1" -map 0 -c copy -f tee "[f=mpegts]udp://...|
            [f=mpegts]udp://..."` on the same ingest ports, to the same sockets.

After a settle, over a window (default 30 s), from outside: CPU seconds of
all threads of the side's processes (/proc/PID/task/*/schedstat; the
tick-sampled utime+stime of /proc/PID/stat beside it), VmRSS, VmHWM and
Threads (/proc/PID/status, sampled every second, summed over the FFmpeg
processes).  Correctness around the window: every flow ACTIVE; every flow's
GET /v1/flows/{id}/metadata answers with its video stream, its GOP length
and a key-frame counter that moved during the window (kept current); the
source's packets_lost (TS continuity at the input) of every flow; the first
output of a sample of flows (first, middle, last) is read by a thread and
its MPEG-TS continuity counters are checked (the reading socket's own
drops, from /proc/net/udp, are printed beside so that a loss of this
benchmark's reader is not taken for one of the relay).

Then (unless --skip-100) mroute alone with 100 flows (1 Gbit/s nominal in,
2 Gbit/s out) and the same checks, and the goal lines of issue 14.

The machine is shared and noisy: read the ratios, not the absolute figures
(/work/shared/PERFORMANCE.md).  Standard library only.

    python3 bench/density.py --build BUILDDIR [--flows 20] [--seconds 30]
                             [--settle 5] [--repeat 1] [--skip-100]
"""

import argparse
import json
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fanout import (BenchError, Children, free_tcp_port, http, make_clip,  # noqa: E402
                    proc_cpu_seconds, proc_status, proc_tick_cpu_seconds, tail)

sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
try:
    from mroute_media import ts_cc_errors  # noqa: E402
except ImportError:  # a copy of the test helper's check, for a bench alone
    def ts_cc_errors(data):
        errors, notes, last = 0, [], {}
        if len(data) % 188:
            errors += 1
            notes.append("length %d is not a multiple of 188" % len(data))
        for off in range(0, len(data) - 187, 188):
            if data[off] != 0x47:
                errors += 1
                continue
            pid = ((data[off + 1] & 0x1F) << 8) | data[off + 2]
            if pid == 0x1FFF:
                continue
            afc, cc = (data[off + 3] >> 4) & 3, data[off + 3] & 0x0F
            disc = bool(afc & 2) and data[off + 4] > 0 and bool(data[off + 5] & 0x80)
            if pid not in last or disc:
                last[pid] = cc
                continue
            if not afc & 1:
                continue
            if cc != (last[pid] + 1) & 0x0F:
                errors += 1
                if len(notes) < 10:
                    notes.append("pid 0x%x: cc %d after %d" % (pid, cc, last[pid]))
            last[pid] = cc
        return errors, notes

HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SMALL_RCVBUF = 8 * 1024          # never-read outputs (the kernel doubles it)
SAMPLE_RCVBUF = 4 * 1024 * 1024  # the sample outputs that are read
GOAL_CPU_RATIO = 0.25            # at 20 flows, mroute / FFmpeg
GOAL_MB_PER_FLOW = 3.0
GOAL_START_S = 5.0               # 100 flows started over the API
BIG = 100                        # --big-flows


def log(msg):
    print("[density] %s %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ------------------------------------------------------------------ ports

class Ports:
    """Free UDP ports for the ingest side, never the same twice in a run,
    and below the kernel's ephemeral range: the flows' output sockets bind
    port 0 while the later flows start, and one of them could take an
    ingest port picked from that range (the 100-flow part failed so now
    and then with "Address already in use")."""

    def __init__(self):
        self.used = set()
        self.rand = random.Random(os.getpid())
        try:
            with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                low = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            low = 32768
        self.range = (10000, max(10001, low - 1))

    def udp(self):
        for _ in range(2000):
            port = self.rand.randint(*self.range)
            if port in self.used:
                continue
            free = True
            for addr in (HOST, "0.0.0.0"):
                t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    t.bind((addr, port))
                except OSError:
                    free = False
                finally:
                    t.close()
                if not free:
                    break
            if not free:
                continue
            self.used.add(port)
            return port
        raise BenchError("no free UDP port")


def udp_drops():
    """{socket inode: drops} of every UDP socket (/proc/net/udp, last column)."""
    out = {}
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            cols = line.split()
            try:
                out[int(cols[9])] = int(cols[-1])
            except (IndexError, ValueError):
                pass
    return out


class Sinks:
    """Two output sockets per flow.  The first output of the sample flows is
    read by one thread, which keeps the bytes while `record` is on; every
    other socket is never read."""

    def __init__(self, n, sample):
        self.socks = []          # [(out0, out1)] per flow
        self.sample = sorted(set(sample))
        self.data = {i: bytearray() for i in self.sample}
        self.count = {i: 0 for i in self.sample}
        self.record = False
        self._stop = threading.Event()
        for i in range(n):
            pair = []
            for k in range(2):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                if k == 0 and i in self.data:
                    try:  # root: past net.core.rmem_max
                        s.setsockopt(socket.SOL_SOCKET, 33, SAMPLE_RCVBUF)  # SO_RCVBUFFORCE
                    except OSError:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SAMPLE_RCVBUF)
                else:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
                s.bind((HOST, 0))
                pair.append(s)
            self.socks.append(tuple(pair))
        self.ports = [(a.getsockname()[1], b.getsockname()[1]) for a, b in self.socks]
        self._sel = selectors.DefaultSelector()
        for i in self.sample:
            self.socks[i][0].setblocking(False)
            self._sel.register(self.socks[i][0], selectors.EVENT_READ, i)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        buf = bytearray(65536)
        while not self._stop.is_set():
            for key, _ in self._sel.select(0.2):
                i = key.data
                while True:
                    try:
                        n = key.fileobj.recv_into(buf)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        return
                    self.count[i] += 1
                    if self.record:
                        self.data[i] += buf[:n]

    def start_recording(self):
        for i in self.sample:
            self.data[i] = bytearray()
        d = udp_drops()
        self._drops0 = {i: d.get(os.fstat(self.socks[i][0].fileno()).st_ino, 0)
                        for i in self.sample}
        self.record = True

    def stop_recording(self):
        """Per sample flow: (datagrams, MB, CC errors, notes, reader drops)."""
        self.record = False
        time.sleep(0.3)          # let the reader finish the datagram in hand
        d = udp_drops()
        out = {}
        for i in self.sample:
            drops = d.get(os.fstat(self.socks[i][0].fileno()).st_ino, 0) - self._drops0[i]
            data = bytes(self.data[i])
            err, notes = ts_cc_errors(data)
            out[i] = (len(data) // 1316, len(data) / 1e6, err, notes, drops)
            self.data[i] = bytearray()
        return out

    def wait_sample_data(self, timeout):
        start = dict(self.count)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.count[i] > start[i] for i in self.sample):
                return True
            time.sleep(0.1)
        return False

    def drain(self):
        """Empties the never-read sockets (call while no relay runs)."""
        for i, pair in enumerate(self.socks):
            for k, s in enumerate(pair):
                if k == 0 and i in self.data:
                    continue
                s.setblocking(False)
                try:
                    while True:
                        s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    pass

    def reached(self):
        """How many outputs got data since `drain` (the sample outputs count
        when their reader counted)."""
        n = 0
        for i, pair in enumerate(self.socks):
            for k, s in enumerate(pair):
                if k == 0 and i in self.data:
                    n += 1 if self.count[i] else 0
                    continue
                try:
                    s.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                    n += 1
                except (BlockingIOError, InterruptedError):
                    pass
        return n

    def close(self):
        self._stop.set()
        self._thread.join(2)
        for pair in self.socks:
            for s in pair:
                s.close()


# ------------------------------------------------------------ measurement

def thread_cpu(pid):
    """{thread name with its digits as '#': (CPU seconds, threads)} of `pid`."""
    out = {}
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, "comm")) as f:
                name = "".join("#" if c.isdigit() else c for c in f.read().strip())
            with open(os.path.join(task_dir, tid, "schedstat")) as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        out[(name, tid)] = ns / 1e9
    return out


def thread_groups(before, after, wall):
    """CPU share of each thread name over the window, most first."""
    groups = {}
    for key, cpu in after.items():
        name = key[0]
        c, k = groups.get(name, (0.0, 0))
        groups[name] = (c + cpu - before.get(key, 0.0), k + 1)
    return sorted(((c / wall, name, k) for name, (c, k) in groups.items()), reverse=True)


def proc_pss_mb(pid):
    """Proportional set size (shared pages split between their users), MB."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def measure(pids, seconds):
    """CPU of all `pids` over `seconds` (schedstat and ticks), memory and
    threads summed over them, sampled every second (the most seen)."""
    th0 = thread_cpu(pids[0]) if len(pids) == 1 else None
    cpu0 = sum(proc_cpu_seconds(p) for p in pids)
    tick0 = sum(proc_tick_cpu_seconds(p) for p in pids)
    t0 = time.monotonic()
    rss, hwm, threads = [], [], []
    end = t0 + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        time.sleep(min(1.0, end - now))
        st = [proc_status(p) for p in pids]
        rss.append(sum(s["VmRSS"] for s in st))
        hwm.append(sum(s["VmHWM"] for s in st))
        threads.append(sum(s["Threads"] for s in st))
    cpu1 = sum(proc_cpu_seconds(p) for p in pids)
    tick1 = sum(proc_tick_cpu_seconds(p) for p in pids)
    wall = time.monotonic() - t0
    pss = sum(proc_pss_mb(p) for p in pids)
    groups = thread_groups(th0, thread_cpu(pids[0]), wall) if th0 is not None else None
    return {"thread_groups": groups,"cpu_s": cpu1 - cpu0, "ticks": round((tick1 - tick0) * CLK_TCK),
            "tick_cpu_s": tick1 - tick0, "wall_s": wall, "share": (cpu1 - cpu0) / wall,
            "rss_mb": rss[-1], "pss_mb": pss, "rss_max_mb": max(rss), "hwm_mb": max(hwm),
            "threads": max(threads), "threads_min": min(threads)}


def spawn_sender(children, clip, ports, tmp):
    tee = "|".join("[f=mpegts]udp://%s:%d?pkt_size=1316" % (HOST, p) for p in ports)
    logp = os.path.join(tmp, "sender-%d.log" % len(ports))
    p = children.spawn(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
                        "-re", "-stream_loop", "-1", "-i", clip, "-map", "0", "-c", "copy",
                        "-f", "tee", tee], logp)
    log("sender: pid %d -> %d ingest ports" % (p.pid, len(ports)))
    return p, logp


# ----------------------------------------------------------------- mroute

def flow_sweep(api, ids):
    """Per flow: metadata (video codec, size, GOP length, key frames),
    source counters, output bytes sent, and when they were read."""
    out = []
    for fid in ids:
        t = time.monotonic()
        code, md = http(api, "GET", "/v1/flows/%s/metadata" % fid, timeout=10)
        video = None
        if code == 200 and isinstance(md, dict):
            video = next((s for s in md.get("streams", []) if s.get("stream_type") == "video"),
                         None)
        code_m, met = http(api, "GET", "/v1/flows/%s/metrics" % fid, timeout=10)
        src = ((met or {}).get("source_metrics") or [{}])[0] if code_m == 200 else {}
        outs = (met or {}).get("output_metrics", []) if code_m == 200 else []
        out.append({
            "t": t, "md_code": code, "video": video,
            "streams": len(md.get("streams", [])) if code == 200 and isinstance(md, dict) else 0,
            "rx_bytes": src.get("bytes_received", 0), "rx_pkts": src.get("packets_received", 0),
            "lost": src.get("packets_lost", 0),
            "tx_bytes": sum(o.get("bytes_sent", 0) for o in outs),
        })
    return out


def metadata_current(a, b):
    """The metadata of one flow is current when both reads answered with a
    video stream with a GOP, and the key-frame counter moved between them."""
    va, vb = a["video"], b["video"]
    if not va or not vb or "gop" not in vb or "gop" not in va:
        return False
    return (vb["gop"]["length"] > 0 and vb["gop"]["keyframes"] > va["gop"]["keyframes"]
            and vb.get("width", 0) > 0 and b["streams"] >= 2)


def run_mroute(cfg, children, tmp, n, ingest, sinks):
    binary = os.path.join(cfg.build, "controller", "mroute")
    if not os.access(binary, os.X_OK):
        raise BenchError("%s is missing: build first (meson compile -C %s)" % (binary, cfg.build))
    run_dir = tempfile.mkdtemp(prefix="mroute-%d-" % n, dir=tmp)
    conf = os.path.join(run_dir, "mroute.conf")
    with open(conf, "w") as f:
        f.write("[gstreamer]\nmax_flows = %d\n" % max(20, n))
        if cfg.read_interval_ms is not None:
            f.write("read_interval_ms = %d\n" % cfg.read_interval_ms)
        f.write("[rtsp]\nport = 0\n")
    api = free_tcp_port()
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = os.path.join(cfg.build, "plugins")
    env["GST_REGISTRY"] = os.path.join(cfg.cache, "gst-registry.bin")
    env.pop("MROUTE_PORT", None)
    logp = os.path.join(run_dir, "mroute.log")
    p = children.spawn([binary, "--config", conf, "--port", str(api), "--host", HOST,
                        "--db", os.path.join(run_dir, "mroute.db")], logp, env=env, cwd=run_dir)
    res = {}
    try:
        deadline = time.monotonic() + 20
        while True:
            if p.poll() is not None:
                raise BenchError("mroute exited with %s at start:\n%s" % (p.returncode, tail(logp)))
            try:
                if http(api, "GET", "/health", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("mroute did not answer /health in 20 s:\n" + tail(logp))
            time.sleep(0.05)
        time.sleep(0.5)
        idle = proc_status(p.pid)
        res["idle_rss_mb"], res["idle_threads"] = idle["VmRSS"], idle["Threads"]

        ids = []
        t0 = time.monotonic()
        for i in range(n):
            body = {"name": "density-%03d" % i,
                    "sources": [{"name": "in", "protocol": "udp", "ingest_port": ingest[i],
                                 "ingest_address": HOST}],
                    "outputs": [{"name": "out%d" % k, "protocol": "udp", "destination": HOST,
                                 "port": sinks.ports[i][k]} for k in range(2)]}
            code, flow = http(api, "POST", "/v1/flows", body, timeout=15)
            if code != 201:
                raise BenchError("POST /v1/flows (flow %d) answered %s: %r" % (i, code, flow))
            ids.append(flow["id"])
        t1 = time.monotonic()
        for fid in ids:
            code, answer = http(api, "POST", "/v1/flows/%s/start" % fid, timeout=15)
            if code != 200:
                raise BenchError("POST /v1/flows/%s/start answered %s: %r\n%s"
                                 % (fid, code, answer, tail(logp)))
        t2 = time.monotonic()
        res["create_s"], res["start_s"] = t1 - t0, t2 - t1

        deadline = t2 + 30 + 0.3 * n
        statuses = {}
        while time.monotonic() < deadline:
            code, lst = http(api, "GET", "/v1/flows", timeout=15)
            statuses = {f["id"]: f.get("status") for f in (lst or {}).get("flows", [])}
            if sum(1 for s in statuses.values() if s == "ACTIVE") == n:
                break
            time.sleep(0.2)
        res["all_active_s"] = time.monotonic() - t2
        active = sum(1 for s in statuses.values() if s == "ACTIVE")
        if active != n:
            bad = [f for f in ids if statuses.get(f) != "ACTIVE"][:3]
            evs = [http(api, "GET", "/v1/flows/%s/events?limit=10" % f)[1] for f in bad]
            raise BenchError("%d of %d flows ACTIVE %.0f s after the starts; not: %s\n"
                             "events: %s\nlog:\n%s" % (active, n, res["all_active_s"], bad,
                                                       json.dumps(evs)[:3000], tail(logp)))
        log("mroute: %d flows created in %.2f s, started in %.2f s, all ACTIVE %.2f s after "
            "the starts" % (n, res["create_s"], res["start_s"], res["all_active_s"]))
        if not sinks.wait_sample_data(15):
            raise BenchError("the sample outputs received nothing in 15 s\n" + tail(logp))
        time.sleep(cfg.settle)

        before = flow_sweep(api, ids)
        sinks.start_recording()
        res.update(measure([p.pid], cfg.seconds))
        res["cc"] = sinks.stop_recording()
        after = flow_sweep(api, ids)

        code, lst = http(api, "GET", "/v1/flows", timeout=15)
        res["active"] = sum(1 for f in (lst or {}).get("flows", []) if f.get("status") == "ACTIVE")
        res["md_current"] = sum(1 for a, b in zip(before, after) if metadata_current(a, b))
        res["md_checked"] = n
        res["md_example"] = after[0]["video"]
        res["lost"] = sum(b["lost"] - a["lost"] for a, b in zip(before, after))
        res["in_mbps"] = sum(8 * (b["rx_bytes"] - a["rx_bytes"]) / (b["t"] - a["t"])
                             for a, b in zip(before, after)) / 1e6
        res["out_mbps"] = sum(8 * (b["tx_bytes"] - a["tx_bytes"]) / (b["t"] - a["t"])
                              for a, b in zip(before, after)) / 1e6
        res["in_dps"] = sum((b["rx_pkts"] - a["rx_pkts"]) / (b["t"] - a["t"])
                            for a, b in zip(before, after))

        t3 = time.monotonic()
        for fid in ids:
            code, _ = http(api, "POST", "/v1/flows/%s/stop" % fid, timeout=15)
            if code != 200:
                log("warning: POST /v1/flows/%s/stop answered %s" % (fid, code))
        res["stop_s"] = time.monotonic() - t3
        return res
    finally:
        code, killed = Children.end(p, timeout=20)
        if killed:
            log("warning: mroute did not exit within 20 s of SIGTERM; killed")
        elif code not in (0, None):
            log("warning: mroute exited with %s:\n%s" % (code, tail(logp, 10)))


# ----------------------------------------------------------------- ffmpeg

def run_ffmpeg(cfg, children, tmp, n, ingest, sinks):
    procs = []
    try:
        for i in range(n):
            tee = "|".join("[f=mpegts]udp://%s:%d?pkt_size=1316" % (HOST, port)
                           for port in sinks.ports[i])
            procs.append(children.spawn(
                ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
                 "-i", "udp://%s:%d?fifo_size=1000000&overrun_nonfatal=1" % (HOST, ingest[i]),
                 "-map", "0", "-c", "copy", "-f", "tee", tee],
                os.path.join(tmp, "ffmpeg-relay-%03d.log" % i)))
        # each relay probes its input for a few seconds before it sends
        if not sinks.wait_sample_data(30 + n):
            dead = [q for q in procs if q.poll() is not None]
            raise BenchError("the FFmpeg relays' sample outputs got nothing in %d s (%d exited):\n%s"
                             % (30 + n, len(dead), tail(procs[sinks.sample[0]].log_path)))
        time.sleep(cfg.settle)
        dead = [q for q in procs if q.poll() is not None]
        if dead:
            raise BenchError("%d FFmpeg relays exited:\n%s" % (len(dead), tail(dead[0].log_path)))
        sinks.start_recording()
        res = measure([q.pid for q in procs], cfg.seconds)
        res["cc"] = sinks.stop_recording()
        res["active"] = sum(1 for q in procs if q.poll() is None)
        return res
    finally:
        for q in procs:
            if q.poll() is None:
                q.send_signal(signal.SIGINT)
        for q in procs:
            Children.end(q, sig=signal.SIGINT, timeout=10)


# ----------------------------------------------------------------- report

def fmt_row(cols, widths):
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                     for i, (c, w) in enumerate(zip(cols, widths)))


def table(heads, rows):
    widths = [max(len(h), *(len(str(r[i])) for r in rows)) for i, h in enumerate(heads)]
    print(fmt_row(heads, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for r in rows:
        print(fmt_row(r, widths))


def cc_text(cc):
    errs = sum(v[2] for v in cc.values())
    dgrams = sum(v[0] for v in cc.values())
    drops = sum(v[4] for v in cc.values())
    return errs, dgrams, drops


def print_groups(r, indent=""):
    g = r.get("thread_groups")
    if not g:
        return
    print("%swhere the controller's CPU went (threads by name, digits as #; share of a core): %s"
          % (indent, ", ".join("%s x%d %.3f" % (name, k, c) for c, name, k in g[:8]
                               if c >= 0.0005)))


def side_row(side, n, run, r):
    errs, dgrams, drops = cc_text(r["cc"])
    return [side, n, run, "%.3f" % r["share"], "%.1f" % (1000 * r["share"] / n),
            "%.2f" % r["cpu_s"], r["ticks"],
            "%.1f" % r["rss_mb"], "%.2f" % (r["rss_mb"] / n), "%.1f" % r["pss_mb"],
            "%.1f" % r["hwm_mb"],
            str(r["threads"]) if r["threads"] == r["threads_min"]
            else "%d-%d" % (r["threads_min"], r["threads"]),
            "%.2f" % (r["threads"] / n), "%d/%d" % (r["active"], n),
            "%d/%d" % (r["md_current"], n) if "md_current" in r else "-",
            "%d" % r["lost"] if "lost" in r else "-",
            "%d in %d dgrams (%d)" % (errs, dgrams, drops), "%d/%d" % (r.get("reached", 0), 2 * n)]


HEADS = ["side", "flows", "run", "CPU s/s", "ms/s a flow", "CPU s", "ticks", "RSS MB", "RSS/flow", "PSS MB", "HWM MB",
         "threads", "thr/flow", "running", "metadata current", "src lost",
         "sample CC errors (reader drops)", "outputs reached"]


def report(cfg, results, big, big_err):
    print()
    print("density: %d flows, each a udp source (10 Mbit/s 1080p25 H.264/AAC TS, real time) and "
          "2 udp outputs; %s s windows after a %s s settle; %d CPU(s); %s"
          % (cfg.flows, cfg.seconds, cfg.settle, os.cpu_count(),
             time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    print("load average at start %s, now %s (the machine is shared)" % (cfg.load0, loadavg()))
    print("CPU s/s: share of one core, all threads of the side's processes (schedstat); ticks: "
          "utime+stime in %d Hz ticks; RSS, PSS, HWM and threads summed over the side's "
          "processes (RSS counts shared libraries once per process, PSS splits them)" % CLK_TCK)
    print()
    if results:
        table(HEADS, [side_row(s, n, run, r) for s, n, run, r in results])
        print()
        ours = [r for s, _, _, r in results if s == "mroute"]
        if ours:
            m = ours[-1]
            print("mroute over the API at %d flows: created in %.3f s, started in %.3f s, all "
                  "ACTIVE %.2f s after the starts, stopped in %.3f s; idle controller %.1f MB, "
                  "%d threads; in %.0f Mbit/s (%.0f dgram/s), out %.0f Mbit/s"
                  % (cfg.flows, m["create_s"], m["start_s"], m["all_active_s"], m["stop_s"],
                     m["idle_rss_mb"], m["idle_threads"], m["in_mbps"], m["in_dps"],
                     m["out_mbps"]))
            print_groups(m)
            if m.get("md_example"):
                print("metadata of flow 0 after the window: %s" % json.dumps(m["md_example"]))
    cpu, rss, pss, thr = [], [], [], []
    for run in range(1, cfg.repeat + 1):
        a = [r for s, _, rr, r in results if s == "mroute" and rr == run]
        b = [r for s, _, rr, r in results if s == "ffmpeg" and rr == run]
        if a and b and b[0]["cpu_s"] > 0:
            cpu.append(a[0]["cpu_s"] / b[0]["cpu_s"])
            rss.append(a[0]["rss_mb"] / b[0]["rss_mb"])
            pss.append(a[0]["pss_mb"] / b[0]["pss_mb"] if b[0]["pss_mb"] else 0.0)
            thr.append(a[0]["threads"] / b[0]["threads"])
    if cpu:
        def mm(xs):
            if len(xs) == 1:
                return "%.3f" % xs[0]
            return "median %.3f (min %.3f, max %.3f)" % (statistics.median(xs), min(xs), max(xs))
        print("ratio mroute/FFmpeg at %d flows: CPU %s; RSS %s; PSS %s; threads %s"
              % (cfg.flows, mm(cpu), mm(rss), mm(pss), mm(thr)))
    print()
    if big is not None:
        r = big
        errs, dgrams, drops = cc_text(r["cc"])
        print("mroute alone, %d flows (%.0f Mbit/s in, %.0f Mbit/s out by its own counters):"
              % (BIG, r["in_mbps"], r["out_mbps"]))
        print("  CPU %.3f s/s (%.1f %% of one core, %.1f %% of the machine's %d); %d ticks in %.0f s"
              % (r["share"], 100 * r["share"], 100 * r["share"] / os.cpu_count(),
                 os.cpu_count(), r["ticks"], r["wall_s"]))
        print("  RSS %.1f MB (%.2f MB a flow; %.2f MB a flow above the idle controller's %.1f MB), "
              "PSS %.1f MB, HWM %.1f MB; threads %d (%.2f a flow)"
              % (r["rss_mb"], r["rss_mb"] / BIG, (r["rss_mb"] - r["idle_rss_mb"]) / BIG,
                 r["idle_rss_mb"], r["pss_mb"], r["hwm_mb"], r["threads"], r["threads"] / BIG))
        print("  API: %d flows created in %.3f s, started in %.3f s (create + start %.3f s), all "
              "ACTIVE %.2f s after the starts; stopped in %.3f s"
              % (BIG, r["create_s"], r["start_s"], r["create_s"] + r["start_s"],
                 r["all_active_s"], r["stop_s"]))
        print("  ACTIVE after the window %d/%d; metadata current (video stream, GOP, key frames "
              "moving) %d/%d; source packets lost %d"
              % (r["active"], BIG, r["md_current"], BIG, r["lost"]))
        print_groups(r, "  ")
        print("  sample outputs: %s" % "; ".join(
            "flow %d: %d dgrams, %d CC errors, %d reader drops%s"
            % (i, v[0], v[2], v[4], (" (" + ", ".join(v[3][:3]) + ")") if v[3] else "")
            for i, v in sorted(r["cc"].items())))
    elif big_err:
        print("mroute alone, %d flows: FAILED: %s" % (BIG, big_err))
    elif cfg.skip_100:
        print("mroute alone, %d flows: skipped (--skip-100)" % BIG)
    print()
    print("goals of issue 14:")
    if cpu:
        c = statistics.median(cpu)
        print("  CPU at %d flows <= %.2f of FFmpeg's: %.3f -> %s%s"
              % (cfg.flows, GOAL_CPU_RATIO, c, "met" if c <= GOAL_CPU_RATIO else "NOT met",
                 "" if cfg.flows == 20 else " (the goal is stated at 20 flows)"))
    else:
        print("  CPU at 20 flows <= %.2f of FFmpeg's: not measured" % GOAL_CPU_RATIO)
    mems = [("%d flows" % n, r["rss_mb"] / n) for s, n, _, r in results if s == "mroute"][-1:]
    if big is not None:
        mems.append(("%d flows" % BIG, big["rss_mb"] / BIG))
    for what, mb in mems:
        print("  memory <= %.0f MB a flow (controller RSS / flows) at %s: %.2f MB -> %s"
              % (GOAL_MB_PER_FLOW, what, mb, "met" if mb <= GOAL_MB_PER_FLOW else "NOT met"))
    th = [("%d flows" % n, r["threads"], n) for s, n, _, r in results if s == "mroute"][-1:]
    if big is not None:
        th.append(("%d flows" % BIG, big["threads"], BIG))
    if th:
        print("  threads a flow (the issue names no number; printed): %s"
              % ", ".join("%.2f at %s (%d in all)" % (t / n, w, t) for w, t, n in th))
    if big is not None:
        errs, dgrams, drops = cc_text(big["cc"])
        ok = (big["active"] == BIG and big["md_current"] == BIG and errs == 0
              and big["lost"] == 0 and dgrams > 0)
        print("  %d flows on this %d-core machine, all ACTIVE, every flow's metadata and GOP "
              "current, nothing lost (sample CC errors %d, source loss %d): %s; CPU share %.1f %% "
              "of one core" % (BIG, os.cpu_count(), errs, big["lost"], "met" if ok else "NOT met",
                               100 * big["share"]))
        print("  %d flows started over the API in under %.0f s: starts %.2f s -> %s "
              "(creation %.2f s more; create + start %.2f s -> %s)"
              % (BIG, GOAL_START_S, big["start_s"],
                 "met" if big["start_s"] < GOAL_START_S else "NOT met", big["create_s"],
                 big["create_s"] + big["start_s"],
                 "under 5 s" if big["create_s"] + big["start_s"] < GOAL_START_S else "over 5 s"))
    else:
        print("  %d flows: not measured in this run" % BIG)
    sys.stdout.flush()


# ------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--flows", type=int, default=20, help="flows side by side with FFmpeg (20)")
    ap.add_argument("--seconds", type=float, default=30, help="measured window (30)")
    ap.add_argument("--settle", type=float, default=5, help="settle before the window (5)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of mroute and FFmpeg; the order alternates (1)")
    ap.add_argument("--sample", type=int, default=3,
                    help="flows whose first output is read and checked (3)")
    ap.add_argument("--skip-100", action="store_true", help="skip mroute alone at 100 flows")
    ap.add_argument("--read-interval-ms", type=int, default=None,
                    help="[gstreamer] read_interval_ms of the controller (its default, 5, "
                         "when not given; 0: read each datagram at once)")
    ap.add_argument("--big-flows", type=int, default=BIG,
                    help="flows of the mroute-alone part (100; fewer only to try the script)")
    cfg = ap.parse_args(argv)
    if not 1 <= cfg.flows <= 1000:
        ap.error("--flows: 1 to 1000 ([gstreamer] max_flows's range)")
    if cfg.repeat < 1 or cfg.seconds <= 0 or cfg.settle < 0 or cfg.sample < 1:
        ap.error("--repeat and --sample at least 1, --seconds above 0, --settle not negative")
    if not 1 <= cfg.big_flows <= 1000:
        ap.error("--big-flows: 1 to 1000")
    cfg.build = os.path.abspath(cfg.build)
    cfg.cache = os.path.join(cfg.build, "bench-cache")
    cfg.seconds = int(cfg.seconds) if cfg.seconds == int(cfg.seconds) else cfg.seconds
    cfg.settle = int(cfg.settle) if cfg.settle == int(cfg.settle) else cfg.settle
    return cfg


def sample_of(n, k):
    return sorted({round(j * (n - 1) / max(1, k - 1)) for j in range(k)}) if k > 1 else [0]


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def on_alarm(_signum, _frame):
    raise BenchError("the whole benchmark ran past its time limit")


def main(argv):
    global BIG
    cfg = parse_args(argv)
    BIG = cfg.big_flows
    if not shutil.which("ffmpeg"):
        print("density: ffmpeg is not installed", file=sys.stderr)
        return 2
    cfg.load0 = loadavg()
    print("mroute's [gstreamer] read_interval_ms: %s"
          % ("5 (its default)" if cfg.read_interval_ms is None else cfg.read_interval_ms))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    per_side = cfg.seconds + cfg.settle + 120 + 2 * cfg.flows
    signal.alarm(int(700 + 2 * cfg.repeat * per_side
                     + (0 if cfg.skip_100 else cfg.seconds + cfg.settle + 400)))

    children = Children()
    tmp = tempfile.mkdtemp(prefix="mroute-bench-density-")
    results, big, big_err = [], None, None
    failed = False
    try:
        clip = make_clip(cfg.cache)
        ports = Ports()

        # part 1: N flows, mroute against N FFmpeg relays
        # the output sockets first: the ingest ports are then checked free of them
        sinks = Sinks(cfg.flows, sample_of(cfg.flows, cfg.sample))
        ingest = [ports.udp() for _ in range(cfg.flows)]
        sender = None
        try:
            sender, sender_log = spawn_sender(children, clip, ingest, tmp)
            time.sleep(1)
            for run in range(1, cfg.repeat + 1):
                for side in (["mroute", "ffmpeg"] if run % 2 else ["ffmpeg", "mroute"]):
                    if sender.poll() is not None:
                        raise BenchError("the sender exited with %s:\n%s"
                                         % (sender.returncode, tail(sender_log)))
                    sinks.drain()
                    for i in sinks.sample:
                        sinks.count[i] = 0
                    log("%s, %d flows, run %d (load %s)" % (side, cfg.flows, run, loadavg()))
                    fn = run_mroute if side == "mroute" else run_ffmpeg
                    try:
                        res = fn(cfg, children, tmp, cfg.flows, ingest, sinks)
                    except BenchError as e:
                        failed = True
                        print("\n%s, %d flows, run %d FAILED: %s\n" % (side, cfg.flows, run, e),
                              flush=True)
                        continue
                    res["reached"] = sinks.reached()
                    results.append((side, cfg.flows, run, res))
                    log("  CPU %.3f s/s, RSS %.1f MB, threads %d, CC errors %d"
                        % (res["share"], res["rss_mb"], res["threads"], cc_text(res["cc"])[0]))
        finally:
            if sender is not None:
                Children.end(sender, sig=signal.SIGINT, timeout=10)
            sinks.close()

        # part 2: mroute alone, 100 flows
        if not cfg.skip_100:
            sinks = Sinks(BIG, sample_of(BIG, cfg.sample))
            ingest = [ports.udp() for _ in range(BIG)]
            sender = None
            try:
                sender, sender_log = spawn_sender(children, clip, ingest, tmp)
                time.sleep(1)
                log("mroute, %d flows (load %s)" % (BIG, loadavg()))
                try:
                    big = run_mroute(cfg, children, tmp, BIG, ingest, sinks)
                    big["reached"] = sinks.reached()
                    if sender.poll() is not None:
                        log("warning: the sender exited during the run:\n" + tail(sender_log))
                except BenchError as e:
                    failed = True
                    big_err = str(e)
            finally:
                if sender is not None:
                    Children.end(sender, sig=signal.SIGINT, timeout=10)
                sinks.close()
        report(cfg, results, big, big_err)
    except BenchError as e:
        failed = True
        print("density: %s" % e, file=sys.stderr, flush=True)
        report(cfg, results, big, big_err)
    finally:
        signal.alarm(0)
        children.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
