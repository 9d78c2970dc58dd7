/* The similarity metrics by name. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tp_error.h"
#include "tp_metric.h"
#include "tp_text.h"

static const char *const metric_names[] = {
    [TP_METRIC_COSINE] = "cosine",
    [TP_METRIC_DOT] = "dot",
    [TP_METRIC_EUCLIDEAN] = "euclidean",
    NULL,
};
#define NMETRICS (sizeof metric_names / sizeof metric_names[0] - 1)

const char *const *tp_metric_names(void) { return metric_names; }

/* "cosine, dot or euclidean" from the table, built once. */
static const char *metric_list(void) {
  static char list[128];
  if (!list[0]) {
    size_t len = 0;
    for (size_t i = 0; i < NMETRICS && len < sizeof list; i++)
      len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                              i == 0              ? ""
                              : i + 1 == NMETRICS ? " or "
                                                  : ", ",
                              metric_names[i]);
  }
  return list;
}

int tp_metric_parse(const char *s, enum tp_metric *out) {
  if (!s || !*s)
    return tp_err(TP_EINVAL, NULL, -1, "the metric is empty (expected %s)", metric_list());
  for (size_t i = 0; i < NMETRICS; i++)
    if (strcmp(s, metric_names[i]) == 0) {
      *out = (enum tp_metric)i;
      return 0;
    }
  char shown[128];
  return tp_err(TP_EINVAL, NULL, -1, "unknown metric '%s' (expected %s)",
                tp_text_escape_buf(s, shown, sizeof shown), metric_list());
}

const char *tp_metric_name(enum tp_metric m) {
  return (unsigned)m < NMETRICS ? metric_names[m] : "?";
}
