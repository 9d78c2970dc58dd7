/* Series readers: number parser against strtod, the series container, every log format on
   generated files (text written here, binary by tests/gen/series.py) and the real fixtures. */
#include <config.h>
#include <stddef.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tp_error.h"
#include "tp_limits.h"
#include "tp_log_int.h"
#include "tp_numparse.h"
#include "tp_series.h"

#define PARSE_RANDOM 1000000 /* random strings compared bit for bit with strtod */

/* ---- tp_parse_double ---- */

static const struct pcase {
  const char *in;
  int len; /* bytes the parser may see; -1 = strlen */
  double want;
  int used; /* bytes consumed */
} pcases[] = {
    {"0.489", -1, 0.489, 5},
    {"95546.767,", -1, 95546.767, 9},
    {"-0", -1, -0.0, 2},
    {".5", -1, 0.5, 2},
    {"5.", -1, 5.0, 2},
    {"1e", -1, 1.0, 1},
    {"1e+", -1, 1.0, 1},
    {"2.5E-3x", -1, 2.5e-3, 6},
    {"12345", 3, 123.0, 3},
    {"1e400", -1, HUGE_VAL, 5},
    {"4.9e-324", -1, 4.9e-324, 8},
    {"2.2250738585072011e-308", -1, 2.2250738585072011e-308, 23},
    {"9007199254740993", -1, 9007199254740992.0, 16},
    {"123456789012345678901234567890", -1, 1.2345678901234568e29, 30},
    {"0.000000000000000000000000000001", -1, 1e-30, 32},
    {"1.00000000000000000000000000000", -1, 1.0, 31},
    {"nan", -1, NAN, 3},
    {"NaN,", -1, NAN, 3},
    {"-inf", -1, -HUGE_VAL, 4},
    {"Infinity", -1, HUGE_VAL, 8},
    {"-Infinity", -1, -HUGE_VAL, 9},
    {"abc", -1, 0.0, 0},
    {"-", -1, 0.0, 0},
    {".", -1, 0.0, 0},
    {"", -1, 0.0, 0},
};
#define NPCASES (int)(sizeof pcases / sizeof pcases[0])

