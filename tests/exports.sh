#!/bin/sh
# Each module exports exactly the gnuplot functions its descriptor lists, gnuplot_init,
# gnuplot_fini, gnuplot_version and the descriptor: compared with the descriptor table
# (through 'trainplot --gnuplot-imports'), not with a copy of the export regex.
. "$top_srcdir/tests/lib.sh"
command -v nm >/dev/null || skip_all "nm not found"
[ -x "$TRAINPLOT" ] || skip_all "trainplot not built"
"$TRAINPLOT" --gnuplot-imports > "$TP_TMP/imports" 2>/dev/null
for m in tests/.libs/tptest.so plugins/.libs/posemb.so plugins/.libs/gradnorm.so; do
  name=$(basename "$m" .so)
  if [ ! -f "$top_builddir/$m" ]; then
    skip "$name not built"
    continue
  fi
  { sed -n "s|^import [a-z_]*(.*) from \".*/$name.so:\\([a-z_]*\\)\"\$|\\1|p" "$TP_TMP/imports"
    printf 'gnuplot_fini\ngnuplot_init\ngnuplot_version\ntrainplot_module\n'; } | sort > "$TP_TMP/want"
  nm -D --defined-only "$top_builddir/$m" | awk '$2 ~ /^[TDRB]$/ {print $3}' | sort > "$TP_TMP/got"
  ok "nm -D $name.so - expect exactly the descriptor's functions, gnuplot_* and the descriptor" \
    sh -c "test \$(wc -l < '$TP_TMP/want') -gt 4 && diff '$TP_TMP/want' '$TP_TMP/got'"
done
tap_done
