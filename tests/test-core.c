/* Core family tests: the error table and record, limits, atomic output. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tp_error.h"
#include "tp_jobs.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_out.h"
#include "tp_scratch.h"

/* The error table's rows, counted from the X-macro only to know how many to expect. */
#define ROW(n, v, x, t) +1
enum { NERR = 0 TP_ERRNO_MAP(ROW) };
#undef ROW

/* Every code the table knows has a TP_E name, a text and an exit status of 1 or 2, no two
   share a code or a name, and codes outside the table map to the unknown entry. */
static void check_errors(void) {
  char buf[1024];
  const char *names[128] = {0};
  int known = 0, unique = 1, sane = 1;
  for (int code = -1; code >= -127; code--) {
    const char *n = tp_errname(code);
    if (!strcmp(n, "TP_EUNKNOWN")) {
      sane = sane && !strcmp(tp_strerror(code), "unknown error") && tp_err_exit(code) == 2;
      continue;
    }
    known++;
    sane = sane && !strncmp(n, "TP_E", 4) && strcmp(tp_strerror(code), "unknown error") &&
           (tp_err_exit(code) == 1 || tp_err_exit(code) == 2);
    for (int k = 0; k < known - 1; k++)
      unique = unique && strcmp(names[k], n);
    names[known - 1] = n;
  }
  tap_ok(known == NERR,
         "tp_errname - codes -1..-127, expect the table's %d rows, each at its "
         "own code (got %d)",
         NERR, known);
  tap_ok(unique, "tp_errname - expect no two codes with one name");
  tap_ok(sane, "tp_strerror, tp_err_exit - known codes have a text and exit 1 or 2; the "
               "others 'unknown error', TP_EUNKNOWN and exit 2");
  tap_ok(tp_err_exit(TP_OK) == 0 && tp_err_exit(TP_EINVAL) == 1 && tp_err_exit(TP_ENOMEM) == 2 &&
             tp_err_exit(12345) == 2,
         "tp_err_exit - TP_OK 0, TP_EINVAL 1, TP_ENOMEM 2, a positive junk code 2");
  tap_streq(tp_errname(TP_ENOKEY), "TP_ENOKEY", "tp_errname - TP_ENOKEY, expect 'TP_ENOKEY'");
  tap_ok(strcmp(tp_strerror(TP_ENOKEY), "key not found") == 0,
         "tp_strerror - TP_ENOKEY, expect 'key not found'");
  tap_ok(tp_err(TP_ECORRUPT, "a.npy", 10, "header ends at %d", 9) == TP_ECORRUPT,
         "tp_err - returns its code, expect TP_ECORRUPT");
  tap_streq(tp_err_format(buf, sizeof buf), "a.npy: offset 10: header ends at 9",
            "tp_err_format - file and offset, expect 'a.npy: offset 10: …'");
  tp_err_line(TP_EFORMAT, "log.txt", 7, "bad number");
  tap_streq(tp_err_format(buf, sizeof buf), "log.txt: line 7: bad number",
            "tp_err_format - file and line, expect 'log.txt: line 7: …'");
}

static void check_sizes(void) {
  uint64_t out;
  tap_ok(tp_size_mul(1ULL << 40, 1ULL << 30, &out, "x") == TP_EOVERFLOW,
         "tp_size_mul - 2^40 x 2^30, expect TP_EOVERFLOW");
  tap_ok(tp_size_mul(1026, 256, &out, "x") == 0 && out == 262656,
         "tp_size_mul - 1026 x 256, expect 262656");
  tap_ok(tp_size_check(1ULL << 62, "x", "table") == TP_ELIMIT,
         "tp_size_check - 2^62 bytes, expect TP_ELIMIT");
}

static int slurp_eq(const char *path, const char *want) {
  char buf[256] = "";
  FILE *fp = fopen(path, "rb");
  size_t n;
  if (!fp)
    return 0;
  n = fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  return strcmp(buf, want) == 0;
}

static void check_output(void) {
  char path[512], other[512];
  struct tp_out o;
  struct tp_map m;
  snprintf(path, sizeof path, "%s/out.txt", tap_tmpdir());
  snprintf(other, sizeof other, "%s/./out.txt", tap_tmpdir());
  tap_ok(tp_out_open(&o, path, NULL) == 0 && fputs("first\n", o.fp) >= 0 &&
             tp_out_commit(&o) == 0 && slurp_eq(path, "first\n"),
         "tp_out_commit - new file, expect contents written");
  tap_ok(tp_out_open(&o, path, NULL) == 0 && fputs("second\n", o.fp) >= 0 &&
             (tp_out_abort(&o), slurp_eq(path, "first\n")),
         "tp_out_abort - after partial write, expect previous contents intact");
  tap_ok(tp_out_open(&o, other, path) == TP_EINVAL,
         "tp_out_open - output is the input, expect TP_EINVAL");
  tap_ok(tp_map_open(tap_tmpdir(), &m) == TP_EIO, "tp_map_open - a directory, expect TP_EIO");
  tap_ok(tp_map_open("/nonexistent/x", &m) == TP_ENOENT,
         "tp_map_open - missing file, expect TP_ENOENT");
  tap_ok(tp_map_open(path, &m) == 0 && m.size == 6 && memcmp(m.data, "first\n", 6) == 0,
         "tp_map_open - regular file, expect its bytes");
  tp_map_close(&m);
  unlink(path);
  rmdir(tap_tmpdir());
}

