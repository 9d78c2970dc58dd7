/* Arrays of gradient norms saved by the training script: a 1-D .npy, or a torch.save'd
   1-D tensor or list of 0-dim tensors. Loading goes through the tensor readers; the step
   is the element index, since an array carries none. */
#include <config.h>

#include <string.h>

#include "tp_error.h"
#include "tp_log_int.h"
#include "tp_series.h"
#include "tp_tensor.h"

/* The one dimension longer than 1, or an error for a matrix. */
static int vector_length(const char *path, const struct tp_tensor *t, uint64_t *n) {
  int longer = 0;
  for (int d = 0; d < t->ndim; d++)
    longer += t->shape[d] > 1;
  if (longer > 1)
    return tp_err(TP_EFORMAT, path, -1,
                  "tensor '%s' has %d dimensions longer than 1; a series needs a vector",
                  t->name ? t->name : "", longer);
  *n = t->count;
  return 0;
}

static int array_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  struct tp_tensor *t = NULL;
  struct tp_series *s = NULL;
  uint64_t n = 0;
  int rc = tp_tensor_load_file(path, o->key ? o->key : "", &t);
  if (rc == 0)
    rc = vector_length(path, t, &n);
  if (rc == 0 && !(s = tp_series_new()))
    rc = tp_err(TP_ENOMEM, path, -1, "out of memory");
  if (rc == 0)
    rc = tp__series_reserve(s, (size_t)n);
  for (uint64_t i = 0; rc == 0 && i < n; i++)
    rc = tp_series_push(s, (double)i, tp_tensor_get(t, i));
  if (rc == 0)
    rc = tp__series_done(s, path, "array", t->name ? t->name : "");
  tp_tensor_free(t);
  if (rc < 0) {
    tp_series_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* .npy is certain; zip (torch.save) and pickle-protocol-2 heads are likely tensors. */
static int array_sniff(const unsigned char *h, size_t len) {
  if (len >= 6 && !memcmp(h, "\x93NUMPY", 6))
    return 90;
  if (len >= 4 && !memcmp(h, "PK\x03\x04", 4))
    return 60;
  if (len >= 2 && h[0] == 0x80 && h[1] >= 2 && h[1] <= 5)
    return 60;
  return 0;
}

const struct tp_series_reader tp_array_reader = {
    .name = "array",
    .summary = "1-D .npy, or a torch.save'd 1-D tensor / list of 0-dim tensors",
    .sniff = array_sniff,
    .read = array_read,
};
