#!/usr/bin/env python3
"""API key and request-size integration tests for the mroute controller.

- With an API key (from `[api] api_key` or from MROUTE_API_KEY), every path
  but /health (and /metrics while `metrics_public` is true) answers 401
  with the JSON error envelope unless X-API-Key holds the key;
- the key never shows in an answer nor in the controller's output;
- a body over `[api] max_body_bytes` (default 1 MiB) is a 413, a chunked
  body a 411, decided from the headers.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \
      python3 tests/integration/test_auth.py -v

Standard library only; loopback only; every wait is bounded.  Timing of the
key comparison is not asserted (the machine is noisy).
"""

import json
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_testcase import MrouteTestCase, udp_flow_body  # noqa: E402

KEY_FILE = "cfg-Key-2d7f0b94c1e8a653"       # 24 characters
KEY_ENV = "env-Key-9a31c6e5f0b2d874"        # 24 characters
# wrong keys: same length, shorter, longer, a prefix, another case
WRONG_KEYS = {
    "same length": "cfg-Key-2d7f0b94c1e8a65X",
    "shorter": "cfg-Key-2d7f",
    "longer": KEY_FILE + "00",
    "other case": KEY_FILE.upper(),
    "other key": KEY_ENV,
}
SECRETS = [KEY_FILE, KEY_ENV] + list(WRONG_KEYS.values())
ANSWER_WAIT = 3      # seconds a raw-socket exchange waits for the answer


