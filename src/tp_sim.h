/* Pairwise similarity of table rows, its offset profile, and the writers for both. */
#ifndef TP_SIM_H
#define TP_SIM_H

#include <stddef.h>

#include "tp_tensor.h"

enum tp_metric { TP_METRIC_COSINE = 0, TP_METRIC_DOT, TP_METRIC_EUCLIDEAN };

/* Parse "cosine", "dot" or "euclidean" ("" = cosine); records TP_EINVAL otherwise. */
int tp_metric_parse(const char *s, enum tp_metric *out);
const char *tp_metric_name(enum tp_metric m);

/* A row-major view of an n x d table, float or double, that the caller keeps alive. */
struct tp_rows {
  size_t n, d;
  enum tp_dtype dtype;
  const void *data;
};

/* How to pool: block mean (default) or block max. */
enum tp_pool { TP_POOL_MEAN = 0, TP_POOL_MAX };

/* Called now and then during long runs with the fraction done (0..1). */
typedef void (*tp_progress_fn)(void *ctx, double done);

struct tp_sim_opts {
  enum tp_metric metric;
  int dbl;            /* compute in double instead of float32 */
  size_t pool;        /* 0 = full matrix, else at most pool x pool blocks */
  enum tp_pool how;   /* block mean or max when pooling */
  tp_progress_fn progress;
  void *progress_ctx;
};

/* A square similarity matrix; cells of an all-zero row are NaN for cosine. */
struct tp_simmat {
  size_t n;            /* rows = columns */
  enum tp_dtype dtype; /* TP_F32 or TP_F64 */
  void *data;          /* n * n, row-major */
  enum tp_metric metric;
  size_t src_n;        /* positions before pooling */
  size_t block;        /* positions per pooled cell (1 when not pooled) */
  enum tp_pool how;
};

/* Similarity of the rows of r; *out is owned by the caller. */
int tp_sim_compute(const struct tp_rows *r, const struct tp_sim_opts *o,
                   struct tp_simmat **out);
void tp_simmat_free(struct tp_simmat *s);
/* Cell (i, j) as double. */
double tp_simmat_get(const struct tp_simmat *s, size_t i, size_t j);
/* Pool an unpooled matrix to m x m blocks (mean or max of its defined cells). */
int tp_sim_pool(const struct tp_simmat *full, size_t m, enum tp_pool how,
                struct tp_simmat **out);
/* First source row of pooled cell k (k may equal n, giving src_n). */
size_t tp_sim_block_lo(size_t src_n, size_t n, size_t k);

/* Similarity by offset |i-j|, and what it says about the table. */
struct tp_profile {
  size_t n;        /* offsets 0..n-1 */
  double *mean, *min, *max;
  long band;       /* first offset whose mean < 0.5 (relative for dot); -1 when none */
  double toeplitz; /* largest |S_ij - mean at |i-j||, ignoring NaN */
  size_t toeplitz_i, toeplitz_j;
  long period;     /* offset of a secondary peak; -1 when none */
  double period_rise; /* how far the profile climbs back at that peak */
};

/* The offset profile of s; *out is owned by the caller. */
int tp_profile_compute(const struct tp_simmat *s, struct tp_profile **out);
void tp_profile_free(struct tp_profile *p);
/* The index of a secondary peak in y[0..n), or -1 (exposed for the tests). */
long tp_profile_period(const double *y, size_t n, double min_rise, double *rise);

/* Writers; all are atomic and refuse an output equal to input (may be NULL). */
int tp_simwrite_binary(const struct tp_simmat *s, const char *path,
                       const char *input);
int tp_simwrite_text(const struct tp_simmat *s, const char *path,
                     const char *input);
int tp_simwrite_profile(const struct tp_profile *p, const struct tp_simmat *s,
                        const char *path, const char *input);
/* The matrix as text for a gnuplot datablock; *out is malloc'ed (caller frees). */
int tp_simwrite_datablock(const struct tp_simmat *s, size_t max_n, char **out);
/* The table itself, as float32 .npy (path ends in .npy) or a text matrix. */
int tp_table_write(const struct tp_rows *r, const char *path, const char *input);

#endif
