#!/usr/bin/env python3
"""The cluster (docs/cluster.md), end to end: three controllers on one
throwaway PostgreSQL, 30 flows with pull sources (multicast groups, one a
flow, joined on the loopback of a private network namespace) and live
numbered media, each with a UDP output this test reads.

- placement: every flow runs on exactly one node (one live lease, one
  sender at its output, its datagrams at the sender's rate, none twice);
- kill -9 of a node: its flows' output is back from the other nodes
  within 5 s; the other flows never blink; no flow lost or doubled;
- the node back: it takes only new placements, nothing running moves;
- a rolling restart (SIGTERM, start) of every node: no flow lost, none
  doubled, each back within 5 s;
- SIGSTOP of a node past its lease, then SIGCONT: its flows run on the
  others within 5 s, and after SIGCONT it sends nothing alongside them
  (no datagram twice at any output: its fence drops its backlog) and it
  stops them;
- forwarding: GET metrics and thumbnail of a flow through a node that does
  not run it answers the owner's (header X-Mroute-Forwarded);
- /health names the node and the cluster's nodes with their flows;
- a node cut from the database (its one connection reset, new ones
  refused): its flows run on the others within 5 s, it stops them and
  never sends alongside the new owners; mended, it holds nothing; a node
  whose database connection hangs (taken, never answered: its main loop
  waits in the call): its fences still close, its flows run on the others
  within 5 s, nothing twice; when the answers come it finds its leases
  lost and stops them;
- a change made through a node that does not run the flow (an output
  added, a stop, a start) reaches the node that runs it at its next tick;
- placement: a flow whose placement labels only a fourth node has runs
  there; a live call on it through another node, when that node's API
  cannot be reached, is a 503 saying so.

Every wait is bounded; ports are picked free.  Needs root (a network
namespace) and PostgreSQL (Debian's postgresql); skipped (77) saying why
without them.

Run:  MROUTE_BIN=build/controller/mroute GST_PLUGIN_PATH=build/plugins \\
      /usr/bin/python3 tests/integration/test_cluster.py -v"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mroute_cluster as mc  # noqa: E402

TAG = "cluster"
FLOWS = 30
RATE = 50.0             # datagrams a second, each flow
LEASE_MS = 3000
TICK_MS = 500
FAILOVER_S = 5.0        # the target: output back within 5 s
BLINK_S = 1.0           # a gap longer than this is a blink
LEAVE_S = 2.0           # a node that stops cleanly gives its leases back:
                        # the others run its flows at their next tick
SEND_SECONDS = 900      # the sender stops by itself after this


def log(msg):
    mc.log(TAG, msg)


class ClusterTest(unittest.TestCase):
    pg = None
    nodes = {}
    sender = None
    video = None
    rx = None
    flows = []          # flow ids, index i = output i

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mroute-cluster-")
        cls.pg = mc.postgres_or_skip(TAG)
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        for name in ("n1", "n2", "n3"):
            cls.nodes[name] = mc.Node(cls.pg.dsn, name, lease_ms=LEASE_MS, tick_ms=TICK_MS)
            cls.nodes[name].start(timeout=20)
        log("three nodes up: %s" % ", ".join("%s on %d" % (n, c.port) for n, c in cls.nodes.items()))
        cls.rx = mc.Receiver(FLOWS + 8).start()
        cls.groups = [(mc.group_of(i), mc.free_port()) for i in range(FLOWS + 8)]
        cls.sender = mc.start_sender(cls.groups, RATE, SEND_SECONDS,
                                     os.path.join(cls.tmp, "sender.log"))
        names = list(cls.nodes)
        for i in range(FLOWS):
            c = cls.nodes[names[i % 3]]
            g, p = cls.groups[i]
            r = c.post("/v1/flows", mc.flow_body("f%02d" % i, g, p, cls.rx.ports[i]))
            assert r.status == 201, r.body
            fid = r.json()["id"]
            # started through another node than the one that made it
            r = cls.nodes[names[(i + 1) % 3]].post("/v1/flows/%s/start" % fid)
            assert r.status == 200, r.body
            cls.flows.append(fid)
        log("30 flows made and started")

    @classmethod
    def tearDownClass(cls):
        for c in cls.nodes.values():
            try:
                if c.proc is not None:
                    c.proc.send_signal(signal.SIGCONT)
                c.stop(timeout=20)
            except Exception as e:
                log("stopping %s: %s" % (c.node_id, e))
            if cls._failed:
                sys.stderr.write("---- log of %s (tail) ----\n%s\n" % (c.node_id, c.read_log()[-6000:]))
        if cls.sender:
            cls.sender.kill()
            cls.sender.wait()
        if cls.video:
            cls.video.kill()
            cls.video.wait()
        if cls.rx:
            cls.rx.stop()
        if cls.pg:
            cls.pg.stop()

    _failed = False

    def run(self, result=None):
        r = super().run(result)
        if result and (result.failures or result.errors):
            type(self)._failed = True
        return r

    # -- helpers -----------------------------------------------------------

    def leases(self):
        """flow id -> [(slot, owner)] of the live leases"""
        out = {}
        for flow_id, slot, owner in self.pg.psql(
                "SELECT flow_id, slot, owner FROM leases WHERE expires_at > now() ORDER BY flow_id, slot"):
            out.setdefault(flow_id, []).append((int(slot), owner))
        return out

    def owners(self):
        return {f: ls[0][1] for f, ls in self.leases().items()}

    def flowing(self, indexes, within=1.0):
        """All of these outputs had datagrams at 60% of the rate or more
        in the last `within` s"""
        t = time.monotonic() - within
        return all(self.rx.count_since(i, t) >= 0.6 * RATE * within for i in indexes)

    def assert_one_owner_each(self, indexes):
        leases = self.leases()
        for i in indexes:
            ls = leases.get(self.flows[i], [])
            self.assertEqual(len(ls), 1, "flow %d (%s): live leases %r" % (i, self.flows[i], ls))

    def assert_rate(self, indexes, seconds=2.0):
        """Each output gets the source's rate: not less (lost), not twice
        (two nodes sending)"""
        t0 = time.monotonic()
        time.sleep(seconds)
        for i in indexes:
            w = self.rx.window(i, t0, t0 + seconds)
            rate = len(w) / seconds
            self.assertGreater(rate, 0.7 * RATE, "flow %d: %.1f datagrams/s of %.0f" % (i, rate, RATE))
            self.assertLess(rate, 1.4 * RATE, "flow %d: %.1f datagrams/s of %.0f: doubled" % (i, rate, RATE))
            self.assertEqual(len(set(s for _, _, s in w)), 1,
                             "flow %d: more than one sender in %.0f s" % (i, seconds))

    def assert_no_duplicates(self, indexes, since=0.0):
        for i in indexes:
            d = self.rx.duplicates(i, since)
            self.assertEqual(d, [], "flow %d: datagrams received twice (two nodes sent): %r"
                             % (i, d[:5]))

    def node_flows(self, name):
        o = self.owners()
        return [i for i, f in enumerate(self.flows) if o.get(f) == name]

    def wait_all_placed(self, timeout=20):
        ok = mc.wait_until(lambda: len(self.leases()) >= FLOWS and self.flowing(range(FLOWS)),
                           timeout, step=0.25)
        self.assertTrue(ok, "not all flows placed and flowing in %ss: %d leases, flowing %r"
                        % (timeout, len(self.leases()),
                           [i for i in range(FLOWS) if not self.flowing([i])]))

    # -- the steps, in order -------------------------------------------------

    def test_1_placed_once_each(self):
        self.wait_all_placed(30)
        self.assert_one_owner_each(range(FLOWS))
        per_node = {n: len(self.node_flows(n)) for n in self.nodes}
        log("placed: %r" % per_node)
        for n, k in per_node.items():
            self.assertGreater(k, 0, "node %s runs nothing: %r" % (n, per_node))
        self.assert_rate(range(FLOWS))
        self.assert_no_duplicates(range(FLOWS))
        # the state comes from the owner through any node
        for c in self.nodes.values():
            r = c.get("/v1/flows")
            self.assertEqual(r.status, 200)
            listed = r.json()["flows"] if isinstance(r.json(), dict) else r.json()
            states = [f["status"] for f in listed]
            # every node lists them in creation order
            self.assertEqual([f["id"] for f in listed], self.flows)
            self.assertEqual(states.count("ACTIVE"), FLOWS, states)
        # Prometheus: each node exports the flows it runs, so every flow
        # comes once over the three
        exported = []
        for name, c in self.nodes.items():
            text = c.get("/metrics").body.decode()
            mine = sorted(set(line.split('flow_id="')[1].split('"')[0]
                              for line in text.splitlines()
                              if line.startswith("mroute_flow_state{") and line.endswith(" 1")))
            self.assertEqual(mine, sorted(self.flows[i] for i in self.node_flows(name)), name)
            exported += mine
        self.assertEqual(sorted(exported), sorted(self.flows))
        h = self.nodes["n1"].get("/health").json()
        self.assertEqual(h["node"], "n1", h)
        nodes = {n["id"]: n for n in h["cluster"]["nodes"]}
        self.assertEqual(set(nodes), {"n1", "n2", "n3"}, h)
        self.assertTrue(all(n["alive"] for n in nodes.values()), h)
        self.assertEqual(sum(n["flows"] for n in nodes.values()), FLOWS, h)

    def test_2_kill9_moves_its_flows(self):
        victim = "n1"
        theirs = self.node_flows(victim)
        others = [i for i in range(FLOWS) if i not in theirs]
        self.assertTrue(theirs and others, "n1 runs %r" % theirs)
        old_senders = {i: self.rx.last_sender(i) for i in theirs}
        t_kill = time.monotonic()
        self.nodes[victim].kill9()
        log("kill -9 %s, which ran %d flows" % (victim, len(theirs)))
        back = mc.wait_until(lambda: all(self.rx.back_after(i, t_kill, old_senders[i]) is not None
                                         for i in theirs), 10, step=0.1)
        delays = sorted(self.rx.back_after(i, t_kill, old_senders[i]) or 99 for i in theirs)
        log("output back after %.2f s (first) to %.2f s (last)" % (delays[0], delays[-1]))
        self.assertTrue(back, "flows of %s not back in 10 s: %r" % (victim, delays))
        self.assertLessEqual(delays[-1], FAILOVER_S, "output back after %r s" % delays)
        time.sleep(1.0)
        t_end = time.monotonic()
        for i in others:
            gap = self.rx.max_gap(i, t_kill - 1.0, t_end)
            self.assertLess(gap, BLINK_S, "flow %d (on another node) blinked for %.2f s" % (i, gap))
        self.assert_one_owner_each(range(FLOWS))
        self.assertEqual(self.node_flows(victim), [])
        self.assert_rate(range(FLOWS))
        self.assert_no_duplicates(range(FLOWS))

    def test_3_back_takes_only_new_placements(self):
        before = self.owners()
        self.nodes["n1"].restart()
        time.sleep(3 * TICK_MS / 1000.0 + 1.0)
        after = self.owners()
        moved = [f for f in before if after.get(f) != before[f]]
        self.assertEqual(moved, [], "flows moved when n1 came back: %r" % moved)
        self.assertEqual(self.node_flows("n1"), [])
        # three new flows: the node that came back is the least loaded
        new = []
        for k in range(3):
            i = FLOWS + k
            g, p = self.groups[i]
            r = self.nodes["n2"].post("/v1/flows", mc.flow_body("new%d" % k, g, p, self.rx.ports[i]))
            self.assertEqual(r.status, 201, r.body)
            fid = r.json()["id"]
            self.assertEqual(self.nodes["n3"].post("/v1/flows/%s/start" % fid).status, 200)
            new.append(fid)
        ok = mc.wait_until(lambda: all(self.owners().get(f) for f in new), 10)
        self.assertTrue(ok, "new flows not placed: %r" % self.owners())
        owners = self.owners()
        self.assertEqual([owners[f] for f in new], ["n1"] * 3, owners)
        ok = mc.wait_until(lambda: self.flowing(range(FLOWS, FLOWS + 3)), 10)
        self.assertTrue(ok, "the new flows' outputs are silent")
        self.assertEqual([f for f in before if self.owners().get(f) != before[f]], [])
        for fid in new:
            self.assertEqual(self.nodes["n1"].delete("/v1/flows/%s" % fid).status, 204)
        ok = mc.wait_until(lambda: not any(f in self.leases() for f in new), 5)
        self.assertTrue(ok, "deleted flows still leased")

    def test_4_rolling_restart(self):
        t0 = time.monotonic()
        for name, c in self.nodes.items():
            theirs = self.node_flows(name)
            old = {i: self.rx.last_sender(i) for i in theirs}
            t = time.monotonic()
            self.assertEqual(c.stop(timeout=20), 0, "%s did not stop cleanly" % name)
            back = mc.wait_until(lambda: all(self.rx.back_after(i, t, old[i]) is not None
                                             for i in theirs), 10)
            delays = sorted(self.rx.back_after(i, t, old[i]) or 99 for i in theirs)
            log("%s stopped: its %d flows back after at most %.2f s"
                % (name, len(theirs), delays[-1] if delays else 0))
            self.assertTrue(back, "%s's flows not back: %r" % (name, delays))
            self.assertLessEqual(delays[-1] if delays else 0, LEAVE_S)
            c.restart()
            time.sleep(1.0)
        self.wait_all_placed(10)
        self.assert_one_owner_each(range(FLOWS))
        self.assert_rate(range(FLOWS))
        self.assert_no_duplicates(range(FLOWS), since=t0)

    def test_5_sigstop_past_its_lease(self):
        name = max(self.nodes, key=lambda n: len(self.node_flows(n)))
        victim = self.nodes[name]
        theirs = self.node_flows(name)
        self.assertTrue(theirs)
        old = {i: self.rx.last_sender(i) for i in theirs}
        t_stop = time.monotonic()
        victim.proc.send_signal(signal.SIGSTOP)
        log("SIGSTOP %s, which runs %d flows" % (name, len(theirs)))
        try:
            back = mc.wait_until(lambda: all(self.rx.back_after(i, t_stop, old[i]) is not None
                                             for i in theirs), 10)
            delays = sorted(self.rx.back_after(i, t_stop, old[i]) or 99 for i in theirs)
            log("its flows back from the others after %.2f s at most" % delays[-1])
            self.assertTrue(back, "flows of the stopped node not back: %r" % delays)
            self.assertLessEqual(delays[-1], FAILOVER_S)
            time.sleep(max(0.0, LEASE_MS / 1000.0 + 2.0 - (time.monotonic() - t_stop)))
        finally:
            t_cont = time.monotonic()
            victim.proc.send_signal(signal.SIGCONT)
        log("SIGCONT %s after %.1f s" % (name, t_cont - t_stop))
        time.sleep(3.0)
        # never two senders: no datagram twice, and nothing from the old
        # sender after SIGCONT
        self.assert_no_duplicates(range(FLOWS), since=t_stop)
        for i in theirs:
            late = [w for w in self.rx.window(i, t_cont, time.monotonic()) if w[2] == old[i]]
            self.assertEqual(late, [], "flow %d: the stopped node sent after SIGCONT" % i)
        self.assertEqual(self.node_flows(name), [], "the stopped node holds leases again")
        self.assert_one_owner_each(range(FLOWS))
        self.assert_rate(range(FLOWS))
        h = victim.get("/health").json()
        mine = [n for n in h["cluster"]["nodes"] if n["id"] == name]
        self.assertEqual(mine[0]["flows"], 0, h)
        # its log says why it stopped them
        self.assertIn("lost its lease", victim.read_log())

    def test_6_forwarding(self):
        # a flow with video, for a thumbnail
        i = FLOWS + 4
        g, p = self.groups[i]
        self.video = subprocess.Popen(
            ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "pattern=ball", "!",
             "video/x-raw,width=160,height=90,framerate=10/1", "!",
             "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=10", "!",
             "mpegtsmux", "alignment=7", "!",
             "udpsink", "host=%s" % g, "port=%d" % p, "multicast-iface=lo", "auto-multicast=true",
             "ttl-mc=1"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.tmp, "video.log"), "ab"))
        body = mc.flow_body("video", g, p, self.rx.ports[i])
        body["source_monitor_config"] = {"thumbnail_enabled": True, "thumbnail_interval": 1,
                                         "content_quality_enabled": False}
        r = self.nodes["n1"].post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        self.assertEqual(self.nodes["n1"].post("/v1/flows/%s/start" % fid).status, 200)
        owner = mc.wait_until(lambda: self.owners().get(fid), 10)
        self.assertTrue(owner, "video flow not placed")
        other = [n for n in self.nodes if n != owner][0]
        c = self.nodes[other]
        r = mc.wait_until(lambda: (lambda x: x if x.status == 200 else None)(
            c.get("/v1/flows/%s/thumbnail" % fid)), 15, step=0.5)
        self.assertTrue(r, "no thumbnail through %s" % other)
        self.assertEqual(r.headers.get("X-Mroute-Forwarded"), owner)
        self.assertTrue(r.json().get("thumbnail") or r.json().get("image") or r.json().get("data"), r.json())
        jpeg = c.send("GET", "/v1/flows/%s/thumbnail" % fid, headers={"Accept": "image/jpeg"})
        self.assertEqual(jpeg.status, 200)
        self.assertEqual(jpeg.body[:2], b"\xff\xd8", "not a JPEG")
        m = c.get("/v1/flows/%s/metrics" % fid)
        self.assertEqual(m.status, 200, m.body)
        self.assertEqual(m.headers.get("X-Mroute-Forwarded"), owner)
        mine = self.nodes[owner].get("/v1/flows/%s/metrics" % fid)
        self.assertEqual(mine.status, 200)
        self.assertIsNone(mine.headers.get("X-Mroute-Forwarded"))
        # the owner's counters: the same source, counting up
        self.assertEqual(m.json().get("status"), mine.json().get("status"))
        # a flow nobody runs is answered where asked
        r = c.post("/v1/flows", mc.flow_body("idle", g, p + 1, self.rx.ports[i + 1]))
        idle = r.json()["id"]
        m = c.get("/v1/flows/%s/metrics" % idle)
        self.assertEqual(m.status, 200)
        self.assertIsNone(m.headers.get("X-Mroute-Forwarded"))
        for fid2 in (fid, idle):
            self.assertEqual(c.delete("/v1/flows/%s" % fid2).status, 204)

    def test_7_placement_and_unreachable_owner(self):
        # a fourth node whose api_url points where nothing listens
        dead_port = mc.free_port(mc.socket.SOCK_STREAM)
        n4 = mc.Node(self.pg.dsn, "n4", lease_ms=LEASE_MS, tick_ms=TICK_MS,
                     labels={"only": "n4", "site": "x"},
                     api_url="http://127.0.0.1:%d" % dead_port)
        self.nodes["n4"] = n4
        n4.start(timeout=20)
        i = FLOWS + 6
        g, p = self.groups[i]
        body = mc.flow_body("pinned", g, p, self.rx.ports[i],
                            placement={"labels": {"only": "n4"}})
        r = self.nodes["n2"].post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["placement"], {"labels": {"only": "n4"}})
        fid = r.json()["id"]
        self.assertEqual(self.nodes["n3"].post("/v1/flows/%s/start" % fid).status, 200)
        owner = mc.wait_until(lambda: self.owners().get(fid), 10)
        self.assertEqual(owner, "n4", "the pinned flow runs on %r" % owner)
        ok = mc.wait_until(lambda: self.flowing([i]), 10)
        self.assertTrue(ok, "the pinned flow's output is silent")
        # nothing else moved to n4: no running flow is rebalanced
        self.assertEqual(self.node_flows("n4"), [])
        r = self.nodes["n1"].get("/v1/flows/%s/metrics" % fid)
        self.assertEqual(r.status, 503, r.body)
        self.assertIn("cannot be reached", r.json()["error"])
        self.assertEqual(r.headers.get("Retry-After"), "1")
        h = self.nodes["n1"].get("/health").json()
        labels = {n["id"]: n["labels"] for n in h["cluster"]["nodes"]}
        self.assertEqual(labels["n4"], {"only": "n4", "site": "x"}, h)
        # the pinned flow waits for a node with its labels
        self.assertEqual(n4.stop(timeout=20), 0)
        time.sleep(2 * TICK_MS / 1000.0 + 0.5)
        self.assertIsNone(self.owners().get(fid), "the pinned flow left its node")
        self.assertEqual(self.nodes["n1"].get("/v1/flows/%s" % fid).json()["status"], "STARTING")
        self.assertEqual(self.nodes["n1"].delete("/v1/flows/%s" % fid).status, 204)

    def test_8_cut_from_the_database(self):
        # n1 steps out, so that the node joining is the only one with room
        # for new flows (nothing running moves to it)
        self.assertEqual(self.nodes["n1"].stop(timeout=20), 0)
        self.wait_all_placed(10)
        link = mc.DatabaseLink(self.pg)
        n5 = mc.Node(link.dsn, "n5", lease_ms=LEASE_MS, tick_ms=TICK_MS)
        self.nodes["n5"] = n5
        n5.start(timeout=20)
        # new flows go to the node that runs nothing
        idx = list(range(FLOWS, FLOWS + 3))
        new = []
        for i in idx:
            g, p = self.groups[i]
            r = self.nodes["n2"].post("/v1/flows", mc.flow_body("cut%d" % i, g, p, self.rx.ports[i]))
            self.assertEqual(r.status, 201, r.body)
            new.append(r.json()["id"])
            self.assertEqual(self.nodes["n2"].post("/v1/flows/%s/start" % new[-1]).status, 200)
        ok = mc.wait_until(lambda: all(self.owners().get(f) == "n5" for f in new)
                           and self.flowing(idx), 15)
        self.assertTrue(ok, "the new flows are not running on n5: %r"
                        % [self.owners().get(f) for f in new])
        old = {i: self.rx.last_sender(i) for i in idx}
        t_cut = time.monotonic()
        link.cut()
        log("n5 cut from the database")
        back = mc.wait_until(lambda: all(self.rx.back_after(i, t_cut, old[i]) is not None
                                         for i in idx), 10)
        delays = sorted(self.rx.back_after(i, t_cut, old[i]) or 99 for i in idx)
        log("its flows back from the others after %.2f s at most" % delays[-1])
        self.assertTrue(back, "n5's flows not back: %r" % delays)
        self.assertLessEqual(delays[-1], FAILOVER_S)
        time.sleep(2.0)
        t_mend = time.monotonic()
        self.assert_no_duplicates(range(FLOWS), since=t_cut)
        self.assert_no_duplicates(idx, since=t_cut)
        for i in idx:
            self.assertEqual([w for w in self.rx.window(i, t_cut + LEASE_MS / 1000.0, t_mend)
                              if w[2] == old[i]], [], "flow %d: n5 sent after its lease" % i)
        self.assertIn("could not be renewed in time", n5.read_log())
        link.restore()
        time.sleep(3 * TICK_MS / 1000.0 + 1.0)
        self.assertEqual([f for f in new if self.owners().get(f) == "n5"], [])
        self.assert_rate(idx)
        self.assert_no_duplicates(idx, since=t_cut)
        h = n5.get("/health").json()
        self.assertEqual([n["alive"] for n in h["cluster"]["nodes"] if n["id"] == "n5"], [True], h)
        for fid in new:
            self.assertEqual(n5.delete("/v1/flows/%s" % fid).status, 204)

        # the connection hangs: n5's main loop waits in its call
        ok = mc.wait_until(lambda: not self.node_flows("n5"), 5)
        new = []
        for i in idx:
            g, p = self.groups[i]
            r = self.nodes["n2"].post("/v1/flows", mc.flow_body("hang%d" % i, g, p, self.rx.ports[i]))
            self.assertEqual(r.status, 201, r.body)
            new.append(r.json()["id"])
            self.assertEqual(self.nodes["n2"].post("/v1/flows/%s/start" % new[-1]).status, 200)
        ok = mc.wait_until(lambda: all(self.owners().get(f) == "n5" for f in new)
                           and self.flowing(idx), 15)
        self.assertTrue(ok, "the new flows are not running on n5: %r"
                        % [self.owners().get(f) for f in new])
        old = {i: self.rx.last_sender(i) for i in idx}
        t_hang = time.monotonic()
        link.hang()
        log("n5's database connection hangs")
        back = mc.wait_until(lambda: all(self.rx.back_after(i, t_hang, old[i]) is not None
                                         for i in idx), 10)
        delays = sorted(self.rx.back_after(i, t_hang, old[i]) or 99 for i in idx)
        log("its flows back from the others after %.2f s at most" % delays[-1])
        self.assertTrue(back, "n5's flows not back: %r" % delays)
        self.assertLessEqual(delays[-1], FAILOVER_S)
        time.sleep(max(0.0, 7.0 - (time.monotonic() - t_hang)))
        t_resume = time.monotonic()
        link.resume()
        ok = mc.wait_until(lambda: "lost its lease" in n5.read_log(), 10)
        self.assertTrue(ok, "n5 did not find its leases lost once answered")
        time.sleep(1.0)
        self.assert_no_duplicates(idx, since=t_hang)
        for i in idx:
            self.assertEqual([w for w in self.rx.window(i, t_hang + LEASE_MS / 1000.0, time.monotonic())
                              if w[2] == old[i]], [], "flow %d: n5 sent after its lease" % i)
        log("answered again %.1f s after the hang: n5 stopped its flows" % (t_resume - t_hang))
        self.assertEqual([f for f in new if self.owners().get(f) == "n5"], [])
        self.assert_rate(idx)
        for fid in new:
            self.assertEqual(n5.delete("/v1/flows/%s" % fid).status, 204)
        self.assertEqual(n5.stop(timeout=20), 0)
        link.cut()
        self.nodes["n1"].restart()

    def test_9_changes_reach_the_owner(self):
        self.wait_all_placed(10)
        i, extra = 0, FLOWS + 7
        fid = self.flows[i]
        owner = self.owners()[fid]
        other = self.nodes[[n for n in ("n1", "n2", "n3") if n != owner][0]]
        r = other.post("/v1/flows/%s/outputs" % fid, {"name": "extra", "protocol": "udp",
                                                      "destination": "127.0.0.1",
                                                      "port": self.rx.ports[extra]})
        self.assertEqual(r.status, 201, r.body)
        ok = mc.wait_until(lambda: self.flowing([extra]), 5)
        self.assertTrue(ok, "the output added through another node is silent")
        self.assertEqual(self.owners()[fid], owner, "the flow moved")
        self.assertLess(self.rx.max_gap(i, time.monotonic() - 3.0, time.monotonic()), BLINK_S,
                        "the first output blinked for the new one")
        # stop through another node: the owner stops it at its next tick
        t = time.monotonic()
        r = other.post("/v1/flows/%s/stop" % fid)
        self.assertEqual(r.status, 200, r.body)
        ok = mc.wait_until(lambda: self.rx.count_since(i, time.monotonic() - 0.5) == 0, 5)
        self.assertTrue(ok, "still sending after a stop made through another node")
        log("stopped through another node: silent after %.2f s" % (time.monotonic() - t))
        self.assertNotIn(fid, self.leases())
        for c in self.nodes.values():
            if c.proc is not None:
                self.assertEqual(c.get("/v1/flows/%s" % fid).json()["status"], "STANDBY")
        self.assertEqual(other.post("/v1/flows/%s/stop" % fid).status, 200)
        self.assertEqual(other.post("/v1/flows/%s/start" % fid).status, 200)
        self.assertEqual(other.post("/v1/flows/%s/start" % fid).status, 409)
        ok = mc.wait_until(lambda: self.flowing([i, extra]), 5)
        self.assertTrue(ok, "not flowing again after a start through another node")
        self.assert_one_owner_each([i])
        r = other.delete("/v1/flows/%s/outputs/extra" % fid)
        self.assertEqual(r.status, 200, r.body)
        ok = mc.wait_until(lambda: self.rx.count_since(extra, time.monotonic() - 0.5) == 0, 5)
        self.assertTrue(ok, "the removed output still gets datagrams")
        self.assert_rate([i])


if __name__ == "__main__":
    mc.enter_private_netns(os.path.abspath(__file__), TAG)
    unittest.main(verbosity=2)
