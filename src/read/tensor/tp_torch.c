/* torch.save reader: the object walk that lists tensors, dotted-key resolution, the table row. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_pickle.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_torch_int.h"

/* Visits allowed while walking the object graph: memo sharing can make a small
   pickle describe an exponentially large tree. */
#define WALK_MAX_VISITS 10000000u
/* Steps (calls plus dict entries scanned) a key resolution may take: its fallback to
   shorter keys is exponential on a dict that contains itself under "a" and "a.a". */
#define RESOLVE_MAX_WORK (1u << 24)

/* Walk state: every tensor (or series) found goes into l with its dotted path. */
struct walk {
  struct tp_tensor_list *l;
  const char *path;
  uint64_t visits;
  char name[4096];
};

/* The text of a dict key usable in a dotted path: strings and integers. */
static const char *key_text(const struct tp_pkobj *k, char *buf, size_t n) {
  if (k->type == TP_PK_STR)
    return k->s;
  if (k->type == TP_PK_INT) {
    snprintf(buf, n, "%lld", (long long)k->i);
    return buf;
  }
  return NULL;
}

static int walk(struct walk *w, const struct tp_pkobj *o, size_t len, int depth);

/* Extend the path with one component and walk the child. */
static int walk_child(struct walk *w, const struct tp_pkobj *c, size_t len, const char *part,
                      int depth) {
  size_t pl = strlen(part);
  if (len + pl + 2 > sizeof w->name)
    return tp_err(TP_ELIMIT, w->path, -1, "tensor path longer than %zu bytes", sizeof w->name);
  if (len)
    w->name[len++] = '.';
  memcpy(w->name + len, part, pl + 1);
  return walk(w, c, len + pl, depth + 1);
}

static int walk(struct walk *w, const struct tp_pkobj *o, size_t len, int depth) {
  char buf[32];
  int rc = 0;
  w->name[len] = '\0';
  if (++w->visits > WALK_MAX_VISITS || depth > tp_limits_get()->max_depth)
    return tp_err(TP_ELIMIT, w->path, -1,
                  "checkpoint object graph is too deep or too large to walk");
  if (o->type == TP_PK_TENSOR)
    return tp_tensor_list_add(w->l, w->name, o->storage->dtype, o->ndim, o->shape);
  if (tp__torch_is_series(o, depth == 0)) {
    uint64_t n = o->n;
    return tp_tensor_list_add(w->l, w->name, tp__torch_series_dtype(o), 1, &n);
  }
  if (o->type == TP_PK_DICT)
    for (size_t i = 0; rc == 0 && i + 1 < o->n; i += 2) {
      const char *k = key_text(o->v[i], buf, sizeof buf);
      if (k)
        rc = walk_child(w, o->v[i + 1], len, k, depth);
    }
  else if (o->type == TP_PK_LIST || o->type == TP_PK_TUPLE)
    for (size_t i = 0; rc == 0 && i < o->n; i++) {
      snprintf(buf, sizeof buf, "%zu", i);
      rc = walk_child(w, o->v[i], len, buf, depth);
    }
  return rc;
}

static int torch_list_open(struct tp__torch_file *f, struct tp_tensor_list **out) {
  struct walk *w = calloc(1, sizeof *w);
  int rc;
  *out = NULL;
  if (!w || !(w->l = tp__tensor_list_new("torch"))) {
    free(w);
    return tp_err(TP_ENOMEM, f->path, -1, "out of memory");
  }
  w->path = f->path;
  if ((rc = walk(w, f->root, 0, 0)) < 0)
    tp_tensor_list_free(w->l);
  else
    *out = w->l;
  free(w);
  return rc;
}

static int torch_list(const char *path, struct tp_tensor_list **out) {
  struct tp__torch_file f;
  int rc = tp__torch_open(&f, path);
  if (rc == 0)
    rc = torch_list_open(&f, out);
  else
    *out = NULL;
  tp__torch_close(&f);
  return rc;
}

/* Key resolution state: the file (for errors) and the work done so far. */
struct resolver {
  const char *path;
  uint64_t work;
};

static int resolve_at(struct resolver *r, const struct tp_pkobj *o, const char *key, int depth,
                      const struct tp_pkobj **out);

/* The longest dict key of o that is a dotted prefix of key and shorter than limit (0 when
   none); *child gets its value. */
