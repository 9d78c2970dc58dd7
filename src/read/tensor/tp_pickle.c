/* A restricted pickle VM: the opcodes torch.save emits, an allowlist of inert globals, no calls.

   Policy. A pickle names callables (GLOBAL) and asks the loader to call them
   (REDUCE, NEWOBJ, BUILD). We never call anything: each allowed name maps to a
   fixed handler that builds plain data, so unpickling cannot run code.
   - torch._utils._rebuild_tensor(_v2) builds a tensor description (storage,
     offset, shape, stride) that the torch reader resolves against bounds-checked
     storage bytes; _rebuild_parameter(_with_state) unwraps to its tensor.
   - torch.*Storage and torch.<dtype> are names only, used inside persistent ids.
   - collections.OrderedDict/defaultdict build a dict.
   - Inert data classes that real checkpoints carry (argparse.Namespace, fairseq
     meters, numpy scalars/arrays, copyreg._reconstructor, builtins containers)
     become an opaque placeholder, or a dict when BUILD gives them a dict state,
     so tensors nested in them are still listed.
   - Any other global is refused when it is named, before anything could use
     it, with the name in the message (os.system, builtins.eval, subprocess.*…). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_numparse.h"
#include "tp_pickle_int.h"

static uint64_t le(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* LONG1/LONG4: little-endian two's complement; beyond 64 bits saturates. */
static int op_long(struct tp_pickle *k, int lenbytes) {
  uint64_t n, v = 0;
  int rc;
  if ((rc = need(k, (uint64_t)lenbytes)) < 0)
    return rc;
  n = le(k->p, lenbytes);
  k->p += lenbytes;
  if ((rc = need(k, n)) < 0)
    return rc;
  if (n > 8) {
    int neg = k->p[n - 1] & 0x80;
    k->p += n;
    return tp__pk_new_int(k, neg ? INT64_MIN : INT64_MAX);
  }
  v = le(k->p, (int)n);
  if (n && n < 8 && (k->p[n - 1] & 0x80))
    v |= ~(uint64_t)0 << (8 * n);
  k->p += n;
  return tp__pk_new_int(k, (int64_t)v);
}

/* A text-protocol argument up to the newline, as a C string in buf. */
static int text_arg(struct tp_pickle *k, char *buf, size_t n) {
  const unsigned char *nl = memchr(k->p, '\n', (size_t)(k->end - k->p));
  if (!nl || (size_t)(nl - k->p) >= n)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle text argument malformed");
  snprintf(buf, n, "%.*s", (int)(nl - k->p), (const char *)k->p);
  k->p = nl + 1;
  return 0;
}

static int op_text_num(struct tp_pickle *k, int op) {
  char buf[64], *end;
  struct tp_pkobj *o = NULL;
  int rc = text_arg(k, buf, sizeof buf);
  if (rc < 0)
    return rc;
  if (op == 'F') {
    const char *s = buf;
    if (!(o = tp__pk_obj_new(k, TP_PK_FLOAT)))
      return TP_ELIMIT;
    while (*s == ' ' || (*s >= '\t' && *s <= '\r')) /* leading white space, as strtod */
      s++;
    o->f = tp_parse_double(s, s + strlen(s), NULL); /* trailing text ignored, as before */
    return push(k, o);
  }
  if (op == 'I' && (!strcmp(buf, "00") || !strcmp(buf, "01"))) {
    if (!(o = tp__pk_obj_new(k, TP_PK_BOOL)))
      return TP_ELIMIT;
    o->i = buf[1] == '1';
    return push(k, o);
  }
  return tp__pk_new_int(k, strtoll(buf, &end, 10));
}

static int op_text_memo(struct tp_pickle *k, int put) {
  char buf[32];
  int rc = text_arg(k, buf, sizeof buf);
  if (rc < 0)
    return rc;
  return put ? tp__pk_op_memo_put(k, strtoull(buf, NULL, 10))
             : tp__pk_op_memo_get(k, strtoull(buf, NULL, 10));
}

static int push_simple(struct tp_pickle *k, enum tp_pk_type t, int64_t i) {
  struct tp_pkobj *o = tp__pk_obj_new(k, t);
  if (o)
    o->i = i;
  return push(k, o);
}

