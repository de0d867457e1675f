#!/usr/bin/env python3
"""A throwaway PostgreSQL server for tests: initdb in a temporary folder,
`postgres` on a Unix socket only (listen_addresses='', a free port number
naming the socket), databases made on demand, everything stopped and
removed afterwards, also when the test fails.

As root the server runs as the `postgres` system user of Debian's
postgresql package (PostgreSQL refuses to run as root); as another user it
runs as that user.  Standard library only.

    from mroute_pg import PgServer, PgUnavailable

    try:
        with PgServer() as pg:
            dsn = pg.new_database()   # postgresql://mroute@/db1?host=...
            ...
    except PgUnavailable as e:
        raise unittest.SkipTest(str(e))

or in a unittest.TestCase: `self.pg = start_or_skip(self)` (stopped by
addCleanup).  `mroute_pg.py --serve` starts one for a program that is not
Python (tests/unit/store.c): it prints the MROUTE_TEST_PG_* lines and
READY (or UNAVAILABLE: why), then keeps the server until its standard
input closes, the program's end however it ends.  As a program it runs a command with the server up and
MROUTE_TEST_PG_DSN, MROUTE_TEST_PG_HOST, MROUTE_TEST_PG_PORT and
MROUTE_TEST_PG_USER in its environment, and exits with the command's
status, or with 77 (meson's "skipped") saying why when PostgreSQL cannot
be started:

    mroute_pg.py -- ./unit-store --postgres
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SKIP_EXIT = 77
USER = "mroute"  # the database superuser initdb makes
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class PgUnavailable(Exception):
    """PostgreSQL is not installed here or cannot be started."""


def find_bindir():
    """The folder of initdb and postgres: $MROUTE_TEST_PG_BINDIR, else
    pg_config --bindir, else the newest /usr/lib/postgresql/*/bin (Debian
    puts them there, not on PATH)."""
    forced = os.environ.get("MROUTE_TEST_PG_BINDIR")
    if forced:
        if not os.access(os.path.join(forced, "initdb"), os.X_OK):
            raise PgUnavailable("MROUTE_TEST_PG_BINDIR=%s has no initdb" % forced)
        return forced
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
            if out:
                candidates.append(out)
        except (OSError, subprocess.SubprocessError):
            pass

    def version_of(path):
        try:
            return float(path.split("/")[-2])
        except ValueError:
            return 0.0
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_of,
                         reverse=True)
    for d in candidates:
        if os.access(os.path.join(d, "initdb"), os.X_OK) \
                and os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    raise PgUnavailable("PostgreSQL server binaries (initdb, postgres) not found: "
                        "install Debian's postgresql package "
                        "(scripts/install-deps.sh)")


def free_port():
    """A port number no one listens on over TCP here; our server only uses
    it to name its socket file, so that it also looks like a usual one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, log_statements=False, settings=None):
        self.bindir = None
        self.root = None
        self.proc = None
        self.port = None
        self.sockdir = None
        self.datadir = None
        self.log_path = None
        self.log_statements = log_statements
        self.settings = dict(settings or {})  # more -c name=value
        self._run_as = None
        self._databases = 0

    # -- the server's user ------------------------------------------------
    def _user_kwargs(self):
        if self._run_as is None:
            return {}
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid,
                "extra_groups": []}

    def _run(self, args, timeout=60):
        try:
            r = subprocess.run(args, capture_output=True, text=True,
                               timeout=timeout, cwd=self.root,
                               **self._user_kwargs())
        except (OSError, subprocess.SubprocessError) as e:
            raise PgUnavailable("%s: %s" % (os.path.basename(args[0]), e))
        if r.returncode != 0:
            raise PgUnavailable("%s failed (%d): %s" % (
                os.path.basename(args[0]), r.returncode,
                (r.stderr or r.stdout).strip()[-2000:]))
        return r

    # -- start and stop ---------------------------------------------------
    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        self.bindir = find_bindir()
        if os.geteuid() == 0:
            try:
                self._run_as = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailable("running as root and there is no 'postgres' "
                                    "system user to run the server as")
        self.root = tempfile.mkdtemp(prefix="mroute-pg-")
        self.datadir = os.path.join(self.root, "data")
        self.sockdir = os.path.join(self.root, "sock")
        self.log_path = os.path.join(self.root, "postgres.log")
        os.mkdir(self.sockdir)
        if self._run_as is not None:
            for p in (self.root, self.sockdir):
                os.chown(p, self._run_as.pw_uid, self._run_as.pw_gid)
        os.chmod(self.root, 0o755)
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.datadir,
                   "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync",
                   "--locale=C"], timeout=120)
        self.port = free_port()
        args = [os.path.join(self.bindir, "postgres"), "-D", self.datadir,
                "-k", self.sockdir, "-p", str(self.port),
                "-c", "listen_addresses=",
                # a test's data: speed over durability
                "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off"]
        if self.log_statements:
            args += ["-c", "log_statement=all"]
        for k, v in self.settings.items():
            args += ["-c", "%s=%s" % (k, v)]
        log = open(self.log_path, "ab")
        if self._run_as is not None:
            os.chown(self.log_path, self._run_as.pw_uid, self._run_as.pw_gid)
        try:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.root,
                                         start_new_session=True,
                                         **self._user_kwargs())
        except OSError as e:
            raise PgUnavailable("postgres: %s" % e)
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self):
        isready = os.path.join(self.bindir, "pg_isready")
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PgUnavailable("postgres exited with %d: %s" % (
                    self.proc.returncode, self.log_tail()))
            r = subprocess.run([isready, "-q", "-h", self.sockdir, "-p",
                                str(self.port), "-U", USER, "-d", "postgres"],
                               capture_output=True, timeout=10)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise PgUnavailable("postgres not ready within %.0f s: %s" % (
            READY_TIMEOUT, self.log_tail()))

    def stop(self):
        """Fast shutdown (SIGINT), SIGKILL if it does not end, then the
        folder goes.  Safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGINT)
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
        self.proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    # -- databases --------------------------------------------------------
    def dsn(self, dbname="postgres"):
        """A libpq URI of @dbname over the server's Unix socket."""
        return "postgresql://%s@/%s?host=%s&port=%d" % (
            USER, dbname, urllib.parse.quote(self.sockdir, safe=""), self.port)

    def new_database(self, name=None):
        """Makes an empty database (named, or db1, db2...); answers its DSN."""
        if name is None:
            self._databases += 1
            name = "db%d" % self._databases
        self.psql("CREATE DATABASE %s" % name)
        return self.dsn(name)

    def psql(self, sql, dbname="postgres"):
        """Runs @sql with psql; answers its output (unaligned, no headers)."""
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A",
                            "-t", "-v", "ON_ERROR_STOP=1", "-h", self.sockdir,
                            "-p", str(self.port), "-U", USER, "-d", dbname,
                            "-c", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql %r: %s" % (sql, r.stderr.strip()))
        return r.stdout

    def environ(self):
        return {"MROUTE_TEST_PG_DSN": self.dsn(), "MROUTE_TEST_PG_HOST": self.sockdir,
                "MROUTE_TEST_PG_PORT": str(self.port), "MROUTE_TEST_PG_USER": USER}


def start_or_skip(testcase):
    """In a unittest.TestCase: a started server, stopped by the test's
    cleanup, or the test skipped saying why."""
    import unittest
    try:
        pg = PgServer().start()
    except PgUnavailable as e:
        raise unittest.SkipTest("PostgreSQL unavailable: %s" % e)
    testcase.addCleanup(pg.stop)
    return pg


def serve():
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    try:
        pg = PgServer().start()
    except PgUnavailable as e:
        print("UNAVAILABLE: %s" % str(e).replace("\n", " "), flush=True)
        return 0
    try:
        for k, v in pg.environ().items():
            print("%s=%s" % (k, v))
        print("READY", flush=True)
        while sys.stdin.buffer.read(4096):
            pass
        return 0
    except (KeyboardInterrupt, BrokenPipeError):
        return 0
    finally:
        pg.stop()


def main(argv):
    if argv[1:2] == ["--serve"]:
        return serve()
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    else:
        argv = argv[1:]
    if not argv:
        print("usage: mroute_pg.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    # meson stops a test that runs too long with SIGTERM: clean up then too
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    try:
        pg = PgServer().start()
    except PgUnavailable as e:
        print("SKIP: PostgreSQL unavailable: %s" % e, flush=True)
        return SKIP_EXIT
    try:
        env = dict(os.environ)
        env.update(pg.environ())
        try:
            return subprocess.run(argv, env=env).returncode
        except KeyboardInterrupt:
            return 130
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
