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

#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_numparse.h"
#include "tp_pickle.h"

#define PK_MAX_STACK (1u << 20)
#define PK_MAX_MEMO (1u << 24)
#define PK_MAX_OBJS (1u << 22)
/* Memory a pickle may make us spend describing it, whatever its own size. */
#define PK_MAX_BYTES (1ull << 30)

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
#define ST(n, d, k, sz) {.module = "torch", .name = n, .h = H_STORAGE, .dtype = d, .kind = k, .elsize = sz}
    ST("FloatStorage", "float32", TP__F32, 4), ST("DoubleStorage", "float64", TP__F64, 8),
    ST("HalfStorage", "float16", TP__F16, 2), ST("BFloat16Storage", "bfloat16", TP__BF16, 2),
    ST("LongStorage", "int64", 0, 8), ST("IntStorage", "int32", 0, 4),
    ST("ShortStorage", "int16", 0, 2), ST("CharStorage", "int8", 0, 1),
    ST("ByteStorage", "uint8", 0, 1), ST("BoolStorage", "bool", 0, 1),
    ST("ComplexFloatStorage", "complex64", 0, 8), ST("ComplexDoubleStorage", "complex128", 0, 16),
    ST("QInt8Storage", "qint8", 0, 1), ST("QUInt8Storage", "quint8", 0, 1),
    ST("QInt32Storage", "qint32", 0, 4),
#undef ST
    {.module = "torch", .name = "float32", .h = H_DTYPE}, {.module = "torch", .name = "float64", .h = H_DTYPE},
    {.module = "torch", .name = "float16", .h = H_DTYPE}, {.module = "torch", .name = "bfloat16", .h = H_DTYPE},
    {.module = "torch", .name = "int64", .h = H_DTYPE}, {.module = "torch", .name = "int32", .h = H_DTYPE},
    {.module = "torch", .name = "uint8", .h = H_DTYPE}, {.module = "torch", .name = "bool", .h = H_DTYPE},
    {.module = "torch", .name = "device", .h = H_OPAQUE}, {.module = "torch", .name = "Size", .h = H_OPAQUE},
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
    "os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys",
    "shutil", "socket", "importlib", "runpy", "pty", "ctypes", "code",
    "pickle", "marshal", "commands", "webbrowser", "operator", "functools",
};

struct tp_pickle {
  const unsigned char *start, *p, *end;
  const char *file;
  long long base;
  struct tp_pkobj **stack, **memo, **all;
  size_t sp, scap, nmemo, nall, acap;
  uint64_t nmemo_next; /* MEMOIZE stores at the next free index */
  uint64_t spent;      /* bytes allocated for objects, items and strings */
  size_t *marks, nmark, mcap;
};

static long long off(const struct tp_pickle *k) {
  return k->base + (long long)(k->p - k->start);
}

/* Charge n bytes against the pickle's budget. */
static int spend(struct tp_pickle *k, uint64_t n) {
  uint64_t cap = tp_limits_get()->max_bytes < PK_MAX_BYTES ? tp_limits_get()->max_bytes
                                                           : PK_MAX_BYTES;
  k->spent += n;
  return k->spent > cap ? -1 : 0;
}

/* Grow an array of n items of size sz to hold one more, up to max. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max) {
  size_t c = *cap ? *cap * 2 : 4;
  void *a;
  if (n < *cap)
    return 0;
  if (n >= max)
    return -1;
  if (!(a = realloc(*arr, c * sz)))
    return -1;
  *arr = a, *cap = c;
  return 0;
}

static struct tp_pkobj *obj_new(struct tp_pickle *k, enum tp_pk_type t) {
  struct tp_pkobj *o = NULL;
  if (spend(k, sizeof *o + sizeof *k->all) < 0 ||
      grow((void **)&k->all, &k->acap, k->nall, sizeof *k->all, PK_MAX_OBJS) < 0 ||
      !(o = calloc(1, sizeof *o))) {
    tp_err(TP_ELIMIT, k->file, off(k), "pickle builds too many objects or memory ran out");
    return NULL;
  }
  o->type = t;
  k->all[k->nall++] = o;
  return o;
}

static int push(struct tp_pickle *k, struct tp_pkobj *o) {
  if (!o)
    return TP_ELIMIT;
  if (grow((void **)&k->stack, &k->scap, k->sp, sizeof *k->stack, PK_MAX_STACK) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k), "pickle stack exceeds %u entries", PK_MAX_STACK);
  k->stack[k->sp++] = o;
  return 0;
}

static int pop(struct tp_pickle *k, struct tp_pkobj **o) {
  size_t floor = k->nmark ? k->marks[k->nmark - 1] : 0;
  if (k->sp <= floor)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle stack underflow");
  *o = k->stack[--k->sp];
  return 0;
}

/* Append to a list/tuple/dict item array. */
static int add_item(struct tp_pickle *k, struct tp_pkobj *c, struct tp_pkobj *x) {
  if ((c->n == c->cap && spend(k, (c->cap ? c->cap : 4) * sizeof *c->v) < 0) ||
      grow((void **)&c->v, &c->cap, c->n, sizeof *c->v, PK_MAX_OBJS) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k), "pickle container too large or over the memory budget");
  c->v[c->n++] = x;
  return 0;
}

