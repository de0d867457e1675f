#!/usr/bin/env python3
"""scripts/test_mroute.sh, the API smoke test the original shipped, run
against a real controller on a free port: it must pass (exit 0) and have
checked something; the same script against a port where nothing listens
must fail (exit non-zero), so that a script that cannot fail is caught too.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \\
      python3 tests/integration/test_smoke_script.py -v

Standard library only.  Bounded: the script gets 120 s.
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_testcase import MrouteTestCase  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "test_mroute.sh")


class SmokeScriptTest(MrouteTestCase):
    def run_script(self, args, env=None):
        e = dict(os.environ)
        e.pop("MROUTE_URL", None)
        e.update(env or {})
        p = subprocess.run(["bash", SCRIPT] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120, env=e)
        out = p.stdout.decode("utf-8", "replace")
        sys.stderr.write("[smoke] exit %d\n%s\n" % (p.returncode, out))
        return p.returncode, out

    def test_passes_against_a_controller(self):
        c = self.controller()
        code, out = self.run_script([c.base])
        self.assertEqual(code, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("0 failed", out)
        self.assertGreater(out.count("\nok   "), 40, out)

    def test_base_url_from_the_environment(self):
        c = self.controller()
        code, out = self.run_script([], env={"MROUTE_URL": c.base})
        self.assertEqual(code, 0, out)
        self.assertIn("against %s" % c.base, out)

    def test_fails_without_a_controller(self):
        code, out = self.run_script(["http://127.0.0.1:%d" % self.tcp_port()])
        self.assertNotEqual(code, 0, out)
        self.assertIn("FAIL", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
