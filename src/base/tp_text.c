/* Escaping of file-controlled text for data files, datablocks and terminals. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_text.h"

/* Length of the valid UTF-8 sequence at p (1..4) that is not a C1 control, or 0 for a
   byte that must be escaped. */
static size_t keep_len(const unsigned char *p) {
  unsigned c = p[0];
  size_t n;
  uint32_t cp;
  if (c >= 0x20 && c < 0x7f)
    return 1;
  if (c < 0xc2 || c > 0xf4)
    return 0; /* controls, DEL, continuation bytes, overlong leads, beyond U+10FFFF */
  n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
  cp = c & (0x7f >> n);
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
    return 0;
  return n;
}

/* The escape for a byte that is not kept: "\n", "\r", "\t" or "\xNN" into e[5]. */
static size_t escape_of(unsigned c, char *e) {
  static const char hex[] = "0123456789abcdef";
  e[0] = '\\';
  switch (c) {
  case '\n': e[1] = 'n'; return 2;
  case '\r': e[1] = 'r'; return 2;
  case '\t': e[1] = 't'; return 2;
  default: e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15]; return 4;
  }
}

int tp_text_is_clean(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n;
  if (!s)
    return 1;
  while (*p) {
    if (!(n = keep_len(p)))
      return 0;
    p += n;
  }
  return 1;
}

/* Walk s, handing each kept run or escape to put; stops when put returns nonzero. */
static void walk(const char *s, int (*put)(const char *, size_t, void *), void *ctx) {
  const unsigned char *p = (const unsigned char *)s;
  while (p && *p) {
    size_t n = keep_len(p);
    char e[5];
    if (n) {
      if (put((const char *)p, n, ctx))
        return;
      p += n;
    } else {
      if (put(e, escape_of(*p, e), ctx))
        return;
      p++;
    }
  }
}

struct sink {
  char *buf;
  size_t size, len;
};

static int put_buf(const char *s, size_t n, void *ctx) {
  struct sink *k = ctx;
  if (k->len + n >= k->size)
    return 1;
  memcpy(k->buf + k->len, s, n);
  k->len += n;
  return 0;
}

const char *tp_text_escape_buf(const char *s, char *buf, size_t size) {
  struct sink k = {buf, size, 0};
  if (!size)
    return buf;
  walk(s, put_buf, &k);
  buf[k.len] = '\0';
  return buf;
}

static int put_count(const char *s, size_t n, void *ctx) {
  (void)s;
  *(size_t *)ctx += n;
  return 0;
}

char *tp_text_escape(const char *s) {
  size_t n = 0;
  char *out;
  walk(s, put_count, &n);
  if (!(out = malloc(n + 1)))
    return NULL;
  return (char *)tp_text_escape_buf(s, out, n + 1);
}

static int put_file(const char *s, size_t n, void *ctx) { return fwrite(s, 1, n, ctx) != n; }

int tp_text_fputs(const char *s, FILE *fp) {
  walk(s, put_file, fp);
  return ferror(fp) ? EOF : 0;
}