def raw_exchange(port, head, body=None, timeout=ANSWER_WAIT):
    """Sends `head` (request line and headers), then `body` from another
    thread if given, and reads one answer.  Returns (status, headers,
    body) or None when no complete answer came within `timeout` seconds.
    The connection may stay open (keep-alive): the answer ends at its
    Content-Length."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sender = None
    try:
        s.sendall(head)
        if body is not None:
            def send():
                try:
                    s.sendall(body)
                except OSError:
                    pass     # the server may refuse the body and close
            sender = threading.Thread(target=send, daemon=True)
            sender.start()
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                hdr_text = data[:end].decode("latin-1")
                headers = {}
                for line in hdr_text.split("\r\n")[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                if len(data) >= end + 4 + n:
                    status = int(hdr_text.split(" ", 2)[1])
                    return status, headers, data[end + 4:end + 4 + n]
        return None
    finally:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
        if sender:
            sender.join(5)


class AuthChecks:
    """The checks of a controller with an API key, mixed into a
    MrouteTestCase that says how the key is given (so that this class itself
    runs none)."""

    key = None
    config = None
    env = None
    # /v1 routes and friends that must be refused without the key
    PROTECTED = [
        ("GET", "/v1/flows", None),
        ("GET", "/v1/flows/", None),
        ("POST", "/v1/flows", "flow"),
        ("GET", "/v1/flows/flow_000000000000", None),
        ("DELETE", "/v1/flows/flow_000000000000", None),
        ("POST", "/v1/flows/flow_000000000000/start", None),
        ("POST", "/v1/flows/flow_000000000000/stop", None),
        ("GET", "/v1/flows/flow_000000000000/metrics", None),
        ("GET", "/v1/flows/flow_000000000000/events", None),
        ("POST", "/v1/flows/flow_000000000000/outputs", "output"),
        ("GET", "/v1/events", None),
        ("POST", "/v1/mediamtx/events/ready", "hook"),
        ("POST", "/v1/mediamtx/events/not-ready", "hook"),
        ("GET", "/v1/nope", None),
        # "/" and "/web/NAME" are the dashboard, open (test_dashboard.py);
        # what only looks like it is not
        ("GET", "/web", None),
        ("GET", "/index.html", None),
        ("GET", "/webx/app.js", None),
        ("GET", "/v1/%66lows", None),
        ("GET", "/health/x", None),
    ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = cls.class_controller(config=cls.config, env=cls.env)

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.c.stop()
            log = cls.c.read_log()       # all of it, before the base removes it
        finally:
            super().tearDownClass()
        for s in SECRETS:
            if s in log:
                raise AssertionError("the key %r is in the controller's output:\n%s"
                                     % (s, log[-3000:]))
        if code not in (0, None):
            raise AssertionError("mroute exited with %r:\n%s" % (code, log[-3000:]))

    def tearDown(self):
        log = self.c.read_log()
        for s in SECRETS:
            self.assertNotIn(s, log, "a key is in the controller's output")
        super().tearDown()

    def flow_body(self, name="auth-flow"):
        return udp_flow_body(name, self.port(), self.port())

    def padded_body(self, size):
        """A valid flow-creation JSON body of exactly `size` bytes (spaces pad)."""
        b = json.dumps(self.flow_body("padded")).encode()
        assert len(b) <= size, size
        return b + b" " * (size - len(b))

    def call(self, method, path, body=None, raw=None, key=None, header="X-API-Key"):
        headers = {}
        if key is not None:
            headers[header] = key
        if body is not None:
            raw = json.dumps(body)
            headers["Content-Type"] = "application/json"
        r = self.c.request(method, path, raw=raw, headers=headers)
        text = r.body.decode("utf-8", "replace") + "\n" + \
            "\n".join("%s: %s" % kv for kv in r.headers.items())
        for s in SECRETS:
            self.assertNotIn(s, text, "%s %s: a key is in the answer" % (method, path))
        data = None
        if r.body and (r.headers.get("Content-Type") or "").startswith("application/json"):
            data = json.loads(r.body)
        return r, data

    def assert401(self, r, data, what):
        self.assertEqual(r.status, 401, "%s -> %d %r" % (what, r.status, r.body))
        self.assertTrue((r.headers.get("Content-Type") or "").startswith("application/json"),
                        what)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store", what)
        self.assertIsInstance(data, dict, what)
        self.assertIsInstance(data.get("error"), str, what)
        self.assertIn("X-API-Key", data["error"], what)

    def body_for(self, kind):
        return {"flow": self.flow_body(), "output": {"name": "o2", "protocol": "udp",
                                                     "destination": "127.0.0.1",
                                                     "port": self.port()},
                "hook": {"path": "live/auth-flow/in"}}.get(kind)

    def flow_names(self):
        r, d = self.call("GET", "/v1/flows", key=self.key)
        self.assertEqual(r.status, 200)
        return [f["name"] for f in d["flows"]]

    # ------------------------------------------------------------------

    def test_without_key_401(self):
        before = self.flow_names()
        for method, path, kind in self.PROTECTED:
            with self.subTest(method=method, path=path):
                r, d = self.call(method, path, body=self.body_for(kind))
                self.assert401(r, d, "%s %s without key" % (method, path))
        # an empty header is no key
        r, d = self.call("GET", "/v1/flows", key="")
        self.assert401(r, d, "empty X-API-Key")
        # the refused POSTs did nothing
        self.assertEqual(self.flow_names(), before)

    def test_wrong_key_401(self):
        before = self.flow_names()
        for what, wrong in WRONG_KEYS.items():
            if wrong == self.key:
                continue
            for method, path, kind in self.PROTECTED[:4]:
                with self.subTest(wrong=what, method=method, path=path):
                    r, d = self.call(method, path, body=self.body_for(kind), key=wrong)
                    self.assert401(r, d, "%s %s with a wrong key (%s)" % (method, path, what))
        # a wrong key in the query string is still no key
        r, d = self.call("GET", "/v1/flows?api_key=" + self.key)
        self.assert401(r, d, "key in the query")
        self.assertEqual(self.flow_names(), before)

    def test_wrong_key_same_length_vs_other_length(self):
        """Both refused alike (timing is not asserted: noisy machine)."""
        same = "x" * len(self.key)
        other = "x" * (len(self.key) + 7)
        answers = []
        for k in (same, other, same, other):
            t0 = time.monotonic()
            r, d = self.call("GET", "/v1/flows", key=k)
            answers.append((r.status, d.get("error"), time.monotonic() - t0))
        self.assertEqual({a[0] for a in answers}, {401})
        self.assertEqual(len({a[1] for a in answers}), 1, answers)

    def test_right_key_works(self):
        r, f = self.call("POST", "/v1/flows", body=self.flow_body("keyed"), key=self.key)
        self.assertEqual(r.status, 201, r.body)
        fid = f["id"]
        try:
            self.assertIn("keyed", self.flow_names())
            r, d = self.call("GET", "/v1/flows/" + fid, key=self.key)
            self.assertEqual((r.status, d["name"]), (200, "keyed"))
            r, d = self.call("POST", "/v1/flows/%s/start" % fid, key=self.key)
            self.assertEqual(r.status, 200, r.body)
            deadline = time.monotonic() + 10
            while d["status"] != "ACTIVE" and time.monotonic() < deadline:
                time.sleep(0.05)
                r, d = self.call("GET", "/v1/flows/" + fid, key=self.key)
            self.assertEqual(d["status"], "ACTIVE")
            # the header name is case-insensitive
            r, d = self.call("GET", "/v1/flows/%s/metrics" % fid, key=self.key,
                             header="x-api-key")
            self.assertEqual(r.status, 200, r.body)
            r, d = self.call("POST", "/v1/flows/%s/stop" % fid, key=self.key)
            self.assertEqual(r.status, 200, r.body)
            r, d = self.call("GET", "/v1/flows/%s/events" % fid, key=self.key)
            self.assertEqual(r.status, 200)
            self.assertIn("flow_started", [e["type"] for e in d["events"]])
            r, d = self.call("GET", "/v1/events", key=self.key)
            self.assertEqual(r.status, 200)
            # an unknown path with the key is a plain 404
            r, d = self.call("GET", "/v1/nope", key=self.key)
            self.assertEqual(r.status, 404)
        finally:
            r, _ = self.call("DELETE", "/v1/flows/" + fid, key=self.key)
            self.assertEqual(r.status, 204)

    def test_health_is_open(self):
        for path in ("/health", "/health/", "/health?x=1"):
            for key in (None, "wrong", self.key):
                with self.subTest(path=path, key=key):
                    r, d = self.call("GET", path, key=key)
                    self.assertEqual(r.status, 200, r.body)
                    self.assertEqual(d["status"], "ok")

    def _metrics_or_skip(self):
        r, _ = self.call("GET", "/metrics", key=self.key)
        if r.status == 404:
            self.skipTest("GET /metrics answers 404: the Prometheus endpoint is not "
                          "there yet")
        self.assertEqual(r.status, 200, r.body)
        return r


class KeyFromConfigTest(AuthChecks, MrouteTestCase):
    """[api] api_key in the file, metrics_public = false, a 4096-byte limit."""

    key = KEY_FILE
    config = ("[api]\napi_key = %s\nmetrics_public = false\nmax_body_bytes = 4096\n"
              % KEY_FILE)
    env = {"MROUTE_API_KEY": ""}        # empty: not set

    def test_metrics_needs_key_when_not_public(self):
        self._metrics_or_skip()
        for key in (None, "", WRONG_KEYS["same length"]):
            with self.subTest(key=key):
                r, d = self.call("GET", "/metrics", key=key)
                self.assert401(r, d, "GET /metrics, metrics_public = false, key %r" % key)
        r, _ = self.call("GET", "/metrics/")
        self.assertEqual(r.status, 401)

    def test_body_over_the_limit_413(self):
        r, d = self.call("POST", "/v1/flows", raw=b"{" + b" " * 4998 + b"}", key=self.key)
        self.assertEqual(r.status, 413, r.body)
        self.assertIn("4096", d["error"])
        # same through a raw socket, body sent in full
        head = ("POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
                "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n" % self.key)
        ans = raw_exchange(self.c.port, head.encode(), b"x" * 5000)
        self.assertIsNotNone(ans, "no answer to a 5000-byte body")
        self.assertEqual(ans[0], 413)
        # the other routes with a body have the same limit
        big = self.padded_body(5000)
        for path in ("/v1/flows/flow_000000000000/outputs",
                     "/v1/mediamtx/events/ready"):
            with self.subTest(path=path):
                r, _ = self.call("POST", path, raw=big, key=self.key)
                self.assertEqual(r.status, 413, r.body)
        # the limit is the key check's junior: no key, big body -> 401
        r, d = self.call("POST", "/v1/flows", raw=big)
        self.assert401(r, d, "big body without key")

    def test_body_at_the_limit_accepted(self):
        r, f = self.call("POST", "/v1/flows", raw=self.padded_body(4096), key=self.key)
        self.assertEqual(r.status, 201, r.body)
        self.call("DELETE", "/v1/flows/" + f["id"], key=self.key)

    def test_expect_continue_refused_before_body(self):
        """With Expect: 100-continue the 413 comes instead of 100 Continue."""
        head = ("POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
                "Expect: 100-continue\r\nContent-Length: 100000000\r\n\r\n" % self.key)
        ans = raw_exchange(self.c.port, head.encode())
        self.assertIsNotNone(ans, "no answer within %ss" % ANSWER_WAIT)
        self.assertEqual(ans[0], 413, ans)
        self.assertIn(b"4096", ans[2])

    def vm_kib(self, field):
        with open("/proc/%d/status" % self.c.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError("no %s" % field)

    def send_big(self, head, total, chunked=False):
        """Sends the headers, then `total` bytes of body (as one chunk when
        `chunked`), and reads the answer; returns (status, headers)."""
        s = socket.create_connection(("127.0.0.1", self.c.port), timeout=30)
        try:
            s.sendall(head)
            if chunked:
                s.sendall(b"%x\r\n" % total)
            block = b" " * 65536
            sent = 0
            while sent < total:
                n = min(len(block), total - sent)
                s.sendall(block[:n])
                sent += n
            if chunked:
                s.sendall(b"\r\n0\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            status = int(data.split(b" ", 2)[1])
            return status, data.split(b"\r\n\r\n")[0]
        finally:
            s.close()

    def test_refused_bodies_are_not_kept(self):
        """libsoup reads a body before it answers (except with Expect:
        100-continue), but a refused one is never kept: 40 MB without a
        key, over the limit and chunked leave the memory where it was, and
        the connection closes after the answer."""
        hwm = self.vm_kib("VmHWM")
        mb40 = 40 * 1024 * 1024
        status, headers = self.send_big(
            b"POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: %d\r\n\r\n" % mb40, mb40)
        self.assertEqual(status, 401)
        self.assertIn(b"Connection: close", headers)
        status, headers = self.send_big(
            ("POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
             "Content-Length: %d\r\n\r\n" % (self.key, mb40)).encode(), mb40)
        self.assertEqual(status, 413)
        status, headers = self.send_big(
            ("POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
             "Transfer-Encoding: chunked\r\n\r\n" % self.key).encode(), mb40,
            chunked=True)
        self.assertEqual(status, 411)
        grown = self.vm_kib("VmHWM") - hwm
        sys.stderr.write("[auth] peak memory grew by %d KiB over 120 MB of "
                         "refused bodies\n" % grown)
        self.assertLess(grown, 8 * 1024, "a refused body was kept in memory")

    def test_chunked_411(self):
        head = ("POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                % self.key)
        body = json.dumps(self.flow_body("chunked")).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        ans = raw_exchange(self.c.port, head.encode(), chunked)
        self.assertIsNotNone(ans, "no answer to a chunked body")
        self.assertEqual(ans[0], 411, ans)
        self.assertIn(b"Content-Length", ans[2])
        self.assertNotIn("chunked", self.flow_names())
        # without the key the 401 comes first
        head = ("POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Transfer-Encoding: chunked\r\n\r\n")
        ans = raw_exchange(self.c.port, head.encode(), chunked)
        self.assertIsNotNone(ans)
        self.assertEqual(ans[0], 401, ans)

class KeyFromEnvTest(AuthChecks, MrouteTestCase):
    """MROUTE_API_KEY over the file's key; default metrics and body limit."""

    key = KEY_ENV
    config = "[api]\napi_key = %s\n" % KEY_FILE
    env = {"MROUTE_API_KEY": KEY_ENV}

    def test_env_key_wins_over_file(self):
        r, d = self.call("GET", "/v1/flows", key=KEY_FILE)
        self.assert401(r, d, "the file's key when MROUTE_API_KEY is set")
        r, d = self.call("GET", "/v1/flows", key=KEY_ENV)
        self.assertEqual(r.status, 200)

    def test_metrics_public_by_default(self):
        r, _ = self.call("GET", "/metrics")
        if r.status == 404:
            self.skipTest("GET /metrics answers 404: the Prometheus endpoint is not "
                          "there yet")
        self.assertEqual(r.status, 200, r.body)
        r, _ = self.call("GET", "/metrics", key="wrong")
        self.assertEqual(r.status, 200)

    def test_default_limit_1mib(self):
        mib = 1024 * 1024
        head = ("POST /v1/flows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (self.key, mib + 1))
        ans = raw_exchange(self.c.port, head.encode(), self.padded_body(mib + 1), timeout=10)
        self.assertIsNotNone(ans, "no answer to a 1 MiB + 1 body")
        self.assertEqual(ans[0], 413, ans)
        self.assertIn(b"1048576", ans[2])
        # exactly 1 MiB is accepted
        r, f = self.call("POST", "/v1/flows", raw=self.padded_body(mib), key=self.key)
        self.assertEqual(r.status, 201, r.body[:200])
        self.call("DELETE", "/v1/flows/" + f["id"], key=self.key)


class NoKeyTest(MrouteTestCase):
    """Without a key everything is open (the default)."""

    def test_open(self):
        c = self.controller(env={"MROUTE_API_KEY": ""})
        self.assertEqual(c.get("/v1/flows").status, 200)
        self.assertEqual(c.get("/v1/flows", headers={"X-API-Key": "anything"}).status,
                         200)


if __name__ == "__main__":
    unittest.main()
