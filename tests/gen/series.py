#!/usr/bin/env python3
"""Write gradient-norm series in binary formats for test-series-readers.

usage: series.py OUTDIR
Writes OUTDIR/groups naming what it could write: "numpy", "torch", "tfevents".
TensorBoard files are framed by hand (TFRecord: u64 length, masked CRC32C of the length,
data, masked CRC32C of the data) around Event protobufs encoded by hand with the field
numbers of src/tp_tfevent.proto: no tensorflow package exists here, and an independent
writer checks the reader better than a shared one would.
"""
import os
import struct
import sys

VALUES = [0.5, 1.5, float("nan"), float("inf"), 2.0]


def crc32c(data):
    table = crc32c.table
    if table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        crc32c.table = table
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


crc32c.table = None


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def value_simple(tag, x):
    return field(1, 2, tag.encode()) + field(2, 5, struct.pack("<f", x))


def value_tensor(tag, x):
    tensor = field(1, 0, varint(2)) + field(6, 2, struct.pack("<d", x))  # DT_DOUBLE, double_val
    return field(1, 2, tag.encode()) + field(8, 2, tensor)


def event(step, values=(), version=None):
    body = field(1, 1, struct.pack("<d", 1.7e9 + step)) + field(2, 0, varint(step))
    if version:
        body += field(3, 2, version.encode())  # file_version: unknown to our .proto
    if values:
        body += field(5, 2, b"".join(field(1, 2, v) for v in values))
    return body


def frame(data):
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", masked(n)) + data + struct.pack("<I", masked(data))


def tfevents(out):
    recs = [event(0, version="brain.Event:2")]
    for i, x in enumerate(VALUES):
        step = 100 * (i + 1)
        recs.append(event(step, [value_simple("train/loss", 3.0 - i), value_simple("train/grad_norm", x)]))
    recs.append(event(700, [value_tensor("gnorm", 0.25)]))
    good = b"".join(frame(r) for r in recs)
    with open(os.path.join(out, "good.tfevents"), "wb") as f:
        f.write(good)
    bad = bytearray(good)  # flip one byte inside record 3's data: its data CRC fails
    off = 0
    for _ in range(2):
        off += 12 + struct.unpack_from("<Q", bad, off)[0] + 4
    bad[off + 12 + 3] ^= 0x40
    with open(os.path.join(out, "badcrc.tfevents"), "wb") as f:
        f.write(bad)
    badlen = bytearray(good)  # break record 2's length CRC: the framing is lost
    off = 12 + struct.unpack_from("<Q", badlen, 0)[0] + 4
    badlen[off + 8] ^= 0x01
    with open(os.path.join(out, "badlen.tfevents"), "wb") as f:
        f.write(badlen)
    with open(os.path.join(out, "cut.tfevents"), "wb") as f:  # still being written
        f.write(good[:-7])
    # record 4 claims 2^40 bytes with a valid length CRC: skipped up to record 5's frame
    n = struct.pack("<Q", 1 << 40)
    liar = n + struct.pack("<I", masked(n)) + recs[3][:10]
    with open(os.path.join(out, "hugelen.tfevents"), "wb") as f:
        f.write(b"".join(frame(r) for r in recs[:3]) + liar + b"".join(frame(r) for r in recs[3:]))
    with open(os.path.join(out, "hugelen-end.tfevents"), "wb") as f:  # nothing to resume at
        f.write(frame(recs[0]) + liar)
    evil = event(600, [value_simple("train/grad_norm\0evil", 9.0)])  # NUL inside the tag
    with open(os.path.join(out, "niltag.tfevents"), "wb") as f:
        f.write(good + frame(evil))
    with open(os.path.join(out, "niltag-only.tfevents"), "wb") as f:
        f.write(frame(recs[0]) + frame(evil))


def main():
    out = sys.argv[1]
    groups = []
    tfevents(out)
    groups.append("tfevents")
    try:
        import numpy as np

        np.save(os.path.join(out, "gn.npy"), np.array(VALUES, dtype=np.float32))
        np.save(os.path.join(out, "gn2d.npy"), np.ones((3, 4), dtype=np.float64))
        groups.append("numpy")
    except ImportError:
        pass
    try:
        import torch

        torch.save([torch.tensor(x) for x in VALUES], os.path.join(out, "gn_list.pt"))
        torch.save(torch.tensor(VALUES, dtype=torch.float64), os.path.join(out, "gn_1d.pt"))
        groups.append("torch")
    except ImportError:
        pass
    with open(os.path.join(out, "groups"), "w") as f:
        f.write(" ".join(groups) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
