/* Tensor readers against files the real writers (numpy, torch, a format-following
   script) produce at test time, real public checkpoints, and broken files. */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "tap.h"
#include "tp_error.h"
#include "tp_half.h"
#include "tp_limits.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"

/* A key of 45 segments on a dict holding itself under "a" and "a.a": 10^9 ways to split. */
#define SELFREF_KEY \
  "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.b"

/* Groups: files written by tests/gen/tensors.py ("plain" needs only python,
   "numpy"/"torch" their library) and "real" files under $TP_FIXTURES. */
struct load_case {
  const char *group, *file, *key;
  int want;         /* 0 or the TP_E… code */
  const char *text; /* good: "dtype shape" as "float32 5x3"; bad: message fragment */
  double sum;       /* real files: sum of all values as torch computes it */
};

static const struct load_case loads[] = {
    {"plain", "text_comma.txt", "", 0, "float64 3x3", 0},
    {"plain", "st_all.safetensors", "t.f32", 0, "float32 4x3", 0},
    {"plain", "st_all.safetensors", "t.f64", 0, "float64 4x3", 0},
    {"plain", "st_all.safetensors", "t.f16", 0, "float16 4x3", 0},
    {"plain", "st_all.safetensors", "t.bf16", 0, "bfloat16 4x3", 0},
    {"plain", "st_one.safetensors", "", 0, "float32 1x4x3", 0},
    {"plain", "torch_crafted_view.pt", "", 0, "float32 2x3", 0},
    {"numpy", "npy_f2_C_le.npy", "", 0, "float16 5x3", 0},
    {"numpy", "npy_f2_C_be.npy", "", 0, "float16 5x3", 0},
    {"numpy", "npy_f2_F_le.npy", "", 0, "float16 5x3", 0},
    {"numpy", "npy_f2_F_be.npy", "", 0, "float16 5x3", 0},
    {"numpy", "npy_f4_C_le.npy", "", 0, "float32 5x3", 0},
    {"numpy", "npy_f4_C_be.npy", "", 0, "float32 5x3", 0},
    {"numpy", "npy_f4_F_le.npy", "", 0, "float32 5x3", 0},
    {"numpy", "npy_f4_F_be.npy", "", 0, "float32 5x3", 0},
    {"numpy", "npy_f8_C_le.npy", "", 0, "float64 5x3", 0},
    {"numpy", "npy_f8_C_be.npy", "", 0, "float64 5x3", 0},
    {"numpy", "npy_f8_F_le.npy", "", 0, "float64 5x3", 0},
    {"numpy", "npy_f8_F_be.npy", "", 0, "float64 5x3", 0},
    {"numpy", "npy_v1.npy", "", 0, "float32 5x3", 0},
    {"numpy", "npy_v2.npy", "", 0, "float32 5x3", 0},
    {"numpy", "npy_v3.npy", "array", 0, "float32 5x3", 0},
    {"numpy", "npy_1d.npy", "", 0, "float64 7", 0},
    {"numpy", "npy_3d.npy", "", 0, "float32 1x4x3", 0},
    {"numpy", "npz_stored.npz", "pos", 0, "float32 5x3", 0},
    {"numpy", "npz_deflated.npz", "pos.npy", 0, "float32 5x3", 0},
    {"numpy", "npz_one.npz", "", 0, "float32 5x3", 0},
    {"torch", "torch_zip.pt", "model.decoder.embed_positions.weights", 0, "float32 10x4", 0},
    {"torch", "torch_zip.pt", "model.decoder.embed_positions.half", 0, "float16 10x4", 0},
    {"torch", "torch_zip.pt", "model.decoder.embed_positions.bf16", 0, "bfloat16 10x4", 0},
    {"torch", "torch_zip.pt", "model.decoder.transposed", 0, "float32 4x10", 0},
    {"torch", "torch_zip.pt", "model.decoder.slice", 0, "float32 4x3", 0},
    {"torch", "torch_zip.pt", "model.decoder.layers.0.fc1.bias", 0, "float64 3", 0},
    {"torch", "torch_legacy.pt", "model.decoder.embed_positions.weights", 0, "float32 10x4", 0},
    {"torch", "torch_legacy.pt", "model.decoder.embed_positions.half", 0, "float16 10x4", 0},
    {"torch", "torch_legacy.pt", "model.decoder.embed_positions.bf16", 0, "bfloat16 10x4", 0},
    {"torch", "torch_legacy.pt", "model.decoder.transposed", 0, "float32 4x10", 0},
    {"torch", "torch_legacy.pt", "model.decoder.slice", 0, "float32 4x3", 0},
    {"torch", "torch_legacy.pt", "model.decoder.layers.0.fc1.bias", 0, "float64 3", 0},
    {"torch", "torch_gnorm_zip.pt", "", 0, "float32 9", 0},
    {"torch", "torch_gnorm_legacy.pt", "", 0, "float32 9", 0},
    {"torch", "torch_1d_zip.pt", "", 0, "float32 10", 0},
    {"torch", "torch_1d_legacy.pt", "", 0, "float32 10", 0},
    {"torch", "torch_floats.pt", "", 0, "float64 3", 0},
    {"plain", "torch_shared_series.pt", "", 0, "float32 32", 0},
    {"plain", "torch_many_storages.pt", "", 0, "float32 8", 0},
    {"torch", "torch_legacy_keys_big.pt", "t19999", 0, "float32 1", 0},
    {"real", "pos_embeddings/microgpt-pos_emb-256x64-MicroGptTest.pt",
     "model_state._orig_mod.pos_emb", 0, "float32 1x256x64", 2.09060896},
    {"real", "pos_embeddings/nanogpt-wpe-8x16-GPT_by_Hand.pt", "model.transformer.wpe.weight", 0,
     "float32 8x16", -0.253329782},
    {"real", "pos_embeddings/nanogpt-wpe-64x64-small-gpt.pt", "model.transformer.wpe.weight", 0,
     "float32 64x64", -1.73059286},
    {"real", "pos_embeddings/bigram-posemb-128x128-untrained-transformer.model.pt",
     "position_embedding_table.weight", 0, "float32 128x128", 279.620859},
    {"real", "pos_embeddings/fairseq-transformer-sinusoidal-fairseq-server.pt",
     "model.encoder.embed_positions._float_tensor", 0, "float32 1", -4.05407357e-21},
    {"gen", "sinusoidal:8x4", "", 0, "float32 8x4", 0},
    /* bad input: each its specific error */
    {"plain", "bad_empty.txt", "", TP_EFORMAT, "unrecognised format", 0},
    {"plain", "bad_random.bin", "", TP_EFORMAT, "unrecognised format", 0},
    {"plain", "bad_text_ragged.txt", "", TP_ECORRUPT, "same width", 0},
    {"plain", "bad_text_word.txt", "", TP_ECORRUPT, "expected a number in column 2", 0},
    {"plain", "text_comma.txt", "x", TP_ENOKEY, "'x' not found", 0},
    {"plain", "st_all.safetensors", "", TP_EAMBIGUOUS, "4 tensors", 0},
    {"plain", "st_all.safetensors", "t.nope", TP_ENOKEY, "try 'trainplot posemb list", 0},
    {"plain", "bad_st_trunc.safetensors", "t.f32", TP_ECORRUPT, "not inside", 0},
    {"plain", "bad_st_offsets.safetensors", "", TP_ECORRUPT, "not inside", 0},
    {"plain", "bad_st_mismatch.safetensors", "", TP_ECORRUPT, "data_offsets span", 0},
    {"plain", "bad_st_overlap.safetensors", "a", TP_ECORRUPT, "overlap", 0},
    {"plain", "bad_st_overflow.safetensors", "", TP_EOVERFLOW, "overflows", 0},
    {"plain", "bad_st_json.safetensors", "", TP_ECORRUPT, "JSON", 0},
    {"plain", "bad_st_dtype.safetensors", "", TP_EUNSUPPORTED, "dtype I64", 0},
    {"plain", "bad_st_headerlen.safetensors", "", TP_ECORRUPT, "header length", 0},
    {"plain", "bad_torch_os_system.pt", "", TP_EUNSAFE, "refusing to call 'os.system'", 0},
    {"plain", "bad_torch_eval.pt", "", TP_EUNSAFE, "refusing to call 'builtins.eval'", 0},
    {"plain", "bad_torch_eval2.pt", "", TP_EUNSAFE, "refusing to call '__builtin__.eval'", 0},
    {"plain", "bad_torch_unknown.pt", "", TP_EUNSAFE, "unknown global 'mymodule.Thing'", 0},
    {"plain", "bad_torch_opcode.pt", "", TP_EUNSUPPORTED, "opcode 0x82", 0},
    {"plain", "bad_torch_nostop.pt", "", TP_ECORRUPT, "without STOP", 0},
    {"plain", "bad_torch_view.pt", "", TP_ECORRUPT, "view reaches element 7", 0},
    {"plain", "bad_torch_storage.pt", "", TP_ECORRUPT, "claims 40 elements", 0},
    {"numpy", "bad_npy_trunc.npy", "", TP_ECORRUPT, "truncated", 0},
    {"numpy", "bad_npy_hdrtrunc.npy", "", TP_ECORRUPT, "header claims", 0},
    {"numpy", "bad_npy_lie.npy", "", TP_ECORRUPT, "promises 108 data bytes", 0},
    {"numpy", "bad_npy_overflow.npy", "", TP_EOVERFLOW, "overflows 64 bits", 0},
    {"numpy", "bad_npy_dict.npy", "", TP_ECORRUPT, "unexpected key 'dexcr'", 0},
    {"numpy", "bad_npy_int.npy", "", TP_EUNSUPPORTED, "'<i8'", 0},
    {"numpy", "npz_stored.npz", "", TP_EAMBIGUOUS, "'pos'", 0},
    {"numpy", "npz_stored.npz", "nope", TP_ENOKEY, "'nope' not found (2 tensors", 0},
    {"numpy", "bad_npz_lie.npz", "pos", TP_ECORRUPT, "npy header promises", 0},
    {"numpy", "bad_npz_trunc.npz", "pos", TP_ECORRUPT, "zip", 0},
    {"torch", "torch_zip.pt", "", TP_EAMBIGUOUS, "7 tensors", 0},
    {"torch", "torch_zip.pt", "model.decoder.steps", TP_EUNSUPPORTED, "int64", 0},
    {"torch", "torch_zip.pt", "model", TP_ENOKEY, "not a tensor", 0},
    {"torch", "torch_zip.pt", "model.x", TP_ENOKEY, "'model.x' not found (7 tensors", 0},
    {"torch", "torch_mixed.pt", "", 0, "float32 2x3", 0},
    {"torch", "bad_torch_module.pt", "", TP_EUNSAFE, "'torch.nn.modules.linear.Linear'", 0},
    {"torch", "bad_torch_trunc.pt", "", TP_ECORRUPT, "zip", 0},
    {"torch", "bad_torch_legacy_trunc.pt", "", TP_ECORRUPT, "more than the file holds", 0},
    {"plain", "torch_selfref.pt", SELFREF_KEY, TP_ELIMIT, "key resolution gave up", 0},
};
#define NLOADS (sizeof loads / sizeof loads[0])

