/* A (step, value) series and the table of training-log readers. */
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
  char format[24];   /* reader that produced it */
  char key[128];     /* series/column/tag actually used */
  /* fp16 overflow / skipped-iteration events at their steps (fairseq: the step of the
     next record, whose interval holds the overflow; megatron: the logged iteration) */
  size_t n_overflow, cap_overflow;
  double *overflow_step;
  /* malformed records: total count and the first few 1-based line numbers (for
     trainer_state.json the log_history entry, for tfevents the record number) */
  size_t n_malformed;
  long malformed_line[TP_SERIES_BADLINES];
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

/* The log readers, declared here so the table can name them. */
extern const struct tp_series_reader tp_array_reader;
extern const struct tp_series_reader tp_csv_reader;
extern const struct tp_series_reader tp_fairseq_reader;
extern const struct tp_series_reader tp_hf_reader;
extern const struct tp_series_reader tp_jsonl_reader;
extern const struct tp_series_reader tp_megatron_reader;
extern const struct tp_series_reader tp_plain_reader;
extern const struct tp_series_reader tp_tfevents_reader;

/* ---- internals shared by the log readers (tp__ prefix; not for callers) ---- */

#define TP__SNIFF_BYTES 262144 /* head given to sniffers: past model printouts and job preambles */

/* First occurrence of needle[0..m) in [h, end), or NULL; SSE2 where available. */
const char *tp__find(const char *h, const char *end, const char *needle, size_t m);

/* A lazy line counter: line numbers are only computed for the few lines reported. */
struct tp__lines {
  const char *pos; /* start of line `line` (1-based) */
  long line;
};
/* 1-based line number of p; p must not move backwards between calls. */
long tp__line_at(struct tp__lines *c, const char *p);
/* Count the line holding p as malformed (its number only while it is kept). */
void tp__bad_at(struct tp_series *s, struct tp__lines *c, const char *p);
/*
 * Line-oriented readers parse a big mapped file in parts over the cores. A part starts at
 * a line start; its reader fills a fresh series with part-relative line numbers (line 1 =
 * the part's first line). Merging appends the parts in order into the first, turning
 * the line numbers of kept malformed lines into file line numbers.
 */
#define TP__PARTS_MAX 8
struct tp__part {
  const char *a, *b;   /* [a, b): whole lines */
  struct tp_series *s; /* filled by the reader */
  void *ctx;           /* the reader's per-part state */
  int rc;
  struct tp_errinfo err; /* the failure, when rc < 0 (the part may run on another thread) */
};
/* Split [base, end) into up to TP__PARTS_MAX parts (one per core, none under min_bytes);
   returns how many (1 when the file is small or there is one core). */
size_t tp__parts_split(const char *base, const char *end, size_t min_bytes,
                       struct tp__part *parts);
/* Tests: when non-zero, every split makes this many parts (whatever the size and cores). */
extern size_t tp__parts_force;
/* Run fn on every part, parts 1.. on threads; returns the first failure. */
int tp__parts_run(struct tp__part *parts, size_t k, void (*fn)(struct tp__part *));
/* Append parts 1..k-1 into parts[0].s (freeing them); base is where line 1 starts. */
int tp__parts_merge(struct tp__part *parts, size_t k, const char *base);
/* Steps become the 0-based record index (drops any step array). */
void tp__series_index_steps(struct tp_series *s);
/* Make room for about n points up front (a reader's estimate from the file size). */
int tp__series_reserve(struct tp_series *s, size_t n);
/* Name the series; TP_EEMPTY/TP_ECORRUPT when it has no points. */
int tp__series_done(struct tp_series *s, const char *path, const char *format,
                    const char *key);
struct json_object;
/* A JSON number, or a string holding one (fairseq quotes them); 1 on success. */
int tp__json_number(struct json_object *v, double *out);
/* Record TP_ENOKEY for key, listing the keys of obj (a record at line, in what). */
int tp__json_key_error(const char *path, long line, const char *key,
                       struct json_object *obj, const char *what);

#endif
