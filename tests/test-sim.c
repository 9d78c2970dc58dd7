/* posemb numerics: similarity and pooling against brute force, profile, generator, writers. */
#include "config.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tp_error.h"
#include "tp_gen.h"
#include "tp_limits.h"
#include "tp_posemb.h"
#include "tp_profile.h"
#include "tp_signal.h"
#include "tp_sim.h"
#include "tp_simwrite.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A seeded generator, so every run sees the same tables. */
static unsigned long long rng_state;
static double urand(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* An n x d double table in [-1, 1), with the listed row zeroed (-1 for none). */
static double *random_table(size_t n, size_t d, long zero_row, unsigned long long seed) {
  double *x = malloc(n * d * sizeof *x);
  rng_state = seed;
  for (size_t k = 0; k < n * d; k++)
    x[k] = urand();
  if (zero_row >= 0)
    memset(x + (size_t)zero_row * d, 0, d * sizeof *x);
  return x;
}

/* The O(n^2 d) definition of each metric, in double. */
static double naive(const double *x, size_t d, size_t i, size_t j, enum tp_metric m) {
  double dot = 0, ni = 0, nj = 0, dist = 0;
  for (size_t k = 0; k < d; k++) {
    double a = x[i * d + k], b = x[j * d + k];
    dot += a * b, ni += a * a, nj += b * b, dist += (a - b) * (a - b);
  }
  if (m == TP_METRIC_DOT)
    return dot;
  if (m == TP_METRIC_EUCLIDEAN)
    return sqrt(dist);
  return ni == 0 || nj == 0 ? NAN : dot / sqrt(ni * nj);
}

struct simcase {
  enum tp_metric metric;
  int dbl;
  size_t n, d, pool;
  enum tp_pool how;
  long zero_row;
};

static const struct simcase simcases[] = {
    {TP_METRIC_COSINE, 0, 97, 33, 0, TP_POOL_MEAN, -1},
    {TP_METRIC_COSINE, 1, 97, 33, 0, TP_POOL_MEAN, -1},
    {TP_METRIC_COSINE, 0, 130, 64, 0, TP_POOL_MEAN, 5},
    /* float64 at f64 with n > 6 d: cosine copies and normalises instead of scaling */
    {TP_METRIC_COSINE, 1, 300, 9, 0, TP_POOL_MEAN, 4},
    {TP_METRIC_DOT, 0, 97, 33, 0, TP_POOL_MEAN, -1},
    {TP_METRIC_DOT, 1, 97, 33, 0, TP_POOL_MEAN, 3},
    {TP_METRIC_EUCLIDEAN, 0, 97, 33, 0, TP_POOL_MEAN, -1},
    {TP_METRIC_EUCLIDEAN, 1, 64, 200, 0, TP_POOL_MEAN, 0},
    {TP_METRIC_COSINE, 0, 203, 17, 10, TP_POOL_MEAN, 7},
    {TP_METRIC_COSINE, 1, 203, 17, 10, TP_POOL_MEAN, 7},
    {TP_METRIC_COSINE, 0, 203, 17, 13, TP_POOL_MAX, 7},
    {TP_METRIC_COSINE, 1, 150, 9, 7, TP_POOL_MAX, -1},
    {TP_METRIC_DOT, 1, 150, 9, 7, TP_POOL_MEAN, 149},
    {TP_METRIC_EUCLIDEAN, 0, 150, 9, 16, TP_POOL_MEAN, -1},
    {TP_METRIC_EUCLIDEAN, 1, 150, 9, 16, TP_POOL_MAX, 2},
    /* n >= 512: the mirror is split over threads; sizes off the 8- and 32-cell grid */
    {TP_METRIC_DOT, 0, 517, 8, 0, TP_POOL_MEAN, 260},
    {TP_METRIC_COSINE, 0, 2100, 8, 0, TP_POOL_MEAN, 1500},
    {TP_METRIC_DOT, 1, 2100, 8, 0, TP_POOL_MEAN, -1},
    /* n >= 1024: pooling the full matrix splits block rows over threads */
    {TP_METRIC_COSINE, 0, 1100, 8, 40, TP_POOL_MEAN, 600},
    {TP_METRIC_EUCLIDEAN, 1, 1100, 8, 37, TP_POOL_MAX, -1},
};

/* The brute-force pooled cell (a, b): mean or max of defined cells of its block. */
static double naive_cell(const double *x, const struct simcase *c, size_t m, size_t a, size_t b) {
  double acc = c->how == TP_POOL_MAX ? -INFINITY : 0;
  size_t cnt = 0;
  for (size_t i = tp_sim_block_lo(c->n, m, a); i < tp_sim_block_lo(c->n, m, a + 1); i++)
    for (size_t j = tp_sim_block_lo(c->n, m, b); j < tp_sim_block_lo(c->n, m, b + 1); j++) {
      double v = naive(x, c->d, i, j, c->metric);
      if (isnan(v))
        continue;
      acc = c->how == TP_POOL_MAX ? fmax(acc, v) : acc + v;
      cnt++;
    }
  return cnt == 0 ? NAN : c->how == TP_POOL_MAX ? acc : acc / (double)cnt;
}

/* Largest error relative to max(1, |reference|); NaN must match NaN. */
static double worst_error(const struct tp_simmat *s, const double *x, const struct simcase *c) {
  double worst = 0;
  for (size_t i = 0; i < s->n; i++)
    for (size_t j = 0; j < s->n; j++) {
      double want = s->block > 1 ? naive_cell(x, c, s->n, i, j) : naive(x, c->d, i, j, c->metric);
      double got = tp_simmat_get(s, i, j), e;
      if (isnan(want) || isnan(got)) {
        if (isnan(want) != isnan(got))
          return INFINITY;
        continue;
      }
      e = fabs(got - want) / fmax(1.0, fabs(want));
      worst = e > worst ? e : worst;
    }
  return worst;
}

static void check_similarity(void) {
  for (int k = 0; k < NELEM(simcases); k++) {
    const struct simcase *c = &simcases[k];
    double *x = random_table(c->n, c->d, c->zero_row, 42 + (unsigned)k);
    struct tp_rows r = {.n = c->n, .d = c->d, .dtype = TP_F64, .data = x};
    struct tp_sim_opts o = {.metric = c->metric, .dbl = c->dbl, .pool = c->pool, .how = c->how};
    struct tp_simmat *s = NULL;
    int rc = tp_sim_compute(&r, &o, &s);
    double tol = c->dbl ? 1e-12 : 1e-5;
    tap_ok(rc == 0 && s->n == (c->pool ? c->pool : c->n) && worst_error(s, x, c) <= tol,
           "tp_sim_compute - %s %s %zux%zu pool %zu %s zero row %ld, expect "
           "brute force within %g",
           tp_metric_name(c->metric), c->dbl ? "f64" : "f32", c->n, c->d, c->pool,
           c->how == TP_POOL_MAX ? "max" : "mean", c->zero_row, tol);
    if (rc == 0)
      tap_diag("worst relative error %.3g", worst_error(s, x, c));
    tp_simmat_free(s);
    free(x);
  }
}

/* The same pooled cases, pooled afterwards from the full matrix (tp_sim_pool). */
static void check_pool_from_full(void) {
  for (int k = 0; k < NELEM(simcases); k++) {
    const struct simcase *c = &simcases[k];
    double *x;
    struct tp_rows r;
    struct tp_sim_opts o = {.metric = c->metric, .dbl = c->dbl};
    struct tp_simmat *full = NULL, *s = NULL;
    int rc;
    if (!c->pool)
      continue;
    x = random_table(c->n, c->d, c->zero_row, 42 + (unsigned)k);
    r = (struct tp_rows){.n = c->n, .d = c->d, .dtype = TP_F64, .data = x};
    rc = tp_sim_compute(&r, &o, &full);
    if (rc == 0)
      rc = tp_sim_pool(full, c->pool, c->how, &s);
    tap_ok(rc == 0 && s->n == c->pool && s->block > 1 &&
               worst_error(s, x, c) <= (c->dbl ? 1e-12 : 1e-5),
           "tp_sim_pool - %s %s %zux%zu to %zu %s from the full matrix, expect brute force",
           tp_metric_name(c->metric), c->dbl ? "f64" : "f32", c->n, c->d, c->pool,
           c->how == TP_POOL_MAX ? "max" : "mean");
    tp_simmat_free(s);
    tp_simmat_free(full);
    free(x);
  }
}

/* Zero rows, limits and bad arguments each give their documented result. */
static void check_sim_edges(void) {
  double *x = random_table(20, 8, 4, 7);
  struct tp_rows r = {.n = 20, .d = 8, .dtype = TP_F64, .data = x};
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE};
  struct tp_simmat *s = NULL;
  float *ones = calloc(70000, sizeof *ones);
  struct tp_rows big = {.n = 70000, .d = 1, .dtype = TP_F32, .data = ones};
  struct tp_rows empty = {.n = 0, .d = 8, .dtype = TP_F64, .data = x};
  enum tp_metric m;
  tap_ok(tp_sim_compute(&r, &o, &s) == 0 && isnan(tp_simmat_get(s, 4, 9)) &&
             isnan(tp_simmat_get(s, 9, 4)) && isnan(tp_simmat_get(s, 4, 4)) &&
             fabs(tp_simmat_get(s, 3, 3) - 1) < 1e-6,
         "tp_sim_compute - cosine with zero row 4, expect NaN row/column, 1 on the rest of the "
         "diagonal");
  tp_simmat_free(s);
  tap_ok(tp_sim_compute(&big, &o, &s) == TP_ELIMIT && s == NULL &&
             strstr(tp_err_last()->detail, "--pool"),
         "tp_sim_compute - 70000 rows without pooling, expect TP_ELIMIT naming --pool");
  tap_ok(tp_sim_compute(&empty, &o, &s) == TP_EEMPTY, "tp_sim_compute - 0 rows, expect TP_EEMPTY");
  tap_ok(tp_metric_parse("cosin", &m) == TP_EINVAL && strstr(tp_err_last()->detail, "cosin"),
         "tp_metric_parse - 'cosin', expect TP_EINVAL naming it");
  tap_ok(tp_metric_parse("", &m) == TP_EINVAL &&
             strstr(tp_err_last()->detail, "cosine, dot or euclidean"),
         "tp_metric_parse - empty, expect TP_EINVAL listing the metrics");
  tap_ok(tp_metric_parse("x\n\033[31m", &m) == TP_EINVAL &&
             strstr(tp_err_last()->detail, "'x\\n\\x1b[31m'"),
         "tp_metric_parse - newline and ESC in the name, expect them escaped in the message");
  free(x);
  free(ones);
}