static int same_double(double a, double b) {
  return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

static void parse_cases(void) {
  for (int i = 0; i < NPCASES; i++) {
    const struct pcase *c = &pcases[i];
    const char *stop;
    size_t n = c->len < 0 ? strlen(c->in) : (size_t)c->len;
    double v = tp_parse_double(c->in, c->in + n, &stop);
    if (!tap_ok(same_double(v, c->want) && stop - c->in == c->used,
                "tp_parse_double - \"%s\" (%zu bytes), expect %.17g using %d bytes", c->in, n,
                c->want, c->used))
      tap_diag("got %.17g using %td bytes", v, stop - c->in);
  }
}

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* A random decimal: printed doubles of all magnitudes, log-like fixed point, long digit runs. */
static void random_number(char *buf, size_t size) {
  uint64_t bits = next();
  double d;
  memcpy(&d, &bits, sizeof d);
  if (!isfinite(d))
    d = 1.0 / 3.0;
  switch (next() % 5) {
  case 0: snprintf(buf, size, "%.17g", d); break;
  case 1: snprintf(buf, size, "%.*g", (int)(next() % 19) + 1, d); break;
  case 2:
    snprintf(buf, size, "%.*f", (int)(next() % 7), (double)(next() % 10000000) / 1000.0);
    break;
  case 3:
    snprintf(buf, size, "%.*e", (int)(next() % 24),
             ldexp((double)(next() >> 11), (int)(next() % 2200) - 1100));
    break;
  default: {
    size_t n = 1 + next() % 40, p = 0;
    for (size_t k = 0; k < n; k++)
      buf[p++] = (char)('0' + next() % 10);
    snprintf(buf + p, size - p, "e%d", (int)(next() % 700) - 350);
  }
  }
}

static void parse_random(void) {
  char buf[128];
  long bad = 0;
  for (long i = 0; i < PARSE_RANDOM; i++) {
    char *e1;
    const char *e2;
    random_number(buf, sizeof buf);
    double a = strtod(buf, &e1), b = tp_parse_double(buf, buf + strlen(buf), &e2);
    if ((memcmp(&a, &b, sizeof a) || e1 != e2) && bad++ < 5)
      tap_diag("\"%s\": strtod %.17g, tp_parse_double %.17g", buf, a, b);
  }
  tap_ok(bad == 0,
         "tp_parse_double - %d seeded random decimals, expect bit-identical to strtod "
         "(%ld differ)",
         PARSE_RANDOM, bad);
}

/* ---- the container ---- */

static void container(void) {
  struct tp_series *s = tp_series_new();
  int ok = s != NULL, rc = 0;
  for (int i = 0; ok && i < 100000 && rc == 0; i++)
    rc = tp_series_push(s, i, i * 0.5);
  for (size_t i = 0; ok && rc == 0 && i < s->n; i++)
    ok = tp_series_step(s, i) == (double)i && s->value[i] == (double)i * 0.5;
  tap_ok(ok && rc == 0 && s->n == 100000 && s->cap <= 150000,
         "tp_series_push - 100000 points, expect all kept, capacity under 1.5x");
  tap_ok(s->step == NULL, "tp_series_push - steps 0, 1, 2, …, expect no step array (implicit)");
  tp_series_free(s);

  /* every 100th step from 500, then a restart at 3 (a resumed run): the array appears then */
  s = tp_series_new();
  rc = s ? 0 : -1;
  for (int i = 0; rc == 0 && i < 5000; i++)
    rc = tp_series_push(s, 500 + 100.0 * i, 1.0);
  int implicit = rc == 0 && s->step == NULL && tp_series_step(s, 4999) == 500 + 100.0 * 4999;
  for (int i = 0; rc == 0 && i < 3; i++)
    rc = tp_series_push(s, 3 + i, 2.0);
  ok = rc == 0 && s->step != NULL && s->n == 5003;
  for (size_t i = 0; ok && i < s->n; i++)
    ok = tp_series_step(s, i) == (i < 5000 ? 500 + 100.0 * (double)i : 3.0 + (double)(i - 5000));
  tap_ok(implicit && ok,
         "tp_series_push - stride 100 then a restart, expect implicit, then the same steps "
         "as an array");
  tp_series_free(s);

  /* a non-finite first step or an uneven second one goes straight to an array */
  s = tp_series_new();
  rc = s ? tp_series_push(s, NAN, 1.0) : -1;
  rc = rc == 0 ? tp_series_push(s, 1.0, 1.0) : rc;
  ok = rc == 0 && s->step && isnan(tp_series_step(s, 0)) && tp_series_step(s, 1) == 1.0;
  tp_series_free(s);
  s = tp_series_new();
  rc = s ? tp_series_push(s, 0.1, 1.0) : -1;
  for (int i = 1; rc == 0 && i < 10; i++)
    rc = tp_series_push(s, 0.1 * (i + 1), 1.0);
  for (int i = 0; ok && rc == 0 && i < 10; i++)
    ok = tp_series_step(s, (size_t)i) == 0.1 * (i + 1);
  tap_ok(ok && rc == 0, "tp_series_push - NaN first step and steps 0.1, 0.2, …, expect every "
                        "step read back bit-exact");
  for (long l = 1; ok && l <= 20; l++)
    tp_series_bad_line(s, l * 10);
  tap_ok(ok && s->n_malformed == 20 && s->malformed_line[0] == 10 &&
             s->malformed_line[TP_SERIES_BADLINES - 1] == 10 * TP_SERIES_BADLINES,
         "tp_series_bad_line - 20 lines, expect count 20 and the first %d kept",
         TP_SERIES_BADLINES);
  tp_series_free(s);

  struct tp_limits save = *tp_limits_get(), small = save;
  small.max_elements = 1000;
  tp_limits_set(&small);
  s = tp_series_new();
  rc = 0;
  int i;
  for (i = 0; s && i < 2000 && rc == 0; i++)
    rc = tp_series_push(s, i, i);
  tap_ok(rc == TP_ELIMIT && i == 1001,
         "tp_series_push - 1001st point with a 1000-element limit, "
         "expect TP_ELIMIT (failed at %d)",
         i);
  tp_series_free(s);
  tp_limits_set(&save);
  tp_series_free(NULL);
}

/* Step sequences for tp_series_step_range: n steps, first + i * stride, with steps[at]
   replaced by with (at < 0: none), so both the implicit and the array layouts are met. */
static const struct srcase {
  const char *what;
  int n;
  double first, stride;
  int at;
  double with;
} srcases[] = {
    {"an empty series, expect NaN and NaN", 0, 0, 1, -1, 0},
    {"steps 500, 600, … (implicit), expect 500 and 500400", 5000, 500, 100, -1, 0},
    {"falling steps 10, 9, … (implicit), expect 1 and 10", 10, 10, -1, -1, 0},
    {"a restart at 3 (array), expect 3 and the last step", 5000, 500, 100, 4000, 3},
    {"a NaN step, expect it skipped", 100, 0, 1, 50, NAN},
    {"one step, expect it twice", 1, 7, 1, -1, 0},
};
#define NSRCASES (int)(sizeof srcases / sizeof srcases[0])

/* Each case against a brute-force min/max over the steps pushed. */
static void step_range(void) {
  for (int k = 0; k < NSRCASES; k++) {
    const struct srcase *c = &srcases[k];
    struct tp_series *s = tp_series_new();
    double lo = 0, hi = 0, want_lo = NAN, want_hi = NAN;
    int rc = s ? 0 : -1;
    for (int i = 0; rc == 0 && i < c->n; i++) {
      double x = i == c->at ? c->with : c->first + c->stride * i;
      rc = tp_series_push(s, x, 1.0);
      if (!isnan(x))
        want_lo = isnan(want_lo) || x < want_lo ? x : want_lo,
        want_hi = isnan(want_hi) || x > want_hi ? x : want_hi;
    }
    if (rc == 0)
      tp_series_step_range(s, &lo, &hi);
    if (!tap_ok(rc == 0 && same_double(lo, want_lo) && same_double(hi, want_hi),
                "tp_series_step_range - %s", c->what))
      tap_diag("got %g and %g, brute force %g and %g", lo, hi, want_lo, want_hi);
    tp_series_free(s);
  }
}

/* ---- readers on files ---- */

#define FS_LINE(n, rest) \
  "2023-06-13 17:31:0" #n " | INFO | train_inner | epoch 001:    " #n "00 / 282 " rest "\n"
#define NOTE                                                                                    \
  "2023-06-13 17:31:09 | INFO | fairseq.trainer | NOTE: overflow detected, setting loss scale " \
  "to: 64.0\n"

static const char fairseq_kv[] =
    "2023-06-13 17:29:37 | INFO | fairseq_cli.train | model printout follows\n"
    "Namespace(a=1, clip_gnorm=3, lr=[0.1], seed=1)\n" FS_LINE(
        1, "loss=3.1, nll_loss=2.0, num_updates=100, gnorm=1.5, clip=0")
        NOTE FS_LINE(2, "loss=3.0, nll_loss=2.1, num_updates=200, gnorm=oops, clip=0")
            FS_LINE(3, "loss=2.9, nll_loss=2.2, num_updates=300, gnorm=2.5, "
                       "clip=0") "2023-06-13 17:32:53 | INFO | train | epoch "
                                 "001 | loss 3.0 | num_updates 300 | gnorm 2.0 "
                                 "| clip 0\n"
                                 "2023-06-13 17:32:41 | INFO | valid | epoch "
                                 "001 | valid on 'valid' subset | loss 3.5 | "
                                 "num_updates 300\n" NOTE;

static const char fairseq_hydra[] =
    "[2022-04-08 18:40:00,000][fairseq_cli.train][INFO] - task: audio_pretraining\n"
    "[2022-04-08 18:48:05,372][train_inner][INFO] - {\"epoch\": 1, \"loss\": \"9.276\", \"gnorm\": "
    "\"1.421\", \"num_updates\": \"200\"}\n"
    "[2022-04-08 18:55:11,305][fairseq.trainer][INFO] - NOTE: gradient overflow detected, ignoring "
    "gradient, setting loss scale to: 128.0\n"
    "[2022-04-08 18:56:05,372][train_inner][INFO] - {\"epoch\": 1, \"loss\": \"8.1\", \"gnorm\": "
    "0.5, \"num_updates\": \"400\"}\n"
    "[2022-04-08 18:58:06,786][train][INFO] - {\"epoch\": 1, \"train_loss\": \"7.864\", "
    "\"train_num_updates\": \"479\", \"train_gnorm\": \"0.712\"}\n";

static const char fairseq_json[] =
    "2021-01-01 10:00:00 | INFO | fairseq_cli.train | begin\n"
    "2021-01-01 10:01:00 | INFO | train_inner | {\"epoch\": 1, \"loss\": \"9.1\", \"gnorm\": "
    "\"2.5\", \"num_updates\": \"100\"}\n"
    "2021-01-01 10:02:00 | INFO | train_inner | {\"epoch\": 1, \"loss\": \"8.1\", \"gnorm\": "
    "\"nan\", \"num_updates\": \"200\"}\n"
    "2021-01-01 10:03:00 | INFO | train | {\"epoch\": 1, \"train_loss\": \"8.5\", \"train_gnorm\": "
    "\"2.0\", \"train_num_updates\": \"250\"}\n";

static const char megatron[] =
    "using world size: 8\n"
    " iteration       10/    1000 | consumed samples:           40 | loss scale: 8388608.0 | "
    "number of skipped iterations:  10 | number of nan iterations:   0 |\n"
    " iteration       20/    1000 | consumed samples:           80 | lm loss: 1.2E+01 | grad norm: "
    "67.033 | number of skipped iterations:   1 | number of nan iterations:   0 |\n"
    "time (ms) | forward: 12.0\n"
    " validation loss at iteration 20 | lm loss value: 7.0 |\n"
    " iteration       30/    1000 | consumed samples:          120 | lm loss: 1.1E+01 | grad norm: "
    "nan | number of skipped iterations:   0 | number of nan iterations:   0 |\n";

static const char hf[] = "{\n  \"best_metric\": null,\n  \"log_history\": [\n"
                         "    {\"grad_norm\": NaN, \"loss\": 2.0, \"step\": 5},\n"
                         "    {\"eval_loss\": 1.0, \"step\": 5},\n"
                         "    {\"grad_norm\": 1.5, \"loss\": 1.9, \"step\": 10},\n"
                         "    {\"grad_norm\": \"x\", \"loss\": 1.8, \"step\": 15},\n"
                         "    {\"grad_norm\": -Infinity, \"loss\": 1.7, \"step\": 20}\n  ]\n}\n";

/* log_history after members that hold brackets, braces and quotes inside strings, nested
   values, an entry with nested objects, and the HF key spelled train/grad_norm */
static const char hf_tricky[] =
    "{\"note\": \"a \\\"quoted\\\" ]} [{ string\\\\\", \"nested\": {\"a\": [1, {\"b\": \"]\"}], "
    "\"c\": -1e-3},\n"
    " \"log_history\": [\n"
    "  {\"train/grad_norm\": 0.25, \"step\": 2, \"extra\": {\"k\": [\"}\", 2]}},\n"
    "  {\"train/grad_norm\": 4.5, \"step\": 4}\n ],\n"
    " \"tail\": [true, false, null, NaN]}\n";

static const char jsonl[] = "{\"step\": 1, \"grad_norm\": 0.5}\n"
                            "{\"step\": 2, \"eval_loss\": 3}\n"
                            "{\"step\": 3, \"grad_norm\": NaN}\n"
                            "{\"step\": 4, \"grad_norm\": Infinity}\n"
                            "{broken\n";

enum { OK_CASE = 0 };

/* One reader case: a file (text written here, or a generated binary name), options and
   what must come out. Successful cases make 6 checks, failing ones 2. */
static const struct rcase {
  const char *name;  /* file name in the scratch directory */
  const char *text;  /* contents to write, or NULL for a generated file */
  const char *group; /* generator group the file needs ("" for text) */
  const char *key;
  int epoch, valid;
  int rc;             /* expected return */
  const char *format; /* or, for failures, a substring of the message */
  size_t n;
  double s0, v0, s1, v1; /* first and last point */
  size_t n_overflow;
  double overflow0;
  size_t n_bad;
  long bad0;
} rcases[] = {
    {"values.txt", "1.5\n2.5\n# comment\n\n3.5\n", "", NULL, 0, 0, OK_CASE, "plain", 3, 0, 1.5, 2,
     3.5, 0, 0, 0, 0},
    {"steps.txt", "10 0.5\n20 0.25\n30 nan\n40 inf\n", "", NULL, 0, 0, OK_CASE, "plain", 4, 10, 0.5,
     40, HUGE_VAL, 0, 0, 0, 0},
    {"garbage.txt", "1 2.0\n2 3.0\nhello world\n3 4.0\n4 x5\n5 6.0\n", "", NULL, 0, 0, OK_CASE,
     "plain", 4, 1, 2, 5, 6, 0, 0, 2, 3},
    {"one.txt", "7 3.25", "", NULL, 0, 0, OK_CASE, "plain", 1, 7, 3.25, 7, 3.25, 0, 0, 0, 0},
    {"empty.txt", "", "", NULL, 0, 0, TP_EFORMAT, "empty file", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"keyed.txt", "1 2\n", "", "gnorm", 0, 0, TP_ENOKEY, "has no keys", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"missing.log", NULL, "", NULL, 0, 0, TP_ENOENT, "cannot open", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {".", NULL, "", NULL, 0, 0, TP_EIO, "is a directory", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"m.csv", "step,loss,grad_norm\n1,2.0,0.5\n2,1.9,\n3,1.8,0.7\n4,1.7,bad\n", "", NULL, 0, 0,
     OK_CASE, "csv", 2, 1, 0.5, 3, 0.7, 0, 0, 1, 5},
    {"m.tsv", "global_step\tgnorm\n100\t1.0\n200\t2.0\n", "", NULL, 0, 0, OK_CASE, "csv", 2, 100, 1,
     200, 2, 0, 0, 0, 0},
    {"wandb.csv",
     "\"Step\",\"run, 1 - "
     "train/grad_norm\",\"train/grad_norm\"\n\"10\",\"9\",\"1.25\"\n\"20\",\"9\",\"0.75\"\n",
     "", NULL, 0, 0, OK_CASE, "csv", 2, 10, 1.25, 20, 0.75, 0, 0, 0, 0},
    {"nokey.csv", "step,loss\n1,2.0\n", "", NULL, 0, 0, TP_ENOKEY, "columns there: step,loss", 0, 0,
     0, 0, 0, 0, 0, 0, 0},
    {"m.jsonl", jsonl, "", NULL, 0, 0, OK_CASE, "jsonl", 3, 1, 0.5, 4, HUGE_VAL, 0, 0, 1, 5},
    {"nokey.jsonl", jsonl, "", "gnorm", 0, 0, TP_ENOKEY, "keys there: step, grad_norm", 0, 0, 0, 0,
     0, 0, 0, 0, 0},
    {"kv.log", fairseq_kv, "", NULL, 0, 0, OK_CASE, "fairseq", 2, 100, 1.5, 300, 2.5, 2, 300, 1, 5},
    {"kv-loss.log", fairseq_kv, "", "loss", 0, 0, OK_CASE, "fairseq", 3, 100, 3.1, 300, 2.9, 2, 200,
     0, 0},
    {"kv-epoch.log", fairseq_kv, "", NULL, 1, 0, OK_CASE, "fairseq", 1, 300, 2.0, 300, 2.0, 2, 300,
     0, 0},
    {"kv-valid.log", fairseq_kv, "", "loss", 0, 1, OK_CASE, "fairseq", 1, 300, 3.5, 300, 3.5, 2,
     300, 0, 0},
    {"kv-nokey.log", fairseq_kv, "", "bleu", 0, 0, TP_ENOKEY,
     "keys there: loss, nll_loss, num_updates, gnorm, clip", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"kv-seed.log", fairseq_kv, "", "seed", 0, 0, TP_ENOKEY,
     "key 'seed' not found in fairseq train_inner lines", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"hydra.log", fairseq_hydra, "", NULL, 0, 0, OK_CASE, "fairseq", 2, 200, 1.421, 400, 0.5, 1,
     400, 0, 0},
    {"hydra-epoch.log", fairseq_hydra, "", NULL, 1, 0, OK_CASE, "fairseq", 1, 479, 0.712, 479,
     0.712, 1, 479, 0, 0},
    {"json.log", fairseq_json, "", NULL, 0, 0, OK_CASE, "fairseq", 2, 100, 2.5, 200, NAN, 0, 0, 0,
     0},
    {"json-epoch.log", fairseq_json, "", NULL, 1, 0, OK_CASE, "fairseq", 1, 250, 2.0, 250, 2.0, 0,
     0, 0, 0},
    {"json-nokey.log", fairseq_json, "", "bleu", 0, 0, TP_ENOKEY,
     "keys there: epoch, loss, gnorm, num_updates", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"mg.log", megatron, "", NULL, 0, 0, OK_CASE, "megatron", 2, 20, 67.033, 30, NAN, 2, 10, 0, 0},
    {"mg-loss.log", megatron, "", "lm loss", 0, 0, OK_CASE, "megatron", 2, 20, 12, 30, 11, 2, 10, 0,
     0},
    {"mg-nokey.log", megatron, "", "ppl", 0, 0, TP_ENOKEY,
     "keys there: consumed samples, loss scale, number of skipped iterations", 0, 0, 0, 0, 0, 0, 0,
     0, 0},
    {"trainer_state.json", hf, "", NULL, 0, 0, OK_CASE, "hf", 3, 5, NAN, 20, -HUGE_VAL, 0, 0, 1, 4},
    {"hf-nokey.json", hf, "", "lr", 0, 0, TP_ENOKEY, "keys there: grad_norm, loss, step", 0, 0, 0,
     0, 0, 0, 0, 0, 0},
    {"hf-tricky.json", hf_tricky, "", NULL, 0, 0, OK_CASE, "hf", 2, 2, 0.25, 4, 4.5, 0, 0, 0, 0},
    {"hf-after.json", "{\"log_history\": [{\"grad_norm\": 1.0, \"step\": 1}]} x", "", NULL, 0, 0,
     TP_ECORRUPT, "invalid json: text after the document", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"hf-notarray.json", "{\"log_history\": {\"grad_norm\": 1.0}}", "", NULL, 0, 0, TP_EFORMAT,
     "'log_history' is not an array", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"hf-badentry.json",
     "{\"log_history\": [{\"grad_norm\": 1.0, \"step\": 1}, {\"grad_norm\" 2}]}", "", NULL, 0, 0,
     TP_ECORRUPT, "invalid json", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"cut.json", "{\"log_history\": [{\"grad_norm\": 1.0, \"step\": 1}", "", NULL, 0, 0,
     TP_ECORRUPT, "offset 46: invalid json: the document ends early", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"good.tfevents", NULL, "tfevents", NULL, 0, 0, OK_CASE, "tfevents", 5, 100, 0.5, 500, 2, 0, 0,
     0, 0},
    {"good.tfevents", NULL, "tfevents", "gnorm", 0, 0, OK_CASE, "tfevents", 1, 700, 0.25, 700, 0.25,
     0, 0, 0, 0},
    {"good.tfevents", NULL, "tfevents", "nope", 0, 0, TP_ENOKEY,
     "tags there: train/loss, train/grad_norm, gnorm", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"badcrc.tfevents", NULL, "tfevents", NULL, 0, 0, OK_CASE, "tfevents", 4, 100, 0.5, 500, 2, 0,
     0, 1, 3},
    {"cut.tfevents", NULL, "tfevents", NULL, 0, 0, OK_CASE, "tfevents", 5, 100, 0.5, 500, 2, 0, 0,
     1, 7},
    {"badlen.tfevents", NULL, "tfevents", NULL, 0, 0, TP_ECORRUPT, "length crc32c mismatch", 0, 0,
     0, 0, 0, 0, 0, 0, 0},
    {"hugelen.tfevents", NULL, "tfevents", NULL, 0, 0, OK_CASE, "tfevents", 5, 100, 0.5, 500, 2, 0,
     0, 1, 4},
    {"hugelen-end.tfevents", NULL, "tfevents", NULL, 0, 0, TP_ECORRUPT,
     "the first is record 2; 22 bytes skipped from offset 42", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"niltag.tfevents", NULL, "tfevents", NULL, 0, 0, OK_CASE, "tfevents", 5, 100, 0.5, 500, 2, 0,
     0, 0, 0},
    {"niltag-only.tfevents", NULL, "tfevents", NULL, 0, 0, TP_ENOKEY,
     "scalar tag 'train/grad_norm' not found", 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"gn.npy", NULL, "numpy", NULL, 0, 0, OK_CASE, "array", 5, 0, 0.5, 4, 2, 0, 0, 0, 0},
    {"gn2d.npy", NULL, "numpy", NULL, 0, 0, TP_EFORMAT, "needs a vector", 0, 0, 0, 0, 0, 0, 0, 0,
     0},
    {"gn_list.pt", NULL, "torch", NULL, 0, 0, OK_CASE, "array", 5, 0, 0.5, 4, 2, 0, 0, 0, 0},
    {"gn_1d.pt", NULL, "torch", NULL, 0, 0, OK_CASE, "array", 5, 0, 0.5, 4, 2, 0, 0, 0, 0},
};
#define NRCASES (int)(sizeof rcases / sizeof rcases[0])

static int rcase_checks(const struct rcase *c) { return c->rc == OK_CASE ? 6 : 2; }

static char groups[256];

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(text, 1, strlen(text), f);
    fclose(f);
  }
}

