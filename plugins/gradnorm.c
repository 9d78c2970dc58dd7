/* gnuplot adapter for gradient-norm series: converts values, calls the core. */
#include "config.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_gnwrite.h"
#include "tp_gpscript.h"
#include "tp_gpvalue.h"
#include "tp_gradnorm.h"
#include "tp_module.h"
#include "tp_series.h"
#include "tp_spikes.h"
#include "tp_stats.h"
#include "tp_text.h"

#define MODULE "gradnorm"
#define SUMMARY_EPISODES 10

struct value gn_load(int nargs, struct value *arg, void *priv);
struct value gn_stat(int nargs, struct value *arg, void *priv);
struct value gn_detect(int nargs, struct value *arg, void *priv);
struct value gn_episode_start(int nargs, struct value *arg, void *priv);
struct value gn_episode_end(int nargs, struct value *arg, void *priv);
struct value gn_episode_step(int nargs, struct value *arg, void *priv);
struct value gn_episode_peak(int nargs, struct value *arg, void *priv);
struct value gn_episode_ratio(int nargs, struct value *arg, void *priv);
struct value gn_episode_baseline(int nargs, struct value *arg, void *priv);
struct value gn_episode_score(int nargs, struct value *arg, void *priv);
struct value gn_write(int nargs, struct value *arg, void *priv);
struct value gn_write_display(int nargs, struct value *arg, void *priv);
struct value gn_summary(int nargs, struct value *arg, void *priv);
struct value gn_datablock(int nargs, struct value *arg, void *priv);
struct value gn_name(int nargs, struct value *arg, void *priv);
TP_MODULE_DECLARE(gn);

/* What the script loaded last; gnuplot calls are single-threaded. */
static struct tp_series *series;
static struct tp_stats stats;
static struct tp_spikes *spikes;
static char *source; /* the path loaded, malloc'ed: no length limit */

/* A failed gn_load leaves nothing loaded (as pe_load does), so a script can never draw
   the previous log under the new one's name. */
static void drop_all(void) {
  tp_spikes_free(spikes);
  tp_series_free(series);
  free(source);
  spikes = NULL, series = NULL, source = NULL;
}

static int need_series(void) {
  return series ? 0
                : tp_err(TP_ESTATE, NULL, -1, "no series loaded; call gn_load(path, key) first");
}

/* Detection with the defaults when the script asks for results before gn_detect. */
static int need_spikes(void) {
  struct tp_spike_opts o;
  if (need_series() < 0)
    return TP_ESTATE;
  if (spikes)
    return 0;
  tp_spike_opts_init(&o);
  return tp_spikes_detect(tp_series_steps(series), series->value, series->n, &o, &spikes);
}

static struct tp_gn_data view(size_t columns) {
  struct tp_gn_data d = {
      .source = source, .s = series, .st = &stats, .sp = spikes, .columns = columns};
  return d;
}

TP_GP_EXPORT(MODULE, gn_load) {
  const char *path, *key;
  struct tp_series_opts o = {0};
  struct tp_series *s = NULL;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 2 || tp_gp_arg_str(&arg[0], 1, &path) < 0 || tp_gp_arg_str(&arg[1], 2, &key) < 0)
    return tp_gp_fail(MODULE);
  o.key = key;
  drop_all();
  if (tp_series_read(path, &o, &s) < 0)
    return tp_gp_fail(MODULE);
  if (tp_stats_compute(tp_series_steps(s), s->value, s->n, NAN, &stats) < 0) {
    tp_series_free(s);
    return tp_gp_fail(MODULE);
  }
  if (!(source = strdup(path))) {
    tp_series_free(s);
    tp_err(TP_ENOMEM, path, -1, "out of memory");
    return tp_gp_fail(MODULE);
  }
  series = s;
  return tp_gp_int((long long)s->n);
}

static double step_min(void) {
  double lo, hi;
  tp_series_step_range(series, &lo, &hi);
  return lo;
}

static double step_max(void) {
  double lo, hi;
  tp_series_step_range(series, &lo, &hi);
  return hi;
}

static double n_points(void) { return (double)series->n; }
static double n_overflow(void) { return (double)(series->n_overflow + stats.nonfinite); }
static double n_events(void) { return (double)series->n_overflow; }
static double n_malformed(void) { return (double)series->n_malformed; }
static double n_skipped(void) { return (double)series->skipped_bytes; }
static double n_episodes(void) { return need_spikes() < 0 ? NAN : (double)spikes->n_ep; }
static double n_found(void) { return need_spikes() < 0 ? NAN : (double)spikes->n_found; }
static double n_flagged(void) { return need_spikes() < 0 ? NAN : (double)spikes->n_flagged; }
static double scale(void) { return need_spikes() < 0 ? NAN : spikes->scale; }

