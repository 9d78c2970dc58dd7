/* The (step, value) series container and the training-log read entry points. */
#ifndef TP_SERIES_H
#define TP_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "tp_error.h"

#define TP_SERIES_BADLINES 8

/* Steps: an array, or (v NULL) the arithmetic progression first + i * stride, which is how
   logs count (every step, or every log interval). */
struct tp_steps {
  const double *v;
  double first, stride;
};

static inline double tp_step_at(struct tp_steps s, size_t i) {
  return s.v ? s.v[i] : s.first + (double)i * s.stride;
}

static inline struct tp_steps tp_steps_array(const double *v) {
  struct tp_steps s = {v, 0.0, 1.0};
  return s;
}

struct tp_series {
  size_t n, cap;
  /* Training steps, or the 0-based record index when has_step is 0. While they follow
     step0 + i * stride exactly, step stays NULL: a 10^7-point log then costs one double
     per point, not two. Read them through tp_series_step()/tp_series_steps(). */
  double *step;
  double step0, stride;
  double *value; /* may hold NaN and ±inf */
  int has_step;
  char format[24]; /* reader that produced it */
  char key[128];   /* series/column/tag actually used */
  /* fp16 overflow / skipped-iteration events at their steps (fairseq: the step of the
     next record, whose interval holds the overflow; megatron: the logged iteration) */
  size_t n_overflow, cap_overflow;
  double *overflow_step;
  /* malformed records: total count and the first few 1-based line numbers (for
     trainer_state.json the log_history entry, for tfevents the record number) */
  size_t n_malformed;
  long malformed_line[TP_SERIES_BADLINES];
  /* bytes a reader passed over to resynchronise (tfevents) and the offset of the first
     of them, -1 when nothing was skipped */
  uint64_t skipped_bytes;
  long long skip_offset;
};

struct tp_series_opts {
  const char *key; /* NULL/"" = reader's default (gnorm, grad_norm, …) */
  int use_valid;   /* fairseq: take valid lines instead of train_inner */
  int use_epoch;   /* fairseq: take epoch summaries instead of train_inner */
};

static inline struct tp_steps tp_series_steps(const struct tp_series *s) {
  struct tp_steps st = {s->step, s->step0, s->stride};
  return st;
}

static inline double tp_series_step(const struct tp_series *s, size_t i) {
  return tp_step_at(tp_series_steps(s), i);
}

struct tp_series *tp_series_new(void);
void tp_series_free(struct tp_series *s);
/* Append one point (amortised growth, limit-checked); the step array is only
   materialised when a step breaks the arithmetic progression. */
int tp_series_push(struct tp_series *s, double step, double value);
int tp_series_push_overflow(struct tp_series *s, double step);
/* Count a malformed line, keeping the first few line numbers. */
void tp_series_bad_line(struct tp_series *s, long line);
/* Smallest and largest step in one pass, NaN steps skipped; both NaN for an empty series. */
void tp_series_step_range(const struct tp_series *s, double *lo, double *hi);

struct tp_series_reader {
  const char *name;    /* "fairseq" */
  const char *summary; /* one line */
  /* Confidence 0..100 that head (first len bytes of path) is this format. */
  int (*sniff)(const unsigned char *head, size_t len);
  int (*read)(const char *path, const struct tp_series_opts *o, struct tp_series **out);
};

/* Read a series from path, detecting the format by content. */
int tp_series_read(const char *path, const struct tp_series_opts *o, struct tp_series **out);
const struct tp_series_reader *const *tp_series_readers(size_t *n);

#endif
