/* Writers for the similarity matrix, its profile and the table itself. */
#ifndef TP_SIMWRITE_H
#define TP_SIMWRITE_H

#include <stddef.h>

#include "tp_profile.h"
#include "tp_sim.h"
#include "tp_simmat.h"

/* Writers; all are atomic and refuse an output equal to input (may be NULL). */
int tp_simwrite_binary(const struct tp_simmat *s, const char *path, const char *input);
int tp_simwrite_text(const struct tp_simmat *s, const char *path, const char *input);
int tp_simwrite_profile(const struct tp_profile *p, const struct tp_simmat *s, const char *path,
                        const char *input);
/* The same, with the profile drawn at a plot's resolution: more than four offsets per
   pixel column become, per column, the rows of its first, last, lowest- and highest-mean
   offsets, each with the column's whole min-max band (the picture is the same, gnuplot
   reads and fills far fewer points). columns 0 writes every offset. */
int tp_simwrite_profile_display(const struct tp_profile *p, const struct tp_simmat *s,
                                const char *path, const char *input, size_t columns);
/* The matrix as text for a gnuplot datablock; *out is malloc'ed (caller frees). */
int tp_simwrite_datablock(const struct tp_simmat *s, size_t max_n, char **out);
/* The table itself, as float32 .npy (path ends in .npy) or a text matrix. */
int tp_table_write(const struct tp_rows *r, const char *path, const char *input);

#endif
