/* The offset profile gathered row by row from the tiles of the pooled path (AVX2 when present). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_profile.h"
#include "tp_profile_int.h"

void tp_profile_acc_free(struct tp_profile_acc *a) {
  free(a->sum), free(a->cnt), free(a->min), free(a->max);
  free(a->imin), free(a->imax), free(a->best), free(a->self);
  memset(a, 0, sizeof *a);
}

int tp_profile_acc_init(struct tp_profile_acc *a, size_t n, enum tp_metric m) {
  memset(a, 0, sizeof *a);
  if (n == 0)
    return tp_err(TP_ESTATE, NULL, -1, "no similarity matrix to profile");
  if (n > UINT32_MAX)
    return tp_err(TP_ELIMIT, NULL, -1, "a %zu-row matrix is too large to profile", n);
  a->n = n, a->metric = m;
  a->sum = calloc(n, sizeof *a->sum), a->cnt = calloc(n, sizeof *a->cnt);
  a->min = malloc(n * sizeof *a->min), a->max = malloc(n * sizeof *a->max);
  a->imin = calloc(n, sizeof *a->imin), a->imax = calloc(n, sizeof *a->imax);
  a->best = malloc(n * sizeof *a->best), a->self = malloc(n * sizeof *a->self);
  if (!a->sum || !a->cnt || !a->min || !a->max || !a->imin || !a->imax || !a->best || !a->self) {
    tp_profile_acc_free(a);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the profile");
  }
  for (size_t k = 0; k < n; k++) {
    a->min[k] = INFINITY, a->max[k] = -INFINITY, a->self[k] = NAN;
    a->best[k] = m == TP_METRIC_EUCLIDEAN ? INFINITY : -INFINITY;
  }
  return 0;
}

/* One cell (i, i + k) into the per-offset sums, minima and maxima (the rows of the first
   min and max kept), and into the best off-diagonal cells of row i and column i + k. */
static inline void acc_offset(struct tp_profile_acc *a, size_t i, size_t k, double x) {
  a->sum[k] += x;
  a->cnt[k] += 1;
  a->imin[k] = x < a->min[k] ? (uint32_t)i : a->imin[k];
  a->min[k] = x < a->min[k] ? x : a->min[k];
  a->imax[k] = x > a->max[k] ? (uint32_t)i : a->imax[k];
  a->max[k] = x > a->max[k] ? x : a->max[k];
}

static inline void acc_best(struct tp_profile_acc *a, size_t i, size_t k, double x, int lower) {
  if (lower) {
    a->best[i] = x < a->best[i] ? x : a->best[i];
    a->best[i + k] = x < a->best[i + k] ? x : a->best[i + k];
  } else {
    a->best[i] = x > a->best[i] ? x : a->best[i];
    a->best[i + k] = x > a->best[i + k] ? x : a->best[i + k];
  }
}

/* One row, cell by cell, in row order for every offset as the diagonal pass sums them. */
#define TP__ACC_ROW(T, NAME)                                                             \
  void NAME(struct tp_profile_acc *a, size_t i, const T *v, const unsigned char *skip) { \
    int lower = a->metric == TP_METRIC_EUCLIDEAN;                                        \
    a->self[i] = (double)v[0];                                                           \
    for (size_t k = 0; k < a->n - i; k++) {                                              \
      if (skip && skip[i + k])                                                           \
        continue;                                                                        \
      acc_offset(a, i, k, (double)v[k]);                                                 \
      if (k > 0)                                                                         \
        acc_best(a, i, k, (double)v[k], lower);                                          \
    }                                                                                    \
  }
TP__ACC_ROW(float, tp_profile_acc_row_f)
TP__ACC_ROW(double, tp_profile_acc_row_d)

int tp_profile_acc_finish(struct tp_profile_acc *a, struct tp_profile **out) {
  struct tp_profile *p;
  size_t n = a->n;
  int lower = a->metric == TP_METRIC_EUCLIDEAN;
  *out = NULL;
  if (!(p = calloc(1, sizeof *p))) {
    tp_profile_acc_free(a);
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate the profile");
  }
  /* The accumulators become the profile: sums turn into means in place. */
  p->n = n, p->block = 1;
  p->mean = a->sum, p->min = a->min, p->max = a->max;
  a->sum = a->min = a->max = NULL;
  tp__profile_offset_gaps(p->mean, p->min, p->max, a->cnt, a->imin, a->imax, 0, n, &p->toeplitz,
                          &p->toeplitz_i, &p->toeplitz_j);
  for (size_t i = 0; i < n; i++) {
    double self = a->self[i], b = a->best[i];
    if (isnan(self))
      continue;
    p->self_rows++;
    p->self_max += (size_t)!tp__profile_beats_self(b, self, lower);
  }
  tp__profile_shape(p, a->metric, a->cnt); /* the counts are spent: scratch */
  tp_profile_acc_free(a);
  *out = p;
  return 0;
}

