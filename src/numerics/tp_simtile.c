/* The pooled path: row tiles through gemm, folded into an m x m grid and handed to a sink. */
#include "config.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_limits.h"
#include "tp_signal.h"
#include "tp_sim_int.h"

/* The pooled path's row tile: about TILE_TARGET bytes, so it stays in cache between
   gemm and the folds and is touched fresh only once, but at least TILE_MIN_ROWS rows for
   gemm's sake, and never over TILE_BYTES. */
#define TILE_TARGET (4ULL << 20)
#define TILE_MIN_ROWS 256
#define TILE_BYTES (64ULL << 20)

struct pool {
  size_t m;
  size_t *lo;    /* m + 1 block boundaries */
  size_t *cell;  /* source row -> block */
  double *acc;   /* m x m sums or maxima of entries with i < j */
  double *dacc;  /* m diagonal-entry sums or maxima */
  double *valid; /* valid rows per block */
  double *col;   /* n column sums (maxima) of the current block row, cells j > i */
  void *tile;
  const struct tp_sim_sink *sink; /* gets the unpooled rows on the way, or NULL */
};

static void pool_free(struct pool *p) {
  free(p->lo), free(p->cell), free(p->acc), free(p->dacc), free(p->valid), free(p->col);
  free(p->tile);
}

static int pool_init(struct pool *p, const struct work *w, size_t m, size_t tile_rows,
                     const struct tp_sim_opts *o) {
  int want_max = o->how == TP_POOL_MAX;
  /* Only cosine leaves zero rows undefined; for dot and distance they count. */
  int skip_zero = o->metric == TP_METRIC_COSINE;
  memset(p, 0, sizeof *p);
  p->m = m;
  p->lo = malloc((m + 1) * sizeof *p->lo);
  p->cell = malloc(w->n * sizeof *p->cell);
  p->acc = malloc(m * m * sizeof *p->acc);
  p->dacc = malloc(m * sizeof *p->dacc);
  p->valid = calloc(m, sizeof *p->valid);
  p->col = malloc(w->n * sizeof *p->col);
  p->tile = malloc(tile_rows * w->n * w->esz);
  if (!p->lo || !p->cell || !p->acc || !p->dacc || !p->valid || !p->col || !p->tile) {
    pool_free(p);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the pooled grid");
  }
  for (size_t k = 0; k <= m; k++)
    p->lo[k] = tp_sim_block_lo(w->n, m, k);
  for (size_t k = 0; k < m; k++)
    for (size_t i = p->lo[k]; i < p->lo[k + 1]; i++) {
      p->cell[i] = k;
      p->valid[k] += !(skip_zero && w->zero[i]);
    }
  for (size_t k = 0; k < m * m; k++)
    p->acc[k] = want_max ? -INFINITY : 0.0;
  for (size_t k = 0; k < m; k++)
    p->dacc[k] = want_max ? -INFINITY : 0.0;
  for (size_t j = 0; j < w->n; j++)
    p->col[j] = want_max ? -INFINITY : 0.0;
  return 0;
}

/* Turn one tile row (columns i..n-1) into distances or mark blank columns, in double. */
#define TP__ROWFIX(T, NAME)                                                             \
  static void NAME(T *v, size_t i, const struct work *w, const struct tp_sim_opts *o) { \
    size_t n = w->n;                                                                    \
    if (o->metric == TP_METRIC_EUCLIDEAN) {                                             \
      for (size_t j = i + 1; j < n; j++) {                                              \
        double d2 = w->sq[i] + w->sq[j] - 2.0 * v[j - i];                               \
        v[j - i] = (T)sqrt(d2 > 0 ? d2 : 0);                                            \
      }                                                                                 \
      v[0] = 0;                                                                         \
    } else if (o->metric == TP_METRIC_COSINE && o->how == TP_POOL_MAX) {                \
      for (size_t j = i; j < n; j++)                                                    \
        if (w->zero[j])                                                                 \
          v[j - i] = (T)-INFINITY;                                                      \
    }                                                                                   \
  }
TP__ROWFIX(float, rowfix_f)
TP__ROWFIX(double, rowfix_d)

static void fold(double *slot, double x, int want_max) {
  if (want_max)
    *slot = x > *slot ? x : *slot;
  else
    *slot += x;
}

/* Fold source row i (its entries j >= i, v[j - i]) into its block row: the diagonal cell
   into dacc, the others into the column sums (maxima), which flush_block_row then
   reduces block by block. Adding whole rows column-wise has no chain of dependent adds,
   unlike summing each block's few cells of every row, so the adds overlap
   (bench/MEASUREMENTS.md). */
