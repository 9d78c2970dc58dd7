/* The similarity matrix type: cells, their range, freeing, and where pooled blocks and
   triangle shares start. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "tp_simmat.h"

size_t tp_sim_block_lo(size_t src_n, size_t n, size_t k) {
  /* Split the product so k * src_n cannot overflow. */
  return k * (src_n / n) + k * (src_n % n) / n;
}

size_t tp_triangle_split(size_t n, size_t p, size_t t) {
  /* rows [0, r) hold the share 1 - (1 - r/n)^2 of the triangle */
  if (p >= t)
    return n;
  size_t r = (size_t)((double)n * (1 - sqrt(1 - (double)p / (double)t)));
  return r < n ? r : n;
}

void tp_simmat_free(struct tp_simmat *s) {
  if (!s)
    return;
  free(s->data);
  free(s);
}

double tp_simmat_get(const struct tp_simmat *s, size_t i, size_t j) {
  size_t k = i * s->n + j;
  return s->dtype == TP_F64 ? ((const double *)s->data)[k] : (double)((const float *)s->data)[k];
}

/* One loop per storage type keeps the scan free of per-cell dtype tests. */
#define RANGE_LOOP(T)                         \
  do {                                        \
    const T *c = s->data;                     \
    for (size_t k = 0; k < nn; k++)           \
      if (isfinite(c[k]))                     \
        l = fmin(l, c[k]), h = fmax(h, c[k]); \
  } while (0)

int tp_simmat_range(const struct tp_simmat *s, double *lo, double *hi) {
  double l = INFINITY, h = -INFINITY;
  size_t nn = s->n * s->n;
  if (s->dtype == TP_F32)
    RANGE_LOOP(float);
  else
    RANGE_LOOP(double);
  if (l > h) {
    *lo = *hi = NAN;
    return 0;
  }
  *lo = l, *hi = h;
  return 1;
}
