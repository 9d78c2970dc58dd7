/* tp_parse_double: the bounded, locale-free decimal parser (src/tp_numparse.c). */
#ifndef TP_NUMPARSE_H
#define TP_NUMPARSE_H

/* Fast decimal parser: correctly rounded like strtod, falls back to it when needed. */
double tp_parse_double(const char *s, const char *end, const char **stop);

#endif