/* Run tests/gen/series.py into dir; groups gets what it could write. */
static void generate(const char *dir) {
  const char *py = getenv("TP_PYTHON3"), *src = getenv("top_srcdir");
  char cmd[9000], gp[4200];
  FILE *f;
  if (!py || !*py || !src)
    return;
  snprintf(cmd, sizeof cmd, "'%s' '%s/tests/gen/series.py' '%s' 2>'%s/gen.log'", py, src, dir, dir);
  if (system(cmd) != 0)
    return;
  snprintf(gp, sizeof gp, "%s/groups", dir);
  if ((f = fopen(gp, "r"))) {
    size_t n = fread(groups, 1, sizeof groups - 1, f);
    groups[n] = '\0';
    fclose(f);
  }
}

static void check_ok(const struct rcase *c, const struct tp_series *s, const char *what) {
  tap_ok(s->n == c->n, "%s, expect %zu points (got %zu)", what, c->n, s->n);
  tap_ok(s->n && same_double(tp_series_step(s, 0), c->s0) && same_double(s->value[0], c->v0),
         "%s, expect first point (%g, %g)", what, c->s0, c->v0);
  tap_ok(s->n && same_double(tp_series_step(s, s->n - 1), c->s1) &&
             same_double(s->value[s->n - 1], c->v1),
         "%s, expect last point (%g, %g)", what, c->s1, c->v1);
  tap_ok(s->n_overflow == c->n_overflow && (!c->n_overflow || s->overflow_step[0] == c->overflow0),
         "%s, expect %zu overflow events, first at %g (got %zu)", what, c->n_overflow, c->overflow0,
         s->n_overflow);
  tap_ok(s->n_malformed == c->n_bad && (!c->n_bad || s->malformed_line[0] == c->bad0),
         "%s, expect %zu malformed, first at %ld (got %zu)", what, c->n_bad, c->bad0,
         s->n_malformed);
}

