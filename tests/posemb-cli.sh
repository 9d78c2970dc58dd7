#!/bin/sh
# `trainplot posemb …` end to end: outputs, JSON shapes, atomic output, refusals, messages.
. "$top_srcdir/tests/lib.sh"
T="$TRAINPLOT"
D="$TP_TMP"
SPEC='sinusoidal:100x16,padding_idx=1'
PY="${TP_PYTHON3:-}"

# json_has FILE EXPR: python3 evaluates EXPR on the parsed JSON as j (needs no numpy).
json_has() { "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }

ok "posemb similarity - $SPEC binary, expect (n+1)^2 float32 values" \
  sh -c "'$T' posemb similarity '$SPEC' -o '$D/s.bin' && test \$(wc -c < '$D/s.bin') -eq 40804" 
ok "posemb similarity - binary header, expect N=100 then column 0" \
  sh -c "od -An -tf4 -N8 '$D/s.bin' | awk '{exit !(\$1 == 100 && \$2 == 0)}'"
ok "posemb similarity - --format text, expect a comment and 100 rows of 100" \
  sh -c "'$T' posemb similarity '$SPEC' --format text -o '$D/s.txt' && test \$(grep -vc '^#' '$D/s.txt') -eq 100 && awk '!/^#/ && NF != 100 {exit 1}' '$D/s.txt'"
ok "posemb similarity - cosine, expect the padding row 1 written as NaN" \
  sh -c "sed -n 3p '$D/s.txt' | awk '{exit !(\$1 == \"nan\" || \$1 == \"NaN\" || \$1 == \"-nan\")}'"
ok "posemb similarity - --pool 10 --pool-mode max --double, expect an 11x11 float32 file" \
  sh -c "'$T' posemb similarity '$SPEC' --pool 10 --pool-mode max --double -o '$D/p.bin' && test \$(wc -c < '$D/p.bin') -eq 484"
ok "posemb similarity - --metric euclidean, expect success" \
  sh -c "'$T' posemb similarity '$SPEC' --metric euclidean -o '$D/e.bin'"
ok "posemb profile - expect blocks '# profile' and '# summary' two blank lines apart" \
  sh -c "'$T' posemb profile '$SPEC' -o '$D/prof.dat' && head -1 '$D/prof.dat' | grep -qx '# profile' && awk 'BEGIN{RS=\"\"} END{exit !(NR == 2)}' '$D/prof.dat' && grep -B2 '^# summary' '$D/prof.dat' | head -2 | grep -c '^\$' | grep -qx 2"
ok "posemb summary - text, expect the padding row and the band named" \
  sh -c "'$T' posemb summary '$SPEC' > '$D/sum.txt' && grep -q 'Row 1 is all zeros' '$D/sum.txt' && grep -q 'band half-width' '$D/sum.txt'"
ok "posemb profile - --pool 10, expect all 100 offsets and the unpooled summary line (band, Toeplitz, period)" \
  sh -c "'$T' posemb profile '$SPEC' --pool 10 -o '$D/pprof.dat' && test \$(awk '/^# profile/{b=1;next} /^# summary/{b=0} b && /^[0-9]/' '$D/pprof.dat' | wc -l) -eq 100 && test \"\$(tail -1 '$D/pprof.dat' | cut -d' ' -f1,3)\" = \"\$(tail -1 '$D/prof.dat' | cut -d' ' -f1,3)\""
ok "posemb summary - --pool 10, expect the unpooled sentences (no 'compared in blocks'; the Toeplitz figure differs in rounding only)" \
  sh -c "'$T' posemb summary '$SPEC' --pool 10 > '$D/psum.txt' && grep -q 'Toeplitz deviation [0-9.e-]*), as a sinusoidal' '$D/psum.txt' && grep -v Toeplitz '$D/sum.txt' > '$D/a' && grep -v Toeplitz '$D/psum.txt' > '$D/b' && cmp -s '$D/a' '$D/b'"
ok "posemb export - .npy, expect a 128-byte header and 100x16 float32" \
  sh -c "'$T' posemb export '$SPEC' -o '$D/t.npy' && test \$(wc -c < '$D/t.npy') -eq 6528 && head -c 6 '$D/t.npy' | od -An -c | grep -q 'N   U   M   P   Y'"
ok "posemb export - .txt, expect 100 rows of 16" \
  sh -c "'$T' posemb export '$SPEC' -o '$D/t.txt' && test \$(grep -vc '^#' '$D/t.txt') -eq 100"
ok "posemb similarity - the exported .npy as input, expect the same matrix as the spec" \
  sh -c "'$T' posemb similarity '$D/t.npy' -o '$D/s2.bin' && cmp -s '$D/s.bin' '$D/s2.bin'"
ok "posemb similarity - output is the input, expect exit 1 and the input unchanged" \
  sh -c "cp '$D/t.npy' '$D/keep.npy'; ! '$T' posemb similarity '$D/t.npy' -o '$D/./t.npy' 2>'$D/e' && grep -q 'output is the input' '$D/e' && cmp -s '$D/t.npy' '$D/keep.npy'"
ok "posemb similarity - failure before writing, expect the old output kept and no temporary left" \
  sh -c "echo old > '$D/old.bin'; ! '$T' posemb similarity '$D/missing.npy' -o '$D/old.bin' 2>/dev/null && test \"\$(cat '$D/old.bin')\" = old && ! ls -a '$D' | grep -q '\\.tmp'"
ok "posemb similarity - missing file, expect exit 1 and 'trainplot: FILE: reason'" \
  sh -c "'$T' posemb similarity '$D/missing.npy' -o '$D/x.bin' 2>'$D/e'; test \$? -eq 1 && grep -q \"^trainplot: $D/missing.npy: \" '$D/e' && test \$(wc -l < '$D/e') -eq 1"
ok "posemb similarity - no -o, expect exit 1 naming the usage" \
  sh -c "'$T' posemb similarity '$SPEC' 2>'$D/e'; test \$? -eq 1 && grep -q 'needs -o OUT' '$D/e'"
ok "posemb similarity - bad spec, expect exit 1 naming the spec" \
  sh -c "'$T' posemb similarity 'sinusoidal:10x8,padding_idx=10' -o '$D/x.bin' 2>'$D/e'; test \$? -eq 1 && grep -q 'padding_idx 10 is not a row' '$D/e'"
ok "posemb - unknown option, expect exit 1" \
  sh -c "'$T' posemb summary '$SPEC' --frob 2>'$D/e'; test \$? -eq 1 && grep -q \"unknown option '--frob'\" '$D/e'"

if [ -n "$PY" ] && "$PY" -c 'import json, zipfile' 2>/dev/null; then
  # An .npz written with the standard library: two tables, one of them positional.
  "$PY" - "$D" <<'EOF'
import sys, zipfile
d = sys.argv[1]
table = open(d + "/t.npy", "rb").read()
with zipfile.ZipFile(d + "/ckpt.npz", "w") as z:
    z.writestr("encoder.embed_tokens.weight.npy", table)
    z.writestr("decoder.embed_positions.weights.npy", table)
with zipfile.ZipFile(d + "/esc.npz", "w") as z:
    z.writestr("pos\x1b[31m\nembed_positions.weight.npy", table)
    z.writestr("tok.weight.npy", table)
with zipfile.ZipFile(d + "/two.npz", "w") as z:
    z.writestr("encoder.embed_positions.weight.npy", table)
    z.writestr("decoder.embed_positions.weight.npy", table)
EOF
  "$T" posemb list "$D/ckpt.npz" --json > "$D/l.json" 2>&1
  ok "posemb list - --json, expect file, format and tensors with name, dtype, shape" \
    json_has "$D/l.json" "j['file'].endswith('ckpt.npz') and j['format'] and len(j['tensors']) == 2 and j['tensors'][0]['shape'] == [100, 16] and j['tensors'][0]['dtype'] == 'float32' and set(j['tensors'][0]) == {'name', 'dtype', 'shape'}"
  ok "posemb summary - no key, one positional table, expect it used and named on stderr" \
    sh -c "'$T' posemb summary '$D/ckpt.npz' --json > '$D/s.json' 2>'$D/e' && grep -q \"using 'decoder.embed_positions.weights'\" '$D/e' && \"$PY\" -c \"import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j['key'] == 'decoder.embed_positions.weights' and j['rows'] == 100 and j['zero_rows'] == [1] and isinstance(j['sentences'], list) else 1)\" '$D/s.json'"
  ok "posemb list - a tensor named 'pos\\e[31m\\nembed_positions.weight', expect two lines, the name escaped, no raw ESC" \
    sh -c "'$T' posemb list '$D/esc.npz' > '$D/esc.txt' && test \$(wc -l < '$D/esc.txt') -eq 2 && grep -qF 'pos\\x1b[31m\\nembed_positions.weight	float32	100x16	positional' '$D/esc.txt' && ! grep -q \"\$(printf '\\033')\" '$D/esc.txt'"
  ok "posemb summary - two positional tables, expect exit 1 listing both" \
    sh -c "'$T' posemb summary '$D/two.npz' 2>'$D/e'; test \$? -eq 1 && grep -q 'encoder.embed_positions.weight' '$D/e' && grep -q 'decoder.embed_positions.weight' '$D/e'"
  ok "posemb export - bad key, expect exit 1 and the key named" \
    sh -c "'$T' posemb export '$D/ckpt.npz' --key nope -o '$D/x.npy' 2>'$D/e'; test \$? -eq 1 && grep -q \"'nope'\" '$D/e' && test ! -e '$D/x.npy'"
else
  skip "python3 with json/zipfile not available (TP_PYTHON3='$PY')"
  skip "python3 with json/zipfile not available"
  skip "python3 with json/zipfile not available"
  skip "python3 with json/zipfile not available"
  skip "python3 with json/zipfile not available"
fi
R="${TP_FIXTURES:-}/pos_embeddings"
if [ -d "$R" ] && [ -n "$PY" ]; then
  "$T" posemb summary "$R/microgpt-pos_emb-256x64-MicroGptTest.pt" --json > "$D/m.json" 2>/dev/null
  ok "posemb summary - real 1x256x64 pos_emb checkpoint, expect it picked and squeezed to 256 x 64" \
    json_has "$D/m.json" "j['key'] == 'model_state._orig_mod.pos_emb' and j['rows'] == 256 and j['dim'] == 64"
  ok "posemb summary - real fairseq checkpoint without a stored table, expect exit 1 suggesting a sinusoidal spec" \
    sh -c "'$T' posemb summary '$R/fairseq-transformer-sinusoidal-fairseq-server.pt' 2>'$D/e'; test \$? -eq 1 && grep -q 'sinusoidal:1026x40,padding_idx=1' '$D/e'"
else
  skip "real fixtures not found at '$R' or no python3"
  skip "real fixtures not found at '$R' or no python3"
fi
# An 80 KB N x 1 .npy declares a 20448-row table, a 1.6 GB matrix: written here, so no
# numpy is needed. The memory cap is below that matrix, so planning it fails loudly.
mknpy() {
  h="{'descr': '<f4', 'fortran_order': False, 'shape': ($1, 1), }"
  { printf '\223NUMPY\001\000\166\000%s' "$h"; printf "%$((128 - 11 - ${#h}))s\n" ''
    head -c $(($1 * 4)) /dev/zero | tr '\0' '\077'; } > "$2"
}
mknpy 20448 "$D/long.npy"
# ASan reserves terabytes of address space for its shadow, so no cap under sanitizers.
CAP="ulimit -v 900000"
[ "${TP_SANITIZE:-0}" = 1 ] && CAP=:
ok "posemb summary - 80 KB N x 1 .npy under a 900 MB cap, expect exit 0 from row tiles with a note" \
  sh -c "$CAP; '$T' posemb summary '$D/long.npy' > '$D/l.txt' 2>'$D/e' && grep -q '20448 positions' '$D/l.txt' && grep -q 'over the 1073741824-byte budget.*row tiles' '$D/e'"
ok "posemb profile - 80 KB N x 1 .npy under a 900 MB cap, expect exit 0 and all 20448 offsets" \
  sh -c "$CAP; '$T' posemb profile '$D/long.npy' -o '$D/lp.dat' 2>/dev/null && test \$(awk '/^# profile/{b=1;next} /^# summary/{b=0} b && /^[0-9]/' '$D/lp.dat' | wc -l) -eq 20448"
ok "posemb similarity - 80 KB N x 1 .npy without --pool, expect exit 1 naming the file and --pool" \
  sh -c "$CAP; '$T' posemb similarity '$D/long.npy' -o '$D/l.bin' 2>'$D/e'; test \$? -eq 1 && grep -q \"^trainplot: $D/long.npy: .*budget.*--pool SIZE\" '$D/e' && test ! -e '$D/l.bin'"
ok "posemb similarity - 80 KB N x 1 .npy with --pool 64, expect a 65x65 float32 file" \
  sh -c "$CAP; '$T' posemb similarity '$D/long.npy' --pool 64 -o '$D/l.bin' && test \$(wc -c < '$D/l.bin') -eq 16900"
BAD="$D/$(printf 'a\nb\033[31m').npy"
cp "$D/long.npy" "$BAD"
ok "posemb summary - a long table named 'a\\nb\\e[31m.npy', expect the note on one line, the name escaped" \
  sh -c "'$T' posemb summary \"\$1\" > '$D/bad.out' 2> '$D/bad.err' && test \$(wc -l < '$D/bad.err') -eq 1 && grep -qF '$D/a\\nb\\x1b[31m.npy: a 20448 x 20448 matrix' '$D/bad.err' && ! grep -q \"\$(printf '\\033')\" '$D/bad.err' '$D/bad.out'" sh "$BAD"
ok "posemb summary - a missing file with that kind of name, expect one escaped line on stderr" \
  sh -c "'$T' posemb summary \"\$1.gone\" 2> '$D/bad.err'; test \$? -eq 1 && test \$(wc -l < '$D/bad.err') -eq 1 && ! grep -q \"\$(printf '\\033')\" '$D/bad.err'" sh "$BAD"
ok "posemb similarity - successful runs, expect no temporary files left" \
  sh -c "! ls -a '$D' | grep -q '\\.tmp'"
tap_done
