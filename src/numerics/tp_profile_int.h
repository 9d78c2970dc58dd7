/* Internals shared by the profile of a whole matrix and the row-by-row accumulator. */
#ifndef TP_PROFILE_INT_H
#define TP_PROFILE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tp_profile.h"

/* Offsets [k0, k1): sums into means (NaN when empty) and the largest cell-to-mean gap. */
void tp__profile_offset_gaps(double *mean, double *mn, double *mx, const double *cnt,
                             const uint32_t *imin, const uint32_t *imax, size_t k0, size_t k1,
                             double *gap, size_t *gi, size_t *gj);
/* Band and period from the means; y (n doubles) is scratch. */
void tp__profile_shape(struct tp_profile *p, enum tp_metric m, double *y);

/* 1 when cell v beats the diagonal value self: more similar (nearer, for distances),
   with the 1e-6 slack for rounding. */
static inline int tp__profile_beats_self(double v, double self, int lower) {
  return lower ? v < self - 1e-6 : v > self + 1e-6;
}

#endif