static void reader_case(const char *dir, const struct rcase *c) {
  char path[4300], what[4500], msg[1200];
  struct tp_series_opts o = {.key = c->key, .use_epoch = c->epoch, .use_valid = c->valid};
  struct tp_series *s = NULL;
  if (*c->group && !strstr(groups, c->group)) {
    tap_skip(rcase_checks(c), *c->group == 't' && c->group[1] == 'o'
                                  ? "torch not importable (TP_PYTHON3)"
                                  : "python3 generator or numpy missing (TP_PYTHON3)");
    return;
  }
  snprintf(path, sizeof path, "%s/%s", dir, c->name);
  if (c->text)
    write_file(path, c->text);
  snprintf(what, sizeof what, "tp_series_read - %s key=%s%s%s", c->name,
           c->key ? c->key : "(default)", c->epoch ? " epoch" : "", c->valid ? " valid" : "");
  tp_err_clear();
  int rc = tp_series_read(path, &o, &s);
  if (c->rc != OK_CASE) {
    tap_ok(rc == c->rc, "%s, expect %s (got %s)", what, tp_errname(c->rc), tp_errname(rc));
    tp_err_format(msg, sizeof msg);
    if (!tap_ok(strstr(msg, c->format) != NULL, "%s, expect the message to say '%s'", what,
                c->format))
      tap_diag("message: %s", msg);
  } else if (!tap_ok(rc == 0 && !strcmp(s->format, c->format), "%s, expect format %s", what,
                     c->format)) {
    tap_diag("rc %s: %s", tp_errname(rc), tp_err_format(msg, sizeof msg));
    tap_skip(5, "the read failed");
  } else
    check_ok(c, s, what);
  tp_series_free(s);
}

