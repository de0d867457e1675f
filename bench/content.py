#!/usr/bin/env python3
"""Content analysis benchmark: `blackdetect ! freezedetect` against FFmpeg's
`-vf blackdetect,freezedetect`, and the CPU of content quality in a flow.

Part 1, the analyzers' cost per 1080p frame.  Every variant is a process of
its own, timed from outside (user+sys CPU of the whole process and its
threads, from os.wait4's rusage), on the same bytes:

  raw      a 1920x1080 I420 clip (default 200 frames, decoded once from the
           H.264 clip below: real encoder output, with a black stretch
           1.0-3.6 s and a frozen one 5.0-7.6 s, so that both detectors run
           both their paths), read from the page cache:
             ffmpeg -threads 1 -f rawvideo -pix_fmt yuv420p -s 1920x1080
                    -r 25 -i clip.yuv -filter_threads 1 -vf VF -f null -
             gst-launch-1.0 filesrc location=clip.yuv blocksize=3110400
                    ! rawvideoparse width=1920 height=1080 format=i420
                      framerate=25/1 ! CHAIN ! fakesink sync=false
           VF is `null` (the baseline), `blackdetect,freezedetect`,
           `blackdetect`, `freezedetect` (and the first two again with
           glibc's malloc told not to trim or mmap, see MALLOC_TUNABLES);
           CHAIN is nothing (the baseline),
           `blackdetect ! freezedetect`, each alone, and both with
           subsample=2.  Also the monitoring branch's former chain on the
           same frames (`videoscale ! 320 wide ! videoconvert`, with and
           without the two detectors), which showed that scaling cost more
           than analysing the full frame; the branch now analyses the
           decoded size with subsample=4.
  decoded  the same decode in both: the 20 s H.264 clip (MPEG-TS, 500
           frames) decoded by libavcodec on one thread, by ffmpeg
           (`-threads 1 -i clip.ts -map 0:v:0 -vf VF`) and by GStreamer
           (`tsdemux ! h264parse ! avdec_h264 max-threads=1 ! CHAIN`).

  Net analysis cost per frame = (CPU with the analyzers - CPU of the
  baseline of the same tool and the same repeat) / frames.  The ratio
  FFmpeg/ours is taken within each repeat; min/median/max over repeats, the
  order of the variants alternating from one repeat to the next.

Part 2, the extra CPU of content quality in a 1080p25 flow.  A real-time
sender (`ffmpeg -re -stream_loop -1 -i clip.ts -c copy -f mpegts udp://...`,
the same H.264/AAC clip at 5 Mbit/s), a fresh controller (BUILDDIR/
controller/mroute, its own database) per run with one flow: a `udp` source,
one `udp` output to a socket of this benchmark, and
`source_monitor_config.content_quality_enabled` false or true (the flow is
created with it; the setting takes effect at start).  After a warm-up, the
controller's CPU over a window from /proc/PID/task/*/schedstat (every
thread, ns), per thread name too.  Runs alternate off/on, on/off, ...
`GET /v1/flows/{id}/content-quality` is polled once a second in every run
(409 when off): with content quality on it must answer 200, and the flags
say whether the planted black and frozen stretches were seen.

The machine is shared and noisy: read the ratios, not the absolute figures.
Figures, not a test: the exit status is 1 only when a run failed (a process
that failed, a flow that did not run), not when the target is missed.
Standard library only.  Usage:

    python3 bench/content.py --build BUILDDIR [--parts 1,2] [--repeat 5]
                             [--frames 200] [--no-decoded] [--seconds 20]
                             [--warmup 5] [--flow-repeat 3] [--quick]
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fanout import (BenchError, Children, fmt_row, free_tcp_port,  # noqa: E402
                    free_udp_port, http, proc_status, tail)

HOST = "127.0.0.1"
WIDTH, HEIGHT, FPS = 1920, 1080, 25
FRAME_BYTES = WIDTH * HEIGHT * 3 // 2
CLIP_SECONDS = 20
CLIP_NAME = "content-1080p25-h264-aac-5M-20s-black1-3.6-frozen5-7.6.ts"
# black 1.0-3.6 s (drawbox), frozen 5.0-7.6 s (frame 125 shown 65 times)
CLIP_VIDEO = ("testsrc2=size=%dx%d:rate=%d:duration=%d,"
              "loop=loop=65:size=1:start=125,setpts=N/%d/TB,trim=duration=%d,"
              "drawbox=color=black:t=fill:enable='between(t,1,3.599)'"
              % (WIDTH, HEIGHT, FPS, CLIP_SECONDS, FPS, CLIP_SECONDS))
CLIP_AUDIO = ("sine=frequency=440:sample_rate=48000:duration=%d,"
              "pan=stereo|c0=c0|c1=c0" % CLIP_SECONDS)
ANALYSIS_WIDTH = 320            # the monitoring branch's (controller/monitor/)
TARGET_RATIO = 5.0
PROC_TIMEOUT = 300              # s, any one timed process
# glibc's malloc neither trims nor maps 3 MB blocks: see ffmpeg-m in part 1
MALLOC_TUNABLES = ("glibc.malloc.mmap_threshold=33554432:"
                   "glibc.malloc.trim_threshold=1073741824")


def log(msg):
    print("[content] " + msg, file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else None


def mmm(xs, fmt="%.2f"):
    """'min / median / max' of xs, or '-'."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return " / ".join(fmt % v for v in (min(xs), statistics.median(xs), max(xs)))


