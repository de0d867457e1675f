"""A real RTMP server on loopback for the integration tests: Debian's nginx
with libnginx-mod-rtmp, run as a foreground child with its own prefix,
configuration, error log and pid file in a temporary directory.

    srv = RtmpServer().start()        # unittest.SkipTest when not installed
    srv.url("key")                    # rtmp://127.0.0.1:PORT/live/key
    srv.stop(); srv.start()           # same port again
    srv.close()                       # stop and remove the directory

Standard library only.  Every wait is bounded."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from mroute_harness import free_port

NGINX = os.environ.get("MROUTE_TEST_NGINX", "/usr/sbin/nginx")
RTMP_MODULE = os.environ.get("MROUTE_TEST_RTMP_MODULE",
                             "/usr/lib/nginx/modules/ngx_rtmp_module.so")
APP = "live"

CONFIG = """\
load_module {module};
daemon off;
master_process off;
worker_processes 1;
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;
events {{
    worker_connections 256;
}}
rtmp {{
    server {{
        listen 127.0.0.1:{port};
        chunk_size 4096;
        application {app} {{
            live on;
            record off;
            # a publisher that vanishes is dropped after 5 s of silence
            drop_idle_publisher 5s;
        }}
    }}
}}
"""


def available():
    """None when nginx and its RTMP module are installed, else why not."""
    if not (os.path.isfile(NGINX) and os.access(NGINX, os.X_OK)):
        return "%s is not installed (Debian package nginx)" % NGINX
    if not os.path.isfile(RTMP_MODULE):
        return "%s is not installed (Debian package libnginx-mod-rtmp)" % RTMP_MODULE
    return None


def _accepts(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


class RtmpServer:
    """nginx-rtmp on 127.0.0.1:port (a free TCP port unless given)."""

    def __init__(self, port=None):
        why = available()
        if why:
            raise unittest.SkipTest(why)
        self.port = port or free_port(socket.SOCK_STREAM)
        self.dir = tempfile.mkdtemp(prefix="mroute-nginx-rtmp-")
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.log_path = os.path.join(self.dir, "error.log")
        self.out_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(module=RTMP_MODULE, prefix=self.dir, port=self.port, app=APP))

    @property
    def base_url(self):
        return "rtmp://127.0.0.1:%d/%s" % (self.port, APP)

    def url(self, key):
        return "%s/%s" % (self.base_url, key)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=10):
        """Starts nginx and waits until it accepts TCP connections.  The port
        may still be in TIME_WAIT/being released after a stop: nginx sets
        SO_REUSEADDR, and a failed bind is retried until `timeout`."""
        if self.running():
            return self
        deadline = time.monotonic() + timeout
        while True:
            out = open(self.out_path, "ab")
            try:
                # -p: prefix (relative paths), -e: the log used before the
                # configuration is read (otherwise /var/log/nginx/error.log)
                self.proc = subprocess.Popen(
                    [NGINX, "-p", self.dir + "/", "-c", self.conf, "-e", self.log_path],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    cwd=self.dir, start_new_session=True)
            finally:
                out.close()
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if _accepts(self.port):
                    return self
                time.sleep(0.05)
            if self.proc.poll() is None:
                self._terminate()
                raise RuntimeError("nginx-rtmp did not accept connections on port %d within %ss:\n%s"
                                   % (self.port, timeout, self.read_log()))
            if time.monotonic() >= deadline:
                raise RuntimeError("nginx-rtmp exited with %d:\n%s"
                                   % (self.proc.returncode, self.read_log()))
            time.sleep(0.2)          # bind failed (port not released yet): again

    def _terminate(self, timeout=5):
        p = self.proc
        if p is None or p.poll() is not None:
            return
        # SIGQUIT: graceful shutdown; SIGTERM: fast shutdown; then SIGKILL
        for sig, wait in ((signal.SIGQUIT, 1.0), (signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
            try:
                p.send_signal(sig)
            except OSError:
                pass
            try:
                p.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop(self, graceful=False, timeout=5):
        """Stops nginx and waits until the port no longer accepts.  With
        graceful=False it is SIGTERM at once (clients cut), else SIGQUIT
        first.  Bounded: SIGKILL after `timeout`."""
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            if graceful:
                self._terminate(timeout)
            else:
                try:
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        while _accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def read_log(self, n=6000):
        text = ""
        for path in (self.out_path, self.log_path):
            try:
                with open(path, "rb") as f:
                    text += f.read().decode("utf-8", "replace")[-n:]
            except OSError:
                pass
        return text

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
