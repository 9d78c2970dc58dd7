/* Raw storage elements (kinds, strided views) converted into tensors, bounds-checked. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_half.h"
#include "tp_limits.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_tensor_raw.h"

size_t tp__kind_size(enum tp__kind k) {
  switch (k) {
  case TP__F16:
  case TP__BF16: return 2;
  case TP__F32: return 4;
  case TP__F64: return 8;
  }
  return 0;
}

const char *tp__kind_name(enum tp__kind k) {
  switch (k) {
  case TP__F16: return "float16";
  case TP__BF16: return "bfloat16";
  case TP__F32: return "float32";
  case TP__F64: return "float64";
  }
  return "unknown";
}

void tp__strides_contig(struct tp__raw *r, int ndim, const uint64_t *shape, int fortran) {
  uint64_t s = 1;
  for (int j = 0; j < ndim; j++) {
    int i = fortran ? j : ndim - 1 - j;
    r->stride[i] = s;
    s *= shape[i] ? shape[i] : 1; /* callers checked the product already */
  }
}

/* The highest element index the view touches must lie inside the storage. */
static int check_bounds(int ndim, const uint64_t *shape, uint64_t count, const struct tp__raw *r,
                        const char *file) {
  uint64_t last = r->offset, term;
  if (count == 0)
    return 0;
  for (int i = 0; i < ndim; i++) {
    if (tp_size_mul(shape[i] - 1, r->stride[i], &term, file) < 0 || last + term < last)
      return tp_err(TP_ECORRUPT, file, -1, "tensor view (offset and strides) overflows 64 bits");
    last += term;
  }
  if (last >= r->nelem)
    return tp_err(TP_ECORRUPT, file, -1,
                  "tensor view reaches element %llu but its storage holds %llu",
                  (unsigned long long)last, (unsigned long long)r->nelem);
  return 0;
}

/* Element e of the storage as double, honouring byte order and kind. */
static inline double load_elem(const struct tp__raw *r, uint64_t e, size_t isz, int swap) {
  const unsigned char *p = r->base + e * isz;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  float f;
  double d;
  switch (r->kind) {
  case TP__F16:
  case TP__BF16:
    memcpy(&u16, p, 2);
    u16 = swap ? __builtin_bswap16(u16) : u16;
    return r->kind == TP__F16 ? tp_half_to_float(u16) : tp_bf16_to_float(u16);
  case TP__F32:
    memcpy(&u32, p, 4);
    u32 = swap ? __builtin_bswap32(u32) : u32;
    memcpy(&f, &u32, 4);
    return f;
  case TP__F64:
    memcpy(&u64, p, 8);
    u64 = swap ? __builtin_bswap64(u64) : u64;
    memcpy(&d, &u64, 8);
    return d;
  }
  return 0;
}

/* n elements from storage index pos with step `step` into t at element i. The
   common case (contiguous row, native order, same width) is one memcpy. */
static void copy_run(struct tp_tensor *t, uint64_t i, const struct tp__raw *r, uint64_t pos,
                     uint64_t step, uint64_t n, int swap) {
  size_t isz = tp__kind_size(r->kind);
  int same =
      (t->dtype == TP_F32 && r->kind == TP__F32) || (t->dtype == TP_F64 && r->kind == TP__F64);
  if (same && !swap && step == 1) {
    memcpy((char *)t->data + i * isz, r->base + pos * isz, (size_t)n * isz);
    return;
  }
  if (t->dtype == TP_F64)
    for (uint64_t k = 0; k < n; k++, pos += step)
      ((double *)t->data)[i + k] = load_elem(r, pos, isz, swap);
  else
    for (uint64_t k = 0; k < n; k++, pos += step)
      ((float *)t->data)[i + k] = (float)load_elem(r, pos, isz, swap);
}

/* Walk the view in C order: runs along the last dimension, an odometer over the rest. */
static void copy_strided(struct tp_tensor *t, const struct tp__raw *r) {
  uint64_t idx[TP_MAXDIM] = {0}, pos = r->offset, run, step;
  int swap = r->big_endian != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
  int last = t->ndim - 1;
  if (t->count == 0)
    return;
  run = t->ndim ? t->shape[last] : 1;
  step = t->ndim ? r->stride[last] : 1;
  for (uint64_t i = 0; i < t->count; i += run) {
    copy_run(t, i, r, pos, step, run, swap);
    for (int d = last - 1; d >= 0; d--) {
      pos += r->stride[d];
      if (++idx[d] < t->shape[d])
        break;
      pos -= t->shape[d] * r->stride[d]; /* unsigned wrap is exact here */
      idx[d] = 0;
    }
  }
}

int tp__tensor_from_raw(struct tp_tensor **out, const char *name, int ndim, const uint64_t *shape,
                        const struct tp__raw *r, const char *file) {
  enum tp_dtype dt = r->kind == TP__F64 ? TP_F64 : TP_F32;
  struct tp_tensor *t;
  int rc;
  *out = NULL;
  if (tp__kind_size(r->kind) == 0)
    return tp_err(TP_EINTERNAL, file, -1, "unknown element kind %d", r->kind);
  if ((rc = tp__tensor_alloc(&t, name, dt, ndim, shape, file, 0)) < 0)
    return rc;
  if ((rc = check_bounds(ndim, shape, t->count, r, file)) < 0) {
    tp_tensor_free(t);
    return rc;
  }
  snprintf(t->src_dtype, sizeof t->src_dtype, "%s", tp__kind_name(r->kind));
  copy_strided(t, r);
  *out = t;
  return 0;
}
