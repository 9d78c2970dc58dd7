/* The table of tensor-file readers, content detection and the list/load entry points. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_tensor.h"
#include "tp_tensor_int.h"

/* Bytes the sniffers see: enough for a zip entry name or a text matrix line. */
#define TP_SNIFF_BYTES 4096

/* Order matters: claims are asked before any file is opened, so a generator spec is
   never taken for a file name (not even when such a file exists); the zip readers (npz,
   then torch) decide between themselves by entry names, and the text matrix accepts
   anything printable, so it comes last. */
static const struct tp_tensor_reader *const readers[] = {
    &tp_gen_reader, &tp_npy_reader,   &tp_safetensors_reader,
    &tp_npz_reader, &tp_torch_reader, &tp_textmat_reader,
};
#define NREADERS (sizeof readers / sizeof readers[0])

int tp_tensor_detect(const char *path, const struct tp_tensor_reader **out) {
  unsigned char head[TP_SNIFF_BYTES];
  size_t got = 0;
  int rc;
  *out = NULL;
  for (size_t i = 0; i < NREADERS; i++)
    if (readers[i]->claims && readers[i]->claims(path)) {
      *out = readers[i];
      return 0;
    }
  if ((rc = tp_file_head(path, head, sizeof head, &got)) < 0)
    return rc;
  for (size_t i = 0; i < NREADERS; i++)
    if (readers[i]->sniff && readers[i]->sniff(head, got)) {
      *out = readers[i];
      return 0;
    }
  {
    char names[256];
    size_t used = 0;
    for (size_t i = 0; i < NREADERS && used < sizeof names; i++)
      if (readers[i]->sniff)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                                 readers[i]->name);
    return tp_err(TP_EFORMAT, path, -1, "unrecognised format (expected one of: %s)", names);
  }
}

/* The limits, then the reader for path; *faults is the mapping fault count before it. */
static int start(const char *path, const struct tp_tensor_reader **r, unsigned *faults) {
  int rc;
  *faults = tp_map_faults();
  if ((rc = tp_limits_check()) < 0)
    return rc;
  return tp_tensor_detect(path, r);
}

int tp_tensor_list_file(const char *path, struct tp_tensor_list **out) {
  const struct tp_tensor_reader *r;
  unsigned faults;
  int rc;
  *out = NULL;
  if ((rc = start(path, &r, &faults)) < 0)
    return rc;
  rc = r->list(path, out);
  if (tp_map_faults() != faults) { /* pages of zeros stood in for the lost end */
    tp_tensor_list_free(*out);
    *out = NULL;
    return tp_map_shrank(path);
  }
  return rc;
}

int tp_tensor_load_file(const char *path, const char *key, struct tp_tensor **out) {
  const struct tp_tensor_reader *r;
  unsigned faults;
  int rc;
  *out = NULL;
  if ((rc = start(path, &r, &faults)) < 0)
    return rc;
  rc = r->load(path, key ? key : "", out);
  if (tp_map_faults() != faults) {
    tp_tensor_free(*out);
    *out = NULL;
    return tp_map_shrank(path);
  }
  return rc;
}
