/* Internals the tensor readers share (tp__ prefix; not for callers): rows, allocation, key errors.
 */
#ifndef TP_TENSOR_INT_H
#define TP_TENSOR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tp_tensor.h"

/* The readers, declared here so the table can name them. */
extern const struct tp_tensor_reader tp_gen_reader;
extern const struct tp_tensor_reader tp_npy_reader;
extern const struct tp_tensor_reader tp_npz_reader;
extern const struct tp_tensor_reader tp_safetensors_reader;
extern const struct tp_tensor_reader tp_torch_reader;
extern const struct tp_tensor_reader tp_textmat_reader;

/* Allocate *out of shape; zero: calloc, else the caller fills every element (huge pages). */
int tp__tensor_alloc(struct tp_tensor **out, const char *name, enum tp_dtype dt, int ndim,
                     const uint64_t *shape, const char *file, int zero);
/* Record TP_ENOKEY (key given) or TP_EAMBIGUOUS (key "") naming a few tensors of l. */
int tp__tensor_key_error(const char *file, const char *key, const struct tp_tensor_list *l);
/* tp_tensor_list_new under its old name, until the readers' bodies call that. */
struct tp_tensor_list *tp__tensor_list_new(const char *format);

#endif
