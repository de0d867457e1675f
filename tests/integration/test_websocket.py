#!/usr/bin/env python3
"""GET /v1/ws, live updates over a WebSocket (issue 16; docs/api.md "Live
updates over a WebSocket"), against a real controller, with a small
standard-library WebSocket client (mroute_ws.py) and a real live ffmpeg
sender (H.264 + AAC MPEG-TS over UDP on 127.0.0.1).

1. Without an API key: hello; a subscription to one flow gets that flow's
   metrics once a second (its status turning ACTIVE, its source's bitrate
   rising once the sender sends) and its events as they are stored
   (flow_started, source_active), and nothing of another flow; "*" gets
   both; deleting a subscribed flow pushes flow_deleted; bad messages get
   an error and the connection stays; a page of another origin is
   refused (403), the same origin is taken; plain HTTP on /v1/ws is a
   400, other methods 405.
2. With an API key: no ticket 401, a wrong one 401, a ticket from POST
   /v1/ws/tickets (201, with the key; 401 without) connects once, a
   second use is 401; the key itself in X-API-Key also connects.
3. A WebSocket outlives the HTTP deadlines (header and body timeouts of
   1 s); a client that reads nothing for 10 s is closed with 1008; on
   SIGTERM every client gets 1001.
Every wait is bounded.
"""

import os
import shutil
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mroute_ws  # noqa: E402
from mroute_harness import Controller  # noqa: E402
from mroute_testcase import LO, MrouteTestCase  # noqa: E402
from test_monitoring import ffmpeg_sender  # noqa: E402

KEY = "ws-test-Key-7c1d0e9a4b"


def note(msg):
    sys.stderr.write("    [ws] %s\n" % msg)
    sys.stderr.flush()


