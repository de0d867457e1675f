"""The garbage request generator of bench/soak.py, part 4.

`request(seed, index, ctx)` returns one HTTP/1.1 request as bytes, made
from random.Random("SEED-INDEX") alone: request INDEX of a run with SEED can
be made again on its own (`soak.py --part 4 --seed SEED --replay INDEX`).
Nothing here talks to the network.

`ctx` names what the generator may aim at: `live_id` (the live flow, which
is only ever read: GET, HEAD or a method the API does not have, so a valid
request cannot stop it), `decoy_id` (a flow that garbage may legitimately
change or delete), `max_body` (the controller's body limit, 1 MiB).

What it makes: methods (the API's, others, lower case, random tokens, bytes
that are not a token), paths under / and /v1/... (the API's own with
random ids and names, percent-encoding, dot segments, invalid UTF-8, NUL,
very long), query strings, random headers (names, values, duplicates,
huge, non-ASCII, Expect: 100-continue, a wrong X-API-Key, chunked transfer
encoding, Content-Length that lies or is not a number), and bodies: random
bytes, deep nesting, invalid UTF-8 inside JSON strings, huge numbers,
wrong types in otherwise valid flow bodies, strings up to the body limit
and past it.  A request whose Content-Length promises more than it sends
is marked `truncated`: its sender closes the socket without waiting for
an answer."""

import json
import random

METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE",
           "CONNECT", "get", "Post", "PROPFIND", "M-SEARCH", "BREW"]
READ_ONLY_ON_LIVE = ["GET", "HEAD", "OPTIONS", "PATCH", "TRACE", "get", "PROPFIND"]
SUBPATHS = ["", "/start", "/stop", "/source", "/source/primary", "/source/x",
            "/outputs", "/outputs/out", "/outputs/x", "/metrics", "/events",
            "/events?limit=1", "/thumbnail", "/metadata", "/content-quality", "/"]
ROOTS = ["/", "/health", "/metrics", "/v1", "/v1/", "/v1/flows", "/v1/flows/",
         "/v1/events", "/v1/mediamtx/events/ready", "/v1/mediamtx/events/not-ready",
         "/v1/mediamtx", "/v2/flows", "//v1//flows", "/v1/flows/../health", "*"]
PROTOCOLS = ["udp", "rtp", "rtp-fec", "rist", "srt-listener", "srt-caller", "rtmp"]
WEIRD_VALUES = [None, True, False, 0, -1, 1.5, 1e308, -1e308, 10 ** 30, -(10 ** 30),
                "", "x", [], {}, [1, 2], {"a": 1}, "\u0000", "\ud7ff", "\U0001F600",
                65536, 2 ** 63, -(2 ** 63) - 1, "65535", "1e3"]


def _token(rng, n):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")
                   for _ in range(n))


def _valid_flow(rng, live_port_free=True):
    """A well-formed create body (ports in the private range the API accepts
    but nothing listens on: a flow that garbage creates is never started by
    garbage, it does not know the new id)."""
    body = {"name": "garbage-" + _token(rng, 6),
            "source": {"name": "primary", "protocol": "udp",
                       "ingest_port": rng.randint(1024, 65535)},
            "outputs": [{"name": "out", "protocol": "udp", "destination": "127.0.0.1",
                         "port": rng.randint(1024, 65535)}]}
    return body


def _mutate(rng, obj, depth=0):
    """Replaces one value somewhere in obj by a value of the wrong type or
    range, or adds an unknown field."""
    if isinstance(obj, dict) and obj:
        key = rng.choice(list(obj.keys()))
        r = rng.random()
        if r < 0.15:
            obj[_token(rng, rng.randint(1, 12))] = rng.choice(WEIRD_VALUES)
        elif r < 0.25:
            del obj[key]
        elif isinstance(obj[key], (dict, list)) and depth < 4 and rng.random() < 0.6:
            _mutate(rng, obj[key], depth + 1)
        else:
            obj[key] = rng.choice(WEIRD_VALUES)
    elif isinstance(obj, list) and obj:
        i = rng.randrange(len(obj))
        if isinstance(obj[i], (dict, list)) and depth < 4 and rng.random() < 0.6:
            _mutate(rng, obj[i], depth + 1)
        else:
            obj[i] = rng.choice(WEIRD_VALUES)
    return obj


def _deep(rng):
    n = rng.choice([10, 63, 64, 65, 100, 1000, 10000, 100000, 500000])
    kind = rng.random()
    if kind < 0.4:
        return b"[" * n + b"]" * n
    if kind < 0.7:
        return b'{"a":' * n + b"1" + b"}" * n
    if kind < 0.85:
        return b"[" * n                       # never closed
    return (b'{"name":"d","source":' + b'{"x":' * n + b"0" + b"}" * n + b"}")


