/* Fuzz target: the 'csv' training-log reader on arbitrary bytes. */
#define FUZZ_NAME "log-csv"
#define FUZZ_LOG "csv"
#include "fuzz-log.h"
