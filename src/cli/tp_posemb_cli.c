/* `trainplot posemb list|similarity|profile|summary|export`: the command-line entry. */
#include "config.h"

#include <gsl/gsl_errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tp_cmd.h"
#include "tp_error.h"
#include "tp_json.h"
#include "tp_module.h"
#include "tp_posemb.h"
#include "tp_profile.h"
#include "tp_signal.h"
#include "tp_simwrite.h"
#include "tp_text.h"

struct cli {
  const char *input, *key, *out, *metric, *pool_mode, *format;
  size_t pool;
  int dbl, json;
  const char *cmd;
  struct tp_sim_opts sim;
  struct timespec start;
  int shown; /* progress was printed */
};

/* Progress on a terminal, once the run has taken more than a second. */
static void progress(void *ctx, double done) {
  struct cli *c = ctx;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if ((double)(now.tv_sec - c->start.tv_sec) + (double)(now.tv_nsec - c->start.tv_nsec) * 1e-9 <
      1.0)
    return;
  fprintf(stderr, "\rtrainplot: %s %3.0f%%", c->cmd, done * 100);
  if (done >= 1)
    fputc('\n', stderr);
  c->shown = done < 1;
}

/* The parsed option words into the similarity options (the parser checked each one). */
static int sim_opts(struct cli *c) {
  c->sim.dbl = c->dbl;
  c->sim.pool = c->pool;
  c->sim.how = c->pool_mode && !strcmp(c->pool_mode, "max") ? TP_POOL_MAX : TP_POOL_MEAN;
  return c->metric ? tp_metric_parse(c->metric, &c->sim.metric) : 0;
}

/* ---- subcommands ---- */

static json_object *shape_json(int ndim, const uint64_t *shape) {
  json_object *a = json_object_new_array();
  for (int k = 0; k < ndim; k++)
    json_object_array_add(a, json_object_new_int64((int64_t)shape[k]));
  return a;
}

static int run_list(void *args) {
  struct cli *c = args;
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
  return tp_json_print(j);
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
  if ((rc = sim_opts(c)) < 0 || (rc = load(c, pe)) < 0)
    return rc;
  if (isatty(STDERR_FILENO)) {
    c->sim.progress = progress;
    c->sim.progress_ctx = c;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
  }
  rc = tp_sim_compute_profiled(&(*pe)->rows, &c->sim, s, prof);
  if (c->shown)
    fputc('\n', stderr);
  if (rc == 0 && prof && c->sim.pool == 0 && (*s)->block > 1) {
    fputs("trainplot: ", stderr);
    tp_text_fputs(c->input, stderr);
    fprintf(stderr,
            ": a %zu x %zu matrix is over the %llu-byte budget of a full one; "
            "the %s comes from row tiles instead (every pair counted, as with --pool)\n",
            (*s)->src_n, (*s)->src_n, (unsigned long long)tp_sim_full_budget(), c->cmd);
  }
  return rc;
}

