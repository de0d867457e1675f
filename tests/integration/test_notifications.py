#!/usr/bin/env python3
"""Notification integration tests: Telegram alerts and webhooks.

Real HTTP servers on loopback in this process stand in for the Telegram Bot
API (TELEGRAM_API_URL points at it; it records the path, the JSON body and
the arrival time of every request, and can be told to answer 500) and for
webhook receivers: a good one, a dead one (a port with nothing listening)
and a slow one (accepts connections and never answers).  Checks that
alerts arrive in order and at the rate limit (one a second), that every
event reaches the good webhook with a correct HMAC-SHA256 signature, that
the dead and slow receivers delay neither the API nor a flow, that a
Telegram 500 is retried, that SIGTERM delivers flow_stopped and shutdown
before exit, and that no secret is ever logged.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \
      python3 tests/integration/test_notifications.py -v

Standard library only.  All traffic stays on 127.0.0.1; every wait is
bounded.
"""

import hashlib
import hmac
import json
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_testcase import HttpRecorder, MrouteTestCase, udp_flow_body  # noqa: E402

BOT_TOKEN = "424242:BotSecret-7d1e0c9a55"
CHAT_ID = "-1001234567890"
WEBHOOK_SECRET = "HookSecret-2b8f6e4d"
URL_SECRET = "UrlSecret-93ac10fe"     # in the good webhook URL's query
RATE_TOLERANCE = 0.95                  # seconds between Telegram requests


# --------------------------------------------------------------------------
# loopback servers

class TelegramRecorder(HttpRecorder):
    """The Bot API's answers: ok with a message id, or the error of a 500."""

    def answer(self, request):
        if request["status"] == 200:
            answer = {"ok": True, "result": {"message_id": request["index"] + 1}}
        else:
            answer = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        return json.dumps(answer).encode()


