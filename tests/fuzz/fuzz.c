/* The parts every fuzz target shares: limits, the scratch file and the invariants. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "tp_error.h"
#include "tp_limits.h"

int fuzz_replay_mode;
static char violation[512];
static char scratch[4096];
static volatile double sink; /* keeps the reading loops from being optimised away */

__attribute__((weak)) int fuzz_available(const char **why) {
  *why = NULL;
  return 1;
}

/* libFuzzer calls this once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *why = NULL;
  (void)argc, (void)argv;
  if (!fuzz_available(&why)) {
    printf("fuzz target %s: skipped: %s\n", fuzz_name, why);
    exit(0);
  }
  fuzz_setup();
  return 0;
}

void fuzz_setup(void) {
  /* 64 MiB and 8 M elements are far above every seed, far below a runaway header. */
  struct tp_limits l = *tp_limits_get();
  l.max_bytes = 64ULL << 20;
  l.max_elements = 8ULL << 20;
  tp_limits_set(&l);
}

/* One scratch file per process, in /dev/shm when there is one, removed at exit. */
static void scratch_remove(void) {
  if (*scratch)
    unlink(scratch);
}

/* A target killed by a signal (libFuzzer leaves through _Exit on SIGINT and timeouts)
   never runs atexit, so each new process first removes this user's scratch files whose
   process is gone: tp-fuzz-NAME-PID with no process PID. */
static void scratch_sweep(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (!d)
    return;
  while ((e = readdir(d))) {
    char path[4096], *end;
    const char *dash = strrchr(e->d_name, '-');
    struct stat st;
    long pid;
    if (strncmp(e->d_name, "tp-fuzz-", 8) != 0 || !dash)
      continue;
    pid = strtol(dash + 1, &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid())
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue; /* alive, or not ours to ask about */
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
      continue;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid())
      unlink(path);
  }
  closedir(d);
}

const char *fuzz_file(const uint8_t *data, size_t size) {
  int fd;
  if (!*scratch) {
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    dir = dir ? dir : "/tmp";
    scratch_sweep(dir);
    snprintf(scratch, sizeof scratch, "%s/tp-fuzz-%s-%ld", dir, fuzz_name, (long)getpid());
    atexit(scratch_remove);
  }
  fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) {
    perror(scratch);
    abort(); /* the harness itself is broken, not the reader */
  }
  close(fd);
  return scratch;
}

void fuzz_expect(int cond, const char *fmt, ...) {
  va_list ap;
  if (cond)
    return;
  if (!fuzz_replay_mode) {
    va_start(ap, fmt);
    fprintf(stderr, "fuzz invariant violated: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
  }
  if (*violation)
    return; /* keep the first one */
  va_start(ap, fmt);
  vsnprintf(violation, sizeof violation, fmt, ap);
  va_end(ap);
}

const char *fuzz_violation(void) { return *violation ? violation : NULL; }
void fuzz_violation_clear(void) { *violation = 0; }

void fuzz_check_rc(int rc, const char *what) {
  const struct tp_errinfo *e = tp_err_last();
  if (rc == 0)
    return;
  fuzz_expect(rc < 0 && rc >= TP_EINTERNAL, "%s: return code %d is not a TP_E code", what, rc);
  fuzz_expect(e->code == rc, "%s: returned %d but recorded %d", what, rc, e->code);
  fuzz_expect(e->detail[0] != 0, "%s: %s without a message", what, tp_errname(rc));
  fuzz_expect(rc != TP_EINTERNAL, "%s: internal error on input: %s", what, e->detail);
}

/* Product of the shape, or 0 with *ok cleared when it overflows. */
static uint64_t shape_count(int ndim, const uint64_t *shape, int *ok) {
  uint64_t n = 1;
  *ok = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] && n > UINT64_MAX / shape[i])
      *ok = 0;
    n *= shape[i];
  }
  return n;
}

void fuzz_check_tensor(const struct tp_tensor *t) {
  int ok;
  double sum = 0;
  fuzz_expect(t != NULL, "load succeeded without a tensor");
  if (!t)
    return;
  fuzz_expect(t->ndim >= 0 && t->ndim <= TP_MAXDIM, "tensor ndim %d", t->ndim);
  if (t->ndim < 0 || t->ndim > TP_MAXDIM)
    return;
  fuzz_expect(shape_count(t->ndim, t->shape, &ok) == t->count && ok,
              "tensor count %llu is not the product of its shape", (unsigned long long)t->count);
  fuzz_expect(t->count <= tp_limits_get()->max_elements, "tensor of %llu elements passed the limit",
              (unsigned long long)t->count);
  fuzz_expect(t->dtype == TP_F32 || t->dtype == TP_F64, "tensor dtype %d", (int)t->dtype);
  fuzz_expect(t->name != NULL && (t->count == 0 || t->data != NULL), "tensor without name or data");
  if (!ok || !t->data || t->count > tp_limits_get()->max_elements)
    return;
  for (uint64_t i = 0; i < t->count; i++) /* reading all of it lets ASan see the bounds */
    sum += tp_tensor_get(t, i);
  sink = sum;
}

void fuzz_check_list(const struct tp_tensor_list *l) {
  fuzz_expect(l != NULL, "list succeeded without a list");
  if (!l)
    return;
  fuzz_expect(l->n == 0 || l->items != NULL, "list of %zu without items", l->n);
  for (size_t i = 0; i < l->n && l->items; i++) {
    fuzz_expect(l->items[i].name != NULL, "list item %zu has no name", i);
    fuzz_expect(l->items[i].ndim >= 0 && l->items[i].ndim <= TP_MAXDIM, "list item %zu ndim %d", i,
                l->items[i].ndim);
    fuzz_expect(memchr(l->items[i].dtype, 0, sizeof l->items[i].dtype) != NULL,
                "list item %zu dtype not terminated", i);
  }
}

void fuzz_check_series(const struct tp_series *s) {
  double sum = 0;
  fuzz_expect(s != NULL, "read succeeded without a series");
  if (!s)
    return;
  fuzz_expect(s->n > 0, "read succeeded with an empty series (expected TP_EEMPTY)");
  fuzz_expect(s->n <= s->cap && s->n_overflow <= s->cap_overflow, "series count past capacity");
  fuzz_expect(s->n <= tp_limits_get()->max_elements, "series of %zu points passed the limit", s->n);
  fuzz_expect(memchr(s->format, 0, sizeof s->format) && memchr(s->key, 0, sizeof s->key),
              "series format/key not terminated");
  for (size_t i = 0; i < s->n; i++)
    sum += tp_series_step(s, i) + s->value[i];
  for (size_t i = 0; i < s->n_overflow; i++)
    sum += s->overflow_step[i];
  sink = sum;
}
