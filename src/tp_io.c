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
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_io.h"
#include "tp_signal.h"
#include "tp_text.h"

#define TP_DEFAULT_MAX_BYTES (16ULL << 30)
#define TP_DEFAULT_MAX_ELEMENTS (4ULL << 30)
#define TP_DEFAULT_MAX_DEPTH 256

static struct tp_limits limits;
static int limits_ready;

/* Parse a size such as 512M or 8G: digits, then at most one of K, M, G, T. Returns 0 and
   sets *out, or -1 when the text is not a size or overflows 64 bits. */
static int parse_size(const char *s, uint64_t *out) {
  uint64_t v = 0;
  int shift = 0;
  if (!s || *s < '0' || *s > '9')
    return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  switch (*s) {
  case 'k': case 'K': shift = 10; s++; break;
  case 'm': case 'M': shift = 20; s++; break;
  case 'g': case 'G': shift = 30; s++; break;
  case 't': case 'T': shift = 40; s++; break;
  default: break;
  }
  if (*s || v == 0 || v > (UINT64_MAX >> shift))
    return -1;
  *out = v << shift;
  return 0;
}

/* The limits' environment variables, and the first that is malformed (NULL when none). */
static const char *const limit_vars[] = {"TRAINPLOT_MAX_BYTES", "TRAINPLOT_MAX_ELEMENTS"};
static const char *bad_limit_var;

const struct tp_limits *tp_limits_get(void) {
  if (!limits_ready) {
    uint64_t *dst[] = {&limits.max_bytes, &limits.max_elements};
    const uint64_t def[] = {TP_DEFAULT_MAX_BYTES, TP_DEFAULT_MAX_ELEMENTS};
    bad_limit_var = NULL;
    for (size_t i = 0; i < 2; i++) {
      const char *env = getenv(limit_vars[i]);
      *dst[i] = def[i];
      if (env && *env && parse_size(env, dst[i]) < 0) {
        *dst[i] = def[i];
        if (!bad_limit_var)
          bad_limit_var = limit_vars[i];
      }
    }
    limits.max_depth = TP_DEFAULT_MAX_DEPTH;
    limits_ready = 1;
  }
  return &limits;
}

int tp_limits_check(void) {
  const char *env;
  tp_limits_get();
  if (!bad_limit_var)
    return 0;
  env = getenv(bad_limit_var);
  return tp_err(TP_EINVAL, NULL, -1,
                "%s='%s' is not a size: use a positive whole number with an optional K, M, "
                "G or T suffix (e.g. 32G) that fits in 64 bits",
                bad_limit_var, env ? env : "");
}

void tp_limits_set(const struct tp_limits *l) {
  if (!l) {
    limits_ready = 0; /* read the environment again at the next use */
    return;
  }
  limits = *l;
  limits_ready = 1;
  bad_limit_var = NULL;
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

/* ---- mappings that survive the file shrinking under them ----
 * Touching a page of a mapping past the file's new end raises SIGBUS, which would kill
 * gnuplot or the host when a log is truncated (a restarted job, logrotate's copytruncate)
 * while it is read. While any mapping is open, a SIGBUS handler puts a page of zeros over
 * the faulting page of a registered mapping and counts the fault; the read goes on over
 * zeros and the reader's caller (tp_map_faults) reports "file shrank while being read".
 * A SIGBUS outside every mapping goes to the previous handler, as if we were not here. */

#define NMAPS 64
static atomic_uintptr_t map_lo[NMAPS], map_hi[NMAPS];
static atomic_uint map_faults;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static int map_users;
static struct sigaction map_saved;

static void on_sigbus(int sig, siginfo_t *si, void *uc) {
  uintptr_t a = (uintptr_t)si->si_addr, page = (uintptr_t)sysconf(_SC_PAGESIZE);
  (void)uc;
  for (size_t i = 0; i < NMAPS; i++)
    if (a >= atomic_load(&map_lo[i]) && a < atomic_load(&map_hi[i])) {
      void *p = (void *)(a & ~(page - 1));
      if (mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
        atomic_fetch_add(&map_faults, 1);
        return;
      }
    }
  /* Not ours: the previous disposition handles a fault when the access repeats, and a
     SIGBUS that was sent (kill, raise) is sent again to it. */
  sigaction(sig, &map_saved, NULL);
  if (si->si_code <= 0)
    raise(sig);
}

static void map_register(const void *data, size_t size) {
  struct sigaction sa;
  pthread_mutex_lock(&map_lock);
  for (size_t i = 0; i < NMAPS; i++)
    if (atomic_load(&map_lo[i]) == 0) {
      atomic_store(&map_hi[i], (uintptr_t)data + size);
      atomic_store(&map_lo[i], (uintptr_t)data);
      break;
    }
  if (map_users++ == 0) {
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &map_saved);
  }
  pthread_mutex_unlock(&map_lock);
}

static void map_unregister(const void *data) {
  pthread_mutex_lock(&map_lock);
  for (size_t i = 0; i < NMAPS; i++)
    if (atomic_load(&map_lo[i]) == (uintptr_t)data) {
      atomic_store(&map_lo[i], 0);
      atomic_store(&map_hi[i], 0);
      break;
    }
  if (--map_users == 0)
    sigaction(SIGBUS, &map_saved, NULL);
  pthread_mutex_unlock(&map_lock);
}

