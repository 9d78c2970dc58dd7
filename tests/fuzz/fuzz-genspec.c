/* Fuzz target: generator specs ("sinusoidal:NxD,padding_idx=P,layout=L") as any INPUT is
   tried, through tp_tensor_load_file; the input is the text after "sinusoidal:". */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tp_error.h"
#include "tp_gen.h"

#define SPEC_PREFIX "sinusoidal:"
#define SPEC_MAX_TEXT 1024

const char fuzz_name[] = "genspec";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t pre = strlen(SPEC_PREFIX);
  struct tp_tensor *t = NULL;
  char *spec;
  int rc;
  if (size > SPEC_MAX_TEXT || !(spec = malloc(pre + size + 1)))
    return 0;
  memcpy(spec, SPEC_PREFIX, pre);
  memcpy(spec + pre, data, size);
  spec[pre + size] = 0;
  fuzz_expect(tp_gen_is_spec(spec), "'%s' not taken for a spec", spec);
  rc = tp_tensor_load_file(spec, "", &t);
  fuzz_check_rc(rc, "tp_tensor_load_file");
  if (rc == 0)
    fuzz_check_tensor(t);
  tp_tensor_free(t);
  free(spec);
  tp_err_clear();
  return 0;
}
