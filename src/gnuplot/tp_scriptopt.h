/* The bundled scripts' arguments, parsed by the module and handed back as values. */
#ifndef TP_SCRIPTOPT_H
#define TP_SCRIPTOPT_H

/*
 * A script never slices, sprintf's or evals a user's argument: it declares its options,
 * gives the module each argument as it is, and asks for values back. The spec is a list
 * of words: "@name" for the positional arguments in order, then "name=default" (one word,
 * no spaces), "name#=default" (a number) or "name$=default" (free text). An argument
 * "name=value" with a declared name sets that option; an argument made only of such
 * words ("top=2 max_norm=1") sets each of them, which is how more options than gnuplot's
 * nine script arguments fit; any other argument is the next positional one. Values never
 * hold control characters, and words no blanks, so a value cannot smuggle in another
 * option where a script joins them for a module function.
 */

/* Start over with the options of spec (the previous set is freed). */
int tp_sopt_spec(const char *spec);
/* Take one script argument. */
int tp_sopt_arg(const char *arg);
/* After the last argument: argc is the script's ARGC. gnuplot passes a script at most
   nine arguments and drops the rest silently; when /proc/self/cmdline shows that this
   happened to the running "gnuplot -c" script, this is an error naming what was lost. */
int tp_sopt_done(int argc);
/* The value of a declared option (its default when not given; "" for an absent
   positional argument); *out stays valid until the next tp_sopt_spec. */
int tp_sopt_get(const char *name, const char **out);
/* An option's value as a number (an error when it is not one); NaN for an empty value. */
int tp_sopt_num(const char *name, double *out);
/* "name=value ..." for those of the space-separated names that were given, in the
   spec's order; *out is malloc'ed. */
int tp_sopt_join(const char *names, char **out);
/* Free everything (module unload). */
void tp_sopt_free(void);

#endif
