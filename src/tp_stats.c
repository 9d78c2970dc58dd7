/* Statistics of a gradient-norm series with GSL, on the finite values only. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_stats.h"

/* Count the non-finite points by kind and remember where the first one was. */
static void count_nonfinite(struct tp_steps step, const double *value, size_t n,
                            struct tp_stats *st) {
  for (size_t i = 0; i < n; i++) {
    double v = value[i];
    if (isfinite(v))
      continue;
    if (isnan(v))
      st->n_nan++;
    else if (v > 0)
      st->n_posinf++;
    else
      st->n_neginf++;
    if (st->nonfinite++ == 0)
      st->first_nonfinite_step = tp_step_at(step, i);
  }
}

/* Min and max with the step where each first occurs. */
static void extremes(struct tp_steps step, const double *value, size_t n,
                     struct tp_stats *st) {
  st->min = INFINITY;
  st->max = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double v = value[i];
    if (!isfinite(v))
      continue;
    if (v < st->min) {
      st->min = v;
      st->min_step = tp_step_at(step, i);
    }
    if (v > st->max) {
      st->max = v;
      st->max_step = tp_step_at(step, i);
    }
  }
}

/* Clipping counts: fairseq's `clip` and the mean torch clip coefficient. */
static void clipping(const double *value, size_t n, struct tp_stats *st) {
  double coef = 0;
  for (size_t i = 0; i < n; i++) {
    double v = value[i];
    if (!isfinite(v))
      continue;
    if (v > st->max_norm) {
      st->n_clipped++;
      coef += st->max_norm / v;
    } else {
      coef += 1.0;
    }
  }
  st->clip_fraction = (double)st->n_clipped / (double)st->count;
  st->clip_coef_mean = coef / (double)st->count;
}

/* GSL's linear-interpolation quantile without a sort: quickselect puts the lhs-th
 * order statistic in place with every larger value after it, so the next one is
 * the smallest of those.  O(m) instead of gsl_sort's heapsort (3.9 s at 10^7).
 * x[0..lo) must hold no value above any of x[lo..m) (a previous selection at lo - 1
 * leaves it so), and quantiles are asked in increasing order: each selection then
 * runs on what is above the previous one, 1.6 m steps for four quantiles, not 4 m. */
static double quantile_select(double *x, size_t m, double f, size_t *lo) {
  double index = f * (double)(m - 1), delta, a, b;
  size_t lhs = (size_t)index;
  delta = index - (double)lhs;
  if (lhs < *lo) /* cannot happen for increasing f; stay correct anyway */
    *lo = 0;
  a = gsl_stats_select(x + *lo, 1, m - *lo, lhs - *lo);
  *lo = lhs + 1;
  if (lhs + 1 >= m || delta == 0)
    return a;
  b = x[lhs + 1];
  for (size_t i = lhs + 2; i < m; i++)
    b = x[i] < b ? x[i] : b;
  return (1 - delta) * a + delta * b;
}

/* Sum of x[0..m) - c (or of the squared deviations from c when sq): blocks of 4096 summed
 * with four lanes, the block sums added in order. The error grows with the number of
 * blocks, not of points, and the loop vectorises, unlike GSL's running mean, which
 * divides at every point (4 % of a 10^7-point 'spikes' run). */
static double block_sum(const double *x, size_t m, double c, int sq) {
  double total = 0;
  for (size_t b = 0; b < m; b += 4096) {
    size_t e = m - b > 4096 ? b + 4096 : m, i = b;
    double l0 = 0, l1 = 0, l2 = 0, l3 = 0;
    if (sq)
      for (; i + 4 <= e; i += 4) {
        double d0 = x[i] - c, d1 = x[i + 1] - c, d2 = x[i + 2] - c, d3 = x[i + 3] - c;
        l0 += d0 * d0, l1 += d1 * d1, l2 += d2 * d2, l3 += d3 * d3;
      }
    else
      for (; i + 4 <= e; i += 4)
        l0 += x[i] - c, l1 += x[i + 1] - c, l2 += x[i + 2] - c, l3 += x[i + 3] - c;
    for (; i < e; i++)
      l0 += sq ? (x[i] - c) * (x[i] - c) : x[i] - c;
    total += (l0 + l1) + (l2 + l3);
  }
  return total;
}

