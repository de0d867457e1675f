#!/usr/bin/env python3
"""CPU of a gst-launch receiving two SRT callers (srt-live-transmit, AES-128),
10 s at 8.0 Mbit/s each, on 127.0.0.1: (a) two srtroutesrc sharing one port
(stream-id routing), (b) two srtsrc on two ports.  Prints the receiver's CPU
seconds (utime + stime over the sending window) and the bytes each route
received against those sent.  Twice, alternating.  Prints figures; does
not pass or fail.

    BUILDDIR=build python3 bench/srt-routing.py
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

OUT = tempfile.mkdtemp(prefix="srt-routing-bench-")

PLUG = os.path.join(os.environ.get("BUILDDIR", "build"), "plugins")
DUR, RATE_PPS = 10.0, 760   # 760 x 1316 B = 8.0 Mbit/s
env = dict(os.environ, GST_PLUGIN_PATH=PLUG)

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]; s.close(); return p

def pace(proc, n):
    data = os.urandom(1316)
    t0 = time.monotonic()
    for k in range(n):
        proc.stdin.write(data); proc.stdin.flush()
        dt = t0 + (k + 1) / RATE_PPS - time.monotonic()
        if dt > 0: time.sleep(dt)
    time.sleep(0.5)
    proc.stdin.close()

def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

def run(kind):
    outs = [OUT + "/%s-%d.out" % (kind, i) for i in range(2)]
    if kind == "routed":
        p = free_port(); ports = [p, p]
        srcs = ["srtroutesrc port=%d streamid=cam%d passphrase=passphrase-%d pbkeylen=16" % (p, i, i) for i in range(2)]
    else:
        ports = [free_port(), free_port()]
        srcs = ['srtsrc uri="srt://0.0.0.0:%d?mode=listener" passphrase=passphrase-%d pbkeylen=16' % (ports[i], i) for i in range(2)]
    line = " ".join("%s ! filesink location=%s" % (srcs[i], outs[i]) for i in range(2))
    rx = subprocess.Popen("exec gst-launch-1.0 -q " + line, shell=True, env=env)
    time.sleep(1.5)
    c0 = cpu(rx.pid)
    n = int(DUR * RATE_PPS)
    txs, ths = [], []
    for i in range(2):
        uri = "srt://127.0.0.1:%d?passphrase=passphrase-%d&pbkeylen=16" % (ports[i], i)
        if kind == "routed": uri += "&streamid=cam%d" % i
        tx = subprocess.Popen(["srt-live-transmit", "-q", "-c", "1316", "file://con", uri],
                              stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        txs.append(tx)
    time.sleep(0.5)
    for tx in txs:
        th = threading.Thread(target=pace, args=(tx, n)); th.start(); ths.append(th)
    for th in ths: th.join(DUR + 10)
    time.sleep(1.0)
    c1 = cpu(rx.pid)
    for tx in txs: tx.terminate(); tx.wait(5)
    rx.send_signal(2); rx.wait(10)
    got = [os.path.getsize(o) for o in outs]
    print("%-7s receiver CPU %.2f s for %.0f s x 2 callers; bytes %s of %d each"
          % (kind, c1 - c0, DUR, got, n * 1316))

try:
    for r in range(2):
        for kind in ("routed", "srtsrc"):
            run(kind)
finally:
    shutil.rmtree(OUT, ignore_errors=True)
