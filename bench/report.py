"""bench report: turns measured runs into bench/RESULTS.md. Nothing here is typed by hand:
every number, version and reason sentence is computed from the results of one run."""
import json
import os
import statistics
import sys

RATIO_NOTE = ("ratio = peer time / trainplot time, so above 1× means trainplot is faster; "
              "times are medians with (min–max) over the interleaved repetitions")


def summ(k):
    """Median and range of wall and self-reported kernel time, and the largest peak RSS."""
    runs = k.get("runs") or []
    if not runs:
        return None
    # the steady-state repeats are timed inside the process and taken out of its wall
    # time, so "process wall" stays one load, one call and one write
    w = [r["wall"] - (r["json"].get("steady_total_s", 0) if isinstance(r.get("json"), dict)
                      else 0) for r in runs]
    kern = [r["json"]["kernel_s"] for r in runs
            if isinstance(r.get("json"), dict) and "kernel_s" in r["json"]]
    s = {"wall": statistics.median(w), "wmin": min(w), "wmax": max(w), "runs": len(runs),
         "rss": max(r["rss_mb"] for r in runs), "json": runs[-1].get("json") or {}}
    if kern:
        s.update(kernel=statistics.median(kern), kmin=min(kern), kmax=max(kern))
    steady = [r["json"]["steady_s"] for r in runs
              if isinstance(r.get("json"), dict) and "steady_s" in r["json"]]
    if steady:
        s.update(steady=statistics.median(steady), smin=min(steady), smax=max(steady))
    return s


def t(x):
    if x is None:
        return "—"
    return "%.1f ms" % (x * 1e3) if x < 1 else "%.2f s" % x


def trange(s, key="wall", lo="wmin", hi="wmax"):
    if not s or key not in s:
        return "—"
    if s.get("runs", 1) == 1 or lo not in s:
        return t(s[key])
    return "%s (%s–%s)" % (t(s[key]), t(s[lo]).replace(" ms", "").replace(" s", ""), t(s[hi]))


def ratio(peer, tp):
    return "%.2f×" % (peer / tp) if peer and tp else "—"


def refs(case):
    """trainplot's reference numbers in a case: its command's wall time and its kernel time."""
    wall = kern = None
    for k in case["contenders"]:
        if not k["trainplot"]:
            continue
        s = summ(k)
        if s and k.get("role") == "kernel":
            kern = s
        elif s:
            wall = s
    return wall, kern


def gflops(case, sec):
    return 2.0 * case["n"] ** 2 * case["d"] / sec / 1e9 if sec else None


def ceiling(case):
    """The fastest time the machine's BLAS needs for this Gram matrix, probed inside the case."""
    for k in case["contenders"]:
        s = summ(k)
        if k.get("role") == "ceiling" and s and "kernel" in s:
            return s["kernel"]
    return None


def sim_rows(case, m):
    tpw, tpk = refs(case)
    ideal = ceiling(case)
    out = ["| contender | kernel | GFLOP/s (2n²d) | % of BLAS ceiling | kernel ratio | "
           "steady-state kernel | process wall | wall ratio | peak RSS | runs |",
           "|" + "---|" * 10]
    for k in case["contenders"]:
        s = summ(k)
        if not s:
            out.append("| %s | skipped: %s ||||||||| |" % (k["name"], k["skip"]))
            continue
        g = gflops(case, s.get("kernel"))
        peerish = not k["trainplot"] and k.get("role") != "ceiling"
        kr = ratio(s.get("kernel"), tpk and tpk.get("kernel")) if peerish else ""
        wr = "" if not peerish or k.get("role") else ratio(s["wall"], tpw and tpw["wall"])
        name = k["name"] + (" (extrapolated from %s of %s rows)" % (s["json"].get("rows"),
                                                                    case["n"])
                            if k.get("role") == "extrapolated" else "")
        wall = "—" if k.get("role") in ("extrapolated", "ceiling") else trange(s)
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %.0f MB | %d |" % (
            name, trange(s, "kernel", "kmin", "kmax"), "%.3g" % g if g else "—",
            "%.0f%%" % (100 * ideal / s["kernel"]) if ideal and s.get("kernel") else "—",
            kr, trange(s, "steady", "smin", "smax"), wall, wr, s["rss"],
            s["runs"]))
    return out


