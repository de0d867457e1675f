#!/usr/bin/env python3
"""The controller's log, --version and SIGHUP.

Checks that every line of the text log has the ISO 8601 UTC date with
milliseconds, the level and the domain; that with --log-format=json every
line is one JSON object with time, level, domain, flow_id, flow_name and
message, a flow's lines carrying its id and name; that --log-level filters;
that --version prints the versions and exits 0; and that SIGHUP reloads the
configuration file in the same process: a new API key (the old one then
gets 401), the log format, the webhooks; a changed port is a warning and the
old port keeps serving; a broken file changes nothing.  No key, token or
secret ever appears in the log.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \\
      python3 tests/integration/test_logging.py -v

Standard library only.  All traffic stays on 127.0.0.1; every wait is
bounded.
"""

import json
import os
import re
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mroute_harness import Controller  # noqa: E402
from mroute_testcase import HttpRecorder, MrouteTestCase, udp_flow_body, wait_for  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OLD_KEY = "OldKey-5d2f8a61c0e4"
NEW_KEY = "NewKey-9b7e3c14aa02"
BAD_KEY = "BrokenFileKey-77c1e0d9"
HOOK_SECRET = "HookSecret-41f0c2e8d6"
BOT_TOKEN = "515151:BotSecret-a0c3e9f27b"
SECRETS = (OLD_KEY, NEW_KEY, BAD_KEY, HOOK_SECRET, BOT_TOKEN)

LEVELS = ("error", "critical", "warning", "info", "debug")
TIME_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
TEXT_RE = re.compile(r"^(%s) (error|critical|warning|info|debug) +(\S+): (.*)$" % TIME_RE)
JSON_FIELDS = {"time", "level", "domain", "flow_id", "flow_name", "message"}
# a name that needs escaping in both formats
ODD_NAME = 'studio "B" \\ \u00fcber \u2014 ok'


def project_version():
    with open(os.path.join(REPO, "meson.build")) as f:
        m = re.search(r"version\s*:\s*'([^']+)'", f.read())
    return m.group(1)


POLL = 0.05                  # s between two looks of wait_for()
# what the webhook receiver and the Telegram Bot API double answer
ANSWER = b'{"ok": true, "result": {}}'


class ConfiguredController(Controller):
    """A controller whose port comes from its configuration file, not from
    --port (which would win over the file), so that a reload can change
    it."""

    def __init__(self, key=OLD_KEY, **kw):
        super().__init__(**kw)
        self.config_path = os.path.join(self.tmpdir, "mroute.conf")
        self.write_config(api_conf(self.port, key))

    def write_config(self, text):
        tmp = self.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def command(self):
        return [self.bin, "--db", self.db_path, "--config", self.config_path] + self.extra_args

    def reload(self, timeout=10):
        """SIGHUP, then waits for the line that says how it went; returns
        the log written since."""
        before = len(self.read_log())
        self.proc.send_signal(signal.SIGHUP)
        return wait_for(lambda: (lambda t: t if re.search(r"SIGHUP: (configuration .* reloaded|not reloaded)", t)
                                 else None)(self.read_log()[before:]),
                        timeout, POLL, "the reload's log line")


def api_conf(port, key, extra=""):
    return "[api]\nhost = 127.0.0.1\nport = %d\napi_key = %s\n%s" % (port, key, extra)


class LoggingTestCase(MrouteTestCase):

    def configured_controller(self):
        """A ConfiguredController with the old key, started."""
        return self.controller(make=ConfiguredController)

    def recorder(self):
        """A webhook receiver or Telegram Bot API: records every POST."""
        return self.own_server(HttpRecorder(answer=ANSWER))

    def assertNoSecret(self, log):
        for s in SECRETS:
            self.assertNotIn(s, log, "a secret is in the controller's log")

    def run_flow(self, c, name, headers=None):
        """Creates, starts and stops a flow; returns its id once its
        flow_stopped event is stored (and so logged: the log line comes
        first)."""
        r = c.post("/v1/flows", udp_flow_body(name, self.port(), self.port()), headers=headers)
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]

        def has_event(kind):
            r = c.get("/v1/flows/%s/events?limit=1000" % fid, headers=headers)
            return r.status == 200 and kind in [e["type"] for e in r.json()["events"]]

        self.assertEqual(c.post("/v1/flows/%s/start" % fid, headers=headers).status, 200)
        wait_for(lambda: has_event("flow_started"), 10, POLL, "flow_started")
        self.assertEqual(c.post("/v1/flows/%s/stop" % fid, headers=headers).status, 200)
        wait_for(lambda: has_event("flow_stopped"), 10, POLL, "flow_stopped")
        return fid


