/* File access shared by readers and writers: limits, mapping, atomic output. */
#ifndef TP_IO_H
#define TP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* Threads a parallel pass may use: the CPUs this process may run on (its affinity mask,
   which batch schedulers such as Slurm set), lowered by TRAINPLOT_THREADS and by cap;
   at least 1. */
int tp_threads(int cap);

/* Run fn on each of the n jobs (job k at jobs + k * size): jobs 1.. on threads, job 0 on
   the caller's; a job whose thread cannot start runs on the caller's after job 0. Returns
   when all are done. */
void tp_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *));

/* Where row r0 of [0, n) should start for part p of t (p = 0..t), so that each part of
   rows holds an equal share of an upper triangle (row i holds n - i cells). */
size_t tp_triangle_split(size_t n, size_t p, size_t t);

/* malloc for large arrays: 2 MiB-aligned and marked for transparent huge pages, so the
   first touch of a big matrix costs one fault per 2 MiB instead of per 4 KiB. free() it. */
void *tp_big_alloc(size_t bytes);

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

/* A private directory (mode 0700, "$TMPDIR/trainplot-XXXXXX", made on first use) for a
   session's intermediate files, such as the matrix a gnuplot script plots and then
   forgets. It and everything in it is removed at exit (or when the module is unloaded),
   and outputs written inside it skip the fsync that protects user files. *out is
   "<dir>/<name>", malloc'ed; name must be a plain file name. */
int tp_scratch_path(const char *name, char **out);
/* 1 when path names a file directly inside the scratch directory. */
int tp_scratch_owns(const char *path);
/* Remove the scratch directory and its files now (the next tp_scratch_path makes a new one). */
void tp_scratch_remove(void);
/* Remove dir and the plain files in it (no recursion: an entry that is a directory stays,
   and so does dir). Errors are ignored: this is cleanup. */
void tp_remove_flat_dir(const char *dir);

/* An output written under a temporary name in the same directory, renamed on commit;
   or, for a character device, FIFO or inherited descriptor, written in place. */
struct tp_out {
  FILE *fp;
  char *path;
  char *tmp; /* NULL for a stream */
  char *buf; /* stdio buffer of fp (NULL: stdio's own) */
  int sync;  /* fsync before the rename (not for scratch files) */
  int stream; /* written in place: no temporary, no rename */
};
enum { TP_OUT_FILE = 1, TP_OUT_STREAM = 2 };
/* How path would be written: TP_OUT_FILE (temporary and rename: a regular file, or none
   yet), TP_OUT_STREAM (in place: a character device such as /dev/null or a terminal, a
   FIFO, /dev/stdout, /dev/stderr, /dev/fd/N), or a recorded TP_EINVAL for the input
   itself (by name, symlink or hard link), a directory, a block device or a socket. */
int tp_out_kind(const char *path, const char *input);
/* Open path for writing (tp_out_kind's rules); refuses an output equal to input (if not
   NULL). */
int tp_out_open(struct tp_out *o, const char *path, const char *input);
/* Flush, fsync (unless a scratch file or a stream) and rename into place; on failure the
   temporary is removed. */
int tp_out_commit(struct tp_out *o);
/* Remove the temporary; the previous file at path stays as it was. */
void tp_out_abort(struct tp_out *o);

#endif
