/* Pooling an already computed full similarity matrix down to a display grid. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_sim.h"

/* Fold one cell into its block; NaN cells (undefined cosine) are left out. */
static void fold(double *acc, double *cnt, double x, int want_max) {
  if (isnan(x))
    return;
  *acc = *cnt == 0 ? x : want_max ? (x > *acc ? x : *acc) : *acc + x;
  *cnt += 1;
}

/* Row i of full into the accumulators of block row a. */
static void fold_row(const struct tp_simmat *full, const size_t *cell, size_t i,
                     double *acc, double *cnt, size_t m, int want_max) {
  size_t a = cell[i], n = full->n;
  if (full->dtype == TP_F64) {
    const double *r = (const double *)full->data + i * n;
    for (size_t j = 0; j < n; j++)
      fold(&acc[a * m + cell[j]], &cnt[a * m + cell[j]], r[j], want_max);
  } else {
    const float *r = (const float *)full->data + i * n;
    for (size_t j = 0; j < n; j++)
      fold(&acc[a * m + cell[j]], &cnt[a * m + cell[j]], (double)r[j], want_max);
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
  size_t *cell;
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
  if (!s || !acc || !cnt || !cell || !(s->data = malloc(m * m * esz))) {
    free(s), free(acc), free(cnt), free(cell);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the pooled matrix");
  }
  for (size_t k = 0; k < m; k++)
    for (size_t i = tp_sim_block_lo(n, m, k); i < tp_sim_block_lo(n, m, k + 1); i++)
      cell[i] = k;
  for (size_t i = 0; i < n; i++)
    fold_row(full, cell, i, acc, cnt, m, how == TP_POOL_MAX);
  s->n = m, s->dtype = full->dtype, s->metric = full->metric;
  s->src_n = n, s->block = (n + m - 1) / m, s->how = how;
  for (size_t k = 0; k < m * m; k++)
    store(s, k, cnt[k] == 0 ? NAN : how == TP_POOL_MAX ? acc[k] : acc[k] / cnt[k]);
  free(acc), free(cnt), free(cell);
  *out = s;
  return 0;
}
