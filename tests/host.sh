#!/bin/sh
# The host finds modules through libltdl from the build tree and dispatches to them.
. "$top_srcdir/tests/lib.sh"
T="$TRAINPLOT"

ok "trainplot --version - expect the package version" sh -c "'$T' --version | grep -q '^trainplot [0-9]'"
ok "trainplot --list - build tree, expect the tptest module" sh -c "'$T' --list | grep -q '^tptest '"
ok "trainplot --list - expect the tt_add function with parameters" sh -c "'$T' --list | grep -q 'tt_add(a,b)'"
ok "trainplot --call - tt_add 2 3.5, expect 5.5" sh -c "test \"\$('$T' --call tptest tt_add 2 3.5)\" = 5.5"
ok "trainplot --call - tt_greet world, expect a string" sh -c "'$T' --call tptest tt_greet world | grep -qx 'hello, world (init 1)'"
ok "trainplot --call - tt_fail, expect exit 1 and the message" sh -c "! '$T' --call tptest tt_fail 0 2>'$TP_TMP/e' && grep -q \"nothing.pt: tensor 'x' not found\" '$TP_TMP/e'"
ok "trainplot --call - wrong argument count, expect exit 1" sh -c "! '$T' --call tptest tt_add 1 2>/dev/null"
ok "trainplot MODULE - dispatch to the module entry, expect echo" sh -c "test \"\$('$T' tptest echo a b)\" = 'a b'"
ok "trainplot - unknown module, expect exit 1 naming it" sh -c "! '$T' nosuch x 2>'$TP_TMP/e' && grep -q \"no module 'nosuch'\" '$TP_TMP/e'"
ok "trainplot --module-path - empty dir, expect no modules and exit 1" sh -c "! '$T' --module-path '$TP_TMP' --list 2>/dev/null"
ok "trainplot --gnuplot-imports - expect an import line with an absolute .so path" \
  sh -c "'$T' --gnuplot-imports | grep -q '^import tt_add(a,b) from \"/.*tptest.so:tt_add\"'"
# A module with a wrong descriptor is refused with a precise message.
mkdir -p "$TP_TMP/bad"
cp "$top_builddir/tests/.libs/tptest.so" "$TP_TMP/bad/tptest.so"
ok "trainplot --list - corrupt module file, expect a warning and no crash" \
  sh -c "printf 'garbage' > '$TP_TMP/bad/broken.so'; '$T' --module-path '$TP_TMP/bad' --list 2>'$TP_TMP/e'; grep -q 'broken' '$TP_TMP/e'"
ok "trainplot --gnuplot-imports - an --import-dir with a quote, expect exit 1 and no import line" \
  sh -c "! '$T' --gnuplot-imports --import-dir '/x\"; system(\"id\")' > '$TP_TMP/imp' 2>'$TP_TMP/e' && ! grep -q import '$TP_TMP/imp' && grep -q 'quote' '$TP_TMP/e'"
tap_done
