/* The offset profile of a similarity matrix: mean/min/max per |i-j|, band, Toeplitz, period. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "tp_error.h"
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

/* Mean, min and max of the k-th superdiagonal, skipping NaN (blank) cells. */
static void diagonal_stats(const struct tp_simmat *s, size_t k,
                           struct tp_profile *p) {
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  size_t cnt = 0;
  for (size_t i = 0; i + k < s->n; i++) {
    double v = tp_simmat_get(s, i, i + k);
    if (isnan(v))
      continue;
    sum += v;
    cnt++;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  p->mean[k] = cnt ? sum / (double)cnt : NAN;
  p->min[k] = cnt ? lo : NAN;
  p->max[k] = cnt ? hi : NAN;
}

/* The largest gap between a cell and the mean of its diagonal. */
static void toeplitz(const struct tp_simmat *s, struct tp_profile *p) {
  p->toeplitz = 0;
  for (size_t k = 0; k < s->n; k++)
    for (size_t i = 0; i + k < s->n; i++) {
      double g = fabs(tp_simmat_get(s, i, i + k) - p->mean[k]);
      if (g > p->toeplitz) { /* false for NaN */
        p->toeplitz = g;
        p->toeplitz_i = i;
        p->toeplitz_j = i + k;
      }
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
  double *y;
  *out = NULL;
  if (!s || s->n == 0)
    return tp_err(TP_ESTATE, NULL, -1, "no similarity matrix to profile");
  if (!(p = profile_alloc(s->n)) || !(y = malloc(s->n * sizeof *y))) {
    tp_profile_free(p);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the profile");
  }
  for (size_t k = 0; k < s->n; k++)
    diagonal_stats(s, k, p);
  toeplitz(s, p);
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
