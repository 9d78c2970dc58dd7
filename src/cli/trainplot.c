/* The trainplot host: finds modules with libltdl and runs their commands and functions. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tp_cmd.h"
#include "tp_error.h"
#include "tp_gpvalue.h"
#include "tp_host.h"
#include "tp_module.h"
#include "tp_numparse.h"
#include "tp_text.h"

static void usage(FILE *fp);

/* Turn one command-line word into a value the way gnuplot would pass it. A string points
   into argv: arguments are gnuplot's, and the module never frees them. */
static struct value word_value(char *w) {
  char *end;
  const char *num = w, *stop;
  long long i;
  double x;
  struct value v;
  errno = 0;
  i = strtoll(w, &end, 10);
  if (*w && !*end && !errno)
    return tp_gp_int(i);
  while (*num == ' ' || (*num >= '\t' && *num <= '\r')) /* leading white space, as strtoll */
    num++;
  end = w + strlen(w);
  x = tp_parse_double(num, end, &stop);
  if (stop > num && stop == end)
    return tp_gp_num(x);
  memset(&v, 0, sizeof v);
  v.type = STRING;
  v.v.string_val = w;
  return v;
}

static void print_value(struct value v) {
  switch ((int)v.type) {
  case INTGR: printf("%lld\n", (long long)v.v.int_val); break;
  case CMPLX: printf("%.17g\n", v.v.cmplx_val.real); break;
  case STRING:
    fputs(v.v.string_val, stdout);
    if (!*v.v.string_val || v.v.string_val[strlen(v.v.string_val) - 1] != '\n')
      putchar('\n');
    break; /* the module owns it, as it does for gnuplot, and frees it in gnuplot_fini */
  default: printf("NaN\n"); break;
  }
}

static int cmd_call(int argc, char **argv) {
  const struct tp__loaded *l;
  const struct tp_gpfunc *fn = NULL;
  struct value args[16], r;
  void *(*init)(void *);
  void (*fini)(void *);
  void *priv = NULL;
  if (argc < 2) {
    fprintf(stderr, "trainplot: --call needs MODULE FUNCTION [ARG…]\n");
    return 1;
  }
  if (!(l = tp__host_find(argv[0])))
    return 1;
  for (size_t f = 0; f < l->mod->nfuncs; f++)
    if (strcmp(l->mod->funcs[f].name, argv[1]) == 0)
      fn = &l->mod->funcs[f];
  if (!fn) {
    fprintf(stderr, "trainplot: module '%s' has no function '%s' (try 'trainplot --list')\n",
            argv[0], argv[1]);
    return 1;
  }
  if (argc - 2 != fn->nargs || fn->nargs > 16) {
    fprintf(stderr, "trainplot: %s(%s) takes %d argument%s, got %d\n", fn->name, fn->params,
            fn->nargs, fn->nargs == 1 ? "" : "s", argc - 2);
    return 1;
  }
  memset(args, 0, sizeof args);
  for (int i = 0; i < fn->nargs; i++)
    args[i] = word_value(argv[2 + i]);
  init = (void *(*)(void *))lt_dlsym(l->handle, "gnuplot_init");
  fini = (void (*)(void *))lt_dlsym(l->handle, "gnuplot_fini");
  if (init)
    priv = init((void *)fn->fn);
  r = fn->fn(fn->nargs, args, priv);
  print_value(r);
  if (fini)
    fini(priv);
  return r.type == INVALID_VALUE ? 1 : 0;
}

/* ---- the host's own commands: one table, parsed by the modules' parser ---- */

struct host_args {
  int markdown;
  const char *import_dir;
};

static int run_help(const struct host_args *a) {
  (void)a, usage(stdout);
  return 0;
}
static int run_version(const struct host_args *a) {
  (void)a;
  printf("trainplot %s (gnuplot plugin ABI %d, CBLAS %s, module interface %d)\n", PACKAGE_VERSION,
         TP_GNUPLOT_ABI, TP_CBLAS_NAME, TP_MODULE_ABI);
  return 0;
}
static int run_list(const struct host_args *a) { return tp__host_list(a->markdown); }
static int run_imports(const struct host_args *a) { return tp__host_imports(a->import_dir); }

#define F(field) offsetof(struct host_args, field)
static const struct tp_opt no_opts[] = {{0}};
static const struct tp_opt list_opts[] = {
    {.name = "markdown",
     .type = TP_OPT_SWITCH,
     .offset = F(markdown),
     .help = "the README's reference section, as Markdown tables"},
    {0}};
