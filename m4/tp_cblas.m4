dnl TP_GSL_CBLAS: GSL >= 2.5, and the CBLAS it is linked with (--with-cblas).
AC_DEFUN([TP_GSL_CBLAS], [
  PKG_CHECK_MODULES([GSL], [gsl >= 2.5])
  GSL_VERSION_FOUND=`$PKG_CONFIG --modversion gsl`
  AC_ARG_WITH([cblas],
    [AS_HELP_STRING([--with-cblas=auto|openblas|gsl|FLAGS],
      [CBLAS implementation: OpenBLAS when it links (auto), GSL's own gslcblas, or explicit link flags @<:@default=auto@:>@])],
    [], [with_cblas=auto])
  dnl GSL's .pc names -lgslcblas; drop it so exactly one CBLAS is linked.
  GSL_LIBS_NOCBLAS=`echo "$GSL_LIBS" | $SED -e 's/-lgslcblas//g'`
  tp_save_LIBS=$LIBS
  tp_cblas_choice=""
  case $with_cblas in
    auto|openblas)
      AC_MSG_CHECKING([for OpenBLAS's CBLAS])
      tp_ob_flags=`$PKG_CONFIG --libs openblas 2>/dev/null`
      test -n "$tp_ob_flags" || tp_ob_flags="-lopenblas"
      LIBS="$tp_ob_flags $tp_save_LIBS"
      AC_LINK_IFELSE([AC_LANG_CALL([], [cblas_ssyrk])],
        [AC_MSG_RESULT([yes]); tp_cblas_choice=openblas; CBLAS_LIBS="$tp_ob_flags"],
        [AC_MSG_RESULT([no])])
      AS_IF([test "x$with_cblas" = xopenblas && test -z "$tp_cblas_choice"],
        [AC_MSG_ERROR([--with-cblas=openblas: cannot link cblas_ssyrk with $tp_ob_flags (install libopenblas-dev)])])
      ;;
  esac
  AS_IF([test -z "$tp_cblas_choice"], [
    case $with_cblas in
      auto|gsl) tp_cblas_choice=gslcblas; CBLAS_LIBS="-lgslcblas" ;;
      *) tp_cblas_choice="user"; CBLAS_LIBS="$with_cblas" ;;
    esac
    LIBS="$CBLAS_LIBS $tp_save_LIBS"
    AC_MSG_CHECKING([that $CBLAS_LIBS provides cblas_ssyrk])
    AC_LINK_IFELSE([AC_LANG_CALL([], [cblas_ssyrk])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no]); AC_MSG_ERROR([cannot link cblas_ssyrk with $CBLAS_LIBS])])
  ])
  dnl The parts that never call BLAS (gradnorm, the host's core) link GSL alone when its
  dnl library carries its own CBLAS dependency (Debian's does), so they do not load
  dnl $CBLAS_LIBS; a bare libgsl (built from source) leaves cblas_* undefined, and then
  dnl GSL's small gslcblas fills them.
  AC_MSG_CHECKING([whether $GSL_LIBS_NOCBLAS links without a CBLAS])
  LIBS="$GSL_LIBS_NOCBLAS $tp_save_LIBS"
  AC_LINK_IFELSE([AC_LANG_CALL([], [gsl_blas_sdot])],
    [AC_MSG_RESULT([yes]); GSL_CORE_LIBS="$GSL_LIBS_NOCBLAS"],
    [AC_MSG_RESULT([no, adding -lgslcblas]); GSL_CORE_LIBS="$GSL_LIBS_NOCBLAS -lgslcblas"])
  LIBS=$tp_save_LIBS
  AC_SUBST([GSL_CORE_LIBS])
  AC_DEFINE_UNQUOTED([TP_CBLAS_NAME], ["$tp_cblas_choice"], [CBLAS implementation linked])
  AS_IF([test "x$tp_cblas_choice" = xopenblas],
        [AC_DEFINE([TP_HAVE_OPENBLAS], [1], [Define when linked with OpenBLAS])])
  AC_SUBST([CBLAS_LIBS])
  AC_SUBST([GSL_LIBS_NOCBLAS])
])
