/* CSV / TSV logs with a header row (Lightning metrics.csv, W&B exports, pandas to_csv):
   the value column is chosen by name, the step column is used when there is one.
   An empty cell means "not logged on this row" (Lightning writes sparse rows) and is
   skipped; a cell that is not a number, or a row too short, is malformed. */
#include <config.h>
#include <stddef.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tp_error.h"
#include "tp_log_int.h"
#include "tp_map.h"
#include "tp_numparse.h"
#include "tp_series.h"

static const char *const default_keys[] = {"grad_norm",   "gnorm",     "train/grad_norm",
                                           "train/gnorm", "grad-norm", "grad_norm_step"};
static const char *const step_keys[] = {"step",        "num_updates",         "iteration",
                                        "global_step", "trainer/global_step", "_step"};

struct cell {
  const char *p, *e;
};

/* The next separator at or after p outside double quotes (W&B quotes its headers), or NULL. */
static const char *next_sep(const char *p, const char *le, char sep, int quotes) {
  int in = 0;
  if (!quotes)
    return memchr(p, sep, (size_t)(le - p));
  for (; p < le; p++) {
    if (*p == '"')
      in = !in;
    else if (*p == sep && !in)
      return p;
  }
  return NULL;
}

/* Cell i of the row [p, le) split at sep, without quotes and blanks; 0 if absent. */
static int cell_at(const char *p, const char *le, char sep, long i, struct cell *c) {
  int quotes = memchr(p, '"', (size_t)(le - p)) != NULL;
  for (long k = 0; k < i; k++) {
    const char *q = next_sep(p, le, sep, quotes);
    if (!q)
      return 0;
    p = q + 1;
  }
  const char *e = next_sep(p, le, sep, quotes);
  e = e ? e : le;
  while (p < e && (*p == ' ' || *p == '"'))
    p++;
  while (e > p && (e[-1] == ' ' || e[-1] == '"' || e[-1] == '\r'))
    e--;
  c->p = p;
  c->e = e;
  return 1;
}

/* Index of the header cell equal to name, or -1. */
static long column(const char *h, const char *he, char sep, const char *name) {
  struct cell c;
  size_t n = strlen(name);
  for (long i = 0; cell_at(h, he, sep, i, &c); i++)
    if ((size_t)(c.e - c.p) == n && !strncasecmp(c.p, name, n)) /* W&B writes "Step" */
      return i;
  return -1;
}

static char guess_sep(const char *h, const char *he) {
  size_t commas = 0, tabs = 0;
  for (const char *p = h; p < he; p++) {
    commas += *p == ',';
    tabs += *p == '\t';
  }
  return tabs > commas ? '\t' : ',';
}

/* One data row; empty value cells are rows of other metrics. */
static int row(struct tp_series *s, const char *p, const char *le, char sep, long vc, long sc,
               long line) {
  struct cell v, st;
  const char *q;
  double x, step;
  if (!cell_at(p, le, sep, vc, &v) || (sc >= 0 && !cell_at(p, le, sep, sc, &st)))
    return tp_series_bad_line(s, line), 0;
  if (v.p == v.e)
    return 0;
  x = tp_parse_double(v.p, v.e, &q);
  if (q != v.e)
    return tp_series_bad_line(s, line), 0;
  if (sc < 0)
    return tp_series_push(s, (double)s->n, x);
  step = tp_parse_double(st.p, st.e, &q);
  if (q != st.e || st.p == st.e)
    return tp_series_bad_line(s, line), 0;
  return tp_series_push(s, step, x);
}

/* Choose the value and step columns from the header, or say which columns exist. */
static int pick_columns(const char *path, const char *h, const char *he, char sep, const char *want,
                        const char **key, long *vc, long *sc) {
  *vc = -1;
  for (size_t i = 0; *vc < 0 && i < (want ? 1 : sizeof default_keys / sizeof *default_keys); i++)
    *vc = column(h, he, sep, *key = want ? want : default_keys[i]);
  if (*vc < 0)
    return tp_err_line(TP_ENOKEY, path, 1, "column '%s' not found; columns there: %.*s",
                       want ? want : "grad_norm", (int)(he - h > 400 ? 400 : he - h), h);
  *sc = -1;
  for (size_t i = 0; *sc < 0 && i < sizeof step_keys / sizeof *step_keys; i++)
    *sc = column(h, he, sep, step_keys[i]);
  return 0;
}

static int csv_scan(const char *path, const char *p, const char *end, const char *want,
                    struct tp_series *s) {
  const char *nl = memchr(p, '\n', (size_t)(end - p)), *he = nl ? nl : end, *key = "";
  char sep = guess_sep(p, he);
  long vc = -1, sc = -1, line = 1;
  int rc = pick_columns(path, p, he, sep, want, &key, &vc, &sc);
  snprintf(s->key, sizeof s->key, "%s", key);
  s->has_step = sc >= 0;
  for (p = he + 1; rc == 0 && p < end; p = he + 1) {
    nl = memchr(p, '\n', (size_t)(end - p));
    he = nl ? nl : end;
    line++;
    if (he > p && !(he - p == 1 && *p == '\r'))
      rc = row(s, p, he, sep, vc, sc, line);
  }
  return rc;
}

static int csv_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct tp_series *s;
  int rc;
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  if (!(s = tp_series_new()))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  else
    rc = csv_scan(path, (const char *)m.data, (const char *)m.data + m.size,
                  o->key && *o->key ? o->key : NULL, s);
  tp_map_close(&m);
  if (rc == 0)
    rc = tp__series_done(s, path, "csv", s->key);
  if (rc < 0) {
    tp_series_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Separators in the row outside quotes (cells - 1). */
static size_t cells(const char *p, const char *le, char sep) {
  int quotes = memchr(p, '"', (size_t)(le - p)) != NULL;
  size_t n = 0;
  while ((p = next_sep(p, le, sep, quotes)))
    n++, p++;
  return n;
}

/* A header row with a name-like cell, and the next row with as many separators. */
static int csv_sniff(const unsigned char *h, size_t len) {
  const char *p = (const char *)h, *end = p + len, *e1, *e2;
  struct cell c;
  if (!(e1 = memchr(p, '\n', len)))
    return 0;
  char sep = guess_sep(p, e1);
  e2 = memchr(e1 + 1, '\n', (size_t)(end - e1 - 1));
  e2 = e2 ? e2 : end;
  size_t n1 = cells(p, e1, sep), n2 = cells(e1 + 1, e2, sep);
  if (n1 == 0 || n1 != n2 || !cell_at(p, e1, sep, 0, &c) || *p == '{' || *p == '#')
    return 0;
  const char *stop;
  tp_parse_double(c.p, c.e, &stop);
  return stop == c.e && c.e > c.p ? 0 : 50; /* a numeric first cell is no header */
}

const struct tp_series_reader tp_csv_reader = {
    .name = "csv",
    .summary = "CSV/TSV with a header (column grad_norm, gnorm, …; step/global_step)",
    .sniff = csv_sniff,
    .read = csv_read,
};