# ------------------------------------------------------------------ clips

def run_tool(args, what, timeout=900):
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError("%s took more than %d s" % (what, timeout))
    if r.returncode != 0:
        raise BenchError("%s failed (exit %d):\n%s" % (what, r.returncode,
                         r.stderr.decode("utf-8", "replace")[-2000:]))
    return r


def make_clips(cache, frames):
    """The H.264/AAC clip and the raw I420 clip of its first `frames`
    frames, made once and cached."""
    os.makedirs(cache, exist_ok=True)
    ts = os.path.join(cache, CLIP_NAME)
    if not (os.path.isfile(ts) and os.path.getsize(ts) > 1000000):
        tmp = ts + ".part-%d" % os.getpid()
        log("clip: making %s (once; cached)" % ts)
        try:
            run_tool(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                      "-f", "lavfi", "-i", CLIP_VIDEO, "-f", "lavfi", "-i", CLIP_AUDIO,
                      "-c:v", "libx264", "-preset", "veryfast", "-b:v", "5M", "-g", "50",
                      "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
                      "-f", "mpegts", tmp], "making the H.264 clip")
            os.replace(tmp, ts)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    else:
        log("clip: cached %s" % ts)

    yuv = os.path.join(cache, "content-1080p25-i420-%df.yuv" % frames)
    want = frames * FRAME_BYTES
    if not (os.path.isfile(yuv) and os.path.getsize(yuv) == want):
        tmp = yuv + ".part-%d" % os.getpid()
        log("clip: decoding %d frames to %s (once; cached)" % (frames, yuv))
        try:
            run_tool(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                      "-i", ts, "-map", "0:v:0", "-frames:v", str(frames),
                      "-pix_fmt", "yuv420p", "-f", "rawvideo", tmp], "decoding the raw clip")
            got = os.path.getsize(tmp)
            if got != want:
                raise BenchError("the raw clip has %d bytes, not %d (%d frames): the H.264 "
                                 "clip is shorter than --frames?" % (got, want, frames))
            os.replace(tmp, yuv)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    else:
        log("clip: cached %s" % yuv)
    return ts, yuv


