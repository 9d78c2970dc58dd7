/* Plain text logs: one value per line, or `step value`; '#' comments and blank lines skip. */
#include <config.h>

#include <string.h>

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

/* Parse the line starting at p; returns the start of the next line. */
static const char *parse_line(const char *p, const char *end, struct pline *l) {
  const char *q;
  l->cols = 0;
  p = skip_blank(p, end);
  while (p < end && *p != '\n' && *p != '#' && l->cols < 3) {
    double v = tp_parse_double(p, end, &q);
    if (q == p || (q < end && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')) {
      l->cols = -1;
      break;
    }
    if (l->cols == 0)
      l->a = v;
    else
      l->b = v;
    l->cols++;
    p = skip_blank(q, end);
  }
  if (l->cols == 3)
    l->cols = -1;
  if (p < end && *p != '\n') {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl : end;
  }
  return p < end ? p + 1 : end;
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
