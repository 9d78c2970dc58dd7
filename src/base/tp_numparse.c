/* tp_parse_double: a bounded, locale-free decimal parser, correctly rounded like strtod.
   Clinger's fast path covers what training logs print (at most 19 significant digits,
   mantissa <= 2^53, |exponent| <= 22: one exact product or quotient of two doubles);
   everything else goes to strtod_l in the "C" locale on a NUL-terminated copy. */
#include <config.h>

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_numparse.h"

/* The fast path needs double arithmetic without excess precision (not x87). */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FAST_PATH_OK 1
#else
#define FAST_PATH_OK 0
#endif
#define STACK_COPY 128      /* tokens this long are copied on the stack */
#define MAX_TOKEN (1 << 20) /* longer digit strings are not numbers worth parsing */

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* What the scanner learnt about one decimal token. */
struct scan {
  const char *end; /* one past the token */
  uint64_t w;      /* first 19 significant digits */
  int64_t exp10;   /* value = w * 10^exp10 (when exact) */
  int inexact;     /* digits beyond the 19th that were not zero */
  int neg;
};

static int is_digit(char c) { return (unsigned char)(c - '0') < 10; }

/* Lower-case compare of the word at s (bounded by end) with lit. */
static int word_is(const char *s, const char *end, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(end - s) < n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((s[i] | 0x20) != lit[i])
      return 0;
  return 1;
}

/* nan / inf / infinity in any case; returns the length matched, 0 for none. */
static size_t special(const char *s, const char *end, double *v) {
  if (word_is(s, end, "nan")) {
    *v = NAN;
    return 3;
  }
  if (word_is(s, end, "infinity")) {
    *v = INFINITY;
    return 8;
  }
  if (word_is(s, end, "inf")) {
    *v = INFINITY;
    return 3;
  }
  return 0;
}

