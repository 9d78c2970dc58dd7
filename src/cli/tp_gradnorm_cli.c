/* `trainplot gradnorm stats|spikes`: flags, text and JSON output, exit status. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <json-c/json.h>

#include "tp_cmd.h"
#include "tp_error.h"
#include "tp_gnwrite.h"
#include "tp_gradnorm.h"
#include "tp_json.h"
#include "tp_series.h"
#include "tp_signal.h"
#include "tp_spikes.h"
#include "tp_stats.h"
#include "tp_text.h"

struct cli {
  const char *log, *out, *key, *method;
  struct tp_series_opts so;
  struct tp_spike_opts sp;
  double max_norm;
  size_t columns;
  int json, causal, valid, epoch;
};

/* Print the last error as "trainplot: FILE: reason" (escaped, one line) and return its
   TP_E code, which tp_cmd_main turns into the exit status without printing it again. */
static int fail(const char *file) {
  const struct tp_errinfo *e = tp_err_last();
  if (!e->file[0] && file) {
    struct tp_errinfo keep = *e;
    tp_err(keep.code, file, keep.offset, "%s", keep.detail);
  }
  return tp_err_last()->code ? tp_err_last()->code : TP_EINTERNAL;
}

/* The parsed option words into the series and detector options. */
static void apply(struct cli *c) {
  c->so.key = c->key;
  c->so.use_valid = c->valid;
  c->so.use_epoch = c->epoch;
  c->sp.causal = c->causal;
  if (c->method)
    snprintf(c->sp.method, sizeof c->sp.method, "%s", c->method);
}

/* JSON number: null when not finite, an integer when the value is one. */
static json_object *jnum(double x) {
  if (!isfinite(x))
    return NULL;
  if (x == floor(x) && fabs(x) < 9007199254740992.0)
    return json_object_new_int64((int64_t)x);
  return json_object_new_double(x);
}

static void jput(json_object *o, const char *k, double x) { json_object_object_add(o, k, jnum(x)); }

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
  tp_json_print(o);
}

