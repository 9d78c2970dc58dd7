/* Internals shared by the fairseq reader's format detection/JSON unit and its text scanners. */
#ifndef TP_LOG_FAIRSEQ_INT_H
#define TP_LOG_FAIRSEQ_INT_H

#include <json-c/json.h>
#include <string.h>

#include "tp_log_int.h"
#include "tp_series.h"

enum fs_kind { FS_KV, FS_JSON, FS_PIPE };

struct fs {
  const char *path;
  const char *base, *end;
  const struct tp_series_opts *o;
  struct tp_series *s;
  struct tp__lines lines;
  enum fs_kind kind;
  int json_simple; /* FS_JSON: "| train_inner | {…}" lines instead of hydra's */
  const char *key;
  char needle[192];
  size_t nlen;
  size_t pending; /* overflow notes waiting for the next record */
  int mapped;     /* base..end is a file mapping: drop pages once passed */
  int stepmode;   /* -1 unknown, 0 record index, 1 num_updates */
  json_tokener *tok;
  const char *first; /* first hydra record seen (for the key list) */
};

static inline int boundary(char c) { return c == ' ' || c == ',' || c == '|' || c == '\t'; }

static inline const char *line_start(const char *lo, const char *p) {
  const char *nl = memrchr(lo, '\n', (size_t)(p - lo));
  return nl ? nl + 1 : lo;
}

static inline const char *line_end(const char *p, const char *end) {
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  return nl ? nl : end;
}

/* The text scanners (tp_log_fairseq_text.c). */
/* Count the overflow notes in [a, b): lines with "overflow detected". */
void tp__fs_overflow_notes(struct fs *f, const char *a, const char *b);
/* Append one record; a missing step (NAN) falls back to the record index. */
int tp__fs_record(struct fs *f, const char *at, double step, double value);
/* Scan a key=value or summary log for f->needle, one part per core. */
int tp__fs_scan_parts(struct fs *f);

#endif
