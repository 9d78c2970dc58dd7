/* fairseq training logs: train_inner `key=value` lines (simple and legacy formats), JSON
   lines (hydra, or --log-format json), epoch/valid summaries on request, and fp16 overflow notes.
   Records are found by scanning the mapped file for the key itself, so the many other lines
   (model printout, INFO noise) cost one vectorised pass. An overflow note is attached to the
   step of the NEXT record: fairseq's record at num_updates=N sums the interval that ended at N,
   which is the interval the overflow happened in (notes after the last record take its step). */
#include <config.h>
#include <stddef.h>

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_log_fairseq_int.h"
#include "tp_log_int.h"
#include "tp_map.h"
#include "tp_numparse.h"
#include "tp_series.h"

/* Look key up in a hydra record, with the train_/valid_ prefix of summaries first. */
static struct json_object *json_get(const struct fs *f, struct json_object *o, const char *k) {
  char pk[160];
  struct json_object *v = NULL;
  if (f->o->use_valid || f->o->use_epoch) {
    snprintf(pk, sizeof pk, "%s_%s", f->o->use_valid ? "valid" : "train", k);
    if (json_object_object_get_ex(o, pk, &v))
      return v;
  }
  return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* One JSON record, hydra's `[time][train_inner][INFO] - {…}` or the simple logger's
   `… | train_inner | {…}` (--log-format json), between hit and le. */
static int json_record(struct fs *f, const char *hit, const char *le) {
  const char *brace = memchr(hit, '{', (size_t)(le - hit));
  struct json_object *o, *v, *st;
  double x, step = NAN;
  int rc;
  if (!brace || le - brace > INT32_MAX)
    return tp__bad_at(f->s, &f->lines, hit), 0;
  json_tokener_reset(f->tok);
  o = json_tokener_parse_ex(f->tok, brace, (int)(le - brace));
  if (!o || !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    return tp__bad_at(f->s, &f->lines, hit), 0;
  }
  if (!f->first)
    f->first = hit;
  if (!(v = json_get(f, o, f->key)) || !tp__json_number(v, &x)) {
    if (v || f->s->n) /* a record without the key only counts once the key exists */
      tp__bad_at(f->s, &f->lines, hit);
    json_object_put(o);
    return 0;
  }
  if ((st = json_get(f, o, "num_updates")) && !tp__json_number(st, &step))
    step = NAN;
  json_object_put(o);
  rc = tp__fs_record(f, hit, step, x);
  return rc;
}

static int scan_json(struct fs *f) {
  const char *pos = f->base, *hit;
  int rc = 0;
  while (rc == 0 && (hit = tp__find(pos, f->end, f->needle, f->nlen))) {
    const char *ls = line_start(pos, hit), *le = line_end(hit, f->end);
    tp__fs_overflow_notes(f, pos, ls);
    rc = json_record(f, hit, le);
    pos = le < f->end ? le + 1 : f->end;
  }
  tp__fs_overflow_notes(f, pos, f->end);
  return rc;
}

static int key_char(char c) {
  return c == '_' || c == '/' || c == '-' || (c >= '0' && c <= '9') ||
         ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Key names of the first record-like line (one with a loss), for the "not found" message. */
static void text_keys(const struct fs *f, char *buf, size_t size) {
  const char *probe = f->kind == FS_KV ? " loss=" : "| loss ", *p, *ls, *le;
  size_t used = 0;
  buf[0] = '\0';
  if (!(p = tp__find(f->base, f->end, probe, strlen(probe))))
    return;
  ls = line_start(f->base, p);
  le = line_end(p, f->end);
  for (p = ls; p < le && used + 40 < size; p++) {
    const char *a = p, *b;
    if (f->kind == FS_KV ? !(p == ls || boundary(p[-1]))
                         : !(p[0] == '|' && p + 1 < le && p[1] == ' '))
      continue;
    a = f->kind == FS_KV ? p : p + 2;
    for (b = a; b < le && (b - a) < 32 && key_char(*b); b++)
      ;
    if (b > a && b < le && *b == (f->kind == FS_KV ? '=' : ' '))
      used +=
          (size_t)snprintf(buf + used, size - used, "%s%.*s", used ? ", " : "", (int)(b - a), a);
  }
}

static int no_key(struct fs *f) {
  const char *what = f->kind == FS_JSON   ? "fairseq json records"
                     : f->kind == FS_PIPE ? "fairseq summary lines"
                                          : "fairseq train_inner lines";
  if (f->kind == FS_JSON) {
    struct json_object *o = NULL;
    long line = 0;
    int rc;
    if (f->first) {
      const char *le = line_end(f->first, f->end),
                 *b = memchr(f->first, '{', (size_t)(le - f->first));
      json_tokener_reset(f->tok);
      o = b && le - b <= INT32_MAX ? json_tokener_parse_ex(f->tok, b, (int)(le - b)) : NULL;
      line = tp__line_at(&f->lines, f->first);
    }
    rc = tp__json_key_error(f->path, line, f->key, o, what);
    json_object_put(o);
    return rc;
  }
  char keys[512];
  text_keys(f, keys, sizeof keys);
  return tp_err(TP_ENOKEY, f->path, -1, "key '%s' not found in %s; keys there: %s", f->key, what,
                *keys ? keys : "(no records at all)");
}

/* One pass for one key: the series lands in f->s. */
static int scan_key(struct fs *f, const char *key) {
  static const char *tags[2][3] = {{"][train_inner][", "][train][", "][valid]["},
                                   {"| train_inner | {", "| train | {", "| valid | {"}};
  f->key = key;
  f->pending = 0;
  f->stepmode = -1;
  f->first = NULL;
  f->lines = (struct tp__lines){f->base, 1};
  if (!(f->s = tp_series_new()))
    return tp_err(TP_ENOMEM, f->path, -1, "out of memory");
  if (f->kind == FS_JSON)
    snprintf(f->needle, sizeof f->needle, "%s",
             tags[f->json_simple][f->o->use_valid ? 2 : f->o->use_epoch]);
  else
    snprintf(f->needle, sizeof f->needle, f->kind == FS_KV ? "%s=" : "| %s ", key);
  f->nlen = strlen(f->needle);
  int rc = f->kind == FS_JSON ? scan_json(f) : tp__fs_scan_parts(f);
  if (rc == 0 && f->pending && f->s->n)
    for (; f->pending && rc == 0; f->pending--)
      rc = tp_series_push_overflow(f->s, tp_series_step(f->s, f->s->n - 1));
  return rc;
}

static int fs_run(struct fs *f, struct tp_series **out) {
  static const char *defaults[] = {"gnorm", "grad_norm"};
  const char *key = f->o->key && *f->o->key ? f->o->key : NULL;
  int rc = 0, fixed = key != NULL;
  if (key && strlen(key) > 120)
    return tp_err(TP_EINVAL, f->path, -1, "key longer than 120 bytes");
  for (size_t i = 0; i < (fixed ? 1 : 2); i++) {
    tp_series_free(f->s);
    if ((rc = scan_key(f, fixed ? key : defaults[i])) < 0)
      return rc;
    if (f->s->n || f->s->n_malformed)
      break;
  }
  if (f->s->n == 0 && f->s->n_malformed == 0)
    return no_key(f);
  f->s->has_step = f->stepmode == 1;
  if ((rc = tp__series_done(f->s, f->path, "fairseq", f->key)) < 0)
    return rc;
  *out = f->s;
  f->s = NULL;
  return 0;
}

/* 1 when the log is JSON. The first train_inner line says which form the log takes, so a
   10 GB log is not scanned end to end twice for JSON markers first; a log with no
   train_inner line (legacy "| epoch 001:" progress) is judged by its first MiB. */
static int classify(struct fs *f) {
  const char *p = tp__find(f->base, f->end, "train_inner", 11), *a, *b;
  if (p) {
    a = line_start(f->base, p);
    b = line_end(p, f->end);
  } else {
    a = f->base;
    b = f->end - f->base > (1 << 20) ? f->base + (1 << 20) : f->end;
  }
  f->json_simple = tp__find(a, b, "| train_inner | {", 17) != NULL;
  return f->json_simple || tp__find(a, b, "][INFO] - {", 11) != NULL;
}

static int fairseq_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct fs f = {.path = path, .o = o};
  int rc;
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  f.base = (const char *)m.data;
  f.end = f.base + m.size;
  f.mapped = m.mapped;
  f.kind = classify(&f) ? FS_JSON : o->use_epoch || o->use_valid ? FS_PIPE : FS_KV;
  if (f.kind == FS_JSON && !(f.tok = json_tokener_new_ex(tp_limits_get()->max_depth)))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  if (rc == 0)
    rc = fs_run(&f, out);
  tp_series_free(f.s);
  if (f.tok)
    json_tokener_free(f.tok);
  tp_map_close(&m);
  return rc;
}

static int has(const unsigned char *h, size_t len, const char *s) {
  return tp__find((const char *)h, (const char *)h + len, s, strlen(s)) != NULL;
}

static int fairseq_sniff(const unsigned char *h, size_t len) {
  if (has(h, len, "| train_inner |") || has(h, len, "][train_inner]["))
    return 95;
  if (has(h, len, "fairseq") || has(h, len, "| epoch 001"))
    return 70;
  return 0;
}

const struct tp_series_reader tp_fairseq_reader = {
    .name = "fairseq",
    .summary = "fairseq logs: train_inner key=value (simple, legacy) and hydra json lines",
    .sniff = fairseq_sniff,
    .read = fairseq_read,
};
