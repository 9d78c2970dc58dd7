/* A big mapped log parsed in parts over the cores: split at line starts, run, merge in order. */
#include <config.h>
#include <stddef.h>

#include <math.h>
#include <string.h>

#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_log_int.h"
#include "tp_series.h"

size_t tp__parts_force;

size_t tp__parts_split(const char *base, const char *end, size_t min_bytes,
                       struct tp__part *parts) {
  size_t size = (size_t)(end - base), k = (size_t)tp_threads(TP__PARTS_MAX);
  if (min_bytes && size / min_bytes < k)
    k = size / min_bytes ? size / min_bytes : 1;
  if (tp__parts_force)
    k = tp__parts_force < TP__PARTS_MAX ? tp__parts_force : TP__PARTS_MAX;
  const char *a = base;
  size_t n = 0;
  for (size_t i = 1; i <= k && a < end; i++) {
    const char *b = i == k ? end : base + size / k * i;
    if (b < a)
      b = a;
    if (b < end) { /* move the cut past the next newline */
      const char *nl = memchr(b, '\n', (size_t)(end - b));
      b = nl ? nl + 1 : end;
    }
    parts[n++] = (struct tp__part){.a = a, .b = b};
    a = b;
  }
  if (n == 0)
    parts[n++] = (struct tp__part){.a = base, .b = end};
  return n;
}

struct part_thread {
  struct tp__part *part;
  void (*fn)(struct tp__part *);
};

static void *part_main(void *arg) {
  struct part_thread *t = arg;
  t->fn(t->part);
  if (t->part->rc < 0)
    t->part->err = *tp_err_last();
  return NULL;
}

int tp__parts_run(struct tp__part *parts, size_t k, void (*fn)(struct tp__part *)) {
  struct part_thread arg[TP__PARTS_MAX];
  /* A part whose thread cannot start runs on this one; each keeps its own error. The
     split makes at most TP__PARTS_MAX parts; more would run in rounds. */
  for (size_t i0 = 0; i0 < k; i0 += TP__PARTS_MAX) {
    size_t m = k - i0 < TP__PARTS_MAX ? k - i0 : TP__PARTS_MAX;
    for (size_t i = 0; i < m; i++)
      arg[i] = (struct part_thread){&parts[i0 + i], fn};
    tp_run_jobs(arg, m, sizeof arg[0], part_main);
  }
  for (size_t i = 0; i < k; i++)
    if (parts[i].rc < 0)
      return tp_err_restore(&parts[i].err); /* the message of the part that failed */
  return 0;
}

/* Newlines in [a, b). */
static long count_lines(const char *a, const char *b) {
  long n = 0;
  for (const char *p = a; p < b && (p = memchr(p, '\n', (size_t)(b - p))); p++)
    n++;
  return n;
}

/* p's implicit steps go on d's progression, point for point as tp_series_push would see
   them: whole-number steps below 2^52, where every step is exact. */
static int continues(const struct tp_series *d, const struct tp_series *p) {
  const double big = 4503599627370496.0; /* 2^52 */
  if (d->step || p->step || d->n < 2 || p->n < 1 || d->n + p->n > d->cap)
    return 0;
  double last = tp_series_step(d, d->n + p->n - 1);
  return p->step0 == tp_series_step(d, d->n) && (p->n == 1 || p->stride == d->stride) &&
         d->step0 == floor(d->step0) && d->stride == floor(d->stride) && fabs(d->step0) < big &&
         fabs(last) < big;
}

int tp__parts_merge(struct tp__part *parts, size_t k, const char *base) {
  struct tp_series *d = parts[0].s;
  size_t total = 0;
  long before = 0; /* lines of the file before part i */
  const char *counted = base;
  int rc = 0;
  for (size_t i = 0; i < k; i++)
    total += parts[i].s->n;
  if ((rc = tp__series_reserve(d, total)) < 0)
    return rc;
  for (size_t i = 1; i < k; i++) {
    struct tp_series *p = parts[i].s;
    if (continues(d, p)) {
      /* the progression goes on: the values are all there is to copy */
      memcpy(d->value + d->n, p->value, p->n * sizeof *p->value);
      d->n += p->n;
    } else {
      for (size_t j = 0; j < p->n && rc == 0; j++)
        rc = tp_series_push(d, tp_series_step(p, j), p->value[j]);
    }
    for (size_t j = 0; j < p->n_overflow && rc == 0; j++)
      rc = tp_series_push_overflow(d, p->overflow_step[j]);
    if (rc == 0 && p->n_malformed && d->n_malformed < TP_SERIES_BADLINES) {
      before += count_lines(counted, parts[i].a);
      counted = parts[i].a;
    }
    for (size_t j = 0; j < p->n_malformed; j++)
      tp_series_bad_line(d, j < TP_SERIES_BADLINES ? before + p->malformed_line[j] : 0);
    tp_series_free(p);
    parts[i].s = NULL;
    if (rc < 0)
      return rc;
  }
  return 0;
}
