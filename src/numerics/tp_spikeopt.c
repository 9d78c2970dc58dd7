/* Spike options: defaults and the "key=value ..." text that gn_detect and --options take. */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_numparse.h"
#include "tp_spikes.h"
#include "tp_spikes_int.h"
#include "tp_text.h"

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

/* A finite decimal number, all of v (no inf, nan, hex or out-of-range value). The
   range check is explicit: an overflow parses to inf, and a result below DBL_MIN is
   where strtod's ERANGE used to refuse an underflow. */
static int parse_number(const char *v, double *out) {
  const char *end = v + strlen(v), *stop;
  double x;
  if (!*v || strpbrk(v, "xXiInN"))
    return -1;
  errno = 0;
  x = tp_parse_double(v, end, &stop);
  if (stop != end || errno || !isfinite(x) || (x != 0 && fabs(x) < DBL_MIN))
    return -1;
  *out = x;
  return 0;
}

/* What each key accepts, for the message that refuses a value. */
static const struct {
  const char *key, *rule;
} option_rules[] = {
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

/* The rule for key, or NULL for an unknown key; method's lists the detectors' table. */
static const char *option_rule(const char *key) {
  static char method_rule[160];
  if (!strcmp(key, "method")) {
    if (!method_rule[0])
      snprintf(method_rule, sizeof method_rule, "a detector (methods: %s)", tp_spike_methods());
    return method_rule;
  }
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
    if (!tp__spikes_detector(v))
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

int tp__spikes_check_opts(const struct tp_spike_opts *o) {
  if (o->window != 0 && (o->window < 3 || o->window % 2 == 0 || o->window > WINDOW_MAX))
    return tp_err(TP_EINVAL, NULL, -1, "window must be an odd number from 3 to %d, got %zu",
                  WINDOW_MAX, o->window);
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
    return tp_err(TP_EINVAL, NULL, -1, "max_norm must be a finite number > 0, got %g", o->max_norm);
  return 0;
}

int tp_spike_opts_parse(struct tp_spike_opts *o, const char *text) {
  char buf[1024], *save = NULL, shown[96], key[64];
  if (!text)
    return 0;
  if (strlen(text) >= sizeof buf)
    return tp_err(TP_EINVAL, NULL, -1, "spike options longer than %zu characters", sizeof buf - 1);
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
                    "alpha max_norm top causal)",
                    tp_text_escape_buf(t, shown, sizeof shown));
    if (rc < 0)
      return tp_err(TP_EINVAL, NULL, -1, "bad value '%s' for spike option '%s': expected %s",
                    tp_text_escape_buf(eq + 1, shown, sizeof shown),
                    tp_text_escape_buf(t, key, sizeof key), option_rule(t));
  }
  return tp__spikes_check_opts(o);
}
