"""bench cases: for each group, trainplot and the peers a user would run instead, on the same
generated input. Every trainplot command is probed on a tiny input first, so a command that
does not exist yet skips its rows with a note instead of failing the bench."""
import os

import benchlib as b
from benchlib import contender, mark

PEER_MODULES = {"sklearn": "sklearn", "torch": "torch", "pandas": "pandas", "scipy": "scipy",
                "matplotlib": "matplotlib"}


def peer(c, m, title, name, job, args, needs=None, **kw):
    """A Python peer, skipped with the import error when its library is missing."""
    k = contender(name, [c.py, c.peers, job] + [str(a) for a in args], **kw)
    for mod in needs or []:
        if not m["py"].get(mod):
            why = "peer missing: %s (%s)" % (mod, m["py"].get(mod + "_error", "not installed"))
            return mark(k, why, c, title)
    return k


def tiny_inputs(c):
    """Small inputs for the availability probes."""
    return {"table": b.gen_table(c, 64, 16), "fairseq": b.gen_log(c, "fairseq", 1000),
            "series": b.gen_series(c, 1000)}


def run_case(c, title, reps, ks, **info):
    case = dict(title=title, reps=reps, contenders=ks, **info)
    b.measure(c, case)
    for k in ks:
        k.pop("check", None)
    return case


def similarity(c, m):
    t = tiny_inputs(c)
    tp_why = b.available(c, [c.trainplot, "posemb", "similarity", t["table"], "-o",
                             os.path.join(c.out, "probe.bin")], "trainplot posemb similarity")
    kern = c.probe_bin("sim-kernel")
    kern_why = b.available(c, [kern, t["table"]], "sim-kernel probe (tp_sim_compute)") if kern \
        else "not built: bench/sim-kernel.c did not compile against the core libraries (see bench/run)"
    blas = c.probe_bin("probe-blas")
    blas_why = None if blas else "not built: bench/probe-blas.c (see bench/run)"
    cases = []
    for i, (n, d, reps) in enumerate(c.size("tables")):
        f = b.gen_table(c, n, d)
        title = "cosine similarity %dx%d float32" % (n, d)
        out = lambda tag: os.path.join(c.out, "sim-%d-%s.bin" % (n, tag))  # noqa: E731
        ks = [mark(contender("trainplot posemb similarity", [c.trainplot, "posemb", "similarity",
                                                             f, "-o", out("tp")],
                             trainplot=True, out=out("tp")), tp_why, c, title),
              mark(contender("trainplot kernel", [kern, f], trainplot=True, role="kernel"),
                   kern_why, c, title),
              mark(contender("machine ceiling: best of cblas_sgemm, cblas_ssyrk", [blas, n, d, 1],
                             role="ceiling"), blas_why, c, title),
              peer(c, m, title, "numpy normalise + matmul", "sim-numpy", [f, out("np")],
                   out=out("np")),
              peer(c, m, title, "sklearn cosine_similarity", "sim-sklearn", [f, out("sk")],
                   needs=["sklearn"], out=out("sk")),
              peer(c, m, title, "torch F.normalize + mm", "sim-torch", [f, out("th")],
                   needs=["torch"], out=out("th"))]
        if i == 0:
            rows = b.NAIVE_ROWS[1 if c.quick else 0]
            ks.append(peer(c, m, title, "torch per-pair cosine_similarity loop", "sim-naive",
                           [f, rows], needs=["torch"], reps=1, role="extrapolated"))
        cases.append(run_case(c, title, reps, ks, n=n, d=d, bytes=os.path.getsize(f)))
    return {"name": "similarity", "kind": "sim", "title": "Similarity matrix", "cases": cases}


