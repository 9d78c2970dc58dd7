/* Fuzz target: the safetensors tensor reader (tp_safetensors_reader) on arbitrary bytes. */
#define FUZZ_NAME "safetensors"
#define FUZZ_READER (&tp_safetensors_reader)
#include "fuzz-tensor.h"
