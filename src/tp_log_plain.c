/* Plain text logs: one value per line, or `step value`; '#' comments and blank lines skip. */
#include <config.h>

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tp_error.h"
#include "tp_io.h"
#include "tp_series.h"

/* One parsed line: how many numbers it held (0 = blank/comment, -1 = malformed). */
struct pline {
  int cols;
  double a, b;
};

static const char *skip_blank(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
    p++;
  return p;
}

/* End of the line at p (its '\n', or end). Finding it before parsing takes the parser off
   the critical path: the next line's start no longer waits for this line's numbers, so the
   CPU overlaps consecutive lines. */
static const char *line_end(const char *p, const char *end) {
#ifdef __SSE2__
  const __m128i nl = _mm_set1_epi8('\n');
  for (; end - p >= 16; p += 16) {
    unsigned m = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), nl));
    if (m)
      return p + __builtin_ctz(m);
  }
#endif
  const char *q = memchr(p, '\n', (size_t)(end - p));
  return q ? q : end;
}

/* Parse the line starting at p; returns the start of the next line. */
static const char *parse_line(const char *p, const char *end, struct pline *l) {
  const char *q, *le = line_end(p, end);
  l->cols = 0;
  p = skip_blank(p, le);
  while (p < le && *p != '#' && l->cols < 3) {
    double v = tp_parse_double(p, le, &q);
    if (q == p || (q < le && *q != ' ' && *q != '\t' && *q != '\r')) {
      l->cols = -1;
      break;
    }
    if (l->cols == 0)
      l->a = v;
    else
      l->b = v;
    l->cols++;
    p = skip_blank(q, le);
  }
  if (l->cols == 3)
    l->cols = -1;
  return le < end ? le + 1 : end;
}

static int plain_sniff(const unsigned char *head, size_t len) {
  const char *p = (const char *)head, *end = p + len;
  int good = 0, bad = 0;
  if (len == TP__SNIFF_BYTES) { /* ignore the cut last line */
    const char *nl = memrchr(p, '\n', len);
    end = nl ? nl : end;
  }
  while (p < end && good + bad < 1000) {
    struct pline l;
    p = parse_line(p, end, &l);
    good += l.cols > 0;
    bad += l.cols < 0;
  }
  return good > bad ? 30 : 0; /* stray lines are malformed records, not another format */
}

/* Lines in the file, guessed from the first 64 KiB, so the arrays are allocated once. */
static size_t estimate_lines(const char *p, size_t size) {
  size_t probe = size < 65536 ? size : 65536, n = 0;
  for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + probe - q))); q++)
    n++;
  return n ? size / (probe / n) + n : 0;
}

static int plain_read(const char *path, const struct tp_series_opts *o,
                      struct tp_series **out) {
  struct tp_map m;
  struct tp_series *s;
  int rc, cols = 0;
  long line = 0;
  if (o->key && *o->key)
    return tp_err(TP_ENOKEY, path, -1,
                  "key '%s' given, but a plain log has no keys (one value or 'step "
                  "value' per line)", o->key);
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  if (!(s = tp_series_new())) {
    tp_map_close(&m);
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  }
  const char *p = (const char *)m.data, *end = p + m.size;
  rc = tp__series_reserve(s, estimate_lines(p, m.size));
  while (p < end && rc == 0) {
    struct pline l;
    line++;
    p = parse_line(p, end, &l);
    if (l.cols == 0)
      continue;
    if (cols == 0)
      cols = l.cols > 0 ? l.cols : 0;
    if (l.cols != cols) {
      tp_series_bad_line(s, line);
      continue;
    }
    rc = cols == 2 ? tp_series_push(s, l.a, l.b) : tp_series_push(s, (double)s->n, l.a);
  }
  tp_map_close(&m);
  s->has_step = cols == 2;
  if (rc == 0)
    rc = tp__series_done(s, path, "plain", cols == 2 ? "step value" : "value");
  if (rc < 0) {
    tp_series_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

const struct tp_series_reader tp_plain_reader = {
    .name = "plain",
    .summary = "text, one value per line or 'step value' ('#' comments)",
    .sniff = plain_sniff,
    .read = plain_read,
};
