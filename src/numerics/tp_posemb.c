/* Positional tables: automatic key choice, the n x d view, and the plain-English summary. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_gen.h"
#include "tp_posemb.h"
#include "tp_profile.h"
#include "tp_text.h"

/* Name fragments of positional tables in fairseq, GPT-2, BERT, ViT and friends. */
static const char *const positional_names[] = {
    "embed_positions", "position_embedding", "wpe",    "pos_embed",
    "pos_emb",         "positional",         "posemb", "position_enc",
};

int tp_posemb_is_candidate(const char *name) {
  for (size_t i = 0; i < sizeof positional_names / sizeof *positional_names; i++)
    if (strstr(name, positional_names[i]))
      return 1;
  return 0;
}

/* A table has rows and columns: 2-D, or 3-D with a leading 1 (ViT's 1 x N x D). */
static int table_shape(int ndim, const uint64_t *shape, uint64_t *n, uint64_t *d) {
  if (ndim == 2 || (ndim == 3 && shape[0] == 1)) {
    *n = shape[ndim - 2];
    *d = shape[ndim - 1];
    return *n >= 2 && *d >= 1;
  }
  return 0;
}

/* Candidate names, comma-separated, for the error message. */
static void list_names(const struct tp_tensor_list *l, int only_candidates, char *buf,
                       size_t size) {
  size_t used = 0, shown = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < l->n && used < size; i++) {
    if (only_candidates && !tp_posemb_is_candidate(l->items[i].name))
      continue;
    if (shown++ == 6) {
      snprintf(buf + used, size - used, ", …");
      return;
    }
    char name[160];
    used += (size_t)snprintf(buf + used, size - used, "%s'%s'", shown > 1 ? ", " : "",
                             tp_text_escape_buf(l->items[i].name, name, sizeof name));
  }
}

/* The embedding width of a fairseq checkpoint whose positions are sinusoidal, else 0. */
static uint64_t fairseq_dim(const struct tp_tensor_list *l) {
  uint64_t dim = 0;
  int sinusoidal = 0;
  for (size_t i = 0; i < l->n; i++) {
    const struct tp_tensor_info *t = &l->items[i];
    sinusoidal |= strstr(t->name, "embed_positions._float_tensor") != NULL;
    if (strstr(t->name, "embed_tokens.weight") && t->ndim == 2)
      dim = t->shape[1];
  }
  return sinusoidal ? dim : 0;
}

int tp_posemb_table_candidate(const struct tp_tensor_info *t) {
  uint64_t n, d;
  return tp_posemb_is_candidate(t->name) && table_shape(t->ndim, t->shape, &n, &d);
}

int tp_posemb_pick_key(const struct tp_tensor_list *l, const char *file, const char **key) {
  size_t hits = 0, tables = 0, hit = 0, table = 0;
  char names[512];
  uint64_t n, d;
  *key = NULL;
  for (size_t i = 0; i < l->n; i++) {
    if (!table_shape(l->items[i].ndim, l->items[i].shape, &n, &d))
      continue;
    tables++, table = i;
    if (tp_posemb_is_candidate(l->items[i].name))
      hits++, hit = i;
  }
  if (hits == 1 || (hits == 0 && tables == 1 && l->n == 1)) {
    *key = l->items[hits ? hit : table].name;
    return 0;
  }
  if (hits == 0 && (n = fairseq_dim(l)) > 0)
    return tp_err(TP_ENOKEY, file, -1,
                  "no positional table stored: fairseq keeps sinusoidal tables "
                  "out of checkpoints (only 'embed_positions._float_tensor'); "
                  "generate it instead, e.g. sinusoidal:1026x%llu,padding_idx=1",
                  (unsigned long long)n);
  list_names(l, hits > 0, names, sizeof names);
  if (hits > 1)
    return tp_err(TP_EAMBIGUOUS, file, -1,
                  "%zu tensors look positional (%s); choose one with --key", hits, names);
  return tp_err(TP_ENOKEY, file, -1,
                "no positional table among %zu tensors (%s); choose one with "
                "--key (try 'trainplot posemb list %s')",
                l->n, l->n ? names : "none", file);
}

void tp_posemb_free(struct tp_posemb *pe) {
  if (!pe)
    return;
  tp_tensor_free(pe->t);
  free(pe->source);
  free(pe->key);
  free(pe);
}

/* Which key to load: the given one, or the one positional table of the file. */
static int resolve_key(const char *input, const char *key, char **out, int *picked) {
  struct tp_tensor_list *l = NULL;
  const char *k = key;
  int rc;
  *picked = 0;
  if ((!key || !*key) && !tp_gen_is_spec(input)) {
    if ((rc = tp_tensor_list_file(input, &l)) < 0)
      return rc;
    if ((rc = tp_posemb_pick_key(l, input, &k)) < 0) {
      tp_tensor_list_free(l);
      return rc;
    }
    *picked = l->n > 1;
  }
  *out = strdup(k ? k : "");
  tp_tensor_list_free(l);
  return *out ? 0 : tp_err(TP_ENOMEM, input, -1, "out of memory");
}