/* hugelen.tfevents: record 4's 12-byte header and 10 data bytes are passed over, from the
   end of the three whole frames before it. */
#define HUGELEN_SKIP_AT 187
static void skip_report(const char *dir) {
  char path[4300];
  struct tp_series_opts o = {0};
  struct tp_series *s = NULL;
  if (!strstr(groups, "tfevents")) {
    tap_skip(1, "python3 generator or numpy missing (TP_PYTHON3)");
    return;
  }
  snprintf(path, sizeof path, "%s/hugelen.tfevents", dir);
  int rc = tp_series_read(path, &o, &s);
  tap_ok(rc == 0 && s->skipped_bytes == 22 && s->skip_offset == HUGELEN_SKIP_AT,
         "tp_series_read - hugelen.tfevents, expect 22 bytes skipped from offset %d (got %llu "
         "from %lld)",
         HUGELEN_SKIP_AT, rc == 0 ? (unsigned long long)s->skipped_bytes : 0ULL,
         rc == 0 ? s->skip_offset : -2LL);
  tp_series_free(s);
}

/* ---- the real fixtures (counts from ../shared/fixtures/real/SOURCES.md) ---- */

static const struct fcase {
  const char *file;
  const char *key;
  int epoch;
  const char *format;
  size_t n;
  double s0, s1; /* first and last step */
  double peak, peak_step;
  size_t n_overflow;
} fcases[] = {
    {"fairseq/fairseq-simple-glat-syngec.log", NULL, 0, "fairseq", 1101, 40100, 150100, 0.668,
     150100, 98},
    {"fairseq/fairseq-simple-glat-syngec.log", NULL, 1, "fairseq", 390, 40297, 149897, 0.653,
     149334, 98},
    {"fairseq/fairseq-hydra-json-wav2vec2-Mandarin-Wav2Vec2.log", NULL, 0, "fairseq", 23, 200, 4600,
     1.83, 1400, 19},
    {"fairseq/fairseq-legacy-mlperf-v0.5-nvidia-dgx1-transformer-result_3.log", NULL, 0, "fairseq",
     12, 998, 14798, 95546.767, 998, 9},
    {"fairseq/fairseq-legacy-mlperf-v0.6-nvidia-dgx1-transformer-result_1.log", NULL, 0, "fairseq",
     4, 996, 5906, 51823.305, 996, 6},
    {"hf_trainer_state/hf-trainer_state-Star.json", NULL, 0, "hf", 2000, 20, 40000, 82.4098, 22360,
     0},
    {"hf_trainer_state/hf-trainer_state-t5-summarization-demo.json", NULL, 0, "hf", 430, 500,
     215000, 35.5915, 190000, 0},
    {"hf_trainer_state/hf-trainer_state-bashkir-whisper.json", NULL, 0, "hf", 400, 25, 10000,
     285.819, 25, 0},
    {"hf_trainer_state/hf-trainer_state-trocr-huge-gnorm.json", NULL, 0, "hf", 700, 2, 1400,
     4.33815e6, 142, 0},
    {"hf_trainer_state/hf-trainer_state-smolvlm-endoscopyqa.json", NULL, 0, "hf", 90, 10, 900,
     15.039, 30, 0},
    {"hf_trainer_state/hf-trainer_state-tinyllama-smooth.json", NULL, 0, "hf", 186, 15, 2790,
     2.73134, 1470, 0},
    {"megatron/megatron-bigscience-gpt2-base-n8.log", NULL, 0, "megatron", 18, 30, 200, 81.041, 40,
     3},
    {"megatron/megatron-bigscience-gpt2-n16-ds-off.log", NULL, 0, "megatron", 62, 1, 62, 77.479, 3,
     0},
    {"megatron/megatron-deepspeed-bigscience-gpt2-n16-ds-on.log", NULL, 0, "megatron", 49, 1, 49, 0,
     1, 0},
    {"tensorboard/hf-t5-summarization-demo.events.out.tfevents.1742826235.DESKTOP-41L2EO3.107869.0",
     NULL, 0, "tfevents", 430, 500, 215000, 35.5915, 190000, 0},
};
#define NFCASES (int)(sizeof fcases / sizeof fcases[0])
#define FCHECKS 4

