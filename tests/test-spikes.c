/* Spike detectors: the fast moving median/scale against brute force, the
 * options parser, edge cases, and recall/precision on injected spikes. */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "tap.h"
#include "tp_error.h"
#include "tp_movmed.h"
#include "tp_signal.h"
#include "tp_spikes.h"
#include "tp_text.h"

/* ---- brute-force references ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of x[lo..hi) by sorting a copy. */
static double slow_median(const double *x, size_t lo, size_t hi) {
  size_t m = hi - lo;
  double *c = malloc(m * sizeof *c), r;
  memcpy(c, x + lo, m * sizeof *c);
  qsort(c, m, sizeof *c, cmp_double);
  r = m % 2 ? c[m / 2] : 0.5 * (c[m / 2 - 1] + c[m / 2]);
  free(c);
  return r;
}

/* The truncated window of point i. */
static void window_of(size_t i, size_t n, size_t w, int causal, size_t *lo, size_t *hi) {
  size_t h = w / 2, back = causal ? w - 1 : h, fwd = causal ? 0 : h;
  *lo = i >= back ? i - back : 0;
  *hi = i + fwd + 1 < n ? i + fwd + 1 : n;
}

static void slow_movmed(const double *x, size_t n, size_t w, int causal, double *y) {
  for (size_t i = 0, lo, hi; i < n; i++) {
    window_of(i, n, w, causal, &lo, &hi);
    y[i] = slow_median(x, lo, hi);
  }
}

/* ---- moving median and scale against brute force ---- */

struct movcase {
  size_t n, w;
  int causal;
};
static const struct movcase movcases[] = {
    {.n = 1000, .w = 3},
    {.n = 1000, .w = 101},
    {.n = 1000, .w = 101, .causal = 1},
    {.n = 50, .w = 101},
    {.n = 50, .w = 101, .causal = 1},
    {.n = 1, .w = 5},
    {.n = 2000, .w = 31, .causal = 1},
    {.n = 3000, .w = 1501},
    {.n = 3000, .w = 1501, .causal = 1},
    {.n = 3000, .w = 1025, .causal = 1},
    /* past one 32768-point chunk: the threaded path and its halos at chunk edges */
    {.n = 70001, .w = 31},
    {.n = 70001, .w = 101, .causal = 1},
};
#define NMOV (sizeof movcases / sizeof movcases[0])

static void check_movstat(gsl_rng *r) {
  for (size_t c = 0; c < NMOV; c++) {
    const struct movcase *mc = &movcases[c];
    size_t n = mc->n;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
    double *s = malloc(n * sizeof *s), err = 0, serr = 0;
    for (size_t i = 0; i < n; i++) /* heavy-tailed data with repeats */
      x[i] = i % 7 == 0 ? 1.0 : gsl_ran_cauchy(r, 1.0);
    tp_spikes_movmed(x, n, mc->w, mc->causal, y);
    slow_movmed(x, n, mc->w, mc->causal, z);
    for (size_t i = 0; i < n; i++)
      err = fmax(err, fabs(y[i] - z[i]));
    tap_near(err, 0, 1e-12, "tp_spikes_movmed - n=%zu w=%zu %s, expect brute-force median", n,
             mc->w, mc->causal ? "causal" : "centred");
    tp_spikes_movscale(x, y, n, mc->w, mc->causal, s);
    for (size_t i = 0; i < n; i++)
      z[i] = fabs(x[i] - y[i]);
    slow_movmed(z, n, mc->w, mc->causal, x);
    for (size_t i = 0; i < n; i++)
      serr = fmax(serr, fabs(s[i] - 1.482602218505602 * x[i]) / (1 + fabs(s[i])));
    tap_near(serr, 0, 1e-12,
             "tp_spikes_movscale - n=%zu w=%zu %s, expect 1.4826 x brute-force median of "
             "|x - movmed|",
             n, mc->w, mc->causal ? "causal" : "centred");
    free(x), free(y), free(z), free(s);
  }
}

/* ---- options parser ---- */

