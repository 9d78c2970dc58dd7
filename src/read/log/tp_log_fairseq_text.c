/* fairseq text logs: the key=value and "| key value |" scanners, one part per core. */
#include <config.h>
#include <stddef.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tp_error.h"
#include "tp_log_fairseq_int.h"
#include "tp_map.h"
#include "tp_numparse.h"
#include "tp_series.h"

/* Count the overflow notes in [a, b): lines with "overflow detected". */
void tp__fs_overflow_notes(struct fs *f, const char *a, const char *b) {
  const char *p;
  while (a < b && (p = tp__find(a, b, "overflow detected", 17))) {
    f->pending++;
    a = line_end(p, b) + 1;
  }
}

/* Append one record; a missing step (NAN) falls back to the record index. */
int tp__fs_record(struct fs *f, const char *at, double step, double value) {
  int have = !isnan(step), rc;
  if (f->stepmode < 0)
    f->stepmode = have;
  if (f->stepmode == 0)
    step = (double)f->s->n;
  else if (!have) {
    tp__bad_at(f->s, &f->lines, at);
    return 0;
  }
  if ((rc = tp_series_push(f->s, step, value)) < 0)
    return rc;
  for (; f->pending; f->pending--)
    if ((rc = tp_series_push_overflow(f->s, step)) < 0)
      return rc;
  return 0;
}

/* The number after needle at p if needle occurs in [lo, hi) at a token boundary. */
static double field(const char *lo, const char *hi, const char *needle, size_t m) {
  const char *p = lo, *q;
  while ((p = tp__find(p, hi, needle, m))) {
    if (p == lo || boundary(p[-1])) {
      double v = tp_parse_double(p + m, hi, &q);
      return q > p + m ? v : NAN;
    }
    p++;
  }
  return NAN;
}

/* A progress line (train_inner, or legacy "| epoch 001:"), not the Namespace(…) printout
   whose `lr=[0.0005], seed=1` would otherwise look like records. */
static int kv_line(const char *ls, const char *hit) {
  return tp__find(ls, hit, "train_inner", 11) || tp__find(ls, hit, "| epoch ", 8);
}

/* A key=value or "| key value" record whose key starts at hit. */
static int text_record(struct fs *f, const char *ls, const char *hit, const char *le) {
  const char *v = hit + f->nlen, *q;
  double step =
      f->kind == FS_KV ? field(ls, le, "num_updates=", 12) : field(ls, le, "| num_updates ", 14);
  if (f->kind == FS_KV && isnan(step) && !kv_line(ls, hit))
    return 0; /* only checked without num_updates: progress lines all have one */
  double x = tp_parse_double(v, le, &q);
  if (q == v || (q < le && !boundary(*q) && *q != '\r'))
    return tp__bad_at(f->s, &f->lines, hit), 0;
  return tp__fs_record(f, hit, step, x);
}

/* Epoch summaries and valid lines share the "| key value |" form; keep the wanted kind. */
static int pipe_wanted(const struct fs *f, const char *ls, const char *le) {
  int valid = tp__find(ls, le, "valid on", 8) || tp__find(ls, le, "| valid |", 9);
  return valid == !!f->o->use_valid;
}

/* Scan for the key=value / "| key " needle; the gaps between records hold the notes. */
static int scan_text(struct fs *f) {
  const char *pos = f->base, *cur = pos, *hit, *dropped = pos;
  int rc = 0;
  while (rc == 0 && (hit = tp__find(cur, f->end, f->needle, f->nlen))) {
    if (f->kind == FS_KV && hit > pos && !boundary(hit[-1]) && hit[-1] != '\n') {
      cur = hit + 1;
      continue;
    }
    const char *ls = line_start(pos, hit), *le = line_end(hit, f->end);
    tp__fs_overflow_notes(f, pos, ls);
    if (f->kind == FS_KV || pipe_wanted(f, ls, le))
      rc = text_record(f, ls, hit, le);
    pos = cur = le < f->end ? le + 1 : f->end;
    if (f->mapped && pos - dropped >= (8 << 20)) {
      tp_map_drop(dropped, pos);
      dropped = pos;
    }
  }
  tp__fs_overflow_notes(f, pos, f->end);
  return rc;
}

