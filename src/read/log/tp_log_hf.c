/* HuggingFace Trainer trainer_state.json: log_history[i][key] with log_history[i]["step"].
   json-c (non-strict) accepts Python's NaN, Infinity and -Infinity tokens, so non-finite
   norms survive. Entries without the key (eval entries, the final summary) are not records;
   an entry whose key holds a non-number is malformed, reported by its 1-based entry index.

   The document is not loaded as one json-c tree: that takes memory many times the file's
   size (bench/MEASUREMENTS.md). A structural pass finds the log_history array and
   the byte range of each entry (strings and nesting respected, depth bounded); json-c then
   parses one entry at a time, and each tree is freed before the next. Memory is the
   series plus one entry. The members around log_history are checked for structure only. */
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

static const char *const default_keys[] = {"grad_norm", "train/grad_norm", "gnorm", "grad-norm"};
#define NDEFAULT (sizeof default_keys / sizeof *default_keys)

struct doc {
  const char *path, *base, *end;
  int max_depth;
  int mapped; /* drop the pages of entries already read */
  const char *dropped;
};

static int syntax(const struct doc *d, const char *at, const char *what) {
  return tp_err(TP_ECORRUPT, d->path, (long long)(at - d->base), "invalid json: %s", what);
}

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  return p;
}

/* Past the string whose opening quote is at p; NULL when it does not end. */
static const char *skip_string(const char *p, const char *end) {
  for (p++; p < end; p++) {
    const char *q = memchr(p, '"', (size_t)(end - p));
    size_t bs = 0;
    if (!q)
      return NULL;
    for (const char *b = q; b > p && b[-1] == '\\'; b--)
      bs++;
    if (bs % 2 == 0)
      return q + 1;
    p = q;
  }
  return NULL;
}

/* Past the value starting at p (after white space): strings, nesting up to max_depth
   levels below depth, and scalars up to the next delimiter. */
static int skip_value(const struct doc *d, const char *p, int depth, const char **out) {
  const char *end = d->end;
  int level = 0;
  p = skip_ws(p, end);
  if (p == end)
    return syntax(d, p, "the document ends early");
  do {
    if (p == end)
      return syntax(d, p, "the document ends early");
    switch (*p) {
    case '"':
      if (!(p = skip_string(p, end)))
        return syntax(d, end, "the document ends early");
      break;
    case '{':
    case '[':
      if (depth + ++level > d->max_depth)
        return syntax(d, p, "nesting too deep");
      p++;
      break;
    case '}':
    case ']':
      if (level-- == 0)
        return syntax(d, p, "unexpected closing bracket");
      p++;
      break;
    default:
      if (level == 0) { /* a scalar: up to the next delimiter */
        const char *s = p;
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
          p++;
        if (p == s)
          return syntax(d, p, "a value was expected");
      } else {
        p++;
      }
    }
  } while (level > 0);
  *out = p;
  return 0;
}

/* Per-key state: every default key is collected in the same pass when none is given. */
struct col {
  const char *key;
  struct tp_series *s;
  int seen, steps;
};

/* One entry (a parsed object, 1-based index i) into every column. */
static int entry(struct col *c, size_t nc, struct json_object *e, size_t i) {
  for (size_t k = 0; k < nc; k++) {
    struct json_object *v, *st;
    double x, step;
    int rc;
    if (!json_object_object_get_ex(e, c[k].key, &v))
      continue;
    c[k].seen = 1;
    if (!tp__json_number(v, &x)) {
      tp_series_bad_line(c[k].s, (long)i);
      continue;
    }
    if (!json_object_object_get_ex(e, "step", &st) || !tp__json_number(st, &step))
      c[k].steps = 0;
    if ((rc = tp_series_push(c[k].s, c[k].steps ? step : (double)c[k].s->n, x)) < 0)
      return rc;
  }
  return 0;
}

/* Where the entries were, for the "key not found" message. */
struct sample {
  const char *a, *b;
  int has_loss;
};

/* Parse the entry [a, b) with json-c; NULL with the error recorded when it is invalid. */
static struct json_object *parse_entry(const struct doc *d, json_tokener *tok, const char *a,
                                       const char *b) {
  struct json_object *o;
  if (b - a > INT_MAX) {
    tp_err(TP_ELIMIT, d->path, (long long)(a - d->base), "a log_history entry over 2 GiB");
    return NULL;
  }
  json_tokener_reset(tok);
  o = json_tokener_parse_ex(tok, a, (int)(b - a));
  enum json_tokener_error e = json_tokener_get_error(tok);
  if (o && e == json_tokener_success)
    return o;
  json_object_put(o);
  syntax(d, a + json_tokener_get_parse_end(tok),
         e == json_tokener_success || e == json_tokener_continue ? "the document ends early"
                                                                 : json_tokener_error_desc(e));
  return NULL;
}

/* The log_history array at p: every element, in order. */
static int history(struct doc *d, json_tokener *tok, const char *p, struct col *c, size_t nc,
                   struct sample *first, const char **out) {
  const char *end = d->end, *b;
  size_t i = 0;
  int rc;
  p = skip_ws(p, end);
  if (p == end)
    return syntax(d, p, "the document ends early");
  if (*p != '[')
    return tp_err(TP_EFORMAT, d->path, -1,
                  "'log_history' is not an array: not a trainer_state.json");
  p = skip_ws(p + 1, end);
  if (p < end && *p == ']') {
    *out = p + 1;
    return 0;
  }
  for (;;) {
    struct json_object *o;
    if ((rc = skip_value(d, p, 2, &b)) < 0)
      return rc;
    p = skip_ws(p, end);
    if (!(o = parse_entry(d, tok, p, b)))
      return tp_err_last()->code;
    i++;
    if (json_object_is_type(o, json_type_object)) {
      int loss = json_object_object_get_ex(o, "loss", NULL);
      if (!first->a || (loss && !first->has_loss))
        *first = (struct sample){p, b, loss};
      rc = entry(c, nc, o, i);
    }
    json_object_put(o);
    if (rc < 0)
      return rc;
    p = skip_ws(b, end);
    if (d->mapped && p - d->dropped >= (8 << 20)) {
      tp_map_drop(d->dropped, p);
      d->dropped = p;
    }
    if (p == end)
      return syntax(d, p, "the document ends early");
    if (*p == ']') {
      *out = p + 1;
      return 0;
    }
    if (*p != ',')
      return syntax(d, p, "',' or ']' expected after a log_history entry");
    p++;
  }
}

