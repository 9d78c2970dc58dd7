dnl TP_PYTHON: the system python3 used by tests to write files with the real numpy/torch.
AC_DEFUN([TP_PYTHON], [
  AC_ARG_VAR([TP_PYTHON3], [python3 used by tests to produce .npy/.pt files (default /usr/bin/python3)])
  AS_IF([test -z "$TP_PYTHON3"], [
    AS_IF([test -x /usr/bin/python3], [TP_PYTHON3=/usr/bin/python3],
          [AC_PATH_PROG([TP_PYTHON3], [python3], [])])
  ])
  tp_python_desc="${TP_PYTHON3:-none (tests that need numpy/torch will skip)}"
])