static int op_binfloat(struct tp_pickle *k) {
  struct tp_pkobj *o = NULL;
  uint64_t bits = 0;
  int rc = need(k, 8);
  if (rc < 0)
    return rc;
  for (int i = 0; i < 8; i++) /* big-endian on the wire */
    bits = bits << 8 | k->p[i];
  k->p += 8;
  if (!(o = tp__pk_obj_new(k, TP_PK_FLOAT)))
    return TP_ELIMIT;
  memcpy(&o->f, &bits, 8);
  return push(k, o);
}

/* An opcode with an n-byte little-endian length followed by that many bytes. */
static int op_counted(struct tp_pickle *k, enum tp_pk_type t, int n) {
  uint64_t len;
  int rc = need(k, (uint64_t)n);
  if (rc < 0)
    return rc;
  len = le(k->p, n);
  k->p += n;
  return tp__pk_new_str(k, t, len);
}

/* An opcode with an n-byte little-endian unsigned argument. */
static int arg(struct tp_pickle *k, int n, uint64_t *v) {
  int rc = need(k, (uint64_t)n);
  if (rc < 0)
    return rc;
  *v = le(k->p, n);
  k->p += n;
  return 0;
}

static int op_pop(struct tp_pickle *k) {
  struct tp_pkobj *o = NULL;
  return pop(k, &o);
}

static int op_dup(struct tp_pickle *k) {
  return k->sp ? push(k, k->stack[k->sp - 1])
               : tp_err(TP_ECORRUPT, k->file, off(k), "pickle DUP on an empty stack");
}

static int op_set_or_append(struct tp_pickle *k, int pairs) {
  size_t n = pairs ? 2 : 1;
  size_t floor = k->nmark ? k->marks[k->nmark - 1] : 0;
  if (k->sp < floor + n + 1)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle %s without a target",
                  pairs ? "SETITEM" : "APPEND");
  return tp__pk_fill(k, k->sp - n, pairs);
}

static int op_binint(struct tp_pickle *k, int n) {
  uint64_t v;
  int rc = arg(k, n, &v);
  if (rc < 0)
    return rc;
  return tp__pk_new_int(k, n == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v);
}

static int op_memo_arg(struct tp_pickle *k, int n, int put) {
  uint64_t v;
  int rc = arg(k, n, &v);
  if (rc < 0)
    return rc;
  return put ? tp__pk_op_memo_put(k, v) : tp__pk_op_memo_get(k, v);
}

static int op_pop_mark(struct tp_pickle *k) {
  size_t from = 0;
  int rc = tp__pk_pop_mark(k, &from);
  if (rc == 0)
    k->sp = from;
  return rc;
}

/* PROTO: protocols 2 to 5 are what torch.save and pickle ever write. */
static int op_proto(struct tp_pickle *k) {
  uint64_t v;
  int rc = arg(k, 1, &v);
  if (rc == 0 && (v < 2 || v > 5))
    rc = tp_err(TP_EUNSUPPORTED, k->file, off(k) - 2,
                "pickle protocol %llu is not one that torch.save writes (2 to 5)",
                (unsigned long long)v);
  return rc;
}

/* One opcode; returns 1 at STOP. One flat switch, one line per opcode: a table of handlers
   would need a wrapper per argument shape and read no better, so it stays over 50 lines. */
