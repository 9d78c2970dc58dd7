/* Read-only whole-file views that survive the file shrinking, and file heads for sniffers. */
#ifndef TP_MAP_H
#define TP_MAP_H

#include <stddef.h>

/* A read-only whole-file view: mmap for regular files. */
struct tp_map {
  const unsigned char *data;
  size_t size;
  int mapped; /* 1 when data is an mmap, 0 when malloc'ed (empty file) */
};
/* Map path read-only; refuses directories, FIFOs and devices with a clear error. */
int tp_map_open(const char *path, struct tp_map *m);
void tp_map_close(struct tp_map *m);
/* How many pages of open mappings have vanished under a reader so far (the file shrank):
   a reader's caller compares the count before and after and, when it moved, discards the
   result and returns tp_map_shrank(path). */
unsigned tp_map_faults(void);
int tp_map_shrank(const char *path);
/* Drop the whole pages inside [from, to) of a mapping from this process's memory once a
   reader is past them (the page cache keeps them; touching them again re-reads them).
   Keeps a streaming reader's resident size at its output plus a window of the file. */
void tp_map_drop(const void *from, const void *to);

/* Read up to n bytes from the start of path (for sniffers); *got gets the count. */
int tp_file_head(const char *path, unsigned char *buf, size_t n, size_t *got);

#endif