struct optcase {
  const char *text;
  int rc;
  const char *in_message; /* expected in the error detail */
};
static const struct optcase optcases[] = {
    {"method=mad window=101 threshold=6 max_norm=1 top=2 causal=1 alpha=0.02", 0, NULL},
    {"method=ewma, alpha=0.1", 0, NULL},
    {"", 0, NULL},
    {"windo=3", TP_EINVAL, "unknown spike option 'windo'"},
    {"window=abc", TP_EINVAL, "'abc' for spike option 'window'"},
    {"method=median", TP_EINVAL, "methods: mad|ewma|ratio|threshold"},
    {"causal=2", TP_EINVAL, "spike option 'causal'"},
    {"max_norm=-1", TP_EINVAL, "spike option 'max_norm'"},
    {"threshold", TP_EINVAL, "not key=value"},
    {"top=-2", TP_EINVAL, "spike option 'top'"},
    {"window=18446744073709551615", TP_EINVAL, "odd whole number from 3 to 999999999"},
    {"window=18446744073709551616", TP_EINVAL, "for spike option 'window'"},
    {"window=1000000001", TP_EINVAL, "for spike option 'window'"},
    {"window=999999999", 0, NULL},
    {"window=100", TP_EINVAL, "for spike option 'window'"},
    {"window=1", TP_EINVAL, "for spike option 'window'"},
    {"window=+5", TP_EINVAL, "for spike option 'window'"},
    {"window=5x", TP_EINVAL, "for spike option 'window'"},
    {"window=", TP_EINVAL, "for spike option 'window'"},
    {"method=ratio threshold=-5", TP_EINVAL, "for spike option 'threshold'"},
    {"method=ratio threshold=0.5", TP_EINVAL, "method ratio needs threshold > 1"},
    {"threshold=0.5 method=ratio", TP_EINVAL, "method ratio needs threshold > 1"},
    {"k=1", TP_EINVAL, "for spike option 'k'"},
    {"method=ratio k=2.5", 0, NULL},
    {"threshold=0", TP_EINVAL, "a finite number > 0"},
    {"threshold=nan", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=inf", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=1e999", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=1e-999", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=0x10", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=1e-310", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=2.5e", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=\v5", TP_EINVAL, "for spike option 'threshold'"},
    {"threshold=.5e1 min_ratio=3. alpha=+0.5", 0, NULL},
    {"threshold=8e0 z=7.5", 0, NULL},
    {"alpha=0", TP_EINVAL, "0 < alpha < 1"},
    {"alpha=1.5", TP_EINVAL, "0 < alpha < 1"},
    {"min_ratio=0.5", TP_EINVAL, "a finite number >= 1"},
    {"max_norm=inf", TP_EINVAL, "for spike option 'max_norm'"},
    {"top=18446744073709551615", TP_EINVAL, "for spike option 'top'"},
    {"causal=01x", TP_EINVAL, "for spike option 'causal'"},
    {"window=abc\033[31m", TP_EINVAL, "'abc\\x1b[31m'"},
};
#define NOPT (sizeof optcases / sizeof optcases[0])

static void check_options(void) {
  struct tp_spike_opts o;
  for (size_t c = 0; c < NOPT; c++) {
    const struct optcase *oc = &optcases[c];
    int rc;
    tp_spike_opts_init(&o);
    rc = tp_spike_opts_parse(&o, oc->text);
    char shown[128];
    tap_ok(rc == oc->rc && (!oc->in_message || strstr(tp_err_last()->detail, oc->in_message)),
           "tp_spike_opts_parse - \"%s\", expect %s%s%s",
           tp_text_escape_buf(oc->text, shown, sizeof shown), tp_errname(oc->rc),
           oc->in_message ? " naming " : "", oc->in_message ? oc->in_message : "");
  }
  tp_spike_opts_init(&o);
  tap_ok(tp_spike_opts_parse(&o, "method=ratio window=51 top=3 causal=1") == 0 &&
             !strcmp(o.method, "ratio") && o.window == 51 && o.top == 3 && o.causal == 1,
         "tp_spike_opts_parse - values land in the struct, expect ratio/51/3/causal");
  /* The same rules hold for options set in the struct, not parsed. */
  static const double one[3] = {1, 2, 3}, steps[3] = {0, 1, 2};
  struct tp_spikes *sp = NULL;
  tp_spike_opts_init(&o);
  o.window = SIZE_MAX;
  tap_ok(tp_spikes_detect(tp_steps_array(steps), one, 3, &o, &sp) == TP_EINVAL && !sp &&
             strstr(tp_err_last()->detail, "window must be an odd number from 3"),
         "tp_spikes_detect - window SIZE_MAX set in the struct, expect TP_EINVAL");
  tp_spike_opts_init(&o);
  snprintf(o.method, sizeof o.method, "ratio");
  o.threshold = -5;
  tap_ok(tp_spikes_detect(tp_steps_array(steps), one, 3, &o, &sp) == TP_EINVAL && !sp,
         "tp_spikes_detect - ratio with threshold -5 set in the struct, expect TP_EINVAL");
}

/* ---- edge cases ---- */

enum shape { EMPTY, ONE, CONSTANT, CONSTANT_SPIKE, ALL_NAN, NEGATIVE, DECAY, NOISY_NAN };
struct edgecase {
  const char *name;
  enum shape shape;
  const char *opts;
  int rc;
  size_t episodes;
  double peak_step; /* of episode 1, NaN when not checked */
};
static const struct edgecase edgecases[] = {
    {"empty series", EMPTY, "", TP_EEMPTY, 0, NAN},
    {"one point", ONE, "", 0, 0, NAN},
    {"constant series", CONSTANT, "", 0, 0, NAN},
    {"constant with one spike", CONSTANT_SPIKE, "", 0, 1, 500},
    {"all NaN", ALL_NAN, "", 0, 0, NAN},
    {"negative values with a spike", NEGATIVE, "", 0, 1, 300},
    {"smooth decay from 40x", DECAY, "", 0, 0, NAN},
    {"smooth decay, causal", DECAY, "causal=1", 0, 0, NAN},
    {"smooth decay, ewma", DECAY, "method=ewma", 0, 0, NAN},
    {"NaN/inf around a spike", NOISY_NAN, "", 0, 1, 700},
    {"threshold without a value", CONSTANT, "method=threshold", TP_EINVAL, 0, NAN},
    {"threshold at max_norm", CONSTANT_SPIKE, "method=threshold max_norm=10", 0, 1, 500},
    {"even window", CONSTANT, "window=100", TP_EINVAL, 0, NAN},
    {"window wider than the series", CONSTANT_SPIKE, "window=999999", 0, 1, 500},
};
#define NEDGE (sizeof edgecases / sizeof edgecases[0])

/* Build the series of one edge case; returns its length. */
static size_t edge_series(enum shape sh, gsl_rng *r, double *x) {
  size_t n = sh == EMPTY ? 0 : sh == ONE ? 1 : 1000;
  for (size_t i = 0; i < n; i++) {
    double e = gsl_ran_gaussian(r, 1.0);
    switch (sh) {
    case ONE: x[i] = 5; break;
    case CONSTANT: x[i] = 3; break;
    case CONSTANT_SPIKE: x[i] = i == 500 ? 30 : 3; break;
    case ALL_NAN: x[i] = NAN; break;
    case NEGATIVE: x[i] = i == 300 ? 20 : -10 + 0.5 * e; break;
    case DECAY: x[i] = (1 + 40 * exp(-(double)i / 150)) * (1 + 0.05 * e); break;
    case NOISY_NAN:
      x[i] = i % 10 == 3 ? (i % 20 == 3 ? NAN : INFINITY) : 2 * (1 + 0.1 * e);
      if (i == 700)
        x[i] = 20;
      if (i == 701 || i == 699)
        x[i] = i == 701 ? NAN : -INFINITY;
      break;
    default: break;
    }
  }
  return n;
}

static void check_edges(gsl_rng *r) {
  double x[1000], step[1000];
  for (size_t i = 0; i < 1000; i++)
    step[i] = (double)i;
  for (size_t c = 0; c < NEDGE; c++) {
    const struct edgecase *ec = &edgecases[c];
    struct tp_spike_opts o;
    struct tp_spikes *sp = NULL;
    size_t n = edge_series(ec->shape, r, x);
    int rc;
    tp_spike_opts_init(&o);
    if ((rc = tp_spike_opts_parse(&o, ec->opts)) == 0)
      rc = tp_spikes_detect(tp_steps_array(step), x, n, &o, &sp);
    tap_ok(rc == ec->rc &&
               (rc < 0 || (sp->n_found == ec->episodes &&
                           (isnan(ec->peak_step) || sp->ep[0].peak_step == ec->peak_step))),
           "tp_spikes_detect - %s, expect %s with %zu episode(s)%s", ec->name, tp_errname(ec->rc),
           ec->episodes, isnan(ec->peak_step) ? "" : " at the spike");
    if (rc == 0 && sp->n_found != ec->episodes)
      tap_diag("found %zu episodes", sp->n_found);
    tp_spikes_free(sp);
  }
  tp_spikes_free(NULL);
}

/* ---- recall and precision on injected spikes ----
 * The set: 3 baselines x 4 seeds, 20000 steps each:
 *   decaying  b(t) = 1 + 20 exp(-t / 2000), 10% gaussian noise;
 *   drifting  b(t) = 2 + 1.5 sin(t / 3000) + t / 10000, 10% gaussian noise;
 *   noisy     b(t) = 1, 20% gaussian noise;
 * each with 36 spikes (heights 2, 3, 5, 10, 30, 100 x b(t), widths 1, 2, 5, 10,
 * 15, 20 steps, a plateau with the same relative noise) at least 400 steps
 * apart, and 0.5% of all steps replaced by NaN, +inf or -inf.  Recall counts
 * spikes >= 3x that some episode overlaps; precision counts episodes that
 * overlap an injected spike of any height. */

static const double heights[] = {2, 3, 5, 10, 30, 100};
static const size_t widths[] = {1, 2, 5, 10, 15, 20};
#define NH (sizeof heights / sizeof heights[0])
#define NW (sizeof widths / sizeof widths[0])
#define NSPIKE (NH * NW)
#define LEN 20000
#define SEEDS 4

struct spike {
  size_t at, width;
  double height;
};

static double baseline(int kind, size_t t) {
  double x = (double)t;
  if (kind == 0)
    return 1 + 20 * exp(-x / 2000);
  if (kind == 1)
    return 2 + 1.5 * sin(x / 3000) + x / 10000;
  return 1;
}

/* One synthetic series with its spikes (in a shuffled order of heights/widths). */
static void synth(gsl_rng *r, int kind, double *x, struct spike *sp) {
  double noise = kind == 2 ? 0.2 : 0.1;
  size_t order[NSPIKE];
  for (size_t i = 0; i < NSPIKE; i++)
    order[i] = i;
  gsl_ran_shuffle(r, order, NSPIKE, sizeof order[0]);
  for (size_t t = 0; t < LEN; t++)
    x[t] = baseline(kind, t) * (1 + noise * gsl_ran_gaussian(r, 1.0));
  for (size_t k = 0; k < NSPIKE; k++) {
    struct spike *s = &sp[k];
    s->height = heights[order[k] / NW];
    s->width = widths[order[k] % NW];
    s->at = 300 + k * 540 + gsl_rng_uniform_int(r, 100);
    for (size_t t = s->at; t < s->at + s->width; t++)
      x[t] = s->height * baseline(kind, t) * (1 + noise * gsl_ran_gaussian(r, 1.0));
  }
  for (size_t t = 0; t < LEN; t++)
    if (gsl_rng_uniform(r) < 0.005)
      x[t] = (double[]){NAN, INFINITY, -INFINITY}[gsl_rng_uniform_int(r, 3)];
}

struct score {
  size_t want, got, episodes, true_episodes;
};

static void score_run(const struct tp_spikes *res, const struct spike *sp, struct score *sc) {
  for (size_t k = 0; k < NSPIKE; k++) {
    int hit = 0;
    for (size_t e = 0; e < res->n_ep && !hit; e++)
      hit = res->ep[e].i_start < sp[k].at + sp[k].width && res->ep[e].i_end >= sp[k].at;
    if (sp[k].height >= 3) {
      sc->want++;
      sc->got += (size_t)hit;
    }
  }
  for (size_t e = 0; e < res->n_ep; e++) {
    int hit = 0;
    for (size_t k = 0; k < NSPIKE && !hit; k++)
      hit = res->ep[e].i_start < sp[k].at + sp[k].width && res->ep[e].i_end >= sp[k].at;
    sc->episodes++;
    sc->true_episodes += (size_t)hit;
  }
}

struct recallcase {
  const char *opts;
  double recall, precision; /* required */
};
static const struct recallcase recallcases[] = {
    {"", 0.95, 0.9}, /* the defaults: the acceptance criterion */
    {"causal=1", 0.95, 0.9},
    {"method=ewma", 0.9, 0.9},
    {"method=ratio", 0.9, 0.9},
};
#define NRECALL (sizeof recallcases / sizeof recallcases[0])

static void check_recall(void) {
  static double x[LEN], step[LEN];
  static const char *kinds[] = {"decaying", "drifting", "noisy"};
  for (size_t t = 0; t < LEN; t++)
    step[t] = (double)(t * 10);
  for (size_t c = 0; c < NRECALL; c++) {
    struct score sc = {0};
    struct tp_spike_opts o;
    int parsed;
    tp_spike_opts_init(&o);
    /* A typo in a case must fail it, not silently test the defaults. */
    parsed = tp_spike_opts_parse(&o, recallcases[c].opts) == 0;
    for (int kind = 0; kind < 3; kind++) {
      struct score one = {0};
      for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        struct spike sp[NSPIKE];
        struct tp_spikes *res = NULL;
        gsl_rng_set(r, seed * 7919 + (unsigned long)kind);
        synth(r, kind, x, sp);
        if (tp_spikes_detect(tp_steps_array(step), x, LEN, &o, &res) == 0)
          score_run(res, sp, &one);
        tp_spikes_free(res);
        gsl_rng_free(r);
      }
      tap_diag("%-12s %-9s recall(>=3x) %zu/%zu precision %zu/%zu",
               *recallcases[c].opts ? recallcases[c].opts : "defaults", kinds[kind], one.got,
               one.want, one.true_episodes, one.episodes);
      sc.want += one.want, sc.got += one.got;
      sc.episodes += one.episodes, sc.true_episodes += one.true_episodes;
    }
    double rec = (double)sc.got / (double)sc.want;
    double prec = sc.episodes ? (double)sc.true_episodes / (double)sc.episodes : 0;
    tap_ok(parsed && rec >= recallcases[c].recall,
           "tp_spikes_detect - %s on the injected set, expect recall >= %.2f (got %.3f)",
           *recallcases[c].opts ? recallcases[c].opts : "defaults", recallcases[c].recall, rec);
    tap_ok(parsed && prec >= recallcases[c].precision,
           "tp_spikes_detect - %s on the injected set, expect precision >= %.2f (got %.3f)",
           *recallcases[c].opts ? recallcases[c].opts : "defaults", recallcases[c].precision, prec);
  }
}

