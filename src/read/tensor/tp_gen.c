/* Generator specs: sinusoidal tables built on the fly, so the course case needs no file. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_gen.h"
#include "tp_tensor.h"

#define GEN_PREFIX "sinusoidal:"

enum layout { LAYOUT_FAIRSEQ, LAYOUT_INTERLEAVED };

struct gen_spec {
  uint64_t n, d;
  long long padding_idx; /* -1 for none */
  enum layout layout;
};

int tp_gen_is_spec(const char *spec) {
  return spec && strncmp(spec, GEN_PREFIX, strlen(GEN_PREFIX)) == 0;
}

/* A decimal number that must fill [s, end) exactly. */
static int parse_u64(const char *s, const char *end, uint64_t *out) {
  char *stop;
  if (s == end || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  *out = strtoull(s, &stop, 10);
  return errno || stop != end ? -1 : 0;
}

static int parse_option(const char *spec, const char *opt, size_t len, struct gen_spec *g) {
  uint64_t v;
  if (len > 12 && strncmp(opt, "padding_idx=", 12) == 0) {
    if (parse_u64(opt + 12, opt + len, &v) < 0 || v > INT64_MAX)
      return tp_err(TP_EINVAL, spec, -1, "padding_idx must be a number");
    g->padding_idx = (long long)v;
  } else if (len == 14 && strncmp(opt, "layout=fairseq", 14) == 0) {
    g->layout = LAYOUT_FAIRSEQ;
  } else if (len == 18 && strncmp(opt, "layout=interleaved", 18) == 0) {
    g->layout = LAYOUT_INTERLEAVED;
  } else {
    return tp_err(TP_EINVAL, spec, -1,
                  "unknown option '%.*s' (expected padding_idx=P or "
                  "layout=fairseq|interleaved)",
                  (int)len, opt);
  }
  return 0;
}

/* "sinusoidal:NxD[,padding_idx=P][,layout=L]" into g. */
static int parse_spec(const char *spec, struct gen_spec *g) {
  const char *p = spec + strlen(GEN_PREFIX), *x = strchr(p, 'x');
  const char *comma = strchr(p, ',');
  const char *end = comma ? comma : p + strlen(p);
  int rc;
  memset(g, 0, sizeof *g);
  g->padding_idx = -1;
  if (!x || x > end || parse_u64(p, x, &g->n) < 0 || parse_u64(x + 1, end, &g->d) < 0 ||
      g->n == 0 || g->d == 0)
    return tp_err(TP_EINVAL, spec, -1, "generator needs positive sizes, as in sinusoidal:1026x256");
  while (*end == ',') {
    const char *opt = end + 1, *next = strchr(opt, ',');
    end = next ? next : opt + strlen(opt);
    if ((rc = parse_option(spec, opt, (size_t)(end - opt), g)) < 0)
      return rc;
  }
  if (g->padding_idx >= 0 && (uint64_t)g->padding_idx >= g->n)
    return tp_err(TP_EINVAL, spec, -1, "padding_idx %lld is not a row (0..%llu)", g->padding_idx,
                  (unsigned long long)g->n - 1);
  if (g->layout == LAYOUT_FAIRSEQ && g->d < 4)
    return tp_err(TP_EINVAL, spec, -1,
                  "the fairseq layout needs at least 4 dimensions "
                  "(it divides by half the dimension minus one)");
  return 0;
}

/* fairseq's table: float32 steps as torch takes them, sin half then cos half. */
static void fill_fairseq(float *t, const struct gen_spec *g) {
  uint64_t half = g->d / 2;
  float step = (float)(log(10000.0) / (double)(half - 1));
  for (uint64_t k = 0; k < half; k++) {
    float freq = expf((float)k * -step);
    for (uint64_t pos = 0; pos < g->n; pos++) {
      float arg = (float)pos * freq;
      t[pos * g->d + k] = (float)sin((double)arg);
      t[pos * g->d + half + k] = (float)cos((double)arg);
    }
  }
  /* An odd dimension's last column stays zero, as fairseq pads it. */
}

/* "Attention Is All You Need": sin in even columns, cos in odd ones. */
static void fill_interleaved(float *t, const struct gen_spec *g) {
  for (uint64_t c = 0; c < g->d; c++) {
    double denom = pow(10000.0, (double)(c - c % 2) / (double)g->d);
    for (uint64_t pos = 0; pos < g->n; pos++) {
      double a = (double)pos / denom;
      t[pos * g->d + c] = (float)(c % 2 ? cos(a) : sin(a));
    }
  }
}

int tp_gen_load(const char *spec, struct tp_tensor **out) {
  struct gen_spec g;
  struct tp_tensor *t;
  uint64_t shape[2];
  int rc;
  *out = NULL;
  if (!tp_gen_is_spec(spec))
    return tp_err(TP_EFORMAT, spec, -1, "not a generator spec (expected sinusoidal:NxD[,...])");
  if ((rc = parse_spec(spec, &g)) < 0)
    return rc;
  shape[0] = g.n, shape[1] = g.d;
  if ((rc = tp_tensor_alloc(&t, spec, TP_F32, 2, shape, spec)) < 0)
    return rc;
  if (g.layout == LAYOUT_FAIRSEQ)
    fill_fairseq(t->data, &g);
  else
    fill_interleaved(t->data, &g);
  if (g.padding_idx >= 0)
    memset((float *)t->data + (uint64_t)g.padding_idx * g.d, 0, g.d * sizeof(float));
  snprintf(t->src_dtype, sizeof t->src_dtype, "float32");
  *out = t;
  return 0;
}

/* A generator spec lists as the one tensor it generates. */
static int gen_list(const char *spec, struct tp_tensor_list **out) {
  struct tp_tensor *t;
  struct tp_tensor_list *l;
  int rc = tp_gen_load(spec, &t);
  if (rc < 0)
    return rc;
  if (!(l = tp_tensor_list_new("generator"))) {
    tp_tensor_free(t);
    return tp_err(TP_ENOMEM, spec, -1, "out of memory");
  }
  rc = tp_tensor_list_add(l, spec, t->src_dtype, t->ndim, t->shape);
  tp_tensor_free(t);
  if (rc < 0) {
    tp_tensor_list_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

/* A spec holds one table, so the key is not looked at. */
static int gen_load(const char *spec, const char *key, struct tp_tensor **out) {
  return tp_gen_load(spec, out);
}

/* A row of the tensor reader table that claims specs by name instead of sniffing files. */
const struct tp_tensor_reader tp_gen_reader = {
    .name = "generator",
    .summary = "sinusoidal:NxD[,padding_idx=P][,layout=fairseq|interleaved] tables, no file",
    .claims = tp_gen_is_spec,
    .list = gen_list,
    .load = gen_load,
};
