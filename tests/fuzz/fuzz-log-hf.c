/* Fuzz target: the 'hf' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-hf"
#define FUZZ_LOG "hf"
#include "fuzz-log.h"
