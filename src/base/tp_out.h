/* Outputs: temporary file and rename, or in place for a device, FIFO or descriptor; the
   number formatter and datablock builder every gnuplot text writer uses. */
#ifndef TP_OUT_H
#define TP_OUT_H

#include <stdio.h>

/* An output written under a temporary name in the same directory, renamed on commit;
   or, for a character device, FIFO or inherited descriptor, written in place. */
struct tp_out {
  FILE *fp;
  char *path;
  char *tmp;  /* NULL for a stream */
  char *buf;  /* stdio buffer of fp (NULL: stdio's own) */
  int sync;   /* fsync before the rename (not for scratch files) */
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

/* One number of gnuplot text after sep: NaN, Inf or -Inf (gnuplot reads each as undefined,
   whatever printf would spell), else %.*g with digits significant digits. */
void tp_out_num(FILE *fp, const char *sep, int digits, double x);
/* The text write(fp, arg) produces, as a malloc'ed string in *out (the caller frees it) for
   an in-memory datablock; on failure *out is NULL and the code is returned. */
int tp_out_datablock(int (*write)(FILE *fp, const void *arg), const void *arg, char **out);

#endif
