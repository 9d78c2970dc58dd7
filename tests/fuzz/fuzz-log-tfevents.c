/* Fuzz target: the 'tfevents' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-tfevents"
#define FUZZ_LOG "tfevents"
#include "fuzz-log.h"
