#!/usr/bin/env python3
"""The controller's HTTP edge under abuse, over real sockets.

- a body of 100,000 '[' is a fast 400 naming the limit 64, and the process
  and its flows live on;
- an unknown section or key in the configuration stops the start (exit 2)
  with its name;
- without an API key only loopback clients are answered (403 with how to
  set a key; /health open), with a key as before: checked from a
  non-loopback address of a network namespace the test creates, over IPv4
  and IPv6;
- a connection whose request headers are not complete within
  `[api] header_timeout_sec` is closed, so is an idle kept-alive one and
  one whose body stalls (`body_timeout_sec`); past `[api] max_connections`
  a new connection gets a 503 at once; the controller's descriptors come
  back to where they were, also after 3,000 half-open connections;
- `[api] tls_certificate` and `tls_key` serve HTTPS only (verified against
  the test's self-signed certificate); wrong files stop the start (exit 2).

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \\
      python3 tests/integration/test_http_guard.py -v

Standard library plus `ip` (namespaces) and `openssl` (certificate).
Traffic goes to loopback and to the test's own namespace only; every wait
is bounded.
"""

import http.client
import json
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_harness import Controller  # noqa: E402
from mroute_testcase import MrouteTestCase, udp_flow_body  # noqa: E402

START_WAIT = 10          # seconds for a controller to answer /health
EXIT_WAIT = 10           # seconds for a controller refusing its config


def log(msg):
    sys.stderr.write("[http_guard] %s\n" % msg)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_fds(pid, at_most, timeout):
    """Waits until the process has at most `at_most` descriptors; returns
    the last count."""
    deadline = time.monotonic() + timeout
    n = fd_count(pid)
    while n > at_most and time.monotonic() < deadline:
        time.sleep(0.1)
        n = fd_count(pid)
    return n


def partial_connect(port, head=b"GET /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if head:
        s.sendall(head)
    return s


def read_answer(s, timeout):
    """Everything the server sends until it closes or `timeout` passes:
    (bytes, closed)."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def readable(socks, timeout):
    """The sockets of `socks` with something to read (poll: any fd number)."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    return [by_fd[fd] for fd, _ in poller.poll(max(0, timeout) * 1000)]


def wait_closed(socks, timeout):
    """Waits until the server closed every socket of `socks` (EOF or reset);
    returns the seconds each took, None for those still open."""
    t0 = time.monotonic()
    left = {s.fileno(): s for s in socks}
    took = {}
    deadline = t0 + timeout
    while left and time.monotonic() < deadline:
        for s in readable(list(left.values()), deadline - time.monotonic()):
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                took[s.fileno()] = time.monotonic() - t0
                del left[s.fileno()]
    return [took.get(s.fileno()) for s in socks]


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class SharedControllerTest(MrouteTestCase):
    """Tests that share one controller, cls.c (a class_controller()), which
    must exit 0 when the class is done."""

    @classmethod
    def tearDownClass(cls):
        c = cls.__dict__.get("c")
        code = None
        log_tail = ""
        try:
            if c is not None:
                code = c.stop()
                log_tail = c.read_log()[-3000:]
        finally:
            super().tearDownClass()
        if code not in (0, None):
            raise AssertionError("mroute exited with %r:\n%s" % (code, log_tail))


# ---------------------------------------------------------------------------

class ConfigRefusalTest(MrouteTestCase):
    """Unknown sections and keys stop the start with their name."""

    def refused(self, text):
        """Starts the controller with `text` as its configuration file:
        it must exit 2; returns its stderr."""
        path = os.path.join(self.tmpdir(), "mroute.conf")
        with open(path, "w") as f:
            f.write(text)
        return self.assert_refused(["--config", path], 2, timeout=EXIT_WAIT)

    def test_unknown_key(self):
        err = self.refused("[api]\nport = 8080\nbogus = 1\n")
        self.assertIn("[api] bogus: unknown key", err)
        self.assertIn("max_connections", err, "the known keys are listed")

    def test_unknown_section(self):
        err = self.refused("[apii]\nport = 8080\n")
        self.assertIn("[apii]: unknown section", err)
        self.assertIn("known: api, storage", err)

    def test_misspelt_key_elsewhere(self):
        err = self.refused("[gstreamer]\nmax_flow = 3\n")
        self.assertIn("[gstreamer] max_flow: unknown key", err)

    def test_unknown_key_value_not_shown(self):
        """Only the name: the value might be a secret put in the wrong key."""
        err = self.refused("[api]\napi-key = s3cr3t-Value-9f2c\n")
        self.assertIn("api-key", err)
        self.assertNotIn("s3cr3t-Value-9f2c", err)

    def test_limits_out_of_range(self):
        for text, name in (("[api]\nheader_timeout_sec = 0\n", "header_timeout_sec"),
                           ("[api]\nmax_connections = -1\n", "max_connections"),
                           ("[api]\nbody_timeout_sec = x\n", "body_timeout_sec")):
            with self.subTest(text=text):
                err = self.refused(text)
                self.assertIn(name, err)

    def test_tls_key_alone(self):
        err = self.refused("[api]\ntls_key = /nonexistent/key.pem\n")
        self.assertIn("tls_key", err)
        self.assertIn("tls_certificate", err)


class DeepNestingTest(MrouteTestCase):
    """100,000 '[': refused by depth, quickly, and nothing else suffers."""

    def test_deep_body(self):
        c = self.controller(env={"MROUTE_API_KEY": ""})
        r = c.post("/v1/flows", body=udp_flow_body("before-deep", self.port(), self.port()))
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        deep = "[" * 100000 + "]" * 100000
        for path in ("/v1/flows", "/v1/flows/%s/outputs" % fid,
                     "/v1/mediamtx/events/ready"):
            with self.subTest(path=path):
                t0 = time.monotonic()
                r = c.request("POST", path, raw=deep,
                              headers={"Content-Type": "application/json"})
                took = time.monotonic() - t0
                log("deep body on %s: %d in %.3f s" % (path, r.status, took))
                self.assertEqual(r.status, 400, r.body[:300])
                self.assertIn("64", r.json()["error"])
                self.assertLess(took, 2.0, "a deep body took %.2f s" % took)
                self.assertIsNone(c.proc.poll(), "the controller died")
        r = c.get("/v1/flows/" + fid)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["name"], "before-deep")


