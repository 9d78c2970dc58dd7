/* Internals shared by the spike detectors, their options and the detection loop. */
#ifndef TP_SPIKES_INT_H
#define TP_SPIKES_INT_H

#include <stddef.h>

#include "tp_spikes.h"

#define MAD_TO_SD 1.482602218505602 /* 1 / Phi^-1(3/4): MAD of a normal = sd */

/* Fill base[0..m) and upper[0..m) for the finite values x[0..m). */
typedef int (*bound_fn)(const double *x, size_t m, const struct tp_spike_opts *o, double *base,
                        double *upper);

struct tp__detector {
  const char *name;
  double threshold; /* default T */
  bound_fn bound;
};

/* The detector named name, or NULL (tp_detectors.c). */
const struct tp__detector *tp__spikes_detector(const char *name);
/* The rules between options and on values set in the struct directly (NaN and window 0
   are "default"); names the broken one (tp_spikeopt.c). */
int tp__spikes_check_opts(const struct tp_spike_opts *o);

#endif
