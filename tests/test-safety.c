/* The core's safety promises under attack: limits, shrinking inputs, special outputs,
   interrupts, errno, result strings, escaping, script options and figure outputs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tp_error.h"
#include "tp_figure.h"
#include "tp_gpvalue.h"
#include "tp_limits.h"
#include "tp_map.h"
#include "tp_out.h"
#include "tp_scratch.h"
#include "tp_scriptopt.h"
#include "tp_series.h"
#include "tp_signal.h"
#include "tp_text.h"

static char tmp[1024];

static const char *path_in(const char *name) {
  static char p[4][1200];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
  return p[k];
}

static int write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "wb");
  int ok = fp && fputs(text, fp) >= 0;
  if (fp && fclose(fp) != 0)
    ok = 0;
  return ok;
}

/* The first bytes of path as a string ("" when it cannot be read). */
static const char *slurp(const char *path, char *buf, size_t n) {
  FILE *fp = fopen(path, "rb");
  buf[0] = '\0';
  if (fp) {
    buf[fread(buf, 1, n - 1, fp)] = '\0';
    fclose(fp);
  }
  return buf;
}

static int contains(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

/* ---- limits: a malformed value is an error that names the variable ---- */

struct limit_case {
  const char *value;
  unsigned long long want; /* 0: must be refused */
};

static const struct limit_case limit_cases[] = {
    {"abc", 0},
    {"1.5G", 0},
    {"512MB", 0},
    {"-1", 0},
    {"0", 0},
    {"17179869185G", 0},
    {"18446744073709551616", 0},
    {" 1G", 0},
    {"1G ", 0},
    {"32G", 32ULL << 30},
    {"1024", 1024},
    {"8k", 8192},
    {"18446744073709551615", 18446744073709551615ULL},
};
#define NLIMIT (sizeof limit_cases / sizeof limit_cases[0])

static void check_limits(void) {
  const char *log = path_in("limits.log");
  write_file(log, "1 2.5\n2 3.5\n");
  for (size_t i = 0; i < NLIMIT; i++) {
    const struct limit_case *c = &limit_cases[i];
    struct tp_series *s = NULL;
    int rc;
    setenv("TRAINPLOT_MAX_BYTES", c->value, 1);
    tp_limits_set(NULL);
    rc = tp_series_read(log, NULL, &s);
    if (c->want)
      tap_ok(rc == 0 && tp_limits_get()->max_bytes == c->want,
             "TRAINPLOT_MAX_BYTES - '%s', expect %llu bytes and a read", c->value, c->want);
    else
      tap_ok(rc == TP_EINVAL && contains(tp_err_last()->detail, "TRAINPLOT_MAX_BYTES") && !s,
             "TRAINPLOT_MAX_BYTES - '%s', expect the read refused naming the variable", c->value);
    tp_series_free(s);
  }
  unsetenv("TRAINPLOT_MAX_BYTES");
  setenv("TRAINPLOT_MAX_ELEMENTS", "lots", 1);
  tp_limits_set(NULL);
  tap_ok(tp_limits_check() == TP_EINVAL &&
             contains(tp_err_last()->detail, "TRAINPLOT_MAX_ELEMENTS='lots'"),
         "TRAINPLOT_MAX_ELEMENTS - 'lots', expect TP_EINVAL naming it");
  unsetenv("TRAINPLOT_MAX_ELEMENTS");
  tp_limits_set(NULL);
}

/* ---- a mapped file that shrinks under the reader ---- */

static volatile sig_atomic_t foreign_bus;
static void on_foreign_bus(int sig) { (void)sig, foreign_bus = 1; }

static void check_map_shrink(void) {
  const char *f = path_in("shrink.bin");
  if (getenv("TP_UNDER_VALGRIND")) {
    tap_skip(2, "valgrind delivers a truncated mapping's SIGBUS as a SIGSEGV with no address");
    return;
  }
  size_t size = (size_t)8 << 20;
  char *buf = calloc(1, size);
  struct tp_map m;
  unsigned before;
  int fd, ok;
  struct sigaction sa, old;
  memset(buf, 'x', size);
  fd = open(f, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  ok = fd >= 0 && write(fd, buf, size) == (ssize_t)size;
  free(buf);
  ok = ok && tp_map_open(f, &m) == 0;
  before = tp_map_faults();
  ok = ok && ftruncate(fd, 4096) == 0;
  if (fd >= 0)
    close(fd);
  if (ok) {
    volatile unsigned char tail = m.data[size - 1], mid = m.data[size / 2], head = m.data[10];
    ok = tail == 0 && mid == 0 && head == 'x';
  }
  tap_ok(ok && tp_map_faults() > before,
         "tp_map_open - file truncated while mapped, expect zeros past the end and a fault "
         "counted, no SIGBUS");
  /* A SIGBUS that is not about a mapping still reaches the handler that was there. */
  tp_map_close(&m);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_foreign_bus;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &old);
  ok = tp_map_open(f, &m) == 0;
  raise(SIGBUS);
  tp_map_close(&m);
  sigaction(SIGBUS, &old, NULL);
  tap_ok(ok && foreign_bus, "SIGBUS handler - a signal not from a mapping, expect the previous "
                            "handler to get it");
  unlink(f);
}

/* A reader racing a truncation: a result or "shrank", never a signal. */
struct truncator {
  const char *path;
  long delay_us;
};

static void *truncate_later(void *arg) {
  struct truncator *t = arg;
  struct timespec ts = {0, t->delay_us * 1000};
  nanosleep(&ts, NULL);
  if (truncate(t->path, 100) != 0)
    perror("truncate");
  return NULL;
}

static void check_series_shrink(void) {
  const char *f = path_in("shrink.log");
  if (getenv("TP_UNDER_VALGRIND")) {
    tap_skip(2, "valgrind delivers a truncated mapping's SIGBUS as a SIGSEGV with no address");
    return;
  }
  const size_t lines = 3000000;
  int shrank = 0, bad = 0;
  for (int attempt = 0; attempt < 6 && !shrank; attempt++) {
    FILE *fp = fopen(f, "wb");
    struct tp_series *s = NULL;
    struct truncator t = {f, 2000L << attempt};
    pthread_t th;
    int rc;
    for (size_t i = 0; fp && i < lines; i++)
      fprintf(fp, "%zu %.6f\n", i, 1.0 + (double)(i % 97) / 100);
    if (fp)
      fclose(fp);
    pthread_create(&th, NULL, truncate_later, &t);
    rc = tp_series_read(f, NULL, &s);
    pthread_join(th, NULL);
    /* A truncation that lands before the file is opened leaves a small, whole file (its
       100 bytes hold at most a dozen lines): reading that is right, not partial. */
    if (rc == TP_ECORRUPT && contains(tp_err_last()->detail, "shrank") && !s)
      shrank = 1;
    else if (!(rc == 0 && s && (s->n == lines || s->n <= 12)) && !(rc < 0 && !s))
      bad = 1;
    tp_series_free(s);
  }
  tap_ok(!bad, "tp_series_read - log truncated during the read, expect the whole series, "
               "an error or 'shrank', never a partial series");
  if (shrank)
    tap_ok(1, "tp_series_read - log truncated during the read, expect 'file shrank while "
              "being read'");
  else
    tap_skip(1, "the truncation never landed inside the read on this machine");
  unlink(f);
}

/* ---- outputs: devices and FIFOs in place, other special files refused ---- */

static void check_special_outputs(void) {
  const char *fifo = path_in("out.fifo"), *dev = path_in("null"), *sock = path_in("sock");
  struct tp_out o;
  struct stat st;
  char got[16] = "";
  int rfd, ok, s;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  mkfifo(fifo, 0600);
  rfd = open(fifo, O_RDONLY | O_NONBLOCK);
  ok = rfd >= 0 && tp_out_open(&o, fifo, NULL) == 0 && o.stream && fputs("abc", o.fp) >= 0 &&
       tp_out_commit(&o) == 0 && read(rfd, got, sizeof got - 1) == 3;
  if (rfd >= 0)
    close(rfd);
  tap_ok(ok && !strcmp(got, "abc") && stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode),
         "tp_out - a FIFO, expect written in place and still a FIFO");
  if (geteuid() == 0 && mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
    ok = tp_out_open(&o, dev, NULL) == 0 && o.stream && fputs("x", o.fp) >= 0 &&
         tp_out_commit(&o) == 0;
    tap_ok(ok && stat(dev, &st) == 0 && S_ISCHR(st.st_mode),
           "tp_out - a character device (a private /dev/null), expect written in place, "
           "still a device");
    unlink(dev);
  } else {
    tap_skip(1, "mknod needs root");
  }
  tap_ok(tp_out_open(&o, tmp, NULL) == TP_EINVAL && contains(tp_err_last()->detail, "directory"),
         "tp_out_open - a directory, expect TP_EINVAL 'directory'");
  snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
  s = socket(AF_UNIX, SOCK_STREAM, 0);
  ok = s >= 0 && strlen(sock) < sizeof a.sun_path && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
  if (ok)
    tap_ok(tp_out_open(&o, sock, NULL) == TP_EINVAL && contains(tp_err_last()->detail, "socket"),
           "tp_out_open - a socket, expect TP_EINVAL 'socket'");
  else
    tap_skip(1, "cannot bind a unix socket in the test directory");
  if (s >= 0)
    close(s);
  unlink(sock);
  unlink(fifo);
}

