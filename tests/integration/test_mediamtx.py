#!/usr/bin/env python3
"""MediaMTX hook integration tests: the real `mtx-hook` program against a
real controller (POST /v1/mediamtx/events/ready and /not-ready).

- ready on live/<name>/in starts the flow named <name>; not-ready stops it
  after `[mediamtx] grace_period_sec` (2 s here) unless ready comes back;
- the hook's exit codes: 0 on a 2xx answer, 1 on any failure (unknown
  stream, controller down, 401), 2 on a usage error;
- the hook builds its JSON safely whatever MTX_QUERY holds (checked against
  a local capture server as well as the controller);
- the receiver's validation: 400 (malformed JSON, unknown field, missing
  path), 404, 405, 409;
- with an API key: the hook passes MROUTE_API_KEY as X-API-Key.

Run:  MROUTE_BIN=build/controller/mroute MTX_HOOK_BIN=build/tools/mtx-hook \
      GST_PLUGIN_PATH=build/plugins python3 tests/integration/test_mediamtx.py -v

Standard library only; loopback only; every wait is bounded.
"""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_testcase import HttpRecorder, MrouteTestCase, udp_flow_body  # noqa: E402

GRACE = 2
CONFIG = "[mediamtx]\ngrace_period_sec = %d\n" % GRACE
# Everything a shell would choke on; the hook must pass it through as is.
QUERY = "lang=es&x=\"quoted\" 'single' \\ back"
API_KEY = "mtx-Key-7b1e94c2d05f"
HOOK_TIMEOUT = 20
RUNNING = ("STARTING", "ACTIVE")


def hook_bin():
    b = os.environ.get("MTX_HOOK_BIN")
    if not b:
        raise unittest.SkipTest("MTX_HOOK_BIN is not set (run through meson test)")
    return os.path.abspath(b)


def run_hook(event, base, path="live/abc/in", key=None, extra_env=None, args=None):
    """Runs mtx-hook as MediaMTX would: only the MTX_* variables, MROUTE_URL
    and (maybe) MROUTE_API_KEY in its environment."""
    env = {"MTX_QUERY": QUERY, "MTX_SOURCE_TYPE": "rtmpConn", "MTX_SOURCE_ID": "1",
           "MROUTE_URL": base}
    if path is not None:
        env["MTX_PATH"] = path
    if key is not None:
        env["MROUTE_API_KEY"] = key
    if extra_env:
        env.update(extra_env)
    argv = [hook_bin()] + (list(args) if args is not None else [event])
    return subprocess.run(argv, env=env, capture_output=True, timeout=HOOK_TIMEOUT)


class MediamtxBase(MrouteTestCase):
    config = CONFIG
    env = {"MROUTE_API_KEY": ""}    # whatever the caller's environment holds

    @classmethod
    def setUpClass(cls):
        hook_bin()
        super().setUpClass()
        cls.c = cls.class_controller(config=cls.config, env=cls.env)

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.c.stop()
            log = cls.c.read_log()       # before the base removes it
        finally:
            super().tearDownClass()
        if code not in (0, None):
            raise AssertionError("mroute exited with %r:\n%s" % (code, log[-3000:]))

    headers = None

    def call(self, method, path, body=None, raw=None, expect=None):
        r = self.c.request(method, path, body=body, raw=raw, headers=self.headers)
        data = None
        if r.body:
            try:
                data = json.loads(r.body)
            except ValueError:
                self.fail("%s %s: not JSON: %r" % (method, path, r.body[:200]))
        if expect is not None:
            self.assertEqual(r.status, expect, "%s %s -> %d %r" % (method, path, r.status, r.body))
        return r, data

    def hook(self, ready, body, expect=None):
        ev = "ready" if ready else "not-ready"
        return self.call("POST", "/v1/mediamtx/events/" + ev, body=body, expect=expect)

    def create(self, name="abc"):
        _, f = self.call("POST", "/v1/flows",
                         body=udp_flow_body(name, self.port(), self.port(), "in", "out"),
                         expect=201)
        self.addCleanup(self.c.request, "DELETE", "/v1/flows/" + f["id"], headers=self.headers)
        return f["id"]

    def status(self, fid):
        return self.call("GET", "/v1/flows/" + fid, expect=200)[1]["status"]

    def wait_status(self, fid, want, timeout=10):
        deadline = time.monotonic() + timeout
        s = None
        while time.monotonic() < deadline:
            s = self.status(fid)
            if s in want:
                return s
            time.sleep(0.05)
        self.fail("flow %s is %s, not %s, after %ss" % (fid, s, want, timeout))

    def types(self, fid):
        return [e["type"] for e in self.events(self.c, fid, oldest_first=True)]

    def assertHookOk(self, p, what):
        self.assertEqual(p.returncode, 0, "%s: exit %d, stderr %r" % (what, p.returncode, p.stderr))


