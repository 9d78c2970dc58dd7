/* Pairwise row similarity through CBLAS: one rank-k update, or row tiles pooled on the fly. */
#include "config.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_limits.h"
#include "tp_signal.h"
#include "tp_sim.h"
#include "tp_sim_int.h"

/* The largest full matrix planned without being asked: an 80 KB N x 1 table would
   otherwise ask for 1.6 GB. A matrix over it is pooled when only a sink's rows are wanted
   (SIM_AUTO_POOL cells a side) and refused when the matrix itself is. */
#define FULL_BUDGET (1ULL << 30)
#define SIM_AUTO_POOL 1024

static void work_free(struct work *w) {
  free(w->own);
  free(w->inv);
  free(w->zero);
  free(w->sq);
}

/* One row's squared norm, summed in double in two lanes: the copies and the norms
   pass share it, so a table used in place gets the same norms as a copied one. */
#define TP__ROWSQ(T, NAME)                          \
  static inline double NAME(const T *a, size_t d) { \
    double s0 = 0, s1 = 0;                          \
    size_t k = 0;                                   \
    for (; k + 1 < d; k += 2) {                     \
      s0 += (double)a[k] * (double)a[k];            \
      s1 += (double)a[k + 1] * (double)a[k + 1];    \
    }                                               \
    if (k < d)                                      \
      s0 += (double)a[k] * (double)a[k];            \
    return s0 + s1;                                 \
  }
TP__ROWSQ(float, rowsq_f)
TP__ROWSQ(double, rowsq_d)

/* Copy rows [r0, r1) into the working precision, unit length for cosine, and keep each
   row's squared norm. One typed loop per input/working pair, so the compiler sees
   plain array walks. */
#define TP__COPY(TI, TW, ROWSQ, NAME)                                                           \
  static void NAME(const TI *in, TW *x, double *sq, size_t d, size_t r0, size_t r1, int unit) { \
    for (size_t i = r0; i < r1; i++) {                                                          \
      const TI *a = in + i * d;                                                                 \
      TW *b = x + i * d;                                                                        \
      double scale;                                                                             \
      sq[i] = ROWSQ(a, d);                                                                      \
      scale = unit && sq[i] > 0 ? 1.0 / sqrt(sq[i]) : 1.0;                                      \
      for (size_t k = 0; k < d; k++)                                                            \
        b[k] = (TW)((double)a[k] * scale);                                                      \
    }                                                                                           \
  }
TP__COPY(float, float, rowsq_f, copy_ff)
TP__COPY(float, double, rowsq_f, copy_fd)
TP__COPY(double, float, rowsq_d, copy_df)
TP__COPY(double, double, rowsq_d, copy_dd)

struct copy_job {
  const struct tp_rows *r;
  struct work *w;
  size_t r0, r1;
  int unit, norms_only;
};