/* The top-level object: log_history is read, every other member only skipped. */
static int document(struct doc *d, json_tokener *tok, struct col *c, size_t nc,
                    struct sample *first, int *found) {
  const char *p = skip_ws(d->base, d->end), *end = d->end, *k, *ke;
  int rc;
  *found = 0;
  if (p == end)
    return syntax(d, p, "the document ends early");
  if (*p != '{')
    return tp_err(TP_EFORMAT, d->path, -1, "no 'log_history' array: not a trainer_state.json");
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}')
    return skip_ws(p + 1, end) == end ? 0 : syntax(d, p + 1, "text after the document");
  for (;;) {
    if (p == end)
      return syntax(d, p, "the document ends early");
    if (*p != '"')
      return syntax(d, p, "a member name was expected");
    k = p + 1;
    if (!(ke = skip_string(p, end)))
      return syntax(d, end, "the document ends early");
    p = skip_ws(ke, end);
    if (p == end)
      return syntax(d, p, "the document ends early");
    if (*p != ':')
      return syntax(d, p, "':' expected after a member name");
    p++;
    if (ke - 1 - k == 11 && !memcmp(k, "log_history", 11) && !*found) {
      *found = 1;
      rc = history(d, tok, p, c, nc, first, &p);
    } else {
      rc = skip_value(d, p, 1, &p);
    }
    if (rc < 0)
      return rc;
    p = skip_ws(p, end);
    if (p == end)
      return syntax(d, p, "the document ends early");
    if (*p == '}')
      return skip_ws(p + 1, end) == end ? 0 : syntax(d, p + 1, "text after the document");
    if (*p != ',')
      return syntax(d, p, "',' or '}' expected between members");
    p = skip_ws(p + 1, end);
  }
}

/* Choose the column to return (*pick) and finish its series, or say which keys there are. */
static int pick_col(const struct doc *d, json_tokener *tok, struct col *c, size_t nc,
                    const struct sample *first, size_t *pick) {
  int rc;
  while (*pick + 1 < nc && !c[*pick].seen) /* the first default some entry has */
    ++*pick;
  if (!c[*pick].seen)
    *pick = 0;
  struct tp_series *s = c[*pick].s;
  if (!c[*pick].steps) /* one entry without a step: use indices for all, consistently */
    tp__series_index_steps(s);
  s->has_step = c[*pick].steps;
  if (s->n == 0 && s->n_malformed == 0) {
    struct json_object *e = first->a ? parse_entry(d, tok, first->a, first->b) : NULL;
    rc = tp__json_key_error(d->path, 0, c[*pick].key, e, "log_history entries");
    json_object_put(e);
  } else {
    rc = tp__series_done(s, d->path, "hf", c[*pick].key);
  }
  return rc;
}

static int hf_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct col c[NDEFAULT];
  size_t nc = o->key && *o->key ? 1 : NDEFAULT, pick = 0;
  struct sample first = {0};
  json_tokener *tok = NULL;
  int rc, found = 0;
  memset(c, 0, sizeof c);
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  struct doc d = {.path = path,
                  .base = (const char *)m.data,
                  .end = (const char *)m.data + m.size,
                  .max_depth = tp_limits_get()->max_depth,
                  .mapped = m.mapped,
                  .dropped = (const char *)m.data};
  for (size_t k = 0; k < nc && rc == 0; k++) {
    c[k] = (struct col){.key = nc == 1 ? o->key : default_keys[k], .steps = 1};
    if (!(c[k].s = tp_series_new()))
      rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  }
  if (rc == 0 && !(tok = json_tokener_new_ex(d.max_depth)))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  if (rc == 0)
    rc = document(&d, tok, c, nc, &first, &found);
  if (rc == 0 && !found)
    rc = tp_err(TP_EFORMAT, path, -1, "no 'log_history' array: not a trainer_state.json");
  if (rc == 0)
    rc = pick_col(&d, tok, c, nc, &first, &pick);
  if (tok)
    json_tokener_free(tok);
  tp_map_close(&m);
  for (size_t k = 0; k < nc; k++)
    if (k != pick || rc < 0)
      tp_series_free(c[k].s);
  if (rc < 0)
    return rc;
  *out = c[pick].s;
  return 0;
}

static int hf_sniff(const unsigned char *h, size_t len) {
  size_t i = 0;
  while (i < len && (h[i] == ' ' || h[i] == '\n' || h[i] == '\r' || h[i] == '\t'))
    i++;
  if (i == len || h[i] != '{')
    return 0;
  return tp__find((const char *)h, (const char *)h + len, "\"log_history\"", 13) ? 95 : 0;
}

const struct tp_series_reader tp_hf_reader = {
    .name = "hf",
    .summary = "HuggingFace trainer_state.json (log_history[].grad_norm by step)",
    .sniff = hf_sniff,
    .read = hf_read,
};
