/* Outputs: atomic temporary-file-and-rename, or in place for devices, FIFOs and descriptors. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_out.h"
#include "tp_scratch.h"
#include "tp_signal.h"

/* Two paths name the same file when both exist with equal device and inode. */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  if (strcmp(a, b) == 0)
    return 1;
  if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
    return 0;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

#define TP_OUT_BUFSIZE ((size_t)1 << 20)

/* A descriptor number named by /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N,
   or -1: those are written through the descriptor the process already has, since opening
   the name again would start a redirected file over at offset 0. */
static int fd_path(const char *path) {
  static const char *const pre[] = {"/dev/fd/", "/proc/self/fd/"};
  char *end;
  long fd;
  if (!strcmp(path, "/dev/stdout"))
    return 1;
  if (!strcmp(path, "/dev/stderr"))
    return 2;
  for (size_t i = 0; i < 2; i++)
    if (!strncmp(path, pre[i], strlen(pre[i]))) {
      const char *d = path + strlen(pre[i]);
      if (*d < '0' || *d > '9')
        return -1;
      fd = strtol(d, &end, 10);
      return *end || fd > INT_MAX ? -1 : (int)fd;
    }
  return -1;
}

int tp_out_kind(const char *path, const char *input) {
  struct stat st;
  if (!path || !*path)
    return tp_err(TP_EINVAL, NULL, -1, "no output path given");
  if (input && same_file(path, input))
    return tp_err(TP_EINVAL, path, -1, "output is the input file; refusing to overwrite it");
  if (stat(path, &st) < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return TP_OUT_FILE; /* created; a missing directory is reported when it is */
    return tp_err_errno(TP_EIO, path, "cannot check the output");
  }
  if (S_ISREG(st.st_mode))
    return fd_path(path) >= 0 ? TP_OUT_STREAM : TP_OUT_FILE;
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
    return TP_OUT_STREAM;
  if (S_ISDIR(st.st_mode))
    return tp_err(TP_EINVAL, path, -1, "output is a directory; give a file name");
  return tp_err(TP_EINVAL, path, -1,
                "output is a %s, not a file, terminal, pipe or character device; refusing "
                "to write it",
                S_ISBLK(st.st_mode)    ? "block device"
                : S_ISSOCK(st.st_mode) ? "socket"
                                       : "special file");
}

/* Write in place to a character device, FIFO or inherited descriptor: never renamed over
   (a rename would replace /dev/null for every program), never fsynced. */
static int open_stream(struct tp_out *o, const char *path) {
  int fd = fd_path(path), own = fd < 0;
  struct stat st;
  if (own)
    fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  else
    fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return tp_err_errno(TP_EIO, path, "cannot open output");
  /* Re-check what was opened: the name may have been replaced since tp_out_kind. */
  if (fstat(fd, &st) < 0 || (own && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))) {
    close(fd);
    return tp_err(TP_EINVAL, path, -1, "output changed into a regular file while opening it");
  }
  if (!(o->path = strdup(path)) || !(o->fp = fdopen(fd, "wb"))) {
    close(fd);
    free(o->path);
    memset(o, 0, sizeof *o);
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  }
  o->stream = 1;
  return 0;
}

/* Outputs run to hundreds of MB (a 16384^2 matrix is 1 GiB); stdio's default buffer
   makes that one write call per few KiB (bench/MEASUREMENTS.md). If malloc fails, stdio's
   own is used. */
static int set_buffer(struct tp_out *o) {
  if ((o->buf = malloc(TP_OUT_BUFSIZE)) != NULL)
    setvbuf(o->fp, o->buf, _IOFBF, TP_OUT_BUFSIZE);
  return 0;
}

int tp_out_open(struct tp_out *o, const char *path, const char *input) {
  char *dcopy, *bcopy;
  size_t len;
  int fd, kind;
  memset(o, 0, sizeof *o);
  if ((kind = tp_out_kind(path, input)) < 0)
    return kind;
  if (kind == TP_OUT_STREAM)
    return open_stream(o, path) < 0 ? tp_err_last()->code : set_buffer(o);
  dcopy = strdup(path);
  bcopy = strdup(path);
  len = strlen(path) + 32;
  o->tmp = malloc(len);
  o->path = strdup(path);
  if (!dcopy || !bcopy || !o->tmp || !o->path) {
    free(dcopy), free(bcopy), free(o->tmp), free(o->path);
    memset(o, 0, sizeof *o);
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  }
  /* A scratch file is thrown away with its directory: durability buys nothing there,
     and each fsync waits for the disk (bench/MEASUREMENTS.md). */
  o->sync = !tp_scratch_owns(path);
  /* A dot-prefixed name keeps the partial file out of shell globs. */
  snprintf(o->tmp, len, "%s/.%s.tmpXXXXXX", dirname(dcopy), basename(bcopy));
  free(dcopy);
  free(bcopy);
  fd = mkstemp(o->tmp);
  if (fd < 0 || !(o->fp = fdopen(fd, "wb"))) {
    int rc = tp_err_errno(TP_EIO, path, "cannot create output");
    if (fd >= 0) {
      close(fd);
      unlink(o->tmp);
    }
    free(o->tmp), free(o->path);
    memset(o, 0, sizeof *o);
    return rc;
  }
  /* A signal in the host removes the temporary before the process dies. */
  tp_cleanup_add(o->tmp, 0);
  {
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
  }
  return set_buffer(o);
}

int tp_out_commit(struct tp_out *o) {
  int rc = 0;
  if (!o->fp)
    return tp_err(TP_EINTERNAL, o->path, -1, "output not open");
  if (fflush(o->fp) != 0 || ferror(o->fp) || (o->sync && fsync(fileno(o->fp)) != 0))
    rc = tp_err_errno(TP_EIO, o->path, "cannot write output");
  if (fclose(o->fp) != 0 && rc == 0)
    rc = tp_err_errno(TP_EIO, o->path, "cannot close output");
  o->fp = NULL;
  free(o->buf);
  o->buf = NULL;
  if (o->tmp) {
    tp_cleanup_remove(o->tmp);
    if (rc == 0 && rename(o->tmp, o->path) != 0)
      rc = tp_err_errno(TP_EIO, o->path, "cannot rename output into place");
    if (rc != 0)
      unlink(o->tmp);
  }
  free(o->tmp), free(o->path);
  o->tmp = o->path = NULL;
  return rc;
}

void tp_out_abort(struct tp_out *o) {
  if (!o)
    return;
  if (o->fp)
    fclose(o->fp);
  if (o->tmp) {
    tp_cleanup_remove(o->tmp);
    unlink(o->tmp);
  }
  free(o->buf);
  free(o->tmp), free(o->path);
  memset(o, 0, sizeof *o);
}

void tp_out_num(FILE *fp, const char *sep, int digits, double x) {
  if (isnan(x))
    fprintf(fp, "%sNaN", sep);
  else if (isinf(x))
    fprintf(fp, "%s%sInf", sep, x < 0 ? "-" : "");
  else
    fprintf(fp, "%s%.*g", sep, digits, x);
}

int tp_out_datablock(int (*write)(FILE *fp, const void *arg), const void *arg, char **out) {
  size_t len = 0;
  FILE *fp;
  int rc;
  *out = NULL;
  if (!(fp = open_memstream(out, &len)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory for the datablock");
  rc = write(fp, arg);
  if (fclose(fp) != 0 && rc == 0)
    rc = tp_err(TP_ENOMEM, NULL, -1, "out of memory for the datablock");
  if (rc < 0) {
    free(*out);
    *out = NULL;
  }
  return rc;
}
