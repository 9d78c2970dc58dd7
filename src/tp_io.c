/* Limits, read-only file mapping and atomic temp-file-and-rename output. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_io.h"

#define TP_DEFAULT_MAX_BYTES (16ULL << 30)
#define TP_DEFAULT_MAX_ELEMENTS (4ULL << 30)
#define TP_DEFAULT_MAX_DEPTH 256

static struct tp_limits limits;
static int limits_ready;

/* Parse a size such as 512M or 8G; returns 0 when the text is not a size. */
static uint64_t parse_size(const char *s) {
  char *end;
  unsigned long long v;
  if (!s || !*s)
    return 0;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || end == s)
    return 0;
  switch (*end) {
  case 'k': case 'K': v <<= 10; end++; break;
  case 'm': case 'M': v <<= 20; end++; break;
  case 'g': case 'G': v <<= 30; end++; break;
  case 't': case 'T': v <<= 40; end++; break;
  default: break;
  }
  return *end ? 0 : v;
}

const struct tp_limits *tp_limits_get(void) {
  if (!limits_ready) {
    uint64_t b = parse_size(getenv("TRAINPLOT_MAX_BYTES"));
    uint64_t e = parse_size(getenv("TRAINPLOT_MAX_ELEMENTS"));
    limits.max_bytes = b ? b : TP_DEFAULT_MAX_BYTES;
    limits.max_elements = e ? e : TP_DEFAULT_MAX_ELEMENTS;
    limits.max_depth = TP_DEFAULT_MAX_DEPTH;
    limits_ready = 1;
  }
  return &limits;
}

void tp_limits_set(const struct tp_limits *l) {
  limits = *l;
  limits_ready = 1;
}

int tp_size_mul(uint64_t a, uint64_t b, uint64_t *out, const char *file) {
  if (a != 0 && b > UINT64_MAX / a)
    return tp_err(TP_EOVERFLOW, file, -1,
                  "size %llu x %llu overflows 64 bits",
                  (unsigned long long)a, (unsigned long long)b);
  *out = a * b;
  return 0;
}

int tp_size_check(uint64_t n, const char *file, const char *what) {
  const struct tp_limits *l = tp_limits_get();
  if (n > l->max_bytes || n > SIZE_MAX / 2)
    return tp_err(TP_ELIMIT, file, -1,
                  "%s needs %llu bytes, over the limit of %llu "
                  "(raise it with TRAINPLOT_MAX_BYTES)",
                  what, (unsigned long long)n,
                  (unsigned long long)l->max_bytes);
  return 0;
}

int tp_threads(int cap) {
  long n = 0;
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    n = CPU_COUNT(&set);
#endif
  if (n < 1)
    n = sysconf(_SC_NPROCESSORS_ONLN);
  const char *env = getenv("TRAINPLOT_THREADS");
  if (env && *env) {
    char *end;
    long t = strtol(env, &end, 10);
    if (!*end && t >= 1 && t < n)
      n = t;
  }
  if (n > cap)
    n = cap;
  return n < 1 ? 1 : (int)n;
}

void tp_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *)) {
  enum { MAXT = 64 };
  pthread_t th[MAXT];
  int started[MAXT] = {0};
  char *job = jobs;
  for (size_t k = 1; k < n && k < MAXT; k++)
    started[k] = pthread_create(&th[k], NULL, fn, job + k * size) == 0;
  if (n > 0)
    fn(job);
  for (size_t k = 1; k < n; k++) {
    if (k < MAXT && started[k])
      pthread_join(th[k], NULL);
    else
      fn(job + k * size);
  }
}

size_t tp_triangle_split(size_t n, size_t p, size_t t) {
  /* rows [0, r) hold the share 1 - (1 - r/n)^2 of the triangle */
  if (p >= t)
    return n;
  size_t r = (size_t)((double)n * (1 - sqrt(1 - (double)p / (double)t)));
  return r < n ? r : n;
}

void *tp_big_alloc(size_t bytes) {
  const size_t huge = (size_t)2 << 20;
  void *p = NULL;
  if (bytes < huge)
    return malloc(bytes ? bytes : 1);
  if (posix_memalign(&p, huge, bytes) != 0)
    return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes & ~(huge - 1), MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
  return p;
}

static int check_regular(const char *path, const struct stat *st) {
  if (S_ISDIR(st->st_mode))
    return tp_err(TP_EIO, path, -1, "is a directory, expected a file");
  if (S_ISFIFO(st->st_mode))
    return tp_err(TP_EIO, path, -1, "is a pipe, expected a regular file");
  if (!S_ISREG(st->st_mode))
    return tp_err(TP_EIO, path, -1, "is not a regular file");
  return 0;
}

int tp_map_open(const char *path, struct tp_map *m) {
  struct stat st;
  int fd, rc;
  memset(m, 0, sizeof *m);
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return tp_err_errno(errno == ENOENT ? TP_ENOENT : TP_EIO, path,
                        "cannot open");
  if (fstat(fd, &st) < 0) {
    rc = tp_err_errno(TP_EIO, path, "cannot stat");
    close(fd);
    return rc;
  }
  if ((rc = check_regular(path, &st)) < 0) {
    close(fd);
    return rc;
  }
  if (st.st_size == 0) {
    close(fd);
    m->data = calloc(1, 1);
    return m->data ? 0 : tp_err(TP_ENOMEM, path, -1, "out of memory");
  }
  m->data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m->data == MAP_FAILED) {
    m->data = NULL;
    return tp_err_errno(TP_EIO, path, "cannot map");
  }
  m->size = (size_t)st.st_size;
  m->mapped = 1;
  return 0;
}

