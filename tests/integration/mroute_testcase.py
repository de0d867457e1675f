"""The one base of the integration tests: a unittest.TestCase that owns what
a test starts (controllers, child processes, receivers and relays, log
files, temp dirs) and tears it down in that reverse order, dumping the
controller's log and the children's logs when the test failed; and the
helpers every test file needs: a bounded UDP receiver, free ports (UDP,
TCP, consecutive, even for RTP/RIST), a process launcher with a log file,
bounded waits, the flow metrics/events getters, a UDP flow body, and a
loopback HTTP server that records what it is sent (the test double of a
service we cannot reach: the Telegram Bot API, a webhook receiver), and
running the binary itself to its end (--version, a start it must refuse).

    class MyTest(MrouteTestCase):
        def test_x(self):
            c = self.controller()
            rx = self.receiver(self.port(), idle=2.0).start()
            fid = self.start_flow(c, {"name": "in", "protocol": "udp",
                                      "ingest_port": self.port()}, [...])
            p = self.spawn(["gst-launch-1.0", ...], "sender")

Tests that share one controller per class start it in setUpClass with
cls.class_controller(...); it is stopped in tearDownClass, and its log is
dumped there if any test of the class failed.  controller() and
class_controller() take make=SomeController for a Controller subclass (one
that talks HTTPS, one whose port is in its configuration file).  class_port(),
class_tcp_port(), class_own(), class_own_server() and class_tmpdir() are
the class's port(), tcp_port(), own(), own_server() and tmpdir().

Every answer a test receives through Controller.request is checked against
controller/api/openapi.json (mroute_openapi.py, python3-jsonschema); a
mismatch, also in a thread of the test, fails the test.  Otherwise standard
library only.  Everything here is bounded in time."""

import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_harness import Controller, free_port, mroute_bin  # noqa: E402
import mroute_openapi  # noqa: E402
from mroute_media import DGRAM, kill_proc, tail, test_failed, udp_socket, wait_until  # noqa: E402

LO = "127.0.0.1"


# --------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------

def udp_port_free(port, host=LO):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class PortPicker:
    """Free loopback ports, none handed out twice by one picker (a port
    picked free but not bound yet is still free to the kernel)."""

    def __init__(self):
        self.used = set()

    def _take(self, ports):
        self.used.update(ports)
        return ports[0]

    def udp(self, exclude=()):
        """A free UDP port."""
        while True:
            p = free_port()
            if p not in self.used and p not in exclude:
                return self._take([p])

    def tcp(self):
        """A free TCP port (nothing listens there: connections are refused)."""
        while True:
            p = free_port(socket.SOCK_STREAM)
            if p not in self.used:
                return self._take([p])

    def udp_many(self, n):
        """n distinct free UDP ports, in no particular order."""
        return [self.udp() for _ in range(n)]

    def consecutive(self, n):
        """n consecutive free UDP ports p, p + 1, ... p + n - 1."""
        for _ in range(200):
            base = free_port(count=n)
            ports = list(range(base, base + n))
            if not self.used.intersection(ports):
                self._take(ports)
                return ports
        raise RuntimeError("no %d consecutive free UDP ports" % n)

    def even(self, span=2):
        """An even UDP port p with p ... p + span - 1 free: RTP on p and
        RTCP on p + 1 (RIST, span 2); media, column and row FEC on p, p + 2
        and p + 4 (SMPTE 2022-1, span 6)."""
        for _ in range(200):
            p = free_port(count=span)
            if p % 2:
                p += 1
                if p + span >= 65535 or not all(udp_port_free(p + i) for i in range(span)):
                    continue
            ports = list(range(p, p + span))
            if self.used.intersection(ports):
                continue
            self._take(ports)
            return p
        raise RuntimeError("no free even UDP port with %d after it" % span)


# --------------------------------------------------------------------------
# The UDP receiver
# --------------------------------------------------------------------------

