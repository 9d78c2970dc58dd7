/* Read-only file mapping that survives the file shrinking under it, and file heads. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "tp_map.h"

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
    return tp_err_errno(errno == ENOENT ? TP_ENOENT : TP_EIO, path, "cannot open");
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
    return tp_err_errno(errno == ENOENT ? TP_ENOENT : TP_EIO, path, "cannot open");
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
