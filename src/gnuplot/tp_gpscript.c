/* Bodies of the script-facing gnuplot functions that posemb and gradnorm share. */
#include "config.h"

#include <stdlib.h>

#include "tp_error.h"
#include "tp_figure.h"
#include "tp_gpscript.h"
#include "tp_scriptopt.h"

/* The one string argument of a one-argument function, or NULL (recorded). */
static const char *str1(int nargs, struct value *arg) {
  const char *s;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_str(&arg[0], 1, &s) < 0)
    return NULL;
  return s;
}

struct value tp_gp_options(const char *module, int nargs, struct value *arg) {
  const char *spec = str1(nargs, arg);
  return spec && tp_sopt_spec(spec) == 0 ? tp_gp_int(0) : tp_gp_fail(module);
}

struct value tp_gp_option_arg(const char *module, int nargs, struct value *arg) {
  const char *text = str1(nargs, arg);
  return text && tp_sopt_arg(text) == 0 ? tp_gp_int(0) : tp_gp_fail(module);
}

struct value tp_gp_options_done(const char *module, int nargs, struct value *arg) {
  long long argc;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_int(&arg[0], 1, &argc) < 0 || tp_sopt_done((int)argc) < 0)
    return tp_gp_fail(module);
  return tp_gp_int(0);
}

struct value tp_gp_option(const char *module, int nargs, struct value *arg) {
  const char *name = str1(nargs, arg), *v;
  return name && tp_sopt_get(name, &v) == 0 ? tp_gp_str(v) : tp_gp_fail(module);
}

struct value tp_gp_option_num(const char *module, int nargs, struct value *arg) {
  const char *name = str1(nargs, arg);
  double x;
  return name && tp_sopt_num(name, &x) == 0 ? tp_gp_num(x) : tp_gp_fail(module);
}

/* A malloc'ed string as the result, freed here. */
static struct value owned(const char *module, int rc, char *s) {
  struct value v = rc == 0 ? tp_gp_str(s) : tp_gp_fail(module);
  free(s);
  return v;
}

struct value tp_gp_option_join(const char *module, int nargs, struct value *arg) {
  const char *names = str1(nargs, arg);
  char *s = NULL;
  int rc;
  if (!names)
    return tp_gp_fail(module);
  rc = tp_sopt_join(names, &s);
  return owned(module, rc, s);
}

struct value tp_gp_output(const char *module, int nargs, struct value *arg) {
  const char *out, *input;
  char *draw = NULL;
  int rc;
  tp_gp_clear_error();
  if (nargs != 2 || tp_gp_arg_str(&arg[0], 1, &out) < 0 || tp_gp_arg_str(&arg[1], 2, &input) < 0)
    return tp_gp_fail(module);
  rc = tp_figure_begin(out, *input ? input : NULL, &draw);
  return owned(module, rc, draw);
}

struct value tp_gp_output_commit(const char *module, int nargs, struct value *arg) {
  char *shown = NULL;
  int rc;
  (void)nargs, (void)arg;
  tp_gp_clear_error();
  rc = tp_figure_commit(&shown);
  return owned(module, rc, shown);
}

void tp_gp_script_free(void) {
  tp_sopt_free();
  tp_figure_free();
}
