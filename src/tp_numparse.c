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

#include "tp_series.h"

/* The fast path needs double arithmetic without excess precision (not x87). */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FAST_PATH_OK 1
#else
#define FAST_PATH_OK 0
#endif
#define STACK_COPY 128      /* tokens this long are copied on the stack */
#define MAX_TOKEN (1 << 20) /* longer digit strings are not numbers worth parsing */

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* What the scanner learnt about one decimal token. */
struct scan {
  const char *end;   /* one past the token */
  uint64_t w;        /* first 19 significant digits */
  int64_t exp10;     /* value = w * 10^exp10 (when exact) */
  int inexact;       /* digits beyond the 19th that were not zero */
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
static const char *digits(const char *p, const char *end, struct scan *sc, int *nd,
                          int frac) {
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

double tp_parse_double(const char *s, const char *end, const char **stop) {
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
  if (FAST_PATH_OK && !sc.inexact && sc.w <= (UINT64_C(1) << 53) && sc.exp10 >= -22 && sc.exp10 <= 22) {
    v = (double)sc.w;
    v = sc.exp10 < 0 ? v / pow10_exact[-sc.exp10] : v * pow10_exact[sc.exp10];
    return sc.neg ? -v : v;
  }
  return slow(s, sc.end);
}