/* Need n more bytes of the stream. */
static int need(struct tp_pickle *k, uint64_t n) {
  if ((uint64_t)(k->end - k->p) < n)
    return tp_err(TP_ECORRUPT, k->file, off(k),
                  "pickle truncated: needs %llu more bytes", (unsigned long long)n);
  return 0;
}

static uint64_t le(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static int new_str(struct tp_pickle *k, enum tp_pk_type t, uint64_t n) {
  struct tp_pkobj *o = NULL;
  int rc;
  if ((rc = need(k, n)) < 0)
    return rc;
  if (spend(k, n + 1) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k), "pickle strings exceed the memory budget");
  if (!(o = obj_new(k, t)) || !(o->s = malloc((size_t)n + 1)))
    return tp_err(TP_ENOMEM, k->file, off(k), "out of memory");
  memcpy(o->s, k->p, (size_t)n);
  o->s[n] = '\0';
  o->len = (size_t)n;
  k->p += n;
  return push(k, o);
}

static int new_int(struct tp_pickle *k, int64_t v) {
  struct tp_pkobj *o = obj_new(k, TP_PK_INT);
  if (o)
    o->i = v;
  return push(k, o);
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
    return new_int(k, neg ? INT64_MIN : INT64_MAX);
  }
  v = le(k->p, (int)n);
  if (n && n < 8 && (k->p[n - 1] & 0x80))
    v |= ~(uint64_t)0 << (8 * n);
  k->p += n;
  return new_int(k, (int64_t)v);
}

static int op_memo_put(struct tp_pickle *k, uint64_t id) {
  if (k->sp == 0)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle memoizes an empty stack");
  if (id >= PK_MAX_MEMO)
    return tp_err(TP_ELIMIT, k->file, off(k), "pickle memo index %llu too large",
                  (unsigned long long)id);
  while (k->nmemo <= id) {
    size_t c = k->nmemo ? k->nmemo * 2 : 256;
    struct tp_pkobj **m = realloc(k->memo, c * sizeof *m);
    if (!m)
      return tp_err(TP_ENOMEM, k->file, off(k), "out of memory");
    memset(m + k->nmemo, 0, (c - k->nmemo) * sizeof *m);
    k->memo = m, k->nmemo = c;
  }
  k->memo[id] = k->stack[k->sp - 1];
  if (id >= k->nmemo_next)
    k->nmemo_next = id + 1;
  return 0;
}

static int op_memo_get(struct tp_pickle *k, uint64_t id) {
  if (id >= k->nmemo || !k->memo[id])
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle reads memo %llu that was never stored",
                  (unsigned long long)id);
  return push(k, k->memo[id]);
}

static int op_mark(struct tp_pickle *k) {
  if (grow((void **)&k->marks, &k->mcap, k->nmark, sizeof *k->marks, PK_MAX_STACK) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k), "too many pickle marks");
  k->marks[k->nmark++] = k->sp;
  return 0;
}

/* Pop everything above the last mark into a new container of type t. */
static int pop_mark(struct tp_pickle *k, size_t *from) {
  if (!k->nmark)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle uses a mark it never set");
  *from = k->marks[--k->nmark];
  return 0;
}

