/* Shared by the fuzz targets: the libFuzzer entry point, a scratch file, invariant checks. */
#ifndef TP_FUZZ_H
#define TP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "tp_series.h"
#include "tp_tensor.h"

/* Each target defines these two; fuzz_name names its corpus directory. */
extern const char fuzz_name[];
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when the target has something to fuzz (a log reader may not be in the table yet);
 *why gets the reason otherwise.  Targets without the notion leave it to fuzz.c. */
int fuzz_available(const char **why);

/* Small limits, so a lying header cannot make a fuzz run allocate gigabytes. */
void fuzz_setup(void);
/* Write data to this process's scratch file and return its path. */
const char *fuzz_file(const uint8_t *data, size_t size);

/* An invariant: in a libFuzzer build a violation aborts (a finding); in the replay
   program it marks the current corpus file as failed, with the message. */
void fuzz_expect(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* rc is 0, or a negative code that was recorded with a non-empty detail. */
void fuzz_check_rc(int rc, const char *what);
/* A loaded tensor is consistent and every element can be read. */
void fuzz_check_tensor(const struct tp_tensor *t);
/* A listing is consistent. */
void fuzz_check_list(const struct tp_tensor_list *l);
/* A series is consistent and every point can be read. */
void fuzz_check_series(const struct tp_series *s);

/* Set by the replay main: report violations instead of aborting. */
extern int fuzz_replay_mode;
/* The first violation for the current input, or NULL (replay mode). */
const char *fuzz_violation(void);
void fuzz_violation_clear(void);

#endif
