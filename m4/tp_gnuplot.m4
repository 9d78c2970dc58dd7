dnl TP_GNUPLOT: find gnuplot, read its version and select the plugin value ABI.
AC_DEFUN([TP_GNUPLOT], [
  AC_ARG_WITH([gnuplot-abi],
    [AS_HELP_STRING([--with-gnuplot-abi=X.Y],
      [build modules for gnuplot X.Y without asking the installed gnuplot (5.2, 5.4, 6.0 …)])],
    [], [with_gnuplot_abi=auto])
  AC_ARG_VAR([GNUPLOT], [the gnuplot program used by tests and scripts])
  AC_PATH_PROG([GNUPLOT], [gnuplot], [no])
  tp_gnuplot_version=""
  AS_IF([test "x$GNUPLOT" != xno], [
    tp_gnuplot_version=`$GNUPLOT --version 2>/dev/null | $SED -n 's/^gnuplot \([[0-9]]*\.[[0-9]]*\).*/\1/p'`
  ])
  AS_IF([test "x$with_gnuplot_abi" != xauto && test "x$with_gnuplot_abi" != xyes], [
    tp_abi_version=$with_gnuplot_abi
    tp_gnuplot_desc="${tp_gnuplot_version:-none} (ABI forced by --with-gnuplot-abi)"
  ], [
    AS_IF([test -z "$tp_gnuplot_version"],
      [AC_MSG_ERROR([gnuplot not found or its version unreadable; install gnuplot-nox (Debian) or pass --with-gnuplot-abi=X.Y])])
    tp_abi_version=$tp_gnuplot_version
    tp_gnuplot_desc="$tp_gnuplot_version at $GNUPLOT"
  ])
  AC_MSG_CHECKING([gnuplot plugin value ABI for $tp_abi_version])
  tp_abi_major=`echo "$tp_abi_version" | cut -d. -f1`
  tp_abi_minor=`echo "$tp_abi_version" | cut -d. -f2`
  case "$tp_abi_major.$tp_abi_minor" in
    [[0-9]]*.[[0-9]]*) ;;
    *) AC_MSG_ERROR([cannot read gnuplot version '$tp_abi_version'; expected X.Y]) ;;
  esac
  AS_IF([test "$tp_abi_major" -lt 5 || { test "$tp_abi_major" -eq 5 && test "$tp_abi_minor" -lt 2; }],
    [AC_MSG_ERROR([gnuplot $tp_abi_version is too old: trainplot needs gnuplot 5.2 or newer (plugin 'import' with the 5.2 value layout)])])
  AS_IF([test "$tp_abi_major" -ge 6], [tp_abi=600; tp_gnuplot_abi_dotted="6.x layout"],
        [test "$tp_abi_minor" -ge 4 || test "$tp_abi_minor" -eq 3], [tp_abi=504; tp_gnuplot_abi_dotted="5.4 layout"],
        [tp_abi=502; tp_gnuplot_abi_dotted="5.2 layout"])
  AC_MSG_RESULT([$tp_gnuplot_abi_dotted])
  tp_gnuplot_version_num="$tp_abi_major.$tp_abi_minor"
  AC_DEFINE_UNQUOTED([TP_GNUPLOT_ABI], [$tp_abi], [gnuplot plugin value layout: 502, 504 or 600])
  AC_DEFINE_UNQUOTED([TP_GNUPLOT_VERSION], [$tp_gnuplot_version_num], [gnuplot version reported by gnuplot_version()])
  AC_SUBST([TP_GNUPLOT_VERSION_NUM], [$tp_gnuplot_version_num])
  AM_CONDITIONAL([HAVE_GNUPLOT], [test "x$GNUPLOT" != xno])
  tp_moduledir_shown='${pkglibdir}'
  eval tp_moduledir_shown="\"$libdir/$PACKAGE\""
  eval tp_moduledir_shown="\"$tp_moduledir_shown\""
  tp_moduledir_shown=`echo "$tp_moduledir_shown" | $SED -e "s|NONE|$ac_default_prefix|g"`
])