static int step(struct tp_pickle *k) {
  int op = *k->p++;
  uint64_t v;
  switch (op) {
  case 0x80: return op_proto(k);   /* PROTO */
  case 0x95: return arg(k, 8, &v); /* FRAME: frames are only a hint */
  case '.': return 1;              /* STOP */
  case '(': return tp__pk_op_mark(k);
  case '0': return op_pop(k);
  case '1': return op_pop_mark(k);
  case '2': return op_dup(k);
  case '}': return push(k, tp__pk_obj_new(k, TP_PK_DICT));
  case ']': return push(k, tp__pk_obj_new(k, TP_PK_LIST));
  case ')': return push(k, tp__pk_obj_new(k, TP_PK_TUPLE));
  case 0x8f: return push(k, tp__pk_obj_new(k, TP_PK_LIST)); /* EMPTY_SET as a list */
  case 0x90: return tp__pk_op_fill_mark(k, 0);              /* ADDITEMS */
  case 0x91: return tp__pk_op_collect(k, TP_PK_LIST);       /* FROZENSET */
  case 'd': return tp__pk_op_collect(k, TP_PK_DICT);
  case 'l': return tp__pk_op_collect(k, TP_PK_LIST);
  case 't': return tp__pk_op_collect(k, TP_PK_TUPLE);
  case 0x85: return tp__pk_op_tuple_n(k, 1);
  case 0x86: return tp__pk_op_tuple_n(k, 2);
  case 0x87: return tp__pk_op_tuple_n(k, 3);
  case 's': return op_set_or_append(k, 1);
  case 'u': return tp__pk_op_fill_mark(k, 1);
  case 'a': return op_set_or_append(k, 0);
  case 'e': return tp__pk_op_fill_mark(k, 0);
  case 'q': return op_memo_arg(k, 1, 1);
  case 'r': return op_memo_arg(k, 4, 1);
  case 0x94: return tp__pk_op_memo_put(k, k->nmemo_next++);
  case 'h': return op_memo_arg(k, 1, 0);
  case 'j': return op_memo_arg(k, 4, 0);
  case 'p': return op_text_memo(k, 1);
  case 'g': return op_text_memo(k, 0);
  case 'J': return op_binint(k, 4);
  case 'K': return op_binint(k, 1);
  case 'M': return op_binint(k, 2);
  case 0x8a: return op_long(k, 1);
  case 0x8b: return op_long(k, 4);
  case 'I':
  case 'L':
  case 'F': return op_text_num(k, op);
  case 'G': return op_binfloat(k);
  case 0x8c: return op_counted(k, TP_PK_STR, 1);
  case 'X': return op_counted(k, TP_PK_STR, 4);
  case 0x8d: return op_counted(k, TP_PK_STR, 8);
  case 'U': return op_counted(k, TP_PK_STR, 1); /* legacy byte strings read as text */
  case 'T': return op_counted(k, TP_PK_STR, 4);
  case 'C': return op_counted(k, TP_PK_BYTES, 1);
  case 'B': return op_counted(k, TP_PK_BYTES, 4);
  case 0x8e:
  case 0x96: return op_counted(k, TP_PK_BYTES, 8);
  case 'N': return push_simple(k, TP_PK_NONE, 0);
  case 0x88: return push_simple(k, TP_PK_BOOL, 1);
  case 0x89: return push_simple(k, TP_PK_BOOL, 0);
  case 'c': return tp__pk_op_global(k);
  case 0x93: return tp__pk_op_stack_global(k);
  case 'R':
  case 0x81: return tp__pk_op_reduce(k); /* NEWOBJ: cls(*args) is a call too */
  case 0x92: return tp__pk_op_newobj_ex(k);
  case 'b': return tp__pk_op_build(k);
  case 'Q': return tp__pk_op_persid(k);
  default:
    k->p--;
    return tp_err(TP_EUNSUPPORTED, k->file, off(k),
                  "pickle opcode 0x%02x is not supported (trainplot reads only the "
                  "data opcodes torch.save emits)",
                  op);
  }
}

int tp_pickle_load(const unsigned char *buf, size_t len, const char *file, long long base,
                   struct tp_pickle **out, struct tp_pkobj **root, size_t *used) {
  struct tp_pickle *k = calloc(1, sizeof *k);
  int rc = 0;
  *out = NULL;
  if (!k)
    return tp_err(TP_ENOMEM, file, base, "out of memory");
  k->start = k->p = buf, k->end = buf + len, k->file = file, k->base = base;
  while (rc == 0)
    rc = k->p < k->end ? step(k)
                       : tp_err(TP_ECORRUPT, file, off(k), "pickle ends without STOP (truncated?)");
  if (rc == 1 && k->sp != 1)
    rc = tp_err(TP_ECORRUPT, file, off(k), "pickle stops with %zu values on the stack, expected 1",
                k->sp);
  if (rc < 0) {
    tp_pickle_free(k);
    return rc;
  }
  *root = k->stack[0];
  *used = (size_t)(k->p - buf);
  *out = k;
  return 0;
}
