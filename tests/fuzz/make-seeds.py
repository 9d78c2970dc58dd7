#!/usr/bin/python3
"""Write the seed corpora under tests/fuzz/corpus/NAME/ (run by hand; the output is committed).

Seeds are small: files from tests/gen/tensors.py (real numpy/torch writers and crafted
pickles), hand-written log snippets in every format the readers take, TFRecord files built
here with their CRC32C, and copies of the few fixtures in ../shared/fixtures/real that
SOURCES.md marks MIT or Apache-2.0 and that are at most 200 KB (see corpus/SOURCES.md).
usage: make-seeds.py [FIXTURES_DIR]
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
FIX = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "real")
# Permissive (MIT / Apache-2.0) real files of at most 200 KB, per SOURCES.md.
REAL = {
    "log-fairseq": ["fairseq/fairseq-legacy-mlperf-v0.6-nvidia-dgx1-transformer-result_1.log",
                    "fairseq/fairseq-legacy-mlperf-v0.5-nvidia-dgx1-transformer-result_3.log"],
    "log-megatron": ["megatron/megatron-bigscience-gpt2-base-n8.log",
                     "megatron/megatron-bigscience-gpt2-n16-ds-off.log",
                     "megatron/megatron-deepspeed-bigscience-gpt2-n16-ds-on.log"],
    "torch": ["pos_embeddings/nanogpt-wpe-8x16-GPT_by_Hand.pt"],
}


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# ---- CRC32C (Castagnoli) and TFRecord framing ----
def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_T = _crc_table()


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = CRC_T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def record(data):
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", masked(crc32c(n))) + data + struct.pack("<I", masked(crc32c(data)))


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def event(step, tag, value, tensor=False):
    if tensor:  # TensorProto: dtype=DT_FLOAT (1), float_val (5, packed)
        tp = field(1, 0, varint(1)) + field(5, 2, struct.pack("<f", value))
        val = field(1, 2, tag.encode()) + field(8, 2, tp)
    else:
        val = field(1, 2, tag.encode()) + field(2, 5, struct.pack("<f", value))
    return field(1, 1, struct.pack("<d", 1.7e9 + step)) + field(2, 0, varint(step)) + field(5, 2, field(1, 2, val))


def tfevents():
    head = record(field(1, 1, struct.pack("<d", 1.7e9)) + field(3, 2, b"brain.Event:2"))
    simple = head + b"".join(record(event(s, "train/grad_norm", 1.0 + (s % 7) / 10)) for s in range(0, 200, 20))
    put("log-tfevents", "simple_value.tfevents", simple)
    tens = head + b"".join(record(event(s, "train/gnorm", 0.5 + s / 1000, True)) for s in range(1, 12))
    put("log-tfevents", "tensor_value.tfevents", tens)
    mixed = head + record(event(5, "train/loss", 2.5)) + record(event(5, "train/grad_norm", 3.0))
    put("log-tfevents", "two_tags.tfevents", mixed)
    bad = bytearray(simple)
    bad[-1] ^= 0xFF
    put("log-tfevents", "bad_crc.tfevents", bytes(bad))
    put("log-tfevents", "truncated.tfevents", simple[:len(simple) - 9])


def logs():
    put("log-plain", "values.txt", "".join("%g\n" % (1 + i % 5 / 10) for i in range(40)))
    put("log-plain", "step_value.txt", "# step gnorm\n" + "".join("%d %g\n" % (i * 10, 0.5 + i / 50) for i in range(40)))
    put("log-plain", "nan_inf.txt", "1 nan\n2 inf\n3 -inf\n4 1e308\n5 1e-320\n6 0x1p3\n7 garbage\n8 2.5\n")
    put("log-csv", "header.csv", "step,loss,grad_norm\n" + "".join("%d,%g,%g\n" % (i, 3 - i / 20, 1 + i % 3) for i in range(30)))
    put("log-csv", "tabs.tsv", "step\ttrain/grad_norm\tlr\n" + "".join("%d\t%g\t1e-4\n" % (i, 0.3 * i) for i in range(30)))
    put("log-csv", "quoted.csv", 'epoch,step,"gnorm",note\n1,1,"0.5","a,b"\n1,2,,x\n1,3,NaN,y\n')
    kv = "".join("2023-01-01 10:00:%02d | INFO | train_inner | epoch 001:    %d / 282 loss=3.1, nll_loss=1.2, "
                 "ppl=4.5, wps=1000, ups=1, wpb=2000, bsz=64, num_updates=%d, lr=0.0005, gnorm=%g, "
                 "clip=0, loss_scale=128, train_wall=48, wall=%d\n" % (i, i, i * 100, 0.4 + i / 30, i)
                 for i in range(1, 25))
    kv += "2023-01-01 10:01:00 | INFO | fairseq.trainer | NOTE: overflow detected, setting loss scale to: 64.0\n"
    kv += "2023-01-01 10:01:01 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 3.0 | gnorm 0.5 | num_updates 2400\n"
    kv += "2023-01-01 10:01:02 | INFO | train | epoch 001 | loss 3.1 | gnorm 0.6 | clip 0 | num_updates 2400\n"
    put("log-fairseq", "kv.log", kv)
    simple = "".join("| epoch 001 | loss 3.1 | nll_loss 1.2 | gnorm %g | clip 0 | num_updates %d\n" % (0.5 + i / 10, i) for i in range(20))
    put("log-fairseq", "simple.log", simple)
    js = "".join('[2022-04-08 18:48:05,372][train_inner][INFO] - {"epoch": 1, "update": 0.4, "loss": "9.2", '
                 '"gnorm": "%g", "loss_scale": "128", "num_updates": "%d"}\n' % (0.1 + i / 7, 200 * i) for i in range(1, 15))
    js += "[2022-04-08 18:50:00,000][fairseq.trainer][INFO] - NOTE: gradient overflow detected, ignoring gradient, setting loss scale to: 64.0\n"
    put("log-fairseq", "hydra_json.log", js)
    hf = '{"best_metric": null, "global_step": 60, "log_history": [' + ", ".join(
        '{"epoch": %g, "grad_norm": %s, "learning_rate": 1e-05, "loss": 2.5, "step": %d}' % (i / 10, v, i * 10)
        for i, v in enumerate(["1.5", "NaN", "Infinity", "-Infinity", "2.0", "3e2"])) + \
        ', {"eval_loss": 2.0, "step": 60}], "max_steps": 60}'
    put("log-hf", "trainer_state.json", hf)
    put("log-hf", "nested.json", '{"log_history": [{"grad_norm": [[1]], "step": {"a": 1}}, {"grad_norm": 1, "step": 2}]}')
    put("log-jsonl", "records.jsonl", "".join('{"step": %d, "grad_norm": %g, "loss": 1.0}\n' % (i, 1 + i % 4) for i in range(30)))
    put("log-jsonl", "mixed.jsonl", '{"step": 1, "grad_norm": "0.5"}\nnot json\n{"step": 2}\n{"step": 3, "grad_norm": NaN}\n\n')
    mg = "".join(" iteration %8d/    1000 | consumed samples: %d | elapsed time per iteration (ms): 900.1 | "
                 "learning rate: 6.0E-05 | global batch size:    32 | lm loss: 2.648119E+01 | loss scale: 16384.0 | "
                 "grad norm: %g | number of skipped iterations:   %d | number of nan iterations:   0 |\n"
                 % (i, i * 32, 60 - i, i % 3 == 0) for i in range(1, 30))
    put("log-megatron", "iterations.log", mg)


def log_union():
    """The detection target sees every log seed."""
    for name in ("log-plain", "log-csv", "log-fairseq", "log-hf", "log-jsonl", "log-megatron", "log-tfevents"):
        for f in os.listdir(os.path.join(CORPUS, name)):
            with open(os.path.join(CORPUS, name, f), "rb") as fh:
                put("log", name[4:] + "-" + f, fh.read())


def tensors():
    """The tensor-reader fixtures, written by the real writers, sorted into corpora."""
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, os.path.join(HERE, "..", "gen", "tensors.py"), tmp],
                   check=True, stdout=subprocess.DEVNULL)
    prefixes = {"npy": "npy", "bad_npy": "npy", "npz": "npz", "bad_npz": "npz",
                "st": "safetensors", "bad_st": "safetensors", "torch": "torch", "bad_torch": "torch",
                "text": "textmat", "bad_text": "textmat"}
    for f in sorted(os.listdir(tmp)):
        p = os.path.join(tmp, f)
        if f.endswith(".ref") or f == "groups" or os.path.getsize(p) > 64 * 1024:
            continue
        base = f.split("_")[0] if not f.startswith("bad_") else "_".join(f.split("_")[:2])
        target = prefixes.get(base)
        with open(p, "rb") as fh:
            data = fh.read()
        if target:
            put(target, f, data)
        put("tensor", f, data)
        if target == "torch":
            pickle_seeds(f, data)
        if target == "npy" and f.startswith("npy_1d"):
            put("log-array", f, data)
            put("log", "array-" + f, data)
        if f.startswith(("torch_gnorm", "torch_1d")):
            put("log-array", f, data)
    shutil.rmtree(tmp)


def pickle_seeds(name, data):
    """The data.pkl of a torch zip, or a legacy file's bytes, as a pickle-VM seed."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(__import__("io").BytesIO(data)) as z:
                for n in z.namelist():
                    if n.endswith("data.pkl"):
                        put("pickle", name + ".pkl", z.read(n))
        except zipfile.BadZipFile:
            pass
    else:
        put("pickle", name + ".pkl", data)


