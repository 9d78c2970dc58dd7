#!/usr/bin/python3
"""Write the hostile and broken inputs named in MANIFEST.tsv into OUTDIR (stdlib only).

Every file is crafted byte by byte: pickles from opcodes (never by pickling or unpickling),
zips from local headers and central directories, TFRecords with their CRC32C. The special
names @missing, @dir and @fifo in the manifest are made by tests/bad-inputs.sh.
usage: make-bad.py OUTDIR
"""
import os
import struct
import sys
import zlib

OUT = sys.argv[1]


def put(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# ---- .npy ----
def npy(shape="(4, 8)", descr="<f4", data=None, version=1, extra="", magic=b"\x93NUMPY", hlen=None):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, %s}" % (descr, shape, extra)
    pre = 10 if version == 1 else 12
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    n = len(h) if hlen is None else hlen
    lenb = struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
    if data is None:
        data = struct.pack("<32f", *[i / 7 for i in range(32)])
    return magic + bytes([version, 0]) + lenb + h.encode() + data


def npy_files():
    good = npy()
    for cut in (3, 7, 9, 40, 127, 128, 200, len(good) - 1):
        put("npy-trunc-%d.npy" % cut, good[:cut])
    put("npy-magic.npy", npy(magic=b"\x93NUMPX"))
    put("npy-version.npy", good[:6] + b"\x09\x00" + good[8:])
    put("npy-shape-lie.npy", npy(shape="(1000, 1000)"))
    put("npy-shape-overflow.npy", npy(shape="(1099511627776, 1099511627776)", descr="<f8"))
    put("npy-shape-wrap.npy", npy(shape="(4294967296, 4294967296, 1)"))  # 2^64 elements wraps to 0
    put("npy-bytes-wrap.npy", npy(shape="(4611686018427387904,)"))  # x 4 bytes wraps to 0
    put("npy-shape-negative.npy", npy(shape="(-1, 8)"))
    put("npy-dtype-object.npy", npy(descr="|O"))
    put("npy-dtype-int.npy", npy(descr="<i8", data=b"\0" * 256))
    put("npy-headerlen.npy", npy(hlen=0xFFFF))
    put("npy-headerlen-v2.npy", npy(version=2, hlen=0xFFFFFFFF))
    put("npy-nested.npy", npy(shape="(" * 5000 + ")" * 5000))
    put("npy-nan.npy", npy(data=struct.pack("<32f", *([float("nan")] * 32))))
    put("npy-inf.npy", npy(data=struct.pack("<32f", *([float("inf"), float("-inf")] * 16))))
    put("npy-empty-shape.npy", npy(shape="(0, 8)", data=b""))
    put("npy-3d.npy", npy(shape="(2, 4, 4)"))


# ---- zip (npz, torch.save) ----
def zip_file(entries, cd_override=None):
    """entries: (name, data, method, declared_size or None, crc or None). Returns bytes."""
    out, cd = b"", b""
    for i, (name, data, method, size, crc) in enumerate(entries):
        nb = name.encode()
        comp = zlib.compress(data)[2:-4] if method == 8 else data
        crc = zlib.crc32(data) if crc is None else crc
        usize = len(data) if size is None else size
        off = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(comp),
                           usize & 0xFFFFFFFF, len(nb), 0) + nb + comp
        if cd_override and i in cd_override:
            off = cd_override[i]
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(comp),
                          usize & 0xFFFFFFFF, len(nb), 0, 0, 0, 0, 0, off) + nb
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), len(out), 0)
    return out + cd + eocd


