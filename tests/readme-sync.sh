#!/bin/sh
# README's reference section equals what the descriptor tables generate.
. "$top_srcdir/tests/lib.sh"
[ -f "$top_builddir/plugins/.libs/posemb.so" ] && [ -f "$top_builddir/plugins/.libs/gradnorm.so" ] \
  || skip_all "posemb and gradnorm modules not built"
"$TRAINPLOT" --module-path "$top_builddir/plugins/.libs" --list --markdown > "$TP_TMP/want.md"
sed -n '/^<!-- BEGIN REFERENCE -->$/,/^<!-- END REFERENCE -->$/p' "$top_srcdir/README.md" | sed '1d;$d' > "$TP_TMP/have.md"
ok "README.md reference - expect it equal to 'trainplot --list --markdown' (run 'make update-readme')" \
  diff -u "$TP_TMP/have.md" "$TP_TMP/want.md"
tap_done