/* The thread count: at least 1, at most the cap, lowered (never raised) by the env. */
static void check_threads(void) {
  unsetenv("TRAINPLOT_THREADS");
  int all = tp_threads(64);
  tap_ok(all >= 1 && all <= 64 && tp_threads(1) == 1,
         "tp_threads - no env, expect 1..64 (got %d) and the cap honoured", all);
  setenv("TRAINPLOT_THREADS", "1", 1);
  int one = tp_threads(64);
  setenv("TRAINPLOT_THREADS", "100000", 1);
  int big = tp_threads(64);
  setenv("TRAINPLOT_THREADS", "two", 1);
  int bad = tp_threads(64);
  unsetenv("TRAINPLOT_THREADS");
  tap_ok(one == 1 && big == all && bad == all,
         "tp_threads - TRAINPLOT_THREADS 1 / 100000 / 'two', expect 1 / %d / %d (got %d/%d/%d)",
         all, all, one, big, bad);
}

/* The scratch directory: under TMPDIR, private, owns only its direct entries, takes
   atomic outputs, and goes away with its files. */
static void check_scratch(void) {
  char base[512], *a = NULL, *b = NULL, *c = NULL;
  struct tp_out o;
  struct stat st;
  const char *old = getenv("TMPDIR");
  char *saved = old ? strdup(old) : NULL;
  snprintf(base, sizeof base, "%s", tap_tmpdir());
  mkdir(base, 0700); /* check_output removed it */
  setenv("TMPDIR", base, 1);
  int made = tp_scratch_path("sim.bin", &a) == 0 && tp_scratch_path("profile.txt", &b) == 0;
  size_t dirlen = a && strrchr(a, '/') ? (size_t)(strrchr(a, '/') - a) : 0;
  char dir[512];
  snprintf(dir, sizeof dir, "%.*s", (int)dirlen, a ? a : "");
  tap_ok(made && strncmp(a, base, strlen(base)) == 0 && strstr(a, "/trainplot-") &&
             strncmp(a, b, dirlen + 1) == 0 && stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
         "tp_scratch_path - two names, expect one mode-0700 trainplot-* directory under TMPDIR");
  tap_ok(made && tp_scratch_owns(a) && !tp_scratch_owns(dir) && !tp_scratch_owns(base) &&
             !tp_scratch_owns("/tmp/sim.bin"),
         "tp_scratch_owns - its file yes; the directory, TMPDIR and other paths no");
  tap_ok(tp_scratch_path("../x", &c) == TP_EINVAL && !c && tp_scratch_path("", &c) == TP_EINVAL &&
             tp_scratch_path("..", &c) == TP_EINVAL && tp_scratch_path("a/b", &c) == TP_EINVAL,
         "tp_scratch_path - '../x', '', '..', 'a/b', expect TP_EINVAL");
  tap_ok(made && tp_out_open(&o, a, NULL) == 0 && o.sync == 0 && fputs("x\n", o.fp) >= 0 &&
             tp_out_commit(&o) == 0 && slurp_eq(a, "x\n"),
         "tp_out - inside scratch, expect written without fsync (sync 0)");
  tp_scratch_remove();
  tap_ok(made && stat(dir, &st) != 0 && !tp_scratch_owns(a),
         "tp_scratch_remove - expect the directory and its file gone");
  free(a), free(b), a = NULL;
  /* A relative TMPDIR is resolved once, so a later chdir does not lose the directory. */
  char cwd[512] = "";
  int rel = getcwd(cwd, sizeof cwd) != NULL && chdir(base) == 0;
  setenv("TMPDIR", ".", 1);
  rel = rel && tp_scratch_path("x", &a) == 0 && a[0] == '/' && strncmp(a, base, strlen(base)) == 0;
  if (cwd[0] && chdir(cwd) != 0)
    rel = 0;
  tp_scratch_remove();
  tap_ok(rel, "tp_scratch_path - TMPDIR '.', expect an absolute path under it (got %s)",
         a ? a : "(none)");
  free(a);
  if (saved)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
  free(saved);
  rmdir(tap_tmpdir());
}

int main(void) {
  /* No tap_plan: tap_done prints the plan from the checks that ran. */
  check_errors();
  check_sizes();
  check_output();
  check_threads();
  check_scratch();
  return tap_done();
}
