/* tp_parse_double: the bounded, locale-free decimal parser (src/tp_numparse.c). */
#ifndef TP_NUMPARSE_H
#define TP_NUMPARSE_H

/* Fast decimal parser, correctly rounded; what the fast path cannot decide goes to strtod_l
   in the "C" locale, so the process locale never changes the result. */
double tp_parse_double(const char *s, const char *end, const char **stop);

#endif