def plain_rows(case, kind):
    tpw, _ = refs(case)
    cols = ["contender", "wall", "ratio"] + {
        "parse": ["MB/s", "points"], "spikes": ["peer's in-process detection", "episodes"],
        "e2e": []}[kind] + ["peak RSS", "runs"]
    head = "| " + " | ".join(cols) + " |"
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for k in case["contenders"]:
        s = summ(k)
        if not s:
            out.append("| %s | skipped: %s |%s" % (k["name"], k["skip"],
                                                   "|" * (head.count("|") - 3)))
            continue
        row = [k["name"], trange(s), "" if k["trainplot"] else ratio(s["wall"], tpw and
                                                                     tpw["wall"])]
        if kind == "parse":
            row += ["%.0f" % (case["bytes"] / 1e6 / s["wall"]), str(s["json"].get("count", "—"))]
        elif kind == "spikes":
            row += [trange(s, "kernel", "kmin", "kmax"), str(s["json"].get("count", "—"))]
        row += ["%.0f MB" % s["rss"], str(s["runs"])]
        out.append("| " + " | ".join(row) + " |")
    return out


def reason(kind, case, peer, tpw, tpk, m, on_kernel):
    """One rule-based sentence from the measured numbers, saying where the time goes."""
    ceil = (m.get("blas") or {}).get("sgemm_gflops")
    bw = (m.get("membw") or {}).get("copy_gbs")
    if kind == "sim" and on_kernel:
        ideal = ceiling(case)
        r = "peer reaches %.0f%% of the BLAS ceiling probed in this case, trainplot %.0f%%" % (
            100 * ideal / peer["kernel"], 100 * ideal / tpk["kernel"]) if ideal else \
            "peer kernel %s vs trainplot %s" % (t(peer["kernel"]), t(tpk["kernel"]))
        if tpk["kernel"] < 0.01:
            r += "; at this size fixed per-call costs dominate"
        return r + " (both call the same OpenBLAS)"
    if kind == "sim":
        out_tp = tpw["wall"] - (tpk["kernel"] if tpk else 0)
        out_p = peer["wall"] - peer.get("kernel", 0)
        if tpk and tpk["kernel"] <= peer.get("kernel", 1e9):
            return ("trainplot's kernel is faster (%s vs %s) but its process spends %s outside "
                    "it (load, write) against the peer's %s" % (t(tpk["kernel"]),
                                                               t(peer["kernel"]), t(out_tp),
                                                               t(out_p)))
        return "the kernel itself is slower (see the kernel ratio column)"
    if kind == "parse":
        mbs = lambda s: case["bytes"] / 1e6 / s["wall"]  # noqa: E731
        return "peer reads %.0f MB/s, trainplot %.0f MB/s (machine copy bandwidth %s GB/s)" % (
            mbs(peer), mbs(tpw), "%.1f" % bw if bw else "unknown")
    if kind == "spikes" and "kernel" in peer:
        return ("peer's detection alone takes %s of its %s; trainplot's whole process takes %s "
                "(reading the series included)" % (t(peer["kernel"]), t(peer["wall"]),
                                                   t(tpw["wall"])))
    return "whole run: peer %s vs trainplot %s; no finer breakdown is measured" % (
        t(peer["wall"]), t(tpw["wall"]))


def losses(groups, m):
    out = []
    for g in groups:
        for case in g["cases"]:
            tpw, tpk = refs(case)
            for k in case["contenders"]:
                s = summ(k)
                if k["trainplot"] or not s or k.get("role") == "ceiling":
                    continue
                if tpk and s.get("kernel") and s["kernel"] < tpk["kernel"]:
                    out.append("- **%s**, kernel: %s %s vs trainplot %s — %s." % (
                        case["title"], k["name"], t(s["kernel"]), t(tpk["kernel"]),
                        reason(g["kind"], case, s, tpw, tpk, m, True)))
                if tpw and not k.get("role") and s["wall"] < tpw["wall"]:
                    out.append("- **%s**, wall: %s %s vs trainplot %s — %s." % (
                        case["title"], k["name"], t(s["wall"]), t(tpw["wall"]),
                        reason(g["kind"], case, s, tpw, tpk, m, False)))
    return out


def find(groups, name, title_part):
    for g in groups:
        for case in g["cases"]:
            if g["name"] == name and title_part in case["title"]:
                return case
    return None


