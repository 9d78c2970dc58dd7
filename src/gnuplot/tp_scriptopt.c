/* Declared script options: one argument at a time in, values out, no code in between. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_numparse.h"
#include "tp_scriptopt.h"
#include "tp_series.h"
#include "tp_text.h"

enum kind { POSITIONAL, WORD, NUMBER, TEXT };

struct opt {
  char *name;
  char *value; /* malloc'ed; the default until given */
  enum kind kind;
  int given;
};

#define MAXOPT 48
#define GNUPLOT_MAX_ARGS 9

static struct opt opts[MAXOPT];
static int nopt, npos_taken;

void tp_sopt_free(void) {
  for (int i = 0; i < nopt; i++)
    free(opts[i].name), free(opts[i].value);
  memset(opts, 0, sizeof opts);
  nopt = npos_taken = 0;
}

static struct opt *find(const char *name, size_t len) {
  for (int i = 0; i < nopt; i++)
    if (opts[i].kind != POSITIONAL && strlen(opts[i].name) == len &&
        !memcmp(opts[i].name, name, len))
      return &opts[i];
  return NULL;
}

static struct opt *find_any(const char *name) {
  for (int i = 0; i < nopt; i++)
    if (!strcmp(opts[i].name, name))
      return &opts[i];
  return NULL;
}

/* One spec word into opts[nopt]. */
static int spec_word(const char *w, size_t len) {
  struct opt *o = &opts[nopt];
  const char *eq = memchr(w, '=', len);
  size_t nlen = eq ? (size_t)(eq - w) : len;
  if (nopt == MAXOPT)
    return tp_err(TP_EINVAL, NULL, -1, "more than %d script options", MAXOPT);
  if (*w == '@' && !eq) {
    o->kind = POSITIONAL, w++, nlen--;
  } else if (!eq) {
    return tp_err(TP_EINVAL, NULL, -1, "option spec word without '=' or '@'");
  } else if (nlen > 1 && (w[nlen - 1] == '#' || w[nlen - 1] == '$')) {
    o->kind = w[nlen - 1] == '#' ? NUMBER : TEXT;
    nlen--;
  } else {
    o->kind = WORD;
  }
  if (nlen == 0)
    return tp_err(TP_EINVAL, NULL, -1, "option spec word with an empty name");
  o->name = strndup(w, nlen);
  o->value = eq ? strndup(eq + 1, len - (size_t)(eq + 1 - w)) : strdup("");
  if (!o->name || !o->value) {
    free(o->name), free(o->value);
    o->name = o->value = NULL;
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  }
  nopt++;
  return 0;
}

int tp_sopt_spec(const char *spec) {
  const char *p = spec;
  int rc;
  tp_sopt_free();
  while (p && *p) {
    size_t len;
    p += strspn(p, " ");
    if (!(len = strcspn(p, " ")))
      break;
    if ((rc = spec_word(p, len)) < 0) {
      tp_sopt_free();
      return rc;
    }
    p += len;
  }
  return 0;
}

/* The names of the declared options, for messages. */
static void names(char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < nopt && used < n; i++)
    if (opts[i].kind != POSITIONAL)
      used += (size_t)snprintf(buf + used, n - used, " %s", opts[i].name);
}

static int has_control(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return 1;
  return 0;
}

/* 1 when value[0..len) is printable text (tp_text_is_clean: no C1 controls, valid UTF-8). */
static int clean(const char *value, size_t len) {
  char *copy = strndup(value, len);
  int ok = copy && tp_text_is_clean(copy);
  free(copy);
  return ok;
}

