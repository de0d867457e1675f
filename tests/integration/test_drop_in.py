#!/usr/bin/env python3
"""A client written for the original mroute works unchanged (issue 13).

The original is a Go program; a Go client decodes answers into structs
(members it does not know are dropped) and encodes the same structs back,
read-only members and nulls included.  What that means here (docs/api.md,
Bodies):

- the members the API itself returns (`id`, `status`, `created_at`,
  `updated_at`, `source` beside `sources`, an endpoint's metrics) are
  ignored without a word when a body sent back carries them;
- any other unknown member is accepted and said in a `warnings` array of
  the answer, by its field path; an answer without warnings is as before;
- `null` is "not given";
- the original's `min_latency`, `sender_ip_address` and
  `sender_control_port` are accepted;
- `?limit=` above the seed's "Maximum limit: 10,000" counts as 10,000;
- `GET /v1/flows/{id}/sources/{name}` and `.../outputs/{name}` answer the
  object as it is in the flow.

The seed's example bodies are copied verbatim below.

Run:  MROUTE_BIN=build/controller/mroute python3 tests/integration/test_drop_in.py -v
"""

import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_api import ABSENT, ApiTestCase  # noqa: E402

# --------------------------------------------------------------------------
# The seed's example bodies (README, "API Reference"), verbatim

SEED_CREATE_FLOW = json.loads("""
{
  "name": "My Live Feed",
  "description": "Primary ingest from studio",
  "source": {
    "name": "primary",
    "protocol": "srt-listener",
    "ingest_port": 5000,
    "max_latency": 200,
    "decryption": {
      "algorithm": "aes128",
      "passphrase": "my_secret_passphrase"
    }
  },
  "outputs": [
    {
      "name": "cdn_feed",
      "protocol": "srt-caller",
      "destination": "cdn.example.com",
      "port": 9000,
      "max_latency": 300,
      "encryption": {
        "algorithm": "aes256",
        "passphrase": "output_secret_passphrase"
      }
    },
    {
      "name": "monitoring",
      "protocol": "udp",
      "destination": "10.0.0.50",
      "port": 6000
    }
  ],
  "source_failover_config": {
    "state": "ENABLED",
    "failover_mode": "FAILOVER",
    "source_priority": {
      "primary_source": "primary"
    }
  },
  "source_monitor_config": {
    "thumbnail_enabled": true,
    "content_quality_enabled": true,
    "thumbnail_interval_sec": 5
  },
  "maintenance_window": {
    "day_of_week": "Sunday",
    "start_hour": 3
  }
}
""")

SEED_ADD_SOURCE = json.loads("""
{
  "name": "backup",
  "protocol": "srt-listener",
  "ingest_port": 5001
}
""")

SEED_ADD_OUTPUT = json.loads("""
{
  "name": "new_output",
  "protocol": "rtp",
  "destination": "10.0.0.100",
  "port": 7000
}
""")

# The seed's output metrics item ("GET /v1/flows/{id}/metrics"), verbatim:
# what a client that keeps one struct per output may send back with it
SEED_OUTPUT_METRICS = json.loads("""
{
  "name": "cdn_feed",
  "status": "CONNECTED",
  "connected": true,
  "bitrate_kbps": 5000,
  "packets_sent": 180000,
  "disconnections": 0
}
""")

READ_ONLY_FLOW = ("id", "status", "created_at", "updated_at")


def seed_flow(name=None):
    b = copy.deepcopy(SEED_CREATE_FLOW)
    if name:
        b["name"] = name
    return b


def without_secrets(body):
    """The seed's flow without its passphrases (an answer never has them)"""
    b = copy.deepcopy(body)
    b["source"].pop("decryption")
    for o in b["outputs"]:
        o.pop("encryption", None)
    return b