class HookLifecycleTest(MediamtxBase):
    """The real mtx-hook driving one flow named "abc"."""

    def test_ready_starts_the_flow(self):
        fid = self.create()
        self.assertEqual(self.status(fid), "STANDBY")
        p = run_hook("ready", self.c.base)
        self.assertHookOk(p, "ready")
        self.assertIn(self.status(fid), RUNNING)
        self.wait_status(fid, ("ACTIVE",))
        self.assertEqual(self.types(fid).count("flow_started"), 1)
        # the receiver's log has the correlation fields of the seed (6.1)
        log = self.c.read_log()
        self.assertRegex(log, r"mediamtx mtx-\d+: ready path=live/abc/in streamId=abc "
                              r"sourceType=rtmpConn sourceId=1")
        # a second ready: still one start, exit 0
        p = run_hook("ready", self.c.base)
        self.assertHookOk(p, "second ready")
        _, a = self.hook(True, {"path": "live/abc/in"}, expect=200)
        self.assertEqual(a["action"], "already_running")
        self.assertEqual(a["flow_id"], fid)
        self.assertEqual(a["stream_id"], "abc")
        self.assertEqual(self.types(fid).count("flow_started"), 1)

    def test_not_ready_stops_after_grace(self):
        fid = self.create()
        self.assertHookOk(run_hook("ready", self.c.base), "ready")
        self.wait_status(fid, ("ACTIVE",))
        t0 = time.monotonic()
        p = run_hook("not-ready", self.c.base)
        self.assertHookOk(p, "not-ready (202)")
        # still running right after: the stop waits for the grace period
        self.assertIn(self.status(fid), RUNNING)
        self.wait_status(fid, ("STANDBY",), timeout=GRACE + 6)
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, GRACE - 0.7,
                                "stopped after %.2fs, before the %ds grace" % (elapsed, GRACE))
        types = self.types(fid)
        self.assertEqual(types.count("flow_stopped"), 1, types)
        self.assertIn("stopping it", self.c.read_log())
        # the stop is persisted like a manual one; a late not-ready is a no-op
        _, a = self.hook(False, {"path": "live/abc/in"}, expect=200)
        self.assertEqual(a["action"], "not_running")
        self.assertEqual(self.status(fid), "STANDBY")

    def test_ready_again_within_grace_keeps_running(self):
        fid = self.create()
        self.assertHookOk(run_hook("ready", self.c.base), "ready")
        self.wait_status(fid, ("ACTIVE",))
        self.assertHookOk(run_hook("not-ready", self.c.base), "not-ready")
        time.sleep(0.3)
        self.assertHookOk(run_hook("ready", self.c.base), "ready again")
        t_ready = time.monotonic()
        # past the grace period (counted from not-ready) with a margin
        time.sleep(GRACE + 1.5)
        self.assertEqual(self.status(fid), "ACTIVE")
        types = self.types(fid)
        self.assertNotIn("flow_stopped", types)
        self.assertEqual(types.count("flow_started"), 1, types)
        self.assertLess(time.monotonic() - t_ready, GRACE + 10)

    def test_start_by_hand_cancels_a_scheduled_stop(self):
        """A stop then start by hand after not-ready: the hand wins, the
        flow is still running after the grace period."""
        fid = self.create()
        self.assertHookOk(run_hook("ready", self.c.base), "ready")
        self.wait_status(fid, ("ACTIVE",))
        _, a = self.hook(False, {"path": "live/abc/in"}, expect=202)
        self.assertEqual(a["action"], "stop_scheduled")
        self.call("POST", "/v1/flows/%s/stop" % fid, expect=200)
        self.call("POST", "/v1/flows/%s/start" % fid, expect=200)
        time.sleep(GRACE + 1.5)
        self.assertEqual(self.status(fid), "ACTIVE")
        self.assertIn("scheduled stop cancelled", self.c.read_log())

    def test_answers_of_each_action(self):
        """Direct posts: the action names and status codes of docs/api.md."""
        fid = self.create()
        body = {"path": "live/abc/in", "query": QUERY, "sourceType": "rtmpConn", "sourceId": "7"}
        # not-ready on a stopped flow
        _, a = self.hook(False, body, expect=200)
        self.assertEqual(a["action"], "not_running")
        self.assertTrue(a["request_id"].startswith("mtx-"), a)
        # ready -> started
        _, a = self.hook(True, body, expect=200)
        self.assertEqual((a["action"], a["flow_id"], a["stream_id"]), ("started", fid, "abc"))
        self.assertNotIn("stop_in_sec", a)
        # not-ready -> 202 stop_scheduled, twice (the second keeps the timer)
        r, a = self.hook(False, body, expect=202)
        self.assertEqual(a["action"], "stop_scheduled")
        self.assertEqual(a["stop_in_sec"], GRACE)
        r, a = self.hook(False, body, expect=202)
        self.assertEqual(a["action"], "stop_scheduled")
        # ready within the grace -> stop_cancelled
        _, a = self.hook(True, body, expect=200)
        self.assertEqual(a["action"], "stop_cancelled")
        # different request ids
        _, b = self.hook(True, body, expect=200)
        self.assertEqual(b["action"], "already_running")
        self.assertNotEqual(a["request_id"], b["request_id"])
        time.sleep(GRACE + 1)
        self.assertIn(self.status(fid), RUNNING)
        self.assertNotIn("flow_stopped", self.types(fid))
        self.call("POST", "/v1/flows/%s/stop" % fid, expect=200)

    def test_leading_slash_path_is_ingest(self):
        fid = self.create()
        _, a = self.hook(True, {"path": "/live/abc/in"}, expect=200)
        self.assertEqual(a["action"], "started")
        self.wait_status(fid, RUNNING)
        self.call("POST", "/v1/flows/%s/stop" % fid, expect=200)

    def test_non_ingest_paths_do_nothing(self):
        fid = self.create()
        before = self.events(self.c, fid)
        p = run_hook("ready", self.c.base, path="live/abc/out")
        self.assertHookOk(p, "ready live/abc/out")
        p = run_hook("not-ready", self.c.base, path="live/abc/out")
        self.assertHookOk(p, "not-ready live/abc/out")
        for path in ("live/abc/out", "live/abc", "live/abc/in/x", "other/abc/in", "live//in",
                     "abc"):
            with self.subTest(path=path):
                _, a = self.hook(True, {"path": path}, expect=200)
                self.assertEqual(a["action"], "ignored")
                self.assertNotIn("flow_id", a)
        time.sleep(0.3)
        self.assertEqual(self.status(fid), "STANDBY")
        self.assertEqual(self.events(self.c, fid), before)

    def test_unknown_stream(self):
        self.create()
        p = run_hook("ready", self.c.base, path="live/nope/in")
        self.assertEqual(p.returncode, 1, p)
        err = p.stderr.decode("utf-8", "replace")
        self.assertIn("no flow is named 'nope'", err)
        self.assertIn("404", err)
        r, a = self.hook(False, {"path": "live/nope/in"}, expect=404)
        self.assertIn("nope", a["error"])
        # nothing is ever created from a hook
        _, lst = self.call("GET", "/v1/flows", expect=200)
        self.assertEqual([f["name"] for f in lst["flows"]], ["abc"])

    def test_two_flows_with_the_name_409(self):
        self.create("dup")
        self.create("dup")
        r, a = self.hook(True, {"path": "live/dup/in"}, expect=409)
        self.assertIn("dup", a["error"])
        p = run_hook("ready", self.c.base, path="live/dup/in")
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(b"409", p.stderr)

    def test_usage_errors_exit_2(self):
        p = run_hook("ready", self.c.base, path=None)
        self.assertEqual(p.returncode, 2, p)
        self.assertIn(b"MTX_PATH", p.stderr)
        p = run_hook("ready", self.c.base, path="")
        self.assertEqual(p.returncode, 2, p)
        p = run_hook("ready", "not a url")
        self.assertEqual(p.returncode, 2, p)
        self.assertIn(b"MROUTE_URL", p.stderr)
        for args in ([], ["start"], ["ready", "extra"]):
            with self.subTest(args=args):
                p = run_hook(None, self.c.base, args=args)
                self.assertEqual(p.returncode, 2, p)
                self.assertIn(b"usage", p.stderr)

    def test_controller_down_exit_1(self):
        port = self.tcp_port()    # nothing listens there
        t0 = time.monotonic()
        p = run_hook("ready", "http://127.0.0.1:%d" % port)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(b"live/abc/in", p.stderr)
        self.assertLess(time.monotonic() - t0, HOOK_TIMEOUT)

    def test_receiver_validation(self):
        fid = self.create()
        cases = [
            ("malformed JSON", '{"path": "live/abc/in"', None),
            ("not an object", '["live/abc/in"]', None),
            ("empty body", "", None),
            ("unknown field", '{"path": "live/abc/in", "bogus": "1"}', "bogus"),
            ("path missing", '{"query": "a=b"}', "path"),
            ("path empty", '{"path": ""}', "path"),
            ("path not a string", '{"path": 5}', "path"),
            ("query not a string", '{"path": "live/abc/in", "query": {}}', "query"),
            ("path too long", json.dumps({"path": "live/" + "a" * 4100 + "/in"}), "path"),
        ]
        for ready in (True, False):
            for what, raw, field in cases:
                with self.subTest(what=what, ready=ready):
                    ev = "ready" if ready else "not-ready"
                    r, a = self.call("POST", "/v1/mediamtx/events/" + ev, raw=raw)
                    self.assertEqual(r.status, 400, "%s: %d %r" % (what, r.status, r.body))
                    self.assertIsInstance(a.get("error"), str)
                    if field:
                        self.assertEqual(a.get("field"), field, a)
                        self.assertIn(field, a["error"])
        # null fields are accepted as absent
        r, a = self.hook(False, {"path": "live/abc/in", "query": None}, expect=200)
        self.assertEqual(a["action"], "not_running")
        self.assertEqual(self.status(fid), "STANDBY")

    def test_routes(self):
        for method in ("GET", "PUT", "DELETE"):
            for ev in ("ready", "not-ready"):
                with self.subTest(method=method, ev=ev):
                    r, a = self.call(method, "/v1/mediamtx/events/" + ev)
                    self.assertEqual(r.status, 405)
                    self.assertEqual(r.headers.get("Allow"), "POST")
                    self.assertIn("error", a)
        for path in ("/v1/mediamtx/events/started", "/v1/mediamtx/events", "/v1/mediamtx"):
            with self.subTest(path=path):
                r, _ = self.call("POST", path, body={"path": "live/abc/in"})
                self.assertEqual(r.status, 404)