/* Mean, sd and quantiles (GSL's linear interpolation, numpy's default) of the
 * finite values, which are copied once and partially reordered by selection. */
static int moments(const double *value, size_t n, struct tp_stats *st) {
  uint64_t bytes;
  double *x;
  size_t m = 0;
  if (tp_size_mul(st->count, sizeof(double), &bytes, NULL) < 0 ||
      tp_size_check(bytes, NULL, "statistics buffer") < 0)
    return tp_err_last()->code;
  if (!(x = tp_big_alloc(bytes)))
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu values for statistics",
                  st->count);
  for (size_t i = 0; i < n; i++)
    if (isfinite(value[i]))
      x[m++] = value[i];
  if (m > 0) {
    size_t lo = 0;
    double mean = block_sum(x, m, 0, 0) / (double)m;
    /* one correction pass, as GSL's two-pass mean would give */
    mean += block_sum(x, m, mean, 0) / (double)m;
    st->mean = mean;
    st->sd = m > 1 ? sqrt(block_sum(x, m, mean, 1) / (double)(m - 1)) : 0.0;
    st->median = quantile_select(x, m, 0.5, &lo);
    st->p90 = quantile_select(x, m, 0.90, &lo);
    st->p99 = quantile_select(x, m, 0.99, &lo);
    st->p999 = quantile_select(x, m, 0.999, &lo);
  }
  free(x);
  return 0;
}

int tp_stats_compute(struct tp_steps step, const double *value, size_t n,
                     double max_norm, struct tp_stats *st) {
  memset(st, 0, sizeof *st);
  st->first_nonfinite_step = st->mean = st->sd = NAN;
  st->min = st->max = st->min_step = st->max_step = NAN;
  st->median = st->p90 = st->p99 = st->p999 = NAN;
  st->max_norm = st->clip_fraction = st->clip_coef_mean = NAN;
  st->n = n;
  if (n == 0)
    return tp_err(TP_EEMPTY, NULL, -1, "the series has no points");
  if (!isnan(max_norm) && !(max_norm > 0 && isfinite(max_norm)))
    return tp_err(TP_EINVAL, NULL, -1, "max_norm must be a positive number, got %g",
                  max_norm);
  count_nonfinite(step, value, n, st);
  st->count = n - st->nonfinite;
  if (st->count == 0)
    return 0; /* documented: all non-finite gives count 0 and NaN statistics */
  extremes(step, value, n, st);
  if (!isnan(max_norm)) {
    st->max_norm = max_norm;
    clipping(value, n, st);
  }
  return moments(value, n, st);
}

int tp_stats_clip(const double *value, size_t n, double max_norm, double *out) {
  if (!(max_norm > 0 && isfinite(max_norm)))
    return tp_err(TP_EINVAL, NULL, -1, "max_norm must be a positive number, got %g",
                  max_norm);
  for (size_t i = 0; i < n; i++)
    out[i] = isfinite(value[i]) && value[i] > max_norm ? max_norm : value[i];
  return 0;
}

int tp_stats_nonfinite_steps(struct tp_steps step, const double *value, size_t n,
                             double **out, size_t *nout) {
  size_t m = 0, k = 0;
  *out = NULL;
  *nout = 0;
  for (size_t i = 0; i < n; i++)
    m += !isfinite(value[i]);
  if (m == 0)
    return 0;
  if (!(*out = malloc(m * sizeof(double))))
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu steps", m);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(value[i]))
      (*out)[k++] = tp_step_at(step, i);
  *nout = m;
  return 0;
}