def heatmap(c, m):
    t = tiny_inputs(c)
    gp = os.path.join(c.gp, "posemb-heatmap.gp")
    argv = lambda f, o: [c.gnuplot, "-c", gp, f, "", o]  # noqa: E731
    why = b.available(c, argv(t["table"], os.path.join(c.out, "probe.png")),
                      "gnuplot -c posemb-heatmap.gp") if os.path.exists(gp) \
        else "not available: %s not found" % gp
    cases = []
    for n, d, reps in c.size("heatmaps"):
        f = b.gen_table(c, n, d)
        title = "heatmap file to PNG %dx%d" % (n, d)
        o_tp, o_py = (os.path.join(c.out, "heat-%d-%s.png" % (n, s)) for s in ("gp", "py"))
        ks = [mark(contender("gnuplot -c posemb-heatmap.gp", argv(f, o_tp), trainplot=True,
                             out=o_tp), why, c, title),
              peer(c, m, title, "numpy + matplotlib imshow + savefig", "heatmap", [f, o_py],
                   needs=["matplotlib"], out=o_py)]
        cases.append(run_case(c, title, reps, ks, n=n, d=d, bytes=os.path.getsize(f)))
    return {"name": "heatmap", "kind": "e2e", "title": "Heatmap end to end (file to PNG)",
            "cases": cases}


def parse_case(c, m, title, f, n, reps, tp_why, peers):
    check = b.count_check(n)
    ks = [mark(contender("trainplot gradnorm stats", [c.trainplot, "gradnorm", "stats", f,
                                                      "--json"], trainplot=True, check=check),
               tp_why, c, title)]
    for p in peers:
        ks.append(p(check))
    return run_case(c, title, reps, ks, points=n, bytes=os.path.getsize(f))


def logs(c, m):
    t = tiny_inputs(c)
    why = b.available(c, [c.trainplot, "gradnorm", "stats", t["fairseq"], "--json"],
                      "trainplot gradnorm stats")
    pp = c.probe_bin("probe-parse")
    cases = []
    for n, reps in c.size("fairseq"):
        f = b.gen_log(c, "fairseq", n)
        title = "fairseq key=value log, %.0e lines" % n
        peers = [lambda ck: contender("C getline + strstr + strtod", [pp, "fairseq", f],
                                      check=ck),
                 lambda ck: peer(c, m, title, "python regex loop", "fairseq-regex", [f],
                                 check=ck)]
        if n <= 10**6:
            peers.append(lambda ck: peer(c, m, title, "pandas.read_csv + str.extract",
                                         "fairseq-pandas", [f], needs=["pandas"], check=ck))
        else:
            c.note("%s: pandas.read_csv not run (it holds every line as a Python string; "
                   "about 10 GB at 10^7 lines)" % title)
        cases.append(parse_case(c, m, title, f, n, reps, why, peers))
    for n, reps in c.size("trainer_state"):
        f = b.gen_state(c, n)
        title = "HF trainer_state.json, %.0e entries" % n
        peers = [lambda ck: peer(c, m, title, "json.load + list comprehension", "json-load",
                                 [f], check=ck)]
        cases.append(parse_case(c, m, title, f, n, reps, why, peers))
    for n, reps in c.size("plain"):
        f = b.gen_log(c, "plain", n)
        title = "plain step value lines, %.0e lines" % n
        peers = [lambda ck: contender("C getline + strtod", [pp, "plain", f], check=ck),
                 lambda ck: peer(c, m, title, "python split loop", "plain-loop", [f], check=ck),
                 lambda ck: peer(c, m, title, "numpy.loadtxt", "plain-loadtxt", [f], check=ck),
                 lambda ck: peer(c, m, title, "pandas.read_csv", "plain-pandas", [f],
                                 needs=["pandas"], check=ck)]
        cases.append(parse_case(c, m, title, f, n, reps, why, peers))
    return {"name": "logs", "kind": "parse", "title": "Log parsing (parse + statistics)",
            "cases": cases}