static int op_collect(struct tp_pickle *k, enum tp_pk_type t) {
  size_t from = 0;
  struct tp_pkobj *o = NULL;
  int rc = pop_mark(k, &from);
  if (rc < 0)
    return rc;
  if (t == TP_PK_DICT && (k->sp - from) % 2)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle DICT with an odd number of items");
  if (!(o = obj_new(k, t)))
    return TP_ELIMIT;
  for (size_t i = from; i < k->sp; i++)
    if ((rc = add_item(k, o, k->stack[i])) < 0)
      return rc;
  k->sp = from;
  return push(k, o);
}

static int op_tuple_n(struct tp_pickle *k, size_t n) {
  struct tp_pkobj *o = obj_new(k, TP_PK_TUPLE);
  size_t floor = k->nmark ? k->marks[k->nmark - 1] : 0;
  int rc;
  if (!o)
    return TP_ELIMIT;
  if (k->sp < floor + n)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle stack underflow in TUPLE%zu", n);
  for (size_t i = k->sp - n; i < k->sp; i++)
    if ((rc = add_item(k, o, k->stack[i])) < 0)
      return rc;
  k->sp -= n;
  return push(k, o);
}

/* APPEND(S)/SETITEM(S): items from `from` onward go into the object below them. */
static int fill(struct tp_pickle *k, size_t from, int pairs) {
  struct tp_pkobj *c;
  int rc;
  if (from == 0 || (pairs && (k->sp - from) % 2))
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle %s without a target",
                  pairs ? "SETITEMS" : "APPENDS");
  c = k->stack[from - 1];
  if (pairs ? c->type != TP_PK_DICT : c->type != TP_PK_LIST && c->type != TP_PK_OPAQUE)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle adds items to a non-%s",
                  pairs ? "dict" : "list");
  for (size_t i = from; i < k->sp; i++)
    if ((rc = add_item(k, c, k->stack[i])) < 0)
      return rc;
  k->sp = from;
  return 0;
}

static int op_fill_mark(struct tp_pickle *k, int pairs) {
  size_t from = 0;
  int rc = pop_mark(k, &from);
  return rc < 0 ? rc : fill(k, from, pairs);
}

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
      if (!strcmp(mod, dangerous[i]) || (!strncmp(mod, dangerous[i], strlen(dangerous[i])) &&
                                         mod[strlen(dangerous[i])] == '.'))
        return tp_err(TP_EUNSAFE, k->file, off(k),
                      "refusing to call '%s.%s' (pickles can run code; trainplot never does)",
                      mod, name);
    return tp_err(TP_EUNSAFE, k->file, off(k),
                  "refusing to call unknown global '%s.%s' (pickles can run code; trainplot "
                  "only rebuilds tensors and plain containers)", mod, name);
  }
  if (!(o = obj_new(k, TP_PK_GLOBAL)) || !(o->s = malloc(n)))
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
static int op_global(struct tp_pickle *k) {
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

static int op_stack_global(struct tp_pickle *k) {
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
    return tp_err(TP_ECORRUPT, k->file, off(k),
                  "torch tensor %s must be a non-negative integer", what);
  *v = (uint64_t)o->i;
  return 0;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, …): a description only. */
static int build_tensor(struct tp_pickle *k, const struct tp_pkobj *a,
                        struct tp_pkobj **out) {
  const struct tp_pkobj *sz, *st;
  struct tp_pkobj *t;
  int rc;
  if (a->type != TP_PK_TUPLE || a->n < 4 || a->v[0]->type != TP_PK_STORAGE ||
      (sz = a->v[2])->type != TP_PK_TUPLE || (st = a->v[3])->type != TP_PK_TUPLE ||
      sz->n != st->n)
    return tp_err(TP_ECORRUPT, k->file, off(k),
                  "torch _rebuild_tensor needs (storage, offset, size, stride) with "
                  "matching size and stride");
  if (sz->n > TP_MAXDIM)
    return tp_err(TP_EUNSUPPORTED, k->file, off(k),
                  "torch tensor has %zu dimensions, at most %d are supported", sz->n, TP_MAXDIM);
  if (!(t = obj_new(k, TP_PK_TENSOR)))
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
  case H_DICT:
    o = obj_new(k, TP_PK_DICT);
    break;
  default:
    if ((o = obj_new(k, TP_PK_OPAQUE)) && !(o->s = strdup(g->s)))
      return tp_err(TP_ENOMEM, k->file, off(k), "out of memory");
    if (o)
      o->len = g->len;
    break;
  }
  return push(k, o);
}