/* A long thin table plans a large matrix from a small file: the full matrix only within
   the budget (1 GiB, or the byte limit when lower); a profile alone then comes from the
   row tiles, the same as from the full matrix. */
static void check_budget(void) {
  struct tp_limits save = *tp_limits_get(), small = save;
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE};
  struct tp_simmat *s = NULL, *full = NULL;
  struct tp_profile *p = NULL, *pf = NULL;
  size_t n = 600, worst = 0;
  double *x = random_table(16385, 1, -1, 11);
  float *f = malloc(16385 * sizeof *f);
  struct tp_rows r = {.n = n, .d = 1, .dtype = TP_F32, .data = f};
  struct tp_rows wide = {.n = 16385, .d = 1, .dtype = TP_F32, .data = f};
  int rc;
  for (size_t i = 0; i < 16385; i++)
    f[i] = (float)x[i];
  tap_ok(tp_sim_compute(&wide, &o, &s) == TP_ELIMIT && !s &&
             strstr(tp_err_last()->detail, "1073741824-byte budget") &&
             strstr(tp_err_last()->detail, "--pool"),
         "tp_sim_compute - 16385 x 1 (a 1 GiB + 128 KiB matrix), expect TP_ELIMIT naming the "
         "budget and --pool");
  tp_sim_compute_profiled(&r, &o, &full, &pf); /* 1.44 MB: within the default budget */
  small.max_bytes = 1 << 20;
  tp_limits_set(&small);
  tap_ok(tp_sim_compute(&r, &o, &s) == TP_ELIMIT && !s,
         "tp_sim_compute - 600 x 1 under a 1 MiB byte limit, expect TP_ELIMIT");
  rc = tp_sim_compute_profiled(&r, &o, &s, &p);
  tp_limits_set(&save);
  for (size_t k = 0; rc == 0 && pf && k < n; k++)
    worst += !(fabs(p->mean[k] - pf->mean[k]) < 1e-6 && p->min[k] == pf->min[k] &&
               p->max[k] == pf->max[k]);
  tap_ok(rc == 0 && s && s->block > 1 && s->n == n / 2 && s->src_n == n && p && p->n == n &&
             p->block == 1 && pf && worst == 0 && p->band == pf->band &&
             p->self_max == pf->self_max,
         "tp_sim_compute_profiled - 600 x 1 under a 1 MiB limit, expect a pooled grid and the full "
         "matrix's profile");
  tp_simmat_free(s), tp_simmat_free(full);
  tp_profile_free(p), tp_profile_free(pf);
  free(x), free(f);
}

