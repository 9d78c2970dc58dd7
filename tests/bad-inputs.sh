#!/bin/sh
# The bad-input corpus (tests/bad/MANIFEST.tsv) through the host: every case must end with
# its exit status and message, within a time bound, with no sanitizer or valgrind report.
. "$top_srcdir/tests/lib.sh"
T="$TRAINPLOT"
PY="${TP_PYTHON3:-}"
M="$top_srcdir/tests/bad/MANIFEST.tsv"
D="$TP_TMP/bad"
PWNED=/tmp/trainplot-pwned # what the code-running pickles would create
TAB=$(printf '\t')

[ -n "$PY" ] && "$PY" -c 'import zlib, struct' 2>/dev/null || skip_all "no python3 to generate the corpus (TP_PYTHON3='$PY')"
"$PY" "$top_srcdir/tests/bad/make-bad.py" "$D" || skip_all "make-bad.py failed"
mkdir "$D/@dir" && mkfifo "$D/@fifo" || skip_all "cannot make a directory or FIFO in $D"
rm -f "$PWNED" 2>/dev/null
"$T" --list > "$TP_TMP/modules" 2>/dev/null

# Under valgrind each case may take seconds; elsewhere 20 s is far more than any case needs.
limit=20
if [ "${TP_VALGRIND:-0}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
  limit=300
  VG="valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$top_srcdir/tests/valgrind.supp"
else
  VG=
fi
# Outside sanitizers and valgrind, an address-space cap turns any allocation far past the
# limit below into a failure instead of a swap storm.
if [ "${TP_SANITIZE:-0}" != 1 ] && [ -z "$VG" ]; then
  ulimit -v 4194304 2>/dev/null || true
fi

cases=$(grep -vc '^#' "$M")
tap_plan $((cases + 1))

# run_case FILE COMMAND: prints nothing, leaves the output in $TP_TMP/out and status in $rc.
run_case() {
  f=$1; set -- $2
  envs=
  while [ $# -gt 0 ]; do
    case $1 in *=*) envs="$envs $1"; shift ;; *) break ;; esac
  done
  w1=$1 w2=$2; shift 2
  case $f in /*) p=$f ;; *) p="$D/$f" ;; esac
  [ "$f" = @missing ] && p="$D/no-such-file.npy"
  env TRAINPLOT_MAX_BYTES=256M $envs timeout $limit $VG "$T" "$w1" "$w2" "$p" "$@" \
    > "$TP_TMP/out" 2>&1 < /dev/null
  rc=$?
}

n=0
grep -v '^#' "$M" | while IFS="$TAB" read -r file cmd want msg todo; do
  n=$((n + 1))
  mod=$(echo "$cmd" | tr ' ' '\n' | grep -v = | head -1) # the first word that is not VAR=value
  desc="trainplot $cmd - $file, expect exit $want and '$msg'"
  suffix=
  [ -n "$todo" ] && suffix=" # TODO ${todo#todo: }"
  if ! grep -q "^$mod " "$TP_TMP/modules"; then
    echo "ok $n # SKIP module '$mod' not built"
    continue
  fi
  run_case "$file" "$cmd"
  if [ $rc -eq 124 ]; then
    why="timed out after ${limit}s"
  elif grep -q -e 'Sanitizer' -e 'runtime error:' "$TP_TMP/out"; then
    why="sanitizer report"
  elif [ $rc -eq 97 ] && [ -n "$VG" ]; then
    why="valgrind report"
  elif [ $rc -ne "$want" ]; then
    why="exit $rc"
  elif ! grep -qF -- "$msg" "$TP_TMP/out"; then
    why="message not found"
  else
    echo "ok $n - $desc$suffix"
    continue
  fi
  echo "not ok $n - $desc$suffix"
  echo "#   $why; output:"
  head -8 "$TP_TMP/out" | sed 's/^/#   /'
done > "$TP_TMP/tap"
cat "$TP_TMP/tap"
tap_n=$cases
tap_failed=$(grep '^not ok' "$TP_TMP/tap" | grep -vc '# TODO')
ok "pickles - every case above, expect none of them ran code (no $PWNED)" test ! -e "$PWNED"
tap_done
