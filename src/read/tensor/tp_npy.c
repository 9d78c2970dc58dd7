/* NumPy .npy reader (format versions 1, 2 and 3): float16/32/64, either byte order, C or Fortran
 * order. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_npy.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_tensor_raw.h"

#define NPY_NAME "array"
static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* What the header dictionary says. */
struct npy_hdr {
  enum tp__kind kind;
  int big_endian, fortran, ndim;
  uint64_t shape[TP_MAXDIM];
  size_t data_off; /* first data byte */
  uint64_t data_bytes;
};

/* A cursor over the header text; errors report offsets in the file. */
struct cur {
  const char *s, *end, *file;
  size_t base; /* file offset of s at start */
  const char *start;
};

static long long cur_off(const struct cur *c) {
  return (long long)(c->base + (size_t)(c->s - c->start));
}

static void skip_ws(struct cur *c) {
  while (c->s < c->end && (*c->s == ' ' || *c->s == '\t'))
    c->s++;
}

static int expect(struct cur *c, char ch, const char *what) {
  skip_ws(c);
  if (c->s >= c->end || *c->s != ch)
    return tp_err(TP_ECORRUPT, c->file, cur_off(c), "npy header: expected '%c' %s", ch, what);
  c->s++;
  return 0;
}

/* A quoted Python string without escapes, copied into buf. */
static int parse_str(struct cur *c, char *buf, size_t n) {
  char q;
  size_t len = 0;
  skip_ws(c);
  if (c->s >= c->end || (*c->s != '\'' && *c->s != '"'))
    return tp_err(TP_ECORRUPT, c->file, cur_off(c), "npy header: expected a quoted string");
  q = *c->s++;
  while (c->s < c->end && *c->s != q) {
    if (*c->s == '\\' || len + 1 >= n)
      return tp_err(TP_ECORRUPT, c->file, cur_off(c), "npy header: string too long or escaped");
    buf[len++] = *c->s++;
  }
  buf[len] = '\0';
  return expect(c, q, "to close the string");
}

static int parse_bool(struct cur *c, int *v) {
  skip_ws(c);
  if ((size_t)(c->end - c->s) >= 4 && !memcmp(c->s, "True", 4))
    return *v = 1, c->s += 4, 0;
  if ((size_t)(c->end - c->s) >= 5 && !memcmp(c->s, "False", 5))
    return *v = 0, c->s += 5, 0;
  return tp_err(TP_ECORRUPT, c->file, cur_off(c),
                "npy header: fortran_order must be True or False");
}

/* A tuple of non-negative integers: (), (n,), (a, b, …). */
static int parse_shape(struct cur *c, struct npy_hdr *h) {
  int rc = expect(c, '(', "to open the shape tuple");
  for (h->ndim = 0; rc == 0;) {
    uint64_t v = 0;
    skip_ws(c);
    if (c->s < c->end && *c->s == ')')
      return c->s++, 0;
    if (h->ndim == TP_MAXDIM)
      return tp_err(TP_EUNSUPPORTED, c->file, cur_off(c), "npy shape has more than %d dimensions",
                    TP_MAXDIM);
    if (c->s >= c->end || *c->s < '0' || *c->s > '9')
      return tp_err(TP_ECORRUPT, c->file, cur_off(c),
                    "npy header: shape entries must be non-negative integers");
    for (; c->s < c->end && *c->s >= '0' && *c->s <= '9'; c->s++) {
      if (v > (UINT64_MAX - 9) / 10)
        return tp_err(TP_EOVERFLOW, c->file, cur_off(c), "npy shape entry overflows 64 bits");
      v = v * 10 + (uint64_t)(*c->s - '0');
    }
    if (c->s < c->end && *c->s == 'L') /* Python 2 long */
      c->s++;
    h->shape[h->ndim++] = v;
    skip_ws(c);
    if (c->s < c->end && *c->s == ',')
      c->s++;
    else
      return expect(c, ')', "to close the shape tuple");
  }
  return rc;
}

