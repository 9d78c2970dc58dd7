/* Statistics, clipping and display decimation against brute force. */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "tap.h"
#include "tp_decimate.h"
#include "tp_error.h"
#include "tp_gnwrite.h"
#include "tp_signal.h"
#include "tp_spikes.h"
#include "tp_stats.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* numpy's default (linear) quantile of sorted x[0..n). */
static double slow_quantile(const double *x, size_t n, double q) {
  double h = (double)(n - 1) * q, f = floor(h);
  size_t i = (size_t)f;
  return i + 1 < n ? x[i] + (h - f) * (x[i + 1] - x[i]) : x[i];
}

/* ---- statistics against a naive two-pass reference with NaN/inf mixed in ---- */
static void check_brute(gsl_rng *r) {
  enum { N = 5001 };
  static double step[N], v[N], fin[N];
  size_t m = 0, clipped = 0;
  double sum = 0, ss = 0, coef = 0, mx = -INFINITY, mxs = 0, want[4], got[4];
  struct tp_stats st;
  for (size_t i = 0; i < N; i++) {
    step[i] = 10.0 * (double)i;
    v[i] = i % 97 == 5 ? (i % 2 ? NAN : INFINITY) : gsl_ran_lognormal(r, 0.5, 0.6);
    if (isfinite(v[i])) {
      fin[m++] = v[i];
      sum += v[i];
      clipped += v[i] > 2.0;
      coef += v[i] > 2.0 ? 2.0 / v[i] : 1.0;
      if (v[i] > mx)
        mx = v[i], mxs = step[i];
    }
  }
  for (size_t i = 0; i < m; i++)
    ss += (fin[i] - sum / (double)m) * (fin[i] - sum / (double)m);
  qsort(fin, m, sizeof fin[0], cmp_double);
  tap_ok(tp_stats_compute(tp_steps_array(step), v, N, 2.0, &st) == 0 && st.count == m &&
             st.nonfinite == N - m,
         "tp_stats_compute - 5001 lognormal points with NaN/inf, expect counts %zu + %zu", m,
         (size_t)N - m);
  tap_near(st.mean, sum / (double)m, 1e-12, "tp_stats_compute - mean, expect two-pass mean");
  tap_near(st.sd, sqrt(ss / (double)(m - 1)), 1e-12, "tp_stats_compute - sd, expect sample sd");
  tap_ok(st.max == mx && st.max_step == mxs && st.min == fin[0],
         "tp_stats_compute - min/max with step, expect brute-force extremes");
  want[0] = slow_quantile(fin, m, 0.5), want[1] = slow_quantile(fin, m, 0.9);
  want[2] = slow_quantile(fin, m, 0.99), want[3] = slow_quantile(fin, m, 0.999);
  got[0] = st.median, got[1] = st.p90, got[2] = st.p99, got[3] = st.p999;
  for (int q = 0; q < 4; q++)
    tap_near(got[q], want[q], 1e-12,
             "tp_stats_compute - quantile %d of 4, expect numpy's "
             "linear quantile",
             q + 1);
  tap_near(st.clip_fraction, (double)clipped / (double)m, 1e-15,
           "tp_stats_compute - clip fraction at max_norm 2, expect fraction of norms > 2");
  tap_near(st.clip_coef_mean, coef / (double)m, 1e-12,
           "tp_stats_compute - mean clip coefficient, expect mean of min(1, 2/norm)");
}

/* ---- edge cases: each a documented result or a clear error ---- */
struct edge {
  const char *name;
  size_t n;
  double v[4];
  double max_norm;
  int rc;
  size_t count;
  double mean, sd; /* NaN = expect NaN */
};
static const struct edge edges[] = {
    {"empty", 0, {0}, NAN, TP_EEMPTY, 0, NAN, NAN},
    {"one point", 1, {3}, NAN, 0, 1, 3, 0},
    {"constant", 4, {2, 2, 2, 2}, NAN, 0, 4, 2, 0},
    {"all NaN/inf", 3, {NAN, INFINITY, -INFINITY}, NAN, 0, 0, NAN, NAN},
    {"negative values", 4, {-1, -3, NAN, -2}, NAN, 0, 3, -2, 1},
    {"bad max_norm", 2, {1, 2}, -1, TP_EINVAL, 0, NAN, NAN},
};
#define NEDGE (sizeof edges / sizeof edges[0])

