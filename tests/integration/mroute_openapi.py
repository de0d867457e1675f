"""Every answer the integration tests receive, checked against the API's
OpenAPI document (controller/api/openapi.json, the one the controller
serves at GET /openapi.json).

Controller.request() (mroute_harness.py), which every test's HTTP goes
through, calls check() with the method, the path, the status, the headers
and the body of each answer.  check() finds the path's entry in the
document (templates like /v1/flows/{id} match one segment; one trailing
slash and the query string are ignored, as the controller does), the
method's operation, the answer's status among its responses, the media
type, and validates a JSON body against the response's schema with
python3-jsonschema (JSON Schema 2020-12, the dialect of OpenAPI 3.1); and
a request body the controller accepted (a 2xx answer) against the
operation's requestBody schema.  A
path the document does not have must be a 404, a method its entry does not
list a 405, both with the error envelope; a path segment the controller
cannot decode a 400.  An answer that does not fit raises OpenApiMismatch
(an AssertionError: the test fails) naming the method, the path, the
status and the schema's complaint; it is also recorded, so that a mismatch
in a thread of the test fails the test too (MrouteTestCase checks
failures_since() after each test).

MROUTE_OPENAPI_CHECK in the environment: "require" (what tests/meson.build
sets: without python3-jsonschema every checked answer fails), "0" (off),
unset (check when python3-jsonschema imports, else say so once on stderr
and go on: bench/soak.py's Controller under another python3).  At exit the
number of answers checked is written to stderr (the test's log), one line:
"openapi: N answers checked ...".  With MROUTE_OPENAPI_STATS=FILE it also
appends one JSON line to FILE: the count of each operation and status seen
(what a whole run of the suite covered of the document).

python3-jsonschema is a Debian package (scripts/install-deps.sh); the
integration tests run under /usr/bin/python3 (tests/meson.build) so that
it imports even when another python3 comes first on PATH."""

import atexit
import json
import os
import re
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DOC_PATH = os.path.normpath(os.path.join(HERE, "..", "..", "controller", "api", "openapi.json"))
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# answers to any path, before routing (api.c: handle_early; http-guard.c)
EARLY = {"401": "Unauthorized", "403": "Forbidden", "411": "LengthRequired",
         "413": "PayloadTooLarge", "503": "Unavailable"}


class OpenApiMismatch(AssertionError):
    pass


def enabled():
    return os.environ.get("MROUTE_OPENAPI_CHECK", "1") != "0"