def read_through(path):
    """Reads a file once, so that the timed runs read it from the page
    cache."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 << 20):
            pass


# ----------------------------------------------------------------- part 1

def ffmpeg_args(source, vf):
    if source["kind"] == "raw":
        inp = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "%dx%d" % (WIDTH, HEIGHT),
               "-r", str(FPS), "-i", source["path"]]
    else:
        inp = ["-i", source["path"], "-map", "0:v:0"]
    return (["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
             "-threads", "1"] + inp +
            ["-filter_threads", "1", "-vf", vf, "-f", "null", "-"])


def gst_args(source, chain):
    if source["kind"] == "raw":
        head = ["filesrc", "location=" + source["path"], "blocksize=%d" % FRAME_BYTES,
                "!", "rawvideoparse", "width=%d" % WIDTH, "height=%d" % HEIGHT,
                "format=i420", "framerate=%d/1" % FPS]
    else:
        head = ["filesrc", "location=" + source["path"], "!", "tsdemux", "!", "h264parse",
                "!", "avdec_h264", "max-threads=1"]
    body = []
    for element in chain:
        body += ["!"] + element.split()
    return ["gst-launch-1.0", "-m"] + head + body + ["!", "fakesink", "sync=false"]


SCALE = ["videoscale",
         "video/x-raw,width=%d,pixel-aspect-ratio=1/1" % ANALYSIS_WIDTH, "videoconvert"]
DET = ["blackdetect", "freezedetect"]

# (key, tool, label, ffmpeg -vf or gst chain, baseline key)
RAW_VARIANTS = [
    ("ff-null", "ffmpeg", "-vf null", "null", None),
    ("ff-det", "ffmpeg", "-vf blackdetect,freezedetect", "blackdetect,freezedetect", "ff-null"),
    ("ff-black", "ffmpeg", "-vf blackdetect", "blackdetect", "ff-null"),
    ("ff-freeze", "ffmpeg", "-vf freezedetect", "freezedetect", "ff-null"),
    ("ffm-null", "ffmpeg-m", "-vf null", "null", None),
    ("ffm-det", "ffmpeg-m", "-vf blackdetect,freezedetect", "blackdetect,freezedetect",
     "ffm-null"),
    ("gst-null", "gst", "(nothing)", [], None),
    ("gst-det", "gst", "blackdetect ! freezedetect", DET, "gst-null"),
    ("gst-black", "gst", "blackdetect", ["blackdetect"], "gst-null"),
    ("gst-freeze", "gst", "freezedetect", ["freezedetect"], "gst-null"),
    ("gst-det-ss2", "gst", "blackdetect ! freezedetect, subsample=2",
     ["blackdetect subsample=2", "freezedetect subsample=2"], "gst-null"),
    ("gst-scale", "gst", "videoscale ! %d wide ! videoconvert" % ANALYSIS_WIDTH, SCALE, None),
    ("gst-scale-det", "gst", "videoscale ! %d wide ! videoconvert ! blackdetect ! freezedetect"
     % ANALYSIS_WIDTH, SCALE + DET, "gst-scale"),
]
DECODED_VARIANTS = [
    ("ff-null", "ffmpeg", "-vf null", "null", None),
    ("ff-det", "ffmpeg", "-vf blackdetect,freezedetect", "blackdetect,freezedetect", "ff-null"),
    ("gst-null", "gst", "(nothing)", [], None),
    ("gst-det", "gst", "blackdetect ! freezedetect", DET, "gst-null"),
]


def count_events(tool, text):
    """(black stretches, freezes) reported in a run's output."""
    if tool.startswith("ffmpeg"):
        return (len(re.findall(r"black_start:", text)),
                len(re.findall(r"lavfi\.freezedetect\.freeze_start", text)))
    return (len(re.findall(r"blackdetect, event=\(string\)start", text)),
            len(re.findall(r"freezedetect, event=\(string\)start", text)))


def timed_run(args, env, tmp, name):
    """Runs one process to its end; returns its rusage and its output."""
    out_path = os.path.join(tmp, name + ".out")
    with open(out_path, "wb") as out:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, env=env)
    timer = threading.Timer(PROC_TIMEOUT, lambda: p.poll() is None and p.kill())
    timer.start()
    t0 = time.monotonic()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    os.unlink(out_path)
    if p.returncode != 0:
        raise BenchError("%s exited with %d:\n  %s\n%s" % (args[0], p.returncode,
                         " ".join(args), text[-1500:]))
    return {"cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime,
            "minflt": ru.ru_minflt, "wall": wall, "text": text}


def part1_set(cfg, env, tmp, source, variants):
    """Runs `variants` on `source` cfg.repeat times, alternating the order.
    Returns {key: [result per repeat]}."""
    def args_of(v):
        key, tool, _, what, _ = v
        return ffmpeg_args(source, what) if tool.startswith("ffmpeg") else gst_args(source, what)

    def env_of(v):
        return dict(env, GLIBC_TUNABLES=MALLOC_TUNABLES) if v[1] == "ffmpeg-m" else env

    read_through(source["path"])
    # untimed: the libraries, the registry and the file in the caches
    for v in variants:
        if v[4] is None:
            timed_run(args_of(v), env_of(v), tmp, "warm-" + v[0])

    results = {v[0]: [] for v in variants}
    for rep in range(cfg.repeat):
        order = variants if rep % 2 == 0 else list(reversed(variants))
        for v in order:
            r = timed_run(args_of(v), env_of(v), tmp, v[0])
            r["events"] = count_events(v[1], r["text"])
            m = re.findall(r"frame=\s*(\d+)", r["text"]) if v[1].startswith("ffmpeg") else []
            r["frames"] = int(m[-1]) if m else None
            del r["text"]
            results[v[0]].append(r)
        log("%s: repeat %d/%d done" % (source["kind"], rep + 1, cfg.repeat))
    return results


