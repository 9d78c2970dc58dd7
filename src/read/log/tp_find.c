/* Substring search (SSE2 where available) and the lazy line counter the log readers share. */
#include <config.h>

#include <stddef.h>
#include <string.h>

#include "tp_log_int.h"
#include "tp_series.h"

#ifdef __SSE2__
#include <emmintrin.h>

/* Candidate positions where both the first and the last needle byte match, 16 at a time
   (W. Muła's "SIMD-friendly" substring search); glibc's memmem is slower on logs
   (bench/MEASUREMENTS.md). */
static const char *find_sse2(const char **hp, const char *end, const char *nd, size_t m) {
  const char *h = *hp;
  const __m128i first = _mm_set1_epi8(nd[0]), last = _mm_set1_epi8(nd[m - 1]);
  for (; end - h >= (ptrdiff_t)(m + 15); h += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)h);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(h + m - 1));
    unsigned mask = (unsigned)_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
    while (mask) {
      int i = __builtin_ctz(mask);
      if (!memcmp(h + i + 1, nd + 1, m - 2))
        return h + i;
      mask &= mask - 1;
    }
  }
  *hp = h; /* the tail shorter than one block is left to the caller */
  return NULL;
}
#endif

const char *tp__find(const char *h, const char *end, const char *needle, size_t m) {
  if (m == 0)
    return h;
  if (m == 1)
    return memchr(h, needle[0], (size_t)(end - h));
#ifdef __SSE2__
  const char *r = find_sse2(&h, end, needle, m);
  if (r)
    return r;
#endif
  while (end - h >= (ptrdiff_t)m) {
    const char *p = memchr(h, needle[0], (size_t)(end - h) - m + 1);
    if (!p)
      return NULL;
    if (!memcmp(p, needle, m))
      return p;
    h = p + 1;
  }
  return NULL;
}

long tp__line_at(struct tp__lines *c, const char *p) {
  while (c->pos < p) {
    const char *nl = memchr(c->pos, '\n', (size_t)(p - c->pos));
    if (!nl) {
      c->pos = p;
      break;
    }
    c->line++;
    c->pos = nl + 1;
  }
  return c->line;
}

void tp__bad_at(struct tp_series *s, struct tp__lines *c, const char *p) {
  tp_series_bad_line(s, s->n_malformed < TP_SERIES_BADLINES ? tp__line_at(c, p) : 0);
}
