#!/bin/sh
# Signals and shrinking inputs: SIGINT/SIGTERM in the host remove the temporary output;
# in gnuplot a Ctrl-C inside a module call returns "interrupted" and the next call works;
# SIGTERM removes the scratch directory; a log truncated while it is read never kills.
. "$top_srcdir/tests/lib.sh"
[ -x "$TRAINPLOT" ] || skip_all "trainplot not built"
PY=${TP_PYTHON3:-/usr/bin/python3}
[ -x "$PY" ] || skip_all "python3 not found (it starts the children with SIGINT not ignored)"
GP="$top_builddir/gp-scripts/uninstalled"
# A background job of a non-interactive shell ignores SIGINT; start it with the default.
# For gnuplot in a sanitizer build, the child (not python) gets the ASan runtime first.
spawn() { TP_PRELOAD=${TP_PRELOAD:-} "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
if os.environ.get("TP_PRELOAD"):
    os.environ["LD_PRELOAD"] = os.environ["TP_PRELOAD"]
    os.environ["ASAN_OPTIONS"] = "detect_leaks=0"
os.execvp(sys.argv[1], sys.argv[1:])' "$@" & }
GP_PRELOAD=
[ "${TP_SANITIZE:-0}" = 1 ] && GP_PRELOAD=$TP_ASAN_RUNTIME
# wait_line FILE WORD: up to 20 s for WORD to appear in FILE.
wait_line() {
  i=0
  while [ $i -lt 400 ] && ! grep -q "$2" "$1"; do sleep 0.05; i=$((i + 1)); done
}
# wait_for PATTERN: up to 20 s for a file matching the glob to appear.
wait_for() {
  i=0
  while [ $i -lt 400 ]; do
    for f in $1; do [ -e "$f" ] && return 0; done
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# ---- the host: a big write stopped by SIGTERM, then SIGINT ----
for sig in TERM INT; do
  d="$TP_TMP/host-$sig"
  mkdir "$d"
  spawn "$TRAINPLOT" posemb similarity 'sinusoidal:12000x64' -o "$d/sim.bin"
  pid=$!
  if wait_for "$d/.sim.bin.tmp*"; then
    sleep 0.2
    kill -$sig $pid
  fi
  wait $pid
  rc=$?
  case $sig in TERM) want=143 ;; INT) want=130 ;; esac
  ok "trainplot posemb similarity - SIG$sig during the write, expect status $want and no temporary left" \
    sh -c "test $rc -eq $want && test -z \"\$(ls -A '$d')\""
done

# ---- gnuplot ----
if [ -z "$GNUPLOT" ] || [ "$GNUPLOT" = no ]; then
  skip "gnuplot not found"; skip "gnuplot not found"; skip "gnuplot not found"
else
  cat > "$TP_TMP/intr.gp" <<EOF
load "$GP/trainplot.gp"
n = pe_load("sinusoidal:14000x256", "")
print "loaded"
r = pe_similarity("cosine", "")
print (r == r) ? "finished" : "stopped"
m = pe_load("sinusoidal:16x8", "")
print sprintf("next %d", m)
EOF
  TP_PRELOAD=$GP_PRELOAD spawn "$GNUPLOT" "$TP_TMP/intr.gp" > "$TP_TMP/intr.out" 2>&1
  pid=$!
  wait_line "$TP_TMP/intr.out" loaded
  sleep 0.1
  kill -INT $pid
  wait $pid
  rc=$?
  ok "gnuplot - Ctrl-C inside pe_similarity, expect 'interrupted', the next call working, exit 0" \
    sh -c "test $rc -eq 0 && grep -q 'posemb: interrupted' '$TP_TMP/intr.out' && grep -q 'stopped' '$TP_TMP/intr.out' && grep -q 'next 16' '$TP_TMP/intr.out'"

  mkdir "$TP_TMP/scratch"
  cat > "$TP_TMP/term.gp" <<EOF
load "$GP/trainplot.gp"
p = pe_scratch("sim.bin")
n = pe_load("sinusoidal:14000x256", "")
print "loaded"
r = pe_similarity("cosine", p)
print "not reached"
EOF
  TMPDIR="$TP_TMP/scratch" TP_PRELOAD=$GP_PRELOAD spawn "$GNUPLOT" "$TP_TMP/term.gp" > "$TP_TMP/term.out" 2>&1
  pid=$!
  wait_line "$TP_TMP/term.out" loaded
  sleep 0.1
  kill -TERM $pid
  wait $pid
  rc=$?
  ok "gnuplot - SIGTERM inside a module call, expect status 143 and the scratch directory gone" \
    sh -c "test $rc -eq 143 && test -z \"\$(ls -A '$TP_TMP/scratch')\""

  # SIGTERM outside any module call kills gnuplot at once; the next session sweeps it.
  mkdir "$TP_TMP/scratch2"
  cat > "$TP_TMP/stale.gp" <<EOF
load "$GP/trainplot.gp"
p = pe_scratch("sim.bin")
print "made"
pause 30
EOF
  TMPDIR="$TP_TMP/scratch2" TP_PRELOAD=$GP_PRELOAD spawn "$GNUPLOT" "$TP_TMP/stale.gp" > "$TP_TMP/stale.out" 2>&1
  pid=$!
  wait_line "$TP_TMP/stale.out" made
  { kill -KILL $pid; wait $pid; } 2>/dev/null
  left=$(ls -A "$TP_TMP/scratch2" | wc -l)
  printf 'load "%s/trainplot.gp"\np = pe_scratch("x")\n' "$GP" > "$TP_TMP/sweep.gp"
  TMPDIR="$TP_TMP/scratch2" run_gnuplot "$TP_TMP/sweep.gp" > /dev/null 2>&1
  ok "gnuplot - a session killed with its scratch directory, expect the next one to sweep it" \
    sh -c "test $left -eq 1 && test -z \"\$(ls -A '$TP_TMP/scratch2')\""
fi

# ---- a log truncated while the host reads it ----
"$PY" -c 'import sys
with open(sys.argv[1], "w") as f:
    for i in range(4000000):
        f.write("%d %.6f\n" % (i, 1.0 + (i % 97) / 100.0))' "$TP_TMP/big.log"
signals=0
for delay in 0.02 0.05 0.1; do
  cp "$TP_TMP/big.log" "$TP_TMP/run.log"
  "$TRAINPLOT" gradnorm stats "$TP_TMP/run.log" > "$TP_TMP/shrink.out" 2>&1 &
  pid=$!
  sleep $delay
  : > "$TP_TMP/run.log"
  wait $pid
  rc=$?
  [ $rc -le 1 ] || signals=$((signals + 1))
  if [ $rc -eq 1 ]; then grep -q 'shrank' "$TP_TMP/shrink.out" || signals=$((signals + 1)); fi
done
ok "trainplot gradnorm stats - log truncated during the read x 3, expect a result or 'shrank', never a signal" \
  test $signals -eq 0
tap_done