struct list_case {
  const char *group, *file;
  size_t count;
  const char *name; /* one tensor that must be listed, with this "dtype shape" */
  const char *text;
};

static const struct list_case lists[] = {
    {"gen", "sinusoidal:16x6,padding_idx=1", 1, "sinusoidal:16x6,padding_idx=1", "float32 16x6"},
    {"plain", "text_comma.txt", 1, "matrix", "float64 3x3"},
    {"plain", "st_all.safetensors", 4, "t.bf16", "bfloat16 4x3"},
    {"numpy", "npy_3d.npy", 1, "array", "float32 1x4x3"},
    {"numpy", "npz_deflated.npz", 2, "other", "float64 3"},
    {"torch", "torch_zip.pt", 7, "model.decoder.steps", "int64 5"},
    {"torch", "torch_legacy.pt", 7, "model.decoder.transposed", "float32 4x10"},
    {"torch", "torch_gnorm_zip.pt", 1, "", "float32 9"},
    {"torch", "torch_mixed.pt", 1, "w", "float32 2x3"},
    {"real", "pos_embeddings/microgpt-pos_emb-256x64-MicroGptTest.pt", 29,
     "model_state._orig_mod.pos_emb", "float32 1x256x64"},
    {"real", "pos_embeddings/nanogpt-wpe-8x16-GPT_by_Hand.pt", 62, "model.transformer.wpe.weight",
     "float32 8x16"},
    {"real", "pos_embeddings/nanogpt-wpe-64x64-small-gpt.pt", 19, "model.transformer.wpe.weight",
     "float32 64x64"},
    {"real", "pos_embeddings/bigram-posemb-128x128-untrained-transformer.model.pt", 4,
     "position_embedding_table.weight", "float32 128x128"},
    {"real", "pos_embeddings/fairseq-transformer-sinusoidal-fairseq-server.pt", 304,
     "model.decoder.embed_positions._float_tensor", "float32 1"},
};
#define NLISTS (sizeof lists / sizeof lists[0])

