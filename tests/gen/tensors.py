#!/usr/bin/python3
"""Write tensor-reader fixtures with the real writers (numpy, torch) into OUTDIR.

Each good file X gets X.ref: "ndim d0 d1 ..." then one value per line (%.17g),
the values exactly as stored, widened to float64. OUTDIR/groups lists the groups
written ("numpy", "torch", "plain"); a group whose library is missing is left
out so the C test can skip it with a reason.
"""
import io
import json
import os
import struct
import sys
import zipfile

OUT = sys.argv[1]
groups = ["plain"]


def path(name):
    return os.path.join(OUT, name)


def ref(name, shape, values):
    with open(path(name) + ".ref", "w") as f:
        f.write(" ".join(str(x) for x in [len(shape)] + list(shape)) + "\n")
        for v in values:
            f.write("%.17g\n" % v)


def cut(src, dst, keep):
    with open(path(src), "rb") as f:
        data = f.read()
    with open(path(dst), "wb") as f:
        f.write(data[:keep] if keep >= 0 else data[:len(data) + keep])


# ---- pickles crafted opcode by opcode (never produced by unpickling) ----
def pk_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def pk_global(mod, name):
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def pk_call(mod, name, arg):
    return pk_global(mod, name) + b"(" + pk_str(arg) + b"tR"


def torch_zip(name, pickle_bytes, storages=None, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path(name), "w", method) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        for key, data in (storages or {}).items():
            z.writestr("archive/data/" + key, data)


def tensor_pickle(numel, offset, size, stride):
    """_rebuild_tensor_v2 over one FloatStorage '0' of numel elements."""
    tup = lambda xs: b"(" + b"".join(b"J" + struct.pack("<i", x) for x in xs) + b"t"
    pid = (b"(" + pk_str("storage") + pk_global("torch", "FloatStorage") + pk_str("0")
           + pk_str("cpu") + b"J" + struct.pack("<i", numel) + b"tQ")
    return (b"\x80\x02" + pk_global("torch._utils", "_rebuild_tensor_v2") + b"(" + pid
            + b"J" + struct.pack("<i", offset) + tup(size) + tup(stride) + b"\x89"
            + pk_global("collections", "OrderedDict") + b")R" + b"tR.")


def scalars_pickle(keys, numel):
    """A list of 0-dim tensors, element i on FloatStorage keys[i] (memo makes each ~20 bytes)."""
    out = b"\x80\x02]q\x00("
    for i, key in enumerate(keys):
        if i == 0:
            head = pk_global("torch._utils", "_rebuild_tensor_v2") + b"q\x01"
            cls = pk_global("torch", "FloatStorage") + b"q\x02"
            od = pk_global("collections", "OrderedDict") + b"q\x03"
        else:
            head, cls, od = b"h\x01", b"h\x02", b"h\x03"
        pid = b"(" + pk_str("storage") + cls + pk_str(key) + pk_str("cpu") + b"J" + struct.pack("<i", numel) + b"tQ"
        out += head + b"(" + pid + b"J" + struct.pack("<i", i) + b")" + b")" + b"\x89" + od + b")R" + b"tR"
    return out + b"e."


