/* Threads: how many a parallel pass may use, and running jobs on them. */
#ifndef TP_JOBS_H
#define TP_JOBS_H

#include <stddef.h>

/* Threads a parallel pass may use: the CPUs this process may run on (its affinity mask,
   which batch schedulers such as Slurm set), lowered by TRAINPLOT_THREADS and by cap;
   at least 1. */
int tp_threads(int cap);

/* Run fn on each of the n jobs (job k at jobs + k * size): jobs 1.. on threads, job 0 on
   the caller's; a job whose thread cannot start runs on the caller's after job 0. Returns
   when all are done. */
void tp_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *));

#endif
