#!/usr/bin/env python3
"""End-to-end tests of 1+1 flows (redundancy 2, docs/cluster.md "1+1"),
pipeline side, with standalone controllers: real controllers, a real
sender (gst-launch-1.0 sending a real H.264/AAC MPEG-TS clip as RTP with
rtpmp2tpay, paced live, to several ports at once with multiudpsink: one of
them is the test's own record of what was sent) and real UDP receivers,
all on 127.0.0.1, every port picked free.

1. Passthrough: a redundancy-2 flow with an rtp source, an rtp output with
   legs and a udp (TS) output, run by a standalone controller (slot 0):
   leg 0 gets exactly the datagrams the sender sent (RTP header and
   payload: sequence numbers, timestamps, SSRC, bytes), leg 1 gets nothing,
   the udp output gets the sent TS byte for byte, and the monitoring (from
   a depayloaded copy) works: metadata names the clip's H.264 640x360 with
   its GOP and AAC, a thumbnail is a JPEG.
   The legs and the redundancy come back from GET and after a restart of
   the controller (the store's JSON).
2. Two standalone controllers run the same 1+1 flow, one on slot 0 and one
   on slot 1 (MROUTE_TEST_STANDALONE_LEG=1, a test-only hook), both fed by
   the sender; a third controller's MERGE flow takes their two legs.  The
   slot-0 controller is killed with SIGKILL mid-clip: the merged output is
   still the sent TS byte for byte, without a continuity error (0 packets
   lost).
3. Validation: redundancy other than 1 or 2, legs that are not two valid
   destinations, legs on a flow with redundancy 1 or on a protocol without
   legs are 400s naming the field.

Measurements go to stderr as "[1+1] ..." lines.  Standard library only.
"""

import base64
import os
import shutil
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mroute_media import describe_mismatch, make_ts_clip, ts_cc_errors, wait_until  # noqa: E402
from mroute_testcase import LO, MrouteTestCase, Receiver  # noqa: E402

CLIP_SECONDS = 8
SEQ_OFFSET = 65300            # the sequence numbers wrap during the clip

CLIP_DIR = None
CLIP_PATH = None
CLIP = b""


def note(msg):
    sys.stderr.write("    [1+1] %s\n" % msg)
    sys.stderr.flush()


def setUpModule():
    global CLIP_DIR, CLIP_PATH, CLIP
    CLIP_DIR, CLIP_PATH, CLIP = make_ts_clip("mroute-1plus1-clip-", CLIP_SECONDS, 1024 * 1024)


def tearDownModule():
    if CLIP_DIR:
        shutil.rmtree(CLIP_DIR, ignore_errors=True)


def rtp_fields(d):
    """(seq, timestamp, ssrc) of an RTP datagram"""
    seq, ts, ssrc = struct.unpack("!HII", d[2:12])
    return seq, ts, ssrc


def seq_gaps(datagrams):
    """Sequence numbers missing between consecutive datagrams (mod 2^16)."""
    gaps = 0
    for a, b in zip(datagrams, datagrams[1:]):
        step = (rtp_fields(b)[0] - rtp_fields(a)[0]) & 0xFFFF
        if step != 1:
            gaps += 1
    return gaps


