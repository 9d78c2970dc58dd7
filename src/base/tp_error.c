/* The error table, its strerror/name functions and the per-thread error record. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tp_error.h"
#include "tp_text.h"

static _Thread_local struct tp_errinfo last = {.code = TP_OK, .offset = -1};

struct tp__errdesc {
  int code;
  const char *name;
  int exit;
  const char *text;
};

static const struct tp__errdesc errtab[] = {
#define TP__ERR_ROW(name, val, exit, text) {val, "TP_E" #name, exit, text},
    TP_ERRNO_MAP(TP__ERR_ROW)
#undef TP__ERR_ROW
};

static const struct tp__errdesc *lookup(int code) {
  for (size_t i = 0; i < sizeof errtab / sizeof errtab[0]; i++)
    if (errtab[i].code == code)
      return &errtab[i];
  return NULL;
}

const char *tp_strerror(int code) {
  const struct tp__errdesc *d = lookup(code);
  if (code == TP_OK)
    return "success";
  return d ? d->text : "unknown error";
}

const char *tp_errname(int code) {
  const struct tp__errdesc *d = lookup(code);
  if (code == TP_OK)
    return "TP_OK";
  return d ? d->name : "TP_EUNKNOWN";
}

int tp_err_exit(int code) {
  const struct tp__errdesc *d = lookup(code);
  if (code == TP_OK)
    return 0;
  return d ? d->exit : 2;
}

static int vrecord(int code, const char *file, long long offset, long line, const char *fmt,
                   va_list ap) {
  last.code = code;
  last.offset = offset;
  last.line = line;
  snprintf(last.file, sizeof last.file, "%s", file ? file : "");
  if (fmt)
    vsnprintf(last.detail, sizeof last.detail, fmt, ap);
  else
    snprintf(last.detail, sizeof last.detail, "%s", tp_strerror(code));
  return code;
}

int tp_err(int code, const char *file, long long offset, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrecord(code, file, offset, 0, fmt, ap);
  va_end(ap);
  return code;
}

int tp_err_line(int code, const char *file, long line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrecord(code, file, -1, line, fmt, ap);
  va_end(ap);
  return code;
}

int tp_err_errno(int code, const char *file, const char *what) {
  int e = errno;
  return tp_err(code, file, -1, "%s: %s", what, strerror(e));
}

const struct tp_errinfo *tp_err_last(void) { return &last; }

int tp_err_restore(const struct tp_errinfo *e) {
  last = *e;
  return e->code;
}

void tp_err_clear(void) {
  last.code = TP_OK;
  last.file[0] = '\0';
  last.offset = -1;
  last.line = 0;
  last.detail[0] = '\0';
}

const char *tp_err_format(char *buf, unsigned long size) {
  char where[64] = "";
  /* File names and details quote text from files and arguments: escaped, so a message is
     one line and never carries a terminal's control sequences. */
  char file[sizeof last.file * 4], detail[sizeof last.detail * 4];
  if (last.line > 0)
    snprintf(where, sizeof where, "line %ld: ", last.line);
  else if (last.offset >= 0)
    snprintf(where, sizeof where, "offset %lld: ", last.offset);
  tp_text_escape_buf(last.file, file, sizeof file);
  tp_text_escape_buf(last.detail, detail, sizeof detail);
  if (last.file[0])
    snprintf(buf, size, "%s: %s%s", file, where, detail);
  else
    snprintf(buf, size, "%s%s", where, detail);
  return buf;
}
