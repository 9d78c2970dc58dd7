/* Text matrix reader: rows of numbers split by whitespace or commas, with # comments. */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_numparse.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_tensor_raw.h"

#define MATRIX_NAME "matrix"

/* Growing row-major values plus the running shape. */
struct acc {
  double *v;
  uint64_t n, cap, rows, cols;
};

/* Text when no byte is binary and the first data line starts like a number;
   later lines are checked by the parser, which names the line that breaks. */
static int textmat_sniff(const unsigned char *h, size_t len) {
  int comment = 0, first = -1;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = h[i];
    if (c == '\n')
      comment = 0;
    else if (c == 0 || c == 0x7f || (c < 0x20 && c != '\t' && c != '\r'))
      return 0;
    else if (comment || c == '#')
      comment = 1;
    else if (first < 0 && c != ' ' && c != '\t' && c != '\r')
      first = c;
  }
  return first >= 0 && (isdigit(first) || strchr("+-.nNiI", first));
}

static int acc_push(struct acc *a, double x, const char *path, long line) {
  if (a->n == a->cap) {
    uint64_t cap = a->cap ? a->cap * 2 : 256, bytes;
    double *v;
    if (tp_size_mul(cap, sizeof *v, &bytes, path) < 0 ||
        tp_size_check(bytes, path, "text matrix") < 0 ||
        cap > tp_limits_get()->max_elements * 2 + 256)
      return tp_err_line(TP_ELIMIT, path, line, "text matrix is larger than the limits allow");
    if (!(v = realloc(a->v, (size_t)bytes)))
      return tp_err_line(TP_ENOMEM, path, line, "out of memory");
    a->v = v;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return 0;
}

/* Parse one line (NUL-terminated copy, comment already cut); appends its numbers. */
static int parse_line(struct acc *a, const char *s, const char *path, long line) {
  const char *le = s + strlen(s);
  uint64_t cols = 0;
  int commas = 0, rc;
  for (;;) {
    const char *end;
    double x;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == ',')
      commas += *s++ == ',';
    if (!*s)
      break;
    if (commas > (cols ? 1 : 0))
      return tp_err_line(TP_ECORRUPT, path, line, "empty field between commas in column %llu",
                         (unsigned long long)cols + 1);
    x = tp_parse_double(s, le, &end);
    if (end == s || (*end && !strchr(" \t\r,", *end)))
      return tp_err_line(TP_ECORRUPT, path, line, "expected a number in column %llu, found '%.20s'",
                         (unsigned long long)cols + 1, s);
    if ((rc = acc_push(a, x, path, line)) < 0)
      return rc;
    cols++, commas = 0, s = end;
  }
  if (commas && cols)
    return tp_err_line(TP_ECORRUPT, path, line, "line ends with a comma");
  if (cols && a->rows && cols != a->cols)
    return tp_err_line(TP_ECORRUPT, path, line,
                       "row has %llu values but the rows before have %llu; "
                       "every row must have the same width",
                       (unsigned long long)cols, (unsigned long long)a->cols);
  if (cols)
    a->cols = cols, a->rows++;
  return 0;
}

/* Read the whole file into a; each line is copied to cut its comment and find NUL bytes. */
static int read_all(const char *path, struct acc *a) {
  struct tp_map m;
  char *buf = NULL;
  size_t pos = 0;
  long line = 0;
  int rc = tp_map_open(path, &m);
  if (rc < 0)
    return rc;
  while (rc == 0 && pos < m.size) {
    const unsigned char *nl = memchr(m.data + pos, '\n', m.size - pos);
    size_t full = nl ? (size_t)(nl - (m.data + pos)) : m.size - pos;
    size_t len = full;
    const unsigned char *hash = memchr(m.data + pos, '#', len);
    char *nb = realloc(buf, len + 1);
    line++;
    if (!nb) {
      rc = tp_err_line(TP_ENOMEM, path, line, "out of memory");
      break;
    }
    buf = nb;
    if (hash)
      len = (size_t)(hash - (m.data + pos));
    memcpy(buf, m.data + pos, len);
    buf[len] = '\0';
    if (strlen(buf) != len)
      rc = tp_err_line(TP_ECORRUPT, path, line, "NUL byte in a text matrix");
    else
      rc = parse_line(a, buf, path, line);
    pos += full + 1;
  }
  free(buf);
  tp_map_close(&m);
  if (rc == 0 && a->rows == 0)
    rc = tp_err(TP_EEMPTY, path, -1, "text matrix has no numbers");
  return rc;
}

static int textmat_list(const char *path, struct tp_tensor_list **out) {
  struct acc a = {0};
  struct tp_tensor_list *l;
  uint64_t shape[2];
  int rc = read_all(path, &a);
  free(a.v);
  *out = NULL;
  if (rc < 0)
    return rc;
  shape[0] = a.rows, shape[1] = a.cols;
  if (!(l = tp__tensor_list_new("text")))
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  if ((rc = tp_tensor_list_add(l, MATRIX_NAME, "float64", 2, shape)) < 0) {
    tp_tensor_list_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

static int textmat_load(const char *path, const char *key, struct tp_tensor **out) {
  struct acc a = {0};
  struct tp__raw r = {0};
  uint64_t shape[2];
  int rc;
  *out = NULL;
  if (*key && strcmp(key, MATRIX_NAME) != 0)
    return tp_err(TP_ENOKEY, path, -1,
                  "tensor '%s' not found (a text matrix holds one tensor, "
                  "'" MATRIX_NAME "')",
                  key);
  if ((rc = read_all(path, &a)) == 0) {
    shape[0] = a.rows, shape[1] = a.cols;
    r.base = (const unsigned char *)a.v;
    r.nelem = a.n;
    r.kind = TP__F64;
    r.big_endian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
    tp__strides_contig(&r, 2, shape, 0);
    rc = tp__tensor_from_raw(out, MATRIX_NAME, 2, shape, &r, path);
  }
  free(a.v);
  return rc;
}

const struct tp_tensor_reader tp_textmat_reader = {
    .name = "text",
    .summary = "text matrix: numbers split by whitespace or commas, # comments",
    .sniff = textmat_sniff,
    .list = textmat_list,
    .load = textmat_load,
};
