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

/* Row i's cells j >= i as doubles into buf (the upper triangle, read row-wise for the cache). */
static const double *upper_row(const struct tp_simmat *s, size_t i, double *buf) {
  size_t n = s->n;
  if (s->dtype == TP_F64)
    return (const double *)s->data + i * n + i;
  for (size_t j = i; j < n; j++)
    buf[j - i] = (double)((const float *)s->data)[i * n + j];
  return buf;
}

/* Mean, min and max of every superdiagonal k = j - i, skipping NaN (blank) cells. */
static void diagonal_stats(const struct tp_simmat *s, struct tp_profile *p, double *cnt,
                           double *buf) {
  size_t n = s->n;
  for (size_t k = 0; k < n; k++)
    p->mean[k] = 0, p->min[k] = INFINITY, p->max[k] = -INFINITY, cnt[k] = 0;
  for (size_t i = 0; i < n; i++) {
    const double *r = upper_row(s, i, buf);
    for (size_t k = 0; k < n - i; k++) {
      double v = r[k];
      if (isnan(v))
        continue;
      p->mean[k] += v;
      cnt[k] += 1;
      p->min[k] = v < p->min[k] ? v : p->min[k];
      p->max[k] = v > p->max[k] ? v : p->max[k];
    }
  }
  for (size_t k = 0; k < n; k++) {
    p->mean[k] = cnt[k] ? p->mean[k] / cnt[k] : NAN;
    p->min[k] = cnt[k] ? p->min[k] : NAN;
    p->max[k] = cnt[k] ? p->max[k] : NAN;
  }
}

/* The largest gap between a cell and the mean of its diagonal. */
static void toeplitz(const struct tp_simmat *s, struct tp_profile *p, double *buf) {
  p->toeplitz = 0;
  for (size_t i = 0; i < s->n; i++) {
    const double *r = upper_row(s, i, buf);
    for (size_t k = 0; k < s->n - i; k++) {
      double g = fabs(r[k] - p->mean[k]);
      if (g > p->toeplitz) { /* false for NaN */
        p->toeplitz = g;
        p->toeplitz_i = i;
        p->toeplitz_j = i + k;
      }
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
  double *y = NULL, *buf = NULL;
  *out = NULL;
  if (!s || s->n == 0)
    return tp_err(TP_ESTATE, NULL, -1, "no similarity matrix to profile");
  /* y doubles as the per-offset counts, then holds the rescaled profile. */
  if (!(p = profile_alloc(s->n)) || !(y = malloc(s->n * sizeof *y)) ||
      !(buf = malloc(s->n * sizeof *buf))) {
    free(y);
    free(buf);
    tp_profile_free(p);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the profile");
  }
  diagonal_stats(s, p, y, buf);
  toeplitz(s, p, buf);
  free(buf);
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
