/* The similarity metrics by name. */
#include "config.h"

#include <string.h>

#include "tp_error.h"
#include "tp_metric.h"
#include "tp_text.h"

static const char *const metric_names[] = {
    [TP_METRIC_COSINE] = "cosine",
    [TP_METRIC_DOT] = "dot",
    [TP_METRIC_EUCLIDEAN] = "euclidean",
};

int tp_metric_parse(const char *s, enum tp_metric *out) {
  if (!s || !*s)
    return tp_err(TP_EINVAL, NULL, -1,
                  "the metric is empty (expected cosine, dot or euclidean)");
  for (size_t i = 0; i < sizeof metric_names / sizeof metric_names[0]; i++)
    if (strcmp(s, metric_names[i]) == 0) {
      *out = (enum tp_metric)i;
      return 0;
    }
  char shown[128];
  return tp_err(TP_EINVAL, NULL, -1,
                "unknown metric '%s' (expected cosine, dot or euclidean)",
                tp_text_escape_buf(s, shown, sizeof shown));
}

const char *tp_metric_name(enum tp_metric m) {
  return (unsigned)m < 3 ? metric_names[m] : "?";
}