static void check_edges(void) {
  static const double step[4] = {0, 1, 2, 3};
  for (size_t c = 0; c < NEDGE; c++) {
    const struct edge *e = &edges[c];
    struct tp_stats st;
    int rc = tp_stats_compute(tp_steps_array(step), e->v, e->n, e->max_norm, &st);
    int ok = rc == e->rc;
    if (ok && rc == 0)
      ok = st.count == e->count && (isnan(e->mean) ? isnan(st.mean) : st.mean == e->mean) &&
           (isnan(e->sd) ? isnan(st.sd) : fabs(st.sd - e->sd) < 1e-12);
    tap_ok(ok, "tp_stats_compute - %s, expect %s count %zu mean %g sd %g", e->name,
           tp_errname(e->rc), e->count, e->mean, e->sd);
  }
}

/* Few points ask the same order statistic several times and out of order (m = 3 asks
 * ranks 1, 2, 1, 2, ...): every count up to 40, values with ties, against numpy's rule. */
static void check_small_counts(gsl_rng *r) {
  static const double step[41] = {0};
  size_t bad = 0;
  for (size_t m = 1; m <= 40; m++) {
    double v[41], fin[41], want[4], got[4];
    size_t k = 0;
    struct tp_stats st;
    for (size_t i = 0; i <= m; i++) {
      v[i] = i == m / 2 ? NAN : -5 + floor(gsl_rng_uniform(r) * 7); /* ties and negatives */
      if (isfinite(v[i]))
        fin[k++] = v[i];
    }
    qsort(fin, k, sizeof fin[0], cmp_double);
    if (tp_stats_compute(tp_steps_array(step), v, m + 1, NAN, &st) != 0 || st.count != k) {
      bad++;
      continue;
    }
    want[0] = slow_quantile(fin, k, 0.5), want[1] = slow_quantile(fin, k, 0.9);
    want[2] = slow_quantile(fin, k, 0.99), want[3] = slow_quantile(fin, k, 0.999);
    got[0] = st.median, got[1] = st.p90, got[2] = st.p99, got[3] = st.p999;
    for (int q = 0; q < 4; q++)
      if (!(fabs(got[q] - want[q]) <= 1e-12 * (1 + fabs(want[q]))))
        bad++;
  }
  tap_ok(bad == 0,
         "tp_stats_compute - 1 to 40 finite points with ties, expect numpy's four "
         "quantiles (%zu differ)",
         bad);
}

static void check_clip(void) {
  double v[4] = {0.5, 3, NAN, 1}, out[4];
  tp_stats_clip(v, 4, 1.0, out);
  tap_ok(out[0] == 0.5 && out[1] == 1 && isnan(out[2]) && out[3] == 1,
         "tp_stats_clip - max_norm 1, expect min(norm, 1) and NaN kept");
  tap_ok(tp_stats_clip(v, 4, 0, out) == TP_EINVAL, "tp_stats_clip - max_norm 0, expect TP_EINVAL");
}

/* ---- decimation keeps each column's min and max and every flagged point ---- */
static void check_decimate(gsl_rng *r) {
  enum { N = 200000, COLS = 500 };
  double *step = malloc(N * sizeof *step), *v = malloc(N * sizeof *v);
  double cmin[COLS], cmax[COLS], kmin[COLS], kmax[COLS];
  size_t *idx = NULL, m = 0, flagged = 0, kept_flagged = 0;
  struct tp_spikes *sp = NULL;
  struct tp_spike_opts o;
  for (size_t c = 0; c < COLS; c++)
    cmin[c] = kmin[c] = INFINITY, cmax[c] = kmax[c] = -INFINITY;
  for (size_t i = 0; i < N; i++) {
    step[i] = (double)i;
    v[i] = (1 + (double)i / N) * (1 + 0.1 * gsl_ran_gaussian(r, 1.0));
    if (i % 9973 == 17)
      v[i] *= 20;
    if (i % 5003 == 1)
      v[i] = NAN;
  }
  tp_spike_opts_init(&o);
  tp_spikes_detect(tp_steps_array(step), v, N, &o, &sp);
  tp_decimate(tp_steps_array(step), v, N, sp, COLS, &idx, &m);
  for (size_t i = 0; i < N; i++) {
    size_t c = (size_t)(step[i] / ((double)(N - 1) / COLS));
    c = c >= COLS ? COLS - 1 : c;
    if (isfinite(v[i]))
      cmin[c] = fmin(cmin[c], v[i]), cmax[c] = fmax(cmax[c], v[i]);
    flagged += (size_t)tp_spikes_flagged(sp, v, i);
  }
  for (size_t k = 0; k < m; k++) {
    size_t i = idx[k], c = (size_t)(step[i] / ((double)(N - 1) / COLS));
    c = c >= COLS ? COLS - 1 : c;
    kmin[c] = fmin(kmin[c], v[i]), kmax[c] = fmax(kmax[c], v[i]);
    kept_flagged += (size_t)tp_spikes_flagged(sp, v, i);
  }
  tap_ok(m <= 4 * COLS + flagged && m > COLS,
         "tp_decimate - 200000 points on 500 columns, expect <= 4 per column + spikes (%zu)", m);
  tap_ok(!memcmp(cmin, kmin, sizeof cmin) && !memcmp(cmax, kmax, sizeof cmax),
         "tp_decimate - per-column min and max, expect the same as all points");
  tap_ok(flagged > 0 && kept_flagged == flagged,
         "tp_decimate - flagged points, expect all %zu kept", flagged);
  free(idx), free(step), free(v);
  tp_spikes_free(sp);
}