def split_path(path):
    """The path's raw (not decoded) segments as the controller splits them:
    no query, no leading slash, one trailing empty segment dropped."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path.startswith("/"):
        path = path[1:]
    segs = path.split("/")
    if len(segs) > 1 and segs[-1] == "":
        segs = segs[:-1]
    return segs


def malformed(seg):
    """What g_uri_unescape_string () refuses: a % not followed by two hex
    digits, or an escaped NUL."""
    return bool(re.search(r"%(?![0-9A-Fa-f]{2})|%00", seg))


class OpenApi:
    """The document, its path templates and a validator per schema."""

    def __init__(self, doc):
        import jsonschema  # python3-jsonschema (Debian); see the module's doc
        self.jsonschema = jsonschema
        self.doc = doc
        self.validator_class = jsonschema.validators.Draft202012Validator
        self.templates = []
        for template, item in doc["paths"].items():
            self.templates.append((split_path(template), template, item))
        self._validators = {}

    @classmethod
    def load(cls, path=DOC_PATH):
        with open(path, "rb") as f:
            return cls(json.loads(f.read()))

    def deref(self, node):
        """Follows a local $ref ("#/components/...") to what it names."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("not a local $ref: %s" % ref)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def match(self, path):
        """(template, path item) of the entry that `path` falls under, or
        (None, None)."""
        segs = [urllib.parse.unquote(s) for s in split_path(path)]
        for tsegs, template, item in self.templates:
            if len(tsegs) != len(segs):
                continue
            if all(t.startswith("{") and t.endswith("}") or t == s for t, s in zip(tsegs, segs)):
                return template, item
        return None, None

    def responses_for(self, method, path):
        """(what, responses): the responses an answer to `method` `path` may
        be, `what` naming the operation for messages."""
        method = method.lower()
        if method == "head":
            method = "get"
        early = {status: {"$ref": "#/components/responses/" + name}
                 for status, name in EARLY.items()}
        if any(malformed(s) for s in split_path(path)):
            early["400"] = {"$ref": "#/components/responses/BadRequest"}
            return "a malformed path", early
        template, item = self.match(path)
        if template is None:
            early["404"] = {"$ref": "#/components/responses/NotFound"}
            return "a path not in the document", early
        if method not in item:
            early["405"] = {"$ref": "#/components/responses/MethodNotAllowed"}
            return "%s %s (a method the path does not take)" % (method.upper(), template), early
        return "%s %s" % (method.upper(), template), item[method]["responses"]

    def validator(self, schema):
        """A validator of `schema`, whose "#/components/..." point into the
        document: the root it validates with is the document itself (its
        members are no JSON Schema keywords) with `schema` as its one
        allOf, so that every jsonschema version (4.10 in Debian 12, 4.18
        and later with the referencing library) resolves them the same."""
        key = json.dumps(schema, sort_keys=True)
        v = self._validators.get(key)
        if v is None:
            root = dict(self.doc)
            root["allOf"] = [schema]
            v = self.validator_class(root)
            self._validators[key] = v
        return v

    def schema_errors(self, schema, instance):
        """The validation errors of `instance` against `schema`, as lines
        (empty: valid)."""
        errors = sorted(self.validator(schema).iter_errors(instance),
                        key=lambda e: list(e.absolute_path))
        lines = []
        for e in errors[:5]:
            where = "/".join(str(p) for p in e.absolute_path) or "(the body)"
            spath = list(e.absolute_schema_path)[2:]       # past the root's allOf/0
            lines.append("at %s: %s (schema: %s)" % (
                where, e.message[:500], "/".join(str(p) for p in spath)))
        return lines

    def check_request(self, method, path, status, sent):
        """A body the controller took (2xx) fits the operation's
        requestBody: the document describes no less than what is taken."""
        method = method.lower()
        template, item = self.match(path)
        if template is None or method not in item or "requestBody" not in item[method]:
            return
        schema = self.deref(item[method]["requestBody"])["content"]["application/json"]["schema"]
        try:
            instance = json.loads(sent)
        except ValueError as e:
            raise OpenApiMismatch("openapi: %s %s answered %d to a body that is not JSON (%s): %r"
                                  % (method.upper(), path, status, e, sent[:300]))
        errors = self.schema_errors(schema, instance)
        if errors:
            raise OpenApiMismatch("openapi: %s %s answered %d to a body that does not fit the "
                                  "requestBody of %s %s:\n  %s\nbody sent: %s"
                                  % (method.upper(), path, status, method.upper(), template,
                                     "\n  ".join(errors), sent[:2000].decode("utf-8", "replace")))

    def check(self, method, path, status, headers, body, sent=None):
        """Raises OpenApiMismatch unless the answer fits the document (and,
        for a 2xx, the body `sent` fits the operation's requestBody)."""
        if sent and 200 <= status < 300:
            self.check_request(method, path, status, sent)
        what, responses = self.responses_for(method, path)
        resp = responses.get(str(status))
        if resp is None:
            raise OpenApiMismatch("openapi: %s %s answered %d, which %s does not list (it lists %s); body: %r"
                                  % (method, path, status, what, ", ".join(sorted(responses)), body[:300]))
        resp = self.deref(resp)
        content = resp.get("content")
        ctype = (headers.get("Content-Type") if headers is not None else None) or ""
        if not content:
            if body:
                raise OpenApiMismatch("openapi: %s %s answered %d with a body (%s), %s has none: %r"
                                      % (method, path, status, ctype, what, body[:300]))
            return what
        if method.upper() == "HEAD":
            return what
        base = ctype.split(";", 1)[0].strip().lower()
        media = None
        for key, value in content.items():
            if key.split(";", 1)[0].strip().lower() == base:
                media = value
                break
        if media is None:
            raise OpenApiMismatch("openapi: %s %s answered %d as %r, %s says %s; body: %r"
                                  % (method, path, status, ctype, what, ", ".join(content), body[:300]))
        schema = media.get("schema", {})
        if schema.get("format") == "binary":
            # bytes (a picture, a video segment): what they are is the
            # test's to check; the document says only that they come
            if not body:
                raise OpenApiMismatch("openapi: %s %s answered %d as %r with no bytes"
                                      % (method, path, status, ctype))
            if base == "image/jpeg" and not body.startswith(b"\xff\xd8"):
                raise OpenApiMismatch("openapi: %s %s answered %d as image/jpeg, but not with a JPEG: %r"
                                      % (method, path, status, body[:16]))
            return what
        if base == "application/json":
            try:
                instance = json.loads(body)
            except ValueError as e:
                raise OpenApiMismatch("openapi: %s %s answered %d with a body that is not JSON (%s): %r"
                                      % (method, path, status, e, body[:300]))
        else:
            try:
                instance = body.decode("utf-8")
            except UnicodeDecodeError as e:
                raise OpenApiMismatch("openapi: %s %s answered %d with text that is not UTF-8: %s"
                                      % (method, path, status, e))
        errors = self.schema_errors(schema, instance)
        if errors:
            raise OpenApiMismatch("openapi: %s %s answered %d, which does not fit %s:\n  %s\nbody: %s"
                                  % (method, path, status, what, "\n  ".join(errors),
                                     body[:2000].decode("utf-8", "replace")))
        return what


