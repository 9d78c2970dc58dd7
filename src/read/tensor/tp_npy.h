/* In-memory .npy images, for the npz reader's members (tp__ internals of tp_npy.c). */
#ifndef TP_NPY_H
#define TP_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "tp_tensor.h"

/* Parse an in-memory .npy image (npz members too): *out gets tensor name. */
int tp__npy_load_mem(const unsigned char *buf, size_t size, const char *name, const char *file,
                     struct tp_tensor **out);
/* Describe an in-memory .npy image (only its header is read) into l under name. */
int tp__npy_list_mem(const unsigned char *buf, size_t size, const char *name, const char *file,
                     struct tp_tensor_list *l);
/* Bytes a .npy header promises (header + data), to check zip entries against. */
int tp__npy_expected_size(const unsigned char *buf, size_t size, const char *file, uint64_t *total);

#endif
