/* `trainplot posemb list|similarity|profile|summary|export`: the command-line entry. */
#include "config.h"

#include <gsl/gsl_errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_module.h"
#include "tp_posemb.h"
#include "tp_signal.h"
#include "tp_text.h"

struct cli {
  const char *cmd, *input, *key, *out, *format;
  struct tp_sim_opts sim;
  int json;
  struct timespec start;
  int shown; /* progress was printed */
};

struct subcommand {
  const char *name;
  int needs_out;
  int (*run)(struct cli *c);
};

/* Print the last error as "trainplot: FILE: reason"; usage errors and bad input exit 1. */
static int fail(int rc) {
  char buf[1100];
  const struct tp_errinfo *e = tp_err_last();
  tp_err_format(buf, sizeof buf);
  /* The message may quote a file's names: escaped, so it stays one inert line. */
  fprintf(stderr, "trainplot: %s", e->file[0] ? "" : "posemb: ");
  tp_text_fputs(buf, stderr);
  fputc('\n', stderr);
  return rc == TP_ENOMEM || rc == TP_EINTERNAL || rc == TP_ENUMERIC ? 2 : 1;
}

/* Progress on a terminal, once the run has taken more than a second. */
static void progress(void *ctx, double done) {
  struct cli *c = ctx;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if ((double)(now.tv_sec - c->start.tv_sec) +
          (double)(now.tv_nsec - c->start.tv_nsec) * 1e-9 < 1.0)
    return;
  fprintf(stderr, "\rtrainplot: %s %3.0f%%", c->cmd, done * 100);
  if (done >= 1)
    fputc('\n', stderr);
  c->shown = done < 1;
}

static int parse_pool(struct cli *c, const char *v) {
  char *end;
  long long n = strtoll(v, &end, 10);
  if (*end || n < 2 || n > 65536)
    return tp_err(TP_EINVAL, NULL, -1,
                  "--pool needs a size from 2 to 65536, not '%s'", v);
  c->sim.pool = (size_t)n;
  return 0;
}

/* One option with its value; returns how many words it used, or a TP_E code. */
static int parse_option(struct cli *c, int argc, char **argv, int i) {
  const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
  if (!strcmp(o, "--json"))
    return c->json = 1;
  if (!strcmp(o, "--double"))
    return c->sim.dbl = 1;
  if (strcmp(o, "--key") && strcmp(o, "--metric") && strcmp(o, "--pool") &&
      strcmp(o, "--pool-mode") && strcmp(o, "--format") && strcmp(o, "-o"))
    return tp_err(TP_EINVAL, NULL, -1, "unknown option '%s'", o);
  if (!v)
    return tp_err(TP_EINVAL, NULL, -1, "option '%s' needs a value", o);
  if (!strcmp(o, "--key"))
    c->key = v;
  else if (!strcmp(o, "--metric") && tp_metric_parse(v, &c->sim.metric) < 0)
    return TP_EINVAL;
  else if (!strcmp(o, "--pool") && parse_pool(c, v) < 0)
    return TP_EINVAL;
  else if (!strcmp(o, "--pool-mode")) {
    if (strcmp(v, "mean") && strcmp(v, "max"))
      return tp_err(TP_EINVAL, NULL, -1, "--pool-mode is mean or max, not '%s'", v);
    c->sim.how = !strcmp(v, "max") ? TP_POOL_MAX : TP_POOL_MEAN;
  } else if (!strcmp(o, "--format")) {
    if (strcmp(v, "binary") && strcmp(v, "text"))
      return tp_err(TP_EINVAL, NULL, -1, "--format is binary or text, not '%s'", v);
    c->format = v;
  } else if (!strcmp(o, "-o"))
    c->out = v;
  return 2;
}

static int parse_args(struct cli *c, const struct subcommand *s,
                      const char *use, int argc, char **argv) {
  for (int i = 2; i < argc;) {
    int used;
    if (argv[i][0] == '-' && argv[i][1]) {
      if ((used = parse_option(c, argc, argv, i)) < 0)
        return used;
      i += used;
    } else if (!c->input) {
      c->input = argv[i++];
    } else {
      return tp_err(TP_EINVAL, NULL, -1, "unexpected argument '%s'", argv[i]);
    }
  }
  if (!c->input)
    return tp_err(TP_EINVAL, NULL, -1, "%s needs an input (usage: trainplot posemb %s %s)",
                  s->name, s->name, use);
  if (s->needs_out && !c->out)
    return tp_err(TP_EINVAL, NULL, -1, "%s needs -o OUT (usage: trainplot posemb %s %s)",
                  s->name, s->name, use);
  return 0;
}

/* ---- subcommands ---- */

static int print_json(json_object *j) {
  puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                             JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(j);
  return 0;
}

static json_object *shape_json(int ndim, const uint64_t *shape) {
  json_object *a = json_object_new_array();
  for (int k = 0; k < ndim; k++)
    json_object_array_add(a, json_object_new_int64((int64_t)shape[k]));
  return a;
}

