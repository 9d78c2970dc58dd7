#!/bin/sh
# Each module exports only its gnuplot functions, gnuplot_init/fini/version and the descriptor.
. "$top_srcdir/tests/lib.sh"
command -v nm >/dev/null || skip_all "nm not found"
mods=""
for m in tests/.libs/tptest.so plugins/.libs/posemb.so plugins/.libs/gradnorm.so; do
  [ -f "$top_builddir/$m" ] && mods="$mods $m"
done
set -- $mods
tap_plan $#
for m in "$@"; do
  case $m in
    *tptest*) pat='^(tt_[a-z_]+|gnuplot_(init|fini|version)|trainplot_module)$' ;;
    *posemb*) pat='^(pe_[a-z_]+|gnuplot_(init|fini|version)|trainplot_module)$' ;;
    *gradnorm*) pat='^(gn_[a-z_]+|gnuplot_(init|fini|version)|trainplot_module)$' ;;
  esac
  nm -D --defined-only "$top_builddir/$m" | awk '$2 ~ /^[TDRB]$/ {print $3}' > "$TP_TMP/syms"
  ok "nm -D $(basename $m) - expect only the intended symbols" \
    sh -c "test -s '$TP_TMP/syms' && ! grep -Ev '$pat' '$TP_TMP/syms'"
done
tap_done
