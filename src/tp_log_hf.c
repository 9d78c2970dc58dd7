/* HuggingFace Trainer trainer_state.json: log_history[i][key] with log_history[i]["step"].
   json-c (non-strict) accepts Python's NaN, Infinity and -Infinity tokens, so non-finite
   norms survive. Entries without the key (eval entries, the final summary) are not records;
   an entry whose key holds a non-number is malformed, reported by its 1-based entry index. */
#include <config.h>

#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_series.h"

static const char *const default_keys[] = {"grad_norm", "train/grad_norm", "gnorm", "grad-norm"};

/* Parse the whole mapped document with json-c, depth-limited. */
static int parse_doc(const char *path, const struct tp_map *m, struct json_object **out) {
  json_tokener *tok;
  int rc = tp_size_check(m->size, path, "trainer_state.json"); /* json-c holds all of it */
  if (rc < 0)
    return rc;
  if (m->size > INT_MAX)
    return tp_err(TP_ELIMIT, path, -1, "trainer_state.json larger than 2 GiB");
  if (!(tok = json_tokener_new_ex(tp_limits_get()->max_depth)))
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  *out = json_tokener_parse_ex(tok, (const char *)m->data, (int)m->size);
  enum json_tokener_error e = json_tokener_get_error(tok);
  size_t off = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (*out && e == json_tokener_success)
    return 0;
  json_object_put(*out); /* a document cut short parses as "continue" with no object */
  *out = NULL;
  return tp_err(TP_ECORRUPT, path, (long long)off, "invalid json: %s",
                e == json_tokener_success || e == json_tokener_continue
                    ? "the document ends early"
                    : json_tokener_error_desc(e));
}

/* The key to use: the caller's, or the first default that some entry has. */
static const char *pick_key(struct json_object *hist, const char *want) {
  size_t n = json_object_array_length(hist);
  if (want && *want)
    return want;
  for (size_t k = 0; k < sizeof default_keys / sizeof *default_keys; k++)
    for (size_t i = 0; i < n; i++)
      if (json_object_object_get_ex(json_object_array_get_idx(hist, i), default_keys[k], NULL))
        return default_keys[k];
  return default_keys[0];
}

/* Walk log_history, pushing (step, value) for every entry holding the key. */
static int collect(struct tp_series *s, struct json_object *hist, const char *key) {
  size_t n = json_object_array_length(hist);
  int rc = 0, steps = 1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct json_object *e = json_object_array_get_idx(hist, i), *v, *st;
    double x, step;
    if (!json_object_object_get_ex(e, key, &v))
      continue;
    if (!tp__json_number(v, &x)) {
      tp_series_bad_line(s, (long)i + 1);
      continue;
    }
    if (!json_object_object_get_ex(e, "step", &st) || !tp__json_number(st, &step))
      steps = 0;
    rc = tp_series_push(s, steps ? step : (double)s->n, x);
  }
  if (!steps) /* one entry without a step: use indices for all, consistently */
    tp__series_index_steps(s);
  s->has_step = steps;
  return rc;
}

/* The first log_history entry that looks like a training log entry, for the key list. */
static struct json_object *sample_entry(struct json_object *hist) {
  size_t n = json_object_array_length(hist);
  for (size_t i = 0; i < n; i++) {
    struct json_object *e = json_object_array_get_idx(hist, i);
    if (json_object_object_get_ex(e, "loss", NULL))
      return e;
  }
  return n ? json_object_array_get_idx(hist, 0) : NULL;
}

static int hf_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct json_object *doc = NULL, *hist;
  struct tp_series *s = NULL;
  int rc;
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  rc = parse_doc(path, &m, &doc);
  tp_map_close(&m);
  if (rc < 0)
    return rc;
  if (!json_object_object_get_ex(doc, "log_history", &hist) ||
      !json_object_is_type(hist, json_type_array))
    rc = tp_err(TP_EFORMAT, path, -1, "no 'log_history' array: not a trainer_state.json");
  else if (!(s = tp_series_new()))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  else {
    const char *key = pick_key(hist, o->key);
    if ((rc = collect(s, hist, key)) == 0 && s->n == 0 && s->n_malformed == 0)
      rc = tp__json_key_error(path, 0, key, sample_entry(hist), "log_history entries");
    if (rc == 0)
      rc = tp__series_done(s, path, "hf", key);
  }
  json_object_put(doc);
  if (rc < 0) {
    tp_series_free(s);
    return rc;
  }
  *out = s;
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
