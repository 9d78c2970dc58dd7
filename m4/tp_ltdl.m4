dnl TP_LTDL: libltdl for the host's module loading.
AC_DEFUN([TP_LTDL], [
  AC_CHECK_HEADER([ltdl.h], [],
    [AC_MSG_ERROR([ltdl.h not found; install libltdl-dev (Debian) or libtool-ltdl-devel])])
  AC_CHECK_LIB([ltdl], [lt_dlopenext], [LTDL_LIBS="-lltdl"],
    [AC_MSG_ERROR([libltdl not found; install libltdl-dev (Debian)])])
  AC_SUBST([LTDL_LIBS])
])