/* Cosine from float32 and float64 tables at both precisions, against the brute force
   on the same (float-rounded) values. The same-precision pairs use the caller's table
   in place and scale the product, unless a row's squared norm leaves 2^-100..2^100
   (float) -- then they copy and normalise first: the scales 1e25 and 1e-25 take that
   path. The 700-row table has enough rows that the copy and the norms run on every
   core. The caller's table must come back untouched. */
static void check_f32_input(void) {
  static const struct {
    size_t n;
    double scale;
  } cases[] = {{700, 1}, {90, 1e25}, {90, 1e-25}};
  enum { D = 191 };
  for (int c = 0; c < NELEM(cases); c++) {
    size_t n = cases[c].n;
    double *x = random_table(n, D, 11, 4242 + (unsigned)c), *want = malloc(n * n * sizeof *want);
    float *f = malloc(n * D * sizeof *f);
    for (size_t k = 0; k < n * D; k++)
      x[k] = f[k] = (float)(x[k] * cases[c].scale);
    for (size_t k = 0; k < n * n; k++)
      want[k] = naive(x, D, k / n, k % n, TP_METRIC_COSINE);
    double *x0 = malloc(n * D * sizeof *x0);
    float *f0 = malloc(n * D * sizeof *f0);
    memcpy(x0, x, n * D * sizeof *x0), memcpy(f0, f, n * D * sizeof *f0);
    for (int in64 = 0; in64 <= 1; in64++)
      for (int dbl = 0; dbl <= 1; dbl++) {
        struct tp_rows r = {.n = n,
                            .d = D,
                            .dtype = in64 ? TP_F64 : TP_F32,
                            .data = in64 ? (const void *)x : (const void *)f};
        struct tp_sim_opts o = {.metric = TP_METRIC_COSINE, .dbl = dbl};
        struct tp_simmat *s = NULL;
        double worst = INFINITY, tol = dbl ? 1e-12 : 1e-5;
        if (tp_sim_compute(&r, &o, &s) == 0) {
          worst = 0;
          for (size_t k = 0; k < n * n; k++) {
            double got = tp_simmat_get(s, k / n, k % n), e;
            if (isnan(got) || isnan(want[k])) {
              worst = isnan(got) == isnan(want[k]) ? worst : INFINITY;
              continue;
            }
            e = fabs(got - want[k]);
            worst = e > worst ? e : worst;
          }
        }
        tap_ok(worst <= tol && s && isnan(tp_simmat_get(s, 11, 3)) &&
                   memcmp(x, x0, n * D * sizeof *x) == 0 && memcmp(f, f0, n * D * sizeof *f) == 0,
               "tp_sim_compute - cosine %zux%d float%d input scaled by %g at %s, expect "
               "brute force within %g, row 11 NaN, input untouched",
               n, D, in64 ? 64 : 32, cases[c].scale, dbl ? "f64" : "f32", tol);
        tap_diag("worst error %.3g", worst);
        tp_simmat_free(s);
      }
    free(x), free(f), free(x0), free(f0), free(want);
  }
}

/* A matrix given cell by cell, for the profile checks. */
static struct tp_simmat *matrix_of(size_t n, const double *v) {
  struct tp_simmat *s = calloc(1, sizeof *s);
  s->n = s->src_n = n;
  s->block = 1;
  s->dtype = TP_F64;
  s->data = malloc(n * n * sizeof(double));
  memcpy(s->data, v, n * n * sizeof(double));
  return s;
}

/* tp_simmat_range against a scan through tp_simmat_get, in f64 and f32, with NaN and
   infinite cells left out; an all-NaN matrix gives NaN for both. */
static void check_range(void) {
  enum { N = 37 };
  double v[N * N], lo = INFINITY, hi = -INFINITY, glo, ghi;
  rng_state = 41;
  for (size_t k = 0; k < N * N; k++)
    v[k] = k % 11 == 3 ? NAN : k % 97 == 5 ? (k % 2 ? INFINITY : -INFINITY) : urand() * 3;
  for (int f32 = 0; f32 <= 1; f32++) {
    struct tp_simmat *s = matrix_of(N, v);
    if (f32) {
      float *c = malloc(N * N * sizeof *c);
      for (size_t k = 0; k < N * N; k++)
        c[k] = (float)v[k];
      free(s->data), s->data = c, s->dtype = TP_F32;
    }
    lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < N; i++)
      for (size_t j = 0; j < N; j++) {
        double x = tp_simmat_get(s, i, j);
        if (isfinite(x))
          lo = x < lo ? x : lo, hi = x > hi ? x : hi;
      }
    tap_ok(tp_simmat_range(s, &glo, &ghi) == 1 && glo == lo && ghi == hi,
           "tp_simmat_range - %s cells with NaN and inf, expect the brute-force min and max",
           f32 ? "f32" : "f64");
    for (size_t k = 0; k < N * N; k++)
      if (f32)
        ((float *)s->data)[k] = NAN;
      else
        ((double *)s->data)[k] = NAN;
    tap_ok(tp_simmat_range(s, &glo, &ghi) == 0 && isnan(glo) && isnan(ghi),
           "tp_simmat_range - %s, every cell NaN, expect 0 and NaN for both", f32 ? "f32" : "f64");
    tp_simmat_free(s);
  }
}

/* n >= 1024 splits the offsets over threads: the result must be the serial one, bit for
   bit, with the same Toeplitz cell. */
static void check_profile_serial(void) {
  enum { N = 1100, D = 8 };
  double *x = random_table(N, D, 600, 99);
  struct tp_rows r = {.n = N, .d = D, .dtype = TP_F64, .data = x};
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE};
  struct tp_simmat *s = NULL;
  struct tp_profile *p = NULL;
  double *mean = calloc(N, sizeof *mean), *mn = malloc(N * sizeof *mn),
         *mx = malloc(N * sizeof *mx), *cnt = calloc(N, sizeof *cnt), gap = 0;
  size_t gi = 0, gj = 0, bad = 0;
  int ok = tp_sim_compute(&r, &o, &s) == 0 && tp_profile_compute(s, &p) == 0;
  for (size_t k = 0; k < N; k++)
    mn[k] = INFINITY, mx[k] = -INFINITY;
  for (size_t i = 0; ok && i < N; i++)
    for (size_t j = i; j < N; j++) {
      double v = tp_simmat_get(s, i, j);
      if (isnan(v))
        continue;
      mean[j - i] += v, cnt[j - i] += 1;
      mn[j - i] = fmin(mn[j - i], v), mx[j - i] = fmax(mx[j - i], v);
    }
  for (size_t k = 0; ok && k < N; k++) {
    mean[k] = cnt[k] ? mean[k] / cnt[k] : NAN;
    bad += !(cnt[k] ? mean[k] == p->mean[k] && mn[k] == p->min[k] && mx[k] == p->max[k]
                    : isnan(p->mean[k]));
  }
  for (size_t i = 0; ok && i < N; i++)
    for (size_t j = i; j < N; j++) {
      double g = fabs(tp_simmat_get(s, i, j) - mean[j - i]);
      if (g > gap)
        gap = g, gi = i, gj = j;
    }
  tap_ok(ok && bad == 0,
         "tp_profile_compute - %dx%d with a zero row, expect the serial "
         "per-offset mean, min and max bit for bit (%zu differ)",
         N, D, bad);
  tap_ok(ok && p->toeplitz == gap && p->toeplitz_i == gi && p->toeplitz_j == gj,
         "tp_profile_compute - %dx%d, expect the serial Toeplitz deviation %g at (%zu, %zu)", N, D,
         gap, gi, gj);
  tp_profile_free(p);
  tp_simmat_free(s);
  free(x), free(mean), free(mn), free(mx), free(cnt);
}

