dnl TP_COMPILER_FLAGS: warnings, --enable-werror and --enable-sanitizers.
AC_DEFUN([TP_COMPILER_FLAGS], [
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
    [], [enable_werror=no])
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers], [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
    [], [enable_sanitizers=no])
  TP_CFLAGS="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter"
  AS_IF([test "x$enable_werror" = xyes], [TP_CFLAGS="$TP_CFLAGS -Werror"])
  TP_SAN_CFLAGS=""
  TP_SAN_LDFLAGS=""
  TP_SANITIZE=0
  AS_IF([test "x$enable_sanitizers" = xyes], [
    TP_SAN_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    TP_SAN_LDFLAGS="-fsanitize=address,undefined"
    TP_SANITIZE=1
    tp_save_CFLAGS=$CFLAGS
    tp_save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS $TP_SAN_CFLAGS"
    LDFLAGS="$LDFLAGS $TP_SAN_LDFLAGS"
    AC_MSG_CHECKING([whether the compiler supports ASan and UBSan])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [return 0;])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no]); AC_MSG_ERROR([--enable-sanitizers needs a compiler with -fsanitize=address,undefined (gcc with libasan and libubsan)])])
    CFLAGS=$tp_save_CFLAGS
    LDFLAGS=$tp_save_LDFLAGS
    dnl gnuplot is not built with ASan, so tests that load a module into it preload the runtime.
    TP_ASAN_RUNTIME=`$CC -print-file-name=libasan.so`
  ])
  AC_SUBST([TP_CFLAGS])
  AC_SUBST([TP_SAN_CFLAGS])
  AC_SUBST([TP_SAN_LDFLAGS])
  AC_SUBST([TP_SANITIZE])
  AC_SUBST([TP_ASAN_RUNTIME])
])
