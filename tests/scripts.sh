#!/bin/sh
# The bundled gnuplot scripts draw both figures with pngcairo, svg, pdf and dumb, and fail clearly.
. "$top_srcdir/tests/lib.sh"
[ -n "$GNUPLOT" ] && [ "$GNUPLOT" != no ] || skip_all "gnuplot not found"
for m in posemb gradnorm; do
  [ -f "$top_builddir/plugins/.libs/$m.so" ] || skip_all "module $m not built"
done
GP="$top_builddir/gp-scripts/uninstalled"
DEMO_LOG="$top_srcdir/gp-scripts/data/star-trainer_state.json"
gp() { run_gnuplot -c "$@"; }
# png_size FILE: "WIDTHxHEIGHT" from the IHDR chunk.
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{printf "%dx%d\n", $3*256+$4, $7*256+$8}'; }


gp "$GP/posemb-heatmap.gp" 'sinusoidal:300x64,padding_idx=1' '' "$TP_TMP/h.png" >"$TP_TMP/h.out" 2>&1
ok "posemb-heatmap.gp - pngcairo, expect exit 0" test $? -eq 0
ok "posemb-heatmap.gp - pngcairo, expect a 1400x760 PNG" sh -c "test \"\$(od -An -tu1 -j16 -N8 '$TP_TMP/h.png' | awk '{printf \"%dx%d\", \$3*256+\$4, \$7*256+\$8}')\" = 1400x760"
ok "posemb-heatmap.gp - console, expect the summary sentences" grep_in "$TP_TMP/h.out" "diagonal"
gp "$GP/posemb-heatmap.gp" 'sinusoidal:300x64' '' "$TP_TMP/h.svg" >/dev/null 2>&1
ok "posemb-heatmap.gp - svg, expect an svg document" grep_in "$TP_TMP/h.svg" "<svg"
gp "$GP/posemb-heatmap.gp" 'sinusoidal:300x64' '' "$TP_TMP/h.pdf" >/dev/null 2>&1
ok "posemb-heatmap.gp - pdfcairo, expect a PDF" sh -c "head -c 5 '$TP_TMP/h.pdf' | grep -q '%PDF-'"
gp "$GP/posemb-heatmap.gp" 'sinusoidal:300x64' '' - >"$TP_TMP/h.txt" 2>&1
ok "posemb-heatmap.gp - dumb, expect the title in the terminal drawing" grep_in "$TP_TMP/h.txt" "sinusoidal"
gp "$GP/posemb-heatmap.gp" "$TP_TMP/missing.npy" >"$TP_TMP/e.out" 2>&1
ok "posemb-heatmap.gp - missing input, expect non-zero exit" test $? -ne 0
ok "posemb-heatmap.gp - missing input, expect the file named" grep_in "$TP_TMP/e.out" "missing.npy"
gp "$GP/posemb-heatmap.gp" 'sinusoidal:64x16' '' "$TP_TMP/x.png" metric=manhattan >"$TP_TMP/e2.out" 2>&1
ok "posemb-heatmap.gp - bad option value, expect non-zero exit naming it" sh -c "test $? -ne 0 && grep -q 'metric=manhattan' '$TP_TMP/e2.out'"

gp "$GP/gradnorm-explosions.gp" "$DEMO_LOG" '' "$TP_TMP/g.png" top=2 logy=1 >"$TP_TMP/g.out" 2>&1
ok "gradnorm-explosions.gp - pngcairo, expect exit 0" test $? -eq 0
ok "gradnorm-explosions.gp - pngcairo, expect a 1400x640 PNG" sh -c "test \"\$(od -An -tu1 -j16 -N8 '$TP_TMP/g.png' | awk '{printf \"%dx%d\", \$3*256+\$4, \$7*256+\$8}')\" = 1400x640"
ok "gradnorm-explosions.gp - console, expect the statistics" grep_in "$TP_TMP/g.out" "median"
gp "$GP/gradnorm-explosions.gp" "$DEMO_LOG" '' - top=2 >"$TP_TMP/g.txt" 2>&1
ok "gradnorm-explosions.gp - dumb, expect the top episode's label (step 22360)" grep_in "$TP_TMP/g.txt" "step 22360: peak 82.4"
ok "gradnorm-explosions.gp - dumb, expect the second episode's label (step 33900)" grep_in "$TP_TMP/g.txt" "step 33900: peak 53.9"
printf 'not a log\n\001\002\003' > "$TP_TMP/garbage.bin"
gp "$GP/gradnorm-explosions.gp" "$TP_TMP/garbage.bin" '' "$TP_TMP/z.png" >"$TP_TMP/e3.out" 2>&1
ok "gradnorm-explosions.gp - garbage input, expect non-zero exit naming the file" sh -c "test $? -ne 0 && grep -q 'garbage.bin' '$TP_TMP/e3.out'"
ok "gradnorm-explosions.gp - garbage input, expect no PNG written" test ! -e "$TP_TMP/z.png"

# The modules' scratch directories: made under TMPDIR, gone when gnuplot exits, whether
# the script succeeded or stopped on an error after making it.
mkdir "$TP_TMP/scr"
TMPDIR="$TP_TMP/scr" gp "$GP/posemb-heatmap.gp" 'sinusoidal:300x64,padding_idx=1' '' "$TP_TMP/s.png" >/dev/null 2>&1
ok "posemb-heatmap.gp - TMPDIR set, expect exit 0 and the PNG" test $? -eq 0 -a -s "$TP_TMP/s.png"
ok "posemb-heatmap.gp - after exit, expect TMPDIR empty (scratch removed)" sh -c "test -z \"\$(ls -A '$TP_TMP/scr')\""
TMPDIR="$TP_TMP/scr" TRAINPLOT_MAX_BYTES=200K gp "$GP/posemb-heatmap.gp" 'sinusoidal:300x64' '' "$TP_TMP/s2.png" >"$TP_TMP/e4.out" 2>&1
ok "posemb-heatmap.gp - similarity over the memory limit, expect non-zero exit naming --pool" sh -c "test $? -ne 0 && grep -q 'pool' '$TP_TMP/e4.out'"
ok "posemb-heatmap.gp - failed after making scratch, expect TMPDIR empty" sh -c "test -z \"\$(ls -A '$TP_TMP/scr')\""
TMPDIR="$TP_TMP/scr" gp "$GP/gradnorm-explosions.gp" "$DEMO_LOG" '' "$TP_TMP/s.png" >/dev/null 2>&1
ok "gradnorm-explosions.gp - TMPDIR set, expect exit 0 and TMPDIR empty afterwards" sh -c "test $? -eq 0 && test -z \"\$(ls -A '$TP_TMP/scr')\""
TMPDIR="$TP_TMP/missing-dir" gp "$GP/posemb-heatmap.gp" 'sinusoidal:64x16' '' "$TP_TMP/s3.png" >"$TP_TMP/e5.out" 2>&1
ok "posemb-heatmap.gp - TMPDIR does not exist, expect non-zero exit naming it" sh -c "test $? -ne 0 && grep -q 'missing-dir.*scratch directory' '$TP_TMP/e5.out'"
tap_done