class DropInTest(ApiTestCase):

    def flow_id(self, body):
        return self.create(body)["id"]

    # -- bodies ------------------------------------------------------------

    def test_seed_bodies_answer_without_warnings(self):
        """The seed's three bodies as they are: no `warnings` member, the
        answer has the same members as a GET of the flow"""
        r, f = self.post("/v1/flows", seed_flow())
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", f)
        self.assertEqual(list(f), list(self.get_flow(f["id"])))
        r, g = self.post("/v1/flows/%s/source" % f["id"], SEED_ADD_SOURCE)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", g)
        r, g = self.post("/v1/flows/%s/outputs" % f["id"], SEED_ADD_OUTPUT)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", g)
        self.assertEqual([o["name"] for o in g["outputs"]],
                         ["cdn_feed", "monitoring", "new_output"])

    def test_read_only_members_ignored(self):
        """"Returns 201 Created with the full flow object including
        generated id": that object's id, status and times, sent back, are
        ignored without a word"""
        body = seed_flow("read-only")
        body.update({"id": "flow_abc123", "status": "ACTIVE",
                     "created_at": "2025-01-15T10:30:00Z",
                     "updated_at": "2025-01-15T10:30:00Z"})
        r, f = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", f)
        self.assertNotEqual(f["id"], "flow_abc123")
        self.assertEqual(f["status"], "STANDBY")
        self.assertNotEqual(f["created_at"], "2025-01-15T10:30:00Z")

        # an output that carries the seed's metrics of an output
        out = dict(SEED_OUTPUT_METRICS, protocol="udp", destination="10.0.0.51",
                   port=6002, name="with_metrics")
        r, g = self.post("/v1/flows/%s/outputs" % f["id"], out)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", g)
        self.assertEqual(self.output(g, "with_metrics"),
                         {"name": "with_metrics", "protocol": "udp",
                          "destination": "10.0.0.51", "port": 6002})
        # "Partial update -- only specified fields are changed": the metrics
        # members are not fields
        r, g = self.put("/v1/flows/%s/outputs/with_metrics" % f["id"],
                        dict(SEED_OUTPUT_METRICS, name="with_metrics", port=6004))
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertNotIn("warnings", g)
        self.assertEqual(self.output(g, "with_metrics")["port"], 6004)

    def test_unknown_fields_are_warnings(self):
        body = seed_flow("unknown")
        body["foo"] = 1
        body["outputs"][1]["foo"] = {"bar": [1, 2]}
        body["source"]["decryption"]["key_rotation"] = "daily"
        body["source_monitor_config"]["probe_path"] = "ffprobe"
        r, f = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:600])
        # in the order of the body
        self.assertEqual(f["warnings"], [
            "unknown field 'source.decryption.key_rotation' ignored",
            "unknown field 'outputs[1].foo' ignored",
            "unknown field 'source_monitor_config.probe_path' ignored",
            "unknown field 'foo' ignored",
        ])
        # nothing of them is kept
        g = self.get_flow(f["id"])
        self.assertNotIn("warnings", g)
        self.assertNotIn("foo", g)
        self.assertNotIn("foo", g["outputs"][1])
        self.assertNotIn("probe_path", g["source_monitor_config"])
        fid = f["id"]

        r, g = self.post("/v1/flows/%s/source" % fid, dict(SEED_ADD_SOURCE, foo=1))
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertEqual(g["warnings"], ["unknown field 'foo' ignored"])
        r, g = self.post("/v1/flows/%s/outputs" % fid,
                         dict(SEED_ADD_OUTPUT, foo=True, fec={"columns": 10}))
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertEqual(g["warnings"], ["unknown field 'foo' ignored",
                                         "unknown field 'fec' ignored"])
        r, g = self.put("/v1/flows/%s/outputs/new_output" % fid, {"port": 7002, "foo": "x"})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(g["warnings"], ["unknown field 'foo' ignored"])
        self.assertEqual(self.output(g, "new_output")["port"], 7002)

    def test_many_unknown_fields_are_bounded(self):
        body = seed_flow("many-unknown")
        for i in range(200):
            body["x%03d" % i] = i
        r, f = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertEqual(len(f["warnings"]), 51)
        self.assertEqual(f["warnings"][-1],
                         "more unknown fields ignored (only the first 50 are listed)")

    def test_wrong_types_and_values_still_refused(self):
        """Only unknown members became warnings: a known field of the wrong
        type or value is a 400 naming it, as before"""
        cases = [
            ("source.ingest_port", lambda b: b["source"].update(ingest_port="5000")),
            ("source.decryption.passphrase",
             lambda b: b["source"]["decryption"].update(passphrase="short")),
            ("outputs[1].port", lambda b: b["outputs"][1].update(port=70000)),
            ("outputs", lambda b: b.update(outputs={"name": "x"})),
            ("source_failover_config.state",
             lambda b: b["source_failover_config"].update(state="ON")),
            ("source.min_latency", lambda b: b["source"].update(min_latency="200")),
            ("outputs[0].min_latency", lambda b: b["outputs"][0].update(min_latency=-1)),
            ("source.sender_ip_address",
             lambda b: b["source"].update(sender_ip_address="not-an-ip")),
            ("outputs[1].sender_control_port",
             lambda b: b["outputs"][1].update(sender_control_port=65536)),
        ]
        for field, mutate in cases:
            with self.subTest(field):
                body = seed_flow("wrong")
                mutate(body)
                r, data = self.post("/v1/flows", body)
                self.assertError(r, data, 400, field, field)

    def test_null_is_not_given(self):
        body = seed_flow("nulls")
        body.update({"outputs": None, "source_failover_config": None,
                     "source_monitor_config": None, "maintenance_window": None,
                     "description": None, "sources": None})
        body["source"].update({"max_latency": None, "stream_id": None,
                               "min_latency": None, "description": None})
        r, f = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", f)
        self.assertEqual(f["outputs"], [])
        self.assertEqual(f["description"], "")
        self.assertEqual(f["source_failover_config"],
                         {"state": "DISABLED", "failover_mode": "FAILOVER",
                          "recovery_window": 100})
        self.assertEqual(f["source_monitor_config"],
                         {"thumbnail_enabled": False, "content_quality_enabled": False,
                          "thumbnail_interval_sec": 5, "black_threshold_sec": 2,
                          "frozen_threshold_sec": 2, "silent_threshold_sec": 2})
        self.assertIsNone(f["maintenance_window"])
        self.assertEqual(f["source"], {"name": "primary", "protocol": "srt-listener",
                                       "ingest_port": 5000,
                                       "decryption": {"algorithm": "aes128"}})

        # in a partial update null leaves the field as it was
        fid = f["id"]
        r, g = self.post("/v1/flows/%s/outputs" % fid,
                         dict(SEED_CREATE_FLOW["outputs"][0], description="cdn"))
        self.assertEqual(r.status, 201, r.body[:600])
        before = self.output(g, "cdn_feed")
        r, g = self.put("/v1/flows/%s/outputs/cdn_feed" % fid,
                        {"name": None, "protocol": None, "destination": None, "port": None,
                         "description": None, "max_latency": None, "encryption": None,
                         "stream_id": None})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertNotIn("warnings", g)
        self.assertEqual(self.output(g, "cdn_feed"), before)
        # the passphrase was kept too: the algorithm alone is a valid update
        r, g = self.put("/v1/flows/%s/outputs/cdn_feed" % fid,
                        {"encryption": {"algorithm": "aes128", "passphrase": None}})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(self.output(g, "cdn_feed")["encryption"], {"algorithm": "aes128"})
        # a required field given as null is missing
        r, data = self.post("/v1/flows", dict(seed_flow(), name=None))
        self.assertError(r, data, 400, "name", "name null")

    def test_original_fields_accepted(self):
        body = seed_flow("original-fields")
        body["source"].update({"min_latency": 500, "sender_control_port": 5005})
        body["outputs"][1].update({"min_latency": 100, "sender_ip_address": "10.0.0.1",
                                   "sender_control_port": 6001})
        r, f = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", f)
        # min_latency is used (SRT) and kept; the sender's are not used yet
        self.assertEqual(f["source"]["min_latency"], 500)
        self.assertEqual(f["source"]["max_latency"], 200)
        self.assertEqual(f["outputs"][1]["min_latency"], 100)
        self.assertNotIn("sender_ip_address", f["outputs"][1])
        self.assertNotIn("sender_control_port", f["source"])
        r, g = self.put("/v1/flows/%s/outputs/cdn_feed" % f["id"], {"min_latency": 250})
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertEqual(self.output(g, "cdn_feed")["min_latency"], 250)
        self.assertEqual(self.get_flow(f["id"])["outputs"], g["outputs"])

    # -- a Go client's round trip -----------------------------------------

    def test_round_trip_of_a_flow(self):
        """GET a flow, POST that exact body back under a new name with new
        ports: 201, and not one warning about the members the API wrote"""
        fid = self.flow_id(without_secrets(seed_flow("round-trip")))
        self.post("/v1/flows/%s/source" % fid, SEED_ADD_SOURCE, expect=201)
        self.post("/v1/flows/%s/outputs" % fid, SEED_ADD_OUTPUT, expect=201)
        got = self.get_flow(fid)
        self.assertEqual(len(got["sources"]), 2)

        body = copy.deepcopy(got)
        body["name"] = "round-trip-copy"
        for s in body["sources"]:
            s["ingest_port"] += 100
        body["source"] = copy.deepcopy(body["sources"][0])
        for o in body["outputs"]:
            o["port"] += 100
        r, f = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", f)
        self.assertNotEqual(f["id"], fid)
        self.assertEqual(f["status"], "STANDBY")
        for k in ("description", "sources", "outputs", "source_failover_config",
                  "source_monitor_config", "maintenance_window"):
            self.assertEqual(f[k], body[k], k)

        # a client that knows only the seed's "source" changes that one:
        # it is the first source, "sources" gives the others
        body = copy.deepcopy(got)
        body["name"] = "source-only-changed"
        body["source"]["ingest_port"] = 5200
        for o in body["outputs"]:
            o["port"] += 200
        body["sources"][1]["ingest_port"] = 5201
        r, f = self.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertEqual(f["warnings"],
                         ["'sources[0]' ignored: 'source' gives the first source"])
        self.assertEqual([(s["name"], s["ingest_port"]) for s in f["sources"]],
                         [("primary", 5200), ("backup", 5201)])

    def test_round_trip_of_endpoints(self):
        fid = self.flow_id(without_secrets(seed_flow("endpoints-trip")))
        self.post("/v1/flows/%s/outputs" % fid, SEED_ADD_OUTPUT, expect=201)
        _, out = self.get("/v1/flows/%s/outputs/new_output" % fid, expect=200)
        r, g = self.put("/v1/flows/%s/outputs/new_output" % fid, dict(out, port=7010))
        self.assertEqual(r.status, 200, r.body[:600])
        self.assertNotIn("warnings", g)
        r, g = self.post("/v1/flows/%s/outputs" % fid, dict(out, name="copy", port=7020))
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", g)
        _, src = self.get("/v1/flows/%s/sources/primary" % fid, expect=200)
        r, g = self.post("/v1/flows/%s/source" % fid, dict(src, name="copy", ingest_port=5010))
        self.assertEqual(r.status, 201, r.body[:600])
        self.assertNotIn("warnings", g)

    def test_round_trip_with_secrets_asks_for_them(self):
        """Secrets are never returned: the seed's flow read back and sent
        again is refused for the passphrase it lacks, and for nothing else"""
        got = self.get_flow(self.flow_id(seed_flow("secret-trip")))
        body = dict(got, name="secret-trip-copy")
        r, data = self.post("/v1/flows", body)
        self.assertError(r, data, 400, "source.decryption.passphrase", "secret round trip")

    # -- one source, one output -------------------------------------------

    def test_get_one_source_or_output(self):
        f = self.create(seed_flow("get-one"))
        fid = f["id"]
        g = self.post("/v1/flows/%s/source" % fid, SEED_ADD_SOURCE, expect=201)[1]
        for path in ("sources", "source"):
            for i, name in enumerate(("primary", "backup")):
                with self.subTest(path=path, name=name):
                    _, s = self.get("/v1/flows/%s/%s/%s" % (fid, path, name), expect=200)
                    self.assertEqual(s, g["sources"][i])
        self.assertNotIn("passphrase", json.dumps(g))
        for i, name in enumerate(("cdn_feed", "monitoring")):
            with self.subTest(output=name):
                _, o = self.get("/v1/flows/%s/outputs/%s" % (fid, name), expect=200)
                self.assertEqual(o, g["outputs"][i])
        _, o = self.get("/v1/flows/%s/outputs/cdn_feed" % fid, expect=200)
        self.assertEqual(o["encryption"], {"algorithm": "aes256"})
        for path in ("/v1/flows/%s/sources/ghost" % fid, "/v1/flows/%s/outputs/ghost" % fid,
                     "/v1/flows/flow_000000000000/sources/primary",
                     "/v1/flows/flow_000000000000/outputs/cdn_feed"):
            with self.subTest(path=path):
                r, data = self.get(path)
                self.assertError(r, data, 404, ABSENT, path)
        r, data = self.delete("/v1/flows/%s/sources/backup" % fid)
        self.assertError(r, data, 405, ABSENT, "DELETE on the plural")
        self.assertEqual(r.headers.get("Allow"), "GET")

    # -- limit ------------------------------------------------------------

    def test_limit(self):
        """"GET /v1/events?limit=100 ... Maximum limit: 10,000": above it is
        the maximum, not an error; 0 and below are"""
        fid = self.flow_id(seed_flow("limits"))
        for path in ("/v1/events?limit=100", "/v1/flows/%s/events?limit=50" % fid,
                     "/v1/events?limit=10001", "/v1/flows/%s/events?limit=1000000" % fid,
                     "/v1/events?limit=18446744073709551616"):
            with self.subTest(path=path):
                r, data = self.get(path, expect=200)
                self.assertIsInstance(data["events"], list)
                self.assertLessEqual(len(data["events"]), 10000)
        for limit in ("0", "-1", "-10001", "x"):
            for path in ("/v1/events", "/v1/flows/%s/events" % fid):
                with self.subTest(path=path, limit=limit):
                    r, data = self.get("%s?limit=%s" % (path, limit))
                    self.assertError(r, data, 400, "limit", limit)


if __name__ == "__main__":
    unittest.main()