/* descr such as '<f4', '>f8', '|f2' or 'f4' (native). */
static int parse_descr(const char *d, struct npy_hdr *h, const char *file) {
  const char *t = d;
  int native_big = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
  h->big_endian = native_big;
  if (*t == '<' || *t == '>' || *t == '=' || *t == '|')
    h->big_endian = *t == '>' ? 1 : *t == '<' ? 0 : native_big, t++;
  if (!strcmp(t, "f2"))
    h->kind = TP__F16;
  else if (!strcmp(t, "f4"))
    h->kind = TP__F32;
  else if (!strcmp(t, "f8"))
    h->kind = TP__F64;
  else
    return tp_err(TP_EUNSUPPORTED, file, -1,
                  "npy dtype '%s' is not supported (expected float16, "
                  "float32 or float64: f2, f4, f8)",
                  d);
  return 0;
}

/* One "key: value" pair of the header dict; seen is a bitmask of keys met. */
static int parse_item(struct cur *c, struct npy_hdr *h, int *seen) {
  char key[32], descr[32];
  int rc, bit;
  if ((rc = parse_str(c, key, sizeof key)) < 0 || (rc = expect(c, ':', "after a key")) < 0)
    return rc;
  bit = !strcmp(key, "descr")           ? 1
        : !strcmp(key, "fortran_order") ? 2
        : !strcmp(key, "shape")         ? 4
                                        : 0;
  if (!bit || (*seen & bit))
    return tp_err(TP_ECORRUPT, c->file, cur_off(c), "npy header: %s key '%s'",
                  bit ? "repeated" : "unexpected", key);
  *seen |= bit;
  if (bit == 2)
    return parse_bool(c, &h->fortran);
  if (bit == 4)
    return parse_shape(c, h);
  skip_ws(c);
  if (c->s < c->end && *c->s == '[')
    return tp_err(TP_EUNSUPPORTED, c->file, cur_off(c), "npy structured dtypes are not supported");
  if ((rc = parse_str(c, descr, sizeof descr)) < 0)
    return rc;
  return parse_descr(descr, h, c->file);
}

/* The dict literal: exactly descr, fortran_order and shape, then spaces and '\n'. */
static int parse_dict(struct cur *c, struct npy_hdr *h) {
  int seen = 0, rc = expect(c, '{', "to open the header dict");
  while (rc == 0) {
    skip_ws(c);
    if (c->s < c->end && *c->s == '}')
      break;
    if ((rc = parse_item(c, h, &seen)) < 0)
      return rc;
    skip_ws(c);
    if (c->s < c->end && *c->s == ',')
      c->s++;
    else if (c->s >= c->end || *c->s != '}')
      return tp_err(TP_ECORRUPT, c->file, cur_off(c), "npy header: expected ',' or '}'");
  }
  if (rc < 0 || (rc = expect(c, '}', "to close the header dict")) < 0)
    return rc;
  if (seen != 7)
    return tp_err(TP_ECORRUPT, c->file, -1, "npy header lacks %s",
                  !(seen & 1)   ? "'descr'"
                  : !(seen & 2) ? "'fortran_order'"
                                : "'shape'");
  while (c->s < c->end && *c->s == ' ')
    c->s++;
  if (c->end - c->s != 1 || *c->s != '\n')
    return tp_err(TP_ECORRUPT, c->file, cur_off(c),
                  "npy header must end with spaces and a newline");
  return 0;
}

