/* TensorBoard event files: TFRecord framing (u64 length, masked CRC32C of the length, data,
   masked CRC32C of the data) around Event protobufs decoded with protobuf-c (tp_tfevent.proto).
   A scalar is Summary.Value.simple_value or a one-element float/double/half/bf16 tensor.
   A bad length CRC loses the framing (error); a bad data CRC, a length that runs past the
   end or a truncated last record (a file still being written) is a malformed record,
   reported by its 1-based record index, and reading resumes at the next whole frame whose
   two CRCs match. Tags are compared with their protobuf length: an embedded NUL differs. */
#include <config.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_half.h"
#include "tp_log_int.h"
#include "tp_map.h"
#include "tp_series.h"
#include "tp_tensor.h"
#include "tp_tfevent.pb-c.h"

#define MAX_TAGS 64 /* tags remembered for the "not found" message */
/* Data CRC bytes a file's resynchronisations may check in all: a forged file full of
   frames whose length CRC matches must not make the scan quadratic. */
#define RESYNC_WORK(size) (2 * (uint64_t)(size) + (1u << 20))

static const char *const default_tags[] = {"train/grad_norm", "train/gnorm", "grad_norm", "gnorm"};

static uint32_t crc_table[256];

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord uses. */
static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t masked_crc(const unsigned char *p, size_t n) {
  static int ready; /* the table is the same whoever fills it first */
  uint32_t c = 0xFFFFFFFFu;
  if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
    crc_init();
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  }
  for (size_t i = 0; i < n; i++)
    c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  c = ~c;
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What one pass over the records does with each scalar. */
struct tf {
  const char *path;
  const char *tag; /* NULL: only collect tag names */
  struct tp_series *s;
  char *tags[MAX_TAGS];
  size_t ntags;
  uint64_t skipped;     /* bytes passed over to find the next whole frame */
  long long skip_at;    /* offset of the first such byte */
  uint64_t resync_work; /* data CRC bytes checked while resynchronising */
};

/* A tag holding NUL is kept out of the list: no key given as a C string can name it. */
/* The tag's bytes are exactly want: "train/grad_norm\0evil" is not "train/grad_norm". */
static int tag_is(const ProtobufCBinaryData *tag, const char *want) {
  size_t n = strlen(want);
  return tag->len == n && (n == 0 || !memcmp(tag->data, want, n));
}

/* A tag holding NUL is kept out of the list: no key given as a C string can name it. */
static void remember_tag(struct tf *t, const ProtobufCBinaryData *tag) {
  char *copy;
  if (tag->len && memchr(tag->data, 0, tag->len))
    return;
  for (size_t i = 0; i < t->ntags; i++)
    if (tag_is(tag, t->tags[i]))
      return;
  if (t->ntags >= MAX_TAGS || !(copy = malloc(tag->len + 1)))
    return;
  if (tag->len)
    memcpy(copy, tag->data, tag->len);
  copy[tag->len] = '\0';
  t->tags[t->ntags++] = copy;
}

/* The scalar of a summary value; 0 when it holds something else (image, text, histogram). */
static int scalar_of(const TpTfevent__SummaryValue *v, double *x) {
  const TpTfevent__TensorProto *t = v->tensor;
  const ProtobufCBinaryData *c;
  if (v->value_case == TP_TFEVENT__SUMMARY_VALUE__VALUE_SIMPLE_VALUE)
    return *x = v->simple_value, 1;
  if (v->value_case != TP_TFEVENT__SUMMARY_VALUE__VALUE_TENSOR || !t)
    return 0;
  if (t->n_float_val == 1)
    return *x = t->float_val[0], 1;
  if (t->n_double_val == 1)
    return *x = t->double_val[0], 1;
  c = &t->tensor_content;
  if (t->dtype == 1 && c->len == 4) {
    uint32_t b = le32(c->data);
    float f;
    memcpy(&f, &b, 4);
    return *x = f, 1;
  }
  if (t->dtype == 2 && c->len == 8) {
    uint64_t b = le64(c->data);
    memcpy(x, &b, 8);
    return 1;
  }
  if ((t->dtype == 19 || t->dtype == 14) && c->len == 2) {
    uint16_t h = (uint16_t)(c->data[0] | c->data[1] << 8);
    return *x = t->dtype == 19 ? tp_half_to_float(h) : tp_bf16_to_float(h), 1;
  }
  return 0;
}