static int op_reduce(struct tp_pickle *k) {
  struct tp_pkobj *f = NULL, *a = NULL;
  int rc;
  if ((rc = pop(k, &a)) < 0 || (rc = pop(k, &f)) < 0)
    return rc;
  return call(k, f, a);
}

static int op_newobj_ex(struct tp_pickle *k) {
  struct tp_pkobj *kw = NULL;
  int rc = pop(k, &kw);
  return rc < 0 ? rc : op_reduce(k);
}

/* BUILD: an inert object given a dict state becomes that dict; other states are dropped. */
static int op_build(struct tp_pickle *k) {
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
      if ((rc = add_item(k, o, st->v[i])) < 0)
        return rc;
  }
  return push(k, o);
}

/* BINPERSID: ('storage', type, key, location, numel[, (view_key, offset, size)]). */
static int op_persid(struct tp_pickle *k) {
  struct tp_pkobj *pid = NULL, *s, *ty;
  int rc;
  if ((rc = pop(k, &pid)) < 0)
    return rc;
  if (pid->type != TP_PK_TUPLE || pid->n < 5 || pid->v[0]->type != TP_PK_STR ||
      strcmp(pid->v[0]->s, "storage") || (ty = pid->v[1])->type != TP_PK_GLOBAL ||
      ty->handler != H_STORAGE || pid->v[2]->type != TP_PK_STR)
    return tp_err(TP_EUNSUPPORTED, k->file, off(k),
                  "pickle persistent id is not a torch storage reference");
  if (!(s = obj_new(k, TP_PK_STORAGE)))
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
    if (!(o = obj_new(k, TP_PK_FLOAT)))
      return TP_ELIMIT;
    while (*s == ' ' || (*s >= '\t' && *s <= '\r')) /* leading white space, as strtod */
      s++;
    o->f = tp_parse_double(s, s + strlen(s), NULL); /* trailing text ignored, as before */
    return push(k, o);
  }
  if (op == 'I' && (!strcmp(buf, "00") || !strcmp(buf, "01"))) {
    if (!(o = obj_new(k, TP_PK_BOOL)))
      return TP_ELIMIT;
    o->i = buf[1] == '1';
    return push(k, o);
  }
  return new_int(k, strtoll(buf, &end, 10));
}

static int op_text_memo(struct tp_pickle *k, int put) {
  char buf[32];
  int rc = text_arg(k, buf, sizeof buf);
  if (rc < 0)
    return rc;
  return put ? op_memo_put(k, strtoull(buf, NULL, 10)) : op_memo_get(k, strtoull(buf, NULL, 10));
}

static int push_simple(struct tp_pickle *k, enum tp_pk_type t, int64_t i) {
  struct tp_pkobj *o = obj_new(k, t);
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
  if (!(o = obj_new(k, TP_PK_FLOAT)))
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
  return new_str(k, t, len);
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
  return fill(k, k->sp - n, pairs);
}

static int op_binint(struct tp_pickle *k, int n) {
  uint64_t v;
  int rc = arg(k, n, &v);
  if (rc < 0)
    return rc;
  return new_int(k, n == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v);
}

static int op_memo_arg(struct tp_pickle *k, int n, int put) {
  uint64_t v;
  int rc = arg(k, n, &v);
  if (rc < 0)
    return rc;
  return put ? op_memo_put(k, v) : op_memo_get(k, v);
}

