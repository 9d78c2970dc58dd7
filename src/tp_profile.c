/* The offset profile of a similarity matrix: mean/min/max per |i-j|, band, Toeplitz, period. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_sim.h"

/* On the cosine scale, where 1 is identical: a sinusoidal table's profile
   ripples by about 0.1 without being periodic, so a real return must be larger. */
#define PERIOD_MIN_RISE 0.2

void tp_profile_free(struct tp_profile *p) {
  if (!p)
    return;
  free(p->mean);
  free(p->min);
  free(p->max);
  free(p);
}

static struct tp_profile *profile_alloc(size_t n) {
  struct tp_profile *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->n = n;
  p->mean = malloc(n * sizeof(double));
  p->min = malloc(n * sizeof(double));
  p->max = malloc(n * sizeof(double));
  if (!p->mean || !p->min || !p->max) {
    tp_profile_free(p);
    return NULL;
  }
  return p;
}

/*
 * Offsets [k0, k1) of the upper triangle: mean, min and max of every superdiagonal
 * k = j - i, skipping NaN (blank) cells, and the largest gap between a cell and the mean
 * of its diagonal (the first in row order on ties). One pass: a diagonal's largest gap
 * is at its max or its min, so the rows of the first max and the first min are kept.
 * Parts of offsets run on the cores; every offset's cells are still summed in row order,
 * so the profile does not depend on how many there are.
 */
struct diag_job {
  const struct tp_simmat *s;
  struct tp_profile *p;
  double *cnt;
  uint32_t *imin, *imax; /* row of the first min / max of each diagonal */
  size_t k0, k1;
  double gap;
  size_t gi, gj;
};

#define TP__DIAG(T, NAME)                                                         \
  static void NAME(const T *c, size_t n, struct diag_job *jb) {                   \
    double *mean = jb->p->mean, *mn = jb->p->min, *mx = jb->p->max, *cnt = jb->cnt; \
    uint32_t *imin = jb->imin, *imax = jb->imax;                                  \
    size_t k0 = jb->k0, k1 = jb->k1;                                              \
    for (size_t k = k0; k < k1; k++)                                              \
      mean[k] = 0, mn[k] = INFINITY, mx[k] = -INFINITY, cnt[k] = 0,               \
      imin[k] = imax[k] = 0;                                                      \
    for (size_t i = 0; i + k0 < n; i++) {                                         \
      const T *r = c + i * n + i;                                                 \
      size_t e = n - i < k1 ? n - i : k1;                                         \
      uint32_t row = (uint32_t)i;                                                 \
      for (size_t k = k0; k < e; k++) {                                           \
        double v = (double)r[k];                                                  \
        if (isnan(v))                                                             \
          continue;                                                               \
        mean[k] += v;                                                             \
        cnt[k] += 1;                                                              \
        imin[k] = v < mn[k] ? row : imin[k];                                      \
        mn[k] = v < mn[k] ? v : mn[k];                                            \
        imax[k] = v > mx[k] ? row : imax[k];                                      \
        mx[k] = v > mx[k] ? v : mx[k];                                            \
      }                                                                           \
    }                                                                             \
    jb->gap = 0, jb->gi = 0, jb->gj = 0;                                          \
    for (size_t k = k0; k < k1; k++) {                                            \
      if (!cnt[k]) {                                                              \
        mean[k] = mn[k] = mx[k] = NAN;                                            \
        continue;                                                                 \
      }                                                                           \
      mean[k] /= cnt[k];                                                          \
      double up = mx[k] - mean[k], down = mean[k] - mn[k];                        \
      double g = up > down ? up : down;                                           \
      size_t gi = up > down ? imax[k] : down > up ? imin[k]                       \
                : imax[k] < imin[k] ? imax[k] : imin[k];                          \
      if (g > jb->gap || (g == jb->gap && g > 0 &&                                \
                          (gi < jb->gi || (gi == jb->gi && gi + k < jb->gj))))    \
        jb->gap = g, jb->gi = gi, jb->gj = gi + k;                                \
    }                                                                             \
  }
TP__DIAG(float, diag_f)
TP__DIAG(double, diag_d)

