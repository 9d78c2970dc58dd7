/* The body of a tensor-reader fuzz target: sniff, list, load the default and each listed key.
   Include it after defining FUZZ_NAME (corpus name) and FUZZ_READER (a reader, or NULL for
   detection by content as the commands do it). */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "tp_error.h"
#include "tp_tensor_int.h"

#define FUZZ_MAX_KEYS 4 /* loading more listed keys finds nothing new, only costs time */

const char fuzz_name[] = FUZZ_NAME;

static int list_any(const char *path, struct tp_tensor_list **l) {
  const struct tp_tensor_reader *r = FUZZ_READER;
  return r ? r->list(path, l) : tp_tensor_list_file(path, l);
}

static int load_any(const char *path, const char *key, struct tp_tensor **t) {
  const struct tp_tensor_reader *r = FUZZ_READER;
  return r ? r->load(path, key, t) : tp_tensor_load_file(path, key, t);
}

/* Load one key and check the result either way. */
static void load_check(const char *path, const char *key) {
  struct tp_tensor *t = NULL;
  int rc = load_any(path, key, &t);
  fuzz_check_rc(rc, "load");
  if (rc == 0)
    fuzz_check_tensor(t);
  tp_tensor_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct tp_tensor_reader *r = FUZZ_READER;
  const char *path = fuzz_file(data, size);
  struct tp_tensor_list *l = NULL;
  int rc;
  if (r)
    (void)r->sniff(data, size);
  rc = list_any(path, &l);
  fuzz_check_rc(rc, "list");
  load_check(path, "");
  if (rc == 0) {
    fuzz_check_list(l);
    for (size_t i = 0; i < l->n && i < FUZZ_MAX_KEYS; i++)
      load_check(path, l->items[i].name);
  }
  tp_tensor_list_free(l);
  tp_err_clear();
  return 0;
}
