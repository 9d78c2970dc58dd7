#!/bin/sh
# Which numeric libraries each entry point loads, and where posemb's BLAS calls go.
# The host and the gradnorm module never call BLAS, so they must not load OpenBLAS
# (~4 ms of start-up and an idle thread spinning beside the parser); posemb's cblas_ssyrk
# must reach the CBLAS that configure chose, even when gradnorm (whose libgsl brings
# GSL's slow reference CBLAS on Debian) was loaded first. glibc's LD_DEBUG shows both.
. "$top_srcdir/tests/lib.sh"
T="$TRAINPLOT"

printf '0 1.5\n1 2.5\n2 0.5\n' > "$TP_TMP/g.txt"
LD_DEBUG=files "$T" --version > /dev/null 2> "$TP_TMP/probe"
grep -q 'file=' "$TP_TMP/probe" || skip_all "LD_DEBUG gives no loader trace here (not glibc)"
cblas=$("$T" --version | sed -n 's/.*CBLAS \([a-z]*\).*/\1/p')
case $cblas in
  openblas) lib=libopenblas ;;
  gslcblas) lib=libgslcblas ;;
  *) lib= ;;
esac

# bound LOG: the library posemb.so's cblas_ssyrk was bound to.
bound() { sed -n "s/.*binding file [^ ]*posemb\.so \[0\] to \([^ ]*\) .*cblas_ssyrk.*/\1/p" "$1"; }

LD_DEBUG=files "$T" gradnorm stats "$TP_TMP/g.txt" > /dev/null 2> "$TP_TMP/gn.log"
ok "trainplot gradnorm stats - expect no OpenBLAS loaded" \
  sh -c "grep -q 'file=.*gradnorm' '$TP_TMP/gn.log' && ! grep -q 'file=[^ ]*openblas' '$TP_TMP/gn.log' || \
         { grep 'file=' '$TP_TMP/gn.log'; exit 1; }"

LD_DEBUG=files "$T" --list > /dev/null 2> "$TP_TMP/host.log"
ok "trainplot --list - expect the host itself to need no GSL or CBLAS" \
  sh -c "! grep 'needed by $T' '$TP_TMP/host.log' | grep -q 'gsl\|blas' || \
         { grep 'needed by $T' '$TP_TMP/host.log'; exit 1; }"

if [ -z "$lib" ]; then
  skip "CBLAS '$cblas' chosen by explicit link flags: no library name to check"
else
  LD_DEBUG=bindings "$T" posemb similarity 'sinusoidal:64x16' -o "$TP_TMP/s.bin" \
    > /dev/null 2> "$TP_TMP/pe.log"
  bound "$TP_TMP/pe.log" > "$TP_TMP/pe.to"
  ok "trainplot posemb similarity - expect cblas_ssyrk bound to $lib" grep_in "$TP_TMP/pe.to" "$lib"
fi

if [ -z "$lib" ]; then
  skip "CBLAS '$cblas' chosen by explicit link flags: no library name to check"
elif [ -z "$GNUPLOT" ] || [ "$GNUPLOT" = no ]; then
  skip "gnuplot not found"
else
  imports="$top_builddir/gp-scripts/uninstalled/trainplot.gp"
  cat > "$TP_TMP/both.gp" <<EOF
load '$imports'
n = gn_load('$TP_TMP/g.txt', '')
p = pe_load('sinusoidal:64x16', '')
s = pe_similarity('cosine', '$TP_TMP/s2.bin')
print 'loaded ', n, p
EOF
  LD_DEBUG=bindings run_gnuplot "$TP_TMP/both.gp" > /dev/null 2> "$TP_TMP/gp.log"
  bound "$TP_TMP/gp.log" > "$TP_TMP/gp.to"
  ok "gnuplot, gradnorm imported before posemb - expect cblas_ssyrk bound to $lib" \
    sh -c "grep -q 'loaded' '$TP_TMP/gp.log' && grep -q '$lib' '$TP_TMP/gp.to' || \
           { grep -v 'binding file' '$TP_TMP/gp.log' | tail -5; cat '$TP_TMP/gp.to'; exit 1; }"
fi
tap_done
