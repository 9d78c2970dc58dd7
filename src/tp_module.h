/* The one descriptor every trainplot module exports, checked by the host. */
#ifndef TP_MODULE_H
#define TP_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "tp_cmd.h"
#include "tp_gpvalue.h"

#define TP_MODULE_ABI 2 /* 2: commands carry their option tables */
#define TP_MODULE_SYMBOL "trainplot_module"

/* One gnuplot function: its name, parameter names (comma-separated), help. */
struct tp_gpfunc {
  const char *name;
  const char *params; /* "spec,key"; "" for none */
  int nargs;          /* number of parameters gnuplot passes */
  const char *help;   /* one line */
  tp_gp_fn fn;
};

/* A module's commands are struct tp_command entries (tp_cmd.h), options included. */

struct tp_module {
  uint32_t abi;       /* TP_MODULE_ABI */
  uint32_t size;      /* sizeof(struct tp_module) */
  const char *name;   /* "posemb" */
  const char *version;
  const char *summary; /* one line */
  const struct tp_gpfunc *funcs;
  size_t nfuncs;
  const struct tp_command *commands;
  size_t ncommands;
  /* Command-line entry: argv[0] is the module name; returns the exit status. */
  int (*main)(int argc, char **argv);
};

#endif
