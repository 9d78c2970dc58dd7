/* gnuplot-ready output of a gradient-norm analysis: named blocks, files, datablocks, summary. */
#ifndef TP_GNWRITE_H
#define TP_GNWRITE_H

#include <stddef.h>
#include <stdio.h>

#include "tp_series.h"
#include "tp_spikes.h"
#include "tp_stats.h"

/* Pixel columns a series is decimated to by default (a wide plot is < 4096 px). */
#define TP_GN_COLUMNS 4096

/* What to write; st and sp may be NULL (their blocks then hold no points). */
struct tp_gn_data {
  const char *source; /* the input file, named in the header */
  const struct tp_series *s;
  const struct tp_stats *st;
  const struct tp_spikes *sp;
  size_t columns; /* decimate to this many pixel columns; 0 = write every point */
};

/*
 * The blocks, in this order, each starting with its "# name" line and
 * separated by two blank lines so `index "spikes"` works; a block with no
 * points holds one NaN row so the index still exists:
 *   series    step value [clipped]   (clipped = min(value, max_norm))
 *   baseline  step baseline
 *   band      step lower upper       (upper = detection bound, lower mirrors it)
 *   spikes    step value             (every flagged point, never decimated)
 *   episodes  rank start end peak_step peak baseline ratio score
 *   overflow  step kind              (1 = overflow event in the log, 2 = NaN/inf value)
 */
/* *rows (may be NULL) gets the number of series points written. */
int tp_gn_write_stream(FILE *fp, const struct tp_gn_data *d, size_t *rows);
/* Write path atomically (temporary + rename); refuses path == d->source. */
int tp_gn_write_file(const char *path, const struct tp_gn_data *d, size_t *rows);
/* The same text as a malloc'ed string (caller frees), for an in-memory datablock. */
char *tp_gn_datablock(const struct tp_gn_data *d);

/* A few lines for a console: source, statistics, clipping, detection and up
 * to max_episodes ranked episodes; malloc'ed (caller frees), NULL on failure. */
char *tp_gn_summary(const struct tp_gn_data *d, size_t max_episodes);

#endif
