/* Pairwise similarity of table rows: the kernel's inputs, options and entry points. */
#ifndef TP_SIM_H
#define TP_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "tp_metric.h"
#include "tp_simmat.h"
#include "tp_tensor.h"

/* A row-major view of an n x d table, float or double, that the caller keeps alive. */
struct tp_rows {
  size_t n, d;
  enum tp_dtype dtype;
  const void *data;
};

/* Called now and then during long runs with the fraction done (0..1). */
typedef void (*tp_progress_fn)(void *ctx, double done);

struct tp_sim_opts {
  enum tp_metric metric;
  int dbl;          /* compute in double instead of float32 */
  size_t pool;      /* 0 = full matrix, else at most pool x pool blocks */
  enum tp_pool how; /* block mean or max when pooling */
  tp_progress_fn progress;
  void *progress_ctx;
};

/* Bytes an unpooled n x n matrix may take: 1 GiB, or the byte limit when that is lower
   or TRAINPLOT_MAX_BYTES is set. A small file can declare a long table (an 80 KB N x 1
   .npy is a 1.6 GB matrix), so the full matrix is planned only within this budget. */
uint64_t tp_sim_full_budget(void);

/* Similarity of the rows of r; *out is owned by the caller. Without pooling, a matrix
   over tp_sim_full_budget() is TP_ELIMIT naming --pool. Returns TP_EINTR, with nothing
   allocated, when a deferred SIGINT/SIGTERM arrives (tp_signal.h). */
int tp_sim_compute(const struct tp_rows *r, const struct tp_sim_opts *o, struct tp_simmat **out);
/* Pool an unpooled matrix to m x m blocks (mean or max of its defined cells). */
int tp_sim_pool(const struct tp_simmat *full, size_t m, enum tp_pool how, struct tp_simmat **out);

/* A consumer of the similarity rows as they are computed, in the manner of GSL's movstat
   accumulators: the tiled path hands it each block of upper-triangle rows, the full path
   the finished matrix, so the kernel knows nothing of what is gathered. */
struct tp_sim_sink {
  void *state;
  /* Before the first row of an n-row table. */
  int (*init)(void *state, size_t n, enum tp_metric m);
  /* Rows [r0, r1) of float cells, row i's S(i, i + k) at v0 + (i - r0) * stride; rows
     with skip[i] set are left out (skip may be NULL). */
  void (*rows_f)(void *state, size_t r0, size_t r1, const float *v0, size_t stride,
                 const unsigned char *skip);
  /* Row i's double cells S(i, i + k); columns with skip[j] set are undefined. */
  void (*row_d)(void *state, size_t i, const double *v, const unsigned char *skip);
  /* After the rows, with the pass's status (negative: discard what was gathered);
     returns the final status. */
  int (*finish)(void *state, int rc);
  /* The whole matrix, when it was computed unpooled instead of in tiles. */
  int (*matrix)(void *state, const struct tp_simmat *s);
};

/* tp_sim_compute with a sink (NULL: none). With a sink, a matrix over
   tp_sim_full_budget() is not refused but pooled (1024 cells a side, n/2 for a shorter
   table; out's block > 1 says so), the sink getting the unpooled rows. */
int tp_sim_compute_sink(const struct tp_rows *r, const struct tp_sim_opts *o,
                        const struct tp_sim_sink *sink, struct tp_simmat **out);

#endif
