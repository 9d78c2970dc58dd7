/* Helpers that build and read gnuplot plugin values for the modules. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_gpvalue.h"
#include "tp_scratch.h"
#include "tp_signal.h"
#include "tp_text.h"

static _Thread_local char last_message[2200];

struct value tp_gp_int(long long i) {
  struct value v;
  memset(&v, 0, sizeof v);
  v.type = INTGR;
  v.v.int_val = (tp_gp_intgr)i;
  return v;
}

struct value tp_gp_num(double x) {
  struct value v;
  memset(&v, 0, sizeof v);
  v.type = CMPLX;
  v.v.cmplx_val.real = x;
  v.v.cmplx_val.imag = 0.0;
  return v;
}

static char *result; /* the string of the last result, owned here */

void tp_gp_release(void) {
  free(result);
  result = NULL;
}

struct value tp_gp_str(const char *s) {
  struct value v;
  char *copy = strdup(s ? s : "");
  memset(&v, 0, sizeof v);
  if (!copy) {
    tp_err(TP_ENOMEM, NULL, -1, "cannot allocate a string result");
    return tp_gp_fail("trainplot");
  }
  tp_gp_release();
  result = copy;
  v.type = STRING;
  v.v.string_val = result;
  return v;
}

struct value tp_gp_str_escaped(const char *module, const char *s) {
  char *shown = tp_text_escape(s ? s : "");
  struct value v;
  if (!shown) {
    tp_err(TP_ENOMEM, NULL, -1, "out of memory");
    return tp_gp_fail(module);
  }
  v = tp_gp_str(shown);
  free(shown);
  return v;
}

struct value tp_gp_call(const char *module, tp_gp_fn body, int nargs, struct value *arg,
                        void *priv) {
  int saved = errno, sig;
  struct value v;
  tp_gp_release();
  tp_intr_enter();
  v = body(nargs, arg, priv);
  sig = tp_intr_leave();
  if (sig && v.type != INVALID_VALUE) {
    /* Finished before it noticed: the user still asked to stop, so the result is dropped. */
    tp_gp_release();
    tp_err(TP_EINTR, NULL, -1, "interrupted");
    v = tp_gp_fail(module);
  }
  if (sig == SIGTERM) {
    tp_scratch_remove();
    raise(SIGTERM); /* gnuplot's own disposition again: it ends as if we were not here */
  }
  errno = saved;
  return v;
}

struct value tp_gp_fail(const char *module) {
  struct value v;
  char buf[2048];
  memset(&v, 0, sizeof v);
  tp_err_format(buf, sizeof buf);
  snprintf(last_message, sizeof last_message, "%s: %s", module, buf);
  fprintf(stderr, "%s\n", last_message);
  fflush(stderr);
  v.type = INVALID_VALUE;
  return v;
}

struct value tp_gp_scratch(const char *module, int nargs, struct value *arg) {
  const char *name;
  char *path;
  struct value v;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_str(&arg[0], 1, &name) < 0 || tp_scratch_path(name, &path) < 0)
    return tp_gp_fail(module);
  v = tp_gp_str(path);
  free(path);
  return v;
}

const char *tp_gp_last_error(void) { return last_message; }

void tp_gp_clear_error(void) {
  last_message[0] = '\0';
  tp_err_clear();
}

int tp_gp_arg_num(const struct value *a, int pos, double *out) {
  switch (a->type) {
  case INTGR: *out = (double)a->v.int_val; return 0;
  case CMPLX: *out = a->v.cmplx_val.real; return 0;
  default: return tp_err(TP_EINVAL, NULL, -1, "argument %d must be a number", pos);
  }
}

int tp_gp_arg_int(const struct value *a, int pos, long long *out) {
  double x;
  if (a->type == INTGR) {
    *out = (long long)a->v.int_val;
    return 0;
  }
  if (tp_gp_arg_num(a, pos, &x) < 0)
    return TP_EINVAL;
  if (!isfinite(x) || x != floor(x) || fabs(x) > 9.0e15)
    return tp_err(TP_EINVAL, NULL, -1, "argument %d must be an integer", pos);
  *out = (long long)x;
  return 0;
}

int tp_gp_arg_str(const struct value *a, int pos, const char **out) {
  if (a->type != STRING || !a->v.string_val)
    return tp_err(TP_EINVAL, NULL, -1, "argument %d must be a string", pos);
  *out = a->v.string_val;
  return 0;
}
