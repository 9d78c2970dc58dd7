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
#include "tp_module.h"
#include "tp_numparse.h"
#include "tp_text.h"

#ifndef TP_MODULEDIR
#define TP_MODULEDIR "/usr/local/lib/trainplot"
#endif

#define MAX_MODULES 32

struct loaded {
  char name[64];
  char *dir; /* malloc'ed: no length limit */
  lt_dlhandle handle;
  const struct tp_module *mod;
};

static struct loaded mods[MAX_MODULES];
static size_t nmods;
static const char *search_path;

static void usage(FILE *fp);

/* Check the exported descriptor field by field, naming what is wrong. */
static int check_descriptor(const char *file, const struct tp_module *m) {
  if (!m)
    return tp_err(TP_EABI, file, -1, "no '%s' descriptor exported; not a trainplot module",
                  TP_MODULE_SYMBOL);
  if (m->abi != TP_MODULE_ABI)
    return tp_err(TP_EABI, file, -1,
                  "module interface version %u, this host speaks %u; rebuild the module",
                  (unsigned)m->abi, (unsigned)TP_MODULE_ABI);
  if (m->size != sizeof(struct tp_module))
    return tp_err(TP_EABI, file, -1,
                  "descriptor is %u bytes, this host expects %zu; rebuild the module",
                  (unsigned)m->size, sizeof(struct tp_module));
  if (!m->name || !m->funcs || !m->main)
    return tp_err(TP_EABI, file, -1, "descriptor lacks a name, function table or entry");
  return 0;
}

/* Open dir/base through libltdl and keep it when it is a valid module. */
static int try_load(const char *dir, const char *base) {
  char *path, *dcopy;
  lt_dlhandle h;
  const struct tp_module *m;
  int rc;
  for (size_t i = 0; i < nmods; i++)
    if (strcmp(mods[i].name, base) == 0)
      return 0; /* an earlier directory wins */
  if (nmods == MAX_MODULES || strlen(base) >= sizeof mods[0].name)
    return 0;
  if (asprintf(&path, "%s/%s", dir, base) < 0)
    return tp_err(TP_ENOMEM, dir, -1, "out of memory");
  if (!(h = lt_dlopenext(path))) {
    rc = tp_err(TP_EABI, path, -1, "cannot load module: %s", lt_dlerror());
    free(path);
    return rc;
  }
  m = (const struct tp_module *)lt_dlsym(h, TP_MODULE_SYMBOL);
  rc = check_descriptor(path, m);
  free(path);
  if (rc < 0 || !(dcopy = strdup(dir))) {
    lt_dlclose(h);
    return rc < 0 ? rc : tp_err(TP_ENOMEM, dir, -1, "out of memory");
  }
  snprintf(mods[nmods].name, sizeof mods[nmods].name, "%s", base);
  mods[nmods].dir = dcopy;
  mods[nmods].handle = h;
  mods[nmods].mod = m;
  nmods++;
  return 0;
}

/* Module candidates in dir: NAME.la or NAME.so files. */
static void scan_dir(const char *dir, const char *only) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (!d)
    return;
  while ((e = readdir(d))) {
    char base[256];
    size_t len = strlen(e->d_name);
    if (len < 4 || len >= sizeof base || e->d_name[0] == '.')
      continue;
    if (strcmp(e->d_name + len - 3, ".la") && strcmp(e->d_name + len - 3, ".so"))
      continue;
    memcpy(base, e->d_name, len - 3);
    base[len - 3] = '\0';
    if (only && strcmp(base, only) != 0)
      continue;
    if (try_load(dir, base) < 0) {
      char buf[6000];
      fprintf(stderr, "trainplot: warning: %s\n", tp_err_format(buf, sizeof buf));
    }
  }
  closedir(d);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct loaded *)a)->name, ((const struct loaded *)b)->name);
}

/* Load every module on the search path (or just the one named), sorted by name. */
static void load_modules(const char *only) {
  char *copy = strdup(search_path), *save = NULL;
  if (!copy)
    return;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
    if (*dir)
      scan_dir(dir, only);
  free(copy);
  qsort(mods, nmods, sizeof mods[0], by_name);
}

static const struct loaded *find_module(const char *name) {
  load_modules(name);
  for (size_t i = 0; i < nmods; i++)
    if (strcmp(mods[i].name, name) == 0)
      return &mods[i];
  fprintf(stderr, "trainplot: no module '%s' in %s (try 'trainplot --list')\n", name, search_path);
  return NULL;
}

/* Print s for a Markdown table cell: a bare '|' would end the cell. */
static void md(const char *s) {
  for (; *s; s++) {
    if (*s == '|')
      putchar('\\');
    putchar(*s);
  }
}