static void *copy_run(void *arg) {
  const struct copy_job *j = arg;
  const struct tp_rows *r = j->r;
  struct work *w = j->w;
  if (j->norms_only) {
    for (size_t i = j->r0; i < j->r1; i++)
      w->sq[i] = r->dtype == TP_F64 ? rowsq_d((const double *)r->data + i * r->d, r->d)
                                    : rowsq_f((const float *)r->data + i * r->d, r->d);
  } else if (r->dtype == TP_F64) {
    if (w->dbl)
      copy_dd(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
    else
      copy_df(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
  } else if (w->dbl) {
    copy_fd(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
  } else {
    copy_ff(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
  }
  for (size_t i = j->r0; i < j->r1; i++)
    w->zero[i] = w->sq[i] == 0;
  return NULL;
}

/* Run the copy (or the norms alone) over the cores once a part is worth a thread:
   memory-bound and cheap per row, so a small table stays on one core
   (bench/MEASUREMENTS.md). */
static void rows_pass(struct work *w, const struct tp_rows *r, int unit, int norms_only) {
  enum { MAXT = 4 };
  struct copy_job job[MAXT];
  size_t t = (uint64_t)r->n * r->d < ((uint64_t)1 << 17) ? 1 : (size_t)tp_threads(MAXT);
  if (t > r->n)
    t = r->n;
  for (size_t k = 0; k < t; k++)
    job[k] = (struct copy_job){.r = r,
                               .w = w,
                               .r0 = r->n * k / t,
                               .r1 = r->n * (k + 1) / t,
                               .unit = unit,
                               .norms_only = norms_only};
  tp_run_jobs(job, t, sizeof job[0], copy_run);
}

/* 1/|row| for a borrowed cosine table, or 0 when some row's products could leave the
   working type's normal range (the copy then normalises first): nonzero squared norms
   within 2^-100..2^100 for float, 2^-900..2^900 for double, so that every product and
   sum stays normal and finite. */
static int borrow_scales(struct work *w) {
  double lo = ldexp(1, w->dbl ? -900 : -100), hi = ldexp(1, w->dbl ? 900 : 100);
  for (size_t i = 0; i < w->n; i++)
    if (w->sq[i] != 0 && !(w->sq[i] >= lo && w->sq[i] <= hi))
      return 0;
  if (!(w->inv = malloc(w->n * w->esz)))
    return -1;
  for (size_t i = 0; i < w->n; i++) {
    double v = w->sq[i] > 0 ? 1.0 / sqrt(w->sq[i]) : 0.0;
    if (w->dbl)
      ((double *)w->inv)[i] = v;
    else
      ((float *)w->inv)[i] = (float)v;
  }
  return 1;
}

/* A table already in the compute precision is used in place: no copy, and none of
   its first-touch cost. For dot and euclidean the copy would be the same numbers.
   For cosine the finish step must then scale the product (may_scale: the full matrix
   does; the pooled path needs unit rows), which writes the upper triangle back: n^2/2
   cells against the copy's n d. In the kernel, borrowing won while n was a few times d
   and lost once the n^2/2 write-back outgrew the copy it saves (bench/MEASUREMENTS.md),
   so cosine borrows while n <= 6 d. */
static int work_init(struct work *w, const struct tp_rows *r, const struct tp_sim_opts *o,
                     int may_scale) {
  uint64_t bytes;
  int rc, cosine = o->metric == TP_METRIC_COSINE;
  memset(w, 0, sizeof *w);
  w->n = r->n, w->d = r->d, w->dbl = o->dbl;
  w->esz = o->dbl ? sizeof(double) : sizeof(float);
  if ((rc = tp_size_mul((uint64_t)r->n * w->esz, r->d, &bytes, NULL)) < 0 ||
      (rc = tp_size_check(bytes, NULL, "the working copy of the table")) < 0)
    return rc;
  w->zero = calloc(r->n, 1);
  w->sq = malloc(r->n * sizeof(double));
  if (!w->zero || !w->sq) {
    work_free(w);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the working table");
  }
  if ((r->dtype == TP_F64) == (o->dbl != 0) && (!cosine || (may_scale && r->n / 6 <= r->d))) {
    rows_pass(w, r, 0, 1);
    int ok = cosine ? borrow_scales(w) : 1;
    if (ok < 0) {
      work_free(w);
      return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the working table");
    }
    if (ok) {
      w->x = r->data;
      return 0;
    }
  }
  if (!(w->own = tp_big_alloc(bytes))) {
    work_free(w);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the working table");
  }
  w->x = w->own;
  rows_pass(w, r, cosine, 0);
  return 0;
}

#if TP_HAVE_OPENBLAS
/* OpenBLAS's own exports (not in every cblas.h): which threading it was built with, and
   the call that joins its worker threads (its next BLAS call starts them again). Weak, so
   a library without them leaves the pointers NULL. */
extern int openblas_get_parallel(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));
#endif

/* OpenBLAS's idle pthread workers spin in sched_yield for a while after each call; in a
   heatmap, that spinning thread takes the second core from the parallel profile, pooling
   and summary passes that follow (bench/MEASUREMENTS.md).
   Whole matrices of large tables, whose passes run on the cores, stop the workers once
   BLAS is done (the pooled path's later passes see only the small pooled grid). The
   host and the gnuplot modules call BLAS from one thread, which this relies on. */
static void blas_rest(size_t n) {
#if TP_HAVE_OPENBLAS
  if (n >= 2048 && openblas_get_parallel && blas_thread_shutdown_ && openblas_get_parallel() == 1)
    blas_thread_shutdown_();
#else
  (void)n;
#endif
}

uint64_t tp_sim_full_budget(void) {
  uint64_t lim = tp_limits_get()->max_bytes;
  const char *set = getenv("TRAINPLOT_MAX_BYTES");
  return lim < FULL_BUDGET || (set && *set) ? lim : FULL_BUDGET;
}

/* 1 when an n x n matrix of esz-byte cells fits tp_sim_full_budget(); *bytes gets its
   size (UINT64_MAX when that overflows). */
static int full_fits(size_t n, size_t esz, uint64_t *bytes) {
  if ((uint64_t)n > UINT32_MAX || (uint64_t)n * n > UINT64_MAX / esz) {
    *bytes = UINT64_MAX;
    return 0;
  }
  *bytes = (uint64_t)n * n * esz;
  return *bytes <= tp_sim_full_budget() && *bytes <= SIZE_MAX / 2;
}

/* The error for a full matrix over the budget, naming the way out. */
static int full_refused(size_t n, uint64_t bytes) {
  return tp_err(TP_ELIMIT, NULL, -1,
                "a %zu x %zu similarity matrix needs %llu bytes, over the %llu-byte "
                "budget of a full matrix (raise it with TRAINPLOT_MAX_BYTES); use "
                "--pool SIZE (or pe_similarity_pooled) for large tables",
                n, n, (unsigned long long)bytes, (unsigned long long)tp_sim_full_budget());
}

/* The whole matrix: syrk fills the upper triangle, finish mirrors it. */
static int sim_full(const struct work *w, struct tp_simmat *s) {
  size_t n = w->n, bytes = n * n * w->esz; /* within the budget: checked by the caller */
  if (!(s->data = tp_big_alloc(bytes)))
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate a %zu x %zu similarity matrix", n, n);
  if (w->dbl) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)w->d, 1.0, w->x, (int)w->d,
                0.0, s->data, (int)n);
    blas_rest(n);
    if (!tp_intr_pending())
      tp__sim_finish_d(s->data, n, w, s->metric);
  } else {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)w->d, 1.0f, w->x, (int)w->d,
                0.0f, s->data, (int)n);
    blas_rest(n);
    if (!tp_intr_pending())
      tp__sim_finish_f(s->data, n, w, s->metric);
  }
  s->n = s->src_n = n;
  s->block = 1;
  /* syrk is one call; the finish stops at its next block once a signal is pending. */
  return tp_intr_check();
}

