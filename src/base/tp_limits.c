/* Resource limits from the environment, checked size arithmetic and large allocations. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "tp_error.h"
#include "tp_limits.h"

#define TP_DEFAULT_MAX_BYTES (16ULL << 30)
#define TP_DEFAULT_MAX_ELEMENTS (4ULL << 30)
#define TP_DEFAULT_MAX_DEPTH 256

static struct tp_limits limits;
static int limits_ready;

/* Parse a size such as 512M or 8G: digits, then at most one of K, M, G, T. Returns 0 and
   sets *out, or -1 when the text is not a size or overflows 64 bits. */
static int parse_size(const char *s, uint64_t *out) {
  uint64_t v = 0;
  int shift = 0;
  if (!s || *s < '0' || *s > '9')
    return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  switch (*s) {
  case 'k':
  case 'K':
    shift = 10;
    s++;
    break;
  case 'm':
  case 'M':
    shift = 20;
    s++;
    break;
  case 'g':
  case 'G':
    shift = 30;
    s++;
    break;
  case 't':
  case 'T':
    shift = 40;
    s++;
    break;
  default: break;
  }
  if (*s || v == 0 || v > (UINT64_MAX >> shift))
    return -1;
  *out = v << shift;
  return 0;
}

/* The limits' environment variables, and the first that is malformed (NULL when none). */
static const char *const limit_vars[] = {"TRAINPLOT_MAX_BYTES", "TRAINPLOT_MAX_ELEMENTS"};
static const char *bad_limit_var;

const struct tp_limits *tp_limits_get(void) {
  if (!limits_ready) {
    uint64_t *dst[] = {&limits.max_bytes, &limits.max_elements};
    const uint64_t def[] = {TP_DEFAULT_MAX_BYTES, TP_DEFAULT_MAX_ELEMENTS};
    bad_limit_var = NULL;
    for (size_t i = 0; i < 2; i++) {
      const char *env = getenv(limit_vars[i]);
      *dst[i] = def[i];
      if (env && *env && parse_size(env, dst[i]) < 0) {
        *dst[i] = def[i];
        if (!bad_limit_var)
          bad_limit_var = limit_vars[i];
      }
    }
    limits.max_depth = TP_DEFAULT_MAX_DEPTH;
    limits_ready = 1;
  }
  return &limits;
}

int tp_limits_check(void) {
  const char *env;
  tp_limits_get();
  if (!bad_limit_var)
    return 0;
  env = getenv(bad_limit_var);
  return tp_err(TP_EINVAL, NULL, -1,
                "%s='%s' is not a size: use a positive whole number with an optional K, M, "
                "G or T suffix (e.g. 32G) that fits in 64 bits",
                bad_limit_var, env ? env : "");
}

void tp_limits_set(const struct tp_limits *l) {
  if (!l) {
    limits_ready = 0; /* read the environment again at the next use */
    return;
  }
  limits = *l;
  limits_ready = 1;
  bad_limit_var = NULL;
}

int tp_size_mul(uint64_t a, uint64_t b, uint64_t *out, const char *file) {
  if (a != 0 && b > UINT64_MAX / a)
    return tp_err(TP_EOVERFLOW, file, -1, "size %llu x %llu overflows 64 bits",
                  (unsigned long long)a, (unsigned long long)b);
  *out = a * b;
  return 0;
}

int tp_size_check(uint64_t n, const char *file, const char *what) {
  const struct tp_limits *l = tp_limits_get();
  if (n > l->max_bytes || n > SIZE_MAX / 2)
    return tp_err(TP_ELIMIT, file, -1,
                  "%s needs %llu bytes, over the limit of %llu "
                  "(raise it with TRAINPLOT_MAX_BYTES)",
                  what, (unsigned long long)n, (unsigned long long)l->max_bytes);
  return 0;
}

void *tp_big_alloc(size_t bytes) {
  const size_t huge = (size_t)2 << 20;
  void *p = NULL;
  if (bytes < huge)
    return malloc(bytes ? bytes : 1);
  if (posix_memalign(&p, huge, bytes) != 0)
    return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes & ~(huge - 1), MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
  return p;
}
