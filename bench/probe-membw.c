/* bench probe: single-thread memory bandwidth (STREAM-style copy and triad, best of reps). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
  size_t n = (size_t)(argc > 1 ? atol(argv[1]) : 1L << 24); /* doubles per array */
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (n < 1024 || n > (1UL << 28) || reps < 1) {
    fprintf(stderr, "probe-membw: usage: probe-membw N(1024..2^28) REPS\n");
    return 1;
  }
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  if (!a || !b || !c) {
    fprintf(stderr, "probe-membw: out of memory for %zu doubles\n", n);
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    a[i] = 1.0;
    b[i] = 2.0;
    c[i] = 0.0;
  }
  double copy = 1e30, triad = 1e30, sink = 0;
  for (int r = 0; r < reps; r++) {
    double t = now();
    for (size_t i = 0; i < n; i++)
      c[i] = a[i];
    t = now() - t;
    copy = t < copy ? t : copy;
    t = now();
    for (size_t i = 0; i < n; i++)
      a[i] = b[i] + 3.0 * c[i];
    t = now() - t;
    triad = t < triad ? t : triad;
    sink += a[r % n];
  }
  /* Counted STREAM's way: bytes named in the loop, write-allocate traffic not added. */
  printf("{\"doubles\": %zu, \"copy_gbs\": %.2f, \"triad_gbs\": %.2f, \"sink\": %g}\n", n,
         16.0 * (double)n / copy / 1e9, 24.0 * (double)n / triad / 1e9, sink);
  free(a);
  free(b);
  free(c);
  return 0;
}
