/* The offset profile of a similarity matrix: mean/min/max per |i-j|, band, Toeplitz, period. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_profile.h"
#include "tp_profile_int.h"
#include "tp_signal.h"

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

/* Offsets [k0, k1): turn the sums into means (NaN for an empty diagonal) and find the
   largest gap between a cell and its diagonal's mean; ties go to the first cell in row
   order. A diagonal's largest gap is at its max or its min. */
void tp__profile_offset_gaps(double *mean, double *mn, double *mx, const double *cnt,
                             const uint32_t *imin, const uint32_t *imax, size_t k0, size_t k1,
                             double *gap, size_t *gi, size_t *gj) {
  *gap = 0, *gi = 0, *gj = 0;
  for (size_t k = k0; k < k1; k++) {
    if (!cnt[k]) {
      mean[k] = mn[k] = mx[k] = NAN;
      continue;
    }
    mean[k] /= cnt[k];
    double up = mx[k] - mean[k], down = mean[k] - mn[k];
    double g = up > down ? up : down;
    size_t i = up > down ? imax[k] : down > up ? imin[k] : imax[k] < imin[k] ? imax[k] : imin[k];
    if (g > *gap || (g == *gap && g > 0 && (i < *gi || (i == *gi && i + k < *gj))))
      *gap = g, *gi = i, *gj = i + k;
  }
}

#define TP__DIAG(T, NAME)                                                                       \
  static void NAME(const T *c, size_t n, struct diag_job *jb) {                                 \
    double *mean = jb->p->mean, *mn = jb->p->min, *mx = jb->p->max, *cnt = jb->cnt;             \
    uint32_t *imin = jb->imin, *imax = jb->imax;                                                \
    size_t k0 = jb->k0, k1 = jb->k1;                                                            \
    for (size_t k = k0; k < k1; k++)                                                            \
      mean[k] = 0, mn[k] = INFINITY, mx[k] = -INFINITY, cnt[k] = 0, imin[k] = imax[k] = 0;      \
    for (size_t i = 0; i + k0 < n; i++) {                                                       \
      const T *r = c + i * n + i;                                                               \
      if (i % 256 == 0 && tp_intr_pending())                                                    \
        break;                                                                                  \
      size_t e = n - i < k1 ? n - i : k1;                                                       \
      uint32_t row = (uint32_t)i;                                                               \
      for (size_t k = k0; k < e; k++) {                                                         \
        double v = (double)r[k];                                                                \
        if (isnan(v))                                                                           \
          continue;                                                                             \
        mean[k] += v;                                                                           \
        cnt[k] += 1;                                                                            \
        imin[k] = v < mn[k] ? row : imin[k];                                                    \
        mn[k] = v < mn[k] ? v : mn[k];                                                          \
        imax[k] = v > mx[k] ? row : imax[k];                                                    \
        mx[k] = v > mx[k] ? v : mx[k];                                                          \
      }                                                                                         \
    }                                                                                           \
    tp__profile_offset_gaps(mean, mn, mx, cnt, imin, imax, k0, k1, &jb->gap, &jb->gi, &jb->gj); \
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

static void diagonals(const struct tp_simmat *s, struct tp_profile *p, double *cnt, uint32_t *imin,
                      uint32_t *imax) {
  enum { MAXT = 8 };
  struct diag_job job[MAXT];
  size_t n = s->n, t = n < 1024 ? 1 : (size_t)tp_threads(MAXT), k0 = 0;
  for (size_t q = 0; q < t; q++) {
    size_t k1 = tp_triangle_split(n, q + 1, t);
    job[q] = (struct diag_job){
        .s = s, .p = p, .cnt = cnt, .imin = imin, .imax = imax, .k0 = k0, .k1 = k1 > k0 ? k1 : k0};
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
static void similarity_scale(const struct tp_profile *p, enum tp_metric m, double *y) {
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

long tp_profile_period(const double *y, size_t n, double min_rise, double *rise) {
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

/* 1 when row r[0..n) has no cell that beats its diagonal value. */
#define TP__SELF_MAX(T, NAME)                                          \
  static int NAME(const T *r, size_t n, size_t i, int lower) {         \
    double self = (double)r[i];                                        \
    for (size_t j = 0; j < n; j++)                                     \
      if (j != i && tp__profile_beats_self((double)r[j], self, lower)) \
        return 0;                                                      \
    return 1;                                                          \
  }
TP__SELF_MAX(float, self_max_f)
TP__SELF_MAX(double, self_max_d)

/* Rows whose most similar cell (nearest, for distances) is the diagonal: rows [i0, i1)
   per part, parts on the cores. */
struct self_job {
  const struct tp_simmat *s;
  size_t i0, i1, hits, defined;
};

static void *self_run(void *arg) {
  struct self_job *j = arg;
  const struct tp_simmat *s = j->s;
  size_t n = s->n;
  int lower = s->metric == TP_METRIC_EUCLIDEAN;
  for (size_t i = j->i0; i < j->i1; i++) {
    if (i % 256 == 0 && tp_intr_pending())
      break;
    if (isnan(tp_simmat_get(s, i, i)))
      continue;
    j->defined++;
    j->hits +=
        (size_t)(s->dtype == TP_F64 ? self_max_d((const double *)s->data + i * n, n, i, lower)
                                    : self_max_f((const float *)s->data + i * n, n, i, lower));
  }
  return NULL;
}

static void count_self_max(const struct tp_simmat *s, struct tp_profile *p) {
  enum { MAXT = 8 };
  struct self_job job[MAXT];
  size_t n = s->n, t = n < 1024 ? 1 : (size_t)tp_threads(MAXT);
  for (size_t q = 0; q < t; q++)
    job[q] = (struct self_job){.s = s, .i0 = n * q / t, .i1 = n * (q + 1) / t};
  tp_run_jobs(job, t, sizeof job[0], self_run);
  p->self_max = p->self_rows = 0;
  for (size_t q = 0; q < t; q++)
    p->self_max += job[q].hits, p->self_rows += job[q].defined;
}

/* Band and period from the means; y (n doubles) is scratch. */
void tp__profile_shape(struct tp_profile *p, enum tp_metric m, double *y) {
  similarity_scale(p, m, y);
  p->band = -1;
  for (size_t k = 0; k < p->n && p->band < 0; k++)
    if (y[k] < 0.5)
      p->band = (long)k;
  p->period = tp_profile_period(y, p->n, PERIOD_MIN_RISE, &p->period_rise);
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
  p->block = s->block;
  diagonals(s, p, y, idx, idx + s->n);
  free(idx);
  tp__profile_shape(p, s->metric, y);
  free(y);
  if (!tp_intr_pending())
    count_self_max(s, p);
  /* Both passes read every cell; each part stops at its next rows once a signal is pending. */
  if (tp_intr_pending()) {
    tp_profile_free(p);
    return tp_intr_check();
  }
  *out = p;
  return 0;
}
