#!/usr/bin/env python3
"""The original mroute's YAML configuration (issue 13), with the real
binary: the seed README's config.yaml as written (only its port changed to
a free one) starts the controller and serves /health there, through
`-config FILE`, `-config=FILE` and `--config FILE`, and as ./config.yaml
in the working directory without any option; the environment still wins
over the file; ffmpeg.max_flows refuses the third flow exactly as the key
file's [gstreamer] max_flows does; ffmpeg.health_timeout_ms sets how long a
FAILOVER primary may be silent (a failover timed against it); an unknown
key or section, a wrong kind and a YAML syntax error stop the start with
exit code 2 and name the key or the line.  The bot token of the seed's
telegram section is sent to a local Bot API double and never logged.

Standard library only; every wait is bounded; about 30 s."""

import json
import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_harness import Controller, free_port  # noqa: E402
from mroute_testcase import (LO, HttpRecorder, MrouteTestCase, live_encoder,  # noqa: E402
                             udp_flow_body)

# The README of the original mroute, "Configuration", verbatim but for the
# port: {port} is a free one.
SEED_YAML = """\
api:
  host: 0.0.0.0
  port: {port}

storage:
  dsn: "sqlite:./mroute.db"

ffmpeg:
  path: ffmpeg
  probe_path: ffprobe
  max_flows: 20
  health_timeout_ms: 500    # failover health threshold

telegram:
  enabled: true
  bot_token: "123456:ABC-DEF..."
  chat_id: "-1001234567890"
"""
SEED_TOKEN = "123456:ABC-DEF..."
SEED_CHAT = "-1001234567890"


class YamlController(Controller):
    """A controller whose only configuration is a YAML file in its working
    directory (its temp dir): `yaml` is formatted with port= the port it is
    reached on, or with `file_port`, and then MROUTE_PORT says the port it
    is reached on.  `flag` is how the file is given:
    "-config", "-config=", "--config", or None for none (./config.yaml is
    then found by itself).  No --port, no --db: the file says them."""

    def __init__(self, yaml, flag="--config", name="config.yaml", file_port=None, **kw):
        super().__init__(**kw)
        self.yaml = yaml
        self.flag = flag
        self.name = name
        self.file_port = file_port
        if file_port:
            self.env["MROUTE_PORT"] = str(self.port)

    def command(self):
        path = os.path.join(self.tmpdir, self.name)
        with open(path, "w") as f:
            f.write(self.yaml.format(port=self.file_port or self.port))
        if self.flag is None:
            return [self.bin] + self.extra_args
        if self.flag.endswith("="):
            return [self.bin, self.flag + path] + self.extra_args
        return [self.bin, self.flag, path] + self.extra_args


