"""bench peers: what a user would write in Python instead of trainplot, one job per process.

Each job prints one JSON object; "kernel_s" is the compute alone (timed in-process, after a
warm-up on a small slice), so the harness can report it beside the whole process's wall time.
"""
import json
import re
import sys
import time

import numpy as np

# rows of the warm-up call before timing: lazy imports and library set-up. At 8 rows
# OpenBLAS stays single-threaded, so the timed call is still its first threaded one.
WARM = 8


def emit(**kw):
    print(json.dumps(kw))


def cosine_numpy(x):
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        xn = x / norm
    return xn @ xn.T


def cosine_sklearn(x):
    from sklearn.metrics.pairwise import cosine_similarity
    return cosine_similarity(x)


def cosine_torch(x):
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(x)
    xn = F.normalize(t, dim=1)
    return (xn @ xn.T).numpy()


SIM = {"numpy": cosine_numpy, "sklearn": cosine_sklearn, "torch": cosine_torch}


def job_sim(peer, path, out=None):
    """File to similarity matrix; the matrix is written like trainplot's (float32) when asked."""
    x = np.load(path)
    f = SIM[peer]
    f(x[:WARM])
    t = time.perf_counter()
    s = f(x)
    k = time.perf_counter() - t
    if out:
        np.asarray(s, dtype=np.float32).tofile(out)
    del s
    # the steady state, as bench/sim-kernel.c measures it: up to 5 more calls or ~1 s
    rep = []
    while len(rep) < 5 and sum(rep) + k < 1.0:
        t = time.perf_counter()
        f(x)
        rep.append(time.perf_counter() - t)
    extra = {"steady_s": sorted(rep)[len(rep) // 2], "steady_reps": len(rep),
             "steady_total_s": sum(rep)} if rep else {}
    emit(kernel_s=k, n=int(x.shape[0]), **extra)


def job_sim_naive(path, rows):
    """The per-pair torch loop from course notebooks, timed on `rows` rows, extrapolated to n."""
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(np.load(path))
    n = t.shape[0]
    rows = min(rows, n)
    s = torch.empty(rows, n)
    F.cosine_similarity(t[0], t[1], dim=0)
    t0 = time.perf_counter()
    for i in range(rows):
        for j in range(n):
            s[i, j] = F.cosine_similarity(t[i], t[j], dim=0)
    k = time.perf_counter() - t0
    emit(kernel_s=k * n / rows, measured_s=k, rows=rows, n=int(n), extrapolated=True)


def offset_profile(s):
    n = s.shape[0]
    mean, lo, hi = np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        d = np.diagonal(s, k)
        mean[k], lo[k], hi[k] = np.nanmean(d), np.nanmin(d), np.nanmax(d)
    return mean, lo, hi


def job_heatmap(path, out):
    """The notebook version of posemb-heatmap.gp: heatmap, colour bar, offset profile, PNG."""
    import warnings
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    warnings.simplefilter("ignore", RuntimeWarning)
    x = np.load(path)
    s = cosine_numpy(x)
    mean, lo, hi = offset_profile(s)
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 7.6), dpi=100,
                               gridspec_kw={"width_ratios": [1.1, 1]})
    im = a.imshow(s, cmap="viridis", origin="lower", interpolation="nearest")
    fig.colorbar(im, ax=a, label="cosine similarity")
    a.set_title("%s %dx%d" % (path.rsplit("/", 1)[-1], x.shape[0], x.shape[1]))
    a.set_xlabel("position j")
    a.set_ylabel("position i")
    off = np.arange(s.shape[0])
    b.fill_between(off, lo, hi, alpha=0.3, label="min-max")
    b.plot(off, mean, label="mean")
    b.set_xlabel("offset |i-j|")
    b.legend()
    fig.savefig(out)
    emit(n=int(x.shape[0]))


def stats(v):
    v = np.asarray(v, dtype=np.float64)
    f = v[np.isfinite(v)]
    return dict(count=int(v.size), mean=float(f.mean()), median=float(np.median(f)),
                p99=float(np.percentile(f, 99)), max=float(f.max()))


FAIRSEQ = re.compile(r"num_updates=(\d+).*?gnorm=([-+0-9.eEnaifNAIF]+)")


def job_fairseq_regex(path):
    steps, vals = [], []
    with open(path, errors="replace") as f:
        for line in f:
            if "| train_inner |" in line:
                m = FAIRSEQ.search(line)
                if m:
                    steps.append(int(m.group(1)))
                    vals.append(float(m.group(2)))
    emit(**stats(vals))


def job_fairseq_pandas(path):
    import pandas as pd
    df = pd.read_csv(path, sep="|", header=None, names=["time", "level", "kind", "msg"],
                     usecols=[2, 3], skipinitialspace=True, on_bad_lines="skip", dtype=str)
    msg = df.loc[df["kind"].str.strip() == "train_inner", "msg"]
    g = msg.str.extract(r"num_updates=(\d+).*?gnorm=([^,\s]+)").astype(float)
    emit(**stats(g[1].to_numpy()))


def job_plain_loop(path):
    steps, vals = [], []
    with open(path) as f:
        for line in f:
            s, v = line.split()
            steps.append(int(s))
            vals.append(float(v))
    emit(**stats(vals))


