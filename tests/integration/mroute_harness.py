"""Shared helpers for the integration tests: start a real controller on a
free loopback port with its own SQLite file, talk JSON to it over HTTP, and
find free UDP ports.  Every answer is checked against the API's OpenAPI
document (mroute_openapi.py, which needs python3-jsonschema); otherwise
standard library only."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import mroute_openapi

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port(kind=socket.SOCK_DGRAM, count=1, step=1):
    """Returns a port p such that p, p+step, ... (count ports) are free for
    `kind` on 127.0.0.1 right now."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        base = s.getsockname()[1]
        s.close()
        if base + step * count >= 65535:
            continue
        ok = True
        for i in range(count):
            t = socket.socket(socket.AF_INET, kind)
            try:
                t.bind(("127.0.0.1", base + i * step))
            except OSError:
                ok = False
            finally:
                t.close()
            if not ok:
                break
        if ok:
            return base
    raise RuntimeError("no free port")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None


def mroute_bin():
    """The absolute path of the mroute binary under test ($MROUTE_BIN)."""
    path = os.environ.get("MROUTE_BIN")
    if not path:
        raise RuntimeError("MROUTE_BIN is not set (run through meson test)")
    return os.path.abspath(path)


class Controller:
    """A real `mroute` process.  Use as a context manager.  Subclasses
    change its command line by overriding command()."""

    def __init__(self, db_path=None, extra_args=(), env=None, config=None):
        self.bin = mroute_bin()
        self.tmpdir = tempfile.mkdtemp(prefix="mroute-test-")
        self.db_path = db_path or os.path.join(self.tmpdir, "mroute.db")
        self.port = free_port(socket.SOCK_STREAM)
        # the RTSP server's port (rtsp outputs): a free one of its own, not
        # the default 8554 that every controller of the run would share
        self.rtsp_port = free_port(socket.SOCK_STREAM)
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        if env:
            self.env.update(env)
        self.config = config
        self.proc = None
        self.log_path = os.path.join(self.tmpdir, "mroute.log")

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def command(self):
        """The command line start() runs (writing the configuration file
        first when there is one)."""
        args = [self.bin, "--port", str(self.port), "--db", self.db_path,
                "--rtsp-port", str(self.rtsp_port)]
        if self.config is not None:
            cfg = os.path.join(self.tmpdir, "mroute.conf")
            with open(cfg, "w") as f:
                f.write(self.config)
            args += ["--config", cfg]
        return args + self.extra_args

    def start(self, timeout=10):
        args = self.command()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env, cwd=self.tmpdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mroute exited with %d:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                if self.request("GET", "/health", timeout=1).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("mroute did not answer /health in %ss" % timeout)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the process; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("mroute did not exit within %ss of %s" % (timeout, sig))
        code = self.proc.returncode
        self.proc = None
        self.log.close()
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log.close()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # an ssl.SSLContext for a controller that talks HTTPS (base is https://)
    ssl_context = None
    # every answer is checked against controller/api/openapi.json
    # (mroute_openapi.py); a test that wants a wrong answer sets it False
    check_openapi = True

    def request(self, method, path, body=None, raw=None, headers=None, timeout=10):
        """Sends one request and returns its Response, after checking the
        answer against the OpenAPI document (mroute_openapi.check: a
        mismatch fails the test with the path, the status and why)."""
        r = self.send(method, path, body=body, raw=raw, headers=headers, timeout=timeout)
        if self.check_openapi:
            sent = raw if raw is not None else (json.dumps(body) if body is not None else None)
            if isinstance(sent, str):
                sent = sent.encode()
            mroute_openapi.check(method, path, r.status, r.headers, r.body, sent=sent)
        return r

    def send(self, method, path, body=None, raw=None, headers=None, timeout=10):
        """One request, its answer unchecked."""
        data = None
        hdrs = dict(headers or {})
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    # JSON shortcuts
    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def wait_status(self, flow_id, status, timeout=10):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.get("/v1/flows/%s" % flow_id).json()
            if last and last.get("status") == status:
                return last
            time.sleep(0.05)
        raise AssertionError("flow %s not %s after %ss: %r" % (flow_id, status, timeout, last))
