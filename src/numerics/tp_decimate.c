/* Display decimation: a per-pixel-column min/max envelope that keeps spikes. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "tp_decimate.h"
#include "tp_error.h"
#include "tp_limits.h"

/* Step range of the finite points; 0 when there is none. */
static int step_range(struct tp_steps step, const double *value, size_t n, double *lo, double *hi) {
  int any = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(value[i]) || !isfinite(tp_step_at(step, i)))
      continue;
    if (!any || tp_step_at(step, i) < *lo)
      *lo = tp_step_at(step, i);
    if (!any || tp_step_at(step, i) > *hi)
      *hi = tp_step_at(step, i);
    any = 1;
  }
  return any;
}

/* The pixel column of a step; steps outside [lo, hi] cannot occur. */
static size_t column_of(double s, double lo, double width, size_t columns) {
  double c = width > 0 ? (s - lo) / width : 0;
  return c >= (double)columns ? columns - 1 : (size_t)c;
}

/* Emit the kept points of one run [a, b) of finite points in one column. */
static size_t emit_run(const double *value, size_t a, size_t b, const struct tp_spikes *sp,
                       size_t *out) {
  size_t lo = a, hi = a, first = SIZE_MAX, last = a, k = 0;
  for (size_t i = a; i < b; i++) {
    if (!isfinite(value[i]))
      continue;
    if (first == SIZE_MAX)
      first = i;
    last = i;
    if (value[i] < value[lo] || !isfinite(value[lo]))
      lo = i;
    if (value[i] > value[hi] || !isfinite(value[hi]))
      hi = i;
  }
  for (size_t i = a; i < b && first != SIZE_MAX; i++)
    if (i == first || i == last || i == lo || i == hi || (sp && tp_spikes_flagged(sp, value, i)))
      out[k++] = i;
  return k;
}

int tp_decimate(struct tp_steps step, const double *value, size_t n, const struct tp_spikes *sp,
                size_t columns, size_t **idx, size_t *m) {
  double lo = 0, hi = 0, width;
  uint64_t bytes;
  size_t k = 0, a = 0;
  *idx = NULL;
  *m = 0;
  if (columns == 0)
    return tp_err(TP_EINVAL, NULL, -1, "decimation needs at least one pixel column");
  if (tp_size_mul(n ? n : 1, sizeof(size_t), &bytes, NULL) < 0 ||
      tp_size_check(bytes, NULL, "decimation") < 0)
    return tp_err_last()->code;
  if (!(*idx = malloc(bytes)))
    return tp_err(TP_ENOMEM, NULL, -1, "cannot allocate %zu indices", n);
  if (!step_range(step, value, n, &lo, &hi))
    return 0;
  width = (hi - lo) / (double)columns;
  /* a run ends where the column changes (non-finite points never end one) */
  while (a < n) {
    size_t b = a + 1, col;
    while (a < n && (!isfinite(value[a]) || !isfinite(tp_step_at(step, a))))
      a++;
    if (a == n)
      break;
    col = column_of(tp_step_at(step, a), lo, width, columns);
    for (b = a + 1; b < n; b++)
      if (isfinite(value[b]) && isfinite(tp_step_at(step, b)) &&
          column_of(tp_step_at(step, b), lo, width, columns) != col)
        break;
    k += emit_run(value, a, b, sp, *idx + k);
    a = b;
  }
  *m = k;
  return 0;
}