def job_plain_loadtxt(path):
    emit(**stats(np.loadtxt(path)[:, 1]))


def job_plain_pandas(path):
    import pandas as pd
    df = pd.read_csv(path, sep=" ", header=None, names=["step", "value"])
    emit(**stats(df["value"].to_numpy()))


def job_json_load(path):
    with open(path) as f:
        d = json.load(f)
    v = [e["grad_norm"] for e in d["log_history"] if "grad_norm" in e]
    emit(**stats(v))


def runs(flag):
    """Start and end (exclusive) of each run of flagged points."""
    d = np.diff(np.concatenate([[0], flag.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def episodes(flag, v, top=10):
    """Runs of flagged points ranked by peak value: what the user does after flagging."""
    start, end = runs(flag)
    peaks = np.array([v[a:b].max() for a, b in zip(start, end)])
    order = np.argsort(-peaks)[:top] if start.size else np.array([], dtype=int)
    return int(start.size), [(int(start[k]), int(end[k])) for k in order]


def timed_series(path, fn):
    v = np.load(path)
    fn(v[:1000])
    t = time.perf_counter()
    count, top = fn(v)
    emit(kernel_s=time.perf_counter() - t, count=count, top=len(top), n=int(v.size))


def spikes_mad(window, thr):
    import pandas as pd

    def run(v):
        s = pd.Series(v)
        med = s.rolling(window, center=True, min_periods=1).median()
        mad = (s - med).abs().rolling(window, center=True, min_periods=1).median()
        z = (s - med) / (1.4826 * mad)
        return episodes((z > thr).to_numpy(), v)
    return run


def spikes_ewm(alpha, thr):
    import pandas as pd

    def run(v):
        s = pd.Series(v)
        m, sd = s.ewm(alpha=alpha).mean().shift(), s.ewm(alpha=alpha).std().shift()
        return episodes(((s - m) / sd > thr).to_numpy(), v)
    return run


def spikes_peaks(thr):
    from scipy.signal import find_peaks

    def run(v):
        med = np.median(v)
        mad = np.median(np.abs(v - med))
        peaks, _ = find_peaks(v, prominence=thr * 1.4826 * mad)
        return int(peaks.size), peaks[:10].tolist()
    return run


def job_explosions(path, out, window=101, thr=6.0, top=2):
    """Log to PNG the pandas + matplotlib way: parse, rolling median/MAD, circle the top K."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    steps, vals = [], []
    with open(path, errors="replace") as f:
        for line in f:
            if "| train_inner |" in line:
                m = FAIRSEQ.search(line)
                if m:
                    steps.append(int(m.group(1)))
                    vals.append(float(m.group(2)))
    s = pd.Series(vals, index=steps)
    med = s.rolling(window, center=True, min_periods=1).median()
    mad = (s - med).abs().rolling(window, center=True, min_periods=1).median()
    v = s.to_numpy()
    n_ep, top_eps = episodes(((s - med) / (1.4826 * mad) > thr).to_numpy(), v, top)
    fig, ax = plt.subplots(figsize=(14, 7.6), dpi=100)
    ax.plot(s.index, v, lw=0.5, label="gnorm")
    ax.plot(s.index, med, lw=1, label="rolling median")
    ax.set_yscale("log")
    for a, b in top_eps:
        i = a + int(np.argmax(v[a:b]))
        ax.scatter([s.index[i]], [v[i]], s=400, facecolors="none", edgecolors="r")
        ax.annotate("step %d: peak %.3g (x%.1f)" % (s.index[i], v[i], v[i] / med.iloc[i]),
                    (s.index[i], v[i]))
    ax.legend(loc="upper right")
    fig.savefig(out)
    emit(count=len(vals), episodes=n_ep)


def versions():
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for mod in ("torch", "pandas", "scipy", "sklearn", "matplotlib"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception as e:  # a missing peer is reported, never faked
            out[mod] = None
            out[mod + "_error"] = str(e).splitlines()[0][:120]
    emit(**out)


def main(a):
    job = a[1]
    if job == "versions":
        versions()
    elif job.startswith("sim-") and job[4:] in SIM:
        job_sim(job[4:], a[2], a[3] if len(a) > 3 else None)
    elif job == "sim-naive":
        job_sim_naive(a[2], int(a[3]))
    elif job == "heatmap":
        job_heatmap(a[2], a[3])
    elif job in ("fairseq-regex", "fairseq-pandas", "plain-loop", "plain-loadtxt",
                 "plain-pandas", "json-load"):
        globals()["job_" + job.replace("-", "_")](a[2])
    elif job == "spikes-mad":
        timed_series(a[2], spikes_mad(int(a[3]), float(a[4])))
    elif job == "spikes-ewm":
        timed_series(a[2], spikes_ewm(float(a[3]), float(a[4])))
    elif job == "spikes-peaks":
        timed_series(a[2], spikes_peaks(float(a[3])))
    elif job == "explosions":
        job_explosions(a[2], a[3])
    else:
        sys.exit("peers.py: unknown job %r" % job)


if __name__ == "__main__":
    main(sys.argv)
