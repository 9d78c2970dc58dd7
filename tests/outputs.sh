#!/bin/sh
# Outputs under attack: devices, FIFOs and /dev/stdout written in place; the scripts' OUT
# moved into place by the module (no pipes, never the input, nothing half-written, safe
# under concurrent runs); long paths; errno after a load; a failed load drops the old one.
. "$top_srcdir/tests/lib.sh"
[ -x "$TRAINPLOT" ] || skip_all "trainplot not built"
GP="$top_builddir/gp-scripts/uninstalled"
LOG="$top_srcdir/gp-scripts/data/star-trainer_state.json"
have_gnuplot=1
[ -n "$GNUPLOT" ] && [ "$GNUPLOT" != no ] || have_gnuplot=0
gp() { run_gnuplot -c "$@"; }
# is_png FILE: a complete PNG (signature first, IEND chunk last).
is_png() {
  [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$(tail -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 49454e44ae426082 ]
}

# ---- the host's -o ----
mkfifo "$TP_TMP/t.fifo"
cat "$TP_TMP/t.fifo" > "$TP_TMP/fifo.out" &
reader=$!
"$TRAINPLOT" posemb export 'sinusoidal:8x4' -o "$TP_TMP/t.fifo" > "$TP_TMP/e.out" 2>&1
rc=$?
# Renamed over (the old bug), the FIFO would never get a writer: do not wait for one.
[ -p "$TP_TMP/t.fifo" ] || kill $reader 2>/dev/null
wait $reader
ok "posemb export -o FIFO - expect exit 0 and the text through the pipe" \
  sh -c "test $rc -eq 0 && test -p '$TP_TMP/t.fifo' && test \$(wc -l < '$TP_TMP/fifo.out') -ge 8"
if [ "$(id -u)" = 0 ] && mknod "$TP_TMP/null" c 1 3 2>/dev/null; then
  "$TRAINPLOT" posemb export 'sinusoidal:8x4' -o "$TP_TMP/null" > "$TP_TMP/e.out" 2>&1
  ok "posemb export -o a character device, expect exit 0 and still a device" \
    sh -c "test $? -eq 0 && test -c '$TP_TMP/null' && ! ls -a '$TP_TMP' | grep -q tmp"
else
  skip "mknod needs root"
fi
"$TRAINPLOT" posemb export 'sinusoidal:8x4' -o /dev/stdout > "$TP_TMP/stdout.txt" 2>"$TP_TMP/e.out"
ok "posemb export -o /dev/stdout, expect the text on stdout and /dev/stdout still a link" \
  sh -c "test $? -eq 0 && test \$(wc -l < '$TP_TMP/stdout.txt') -ge 8 && test -L /dev/stdout"
mkdir "$TP_TMP/adir"
"$TRAINPLOT" posemb export 'sinusoidal:8x4' -o "$TP_TMP/adir" > "$TP_TMP/e.out" 2>&1
ok "posemb export -o DIRECTORY, expect exit 1 naming it" \
  sh -c "test $? -eq 1 && grep -q 'is a directory' '$TP_TMP/e.out' && test -d '$TP_TMP/adir'"

if [ $have_gnuplot = 0 ]; then
  tap_done
  exit
fi

# ---- the scripts' OUT ----
cp "$LOG" "$TP_TMP/in.json"
ln -s "$TP_TMP/in.json" "$TP_TMP/link.pdf"
gp "$GP/gradnorm-explosions.gp" "$TP_TMP/in.json" '' "$TP_TMP/link.pdf" > "$TP_TMP/e.out" 2>&1
ok "gradnorm-explosions.gp - OUT a symlink to the input, expect refused, the input intact" \
  sh -c "test $? -eq 1 && cmp -s '$LOG' '$TP_TMP/in.json' && grep -q 'input' '$TP_TMP/e.out'"
gp "$GP/posemb-heatmap.gp" 'sinusoidal:16x8' '' "|touch $TP_TMP/pwned.png" > "$TP_TMP/e.out" 2>&1
ok "posemb-heatmap.gp - OUT '|touch …', expect refused and nothing run" \
  sh -c "test $? -eq 1 && test ! -e '$TP_TMP/pwned.png' && grep -q 'shell' '$TP_TMP/e.out'"
printf 'previous figure\n' > "$TP_TMP/keep.png"
TMPDIR="$TP_TMP/no-such-dir" gp "$GP/posemb-heatmap.gp" 'sinusoidal:16x8' '' "$TP_TMP/keep.png" > "$TP_TMP/e.out" 2>&1
ok "posemb-heatmap.gp - a run that fails (TMPDIR missing), expect the previous OUT intact" \
  sh -c "test $? -eq 1 && grep -q 'previous figure' '$TP_TMP/keep.png'"
printf 'previous figure\n' > "$TP_TMP/keep2.png"
gp "$GP/gradnorm-explosions.gp" "$TP_TMP/missing.log" '' "$TP_TMP/keep2.png" > "$TP_TMP/e.out" 2>&1
ok "gradnorm-explosions.gp - missing log, expect one line naming it and the previous OUT intact" \
  sh -c "test $? -eq 1 && test \$(wc -l < '$TP_TMP/e.out') -eq 1 && grep -q missing.log '$TP_TMP/e.out' && grep -q 'previous figure' '$TP_TMP/keep2.png'"
# Four runs at once into the same OUT, three rounds: every result a whole PNG.
bad=0
for round in 1 2 3; do
  for k in 1 2 3 4; do
    gp "$GP/gradnorm-explosions.gp" "$LOG" '' "$TP_TMP/same.png" > /dev/null 2>&1 &
  done
  wait
  is_png "$TP_TMP/same.png" || bad=$((bad + 1))
done
ok "gradnorm-explosions.gp - 4 concurrent runs into one OUT x 3, expect a whole PNG each time" test $bad -eq 0
ok "gradnorm-explosions.gp - concurrent runs, expect no temporary left beside OUT" \
  sh -c "! ls -a '$TP_TMP' | grep -q '\.same\.png\.tmp'"

# ---- paths longer than any fixed buffer ----
long="$TP_TMP"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do long="$long/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"; done
mkdir -p "$long"
cp "$LOG" "$long/train.json"
cat > "$TP_TMP/long.gp" <<EOF
load "$GP/trainplot.gp"
n = gn_load("$long/train.json", "")
r = gn_write("$long/train.json")
print (r == r) ? "written" : "refused"
EOF
run_gnuplot "$TP_TMP/long.gp" > "$TP_TMP/e.out" 2>&1
ok "gn_write - input path of $(printf %s "$long" | wc -c) bytes as output, expect refused, the log intact" \
  sh -c "grep -q refused '$TP_TMP/e.out' && cmp -s '$LOG' '$long/train.json'"

# ---- errno after a read that saw an out-of-range number ----
printf '0 1e-400\n1 5e-324\n2 1e999\n3 2.0\n4 3.0\n' > "$TP_TMP/erange.log"
cat > "$TP_TMP/errno.gp" <<EOF
load "$GP/trainplot.gp"
n = gn_load("$TP_TMP/erange.log", "")
print sprintf("points %d", n)
EOF
run_gnuplot "$TP_TMP/errno.gp" > "$TP_TMP/e.out" 2>&1
ok "gn_load - a log with 1e-400, 5e-324 and 1e999, expect a defined point count" \
  grep_in "$TP_TMP/e.out" "points 5"
printf '1e-400 0\n0 1\n' > "$TP_TMP/erange.txt"
cat > "$TP_TMP/errno2.gp" <<EOF
load "$GP/trainplot.gp"
n = pe_load("$TP_TMP/erange.txt", "")
print sprintf("rows %d", n)
EOF
run_gnuplot "$TP_TMP/errno2.gp" > "$TP_TMP/e.out" 2>&1
ok "pe_load - a text matrix with 1e-400, expect a defined row count" grep_in "$TP_TMP/e.out" "rows 2"

# ---- one rule for a failed load: the previous data is gone ----
cat > "$TP_TMP/reload.gp" <<EOF
load "$GP/trainplot.gp"
a = pe_load("sinusoidal:16x8", "")
b = pe_load("$TP_TMP/missing.npy", "")
d = pe_dim(0)
print (d == d) ? "kept" : "dropped"
a = gn_load("$LOG", "")
b = gn_load("$TP_TMP/missing.log", "")
c = gn_stat("count")
print (c == c) ? "kept" : "dropped"
EOF
run_gnuplot "$TP_TMP/reload.gp" > "$TP_TMP/e.out" 2>&1
ok "pe_load and gn_load - a failed load, expect the previous table and series dropped" \
  sh -c "test \$(grep -c dropped '$TP_TMP/e.out') -eq 2"
tap_done
