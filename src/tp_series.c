/* The (step, value) series container and the content-detecting log reader loop. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_series.h"



struct tp_series *tp_series_new(void) {
  struct tp_series *s = calloc(1, sizeof *s);
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

/* Resize both arrays together; on failure the series keeps its old arrays. */
static int grow(struct tp_series *s) {
  size_t c;
  int rc = next_cap(s->cap, &c);
  if (rc < 0)
    return rc;
  double *st = realloc(s->step, c * sizeof *st);
  if (!st)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot grow series to %zu points", c);
  s->step = st;
  double *v = realloc(s->value, c * sizeof *v);
  if (!v)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot grow series to %zu points", c);
  s->value = v;
  s->cap = c;
  return 0;
}

int tp_series_push(struct tp_series *s, double step, double value) {
  if (s->n == s->cap) {
    int rc = grow(s);
    if (rc < 0)
      return rc;
  }
  s->step[s->n] = step;
  s->value[s->n] = value;
  s->n++;
  return 0;
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