def peer_summ(case, name_part):
    for k in case["contenders"]:
        if not k["trainplot"] and name_part in k["name"]:
            return summ(k)
    return None


def targets(groups):
    """The performance goals stated in issues 3, 6 and 7, each checked against this run."""
    rows = []

    def add(goal, case, value, ok):
        rows.append("| %s | %s | %s |" % (goal, value if case else "not measured in this run",
                                          ("yes" if ok else "**no**") if case and value != "—"
                                          else "—"))
    c = find(groups, "similarity", "1026x256")
    k = c and refs(c)[1]
    add("1026×256 cosine kernel ≤ 5 ms, first call in a fresh process (issue 3)", c,
        t(k["kernel"]) if k else "—", k and k["kernel"] <= 0.005)
    add("1026×256 cosine kernel ≤ 5 ms, steady state (issue 3)", c,
        t(k["steady"]) if k and "steady" in k else "—", k and k.get("steady", 1) <= 0.005)
    c = find(groups, "similarity", "8192x1024")
    k, p = (c and refs(c)[1]), (c and peer_summ(c, "numpy"))
    r = p["kernel"] / k["kernel"] if k and p else None
    add("8192×1024 kernel ≥ 1.5× faster than numpy (issue 3)", c,
        "%.2f×" % r if r else "—", r and r >= 1.5)
    for size, goal in (("1026x256", 3), ("4096x768", 5)):
        c = find(groups, "heatmap", size)
        w, p = (c and refs(c)[0]), (c and peer_summ(c, "matplotlib"))
        r = p["wall"] / w["wall"] if w and p else None
        add("heatmap %s file→PNG ≥ %d× faster than numpy+matplotlib (issue 6)" % (size, goal),
            c, "%.2f×" % r if r else "—", r and r >= goal)
    for part, goal, what in (("fairseq key=value log, 1e+07", 1500, "fairseq key=value"),
                             ("plain step value lines, 1e+07", 500, "plain step value")):
        c = find(groups, "logs", part)
        w = c and refs(c)[0]
        v = c["bytes"] / 1e6 / w["wall"] if w else None
        add("%s parsing ≥ %d MB/s, 10^7 lines, whole process (issue 7)" % (what, goal), c,
            "%.0f MB/s" % v if v else "—", v and v >= goal)
    c = find(groups, "spikes", "1e+07")
    w = c and refs(c)[0]
    add("mad, window 101, 10^7 points ≤ 1.5 s, whole process (issue 7)", c,
        t(w["wall"]) if w else "—", w and w["wall"] <= 1.5)
    add("memory ≤ ~3 doubles (24 B) per point at 10^7, peak RSS / points (issue 7)", c,
        "%.1f B/point" % (w["rss"] * 2**20 / c["points"]) if w else "—",
        w and w["rss"] * 2**20 / c["points"] <= 24 * 1.25)
    c = find(groups, "pooled", "65536x1024")
    w = c and refs(c)[0]
    add("n = 65536 pooled to 2048 ≤ 2 GiB peak RSS (issue 3)", c,
        "%.0f MiB in %s" % (w["rss"], t(w["wall"])) if w else "—", w and w["rss"] <= 2048)
    c = find(groups, "explosions", "1e+06")
    w = c and refs(c)[0]
    add("explosion plot 10^6 steps log→PNG ≤ 2 s (issue 7)", c, t(w["wall"]) if w else "—",
        w and w["wall"] <= 2)
    return ["| goal | measured | met |", "|---|---|---|"] + rows


def header(m, quick):
    py = m.get("py") or {}
    blas, bw = m.get("blas") or {}, m.get("membw") or {}
    lib = lambda k: py.get(k) or "missing (%s)" % py.get(k + "_error", "not installed")  # noqa
    rows = [("CPU", "%s, %s cores (Linux %s)" % (m["cpu"], m["cores"], m["kernel"])),
            ("BLAS", "%s, %s threads" % (blas.get("blas", "probe failed"),
                                         blas.get("blas_threads", "?"))),
            ("BLAS ceiling (n=%s, k=%s, best of 3)" % (blas.get("n"), blas.get("k")),
             "sgemm %s GFLOP/s, ssyrk %s GFLOP/s" % (blas.get("sgemm_gflops", "—"),
                                                     blas.get("ssyrk_gflops", "—"))),
            ("memory bandwidth (1 thread)", "copy %s GB/s, triad %s GB/s" % (
                bw.get("copy_gbs", "—"), bw.get("triad_gbs", "—"))),
            ("trainplot", m.get("trainplot")), ("gnuplot", m.get("gnuplot")),
            ("GSL", m.get("gsl")), ("Python", py.get("python", "?"))]
    rows += [(k, lib(k)) for k in ("numpy", "torch", "pandas", "sklearn", "scipy",
                                   "matplotlib")]
    return ["| | |", "|---|---|"] + ["| %s | %s |" % r for r in rows]


