/* A restricted pickle reader: builds plain data and torch tensor descriptions, never calls
 * anything. */
#ifndef TP_PICKLE_H
#define TP_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "tp_tensor.h"     /* TP_MAXDIM */
#include "tp_tensor_raw.h" /* enum tp__kind */

enum tp_pk_type {
  TP_PK_NONE,
  TP_PK_BOOL,
  TP_PK_INT,
  TP_PK_FLOAT,
  TP_PK_STR,
  TP_PK_BYTES,
  TP_PK_LIST,
  TP_PK_TUPLE,
  TP_PK_DICT,    /* dict, OrderedDict, and inert objects rebuilt from their state */
  TP_PK_GLOBAL,  /* an allowlisted name, never called */
  TP_PK_STORAGE, /* a torch storage named by a persistent id */
  TP_PK_TENSOR,  /* what torch._utils._rebuild_tensor_v2 would build */
  TP_PK_OPAQUE,  /* an inert object we keep only as a placeholder */
};

struct tp_pkobj {
  enum tp_pk_type type;
  int64_t i; /* BOOL, INT (big ints saturate) */
  double f;
  char *s; /* STR/BYTES data, GLOBAL/OPAQUE "module.name", STORAGE key */
  size_t len;
  struct tp_pkobj **v; /* LIST/TUPLE items; DICT keys and values alternate */
  size_t n, cap;
  int handler; /* GLOBAL: what a call to it builds (tp_pickle_global.c) */
  /* STORAGE */
  const char *dtype;  /* torch dtype name: "float32", "int64", … */
  enum tp__kind kind; /* 0 when we cannot convert it */
  size_t elsize;
  uint64_t numel, view_offset; /* legacy views share a root storage */
  /* TENSOR */
  struct tp_pkobj *storage;
  uint64_t offset;
  int ndim;
  uint64_t shape[TP_MAXDIM], stride[TP_MAXDIM];
};

struct tp_pickle;

/* Run one pickle from buf; *root lives until tp_pickle_free, *used gets its length.
   base is the buffer's offset in file, for error messages. */
int tp_pickle_load(const unsigned char *buf, size_t len, const char *file, long long base,
                   struct tp_pickle **out, struct tp_pkobj **root, size_t *used);
void tp_pickle_free(struct tp_pickle *p);

/* Bytes the pickle's objects, items and strings took (what its memory budget counted). */
uint64_t tp_pickle_bytes(const struct tp_pickle *p);

/* Every object the pickle built, for scans such as "all storages" (i < count). */
size_t tp_pickle_count(const struct tp_pickle *p);
struct tp_pkobj *tp_pickle_obj(const struct tp_pickle *p, size_t i);

/* The dict value under a string key, or NULL. */
struct tp_pkobj *tp_pickle_dict_get(const struct tp_pkobj *d, const char *key);

#endif
