/* bench probe: times trainplot's similarity kernel alone (tp_sim_compute, float32 cosine),
   so it can be set beside the peers' in-process compute times and the BLAS ceiling. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "tp_error.h"
#include "tp_posemb.h"
#include "tp_sim.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The same warm-up the Python peers get: a few rows first, so thread pools are running. */
static int warm_up(const struct tp_rows *r, const struct tp_sim_opts *o)
{
  struct tp_rows w = *r;
  struct tp_simmat *s = NULL;
  w.n = r->n < 8 ? r->n : 8;
  int rc = tp_sim_compute(&w, o, &s);
  tp_simmat_free(s);
  return rc;
}

int main(int argc, char **argv)
{
  char msg[512];
  struct tp_posemb *pe = NULL;
  struct tp_simmat *s = NULL;
  struct tp_sim_opts o = {.metric = TP_METRIC_COSINE};
  if (argc != 2) {
    fprintf(stderr, "sim-kernel: usage: sim-kernel TABLE.npy\n");
    return 1;
  }
  if (tp_posemb_load(argv[1], "", &pe) < 0 || warm_up(&pe->rows, &o) < 0) {
    fprintf(stderr, "sim-kernel: %s\n", tp_err_format(msg, sizeof msg));
    tp_posemb_free(pe);
    return 1;
  }
  double t = now();
  int rc = tp_sim_compute(&pe->rows, &o, &s);
  t = now() - t;
  if (rc < 0)
    fprintf(stderr, "sim-kernel: %s\n", tp_err_format(msg, sizeof msg));
  else
    printf("{\"kernel_s\": %.6f, \"n\": %zu, \"d\": %zu}\n", t, pe->rows.n, pe->rows.d);
  tp_simmat_free(s);
  tp_posemb_free(pe);
  return rc < 0;
}
