/* Fuzz target: tensor files detected by content, as 'trainplot posemb list|summary' sees them. */
#define FUZZ_NAME "tensor"
#define FUZZ_READER ((const struct tp_tensor_reader *)NULL)
#include "fuzz-tensor.h"
