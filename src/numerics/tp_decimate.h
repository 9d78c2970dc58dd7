/* Display decimation of a series: which points to draw so that nothing visible is lost. */
#ifndef TP_DECIMATE_H
#define TP_DECIMATE_H

#include <stddef.h>

#include "tp_series.h"
#include "tp_spikes.h"

/*
 * Display decimation: the indices (ascending) of the finite points to draw
 * when the series spans `columns` pixel columns of equal step width.  Per run
 * of points in one column it keeps the first, last, smallest and largest, and
 * every point sp flags (sp may be NULL), so the min/max envelope and each
 * spike look the same as with all points.  *idx is malloc'ed.
 */
int tp_decimate(struct tp_steps step, const double *value, size_t n, const struct tp_spikes *sp,
                size_t columns, size_t **idx, size_t *m);

#endif