/* Loads under a lowered byte limit, which bounds everything one file makes the reader
   allocate, not only each allocation. */
struct limit_case {
  const char *group, *file;
  uint64_t max_bytes;
  int want;         /* 0 or the TP_E… code */
  const char *text; /* good: "dtype shape"; bad: message fragment */
};

static const struct limit_case limits[] = {
    /* 32 scalars on one 4 MiB storage: read once, 4 MiB in all (not 128 MiB) */
    {"plain", "torch_shared_series.pt", 16u << 20, 0, "float32 32"},
    /* 8 storages of 1 MiB, each under the limit, together over it */
    {"plain", "torch_many_storages.pt", 4u << 20, TP_ELIMIT,
     "in all for this file, over the limit of 4194304 (raise it with TRAINPLOT_MAX_BYTES)"},
    {"plain", "torch_many_storages.pt", 16u << 20, 0, "float32 8"},
};
#define NLIMITS (sizeof limits / sizeof limits[0])

/* IEEE half and bfloat16 bit patterns against their exact values. */
struct half_case {
  int bf16;
  unsigned bits;
  double want;
};
static const struct half_case halves[] = {
    {0, 0x3c00, 1.0},       {0, 0xc000, -2.0},    {0, 0x7bff, 65504.0},   {0, 0x0001, 0x1p-24},
    {0, 0x03ff, 0x3ffp-24}, {0, 0x0400, 0x1p-14}, {0, 0x7c00, INFINITY},  {0, 0xfc00, -INFINITY},
    {0, 0x7e00, NAN},       {1, 0x3f80, 1.0},     {1, 0xc049, -3.140625}, {1, 0x7f80, INFINITY},
    {1, 0x0001, 0x1p-133},
};
#define NHALVES (sizeof halves / sizeof halves[0])