/* Magic, version, header length and dict; data size checked against size. */
static int parse_header(const unsigned char *b, size_t size, const char *file, struct npy_hdr *h,
                        int need_data) {
  size_t lenw, hlen;
  struct cur c;
  uint64_t count = 1, avail;
  int rc;
  memset(h, 0, sizeof *h);
  if (size < 10 || memcmp(b, npy_magic, 6))
    return tp_err(TP_EFORMAT, file, 0, "not a .npy file (no \\x93NUMPY magic)");
  if (b[6] < 1 || b[6] > 3 || b[7] != 0)
    return tp_err(TP_EUNSUPPORTED, file, 6,
                  "npy format version %u.%u is not supported (1.0, 2.0, 3.0 are)", b[6], b[7]);
  lenw = b[6] == 1 ? 2 : 4;
  if (size < 8 + lenw)
    return tp_err(TP_ECORRUPT, file, 8, "npy file truncated in its header length");
  hlen = b[8] | (size_t)b[9] << 8;
  if (lenw == 4)
    hlen |= (size_t)b[10] << 16 | (size_t)b[11] << 24;
  if (hlen > size - 8 - lenw)
    return tp_err(TP_ECORRUPT, file, 8, "npy header claims %zu bytes but the file has %zu after it",
                  hlen, size - 8 - lenw);
  c.start = c.s = (const char *)b + 8 + lenw;
  c.end = c.s + hlen, c.file = file, c.base = 8 + lenw;
  if ((rc = parse_dict(&c, h)) < 0)
    return rc;
  h->data_off = 8 + lenw + hlen;
  for (int i = 0; i < h->ndim; i++)
    if ((rc = tp_size_mul(count, h->shape[i], &count, file)) < 0)
      return rc;
  if ((rc = tp_size_mul(count, tp__kind_size(h->kind), &h->data_bytes, file)) < 0)
    return rc;
  avail = size - h->data_off;
  if (need_data && avail != h->data_bytes)
    return tp_err(TP_ECORRUPT, file, (long long)h->data_off,
                  "npy header promises %llu data bytes but the file holds %llu%s",
                  (unsigned long long)h->data_bytes, (unsigned long long)avail,
                  avail < h->data_bytes ? " (truncated?)" : "");
  return 0;
}

int tp__npy_expected_size(const unsigned char *buf, size_t size, const char *file,
                          uint64_t *total) {
  struct npy_hdr h;
  int rc = parse_header(buf, size, file, &h, 0);
  if (rc == 0 && h.data_off + h.data_bytes < h.data_bytes)
    rc = tp_err(TP_EOVERFLOW, file, -1, "npy size overflows 64 bits");
  if (rc == 0)
    *total = h.data_off + h.data_bytes;
  return rc;
}

int tp__npy_load_mem(const unsigned char *buf, size_t size, const char *name, const char *file,
                     struct tp_tensor **out) {
  struct npy_hdr h;
  struct tp__raw r = {0};
  int rc = parse_header(buf, size, file, &h, 1);
  *out = NULL;
  if (rc < 0)
    return rc;
  r.base = buf + h.data_off;
  r.nelem = h.data_bytes / tp__kind_size(h.kind);
  r.kind = h.kind;
  r.big_endian = h.big_endian;
  tp__strides_contig(&r, h.ndim, h.shape, h.fortran);
  return tp__tensor_from_raw(out, name, h.ndim, h.shape, &r, file);
}

int tp__npy_list_mem(const unsigned char *buf, size_t size, const char *name, const char *file,
                     struct tp_tensor_list *l) {
  struct npy_hdr h;
  int rc = parse_header(buf, size, file, &h, 0);
  if (rc < 0)
    return rc;
  return tp_tensor_list_add(l, name, tp__kind_name(h.kind), h.ndim, h.shape);
}

static int npy_sniff(const unsigned char *head, size_t len) {
  return len >= 8 && memcmp(head, npy_magic, 6) == 0;
}

static int npy_list(const char *path, struct tp_tensor_list **out) {
  struct tp_map m;
  struct tp_tensor_list *l = tp__tensor_list_new("npy");
  int rc;
  *out = NULL;
  if (!l)
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  if ((rc = tp_map_open(path, &m)) == 0) {
    rc = tp__npy_list_mem(m.data, m.size, NPY_NAME, path, l);
    tp_map_close(&m);
  }
  if (rc < 0)
    tp_tensor_list_free(l);
  else
    *out = l;
  return rc;
}

static int npy_load(const char *path, const char *key, struct tp_tensor **out) {
  struct tp_map m;
  int rc;
  *out = NULL;
  if (*key && strcmp(key, NPY_NAME) != 0)
    return tp_err(TP_ENOKEY, path, -1,
                  "tensor '%s' not found (a .npy file holds one tensor, '" NPY_NAME "')", key);
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  rc = tp__npy_load_mem(m.data, m.size, NPY_NAME, path, out);
  tp_map_close(&m);
  return rc;
}

const struct tp_tensor_reader tp_npy_reader = {
    .name = "npy",
    .summary = "NumPy .npy v1-v3: float16/32/64, either byte order, C or Fortran order",
    .sniff = npy_sniff,
    .list = npy_list,
    .load = npy_load,
};