/* Count the NaN and inf cells of x[0..n) (all exponent bits set) and find the first.
   Blocks of integer tests with no early exit, so the compiler vectorises the count;
   only a block that has one is searched again, which loads faster than a per-cell dtype
   branch and isfinite (bench/MEASUREMENTS.md). */
#define TP__NONFINITE(T, U, EXP, NAME)                                                \
  static size_t NAME##_run(const T *x, size_t len) {                                  \
    size_t c = 0;                                                                     \
    for (size_t i = 0; i < len; i++) {                                                \
      U u;                                                                            \
      memcpy(&u, x + i, sizeof u);                                                    \
      c += (u & EXP) == EXP;                                                          \
    }                                                                                 \
    return c;                                                                         \
  }                                                                                   \
  static size_t NAME(const T *x, size_t n, size_t *first) {                           \
    enum { BLOCK = 4096 };                                                            \
    size_t bad = 0;                                                                   \
    for (size_t b = 0; b < n; b += BLOCK) {                                           \
      /* A constant trip count is what GCC's -O2 cost model vectorises. */            \
      size_t c = n - b < BLOCK ? NAME##_run(x + b, n - b) : NAME##_run(x + b, BLOCK); \
      for (size_t i = b; c && !bad && i < n; i++)                                     \
        if (!isfinite(x[i])) {                                                        \
          *first = i;                                                                 \
          break;                                                                      \
        }                                                                             \
      bad += c;                                                                       \
    }                                                                                 \
    return bad;                                                                       \
  }
TP__NONFINITE(float, uint32_t, UINT32_C(0x7f800000), nonfinite_f)
TP__NONFINITE(double, uint64_t, UINT64_C(0x7ff0000000000000), nonfinite_d)

/* A table with NaN or inf has no meaningful similarity: refuse it, naming the first cell. */
static int check_finite(const struct tp_posemb *pe) {
  const struct tp_rows *r = &pe->rows;
  char name[256];
  size_t first = 0, bad = r->dtype == TP_F64 ? nonfinite_d(r->data, r->n * r->d, &first)
                                             : nonfinite_f(r->data, r->n * r->d, &first);
  if (!bad)
    return 0;
  return tp_err(TP_ECORRUPT, pe->source, -1,
                "table '%s' has %zu non-finite values (NaN or inf), the first at row %zu, "
                "column %zu; a similarity of such rows is undefined",
                tp_text_escape_buf(pe->key && *pe->key ? pe->key
                                   : pe->t->name       ? pe->t->name
                                                       : "",
                                   name, sizeof name),
                bad, first / r->d, first % r->d);
}

int tp_posemb_load(const char *input, const char *key, struct tp_posemb **out) {
  struct tp_posemb *pe = calloc(1, sizeof *pe);
  uint64_t n, d;
  int rc;
  *out = NULL;
  if (!pe || !(pe->source = strdup(input))) {
    free(pe);
    return tp_err(TP_ENOMEM, input, -1, "out of memory");
  }
  if ((rc = resolve_key(input, key, &pe->key, &pe->auto_key)) < 0 ||
      (rc = tp_tensor_load_file(input, pe->key, &pe->t)) < 0) {
    tp_posemb_free(pe);
    return rc;
  }
  if (!table_shape(pe->t->ndim, pe->t->shape, &n, &d)) {
    char name[256];
    tp_posemb_free(pe);
    return tp_err(TP_EUNSUPPORTED, input, -1,
                  "tensor '%s' is not a table of positions (expected N x D or "
                  "1 x N x D with N >= 2)",
                  tp_text_escape_buf(key && *key ? key : "(the only one)", name, sizeof name));
  }
  pe->rows.n = (size_t)n, pe->rows.d = (size_t)d;
  pe->rows.dtype = pe->t->dtype;
  pe->rows.data = pe->t->data;
  if ((rc = check_finite(pe)) < 0) {
    tp_posemb_free(pe);
    return rc;
  }
  *out = pe;
  return 0;
}

/* Rows that are all zero, such as fairseq's padding row. */
static void zero_rows(const struct tp_rows *r, struct tp_posemb_facts *f) {
  const size_t cap = sizeof f->zero_rows / sizeof *f->zero_rows;
  for (size_t i = 0; i < r->n; i++) {
    size_t k = 0;
    for (; k < r->d; k++)
      if ((r->dtype == TP_F64 ? ((const double *)r->data)[i * r->d + k]
                              : ((const float *)r->data)[i * r->d + k]) != 0)
        break;
    if (k == r->d && f->nzero++ < cap)
      f->zero_rows[f->nzero - 1] = i;
  }
}

void tp_posemb_facts(const struct tp_posemb *pe, const struct tp_simmat *s,
                     const struct tp_profile *p, struct tp_posemb_facts *f) {
  memset(f, 0, sizeof *f);
  f->n = pe->rows.n, f->d = pe->rows.d;
  f->block = p->block;
  f->metric = s->metric;
  zero_rows(&pe->rows, f);
  f->self_max = p->self_max, f->self_rows = p->self_rows;
  f->near = p->n > 1 ? p->mean[1] : NAN;
  f->half = p->mean[p->n / 2];
  f->band = p->band < 0 ? -1 : p->band * (long)p->block;
  f->period = p->period < 0 ? -1 : p->period * (long)p->block;
  f->rise = p->period_rise;
  f->toeplitz = p->toeplitz;
}