static char dir[4096];
static char groups[256]; /* groups the generator managed to write */
static const char *fixtures;

static int have(const char *group) {
  if (!strcmp(group, "gen"))
    return 1;
  if (!strcmp(group, "real"))
    return fixtures != NULL;
  return strstr(groups, group) != NULL;
}

static const char *why_missing(const char *group) {
  if (!strcmp(group, "real"))
    return "real fixtures absent (TP_FIXTURES)";
  if (!groups[0])
    return "python3 missing or the generator failed (TP_PYTHON3)";
  return !strcmp(group, "numpy") ? "python3-numpy missing" : "python3-torch missing";
}

/* Generator specs ("gen") are passed as they are; their values are tested in test-sim. */
static void file_path(char *buf, size_t n, const char *group, const char *file) {
  if (!strcmp(group, "gen"))
    snprintf(buf, n, "%s", file);
  else
    snprintf(buf, n, "%s/%s", strcmp(group, "real") ? dir : fixtures, file);
}

/* "dtype AxBxC" of a tensor or list entry. */
static void describe(char *buf, size_t n, const char *dtype, int ndim, const uint64_t *shape) {
  size_t used = (size_t)snprintf(buf, n, "%s ", dtype);
  for (int i = 0; i < ndim && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%llu", i ? "x" : "",
                             (unsigned long long)shape[i]);
}