static void check_profile(void) {
  static const double three[9] = {1, .5, 0, .5, 1, .9, 0, .9, 1};
  static const double tie[9] = {1, .25, 0, .25, 1, .75, 0, .75, 1};
  double *circle = malloc(64 * 2 * sizeof *circle), y[40];
  struct tp_rows r = {.n = 64, .d = 2, .dtype = TP_F64, .data = circle};
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE, .dbl = 1};
  struct tp_simmat *s = matrix_of(3, three), *c = NULL;
  struct tp_profile *p = NULL, *q = NULL;
  double rise;
  tap_ok(tp_profile_compute(s, &p) == 0 && fabs(p->mean[1] - .7) < 1e-12 && p->min[1] == .5 &&
             p->max[1] == .9 && p->band == 2,
         "tp_profile_compute - 3x3 known matrix, expect mean .7 min .5 max .9 at offset 1, band 2");
  tap_ok(
      p && fabs(p->toeplitz - .2) < 1e-12 && p->toeplitz_i + 1 == p->toeplitz_j,
      "tp_profile_compute - 3x3 known matrix, expect Toeplitz deviation .2 on the first diagonal");
  tp_profile_free(p);
  tp_simmat_free(s);
  /* (0,1) is exactly .25 under its diagonal's mean and (1,2) exactly .25 over it. */
  s = matrix_of(3, tie), p = NULL;
  tap_ok(tp_profile_compute(s, &p) == 0 && p->toeplitz == .25 && p->toeplitz_i == 0 &&
             p->toeplitz_j == 1,
         "tp_profile_compute - an exact tie between a diagonal's min and max, expect the "
         "first in row order, (0, 1)");
  /* Points on a circle with period 16: cosine similarity is cos(2 pi k / 16). */
  for (size_t i = 0; i < 64; i++)
    circle[2 * i] = cos(2 * M_PI * (double)i / 16),
               circle[2 * i + 1] = sin(2 * M_PI * (double)i / 16);
  tap_ok(tp_sim_compute(&r, &o, &c) == 0 && tp_profile_compute(c, &q) == 0 && q->band == 3 &&
             q->period == 16 && q->toeplitz < 1e-9,
         "tp_profile_compute - circle of period 16, expect band 3, period 16, Toeplitz 0");
  for (int k = 0; k < 40; k++)
    y[k] = exp(-k / 5.0);
  tap_ok(tp_profile_period(y, 40, 0.1, &rise) == -1,
         "tp_profile_period - monotone decay, expect no period");
  tp_profile_free(p), tp_profile_free(q);
  tp_simmat_free(s), tp_simmat_free(c);
  free(circle);
  check_profile_serial();
}

/* Both accumulators of the row-by-row profile, field by field, exactly. */
static int acc_same(const struct tp_profile_acc *a, const struct tp_profile_acc *b) {
  size_t n = a->n;
  return memcmp(a->sum, b->sum, n * sizeof(double)) == 0 &&
         memcmp(a->cnt, b->cnt, n * sizeof(double)) == 0 &&
         memcmp(a->min, b->min, n * sizeof(double)) == 0 &&
         memcmp(a->max, b->max, n * sizeof(double)) == 0 &&
         memcmp(a->imin, b->imin, n * sizeof(uint32_t)) == 0 &&
         memcmp(a->imax, b->imax, n * sizeof(uint32_t)) == 0 &&
         memcmp(a->best, b->best, n * sizeof(double)) == 0 &&
         memcmp(a->self, b->self, n * sizeof(double)) == 0;
}

/* Many rows at once (AVX blocks of eight offsets where the CPU has them) against one row
   at a time, on a random symmetric matrix in tiles of 70 rows: the same state, bit for bit,
   with and without skipped columns (inside blocks, at the tail, a skipped first row). */
static void check_profile_rows(void) {
  enum { N = 301, TILE = 70 };
  float *m = malloc(N * N * sizeof *m);
  unsigned char skip[N] = {0};
  uint64_t st = 7;
  skip[0] = skip[1] = skip[77] = skip[296] = 1;
  for (size_t i = 0; i < N; i++)
    for (size_t j = i; j < N; j++) {
      st = st * 6364136223846793005ULL + 1442695040888963407ULL;
      /* Coarse values, so ties between rows (first row wins) happen. */
      m[i * N + j] = m[j * N + i] = (float)((int)(st >> 58) - 32) / 16.0f;
    }
  for (int c = 0; c < 4; c++) {
    enum tp_metric metric = c < 2 ? TP_METRIC_COSINE : TP_METRIC_EUCLIDEAN;
    const unsigned char *sk = c % 2 ? skip : NULL;
    struct tp_profile_acc one, many;
    int ok =
        tp_profile_acc_init(&one, N, metric) == 0 && tp_profile_acc_init(&many, N, metric) == 0;
    for (size_t r0 = 0; ok && r0 < N; r0 += TILE) {
      size_t r1 = r0 + TILE < N ? r0 + TILE : N;
      for (size_t i = r0; i < r1; i++)
        if (!(sk && sk[i]))
          tp_profile_acc_row_f(&one, i, m + i * N + i, sk);
      tp_profile_acc_rows_f(&many, r0, r1, m + r0 * N + r0, N + 1, sk);
    }
    tap_ok(ok && acc_same(&one, &many),
           "tp_profile_acc_rows_f - %d rows in tiles of %d, %s, %s skipped columns, expect "
           "the row-by-row state bit for bit",
           N, TILE, tp_metric_name(metric), sk ? "with" : "no");
    tp_profile_acc_free(&one), tp_profile_acc_free(&many);
  }
  free(m);
}

