/* A square similarity matrix (full or pooled) and the geometry of its cells. */
#ifndef TP_SIMMAT_H
#define TP_SIMMAT_H

#include <stddef.h>

#include "tp_metric.h"
#include "tp_tensor.h"

/* How to pool: block mean (default) or block max. */
enum tp_pool { TP_POOL_MEAN = 0, TP_POOL_MAX };

/* A square similarity matrix; cells of an all-zero row are NaN for cosine. */
struct tp_simmat {
  size_t n;            /* rows = columns */
  enum tp_dtype dtype; /* TP_F32 or TP_F64 */
  void *data;          /* n * n, row-major */
  enum tp_metric metric;
  size_t src_n; /* positions before pooling */
  size_t block; /* positions per pooled cell (1 when not pooled) */
  enum tp_pool how;
};

void tp_simmat_free(struct tp_simmat *s);
/* Cell (i, j) as double. */
double tp_simmat_get(const struct tp_simmat *s, size_t i, size_t j);
/* The smallest and largest finite cells; 1 when there is one, else 0 with *lo = *hi = NaN
   (every cell undefined, as for a cosine table of zero rows). */
int tp_simmat_range(const struct tp_simmat *s, double *lo, double *hi);
/* First source row of pooled cell k (k may equal n, giving src_n). */
size_t tp_sim_block_lo(size_t src_n, size_t n, size_t k);
/* Where row r0 of [0, n) should start for part p of t (p = 0..t), so that each part of
   rows holds an equal share of an upper triangle (row i holds n - i cells). */
size_t tp_triangle_split(size_t n, size_t p, size_t t);

#endif
