/* Fuzz target: the 'jsonl' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-jsonl"
#define FUZZ_LOG "jsonl"
#include "fuzz-log.h"