/* Accumulate a run of digits into sc; nd counts significant digits seen so far. */
static const char *digits(const char *p, const char *end, struct scan *sc, int *nd, int frac) {
  for (; p < end && is_digit(*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (*nd == 0 && d == 0) { /* leading zero: only the scale moves */
      if (frac)
        sc->exp10--;
      continue;
    }
    if (*nd < 19) {
      sc->w = sc->w * 10 + d;
      (*nd)++;
      if (frac)
        sc->exp10--;
    } else {
      sc->inexact |= d != 0;
      if (!frac)
        sc->exp10++;
    }
  }
  return p;
}

/* Optional exponent after the mantissa; a bare 'e' is not part of the number. */
static const char *exponent(const char *p, const char *end, struct scan *sc) {
  const char *q = p + 1;
  int eneg = 0;
  int64_t e = 0;
  if (p >= end || (*p | 0x20) != 'e')
    return p;
  if (q < end && (*q == '+' || *q == '-'))
    eneg = *q++ == '-';
  if (q >= end || !is_digit(*q))
    return p;
  for (; q < end && is_digit(*q); q++)
    if (e < 100000) /* saturate: anything beyond is 0 or inf anyway */
      e = e * 10 + (*q - '0');
  sc->exp10 += eneg ? -e : e;
  return q;
}

/* Scan sign, mantissa and exponent; returns 0 when no digits were found. */
static int scan(const char *s, const char *end, struct scan *sc) {
  const char *p = s, *m;
  int nd = 0;
  memset(sc, 0, sizeof *sc);
  if (p < end && (*p == '+' || *p == '-'))
    sc->neg = *p++ == '-';
  m = p;
  p = digits(p, end, sc, &nd, 0);
  int any = p > m;
  if (p < end && *p == '.') {
    const char *f = p + 1;
    p = digits(f, end, sc, &nd, 1);
    any |= p > f;
    if (p == f && !any)
      return 0;
  }
  if (!any)
    return 0;
  sc->end = exponent(p, end, sc);
  return 1;
}

/* strtod_l in the C locale on a NUL-terminated copy of [s, end). */
static double slow(const char *s, const char *end) {
  char buf[STACK_COPY], *copy = buf;
  size_t n = (size_t)(end - s);
  double v;
  if (n >= sizeof buf) {
    if (n > MAX_TOKEN || !(copy = malloc(n + 1)))
      return NAN;
  }
  memcpy(copy, s, n);
  copy[n] = '\0';
  pthread_once(&c_locale_once, c_locale_init);
  v = c_locale ? strtod_l(copy, NULL, c_locale) : strtod(copy, NULL);
  if (copy != buf)
    free(copy);
  return v;
}

static const uint64_t pow10_int[9] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Up to 8 leading digits of the 8 bytes at p without a branch per digit (SWAR): which
   bytes are digits, then the classic pairwise multiply-add of 8 digits in one register.
   Variable-length runs are what make a digit loop mispredict. Returns the digit count. */
static inline int swar8(const char *p, uint64_t *val) {
  uint64_t v, x, nd;
  memcpy(&v, p, 8);
  x = v ^ UINT64_C(0x3030303030303030); /* a digit byte becomes 0..9 */
  nd = (((x & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x7676767676767676)) | x) &
       UINT64_C(0x8080808080808080); /* high bit set where the byte is not 0..9 */
  int n = nd ? __builtin_ctzll(nd) >> 3 : 8;
  if (n == 0)
    return 0;
  x <<= 8 * (8 - n); /* right-align: the missing digits become leading zeros */
  x = x * 10 + (x >> 8);
  x = ((x & UINT64_C(0x000000FF000000FF)) * (100 + (UINT64_C(1000000) << 32)) +
       ((x >> 16) & UINT64_C(0x000000FF000000FF)) * (1 + (UINT64_C(10000) << 32))) >>
      32;
  *val = x;
  return n;
}
#define HAVE_SWAR 1
#else
#define HAVE_SWAR 0
#endif

/* Accumulate a run of digits into *w: 8 at a time where 8 bytes are readable. */
static inline __attribute__((always_inline)) const char *run(const char *p, const char *end,
                                                             uint64_t *w) {
  uint64_t x = *w, v;
  int n;
  while (HAVE_SWAR && end - p >= 8 && (n = swar8(p, &v)) > 0) {
    x = x * pow10_int[n] + v;
    p += n;
    if (n < 8)
      break;
  }
  for (; p < end && is_digit(*p); p++)
    x = x * 10 + (unsigned)(*p - '0');
  *w = x;
  return p;
}

/* The common case in one tight loop: at most 19 digits in all, a short exponent, and a
   mantissa and power of ten that are both exact doubles. Returns 0 to let the general
   scanner decide (more digits, nan/inf, no digits, or a value needing strtod). */
static int fast(const char *s, const char *end, double *out, const char **stop) {
  const char *p = s, *d;
  uint64_t w = 0;
  int neg = 0, nd, e = 0;
  if (p < end && (*p == '-' || *p == '+'))
    neg = *p++ == '-';
  d = p;
  p = run(p, end, &w);
  nd = (int)(p - d);
  if (p < end && *p == '.') {
    const char *f = ++p;
    p = run(p, end, &w);
    e = -(int)(p - f);
    nd += (int)(p - f);
  }
  if (nd == 0 || nd > 19)
    return 0;
  if (p < end && (*p | 0x20) == 'e') {
    const char *q = p + 1;
    int eneg = 0, x = 0, k = 0;
    if (q < end && (*q == '+' || *q == '-'))
      eneg = *q++ == '-';
    for (; q < end && is_digit(*q) && k < 5; q++, k++)
      x = x * 10 + (*q - '0');
    if (k == 5)
      return 0;
    if (k) {
      e += eneg ? -x : x;
      p = q;
    }
  }
  if (w > (UINT64_C(1) << 53) || e < -22 || e > 22)
    return 0;
  double m = (double)(int64_t)w; /* w <= 2^53: the signed conversion is one instruction */
  *out = e < 0 ? m / pow10_exact[-e] : m * pow10_exact[e];
  *out = neg ? -*out : *out;
  *stop = p;
  return 1;
}

/* Everything the fast path declines: long digit runs, big exponents, nan/inf, no number. */
static __attribute__((noinline, cold)) double general(const char *s, const char *end,
                                                      const char **stop) {
  struct scan sc;
  double v;
  const char *p = s;
  if (stop)
    *stop = s;
  if (!scan(s, end, &sc)) {
    int neg = p < end && *p == '-';
    p += p < end && (*p == '+' || *p == '-');
    size_t k = special(p, end, &v);
    if (!k)
      return 0.0;
    if (stop)
      *stop = p + k;
    return neg ? -v : v;
  }
  if (stop)
    *stop = sc.end;
  if (sc.w == 0)
    return sc.neg ? -0.0 : 0.0;
  if (FAST_PATH_OK && !sc.inexact && sc.w <= (UINT64_C(1) << 53) && sc.exp10 >= -22 &&
      sc.exp10 <= 22) {
    v = (double)sc.w;
    v = sc.exp10 < 0 ? v / pow10_exact[-sc.exp10] : v * pow10_exact[sc.exp10];
    return sc.neg ? -v : v;
  }
  return slow(s, sc.end);
}

double tp_parse_double(const char *s, const char *end, const char **stop) {
  double v;
  const char *fstop;
  if (FAST_PATH_OK && fast(s, end, &v, &fstop)) {
    if (stop)
      *stop = fstop;
    return v;
  }
  return general(s, end, stop);
}
