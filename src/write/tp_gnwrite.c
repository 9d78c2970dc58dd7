/* Named-block gnuplot text for a gradient-norm analysis, to a file or a string. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tp_decimate.h"
#include "tp_error.h"
#include "tp_gnwrite.h"
#include "tp_limits.h"
#include "tp_out.h"
#include "tp_signal.h"
#include "tp_text.h"

/* Rows written between two polls for a deferred interrupt (a few MB of text). */
#define POLL_ROWS ((size_t)1 << 17)

/* A value (10 digits) or a step (15, exact for every integer step) through the one formatter. */
static void num(FILE *fp, const char *sep, double x) { tp_out_num(fp, sep, 10, x); }

static void step(FILE *fp, double x) { tp_out_num(fp, "", 15, x); }

/* Start a block; the first one's name line was written above the header. */
static void block(FILE *fp, const char *name, const char *columns, int first) {
  if (first)
    fprintf(fp, "# %s\n", columns);
  else
    fprintf(fp, "\n\n# %s\n# %s\n", name, columns);
}

static void none(FILE *fp, int ncol) {
  fputs("# (none)\n", fp);
  for (int i = 0; i < ncol; i++)
    fputs(i ? " NaN" : "NaN", fp);
  fputc('\n', fp);
}

/* Header comments; no line may start with a block name (gnuplot would take it
 * as that block's name). */
static void header(FILE *fp, const struct tp_gn_data *d) {
  const struct tp_stats *st = d->st;
  const struct tp_spikes *sp = d->sp;
  /* The names come from the file and its log: escaped, so none can start a data row. */
  fputs("# trainplot gradnorm data: ", fp);
  tp_text_fputs(d->source ? d->source : "-", fp);
  fputs(" (format ", fp);
  tp_text_fputs(d->s->format, fp);
  fputs(", key ", fp);
  tp_text_fputs(d->s->key, fp);
  fprintf(fp, ", %zu points)\n", d->s->n);
  if (st)
    fprintf(fp,
            "# statistics: count %zu, non-finite %zu, mean %.6g, sd %.6g, median %.6g, "
            "p99 %.6g, max %.6g at step %.15g\n",
            st->count, st->nonfinite, st->mean, st->sd, st->median, st->p99, st->max, st->max_step);
  if (st && !isnan(st->max_norm))
    fprintf(fp, "# clipping: max_norm %g, clipped fraction %.6g, mean coefficient %.6g\n",
            st->max_norm, st->clip_fraction, st->clip_coef_mean);
  if (sp)
    fprintf(fp,
            "# detection: method %s, window %zu, threshold %g, min_ratio %g%s; "
            "%zu episodes found, %zu kept\n",
            sp->opts.method, sp->opts.window, sp->opts.threshold, sp->opts.min_ratio,
            sp->opts.causal ? ", causal" : "", sp->n_found, sp->n_ep);
  fprintf(fp, "# fp16 overflow events in the log: %zu\n", d->s->n_overflow);
}

/* series, baseline and band over the kept indices. */
static int curves(FILE *fp, const struct tp_gn_data *d, const size_t *idx, size_t m) {
  const struct tp_series *s = d->s;
  double mn = d->st ? d->st->max_norm : NAN;
  block(fp, "series", isnan(mn) ? "step value" : "step value clipped", 1);
  for (size_t k = 0; k < m; k++) {
    size_t i = idx[k];
    if (k % POLL_ROWS == 0 && tp_intr_pending())
      return tp_intr_check();
    num(fp, "", tp_series_step(s, i));
    num(fp, " ", s->value[i]);
    if (!isnan(mn))
      num(fp, " ", s->value[i] > mn ? mn : s->value[i]);
    fputc('\n', fp);
  }
  if (m == 0)
    none(fp, isnan(mn) ? 2 : 3);
  block(fp, "baseline", "step baseline", 0);
  for (size_t k = 0; d->sp && k < m; k++) {
    if (k % POLL_ROWS == 0 && tp_intr_pending())
      return tp_intr_check();
    step(fp, tp_series_step(s, idx[k]));
    num(fp, " ", d->sp->baseline[idx[k]]);
    fputc('\n', fp);
  }
  if (!d->sp || m == 0)
    none(fp, 2);
  block(fp, "band", "step lower upper", 0);
  for (size_t k = 0, any = 0; d->sp && k < m; k++) {
    double b = d->sp->baseline[idx[k]], u = d->sp->upper[idx[k]];
    if (k % POLL_ROWS == 0 && tp_intr_pending())
      return tp_intr_check();
    if (isfinite(u)) {
      step(fp, tp_series_step(s, idx[k]));
      num(fp, " ", 2 * b - u);
      num(fp, " ", u);
      fputc('\n', fp);
      any = 1;
    }
    if (k + 1 == m && !any)
      none(fp, 3);
  }
  if (!d->sp || m == 0)
    none(fp, 3);
  return 0;
}

