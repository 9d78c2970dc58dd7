/* The moving median and the robust moving scale that the spike detectors are built on. */
#ifndef TP_MOVMED_H
#define TP_MOVMED_H

#include <stddef.h>

/* The moving median with truncated ends: centred window w (odd), or trailing
 * (the current point and the w - 1 before it) when causal. y may equal x. */
int tp_spikes_movmed(const double *x, size_t n, size_t w, int causal, double *y);
/* The robust moving scale used by mad: 1.4826 x movmed(|x - med|). */
int tp_spikes_movscale(const double *x, const double *med, size_t n, size_t w, int causal,
                       double *y);

#endif