class SlowServer:
    """Accepts TCP connections and never answers (holds them until close)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self._halt = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        deadline = time.monotonic() + 300
        while not self._halt.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except socket.timeout:
                pass
            except OSError:
                break

    def close(self):
        self._halt.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


# --------------------------------------------------------------------------
# helpers

def telegram_text(req):
    return json.loads(req["body"])["text"]


def webhook_event(req):
    return json.loads(req["body"])


class NotifyTestCase(MrouteTestCase):
    """A controller with Telegram and three webhook URLs (good, dead, slow)."""

    ctl = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.telegram = cls.class_own_server(TelegramRecorder())
        cls.hook = cls.class_own_server(TelegramRecorder())
        cls.slow = cls.class_own_server(SlowServer())
        cls.dead = cls.class_tcp_port()     # nothing listens there
        urls = ",".join([
            "http://127.0.0.1:%d/hook?key=%s" % (cls.hook.port, URL_SECRET),
            "http://127.0.0.1:%d/dead" % cls.dead,
            "http://127.0.0.1:%d/slow" % cls.slow.port,
        ])
        env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN,
               "TELEGRAM_CHAT_ID": CHAT_ID,
               "TELEGRAM_API_URL": cls.telegram.base,
               "MROUTE_WEBHOOK_URLS": urls,
               "MROUTE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        cls.ctl = cls.class_controller(env=env, timeout=15)

    @classmethod
    def tearDownClass(cls):
        # the controller first: it sends its last alerts while the
        # servers still answer (the base would close them first)
        try:
            if cls.ctl is not None:
                cls.ctl.stop(timeout=20)
        finally:
            super().tearDownClass()

    def new_flow(self, name):
        r = self.ctl.post("/v1/flows", udp_flow_body(name, self.port(), self.port()))
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"]

    def timed(self, limit, method, path):
        t0 = time.monotonic()
        r = self.ctl.request(method, path, timeout=10)
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, limit, "%s %s took %.3f s" % (method, path, elapsed))
        self.assertLess(r.status, 300, "%s %s -> %d %r" % (method, path, r.status, r.body))
        return r

    def assert_signed(self, req):
        body = req["body"]
        want = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        got = req["headers"].get("X-Mroute-Signature")
        self.assertIsNotNone(got, "no X-Mroute-Signature on %r" % body)
        self.assertTrue(hmac.compare_digest(want, got), "bad signature %s on %r" % (got, body))


# --------------------------------------------------------------------------

class NotificationTests(NotifyTestCase):

    def test_startup_message(self):
        reqs = self.telegram.wait_for(
            lambda rs: any("mroute started on" in telegram_text(r) for r in rs),
            10, "the startup alert")
        first = reqs[0]
        self.assertEqual(first["path"], "/bot%s/sendMessage" % BOT_TOKEN)
        self.assertTrue(first["headers"].get("Content-Type", "").startswith("application/json"))
        msg = json.loads(first["body"])
        self.assertEqual(msg["chat_id"], CHAT_ID)
        self.assertIn("mroute started on", msg["text"])
        self.assertIn(":%d" % self.ctl.port, msg["text"])

        hooks = self.hook.wait_for(
            lambda rs: any(webhook_event(r)["type"] == "startup" for r in rs),
            10, "the startup webhook")
        start = [r for r in hooks if webhook_event(r)["type"] == "startup"][0]
        ev = webhook_event(start)
        self.assertIsNone(ev["id"])
        self.assertIsNone(ev["flow_id"])
        self.assertEqual(ev["severity"], "info")
        self.assertEqual(start["headers"].get("X-Mroute-Event"), "startup")
        self.assertTrue(start["path"].startswith("/hook?key="))
        self.assert_signed(start)

    def test_api_fast_with_dead_and_slow_webhooks(self):
        # the slow receiver holds a request of ours by now
        deadline = time.monotonic() + 10
        while not self.slow.conns and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(self.slow.conns, "the slow webhook was never called")

        for _ in range(20):
            self.timed(0.5, "GET", "/v1/flows")
            self.timed(0.5, "GET", "/health")
        fid = self.new_flow("fast")
        for _ in range(2):
            self.timed(1.0, "POST", "/v1/flows/%s/start" % fid)
            self.ctl.wait_status(fid, "ACTIVE", timeout=5)
            self.timed(1.0, "POST", "/v1/flows/%s/stop" % fid)
            self.timed(0.5, "GET", "/v1/events?limit=50")
        self.timed(1.0, "DELETE", "/v1/flows/%s" % fid)

    def test_telegram_in_order_at_rate_limit(self):
        fid = self.new_flow("studio")
        for _ in range(2):
            self.assertEqual(self.ctl.post("/v1/flows/%s/start" % fid).status, 200)
            self.ctl.wait_status(fid, "ACTIVE", timeout=5)
            self.assertEqual(self.ctl.post("/v1/flows/%s/stop" % fid).status, 200)

        def mine(rs):
            return [r for r in rs if r["status"] == 200 and fid in telegram_text(r)]

        reqs = self.telegram.wait_for(lambda rs: len(mine(rs)) >= 4, 20,
                                      "four alerts for %s" % fid)
        texts = [telegram_text(r) for r in mine(reqs)]
        self.assertEqual(len(texts), 4, texts)
        for text, what in zip(texts, ["flow started", "flow stopped",
                                      "flow started", "flow stopped"]):
            self.assertIn("flow 'studio' (%s)" % fid, text)
            self.assertIn(what, text)
        # the four were queued within a fraction of a second
        times = [r["t"] for r in mine(reqs)]
        self.assertGreaterEqual(times[-1] - times[0], 3 * RATE_TOLERANCE)
        self.assert_rate_limited(reqs)

    def assert_rate_limited(self, reqs):
        for a, b in zip(reqs, reqs[1:]):
            self.assertGreaterEqual(
                b["t"] - a["t"], RATE_TOLERANCE,
                "Telegram requests %.3f s apart: %r then %r" % (
                    b["t"] - a["t"], telegram_text(a), telegram_text(b)))
        for r in reqs:
            self.assertEqual(r["path"], "/bot%s/sendMessage" % BOT_TOKEN)

    def test_telegram_500_is_retried_and_logged(self):
        # let the queue empty first, so that the failures hit our alert
        self.telegram.wait_for(lambda rs: len(rs) >= 1, 10, "the startup alert")
        self.telegram.wait_quiet(1.5, 20)
        self.telegram.fail(2)
        fid = self.new_flow("retry")
        t0 = time.monotonic()
        self.assertEqual(self.ctl.post("/v1/flows/%s/start" % fid).status, 200)
        self.ctl.wait_status(fid, "ACTIVE", timeout=5)
        self.assertLess(time.monotonic() - t0, 2.0, "start delayed by a failing Telegram")

        def attempts(rs):
            return [r for r in rs if fid in telegram_text(r)]

        reqs = self.telegram.wait_for(
            lambda rs: any(r["status"] == 200 for r in attempts(rs)), 20,
            "the retried alert for %s" % fid)
        tries = attempts(reqs)
        self.assertEqual([r["status"] for r in tries], [500, 500, 200])
        self.assertEqual(len({r["body"] for r in tries}), 1, "the retry changed the text")
        # backoff: 1 s then 2 s
        self.assertGreaterEqual(tries[1]["t"] - tries[0]["t"], RATE_TOLERANCE)
        self.assertGreaterEqual(tries[2]["t"] - tries[1]["t"], 2 * RATE_TOLERANCE)
        deadline = time.monotonic() + 5
        while "telegram: sendMessage failed: HTTP 500" not in self.ctl.read_log():
            self.assertLess(time.monotonic(), deadline, "the 500 was not logged")
            time.sleep(0.1)
        self.assert_rate_limited(reqs)
        self.ctl.post("/v1/flows/%s/stop" % fid)

    def test_webhook_every_event_signed(self):
        fid = self.new_flow("hooked")
        self.assertEqual(self.ctl.post("/v1/flows/%s/start" % fid).status, 200)
        self.ctl.wait_status(fid, "ACTIVE", timeout=5)
        self.assertEqual(self.ctl.post("/v1/flows/%s/stop" % fid).status, 200)
        events = self.ctl.get("/v1/flows/%s/events?limit=100" % fid).json()["events"]
        self.assertGreaterEqual(len(events), 2, events)
        want = {e["id"]: e for e in events}

        def got(rs):
            return {webhook_event(r)["id"]: r for r in rs
                    if webhook_event(r).get("flow_id") == fid}

        reqs = self.hook.wait_for(lambda rs: set(want) <= set(got(rs)), 10,
                                  "every event of %s" % fid)
        received = got(reqs)
        for eid, e in want.items():
            req = received[eid]
            body = webhook_event(req)
            self.assertEqual(body["flow_name"], "hooked")
            for key in ("id", "flow_id", "type", "severity", "message", "timestamp"):
                self.assertEqual(body[key], e[key], "%s of event %d" % (key, eid))
            self.assertEqual(req["headers"].get("X-Mroute-Event"), e["type"])
            self.assertTrue(req["headers"].get("Content-Type", "").startswith("application/json"))
            self.assertEqual(req["path"], "/hook?key=%s" % URL_SECRET)
        # every body this receiver ever got is signed, and they came in order
        for r in reqs:
            self.assert_signed(r)
        ids = [webhook_event(r)["id"] for r in reqs if webhook_event(r)["id"] is not None]
        self.assertEqual(ids, sorted(ids), "webhook deliveries out of order")

    def test_zz_no_secret_logged(self):
        # give the dead and slow receivers time to fail and be logged
        deadline = time.monotonic() + 10
        while "webhook 3" not in self.ctl.read_log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = self.ctl.read_log()
        self.assertIn("webhook 2 (127.0.0.1:%d)" % self.dead, log)
        self.assertIn("webhook 3 (127.0.0.1:%d)" % self.slow.port, log)
        for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], WEBHOOK_SECRET, URL_SECRET):
            self.assertNotIn(secret, log)
        self.assertNotIn("/bot", log)


class ShutdownTests(NotifyTestCase):

    def test_sigterm_delivers_flow_stopped_and_shutdown(self):
        fid = self.new_flow("last")
        self.assertEqual(self.ctl.post("/v1/flows/%s/start" % fid).status, 200)
        self.ctl.wait_status(fid, "ACTIVE", timeout=5)
        self.telegram.wait_for(
            lambda rs: any(fid in telegram_text(r) for r in rs), 10, "flow_started")
        t0 = time.monotonic()
        code = self.ctl.stop(signal.SIGTERM, timeout=20)
        took = time.monotonic() - t0
        self.assertEqual(code, 0)
        # the slow receiver is given up after its one request in flight
        self.assertLess(took, 10, "shutdown took %.1f s" % took)

        after = [r for r in self.telegram.snapshot() if r["t"] >= t0]
        texts = [telegram_text(r) for r in after]
        self.assertEqual(len(texts), 2, texts)
        self.assertIn("shutting down, stopping 1 running flow", texts[0])
        self.assertIn("(%s): flow stopped" % fid, texts[1])
        self.assertGreaterEqual(after[1]["t"] - after[0]["t"], RATE_TOLERANCE)

        types = [(webhook_event(r)["type"], webhook_event(r)["flow_id"])
                 for r in self.hook.snapshot() if r["t"] >= t0]
        self.assertEqual(types, [("shutdown", None), ("flow_stopped", fid)])

        log = self.ctl.read_log()
        self.assertIn("mroute stopped", log)
        for secret in (BOT_TOKEN, WEBHOOK_SECRET, URL_SECRET):
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