/* Decode one record's Event and take the scalars of interest. */
static int event(struct tf *t, const unsigned char *data, size_t len, long rec) {
  TpTfevent__Event *e = tp_tfevent__event__unpack(NULL, len, data);
  int rc = 0;
  if (!e) {
    tp_series_bad_line(t->s, rec);
    return 0;
  }
  for (size_t i = 0; e->summary && i < e->summary->n_value && rc == 0; i++) {
    const TpTfevent__SummaryValue *v = e->summary->value[i];
    double x;
    if (!scalar_of(v, &x))
      continue;
    if (!t->tag)
      remember_tag(t, &v->tag);
    else if (tag_is(&v->tag, t->tag))
      rc = tp_series_push(t->s, (double)e->step, x);
  }
  tp_tfevent__event__free_unpacked(e, NULL);
  return rc;
}

/* 1 when a whole frame with both CRCs right starts at off (the data CRC only while the
   resynchronisation budget lasts). */
static int frame_ok(struct tf *t, const unsigned char *p, size_t size, size_t off) {
  uint64_t len;
  if (size - off < 16 || masked_crc(p + off, 8) != le32(p + off + 8))
    return 0;
  len = le64(p + off);
  if (len > size - off - 16 || t->resync_work > RESYNC_WORK(size) - len)
    return 0;
  t->resync_work += len;
  return masked_crc(p + off + 12, (size_t)len) == le32(p + off + 12 + len);
}

/* Where to go on after the damaged frame at off: its natural end when a frame header (or
   the end of the file) is there, else the next offset where a whole valid frame starts. */
static size_t resync(struct tf *t, const unsigned char *p, size_t size, size_t off) {
  uint64_t len = le64(p + off);
  if (len <= size - off - 12 && size - off - 12 - len >= 4) {
    size_t next = off + 16 + (size_t)len;
    if (next == size || (size - next >= 12 && masked_crc(p + next, 8) == le32(p + next + 8)))
      return next;
  }
  for (size_t o = off + 1; size - o >= 16; o++)
    if (frame_ok(t, p, size, o))
      return o;
  return size;
}

static void skip(struct tf *t, size_t from, size_t to) {
  if (!t->skipped)
    t->skip_at = (long long)from;
  t->skipped += to - from;
  t->s->skipped_bytes = t->skipped, t->s->skip_offset = t->skip_at;
}

/* Walk the TFRecord frames of the mapped file, checking both CRCs. */
static int frames(struct tf *t, const unsigned char *p, size_t size) {
  size_t off = 0, next;
  long rec = 0;
  int rc = 0;
  while (off < size && rc == 0) {
    rec++;
    if (size - off < 12) {
      tp_series_bad_line(t->s, rec); /* a header still being written */
      skip(t, off, size);
      break;
    }
    uint64_t len = le64(p + off);
    if (masked_crc(p + off, 8) != le32(p + off + 8))
      return tp_err(TP_ECORRUPT, t->path, (long long)off,
                    "record %ld: length crc32c mismatch (not a tfrecord stream, or damaged)", rec);
    const unsigned char *d = p + off + 12;
    if (len <= size - off - 12 && size - off - 12 - len >= 4 &&
        masked_crc(d, (size_t)len) == le32(d + len)) {
      rc = event(t, d, (size_t)len, rec);
      off += 12 + (size_t)len + 4;
      continue;
    }
    /* a bad data crc, a length past the end (a record still being written, or a lie) */
    tp_series_bad_line(t->s, rec);
    next = resync(t, p, size, off);
    skip(t, off, next);
    off = next;
  }
  return rc;
}