/* gn_stat names: a field of struct tp_stats (double or count) or a function. */
struct stat_row {
  const char *name;
  size_t off;
  int count; /* 1 = size_t field */
  double (*get)(void);
};
#define D(n, f) \
  { .name = n, .off = offsetof(struct tp_stats, f) }
#define Z(n, f) \
  { .name = n, .off = offsetof(struct tp_stats, f), .count = 1 }
#define F(n, fn) \
  { .name = n, .get = fn }
static const struct stat_row stat_rows[] = {
    Z("count", count),
    Z("nonfinite", nonfinite),
    Z("nan", n_nan),
    Z("posinf", n_posinf),
    Z("neginf", n_neginf),
    D("mean", mean),
    D("sd", sd),
    D("min", min),
    D("max", max),
    D("min_step", min_step),
    D("max_step", max_step),
    D("median", median),
    D("p90", p90),
    D("p99", p99),
    D("p999", p999),
    D("max_norm", max_norm),
    Z("clipped", n_clipped),
    D("clip_fraction", clip_fraction),
    D("clip_coef", clip_coef_mean),
    D("first_nonfinite_step", first_nonfinite_step),
    F("points", n_points),
    F("overflow", n_overflow),
    F("overflow_events", n_events),
    F("malformed", n_malformed),
    F("skipped_bytes", n_skipped),
    F("first_step", step_min),
    F("last_step", step_max),
    F("episodes", n_episodes),
    F("found", n_found),
    F("flagged", n_flagged),
    F("scale", scale),
};
#undef D
#undef Z
#undef F
#define NSTAT (sizeof stat_rows / sizeof stat_rows[0])

TP_GP_EXPORT(MODULE, gn_stat) {
  const char *name;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_str(&arg[0], 1, &name) < 0 || need_series() < 0)
    return tp_gp_fail(MODULE);
  for (size_t i = 0; i < NSTAT; i++) {
    const struct stat_row *r = &stat_rows[i];
    const char *base = (const char *)&stats;
    double x;
    if (strcmp(r->name, name))
      continue;
    if (r->get)
      x = r->get();
    else if (r->count)
      x = (double)*(const size_t *)(const void *)(base + r->off);
    else
      x = *(const double *)(const void *)(base + r->off);
    if (isnan(x) && tp_err_last()->code)
      return tp_gp_fail(MODULE);
    return tp_gp_num(x);
  }
  {
    char names[1024];
    size_t used = 0;
    for (size_t i = 0; i < NSTAT && used < sizeof names; i++)
      used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? " " : "",
                               stat_rows[i].name);
    tp_err(TP_EINVAL, NULL, -1, "unknown statistic '%s' (statistics: %s)", name, names);
  }
  return tp_gp_fail(MODULE);
}

TP_GP_EXPORT(MODULE, gn_detect) {
  const char *text;
  struct tp_spike_opts o;
  struct tp_spikes *sp = NULL;
  struct tp_stats st;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_str(&arg[0], 1, &text) < 0 || need_series() < 0)
    return tp_gp_fail(MODULE);
  tp_spike_opts_init(&o);
  if (tp_spike_opts_parse(&o, text) < 0 ||
      tp_stats_compute(tp_series_steps(series), series->value, series->n, o.max_norm, &st) < 0 ||
      tp_spikes_detect(tp_series_steps(series), series->value, series->n, &o, &sp) < 0)
    return tp_gp_fail(MODULE);
  tp_spikes_free(spikes);
  spikes = sp;
  stats = st;
  return tp_gp_int((long long)sp->n_ep);
}

/* Episode k (1 = most severe) of the current detection, or NULL (recorded). */
static const struct tp_episode *episode(int nargs, struct value *arg) {
  long long k;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_int(&arg[0], 1, &k) < 0 || need_spikes() < 0)
    return NULL;
  if (k < 1 || (unsigned long long)k > spikes->n_ep) {
    tp_err(TP_EINVAL, NULL, -1, "episode %lld out of range (1..%zu)", k, spikes->n_ep);
    return NULL;
  }
  return &spikes->ep[k - 1];
}

#define EPISODE_FIELD(fn, field)                         \
  TP_GP_EXPORT(MODULE, fn) {                             \
    const struct tp_episode *e = episode(nargs, arg);    \
    (void)priv;                                          \
    return e ? tp_gp_num(e->field) : tp_gp_fail(MODULE); \
  }
EPISODE_FIELD(gn_episode_start, start)
EPISODE_FIELD(gn_episode_end, end)
EPISODE_FIELD(gn_episode_step, peak_step)
EPISODE_FIELD(gn_episode_peak, peak)
EPISODE_FIELD(gn_episode_ratio, ratio)
EPISODE_FIELD(gn_episode_baseline, baseline)
EPISODE_FIELD(gn_episode_score, score)

