/* The (step, value) series container and the content-detecting log reader loop. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_series.h"



struct tp_series *tp_series_new(void) {
  struct tp_series *s = calloc(1, sizeof *s);
  if (s)
    s->stride = 1.0;
  return s;
}

void tp_series_free(struct tp_series *s) {
  if (!s)
    return;
  free(s->step);
  free(s->value);
  free(s->overflow_step);
  free(s);
}

/* Next capacity: grow by half so step+value never exceed 3 doubles per point. */
static int next_cap(size_t cap, size_t *out) {
  const struct tp_limits *lim = tp_limits_get();
  size_t c = cap < 64 ? 64 : cap + cap / 2;
  if (c < cap || c > SIZE_MAX / sizeof(double))
    return tp_err(TP_EOVERFLOW, NULL, -1, "series capacity overflows size_t");
  if (c > lim->max_elements) {
    if (cap >= lim->max_elements)
      return tp_err(TP_ELIMIT, NULL, -1,
                    "series longer than the element limit %llu (TRAINPLOT_MAX_ELEMENTS)",
                    (unsigned long long)lim->max_elements);
    c = (size_t)lim->max_elements;
  }
  if ((uint64_t)c * sizeof(double) > lim->max_bytes)
    return tp_err(TP_ELIMIT, NULL, -1,
                  "series of %zu points exceeds the allocation limit (TRAINPLOT_MAX_BYTES)", c);
  *out = c;
  return 0;
}

/* Ask for transparent huge pages on a big array: a 10^7-point log otherwise spends a
   fifth of its time in 4 KiB page faults. Advisory; failure changes nothing. */
static void huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), b = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (bytes >= 4 * huge && b > a)
    madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/* Resize the arrays to c points (the step array only once it exists). On failure cap
   stays within both arrays: a shrunk step array lowers it at once, a grown one waits for
   the value array. */
static int resize(struct tp_series *s, size_t c) {
  if (s->step) {
    double *st = realloc(s->step, c * sizeof *st);
    if (!st)
      return tp_err(TP_ENOMEM, NULL, -1, "cannot grow series to %zu points", c);
    s->step = st;
    if (c < s->cap)
      s->cap = c;
    huge_pages(s->step, c * sizeof *st);
  }
  double *v = realloc(s->value, c * sizeof *v);
  if (!v)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot grow series to %zu points", c);
  s->value = v;
  s->cap = c;
  huge_pages(s->value, c * sizeof *v);
  return 0;
}

/* A step that leaves the progression: write the implicit steps out as an array. */
static int materialise(struct tp_series *s) {
  size_t c = s->cap ? s->cap : 1;
  double *st = malloc(c * sizeof *st);
  if (!st)
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu steps", c);
  huge_pages(st, c * sizeof *st);
  for (size_t i = 0; i < s->n; i++)
    st[i] = s->step0 + (double)i * s->stride;
  s->step = st;
  return 0;
}

static int grow(struct tp_series *s) {
  size_t c;
  int rc = next_cap(s->cap, &c);
  return rc < 0 ? rc : resize(s, c);
}

int tp__series_reserve(struct tp_series *s, size_t n) {
  const struct tp_limits *lim = tp_limits_get();
  if (n <= s->cap)
    return 0;
  if (n > lim->max_elements)
    n = (size_t)lim->max_elements; /* a guess past the limit: grow() reports it if it comes true */
  if (n > SIZE_MAX / sizeof(double) || (uint64_t)n * sizeof(double) > lim->max_bytes)
    return 0;
  return n > s->cap ? resize(s, n) : 0;
}

int tp_series_push(struct tp_series *s, double step, double value) {
  if (s->n == s->cap) {
    int rc = grow(s);
    if (rc < 0)
      return rc;
  }
  if (!s->step) {
    if (s->n == 0 && isfinite(step))
      s->step0 = step, s->stride = 1.0;
    else if (s->n == 1 && isfinite(step - s->step0) && s->step0 + (step - s->step0) == step)
      s->stride = step - s->step0;
    else if (s->n < 2 || step != s->step0 + (double)s->n * s->stride) {
      int rc = materialise(s);
      if (rc < 0)
        return rc;
    }
  }
  if (s->step)
    s->step[s->n] = step;
  s->value[s->n] = value;
  s->n++;
  return 0;
}

void tp__series_index_steps(struct tp_series *s) {
  free(s->step);
  s->step = NULL;
  s->step0 = 0.0;
  s->stride = 1.0;
}

