/* The gnuplot functions both modules give the bundled scripts: options and figure output. */
#ifndef TP_GPSCRIPT_H
#define TP_GPSCRIPT_H

#include "tp_gpvalue.h"

/* *_options(spec): declare the script's options (tp_sopt_spec); returns 0. */
struct value tp_gp_options(const char *module, int nargs, struct value *arg);
/* *_option_arg(text): take one script argument; returns 0. */
struct value tp_gp_option_arg(const char *module, int nargs, struct value *arg);
/* *_options_done(argc): refuse arguments gnuplot dropped; returns 0. */
struct value tp_gp_options_done(const char *module, int nargs, struct value *arg);
/* *_option(name): an option's value as a string. */
struct value tp_gp_option(const char *module, int nargs, struct value *arg);
/* *_option_num(name): a number option's value (NaN when empty). */
struct value tp_gp_option_num(const char *module, int nargs, struct value *arg);
/* *_option_join(names): "name=value ..." of those given, for a module's option string. */
struct value tp_gp_option_join(const char *module, int nargs, struct value *arg);
/* *_output(out, input): the scratch path to draw OUT into (tp_figure_begin). */
struct value tp_gp_output(const char *module, int nargs, struct value *arg);
/* *_output_commit(x): move the drawn figure to OUT; returns OUT escaped for printing. */
struct value tp_gp_output_commit(const char *module, int nargs, struct value *arg);
/* Free the options and the figure state (gnuplot_fini). */
void tp_gp_script_free(void);

#endif
