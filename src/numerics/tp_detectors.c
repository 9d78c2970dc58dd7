/* The spike detectors: each method's baseline and band, one row each in one table. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tp_movmed.h"
#include "tp_spikes.h"
#include "tp_spikes_int.h"

static double ratio_floor(double base, double r) { return base + (r - 1.0) * fabs(base); }

static int bound_mad(const double *x, size_t m, const struct tp_spike_opts *o, double *base,
                     double *upper) {
  int rc;
  if ((rc = tp_spikes_movmed(x, m, o->window, o->causal, base)) < 0 ||
      (rc = tp_spikes_movscale(x, base, m, o->window, o->causal, upper)) < 0)
    return rc;
  for (size_t i = 0; i < m; i++)
    upper[i] = fmax(base[i] + o->threshold * upper[i], ratio_floor(base[i], o->min_ratio));
  return 0;
}

static int bound_ratio(const double *x, size_t m, const struct tp_spike_opts *o, double *base,
                       double *upper) {
  int rc;
  if ((rc = tp_spikes_movmed(x, m, o->window, o->causal, base)) < 0)
    return rc;
  for (size_t i = 0; i < m; i++)
    upper[i] = ratio_floor(base[i], o->threshold);
  return 0;
}

static int bound_threshold(const double *x, size_t m, const struct tp_spike_opts *o, double *base,
                           double *upper) {
  int rc;
  if ((rc = tp_spikes_movmed(x, m, o->window, o->causal, base)) < 0)
    return rc;
  for (size_t i = 0; i < m; i++)
    upper[i] = o->threshold;
  return 0;
}

/* ZClip-style EMA z-score; a flagged value is fed back clipped to its bound. */
static int bound_ewma(const double *x, size_t m, const struct tp_spike_opts *o, double *base,
                      double *upper) {
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

static const struct tp__detector detectors[] = {
    {.name = "mad", .threshold = 8.0, .bound = bound_mad},
    {.name = "ewma", .threshold = 8.0, .bound = bound_ewma},
    {.name = "ratio", .threshold = 3.0, .bound = bound_ratio},
    {.name = "threshold", .threshold = NAN, .bound = bound_threshold},
};
#define NDETECTORS (sizeof detectors / sizeof detectors[0])

/* The table's names in order, NULL-terminated; filled once from the table. */
const char *const *tp_spike_method_names(void) {
  static const char *names[NDETECTORS + 1];
  if (!names[0])
    for (size_t i = 0; i < NDETECTORS; i++)
      names[i] = detectors[i].name;
  return names;
}

/* The same names joined by '|', built once (the table's names fit in 128 bytes). */
const char *tp_spike_methods(void) {
  static char joined[128];
  if (!joined[0]) {
    size_t len = 0;
    for (const char *const *n = tp_spike_method_names(); *n && len < sizeof joined; n++)
      len += (size_t)snprintf(joined + len, sizeof joined - len, "%s%s", len ? "|" : "", *n);
  }
  return joined;
}

const struct tp__detector *tp__spikes_detector(const char *name) {
  for (size_t i = 0; i < NDETECTORS; i++)
    if (strcmp(detectors[i].name, name) == 0)
      return &detectors[i];
  return NULL;
}
