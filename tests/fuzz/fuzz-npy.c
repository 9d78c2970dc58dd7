/* Fuzz target: the npy tensor reader (tp_npy_reader) on arbitrary bytes. */
#define FUZZ_NAME "npy"
#define FUZZ_READER (&tp_npy_reader)
#include "fuzz-tensor.h"