/* ---- the module call: result strings, errno, interrupts ---- */

static char big[1000];

static struct value body_string(int nargs, struct value *arg, void *priv) {
  (void)nargs, (void)arg, (void)priv;
  return tp_gp_str(big);
}

static struct value body_errno(int nargs, struct value *arg, void *priv) {
  (void)nargs, (void)arg, (void)priv;
  errno = ERANGE;
  return tp_gp_num(1.0);
}

static struct value body_interrupted(int nargs, struct value *arg, void *priv) {
  (void)nargs, (void)arg, (void)priv;
  raise(SIGINT); /* a Ctrl-C while the call runs */
  return tp_gp_num(tp_intr_pending() ? 2.0 : 3.0);
}

static volatile sig_atomic_t outer_int;
static void on_outer_int(int sig) { (void)sig, outer_int = 1; }

static void check_calls(void) {
  struct mallinfo2 m0, m1;
  struct value v;
  struct sigaction sa, now;
  int same = 1;
  memset(big, 'a', sizeof big - 1);
  v = tp_gp_call("test", body_string, 0, NULL, NULL);
  m0 = mallinfo2();
  for (int i = 0; i < 20000; i++) {
    v = tp_gp_call("test", body_string, 0, NULL, NULL);
    same = same && v.type == STRING && strlen(v.v.string_val) == sizeof big - 1;
  }
  m1 = mallinfo2();
  tap_ok(same && m1.uordblks < m0.uordblks + 65536,
         "tp_gp_call - 20000 string results, expect one buffer kept (grew %zd bytes)",
         (ssize_t)(m1.uordblks - m0.uordblks));
  tp_gp_release();
  errno = 0;
  v = tp_gp_call("test", body_errno, 0, NULL, NULL);
  tap_ok(errno == 0 && v.type == CMPLX, "tp_gp_call - a body that leaves ERANGE, expect errno "
                                        "given back as 0 and the result kept");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_outer_int;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  fprintf(stderr, "# the next line is the expected 'interrupted' message\n");
  v = tp_gp_call("test", body_interrupted, 0, NULL, NULL);
  sigaction(SIGINT, NULL, &now);
  tap_ok(v.type == INVALID_VALUE && !strcmp(tp_gp_last_error(), "test: interrupted") &&
             !outer_int && now.sa_handler == on_outer_int,
         "tp_gp_call - SIGINT during the call, expect 'interrupted', the caller's handler "
         "untouched and back in place");
  v = tp_gp_call("test", body_errno, 0, NULL, NULL);
  tap_ok(v.type == CMPLX, "tp_gp_call - the call after an interrupted one, expect it to work");
  signal(SIGINT, SIG_DFL);
}

