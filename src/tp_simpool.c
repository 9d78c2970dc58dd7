/* Pooling an already computed full similarity matrix down to a display grid. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_sim.h"

/* Sum (or max) and count of the defined cells r[a..b); NaN cells (undefined cosine) are
   left out. Four lanes, so the loop is not one long dependency chain. */
#define TP__FOLD(T, NAME)                                                               \
  static void NAME(const T *r, size_t a, size_t b, int want_max, double *acc, double *cnt) { \
    double s[4] = {0, 0, 0, 0}, c[4] = {0, 0, 0, 0};                                    \
    double mx[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};                        \
    size_t j = a;                                                                       \
    for (; j + 4 <= b; j += 4)                                                          \
      for (int l = 0; l < 4; l++) {                                                     \
        double x = (double)r[j + (size_t)l];                                            \
        int ok = x == x;                                                                \
        s[l] += ok ? x : 0.0;                                                           \
        c[l] += ok;                                                                     \
        mx[l] = ok && x > mx[l] ? x : mx[l];                                            \
      }                                                                                 \
    for (; j < b; j++) {                                                                \
      double x = (double)r[j];                                                          \
      int ok = x == x;                                                                  \
      s[0] += ok ? x : 0.0;                                                             \
      c[0] += ok;                                                                       \
      mx[0] = ok && x > mx[0] ? x : mx[0];                                              \
    }                                                                                   \
    double n = (c[0] + c[1]) + (c[2] + c[3]);                                           \
    if (n == 0)                                                                         \
      return;                                                                           \
    if (want_max) {                                                                     \
      double m = fmax(fmax(mx[0], mx[1]), fmax(mx[2], mx[3]));                          \
      *acc = *cnt == 0 || m > *acc ? m : *acc;                                          \
    } else {                                                                            \
      *acc += (s[0] + s[1]) + (s[2] + s[3]);                                            \
    }                                                                                   \
    *cnt += n;                                                                          \
  }
TP__FOLD(float, fold_f)
TP__FOLD(double, fold_d)

/* Row i of full into the accumulators of block row a; lo[k] is block k's first column. */
static void fold_row(const struct tp_simmat *full, const size_t *lo, size_t i, size_t a,
                     double *acc, double *cnt, size_t m, int want_max) {
  size_t n = full->n;
  for (size_t k = 0; k < m; k++) {
    if (full->dtype == TP_F64)
      fold_d((const double *)full->data + i * n, lo[k], lo[k + 1], want_max, &acc[a * m + k],
             &cnt[a * m + k]);
    else
      fold_f((const float *)full->data + i * n, lo[k], lo[k + 1], want_max, &acc[a * m + k],
             &cnt[a * m + k]);
  }
}

static void store(struct tp_simmat *s, size_t k, double x) {
  if (s->dtype == TP_F64)
    ((double *)s->data)[k] = x;
  else
    ((float *)s->data)[k] = (float)x;
}

int tp_sim_pool(const struct tp_simmat *full, size_t m, enum tp_pool how,
                struct tp_simmat **out) {
  size_t n = full->n, esz = full->dtype == TP_F64 ? sizeof(double) : sizeof(float);
  struct tp_simmat *s;
  double *acc, *cnt;
  size_t *cell, *lo;
  int rc;
  *out = NULL;
  if (full->block != 1 || m < 1 || m > n)
    return tp_err(TP_EINVAL, NULL, -1, "cannot pool a %zu x %zu matrix to %zu cells", n, n, m);
  if ((rc = tp_size_check((uint64_t)m * m * (2 * sizeof(double) + esz), NULL,
                          "the pooled grid")) < 0)
    return rc;
  s = calloc(1, sizeof *s);
  acc = calloc(m * m, sizeof *acc);
  cnt = calloc(m * m, sizeof *cnt);
  cell = malloc(n * sizeof *cell);
  lo = malloc((m + 1) * sizeof *lo);
  if (!s || !acc || !cnt || !cell || !lo || !(s->data = malloc(m * m * esz))) {
    free(s), free(acc), free(cnt), free(cell), free(lo);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the pooled matrix");
  }
  for (size_t k = 0; k <= m; k++)
    lo[k] = tp_sim_block_lo(n, m, k);
  for (size_t k = 0; k < m; k++)
    for (size_t i = lo[k]; i < lo[k + 1]; i++)
      cell[i] = k;
  for (size_t i = 0; i < n; i++)
    fold_row(full, lo, i, cell[i], acc, cnt, m, how == TP_POOL_MAX);
  s->n = m, s->dtype = full->dtype, s->metric = full->metric;
  s->src_n = n, s->block = (n + m - 1) / m, s->how = how;
  for (size_t k = 0; k < m * m; k++)
    store(s, k, cnt[k] == 0 ? NAN : how == TP_POOL_MAX ? acc[k] : acc[k] / cnt[k]);
  free(acc), free(cnt), free(cell), free(lo);
  *out = s;
  return 0;
}
