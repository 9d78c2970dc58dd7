/* Pooling an already computed full similarity matrix down to a display grid. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_limits.h"
#include "tp_signal.h"
#include "tp_sim.h"

/* Row r of full into the accumulators of its block row (acc, cnt: m cells), blocks k0..m
   only; lo[k] is block k's first column. NaN cells (undefined cosine) are left out.
   Each block is summed in registers: a block is a few to a few hundred columns. */
#define TP__FOLD_ROW(T, NAME)                                                                    \
  static void NAME(const T *r, const size_t *lo, size_t k0, size_t m, int want_max, double *acc, \
                   double *cnt) {                                                                \
    for (size_t k = k0; k < m; k++) {                                                            \
      double s = 0, c = 0, mx = -INFINITY;                                                       \
      size_t b = lo[k + 1];                                                                      \
      if (want_max) {                                                                            \
        for (size_t j = lo[k]; j < b; j++)                                                       \
          if (r[j] == r[j]) {                                                                    \
            c += 1;                                                                              \
            mx = (double)r[j] > mx ? (double)r[j] : mx;                                          \
          }                                                                                      \
        if (c > 0)                                                                               \
          acc[k] = cnt[k] == 0 || mx > acc[k] ? mx : acc[k];                                     \
      } else {                                                                                   \
        for (size_t j = lo[k]; j < b; j++)                                                       \
          if (r[j] == r[j]) {                                                                    \
            c += 1;                                                                              \
            s += (double)r[j];                                                                   \
          }                                                                                      \
        acc[k] += s;                                                                             \
      }                                                                                          \
      cnt[k] += c;                                                                               \
    }                                                                                            \
  }
TP__FOLD_ROW(float, fold_row_f)
TP__FOLD_ROW(double, fold_row_d)

static void fold_row(const struct tp_simmat *full, const size_t *lo, size_t i, size_t a,
                     double *acc, double *cnt, size_t m, int want_max) {
  size_t n = full->n;
  if (full->dtype == TP_F64)
    fold_row_d((const double *)full->data + i * n, lo, a, m, want_max, acc + a * m, cnt + a * m);
  else
    fold_row_f((const float *)full->data + i * n, lo, a, m, want_max, acc + a * m, cnt + a * m);
}

/* Block rows [a0, a1): each folds its blocks on and right of the diagonal. */
struct fold_job {
  const struct tp_simmat *full;
  const size_t *lo;
  size_t a0, a1, m;
  int want_max;
  double *acc, *cnt;
};

static void *fold_run(void *arg) {
  struct fold_job *j = arg;
  for (size_t a = j->a0; a < j->a1 && !tp_intr_pending(); a++) /* per block row */
    for (size_t i = j->lo[a]; i < j->lo[a + 1]; i++)
      fold_row(j->full, j->lo, i, a, j->acc, j->cnt, j->m, j->want_max);
  return NULL;
}

/* The matrix is symmetric (tp_sim_compute mirrors it), so block (b, a) is block (a, b):
   fold the blocks on and above the diagonal, block rows split over the cores in equal
   shares of that triangle; the caller copies across. */
static void fold_blocks(const struct tp_simmat *full, const size_t *lo, size_t m, int want_max,
                        double *acc, double *cnt) {
  enum { MAXT = 8 };
  struct fold_job job[MAXT];
  size_t t = full->n < 1024 ? 1 : (size_t)tp_threads(MAXT), a0 = 0;
  for (size_t k = 0; k < t; k++) {
    size_t a1 = tp_triangle_split(m, k + 1, t);
    job[k] = (struct fold_job){.full = full,
                               .lo = lo,
                               .a0 = a0,
                               .a1 = a1 > a0 ? a1 : a0,
                               .m = m,
                               .want_max = want_max,
                               .acc = acc,
                               .cnt = cnt};
    a0 = job[k].a1;
  }
  tp_run_jobs(job, t, sizeof job[0], fold_run);
}

static void store(struct tp_simmat *s, size_t k, double x) {
  if (s->dtype == TP_F64)
    ((double *)s->data)[k] = x;
  else
    ((float *)s->data)[k] = (float)x;
}

int tp_sim_pool(const struct tp_simmat *full, size_t m, enum tp_pool how, struct tp_simmat **out) {
  size_t n = full->n, esz = full->dtype == TP_F64 ? sizeof(double) : sizeof(float);
  struct tp_simmat *s;
  double *acc, *cnt;
  size_t *lo;
  int rc;
  *out = NULL;
  if (full->block != 1 || m < 1 || m > n)
    return tp_err(TP_EINVAL, NULL, -1, "cannot pool a %zu x %zu matrix to %zu cells", n, n, m);
  if ((rc = tp_size_check((uint64_t)m * m * (2 * sizeof(double) + esz), NULL, "the pooled grid")) <
      0)
    return rc;
  s = calloc(1, sizeof *s);
  acc = calloc(m * m, sizeof *acc);
  cnt = calloc(m * m, sizeof *cnt);
  lo = malloc((m + 1) * sizeof *lo);
  if (!s || !acc || !cnt || !lo || !(s->data = malloc(m * m * esz))) {
    free(s), free(acc), free(cnt), free(lo);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the pooled matrix");
  }
  for (size_t k = 0; k <= m; k++)
    lo[k] = tp_sim_block_lo(n, m, k);
  fold_blocks(full, lo, m, how == TP_POOL_MAX, acc, cnt);
  if ((rc = tp_intr_check()) < 0) {
    free(s->data), free(s), free(acc), free(cnt), free(lo);
    return rc;
  }
  for (size_t a = 0; a < m; a++)
    for (size_t b = 0; b < a; b++)
      acc[a * m + b] = acc[b * m + a], cnt[a * m + b] = cnt[b * m + a];
  s->n = m, s->dtype = full->dtype, s->metric = full->metric;
  s->src_n = n, s->block = (n + m - 1) / m, s->how = how;
  for (size_t k = 0; k < m * m; k++)
    store(s, k, cnt[k] == 0 ? NAN : how == TP_POOL_MAX ? acc[k] : acc[k] / cnt[k]);
  free(acc), free(cnt), free(lo);
  *out = s;
  return 0;
}
