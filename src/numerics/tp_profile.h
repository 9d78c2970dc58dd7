/* The similarity profile by offset |i-j|: computing it, gathering it row by row, and its facts. */
#ifndef TP_PROFILE_H
#define TP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "tp_sim.h"
#include "tp_simmat.h"

/* Similarity by offset |i-j|, and what it says about the table. */
struct tp_profile {
  size_t n;     /* offsets 0..n-1 */
  size_t block; /* positions per offset step: 1, or the block of a pooled matrix */
  double *mean, *min, *max;
  long band;       /* first offset whose mean < 0.5 (relative for dot); -1 when none */
  double toeplitz; /* largest |S_ij - mean at |i-j||, ignoring NaN */
  size_t toeplitz_i, toeplitz_j;
  long period;        /* offset of a secondary peak; -1 when none */
  double period_rise; /* how far the profile climbs back at that peak */
  size_t self_max;    /* rows whose most similar cell (nearest, for distances) is the diagonal */
  size_t self_rows;   /* rows with a defined diagonal */
};

/* The offset profile of s; *out is owned by the caller. */
int tp_profile_compute(const struct tp_simmat *s, struct tp_profile **out);
/* The pooled grid (0 < o->pool < rows) and the profile of the unpooled matrix, both from
   the same row tiles, so no n x n matrix is ever held; without pooling, the full matrix
   and its profile, or, when that matrix is over tp_sim_full_budget(), a pooled grid
   (1024 cells a side, n/2 for a shorter table) with the same full-resolution profile
   (out's block > 1 says so). Both are owned by the caller. */
int tp_sim_compute_profiled(const struct tp_rows *r, const struct tp_sim_opts *o,
                            struct tp_simmat **out, struct tp_profile **prof);

/* The profile gathered row by row from the upper triangle (what the tiled path does). */
struct tp_profile_acc {
  size_t n;
  enum tp_metric metric;
  double *sum, *cnt, *min, *max;
  uint32_t *imin, *imax; /* row of the first min / max of each diagonal */
  double *best;          /* largest (smallest, for distances) off-diagonal cell per row */
  double *self;          /* the diagonal; NaN for a skipped row */
};
int tp_profile_acc_init(struct tp_profile_acc *a, size_t n, enum tp_metric m);
void tp_profile_acc_free(struct tp_profile_acc *a);
/* Row i's cells S(i, i + k), k < n - i, in v; columns with skip[j] set are undefined
   (skip may be NULL). Rows must come in increasing order; a row never passed is undefined. */
void tp_profile_acc_row_f(struct tp_profile_acc *a, size_t i, const float *v,
                          const unsigned char *skip);
void tp_profile_acc_row_d(struct tp_profile_acc *a, size_t i, const double *v,
                          const unsigned char *skip);
/* Rows [r0, r1) at once, row i's cells at v0 + (i - r0) * stride; rows with skip[i] set
   are left out. The same result as one row at a time, bit for bit (AVX when the CPU has it). */
void tp_profile_acc_rows_f(struct tp_profile_acc *a, size_t r0, size_t r1, const float *v0,
                           size_t stride, const unsigned char *skip);
/* The profile from the rows passed; a is freed either way. */
int tp_profile_acc_finish(struct tp_profile_acc *a, struct tp_profile **out);
void tp_profile_free(struct tp_profile *p);
/* The index of a secondary peak in y[0..n), or -1 (exposed for the tests). */
long tp_profile_period(const double *y, size_t n, double min_rise, double *rise);

#endif
