/* Fuzz target: the torch tensor reader (tp_torch_reader) on arbitrary bytes. */
#define FUZZ_NAME "torch"
#define FUZZ_READER (&tp_torch_reader)
#include "fuzz-tensor.h"
