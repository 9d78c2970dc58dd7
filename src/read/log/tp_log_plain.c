/* Plain text logs: one value per line, or `step value`; '#' comments and blank lines skip. */
#include <config.h>
#include <stddef.h>

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tp_error.h"
#include "tp_log_int.h"
#include "tp_map.h"
#include "tp_numparse.h"
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

/* The reader's state for one part: the column count it expects (0 = take the first). */
struct plain_part {
  int cols;
  int mapped; /* drop the file's pages behind the cursor */
};

/* Parse the lines of one part; line numbers are part-relative. */
static void plain_part(struct tp__part *pt) {
  struct plain_part *c = pt->ctx;
  const char *p = pt->a, *end = pt->b;
  const char *dropped = p;
  long line = 0;
  int rc;
  if (!(pt->s = tp_series_new())) {
    pt->rc = tp_err(TP_ENOMEM, NULL, -1, "out of memory");
    return;
  }
  rc = tp__series_reserve(pt->s, estimate_lines(p, (size_t)(end - p)));
  while (p < end && rc == 0) {
    struct pline l;
    line++;
    p = parse_line(p, end, &l);
    if (c->mapped && p - dropped >= (8 << 20)) {
      tp_map_drop(dropped, p);
      dropped = p;
    }
    if (l.cols == 0)
      continue;
    if (c->cols == 0)
      c->cols = l.cols > 0 ? l.cols : 0;
    if (l.cols != c->cols) {
      tp_series_bad_line(pt->s, line);
      continue;
    }
    rc = c->cols == 2 ? tp_series_push(pt->s, l.a, l.b)
                      : tp_series_push(pt->s, (double)pt->s->n, l.a);
  }
  pt->rc = rc;
}

/* Parts after the first need the column count of the file's first record. */
static int first_cols(const char *p, const char *end) {
  while (p < end) {
    struct pline l;
    p = parse_line(p, end, &l);
    if (l.cols > 0)
      return l.cols;
  }
  return 0;
}

static int plain_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct tp__part parts[TP__PARTS_MAX];
  struct plain_part ctx[TP__PARTS_MAX];
  size_t k;
  int rc, cols;
  if (o->key && *o->key)
    return tp_err(TP_ENOKEY, path, -1,
                  "key '%s' given, but a plain log has no keys (one value or 'step "
                  "value' per line)",
                  o->key);
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  const char *base = (const char *)m.data, *end = base + m.size;
  /* parts of at least 16 MiB: below that a thread costs more than it saves */
  k = tp__parts_split(base, end, (size_t)16 << 20, parts);
  cols = k > 1 ? first_cols(base, end) : 0;
  for (size_t i = 0; i < k; i++) {
    ctx[i].cols = cols;
    ctx[i].mapped = m.mapped;
    parts[i].ctx = &ctx[i];
  }
  rc = tp__parts_run(parts, k, plain_part);
  /* one-value parts count from 0: the record index continues across parts */
  if (rc == 0 && cols == 1)
    for (size_t i = 1, off = parts[0].s->n; i < k; off += parts[i].s->n, i++)
      if (!parts[i].s->step)
        parts[i].s->step0 = (double)off;
  if (rc == 0)
    rc = tp__parts_merge(parts, k, base);
  tp_map_close(&m);
  struct tp_series *s = parts[0].s;
  for (size_t i = 1; i < k; i++)
    tp_series_free(parts[i].s);
  if (rc == 0) {
    cols = ctx[0].cols;
    if (cols == 1)
      tp__series_index_steps(s);
    s->has_step = cols == 2;
    rc = tp__series_done(s, path, "plain", cols == 2 ? "step value" : "value");
  }
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