def summarize_set(source, variants, results):
    """Per variant: CPU, net CPU per frame (against the baseline of the same
    repeat) and the events seen; prints the table, returns the net ms/frame
    per repeat by key."""
    frames = source["frames"]
    net = {}
    for key, _, _, _, base in variants:
        if base:
            net[key] = [1000.0 * (r["cpu"] - b["cpu"]) / frames
                        for r, b in zip(results[key], results[base])]
    heads = ["tool", "chain", "runs", "CPU s min/med/max", "user s", "sys s",
             "minor faults", "ms CPU/frame", "net ms/frame min/med/max", "black/freeze events"]
    rows = []
    for key, tool, label, _, base in variants:
        rs = results[key]
        ev = sorted(set("%d/%d" % r["events"] for r in rs))
        rows.append([tool, label, len(rs), mmm([r["cpu"] for r in rs], "%.3f"),
                     "%.3f" % median([r["user"] for r in rs]),
                     "%.3f" % median([r["sys"] for r in rs]),
                     "%d" % median([r["minflt"] for r in rs]),
                     "%.3f" % (1000.0 * median([r["cpu"] for r in rs]) / frames),
                     mmm(net[key], "%.3f") if base else "(baseline)",
                     ",".join(ev)])
    widths = [max(len(str(h)), max(len(str(r[i])) for r in rows)) for i, h in enumerate(heads)]
    print(fmt_row(heads, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for row in rows:
        print(fmt_row(row, widths))
    return net


def ratio_line(name, ff, ours):
    rs = [f / o for f, o in zip(ff, ours) if o > 0]
    if not rs:
        print("  %s: ours costs nothing measurable" % name)
        return None
    print("  %-44s %s  (FFmpeg %s ms/frame, ours %s ms/frame, medians)"
          % (name + ":", mmm(rs), "%.3f" % median(ff), "%.3f" % median(ours)))
    return median(rs)


def part1(cfg, env, tmp, ts, yuv):
    out = {}
    sources = [("raw", {"kind": "raw", "path": yuv, "frames": cfg.frames}, RAW_VARIANTS)]
    if cfg.decoded:
        sources.append(("decoded", {"kind": "ts", "path": ts, "frames": None},
                        DECODED_VARIANTS))
    all_results = {}
    for name, source, variants in sources:
        log("part 1, %s: %d repeat(s) of %d processes" % (name, cfg.repeat, len(variants)))
        res = part1_set(cfg, env, tmp, source, variants)
        if source["frames"] is None:
            counts = set(r["frames"] for k in ("ff-null", "ff-det") for r in res[k])
            if len(counts) != 1 or None in counts:
                raise BenchError("FFmpeg decoded %s frames of %s" % (sorted(counts), ts))
            source["frames"] = counts.pop()
        else:
            for k in ("ff-null", "ff-det", "ffm-null", "ffm-det"):
                for r in res[k]:
                    if r["frames"] != source["frames"]:
                        raise BenchError("FFmpeg read %s frames of %s, not %d"
                                         % (r["frames"], yuv, source["frames"]))
        all_results[name] = (source, variants, res)

    print()
    print("part 1: analysis cost per 1080p frame, %s, %d repeat(s), %d CPU(s), %s"
          % ("FFmpeg 5.1 filters against blackdetect ! freezedetect",
             cfg.repeat, os.cpu_count(), time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    print("CPU: user+sys of the whole process (os.wait4 rusage; the user/sys split is "
          "tick-sampled, the sum is exact); net = minus the baseline of the same repeat")
    for name, (source, variants, res) in all_results.items():
        print()
        if name == "raw":
            print("raw: %d frames 1920x1080 I420 (%.0f MB) from the page cache "
                  "(ffmpeg -f rawvideo / filesrc ! rawvideoparse), 1 thread each"
                  % (source["frames"], source["frames"] * FRAME_BYTES / 1e6))
        else:
            print("decoded: %d frames of H.264 1080p25 5 Mbit/s decoded by libavcodec "
                  "on 1 thread in both (ffmpeg -threads 1 / avdec_h264 max-threads=1)"
                  % source["frames"])
        out[name] = summarize_set(source, variants, res)
        if name == "raw":
            print("ffmpeg-m: the same ffmpeg with GLIBC_TUNABLES=%s: glibc's malloc then keeps "
                  "freed 3 MB packets instead of unmapping or trimming them; with freezedetect "
                  "holding a frame, plain ffmpeg gets fresh zeroed pages (minor faults) for "
                  "many packets, allocator cost that lands in its 'net' figure" % MALLOC_TUNABLES)
        out[name + "-frames"] = source["frames"]
        out[name + "-results"] = res

    print()
    print("ratio FFmpeg/ours, net analysis CPU per frame (min / median / max over repeats):")
    raw = out["raw"]
    main = ratio_line("raw, blackdetect+freezedetect", raw["ff-det"], raw["gst-det"])
    ratio_line("raw, both, FFmpeg with malloc tunables", raw["ffm-det"], raw["gst-det"])
    ratio_line("raw, blackdetect alone", raw["ff-black"], raw["gst-black"])
    ratio_line("raw, freezedetect alone", raw["ff-freeze"], raw["gst-freeze"])
    ss2 = ratio_line("raw, ours with subsample=2", raw["ff-det"], raw["gst-det-ss2"])
    dec = None
    if "decoded" in out:
        d = out["decoded"]
        dec = ratio_line("decoded, blackdetect+freezedetect", d["ff-det"], d["gst-det"])
    print("the monitoring branch's former chain on the raw frames (it now analyses the "
          "decoded size with subsample=4): videoscale to %d wide + "
          "videoconvert %.3f ms/frame, then blackdetect ! freezedetect on the %dx%d frame "
          "%s ms/frame"
          % (ANALYSIS_WIDTH,
             1000.0 * (median([r["cpu"] for r in out["raw-results"]["gst-scale"]]) -
                       median([r["cpu"] for r in out["raw-results"]["gst-null"]]))
             / out["raw-frames"],
             ANALYSIS_WIDTH, ANALYSIS_WIDTH * HEIGHT // WIDTH, mmm(raw["gst-scale-det"], "%.3f")))
    print()
    print("target: our analysis at least %.0fx faster than FFmpeg's filters "
          "(net CPU per 1080p frame, raw frames, default settings)" % TARGET_RATIO)
    if main is not None:
        print("  ratio %.2f -> %s" % (main, "met" if main >= TARGET_RATIO else "NOT met"))
    if ss2 is not None:
        print("  (with subsample=2: %.2f -> %s)"
              % (ss2, "would be met" if ss2 >= TARGET_RATIO else "not met either"))
    if dec is not None:
        print("  (decode included in both: %.2f -> %s)"
              % (dec, "met" if dec >= TARGET_RATIO else "not met"))
    sys.stdout.flush()
    return out


# ----------------------------------------------------------------- part 2

def task_cpu(pid):
    """{tid: (thread name, CPU ns)} from /proc/PID/task/*/schedstat."""
    out = {}
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, "schedstat")) as f:
                ns = int(f.read().split()[0])
            with open(os.path.join(task_dir, tid, "comm")) as f:
                comm = f.read().strip()
        except (OSError, ValueError, IndexError):
            continue    # a thread that ended between listdir and open
        out[int(tid)] = (comm, ns)
    return out


class Receiver:
    """One UDP socket of the flow's output, read by a thread that counts."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        buf = bytearray(65536)
        while not self._stop.is_set():
            try:
                self.sock.recv_into(buf)
            except socket.timeout:
                continue
            except OSError:
                return
            self.count += 1

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
        self.sock.close()


def cq_poll(api, fid):
    """(status code, body) of GET content-quality."""
    try:
        return http(api, "GET", "/v1/flows/%s/content-quality" % fid, timeout=3)
    except OSError as e:
        return None, str(e)


def run_flow(cfg, children, tmp, sender_port, receiver, cq_on, run):
    binary = os.path.join(cfg.build, "controller", "mroute")
    if not os.access(binary, os.X_OK):
        raise BenchError("%s is missing: build first (ninja -C %s)" % (binary, cfg.build))
    run_dir = tempfile.mkdtemp(prefix="mroute-cq-%s-%d-" % ("on" if cq_on else "off", run),
                               dir=tmp)
    api = free_tcp_port()
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = os.path.join(cfg.build, "plugins")
    env["GST_REGISTRY"] = os.path.join(cfg.cache, "gst-registry.bin")
    env.pop("MROUTE_PORT", None)
    logp = os.path.join(run_dir, "mroute.log")
    p = children.spawn([binary, "--port", str(api), "--host", HOST,
                        "--db", os.path.join(run_dir, "mroute.db")], logp, env=env, cwd=run_dir)
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
            "name": "bench-content-%s" % ("on" if cq_on else "off"),
            "source": {"name": "in", "protocol": "udp", "ingest_port": sender_port,
                       "ingest_address": HOST},
            "outputs": [{"name": "out", "protocol": "udp", "destination": HOST,
                         "port": receiver.port}],
            "source_monitor_config": {"thumbnail_enabled": False,
                                      "content_quality_enabled": cq_on},
        }
        code, flow = http(api, "POST", "/v1/flows", body)
        if code != 201:
            raise BenchError("POST /v1/flows answered %s: %r" % (code, flow))
        fid = flow["id"]
        got = (flow.get("source_monitor_config") or {}).get("content_quality_enabled")
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
            raise BenchError("flow %s is %s, not ACTIVE, 15 s after start\nevents: %s\nlog:\n%s"
                             % (fid, status, json.dumps(ev), tail(logp)))
        if not receiver.wait_data(10):
            raise BenchError("flow %s is ACTIVE but its output received nothing in 10 s\n"
                             "log:\n%s" % (fid, tail(logp)))

        # content quality: the first analysed frame comes after the decoder
        # has its first key frame (the clip has one every 2 s)
        cq = {"config": got, "codes": {}, "black": False, "frozen": False, "silent": False,
              "first": None}

        def poll():
            code, ans = cq_poll(api, fid)
            cq["codes"][code] = cq["codes"].get(code, 0) + 1
            if code == 200 and isinstance(ans, dict):
                if cq["first"] is None:
                    cq["first"] = ans
                cq["black"] |= bool(ans.get("black_frame_detected"))
                cq["frozen"] |= bool(ans.get("frozen_frame_detected"))
                cq["silent"] |= bool(ans.get("silent_audio_detected"))
            elif code != 409:
                cq["last_other"] = (code, ans)
            return code

        warm_end = time.monotonic() + cfg.warmup
        while time.monotonic() < warm_end:
            if p.poll() is not None:
                raise BenchError("mroute exited with %s during the warm-up:\n%s"
                                 % (p.returncode, tail(logp)))
            poll()
            time.sleep(max(0.0, min(1.0, warm_end - time.monotonic())))
        if cq_on:
            # wait (unmeasured, at most 10 s more) for a 200 before the window
            deadline = time.monotonic() + 10
            while poll() != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
        cq["codes"] = {}

        c0 = receiver.count
        t0 = task_cpu(p.pid)
        w0 = time.monotonic()
        end = w0 + cfg.seconds
        threads, rss = [], []
        while True:
            now = time.monotonic()
            if now >= end:
                break
            time.sleep(min(1.0, end - now))
            if p.poll() is not None:
                raise BenchError("mroute exited with %s during the window (%.1f s in):\n%s"
                                 % (p.returncode, time.monotonic() - w0, tail(logp)))
            poll()
            try:
                st = proc_status(p.pid)
            except (OSError, KeyError):
                continue    # it is exiting: the next check says how
            threads.append(st["Threads"])
            rss.append(st["VmRSS"])
        if p.poll() is not None:
            raise BenchError("mroute exited with %s at the end of the window:\n%s"
                             % (p.returncode, tail(logp)))
        t1 = task_cpu(p.pid)
        wall = time.monotonic() - w0
        c1 = receiver.count

        per_name = {}
        total = 0
        for tid, (comm, ns) in t1.items():
            d = ns - t0.get(tid, (comm, 0))[1]
            total += d
            per_name[comm] = per_name.get(comm, 0) + d
        gone = [tid for tid in t0 if tid not in t1]
        res = {
            "cq": cq_on, "run": run, "cpu_s": total / 1e9, "wall_s": wall,
            "cpu_pct": 100.0 * total / 1e9 / wall, "frames": FPS * wall,
            "threads": max(threads) if threads else None,
            "rss_mb": max(rss) if rss else None,
            "out_dps": (c1 - c0) / wall, "per_name": per_name, "gone": len(gone), "cq_info": cq,
        }
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


def cq_text(r):
    cq = r["cq_info"]
    codes = ",".join("%s x%d" % (c, n) for c, n in sorted(cq["codes"].items(), key=str))
    if not r["cq"]:
        return codes
    seen = [name for name in ("black", "frozen", "silent") if cq[name]]
    return "%s; seen: %s" % (codes, "+".join(seen) if seen else "none")


def part2(cfg, children, tmp, ts, p1):
    sender_port = free_udp_port()
    sender_log = os.path.join(tmp, "sender.log")
    sender = children.spawn(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
         "-re", "-stream_loop", "-1", "-i", ts, "-map", "0", "-c", "copy",
         "-f", "mpegts", "udp://%s:%d?pkt_size=1316" % (HOST, sender_port)], sender_log)
    log("part 2: sender pid %d -> udp://%s:%d" % (sender.pid, HOST, sender_port))
    time.sleep(1)
    receiver = Receiver()
    results, failed = [], False
    try:
        for run in range(1, cfg.flow_repeat + 1):
            for cq_on in ((False, True) if run % 2 else (True, False)):
                if sender.poll() is not None:
                    raise BenchError("the sender exited with %s:\n%s"
                                     % (sender.returncode, tail(sender_log)))
                log("part 2: content quality %s, run %d: warm-up %s s, window %s s"
                    % ("on" if cq_on else "off", run, cfg.warmup, cfg.seconds))
                try:
                    r = run_flow(cfg, children, tmp, sender_port, receiver, cq_on, run)
                except BenchError as e:
                    failed = True
                    print("\npart 2: content quality %s, run %d FAILED: %s\n"
                          % ("on" if cq_on else "off", run, e), flush=True)
                    continue
                results.append(r)
                log("  CPU %.3f s (%.1f %% of one core), %s" % (r["cpu_s"], r["cpu_pct"],
                                                                 cq_text(r)))
    finally:
        receiver.close()
        Children.end(sender, timeout=5)
    if results:
        report2(cfg, results, p1)
    return failed


def report2(cfg, results, p1):
    print()
    print("part 2: controller CPU of a 1080p25 H.264/AAC flow (5 Mbit/s, real-time sender, "
          "udp in, 1 udp out), content quality off/on, %s s window after %s s warm-up, "
          "%d CPU(s), %s" % (cfg.seconds, cfg.warmup, os.cpu_count(),
                             time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    print("CPU: scheduler run time of every controller thread (/proc/PID/task/*/schedstat, ns); "
          "frames = 25 x window")
    print()
    heads = ["content quality", "run", "CPU s", "CPU %1core", "ms CPU/frame", "threads",
             "RSS MB", "dgram/s out", "GET content-quality in window"]
    rows = []
    for r in results:
        rows.append(["on" if r["cq"] else "off", r["run"], "%.3f" % r["cpu_s"],
                     "%.2f" % r["cpu_pct"], "%.3f" % (1000.0 * r["cpu_s"] / r["frames"]),
                     r["threads"], "-" if r["rss_mb"] is None else "%.1f" % r["rss_mb"],
                     "%.0f" % r["out_dps"], cq_text(r)])
    widths = [max(len(str(h)), max(len(str(row[i])) for row in rows)) for i, h in enumerate(heads)]
    print(fmt_row(heads, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for row in rows:
        print(fmt_row(row, widths))

    # the threads: median CPU % per thread name, off and on
    print()
    names = {}
    for r in results:
        for comm, ns in r["per_name"].items():
            names.setdefault(comm, {True: [], False: []})[r["cq"]].append(
                100.0 * ns / 1e9 / r["wall_s"])
    for comm in names:      # a thread absent from a run used nothing in it
        for on in (False, True):
            n = sum(1 for r in results if r["cq"] == on)
            names[comm][on] += [0.0] * (n - len(names[comm][on]))
    top = sorted(names.items(),
                 key=lambda kv: -(median(kv[1][True]) or 0) - (median(kv[1][False]) or 0))
    th = ["thread (comm)", "CPU %1core off (median)", "CPU %1core on (median)"]
    trows = [[c, "%.2f" % (median(v[False]) or 0.0), "%.2f" % (median(v[True]) or 0.0)]
             for c, v in top[:10]]
    tw = [max(len(h), max(len(r[i]) for r in trows)) for i, h in enumerate(th)]
    print("threads (top 10 by CPU; GStreamer's streaming threads are named after the pad "
          "that runs them, s0/s1 = the monitor's stream 0/1):")
    print(fmt_row(th, tw))
    print(fmt_row(["-" * w for w in tw], tw))
    for row in trows:
        print(fmt_row(row, tw))

    off = [r for r in results if not r["cq"]]
    on = [r for r in results if r["cq"]]
    print()
    if off:
        print("CPU %% of one core, content quality off: %s" % mmm([r["cpu_pct"] for r in off]))
    if on:
        print("CPU %% of one core, content quality on:  %s" % mmm([r["cpu_pct"] for r in on]))
    pairs = []
    for run in sorted(set(r["run"] for r in results)):
        a = [r for r in off if r["run"] == run]
        b = [r for r in on if r["run"] == run]
        if a and b:
            pairs.append((a[0], b[0]))
    if pairs:
        extra_pct = [b["cpu_pct"] - a["cpu_pct"] for a, b in pairs]
        extra_ms = [1000.0 * (b["cpu_s"] / b["frames"] - a["cpu_s"] / a["frames"])
                    for a, b in pairs]
        print("extra with content quality on (paired within a run, min / median / max): "
              "%s %% of one core, %s ms CPU per frame" % (mmm(extra_pct), mmm(extra_ms, "%.3f")))
    available = bool(on) and all(200 in r["cq_info"]["codes"] for r in on)
    if on and not available:
        why = set()
        for r in on:
            cq = r["cq_info"]
            if cq["config"] is not True:
                why.add("the flow came back with content_quality_enabled %r" % cq["config"])
            if "last_other" in cq:
                why.add("GET content-quality answered %s: %s" % cq["last_other"])
            if 200 not in cq["codes"]:
                why.add("no 200 in the window (%s)" % cq_text(r))
        print("content quality not available in this build: %s" % "; ".join(sorted(why)))
        print("  (the on/off figures above then measure the same flow twice)")
    elif on:
        seen = [n for n in ("black", "frozen", "silent") if all(r["cq_info"][n] for r in on)]
        print("content quality available: 200 in every 'on' run; flags seen in every window: %s "
              "(the clip has black 1.0-3.6 s and frozen 5.0-7.6 s in every 20 s loop; no silence)"
              % ("+".join(seen) if seen else "none"))
    print("what 'on' adds (controller/monitor/content-quality.c): per stream, queue (leaky) ! "
          "decoder (1 thread) ! ...; video: videoconvert ! blackdetect subsample=4 "
          "! freezedetect subsample=4 ! fakesink, every frame decoded at its size; audio: "
          "audioconvert ! F32LE ! silencedetect ! fakesink")
    if p1:
        raw, f = p1.get("raw"), p1.get("raw-frames")
        res = p1.get("raw-results")
        parts = []
        if "decoded-results" in p1:
            dres, dfr = p1["decoded-results"], p1["decoded-frames"]
            parts.append("1080p H.264 decode (avdec_h264, 1 thread, part 1 baseline) %.3f ms/frame"
                         % (1000.0 * median([r["cpu"] for r in dres["gst-null"]]) / dfr))
        if raw:
            parts.append("scale to %d + convert %.3f ms/frame"
                         % (ANALYSIS_WIDTH,
                            1000.0 * (median([r["cpu"] for r in res["gst-scale"]]) -
                                      median([r["cpu"] for r in res["gst-null"]])) / f))
            parts.append("blackdetect ! freezedetect on the %dx%d frame %.3f ms/frame "
                         "(on a 1080p frame %.3f)"
                         % (ANALYSIS_WIDTH, ANALYSIS_WIDTH * HEIGHT // WIDTH,
                            median(raw["gst-scale-det"]), median(raw["gst-det"])))
        print("from part 1, for comparison: " + "; ".join(parts))
    sys.stdout.flush()


# ------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--parts", default="1,2", help="1, 2 or 1,2 (default)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="part 1: repeats of every process (default 5)")
    ap.add_argument("--frames", type=int, default=200,
                    help="part 1: frames of the raw clip (default 200, at most 500)")
    ap.add_argument("--no-decoded", dest="decoded", action="store_false",
                    help="part 1: skip the decode-included variant")
    ap.add_argument("--seconds", type=float, default=None, help="part 2: window (default 20)")
    ap.add_argument("--warmup", type=float, default=None, help="part 2: warm-up (default 5)")
    ap.add_argument("--flow-repeat", type=int, default=None,
                    help="part 2: off/on pairs, order alternating (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="3 repeats in part 1; 10 s windows, 3 s warm-up, 2 pairs in part 2")
    cfg = ap.parse_args(argv)
    cfg.parts = set(x.strip() for x in cfg.parts.split(",") if x.strip())
    if not cfg.parts or not cfg.parts <= {"1", "2"}:
        ap.error("--parts: 1, 2 or 1,2")
    if cfg.repeat is None:
        cfg.repeat = 3 if cfg.quick else 5
    if cfg.seconds is None:
        cfg.seconds = 10 if cfg.quick else 20
    if cfg.warmup is None:
        cfg.warmup = 3 if cfg.quick else 5
    if cfg.flow_repeat is None:
        cfg.flow_repeat = 2 if cfg.quick else 3
    if cfg.repeat < 1 or cfg.flow_repeat < 1:
        ap.error("--repeat, --flow-repeat: at least 1")
    if not 1 <= cfg.frames <= CLIP_SECONDS * FPS:
        ap.error("--frames: 1 to %d" % (CLIP_SECONDS * FPS))
    for name in ("seconds", "warmup"):
        v = getattr(cfg, name)
        setattr(cfg, name, int(v) if v == int(v) else v)
    cfg.build = os.path.abspath(cfg.build)
    cfg.cache = os.path.join(cfg.build, "bench-cache")
    return cfg


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def on_alarm(_signum, _frame):
    raise BenchError("the whole benchmark ran past its time limit")


def main(argv):
    cfg = parse_args(argv)
    for tool in ("ffmpeg", "gst-launch-1.0"):
        if not shutil.which(tool):
            print("content: %s is not installed" % tool, file=sys.stderr)
            return 2
    plugins = os.path.join(cfg.build, "plugins")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(900 + cfg.repeat * 150 +
                     2 * cfg.flow_repeat * (cfg.seconds + cfg.warmup + 60)))

    children = Children()
    tmp = tempfile.mkdtemp(prefix="mroute-bench-content-")
    failed = False
    try:
        ts, yuv = make_clips(cfg.cache, cfg.frames)
        env = dict(os.environ)
        env["GST_PLUGIN_PATH"] = plugins
        env["GST_REGISTRY"] = os.path.join(cfg.cache, "gst-registry.bin")
        p1 = None
        if "1" in cfg.parts:
            r = subprocess.run(["gst-inspect-1.0", "blackdetect"], env=env,
                               capture_output=True, timeout=60)
            if r.returncode != 0:
                raise BenchError("blackdetect is not in %s: build first (ninja -C %s)"
                                 % (plugins, cfg.build))
            p1 = part1(cfg, env, tmp, ts, yuv)
        if "2" in cfg.parts:
            failed |= part2(cfg, children, tmp, ts, p1)
    except BenchError as e:
        failed = True
        print("content: %s" % e, file=sys.stderr, flush=True)
    finally:
        signal.alarm(0)
        children.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
