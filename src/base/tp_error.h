/* Error codes from one table, and the one error record that carries the detail. */
#ifndef TP_ERROR_H
#define TP_ERROR_H

#include <stdarg.h>

/* X(name, value, exit, text): the only list of error codes, with the exit status the
   command line gives for each (1 bad input or usage, 2 internal error). */
#define TP_ERRNO_MAP(X)                          \
  X(NOMEM, -1, 2, "out of memory")               \
  X(IO, -2, 1, "input/output error")             \
  X(NOENT, -3, 1, "no such file")                \
  X(FORMAT, -4, 1, "unrecognised format")        \
  X(CORRUPT, -5, 1, "corrupt or truncated data") \
  X(UNSUPPORTED, -6, 1, "unsupported feature")   \
  X(LIMIT, -7, 1, "resource limit exceeded")     \
  X(OVERFLOW, -8, 1, "size overflow")            \
  X(NOKEY, -9, 1, "key not found")               \
  X(AMBIGUOUS, -10, 1, "ambiguous key")          \
  X(UNSAFE, -11, 1, "refused unsafe content")    \
  X(INVAL, -12, 1, "invalid argument")           \
  X(EMPTY, -13, 1, "no data")                    \
  X(STATE, -14, 1, "nothing loaded")             \
  X(NUMERIC, -15, 2, "numerical error")          \
  X(ABI, -16, 1, "module interface mismatch")    \
  X(INTERNAL, -17, 2, "internal error")          \
  X(INTR, -18, 1, "interrupted")

enum tp_errno {
  TP_OK = 0,
#define TP__ERR_ENUM(name, val, exit, text) TP_E##name = val,
  TP_ERRNO_MAP(TP__ERR_ENUM)
#undef TP__ERR_ENUM
};

/* The detail of the most recent failure in this thread. */
struct tp_errinfo {
  int code;         /* TP_E… or TP_OK */
  char file[4096];  /* file the failure is about, "" when none (cut when longer) */
  long long offset; /* byte offset in file, -1 when not applicable */
  long line;        /* 1-based line number, 0 when not applicable */
  char detail[768]; /* lower-case sentence naming the broken rule */
};

const char *tp_strerror(int code);
const char *tp_errname(int code);
/* The command line's exit status for code: 0 for TP_OK, then the table's column (an
   unknown code is an internal error, 2). */
int tp_err_exit(int code);

/* Record a failure and return code, so callers can write `return tp_err(…)`. */
int tp_err(int code, const char *file, long long offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Like tp_err, with a line number instead of a byte offset. */
int tp_err_line(int code, const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record code with strerror(errno) as detail. */
int tp_err_errno(int code, const char *file, const char *what);

const struct tp_errinfo *tp_err_last(void);
/* Make e this thread's last error (a worker thread's failure, reported by the thread that
   ran it); returns e->code. */
int tp_err_restore(const struct tp_errinfo *e);
void tp_err_clear(void);
/* Format the last error as "file: offset N: detail" into buf; returns buf. */
const char *tp_err_format(char *buf, unsigned long size);

#endif