static void fixture_case(const char *root, const struct fcase *c) {
  char path[4300], what[4500];
  struct tp_series_opts o = {.key = c->key, .use_epoch = c->epoch};
  struct tp_series *s = NULL;
  snprintf(path, sizeof path, "%s/%s", root, c->file);
  snprintf(what, sizeof what, "tp_series_read - real %s%s", strrchr(c->file, '/') + 1,
           c->epoch ? " (epoch summaries)" : "");
  if (!tap_ok(tp_series_read(path, &o, &s) == 0 && !strcmp(s->format, c->format) && s->n == c->n,
              "%s, expect %s with %zu points", what, c->format, c->n)) {
    tap_skip(FCHECKS - 1, "the read failed");
    tp_series_free(s);
    return;
  }
  size_t imax = 0;
  for (size_t i = 1; i < s->n; i++)
    if (s->value[i] > s->value[imax])
      imax = i;
  tap_ok(s->has_step && tp_series_step(s, 0) == c->s0 && tp_series_step(s, s->n - 1) == c->s1,
         "%s, expect steps %g..%g", what, c->s0, c->s1);
  tap_ok(fabs(s->value[imax] - c->peak) <= 1e-4 * fabs(c->peak) &&
             tp_series_step(s, imax) == c->peak_step,
         "%s, expect the peak %g at step %g (got %g at %g)", what, c->peak, c->peak_step,
         s->value[imax], tp_series_step(s, imax));
  tap_ok(s->n_overflow == c->n_overflow && s->n_malformed == 0,
         "%s, expect %zu overflow events and nothing malformed (got %zu, %zu)", what, c->n_overflow,
         s->n_overflow, s->n_malformed);
  tp_series_free(s);
}