static int run_similarity(void *args) {
  struct cli *c = args;
  c->cmd = "similarity";
  struct tp_posemb *pe;
  struct tp_simmat *s;
  int rc = similarity(c, &pe, &s, NULL);
  if (rc == 0)
    rc = c->format && !strcmp(c->format, "text") ? tp_simwrite_text(s, c->out, c->input)
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

static int run_profile(void *args) {
  struct cli *c = args;
  c->cmd = "profile";
  struct tp_posemb *pe = NULL;
  struct tp_simmat *s = NULL;
  struct tp_profile *p = NULL;
  int rc = analyse(c, &pe, &s, &p);
  if (rc == 0)
    rc = tp_simwrite_profile(p, s, c->out, c->input);
  tp_profile_free(p), tp_simmat_free(s), tp_posemb_free(pe);
  return rc;
}

static json_object *facts_json(const struct tp_posemb *pe, const struct tp_posemb_facts *f,
                               const char *text) {
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

static int run_summary(void *args) {
  struct cli *c = args;
  c->cmd = "summary";
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
    rc = tp_json_print(facts_json(pe, &f, text));
  else if (rc == 0)
    fputs(text, stdout);
  free(text);
  tp_profile_free(p), tp_simmat_free(s), tp_posemb_free(pe);
  return rc;
}

static int run_export(void *args) {
  struct cli *c = args;
  struct tp_posemb *pe;
  int rc = load(c, &pe);
  if (rc == 0)
    rc = tp_table_write(&pe->rows, c->out, c->input);
  tp_posemb_free(pe);
  return rc;
}

/* ---- the command table ---- */

static const char *const *metrics(void) { return tp_metric_names(); }
static const char *const *pool_modes(void) {
  static const char *const names[] = {"mean", "max", NULL};
  return names;
}
static const char *const *formats(void) {
  static const char *const names[] = {"binary", "text", NULL};
  return names;
}

static void init(void *args) { ((struct cli *)args)->sim.metric = TP_METRIC_COSINE; }

#define F(field) offsetof(struct cli, field)
#define KEY                                                                \
  {                                                                        \
    .name = "key", .arg = "NAME", .type = TP_OPT_STRING, .offset = F(key), \
    .help = "tensor to use (default: the one positional table)"            \
  }
#define METRIC                                                                \
  {                                                                           \
    .name = "metric", .arg = "M", .type = TP_OPT_CHOICE, .offset = F(metric), \
    .help = "similarity (default cosine)", .choices = metrics                 \
  }
#define POOL                                                                                   \
  {                                                                                            \
    .name = "pool", .arg = "SIZE", .type = TP_OPT_SIZE, .offset = F(pool),                     \
    .help = "block-mean pool to SIZE x SIZE from row tiles (2..65536)", .min = 2, .max = 65536 \
  }
#define JSON                                                               \
  {                                                                        \
    .name = "json", .arg = NULL, .type = TP_OPT_SWITCH, .offset = F(json), \
    .help = "JSON instead of text"                                         \
  }
#define OUT(a, what) \
  { .name = "o", .arg = a, .type = TP_OPT_STRING, .offset = F(out), .help = what, .required = 1 }

static const struct tp_opt list_opts[] = {JSON, {0}};
static const struct tp_opt similarity_opts[] = {
    KEY,
    METRIC,
    {.name = "double",
     .arg = NULL,
     .type = TP_OPT_SWITCH,
     .offset = F(dbl),
     .help = "compute in double precision (default float32)"},
    POOL,
    {.name = "pool-mode",
     .arg = "MODE",
     .type = TP_OPT_CHOICE,
     .offset = F(pool_mode),
     .help = "block mean or maximum (default mean)",
     .choices = pool_modes},
    {.name = "format",
     .arg = "F",
     .type = TP_OPT_CHOICE,
     .offset = F(format),
     .help = "gnuplot binary matrix or text (default binary)",
     .choices = formats},
    OUT("OUT", "the matrix file (written atomically; a device or FIFO in place)"),
    {0}};
static const struct tp_opt profile_opts[] = {
    KEY, METRIC, POOL, OUT("OUT", "the profile's named blocks"), {0}};
static const struct tp_opt summary_opts[] = {KEY, METRIC, POOL, JSON, {0}};
static const struct tp_opt export_opts[] = {
    KEY, OUT("OUT.npy|OUT.txt", "the table as float32 .npy, or text for any other name"), {0}};

#define CMD(n, in, opts_, fn, h)                                                \
  {                                                                             \
    .name = n, .input = in, .input_offset = F(input), .help = h, .opts = opts_, \
    .size = sizeof(struct cli), .init = init, .run = fn                         \
  }
const struct tp_command tp_posemb_commands[TP_POSEMB_NCOMMANDS] = {
    CMD("list", "FILE", list_opts, run_list,
        "tensors in a file: name, dtype, shape (positional ones marked)"),
    CMD("similarity", "INPUT", similarity_opts, run_similarity,
        "pairwise similarity as a gnuplot binary matrix or text matrix"),
    CMD("profile", "INPUT", profile_opts, run_profile,
        "mean/min/max similarity per offset |i-j|, band, Toeplitz, period (of every pair, also "
        "with --pool)"),
    CMD("summary", "INPUT", summary_opts, run_summary,
        "plain sentences about the pattern (diagonal, decay, period, padding; every pair, also "
        "with --pool)"),
    CMD("export", "INPUT", export_opts, run_export, "the table itself as float32 .npy or text"),
};
#undef CMD
#undef F

int tp_posemb_main(int argc, char **argv) {
  gsl_set_error_handler_off();
  tp_signals_cleanup_on_exit();
  return tp_cmd_main("posemb", tp_posemb_commands, TP_POSEMB_NCOMMANDS, argc, argv);
}