class ConfigYamlTest(MrouteTestCase):

    def bot_api(self):
        """A local Telegram Bot API: the seed's telegram section is on, and
        its alerts must not leave this host."""
        return self.own_server(HttpRecorder())

    def assert_seed_config_used(self, c, bot):
        h = c.get("/health")
        self.assertEqual(h.status, 200, h.body)
        self.assertEqual(h.json()["status"], "ok", h.body)
        # telegram: the startup alert, with the file's token and chat
        reqs = bot.wait_for(lambda rs: rs, 10, "the startup alert")
        self.assertEqual(reqs[0]["path"], "/bot%s/sendMessage" % SEED_TOKEN)
        self.assertEqual(json.loads(reqs[0]["body"])["chat_id"], SEED_CHAT)
        # storage: sqlite:./mroute.db, in the working directory
        self.assertTrue(os.path.exists(os.path.join(c.tmpdir, "mroute.db")))
        log = c.read_log()
        self.assertIn("ffmpeg.path and ffmpeg.probe_path not used", log)
        self.assertNotIn("ABC-DEF", log, "the bot token is in the log")

    # -- the seed's file ------------------------------------------------------

    def test_seed_example_with_each_option_spelling(self):
        """-config FILE (the original's), -config=FILE and --config FILE"""
        for flag in ("-config", "-config=", "--config"):
            with self.subTest(flag=flag):
                bot = self.bot_api()
                c = self.controller(make=YamlController, yaml=SEED_YAML, flag=flag,
                                    env={"TELEGRAM_API_URL": bot.base})
                self.assert_seed_config_used(c, bot)
                self.assertEqual(c.stop(), 0)

    def test_config_yaml_in_working_directory(self):
        """No option: ./config.yaml is read, as the original does (the port
        is only in the file)."""
        bot = self.bot_api()
        c = self.controller(make=YamlController, yaml=SEED_YAML, flag=None,
                            env={"TELEGRAM_API_URL": bot.base})
        self.assert_seed_config_used(c, bot)

    def test_environment_overrides_file(self):
        """MROUTE_PORT wins over api.port; the file's other keys stay."""
        bot = self.bot_api()
        file_port = free_port(socket.SOCK_STREAM)
        c = self.controller(make=YamlController, yaml=SEED_YAML, file_port=file_port,
                            env={"TELEGRAM_API_URL": bot.base})
        # answered /health on c.port, MROUTE_PORT's
        self.assertNotEqual(c.port, file_port)
        self.assertIn("listening on http://0.0.0.0:%d" % c.port, c.read_log())
        bot.wait_for(lambda rs: rs, 10, "the startup alert")

    # -- ffmpeg.max_flows ---------------------------------------------------------

    def third_start(self, c):
        """Creates three UDP flows, starts two (200) and answers the third's
        start."""
        answers = []
        for i in range(3):
            r = c.post("/v1/flows", udp_flow_body("f%d" % i, self.port(), self.port()))
            self.assertEqual(r.status, 201, r.body)
            answers.append(c.post("/v1/flows/%s/start" % r.json()["id"]))
        for r in answers[:2]:
            self.assertEqual(r.status, 200, r.body)
        return answers[2]

    def test_max_flows_as_the_key_file(self):
        y = self.controller(make=YamlController,
                            yaml="api:\n  host: 127.0.0.1\n  port: {port}\n"
                                 "ffmpeg:\n  max_flows: 2\n")
        k = self.controller(config="[gstreamer]\nmax_flows = 2\n")
        from_yaml, from_key_file = self.third_start(y), self.third_start(k)
        self.assertEqual(from_yaml.status, 409, from_yaml.body)
        self.assertEqual((from_yaml.status, from_yaml.json()),
                         (from_key_file.status, from_key_file.json()))
        self.assertIn("max_flows", from_yaml.json()["error"])
        # and without the limit the third starts
        d = self.controller(make=YamlController,
                            yaml="api:\n  host: 127.0.0.1\n  port: {port}\n"
                                 "ffmpeg:\n  max_flows: 3\n")
        r = self.third_start(d)
        self.assertEqual(r.status, 200, r.body)

    # -- ffmpeg.health_timeout_ms ------------------------------------------------

    def sender(self, name, port, encoder):
        cmd = ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=1500",
               "!", "video/x-raw,width=320,height=240,framerate=25/1"] + ["!"] + encoder + [
               "!", "mpegtsmux", "alignment=7",
               "!", "udpsink", "host=%s" % LO, "port=%d" % port, "sync=false"]
        return self.spawn(cmd, "sender-%s" % name, stop_signal=signal.SIGKILL)

    def test_health_timeout_ms_times_the_failover(self):
        """With health_timeout_ms 1800 a silent primary is left only after
        about 1.8 s (the default, 500 ms, would switch within 0.8 s)."""
        encoder = live_encoder()
        if encoder is None:
            self.skipTest("no H.264 encoder (x264enc, openh264enc)")
        timeout_ms = 1800
        c = self.controller(make=YamlController,
                            yaml="api:\n  host: 127.0.0.1\n  port: {port}\n"
                                 "ffmpeg:\n  health_timeout_ms: %d\n" % timeout_ms)
        ingest_p, ingest_b, out_port = self.ports(3)
        r = c.post("/v1/flows", {
            "name": "failover-yaml",
            "sources": [
                {"name": "primary", "protocol": "udp", "ingest_port": ingest_p, "ingest_address": LO},
                {"name": "backup", "protocol": "udp", "ingest_port": ingest_b, "ingest_address": LO},
            ],
            "outputs": [{"name": "out", "protocol": "udp", "destination": LO, "port": out_port}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                       "source_priority": {"primary_source": "primary"}}})
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.assertEqual(c.post("/v1/flows/%s/start" % fid).status, 200)
        c.wait_status(fid, "ACTIVE", timeout=15)
        primary = self.sender("primary", ingest_p, encoder)
        self.sender("backup", ingest_b, encoder)

        def both_connected(m):
            s = {x["name"]: x for x in m["source_metrics"]}
            return (m["active_source"] == "primary" and s["primary"]["connected"]
                    and s["backup"]["connected"])
        m = self.metrics_when(c, fid, both_connected, timeout=20)
        self.assertTrue(both_connected(m), m)

        primary.kill()
        primary.wait()
        t_kill = time.monotonic()
        m = self.metrics_when(c, fid, lambda m: m["active_source"] == "backup",
                              timeout=timeout_ms / 1000.0 + 5, step=0.05)
        t_switch = time.monotonic()
        self.assertEqual(m["active_source"], "backup", m)
        waited = t_switch - t_kill
        sys.stderr.write("    [config-yaml] health_timeout_ms=%d: switched %.3f s after the "
                         "primary stopped\n" % (timeout_ms, waited))
        # the last datagram left the sender just before the kill; 300 ms
        # below for that and the metrics' poll
        self.assertGreaterEqual(waited, timeout_ms / 1000.0 - 0.3,
                                "switched before health_timeout_ms: %.3f s" % waited)
        self.assertLessEqual(waited, timeout_ms / 1000.0 + 1.5,
                             "health_timeout_ms was not used: %.3f s" % waited)
        evs = self.events(c, fid, types=["source_failover"])
        self.assertTrue(evs, self.event_summary(c, fid))

    # -- refusals ----------------------------------------------------------------

    def refused_config(self, text, name="bad.yaml"):
        """Starts with --config holding `text`, which must be refused (exit
        2); returns stderr."""
        path = os.path.join(self.tmpdir(), name)
        with open(path, "w") as f:
            f.write(text)
        return self.assert_refused(["-config", path])

    def test_unknown_key_refused_by_name(self):
        seed = SEED_YAML.format(port=8080)
        err = self.refused_config(seed.replace("  host: 0.0.0.0\n", "  host: 0.0.0.0\n  hots: x\n"))
        self.assertIn("api.hots (line 3): unknown key", err)
        err = self.refused_config(seed + "ffmpegg:\n  path: ffmpeg\n")
        self.assertIn("ffmpegg (line 18): unknown section", err)
        err = self.refused_config(seed.replace("  max_flows: 20\n", "  max_flows: 20\n  threads: 4\n"))
        self.assertIn("ffmpeg.threads (line 12): unknown key", err)

    def test_wrong_kinds_refused_by_name(self):
        seed = SEED_YAML.format(port=8080)
        err = self.refused_config(seed.replace("port: 8080", "port: abc"))
        self.assertIn("api.port (line 3): 'abc' is not an integer", err)
        err = self.refused_config(seed.replace("port: 8080", 'port: "8080"'))
        self.assertIn("api.port (line 3): a quoted string where an integer is wanted", err)
        err = self.refused_config(seed.replace("max_flows: 20", "max_flows: -2"))
        self.assertIn("ffmpeg.max_flows (line 11): '-2' is not an integer between 1 and 1000", err)
        err = self.refused_config(seed.replace('bot_token: "123456:ABC-DEF..."',
                                               'bot_token: ["123456:ABC-DEF..."]'))
        self.assertIn("telegram.bot_token (line 16): a list where a string is wanted", err)
        self.assertNotIn("ABC-DEF", err)

    def test_syntax_error_refused_with_its_line(self):
        seed = SEED_YAML.format(port=8080)
        err = self.refused_config(seed.replace("  port: 8080\n", "  port: 8080\n   dsn: x\n"))
        self.assertIn("YAML syntax error at line 4", err)

    def test_both_default_files_refused(self):
        """./config.yaml and ./mroute.conf both there, no option: which to
        read would be a guess (run_mroute's cwd is the test's temp dir)."""
        for name, text in (("config.yaml", "api:\n  port: 8080\n"),
                           ("mroute.conf", "[api]\nport = 8080\n")):
            with open(os.path.join(self.tmpdir(), name), "w") as f:
                f.write(text)
        err = self.assert_refused([])
        self.assertIn("both ./config.yaml and ./mroute.conf exist", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
