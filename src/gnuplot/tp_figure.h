/* A bundled script's figure: drawn in the scratch directory, moved to OUT by the rules. */
#ifndef TP_FIGURE_H
#define TP_FIGURE_H

/*
 * gnuplot's "set output OUT" truncates OUT at once, follows a symlink, runs an OUT that
 * starts with '|' as a shell command, is raced by concurrent runs and leaves an empty file
 * when the script fails later. So a script asks tp_figure_begin for a path in its private
 * scratch directory, draws there, closes the output ("set output") and calls
 * tp_figure_commit, which copies the finished figure to OUT the way every output is
 * written (tp_out: a temporary beside OUT, fsync, rename; in place for a terminal, FIFO or
 * /dev/stdout; never over the input by name, symlink or hard link).
 */

/* Check out (refusing '|' pipes, the input, directories and special files, and a
   directory that cannot be written) and give the path to draw into; *draw is malloc'ed. */
int tp_figure_begin(const char *out, const char *input, char **draw);
/* Move the figure drawn since tp_figure_begin to its OUT; *shown (malloc'ed) is OUT as it
   may be printed (escaped). */
int tp_figure_commit(char **shown);
/* Forget a begun figure (its scratch file goes with the scratch directory). */
void tp_figure_free(void);

#endif