/* Compare every value with the generator's reference; 1 when all match exactly. */
static int check_ref(const struct tp_tensor *t, const char *path, const char *key) {
  char rp[4200];
  FILE *f;
  int ndim, ok = 1;
  unsigned long long d;
  double v;
  /* files with one reference for all keys have no "@key" in its name */
  if (snprintf(rp, sizeof rp, "%s%s%s.ref", path, *key ? "@" : "", key) >= (int)sizeof rp ||
      (!(f = fopen(rp, "r")) &&
       (snprintf(rp, sizeof rp, "%s.ref", path) >= (int)sizeof rp || !(f = fopen(rp, "r"))))) {
    tap_diag("no reference %s", rp);
    return 0;
  }
  if (fscanf(f, "%d", &ndim) != 1 || ndim != t->ndim)
    ok = 0;
  for (int i = 0; ok && i < ndim; i++)
    ok = fscanf(f, "%llu", &d) == 1 && d == t->shape[i];
  for (uint64_t i = 0; ok && i < t->count; i++)
    if (fscanf(f, "%lf", &v) != 1 || v != tp_tensor_get(t, i)) {
      tap_diag("element %llu: got %.17g want %.17g", (unsigned long long)i, tp_tensor_get(t, i), v);
      ok = 0;
    }
  fclose(f);
  return ok;
}

static int load_checks(const struct load_case *c) {
  return c->want || !strcmp(c->group, "gen") ? 1 : 2;
}

static void run_load(const struct load_case *c) {
  char path[4200], got[128], msg[1024];
  struct tp_tensor *t = NULL;
  int rc;
  file_path(path, sizeof path, c->group, c->file);
  rc = tp_tensor_load_file(path, c->key, &t);
  if (c->want) {
    tp_err_format(msg, sizeof msg);
    if (!tap_ok(rc == c->want && strstr(msg, c->text) && t == NULL,
                "tp_tensor_load_file - %s key '%s', expect %s '%s'", c->file, c->key,
                tp_errname(c->want), c->text))
      tap_diag("got %s: %s", tp_errname(rc), msg);
    return;
  }
  got[0] = '\0';
  if (rc == 0)
    describe(got, sizeof got, t->src_dtype, t->ndim, t->shape);
  if (!tap_ok(rc == 0 && !strcmp(got, c->text), "tp_tensor_load_file - %s key '%s', expect %s",
              c->file, c->key, c->text))
    tap_diag("got rc %s, '%s': %s", tp_errname(rc), got, tp_err_format(msg, sizeof msg));
  if (!strcmp(c->group, "gen")) {
    tp_tensor_free(t);
    return;
  }
  if (rc < 0)
    tap_ok(0, "values - %s key '%s', not loaded", c->file, c->key);
  else if (!strcmp(c->group, "real")) {
    double s = 0;
    for (uint64_t i = 0; i < t->count; i++)
      s += tp_tensor_get(t, i);
    tap_near(s, c->sum, fabs(c->sum) * 1e-7, "values - %s, expect sum %.9g as torch reads it",
             c->file, c->sum);
  } else
    tap_ok(check_ref(t, path, c->key), "values - %s key '%s', expect exactly what python wrote",
           c->file, c->key);
  tp_tensor_free(t);
}

