#!/usr/bin/env python3
"""GET /openapi.json and the OpenAPI check of every answer.

- The controller serves controller/api/openapi.json as it is in the tree,
  as JSON, with the API key's rules of /v1/... (not open like /health).
- The document is well formed: OpenAPI 3.1, every operation with
  responses, every $ref resolves, every schema is valid JSON Schema
  2020-12, every path parameter declared, operationIds unique.
- It has exactly the routes the controller serves (ROUTES below, read off
  controller/api/api.c and routes-flows.c), and the controller agrees:
  every method of every path answers 405 exactly when the document does
  not list it.
- One pass over every operation with a real flow, each answer checked
  (as in every integration test, by mroute_harness.Controller.request),
  and each body the controller took against the operation's requestBody.
- The check can fail: wrong answers (a flow with a bad state, a missing or
  extra member, an undocumented status, another media type, an error
  envelope with more in it) are refused by the validator.

Needs python3-jsonschema (scripts/install-deps.sh); run by meson under
/usr/bin/python3 (tests/meson.build)."""

import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mroute_openapi  # noqa: E402
from mroute_harness import Response  # noqa: E402
from mroute_testcase import MrouteTestCase, udp_flow_body  # noqa: E402

# What the controller routes (api.c: handle_request; routes-flows.c:
# mr_api_handle_flow).  A route added there and not to the document fails
# test_routes_match_the_controller below: add it to both.
ROUTES = {
    ("GET", "/"), ("GET", "/web/{file}"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/hls/{id}/{output}/{file}"),
    ("GET", "/v1/flows"), ("POST", "/v1/flows"),
    ("GET", "/v1/flows/{id}"), ("PUT", "/v1/flows/{id}"), ("DELETE", "/v1/flows/{id}"),
    ("POST", "/v1/flows/{id}/start"), ("POST", "/v1/flows/{id}/stop"),
    ("POST", "/v1/flows/{id}/source"),
    ("GET", "/v1/flows/{id}/source/{name}"), ("DELETE", "/v1/flows/{id}/source/{name}"),
    ("POST", "/v1/flows/{id}/source/{name}/activate"),
    ("GET", "/v1/flows/{id}/sources/{name}"),
    ("POST", "/v1/flows/{id}/outputs"),
    ("GET", "/v1/flows/{id}/outputs/{name}"), ("PUT", "/v1/flows/{id}/outputs/{name}"),
    ("DELETE", "/v1/flows/{id}/outputs/{name}"),
    ("GET", "/v1/flows/{id}/metrics"), ("GET", "/v1/flows/{id}/events"),
    ("GET", "/v1/flows/{id}/thumbnail"), ("GET", "/v1/flows/{id}/metadata"),
    ("GET", "/v1/flows/{id}/content-quality"),
    ("GET", "/v1/flows/{id}/recordings"), ("GET", "/v1/flows/{id}/recordings/get"),
    ("GET", "/v1/events"),
    ("GET", "/v1/ws"), ("POST", "/v1/ws/tickets"),
    ("POST", "/v1/mediamtx/events/ready"), ("POST", "/v1/mediamtx/events/not-ready"),
}
PROBED = ("GET", "POST", "PUT", "DELETE", "PATCH")
NO_FLOW = "flow_000000000000"
KEY = "openapi-Key-5b0c7e21d94a"


def load_source_document():
    with open(mroute_openapi.DOC_PATH, "rb") as f:
        return json.loads(f.read())


def refs(node, where="#"):
    """Every ($ref, where it is) in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v, where
            else:
                yield from refs(v, where + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from refs(v, "%s/%d" % (where, i))


class DocumentTest(unittest.TestCase):
    """The document itself, without a controller."""

    @classmethod
    def setUpClass(cls):
        cls.doc = load_source_document()
        cls.api = mroute_openapi.OpenApi(cls.doc)

    def test_structure(self):
        d = self.doc
        self.assertRegex(d.get("openapi", ""), r"^3\.1\.\d+$")
        self.assertTrue(d["info"]["title"] and d["info"]["version"])
        op_ids = []
        for template, item in d["paths"].items():
            self.assertTrue(template.startswith("/"), template)
            params = {p["name"] for p in (self.api.deref(p) for p in item.get("parameters", []))
                      if p["in"] == "path"}
            ops = [m for m in item if m in mroute_openapi.METHODS]
            self.assertTrue(ops, "%s has no operation" % template)
            for m in ops:
                op = item[m]
                op_ids.append(op.get("operationId"))
                self.assertTrue(op.get("responses"), "%s %s has no responses" % (m, template))
                for status, resp in op["responses"].items():
                    self.assertRegex(status, r"^[1-5][0-9][0-9]$", "%s %s" % (m, template))
                    resp = self.api.deref(resp)
                    self.assertIn("description", resp, "%s %s %s" % (m, template, status))
                    if int(status) >= 400:
                        schema = resp["content"]["application/json"]["schema"]
                        self.assertEqual(schema, {"$ref": "#/components/schemas/Error"},
                                         "%s %s %s: not the error envelope" % (m, template, status))
                own = {p["name"] for p in (self.api.deref(p) for p in op.get("parameters", []))
                       if p["in"] == "path"}
                wanted = {s[1:-1] for s in template.split("/") if s.startswith("{")}
                self.assertEqual(params | own, wanted, "%s %s: path parameters" % (m, template))
        self.assertEqual(len(op_ids), len(set(op_ids)), "operationIds are not unique: %r" % op_ids)
        self.assertNotIn(None, op_ids)

    def test_every_ref_resolves(self):
        n = 0
        for ref, where in refs(self.doc):
            self.assertTrue(ref.startswith("#/"), "%s: %s is not local" % (where, ref))
            node = self.doc
            for part in ref[2:].split("/"):
                self.assertIn(part, node, "%s: %s does not resolve" % (where, ref))
                node = node[part]
            n += 1
        self.assertGreater(n, 100)

    def test_schemas_are_json_schema_2020_12(self):
        cls = self.api.validator_class
        for name, schema in self.doc["components"]["schemas"].items():
            cls.check_schema(schema)
        # and every schema of an answer compiles against the document
        for template, item in self.doc["paths"].items():
            for m in (m for m in item if m in mroute_openapi.METHODS):
                for status, resp in item[m]["responses"].items():
                    for media in self.api.deref(resp).get("content", {}).values():
                        cls.check_schema(media["schema"])

    def test_routes_match_the_controller(self):
        documented = {(m.upper(), t) for t, item in self.doc["paths"].items()
                      for m in item if m in mroute_openapi.METHODS}
        self.assertEqual(documented - ROUTES, set(), "in the document, not routed")
        self.assertEqual(ROUTES - documented, set(), "routed, not in the document")

    def test_enums(self):
        s = self.doc["components"]["schemas"]
        self.assertEqual(s["FlowState"]["enum"], ["STANDBY", "STARTING", "ACTIVE", "STOPPING", "ERROR"])
        self.assertEqual(set(s["EventType"]["enum"]), {
            "flow_started", "flow_stopped", "source_active", "source_error", "source_eof",
            "source_retry", "source_failover", "primary_recovered", "merge_started",
            "merge_error", "merge_eof", "connection_error", "maintenance_restart",
            "content_black", "content_frozen", "content_silent", "recording_error"})


def flow_json(**changes):
    f = {"id": "flow_0123456789ab", "name": "n", "description": "", "status": "STANDBY",
         "source": {"name": "in", "protocol": "udp", "ingest_port": 5000},
         "sources": [{"name": "in", "protocol": "udp", "ingest_port": 5000}],
         "outputs": [{"name": "out", "protocol": "udp", "destination": "127.0.0.1", "port": 6000}],
         "source_failover_config": {"state": "DISABLED", "failover_mode": "FAILOVER",
                                    "recovery_window": 100},
         "source_monitor_config": {"thumbnail_enabled": False, "content_quality_enabled": False,
                                   "thumbnail_interval_sec": 5, "black_threshold_sec": 2.0,
                                   "frozen_threshold_sec": 2.0, "silent_threshold_sec": 2.5},
         "maintenance_window": None,
         "recording": {"enabled": False, "segment_duration": 60, "delete_after": 604800},
         "created_at": "2026-11-21T10:00:00.000000Z", "updated_at": "2026-11-21T10:00:00.000000Z"}
    f.update(changes)
    return f


class ValidatorTest(unittest.TestCase):
    """The check can fail: wrong answers are refused (OpenApi.check, which
    records nothing)."""

    @classmethod
    def setUpClass(cls):
        cls.api = mroute_openapi.OpenApi(load_source_document())

    def check(self, method, path, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.api.check(method, path, status, {"Content-Type": ctype}, data)

    def refused(self, method, path, status, body, ctype="application/json", says=None):
        with self.assertRaises(mroute_openapi.OpenApiMismatch) as cm:
            self.check(method, path, status, body, ctype)
        if says:
            self.assertIn(says, str(cm.exception))
        # the message names the path and the status
        self.assertIn(path, str(cm.exception))
        self.assertIn(str(status), str(cm.exception))
        return str(cm.exception)

    def test_a_right_flow_passes(self):
        self.check("GET", "/v1/flows/flow_0123456789ab", 200, flow_json())
        self.check("GET", "/v1/flows/flow_0123456789ab/", 200, flow_json())
        self.check("POST", "/v1/flows", 201, flow_json(warnings=["unknown field 'x' ignored"]))
        self.check("GET", "/v1/flows", 200, {"flows": [flow_json(), flow_json()]})

    def test_broken_flows_are_refused(self):
        path = "/v1/flows/flow_0123456789ab"
        self.refused("GET", path, 200, flow_json(status="RUNNING"), says="RUNNING")
        f = flow_json()
        del f["id"]
        self.refused("GET", path, 200, f, says="'id' is a required property")
        self.refused("GET", path, 200, flow_json(bogus=1), says="bogus")
        # warnings only in the answer of a write
        self.refused("GET", path, 200, flow_json(warnings=["w"]), says="warnings")
        out = flow_json()
        out["outputs"][0]["port"] = "6000"
        self.refused("GET", path, 200, out, says="outputs/0/port")
        secret = flow_json()
        secret["outputs"][0]["stream_key"] = "k"
        self.refused("GET", path, 200, secret, says="stream_key")
        self.refused("GET", path, 200, flow_json(maintenance_window="Monday"))
        self.refused("GET", path, 200, flow_json(created_at="yesterday"))
        self.refused("GET", "/v1/flows", 200, {"flows": [flow_json(status="ACTIVE "), flow_json()]},
                     says="flows/0/status")

    def test_statuses_and_media_types(self):
        path = "/v1/flows/flow_0123456789ab"
        self.refused("GET", path, 201, flow_json(), says="does not list")
        self.refused("DELETE", path, 200, flow_json(), says="does not list")
        self.refused("DELETE", path, 204, flow_json(), says="with a body")
        self.check("DELETE", path, 204, b"", ctype="")
        self.refused("GET", path, 200, flow_json(), ctype="text/plain", says="text/plain")
        self.refused("GET", path, 200, b"{not json", says="not JSON")
        self.refused("GET", "/metrics", 200, b"# HELP\n", ctype="application/json")
        self.check("GET", "/metrics", 200, b"# HELP x y\n", ctype="text/plain; version=0.0.4; charset=utf-8")

    def test_error_envelope(self):
        path = "/v1/flows/flow_0123456789ab"
        self.check("GET", path, 404, {"error": "no flow 'x'"})
        self.check("PUT", path, 409, {"error": "x: no", "field": "x"})
        self.refused("GET", path, 404, {"error": "no flow 'x'", "code": 404}, says="code")
        self.refused("GET", path, 404, {"message": "no flow 'x'"}, says="'error' is a required property")
        self.refused("GET", path, 404, {"error": ""})

    def test_accepted_request_bodies(self):
        """A body answered 2xx must fit the operation's requestBody."""
        flow = flow_json()
        ok = json.dumps({"name": "n", "source": {"name": "in", "protocol": "udp",
                                                 "ingest_port": 5000}, "extra": 1}).encode()
        self.api.check("POST", "/v1/flows", 201, {"Content-Type": "application/json"},
                       json.dumps(flow).encode(), sent=ok)
        for bad in ({"source": {"name": "in", "protocol": "udp"}},           # no name
                    {"name": "n", "outputs": [{"name": "o", "protocol": "smtp"}]},
                    {"name": "n", "source_monitor_config": {"thumbnail_interval_sec": 0}}):
            with self.assertRaises(mroute_openapi.OpenApiMismatch) as cm:
                self.api.check("POST", "/v1/flows", 201, {"Content-Type": "application/json"},
                               json.dumps(flow).encode(), sent=json.dumps(bad).encode())
            self.assertIn("requestBody", str(cm.exception))
        # a refused body is not checked: tests send wrong ones on purpose
        self.api.check("POST", "/v1/flows", 400, {"Content-Type": "application/json"},
                       b'{"error": "name: is required", "field": "name"}', sent=b"{}")

    def test_paths_and_methods_outside_the_document(self):
        self.check("GET", "/nope", 404, {"error": "no such path: /nope"})
        self.refused("GET", "/nope", 200, {"ok": True}, says="not in the document")
        self.check("POST", "/health", 405, {"error": "method POST is not allowed here (allowed: GET)"})
        self.refused("POST", "/health", 200, {"status": "ok", "total_flows": 0, "active_flows": 0})
        self.check("GET", "/v1/flows/a%zzb", 400, {"error": "malformed path"})

    def test_other_answers(self):
        self.refused("GET", "/health", 200, {"status": "ok", "total_flows": -1, "active_flows": 0})
        ev = {"id": 1, "flow_id": "flow_0123456789ab", "type": "source_active", "severity": "info",
              "message": "m", "timestamp": "2026-11-21T10:00:01.250000Z"}
        self.check("GET", "/v1/events?limit=5", 200, {"events": [ev]})
        self.refused("GET", "/v1/events", 200, {"events": [dict(ev, type="source_exploded")]},
                     says="source_exploded")
        self.refused("GET", "/v1/events", 200, {"events": [dict(ev, severity="fatal")]})
        hook = {"action": "stop_scheduled", "flow_id": "flow_0123456789ab", "stream_id": "abc",
                "request_id": "mtx-1", "stop_in_sec": 30}
        self.check("POST", "/v1/mediamtx/events/not-ready", 202, hook)
        self.refused("POST", "/v1/mediamtx/events/ready", 202, hook, says="does not list")
        bad = copy.deepcopy(hook)
        del bad["stop_in_sec"]
        self.refused("POST", "/v1/mediamtx/events/not-ready", 202, bad)


class ServedTest(MrouteTestCase):
    """A controller: what it serves, and one pass over every operation."""

    def test_served_document_is_the_source(self):
        c = self.controller()
        r = c.get("/openapi.json")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.headers.get("Content-Type"), "application/json")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertEqual(r.json(), load_source_document())
        self.assertEqual(c.get("/openapi.json/").status, 200)
        r = c.post("/openapi.json", {})
        self.assertEqual(r.status, 405, r.body)
        self.assertEqual(r.headers.get("Allow"), "GET")

    def test_document_needs_the_key(self):
        """Decision: /openapi.json follows the rules of /v1/..., only
        /health is open."""
        c = self.controller(env={"MROUTE_API_KEY": KEY})
        r = c.get("/openapi.json")
        self.assertEqual(r.status, 401, r.body)
        r = c.get("/openapi.json", headers={"X-API-Key": KEY})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(c.get("/health").status, 200)

    def test_routes_match_the_controller(self):
        """Every method of every documented path (a flow that does not
        exist: nothing changes) is a 405 exactly when the document does not
        list it; each answer is checked against the document."""
        c = self.controller()
        doc = load_source_document()
        for template, item in doc["paths"].items():
            path = template.replace("{id}", NO_FLOW).replace("{name}", "nobody")
            for method in PROBED:
                r = c.request(method, path, body={} if method in ("POST", "PUT", "PATCH") else None)
                listed = method.lower() in item
                if listed:
                    self.assertNotEqual(r.status, 405, "%s %s: %s" % (method, path, r.body))
                else:
                    self.assertEqual(r.status, 405, "%s %s: %s" % (method, path, r.body))
                    allowed = {m.strip() for m in r.headers.get("Allow", "").split(",")}
                    self.assertEqual(allowed, {m.upper() for m in item if m in mroute_openapi.METHODS},
                                     "%s %s: Allow" % (method, path))
        self.assertEqual(c.get("/v1/nothing").status, 404)

    def test_every_operation_once(self):
        """A flow through every operation; the harness checks each answer."""
        c = self.controller()
        start, _ = mroute_openapi.checked()
        ports = self.ports(4)
        body = udp_flow_body("openapi", ports[0], ports[1])
        body["foo"] = 1
        r = c.post("/v1/flows", body)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["warnings"], ["unknown field 'foo' ignored"])
        fid = r.json()["id"]
        base = "/v1/flows/%s" % fid
        for method, path, payload, status in [
                ("GET", "/v1/flows", None, 200),
                ("GET", base, None, 200),
                ("PUT", base, {"description": "d", "maintenance_window": {"day_of_week": "monday",
                                                                         "start_hour": 3}}, 200),
                ("GET", base + "/sources/primary", None, 200),
                ("GET", base + "/source/primary", None, 200),
                ("GET", base + "/outputs/out1", None, 200),
                ("POST", base + "/outputs", {"name": "o2", "protocol": "rtp",
                                             "destination": "127.0.0.1", "port": ports[2]}, 201),
                ("PUT", base + "/outputs/o2", {"port": ports[3], "bar": None}, 200),
                ("POST", base + "/source", {"name": "backup", "protocol": "udp",
                                            "ingest_port": self.port()}, 201),
                ("GET", base + "/metrics", None, 200),
                ("GET", base + "/thumbnail", None, 409),
                ("GET", base + "/metadata", None, 409),
                ("POST", base + "/start", None, 200),
                ("POST", base + "/start", None, 409),
                ("GET", base + "/metrics", None, 200),
                ("GET", base + "/content-quality", None, 409),
                ("POST", base + "/source/backup/activate", None, 409),
                ("POST", base + "/source/nobody/activate", None, 404),
                ("PUT", base, {"recording": {"enabled": True, "segment_duration": 1}}, 200),
                ("GET", base + "/recordings", None, 200),
                ("GET", base + "/recordings/get?start=2026-01-01T00:00:00Z&duration=1", None, 404),
                ("GET", base + "/recordings/get?duration=1", None, 400),
                ("POST", base + "/outputs", {"name": "web", "protocol": "hls"}, 201),
                ("GET", "/hls/%s/web/nothing.ts" % fid, None, 404),
                ("DELETE", base + "/outputs/web", None, 200),
                ("POST", "/v1/mediamtx/events/ready", {"path": "live/openapi/in"}, 200),
                ("POST", "/v1/mediamtx/events/not-ready", {"path": "live/openapi/in"}, 202),
                ("POST", "/v1/mediamtx/events/ready", {"path": "live/openapi/out"}, 200),
                ("POST", "/v1/mediamtx/events/ready", {"path": "live/nobody/in"}, 404),
                ("POST", base + "/stop", None, 200),
                ("GET", base + "/events?limit=10", None, 200),
                ("GET", "/v1/events", None, 200),
                ("GET", base + "/events?limit=0", None, 400),
                ("DELETE", base + "/outputs/o2", None, 200),
                ("DELETE", base + "/source/backup", None, 200),
                ("DELETE", base + "/source/primary", None, 400),
                ("GET", "/metrics", None, 200),
                ("GET", "/health", None, 200),
                ("DELETE", base, None, 204),
                ("GET", base, None, 404)]:
            r = c.request(method, path, body=payload)
            self.assertEqual(r.status, status, "%s %s: %s" % (method, path, r.body))
        end, _ = mroute_openapi.checked()
        self.assertGreaterEqual(end - start, 32)

    def test_a_wrong_answer_fails_through_the_harness(self):
        """Through Controller.request: an answer that does not fit raises,
        with the path, the status and why (the document is made stricter
        for this one check)."""
        c = self.controller()
        real = mroute_openapi.api()
        doc = copy.deepcopy(real.doc)
        doc["components"]["schemas"]["Health"]["properties"]["total_flows"]["minimum"] = 1
        mark = mroute_openapi.failure_count()
        mroute_openapi._api = mroute_openapi.OpenApi(doc)
        try:
            with self.assertRaises(mroute_openapi.OpenApiMismatch) as cm:
                c.get("/health")
        finally:
            mroute_openapi._api = real
            # the mismatch was wanted: not a failure of this test
            with mroute_openapi._lock:
                del mroute_openapi._failures[mark:]
        msg = str(cm.exception)
        self.assertIn("/health", msg)
        self.assertIn("200", msg)
        self.assertIn("total_flows", msg)


if __name__ == "__main__":
    unittest.main(verbosity=2)