#define TP__COLFOLD(T, NAME)                                            \
  static void NAME(double *col, const T *v, size_t len, int want_max) { \
    if (want_max) {                                                     \
      for (size_t k = 0; k < len; k++)                                  \
        col[k] = (double)v[k] > col[k] ? (double)v[k] : col[k];         \
    } else {                                                            \
      for (size_t k = 0; k < len; k++)                                  \
        col[k] += (double)v[k];                                         \
    }                                                                   \
  }
TP__COLFOLD(float, colfold_f)
TP__COLFOLD(double, colfold_d)

static void pool_row(struct pool *p, const struct work *w, const void *v, size_t i, int want_max) {
  double x = w->dbl ? ((const double *)v)[0] : ((const float *)v)[0];
  fold(&p->dacc[p->cell[i]], x, want_max);
  if (w->dbl)
    colfold_d(p->col + i + 1, (const double *)v + 1, w->n - i - 1, want_max);
  else
    colfold_f(p->col + i + 1, (const float *)v + 1, w->n - i - 1, want_max);
}

/* Block row a is complete: reduce its column sums into blocks a..m-1, then clear them. */
static void flush_block_row(struct pool *p, size_t a, int want_max) {
  size_t from = p->lo[a];
  for (size_t b = a; b < p->m; b++) {
    double x = want_max ? -INFINITY : 0.0;
    for (size_t j = p->lo[b] > from ? p->lo[b] : from; j < p->lo[b + 1]; j++)
      x = want_max ? (p->col[j] > x ? p->col[j] : x) : x + p->col[j];
    fold(&p->acc[a * p->m + b], x, want_max);
  }
  for (size_t j = from; j < p->lo[p->m]; j++)
    p->col[j] = want_max ? -INFINITY : 0.0;
}

/* Rows [i0, i1) of the current tile, which starts at row r0 (cols columns from r0):
   what 1 fixes them up, 2 folds them into the grid, 4 hands them to the sink. Each fold walks
   the rows in order, so a job that runs one of them gives the same sums as one thread. */
struct tile_job {
  struct pool *p;
  const struct work *w;
  const struct tp_sim_opts *o;
  size_t r0, i0, i1, cols;
  int what;
};

static void *tile_run(void *arg) {
  const struct tile_job *j = arg;
  const struct work *w = j->w;
  int want_max = j->o->how == TP_POOL_MAX, cosine = j->o->metric == TP_METRIC_COSINE;
  for (size_t i = j->i0; i < j->i1; i++) {
    /* Row i of the tile starts at column r0; its entry j >= i is at j - i. */
    size_t off = (i - j->r0) * j->cols + (i - j->r0);
    void *v = (char *)j->p->tile + off * w->esz;
    if (!(cosine && w->zero[i])) { /* a zero row has no cosine: nothing to fold */
      if ((j->what & 1) && w->dbl)
        rowfix_d(v, i, w, j->o);
      else if (j->what & 1)
        rowfix_f(v, i, w, j->o);
      if (j->what & 2)
        pool_row(j->p, w, v, i, want_max);
      if ((j->what & 4) && w->dbl)
        j->p->sink->row_d(j->p->sink->state, i, v, cosine ? w->zero : NULL);
    }
    if ((j->what & 2) && i + 1 == j->p->lo[j->p->cell[i] + 1])
      flush_block_row(j->p, j->p->cell[i], want_max);
  }
  if ((j->what & 4) && !w->dbl)
    j->p->sink->rows_f(j->p->sink->state, j->i0, j->i1,
                       (const float *)j->p->tile + (j->i0 - j->r0) * (j->cols + 1), j->cols + 1,
                       cosine ? w->zero : NULL);
  return NULL;
}

/* Rows r0..r1 against rows r0..n through gemm (the upper part only), then folded: the
   fix-up split by rows over the cores, then the grid and the sink side by side. */
static void pool_tile(struct pool *p, const struct work *w, const struct tp_sim_opts *o, size_t r0,
                      size_t r1) {
  enum { MAXT = 8 };
  struct tile_job job[MAXT];
  size_t cols = w->n - r0, d = w->d, t = (size_t)tp_threads(MAXT);
  int fix =
      o->metric == TP_METRIC_EUCLIDEAN || (o->metric == TP_METRIC_COSINE && o->how == TP_POOL_MAX);
  if (w->dbl)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)cols, (int)d, 1.0,
                (const double *)w->x + r0 * d, (int)d, (const double *)w->x + r0 * d, (int)d, 0.0,
                p->tile, (int)cols);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)cols, (int)d, 1.0f,
                (const float *)w->x + r0 * d, (int)d, (const float *)w->x + r0 * d, (int)d, 0.0f,
                p->tile, (int)cols);
  if (t > r1 - r0)
    t = r1 - r0;
  if (fix) {
    for (size_t k = 0; k < t; k++)
      job[k] = (struct tile_job){.p = p,
                                 .w = w,
                                 .o = o,
                                 .r0 = r0,
                                 .cols = cols,
                                 .what = 1,
                                 .i0 = r0 + (r1 - r0) * k / t,
                                 .i1 = r0 + (r1 - r0) * (k + 1) / t};
    tp_run_jobs(job, t, sizeof job[0], tile_run);
  }
  job[0] = (struct tile_job){
      .p = p, .w = w, .o = o, .r0 = r0, .i0 = r0, .i1 = r1, .cols = cols, .what = 2};
  job[1] = job[0];
  job[1].what = 4;
  if (!p->sink)
    tp_run_jobs(job, 1, sizeof job[0], tile_run);
  else if (t < 2)
    job[0].what = 6, tp_run_jobs(job, 1, sizeof job[0], tile_run);
  else
    tp_run_jobs(job, 2, sizeof job[0], tile_run);
}

