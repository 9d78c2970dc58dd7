/* The one option parser, usage and error path for every module's command table. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_cmd.h"
#include "tp_error.h"
#include "tp_numparse.h"
#include "tp_text.h"

#define TP_CMD_MAX_OPTS 64

/* "--name" or, for a one-letter name, "-n". */
static const char *dashes(const struct tp_opt *o) { return o->name[1] ? "--" : "-"; }

/* Append to buf at *used, never past size. */
static void add(char *buf, size_t size, size_t *used, const char *s) {
  size_t n = strlen(s);
  if (*used + n >= size)
    n = *used + 1 < size ? size - *used - 1 : 0;
  memcpy(buf + *used, s, n);
  *used += n;
  buf[*used] = '\0';
}

/* An option's value as shown: its choices joined by '|', or its argument name. */
static void value_text(const struct tp_opt *o, char *buf, size_t size, size_t *used) {
  if (o->type == TP_OPT_CHOICE) {
    const char *const *c = o->choices();
    for (size_t i = 0; c[i]; i++) {
      if (i)
        add(buf, size, used, "|");
      add(buf, size, used, c[i]);
    }
  } else {
    add(buf, size, used, o->arg);
  }
}

const char *tp_cmd_usage(const struct tp_command *c, char *buf, size_t size) {
  size_t used = 0;
  if (!size)
    return buf;
  buf[0] = '\0';
  if (c->input)
    add(buf, size, &used, c->input);
  for (const struct tp_opt *o = c->opts; o && o->name; o++) {
    add(buf, size, &used, used ? (o->required ? " " : " [") : (o->required ? "" : "["));
    add(buf, size, &used, dashes(o));
    add(buf, size, &used, o->name);
    if (o->type != TP_OPT_SWITCH) {
      add(buf, size, &used, " ");
      value_text(o, buf, size, &used);
    }
    if (!o->required)
      add(buf, size, &used, "]");
  }
  return buf;
}

/* "posemb similarity", or only the command for the host's own ("--list"). */
static const char *words(const char *module, const struct tp_command *c, char *buf, size_t n) {
  snprintf(buf, n, "%s%s%s", module ? module : "", module ? " " : "", c->name);
  return buf;
}

void tp_cmd_help(const char *module, const struct tp_command *c, FILE *fp) {
  char use[1024], w[128];
  fprintf(fp, "usage: trainplot %s %s\n%s\n", words(module, c, w, sizeof w),
          tp_cmd_usage(c, use, sizeof use), c->help);
  for (const struct tp_opt *o = c->opts; o && o->name; o++) {
    size_t used = 0;
    char v[512] = "";
    if (o->type != TP_OPT_SWITCH)
      value_text(o, v, sizeof v, &used);
    fprintf(fp, "  %s%s%s%s\n      %s\n", dashes(o), o->name, *v ? " " : "", v, o->help);
  }
}

/* Record a usage error: the complaint, what it is about (escaped), and the usage. */
static int usage_error(const char *module, const struct tp_command *c, const char *what,
                       const char *arg) {
  char use[1024], shown[256], w[128];
  tp_text_escape_buf(arg ? arg : "", shown, sizeof shown);
  words(module, c, w, sizeof w);
  return tp_err(TP_EINVAL, NULL, -1, "%s: %s%s%s%s (usage: trainplot %s %s)", w, what,
                arg ? " '" : "", arg ? shown : "", arg ? "'" : "", w,
                tp_cmd_usage(c, use, sizeof use));
}

static const struct tp_opt *find(const struct tp_command *c, const char *name, size_t len) {
  for (const struct tp_opt *o = c->opts; o && o->name; o++)
    if (strlen(o->name) == len && !memcmp(o->name, name, len))
      return o;
  return NULL;
}

/* Store value v for o in args; -1 when v is not what o takes. */
static int store(const struct tp_opt *o, const char *v, void *args) {
  char *field = (char *)args + o->offset;
  const char *stop;
  double x;
  switch (o->type) {
  case TP_OPT_SWITCH: *(int *)(void *)field = 1; return 0;
  case TP_OPT_STRING: *(const char **)(void *)field = v; return 0;
  case TP_OPT_CHOICE:
    for (const char *const *c = o->choices(); *c; c++)
      if (!strcmp(*c, v))
        return *(const char **)(void *)field = *c, 0;
    return -1;
  case TP_OPT_SIZE:
  case TP_OPT_DOUBLE:
    if (!*v || (o->type == TP_OPT_SIZE && (*v < '0' || *v > '9')))
      return -1;
    x = tp_parse_double(v, v + strlen(v), &stop);
    if (*stop || !isfinite(x) || (o->min < o->max && (x < o->min || x > o->max)))
      return -1;
    if (o->type == TP_OPT_DOUBLE)
      return *(double *)(void *)field = x, 0;
    if (x != floor(x) || x > 9007199254740992.0 || x > (double)SIZE_MAX)
      return -1;
    *(size_t *)(void *)field = (size_t)x;
    return 0;
  }
  return -1;
}