# --------------------------------------------------------------------------
# the one checker of the test process

_lock = threading.Lock()
_api = None
_checked = 0
_by_operation = {}
_failures = []


_unavailable = None


def api():
    """The checker, or None when python3-jsonschema does not import and
    the check is not required."""
    global _api, _unavailable
    with _lock:
        if _api is None and _unavailable is None:
            try:
                _api = OpenApi.load()
            except ImportError as e:
                _unavailable = e
                if os.environ.get("MROUTE_OPENAPI_CHECK") != "require":
                    sys.stderr.write("openapi: answers not checked: %s under %s (install "
                                     "python3-jsonschema)\n" % (e, sys.executable))
        if _api is None and os.environ.get("MROUTE_OPENAPI_CHECK") == "require":
            raise OpenApiMismatch(
                    "openapi: the answers cannot be checked: %s under %s; install python3-jsonschema "
                    "(scripts/install-deps.sh) and run the tests with /usr/bin/python3, or set "
                    "MROUTE_OPENAPI_CHECK=0" % (_unavailable, sys.executable))
        return _api


def check(method, path, status, headers, body, sent=None):
    """Checks one answer (see the module's doc); counts it."""
    global _checked
    if not enabled():
        return
    checker = api()
    if checker is None:
        return
    try:
        what = checker.check(method, path, status, headers, body or b"", sent=sent)
    except OpenApiMismatch as e:
        with _lock:
            _failures.append(str(e))
        raise
    with _lock:
        _checked += 1
        key = "%s %d" % (what, status)
        _by_operation[key] = _by_operation.get(key, 0) + 1


def failures_since(n):
    """The mismatches recorded after the first n."""
    with _lock:
        return list(_failures[n:])


def failure_count():
    with _lock:
        return len(_failures)


def checked():
    with _lock:
        return _checked, dict(_by_operation)


@atexit.register
def _summary():
    if not enabled() or not (_checked or _failures):
        return
    sys.stderr.write("openapi: %d answers checked against controller/api/openapi.json "
                     "(%d operation/status pairs), %d did not fit\n"
                     % (_checked, len(_by_operation), len(_failures)))
    stats = os.environ.get("MROUTE_OPENAPI_STATS")
    if stats:
        with open(stats, "a") as f:
            f.write(json.dumps({"test": os.path.basename(sys.argv[0]), "checked": _checked,
                                "failures": len(_failures), "by_operation": _by_operation}) + "\n")
