/* Dense tensors and the table of tensor-file readers (npy, npz, safetensors, torch, text). */
#ifndef TP_TENSOR_H
#define TP_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define TP_MAXDIM 8

/* In-memory element type: f16/bf16/f32 sources load as F32, f64 as F64. */
enum tp_dtype { TP_F32 = 1, TP_F64 = 2 };

struct tp_tensor {
  char *name;          /* key it was loaded under (malloc'ed), or the spec */
  char src_dtype[16];  /* as stored: "float16", "bfloat16", "float32", "float64" */
  int ndim;
  uint64_t shape[TP_MAXDIM];
  uint64_t count;      /* product of shape */
  enum tp_dtype dtype; /* element type of data */
  void *data;          /* C order, native endian, malloc'ed */
};

/* Allocate a tensor of the given shape (zero-filled); checks overflow and limits. */
int tp_tensor_alloc(struct tp_tensor **out, const char *name, enum tp_dtype dt,
                    int ndim, const uint64_t *shape, const char *file);
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
int tp_tensor_list_add(struct tp_tensor_list *l, const char *name,
                       const char *dtype, int ndim, const uint64_t *shape);

/* One row per tensor file format, driven by the generic loop in tp_tensor.c. */
struct tp_tensor_reader {
  const char *name;    /* "npy" */
  const char *summary; /* one line for --list and README */
  /* 1 when head (the file's first len bytes) looks like this format. */
  int (*sniff)(const unsigned char *head, size_t len);
  /* List the tensors in path; *out is owned by the caller. */
  int (*list)(const char *path, struct tp_tensor_list **out);
  /* Load tensor key ("" = the only one) from path; *out is owned by the caller. */
  int (*load)(const char *path, const char *key, struct tp_tensor **out);
};

/* The reader for path, chosen by content; records TP_EFORMAT when none fits. */
int tp_tensor_detect(const char *path, const struct tp_tensor_reader **out);
int tp_tensor_list_file(const char *path, struct tp_tensor_list **out);
/* Load from a file or generator spec; key "" picks the only tensor, or for
   posemb the one positional table (see tp_posemb_pick_key). */
int tp_tensor_load_file(const char *path, const char *key,
                        struct tp_tensor **out);

/* Generator specs such as "sinusoidal:1026x256,padding_idx=1" (src/tp_gen.c). */
int tp_gen_is_spec(const char *spec);
int tp_gen_load(const char *spec, struct tp_tensor **out);

/* The readers, declared here so the table can name them. */
extern const struct tp_tensor_reader tp_npy_reader;
extern const struct tp_tensor_reader tp_npz_reader;
extern const struct tp_tensor_reader tp_safetensors_reader;
extern const struct tp_tensor_reader tp_torch_reader;
extern const struct tp_tensor_reader tp_textmat_reader;

/* Convert an IEEE half or bfloat16 bit pattern to float. */
float tp_half_to_float(uint16_t h);
float tp_bf16_to_float(uint16_t h);

/* ---- internals shared by the reader files (tp__ prefix; not for callers) ---- */

/* Storage element kinds a reader may meet on disk. */
enum tp__kind { TP__F16 = 1, TP__BF16, TP__F32, TP__F64 };

/* A strided view of raw elements in a file, in elements (not bytes). */
struct tp__raw {
  const unsigned char *base; /* first byte of the storage */
  uint64_t nelem;            /* elements available in the storage */
  enum tp__kind kind;
  int big_endian;
  uint64_t offset;             /* element offset of the view */
  uint64_t stride[TP_MAXDIM];  /* element strides, one per dimension */
};

/* Bytes per element of kind; 0 for an unknown kind. */
size_t tp__kind_size(enum tp__kind k);
/* Name stored in tp_tensor.src_dtype ("float16", …). */
const char *tp__kind_name(enum tp__kind k);
/* Set C-order (fortran=0) or Fortran-order strides for shape. */
void tp__strides_contig(struct tp__raw *r, int ndim, const uint64_t *shape,
                        int fortran);
/* Allocate *out of shape and fill it from r after checking every index is in bounds. */
int tp__tensor_from_raw(struct tp_tensor **out, const char *name, int ndim,
                        const uint64_t *shape, const struct tp__raw *r,
                        const char *file);
/* Record TP_ENOKEY (key given) or TP_EAMBIGUOUS (key "") naming a few tensors of l. */
int tp__tensor_key_error(const char *file, const char *key,
                         const struct tp_tensor_list *l);
/* A fresh empty list tagged with the reader name; NULL on allocation failure. */
struct tp_tensor_list *tp__tensor_list_new(const char *format);
/* Parse an in-memory .npy image (npz members too): *out gets tensor name. */
int tp__npy_load_mem(const unsigned char *buf, size_t size, const char *name,
                     const char *file, struct tp_tensor **out);
/* Describe an in-memory .npy image (only its header is read) into l under name. */
int tp__npy_list_mem(const unsigned char *buf, size_t size, const char *name,
                     const char *file, struct tp_tensor_list *l);
/* Bytes a .npy header promises (header + data), to check zip entries against. */
int tp__npy_expected_size(const unsigned char *buf, size_t size,
                          const char *file, uint64_t *total);
/* Zip containers (npz, torch.save) through libzip over our read-only mapping (src/tp_zip.c). */
struct tp__zip;
int tp__zip_open(const char *path, struct tp__zip **out);
void tp__zip_close(struct tp__zip *z);
uint64_t tp__zip_count(const struct tp__zip *z);
/* Entry name, or NULL for an index out of range. */
const char *tp__zip_name(struct tp__zip *z, uint64_t i);
/* Index of the entry called name; TP_ENOKEY (not recorded) when absent. */
int tp__zip_find(struct tp__zip *z, const char *name, uint64_t *idx);
/* Up to n leading bytes of entry i (for headers); *got gets the count. */
int tp__zip_head(struct tp__zip *z, uint64_t i, unsigned char *buf, size_t n,
                 size_t *got);
/* Whole entry i into a malloc'ed *buf (caller frees) after the declared size
   passed the limits; the bytes read must match the declared size and CRC. */
int tp__zip_read(struct tp__zip *z, uint64_t i, unsigned char **buf,
                 size_t *len);
/* Declared (uncompressed) size of entry i. */
int tp__zip_size(struct tp__zip *z, uint64_t i, uint64_t *size);

#endif
