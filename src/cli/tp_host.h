/* The host's module registry, shared by the command line (trainplot.c) and the module
   loader (tp_host_modules.c). */
#ifndef TP_HOST_H
#define TP_HOST_H

#include <ltdl.h>
#include <stddef.h>

#include "tp_module.h"

#ifndef TP_MODULEDIR
#define TP_MODULEDIR "/usr/local/lib/trainplot"
#endif

#define MAX_MODULES 32

/* A module the host opened. */
struct tp__loaded {
  char name[64];
  char *dir; /* malloc'ed: no length limit */
  lt_dlhandle handle;
  const struct tp_module *mod;
};

/* Search dirs (colon-separated) instead of TP_MODULEDIR; dirs must outlive the host. */
void tp__host_set_path(const char *dirs);
/* The module called name, loaded from the search path, or NULL (a message printed). */
const struct tp__loaded *tp__host_find(const char *name);
/* --list (--markdown: the README's reference section); returns the exit status. */
int tp__host_list(int markdown);
/* --gnuplot-imports [--import-dir DIR]; returns the exit status. */
int tp__host_imports(const char *import_dir);
/* Close every module. */
void tp__host_unload(void);

#endif
