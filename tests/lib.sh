# TAP helpers for the shell tests; source it, then ok/skip, then tap_done (which prints the plan).
tap_n=0
tap_failed=0
tap_plan() { echo "1..$1"; tap_planned=$1; }
# ok DESCRIPTION COMMAND…: passes when the command succeeds.
ok() {
  tap_desc=$1; shift
  tap_n=$((tap_n + 1))
  if "$@" >"$TP_TMP/ok.out" 2>&1; then
    echo "ok $tap_n - $tap_desc"
  else
    tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $tap_desc"
    sed 's/^/#   /' "$TP_TMP/ok.out" | head -20
  fi
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $1"; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
diag() { echo "# $*"; }
# Without a tap_plan, the plan is printed here from the checks that ran (TAP allows the
# plan last), so it is never typed by hand.
tap_done() {
  rm -rf "$TP_TMP"
  [ -n "${tap_planned:-}" ] || echo "1..$tap_n"
  [ "$tap_n" -eq "${tap_planned:-$tap_n}" ] || { echo "# planned $tap_planned, ran $tap_n"; exit 1; }
  [ "$tap_failed" -eq 0 ]
}
# Run gnuplot on a script file; preloads ASan when the modules were built with it.
run_gnuplot() {
  if [ "${TP_SANITIZE:-0}" = 1 ]; then
    LD_PRELOAD="$TP_ASAN_RUNTIME" ASAN_OPTIONS=detect_leaks=0 "$GNUPLOT" "$@"
  else
    "$GNUPLOT" "$@"
  fi
}
# grep_in FILE PATTERN: like grep -q, but prints the file on failure for the log.
grep_in() { grep -q -- "$2" "$1" || { echo "pattern '$2' not in:"; cat "$1"; return 1; }; }
TP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tp-sh-XXXXXX")
: "${top_builddir:=..}" "${top_srcdir:=..}"