static int pool_run(const struct work *w, const struct tp_sim_opts *o, struct pool *p,
                    size_t tile_rows) {
  double total = (double)w->n * (w->n + 1) / 2, done = 0;
  for (size_t r0 = 0; r0 < w->n; r0 += tile_rows) {
    size_t r1 = r0 + tile_rows < w->n ? r0 + tile_rows : w->n;
    int rc;
    if ((rc = tp_intr_check()) < 0) /* once per tile: a few MB of products */
      return rc;
    pool_tile(p, w, o, r0, r1);
    done += (double)(r1 - r0) * (w->n - r0);
    if (o->progress)
      o->progress(o->progress_ctx, done / total > 1 ? 1 : done / total);
  }
  return 0;
}

/* Rows per tile: about TILE_TARGET bytes, at least TILE_MIN_ROWS, at most TILE_BYTES. */
static size_t pool_tile_rows(const struct work *w) {
  size_t tile_rows = (size_t)(TILE_TARGET / w->esz / w->n);
  if (tile_rows < TILE_MIN_ROWS)
    tile_rows = TILE_MIN_ROWS;
  if (tile_rows > TILE_BYTES / w->esz / w->n)
    tile_rows = (size_t)(TILE_BYTES / w->esz / w->n);
  return tile_rows < 1 ? 1 : tile_rows > w->n ? w->n : tile_rows;
}

/* The m x m pooled matrix from the upper-triangle accumulators: a block's max or mean,
   NaN for a block with no valid pair. */
static void pool_store(const struct pool *p, const struct work *w, const struct tp_sim_opts *o,
                       struct tp_simmat *s) {
  size_t m = o->pool;
  for (size_t a = 0; a < m; a++)
    for (size_t b = 0; b < m; b++) {
      size_t u = a < b ? a : b, v = a < b ? b : a;
      double x;
      if (o->how == TP_POOL_MAX) {
        x = u == v && p->dacc[u] > p->acc[u * m + u] ? p->dacc[u] : p->acc[u * m + v];
        x = x == -INFINITY ? NAN : x;
      } else {
        double cnt = p->valid[u] * p->valid[v];
        x = u == v ? 2 * p->acc[u * m + u] + p->dacc[u] : p->acc[u * m + v];
        x = cnt > 0 ? x / cnt : NAN;
      }
      if (w->dbl)
        ((double *)s->data)[a * m + b] = x;
      else
        ((float *)s->data)[a * m + b] = (float)x;
    }
}

int tp__sim_pooled(const struct work *w, const struct tp_sim_opts *o, struct tp_simmat *s,
                   const struct tp_sim_sink *sink) {
  struct pool p;
  uint64_t grid, tile;
  size_t m = o->pool, tile_rows = pool_tile_rows(w);
  int rc;
  if ((rc = tp_size_mul((uint64_t)m * m, sizeof(double), &grid, NULL)) < 0 ||
      (rc = tp_size_check(grid, NULL, "the pooled grid")) < 0 ||
      (rc = tp_size_mul((uint64_t)tile_rows * w->n, w->esz, &tile, NULL)) < 0)
    return rc;
  if ((rc = pool_init(&p, w, m, tile_rows, o)) < 0)
    return rc;
  if (sink && (rc = sink->init(sink->state, w->n, o->metric)) < 0) {
    pool_free(&p);
    return rc;
  }
  p.sink = sink;
  if (!(s->data = malloc(m * m * w->esz))) {
    pool_free(&p);
    rc = tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the pooled matrix");
    return sink ? sink->finish(sink->state, rc) : rc;
  }
  rc = pool_run(w, o, &p, tile_rows);
  if (sink)
    rc = sink->finish(sink->state, rc);
  s->n = m;
  s->src_n = w->n;
  s->block = (w->n + m - 1) / m;
  if (rc == 0)
    pool_store(&p, w, o, s);
  pool_free(&p);
  return rc;
}