def write(path, m, groups, notes, quick):
    L = ["# trainplot benchmark results", "",
         "Written by `bench/run` (`make bench`) on %s in %.0f s; every number is measured in "
         "that one run, on the inputs it generated. Do not edit by hand." % (
             m["date"], m.get("total_s", 0)), ""]
    if quick:
        L += ["**Quick mode** (`--quick`): small inputs, one repetition. A smoke test of the "
              "harness, not a result.", ""]
    lost = losses(groups, m)
    L += ["## Rows trainplot loses", ""]
    L += lost or ["None: in every row with a measured trainplot time, trainplot is faster than "
                  "every peer that ran."]
    L += ["", "## Machine", ""] + header(m, quick)
    L += ["", "## Goals from the issues", ""] + targets(groups)
    for g in groups:
        L += ["", "## " + g["title"], "", RATIO_NOTE + ".", ""]
        for case in g["cases"]:
            L += ["### %s (%d repetition%s, %.1f MB input)" % (
                case["title"], case["reps"], "s" if case["reps"] > 1 else "",
                case["bytes"] / 1e6), ""]
            L += sim_rows(case, m) if g["kind"] == "sim" else plain_rows(case, g["kind"])
            L.append("")
    L += ["## Notes", ""] + ["- " + n for n in notes] + [""] if notes else []
    L += ["## Method", "",
          "- Each contender is a separate process run on the same generated file; contenders "
          "alternate within each repetition (A B C A B C …).",
          "- Wall time is measured from fork to reap; peak RSS is that process's own "
          "`ru_maxrss` from `wait4`. Python start-up and imports are included in wall time.",
          "- \"kernel\" is the compute alone: the peers time it in-process after a warm-up on "
          "8 rows; trainplot's is timed by `bench/sim-kernel.c` calling `tp_sim_compute` on "
          "the same file after the same warm-up. That first full-size call is what one "
          "command pays; \"steady-state kernel\" is the median of up to 5 further calls "
          "in the same process (fewer when they would pass ~1 s), as `%timeit` reports it, "
          "with caches, page tables and BLAS buffers warm; those repeats are timed in the process "
          "and subtracted from its wall time. GFLOP/s counts 2n²d for every contender; "
          "syrk does about half of that arithmetic. The BLAS ceiling is probed inside each "
          "similarity case, interleaved with the contenders (`bench/probe-blas.c`: the faster "
          "of cblas_sgemm and cblas_ssyrk on the same shape, output pages pre-faulted); "
          "'% of BLAS ceiling' is that time over the contender's kernel time.",
          "- Parsers must report the number of points in the file; a run that does not is "
          "counted as failed, not as fast.",
          "- The similarity peers write their matrix as float32 like trainplot does; the "
          "per-pair torch loop is timed on a few rows and scaled to n rows (labelled).",
          "- Spike peers: rolling median of the residuals' absolute values as the MAD (window "
          "%s, centred), `find_peaks` with prominence 6 × global MAD, ewm z-score with "
          "alpha 0.02; all flag at 6 robust sigmas and rank runs by peak." % "101", ""]
    L += measurements()
    with open(path, "w") as f:
        f.write("\n".join(L))


MEASUREMENTS_HEADING = "## Measurements quoted in the code (not from this run)"


def measurements():
    """bench/MEASUREMENTS.md, verbatim under one heading: the hand measurements the code's
    comments cite, kept with the results though no run recomputes them."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "MEASUREMENTS.md")) as f:
        text = f.read()
    return [MEASUREMENTS_HEADING, "", text.rstrip("\n"), ""]


if __name__ == "__main__":  # re-render from a saved results.json
    d = json.load(open(sys.argv[1]))
    write(sys.argv[2], d["machine"], d["groups"], d["notes"], d["quick"])