/* The profile gathered from the pooled path's tiles against the full matrix's. */
static void check_profile_streamed(void) {
  static const struct {
    enum tp_metric metric;
    int dbl;
    size_t n, d, pool;
    long zero_row;
  } cases[] = {
      {TP_METRIC_COSINE, 0, 700, 24, 50, 3},    {TP_METRIC_COSINE, 1, 333, 9, 40, -1},
      {TP_METRIC_DOT, 0, 530, 16, 64, 200},     {TP_METRIC_EUCLIDEAN, 0, 410, 12, 33, 0},
      {TP_METRIC_EUCLIDEAN, 1, 260, 7, 20, -1},
  };
  for (int c = 0; c < NELEM(cases); c++) {
    double *x = random_table(cases[c].n, cases[c].d, cases[c].zero_row, 500 + (unsigned)c);
    struct tp_rows r = {.n = cases[c].n, .d = cases[c].d, .dtype = TP_F64, .data = x};
    struct tp_sim_opts o = {.metric = cases[c].metric, .dbl = cases[c].dbl};
    struct tp_simmat *full = NULL, *pooled = NULL;
    struct tp_profile *want = NULL, *got = NULL;
    double tol = cases[c].dbl ? 1e-12 : 1e-5, worst = 0;
    int ok = tp_sim_compute(&r, &o, &full) == 0 && tp_profile_compute(full, &want) == 0;
    o.pool = cases[c].pool;
    ok = ok && tp_sim_compute_profiled(&r, &o, &pooled, &got) == 0 && got &&
         pooled->n == cases[c].pool && got->n == cases[c].n && got->block == 1;
    for (size_t k = 0; ok && k < got->n; k++) {
      double e[3] = {got->mean[k] - want->mean[k], got->min[k] - want->min[k],
                     got->max[k] - want->max[k]};
      for (int l = 0; l < 3; l++)
        worst = isnan(e[l]) ? (isnan(got->mean[k]) == isnan(want->mean[k]) ? worst : INFINITY)
                            : fmax(worst, fabs(e[l]) / fmax(1.0, fabs(want->mean[k])));
    }
    tap_ok(ok && worst <= tol && fabs(got->toeplitz - want->toeplitz) <= tol * 4 &&
               got->band == want->band && got->period == want->period &&
               got->self_max == want->self_max && got->self_rows == want->self_rows,
           "tp_sim_compute_profiled - %s %s %zux%zu pooled to %zu, zero row %ld, expect the "
           "full matrix's profile within %g, the same band, period and self-similar rows",
           tp_metric_name(cases[c].metric), cases[c].dbl ? "f64" : "f32", cases[c].n, cases[c].d,
           cases[c].pool, cases[c].zero_row, tol);
    if (ok)
      tap_diag("worst %.3g, Toeplitz %.9g vs %.9g, self %zu/%zu vs %zu/%zu", worst, got->toeplitz,
               want->toeplitz, got->self_max, got->self_rows, want->self_max, want->self_rows);
    tp_profile_free(want), tp_profile_free(got);
    tp_simmat_free(full), tp_simmat_free(pooled);
    free(x);
  }
}

/* fairseq's formula in double: sin half, cos half, denominator half_dim - 1. */
static double fairseq_ref(size_t pos, size_t c, size_t d) {
  size_t half = d / 2;
  double f;
  if (c >= 2 * half)
    return 0;
  f = exp((double)(c % half) * -log(10000.0) / (double)(half - 1));
  return c < half ? sin((double)pos * f) : cos((double)pos * f);
}

static double interleaved_ref(size_t pos, size_t c, size_t d) {
  double a = (double)pos / pow(10000.0, (double)(c - c % 2) / (double)d);
  return c % 2 ? cos(a) : sin(a);
}

/* Largest gap between the generated table and a formula, padding row aside. */
static double gen_error(const struct tp_tensor *t, long pad,
                        double (*ref)(size_t, size_t, size_t)) {
  double worst = 0;
  size_t n = t->shape[0], d = t->shape[1];
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < d; c++) {
      double want = (long)i == pad ? 0 : ref(i, c, d);
      worst = fmax(worst, fabs(tp_tensor_get(t, i * d + c) - want));
    }
  return worst;
}

struct gencase {
  const char *spec;
  size_t n, d;
  long pad;
  double (*ref)(size_t, size_t, size_t);
  double tol; /* float32 arguments near 1024 are off by up to half an ulp */
};

static const struct gencase gencases[] = {
    {"sinusoidal:1026x256,padding_idx=1", 1026, 256, 1, fairseq_ref, 2e-4},
    {"sinusoidal:40x7,layout=fairseq", 40, 7, -1, fairseq_ref, 1e-5},
    {"sinusoidal:512x64,layout=interleaved", 512, 64, -1, interleaved_ref, 1e-6},
    {"sinusoidal:30x5,layout=interleaved,padding_idx=0", 30, 5, 0, interleaved_ref, 1e-6},
};

static const char *const badspecs[] = {
    "sinusoidal:0x4",
    "sinusoidal:10x",
    "sinusoidal:10x8,padding_idx=10",
    "sinusoidal:10x8,foo=1",
    "sinusoidal:10x2",
    "sinusoidal:10x8,padding_idx=-1",
    "sinusoidal:x8",
    "sinusoidal:99999999999999999999x8",
};

static void check_generator(void) {
  for (int k = 0; k < NELEM(gencases); k++) {
    const struct gencase *g = &gencases[k];
    struct tp_tensor *t = NULL;
    int rc = tp_gen_load(g->spec, &t);
    tap_ok(rc == 0 && t->ndim == 2 && t->shape[0] == g->n && t->shape[1] == g->d &&
               gen_error(t, g->pad, g->ref) <= g->tol,
           "tp_gen_load - %s, expect the formula within %g", g->spec, g->tol);
    if (rc == 0)
      tap_diag("worst error %.3g", gen_error(t, g->pad, g->ref));
    tp_tensor_free(t);
  }
  for (int k = 0; k < NELEM(badspecs); k++) {
    struct tp_tensor *t = NULL;
    tap_ok(tp_gen_load(badspecs[k], &t) == TP_EINVAL && !t &&
               strcmp(tp_err_last()->file, badspecs[k]) == 0,
           "tp_gen_load - '%s', expect TP_EINVAL naming the spec", badspecs[k]);
  }
}

/* Read a whole file into memory (test helper); *len gets its size. */
static char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  char *buf;
  long sz;
  if (!fp)
    return NULL;
  fseek(fp, 0, SEEK_END);
  sz = ftell(fp);
  rewind(fp);
  buf = calloc(1, (size_t)sz + 1);
  *len = fread(buf, 1, (size_t)sz, fp);
  fclose(fp);
  return buf;
}

