/* torch.save reader: zip checkpoints (archive/data.pkl + archive/data/N) and the legacy pre-1.6 stream. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_pickle.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_tensor_raw.h"
#include "tp_zip.h"

/* Legacy files open with the pickled magic number 0x1950a86a20f9469cfc6c (protocol 2). */
static const unsigned char legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                             0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
#define LEGACY_PROTOCOL 1001
/* Visits allowed while walking the object graph: memo sharing can make a small
   pickle describe an exponentially large tree. */
#define WALK_MAX_VISITS 10000000u
/* Steps (calls plus dict entries scanned) a key resolution may take: its fallback to
   shorter keys is exponential on a dict that contains itself under "a" and "a.a". */
#define RESOLVE_MAX_WORK (1u << 24)

/* One storage key of the main pickle, with its bytes once they are known: a legacy
   block, or a zip entry read on first use and kept (shared by every tensor on it). */
struct storage_slot {
  const char *key;
  const struct tp_pkobj *first; /* the first storage object with this key */
  size_t order;                 /* its index among the pickle's objects */
  const unsigned char *data;
  uint64_t numel;               /* legacy: elements the file stores */
  unsigned char *buf;           /* zip: the entry, freed at close */
  size_t len;
  int have;
};

struct torch_file {
  const char *path;
  struct tp__zip *z;       /* zip format */
  char prefix[512];        /* "archive/" */
  int big_endian;
  struct tp_map m;         /* legacy format */
  struct tp_pickle *pk[5]; /* legacy: magic, protocol, sys_info, main, keys */
  struct tp_pkobj *root;
  struct storage_slot *slots; /* sorted by key, one per distinct key */
  size_t nslots;
  uint64_t spent;          /* bytes this file made the reader allocate so far */
};

static int torch_sniff(const unsigned char *h, size_t len) {
  if (len >= sizeof legacy_magic && !memcmp(h, legacy_magic, sizeof legacy_magic))
    return 1;
  if (len < 30 || memcmp(h, "PK\3\4", 4))
    return 0;
  for (size_t i = 30; i + 8 <= len; i++) /* the first entries name <archive>/data.pkl */
    if (!memcmp(h + i, "data.pkl", 8))
      return 1;
  return 0;
}

static void torch_close(struct torch_file *f) {
  for (size_t i = 0; i < 5; i++)
    tp_pickle_free(f->pk[i]);
  for (size_t i = 0; i < f->nslots; i++)
    free(f->slots[i].buf);
  free(f->slots);
  tp__zip_close(f->z);
  tp_map_close(&f->m);
}

/* Count n more bytes against the byte limit for the whole file, not only one allocation:
   many small reads (one per element of a series) must not add up to gigabytes. */
static int charge(struct torch_file *f, uint64_t n, const char *what) {
  uint64_t max = tp_limits_get()->max_bytes;
  uint64_t all = n > UINT64_MAX - f->spent ? UINT64_MAX : f->spent + n;
  if (all > max)
    return tp_err(TP_ELIMIT, f->path, -1,
                  "%s needs %llu bytes, %llu in all for this file, over the limit of %llu "
                  "(raise it with TRAINPLOT_MAX_BYTES)",
                  what, (unsigned long long)n, (unsigned long long)all, (unsigned long long)max);
  f->spent += n;
  return 0;
}

static int index_storages(struct torch_file *f);

/* Zip layout: find <prefix>data.pkl, note the byte order, run the pickle. */
static int open_zip(struct torch_file *f) {
  uint64_t i, n, bo, size;
  unsigned char *pkl = NULL, order[8];
  size_t len, used, got;
  char name[600];
  int rc = tp__zip_open(f->path, &f->z);
  if (rc < 0)
    return rc;
  for (i = 0, n = tp__zip_count(f->z); i < n; i++) {
    const char *e = tp__zip_name(f->z, i);
    size_t el = e ? strlen(e) : 0;
    if (el >= 8 && el - 8 < sizeof f->prefix && !strcmp(e + el - 8, "data.pkl")) {
      snprintf(f->prefix, sizeof f->prefix, "%.*s", (int)(el - 8), e);
      break;
    }
  }
  if (i == n)
    return tp_err(TP_ECORRUPT, f->path, -1, "zip file has no data.pkl: not a torch.save checkpoint");
  snprintf(name, sizeof name, "%sbyteorder", f->prefix);
  if (tp__zip_find(f->z, name, &bo) == 0 &&
      (rc = tp__zip_head(f->z, bo, order, sizeof order, &got)) == 0)
    f->big_endian = got == 3 && !memcmp(order, "big", 3);
  if (rc < 0 || (rc = tp__zip_size(f->z, i, &size)) < 0 ||
      (rc = charge(f, size, "data.pkl")) < 0 || (rc = tp__zip_read(f->z, i, &pkl, &len)) < 0)
    return rc;
  rc = tp_pickle_load(pkl, len, f->path, -1, &f->pk[3], &f->root, &used);
  free(pkl);
  if (rc < 0 || (rc = charge(f, tp_pickle_bytes(f->pk[3]), "the pickle's objects")) < 0)
    return rc;
  return index_storages(f);
}