/* ---- escaping of file-controlled text ---- */

struct esc_case {
  const char *in, *want;
};

static const struct esc_case esc_cases[] = {
    {"plain name.log", "plain name.log"},
    {"a\nb", "a\\nb"},
    {"cr\rtab\t", "cr\\rtab\\t"},
    {"\x1b[31mred", "\\x1b[31mred"},
    {"del\x7f", "del\\x7f"},
    {"caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80"},
    {"c1 \xc2\x9b", "c1 \\xc2\\x9b"},
    {"bad \xff\xfe", "bad \\xff\\xfe"},
    {"overlong \xc0\xaf", "overlong \\xc0\\xaf"},
    {"surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80"},
    {"cut \xe2\x86", "cut \\xe2\\x86"},
};
#define NESC (sizeof esc_cases / sizeof esc_cases[0])

static void check_escape(void) {
  for (size_t i = 0; i < NESC; i++) {
    char *e = tp_text_escape(esc_cases[i].in);
    tap_streq(e, esc_cases[i].want, "tp_text_escape - case %zu, expect '%s'", i, esc_cases[i].want);
    tap_ok(tp_text_is_clean(esc_cases[i].in) == !strcmp(esc_cases[i].in, esc_cases[i].want),
           "tp_text_is_clean - case %zu, expect %s", i,
           strcmp(esc_cases[i].in, esc_cases[i].want) ? "no" : "yes");
    free(e);
  }
}

