/* Moving median and robust moving scale with GSL, chunked over the cores for long series. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_movstat.h>
#include <gsl/gsl_vector.h>

#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_movmed.h"
#include "tp_signal.h"
#include "tp_spikes_int.h"

/* The moving median of one whole array with GSL's double heap (y may equal x). */
static int movmed_whole(const double *x, size_t n, size_t h, int causal, double *y) {
  gsl_movstat_workspace *ws = causal ? gsl_movstat_alloc2(2 * h, 0) : gsl_movstat_alloc2(h, h);
  int rc;
  if (!ws)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate a moving window of %zu", 2 * h + 1);
  gsl_vector_const_view xv = gsl_vector_const_view_array(x, n);
  gsl_vector_view yv = gsl_vector_view_array(y, n);
  rc = gsl_movstat_median(GSL_MOVSTAT_END_TRUNCATE, &xv.vector, &yv.vector, ws);
  gsl_movstat_free(ws);
  if (rc != GSL_SUCCESS)
    return tp_err(TP_ENUMERIC, NULL, -1, "moving median failed: %s", gsl_strerror(rc));
  return 0;
}

/*
 * Chunked and threaded: a window only sees its neighbours, so the series is cut into
 * chunks of MOVMED_CHUNK points, each run with the halo its windows reach (h each side,
 * or 2h behind when causal) and its middle copied out. Inside the series every window
 * is then whole, exactly as in one pass; at the two true ends the truncation is the
 * same. The threads take chunks from a shared counter, so a slow chunk never leaves a
 * core idle; each needs two buffers of one chunk plus halo, not a copy of the series.
 */
#define MOVMED_CHUNK ((size_t)1 << 15)
#define MOVMED_MAXT 8

struct movjob {
  const double *x, *med; /* med non-NULL: the input is |x - med| */
  double *y, mul;        /* y = mul * moving median */
  size_t n, h, left, right;
  int causal;
  size_t next; /* next chunk, shared (atomic) */
  int rc;      /* first failure, shared (atomic) */
};

static void *movmed_run(void *arg) {
  struct movjob *j = arg;
  size_t cap = MOVMED_CHUNK + j->left + j->right;
  double *in = malloc(cap * sizeof *in), *out = malloc(cap * sizeof *out);
  gsl_movstat_workspace *ws =
      j->causal ? gsl_movstat_alloc2(2 * j->h, 0) : gsl_movstat_alloc2(j->h, j->h);
  if (!in || !out || !ws) {
    __atomic_store_n(&j->rc, TP_ENOMEM, __ATOMIC_RELAXED);
    goto done;
  }
  for (;;) {
    size_t c = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED), a, b, lo, hi;
    if (c >= (j->n + MOVMED_CHUNK - 1) / MOVMED_CHUNK || __atomic_load_n(&j->rc, __ATOMIC_RELAXED))
      break;
    if (tp_intr_pending()) { /* a deferred SIGINT/SIGTERM: every thread stops at its next chunk */
      __atomic_store_n(&j->rc, TP_EINTR, __ATOMIC_RELAXED);
      break;
    }
    a = c * MOVMED_CHUNK;
    b = j->n - a > MOVMED_CHUNK ? a + MOVMED_CHUNK : j->n;
    lo = a > j->left ? a - j->left : 0;
    hi = j->n - b > j->right ? b + j->right : j->n;
    if (j->med)
      for (size_t i = lo; i < hi; i++)
        in[i - lo] = fabs(j->x[i] - j->med[i]);
    else
      memcpy(in, j->x + lo, (hi - lo) * sizeof *in);
    gsl_vector_const_view iv = gsl_vector_const_view_array(in, hi - lo);
    gsl_vector_view ov = gsl_vector_view_array(out, hi - lo);
    if (gsl_movstat_median(GSL_MOVSTAT_END_TRUNCATE, &iv.vector, &ov.vector, ws) != GSL_SUCCESS) {
      __atomic_store_n(&j->rc, TP_ENUMERIC, __ATOMIC_RELAXED);
      break;
    }
    for (size_t i = a; i < b; i++)
      j->y[i] = j->mul * out[i - lo];
  }
done:
  free(in);
  free(out);
  if (ws)
    gsl_movstat_free(ws);
  return NULL;
}

/* Every thread runs the one shared job: tp_run_jobs gets t pointers to it. */
static void *movmed_run_shared(void *arg) { return movmed_run(*(struct movjob **)arg); }

static int movmed_chunked(const double *x, const double *med, size_t n, size_t h, int causal,
                          double mul, double *y) {
  struct movjob j = {.x = x,
                     .med = med,
                     .y = y,
                     .mul = mul,
                     .n = n,
                     .h = h,
                     .left = causal ? 2 * h : h,
                     .right = causal ? 0 : h,
                     .causal = causal};
  struct movjob *share[MOVMED_MAXT];
  size_t chunks = (n + MOVMED_CHUNK - 1) / MOVMED_CHUNK;
  size_t t = (size_t)tp_threads(MOVMED_MAXT);
  if (t > chunks)
    t = chunks;
  for (size_t k = 0; k < t; k++)
    share[k] = &j;
  /* A thread that cannot start leaves its chunks to the others: its job, run later on
     this thread, finds none left. */
  tp_run_jobs(share, t, sizeof share[0], movmed_run_shared);
  if (j.rc == TP_EINTR)
    return tp_err(TP_EINTR, NULL, -1, "interrupted");
  if (j.rc == TP_ENOMEM)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate a moving window of %zu", 2 * h + 1);
  if (j.rc)
    return tp_err(TP_ENUMERIC, NULL, -1, "moving median failed");
  return 0;
}

/* y overlapping an input: the chunks would read each other's results. */
static int overlaps(const double *a, const double *b, size_t n) {
  return a && (uintptr_t)a < (uintptr_t)(b + n) && (uintptr_t)b < (uintptr_t)(a + n);
}

int tp_spikes_movmed(const double *x, size_t n, size_t w, int causal, double *y) {
  size_t h = w / 2;
  if (n == 0)
    return 0;
  if (w < 1 || w % 2 == 0)
    return tp_err(TP_EINVAL, NULL, -1, "moving window must be odd, got %zu", w);
  if (h >= n) /* a window wider than the series sees all of it anyway */
    h = n - 1;
  if (n <= MOVMED_CHUNK || overlaps(x, y, n))
    return movmed_whole(x, n, h, causal, y);
  return movmed_chunked(x, NULL, n, h, causal, 1.0, y);
}

int tp_spikes_movscale(const double *x, const double *med, size_t n, size_t w, int causal,
                       double *y) {
  size_t h = w / 2;
  int rc;
  if (n == 0)
    return 0;
  if (w < 1 || w % 2 == 0)
    return tp_err(TP_EINVAL, NULL, -1, "moving window must be odd, got %zu", w);
  if (h >= n)
    h = n - 1;
  if (n > MOVMED_CHUNK && !overlaps(x, y, n) && !overlaps(med, y, n))
    return movmed_chunked(x, med, n, h, causal, MAD_TO_SD, y);
  for (size_t i = 0; i < n; i++)
    y[i] = fabs(x[i] - med[i]);
  if ((rc = movmed_whole(y, n, h, causal, y)) < 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    y[i] *= MAD_TO_SD;
  return 0;
}
