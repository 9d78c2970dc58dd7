/* The pickle object store: objects and their memory budget, containers, marks and the memo. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_pickle_int.h"

/* Charge n bytes against the pickle's budget. */
static int spend(struct tp_pickle *k, uint64_t n) {
  uint64_t cap =
      tp_limits_get()->max_bytes < PK_MAX_BYTES ? tp_limits_get()->max_bytes : PK_MAX_BYTES;
  k->spent += n;
  return k->spent > cap ? -1 : 0;
}

/* Grow an array of n items of size sz to hold one more, up to max. */
int tp__pk_grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max) {
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

struct tp_pkobj *tp__pk_obj_new(struct tp_pickle *k, enum tp_pk_type t) {
  struct tp_pkobj *o = NULL;
  if (spend(k, sizeof *o + sizeof *k->all) < 0 ||
      tp__pk_grow((void **)&k->all, &k->acap, k->nall, sizeof *k->all, PK_MAX_OBJS) < 0 ||
      !(o = calloc(1, sizeof *o))) {
    tp_err(TP_ELIMIT, k->file, off(k), "pickle builds too many objects or memory ran out");
    return NULL;
  }
  o->type = t;
  k->all[k->nall++] = o;
  return o;
}

/* Append to a list/tuple/dict item array. */
int tp__pk_add_item(struct tp_pickle *k, struct tp_pkobj *c, struct tp_pkobj *x) {
  if ((c->n == c->cap && spend(k, (c->cap ? c->cap : 4) * sizeof *c->v) < 0) ||
      tp__pk_grow((void **)&c->v, &c->cap, c->n, sizeof *c->v, PK_MAX_OBJS) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k),
                  "pickle container too large or over the memory budget");
  c->v[c->n++] = x;
  return 0;
}

int tp__pk_new_str(struct tp_pickle *k, enum tp_pk_type t, uint64_t n) {
  struct tp_pkobj *o = NULL;
  int rc;
  if ((rc = need(k, n)) < 0)
    return rc;
  if (spend(k, n + 1) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k), "pickle strings exceed the memory budget");
  if (!(o = tp__pk_obj_new(k, t)) || !(o->s = malloc((size_t)n + 1)))
    return tp_err(TP_ENOMEM, k->file, off(k), "out of memory");
  memcpy(o->s, k->p, (size_t)n);
  o->s[n] = '\0';
  o->len = (size_t)n;
  k->p += n;
  return push(k, o);
}

int tp__pk_new_int(struct tp_pickle *k, int64_t v) {
  struct tp_pkobj *o = tp__pk_obj_new(k, TP_PK_INT);
  if (o)
    o->i = v;
  return push(k, o);
}

int tp__pk_op_memo_put(struct tp_pickle *k, uint64_t id) {
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

int tp__pk_op_memo_get(struct tp_pickle *k, uint64_t id) {
  if (id >= k->nmemo || !k->memo[id])
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle reads memo %llu that was never stored",
                  (unsigned long long)id);
  return push(k, k->memo[id]);
}

int tp__pk_op_mark(struct tp_pickle *k) {
  if (tp__pk_grow((void **)&k->marks, &k->mcap, k->nmark, sizeof *k->marks, PK_MAX_STACK) < 0)
    return tp_err(TP_ELIMIT, k->file, off(k), "too many pickle marks");
  k->marks[k->nmark++] = k->sp;
  return 0;
}

/* Pop everything above the last mark into a new container of type t. */
int tp__pk_pop_mark(struct tp_pickle *k, size_t *from) {
  if (!k->nmark)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle uses a mark it never set");
  *from = k->marks[--k->nmark];
  return 0;
}

int tp__pk_op_collect(struct tp_pickle *k, enum tp_pk_type t) {
  size_t from = 0;
  struct tp_pkobj *o = NULL;
  int rc = tp__pk_pop_mark(k, &from);
  if (rc < 0)
    return rc;
  if (t == TP_PK_DICT && (k->sp - from) % 2)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle DICT with an odd number of items");
  if (!(o = tp__pk_obj_new(k, t)))
    return TP_ELIMIT;
  for (size_t i = from; i < k->sp; i++)
    if ((rc = tp__pk_add_item(k, o, k->stack[i])) < 0)
      return rc;
  k->sp = from;
  return push(k, o);
}

int tp__pk_op_tuple_n(struct tp_pickle *k, size_t n) {
  struct tp_pkobj *o = tp__pk_obj_new(k, TP_PK_TUPLE);
  size_t floor = k->nmark ? k->marks[k->nmark - 1] : 0;
  int rc;
  if (!o)
    return TP_ELIMIT;
  if (k->sp < floor + n)
    return tp_err(TP_ECORRUPT, k->file, off(k), "pickle stack underflow in TUPLE%zu", n);
  for (size_t i = k->sp - n; i < k->sp; i++)
    if ((rc = tp__pk_add_item(k, o, k->stack[i])) < 0)
      return rc;
  k->sp -= n;
  return push(k, o);
}

/* APPEND(S)/SETITEM(S): items from `from` onward go into the object below them. */
int tp__pk_fill(struct tp_pickle *k, size_t from, int pairs) {
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
    if ((rc = tp__pk_add_item(k, c, k->stack[i])) < 0)
      return rc;
  k->sp = from;
  return 0;
}

int tp__pk_op_fill_mark(struct tp_pickle *k, int pairs) {
  size_t from = 0;
  int rc = tp__pk_pop_mark(k, &from);
  return rc < 0 ? rc : tp__pk_fill(k, from, pairs);
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
