/* torch.save files: the zip and legacy layouts, the storage index, and tensors or series read from
 * it. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_pickle.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_tensor_raw.h"
#include "tp_torch_int.h"
#include "tp_zip.h"

/* Legacy files open with the pickled magic number 0x1950a86a20f9469cfc6c (protocol 2). */
static const unsigned char legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                             0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
#define LEGACY_PROTOCOL 1001

/* One storage key of the main pickle, with its bytes once they are known: a legacy
   block, or a zip entry read on first use and kept (shared by every tensor on it). */
struct tp__torch_slot {
  const char *key;
  const struct tp_pkobj *first; /* the first storage object with this key */
  size_t order;                 /* its index among the pickle's objects */
  const unsigned char *data;
  uint64_t numel;     /* legacy: elements the file stores */
  unsigned char *buf; /* zip: the entry, freed at close */
  size_t len;
  int have;
};

int tp__torch_sniff(const unsigned char *h, size_t len) {
  if (len >= sizeof legacy_magic && !memcmp(h, legacy_magic, sizeof legacy_magic))
    return 1;
  if (len < 30 || memcmp(h, "PK\3\4", 4))
    return 0;
  for (size_t i = 30; i + 8 <= len; i++) /* the first entries name <archive>/data.pkl */
    if (!memcmp(h + i, "data.pkl", 8))
      return 1;
  return 0;
}

