/* Dense tensors, tensor lists and the tensor-file read entry points (npy, npz, safetensors, torch,
 * text). */
#ifndef TP_TENSOR_H
#define TP_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define TP_MAXDIM 8

/* In-memory element type: f16/bf16/f32 sources load as F32, f64 as F64. */
enum tp_dtype { TP_F32 = 1, TP_F64 = 2 };

struct tp_tensor {
  char *name;         /* key it was loaded under (malloc'ed), or the spec */
  char src_dtype[16]; /* as stored: "float16", "bfloat16", "float32", "float64" */
  int ndim;
  uint64_t shape[TP_MAXDIM];
  uint64_t count;      /* product of shape */
  enum tp_dtype dtype; /* element type of data */
  void *data;          /* C order, native endian, malloc'ed */
};

/* Allocate a tensor of the given shape (zero-filled); checks overflow and limits. */
int tp_tensor_alloc(struct tp_tensor **out, const char *name, enum tp_dtype dt, int ndim,
                    const uint64_t *shape, const char *file);
void tp_tensor_free(struct tp_tensor *t);
/* Element i as double, whatever the dtype. */
double tp_tensor_get(const struct tp_tensor *t, uint64_t i);

struct tp_tensor_info {
  char *name;
  char dtype[16];
  int ndim;
  uint64_t shape[TP_MAXDIM];
};

struct tp_tensor_list {
  char format[16]; /* reader name */
  size_t n;
  struct tp_tensor_info *items;
};
void tp_tensor_list_free(struct tp_tensor_list *l);
/* Append a copy of name/dtype/shape; list grows as needed. */
int tp_tensor_list_add(struct tp_tensor_list *l, const char *name, const char *dtype, int ndim,
                       const uint64_t *shape);

/* One row per tensor file format, driven by the generic loop in tp_tensor_read.c. */
struct tp_tensor_reader {
  const char *name;    /* "npy" */
  const char *summary; /* one line for --list and README */
  /* 1 when head (the file's first len bytes) looks like this format; NULL for a
     reader that only claims. */
  int (*sniff)(const unsigned char *head, size_t len);
  /* 1 when path names this reader's input itself (a generator spec, not a file); asked
     before any file is opened. NULL for the readers of files. */
  int (*claims)(const char *path);
  /* List the tensors in path; *out is owned by the caller. */
  int (*list)(const char *path, struct tp_tensor_list **out);
  /* Load tensor key ("" = the only one) from path; *out is owned by the caller. */
  int (*load)(const char *path, const char *key, struct tp_tensor **out);
};

/* The reader for path: the one that claims it (a generator spec), else the first whose
   sniffer takes its content; records TP_EFORMAT when none fits. */
int tp_tensor_detect(const char *path, const struct tp_tensor_reader **out);
int tp_tensor_list_file(const char *path, struct tp_tensor_list **out);
/* Load from a file or generator spec; key "" picks the only tensor, or for
   posemb the one positional table (see tp_posemb_pick_key). */
int tp_tensor_load_file(const char *path, const char *key, struct tp_tensor **out);

/* A fresh empty list tagged with the reader name; NULL on allocation failure. The caller
   owns it (tp_tensor_list_free). */
struct tp_tensor_list *tp_tensor_list_new(const char *format);

#endif
