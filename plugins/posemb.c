/* gnuplot adapter for positional-embedding similarity: converts values, calls the core. */
#include "config.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_gpscript.h"
#include "tp_gpvalue.h"
#include "tp_module.h"
#include "tp_posemb.h"
#include "tp_profile.h"
#include "tp_simwrite.h"
#include "tp_text.h"

#define MODULE "posemb"
#define DATABLOCK_MAX 1024

struct value pe_load(int nargs, struct value *arg, void *priv);
struct value pe_dim(int nargs, struct value *arg, void *priv);
struct value pe_similarity(int nargs, struct value *arg, void *priv);
struct value pe_similarity_pooled(int nargs, struct value *arg, void *priv);
struct value pe_sim(int nargs, struct value *arg, void *priv);
struct value pe_profile(int nargs, struct value *arg, void *priv);
struct value pe_summary(int nargs, struct value *arg, void *priv);
struct value pe_datablock(int nargs, struct value *arg, void *priv);
struct value pe_name(int nargs, struct value *arg, void *priv);
struct value pe_band(int nargs, struct value *arg, void *priv);
struct value pe_range(int nargs, struct value *arg, void *priv);
struct value pe_profile_display(int nargs, struct value *arg, void *priv);
TP_MODULE_DECLARE(pe);

/* What the script loaded last; gnuplot calls are single-threaded. */
static struct tp_posemb *table;
static struct tp_simmat *sim;
static struct tp_profile *prof;

static void drop_results(void) {
  tp_profile_free(prof);
  tp_simmat_free(sim);
  prof = NULL, sim = NULL;
}

static int need_table(void) {
  return table ? 0 : tp_err(TP_ESTATE, NULL, -1, "no table loaded; call pe_load(spec, key) first");
}

/* Replace the similarity; on failure the previous results are gone too. A pooled matrix
   comes with the profile of the unpooled one, gathered from the same row tiles, so the
   profile and the summary keep full resolution while the n x n matrix is never held. */
static int compute(enum tp_metric m, size_t pool) {
  struct tp_sim_opts o = {.metric = m, .pool = pool};
  drop_results();
  if (need_table() < 0)
    return TP_ESTATE;
  if (pool > 0 && pool < table->rows.n)
    return tp_sim_compute_profiled(&table->rows, &o, &sim, &prof);
  return tp_sim_compute(&table->rows, &o, &sim);
}

/* Cosine by default when a function needs a matrix and none was computed. */
static int need_sim(void) { return sim ? 0 : compute(TP_METRIC_COSINE, 0); }

/* The profile, and a matrix with it: a table whose full matrix is over the budget gets a
   pooled grid from row tiles, as 'trainplot posemb summary' does, not an error. */
static int need_profile(void) {
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE};
  if (sim)
    return prof ? 0 : tp_profile_compute(sim, &prof);
  if (need_table() < 0)
    return TP_ESTATE;
  return tp_sim_compute_profiled(&table->rows, &o, &sim, &prof);
}

TP_GP_EXPORT(MODULE, pe_load) {
  const char *spec, *key;
  struct tp_posemb *pe;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 2 || tp_gp_arg_str(&arg[0], 1, &spec) < 0 || tp_gp_arg_str(&arg[1], 2, &key) < 0)
    return tp_gp_fail(MODULE);
  /* A failed load leaves nothing loaded (as gn_load does): a script can never draw the
     previous table under the new input's name. */
  drop_results();
  tp_posemb_free(table);
  table = NULL;
  if (tp_posemb_load(spec, key, &pe) < 0)
    return tp_gp_fail(MODULE);
  table = pe;
  return tp_gp_int((long long)pe->rows.n);
}

TP_GP_EXPORT(MODULE, pe_dim) {
  (void)nargs, (void)arg, (void)priv;
  tp_gp_clear_error();
  if (need_table() < 0)
    return tp_gp_fail(MODULE);
  return tp_gp_int((long long)table->rows.d);
}

/* Compute with metric and pool, then write out_path unless it is "". */
static struct value similarity(struct value *arg, size_t pool) {
  const char *metric, *out;
  enum tp_metric m;
  int rc;
  if (tp_gp_arg_str(&arg[0], 1, &metric) < 0 || tp_gp_arg_str(&arg[1], 2, &out) < 0 ||
      tp_metric_parse(metric, &m) < 0 || compute(m, pool) < 0)
    return tp_gp_fail(MODULE);
  rc = *out ? tp_simwrite_binary(sim, out, table->source) : 0;
  return rc < 0 ? tp_gp_fail(MODULE) : tp_gp_int((long long)sim->n);
}