int tp_series_push_overflow(struct tp_series *s, double step) {
  if (s->n_overflow == s->cap_overflow) {
    size_t c;
    int rc = next_cap(s->cap_overflow, &c);
    if (rc < 0)
      return rc;
    double *o = realloc(s->overflow_step, c * sizeof *o);
    if (!o)
      return tp_err(TP_ENOMEM, NULL, -1, "cannot grow overflow list to %zu events", c);
    s->overflow_step = o;
    s->cap_overflow = c;
  }
  s->overflow_step[s->n_overflow++] = step;
  return 0;
}

void tp_series_bad_line(struct tp_series *s, long line) {
  if (s->n_malformed < TP_SERIES_BADLINES)
    s->malformed_line[s->n_malformed] = line;
  s->n_malformed++;
}

/* ---- helpers shared by the log readers ---- */

#ifdef __SSE2__
#include <emmintrin.h>

/* Candidate positions where both the first and the last needle byte match, 16 at a time
   (W. Muła's "SIMD-friendly" substring search); glibc's memmem is ~1 GB/s on logs. */
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

int tp__series_done(struct tp_series *s, const char *path, const char *format,
                    const char *key) {
  snprintf(s->format, sizeof s->format, "%s", format);
  snprintf(s->key, sizeof s->key, "%s", key ? key : "");
  if (s->n && s->cap > s->n + s->n / 2)
    resize(s, s->n); /* an estimate that overshot: keep the 3-doubles-per-point bound */
  if (s->n == 0) {
    if (s->n_malformed)
      return tp_err_line(TP_ECORRUPT, path, s->malformed_line[0],
                         "%s log: all %zu '%s' records are malformed", format,
                         s->n_malformed, s->key);
    return tp_err(TP_EEMPTY, path, -1, "%s log: no '%s' records found", format, s->key);
  }
  return 0;
}

/* ---- parts parsed over the cores ---- */

size_t tp__parts_force;

size_t tp__parts_split(const char *base, const char *end, size_t min_bytes,
                       struct tp__part *parts) {
  size_t size = (size_t)(end - base), k = (size_t)tp_threads(TP__PARTS_MAX);
  if (min_bytes && size / min_bytes < k)
    k = size / min_bytes ? size / min_bytes : 1;
  if (tp__parts_force)
    k = tp__parts_force < TP__PARTS_MAX ? tp__parts_force : TP__PARTS_MAX;
  const char *a = base;
  size_t n = 0;
  for (size_t i = 1; i <= k && a < end; i++) {
    const char *b = i == k ? end : base + size / k * i;
    if (b < a)
      b = a;
    if (b < end) { /* move the cut past the next newline */
      const char *nl = memchr(b, '\n', (size_t)(end - b));
      b = nl ? nl + 1 : end;
    }
    parts[n++] = (struct tp__part){.a = a, .b = b};
    a = b;
  }
  if (n == 0)
    parts[n++] = (struct tp__part){.a = base, .b = end};
  return n;
}

struct part_thread {
  struct tp__part *part;
  void (*fn)(struct tp__part *);
};

static void *part_main(void *arg) {
  struct part_thread *t = arg;
  t->fn(t->part);
  if (t->part->rc < 0)
    t->part->err = *tp_err_last();
  return NULL;
}

int tp__parts_run(struct tp__part *parts, size_t k, void (*fn)(struct tp__part *)) {
  struct part_thread arg[TP__PARTS_MAX];
  /* A part whose thread cannot start runs on this one; each keeps its own error. The
     split makes at most TP__PARTS_MAX parts; more would run in rounds. */
  for (size_t i0 = 0; i0 < k; i0 += TP__PARTS_MAX) {
    size_t m = k - i0 < TP__PARTS_MAX ? k - i0 : TP__PARTS_MAX;
    for (size_t i = 0; i < m; i++)
      arg[i] = (struct part_thread){&parts[i0 + i], fn};
    tp_run_jobs(arg, m, sizeof arg[0], part_main);
  }
  for (size_t i = 0; i < k; i++)
    if (parts[i].rc < 0)
      return tp_err_restore(&parts[i].err); /* the message of the part that failed */
  return 0;
}

/* Newlines in [a, b). */
static long count_lines(const char *a, const char *b) {
  long n = 0;
  for (const char *p = a; p < b && (p = memchr(p, '\n', (size_t)(b - p))); p++)
    n++;
  return n;
}

/* p's implicit steps go on d's progression, point for point as tp_series_push would see
   them: whole-number steps below 2^52, where every step is exact. */
static int continues(const struct tp_series *d, const struct tp_series *p) {
  const double big = 4503599627370496.0; /* 2^52 */
  if (d->step || p->step || d->n < 2 || p->n < 1 || d->n + p->n > d->cap)
    return 0;
  double last = tp_series_step(d, d->n + p->n - 1);
  return p->step0 == tp_series_step(d, d->n) && (p->n == 1 || p->stride == d->stride) &&
         d->step0 == floor(d->step0) && d->stride == floor(d->stride) &&
         fabs(d->step0) < big && fabs(last) < big;
}

