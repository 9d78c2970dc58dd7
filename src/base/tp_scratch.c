/* The session's private scratch directory: made on first use, removed at exit, stale ones swept. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_scratch.h"
#include "tp_signal.h"
#include "tp_text.h"

static char *scratch_dir; /* absolute, malloc'ed; NULL until made */
static pid_t scratch_pid; /* the process that made it */

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
  if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
      strlen(name) > NAME_MAX || !tp_text_is_clean(name))
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
  return n > 0 && path && strncmp(path, scratch_dir, n) == 0 && path[n] == '/' && path[n + 1] &&
         !strchr(path + n + 1, '/');
}