/* One pass: collect tags (t->tag NULL) or the series of t->tag into a fresh t->s. */
static int pass(struct tf *t, const struct tp_map *m, const char *tag) {
  tp_series_free(t->s);
  t->tag = tag;
  t->skipped = 0, t->skip_at = -1, t->resync_work = 0;
  if (!(t->s = tp_series_new()))
    return tp_err(TP_ENOMEM, t->path, -1, "out of memory");
  return frames(t, m->data, m->size);
}

static int has_tag(const struct tf *t, const char *tag) {
  for (size_t i = 0; i < t->ntags; i++)
    if (!strcmp(t->tags[i], tag))
      return 1;
  return 0;
}

static const char *pick_tag(const struct tf *t) {
  for (size_t k = 0; k < sizeof default_tags / sizeof *default_tags; k++)
    if (has_tag(t, default_tags[k]))
      return default_tags[k];
  return NULL;
}

static int no_tag(const struct tf *t, const char *tag) {
  char list[512], skipped[96] = "";
  size_t used = 0;
  list[0] = '\0';
  if (t->skipped)
    snprintf(skipped, sizeof skipped, "; %llu bytes skipped from offset %lld",
             (unsigned long long)t->skipped, t->skip_at);
  /* Nothing readable at all: the damage, not the tag, is the news. */
  if (t->ntags == 0 && t->s && t->s->n_malformed > 0)
    return tp_err(TP_ECORRUPT, t->path, -1,
                  "no scalar could be read: %zu damaged record%s (bad crc32c, truncated "
                  "or undecodable), the first is record %ld%s",
                  t->s->n_malformed, t->s->n_malformed == 1 ? "" : "s", t->s->malformed_line[0],
                  skipped);
  for (size_t i = 0; i < t->ntags && used + 8 < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", t->tags[i]);
  return tp_err(TP_ENOKEY, t->path, -1, "scalar tag '%s' not found; scalar tags there: %s", tag,
                t->ntags ? list : "(none)");
}

static int tf_run(struct tf *t, const struct tp_map *m, const char *want) {
  const char *tag = want;
  int rc = 0;
  if (!tag) {
    if ((rc = pass(t, m, NULL)) < 0)
      return rc;
    if (!(tag = pick_tag(t)))
      return no_tag(t, default_tags[0]);
  }
  if ((rc = pass(t, m, tag)) < 0)
    return rc;
  if (t->s->n == 0 && want) { /* wrong tag, or every record with it damaged? */
    struct tp_series *kept = t->s;
    t->s = NULL;
    if ((rc = pass(t, m, NULL)) < 0 || !has_tag(t, want)) {
      tp_series_free(kept);
      return rc < 0 ? rc : no_tag(t, want);
    }
    tp_series_free(t->s);
    t->s = kept;
  }
  t->s->has_step = 1;
  return tp__series_done(t->s, t->path, "tfevents", tag);
}

static int tfevents_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_map m;
  struct tf t = {.path = path};
  int rc;
  if ((rc = tp_map_open(path, &m)) < 0)
    return rc;
  rc = tf_run(&t, &m, o->key && *o->key ? o->key : NULL);
  tp_map_close(&m);
  for (size_t i = 0; i < t.ntags; i++)
    free(t.tags[i]);
  if (rc < 0) {
    tp_series_free(t.s);
    return rc;
  }
  *out = t.s;
  return 0;
}

/* A first frame whose length CRC checks out is a TFRecord stream. */
static int tfevents_sniff(const unsigned char *h, size_t len) {
  return len >= 12 && masked_crc(h, 8) == le32(h + 8) ? 95 : 0;
}

const struct tp_series_reader tp_tfevents_reader = {
    .name = "tfevents",
    .summary = "TensorBoard event files (scalar tag train/grad_norm, gnorm, …)",
    .sniff = tfevents_sniff,
    .read = tfevents_read,
};
