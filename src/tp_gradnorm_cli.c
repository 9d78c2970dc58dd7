/* `trainplot gradnorm stats|spikes`: flags, text and JSON output, exit status. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <json-c/json.h>

#include "tp_error.h"
#include "tp_gnwrite.h"
#include "tp_gradnorm.h"
#include "tp_series.h"
#include "tp_signal.h"
#include "tp_spikes.h"
#include "tp_stats.h"
#include "tp_text.h"

struct cli {
  const char *log, *out;
  struct tp_series_opts so;
  struct tp_spike_opts sp;
  double max_norm;
  size_t columns;
  int json;
};

struct subcommand {
  const char *name;
  const char *flags; /* the flags it accepts, " key json " */
  int (*run)(const struct cli *c);
};

static int run_stats(const struct cli *c);
static int run_spikes(const struct cli *c);

static const struct subcommand subcommands[] = {
    {.name = "stats", .flags = " key max-norm json valid epoch ", .run = run_stats},
    {.name = "spikes",
     .flags = " key method window threshold top max-norm json o causal alpha min-ratio "
              "columns valid epoch ",
     .run = run_spikes},
};

const struct tp_command tp_gradnorm_commands[TP_GRADNORM_NCOMMANDS] = {
    {.name = "stats",
     .usage = "LOG [--key NAME] [--max-norm X] [--json]",
     .help = "count, non-finite steps, mean, sd, min/max, median, p90/p99/p99.9, clipping"},
    {.name = "spikes",
     .usage = "LOG [--key NAME] [--method mad|ewma|ratio|threshold] [--window W] "
              "[--threshold T] [--top K] [--max-norm X] [--causal] [--json] [-o OUT]",
     .help = "gradient explosions as ranked episodes; -o writes gnuplot named blocks"},
};

/* Print the last error as "trainplot: FILE: reason" and map it to 1 or 2. */
static int fail(const char *file) {
  char buf[1200];
  const struct tp_errinfo *e = tp_err_last();
  tp_err_format(buf, sizeof buf);
  /* File names and keys in the message are escaped: one inert line on a terminal. */
  fputs("trainplot: ", stderr);
  if (!e->file[0] && file) {
    tp_text_fputs(file, stderr);
    fputs(": ", stderr);
  }
  tp_text_fputs(buf, stderr);
  fputc('\n', stderr);
  return e->code == TP_ENOMEM || e->code == TP_EINTERNAL || e->code == TP_ENUMERIC ? 2 : 1;
}

/* One line: the complaint (what escaped into fmt's one %s) and the command's usage. */
static int usage_error(const char *cmd, const char *fmt, const char *what) {
  char shown[256], msg[400];
  snprintf(msg, sizeof msg, fmt, tp_text_escape_buf(what, shown, sizeof shown));
  fprintf(stderr, "trainplot: gradnorm %s: %s", cmd, msg);
  for (size_t i = 0; i < TP_GRADNORM_NCOMMANDS; i++)
    if (!strcmp(tp_gradnorm_commands[i].name, cmd))
      fprintf(stderr, " (usage: trainplot gradnorm %s %s)", cmd, tp_gradnorm_commands[i].usage);
  fputc('\n', stderr);
  return 1;
}

/* A whole number >= 0, or a finite number; -1 when the text is neither. */
static int to_size(const char *v, size_t *out) {
  char *end;
  unsigned long long u;
  errno = 0;
  if (*v < '0' || *v > '9')
    return -1;
  u = strtoull(v, &end, 10);
  if (errno || *end || u > (unsigned long long)SIZE_MAX)
    return -1;
  *out = (size_t)u;
  return 0;
}

static int to_double(const char *v, double *out) {
  char *end;
  *out = strtod(v, &end);
  return !*v || *end || !isfinite(*out) ? -1 : 0;
}

