/* Internals the log readers share (tp__ prefix; not for callers): table rows, search, parts. */
#ifndef TP_LOG_INT_H
#define TP_LOG_INT_H

#include <stddef.h>

#include "tp_error.h"
#include "tp_series.h"

/* The log readers, declared here so the table can name them. */
extern const struct tp_series_reader tp_array_reader;
extern const struct tp_series_reader tp_csv_reader;
extern const struct tp_series_reader tp_fairseq_reader;
extern const struct tp_series_reader tp_hf_reader;
extern const struct tp_series_reader tp_jsonl_reader;
extern const struct tp_series_reader tp_megatron_reader;
extern const struct tp_series_reader tp_plain_reader;
extern const struct tp_series_reader tp_tfevents_reader;

/* The head given to sniffers: enough to get past model printouts and job preambles. */
#define TP__SNIFF_BYTES 262144

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
size_t tp__parts_split(const char *base, const char *end, size_t min_bytes, struct tp__part *parts);
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
int tp__series_done(struct tp_series *s, const char *path, const char *format, const char *key);
struct json_object;
/* A JSON number, or a string holding one (fairseq quotes them); 1 on success. */
int tp__json_number(struct json_object *v, double *out);
/* Record TP_ENOKEY for key, listing the keys of obj (a record at line, in what). */
int tp__json_key_error(const char *path, long line, const char *key, struct json_object *obj,
                       const char *what);

#endif