void tp_map_drop(const void *from, const void *to) {
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t a = ((uintptr_t)from + page - 1) & ~(page - 1), b = (uintptr_t)to & ~(page - 1);
  if (b > a)
    madvise((void *)a, b - a, MADV_DONTNEED);
}

void tp_map_close(struct tp_map *m) {
  if (!m || !m->data)
    return;
  if (m->mapped)
    munmap((void *)m->data, m->size);
  else
    free((void *)m->data);
  memset(m, 0, sizeof *m);
}

int tp_file_head(const char *path, unsigned char *buf, size_t n, size_t *got) {
  struct stat st;
  ssize_t r;
  size_t have = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;
  if (fd < 0)
    return tp_err_errno(errno == ENOENT ? TP_ENOENT : TP_EIO, path,
                        "cannot open");
  if (fstat(fd, &st) < 0 || (rc = check_regular(path, &st)) < 0) {
    rc = tp_err_last()->code ? tp_err_last()->code : TP_EIO;
    close(fd);
    return rc;
  }
  while (have < n && (r = read(fd, buf + have, n - have)) > 0)
    have += (size_t)r;
  close(fd);
  *got = have;
  return 0;
}

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

int tp_out_open(struct tp_out *o, const char *path, const char *input) {
  char *dcopy, *bcopy;
  size_t len;
  int fd;
  memset(o, 0, sizeof *o);
  if (!path || !*path)
    return tp_err(TP_EINVAL, NULL, -1, "no output path given");
  if (input && same_file(path, input))
    return tp_err(TP_EINVAL, path, -1,
                  "output is the input file; refusing to overwrite it");
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
     and each fsync cost 1-2 ms on this machine's ext4 /tmp. */
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
  {
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
  }
  /* Outputs run to hundreds of MB (a 16384^2 matrix is 1 GiB); stdio's default buffer
     made a 64 MiB matrix 8196 write calls (strace). If malloc fails, stdio's own is used. */
  if ((o->buf = malloc(TP_OUT_BUFSIZE)) != NULL)
    setvbuf(o->fp, o->buf, _IOFBF, TP_OUT_BUFSIZE);
  return 0;
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
  if (rc == 0 && rename(o->tmp, o->path) != 0)
    rc = tp_err_errno(TP_EIO, o->path, "cannot rename output into place");
  if (rc != 0)
    unlink(o->tmp);
  free(o->tmp), free(o->path);
  o->tmp = o->path = NULL;
  return rc;
}

void tp_out_abort(struct tp_out *o) {
  if (!o)
    return;
  if (o->fp)
    fclose(o->fp);
  if (o->tmp)
    unlink(o->tmp);
  free(o->buf);
  free(o->tmp), free(o->path);
  memset(o, 0, sizeof *o);
}

/* ---- the scratch directory ---- */

static char scratch_dir[PATH_MAX]; /* absolute; "" until made */
static pid_t scratch_pid;          /* the process that made it */

void tp_remove_flat_dir(const char *dir) {
  DIR *d;
  struct dirent *e;
  if ((d = opendir(dir)) != NULL) {
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
        unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  rmdir(dir);
}

void tp_scratch_remove(void) {
  if (!*scratch_dir)
    return;
  /* A forked child exiting must not take it away; mode 0700 and made by mkdtemp, so
     every entry is ours, and none is a directory. */
  if (getpid() == scratch_pid)
    tp_remove_flat_dir(scratch_dir);
  *scratch_dir = '\0';
}

static void scratch_at_exit(void) { tp_scratch_remove(); }

int tp_scratch_path(const char *name, char **out) {
  static int registered;
  const char *base = getenv("TMPDIR");
  size_t len;
  *out = NULL;
  if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0 || strlen(name) > NAME_MAX)
    return tp_err(TP_EINVAL, NULL, -1,
                  "scratch name '%s' must be a plain file name (no '/', not '.' or '..')",
                  name ? name : "");
  if (!*scratch_dir) {
    if (!base || !*base)
      base = "/tmp";
    if (snprintf(scratch_dir, sizeof scratch_dir, "%s/trainplot-XXXXXX", base) >=
        (int)sizeof scratch_dir) {
      *scratch_dir = '\0';
      return tp_err(TP_EINVAL, base, -1, "the temporary directory's path is too long");
    }
    if (!mkdtemp(scratch_dir)) {
      *scratch_dir = '\0';
      return tp_err_errno(TP_EIO, base,
                          "cannot create a scratch directory (set TMPDIR to a writable "
                          "directory)");
    }
    scratch_pid = getpid();
    /* A relative TMPDIR would break once the script changes directory (gnuplot's cd). */
    if (scratch_dir[0] != '/') {
      char abs[PATH_MAX];
      if (!realpath(scratch_dir, abs)) {
        int rc = tp_err_errno(TP_EIO, scratch_dir, "cannot resolve the scratch directory");
        rmdir(scratch_dir);
        *scratch_dir = '\0';
        return rc;
      }
      memcpy(scratch_dir, abs, sizeof abs);
    }
    /* From a shared module, atexit runs the handler when the module is unloaded too. */
    if (!registered && atexit(scratch_at_exit) == 0)
      registered = 1;
  }
  len = strlen(scratch_dir) + strlen(name) + 2;
  if (!(*out = malloc(len)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  snprintf(*out, len, "%s/%s", scratch_dir, name);
  return 0;
}

int tp_scratch_owns(const char *path) {
  size_t n = strlen(scratch_dir);
  return n > 0 && path && strncmp(path, scratch_dir, n) == 0 && path[n] == '/' &&
         path[n + 1] && !strchr(path + n + 1, '/');
}
