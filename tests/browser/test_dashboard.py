#!/usr/bin/env python3
"""The dashboard (issue 16) in a real headless browser: Debian's chromium
and chromedriver driven by python3-selenium, against a real controller
that serves the page (GET /, /web/...), with real ffmpeg senders and a
real UDP receiver on 127.0.0.1.

1. The create form shows the API's 400 at the field it names
   (sources[0].ingest_port) and creates nothing.
2. A flow created through the form and started with its button turns
   ACTIVE, and, once ffmpeg sends to its UDP port, its bitrate rises on
   the page without a reload (a mark set in the page survives), the
   thumbnail and the stream's codecs appear, the receiver gets MPEG-TS;
   black frames raise the black badge and a content_black event in the
   log; the list shows the flow's sparkline.
3. A FAILOVER flow whose primary sender is killed: the source_failover
   event appears in the page's log and the failover count turns 1; the
   primary back, the Switch to button switches to the backup by hand.
4. The output dialog (a wrong port at its field, add, edit, remove),
   Start and Stop from the list, Delete.
5. A MERGE flow fed the same RTP stream twice: the merge card.
6. A controller restarted under the page: the page goes back to live by
   itself and shows a flow created meanwhile.
7. A controller with an API key: the page loads without it, asks for it,
   and shows the flows once it is given.

Every test ends with no error in the browser's console (its log, read
with goog:loggingPrefs), but the answers a test provokes on purpose (the
400 of a wrong field, a 503 before the first thumbnail or PMT, the 401
that makes the page ask for the key, connections refused while the
controller restarts).  Screenshots of the list and of a flow page go to
$MROUTE_SCREENSHOTS (build/tests/screenshots).  The browser tests are
skipped, saying what is missing, only when chromium, chromedriver or
selenium are missing.  Every wait is
bounded; the browser is always quit.  WebFilesTest checks the files
without a browser (types, no-cache, 404s, no key needed) and runs always.""" 

import os
import re
import shutil
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from mroute_media import kill_proc  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, live_encoder  # noqa: E402
from test_monitoring import ffmpeg_sender  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

MISSING = [what for what, ok in (("chromium", CHROMIUM), ("chromium-driver (chromedriver)", CHROMEDRIVER),
                                 ("python3-selenium", HAVE_SELENIUM)) if not ok]
SHOTS = os.environ.get("MROUTE_SCREENSHOTS") or os.path.join(os.getcwd(), "screenshots")
KEY = "dashboard-Key-4f1e9b"


def note(msg):
    sys.stderr.write("    [dashboard] %s\n" % msg)
    sys.stderr.flush()


class DashboardTestCase(MrouteTestCase):
    """A browser per test, quit at its end; a controller per class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ctl = cls.class_controller()

    def setUp(self):
        super().setUp()
        self.driver = None
        self.allowed = []        # console errors this test provokes
        self.addCleanup(self._quit)

    def _quit(self):
        if self.driver is not None:
            try:
                if self.failed():
                    os.makedirs(SHOTS, exist_ok=True)
                    self.driver.save_screenshot(os.path.join(SHOTS, "failed-%s.png" % self._testMethodName))
                    note("console: %r" % self.console()[-20:])
            except WebDriverException:
                pass
            self.driver.quit()
            self.driver = None

    def browser(self):
        o = webdriver.ChromeOptions()
        o.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1400,1800", "--no-first-run", "--disable-extensions",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--metrics-recording-only", "--no-default-browser-check"):
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(10)
        self.log = []
        return self.driver

    def open(self, c, fragment=""):
        self.driver.get(c.base + "/" + fragment)
        self.wait(lambda d: d.execute_script("return document.body.dataset.view"), 15, "the page's first view")

    def wait(self, cond, timeout, what):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(cond)
        except TimeoutException:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)

    def console(self):
        self.log += self.driver.get_log("browser")
        return self.log

    def assert_clean_console(self):
        """No SEVERE entry in the browser's log but those allowed."""
        errors = [e for e in self.console() if e.get("level") == "SEVERE"
                  and not any(re.search(p, e.get("message", "")) for p in self.allowed)]
        self.assertEqual(errors, [], "errors in the browser console")
        note("console: %d entries, %d severe (all provoked on purpose)"
             % (len(self.log), sum(1 for e in self.log if e.get("level") == "SEVERE")))

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name)
        self.driver.save_screenshot(path)
        note("screenshot %s" % path)

    def type_into(self, name, value):
        el = self.driver.find_element(By.NAME, name)
        el.clear()
        el.send_keys(str(value))

    def live(self, timeout=20):
        self.wait(lambda d: d.execute_script("return document.body.dataset.live") == "live", timeout,
                  "the WebSocket to be live")


