/* Pairwise row similarity through CBLAS: one rank-k update, or row tiles pooled on the fly. */
#include "config.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TP_MIRROR_X86 1
#else
#define TP_MIRROR_X86 0
#endif

#include "tp_error.h"
#include "tp_io.h"
#include "tp_signal.h"
#include "tp_sim.h"
#include "tp_text.h"

/* The pooled path's row tile: about TILE_TARGET bytes, so it stays in cache between
   gemm and the folds and is touched fresh only once, but at least TILE_MIN_ROWS rows for
   gemm's sake, and never over TILE_BYTES. */
#define TILE_TARGET (4ULL << 20)
#define TILE_MIN_ROWS 256
#define TILE_BYTES (64ULL << 20)

/* The largest full matrix planned without being asked: an 80 KB N x 1 table would
   otherwise ask for 1.6 GB. A matrix over it is pooled when only its profile is wanted
   (SIM_AUTO_POOL cells a side) and refused when the matrix itself is. */
#define FULL_BUDGET (1ULL << 30)
#define SIM_AUTO_POOL 1024

static const char *const metric_names[] = {
    [TP_METRIC_COSINE] = "cosine",
    [TP_METRIC_DOT] = "dot",
    [TP_METRIC_EUCLIDEAN] = "euclidean",
};

int tp_metric_parse(const char *s, enum tp_metric *out) {
  if (!s || !*s)
    return tp_err(TP_EINVAL, NULL, -1,
                  "the metric is empty (expected cosine, dot or euclidean)");
  for (size_t i = 0; i < sizeof metric_names / sizeof metric_names[0]; i++)
    if (strcmp(s, metric_names[i]) == 0) {
      *out = (enum tp_metric)i;
      return 0;
    }
  char shown[128];
  return tp_err(TP_EINVAL, NULL, -1,
                "unknown metric '%s' (expected cosine, dot or euclidean)",
                tp_text_escape_buf(s, shown, sizeof shown));
}

const char *tp_metric_name(enum tp_metric m) {
  return (unsigned)m < 3 ? metric_names[m] : "?";
}

size_t tp_sim_block_lo(size_t src_n, size_t n, size_t k) {
  /* Split the product so k * src_n cannot overflow. */
  return k * (src_n / n) + k * (src_n % n) / n;
}

size_t tp_triangle_split(size_t n, size_t p, size_t t) {
  /* rows [0, r) hold the share 1 - (1 - r/n)^2 of the triangle */
  if (p >= t)
    return n;
  size_t r = (size_t)((double)n * (1 - sqrt(1 - (double)p / (double)t)));
  return r < n ? r : n;
}

void tp_simmat_free(struct tp_simmat *s) {
  if (!s)
    return;
  free(s->data);
  free(s);
}

double tp_simmat_get(const struct tp_simmat *s, size_t i, size_t j) {
  size_t k = i * s->n + j;
  return s->dtype == TP_F64 ? ((const double *)s->data)[k]
                            : (double)((const float *)s->data)[k];
}

/* The rows BLAS reads: the caller's table itself when it is already in the compute
   precision, else a working copy (unit length for cosine). A borrowed table under
   cosine is not normalised; inv then holds each row's 1/|row| and the mirror scales
   the product instead. */
struct work {
  size_t n, d, esz;
  int dbl;
  const void *x;       /* the caller's rows, or own */
  void *own;           /* the working copy, when one was made */
  void *inv;           /* float or double 1/|row| for a borrowed cosine table, or NULL */
  unsigned char *zero; /* 1 for an all-zero row */
  double *sq;          /* squared row norms (euclidean) */
};

static void work_free(struct work *w) {
  free(w->own);
  free(w->inv);
  free(w->zero);
  free(w->sq);
}

/* One row's squared norm, summed in double in two lanes: the copies and the norms
   pass share it, so a table used in place gets the same norms as a copied one. */
#define TP__ROWSQ(T, NAME)                                                     \
  static inline double NAME(const T *a, size_t d) {                            \
    double s0 = 0, s1 = 0;                                                     \
    size_t k = 0;                                                              \
    for (; k + 1 < d; k += 2) {                                                \
      s0 += (double)a[k] * (double)a[k];                                       \
      s1 += (double)a[k + 1] * (double)a[k + 1];                               \
    }                                                                          \
    if (k < d)                                                                 \
      s0 += (double)a[k] * (double)a[k];                                       \
    return s0 + s1;                                                            \
  }
TP__ROWSQ(float, rowsq_f)
TP__ROWSQ(double, rowsq_d)

/* Copy rows [r0, r1) into the working precision, unit length for cosine, and keep each
   row's squared norm. One typed loop per input/working pair, so the compiler sees
   plain array walks. */