static void run_list(const struct list_case *c) {
  char path[4200], got[128] = "", msg[1024];
  struct tp_tensor_list *l = NULL;
  int rc;
  file_path(path, sizeof path, c->group, c->file);
  rc = tp_tensor_list_file(path, &l);
  for (size_t i = 0; rc == 0 && i < l->n; i++)
    if (!strcmp(l->items[i].name, c->name))
      describe(got, sizeof got, l->items[i].dtype, l->items[i].ndim, l->items[i].shape);
  if (!tap_ok(rc == 0 && l->n == c->count && !strcmp(got, c->text),
              "tp_tensor_list_file - %s, expect %zu tensors with '%s' %s", c->file, c->count,
              c->name, c->text))
    tap_diag("got rc %s, n %zu, '%s': %s", tp_errname(rc), l ? l->n : 0, got,
             tp_err_format(msg, sizeof msg));
  tp_tensor_list_free(l);
}

static void run_halves(void) {
  for (size_t i = 0; i < NHALVES; i++) {
    const struct half_case *h = &halves[i];
    double v = h->bf16 ? tp_bf16_to_float((uint16_t)h->bits) : tp_half_to_float((uint16_t)h->bits);
    tap_near(v, h->want, 0, "%s - 0x%04x, expect %g",
             h->bf16 ? "tp_bf16_to_float" : "tp_half_to_float", h->bits, h->want);
  }
}

/* Allocation guards and the list's growth past its first capacity. */
#define NCORE 4
static void run_core(void) {
  struct tp_tensor *t = NULL;
  struct tp_tensor_list *l = tp__tensor_list_new("x");
  uint64_t huge[2] = {1ull << 62, 1ull << 62}, big[1] = {1ull << 40}, sh[1] = {3};
  char name[32];
  int ok = l != NULL;
  tap_ok(tp_tensor_alloc(&t, "x", TP_F32, 2, huge, "f") == TP_EOVERFLOW && !t,
         "tp_tensor_alloc - shape 2^62 x 2^62, expect TP_EOVERFLOW");
  tap_ok(tp_tensor_alloc(&t, "x", TP_F32, 1, big, "f") == TP_ELIMIT && !t,
         "tp_tensor_alloc - 2^40 elements, expect TP_ELIMIT");
  tap_ok(tp_tensor_alloc(&t, "x", TP_F32, TP_MAXDIM + 1, sh, "f") == TP_EUNSUPPORTED,
         "tp_tensor_alloc - %d dimensions, expect TP_EUNSUPPORTED", TP_MAXDIM + 1);
  for (int i = 0; ok && i < 100; i++) {
    snprintf(name, sizeof name, "t%d", i);
    ok = tp_tensor_list_add(l, name, "float32", 1, sh) == 0;
  }
  tap_ok(ok && l->n == 100 && !strcmp(l->items[99].name, "t99"),
         "tp_tensor_list_add - 100 entries, expect all kept in order");
  tp_tensor_list_free(l);
  tp_tensor_free(NULL);
  tp_tensor_list_free(NULL);
}

/* Text matrices written here: the decimals go through tp_parse_double, never the locale. */
struct textmat_case {
  const char *what, *body;
  int want;         /* 0 or the TP_E… code */
  const char *text; /* good: values as "%g" joined by spaces; bad: message fragment */
};

