/* Deferred SIGINT/SIGTERM for module calls, and the host's remove-then-die handler. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_signal.h"

static const int deferred[] = {SIGINT, SIGTERM};
#define NDEFERRED (sizeof deferred / sizeof deferred[0])

static struct sigaction saved[NDEFERRED];
static int depth;              /* nesting of enter/leave; module calls are single-threaded */
static atomic_int pending_sig; /* the signal that arrived, 0 when none */

static void on_deferred(int sig) {
  int none = 0;
  atomic_compare_exchange_strong_explicit(&pending_sig, &none, sig, memory_order_relaxed,
                                          memory_order_relaxed);
}

void tp_intr_enter(void) {
  struct sigaction sa;
  if (depth++ > 0)
    return;
  atomic_store_explicit(&pending_sig, 0, memory_order_relaxed);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_deferred;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < NDEFERRED; i++) {
    /* An ignored signal (gnuplot in a shell's background job) stays ignored. */
    if (sigaction(deferred[i], NULL, &saved[i]) == 0 && saved[i].sa_handler == SIG_IGN)
      continue;
    sigaction(deferred[i], &sa, NULL);
  }
}

int tp_intr_leave(void) {
  if (depth == 0 || --depth > 0)
    return 0;
  for (size_t i = 0; i < NDEFERRED; i++)
    if (saved[i].sa_handler != SIG_IGN)
      sigaction(deferred[i], &saved[i], NULL);
  return atomic_exchange_explicit(&pending_sig, 0, memory_order_relaxed);
}

int tp_intr_pending(void) { return atomic_load_explicit(&pending_sig, memory_order_relaxed) != 0; }

int tp_intr_check(void) {
  if (!tp_intr_pending())
    return 0;
  return tp_err(TP_EINTR, NULL, -1, "interrupted");
}

/* ---- the host's cleanup on a fatal signal ---- */

#define NSLOTS 64
static const char *_Atomic slot[NSLOTS];
static atomic_int slot_dir[NSLOTS];

void tp_cleanup_add(const char *path, int is_dir) {
  for (size_t i = 0; i < NSLOTS; i++) {
    const char *empty = NULL;
    atomic_store(&slot_dir[i], is_dir);
    if (atomic_compare_exchange_strong(&slot[i], &empty, path))
      return;
  }
  /* Full: the path is simply not cleaned up by a signal, as before this registry. */
}

void tp_cleanup_remove(const char *path) {
  for (size_t i = 0; i < NSLOTS; i++) {
    const char *p = path;
    if (atomic_compare_exchange_strong(&slot[i], &p, NULL))
      return;
  }
}

/* The kernel's record for getdents64 (linux_dirent64). */
struct dirent64_rec {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

/* Unlink the plain files in dir with raw getdents64, which is safe in a handler where
   opendir's malloc is not. */
static void empty_dir(const char *dir) {
  char buf[4096];
  long n;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return;
  while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      const char *rec = buf + off;
      unsigned short reclen;
      const char *name = rec + offsetof(struct dirent64_rec, name);
      memcpy(&reclen, rec + offsetof(struct dirent64_rec, reclen), sizeof reclen);
      if (reclen == 0)
        break;
      if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
        unlinkat(fd, name, 0);
      off += reclen;
    }
  }
  close(fd);
}

static void on_fatal(int sig) {
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < NSLOTS; i++) {
      const char *p = atomic_load(&slot[i]);
      int dir = atomic_load(&slot_dir[i]);
      if (!p || dir != pass)
        continue;
      if (dir) {
        empty_dir(p);
        rmdir(p);
      } else {
        unlink(p);
      }
    }
  signal(sig, SIG_DFL);
  raise(sig);
}

void tp_signals_cleanup_on_exit(void) {
  static const int fatal[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal;
  sigfillset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
    struct sigaction old;
    /* A signal the caller ignores (nohup, a shell's background job) stays ignored. */
    if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    sigaction(fatal[i], &sa, NULL);
  }
}
