/* Writers for gnuplot: binary matrix, text matrix, named-block profile, datablock, the table. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_out.h"
#include "tp_signal.h"
#include "tp_simwrite.h"

/* Writers poll for a deferred interrupt once per POLL_CELLS cells (4 MB in binary). */
#define POLL_CELLS ((size_t)1 << 20)

/* Count cells written; TP_EINTR once a signal is pending, checked every POLL_CELLS. */
static int poll_cells(size_t *count, size_t add) {
  if ((*count += add) < POLL_CELLS)
    return 0;
  *count = 0;
  return tp_intr_check();
}

/* The position a pooled cell stands for: the middle of its block. */
static double cell_coord(const struct tp_simmat *s, size_t k) {
  size_t lo = tp_sim_block_lo(s->src_n, s->n, k);
  size_t hi = tp_sim_block_lo(s->src_n, s->n, k + 1);
  return ((double)lo + (double)(hi - 1)) / 2.0;
}

/* Finish an output: commit when the body was written, else drop the temporary. */
static int finish(struct tp_out *o, int rc) {
  if (rc < 0) {
    tp_out_abort(o);
    return rc;
  }
  return tp_out_commit(o);
}

/* gnuplot's `binary matrix`: N and the column coordinates, then y and N values per row. */
int tp_simwrite_binary(const struct tp_simmat *s, const char *path, const char *input) {
  struct tp_out o;
  float *row = malloc((s->n + 1) * sizeof *row);
  size_t cells = 0;
  int rc = row ? tp_out_open(&o, path, input) : tp_err(TP_ENOMEM, path, -1, "out of memory");
  if (rc < 0) {
    free(row);
    return rc;
  }
  row[0] = (float)s->n;
  for (size_t j = 0; j < s->n; j++)
    row[j + 1] = (float)cell_coord(s, j);
  for (size_t i = 0; i <= s->n && rc == 0; i++) {
    if (i > 0) {
      row[0] = (float)cell_coord(s, i - 1);
      if (s->dtype == TP_F32)
        memcpy(row + 1, (const float *)s->data + (i - 1) * s->n, s->n * sizeof *row);
      else
        for (size_t j = 0; j < s->n; j++)
          row[j + 1] = (float)tp_simmat_get(s, i - 1, j);
    }
    if (fwrite(row, sizeof *row, s->n + 1, o.fp) != s->n + 1)
      rc = tp_err_errno(TP_EIO, path, "cannot write output");
    else
      rc = poll_cells(&cells, s->n + 1);
  }
  free(row);
  return finish(&o, rc);
}

/* Rows of the matrix as text, 7 digits a cell (a float's precision). */
static int put_rows(FILE *fp, const struct tp_simmat *s, const char *path) {
  size_t cells = 0;
  int rc;
  for (size_t i = 0; i < s->n; i++) {
    for (size_t j = 0; j < s->n; j++)
      tp_out_num(fp, j ? " " : "", 7, tp_simmat_get(s, i, j));
    if (fputc('\n', fp) == EOF)
      return tp_err_errno(TP_EIO, path, "cannot write output");
    if ((rc = poll_cells(&cells, s->n)) < 0)
      return rc;
  }
  return 0;
}

int tp_simwrite_text(const struct tp_simmat *s, const char *path, const char *input) {
  struct tp_out o;
  int rc = tp_out_open(&o, path, input);
  if (rc < 0)
    return rc;
  fprintf(o.fp, "# %s %s, %zu x %zu", tp_metric_name(s->metric),
          s->metric == TP_METRIC_EUCLIDEAN ? "distance" : "similarity", s->n, s->n);
  if (s->block > 1)
    fprintf(o.fp, " (block %s of %zu positions)", s->how == TP_POOL_MAX ? "max" : "mean", s->src_n);
  fputc('\n', o.fp);
  return finish(&o, put_rows(o.fp, s, path));
}

/* One profile row: the offset, then mean, min and max. */
static void put_offset(FILE *fp, size_t offset, double mean, double lo, double hi) {
  fprintf(fp, "%zu", offset);
  tp_out_num(fp, " ", 7, mean);
  tp_out_num(fp, " ", 7, lo);
  tp_out_num(fp, " ", 7, hi);
  fputc('\n', fp);
}

/* Offsets [a, b) of one pixel column: the rows kept are the first, the last and those of
   the lowest and highest mean (in offset order, each once), so the mean line looks the same
   at that width; every kept row carries the column's whole min-max band. */
static void put_column(FILE *fp, const struct tp_profile *p, size_t a, size_t b) {
  size_t keep[4] = {a, b - 1, a, a}, lo_i = SIZE_MAX, hi_i = SIZE_MAX, prev = SIZE_MAX;
  double lo = NAN, hi = NAN;
  for (size_t k = a; k < b; k++) {
    if (isfinite(p->mean[k])) {
      if (lo_i == SIZE_MAX || p->mean[k] < p->mean[lo_i])
        lo_i = k;
      if (hi_i == SIZE_MAX || p->mean[k] > p->mean[hi_i])
        hi_i = k;
    }
    if (isfinite(p->min[k]) && !(p->min[k] >= lo))
      lo = p->min[k];
    if (isfinite(p->max[k]) && !(p->max[k] <= hi))
      hi = p->max[k];
  }
  keep[2] = lo_i == SIZE_MAX ? a : lo_i;
  keep[3] = hi_i == SIZE_MAX ? a : hi_i;
  for (int x = 1; x < 4; x++) /* four entries: insertion sort */
    for (int y = x; y > 0 && keep[y - 1] > keep[y]; y--) {
      size_t t = keep[y];
      keep[y] = keep[y - 1], keep[y - 1] = t;
    }
  for (int x = 0; x < 4; x++) {
    if (keep[x] == prev)
      continue;
    prev = keep[x];
    put_offset(fp, keep[x] * p->block, p->mean[keep[x]], lo, hi);
  }
}

