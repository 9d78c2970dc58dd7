#!/bin/sh
# Hostile argument strings through both bundled scripts and the host: nothing runs, nothing
# crashes, every error is one clear line, and no file appears that was not asked for.
. "$top_srcdir/tests/lib.sh"
[ -n "$GNUPLOT" ] && [ "$GNUPLOT" != no ] || skip_all "gnuplot not found"
for m in posemb gradnorm; do
  [ -f "$top_builddir/plugins/.libs/$m.so" ] || skip_all "module $m not built"
done
command -v timeout >/dev/null 2>&1 || skip_all "timeout(1) not found"
GP="$top_builddir/gp-scripts/uninstalled"
LOG="$top_srcdir/gp-scripts/data/star-trainer_state.json"
SPEC='sinusoidal:32x8'
CANARY="$TP_TMP/canary"
W="$TP_TMP/cwd"
HS="$TP_TMP/hostile"
mkdir "$HS"

# The strings, one file each (a shell variable cannot hold every byte, a file can): lit
# writes its argument as it is, esc interprets printf escapes in it (write %% for %).
nh=0
lit() { nh=$((nh + 1)); printf '%s' "$1" >"$HS/$(printf %02d $nh)"; }
esc() { nh=$((nh + 1)); printf "$1" >"$HS/$(printf %02d $nh)"; }
lit '%n'
lit '%s%s%s%s%s%s%s%s'
lit '%p %p'
lit '%999999999s'
lit "'"
lit '"'
lit '\'
esc 'a\nb'
esc 'a\rb\tc'
lit '`touch '"$CANARY"'`'
lit '$(touch '"$CANARY"')'
lit '|touch '"$CANARY"
lit '|cat'
lit '|touch '"$CANARY"'.png'
lit '@ARG1'
lit '@TP_in'
lit 'system("touch '"$CANARY"'")'
lit '"; system("touch '"$CANARY"'"); "'
lit "'; system('touch $CANARY'); '"
lit 'eval "system(\"touch '"$CANARY"'\")"'
lit '-e'
lit '--'
lit "$(printf '%05000d' 0 | tr 0 x)"
esc '\033[31mred\033[0m'
esc '\377\376'
esc 'a\177b'
lit 'max_norm=%n'
lit 'metric=%s'
lit 'title=%n%n'
lit 'key=%s'
lit 'method=%s%n'
lit 'top=1e999'
lit 'width=nan'
lit 'top=1e300'
lit 'pool=1e300'
lit 'width=1e300'
lit 'height=1e19'
esc 'metric=\302\2332J'
lit 'top=2 title=%n max_norm=%s'
lit 'top=2 logy=1 title=$(touch '"$CANARY"')'
esc 'top=2 title=a\033]0;x\007'
lit '%n=%n'
lit '=%n'
lit '../../etc/passwd'
lit '/dev/null'