/* The README's reference section, generated from the same descriptor tables. */
static int cmd_reference(void) {
  for (size_t i = 0; i < nmods; i++) {
    const struct tp_module *m = mods[i].mod;
    printf("### Module `%s`\n\n%s\n\n", m->name, m->summary);
    printf("| command | what it does |\n|---|---|\n");
    for (size_t c = 0; c < m->ncommands; c++) {
      char use[1024];
      printf("| `trainplot %s %s ", m->name, m->commands[c].name);
      md(tp_cmd_usage(&m->commands[c], use, sizeof use));
      printf("` | ");
      md(m->commands[c].help);
      printf(" |\n");
    }
    printf("\n| gnuplot function | what it returns |\n|---|---|\n");
    for (size_t f = 0; f < m->nfuncs; f++) {
      printf("| `%s(%s)` | ", m->funcs[f].name, m->funcs[f].params);
      md(m->funcs[f].help);
      printf(" |\n");
    }
    printf("\n");
  }
  return 0;
}

static int cmd_list(int markdown) {
  load_modules(NULL);
  if (nmods == 0) {
    fprintf(stderr, "trainplot: no modules found in %s\n", search_path);
    return 1;
  }
  if (markdown)
    return cmd_reference();
  for (size_t i = 0; i < nmods; i++) {
    const struct tp_module *m = mods[i].mod;
    printf("%s %s - %s\n  (%s)\n", m->name, m->version, m->summary, mods[i].dir);
    for (size_t c = 0; c < m->ncommands; c++) {
      char use[1024];
      printf("  trainplot %s %s %s\n      %s\n", m->name, m->commands[c].name,
             tp_cmd_usage(&m->commands[c], use, sizeof use), m->commands[c].help);
    }
    for (size_t f = 0; f < m->nfuncs; f++)
      printf("  %s(%s)\n      %s\n", m->funcs[f].name, m->funcs[f].params, m->funcs[f].help);
  }
  return 0;
}

/* The shared object gnuplot must open for a module found in dir, malloc'ed (NULL when out
   of memory). */
static char *module_so_path(const struct loaded *l, const char *import_dir) {
  char *p = NULL;
  struct stat st;
  if (import_dir)
    return asprintf(&p, "%s/%s.so", import_dir, l->name) < 0 ? NULL : p;
  if (asprintf(&p, "%s/.libs/%s.so", l->dir, l->name) >= 0 && stat(p, &st) == 0)
    return p;
  free(p);
  return asprintf(&p, "%s/%s.so", l->dir, l->name) < 0 ? NULL : p;
}

/* A path goes into gnuplot code between double quotes: a quote, backslash or control
   character would end or change the string, so such a path is refused. */
static int quotable(const char *p) {
  for (; *p; p++)
    if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
      return 0;
  return 1;
}

static int cmd_imports(const char *import_dir) {
  load_modules(NULL);
  if (import_dir && !quotable(import_dir)) {
    fprintf(stderr, "trainplot: --import-dir: a directory with a quote, backslash or control "
                    "character cannot go into gnuplot's import lines\n");
    return 1;
  }
  printf("# gnuplot import lines for the trainplot modules; 'load' this file.\n"
         "# Generated by trainplot %s from the modules' descriptor tables.\n",
         PACKAGE_VERSION);
  for (size_t i = 0; i < nmods; i++) {
    char *so = module_so_path(&mods[i], import_dir);
    const struct tp_module *m = mods[i].mod;
    if (!so || !quotable(so)) {
      fprintf(stderr,
              "trainplot: %s: a module path with a quote, backslash or control "
              "character cannot go into gnuplot's import lines\n",
              so ? "--import-dir" : "out of memory");
      free(so);
      return 1;
    }
    printf("\n# %s %s: %s\n", m->name, m->version, m->summary);
    for (size_t f = 0; f < m->nfuncs; f++)
      printf("import %s(%s) from \"%s:%s\"\n", m->funcs[f].name, m->funcs[f].params, so,
             m->funcs[f].name);
    free(so);
  }
  if (!nmods)
    fprintf(stderr, "trainplot: warning: no modules found in %s\n", search_path);
  return 0;
}

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
  const struct loaded *l;
  const struct tp_gpfunc *fn = NULL;
  struct value args[16], r;
  void *(*init)(void *);
  void (*fini)(void *);
  void *priv = NULL;
  if (argc < 2) {
    fprintf(stderr, "trainplot: --call needs MODULE FUNCTION [ARG…]\n");
    return 1;
  }
  if (!(l = find_module(argv[0])))
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
static int run_list(const struct host_args *a) { return cmd_list(a->markdown); }
static int run_imports(const struct host_args *a) { return cmd_imports(a->import_dir); }

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
  const struct loaded *l;
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
  if (!(l = find_module(argv[0])))
    return 1;
  return l->mod->main(argc, argv);
}

int main(int argc, char **argv) {
  int rc;
  char *env = getenv("TRAINPLOT_MODULE_PATH");
  argc--, argv++;
  /* No GSL here: each module turns GSL's aborting error handler off itself, and the host
     links no numeric library, so a gradnorm run does not load the CBLAS. */
  search_path = env && *env ? env : TP_MODULEDIR;
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
  rc = run(argc, argv);
  fflush(stdout);
  for (size_t i = 0; i < nmods; i++) {
    lt_dlclose(mods[i].handle);
    free(mods[i].dir);
  }
  lt_dlexit();
  return rc;
}
