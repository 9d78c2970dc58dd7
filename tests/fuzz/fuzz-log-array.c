/* Fuzz target: the 'array' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-array"
#define FUZZ_LOG "array"
#include "fuzz-log.h"