/* The profile at a plot's resolution: every column keeps its first, last, lowest- and
   highest-mean offsets with the column's whole band; few offsets are written as they are. */
static void check_profile_display(void) {
  enum { N = 1000, COLS = 37 };
  static double mean[N], lo[N], hi[N];
  struct tp_profile p = {
      .n = N, .block = 1, .mean = mean, .min = lo, .max = hi, .band = 3, .period = -1};
  struct tp_simmat sm = {.metric = TP_METRIC_COSINE};
  char path[512], *buf = NULL, *line, *save = NULL;
  size_t len, rows = 0, bad = 0, prev = 0, c = 0;
  int first = 1, saw_nan = 0;
  static unsigned char kept[N];
  for (size_t k = 0; k < N; k++) {
    mean[k] = cos(0.05 * (double)k) * exp(-0.002 * (double)k);
    lo[k] = mean[k] - 0.1 - 0.05 * sin(0.3 * (double)k);
    hi[k] = mean[k] + 0.1 + 0.05 * cos(0.7 * (double)k);
  }
  for (size_t k = 500; k < 540; k++) /* a run of undefined offsets spanning whole columns */
    mean[k] = lo[k] = hi[k] = NAN;
  snprintf(path, sizeof path, "%s/profile-display.dat", tap_tmpdir());
  int rc = tp_simwrite_profile_display(&p, &sm, path, NULL, COLS);
  if (rc == 0 && (buf = slurp(path, &len)) != NULL) {
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      unsigned long off;
      double m, a, b;
      if (strncmp(line, "# summary", 9) == 0)
        break;
      if (line[0] == '#')
        continue;
      if (sscanf(line, "%lu %lf %lf %lf", &off, &m, &a, &b) != 4)
        continue;
      rows++;
      if (off < N)
        kept[off] = 1;
      /* which column this offset falls in, and that column's true band */
      while (off >= (size_t)N * (c + 1) / COLS)
        c++;
      size_t ca = (size_t)N * c / COLS, cb = (size_t)N * (c + 1) / COLS;
      double wlo = NAN, whi = NAN;
      for (size_t k = ca; k < cb; k++) {
        if (isfinite(lo[k]) && !(lo[k] >= wlo))
          wlo = lo[k];
        if (isfinite(hi[k]) && !(hi[k] <= whi))
          whi = hi[k];
      }
      if (isnan(wlo))
        saw_nan = isnan(a) && isnan(b);
      else if (fabs(a - wlo) > 1e-6 || fabs(b - whi) > 1e-6 ||
               !(m == m ? fabs(m - mean[off]) < 1e-6 : isnan(mean[off])))
        bad++;
      if (!first && off <= prev)
        bad++;
      first = 0;
      prev = off;
    }
  }
  for (size_t col = 0; col < COLS; col++) { /* each column's extremes of the mean are kept */
    size_t ca = (size_t)N * col / COLS, cb = (size_t)N * (col + 1) / COLS, amin = ca, amax = ca;
    for (size_t k = ca; k < cb; k++) {
      if (isfinite(mean[k]) && (!isfinite(mean[amin]) || mean[k] < mean[amin]))
        amin = k;
      if (isfinite(mean[k]) && (!isfinite(mean[amax]) || mean[k] > mean[amax]))
        amax = k;
    }
    bad += !kept[ca] + !kept[cb - 1] + !kept[amin] + !kept[amax];
  }
  tap_ok(rc == 0 && buf && rows >= COLS && rows <= 4 * COLS && bad == 0 && prev == N - 1,
         "tp_simwrite_profile_display - 1000 offsets in 37 columns, expect <= 4 rows per column "
         "in offset order with each column's band (rows %zu, wrong %zu, last %zu)",
         rows, bad, prev);
  tap_ok(rc == 0 && buf && saw_nan, "tp_simwrite_profile_display - a column of undefined offsets, "
                                    "expect its band written as NaN");
  free(buf), buf = NULL;
  /* every column keeps its lowest and highest mean: the extremes of the whole profile */
  p.n = 200;
  rc = tp_simwrite_profile_display(&p, &sm, path, NULL, 50);
  tap_ok(rc == 0 && (buf = slurp(path, &len)) && !strstr(buf, "columns:") && strstr(buf, "\n199 "),
         "tp_simwrite_profile_display - 200 offsets in 50 columns (4 per column), expect every "
         "offset");
  free(buf);
  unlink(path);
}

/* Non-finite cells are refused with their count and the first one's place, found
   block by block (4096 cells): in the first block, on a block's last cell, on the
   first cell of a later block and in the tail, in float (.npy) and double (text). */
static void check_nonfinite(void) {
  static const struct {
    size_t bad[3], nbad;
    int dbl;
    const char *want;
  } cases[] = {
      {{9000, 12288, 14999},
       3,
       0,
       "has 3 non-finite values (NaN or inf), the first at row 1, column 4000"},
      {{4095}, 1, 0, "has 1 non-finite values (NaN or inf), the first at row 0, column 4095"},
      {{14999}, 1, 0, "has 1 non-finite values (NaN or inf), the first at row 2, column 4999"},
      {{5, 4096, 8191}, 3, 1, "has 3 non-finite values (NaN or inf), the first at row 0, column 5"},
      {{0}, 0, 0, NULL},
  };
  const size_t n = 3, d = 5000;
  float *f = malloc(n * d * sizeof *f);
  double *x = malloc(n * d * sizeof *x);
  char path[512];
  for (int c = 0; c < NELEM(cases); c++) {
    struct tp_posemb *pe = NULL;
    struct tp_rows r = {.n = n,
                        .d = d,
                        .dtype = cases[c].dbl ? TP_F64 : TP_F32,
                        .data = cases[c].dbl ? (void *)x : (void *)f};
    int rc = -1;
    snprintf(path, sizeof path, "%s/nonfinite.%s", tap_tmpdir(), cases[c].dbl ? "txt" : "npy");
    for (size_t i = 0; f && x && i < n * d; i++)
      f[i] = (float)(x[i] = (double)(i % 7) - 3.0);
    for (size_t k = 0; f && x && k < cases[c].nbad; k++) {
      double v = k == 0 ? NAN : k == 1 ? INFINITY : -INFINITY;
      f[cases[c].bad[k]] = (float)v, x[cases[c].bad[k]] = v;
    }
    if (f && x && tp_table_write(&r, path, NULL) == 0)
      rc = tp_posemb_load(path, "", &pe);
    if (cases[c].want)
      tap_ok(rc == TP_ECORRUPT && strstr(tp_err_last()->detail, cases[c].want),
             "tp_posemb_load - %zu non-finite cells in %s, expect '%s'", cases[c].nbad,
             cases[c].dbl ? "text" : ".npy", cases[c].want);
    else
      tap_ok(rc == 0 && pe && pe->rows.n == n && pe->rows.d == d,
             "tp_posemb_load - 3 x 5000 finite .npy, expect it loads");
    tp_posemb_free(pe);
    unlink(path);
  }
  free(f), free(x);
}

