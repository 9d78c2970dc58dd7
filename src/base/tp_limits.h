/* Resource limits, checked size arithmetic and the allocation of large arrays. */
#ifndef TP_LIMITS_H
#define TP_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Resource limits; defaults raised by TRAINPLOT_MAX_BYTES / TRAINPLOT_MAX_ELEMENTS. */
struct tp_limits {
  uint64_t max_bytes;    /* largest single allocation a reader may make */
  uint64_t max_elements; /* largest tensor or series element count */
  int max_depth;         /* nesting depth for pickle/JSON */
};
/* The limits in force; a malformed variable leaves its default here, and tp_limits_check
   is what reports it. */
const struct tp_limits *tp_limits_get(void);
void tp_limits_set(const struct tp_limits *l); /* NULL: read the environment again */
/* 0, or TP_EINVAL naming the limit variable whose value is not a size (garbage, a sign, a
   fraction, a unit other than K/M/G/T, zero or more than 64 bits). Every read calls it
   first, so a limit never fails open. */
int tp_limits_check(void);

/* Multiply with overflow and limit checks; records TP_EOVERFLOW/TP_ELIMIT against file. */
int tp_size_mul(uint64_t a, uint64_t b, uint64_t *out, const char *file);
/* Check that an allocation of n bytes is within the limit. */
int tp_size_check(uint64_t n, const char *file, const char *what);

/* malloc for large arrays: 2 MiB-aligned and marked for transparent huge pages, so the
   first touch of a big matrix costs one fault per 2 MiB instead of per 4 KiB. free() it. */
void *tp_big_alloc(size_t bytes);

#endif
