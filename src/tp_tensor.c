/* Dense tensors, tensor lists, raw-element conversion and the reader table with its detection loop. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_tensor.h"

/* Bytes the sniffers see: enough for a zip entry name or a text matrix line. */
#define TP_SNIFF_BYTES 4096

/* Order matters: the zip readers (npz, then torch) decide between themselves by
   entry names, and the text matrix accepts anything printable, so it comes last. */
static const struct tp_tensor_reader *const readers[] = {
    &tp_npy_reader,
    &tp_safetensors_reader,
    &tp_npz_reader,
    &tp_torch_reader,
    &tp_textmat_reader,
};
#define NREADERS (sizeof readers / sizeof readers[0])

/* zero: calloc, for callers that write only some elements. Otherwise the caller fills
   every element, and a large tensor goes on huge pages (tp_big_alloc): a 4096 x 768
   float32 table copied out of its file took 3080 page faults on calloc's 4 KiB pages;
   on huge pages its first load in a process takes 6.2 ms instead of 12.4 (medians of 12). */
static int tensor_alloc(struct tp_tensor **out, const char *name, enum tp_dtype dt,
                        int ndim, const uint64_t *shape, const char *file, int zero) {
  uint64_t count = 1, bytes;
  size_t esz = dt == TP_F64 ? sizeof(double) : sizeof(float);
  struct tp_tensor *t;
  int rc;
  *out = NULL;
  if (ndim < 0 || ndim > TP_MAXDIM)
    return tp_err(TP_EUNSUPPORTED, file, -1,
                  "tensor has %d dimensions, at most %d are supported", ndim,
                  TP_MAXDIM);
  for (int i = 0; i < ndim; i++)
    if ((rc = tp_size_mul(count, shape[i], &count, file)) < 0)
      return rc;
  if (count > tp_limits_get()->max_elements)
    return tp_err(TP_ELIMIT, file, -1,
                  "tensor has %llu elements, over the limit of %llu "
                  "(raise it with TRAINPLOT_MAX_ELEMENTS)",
                  (unsigned long long)count,
                  (unsigned long long)tp_limits_get()->max_elements);
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
    return tp_err(TP_ENOMEM, file, -1, "out of memory for %llu bytes",
                  (unsigned long long)bytes);
  }
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    t->shape[i] = shape[i];
  t->count = count;
  t->dtype = dt;
  snprintf(t->src_dtype, sizeof t->src_dtype, "%s",
           dt == TP_F64 ? "float64" : "float32");
  *out = t;
  return 0;
}

int tp_tensor_alloc(struct tp_tensor **out, const char *name, enum tp_dtype dt,
                    int ndim, const uint64_t *shape, const char *file) {
  return tensor_alloc(out, name, dt, ndim, shape, file, 1);
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

struct tp_tensor_list *tp__tensor_list_new(const char *format) {
  struct tp_tensor_list *l = calloc(1, sizeof *l);
  if (l)
    snprintf(l->format, sizeof l->format, "%s", format);
  return l;
}

void tp_tensor_list_free(struct tp_tensor_list *l) {
  if (!l)
    return;
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i].name);
  free(l->items);
  free(l);
}

int tp_tensor_list_add(struct tp_tensor_list *l, const char *name,
                       const char *dtype, int ndim, const uint64_t *shape) {
  struct tp_tensor_info *it;
  if (ndim < 0 || ndim > TP_MAXDIM)
    return tp_err(TP_EUNSUPPORTED, NULL, -1,
                  "tensor '%s' has %d dimensions, at most %d are supported",
                  name, ndim, TP_MAXDIM);
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

float tp_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ffu, bits;
  float f;
  if (exp == 0x1f) /* inf or nan keeps its payload */
    bits = sign | 0x7f800000u | (man << 13);
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (man << 13);
  else if (man == 0)
    bits = sign;
  else { /* subnormal half: value is man * 2^-24, exact in float */
    f = (float)man * 0x1p-24f;
    return sign ? -f : f;
  }
  memcpy(&f, &bits, sizeof f);
  return f;
}

float tp_bf16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