/* Apply one flag with its value (NULL for switches); -1 bad value, -2 unknown. */
static int apply_flag(struct cli *c, const char *f, const char *v) {
  if (!strcmp(f, "key")) return (c->so.key = v) ? 0 : -1;
  if (!strcmp(f, "o")) return (c->out = v) ? 0 : -1;
  if (!strcmp(f, "json")) return c->json = 1, 0;
  if (!strcmp(f, "causal")) return c->sp.causal = 1, 0;
  if (!strcmp(f, "valid")) return c->so.use_valid = 1, 0;
  if (!strcmp(f, "epoch")) return c->so.use_epoch = 1, 0;
  if (!strcmp(f, "method")) {
    if (strlen(v) >= sizeof c->sp.method) return -1;
    strcpy(c->sp.method, v);
    return 0;
  }
  if (!strcmp(f, "window")) return to_size(v, &c->sp.window);
  if (!strcmp(f, "top")) return to_size(v, &c->sp.top);
  if (!strcmp(f, "columns")) return to_size(v, &c->columns);
  if (!strcmp(f, "threshold")) return to_double(v, &c->sp.threshold);
  if (!strcmp(f, "alpha")) return to_double(v, &c->sp.alpha);
  if (!strcmp(f, "min-ratio")) return to_double(v, &c->sp.min_ratio);
  if (!strcmp(f, "max-norm"))
    return to_double(v, &c->max_norm) < 0 || !(c->max_norm > 0) ? -1 : 0;
  return -2;
}

static int is_switch(const char *f) {
  return !strcmp(f, "json") || !strcmp(f, "causal") || !strcmp(f, "valid") ||
         !strcmp(f, "epoch");
}

/* Parse argv[2..] for sub; flags are --name VALUE, --name=VALUE or -o OUT. */
static int parse(const struct subcommand *sub, int argc, char **argv, struct cli *c) {
  for (int i = 2; i < argc; i++) {
    char name[32], pat[40];
    const char *a = argv[i], *v = NULL, *eq;
    int rc;
    if (a[0] != '-' || !a[1]) {
      if (c->log)
        return usage_error(sub->name, "unexpected argument '%s'", a);
      c->log = a;
      continue;
    }
    a += a[1] == '-' ? 2 : 1;
    eq = strchr(a, '=');
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
    snprintf(pat, sizeof pat, " %s ", name);
    if (!strstr(sub->flags, pat))
      return usage_error(sub->name, "unknown option '%s'", argv[i]);
    if (!is_switch(name) && !(v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL)))
      return usage_error(sub->name, "option '%s' needs a value", argv[i]);
    if ((rc = apply_flag(c, name, v)) < 0)
      return usage_error(sub->name, "bad value for option '%s'", argv[i - (eq ? 0 : 1)]);
  }
  if (!c->log)
    return usage_error(sub->name, "%s", "no LOG given");
  return 0;
}

/* JSON number: null when not finite, an integer when the value is one. */
static json_object *jnum(double x) {
  if (!isfinite(x))
    return NULL;
  if (x == floor(x) && fabs(x) < 9007199254740992.0)
    return json_object_new_int64((int64_t)x);
  return json_object_new_double(x);
}

static void jput(json_object *o, const char *k, double x) {
  json_object_object_add(o, k, jnum(x));
}

static void print_json(json_object *o) {
  puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
  json_object_put(o);
}

/* Read the log and compute its statistics (with max_norm when given). */
static int load(const struct cli *c, struct tp_series **s, struct tp_stats *st) {
  int rc;
  if ((rc = tp_series_read(c->log, &c->so, s)) < 0)
    return rc;
  if ((rc = tp_stats_compute(tp_series_steps(*s), (*s)->value, (*s)->n, c->max_norm, st)) < 0) {
    tp_series_free(*s);
    *s = NULL;
  }
  return rc;
}

static void stats_json(const struct tp_stats *st) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "count", json_object_new_int64((int64_t)st->count));
  json_object_object_add(o, "nonfinite", json_object_new_int64((int64_t)st->nonfinite));
  jput(o, "mean", st->mean);
  jput(o, "sd", st->sd);
  jput(o, "min", st->min);
  jput(o, "max", st->max);
  jput(o, "max_step", st->max_step);
  jput(o, "median", st->median);
  jput(o, "p90", st->p90);
  jput(o, "p99", st->p99);
  if (!isnan(st->max_norm))
    jput(o, "clip_fraction", st->clip_fraction);
  print_json(o);
}