def spikes(c, m):
    t = tiny_inputs(c)
    argv = lambda f: [c.trainplot, "gradnorm", "spikes", f, "--method", "mad", "--window",  # noqa
                      str(b.WINDOW), "--top", "10", "--json"]
    why = b.available(c, argv(t["series"][0]), "trainplot gradnorm spikes")
    use_npy = not why and not b.available(c, argv(t["series"][1]), "npy")
    if not why and not use_npy:
        c.note("spike detection: trainplot does not read a 1-D .npy yet, so it reads the same "
               "series as 'step value' text (its time includes parsing)")
    cases = []
    for n, reps in c.size("spikes"):
        txt, npy = b.gen_series(c, n)
        title = "spike detection, %.0e points, window %d" % (n, b.WINDOW)
        ks = [mark(contender("trainplot gradnorm spikes --method mad",
                             argv(npy if use_npy else txt), trainplot=True), why, c, title),
              peer(c, m, title, "pandas rolling median + MAD", "spikes-mad",
                   [npy, b.WINDOW, b.THRESH], needs=["pandas"]),
              peer(c, m, title, "scipy.signal.find_peaks (prominence)", "spikes-peaks",
                   [npy, b.THRESH], needs=["scipy"]),
              peer(c, m, title, "pandas ewm z-score", "spikes-ewm", [npy, b.EWM_ALPHA, b.THRESH],
                   needs=["pandas"])]
        cases.append(run_case(c, title, reps, ks, points=n, bytes=os.path.getsize(npy)))
    return {"name": "spikes", "kind": "spikes", "title": "Spike detection", "cases": cases}


def explosions(c, m):
    t = tiny_inputs(c)
    gp = os.path.join(c.gp, "gradnorm-explosions.gp")
    argv = lambda f, o: [c.gnuplot, "-c", gp, f, "", o]  # noqa: E731
    why = b.available(c, argv(t["fairseq"], os.path.join(c.out, "probe.png")),
                      "gnuplot -c gradnorm-explosions.gp") if os.path.exists(gp) \
        else "not available: %s not found" % gp
    cases = []
    for n, reps in c.size("explosions"):
        f = b.gen_log(c, "fairseq", n)
        title = "explosion plot log to PNG, %.0e steps" % n
        o_tp, o_py = (os.path.join(c.out, "expl-%d-%s.png" % (n, s)) for s in ("gp", "py"))
        ks = [mark(contender("gnuplot -c gradnorm-explosions.gp", argv(f, o_tp), trainplot=True,
                             out=o_tp), why, c, title),
              peer(c, m, title, "pandas + matplotlib", "explosions", [f, o_py],
                   needs=["pandas", "matplotlib"], out=o_py)]
        cases.append(run_case(c, title, reps, ks, points=n, bytes=os.path.getsize(f)))
    return {"name": "explosions", "kind": "e2e", "title": "Explosion plot end to end (log to PNG)",
            "cases": cases}


def pooled(c, m):
    """Issue 3's memory goal: a 65536-row table pooled to 2048 cells per side. No peer: the
    dense numpy answer needs the 16 GiB matrix; trainplot's tiled path keeps the grid and
    one tile."""
    t = tiny_inputs(c)
    why = b.available(c, [c.trainplot, "posemb", "similarity", t["table"], "--pool", "8", "-o",
                          os.path.join(c.out, "probe.bin")], "trainplot posemb similarity --pool")
    cases = []
    for n, d, size, reps in c.size("pooled"):
        f = b.gen_table(c, n, d)
        title = "pooled similarity %dx%d to %d" % (n, d, size)
        o = os.path.join(c.out, "pooled-%d.bin" % n)
        ks = [mark(contender("trainplot posemb similarity --pool %d" % size,
                             [c.trainplot, "posemb", "similarity", f, "--pool", size, "-o", o],
                             trainplot=True, out=o), why, c, title)]
        cases.append(run_case(c, title, reps, ks, n=n, d=d, bytes=os.path.getsize(f)))
    return {"name": "pooled", "kind": "e2e", "title": "Large table, pooled (memory)",
            "cases": cases}


GROUPS = [("similarity", similarity), ("heatmap", heatmap), ("logs", logs), ("spikes", spikes),
          ("explosions", explosions), ("pooled", pooled)]