/* Write the named blocks; returns the series rows written. */
static struct value write_blocks(const char *path, size_t columns) {
  struct tp_gn_data d;
  size_t rows = 0;
  if (need_spikes() < 0)
    return tp_gp_fail(MODULE);
  d = view(columns);
  if (tp_gn_write_file(path, &d, &rows) < 0)
    return tp_gp_fail(MODULE);
  return tp_gp_int((long long)rows);
}

TP_GP_EXPORT(MODULE, gn_write) {
  const char *path;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_str(&arg[0], 1, &path) < 0)
    return tp_gp_fail(MODULE);
  return write_blocks(path, 0);
}

TP_GP_EXPORT(MODULE, gn_write_display) {
  const char *path;
  long long cols;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 2 || tp_gp_arg_str(&arg[0], 1, &path) < 0 || tp_gp_arg_int(&arg[1], 2, &cols) < 0)
    return tp_gp_fail(MODULE);
  if (cols < 1 || cols > 1000000) {
    tp_err(TP_EINVAL, NULL, -1, "columns must be 1..1000000, got %lld", cols);
    return tp_gp_fail(MODULE);
  }
  return write_blocks(path, (size_t)cols);
}

/* A malloc'ed text handed to gnuplot, which frees it. */
static struct value text_result(char *text) {
  struct value v;
  if (!text)
    return tp_gp_fail(MODULE);
  v = tp_gp_str(text);
  free(text);
  return v;
}

TP_GP_EXPORT(MODULE, gn_summary) {
  struct tp_gn_data d;
  (void)nargs, (void)arg, (void)priv;
  tp_gp_clear_error();
  if (need_series() < 0)
    return tp_gp_fail(MODULE);
  d = view(0);
  return text_result(tp_gn_summary(&d, SUMMARY_EPISODES));
}

TP_GP_EXPORT(MODULE, gn_datablock) {
  struct tp_gn_data d;
  long long cols = TP_GN_COLUMNS;
  (void)priv;
  tp_gp_clear_error();
  if (nargs != 1 || tp_gp_arg_int(&arg[0], 1, &cols) < 0 || need_spikes() < 0)
    return tp_gp_fail(MODULE);
  d = view(cols > 0 ? (size_t)cols : 0);
  return text_result(tp_gn_datablock(&d));
}

/* The loaded log's file name without its directories, escaped for a title. */
TP_GP_EXPORT(MODULE, gn_name) {
  const char *base;
  (void)nargs, (void)arg, (void)priv;
  tp_gp_clear_error();
  if (need_series() < 0)
    return tp_gp_fail(MODULE);
  base = strrchr(source, '/') ? strrchr(source, '/') + 1 : source;
  return tp_gp_str_escaped(MODULE, *base ? base : source);
}

#define FN(n, p, k, h) \
  { .name = #n, .params = p, .nargs = k, .fn = n, .help = h }
static const struct tp_gpfunc funcs[] = {
    FN(gn_load, "path,key", 2,
       "read a gradient-norm series (key \"\" = the log's norm); returns points"),
    FN(gn_stat, "name", 1,
       "a statistic by name (count, mean, p99, clip_fraction, overflow, episodes, ...; an unknown "
       "name lists them all)"),
    FN(gn_detect, "options", 1,
       "detect spikes (\"method=mad window=101 threshold=8 max_norm=1 top=2 causal=0\"); returns "
       "episodes kept"),
    FN(gn_episode_start, "k", 1, "first step of episode k (1 = most severe)"),
    FN(gn_episode_end, "k", 1, "last step of episode k"),
    FN(gn_episode_step, "k", 1, "step of episode k's peak"),
    FN(gn_episode_peak, "k", 1, "peak norm of episode k"),
    FN(gn_episode_ratio, "k", 1, "peak over baseline of episode k"),
    FN(gn_episode_baseline, "k", 1, "baseline at episode k's peak"),
    FN(gn_episode_score, "k", 1, "severity of episode k: excess over baseline in noise widths"),
    FN(gn_write, "path", 1,
       "write every point as named blocks (series baseline band spikes episodes overflow); returns "
       "rows"),
    FN(gn_write_display, "path,columns", 2,
       "the same, decimated to a min/max envelope over columns pixel columns, every spike kept"),
    FN(gn_summary, "x", 1, "statistics, detection and the top episodes as text (x is ignored)"),
    FN(gn_datablock, "columns", 1,
       "the named blocks as one string for an in-memory datablock (0 = every point)"),
    FN(gn_name, "x", 1,
       "the loaded log's file name without directories, escaped for a title (x is ignored)"),
    TP_MODULE_FUNCS(gn),
};
#undef FN

TP_MODULE(gn, MODULE, "gradient-norm series: statistics, clipping, spike and explosion episodes",
          funcs, tp_gradnorm_commands, TP_GRADNORM_NCOMMANDS, tp_gradnorm_main, drop_all);