static void check_writers(void) {
  static const double three[9] = {1, .5, 0, .5, 1, .9, 0, .9, 1};
  struct tp_simmat *s = matrix_of(3, three);
  struct tp_profile *p = NULL;
  float tab[6] = {1, 2, 3, 4, 5, 6},
        want[4 * 4] = {3, 0, 1, 2, 0, 1, .5, 0, 1, .5, 1, .9, 2, 0, .9, 1};
  struct tp_rows r = {.n = 2, .d = 3, .dtype = TP_F32, .data = tab};
  char bin[512], prof[512], npy[512], *buf = NULL, *db = NULL;
  size_t len = 0;
  snprintf(bin, sizeof bin, "%s/sim.bin", tap_tmpdir());
  snprintf(prof, sizeof prof, "%s/profile.dat", tap_tmpdir());
  snprintf(npy, sizeof npy, "%s/table.npy", tap_tmpdir());
  tap_ok(tp_simwrite_binary(s, bin, NULL) == 0 && (buf = slurp(bin, &len)) && len == sizeof want &&
             memcmp(buf, want, sizeof want) == 0,
         "tp_simwrite_binary - 3x3, expect N, coordinates, then y and values per row");
  free(buf), buf = NULL;
  tp_profile_compute(s, &p);
  tap_ok(tp_simwrite_profile(p, s, prof, NULL) == 0 && (buf = slurp(prof, &len)) &&
             strncmp(buf, "# profile\n", 10) == 0 && strstr(buf, "\n2 0 0 0\n\n\n# summary\n") &&
             strstr(buf, "\n2 0.2 -1 0\n"),
         "tp_simwrite_profile - 3x3, expect named blocks two blank lines apart");
  free(buf), buf = NULL;
  tap_ok(tp_simwrite_datablock(s, 8, &db) == 0 && strcmp(db, "1 0.5 0\n0.5 1 0.9\n0 0.9 1\n") == 0,
         "tp_simwrite_datablock - 3x3, expect three text rows");
  free(db);
  tap_ok(tp_simwrite_datablock(s, 2, &db) == TP_ELIMIT && !db,
         "tp_simwrite_datablock - over the size limit, expect TP_ELIMIT");
  tap_ok(tp_table_write(&r, npy, NULL) == 0 && (buf = slurp(npy, &len)) && len == 128 + 24 &&
             memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0 && strstr(buf + 10, "'shape': (2, 3)") &&
             buf[127] == '\n' && memcmp(buf + 128, tab, 24) == 0,
         "tp_table_write - 2x3 to .npy, expect a v1.0 header and <f4 data");
  free(buf);
  tap_ok(tp_simwrite_binary(s, bin, bin) == TP_EINVAL,
         "tp_simwrite_binary - output is the input, expect TP_EINVAL");
  unlink(bin), unlink(prof), unlink(npy);
  rmdir(tap_tmpdir());
  tp_profile_free(p);
  tp_simmat_free(s);
}

static struct tp_tensor_list *names_list(const char *const *names, int n) {
  struct tp_tensor_list *l = calloc(1, sizeof *l);
  uint64_t shape[2] = {16, 8}, scalar[1] = {1};
  for (int k = 0; k < n; k++)
    tp_tensor_list_add(l, names[k], "float32", strstr(names[k], "_float") ? 1 : 2,
                       strstr(names[k], "_float") ? scalar : shape);
  return l;
}

static void check_pick_key(void) {
  static const char *const fairseq[] = {"encoder.embed_tokens.weight",
                                        "decoder.embed_positions._float_tensor",
                                        "decoder.embed_positions.weights"};
  static const char *const two[] = {"encoder.embed_positions.weight",
                                    "decoder.embed_positions.weight"};
  static const char *const none[] = {"a.weight", "b.weight"};
  struct tp_tensor_list *l = names_list(fairseq, 3);
  const char *key = NULL;
  tap_ok(tp_posemb_pick_key(l, "ckpt.pt", &key) == 0 &&
             strcmp(key, "decoder.embed_positions.weights") == 0,
         "tp_posemb_pick_key - fairseq names, expect decoder.embed_positions.weights");
  tp_tensor_list_free(l);
  l = names_list(two, 2);
  tap_ok(tp_posemb_pick_key(l, "ckpt.pt", &key) == TP_EAMBIGUOUS &&
             strstr(tp_err_last()->detail, "encoder.embed_positions.weight"),
         "tp_posemb_pick_key - two candidates, expect TP_EAMBIGUOUS listing them");
  tp_tensor_list_free(l);
  l = names_list(none, 2);
  tap_ok(tp_posemb_pick_key(l, "ckpt.pt", &key) == TP_ENOKEY &&
             strstr(tp_err_last()->detail, "posemb list ckpt.pt"),
         "tp_posemb_pick_key - no candidate, expect TP_ENOKEY suggesting posemb list");
  tp_tensor_list_free(l);
}

/* ---- deferred interrupts: every long loop stops, frees and says TP_EINTR ---- */

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* A signal from another thread while the pooled path runs; the thread notes when. */
struct raiser {
  pthread_t th;
  double at;
};
static void *raise_later(void *arg) {
  struct raiser *r = arg;
  struct timespec d = {0, 20 * 1000 * 1000};
  nanosleep(&d, NULL);
  r->at = now_ms();
  raise(SIGINT); /* to this thread: handled (the flag set) before raise returns */
  return NULL;
}

/* 1 when dir holds no hidden temporary of an atomic output. */
static int no_temporaries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int clean = 1;
  while (d && (e = readdir(d)))
    clean &= strstr(e->d_name, ".tmp") == NULL;
  if (d)
    closedir(d);
  return clean;
}

enum { INTR_SIM, INTR_POOLED, INTR_POOL, INTR_PROFILE, INTR_BINARY, INTR_TEXT };
static const struct {
  int what;
  const char *name;
} intrcases[] = {
    {INTR_SIM, "tp_sim_compute - full 1500 x 64"},
    {INTR_POOLED, "tp_sim_compute_profiled - pooled 1500 x 64 to 50"},
    {INTR_POOL, "tp_sim_pool - 1500 x 1500 to 50"},
    {INTR_PROFILE, "tp_profile_compute - 1500 x 1500"},
    {INTR_BINARY, "tp_simwrite_binary - 1500 x 1500"},
    {INTR_TEXT, "tp_simwrite_text - 1500 x 1500"},
};