# One run, in an empty directory and with a timeout; "gp" as the command is run_gnuplot's
# gnuplot (which timeout cannot call, being a function). $1 describes the run, $2 names the
# file the run may leave in that directory when it succeeds ("" for none). Checks run as
# shell builtins where they can: there are hundreds of runs.
run() {
  desc=$1 allowed=$2
  shift 2
  if [ "$1" = gp ]; then
    shift
    if [ "${TP_SANITIZE:-0}" = 1 ]; then
      set -- env LD_PRELOAD="$TP_ASAN_RUNTIME" ASAN_OPTIONS=detect_leaks=0 "$GNUPLOT" "$@"
    else
      set -- "$GNUPLOT" "$@"
    fi
  fi
  (cd "$W" && exec timeout -k 5 60 "$@") >"$TP_TMP/out" 2>"$TP_TMP/err"
  rc=$?
  faults=
  case $rc in
    0 | 1) ;;
    124 | 137) faults="$faults; timed out (exit $rc)" ;;
    *) faults="$faults; exit status $rc (expected 0 or 1)" ;;
  esac
  if [ -e "$CANARY" ]; then
    faults="$faults; a command ran: $CANARY was created"
    rm -f "$CANARY"
  fi
  # Failed: exactly one non-empty line, ended by a newline.
  if [ $rc -ne 0 ] && ! { IFS= read -r l1 && [ -n "$l1" ] && ! IFS= read -r l2 && [ -z "$l2" ]; } <"$TP_TMP/err"; then
    faults="$faults; the error is not one non-empty line"
  fi
  # A raw control byte (ESC, CR, BEL, DEL; a newline only ends a line; also the UTF-8 C1
  # controls and bytes never valid in UTF-8, which tp_text escapes), a sanitizer report, or
  # a figure on stdout (OUT became gnuplot's "|cmd" pipe). One grep; details on a hit.
  if LC_ALL=C grep -q -a -e '[[:cntrl:]]' -e "$C1_BYTES" -e "$BAD_BYTES" -e 'Sanitizer' -e 'runtime error:' "$TP_TMP/err" ||
    LC_ALL=C grep -q -a -e '[[:cntrl:]]' -e "$C1_BYTES" -e "$BAD_BYTES" -e "$PNG_MAGIC" -e '%PDF-' -e '<svg' "$TP_TMP/out"; then
    for f in err out; do
      LC_ALL=C grep -q -a '[[:cntrl:]]' "$TP_TMP/$f" && faults="$faults; std$f holds a raw control byte"
      LC_ALL=C grep -q -a -e "$C1_BYTES" -e "$BAD_BYTES" "$TP_TMP/$f" && faults="$faults; std$f holds a raw C1 control or invalid UTF-8 byte"
    done
    LC_ALL=C grep -q -a -e 'Sanitizer' -e 'runtime error:' "$TP_TMP/err" && faults="$faults; a sanitizer report"
    LC_ALL=C grep -q -a -e "$PNG_MAGIC" -e '%PDF-' -e '<svg' "$TP_TMP/out" && faults="$faults; a figure was written to stdout"
  fi
  # OUT may be missing though the run succeeded: a name=value word is an option, not OUT.
  wrote=0
  if [ $rc -eq 0 ] && [ -n "$allowed" ] && [ -f "$W/$allowed" ]; then
    wrote=1
    rm -f "$W/$allowed"
  fi
  for f in "$W"/* "$W"/.[!.]* "$W"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    faults="$faults; stray file '${f#"$W"/}'"
    rm -rf "$W" && mkdir "$W"
    break
  done
  ok "$desc - expect exit 0/1, nothing run, one-line error, no stray file" no_faults
}
# For ok: passes when run found nothing, else prints the faults and the run's stderr.
no_faults() {
  [ -z "$faults" ] && return 0
  printf 'faults:%s\nexit %s; stderr (first lines, cat -v):\n' "$faults" "$rc"
  head -c 2000 "$TP_TMP/err" | cat -v | head -8
  return 1
}
# A printable, '#'-free form of a hostile string for the test descriptions.
show() {
  LC_ALL=C tr -c ' -~' '?' <"$1" | tr '#' '?' | cut -c1-40 | tr -d '\n'
  [ "$(wc -c <"$1")" -le 40 ] || printf '...(%s bytes)' "$(wc -c <"$1" | tr -d ' ')"
}
PNG_MAGIC=$(printf '\211PNG')
C1_BYTES=$(printf '\302[\200-\237]') BAD_BYTES=$(printf '[\300\301\365-\377]')
mkdir "$W"

# The canary itself works: a command that does run is noticed.
sh -c 'touch "$1"' sh "$CANARY"
ok "canary - a shell that runs creates $CANARY, expect it seen" test -e "$CANARY"
rm -f "$CANARY"

for f in "$HS"/*; do
  H=$(cat "$f")
  s=$(show "$f")
  P="posemb-heatmap.gp" G="gradnorm-explosions.gp"
  run "$P KEY '$s'" o.svg gp -c "$GP/$P" "$SPEC" "$H" o.svg
  run "$P option '$s'" o.svg gp -c "$GP/$P" "$SPEC" '' o.svg "$H"
  run "$P INPUT '$s'" o.svg gp -c "$GP/$P" "$H" '' o.svg
  run "$P OUT '$s'" "$H" gp -c "$GP/$P" "$SPEC" '' "$H"
  run "$P OUT 'o-$s.png'" "o-$H.png" gp -c "$GP/$P" "$SPEC" '' "o-$H.png"
  run "$G KEY '$s'" o.svg gp -c "$GP/$G" "$LOG" "$H" o.svg
  run "$G option '$s'" o.svg gp -c "$GP/$G" "$LOG" '' o.svg "$H"
  run "$G LOG '$s'" o.svg gp -c "$GP/$G" "$H" '' o.svg
  run "$G OUT '$s'" "$H" gp -c "$GP/$G" "$LOG" '' "$H"
  run "$G OUT 'o-$s.svg'" "o-$H.svg" gp -c "$GP/$G" "$LOG" '' "o-$H.svg"
  run "trainplot posemb summary '$s'" "" "$TRAINPLOT" posemb summary "$H"
  run "trainplot gradnorm stats '$s'" "" "$TRAINPLOT" gradnorm stats "$H"
  run "trainplot posemb summary --key '$s'" "" "$TRAINPLOT" posemb summary "$SPEC" --key "$H"
  run "trainplot gradnorm stats --key '$s'" "" "$TRAINPLOT" gradnorm stats "$LOG" --key "$H"
  run "trainplot gradnorm spikes --method '$s'" "" "$TRAINPLOT" gradnorm spikes "$LOG" --method "$H"
  run "trainplot --call gradnorm gn_detect '$s'" "" "$TRAINPLOT" --call gradnorm gn_detect "$H"
  run "trainplot --call posemb pe_load '$s' ''" "" "$TRAINPLOT" --call posemb pe_load "$H" ""
done
diag "$nh hostile strings"
# The loop draws svg (pngcairo costs 0.2 s a run); pngcairo once with a huge size.
run "gradnorm-explosions.gp pngcairo option 'height=1e19'" o.png gp -c "$GP/gradnorm-explosions.gp" "$LOG" '' o.png height=1e19

# gnuplot hands a script at most nine arguments and drops the rest without a word.
run "gradnorm-explosions.gp - 10 arguments" "" gp -c "$GP/gradnorm-explosions.gp" "$LOG" '' o.svg \
  top=1 logy=0 width=1400 height=640 term=dumb method=mad window=101
ok "gradnorm-explosions.gp - 10 arguments, expect exit 1 naming the dropped 'window=101'" \
  sh -c "test $rc -eq 1 && grep -q \"dropped 1, from 'window=101' on\" '$TP_TMP/err'"
run "posemb-heatmap.gp - 12 arguments" "" gp -c "$GP/posemb-heatmap.gp" "$SPEC" '' o.svg \
  metric=cosine pool=auto width=1400 height=760 term=dumb summary=1 metric=dot width=800 height=500
ok "posemb-heatmap.gp - 12 arguments, expect exit 1 naming 3 dropped from 'metric=dot'" \
  sh -c "test $rc -eq 1 && grep -q \"dropped 3, from 'metric=dot' on\" '$TP_TMP/err'"
run "gradnorm-explosions.gp - 10 arguments, the dropped one a newline and ESC" "" gp -c "$GP/gradnorm-explosions.gp" \
  "$LOG" '' o.svg top=1 logy=0 width=1400 height=640 term=dumb method=mad "$(printf '%%n\nb\033[31m')"
ok "gradnorm-explosions.gp - 10 arguments, the dropped one a newline and ESC, expect exit 1 naming it escaped" \
  sh -c "test $rc -eq 1 && grep -q -F \"from '%n\\\\nb\\\\x1b[31m' on\" '$TP_TMP/err'"
run "gradnorm-explosions.gp - exactly 9 arguments" o.svg gp -c "$GP/gradnorm-explosions.gp" "$LOG" '' o.svg \
  top=1 logy=0 width=1400 height=640 term=dumb method=mad
ok "gradnorm-explosions.gp - exactly 9 arguments, expect exit 0 and the figure" test "$rc.$wrote" = 0.1
run "gradnorm-explosions.gp - 'top=2 max_norm=1 logy=1' as one argument" o.svg \
  gp -c "$GP/gradnorm-explosions.gp" "$LOG" '' o.svg 'top=2 max_norm=1 logy=1'
ok "gradnorm-explosions.gp - 'top=2 max_norm=1 logy=1' as one argument, expect exit 0, the figure and max_norm 1 used" \
  sh -c "test $rc.$wrote = 0.1 && grep -q '^. clipping: max_norm 1,' '$TP_TMP/err'"
tap_done