static const struct textmat_case textmats[] = {
    {"signs, exponents, inf and nan", " 0.5,-1e3\n+.25 inf\n-INFINITY nan\n", 0,
     "0.5 -1000 0.25 inf -inf nan"},
    {"a hex float", "1 0x1p3\n", TP_ECORRUPT, "expected a number in column 2"},
    {"commas, which only separate", "1,5 2,5\n", 0, "1 5 2 5"},
};
#define NTEXTMATS (sizeof textmats / sizeof textmats[0])

static void run_textmat(const struct textmat_case *c, int i) {
  char path[4200], got[256] = "", msg[1024];
  struct tp_tensor *t = NULL;
  FILE *f;
  int rc;
  snprintf(path, sizeof path, "%s/textmat%d.txt", dir, i);
  if (!(f = fopen(path, "w")) || fputs(c->body, f) < 0 || fclose(f) != 0) {
    tap_ok(0, "tp_tensor_load_file - text matrix with %s, could not write %s", c->what, path);
    return;
  }
  rc = tp_tensor_load_file(path, "", &t);
  tp_err_format(msg, sizeof msg);
  for (uint64_t k = 0; t && k < t->count; k++)
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%g", k ? " " : "",
             tp_tensor_get(t, k));
  if (!tap_ok(rc == c->want && strstr(c->want ? msg : got, c->text) != NULL,
              "tp_tensor_load_file - text matrix with %s, expect %s", c->what,
              c->want ? tp_errname(c->want) : c->text))
    tap_diag("got %s: '%s' %s", tp_errname(rc), got, rc ? msg : "");
  tp_tensor_free(t);
}

/* The same matrix read while LC_NUMERIC names a decimal comma, when such a locale exists. */
static void run_textmat_locale(void) {
  static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
  const char *set = NULL;
  for (size_t i = 0; !set && i < sizeof names / sizeof names[0]; i++)
    set = setlocale(LC_NUMERIC, names[i]);
  if (!set) {
    tap_skip(1, "no locale with a decimal comma installed");
    return;
  }
  run_textmat(&textmats[0], 99);
  setlocale(LC_NUMERIC, "C");
}

