#!/usr/bin/env python3
"""What test_multicast.py runs inside its network namespaces (with
`ip netns exec NS python3 mcast_ns_helper.py MODE ...`):

  http PORT          reads one JSON request a line on stdin
                     ([method, path, body or null]) and answers one JSON
                     line ({"status": ..., "body": ...}) from the controller
                     on 127.0.0.1:PORT of the namespace
  recv ADDR PORT IFACE OUT SECONDS
                     joins the multicast group ADDR on IFACE ("-": none, a
                     unicast ADDR is bound as it is), appends every datagram
                     to OUT, and on SIGTERM or after SECONDS writes
                     OUT.json: {"count": n, "hops": [TTL or hop limit seen],
                     "dscp": [DSCP seen]}
  send DEST PORT IFACE BIND RECORDS SKIP_MOD SKIP_REM GAP_MS [HOPS]
                     sends the datagrams of RECORDS (4-byte big-endian
                     length, then the datagram) to DEST:PORT out of IFACE,
                     from BIND, one every GAP_MS ms, leaving out those whose
                     index i has i % SKIP_MOD == SKIP_REM (SKIP_MOD 0: none)

Standard library only; every mode ends by itself."""

import http.client
import json
import signal
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def is_multicast(addr):
    if family(addr) == socket.AF_INET6:
        return addr.lower().startswith("ff")
    return 224 <= int(addr.split(".")[0]) <= 239


def http_mode(port):
    for line in sys.stdin:
        method, path, body = json.loads(line)
        try:
            c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            headers = {"Connection": "close"}
            data = None
            if body is not None:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            out = {"status": r.status, "body": r.read().decode("utf-8", "replace"),
                   "content_type": r.getheader("Content-Type")}
            c.close()
        except OSError as e:
            out = {"status": 0, "body": repr(e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def recv_mode(addr, port, iface, out, seconds):
    fam = family(addr)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    ifindex = socket.if_nametoindex(iface) if iface != "-" else 0
    if fam == socket.AF_INET:
        if is_multicast(addr):
            mreqn = socket.inet_aton(addr) + socket.inet_aton("0.0.0.0") + struct.pack("@i", ifindex)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVTTL", 12), 1)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    else:
        if is_multicast(addr):
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                         socket.inet_pton(fam, addr) + struct.pack("@I", ifindex))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, 1)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    s.settimeout(0.2)
    count, hops, dscps = 0, set(), set()
    tos_kinds = {(socket.IPPROTO_IP, socket.IP_TOS), (socket.IPPROTO_IPV6, socket.IPV6_TCLASS)}
    deadline = time.monotonic() + float(seconds)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    with open(out, "ab") as f:
        while not stop and time.monotonic() < deadline:
            try:
                data, anc, _, _ = s.recvmsg(65536, 256)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            f.write(data)
            f.flush()
            count += 1
            for level, kind, value in anc:
                n = struct.unpack("@i", value[:4])[0] if len(value) >= 4 else value[0]
                if (level, kind) in tos_kinds:
                    dscps.add(n >> 2)
                else:
                    hops.add(n)
    with open(out + ".json", "w") as f:
        json.dump({"count": count, "hops": sorted(hops), "dscp": sorted(dscps)}, f)


def send_mode(dest, port, iface, bind, records, skip_mod, skip_rem, gap_ms, hops="8"):
    fam = family(dest)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    ifindex = socket.if_nametoindex(iface) if iface != "-" else 0
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                     socket.inet_aton("0.0.0.0") + socket.inet_aton("0.0.0.0")
                     + struct.pack("@i", ifindex))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, int(hops))
    else:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, int(hops))
    skip_mod, skip_rem, gap = int(skip_mod), int(skip_rem), float(gap_ms) / 1000
    with open(records, "rb") as f:
        blob = f.read()
    i = off = 0
    while off < len(blob):
        n = struct.unpack(">I", blob[off:off + 4])[0]
        data = blob[off + 4:off + 4 + n]
        off += 4 + n
        if not (skip_mod and i % skip_mod == skip_rem):
            s.sendto(data, (dest, int(port)))
        i += 1
        time.sleep(gap)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"http": http_mode, "recv": recv_mode, "send": send_mode}[mode](*args)
