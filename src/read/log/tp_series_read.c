/* The table of training-log readers, content detection and the one read entry point. */
#include <config.h>
#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>

#include "tp_error.h"
#include "tp_limits.h"
#include "tp_log_int.h"
#include "tp_map.h"
#include "tp_series.h"

static const struct tp_series_reader *const readers[] = {
    &tp_fairseq_reader,  &tp_megatron_reader, &tp_hf_reader,  &tp_jsonl_reader,
    &tp_tfevents_reader, &tp_array_reader,    &tp_csv_reader, &tp_plain_reader,
};

const struct tp_series_reader *const *tp_series_readers(size_t *n) {
  *n = sizeof readers / sizeof readers[0];
  return readers;
}

/* The reader with the highest confidence; the table order breaks ties. */
static int detect(const char *path, const struct tp_series_reader **out) {
  unsigned char *head = malloc(TP__SNIFF_BYTES);
  size_t got = 0, i;
  int best = 0, rc;
  if (!head)
    return tp_err(TP_ENOMEM, path, -1, "out of memory");
  if ((rc = tp_file_head(path, head, TP__SNIFF_BYTES, &got)) < 0) {
    free(head);
    return rc;
  }
  *out = NULL;
  for (i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    int c = readers[i]->sniff(head, got);
    if (c > best) {
      best = c;
      *out = readers[i];
    }
  }
  free(head);
  if (!*out && !got)
    return tp_err(TP_EFORMAT, path, 0, "empty file");
  if (!*out) {
    char names[256];
    size_t used = 0;
    for (i = 0; i < sizeof readers / sizeof readers[0] && used < sizeof names; i++)
      used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                               readers[i]->name);
    return tp_err(TP_EFORMAT, path, 0, "not a training log trainplot knows (%s)", names);
  }
  return 0;
}

int tp_series_read(const char *path, const struct tp_series_opts *o, struct tp_series **out) {
  static const struct tp_series_opts none;
  const struct tp_series_reader *r;
  int rc;
  unsigned faults = tp_map_faults();
  *out = NULL;
  if ((rc = tp_limits_check()) < 0 || (rc = detect(path, &r)) < 0)
    return rc;
  rc = r->read(path, o ? o : &none, out);
  if (tp_map_faults() != faults) { /* pages of zeros stood in for the lost end */
    tp_series_free(*out);
    *out = NULL;
    return tp_map_shrank(path);
  }
  return rc;
}
