/* bench probe: times trainplot's similarity kernel alone (tp_sim_compute, float32 cosine),
   so it can be set beside the peers' in-process compute times and the BLAS ceiling: the
   first full-size call in a fresh process (what one command pays) and the steady state. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
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

#define STEADY_REPS 5

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The same warm-up the Python peers get: a few rows first, so libraries are set up. At 8
   rows OpenBLAS stays single-threaded: the timed call is still its first threaded one. */
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
  tp_simmat_free(s);
  s = NULL;
  /* Then the steady state, as a %timeit would see it: the same call repeated in this
     process, up to STEADY_REPS times or about a second, median reported. */
  double rep[STEADY_REPS], spent = 0;
  int nrep = 0;
  while (rc == 0 && nrep < STEADY_REPS && spent + t < 1.0) {
    double u = now();
    rc = tp_sim_compute(&pe->rows, &o, &s);
    rep[nrep++] = now() - u;
    spent += rep[nrep - 1];
    tp_simmat_free(s);
    s = NULL;
  }
  if (rc < 0) {
    fprintf(stderr, "sim-kernel: %s\n", tp_err_format(msg, sizeof msg));
  } else {
    printf("{\"kernel_s\": %.6f, \"n\": %zu, \"d\": %zu", t, pe->rows.n, pe->rows.d);
    if (nrep) {
      qsort(rep, (size_t)nrep, sizeof rep[0], cmp_double);
      printf(", \"steady_s\": %.6f, \"steady_reps\": %d, \"steady_total_s\": %.6f",
             rep[nrep / 2], nrep, spent);
    }
    printf("}\n");
  }
  tp_posemb_free(pe);
  return rc < 0;
}
