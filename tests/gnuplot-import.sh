#!/bin/sh
# The real gnuplot imports functions from a built module and gets numbers and strings back.
. "$top_srcdir/tests/lib.sh"
[ -n "$GNUPLOT" ] && [ "$GNUPLOT" != no ] || skip_all "gnuplot not found"
SO="$top_builddir/tests/.libs/tptest.so"
cat > "$TP_TMP/t.gp" <<GP
import tt_add(a,b) from "$SO:tt_add"
import tt_greet(w) from "$SO:tt_greet"
import tt_fail(x) from "$SO:tt_fail"
print sprintf("sum=%g", tt_add(2, 3.5))
print "greet=" . tt_greet("gnuplot")
x = tt_fail(0)
print sprintf("fail_is_nan=%d", x != x)
GP
run_gnuplot "$TP_TMP/t.gp" >"$TP_TMP/out" 2>&1
cat "$TP_TMP/out" | sed 's/^/# /'
ok "gnuplot import - tt_add(2,3.5), expect 5.5" grep_in "$TP_TMP/out" '^sum=5.5$'
ok "gnuplot import - tt_greet, expect the module's string" grep_in "$TP_TMP/out" '^greet=hello, gnuplot (init 1)$'
ok "gnuplot import - tt_fail, expect NaN" grep_in "$TP_TMP/out" '^fail_is_nan=1$'
ok "gnuplot import - tt_fail, expect one clear message on stderr" grep_in "$TP_TMP/out" "tptest: nothing.pt: tensor 'x' not found"
ok "gnuplot import - gnuplot_version matches, expect no version warning" sh -c "! grep -q 'plugin built for version' '$TP_TMP/out'"
tap_done