static void run_limit(const struct limit_case *c) {
  char path[4200], got[128] = "", msg[1024];
  struct tp_limits saved = *tp_limits_get(), l = saved;
  struct tp_tensor *t = NULL;
  int rc;
  file_path(path, sizeof path, c->group, c->file);
  l.max_bytes = c->max_bytes;
  tp_limits_set(&l);
  rc = tp_tensor_load_file(path, "", &t);
  tp_limits_set(&saved);
  tp_err_format(msg, sizeof msg);
  if (rc == 0)
    describe(got, sizeof got, t->src_dtype, t->ndim, t->shape);
  if (!tap_ok(rc == c->want && strstr(c->want ? msg : got, c->text) != NULL,
              "tp_tensor_load_file - %s under a %llu-byte limit, expect %s '%s'", c->file,
              (unsigned long long)c->max_bytes, c->want ? tp_errname(c->want) : "ok", c->text))
    tap_diag("got %s, '%s': %s", tp_errname(rc), got, msg);
  tp_tensor_free(t);
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fastest of reps loads of key from file, in CPU seconds (-1 when a load fails). */
static double time_load(const char *file, const char *key, int reps) {
  char path[4200];
  double best = -1;
  file_path(path, sizeof path, "torch", file);
  for (int i = 0; i < reps; i++) {
    struct tp_tensor *t = NULL;
    double t0 = cpu_seconds(), dt;
    int rc = tp_tensor_load_file(path, key, &t);
    dt = cpu_seconds() - t0;
    tp_tensor_free(t);
    if (rc < 0)
      return -1;
    if (best < 0 || dt < best)
      best = dt;
  }
  return best;
}

/* Bounded work: the peak memory of a series on one shared storage, and the time of a
   legacy file with 10x the storage keys of another (linear ~10x, quadratic ~100x). */
#define NBOUNDED 2
static void run_bounded(void) {
  char path[4200];
  struct rusage r0, r1;
  struct tp_tensor *t = NULL;
  double small, big;
  long grown;
  int rc;
  file_path(path, sizeof path, "plain", "torch_shared_series.pt");
  getrusage(RUSAGE_SELF, &r0);
  rc = tp_tensor_load_file(path, "", &t);
  getrusage(RUSAGE_SELF, &r1);
  tp_tensor_free(t);
  grown = r1.ru_maxrss - r0.ru_maxrss;
  if (!have("plain"))
    tap_skip(1, why_missing("plain"));
  else if (!tap_ok(rc == 0 && grown < 48 * 1024,
                   "tp_tensor_load_file - 32 scalars on one 4 MiB storage, expect the storage "
                   "read once (peak memory grows under 48 MiB, not 128)"))
    tap_diag("rc %s, peak grew by %ld KiB", tp_errname(rc), grown);
  if (!have("torch")) {
    tap_skip(1, why_missing("torch"));
    return;
  }
  small = time_load("torch_legacy_keys_small.pt", "t1999", 5);
  big = time_load("torch_legacy_keys_big.pt", "t19999", 2);
  if (!tap_ok(small > 0 && big > 0 && big < 40 * small,
              "tp_tensor_load_file - legacy file with 20000 storage keys vs 2000, expect CPU "
              "time under 40x (linear: ~10x, quadratic: ~100x)"))
    tap_diag("small %.4f s, big %.4f s", small, big);
  else
    tap_diag("legacy keys: small %.4f s, big %.4f s, ratio %.1f", small, big, big / small);
}

/* Run the generator into the scratch directory; record which groups it wrote. */
static void generate(void) {
  const char *py = getenv("TP_PYTHON3"), *src = getenv("top_srcdir");
  char cmd[9000], gp[4200];
  FILE *f;
  size_t n;
  snprintf(dir, sizeof dir, "%s", tap_tmpdir());
  if (!py || !*py || !src)
    return;
  snprintf(cmd, sizeof cmd, "'%s' '%s/tests/gen/tensors.py' '%s' 2>'%s/gen.log'", py, src, dir,
           dir);
  if (system(cmd) != 0)
    return;
  snprintf(gp, sizeof gp, "%s/groups", dir);
  if ((f = fopen(gp, "r"))) {
    n = fread(groups, 1, sizeof groups - 1, f);
    groups[n] = '\0';
    fclose(f);
  }
}

int main(void) {
  int plan = (int)(NLISTS + NHALVES + NLIMITS + NTEXTMATS) + NCORE + NBOUNDED + 1;
  struct stat st;
  char cmd[4200];
  fixtures = getenv("TP_FIXTURES");
  if (fixtures && (!*fixtures || stat(fixtures, &st) != 0))
    fixtures = NULL;
  for (size_t i = 0; i < NLOADS; i++)
    plan += load_checks(&loads[i]);
  tap_plan(plan);
  generate();
  if (!groups[0])
    tap_diag("generator did not run; see %s/gen.log", dir);
  run_bounded(); /* first: its peak-memory check needs a low peak to start from */
  run_halves();
  run_core();
  for (size_t i = 0; i < NTEXTMATS; i++)
    run_textmat(&textmats[i], (int)i);
  run_textmat_locale();
  for (size_t i = 0; i < NLIMITS; i++)
    if (have(limits[i].group))
      run_limit(&limits[i]);
    else
      tap_skip(1, why_missing(limits[i].group));
  for (size_t i = 0; i < NLOADS; i++)
    if (have(loads[i].group))
      run_load(&loads[i]);
    else
      tap_skip(load_checks(&loads[i]), why_missing(loads[i].group));
  for (size_t i = 0; i < NLISTS; i++)
    if (have(lists[i].group))
      run_list(&lists[i]);
    else
      tap_skip(1, why_missing(lists[i].group));
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    tap_diag("could not remove %s", dir);
  return tap_done();
}