/* ---- text logs in parts over the cores ---- */

/* One part: a copy of the reader's state over the part's lines (line 1 = its first). */
static void text_part(struct tp__part *pt) {
  struct fs *f = pt->ctx;
  f->base = pt->a;
  f->end = pt->b;
  f->lines = (struct tp__lines){f->base, 1};
  if (!(f->s = tp_series_new())) {
    pt->rc = tp_err(TP_ENOMEM, f->path, -1, "out of memory");
    return;
  }
  pt->rc = scan_text(f);
  pt->s = f->s;
  f->s = NULL;
}

/* Before the merge: record indices run on across the parts (mode 0), and each part's
   leading overflow notes carried from the part before go in front of its own events;
   *carry ends as the notes after the last part's last record. */
static int stitch(struct tp__part *parts, const struct fs *pf, size_t k, int mode, size_t *carry) {
  size_t off = 0;
  int rc = 0;
  for (size_t i = 0; i < k && rc == 0; i++) {
    struct tp_series *p = parts[i].s;
    if (mode == 0 && !p->step)
      p->step0 = (double)off; /* record indices run on across parts */
    off += p->n;
    if (*carry && p->n) { /* notes from before this part's first record */
      double st = tp_series_step(p, 0);
      size_t own = p->n_overflow;
      for (size_t j = 0; j < *carry && rc == 0; j++)
        rc = tp_series_push_overflow(p, st);
      /* they happened first: rotate them in front of the part's own events */
      for (size_t j = own; j-- > 0 && rc == 0;)
        p->overflow_step[j + *carry] = p->overflow_step[j];
      for (size_t j = 0; j < *carry && rc == 0; j++)
        p->overflow_step[j] = st;
      *carry = 0;
    }
    *carry += pf[i].pending;
  }
  return rc;
}

/*
 * Scan a key=value or summary log in one part per core. Each part decides its own step
 * mode from its first record; when a later part decides otherwise than the file's first
 * record did (a log mixing lines with and without num_updates right at a cut), the file
 * is scanned again in one pass, so the result never depends on where the cuts fell.
 * Overflow notes after a part's last record belong to the next part's first record.
 */
int tp__fs_scan_parts(struct fs *f) {
  struct tp__part parts[TP__PARTS_MAX];
  struct fs pf[TP__PARTS_MAX];
  size_t k = tp__parts_split(f->base, f->end, (size_t)32 << 20, parts), carry = 0;
  int rc, mode = -1;
  if (k < 2)
    return scan_text(f);
  for (size_t i = 0; i < k; i++) {
    pf[i] = *f;
    pf[i].s = NULL;
    parts[i].ctx = &pf[i];
  }
  rc = tp__parts_run(parts, k, text_part);
  for (size_t i = 0; rc == 0 && i < k; i++) {
    if (pf[i].stepmode >= 0 && mode >= 0 && pf[i].stepmode != mode)
      mode = -2;
    else if (mode == -1)
      mode = pf[i].stepmode;
  }
  if (rc == 0 && mode != -2) {
    rc = stitch(parts, pf, k, mode, &carry);
    if (rc == 0)
      rc = tp__parts_merge(parts, k, f->base);
  }
  for (size_t i = 1; i < k; i++)
    tp_series_free(parts[i].s);
  if (rc < 0 || mode == -2) {
    tp_series_free(parts[0].s);
    if (rc < 0)
      return rc;
    return scan_text(f); /* the step mode changed at a cut: one pass decides it */
  }
  tp_series_free(f->s);
  f->s = parts[0].s;
  f->stepmode = mode;
  f->pending = carry;
  return 0;
}