/* The profile and summary blocks, named by their first line and two blank lines apart for
   `index "name"`; columns > 0 decimates the profile to that many pixel
   columns once it has more than four offsets per column. */
static int write_profile(const struct tp_profile *p, const struct tp_simmat *s, const char *path,
                         const char *input, size_t columns) {
  struct tp_out o;
  int rc = tp_out_open(&o, path, input), decimate = columns > 0 && p->n / 4 > columns;
  if (rc < 0)
    return rc;
  fprintf(o.fp, "# profile\n# offset mean min max (%s, offsets in positions",
          tp_metric_name(s->metric));
  if (decimate)
    fprintf(o.fp,
            "; %zu offsets shown in %zu columns: first, last, lowest and highest mean, "
            "with the column's min-max band",
            p->n, columns);
  fputs(")\n", o.fp);
  if (decimate)
    for (size_t c = 0; c < columns; c++)
      put_column(o.fp, p, p->n * c / columns, p->n * (c + 1) / columns);
  else
    for (size_t k = 0; k < p->n; k++)
      put_offset(o.fp, k * p->block, p->mean[k], p->min[k], p->max[k]);
  fprintf(o.fp, "\n\n# summary\n# band_half_width toeplitz_deviation period "
                "period_rise (-1 = none)\n");
  fprintf(o.fp, "%ld", p->band < 0 ? -1 : p->band * (long)p->block);
  tp_out_num(o.fp, " ", 7, p->toeplitz);
  fprintf(o.fp, " %ld", p->period < 0 ? -1 : p->period * (long)p->block);
  tp_out_num(o.fp, " ", 7, p->period_rise);
  fputc('\n', o.fp);
  return finish(&o, ferror(o.fp) ? tp_err_errno(TP_EIO, path, "cannot write output") : 0);
}

int tp_simwrite_profile(const struct tp_profile *p, const struct tp_simmat *s, const char *path,
                        const char *input) {
  return write_profile(p, s, path, input, 0);
}

int tp_simwrite_profile_display(const struct tp_profile *p, const struct tp_simmat *s,
                                const char *path, const char *input, size_t columns) {
  return write_profile(p, s, path, input, columns);
}

static int datablock_rows(FILE *fp, const void *s) { return put_rows(fp, s, "datablock"); }

int tp_simwrite_datablock(const struct tp_simmat *s, size_t max_n, char **out) {
  *out = NULL;
  if (s->n > max_n)
    return tp_err(TP_ELIMIT, NULL, -1,
                  "a %zu x %zu matrix is too large for a datablock (at most "
                  "%zu); write a binary file instead",
                  s->n, s->n, max_n);
  return tp_out_datablock(datablock_rows, s, out);
}

static double row_get(const struct tp_rows *r, size_t k) {
  return r->dtype == TP_F64 ? ((const double *)r->data)[k] : (double)((const float *)r->data)[k];
}

/* NumPy format 1.0: magic, version, a header padded to 64 bytes, raw <f4 data. */
static int put_npy(FILE *fp, const struct tp_rows *r, const char *path) {
  char head[128];
  int len = snprintf(head, sizeof head,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(%zu, %zu), }",
                     r->n, r->d);
  size_t total = ((size_t)len + 1 + 10 + 63) / 64 * 64;
  unsigned short hlen = (unsigned short)(total - 10);
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  fwrite(pre, 1, sizeof pre, fp);
  fprintf(fp, "%-*s\n", (int)(hlen - 1), head);
  for (size_t k = 0, cells = 0; k < r->n * r->d; k++) {
    float f = (float)row_get(r, k);
    unsigned char b[4];
    uint32_t u;
    int rc;
    if ((rc = poll_cells(&cells, 1)) < 0)
      return rc;
    memcpy(&u, &f, 4);
    b[0] = u & 0xff, b[1] = (u >> 8) & 0xff, b[2] = (u >> 16) & 0xff, b[3] = (u >> 24) & 0xff;
    if (fwrite(b, 1, 4, fp) != 4)
      return tp_err_errno(TP_EIO, path, "cannot write output");
  }
  return 0;
}

/* The table as text, 9 digits a cell (a float survives the round trip). */
static int put_table_text(FILE *fp, const struct tp_rows *r, const char *path) {
  size_t cells = 0;
  int rc;
  fprintf(fp, "# %zu x %zu\n", r->n, r->d);
  for (size_t i = 0; i < r->n; i++) {
    if ((rc = poll_cells(&cells, r->d)) < 0)
      return rc;
    for (size_t k = 0; k < r->d; k++)
      tp_out_num(fp, k ? " " : "", 9, row_get(r, i * r->d + k));
    if (fputc('\n', fp) == EOF)
      return tp_err_errno(TP_EIO, path, "cannot write output");
  }
  return 0;
}

int tp_table_write(const struct tp_rows *r, const char *path, const char *input) {
  size_t len = path ? strlen(path) : 0;
  int npy = len >= 4 && strcmp(path + len - 4, ".npy") == 0;
  struct tp_out o;
  int rc = tp_out_open(&o, path, input);
  if (rc < 0)
    return rc;
  rc = npy ? put_npy(o.fp, r, path) : put_table_text(o.fp, r, path);
  return finish(&o, rc);
}