class Receiver:
    """A UDP socket on host:port (large receive buffer) read by a thread
    that records (monotonic arrival time, datagram).  Stops by itself after
    `idle` seconds of silence once data has started (idle=None: never on
    silence), after `hard` seconds in all, or on stop().  With `forward`,
    every datagram is also sent on at once to host:forward (a relay);
    send errors (nobody listening there yet) are counted, not fatal."""

    def __init__(self, port, idle=None, hard=30.0, forward=None, host=LO):
        self.port = port
        self.idle = idle
        self.hard = hard
        self.host = host
        self.forward = forward
        self.packets = []            # (monotonic arrival time, bytes)
        self.error = None
        self.send_errors = 0
        self._stop = threading.Event()
        self.sock = udp_socket(port, host)
        self.sock.settimeout(0.05)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if forward else None
        self.thread = threading.Thread(target=self._run, name="rx-%d" % port, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def on_datagram(self, now, data):
        """Called from the thread for every datagram; subclasses add to it."""
        if self.out is not None:
            try:
                self.out.sendto(data, (self.host, self.forward))
            except OSError:          # the destination's port closed (ICMP)
                self.send_errors += 1
        self.packets.append((now, data))

    def _run(self):
        t0 = time.monotonic()
        last = None
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now - t0 > self.hard:
                    break
                if self.idle is not None and last is not None and now - last >= self.idle:
                    break
                try:
                    data = self.sock.recv(65536)
                except (socket.timeout, ConnectionRefusedError):
                    continue
                last = time.monotonic()
                self.on_datagram(last, data)
        except Exception as e:  # reported by the test
            self.error = e

    def wait(self, timeout):
        """Waits for the thread to stop by itself; True if it did."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def stop(self):
        self._stop.set()
        if self.thread.ident is not None:
            self.thread.join(5)
        for s in (self.sock, self.out):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass

    # views
    def snapshot(self):
        return list(self.packets)

    def datagrams(self):
        return [d for _, d in list(self.packets)]

    def data(self):
        return b"".join(d for _, d in list(self.packets))

    def count(self):
        return len(self.packets)

    def byte_count(self):
        return sum(len(d) for _, d in list(self.packets))

    def times(self):
        return [t for t, _ in list(self.packets)]

    def count_since(self, t):
        return sum(1 for ts, _ in list(self.packets) if ts >= t)

    def first_after(self, t):
        """The arrival time of the first datagram at or after t, or None."""
        for ts, _ in list(self.packets):
            if ts >= t:
                return ts
        return None

    def first_time(self):
        return self.packets[0][0] if self.packets else None

    def last_time(self):
        return self.packets[-1][0] if self.packets else None

    def quiet(self, seconds=0.5):
        """Data came, and nothing more for `seconds`."""
        p = self.packets
        return bool(p) and time.monotonic() - p[-1][0] >= seconds

    def wait_count(self, n, timeout):
        """Waits until n datagrams in all have arrived; True if they did."""
        return wait_until(lambda: len(self.packets) >= n, timeout)


def wait_for(predicate, timeout, interval=0.2, what=None):
    """Calls predicate() until it returns something true or `timeout`
    seconds pass; returns its last result (wait_until() returns a bool).
    With `what`, a result still false at the end fails instead
    (AssertionError "timed out after ...s waiting for <what>")."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() >= deadline:
            break
        time.sleep(interval)
    if what is not None and not result:
        raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
    return result


# --------------------------------------------------------------------------
# GStreamer elements
# --------------------------------------------------------------------------

def gst_has(element):
    try:
        r = subprocess.run(["gst-inspect-1.0", "--exists", element],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def live_encoder():
    """gst-launch fragment of an H.264 encoder that is installed here:
    x264enc (gst-plugins-ugly) when present, else openh264enc (bad)."""
    if gst_has("x264enc"):
        return ["x264enc", "tune=zerolatency", "speed-preset=ultrafast",
                "bitrate=1000", "key-int-max=25"]
    if gst_has("openh264enc"):
        return ["openh264enc", "rate-control=bitrate", "bitrate=1000000", "gop-size=25"]
    return None


# --------------------------------------------------------------------------
# Flows and HTTP test doubles
# --------------------------------------------------------------------------

def udp_flow_body(name, ingest_port, port, source="primary", output="out1"):
    """The body of a flow with one UDP source on 127.0.0.1:ingest_port and
    one UDP output to 127.0.0.1:port."""
    return {"name": name,
            "source": {"name": source, "protocol": "udp", "ingest_port": ingest_port},
            "outputs": [{"name": output, "protocol": "udp",
                         "destination": LO, "port": port}]}


class HttpRecorder(http.server.ThreadingHTTPServer):
    """A real HTTP server on a free loopback port, served by a thread of its
    own until close(): the test double of a service the controller (or a
    tool) talks to and we cannot reach.  Records every POST as a dict: path,
    headers, body (bytes), t (monotonic arrival time) and the status it
    answered, which is `status` (200 unless set) except that fail(n) makes
    the next n requests get 500.  The answer's JSON body is answer(request)
    (`answer` as given by default); `protocol` is the HTTP version answered
    (HTTP/1.0 closes the connection after each answer)."""

    daemon_threads = True

    def __init__(self, status=200, answer=b'{"ok": true}', protocol="HTTP/1.1", host=LO):
        super().__init__((host, 0), _RecorderHandler)
        self.host = host
        self.port = self.server_address[1]
        self.status = status
        self.protocol = protocol
        self.default_answer = answer
        self.requests = []
        self.cond = threading.Condition()
        self.failures_left = 0
        self.thread = threading.Thread(target=self.serve_forever, name="http-%d" % self.port,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base(self):
        return "http://%s:%d" % (self.host, self.port)

    def answer(self, request):
        """The body of the answer to `request` (already recorded, with the
        status it gets); subclasses override it."""
        return self.default_answer

    def fail(self, n):
        """The next n requests get 500."""
        with self.cond:
            self.failures_left = n

    def snapshot(self):
        with self.cond:
            return list(self.requests)

    def clear(self):
        with self.cond:
            self.requests.clear()

    def wait_for(self, predicate, timeout, what):
        """Waits until predicate(list of requests) is true; returns the
        list.  Fails (AssertionError) after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %ss waiting for %s; got %r" % (
                        timeout, what, [(r["path"], r["body"][:200]) for r in self.requests]))
                self.cond.wait(min(left, 0.2))
            return list(self.requests)

    def wait_quiet(self, quiet, timeout):
        """Waits until no request came for `quiet` seconds; fails
        (AssertionError) if requests still come after `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cond:
                last = self.requests[-1]["t"] if self.requests else 0
            if time.monotonic() - last >= quiet:
                return
            time.sleep(0.05)
        raise AssertionError("requests still coming after %ss" % timeout)

    def read_log(self, n=3000):
        """The requests received, one line each (dumped on failure)."""
        lines = ["%d %s %r" % (r["status"], r["path"], r["body"][:200]) for r in self.snapshot()]
        return "\n".join(lines)[-n:]

    def close(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)


class _RecorderHandler(http.server.BaseHTTPRequestHandler):

    def setup(self):
        self.protocol_version = self.server.protocol
        super().setup()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        srv = self.server
        with srv.cond:
            status = srv.status
            if srv.failures_left > 0:
                srv.failures_left -= 1
                status = 500
            req = {"path": self.path, "headers": dict(self.headers), "body": body,
                   "t": time.monotonic(), "status": status, "index": len(srv.requests)}
            srv.requests.append(req)
            srv.cond.notify_all()
        data = srv.answer(req)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


# --------------------------------------------------------------------------
# What a test owns
# --------------------------------------------------------------------------

class Owned:
    """What one test (or one test class) started, torn down in order:
    child processes, then receivers and other threads, then servers, then
    controllers, then log files and temp dirs.  On failure the controllers'
    logs and the children's logs go to stderr first."""

    def __init__(self, label):
        self.label = label
        self.procs = []          # Popen; killed with their own signal
        self.threads = []        # anything with stop()
        self.servers = []        # anything with close() (and maybe read_log())
        self.controllers = []
        self.logs = []           # files dumped on failure, then removed
        self.paths = []          # files and dirs removed
        self.ports = PortPicker()
        self._tmp = None
        self.closed = False

    def tmpdir(self):
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="mroute-%s-" % self.label)
            self.paths.append(self._tmp)
        return self._tmp

    def close(self, failed, log_tail=6000, child_log_tail=2000):
        if self.closed:
            return
        self.closed = True
        for p in self.procs:
            if p.stdin:
                try:
                    p.stdin.close()
                except OSError:
                    pass
            kill_proc(p, getattr(p, "stop_signal", signal.SIGINT))
        for t in self.threads:
            try:
                t.stop()
            except Exception as e:
                sys.stderr.write("stopping %r: %r\n" % (t, e))
        for s in self.servers:
            if failed and hasattr(s, "read_log"):
                sys.stderr.write("\n---- %s log ----\n%s\n" % (type(s).__name__, s.read_log(3000)))
            s.close()
        for c in self.controllers:
            if failed:
                sys.stderr.write("\n---- controller log (%s) ----\n%s\n"
                                 % (c.log_path, c.read_log()[-log_tail:]))
            try:
                c.stop()
            except Exception as e:
                sys.stderr.write("controller: %s\n" % e)
                if c.proc is not None:
                    c.proc.kill()
                    c.proc.wait()
        # after all of them stopped: a controller may use another's database
        for c in self.controllers:
            shutil.rmtree(c.tmpdir, ignore_errors=True)
        for path in self.logs:
            if failed:
                text = tail(path, child_log_tail)
                if text.strip():
                    sys.stderr.write("\n---- %s ----\n%s\n" % (path, text))
        for path in self.logs + self.paths:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


class MrouteTestCase(unittest.TestCase):
    """Base of the integration tests.  Subclasses that override setUp,
    tearDown, setUpClass or tearDownClass call super()'s."""

    LOG_TAIL = 6000              # characters of a controller log dumped on failure
    CHILD_LOG_TAIL = 2000        # ... of a child's log
    METRICS_POLL = 0.2           # s between two reads of metrics_when()
    METRICS_TIMEOUT = 10         # s metrics_when() waits by default

    _class_owned = None
    _class_failed = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._class_owned = Owned(cls.__name__.lower())
        cls._class_failed = False

    @classmethod
    def tearDownClass(cls):
        if cls._class_owned is not None:
            cls._class_owned.close(cls._class_failed, cls.LOG_TAIL, cls.CHILD_LOG_TAIL)
        super().tearDownClass()

    @classmethod
    def class_controller(cls, timeout=10, make=Controller, **kw):
        """A controller for every test of the class (make(**kw): Controller
        or a subclass), started; stopped in tearDownClass (also when
        setUpClass fails after this)."""
        c = make(**kw)
        cls._class_owned.controllers.append(c)
        try:
            c.start(timeout=timeout)
        except Exception:
            cls._class_failed = True
            cls._class_owned.close(True, cls.LOG_TAIL, cls.CHILD_LOG_TAIL)
            raise
        return c

    @classmethod
    def class_own(cls, thing):
        """Stops `thing` (anything with stop()) in tearDownClass, before
        the class's controllers."""
        cls._class_owned.threads.append(thing)
        return thing

    @classmethod
    def class_port(cls):
        """A free UDP port, not handed out before in this class."""
        return cls._class_owned.ports.udp()

    @classmethod
    def class_tcp_port(cls):
        """A free TCP port (nothing listens there), not handed out before
        in this class."""
        return cls._class_owned.ports.tcp()

    @classmethod
    def class_own_server(cls, server):
        """Closes `server` (close(), and read_log(n) dumped on failure) in
        tearDownClass, before the class's controllers."""
        cls._class_owned.servers.append(server)
        return server

    @classmethod
    def class_tmpdir(cls):
        """The class's temp dir, removed in tearDownClass."""
        return cls._class_owned.tmpdir()

    def setUp(self):
        super().setUp()
        self.owned = Owned(type(self).__name__.lower())
        self.addCleanup(self._close_owned)
        # an answer that did not fit the OpenAPI document fails the test,
        # also when it came to a thread of the test (mroute_openapi.py)
        self._openapi_mark = mroute_openapi.failure_count()
        self.addCleanup(self._check_openapi)

    def _check_openapi(self):
        missed = mroute_openapi.failures_since(self._openapi_mark)
        if missed:
            raise AssertionError("%d answer(s) did not fit controller/api/openapi.json:\n%s"
                                 % (len(missed), "\n".join(missed)))

    def tearDown(self):
        self._close_owned()
        super().tearDown()

    def _close_owned(self):
        if self.owned is None:
            return
        failed = self.failed()
        if failed:
            type(self)._class_failed = True
        owned, self.owned = self.owned, None
        owned.close(failed, self.LOG_TAIL, self.CHILD_LOG_TAIL)

    def failed(self):
        """Whether this test has failed so far (usable in tearDown)."""
        return test_failed(self)

    # -- ports ---------------------------------------------------------------

    def port(self):
        """A free UDP port, not handed out before in this test."""
        return self.owned.ports.udp()

    def ports(self, n):
        """n distinct free UDP ports."""
        return self.owned.ports.udp_many(n)

    def consecutive_ports(self, n):
        return self.owned.ports.consecutive(n)

    def even_port(self, span=2):
        return self.owned.ports.even(span)

    def tcp_port(self):
        return self.owned.ports.tcp()

    # -- what the test starts --------------------------------------------------

    def controller(self, start=True, timeout=10, make=Controller, **kw):
        """A controller (make(**kw): Controller or a subclass), started
        unless start=False; stopped at teardown, its log dumped if the test
        failed."""
        c = make(**kw)
        self.owned.controllers.append(c)
        if start:
            c.start(timeout=timeout)
        return c

    def own_controller(self, c):
        """Hands a Controller made elsewhere to the teardown."""
        self.owned.controllers.append(c)
        return c

    def receiver(self, port, **kw):
        """A Receiver (not started), stopped at teardown."""
        return self.own(Receiver(port, **kw))

    def own(self, thing):
        """Stops `thing` (anything with stop()) at teardown, after the child
        processes and before the controllers."""
        self.owned.threads.append(thing)
        return thing

    def own_server(self, server):
        """Closes `server` (close(), and read_log(n) dumped on failure) at
        teardown, before the controllers."""
        self.owned.servers.append(server)
        return server

    def tmpdir(self):
        """This test's temp dir, removed at teardown."""
        return self.owned.tmpdir()

    def logfile(self, label, suffix=".log"):
        """A new empty file in the test's temp dir; dumped to stderr if the
        test failed (when it ends in .log), removed at teardown."""
        fd, path = tempfile.mkstemp(prefix="%s-" % label, suffix=suffix, dir=self.tmpdir())
        os.close(fd)
        if suffix == ".log":
            self.owned.logs.append(path)
        return path

    def spawn(self, cmd, label, stdin=subprocess.DEVNULL, stdout=None, stop_signal=signal.SIGINT,
              **popen_kw):
        """Starts `cmd` with stderr (and stdout, unless given) to a log file
        of its own (p.log_path); killed at teardown (stop_signal, then
        SIGKILL after 3 s)."""
        log_path = self.logfile(label)
        with open(log_path, "wb") as log:
            p = subprocess.Popen(cmd, stdin=stdin, stdout=log if stdout is None else stdout,
                                 stderr=log, **popen_kw)
        p.log_path = log_path
        p.stop_signal = stop_signal
        self.owned.procs.append(p)
        return p

    def own_proc(self, p, stop_signal=signal.SIGINT):
        """Kills a Popen made elsewhere at teardown."""
        p.stop_signal = stop_signal
        self.owned.procs.append(p)
        return p

    def send_file_udp(self, path, port, label="udp-sender", timeout=30):
        """Sends a TS file to 127.0.0.1:port with gst-launch-1.0, one
        1316-byte datagram per millisecond (about 10 Mbit/s, faster than
        real time); returns when all is sent, fails the test if the sender
        did."""
        log = self.logfile(label)
        cmd = ["gst-launch-1.0", "-q", "filesrc", "location=%s" % path, "blocksize=%d" % DGRAM,
               "!", "identity", "sleep-time=1000",
               "!", "udpsink", "host=%s" % LO, "port=%d" % port, "sync=false"]
        with open(log, "wb") as f:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout)
        self.assertEqual(r.returncode, 0, "UDP sender failed: %s" % tail(log))

    # -- the binary itself ------------------------------------------------------

    def run_mroute(self, args, timeout=30, env=None):
        """Runs the mroute binary with `args` (environment: ours updated
        with `env`) in the test's temp dir until it exits; returns the
        CompletedProcess (stdout and stderr as bytes).  Bounded: a binary
        still running after `timeout` s is killed (TimeoutExpired)."""
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([mroute_bin()] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, env=e,
                              cwd=self.tmpdir())

    def assert_refused(self, args, code=2, timeout=30, env=None):
        """Runs the binary as a start with `args` that it must refuse:
        fails unless it exits with `code` within `timeout` s.  It gets a
        free TCP port and a database in the test's temp dir, so that a start
        wrongly accepted touches nothing shared.  Returns its stderr (text)."""
        db = os.path.join(tempfile.mkdtemp(prefix="refused-", dir=self.tmpdir()), "mroute.db")
        p = self.run_mroute(["--port", str(self.tcp_port()), "--db", db] + list(args),
                            timeout=timeout, env=env)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, code, "%r: exit %d, want %d; stderr:\n%s"
                         % (list(args), p.returncode, code, err))
        return err

    # -- waiting ---------------------------------------------------------------

    @staticmethod
    def wait_until(cond, timeout, step=0.05):
        """Calls cond() until it is true or `timeout` s passed; returns
        cond()'s last value as a bool."""
        return wait_until(cond, timeout, step)

    # -- flows, metrics, events --------------------------------------------------

    def create_flow(self, c, body):
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def start_flow(self, c, source, outputs, name="flow", timeout=20):
        """Creates a flow of one source and starts it; waits until it is
        ACTIVE; returns its id."""
        flow = self.create_flow(c, {"name": name, "source": source, "outputs": outputs})
        r = c.post("/v1/flows/%s/start" % flow["id"])
        self.assertEqual(r.status, 200, r.body)
        c.wait_status(flow["id"], "ACTIVE", timeout=timeout)
        return flow["id"]

    def metrics(self, c, flow_id):
        r = c.get("/v1/flows/%s/metrics" % flow_id)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def metrics_when(self, c, flow_id, done, timeout=None, step=None):
        """Polls the metrics until done(m) or `timeout` (METRICS_TIMEOUT);
        returns the last.
        done() raising KeyError, TypeError, IndexError or StopIteration
        counts as not done."""
        deadline = time.monotonic() + (self.METRICS_TIMEOUT if timeout is None else timeout)
        while True:
            m = self.metrics(c, flow_id)
            try:
                if done(m):
                    return m
            except (KeyError, TypeError, IndexError, StopIteration):
                pass
            if time.monotonic() > deadline:
                return m
            time.sleep(self.METRICS_POLL if step is None else step)

    def events(self, c, flow_id=None, types=None, oldest_first=False, limit=1000):
        """The events of a flow (of all flows without flow_id), newest first
        as the API gives them unless oldest_first; only `types` if given."""
        path = ("/v1/flows/%s/events?limit=%d" % (flow_id, limit) if flow_id
                else "/v1/events?limit=%d" % limit)
        r = c.get(path)
        self.assertEqual(r.status, 200, r.body)
        evs = r.json()["events"]
        if oldest_first:
            evs = list(reversed(evs))
        if types:
            evs = [e for e in evs if e.get("type") in types]
        return evs

    def event_summary(self, c, flow_id):
        return ["%s/%s: %s" % (e["type"], e["severity"], e["message"])
                for e in self.events(c, flow_id)]
