/* NumPy .npz reader: a zip (stored or deflated) of .npy members, chosen by name. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_error.h"
#include "tp_npy.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"
#include "tp_zip.h"

/* Enough for any header numpy writes (they are padded to 64 bytes, rarely past 200). */
#define NPZ_HEAD 65536

/* A zip whose first entry is a .npy member; torch zips are told apart by their data.pkl. */
static int npz_sniff(const unsigned char *h, size_t len) {
  size_t nlen;
  if (len < 30 || memcmp(h, "PK\3\4", 4))
    return 0;
  nlen = h[26] | (size_t)h[27] << 8;
  return nlen >= 4 && 30 + nlen <= len && !memcmp(h + 30 + nlen - 4, ".npy", 4);
}

/* Member name without its ".npy" suffix, in buf. */
static const char *strip_npy(const char *name, char *buf, size_t n) {
  size_t len = strlen(name);
  if (len >= 4 && !strcmp(name + len - 4, ".npy"))
    len -= 4;
  snprintf(buf, n, "%.*s", (int)len, name);
  return buf;
}

/* Compare the entry's declared size with what its npy header promises, before
   anything of that size is allocated: a mismatch is a lie or a zip bomb. */
static int check_member(struct tp__zip *z, uint64_t i, const char *name, const char *path,
                        unsigned char *head, size_t *got) {
  uint64_t declared, promised;
  int rc;
  if ((rc = tp__zip_size(z, i, &declared)) < 0 ||
      (rc = tp__zip_head(z, i, head, NPZ_HEAD, got)) < 0 ||
      (rc = tp__npy_expected_size(head, *got, path, &promised)) < 0)
    return rc;
  if (declared != promised)
    return tp_err(TP_ECORRUPT, path, -1,
                  "npz member '%s' declares %llu bytes but its npy header "
                  "promises %llu",
                  name, (unsigned long long)declared, (unsigned long long)promised);
  return 0;
}

static int npz_list_z(struct tp__zip *z, const char *path, struct tp_tensor_list *l) {
  unsigned char *head = malloc(NPZ_HEAD);
  char nm[512];
  size_t got;
  int rc = head ? 0 : tp_err(TP_ENOMEM, path, -1, "out of memory");
  for (uint64_t i = 0; rc == 0 && i < tp__zip_count(z); i++) {
    const char *name = tp__zip_name(z, i);
    if (!name || strlen(name) < 4 || strcmp(name + strlen(name) - 4, ".npy"))
      continue; /* numpy writes only .npy members; skip anything else */
    if ((rc = check_member(z, i, name, path, head, &got)) == 0)
      rc = tp__npy_list_mem(head, got, strip_npy(name, nm, sizeof nm), path, l);
  }
  free(head);
  return rc;
}

static int npz_list(const char *path, struct tp_tensor_list **out) {
  struct tp__zip *z;
  struct tp_tensor_list *l;
  int rc;
  *out = NULL;
  if ((rc = tp__zip_open(path, &z)) < 0)
    return rc;
  if (!(l = tp__tensor_list_new("npz")))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  else
    rc = npz_list_z(z, path, l);
  tp__zip_close(z);
  if (rc < 0)
    tp_tensor_list_free(l);
  else
    *out = l;
  return rc;
}

/* Entry index for key (with or without ".npy"); "" picks the only member. */
static int npz_find(struct tp__zip *z, const char *path, const char *key, uint64_t *idx) {
  char buf[512];
  struct tp_tensor_list *l;
  int rc;
  snprintf(buf, sizeof buf, "%s.npy", key);
  if (*key && (tp__zip_find(z, key, idx) == 0 || tp__zip_find(z, buf, idx) == 0))
    return 0;
  if (!*key && tp__zip_count(z) == 1)
    return *idx = 0, 0;
  if (!(l = tp__tensor_list_new("npz")))
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  if ((rc = npz_list_z(z, path, l)) == 0)
    rc = tp__tensor_key_error(path, key, l);
  tp_tensor_list_free(l);
  return rc;
}

static int npz_load(const char *path, const char *key, struct tp_tensor **out) {
  struct tp__zip *z;
  unsigned char *head = NULL, *buf = NULL;
  char nm[512];
  uint64_t i;
  size_t got, len;
  int rc;
  *out = NULL;
  if ((rc = tp__zip_open(path, &z)) < 0)
    return rc;
  if ((rc = npz_find(z, path, key, &i)) == 0) {
    const char *name = strip_npy(tp__zip_name(z, i), nm, sizeof nm);
    if (!(head = malloc(NPZ_HEAD)))
      rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
    else if ((rc = check_member(z, i, name, path, head, &got)) == 0 &&
             (rc = tp__zip_read(z, i, &buf, &len)) == 0)
      rc = tp__npy_load_mem(buf, len, name, path, out);
  }
  free(head);
  free(buf);
  tp__zip_close(z);
  return rc;
}

const struct tp_tensor_reader tp_npz_reader = {
    .name = "npz",
    .summary = "NumPy .npz (stored or deflated): one .npy member chosen by name",
    .sniff = npz_sniff,
    .list = npz_list,
    .load = npz_load,
};
