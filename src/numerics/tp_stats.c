/* Statistics of a gradient-norm series with GSL, on the finite values only. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_limits.h"
#include "tp_signal.h"
#include "tp_stats.h"

/* Every pass over the series polls for a deferred interrupt once per POLL points (8 MB
   of doubles), so a 10^9-point series stops within milliseconds, not a pass. */
#define POLL ((size_t)1 << 20)

/* One pass: the non-finite points by kind (and where the first one was), and the finite
   minimum and maximum with the step where each first occurs. */
static void census(struct tp_steps step, const double *value, size_t n, struct tp_stats *st) {
  size_t imin = SIZE_MAX, imax = SIZE_MAX;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double v = value[i];
    if (i % POLL == 0 && tp_intr_pending())
      break;
    if (isfinite(v)) {
      if (v < lo || imin == SIZE_MAX)
        lo = v, imin = i;
      if (v > hi || imax == SIZE_MAX)
        hi = v, imax = i;
      continue;
    }
    if (isnan(v))
      st->n_nan++;
    else if (v > 0)
      st->n_posinf++;
    else
      st->n_neginf++;
    if (st->nonfinite++ == 0)
      st->first_nonfinite_step = tp_step_at(step, i);
  }
  if (imin != SIZE_MAX) {
    st->min = lo, st->min_step = tp_step_at(step, imin);
    st->max = hi, st->max_step = tp_step_at(step, imax);
  }
}

