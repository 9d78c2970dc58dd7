/* The pickle allowlist: the inert globals a pickle may name and what "calling" each builds. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_pickle_int.h"

enum handler { H_NONE, H_TENSOR, H_PARAM, H_DICT, H_OPAQUE, H_STORAGE, H_DTYPE };

struct global {
  const char *module, *name; /* name NULL: any name in module */
  enum handler h;
  const char *dtype; /* storage element type */
  enum tp__kind kind;
  size_t elsize;
};

static const struct global globals[] = {
    {.module = "torch._utils", .name = "_rebuild_tensor_v2", .h = H_TENSOR},
    {.module = "torch._utils", .name = "_rebuild_tensor", .h = H_TENSOR},
    {.module = "torch._utils", .name = "_rebuild_parameter", .h = H_PARAM},
    {.module = "torch._utils", .name = "_rebuild_parameter_with_state", .h = H_PARAM},
    {.module = "collections", .name = "OrderedDict", .h = H_DICT},
    {.module = "collections", .name = "defaultdict", .h = H_DICT},
#define ST(n, d, k, sz) \
  { .module = "torch", .name = n, .h = H_STORAGE, .dtype = d, .kind = k, .elsize = sz }
    ST("FloatStorage", "float32", TP__F32, 4),
    ST("DoubleStorage", "float64", TP__F64, 8),
    ST("HalfStorage", "float16", TP__F16, 2),
    ST("BFloat16Storage", "bfloat16", TP__BF16, 2),
    ST("LongStorage", "int64", 0, 8),
    ST("IntStorage", "int32", 0, 4),
    ST("ShortStorage", "int16", 0, 2),
    ST("CharStorage", "int8", 0, 1),
    ST("ByteStorage", "uint8", 0, 1),
    ST("BoolStorage", "bool", 0, 1),
    ST("ComplexFloatStorage", "complex64", 0, 8),
    ST("ComplexDoubleStorage", "complex128", 0, 16),
    ST("QInt8Storage", "qint8", 0, 1),
    ST("QUInt8Storage", "quint8", 0, 1),
    ST("QInt32Storage", "qint32", 0, 4),
#undef ST
    {.module = "torch", .name = "float32", .h = H_DTYPE},
    {.module = "torch", .name = "float64", .h = H_DTYPE},
    {.module = "torch", .name = "float16", .h = H_DTYPE},
    {.module = "torch", .name = "bfloat16", .h = H_DTYPE},
    {.module = "torch", .name = "int64", .h = H_DTYPE},
    {.module = "torch", .name = "int32", .h = H_DTYPE},
    {.module = "torch", .name = "uint8", .h = H_DTYPE},
    {.module = "torch", .name = "bool", .h = H_DTYPE},
    {.module = "torch", .name = "device", .h = H_OPAQUE},
    {.module = "torch", .name = "Size", .h = H_OPAQUE},
    {.module = "argparse", .name = "Namespace", .h = H_OPAQUE},
    {.module = "fairseq.meters", .name = NULL, .h = H_OPAQUE},
    {.module = "fairseq.logging.meters", .name = NULL, .h = H_OPAQUE},
    {.module = "numpy.core.multiarray", .name = "scalar", .h = H_OPAQUE},
    {.module = "numpy.core.multiarray", .name = "_reconstruct", .h = H_OPAQUE},
    {.module = "numpy", .name = "ndarray", .h = H_OPAQUE},
    {.module = "numpy", .name = "dtype", .h = H_OPAQUE},
    {.module = "_codecs", .name = "encode", .h = H_OPAQUE},
    {.module = "copyreg", .name = "_reconstructor", .h = H_OPAQUE},
    {.module = "builtins", .name = "object", .h = H_OPAQUE},
    {.module = "builtins", .name = "set", .h = H_OPAQUE},
    {.module = "builtins", .name = "frozenset", .h = H_OPAQUE},
    {.module = "builtins", .name = "slice", .h = H_OPAQUE},
    {.module = "builtins", .name = "complex", .h = H_OPAQUE},
    /* plain type names (a defaultdict's factory): placeholders, never called */
    {.module = "builtins", .name = "list", .h = H_OPAQUE},
    {.module = "builtins", .name = "dict", .h = H_OPAQUE},
    {.module = "builtins", .name = "tuple", .h = H_OPAQUE},
    {.module = "builtins", .name = "int", .h = H_OPAQUE},
    {.module = "builtins", .name = "float", .h = H_OPAQUE},
    {.module = "builtins", .name = "str", .h = H_OPAQUE},
    {.module = "builtins", .name = "bytes", .h = H_OPAQUE},
    {.module = "builtins", .name = "bytearray", .h = H_OPAQUE},
    {.module = "builtins", .name = "bool", .h = H_OPAQUE},
};

