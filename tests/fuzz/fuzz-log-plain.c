/* Fuzz target: the 'plain' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-plain"
#define FUZZ_LOG "plain"
#include "fuzz-log.h"