def _invalid_utf8(rng):
    bad = rng.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                      b"\xe2\x82", b"\x80", b"\xfe\xfe\xff"])
    where = rng.random()
    if where < 0.4:
        return b'{"name": "' + b"abc" + bad * rng.randint(1, 50) + b'"}'
    if where < 0.7:
        return (b'{"name": "ok", "source": {"name": "' + bad + b'", "protocol": "udp", '
                b'"ingest_port": 5000}}')
    return b'{"' + bad + b'": 1}'


def _huge_number(rng):
    return rng.choice([
        b'{"name": "n", "source": {"name": "p", "protocol": "udp", "ingest_port": 1e400}}',
        b'{"name": "n", "source": {"name": "p", "protocol": "udp", "ingest_port": '
        + b"9" * rng.choice([20, 400, 5000, 100000]) + b"}}",
        b'{"name": "n", "source": {"name": "p", "protocol": "udp", "ingest_port": -'
        + b"9" * 40 + b"}}",
        b'{"port": 1' + b"0" * 500 + b"}",
        b'{"port": 0.' + b"0" * 1000 + b"1}",
        b'{"limit": 18446744073709551617}',
        b'{"port": NaN}', b'{"port": Infinity}', b'{"port": -0}', b'{"port": 1e-400}',
        b'{"recovery_window": 1e18}',
    ])


def _huge_string(rng, max_body):
    """A JSON string body of about max_body bytes: just under, exactly at,
    or past the limit."""
    target = rng.choice([max_body - 100, max_body, max_body + 1, max_body + 4096,
                         2 * max_body, rng.randint(1000, max_body)])
    head = b'{"name": "'
    tail = b'"}'
    fill = max(0, target - len(head) - len(tail))
    ch = rng.choice([b"a", b"\\u00e9", b"\xc3\xa9", b"\\\\"])
    body = head + (ch * (fill // len(ch) + 1))[:fill] + tail
    return body


def _body(rng, ctx):
    r = rng.random()
    if r < 0.18:
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 7, 100, 1000, 4000])))
    if r < 0.30:
        return _deep(rng)
    if r < 0.40:
        return _invalid_utf8(rng)
    if r < 0.50:
        return _huge_number(rng)
    if r < 0.78:
        body = _valid_flow(rng)
        for _ in range(rng.randint(1, 3)):
            _mutate(rng, body)
        if rng.random() < 0.2:
            body = rng.choice([[body], "string", 5, None, True])
        return json.dumps(body).encode()
    if r < 0.84:
        return json.dumps({"path": rng.choice(["live/%s/in" % _token(rng, 5), "", "x" * 5000,
                                               None, 5, "live//in"]),
                           "query": rng.choice(["", "a=b", None, 1]),
                           "sourceType": rng.choice(["rtmpConn", 7, None]),
                           "sourceId": rng.choice(["1", [], None])}).encode()
    if r < 0.87:
        return _huge_string(rng, ctx["max_body"])
    if r < 0.93:
        return rng.choice([b"", b"{}", b"[]", b"null", b"0", b'"x"', b"{", b"}", b'{"a":}',
                           b"\x00", b"\xef\xbb\xbf{}", b"{}{}", b"{} garbage"])
    # output and source bodies with wrong types
    out = {"name": "o" + _token(rng, 4), "protocol": rng.choice(PROTOCOLS),
           "destination": "127.0.0.1", "port": rng.randint(1024, 65535)}
    return json.dumps(_mutate(rng, out)).encode()