class WebSocketTest(MrouteTestCase):

    def controller_with(self, **kw):
        c = self.own_controller(Controller(**kw))
        c.start()
        return c

    def connect(self, ctl, path="/v1/ws", **kw):
        ws = mroute_ws.WebSocket(LO, ctl.port, path, **kw)
        self.own(ws_stopper(ws))
        return ws

    def flow(self, ctl, name):
        port = self.port()
        r = ctl.post("/v1/flows", {"name": name, "sources": [
            {"name": "cam", "protocol": "udp", "ingest_port": port}]})
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"], port

    # ---------------------------------------------------------------------

    @unittest.skipUnless(shutil.which("ffmpeg"), "ffmpeg is needed")
    def test_subscriptions_metrics_and_events(self):
        ctl = self.controller_with()
        a, port_a = self.flow(ctl, "alpha")
        b, _ = self.flow(ctl, "beta")
        ws = self.connect(ctl, protocol="mroute.v1")
        self.assertEqual(ws.headers.get("sec-websocket-protocol"), "mroute.v1")
        events = ws.events = []
        hello = ws.recv_json()
        self.assertEqual((hello["type"], hello["version"]), ("hello", 1))
        ws.send_json({"type": "subscribe", "flows": [a, "flow_000000000000"]})
        self.assertEqual(ws.recv_json(), {"type": "subscribed",
                                          "flows": sorted([a, "flow_000000000000"])})
        m = ws.recv_until(lambda m: m["type"] == "metrics", 3)
        self.assertEqual([f["flow_id"] for f in m["flows"]], [a])
        self.assertEqual((m["flows"][0]["name"], m["flows"][0]["status"]), ("alpha", "STANDBY"))

        t0 = time.monotonic()
        for fid in (a, b):
            self.assertEqual(ctl.post("/v1/flows/%s/start" % fid).status, 200)
        ev = ws.recv_until(lambda m: m["type"] == "event", 5)["event"]
        self.assertEqual((ev["flow_id"], ev["type"]), (a, "flow_started"))
        self.own_proc(ffmpeg_sender(port_a, seconds=20), signal.SIGKILL)
        m = ws.recv_until(lambda m: m["type"] == "metrics" and m["flows"]
                          and m["flows"][0]["source_metrics"][0]["bitrate_kbps"] > 100, 15)
        f = m["flows"][0]
        note("bitrate %d kbps after %.1f s" % (f["source_metrics"][0]["bitrate_kbps"],
                                               time.monotonic() - t0))
        self.assertEqual((f["flow_id"], f["status"], f["active_source"]), (a, "ACTIVE", "cam"))
        self.assertIn("content_alarms", f["source_metrics"][0])
        self.assertEqual(f, dict(ctl.get("/v1/flows/%s/metrics" % a).json(), name="alpha",
                                 timestamp=f["timestamp"], uptime_seconds=f["uptime_seconds"],
                                 source_metrics=f["source_metrics"]))

        # what was pushed of events is what the API stored, and only flow a's
        ws.recv_until(lambda m: any(e["type"] == "source_active" for e in events), 5)
        self.assertTrue(all(e["flow_id"] == a for e in events), events)
        stored = {e["id"]: e for e in ctl.get("/v1/flows/%s/events" % a).json()["events"]}
        for e in events:
            self.assertEqual(stored[e["id"]], e)

        # "*": both flows; bad messages: errors, and the connection stays
        ws.send_json({"type": "subscribe", "flows": "*"})
        ws.recv_until(lambda m: m["type"] == "subscribed" and m["flows"] == "*", 3)
        m = ws.recv_until(lambda m: m["type"] == "metrics", 3)
        self.assertEqual(sorted(f["flow_id"] for f in m["flows"]), sorted([a, b]))
        for bad, what in ((b"\xff\xfe", "JSON object"), ('{"type": 1}', "type:"),
                          ('{"type": "subscribe", "flows": [1]}', "flows[0]"),
                          ('{"type": "subscribe"}', "flows:"), ('[]', "JSON object")):
            if isinstance(bad, bytes):
                ws.send_frame(0x2, bad)
            else:
                ws.send_text(bad)
            err = ws.recv_until(lambda m: m["type"] == "error", 3)
            self.assertIn(what, err["error"])
        ws.send_json({"type": "ping"})
        ws.recv_until(lambda m: m["type"] == "pong", 3)

        # a deleted flow
        self.assertEqual(ctl.delete("/v1/flows/%s" % b).status, 204)
        gone = ws.recv_until(lambda m: m["type"] == "flow_deleted", 4)
        self.assertEqual(gone["flow_id"], b)
        ws.send_json({"type": "unsubscribe", "flows": "*"})
        self.assertEqual(ws.recv_until(lambda m: m["type"] == "subscribed", 3)["flows"], [])
        m = ws.recv_until(lambda m: m["type"] == "metrics", 3)
        self.assertEqual(m["flows"], [])

    def test_http_side_and_origin(self):
        ctl = self.controller_with()
        r = ctl.get("/v1/ws")
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("WebSocket", r.json()["error"])
        r = ctl.post("/v1/ws")
        self.assertEqual((r.status, r.headers.get("Allow")), (405, "GET"))
        r = ctl.get("/v1/ws/tickets")
        self.assertEqual((r.status, r.headers.get("Allow")), (405, "POST"))
        self.assertEqual(ctl.get("/v1/ws/else").status, 404)
        with self.assertRaises(mroute_ws.HandshakeRefused) as cm:
            self.connect(ctl, headers={"Origin": "http://evil.example"})
        self.assertEqual(cm.exception.status, 403)
        ws = self.connect(ctl, headers={"Origin": "http://127.0.0.1:%d" % ctl.port})
        self.assertEqual(ws.recv_json()["type"], "hello")
        # without a key a ticket is not needed, and can be had
        r = ctl.post("/v1/ws/tickets")
        self.assertEqual(r.status, 201, r.body)

    def test_key_and_tickets(self):
        ctl = self.controller_with(env={"MROUTE_API_KEY": KEY})
        hdr = {"X-API-Key": KEY}
        for path in ("/v1/ws", "/v1/ws?ticket=0123456789abcdef0123456789abcdef", "/v1/ws?ticket="):
            with self.assertRaises(mroute_ws.HandshakeRefused) as cm:
                self.connect(ctl, path)
            self.assertEqual(cm.exception.status, 401, path)
            self.assertIn(b"ticket", cm.exception.body)
        self.assertEqual(ctl.post("/v1/ws/tickets").status, 401)
        r = ctl.post("/v1/ws/tickets", headers=hdr)
        self.assertEqual(r.status, 201, r.body)
        ticket = r.json()["ticket"]
        self.assertRegex(ticket, r"^[0-9a-f]{32}$")
        self.assertEqual(r.json()["expires_in_sec"], 30)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        ws = self.connect(ctl, "/v1/ws?ticket=" + ticket)
        self.assertEqual(ws.recv_json()["type"], "hello")
        with self.assertRaises(mroute_ws.HandshakeRefused) as cm:
            self.connect(ctl, "/v1/ws?ticket=" + ticket)
        self.assertEqual(cm.exception.status, 401)
        ws2 = self.connect(ctl, headers=hdr)
        self.assertEqual(ws2.recv_json()["type"], "hello")
        # tickets are not logged, nor the key
        log = ctl.read_log()
        self.assertNotIn(ticket, log)
        self.assertNotIn(KEY, log)
        self.assertIn("GET /v1/ws refused: no valid ticket", log)

    def test_deadlines_stalls_and_shutdown(self):
        ctl = self.controller_with(config="[api]\nheader_timeout_sec = 1\nbody_timeout_sec = 1\n")
        # enough flows that their metrics (about 12 kB a second) fill the
        # lazy client's socket buffer, and then the controller's
        for i in range(20):
            self.flow(ctl, "flow-%02d-%s" % (i, "x" * 40))
        ws = self.connect(ctl)
        ws.recv_json()
        ws.send_json({"type": "subscribe", "flows": "*"})
        ws.recv_json()
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < 4:
            if ws.recv_json(3)["type"] == "metrics":
                n += 1
        self.assertGreaterEqual(n, 3)

        # a client that reads nothing: closed after 10 s of a queue that never shrinks
        lazy = self.connect(ctl, rcvbuf=4096)
        lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lazy.send_json({"type": "subscribe", "flows": "*"})
        time.sleep(14)
        code = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                lazy.recv(5)
            except mroute_ws.Closed as e:
                code = e.code
                break
        note("the client that read nothing: closed with %s" % code)
        self.assertEqual(code, 1008)
        self.assertIn("it took nothing of what waited for it", ctl.read_log())
        # the reading client was not touched
        self.assertEqual(ws.recv_until(lambda m: m["type"] == "metrics", 3)["type"], "metrics")

        # shutdown: 1001
        ctl.proc.send_signal(signal.SIGTERM)
        code = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                ws.recv(5)
            except mroute_ws.Closed as e:
                code = e.code
                break
        self.assertEqual(code, 1001)
        self.assertEqual(ctl.proc.wait(20), 0)
        ctl.stop()


class ws_stopper:
    """stop() closes the WebSocket (for the test case's teardown)"""

    def __init__(self, ws):
        self.ws = ws

    def stop(self):
        try:
            self.ws.sock.close()
        except OSError:
            pass


if __name__ == "__main__":
    unittest.main(verbosity=2)