WEB = os.path.join(HERE, "..", "..", "web")
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


class WebFilesTest(MrouteTestCase):
    """The files themselves, without a browser: each file of
    web/web.gresource.xml served byte for byte with its type, no-cache,
    without the key; unknown files and traversal are JSON 404s"""

    def files(self):
        with open(os.path.join(WEB, "web.gresource.xml")) as f:
            return re.findall(r"<file[^>]*>([^<]+)</file>", f.read())

    def test_files(self):
        c = self.controller()
        names = self.files()
        self.assertIn("index.html", names)
        for name in names:
            r = c.get("/web/" + name)
            self.assertEqual(r.status, 200, name)
            with open(os.path.join(WEB, name), "rb") as f:
                self.assertEqual(r.body, f.read(), name)
            self.assertEqual(r.headers["Content-Type"], TYPES[os.path.splitext(name)[1]], name)
            self.assertEqual(r.headers["Cache-Control"], "no-cache", name)
        r = c.get("/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, c.get("/web/index.html").body)
        self.assertIn(b'<script type="module" src="/web/app.js">', r.body)
        self.assertIn("script-src 'self'", r.headers["Content-Security-Policy"])
        for path in ("/web/nope.js", "/web/index.htm", "/web/sub/app.js", "/web/.hidden.js",
                     "/web/web.gresource.xml", "/web/%2e%2e%2fapi.c", "/web/..%2Fopenapi.json",
                     "/web/app.js%00.css"):
            r = c.send("GET", path)
            if r.status == 400 and not r.body:
                continue       # libsoup refused the path itself ("%2e%2e%2f")
            self.assertEqual(r.status, 404, path)
            self.assertIn("error", r.json(), path)
            self.assertEqual(r.headers["Content-Type"], "application/json", path)
        self.assertEqual(c.post("/").status, 405)
        self.assertEqual(c.put("/web/app.js", {}).status, 405)

    def test_open_without_the_key(self):
        c = self.controller(env={"MROUTE_API_KEY": KEY})
        self.assertEqual(c.get("/").status, 200)
        self.assertEqual(c.get("/web/app.js").status, 200)
        self.assertEqual(c.get("/web/nope.js").status, 404)
        self.assertEqual(c.get("/v1/flows").status, 401)
        self.assertEqual(c.get("/openapi.json").status, 401)
        # what goes past /web/ to the API still needs the key
        for path in ("/web/%2E%2E/v1/flows", "/web/../v1/flows", "/web/app.js/../../v1/flows",
                     "//web/x/../../v1/flows"):
            self.assertIn(c.send("GET", path).status, (400, 401), path)
        # the page holds no secret: the key is in no file
        for name in self.files():
            self.assertNotIn(KEY.encode(), c.get("/web/" + name).body)


@unittest.skipIf(MISSING, "missing: " + ", ".join(MISSING))
class DashboardTest(DashboardTestCase):

    def test_1_wrong_field(self):
        """The form shows the API's 400 at the field it names"""
        c = self.ctl
        self.allowed = [r"/v1/flows - Failed to load resource: .* 400"]
        before = len(c.get("/v1/flows").json()["flows"])
        self.browser()
        self.open(c, "#/new")
        self.type_into("name", "wrong-port")
        self.type_into("sources[0].ingest_port", "70000")
        self.type_into("outputs[0].destination", LO)
        self.type_into("outputs[0].port", self.port())
        self.driver.find_element(By.ID, "btn-create").click()
        sel = '.field.invalid[data-field="sources[0].ingest_port"] .field-error'
        self.wait(lambda d: self.text(sel), 10, "the error at sources[0].ingest_port")
        msg = self.text(sel)
        note("error shown at the field: %s" % msg)
        self.assertIn("ingest_port", msg)
        self.assertIn("65535", msg)
        self.assertEqual(self.js("return location.hash"), "#/new")
        # one field at a time: fixing it moves the error to the next one
        self.type_into("sources[0].ingest_port", self.port())
        self.type_into("outputs[0].port", "port")
        self.driver.find_element(By.ID, "btn-create").click()
        sel = '.field.invalid[data-field="outputs[0].port"] .field-error'
        self.wait(lambda d: self.text(sel), 10, "the error at outputs[0].port")
        self.assertIsNone(self.text('.field.invalid[data-field="sources[0].ingest_port"]'))
        # another protocol, its own fields: SRT's passphrase, too short
        self.type_into("outputs[0].port", self.port())
        Select(self.driver.find_element(By.NAME, "sources[0].protocol")).select_by_value("srt-listener")
        self.assertFalse(self.driver.find_element(By.NAME, "sources[0].source_address").is_displayed())
        Select(self.driver.find_element(By.NAME, "sources[0].decryption.algorithm")).select_by_value("aes128")
        self.type_into("sources[0].decryption.passphrase", "short")
        self.driver.find_element(By.ID, "btn-create").click()
        sel = '.field.invalid[data-field="sources[0].decryption.passphrase"] .field-error'
        self.wait(lambda d: self.text(sel), 10, "the error at sources[0].decryption.passphrase")
        self.assertIn("10 to 79", self.text(sel))
        self.assertEqual(len(c.get("/v1/flows").json()["flows"]), before, "a flow was created")
        self.assert_clean_console()

    def test_2_form_start_stream_black(self):
        """Form, Start, a real stream: ACTIVE, bitrate up, thumbnail,
        codecs, the black badge and its event, without a reload"""
        c = self.ctl
        self.allowed = [r"/thumbnail - Failed to load resource: .* 503",
                        r"/metadata - Failed to load resource: .* 503"]
        ingest, out = self.port(), self.port()
        rx = self.receiver(out, hard=90).start()
        self.browser()
        self.open(c, "#/new")
        self.type_into("name", "studio-a")
        self.type_into("sources[0].name", "cam")
        self.type_into("sources[0].ingest_port", ingest)
        self.type_into("source_monitor_config.thumbnail_interval_sec", 1)
        self.type_into("outputs[0].name", "program")
        self.type_into("outputs[0].destination", LO)
        self.type_into("outputs[0].port", out)
        self.driver.find_element(By.ID, "btn-create").click()
        self.wait(lambda d: re.match(r"#/flows/flow_", d.execute_script("return location.hash")), 10,
                  "the flow page")
        fid = self.js("return location.hash").split("/")[-1]
        flow = c.get("/v1/flows/%s" % fid).json()
        self.assertEqual(flow["sources"][0]["ingest_port"], ingest)
        self.assertEqual(flow["outputs"][0]["port"], out)
        self.assertTrue(flow["source_monitor_config"]["thumbnail_enabled"])
        self.wait(lambda d: self.text("#btn-start") and d.find_element(By.ID, "btn-start").is_enabled(), 10,
                  "the Start button")
        self.live()
        self.js("window.__mark = 'same page';")
        self.driver.find_element(By.ID, "btn-start").click()
        self.wait(lambda d: self.text(".head-state [data-role=state]") == "ACTIVE", 20, "ACTIVE on the page")

        t0 = time.monotonic()
        sender = self.own_proc(ffmpeg_sender(ingest, seconds=45, black=(14, 24)), signal.SIGKILL)
        rate = 'tr[data-source="cam"] [data-role=rate]'
        first = self.wait(lambda d: float(d.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.dataset.kbps : 0;", rate) or 0)
            > 0 and self.text(rate), 15, "a bitrate on the page")
        self.wait(lambda d: float(d.execute_script(
            "return document.querySelector(arguments[0]).dataset.kbps", rate)) >= 200, 15,
            "the bitrate to rise past 200 kb/s")
        kbps = float(self.js("return document.querySelector(arguments[0]).dataset.kbps", rate))
        note("bitrate on the page: first %s, then %.0f kb/s at t=%.1f s" % (first, kbps, time.monotonic() - t0))
        self.wait(lambda d: d.execute_script(
            "return document.querySelector('[data-role=thumbnail]').naturalWidth") == 320, 20, "the thumbnail")
        self.wait(lambda d: (self.text("#metadata tr[data-stream=video] [data-role=codec]") or "").startswith("h264"),
                  20, "the video codec")
        self.assertIn("320×240", self.text("#metadata tr[data-stream=video] [data-role=format]"))
        self.assertTrue((self.text("#metadata tr[data-stream=audio] [data-role=codec]") or "").startswith("aac"))
        self.assertIn('program 1 "Service01"', self.text("#metadata"))
        self.assertNotIn("undefined", self.text("main"))
        self.wait(lambda d: re.match(r"25 ", self.text("#metadata tr[data-stream=video] [data-role=gop]") or ""),
                  20, "the GOP of 25 pictures")
        self.assertEqual(self.text("tr[data-output=program] [data-role=conn]"), "connected")
        self.shot("flow.png")

        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#content-badges [data-alarm=black]"), 30,
                  "the black badge")
        note("black badge at t=%.1f s (black from 14 s)" % (time.monotonic() - t0))
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#event-log li[data-type=content_black]"), 10,
                  "content_black in the event log")
        self.assertTrue(self.driver.find_elements(By.CSS_SELECTOR, 'tr[data-source="cam"] [data-alarm=black]'))
        self.shot("flow-black.png")
        self.assertEqual(self.js("return window.__mark"), "same page", "the page was reloaded")

        # the list: the same page, another view (no reload either)
        self.driver.find_element(By.LINK_TEXT, "Flows").click()
        row = 'tr[data-flow="%s"]' % fid
        self.wait(lambda d: self.text(row + " [data-role=state]") == "ACTIVE", 10, "the flow in the list")
        self.wait(lambda d: float(d.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.dataset.kbps : 0;",
            row + " [data-role=input-rate]") or 0) > 100, 10, "the input rate in the list")
        self.wait(lambda d: d.execute_script(
            "return document.querySelectorAll(arguments[0]).length", row + " .spark-line"), 5, "the sparkline")
        self.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, row + " [data-alarm=black]"), 30,
                  "the black badge to go")
        self.wait(lambda d: d.execute_script(
            "return document.querySelector(arguments[0]).naturalWidth", row + " [data-role=thumbnail]") > 0,
            20, "the thumbnail in the list")
        self.shot("list.png")
        self.assertEqual(self.js("return window.__mark"), "same page", "the page was reloaded")

        # what the page showed came through: MPEG-TS on the output
        kill_proc(sender)
        data = rx.data()
        self.assertGreater(len(data), 100000)
        self.assertEqual(len(rx.datagrams()[0]) % 188, 0)
        self.assertTrue(all(d[i] == 0x47 for d in rx.datagrams()[:50] for i in range(0, len(d), 188)))
        self.assert_clean_console()

    def test_3_failover(self):
        """The primary's sender killed: source_failover in the page's log"""
        c = self.ctl
        self.allowed = [r"/metadata - Failed to load resource: .* 503"]
        p1, p2, out = self.port(), self.port(), self.port()
        rx = self.receiver(out, hard=60).start()
        r = c.post("/v1/flows", {
            "name": "failover-pair",
            "sources": [{"name": "main", "protocol": "udp", "ingest_port": p1},
                        {"name": "backup", "protocol": "udp", "ingest_port": p2}],
            "outputs": [{"name": "o", "protocol": "udp", "destination": LO, "port": out}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "FAILOVER",
                                       "source_priority": {"primary_source": "main"}}})
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.assertEqual(c.post("/v1/flows/%s/start" % fid).status, 200)
        c.wait_status(fid, "ACTIVE", timeout=20)
        main = self.own_proc(ffmpeg_sender(p1, seconds=40), signal.SIGKILL)
        self.own_proc(ffmpeg_sender(p2, seconds=40, size="176x144"), signal.SIGKILL)
        self.browser()
        self.open(c, "#/flows/%s" % fid)
        self.live()
        for name in ("main", "backup"):
            self.wait(lambda d: (self.text('tr[data-source="%s"] [data-role=conn]' % name) or "")
                      .startswith("receiving"), 20, "source %s receiving" % name)
        self.assertEqual(self.text('[data-fact="Active source"]'), "main")
        self.assertEqual(self.text('[data-fact="Failovers"]'), "0")
        t = time.monotonic()
        kill_proc(main)
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#event-log li[data-type=source_failover]"), 20,
                  "source_failover in the event log")
        note("source_failover on the page %.1f s after the kill" % (time.monotonic() - t))
        msg = self.text("#event-log li[data-type=source_failover] .ev-msg")
        self.assertIn("'backup'", msg)
        self.wait(lambda d: self.text('[data-fact="Failovers"]') == "1", 5, "the failover count")
        self.wait(lambda d: self.text('[data-fact="Active source"]') == "backup", 5, "the active source")
        self.assertTrue(rx.wait_count(100, 10))
        self.shot("flow-failover.png")
        # main back: the primary comes back by itself; then by hand to backup
        self.own_proc(ffmpeg_sender(p1, seconds=40), signal.SIGKILL)
        self.wait(lambda d: self.text('[data-fact="Active source"]') == "main", 20, "main back on air")
        sw = 'button[data-switch="backup"]'
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, sw).is_enabled(), 10, "Switch to backup enabled")
        self.driver.find_element(By.CSS_SELECTOR, sw).click()
        self.wait(lambda d: any("reason: manual" in e.text for e in d.find_elements(
            By.CSS_SELECTOR, "#event-log li[data-type=source_failover]")), 15, "the manual switch event")
        self.wait(lambda d: self.text('[data-fact="Active source"]') == "backup", 10, "backup on air by hand")
        # the list: this flow with its failovers, and the flow of test 2
        self.driver.find_element(By.LINK_TEXT, "Flows").click()
        row = 'tr[data-flow="%s"]' % fid
        count = str(c.get("/v1/flows/%s/metrics" % fid).json()["failover_count"])
        self.assertNotEqual(count, "0")
        self.wait(lambda d: self.text(row + " [data-role=failovers]") == count, 10, "the failovers in the list")
        self.assertEqual(self.text(row + " [data-role=active-source]"), "backup")
        self.shot("list-all.png")
        self.assert_clean_console()


    def test_4_outputs_start_stop_delete(self):
        """Add (a wrong port first), edit and remove an output in the
        dialog; start and stop from the list; delete"""
        c = self.ctl
        self.allowed = [r"/outputs(/o2)? - Failed to load resource: .* 400"]
        r = c.post("/v1/flows", {"name": "edit-me", "source": {"name": "in", "protocol": "udp",
                                                               "ingest_port": self.port()}})
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        p1, p2 = self.port(), self.port()
        self.browser()
        self.open(c, "#/flows/%s" % fid)
        self.live()
        self.driver.find_element(By.ID, "btn-add-output").click()
        self.wait(lambda d: d.execute_script("return document.getElementById('output-dialog').open"), 5, "the dialog")
        self.type_into("name", "o2")
        self.type_into("destination", LO)
        self.type_into("port", "0")
        self.driver.find_element(By.ID, "output-save").click()
        sel = '#output-form .field.invalid[data-field="port"] .field-error'
        self.wait(lambda d: self.text(sel), 10, "the error at port")
        self.assertIn("port", self.text(sel))
        self.type_into("port", p1)
        self.driver.find_element(By.ID, "output-save").click()
        self.wait(lambda d: self.text('tr[data-output="o2"]'), 10, "the new output")
        self.assertEqual(c.get("/v1/flows/%s/outputs/o2" % fid).json()["port"], p1)
        self.driver.find_element(By.CSS_SELECTOR, 'button[data-edit="o2"]').click()
        self.wait(lambda d: d.execute_script("return document.getElementById('output-dialog').open"), 5, "the dialog")
        self.assertEqual(self.driver.find_element(By.NAME, "port").get_attribute("value"), str(p1))
        self.type_into("port", p2)
        self.driver.find_element(By.ID, "output-save").click()
        self.wait(lambda d: ":%d" % p2 in (self.text('tr[data-output="o2"]') or ""), 10, "the edited output")
        self.assertEqual(c.get("/v1/flows/%s/outputs/o2" % fid).json()["port"], p2)
        self.driver.find_element(By.CSS_SELECTOR, 'button[data-remove="o2"]').click()
        self.wait(lambda d: d.switch_to.alert, 5, "the confirmation").accept()
        self.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-output="o2"]'), 10, "the output gone")
        self.assertEqual(c.get("/v1/flows/%s" % fid).json()["outputs"], [])
        # start and stop from the list
        self.driver.find_element(By.LINK_TEXT, "Flows").click()
        row = 'tr[data-flow="%s"]' % fid
        self.wait(lambda d: self.text(row + " button") == "Start", 10, "the Start button in the list")
        self.driver.find_element(By.CSS_SELECTOR, row + " button").click()
        self.wait(lambda d: self.text(row + " [data-role=state]") == "ACTIVE", 20, "ACTIVE in the list")
        self.driver.find_element(By.CSS_SELECTOR, row + " button").click()
        self.wait(lambda d: self.text(row + " [data-role=state]") == "STANDBY", 20, "STANDBY in the list")
        self.assertEqual(c.get("/v1/flows/%s" % fid).json()["status"], "STANDBY")
        # delete
        self.driver.find_element(By.CSS_SELECTOR, row + " a.flow-name").click()
        self.wait(lambda d: d.find_elements(By.ID, "btn-delete"), 10, "the flow page")
        self.driver.find_element(By.ID, "btn-delete").click()
        self.wait(lambda d: d.switch_to.alert, 5, "the confirmation").accept()
        self.wait(lambda d: d.execute_script("return document.body.dataset.view") == "list"
                  and not d.find_elements(By.CSS_SELECTOR, row), 10, "back to the list without it")
        self.assertEqual(c.get("/v1/flows/%s" % fid).status, 404)
        self.assert_clean_console()


    def test_5_merge(self):
        """A MERGE flow fed the same RTP stream twice: the merge card
        says merging, with both legs' packets"""
        c = self.ctl
        enc = live_encoder()
        if enc is None:
            self.skipTest("no H.264 encoder (x264enc, openh264enc)")
        self.allowed = [r"/metadata - Failed to load resource: .* 503"]
        pa, pb, out = self.port(), self.port(), self.port()
        rx = self.receiver(out, hard=60).start()
        r = c.post("/v1/flows", {
            "name": "merge-pair",
            "sources": [{"name": "a", "protocol": "rtp", "ingest_port": pa, "ingest_address": LO},
                        {"name": "b", "protocol": "rtp", "ingest_port": pb, "ingest_address": LO}],
            "outputs": [{"name": "o", "protocol": "udp", "destination": LO, "port": out}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE"}})
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.assertEqual(c.post("/v1/flows/%s/start" % fid).status, 200)
        c.wait_status(fid, "ACTIVE", timeout=20)
        self.spawn(["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=1000",
                    "!", "video/x-raw,width=320,height=240,framerate=25/1", "!"] + enc +
                   ["!", "h264parse", "!", "mpegtsmux", "alignment=7", "!", "rtpmp2tpay",
                    "!", "tee", "name=t",
                    "t.", "!", "queue", "!", "udpsink", "host=%s" % LO, "port=%d" % pa,
                    "t.", "!", "queue", "!", "udpsink", "host=%s" % LO, "port=%d" % pb], "rtp-sender")
        self.browser()
        self.open(c, "#/flows/%s" % fid)
        self.live()
        self.wait(lambda d: d.find_element(By.ID, "merge").is_displayed(), 10, "the merge card")
        self.wait(lambda d: "merging" in (self.text("#merge .card-head") or ""), 20, "merging")
        rows = lambda: self.js("return [...document.querySelectorAll('#merge tbody tr')]"
                               ".map((tr) => [...tr.children].map((td) => td.textContent))")
        self.wait(lambda d: len(rows()) == 2 and all(int(r[1]) > 100 for r in rows()), 15,
                  "both legs' packets")
        self.assertEqual(sorted(r[0] for r in rows()), ["a", "b"])
        self.assertTrue(all(re.fullmatch(r"\d+(\.\d)?", r[-1]) for r in rows()), rows())   # lag ms
        self.assertEqual(self.text('[data-fact="Active source"]'), "a + b")
        self.assertTrue(rx.wait_count(100, 10))
        self.shot("flow-merge.png")
        self.assert_clean_console()


@unittest.skipIf(MISSING, "missing: " + ", ".join(MISSING))
class DashboardControllerTest(DashboardTestCase):
    """Tests with a controller of their own"""

    @classmethod
    def setUpClass(cls):
        MrouteTestCase.setUpClass.__func__(cls)

    def test_reconnect(self):
        """The controller restarted under the page: live again by itself"""
        c = self.controller()
        self.allowed = [r"net::ERR_CONNECTION_REFUSED", r"WebSocket connection to .* failed"]
        self.browser()
        self.open(c)
        self.live()
        self.js("window.__mark = 'same page';")
        c.stop()
        self.wait(lambda d: d.execute_script("return document.body.dataset.live") != "live", 10,
                  "the page to see the controller go")
        c.start()
        t = time.monotonic()
        r = c.post("/v1/flows", {"name": "made-meanwhile",
                                 "source": {"name": "in", "protocol": "udp", "ingest_port": self.port()}})
        self.assertEqual(r.status, 201, r.body)
        self.live(30)
        note("live again %.1f s after the restart" % (time.monotonic() - t))
        self.wait(lambda d: "made-meanwhile" in (self.text("#flow-table") or ""), 10, "the new flow in the list")
        self.assertEqual(self.js("return window.__mark"), "same page", "the page was reloaded")
        self.assert_clean_console()

    def test_api_key(self):
        """The page loads without the key, asks for it, then works"""
        c = self.controller(env={"MROUTE_API_KEY": KEY})
        self.assertEqual(c.get("/v1/flows").status, 401)
        r = c.post("/v1/flows", {"name": "keyed", "source": {"name": "in", "protocol": "udp",
                                                             "ingest_port": self.port()}},
                   headers={"X-API-Key": KEY})
        self.assertEqual(r.status, 201, r.body)
        self.allowed = [r"Failed to load resource: .* 401"]
        self.browser()
        self.driver.get(c.base + "/")
        self.wait(lambda d: d.execute_script("return document.getElementById('key-dialog').open"), 15,
                  "the key dialog")
        self.type_into_id("key-input", "wrong")
        self.driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
        self.wait(lambda d: d.execute_script("return document.getElementById('key-dialog').open")
                  and "wrong API key" in (self.text("#key-error") or ""), 10, "the key refused")
        self.type_into_id("key-input", KEY)
        self.driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
        self.wait(lambda d: "keyed" in (self.text("#flow-table") or ""), 10, "the flows")
        self.live()
        self.assertNotIn(KEY, c.read_log())
        self.assert_clean_console()

    def type_into_id(self, ident, value):
        el = self.driver.find_element(By.ID, ident)
        el.clear()
        el.send_keys(value)


if __name__ == "__main__":
    if MISSING:
        print("SKIP: the browser tests need %s (scripts/install-deps.sh installs them); "
              "only the files are checked" % ", ".join(MISSING))
    unittest.main(verbosity=2)