size_t tp__kind_size(enum tp__kind k) {
  switch (k) {
  case TP__F16: case TP__BF16: return 2;
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

void tp__strides_contig(struct tp__raw *r, int ndim, const uint64_t *shape,
                        int fortran) {
  uint64_t s = 1;
  for (int j = 0; j < ndim; j++) {
    int i = fortran ? j : ndim - 1 - j;
    r->stride[i] = s;
    s *= shape[i] ? shape[i] : 1; /* callers checked the product already */
  }
}

/* The highest element index the view touches must lie inside the storage. */
static int check_bounds(int ndim, const uint64_t *shape, uint64_t count,
                        const struct tp__raw *r, const char *file) {
  uint64_t last = r->offset, term;
  if (count == 0)
    return 0;
  for (int i = 0; i < ndim; i++) {
    if (tp_size_mul(shape[i] - 1, r->stride[i], &term, file) < 0 ||
        last + term < last)
      return tp_err(TP_ECORRUPT, file, -1,
                    "tensor view (offset and strides) overflows 64 bits");
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
static void copy_run(struct tp_tensor *t, uint64_t i, const struct tp__raw *r,
                     uint64_t pos, uint64_t step, uint64_t n, int swap) {
  size_t isz = tp__kind_size(r->kind);
  int same = (t->dtype == TP_F32 && r->kind == TP__F32) ||
             (t->dtype == TP_F64 && r->kind == TP__F64);
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

int tp__tensor_from_raw(struct tp_tensor **out, const char *name, int ndim,
                        const uint64_t *shape, const struct tp__raw *r,
                        const char *file) {
  enum tp_dtype dt = r->kind == TP__F64 ? TP_F64 : TP_F32;
  struct tp_tensor *t;
  int rc;
  *out = NULL;
  if (tp__kind_size(r->kind) == 0)
    return tp_err(TP_EINTERNAL, file, -1, "unknown element kind %d", r->kind);
  if ((rc = tensor_alloc(&t, name, dt, ndim, shape, file, 0)) < 0)
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

int tp__tensor_key_error(const char *file, const char *key,
                         const struct tp_tensor_list *l) {
  char names[400] = "";
  size_t used = 0, shown = l->n < 5 ? l->n : 5;
  for (size_t i = 0; i < shown && used < sizeof names; i++)
    used += (size_t)snprintf(names + used, sizeof names - used, "%s'%s'",
                             i ? ", " : "", l->items[i].name);
  if (l->n == 0)
    return tp_err(TP_EEMPTY, file, -1, "file holds no tensors");
  if (key && *key)
    return tp_err(TP_ENOKEY, file, -1,
                  "tensor '%s' not found (%zu tensors; try 'trainplot posemb "
                  "list %s')",
                  key, l->n, file);
  return tp_err(TP_EAMBIGUOUS, file, -1,
                "file holds %zu tensors (%s%s); choose one with a key", l->n,
                names, l->n > shown ? ", …" : "");
}

int tp_tensor_detect(const char *path, const struct tp_tensor_reader **out) {
  unsigned char head[TP_SNIFF_BYTES];
  size_t got = 0;
  int rc = tp_file_head(path, head, sizeof head, &got);
  *out = NULL;
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < NREADERS; i++)
    if (readers[i]->sniff(head, got)) {
      *out = readers[i];
      return 0;
    }
  return tp_err(TP_EFORMAT, path, -1,
                "unrecognised format (expected .npy, .npz, .safetensors, "
                "torch.save .pt or a text matrix)");
}

/* A generator spec lists as the one tensor it generates. */
static int list_spec(const char *spec, struct tp_tensor_list **out) {
  struct tp_tensor *t;
  struct tp_tensor_list *l;
  int rc = tp_gen_load(spec, &t);
  if (rc < 0)
    return rc;
  if (!(l = tp__tensor_list_new("generator"))) {
    tp_tensor_free(t);
    return tp_err(TP_ENOMEM, spec, -1, "out of memory");
  }
  rc = tp_tensor_list_add(l, spec, t->src_dtype, t->ndim, t->shape);
  tp_tensor_free(t);
  if (rc < 0) {
    tp_tensor_list_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

/* A generator spec is not a file name, so it never reaches the sniffers. */
static int is_spec(const char *path) { return tp_gen_is_spec(path); }

int tp_tensor_list_file(const char *path, struct tp_tensor_list **out) {
  const struct tp_tensor_reader *r;
  unsigned faults = tp_map_faults();
  int rc;
  *out = NULL;
  if ((rc = tp_limits_check()) < 0)
    return rc;
  if (is_spec(path))
    return list_spec(path, out);
  if ((rc = tp_tensor_detect(path, &r)) < 0)
    return rc;
  rc = r->list(path, out);
  if (tp_map_faults() != faults) { /* pages of zeros stood in for the lost end */
    tp_tensor_list_free(*out);
    *out = NULL;
    return tp_map_shrank(path);
  }
  return rc;
}

int tp_tensor_load_file(const char *path, const char *key,
                        struct tp_tensor **out) {
  const struct tp_tensor_reader *r;
  unsigned faults = tp_map_faults();
  int rc;
  *out = NULL;
  if ((rc = tp_limits_check()) < 0)
    return rc;
  if (is_spec(path))
    return tp_gen_load(path, out);
  if ((rc = tp_tensor_detect(path, &r)) < 0)
    return rc;
  rc = r->load(path, key ? key : "", out);
  if (tp_map_faults() != faults) {
    tp_tensor_free(*out);
    *out = NULL;
    return tp_map_shrank(path);
  }
  return rc;
}
