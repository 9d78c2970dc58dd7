/* Pairwise similarity of table rows, its offset profile, and the writers for both. */
#ifndef TP_SIM_H
#define TP_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "tp_tensor.h"

enum tp_metric { TP_METRIC_COSINE = 0, TP_METRIC_DOT, TP_METRIC_EUCLIDEAN };

/* Parse "cosine", "dot" or "euclidean"; records TP_EINVAL (listing them) otherwise,
   also for "". */
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

/* Bytes an unpooled n x n matrix may take: 1 GiB, or the byte limit when that is lower
   or TRAINPLOT_MAX_BYTES is set. A small file can declare a long table (an 80 KB N x 1
   .npy is a 1.6 GB matrix), so the full matrix is planned only within this budget. */
uint64_t tp_sim_full_budget(void);

/* Similarity of the rows of r; *out is owned by the caller. Without pooling, a matrix
   over tp_sim_full_budget() is TP_ELIMIT naming --pool. Returns TP_EINTR, with nothing
   allocated, when a deferred SIGINT/SIGTERM arrives (tp_signal.h). */
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
/* Where row r0 of [0, n) should start for part p of t (p = 0..t), so that each part of
   rows holds an equal share of an upper triangle (row i holds n - i cells). */
size_t tp_triangle_split(size_t n, size_t p, size_t t);

/* Similarity by offset |i-j|, and what it says about the table. */
struct tp_profile {
  size_t n;        /* offsets 0..n-1 */
  size_t block;    /* positions per offset step: 1, or the block of a pooled matrix */
  double *mean, *min, *max;
  long band;       /* first offset whose mean < 0.5 (relative for dot); -1 when none */
  double toeplitz; /* largest |S_ij - mean at |i-j||, ignoring NaN */
  size_t toeplitz_i, toeplitz_j;
  long period;     /* offset of a secondary peak; -1 when none */
  double period_rise; /* how far the profile climbs back at that peak */
  size_t self_max;    /* rows whose most similar cell (nearest, for distances) is the diagonal */
  size_t self_rows;   /* rows with a defined diagonal */
};

/* The offset profile of s; *out is owned by the caller. */
int tp_profile_compute(const struct tp_simmat *s, struct tp_profile **out);
/* The pooled grid (0 < o->pool < rows) and the profile of the unpooled matrix, both from
   the same row tiles, so no n x n matrix is ever held; without pooling, the full matrix
   and its profile, or, when that matrix is over tp_sim_full_budget(), a pooled grid
   (1024 cells a side, n/2 for a shorter table) with the same full-resolution profile
   (out's block > 1 says so). Both are owned by the caller. */
int tp_sim_compute_profiled(const struct tp_rows *r, const struct tp_sim_opts *o,
                            struct tp_simmat **out, struct tp_profile **prof);

/* The profile gathered row by row from the upper triangle (what the tiled path does). */
struct tp_profile_acc {
  size_t n;
  enum tp_metric metric;
  double *sum, *cnt, *min, *max;
  uint32_t *imin, *imax; /* row of the first min / max of each diagonal */
  double *best;          /* largest (smallest, for distances) off-diagonal cell per row */
  double *self;          /* the diagonal; NaN for a skipped row */
};
int tp_profile_acc_init(struct tp_profile_acc *a, size_t n, enum tp_metric m);
void tp_profile_acc_free(struct tp_profile_acc *a);
/* Row i's cells S(i, i + k), k < n - i, in v; columns with skip[j] set are undefined
   (skip may be NULL). Rows must come in increasing order; a row never passed is undefined. */
void tp_profile_acc_row_f(struct tp_profile_acc *a, size_t i, const float *v,
                          const unsigned char *skip);
void tp_profile_acc_row_d(struct tp_profile_acc *a, size_t i, const double *v,
                          const unsigned char *skip);
/* Rows [r0, r1) at once, row i's cells at v0 + (i - r0) * stride; rows with skip[i] set
   are left out. The same result as one row at a time, bit for bit (AVX when the CPU has it). */
void tp_profile_acc_rows_f(struct tp_profile_acc *a, size_t r0, size_t r1, const float *v0,
                           size_t stride, const unsigned char *skip);
/* The profile from the rows passed; a is freed either way. */
int tp_profile_acc_finish(struct tp_profile_acc *a, struct tp_profile **out);
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
/* The same, with the profile drawn at a plot's resolution: more than four offsets per
   pixel column become, per column, the rows of its first, last, lowest- and highest-mean
   offsets, each with the column's whole min-max band (the picture is the same, gnuplot
   reads and fills far fewer points). columns 0 writes every offset. */
int tp_simwrite_profile_display(const struct tp_profile *p, const struct tp_simmat *s,
                                const char *path, const char *input, size_t columns);
/* The matrix as text for a gnuplot datablock; *out is malloc'ed (caller frees). */
int tp_simwrite_datablock(const struct tp_simmat *s, size_t max_n, char **out);
/* The table itself, as float32 .npy (path ends in .npy) or a text matrix. */
int tp_table_write(const struct tp_rows *r, const char *path, const char *input);

#endif
