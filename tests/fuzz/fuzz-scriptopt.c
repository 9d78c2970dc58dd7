/* Fuzz target: placeholder (written by the hostile-arguments work). */
#include "config.h"
#include "fuzz.h"
const char fuzz_name[] = "scriptopt";
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)data, (void)size;
  return 0;
}