/* The TensorBoard fixture and the trainer_state.json of the same run agree point for point. */
static void cross_check(const char *root) {
  char a[4300], b[4300];
  struct tp_series_opts o = {0};
  struct tp_series *t = NULL, *h = NULL;
  snprintf(a, sizeof a, "%s/%s", root, fcases[NFCASES - 1].file);
  snprintf(b, sizeof b, "%s/%s", root, fcases[6].file);
  int ok = tp_series_read(a, &o, &t) == 0 && tp_series_read(b, &o, &h) == 0 && t->n == h->n;
  for (size_t i = 0; ok && i < t->n; i++)
    ok = tp_series_step(t, i) == tp_series_step(h, i) && (double)(float)h->value[i] == t->value[i];
  tap_ok(
      ok,
      "tp_series_read - t5 tfevents vs trainer_state.json, expect equal steps and float32 values");
  tp_series_free(t);
  tp_series_free(h);
}

/* ---- parts parsed over the cores give the same series as one pass ---- */

/* Same points bit for bit, same events and malformed line numbers. */
static int same_series(const struct tp_series *a, const struct tp_series *b, char *why,
                       size_t size) {
  if (a->n != b->n || a->n_overflow != b->n_overflow || a->n_malformed != b->n_malformed ||
      a->has_step != b->has_step || strcmp(a->key, b->key))
    return snprintf(why, size, "n %zu/%zu, overflow %zu/%zu, malformed %zu/%zu", a->n, b->n,
                    a->n_overflow, b->n_overflow, a->n_malformed, b->n_malformed),
           0;
  for (size_t i = 0; i < a->n; i++)
    if (!same_double(tp_series_step(a, i), tp_series_step(b, i)) ||
        !same_double(a->value[i], b->value[i]))
      return snprintf(why, size, "point %zu differs", i), 0;
  for (size_t i = 0; i < a->n_overflow; i++)
    if (a->overflow_step[i] != b->overflow_step[i])
      return snprintf(why, size, "overflow event %zu differs", i), 0;
  for (size_t i = 0; i < a->n_malformed && i < TP_SERIES_BADLINES; i++)
    if (a->malformed_line[i] != b->malformed_line[i])
      return snprintf(why, size, "malformed line %zu: %ld vs %ld", i, a->malformed_line[i],
                      b->malformed_line[i]),
             0;
  return 1;
}