/* ---- script options ---- */

#define SPEC "@key @out top#=2 max_norm#= method=mad title$= term=dumb"

struct sopt_case {
  const char *args[4];
  int want;                 /* 0 or the code of the first failing argument */
  const char *name, *value; /* what an option reads back, when want is 0 */
};

static const struct sopt_case sopt_cases[] = {
    {{"grad_norm", "out.png", "top=3"}, 0, "top", "3"},
    {{"", "out.png"}, 0, "key", ""},
    {{"k", "o", "top=2 max_norm=1 method=ewma"}, 0, "method", "ewma"},
    {{"k", "o", "title=my run 3"}, 0, "title", "my run 3"},
    {{"k", "o", "top=2 title=my run"}, TP_EINVAL, NULL, NULL}, /* not all words are options */
    {{"k", "o", "max_norm=%n"}, TP_EINVAL, NULL, NULL},
    {{"k", "o", "top="}, TP_EINVAL, NULL, NULL},
    {{"k", "o", "top=1e999"}, TP_EINVAL, NULL, NULL},
    {{"k", "o", "method=mad top=99"}, 0, "top", "99"},
    {{"k", "o", "title=a\nb"}, TP_EINVAL, NULL, NULL},
    {{"k\x1b[2J", "o"}, TP_EINVAL, NULL, NULL},
    {{"k", "o", "extra"}, TP_EINVAL, NULL, NULL},
    {{"k", "o", "bogus=1"}, TP_EINVAL, NULL, NULL},
    {{"%s%s%s%s", "o"}, 0, "key", "%s%s%s%s"},
};
#define NSOPT (sizeof sopt_cases / sizeof sopt_cases[0])

static void check_script_options(void) {
  char *joined = NULL;
  for (size_t i = 0; i < NSOPT; i++) {
    const struct sopt_case *c = &sopt_cases[i];
    const char *v = NULL;
    int rc = tp_sopt_spec(SPEC);
    for (int a = 0; a < 4 && c->args[a] && rc == 0; a++)
      rc = tp_sopt_arg(c->args[a]);
    if (c->want)
      tap_ok(rc == c->want && tp_err_last()->detail[0],
             "tp_sopt_arg - case %zu, expect code %d with a message (got %d)", i, c->want, rc);
    else
      tap_ok(rc == 0 && tp_sopt_get(c->name, &v) == 0 && !strcmp(v, c->value),
             "tp_sopt_arg - case %zu, expect %s = '%s' (got %d, '%s')", i, c->name, c->value, rc,
             v ? v : "");
  }
  tp_sopt_spec(SPEC);
  tp_sopt_arg("k");
  tp_sopt_arg("o");
  tp_sopt_arg("top=2 max_norm=1.5");
  tap_ok(tp_sopt_join("method max_norm top title", &joined) == 0 &&
             !strcmp(joined, "top=2 max_norm=1.5"),
         "tp_sopt_join - given top and max_norm, expect 'top=2 max_norm=1.5' (got '%s')",
         joined ? joined : "");
  free(joined);
  tap_ok(tp_sopt_done(3) == 0, "tp_sopt_done - three arguments, expect accepted");
  tp_sopt_free();
}

/* ---- figure outputs ---- */

