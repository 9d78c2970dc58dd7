/* A check-only module that exercises the module interface (not installed). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tp_error.h"
#include "tp_gpvalue.h"
#include "tp_module.h"

struct value tt_add(int nargs, struct value *arg, void *priv);
struct value tt_greet(int nargs, struct value *arg, void *priv);
struct value tt_fail(int nargs, struct value *arg, void *priv);
struct value tt_last_error(int nargs, struct value *arg, void *priv);
void *gnuplot_init(tp_gp_fn fn);
void gnuplot_fini(void *priv);
double gnuplot_version(void);

static int inits;

struct value tt_add(int nargs, struct value *arg, void *priv) {
  double a, b;
  tp_gp_clear_error();
  if (nargs != 2 || tp_gp_arg_num(&arg[0], 1, &a) < 0 || tp_gp_arg_num(&arg[1], 2, &b) < 0)
    return tp_gp_fail("tptest");
  return tp_gp_num(a + b);
}

struct value tt_greet(int nargs, struct value *arg, void *priv) {
  const char *who;
  char buf[256];
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_str(&arg[0], 1, &who) < 0)
    return tp_gp_fail("tptest");
  snprintf(buf, sizeof buf, "hello, %s (init %d)", who, inits > 0);
  return tp_gp_str(buf);
}

struct value tt_fail(int nargs, struct value *arg, void *priv) {
  tp_gp_clear_error();
  tp_err(TP_ENOKEY, "nothing.pt", -1, "tensor 'x' not found (0 tensors)");
  return tp_gp_fail("tptest");
}

struct value tt_last_error(int nargs, struct value *arg, void *priv) {
  return tp_gp_str(tp_gp_last_error());
}

void *gnuplot_init(tp_gp_fn fn) {
  inits++;
  return NULL;
}

void gnuplot_fini(void *priv) { inits--; }

double gnuplot_version(void) { return TP_GNUPLOT_VERSION; }

static int tt_main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "echo")) {
    for (int i = 2; i < argc; i++)
      printf("%s%s", argv[i], i + 1 < argc ? " " : "\n");
    return 0;
  }
  fprintf(stderr, "trainplot: tptest: unknown command '%s'\n", argc >= 2 ? argv[1] : "");
  return 1;
}

static const struct tp_gpfunc funcs[] = {
    {.name = "tt_add", .params = "a,b", .nargs = 2, .help = "a + b", .fn = tt_add},
    {.name = "tt_greet", .params = "who", .nargs = 1, .help = "a greeting", .fn = tt_greet},
    {.name = "tt_fail", .params = "x", .nargs = 1, .help = "always fails", .fn = tt_fail},
    {.name = "tt_last_error",
     .params = "x",
     .nargs = 1,
     .help = "last error message",
     .fn = tt_last_error},
};

static const struct tp_opt no_opts[] = {{0}};
static const struct tp_command commands[] = {
    {.name = "echo", .input = "WORD…", .help = "print the words", .opts = no_opts},
};

const struct tp_module trainplot_module = {
    .abi = TP_MODULE_ABI,
    .size = sizeof(struct tp_module),
    .name = "tptest",
    .version = PACKAGE_VERSION,
    .summary = "check-only module for the interface tests",
    .funcs = funcs,
    .nfuncs = sizeof funcs / sizeof funcs[0],
    .commands = commands,
    .ncommands = sizeof commands / sizeof commands[0],
    .main = tt_main,
};
