/* bench peer: the plain C reading loop a careful user would write (getline + strstr + strtod). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value after "key=" on a fairseq train_inner line, or NAN when the line has none. */
static double kv(const char *line, const char *key)
{
  const char *p = strstr(line, key);
  return p ? strtod(p + strlen(key), NULL) : NAN;
}

int main(int argc, char **argv)
{
  if (argc != 3 || (strcmp(argv[1], "fairseq") && strcmp(argv[1], "plain"))) {
    fprintf(stderr, "probe-parse: usage: probe-parse fairseq|plain FILE\n");
    return 1;
  }
  int fairseq = !strcmp(argv[1], "fairseq");
  FILE *f = fopen(argv[2], "r");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  char *line = NULL;
  size_t cap = 0, count = 0;
  double sum = 0, max = -INFINITY, laststep = 0;
  while (getline(&line, &cap, f) > 0) {
    double step, v;
    if (fairseq) {
      if (!strstr(line, "| train_inner |"))
        continue;
      v = kv(line, "gnorm=");
      step = kv(line, "num_updates=");
    } else {
      char *end;
      step = strtod(line, &end);
      v = strtod(end, NULL);
    }
    if (isfinite(v)) {
      sum += v;
      if (v > max)
        max = v;
    }
    laststep = step;
    count++;
  }
  free(line);
  fclose(f);
  printf("{\"count\": %zu, \"mean\": %.6g, \"max\": %.6g, \"last_step\": %.0f}\n", count,
         count ? sum / (double)count : NAN, max, laststep);
  return 0;
}
