/* Fuzz target: the 'fairseq' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-fairseq"
#define FUZZ_LOG "fairseq"
#include "fuzz-log.h"