class HalfOpenTest(SharedControllerTest):
    """header_timeout_sec = 2, body_timeout_sec = 3, max_connections = 100."""

    HEADER_TIMEOUT = 2
    BODY_TIMEOUT = 3
    MAX = 100

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raise_nofile(4096)
        cls.c = cls.class_controller(env={"MROUTE_API_KEY": ""},
                                     config="[api]\nheader_timeout_sec = %d\nbody_timeout_sec = %d\n"
                                            "max_connections = %d\n"
                                     % (cls.HEADER_TIMEOUT, cls.BODY_TIMEOUT, cls.MAX))

    def setUp(self):
        super().setUp()
        self.pid = self.c.proc.pid
        self.base_fds = wait_fds(self.pid, 10 ** 6, 0)
        self.socks = []

    def tearDown(self):
        try:
            close_all(self.socks)
            # nothing of this test is left behind for the next one
            n = wait_fds(self.pid, self.base_fds + 3, self.HEADER_TIMEOUT + 4)
            self.assertLessEqual(n, self.base_fds + 3, "descriptors left behind")
        finally:
            super().tearDown()

    def test_half_open_capped_and_closed(self):
        t0 = time.monotonic()
        for _ in range(150):
            self.socks.append(partial_connect(self.c.port))
        opened = time.monotonic() - t0
        # which of them got an answer at once?
        time.sleep(0.3)
        answered = {}
        for s in readable(self.socks, 0.5):
            answered[s.fileno()] = read_answer(s, 1.0)
        held = [s for s in self.socks if s.fileno() not in answered]
        fds_held = fd_count(self.pid)
        log("150 half-open in %.2f s: %d held, %d answered at once; controller fds "
            "%d -> %d" % (opened, len(held), len(answered), self.base_fds, fds_held))
        self.assertLessEqual(len(held), self.MAX)
        self.assertGreaterEqual(len(held), self.MAX - 2)
        self.assertEqual(len(answered), 150 - len(held))
        for data, closed in answered.values():
            self.assertTrue(data.startswith(b"HTTP/1.1 503 "), data[:200])
            self.assertTrue(closed, "a refused connection stayed open")
            body = json.loads(data.split(b"\r\n\r\n", 1)[1])
            self.assertIn("too many connections", body["error"])
            self.assertIn("max_connections", body["error"])
        self.assertLessEqual(fds_held, self.base_fds + self.MAX + 2)
        # the held ones are closed by the server at the header deadline
        took = wait_closed(held, self.HEADER_TIMEOUT + 4)
        still_open = sum(1 for t in took if t is None)
        done = [t for t in took if t is not None]
        log("held connections closed by the server after %.2f - %.2f s (since the "
            "check; they opened up to %.2f s before)" % (min(done), max(done), opened + 0.8)
            if done else "none closed")
        self.assertEqual(still_open, 0, "%d connections still open" % still_open)
        self.assertLessEqual(max(done), self.HEADER_TIMEOUT + 1.5)
        n = wait_fds(self.pid, self.base_fds + 2, 3)
        log("controller fds after the deadline: %d (start %d)" % (n, self.base_fds))
        self.assertLessEqual(n, self.base_fds + 2)
        # and it answers as before
        r = self.c.get("/v1/flows")
        self.assertEqual(r.status, 200)

    def test_slow_but_in_time_is_served(self):
        """A request whose headers take less than the limit is answered."""
        s = partial_connect(self.c.port, b"GET /health HTTP/1.1\r\n")
        self.socks.append(s)
        time.sleep(self.HEADER_TIMEOUT / 2)
        s.sendall(b"Host: 127.0.0.1\r\n\r\n")
        data, _ = read_answer(s, 2)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data[:200])

    def test_silent_connection_closed(self):
        s = partial_connect(self.c.port, b"")
        self.socks.append(s)
        t0 = time.monotonic()
        data, closed = read_answer(s, self.HEADER_TIMEOUT + 3)
        took = time.monotonic() - t0
        log("a silent connection closed after %.2f s" % took)
        self.assertTrue(closed)
        self.assertGreater(took, self.HEADER_TIMEOUT - 0.5)
        self.assertLess(took, self.HEADER_TIMEOUT + 1.5)

    def test_keep_alive_then_idle_closed(self):
        """Keep-alive still works; an idle kept-alive connection is closed
        after header_timeout_sec; one the client drops while idle (libsoup
        3.2 keeps those) does not keep its descriptor."""
        s = partial_connect(self.c.port, b"")
        self.socks.append(s)
        for _ in range(3):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = s.recv(4096)
                self.assertTrue(chunk, "closed after %r" % data)
                data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data[:200])
            self.assertNotIn(b"Connection: close", data)
            time.sleep(self.HEADER_TIMEOUT / 2)    # each wait under the limit
        t0 = time.monotonic()
        data, closed = read_answer(s, self.HEADER_TIMEOUT + 3)
        took = time.monotonic() - t0
        log("an idle kept-alive connection closed after %.2f s" % took)
        self.assertTrue(closed)
        self.assertEqual(data, b"")
        self.assertLess(took, self.HEADER_TIMEOUT + 1.5)
        # 20 kept-alive connections the client drops while idle
        for _ in range(20):
            k = partial_connect(self.c.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            read_answer(k, 0.3)
            k.close()
        n = wait_fds(self.pid, self.base_fds + 2, self.HEADER_TIMEOUT + 3)
        self.assertLessEqual(n, self.base_fds + 2, "dropped idle connections kept")

    def test_stalled_body_closed(self):
        s = partial_connect(self.c.port,
                            b"POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                            b'{"name": ')
        self.socks.append(s)
        t0 = time.monotonic()
        data, closed = read_answer(s, self.BODY_TIMEOUT + 3)
        took = time.monotonic() - t0
        log("a stalled body closed after %.2f s" % took)
        self.assertTrue(closed)
        self.assertGreater(took, self.BODY_TIMEOUT - 0.5)
        self.assertLess(took, self.BODY_TIMEOUT + 1.5)
        self.assertEqual(self.c.get("/v1/flows").json()["flows"], [])


class ThousandsTest(MrouteTestCase):
    """3,000 half-open connections, default settings (512, 10 s)."""

    N = 3000
    MAX = 512

    def test_3000_half_open(self):
        limit = raise_nofile(self.N + 500)
        if limit < self.N + 100:
            self.skipTest("RLIMIT_NOFILE is %d, under %d" % (limit, self.N + 100))
        socks = []
        c = self.controller(env={"MROUTE_API_KEY": ""})
        pid = c.proc.pid
        base = fd_count(pid)
        peak = base
        try:
            t0 = time.monotonic()
            for i in range(self.N):
                socks.append(partial_connect(c.port))
                if i % 100 == 99:
                    peak = max(peak, fd_count(pid))
            took = time.monotonic() - t0
            time.sleep(0.5)
            peak = max(peak, fd_count(pid))
            refused = 0
            for s in readable(socks, 1.0):
                data, _ = read_answer(s, 0.2)
                refused += data.startswith(b"HTTP/1.1 503 ")
            log("%d half-open connections in %.2f s: controller fds %d -> peak %d, "
                "%d answered 503" % (self.N, took, base, peak, refused))
            self.assertLessEqual(peak, base + self.MAX + 5)
            self.assertGreaterEqual(refused, self.N - self.MAX - 5)
            # slots free up as soon as clients leave (the next try may
            # come before the controller saw them go: 503, Retry-After)
            close_all(socks[:50])
            t1 = time.monotonic()
            statuses = []
            while time.monotonic() - t1 < 3:
                statuses.append(c.get("/health").status)
                if statuses[-1] == 200:
                    break
                time.sleep(0.05)
            log("a slot was free %.3f s after 50 clients left (%r)"
                % (time.monotonic() - t1, statuses))
            self.assertEqual(statuses[-1], 200, statuses)
        finally:
            close_all(socks)
        n = wait_fds(pid, base + 2, 5)
        log("after the clients closed: controller fds %d (start %d)" % (n, base))
        self.assertLessEqual(n, base + 2)


# ---------------------------------------------------------------------------
# network namespace: a non-loopback client

NS_CLIENT = r'''
import http.client, json, sys
host, port, method, path, key, body = json.loads(sys.argv[1])
try:
    c = http.client.HTTPConnection(host, port, timeout=5)
    headers = {"Connection": "close"}
    if key is not None:
        headers["X-API-Key"] = key
    if body is not None:
        headers["Content-Type"] = "application/json"
    c.connect()
    local = c.sock.getsockname()[0]
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    print(json.dumps({"status": r.status, "body": r.read().decode("utf-8", "replace"),
                      "content_type": r.getheader("Content-Type"), "local": local}))
except OSError as e:
    print(json.dumps({"error": repr(e)}))
'''


class NetnsTest(MrouteTestCase):
    """A namespace of the test's own with an address that is not loopback;
    the controllers run in it and are spoken to from inside it."""

    KEY = "ns-Key-" + secrets.token_hex(8)

    @classmethod
    def ns_run(cls, *args, check=True):
        return subprocess.run(["ip", "netns", "exec", cls.ns] + list(args),
                              capture_output=True, timeout=10, check=check)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not shutil.which("ip"):
            raise unittest.SkipTest("no `ip` command")
        cls.ns = "mrt-" + secrets.token_hex(4)
        p = subprocess.run(["ip", "netns", "add", cls.ns], capture_output=True, timeout=10)
        if p.returncode != 0:
            raise unittest.SkipTest("ip netns add is not permitted here: %s"
                                    % p.stderr.decode().strip())
        cls.procs = []
        cls.tmp = cls.class_tmpdir()
        try:
            x = secrets.randbelow(250) + 2
            cls.addr4 = "10.213.%d.1" % x
            cls.addr6 = "fd00:213:%x::1" % x
            cls.ns_run("ip", "link", "set", "lo", "up")
            # a dummy interface, else a veth pair with both ends here, else
            # the address on lo itself: in each case it is not a loopback
            # address, and the traffic stays in the namespace
            if cls.ns_run("ip", "link", "add", "d0", "type", "dummy", check=False).returncode:
                if cls.ns_run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1",
                              check=False).returncode == 0:
                    cls.ns_run("ip", "link", "set", "d1", "up")
                    dev = "d0"
                else:
                    dev = "lo"
            else:
                dev = "d0"
            cls.dev = dev
            cls.ns_run("ip", "addr", "add", cls.addr4 + "/24", "dev", dev)
            cls.ns_run("ip", "-6", "addr", "add", cls.addr6 + "/64", "dev", dev, "nodad")
            cls.ns_run("ip", "link", "set", dev, "up")
            cls.ns_port = 18080      # the namespace is ours: any port is free there
            cls.open4 = cls.start_ns_controller("0.0.0.0", cls.ns_port, {"MROUTE_API_KEY": ""})
            cls.keyed4 = cls.start_ns_controller("0.0.0.0", cls.ns_port + 1,
                                                 {"MROUTE_API_KEY": cls.KEY})
            cls.open6 = cls.start_ns_controller("::", cls.ns_port + 2, {"MROUTE_API_KEY": ""})
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_ns_controller(cls, host, port, env):
        e = dict(os.environ)
        e.update(env)
        logf = open(os.path.join(cls.tmp, "mroute-%d.log" % port), "wb")
        p = subprocess.Popen(["ip", "netns", "exec", cls.ns,
                              os.path.abspath(os.environ["MROUTE_BIN"]), "--host", host,
                              "--port", str(port),
                              "--db", os.path.join(cls.tmp, "db-%d.sqlite" % port)],
                             stdout=logf, stderr=subprocess.STDOUT, env=e, cwd=cls.tmp)
        cls.procs.append((p, logf))
        loop = "::1" if ":" in host else "127.0.0.1"
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError("mroute in the namespace exited with %d" % p.returncode)
            if cls.call(loop, port, "GET", "/health").get("status") == 200:
                return port
            time.sleep(0.1)
        raise RuntimeError("mroute in the namespace did not answer /health")

    @classmethod
    def tearDownClass(cls):
        for p, logf in getattr(cls, "procs", []):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            logf.close()
        subprocess.run(["ip", "netns", "del", cls.ns], capture_output=True, timeout=10)
        super().tearDownClass()

    @classmethod
    def call(cls, host, port, method, path, key=None, body=None):
        arg = json.dumps([host, port, method, path, key,
                          json.dumps(body) if body is not None else None])
        p = cls.ns_run("python3", "-c", NS_CLIENT, arg, check=False)
        try:
            return json.loads(p.stdout)
        except ValueError:
            return {"error": p.stderr.decode("utf-8", "replace")}

    def assert403(self, ans, what):
        self.assertEqual(ans.get("status"), 403, "%s: %r" % (what, ans))
        self.assertTrue((ans.get("content_type") or "").startswith("application/json"), what)
        err = json.loads(ans["body"])["error"]
        self.assertIn("[api] api_key", err)
        self.assertIn("MROUTE_API_KEY", err)

    def test_no_key_remote_refused(self):
        for path, method, body in (("/v1/flows", "GET", None),
                                   ("/v1/flows", "POST",
                                    udp_flow_body("remote", self.port(), self.port())),
                                   ("/v1/events", "GET", None),
                                   ("/metrics", "GET", None),
                                   ("/v1/nope", "GET", None)):
            with self.subTest(method=method, path=path):
                ans = self.call(self.addr4, self.open4, method, path, body=body)
                self.assertEqual(ans.get("local"), self.addr4, ans)
                self.assert403(ans, "%s %s from %s" % (method, path, self.addr4))
        # /health stays open to all
        ans = self.call(self.addr4, self.open4, "GET", "/health")
        self.assertEqual(ans.get("status"), 200, ans)
        # loopback is answered, and the refused POST created nothing
        ans = self.call("127.0.0.1", self.open4, "GET", "/v1/flows")
        self.assertEqual(ans.get("status"), 200, ans)
        self.assertEqual(json.loads(ans["body"])["flows"], [])

    def test_with_key_remote_answered(self):
        ans = self.call(self.addr4, self.keyed4, "GET", "/v1/flows", key=self.KEY)
        self.assertEqual(ans.get("local"), self.addr4, ans)
        self.assertEqual(ans.get("status"), 200, ans)
        ans = self.call(self.addr4, self.keyed4, "POST", "/v1/flows", key=self.KEY,
                        body=udp_flow_body("remote-keyed", self.port(), self.port()))
        self.assertEqual(ans.get("status"), 201, ans)
        ans = self.call(self.addr4, self.keyed4, "GET", "/v1/flows")
        self.assertEqual(ans.get("status"), 401, ans)
        ans = self.call(self.addr4, self.keyed4, "GET", "/health")
        self.assertEqual(ans.get("status"), 200, ans)

    def test_ipv6(self):
        """--host :: listens on IPv6; ::1 is loopback, the ULA is not."""
        ans = self.call("::1", self.open6, "GET", "/v1/flows")
        self.assertEqual(ans.get("status"), 200, ans)
        ans = self.call(self.addr6, self.open6, "GET", "/v1/flows")
        self.assertEqual(ans.get("local"), self.addr6, ans)
        self.assert403(ans, "GET /v1/flows from %s" % self.addr6)
        ans = self.call(self.addr6, self.open6, "GET", "/health")
        self.assertEqual(ans.get("status"), 200, ans)


# ---------------------------------------------------------------------------
# HTTPS

class HttpsController(Controller):
    def __init__(self, cafile, **kw):
        super().__init__(**kw)
        self.ssl_context = ssl.create_default_context(cafile=cafile)

    @property
    def base(self):
        return "https://127.0.0.1:%d" % self.port


class HttpsTest(SharedControllerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not shutil.which("openssl"):
            raise AssertionError("openssl is missing (scripts/install-deps.sh installs it)")
        cls.tmp = cls.class_tmpdir()
        cls.cert = os.path.join(cls.tmp, "cert.pem")
        cls.key = os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", cls.key, "-out", cls.cert],
                       check=True, capture_output=True, timeout=30)
        cls.c = cls.class_controller(make=HttpsController, cafile=cls.cert,
                                     env={"MROUTE_API_KEY": ""},
                                     config="[api]\ntls_certificate = %s\ntls_key = %s\n"
                                            "header_timeout_sec = 2\n" % (cls.cert, cls.key))

    def test_verified_https(self):
        r = self.c.get("/health")
        self.assertEqual(r.status, 200)
        r = self.c.post("/v1/flows", body=udp_flow_body("over-tls", self.port(), self.port()))
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.assertEqual(self.c.get("/v1/flows/" + fid).json()["name"], "over-tls")
        self.assertEqual(self.c.delete("/v1/flows/" + fid).status, 204)
        # a deep body over TLS too
        r = self.c.request("POST", "/v1/flows", raw="[" * 100000 + "]" * 100000)
        self.assertEqual(r.status, 400)

    def test_plain_http_refused(self):
        s = partial_connect(self.c.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            data, _ = read_answer(s, 3)
        finally:
            s.close()
        self.assertFalse(data.startswith(b"HTTP/"), data[:100])
        conn = http.client.HTTPConnection("127.0.0.1", self.c.port, timeout=3)
        with self.assertRaises((http.client.HTTPException, OSError)):
            conn.request("GET", "/health")
            conn.getresponse()
        conn.close()

    def test_silent_tls_connection_closed(self):
        """No ClientHello: closed at the header deadline."""
        s = partial_connect(self.c.port, b"")
        try:
            t0 = time.monotonic()
            _, closed = read_answer(s, 5)
            took = time.monotonic() - t0
        finally:
            s.close()
        log("a silent TLS connection closed after %.2f s" % took)
        self.assertTrue(closed)
        self.assertLess(took, 3.5)

    def test_silent_tls_clients_hold_up_nobody(self):
        """glib-networking blocks a worker thread per handshake: silent
        connections and half ClientHellos must not reach it, or they hold
        up every other client until their deadline."""
        socks = [partial_connect(self.c.port, b"") for _ in range(100)]
        socks += [partial_connect(self.c.port, b"\x16\x03\x01\x02\x00\x01")
                  for _ in range(50)]
        try:
            time.sleep(0.3)
            t0 = time.monotonic()
            r = self.c.get("/health", timeout=5)
            took = time.monotonic() - t0
            log("an HTTPS request with 150 silent or half-hello connections open: "
                "%.3f s" % took)
            self.assertEqual(r.status, 200)
            self.assertLess(took, 1.0)
        finally:
            close_all(socks)

    def test_key_not_logged(self):
        with open(self.key) as f:
            lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("-----")]
        out = self.c.read_log()
        self.assertIn("https://", out)
        for ln in lines:
            self.assertNotIn(ln, out)

    def test_bad_files_exit_2(self):
        garbage = os.path.join(self.tmp, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
        missing = os.path.join(self.tmp, "missing.pem")
        for cert, key, name in ((missing, self.key, "missing.pem"),
                                (self.cert, missing, "missing.pem"),
                                (self.cert, garbage, "garbage.pem"),
                                (garbage, self.key, "garbage.pem")):
            with self.subTest(cert=cert, key=key):
                cfg = os.path.join(self.tmp, "bad.conf")
                with open(cfg, "w") as f:
                    f.write("[api]\ntls_certificate = %s\ntls_key = %s\n" % (cert, key))
                err = self.assert_refused(["--config", cfg], 2, timeout=EXIT_WAIT)
                self.assertIn(name, err)
                self.assertIn("tls_certificate", err)
                self.assertNotIn("not a key", err)


if __name__ == "__main__":
    unittest.main()