/* Modules whose names get the stronger message: their callables run code. */
static const char *const dangerous[] = {
    "os",     "posix",   "nt",        "subprocess", "builtins", "__builtin__", "sys",
    "shutil", "socket",  "importlib", "runpy",      "pty",      "ctypes",      "code",
    "pickle", "marshal", "commands",  "webbrowser", "operator", "functools",
};

static const struct global *find_global(const char *mod, const char *name) {
  /* protocols 0-2 write Python 2 module names (pickle's fix_imports) */
  if (!strcmp(mod, "__builtin__"))
    mod = "builtins";
  else if (!strcmp(mod, "copy_reg"))
    mod = "copyreg";
  for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++)
    if (!strcmp(globals[i].module, mod) && (!globals[i].name || !strcmp(globals[i].name, name)))
      return &globals[i];
  return NULL;
}

/* Resolve a module/name pair against the allowlist; anything else is refused here. */
static int push_global(struct tp_pickle *k, const char *mod, const char *name) {
  const struct global *g = find_global(mod, name);
  struct tp_pkobj *o = NULL;
  size_t n = strlen(mod) + strlen(name) + 2;
  if (!g) {
    for (size_t i = 0; i < sizeof dangerous / sizeof dangerous[0]; i++)
      if (!strcmp(mod, dangerous[i]) ||
          (!strncmp(mod, dangerous[i], strlen(dangerous[i])) && mod[strlen(dangerous[i])] == '.'))
        return tp_err(TP_EUNSAFE, k->file, off(k),
                      "refusing to call '%s.%s' (pickles can run code; trainplot never does)", mod,
                      name);
    return tp_err(TP_EUNSAFE, k->file, off(k),
                  "refusing to call unknown global '%s.%s' (pickles can run code; trainplot "
                  "only rebuilds tensors and plain containers)",
                  mod, name);
  }
  if (!(o = tp__pk_obj_new(k, TP_PK_GLOBAL)) || !(o->s = malloc(n)))
    return tp_err(TP_ENOMEM, k->file, off(k), "out of memory");
  snprintf(o->s, n, "%s.%s", mod, name);
  o->len = n - 1;
  o->handler = g->h;
  o->dtype = g->dtype;
  o->kind = g->kind;
  o->elsize = g->elsize;
  return push(k, o);
}

/* GLOBAL: "module\nname\n" in the stream. */
int tp__pk_op_global(struct tp_pickle *k) {
  const unsigned char *nl1 = memchr(k->p, '\n', (size_t)(k->end - k->p)), *nl2;
  char mod[128], name[128];
  if (!nl1 || !(nl2 = memchr(nl1 + 1, '\n', (size_t)(k->end - nl1 - 1))) ||
      nl1 - k->p >= (long)sizeof mod || nl2 - nl1 - 1 >= (long)sizeof name)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle GLOBAL name is malformed or too long");
  snprintf(mod, sizeof mod, "%.*s", (int)(nl1 - k->p), (const char *)k->p);
  snprintf(name, sizeof name, "%.*s", (int)(nl2 - nl1 - 1), (const char *)nl1 + 1);
  k->p = nl2 + 1;
  return push_global(k, mod, name);
}

int tp__pk_op_stack_global(struct tp_pickle *k) {
  struct tp_pkobj *m = NULL, *n = NULL;
  int rc;
  if ((rc = pop(k, &n)) < 0 || (rc = pop(k, &m)) < 0)
    return rc;
  if (m->type != TP_PK_STR || n->type != TP_PK_STR || strlen(m->s) != m->len ||
      strlen(n->s) != n->len)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle STACK_GLOBAL needs two strings");
  return push_global(k, m->s, n->s);
}

/* A non-negative integer element of a tuple. */
static int tuple_uint(struct tp_pickle *k, const struct tp_pkobj *o, uint64_t *v,
                      const char *what) {
  if (o->type != TP_PK_INT || o->i < 0)
    return tp_err(TP_ECORRUPT, k->file, off(k), "torch tensor %s must be a non-negative integer",
                  what);
  *v = (uint64_t)o->i;
  return 0;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, …): a description only. */
static int build_tensor(struct tp_pickle *k, const struct tp_pkobj *a, struct tp_pkobj **out) {
  const struct tp_pkobj *sz, *st;
  struct tp_pkobj *t;
  int rc;
  if (a->type != TP_PK_TUPLE || a->n < 4 || a->v[0]->type != TP_PK_STORAGE ||
      (sz = a->v[2])->type != TP_PK_TUPLE || (st = a->v[3])->type != TP_PK_TUPLE || sz->n != st->n)
    return tp_err(TP_ECORRUPT, k->file, off(k),
                  "torch _rebuild_tensor needs (storage, offset, size, stride) with "
                  "matching size and stride");
  if (sz->n > TP_MAXDIM)
    return tp_err(TP_EUNSUPPORTED, k->file, off(k),
                  "torch tensor has %zu dimensions, at most %d are supported", sz->n, TP_MAXDIM);
  if (!(t = tp__pk_obj_new(k, TP_PK_TENSOR)))
    return TP_ELIMIT;
  t->storage = a->v[0];
  t->ndim = (int)sz->n;
  if ((rc = tuple_uint(k, a->v[1], &t->offset, "offset")) < 0)
    return rc;
  for (size_t i = 0; i < sz->n; i++)
    if ((rc = tuple_uint(k, sz->v[i], &t->shape[i], "size")) < 0 ||
        (rc = tuple_uint(k, st->v[i], &t->stride[i], "stride")) < 0)
      return rc;
  *out = t;
  return 0;
}