class HookProgramTest(MrouteTestCase):
    """What mtx-hook sends, seen by a local capture server."""

    def setUp(self):
        super().setUp()
        hook_bin()
        # records every POST and answers srv.status
        self.srv = self.own_server(HttpRecorder(answer=b'{"action":"ok"}', protocol="HTTP/1.0"))
        self.base = self.srv.base

    def test_json_is_built_safely(self):
        weird_path = "live/ab\"c\\d\n\u00e9/in"
        for event, path in (("ready", "live/abc/in"), ("not-ready", weird_path)):
            with self.subTest(event=event):
                self.srv.clear()
                p = run_hook(event, self.base, path=path, key=API_KEY)
                self.assertEqual(p.returncode, 0, p)
                seen = self.srv.snapshot()
                self.assertEqual(len(seen), 1)
                url, headers, body = seen[0]["path"], seen[0]["headers"], seen[0]["body"]
                self.assertEqual(url, "/v1/mediamtx/events/" + event)
                self.assertEqual(json.loads(body), {"path": path, "query": QUERY,
                                                    "sourceType": "rtmpConn", "sourceId": "1"})
                h = {k.lower(): v for k, v in headers.items()}
                self.assertTrue(h.get("content-type", "").startswith("application/json"), h)
                self.assertEqual(h.get("x-api-key"), API_KEY)
        # no key in the environment: no header at all
        self.srv.clear()
        self.assertEqual(run_hook("ready", self.base).returncode, 0)
        h = {k.lower() for k in self.srv.snapshot()[0]["headers"]}
        self.assertNotIn("x-api-key", h)

    def test_exit_code_follows_the_status(self):
        for status, code in ((200, 0), (202, 0), (204, 0), (400, 1), (401, 1), (404, 1),
                             (500, 1)):
            with self.subTest(status=status):
                self.srv.status = status
                p = run_hook("ready", self.base)
                self.assertEqual(p.returncode, code, p)
                if code:
                    self.assertIn(str(status).encode(), p.stderr)


class HookWithApiKeyTest(MediamtxBase):
    config = CONFIG + "[api]\napi_key = %s\n" % API_KEY
    headers = {"X-API-Key": API_KEY}

    def test_hook_with_and_without_key(self):
        fid = self.create()
        p = run_hook("ready", self.c.base)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(b"401", p.stderr)
        self.assertEqual(self.status(fid), "STANDBY")
        p = run_hook("ready", self.c.base, key="mtx-Key-7b1e94c2d05X")
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(b"401", p.stderr)
        self.assertEqual(self.status(fid), "STANDBY")
        p = run_hook("ready", self.c.base, key=API_KEY)
        self.assertEqual(p.returncode, 0, p)
        self.wait_status(fid, RUNNING)
        self.assertNotIn(API_KEY.encode(), p.stderr + p.stdout)
        p = run_hook("not-ready", self.c.base, key=API_KEY)
        self.assertEqual(p.returncode, 0, p)
        self.wait_status(fid, ("STANDBY",), timeout=GRACE + 6)
        self.assertNotIn(API_KEY, self.c.read_log())


if __name__ == "__main__":
    unittest.main()
