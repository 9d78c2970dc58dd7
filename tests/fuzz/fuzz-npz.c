/* Fuzz target: the npz tensor reader (tp_npz_reader) on arbitrary bytes. */
#define FUZZ_NAME "npz"
#define FUZZ_READER (&tp_npz_reader)
#include "fuzz-tensor.h"
