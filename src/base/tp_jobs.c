/* Threads: the CPUs a parallel pass may use and a runner that spreads jobs over them. */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "tp_jobs.h"

int tp_threads(int cap) {
  long n = 0;
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    n = CPU_COUNT(&set);
#endif
  if (n < 1)
    n = sysconf(_SC_NPROCESSORS_ONLN);
  const char *env = getenv("TRAINPLOT_THREADS");
  if (env && *env) {
    char *end;
    long t = strtol(env, &end, 10);
    if (!*end && t >= 1 && t < n)
      n = t;
  }
  if (n > cap)
    n = cap;
  return n < 1 ? 1 : (int)n;
}

void tp_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *)) {
  enum { MAXT = 64 };
  pthread_t th[MAXT];
  int started[MAXT] = {0};
  char *job = jobs;
  for (size_t k = 1; k < n && k < MAXT; k++)
    started[k] = pthread_create(&th[k], NULL, fn, job + k * size) == 0;
  if (n > 0)
    fn(job);
  for (size_t k = 1; k < n; k++) {
    if (k < MAXT && started[k])
      pthread_join(th[k], NULL);
    else
      fn(job + k * size);
  }
}
