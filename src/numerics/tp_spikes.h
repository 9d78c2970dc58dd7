/* Spike detectors for gradient-norm series, and the episodes they find. */
#ifndef TP_SPIKES_H
#define TP_SPIKES_H

#include <stddef.h>

#include "tp_series.h"

/*
 * Every detector turns the finite values into a per-point baseline and an
 * upper bound; a point above its bound is flagged, consecutive flagged points
 * (non-finite points in between are skipped over) form one episode.
 *
 *   mad        baseline = moving median (window W, centred or trailing);
 *              scale = 1.4826 x moving median of |x - baseline| (the same
 *              O(n log W) moving median run over the absolute residuals; not
 *              the textbook rolling MAD, which would re-centre every window);
 *              bound = baseline + max(T x scale, (R - 1) x |baseline|).
 *   ewma       ZClip-style: EMA mean and variance (weight alpha on the new
 *              value), z = (x - mean) / sd; a flagged value enters the EMA
 *              clipped to the bound so a spike does not lift its own baseline;
 *              the first W/4 points only warm the EMA up.
 *   ratio      bound = T x moving median (T = k, default 3).
 *   threshold  bound = T, or max_norm when T is not given.
 *
 * R (min_ratio, default 2) keeps a point that is many scales above a very
 * smooth baseline but barely higher than it from counting as a spike.
 */
struct tp_spike_opts {
  char method[16];  /* "mad", "ewma", "ratio", "threshold" */
  size_t window;    /* odd number of points; 0 = method default (101) */
  double threshold; /* NaN = method default (mad 8, ewma 8, ratio 3) */
  double min_ratio; /* NaN = default 2 (mad and ewma) */
  double alpha;     /* ewma weight of the new value; NaN = 0.02 */
  double max_norm;  /* NaN = none */
  size_t top;       /* keep the K most severe episodes; 0 = all */
  int causal;       /* 1 = trailing window, as an online monitor sees it */
};

struct tp_episode {
  size_t i_start, i_end, i_peak; /* indices into the series */
  double start, end, peak_step;  /* training steps */
  double peak;                   /* largest value in the episode */
  double baseline;               /* baseline at the peak */
  double ratio;                  /* peak / baseline (NaN when baseline <= 0) */
  double score;                  /* (peak - baseline) / series scale: ranking key */
};

struct tp_spikes {
  size_t n;                  /* points in the analysed series */
  double *baseline;          /* per point; NaN at non-finite points */
  double *upper;             /* per point bound; NaN at non-finite or warm-up points */
  double scale;              /* series scale: 1.4826 x median |x - baseline| */
  struct tp_episode *ep;     /* ranked, most severe first */
  size_t n_ep;               /* episodes kept (after top) */
  size_t n_found;            /* episodes found before top */
  size_t n_flagged;          /* flagged points */
  struct tp_spike_opts opts; /* the options with defaults filled in */
};

/* Fill o with the defaults (method mad, everything else "default"). */
void tp_spike_opts_init(struct tp_spike_opts *o);
/* Parse "key=value …" (keys: method window threshold min_ratio alpha max_norm
 * top causal) into o; an unknown key or bad value is TP_EINVAL naming it. */
int tp_spike_opts_parse(struct tp_spike_opts *o, const char *text);
/* The detectors' names from their table, NULL-terminated: "mad", "ewma", "ratio", … */
const char *const *tp_spike_method_names(void);
/* The same names joined for usage messages: "mad|ewma|ratio|threshold". */
const char *tp_spike_methods(void);

/* Detect spikes in value[0..n) (steps give the episode positions); *out is
 * allocated and owned by the caller (tp_spikes_free). */
int tp_spikes_detect(struct tp_steps step, const double *value, size_t n,
                     const struct tp_spike_opts *o, struct tp_spikes **out);
void tp_spikes_free(struct tp_spikes *sp);
/* 1 when point i of the analysed series is flagged. */
int tp_spikes_flagged(const struct tp_spikes *sp, const double *value, size_t i);

#endif
