#!/bin/sh
# Nothing lost: a run killed with SIGKILL while writing leaves the previous output intact and
# no temporary visible to plot; an output equal to the input is refused; inputs stay unwritten.
. "$top_srcdir/tests/lib.sh"
T="$TRAINPLOT"
D="$TP_TMP/w" # a directory of its own: lib.sh keeps its files in TP_TMP
mkdir -p "$D"
BIG='sinusoidal:8192x512' # a 268 MB similarity matrix: long enough to be caught mid-write

sum() { cksum < "$1"; }
# Visible names in D (what a glob or 'plot' completion sees), one per line.
visible() { (cd "$D" && ls); }

"$T" posemb similarity 'sinusoidal:64x16' -o "$D/out.bin" 2>/dev/null
old=$(sum "$D/out.bin")
before=$(visible)

# Start the big run and SIGKILL it once its temporary has data; retry if it wins the race.
killed=0
for attempt in 1 2 3; do
  "$T" posemb similarity "$BIG" -o "$D/out.bin" 2>/dev/null &
  pid=$!
  i=0
  while [ $i -lt 6000 ] && kill -0 $pid 2>/dev/null; do
    tmp=$(ls -a "$D" | grep '^\.out\.bin\.tmp' | head -1)
    if [ -n "$tmp" ] && [ -s "$D/$tmp" ]; then
      kill -KILL $pid && killed=1
      break
    fi
    sleep 0.01
    i=$((i + 1))
  done
  wait $pid 2>/dev/null
  [ $killed = 1 ] && break
  "$T" posemb similarity 'sinusoidal:64x16' -o "$D/out.bin" 2>/dev/null # restore the old output
done
if [ $killed = 1 ]; then
  diag "killed the writer with $(wc -c < "$D/$tmp") bytes in $tmp"
  ok "posemb similarity $BIG - SIGKILL mid-write, expect the previous out.bin byte for byte" \
    test "$(sum "$D/out.bin")" = "$old"
  ok "posemb similarity $BIG - SIGKILL mid-write, expect no new name visible to ls or a glob" \
    test "$(visible)" = "$before"
  ok "posemb similarity - after a killed run, expect a new run to replace out.bin" \
    sh -c "'$T' posemb similarity 'sinusoidal:32x16' -o '$D/out.bin' && test \$(wc -c < '$D/out.bin') -eq 4356"
else
  skip "the writer finished before it could be killed three times"
  skip "the writer finished before it could be killed three times"
  skip "the writer finished before it could be killed three times"
fi

# Inputs: read-only files, an output equal to the input by name, by symlink and by hard link.
"$T" posemb export 'sinusoidal:64x16' -o "$D/in.npy" 2>/dev/null
ln -s in.npy "$D/link.npy"
ln "$D/in.npy" "$D/hard.npy"
chmod a-w "$D/in.npy"
in=$(sum "$D/in.npy")
for o in "$D/in.npy" "$D/link.npy" "$D/hard.npy"; do
  ok "posemb similarity - output $(basename "$o") is the input, expect exit 1 and 'output is the input'" \
    sh -c "'$T' posemb similarity '$D/in.npy' -o '$o' 2>'$D/e'; test \$? -eq 1 && grep -q 'output is the input' '$D/e'"
done
ok "posemb list|summary|similarity|profile|export - read-only input, expect success and the input unchanged" \
  sh -c "'$T' posemb list '$D/in.npy' && '$T' posemb summary '$D/in.npy' && '$T' posemb similarity '$D/in.npy' -o '$D/s.bin' \
    && '$T' posemb profile '$D/in.npy' -o '$D/p.dat' && '$T' posemb export '$D/in.npy' -o '$D/x.txt' \
    && test \"\$(cksum < '$D/in.npy')\" = '$in'"
# LeakSanitizer cannot run under ptrace, so leaks are not checked in this one case.
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
  ok "posemb similarity - every open of the input under strace, expect read-only flags" \
    sh -c "ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=open,openat,creat -o '$D/trace' '$T' posemb similarity '$D/in.npy' -o '$D/s2.bin' >/dev/null 2>&1 \
      && grep -q 'in.npy' '$D/trace' && ! grep 'in.npy' '$D/trace' | grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|creat\\('"
else
  skip "strace not available or not permitted"
fi
chmod u+w "$D/in.npy"
tap_done
