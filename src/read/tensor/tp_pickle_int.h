/* Internals shared by the pickle VM, its object store and its allowlist of globals. */
#ifndef TP_PICKLE_INT_H
#define TP_PICKLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tp_error.h"
#include "tp_pickle.h"

#define PK_MAX_STACK (1u << 20)
#define PK_MAX_MEMO (1u << 24)
#define PK_MAX_OBJS (1u << 22)
/* Memory a pickle may make us spend describing it, whatever its own size. */
#define PK_MAX_BYTES (1ull << 30)

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

static inline long long off(const struct tp_pickle *k) {
  return k->base + (long long)(k->p - k->start);
}

/* Grow an array of n items of size sz to hold one more, up to max. */
int tp__pk_grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max);

static inline int push(struct tp_pickle *k, struct tp_pkobj *o) {
  if (!o)
    return TP_ELIMIT;
  if (tp__pk_grow((void **)&k->stack, &k->scap, k->sp, sizeof *k->stack, PK_MAX_STACK) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k), "pickle stack exceeds %u entries", PK_MAX_STACK);
  k->stack[k->sp++] = o;
  return 0;
}

static inline int pop(struct tp_pickle *k, struct tp_pkobj **o) {
  size_t floor = k->nmark ? k->marks[k->nmark - 1] : 0;
  if (k->sp <= floor)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle stack underflow");
  *o = k->stack[--k->sp];
  return 0;
}

/* Need n more bytes of the stream. */
static inline int need(struct tp_pickle *k, uint64_t n) {
  if ((uint64_t)(k->end - k->p) < n)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle truncated: needs %llu more bytes",
                  (unsigned long long)n);
  return 0;
}

/* The object store (tp_pickle_obj.c): objects, containers, marks and the memo. */
struct tp_pkobj *tp__pk_obj_new(struct tp_pickle *k, enum tp_pk_type t);
/* Append to a list/tuple/dict item array. */
int tp__pk_add_item(struct tp_pickle *k, struct tp_pkobj *c, struct tp_pkobj *x);
int tp__pk_new_str(struct tp_pickle *k, enum tp_pk_type t, uint64_t n);
int tp__pk_new_int(struct tp_pickle *k, int64_t v);
int tp__pk_op_memo_put(struct tp_pickle *k, uint64_t id);
int tp__pk_op_memo_get(struct tp_pickle *k, uint64_t id);
int tp__pk_op_mark(struct tp_pickle *k);
/* Pop the last mark: *from is the stack index it was set at. */
int tp__pk_pop_mark(struct tp_pickle *k, size_t *from);
/* Pop everything above the last mark into a new container of type t. */
int tp__pk_op_collect(struct tp_pickle *k, enum tp_pk_type t);
int tp__pk_op_tuple_n(struct tp_pickle *k, size_t n);
/* APPEND(S)/SETITEM(S): items from `from` onward go into the object below them. */
int tp__pk_fill(struct tp_pickle *k, size_t from, int pairs);
int tp__pk_op_fill_mark(struct tp_pickle *k, int pairs);

/* The allowlist (tp_pickle_global.c): names, the calls it allows, persistent ids. */
int tp__pk_op_global(struct tp_pickle *k);
int tp__pk_op_stack_global(struct tp_pickle *k);
int tp__pk_op_reduce(struct tp_pickle *k);
int tp__pk_op_newobj_ex(struct tp_pickle *k);
int tp__pk_op_build(struct tp_pickle *k);
int tp__pk_op_persid(struct tp_pickle *k);

#endif
