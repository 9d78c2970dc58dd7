/* The body of a log-reader fuzz target: sniff, then read with the default and a named key.
   Include it after defining FUZZ_NAME (corpus name) and FUZZ_LOG (a reader name from the
   table, or "" for detection by content as 'trainplot gradnorm stats' does it). */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "tp_error.h"
#include "tp_log_int.h"

const char fuzz_name[] = FUZZ_NAME;
static const char *const log_name = FUZZ_LOG;

/* The reader called FUZZ_LOG in the table, or NULL. */
static const struct tp_series_reader *reader(void) {
  size_t n;
  const struct tp_series_reader *const *t = tp_series_readers(&n);
  for (size_t i = 0; *log_name && i < n; i++)
    if (strcmp(t[i]->name, log_name) == 0)
      return t[i];
  return NULL;
}

int fuzz_available(const char **why) {
  *why = "the log reader '" FUZZ_NAME "' is not in the reader table yet";
  return !*log_name || reader() != NULL;
}

/* One read with options o, checked either way; then again cut into three parts (what a
   big file gets on a multi-core machine), which must give the same result. */
static void read_check(const char *path, const struct tp_series_opts *o) {
  const struct tp_series_reader *r = reader();
  struct tp_series *s = NULL, *p = NULL;
  int rc = r ? r->read(path, o, &s) : tp_series_read(path, o, &s), rc3;
  fuzz_check_rc(rc, "read");
  if (rc == 0)
    fuzz_check_series(s);
  tp__parts_force = 3;
  rc3 = r ? r->read(path, o, &p) : tp_series_read(path, o, &p);
  tp__parts_force = 0;
  fuzz_check_rc(rc3, "read in parts");
  fuzz_expect(rc == rc3 && (rc < 0 || (s->n == p->n && s->n_malformed == p->n_malformed &&
                                       s->n_overflow == p->n_overflow)),
              "read in 3 parts differs from one pass (rc %d/%d)", rc, rc3);
  if (rc3 == 0)
    fuzz_check_series(p);
  tp_series_free(s);
  tp_series_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct tp_series_reader *r = reader();
  struct tp_series_opts o = {0};
  const char *path;
  if (*log_name && !r)
    return 0;
  path = fuzz_file(data, size);
  if (r) {
    int c = r->sniff(data, size);
    fuzz_expect(c >= 0 && c <= 100, "sniff confidence %d outside 0..100", c);
  }
  read_check(path, &o);
  o.key = "loss";
  o.use_valid = 1;
  read_check(path, &o);
  tp_err_clear();
  return 0;
}
