/* The one descriptor every trainplot module exports, checked by the host. */
#ifndef TP_MODULE_H
#define TP_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "tp_cmd.h"
#include "tp_gpscript.h"
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
  uint32_t abi;     /* TP_MODULE_ABI */
  uint32_t size;    /* sizeof(struct tp_module) */
  const char *name; /* "posemb" */
  const char *version;
  const char *summary; /* one line */
  const struct tp_gpfunc *funcs;
  size_t nfuncs;
  const struct tp_command *commands;
  size_t ncommands;
  /* Command-line entry: argv[0] is the module name; returns the exit status. */
  int (*main)(int argc, char **argv);
};

/*
 * The parts every module has, written once (in the manner of nbdkit's
 * NBDKIT_REGISTER_PLUGIN): the gnuplot functions P_last_error, P_scratch, the script
 * options (P_options, P_option_arg, P_options_done, P_option, P_option_num,
 * P_option_join) and figure outputs (P_output, P_output_commit); gnuplot_init, which
 * turns GSL's aborting error handler off (the module includes <gsl/gsl_errno.h>);
 * gnuplot_fini, which runs the module's cleanup and frees the shared state; and the
 * descriptor with .size = sizeof. A module writes TP_MODULE_DECLARE(P) before its
 * function table, TP_MODULE_FUNCS(P) as the table's last rows, and TP_MODULE(...) after.
 */
#define TP_MODULE_DECLARE(P)                                                \
  struct value P##_last_error(int nargs, struct value *arg, void *priv);    \
  struct value P##_scratch(int nargs, struct value *arg, void *priv);       \
  struct value P##_options(int nargs, struct value *arg, void *priv);       \
  struct value P##_option_arg(int nargs, struct value *arg, void *priv);    \
  struct value P##_options_done(int nargs, struct value *arg, void *priv);  \
  struct value P##_option(int nargs, struct value *arg, void *priv);        \
  struct value P##_option_num(int nargs, struct value *arg, void *priv);    \
  struct value P##_option_join(int nargs, struct value *arg, void *priv);   \
  struct value P##_output(int nargs, struct value *arg, void *priv);        \
  struct value P##_output_commit(int nargs, struct value *arg, void *priv); \
  void *gnuplot_init(tp_gp_fn fn);                                          \
  void gnuplot_fini(void *priv);                                            \
  double gnuplot_version(void)

#define TP__FN(P, n, params_, k, h) \
  { .name = #P "_" #n, .params = params_, .nargs = k, .fn = P##_##n, .help = h }
#define TP_MODULE_FUNCS(P)                                                                        \
  TP__FN(P, options, "spec", 1,                                                                   \
         "declare a script's options: \"@in @out n#=1 w=word t$=text\" (positional, "             \
         "word, number, free text) with defaults; returns 0"),                                    \
      TP__FN(P, option_arg, "text", 1,                                                            \
             "take one script argument: name=value, several such words, or the next "             \
             "positional one; returns 0"),                                                        \
      TP__FN(P, options_done, "argc", 1,                                                          \
             "after the arguments: refuse those gnuplot dropped past its nine; returns 0"),       \
      TP__FN(P, option, "name", 1,                                                                \
             "a script option's value as a string (its default when not given)"),                 \
      TP__FN(P, option_num, "name", 1, "a script option's value as a number (NaN when empty)"),   \
      TP__FN(P, option_join, "names", 1,                                                          \
             "\"name=value ...\" of those of the names that were given, for an option string"),   \
      TP__FN(P, output, "out,input", 2,                                                           \
             "check OUT (no '|' pipes, never the input) and return the scratch path to draw it "  \
             "into"),                                                                             \
      TP__FN(P, output_commit, "x", 1,                                                            \
             "after 'set output': move the drawn figure to OUT atomically; returns OUT for "      \
             "printing"),                                                                         \
      TP__FN(P, scratch, "name", 1,                                                               \
             "path for name in a private scratch directory, removed with its files when gnuplot " \
             "exits"),                                                                            \
      TP__FN(P, last_error, "x", 1,                                                               \
             "the message of the last failure, \"\" after a success (x is ignored)")

#define TP__SHARED(M, P, n)          \
  TP_GP_EXPORT(M, P##_##n) {         \
    (void)priv;                      \
    return tp_gp_##n(M, nargs, arg); \
  }

#define TP_MODULE(P, M, summary_, funcs_, commands_, ncommands_, main_, cleanup_)          \
  TP_GP_EXPORT(M, P##_last_error) {                                                        \
    (void)nargs, (void)arg, (void)priv;                                                    \
    return tp_gp_str(tp_gp_last_error());                                                  \
  }                                                                                        \
  TP__SHARED(M, P, scratch)                                                                \
  TP__SHARED(M, P, options)                                                                \
  TP__SHARED(M, P, option_arg)                                                             \
  TP__SHARED(M, P, options_done)                                                           \
  TP__SHARED(M, P, option)                                                                 \
  TP__SHARED(M, P, option_num)                                                             \
  TP__SHARED(M, P, option_join)                                                            \
  TP__SHARED(M, P, output)                                                                 \
  TP__SHARED(M, P, output_commit)                                                          \
  void *gnuplot_init(tp_gp_fn fn) {                                                        \
    (void)fn;                                                                              \
    gsl_set_error_handler_off(); /* GSL's default aborts, which would take gnuplot down */ \
    return NULL;                                                                           \
  }                                                                                        \
  void gnuplot_fini(void *priv) {                                                          \
    (void)priv;                                                                            \
    cleanup_();                                                                            \
    tp_gp_script_free();                                                                   \
    tp_gp_release();                                                                       \
  }                                                                                        \
  double gnuplot_version(void) { return TP_GNUPLOT_VERSION; }                              \
  const struct tp_module trainplot_module = {                                              \
      .abi = TP_MODULE_ABI,                                                                \
      .size = sizeof(struct tp_module),                                                    \
      .name = M,                                                                           \
      .version = PACKAGE_VERSION,                                                          \
      .summary = summary_,                                                                 \
      .funcs = funcs_,                                                                     \
      .nfuncs = sizeof funcs_ / sizeof funcs_[0],                                          \
      .commands = commands_,                                                               \
      .ncommands = ncommands_,                                                             \
      .main = main_,                                                                       \
  }

#endif