static int op_pop_mark(struct tp_pickle *k) {
  size_t from = 0;
  int rc = pop_mark(k, &from);
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

/* One opcode; returns 1 at STOP. */
static int step(struct tp_pickle *k) {
  int op = *k->p++;
  uint64_t v;
  switch (op) {
  case 0x80: return op_proto(k);                /* PROTO */
  case 0x95: return arg(k, 8, &v);              /* FRAME: frames are only a hint */
  case '.': return 1;                           /* STOP */
  case '(': return op_mark(k);
  case '0': return op_pop(k);
  case '1': return op_pop_mark(k);
  case '2': return op_dup(k);
  case '}': return push(k, obj_new(k, TP_PK_DICT));
  case ']': return push(k, obj_new(k, TP_PK_LIST));
  case ')': return push(k, obj_new(k, TP_PK_TUPLE));
  case 0x8f: return push(k, obj_new(k, TP_PK_LIST)); /* EMPTY_SET as a list */
  case 0x90: return op_fill_mark(k, 0);         /* ADDITEMS */
  case 0x91: return op_collect(k, TP_PK_LIST);  /* FROZENSET */
  case 'd': return op_collect(k, TP_PK_DICT);
  case 'l': return op_collect(k, TP_PK_LIST);
  case 't': return op_collect(k, TP_PK_TUPLE);
  case 0x85: return op_tuple_n(k, 1);
  case 0x86: return op_tuple_n(k, 2);
  case 0x87: return op_tuple_n(k, 3);
  case 's': return op_set_or_append(k, 1);
  case 'u': return op_fill_mark(k, 1);
  case 'a': return op_set_or_append(k, 0);
  case 'e': return op_fill_mark(k, 0);
  case 'q': return op_memo_arg(k, 1, 1);
  case 'r': return op_memo_arg(k, 4, 1);
  case 0x94: return op_memo_put(k, k->nmemo_next++);
  case 'h': return op_memo_arg(k, 1, 0);
  case 'j': return op_memo_arg(k, 4, 0);
  case 'p': return op_text_memo(k, 1);
  case 'g': return op_text_memo(k, 0);
  case 'J': return op_binint(k, 4);
  case 'K': return op_binint(k, 1);
  case 'M': return op_binint(k, 2);
  case 0x8a: return op_long(k, 1);
  case 0x8b: return op_long(k, 4);
  case 'I': case 'L': case 'F': return op_text_num(k, op);
  case 'G': return op_binfloat(k);
  case 0x8c: return op_counted(k, TP_PK_STR, 1);
  case 'X': return op_counted(k, TP_PK_STR, 4);
  case 0x8d: return op_counted(k, TP_PK_STR, 8);
  case 'U': return op_counted(k, TP_PK_STR, 1); /* legacy byte strings read as text */
  case 'T': return op_counted(k, TP_PK_STR, 4);
  case 'C': return op_counted(k, TP_PK_BYTES, 1);
  case 'B': return op_counted(k, TP_PK_BYTES, 4);
  case 0x8e: case 0x96: return op_counted(k, TP_PK_BYTES, 8);
  case 'N': return push_simple(k, TP_PK_NONE, 0);
  case 0x88: return push_simple(k, TP_PK_BOOL, 1);
  case 0x89: return push_simple(k, TP_PK_BOOL, 0);
  case 'c': return op_global(k);
  case 0x93: return op_stack_global(k);
  case 'R': case 0x81: return op_reduce(k);   /* NEWOBJ: cls(*args) is a call too */
  case 0x92: return op_newobj_ex(k);
  case 'b': return op_build(k);
  case 'Q': return op_persid(k);
  default:
    k->p--;
    return tp_err(TP_EUNSUPPORTED, k->file, off(k),
                  "pickle opcode 0x%02x is not supported (trainplot reads only the "
                  "data opcodes torch.save emits)", op);
  }
}

int tp_pickle_load(const unsigned char *buf, size_t len, const char *file,
                   long long base, struct tp_pickle **out,
                   struct tp_pkobj **root, size_t *used) {
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

void tp_pickle_free(struct tp_pickle *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->nall; i++) {
    free(p->all[i]->s);
    free(p->all[i]->v);
    free(p->all[i]);
  }
  free(p->all);
  free(p->stack);
  free(p->memo);
  free(p->marks);
  free(p);
}

struct tp_pkobj *tp_pickle_dict_get(const struct tp_pkobj *d, const char *key) {
  if (!d || d->type != TP_PK_DICT)
    return NULL;
  for (size_t i = 0; i + 1 < d->n; i += 2)
    if (d->v[i]->type == TP_PK_STR && !strcmp(d->v[i]->s, key))
      return d->v[i + 1];
  return NULL;
}

size_t tp_pickle_count(const struct tp_pickle *p) { return p->nall; }

uint64_t tp_pickle_bytes(const struct tp_pickle *p) { return p->spent; }

struct tp_pkobj *tp_pickle_obj(const struct tp_pickle *p, size_t i) {
  return i < p->nall ? p->all[i] : NULL;
}