#define TP__COPY(TI, TW, ROWSQ, NAME)                                          \
  static void NAME(const TI *in, TW *x, double *sq, size_t d, size_t r0,       \
                   size_t r1, int unit) {                                      \
    for (size_t i = r0; i < r1; i++) {                                         \
      const TI *a = in + i * d;                                                \
      TW *b = x + i * d;                                                       \
      double scale;                                                            \
      sq[i] = ROWSQ(a, d);                                                     \
      scale = unit && sq[i] > 0 ? 1.0 / sqrt(sq[i]) : 1.0;                     \
      for (size_t k = 0; k < d; k++)                                           \
        b[k] = (TW)((double)a[k] * scale);                                     \
    }                                                                          \
  }
TP__COPY(float, float, rowsq_f, copy_ff)
TP__COPY(float, double, rowsq_f, copy_fd)
TP__COPY(double, float, rowsq_d, copy_df)
TP__COPY(double, double, rowsq_d, copy_dd)

struct copy_job {
  const struct tp_rows *r;
  struct work *w;
  size_t r0, r1;
  int unit, norms_only;
};

static void *copy_run(void *arg) {
  const struct copy_job *j = arg;
  const struct tp_rows *r = j->r;
  struct work *w = j->w;
  if (j->norms_only) {
    for (size_t i = j->r0; i < j->r1; i++)
      w->sq[i] = r->dtype == TP_F64 ? rowsq_d((const double *)r->data + i * r->d, r->d)
                                    : rowsq_f((const float *)r->data + i * r->d, r->d);
  } else if (r->dtype == TP_F64) {
    if (w->dbl)
      copy_dd(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
    else
      copy_df(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
  } else if (w->dbl) {
    copy_fd(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
  } else {
    copy_ff(r->data, w->own, w->sq, r->d, j->r0, j->r1, j->unit);
  }
  for (size_t i = j->r0; i < j->r1; i++)
    w->zero[i] = w->sq[i] == 0;
  return NULL;
}

/* Run the copy (or the norms alone) over the cores once a part is worth a thread:
   memory-bound and cheap per row (measured 1026 x 256: 0.9 ms on one core). */
static void rows_pass(struct work *w, const struct tp_rows *r, int unit, int norms_only) {
  enum { MAXT = 4 };
  struct copy_job job[MAXT];
  size_t t = (uint64_t)r->n * r->d < ((uint64_t)1 << 17) ? 1 : (size_t)tp_threads(MAXT);
  if (t > r->n)
    t = r->n;
  for (size_t k = 0; k < t; k++)
    job[k] = (struct copy_job){.r = r, .w = w, .r0 = r->n * k / t, .r1 = r->n * (k + 1) / t,
                               .unit = unit, .norms_only = norms_only};
  tp_run_jobs(job, t, sizeof job[0], copy_run);
}

/* 1/|row| for a borrowed cosine table, or 0 when some row's products could leave the
   working type's normal range (the copy then normalises first): nonzero squared norms
   within 2^-100..2^100 for float, 2^-900..2^900 for double, so that every product and
   sum stays normal and finite. */
static int borrow_scales(struct work *w) {
  double lo = ldexp(1, w->dbl ? -900 : -100), hi = ldexp(1, w->dbl ? 900 : 100);
  for (size_t i = 0; i < w->n; i++)
    if (w->sq[i] != 0 && !(w->sq[i] >= lo && w->sq[i] <= hi))
      return 0;
  if (!(w->inv = malloc(w->n * w->esz)))
    return -1;
  for (size_t i = 0; i < w->n; i++) {
    double v = w->sq[i] > 0 ? 1.0 / sqrt(w->sq[i]) : 0.0;
    if (w->dbl)
      ((double *)w->inv)[i] = v;
    else
      ((float *)w->inv)[i] = (float)v;
  }
  return 1;
}

/* A table already in the compute precision is used in place: no copy, and none of
   its first-touch cost. For dot and euclidean the copy would be the same numbers.
   For cosine the finish step must then scale the product (may_scale: the full matrix
   does; the pooled path needs unit rows), which writes the upper triangle back: n^2/2
   cells against the copy's n d. Measured in the kernel on 2 cores (medians), borrowing
   won at 1026 x 256 (copy 0.86 -> 0.32 ms, finish unchanged) and 4096 x 768 (copy 5.1
   -> 2.2 ms, finish +0.8 ms) and lost at 8192 x 1024 (copy -6 ms, finish +18 ms), so
   cosine borrows while n <= 6 d. */
static int work_init(struct work *w, const struct tp_rows *r,
                     const struct tp_sim_opts *o, int may_scale) {
  uint64_t bytes;
  int rc, cosine = o->metric == TP_METRIC_COSINE;
  memset(w, 0, sizeof *w);
  w->n = r->n, w->d = r->d, w->dbl = o->dbl;
  w->esz = o->dbl ? sizeof(double) : sizeof(float);
  if ((rc = tp_size_mul((uint64_t)r->n * w->esz, r->d, &bytes, NULL)) < 0 ||
      (rc = tp_size_check(bytes, NULL, "the working copy of the table")) < 0)
    return rc;
  w->zero = calloc(r->n, 1);
  w->sq = malloc(r->n * sizeof(double));
  if (!w->zero || !w->sq) {
    work_free(w);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the working table");
  }
  if ((r->dtype == TP_F64) == (o->dbl != 0) &&
      (!cosine || (may_scale && r->n / 6 <= r->d))) {
    rows_pass(w, r, 0, 1);
    int ok = cosine ? borrow_scales(w) : 1;
    if (ok < 0) {
      work_free(w);
      return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the working table");
    }
    if (ok) {
      w->x = r->data;
      return 0;
    }
  }
  if (!(w->own = tp_big_alloc(bytes))) {
    work_free(w);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the working table");
  }
  w->x = w->own;
  rows_pass(w, r, cosine, 0);
  return 0;
}

/* Copy the upper triangle into the lower one in square blocks, so the writes stay
   within a few rows at a time. Doubles go cell by cell; floats, on x86-64, go by
   register tiles (8x8 with AVX when the CPU has it, else 4x4 with SSE, which every
   x86-64 has): measured at n = 8192 on 2 cores, 64 ms cell by cell, 38 ms with SSE,
   33 ms with AVX. */
#define MIRROR_BLOCK 32

/* c[j][i] = c[i][j] for i in [i0, i1), j in [max(j0, i + 1), j1); with inv, both
   become c[i][j] * inv[i] * inv[j] (a borrowed cosine table). */
#define TP__CELLS(T, NAME)                                                     \
  static void NAME(T *c, size_t n, size_t i0, size_t i1, size_t j0,            \
                   size_t j1, const T *inv) {                                  \
    for (size_t i = i0; i < i1; i++)                                           \
      for (size_t j = j0 > i + 1 ? j0 : i + 1; j < j1; j++) {                  \
        if (inv)                                                               \
          c[i * n + j] = c[i * n + j] * inv[i] * inv[j];                       \
        c[j * n + i] = c[i * n + j];                                           \
      }                                                                        \
  }
TP__CELLS(float, cells_f)
TP__CELLS(double, cells_d)

/* A tile function transposes the w x w square at s (row stride n) into d; with si
   and sj, it first scales s's row k by si[k] and column l by sj[l], in place. */
typedef void (*tile_fn)(float *s, float *d, size_t n, const float *si,
                        const float *sj);

#if TP_MIRROR_X86
static void tile4_sse(float *s, float *d, size_t n, const float *si,
                      const float *sj) {
  __m128 a = _mm_loadu_ps(s), b = _mm_loadu_ps(s + n);
  __m128 e = _mm_loadu_ps(s + 2 * n), f = _mm_loadu_ps(s + 3 * n);
  if (si) {
    __m128 v = _mm_loadu_ps(sj);
    a = _mm_mul_ps(_mm_mul_ps(a, _mm_set1_ps(si[0])), v);
    b = _mm_mul_ps(_mm_mul_ps(b, _mm_set1_ps(si[1])), v);
    e = _mm_mul_ps(_mm_mul_ps(e, _mm_set1_ps(si[2])), v);
    f = _mm_mul_ps(_mm_mul_ps(f, _mm_set1_ps(si[3])), v);
    _mm_storeu_ps(s, a), _mm_storeu_ps(s + n, b);
    _mm_storeu_ps(s + 2 * n, e), _mm_storeu_ps(s + 3 * n, f);
  }
  _MM_TRANSPOSE4_PS(a, b, e, f);
  _mm_storeu_ps(d, a), _mm_storeu_ps(d + n, b);
  _mm_storeu_ps(d + 2 * n, e), _mm_storeu_ps(d + 3 * n, f);
}

__attribute__((target("avx"))) static void tile8_avx(float *s, float *d, size_t n,
                                                     const float *si,
                                                     const float *sj) {
  __m256 r[8], t[8], u[8];
  for (int k = 0; k < 8; k++)
    r[k] = _mm256_loadu_ps(s + (size_t)k * n);
  if (si) {
    __m256 v = _mm256_loadu_ps(sj);
    for (int k = 0; k < 8; k++) {
      r[k] = _mm256_mul_ps(_mm256_mul_ps(r[k], _mm256_set1_ps(si[k])), v);
      _mm256_storeu_ps(s + (size_t)k * n, r[k]);
    }
  }
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    u[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
    u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
    u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
  }
  for (int k = 0; k < 4; k++) {
    _mm256_storeu_ps(d + (size_t)k * n, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
    _mm256_storeu_ps(d + (size_t)(k + 4) * n, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
  }
}
#endif

/* The widest tile this CPU runs; width 0 means cell by cell. */
static tile_fn mirror_tile(size_t *w) {
#if TP_MIRROR_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx")) {
    *w = 8;
    return tile8_avx;
  }
  *w = 4;
  return tile4_sse;
#else
  *w = 0;
  return NULL;
#endif
}

/* One block [ib, ie) x [jb, je): whole tiles where every cell is above the diagonal,
   the cells around them one by one. */
static void mirror_block_f(float *c, size_t n, size_t ib, size_t ie, size_t jb,
                           size_t je, tile_fn tile, size_t w, const float *inv) {
  size_t i = ib;
  for (; w && i + w <= ie; i += w) {
    size_t j = jb > i + w ? jb : i + w;
    cells_f(c, n, i, i + w, jb, j < je ? j : je, inv);
    for (; j + w <= je; j += w)
      tile(c + i * n + j, c + j * n + i, n, inv ? inv + i : NULL, inv ? inv + j : NULL);
    if (j < je)
      cells_f(c, n, i, i + w, j, je, inv);
  }
  cells_f(c, n, i, ie, jb, je, inv);
}

/* Rows [r0, r1): their diagonal cells (scaled with inv) and the cells right of it. */
static void mirror_finish_f(float *c, size_t n, size_t r0, size_t r1, const float *inv) {
  size_t w;
  tile_fn tile = mirror_tile(&w);
  for (size_t i = r0; inv && i < r1; i++)
    c[i * n + i] = c[i * n + i] * inv[i] * inv[i];
  for (size_t ib = r0; ib < r1 && !tp_intr_pending(); ib += MIRROR_BLOCK)
    for (size_t jb = ib; jb < n; jb += MIRROR_BLOCK)
      mirror_block_f(c, n, ib, ib + MIRROR_BLOCK < n ? ib + MIRROR_BLOCK : n, jb,
                     jb + MIRROR_BLOCK < n ? jb + MIRROR_BLOCK : n, tile, w, inv);
}

static void mirror_finish_d(double *c, size_t n, size_t r0, size_t r1,
                            const double *inv) {
  for (size_t i = r0; inv && i < r1; i++)
    c[i * n + i] = c[i * n + i] * inv[i] * inv[i];
  for (size_t ib = r0; ib < r1 && !tp_intr_pending(); ib += MIRROR_BLOCK)
    for (size_t jb = ib; jb < n; jb += MIRROR_BLOCK)
      cells_d(c, n, ib, ib + MIRROR_BLOCK < n ? ib + MIRROR_BLOCK : n, jb,
              jb + MIRROR_BLOCK < n ? jb + MIRROR_BLOCK : n, inv);
}

struct mirror_job {
  void *c;
  const void *inv;
  size_t n, r0, r1;
  int dbl;
};

static void *mirror_run(void *arg) {
  struct mirror_job *j = arg;
  if (j->dbl)
    mirror_finish_d(j->c, j->n, j->r0, j->r1, j->inv);
  else
    mirror_finish_f(j->c, j->n, j->r0, j->r1, j->inv);
  return NULL;
}

/* The mirror is memory-bound and BLAS is idle by then: split it over the cores in
   parts of equal triangle share, cut at block bounds. */
static void mirror_parallel(void *c, size_t n, int dbl, const void *inv) {
  enum { MAXT = 4 };
  struct mirror_job job[MAXT];
  size_t t = n < 512 ? 1 : (size_t)tp_threads(MAXT), r0 = 0;
  for (size_t k = 0; k < t; k++) {
    size_t r1 = (tp_triangle_split(n, k + 1, t) + MIRROR_BLOCK - 1) / MIRROR_BLOCK * MIRROR_BLOCK;
    job[k] = (struct mirror_job){.c = c, .inv = inv, .n = n, .r0 = r0,
                                 .r1 = r1 < n ? r1 : n, .dbl = dbl};
    r0 = job[k].r1;
  }
  tp_run_jobs(job, t, sizeof job[0], mirror_run);
}

/* Upper-triangle fix-ups and the mirror, one body for float and double. */
#define TP__FINISH(T, NAME)                                                    \
  static void NAME(T *c, size_t n, const struct work *w, enum tp_metric m) {   \
    if (m == TP_METRIC_EUCLIDEAN) {                                            \
      for (size_t i = 0; i < n; i++) w->sq[i] = c[i * n + i];                  \
      for (size_t i = 0; i < n; i++) {                                         \
        if (i % 64 == 0 && tp_intr_pending())                                  \
          return;                                                              \
        for (size_t j = i + 1; j < n; j++) {                                   \
          double d2 = w->sq[i] + w->sq[j] - 2.0 * c[i * n + j];                \
          c[i * n + j] = (T)sqrt(d2 > 0 ? d2 : 0);                             \
        }                                                                      \
        c[i * n + i] = 0;                                                      \
      }                                                                        \
    }                                                                          \
    mirror_parallel(c, n, sizeof(T) == sizeof(double), w->inv);               \
    if (m == TP_METRIC_COSINE)                                                 \
      for (size_t i = 0; i < n; i++)                                           \
        if (w->zero[i])                                                        \
          for (size_t j = 0; j < n; j++)                                       \
            c[i * n + j] = c[j * n + i] = (T)NAN;                              \
  }
TP__FINISH(float, finish_f)
TP__FINISH(double, finish_d)

#if TP_HAVE_OPENBLAS
/* OpenBLAS's own exports (not in every cblas.h): which threading it was built with, and
   the call that joins its worker threads (its next BLAS call starts them again). Weak, so
   a library without them leaves the pointers NULL. */
extern int openblas_get_parallel(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));
#endif

/* OpenBLAS's idle pthread workers spin in sched_yield for about 0.1 s after each call;
   measured in the 4096 x 768 heatmap, that spinning thread took the second core from the
   parallel profile, pooling and summary passes that follow (profile 16 ms -> 27 ms).
   Whole matrices of large tables, whose passes run on the cores, stop the workers once
   BLAS is done (the pooled path's later passes see only the small pooled grid). The
   host and the gnuplot modules call BLAS from one thread, which this relies on. */
static void blas_rest(size_t n) {
#if TP_HAVE_OPENBLAS
  if (n >= 2048 && openblas_get_parallel && blas_thread_shutdown_ &&
      openblas_get_parallel() == 1)
    blas_thread_shutdown_();
#else
  (void)n;
#endif
}

uint64_t tp_sim_full_budget(void) {
  uint64_t lim = tp_limits_get()->max_bytes;
  const char *set = getenv("TRAINPLOT_MAX_BYTES");
  return lim < FULL_BUDGET || (set && *set) ? lim : FULL_BUDGET;
}

/* 1 when an n x n matrix of esz-byte cells fits tp_sim_full_budget(); *bytes gets its
   size (UINT64_MAX when that overflows). */
static int full_fits(size_t n, size_t esz, uint64_t *bytes) {
  if ((uint64_t)n > UINT32_MAX || (uint64_t)n * n > UINT64_MAX / esz) {
    *bytes = UINT64_MAX;
    return 0;
  }
  *bytes = (uint64_t)n * n * esz;
  return *bytes <= tp_sim_full_budget() && *bytes <= SIZE_MAX / 2;
}

/* The error for a full matrix over the budget, naming the way out. */
static int full_refused(size_t n, uint64_t bytes) {
  return tp_err(TP_ELIMIT, NULL, -1,
                "a %zu x %zu similarity matrix needs %llu bytes, over the %llu-byte "
                "budget of a full matrix (raise it with TRAINPLOT_MAX_BYTES); use "
                "--pool SIZE (or pe_similarity_pooled) for large tables",
                n, n, (unsigned long long)bytes, (unsigned long long)tp_sim_full_budget());
}

/* The whole matrix: syrk fills the upper triangle, finish mirrors it. */
static int sim_full(const struct work *w, struct tp_simmat *s) {
  size_t n = w->n, bytes = n * n * w->esz; /* within the budget: checked by the caller */
  if (!(s->data = tp_big_alloc(bytes)))
    return tp_err(TP_ENOMEM, NULL, -1,
                  "cannot allocate a %zu x %zu similarity matrix", n, n);
  if (w->dbl) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)w->d,
                1.0, w->x, (int)w->d, 0.0, s->data, (int)n);
    blas_rest(n);
    if (!tp_intr_pending())
      finish_d(s->data, n, w, s->metric);
  } else {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)w->d,
                1.0f, w->x, (int)w->d, 0.0f, s->data, (int)n);
    blas_rest(n);
    if (!tp_intr_pending())
      finish_f(s->data, n, w, s->metric);
  }
  s->n = s->src_n = n;
  s->block = 1;
  /* syrk is one call; the finish stops at its next block once a signal is pending. */
  return tp_intr_check();
}