def _path(rng, ctx, method):
    r = rng.random()
    writes = method.upper() in ("POST", "PUT", "DELETE") or method not in READ_ONLY_ON_LIVE
    if r < 0.3:
        p = rng.choice(ROOTS)
    elif r < 0.75:
        if writes:
            fid = rng.choice([ctx["decoy_id"], "flow_" + _token(rng, 12), "flow_000000000000",
                              _token(rng, rng.randint(0, 40)), "%00", "..", "%2e%2e"])
        else:
            fid = rng.choice([ctx["live_id"], ctx["decoy_id"], "flow_" + _token(rng, 12)])
        p = "/v1/flows/" + fid + rng.choice(SUBPATHS)
    elif r < 0.85:
        p = "/" + "/".join(_token(rng, rng.randint(0, 10)) for _ in range(rng.randint(1, 6)))
    elif r < 0.9:
        p = "/v1/flows/" + "a" * rng.choice([256, 4096, 65536])
    else:
        p = "/v1/" + "".join(rng.choice(["%", "%zz", "%ff", "%00", "%c0%af", "?", "#", ";",
                                         "&", "=", "../", "//", "~", "\\"])
                             for _ in range(rng.randint(1, 20)))
    if rng.random() < 0.2:
        p += "?" + "&".join("%s=%s" % (rng.choice(["limit", "x", "", "api_key", "limit"]),
                                       rng.choice(["1", "0", "-1", "10001", "abc", "1e9",
                                                   "99999999999999999999", "", "%ff"]))
                            for _ in range(rng.randint(1, 4)))
    raw = p.encode("utf-8", "surrogateescape")
    if rng.random() < 0.03:
        raw += rng.choice([b"\xff\xfe", b"\x00", b"\xc3", b" HTTP/1.1"])
    return raw


def _method(rng):
    r = rng.random()
    if r < 0.85:
        return rng.choice(METHODS)
    if r < 0.95:
        return _token(rng, rng.randint(1, 20)).upper()
    return rng.choice(["", "G ET", "GET\x00", "\xff\xfe", "(", "POST\t"])


def request(seed, index, ctx):
    """Returns (bytes, info): info has `method`, `path` (short, for
    reports), `truncated` (the body is shorter than its Content-Length),
    `kind`."""
    rng = random.Random("%s-%d" % (seed, index))
    method = _method(rng)
    if method.upper() in ("POST", "PUT", "DELETE") or method not in READ_ONLY_ON_LIVE:
        path = _path(rng, ctx, "POST")
    else:
        path = _path(rng, ctx, method)
    has_body = rng.random() < (0.85 if method.upper() in ("POST", "PUT", "PATCH") else 0.2)
    body = _body(rng, ctx) if has_body else b""
    version = rng.choice([b"HTTP/1.1"] * 18 + [b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.x", b""])
    headers = [(b"Host", b"127.0.0.1"), (b"Connection", b"close")]
    truncated = False
    if body or rng.random() < 0.1:
        r = rng.random()
        if r < 0.85:
            headers.append((b"Content-Length", str(len(body)).encode()))
        elif r < 0.9:
            headers.append((b"Content-Length", rng.choice([b"-1", b"abc", b"1e3", b"",
                                                           b"99999999999999999999999",
                                                           b" 5", b"0x10"])))
        elif r < 0.95 and body:
            # promises more than it sends: the sender closes after the body
            headers.append((b"Content-Length", str(len(body) + rng.randint(1, 5000)).encode()))
            truncated = True
        else:
            headers.append((b"Transfer-Encoding", b"chunked"))
            body = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n" if body else b"0\r\n\r\n"
    if rng.random() < 0.5:
        headers.append((b"Content-Type", rng.choice([b"application/json", b"text/plain",
                                                     b"application/json; charset=latin1",
                                                     b"\xff", b"multipart/form-data"])))
    for _ in range(rng.choice([0, 0, 0, 1, 2, 5, 30])):
        name = _token(rng, rng.randint(1, 30)).encode()
        value = bytes(rng.choice(range(32, 127)) for _ in range(rng.randint(0, 60)))
        headers.append((name, value))
    r = rng.random()
    if r < 0.03:
        headers.append((b"X-Big", b"v" * rng.choice([8000, 70000, 300000])))
    elif r < 0.06:
        headers.append((b"Expect", b"100-continue"))
    elif r < 0.08:
        headers.append((b"X-API-Key", _token(rng, 40).encode()))
    elif r < 0.10:
        headers.append((b"X-Bin", bytes(rng.getrandbits(8) | 0x80 for _ in range(20))))
    elif r < 0.12:
        headers.append((b"NoColonHere", b""))
    elif r < 0.13:
        headers.extend([(b"Content-Length", b"5"), (b"Content-Length", b"7")])
    elif r < 0.14:
        headers.append((b"Host", b"evil.example"))
    if rng.random() < 0.3:
        rng.shuffle(headers)
    lines = [method.encode("utf-8", "surrogateescape") + b" " + path + (b" " + version if version else b"")]
    for name, value in headers:
        lines.append(name + b": " + value if value or name != b"NoColonHere" else name)
    eol = b"\r\n" if rng.random() < 0.95 else b"\n"
    raw = eol.join(lines) + eol + eol + body
    info = {"method": method, "path": path[:80].decode("latin-1"), "truncated": truncated,
            "body": len(body), "version": version.decode()}
    return raw, info
