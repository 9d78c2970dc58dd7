/* The bundled scripts' figure outputs, moved into place like every other output. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp_error.h"
#include "tp_figure.h"
#include "tp_out.h"
#include "tp_scratch.h"
#include "tp_text.h"

static char *fig_out, *fig_input, *fig_draw;

void tp_figure_free(void) {
  free(fig_out), free(fig_input), free(fig_draw);
  fig_out = fig_input = fig_draw = NULL;
}

/* "figure.EXT" with OUT's extension when it is short and plain, else "figure". */
static void draw_name(const char *out, char *name, size_t n) {
  const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
  int plain = dot && (!slash || dot > slash) && strlen(dot) <= 8 && dot[1];
  for (const char *p = dot ? dot + 1 : ""; plain && *p; p++)
    plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
  snprintf(name, n, "figure%s", plain ? dot : "");
}

/* The directory OUT goes into must exist and be writable now, not after the drawing. */
static int check_dir(const char *out) {
  char *copy = strdup(out);
  const char *dir;
  int rc = 0;
  if (!copy)
    return tp_err(TP_ENOMEM, out, -1, "out of memory");
  dir = dirname(copy);
  if (access(dir, W_OK | X_OK) != 0)
    rc = tp_err_errno(TP_EIO, out, "cannot write into the output's directory");
  free(copy);
  return rc;
}

int tp_figure_begin(const char *out, const char *input, char **draw) {
  char name[16];
  int kind, rc;
  *draw = NULL;
  tp_figure_free();
  if (!out || !*out)
    return tp_err(TP_EINVAL, NULL, -1, "no output file given");
  if (out[0] == '|')
    return tp_err(TP_EINVAL, out, -1,
                  "an output starting with '|' would be run by a shell; trainplot writes "
                  "figures to files only (write one, then pipe it)");
  if ((kind = tp_out_kind(out, input)) < 0)
    return kind;
  if (kind == TP_OUT_FILE && (rc = check_dir(out)) < 0)
    return rc;
  draw_name(out, name, sizeof name);
  if ((rc = tp_scratch_path(name, &fig_draw)) < 0)
    return rc;
  unlink(fig_draw); /* a figure of an earlier call in this session */
  fig_out = strdup(out);
  fig_input = input ? strdup(input) : NULL;
  if (!fig_out || (input && !fig_input) || !(*draw = strdup(fig_draw))) {
    tp_figure_free();
    return tp_err(TP_ENOMEM, out, -1, "out of memory");
  }
  return 0;
}

/* Copy the drawn file into the open output. */
static int copy_into(int fd, struct tp_out *o) {
  char buf[1 << 16];
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0)
    if (fwrite(buf, 1, (size_t)r, o->fp) != (size_t)r)
      return tp_err_errno(TP_EIO, o->path, "cannot write output");
  return r < 0 ? tp_err_errno(TP_EIO, fig_draw, "cannot read the drawn figure") : 0;
}

int tp_figure_commit(char **shown) {
  struct tp_out o;
  struct stat st;
  int fd, rc;
  *shown = NULL;
  if (!fig_draw)
    return tp_err(TP_ESTATE, NULL, -1, "no figure begun; call the *_output function first");
  if ((fd = open(fig_draw, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
    rc = tp_err(TP_EINVAL, fig_out, -1,
                "gnuplot wrote no figure (was 'set output' given the path and closed?)");
    if (fd >= 0)
      close(fd);
    return rc;
  }
  if (st.st_size == 0) {
    close(fd);
    return tp_err(TP_EINVAL, fig_out, -1,
                  "the figure is empty (close it with 'set output' before committing)");
  }
  if ((rc = tp_out_open(&o, fig_out, fig_input)) < 0) {
    close(fd);
    return rc;
  }
  rc = copy_into(fd, &o);
  close(fd);
  if (rc < 0) {
    tp_out_abort(&o);
    return rc;
  }
  if ((rc = tp_out_commit(&o)) < 0)
    return rc;
  unlink(fig_draw);
  if (!(*shown = tp_text_escape(fig_out)))
    return tp_err(TP_ENOMEM, NULL, -1, "out of memory");
  tp_figure_free();
  return 0;
}
