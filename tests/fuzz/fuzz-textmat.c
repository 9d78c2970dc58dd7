/* Fuzz target: the textmat tensor reader (tp_textmat_reader) on arbitrary bytes. */
#define FUZZ_NAME "textmat"
#define FUZZ_READER (&tp_textmat_reader)
#include "fuzz-tensor.h"
