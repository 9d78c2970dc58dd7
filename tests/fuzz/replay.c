/* Replays a fuzz target's corpus as a TAP test, so make check exercises it without clang. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tap.h"
#include "fuzz.h"

#define REPLAY_MAX_FILES 4096

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus file names of dir (dot-files and subdirectories skipped), sorted; NULL if absent. */
static char **corpus_names(const char *dir, size_t *n) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char **v;
  *n = 0;
  if (!d || !(v = calloc(REPLAY_MAX_FILES, sizeof *v))) {
    if (d)
      closedir(d);
    return NULL;
  }
  while ((e = readdir(d)) && *n < REPLAY_MAX_FILES)
    if (e->d_name[0] != '.' && strcmp(e->d_name, "README") != 0)
      v[(*n)++] = strdup(e->d_name);
  closedir(d);
  qsort(v, *n, sizeof *v, cmp_str);
  return v;
}

/* The whole of path in a malloc'ed buffer; NULL when it cannot be read. */
static unsigned char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  long len;
  if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len)
    *size = (size_t)len;
  else
    free(buf), buf = NULL;
  if (f)
    fclose(f);
  return buf;
}

/* One corpus file through the target; a violated invariant or unreadable file fails it. */
static void replay_one(const char *dir, const char *name) {
  char path[8192];
  size_t size = 0;
  unsigned char *buf;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!(buf = slurp(path, &size))) {
    tap_ok(0, "%s replay - %s, expect a readable corpus file", fuzz_name, name);
    return;
  }
  fuzz_violation_clear();
  LLVMFuzzerTestOneInput(buf, size);
  free(buf);
  if (!tap_ok(fuzz_violation() == NULL,
              "%s replay - %s (%zu bytes), expect a result or a clear error", fuzz_name, name,
              size))
    tap_diag("%s", fuzz_violation());
}

int main(int argc, char **argv) {
  char dir[4096];
  const char *why = NULL;
  char **names;
  size_t n;
  if (argc > 1)
    snprintf(dir, sizeof dir, "%s", argv[1]);
  else
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", tap_srcdir(), fuzz_name);
  if (!fuzz_available(&why)) {
    printf("1..0 # SKIP %s\n", why);
    return 0;
  }
  if (!(names = corpus_names(dir, &n))) {
    printf("1..0 # SKIP no corpus directory %s\n", dir);
    return 0;
  }
  fuzz_replay_mode = 1;
  fuzz_setup();
  tap_plan((int)n);
  for (size_t i = 0; i < n; i++) {
    replay_one(dir, names[i]);
    free(names[i]);
  }
  free(names);
  return tap_done();
}