TP_GP_EXPORT(MODULE, pe_similarity) {
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 2)
    return tp_gp_fail(MODULE);
  return similarity(arg, 0);
}

/* 1 when the full matrix of the same metric is at hand, so pooling needs no BLAS pass. */
static int reuse_full(struct value *arg, size_t size) {
  const char *metric;
  enum tp_metric m;
  if (!sim || sim->block != 1 || size >= sim->n || arg[0].type != STRING)
    return 0;
  metric = arg[0].v.string_val;
  return tp_metric_parse(metric, &m) == 0 && m == sim->metric;
}

/* Replace the full matrix by its pooled grid, then write it unless out_path is "". The
   profile stays the full matrix's, as when the pooled grid is computed from tiles. */
static struct value pooled_from_full(struct value *arg, size_t size) {
  struct tp_simmat *p;
  struct tp_profile *keep;
  const char *out;
  if (tp_gp_arg_str(&arg[1], 2, &out) < 0 || need_profile() < 0 ||
      tp_sim_pool(sim, size, TP_POOL_MEAN, &p) < 0)
    return tp_gp_fail(MODULE);
  keep = prof, prof = NULL;
  drop_results();
  sim = p, prof = keep;
  if (*out && tp_simwrite_binary(sim, out, table->source) < 0)
    return tp_gp_fail(MODULE);
  return tp_gp_int((long long)sim->n);
}

TP_GP_EXPORT(MODULE, pe_similarity_pooled) {
  long long size;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 3 || tp_gp_arg_int(&arg[2], 3, &size) < 0)
    return tp_gp_fail(MODULE);
  if (size < 2 || size > 65536) {
    tp_err(TP_EINVAL, NULL, -1, "pool size must be from 2 to 65536, not %lld", size);
    return tp_gp_fail(MODULE);
  }
  return reuse_full(arg, (size_t)size) ? pooled_from_full(arg, (size_t)size)
                                       : similarity(arg, (size_t)size);
}

TP_GP_EXPORT(MODULE, pe_sim) {
  long long i, j;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 2 || tp_gp_arg_int(&arg[0], 1, &i) < 0 || tp_gp_arg_int(&arg[1], 2, &j) < 0 ||
      need_sim() < 0)
    return tp_gp_fail(MODULE);
  if (i < 0 || j < 0 || (size_t)i >= sim->n || (size_t)j >= sim->n) {
    tp_err(TP_EINVAL, NULL, -1, "pe_sim(%lld, %lld) is outside 0..%zu", i, j, sim->n - 1);
    return tp_gp_fail(MODULE);
  }
  return tp_gp_num(tp_simmat_get(sim, (size_t)i, (size_t)j));
}

/* Smallest (which 0) or largest (which 1) defined cell of the current matrix: what a
   script's colour range needs, without gnuplot reading the file back through `stats`. */
TP_GP_EXPORT(MODULE, pe_range) {
  long long which;
  double lo, hi;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_int(&arg[0], 1, &which) < 0 || need_sim() < 0)
    return tp_gp_fail(MODULE);
  if (which != 0 && which != 1) {
    tp_err(TP_EINVAL, NULL, -1, "pe_range(%lld): expected 0 (smallest) or 1 (largest)", which);
    return tp_gp_fail(MODULE);
  }
  tp_simmat_range(sim, &lo, &hi); /* NaN for both when every cell is undefined */
  return tp_gp_num(which ? hi : lo);
}

TP_GP_EXPORT(MODULE, pe_profile) {
  const char *out;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_str(&arg[0], 1, &out) < 0 || need_profile() < 0 ||
      tp_simwrite_profile(prof, sim, out, table->source) < 0)
    return tp_gp_fail(MODULE);
  return tp_gp_int((long long)prof->n);
}

/* pe_profile at a plot's resolution: columns pixel columns (0 = every offset). */
TP_GP_EXPORT(MODULE, pe_profile_display) {
  const char *out;
  long long columns;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 2 || tp_gp_arg_str(&arg[0], 1, &out) < 0 || tp_gp_arg_int(&arg[1], 2, &columns) < 0)
    return tp_gp_fail(MODULE);
  if (columns < 0 || columns > 1000000) {
    tp_err(TP_EINVAL, NULL, -1, "columns must be 0 (every offset) or 1..1000000, got %lld",
           columns);
    return tp_gp_fail(MODULE);
  }
  if (need_profile() < 0 ||
      tp_simwrite_profile_display(prof, sim, out, table->source, (size_t)columns) < 0)
    return tp_gp_fail(MODULE);
  return tp_gp_int((long long)prof->n);
}