static void stats_text(const struct cli *c, const struct tp_series *s,
                       const struct tp_stats *st) {
  fputs("file            ", stdout);
  tp_text_fputs(c->log, stdout);
  fputs("\nformat          ", stdout);
  tp_text_fputs(s->format, stdout);
  fputs("\nkey             ", stdout);
  tp_text_fputs(s->key, stdout);
  putchar('\n');
  printf("count           %zu\nnon-finite      %zu (NaN %zu, +inf %zu, -inf %zu)\n",
         st->count, st->nonfinite, st->n_nan, st->n_posinf, st->n_neginf);
  if (st->nonfinite)
    printf("first non-finite at step %.15g\n", st->first_nonfinite_step);
  printf("mean            %.6g\nsd              %.6g\n", st->mean, st->sd);
  printf("min             %.6g (step %.15g)\nmax             %.6g (step %.15g)\n", st->min,
         st->min_step, st->max, st->max_step);
  printf("median          %.6g\np90             %.6g\np99             %.6g\np99.9           %.6g\n",
         st->median, st->p90, st->p99, st->p999);
  if (!isnan(st->max_norm))
    printf("max_norm        %g\nclipped         %zu steps (fraction %.6g)\nmean clip coef  %.6g\n",
           st->max_norm, st->n_clipped, st->clip_fraction, st->clip_coef_mean);
  if (s->n_overflow)
    printf("overflow events %zu\n", s->n_overflow);
  if (s->n_malformed)
    printf("malformed %s %zu (first at %s %ld)\n", strcmp(s->format, "tfevents") ? "lines" : "records",
           s->n_malformed, strcmp(s->format, "tfevents") ? "line" : "record", s->malformed_line[0]);
}

/* The statistics are printed either way, but a log whose every norm is NaN or inf has
   nothing to analyse: say so and exit 1, so a batch job notices. */
static int no_finite(const struct cli *c, const struct tp_stats *st) {
  if (st->count > 0 || st->nonfinite == 0)
    return 0;
  tp_err(TP_EEMPTY, c->log, -1,
         "every one of the %zu gradient norms is NaN or inf (%zu NaN, %zu +inf, %zu -inf); "
         "no finite value to analyse",
         st->nonfinite, st->n_nan, st->n_posinf, st->n_neginf);
  return fail(c->log);
}

