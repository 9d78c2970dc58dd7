/* Zip entry access for the npz and torch readers: libzip reading our own read-only mapping. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_tensor.h"
#include "tp_zip.h"

struct tp__zip {
  struct tp_map m;
  zip_t *z;
  const char *path;
};

/* Open from the mapping, so the file checks of tp_map_open (no FIFOs, no dirs) apply. */
int tp__zip_open(const char *path, struct tp__zip **out) {
  struct tp__zip *zz = calloc(1, sizeof *zz);
  zip_source_t *src;
  zip_error_t err;
  int rc;
  *out = NULL;
  if (!zz)
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  zz->path = path;
  if ((rc = tp_map_open(path, &zz->m)) < 0) {
    free(zz);
    return rc;
  }
  zip_error_init(&err);
  src = zip_source_buffer_create(zz->m.data, zz->m.size, 0, &err);
  if (src && !(zz->z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err)))
    zip_source_free(src);
  if (!zz->z) {
    rc = tp_err(TP_ECORRUPT, path, -1, "not a readable zip archive: %s", zip_error_strerror(&err));
    zip_error_fini(&err);
    tp__zip_close(zz);
    return rc;
  }
  zip_error_fini(&err);
  *out = zz;
  return 0;
}

void tp__zip_close(struct tp__zip *z) {
  if (!z)
    return;
  if (z->z)
    zip_discard(z->z);
  tp_map_close(&z->m);
  free(z);
}

uint64_t tp__zip_count(const struct tp__zip *z) {
  zip_int64_t n = zip_get_num_entries(z->z, 0);
  return n < 0 ? 0 : (uint64_t)n;
}

const char *tp__zip_name(struct tp__zip *z, uint64_t i) {
  return zip_get_name(z->z, i, ZIP_FL_ENC_RAW);
}

int tp__zip_find(struct tp__zip *z, const char *name, uint64_t *idx) {
  zip_int64_t i = zip_name_locate(z->z, name, ZIP_FL_ENC_RAW);
  if (i < 0)
    return TP_ENOKEY;
  *idx = (uint64_t)i;
  return 0;
}

int tp__zip_size(struct tp__zip *z, uint64_t i, uint64_t *size) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z->z, i, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
    return tp_err(TP_ECORRUPT, z->path, -1, "zip entry %llu has no size: %s", (unsigned long long)i,
                  zip_strerror(z->z));
  *size = st.size;
  return 0;
}

/* Read exactly want bytes (or to the end when short is allowed) from f. */
static int read_some(struct tp__zip *z, zip_file_t *f, unsigned char *buf, size_t want, size_t *got,
                     const char *name) {
  *got = 0;
  while (*got < want) {
    zip_int64_t r = zip_fread(f, buf + *got, want - *got);
    if (r < 0)
      return tp_err(TP_ECORRUPT, z->path, -1, "zip entry '%s' is damaged: %s", name,
                    zip_file_strerror(f));
    if (r == 0)
      break;
    *got += (size_t)r;
  }
  return 0;
}

int tp__zip_head(struct tp__zip *z, uint64_t i, unsigned char *buf, size_t n, size_t *got) {
  const char *name = tp__zip_name(z, i);
  zip_file_t *f = zip_fopen_index(z->z, i, 0);
  int rc;
  if (!f)
    return tp_err(TP_ECORRUPT, z->path, -1, "cannot open zip entry '%s': %s", name ? name : "?",
                  zip_strerror(z->z));
  rc = read_some(z, f, buf, n, got, name ? name : "?");
  zip_fclose(f);
  return rc;
}

int tp__zip_read(struct tp__zip *z, uint64_t i, unsigned char **buf, size_t *len) {
  const char *name = tp__zip_name(z, i);
  uint64_t size;
  unsigned char extra;
  size_t got = 0, more = 0;
  zip_file_t *f;
  int rc;
  *buf = NULL;
  if ((rc = tp__zip_size(z, i, &size)) < 0 || (rc = tp_size_check(size, z->path, "zip entry")) < 0)
    return rc;
  if (!(f = zip_fopen_index(z->z, i, 0)))
    return tp_err(TP_ECORRUPT, z->path, -1, "cannot open zip entry '%s': %s", name ? name : "?",
                  zip_strerror(z->z));
  if (!(*buf = malloc(size ? (size_t)size : 1)))
    rc = tp_err(TP_ENOMEM, z->path, -1, "out of memory");
  else if ((rc = read_some(z, f, *buf, (size_t)size, &got, name)) == 0 &&
           (rc = read_some(z, f, &extra, 1, &more, name)) == 0 && (got != size || more))
    rc = tp_err(TP_ECORRUPT, z->path, -1, "zip entry '%s' declares %llu bytes but holds %s", name,
                (unsigned long long)size, more ? "more" : "fewer");
  zip_fclose(f);
  if (rc < 0) {
    free(*buf);
    *buf = NULL;
    return rc;
  }
  *len = (size_t)size;
  return 0;
}