static void *diag_run(void *arg) {
  struct diag_job *jb = arg;
  if (jb->s->dtype == TP_F64)
    diag_d((const double *)jb->s->data, jb->s->n, jb);
  else
    diag_f((const float *)jb->s->data, jb->s->n, jb);
  return NULL;
}

static void diagonals(const struct tp_simmat *s, struct tp_profile *p, double *cnt,
                      uint32_t *imin, uint32_t *imax) {
  enum { MAXT = 8 };
  struct diag_job job[MAXT];
  size_t n = s->n, t = n < 1024 ? 1 : (size_t)tp_threads(MAXT), k0 = 0;
  for (size_t q = 0; q < t; q++) {
    size_t k1 = tp_triangle_split(n, q + 1, t);
    job[q] = (struct diag_job){.s = s, .p = p, .cnt = cnt, .imin = imin, .imax = imax,
                               .k0 = k0, .k1 = k1 > k0 ? k1 : k0};
    k0 = job[q].k1;
  }
  tp_run_jobs(job, t, sizeof job[0], diag_run);
  p->toeplitz = 0, p->toeplitz_i = 0, p->toeplitz_j = 0;
  for (size_t q = 0; q < t; q++) {
    const struct diag_job *jb = &job[q];
    if (jb->gap > p->toeplitz ||
        (jb->gap == p->toeplitz && jb->gap > 0 &&
         (jb->gi < p->toeplitz_i || (jb->gi == p->toeplitz_i && jb->gj < p->toeplitz_j))))
      p->toeplitz = jb->gap, p->toeplitz_i = jb->gi, p->toeplitz_j = jb->gj;
  }
}

/* The profile on a scale where 1 means identical, so one threshold fits every metric. */
static void similarity_scale(const struct tp_profile *p, enum tp_metric m,
                             double *y) {
  double top = 0;
  for (size_t k = 0; k < p->n; k++)
    if (fabs(p->mean[k]) > top)
      top = fabs(p->mean[k]);
  for (size_t k = 0; k < p->n; k++) {
    if (m == TP_METRIC_COSINE)
      y[k] = p->mean[k];
    else if (m == TP_METRIC_DOT)
      y[k] = p->mean[0] > 0 ? p->mean[k] / p->mean[0] : NAN;
    else
      y[k] = top > 0 ? 1.0 - p->mean[k] / top : NAN;
  }
}

long tp_profile_period(const double *y, size_t n, double min_rise,
                       double *rise) {
  double low = INFINITY;
  /* The last quarter averages few pairs and is too noisy to call a peak. */
  size_t end = n - n / 4;
  *rise = 0;
  for (size_t k = 1; k + 1 < end; k++) {
    if (isnan(y[k]))
      continue;
    low = y[k] < low ? y[k] : low;
    if (y[k] - low >= min_rise && y[k] >= y[k - 1] && y[k] >= y[k + 1]) {
      *rise = y[k] - low;
      return (long)k;
    }
  }
  return -1;
}

int tp_profile_compute(const struct tp_simmat *s, struct tp_profile **out) {
  struct tp_profile *p;
  double *y = NULL;
  uint32_t *idx = NULL;
  *out = NULL;
  if (!s || s->n == 0)
    return tp_err(TP_ESTATE, NULL, -1, "no similarity matrix to profile");
  if (s->n > UINT32_MAX) /* the rows of each diagonal's min and max are kept as uint32 */
    return tp_err(TP_ELIMIT, NULL, -1, "a %zu-row matrix is too large to profile", s->n);
  /* y doubles as the per-offset counts, then holds the rescaled profile. */
  if (!(p = profile_alloc(s->n)) || !(y = malloc(s->n * sizeof *y)) ||
      !(idx = malloc(2 * s->n * sizeof *idx))) {
    free(y);
    tp_profile_free(p);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the profile");
  }
  diagonals(s, p, y, idx, idx + s->n);
  free(idx);
  similarity_scale(p, s->metric, y);
  p->band = -1;
  for (size_t k = 0; k < s->n && p->band < 0; k++)
    if (y[k] < 0.5)
      p->band = (long)k;
  p->period = tp_profile_period(y, s->n, PERIOD_MIN_RISE, &p->period_rise);
  free(y);
  *out = p;
  return 0;
}