/* 1 when the file at path holds byte c or a line starting with prefix. */
static int file_has(const char *path, int c, const char *prefix) {
  FILE *fp = fopen(path, "r");
  char line[512];
  int hit = 0, bol = 1;
  if (!fp)
    return -1;
  while (fgets(line, sizeof line, fp)) {
    hit |= strchr(line, c) != NULL || (bol && !strncmp(line, prefix, strlen(prefix)));
    bol = strchr(line, '\n') != NULL;
  }
  fclose(fp);
  return hit;
}

/* A deferred SIGINT stops the statistics passes and the data-file writer: TP_EINTR,
   nothing written, the same results once no signal is pending. Names from the log are
   escaped in the file, so a newline in the key cannot start a data row. */
static void check_interrupt(gsl_rng *r) {
  const size_t n = 3000000;
  double *v = malloc(n * sizeof *v);
  struct tp_stats ref, st, again;
  struct tp_series s = {
      .n = n, .step0 = 0, .stride = 1, .has_step = 1, .format = "plain", .key = "a\nb\033[31m"};
  struct tp_gn_data d = {.source = "x\nINJECTED\033[0m.log", .s = &s, .st = &ref};
  char path[512];
  int rc, sig, rc2, wrc, wsig;
  for (size_t i = 0; i < n; i++)
    v[i] = i % 1000 == 7 ? NAN : 1 + fabs(gsl_ran_gaussian(r, 1.0));
  s.value = v;
  snprintf(path, sizeof path, "%s/intr.dat", tap_tmpdir());
  tp_stats_compute(tp_series_steps(&s), v, n, 2.0, &ref);
  tp_intr_enter();
  raise(SIGINT);
  rc = tp_stats_compute(tp_series_steps(&s), v, n, 2.0, &st);
  wrc = tp_gn_write_file(path, &d, NULL);
  sig = tp_intr_leave();
  rc2 = tp_stats_compute(tp_series_steps(&s), v, n, 2.0, &again);
  tap_ok(rc == TP_EINTR && sig == SIGINT,
         "tp_stats_compute - 3e6 points, SIGINT pending, expect TP_EINTR");
  tap_ok(
      rc2 == 0 && !memcmp(&again, &ref, sizeof ref),
      "tp_stats_compute - 3e6 points, no signal after one, expect the same statistics bit for bit");
  tap_ok(wrc == TP_EINTR && access(path, F_OK) != 0,
         "tp_gn_write_file - 3e6 points, SIGINT pending, expect TP_EINTR and no file");
  s.n = 1000, d.st = NULL;
  tp_intr_enter();
  wrc = tp_gn_write_file(path, &d, NULL);
  wsig = tp_intr_leave();
  tap_ok(wrc == 0 && wsig == 0 && file_has(path, '\033', "b") == 0 &&
             file_has(path, '\033', "INJECTED") == 0,
         "tp_gn_write_file - key 'a\\nb\\e[31m' from 'x\\nINJECTED\\e[0m.log', expect no injected "
         "row and no raw ESC");
  unlink(path);
  rmdir(tap_tmpdir());
  free(v);
}

int main(void) {
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_set_error_handler_off();
  gsl_rng_set(r, 7);
  check_brute(r);
  check_edges();
  check_small_counts(r);
  check_clip();
  check_decimate(r);
  check_interrupt(r);
  gsl_rng_free(r);
  return tap_done();
}