/* spikes, episodes and overflow blocks. */
static int events(FILE *fp, const struct tp_gn_data *d) {
  const struct tp_series *s = d->s;
  const struct tp_spikes *sp = d->sp;
  size_t k = 0;
  block(fp, "spikes", "step value", 0);
  for (size_t i = 0; sp && i < s->n; i++) {
    if (i % POLL_ROWS == 0 && tp_intr_pending())
      return tp_intr_check();
    if (tp_spikes_flagged(sp, s->value, i)) {
      step(fp, tp_series_step(s, i));
      num(fp, " ", s->value[i]);
      fputc('\n', fp), k++;
    }
  }
  if (k == 0)
    none(fp, 2);
  block(fp, "episodes", "rank start end peak_step peak baseline ratio score", 0);
  for (size_t e = 0; sp && e < sp->n_ep; e++) {
    const struct tp_episode *ep = &sp->ep[e];
    fprintf(fp, "%zu", e + 1);
    tp_out_num(fp, " ", 15, ep->start);
    tp_out_num(fp, " ", 15, ep->end);
    tp_out_num(fp, " ", 15, ep->peak_step);
    num(fp, " ", ep->peak);
    num(fp, " ", ep->baseline);
    num(fp, " ", ep->ratio);
    num(fp, " ", ep->score);
    fputc('\n', fp);
  }
  if (!sp || sp->n_ep == 0)
    none(fp, 8);
  block(fp, "overflow", "step kind (1 = overflow event in the log, 2 = NaN/inf value)", 0);
  for (size_t i = 0; i < s->n_overflow; i++)
    step(fp, s->overflow_step[i]), fputs(" 1\n", fp);
  k = s->n_overflow;
  for (size_t i = 0; i < s->n; i++) {
    if (i % POLL_ROWS == 0 && tp_intr_pending())
      return tp_intr_check();
    if (!isfinite(s->value[i]))
      step(fp, tp_series_step(s, i)), fputs(" 2\n", fp), k++;
  }
  if (k == 0)
    none(fp, 2);
  return 0;
}

/* All indices of finite points, when no decimation is asked for. */
static int all_finite(const struct tp_series *s, size_t **idx, size_t *m) {
  uint64_t bytes;
  *m = 0;
  if (tp_size_mul(s->n ? s->n : 1, sizeof(size_t), &bytes, NULL) < 0 ||
      tp_size_check(bytes, NULL, "output indices") < 0)
    return tp_err_last()->code;
  if (!(*idx = malloc(bytes)))
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu indices", s->n);
  for (size_t i = 0; i < s->n; i++)
    if (isfinite(s->value[i]))
      (*idx)[(*m)++] = i;
  return 0;
}

int tp_gn_write_stream(FILE *fp, const struct tp_gn_data *d, size_t *rows) {
  size_t *idx = NULL, m = 0;
  int rc;
  if (!d->s)
    return tp_err(TP_ESTATE, NULL, -1, "no series to write");
  if (d->sp && d->sp->n != d->s->n)
    return tp_err(TP_EINVAL, NULL, -1, "detection result is for %zu points, series has %zu",
                  d->sp->n, d->s->n);
  rc = d->columns
           ? tp_decimate(tp_series_steps(d->s), d->s->value, d->s->n, d->sp, d->columns, &idx, &m)
           : all_finite(d->s, &idx, &m);
  if (rc < 0)
    return rc;
  fputs("# series\n", fp); /* every block's first line is its name */
  header(fp, d);
  if (d->columns && m < d->s->n)
    fprintf(fp,
            "# display: %zu of %zu points kept (min/max envelope over %zu columns, "
            "every spike point kept)\n",
            m, d->s->n, d->columns);
  rc = curves(fp, d, idx, m);
  if (rc == 0)
    rc = events(fp, d);
  free(idx);
  if (rc < 0)
    return rc;
  if (rows)
    *rows = m;
  if (ferror(fp))
    return tp_err_errno(TP_EIO, d->source, "writing gnuplot data");
  return 0;
}

int tp_gn_write_file(const char *path, const struct tp_gn_data *d, size_t *rows) {
  struct tp_out o;
  int rc;
  if ((rc = tp_out_open(&o, path, d->source)) < 0)
    return rc;
  if ((rc = tp_gn_write_stream(o.fp, d, rows)) < 0) {
    tp_out_abort(&o);
    return rc;
  }
  return tp_out_commit(&o);
}

static int write_all(FILE *fp, const void *d) { return tp_gn_write_stream(fp, d, NULL); }

char *tp_gn_datablock(const struct tp_gn_data *d) {
  char *buf;
  tp_out_datablock(write_all, d, &buf);
  return buf;
}

char *tp_gn_summary(const struct tp_gn_data *d, size_t max_episodes) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp;
  if (!d->s) {
    tp_err(TP_ESTATE, NULL, -1, "no series loaded");
    return NULL;
  }
  if (!(fp = open_memstream(&buf, &len))) {
    tp_err(TP_ENOMEM, NULL, -1, "cannot open an in-memory stream");
    return NULL;
  }
  header(fp, d);
  for (size_t k = 0; d->sp && k < d->sp->n_ep && k < max_episodes; k++) {
    const struct tp_episode *e = &d->sp->ep[k];
    fprintf(fp,
            "#   %zu. step %.15g (steps %.15g-%.15g): peak %.6g, baseline %.6g, x%.3g, "
            "score %.3g\n",
            k + 1, e->peak_step, e->start, e->end, e->peak, e->baseline, e->ratio, e->score);
  }
  if (fclose(fp) != 0) {
    free(buf);
    tp_err(TP_ENOMEM, NULL, -1, "cannot grow the summary text");
    return NULL;
  }
  return buf;
}
