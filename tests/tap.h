/* A tiny check-only TAP producer for the C test programs. */
#ifndef TP_TAP_H
#define TP_TAP_H

/* Announce the plan; compute n from the case table, never type it. */
void tap_plan(int n);
/* One check; the description reads "function - case, expect X". Returns cond. */
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Compare doubles within an absolute tolerance (NaN equals NaN). */
int tap_near(double got, double want, double tol, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Compare strings; NULL never matches. */
int tap_streq(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Mark the next n checks as skipped, with a reason. */
void tap_skip(int n, const char *reason);
/* A diagnostic line ("# …"). */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Finish: 0 when every check passed and the plan was met, else 1. */
int tap_done(void);
/* Directory of the source tree's tests/ (from $top_srcdir), for data files. */
const char *tap_srcdir(void);
/* A fresh scratch directory for this test program (removed by the harness' make clean). */
const char *tap_tmpdir(void);

#endif
