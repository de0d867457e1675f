#!/usr/bin/env python3
"""Writes the seed corpus of the rtmp-chunk fuzz target
(tests/fuzz/corpus-rtmp-chunk/): chunk streams as publishers send them
after the handshake, each file a split byte and the stream.

    python3 tests/fuzz/make-rtmp-chunk-corpus.py tests/fuzz/corpus-rtmp-chunk
"""

import os
import struct
import sys


def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(n):
    return b"\x00" + struct.pack(">d", n)


def amf_obj(pairs):
    out = b"\x03"
    for k, v in pairs:
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + v
    return out + b"\x00\x00\x09"


def basic(fmt, csid):
    if csid < 64:
        return bytes([(fmt << 6) | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([(fmt << 6) | 1, (csid - 64) & 0xFF, (csid - 64) >> 8])


def chunks(csid, mtype, ts, sid, payload, size=128, fmt0=0):
    """payload in chunks: a type fmt0 header then type 3"""
    ext = ts >= 0xFFFFFF
    tsf = 0xFFFFFF if ext else ts
    hdr = basic(fmt0, csid)
    if fmt0 <= 2:
        hdr += struct.pack(">I", tsf)[1:]
    if fmt0 <= 1:
        hdr += struct.pack(">I", len(payload))[1:] + bytes([mtype])
    if fmt0 == 0:
        hdr += struct.pack("<I", sid)
    if ext:
        hdr += struct.pack(">I", ts)
    out = hdr + payload[:size]
    pos = size
    while pos < len(payload):
        out += basic(3, csid) + (struct.pack(">I", ts) if ext else b"")
        out += payload[pos:pos + size]
        pos += size
    return out


connect = (amf_str("connect") + amf_num(1) +
           amf_obj([("app", amf_str("live")), ("type", amf_str("nonprivate")),
                    ("flashVer", amf_str("FMLE/3.0")),
                    ("tcUrl", amf_str("rtmp://127.0.0.1:1935/live"))]))
publish = amf_str("publish") + amf_num(5) + b"\x05" + amf_str("key") + amf_str("live")
meta = (amf_str("@setDataFrame") + amf_str("onMetaData") +
        b"\x08\x00\x00\x00\x02" + struct.pack(">H", 5) + b"width" + amf_num(320)[0:9] +
        struct.pack(">H", 12) + b"videocodecid" + amf_num(7) + b"\x00\x00\x09")
avc_seq = bytes([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1F, 0xFF, 0xE1, 0, 4, 0x67, 0x64, 0, 0x1F, 1, 0, 4, 0x68, 0xEE, 0x3C, 0x80])
frame = bytes([0x27, 1, 0, 0, 0]) + bytes(range(256)) * 6
aac = bytes([0xAF, 1]) + bytes(200)

seeds = {
    "connect": b"\x00" + chunks(3, 20, 0, 0, connect),
    "connect-split7": b"\x07" + chunks(3, 20, 0, 0, connect),
    "set-chunk-size-then-video": b"\x00" + chunks(2, 1, 0, 0, struct.pack(">I", 4096)) +
    chunks(3, 20, 0, 1, publish) + chunks(6, 9, 0, 1, frame, 4096),
    "metadata-and-media": b"\x00" + chunks(4, 18, 0, 1, meta) + chunks(6, 9, 0, 1, avc_seq) +
    chunks(4, 8, 0, 1, aac) + chunks(6, 9, 40, 1, frame, fmt0=0),
    "extended-timestamp": b"\x00" + chunks(6, 9, 0x1000000, 1, frame),
    "type1-type2-type3": b"\x00" + chunks(6, 9, 0, 1, aac) + chunks(6, 9, 40, 1, aac, fmt0=1) +
    chunks(6, 9, 40, 1, aac, fmt0=2) + chunks(6, 9, 40, 1, aac, fmt0=3),
    "two-byte-csid": b"\x00" + chunks(100, 8, 10, 1, aac),
    "three-byte-csid": b"\x03" + chunks(1000, 8, 10, 1, aac),
    "abort": b"\x00" + chunks(2, 2, 0, 0, struct.pack(">I", 6)) + chunks(6, 9, 0, 1, aac),
    "ack-window": b"\x00" + chunks(2, 5, 0, 0, struct.pack(">I", 2500000)) +
    chunks(2, 3, 0, 0, struct.pack(">I", 12345)),
}

# two chunk streams interleaved chunk by chunk
a = chunks(6, 9, 0, 1, frame)
b = chunks(4, 8, 0, 1, aac + aac)
def split_chunks(data, first, size=128):
    out = [data[:first + size]]
    pos = first + size
    while pos < len(data):
        out.append(data[pos:pos + 1 + size])
        pos += 1 + size
    return out
ca, cb = split_chunks(a, 12), split_chunks(b, 12)
inter = b""
for i in range(max(len(ca), len(cb))):
    inter += (ca[i] if i < len(ca) else b"") + (cb[i] if i < len(cb) else b"")
seeds["interleaved"] = b"\x00" + inter

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