unsigned tp_map_faults(void) { return atomic_load(&map_faults); }

int tp_map_shrank(const char *path) {
  return tp_err(TP_ECORRUPT, path, -1,
                "file shrank while being read (truncated or rotated by another program?); "
                "nothing was kept: read it again once it is complete");
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
  map_register(m->data, m->size);
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
  if (m->mapped) {
    map_unregister(m->data);
    munmap((void *)m->data, m->size);
  } else {
    free((void *)m->data);
  }
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
                S_ISBLK(st.st_mode) ? "block device" : S_ISSOCK(st.st_mode) ? "socket"
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
   made a 64 MiB matrix 8196 write calls (strace). If malloc fails, stdio's own is used. */
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

/* ---- the scratch directory ---- */

static char *scratch_dir;  /* absolute, malloc'ed; NULL until made */
static pid_t scratch_pid;  /* the process that made it */

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
  if (!scratch_dir)
    return;
  /* A forked child exiting must not take it away; mode 0700 and made by mkdtemp, so
     every entry is ours, and none is a directory. */
  if (getpid() == scratch_pid) {
    tp_cleanup_remove(scratch_dir);
    tp_remove_flat_dir(scratch_dir);
  }
  free(scratch_dir);
  scratch_dir = NULL;
}

static void scratch_at_exit(void) { tp_scratch_remove(); }

/* This machine's name as it goes into scratch names: letters, digits, '.' and '_' only,
   so a name's last two '-' fields are always the pid and mkdtemp's suffix. */
static void host_tag(char *out, size_t n) {
  char h[256] = "";
  size_t j = 0;
  gethostname(h, sizeof h - 1);
  for (size_t i = 0; h[i] && j + 1 < n; i++)
    if ((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
        (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '_')
      out[j++] = h[i];
  if (j == 0)
    out[j++] = 'h';
  out[j] = '\0';
}

/* Remove the scratch directories that sessions on this host left behind when they were
   killed (SIGKILL, or SIGTERM outside a module call): "trainplot-HOST-PID-XXXXXX" of
   this user whose PID is gone. Other hosts' directories (a shared TMPDIR) stay. */
static void sweep_stale(const char *base, const char *host) {
  DIR *d = opendir(base);
  struct dirent *e;
  size_t hl = strlen(host);
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name, *p;
    char *end, *path;
    long pid;
    struct stat st;
    if (strncmp(n, "trainplot-", 10) || strncmp(n + 10, host, hl) || n[10 + hl] != '-')
      continue;
    p = n + 11 + hl;
    pid = strtol(p, &end, 10);
    if (end == p || *end != '-' || strlen(end) != 7 || pid <= 0 || pid == getpid())
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue;
    if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid())
      continue;
    if (asprintf(&path, "%s/%s", base, n) >= 0) {
      tp_remove_flat_dir(path);
      free(path);
    }
  }
  closedir(d);
}

/* Make the directory under base; sets scratch_dir. */
static int scratch_make(const char *base) {
  static int registered;
  char host[64], *dir, *abs;
  host_tag(host, sizeof host);
  sweep_stale(base, host);
  if (asprintf(&dir, "%s/trainplot-%s-%ld-XXXXXX", base, host, (long)getpid()) < 0)
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  if (!mkdtemp(dir)) {
    int rc = tp_err_errno(TP_EIO, base,
                          "cannot create a scratch directory (set TMPDIR to a writable "
                          "directory)");
    free(dir);
    return rc;
  }
  /* Absolute, so a script's cd cannot break it and gnuplot's "set output" never sees a
     leading '|' from TMPDIR. */
  if (!(abs = realpath(dir, NULL))) {
    int rc = tp_err_errno(TP_EIO, dir, "cannot resolve the scratch directory");
    rmdir(dir);
    free(dir);
    return rc;
  }
  free(dir);
  scratch_dir = abs;
  scratch_pid = getpid();
  tp_cleanup_add(scratch_dir, 1);
  /* From a shared module, atexit runs the handler when the module is unloaded too. */
  if (!registered && atexit(scratch_at_exit) == 0)
    registered = 1;
  return 0;
}

int tp_scratch_path(const char *name, char **out) {
  const char *base = getenv("TMPDIR");
  int rc;
  *out = NULL;
  if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0 || strlen(name) > NAME_MAX || !tp_text_is_clean(name))
    return tp_err(TP_EINVAL, NULL, -1,
                  "a scratch name must be a plain file name (no '/', no control "
                  "characters, not '.' or '..')");
  if (scratch_dir && getpid() != scratch_pid) {
    free(scratch_dir); /* a forked child makes its own */
    scratch_dir = NULL;
  }
  if (!scratch_dir && (rc = scratch_make(base && *base ? base : "/tmp")) < 0)
    return rc;
  if (asprintf(out, "%s/%s", scratch_dir, name) < 0) {
    *out = NULL;
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  }
  return 0;
}

int tp_scratch_owns(const char *path) {
  size_t n = scratch_dir ? strlen(scratch_dir) : 0;
  return n > 0 && path && strncmp(path, scratch_dir, n) == 0 && path[n] == '/' &&
         path[n + 1] && !strchr(path + n + 1, '/');
}
