/* Megatron-LM / Megatron-DeepSpeed / GPT-NeoX stdout: ` iteration  N/  M | … | grad norm: x |`.
   The step is N. Megatron prints skipped and nan iteration counts per logging interval and
   leaves out `grad norm:` when every step of the interval was skipped (fp16 loss-scale
   search); each such line becomes one overflow event at N instead of a point. */
#include <config.h>
#include <stddef.h>

#include <stdio.h>
#include <string.h>

#include "tp_error.h"
#include "tp_log_int.h"
#include "tp_map.h"
#include "tp_numparse.h"
#include "tp_series.h"

static const char *const default_keys[] = {"grad norm", "grad_norm", "grad-norm"};

static const char *skip_sp(const char *p, const char *e) {
  while (p < e && *p == ' ')
    p++;
  return p;
}

/* N when "iteration" at p starts "iteration  N/ M", else -1. */
static double iteration_of(const char *p, const char *e) {
  const char *q;
  p = skip_sp(p + 9, e);
  double n = tp_parse_double(p, e, &q);
  return q > p && q < e && *q == '/' ? n : -1;
}

/* "| key: value" in the line; 1 found, 0 absent, -1 unparsable. */
static int get_field(const char *ls, const char *le, const char *key, double *v) {
  char needle[160];
  const char *p, *q;
  int m = snprintf(needle, sizeof needle, "| %s:", key);
  if (!(p = tp__find(ls, le, needle, (size_t)m)))
    return 0;
  p = skip_sp(p + m, le);
  *v = tp_parse_double(p, le, &q);
  return q > p ? 1 : -1;
}

struct mg {
  const char *path;
  const char *key;
  struct tp_series *s;
  struct tp__lines lines;
  size_t with_key; /* iteration lines that carry the key */
};

/* One iteration line: a point, an overflow event, or both. */
static int iteration_line(struct mg *g, const char *ls, const char *le, double it) {
  double x, skipped = 0, nan_it = 0;
  int f = get_field(ls, le, g->key, &x), rc = 0;
  if (f < 0) {
    tp__bad_at(g->s, &g->lines, ls);
    return 0;
  }
  if (f > 0) {
    g->with_key++;
    rc = tp_series_push(g->s, it, x);
  }
  get_field(ls, le, "number of skipped iterations", &skipped);
  get_field(ls, le, "number of nan iterations", &nan_it);
  if (rc == 0 && (f == 0 || skipped > 0 || nan_it > 0))
    rc = tp_series_push_overflow(g->s, it);
  return rc;
}

static int scan(struct mg *g, const char *base, const char *end) {
  const char *p = base, *hit;
  int rc = 0;
  while (rc == 0 && (hit = tp__find(p, end, "iteration ", 10))) {
    const char *nl = memchr(hit, '\n', (size_t)(end - hit)), *le = nl ? nl : end;
    double it = (hit == base || hit[-1] == ' ' || hit[-1] == '|') ? iteration_of(hit, le) : -1;
    if (it >= 0) {
      const char *ls = memrchr(base, '\n', (size_t)(hit - base));
      rc = iteration_line(g, ls ? ls + 1 : base, le, it);
    }
    p = it >= 0 ? le : hit + 10;
  }
  return rc;
}

/* The first default key present on some iteration line. */
static const char *pick_key(const char *base, const char *end) {
  for (size_t i = 0; i < sizeof default_keys / sizeof *default_keys; i++) {
    char needle[64];
    int m = snprintf(needle, sizeof needle, "| %s:", default_keys[i]);
    if (tp__find(base, end, needle, (size_t)m))
      return default_keys[i];
  }
  return default_keys[0];
}

/* The "| name:" fields of the first iteration line, for the "not found" message. */
static void line_keys(const char *base, const char *end, char *buf, size_t size) {
  const char *p = base, *hit, *le;
  size_t used = 0;
  buf[0] = '\0';
  while ((hit = tp__find(p, end, "iteration ", 10)) && iteration_of(hit, end) < 0)
    p = hit + 10;
  if (!hit)
    return;
  le = memchr(hit, '\n', (size_t)(end - hit));
  le = le ? le : end;
  for (p = hit; (p = memchr(p, '|', (size_t)(le - p))); p++) {
    const char *a = skip_sp(p + 1, le), *c = memchr(a, ':', (size_t)(le - a)), *bar;
    bar = memchr(a, '|', (size_t)(le - a));
    if (c && (!bar || c < bar) && c - a < 48 && used + (size_t)(c - a) + 3 < size)
      used +=
          (size_t)snprintf(buf + used, size - used, "%s%.*s", used ? ", " : "", (int)(c - a), a);
  }
}

static int megatron_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct mg g = {.path = path};
  int rc;
  if (o->key && strlen(o->key) > 120)
    return tp_err(TP_EINVAL, path, -1, "key longer than 120 bytes");
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  const char *base = (const char *)m.data, *end = base + m.size;
  g.lines = (struct tp__lines){base, 1};
  g.key = o->key && *o->key ? o->key : pick_key(base, end);
  if (!(g.s = tp_series_new()))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  if (rc == 0)
    rc = scan(&g, base, end);
  if (rc == 0 && g.with_key == 0 && g.s->n_malformed == 0) {
    char keys[512];
    line_keys(base, end, keys, sizeof keys);
    rc = tp_err(TP_ENOKEY, path, -1,
                "key '%s' not found on any 'iteration N/ M' line; keys there: %s", g.key,
                *keys ? keys : "(no iteration lines)");
  }
  tp_map_close(&m);
  if (rc == 0) {
    g.s->has_step = 1;
    rc = tp__series_done(g.s, path, "megatron", g.key);
  }
  if (rc < 0) {
    tp_series_free(g.s);
    return rc;
  }
  *out = g.s;
  return 0;
}

static int megatron_sniff(const unsigned char *h, size_t len) {
  const char *p = (const char *)h, *e = p + len;
  if (tp__find(p, e, "consumed samples:", 17) && tp__find(p, e, " iteration ", 11))
    return 90;
  /* A bare iteration line with a grad norm field, even when every norm is nan. */
  if (tp__find(p, e, " iteration ", 11) && tp__find(p, e, "| grad norm:", 12))
    return 80;
  if (tp__find(p, e, "megatron", 8) || tp__find(p, e, "Megatron", 8) ||
      tp__find(p, e, "gpt-neox", 8))
    return 60;
  return 0;
}

const struct tp_series_reader tp_megatron_reader = {
    .name = "megatron",
    .summary = "Megatron-LM / DeepSpeed / GPT-NeoX 'iteration N/ M | grad norm: x' lines",
    .sniff = megatron_sniff,
    .read = megatron_read,
};
