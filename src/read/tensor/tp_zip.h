/* Zip containers (npz, torch.save) read through libzip over our mapping (tp__ internals of
 * tp_zip.c). */
#ifndef TP_ZIP_H
#define TP_ZIP_H

#include <stddef.h>
#include <stdint.h>

struct tp__zip;
int tp__zip_open(const char *path, struct tp__zip **out);
void tp__zip_close(struct tp__zip *z);
uint64_t tp__zip_count(const struct tp__zip *z);
/* Entry name, or NULL for an index out of range. */
const char *tp__zip_name(struct tp__zip *z, uint64_t i);
/* Index of the entry called name; TP_ENOKEY (not recorded) when absent. */
int tp__zip_find(struct tp__zip *z, const char *name, uint64_t *idx);
/* Up to n leading bytes of entry i (for headers); *got gets the count. */
int tp__zip_head(struct tp__zip *z, uint64_t i, unsigned char *buf, size_t n, size_t *got);
/* Whole entry i into a malloc'ed *buf (caller frees) after the declared size
   passed the limits; the bytes read must match the declared size and CRC. */
int tp__zip_read(struct tp__zip *z, uint64_t i, unsigned char **buf, size_t *len);
/* Declared (uncompressed) size of entry i. */
int tp__zip_size(struct tp__zip *z, uint64_t i, uint64_t *size);

#endif