static void stats_text(const struct cli *c, const struct tp_series *s, const struct tp_stats *st) {
  fputs("file            ", stdout);
  tp_text_fputs(c->log, stdout);
  fputs("\nformat          ", stdout);
  tp_text_fputs(s->format, stdout);
  fputs("\nkey             ", stdout);
  tp_text_fputs(s->key, stdout);
  putchar('\n');
  printf("count           %zu\nnon-finite      %zu (NaN %zu, +inf %zu, -inf %zu)\n", st->count,
         st->nonfinite, st->n_nan, st->n_posinf, st->n_neginf);
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
    printf("malformed %s %zu (first at %s %ld)\n",
           strcmp(s->format, "tfevents") ? "lines" : "records", s->n_malformed,
           strcmp(s->format, "tfevents") ? "line" : "record", s->malformed_line[0]);
  if (s->skipped_bytes)
    printf("skipped %llu bytes from offset %lld\n", (unsigned long long)s->skipped_bytes,
           s->skip_offset);
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

static int run_stats(void *args) {
  struct cli *c = args;
  apply(c);
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
  tp_json_print(o);
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
  printf("%4s %12s %12s %12s %12s %12s %8s %8s\n", "rank", "start", "end", "peak_step", "peak",
         "baseline", "ratio", "score");
  for (size_t k = 0; k < sp->n_ep; k++) {
    const struct tp_episode *e = &sp->ep[k];
    printf("%4zu %12.15g %12.15g %12.15g %12.6g %12.6g %8.3g %8.3g\n", k + 1, e->start, e->end,
           e->peak_step, e->peak, e->baseline, e->ratio, e->score);
  }
}

static int run_spikes(void *args) {
  struct cli *c = args;
  apply(c);
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

/* ---- the command table ---- */

/* The detectors' names, from tp_spikes' table. */
static const char *const *methods(void) { return tp_spike_method_names(); }

static void init(void *args) {
  struct cli *c = args;
  tp_spike_opts_init(&c->sp);
  c->max_norm = NAN;
  c->columns = TP_GN_COLUMNS;
}

#define F(field) offsetof(struct cli, field)
#define KEY                                                                                  \
  {                                                                                          \
    .name = "key", .arg = "NAME", .type = TP_OPT_STRING, .offset = F(key),                   \
    .help = "series: column, JSON key or TensorBoard tag (default: the log's gradient norm)" \
  }
#define MAXNORM                                                                                    \
  {                                                                                                \
    .name = "max-norm", .arg = "X", .type = TP_OPT_DOUBLE, .offset = F(max_norm),                  \
    .help = "clipping threshold (> 0): clipped fraction and mean clip coefficient", .min = 1e-300, \
    .max = 1e300                                                                                   \
  }
#define JSON                                                               \
  {                                                                        \
    .name = "json", .arg = NULL, .type = TP_OPT_SWITCH, .offset = F(json), \
    .help = "JSON instead of text"                                         \
  }
#define VALID                                                                \
  {                                                                          \
    .name = "valid", .arg = NULL, .type = TP_OPT_SWITCH, .offset = F(valid), \
    .help = "fairseq: the valid lines instead of train_inner"                \
  }
#define EPOCH                                                                \
  {                                                                          \
    .name = "epoch", .arg = NULL, .type = TP_OPT_SWITCH, .offset = F(epoch), \
    .help = "fairseq: the per-epoch train lines"                             \
  }

static const struct tp_opt stats_opts[] = {KEY, MAXNORM, JSON, VALID, EPOCH, {0}};
static const struct tp_opt spikes_opts[] = {
    KEY,
    {.name = "method",
     .arg = "M",
     .type = TP_OPT_CHOICE,
     .offset = F(method),
     .help = "detector (default mad)",
     .choices = methods},
    {.name = "window",
     .arg = "W",
     .type = TP_OPT_SIZE,
     .offset = F(sp.window),
     .help = "moving-median window, odd (default 101)"},
    {.name = "threshold",
     .arg = "T",
     .type = TP_OPT_DOUBLE,
     .offset = F(sp.threshold),
     .help = "detector threshold (default: mad 8, ewma 8, ratio 3)"},
    {.name = "top",
     .arg = "K",
     .type = TP_OPT_SIZE,
     .offset = F(sp.top),
     .help = "episodes shown, the most severe first (default all)"},
    MAXNORM,
    JSON,
    {.name = "o",
     .arg = "OUT",
     .type = TP_OPT_STRING,
     .offset = F(out),
     .help = "also write gnuplot named blocks to OUT ('-' for stdout)"},
    {.name = "causal",
     .arg = NULL,
     .type = TP_OPT_SWITCH,
     .offset = F(causal),
     .help = "trailing windows, as an online monitor sees the run"},
    {.name = "alpha",
     .arg = "A",
     .type = TP_OPT_DOUBLE,
     .offset = F(sp.alpha),
     .help = "ewma smoothing, 0 < A < 1 (default 0.02)"},
    {.name = "min-ratio",
     .arg = "R",
     .type = TP_OPT_DOUBLE,
     .offset = F(sp.min_ratio),
     .help = "mad: a spike is also at least R x baseline (default 2)"},
    {.name = "columns",
     .arg = "N",
     .type = TP_OPT_SIZE,
     .offset = F(columns),
     .help = "with -o: decimate to N pixel columns, 0 = every point"},
    VALID,
    EPOCH,
    {0}};

#define CMD(n, opts_, fn, h)                                                     \
  {                                                                              \
    .name = n, .input = "LOG", .input_offset = F(log), .help = h, .opts = opts_, \
    .size = sizeof(struct cli), .init = init, .run = fn                          \
  }
const struct tp_command tp_gradnorm_commands[TP_GRADNORM_NCOMMANDS] = {
    CMD("stats", stats_opts, run_stats,
        "count, non-finite steps, mean, sd, min/max, median, p90/p99/p99.9, clipping"),
    CMD("spikes", spikes_opts, run_spikes,
        "gradient explosions as ranked episodes; -o writes gnuplot named blocks"),
};
#undef CMD
#undef F

int tp_gradnorm_main(int argc, char **argv) {
  gsl_set_error_handler_off();
  tp_signals_cleanup_on_exit();
  return tp_cmd_main("gradnorm", tp_gradnorm_commands, TP_GRADNORM_NCOMMANDS, argc, argv);
}