class TestFormats(LoggingTestCase):

    def test_text_lines(self):
        c = self.controller()
        fid = self.run_flow(c, "studio-a")
        self.assertEqual(c.stop(), 0)
        lines = [ln for ln in c.read_log().splitlines() if ln]
        self.assertGreater(len(lines), 3)
        domains = set()
        for ln in lines:
            m = TEXT_RE.match(ln)
            self.assertIsNotNone(m, "not a log line: %r" % ln)
            domains.add(m.group(3))
        self.assertIn("mroute", domains)
        self.assertIn("mroute-manager", domains)
        # a flow's lines: its name and id in front of the message, which is
        # unchanged
        ctx = '[flow "studio-a" (%s)] ' % fid
        flow_lines = [ln for ln in lines if ctx in ln]
        self.assertTrue(any(("flow %s: flow_started: " % fid) in ln for ln in flow_lines), lines)
        self.assertTrue(any(ln.endswith("mroute stopped") for ln in lines))

    def test_json_lines(self):
        c = self.controller(extra_args=["--log-format=json"])
        fid = self.run_flow(c, ODD_NAME)
        self.assertEqual(c.stop(), 0)
        with open(c.log_path, "rb") as f:
            raw = f.read()
        raw.decode("utf-8")          # strict: valid UTF-8 throughout
        entries = []
        for ln in raw.decode().splitlines():
            if not ln:
                continue
            e = json.loads(ln)
            self.assertEqual(set(e), JSON_FIELDS, ln)
            self.assertRegex(e["time"], "^%s$" % TIME_RE)
            self.assertIn(e["level"], LEVELS)
            self.assertIsInstance(e["message"], str)
            entries.append(e)
        events = [e for e in entries if e["message"].startswith("flow %s: flow_" % fid)]
        self.assertGreaterEqual(len(events), 2, entries)
        for e in events:
            self.assertEqual(e["flow_id"], fid)
            self.assertEqual(e["flow_name"], ODD_NAME)
            self.assertEqual(e["domain"], "mroute-manager")
        others = [e for e in entries if "listening on" in e["message"]]
        self.assertEqual(len(others), 1)
        self.assertIsNone(others[0]["flow_id"])
        self.assertIsNone(others[0]["flow_name"])
        self.assertEqual(others[0]["domain"], "mroute")
        self.assertEqual(others[0]["level"], "info")

    def test_text_escapes_the_name(self):
        c = self.controller()
        fid = self.run_flow(c, ODD_NAME)
        log = c.read_log()
        self.assertIn('[flow "studio \\"B\\" \\\\ \u00fcber \u2014 ok" (%s)]' % fid, log)

    def test_level_warning_hides_info(self):
        c = self.controller(extra_args=["--log-level=warning"])
        self.run_flow(c, "quiet")
        self.assertEqual(c.stop(), 0)
        for ln in c.read_log().splitlines():
            m = TEXT_RE.match(ln)
            self.assertIsNotNone(m, ln)
            self.assertIn(m.group(2), ("error", "critical", "warning"), ln)

    def test_bad_options(self):
        for arg in ("--log-format=xml", "--log-level=loud"):
            err = self.assert_refused([arg], 2)
            self.assertIn(arg.split("=")[0], err)

    def test_version(self):
        p = self.run_mroute(["--version"], timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0], "mroute %s" % project_version())
        for lib in ("GStreamer", "GLib", "libsoup", "SQLite"):
            self.assertTrue(any(re.match(r"^%s \d+\.\d+\.\d+" % lib, ln) for ln in lines[1:]),
                            "%s missing in %r" % (lib, lines))
        self.assertTrue(any(re.match(r"^libpq \d+\.\d+$", ln) for ln in lines[1:]),
                        "libpq missing in %r" % lines)


