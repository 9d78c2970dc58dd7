/* Text from files and arguments made safe to print: no control bytes, no new lines. */
#ifndef TP_TEXT_H
#define TP_TEXT_H

#include <stddef.h>
#include <stdio.h>

/*
 * A name from a file (a tensor key, a CSV header, a TensorBoard tag, a file name) may hold
 * a newline, which would start a data row in a gnuplot data file, or an escape sequence,
 * which a terminal would obey. The escaped form keeps printable text and valid UTF-8 as
 * they are and writes every C0 control, DEL, UTF-8-encoded C1 control and invalid byte as
 * \n, \r, \t or \xNN, so it is one line of plain text.
 */

/* 1 when s needs no escaping. */
int tp_text_is_clean(const char *s);
/* Escape s into buf (always NUL-terminated, cut at a character boundary when short);
   returns buf. */
const char *tp_text_escape_buf(const char *s, char *buf, size_t size);
/* A malloc'ed escaped copy of s, or NULL when out of memory. */
char *tp_text_escape(const char *s);
/* Write s escaped to fp; returns fputs's result. */
int tp_text_fputs(const char *s, FILE *fp);

#endif
