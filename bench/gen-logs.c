/* bench input generator: fairseq key=value training logs and plain "step value" files,
   written in C because formatting 10^7 lines from Python would dominate the bench. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: seeded and portable, so every machine benches the same bytes. */
static double uniform(void)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (double)((rng * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

static double gauss(void)
{
  double u = uniform() + 1e-300, v = uniform();
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* A decaying gradient norm with log-normal noise and a spike of 3x-30x every n/25 steps. */
static double gnorm_at(long i, long n, long *spike_left, double *spike_h)
{
  double base = 0.4 + 2.0 * exp(-(double)i / (0.3 * (double)n));
  double v = base * exp(0.12 * gauss());
  if (*spike_left == 0 && i > 100 && uniform() < 25.0 / (double)n) {
    *spike_left = 1 + (long)(uniform() * 5);
    *spike_h = 3.0 + 27.0 * uniform();
  }
  if (*spike_left > 0) {
    v *= *spike_h;
    (*spike_left)--;
  }
  return v;
}

static void fairseq_header(FILE *f)
{
  fputs("fairseq plugins loaded...\n"
        "2023-06-13 17:29:37 | INFO | fairseq_cli.train | task: translation_lev_modified\n"
        "2023-06-13 17:29:37 | INFO | fairseq_cli.train | max tokens per device = 8192\n",
        f);
}

/* One train_inner line shaped like fixtures/real/fairseq/fairseq-simple-glat-syngec.log. */
static void fairseq_line(FILE *f, long i, double g, double *scale)
{
  long sec = 17 * 3600 + 31 * 60 + i / 2, ep = 1 + i / 282;
  double loss = 2.5 + 4.0 * exp(-(double)i / 2e5) + 0.05 * gauss();
  if (i > 0 && i % 9973 == 0) { /* fp16 overflow: fairseq halves the loss scale */
    *scale /= 2;
    fprintf(f, "2023-06-13 %02ld:%02ld:%02ld | INFO | fairseq.trainer | NOTE: overflow "
            "detected, setting loss scale to: %.1f\n", (sec / 3600) % 24, (sec / 60) % 60,
            sec % 60, *scale);
  }
  if (i > 0 && i % 20011 == 0)
    *scale = 32768;
  fprintf(f, "2023-06-13 %02ld:%02ld:%02ld | INFO | train_inner | epoch %03ld:  %5ld / 282 "
          "loss=%.3f, nll_loss=%.3f, glat_accu=%.3f, glat_context_p=0.473, word_ins=%.3f, "
          "length=%.3f, ppl=%.2f, wps=%.1f, ups=%.2f, wpb=%.1f, bsz=%.1f, num_updates=%ld, "
          "lr=%.9g, gnorm=%.3f, clip=%d, loss_scale=%.0f, train_wall=%ld, gb_free=%.1f, "
          "wall=%ld\n",
          (sec / 3600) % 24, (sec / 60) % 60, sec % 60, ep, 1 + i % 282, loss, loss * 0.4,
          0.5 + 0.02 * gauss(), loss * 0.96, loss * 0.97, exp2(loss * 0.4),
          72000 + 4000 * gauss(), 1.2 + 0.1 * gauss(), 60000 + 500 * gauss(),
          2150 + 40 * gauss(), i + 1, 5e-4 / sqrt(1.0 + (double)i / 4000.0), g,
          g > 1.0 ? 100 : 0, *scale, 45 + i % 5, 10.0 + uniform(), i / 2);
}

int main(int argc, char **argv)
{
  long n = argc == 4 ? atol(argv[2]) : 0;
  if (argc != 4 || n < 1 || n > 1000000000L ||
      (strcmp(argv[1], "fairseq") && strcmp(argv[1], "plain"))) {
    fprintf(stderr, "gen-logs: usage: gen-logs fairseq|plain N OUT\n");
    return 1;
  }
  FILE *f = fopen(argv[3], "w");
  if (!f) {
    perror(argv[3]);
    return 1;
  }
  static char buf[1 << 20];
  setvbuf(f, buf, _IOFBF, sizeof buf);
  int fairseq = !strcmp(argv[1], "fairseq");
  long left = 0;
  double h = 1, scale = 32768;
  if (fairseq)
    fairseq_header(f);
  for (long i = 0; i < n; i++) {
    double g = gnorm_at(i, n, &left, &h);
    if (fairseq)
      fairseq_line(f, i, g, &scale);
    else
      fprintf(f, "%ld %.6g\n", i, g);
  }
  if (fclose(f) != 0) {
    perror(argv[3]);
    return 1;
  }
  return 0;
}
