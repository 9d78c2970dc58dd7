/* The matrix and its offset profile in one pass: the profile accumulator as the kernel's sink. */
#include "config.h"

#include <stddef.h>

#include "tp_profile.h"
#include "tp_sim.h"

/* What the sink gathers into, and where the finished profile goes. */
struct prof_sink {
  struct tp_profile_acc acc;
  struct tp_profile **out;
};

static int ps_init(void *state, size_t n, enum tp_metric m) {
  return tp_profile_acc_init(&((struct prof_sink *)state)->acc, n, m);
}

static void ps_rows_f(void *state, size_t r0, size_t r1, const float *v0, size_t stride,
                      const unsigned char *skip) {
  tp_profile_acc_rows_f(&((struct prof_sink *)state)->acc, r0, r1, v0, stride, skip);
}

static void ps_row_d(void *state, size_t i, const double *v, const unsigned char *skip) {
  tp_profile_acc_row_d(&((struct prof_sink *)state)->acc, i, v, skip);
}

static int ps_finish(void *state, int rc) {
  struct prof_sink *ps = state;
  if (rc < 0) {
    tp_profile_acc_free(&ps->acc);
    return rc;
  }
  return tp_profile_acc_finish(&ps->acc, ps->out);
}

static int ps_matrix(void *state, const struct tp_simmat *s) {
  return tp_profile_compute(s, ((struct prof_sink *)state)->out);
}

int tp_sim_compute_profiled(const struct tp_rows *r, const struct tp_sim_opts *o,
                            struct tp_simmat **out, struct tp_profile **prof) {
  struct prof_sink ps = {.out = prof};
  const struct tp_sim_sink sink = {.state = &ps,
                                   .init = ps_init,
                                   .rows_f = ps_rows_f,
                                   .row_d = ps_row_d,
                                   .finish = ps_finish,
                                   .matrix = ps_matrix};
  if (!prof)
    return tp_sim_compute_sink(r, o, NULL, out);
  *prof = NULL;
  return tp_sim_compute_sink(r, o, &sink, out);
}
