"""Shared media helpers of the integration tests: a real H.264/AAC test clip,
the TS continuity check, and small waiting/logging helpers.  Standard
library only."""

import os
import signal
import socket
import subprocess
import tempfile
import time

DGRAM = 1316                 # 7 TS packets: one datagram
TS = 188


def ts_cc_errors(data):
    """Counts continuity errors in a byte string of 188-byte TS packets.

    Per PID (the null PID 0x1FFF excluded), every packet carrying a payload
    must have the continuity counter of the previous packet of that PID plus
    one, mod 16, unless its adaptation field sets discontinuity_indicator.
    Packets without payload must not change the counter (not counted here).
    A packet not starting with 0x47 or a length that is not a multiple of 188
    is an error too.  Returns (errors, list of short descriptions)."""
    errors = 0
    notes = []
    if len(data) % TS:
        errors += 1
        notes.append("length %d is not a multiple of 188" % len(data))
    last = {}
    n = len(data) // TS
    for i in range(n):
        off = i * TS
        b0, b1, b2, b3 = data[off], data[off + 1], data[off + 2], data[off + 3]
        if b0 != 0x47:
            errors += 1
            if len(notes) < 10:
                notes.append("packet %d: sync byte 0x%02x" % (i, b0))
            continue
        pid = ((b1 & 0x1F) << 8) | b2
        if pid == 0x1FFF:
            continue
        afc = (b3 >> 4) & 0x3
        cc = b3 & 0x0F
        has_payload = bool(afc & 0x1)
        discontinuity = False
        if afc & 0x2:
            af_len = data[off + 4]
            if af_len > 0 and (data[off + 5] & 0x80):
                discontinuity = True
        if pid not in last or discontinuity:
            last[pid] = cc
            continue
        if not has_payload:
            continue
        expected = (last[pid] + 1) & 0x0F
        if cc != expected:
            errors += 1
            if len(notes) < 10:
                notes.append("packet %d pid 0x%04x: cc %d, expected %d" % (i, pid, cc, expected))
        last[pid] = cc
    return errors, notes


def make_ts_clip(prefix, seconds, min_bytes):
    """Encodes a real H.264 + AAC MPEG-TS clip (640x360, 25 fps) with
    ffmpeg into a new temp dir, cut to whole 1316-byte datagrams, checked to
    have no continuity errors.  Returns (dir, path, bytes)."""
    clip_dir = tempfile.mkdtemp(prefix=prefix)
    path = os.path.join(clip_dir, "clip.ts")
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
           "-b:v", "2M", "-c:a", "aac", "-f", "mpegts", "-muxrate", "3M", path]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    if r.returncode != 0 or not os.path.exists(path):
        raise RuntimeError("ffmpeg failed (%d): %s"
                           % (r.returncode, r.stderr.decode("utf-8", "replace")))
    size = os.path.getsize(path)
    if size < min_bytes:
        raise RuntimeError("clip.ts is only %d bytes" % size)
    # whole datagrams: some senders (srt-live-transmit) drop a short last read
    size -= size % DGRAM
    with open(path, "r+b") as f:
        f.truncate(size)
    with open(path, "rb") as f:
        clip = f.read()
    errors, notes = ts_cc_errors(clip)
    if errors:
        raise RuntimeError("the clip itself has %d continuity errors: %s" % (errors, notes))
    return clip_dir, path, clip


def contiguous_offset(data, whole):
    """Offset at which `data` is a contiguous slice of `whole`, or -1."""
    if not data:
        return -1
    head = data[:4 * DGRAM]
    off = whole.find(head)
    while off >= 0:
        if whole[off:off + len(data)] == data:
            return off
        off = whole.find(head, off + 1)
    return -1


def tail(path, n=3000):
    """The last `n` bytes of a log file, as text ("" if unreadable)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def wait_until(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def test_failed(testcase):
    """Whether `testcase` has failed so far, usable from tearDown (Python
    3.11 resets _outcome.success while tearDown runs: look at the result)."""
    outcome = getattr(testcase, "_outcome", None)
    result = getattr(outcome, "result", None)
    if result is None:
        return False
    return any(t is testcase for t, _ in list(result.failures) + list(result.errors))


RCVBUF = 4 * 1024 * 1024
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)   # Linux value


def udp_socket(port, host="127.0.0.1", rcvbuf=RCVBUF):
    """A UDP socket bound to host:port with a large receive buffer (forced
    when running as root), so that loopback bursts are not dropped."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, port))
    return s


def first_difference(a, b):
    """The first byte offset where a and b differ, len of the shorter one if
    one is a prefix of the other, -1 if equal."""
    n = min(len(a), len(b))
    step = 65536
    for base in range(0, n, step):
        if a[base:base + step] != b[base:base + step]:
            for i in range(base, min(base + step, n)):
                if a[i] != b[i]:
                    return i
    return n if len(a) != len(b) else -1


def describe_mismatch(got, want, unit=TS, unit_name="TS packet"):
    off = first_difference(got, want)
    return ("got %d bytes, want %d; first difference at byte %d (%s %d)"
            % (len(got), len(want), off, unit_name, off // unit if off >= 0 else -1))


def kill_proc(proc, sig=signal.SIGINT):
    """Stops a subprocess: @sig, then SIGKILL if it is still there after 3 s."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    except OSError:
        pass


def describe_dgram_mismatch(got, want):
    """describe_mismatch() counted in 1316-byte datagrams."""
    return describe_mismatch(got, want, DGRAM, "datagram")