/* Clipping counts: fairseq's `clip` and the mean torch clip coefficient. */
static void clipping(const double *value, size_t n, struct tp_stats *st) {
  double coef = 0;
  for (size_t i = 0; i < n; i++) {
    double v = value[i];
    if (i % POLL == 0 && tp_intr_pending())
      break;
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

/*
 * Quantiles without copying or reordering the series: a radix pass. Finite doubles map
 * to 64-bit keys that sort like the numbers (sign bit flipped, negatives inverted); one
 * pass counts the top KEY_BITS of every key, the counts say which bucket holds each
 * wanted order statistic, a second pass gathers just those buckets, and a selection
 * inside each gives the exact statistic. GSL's (numpy's default) linear interpolation
 * between order statistics lhs and lhs + 1 follows. Memory is the 4 MiB count table plus
 * the gathered buckets; a series crowded into one bucket gathers all of it, no more than
 * the copy quickselect needed.
 */
#define KEY_BITS 20
#define NBUCKET ((size_t)1 << KEY_BITS)

static uint64_t key_of(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u >> 63 ? ~u : u | (uint64_t)1 << 63;
}

static size_t bucket_of(double x) { return (size_t)(key_of(x) >> (64 - KEY_BITS)); }

/* Where each asked rank lies: the ranks smallest first (they repeat and can go down: m = 3
   asks 1, 2, 1, 2, ...), and for each its bucket slot and its rank within that bucket. */
enum { MAXR = 8 };
struct order_plan {
  size_t order[MAXR], bucket[MAXR], within[MAXR], slot_of[MAXR], nb;
};

/* One pass: how many finite values fall in each bucket (TP_EINTR on a pending signal). */
static int count_buckets(const double *value, size_t n, uint32_t *count) {
  for (size_t b = 0; b < n && !tp_intr_pending(); b += POLL)
    for (size_t i = b, e = n - b > POLL ? b + POLL : n; i < e; i++)
      if (isfinite(value[i]))
        count[bucket_of(value[i])]++;
  return tp_intr_check();
}

/* Walk the counts once for all ranks, smallest first. */
static void plan_ranks(const uint32_t *count, const size_t *rank, size_t nr,
                       struct order_plan *pl) {
  size_t below = 0, b = 0;
  pl->nb = 0;
  for (size_t r = 0; r < nr; r++) {
    size_t j = r;
    for (; j > 0 && rank[pl->order[j - 1]] > rank[r]; j--)
      pl->order[j] = pl->order[j - 1];
    pl->order[j] = r;
  }
  for (size_t t = 0; t < nr; t++) {
    size_t r = pl->order[t], k = 0;
    while (below + count[b] <= rank[r])
      below += count[b++];
    pl->within[r] = rank[r] - below;
    while (k < pl->nb && pl->bucket[k] != b)
      k++;
    if (k == pl->nb)
      pl->bucket[pl->nb++] = b;
    pl->slot_of[r] = k;
  }
}

/* Second pass: the finite values of the planned buckets, each into its buffer. */
static int gather(const double *value, size_t n, const struct order_plan *pl, double **buf) {
  size_t fill[MAXR] = {0};
  int rc;
  for (size_t i = 0; i < n; i++) {
    if (i % POLL == 0 && (rc = tp_intr_check()) < 0)
      return rc;
    if (!isfinite(value[i]))
      continue;
    size_t bi = bucket_of(value[i]);
    for (size_t k = 0; k < pl->nb; k++)
      if (pl->bucket[k] == bi) {
        buf[k][fill[k]++] = value[i];
        break;
      }
  }
  return 0;
}

/* The order statistics rank[0..nr) (0-based among the m finite values) of value. */
static int order_stats(const double *value, size_t n, size_t m, const size_t *rank, size_t nr,
                       double *out) {
  uint32_t *count = calloc(NBUCKET, sizeof *count);
  struct order_plan pl;
  double *buf[MAXR] = {0};
  int rc;
  if (!count)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the quantile counts");
  if ((rc = count_buckets(value, n, count)) < 0) {
    free(count);
    return rc;
  }
  plan_ranks(count, rank, nr, &pl);
  for (size_t k = 0; k < pl.nb && rc == 0; k++)
    if (!(buf[k] = tp_big_alloc(count[pl.bucket[k]] * sizeof(double))))
      rc = tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %u values for quantiles",
                  (unsigned)count[pl.bucket[k]]);
  if (rc == 0)
    rc = gather(value, n, &pl, buf);
  /* smallest rank first: after a selection everything from within[r] up is >= the
   * statistic, so the next rank in the bucket selects among that part only */
  size_t lo[MAXR] = {0};
  for (size_t t = 0; t < nr && rc == 0; t++) {
    size_t r = pl.order[t], k = pl.slot_of[r], c = count[pl.bucket[k]];
    out[r] = gsl_stats_select(buf[k] + lo[k], 1, c - lo[k], pl.within[r] - lo[k]);
    lo[k] = pl.within[r];
  }
  for (size_t k = 0; k < pl.nb; k++)
    free(buf[k]);
  free(count);
  (void)m;
  return rc;
}

/* Sum of the finite value[0..n) - c (or of their squared deviations from c when sq):
 * blocks of 4096 summed with four lanes, the block sums added in order. The error grows
 * with the number of blocks, not of points, unlike GSL's running mean, which also divides
 * at every point, a visible share of a long 'spikes' run (bench/MEASUREMENTS.md). */
static double block_sum(const double *x, size_t m, double c, int sq) {
  double total = 0;
  for (size_t b = 0; b < m; b += 4096) {
    size_t e = m - b > 4096 ? b + 4096 : m, i = b;
    if (b % POLL == 0 && tp_intr_pending())
      break;
    double l[4] = {0, 0, 0, 0};
    for (; i + 4 <= e; i += 4)
      for (int k = 0; k < 4; k++) {
        double v = x[i + (size_t)k], d = v - c;
        l[k] += isfinite(v) ? (sq ? d * d : d) : 0.0;
      }
    for (; i < e; i++) {
      double d = x[i] - c;
      l[0] += isfinite(x[i]) ? (sq ? d * d : d) : 0.0;
    }
    total += (l[0] + l[1]) + (l[2] + l[3]);
  }
  return total;
}

/* Mean, sd and quantiles (GSL's linear interpolation, numpy's default) of the finite
 * values, read in place. */
struct order_job {
  const double *value;
  size_t n, m, rank[8], nr;
  double out[8];
  int rc;
  struct tp_errinfo err;
};

static void *order_run(void *arg) {
  struct order_job *j = arg;
  if ((j->rc = order_stats(j->value, j->n, j->m, j->rank, j->nr, j->out)) < 0)
    j->err = *tp_err_last();
  return NULL;
}

/* The two halves of moments: the sums (job 0, on the caller's thread) and the quantile
   passes (job 1, on a second core for long series). */
struct moment_job {
  struct order_job *order; /* NULL for the sums */
  const double *value;
  size_t n, m;
  struct tp_stats *st;
};

static void *moment_run(void *arg) {
  struct moment_job *j = arg;
  double mean;
  if (j->order)
    return order_run(j->order);
  mean = block_sum(j->value, j->n, 0, 0) / (double)j->m;
  mean +=
      block_sum(j->value, j->n, mean, 0) / (double)j->m; /* one correction, as a two-pass mean */
  j->st->mean = mean;
  j->st->sd = j->m > 1 ? sqrt(block_sum(j->value, j->n, mean, 1) / (double)(j->m - 1)) : 0.0;
  return NULL;
}

static int moments(const double *value, size_t n, struct tp_stats *st) {
  static const double f[4] = {0.5, 0.90, 0.99, 0.999};
  size_t m = st->count, rank[8], nr = 0, lhs[4];
  double delta[4], os[8];
  double *q[4] = {&st->median, &st->p90, &st->p99, &st->p999};
  int rc;
  if (m == 0)
    return 0;
  for (int k = 0; k < 4; k++) {
    double index = f[k] * (double)(m - 1);
    lhs[k] = (size_t)index;
    delta[k] = index - (double)lhs[k];
    rank[nr++] = lhs[k];
    rank[nr++] = lhs[k] + 1 < m ? lhs[k] + 1 : lhs[k];
  }
  /* the quantile passes on a second core while this one sums (long series only) */
  struct order_job job = {.value = value, .n = n, .m = m, .nr = nr};
  memcpy(job.rank, rank, sizeof rank);
  struct moment_job part[2] = {{.value = value, .n = n, .m = m, .st = st}, {.order = &job}};
  int threaded = n >= ((size_t)1 << 20) && tp_threads(2) > 1;
  tp_run_jobs(part, threaded ? 2 : 1, sizeof part[0], moment_run);
  if (!threaded)
    order_run(&job);
  if ((rc = job.rc) < 0)
    return tp_err_restore(&job.err); /* recorded on the thread that failed */
  if ((rc = tp_intr_check()) < 0)    /* the sums stopped early */
    return rc;
  memcpy(os, job.out, sizeof os);
  for (int k = 0; k < 4; k++)
    *q[k] = delta[k] == 0 || lhs[k] + 1 >= m
                ? os[2 * k]
                : (1 - delta[k]) * os[2 * k] + delta[k] * os[2 * k + 1];
  return 0;
}

int tp_stats_compute(struct tp_steps step, const double *value, size_t n, double max_norm,
                     struct tp_stats *st) {
  memset(st, 0, sizeof *st);
  st->first_nonfinite_step = st->mean = st->sd = NAN;
  st->min = st->max = st->min_step = st->max_step = NAN;
  st->median = st->p90 = st->p99 = st->p999 = NAN;
  st->max_norm = st->clip_fraction = st->clip_coef_mean = NAN;
  st->n = n;
  if (n == 0)
    return tp_err(TP_EEMPTY, NULL, -1, "the series has no points");
  if (!isnan(max_norm) && !(max_norm > 0 && isfinite(max_norm)))
    return tp_err(TP_EINVAL, NULL, -1, "max_norm must be a positive number, got %g", max_norm);
  census(step, value, n, st);
  if (tp_intr_pending())
    return tp_intr_check();
  st->count = n - st->nonfinite;
  if (st->count == 0)
    return 0; /* documented: all non-finite gives count 0 and NaN statistics */
  if (!isnan(max_norm)) {
    st->max_norm = max_norm;
    clipping(value, n, st);
  }
  return moments(value, n, st);
}

int tp_stats_clip(const double *value, size_t n, double max_norm, double *out) {
  if (!(max_norm > 0 && isfinite(max_norm)))
    return tp_err(TP_EINVAL, NULL, -1, "max_norm must be a positive number, got %g", max_norm);
  for (size_t i = 0; i < n; i++)
    out[i] = isfinite(value[i]) && value[i] > max_norm ? max_norm : value[i];
  return 0;
}

int tp_stats_nonfinite_steps(struct tp_steps step, const double *value, size_t n, double **out,
                             size_t *nout) {
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