TP_GP_EXPORT(MODULE, pe_summary) {
  struct tp_posemb_facts f;
  struct value v;
  char *text;
  (void)nargs, (void)arg, (void)priv;
  tp_gp_clear_error();
  if (need_profile() < 0)
    return tp_gp_fail(MODULE);
  tp_posemb_facts(table, sim, prof, &f);
  if (tp_posemb_summary(table, &f, &text) < 0)
    return tp_gp_fail(MODULE);
  v = tp_gp_str(text);
  free(text);
  return v;
}

TP_GP_EXPORT(MODULE, pe_datablock) {
  struct value v;
  char *text;
  (void)nargs, (void)arg, (void)priv;
  tp_gp_clear_error();
  if (need_sim() < 0 || tp_simwrite_datablock(sim, DATABLOCK_MAX, &text) < 0)
    return tp_gp_fail(MODULE);
  v = tp_gp_str(text);
  free(text);
  return v;
}

TP_GP_EXPORT(MODULE, pe_name) {
  (void)nargs, (void)arg, (void)priv;
  tp_gp_clear_error();
  if (need_table() < 0)
    return tp_gp_fail(MODULE);
  return tp_gp_str_escaped(MODULE, table->key && *table->key ? table->key : table->source);
}

/* The band half-width in positions, NaN (not an error) when the profile never drops below half. */
TP_GP_EXPORT(MODULE, pe_band) {
  (void)nargs, (void)arg, (void)priv;
  tp_gp_clear_error();
  if (need_profile() < 0)
    return tp_gp_fail(MODULE);
  if (prof->band < 0)
    return tp_gp_num(NAN);
  return tp_gp_int((long long)prof->band * (long long)prof->block);
}

static const struct tp_gpfunc funcs[] = {
    {.name = "pe_load",
     .params = "spec,key",
     .nargs = 2,
     .fn = pe_load,
     .help =
         "load a positional table from a file or generator spec (key \"\" picks it); returns rows"},
    {.name = "pe_dim",
     .params = "x",
     .nargs = 1,
     .fn = pe_dim,
     .help = "dimensions of the loaded table (x is ignored)"},
    {.name = "pe_similarity",
     .params = "metric,out_path",
     .nargs = 2,
     .fn = pe_similarity,
     .help = "cosine|dot|euclidean similarity, written as a binary matrix unless out_path is \"\"; "
             "returns rows"},
    {.name = "pe_similarity_pooled",
     .params = "metric,out_path,size",
     .nargs = 3,
     .fn = pe_similarity_pooled,
     .help = "like pe_similarity, block-mean pooled to size x size for large tables (the profile "
             "stays unpooled)"},
    {.name = "pe_sim",
     .params = "i,j",
     .nargs = 2,
     .fn = pe_sim,
     .help = "similarity of rows i and j (0-based; cosine unless computed otherwise)"},
    {.name = "pe_profile",
     .params = "out_path",
     .nargs = 1,
     .fn = pe_profile,
     .help = "write the offset profile (index \"profile\", \"summary\"), of the unpooled matrix "
             "after pe_similarity_pooled; returns offsets"},
    {.name = "pe_profile_display",
     .params = "out_path,columns",
     .nargs = 2,
     .fn = pe_profile_display,
     .help = "pe_profile drawn at columns pixel columns: per column its first, last, lowest and "
             "highest mean, with the column's min-max band"},
    {.name = "pe_summary",
     .params = "x",
     .nargs = 1,
     .fn = pe_summary,
     .help = "plain sentences about the pattern (x is ignored)"},
    {.name = "pe_datablock",
     .params = "x",
     .nargs = 1,
     .fn = pe_datablock,
     .help = "the matrix as text for a datablock, up to 1024 rows (x is ignored)"},
    {.name = "pe_name",
     .params = "x",
     .nargs = 1,
     .fn = pe_name,
     .help = "the loaded tensor's key, or the file/spec when it has none, escaped for a title (x "
             "is ignored)"},
    {.name = "pe_band",
     .params = "x",
     .nargs = 1,
     .fn = pe_band,
     .help = "band half-width in positions: first offset whose mean similarity is below 0.5; NaN "
             "when none"},
    {.name = "pe_range",
     .params = "which",
     .nargs = 1,
     .fn = pe_range,
     .help = "smallest (0) or largest (1) defined value of the current matrix; NaN when none is"},
    TP_MODULE_FUNCS(pe),
};

/* What gnuplot_fini drops besides the shared state. */
static void cleanup(void) {
  drop_results();
  tp_posemb_free(table);
  table = NULL;
}

TP_MODULE(pe, MODULE, "positional-embedding similarity: heatmap, offset profile, summary", funcs,
          tp_posemb_commands, TP_POSEMB_NCOMMANDS, tp_posemb_main, cleanup);