void tp__torch_close(struct tp__torch_file *f) {
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
static int charge(struct tp__torch_file *f, uint64_t n, const char *what) {
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

static int index_storages(struct tp__torch_file *f);

/* Zip layout: find <prefix>data.pkl, note the byte order, run the pickle. */
static int open_zip(struct tp__torch_file *f) {
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
    return tp_err(TP_ECORRUPT, f->path, -1,
                  "zip file has no data.pkl: not a torch.save checkpoint");
  snprintf(name, sizeof name, "%sbyteorder", f->prefix);
  if (tp__zip_find(f->z, name, &bo) == 0 &&
      (rc = tp__zip_head(f->z, bo, order, sizeof order, &got)) == 0)
    f->big_endian = got == 3 && !memcmp(order, "big", 3);
  if (rc < 0 || (rc = tp__zip_size(f->z, i, &size)) < 0 || (rc = charge(f, size, "data.pkl")) < 0 ||
      (rc = tp__zip_read(f->z, i, &pkl, &len)) < 0)
    return rc;
  rc = tp_pickle_load(pkl, len, f->path, -1, &f->pk[3], &f->root, &used);
  free(pkl);
  if (rc < 0 || (rc = charge(f, tp_pickle_bytes(f->pk[3]), "the pickle's objects")) < 0)
    return rc;
  return index_storages(f);
}

static int slot_cmp(const void *a, const void *b) {
  const struct tp__torch_slot *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* One pass over the main pickle's objects and a sort: the storage keys, each once with
   the first object naming it, so that every later look-up is a binary search. */
static int index_storages(struct tp__torch_file *f) {
  const struct tp_pickle *p = f->pk[3];
  size_t n = 0, k = 0;
  for (size_t i = 0; i < tp_pickle_count(p); i++)
    n += tp_pickle_obj(p, i)->type == TP_PK_STORAGE;
  if (!(f->slots = calloc(n + 1, sizeof *f->slots)))
    return tp_err(TP_ENOMEM, f->path, -1, "out of memory");
  for (size_t i = 0; i < tp_pickle_count(p); i++) {
    const struct tp_pkobj *o = tp_pickle_obj(p, i);
    if (o->type == TP_PK_STORAGE)
      f->slots[k++] = (struct tp__torch_slot){.key = o->s, .first = o, .order = i};
  }
  qsort(f->slots, n, sizeof *f->slots, slot_cmp);
  for (size_t i = 0; i < n; i++)
    if (f->nslots == 0 || strcmp(f->slots[f->nslots - 1].key, f->slots[i].key))
      f->slots[f->nslots++] = f->slots[i];
  return 0;
}

static int key_cmp(const void *key, const void *slot) {
  return strcmp(key, ((const struct tp__torch_slot *)slot)->key);
}

static struct tp__torch_slot *find_slot(struct tp__torch_file *f, const char *key) {
  return f->nslots ? bsearch(key, f->slots, f->nslots, sizeof *f->slots, key_cmp) : NULL;
}

/* After the key list: per storage, an 8-byte little-endian count and the raw bytes. */
static int legacy_storages(struct tp__torch_file *f, const struct tp_pkobj *keys, size_t pos) {
  int rc;
  if (keys->type != TP_PK_LIST)
    return tp_err(TP_ECORRUPT, f->path, (long long)pos,
                  "legacy torch file: storage keys are not a list");
  if ((rc = index_storages(f)) < 0)
    return rc;
  for (size_t i = 0; i < keys->n; i++) {
    struct tp__torch_slot *sl = keys->v[i]->type == TP_PK_STR ? find_slot(f, keys->v[i]->s) : NULL;
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
static int open_legacy(struct tp__torch_file *f) {
  struct tp_pkobj *obj[5];
  size_t pos = 0, used;
  int rc = tp_map_open(f->path, &f->m);
  for (int i = 0; rc == 0 && i < 5; i++, pos += used)
    if ((rc = tp_pickle_load(f->m.data + pos, f->m.size - pos, f->path, (long long)pos, &f->pk[i],
                             &obj[i], &used)) == 0)
      rc = charge(f, tp_pickle_bytes(f->pk[i]), "the pickle's objects");
  if (rc < 0)
    return rc;
  if (obj[1]->type != TP_PK_INT || obj[1]->i != LEGACY_PROTOCOL)
    return tp_err(TP_EUNSUPPORTED, f->path, -1, "legacy torch file has protocol %lld, expected %d",
                  (long long)obj[1]->i, LEGACY_PROTOCOL);
  {
    const struct tp_pkobj *le = tp_pickle_dict_get(obj[2], "little_endian");
    f->big_endian = le && le->type == TP_PK_BOOL && le->i == 0;
  }
  f->root = obj[3];
  return legacy_storages(f, obj[4], pos);
}

int tp__torch_open(struct tp__torch_file *f, const char *path) {
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
static int read_entry(struct tp__torch_file *f, struct tp__torch_slot *sl) {
  char name[1100];
  uint64_t idx, size;
  int rc;
  snprintf(name, sizeof name, "%sdata/%s", f->prefix, sl->key);
  if (tp__zip_find(f->z, name, &idx) < 0)
    return tp_err(TP_ECORRUPT, f->path, -1, "torch zip lacks storage entry '%s'", name);
  if ((rc = tp__zip_size(f->z, idx, &size)) < 0 || (rc = charge(f, size, "storage entry")) < 0 ||
      (rc = tp__zip_read(f->z, idx, &sl->buf, &sl->len)) < 0)
    return rc;
  sl->data = sl->buf, sl->have = 1;
  return 0;
}

/* Bytes of storage s: a zip entry <prefix>data/<key> (read once, however many tensors
   share it), or a legacy block. */
static int storage_bytes(struct tp__torch_file *f, const struct tp_pkobj *s,
                         const unsigned char **base, uint64_t *nelem) {
  struct tp__torch_slot *sl = find_slot(f, s->s);
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
                  "torch storage '%s' claims %llu elements but its entry holds %zu bytes", s->s,
                  (unsigned long long)s->numel, sl->len);
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
int tp__torch_tensor(struct tp__torch_file *f, const struct tp_pkobj *t, const char *name,
                     struct tp_tensor **out) {
  const struct tp_pkobj *s = t->storage;
  struct tp__raw r = {0};
  int rc;
  if (!s->kind)
    return tp_err(TP_EUNSUPPORTED, f->path, -1,
                  "tensor '%s' has dtype %s (supported: float16, bfloat16, float32, float64)", name,
                  s->dtype);
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
int tp__torch_is_series(const struct tp_pkobj *o, int root) {
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

const char *tp__torch_series_dtype(const struct tp_pkobj *o) {
  const char *d = NULL;
  for (size_t i = 0; i < o->n; i++) {
    const char *e = o->v[i]->type == TP_PK_TENSOR ? o->v[i]->storage->dtype : "float64";
    if (d && strcmp(d, e))
      return "float64";
    d = e;
  }
  return d;
}

int tp__torch_series(struct tp__torch_file *f, const struct tp_pkobj *o, const char *name,
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
    else if ((rc = tp__torch_tensor(f, x, name, &one)) == 0) {
      *d = tp_tensor_get(one, 0);
      tp_tensor_free(one);
    }
  }
  if (rc < 0) {
    tp_tensor_free(t);
    return rc;
  }
  snprintf(t->src_dtype, sizeof t->src_dtype, "%s", tp__torch_series_dtype(o));
  *out = t;
  return 0;
}
