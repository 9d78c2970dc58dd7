/* Finishing a full similarity matrix: distance and cosine fix-ups, then the upper triangle
 * mirrored. */
#include "config.h"

#include <math.h>
#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TP_MIRROR_X86 1
#else
#define TP_MIRROR_X86 0
#endif

#include "tp_jobs.h"
#include "tp_signal.h"
#include "tp_sim_int.h"

/* Copy the upper triangle into the lower one in square blocks, so the writes stay
   within a few rows at a time. Doubles go cell by cell; floats, on x86-64, go by
   register tiles (8x8 with AVX when the CPU has it, else 4x4 with SSE, which every
   x86-64 has): a register tile transposes in a few shuffles what cell by cell would be
   scattered stores (bench/MEASUREMENTS.md). */
#define MIRROR_BLOCK 32

/* c[j][i] = c[i][j] for i in [i0, i1), j in [max(j0, i + 1), j1); with inv, both
   become c[i][j] * inv[i] * inv[j] (a borrowed cosine table). */
#define TP__CELLS(T, NAME)                                                                     \
  static void NAME(T *c, size_t n, size_t i0, size_t i1, size_t j0, size_t j1, const T *inv) { \
    for (size_t i = i0; i < i1; i++)                                                           \
      for (size_t j = j0 > i + 1 ? j0 : i + 1; j < j1; j++) {                                  \
        if (inv)                                                                               \
          c[i * n + j] = c[i * n + j] * inv[i] * inv[j];                                       \
        c[j * n + i] = c[i * n + j];                                                           \
      }                                                                                        \
  }
TP__CELLS(float, cells_f)
TP__CELLS(double, cells_d)

/* A tile function transposes the w x w square at s (row stride n) into d; with si
   and sj, it first scales s's row k by si[k] and column l by sj[l], in place. */
typedef void (*tile_fn)(float *s, float *d, size_t n, const float *si, const float *sj);

#if TP_MIRROR_X86
static void tile4_sse(float *s, float *d, size_t n, const float *si, const float *sj) {
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

__attribute__((target("avx"))) static void tile8_avx(float *s, float *d, size_t n, const float *si,
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
static void mirror_block_f(float *c, size_t n, size_t ib, size_t ie, size_t jb, size_t je,
                           tile_fn tile, size_t w, const float *inv) {
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

static void mirror_finish_d(double *c, size_t n, size_t r0, size_t r1, const double *inv) {
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
    job[k] = (struct mirror_job){
        .c = c, .inv = inv, .n = n, .r0 = r0, .r1 = r1 < n ? r1 : n, .dbl = dbl};
    r0 = job[k].r1;
  }
  tp_run_jobs(job, t, sizeof job[0], mirror_run);
}

/* Upper-triangle fix-ups and the mirror, one body for float and double. */
#define TP__FINISH(T, NAME)                                           \
  void NAME(T *c, size_t n, const struct work *w, enum tp_metric m) { \
    if (m == TP_METRIC_EUCLIDEAN) {                                   \
      for (size_t i = 0; i < n; i++)                                  \
        w->sq[i] = c[i * n + i];                                      \
      for (size_t i = 0; i < n; i++) {                                \
        if (i % 64 == 0 && tp_intr_pending())                         \
          return;                                                     \
        for (size_t j = i + 1; j < n; j++) {                          \
          double d2 = w->sq[i] + w->sq[j] - 2.0 * c[i * n + j];       \
          c[i * n + j] = (T)sqrt(d2 > 0 ? d2 : 0);                    \
        }                                                             \
        c[i * n + i] = 0;                                             \
      }                                                               \
    }                                                                 \
    mirror_parallel(c, n, sizeof(T) == sizeof(double), w->inv);       \
    if (m == TP_METRIC_COSINE)                                        \
      for (size_t i = 0; i < n; i++)                                  \
        if (w->zero[i])                                               \
          for (size_t j = 0; j < n; j++)                              \
            c[i * n + j] = c[j * n + i] = (T)NAN;                     \
  }
TP__FINISH(float, tp__sim_finish_f)
TP__FINISH(double, tp__sim_finish_d)
