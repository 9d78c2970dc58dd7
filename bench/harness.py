"""bench harness: reads the machine (CPU, BLAS ceiling, memory bandwidth, versions), runs
every case group from cases.py and hands the results to report.py. Run it through bench/run,
which builds the probes and finds the binaries."""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
import cases  # noqa: E402
import report  # noqa: E402
from benchlib import run  # noqa: E402


def machine(c):
    """Everything the header names, each read from the machine rather than typed."""
    m = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cores": os.cpu_count(),
         "kernel": platform.release(), "cpu": platform.processor() or "unknown"}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                m["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    v = run([c.py, c.peers, "versions"])
    m["py"] = v.get("json") or {}
    g = run([c.gnuplot, "--version"]) if c.gnuplot else {"rc": 1}
    m["gnuplot"] = subprocess.run([c.gnuplot, "--version"], capture_output=True, text=True
                                  ).stdout.strip() if g["rc"] == 0 else "not found"
    m["gsl"] = c.a.gsl_version or "unknown"
    m["trainplot"] = "not found"
    if c.trainplot and os.access(c.trainplot, os.X_OK):
        r = subprocess.run([c.trainplot, "--version"], capture_output=True, text=True)
        m["trainplot"] = (r.stdout or r.stderr).strip().splitlines()[0] if r.returncode == 0 \
            else "exit %d" % r.returncode
    blas, bw = c.probe_bin("probe-blas"), c.probe_bin("probe-membw")
    n, k = (1024, 256) if c.quick else (4096, 1024)
    m["blas"] = run([blas, str(n), str(k), "3"]).get("json") if blas else None
    m["membw"] = run([bw, str(1 << (22 if c.quick else 24)), "5"]).get("json") if bw else None
    if not m["blas"]:
        c.note("BLAS ceiling probe missing or failed: similarity rows have no ceiling fraction")
    return m


def recheck_ceiling(c, m):
    """Probe the BLAS again after the cases and keep the faster result, so a busy moment on a
    shared machine does not make the ceiling look low (and the peers look above it)."""
    blas = c.probe_bin("probe-blas")
    if not blas or not m.get("blas"):
        return
    again = run([blas, str(m["blas"]["n"]), str(m["blas"]["k"]), "3"]).get("json")
    if again and again["sgemm_gflops"] > m["blas"]["sgemm_gflops"]:
        m["blas"] = again


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/harness.py")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--trainplot", default="")
    p.add_argument("--gnuplot", default="")
    p.add_argument("--gp-dir", default="")
    p.add_argument("--gsl-version", default="")
    p.add_argument("--only", default="", help="comma-separated groups (debugging)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    c = b.Ctx(args)
    t0 = time.perf_counter()
    m = machine(c)
    groups = []
    for name, fn in cases.GROUPS:
        if args.only and name not in args.only.split(","):
            continue
        groups.append(fn(c, m))
    recheck_ceiling(c, m)
    m["total_s"] = time.perf_counter() - t0
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({"machine": m, "groups": groups, "notes": c.notes, "quick": c.quick},
                  f, indent=1, default=str)
    report.write(args.out, m, groups, c.notes, c.quick)
    print("bench: wrote %s in %.0f s" % (args.out, m["total_s"]), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
