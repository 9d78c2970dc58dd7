/* Summary statistics of a gradient-norm series, and the clipping view of it. */
#ifndef TP_STATS_H
#define TP_STATS_H

#include <stddef.h>

#include "tp_series.h"

/*
 * Everything but the counts is computed on the finite values only, so a NaN
 * or ±inf step never poisons a mean or a quantile; fields with no defined
 * value (count 0, or no max_norm) are NaN.
 */
struct tp_stats {
  size_t n;         /* points in the series */
  size_t count;     /* finite points */
  size_t nonfinite; /* NaN and ±inf points (n - count) */
  size_t n_nan, n_posinf, n_neginf;
  double first_nonfinite_step; /* NaN when there is none */
  double mean, sd;             /* sd is the sample sd; 0 for one point */
  double min, max, min_step, max_step;
  double median, p90, p99, p999;
  /* with max_norm (NaN otherwise): fairseq's `clip` and torch's clip_coef */
  double max_norm;
  size_t n_clipped;      /* finite steps with norm > max_norm */
  double clip_fraction;  /* n_clipped / count */
  double clip_coef_mean; /* mean over finite steps of min(1, max_norm / norm) */
};

/* Compute st over n points; an empty series is TP_EEMPTY, all non-finite is a
 * documented result (count 0, NaN statistics). max_norm NaN = no clipping. */
int tp_stats_compute(struct tp_steps step, const double *value, size_t n, double max_norm,
                     struct tp_stats *st);

/* The norm after torch.nn.utils.clip_grad_norm_: min(norm, max_norm) for finite
 * norms; non-finite norms are copied (torch would skip or poison that step). */
int tp_stats_clip(const double *value, size_t n, double max_norm, double *out);

/* Steps of the non-finite points, in order; *out is malloc'ed (NULL when none). */
int tp_stats_nonfinite_steps(struct tp_steps step, const double *value, size_t n, double **out,
                             size_t *nout);

#endif
