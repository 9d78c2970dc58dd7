/* The (step, value) series container: growth, implicit steps, overflow and malformed-line records.
 */
#include <config.h>
#include <stddef.h>
#include <stdint.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_log_int.h"
#include "tp_series.h"

struct tp_series *tp_series_new(void) {
  struct tp_series *s = calloc(1, sizeof *s);
  if (s)
    s->stride = 1.0, s->skip_offset = -1;
  return s;
}

void tp_series_free(struct tp_series *s) {
  if (!s)
    return;
  free(s->step);
  free(s->value);
  free(s->overflow_step);
  free(s);
}

/* Next capacity: grow by half so step+value never exceed 3 doubles per point. */
static int next_cap(size_t cap, size_t *out) {
  const struct tp_limits *lim = tp_limits_get();
  size_t c = cap < 64 ? 64 : cap + cap / 2;
  if (c < cap || c > SIZE_MAX / sizeof(double))
    return tp_err(TP_EOVERFLOW, NULL, -1, "series capacity overflows size_t");
  if (c > lim->max_elements) {
    if (cap >= lim->max_elements)
      return tp_err(TP_ELIMIT, NULL, -1,
                    "series longer than the element limit %llu (TRAINPLOT_MAX_ELEMENTS)",
                    (unsigned long long)lim->max_elements);
    c = (size_t)lim->max_elements;
  }
  if ((uint64_t)c * sizeof(double) > lim->max_bytes)
    return tp_err(TP_ELIMIT, NULL, -1,
                  "series of %zu points exceeds the allocation limit (TRAINPLOT_MAX_BYTES)", c);
  *out = c;
  return 0;
}

/* Ask for transparent huge pages on a big array: a long log otherwise spends much of its
   time in 4 KiB page faults (bench/MEASUREMENTS.md). Advisory; failure changes nothing. */
static void huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), b = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (bytes >= 4 * huge && b > a)
    madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/* Resize the arrays to c points (the step array only once it exists). On failure cap
   stays within both arrays: a shrunk step array lowers it at once, a grown one waits for
   the value array. */
static int resize(struct tp_series *s, size_t c) {
  if (s->step) {
    double *st = realloc(s->step, c * sizeof *st);
    if (!st)
      return tp_err(TP_ENOMEM, NULL, -1, "cannot grow series to %zu points", c);
    s->step = st;
    if (c < s->cap)
      s->cap = c;
    huge_pages(s->step, c * sizeof *st);
  }
  double *v = realloc(s->value, c * sizeof *v);
  if (!v)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot grow series to %zu points", c);
  s->value = v;
  s->cap = c;
  huge_pages(s->value, c * sizeof *v);
  return 0;
}

/* A step that leaves the progression: write the implicit steps out as an array. */
static int materialise(struct tp_series *s) {
  size_t c = s->cap ? s->cap : 1;
  double *st = malloc(c * sizeof *st);
  if (!st)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu steps", c);
  huge_pages(st, c * sizeof *st);
  for (size_t i = 0; i < s->n; i++)
    st[i] = s->step0 + (double)i * s->stride;
  s->step = st;
  return 0;
}

static int grow(struct tp_series *s) {
  size_t c;
  int rc = next_cap(s->cap, &c);
  return rc < 0 ? rc : resize(s, c);
}

int tp__series_reserve(struct tp_series *s, size_t n) {
  const struct tp_limits *lim = tp_limits_get();
  if (n <= s->cap)
    return 0;
  if (n > lim->max_elements)
    n = (size_t)lim->max_elements; /* a guess past the limit: grow() reports it if it comes true */
  if (n > SIZE_MAX / sizeof(double) || (uint64_t)n * sizeof(double) > lim->max_bytes)
    return 0;
  return n > s->cap ? resize(s, n) : 0;
}

int tp_series_push(struct tp_series *s, double step, double value) {
  if (s->n == s->cap) {
    int rc = grow(s);
    if (rc < 0)
      return rc;
  }
  if (!s->step) {
    if (s->n == 0 && isfinite(step))
      s->step0 = step, s->stride = 1.0;
    else if (s->n == 1 && isfinite(step - s->step0) && s->step0 + (step - s->step0) == step)
      s->stride = step - s->step0;
    else if (s->n < 2 || step != s->step0 + (double)s->n * s->stride) {
      int rc = materialise(s);
      if (rc < 0)
        return rc;
    }
  }
  if (s->step)
    s->step[s->n] = step;
  s->value[s->n] = value;
  s->n++;
  return 0;
}

void tp__series_index_steps(struct tp_series *s) {
  free(s->step);
  s->step = NULL;
  s->step0 = 0.0;
  s->stride = 1.0;
}

int tp_series_push_overflow(struct tp_series *s, double step) {
  if (s->n_overflow == s->cap_overflow) {
    size_t c;
    int rc = next_cap(s->cap_overflow, &c);
    if (rc < 0)
      return rc;
    double *o = realloc(s->overflow_step, c * sizeof *o);
    if (!o)
      return tp_err(TP_ENOMEM, NULL, -1, "cannot grow overflow list to %zu events", c);
    s->overflow_step = o;
    s->cap_overflow = c;
  }
  s->overflow_step[s->n_overflow++] = step;
  return 0;
}

void tp_series_bad_line(struct tp_series *s, long line) {
  if (s->n_malformed < TP_SERIES_BADLINES)
    s->malformed_line[s->n_malformed] = line;
  s->n_malformed++;
}

void tp_series_step_range(const struct tp_series *s, double *lo, double *hi) {
  struct tp_steps st = tp_series_steps(s);
  double a = INFINITY, b = -INFINITY;
  for (size_t i = 0; i < s->n; i++) {
    double x = tp_step_at(st, i);
    a = fmin(a, x), b = fmax(b, x);
  }
  *lo = s->n ? a : NAN;
  *hi = s->n ? b : NAN;
}

int tp__series_done(struct tp_series *s, const char *path, const char *format, const char *key) {
  snprintf(s->format, sizeof s->format, "%s", format);
  snprintf(s->key, sizeof s->key, "%s", key ? key : "");
  if (s->n && s->cap > s->n + s->n / 2)
    resize(s, s->n); /* an estimate that overshot: keep the 3-doubles-per-point bound */
  if (s->n == 0) {
    if (s->n_malformed)
      return tp_err_line(TP_ECORRUPT, path, s->malformed_line[0],
                         "%s log: all %zu '%s' records are malformed", format, s->n_malformed,
                         s->key);
    return tp_err(TP_EEMPTY, path, -1, "%s log: no '%s' records found", format, s->key);
  }
  return 0;
}
