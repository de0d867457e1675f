#!/usr/bin/env python3
"""What WebSocket clients cost the controller (issue 16: 200 clients at 20
flows under 2 % of a core).

One controller runs 20 flows (a `udp` source and one `udp` output each), all
fed by one `ffmpeg -re ... -f tee` sender of a 1 Mbit/s H.264/AAC TS (the
flows' media cost is the same in every window).  In turns, on the same
running flows: a window with no WebSocket client, then one with N clients
(default 200) connected to /v1/ws and subscribed to every flow ("*"), each
reading everything (metrics of 20 flows once a second, and the events).
Each window: the controller's CPU seconds from /proc/PID/task/*/schedstat
over `--seconds` (after a 3 s settle), as a share of one core.  The cost of
the clients is the difference; turns repeat `--repeat` times and the median
is printed with min and max.  The clients run in this process (one thread,
selectors), so their own CPU is not the controller's.

  python3 bench/websocket.py --build build [--clients 200] [--flows 20]
"""

import argparse
import base64
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    sys.stderr.write("[websocket] %s\n" % msg)
    sys.stderr.flush()


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def api(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def cpu_seconds(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):
            pass
    return total / 1e9


def make_clip(cache):
    path = os.path.join(cache, "ws-1mbit.ts")
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
                        "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
                        "-t", "20", "-c:v", "libx264", "-preset", "veryfast",
                        "-b:v", "900k", "-g", "50", "-c:a", "aac", "-b:a", "64k",
                        "-f", "mpegts", path + ".part"], check=True, timeout=300)
        os.rename(path + ".part", path)
    return path


class Clients:
    """N WebSocket clients in one thread: handshake, subscribe "*", then
    read and drop everything (answering nothing: the controller's pings
    come every 30 s, longer than a window)."""

    def __init__(self, port, n):
        self.socks = []
        self.bytes = 0
        self.stop = threading.Event()
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall(("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n" % (port, key)).encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("handshake closed")
                head += chunk
            if not head.startswith(b"HTTP/1.1 101"):
                raise RuntimeError("handshake: %r" % head[:200])
            payload = b'{"type":"subscribe","flows":"*"}'
            mask = os.urandom(4)
            s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask
                      + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            s.setblocking(False)
            self.socks.append(s)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        sel = selectors.DefaultSelector()
        for s in self.socks:
            sel.register(s, selectors.EVENT_READ)
        while not self.stop.is_set():
            for key, _ in sel.select(0.2):
                try:
                    data = key.fileobj.recv(1 << 16)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                self.bytes += len(data)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


def window(pid, seconds):
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--flows", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    build = os.path.abspath(args.build)
    binary = os.path.join(build, "controller", "mroute")
    clip = make_clip(os.path.join(build, "bench-cache"))
    tmp = tempfile.mkdtemp(prefix="mroute-bench-ws-")
    children = []
    sinks = []
    try:
        port = free_port(socket.SOCK_STREAM)
        env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, "plugins"))
        ctl = subprocess.Popen([binary, "--port", str(port), "--db", os.path.join(tmp, "db")],
                               stdout=open(os.path.join(tmp, "log"), "wb"),
                               stderr=subprocess.STDOUT, env=env, cwd=tmp)
        children.append(ctl)
        base = "http://127.0.0.1:%d" % port
        for _ in range(100):
            try:
                api(base, "GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        ins = []
        for i in range(args.flows):
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            sink.bind(("127.0.0.1", 0))
            sinks.append(sink)
            p = free_port()
            ins.append(p)
            f = api(base, "POST", "/v1/flows", {
                "name": "bench-%02d" % i,
                "sources": [{"name": "in", "protocol": "udp", "ingest_port": p}],
                "outputs": [{"name": "out", "protocol": "udp", "destination": "127.0.0.1",
                             "port": sink.getsockname()[1]}],
                "source_monitor_config": {"thumbnail_enabled": False,
                                          "content_quality_enabled": False}})
            api(base, "POST", "/v1/flows/%s/start" % f["id"])
        tee = "|".join("[f=mpegts]udp://127.0.0.1:%d?pkt_size=1316" % p for p in ins)
        children.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
             "-i", clip, "-map", "0", "-c", "copy", "-f", "tee", tee],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(5)
        active = sum(1 for f in api(base, "GET", "/v1/flows")["flows"] if f["status"] == "ACTIVE")
        log("%d of %d flows ACTIVE" % (active, args.flows))
        idle, busy, rates = [], [], []
        for turn in range(args.repeat):
            time.sleep(3)
            idle.append(window(ctl.pid, args.seconds))
            clients = Clients(port, args.clients)
            time.sleep(3)
            b0 = clients.bytes
            t0 = time.monotonic()
            busy.append(window(ctl.pid, args.seconds))
            rates.append((clients.bytes - b0) / (time.monotonic() - t0))
            alive = sum(1 for s in clients.socks if s.fileno() >= 0)
            clients.close()
            log("turn %d: no client %.2f %% of a core, %d clients %.2f %% (%.0f kB/s to them, "
                "%d connected)" % (turn + 1, idle[-1] * 100, args.clients, busy[-1] * 100,
                                   rates[-1] / 1000, alive))
        cost = [b - i for b, i in zip(busy, idle)]
        print("WebSocket clients' cost, %d flows (%d ACTIVE), %d clients subscribed to \"*\", "
              "%.0f s windows, %d turns" % (args.flows, active, args.clients, args.seconds,
                                           args.repeat))
        print("  controller without clients: %.2f %% of a core (median; min %.2f, max %.2f)"
              % (median(idle) * 100, min(idle) * 100, max(idle) * 100))
        print("  controller with clients:    %.2f %% of a core (median; min %.2f, max %.2f)"
              % (median(busy) * 100, min(busy) * 100, max(busy) * 100))
        print("  the clients' cost:          %.2f %% of a core (median; min %.2f, max %.2f); "
              "%.0f kB/s sent to them" % (median(cost) * 100, min(cost) * 100,
                                          max(cost) * 100, median(rates) / 1000))
        print("  target: under 2 %% of a core: %s" % ("met" if median(cost) < 0.02 else "NOT met"))
        return 0
    finally:
        for c in reversed(children):
            if c.poll() is None:
                c.send_signal(signal.SIGINT if c is not children[0] else signal.SIGTERM)
                try:
                    c.wait(15)
                except subprocess.TimeoutExpired:
                    c.kill()
                    c.wait()
        for s in sinks:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
