"""bench library: sizes, the process runner (wall time + peak RSS through wait4), input
generation, and the interleaved measurement loop that bench/cases.py builds on."""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = None  # scratch directory for the runner's stdout/stderr files; set by Ctx

# name: (full, quick); reps are per size so the 10^7 cases stay inside the time budget.
SIZES = {
    "tables": ([(1026, 256, 7), (4096, 768, 5), (8192, 1024, 5), (16384, 1024, 3)],
               [(1026, 256, 1), (2048, 256, 1)]),
    "heatmaps": ([(1026, 256, 5), (4096, 768, 3)], [(1026, 256, 1)]),
    "fairseq": ([(10**6, 5), (10**7, 3)], [(10**5, 1)]),
    "trainer_state": ([(10**6, 5)], [(10**5, 1)]),
    "plain": ([(10**7, 3)], [(10**5, 1)]),
    "spikes": ([(10**5, 7), (10**6, 5), (10**7, 3)], [(10**4, 1), (10**5, 1)]),
    "explosions": ([(10**6, 5)], [(10**5, 1)]),
    "pooled": ([(65536, 1024, 2048, 1)], [(4096, 64, 256, 1)]),
}
NAIVE_ROWS = (20, 4)  # rows of the per-pair torch loop actually timed (full, quick)
WINDOW, THRESH, EWM_ALPHA = 101, 6.0, 0.02


class Ctx:
    """Paths and binaries shared by every case; `notes` collects skips and failures."""

    def __init__(self, a):
        global WORK
        WORK = a.work
        self.a, self.quick = a, a.quick
        self.py, self.trainplot, self.gnuplot = a.python, a.trainplot, a.gnuplot
        self.bin, self.gp = a.bin, a.gp_dir
        self.data = os.path.join(a.work, "data")
        self.out = os.path.join(a.work, "out")
        os.makedirs(self.data, exist_ok=True)
        os.makedirs(self.out, exist_ok=True)
        self.peers = os.path.join(HERE, "peers.py")
        self.notes = []
        self.env = dict(os.environ)

    def size(self, key):
        return SIZES[key][1 if self.quick else 0]

    def note(self, text):
        print("bench: " + text, file=sys.stderr)
        self.notes.append(text)

    def probe_bin(self, name):
        p = os.path.join(self.bin, name)
        return p if os.access(p, os.X_OK) else None


def run(argv, env=None):
    """One process: wall time from fork to reap, its own peak RSS (wait4), parsed JSON stdout."""
    with open(os.devnull, "rb") as nul, \
            open(os.path.join(WORK, "last.out"), "w+b") as out, \
            open(os.path.join(WORK, "last.err"), "w+b") as err:
        t = time.perf_counter()
        try:
            p = subprocess.Popen(argv, stdin=nul, stdout=out, stderr=err, env=env)
        except OSError as e:
            return {"rc": 127, "err": str(e)}
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, etext = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    res = {"rc": p.returncode, "wall": wall, "rss_mb": ru.ru_maxrss / 1024.0}
    lines = [s for s in etext.splitlines() if s.strip()]
    res["err"] = lines[-1][:200] if lines else ""
    res["json"] = parse_json(text)
    return res


def parse_json(text):
    """The whole stdout as JSON (trainplot pretty-prints), else its last line (the peers)."""
    text = text.strip()
    for candidate in (text, text.splitlines()[-1] if text else ""):
        try:
            return json.loads(candidate) if candidate else None
        except ValueError:
            continue
    return None


def ensure(path, argv):
    """Generate an input once; later runs reuse it (a temporary name, so never half a file)."""
    if os.path.exists(path):
        return path
    tmp = os.path.join(os.path.dirname(path), "tmp-" + os.path.basename(path))
    argv = [tmp if a == "@OUT@" else a for a in argv]
    print("bench: generating " + os.path.basename(path), file=sys.stderr)
    subprocess.run(argv, check=True)
    os.rename(tmp, path)
    return path


def gen_table(c, n, d):
    return ensure(os.path.join(c.data, "table-%dx%d.npy" % (n, d)),
                  [c.py, os.path.join(HERE, "gen.py"), "table", "@OUT@", str(n), str(d)])


def gen_log(c, kind, n):
    ext = "log" if kind == "fairseq" else "txt"
    return ensure(os.path.join(c.data, "%s-%d.%s" % (kind, n, ext)),
                  [c.probe_bin("gen-logs"), kind, str(n), "@OUT@"])


def gen_state(c, n):
    return ensure(os.path.join(c.data, "trainer_state-%d.json" % n),
                  [c.py, os.path.join(HERE, "gen.py"), "trainer_state", "@OUT@", str(n)])


def gen_series(c, n):
    src = gen_log(c, "plain", n)
    return src, ensure(os.path.join(c.data, "gnorm-%d.npy" % n),
                       [c.py, os.path.join(HERE, "gen.py"), "series", src, "@OUT@", str(n)])


def contender(name, argv, trainplot=False, out=None, check=None, reps=None, role=None):
    """One side of a comparison; role tells the report how to read it (e.g. "kernel")."""
    return {"name": name, "argv": [str(a) for a in argv], "trainplot": trainplot, "outfile": out,
            "check": check, "reps": reps, "role": role, "runs": [], "skip": None}


def measure(c, case):
    """Interleave the contenders rep by rep; a contender that fails once is dropped with a note."""
    live = [k for k in case["contenders"] if not k["skip"]]
    for r in range(case["reps"]):
        for k in live:
            if k["skip"] or (k["reps"] is not None and r >= k["reps"]):
                continue
            if k["outfile"] and os.path.exists(k["outfile"]):
                os.unlink(k["outfile"])
            res = run(k["argv"], env=c.env)
            why = failure(k, res)
            if why:
                k["skip"] = "failed: " + why
                c.note("%s / %s: %s" % (case["title"], k["name"], k["skip"]))
                continue
            k["runs"].append(res)
        for k in live:  # similarity matrices of 16384^2 are 1 GiB each: keep the disk clear
            if k["outfile"] and os.path.exists(k["outfile"]):
                os.unlink(k["outfile"])
        print("bench: %s rep %d/%d done" % (case["title"], r + 1, case["reps"]), file=sys.stderr)
    return case


def failure(k, res):
    """Why a run does not count: non-zero exit, a missing output, or a failed result check."""
    if res["rc"] != 0:
        return "exit %s: %s" % (res["rc"], res.get("err") or "no message")
    if k["outfile"] and (not os.path.exists(k["outfile"]) or os.path.getsize(k["outfile"]) < 100):
        return "no output written to %s" % os.path.basename(k["outfile"])
    if k["check"]:
        return k["check"](res.get("json"))
    return None


def count_check(expected):
    """Parsers must find every point: a fast parser that drops lines must not win."""
    def check(j):
        if not isinstance(j, dict):
            return "no JSON result on stdout"
        got = [j.get("count"), (j.get("count") or 0) + (j.get("nonfinite") or 0)]
        return None if expected in got else "parsed %s points, expected %d" % (got[0], expected)
    return check


def available(c, argv, what, env=None):
    """Probe a trainplot command on a tiny input; a missing command skips its rows with a note."""
    if not argv[0] or not os.access(argv[0], os.X_OK):
        return "not available: %s (%s not found)" % (what, argv[0] or "binary")
    res = run(argv, env=env or c.env)
    if res["rc"] != 0:
        return "not available yet: %s (exit %s: %s)" % (what, res["rc"], res.get("err"))
    return None


def mark(k, why, c, title):
    if why:
        k["skip"] = why
        c.note("%s / %s: %s" % (title, k["name"], why))
    return k


