/* safetensors reader: 8-byte header length, JSON header (json-c), F16/BF16/F32/F64 tensors. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_tensor_raw.h"

/* The published format caps the header at 100 MB; larger is a lie or an attack. */
#define ST_MAX_HEADER (100u << 20)

struct st_entry {
  const char *name;   /* points into the json object */
  char dtype[16];     /* as written: "F32" */
  enum tp__kind kind; /* 0 when the dtype is not one we load */
  int ndim;
  uint64_t shape[TP_MAXDIM];
  uint64_t begin, end; /* relative to the data section */
};

struct st_file {
  struct tp_map m;
  json_object *root;
  struct st_entry *e;
  size_t n;
  const unsigned char *data;
  uint64_t data_size;
};

static int st_sniff(const unsigned char *h, size_t len) {
  uint64_t n = 0;
  if (len < 10)
    return 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | h[i];
  return n >= 2 && h[8] == '{'; /* a lying length is reported by st_open */
}

static enum tp__kind st_kind(const char *d) {
  return !strcmp(d, "F16")    ? TP__F16
         : !strcmp(d, "BF16") ? TP__BF16
         : !strcmp(d, "F32")  ? TP__F32
         : !strcmp(d, "F64")  ? TP__F64
                              : 0;
}

/* A JSON array of at most max non-negative integers into v. */
static int st_uints(json_object *a, uint64_t *v, int max, int *n, const char *file,
                    const char *name, const char *what) {
  if (!json_object_is_type(a, json_type_array) || (int)json_object_array_length(a) > max)
    return tp_err(TP_ECORRUPT, file, 8,
                  "safetensors header: '%s' %s must be an array of at most %d integers", name, what,
                  max);
  *n = (int)json_object_array_length(a);
  for (int i = 0; i < *n; i++) {
    json_object *x = json_object_array_get_idx(a, (size_t)i);
    if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0)
      return tp_err(TP_ECORRUPT, file, 8,
                    "safetensors header: '%s' %s holds a non-integer or negative value", name,
                    what);
    v[i] = json_object_get_uint64(x);
  }
  return 0;
}

/* One tensor entry: dtype, shape and data_offsets, sizes checked. */
static int st_entry(struct st_file *f, const char *name, json_object *o, struct st_entry *e,
                    const char *file) {
  json_object *dt, *sh, *off;
  uint64_t count = 1, bytes, offs[2];
  int n, rc;
  e->name = name;
  if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "dtype", &dt) ||
      !json_object_object_get_ex(o, "shape", &sh) ||
      !json_object_object_get_ex(o, "data_offsets", &off) ||
      !json_object_is_type(dt, json_type_string))
    return tp_err(TP_ECORRUPT, file, 8,
                  "safetensors header: '%s' needs dtype, shape and data_offsets", name);
  snprintf(e->dtype, sizeof e->dtype, "%s", json_object_get_string(dt));
  e->kind = st_kind(e->dtype);
  if ((rc = st_uints(sh, e->shape, TP_MAXDIM, &e->ndim, file, name, "shape")) < 0 ||
      (rc = st_uints(off, offs, 2, &n, file, name, "data_offsets")) < 0)
    return rc;
  if (n != 2 || offs[0] > offs[1] || offs[1] > f->data_size)
    return tp_err(TP_ECORRUPT, file, 8,
                  "safetensors: '%s' data_offsets [%llu, %llu] are not inside the "
                  "%llu-byte data section",
                  name, (unsigned long long)offs[0], (unsigned long long)offs[1],
                  (unsigned long long)f->data_size);
  e->begin = offs[0], e->end = offs[1];
  for (int i = 0; i < e->ndim; i++)
    if ((rc = tp_size_mul(count, e->shape[i], &count, file)) < 0)
      return rc;
  if (!e->kind) /* sizes of dtypes we do not load are not checked */
    return 0;
  if ((rc = tp_size_mul(count, tp__kind_size(e->kind), &bytes, file)) < 0)
    return rc;
  if (bytes != e->end - e->begin)
    return tp_err(TP_ECORRUPT, file, 8,
                  "safetensors: '%s' has shape x dtype = %llu bytes but data_offsets "
                  "span %llu",
                  name, (unsigned long long)bytes, (unsigned long long)(e->end - e->begin));
  return 0;
}

