/* Spike detection: one table of detectors driven by one loop, then episodes. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_movstat.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_signal.h"
#include "tp_spikes.h"
#include "tp_text.h"

#define MAD_TO_SD 1.482602218505602 /* 1 / Phi^-1(3/4): MAD of a normal = sd */
#define DEFAULT_WINDOW 101
#define DEFAULT_MIN_RATIO 2.0
#define DEFAULT_ALPHA 0.02
#define SCALE_SAMPLE 65536 /* points used for the series scale that ranks episodes */

/* Fill base[0..m) and upper[0..m) for the finite values x[0..m). */
typedef int (*bound_fn)(const double *x, size_t m, const struct tp_spike_opts *o,
                        double *base, double *upper);

struct detector {
  const char *name;
  double threshold; /* default T */
  bound_fn bound;
};

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

static int movmed_chunked(const double *x, const double *med, size_t n, size_t h, int causal,
                          double mul, double *y) {
  struct movjob j = {.x = x, .med = med, .y = y, .mul = mul, .n = n, .h = h,
                     .left = causal ? 2 * h : h, .right = causal ? 0 : h, .causal = causal};
  pthread_t th[MOVMED_MAXT];
  int started[MOVMED_MAXT] = {0};
  size_t chunks = (n + MOVMED_CHUNK - 1) / MOVMED_CHUNK;
  size_t t = (size_t)tp_threads(MOVMED_MAXT);
  if (t > chunks)
    t = chunks;
  for (size_t k = 1; k < t; k++)
    started[k] = pthread_create(&th[k], NULL, movmed_run, &j) == 0;
  movmed_run(&j); /* threads that could not start leave their chunks to this one */
  for (size_t k = 1; k < t; k++)
    if (started[k])
      pthread_join(th[k], NULL);
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

int tp_spikes_movscale(const double *x, const double *med, size_t n, size_t w,
                       int causal, double *y) {
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

/* The smallest bound that is still R times the baseline (sign-safe). */
static double ratio_floor(double base, double r) { return base + (r - 1.0) * fabs(base); }

static int bound_mad(const double *x, size_t m, const struct tp_spike_opts *o,
                     double *base, double *upper) {
  int rc;
  if ((rc = tp_spikes_movmed(x, m, o->window, o->causal, base)) < 0 ||
      (rc = tp_spikes_movscale(x, base, m, o->window, o->causal, upper)) < 0)
    return rc;
  for (size_t i = 0; i < m; i++)
    upper[i] = fmax(base[i] + o->threshold * upper[i], ratio_floor(base[i], o->min_ratio));
  return 0;
}

static int bound_ratio(const double *x, size_t m, const struct tp_spike_opts *o,
                       double *base, double *upper) {
  int rc;
  if ((rc = tp_spikes_movmed(x, m, o->window, o->causal, base)) < 0)
    return rc;
  for (size_t i = 0; i < m; i++)
    upper[i] = ratio_floor(base[i], o->threshold);
  return 0;
}

static int bound_threshold(const double *x, size_t m, const struct tp_spike_opts *o,
                           double *base, double *upper) {
  int rc;
  if ((rc = tp_spikes_movmed(x, m, o->window, o->causal, base)) < 0)
    return rc;
  for (size_t i = 0; i < m; i++)
    upper[i] = o->threshold;
  return 0;
}

/* ZClip-style EMA z-score; a flagged value is fed back clipped to its bound. */
static int bound_ewma(const double *x, size_t m, const struct tp_spike_opts *o,
                      double *base, double *upper) {
  double a = o->alpha, mean = m ? x[0] : 0, var = 0;
  size_t warm = o->window / 4 > 5 ? o->window / 4 : 5;
  for (size_t i = 0; i < m; i++) {
    double v = x[i], d;
    base[i] = mean;
    if (i < warm) { /* Welford running mean and variance */
      upper[i] = NAN;
      d = v - mean;
      mean += d / (double)(i + 1);
      var += (d * (v - mean) - var) / (double)(i + 1);
      continue;
    }
    upper[i] = fmax(mean + o->threshold * sqrt(var), ratio_floor(mean, o->min_ratio));
    if (v > upper[i])
      v = upper[i];
    d = v - mean;
    mean += a * d;
    var = (1.0 - a) * (var + a * d * d);
  }
  return 0;
}

static const struct detector detectors[] = {
    {.name = "mad", .threshold = 8.0, .bound = bound_mad},
    {.name = "ewma", .threshold = 8.0, .bound = bound_ewma},
    {.name = "ratio", .threshold = 3.0, .bound = bound_ratio},
    {.name = "threshold", .threshold = NAN, .bound = bound_threshold},
};
#define NDETECTORS (sizeof detectors / sizeof detectors[0])

const char *tp_spike_methods(void) { return "mad|ewma|ratio|threshold"; }

static const struct detector *find_detector(const char *name) {
  for (size_t i = 0; i < NDETECTORS; i++)
    if (strcmp(detectors[i].name, name) == 0)
      return &detectors[i];
  return NULL;
}

void tp_spike_opts_init(struct tp_spike_opts *o) {
  memset(o, 0, sizeof *o);
  strcpy(o->method, "mad");
  o->threshold = o->min_ratio = o->alpha = o->max_norm = NAN;
}

/* A window wider than this is a typo, not a plan: it would only ever see the whole
   series, and 2^64 - 1 would overflow the halo arithmetic. */
#define WINDOW_MAX 999999999
#define TOP_MAX 999999999

/* A whole decimal number, all of v, no sign: 0..max. */
static int parse_size(const char *v, size_t max, size_t *out) {
  char *end;
  unsigned long long u;
  if (*v < '0' || *v > '9')
    return -1;
  errno = 0;
  u = strtoull(v, &end, 10);
  if (errno || *end || u > max)
    return -1;
  *out = (size_t)u;
  return 0;
}

/* A finite decimal number, all of v (no inf, nan, hex or out-of-range value). */
static int parse_number(const char *v, double *out) {
  char *end;
  double x;
  if (!*v || strpbrk(v, "xXiInN"))
    return -1;
  errno = 0;
  x = strtod(v, &end);
  if (*end || errno || !isfinite(x))
    return -1;
  *out = x;
  return 0;
}

/* What each key accepts, for the message that refuses a value. */
static const struct {
  const char *key, *rule;
} option_rules[] = {
    {"method", "a detector (methods: mad|ewma|ratio|threshold)"},
    {"window", "an odd whole number from 3 to 999999999"},
    {"top", "a whole number from 0 (all) to 999999999"},
    {"causal", "0 or 1"},
    {"threshold", "a finite number > 0 (> 1 for method ratio)"},
    {"z", "a finite number > 0"},
    {"k", "a finite number > 1"},
    {"min_ratio", "a finite number >= 1"},
    {"alpha", "a number with 0 < alpha < 1"},
    {"max_norm", "a finite number > 0"},
};

static const char *option_rule(const char *key) {
  for (size_t i = 0; i < sizeof option_rules / sizeof *option_rules; i++)
    if (!strcmp(option_rules[i].key, key))
      return option_rules[i].rule;
  return NULL;
}

/* Apply one key=value; -1 for a bad value, -2 for an unknown key. */
static int apply_option(struct tp_spike_opts *o, const char *k, const char *v) {
  size_t z;
  double x;
  if (!strcmp(k, "method")) {
    if (!find_detector(v))
      return -1;
    snprintf(o->method, sizeof o->method, "%s", v);
    return 0;
  }
  if (!strcmp(k, "window"))
    return parse_size(v, WINDOW_MAX, &z) < 0 || z < 3 || z % 2 == 0 ? -1 : (o->window = z, 0);
  if (!strcmp(k, "top"))
    return parse_size(v, TOP_MAX, &o->top);
  if (!strcmp(k, "causal"))
    return parse_size(v, 1, &z) < 0 ? -1 : (o->causal = (int)z, 0);
  if (!option_rule(k))
    return -2;
  if (parse_number(v, &x) < 0)
    return -1;
  if (!strcmp(k, "threshold") || !strcmp(k, "z") || !strcmp(k, "k"))
    return x > (!strcmp(k, "k") ? 1 : 0) ? (o->threshold = x, 0) : -1;
  if (!strcmp(k, "min_ratio"))
    return x >= 1 ? (o->min_ratio = x, 0) : -1;
  if (!strcmp(k, "alpha"))
    return x > 0 && x < 1 ? (o->alpha = x, 0) : -1;
  return x > 0 ? (o->max_norm = x, 0) : -1; /* max_norm */
}

/* The rules between options and on values set in the struct directly (NaN and window 0
   are "default"); names the broken one. */
static int check_opts(const struct tp_spike_opts *o) {
  if (o->window != 0 && (o->window < 3 || o->window % 2 == 0 || o->window > WINDOW_MAX))
    return tp_err(TP_EINVAL, NULL, -1,
                  "window must be an odd number from 3 to %d, got %zu", WINDOW_MAX, o->window);
  if (!isnan(o->threshold) && !(isfinite(o->threshold) && o->threshold > 0))
    return tp_err(TP_EINVAL, NULL, -1, "threshold must be a finite number > 0, got %g",
                  o->threshold);
  if (!strcmp(o->method, "ratio") && !isnan(o->threshold) && !(o->threshold > 1))
    return tp_err(TP_EINVAL, NULL, -1,
                  "method ratio needs threshold > 1 (a multiple of the moving median), got %g",
                  o->threshold);
  if (!isnan(o->min_ratio) && !(isfinite(o->min_ratio) && o->min_ratio >= 1))
    return tp_err(TP_EINVAL, NULL, -1, "min_ratio must be a finite number >= 1, got %g",
                  o->min_ratio);
  if (!isnan(o->alpha) && !(o->alpha > 0 && o->alpha < 1))
    return tp_err(TP_EINVAL, NULL, -1, "alpha must be a number with 0 < alpha < 1, got %g",
                  o->alpha);
  if (!isnan(o->max_norm) && !(isfinite(o->max_norm) && o->max_norm > 0))
    return tp_err(TP_EINVAL, NULL, -1, "max_norm must be a finite number > 0, got %g",
                  o->max_norm);
  return 0;
}

int tp_spike_opts_parse(struct tp_spike_opts *o, const char *text) {
  char buf[1024], *save = NULL, shown[96], key[64];
  if (!text)
    return 0;
  if (strlen(text) >= sizeof buf)
    return tp_err(TP_EINVAL, NULL, -1, "spike options longer than %zu characters",
                  sizeof buf - 1);
  strcpy(buf, text);
  for (char *t = strtok_r(buf, " \t,;", &save); t; t = strtok_r(NULL, " \t,;", &save)) {
    char *eq = strchr(t, '=');
    int rc;
    if (!eq)
      return tp_err(TP_EINVAL, NULL, -1, "spike option '%s' is not key=value",
                    tp_text_escape_buf(t, shown, sizeof shown));
    *eq = '\0';
    rc = apply_option(o, t, eq + 1);
    if (rc == -2)
      return tp_err(TP_EINVAL, NULL, -1,
                    "unknown spike option '%s' (keys: method window threshold min_ratio "
                    "alpha max_norm top causal)", tp_text_escape_buf(t, shown, sizeof shown));
    if (rc < 0)
      return tp_err(TP_EINVAL, NULL, -1, "bad value '%s' for spike option '%s': expected %s",
                    tp_text_escape_buf(eq + 1, shown, sizeof shown),
                    tp_text_escape_buf(t, key, sizeof key), option_rule(t));
  }
  return check_opts(o);
}

/* Check the options and fill in the method's defaults; names the bad one. */
static int resolve(const struct tp_spike_opts *in, struct tp_spike_opts *o,
                   const struct detector **det) {
  int rc;
  *o = *in;
  if (!(*det = find_detector(o->method)))
    return tp_err(TP_EINVAL, NULL, -1, "unknown spike method '%s' (methods: %s)", o->method,
                  tp_spike_methods());
  if ((rc = check_opts(o)) < 0)
    return rc;
  if (o->window == 0)
    o->window = DEFAULT_WINDOW;
  if (isnan(o->min_ratio))
    o->min_ratio = DEFAULT_MIN_RATIO;
  if (isnan(o->alpha))
    o->alpha = DEFAULT_ALPHA;
  if (isnan(o->threshold))
    o->threshold = isnan((*det)->threshold) ? o->max_norm : (*det)->threshold;
  if (isnan(o->threshold))
    return tp_err(TP_EINVAL, NULL, -1,
                  "method 'threshold' needs threshold=T or max_norm=X (none given)");
  return 0;
}

/* Allocate n doubles after checking the size against the limits. */
static double *alloc_doubles(size_t n, const char *what) {
  uint64_t bytes;
  double *p;
  if (tp_size_mul(n ? n : 1, sizeof(double), &bytes, NULL) < 0 ||
      tp_size_check(bytes, NULL, what) < 0)
    return NULL;
  if (!(p = tp_big_alloc(bytes)))
    tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu values for %s", n, what);
  return p;
}

/* 1.4826 x median |x - base| over an even sample of at most SCALE_SAMPLE
 * points: the one noise width that puts every episode's score on one scale. */
static double series_scale(const double *x, const double *base, size_t m) {
  static const size_t cap = SCALE_SAMPLE;
  size_t stride = m / cap + 1, k = 0;
  double *r = malloc((m < cap ? m : cap) * sizeof(double) + sizeof(double)), s;
  if (!r || m == 0) {
    free(r);
    return 1.0;
  }
  for (size_t i = 0; i < m; i += stride)
    r[k++] = fabs(x[i] - base[i]);
  s = MAD_TO_SD * gsl_stats_median(r, 1, k);
  free(r);
  return s > 0 && isfinite(s) ? s : 1.0; /* a constant series: score = raw excess */
}

/* Move the m compressed finite results back to their places among n points. */
static void expand(const double *value, size_t n, size_t m, double *a) {
  size_t c = m;
  for (size_t i = n; i-- > 0;)
    a[i] = isfinite(value[i]) && c > 0 ? a[--c] : NAN;
}

int tp_spikes_flagged(const struct tp_spikes *sp, const double *value, size_t i) {
  return i < sp->n && isfinite(value[i]) && value[i] > sp->upper[i];
}

/* Walk the flagged points; consecutive ones (skipping non-finite points) make
 * one episode.  With ep NULL only counts. */
static size_t collect(const struct tp_spikes *sp, struct tp_steps step, const double *value,
                      struct tp_episode *ep) {
  size_t k = 0, n = sp->n;
  for (size_t i = 0; i < n; i++) {
    struct tp_episode e;
    if (!tp_spikes_flagged(sp, value, i))
      continue;
    e.i_start = e.i_end = e.i_peak = i;
    for (size_t j = i + 1; j < n; j++) {
      if (!isfinite(value[j]))
        continue;
      if (!tp_spikes_flagged(sp, value, j))
        break;
      e.i_end = j;
      if (value[j] > value[e.i_peak])
        e.i_peak = j;
    }
    i = e.i_end;
    if (ep) {
      e.start = tp_step_at(step, e.i_start);
      e.end = tp_step_at(step, e.i_end);
      e.peak_step = tp_step_at(step, e.i_peak);
      e.peak = value[e.i_peak];
      e.baseline = sp->baseline[e.i_peak];
      e.ratio = e.baseline > 0 ? e.peak / e.baseline : NAN;
      e.score = (e.peak - e.baseline) / sp->scale;
      ep[k] = e;
    }
    k++;
  }
  return k;
}

/* Most severe first; equal scores keep the earlier episode first. */
static int by_severity(const void *pa, const void *pb) {
  const struct tp_episode *a = pa, *b = pb;
  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  return a->i_start < b->i_start ? -1 : a->i_start > b->i_start;
}

/* Find, rank and trim the episodes. */
static int episodes(struct tp_spikes *sp, struct tp_steps step, const double *value) {
  size_t k = collect(sp, step, value, NULL);
  sp->n_found = k;
  for (size_t i = 0; i < sp->n; i++)
    sp->n_flagged += (size_t)tp_spikes_flagged(sp, value, i);
  if (k == 0)
    return 0;
  if (!(sp->ep = calloc(k, sizeof *sp->ep)))
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu episodes", k);
  collect(sp, step, value, sp->ep);
  qsort(sp->ep, k, sizeof *sp->ep, by_severity);
  sp->n_ep = sp->opts.top && sp->opts.top < k ? sp->opts.top : k;
  return 0;
}

/* The finite values: value itself when all are finite, else a compact copy. */
static int finite_values(const double *value, size_t n, const double **x, double **own,
                         size_t *m) {
  size_t k = 0;
  *own = NULL;
  for (size_t i = 0; i < n; i++)
    k += isfinite(value[i]) != 0;
  *m = k;
  *x = value;
  if (k == n)
    return 0;
  if (!(*own = alloc_doubles(k, "finite values")))
    return tp_err_last()->code;
  for (size_t i = 0, j = 0; i < n; i++)
    if (isfinite(value[i]))
      (*own)[j++] = value[i];
  *x = *own;
  return 0;
}

int tp_spikes_detect(struct tp_steps step, const double *value, size_t n,
                     const struct tp_spike_opts *o, struct tp_spikes **out) {
  const struct detector *det;
  struct tp_spikes *sp;
  const double *x;
  double *own = NULL;
  size_t m;
  int rc;
  *out = NULL;
  if (n == 0)
    return tp_err(TP_EEMPTY, NULL, -1, "the series has no points");
  if (!(sp = calloc(1, sizeof *sp)))
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate a detection result");
  sp->n = n;
  if ((rc = resolve(o, &sp->opts, &det)) < 0 ||
      !(sp->baseline = alloc_doubles(n, "baseline")) ||
      !(sp->upper = alloc_doubles(n, "spike bound")) ||
      (rc = finite_values(value, n, &x, &own, &m)) < 0)
    goto fail;
  /* Every detector is one pass or the chunked moving median, which stops by itself. */
  if ((rc = det->bound(x, m, &sp->opts, sp->baseline, sp->upper)) < 0 ||
      (rc = tp_intr_check()) < 0)
    goto fail;
  sp->scale = series_scale(x, sp->baseline, m);
  free(own);
  own = NULL;
  if (m < n) {
    expand(value, n, m, sp->baseline);
    expand(value, n, m, sp->upper);
  }
  if ((rc = episodes(sp, step, value)) < 0)
    goto fail;
  *out = sp;
  return 0;
fail:
  if (rc == 0)
    rc = tp_err_last()->code;
  free(own);
  tp_spikes_free(sp);
  return rc;
}

void tp_spikes_free(struct tp_spikes *sp) {
  if (!sp)
    return;
  free(sp->baseline);
  free(sp->upper);
  free(sp->ep);
  free(sp);
}
