/* Internals of the torch.save reader shared by its two files (tp__ prefix; not for callers). */
#ifndef TP_TORCH_INT_H
#define TP_TORCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tp_map.h"
#include "tp_pickle.h"
#include "tp_tensor.h"

struct tp__torch_slot; /* one storage key and its bytes (tp_torch_file.c) */

struct tp__torch_file {
  const char *path;
  struct tp__zip *z; /* zip format */
  char prefix[512];  /* "archive/" */
  int big_endian;
  struct tp_map m;         /* legacy format */
  struct tp_pickle *pk[5]; /* legacy: magic, protocol, sys_info, main, keys */
  struct tp_pkobj *root;
  struct tp__torch_slot *slots; /* sorted by key, one per distinct key */
  size_t nslots;
  uint64_t spent; /* bytes this file made the reader allocate so far */
};

/* 1 when head looks like a torch.save file (legacy magic, or a zip naming data.pkl). */
int tp__torch_sniff(const unsigned char *h, size_t len);
/* Open path in either layout, run its pickles and index its storages; close even on failure. */
int tp__torch_open(struct tp__torch_file *f, const char *path);
void tp__torch_close(struct tp__torch_file *f);
/* The tensor t describes, read through its strides and checked against its storage. */
int tp__torch_tensor(struct tp__torch_file *f, const struct tp_pkobj *t, const char *name,
                     struct tp_tensor **out);
/* 1 when o is a list of 0-dim tensors (anywhere) or of plain numbers (root): one series. */
int tp__torch_is_series(const struct tp_pkobj *o, int root);
/* The dtype a series lists as: its elements' when they agree, else float64. */
const char *tp__torch_series_dtype(const struct tp_pkobj *o);
/* The series o as a 1-D float64 tensor. */
int tp__torch_series(struct tp__torch_file *f, const struct tp_pkobj *o, const char *name,
                     struct tp_tensor **out);

#endif