/* What calling the allowlisted global g with args a would give, built as data. */
static int call(struct tp_pickle *k, struct tp_pkobj *g, struct tp_pkobj *a) {
  struct tp_pkobj *o = NULL;
  int rc;
  if (g->type != TP_PK_GLOBAL)
    return tp_err(TP_EUNSUPPORTED, k->file, off(k),
                  "pickle calls something that is not an allowed global");
  switch (g->handler) {
  case H_TENSOR:
    if ((rc = build_tensor(k, a, &o)) < 0)
      return rc;
    break;
  case H_PARAM:
    if (a->type != TP_PK_TUPLE || a->n < 1 || a->v[0]->type != TP_PK_TENSOR)
      return tp_err(TP_ECORRUPT, k->file, off(k), "torch _rebuild_parameter needs a tensor");
    o = a->v[0];
    break;
  case H_DICT: o = tp__pk_obj_new(k, TP_PK_DICT); break;
  default:
    if ((o = tp__pk_obj_new(k, TP_PK_OPAQUE)) && !(o->s = strdup(g->s)))
      return tp_err(TP_ENOMEM, k->file, off(k), "out of memory");
    if (o)
      o->len = g->len;
    break;
  }
  return push(k, o);
}

int tp__pk_op_reduce(struct tp_pickle *k) {
  struct tp_pkobj *f = NULL, *a = NULL;
  int rc;
  if ((rc = pop(k, &a)) < 0 || (rc = pop(k, &f)) < 0)
    return rc;
  return call(k, f, a);
}

int tp__pk_op_newobj_ex(struct tp_pickle *k) {
  struct tp_pkobj *kw = NULL;
  int rc = pop(k, &kw);
  return rc < 0 ? rc : tp__pk_op_reduce(k);
}

/* BUILD: an inert object given a dict state becomes that dict; other states are dropped. */
int tp__pk_op_build(struct tp_pickle *k) {
  struct tp_pkobj *st = NULL, *o = NULL;
  int rc;
  if ((rc = pop(k, &st)) < 0 || (rc = pop(k, &o)) < 0)
    return rc;
  if (st->type == TP_PK_TUPLE && st->n == 2 && st->v[0]->type == TP_PK_DICT)
    st = st->v[0];
  if (o->type == TP_PK_OPAQUE && st->type == TP_PK_DICT) {
    o->type = TP_PK_DICT;
    o->n = 0;
    for (size_t i = 0; i < st->n; i++)
      if ((rc = tp__pk_add_item(k, o, st->v[i])) < 0)
        return rc;
  }
  return push(k, o);
}

/* BINPERSID: ('storage', type, key, location, numel[, (view_key, offset, size)]). */
int tp__pk_op_persid(struct tp_pickle *k) {
  struct tp_pkobj *pid = NULL, *s, *ty;
  int rc;
  if ((rc = pop(k, &pid)) < 0)
    return rc;
  if (pid->type != TP_PK_TUPLE || pid->n < 5 || pid->v[0]->type != TP_PK_STR ||
      strcmp(pid->v[0]->s, "storage") || (ty = pid->v[1])->type != TP_PK_GLOBAL ||
      ty->handler != H_STORAGE || pid->v[2]->type != TP_PK_STR)
    return tp_err(TP_EUNSUPPORTED, k->file, off(k),
                  "pickle persistent id is not a torch storage reference");
  if (!(s = tp__pk_obj_new(k, TP_PK_STORAGE)))
    return TP_ELIMIT;
  if (!(s->s = strdup(pid->v[2]->s)))
    return tp_err(TP_ENOMEM, k->file, off(k), "out of memory");
  s->len = strlen(s->s);
  s->dtype = ty->dtype, s->kind = ty->kind, s->elsize = ty->elsize;
  if ((rc = tuple_uint(k, pid->v[4], &s->numel, "storage size")) < 0)
    return rc;
  if (pid->n > 5 && pid->v[5]->type == TP_PK_TUPLE && pid->v[5]->n == 3 &&
      (rc = tuple_uint(k, pid->v[5]->v[1], &s->view_offset, "view offset")) < 0)
    return rc;
  return push(k, s);
}