def small_text():
    put("options", "defaults", "")
    for i, o in enumerate(["method=mad window=101 threshold=6 max_norm=1", "method=ewma alpha=0.02 threshold=8",
                           "method=ratio window=21 threshold=3 top=2", "method=threshold threshold=1.5",
                           "method=mad causal=1 window=5 min_ratio=1.5", "method=ewma window=1 top=0",
                           "window=999999999999 threshold=nan", "method=mad window=3 threshold=-1 max_norm=inf"]):
        put("options", "opt%d" % i, o)
    for i, s in enumerate(["1026x256,padding_idx=1", "512x64,layout=interleaved", "7x5,layout=fairseq",
                           "1x4", "8x9,padding_idx=7,layout=interleaved", "100x16"]):
        put("genspec", "spec%d" % i, s)
    for i, t in enumerate(["1 2 3\n4 5 6\n", "# c\n1,2\n3,4\n", "1e308 -1e308\nnan inf\n"]):
        put("textmat", "hand%d.txt" % i, t)


def real():
    for target, files in REAL.items():
        for f in files:
            p = os.path.join(FIX, f)
            if os.path.isfile(p) and os.path.getsize(p) <= 200 * 1024:
                with open(p, "rb") as fh:
                    data = fh.read()
                put(target, "real-" + os.path.basename(f), data)
                if not target.startswith("log"):
                    put("tensor", "real-" + os.path.basename(f), data)
                if target == "torch":
                    pickle_seeds("real-" + os.path.basename(f), data)


if __name__ == "__main__":
    tensors()
    logs()
    tfevents()
    small_text()
    real()
    log_union()
