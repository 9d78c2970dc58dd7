/* Spike detection: one table of detectors driven by one loop, then episodes. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_signal.h"
#include "tp_spikes.h"
#include "tp_spikes_int.h"
#include "tp_text.h"

#define DEFAULT_WINDOW 101
#define DEFAULT_MIN_RATIO 2.0
#define DEFAULT_ALPHA 0.02
#define SCALE_SAMPLE 65536 /* points used for the series scale that ranks episodes */

/* Check the options and fill in the method's defaults; names the bad one. */
static int resolve(const struct tp_spike_opts *in, struct tp_spike_opts *o,
                   const struct tp__detector **det) {
  int rc;
  *o = *in;
  if (!(*det = tp__spikes_detector(o->method)))
    return tp_err(TP_EINVAL, NULL, -1, "unknown spike method '%s' (methods: %s)", o->method,
                  tp_spike_methods());
  if ((rc = tp__spikes_check_opts(o)) < 0)
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
static int finite_values(const double *value, size_t n, const double **x, double **own, size_t *m) {
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
  const struct tp__detector *det;
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
  if ((rc = resolve(o, &sp->opts, &det)) < 0 || !(sp->baseline = alloc_doubles(n, "baseline")) ||
      !(sp->upper = alloc_doubles(n, "spike bound")) ||
      (rc = finite_values(value, n, &x, &own, &m)) < 0)
    goto fail;
  /* Every detector is one pass or the chunked moving median, which stops by itself. */
  if ((rc = det->bound(x, m, &sp->opts, sp->baseline, sp->upper)) < 0 || (rc = tp_intr_check()) < 0)
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