/* Rows [r0, r1) of a float tile in one call: row i's cells start at v0 + (i - r0) * stride.
   With AVX, the offsets go eight at a time over a chunk of rows, so their sums, minima and
   maxima stay in registers; then each row is swept once for its best off-diagonal cell
   and its columns' (a separate sweep: done inside the offset blocks, each row's stores to
   the columns' best would half-overlap the next row's loads and stall). The sums still go
   row after row for every offset, so the result is the one-row path's, bit for bit. Rows
   too short for a block and blocks that hold a skipped column go cell by cell, after the
   registers are written back, in row order. */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* 1 when one of the eight columns from j is skipped. */
static inline int any_skip(const unsigned char *skip, size_t j) {
  uint64_t w = 0;
  if (!skip)
    return 0;
  memcpy(&w, skip + j, 8);
  return w != 0;
}

/* The eight lanes of offsets k..k+7 live in registers for a strip of rows: load and store. */
#define TP__FILL()                                                                 \
  do {                                                                             \
    s0 = _mm256_loadu_pd(a->sum + k), s1 = _mm256_loadu_pd(a->sum + k + 4);        \
    n0 = _mm256_loadu_pd(a->cnt + k), n1 = _mm256_loadu_pd(a->cnt + k + 4);        \
    mn = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(a->min + k + 4)),         \
                         _mm256_cvtpd_ps(_mm256_loadu_pd(a->min + k)));            \
    mx = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(a->max + k + 4)),         \
                         _mm256_cvtpd_ps(_mm256_loadu_pd(a->max + k)));            \
    imn = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(a->imin + k))); \
    imx = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(a->imax + k))); \
  } while (0)
#define TP__SPILL()                                                                  \
  do {                                                                               \
    _mm256_storeu_pd(a->sum + k, s0), _mm256_storeu_pd(a->sum + k + 4, s1);          \
    _mm256_storeu_pd(a->cnt + k, n0), _mm256_storeu_pd(a->cnt + k + 4, n1);          \
    _mm256_storeu_pd(a->min + k, _mm256_cvtps_pd(_mm256_castps256_ps128(mn)));       \
    _mm256_storeu_pd(a->min + k + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(mn, 1))); \
    _mm256_storeu_pd(a->max + k, _mm256_cvtps_pd(_mm256_castps256_ps128(mx)));       \
    _mm256_storeu_pd(a->max + k + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(mx, 1))); \
    _mm256_storeu_si256((__m256i *)(a->imin + k), _mm256_castps_si256(imn));         \
    _mm256_storeu_si256((__m256i *)(a->imax + k), _mm256_castps_si256(imx));         \
  } while (0)

/* Rows [c0, e), which all have the eight cells k..k+7, in registers; a row with a skipped
   column among them goes through acc_offset cell by cell. */
__attribute__((target("avx2"))) static void strip_avx(struct tp_profile_acc *a, size_t r0,
                                                      size_t c0, size_t e, size_t k,
                                                      const float *v0, size_t stride,
                                                      const unsigned char *skip) {
  const __m256d one = _mm256_set1_pd(1.0);
  __m256d s0, s1, n0, n1;
  __m256 mn, mx, imn, imx;
  TP__FILL();
  for (size_t i = c0; i < e; i++) {
    const float *v = v0 + (i - r0) * stride + k;
    if (skip && skip[i])
      continue;
    if (any_skip(skip, i + k)) {
      TP__SPILL();
      for (size_t l = 0; l < 8; l++)
        if (!skip[i + k + l])
          acc_offset(a, i, k + l, (double)v[l]);
      TP__FILL();
      continue;
    }
    __m256 x = _mm256_loadu_ps(v);
    __m256 row = _mm256_castsi256_ps(_mm256_set1_epi32((int)(uint32_t)i));
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
    n0 = _mm256_add_pd(n0, one), n1 = _mm256_add_pd(n1, one);
    imn = _mm256_blendv_ps(imn, row, _mm256_cmp_ps(x, mn, _CMP_LT_OQ));
    mn = _mm256_min_ps(x, mn);
    imx = _mm256_blendv_ps(imx, row, _mm256_cmp_ps(x, mx, _CMP_GT_OQ));
    mx = _mm256_max_ps(x, mx);
  }
  TP__SPILL();
}
#undef TP__FILL
#undef TP__SPILL