class OnePlusOne(MrouteTestCase):

    # helpers --------------------------------------------------------------

    def sender(self, ports):
        """gst-launch-1.0 sending the clip as RTP to every port of `ports`
        (the same packets to each), paced by the clip's PCR."""
        clients = ",".join("%s:%d" % (LO, p) for p in ports)
        cmd = ["gst-launch-1.0", "-q", "filesrc", "location=%s" % CLIP_PATH,
               "!", "tsparse", "set-timestamps=true",
               "!", "rtpmp2tpay", "seqnum-offset=%d" % SEQ_OFFSET,
               "!", "multiudpsink", "clients=%s" % clients, "sync=true"]
        return self.spawn(cmd, "sender", stdin=None)

    def wait_sender(self, proc):
        rc = proc.wait(CLIP_SECONDS + 20)
        self.assertEqual(rc, 0, "the sender failed (exit %d)" % rc)

    def flow_1plus1(self, c, ingest, legs, udp_port=None, thumbnails=False):
        outputs = [{"name": "st2022-7", "protocol": "rtp",
                    "legs": [{"address": LO, "port": legs[0]}, {"address": LO, "port": legs[1]}]}]
        if udp_port:
            outputs.append({"name": "ts", "protocol": "udp", "destination": LO, "port": udp_port})
        body = {"name": "one-plus-one", "redundancy": 2,
                "source_monitor_config": {"thumbnail_enabled": thumbnails,
                                          "thumbnail_interval_sec": 1},
                "sources": [{"name": "in", "protocol": "rtp", "ingest_port": ingest,
                             "ingest_address": LO}],
                "outputs": outputs}
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        flow = r.json()
        self.assertEqual(flow["redundancy"], 2, flow)
        self.assertEqual(flow["outputs"][0]["legs"], body["outputs"][0]["legs"], flow)
        self.start_flow(c, flow["id"])
        return flow["id"]

    def start_flow(self, c, flow_id):
        r = c.post("/v1/flows/%s/start" % flow_id)
        self.assertEqual(r.status, 200, r.body)
        c.wait_status(flow_id, "ACTIVE", timeout=15)

    def assertField(self, r, status, field):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.json().get("field"), field, r.body)

    # 1 ----------------------------------------------------------------------

    def test_passthrough_leg0(self):
        c = self.controller()
        ingest, leg0, leg1, ts_port, rec = self.ports(5)
        flow_id = self.flow_1plus1(c, ingest, (leg0, leg1), udp_port=ts_port, thumbnails=True)
        rx0 = self.own(Receiver(leg0, hard=60.0)).start()
        rx1 = self.own(Receiver(leg1, hard=60.0)).start()
        rxts = self.own(Receiver(ts_port, hard=60.0)).start()
        sent = self.own(Receiver(rec, hard=60.0)).start()
        proc = self.sender([ingest, rec])

        # monitoring keeps working on the depayloaded copy
        md = None

        def have_metadata():
            nonlocal md
            r = c.get("/v1/flows/%s/metadata" % flow_id)
            if r.status != 200:
                return False
            md = r.json()
            video = [s for s in md.get("streams", []) if s.get("codec") == "h264"]
            return (len(md["streams"]) >= 2 and video
                    and video[0].get("gop", {}).get("keyframes", 0) >= 2)

        self.assertTrue(wait_until(have_metadata, 10, step=0.3), "no metadata: %r" % md)
        codecs = sorted(s["codec"] for s in md["streams"])
        self.assertEqual(codecs, ["aac", "h264"], md)
        video = [s for s in md["streams"] if s["codec"] == "h264"][0]
        self.assertEqual((video.get("width"), video.get("height")), (640, 360), md)
        th = None

        def have_thumbnail():
            nonlocal th
            r = c.get("/v1/flows/%s/thumbnail" % flow_id)
            th = r.json() if r.status == 200 else None
            return th is not None

        self.assertTrue(wait_until(have_thumbnail, 6, step=0.3), "no thumbnail")
        jpeg = base64.b64decode(th["data"], validate=True)
        self.assertEqual((jpeg[:2], jpeg[-2:]), (b"\xff\xd8", b"\xff\xd9"))

        self.wait_sender(proc)
        for rx in (sent, rx0, rxts):
            self.assertTrue(wait_until(lambda: rx.quiet(0.7), 10), "port %d never went quiet" % rx.port)
        time.sleep(0.3)
        want = sent.datagrams()
        got = rx0.datagrams()
        note("sender sent %d RTP packets (seq %d..%d, SSRC %08x); leg 0 got %d, leg 1 %d, "
             "udp %d bytes" % (len(want), rtp_fields(want[0])[0], rtp_fields(want[-1])[0],
                               rtp_fields(want[0])[2], len(got), rx1.count(), rxts.byte_count()))
        self.assertGreater(len(want), 1000)
        self.assertEqual(b"".join(d[12:] for d in want), CLIP, "the record is not the clip")
        self.assertEqual(seq_gaps(want), 0)
        # the same packets: header (seq, timestamp, SSRC, marker) and payload
        self.assertEqual(len(got), len(want), "leg 0: %d packets, the sender sent %d"
                         % (len(got), len(want)))
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                self.fail("leg 0 packet %d differs: got seq/ts/ssrc %r (%d bytes), sent %r "
                          "(%d bytes)" % (i, rtp_fields(g), len(g), rtp_fields(w), len(w)))
        self.assertEqual(rx1.count(), 0, "slot 0 sent to leg 1")
        ts = rxts.data()
        if ts != CLIP:
            self.fail("the udp output is not the clip: %s" % describe_mismatch(ts, CLIP))

        # the metrics count what went out on the leg
        m = self.metrics(c, flow_id)
        out = {o["name"]: o for o in m["output_metrics"]}
        self.assertGreaterEqual(out["st2022-7"].get("packets_sent", 0), len(want), out)

        # round trip through the store: a restart gives the same flow back
        before = c.get("/v1/flows/%s" % flow_id).json()
        c.stop()
        c.start()
        after = c.get("/v1/flows/%s" % flow_id).json()
        for k in ("redundancy", "outputs", "sources"):
            self.assertEqual(after[k], before[k], "%s after a restart" % k)
        self.assertEqual(after["redundancy"], 2)

    # 2 ----------------------------------------------------------------------

    def test_two_nodes_merged_kill9(self):
        ia, ib, m0, m1, out, rec = self.ports(6)
        node_a = self.controller()
        node_b = self.controller(env={"MROUTE_TEST_STANDALONE_LEG": "1"})
        merger = self.controller()
        rx = self.own(Receiver(out, hard=60.0)).start()
        sent = self.own(Receiver(rec, hard=60.0)).start()
        # the merging flow downstream: ST 2022-7 over the two legs
        body = {"name": "merged", "sources": [
            {"name": "leg0", "protocol": "rtp", "ingest_port": m0, "ingest_address": LO},
            {"name": "leg1", "protocol": "rtp", "ingest_port": m1, "ingest_address": LO}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE",
                                       "recovery_window": 100},
            "outputs": [{"name": "o", "protocol": "udp", "destination": LO, "port": out}]}
        r = merger.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        merged_id = r.json()["id"]
        self.start_flow(merger, merged_id)
        fa = self.flow_1plus1(node_a, ia, (m0, m1))
        fb = self.flow_1plus1(node_b, ib, (m0, m1))

        t0 = time.monotonic()
        proc = self.sender([ia, ib, rec])

        def both_legs():
            st = self.metrics(merger, merged_id).get("merge_stats") or {}
            return st.get("active_legs") == 2

        self.assertTrue(wait_until(both_legs, 10, step=0.2), "the merger never had both legs: %r"
                        % self.metrics(merger, merged_id).get("merge_stats"))
        wait_until(lambda: time.monotonic() - t0 >= CLIP_SECONDS / 2, CLIP_SECONDS)
        self.assertIsNone(proc.poll(), "the sender ended too early")
        before_kill = rx.count()
        node_a.kill9()              # SIGKILL
        t_kill = time.monotonic()
        note("slot-0 controller killed with SIGKILL %.1f s into the clip, %d datagrams out "
             "of the merger so far" % (t_kill - t0, before_kill))

        self.wait_sender(proc)
        for r_ in (sent, rx):
            self.assertTrue(wait_until(lambda: r_.quiet(0.7), 10), "port %d never went quiet"
                            % r_.port)
        time.sleep(0.3)
        want = sent.datagrams()
        self.assertEqual(b"".join(d[12:] for d in want), CLIP, "the record is not the clip")
        got = rx.data()
        st = self.metrics(merger, merged_id)["merge_stats"]
        legs = {s["name"]: s for s in st["sources"]}
        note("sender %d packets; merged output %d bytes (clip %d); after the kill %d datagrams; "
             "merge_stats output %d missing %d, leg0 %d packets, leg1 %d"
             % (len(want), len(got), len(CLIP), rx.count() - before_kill,
                st["output_packets"], st["missing_packets"], legs["leg0"]["packets"],
                legs["leg1"]["packets"]))
        note("merge_stats %r" % st)
        self.assertGreater(rx.count() - before_kill, 300, "the merged output stopped at the kill")
        if got != CLIP:
            self.fail("the merged output lost data: %s" % describe_mismatch(got, CLIP))
        errors, notes = ts_cc_errors(got)
        self.assertEqual(errors, 0, "continuity errors in the merged output: %s" % notes)
        self.assertEqual(st["missing_packets"], 0, st)
        self.assertEqual(st["output_packets"], len(want), st)
        # the two legs were one stream (the same SSRC and sequence numbers):
        # while both ran, every packet came twice; none was another stream's
        self.assertEqual(st["restarts"], 0, st)
        self.assertEqual([legs["leg0"]["foreign"], legs["leg1"]["foreign"]], [0, 0], st)
        self.assertGreaterEqual(legs["leg0"]["duplicates"] + legs["leg1"]["duplicates"],
                                legs["leg0"]["packets"] - 50, st)
        # leg 0 stopped at the kill, leg 1 carried on to the end
        self.assertLess(legs["leg0"]["packets"], len(want), st)
        self.assertEqual(legs["leg1"]["packets"], len(want), st)
        self.assertEqual(node_b.get("/v1/flows/%s" % fb).json()["status"], "ACTIVE")
        del fa

    # 2b ---------------------------------------------------------------------

    def test_merge_flow_passthrough(self):
        """A 1+1 flow in MERGE mode: the merger's packets, the sender's,
        go out as they came."""
        c = self.controller()
        pa, pb, leg0, leg1, ts_port, rec = self.ports(6)
        body = {"name": "merge-1plus1", "redundancy": 2, "sources": [
            {"name": "a", "protocol": "rtp", "ingest_port": pa, "ingest_address": LO},
            {"name": "b", "protocol": "rtp", "ingest_port": pb, "ingest_address": LO}],
            "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE"},
            "outputs": [{"name": "r", "protocol": "rtp", "legs": [
                {"address": LO, "port": leg0}, {"address": LO, "port": leg1}]},
                {"name": "t", "protocol": "udp", "destination": LO, "port": ts_port}]}
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        flow_id = r.json()["id"]
        self.start_flow(c, flow_id)
        rx0 = self.own(Receiver(leg0, hard=60.0)).start()
        rxts = self.own(Receiver(ts_port, hard=60.0)).start()
        sent = self.own(Receiver(rec, hard=60.0)).start()
        self.wait_sender(self.sender([pa, pb, rec]))
        for rx in (sent, rx0, rxts):
            self.assertTrue(wait_until(lambda: rx.quiet(0.7), 10), "port %d never went quiet"
                            % rx.port)
        time.sleep(0.3)
        want, got = sent.datagrams(), rx0.datagrams()
        st = self.metrics(c, flow_id)["merge_stats"]
        note("MERGE 1+1: sent %d, leg 0 got %d, udp %d bytes; merge output %d, duplicates "
             "a %d b %d" % (len(want), len(got), rxts.byte_count(), st["output_packets"],
                            st["sources"][0]["duplicates"], st["sources"][1]["duplicates"]))
        self.assertGreater(len(want), 1000)
        self.assertEqual(len(got), len(want))
        self.assertTrue(got == want, "leg 0 is not the sent RTP packets")
        self.assertEqual(rxts.data(), CLIP)

    # 3 ----------------------------------------------------------------------

    def test_validation(self):
        c = self.controller()
        p = self.port()

        def body(redundancy=None, legs=None, protocol="rtp", extra=None):
            out = {"name": "o", "protocol": protocol}
            if legs is not None:
                out["legs"] = legs
            else:
                out.update({"destination": LO, "port": 5000})
            if extra:
                out.update(extra)
            b = {"name": "v", "sources": [{"name": "in", "protocol": "rtp", "ingest_port": p}],
                 "outputs": [out]}
            if redundancy is not None:
                b["redundancy"] = redundancy
            return b

        good = [{"address": LO, "port": 6000}, {"address": "localhost", "port": 6002}]
        for value in (0, 3, -1, "2", 1.5, True, [2]):
            self.assertField(c.post("/v1/flows", body(redundancy=value)), 400, "redundancy")
        self.assertField(c.post("/v1/flows", body(legs=good)), 400, "outputs[0].legs")
        self.assertField(c.post("/v1/flows", body(1, good)), 400, "outputs[0].legs")
        self.assertField(c.post("/v1/flows", body(2, good[:1])), 400, "outputs[0].legs")
        self.assertField(c.post("/v1/flows", body(2, good * 2)), 400, "outputs[0].legs")
        self.assertField(c.post("/v1/flows", body(2, {"a": 1})), 400, "outputs[0].legs")
        self.assertField(c.post("/v1/flows", body(2, [good[0], 7])), 400, "outputs[0].legs[1]")
        for port in (0, 65536, 70000, -3, "6000"):
            bad = [good[0], {"address": LO, "port": port}]
            self.assertField(c.post("/v1/flows", body(2, bad)), 400, "outputs[0].legs[1].port")
        self.assertField(c.post("/v1/flows", body(2, [{"address": LO}, good[1]])), 400,
                         "outputs[0].legs[0].port")
        self.assertField(c.post("/v1/flows", body(2, [{"port": 1}, good[1]])), 400,
                         "outputs[0].legs[0].address")
        self.assertField(c.post("/v1/flows", body(2, [{"address": "no host!", "port": 1},
                                                      good[1]])), 400, "outputs[0].legs[0].address")
        self.assertField(c.post("/v1/flows", body(2, good, protocol="srt-caller")), 400,
                         "outputs[0].legs")
        # udp takes legs too; a redundancy-2 flow without legs is fine
        r = c.post("/v1/flows", body(2, good, protocol="udp"))
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["outputs"][0]["legs"], good)
        flow_id = r.json()["id"]
        r = c.post("/v1/flows", body(2))
        self.assertEqual(r.status, 201, r.body)
        plain = r.json()
        self.assertNotIn("legs", plain["outputs"][0])
        # redundancy defaults to 1
        r = c.post("/v1/flows", body())
        self.assertEqual(r.status, 201, r.body)
        one_id = r.json()["id"]
        self.assertEqual(r.json()["redundancy"], 1)

        # a flow with legs cannot go back to redundancy 1
        r = c.put("/v1/flows/%s" % flow_id, {"name": "v", "redundancy": 1})
        self.assertField(r, 400, "outputs[0].legs")
        self.assertEqual(c.get("/v1/flows/%s" % flow_id).json()["redundancy"], 2)
        # an output with legs on a flow with redundancy 1
        r = c.post("/v1/flows/%s/outputs" % one_id,
                   {"name": "x", "protocol": "rtp", "legs": good})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("legs", r.json().get("field", ""), r.body)
        # ... which a redundancy 2 takes
        r = c.put("/v1/flows/%s" % one_id, {"name": "v", "redundancy": 2})
        self.assertEqual(r.status, 200, r.body)
        r = c.post("/v1/flows/%s/outputs" % one_id,
                   {"name": "x", "protocol": "rtp", "legs": good})
        self.assertIn(r.status, (200, 201), r.body)
        # legs: [] takes them away (then destination and port are needed)
        r = c.put("/v1/flows/%s/outputs/x" % one_id, {"legs": []})
        self.assertField(r, 400, "destination")
        r = c.put("/v1/flows/%s/outputs/x" % one_id, {"legs": [], "destination": LO, "port": 7000})
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("legs", r.json())


if __name__ == "__main__":
    unittest.main()
