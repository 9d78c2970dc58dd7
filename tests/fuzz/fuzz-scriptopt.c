/* Fuzz target: the scripts' option parser (spec, arguments, values, join) and the spike
   options string that tp_sopt_join hands to gn_detect. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tp_error.h"
#include "tp_scriptopt.h"
#include "tp_spikes.h"
#include "tp_text.h"

#define SOPT_MAX_INPUT 8192
#define SOPT_MAX_ARGS 16
#define SOPT_MAX_NAMES 64

const char fuzz_name[] = "scriptopt";

/* What the spec declares, read independently of tp_scriptopt.c: each word's name and kind
   ('@' positional, '=' word, '#' number, '$' text). */
struct decl {
  char name[64];
  char kind;
  int unique; /* no other word declares the same name */
  int num_ok; /* a number whose default parsed */
};

/* 1 when s holds a C0 control or DEL, a UTF-8 C1 control or invalid UTF-8: text that a
   script must not echo to a terminal (tp_text_is_clean is the project's own test). */
static int has_control(const char *s) {
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return 1;
  return !tp_text_is_clean(s);
}

/* The declarations of spec (which tp_sopt_spec accepted); returns how many, or -1 when
   one is too long for this model to follow. */
static int declare(const char *spec, struct decl *d) {
  int n = 0;
  for (const char *p = spec; *p && n < SOPT_MAX_NAMES;) {
    size_t len, nlen;
    const char *eq;
    p += strspn(p, " ");
    if (!(len = strcspn(p, " ")))
      break;
    eq = memchr(p, '=', len);
    nlen = eq ? (size_t)(eq - p) : len - 1;
    d[n].kind = !eq                                                        ? '@'
                : (nlen > 1 && (p[nlen - 1] == '#' || p[nlen - 1] == '$')) ? p[--nlen]
                                                                           : '=';
    if (nlen >= sizeof d[n].name)
      return -1;
    memcpy(d[n].name, eq ? p : p + 1, nlen);
    d[n].name[nlen] = 0;
    d[n].unique = 1, d[n].num_ok = 0;
    for (int i = 0; i < n; i++)
      if (!strcmp(d[i].name, d[n].name))
        d[i].unique = d[n].unique = 0;
    n++, p += len;
  }
  return n;
}

/* Every declared option can be read; values hold no control character or invalid UTF-8,
   words no blank, numbers whose default parsed still parse. */
static void check_values(struct decl *d, int n, int clean, int first) {
  for (int i = 0; i < n; i++) {
    const char *v = NULL;
    double x;
    int rc = tp_sopt_get(d[i].name, &v);
    fuzz_check_rc(rc, "tp_sopt_get");
    fuzz_expect(rc == 0 && v, "declared option '%s' cannot be read", d[i].name);
    if (rc || !v)
      continue;
    fuzz_expect(!clean || !has_control(v), "option '%s' holds a control character or invalid UTF-8",
                d[i].name);
    fuzz_expect(!d[i].unique || d[i].kind != '=' || !strchr(v, ' '),
                "word option '%s' holds a blank: '%s'", d[i].name, v);
    if (d[i].kind != '#' || !d[i].unique)
      continue;
    rc = tp_sopt_num(d[i].name, &x);
    fuzz_check_rc(rc, "tp_sopt_num");
    if (first)
      d[i].num_ok = rc == 0;
    fuzz_expect(!d[i].num_ok || rc == 0, "number option '%s' = '%s' no longer parses", d[i].name,
                v);
    fuzz_expect(rc != 0 || (*v ? isfinite(x) : isnan(x)), "number option '%s' = '%s' read as %g",
                d[i].name, v, x);
  }
}

/* The first option (not positional) declared with the name w[0..len), or NULL: the one
   that a name=value argument sets. */
static const struct decl *lookup(const struct decl *d, int n, const char *w, size_t len) {
  for (int i = 0; i < n; i++)
    if (d[i].kind != '@' && strlen(d[i].name) == len && !memcmp(d[i].name, w, len))
      return &d[i];
  return NULL;
}

/* tp_sopt_join's output: blank-separated name=value words of declared word or number
   options, each at most once and equal to the option's value. */
