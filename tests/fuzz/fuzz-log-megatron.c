/* Fuzz target: the 'megatron' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-megatron"
#define FUZZ_LOG "megatron"
#include "fuzz-log.h"