int tp__parts_merge(struct tp__part *parts, size_t k, const char *base) {
  struct tp_series *d = parts[0].s;
  size_t total = 0;
  long before = 0; /* lines of the file before part i */
  const char *counted = base;
  int rc = 0;
  for (size_t i = 0; i < k; i++)
    total += parts[i].s->n;
  if ((rc = tp__series_reserve(d, total)) < 0)
    return rc;
  for (size_t i = 1; i < k; i++) {
    struct tp_series *p = parts[i].s;
    if (continues(d, p)) {
      /* the progression goes on: the values are all there is to copy */
      memcpy(d->value + d->n, p->value, p->n * sizeof *p->value);
      d->n += p->n;
    } else {
      for (size_t j = 0; j < p->n && rc == 0; j++)
        rc = tp_series_push(d, tp_series_step(p, j), p->value[j]);
    }
    for (size_t j = 0; j < p->n_overflow && rc == 0; j++)
      rc = tp_series_push_overflow(d, p->overflow_step[j]);
    if (rc == 0 && p->n_malformed && d->n_malformed < TP_SERIES_BADLINES) {
      before += count_lines(counted, parts[i].a);
      counted = parts[i].a;
    }
    for (size_t j = 0; j < p->n_malformed; j++)
      tp_series_bad_line(d, j < TP_SERIES_BADLINES ? before + p->malformed_line[j] : 0);
    tp_series_free(p);
    parts[i].s = NULL;
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* ---- the reader table and the detection loop ---- */

static const struct tp_series_reader *const readers[] = {
    &tp_fairseq_reader, &tp_megatron_reader, &tp_hf_reader,  &tp_jsonl_reader,
    &tp_tfevents_reader, &tp_array_reader,   &tp_csv_reader, &tp_plain_reader,
};

const struct tp_series_reader *const *tp_series_readers(size_t *n) {
  *n = sizeof readers / sizeof readers[0];
  return readers;
}

/* The reader with the highest confidence; the table order breaks ties. */
static int detect(const char *path, const struct tp_series_reader **out) {
  unsigned char *head = malloc(TP__SNIFF_BYTES);
  size_t got = 0, i;
  int best = 0, rc;
  if (!head)
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  if ((rc = tp_file_head(path, head, TP__SNIFF_BYTES, &got)) < 0) {
    free(head);
    return rc;
  }
  *out = NULL;
  for (i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    int c = readers[i]->sniff(head, got);
    if (c > best) {
      best = c;
      *out = readers[i];
    }
  }
  free(head);
  if (!*out)
    return tp_err(TP_EFORMAT, path, 0,
                  got ? "not a training log trainplot knows (fairseq, megatron, hf "
                        "trainer_state, jsonl, tfevents, npy/pt, csv, plain)"
                      : "empty file");
  return 0;
}

int tp_series_read(const char *path, const struct tp_series_opts *o,
                   struct tp_series **out) {
  static const struct tp_series_opts none;
  const struct tp_series_reader *r;
  int rc;
  unsigned faults = tp_map_faults();
  *out = NULL;
  if ((rc = tp_limits_check()) < 0 || (rc = detect(path, &r)) < 0)
    return rc;
  rc = r->read(path, o ? o : &none, out);
  if (tp_map_faults() != faults) { /* pages of zeros stood in for the lost end */
    tp_series_free(*out);
    *out = NULL;
    return tp_map_shrank(path);
  }
  return rc;
}

int tp__json_number(struct json_object *v, double *out) {
  const char *str, *stop;
  size_t len;
  switch (json_object_get_type(v)) {
  case json_type_double:
  case json_type_int:
    *out = json_object_get_double(v);
    return 1;
  case json_type_string: /* fairseq's json logger writes "1.421" */
    str = json_object_get_string(v);
    len = (size_t)json_object_get_string_len(v);
    *out = tp_parse_double(str, str + len, &stop);
    return stop > str && stop == str + len;
  default:
    return 0;
  }
}

int tp__json_key_error(const char *path, long line, const char *key,
                       struct json_object *obj, const char *what) {
  char list[512];
  size_t used = 0;
  int n = 0;
  list[0] = '\0';
  if (obj && json_object_is_type(obj, json_type_object)) {
    json_object_object_foreach(obj, k, v) {
      (void)v;
      if (used + strlen(k) + 8 < sizeof list)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", n ? ", " : "", k);
      else if (used + 6 < sizeof list) {
        used += (size_t)snprintf(list + used, sizeof list - used, ", …");
        break;
      }
      n++;
    }
  }
  return tp_err_line(TP_ENOKEY, path, line, "key '%s' not found in %s; keys there: %s",
                     key, what, n ? list : "(none)");
}