static char *check_join(const struct decl *d, int n, const char *names, int clean) {
  char *s = NULL;
  int rc = tp_sopt_join(names, &s);
  fuzz_check_rc(rc, "tp_sopt_join");
  if (rc)
    return NULL;
  fuzz_expect(!clean || !has_control(s),
              "joined options hold a control character or invalid UTF-8");
  fuzz_expect(*s != ' ' && (!*s || s[strlen(s) - 1] != ' ') && !strstr(s, "  "),
              "joined options '%s' have an empty word", s);
  for (const char *p = s; *p;) {
    size_t len;
    const char *eq, *v = NULL;
    const struct decl *o;
    p += strspn(p, " ");
    if (!(len = strcspn(p, " ")))
      break;
    eq = memchr(p, '=', len);
    o = eq ? lookup(d, n, p, (size_t)(eq - p)) : NULL;
    fuzz_expect(o && (o->kind == '=' || o->kind == '#'),
                "joined word '%.*s' is not name=value of a declared word or number", (int)len, p);
    if (o && o->unique && tp_sopt_get(o->name, &v) == 0)
      fuzz_expect(strlen(v) == len - (size_t)(eq + 1 - p) && !memcmp(v, eq + 1, strlen(v)),
                  "joined word '%.*s' is not the value '%s'", (int)len, p, v);
    for (const char *q = p + len; o && o->unique && (q = strstr(q, o->name)); q++)
      fuzz_expect(q[-1] != ' ' || q[strlen(o->name)] != '=', "option '%s' joined twice", o->name);
    p += len;
  }
  return s;
}

/* The spike options the gradnorm script builds: parsed, or refused with a message. */
static void check_spikes(const char *joined) {
  struct tp_spike_opts o;
  int rc;
  tp_spike_opts_init(&o);
  rc = tp_spike_opts_parse(&o, joined);
  fuzz_check_rc(rc, "tp_spike_opts_parse");
  if (rc == 0)
    fuzz_expect(memchr(o.method, 0, sizeof o.method) != NULL, "method not terminated");
}

/* A name the spec did not declare cannot be read. */
static void check_undeclared(const struct decl *d, int n, const char *name) {
  const char *v = NULL;
  int rc;
  for (int i = 0; i < n; i++)
    if (!strcmp(d[i].name, name))
      return;
  rc = tp_sopt_get(name, &v);
  fuzz_check_rc(rc, "tp_sopt_get");
  fuzz_expect(rc < 0, "undeclared option '%s' read as '%s'", name, v ? v : "(null)");
}

/* The declared names, blank-separated, for tp_sopt_join. */
static void all_names(const struct decl *d, int n, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < n && used + strlen(d[i].name) + 2 < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " " : "", d[i].name);
}

/* The input is the spec, then the script's arguments, separated by NUL bytes. */
static void one(char *text, size_t size) {
  struct decl d[SOPT_MAX_NAMES];
  char *arg[SOPT_MAX_ARGS], names[4096], *joined;
  int nargs = 0, n, rc, clean;
  for (char *p = text + strlen(text) + 1; p < text + size && nargs < SOPT_MAX_ARGS;
       p += strlen(p) + 1)
    arg[nargs++] = p;
  rc = tp_sopt_spec(text);
  fuzz_check_rc(rc, "tp_sopt_spec");
  if (rc || (n = declare(text, d)) < 0)
    return;
  clean = !has_control(text);
  check_values(d, n, clean, 1);
  for (int i = 0; i < nargs; i++) {
    rc = tp_sopt_arg(arg[i]);
    fuzz_check_rc(rc, "tp_sopt_arg");
    fuzz_expect(!clean || rc || !has_control(arg[i]),
                "argument with a control character or invalid UTF-8 taken");
  }
  rc = tp_sopt_done(nargs + 1);
  fuzz_check_rc(rc, "tp_sopt_done");
  check_values(d, n, clean, 0);
  check_undeclared(d, n, "\001undeclared");
  check_undeclared(d, n, "key=");
  all_names(d, n, names, sizeof names);
  free(check_join(d, n, names, clean));
  if ((joined = check_join(d, n, "method window threshold causal alpha max_norm", clean)))
    check_spikes(joined);
  free(joined);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text;
  if (size > SOPT_MAX_INPUT || !(text = malloc(size + 1)))
    return 0;
  memcpy(text, data, size);
  text[size] = 0;
  one(text, size);
  tp_sopt_free();
  free(text);
  tp_err_clear();
  return 0;
}