static const struct tp_opt imports_opts[] = {
    {.name = "import-dir",
     .arg = "DIR",
     .type = TP_OPT_STRING,
     .offset = F(import_dir),
     .help = "the directory gnuplot will open the modules from (default: where they were found)"},
    {0}};
#undef F

/* Each entry's run returns the exit status itself (the host prints its own errors). */
struct host_cmd {
  struct tp_command cmd;
  int (*run)(const struct host_args *a);
};
#define HOST(n, o, fn, h) \
  { .cmd = {.name = n, .help = h, .opts = o}, .run = fn }
static const struct host_cmd host_cmds[] = {
    HOST("--list", list_opts, run_list, "modules, their commands and gnuplot functions"),
    HOST("--version", no_opts, run_version, "the version, plugin ABI, CBLAS and module interface"),
    HOST("--gnuplot-imports", imports_opts, run_imports,
         "gnuplot 'import' lines for every module function (what trainplot.gp holds)"),
    HOST("--help", no_opts, run_help, "this summary"),
};
#undef HOST
#define NHOST (sizeof host_cmds / sizeof host_cmds[0])

static void usage(FILE *fp) {
  char use[512];
  fprintf(fp, "usage: trainplot [--module-path DIRS] MODULE COMMAND [ARG…]   (see --list)\n");
  for (size_t i = 0; i < NHOST; i++)
    fprintf(fp, "       trainplot %s%s%s\n           %s\n", host_cmds[i].cmd.name,
            host_cmds[i].cmd.opts->name ? " " : "",
            tp_cmd_usage(&host_cmds[i].cmd, use, sizeof use), host_cmds[i].cmd.help);
  fprintf(fp,
          "       trainplot --call MODULE FUNCTION [ARG…]\n"
          "           call one gnuplot function as gnuplot would, print the result\n"
          "Modules are searched in --module-path, then $TRAINPLOT_MODULE_PATH "
          "(colon-separated), then %s.\n",
          TP_MODULEDIR);
}

static int run(int argc, char **argv) {
  const struct tp__loaded *l;
  if (argc < 1) {
    usage(stderr);
    return 1;
  }
  if (!strcmp(argv[0], "-h"))
    argv[0] = "--help";
  for (size_t i = 0; i < NHOST; i++) {
    struct host_args a = {0};
    char buf[2048];
    if (strcmp(argv[0], host_cmds[i].cmd.name))
      continue;
    if (tp_cmd_parse(NULL, &host_cmds[i].cmd, argc, argv, &a) < 0) {
      fprintf(stderr, "trainplot: %s\n", tp_err_format(buf, sizeof buf));
      return 1;
    }
    return host_cmds[i].run(&a);
  }
  if (!strcmp(argv[0], "--call"))
    return cmd_call(argc - 1, argv + 1);
  if (argv[0][0] == '-') {
    char shown[128];
    fprintf(stderr, "trainplot: unknown option '%s' (try 'trainplot --help')\n",
            tp_text_escape_buf(argv[0], shown, sizeof shown));
    return 1;
  }
  if (!(l = tp__host_find(argv[0])))
    return 1;
  return l->mod->main(argc, argv);
}

int main(int argc, char **argv) {
  int rc;
  char *env = getenv("TRAINPLOT_MODULE_PATH");
  argc--, argv++;
  /* No GSL here: each module turns GSL's aborting error handler off itself, and the host
     links no numeric library, so a gradnorm run does not load the CBLAS. */
  const char *search_path = env && *env ? env : TP_MODULEDIR;
  while (argc >= 1 && !strncmp(argv[0], "--module-path", 13)) {
    if (argv[0][13] == '=') {
      search_path = argv[0] + 14;
      argc--, argv++;
    } else if (argc >= 2) {
      search_path = argv[1];
      argc -= 2, argv += 2;
    } else {
      fprintf(stderr, "trainplot: --module-path needs a directory\n");
      return 1;
    }
  }
  if (lt_dlinit() != 0) {
    fprintf(stderr, "trainplot: cannot initialise libltdl: %s\n", lt_dlerror());
    return 2;
  }
  tp__host_set_path(search_path);
  rc = run(argc, argv);
  fflush(stdout);
  tp__host_unload();
  lt_dlexit();
  return rc;
}
