/* The external definitions of the half and bfloat16 conversions inlined from tp_half.h. */
#include "config.h"

#include "tp_half.h"

extern inline float tp_half_to_float(uint16_t h);
extern inline float tp_bf16_to_float(uint16_t h);