/* A deferred SIGINT stops the chunked moving median at its next chunk: TP_EINTR from
   tp_spikes_movmed and tp_spikes_detect, nothing returned, then the same result bit for
   bit once no signal is pending. */
static void check_interrupt(gsl_rng *r) {
  const size_t n = 400000;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *ref = malloc(n * sizeof *ref);
  struct tp_spike_opts o;
  struct tp_spikes *sp = NULL, *want = NULL, *again = NULL;
  struct tp_steps st = {NULL, 0, 1};
  int rc1, rc2, sig;
  for (size_t i = 0; i < n; i++)
    x[i] = 1 + fabs(gsl_ran_gaussian(r, 1.0)) + (i % 50000 == 7 ? 40 : 0);
  tp_spike_opts_init(&o);
  tp_spikes_movmed(x, n, 101, 0, ref);
  tp_spikes_detect(st, x, n, &o, &want);
  tp_intr_enter();
  raise(SIGINT);
  rc1 = tp_spikes_movmed(x, n, 101, 0, y);
  rc2 = tp_spikes_detect(st, x, n, &o, &sp);
  sig = tp_intr_leave();
  tap_ok(rc1 == TP_EINTR && sig == SIGINT,
         "tp_spikes_movmed - 4e5 points, SIGINT pending, expect TP_EINTR");
  tap_ok(rc2 == TP_EINTR && !sp, "tp_spikes_detect - 4e5 points, SIGINT pending, expect TP_EINTR");
  tap_ok(tp_spikes_movmed(x, n, 101, 0, y) == 0 && !memcmp(y, ref, n * sizeof *y) &&
             tp_spikes_detect(st, x, n, &o, &again) == 0 && want &&
             again->n_found == want->n_found &&
             !memcmp(again->upper, want->upper, n * sizeof(double)),
         "tp_spikes_detect - 4e5 points, no signal after one, expect the same result bit for bit");
  tp_spikes_free(sp), tp_spikes_free(want), tp_spikes_free(again);
  free(x), free(y), free(ref);
}

int main(void) {
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_set_error_handler_off();
  gsl_rng_set(r, 42);
  check_movstat(r);
  check_options();
  check_edges(r);
  check_recall();
  check_interrupt(r);
  gsl_rng_free(r);
  return tap_done();
}
