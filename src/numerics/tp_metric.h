/* The similarity metrics and their names. */
#ifndef TP_METRIC_H
#define TP_METRIC_H

enum tp_metric { TP_METRIC_COSINE = 0, TP_METRIC_DOT, TP_METRIC_EUCLIDEAN };

/* The metrics' names in enum order, NULL-terminated: "cosine", "dot", "euclidean". */
const char *const *tp_metric_names(void);
/* Parse one of those names; records TP_EINVAL (listing them) otherwise, also for "". */
int tp_metric_parse(const char *s, enum tp_metric *out);
const char *tp_metric_name(enum tp_metric m);

#endif