static int cmp_begin(const void *a, const void *b) {
  const struct st_entry *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Tensors may not share bytes: sort by start and compare neighbours. */
static int st_overlap(struct st_file *f, const char *file) {
  struct st_entry *s;
  int rc = 0;
  if (f->n < 2)
    return 0;
  if (!(s = malloc(f->n * sizeof *s)))
    return tp_err(TP_ENOMEM, file, -1, "out of memory");
  memcpy(s, f->e, f->n * sizeof *s);
  qsort(s, f->n, sizeof *s, cmp_begin);
  for (size_t i = 1; i < f->n && rc == 0; i++)
    if (s[i].begin < s[i - 1].end)
      rc = tp_err(TP_ECORRUPT, file, 8,
                  "safetensors: tensors '%s' and '%s' overlap in the data section", s[i - 1].name,
                  s[i].name);
  free(s);
  return rc;
}

/* Parse the JSON header with the configured depth limit. */
static int st_parse_json(struct st_file *f, uint64_t hlen, const char *file) {
  json_tokener *tok = json_tokener_new_ex(tp_limits_get()->max_depth);
  if (!tok)
    return tp_err(TP_ENOMEM, file, -1, "out of memory");
  f->root = json_tokener_parse_ex(tok, (const char *)f->m.data + 8, (int)hlen);
  if (!f->root || json_tokener_get_parse_end(tok) != (size_t)hlen) {
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t at = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    return tp_err(TP_ECORRUPT, file, 8 + (long long)at,
                  "safetensors header is not one complete JSON object (%s)",
                  je == json_tokener_success ? "trailing bytes" : json_tokener_error_desc(je));
  }
  json_tokener_free(tok);
  if (!json_object_is_type(f->root, json_type_object))
    return tp_err(TP_ECORRUPT, file, 8, "safetensors header is not a JSON object");
  return 0;
}

static void st_close(struct st_file *f) {
  json_object_put(f->root);
  free(f->e);
  tp_map_close(&f->m);
}

/* Map, check the header length, parse and validate every entry. */
static int st_open(struct st_file *f, const char *file) {
  uint64_t hlen = 0;
  int rc;
  memset(f, 0, sizeof *f);
  if ((rc = tp_map_open(file, &f->m)) < 0)
    return rc;
  if (f->m.size < 8)
    return tp_err(TP_ECORRUPT, file, 0, "safetensors file shorter than its 8-byte header length");
  for (int i = 7; i >= 0; i--)
    hlen = hlen << 8 | f->m.data[i];
  if (hlen > ST_MAX_HEADER || hlen > f->m.size - 8)
    return tp_err(TP_ECORRUPT, file, 0,
                  "safetensors header length %llu exceeds the file (%zu bytes) or the 100 MB cap",
                  (unsigned long long)hlen, f->m.size);
  f->data = f->m.data + 8 + hlen;
  f->data_size = f->m.size - 8 - hlen;
  if ((rc = st_parse_json(f, hlen, file)) < 0)
    return rc;
  if (!(f->e = calloc((size_t)json_object_object_length(f->root) + 1, sizeof *f->e)))
    return tp_err(TP_ENOMEM, file, -1, "out of memory");
  json_object_object_foreach(f->root, k, v) {
    if (!strcmp(k, "__metadata__"))
      continue;
    if ((rc = st_entry(f, k, v, &f->e[f->n], file)) < 0)
      return rc;
    f->n++;
  }
  return st_overlap(f, file);
}

static int st_list(const char *path, struct tp_tensor_list **out) {
  struct st_file f;
  struct tp_tensor_list *l = NULL;
  int rc = st_open(&f, path);
  *out = NULL;
  if (rc == 0 && !(l = tp__tensor_list_new("safetensors")))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  for (size_t i = 0; rc == 0 && i < f.n; i++)
    rc = tp_tensor_list_add(l, f.e[i].name, f.e[i].kind ? tp__kind_name(f.e[i].kind) : f.e[i].dtype,
                            f.e[i].ndim, f.e[i].shape);
  st_close(&f);
  if (rc < 0)
    tp_tensor_list_free(l);
  else
    *out = l;
  return rc;
}

/* The entry for key, or the only one when key is "". */
static int st_find(struct st_file *f, const char *key, const char *path,
                   const struct st_entry **e) {
  struct tp_tensor_list *l;
  int rc;
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp(f->e[i].name, key) || (!*key && f->n == 1))
      return *e = &f->e[i], 0;
  if (!(l = tp__tensor_list_new("safetensors")))
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  rc = 0;
  for (size_t i = 0; i < f->n && rc == 0; i++)
    rc = tp_tensor_list_add(l, f->e[i].name, f->e[i].dtype, f->e[i].ndim, f->e[i].shape);
  if (rc == 0)
    rc = tp__tensor_key_error(path, key, l);
  tp_tensor_list_free(l);
  return rc;
}

static int st_load(const char *path, const char *key, struct tp_tensor **out) {
  struct st_file f;
  const struct st_entry *e = NULL;
  struct tp__raw r = {0};
  int rc = st_open(&f, path);
  *out = NULL;
  if (rc == 0)
    rc = st_find(&f, key, path, &e);
  if (rc == 0 && !e->kind)
    rc = tp_err(TP_EUNSUPPORTED, path, -1,
                "safetensors: '%s' has dtype %s (supported: F16, BF16, F32, F64)", e->name,
                e->dtype);
  if (rc == 0) {
    r.base = f.data + e->begin;
    r.nelem = (e->end - e->begin) / tp__kind_size(e->kind);
    r.kind = e->kind;
    r.big_endian = 0; /* the format is little-endian by definition */
    tp__strides_contig(&r, e->ndim, e->shape, 0);
    rc = tp__tensor_from_raw(out, e->name, e->ndim, e->shape, &r, path);
  }
  st_close(&f);
  return rc;
}

const struct tp_tensor_reader tp_safetensors_reader = {
    .name = "safetensors",
    .summary = "safetensors: F16, BF16, F32, F64 tensors chosen by name",
    .sniff = st_sniff,
    .list = st_list,
    .load = st_load,
};