def npz_files():
    a = npy()
    good = zip_file([("emb.npy", a, 0, None, None), ("pos.npy", a, 8, None, None)])
    for cut in (2, 30, 100, len(good) // 2, len(good) - 10):
        put("npz-trunc-%d.npz" % cut, good[:cut])
    put("npz-overlap.npz", zip_file([("a.npy", a, 0, None, None), ("b.npy", a, 0, None, None)], {1: 0}))
    big = npy(shape="(5000, 5000)", data=b"\0" * (5000 * 5000 * 4))
    put("npz-bomb.npz", zip_file([("bomb.npy", big, 8, None, None)]))
    put("npz-bomb-lie.npz", zip_file([("bomb.npy", npy(shape="(4, 8)", data=b"\0" * 40000000), 8, 128, None)]))
    put("npz-huge-entry.npz", zip_file([("huge.npy", a, 0, 0xFFFFFFF0, None)]))
    put("npz-bad-crc.npz", zip_file([("emb.npy", a, 0, None, 0x12345678)]))
    put("npz-method.npz", zip_file([("emb.npy", a, 99, None, None)]))
    put("npz-not-npy.npz", zip_file([("emb.npy", b"this is not an array\n" * 10, 0, None, None)]))
    put("npz-empty.npz", zip_file([]))


# ---- safetensors ----
def st(header, data=b"\0" * 128, hlen=None):
    h = header.encode()
    return struct.pack("<Q", len(h) if hlen is None else hlen) + h + data


def st_files():
    ok = '{"pos":{"dtype":"F32","shape":[4,8],"data_offsets":[0,128]}}'
    good = st(ok)
    for cut in (4, 8, 20, len(good) - 1):
        put("st-trunc-%d.safetensors" % cut, good[:cut])
    put("st-headerlen.safetensors", st(ok, hlen=1 << 40))
    put("st-headerlen-max.safetensors", st(ok, hlen=(1 << 64) - 1))
    put("st-offsets.safetensors", st('{"pos":{"dtype":"F32","shape":[4,8],"data_offsets":[0,99999999]}}'))
    put("st-offsets-reversed.safetensors", st('{"pos":{"dtype":"F32","shape":[0,8],"data_offsets":[128,0]}}'))
    put("st-shape-overflow.safetensors",
        st('{"pos":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}'))
    put("st-shape-mismatch.safetensors", st('{"pos":{"dtype":"F64","shape":[4,8],"data_offsets":[0,128]}}'))
    put("st-dtype.safetensors", st('{"pos":{"dtype":"I64","shape":[4,4],"data_offsets":[0,128]}}'))
    put("st-nested.safetensors", st('{"a":' + "[" * 100000 + "]" * 100000 + "}"))
    put("st-not-object.safetensors", st('[1, 2, 3]'))
    put("st-nan.safetensors", st(ok, struct.pack("<32f", *([float("nan")] * 32))))


# ---- pickles, crafted opcode by opcode ----
def pk_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def pk_global(mod, name):
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def torch_zip(pickle_bytes, storages=None, truncate=None, method=0):
    ents = [("archive/data.pkl", pickle_bytes, 0, None, None), ("archive/byteorder", b"little", 0, None, None)]
    ents += [("archive/data/" + k, v, method, None, None) for k, v in (storages or {}).items()]
    return zip_file(ents)


def tensor_pickle(numel, size, offset=0, stride=None):
    tup = lambda xs: b"(" + b"".join(b"\x8a\x08" + struct.pack("<q", x) for x in xs) + b"t"
    stride = stride or [size[1], 1]
    pid = (b"(" + pk_str("storage") + pk_global("torch", "FloatStorage") + pk_str("0") + pk_str("cpu")
           + b"J" + struct.pack("<i", numel) + b"tQ")
    t = (pk_global("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + b"J" + struct.pack("<i", offset)
         + tup(size) + tup(stride) + b"\x89" + pk_global("collections", "OrderedDict") + b")R" + b"tR")
    return b"\x80\x02}" + pk_str("pos_embed") + t + b"s."


def scalars_pickle(keys, numel):
    """A list of 0-dim tensors, element i on FloatStorage keys[i]; memo keeps each ~20 bytes."""
    out = b"\x80\x02]q\x00("
    for i, key in enumerate(keys):
        if i == 0:
            head = pk_global("torch._utils", "_rebuild_tensor_v2") + b"q\x01"
            cls = pk_global("torch", "FloatStorage") + b"q\x02"
            od = pk_global("collections", "OrderedDict") + b"q\x03"
        else:
            head, cls, od = b"h\x01", b"h\x02", b"h\x03"
        pid = (b"(" + pk_str("storage") + cls + pk_str(key) + pk_str("cpu") + b"J"
               + struct.pack("<i", numel) + b"tQ")
        out += head + b"(" + pid + b"J" + struct.pack("<i", i) + b")" + b")" + b"\x89" + od + b")R" + b"tR"
    return out + b"e."


def torch_files():
    store = {"0": struct.pack("<32f", *range(32))}
    good = torch_zip(tensor_pickle(32, [4, 8]), store)
    for cut in (10, 100, len(good) // 2, len(good) - 5):
        put("pt-trunc-%d.pt" % cut, good[:cut])
    call = lambda mod, name, arg: b"\x80\x02" + pk_global(mod, name) + b"(" + pk_str(arg) + b"tR."
    put("pt-os-system.pt", torch_zip(call("os", "system", "touch /tmp/trainplot-pwned")))
    put("pt-posix-system.pt", torch_zip(call("posix", "system", "touch /tmp/trainplot-pwned")))
    put("pt-builtins-eval.pt", torch_zip(call("builtins", "eval", "__import__('os').system('id')")))
    put("pt-stack-global.pt", torch_zip(b"\x80\x04" + b"\x8c\x02os\x8c\x06system\x93" + b"\x8c\x02id\x85R."))
    put("pt-inst-popen.pt", torch_zip(b"(" + pk_str("id") + b"isubprocess\nPopen\n."))
    magic = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"."
    legacy = magic + b"\x80\x02M\xe9\x03." + b"\x80\x02}q\x00."
    put("pt-legacy-eval.pt", legacy + call("builtins", "eval", "1+1"))
    put("pt-legacy-trunc.pt", legacy[:20])
    put("pt-deep-list.pt", torch_zip(b"\x80\x02" + b"]" * 200000 + b"a" * 199999 + b"."))
    put("pt-deep-dict.pt", torch_zip(b"\x80\x02" + (b"}" + pk_str("k")) * 100000 + b"}" + b"s" * 100000 + b"."))
    put("pt-huge-string.pt", torch_zip(b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b"abc."))
    put("pt-memo.pt", torch_zip(b"\x80\x02]r\xff\xff\xff\xffh\x05."))
    put("pt-opcode.pt", torch_zip(b"\x80\x02\xff."))
    put("pt-proto.pt", torch_zip(b"\x80\x63N."))
    put("pt-no-stop.pt", torch_zip(b"\x80\x02}"))
    put("pt-no-datapkl.pt", zip_file([("archive/other", b"x", 0, None, None)]))
    put("pt-storage-short.pt", torch_zip(tensor_pickle(32, [4, 8]), {"0": b"\0" * 64}))
    put("pt-shape-lie.pt", torch_zip(tensor_pickle(32, [400, 8]), store))
    put("pt-shape-overflow.pt", torch_zip(tensor_pickle(32, [1 << 40, 1 << 40]), store))
    put("pt-stride-huge.pt", torch_zip(tensor_pickle(32, [4, 8], stride=[1 << 62, 1]), store))
    put("pt-offset-huge.pt", torch_zip(tensor_pickle(32, [4, 8], offset=0x7FFFFFFF), store))
    put("pt-legacy-magic.pt", b"\x80\x02\x8a\x0a" + b"\x00" * 10 + b".")
    # 20 KB: 600 scalars on one deflated 8 MiB storage (read per element, 4.8 GB)
    put("pt-shared-storage.pt", torch_zip(scalars_pickle(["0"] * 600, 2 << 20), {"0": bytes(8 << 20)}, method=8))
    # 40 storages of 8 MiB: each under the 256M the harness sets, together over it
    keys = [str(i) for i in range(40)]
    put("pt-many-storages.pt", torch_zip(scalars_pickle(keys, 2 << 20), {k: bytes(8 << 20) for k in keys}, method=8))
    # a dict holding itself under "a" and "a.a"; the manifest asks for a key of 45 segments
    put("pt-self-dict.pt", torch_zip(b"\x80\x02}q\x00(" + pk_str("a") + b"h\x00" + pk_str("a.a") + b"h\x00u."))


# ---- text matrices ----
def text_files():
    put("txt-ragged.txt", "1 2 3\n4 5\n6 7 8\n")
    put("txt-nan.txt", "nan nan\nnan nan\n")
    put("txt-binary.txt", b"\x00\x01\x02\xff" * 64)


# ---- TFRecord ----
CRC_T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC_T.append(c)


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = CRC_T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def record(data, len_crc=None, data_crc=None, length=None):
    n = struct.pack("<Q", len(data) if length is None else length)
    return (n + struct.pack("<I", masked(crc32c(n)) if len_crc is None else len_crc) + data
            + struct.pack("<I", masked(crc32c(data)) if data_crc is None else data_crc))


def event(step, value, tag=b"train/grad_norm"):
    val = b"\x0a" + bytes([len(tag)]) + tag + b"\x15" + struct.pack("<f", value)
    summ = b"\x0a" + bytes([len(val)]) + val
    return b"\x09" + struct.pack("<d", 1.7e9) + b"\x10" + bytes([step]) + b"\x2a" + bytes([len(summ)]) + summ


def tf_files():
    head = record(b"\x09" + struct.pack("<d", 1.7e9) + b"\x1a\x0dbrain.Event:2")
    recs = b"".join(record(event(s, 1.0)) for s in range(1, 20))
    put("tf-data-crc.tfevents", head + record(event(1, 1.0), data_crc=0xDEADBEEF) + recs)
    put("tf-all-crc.tfevents", head + b"".join(record(event(s, 1.0), data_crc=s) for s in range(1, 20)))
    put("tf-len-crc.tfevents", head + record(event(1, 1.0), len_crc=0) + recs)
    put("tf-length.tfevents", head + record(event(1, 1.0), length=1 << 62))
    put("tf-trunc.tfevents", (head + recs)[:len(head) + 30])
    put("tf-garbage-proto.tfevents", head + record(b"\xff" * 40))
    put("tf-nan.tfevents", head + b"".join(record(event(s, float("nan"))) for s in range(1, 20)))
    # record 2 claims 2^40 bytes with a valid length CRC; the 19 records after it still count
    put("tf-huge-mid.tfevents", head + record(event(1, 1.0), length=1 << 40) + recs)
    put("tf-nul-tag.tfevents", head + b"".join(record(event(s, 1.0, b"train/grad_norm\0evil"))
                                               for s in range(1, 20)))


# ---- text logs ----
def log_files():
    put("log-empty.log", "")
    put("log-garbage.log", "hello world\nthis is not a log\n" * 20)
    put("log-binary.log", bytes(range(256)) * 8)
    put("log-fairseq-nan.log", "".join(
        "| INFO | train_inner | epoch 001:  %d / 9 loss=3.1, gnorm=nan, num_updates=%d, wall=1\n" % (i, i)
        for i in range(1, 9)))
    put("log-plain-inf.log", "".join("%d inf\n" % i for i in range(20)))
    put("log-hf-trunc.json", '{"log_history": [{"grad_norm": 1.5, "step": 1}, {"grad_norm": 2.')
    put("log-hf-nested.json", '{"log_history": ' + "[" * 100000 + "]" * 100000 + "}")
    put("log-hf-nokey.json", '{"log_history": [{"loss": 1.5, "step": 1}, {"loss": 2.0, "step": 2}]}')
    put("log-jsonl-bad.jsonl", '{"step": 1, "grad_norm": \n{{{{\n[1,2\n')
    put("log-csv-header-only.csv", "step,grad_norm\n")
    put("log-megatron-nan.log", "".join(
        " iteration %8d/    1000 | lm loss: 2.6E+01 | grad norm: nan | number of skipped iterations:   0 |\n" % i
        for i in range(1, 9)))
    put("log-npy-overflow.npy", npy(shape="(4611686018427387904,)"))
    put("log-pt-os-system.pt", torch_zip(b"\x80\x02" + pk_global("os", "system") + b"(" + pk_str("id") + b"tR."))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for f in (npy_files, npz_files, st_files, torch_files, text_files, tf_files, log_files):
        f()
