/* bench probe: the machine's CBLAS ceiling, sgemm and ssyrk GFLOP/s at a similarity-like shape. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gsl/gsl_cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best of reps: the ceiling is what the library can do, not its average under noise. */
static double best_gemm(const float *a, float *c, int n, int k, int reps)
{
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, k, 1.0f, a, k,
                a, k, 0.0f, c, n);
    t = now() - t;
    if (t < best)
      best = t;
  }
  return best;
}

static double best_syrk(const float *a, float *c, int n, int k, int reps)
{
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t = now();
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, 1.0f, a, k,
                0.0f, c, n);
    t = now() - t;
    if (t < best)
      best = t;
  }
  return best;
}

/* OpenBLAS names its build and thread count; other CBLAS libraries do not, so look it up. */
static void blas_identity(void)
{
  char *(*cfg)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_config");
  int (*thr)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
  if (cfg)
    printf("\"blas\": \"%s\", ", cfg());
  else
    printf("\"blas\": \"CBLAS without OpenBLAS symbols (likely gslcblas)\", ");
  printf("\"blas_threads\": %d, ", thr ? thr() : 1);
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 4096;
  int k = argc > 2 ? atoi(argv[2]) : 1024;
  int reps = argc > 3 ? atoi(argv[3]) : 3;
  if (n < 1 || k < 1 || reps < 1 || n > 65536 || k > 65536) {
    fprintf(stderr, "probe-blas: usage: probe-blas N K REPS (1..65536)\n");
    return 1;
  }
  float *a = malloc(sizeof(float) * (size_t)n * (size_t)k);
  float *c = malloc(sizeof(float) * (size_t)n * (size_t)n);
  if (!a || !c) {
    fprintf(stderr, "probe-blas: out of memory for n=%d k=%d\n", n, k);
    return 1;
  }
  srand(1);
  for (size_t i = 0; i < (size_t)n * (size_t)k; i++)
    a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  memset(c, 0, sizeof(float) * (size_t)n * (size_t)n); /* page faults are not the rate */
  best_gemm(a, c, 64, k, 1); /* nor is thread pool start-up */
  double tg = best_gemm(a, c, n, k, reps), ts = best_syrk(a, c, n, k, reps);
  printf("{");
  blas_identity();
  printf("\"n\": %d, \"k\": %d, \"sgemm_s\": %.6f, \"ssyrk_s\": %.6f, "
         "\"sgemm_gflops\": %.2f, \"ssyrk_gflops\": %.2f, \"kernel_s\": %.6f}\n",
         n, k, tg, ts, 2.0 * n * (double)n * k / tg / 1e9,
         (double)n * (n + 1.0) * k / ts / 1e9, tg < ts ? tg : ts);
  free(a);
  free(c);
  return 0;
}