static int run_list(struct cli *c) {
  struct tp_tensor_list *l;
  json_object *j, *arr;
  int rc = tp_tensor_list_file(c->input, &l);
  if (rc < 0)
    return rc;
  if (!c->json) {
    for (size_t i = 0; i < l->n; i++) {
      tp_text_fputs(l->items[i].name, stdout);
      putchar('\t');
      tp_text_fputs(l->items[i].dtype, stdout);
      putchar('\t');
      for (int k = 0; k < l->items[i].ndim; k++)
        printf(k ? "x%llu" : "%llu", (unsigned long long)l->items[i].shape[k]);
      printf("%s\n", tp_posemb_table_candidate(&l->items[i]) ? "\tpositional" : "");
    }
    tp_tensor_list_free(l);
    return 0;
  }
  j = json_object_new_object();
  arr = json_object_new_array();
  json_object_object_add(j, "file", json_object_new_string(c->input));
  json_object_object_add(j, "format", json_object_new_string(l->format));
  for (size_t i = 0; i < l->n; i++) {
    json_object *t = json_object_new_object();
    json_object_object_add(t, "name", json_object_new_string(l->items[i].name));
    json_object_object_add(t, "dtype", json_object_new_string(l->items[i].dtype));
    json_object_object_add(t, "shape", shape_json(l->items[i].ndim, l->items[i].shape));
    json_object_array_add(arr, t);
  }
  json_object_object_add(j, "tensors", arr);
  tp_tensor_list_free(l);
  return print_json(j);
}

/* Load the table and say which tensor was picked, when it was picked by name. */
static int load(struct cli *c, struct tp_posemb **pe) {
  int rc = tp_posemb_load(c->input, c->key ? c->key : "", pe);
  if (rc == 0 && (*pe)->auto_key) {
    fputs("trainplot: ", stderr);
    tp_text_fputs(c->input, stderr);
    fputs(": using '", stderr);
    tp_text_fputs((*pe)->key, stderr);
    fputs("', the only positional table\n", stderr);
  }
  return rc;
}

/* Load and compute the similarity and, when prof is not NULL, its profile (of the
   unpooled matrix, gathered from the row tiles when pooling); the caller frees them. */
static int similarity(struct cli *c, struct tp_posemb **pe, struct tp_simmat **s,
                      struct tp_profile **prof) {
  int rc;
  *s = NULL;
  if (prof)
    *prof = NULL;
  if ((rc = load(c, pe)) < 0)
    return rc;
  if (isatty(STDERR_FILENO)) {
    c->sim.progress = progress;
    c->sim.progress_ctx = c;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
  }
  rc = tp_sim_compute_profiled(&(*pe)->rows, &c->sim, s, prof);
  if (c->shown)
    fputc('\n', stderr);
  if (rc < 0 && !tp_err_last()->file[0]) { /* the numerics know no file: name the input */
    struct tp_errinfo e = *tp_err_last();
    tp_err(rc, c->input, -1, "%s", e.detail);
  }
  if (rc == 0 && prof && c->sim.pool == 0 && (*s)->block > 1) {
    fputs("trainplot: ", stderr);
    tp_text_fputs(c->input, stderr);
    fprintf(stderr, ": a %zu x %zu matrix is over the %llu-byte budget of a full one; "
            "the %s comes from row tiles instead (every pair counted, as with --pool)\n",
            (*s)->src_n, (*s)->src_n, (unsigned long long)tp_sim_full_budget(), c->cmd);
  }
  return rc;
}

static int run_similarity(struct cli *c) {
  struct tp_posemb *pe;
  struct tp_simmat *s;
  int rc = similarity(c, &pe, &s, NULL);
  if (rc == 0)
    rc = c->format && !strcmp(c->format, "text")
             ? tp_simwrite_text(s, c->out, c->input)
             : tp_simwrite_binary(s, c->out, c->input);
  tp_simmat_free(s);
  tp_posemb_free(pe);
  return rc;
}

/* Similarity, profile and the facts about them, for profile and summary. */
static int analyse(struct cli *c, struct tp_posemb **pe, struct tp_simmat **s,
                   struct tp_profile **p) {
  return similarity(c, pe, s, p);
}

static int run_profile(struct cli *c) {
  struct tp_posemb *pe = NULL;
  struct tp_simmat *s = NULL;
  struct tp_profile *p = NULL;
  int rc = analyse(c, &pe, &s, &p);
  if (rc == 0)
    rc = tp_simwrite_profile(p, s, c->out, c->input);
  tp_profile_free(p), tp_simmat_free(s), tp_posemb_free(pe);
  return rc;
}