static int sim_pooled(const struct work *w, const struct tp_sim_opts *o,
                      struct tp_simmat *s, struct tp_profile **prof);

int tp_sim_compute(const struct tp_rows *r, const struct tp_sim_opts *o,
                   struct tp_simmat **out) {
  return tp_sim_compute_profiled(r, o, out, NULL);
}

int tp_sim_compute_profiled(const struct tp_rows *r, const struct tp_sim_opts *o,
                            struct tp_simmat **out, struct tp_profile **prof) {
  struct tp_simmat *s;
  struct work w;
  int rc;
  *out = NULL;
  if (prof)
    *prof = NULL;
  if (r->n == 0 || r->d == 0)
    return tp_err(TP_EEMPTY, NULL, -1, "the table is empty (%zu x %zu)",
                  r->n, r->d);
  if (r->n > INT32_MAX || r->d > INT32_MAX)
    return tp_err(TP_ELIMIT, NULL, -1,
                  "a %zu x %zu table is beyond what CBLAS can index", r->n,
                  r->d);
  if ((unsigned)o->metric > TP_METRIC_EUCLIDEAN)
    return tp_err(TP_EINVAL, NULL, -1, "unknown metric %d", (int)o->metric);
  if (!(s = calloc(1, sizeof *s)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  s->metric = o->metric;
  s->dtype = o->dbl ? TP_F64 : TP_F32;
  s->how = o->how;
  int pooled = o->pool > 0 && o->pool < r->n;
  struct tp_sim_opts po = *o;
  uint64_t bytes;
  /* Only the profile is wanted: a matrix over the budget comes from the row tiles. */
  if (!pooled && prof && !full_fits(r->n, o->dbl ? sizeof(double) : sizeof(float), &bytes))
    po.pool = r->n / 2 > SIM_AUTO_POOL ? SIM_AUTO_POOL : r->n / 2 ? r->n / 2 : 1, pooled = 1;
  if (!pooled && !full_fits(r->n, o->dbl ? sizeof(double) : sizeof(float), &bytes)) {
    free(s);
    return full_refused(r->n, bytes);
  }
  if ((rc = work_init(&w, r, &po, !pooled)) < 0) {
    free(s);
    return rc;
  }
  if (pooled)
    rc = sim_pooled(&w, &po, s, prof);
  else
    rc = sim_full(&w, s);
  work_free(&w);
  if (rc == 0 && prof && !pooled)
    rc = tp_profile_compute(s, prof);
  if (rc < 0) {
    tp_simmat_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* ---- the pooled path: row tiles through gemm, reduced into an m x m grid ---- */

struct pool {
  size_t m;
  size_t *lo;       /* m + 1 block boundaries */
  size_t *cell;     /* source row -> block */
  double *acc;      /* m x m sums or maxima of entries with i < j */
  double *dacc;     /* m diagonal-entry sums or maxima */
  double *valid;    /* valid rows per block */
  double *col;      /* n column sums (maxima) of the current block row, cells j > i */
  void *tile;
  struct tp_profile_acc *prof; /* the unpooled matrix's profile, gathered on the way, or NULL */
};

static void pool_free(struct pool *p) {
  free(p->lo), free(p->cell), free(p->acc), free(p->dacc), free(p->valid), free(p->col);
  free(p->tile);
}

static int pool_init(struct pool *p, const struct work *w, size_t m,
                     size_t tile_rows, const struct tp_sim_opts *o) {
  int want_max = o->how == TP_POOL_MAX;
  /* Only cosine leaves zero rows undefined; for dot and distance they count. */
  int skip_zero = o->metric == TP_METRIC_COSINE;
  memset(p, 0, sizeof *p);
  p->m = m;
  p->lo = malloc((m + 1) * sizeof *p->lo);
  p->cell = malloc(w->n * sizeof *p->cell);
  p->acc = malloc(m * m * sizeof *p->acc);
  p->dacc = malloc(m * sizeof *p->dacc);
  p->valid = calloc(m, sizeof *p->valid);
  p->col = malloc(w->n * sizeof *p->col);
  p->tile = malloc(tile_rows * w->n * w->esz);
  if (!p->lo || !p->cell || !p->acc || !p->dacc || !p->valid || !p->col || !p->tile) {
    pool_free(p);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the pooled grid");
  }
  for (size_t k = 0; k <= m; k++)
    p->lo[k] = tp_sim_block_lo(w->n, m, k);
  for (size_t k = 0; k < m; k++)
    for (size_t i = p->lo[k]; i < p->lo[k + 1]; i++) {
      p->cell[i] = k;
      p->valid[k] += !(skip_zero && w->zero[i]);
    }
  for (size_t k = 0; k < m * m; k++)
    p->acc[k] = want_max ? -INFINITY : 0.0;
  for (size_t k = 0; k < m; k++)
    p->dacc[k] = want_max ? -INFINITY : 0.0;
  for (size_t j = 0; j < w->n; j++)
    p->col[j] = want_max ? -INFINITY : 0.0;
  return 0;
}

static int pool_run(const struct work *w, const struct tp_sim_opts *o,
                    struct pool *p, size_t tile_rows);

static int sim_pooled(const struct work *w, const struct tp_sim_opts *o,
                      struct tp_simmat *s, struct tp_profile **prof) {
  struct pool p;
  struct tp_profile_acc acc;
  uint64_t grid, tile;
  size_t m = o->pool, tile_rows;
  int rc;
  tile_rows = (size_t)(TILE_TARGET / w->esz / w->n);
  if (tile_rows < TILE_MIN_ROWS)
    tile_rows = TILE_MIN_ROWS;
  if (tile_rows > TILE_BYTES / w->esz / w->n)
    tile_rows = (size_t)(TILE_BYTES / w->esz / w->n);
  tile_rows = tile_rows < 1 ? 1 : tile_rows > w->n ? w->n : tile_rows;
  if ((rc = tp_size_mul((uint64_t)m * m, sizeof(double), &grid, NULL)) < 0 ||
      (rc = tp_size_check(grid, NULL, "the pooled grid")) < 0 ||
      (rc = tp_size_mul((uint64_t)tile_rows * w->n, w->esz, &tile, NULL)) < 0)
    return rc;
  if ((rc = pool_init(&p, w, m, tile_rows, o)) < 0)
    return rc;
  if (prof && (rc = tp_profile_acc_init(&acc, w->n, o->metric)) < 0) {
    pool_free(&p);
    return rc;
  }
  p.prof = prof ? &acc : NULL;
  if (!(s->data = malloc(m * m * w->esz))) {
    pool_free(&p);
    if (prof)
      tp_profile_acc_free(&acc);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the pooled matrix");
  }
  rc = pool_run(w, o, &p, tile_rows);
  if (prof)
    rc = rc < 0 ? (tp_profile_acc_free(&acc), rc) : tp_profile_acc_finish(&acc, prof);
  s->n = m;
  s->src_n = w->n;
  s->block = (w->n + m - 1) / m;
  for (size_t a = 0; a < m && rc == 0; a++)
    for (size_t b = 0; b < m; b++) {
      size_t u = a < b ? a : b, v = a < b ? b : a;
      double x;
      if (o->how == TP_POOL_MAX) {
        x = u == v && p.dacc[u] > p.acc[u * m + u] ? p.dacc[u] : p.acc[u * m + v];
        x = x == -INFINITY ? NAN : x;
      } else {
        double cnt = p.valid[u] * p.valid[v];
        x = u == v ? 2 * p.acc[u * m + u] + p.dacc[u] : p.acc[u * m + v];
        x = cnt > 0 ? x / cnt : NAN;
      }
      if (w->dbl)
        ((double *)s->data)[a * m + b] = x;
      else
        ((float *)s->data)[a * m + b] = (float)x;
    }
  pool_free(&p);
  return rc;
}

/* Turn one tile row (columns i..n-1) into distances or mark blank columns, in double. */
#define TP__ROWFIX(T, NAME)                                                    \
  static void NAME(T *v, size_t i, const struct work *w,                       \
                   const struct tp_sim_opts *o) {                              \
    size_t n = w->n;                                                           \
    if (o->metric == TP_METRIC_EUCLIDEAN) {                                    \
      for (size_t j = i + 1; j < n; j++) {                                     \
        double d2 = w->sq[i] + w->sq[j] - 2.0 * v[j - i];                      \
        v[j - i] = (T)sqrt(d2 > 0 ? d2 : 0);                                   \
      }                                                                        \
      v[0] = 0;                                                                \
    } else if (o->metric == TP_METRIC_COSINE && o->how == TP_POOL_MAX) {       \
      for (size_t j = i; j < n; j++)                                           \
        if (w->zero[j])                                                        \
          v[j - i] = (T)-INFINITY;                                             \
    }                                                                          \
  }
TP__ROWFIX(float, rowfix_f)
TP__ROWFIX(double, rowfix_d)

static void fold(double *slot, double x, int want_max) {
  if (want_max)
    *slot = x > *slot ? x : *slot;
  else
    *slot += x;
}

/* Fold source row i (its entries j >= i, v[j - i]) into its block row: the diagonal cell
   into dacc, the others into the column sums (maxima), which flush_block_row then
   reduces block by block. Adding whole rows column-wise has no chain of dependent adds,
   unlike summing each block's few cells of every row (measured at 4096 x 768 to 504
   blocks on one core: the pooling went from 16 ms to 6-9 ms). */
#define TP__COLFOLD(T, NAME)                                                   \
  static void NAME(double *col, const T *v, size_t len, int want_max) {        \
    if (want_max) {                                                            \
      for (size_t k = 0; k < len; k++)                                         \
        col[k] = (double)v[k] > col[k] ? (double)v[k] : col[k];                \
    } else {                                                                   \
      for (size_t k = 0; k < len; k++)                                         \
        col[k] += (double)v[k];                                                \
    }                                                                          \
  }
TP__COLFOLD(float, colfold_f)
TP__COLFOLD(double, colfold_d)

static void pool_row(struct pool *p, const struct work *w, const void *v,
                     size_t i, int want_max) {
  double x = w->dbl ? ((const double *)v)[0] : ((const float *)v)[0];
  fold(&p->dacc[p->cell[i]], x, want_max);
  if (w->dbl)
    colfold_d(p->col + i + 1, (const double *)v + 1, w->n - i - 1, want_max);
  else
    colfold_f(p->col + i + 1, (const float *)v + 1, w->n - i - 1, want_max);
}

/* Block row a is complete: reduce its column sums into blocks a..m-1, then clear them. */
static void flush_block_row(struct pool *p, size_t a, int want_max) {
  size_t from = p->lo[a];
  for (size_t b = a; b < p->m; b++) {
    double x = want_max ? -INFINITY : 0.0;
    for (size_t j = p->lo[b] > from ? p->lo[b] : from; j < p->lo[b + 1]; j++)
      x = want_max ? (p->col[j] > x ? p->col[j] : x) : x + p->col[j];
    fold(&p->acc[a * p->m + b], x, want_max);
  }
  for (size_t j = from; j < p->lo[p->m]; j++)
    p->col[j] = want_max ? -INFINITY : 0.0;
}

/* Rows [i0, i1) of the current tile, which starts at row r0 (cols columns from r0):
   what 1 fixes them up, 2 folds them into the grid, 4 into the profile. Each fold walks
   the rows in order, so a job that runs one of them gives the same sums as one thread. */
struct tile_job {
  struct pool *p;
  const struct work *w;
  const struct tp_sim_opts *o;
  size_t r0, i0, i1, cols;
  int what;
};

static void *tile_run(void *arg) {
  const struct tile_job *j = arg;
  const struct work *w = j->w;
  int want_max = j->o->how == TP_POOL_MAX, cosine = j->o->metric == TP_METRIC_COSINE;
  for (size_t i = j->i0; i < j->i1; i++) {
    /* Row i of the tile starts at column r0; its entry j >= i is at j - i. */
    size_t off = (i - j->r0) * j->cols + (i - j->r0);
    void *v = (char *)j->p->tile + off * w->esz;
    if (!(cosine && w->zero[i])) { /* a zero row has no cosine: nothing to fold */
      if ((j->what & 1) && w->dbl)
        rowfix_d(v, i, w, j->o);
      else if (j->what & 1)
        rowfix_f(v, i, w, j->o);
      if (j->what & 2)
        pool_row(j->p, w, v, i, want_max);
      if ((j->what & 4) && w->dbl)
        tp_profile_acc_row_d(j->p->prof, i, v, cosine ? w->zero : NULL);
    }
    if ((j->what & 2) && i + 1 == j->p->lo[j->p->cell[i] + 1])
      flush_block_row(j->p, j->p->cell[i], want_max);
  }
  if ((j->what & 4) && !w->dbl)
    tp_profile_acc_rows_f(j->p->prof, j->i0, j->i1,
                          (const float *)j->p->tile + (j->i0 - j->r0) * (j->cols + 1),
                          j->cols + 1, cosine ? w->zero : NULL);
  return NULL;
}

/* Rows r0..r1 against rows r0..n through gemm (the upper part only), then folded: the
   fix-up split by rows over the cores, then the grid and the profile side by side. */
static void pool_tile(struct pool *p, const struct work *w,
                      const struct tp_sim_opts *o, size_t r0, size_t r1) {
  enum { MAXT = 8 };
  struct tile_job job[MAXT];
  size_t cols = w->n - r0, d = w->d, t = (size_t)tp_threads(MAXT);
  int fix = o->metric == TP_METRIC_EUCLIDEAN ||
            (o->metric == TP_METRIC_COSINE && o->how == TP_POOL_MAX);
  if (w->dbl)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0),
                (int)cols, (int)d, 1.0, (const double *)w->x + r0 * d, (int)d,
                (const double *)w->x + r0 * d, (int)d, 0.0, p->tile, (int)cols);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0),
                (int)cols, (int)d, 1.0f, (const float *)w->x + r0 * d, (int)d,
                (const float *)w->x + r0 * d, (int)d, 0.0f, p->tile, (int)cols);
  if (t > r1 - r0)
    t = r1 - r0;
  if (fix) {
    for (size_t k = 0; k < t; k++)
      job[k] = (struct tile_job){.p = p, .w = w, .o = o, .r0 = r0, .cols = cols, .what = 1,
                                 .i0 = r0 + (r1 - r0) * k / t,
                                 .i1 = r0 + (r1 - r0) * (k + 1) / t};
    tp_run_jobs(job, t, sizeof job[0], tile_run);
  }
  job[0] = (struct tile_job){.p = p, .w = w, .o = o, .r0 = r0, .i0 = r0, .i1 = r1,
                             .cols = cols, .what = 2};
  job[1] = job[0];
  job[1].what = 4;
  if (!p->prof)
    tp_run_jobs(job, 1, sizeof job[0], tile_run);
  else if (t < 2)
    job[0].what = 6, tp_run_jobs(job, 1, sizeof job[0], tile_run);
  else
    tp_run_jobs(job, 2, sizeof job[0], tile_run);
}

static int pool_run(const struct work *w, const struct tp_sim_opts *o,
                    struct pool *p, size_t tile_rows) {
  double total = (double)w->n * (w->n + 1) / 2, done = 0;
  for (size_t r0 = 0; r0 < w->n; r0 += tile_rows) {
    size_t r1 = r0 + tile_rows < w->n ? r0 + tile_rows : w->n;
    int rc;
    if ((rc = tp_intr_check()) < 0) /* once per tile: a few MB of products */
      return rc;
    pool_tile(p, w, o, r0, r1);
    done += (double)(r1 - r0) * (w->n - r0);
    if (o->progress)
      o->progress(o->progress_ctx, done / total > 1 ? 1 : done / total);
  }
  return 0;
}
