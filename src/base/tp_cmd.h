/* Command tables: each command's options in its entry, parsed in one place. */
#ifndef TP_CMD_H
#define TP_CMD_H

#include <stddef.h>
#include <stdio.h>

/* What an option's value is, and so how it is parsed and shown. */
enum tp_opt_type {
  TP_OPT_SWITCH, /* no value: the int field becomes 1 */
  TP_OPT_STRING, /* const char * into argv */
  TP_OPT_SIZE,   /* size_t, a whole number within [min, max] */
  TP_OPT_DOUBLE, /* double, finite, within [min, max] (min < max), locale-free */
  TP_OPT_CHOICE, /* const char * that must be one of choices() */
};

/* One option: --NAME VALUE, --NAME=VALUE, or -N VALUE when NAME is one letter. */
struct tp_opt {
  const char *name;
  const char *arg; /* the value's name in the usage ("NAME"); NULL for a switch */
  enum tp_opt_type type;
  size_t offset; /* of the field in the command's argument struct */
  const char *help;
  /* TP_OPT_CHOICE: the accepted names, NULL-terminated, from the table they name. */
  const char *const *(*choices)(void);
  double min, max; /* TP_OPT_SIZE / TP_OPT_DOUBLE; equal: any value */
  int required;    /* shown without brackets; missing is a usage error */
};

/*
 * One command of a module, in the manner of tmux's cmd_entry: the options live in the
 * entry, the parser and the one usage and error path are tp_cmd_main's. The argument
 * struct (size bytes) is zeroed, given its defaults by init, filled by the parser, and
 * handed to run, which returns 0 or a TP_E code; the exit status is that code's column
 * in the error table.
 */
struct tp_command {
  const char *name;  /* "similarity" */
  const char *input; /* the one positional argument's name ("INPUT"); NULL for none */
  size_t input_offset;
  const char *help;          /* one line */
  const struct tp_opt *opts; /* terminated by an entry whose name is NULL */
  size_t size;
  void (*init)(void *args);
  int (*run)(void *args);
};

/* "INPUT [--key NAME] [--metric cosine|dot|euclidean] -o OUT" into buf; returns buf. */
const char *tp_cmd_usage(const struct tp_command *c, char *buf, size_t size);
/* The usage line and one line per option (with its help) to fp. */
void tp_cmd_help(const char *module, const struct tp_command *c, FILE *fp);
/* Parse argv (argv[0] is the command's name) into args; TP_EINVAL, recorded with the
   usage, on any mistake. "--" ends the options. */
int tp_cmd_parse(const char *module, const struct tp_command *c, int argc, char **argv, void *args);
/* A module's command-line entry: argv[0] is the module, argv[1] the command. Prints
   one line on failure ("trainplot: FILE: reason") and returns the exit status. */
int tp_cmd_main(const char *module, const struct tp_command *cmds, size_t n, int argc, char **argv);

#endif