static int intr_call(int what, const struct tp_rows *r, const struct tp_simmat *full,
                     const char *path, struct tp_simmat **s, struct tp_profile **p) {
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE, .pool = what == INTR_POOLED ? 50 : 0};
  switch (what) {
  case INTR_SIM: return tp_sim_compute(r, &o, s);
  case INTR_POOLED: return tp_sim_compute_profiled(r, &o, s, p);
  case INTR_POOL: return tp_sim_pool(full, 50, TP_POOL_MEAN, s);
  case INTR_PROFILE: return tp_profile_compute(full, p);
  case INTR_BINARY: return tp_simwrite_binary(full, path, NULL);
  default: return tp_simwrite_text(full, path, NULL);
  }
}

/* Each case: a SIGINT raised inside tp_intr_enter (the deferred handler only records it)
   makes the call return TP_EINTR with nothing allocated or written; tp_intr_leave says
   SIGINT; the same call without a signal then gives the result of a call made before. */
static void check_interrupt(void) {
  double *x = random_table(1500, 64, 3, 21);
  struct tp_rows r = {.n = 1500, .d = 64, .dtype = TP_F64, .data = x};
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE};
  struct tp_simmat *full = NULL;
  char path[512];
  mkdir(tap_tmpdir(), 0700); /* check_writers removed it */
  snprintf(path, sizeof path, "%s/intr.out", tap_tmpdir());
  tp_sim_compute(&r, &o, &full);
  for (int c = 0; c < NELEM(intrcases); c++) {
    struct tp_simmat *s = NULL, *ref = NULL, *again = NULL;
    struct tp_profile *p = NULL, *pref = NULL, *pagain = NULL;
    int rc, sig, want, same;
    unlink(path);
    want = intr_call(intrcases[c].what, &r, full, path, &ref, &pref);
    unlink(path);
    tp_intr_enter();
    raise(SIGINT);
    rc = intr_call(intrcases[c].what, &r, full, path, &s, &p);
    sig = tp_intr_leave();
    tap_ok(rc == TP_EINTR && !s && !p && access(path, F_OK) != 0 && no_temporaries(tap_tmpdir()) &&
               sig == SIGINT && !strcmp(tp_err_last()->detail, "interrupted"),
           "%s, SIGINT pending, expect TP_EINTR, nothing returned or written, leave gives SIGINT",
           intrcases[c].name);
    rc = intr_call(intrcases[c].what, &r, full, path, &again, &pagain);
    same = rc == 0 && want == 0;
    if (same && ref)
      same = again && again->n == ref->n &&
             !memcmp(again->data, ref->data, ref->n * ref->n * sizeof(float));
    if (same && pref)
      same = pagain && !memcmp(pagain->mean, pref->mean, pref->n * sizeof(double));
    tap_ok(same, "%s, no signal after one, expect the same result bit for bit", intrcases[c].name);
    tp_simmat_free(s), tp_simmat_free(ref), tp_simmat_free(again);
    tp_profile_free(p), tp_profile_free(pref), tp_profile_free(pagain);
  }
  unlink(path);
  rmdir(tap_tmpdir());
  free(x);
  tp_simmat_free(full);

  /* A signal 20 ms into a pooled run of a 6000 x 256 table (about a second of work):
     the tile loop notices within one tile. */
  double *big = random_table(6000, 256, -1, 22);
  struct tp_rows rb = {.n = 6000, .d = 256, .dtype = TP_F64, .data = big};
  struct tp_sim_opts po = {.metric = TP_METRIC_COSINE, .pool = 100, .dbl = 1};
  struct tp_simmat *s = NULL;
  struct tp_profile *p = NULL;
  struct raiser ra = {.at = 0};
  int rc, started;
  tp_intr_enter();
  started = pthread_create(&ra.th, NULL, raise_later, &ra) == 0;
  rc = tp_sim_compute_profiled(&rb, &po, &s, &p);
  double back = now_ms();
  if (started)
    pthread_join(ra.th, NULL);
  tp_intr_leave();
  tap_ok(
      started && (rc == TP_EINTR ? !s && !p : rc == 0),
      "tp_sim_compute_profiled - SIGINT from a thread 20 ms in, expect TP_EINTR (or done first)");
  tap_diag("raise to return: %.1f ms (%s)", rc == TP_EINTR ? back - ra.at : -1.0,
           rc == TP_EINTR ? "interrupted" : "finished before the signal");
  tp_simmat_free(s), tp_profile_free(p);
  free(big);
  /* Outside enter/leave nothing is pending: a call runs to the end. */
  tap_ok(tp_intr_pending() == 0 && tp_intr_check() == 0,
         "tp_intr_check - after leave, expect nothing pending");
}

/* The course case end to end: generator, cosine, profile, summary sentences. */
static void check_course_case(void) {
  struct tp_posemb *pe = NULL;
  struct tp_simmat *s = NULL;
  struct tp_profile *p = NULL;
  struct tp_posemb_facts f;
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE};
  char *text = NULL;
  int ok = tp_posemb_load("sinusoidal:1026x256,padding_idx=1", "", &pe) == 0 &&
           tp_sim_compute(&pe->rows, &o, &s) == 0 && tp_profile_compute(s, &p) == 0;
  if (ok)
    tp_posemb_facts(pe, s, p, &f);
  tap_ok(ok && f.nzero == 1 && f.zero_rows[0] == 1 && f.band > 1 && f.toeplitz < 0.1 &&
             f.self_max == f.self_rows && f.self_rows == 1025,
         "tp_posemb_facts - sinusoidal:1026x256,padding_idx=1, expect padding row 1, a band, "
         "Toeplitz");
  tap_ok(ok && tp_posemb_summary(pe, &f, &text) == 0 && strstr(text, "Row 1 is all zeros") &&
             strstr(text, "band half-width"),
         "tp_posemb_summary - course case, expect the padding row and the band named");
  for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
    tap_diag("%s", line);
  free(text);
  tp_profile_free(p);
  tp_simmat_free(s);
  tp_posemb_free(pe);
}

int main(void) {
  check_similarity();
  check_pool_from_full();
  check_sim_edges();
  check_budget();
  check_f32_input();
  check_range();
  check_profile();
  check_profile_rows();
  check_profile_streamed();
  check_generator();
  check_profile_display();
  check_nonfinite();
  check_writers();
  check_pick_key();
  check_interrupt();
  check_course_case();
  return tap_done();
}
