/* Fuzz target: the restricted pickle VM on raw bytes (no file, no torch container). */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "tp_error.h"
#include "tp_pickle.h"

const char fuzz_name[] = "pickle";

/* Touch every object the VM built: strings, items and tensor shapes. */
static void check_objects(const struct tp_pickle *p) {
  size_t n = tp_pickle_count(p), bytes = 0;
  for (size_t i = 0; i < n; i++) {
    const struct tp_pkobj *o = tp_pickle_obj(p, i);
    fuzz_expect(o != NULL, "object %zu of %zu is NULL", i, n);
    if (!o)
      continue;
    if (o->s && (o->type == TP_PK_STR || o->type == TP_PK_BYTES))
      for (size_t j = 0; j < o->len; j++)
        bytes += (unsigned char)o->s[j];
    else if (o->s)
      bytes += strlen(o->s);
    fuzz_expect(o->n <= o->cap || o->cap == 0, "object %zu: %zu items past capacity %zu", i, o->n,
                o->cap);
    for (size_t j = 0; j < o->n && o->v; j++)
      fuzz_expect(o->v[j] != NULL, "object %zu item %zu is NULL", i, j);
    fuzz_expect(o->type != TP_PK_TENSOR || (o->ndim >= 0 && o->ndim <= TP_MAXDIM),
                "tensor object ndim %d", o->ndim);
  }
  (void)bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct tp_pickle *p = NULL;
  struct tp_pkobj *root = NULL;
  size_t used = 0;
  int rc = tp_pickle_load(data, size, "fuzz.pkl", 0, &p, &root, &used);
  fuzz_check_rc(rc, "tp_pickle_load");
  if (rc == 0) {
    fuzz_expect(root != NULL, "pickle loaded without a root");
    fuzz_expect(used <= size, "pickle used %zu of %zu bytes", used, size);
    check_objects(p);
    (void)tp_pickle_dict_get(root, "model");
  }
  tp_pickle_free(p);
  tp_err_clear();
  return 0;
}
