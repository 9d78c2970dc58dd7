/* Raw storage elements on disk: kinds and strided views, converted to tensors (tp_tensor_raw.c). */
#ifndef TP_TENSOR_RAW_H
#define TP_TENSOR_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "tp_tensor.h" /* TP_MAXDIM, struct tp_tensor */

/* Storage element kinds a reader may meet on disk. */
enum tp__kind { TP__F16 = 1, TP__BF16, TP__F32, TP__F64 };

/* A strided view of raw elements in a file, in elements (not bytes). */
struct tp__raw {
  const unsigned char *base; /* first byte of the storage */
  uint64_t nelem;            /* elements available in the storage */
  enum tp__kind kind;
  int big_endian;
  uint64_t offset;            /* element offset of the view */
  uint64_t stride[TP_MAXDIM]; /* element strides, one per dimension */
};

/* Bytes per element of kind; 0 for an unknown kind. */
size_t tp__kind_size(enum tp__kind k);
/* Name stored in tp_tensor.src_dtype ("float16", …). */
const char *tp__kind_name(enum tp__kind k);
/* Set C-order (fortran=0) or Fortran-order strides for shape. */
void tp__strides_contig(struct tp__raw *r, int ndim, const uint64_t *shape, int fortran);
/* Allocate *out of shape and fill it from r after checking every index is in bounds. */
int tp__tensor_from_raw(struct tp_tensor **out, const char *name, int ndim, const uint64_t *shape,
                        const struct tp__raw *r, const char *file);

#endif
