#!/usr/bin/env python3
"""What an RTSP viewer costs the controller.

One flow: a live H.264 + AAC MPEG-TS sender (gst-launch-1.0, 2 Mbit/s,
7 TS packets per datagram) into a udp source, one rtsp output.  For N = 0,
1, 4, 8 viewers (`ffmpeg -rtsp_transport tcp -i URL -c copy -f null -`,
nothing decoded), after a 3 s warm-up, over a WINDOW s window: the
controller's CPU seconds (its threads' schedstat), its resident memory and
threads, and the viewers the API counts.  Everything on 127.0.0.1, every
process bounded by `timeout` and stopped at the end.

    python3 bench/rtsp_viewers.py --build BUILDDIR [--seconds 10]

Prints figures; passes or fails nothing.  Compare the rows of one run (the
machine is shared), not absolute times."""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "VmRSS":
                out["rss_mb"] = int(value.split()[0]) / 1024.0
            elif key == "Threads":
                out["threads"] = int(value)
    return out


def api(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--viewers", default="0,1,4,8")
    args = ap.parse_args()
    counts = [int(n) for n in args.viewers.split(",")]
    total = len(counts) * (args.seconds + 8) + 30
    tmp = tempfile.mkdtemp(prefix="mroute-rtsp-bench-")
    procs = []
    http, rtsp, ingest = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM), \
        free_port(socket.SOCK_DGRAM)
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(args.build, "plugins"))
    try:
        ctl = subprocess.Popen(["timeout", str(total), os.path.join(args.build, "controller", "mroute"),
                                "--port", str(http), "--rtsp-port", str(rtsp),
                                "--db", os.path.join(tmp, "db")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        procs.append(ctl)
        base = "http://127.0.0.1:%d" % http
        for _ in range(100):
            try:
                api(base, "GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        pid = int(subprocess.run(["pgrep", "-P", str(ctl.pid)], stdout=subprocess.PIPE)
                  .stdout.split()[0])
        flow = api(base, "POST", "/v1/flows", {
            "name": "bench", "source": {"name": "in", "protocol": "udp", "ingest_port": ingest},
            "outputs": [{"name": "rtsp", "protocol": "rtsp", "path": "bench"}]})
        api(base, "POST", "/v1/flows/%s/start" % flow["id"])
        sender = subprocess.Popen(
            ["timeout", str(total), "gst-launch-1.0", "-q", "videotestsrc", "is-live=true",
             "pattern=ball", "!", "video/x-raw,width=640,height=360,framerate=25/1", "!",
             "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "bitrate=1500",
             "key-int-max=25", "!", "h264parse", "!", "queue", "!", "mux.",
             "audiotestsrc", "is-live=true", "samplesperbuffer=1024", "!",
             "audio/x-raw,rate=48000,channels=2", "!", "audioconvert", "!", "avenc_aac", "!",
             "aacparse", "!", "queue", "!", "mux.", "mpegtsmux", "name=mux", "alignment=7",
             "bitrate=2000000", "!", "udpsink", "host=127.0.0.1", "port=%d" % ingest],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(sender)
        time.sleep(3)
        url = "rtsp://127.0.0.1:%d/bench" % rtsp
        print("viewers  cpu_s/s  rss_MB  threads  api_viewers")
        for n in counts:
            viewers = [subprocess.Popen(["timeout", str(args.seconds + 10), "ffmpeg", "-nostdin",
                                         "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
                                         "-c", "copy", "-f", "null", "-"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(n)]
            procs.extend(viewers)
            time.sleep(3)
            c0, t0 = cpu_seconds(pid), time.monotonic()
            time.sleep(args.seconds)
            c1, t1 = cpu_seconds(pid), time.monotonic()
            m = api(base, "GET", "/v1/flows/%s/metrics" % flow["id"])["output_metrics"][0]
            st = status(pid)
            print("%7d  %7.3f  %6.1f  %7d  %11d" % (n, (c1 - c0) / (t1 - t0), st["rss_mb"],
                                                    st["threads"], m.get("rtsp", {}).get("viewers", -1)))
            for v in viewers:
                v.terminate()
            for v in viewers:
                v.wait(10)
            time.sleep(1)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
