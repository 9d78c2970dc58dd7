/* TAP output for the C tests: plan, ok/not ok with descriptions, skips, summary. */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tp_scratch.h"

static int planned = -1, run, failed;

/* The interrupt checks raise SIGINT at themselves. A harness that starts the tests as a
   background job hands them SIGINT ignored, which the modules rightly leave alone, so the
   checks would see nothing: give them the default disposition back before main. */
__attribute__((constructor)) static void default_signals(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}
static char srcdir[4096], tmpdir[4096];

void tap_plan(int n) {
  planned = n;
  printf("1..%d\n", n);
  fflush(stdout);
}

static int vreport(int cond, const char *fmt, va_list ap) {
  run++;
  if (!cond)
    failed++;
  printf("%s %d - ", cond ? "ok" : "not ok", run);
  vprintf(fmt, ap);
  putchar('\n');
  fflush(stdout);
  return cond;
}

int tap_ok(int cond, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(cond, fmt, ap);
  va_end(ap);
  return cond;
}

int tap_near(double got, double want, double tol, const char *fmt, ...) {
  va_list ap;
  int cond = (isnan(got) && isnan(want)) || (got == want) || fabs(got - want) <= tol;
  va_start(ap, fmt);
  vreport(cond, fmt, ap);
  va_end(ap);
  if (!cond)
    printf("#   got %.17g, want %.17g (tolerance %g)\n", got, want, tol);
  return cond;
}

int tap_streq(const char *got, const char *want, const char *fmt, ...) {
  va_list ap;
  int cond = got && want && strcmp(got, want) == 0;
  va_start(ap, fmt);
  vreport(cond, fmt, ap);
  va_end(ap);
  if (!cond)
    printf("#   got '%s', want '%s'\n", got ? got : "(null)", want ? want : "(null)");
  return cond;
}

void tap_skip(int n, const char *reason) {
  for (int i = 0; i < n; i++) {
    run++;
    printf("ok %d # SKIP %s\n", run, reason);
  }
  fflush(stdout);
}

void tap_diag(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("# ");
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
  fflush(stdout);
}

int tap_done(void) {
  /* The checks write plain files only; before this, every make check left a tp-test-*
     directory in /tmp. */
  if (tmpdir[0])
    tp_remove_flat_dir(tmpdir);
  if (planned >= 0 && run != planned) {
    printf("# planned %d checks but ran %d\n", planned, run);
    return 1;
  }
  if (planned < 0)
    printf("1..%d\n", run);
  return failed ? 1 : 0;
}

const char *tap_srcdir(void) {
  const char *t = getenv("top_srcdir");
  snprintf(srcdir, sizeof srcdir, "%s/tests", t ? t : "..");
  return srcdir;
}

const char *tap_tmpdir(void) {
  if (!tmpdir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/tp-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
      perror("mkdtemp");
      exit(2);
    }
  }
  return tmpdir;
}