class TestReload(LoggingTestCase):

    def status(self, c, key):
        return c.get("/v1/flows", headers={"X-API-Key": key}).status

    def test_new_key(self):
        c = self.configured_controller()
        pid = c.proc.pid
        self.assertEqual(self.status(c, OLD_KEY), 200)
        self.assertEqual(self.status(c, NEW_KEY), 401)

        c.write_config(api_conf(c.port, NEW_KEY, "metrics_public = false\n"))
        out = c.reload()
        self.assertIn("[api] api_key", out)
        self.assertIn("[api] metrics_public", out)
        self.assertIsNone(c.proc.poll())
        self.assertEqual(c.proc.pid, pid)
        self.assertEqual(self.status(c, OLD_KEY), 401)
        self.assertEqual(self.status(c, NEW_KEY), 200)
        self.assertEqual(c.get("/metrics").status, 401)
        self.assertEqual(c.get("/metrics", headers={"X-API-Key": NEW_KEY}).status, 200)
        self.assertNotIn("needs a restart", c.read_log())
        # the same file again: nothing to apply
        self.assertIn("nothing to apply live", c.reload())
        self.assertEqual(c.stop(), 0)
        self.assertNoSecret(c.read_log())

    def test_port_needs_restart(self):
        c = self.configured_controller()
        other = self.tcp_port()
        c.write_config(api_conf(other, NEW_KEY, "max_connections = 7\n"))
        out = c.reload()
        self.assertRegex(out, r"warning +mroute: \[api\] port changed: needs a restart")
        self.assertIn("[api] max_connections changed: needs a restart", out)
        # what can change did
        self.assertEqual(self.status(c, NEW_KEY), 200)
        self.assertEqual(c.get("/health").status, 200)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", other), timeout=2).close()
        self.assertEqual(c.stop(), 0)
        self.assertNoSecret(c.read_log())

    def test_broken_file_changes_nothing(self):
        c = self.configured_controller()
        broken = [
            (api_conf(c.port, BAD_KEY, "max_connections = many\n"), "[api] max_connections"),
            (api_conf(c.port, BAD_KEY, "api-key = x\n"), "[api] api-key"),
            (api_conf(c.port, BAD_KEY) + "[log]\nformat = xml\n", "[log] format"),
            (api_conf(c.port, BAD_KEY) + "[webhooks]\nurls = ftp://x/%s\n" % HOOK_SECRET,
             "[webhooks] urls"),
            ("[api\nport = 1\n", "mroute.conf"),
        ]
        for text, name in broken:
            c.write_config(text)
            out = c.reload()
            self.assertRegex(out, r"warning +mroute: SIGHUP: not reloaded, nothing changed: .*"
                             + re.escape(name), text)
            self.assertEqual(self.status(c, OLD_KEY), 200)
            self.assertEqual(self.status(c, BAD_KEY), 401)
        self.assertIsNone(c.proc.poll())
        self.assertEqual(c.stop(), 0)
        self.assertNoSecret(c.read_log())

    def test_log_format_and_level(self):
        c = self.configured_controller()
        c.write_config(api_conf(c.port, OLD_KEY) + "[log]\nformat = json\nlevel = debug\n")
        out = c.reload()
        # the reload's own line is the first in the new format
        last = json.loads(out.splitlines()[-1])
        self.assertEqual(last["domain"], "mroute")
        self.assertIn("[log] format, [log] level", last["message"])
        before = len(c.read_log())
        fid = self.run_flow(c, "reloaded", headers={"X-API-Key": OLD_KEY})
        entries = [json.loads(ln) for ln in c.read_log()[before:].splitlines() if ln]
        flows = [e for e in entries if e["flow_id"] == fid]
        self.assertTrue(flows, entries)
        self.assertTrue(all(e["flow_name"] == "reloaded" for e in flows))

        # at warning level the reload says nothing (what it applied shows:
        # /metrics now needs the key); a broken file it does say
        c.write_config(api_conf(c.port, OLD_KEY, "metrics_public = false\n")
                       + "[log]\nlevel = warning\n")
        before = len(c.read_log())
        c.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: c.get("/metrics").status == 401, 10, POLL, "/metrics needing the key")
        self.assertEqual(c.read_log()[before:], "")
        c.write_config(api_conf(c.port, OLD_KEY) + "[log]\nlevel = bogus\n")
        out = c.reload()
        self.assertRegex(out.strip(), TEXT_RE.pattern)
        self.assertIn("[log] level", out)
        before = len(c.read_log())
        self.assertEqual(c.stop(), 0)
        self.assertNotIn("mroute stopped", c.read_log()[before:])
        self.assertNoSecret(c.read_log())

    def test_webhooks(self):
        hook = self.recorder()
        c = self.configured_controller()
        url = "http://127.0.0.1:%d/hook?token=%s" % (hook.port, HOOK_SECRET)
        c.write_config(api_conf(c.port, OLD_KEY)
                       + "[webhooks]\nurls = %s\nsecret = %s\n" % (url, HOOK_SECRET))
        out = c.reload()
        self.assertIn("[webhooks] urls, [webhooks] secret", out)
        fid = self.run_flow(c, "hooked", headers={"X-API-Key": OLD_KEY})
        got = wait_for(lambda: [r for r in hook.snapshot()
                                if json.loads(r["body"])["type"] == "flow_stopped"],
                       10, POLL, "flow_stopped at the webhook")
        ev = json.loads(got[0]["body"])
        self.assertEqual(ev["flow_id"], fid)
        self.assertTrue(got[0]["headers"].get("X-Mroute-Signature", "").startswith("sha256="))
        # and off again
        c.write_config(api_conf(c.port, OLD_KEY))
        c.reload()
        n = len(hook.snapshot())
        self.run_flow(c, "unhooked", headers={"X-API-Key": OLD_KEY})
        time.sleep(0.5)
        self.assertEqual(len(hook.snapshot()), n)
        self.assertEqual(c.stop(), 0)
        self.assertNoSecret(c.read_log())

    def test_telegram(self):
        bot = self.recorder()
        c = self.configured_controller()

        def telegram(chat):
            return (api_conf(c.port, OLD_KEY)
                    + "[telegram]\nenabled = true\nbot_token = %s\nchat_id = %s\n"
                    "api_url = http://127.0.0.1:%d\n" % (BOT_TOKEN, chat, bot.port))

        def chats():
            return [json.loads(r["body"])["chat_id"] for r in bot.snapshot()
                    if "flow_started" in r["body"].decode() or "flow started" in r["body"].decode()]

        c.write_config(telegram("-100111"))
        self.assertIn("[telegram] enabled, [telegram] bot_token, [telegram] chat_id, "
                      "[telegram] api_url", c.reload())
        self.run_flow(c, "alerted", headers={"X-API-Key": OLD_KEY})
        wait_for(lambda: chats() == ["-100111"], 15, POLL, "the alert to the first chat")
        self.assertEqual(bot.snapshot()[0]["path"], "/bot%s/sendMessage" % BOT_TOKEN)
        c.write_config(telegram("-100222"))
        self.assertIn("applied [telegram] chat_id", c.reload())
        self.run_flow(c, "alerted-again", headers={"X-API-Key": OLD_KEY})
        wait_for(lambda: chats() == ["-100111", "-100222"], 15, POLL, "the alert to the new chat")
        self.assertEqual(c.stop(), 0)
        self.assertNoSecret(c.read_log())

    def test_sigterm_and_sigint_still_stop(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            c = self.configured_controller()
            self.assertEqual(c.stop(sig), 0)
            self.assertIn("mroute stopped", c.read_log())


if __name__ == "__main__":
    unittest.main()