/* Rows [c0, c1) of a tile that starts at row r0, eight offsets at a time: the rows that have
   all eight in registers, the last few (near the matrix edge) cell by cell. */
__attribute__((target("avx2"))) static void offsets_avx(struct tp_profile_acc *a, size_t r0,
                                                        size_t c0, size_t c1, const float *v0,
                                                        size_t stride, const unsigned char *skip) {
  size_t n = a->n;
  for (size_t k = 0; k < n - c0; k += 8) {
    /* Rows i < full have all eight cells k..k+7 (i + k + 8 <= n). */
    size_t full = n >= k + 8 ? n - k - 7 : 0;
    size_t e = full < c0 ? c0 : full > c1 ? c1 : full;
    if (e > c0)
      strip_avx(a, r0, c0, e, k, v0, stride, skip);
    for (size_t i = e; i < c1; i++) {
      const float *v = v0 + (i - r0) * stride;
      if (skip && skip[i])
        continue;
      for (size_t l = k; l < k + 8 && l < n - i; l++)
        if (!(skip && skip[i + l]))
          acc_offset(a, i, l, (double)v[l]);
    }
  }
}

/* Row i's best off-diagonal cell and its columns' best, eight columns at a time. */
__attribute__((target("avx2"))) static void
best_avx(struct tp_profile_acc *a, size_t i, const float *v, const unsigned char *skip, int lower) {
  size_t len = a->n - i, k = 1;
  __m256 rb = _mm256_set1_ps(lower ? INFINITY : -INFINITY);
  float t[8];
  double b;
  for (; k + 8 <= len; k += 8) {
    if (any_skip(skip, i + k)) {
      for (size_t l = k; l < k + 8; l++)
        if (!skip[i + l])
          acc_best(a, i, l, (double)v[l], lower);
      continue;
    }
    __m256 x = _mm256_loadu_ps(v + k);
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    double *bj = a->best + i + k;
    if (lower) {
      rb = _mm256_min_ps(x, rb);
      _mm256_storeu_pd(bj, _mm256_min_pd(lo, _mm256_loadu_pd(bj)));
      _mm256_storeu_pd(bj + 4, _mm256_min_pd(hi, _mm256_loadu_pd(bj + 4)));
    } else {
      rb = _mm256_max_ps(x, rb);
      _mm256_storeu_pd(bj, _mm256_max_pd(lo, _mm256_loadu_pd(bj)));
      _mm256_storeu_pd(bj + 4, _mm256_max_pd(hi, _mm256_loadu_pd(bj + 4)));
    }
  }
  for (; k < len; k++)
    if (!(skip && skip[i + k]))
      acc_best(a, i, k, (double)v[k], lower);
  _mm256_storeu_ps(t, rb);
  b = a->best[i];
  for (int l = 0; l < 8; l++)
    b = lower ? ((double)t[l] < b ? (double)t[l] : b) : ((double)t[l] > b ? (double)t[l] : b);
  a->best[i] = b;
}

static void rows_avx(struct tp_profile_acc *a, size_t r0, size_t r1, const float *v0, size_t stride,
                     const unsigned char *skip) {
  enum { CH = 64 }; /* rows per chunk: the time is flat around it (bench/MEASUREMENTS.md) */
  int lower = a->metric == TP_METRIC_EUCLIDEAN;
  for (size_t c0 = r0; c0 < r1; c0 += CH) {
    size_t c1 = c0 + CH < r1 ? c0 + CH : r1;
    offsets_avx(a, r0, c0, c1, v0, stride, skip);
    for (size_t i = c0; i < c1; i++)
      if (!(skip && skip[i])) {
        a->self[i] = (double)v0[(i - r0) * stride];
        best_avx(a, i, v0 + (i - r0) * stride, skip, lower);
      }
  }
}
#define TP_PROFILE_AVX 1
#else
#define TP_PROFILE_AVX 0
#endif

void tp_profile_acc_rows_f(struct tp_profile_acc *a, size_t r0, size_t r1, const float *v0,
                           size_t stride, const unsigned char *skip) {
#if TP_PROFILE_AVX
  if (__builtin_cpu_supports("avx2")) {
    rows_avx(a, r0, r1, v0, stride, skip);
    return;
  }
#endif
  for (size_t i = r0; i < r1; i++)
    if (!(skip && skip[i]))
      tp_profile_acc_row_f(a, i, v0 + (i - r0) * stride, skip);
}