/* Set o from value[0..len), checked against its kind. */
static int set(struct opt *o, const char *value, size_t len) {
  char *v;
  if (has_control(value, len) || !clean(value, len))
    return tp_err(TP_EINVAL, NULL, -1,
                  "option %s: the value holds a control character or invalid UTF-8", o->name);
  if (o->kind == WORD && memchr(value, ' ', len))
    return tp_err(TP_EINVAL, NULL, -1, "option %s: the value must be one word", o->name);
  if (o->kind == NUMBER && len == 0)
    return tp_err(TP_EINVAL, NULL, -1, "option %s needs a number", o->name);
  if (o->kind == NUMBER) {
    const char *stop;
    double x = tp_parse_double(value, value + len, &stop);
    if (stop != value + len || !isfinite(x))
      return tp_err(TP_EINVAL, NULL, -1, "option %s: '%.*s' is not a finite number", o->name,
                    (int)(len > 64 ? 64 : len), value);
  }
  if (!(v = strndup(value, len)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  free(o->value);
  o->value = v;
  o->given = 1;
  return 0;
}

/* 1 when every blank-separated word of arg is name=value with a declared name. */
static int all_options(const char *arg) {
  const char *p = arg;
  int words = 0;
  while (*p) {
    size_t len;
    const char *eq;
    p += strspn(p, " ");
    if (!(len = strcspn(p, " ")))
      break;
    eq = memchr(p, '=', len);
    if (!eq || eq == p || !find(p, (size_t)(eq - p)))
      return 0;
    words++, p += len;
  }
  return words > 1;
}

int tp_sopt_arg(const char *arg) {
  const char *eq = strchr(arg, '=');
  struct opt *o;
  char known[512];
  int rc;
  if (all_options(arg)) {
    for (const char *p = arg; *p;) {
      size_t len;
      p += strspn(p, " ");
      if (!(len = strcspn(p, " ")))
        break;
      eq = memchr(p, '=', len);
      if ((rc = set(find(p, (size_t)(eq - p)), eq + 1, len - (size_t)(eq + 1 - p))) < 0)
        return rc;
      p += len;
    }
    return 0;
  }
  if (eq && eq > arg && (o = find(arg, (size_t)(eq - arg))))
    return set(o, eq + 1, strlen(eq + 1));
  for (int i = 0, k = 0; i < nopt; i++)
    if (opts[i].kind == POSITIONAL && k++ == npos_taken) {
      npos_taken++;
      return set(&opts[i], arg, strlen(arg));
    }
  names(known, sizeof known);
  return tp_err(TP_EINVAL, NULL, -1, "unexpected argument '%s' (options are name=value:%s)", arg,
                known);
}

/* The arguments after "-c SCRIPT" on gnuplot's own command line, or -1 when this
   process was not started that way (call, load, or no /proc). */
static int script_args_on_cmdline(const char **first_dropped, char **keep) {
  char *buf = NULL;
  size_t len = 0, cap = 0;
  ssize_t r;
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC), count = -1, seen = 0;
  *keep = NULL;
  if (fd < 0)
    return -1;
  do {
    if (len == cap) {
      char *nb = cap < (1u << 24) ? realloc(buf, cap = cap ? 2 * cap : 4096) : NULL;
      if (!nb)
        break;
      buf = nb;
    }
    r = read(fd, buf + len, cap - len);
    if (r > 0)
      len += (size_t)r;
  } while (r > 0);
  close(fd);
  for (size_t i = 0, arg = 0; i < len; arg++) {
    const char *a = buf + i;
    size_t alen = strnlen(a, len - i);
    if (count >= 0) {
      if (++count == GNUPLOT_MAX_ARGS + 1)
        *first_dropped = a;
    } else if (seen) {
      count = 0; /* a is the script */
    } else if (arg > 0 && !strcmp(a, "-c")) {
      seen = 1;
    }
    i += alen + 1;
  }
  *keep = buf;
  return count;
}

int tp_sopt_done(int argc) {
  const char *dropped = NULL;
  char *buf;
  int n, rc = 0;
  if (argc < GNUPLOT_MAX_ARGS)
    return 0;
  n = script_args_on_cmdline(&dropped, &buf);
  if (n > GNUPLOT_MAX_ARGS && dropped)
    rc = tp_err(TP_EINVAL, NULL, -1,
                "gnuplot passes a script at most %d arguments and dropped %d, from '%s' on; "
                "give several options in one argument instead: \"top=2 max_norm=1 logy=1\"",
                GNUPLOT_MAX_ARGS, n - GNUPLOT_MAX_ARGS, dropped);
  free(buf);
  return rc;
}

int tp_sopt_get(const char *name, const char **out) {
  struct opt *o = find_any(name);
  char known[512];
  if (!o) {
    names(known, sizeof known);
    return tp_err(TP_EINVAL, NULL, -1, "no script option '%s' (declared:%s)", name, known);
  }
  *out = o->value;
  return 0;
}

int tp_sopt_num(const char *name, double *out) {
  struct opt *o = find_any(name);
  const char *stop;
  int rc;
  const char *v;
  if ((rc = tp_sopt_get(name, &v)) < 0)
    return rc;
  *out = *v ? tp_parse_double(v, v + strlen(v), &stop) : NAN;
  if (*v && (*stop || !isfinite(*out)))
    return tp_err(TP_EINVAL, NULL, -1, "option %s: '%s' is not a number", o->name, v);
  return 0;
}

int tp_sopt_join(const char *list, char **out) {
  size_t cap = 1, used = 0;
  char *s;
  for (int i = 0; i < nopt; i++)
    cap += strlen(opts[i].name) + strlen(opts[i].value) + 2;
  if (!(s = malloc(cap)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  s[0] = '\0';
  for (int i = 0; i < nopt; i++) {
    const char *p = list;
    size_t n = strlen(opts[i].name);
    int listed = 0;
    while ((p = strstr(p, opts[i].name)) != NULL) {
      if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
        listed = 1;
      p += n;
    }
    if (listed && opts[i].given && *opts[i].value && opts[i].kind != TEXT &&
        opts[i].kind != POSITIONAL)
      used += (size_t)snprintf(s + used, cap - used, "%s%s=%s", used ? " " : "", opts[i].name,
                               opts[i].value);
  }
  *out = s;
  return 0;
}