static int slot_cmp(const void *a, const void *b) {
  const struct storage_slot *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* One pass over the main pickle's objects and a sort: the storage keys, each once with
   the first object naming it, so that every later look-up is a binary search. */
static int index_storages(struct torch_file *f) {
  const struct tp_pickle *p = f->pk[3];
  size_t n = 0, k = 0;
  for (size_t i = 0; i < tp_pickle_count(p); i++)
    n += tp_pickle_obj(p, i)->type == TP_PK_STORAGE;
  if (!(f->slots = calloc(n + 1, sizeof *f->slots)))
    return tp_err(TP_ENOMEM, f->path, -1, "out of memory");
  for (size_t i = 0; i < tp_pickle_count(p); i++) {
    const struct tp_pkobj *o = tp_pickle_obj(p, i);
    if (o->type == TP_PK_STORAGE)
      f->slots[k++] = (struct storage_slot){.key = o->s, .first = o, .order = i};
  }
  qsort(f->slots, n, sizeof *f->slots, slot_cmp);
  for (size_t i = 0; i < n; i++)
    if (f->nslots == 0 || strcmp(f->slots[f->nslots - 1].key, f->slots[i].key))
      f->slots[f->nslots++] = f->slots[i];
  return 0;
}

static int key_cmp(const void *key, const void *slot) {
  return strcmp(key, ((const struct storage_slot *)slot)->key);
}

static struct storage_slot *find_slot(struct torch_file *f, const char *key) {
  return f->nslots ? bsearch(key, f->slots, f->nslots, sizeof *f->slots, key_cmp) : NULL;
}

/* After the key list: per storage, an 8-byte little-endian count and the raw bytes. */
static int legacy_storages(struct torch_file *f, const struct tp_pkobj *keys, size_t pos) {
  int rc;
  if (keys->type != TP_PK_LIST)
    return tp_err(TP_ECORRUPT, f->path, (long long)pos, "legacy torch file: storage keys are not a list");
  if ((rc = index_storages(f)) < 0)
    return rc;
  for (size_t i = 0; i < keys->n; i++) {
    struct storage_slot *sl = keys->v[i]->type == TP_PK_STR ? find_slot(f, keys->v[i]->s) : NULL;
    const struct tp_pkobj *s = sl ? sl->first : NULL;
    uint64_t numel, bytes;
    if (!s)
      return tp_err(TP_ECORRUPT, f->path, (long long)pos,
                    "legacy torch file: storage key %zu is not used by any tensor", i);
    if (f->m.size - pos < 8)
      return tp_err(TP_ECORRUPT, f->path, (long long)pos,
                    "legacy torch file truncated before storage '%s'", s->s);
    numel = 0;
    for (int b = 7; b >= 0; b--)
      numel = numel << 8 | f->m.data[pos + (size_t)b];
    pos += 8;
    if (tp_size_mul(numel, s->elsize, &bytes, f->path) < 0 || bytes > f->m.size - pos)
      return tp_err(TP_ECORRUPT, f->path, (long long)pos,
                    "legacy torch storage '%s' claims %llu elements, more than the file holds",
                    s->s, (unsigned long long)numel);
    if (!sl->have) /* a key listed twice: the first block counts, as before */
      sl->data = f->m.data + pos, sl->numel = numel, sl->have = 1;
    pos += (size_t)bytes;
  }
  return 0;
}

/* Legacy layout: five pickles in a row, then the storages. */
static int open_legacy(struct torch_file *f) {
  struct tp_pkobj *obj[5];
  size_t pos = 0, used;
  int rc = tp_map_open(f->path, &f->m);
  for (int i = 0; rc == 0 && i < 5; i++, pos += used)
    if ((rc = tp_pickle_load(f->m.data + pos, f->m.size - pos, f->path, (long long)pos,
                             &f->pk[i], &obj[i], &used)) == 0)
      rc = charge(f, tp_pickle_bytes(f->pk[i]), "the pickle's objects");
  if (rc < 0)
    return rc;
  if (obj[1]->type != TP_PK_INT || obj[1]->i != LEGACY_PROTOCOL)
    return tp_err(TP_EUNSUPPORTED, f->path, -1,
                  "legacy torch file has protocol %lld, expected %d", (long long)obj[1]->i,
                  LEGACY_PROTOCOL);
  {
    const struct tp_pkobj *le = tp_pickle_dict_get(obj[2], "little_endian");
    f->big_endian = le && le->type == TP_PK_BOOL && le->i == 0;
  }
  f->root = obj[3];
  return legacy_storages(f, obj[4], pos);
}

static int torch_open(struct torch_file *f, const char *path) {
  unsigned char head[sizeof legacy_magic];
  size_t got;
  int rc;
  memset(f, 0, sizeof *f);
  f->path = path;
  if ((rc = tp_file_head(path, head, sizeof head, &got)) < 0)
    return rc;
  if (got == sizeof head && !memcmp(head, legacy_magic, sizeof head))
    return open_legacy(f);
  return open_zip(f);
}

/* Read the zip entry <prefix>data/<key> into its slot, counted against the file's total. */
static int read_entry(struct torch_file *f, struct storage_slot *sl) {
  char name[1100];
  uint64_t idx, size;
  int rc;
  snprintf(name, sizeof name, "%sdata/%s", f->prefix, sl->key);
  if (tp__zip_find(f->z, name, &idx) < 0)
    return tp_err(TP_ECORRUPT, f->path, -1, "torch zip lacks storage entry '%s'", name);
  if ((rc = tp__zip_size(f->z, idx, &size)) < 0 ||
      (rc = charge(f, size, "storage entry")) < 0 ||
      (rc = tp__zip_read(f->z, idx, &sl->buf, &sl->len)) < 0)
    return rc;
  sl->data = sl->buf, sl->have = 1;
  return 0;
}

/* Bytes of storage s: a zip entry <prefix>data/<key> (read once, however many tensors
   share it), or a legacy block. */
static int storage_bytes(struct torch_file *f, const struct tp_pkobj *s,
                         const unsigned char **base, uint64_t *nelem) {
  struct storage_slot *sl = find_slot(f, s->s);
  int rc;
  if (!f->z) {
    if (!sl || !sl->have)
      return tp_err(TP_ECORRUPT, f->path, -1, "legacy torch file lacks storage '%s'", s->s);
    return *base = sl->data, *nelem = sl->numel, 0;
  }
  if (!sl)
    return tp_err(TP_EINTERNAL, f->path, -1, "storage '%s' missing from the index", s->s);
  if (!sl->have && (rc = read_entry(f, sl)) < 0)
    return rc;
  if (s->numel > sl->len / s->elsize)
    return tp_err(TP_ECORRUPT, f->path, -1,
                  "torch storage '%s' claims %llu elements but its entry holds %zu bytes",
                  s->s, (unsigned long long)s->numel, sl->len);
  *base = sl->data, *nelem = s->numel;
  return 0;
}

/* Bytes the tensor will take once converted; 0 when that overflows, which the
   allocation's own check reports better. */
static uint64_t tensor_bytes(const struct tp_pkobj *t, enum tp__kind kind) {
  uint64_t n = kind == TP__F64 ? 8 : 4;
  for (int i = 0; i < t->ndim; i++)
    if (t->shape[i] && n > UINT64_MAX / t->shape[i])
      return 0;
    else
      n *= t->shape[i];
  return n;
}

/* The tensor t describes, read through its strides and checked against its storage. */
static int make_tensor(struct torch_file *f, const struct tp_pkobj *t, const char *name,
                       struct tp_tensor **out) {
  const struct tp_pkobj *s = t->storage;
  struct tp__raw r = {0};
  int rc;
  if (!s->kind)
    return tp_err(TP_EUNSUPPORTED, f->path, -1,
                  "tensor '%s' has dtype %s (supported: float16, bfloat16, float32, float64)",
                  name, s->dtype);
  if ((rc = storage_bytes(f, s, &r.base, &r.nelem)) < 0 ||
      (rc = charge(f, tensor_bytes(t, s->kind), "tensor")) < 0)
    return rc;
  r.kind = s->kind;
  r.big_endian = f->big_endian;
  if (t->offset + s->view_offset < t->offset)
    return tp_err(TP_ECORRUPT, f->path, -1, "tensor '%s' offset overflows", name);
  r.offset = t->offset + s->view_offset;
  memcpy(r.stride, t->stride, sizeof r.stride);
  return tp__tensor_from_raw(out, name, t->ndim, t->shape, &r, f->path);
}

/* A list of 0-dim tensors (anywhere) or of plain numbers (at the root) reads as
   one 1-D series: what `table.append(gnorm); torch.save(table, f)` writes. */
static int is_series(const struct tp_pkobj *o, int root) {
  if ((o->type != TP_PK_LIST && o->type != TP_PK_TUPLE) || o->n == 0)
    return 0;
  for (size_t i = 0; i < o->n; i++) {
    const struct tp_pkobj *x = o->v[i];
    int ok = (x->type == TP_PK_TENSOR && x->ndim == 0) ||
             (root && (x->type == TP_PK_FLOAT || x->type == TP_PK_INT));
    if (!ok)
      return 0;
  }
  return 1;
}

static const char *series_dtype(const struct tp_pkobj *o) {
  const char *d = NULL;
  for (size_t i = 0; i < o->n; i++) {
    const char *e = o->v[i]->type == TP_PK_TENSOR ? o->v[i]->storage->dtype : "float64";
    if (d && strcmp(d, e))
      return "float64";
    d = e;
  }
  return d;
}

static int make_series(struct torch_file *f, const struct tp_pkobj *o, const char *name,
                       struct tp_tensor **out) {
  uint64_t n = o->n;
  struct tp_tensor *t = NULL, *one;
  int rc = charge(f, n * 8, "series"); /* n < 2^22: pickle containers are bounded */
  if (rc == 0)
    rc = tp_tensor_alloc(&t, name, TP_F64, 1, &n, f->path);
  for (size_t i = 0; rc == 0 && i < o->n; i++) {
    const struct tp_pkobj *x = o->v[i];
    double *d = (double *)t->data + i;
    if (x->type == TP_PK_FLOAT)
      *d = x->f;
    else if (x->type == TP_PK_INT)
      *d = (double)x->i;
    else if ((rc = make_tensor(f, x, name, &one)) == 0) {
      *d = tp_tensor_get(one, 0);
      tp_tensor_free(one);
    }
  }
  if (rc < 0) {
    tp_tensor_free(t);
    return rc;
  }
  snprintf(t->src_dtype, sizeof t->src_dtype, "%s", series_dtype(o));
  *out = t;
  return 0;
}

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
  if (is_series(o, depth == 0)) {
    uint64_t n = o->n;
    return tp_tensor_list_add(w->l, w->name, series_dtype(o), 1, &n);
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

static int torch_list_open(struct torch_file *f, struct tp_tensor_list **out) {
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
  struct torch_file f;
  int rc = torch_open(&f, path);
  if (rc == 0)
    rc = torch_list_open(&f, out);
  else
    *out = NULL;
  torch_close(&f);
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
    if (k && kl > best && kl < limit && !strncmp(key, k, kl) &&
        (key[kl] == '\0' || key[kl] == '.'))
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
static int resolve(const struct torch_file *f, const char *key, const struct tp_pkobj **out) {
  struct resolver r = {.path = f->path};
  int rc = resolve_at(&r, f->root, key, 0, out);
  if (rc <= 0)
    *out = NULL;
  return rc < 0 ? rc : 0;
}

/* Materialise the object at name as a tensor: a tensor or a series. */
static int load_obj(struct torch_file *f, const struct tp_pkobj *o, const char *name,
                    struct tp_tensor **out) {
  if (o->type == TP_PK_TENSOR)
    return make_tensor(f, o, name, out);
  if (is_series(o, o == f->root))
    return make_series(f, o, name, out);
  return tp_err(TP_ENOKEY, f->path, -1, "'%s' is not a tensor (try 'trainplot posemb list %s')",
                name, f->path);
}

static int torch_load(const char *path, const char *key, struct tp_tensor **out) {
  struct torch_file f;
  struct tp_tensor_list *l = NULL;
  const struct tp_pkobj *o = NULL;
  int rc = torch_open(&f, path);
  *out = NULL;
  if (rc == 0)
    rc = resolve(&f, key, &o);
  if (rc == 0 && o && (*key || o->type == TP_PK_TENSOR || is_series(o, 1)))
    rc = load_obj(&f, o, key, out);
  else if (rc == 0 && (rc = torch_list_open(&f, &l)) == 0) {
    if (!*key && l->n == 1 && (rc = resolve(&f, l->items[0].name, &o)) == 0 && o)
      rc = load_obj(&f, o, l->items[0].name, out);
    else if (rc == 0)
      rc = tp__tensor_key_error(path, key, l);
  }
  tp_tensor_list_free(l);
  torch_close(&f);
  return rc;
}

const struct tp_tensor_reader tp_torch_reader = {
    .name = "torch",
    .summary = "torch.save checkpoints (zip and legacy) through a pickle reader that runs no code",
    .sniff = torch_sniff,
    .list = torch_list,
    .load = torch_load,
};