int tp_sim_compute(const struct tp_rows *r, const struct tp_sim_opts *o, struct tp_simmat **out) {
  return tp_sim_compute_sink(r, o, NULL, out);
}

int tp_sim_compute_sink(const struct tp_rows *r, const struct tp_sim_opts *o,
                        const struct tp_sim_sink *sink, struct tp_simmat **out) {
  struct tp_simmat *s;
  struct work w;
  int rc;
  *out = NULL;
  if (r->n == 0 || r->d == 0)
    return tp_err(TP_EEMPTY, NULL, -1, "the table is empty (%zu x %zu)", r->n, r->d);
  if (r->n > INT32_MAX || r->d > INT32_MAX)
    return tp_err(TP_ELIMIT, NULL, -1, "a %zu x %zu table is beyond what CBLAS can index", r->n,
                  r->d);
  if ((unsigned)o->metric > TP_METRIC_EUCLIDEAN)
    return tp_err(TP_EINVAL, NULL, -1, "unknown metric %d", (int)o->metric);
  if (!(s = calloc(1, sizeof *s)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  s->metric = o->metric;
  s->dtype = o->dbl ? TP_F64 : TP_F32;
  s->how = o->how;
  int pooled = o->pool > 0 && o->pool < r->n;
  struct tp_sim_opts po = *o;
  uint64_t bytes;
  /* Only the sink's rows are wanted: a matrix over the budget comes from the row tiles. */
  if (!pooled && sink && !full_fits(r->n, o->dbl ? sizeof(double) : sizeof(float), &bytes))
    po.pool = r->n / 2 > SIM_AUTO_POOL ? SIM_AUTO_POOL : r->n / 2 ? r->n / 2 : 1, pooled = 1;
  if (!pooled && !full_fits(r->n, o->dbl ? sizeof(double) : sizeof(float), &bytes)) {
    free(s);
    return full_refused(r->n, bytes);
  }
  if ((rc = work_init(&w, r, &po, !pooled)) < 0) {
    free(s);
    return rc;
  }
  if (pooled)
    rc = tp__sim_pooled(&w, &po, s, sink);
  else
    rc = sim_full(&w, s);
  work_free(&w);
  if (rc == 0 && sink && !pooled)
    rc = sink->matrix(sink->state, s);
  if (rc < 0) {
    tp_simmat_free(s);
    return rc;
  }
  *out = s;
  return 0;
}
