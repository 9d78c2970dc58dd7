/* Dense tensors and tensor lists: allocation under the limits, element access, key errors. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"

/* zero: calloc, for callers that write only some elements. Otherwise the caller fills
   every element, and a large tensor goes on huge pages (tp_big_alloc): calloc's 4 KiB
   pages made the first load of a table mostly page faults (bench/MEASUREMENTS.md). */
int tp__tensor_alloc(struct tp_tensor **out, const char *name, enum tp_dtype dt, int ndim,
                     const uint64_t *shape, const char *file, int zero) {
  uint64_t count = 1, bytes;
  size_t esz = dt == TP_F64 ? sizeof(double) : sizeof(float);
  struct tp_tensor *t;
  int rc;
  *out = NULL;
  if (ndim < 0 || ndim > TP_MAXDIM)
    return tp_err(TP_EUNSUPPORTED, file, -1, "tensor has %d dimensions, at most %d are supported",
                  ndim, TP_MAXDIM);
  for (int i = 0; i < ndim; i++)
    if ((rc = tp_size_mul(count, shape[i], &count, file)) < 0)
      return rc;
  if (count > tp_limits_get()->max_elements)
    return tp_err(TP_ELIMIT, file, -1,
                  "tensor has %llu elements, over the limit of %llu "
                  "(raise it with TRAINPLOT_MAX_ELEMENTS)",
                  (unsigned long long)count, (unsigned long long)tp_limits_get()->max_elements);
  if ((rc = tp_size_mul(count, esz, &bytes, file)) < 0 ||
      (rc = tp_size_check(bytes, file, "tensor")) < 0)
    return rc;
  t = calloc(1, sizeof *t);
  if (!t)
    return tp_err(TP_ENOMEM, file, -1, "out of memory");
  t->name = strdup(name ? name : "");
  t->data = zero ? calloc(count ? (size_t)count : 1, esz) : tp_big_alloc((size_t)bytes);
  if (!t->name || !t->data) {
    tp_tensor_free(t);
    return tp_err(TP_ENOMEM, file, -1, "out of memory for %llu bytes", (unsigned long long)bytes);
  }
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    t->shape[i] = shape[i];
  t->count = count;
  t->dtype = dt;
  snprintf(t->src_dtype, sizeof t->src_dtype, "%s", dt == TP_F64 ? "float64" : "float32");
  *out = t;
  return 0;
}

int tp_tensor_alloc(struct tp_tensor **out, const char *name, enum tp_dtype dt, int ndim,
                    const uint64_t *shape, const char *file) {
  return tp__tensor_alloc(out, name, dt, ndim, shape, file, 1);
}

void tp_tensor_free(struct tp_tensor *t) {
  if (!t)
    return;
  free(t->name);
  free(t->data);
  free(t);
}

double tp_tensor_get(const struct tp_tensor *t, uint64_t i) {
  if (t->dtype == TP_F64)
    return ((const double *)t->data)[i];
  return ((const float *)t->data)[i];
}

struct tp_tensor_list *tp_tensor_list_new(const char *format) {
  struct tp_tensor_list *l = calloc(1, sizeof *l);
  if (l)
    snprintf(l->format, sizeof l->format, "%s", format);
  return l;
}

struct tp_tensor_list *tp__tensor_list_new(const char *format) {
  return tp_tensor_list_new(format);
}

void tp_tensor_list_free(struct tp_tensor_list *l) {
  if (!l)
    return;
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i].name);
  free(l->items);
  free(l);
}

int tp_tensor_list_add(struct tp_tensor_list *l, const char *name, const char *dtype, int ndim,
                       const uint64_t *shape) {
  struct tp_tensor_info *it;
  if (ndim < 0 || ndim > TP_MAXDIM)
    return tp_err(TP_EUNSUPPORTED, NULL, -1,
                  "tensor '%s' has %d dimensions, at most %d are supported", name, ndim, TP_MAXDIM);
  /* Capacity is implicit: 8, then doubling at each power of two. */
  if (l->n == 0 || (l->n >= 8 && (l->n & (l->n - 1)) == 0)) {
    size_t cap = l->n ? l->n * 2 : 8;
    it = realloc(l->items, cap * sizeof *it);
    if (!it)
      return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
    l->items = it;
  }
  it = &l->items[l->n];
  memset(it, 0, sizeof *it);
  if (!(it->name = strdup(name)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  snprintf(it->dtype, sizeof it->dtype, "%s", dtype);
  it->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    it->shape[i] = shape[i];
  l->n++;
  return 0;
}

int tp__tensor_key_error(const char *file, const char *key, const struct tp_tensor_list *l) {
  char names[400] = "";
  size_t used = 0, shown = l->n < 5 ? l->n : 5;
  for (size_t i = 0; i < shown && used < sizeof names; i++)
    used += (size_t)snprintf(names + used, sizeof names - used, "%s'%s'", i ? ", " : "",
                             l->items[i].name);
  if (l->n == 0)
    return tp_err(TP_EEMPTY, file, -1, "file holds no tensors");
  if (key && *key)
    return tp_err(TP_ENOKEY, file, -1,
                  "tensor '%s' not found (%zu tensors; try 'trainplot posemb "
                  "list %s')",
                  key, l->n, file);
  return tp_err(TP_EAMBIGUOUS, file, -1, "file holds %zu tensors (%s%s); choose one with a key",
                l->n, names, l->n > shown ? ", …" : "");
}
