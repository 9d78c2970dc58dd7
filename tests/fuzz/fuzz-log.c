/* Fuzz target: training logs detected by content, as 'trainplot gradnorm stats' sees them. */
#define FUZZ_NAME "log"
#define FUZZ_LOG ""
#include "fuzz-log.h"