/* One option word at argv[*i] (its value may be the next word); advances *i. */
static int option(const char *module, const struct tp_command *c, int argc, char **argv, int *i,
                  void *args, unsigned char *seen) {
  const char *a = argv[*i], *name = a + (a[1] == '-' ? 2 : 1), *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  const struct tp_opt *o = find(c, name, len);
  const char *v = NULL;
  if (!o || (a[1] == '-') != (o->name[1] != '\0'))
    return usage_error(module, c, "unknown option", a);
  if (o->type == TP_OPT_SWITCH) {
    if (eq)
      return usage_error(module, c, "option takes no value", a);
  } else if (!(v = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL))) {
    return usage_error(module, c, "option needs a value", a);
  }
  if (o - c->opts >= TP_CMD_MAX_OPTS)
    return tp_err(TP_EINTERNAL, NULL, -1, "command %s has too many options", c->name);
  if (store(o, v, args) < 0) {
    char what[96];
    snprintf(what, sizeof what, "bad value for %s%s:", dashes(o), o->name);
    return usage_error(module, c, what, v);
  }
  seen[o - c->opts] = 1;
  return 0;
}

int tp_cmd_parse(const char *module, const struct tp_command *c, int argc, char **argv,
                 void *args) {
  unsigned char seen[TP_CMD_MAX_OPTS] = {0};
  /* A command without an input (the host's own --list) takes no positional argument. */
  const char **input = c->input ? (const char **)(void *)((char *)args + c->input_offset) : NULL;
  int rc, options = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (options && !strcmp(a, "--")) {
      options = 0;
    } else if (options && a[0] == '-' && a[1]) {
      if ((rc = option(module, c, argc, argv, &i, args, seen)) < 0)
        return rc;
    } else if (input && !*input) {
      *input = a;
    } else {
      return usage_error(module, c, "unexpected argument", a);
    }
  }
  if (input && !*input)
    return usage_error(module, c, "no input given", NULL);
  for (const struct tp_opt *o = c->opts; o && o->name; o++)
    if (o->required && !seen[o - c->opts]) {
      char want[80];
      snprintf(want, sizeof want, "needs %s%s %s", dashes(o), o->name, o->arg);
      return usage_error(module, c, want, NULL);
    }
  return 0;
}

/* The one error line: "trainplot: " and the recorded message, escaped. */
static int fail(int rc) {
  char buf[6000];
  tp_err_format(buf, sizeof buf);
  fputs("trainplot: ", stderr);
  fputs(buf, stderr); /* tp_err_format escapes the file and the detail */
  fputc('\n', stderr);
  return tp_err_exit(rc);
}

static void list_usage(const char *module, const struct tp_command *cmds, size_t n, FILE *fp) {
  char use[1024];
  fprintf(fp, "usage:\n");
  for (size_t i = 0; i < n; i++)
    fprintf(fp, "  trainplot %s %s %s\n", module, cmds[i].name,
            tp_cmd_usage(&cmds[i], use, sizeof use));
  fprintf(fp, "'trainplot %s COMMAND --help' describes a command's options.\n", module);
}

/* 1 when argv (after the command) asks for help before any "--". */
static int wants_help(int argc, char **argv) {
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return 1;
  return 0;
}

int tp_cmd_main(const char *module, const struct tp_command *cmds, size_t n, int argc,
                char **argv) {
  const struct tp_command *c = NULL;
  void *args;
  int rc;
  tp_err_clear();
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    list_usage(module, cmds, n, argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  for (size_t i = 0; i < n && !c; i++)
    if (!strcmp(cmds[i].name, argv[1]))
      c = &cmds[i];
  if (!c) {
    char shown[128], names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
      add(names, sizeof names, &used, i ? ", " : "");
      add(names, sizeof names, &used, cmds[i].name);
    }
    fprintf(stderr, "trainplot: %s: unknown command '%s' (commands: %s)\n", module,
            tp_text_escape_buf(argv[1], shown, sizeof shown), names);
    return 1;
  }
  if (wants_help(argc - 1, argv + 1)) {
    tp_cmd_help(module, c, stdout);
    return 0;
  }
  if (!(args = calloc(1, c->size)))
    return fail(tp_err(TP_ENOMEM, NULL, -1, "out of memory"));
  if (c->init)
    c->init(args);
  if ((rc = tp_cmd_parse(module, c, argc - 1, argv + 1, args)) == 0 && (rc = c->run(args)) < 0 &&
      !tp_err_last()->file[0] && c->input) {
    /* The numerics know no file: the message is about the command's input. */
    struct tp_errinfo e = *tp_err_last();
    tp_err(rc, *(const char **)(void *)((char *)args + c->input_offset), e.offset, "%s", e.detail);
  }
  free(args);
  return rc < 0 ? fail(rc) : 0;
}