static void check_figures(void) {
  const char *in = path_in("in.log"), *out = path_in("fig.png"), *link = path_in("link.png");
  char *draw = NULL, *shown = NULL, buf[16] = "";
  write_file(in, "1 2\n");
  symlink(in, link);
  tap_ok(tp_figure_begin("|touch x", NULL, &draw) == TP_EINVAL && !draw &&
             contains(tp_err_last()->detail, "shell"),
         "tp_figure_begin - '|touch x', expect refused (a shell would run it)");
  tap_ok(tp_figure_begin(link, in, &draw) == TP_EINVAL && !draw,
         "tp_figure_begin - OUT a symlink to the input, expect refused");
  tap_ok(tp_figure_begin(tmp, NULL, &draw) == TP_EINVAL,
         "tp_figure_begin - OUT a directory, expect refused");
  tap_ok(tp_figure_begin(path_in("missing/fig.png"), NULL, &draw) == TP_EIO,
         "tp_figure_begin - OUT in a missing directory, expect refused before drawing");
  write_file(out, "previous");
  tap_ok(tp_figure_begin(out, in, &draw) == 0 && draw && tp_scratch_owns(draw) &&
             tp_figure_commit(&shown) == TP_EINVAL,
         "tp_figure_commit - nothing drawn, expect an error");
  tap_streq(slurp(out, buf, sizeof buf), "previous",
            "tp_figure_commit - nothing drawn, expect OUT untouched");
  free(draw);
  draw = NULL;
  tap_ok(tp_figure_begin(out, in, &draw) == 0 && write_file(draw, "PNGDATA") &&
             tp_figure_commit(&shown) == 0 && !strcmp(shown, out) && access(draw, F_OK) != 0,
         "tp_figure_commit - a drawn figure, expect it moved to OUT and the scratch copy gone");
  tap_streq(slurp(out, buf, sizeof buf), "PNGDATA",
            "tp_figure_commit - expect OUT to hold the figure");
  free(draw), free(shown);
  tp_figure_free();
  unlink(link), unlink(out), unlink(in);
}

/* ---- the scratch directory sweeps what killed sessions left ---- */

static void check_sweep(void) {
  char host[256] = "", tag[64], dead[1200], live[1200], other[1200], *p = NULL;
  size_t j = 0;
  struct stat st;
  const char *old = getenv("TMPDIR");
  char *saved = old ? strdup(old) : NULL;
  gethostname(host, sizeof host - 1);
  for (size_t i = 0; host[i] && j + 1 < sizeof tag; i++)
    if ((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
        (host[i] >= '0' && host[i] <= '9') || host[i] == '.' || host[i] == '_')
      tag[j++] = host[i];
  if (!j)
    tag[j++] = 'h';
  tag[j] = '\0';
  tp_scratch_remove();
  setenv("TMPDIR", tmp, 1);
  /* pid 2^22 + 1 is above Linux's pid_max limit, so it names no process. */
  snprintf(dead, sizeof dead, "%s/trainplot-%s-4194305-abcdef", tmp, tag);
  snprintf(live, sizeof live, "%s/trainplot-%s-%ld-abcdef", tmp, tag, (long)getppid());
  snprintf(other, sizeof other, "%s/trainplot-otherhost-4194305-abcdef", tmp);
  mkdir(dead, 0700), mkdir(live, 0700), mkdir(other, 0700);
  write_file(path_in("x"), "");
  {
    char f[1300];
    snprintf(f, sizeof f, "%s/sim.bin", dead);
    write_file(f, "stale");
  }
  tap_ok(tp_scratch_path("a", &p) == 0 && stat(dead, &st) != 0 && stat(live, &st) == 0 &&
             stat(other, &st) == 0 && contains(p, "/trainplot-"),
         "tp_scratch_path - expect a dead session's directory swept, a live one's and "
         "another host's kept");
  free(p);
  tp_scratch_remove();
  rmdir(live), rmdir(other), unlink(path_in("x"));
  if (saved)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
  free(saved);
}

static void (*const groups[])(void) = {
    check_limits, check_map_shrink,     check_series_shrink, check_special_outputs, check_calls,
    check_escape, check_script_options, check_figures,       check_sweep,
};

int main(void) {
  /* No tap_plan: tap_done prints the plan from the checks that ran, so it is never typed
     by hand, and a crash still shows as a missing plan. */
  snprintf(tmp, sizeof tmp, "%s", tap_tmpdir());
  mkdir(tmp, 0700);
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
    groups[i]();
  tp_scratch_remove();
  return tap_done();
}
