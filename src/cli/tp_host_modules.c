/* The host's modules: found on the search path with libltdl, listed, and turned into
   gnuplot import lines. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tp_cmd.h"
#include "tp_error.h"
#include "tp_host.h"
#include "tp_module.h"

static struct tp__loaded mods[MAX_MODULES];
static size_t nmods;
static const char *search_path = TP_MODULEDIR;

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
  return strcmp(((const struct tp__loaded *)a)->name, ((const struct tp__loaded *)b)->name);
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

const struct tp__loaded *tp__host_find(const char *name) {
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

int tp__host_list(int markdown) {
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
static char *module_so_path(const struct tp__loaded *l, const char *import_dir) {
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

int tp__host_imports(const char *import_dir) {
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

void tp__host_set_path(const char *dirs) { search_path = dirs; }

void tp__host_unload(void) {
  for (size_t i = 0; i < nmods; i++) {
    lt_dlclose(mods[i].handle);
    free(mods[i].dir);
  }
  nmods = 0;
}
