"""What the cluster tests (test_cluster.py, test_cluster_1plus1.py) and
bench/cluster.py share: a private network namespace whose loopback carries
multicast, controllers that are nodes of one PostgreSQL database, a sender
of numbered TS datagrams to many multicast groups, and a receiver that
records, for each flow's output, when each datagram came, from which
sender and with which number.

Everything runs inside a network namespace of its own (`unshare -n`, so it
goes when the test goes): multicast on its loopback lets any node join a
flow's source group (a pull source that can move between nodes), as it
would on a plant's network.  Standard library only."""

import json
import os
import select
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
from mroute_harness import Controller, free_port  # noqa: E402

SKIP = 77
NETNS_MARK = "MROUTE_CLUSTER_NETNS"


def log(tag, msg):
    sys.stderr.write("[%s %s] %s\n" % (tag, time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def enter_private_netns(script, tag):
    """Runs `script` again inside a new network namespace (unshare -n) and
    exits with its status; returns inside it, after bringing its loopback
    up with multicast routed on it.  Exits 77 (skip) where that cannot be
    done."""
    if os.environ.get(NETNS_MARK) != "1":
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
            print("SKIP: needs root, unshare and ip for a private network namespace "
                  "(multicast on its loopback)")
            sys.exit(SKIP)
        env = dict(os.environ)
        env[NETNS_MARK] = "1"
        rc = subprocess.call(["unshare", "-n", sys.executable, script] + sys.argv[1:], env=env)
        sys.exit(rc)
    for cmd in (["ip", "link", "set", "lo", "up"],
                ["ip", "link", "set", "lo", "multicast", "on"],
                ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"]):
        r = subprocess.run(cmd, capture_output=True, timeout=10)
        if r.returncode != 0:
            print("SKIP: %s: %s" % (" ".join(cmd), r.stderr.decode(errors="replace")))
            sys.exit(SKIP)
    log(tag, "inside a private network namespace, multicast on lo")


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------

class Database:
    """One throwaway database on mroute_pg's server: its DSN, rows of SQL"""

    def __init__(self, server, dsn, dbname):
        self.server = server
        self.dsn = dsn
        self.dbname = dbname

    def psql(self, sql):
        out = self.server.psql(sql, dbname=self.dbname)
        return [line.split("|") for line in out.splitlines() if line]

    def stop(self):
        self.server.stop()


def postgres_or_skip(tag):
    """A throwaway PostgreSQL (mroute_pg.py) with an empty database,
    started; exits 77 with the reason when it cannot be."""
    import mroute_pg
    server = mroute_pg.PgServer()
    try:
        server.start()
        dsn = server.new_database("cluster")
    except mroute_pg.PgUnavailable as e:
        server.stop()
        print("SKIP: PostgreSQL cannot be started here: %s" % e)
        sys.exit(SKIP)
    log(tag, "PostgreSQL up: %s" % dsn)
    return Database(server, dsn, "cluster")


class DatabaseLink:
    """A TCP port on 127.0.0.1 that relays to the server's Unix socket: the
    one way to the database of the nodes whose DSN names it.  cut() breaks
    it as a network cut that the node sees (every connection reset, new
    ones refused), restore() mends it; hang() stops relaying without a word
    (the connections stay up, what the node sends is taken and not
    answered, as behind a stuck proxy), resume() relays again."""

    def __init__(self, db):
        self.target = os.path.join(db.server.sockdir, ".s.PGSQL.%d" % db.server.port)
        self.port = free_port(socket.SOCK_STREAM)
        self.dsn = "host=127.0.0.1 port=%d dbname=%s user=mroute" % (self.port, db.dbname)
        self.lock = threading.Lock()
        self.conns = []
        self.flowing = threading.Event()
        self.flowing.set()
        self.listener = None
        self.restore()

    def restore(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(16)
        self.listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                server.connect(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                # hung: held here, bounded, until resume() or a cut
                self.flowing.wait(120)
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def hang(self):
        self.flowing.clear()

    def resume(self):
        self.flowing.set()

    def cut(self):
        # shutdown wakes the threads blocked in accept() and recv(); close
        # alone would leave the sockets open until those return
        for s in [self.listener]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                if s.family == socket.AF_INET:
                    # a reset, not a polite close
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.flowing.set()


# --------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------

class Node(Controller):
    """A controller that is a node of the cluster on `dsn`: its
    configuration file names the store, its id, its API URL and the
    timings; no --db."""

    def __init__(self, dsn, node_id, lease_ms=3000, tick_ms=500, max_flows=40,
                 labels=None, extra="", api_url=None):
        self.dsn = dsn
        self.api_url = api_url
        self.node_id = node_id
        self.lease_ms = lease_ms
        self.tick_ms = tick_ms
        self.max_flows = max_flows
        self.labels = labels
        self.extra = extra
        Controller.__init__(self)

    def command(self):
        cfg = os.path.join(self.tmpdir, "mroute.conf")
        with open(cfg, "w") as f:
            f.write("[storage]\ndsn = %s\n\n" % self.dsn)
            f.write("[gstreamer]\nmax_flows = %d\n\n" % self.max_flows)
            f.write("[cluster]\nnode_id = %s\napi_url = %s\n"
                    "lease_ms = %d\ntick_ms = %d\n"
                    % (self.node_id, self.api_url or "http://127.0.0.1:%d" % self.port,
                       self.lease_ms, self.tick_ms))
            if self.labels:
                f.write("labels = %s\n" % ",".join("%s=%s" % kv for kv in self.labels.items()))
            f.write(self.extra)
        return [self.bin, "--port", str(self.port), "--host", "127.0.0.1",
                "--rtsp-port", str(self.rtsp_port), "--config", cfg]

    def restart(self, timeout=15):
        """The same node again: same id, port and folder."""
        return self.start(timeout=timeout)


# --------------------------------------------------------------------------
# Numbered TS datagrams
# --------------------------------------------------------------------------

PACKETS = 7  # TS packets a datagram


def datagram(flow, seq):
    """7 TS packets (PID 0x100, continuity counters in order) whose
    payloads start with (flow, seq): the receiver reads who and which"""
    out = bytearray()
    for k in range(PACKETS):
        cc = (seq * PACKETS + k) & 0x0F
        out += bytes([0x47, 0x01, 0x00, 0x10 | cc])
        out += struct.pack(">IIB", flow, seq, k)
        out += bytes(184 - 9)
    return bytes(out)


def parse(dgram):
    if len(dgram) < 188 or dgram[0] != 0x47:
        return None
    flow, seq, _ = struct.unpack(">IIB", dgram[4:13])
    return flow, seq


SENDER = r'''
import socket, struct, sys, time
PACKETS = 7
def datagram(flow, seq):
    out = bytearray()
    for k in range(PACKETS):
        cc = (seq * PACKETS + k) & 0x0F
        out += bytes([0x47, 0x01, 0x00, 0x10 | cc])
        out += struct.pack(">IIB", flow, seq, k)
        out += bytes(184 - 9)
    return bytes(out)
dests = [(d.split(":")[0], int(d.split(":")[1])) for d in sys.argv[3:]]
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
start = time.monotonic()
seq = 0
while time.monotonic() - start < seconds:
    for i, d in enumerate(dests):
        s.sendto(datagram(i, seq), d)
    seq += 1
    delay = start + seq / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
'''


def start_sender(groups, rate, seconds, log_path):
    """A process that sends datagram(i, seq) to groups[i] (address, port),
    `rate` a second each, for `seconds` at most"""
    args = [sys.executable, "-c", SENDER, str(rate), str(seconds)]
    args += ["%s:%d" % g for g in groups]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL,
                            stderr=open(log_path, "ab"))


class Arrivals:
    """What came on one flow's output: (monotonic time, seq, sender port)"""

    def __init__(self):
        self.times = []
        self.seqs = []
        self.senders = []
        self.seen = set()
        self.duplicates = []  # (time, seq, sender)


class Receiver:
    """One UDP socket per flow output on 127.0.0.1, read by one thread."""

    def __init__(self, n):
        self.socks = []
        self.ports = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            self.socks.append(s)
            self.ports.append(s.getsockname()[1])
        self.flows = [Arrivals() for _ in range(n)]
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        index = {s.fileno(): i for i, s in enumerate(self.socks)}
        while not self.stopping:
            ready, _, _ = select.select(self.socks, [], [], 0.2)
            now = time.monotonic()
            for s in ready:
                i = index[s.fileno()]
                while True:
                    try:
                        data, addr = s.recvfrom(65536)
                    except BlockingIOError:
                        break
                    p = parse(data)
                    if not p:
                        continue
                    _, seq = p
                    a = self.flows[i]
                    with self.lock:
                        if seq in a.seen:
                            a.duplicates.append((now, seq, addr[1]))
                        a.seen.add(seq)
                        a.times.append(now)
                        a.seqs.append(seq)
                        a.senders.append(addr[1])

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        for s in self.socks:
            s.close()

    # -- readings ----------------------------------------------------------

    def count_since(self, i, t):
        with self.lock:
            times = self.flows[i].times
            n = 0
            for k in range(len(times) - 1, -1, -1):
                if times[k] < t:
                    break
                n += 1
            return n

    def last_sender(self, i):
        with self.lock:
            s = self.flows[i].senders
            return s[-1] if s else None

    def window(self, i, t0, t1):
        """[(time, seq, sender)] of flow i with t0 <= time < t1"""
        with self.lock:
            a = self.flows[i]
            return [(t, q, s) for t, q, s in zip(a.times, a.seqs, a.senders) if t0 <= t < t1]

    def duplicates(self, i, since=0.0):
        with self.lock:
            return [d for d in self.flows[i].duplicates if d[0] >= since]

    def max_gap(self, i, t0, t1):
        """The longest time without a datagram on flow i between t0 and t1"""
        w = self.window(i, t0, t1)
        edges = [t0] + [t for t, _, _ in w] + [t1]
        return max(b - a for a, b in zip(edges, edges[1:]))

    def back_after(self, i, t, old_sender):
        """Seconds from t to the first datagram after t from another sender
        than old_sender, or None"""
        with self.lock:
            a = self.flows[i]
            for k in range(len(a.times) - 1, -1, -1):
                if a.times[k] < t:
                    break
            else:
                k = -1
            for j in range(k + 1, len(a.times)):
                if a.times[j] >= t and a.senders[j] != old_sender:
                    return a.times[j] - t
        return None


def wait_until(cond, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def group_of(i):
    return "239.77.%d.%d" % (1 + i // 250, 1 + i % 250)


def flow_body(name, group, port, out_port, **extra):
    body = {
        "name": name,
        "source": {"name": "in", "protocol": "udp", "ingest_address": group,
                   "ingest_port": port, "interface": "lo"},
        "outputs": [{"name": "out", "protocol": "udp", "destination": "127.0.0.1",
                     "port": out_port}],
        "source_monitor_config": {"thumbnail_enabled": False,
                                  "content_quality_enabled": False},
    }
    body.update(extra)
    return body