static size_t longest_prefix(struct resolver *r, const struct tp_pkobj *o, const char *key,
                             size_t limit, const struct tp_pkobj **child) {
  char buf[32];
  size_t best = 0;
  r->work += o->n / 2;
  for (size_t i = 0; i + 1 < o->n; i += 2) {
    const char *k = key_text(o->v[i], buf, sizeof buf);
    size_t kl = k ? strlen(k) : 0;
    if (k && kl > best && kl < limit && !strncmp(key, k, kl) && (key[kl] == '\0' || key[kl] == '.'))
      best = kl, *child = o->v[i + 1];
  }
  return best;
}

/* Resolve key inside the dict o: the longest matching key first, then shorter ones. */
static int resolve_dict(struct resolver *r, const struct tp_pkobj *o, const char *key, int depth,
                        const struct tp_pkobj **out) {
  const struct tp_pkobj *child = NULL;
  int rc;
  for (size_t limit = strlen(key) + 1, best; (best = longest_prefix(r, o, key, limit, &child));
       limit = best)
    if ((rc = resolve_at(r, child, key[best] ? key + best + 1 : key + best, depth + 1, out)))
      return rc;
  return 0;
}

/* 1 and *out when key names an object under o, 0 when it does not, TP_ELIMIT when the
   search took more than RESOLVE_MAX_WORK steps. */
static int resolve_at(struct resolver *r, const struct tp_pkobj *o, const char *key, int depth,
                      const struct tp_pkobj **out) {
  if (++r->work > RESOLVE_MAX_WORK)
    return tp_err(TP_ELIMIT, r->path, -1,
                  "key resolution gave up after %u steps (the checkpoint's objects contain "
                  "each other, so the key matches in too many ways)",
                  RESOLVE_MAX_WORK);
  if (!*key)
    return *out = o, 1;
  if (depth > tp_limits_get()->max_depth)
    return 0;
  if (o->type == TP_PK_LIST || o->type == TP_PK_TUPLE) {
    char *end;
    unsigned long long i = strtoull(key, &end, 10);
    if (end == key || (*end && *end != '.') || i >= o->n)
      return 0;
    return resolve_at(r, o->v[i], *end ? end + 1 : end, depth + 1, out);
  }
  return o->type == TP_PK_DICT ? resolve_dict(r, o, key, depth, out) : 0;
}

/* Resolve a dotted key, preferring the longest dict key at each level (state_dict
   keys contain dots themselves) and falling back to shorter ones; *out NULL when absent. */
static int resolve(const struct tp__torch_file *f, const char *key, const struct tp_pkobj **out) {
  struct resolver r = {.path = f->path};
  int rc = resolve_at(&r, f->root, key, 0, out);
  if (rc <= 0)
    *out = NULL;
  return rc < 0 ? rc : 0;
}

/* Materialise the object at name as a tensor: a tensor or a series. */
static int load_obj(struct tp__torch_file *f, const struct tp_pkobj *o, const char *name,
                    struct tp_tensor **out) {
  if (o->type == TP_PK_TENSOR)
    return tp__torch_tensor(f, o, name, out);
  if (tp__torch_is_series(o, o == f->root))
    return tp__torch_series(f, o, name, out);
  return tp_err(TP_ENOKEY, f->path, -1, "'%s' is not a tensor (try 'trainplot posemb list %s')",
                name, f->path);
}

static int torch_load(const char *path, const char *key, struct tp_tensor **out) {
  struct tp__torch_file f;
  struct tp_tensor_list *l = NULL;
  const struct tp_pkobj *o = NULL;
  int rc = tp__torch_open(&f, path);
  *out = NULL;
  if (rc == 0)
    rc = resolve(&f, key, &o);
  if (rc == 0 && o && (*key || o->type == TP_PK_TENSOR || tp__torch_is_series(o, 1)))
    rc = load_obj(&f, o, key, out);
  else if (rc == 0 && (rc = torch_list_open(&f, &l)) == 0) {
    if (!*key && l->n == 1 && (rc = resolve(&f, l->items[0].name, &o)) == 0 && o)
      rc = load_obj(&f, o, l->items[0].name, out);
    else if (rc == 0)
      rc = tp__tensor_key_error(path, key, l);
  }
  tp_tensor_list_free(l);
  tp__torch_close(&f);
  return rc;
}

const struct tp_tensor_reader tp_torch_reader = {
    .name = "torch",
    .summary = "torch.save checkpoints (zip and legacy) through a pickle reader that runs no code",
    .sniff = tp__torch_sniff,
    .list = torch_list,
    .load = torch_load,
};