static json_object *facts_json(const struct tp_posemb *pe,
                               const struct tp_posemb_facts *f, const char *text) {
  json_object *j = json_object_new_object(), *z = json_object_new_array();
  json_object *sent = json_object_new_array();
  const size_t cap = sizeof f->zero_rows / sizeof *f->zero_rows;
  json_object_object_add(j, "input", json_object_new_string(pe->source));
  json_object_object_add(j, "key", json_object_new_string(pe->key));
  json_object_object_add(j, "rows", json_object_new_int64((int64_t)f->n));
  json_object_object_add(j, "dim", json_object_new_int64((int64_t)f->d));
  json_object_object_add(j, "metric", json_object_new_string(tp_metric_name(f->metric)));
  json_object_object_add(j, "block", json_object_new_int64((int64_t)f->block));
  json_object_object_add(j, "band_half_width", json_object_new_int64(f->band));
  json_object_object_add(j, "toeplitz_deviation", json_object_new_double(f->toeplitz));
  json_object_object_add(j, "period", json_object_new_int64(f->period));
  json_object_object_add(j, "self_most_similar", json_object_new_int64((int64_t)f->self_max));
  for (size_t k = 0; k < f->nzero && k < cap; k++)
    json_object_array_add(z, json_object_new_int64((int64_t)f->zero_rows[k]));
  json_object_object_add(j, "zero_rows", z);
  json_object_object_add(j, "zero_row_count", json_object_new_int64((int64_t)f->nzero));
  for (const char *p = text, *e; *p; p = *e ? e + 1 : e) {
    e = strchr(p, '\n') ? strchr(p, '\n') : p + strlen(p);
    json_object_array_add(sent, json_object_new_string_len(p, (int)(e - p)));
  }
  json_object_object_add(j, "sentences", sent);
  return j;
}

static int run_summary(struct cli *c) {
  struct tp_posemb *pe = NULL;
  struct tp_simmat *s = NULL;
  struct tp_profile *p = NULL;
  struct tp_posemb_facts f;
  char *text = NULL;
  int rc = analyse(c, &pe, &s, &p);
  if (rc == 0) {
    tp_posemb_facts(pe, s, p, &f);
    rc = tp_posemb_summary(pe, &f, &text);
  }
  if (rc == 0 && c->json)
    print_json(facts_json(pe, &f, text));
  else if (rc == 0)
    fputs(text, stdout);
  free(text);
  tp_profile_free(p), tp_simmat_free(s), tp_posemb_free(pe);
  return rc;
}

static int run_export(struct cli *c) {
  struct tp_posemb *pe;
  int rc = load(c, &pe);
  if (rc == 0)
    rc = tp_table_write(&pe->rows, c->out, c->input);
  tp_posemb_free(pe);
  return rc;
}

/* The commands as the host lists them; subcommands[] below runs them, in this order. */
const struct tp_command tp_posemb_commands[TP_POSEMB_NCOMMANDS] = {
    {.name = "list", .usage = "FILE [--json]",
     .help = "tensors in a file: name, dtype, shape (positional ones marked)"},
    {.name = "similarity",
     .usage = "INPUT [--key NAME] [--metric cosine|dot|euclidean] [--double] "
              "[--pool SIZE] [--pool-mode mean|max] [--format binary|text] -o OUT",
     .help = "pairwise similarity as a gnuplot binary matrix or text matrix"},
    {.name = "profile", .usage = "INPUT [--key NAME] [--metric M] [--pool SIZE] -o OUT",
     .help = "mean/min/max similarity per offset |i-j|, band, Toeplitz, period (of every pair, also with --pool)"},
    {.name = "summary", .usage = "INPUT [--key NAME] [--metric M] [--pool SIZE] [--json]",
     .help = "plain sentences about the pattern (diagonal, decay, period, padding; every pair, also with --pool)"},
    {.name = "export", .usage = "INPUT [--key NAME] -o OUT.npy|OUT.txt",
     .help = "the table itself as float32 .npy or text"},
};

static const struct subcommand subcommands[] = {
    {.name = "list", .run = run_list},
    {.name = "similarity", .needs_out = 1, .run = run_similarity},
    {.name = "profile", .needs_out = 1, .run = run_profile},
    {.name = "summary", .run = run_summary},
    {.name = "export", .needs_out = 1, .run = run_export},
};
#define NSUB (sizeof subcommands / sizeof subcommands[0])
_Static_assert(NSUB == sizeof tp_posemb_commands / sizeof *tp_posemb_commands,
               "every command has a runner");

static void usage(FILE *fp) {
  fprintf(fp, "usage:\n");
  for (size_t i = 0; i < NSUB; i++)
    fprintf(fp, "  trainplot posemb %s %s\n", tp_posemb_commands[i].name,
            tp_posemb_commands[i].usage);
}

int tp_posemb_main(int argc, char **argv) {
  struct cli c;
  int rc;
  gsl_set_error_handler_off();
  tp_signals_cleanup_on_exit();
  tp_err_clear();
  memset(&c, 0, sizeof c);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  for (size_t i = 0; i < NSUB; i++) {
    if (strcmp(argv[1], subcommands[i].name))
      continue;
    c.cmd = subcommands[i].name;
    if ((rc = parse_args(&c, &subcommands[i], tp_posemb_commands[i].usage,
                          argc, argv)) < 0 ||
        (rc = subcommands[i].run(&c)) < 0)
      return fail(rc);
    return 0;
  }
  fprintf(stderr, "trainplot: posemb: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 1;
}