/* Logs whose records, gaps, restarts and bad lines fall across the cuts between parts. */
static char *parts_text(int kind) {
  size_t cap = 1 << 20, used = 0;
  char *t = malloc(cap);
  for (int i = 0; t && i < 3000 && used + 200 < cap; i++) {
    double v = 1.0 + (i % 97) * 0.013 + (i % 611 == 5 ? 40 : 0);
    int step = i < 2000 ? 100 * i : 7 + i; /* a resumed run restarts its steps */
    switch (kind) {
    case 0: /* step value, with comments, blank lines and garbage */
      used += (size_t)snprintf(t + used, cap - used,
                               i % 250 == 3   ? "# note %d\n\n"
                               : i % 401 == 7 ? "oops %d\n"
                                              : "%d ",
                               step);
      if (i % 250 != 3 && i % 401 != 7)
        used += (size_t)snprintf(t + used, cap - used, "%.6g\n", v);
      break;
    case 1: /* one value per line, some lines with two */
      if (i % 333 == 9)
        used += (size_t)snprintf(t + used, cap - used, "%d %.6g\n", i, v);
      else
        used += (size_t)snprintf(t + used, cap - used, "%.6g\n", v);
      break;
    case 3: /* fairseq train_inner lines without num_updates: steps are record indices */
      used += (size_t)snprintf(t + used, cap - used,
                               "2024 | INFO | train_inner | epoch 001: %d / 9000 loss=4.1, "
                               "gnorm=%s, clip=0\n",
                               i, i % 517 == 11 ? "x1" : "1.25");
      break;
    default: /* fairseq key=value with overflow notes and malformed values */
      if (i % 150 == 1)
        used += (size_t)snprintf(t + used, cap - used,
                                 "2024 | INFO | fairseq.trainer | NOTE: gradient overflow "
                                 "detected, ignoring gradient, setting loss scale to: 64.0\n");
      used += (size_t)snprintf(t + used, cap - used,
                               "2024 | INFO | train_inner | epoch 001: %d / 9000 loss=4.1, "
                               "gnorm=%s, clip=0, num_updates=%d\n",
                               i, i % 517 == 11 ? "x1" : "1.25", step);
      break;
    }
  }
  return t;
}

static void parts_equivalence(const char *dir) {
  static const char *const names[] = {"parts-steps.txt", "parts-values.txt", "parts-fs.log",
                                      "parts-fs-nosteps.log"};
  char path[4300], why[200];
  for (int kind = 0; kind < 4; kind++) {
    char *text = parts_text(kind);
    struct tp_series *one = NULL;
    int rc1;
    snprintf(path, sizeof path, "%s/%s", dir, names[kind]);
    if (text)
      write_file(path, text);
    free(text);
    tp__parts_force = 1;
    rc1 = tp_series_read(path, NULL, &one);
    for (size_t k = 2; k <= 8; k += 3) {
      struct tp_series *many = NULL;
      int ok;
      tp__parts_force = k;
      why[0] = '\0';
      ok = rc1 == 0 && tp_series_read(path, NULL, &many) == 0 &&
           same_series(one, many, why, sizeof why);
      tap_ok(ok,
             "parts - %s in %zu parts, expect the one-pass series (%zu points, %zu "
             "malformed) %s",
             names[kind], k, one ? one->n : 0, one ? one->n_malformed : 0, why);
      tp_series_free(many);
    }
    tp__parts_force = 0;
    tp_series_free(one);
  }

  /* a part that fails on a worker thread: its message reaches the caller. The first third
     of the file is comments, so the first part (run on the calling thread) succeeds. */
  size_t cap = 200000, used = 0;
  char *t = malloc(cap);
  for (int i = 0; t && used + 64 < cap; i++)
    used += (size_t)snprintf(t + used, cap - used,
                             used < cap / 3 ? "# comment line %d\n" : "%d 1.5\n", i);
  snprintf(path, sizeof path, "%s/parts-limit.txt", dir);
  if (t)
    write_file(path, t);
  free(t);
  struct tp_limits save = *tp_limits_get(), small = save;
  struct tp_series *s = NULL;
  small.max_elements = 1000;
  tp_limits_set(&small);
  tp__parts_force = 3;
  tp_err_clear();
  int rc = tp_series_read(path, NULL, &s);
  tp__parts_force = 0;
  tp_limits_set(&save);
  tap_ok(rc == TP_ELIMIT && strstr(tp_err_last()->detail, "element limit"),
         "parts - a part over the element limit on a worker thread, expect TP_ELIMIT with its "
         "message (got %d: '%s')",
         rc, tp_err_last()->detail);
  tp_series_free(s);
}

static void table_names(void) {
  size_t n;
  const struct tp_series_reader *const *r = tp_series_readers(&n);
  int ok = n == 8;
  for (size_t i = 0; ok && i < n; i++)
    for (size_t j = 0; ok && j < i; j++)
      ok = strcmp(r[i]->name, r[j]->name) != 0 && r[i]->sniff && r[i]->read && r[i]->summary;
  tap_ok(ok, "tp_series_readers - the table, expect 8 complete rows with distinct names");
}

int main(void) {
  const char *root = getenv("TP_FIXTURES");
  const char *dir = tap_tmpdir();
  char probe[4300];
  int plan = NPCASES + 1 + 6 + NSRCASES + 1 + 13 + 1 + NFCASES * FCHECKS + 1;
  for (int i = 0; i < NRCASES; i++)
    plan += rcase_checks(&rcases[i]);
  tap_plan(plan);
  parse_cases();
  parse_random();
  container();
  step_range();
  table_names();
  parts_equivalence(dir);
  generate(dir);
  for (int i = 0; i < NRCASES; i++)
    reader_case(dir, &rcases[i]);
  skip_report(dir);
  snprintf(probe, sizeof probe, "%s/SOURCES.md", root ? root : "");
  FILE *f = root && *root ? fopen(probe, "r") : NULL;
  if (!f) {
    tap_skip(NFCASES * FCHECKS + 1, "real fixtures absent (TP_FIXTURES)");
    return tap_done();
  }
  fclose(f);
  for (int i = 0; i < NFCASES; i++)
    fixture_case(root, &fcases[i]);
  cross_check(root);
  return tap_done();
}
