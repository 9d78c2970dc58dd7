#!/bin/sh
# The fuzz targets' scratch files: a target killed by a signal leaves its file behind
# (atexit never runs); the next target removes it, and leaves live processes' files alone.
. "$top_srcdir/tests/lib.sh"
prog="$top_builddir/tests/fuzz/fuzz-log-plain"
[ -x "$prog" ] || skip_all "fuzz-log-plain not built"
if [ -w /dev/shm ]; then dir=/dev/shm; else dir=${TMPDIR:-/tmp}; fi
dead=$(sh -c 'echo $$')
stale="$dir/tp-fuzz-scratchtest-$dead"
live="$dir/tp-fuzz-scratchtest-$$"
: > "$stale"
: > "$live"
"$prog" > "$TP_TMP/replay.out" 2>&1
ok "fuzz target start - expect the file of a process that is gone removed" test ! -e "$stale"
ok "fuzz target start - expect the file of a live process kept" test -e "$live"
rm -f "$stale" "$live"
tap_done
