/* IEEE half and bfloat16 bit patterns to float (C99 inline; the external copies are in tp_half.c).
 */
#ifndef TP_HALF_H
#define TP_HALF_H

#include <stdint.h>
#include <string.h>

/* Inline so the raw-element copy loop keeps converting without a call per element. */
inline float tp_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ffu, bits;
  float f;
  if (exp == 0x1f) /* inf or nan keeps its payload */
    bits = sign | 0x7f800000u | (man << 13);
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (man << 13);
  else if (man == 0)
    bits = sign;
  else { /* subnormal half: value is man * 2^-24, exact in float */
    f = (float)man * 0x1p-24f;
    return sign ? -f : f;
  }
  memcpy(&f, &bits, sizeof f);
  return f;
}

inline float tp_bf16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

#endif