static int run_stats(const struct cli *c) {
  struct tp_series *s = NULL;
  struct tp_stats st;
  if (load(c, &s, &st) < 0)
    return fail(c->log);
  if (c->json)
    stats_json(&st);
  else
    stats_text(c, s, &st);
  tp_series_free(s);
  return no_finite(c, &st);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Overflow events from the log and steps with a NaN/inf norm, sorted, unique. */
static json_object *overflow_json(const struct tp_series *s) {
  json_object *a = json_object_new_array();
  double *st = NULL, *all;
  size_t nst = 0, n;
  if (tp_stats_nonfinite_steps(tp_series_steps(s), s->value, s->n, &st, &nst) < 0 ||
      !(all = malloc((s->n_overflow + nst + 1) * sizeof *all))) {
    free(st);
    return a;
  }
  if (s->n_overflow)
    memcpy(all, s->overflow_step, s->n_overflow * sizeof *all);
  if (nst)
    memcpy(all + s->n_overflow, st, nst * sizeof *all);
  n = s->n_overflow + nst;
  qsort(all, n, sizeof *all, cmp_double);
  for (size_t i = 0; i < n; i++)
    if (i == 0 || all[i] != all[i - 1])
      json_object_array_add(a, jnum(all[i]));
  free(st);
  free(all);
  return a;
}

static void spikes_json(const struct tp_series *s, const struct tp_spikes *sp) {
  json_object *o = json_object_new_object(), *eps = json_object_new_array();
  for (size_t k = 0; k < sp->n_ep; k++) {
    const struct tp_episode *e = &sp->ep[k];
    json_object *j = json_object_new_object();
    json_object_object_add(j, "rank", json_object_new_int64((int64_t)k + 1));
    jput(j, "start", e->start);
    jput(j, "end", e->end);
    jput(j, "peak_step", e->peak_step);
    jput(j, "peak", e->peak);
    jput(j, "baseline", e->baseline);
    jput(j, "ratio", e->ratio);
    jput(j, "score", e->score);
    json_object_array_add(eps, j);
  }
  json_object_object_add(o, "count", json_object_new_int64((int64_t)sp->n_found));
  json_object_object_add(o, "episodes", eps);
  json_object_object_add(o, "overflow_steps", overflow_json(s));
  print_json(o);
}

static void spikes_text(const struct cli *c, const struct tp_series *s,
                        const struct tp_spikes *sp) {
  const struct tp_spike_opts *o = &sp->opts;
  fputs("# ", stdout);
  tp_text_fputs(c->log, stdout);
  printf(": %zu points (", s->n);
  tp_text_fputs(s->format, stdout);
  fputs(", key ", stdout);
  tp_text_fputs(s->key, stdout);
  printf("); method %s, window %zu, threshold %g%s\n", o->method, o->window, o->threshold,
         o->causal ? ", causal" : "");
  printf("# %zu episode%s found%s\n", sp->n_found, sp->n_found == 1 ? "" : "s",
         sp->n_ep < sp->n_found ? ", the most severe shown" : "");
  printf("%4s %12s %12s %12s %12s %12s %8s %8s\n", "rank", "start", "end", "peak_step",
         "peak", "baseline", "ratio", "score");
  for (size_t k = 0; k < sp->n_ep; k++) {
    const struct tp_episode *e = &sp->ep[k];
    printf("%4zu %12.15g %12.15g %12.15g %12.6g %12.6g %8.3g %8.3g\n", k + 1, e->start, e->end,
           e->peak_step, e->peak, e->baseline, e->ratio, e->score);
  }
}

static int run_spikes(const struct cli *c) {
  struct tp_series *s = NULL;
  struct tp_spikes *sp = NULL;
  struct tp_stats st;
  struct tp_spike_opts o = c->sp;
  int rc = 0;
  o.max_norm = c->max_norm;
  if (load(c, &s, &st) < 0 || tp_spikes_detect(tp_series_steps(s), s->value, s->n, &o, &sp) < 0) {
    tp_series_free(s);
    return fail(c->log);
  }
  if (c->out) {
    struct tp_gn_data d = {.source = c->log, .s = s, .st = &st, .sp = sp, .columns = c->columns};
    if ((strcmp(c->out, "-") ? tp_gn_write_file(c->out, &d, NULL)
                              : tp_gn_write_stream(stdout, &d, NULL)) < 0)
      rc = fail(c->out);
  }
  if (rc == 0 && c->json)
    spikes_json(s, sp);
  else if (rc == 0 && !(c->out && !strcmp(c->out, "-")))
    spikes_text(c, s, sp);
  tp_spikes_free(sp);
  tp_series_free(s);
  return rc ? rc : no_finite(c, &st);
}

int tp_gradnorm_main(int argc, char **argv) {
  struct cli c;
  gsl_set_error_handler_off();
  tp_signals_cleanup_on_exit();
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    FILE *fp = argc < 2 ? stderr : stdout;
    for (size_t i = 0; i < TP_GRADNORM_NCOMMANDS; i++)
      fprintf(fp, "usage: trainplot gradnorm %s %s\n", tp_gradnorm_commands[i].name,
              tp_gradnorm_commands[i].usage);
    return argc < 2 ? 1 : 0;
  }
  memset(&c, 0, sizeof c);
  tp_spike_opts_init(&c.sp);
  c.max_norm = NAN;
  c.columns = TP_GN_COLUMNS;
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (!strcmp(subcommands[i].name, argv[1]))
      return parse(&subcommands[i], argc, argv, &c) ? 1 : subcommands[i].run(&c);
  fprintf(stderr, "trainplot: gradnorm: unknown command '%s' (commands: stats, spikes)\n",
          argv[1]);
  return 1;
}