/* Append one formatted sentence to a growing buffer. */
static void say(char *buf, size_t size, size_t *used, const char *fmt, ...) {
  va_list ap;
  if (*used >= size)
    return;
  va_start(ap, fmt);
  *used += (size_t)vsnprintf(buf + *used, size - *used, fmt, ap);
  va_end(ap);
}

/* The paragraph is built sentence by sentence into one buffer of SUMMARY_SIZE bytes. */
#define SUMMARY_SIZE 2048
#define SAY(...) say(b, SUMMARY_SIZE, u, __VA_ARGS__)

/* What the table is and how it was compared; the name is escaped (it comes from the file),
   so it cannot add a line or a terminal code. */
static void say_table(char *b, size_t *u, const struct tp_posemb *pe,
                      const struct tp_posemb_facts *f) {
  char name[512];
  int dist = f->metric == TP_METRIC_EUCLIDEAN;
  if (pe->key[0])
    SAY("'%s'%s is", tp_text_escape_buf(pe->key, name, sizeof name),
        pe->auto_key ? " (picked as the only positional table)" : "");
  else
    SAY("%s is", tp_text_escape_buf(pe->source, name, sizeof name));
  SAY(" a table of %zu positions x %zu dimensions", f->n, f->d);
  if (f->block > 1)
    SAY(", compared in blocks of about %zu positions", f->block);
  SAY(" (%s %s).\n", tp_metric_name(f->metric), dist ? "distance" : "similarity");
  if (f->self_max == f->self_rows)
    SAY("Every position is %s to itself: the diagonal is the "
        "%s of its row.\n",
        dist ? "nearest" : "most similar", dist ? "minimum" : "maximum");
  else
    SAY("Only %zu of %zu rows are %s to themselves; the others "
        "have a near-duplicate elsewhere.\n",
        f->self_max, f->self_rows, dist ? "nearest" : "most similar");
}

/* How similarity falls with the offset: no band, a band, or none that ever drops. */
static void say_band(char *b, size_t *u, const struct tp_posemb_facts *f) {
  int dist = f->metric == TP_METRIC_EUCLIDEAN;
  if (f->band > 0 && f->band <= (long)f->block)
    SAY("Neighbouring positions are already unlike (mean %.3g at "
        "offset %zu), so there is no band around the diagonal, as in an "
        "untrained or random table.\n",
        f->near, f->block);
  else if (f->band > 0)
    SAY("%s falls with distance: the mean is %.3g at offset %zu "
        "and drops below half from offset %ld on (band half-width %ld); at "
        "offset %zu it is %.3g.\n",
        dist ? "Closeness" : "Similarity", f->near, f->block, f->band, f->band, f->n / 2, f->half);
  else
    SAY("%s never drops below half at any offset: distant "
        "positions stay alike (mean %.3g at offset %zu).\n",
        dist ? "Closeness" : "Similarity", f->half, f->n / 2);
}

/* Toeplitz deviation and periodicity. */
static void say_shape(char *b, size_t *u, const struct tp_posemb_facts *f) {
  if (f->toeplitz < 0.1)
    SAY("It depends almost only on the distance |i-j| (Toeplitz "
        "deviation %.3g), as a sinusoidal table does.\n",
        f->toeplitz);
  else
    SAY("It also depends on where the pair is, not only on its "
        "distance: cells differ from their diagonal's mean by up to %.3g "
        "(Toeplitz deviation).\n",
        f->toeplitz);
  if (f->period > 0)
    SAY("The profile rises again by %.2f to a secondary peak at "
        "offset %ld: positions about %ld apart look alike again, a sign of "
        "periodicity.\n",
        f->rise, f->period, f->period);
  else
    SAY("There is no periodicity: the profile has no "
        "secondary peak.\n");
}

/* Padding rows: all-zero rows, undefined for cosine. */
static void say_zero_rows(char *b, size_t *u, const struct tp_posemb_facts *f) {
  if (f->nzero == 1)
    SAY("Row %zu is all zeros - a padding row (as fairseq's "
        "padding_idx); %s.\n",
        f->zero_rows[0],
        f->metric == TP_METRIC_COSINE ? "its cosine similarity is undefined and drawn blank"
                                      : "use cosine to draw it blank");
  else if (f->nzero > 1)
    SAY("%zu rows are all zeros (the first is row %zu), as "
        "padding rows are; they are drawn blank for cosine.\n",
        f->nzero, f->zero_rows[0]);
  else
    SAY("No row is all zeros, so there is no padding row.\n");
}
#undef SAY

int tp_posemb_summary(const struct tp_posemb *pe, const struct tp_posemb_facts *f, char **out) {
  size_t u = 0;
  char *b = malloc(SUMMARY_SIZE);
  if (!b)
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  say_table(b, &u, pe, f);
  say_band(b, &u, f);
  say_shape(b, &u, f);
  say_zero_rows(b, &u, f);
  *out = b;
  return 0;
}
