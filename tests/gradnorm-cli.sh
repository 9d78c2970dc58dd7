#!/bin/sh
# `trainplot gradnorm …` end to end on the real logs: spikes found, JSON shapes, blocks, errors.
. "$top_srcdir/tests/lib.sh"
T="$TRAINPLOT"
D="$TP_TMP"
F="${TP_FIXTURES:-}"
PY="${TP_PYTHON3:-}"
HF="$F/hf_trainer_state"
[ -d "$F" ] || skip_all "real fixtures not found at '$F'"
[ -x "$PY" ] || skip_all "python3 not found (TP_PYTHON3='$PY'), needed for the JSON checks"
"$T" --list 2>/dev/null | grep -q '^gradnorm ' || skip_all "gradnorm module not loadable"

# json_has FILE EXPR: python3 evaluates EXPR on the parsed JSON as j.
json_has() { "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
STATS_KEYS="{'count','nonfinite','mean','sd','min','max','max_step','median','p90','p99'}"
EP_KEYS="{'rank','start','end','peak_step','peak','baseline','ratio','score'}"

ok "gradnorm spikes - hf Star --top 5 --json, expect steps 22360 33900 4700 10600 5560" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-Star.json' --top 5 --json > '$D/star.json'"
ok "gradnorm spikes - hf Star JSON, expect keys count/episodes/overflow_steps" \
  json_has "$D/star.json" "set(j) == {'count','episodes','overflow_steps'} and all(set(e) == $EP_KEYS for e in j['episodes'])"
ok "gradnorm spikes - hf Star, expect the five known spikes ranked first" \
  json_has "$D/star.json" "[e['peak_step'] for e in j['episodes']] == [22360, 33900, 4700, 10600, 5560] and [e['rank'] for e in j['episodes']] == [1,2,3,4,5]"
ok "gradnorm spikes - hf Star, expect peaks 82.4 and 53.9 with ratio > 10" \
  json_has "$D/star.json" "abs(j['episodes'][0]['peak'] - 82.41) < 0.01 and abs(j['episodes'][1]['peak'] - 53.93) < 0.01 and j['episodes'][1]['ratio'] > 10"
ok "gradnorm spikes - t5 --top 2, expect 190000 then 164000" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-t5-summarization-demo.json' --top 2 --json > '$D/t5.json' && '$PY' -c \"import json; j=json.load(open('$D/t5.json')); assert [e['peak_step'] for e in j['episodes']] == [190000, 164000]\""
ok "gradnorm spikes - tinyllama (smooth), expect 0 episodes" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-tinyllama-smooth.json' --json > '$D/tl.json' && '$PY' -c \"import json; assert json.load(open('$D/tl.json'))['count'] == 0\""
ok "gradnorm spikes - fairseq syngec (no spikes), expect 0 episodes and 98 overflow steps" \
  sh -c "'$T' gradnorm spikes '$F/fairseq/fairseq-simple-glat-syngec.log' --json > '$D/sg.json' && '$PY' -c \"import json; j=json.load(open('$D/sg.json')); assert j['count'] == 0 and len(j['overflow_steps']) > 0, j\""
ok "gradnorm spikes - bashkir whisper, expect the warm-up spike at step 25 first" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-bashkir-whisper.json' --json --top 1 > '$D/bk.json' && '$PY' -c \"import json; assert json.load(open('$D/bk.json'))['episodes'][0]['peak_step'] == 25\""
ok "gradnorm spikes - trocr (huge norms), expect 4.34e6 at step 142 first" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-trocr-huge-gnorm.json' --json --top 1 > '$D/tr.json' && '$PY' -c \"import json; e=json.load(open('$D/tr.json'))['episodes'][0]; assert e['peak_step'] == 142 and e['peak'] > 4e6\""
ok "gradnorm stats - hf Star --json, expect the DESIGN keys and max 82.4 at 22360" \
  sh -c "'$T' gradnorm stats '$HF/hf-trainer_state-Star.json' --json > '$D/st.json' && '$PY' -c \"import json; j=json.load(open('$D/st.json')); assert set(j) == $STATS_KEYS and j['count'] == 2000 and j['max_step'] == 22360, j\""
ok "gradnorm stats - --max-norm 10, expect clip_fraction 69/2000" \
  sh -c "'$T' gradnorm stats '$HF/hf-trainer_state-Star.json' --max-norm 10 --json > '$D/st2.json' && '$PY' -c \"import json; j=json.load(open('$D/st2.json')); assert abs(j['clip_fraction'] - 69/2000) < 1e-12, j\""
ok "gradnorm stats - median vs numpy, expect equal to 1e-12" \
  sh -c "'$PY' -c \"import json,statistics; d=json.load(open('$HF/hf-trainer_state-Star.json')); v=[r['grad_norm'] for r in d['log_history'] if 'grad_norm' in r]; j=json.load(open('$D/st.json')); assert abs(j['median'] - statistics.median(v)) < 1e-12\""
ok "gradnorm spikes - -o, expect six named blocks in order, '# series' on line 1" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-Star.json' -o '$D/star.dat' > /dev/null && head -1 '$D/star.dat' | grep -qx '# series' && test \"\$(grep -E '^# (series|baseline|band|spikes|episodes|overflow)\$' '$D/star.dat' | tr -d '# ' | tr '\n' ' ')\" = 'series baseline band spikes episodes overflow '"
ok "gradnorm spikes - -o, expect two blank lines before each later block" \
  sh -c "test \$(grep -B2 -E '^# (baseline|band|spikes|episodes|overflow)\$' '$D/star.dat' | grep -c '^\$') -eq 10"
if [ -n "${GNUPLOT:-}" ] && command -v "$GNUPLOT" > /dev/null 2>&1; then
  ok "gnuplot - stats index \"spikes\", expect the flagged points with max 82.4" \
    sh -c "run_gnuplot() { '$GNUPLOT' \"\$@\"; }; '$GNUPLOT' -e \"stats '$D/star.dat' index 'spikes' using 2 nooutput; if (abs(STATS_max - 82.4098) > 1e-3 || STATS_records < 5) exit error 'bad'\""
else
  skip "gnuplot not found"
fi
ok "gradnorm spikes - output equal to the input, expect exit 1 and the file untouched" \
  sh -c "cp '$HF/hf-trainer_state-t5-summarization-demo.json' '$D/in.json' && ! '$T' gradnorm spikes '$D/in.json' -o '$D/in.json' 2> '$D/err' && cmp -s '$D/in.json' '$HF/hf-trainer_state-t5-summarization-demo.json'"
ok "gradnorm spikes - missing file, expect exit 1 and 'trainplot: FILE:'" \
  sh -c "'$T' gradnorm spikes '$D/nope.log' 2> '$D/err'; test \$? -eq 1 && grep -q '^trainplot: .*nope.log' '$D/err'"
ok "gradnorm spikes - --window 100, expect exit 1 naming the window" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-Star.json' --window 100 2> '$D/err'; test \$? -eq 1 && grep -q 'window must be an odd' '$D/err'"
ok "gradnorm spikes - --bogus, expect exit 1 and the usage" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-Star.json' --bogus 2> '$D/err'; test \$? -eq 1 && grep -q 'usage: trainplot gradnorm spikes' '$D/err'"
ok "gradnorm spikes - --method threshold without a value, expect exit 1 naming max_norm" \
  sh -c "'$T' gradnorm spikes '$HF/hf-trainer_state-Star.json' --method threshold 2> '$D/err'; test \$? -eq 1 && grep -q 'max_norm' '$D/err'"
# A log whose name holds a newline and an ESC sequence: the name is echoed in comments
# and messages, where it must neither start a data row nor reach a terminal raw.
BAD="$D/$(printf 'a\nb\033[31m').log"
awk 'BEGIN { for (i = 1; i <= 300; i++) print i, (i == 150 ? 50 : 1 + 0.01 * (i % 7)) }' > "$BAD"
ESC=$(printf '\033')
ok "gradnorm spikes - -o for a log named 'a\\nb\\e[31m.log', expect no injected row and no raw ESC" \
  sh -c "'$T' gradnorm spikes \"\$1\" -o '$D/bad.dat' > '$D/bad.out' && ! grep -q '^b' '$D/bad.dat' && ! grep -q '$ESC' '$D/bad.dat' && grep -qF 'data: $D/a\\nb\\x1b[31m.log (format plain' '$D/bad.dat'" sh "$BAD"
ok "gradnorm spikes - text for that log, expect the name escaped on one line" \
  sh -c "! grep -q '$ESC' '$D/bad.out' && grep -qF '# $D/a\\nb\\x1b[31m.log: 300 points' '$D/bad.out' && ! grep -q '^b' '$D/bad.out'"
ok "gradnorm stats - text for that log, expect the name escaped on one line" \
  sh -c "'$T' gradnorm stats \"\$1\" > '$D/bad.st' && ! grep -q '$ESC' '$D/bad.st' && grep -qF 'file            $D/a\\nb\\x1b[31m.log' '$D/bad.st'" sh "$BAD"
ok "gradnorm stats - missing log with that kind of name, expect one escaped line on stderr" \
  sh -c "'$T' gradnorm stats \"\$1.gone\" 2> '$D/bad.err'; test \$? -eq 1 && test \$(wc -l < '$D/bad.err') -eq 1 && ! grep -q '$ESC' '$D/bad.err'" sh "$BAD"

# The one command-line parser: '--' ends options, --help describes a command.
printf '1 2.5\n2 3.5\n' > "$D/-x.log"
ok "gradnorm stats -- -x.log, expect the file read, not an option" \
  sh -c "cd '$D' && '$T' gradnorm stats -- -x.log | grep -q 'count *2'"
ok "gradnorm stats -x.log, expect exit 1 naming the unknown option, one line" \
  sh -c "cd '$D' && '$T' gradnorm stats -x.log 2> e; test \$? -eq 1 && test \$(wc -l < e) -eq 1 && grep -q \"unknown option '-x.log'\" e"
ok "gradnorm spikes --help, expect exit 0 and every option with its help on stdout" \
  sh -c "'$T' gradnorm spikes --help > '$D/h' && grep -q -- '--min-ratio R' '$D/h' && grep -q 'mad|ewma|ratio|threshold' '$D/h'"
ok "gradnorm spikes --window=x, expect exit 1 naming the value" \
  sh -c "'$T' gradnorm spikes '$D/-x.log' --window=x 2> '$D/e'; test \$? -eq 1 && grep -q \"bad value for --window: 'x'\" '$D/e'"
ok "gradnorm stats - hugelen.tfevents (record 4 claims 2^40 bytes), expect 'skipped 22 bytes from offset 187'" \
  sh -c "mkdir -p '$D/gen' && '$PY' '$top_srcdir/tests/gen/series.py' '$D/gen' && '$T' gradnorm stats '$D/gen/hugelen.tfevents' | grep -qx 'skipped 22 bytes from offset 187'"
tap_done