def shared_storage_files():
    """Series of scalars on storages far bigger than the file: read once, limits on the sum."""
    mb = 1 << 20
    zeros = bytes(4 * mb)  # 1 Mi float32 zeros, a few KB once deflated
    torch_zip("torch_shared_series.pt", scalars_pickle(["0"] * 32, mb), {"0": zeros},
              zipfile.ZIP_DEFLATED)
    ref("torch_shared_series.pt", [32], [0.0] * 32)
    keys = [str(i) for i in range(8)]
    torch_zip("torch_many_storages.pt", scalars_pickle(keys, mb // 4),
              {k: bytes(mb) for k in keys}, zipfile.ZIP_DEFLATED)
    ref("torch_many_storages.pt", [8], [0.0] * 8)
    # a dict holding itself under "a" and "a.a": a key of 44 a's and a b has 10^9 parses
    torch_zip("torch_selfref.pt", b"\x80\x02}q\x00(" + pk_str("a") + b"h\x00" + pk_str("a.a")
              + b"h\x00u.")


def plain():
    with open(path("text_comma.txt"), "w") as f:
        f.write("# positions x dims\n1.5, -2, 3e-1\n4,5,6  # trailing comment\n\n7 8 9.25\n")
    ref("text_comma.txt", [3, 3], [1.5, -2, 0.3, 4, 5, 6, 7, 8, 9.25])
    with open(path("bad_text_ragged.txt"), "w") as f:
        f.write("1 2 3\n4 5 6\n7 8\n")
    with open(path("bad_text_word.txt"), "w") as f:
        f.write("1 2 3\n4 five 6\n")
    open(path("bad_empty.txt"), "w").close()
    with open(path("bad_random.bin"), "wb") as f:
        f.write(bytes(range(256)) * 4)
    # safetensors, written by hand from the published format
    vals = [0.5 * i - 1.25 for i in range(12)]
    f32 = struct.pack("<12f", *vals)
    f64 = struct.pack("<12d", *vals)
    f16 = struct.pack("<12e", *vals)
    bf16 = b"".join(struct.pack("<f", v)[2:] for v in vals)  # these values are exact in bf16
    def st(name, entries, blobs, meta=True, hdr_extra=b""):
        hdr = dict(entries)
        if meta:
            hdr["__metadata__"] = {"format": "pt"}
        h = json.dumps(hdr).encode() + hdr_extra
        h += b" " * ((8 - len(h) % 8) % 8)
        with open(path(name), "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + blobs)
    blobs, ents, off = b"", {}, 0
    for key, dt, raw in (("t.f32", "F32", f32), ("t.f64", "F64", f64),
                         ("t.f16", "F16", f16), ("t.bf16", "BF16", bf16)):
        ents[key] = {"dtype": dt, "shape": [4, 3], "data_offsets": [off, off + len(raw)]}
        blobs += raw
        off += len(raw)
    st("st_all.safetensors", ents, blobs)
    ref("st_all.safetensors", [4, 3], vals)
    st("st_one.safetensors", {"w": {"dtype": "F32", "shape": [1, 4, 3], "data_offsets": [0, 48]}}, f32)
    ref("st_one.safetensors", [1, 4, 3], vals)
    cut("st_all.safetensors", "bad_st_trunc.safetensors", -10)
    st("bad_st_offsets.safetensors", {"w": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 4800]}}, f32)
    st("bad_st_mismatch.safetensors", {"w": {"dtype": "F32", "shape": [5, 3], "data_offsets": [0, 48]}}, f32)
    st("bad_st_overlap.safetensors", {"a": {"dtype": "F32", "shape": [3, 3], "data_offsets": [0, 36]},
                                      "b": {"dtype": "F32", "shape": [3], "data_offsets": [24, 36]}}, f32)
    st("bad_st_overflow.safetensors", {"w": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 48]}}, f32)
    st("bad_st_json.safetensors", {"w": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]}}, f32,
       hdr_extra=b"}}")
    st("bad_st_dtype.safetensors", {"w": {"dtype": "I64", "shape": [6], "data_offsets": [0, 48]}}, f32)
    with open(path("bad_st_headerlen.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 1 << 40) + b"{}")
    # crafted torch zips
    torch_zip("bad_torch_os_system.pt", b"\x80\x02" + pk_call("os", "system", "echo pwned") + b".")
    torch_zip("bad_torch_eval.pt", b"\x80\x02" + pk_call("builtins", "eval", "1+1") + b".")
    torch_zip("bad_torch_eval2.pt", b"\x80\x02" + pk_call("__builtin__", "eval", "1+1") + b".")
    torch_zip("bad_torch_unknown.pt", b"\x80\x02" + pk_call("mymodule", "Thing", "x") + b".")
    torch_zip("bad_torch_opcode.pt", b"\x80\x02\x82\x01.")
    torch_zip("bad_torch_nostop.pt", b"\x80\x02}q\x00")
    torch_zip("bad_torch_view.pt", tensor_pickle(4, 2, [3, 2], [2, 1]), {"0": struct.pack("<4f", 1, 2, 3, 4)})
    torch_zip("bad_torch_storage.pt", tensor_pickle(40, 0, [4], [1]), {"0": struct.pack("<4f", 1, 2, 3, 4)})
    torch_zip("torch_crafted_view.pt", tensor_pickle(12, 1, [2, 3], [1, 4]),
              {"0": struct.pack("<12f", *range(12))})
    ref("torch_crafted_view.pt", [2, 3], [1, 5, 9, 2, 6, 10])
    shared_storage_files()


def numpy_files(np):
    rng = np.random.default_rng(7)
    base = rng.standard_normal((5, 3))
    for code in ("f2", "f4", "f8"):
        for order in ("C", "F"):
            for endian in ("<", ">"):
                a = np.array(base, dtype=endian + code, order=order)
                name = "npy_%s_%s_%s.npy" % (code, order, "le" if endian == "<" else "be")
                np.save(path(name), a)
                ref(name, a.shape, a.astype("f8").ravel(order="C"))
    from numpy.lib import format as fmt
    for ver in ((1, 0), (2, 0), (3, 0)):
        a = np.asarray(base, dtype="<f4")
        name = "npy_v%d.npy" % ver[0]
        with open(path(name), "wb") as f:
            fmt.write_array(f, a, version=ver)
        ref(name, a.shape, a.astype("f8").ravel())
    for name, a in (("npy_1d.npy", rng.standard_normal(7)),
                    ("npy_3d.npy", rng.standard_normal((1, 4, 3)).astype("f4"))):
        np.save(path(name), a)
        ref(name, a.shape, a.astype("f8").ravel())
    pos = base.astype("f4")
    np.savez(path("npz_stored.npz"), pos=pos, other=np.zeros(3))
    np.savez_compressed(path("npz_deflated.npz"), pos=pos, other=np.zeros(3))
    np.savez(path("npz_one.npz"), pos)
    for n in ("npz_stored.npz", "npz_deflated.npz", "npz_one.npz"):
        ref(n, pos.shape, pos.astype("f8").ravel())
    np.save(path("bad_npy_int.npy"), np.arange(6, dtype="<i8"))
    cut("npy_f8_C_le.npy", "bad_npy_trunc.npy", -8)
    cut("npy_f8_C_le.npy", "bad_npy_hdrtrunc.npy", 40)
    with open(path("npy_f4_C_le.npy"), "rb") as f:
        good = f.read()
    for name, old, new in (("bad_npy_lie.npy", b"(5, 3)", b"(9, 3)"),
                           ("bad_npy_dict.npy", b"'descr'", b"'dexcr'")):
        data = good.replace(old, new)
        assert data != good, name
        with open(path(name), "wb") as f:
            f.write(data)
    big = ("(%d, %d)" % (2**62, 2**62)).encode()
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': " + big + b", }"
    hdr += b" " * (64 - (10 + len(hdr) + 1) % 64) + b"\n"
    with open(path("bad_npy_overflow.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + b"\0" * 48)
    lie = io.BytesIO()
    lie.write(good.replace(b"(5, 3)", b"(9, 3)"))
    with zipfile.ZipFile(path("bad_npz_lie.npz"), "w") as z:
        z.writestr("pos.npy", lie.getvalue())
    cut("npz_deflated.npz", "bad_npz_trunc.npz", -30)
    groups.append("numpy")


def torch_files(torch):
    import argparse
    g = torch.Generator().manual_seed(3)
    w = torch.randn(10, 4, generator=g)
    big = torch.randn(6, 5, generator=g)
    model = {
        "decoder.embed_positions.weights": w,
        "decoder.embed_positions.half": w.half(),
        "decoder.embed_positions.bf16": w.bfloat16(),
        "decoder.transposed": w.t(),
        "decoder.slice": big[2:, 1:4],
        "decoder.layers.0.fc1.bias": torch.zeros(3, dtype=torch.float64),
        "decoder.steps": torch.arange(5),
    }
    ckpt = {"args": argparse.Namespace(arch="transformer", lr=[0.1]), "model": model,
            "extra_state": {"epoch": 3, "loss": 1.5, "name": "x", "ok": True, "none": None}}
    gnorms = [torch.tensor(0.5 * i + 0.25) for i in range(9)]
    for sfx, new in (("zip", True), ("legacy", False)):
        torch.save(ckpt, path("torch_%s.pt" % sfx), _use_new_zipfile_serialization=new)
        for key, t in model.items():
            if t.is_floating_point():
                ref("torch_%s.pt@model.%s" % (sfx, key), list(t.shape),
                    t.double().contiguous().view(-1).tolist())
        torch.save(gnorms, path("torch_gnorm_%s.pt" % sfx), _use_new_zipfile_serialization=new)
        ref("torch_gnorm_%s.pt" % sfx, [9], [float(t) for t in gnorms])
        torch.save(w[:, 0].clone(), path("torch_1d_%s.pt" % sfx), _use_new_zipfile_serialization=new)
        ref("torch_1d_%s.pt" % sfx, [10], w[:, 0].double().tolist())
    import collections
    import numpy
    # inert non-tensor content real checkpoints carry; only 'w' is a tensor
    torch.save({"best": numpy.float64(1.5), "arr": numpy.arange(3.0), "w": w[:2, :3].clone(),
                "dev": torch.device("cpu"), "size": torch.Size([2, 3]), "dtype": torch.float32,
                "raw": b"\x00\xff", "set": {1, 2}, "dd": collections.defaultdict(list, a=[1])},
               path("torch_mixed.pt"))
    ref("torch_mixed.pt", [2, 3], w[:2, :3].double().reshape(-1).tolist())
    torch.save(torch.nn.Linear(2, 3), path("bad_torch_module.pt"))
    torch.save([0.5, 1.5, 2.0], path("torch_floats.pt"))
    ref("torch_floats.pt", [3], [0.5, 1.5, 2.0])
    # legacy files with many storage keys, 10x apart, for the bounded-work test
    for name, n in (("torch_legacy_keys_small.pt", 2000), ("torch_legacy_keys_big.pt", 20000)):
        torch.save({"t%d" % i: torch.tensor([float(i)]) for i in range(n)}, path(name),
                   _use_new_zipfile_serialization=False)
        ref("%s@t%d" % (name, n - 1), [1], [float(n - 1)])
    cut("torch_zip.pt", "bad_torch_trunc.pt", -100)
    cut("torch_legacy.pt", "bad_torch_legacy_trunc.pt", -100)
    groups.append("torch")


plain()
try:
    import numpy
    numpy_files(numpy)
except ImportError as e:
    print("numpy missing: %s" % e, file=sys.stderr)
try:
    import torch
    torch_files(torch)
except ImportError as e:
    print("torch missing: %s" % e, file=sys.stderr)
with open(path("groups"), "w") as f:
    f.write("\n".join(groups) + "\n")
