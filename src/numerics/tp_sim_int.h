/* Internals shared by the similarity kernel, its mirror and its tiled path. */
#ifndef TP_SIM_INT_H
#define TP_SIM_INT_H

#include <stddef.h>

#include "tp_sim.h"
#include "tp_simmat.h"

/* The rows BLAS reads: the caller's table itself when it is already in the compute
   precision, else a working copy (unit length for cosine). A borrowed table under
   cosine is not normalised; inv then holds each row's 1/|row| and the mirror scales
   the product instead. */
struct work {
  size_t n, d, esz;
  int dbl;
  const void *x;       /* the caller's rows, or own */
  void *own;           /* the working copy, when one was made */
  void *inv;           /* float or double 1/|row| for a borrowed cosine table, or NULL */
  unsigned char *zero; /* 1 for an all-zero row */
  double *sq;          /* squared row norms (euclidean) */
};

/* Fix up and mirror a full matrix whose upper triangle syrk filled (tp_mirror.c). */
void tp__sim_finish_f(float *c, size_t n, const struct work *w, enum tp_metric m);
void tp__sim_finish_d(double *c, size_t n, const struct work *w, enum tp_metric m);

/* The pooled grid of o->pool cells a side into s, from row tiles; sink (may be NULL) gets
   the unpooled rows (tp_simtile.c). */
int tp__sim_pooled(const struct work *w, const struct tp_sim_opts *o, struct tp_simmat *s,
                   const struct tp_sim_sink *sink);

#endif
