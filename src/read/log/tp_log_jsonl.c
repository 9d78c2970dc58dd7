/* JSON Lines logs: one object per line; the key selects the value, the step comes from
   "step"/"global_step"/"num_updates"/"iteration"/"_step" when the record has one.
   Each line is parsed in place by one reused json_tokener (no copies); lines holding an
   object without the key (eval records) are skipped, lines starting '{' that do not parse
   are malformed, other lines are not records. */
#include <config.h>
#include <stddef.h>

#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_log_int.h"
#include "tp_map.h"
#include "tp_series.h"

static const char *const default_keys[] = {"grad_norm", "train/grad_norm", "gnorm", "train/gnorm",
                                           "grad-norm"};
static const char *const step_keys[] = {"step", "global_step", "num_updates", "iteration", "_step"};

struct jl {
  const char *path;
  const char *key; /* NULL until a default is found */
  int stepmode;    /* -1 unknown, 0 index, 1 from the record */
  long first_line; /* first object line, for the key list */
  size_t with_key; /* objects holding the key: none means a wrong key, not bad lines */
  json_tokener *tok;
  struct tp_series *s;
};

/* Parse [p, e) as one JSON object; NULL when it is not one. */
static struct json_object *parse_line(json_tokener *tok, const char *p, const char *e) {
  struct json_object *o;
  if (e - p > INT_MAX)
    return NULL;
  json_tokener_reset(tok);
  o = json_tokener_parse_ex(tok, p, (int)(e - p));
  if (o && !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    o = NULL;
  }
  return o;
}

static int record_step(struct json_object *o, double *step) {
  struct json_object *v;
  for (size_t i = 0; i < sizeof step_keys / sizeof *step_keys; i++)
    if (json_object_object_get_ex(o, step_keys[i], &v) && tp__json_number(v, step))
      return 1;
  return 0;
}

/* Handle one object line; lines without the key are other kinds of record. */
static int take(struct jl *j, struct json_object *o, long line) {
  struct json_object *v = NULL;
  double x, step;
  if (!j->first_line)
    j->first_line = line;
  if (!j->key)
    for (size_t i = 0; i < sizeof default_keys / sizeof *default_keys && !j->key; i++)
      if (json_object_object_get_ex(o, default_keys[i], NULL))
        j->key = default_keys[i];
  if (!j->key || !json_object_object_get_ex(o, j->key, &v))
    return 0;
  j->with_key++;
  if (!tp__json_number(v, &x)) {
    tp_series_bad_line(j->s, line);
    return 0;
  }
  int have = record_step(o, &step);
  if (j->stepmode < 0)
    j->stepmode = have;
  if (j->stepmode && !have) {
    tp_series_bad_line(j->s, line);
    return 0;
  }
  return tp_series_push(j->s, j->stepmode ? step : (double)j->s->n, x);
}

static int scan(struct jl *j, const char *p, const char *end) {
  long line = 0;
  int rc = 0;
  while (p < end && rc == 0) {
    const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end, *q = p;
    line++;
    while (q < e && (*q == ' ' || *q == '\t'))
      q++;
    if (q < e && *q == '{') {
      struct json_object *o = parse_line(j->tok, q, e);
      if (!o)
        tp_series_bad_line(j->s, line);
      else
        rc = take(j, o, line);
      json_object_put(o);
    }
    p = e + 1;
  }
  return rc;
}

/* TP_ENOKEY listing the keys of the first object line. */
static int no_key(struct jl *j, const char *p, const char *end, const char *key) {
  struct json_object *o = NULL;
  for (long line = 1; p < end; line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
    if (line == j->first_line) {
      o = parse_line(j->tok, p, e);
      break;
    }
    p = e + 1;
  }
  int rc = tp__json_key_error(j->path, j->first_line, key, o, "json lines records");
  json_object_put(o);
  return rc;
}

static int jsonl_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct jl j = {.path = path, .stepmode = -1};
  int rc;
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  j.key = o->key && *o->key ? o->key : NULL;
  const char *p = (const char *)m.data, *end = p + m.size;
  if (!(j.tok = json_tokener_new_ex(tp_limits_get()->max_depth)) || !(j.s = tp_series_new()))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  if (rc == 0)
    rc = scan(&j, p, end);
  if (rc == 0 && j.with_key == 0)
    rc = no_key(&j, p, end, j.key ? j.key : default_keys[0]);
  if (rc == 0) {
    j.s->has_step = j.stepmode == 1;
    rc = tp__series_done(j.s, path, "jsonl", j.key);
  }
  if (j.tok)
    json_tokener_free(j.tok);
  tp_map_close(&m);
  if (rc < 0) {
    tp_series_free(j.s);
    return rc;
  }
  *out = j.s;
  return 0;
}

/* Confident when the first non-blank line is a whole JSON object. */
static int jsonl_sniff(const unsigned char *h, size_t len) {
  const char *p = (const char *)h, *end = p + len, *e;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  if (p == end || *p != '{' || !(e = memchr(p, '\n', (size_t)(end - p))))
    return 0;
  json_tokener *tok = json_tokener_new();
  struct json_object *o = tok ? parse_line(tok, p, e) : NULL;
  int ok = o != NULL && json_tokener_get_parse_end(tok) >= (size_t)(e - p) - (e[-1] == '\r');
  json_object_put(o);
  if (tok)
    json_tokener_free(tok);
  return ok ? 80 : 0;
}

const struct tp_series_reader tp_jsonl_reader = {
    .name = "jsonl",
    .summary =
        "JSON Lines, one object per line (key grad_norm, gnorm, …; step by step/global_step)",
    .sniff = jsonl_sniff,
    .read = jsonl_read,
};
