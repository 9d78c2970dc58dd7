/* Fuzz target: the spike options string ("method=mad window=101 …", gn_detect and the CLI),
   then a detection with whatever options parsed, on a small series with one spike. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tp_error.h"
#include "tp_spikes.h"

#define OPT_POINTS 300
#define OPT_MAX_TEXT 4096

const char fuzz_name[] = "options";

/* A decaying curve with noise-free wiggle, a NaN, an inf and one 20x spike. */
static void series(double *step, double *value) {
  for (size_t i = 0; i < OPT_POINTS; i++) {
    step[i] = 10.0 * (double)i;
    value[i] = 1.0 + 4.0 * exp(-(double)i / 40.0) + 0.1 * sin((double)i);
  }
  value[150] = 20.0;
  value[200] = NAN;
  value[201] = INFINITY;
}

static void detect(const struct tp_spike_opts *o) {
  double step[OPT_POINTS], value[OPT_POINTS];
  struct tp_spikes *sp = NULL;
  int rc;
  series(step, value);
  rc = tp_spikes_detect(tp_steps_array(step), value, OPT_POINTS, o, &sp);
  fuzz_check_rc(rc, "tp_spikes_detect");
  if (rc == 0) {
    fuzz_expect(sp->n_ep <= sp->n_found, "kept %zu of %zu episodes", sp->n_ep, sp->n_found);
    for (size_t i = 0; i < sp->n_ep; i++)
      fuzz_expect(sp->ep[i].i_start <= sp->ep[i].i_peak && sp->ep[i].i_peak <= sp->ep[i].i_end &&
                      sp->ep[i].i_end < OPT_POINTS,
                  "episode %zu indices %zu..%zu peak %zu", i, sp->ep[i].i_start, sp->ep[i].i_end,
                  sp->ep[i].i_peak);
  }
  tp_spikes_free(sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct tp_spike_opts o;
  char *text;
  int rc;
  if (size > OPT_MAX_TEXT || !(text = malloc(size + 1)))
    return 0;
  memcpy(text, data, size);
  text[size] = 0;
  tp_spike_opts_init(&o);
  rc = tp_spike_opts_parse(&o, text);
  fuzz_check_rc(rc, "tp_spike_opts_parse");
  if (rc == 0) {
    fuzz_expect(memchr(o.method, 0, sizeof o.method) != NULL, "method not terminated");
    detect(&o);
  }
  free(text);
  tp_err_clear();
  return 0;
}
