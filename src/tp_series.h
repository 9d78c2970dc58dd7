/* A (step, value) series and the table of training-log readers. */
#ifndef TP_SERIES_H
#define TP_SERIES_H

#include <stddef.h>
#include <stdint.h>

#define TP_SERIES_BADLINES 8

struct tp_series {
  size_t n, cap;
  double *step;  /* training step, or the 0-based record index when has_step is 0 */
  double *value; /* may hold NaN and ±inf */
  int has_step;
  char format[24];   /* reader that produced it */
  char key[128];     /* series/column/tag actually used */
  /* fp16 overflow / skipped-iteration events at their steps */
  size_t n_overflow, cap_overflow;
  double *overflow_step;
  /* malformed lines: total count and the first few line numbers */
  size_t n_malformed;
  long malformed_line[TP_SERIES_BADLINES];
};

struct tp_series_opts {
  const char *key; /* NULL/"" = reader's default (gnorm, grad_norm, …) */
  int use_valid;   /* fairseq: take valid lines instead of train_inner */
  int use_epoch;   /* fairseq: take epoch summaries instead of train_inner */
};

struct tp_series *tp_series_new(void);
void tp_series_free(struct tp_series *s);
/* Append one point (amortised growth, limit-checked). */
int tp_series_push(struct tp_series *s, double step, double value);
int tp_series_push_overflow(struct tp_series *s, double step);
/* Count a malformed line, keeping the first few line numbers. */
void tp_series_bad_line(struct tp_series *s, long line);

struct tp_series_reader {
  const char *name;    /* "fairseq" */
  const char *summary; /* one line */
  /* Confidence 0..100 that head (first len bytes of path) is this format. */
  int (*sniff)(const unsigned char *head, size_t len);
  int (*read)(const char *path, const struct tp_series_opts *o,
              struct tp_series **out);
};

/* Read a series from path, detecting the format by content. */
int tp_series_read(const char *path, const struct tp_series_opts *o,
                   struct tp_series **out);
const struct tp_series_reader *const *tp_series_readers(size_t *n);

/* Fast decimal parser: correctly rounded like strtod, falls back to it when needed. */
double tp_parse_double(const char *s, const char *end, const char **stop);

#endif
